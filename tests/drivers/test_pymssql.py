#!/usr/bin/python3
"""pymssql (FreeTDS db-lib) against hadrd: the DB-API steps of dbapi.py with
%s parameters (pymssql substitutes them into the batch text itself) and, for
real RPC parameters, sp_executesql called through callproc()."""
import datetime, decimal, sys

import pymssql

sys.dont_write_bytecode = True   # no __pycache__ in the source tree

import cases
import dbapi


class Pymssql(dbapi.Adapter):
    name = "pymssql"
    placeholder = "%s"
    # pymssql 2.2.2 decodes time/datetime2 through db-lib's datetime (1/300 s
    # ticks), so only about two fraction digits survive.
    frac_digits = 2
    old_versions = ("7.1", "7.2", "7.3")   # pymssql 2.2.2 refuses to name 7.4; None gets it

    def connect(self, srv, autocommit, database, tds_version=None):
        return pymssql.connect(server="127.0.0.1", port=srv.port, user="sa", password=cases.PASSWORD,
                               database=database, autocommit=autocommit, login_timeout=10, timeout=60,
                               tds_version=tds_version)

    def error_number(self, exc):
        return exc.args[0] if exc.args and isinstance(exc.args[0], int) else None

    def param(self, kind, scale, text):
        if kind == "bin":
            return bytearray.fromhex(text)      # bytes would be quoted as a string
        if kind == "time":
            return text                         # pymssql cannot quote datetime.time
        v = dbapi.param_python(kind, scale, text)
        if isinstance(v, datetime.datetime) and v.microsecond % 1000:
            return text                         # pymssql quotes milliseconds only
        return v

    def fetch_types(self, cur, table):
        # Row 2 holds 23:59:59.999...: rounding it to 1/300 s overflows the day
        # inside pymssql ("hour must be in 0..23"), so its time and datetime2
        # cells are fetched as the server's text form instead.
        rows = dbapi.fetchall(cur, cases.select_sql(table).replace(" ORDER BY", " WHERE id <> 2 ORDER BY"))
        exprs = ["CAST(%s AS varchar(40))" % c[0] if c[2] in ("time", "datetime") and c[1] != "datetime"
                 else c[0] for c in cases.COLUMNS]
        rows += dbapi.fetchall(cur, "SELECT id, %s FROM %s WHERE id = 2" % (", ".join(exprs), table))
        return sorted(rows, key=lambda r: r[0])

    def extra_params(self, ck, conn, cur):
        # a real RPC: db-lib sends sp_executesql with typed parameters
        cur.callproc("sp_executesql", ("SELECT name, qty, @n + 1 AS n1, @d * 2 AS d2 FROM items WHERE id = @id",
                                       "@id int, @n bigint, @d decimal(10,3)", 3, 2 ** 40,
                                       decimal.Decimal("1.125")))
        cur.nextset()   # pymssql 2.2 exposes a procedure's first result set only after nextset()
        ck.eq([tuple(r) for r in cur.fetchall()], [("c", 31, 2 ** 40 + 1, decimal.Decimal("2.250"))],
              "sp_executesql through callproc (RPC)")
        cur.callproc("sp_executesql", ("UPDATE items SET name = @s WHERE id = @id", "@id int, @s nvarchar(40)",
                                       20, "ünïcødé ☃"))
        ck.eq(dbapi.fetchall(cur, "SELECT name FROM items WHERE id = 20"), [("ünïcødé ☃",)],
              "nvarchar RPC parameter")


def main():
    return cases.run_test("pymssql", lambda ck, srv: dbapi.run(ck, srv, Pymssql()))


if __name__ == "__main__":
    sys.exit(main())
