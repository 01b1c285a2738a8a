"""Redo meets a page damaged on disk (seed 004's "an I/O error prevented
reading a page" during roll forward) -- and does not need to read it.

Page P holds rows 300 and 310. After a checkpoint, a committed UPDATE changes
row 300 and an open transaction changes row 310; the server is killed and P
is damaged on disk. The first change to any page after a checkpoint's redo
point logs the whole page (log/mtr.h), so redo rebuilds P from the log
without reading it: the database comes back ONLINE, row 300 has its
committed value, the open transaction is rolled back (nothing deferred), no
824 and no suspect page. (A page redo would have to read is one that did not
change since the checkpoint, which redo does not touch; undo that needs such
a page defers: test_deferred.py.) A page restore of P from the full backup
and the log then works as on any page.
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
        for sql in ["CREATE DATABASE rdo", "ALTER DATABASE rdo SET RECOVERY FULL",
                    "CREATE TABLE rdo.dbo.t (id int PRIMARY KEY, v int NOT NULL, pad char(200) NOT NULL)"]:
            cur.execute(sql)
        for i in range(0, 600, 100):
            cur.execute("INSERT INTO rdo.dbo.t VALUES " + ", ".join("(%d, %d, 'x')" % (j, j) for j in range(i, i + 100)))
        assert err_of(cur, "BACKUP DATABASE rdo TO DISK = 'rdo_full.bak' WITH INIT") == 0
        loc = one(cur, "SELECT sys.fn_PhysLocFormatter(%%physloc%%) FROM rdo.dbo.t WHERE id = 300")[0][0]
        fno, page, _ = (int(x) for x in loc.strip("()").split(":"))
        loc310 = one(cur, "SELECT sys.fn_PhysLocFormatter(%%physloc%%) FROM rdo.dbo.t WHERE id = 310")[0][0]
        check("rows 300 and 310 on the same page", loc310.split(":")[:2] == loc.split(":")[:2], (loc, loc310))
        path = one(cur, "SELECT physical_name FROM sys.master_files WHERE database_id = DB_ID('rdo') "
                        "AND file_id = %d" % fno)[0][0]
        cur.execute("USE rdo; CHECKPOINT; USE master")
        cur.execute("UPDATE rdo.dbo.t SET v = v + 1000 WHERE id = 300")   # committed, only in the log
        loser = srv.connect(autocommit=False)
        loser.cursor().execute("UPDATE rdo.dbo.t SET v = -1 WHERE id = 310")
        srv.kill()
        with open(path, "r+b") as f:
            f.seek(page * 8192 + 5000)
            f.write(b"\xba\xd0" * 100)
        srv.start()
        cur = srv.connect().cursor()
        st = one(cur, "SELECT state_desc FROM sys.databases WHERE name = 'rdo'")
        check("the database is ONLINE", st == [("ONLINE",)], st)
        v = one(cur, "SET LOCK_TIMEOUT 2000; SELECT id, v FROM rdo.dbo.t WHERE id IN (300, 310) ORDER BY id")
        check("P rebuilt by redo: row 300 committed, row 310 rolled back", v == [(300, 1300), (310, 310)], v)
        n = one(cur, "SELECT COUNT(*) FROM sys.dm_tran_active_transactions WHERE name = 'deferred'")
        check("nothing deferred", n == [(0,)], n)
        sp = one(cur, "SELECT COUNT(*) FROM msdb.dbo.suspect_pages WHERE database_id = DB_ID('rdo')")
        check("no suspect page", sp == [(0,)], sp)
        cur.execute("USE rdo; CHECKPOINT; USE master")
        with open(path, "rb") as f:
            f.seek(page * 8192 + 5000)
            check("the checkpoint wrote P again: the damage is gone from disk", f.read(200) != b"\xba\xd0" * 100)

        # page restore: full backup, the tail, RECOVERY
        e1 = err_of(cur, "RESTORE DATABASE rdo PAGE = '%d:%d' FROM DISK = 'rdo_full.bak' WITH NORECOVERY"
                    % (fno, page))
        e2 = err_of(cur, "BACKUP LOG rdo TO DISK = 'rdo_tail.trn' WITH INIT")
        e3 = err_of(cur, "RESTORE LOG rdo FROM DISK = 'rdo_tail.trn' WITH RECOVERY")
        check("page restore: PAGE = from the full backup, the tail, RECOVERY", (e1, e2, e3) == (0, 0, 0),
              (e1, e2, e3))
        v = one(cur, "SET LOCK_TIMEOUT 2000; SELECT id, v FROM rdo.dbo.t WHERE id IN (300, 310) ORDER BY id")
        check("after the page restore: the same values", v == [(300, 1300), (310, 310)], v)
        srv.stop()
        srv.start()
        cur = srv.connect().cursor()
        check("after a restart: the page reads, DBCC CHECKDB is clean",
              one(cur, "SELECT v FROM rdo.dbo.t WHERE id = 300") == [(1300,)] and
              err_of(cur, "DBCC CHECKDB ('rdo') WITH NO_INFOMSGS") == 0)
    finally:
        srv.cleanup()
    print("test_redo_rebuilds_page: " + ("ok" if check.ok else "FAILED"))
    sys.exit(0 if check.ok else 1)


if __name__ == "__main__":
    main()
