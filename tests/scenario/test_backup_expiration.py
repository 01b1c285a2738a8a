#!/usr/bin/python3
"""BACKUP ... EXPIREDATE / RETAINDAYS through a real client.

A set carries its expiration date (RESTORE HEADERONLY's ExpirationDate,
msdb.dbo.backupset.expiration_date; NULL without one). INIT onto media that
holds a set not yet expired is refused with 4030 ("The medium on device '...'
expires on ... and cannot be overwritten.") and 3013, the media left as it
was; NOINIT appends; SKIP and FORMAT overwrite. RETAINDAYS wins over
EXPIREDATE; both take variables; a date in the past does not protect.

pymssql raises the first message of a batch even when it is informational
(severity 10), so run() treats those numbers as success."""
import datetime, re, sys

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
                        sets.append(([d[0] for d in cur.description], cur.fetchall()))
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
            return sets[0][1] if sets else []

        def headers(dev):
            """[(Position, ExpirationDate, BackupName)] of RESTORE HEADERONLY."""
            err, text, sets = run("RESTORE HEADERONLY FROM DISK = '%s'" % dev)
            if err:
                raise RuntimeError("HEADERONLY -> %d %s" % (err, text))
            cols, rows = sets[0]
            p, x, n = cols.index("Position"), cols.index("ExpirationDate"), cols.index("BackupName")
            return [(r[p], r[x], r[n]) for r in rows]

        def history(name):
            return one("SELECT expiration_date FROM msdb.dbo.backupset WHERE name = '%s'" % name)[0][0]

        one("CREATE DATABASE ex")
        one("CREATE TABLE ex.dbo.t (id int PRIMARY KEY)")
        one("INSERT INTO ex.dbo.t VALUES (1)")
        until = (datetime.datetime.now() + datetime.timedelta(days=3)).replace(microsecond=0)
        err, text, _ = run("BACKUP DATABASE ex TO DISK = 'ex.bak' WITH INIT, NAME = 'kept', EXPIREDATE = '%s'"
                           % until.strftime("%Y-%m-%d %H:%M:%S"))
        check("BACKUP ... EXPIREDATE", err == 0, (err, text))
        check("HEADERONLY: ExpirationDate", headers("ex.bak") == [(1, until, "kept")], headers("ex.bak"))
        check("backupset.expiration_date", history("kept") == until, history("kept"))

        err, text, _ = run("BACKUP LOG ex TO DISK = 'ex.bak' WITH NAME = 'log1'")
        check("NOINIT appends to media holding an unexpired set", err == 0, (err, text))
        check("... and its set has no ExpirationDate (NULL)", headers("ex.bak")[1] == (2, None, "log1"),
              headers("ex.bak"))
        check("backupset.expiration_date NULL", history("log1") is None, history("log1"))

        err, text, _ = run("BACKUP DATABASE ex TO DISK = 'ex.bak' WITH INIT, NAME = 'over'")
        shown = until.strftime("%b ") + "%2d" % until.day + until.strftime(" %Y ") + \
            "%2d" % (until.hour % 12 or 12) + until.strftime(":%M:%S:000%p")
        check("INIT over an unexpired set: 4030", err == 4030, (err, text))
        check("4030's text names the device and the date",
              "The medium on device 'ex.bak' expires on %s and cannot be overwritten." % shown in text, (text, shown))
        # every message, through a message handler (pymssql then hides the numbers)
        texts = []
        other = srv.connect()
        other._conn.set_msghandler(lambda state, sev, srvname, proc, line, msg: texts.append(msg.decode()))
        try:
            other.cursor().execute("BACKUP DATABASE ex TO DISK = 'ex.bak' WITH INIT, NAME = 'over'")
        except pymssql.Error:
            pass
        other.close()
        check("4030, then 3013", len(texts) == 2 and "cannot be overwritten" in texts[0]
              and texts[1] == "BACKUP DATABASE is terminating abnormally.", texts)
        check("the media is as it was", [h[0] for h in headers("ex.bak")] == [1, 2], headers("ex.bak"))
        err, text, _ = run("BACKUP DATABASE ex TO DISK = 'ex.bak' WITH INIT, NOSKIP, MEDIANAME = ''")
        check("INIT, NOSKIP: 4030 too", err in (4030, 4037), (err, text))

        err, text, _ = run("BACKUP DATABASE ex TO DISK = 'ex.bak' WITH INIT, SKIP, NAME = 'skipped'")
        check("INIT, SKIP overwrites", err == 0 and [h[2] for h in headers("ex.bak")] == ["skipped"],
              (err, text, headers("ex.bak")))

        # RETAINDAYS, and RETAINDAYS over EXPIREDATE
        err, text, _ = run("BACKUP LOG ex TO DISK = 'ex.bak' WITH NAME = 'r2', RETAINDAYS = 2, "
                           "EXPIREDATE = '2001-01-01'")
        x = headers("ex.bak")[1][1]
        expect = datetime.datetime.now() + datetime.timedelta(days=2)
        check("RETAINDAYS = 2 (wins over EXPIREDATE)", err == 0 and x is not None
              and abs((x - expect).total_seconds()) < 120, (err, text, x, expect))
        err, text, _ = run("BACKUP DATABASE ex TO DISK = 'ex.bak' WITH INIT")
        check("INIT over a RETAINDAYS set: 4030", err == 4030, (err, text))
        err, text, _ = run("BACKUP DATABASE ex TO DISK = 'ex.bak' WITH FORMAT, NAME = 'formatted'")
        check("FORMAT overwrites (implies SKIP)", err == 0 and [h[2] for h in headers("ex.bak")] == ["formatted"],
              (err, text, headers("ex.bak")))

        # variables; a date already past does not protect the set
        err, text, _ = run("DECLARE @d datetime = '2002-02-02 10:00'; "
                           "BACKUP DATABASE ex TO DISK = 'ex2.bak' WITH INIT, NAME = 'past', EXPIREDATE = @d")
        check("EXPIREDATE = @var", err == 0 and headers("ex2.bak")[0][1] == datetime.datetime(2002, 2, 2, 10, 0),
              (err, text))
        err, text, _ = run("BACKUP DATABASE ex TO DISK = 'ex2.bak' WITH INIT, NAME = 'after past'")
        check("INIT over an expired set", err == 0, (err, text))
        err, text, _ = run("DECLARE @n int = 1; BACKUP DATABASE ex TO DISK = 'ex2.bak' WITH NOINIT, RETAINDAYS = @n")
        check("RETAINDAYS = @var", err == 0 and headers("ex2.bak")[1][1] is not None, (err, text))
        err, text, _ = run("BACKUP DATABASE ex TO DISK = 'ex2.bak' WITH NOINIT, RETAINDAYS = 0, NAME = 'zero'")
        check("RETAINDAYS = 0: no date", err == 0 and headers("ex2.bak")[2] == (3, None, "zero"),
              (err, text, headers("ex2.bak")))
        err, text, _ = run("BACKUP DATABASE ex TO DISK = 'ex2.bak' WITH INIT")
        check("INIT: a later set unexpired is enough to refuse", err == 4030, (err, text))

        err, text, _ = run("BACKUP DATABASE ex TO DISK = 'ex3.bak' WITH RETAINDAYS = -1")
        check("RETAINDAYS = -1: 3250", err == 3250, (err, text))
        err, text, _ = run("BACKUP DATABASE ex TO DISK = 'ex3.bak' WITH EXPIREDATE = 'someday'")
        check("EXPIREDATE that is not a date: 3250", err == 3250, (err, text))
        err, text, _ = run("BACKUP DATABASE ex TO DISK = 'ex3.bak' WITH PASSWORD = 'x'")
        check("PASSWORD: 40027 (not supported)", err == 40027, (err, text))
        check("no media written by the refused statements",
              run("RESTORE LABELONLY FROM DISK = 'ex3.bak'")[0] != 0)
    except Exception as e:
        check("unexpected exception", False, repr(e))
    finally:
        srv.cleanup()
    failed = sum(1 for r in results if not r)
    print("%d checks, %d failed" % (len(results), failed))
    return failed


if __name__ == "__main__":
    sys.exit(1 if main() else 0)
