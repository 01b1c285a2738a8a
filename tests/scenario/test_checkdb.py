#!/usr/bin/python3
"""DBCC CHECKDB / CHECKTABLE / CHECKALLOC through real clients: clean on a
healthy database (the informational lines as SQL Server prints them, through
tsql); a leaf page damaged on disk while the database is OFFLINE is found by
each command with SQL Server's messages (8928, 8939, 8976, 8978, 8952, 8990,
8989, 8958), as rows WITH TABLERESULTS and as messages otherwise, and lands
in msdb.dbo.suspect_pages; repair needs SINGLE_USER (7919); REPAIR_REBUILD
loses nothing and so leaves the bad page; REPAIR_ALLOW_DATA_LOSS deallocates
it (suspect_pages event_type 7), rebuilds the table and its index, and
reports exactly the rows that are gone; the argument errors (2520, 2501,
942)."""
import os, subprocess, sys

import pymssql

from hadr import PASSWORD, Server

INFO = {2536, 2593, 8989, 2528, 8954}
ROWS = 3000


def tsql(srv, sql):
    out = subprocess.run(["tsql", "-H", "127.0.0.1", "-p", str(srv.port), "-U", "sa", "-P", PASSWORD],
                         input=sql + "\ngo\nexit\n", capture_output=True, text=True, timeout=120)
    return out.stdout + out.stderr


def main():
    srv = Server().start()
    results = []

    def check(name, cond, detail=""):
        results.append(bool(cond))
        print("%-72s %s%s" % (name, "ok" if cond else "FAILED", "" if cond else "  " + str(detail)))

    state = {"conn": srv.connect()}

    def run(sql):
        try:
            cur = state["conn"].cursor()
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
            if num in INFO:
                return 0, text, []
            if num == 824 or num >= 20000:
                state["conn"] = srv.connect()   # severity 24 closed it
            return num, text, []

    def one(sql):
        err, text, sets = run(sql)
        if err:
            raise RuntimeError("%s -> %d %s" % (sql, err, text))
        return sets[0] if sets else []

    def val(sql):
        return one(sql)[0][0]

    def numbers(rows):
        out = {}
        for r in rows:
            out[r[0]] = out.get(r[0], 0) + 1
        return out

    try:
        one("CREATE DATABASE cdb")
        one("CREATE TABLE cdb.dbo.orders (id int PRIMARY KEY, customer int, note varchar(max))")
        one("CREATE INDEX ix_customer ON cdb.dbo.orders (customer)")
        one("SET NOCOUNT ON; DECLARE @i int = 0; WHILE @i < %d BEGIN INSERT INTO cdb.dbo.orders VALUES "
            "(@i, @i %% 97, CASE WHEN @i %% 250 = 0 THEN REPLICATE('n', 8000) ELSE 'note' END); SET @i += 1; END"
            % ROWS)

        # ---- healthy ----
        rows = one("DBCC CHECKDB (cdb) WITH TABLERESULTS")
        check("healthy CHECKDB: only informational rows", rows and all(r[1] == 10 for r in rows), rows[:3])
        check("... ending with 'found 0 allocation errors and 0 consistency errors' (8989)",
              any(r[0] == 8989 and "found 0 allocation errors and 0 consistency errors in database 'cdb'" in r[3]
                  for r in rows))
        check("... and a row count per object (2593)",
              any(r[0] == 2593 and r[3] == 'There are %d rows in' % ROWS + r[3][len('There are %d rows in' % ROWS):]
                  and '"orders"' in r[3] for r in rows))
        err, _, sets = run("DBCC CHECKDB (cdb) WITH NO_INFOMSGS")
        check("NO_INFOMSGS on a healthy database: nothing at all", err == 0 and not sets, (err, sets))
        out = tsql(srv, "DBCC CHECKDB (cdb)")
        check("tsql shows SQL Server's lines",
              "DBCC results for 'cdb'." in out and "DBCC execution completed. If DBCC printed error messages, "
              "contact your system administrator." in out, out[-600:])
        check("CHECKTABLE and CHECKALLOC are clean too",
              not [r for r in one("DBCC CHECKTABLE ('cdb.dbo.orders') WITH TABLERESULTS") if r[1] > 10] and
              not [r for r in one("DBCC CHECKALLOC (cdb) WITH TABLERESULTS") if r[1] > 10])

        # ---- argument errors ----
        err, text, _ = run("DBCC CHECKDB (nosuchdb)")
        check("CHECKDB of an unknown database: 2520", err == 2520, (err, text))
        err, text, _ = run("DBCC CHECKTABLE ('cdb.dbo.nosuch')")
        check("CHECKTABLE of an unknown table: 2501", err == 2501, (err, text))
        err, text, _ = run("DBCC CHECKDB (cdb, REPAIR_ALLOW_DATA_LOSS)")
        check("repair outside SINGLE_USER: 7919", err == 7919, (err, text))

        # ---- a leaf damaged on disk while OFFLINE ----
        loc = val("SELECT sys.fn_PhysLocFormatter(%%physloc%%) FROM cdb.dbo.orders WHERE id = 1500")
        page = int(loc.strip("()").split(":")[1])
        one("ALTER DATABASE cdb SET OFFLINE")
        err, text, _ = run("DBCC CHECKDB (cdb)")
        check("CHECKDB of an OFFLINE database: 942", err == 942, (err, text))
        with open(os.path.join(srv.dir, "data", "data", "cdb.mdf"), "r+b") as f:
            f.seek(page * 8192 + 4000)
            f.write(b"\x13\x37" * 40)
        one("ALTER DATABASE cdb SET ONLINE")
        err, text, _ = run("SELECT COUNT(*) FROM cdb.dbo.orders")
        check("reading the damaged page: 824", err == 824 and "(1:%d)" % page in text, (err, text[:200]))
        rows = one("DBCC CHECKDB (cdb) WITH TABLERESULTS, NO_INFOMSGS, ALL_ERRORMSGS")
        n = numbers(rows)
        check("8928 + 8939: the page could not be processed",
              n.get(8928) == 1 and n.get(8939) == 1 and
              any(r[0] == 8928 and "Page (1:%d) could not be processed" % page in r[3] for r in rows), n)
        check("8976: not seen although its parent and previous refer to it", n.get(8976) == 1, n)
        check("8978: the next page misses its reference", n.get(8978) == 1, n)
        lost_rows = n.get(8952, 0)
        check("8952: index rows of the lost rows match no data row", lost_rows > 0, n)
        check("TABLERESULTS columns: page, object, repair level",
              any(r[0] == 8928 and r[14] == 1 and r[15] == page and r[4] == "repair_allow_data_loss" for r in rows))
        summary = [r[3] for r in rows if r[0] == 8989]
        errors = len([r for r in rows if r[1] > 10 and r[0] not in (8955, 8956)])   # details are not counted
        check("8989 counts them", summary and ("found 0 allocation errors and %d consistency errors" % errors)
              in summary[0], (summary, errors))
        check("the lost row's off-row value is left unreferenced (8964)", n.get(8964, 0) >= 1, n)
        check("8958 names the minimum repair level",
              any(r[0] == 8958 and r[3].startswith("repair_allow_data_loss is the minimum repair level") for r in rows))
        rows = one("DBCC CHECKTABLE ('cdb.dbo.orders') WITH TABLERESULTS")
        check("CHECKTABLE finds the same, summed up in 8990",
              any(r[0] == 8990 and r[3].startswith("CHECKTABLE found 0 allocation errors") for r in rows) and
              numbers(rows).get(8928) == 1)
        rows = one("DBCC CHECKALLOC (cdb) WITH TABLERESULTS")
        check("CHECKALLOC: allocation is fine", not [r for r in rows if r[1] > 10], rows[:3])
        err, text, _ = run("DBCC CHECKDB (cdb)")
        check("without TABLERESULTS the errors are messages (first: 8928)", err == 8928, (err, text[:100]))
        out = tsql(srv, "DBCC CHECKDB (cdb) WITH NO_INFOMSGS")
        check("tsql: the errors as Msg 8928 / 8939 ... severity 16", "Msg 8928 (severity 16" in out and
              "Msg 8939 (severity 16" in out and "Msg 8976 (severity 16" in out, out[:400])
        check("msdb.dbo.suspect_pages has the page (bad checksum: event_type 2)",
              one("SELECT event_type FROM msdb.dbo.suspect_pages WHERE database_id = DB_ID('cdb') "
                  "AND page_id = %d" % page) == [(2,)])

        # ---- repair ----
        one("ALTER DATABASE cdb SET SINGLE_USER")
        rows = one("DBCC CHECKDB (cdb, REPAIR_REBUILD) WITH TABLERESULTS")
        check("REPAIR_REBUILD loses nothing: the bad page stays",
              not [r for r in rows if r[0] == 7913] and
              [r for r in one("DBCC CHECKDB (cdb) WITH TABLERESULTS, NO_INFOMSGS") if r[0] == 8928])
        rows = one("DBCC CHECKDB (cdb, REPAIR_ALLOW_DATA_LOSS) WITH TABLERESULTS")
        lost = [r for r in rows if r[0] == 7913]
        n_lost = int(lost[0][3].split()[1]) if lost else -1
        check("REPAIR_ALLOW_DATA_LOSS reports the rows it lost", n_lost == lost_rows, (n_lost, lost_rows))
        check("... the page deallocated (7911) and the indexes rebuilt (7912)",
              numbers(rows).get(7911, 0) >= 1 and numbers(rows).get(7912, 0) >= 2, numbers(rows))
        check("... and what it fixed (8912)",
              any(r[0] == 8912 and "fixed 0 allocation errors" in r[3] for r in rows))
        one("ALTER DATABASE cdb SET MULTI_USER")
        check("a CHECKDB after the repair is clean",
              not [r for r in one("DBCC CHECKDB (cdb) WITH TABLERESULTS") if r[1] > 10])
        check("exactly the reported rows are gone",
              val("SELECT COUNT(*) FROM cdb.dbo.orders") == ROWS - n_lost)
        check("the index agrees with the table",
              val("SELECT COUNT(*) FROM cdb.dbo.orders WHERE customer >= 0") == ROWS - n_lost)
        check("rows elsewhere are intact, off-row values too",
              val("SELECT LEN(note) FROM cdb.dbo.orders WHERE id = 250") == 8000 and
              val("SELECT customer FROM cdb.dbo.orders WHERE id = 2999") == 2999 % 97)
        check("... and the table writable", run("INSERT INTO cdb.dbo.orders VALUES (%d, 1, 'after repair')"
                                                  % (ROWS + 1))[0] == 0)
        sp = one("SELECT event_type FROM msdb.dbo.suspect_pages WHERE database_id = DB_ID('cdb') "
                 "AND page_id = %d" % page)
        check("suspect_pages: deallocated by DBCC (event_type 7)", sp == [(7,)], sp)
    finally:
        try:
            state["conn"].close()
        except Exception:
            pass
        srv.cleanup()
    failed = results.count(False)
    print("checkdb: %d checks, %d failed" % (len(results), failed))
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
