#!/usr/bin/python3
"""Seed 003's example of a marked transaction, run as written through two real
clients: FreeTDS tsql (the whole script on stdin, GO between batches) and
pymssql (one execute per GO batch), each against its own server.

The seed shows only the marked transaction and the two RESTOREs. Around it,
the script does what the seed's comment ("Time passes. Regular database and
log backups are taken. An error occurs in the database.") leaves to the DBA:

  the logical device AdventureWorksBackups (sp_addumpdevice), the database,
  schema Production and table Production.Product;
  FILE = 1  full backup          (WITH INIT: the device starts empty)
  FILE = 2  log backup
  FILE = 3  full backup          <- the seed restores this one
  -- the seed's marked transaction: BK- prices x 1.10
  later work: a price change and a new BK- product, committed after the mark
  FILE = 4  log backup           <- holds the mark; the seed stops there
  more work
  FILE = 5  tail-log backup WITH NORECOVERY: "an error occurs", so the DBA
            saves the tail and leaves the database RESTORING; without it
            RESTORE DATABASE over the database refuses with 3159
  -- the seed's RESTORE DATABASE ... FILE = 3, NORECOVERY and
     RESTORE LOG ... FILE = 4, RECOVERY, STOPATMARK = 'ListPriceUpdate'

Afterwards: every BK- price is exactly 1.10 times what it was, the others are
as they were, nothing committed after the mark is there, and the database is
ONLINE in sys.databases. A client error (severity above 10) anywhere in the
script fails the test.

pymssql raises severity-10 messages (4035, 3014, 3211) as errors; they are
successes here."""
import os, re, shutil, subprocess, sys
from decimal import Decimal

sys.dont_write_bytecode = True

import pymssql

from hadr import PASSWORD, Server

INFO = {3014, 4035, 3211}

SETUP = """\
EXEC sp_addumpdevice 'disk', 'AdventureWorksBackups', '{device}'
GO
CREATE DATABASE AdventureWorks
GO
USE AdventureWorks
GO
CREATE SCHEMA Production
GO
CREATE TABLE Production.Product (
    ProductID int NOT NULL PRIMARY KEY,
    Name nvarchar(50) NOT NULL,
    ProductNumber nvarchar(25) NOT NULL,
    ListPrice money NOT NULL)
GO
INSERT INTO Production.Product (ProductID, Name, ProductNumber, ListPrice) VALUES
    (680, N'HL Road Frame - Black, 58', N'FR-R92B-58', 1431.50),
    (707, N'Sport-100 Helmet, Red', N'HL-U509-R', 34.99),
    (749, N'Road-150 Red, 62', N'BK-R93R-62', 3578.27),
    (771, N'Mountain-100 Silver, 38', N'BK-M82S-38', 3399.99),
    (779, N'Mountain-200 Silver, 38', N'BK-M68S-38', 2319.99),
    (797, N'Road-550-W Yellow, 38', N'BK-R64Y-38', 1120.49),
    (853, N'Women''s Tights, M', N'TG-W091-M', 74.99),
    (966, N'Touring-1000 Blue, 46', N'BK-T79U-46', 2384.07),
    (994, N'LL Bottom Bracket', N'BB-7421', 53.99),
    (999, N'Bike Wash - Dissolver', N'CL-9009', 7.95)
GO
BACKUP DATABASE AdventureWorks TO AdventureWorksBackups WITH INIT, NAME = 'AdventureWorks full 1'
GO
UPDATE Production.Product SET ListPrice = 39.99 WHERE ProductID = 707
GO
BACKUP LOG AdventureWorks TO AdventureWorksBackups WITH NAME = 'AdventureWorks log 1'
GO
UPDATE Production.Product SET ListPrice = 1400.00 WHERE ProductID = 680
GO
BACKUP DATABASE AdventureWorks TO AdventureWorksBackups WITH NAME = 'AdventureWorks full 2'
GO
"""

# The seed's example, verbatim (only trailing blanks dropped); AFTER_MARK goes
# where its comment says time passes.
SEED_MARK = """\
USE AdventureWorks
GO
BEGIN TRANSACTION ListPriceUpdate
   WITH MARK 'UPDATE Product list prices';
GO

UPDATE Production.Product
   SET ListPrice = ListPrice * 1.10
   WHERE ProductNumber LIKE 'BK-%';
GO

COMMIT TRANSACTION ListPriceUpdate;
GO
"""

AFTER_MARK = """\
UPDATE Production.Product SET ListPrice = ListPrice + 100 WHERE ProductID IN (749, 994)
GO
INSERT INTO Production.Product (ProductID, Name, ProductNumber, ListPrice)
    VALUES (1001, N'Road-750 Black, 52', N'BK-R19B-52', 539.99)
GO
BACKUP LOG AdventureWorks TO AdventureWorksBackups WITH NAME = 'AdventureWorks log 2'
GO
DELETE FROM Production.Product WHERE ProductID = 999
GO
USE master
GO
BACKUP LOG AdventureWorks TO AdventureWorksBackups WITH NORECOVERY, NAME = 'AdventureWorks tail'
GO
"""

SEED_RESTORE = """\

-- Time passes. Regular database
-- and log backups are taken.
-- An error occurs in the database.
USE master
GO

RESTORE DATABASE AdventureWorks
FROM AdventureWorksBackups
WITH FILE = 3, NORECOVERY;
GO

RESTORE LOG AdventureWorks
   FROM AdventureWorksBackups
   WITH FILE = 4,
   RECOVERY,
   STOPATMARK = 'ListPriceUpdate';
"""

MSG = re.compile(r"^Msg (\d+) \(severity (\d+), state (\d+)\)")


def script(device):
    return SETUP.format(device=device) + SEED_MARK + AFTER_MARK + SEED_RESTORE + "GO\n"


def batches(text):
    """The batches between GO lines, as a client that splits on GO sends them."""
    out, cur = [], []
    for line in text.split("\n"):
        if line.strip().upper() == "GO":
            if "".join(cur).strip():
                out.append("\n".join(cur))
            cur = []
        else:
            cur.append(line)
    if "".join(cur).strip():
        out.append("\n".join(cur))
    return out


def run_tsql(srv, text):
    """The script on tsql's stdin; returns the errors above severity 10 and
    every message's text."""
    cmd = ["tsql", "-H", "127.0.0.1", "-p", str(srv.port), "-U", "sa", "-P", PASSWORD]
    if shutil.which("stdbuf"):
        cmd = ["stdbuf", "-oL"] + cmd
    p = subprocess.run(cmd, input=text.encode(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       env=dict(os.environ, LC_ALL="C.UTF-8"), timeout=300)
    lines = p.stdout.decode("utf-8", "replace").split("\n")
    errs, texts = [], []
    for i, line in enumerate(lines):
        m = MSG.match(line)
        if m:
            text = lines[i + 1].strip().strip('"') if i + 1 < len(lines) else ""
            texts.append(text)
            if int(m.group(2)) > 10:
                errs.append("%s %s" % (line, text))
    if p.returncode != 0:
        errs.append("tsql exited with %d" % p.returncode)
    return errs, texts


def run_pymssql(srv, text):
    conn = srv.connect()
    texts = []   # every message, through the message handler (it has no numbers)
    conn._conn.set_msghandler(lambda state, sev, srvname, proc, line, msg: texts.append(msg.decode()))
    cur = conn.cursor()
    errs = []
    try:
        for b in batches(text):
            try:
                cur.execute(b)
                while cur.nextset():
                    pass
            except pymssql.Error as e:
                n = e.args[0] if e.args and isinstance(e.args[0], int) else -1
                if n not in INFO:
                    errs.append("%s -> %r" % (b.strip().split("\n")[0], e.args))
    finally:
        conn.close()
    return errs, texts


def products(cur, db="AdventureWorks"):
    cur.execute("SELECT ProductID, ProductNumber, ListPrice FROM %s.Production.Product ORDER BY ProductID" % db)
    return {r[0]: (r[1], Decimal(r[2])) for r in cur.fetchall()}


def scenario(client, runner):
    srv = Server().start()
    results = []

    def check(name, cond, detail=""):
        results.append(bool(cond))
        print("%-64s %s%s" % ("%s: %s" % (client, name), "ok" if cond else "FAILED",
                               "" if cond else "  " + str(detail)))

    try:
        text = script(os.path.join(srv.dir, "AdventureWorksBackups.bak"))
        # the seed's statements really are in the script, in order
        seed_at = text.find(SEED_MARK)
        check("the script holds the seed's statements verbatim",
              seed_at > 0 and text.find(SEED_RESTORE) > seed_at)
        # prices as they were when the marked transaction began: from the
        # first part of the script run on its own (setup only), read back
        setup, rest = text[:seed_at], text[seed_at:]
        errs, _ = runner(srv, setup)
        check("setup ran without errors", not errs, errs)
        c = srv.connect()
        cur = c.cursor()
        before = products(cur)
        c.close()
        check("setup: BK- products and others", sum(1 for v in before.values() if v[0].startswith("BK-")) >= 3
              and any(not v[0].startswith("BK-") for v in before.values()), before)
        errs, texts = runner(srv, rest)
        check("the seed's example ran without errors", not errs, errs)
        done = [t.split(" successfully")[0] for t in texts if " successfully processed " in t]
        check("3014 for the tail-log backup and both RESTOREs",
              done[-3:] == ["BACKUP LOG", "RESTORE DATABASE", "RESTORE LOG"], done)

        c = srv.connect()
        cur = c.cursor()
        cur.execute("RESTORE HEADERONLY FROM AdventureWorksBackups")
        cols = [d[0] for d in cur.description]
        sets = [dict(zip(cols, r)) for r in cur.fetchall()]
        kinds = [(s["Position"], s["BackupTypeDescription"]) for s in sets]
        check("the device: full, log, full, log, tail log",
              kinds == [(1, "Database"), (2, "Transaction Log"), (3, "Database"), (4, "Transaction Log"),
                        (5, "Transaction Log")], kinds)
        cur.execute("SELECT state_desc FROM sys.databases WHERE name = 'AdventureWorks'")
        state = cur.fetchall()
        check("AdventureWorks is ONLINE", state == [("ONLINE",)], state)
        after = products(cur)
        check("the product added after the mark is absent", set(after) == set(before),
              sorted(set(after) ^ set(before)))
        bad = []
        for pid, (num, price) in before.items():
            want = (price * Decimal("1.10")).quantize(Decimal("0.0001")) if num.startswith("BK-") else price
            if pid in after and after[pid][1] != want:
                bad.append((pid, num, str(price), str(after[pid][1]), str(want)))
        check("BK- prices exactly x 1.10, the others unchanged", not bad, bad)
        # 749 (BK-) and 994 got +100 after the mark, in the log backup that holds it
        check("the price changes committed after the mark are absent",
              994 in after and after[994][1] == before[994][1] and
              749 in after and after[749][1] == (before[749][1] * Decimal("1.10")).quantize(Decimal("0.0001")),
              (after.get(749), after.get(994)))
        cur.execute("UPDATE AdventureWorks.Production.Product SET ListPrice = ListPrice WHERE ProductID = 749")
        check("the restored database is writable", cur.rowcount == 1, cur.rowcount)
        c.close()
    finally:
        srv.cleanup()
    return all(results)


def main():
    ok = scenario("tsql", run_tsql)
    ok &= scenario("pymssql", run_pymssql)
    print("test_marks_seed: " + ("ok" if ok else "FAILED"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
