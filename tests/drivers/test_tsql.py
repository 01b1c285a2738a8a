#!/usr/bin/python3
"""FreeTDS tsql against hadrd. tsql has no parameter API, so everything is
T-SQL batches fed on stdin; results are compared as the text tsql prints
(tab-separated, NULL for nulls, dates in its fixed "%b %e %Y %I:%M%p" form)
and errors as its "Msg N (severity S, state T)" lines.

Steps: DDL, DML, a committed and a rolled-back transaction (checked from a
second session), sp_executesql with parameters (incl. OUTPUT), every column
type read back at TDS 7.1, 7.2, 7.3 and 7.4 (date/time/datetime2 arrive as
text before 7.3, (max) types as TEXT/NTEXT/IMAGE at 7.1) and written through
sp_executesql parameters, and errors with their numbers."""
import os, re, shutil, struct, subprocess, sys

sys.dont_write_bytecode = True   # no __pycache__ in the source tree

import cases

MONTHS = "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split()
MSG = re.compile(r"^Msg (\d+) \(severity (\d+), state (\d+)\)")


def tsql(srv, batches, database=None, tdsver="7.4"):
    """Runs the batches in one tsql session; returns one list of output lines
    per batch (result rows and message lines in the order tsql printed them)."""
    script = []
    for i, b in enumerate(batches):
        script.append("PRINT '@@batch %d'\ngo\n%s\ngo\n" % (i, b))
    cmd = ["tsql", "-H", "127.0.0.1", "-p", str(srv.port), "-U", "sa", "-P", cases.PASSWORD, "-o", "q"]
    if database:
        cmd += ["-D", database]
    if shutil.which("stdbuf"):
        cmd = ["stdbuf", "-oL"] + cmd   # keep stdout in step with the messages on stderr
    env = dict(os.environ, TDSVER=tdsver, LC_ALL="C.UTF-8")
    p = subprocess.run(cmd, input="".join(script).encode(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       env=env, timeout=120)
    out = [[] for _ in batches]
    cur = None
    for line in p.stdout.decode("utf-8", "replace").split("\n"):
        m = re.match(r"^@@batch (\d+)$", line)
        if m:
            cur = int(m.group(1))
        elif cur is not None and line != "":
            out[cur].append(line)
    return out


def errors(lines):
    return [int(m.group(1)) for m in (MSG.match(line) for line in lines) if m]


def tsql_date(y, mo, d, h, mi):
    return "%s %2d %d %02d:%02d%s" % (MONTHS[mo - 1], d, y, h % 12 or 12, mi, "AM" if h < 12 else "PM")


def expected_text(col, canon, tdsver):
    """What tsql prints for a canonical value of cases.COLUMNS entry col."""
    kind, sqltype = col[2], col[1]
    if canon is None:
        return "NULL"
    native_dates = tdsver >= "7.3" or sqltype == "datetime"
    if kind == "date" and native_dates:
        y, mo, d = (int(x) for x in canon.split("-"))
        return tsql_date(y, mo, d, 0, 0)
    if kind == "time" and native_dates:
        h, mi = (int(x) for x in canon.split(":")[:2])
        return tsql_date(1900, 1, 1, h, mi)
    if kind == "datetime" and native_dates:
        date, tm = canon.split(" ")
        y, mo, d = (int(x) for x in date.split("-"))
        h, mi = (int(x) for x in tm.split(":")[:2])
        return tsql_date(y, mo, d, h, mi)
    return canon


def same_text(col, want, got):
    if col[2] in ("float", "real") and want != "NULL" and got != "NULL":
        try:
            g = float(got)
        except ValueError:
            return False
        if col[2] == "real":   # tsql prints 9 digits; compare as float32
            g = struct.unpack("f", struct.pack("f", g))[0]
        return g == float(want)
    return want == got


def types_check(ck, srv, tdsver):
    out = tsql(srv, [cases.select_sql("types_lit")], "drvtest", tdsver)[0]
    if not ck.eq(len(out), cases.ROWS + 1, "TDS %s: types result lines" % tdsver):
        print("   " + "\n   ".join(cases._short(x) for x in out[:6]))
        return
    ck.eq(out[0].split("\t"), ["id"] + [c[0] for c in cases.COLUMNS], "TDS %s: column names" % tdsver)
    for r in range(cases.ROWS):
        cells = out[r + 1].split("\t")
        if not ck.eq(len(cells), len(cases.COLUMNS) + 1, "TDS %s row %d: cells" % (tdsver, r + 1)):
            continue
        ck.eq(cells[0], str(r + 1), "TDS %s row id" % tdsver)
        for i, col in enumerate(cases.COLUMNS):
            want = expected_text(col, cases.expected(i, r), tdsver)
            got = cells[i + 1]
            ck.check(same_text(col, want, got), "TDS %s %s row %d: got %r, want %r"
                     % (tdsver, col[0], r + 1, cases._short(got), cases._short(want)))


def run(ck, srv):
    # -- DDL
    o = tsql(srv, ["CREATE DATABASE drvtest",
                   "SELECT name FROM sys.databases WHERE name = 'drvtest'"])
    ck.eq(o, [[], ["name", "drvtest"]], "CREATE DATABASE")
    o = tsql(srv, ["SELECT DB_NAME() AS db",
                   "CREATE TABLE items (id int NOT NULL PRIMARY KEY, name nvarchar(40) NOT NULL, qty int NULL)\n"
                   "CREATE INDEX ix_items_name ON items (name)\n"
                   "CREATE TABLE scratch (a int)\nDROP TABLE scratch",
                   "SELECT name FROM sys.tables ORDER BY name"], "drvtest")
    ck.eq(o, [["db", "drvtest"], [], ["name", "items"]], "DDL in the login database")

    # -- DML, row counts through @@ROWCOUNT
    o = tsql(srv, ["INSERT INTO items (id, name, qty) VALUES (1, N'a', 10), (2, N'b', 20), (3, N'c', 30)\n"
                   "SELECT @@ROWCOUNT AS n",
                   "UPDATE items SET qty = qty + 1 WHERE id >= 2\nSELECT @@ROWCOUNT AS n",
                   "DELETE FROM items WHERE id = 1\nSELECT @@ROWCOUNT AS n",
                   "SELECT id, name, qty FROM items ORDER BY id"], "drvtest")
    ck.eq(o, [["n", "3"], ["n", "2"], ["n", "1"], ["id\tname\tqty", "2\tb\t21", "3\tc\t31"]], "DML")

    # -- transactions; the second tsql session sees the outcome
    o = tsql(srv, ["BEGIN TRAN\nINSERT INTO items (id, name, qty) VALUES (10, N'committed', 1)\n"
                   "UPDATE items SET qty = 100 WHERE id = 2\nSELECT @@TRANCOUNT AS n",
                   "COMMIT TRAN\nSELECT @@TRANCOUNT AS n",
                   "BEGIN TRAN\nINSERT INTO items (id, name, qty) VALUES (11, N'rolled back', 1)\n"
                   "UPDATE items SET qty = 999 WHERE id = 3\nDELETE FROM items WHERE id = 2\n"
                   "SELECT COUNT(*) AS n FROM items",
                   "ROLLBACK TRAN\nSELECT @@TRANCOUNT AS n"], "drvtest")
    ck.eq(o, [["n", "1"], ["n", "0"], ["n", "3"], ["n", "0"]], "transaction statements")
    o = tsql(srv, ["SELECT id, qty FROM items ORDER BY id"], "drvtest")
    ck.eq(o, [["id\tqty", "2\t100", "3\t31", "10\t1"]], "after commit and rollback, from another session")

    # -- parameters through sp_executesql
    o = tsql(srv, ["EXEC sp_executesql N'SELECT name, qty FROM items WHERE id = @id AND qty > @q', "
                   "N'@id int, @q int', @id = 3, @q = 5",
                   "EXEC sp_executesql N'INSERT INTO items (id, name, qty) VALUES (@id, @n, @q)', "
                   "N'@id int, @n nvarchar(40), @q int', 20, N'ünïcødé ☃', NULL",
                   "DECLARE @c int\nEXEC sp_executesql N'SELECT @cnt = COUNT(*) FROM items WHERE qty IS NULL', "
                   "N'@cnt int OUTPUT', @cnt = @c OUTPUT\nSELECT @c AS c",
                   "SELECT name FROM items WHERE id = 20"], "drvtest")
    ck.eq(o, [["name\tqty", "c\t31"], [], ["c", "1"], ["name", "ünïcødé ☃"]], "sp_executesql")

    # -- every column type: literals, read back at each TDS version
    o = tsql(srv, [cases.create_types_sql("types_lit") + "\n" + cases.create_types_sql("types_par"),
                   cases.insert_literals_sql("types_lit") + "\nSELECT @@ROWCOUNT AS n"], "drvtest")
    ck.eq(o, [[], ["n", str(cases.ROWS)]], "types tables")
    for v in ("7.4", "7.3", "7.2", "7.1"):
        types_check(ck, srv, v)
    # full fractions, which tsql's date format drops, as the server's text
    exprs = ["CONVERT(varchar(40), %s, 121)" % c[0] if c[1] == "datetime" else "CAST(%s AS varchar(40))" % c[0]
             for c in cases.COLUMNS if c[2] in ("time", "datetime")]
    tcols = [(i, c) for i, c in enumerate(cases.COLUMNS) if c[2] in ("time", "datetime")]
    o = tsql(srv, ["SELECT %s FROM types_lit ORDER BY id" % ", ".join(exprs)], "drvtest")[0]
    want = [[cases.expected(i, r) or "NULL" for i, _ in tcols] for r in range(cases.ROWS)]
    ck.eq([line.split("\t") for line in o[1:]], want, "time and datetime values as text")
    # written through sp_executesql parameters, compared inside the server
    decl = ", ".join("@p%d %s" % (i, c[1]) for i, c in enumerate(cases.COLUMNS))
    batches = []
    for r in range(cases.ROWS):
        args = ", ".join("@p%d = %s" % (i, c[4][r][0] if r < 3 else "NULL") for i, c in enumerate(cases.COLUMNS))
        batches.append("EXEC sp_executesql N'INSERT INTO types_par (id, %s) VALUES (%d, %s)', N'%s', %s"
                       % (", ".join(c[0] for c in cases.COLUMNS), r + 1,
                          ", ".join("@p%d" % i for i in range(len(cases.COLUMNS))), decl, args))
    batches.append(cases.diff_tables_sql("types_lit", "types_par"))
    o = tsql(srv, batches, "drvtest")
    ck.eq(o[:-1], [[]] * cases.ROWS, "sp_executesql INSERTs of every type")
    ck.eq(o[-1][1:], [], "values written through sp_executesql equal the literal rows")

    # -- errors
    o = tsql(srv, ["SELECT * FROM no_such_table",
                   "INSERT INTO items (id, name) VALUES (2, N'dup')",
                   "SELECT 1/0 AS x",
                   "SELECT COUNT(*) AS n FROM items"], "drvtest")
    ck.eq([errors(x) for x in o], [[208], [2627, 3621], [8134], []], "error numbers")
    ck.check(any(MSG.match(x) and "(severity 16, state 1)" in x for x in o[0]), "208 has severity 16, state 1")
    ck.eq(o[3], ["n", "4"], "session usable after errors")


def main():
    if not shutil.which("tsql"):
        print("FAIL tsql: tsql not found (Debian package freetds-bin)\ntsql: 0 checks passed, 1 failed")
        return 1
    return cases.run_test("tsql", run)


if __name__ == "__main__":
    sys.exit(main())
