#!/usr/bin/python3
"""ATTENTION (a client's cancel) stops a running batch on the server at the
next statement boundary; the connection stays usable; an open transaction
stays open (SQL Server rolls back only under XACT_ABORT); other sessions are
not disturbed."""
import sys, threading, time

import pymssql

from hadr import Server

# The loop pauses 5 ms per row: a loop that streams DONE tokens without a
# pause makes pymssql's cancel from a second thread race FreeTDS's reader in
# the first for the ack (a client-side race; the server acknowledges at
# once), and the test would fail now and then for the client's sake.
LOOP = ("DECLARE @i int = 0; WHILE @i < 100000000 BEGIN "
        "INSERT INTO t VALUES (@i); SET @i += 1; WAITFOR DELAY '00:00:00.005' END")


def cancel_after(conn, seconds):
    def run():
        time.sleep(seconds)
        conn._conn.cancel()     # pymssql sends a TDS ATTENTION packet
    th = threading.Thread(target=run)
    th.start()
    return th


def count(cur):
    cur.execute("SELECT COUNT(*) FROM t")
    return cur.fetchone()[0]


def main():
    srv = Server().start()
    try:
        admin = srv.connect()
        acur = admin.cursor()
        acur.execute("CREATE DATABASE a")
        acur.execute("CREATE TABLE a.dbo.t (i int)")
        acur.execute("USE a")

        # autocommit: each INSERT commits; after the cancel no more arrive
        c = srv.connect(database="a")
        cur = c.cursor()
        th = cancel_after(c, 1.0)
        t0 = time.time()
        try:
            cur.execute(LOOP)
            raise AssertionError("the loop ran to its end: ATTENTION ignored")
        except pymssql.OperationalError:
            pass
        th.join()
        assert time.time() - t0 < 30, "cancel took %.1f s" % (time.time() - t0)
        n1 = count(acur)
        assert n1 > 0, "no row inserted before the cancel"
        time.sleep(0.5)
        assert count(acur) == n1, "rows still arriving after the cancel"
        cur.execute("SELECT 42")
        assert cur.fetchall() == [(42,)], "connection unusable after the cancel"

        # in a transaction: the cancel stops the batch, the transaction stays open
        cur.execute("BEGIN TRAN")
        th = cancel_after(c, 1.0)
        try:
            cur.execute(LOOP)
            raise AssertionError("the loop ran to its end: ATTENTION ignored")
        except pymssql.OperationalError:
            pass
        th.join()
        cur.execute("SELECT @@TRANCOUNT")
        assert cur.fetchone()[0] == 1, "transaction did not stay open after the cancel"
        cur.execute("ROLLBACK")
        assert count(acur) == n1, "rolled-back rows visible"
        print("test_attention: ok")
    finally:
        srv.cleanup()


if __name__ == "__main__":
    sys.exit(main())
