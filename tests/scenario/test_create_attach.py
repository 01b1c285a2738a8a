#!/usr/bin/python3
"""CREATE DATABASE with files, sp_detach_db and CREATE DATABASE ... FOR ATTACH
through a real client (engine/attach.h): a database with several files and
filegroups at the paths given, tables ON a filegroup, all of it across a
clean restart and a crash; sp_detach_db refused while in use (3703), then the
files attached under another name and a new database id, data intact, across
a restart; and seed 004's "attach → attach fails": the files of a database
copied after a SIGKILL with a transaction open, one of that transaction's
pages damaged on disk — the attach fails with 1813 (after the 824) even
though the database is in FULL recovery with a backup (start-up would defer
the transaction), and nothing stays registered; the same files undamaged
attach, and recovery rolls the transaction back."""
import os, shutil, sys

import pymssql

from hadr import Server, run_sets

ROWS = 600
INFO = {4035, 3014, 3211}   # BACKUP's informational messages reach pymssql as errors


def main():
    srv = Server().start()
    results = []

    def check(name, cond, detail=""):
        results.append(bool(cond))
        print("%-72s %s%s" % (name, "ok" if cond else "FAILED", "" if cond else "  " + str(detail)))

    conns = {}

    def cursor(who="a"):
        if who not in conns:
            conns[who] = srv.connect()
        return conns[who].cursor()

    def run(sql, who="a"):
        """(error number or 0, message, result sets)"""
        num, text, sets = run_sets(cursor(who), sql, INFO)
        if num >= 20000 or num == -1:
            conns.pop(who, None)
        return num, text, sets

    def one(sql, who="a"):
        err, text, sets = run(sql, who)
        if err:
            raise RuntimeError("%s -> %d %s" % (sql, err, text))
        return sets[0] if sets else []

    def val(sql, who="a"):
        return one(sql, who)[0][0]

    def restart(kill=False):
        for c in conns.values():
            try:
                c.close()
            except Exception:
                pass
        conns.clear()
        if kill:
            srv.kill()
        else:
            srv.stop()
        srv.start()

    files = os.path.join(srv.dir, "files")
    logs = os.path.join(srv.dir, "logs")
    os.makedirs(files)
    os.makedirs(logs)
    data = os.path.join(srv.dir, "data", "data")

    def master_files(db):
        return one("SELECT file_id, type_desc, data_space_id, name, physical_name FROM sys.master_files "
                   "WHERE database_id = DB_ID('%s') ORDER BY file_id" % db)

    try:
        # ---- several files and filegroups, where the statement says ----
        one("""CREATE DATABASE sales ON PRIMARY
                 (NAME = sales_data, FILENAME = '%(f)s/sales.mdf', SIZE = 8MB, MAXSIZE = 200MB, FILEGROWTH = 8MB),
                 (NAME = sales_data2, FILENAME = '%(f)s/sales2.ndf', SIZE = 2MB),
               FILEGROUP current_fg
                 (NAME = cur1, FILENAME = '%(f)s/cur1.ndf', SIZE = 1MB, FILEGROWTH = 1MB),
                 (NAME = cur2, FILENAME = 'sales_cur2.ndf', SIZE = 1MB, FILEGROWTH = 1MB),
               FILEGROUP archive_fg
                 (NAME = arch1, FILENAME = '%(f)s/arch1.ndf', SIZE = 1MB)
               LOG ON (NAME = sales_log, FILENAME = '%(l)s/sales.ldf', SIZE = 4MB, FILEGROWTH = 4MB)"""
            % {"f": files, "l": logs})
        want = [(1, "ROWS", 1, "sales_data", files + "/sales.mdf"),
                (2, "ROWS", 1, "sales_data2", files + "/sales2.ndf"),
                (3, "ROWS", 2, "cur1", files + "/cur1.ndf"),
                (4, "ROWS", 2, "cur2", data + "/sales_cur2.ndf"),
                (5, "ROWS", 3, "arch1", files + "/arch1.ndf"),
                (6, "LOG", 0, "sales_log", logs + "/sales.ldf")]
        got = [tuple(r) for r in master_files("sales")]
        check("sys.master_files: every file, its name, filegroup and path", got == want, got)
        check("every file exists where it was asked", all(os.path.exists(w[4]) for w in want))
        fgs = [tuple(r) for r in one("SELECT name, data_space_id FROM sales.sys.filegroups ORDER BY data_space_id")]
        check("sys.filegroups: PRIMARY, current_fg, archive_fg",
              fgs == [("PRIMARY", 1), ("current_fg", 2), ("archive_fg", 3)], fgs)
        dbf = [tuple(r) for r in one("USE sales; SELECT file_id, name FROM sys.database_files ORDER BY file_id; "
                                     "USE master")]
        check("sys.database_files agrees", dbf == [(w[0], w[3]) for w in want], dbf)
        one("CREATE TABLE sales.dbo.orders (id int PRIMARY KEY, amount int, note varchar(200)) ON current_fg")
        one("CREATE TABLE sales.dbo.old_orders (id int PRIMARY KEY, amount int) ON archive_fg")
        one("SET NOCOUNT ON; DECLARE @i int = 0; WHILE @i < %d BEGIN "
            "INSERT INTO sales.dbo.orders VALUES (@i, @i * 10, REPLICATE('n', 150)); "
            "INSERT INTO sales.dbo.old_orders VALUES (@i, @i); SET @i += 1; END" % ROWS)
        locs = one("SELECT DISTINCT CAST(SUBSTRING(sys.fn_PhysLocFormatter(%%physloc%%), 2, 1) AS int) "
                   "FROM sales.dbo.orders")
        check("a table ON current_fg lives in its files (3, 4)", {r[0] for r in locs} <= {3, 4} and locs, locs)
        locs = one("SELECT DISTINCT CAST(SUBSTRING(sys.fn_PhysLocFormatter(%%physloc%%), 2, 1) AS int) "
                   "FROM sales.dbo.old_orders")
        check("a table ON archive_fg lives in its file (5)", [tuple(r) for r in locs] == [(5,)], locs)

        restart()
        check("after a restart: the same files", [tuple(r) for r in master_files("sales")] == want)
        check("... and the rows", val("SELECT COUNT(*) FROM sales.dbo.orders") == ROWS and
              val("SELECT SUM(amount) FROM sales.dbo.old_orders") == ROWS * (ROWS - 1) // 2)
        one("INSERT INTO sales.dbo.orders VALUES (%d, 1, 'after restart')" % ROWS)
        restart(kill=True)
        check("after a crash: the same files, the rows", [tuple(r) for r in master_files("sales")] == want and
              val("SELECT COUNT(*) FROM sales.dbo.orders") == ROWS + 1)

        err, text, _ = run("CREATE DATABASE sales2 ON (NAME = s2, FILENAME = '%s/sales.mdf')" % files)
        check("a file that exists: 5170", err == 5170, (err, text))
        err, text, _ = run("CREATE DATABASE sales2 ON (NAME = s2, FILENAME = '%s/nodir/s2.mdf')" % files)
        check("a directory that does not: 5133", err == 5133, (err, text))
        check("... nothing registered", val("SELECT COUNT(*) FROM sys.databases WHERE name = 'sales2'") == 0)

        # ---- detach ----
        one("USE sales", "b")
        err, text, _ = run("EXEC sp_detach_db 'sales'")
        check("sp_detach_db while another session uses it: 3703", err == 3703, (err, text))
        one("USE master", "b")
        old_id = val("SELECT DB_ID('sales')")
        one("EXEC sp_detach_db @dbname = 'sales'")
        check("detached: gone from sys.databases and sys.master_files",
              val("SELECT COUNT(*) FROM sys.databases WHERE name = 'sales'") == 0 and
              val("SELECT COUNT(*) FROM sys.master_files WHERE database_id = %d" % old_id) == 0)
        check("... its files are left", all(os.path.exists(w[4]) for w in want))
        one("CREATE DATABASE filler")   # takes the freed id
        check("the freed id goes to the next database", val("SELECT DB_ID('filler')") == old_id)

        # ---- attach under another name: primary + log; the others from the boot page ----
        one("CREATE DATABASE shop ON (FILENAME = '%s/sales.mdf'), (FILENAME = '%s/sales.ldf') FOR ATTACH"
            % (files, logs))
        new_id = val("SELECT DB_ID('shop')")
        check("attached under a new name and a new database id", new_id and new_id != old_id, new_id)
        got = [tuple(r) for r in master_files("shop")]
        check("its files as before", got == want, got)
        check("its data intact", val("SELECT COUNT(*) FROM shop.dbo.orders") == ROWS + 1 and
              val("SELECT note FROM shop.dbo.orders WHERE id = %d" % ROWS) == "after restart" and
              val("SELECT SUM(amount) FROM shop.dbo.old_orders") == ROWS * (ROWS - 1) // 2)
        one("INSERT INTO shop.dbo.orders VALUES (%d, 2, 'attached')" % (ROWS + 1))
        restart()
        check("after a restart: still 'shop', same id",
              val("SELECT DB_ID('shop')") == new_id and val("SELECT COUNT(*) FROM shop.dbo.orders") == ROWS + 2)
        err, text, _ = run("CREATE DATABASE shop2 ON (FILENAME = '%s/sales.mdf'), (FILENAME = '%s/sales.ldf') "
                           "FOR ATTACH" % (files, logs))
        check("attaching files in use: refused (5120, then 1813)", err in (5120, 1813), (err, text))

        # ---- attach fails when its recovery meets a damaged page (seed 004) ----
        one("CREATE DATABASE lose")   # FULL, with a backup: start-up recovery could defer
        one("BACKUP DATABASE lose TO DISK = 'lose_full.bak' WITH INIT")
        one("CREATE TABLE lose.dbo.t (id int PRIMARY KEY, v int, pad varchar(100))")
        one("SET NOCOUNT ON; DECLARE @i int = 0; WHILE @i < %d BEGIN "
            "INSERT INTO lose.dbo.t VALUES (@i, @i, REPLICATE('q', 60)); SET @i += 1; END" % ROWS)
        loc = val("SELECT sys.fn_PhysLocFormatter(%%physloc%%) FROM lose.dbo.t WHERE id = 300")
        page = int(loc.strip("()").split(":")[1])
        loser = srv.connect(autocommit=False)
        lc = loser.cursor()
        lc.execute("UPDATE lose.dbo.t SET v = -1 WHERE id % 2 = 0")
        one("USE lose; CHECKPOINT; USE master")   # the loser's pages reach the disk
        srv.kill()
        conns.clear()
        bad = os.path.join(srv.dir, "copy_bad")
        good = os.path.join(srv.dir, "copy_good")
        for d in (bad, good):
            os.makedirs(d)
            shutil.copy(os.path.join(data, "lose.mdf"), d)
            shutil.copy(os.path.join(data, "lose_log.ldf"), d)
        with open(os.path.join(bad, "lose.mdf"), "r+b") as f:
            f.seek(page * 8192 + 2000)
            f.write(b"\xAA" * 80)
        srv.start()
        check("the original database recovers (its own files are fine)",
              val("SELECT COUNT(*) FROM lose.dbo.t WHERE v = -1") == 0)
        err, text, _ = run("CREATE DATABASE lose_bad ON (FILENAME = '%s/lose.mdf'), (FILENAME = '%s/lose_log.ldf') "
                           "FOR ATTACH" % (bad, bad))
        check("attach whose undo meets the damaged page fails: 824 (then 1813)",
              err == 824 and "incorrect checksum" in text, (err, text))
        r = one("BEGIN TRY CREATE DATABASE lose_bad ON (FILENAME = '%s/lose.mdf'), "
                "(FILENAME = '%s/lose_log.ldf') FOR ATTACH END TRY "
                "BEGIN CATCH SELECT ERROR_NUMBER(), ERROR_MESSAGE() END CATCH" % (bad, bad))
        check("in TRY ... CATCH: ERROR_NUMBER() = 1813", r and r[0][0] == 1813, r)
        check("nothing registered: sys.databases, sys.master_files",
              val("SELECT COUNT(*) FROM sys.databases WHERE name = 'lose_bad'") == 0 and
              val("SELECT COUNT(*) FROM sys.master_files WHERE physical_name LIKE '%copy_bad%'") == 0)
        check("nothing deferred", val("SELECT COUNT(*) FROM sys.dm_tran_active_transactions "
                                      "WHERE name = 'recovered'") == 0)
        check("the errorlog says why", "Attach of database 'lose_bad' failed" in srv.errorlog() and
              "incorrect checksum" in srv.errorlog())
        restart()
        check("after a restart: still nothing registered",
              val("SELECT COUNT(*) FROM sys.databases WHERE name = 'lose_bad'") == 0)

        one("CREATE DATABASE lose_good ON (FILENAME = '%s/lose.mdf'), (FILENAME = '%s/lose_log.ldf') FOR ATTACH"
            % (good, good))
        check("the same files undamaged attach ONLINE",
              val("SELECT state_desc FROM sys.databases WHERE name = 'lose_good'") == "ONLINE")
        check("... recovery rolled the open transaction back",
              val("SELECT COUNT(*) FROM lose_good.dbo.t WHERE v = -1") == 0 and
              val("SELECT COUNT(*) FROM lose_good.dbo.t WHERE v = id") == ROWS)
        check("... and it is a database of its own",
              val("SELECT COUNT(*) FROM sys.databases WHERE name IN ('lose', 'lose_good')") == 2 and
              val("SELECT DB_ID('lose')") != val("SELECT DB_ID('lose_good')"))
        one("UPDATE lose_good.dbo.t SET v = 7 WHERE id = 1")
        check("... independent of the original", val("SELECT v FROM lose.dbo.t WHERE id = 1") == 1 and
              val("SELECT v FROM lose_good.dbo.t WHERE id = 1") == 7)
        try:
            loser.close()
        except Exception:
            pass
    finally:
        for c in conns.values():
            try:
                c.close()
            except Exception:
                pass
        srv.cleanup()
    failed = results.count(False)
    print("create_attach: %d checks, %d failed" % (len(results), failed))
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
