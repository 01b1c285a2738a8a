"""The seed's last resort for a deferred transaction (seed 004): no backup to
restore from, so ALTER DATABASE ... SET EMERGENCY, SET SINGLE_USER and
DBCC CHECKDB (db, REPAIR_ALLOW_DATA_LOSS).

A transaction changes rows on several pages and is open when the server is
killed; the page of row 300 is damaged on disk. At the restart the
transaction is deferred. The repair deallocates the bad page, reports the
rows lost with it, lets the deferred transaction go (its locks too: the log
is "rebuilt", transactional consistency given up, as SQL Server says) and
SET ONLINE brings the database back ONLINE, physically consistent: DBCC
CHECKDB is clean, every row not on the bad page is there, nothing is locked
or deferred any more.
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
        for sql in ["CREATE DATABASE lr", "ALTER DATABASE lr SET RECOVERY FULL",
                    "CREATE TABLE lr.dbo.t (id int PRIMARY KEY, v int NOT NULL, pad char(200) NOT NULL)"]:
            cur.execute(sql)
        for i in range(0, 600, 100):
            cur.execute("INSERT INTO lr.dbo.t VALUES " + ", ".join("(%d, %d, 'x')" % (j, j) for j in range(i, i + 100)))
        assert err_of(cur, "BACKUP DATABASE lr TO DISK = 'lr.bak' WITH INIT") == 0   # deferral needs a chain
        loc = one(cur, "SELECT sys.fn_PhysLocFormatter(%%physloc%%) FROM lr.dbo.t WHERE id = 300")[0][0]
        fno, page, _ = (int(x) for x in loc.strip("()").split(":"))
        locs = one(cur, "SELECT sys.fn_PhysLocFormatter(%%physloc%%) FROM lr.dbo.t")
        on_page = sum(1 for (l,) in locs if l.startswith("(%d:%d:" % (fno, page)))
        path = one(cur, "SELECT physical_name FROM sys.master_files WHERE database_id = DB_ID('lr') "
                        "AND file_id = %d" % fno)[0][0]
        loser = srv.connect(autocommit=False)
        loser.cursor().execute("UPDATE lr.dbo.t SET v = -1 WHERE id BETWEEN 200 AND 400")
        cur.execute("USE lr; CHECKPOINT; USE master")
        srv.kill()
        with open(path, "r+b") as f:
            f.seek(page * 8192 + 4000)
            f.write(b"\xde\xad" * 200)
        srv.start()
        c = srv.connect()
        cur = c.cursor()
        n = one(cur, "SELECT COUNT(*) FROM sys.dm_tran_active_transactions WHERE name = 'deferred'")
        check("the open transaction is deferred", n == [(1,)], n)
        check("DBCC CHECKDB refuses while it is deferred (7929)", err_of(cur, "DBCC CHECKDB ('lr')") == 7929)

        e1 = err_of(cur, "ALTER DATABASE lr SET EMERGENCY")
        e2 = err_of(cur, "ALTER DATABASE lr SET SINGLE_USER")
        st = one(cur, "SELECT state_desc, user_access_desc FROM sys.databases WHERE name = 'lr'")
        check("SET EMERGENCY, SET SINGLE_USER", (e1, e2) == (0, 0) and st == [("EMERGENCY", "SINGLE_USER")],
              (e1, e2, st))
        e = err_of(cur, "DBCC CHECKDB ('lr', REPAIR_ALLOW_DATA_LOSS)")
        # the errors it found come first (pymssql raises the first: 8928 "page could not
        # be processed", 824 ...); what it repaired is checked below
        check("DBCC CHECKDB (lr, REPAIR_ALLOW_DATA_LOSS) in emergency mode reports the damage",
              e in (8928, 8939, 824, 2533, 8976, 8978), e)
        check("the error log: the log rebuilt by emergency-mode repair", "has been rebuilt" in srv.errorlog())
        e1 = err_of(cur, "ALTER DATABASE lr SET ONLINE")
        e2 = err_of(cur, "ALTER DATABASE lr SET MULTI_USER")
        st = one(cur, "SELECT state_desc, user_access_desc FROM sys.databases WHERE name = 'lr'")
        check("SET ONLINE, SET MULTI_USER: ONLINE", (e1, e2) == (0, 0) and st == [("ONLINE", "MULTI_USER")],
              (e1, e2, st))
        n = one(cur, "SELECT COUNT(*) FROM sys.dm_tran_active_transactions WHERE name = 'deferred'")
        check("no deferred transaction any more", n == [(0,)], n)
        rows = one(cur, "SET LOCK_TIMEOUT 2000; SELECT COUNT(*) FROM lr.dbo.t")
        check("the rows of the bad page are gone, all others there (%d lost)" % on_page,
              rows == [(600 - on_page,)], (rows, on_page))
        check("nothing is locked: a row the transaction changed reads",
              err_of(cur, "SET LOCK_TIMEOUT 2000; SELECT v FROM lr.dbo.t WHERE id = 210") == 0)
        check("DBCC CHECKDB is clean", err_of(cur, "DBCC CHECKDB ('lr') WITH NO_INFOMSGS") == 0)
        check("the database takes writes", err_of(cur, "INSERT INTO lr.dbo.t VALUES (1000, 1, 'y')") == 0)
    finally:
        srv.cleanup()
    print("test_deferred_repair: " + ("ok" if check.ok else "FAILED"))
    sys.exit(0 if check.ok else 1)


if __name__ == "__main__":
    main()
