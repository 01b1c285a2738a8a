#!/usr/bin/python3
"""Session defaults from LOGIN7: an ODBC-flagged login (tsql, tdsodbc) starts
with the ANSI options on (@@OPTIONS 5432, as on SQL Server); a DB-Library
login (pymssql without its SET batch) starts with them off, QUOTED_IDENTIFIER
included; pymssql's own SET batch then turns them on. SESSIONPROPERTY agrees
with @@OPTIONS. RESETCONNECTION is covered by the driver tests."""
import subprocess, sys

import pymssql

from hadr import PASSWORD, Server

QUERY = ("SELECT @@OPTIONS, SESSIONPROPERTY('QUOTED_IDENTIFIER'), SESSIONPROPERTY('ANSI_NULLS'), "
         "SESSIONPROPERTY('CONCAT_NULL_YIELDS_NULL'), SESSIONPROPERTY('ARITHABORT'), SESSIONPROPERTY('nonsense')")


def tsql_row(srv, sql):
    out = subprocess.run(["tsql", "-H", "127.0.0.1", "-p", str(srv.port), "-U", "sa", "-P", PASSWORD],
                         input=sql + "\ngo\nexit\n", capture_output=True, text=True, timeout=60)
    rows = [l.split("\t") for l in out.stdout.splitlines() if l.startswith(("1> ", "2> ")) is False and "\t" in l]
    assert rows, "no row from tsql:\n" + out.stdout + out.stderr
    return rows[-1]


def main():
    srv = Server().start()
    try:
        # tsql: ODBC flag in LOGIN7, nothing sent after login
        row = tsql_row(srv, QUERY)
        assert row[:5] == ["5432", "1", "1", "1", "0"], "tsql session defaults: %r" % row
        assert row[5] == "NULL", "SESSIONPROPERTY of an unknown option: %r" % row

        # pymssql without its SET batch: DB-Library defaults, everything off
        c = pymssql.connect(server="127.0.0.1", port=srv.port, user="sa", password=PASSWORD,
                            conn_properties="", autocommit=True)
        cur = c.cursor()
        cur.execute(QUERY)
        assert cur.fetchone() == (0, 0, 0, 0, 0, None), "DB-Library session defaults"
        cur.execute('SELECT "x"')      # a string under QUOTED_IDENTIFIER OFF, not a column
        assert cur.fetchone()[0] == "x"
        c.close()

        # pymssql with its usual SET batch
        c = srv.connect()
        cur = c.cursor()
        cur.execute(QUERY)
        row = cur.fetchone()
        assert row[0] == 5432 | 64 | 4, "pymssql after its SET batch: %r" % (row,)   # + ARITHABORT, CURSOR_CLOSE_ON_COMMIT
        assert row[1:5] == (1, 1, 1, 1), row
        cur.execute("SET QUOTED_IDENTIFIER OFF; SET XACT_ABORT ON")
        cur.execute(QUERY)
        row = cur.fetchone()
        assert row[0] == (5432 | 64 | 4 | 16384) & ~256 and row[1] == 0, row
        c.close()
        print("test_login_options: ok")
    finally:
        srv.cleanup()


if __name__ == "__main__":
    sys.exit(main())
