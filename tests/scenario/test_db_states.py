#!/usr/bin/python3
"""Database states through a real client (seed 004, SQL Server's database
states): ALTER DATABASE ... SET OFFLINE / ONLINE / EMERGENCY and SINGLE_USER /
RESTRICTED_USER / MULTI_USER with their termination clauses; what USE,
three-part names, sys.databases and DATABASEPROPERTYEX say in each state
(942, 926, 945, 924, 3906, 5070, 5061); OFFLINE closes the files (copied and
damaged on disk meanwhile) and survives a restart; ONLINE recovers the
database again; a missing file at start-up is RECOVERY_PENDING, not a dead
server; a crash whose rollback meets a bad page leaves the database SUSPECT,
and EMERGENCY + SINGLE_USER + DBCC CHECKDB (REPAIR_ALLOW_DATA_LOSS) brings it
back ONLINE with exactly the reported rows lost."""
import os, shutil, sys, threading, time

import pymssql

from hadr import Server

INFO = {5060, 5701, 2536, 2593, 8989, 2528}
ROWS = 1200


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
        """(error number or 0, message, result sets); a dead connection is
        replaced for the next call."""
        cur = cursor(who)
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
            if num in INFO:
                return 0, text, []
            if num in (20047, 20006, 20017, -1) or num >= 20000:
                conns.pop(who, None)   # the server closed it (KILL, severity >= 20)
            return num, text, []

    def one(sql, who="a"):
        err, text, sets = run(sql, who)
        if err:
            raise RuntimeError("%s -> %d %s" % (sql, err, text))
        return sets[0] if sets else []

    def val(sql, who="a"):
        return one(sql, who)[0][0]

    def state(db="st"):
        r = one("SELECT state_desc, user_access_desc, is_read_only FROM sys.databases WHERE name = '%s'" % db)
        return tuple(r[0]) if r else None

    data = os.path.join(srv.dir, "data", "data")

    try:
        one("CREATE DATABASE st")
        one("CREATE TABLE st.dbo.t (id int PRIMARY KEY, v int, pad varchar(100))")
        one("SET NOCOUNT ON; DECLARE @i int = 0; WHILE @i < %d BEGIN "
            "INSERT INTO st.dbo.t VALUES (@i, @i, REPLICATE('p', 60)); SET @i += 1; END" % ROWS)
        check("a new database: ONLINE, MULTI_USER, read-write", state() == ("ONLINE", "MULTI_USER", False), state())
        check("DATABASEPROPERTYEX Status / UserAccess / Updateability",
              one("SELECT DATABASEPROPERTYEX('st','Status'), DATABASEPROPERTYEX('st','UserAccess'), "
                  "DATABASEPROPERTYEX('st','Updateability')")[0] == ("ONLINE", "MULTI_USER", "READ_WRITE"))

        # ---- OFFLINE: files closed, 942 for users, ONLINE recovers ----
        one("USE st", "b")
        err, text, _ = run("ALTER DATABASE st SET OFFLINE WITH NO_WAIT")
        check("SET OFFLINE WITH NO_WAIT while another session uses it: 5070", err == 5070, (err, text))
        err, text, _ = run("SET LOCK_TIMEOUT 300; ALTER DATABASE st SET OFFLINE")
        check("SET OFFLINE waits for the other user (LOCK_TIMEOUT): 5061", err == 5061, (err, text))
        run("SET LOCK_TIMEOUT -1")
        one("BEGIN TRAN; INSERT INTO t VALUES (%d, 0, 'uncommitted')" % (ROWS + 1), "b")
        t0 = time.time()
        err, text, _ = run("ALTER DATABASE st SET OFFLINE WITH ROLLBACK AFTER 1 SECONDS")
        check("ROLLBACK AFTER 1: the other session is rolled back after a second",
              err == 0 and time.time() - t0 >= 0.9, (err, text, time.time() - t0))
        err, _, _ = run("SELECT 1", "b")
        check("... and its connection is gone", err != 0, err)
        check("OFFLINE in sys.databases", state()[0] == "OFFLINE", state())
        check("DATABASEPROPERTYEX Status = OFFLINE", val("SELECT DATABASEPROPERTYEX('st', 'Status')") == "OFFLINE")
        err, text, _ = run("USE st")
        check("USE of an OFFLINE database: 942", err == 942 and "offline" in text, (err, text))
        err, text, _ = run("SELECT COUNT(*) FROM st.dbo.t")
        check("a three-part name into it: 942", err == 942, (err, text))
        check("DB_ID still knows it", val("SELECT DB_ID('st')") == 5)
        check("sys.master_files still lists its files",
              val("SELECT COUNT(*) FROM sys.master_files WHERE database_id = DB_ID('st')") == 2)
        # the files are closed: copy them (a cold copy) while offline
        shutil.copy(os.path.join(data, "st.mdf"), os.path.join(srv.dir, "st.mdf.copy"))
        one("ALTER DATABASE st SET ONLINE")
        check("SET ONLINE: ONLINE again, the rolled-back insert is not there",
              state()[0] == "ONLINE" and val("SELECT COUNT(*) FROM st.dbo.t") == ROWS, state())
        check("errorlog: the database was started again (autorestart)",
              srv.errorlog().count("Starting up database 'st'.") >= 1)

        # ---- OFFLINE survives a restart ----
        one("ALTER DATABASE st SET OFFLINE")
        conns.clear()
        srv.stop()
        srv.start()
        check("OFFLINE survives a server restart", state()[0] == "OFFLINE", state())
        one("ALTER DATABASE st SET ONLINE")
        check("... and ONLINE brings it back with its rows", val("SELECT COUNT(*) FROM st.dbo.t") == ROWS)

        # ---- a file damaged while OFFLINE ----
        one("ALTER DATABASE st SET OFFLINE")
        with open(os.path.join(data, "st.mdf"), "r+b") as f:
            f.seek(2 * 8192 + 700)          # the boot page
            f.write(b"\x55" * 64)
        err, text, _ = run("ALTER DATABASE st SET ONLINE")
        check("SET ONLINE with a damaged boot page fails (824)", err == 824, (err, text))
        check("... and the database is SUSPECT", state()[0] == "SUSPECT", state())
        err, text, _ = run("USE st")
        check("USE of a SUSPECT database: 926", err == 926 and "SUSPECT" in text, (err, text))
        err, text, _ = run("ALTER DATABASE st SET EMERGENCY")
        check("EMERGENCY cannot read a database whose boot page is gone", err != 0, (err, text))
        run("ALTER DATABASE st SET OFFLINE")
        shutil.copy(os.path.join(srv.dir, "st.mdf.copy"), os.path.join(data, "st.mdf"))
        one("ALTER DATABASE st SET ONLINE")
        check("the cold copy put back: ONLINE, every row there",
              state()[0] == "ONLINE" and val("SELECT COUNT(*) FROM st.dbo.t") == ROWS, state())

        # ---- a missing file at start-up: RECOVERY_PENDING, the server runs ----
        conns.clear()
        srv.stop()
        os.rename(os.path.join(data, "st.mdf"), os.path.join(data, "st.mdf.away"))
        srv.start()
        check("a missing data file at start-up: the server starts, RECOVERY_PENDING",
              state()[0] == "RECOVERY_PENDING", state())
        err, text, _ = run("SELECT COUNT(*) FROM st.dbo.t")
        check("using it: 945", err == 945, (err, text))
        err, text, _ = run("ALTER DATABASE st SET ONLINE")
        check("SET ONLINE while the file is missing: 5120", err == 5120, (err, text))
        os.rename(os.path.join(data, "st.mdf.away"), os.path.join(data, "st.mdf"))
        one("ALTER DATABASE st SET ONLINE")
        check("the file back: SET ONLINE recovers it", state()[0] == "ONLINE" and
              val("SELECT COUNT(*) FROM st.dbo.t") == ROWS, state())

        # ---- EMERGENCY: read-only, no recovery ----
        one("ALTER DATABASE st SET EMERGENCY")
        check("EMERGENCY in sys.databases, read-only", state() == ("EMERGENCY", "MULTI_USER", True), state())
        check("DATABASEPROPERTYEX Updateability = READ_ONLY",
              val("SELECT DATABASEPROPERTYEX('st', 'Updateability')") == "READ_ONLY")
        check("EMERGENCY is readable", val("SELECT COUNT(*) FROM st.dbo.t") == ROWS)
        err, text, _ = run("INSERT INTO st.dbo.t VALUES (-1, 0, 'x')")
        check("EMERGENCY refuses changes: 3906", err == 3906, (err, text))
        one("ALTER DATABASE st SET ONLINE")
        one("INSERT INTO st.dbo.t VALUES (-1, 0, 'x')")
        check("ONLINE from EMERGENCY: writable again", state()[0] == "ONLINE")
        one("DELETE FROM st.dbo.t WHERE id = -1")

        # ---- SINGLE_USER ----
        one("USE st", "b")
        err, text, _ = run("ALTER DATABASE st SET SINGLE_USER WITH NO_WAIT")
        check("SINGLE_USER WITH NO_WAIT while another uses it: 5070", err == 5070, (err, text))
        err, text, _ = run("ALTER DATABASE st SET SINGLE_USER WITH ROLLBACK IMMEDIATE")
        check("SINGLE_USER WITH ROLLBACK IMMEDIATE (5060)", err == 0, (err, text))
        err, _, _ = run("SELECT 1", "b")
        check("... the other session was disconnected", err != 0, err)
        check("SINGLE_USER in sys.databases and DATABASEPROPERTYEX",
              state()[1] == "SINGLE_USER" and val("SELECT DATABASEPROPERTYEX('st', 'UserAccess')") == "SINGLE_USER")
        one("USE st")
        err, text, _ = run("USE st", "c")
        check("a second user: 924", err == 924 and "one user at a time" in text, (err, text))
        err, text, _ = run("SELECT COUNT(*) FROM st.dbo.t", "c")
        check("... also through a three-part name", err == 924, (err, text))
        one("USE master")
        one("USE st", "c")
        check("once the first left, the next one gets in", val("SELECT DB_NAME()", "c") == "st")
        one("USE master", "c")
        one("ALTER DATABASE st SET MULTI_USER")
        one("USE st", "b")
        one("USE st", "c")
        check("MULTI_USER: everyone again", state()[1] == "MULTI_USER")
        one("USE master", "b")
        one("USE master", "c")
        conns.clear()
        srv.stop()
        srv.start()
        check("still MULTI_USER after a restart", state()[1] == "MULTI_USER")
        one("ALTER DATABASE st SET RESTRICTED_USER")
        check("RESTRICTED_USER (sysadmin may still use it)", state()[1] == "RESTRICTED_USER" and
              val("SELECT COUNT(*) FROM st.dbo.t") == ROWS)
        one("ALTER DATABASE st SET MULTI_USER")
        err, text, _ = run("ALTER DATABASE master SET OFFLINE")
        check("master cannot go OFFLINE: 5058", err == 5058, (err, text))

        # ---- SUSPECT after a crash, then the last resort ----
        one("CREATE DATABASE sus")
        one("ALTER DATABASE sus SET RECOVERY SIMPLE")
        one("CREATE TABLE sus.dbo.t (id int PRIMARY KEY, v int, pad varchar(100))")
        one("SET NOCOUNT ON; DECLARE @i int = 0; WHILE @i < %d BEGIN "
            "INSERT INTO sus.dbo.t VALUES (@i, @i, REPLICATE('q', 60)); SET @i += 1; END" % ROWS)
        loc = val("SELECT sys.fn_PhysLocFormatter(%%physloc%%) FROM sus.dbo.t WHERE id = 600")
        page = int(loc.strip("()").split(":")[1])
        loser = srv.connect(autocommit=False)
        lc = loser.cursor()
        lc.execute("UPDATE sus.dbo.t SET v = -1 WHERE id % 3 = 0")
        one("USE sus; CHECKPOINT; USE master")      # the loser's pages reach the disk
        srv.kill()
        conns.clear()
        with open(os.path.join(data, "sus.mdf"), "r+b") as f:
            f.seek(page * 8192 + 2000)
            f.write(b"\xAA" * 80)
        srv.start()
        check("a crash whose rollback meets a bad page (SIMPLE): SUSPECT", state("sus")[0] == "SUSPECT",
              state("sus"))
        check("errorlog names the failed recovery", "could not complete" in srv.errorlog() or
              "SUSPECT" in srv.errorlog())
        err, text, _ = run("SELECT COUNT(*) FROM sus.dbo.t")
        check("reading a SUSPECT database: 926", err == 926, (err, text))
        one("ALTER DATABASE sus SET EMERGENCY")
        check("EMERGENCY: rows on good pages read without recovery",
              val("SELECT v FROM sus.dbo.t WHERE id = 1") == 1)
        err, text, _ = run("DBCC CHECKDB (sus, REPAIR_ALLOW_DATA_LOSS)")
        check("repair needs SINGLE_USER: 7919", err == 7919, (err, text))
        one("ALTER DATABASE sus SET SINGLE_USER")
        rows = one("DBCC CHECKDB (sus, REPAIR_ALLOW_DATA_LOSS) WITH TABLERESULTS")
        lost = [r for r in rows if r[0] == 7913]
        check("emergency repair reports the rows it lost (7913)", len(lost) == 1, [r[:4] for r in rows])
        n_lost = int(lost[0][3].split()[1]) if lost else -1
        check("the repaired database is ONLINE", state("sus")[0] == "ONLINE", state("sus"))
        check("... and physically consistent",
              not [r for r in one("DBCC CHECKDB (sus) WITH TABLERESULTS") if r[1] > 10])
        check("exactly the reported rows are gone", val("SELECT COUNT(*) FROM sus.dbo.t") == ROWS - n_lost,
              (n_lost,))
        one("ALTER DATABASE sus SET MULTI_USER")
        check("the errorlog says the log was rebuilt", "has been rebuilt" in srv.errorlog())

        # ---- DROP of a database whose files are not open ----
        one("ALTER DATABASE st SET OFFLINE")
        one("DROP DATABASE st")
        check("DROP of an OFFLINE database: gone, its files stay on disk",
              val("SELECT COUNT(*) FROM sys.databases WHERE name = 'st'") == 0 and
              os.path.exists(os.path.join(data, "st.mdf")))
    finally:
        for c in conns.values():
            try:
                c.close()
            except Exception:
                pass
        srv.cleanup()
    failed = results.count(False)
    print("db states: %d checks, %d failed" % (len(results), failed))
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
