"""Piecemeal restore, "Restore -> deferred transaction", and bringing an
offline filegroup back by an online filegroup restore (seed 004).

Database pr: PRIMARY (t0) and filegroup fg1 (t1). A full backup, more rows,
a log backup, then a transaction that changes t1 and t0 and is still open
when the second log backup is taken.

1. RESTORE DATABASE pr2 FILEGROUP = 'PRIMARY' FROM full WITH PARTIAL,
   NORECOVERY (MOVE to new files), the two log backups, the last WITH
   RECOVERY: pr2 is ONLINE, fg1's file OFFLINE (never restored), t1 answers
   8653, the open transaction is deferred (3192 after the RESTORE, 3401 in the
   error log, listed as deferred, its t0 row locked: 1222).
2. RESTORE DATABASE pr2 FILEGROUP = 'fg1' FROM full WITH NORECOVERY while pr2
   stays online, the same log backups, a new log backup of pr2 (the tail) and
   RESTORE LOG ... WITH RECOVERY: the file is ONLINE again, every committed
   row of t1 is there, the deferred transaction is rolled back (its rows
   unlocked, their old values back). Refusals on the way: FILEGROUP = of an
   online file, of PRIMARY, of an unknown name (3234), RECOVERY too early
   (4326), PARTIAL without FILEGROUP (3032).
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
        for sql in ["CREATE DATABASE pr", "ALTER DATABASE pr SET RECOVERY FULL",
                    "ALTER DATABASE pr ADD FILEGROUP fg1",
                    "ALTER DATABASE pr ADD FILE (NAME = pr_f1, FILENAME = 'pr_f1.ndf', SIZE = 1MB) TO FILEGROUP fg1",
                    "CREATE TABLE pr.dbo.t0 (id int PRIMARY KEY, v int NOT NULL)",
                    "CREATE TABLE pr.dbo.t1 (id int PRIMARY KEY, v int NOT NULL) ON fg1"]:
            cur.execute(sql)
        cur.execute("INSERT INTO pr.dbo.t0 VALUES " + ", ".join("(%d, %d)" % (i, i) for i in range(100)))
        cur.execute("INSERT INTO pr.dbo.t1 VALUES " + ", ".join("(%d, %d)" % (i, i) for i in range(100)))
        assert err_of(cur, "BACKUP DATABASE pr TO DISK = 'pr_full.bak' WITH INIT") == 0
        cur.execute("INSERT INTO pr.dbo.t1 VALUES " + ", ".join("(%d, %d)" % (i, i) for i in range(100, 200)))
        cur.execute("UPDATE pr.dbo.t0 SET v = v + 1000 WHERE id < 10")
        assert err_of(cur, "BACKUP LOG pr TO DISK = 'pr_log1.trn' WITH INIT") == 0
        cur.execute("INSERT INTO pr.dbo.t1 VALUES " + ", ".join("(%d, %d)" % (i, i) for i in range(200, 250)))
        loser = srv.connect(autocommit=False)
        lcur = loser.cursor()
        lcur.execute("UPDATE pr.dbo.t0 SET v = -1 WHERE id = 50")
        lcur.execute("UPDATE pr.dbo.t1 SET v = -1 WHERE id BETWEEN 20 AND 30")
        assert err_of(cur, "BACKUP LOG pr TO DISK = 'pr_log2.trn' WITH INIT") == 0
        loser.rollback()
        loser.close()
        files = one(cur, "RESTORE FILELISTONLY FROM DISK = 'pr_full.bak'")
        names = {r[0]: r[1] for r in files}
        log_name = [r[0] for r in files if r[2] == "L"][0]
        move = "MOVE 'pr' TO 'pr2.mdf', MOVE 'pr_f1' TO 'pr2_f1.ndf', MOVE '%s' TO 'pr2.ldf'" % log_name
        check("the full backup lists pr, pr_f1 and the log", "pr" in names and "pr_f1" in names, files)

        # ---- 1. partial restore: PRIMARY only ----
        check("PARTIAL without FILEGROUP: 3032",
              err_of(cur, info=(), sql="RESTORE DATABASE pr2 FROM DISK = 'pr_full.bak' WITH PARTIAL, NORECOVERY, " + move) == 3032)
        check("PARTIAL naming an unknown filegroup: 3234",
              err_of(cur, info=(), sql="RESTORE DATABASE pr2 FILEGROUP = 'nofg' FROM DISK = 'pr_full.bak' WITH PARTIAL, "
                           "NORECOVERY, " + move) == 3234)
        e1 = err_of(cur, "RESTORE DATABASE pr2 FILEGROUP = 'PRIMARY' FROM DISK = 'pr_full.bak' WITH PARTIAL, "
                         "NORECOVERY, " + move)
        e2 = err_of(cur, "RESTORE LOG pr2 FROM DISK = 'pr_log1.trn' WITH NORECOVERY")
        msgs = []
        c._conn.set_msghandler(lambda *a: msgs.append(str(a[-1])))   # the text is last
        e3 = err_of(cur, "RESTORE LOG pr2 FROM DISK = 'pr_log2.trn' WITH RECOVERY")
        c._conn.set_msghandler(None)
        st = one(cur, "SELECT state_desc FROM sys.databases WHERE name = 'pr2'")
        check("PARTIAL restore of PRIMARY + two log backups: pr2 ONLINE",
              (e1, e2, e3) == (0, 0, 0) and st == [("ONLINE",)], (e1, e2, e3, st))
        check("... the last RESTORE says deferred transactions remain (3192)",
              any("deferred transactions remain" in m for m in msgs), msgs)
        fs = one(cur, "SELECT state_desc FROM pr2.sys.database_files WHERE name = 'pr_f1'")
        check("fg1's file is OFFLINE (not restored)", fs == [("OFFLINE",)], fs)
        check("t0 reads: the log backups' changes are there",
              one(cur, "SET LOCK_TIMEOUT 2000; SELECT COUNT(*), SUM(CASE WHEN v >= 1000 THEN 1 ELSE 0 END) "
                       "FROM pr2.dbo.t0 WHERE id < 50") == [(50, 10)])
        check("t1 (in fg1): 8653", err_of(cur, "SELECT COUNT(*) FROM pr2.dbo.t1") == 8653)
        n = one(cur, "SELECT COUNT(*) FROM sys.dm_tran_active_transactions WHERE name = 'deferred'")
        check("the open transaction is deferred", n == [(1,)], n)
        check("error log: 3401", "(3401)" in srv.errorlog())
        check("its t0 row is locked (1222)",
              err_of(cur, "SET LOCK_TIMEOUT 300; SELECT v FROM pr2.dbo.t0 WHERE id = 50") == 1222)
        cur.execute("SET LOCK_TIMEOUT -1")

        # ---- 2. online filegroup restore of fg1 ----
        check("FILEGROUP = 'PRIMARY' while online: refused (3013)",
              err_of(cur, info=(), sql="RESTORE DATABASE pr2 FILEGROUP = 'PRIMARY' FROM DISK = 'pr_full.bak' WITH NORECOVERY")
              == 3013)
        check("an unknown filegroup: 3234",
              err_of(cur, info=(), sql="RESTORE DATABASE pr2 FILEGROUP = 'nofg' FROM DISK = 'pr_full.bak' WITH NORECOVERY")
              == 3234)
        e = err_of(cur, "RESTORE DATABASE pr2 FILEGROUP = 'fg1' FROM DISK = 'pr_full.bak' WITH NORECOVERY")
        check("RESTORE DATABASE pr2 FILEGROUP = 'fg1' FROM full WITH NORECOVERY", e == 0, e)
        check("... pr2 stays ONLINE, t0 reads, t1 still 8653",
              one(cur, "SELECT state_desc FROM sys.databases WHERE name = 'pr2'") == [("ONLINE",)] and
              one(cur, "SELECT COUNT(*) FROM pr2.dbo.t0 WHERE id < 40") == [(40,)] and
              err_of(cur, "SELECT COUNT(*) FROM pr2.dbo.t1") == 8653)
        e1 = err_of(cur, "RESTORE LOG pr2 FROM DISK = 'pr_log1.trn' WITH NORECOVERY")
        e2 = err_of(cur, "RESTORE LOG pr2 FROM DISK = 'pr_log2.trn' WITH NORECOVERY")
        check("the two log backups onto the file", (e1, e2) == (0, 0), (e1, e2))
        check("RECOVERY without the tail: 4326",
              err_of(cur, info=(), sql="RESTORE DATABASE pr2 WITH RECOVERY") == 4326)
        e = err_of(cur, "BACKUP LOG pr2 TO DISK = 'pr2_tail.trn' WITH INIT")
        check("a log backup of pr2 (the tail)", e == 0, e)
        if os.environ.get("HADR_DEBUG_TEST"):
            for f in ("pr_full.bak", "pr_log1.trn", "pr_log2.trn", "pr2_tail.trn"):
                cur.execute("RESTORE HEADERONLY FROM DISK = '%s'" % f)
                cols = [d[0] for d in cur.description]
                for r in cur.fetchall():
                    d = dict(zip(cols, r))
                    print(f, d["BackupType"], d["FirstLSN"], d["LastLSN"], d["DatabaseBackupLSN"])
        e = err_of(cur, info=(), sql="RESTORE LOG pr2 FROM DISK = 'pr2_tail.trn' WITH RECOVERY")
        check("RESTORE LOG pr2 FROM the tail WITH RECOVERY", e in (0, 3014, 4035), e)
        fs = one(cur, "SELECT state, state_desc FROM pr2.sys.database_files WHERE name = 'pr_f1'")
        check("the file is ONLINE again", fs == [(0, "ONLINE")], fs)
        rows = one(cur, "SET LOCK_TIMEOUT 2000; SELECT COUNT(*), SUM(CASE WHEN v = id THEN 1 ELSE 0 END) "
                        "FROM pr2.dbo.t1")
        check("t1: all 250 committed rows, none with the deferred update", rows == [(250, 250)], rows)
        n = one(cur, "SELECT COUNT(*) FROM sys.dm_tran_active_transactions WHERE name = 'deferred'")
        check("no deferred transaction left", n == [(0,)], n)
        check("its t0 row: unlocked, old value", one(cur, "SELECT v FROM pr2.dbo.t0 WHERE id = 50") == [(50,)])
        check("t1 takes writes", err_of(cur, "INSERT INTO pr2.dbo.t1 VALUES (1000, 1000)") == 0)
        check("a file that is ONLINE cannot be restored online (3013)",
              err_of(cur, info=(), sql="RESTORE DATABASE pr2 FILEGROUP = 'fg1' FROM DISK = 'pr_full.bak' WITH NORECOVERY")
              == 3013)
        srv.stop()
        srv.start()
        cur = srv.connect().cursor()
        check("after a restart: file ONLINE, 251 rows in t1",
              one(cur, "SELECT state_desc FROM pr2.sys.database_files WHERE name = 'pr_f1'") == [("ONLINE",)] and
              one(cur, "SELECT COUNT(*) FROM pr2.dbo.t1") == [(251,)])
        check("DBCC CHECKDB (pr2) is clean", err_of(cur, "DBCC CHECKDB ('pr2') WITH NO_INFOMSGS") == 0)
    finally:
        srv.cleanup()
    print("test_piecemeal_restore: " + ("ok" if check.ok else "FAILED"))
    sys.exit(0 if check.ok else 1)


if __name__ == "__main__":
    main()
