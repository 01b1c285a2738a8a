#!/usr/bin/python3
"""RESTORE ... WITH MOVE of every file of a database that has secondary data
files (ALTER DATABASE ADD FILEGROUP / ADD FILE), through a real client.

The source has a table on a second filegroup (its own file) and one more
file in PRIMARY. A full backup, then a change to the boot page (CREATE TABLE:
its first change after the backup's checkpoint logs a full image of the page,
which lists the source's paths) and a log backup. The copy is restored WITH
MOVE of every file, NORECOVERY, then the log WITH RECOVERY. Checked after the
restore, after a clean restart and after SIGKILL: the copy's data,
sys.master_files naming the copy's own files (and the source's its own),
both databases changing independently, the copy opening after the source is
dropped (and its files deleted). A file added after the full backup is placed
by RESTORE LOG ... WITH MOVE (refused with 1834 without it while the source
has the file).

pymssql raises the first message of a batch even when it is informational
(severity 10), so run() treats those numbers as success."""
import os, sys

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
            try:
                cur.execute(sql)
                sets = []
                while True:
                    if cur.description:
                        sets.append(cur.fetchall())
                    if not cur.nextset():
                        break
                return 0, "", sets
            except pymssql.Error as e:
                num = e.args[0] if e.args and isinstance(e.args[0], int) else -1
                text = e.args[1].decode(errors="replace") if len(e.args) > 1 and isinstance(e.args[1], bytes) else str(e)
                return (0 if num in INFO else num), text, []

        def one(sql):
            err, text, sets = run(sql)
            if err:
                raise RuntimeError("%s -> %d %s" % (sql, err, text))
            return sets[0] if sets else []

        data = os.path.join(srv.dir, "data", "data")

        def files(db):
            """{logical name: physical name} of the data files in sys.master_files."""
            return {r[0]: r[1] for r in one(
                "SELECT f.name, f.physical_name FROM sys.master_files f JOIN sys.databases d "
                "ON d.database_id = f.database_id WHERE d.name = '%s' AND f.type = 0" % db)}

        def content(db):
            return (one("SELECT COUNT(*), SUM(v) FROM %s.dbo.t" % db)[0],
                    one("SELECT COUNT(*), SUM(v) FROM %s.dbo.p" % db)[0])

        # ---- the source: three data files, two filegroups ----
        one("CREATE DATABASE mvsrc")
        one("ALTER DATABASE mvsrc ADD FILEGROUP archive")
        one("ALTER DATABASE mvsrc ADD FILE (NAME = mvsrc_arch, FILENAME = 'mvsrc_arch.ndf', SIZE = 1MB, "
            "FILEGROWTH = 1MB) TO FILEGROUP archive")
        one("ALTER DATABASE mvsrc ADD FILE (NAME = mvsrc_more, FILENAME = 'mvsrc_more.ndf', SIZE = 512KB)")
        err, text, _ = run("ALTER DATABASE mvsrc ADD FILE (NAME = mvsrc_arch, FILENAME = 'other.ndf')")
        check("ADD FILE with a logical name in use: 1828", err == 1828, (err, text))
        err, text, _ = run("ALTER DATABASE mvsrc ADD FILE (NAME = x2, FILENAME = 'mvsrc_arch.ndf')")
        check("ADD FILE onto an existing file: 5170", err == 5170, (err, text))
        err, text, _ = run("ALTER DATABASE mvsrc ADD FILE (NAME = x3, FILENAME = 'x3.ndf') TO FILEGROUP nosuch")
        check("ADD FILE to a missing filegroup: 5035", err == 5035, (err, text))
        src_files = files("mvsrc")
        check("sys.master_files lists the added files",
              src_files.get("mvsrc_arch") == os.path.join(data, "mvsrc_arch.ndf")
              and src_files.get("mvsrc_more") == os.path.join(data, "mvsrc_more.ndf") and len(src_files) == 3,
              src_files)
        one("CREATE TABLE mvsrc.dbo.t (id int PRIMARY KEY, v int, pad varchar(400)) ON archive")
        one("CREATE TABLE mvsrc.dbo.p (id int PRIMARY KEY, v int, pad varchar(400))")
        for k in range(8):
            one("INSERT INTO mvsrc.dbo.t VALUES " + ", ".join("(%d, 1, REPLICATE('a', 300))" % (k * 100 + i)
                                                             for i in range(100)))
        one("INSERT INTO mvsrc.dbo.p VALUES " + ", ".join("(%d, 2, 'p')" % i for i in range(50)))
        err, text, _ = run("BACKUP DATABASE mvsrc TO DISK = 'mv.bak' WITH INIT")
        check("BACKUP DATABASE of the three-file database", err == 0, (err, text))
        one("CREATE TABLE mvsrc.dbo.later (id int)")   # the boot page, logged in full
        one("INSERT INTO mvsrc.dbo.t VALUES " + ", ".join("(%d, 3, 'late')" % (5000 + i) for i in range(40)))
        one("UPDATE mvsrc.dbo.p SET v = v + 1 WHERE id < 10")
        err, text, _ = run("BACKUP LOG mvsrc TO DISK = 'mv.bak'")
        check("BACKUP LOG", err == 0, (err, text))
        src = content("mvsrc")

        fl = one("RESTORE FILELISTONLY FROM DISK = 'mv.bak' WITH FILE = 1")
        names = sorted(r[0] for r in fl)
        check("FILELISTONLY: four files", names == ["mvsrc", "mvsrc_arch", "mvsrc_log", "mvsrc_more"], names)

        # ---- the copy: every file moved ----
        mv = ("MOVE 'mvsrc' TO 'mvcopy.mdf', MOVE 'mvsrc_arch' TO 'mvcopy_arch.ndf', "
              "MOVE 'mvsrc_more' TO 'mvcopy_more.ndf', MOVE 'mvsrc_log' TO 'mvcopy_log.ldf'")
        err, text, _ = run("RESTORE DATABASE mvcopy FROM DISK = 'mv.bak' WITH FILE = 1, NORECOVERY, " + mv)
        check("RESTORE DATABASE ... NORECOVERY, MOVE of every file", err == 0, (err, text))
        want = {"mvsrc": os.path.join(data, "mvcopy.mdf"), "mvsrc_arch": os.path.join(data, "mvcopy_arch.ndf"),
                "mvsrc_more": os.path.join(data, "mvcopy_more.ndf")}
        check("RESTORING: sys.master_files names the new paths", files("mvcopy") == want, files("mvcopy"))
        err, text, _ = run("RESTORE LOG mvcopy FROM DISK = 'mv.bak' WITH FILE = 2, RECOVERY")
        check("RESTORE LOG ... RECOVERY", err == 0, (err, text))
        check("restored: the source's data", content("mvcopy") == src, (content("mvcopy"), src))
        check("restored: sys.master_files names the copy's files", files("mvcopy") == want, files("mvcopy"))
        check("restored: the source keeps its own files", files("mvsrc") == src_files, files("mvsrc"))
        log_path = one("SELECT physical_name FROM sys.master_files WHERE database_id = DB_ID('mvcopy') "
                       "AND type = 1")[0][0]
        check("the log is where MOVE put it", log_path == os.path.join(data, "mvcopy_log.ldf"), log_path)

        # ---- a file added after the full backup: RESTORE LOG ... MOVE places it ----
        one("ALTER DATABASE mvsrc ADD FILEGROUP late")
        one("ALTER DATABASE mvsrc ADD FILE (NAME = mvsrc_late, FILENAME = 'mvsrc_late.ndf') TO FILEGROUP late")
        one("CREATE TABLE mvsrc.dbo.l (id int PRIMARY KEY, v int) ON late")
        one("INSERT INTO mvsrc.dbo.l VALUES " + ", ".join("(%d, 5)" % i for i in range(60)))
        err, text, _ = run("BACKUP LOG mvsrc TO DISK = 'mv.bak'")
        check("BACKUP LOG holding the ADD FILE", err == 0, (err, text))
        src_files = files("mvsrc")
        mv2 = mv.replace("mvcopy", "mvcopy2")
        run("RESTORE DATABASE mvcopy2 FROM DISK = 'mv.bak' WITH FILE = 1, NORECOVERY, " + mv2)
        err, text, _ = run("RESTORE LOG mvcopy2 FROM DISK = 'mv.bak' WITH FILE = 2, NORECOVERY")
        check("second copy: full and log 1 NORECOVERY", err == 0, (err, text))
        err, text, _ = run("RESTORE LOG mvcopy2 FROM DISK = 'mv.bak' WITH FILE = 3, RECOVERY")
        check("log 3 would put the added file on the source's: 1834", err == 1834, (err, text))
        st = one("SELECT state_desc FROM sys.databases WHERE name = 'mvcopy2'")[0][0]
        check("... and nothing is done: still RESTORING", st == "RESTORING", st)
        err, text, _ = run("RESTORE LOG mvcopy2 FROM DISK = 'mv.bak' WITH FILE = 3, RECOVERY, "
                           "MOVE 'mvsrc_late' TO 'mvcopy2_late.ndf'")
        check("RESTORE LOG ... MOVE of the file it adds", err == 0, (err, text))
        want2 = {k: v.replace("mvcopy", "mvcopy2") for k, v in want.items()}
        want2["mvsrc_late"] = os.path.join(data, "mvcopy2_late.ndf")
        check("sys.master_files: the added file where MOVE put it", files("mvcopy2") == want2, files("mvcopy2"))
        lrows = one("SELECT COUNT(*), SUM(v) FROM mvcopy2.dbo.l")[0]
        check("its table's rows", tuple(lrows) == (60, 300), lrows)

        # both go on independently; the copy's pages (its boot page too) reach the disk
        one("INSERT INTO mvcopy.dbo.t VALUES " + ", ".join("(%d, 7, 'copy')" % (9000 + i) for i in range(30)))
        one("INSERT INTO mvsrc.dbo.t VALUES (8000, 100, 'src only')")
        one("USE mvcopy")
        one("CHECKPOINT")
        one("USE master")
        copy = content("mvcopy")
        src = content("mvsrc")
        check("the copy's new rows live in the copy only", copy[0][0] == src[0][0] - 1 + 30, (copy, src))

        for how in ("clean", "SIGKILL"):
            conn.close()
            if how == "clean":
                srv.stop()
            else:
                srv.kill()
            srv.start()
            conn = srv.connect()
            cur = conn.cursor()
            st = one("SELECT name, state_desc FROM sys.databases WHERE name LIKE 'mv%' ORDER BY name")
            check("%s restart: all ONLINE" % how, [tuple(r) for r in st] ==
                  [("mvcopy", "ONLINE"), ("mvcopy2", "ONLINE"), ("mvsrc", "ONLINE")], st)
            check("%s restart: the copy's data" % how, content("mvcopy") == copy, (content("mvcopy"), copy))
            check("%s restart: the source's data" % how, content("mvsrc") == src, (content("mvsrc"), src))
            check("%s restart: sys.master_files, copy" % how, files("mvcopy") == want, files("mvcopy"))
            check("%s restart: sys.master_files, source" % how, files("mvsrc") == src_files, files("mvsrc"))
            check("%s restart: sys.master_files, second copy" % how, files("mvcopy2") == want2, files("mvcopy2"))
            lrows = one("SELECT COUNT(*), SUM(v) FROM mvcopy2.dbo.l")[0]
            check("%s restart: the second copy's added file" % how, tuple(lrows) == (60, 300), lrows)
            one("INSERT INTO mvcopy.dbo.t VALUES (%d, 1, 'after %s')" % (9500 + len(how), how))
            copy = content("mvcopy")

        # the source dropped with its files: the copy does not need them
        one("DROP DATABASE mvsrc")
        gone = [p for p in src_files.values() if os.path.exists(p)]
        check("DROP DATABASE removes the secondary files too", gone == [], gone)
        conn.close()
        srv.kill()
        srv.start()
        conn = srv.connect()
        cur = conn.cursor()
        check("the copy opens without the source's files", content("mvcopy") == copy, (content("mvcopy"), copy))
        check("and still names its own files", files("mvcopy") == want, files("mvcopy"))
        missing = [p for p in want.values() if not os.path.exists(p)]
        check("the copy's files exist", missing == [], missing)
    except Exception as e:
        check("unexpected exception", False, repr(e))
    finally:
        srv.cleanup()
    failed = sum(1 for r in results if not r)
    print("%d checks, %d failed" % (len(results), failed))
    return failed


if __name__ == "__main__":
    sys.exit(1 if main() else 0)
