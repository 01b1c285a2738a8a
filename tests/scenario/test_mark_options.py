#!/usr/bin/python3
"""Restoring to a mark, option by option, through pymssql:

- STOPATMARK and STOPBEFOREMARK give results that differ by exactly the
  marked transaction: a transaction another session committed while the
  marked one was open is in both, work after the mark in neither;
- a marked transaction that changes two databases (three-part names), each
  database restored from its own backups to the same mark: both have it or
  neither has it, and money moved between them adds up; also when the log is
  restored WITH NORECOVERY, STOPBEFOREMARK and the database recovered by a
  separate RESTORE DATABASE ... WITH RECOVERY (the transaction is prepared
  but not committed at the stop point in both logs);
- two marks with the same name: without AFTER the first one is used, with
  AFTER 'datetime' the first one committed at or after that time;
- 'lsn:N' with N from msdb.dbo.logmarkhistory.lsn stops where the name does;
- a mark that is not in the log backup being restored: the whole backup is
  applied, 4329, the database stays RESTORING, and the next log backup finds
  the mark;
- a mark older than the full backup the sequence began with: 4338, nothing
  applied, and the same log backup then restores without a stop point;
- STOPATMARK with a mark name on RESTORE DATABASE: 4340, nothing done;
- a chain that never reaches the mark stays RESTORING after each RESTORE LOG
  ... WITH RECOVERY (4329, as SQL Server); RESTORE DATABASE ... WITH RECOVERY
  then brings it online at the end of what was restored.

Expected contents are read from the source databases at the right moments
(just before the marked transaction, just after its commit), never written
into the test. pymssql raises severity-10 messages (4035, 3014, 3211) as
errors; they count as success, and every message's text is collected through
the message handler (4329 is recognised by its text: the handler gets no
numbers)."""
import sys, time

sys.dont_write_bytecode = True

import pymssql

from hadr import Server

INFO = {3014, 4035, 3211}
MSG_4329 = "contains records logged before the designated mark"


class Client:
    def __init__(self, srv):
        self.conn = srv.connect()
        self.texts = []
        self.conn._conn.set_msghandler(lambda state, sev, s, proc, line, msg: self.texts.append(msg.decode()))
        self.cur = self.conn.cursor()

    def run(self, sql):
        """(error number or 0, rows of the first result set); INFO counts as 0."""
        del self.texts[:]
        try:
            self.cur.execute(sql)
            rows = None
            while True:
                if self.cur.description and rows is None:
                    rows = [tuple(r) for r in self.cur.fetchall()]
                if not self.cur.nextset():
                    break
            return 0, rows or []
        except pymssql.Error as e:
            n = e.args[0] if e.args and isinstance(e.args[0], int) else -1
            return (0 if n in INFO else n), []

    def do(self, sql):
        err, rows = self.run(sql)
        if err:
            raise RuntimeError("%s -> %d %s" % (sql, err, " | ".join(self.texts)))
        return rows

    def state(self, db):
        rows = self.do("SELECT state_desc FROM sys.databases WHERE name = '%s'" % db)
        return rows[0][0] if rows else None


def main():
    srv = Server().start()
    results = []

    def check(name, cond, detail=""):
        results.append(bool(cond))
        print("%-72s %s%s" % (name, "ok" if cond else "FAILED", "" if cond else "  " + str(detail)))

    try:
        c = Client(srv)
        other = Client(srv)

        def snap(db, table):
            return c.do("SELECT * FROM %s.dbo.%s ORDER BY 1" % (db, table))

        def restore(src, new, device, logs, option=None, full=1):
            """Full backup `full` WITH NORECOVERY under a new name, then each log
            backup in `logs`, the last one WITH RECOVERY and `option`. Returns
            the error number of the first step that failed, or 0."""
            err, _ = c.run("RESTORE DATABASE %s FROM DISK = '%s' WITH FILE = %d, NORECOVERY, "
                           "MOVE '%s' TO '%s.mdf', MOVE '%s_log' TO '%s_log.ldf'"
                           % (new, device, full, src, new, src, new))
            for i, pos in enumerate(logs):
                if err:
                    break
                last = i == len(logs) - 1
                err, _ = c.run("RESTORE LOG %s FROM DISK = '%s' WITH FILE = %d, %s%s"
                               % (new, device, pos, "RECOVERY" if last else "NORECOVERY",
                                  ", " + option if last and option else ""))
            return err

        # ---- 1. one database: STOPATMARK and STOPBEFOREMARK ----------------------
        c.do("CREATE DATABASE shop")
        c.do("CREATE TABLE shop.dbo.item (id int PRIMARY KEY, qty int NOT NULL, note varchar(40) NULL)")
        c.do("INSERT INTO shop.dbo.item VALUES (1, 10, 'a'), (2, 20, 'b'), (3, 30, 'c'), (4, 40, 'd'), "
             "(5, 50, 'e'), (6, 60, 'f')")
        c.do("BACKUP DATABASE shop TO DISK = 'shop.bak' WITH INIT")
        c.do("UPDATE shop.dbo.item SET qty = 11 WHERE id = 1")            # before the mark
        s0 = snap("shop", "item")
        c.do("BEGIN TRAN Restock WITH MARK 'restock two items'")
        c.do("UPDATE shop.dbo.item SET qty = qty + 100 WHERE id IN (2, 3)")
        c.do("INSERT INTO shop.dbo.item VALUES (7, 70, 'new')")
        c.do("DELETE FROM shop.dbo.item WHERE id = 4")
        # another session commits while the marked transaction is open
        other.do("UPDATE shop.dbo.item SET note = 'other' WHERE id = 5")
        c.do("COMMIT TRAN Restock")
        s1 = snap("shop", "item")
        c.do("UPDATE shop.dbo.item SET qty = 66 WHERE id = 6")            # after the mark
        c.do("BACKUP LOG shop TO DISK = 'shop.bak'")
        marked = {2, 3, 4, 7}   # the rows the marked transaction changed
        want_before = sorted([r for r in s1 if r[0] not in marked] + [r for r in s0 if r[0] in marked])
        err = restore("shop", "shop_at", "shop.bak", [2], "STOPATMARK = 'Restock'")
        at = snap("shop_at", "item") if not err else err
        check("STOPATMARK: the database as the marked commit left it", at == s1, (at, s1))
        err = restore("shop", "shop_before", "shop.bak", [2], "STOPBEFOREMARK = 'Restock'")
        before = snap("shop_before", "item") if not err else err
        check("STOPBEFOREMARK: the same without the marked transaction", before == want_before,
              (before, want_before))
        check("... and the other session's commit is in both",
              (5, 50, "other") in s1 and isinstance(before, list) and (5, 50, "other") in before, before)
        check("both ONLINE", c.state("shop_at") == "ONLINE" and c.state("shop_before") == "ONLINE",
              (c.state("shop_at"), c.state("shop_before")))

        # ---- 2. a marked transaction across two databases ------------------------
        for db in ("bank_a", "bank_b"):
            c.do("CREATE DATABASE " + db)
            c.do("CREATE TABLE %s.dbo.acct (id int PRIMARY KEY, balance money NOT NULL)" % db)
            c.do("INSERT INTO %s.dbo.acct VALUES (1, 1000), (2, 500)" % db)
            c.do("BACKUP DATABASE %s TO DISK = '%s.bak' WITH INIT" % (db, db))
        c.do("UPDATE bank_b.dbo.acct SET balance = balance + 1 WHERE id = 2")   # before the mark
        a0, b0 = snap("bank_a", "acct"), snap("bank_b", "acct")
        c.do("BEGIN TRAN Transfer WITH MARK 'move 100 from bank_a to bank_b'")
        c.do("UPDATE bank_a.dbo.acct SET balance = balance - 100 WHERE id = 1")
        c.do("UPDATE bank_b.dbo.acct SET balance = balance + 100 WHERE id = 1")
        c.do("INSERT INTO bank_b.dbo.acct VALUES (3, 0)")
        c.do("COMMIT TRAN Transfer")
        a1, b1 = snap("bank_a", "acct"), snap("bank_b", "acct")
        # after the mark: another transfer, not marked
        c.do("BEGIN TRAN")
        c.do("UPDATE bank_a.dbo.acct SET balance = balance + 7 WHERE id = 2")
        c.do("UPDATE bank_b.dbo.acct SET balance = balance - 7 WHERE id = 2")
        c.do("COMMIT TRAN")
        c.do("BACKUP LOG bank_a TO DISK = 'bank_a.bak'")
        c.do("BACKUP LOG bank_b TO DISK = 'bank_b.bak'")
        total = lambda a, b: sum(r[1] for r in a) + sum(r[1] for r in b)
        got = {}
        for opt in ("STOPATMARK", "STOPBEFOREMARK"):
            for db in ("bank_a", "bank_b"):
                new = "%s_%s" % (db, opt.lower())
                err = restore(db, new, db + ".bak", [2], "%s = 'Transfer'" % opt)
                got[opt, db] = snap(new, "acct") if not err else err
        check("two databases, STOPATMARK: both have the transfer",
              (got["STOPATMARK", "bank_a"], got["STOPATMARK", "bank_b"]) == (a1, b1),
              (got["STOPATMARK", "bank_a"], got["STOPATMARK", "bank_b"], a1, b1))
        check("two databases, STOPBEFOREMARK: neither has it",
              (got["STOPBEFOREMARK", "bank_a"], got["STOPBEFOREMARK", "bank_b"]) == (a0, b0),
              (got["STOPBEFOREMARK", "bank_a"], got["STOPBEFOREMARK", "bank_b"], a0, b0))
        # every step WITH NORECOVERY, then RESTORE DATABASE ... WITH RECOVERY: the
        # same as stopping WITH RECOVERY
        for db in ("bank_a", "bank_b"):
            new = db + "_norecovery"
            err = restore(db, new, db + ".bak", [])   # the full only, NORECOVERY
            if not err:
                err, _ = c.run("RESTORE LOG %s FROM DISK = '%s.bak' WITH FILE = 2, NORECOVERY, "
                               "STOPBEFOREMARK = 'Transfer'" % (new, db))
            if not err:
                err, _ = c.run("RESTORE DATABASE %s WITH RECOVERY" % new)
            got["NORECOVERY", db] = snap(new, "acct") if not err else err
        check("two databases, STOPBEFOREMARK ... NORECOVERY, then WITH RECOVERY: neither",
              (got["NORECOVERY", "bank_a"], got["NORECOVERY", "bank_b"]) == (a0, b0),
              (got["NORECOVERY", "bank_a"], got["NORECOVERY", "bank_b"], a0, b0))
        check("... and the money adds up in both restores",
              all(isinstance(got[o, "bank_a"], list) and isinstance(got[o, "bank_b"], list) and
                  total(got[o, "bank_a"], got[o, "bank_b"]) == total(a0, b0)
                  for o in ("STOPATMARK", "STOPBEFOREMARK", "NORECOVERY")), got)

        # ---- 3. two marks with one name: AFTER ------------------------------------
        c.do("CREATE DATABASE daily")
        c.do("CREATE TABLE daily.dbo.t (id int PRIMARY KEY, v int NOT NULL)")
        c.do("INSERT INTO daily.dbo.t VALUES (1, 1)")
        c.do("BACKUP DATABASE daily TO DISK = 'daily.bak' WITH INIT")
        states = {"start": snap("daily", "t")}
        c.do("BEGIN TRAN Daily WITH MARK 'first run'")
        c.do("UPDATE daily.dbo.t SET v = 2")
        c.do("COMMIT TRAN Daily")
        states["mark 1"] = snap("daily", "t")
        c.do("UPDATE daily.dbo.t SET v = 21")
        states["between"] = snap("daily", "t")
        time.sleep(0.05)
        between = c.do("SELECT CONVERT(varchar(30), SYSDATETIME(), 121)")[0][0]
        time.sleep(0.05)
        c.do("BEGIN TRAN Daily WITH MARK 'second run'")
        c.do("UPDATE daily.dbo.t SET v = 3")
        c.do("COMMIT TRAN Daily")
        states["mark 2"] = snap("daily", "t")
        c.do("UPDATE daily.dbo.t SET v = 4")
        c.do("BACKUP LOG daily TO DISK = 'daily.bak'")
        check("the four states differ", len(set(map(tuple, states.values()))) == 4, states)
        cases = [("STOPATMARK = 'Daily'", "mark 1"),
                 ("STOPBEFOREMARK = 'Daily'", "start"),
                 ("STOPATMARK = 'Daily' AFTER '%s'" % between, "mark 2"),
                 ("STOPBEFOREMARK = 'Daily' AFTER '%s'" % between, "between")]
        for i, (opt, want) in enumerate(cases):
            new = "daily_%d" % i
            err = restore("daily", new, "daily.bak", [2], opt)
            got = snap(new, "t") if not err else err
            check("%s: %s" % (opt.split(" AFTER")[0] + (" AFTER t" if "AFTER" in opt else ""), want),
                  got == states[want], (got, states[want]))

        # ---- 4. 'lsn:N' from msdb.dbo.logmarkhistory ------------------------------
        err, rows = c.run("SELECT lsn FROM msdb.dbo.logmarkhistory WHERE database_name = 'daily' "
                          "AND mark_name = 'Daily' ORDER BY lsn")
        check("logmarkhistory: one row per Daily mark", not err and len(rows) == 2, (err, rows, c.texts))
        if not err and len(rows) == 2:
            lsns = [int(r[0]) for r in rows]
            cases = [("STOPATMARK", lsns[0], "mark 1"), ("STOPBEFOREMARK", lsns[0], "start"),
                     ("STOPATMARK", lsns[1], "mark 2"), ("STOPBEFOREMARK", lsns[1], "between")]
            for i, (opt, n, want) in enumerate(cases):
                new = "daily_lsn_%d" % i
                err = restore("daily", new, "daily.bak", [2], "%s = 'lsn:%d'" % (opt, n))
                got = snap(new, "t") if not err else err
                check("%s = 'lsn:N' of mark %d: %s" % (opt, 1 + (n == lsns[1]), want), got == states[want],
                      (got, states[want]))
        err, rows = c.run("SELECT database_name FROM msdb.dbo.logmarkhistory WHERE mark_name = 'Transfer' "
                          "ORDER BY database_name")
        check("logmarkhistory: the cross-database mark has a row in each database",
              not err and rows == [("bank_a",), ("bank_b",)], (err, rows))

        # ---- 5. a mark in a later log backup --------------------------------------
        c.do("CREATE DATABASE later")
        c.do("CREATE TABLE later.dbo.t (id int PRIMARY KEY, v int NOT NULL)")
        c.do("INSERT INTO later.dbo.t VALUES (1, 1), (2, 2)")
        c.do("BACKUP DATABASE later TO DISK = 'later.bak' WITH INIT")
        c.do("UPDATE later.dbo.t SET v = 10 WHERE id = 1")
        c.do("BACKUP LOG later TO DISK = 'later.bak'")                       # file 2: no mark
        c.do("UPDATE later.dbo.t SET v = 11 WHERE id = 1")
        c.do("BEGIN TRAN Late WITH MARK")
        c.do("UPDATE later.dbo.t SET v = 20 WHERE id = 2")
        c.do("COMMIT TRAN Late")
        at_late = snap("later", "t")
        c.do("UPDATE later.dbo.t SET v = 30")
        end_of_chain = snap("later", "t")
        c.do("BACKUP LOG later TO DISK = 'later.bak'")                       # file 3: the mark
        err = restore("later", "later_r", "later.bak", [2], "STOPATMARK = 'Late'")
        check("mark not in this log backup: restored, 4329", err == 0 and any(MSG_4329 in t for t in c.texts),
              (err, c.texts))
        check("... the database stays RESTORING", c.state("later_r") == "RESTORING", c.state("later_r"))
        err, _ = c.run("RESTORE LOG later_r FROM DISK = 'later.bak' WITH FILE = 3, RECOVERY, STOPATMARK = 'Late'")
        check("... the next log backup finds the mark: ONLINE",
              err == 0 and c.state("later_r") == "ONLINE" and not any(MSG_4329 in t for t in c.texts),
              (err, c.state("later_r"), c.texts))
        got = snap("later_r", "t") if c.state("later_r") == "ONLINE" else None
        check("... at the mark", got == at_late, (got, at_late))

        # ---- 5b. the mark lies before the full backup restored: 4338 --------------
        c.do("CREATE DATABASE early")
        c.do("CREATE TABLE early.dbo.t (id int PRIMARY KEY, v int NOT NULL)")
        c.do("INSERT INTO early.dbo.t VALUES (1, 1)")
        c.do("BACKUP DATABASE early TO DISK = 'early.bak' WITH INIT")        # file 1
        c.do("BEGIN TRAN Early WITH MARK")
        c.do("UPDATE early.dbo.t SET v = 2")
        c.do("COMMIT TRAN Early")
        c.do("BACKUP DATABASE early TO DISK = 'early.bak'")                  # file 2: after the mark
        c.do("UPDATE early.dbo.t SET v = 3")
        end_early = snap("early", "t")
        c.do("BACKUP LOG early TO DISK = 'early.bak'")                       # file 3: from file 1 on
        err = restore("early", "early_r", "early.bak", [3], "STOPATMARK = 'Early'", full=2)
        check("a mark older than the full backup: 4338, still RESTORING",
              err == 4338 and c.state("early_r") == "RESTORING", (err, c.state("early_r")))
        err, _ = c.run("RESTORE LOG early_r FROM DISK = 'early.bak' WITH FILE = 3, RECOVERY")
        got = snap("early_r", "t") if not err else err
        check("... the same log backup then restores without the mark", got == end_early, (got, end_early))

        # ---- 6. STOPATMARK with a name on RESTORE DATABASE: 4340 -------------------
        err, _ = c.run("RESTORE DATABASE later_db FROM DISK = 'later.bak' WITH FILE = 1, STOPATMARK = 'Late', "
                       "MOVE 'later' TO 'later_db.mdf', MOVE 'later_log' TO 'later_db_log.ldf'")
        check("RESTORE DATABASE ... STOPATMARK = 'name': 4340, no database",
              err == 4340 and c.state("later_db") is None, (err, c.texts, c.state("later_db")))
        err, _ = c.run("RESTORE DATABASE later_db FROM DISK = 'later.bak' WITH FILE = 1, NORECOVERY, "
                       "STOPBEFOREMARK = 'Late', MOVE 'later' TO 'later_db.mdf', MOVE 'later_log' TO 'later_db_log.ldf'")
        check("RESTORE DATABASE ... STOPBEFOREMARK = 'name': 4340", err == 4340 and c.state("later_db") is None,
              (err, c.texts))

        # ---- 7. a chain that never reaches the mark --------------------------------
        err = restore("later", "later_n", "later.bak", [2], "STOPATMARK = 'NoSuchMark'")
        said = any(MSG_4329 in t for t in c.texts)
        check("mark never reached, first log: RESTORING (4329)",
              err == 0 and said and c.state("later_n") == "RESTORING", (err, said, c.state("later_n")))
        err, _ = c.run("RESTORE LOG later_n FROM DISK = 'later.bak' WITH FILE = 3, RECOVERY, STOPATMARK = 'NoSuchMark'")
        said = any(MSG_4329 in t for t in c.texts)
        check("mark never reached, last log: still RESTORING (4329)",
              err == 0 and said and c.state("later_n") == "RESTORING", (err, said, c.state("later_n")))
        err, _ = c.run("RESTORE DATABASE later_n WITH RECOVERY, STOPATMARK = 'NoSuchMark'")
        texts = list(c.texts)
        check("recover-only with a mark name: 4340, still RESTORING",
              err == 4340 and c.state("later_n") == "RESTORING", (err, c.state("later_n"), texts))
        err, _ = c.run("RESTORE DATABASE later_n WITH RECOVERY")
        texts = list(c.texts)
        check("RESTORE DATABASE ... WITH RECOVERY: ONLINE", err == 0 and c.state("later_n") == "ONLINE",
              (err, c.state("later_n"), texts))
        got = snap("later_n", "t") if c.state("later_n") == "ONLINE" else None
        check("... at the end of the restored chain", got == end_of_chain, (got, end_of_chain))
    finally:
        srv.cleanup()
    ok = all(results)
    print("test_mark_options: " + ("ok" if ok else "FAILED"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
