#!/usr/bin/python3
"""RESTORE ... WITH STANDBY through a real client: a full and two log backups
restored STANDBY, STANDBY, RECOVERY. Between restores the database is ONLINE,
read-only (is_in_standby = 1, is_read_only = 1), shows only committed work,
refuses writes (3906); a session using it makes the next restore fail with
3101 rather than wait; a restart keeps it in standby. RESTORE DATABASE ...
WITH STANDBY / NORECOVERY without FROM moves a restoring database into and
out of standby between log restores.

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

        def run(sql, c=None):
            c = c or cur
            try:
                c.execute(sql)
                sets = []
                while True:
                    if c.description:
                        sets.append(c.fetchall())
                    if not c.nextset():
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

        def ids(db):
            return [r[0] for r in one("SELECT id FROM %s.dbo.t ORDER BY id" % db)]

        def state(db):
            return tuple(one("SELECT state_desc, is_in_standby, is_read_only FROM sys.databases WHERE name = '%s'"
                             % db)[0])

        one("CREATE DATABASE prim")
        one("CREATE TABLE prim.dbo.t (id int PRIMARY KEY, v varchar(50))")
        one("INSERT INTO prim.dbo.t VALUES (1, 'a'), (2, 'b')")
        other = srv.connect(autocommit=False)
        ocur = other.cursor()
        ocur.execute("INSERT INTO prim.dbo.t VALUES (90, 'open at the full')")
        run("BACKUP DATABASE prim TO DISK = 'sb.bak' WITH INIT")
        other.commit()
        one("INSERT INTO prim.dbo.t VALUES (3, 'c')")
        ocur.execute("INSERT INTO prim.dbo.t VALUES (91, 'open at log 1')")
        run("BACKUP LOG prim TO DISK = 'sb.bak'")
        other.commit()
        one("INSERT INTO prim.dbo.t VALUES (4, 'd')")
        run("BACKUP LOG prim TO DISK = 'sb.bak'")
        src = ids("prim")

        mv = "MOVE 'prim' TO 'sb.mdf', MOVE 'prim_log' TO 'sb_log.ldf'"
        err, text, _ = run("RESTORE DATABASE sb FROM DISK = 'sb.bak' WITH FILE = 1, STANDBY = 'sb_undo.dat', " + mv)
        check("RESTORE DATABASE ... WITH STANDBY", err == 0, (err, text))
        check("standby: ONLINE, is_in_standby = 1, is_read_only = 1", state("sb") == ("ONLINE", 1, 1), state("sb"))
        check("standby: committed rows only (the open one undone)", ids("sb") == [1, 2], ids("sb"))
        err, text, _ = run("INSERT INTO sb.dbo.t VALUES (50, 'no')")
        check("a write to the standby: 3906", err == 3906, (err, text))
        err, text, _ = run("BACKUP DATABASE sb TO DISK = 'sbx.bak'")
        check("a backup of the standby: 3036", err == 3036, (err, text))

        user = srv.connect()
        ucur = user.cursor()
        ucur.execute("USE sb")
        err, text, _ = run("RESTORE LOG sb FROM DISK = 'sb.bak' WITH FILE = 2, STANDBY = 'sb_undo.dat'")
        check("RESTORE LOG while a session uses the standby: 3101", err == 3101, (err, text))
        ucur.execute("USE master")
        err, text, _ = run("RESTORE LOG sb FROM DISK = 'sb.bak' WITH FILE = 2, STANDBY = 'sb_undo.dat'")
        check("RESTORE LOG ... WITH STANDBY", err == 0, (err, text))
        check("log 1 applied: the row committed after the full shows", ids("sb") == [1, 2, 3, 90], ids("sb"))

        user.close()
        other.close()
        conn.close()
        srv.stop()
        srv.start()
        conn = srv.connect()
        cur = conn.cursor()
        check("after a restart: still in standby", state("sb") == ("ONLINE", 1, 1), state("sb"))
        check("after a restart: readable", ids("sb") == [1, 2, 3, 90], ids("sb"))

        err, text, _ = run("RESTORE LOG sb FROM DISK = 'sb.bak' WITH FILE = 3, RECOVERY")
        check("RESTORE LOG ... WITH RECOVERY after STANDBY", err == 0, (err, text))
        check("recovered: ONLINE, writable", state("sb") == ("ONLINE", 0, 0), state("sb"))
        check("recovered: the source's rows", ids("sb") == src, (ids("sb"), src))
        err, text, _ = run("INSERT INTO sb.dbo.t VALUES (50, 'yes')")
        check("recovered: writes accepted", err == 0, (err, text))

        # ---- STANDBY / NORECOVERY without FROM: into and out of standby, no backup read ----
        err, text, _ = run("RESTORE DATABASE prim WITH STANDBY = 'x_undo.dat'")
        check("STANDBY without FROM on an online database: 3153", err == 3153, (err, text))
        mv2 = "MOVE 'prim' TO 'sb2.mdf', MOVE 'prim_log' TO 'sb2_log.ldf'"
        err, text, _ = run("RESTORE DATABASE sb2 FROM DISK = 'sb.bak' WITH FILE = 1, NORECOVERY, " + mv2)
        check("full WITH NORECOVERY", err == 0 and state("sb2") == ("RESTORING", 0, 0), (err, text, state("sb2")))
        err, text, _ = run("RESTORE DATABASE sb2 WITH STANDBY = 'sb2_undo.dat'")
        check("RESTORE DATABASE ... WITH STANDBY, no FROM", err == 0, (err, text))
        check("no FROM: ONLINE, is_in_standby = 1, is_read_only = 1", state("sb2") == ("ONLINE", 1, 1), state("sb2"))
        check("no FROM: committed rows only", ids("sb2") == [1, 2], ids("sb2"))
        err, text, _ = run("INSERT INTO sb2.dbo.t VALUES (50, 'no')")
        check("no FROM: a write gets 3906", err == 3906, (err, text))
        err, text, _ = run("RESTORE LOG sb2 FROM DISK = 'sb.bak' WITH FILE = 2, NORECOVERY")
        check("RESTORE LOG ... NORECOVERY after it", err == 0 and state("sb2") == ("RESTORING", 0, 0),
              (err, text, state("sb2")))
        user = srv.connect()
        err, text, _ = run("RESTORE DATABASE sb2 WITH STANDBY = 'sb2_undo.dat'")
        check("STANDBY without FROM again", err == 0 and ids("sb2") == [1, 2, 3, 90], (err, text, ids("sb2")))
        ucur = user.cursor()
        ucur.execute("USE sb2")
        err, text, _ = run("RESTORE DATABASE sb2 WITH NORECOVERY")
        check("NORECOVERY without FROM while in use: 3101", err == 3101, (err, text))
        ucur.execute("USE master")
        user.close()
        err, text, _ = run("RESTORE DATABASE sb2 WITH NORECOVERY")
        check("NORECOVERY without FROM: the undo taken back, RESTORING",
              err == 0 and state("sb2") == ("RESTORING", 0, 0), (err, text, state("sb2")))
        err, text, _ = run("RESTORE LOG sb2 FROM DISK = 'sb.bak' WITH FILE = 3, NORECOVERY")
        check("the next log applies", err == 0, (err, text))
        err, text, _ = run("RESTORE DATABASE sb2 WITH STANDBY = 'sb2_undo2.dat'")
        check("standby at the end of the chain", err == 0 and state("sb2") == ("ONLINE", 1, 1), (err, text))
        conn.close()
        srv.kill()
        srv.start()
        conn = srv.connect()
        cur = conn.cursor()
        check("after SIGKILL: still in standby", state("sb2") == ("ONLINE", 1, 1), state("sb2"))
        err, text, _ = run("RESTORE DATABASE sb2 WITH RECOVERY")
        check("RECOVERY without FROM: online, writable, the source's rows",
              err == 0 and state("sb2") == ("ONLINE", 0, 0) and ids("sb2") == src, (err, text, state("sb2")))
        gone = [f for f in ("sb2_undo.dat", "sb2_undo2.dat")
                if os.path.exists(os.path.join(srv.dir, "data", "data", f))]
        check("no undo file left behind", gone == [], gone)
    except Exception as e:
        check("unexpected exception", False, repr(e))
    finally:
        srv.cleanup()
    failed = sum(1 for r in results if not r)
    print("%d checks, %d failed" % (len(results), failed))
    return failed


if __name__ == "__main__":
    sys.exit(1 if main() else 0)
