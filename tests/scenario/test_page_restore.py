#!/usr/bin/python3
"""Online page restore through a real client (pymssql), as a DBA would run it:

- A FULL-recovery database with a full backup and two log backups; a
  committed change after the last of them; then an uncommitted transaction
  (DDL and updates of rows on one data page) whose pages a CHECKPOINT writes;
  the server is killed and that page is damaged on disk (found with
  sys.fn_PhysLocFormatter(%%physloc%%): page n lies at n * 8192). At restart
  undo cannot read it: the transaction is deferred (its rows and CREATE TABLE
  stay locked), a read of another row of that page fails with 824, and
  msdb.dbo.suspect_pages lists the page (event_type 2).
- RESTORE DATABASE ... PAGE = 'f:p' FROM the full backup WITH NORECOVERY,
  the two log backups, BACKUP LOG of the tail, RESTORE LOG ... WITH RECOVERY,
  while another connection keeps reading and writing other rows of the same
  table and another table without a single error; mid-sequence the page
  answers 829 and the connection stays usable; the log backups out of order
  (4305, 4326) and a RECOVERY that would not reach the redo target (4326,
  the page still pending) are refused.
- Afterwards: every committed change (log backups and tail) is there, the
  deferred transaction is rolled back and its locks are gone without a
  restart, suspect_pages says event_type 4 (restored), and the database
  survives a restart.
- Refusals: SIMPLE recovery (4346), control pages 1:0, 1:1 and the boot page
  1:2 (3111), a page past the end of the file (3194), more than 1000 pages
  (3105), a backup of another database (3154), a second sequence while one
  runs (3013).
- A second sequence for a page that is fine, from a logical backup device
  with FILE = n, leaves the data as it was.

pymssql raises the first message of a batch even when it is informational
(4035 "Processed n pages ...", 3014, 4339), so run() treats those as success."""
import os
import re
import sys
import threading
import time

import pymssql

from hadr import Server, run_sets

INFO = {3211, 4035, 3014, 4339, 3192}


def main():
    srv = Server().start()
    results = []

    def check(name, cond, detail=""):
        results.append(bool(cond))
        print("%-72s %s%s" % (name, "ok" if cond else "FAILED", "" if cond else "  " + str(detail)))

    state = {}

    def connect():
        state["conn"] = srv.connect()
        state["cur"] = state["conn"].cursor()

    def run(sql, cur=None):
        """(error number or 0, message text, result sets)."""
        num, text, sets = run_sets(cur or state["cur"], sql, INFO)
        if num in (823, 824, 20017, 20047):
            connect()   # severity 24 ends the connection, as in SQL Server
        return num, text, sets

    def one(sql):
        err, text, sets = run(sql)
        if err:
            raise RuntimeError("%s -> %d %s" % (sql, err, text))
        return sets[0] if sets else []

    def val(sql):
        return one(sql)[0][0]

    def suspect_event(dbid, f, p, want, timeout=15):
        deadline = time.time() + timeout
        row = None
        while time.time() < deadline:
            rows = one("SELECT event_type FROM msdb.dbo.suspect_pages WHERE database_id = %d AND file_id = %d "
                       "AND page_id = %d" % (dbid, f, p))
            row = rows[0][0] if rows else None
            if row == want:
                break
            time.sleep(0.1)
        return row

    def rows_of_t():
        return dict(one("SELECT id, v FROM pr.dbo.t WHERE id < 5000"))

    try:
        connect()
        # ---- a database in FULL recovery, a full backup and two log backups ----
        for sql in ["CREATE DATABASE pr", "ALTER DATABASE pr SET RECOVERY FULL",
                    "CREATE TABLE pr.dbo.t (id int PRIMARY KEY, v int NOT NULL, pad char(200) NOT NULL)",
                    "CREATE TABLE pr.dbo.other (id int PRIMARY KEY, v int NOT NULL)"]:
            one(sql)
        for i in range(0, 600, 100):
            one("INSERT INTO pr.dbo.t VALUES " + ", ".join("(%d, %d, 'x')" % (j, j) for j in range(i, i + 100)))
        one("INSERT INTO pr.dbo.other VALUES " + ", ".join("(%d, 0)" % j for j in range(100)))
        dbid = val("SELECT DB_ID('pr')")
        path = val("SELECT physical_name FROM sys.master_files WHERE database_id = DB_ID('pr') AND file_id = 1")
        err, text, _ = run("BACKUP DATABASE pr TO DISK = 'pr_full.bak' WITH INIT")
        check("BACKUP DATABASE", err == 0, (err, text))

        # the page holding row 300, and the other rows on it
        placed = one("SELECT id, sys.fn_PhysLocFormatter(%%physloc%%) FROM pr.dbo.t")
        where = {i: tuple(int(x) for x in re.findall(r"\d+", loc)[:2]) for i, loc in placed}
        fno, page = where[300]
        on_page = sorted(i for i, fp in where.items() if fp == (fno, page))
        check("row 300 lies on page %d:%d with %d other rows" % (fno, page, len(on_page) - 1),
              len(on_page) >= 6 and page > 2, on_page)
        probe, loser_rows, tail_row = on_page[0], on_page[2:4], on_page[-1]

        one("UPDATE pr.dbo.t SET v = v + 1000 WHERE id BETWEEN %d AND %d" % (on_page[0], on_page[-1]))
        err, text, _ = run("BACKUP LOG pr TO DISK = 'pr_log1.trn' WITH INIT")
        check("BACKUP LOG 1", err == 0, (err, text))
        one("UPDATE pr.dbo.t SET v = v + 2000 WHERE id BETWEEN %d AND %d" % (on_page[1], on_page[-2]))
        one("UPDATE pr.dbo.other SET v = 1")
        err, text, _ = run("BACKUP LOG pr TO DISK = 'pr_log2.trn' WITH INIT")
        check("BACKUP LOG 2", err == 0, (err, text))
        one("UPDATE pr.dbo.t SET v = 777777 WHERE id = %d" % tail_row)   # only in the tail
        expected = rows_of_t()

        # ---- the loser: DDL and updates of rows of that page; a crash ----
        loser = srv.connect(autocommit=False)
        lcur = loser.cursor()
        lcur.execute("CREATE TABLE pr.dbo.made_by_loser (id int)")
        lcur.execute("UPDATE pr.dbo.t SET v = -1 WHERE id IN (%d, %d)" % tuple(loser_rows))
        one("USE pr; CHECKPOINT; USE master")
        state["conn"].close()
        srv.kill()
        with open(path, "r+b") as fh:
            fh.seek(page * 8192 + 4000)
            fh.write(b"\xde\xad" * 200)
        srv.start()
        connect()
        check("database ONLINE after the restart",
              one("SELECT state_desc FROM sys.databases WHERE name = 'pr'") == [("ONLINE",)])
        log = srv.errorlog()
        check("the loser is deferred (3401), naming the page",
              "(3401)" in log and ("%d:%d" % (fno, page)) in log, log[-500:])
        err, _, _ = run("SET LOCK_TIMEOUT 300; SELECT v FROM pr.dbo.t WHERE id = %d" % loser_rows[0])
        check("its rows stay locked (1222)", err == 1222, err)
        run("SET LOCK_TIMEOUT -1")
        err, text, _ = run("SELECT v FROM pr.dbo.t WHERE id = %d" % probe)
        check("another row of that page: 824", err == 824 and "(%d:%d)" % (fno, page) in text, (err, text))
        check("suspect_pages lists the page (bad checksum, event_type 2)", suspect_event(dbid, fno, page, 2) == 2)

        # ---- refusals before the sequence ----
        one("CREATE DATABASE simp")
        one("ALTER DATABASE simp SET RECOVERY SIMPLE")
        one("BACKUP DATABASE simp TO DISK = 'simp.bak' WITH INIT")
        for pages, dev, want, what in [
                ("1:10", "simp.bak", 4346, "SIMPLE recovery model: 4346"),
                ("1:0", "pr_full.bak", 3111, "page 0 of the file: 3111"),
                ("1:1", "pr_full.bak", 3111, "the allocation bitmap 1:1: 3111"),
                ("1:2", "pr_full.bak", 3111, "the boot page 1:2: 3111"),
                ("1:99999999", "pr_full.bak", 3194, "past the end of the file: 3194"),
                (",".join("1:%d" % (10 + i) for i in range(1001)), "pr_full.bak", 3105, "1001 pages: 3105"),
                ("%d:%d" % (fno, page), "simp.bak", 3154, "a backup of another database: 3154")]:
            db = "simp" if want == 4346 else "pr"
            err, text, _ = run("RESTORE DATABASE %s PAGE = '%s' FROM DISK = '%s' WITH NORECOVERY" % (db, pages, dev))
            check("refused: " + what, err == want, (err, text[:200]))

        # ---- the sequence, with another connection working all along ----
        stop = threading.Event()
        work = {"ops": 0, "inserted": 0, "errors": []}

        def worker():
            c = srv.connect()
            cur = c.cursor()
            k = 0
            while not stop.is_set():
                k += 1
                try:
                    cur.execute("INSERT INTO pr.dbo.t VALUES (%d, %d, 'w')" % (5000 + k, k))
                    work["inserted"] += 1
                    cur.execute("UPDATE pr.dbo.other SET v = v + 1 WHERE id = %d" % (k % 100))
                    cur.execute("UPDATE pr.dbo.t SET v = v + 1 WHERE id = 10")
                    cur.execute("SELECT SUM(v) FROM pr.dbo.other")
                    cur.fetchall()
                    cur.execute("SELECT v FROM pr.dbo.t WHERE id = %d" % (590 - k % 50))
                    cur.fetchall()
                    work["ops"] += 1
                except pymssql.Error as e:
                    work["errors"].append(e.args[:2])
                    c = srv.connect()
                    cur = c.cursor()
                time.sleep(0.005)
            c.close()

        th = threading.Thread(target=worker)
        th.start()
        time.sleep(0.3)
        err, text, _ = run("RESTORE DATABASE pr PAGE = '%d:%d' FROM DISK = 'pr_full.bak' WITH NORECOVERY"
                           % (fno, page))
        check("RESTORE DATABASE ... PAGE ... WITH NORECOVERY (4035)",
              err == 0 and "Processed 1 pages for database 'pr'" in text, (err, text))
        err, text, _ = run("SELECT v FROM pr.dbo.t WHERE id = %d" % probe)
        check("mid-sequence the page answers 829 (RestorePending)",
              err == 829 and "RestorePending" in text and "(%d:%d)" % (fno, page) in text, (err, text))
        check("... and the connection stays usable", run("SELECT 42")[2] == [[(42,)]])
        check("... other rows of that table read", val("SELECT v FROM pr.dbo.t WHERE id = 100") == 100)
        check("state_desc stays ONLINE", one("SELECT state_desc FROM sys.databases WHERE name = 'pr'") == [("ONLINE",)])
        # (pymssql shows the last message's text, 3013 "... terminating abnormally.";
        # the unit test checks the first one's words)
        err, text, _ = run("RESTORE DATABASE pr PAGE = '1:5' FROM DISK = 'pr_full.bak' WITH NORECOVERY")
        check("a second sequence while one runs: refused (3013)", err == 3013, (err, text))
        err, text, _ = run("RESTORE LOG pr FROM DISK = 'pr_log2.trn' WITH NORECOVERY")
        check("log 2 before log 1: too recent (4305)", err == 4305, (err, text))
        err, text, _ = run("RESTORE LOG pr FROM DISK = 'pr_log1.trn' WITH RECOVERY")
        check("log 1 WITH RECOVERY: does not reach the redo target (4326)", err == 4326, (err, text))
        err, _, _ = run("SELECT v FROM pr.dbo.t WHERE id = %d" % probe)
        check("... the page still pending (829)", err == 829, err)
        err, text, _ = run("RESTORE LOG pr FROM DISK = 'pr_log1.trn' WITH NORECOVERY")
        check("RESTORE LOG log 1 WITH NORECOVERY", err == 0 and "Processed" in text, (err, text))
        err, text, _ = run("RESTORE LOG pr FROM DISK = 'pr_log1.trn' WITH NORECOVERY")
        check("log 1 again: too early (4326)", err == 4326, (err, text))
        err, text, _ = run("RESTORE LOG pr FROM DISK = 'pr_log2.trn' WITH NORECOVERY")
        check("RESTORE LOG log 2 WITH NORECOVERY", err == 0, (err, text))
        err, text, _ = run("RESTORE DATABASE pr WITH RECOVERY")
        check("RESTORE DATABASE pr WITH RECOVERY before the tail: 4326", err == 4326, (err, text))
        err, text, _ = run("BACKUP LOG pr TO DISK = 'pr_tail.trn' WITH INIT")
        check("BACKUP LOG of the tail, taken now", err == 0, (err, text))
        err, text, _ = run("RESTORE LOG pr FROM DISK = 'pr_tail.trn' WITH RECOVERY")
        check("RESTORE LOG tail WITH RECOVERY", err == 0, (err, text))
        time.sleep(0.3)
        stop.set()
        th.join()
        check("the other connection worked all along without an error (%d rounds)" % work["ops"],
              work["ops"] > 10 and not work["errors"], work["errors"][:3])

        # ---- afterwards ----
        err, text, _ = run("SELECT v FROM pr.dbo.t WHERE id = %d" % probe)
        check("the page reads again", err == 0, (err, text))
        now = rows_of_t()
        expected[10] = now.get(10)   # the worker's own updates
        check("every committed change is there (log backups and tail)", now == expected,
              sorted((k, expected.get(k), now.get(k)) for k in set(now) | set(expected)
                     if now.get(k) != expected.get(k))[:6])
        check("... including the one only the tail had", now.get(tail_row) == 777777, now.get(tail_row))
        check("the worker's rows are all there",
              val("SELECT COUNT(*) FROM pr.dbo.t WHERE id > 5000") == work["inserted"])
        check("the deferred transaction is gone (rolled back)",
              one("SELECT COUNT(*) FROM sys.dm_tran_active_transactions WHERE name = 'deferred'") == [(0,)])
        err, _, sets = run("SET LOCK_TIMEOUT 300; SELECT v FROM pr.dbo.t WHERE id = %d" % loser_rows[0])
        check("its rows are unlocked, its changes undone",
              err == 0 and sets and sets[0][0][0] == expected[loser_rows[0]], (err, sets))
        err, _, _ = run("SET LOCK_TIMEOUT 300; CREATE TABLE pr.dbo.someone_else (id int)")
        check("CREATE TABLE works again, the loser's table is gone",
              err == 0 and one("SELECT COUNT(*) FROM pr.sys.tables WHERE name = 'made_by_loser'") == [(0,)], err)
        run("SET LOCK_TIMEOUT -1")
        check("suspect_pages: event_type 4 (restored)", suspect_event(dbid, fno, page, 4) == 4)
        log = srv.errorlog()
        check("the error log tells the sequence", "Page restore of database 'pr' began" in log and
              "Page restore of database 'pr' finished" in log, log[-400:])
        one("UPDATE pr.dbo.t SET v = 5 WHERE id = %d" % probe)
        expected = rows_of_t()

        # ---- a second sequence: a page that is fine, from a logical device, FILE = n ----
        one("EXEC sp_addumpdevice 'disk', 'prdev', 'prdev.bak'")
        one("BACKUP DATABASE pr TO prdev WITH INIT")
        one("UPDATE pr.dbo.t SET v = v + 1 WHERE id = %d" % probe)
        one("BACKUP LOG pr TO prdev")
        good = where[100]
        err, text, _ = run("RESTORE DATABASE pr PAGE = '%d:%d' FROM prdev WITH FILE = 1, NORECOVERY" % good)
        check("PAGE restore FROM a logical device WITH FILE = 1", err == 0, (err, text))
        err, _, _ = run("SELECT v FROM pr.dbo.t WHERE id = 100")
        check("... that page answers 829 meanwhile", err == 829, err)
        err, text, _ = run("RESTORE LOG pr FROM prdev WITH FILE = 2, NORECOVERY")
        check("... RESTORE LOG FROM prdev WITH FILE = 2", err == 0, (err, text))
        one("BACKUP LOG pr TO prdev")
        err, text, _ = run("RESTORE LOG pr FROM prdev WITH FILE = 3, RECOVERY")
        check("... the tail FROM prdev WITH FILE = 3, RECOVERY", err == 0, (err, text))
        expected[probe] += 1
        check("... the data as it was", rows_of_t() == expected)

        # ---- a restart keeps it all ----
        state["conn"].close()
        srv.stop()
        srv.start()
        connect()
        check("after a restart: every row as before", rows_of_t() == expected)
        check("... and DBCC CHECKDB finds nothing",
              run("DBCC CHECKDB ('pr') WITH NO_INFOMSGS")[0] == 0)
    finally:
        srv.cleanup()
    ok = all(results)
    print("test_page_restore: %s (%d checks)" % ("ok" if ok else "FAILED", len(results)))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
