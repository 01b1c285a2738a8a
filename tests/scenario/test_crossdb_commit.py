#!/usr/bin/python3
"""Transactions spanning two databases of the instance commit atomically with
the internal two-phase commit — whether the databases are named with
three-part names or switched to with USE inside the transaction — and a crash
in the middle of that commit leaves both databases agreeing after restart:
killed after every PREPARE is durable (before the decision) both roll back;
killed after the coordinator's COMMIT is durable both commit."""
import os
import sys
import time

import pymssql

from hadr import Server


def rows(cur, db):
    cur.execute("SELECT id FROM %s.dbo.t ORDER BY id" % db)
    return [r[0] for r in cur.fetchall()]


def check(ok, name, good, detail=""):
    print("%-58s %s" % (name, "ok" if good else "FAILED " + detail))
    return ok and good


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
