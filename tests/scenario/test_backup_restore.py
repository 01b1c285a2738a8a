#!/usr/bin/python3
"""Backup and restore through a real client: a full backup and a log chain
restored to the end; FILE = n on media holding several sets; the restore
sequence errors (4326, 4305, 3154, 3159, 3101); HEADERONLY / FILELISTONLY /
LABELONLY columns; log truncation in SIMPLE and FULL (log_reuse_wait_desc);
MOVE to new file names; a corrupted media byte found by VERIFYONLY and
refused by RESTORE with the database left as it was; a logical device made
with sp_addumpdevice; the msdb history rows.

pymssql raises the first message of a batch even when it is informational
(severity 10: "n percent processed.", "Processed n pages ...", as with SQL
Server), so run() treats those numbers as success."""
import os, sys, time

import pymssql

from hadr import Server

INFO = {3211, 4035, 3014, 3262, 4322, 4329, 5701}


def main():
    srv = Server().start()
    results = []

    def check(name, cond, detail=""):
        results.append(bool(cond))
        print("%-64s %s%s" % (name, "ok" if cond else "FAILED", "" if cond else "  " + str(detail)))

    try:
        conn = srv.connect()
        cur = conn.cursor()

        def run(sql):
            """(error number or 0, message text, result sets)."""
            try:
                cur.execute(sql)
                sets = []
                while True:
                    if cur.description:
                        sets.append(([d[0] for d in cur.description], cur.fetchall()))
                    if not cur.nextset():
                        break
                return 0, "", sets
            except pymssql.Error as e:
                num = e.args[0] if e.args and isinstance(e.args[0], int) else -1
                text = e.args[1].decode(errors="replace") if len(e.args) > 1 and isinstance(e.args[1], bytes) else str(e)
                if num in INFO:
                    return 0, text, []
                return num, text, []

        def one(sql):
            err, text, sets = run(sql)
            if err:
                raise RuntimeError("%s -> %d %s" % (sql, err, text))
            return sets[0][1] if sets else []

        def val(sql):
            return one(sql)[0][0]

        def rows_of(db):
            return [tuple(r) for r in one("SELECT id, v FROM %s.dbo.t ORDER BY id" % db)]

        # ---- a full backup and a chain of log backups on one media ----
        one("CREATE DATABASE shop")
        one("CREATE TABLE shop.dbo.t (id int PRIMARY KEY, v varchar(200))")
        one("INSERT INTO shop.dbo.t VALUES (1, 'one'), (2, 'two')")
        err, text, _ = run("BACKUP LOG shop TO DISK = 'shop.bak'")
        check("BACKUP LOG before any full backup: 4214", err == 4214, (err, text))
        err, text, _ = run("BACKUP DATABASE shop TO DISK = 'shop.bak' WITH INIT, NAME = 'shop full', "
                           "DESCRIPTION = 'first', CHECKSUM, STATS = 25")
        check("BACKUP DATABASE WITH STATS answers 'n percent processed.'", err == 0 and "percent processed" in text,
              (err, text))
        one("INSERT INTO shop.dbo.t VALUES (3, 'three')")
        run("BACKUP LOG shop TO DISK = 'shop.bak' WITH NAME = 'log 1'")
        one("INSERT INTO shop.dbo.t VALUES (4, 'four')")
        err, text, _ = run("BACKUP LOG shop TO DISK = 'shop.bak' WITH NAME = 'log 2', COMPRESSION")
        check("BACKUP LOG names its pages (4035)", err == 0 and "Processed" in text and "shop_log" in text, text)
        one("INSERT INTO shop.dbo.t VALUES (5, 'five')")
        run("BACKUP LOG shop TO DISK = 'shop.bak'")   # no NAME: NULL in HEADERONLY and backupset

        _, _, sets = run("RESTORE HEADERONLY FROM DISK = 'shop.bak'")
        cols, hdr = sets[0]
        h = [dict(zip(cols, r)) for r in hdr]
        check("HEADERONLY: four sets, positions 1..4", [x["Position"] for x in h] == [1, 2, 3, 4], h)
        check("HEADERONLY: BackupType / BackupTypeDescription",
              [(x["BackupType"], x["BackupTypeDescription"]) for x in h] ==
              [(1, "Database"), (2, "Transaction Log"), (2, "Transaction Log"), (2, "Transaction Log")])
        check("HEADERONLY: names, description, RecoveryModel, checksums, compression",
              h[0]["BackupName"] == "shop full" and h[0]["BackupDescription"] == "first" and
              h[3]["BackupName"] is None and h[3]["BackupDescription"] is None and
              h[0]["RecoveryModel"] == "FULL" and h[0]["HasBackupChecksums"] and h[2]["Compressed"] and
              not h[1]["Compressed"] and h[0]["DatabaseName"] == "shop")
        check("HEADERONLY: the log chain is contiguous (next FirstLSN = previous LastLSN)",
              all(h[i]["FirstLSN"] == h[i - 1]["LastLSN"] for i in (2, 3)) and
              h[1]["FirstLSN"] <= h[0]["LastLSN"] < h[1]["LastLSN"], [(x["FirstLSN"], x["LastLSN"]) for x in h])
        check("HEADERONLY: DatabaseBackupLSN of the logs is the full backup's",
              all(x["DatabaseBackupLSN"] == h[0]["FirstLSN"] for x in h[1:]))
        for c in ("BackupName", "BackupType", "Position", "DatabaseName", "FirstLSN", "LastLSN", "CheckpointLSN",
                  "DatabaseBackupLSN", "BackupStartDate", "BackupFinishDate", "BackupSize", "RecoveryModel",
                  "BackupTypeDescription", "BackupSetGUID", "CompressedBackupSize", "IsCopyOnly", "BeginsLogChain"):
            if c not in cols:
                check("HEADERONLY has column %s" % c, False)
        _, _, sets = run("RESTORE FILELISTONLY FROM DISK = 'shop.bak' WITH FILE = 1")
        fcols, files = sets[0]
        fl = [dict(zip(fcols, r)) for r in files]
        check("FILELISTONLY: data and log files with their types",
              [(x["LogicalName"], x["Type"]) for x in fl] == [("shop", "D"), ("shop_log", "L")], fl)
        check("FILELISTONLY: SQL Server's columns",
              all(c in fcols for c in ("LogicalName", "PhysicalName", "Type", "FileGroupName", "Size", "MaxSize",
                                        "FileID", "CreateLSN", "UniqueID", "BackupSizeInBytes", "FileGroupID",
                                        "IsReadOnly", "IsPresent")))
        _, _, sets = run("RESTORE LABELONLY FROM DISK = 'shop.bak'")
        check("LABELONLY: one media family", sets and dict(zip(*[sets[0][0], sets[0][1][0]]))["FamilyCount"] == 1)
        err, text, _ = run("RESTORE VERIFYONLY FROM DISK = 'shop.bak' WITH FILE = 3")
        check("VERIFYONLY: 'The backup set on file 3 is valid.'", err == 0 and "file 3 is valid" in text, (err, text))

        # ---- restore sequence errors, then the chain to the end under a new name (MOVE) ----
        chain_rows = rows_of("shop")
        one("INSERT INTO shop.dbo.t VALUES (100, 'tail')")
        err, text, _ = run("RESTORE DATABASE shop FROM DISK = 'shop.bak' WITH FILE = 1")
        check("RESTORE over a database whose tail is not backed up: 3159", err == 3159, (err, text))
        check("... and the database is left as it was", len(rows_of("shop")) == 6)
        one("CREATE DATABASE other")
        err, text, _ = run("RESTORE DATABASE other FROM DISK = 'shop.bak' WITH FILE = 1")
        check("RESTORE a backup of another database over it: 3154", err == 3154, (err, text))
        mv = ("MOVE 'shop' TO 'shop_copy.mdf', MOVE 'shop_log' TO 'shop_copy_log.ldf'")
        err, text, _ = run("RESTORE DATABASE shop_copy FROM DISK = 'shop.bak' WITH FILE = 1, NORECOVERY, " + mv)
        check("RESTORE DATABASE ... NORECOVERY, MOVE", err == 0, (err, text))
        check("the copy is RESTORING in sys.databases",
              val("SELECT state_desc FROM sys.databases WHERE name = 'shop_copy'") == "RESTORING")
        err, text, _ = run("USE shop_copy")
        check("USE of a RESTORING database: 927", err == 927, (err, text))
        err, text, _ = run("RESTORE LOG shop_copy FROM DISK = 'shop.bak' WITH FILE = 3, NORECOVERY")
        check("a log backup that begins too late: 4305", err == 4305, (err, text))
        run("RESTORE LOG shop_copy FROM DISK = 'shop.bak' WITH FILE = 2, NORECOVERY")
        err, text, _ = run("RESTORE LOG shop_copy FROM DISK = 'shop.bak' WITH FILE = 2, NORECOVERY")
        check("a log backup already applied (too early): 4326", err == 4326, (err, text))
        run("RESTORE LOG shop_copy FROM DISK = 'shop.bak' WITH FILE = 3, NORECOVERY")
        err, text, _ = run("RESTORE LOG shop_copy FROM DISK = 'shop.bak' WITH FILE = 4, RECOVERY")
        check("last log WITH RECOVERY", err == 0, (err, text))
        check("restored to the end of the chain", rows_of("shop_copy") == chain_rows, rows_of("shop_copy"))
        files = sorted(os.listdir(os.path.join(srv.dir, "data", "data")))
        check("MOVE wrote the copy's files", "shop_copy.mdf" in files and "shop_copy_log.ldf" in files, files)
        paths = [r[0] for r in one("SELECT physical_name FROM sys.master_files WHERE database_id = DB_ID('shop_copy')")]
        check("sys.master_files shows the moved files", all("shop_copy" in p for p in paths) and len(paths) == 2, paths)

        # ---- exclusive access (3101): another session uses the database ----
        c2 = srv.connect(database="shop_copy")
        err, text, _ = run("RESTORE DATABASE shop_copy FROM DISK = 'shop.bak' WITH FILE = 1, REPLACE, " + mv)
        check("RESTORE while another session uses the database: 3101", err == 3101, (err, text))
        c2.close()
        time.sleep(0.2)

        # ---- msdb history ----
        bs = one("SELECT name, type, database_name, position, is_copy_only, recovery_model, first_lsn, last_lsn, "
                 "backup_start_date, backup_finish_date, has_backup_checksums FROM msdb.dbo.backupset "
                 "WHERE database_name = 'shop' ORDER BY backup_set_id")
        check("msdb.dbo.backupset: one row per backup set",
              [(r[0], r[1], r[3]) for r in bs] == [("shop full", "D", 1), ("log 1", "L", 2), ("log 2", "L", 3),
                                                   (None, "L", 4)], bs)
        check("msdb.dbo.backupset: LSNs match HEADERONLY", [(r[6], r[7]) for r in bs] ==
              [(x["FirstLSN"], x["LastLSN"]) for x in h])
        fam = one("SELECT f.physical_device_name, f.device_type FROM msdb.dbo.backupmediafamily f "
                  "JOIN msdb.dbo.backupset s ON s.media_set_id = f.media_set_id WHERE s.name = 'shop full'")
        check("msdb.dbo.backupmediafamily: the device", len(fam) == 1 and fam[0][0].endswith("/backup/shop.bak")
              and fam[0][1] == 2, fam)
        rh = one("SELECT destination_database_name, restore_type, recovery FROM msdb.dbo.restorehistory "
                 "WHERE destination_database_name = 'shop_copy' ORDER BY restore_history_id")
        check("msdb.dbo.restorehistory: the restore steps",
              [(r[1], bool(r[2])) for r in rh][:1] == [("D", False)] and rh[-1][1] == "L" and rh[-1][2], rh)

        # ---- truncation: FULL keeps the log for the next log backup, SIMPLE never ----
        one("CREATE DATABASE growf")
        one("CREATE TABLE growf.dbo.t (id int PRIMARY KEY, v varchar(2000))")
        run("BACKUP DATABASE growf TO DISK = 'growf.bak' WITH INIT")
        pad = "x" * 1900
        for i in range(0, 4000, 200):
            one("INSERT INTO growf.dbo.t SELECT %d + n, '%s' FROM (VALUES %s) v(n)" % (
                i, pad, ",".join("(%d)" % k for k in range(200))))
        run("USE growf; CHECKPOINT; USE master")
        w = val("SELECT log_reuse_wait_desc FROM sys.databases WHERE name = 'growf'")
        check("FULL after a full backup, log growing: LOG_BACKUP", w == "LOG_BACKUP", w)
        act = val("SELECT COUNT(*) FROM sys.dm_db_log_info(DB_ID('growf')) WHERE vlf_active = 1")
        run("BACKUP LOG growf TO DISK = 'growf.bak'")
        w = val("SELECT log_reuse_wait_desc FROM sys.databases WHERE name = 'growf'")
        act2 = val("SELECT COUNT(*) FROM sys.dm_db_log_info(DB_ID('growf')) WHERE vlf_active = 1")
        check("after BACKUP LOG: NOTHING, and VLFs were freed", w == "NOTHING" and act2 < act, (w, act, act2))
        one("ALTER DATABASE growf SET RECOVERY SIMPLE")
        check("sys.databases recovery_model_desc SIMPLE",
              one("SELECT recovery_model, recovery_model_desc FROM sys.databases WHERE name = 'growf'")[0] ==
              (3, "SIMPLE"))
        for i in range(4000, 8000, 200):
            one("INSERT INTO growf.dbo.t SELECT %d + n, '%s' FROM (VALUES %s) v(n)" % (
                i, pad, ",".join("(%d)" % k for k in range(200))))
        w = val("SELECT log_reuse_wait_desc FROM sys.databases WHERE name = 'growf'")
        check("SIMPLE never waits for LOG_BACKUP", w in ("NOTHING", "CHECKPOINT"), w)
        err, text, _ = run("BACKUP LOG growf TO DISK = 'growf.bak'")
        check("BACKUP LOG in SIMPLE: 4208", err == 4208, (err, text))
        one("ALTER DATABASE growf SET RECOVERY FULL")
        err, text, _ = run("BACKUP LOG growf TO DISK = 'growf.bak'")
        check("SIMPLE broke the chain: BACKUP LOG needs a new full backup (4214)", err == 4214, (err, text))

        # ---- a logical device; FILE = n on a multi-set media; COPY_ONLY ----
        one("EXEC sp_addumpdevice 'disk', 'shopdev', 'shopdev.bak'")
        check("sys.backup_devices lists the device",
              one("SELECT name, type_desc, physical_name FROM sys.backup_devices") == [("shopdev", "DISK", "shopdev.bak")])
        err, text, _ = run("EXEC sp_addumpdevice 'disk', 'SHOPDEV', 'x.bak'")
        check("a second device of that name: 15026", err == 15026, (err, text))
        err, text, _ = run("BACKUP DATABASE shop TO nodev")
        check("an unknown logical device: 3206", err == 3206, (err, text))
        run("BACKUP DATABASE shop TO shopdev WITH FORMAT, MEDIANAME = 'shopmedia'")
        one("INSERT INTO shop.dbo.t VALUES (6, 'six')")
        run("BACKUP DATABASE shop TO shopdev WITH COPY_ONLY, NAME = 'copy'")
        err, text, _ = run("BACKUP DATABASE shop TO shopdev WITH MEDIANAME = 'wrong'")
        check("NOSKIP with another MEDIANAME: 4037", err == 4037, (err, text))
        _, _, sets = run("RESTORE HEADERONLY FROM shopdev")
        hd = [dict(zip(sets[0][0], r)) for r in sets[0][1]]
        check("device media: 2 sets, the second COPY_ONLY, DeviceType 102",
              len(hd) == 2 and hd[1]["IsCopyOnly"] and not hd[0]["IsCopyOnly"] and hd[0]["DeviceType"] == 102, hd)
        err, text, _ = run("RESTORE DATABASE shop2 FROM shopdev WITH FILE = 2, "
                           "MOVE 'shop' TO 'shop2.mdf', MOVE 'shop_log' TO 'shop2_log.ldf'")
        check("RESTORE ... FROM device WITH FILE = 2", err == 0, (err, text))
        check("FILE = 2 restored the later set", len(rows_of("shop2")) == 7, rows_of("shop2"))
        # a differential on the device's first (non-copy-only) full backup
        one("INSERT INTO shop.dbo.t VALUES (7, 'seven')")
        err, text, _ = run("BACKUP DATABASE shop TO shopdev WITH DIFFERENTIAL, NAME = 'diff'")
        check("BACKUP DATABASE ... WITH DIFFERENTIAL", err == 0, (err, text))
        _, _, sets = run("RESTORE HEADERONLY FROM shopdev WITH FILE = 3")
        d3 = dict(zip(sets[0][0], sets[0][1][0])) if sets else {}
        check("HEADERONLY: Database Differential based on the full backup",
              d3.get("BackupType") == 5 and d3.get("BackupTypeDescription") == "Database Differential" and
              d3.get("DatabaseBackupLSN") == hd[0]["FirstLSN"], d3)
        err, text, _ = run("RESTORE DATABASE shop3 FROM shopdev WITH FILE = 1, NORECOVERY, "
                           "MOVE 'shop' TO 'shop3.mdf', MOVE 'shop_log' TO 'shop3_log.ldf'")
        err2, text2, _ = run("RESTORE DATABASE shop3 FROM shopdev WITH FILE = 3, RECOVERY")
        check("full + differential restored", err == 0 and err2 == 0 and len(rows_of("shop3")) == 8,
              (err, text, err2, text2))
        err, text, _ = run("RESTORE DATABASE shop3 FROM shopdev WITH FILE = 7")
        check("FILE = 7 on a media with 3 sets: 4038", err == 4038, (err, text))
        one("EXEC sp_dropdevice 'shopdev'")
        check("sp_dropdevice removes it", val("SELECT COUNT(*) FROM sys.backup_devices") == 0)

        # ---- a corrupted media byte: VERIFYONLY finds it, RESTORE refuses, the database is untouched ----
        run("BACKUP DATABASE shop2 TO DISK = 'bad.bak' WITH INIT, CHECKSUM")
        path = os.path.join(srv.dir, "data", "backup", "bad.bak")
        size = os.path.getsize(path)
        with open(path, "r+b") as f:
            f.seek(size // 2)
            b = f.read(1)
            f.seek(size // 2)
            f.write(bytes([b[0] ^ 0x5A]))
        err, text, _ = run("RESTORE VERIFYONLY FROM DISK = 'bad.bak'")
        check("VERIFYONLY detects the flipped byte", err in (3189, 3183, 3013), (err, text))
        one("INSERT INTO shop2.dbo.t VALUES (7, 'seven')")
        before = rows_of("shop2")
        err, text, _ = run("RESTORE DATABASE shop2 FROM DISK = 'bad.bak' WITH REPLACE")
        check("RESTORE of the damaged set is refused", err in (3189, 3183, 3013), (err, text))
        check("... and the database is left untouched", rows_of("shop2") == before and
              val("SELECT state_desc FROM sys.databases WHERE name = 'shop2'") == "ONLINE")

        # ---- misuse ----
        err, text, _ = run("BEGIN TRAN; BACKUP DATABASE shop TO DISK = 'x.bak'")
        run("IF @@TRANCOUNT > 0 ROLLBACK")
        check("BACKUP inside a transaction: 3021", err == 3021, (err, text))
        err, text, _ = run("BACKUP DATABASE nosuchdb TO DISK = 'x.bak'")
        check("BACKUP of a missing database: 911", err == 911, (err, text))
        err, text, _ = run("BACKUP DATABASE shop TO DISK = 'x.bak' WITH PASSWORD = 'p'")
        check("an option not implemented says so (40027)", err == 40027 and "not supported" in text, (err, text))

        # ---- everything survives a restart ----
        conn.close()
        srv.stop()
        srv.start()
        conn = srv.connect()
        cur = conn.cursor()
        check("after restart: shop_copy still holds the chain's rows", len(rows_of("shop_copy")) == 5)
        check("after restart: msdb history kept",
              val("SELECT COUNT(*) FROM msdb.dbo.backupset WHERE database_name = 'shop'") >= 6)
        err, text, _ = run("BACKUP LOG shop TO DISK = 'shop.bak'")
        check("after restart: the log chain still allows BACKUP LOG", err == 0, (err, text))
    except Exception as e:
        check("unexpected exception", False, repr(e))
    finally:
        srv.cleanup()
    failed = sum(1 for r in results if not r)
    print("%d checks, %d failed" % (len(results), failed))
    return failed


if __name__ == "__main__":
    sys.exit(1 if main() else 0)
