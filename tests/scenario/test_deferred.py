#!/usr/bin/python3
"""Deferred transactions (seed 004) through a real client.

A transaction in a FULL-recovery database with a backup creates a table and
updates rows over several pages; a checkpoint writes its uncommitted pages;
the server is killed; one page it changed is damaged on disk (found with
sys.fn_PhysLocFormatter(%%physloc%%); page n lies at n * 8192). At restart,
undo cannot read that page: the transaction is deferred. The database is
ONLINE, the error log names the transaction (3401), the DMVs list it, the log
is kept (ACTIVE_TRANSACTION), its rows stay locked (1222 under LOCK_TIMEOUT,
blocking_session_id -3) and so is every CREATE TABLE; rows it never touched
read fine; DBCC CHECKDB refuses (7929). The page is put back as it was (the error was transient) and the
next restart rolls the transaction back."""
import os
import sys
import threading
import time

import pymssql

from hadr import Server

INFO = {3014, 4035, 3211}


def err_of(cur, sql):
    try:
        cur.execute(sql)
        try:
            cur.fetchall()
        except pymssql.Error:
            pass
        return 0
    except pymssql.Error as e:
        n = e.args[0] if e.args and isinstance(e.args[0], int) else -1
        return 0 if n in INFO else n


def one(cur, sql):
    cur.execute(sql)
    return cur.fetchall()


def main():
    srv = Server().start()
    ok = True

    def check(name, good, detail=""):
        nonlocal ok
        ok &= bool(good)
        print("%-62s %s" % (name, "ok" if good else "FAILED %s" % (detail,)))

    try:
        c = srv.connect()
        cur = c.cursor()
        for sql in ["CREATE DATABASE dfr", "ALTER DATABASE dfr SET RECOVERY FULL",
                    "CREATE TABLE dfr.dbo.t (id int PRIMARY KEY, v int NOT NULL, pad char(200) NOT NULL)",
                    "CREATE TABLE dfr.dbo.filler (id int PRIMARY KEY, pad char(400) NOT NULL)"]:
            cur.execute(sql)
        for i in range(0, 600, 100):
            cur.execute("INSERT INTO dfr.dbo.t VALUES " + ", ".join("(%d, %d, 'x')" % (j, j) for j in range(i, i + 100)))
        assert err_of(cur, "BACKUP DATABASE dfr TO DISK = 'dfr.bak' WITH INIT") == 0
        loc = one(cur, "SELECT sys.fn_PhysLocFormatter(%%physloc%%) FROM dfr.dbo.t WHERE id = 300")[0][0]
        fno, page, _slot = (int(x) for x in loc.strip("()").split(":"))
        first_page = one(cur, "SELECT sys.fn_PhysLocFormatter(%%physloc%%) FROM dfr.dbo.t WHERE id = 200")[0][0]
        path = one(cur, "SELECT physical_name FROM sys.master_files WHERE database_id = DB_ID('dfr') AND file_id = %d"
                   % fno)[0][0]
        check("row 300 found on page %d of file %d" % (page, fno), page > 0 and os.path.exists(path), (loc, path))
        check("rows 200 and 300 lie on different pages", first_page != loc, (first_page, loc))

        # the loser: DDL, then updates over several pages; its pages reach the disk
        loser = srv.connect(autocommit=False)
        lcur = loser.cursor()
        lcur.execute("CREATE TABLE dfr.dbo.made_by_loser (id int)")
        lcur.execute("UPDATE dfr.dbo.t SET v = -1 WHERE id BETWEEN 200 AND 400")
        cur.execute("USE dfr; CHECKPOINT; USE master")
        srv.kill()

        with open(path, "r+b") as f:
            f.seek(page * 8192)
            original = f.read(8192)
            f.seek(page * 8192 + 4000)
            f.write(b"\xde\xad" * 200)
        srv.start()
        c = srv.connect()
        cur = c.cursor()
        state = one(cur, "SELECT state_desc FROM sys.databases WHERE name = 'dfr'")
        check("database ONLINE", state == [("ONLINE",)], state)
        # more log than a VLF (in a table created before), then a log backup: only
        # the deferred transaction holds the log
        for i in range(0, 16000, 1000):
            cur.execute("INSERT INTO dfr.dbo.filler VALUES " + ", ".join("(%d, 'f')" % j for j in range(i, i + 1000)))
        backed = err_of(cur, "BACKUP LOG dfr TO DISK = 'dfr.bak'")
        cur.execute("USE dfr; CHECKPOINT; USE master")
        why = one(cur, "SELECT log_reuse_wait_desc FROM sys.databases WHERE name = 'dfr'")
        check("log backed up, yet kept for it: ACTIVE_TRANSACTION", backed == 0 and why == [("ACTIVE_TRANSACTION",)],
              (backed, why))
        log = srv.errorlog()
        check("error log: 3401, the transaction deferred, the page named",
              "(3401)" in log and "deferred" in log and ("%d:%d" % (fno, page)) in log, log[-600:])
        tr = one(cur, "SELECT name FROM sys.dm_tran_active_transactions WHERE name = 'deferred'")
        dbt = one(cur, "SELECT COUNT(*) FROM sys.dm_tran_database_transactions WHERE database_id = DB_ID('dfr')")
        check("sys.dm_tran_active_transactions / database_transactions list it", tr == [("deferred",)] and dbt[0][0] >= 1,
              (tr, dbt))
        check("a row it never touched reads", one(cur, "SELECT v FROM dfr.dbo.t WHERE id = 10") == [(10,)])
        check("a row it changed is locked (1222)",
              err_of(cur, "SET LOCK_TIMEOUT 300; SELECT v FROM dfr.dbo.t WHERE id = 210") == 1222)
        check("CREATE TABLE waits for it too (1222)",
              err_of(cur, "SET LOCK_TIMEOUT 300; CREATE TABLE dfr.dbo.someone_else (id int)") == 1222)
        cur.execute("SET LOCK_TIMEOUT -1")
        check("DBCC CHECKDB refuses while it is deferred (7929)", err_of(cur, "DBCC CHECKDB ('dfr')") == 7929)

        # a waiter shows blocking_session_id -3
        waiter = srv.connect()
        seen = {}

        def wait_for_row():
            try:
                waiter.cursor().execute("SET LOCK_TIMEOUT 3000; SELECT v FROM dfr.dbo.t WHERE id = 220")
            except pymssql.Error as e:
                seen["err"] = e.args[0] if e.args else None

        th = threading.Thread(target=wait_for_row)
        th.start()
        blocked = []
        for _ in range(40):
            time.sleep(0.05)
            blocked = one(cur, "SELECT blocking_session_id, wait_type FROM sys.dm_exec_requests "
                               "WHERE blocking_session_id <> 0")
            if blocked:
                break
        th.join()
        check("sys.dm_exec_requests: blocking_session_id -3", blocked and blocked[0][0] == -3, blocked)
        c.close()
        srv.stop()

        # the error was transient: the page reads again, the next start rolls it back
        with open(path, "r+b") as f:
            f.seek(page * 8192)
            f.write(original)
        srv.start()
        c = srv.connect()
        cur = c.cursor()
        vals = one(cur, "SELECT MIN(v), COUNT(*) FROM dfr.dbo.t WHERE id BETWEEN 200 AND 400")
        check("after a clean restart: rolled back, every row as before", vals == [(200, 201)], vals)
        gone = one(cur, "SELECT COUNT(*) FROM dfr.sys.tables WHERE name = 'made_by_loser'")
        check("... its table is gone, CREATE TABLE works",
              gone == [(0,)] and err_of(cur, "CREATE TABLE dfr.dbo.someone_else (id int)") == 0, gone)
        check("... no deferred transaction left",
              one(cur, "SELECT COUNT(*) FROM sys.dm_tran_active_transactions WHERE name = 'deferred'") == [(0,)])
    finally:
        srv.cleanup()
    print("test_deferred: " + ("ok" if ok else "FAILED"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
