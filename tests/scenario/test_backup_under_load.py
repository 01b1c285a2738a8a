#!/usr/bin/python3
"""Online backups: 8 pymssql clients keep transferring money while a full
backup and then a log backup run. The backups do not stop the writers, and
restoring them (full with NORECOVERY, then the log WITH RECOVERY) gives a
consistent database: the total is unchanged, and every transfer a client saw
committed before the log backup began is in the restored copy."""
import random, sys, threading, time

import pymssql

from hadr import Server

CLIENTS = 8
ACCOUNTS = 50
INFO = {3014, 4035, 3211}   # informational messages pymssql reports as errors


def run(cur, sql):
    try:
        cur.execute(sql)
        return 0
    except pymssql.Error as e:
        n = e.args[0] if e.args and isinstance(e.args[0], int) else -1
        return 0 if n in INFO else n


def worker(srv, who, stop, acked, counts):
    rnd = random.Random(who)
    c = srv.connect(autocommit=False, database="bank")
    cur = c.cursor()
    seq = 0
    while not stop.is_set():
        a, b = rnd.sample(range(ACCOUNTS), 2)
        tid = who * 1_000_000 + seq
        seq += 1
        try:
            cur.execute("UPDATE acct SET bal = bal - 3 WHERE id = %d" % a)
            cur.execute("UPDATE acct SET bal = bal + 3 WHERE id = %d" % b)
            cur.execute("INSERT INTO journal VALUES (%d, %d, %d)" % (tid, a, b))
            c.commit()
            acked.append((time.time(), tid))
            counts[who] += 1
        except pymssql.Error as e:
            if e.args and e.args[0] == 1205:
                c.rollback()
                continue
            raise
    c.close()


def main():
    srv = Server().start()
    ok = True

    def check(name, cond, detail=""):
        nonlocal ok
        ok &= bool(cond)
        print("%-60s %s" % (name, "ok" if cond else "FAILED %s" % (detail,)))

    try:
        c = srv.connect()
        cur = c.cursor()
        for sql in ["CREATE DATABASE bank",
                    "CREATE TABLE bank.dbo.acct (id int PRIMARY KEY, bal bigint NOT NULL)",
                    "CREATE TABLE bank.dbo.journal (tid bigint PRIMARY KEY, src int NOT NULL, dst int NOT NULL)",
                    "INSERT INTO bank.dbo.acct VALUES " + ",".join("(%d, 1000)" % i for i in range(ACCOUNTS))]:
            assert run(cur, sql) == 0, sql
        stop = threading.Event()
        acked, counts = [], [0] * CLIENTS
        threads = [threading.Thread(target=worker, args=(srv, w, stop, acked, counts)) for w in range(CLIENTS)]
        for t in threads:
            t.start()
        time.sleep(1.0)
        before_full = sum(counts)
        rc = run(cur, "BACKUP DATABASE bank TO DISK = 'load.bak' WITH INIT")
        during_full = sum(counts) - before_full
        check("full backup under load", rc == 0, rc)
        time.sleep(1.0)
        log_start = time.time()
        rc = run(cur, "BACKUP LOG bank TO DISK = 'load.bak'")
        check("log backup under load", rc == 0, rc)
        time.sleep(0.5)
        stop.set()
        for t in threads:
            t.join(60)
        check("writers went on during the full backup", during_full > 0, during_full)
        must = {tid for (at, tid) in acked if at < log_start}

        move = "MOVE 'bank' TO 'bank_copy.mdf', MOVE 'bank_log' TO 'bank_copy_log.ldf'"
        check("restore full NORECOVERY",
              run(cur, "RESTORE DATABASE bank_copy FROM DISK = 'load.bak' WITH FILE = 1, NORECOVERY, " + move) == 0)
        check("restore log RECOVERY", run(cur, "RESTORE LOG bank_copy FROM DISK = 'load.bak' WITH FILE = 2, RECOVERY") == 0)
        cur.execute("SELECT SUM(bal), COUNT(*) FROM bank_copy.dbo.acct")
        total, n = cur.fetchone()
        check("restored total unchanged", total == 1000 * ACCOUNTS and n == ACCOUNTS, (total, n))
        cur.execute("SELECT tid FROM bank_copy.dbo.journal")
        have = {r[0] for r in cur.fetchall()}
        check("every transfer acknowledged before the log backup is restored", must <= have,
              "%d missing" % len(must - have))
        cur.execute("SELECT src, dst FROM bank_copy.dbo.journal")
        rows = cur.fetchall()
        journaled = len(rows)
        want = [1000] * ACCOUNTS
        for a, b in rows:
            want[a] -= 3
            want[b] += 3
        cur.execute("SELECT bal FROM bank_copy.dbo.acct ORDER BY id")
        got = [r[0] for r in cur.fetchall()]
        check("each balance agrees with the restored journal", got == want)
        print("transfers: %d committed, %d during the full backup, %d in the restored copy"
              % (sum(counts), during_full, journaled))
    finally:
        srv.cleanup()
    print("test_backup_under_load: " + ("ok" if ok else "FAILED"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
