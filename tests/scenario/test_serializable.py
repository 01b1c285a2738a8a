#!/usr/bin/python3
"""SERIALIZABLE through the server: key-range locks keep phantoms out.

Session A reads keys 10..20 in a SERIALIZABLE transaction; session B (LOCK_TIMEOUT
500) cannot insert into that range, nor into the gap up to the next key past it
(next-key locking, as SQL Server does), but can insert elsewhere. A re-read
sees the same rows. A waiting insert shows LCK_M_RIn_NL in
sys.dm_exec_requests and goes through when A commits. READ COMMITTED takes no
range locks; HOLDLOCK on an empty range locks its gap; two SERIALIZABLE
transactions inserting into each other's ranges deadlock (1205)."""
import sys, threading, time

import pymssql

from hadr import Server

KEYS = [0, 5, 10, 12, 18, 20, 30, 40]


def errnum(fn):
    """Run fn; its SQL Server error number, or 0 when it succeeded."""
    try:
        fn()
        return 0
    except pymssql.Error as e:
        return e.args[0] if e.args and isinstance(e.args[0], int) else -1


def main():
    srv = Server().start()
    failures = []

    def check(cond, what):
        print(("ok   " if cond else "FAIL ") + what)
        if not cond:
            failures.append(what)

    try:
        c = srv.connect()
        cur = c.cursor()
        cur.execute("CREATE DATABASE iso")
        cur.execute("USE iso")
        cur.execute("CREATE TABLE kr (k int PRIMARY KEY, v int NOT NULL)")
        cur.execute("INSERT INTO kr VALUES " + ",".join("(%d, %d)" % (k, k) for k in KEYS))
        c.close()

        a = srv.connect(database="iso")
        ca = a.cursor()
        b = srv.connect(database="iso")
        cb = b.cursor()
        cb.execute("SET LOCK_TIMEOUT 500")

        def ins(k):
            return errnum(lambda: cb.execute("INSERT INTO kr VALUES (%d, 0)" % k))

        def delete(k):
            return errnum(lambda: cb.execute("DELETE FROM kr WHERE k = %d" % k))

        ca.execute("SET TRANSACTION ISOLATION LEVEL SERIALIZABLE")
        ca.execute("BEGIN TRAN")
        ca.execute("SELECT k FROM kr WHERE k BETWEEN 10 AND 20")
        first = [r[0] for r in ca.fetchall()]
        check(first == [10, 12, 18, 20], "serializable read of 10..20: %s" % first)
        check(ins(15) == 1222, "insert 15 (inside the range) times out with 1222")
        check(ins(25) == 1222, "insert 25 (gap up to the next key, 30) times out with 1222")
        check(ins(7) == 1222, "insert 7 (gap below 10, covered by the lock on 10) times out")
        check(ins(35) == 0, "insert 35 (outside) goes through")
        check(ins(3) == 0, "insert 3 (outside) goes through")
        check(delete(12) == 1222, "delete 12 (read by A) times out with 1222")
        check(errnum(lambda: cb.execute("UPDATE kr SET v = 1 WHERE k = 18")) == 1222, "update 18 times out")
        check(errnum(lambda: cb.execute("UPDATE kr SET v = 1 WHERE k = 40")) == 0, "update 40 goes through")
        ca.execute("SELECT k FROM kr WHERE k BETWEEN 10 AND 20")
        again = [r[0] for r in ca.fetchall()]
        check(again == first, "re-read sees the same rows (no phantom): %s" % again)

        # a waiting insert: visible as a lock wait, done once A commits
        cb.execute("SELECT @@SPID")
        spid_b = cb.fetchone()[0]
        done = {}

        def waiter():
            cb.execute("SET LOCK_TIMEOUT -1")
            done["err"] = errnum(lambda: cb.execute("INSERT INTO kr VALUES (16, 0)"))
            done["at"] = time.time()

        th = threading.Thread(target=waiter)
        th.start()
        mon = srv.connect()
        mcur = mon.cursor()
        wait_type = None
        for _ in range(100):
            mcur.execute("SELECT wait_type FROM sys.dm_exec_requests WHERE session_id = %d" % spid_b)
            row = mcur.fetchone()
            wait_type = row[0] if row else None
            if wait_type:
                break
            time.sleep(0.05)
        check(wait_type == "LCK_M_RIn_NL", "waiting insert shows wait_type %r" % wait_type)
        time.sleep(0.3)
        check("err" not in done, "the insert is still waiting while A holds the range")
        t_commit = time.time()
        ca.execute("COMMIT")
        th.join(30)
        check(done.get("err") == 0 and done.get("at", 0) >= t_commit, "the insert went through after A committed")
        cb.execute("SET LOCK_TIMEOUT 500")
        mon.close()

        # READ COMMITTED: no range locks at all
        ca.execute("SET TRANSACTION ISOLATION LEVEL READ COMMITTED")
        ca.execute("BEGIN TRAN")
        ca.execute("SELECT k FROM kr WHERE k BETWEEN 10 AND 20")
        ca.fetchall()
        check(ins(17) == 0, "READ COMMITTED reader: insert 17 goes through")
        ca.execute("COMMIT")

        # HOLDLOCK on an empty range past the last key locks the end of the index
        ca.execute("BEGIN TRAN")
        ca.execute("SELECT k FROM kr WITH (HOLDLOCK) WHERE k BETWEEN 50 AND 60")
        check(ca.fetchall() == [], "HOLDLOCK read of 50..60 is empty")
        check(ins(55) == 1222, "insert 55 into the empty locked range times out")
        check(ins(1000) == 1222, "insert past the end times out (end-of-index lock)")
        check(ins(38) == 0, "insert 38 (below the last key) goes through")
        ca.execute("COMMIT")
        check(ins(55) == 0, "after COMMIT the insert goes through")

        # an equality lookup that finds nothing locks the gap
        ca.execute("SET TRANSACTION ISOLATION LEVEL SERIALIZABLE")
        ca.execute("BEGIN TRAN")
        ca.execute("SELECT k FROM kr WHERE k = 13")
        check(ca.fetchall() == [], "lookup of missing key 13")
        check(ins(13) == 1222, "insert 13 times out")
        check(ins(14) == 1222, "insert 14 (same gap) times out")
        check(ins(100) == 0, "insert 100 goes through")
        ca.execute("COMMIT")

        # two SERIALIZABLE transactions inserting into each other's ranges
        cb.execute("SET LOCK_TIMEOUT -1")
        cb.execute("SET TRANSACTION ISOLATION LEVEL SERIALIZABLE")
        ca.execute("BEGIN TRAN")
        ca.execute("SELECT k FROM kr WHERE k BETWEEN 10 AND 11")
        ca.fetchall()
        cb.execute("BEGIN TRAN")
        cb.execute("SELECT k FROM kr WHERE k BETWEEN 200 AND 300")
        cb.fetchall()
        res = {}

        def a_insert():
            res["a"] = errnum(lambda: ca.execute("INSERT INTO kr VALUES (250, 0)"))

        th = threading.Thread(target=a_insert)
        th.start()
        time.sleep(0.3)
        res["b"] = errnum(lambda: cb.execute("INSERT INTO kr VALUES (11, 0)"))
        th.join(30)
        check(sorted([res.get("a"), res.get("b")]) == [0, 1205], "one of the two is the deadlock victim: %s" % res)
        for conn, who in ((a, "a"), (b, "b")):
            try:
                if res.get(who) == 1205:
                    conn.rollback()
                else:
                    conn.cursor().execute("COMMIT")
            except pymssql.Error:
                pass
        a.close()
        b.close()
        check(srv.alive(), "server process alive")
    finally:
        srv.cleanup()
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
