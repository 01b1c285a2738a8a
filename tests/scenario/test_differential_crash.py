#!/usr/bin/python3
"""Differential backups across real crashes: hadrd is SIGKILLed after rows
changed (once right after the full backup, once with a checkpoint between two
changes); after the restarts a differential holds every change and full +
differential restored under new names equals the database row for row. A
COPY_ONLY full backup in between does not make the next differential lose
what changed before it. (That the differential reads only the changed
extents is checked by tests/unit/backup/test_differential.c, which sees the
pages read.)

pymssql raises the first message of a batch even when it is informational
("Processed n pages ...", as SQL Server sends them), so run() treats those
numbers as success."""
import sys

import pymssql

from hadr import Server

INFO = {3211, 4035, 3014, 3262, 4322, 4329, 5701}
ROWS = 20000


def main():
    srv = Server().start()
    results = []

    def check(name, cond, detail=""):
        results.append(bool(cond))
        print("%-64s %s%s" % (name, "ok" if cond else "FAILED", "" if cond else "  " + str(detail)))

    def run(sql, database="master"):
        c = srv.connect(database=database)
        cur = c.cursor()
        try:
            cur.execute(sql)
            rows = cur.fetchall() if cur.description else []
            return 0, rows
        except pymssql.Error as e:
            num = e.args[0] if e.args and isinstance(e.args[0], int) else -1
            return (0 if num in INFO else num), e.args
        finally:
            c.close()

    def must(sql, database="master"):
        err, rows = run(sql, database)
        if err:
            raise RuntimeError("%s -> %r" % (sql, rows))
        return rows

    def rows_of(db):
        return must("SELECT id, val FROM t ORDER BY id", db)

    def set_size(name):
        """Data pages the set holds (msdb.dbo.backupfile, type D)."""
        return must("SELECT SUM(f.backed_up_page_count) FROM msdb.dbo.backupfile f JOIN msdb.dbo.backupset s "
                    "ON s.backup_set_id = f.backup_set_id WHERE s.name = '%s' AND f.file_type = 'D'" % name)[0][0]

    try:
        must("CREATE DATABASE dc")
        must("CREATE TABLE t (id int PRIMARY KEY, val bigint NOT NULL, pad varchar(400))", "dc")
        pad = "p" * 390
        for k in range(0, ROWS, 500):
            must("INSERT INTO t VALUES " + ",".join("(%d, 1, '%s')" % (i, pad) for i in range(k, k + 500)), "dc")
        must("BACKUP DATABASE dc TO DISK = 'dc_full.bak' WITH INIT, NAME = 'dc full'")

        # a crash right after the full backup, before any checkpoint
        must("UPDATE t SET val = 2 WHERE id BETWEEN 5000 AND 5199", "dc")
        srv.kill()
        srv.start()
        # a checkpoint between two changes, then a crash
        must("UPDATE t SET val = 3 WHERE id BETWEEN 11000 AND 11099", "dc")
        must("CHECKPOINT", "dc")
        must("UPDATE t SET val = 4 WHERE id BETWEEN 17000 AND 17099", "dc")
        srv.kill()
        srv.start()
        want = rows_of("dc")
        check("the changes survived the crashes",
              sum(1 for r in want if r[1] != 1) == 400 and len(want) == ROWS)
        must("BACKUP DATABASE dc TO DISK = 'dc_diff.bak' WITH DIFFERENTIAL, INIT, NAME = 'dc diff 1'")
        full, diff = set_size("dc full"), set_size("dc diff 1")
        check("the differential holds a small part of the pages", diff * 10 < full, (diff, full))

        must("RESTORE DATABASE dc2 FROM DISK = 'dc_full.bak' WITH NORECOVERY, "
             "MOVE 'dc' TO 'dc2.mdf', MOVE 'dc_log' TO 'dc2_log.ldf'")
        must("RESTORE DATABASE dc2 FROM DISK = 'dc_diff.bak' WITH RECOVERY")
        check("full + differential after two crashes: every row", rows_of("dc2") == want)

        # COPY_ONLY in between, then a crash: the next differential keeps it all
        must("BACKUP DATABASE dc TO DISK = 'dc_copy.bak' WITH INIT, COPY_ONLY, NAME = 'dc copy'")
        must("UPDATE t SET val = 5 WHERE id BETWEEN 19000 AND 19049", "dc")
        srv.kill()
        srv.start()
        want = rows_of("dc")
        must("BACKUP DATABASE dc TO DISK = 'dc_diff.bak' WITH DIFFERENTIAL, NOINIT, NAME = 'dc diff 2'")
        diff2 = set_size("dc diff 2")
        check("after COPY_ONLY the differential still holds the earlier changes", diff2 >= diff, (diff2, diff))
        check("... and is still small", diff2 * 10 < full, (diff2, full))
        must("RESTORE DATABASE dc3 FROM DISK = 'dc_full.bak' WITH NORECOVERY, "
             "MOVE 'dc' TO 'dc3.mdf', MOVE 'dc_log' TO 'dc3_log.ldf'")
        must("RESTORE DATABASE dc3 FROM DISK = 'dc_diff.bak' WITH FILE = 2, RECOVERY")
        check("full + second differential: every row", rows_of("dc3") == want)
    finally:
        srv.cleanup()
    failed = results.count(False)
    print("%d checks, %d failed" % (len(results), failed))
    return failed


if __name__ == "__main__":
    sys.exit(1 if main() else 0)
