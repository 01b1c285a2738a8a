"""A user's rollback that meets an unreadable page (seed 004: "User
transactions that are rolling back and hit an I/O error ...").

A transaction updates rows on page P; P reaches the disk (CHECKPOINT), is
damaged there, and is pushed out of the 32 MB buffer pool by a scan of a
larger table. ROLLBACK must read P again: 824. The transaction cannot be
undone, so it is deferred where it stands (SQL Server restarts the database
and defers it in recovery): the client sees 3314, the session is out of its
transaction and works on, the rows stay locked by session -3, the error log
says so. Once the page is good again, a database restart rolls the
transaction back: every row has its old value.
"""
import os, sys

import pymssql

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from hadr import Checks, Server, err_of, one


def main():
    srv = Server().start()
    check = Checks()

    try:
        c = srv.connect()
        cur = c.cursor()
        for sql in ["CREATE DATABASE rbk", "ALTER DATABASE rbk SET RECOVERY FULL",
                    "CREATE TABLE rbk.dbo.t (id int PRIMARY KEY, v int NOT NULL, pad char(200) NOT NULL)",
                    "CREATE TABLE rbk.dbo.big (id int PRIMARY KEY, pad char(1800) NOT NULL)"]:
            cur.execute(sql)
        for i in range(0, 600, 100):
            cur.execute("INSERT INTO rbk.dbo.t VALUES " + ", ".join("(%d, %d, 'x')" % (j, j) for j in range(i, i + 100)))
        for i in range(0, 26000, 500):   # ~50 MB: more than the 32 MB pool
            cur.execute("INSERT INTO rbk.dbo.big VALUES " + ", ".join("(%d, 'b')" % j for j in range(i, i + 500)))
        assert err_of(cur, "BACKUP DATABASE rbk TO DISK = 'rbk.bak' WITH INIT") == 0
        loc = one(cur, "SELECT sys.fn_PhysLocFormatter(%%physloc%%) FROM rbk.dbo.t WHERE id = 300")[0][0]
        fno, page, _ = (int(x) for x in loc.strip("()").split(":"))
        path = one(cur, "SELECT physical_name FROM sys.master_files WHERE database_id = DB_ID('rbk') "
                        "AND file_id = %d" % fno)[0][0]

        loser = srv.connect(autocommit=False)
        lcur = loser.cursor()
        lcur.execute("UPDATE rbk.dbo.t SET v = -1 WHERE id BETWEEN 250 AND 350")
        cur.execute("USE rbk; CHECKPOINT; USE master")
        with open(path, "r+b") as f:
            f.seek(page * 8192)
            original = f.read(8192)
            f.seek(page * 8192 + 4000)
            f.write(b"\xde\xad" * 200)
        n = one(cur, "SELECT COUNT(*) FROM rbk.dbo.big")   # pushes page P out of the pool
        check("a scan larger than the pool ran", n == [(26000,)], n)

        e = 0
        try:
            loser.rollback()
        except Exception as x:   # pymssql raises _mssql's exception from rollback()
            e = 3314 if "3314" in str(x) else -1
        log = srv.errorlog()
        check("ROLLBACK meets the damaged page: 3314 to the client", e == 3314 and "(3314)" in log,
              (e, log[-400:]))
        check("the error log says the transaction was deferred", "deferred" in log.split("(3314)")[-1], log[-400:])
        check("the session goes on, out of its transaction",
              err_of(lcur, "SELECT 1") == 0 and one(lcur, "SELECT @@TRANCOUNT") == [(0,)])
        loser.close()
        n = one(cur, "SELECT COUNT(*) FROM sys.dm_tran_active_transactions WHERE name = 'deferred'")
        check("sys.dm_tran_active_transactions: one deferred transaction", n == [(1,)], n)
        check("its rows stay locked (1222)",
              err_of(cur, "SET LOCK_TIMEOUT 300; SELECT v FROM rbk.dbo.t WHERE id = 260") == 1222)
        cur.execute("SET LOCK_TIMEOUT -1")
        check("rows it did not touch read", one(cur, "SELECT v FROM rbk.dbo.t WHERE id = 100") == [(100,)])

        # the page is good again; a database restart rolls the transaction back
        with open(path, "r+b") as f:
            f.seek(page * 8192)
            f.write(original)
        e1 = err_of(cur, "ALTER DATABASE rbk SET OFFLINE")
        e2 = err_of(cur, "ALTER DATABASE rbk SET ONLINE")
        check("SET OFFLINE / SET ONLINE", e1 == 0 and e2 == 0, (e1, e2))
        n = one(cur, "SELECT COUNT(*) FROM sys.dm_tran_active_transactions WHERE name = 'deferred'")
        check("no deferred transaction left", n == [(0,)], n)
        bad = one(cur, "SET LOCK_TIMEOUT 2000; SELECT COUNT(*) FROM rbk.dbo.t WHERE v <> id")
        check("every row has its old value", bad == [(0,)], bad)
    finally:
        srv.cleanup()
    print("test_rollback_io_error: " + ("ok" if check.ok else "FAILED"))
    sys.exit(0 if check.ok else 1)


if __name__ == "__main__":
    main()
