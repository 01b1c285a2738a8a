"""Offline files and defunct filegroups (seed 004).

A database with a secondary filegroup fg1 (table t1) and PRIMARY (table t0):
- ALTER DATABASE ... MODIFY FILE (NAME = f1, OFFLINE): sys.database_files /
  sys.master_files say OFFLINE (6), t1 answers 8653, t0 keeps working, and it
  stays so across a restart; refusals 5077 (primary), 5041 (no such file),
  40001 (other MODIFY FILE properties).
- "Filegroup is offline -> deferred transaction": a transaction that changed
  t0 and then t1 is open when the server dies; f1 is then gone from the disk,
  so the database comes back RECOVERY_PENDING. The DBA sets f1 OFFLINE and the
  database ONLINE: the transaction is deferred (3401 in the error log, listed
  in the DMVs, its t0 row locked: 1222, the log kept: ACTIVE_TRANSACTION).
- REMOVE FILE f1 makes the file DEFUNCT (7) and releases the deferred
  transaction: its t0 change is rolled back, the lock gone; t1 stays 8653;
  5020 for the primary file.
"""
import os, sys

import pymssql

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from hadr import Checks, Server, err_of, one


def make_db(cur, name):
    for sql in ["CREATE DATABASE %s" % name, "ALTER DATABASE %s SET RECOVERY FULL" % name,
                "ALTER DATABASE %s ADD FILEGROUP fg1" % name,
                "ALTER DATABASE %s ADD FILE (NAME = %s_f1, FILENAME = '%s_f1.ndf', SIZE = 1MB) TO FILEGROUP fg1"
                % (name, name, name),
                "CREATE TABLE %s.dbo.t0 (id int PRIMARY KEY, v int NOT NULL)" % name,
                "CREATE TABLE %s.dbo.t1 (id int PRIMARY KEY, v int NOT NULL) ON fg1" % name]:
        cur.execute(sql)
    cur.execute("INSERT INTO %s.dbo.t0 VALUES " % name + ", ".join("(%d, %d)" % (i, i) for i in range(100)))
    cur.execute("INSERT INTO %s.dbo.t1 VALUES " % name + ", ".join("(%d, %d)" % (i, i) for i in range(100)))
    assert err_of(cur, "BACKUP DATABASE %s TO DISK = '%s.bak' WITH INIT" % (name, name)) == 0
    assert err_of(cur, "BACKUP LOG %s TO DISK = '%s.bak'" % (name, name)) == 0


def file_state(cur, db, logical):
    return one(cur, "SELECT f.state, f.state_desc, m.state_desc FROM %s.sys.database_files f "
                    "JOIN sys.master_files m ON m.database_id = DB_ID('%s') AND m.file_id = f.file_id "
                    "WHERE f.name = '%s'" % (db, db, logical))


def main():
    srv = Server().start()
    check = Checks()

    try:
        c = srv.connect()
        cur = c.cursor()

        # ---- MODIFY FILE OFFLINE on an online database ----
        make_db(cur, "ofl")
        check("refused: a primary-filegroup file (5077)",
              err_of(cur, "ALTER DATABASE ofl MODIFY FILE (NAME = ofl, OFFLINE)") == 5077)
        check("refused: no such file (5041)",
              err_of(cur, "ALTER DATABASE ofl MODIFY FILE (NAME = nosuch, OFFLINE)") == 5041)
        check("refused: other MODIFY FILE properties (40001)",
              err_of(cur, "ALTER DATABASE ofl MODIFY FILE (NAME = ofl_f1, SIZE = 20MB)") == 40001)
        check("refused: REMOVE FILE of an online file (40001)",
              err_of(cur, "ALTER DATABASE ofl REMOVE FILE ofl_f1") == 40001)
        # an index ON fg1 of a PRIMARY table
        cur.execute("CREATE TABLE ofl.dbo.t2 (id int PRIMARY KEY, v int NOT NULL)")
        cur.execute("INSERT INTO ofl.dbo.t2 VALUES (1, 1), (2, 2)")
        cur.execute("CREATE INDEX ix_v ON ofl.dbo.t2 (v) ON fg1")
        ds = one(cur, "SELECT i.data_space_id, f.data_space_id FROM ofl.sys.indexes i, ofl.sys.filegroups f "
                      "WHERE i.name = 'ix_v' AND f.name = 'fg1'")
        check("CREATE INDEX ... ON fg1: sys.indexes.data_space_id is fg1's", len(ds) == 1 and ds[0][0] == ds[0][1], ds)
        check("CREATE INDEX ... ON a filegroup that does not exist: 1921",
              err_of(cur, "CREATE INDEX ix_w ON ofl.dbo.t2 (v) ON nofg") == 1921)
        check("before: f1 ONLINE", file_state(cur, "ofl", "ofl_f1") == [(0, "ONLINE", "ONLINE")],
              file_state(cur, "ofl", "ofl_f1"))
        check("MODIFY FILE (NAME = ofl_f1, OFFLINE) succeeds",
              err_of(cur, "ALTER DATABASE ofl MODIFY FILE (NAME = ofl_f1, OFFLINE)") == 0)
        check("sys.database_files / sys.master_files: OFFLINE (6)",
              file_state(cur, "ofl", "ofl_f1") == [(6, "OFFLINE", "OFFLINE")], file_state(cur, "ofl", "ofl_f1"))
        check("the database stays ONLINE",
              one(cur, "SELECT state_desc FROM sys.databases WHERE name = 'ofl'") == [("ONLINE",)])
        check("SELECT from the table in the offline filegroup: 8653",
              err_of(cur, "SELECT COUNT(*) FROM ofl.dbo.t1") == 8653)
        check("INSERT into it: 8653", err_of(cur, "INSERT INTO ofl.dbo.t1 VALUES (1000, 1)") == 8653)
        check("a PRIMARY table whose nonclustered index is in fg1: queries read it",
              one(cur, "SELECT COUNT(*) FROM ofl.dbo.t2 WHERE v > 0") == [(2,)])
        check("... writes cannot maintain the index: 8607 (INSERT, UPDATE, DELETE)",
              err_of(cur, "INSERT INTO ofl.dbo.t2 VALUES (3, 3)") == 8607 and
              err_of(cur, "UPDATE ofl.dbo.t2 SET v = 5 WHERE id = 1") == 8607 and
              err_of(cur, "DELETE FROM ofl.dbo.t2 WHERE id = 1") == 8607)
        check("the PRIMARY table reads and writes",
              err_of(cur, "INSERT INTO ofl.dbo.t0 VALUES (1000, 1)") == 0 and
              one(cur, "SELECT COUNT(*) FROM ofl.dbo.t0") == [(101,)])
        srv.stop()
        srv.start()
        c = srv.connect()
        cur = c.cursor()
        check("after a restart: still OFFLINE, still 8653, PRIMARY fine",
              file_state(cur, "ofl", "ofl_f1") == [(6, "OFFLINE", "OFFLINE")] and
              err_of(cur, "SELECT COUNT(*) FROM ofl.dbo.t1") == 8653 and
              one(cur, "SELECT COUNT(*) FROM ofl.dbo.t0") == [(101,)])

        # ---- filegroup offline -> deferred transaction ----
        make_db(cur, "dfo")
        f1_path = one(cur, "SELECT physical_name FROM sys.master_files WHERE database_id = DB_ID('dfo') "
                           "AND name = 'dfo_f1'")[0][0]
        loser = srv.connect(autocommit=False)
        lcur = loser.cursor()
        lcur.execute("UPDATE dfo.dbo.t0 SET v = -1 WHERE id = 7")
        lcur.execute("UPDATE dfo.dbo.t1 SET v = -1 WHERE id BETWEEN 10 AND 20")
        cur.execute("USE dfo; CHECKPOINT; USE master")
        srv.kill()
        os.rename(f1_path, f1_path + ".gone")
        srv.start()
        c = srv.connect()
        cur = c.cursor()
        st = one(cur, "SELECT state_desc FROM sys.databases WHERE name = 'dfo'")
        check("a data file missing at start: RECOVERY_PENDING", st == [("RECOVERY_PENDING",)], st)
        check("MODIFY FILE (NAME = dfo_f1, OFFLINE) on the RECOVERY_PENDING database",
              err_of(cur, "ALTER DATABASE dfo MODIFY FILE (NAME = dfo_f1, OFFLINE)") == 0)
        e = err_of(cur, "ALTER DATABASE dfo SET ONLINE")
        st = one(cur, "SELECT state_desc FROM sys.databases WHERE name = 'dfo'")
        check("SET ONLINE: the database comes ONLINE without the file", e == 0 and st == [("ONLINE",)], (e, st))
        check("... the file OFFLINE", file_state(cur, "dfo", "dfo_f1") == [(6, "OFFLINE", "OFFLINE")],
              file_state(cur, "dfo", "dfo_f1"))
        log = srv.errorlog()
        check("error log: 3401, a transaction deferred", "(3401)" in log and "deferred" in log, log[-500:])
        n = one(cur, "SELECT COUNT(*) FROM sys.dm_tran_database_transactions WHERE database_id = DB_ID('dfo')")
        check("sys.dm_tran_database_transactions lists it", n[0][0] >= 1, n)
        check("its PRIMARY row is still locked (1222)",
              err_of(cur, "SET LOCK_TIMEOUT 300; SELECT v FROM dfo.dbo.t0 WHERE id = 7") == 1222)
        check("other PRIMARY rows read", one(cur, "SET LOCK_TIMEOUT 300; SELECT v FROM dfo.dbo.t0 WHERE id = 8")
              == [(8,)])
        cur.execute("SET LOCK_TIMEOUT -1")
        # more log than a VLF, a log backup and a checkpoint would truncate
        # the log: the deferred transaction is what keeps it
        cur.execute("CREATE TABLE dfo.dbo.filler (id int PRIMARY KEY, pad char(400) NOT NULL)")
        for i in range(0, 16000, 1000):
            cur.execute("INSERT INTO dfo.dbo.filler VALUES " + ", ".join("(%d, 'f')" % j for j in range(i, i + 1000)))
        err_of(cur, "BACKUP LOG dfo TO DISK = 'dfo.bak'")
        cur.execute("USE dfo; CHECKPOINT; USE master")
        why = one(cur, "SELECT log_reuse_wait_desc FROM sys.databases WHERE name = 'dfo'")
        check("the log is kept: ACTIVE_TRANSACTION", why == [("ACTIVE_TRANSACTION",)], why)

        # ---- REMOVE FILE: defunct, deferred transaction released ----
        check("REMOVE FILE of the primary file: 5020", err_of(cur, "ALTER DATABASE dfo REMOVE FILE dfo") == 5020)
        check("REMOVE FILE dfo_f1 succeeds", err_of(cur, "ALTER DATABASE dfo REMOVE FILE dfo_f1") == 0)
        check("the file is DEFUNCT (7)", file_state(cur, "dfo", "dfo_f1") == [(7, "DEFUNCT", "DEFUNCT")],
              file_state(cur, "dfo", "dfo_f1"))
        v = one(cur, "SET LOCK_TIMEOUT 2000; SELECT v FROM dfo.dbo.t0 WHERE id = 7")
        check("the deferred transaction rolled back: its PRIMARY row unlocked, old value", v == [(7,)], v)
        cur.execute("SET LOCK_TIMEOUT -1")
        n = one(cur, "SELECT COUNT(*) FROM sys.dm_tran_database_transactions WHERE database_id = DB_ID('dfo')")
        check("no transaction left in the database", n == [(0,)], n)
        check("the defunct filegroup's table: 8653", err_of(cur, "SELECT * FROM dfo.dbo.t1") == 8653)
        check("MODIFY FILE OFFLINE of a defunct file is refused",
              err_of(cur, "ALTER DATABASE dfo MODIFY FILE (NAME = dfo_f1, OFFLINE)") != 0)
        check("a defunct filegroup can never be restored (3013)",
              err_of(cur, "RESTORE DATABASE dfo FILEGROUP = 'fg1' FROM DISK = 'dfo.bak' WITH FILE = 1, NORECOVERY")
              == 3013)
        check("CREATE TABLE works again in the database",
              err_of(cur, "SET LOCK_TIMEOUT 2000; CREATE TABLE dfo.dbo.after_remove (id int)") == 0)
        srv.stop()
        srv.start()
        cur = srv.connect().cursor()
        st = one(cur, "SELECT state_desc FROM sys.databases WHERE name = 'dfo'")
        check("after a restart: ONLINE, f1 DEFUNCT, t0 intact",
              st == [("ONLINE",)] and file_state(cur, "dfo", "dfo_f1") == [(7, "DEFUNCT", "DEFUNCT")] and
              one(cur, "SELECT v FROM dfo.dbo.t0 WHERE id = 7") == [(7,)], st)
    finally:
        srv.cleanup()
    print("test_offline_files: " + ("ok" if check.ok else "FAILED"))
    sys.exit(0 if check.ok else 1)


if __name__ == "__main__":
    main()
