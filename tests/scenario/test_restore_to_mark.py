#!/usr/bin/python3
"""A marked transaction through T-SQL (BEGIN TRAN name WITH MARK) leaves its
mark in the log, so a log backup can be restored to just before it
(STOPBEFOREMARK) or up to it (STOPATMARK), as in SQL Server's own example."""
import sys

import pymssql

from hadr import Server

# informational messages pymssql reports as errors (as against SQL Server)
INFO = {3014, 4035, 3211}


def run(cur, sql):
    """Runs a statement; returns the error number, 0 when none or only INFO."""
    try:
        cur.execute(sql)
        return 0
    except pymssql.Error as e:
        n = e.args[0] if e.args and isinstance(e.args[0], int) else -1
        return 0 if n in INFO else n


def amounts(cur, db):
    cur.execute("SELECT amount FROM %s.dbo.orders ORDER BY id" % db)
    return [float(r[0]) for r in cur.fetchall()]


def main():
    srv = Server().start()
    ok = True
    try:
        c = srv.connect()
        cur = c.cursor()
        for sql in ["CREATE DATABASE shop",
                    "CREATE TABLE shop.dbo.orders (id int PRIMARY KEY, amount money)",
                    "INSERT INTO shop.dbo.orders VALUES (1, 10), (2, 20)",
                    "BACKUP DATABASE shop TO DISK = 'mark.bak' WITH INIT",
                    "INSERT INTO shop.dbo.orders VALUES (3, 30)",
                    "BEGIN TRAN PriceUpdate WITH MARK 'double every price'",
                    "UPDATE shop.dbo.orders SET amount = amount * 2",
                    "COMMIT TRAN PriceUpdate",
                    "INSERT INTO shop.dbo.orders VALUES (4, 40)",
                    "BACKUP LOG shop TO DISK = 'mark.bak'"]:
            assert run(cur, sql) == 0, sql
        for option, want in (("STOPBEFOREMARK", [10, 20, 30]), ("STOPATMARK", [20, 40, 60])):
            db = "shop_" + option.lower()
            move = "MOVE 'shop' TO '%s.mdf', MOVE 'shop_log' TO '%s_log.ldf'" % (db, db)
            rc1 = run(cur, "RESTORE DATABASE %s FROM DISK = 'mark.bak' WITH FILE = 1, NORECOVERY, %s" % (db, move))
            rc2 = run(cur, "RESTORE LOG %s FROM DISK = 'mark.bak' WITH FILE = 2, RECOVERY, %s = 'PriceUpdate'"
                      % (db, option))
            got = amounts(cur, db) if rc1 == 0 and rc2 == 0 else (rc1, rc2)
            good = got == want
            ok &= good
            print("%-40s %s" % ("restore " + option, "ok" if good else "FAILED got %r want %r" % (got, want)))
        # a mark the log does not hold (names are case-sensitive): the database stays RESTORING (4329)
        rc1 = run(cur, "RESTORE DATABASE shop_nomark FROM DISK = 'mark.bak' WITH FILE = 1, NORECOVERY, "
                       "MOVE 'shop' TO 'nomark.mdf', MOVE 'shop_log' TO 'nomark_log.ldf'")
        run(cur, "RESTORE LOG shop_nomark FROM DISK = 'mark.bak' WITH FILE = 2, RECOVERY, STOPATMARK = 'priceupdate'")
        cur.execute("SELECT state_desc FROM sys.databases WHERE name = 'shop_nomark'")
        state = cur.fetchone()
        good = rc1 == 0 and state == ("RESTORING",)
        ok &= good
        print("%-40s %s" % ("unknown mark leaves it RESTORING", "ok" if good else "FAILED %r" % (state,)))
    finally:
        srv.cleanup()
    print("test_restore_to_mark: " + ("ok" if ok else "FAILED"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
