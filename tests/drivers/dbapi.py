"""The driver test for Python DB-API drivers (pymssql, pyodbc): the same steps,
with a small adapter per driver for what differs (placeholders, how autocommit
is switched, where the error number is, which Python types carry a value).

Steps: DDL, DML with row counts, a committed and a rolled-back transaction
seen from a second connection, parameterized queries, every column type read
back (rows built from literals; also at older TDS versions, where date/time/
datetime2 arrive as text and, at 7.1, (max) types as text/ntext/image) and
written through parameters (compared with the literal rows inside the
server), and errors with their numbers."""
import datetime, decimal, uuid

import cases


class Adapter:
    """What a driver test overrides."""
    name = "?"
    placeholder = "?"
    frac_digits = 6            # fraction digits the driver keeps for time kinds
    old_versions = ()          # older TDS versions the types are also read at

    def connect(self, srv, autocommit, database, tds_version=None):
        raise NotImplementedError

    def error_number(self, exc):
        raise NotImplementedError

    def canon(self, kind, scale, v):
        """A fetched value as the canonical text of cases.py."""
        return canon_python(kind, scale, v)

    def param(self, kind, scale, text):
        """A canonical value as a Python parameter, or NotImplemented when the
        driver cannot carry it (the INSERT then uses the literal)."""
        return param_python(kind, scale, text)

    def fetch_types(self, cur, table):
        """The rows of a types table, ordered by id."""
        return fetchall(cur, cases.select_sql(table))

    def extra_params(self, ck, conn, cur):
        """The driver's own ways of sending parameters (RPC forms)."""


def canon_python(kind, scale, v):
    if v is None:
        return None
    if isinstance(v, str) and kind in ("date", "time", "datetime"):
        return v                # before TDS 7.3 these arrive as text
    if kind == "int":
        return str(int(v))
    if kind == "dec":
        return format(decimal.Decimal(v), ".%df" % scale)   # exact, never through float
    if kind in ("float", "real"):
        return repr(float(v))
    if kind == "date":
        return "%04d-%02d-%02d" % (v.year, v.month, v.day)
    if kind == "time":
        return "%02d:%02d:%02d" % (v.hour, v.minute, v.second) + (".%06d" % v.microsecond if scale else "")
    if kind == "datetime":
        return ("%04d-%02d-%02d %02d:%02d:%02d.%06d"
                % (v.year, v.month, v.day, v.hour, v.minute, v.second, v.microsecond))
    if kind == "str":
        return v
    if kind == "bin":
        return bytes(v).hex()
    if kind == "guid":
        return str(v).upper()
    raise ValueError(kind)


def parse_time_text(text):
    """'HH:MM:SS[.fffffff]' -> (h, m, s, fraction digits)"""
    hms, _, frac = text.partition(".")
    h, m, s = (int(x) for x in hms.split(":"))
    return h, m, s, frac


def param_python(kind, scale, text):
    if kind == "int":
        return int(text)
    if kind == "dec":
        return decimal.Decimal(text)
    if kind in ("float", "real"):
        return float(text)
    if kind == "date":
        return datetime.date.fromisoformat(text)
    if kind in ("time", "datetime"):
        date, _, tm = text.rpartition(" ")
        h, m, s, frac = parse_time_text(tm)
        if len(frac.rstrip("0")) > 6:
            return NotImplemented          # Python keeps microseconds only
        us = int((frac + "000000")[:6])
        if not date:
            return datetime.time(h, m, s, us)
        y, mo, d = (int(x) for x in date.split("-"))
        return datetime.datetime(y, mo, d, h, m, s, us)
    if kind == "str":
        return text
    if kind == "bin":
        return bytes.fromhex(text)
    if kind == "guid":
        return uuid.UUID(text)
    raise ValueError(kind)


def fetchall(cur, sql, params=None):
    if params is None:
        cur.execute(sql)
    else:
        cur.execute(sql, params)
    return [tuple(r) for r in cur.fetchall()]


def expect_error(ck, drv, cur, sql, number, what):
    try:
        cur.execute(sql)
        try:
            cur.fetchall()
        except Exception:
            pass
    except Exception as e:  # the driver's own error class
        ck.eq(drv.error_number(e), number, what + " error number (%s)" % e)
        return
    ck.check(False, what + ": no error raised, want %d" % number)


def check_types(ck, drv, rows, label):
    ck.eq(len(rows), cases.ROWS, label + "types row count")
    for r, row in enumerate(rows):
        ck.eq(row[0], r + 1, label + "types row id")
        for i, col in enumerate(cases.COLUMNS):
            want = cases.expected(i, r)
            try:
                got = drv.canon(col[2], col[3], row[i + 1])
            except Exception as e:  # report, don't stop
                got = "<%r>" % e
            ck.check(cases.same(col[2], want, got, drv.frac_digits),
                     "%s%s row %d: got %r, want %r" % (label, col[0], r + 1, cases._short(got), cases._short(want)))


def run(ck, srv, drv):
    ph = drv.placeholder
    admin = drv.connect(srv, True, "master")
    cur = admin.cursor()

    # -- DDL
    cur.execute("CREATE DATABASE drvtest")
    ck.eq(fetchall(cur, "SELECT name FROM sys.databases WHERE name = 'drvtest'"), [("drvtest",)], "CREATE DATABASE")
    admin.close()
    c = drv.connect(srv, True, "drvtest")
    cur = c.cursor()
    ck.eq(fetchall(cur, "SELECT DB_NAME() AS db"), [("drvtest",)], "database from the login")
    cur.execute("CREATE TABLE items (id int NOT NULL PRIMARY KEY, name nvarchar(40) NOT NULL, qty int NULL)")
    cur.execute("CREATE INDEX ix_items_name ON items (name)")
    cur.execute("CREATE TABLE scratch (a int)")
    cur.execute("DROP TABLE scratch")
    ck.eq(fetchall(cur, "SELECT name FROM sys.tables ORDER BY name"), [("items",)], "sys.tables after DDL")
    ck.eq(fetchall(cur, "SELECT COLUMN_NAME, DATA_TYPE FROM INFORMATION_SCHEMA.COLUMNS "
                        "WHERE TABLE_NAME = 'items' ORDER BY ORDINAL_POSITION"),
          [("id", "int"), ("name", "nvarchar"), ("qty", "int")], "INFORMATION_SCHEMA.COLUMNS")

    # -- DML
    cur.execute("INSERT INTO items (id, name, qty) VALUES (1, N'a', 10), (2, N'b', 20), (3, N'c', 30)")
    ck.eq(cur.rowcount, 3, "INSERT row count")
    cur.execute("UPDATE items SET qty = qty + 1 WHERE id >= 2")
    ck.eq(cur.rowcount, 2, "UPDATE row count")
    cur.execute("DELETE FROM items WHERE id = 1")
    ck.eq(cur.rowcount, 1, "DELETE row count")
    ck.eq(fetchall(cur, "SELECT id, name, qty FROM items ORDER BY id"), [(2, "b", 21), (3, "c", 31)], "SELECT after DML")
    ck.eq(fetchall(cur, "SELECT COUNT(*) AS n, SUM(qty) AS s FROM items"), [(2, 52)], "aggregate")

    # -- transactions, seen from the autocommit connection c
    t = drv.connect(srv, False, "drvtest")
    tc = t.cursor()
    tc.execute("INSERT INTO items (id, name, qty) VALUES (10, N'committed', 1)")
    tc.execute("UPDATE items SET qty = 100 WHERE id = 2")
    ck.eq(fetchall(tc, "SELECT @@TRANCOUNT AS n"), [(1,)], "@@TRANCOUNT inside the driver's transaction")
    t.commit()
    ck.eq(fetchall(cur, "SELECT id, qty FROM items ORDER BY id"), [(2, 100), (3, 31), (10, 1)], "after commit")
    tc.execute("INSERT INTO items (id, name, qty) VALUES (11, N'rolled back', 1)")
    tc.execute("UPDATE items SET qty = 999 WHERE id = 3")
    tc.execute("DELETE FROM items WHERE id = 2")
    ck.eq(fetchall(tc, "SELECT COUNT(*) AS n FROM items"), [(3,)], "own changes visible inside the transaction")
    t.rollback()
    ck.eq(fetchall(cur, "SELECT id, qty FROM items ORDER BY id"), [(2, 100), (3, 31), (10, 1)], "after rollback")
    ck.eq(fetchall(tc, "SELECT COUNT(*) AS n FROM items"), [(3,)], "rollback seen by its own connection")
    t.commit()
    t.close()

    # -- parameterized queries
    ck.eq(fetchall(cur, "SELECT name, qty FROM items WHERE id = %s AND qty > %s" % (ph, ph), (3, 5)),
          [("c", 31)], "parameterized SELECT")
    cur.execute("INSERT INTO items (id, name, qty) VALUES (%s, %s, %s)" % (ph, ph, ph), (20, "ünïcødé ☃", None))
    ck.eq(cur.rowcount, 1, "parameterized INSERT row count")
    ck.eq(fetchall(cur, "SELECT name, qty FROM items WHERE name = %s" % ph, ("ünïcødé ☃",)),
          [("ünïcødé ☃", None)], "Unicode and NULL parameters")
    cur.execute("UPDATE items SET qty = %s WHERE id = %s" % (ph, ph), (7, 20))
    ck.eq(cur.rowcount, 1, "parameterized UPDATE row count")
    drv.extra_params(ck, c, cur)

    # -- every column type
    cur.execute(cases.create_types_sql("types_lit"))
    cur.execute(cases.create_types_sql("types_par"))
    cur.execute(cases.insert_literals_sql("types_lit"))
    ck.eq(cur.rowcount, cases.ROWS, "types INSERT row count")
    check_types(ck, drv, drv.fetch_types(cur, "types_lit"), "")
    for v in drv.old_versions:
        old = drv.connect(srv, True, "drvtest", v)
        check_types(ck, drv, drv.fetch_types(old.cursor(), "types_lit"), "TDS %s: " % v)
        old.close()
    for r in range(cases.ROWS):
        exprs, params = [], []
        for col in cases.COLUMNS:
            p = None if r == 3 else drv.param(col[2], col[3], col[4][r][1])
            if p is NotImplemented:
                exprs.append(col[4][r][0])
            else:
                exprs.append(ph)
                params.append(p)
        cur.execute("INSERT INTO types_par (id, %s) VALUES (%d, %s)"
                    % (", ".join(c_[0] for c_ in cases.COLUMNS), r + 1, ", ".join(exprs)), tuple(params))
    diff = fetchall(cur, cases.diff_tables_sql("types_lit", "types_par"))
    ck.eq(diff, [], "values written through parameters equal the literal rows (1 = same)")
    if diff:
        print("   columns:", [c_[0] for c_ in cases.COLUMNS])
    ck.eq(fetchall(cur, cases.diff_tables_sql("types_par", "types_lit")), [], "no extra parameter rows")

    # -- errors with their numbers; the connection stays usable
    expect_error(ck, drv, cur, "SELECT * FROM no_such_table", 208, "invalid object")
    expect_error(ck, drv, cur, "INSERT INTO items (id, name) VALUES (2, N'dup')", 2627, "duplicate key")
    expect_error(ck, drv, cur, "SELECT 1/0 AS x", 8134, "divide by zero")
    ck.eq(fetchall(cur, "SELECT COUNT(*) AS n FROM items"), [(4,)], "connection usable after errors")
    c.close()
