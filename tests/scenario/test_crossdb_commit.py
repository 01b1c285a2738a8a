#!/usr/bin/python3
"""Transactions spanning two databases of the instance commit atomically with
the internal two-phase commit — whether the databases are named with
three-part names or switched to with USE inside the transaction — and a crash
in the middle of that commit leaves both databases agreeing after restart:
killed after every PREPARE is durable (before the decision) both roll back;
killed after the coordinator's COMMIT is durable both commit. Two marked
transactions that deadlock: one is the victim (1205) and can be retried."""
import os
import sys
import threading
import time

import pymssql

from hadr import Server


def rows(cur, db):
    cur.execute("SELECT id FROM %s.dbo.t ORDER BY id" % db)
    return [r[0] for r in cur.fetchall()]


def check(ok, name, good, detail=""):
    print("%-58s %s" % (name, "ok" if good else "FAILED " + detail))
    return ok and good


def marked_deadlock(srv):
    """Two marked transactions across both databases take their rows in
    opposite orders: one is the deadlock victim (1205), is rolled back and is
    retried by the application; both marks end up in every database."""
    barrier = threading.Barrier(2)
    outcome = {}

    def worker(name, first, second):
        c = srv.connect()
        cur = c.cursor()
        victims = 0
        for attempt in range(5):
            try:
                cur.execute("BEGIN TRAN %s WITH MARK 'deadlock test'; UPDATE %s.dbo.t SET id = id WHERE id = 1"
                            % (name, first))
                if attempt == 0:
                    barrier.wait(10)
                cur.execute("UPDATE %s.dbo.t SET id = id WHERE id = 1; COMMIT TRAN %s" % (second, name))
                break
            except pymssql.Error as e:
                if e.args and e.args[0] == 1205:
                    victims += 1
                    cur.execute("IF @@TRANCOUNT > 0 ROLLBACK")
                    continue
                outcome[name] = "error %r" % (e.args,)
                return
        outcome[name] = victims
        c.close()

    ts = [threading.Thread(target=worker, args=("dl_one", "a", "b")),
          threading.Thread(target=worker, args=("dl_two", "b", "a"))]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    c = srv.connect()
    cur = c.cursor()
    cur.execute("SELECT mark_name, COUNT(*) FROM msdb.dbo.logmarkhistory WHERE mark_name LIKE 'dl[_]%' "
                "GROUP BY mark_name ORDER BY mark_name")
    hist = cur.fetchall()
    c.close()
    victims = sorted(v for v in outcome.values() if isinstance(v, int))
    good = len(victims) == 2 and victims[0] == 0 and victims[1] >= 1 and hist == [("dl_one", 2), ("dl_two", 2)]
    return good, "%r %r" % (outcome, hist)


def main():
    srv = Server().start()
    ok = True
    try:
        c = srv.connect()
        cur = c.cursor()
        for sql in ["CREATE DATABASE a", "CREATE DATABASE b",
                    "CREATE TABLE a.dbo.t (id int PRIMARY KEY)", "CREATE TABLE b.dbo.t (id int PRIMARY KEY)"]:
            cur.execute(sql)
        # three-part names
        cur.execute("BEGIN TRAN; INSERT INTO a.dbo.t VALUES (1); INSERT INTO b.dbo.t VALUES (1); COMMIT")
        # USE inside the transaction; the batch's database is restored afterwards by the client
        cur.execute("BEGIN TRAN; USE a; INSERT INTO dbo.t VALUES (2); USE b; INSERT INTO t VALUES (2); COMMIT; USE master")
        # a rollback undoes both
        cur.execute("BEGIN TRAN; INSERT INTO a.dbo.t VALUES (3); USE b; INSERT INTO t VALUES (3); ROLLBACK; USE master")
        # a failure in the second database with XACT_ABORT rolls back the first too
        try:
            cur.execute("SET XACT_ABORT ON; BEGIN TRAN; INSERT INTO a.dbo.t VALUES (4); INSERT INTO b.dbo.t VALUES (1); COMMIT")
        except pymssql.Error:
            pass
        cur.execute("SET XACT_ABORT OFF; IF @@TRANCOUNT > 0 ROLLBACK")
        got = (rows(cur, "a"), rows(cur, "b"))
        ok = check(ok, "commit, USE, rollback, XACT_ABORT across databases", got == ([1, 2], [1, 2]), repr(got))
        good, detail = marked_deadlock(srv)
        ok = check(ok, "marked transactions deadlock: one victim (1205), retried", good, detail)
        c.close()
        srv.stop()

        for point, want in (("prepared", ([1, 2], [1, 2])), ("decided", ([1, 2, 5], [1, 2, 5]))):
            os.environ["HADRD_CRASH_AT"] = point
            try:
                srv.start()
            finally:
                del os.environ["HADRD_CRASH_AT"]
            c = srv.connect()
            cur = c.cursor()
            # single-database commits are not cross-database: no crash
            cur.execute("INSERT INTO a.dbo.t VALUES (100); DELETE FROM a.dbo.t WHERE id = 100")
            acked = True
            try:
                cur.execute("BEGIN TRAN; INSERT INTO a.dbo.t VALUES (5); INSERT INTO b.dbo.t VALUES (5); COMMIT")
            except pymssql.Error:
                acked = False
            for _ in range(100):
                if not srv.alive():
                    break
                time.sleep(0.05)
            ok = check(ok, "crash after %s: process gone, commit not acknowledged" % point,
                       not srv.alive() and not acked)
            srv.start()
            c = srv.connect()
            cur = c.cursor()
            got = (rows(cur, "a"), rows(cur, "b"))
            ok = check(ok, "crash after %s: both databases agree after restart" % point, got == want, repr(got))
            cur.execute("SELECT name, state_desc FROM sys.databases WHERE name IN ('a', 'b') ORDER BY name")
            states = cur.fetchall()
            ok = check(ok, "crash after %s: both ONLINE" % point, states == [("a", "ONLINE"), ("b", "ONLINE")],
                       repr(states))
            # leave the next round the same starting point
            cur.execute("BEGIN TRAN; DELETE FROM a.dbo.t WHERE id = 5; DELETE FROM b.dbo.t WHERE id = 5; COMMIT")
            c.close()
            srv.stop()
    finally:
        srv.cleanup()
    print("test_crossdb_commit: " + ("ok" if ok else "FAILED"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
