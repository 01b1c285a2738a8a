#!/usr/bin/python3
"""Seed 003's typical scenario: related databases recovered consistently to a
marked transaction.

Two related databases, shop (orders) and bank (payments): every order and
its payment are written by one cross-database transaction. While writers
run, a marked transaction spanning both databases commits again and again,
and each database's log is backed up on its own schedule. Then, for every
mark, both databases are restored from their own backups — full WITH
NORECOVERY, then each log WITH RECOVERY, STOPATMARK = the mark (the same on
every step; a log backup that does not reach the mark leaves the database
RESTORING) — and the copies must be mutually consistent: every order has its
payment and every payment its order, and both show the mark's counter."""
import sys
import threading
import time

import pymssql

from hadr import Server

# informational messages pymssql reports as errors (as against SQL Server)
INFO = {3014, 4035, 3211, 4329, 4322}
WRITERS = 4
SECONDS = 6


def run(cur, sql):
    try:
        cur.execute(sql)
        return 0
    except pymssql.Error as e:
        n = e.args[0] if e.args and isinstance(e.args[0], int) else -1
        return 0 if n in INFO else n


def writer(srv, w, stop, errors, counts):
    c = srv.connect()
    cur = c.cursor()
    i = 0
    while not stop.is_set():
        oid = w * 1000000 + i
        try:
            cur.execute("BEGIN TRAN; INSERT INTO shop.dbo.orders VALUES (%d, %d); "
                        "INSERT INTO bank.dbo.payments VALUES (%d, %d); COMMIT" % (oid, i % 97 + 1, oid, i % 97 + 1))
            i += 1
        except pymssql.Error as e:
            errors.append("writer %d: %s" % (w, e))
            break
    counts[w] = i
    c.close()


def marker(srv, stop, marks, errors):
    c = srv.connect()
    cur = c.cursor()
    k = 0
    while not stop.is_set():
        k += 1
        try:
            cur.execute("BEGIN TRAN mark%d WITH MARK 'consistent point %d'; "
                        "UPDATE shop.dbo.markers SET n = %d; UPDATE bank.dbo.markers SET n = %d; "
                        "COMMIT TRAN mark%d" % (k, k, k, k, k))
            marks.append(k)
        except pymssql.Error as e:
            errors.append("marker: %s" % e)
            break
        time.sleep(0.4)
    c.close()


def log_backups(srv, db, period, stop, sets, errors):
    c = srv.connect()
    cur = c.cursor()
    while not stop.wait(period):
        if run(cur, "BACKUP LOG %s TO DISK = '%s.bak'" % (db, db)) != 0:
            errors.append("log backup of %s failed" % db)
            break
        sets[db] += 1
    c.close()


def main():
    srv = Server().start()
    ok = True
    try:
        c = srv.connect()
        cur = c.cursor()
        for sql in ["CREATE DATABASE shop", "CREATE DATABASE bank",
                    "CREATE TABLE shop.dbo.orders (id int PRIMARY KEY, amount int)",
                    "CREATE TABLE bank.dbo.payments (order_id int PRIMARY KEY, amount int)",
                    "CREATE TABLE shop.dbo.markers (n int)", "INSERT INTO shop.dbo.markers VALUES (0)",
                    "CREATE TABLE bank.dbo.markers (n int)", "INSERT INTO bank.dbo.markers VALUES (0)",
                    "BACKUP DATABASE shop TO DISK = 'shop.bak' WITH INIT",
                    "BACKUP DATABASE bank TO DISK = 'bank.bak' WITH INIT"]:
            assert run(cur, sql) == 0, sql
        sets = {"shop": 1, "bank": 1}
        stop = threading.Event()
        errors, marks, counts = [], [], {}
        threads = [threading.Thread(target=writer, args=(srv, w, stop, errors, counts)) for w in range(WRITERS)]
        threads.append(threading.Thread(target=marker, args=(srv, stop, marks, errors)))
        # log backups of each database, independently and at different times
        threads.append(threading.Thread(target=log_backups, args=(srv, "shop", 1.1, stop, sets, errors)))
        threads.append(threading.Thread(target=log_backups, args=(srv, "bank", 1.7, stop, sets, errors)))
        for t in threads:
            t.start()
        time.sleep(SECONDS)
        stop.set()
        for t in threads:
            t.join()
        for db in ("shop", "bank"):
            assert run(cur, "BACKUP LOG %s TO DISK = '%s.bak'" % (db, db)) == 0
            sets[db] += 1
        good = not errors and len(marks) >= 5
        ok &= good
        print("%-58s %s" % ("%d cross-database orders, %d marks, logs %d/%d" %
                            (sum(counts.values()), len(marks), sets["shop"] - 1, sets["bank"] - 1),
                            "ok" if good else "FAILED %r" % errors[:3]))
        cur.execute("SELECT database_name, COUNT(*) FROM msdb.dbo.logmarkhistory GROUP BY database_name "
                    "ORDER BY database_name")
        hist = cur.fetchall()
        good = hist == [("bank", len(marks)), ("shop", len(marks))]
        ok &= good
        print("%-58s %s" % ("logmarkhistory: one row per mark and database", "ok" if good else "FAILED %r" % hist))

        for k in marks:
            copies = {}
            for db in ("shop", "bank"):
                copy = "%s_m%d" % (db, k)
                move = "MOVE '%s' TO '%s.mdf', MOVE '%s_log' TO '%s_log.ldf'" % (db, copy, db, copy)
                assert run(cur, "RESTORE DATABASE %s FROM DISK = '%s.bak' WITH FILE = 1, NORECOVERY, %s"
                           % (copy, db, move)) == 0
                state = None
                for f in range(2, sets[db] + 1):
                    rc = run(cur, "RESTORE LOG %s FROM DISK = '%s.bak' WITH FILE = %d, RECOVERY, STOPATMARK = 'mark%d'"
                             % (copy, db, f, k))
                    cur.execute("SELECT state_desc FROM sys.databases WHERE name = '%s'" % copy)
                    state = cur.fetchone()[0]
                    if rc != 0 or state != "RESTORING":
                        break
                copies[db] = (copy, state)
            shop, bank = copies["shop"][0], copies["bank"][0]
            if copies["shop"][1] != "ONLINE" or copies["bank"][1] != "ONLINE":
                ok = False
                print("%-58s FAILED %r" % ("mark%d: restored" % k, copies))
                continue
            cur.execute("SELECT (SELECT n FROM %s.dbo.markers), (SELECT n FROM %s.dbo.markers), "
                        "(SELECT COUNT(*) FROM %s.dbo.orders o WHERE NOT EXISTS "
                        "  (SELECT 1 FROM %s.dbo.payments p WHERE p.order_id = o.id)), "
                        "(SELECT COUNT(*) FROM %s.dbo.payments p WHERE NOT EXISTS "
                        "  (SELECT 1 FROM %s.dbo.orders o WHERE o.id = p.order_id)), "
                        "(SELECT COUNT(*) FROM %s.dbo.orders)" % (shop, bank, shop, bank, bank, shop, shop))
            n_shop, n_bank, unpaid, orphan, orders = cur.fetchone()
            good = n_shop == k and n_bank == k and unpaid == 0 and orphan == 0
            ok &= good
            print("%-58s %s" % ("mark%d: %d orders, each with its payment" % (k, orders),
                                "ok" if good else "FAILED markers %s/%s, %d unpaid, %d orphan payments"
                                % (n_shop, n_bank, unpaid, orphan)))
            for db in (shop, bank):
                cur.execute("DROP DATABASE %s" % db)
    finally:
        srv.cleanup()
    print("test_related_marks: " + ("ok" if ok else "FAILED"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
