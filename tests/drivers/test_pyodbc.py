#!/usr/bin/python3
"""pyodbc with FreeTDS's ODBC driver (tdsodbc) against hadrd: the DB-API steps
of dbapi.py with ? parameters (sent as sp_prepexec RPCs), transactions through
TDS transaction-manager requests (autocommit off), executemany, and the
catalog procedures the driver calls on its own (sp_datatype_info_100)."""
import datetime, glob, re, sys

import pyodbc

sys.dont_write_bytecode = True   # no __pycache__ in the source tree

import cases
import dbapi


def driver_path():
    # Debian's multiarch directory; the ODBC manager loads the driver by path,
    # so no odbcinst.ini registration is needed
    found = sorted(glob.glob("/usr/lib/*/odbc/libtdsodbc.so"))
    if not found:
        raise RuntimeError("libtdsodbc.so not found (Debian package tdsodbc)")
    return found[0]


class Pyodbc(dbapi.Adapter):
    name = "pyodbc"
    placeholder = "?"
    frac_digits = 6
    old_versions = ("7.1", "7.2", "7.3")

    def connect(self, srv, autocommit, database, tds_version=None):
        cs = ("DRIVER=%s;SERVER=127.0.0.1;PORT=%d;UID=sa;PWD=%s;DATABASE=%s;TDS_Version=%s;ClientCharset=UTF-8"
              % (driver_path(), srv.port, cases.PASSWORD, database, tds_version or "7.4"))
        return pyodbc.connect(cs, autocommit=autocommit, timeout=10)

    def error_number(self, exc):
        # "[42S02] [FreeTDS][SQL Server]Invalid object name 'x'. (208) (SQLExecDirectW)"
        m = re.search(r"\((\d+)\) \(SQL\w+\)", exc.args[-1] if exc.args else "")
        return int(m.group(1)) if m else None

    def param(self, kind, scale, text):
        if kind in ("date", "datetime") and text.startswith("0001-01-01"):
            # tdsodbc 1.3.17 encodes 0001-01-01 as day -1 (FF FF FF), which
            # SQL Server rejects too (8023); such cells use the literal
            return NotImplemented
        v = dbapi.param_python(kind, scale, text)
        if isinstance(v, datetime.datetime) and v.microsecond % 1000:
            # pyodbc binds datetimes with the precision sp_datatype_info_100
            # reports for datetime (23: milliseconds)
            return NotImplemented
        return v

    def extra_params(self, ck, conn, cur):
        cur.executemany("INSERT INTO items (id, name, qty) VALUES (?, ?, ?)",
                        [(30, "many-1", 1), (31, "many-2", None), (32, "many-3", 3)])
        ck.eq(dbapi.fetchall(cur, "SELECT id, name, qty FROM items WHERE id >= ? ORDER BY id", (30,)),
              [(30, "many-1", 1), (31, "many-2", None), (32, "many-3", 3)], "executemany")
        cur.execute("DELETE FROM items WHERE id >= ?", 30)
        ck.eq(cur.rowcount, 3, "parameterized DELETE row count")
        ck.eq(dbapi.fetchall(cur, "EXEC sp_executesql N'SELECT @a * 2 AS a2, @s + N''!'' AS s', "
                                  "N'@a bigint, @s nvarchar(20)', @a = ?, @s = ?", (2 ** 40, "ç")),
              [(2 ** 41, "ç!")], "sp_executesql inside a parameterized batch")
        # a statement the driver prepares once and runs twice
        sql = "SELECT COUNT(*) AS n FROM items WHERE qty > ?"
        ck.eq([dbapi.fetchall(cur, sql, (v,)) for v in (0, 30)], [[(4,)], [(2,)]], "re-executed statement")


def main():
    return cases.run_test("pyodbc", lambda ck, srv: dbapi.run(ck, srv, Pyodbc()))


if __name__ == "__main__":
    sys.exit(main())
