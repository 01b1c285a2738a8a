"""What every driver test does, as data, plus the glue they share.

The column types are exactly the engine's type list (SPEC C2; access/value.h):
the int family, bit, decimal/numeric, money/smallmoney, float/real, char/
varchar/nchar/nvarchar incl. (max), binary/varbinary incl. (max), date/time/
datetime/datetime2 and uniqueidentifier. smalldatetime and datetimeoffset are
not engine types and are left out.

Each column has three values (row 1: minimum or empty, row 2: maximum or
long, row 3: an ordinary value); row 4 is all NULL. A value is a T-SQL
expression (the server builds the row from it) and a canonical text that each
driver test maps its native value onto before comparing:

  bit/ints   decimal digits            decimal/numeric/money  exactly `scale` digits after the point
  float      repr() of the double      real  repr() of the double nearest the float32
  date       YYYY-MM-DD                time/datetime/datetime2  ISO with all stored fraction digits
  strings    the text itself (char/nchar padded)   binary  lower-case hex   guid  upper-case text

Drivers that keep less precision (Python's microseconds) compare a prefix;
see frac_digits in each test.
"""
import json, os, sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tests", "scenario"))
from hadr import PASSWORD, Server  # noqa: E402  (shared server start/stop)

LONG_ASCII = "".join(chr(ord("a") + i % 26) for i in range(10000))        # 10000 bytes
LONG_UNI = ("Zürich–日本語–" * 600)[:6000]                                 # 12000 bytes as UTF-16
LONG_BIN = bytes((i * 7 + 3) % 256 for i in range(10000))
UNI = "héllo wörld ☃ 日本語 😀"
GUID = "6F9619FF-8B86-D011-B42D-00C04FC964FF"


def _hexlit(b):
    return "0x" + b.hex().upper()


def _nlit(s):
    return "N'" + s.replace("'", "''") + "'"


# (column, SQL type, kind, scale, [(T-SQL expression, canonical), x3])
COLUMNS = [
    ("c_bit", "bit", "int", 0, [("0", "0"), ("1", "1"), ("1", "1")]),
    ("c_tinyint", "tinyint", "int", 0, [("0", "0"), ("255", "255"), ("42", "42")]),
    ("c_smallint", "smallint", "int", 0, [("-32768", "-32768"), ("32767", "32767"), ("-7", "-7")]),
    ("c_int", "int", "int", 0,
     [("-2147483648", "-2147483648"), ("2147483647", "2147483647"), ("123456", "123456")]),
    ("c_bigint", "bigint", "int", 0,
     [("-9223372036854775808", "-9223372036854775808"),
      ("9223372036854775807", "9223372036854775807"), ("-1", "-1")]),
    ("c_dec9", "decimal(9,2)", "dec", 2,
     [("-9999999.99", "-9999999.99"), ("9999999.99", "9999999.99"), ("0.01", "0.01")]),
    ("c_num19", "numeric(19,4)", "dec", 4,
     [("-999999999999999.9999", "-999999999999999.9999"),
      ("999999999999999.9999", "999999999999999.9999"), ("3.1416", "3.1416")]),
    ("c_dec28", "decimal(28,6)", "dec", 6,
     [("-1234567890123456789012.345678", "-1234567890123456789012.345678"),
      ("9999999999999999999999.999999", "9999999999999999999999.999999"), ("0", "0.000000")]),
    ("c_dec38", "decimal(38,10)", "dec", 10,
     [("-9999999999999999999999999999.9999999999", "-9999999999999999999999999999.9999999999"),
      ("9999999999999999999999999999.9999999999", "9999999999999999999999999999.9999999999"),
      ("0.0000000001", "0.0000000001")]),
    ("c_money", "money", "dec", 4,
     [("-922337203685477.5808", "-922337203685477.5808"),
      ("922337203685477.5807", "922337203685477.5807"), ("12.34", "12.3400")]),
    ("c_smallmoney", "smallmoney", "dec", 4,
     [("-214748.3648", "-214748.3648"), ("214748.3647", "214748.3647"), ("0.5", "0.5000")]),
    ("c_real", "real", "real", 0,
     [("-3.4028235E+38", repr(-3.4028234663852886e+38)), ("3.4028235E+38", repr(3.4028234663852886e+38)),
      ("1.5", "1.5")]),
    ("c_float", "float", "float", 0,
     [("-1.7976931348623157E+308", "-1.7976931348623157e+308"),
      ("2.2250738585072014E-308", "2.2250738585072014e-308"), ("0.1", "0.1")]),
    ("c_date", "date", "date", 0,
     [("'0001-01-01'", "0001-01-01"), ("'9999-12-31'", "9999-12-31"), ("'2024-02-29'", "2024-02-29")]),
    ("c_time", "time", "time", 7,
     [("'00:00:00'", "00:00:00.0000000"), ("'23:59:59.9999999'", "23:59:59.9999999"),
      ("'12:34:56.1234567'", "12:34:56.1234567")]),
    ("c_time0", "time(0)", "time", 0,
     [("'00:00:00'", "00:00:00"), ("'23:59:59'", "23:59:59"), ("'08:09:10'", "08:09:10")]),
    ("c_datetime", "datetime", "datetime", 3,
     [("'1753-01-01T00:00:00'", "1753-01-01 00:00:00.000"),
      ("'9999-12-31T23:59:59.997'", "9999-12-31 23:59:59.997"),
      ("'2024-02-29T12:34:56.123'", "2024-02-29 12:34:56.123")]),
    ("c_dt2", "datetime2", "datetime", 7,
     [("'0001-01-01T00:00:00'", "0001-01-01 00:00:00.0000000"),
      ("'9999-12-31T23:59:59.9999999'", "9999-12-31 23:59:59.9999999"),
      ("'2024-02-29T12:34:56.1234567'", "2024-02-29 12:34:56.1234567")]),
    ("c_dt2_3", "datetime2(3)", "datetime", 3,
     [("'1900-01-01T00:00:00'", "1900-01-01 00:00:00.000"),
      ("'2079-06-06T23:59:59.999'", "2079-06-06 23:59:59.999"),
      ("'2000-01-01T01:02:03.456'", "2000-01-01 01:02:03.456")]),
    ("c_char", "char(10)", "str", 0, [("''", " " * 10), ("'abcdefghij'", "abcdefghij"), ("'abc'", "abc       ")]),
    ("c_varchar", "varchar(50)", "str", 0, [("''", ""), ("'" + "z" * 50 + "'", "z" * 50), ("'café'", "café")]),
    ("c_varcharmax", "varchar(max)", "str", 0,
     [("''", ""), ("'" + LONG_ASCII + "'", LONG_ASCII), ("'short'", "short")]),
    ("c_nchar", "nchar(10)", "str", 0, [("N''", " " * 10), (_nlit("ñ€日本語ñ€日本語"), "ñ€日本語ñ€日本語"),
                                        (_nlit("ab"), "ab        ")]),
    ("c_nvarchar", "nvarchar(100)", "str", 0, [("N''", ""), (_nlit(UNI), UNI), (_nlit("it's"), "it's")]),
    ("c_nvarcharmax", "nvarchar(max)", "str", 0, [("N''", ""), (_nlit(LONG_UNI), LONG_UNI), (_nlit(UNI), UNI)]),
    ("c_binary", "binary(4)", "bin", 0,
     [("0x00", "00000000"), ("0xFFFFFFFF", "ffffffff"), ("0x0102", "01020000")]),
    ("c_varbinary", "varbinary(50)", "bin", 0, [("0x", ""), ("0x" + "AB" * 50, "ab" * 50), ("0x00FF10", "00ff10")]),
    ("c_varbinarymax", "varbinary(max)", "bin", 0,
     [("0x", ""), (_hexlit(LONG_BIN), LONG_BIN.hex()), ("0xDEADBEEF", "deadbeef")]),
    ("c_guid", "uniqueidentifier", "guid", 0,
     [("'00000000-0000-0000-0000-000000000000'", "00000000-0000-0000-0000-000000000000"),
      ("'FFFFFFFF-FFFF-FFFF-FFFF-FFFFFFFFFFFF'", "FFFFFFFF-FFFF-FFFF-FFFF-FFFFFFFFFFFF"),
      ("'" + GUID.lower() + "'", GUID)]),
]
ROWS = 4   # row 4: every column NULL


def start_server():
    """hadrd from --hadrd PATH, else the tree's build/hadrd, on a free port
    with a temporary data directory."""
    path = sys.argv[sys.argv.index("--hadrd") + 1] if "--hadrd" in sys.argv else os.path.join(ROOT, "build", "hadrd")
    return Server(hadrd=path).start()


def run_test(name, body):
    """Runs body(checker, server) against a server of its own; any exception
    counts as a failed check. Returns the test's exit status."""
    ck = Checker(name)
    srv = start_server()
    try:
        body(ck, srv)
    except Exception as e:
        import traceback
        traceback.print_exc()
        ck.check(False, "stopped early: %r" % e)
    finally:
        srv.cleanup()
    return ck.done()


def create_types_sql(table):
    cols = ", ".join("%s %s NULL" % (c[0], c[1]) for c in COLUMNS)
    return "CREATE TABLE %s (id int NOT NULL PRIMARY KEY, %s)" % (table, cols)


def insert_literals_sql(table):
    """One INSERT of all four rows, built from the T-SQL expressions."""
    rows = []
    for r in range(ROWS):
        vals = [c[4][r][0] if r < 3 else "NULL" for c in COLUMNS]
        rows.append("(%d, %s)" % (r + 1, ", ".join(vals)))
    return "INSERT INTO %s (id, %s) VALUES %s" % (table, ", ".join(c[0] for c in COLUMNS), ", ".join(rows))


def select_sql(table):
    return "SELECT id, %s FROM %s ORDER BY id" % (", ".join(c[0] for c in COLUMNS), table)


def _same_sql(c):
    # '=' ignores case and trailing blanks (strings) and trailing zero bytes
    # (binary), so text and binary values are compared byte for byte
    eq = "x.{0} = y.{0}"
    if c[2] in ("str", "bin"):
        eq = "CAST(x.{0} AS varbinary(max)) = CAST(y.{0} AS varbinary(max)) AND DATALENGTH(x.{0}) = DATALENGTH(y.{0})"
    return ("((x.{0} IS NULL AND y.{0} IS NULL) OR (" + eq + "))").format(c[0])


def diff_tables_sql(a, b):
    """Rows of a whose value differs from b's in some column (NULL = NULL):
    the id and, per column, 1 when it is the same."""
    conds = " OR ".join("NOT " + _same_sql(c) for c in COLUMNS)
    return ("SELECT x.id, %s FROM %s x LEFT JOIN %s y ON x.id = y.id WHERE y.id IS NULL OR %s ORDER BY x.id"
            % (", ".join("CASE WHEN %s THEN 1 ELSE 0 END" % _same_sql(c) for c in COLUMNS), a, b, conds))


def expected(col, row):
    """Canonical text of COLUMNS[col] in row `row` (0-based), None for NULL."""
    return COLUMNS[col][4][row][1] if row < 3 else None


def cases_json():
    """The cases and the statements over them, for the Node test."""
    return json.dumps({"columns": [{"name": c[0], "type": c[1], "kind": c[2], "scale": c[3],
                                    "literals": [v[0] for v in c[4]], "values": [v[1] for v in c[4]]}
                                   for c in COLUMNS],
                       "rows": ROWS,
                       "create_lit": create_types_sql("types_lit"), "create_par": create_types_sql("types_par"),
                       "insert_lit": insert_literals_sql("types_lit"), "select_lit": select_sql("types_lit"),
                       "diff": diff_tables_sql("types_lit", "types_par"),
                       "diff_back": diff_tables_sql("types_par", "types_lit")})


def same(kind, want, got, frac_digits=7):
    """want/got canonical texts; fractions of time kinds compared to frac_digits."""
    if want is None or got is None:
        return want is got
    if kind in ("time", "datetime") and "." in want:
        head, frac = want.split(".")
        n = min(frac_digits, len(frac))
        want = head + ("." + frac[:n] if n else "")
        if "." in got:
            ghead, gfrac = got.split(".")
            got = ghead + ("." + gfrac[:n] if n else "")
    return want == got


class Checker:
    """Counts checks, prints failures, and gives the test's exit status."""

    def __init__(self, name):
        self.name, self.ok, self.bad = name, 0, 0

    def check(self, cond, what):
        if cond:
            self.ok += 1
        else:
            self.bad += 1
            print("FAIL %s: %s" % (self.name, what))
        return cond

    def eq(self, got, want, what):
        return self.check(got == want, "%s: got %r, want %r" % (what, _short(got), _short(want)))

    def done(self):
        print("%s: %d checks passed, %d failed" % (self.name, self.ok, self.bad))
        return 0 if self.bad == 0 else 1


def _short(v):
    r = v if not isinstance(v, (str, bytes)) or len(v) < 120 else v[:60] + v[-20:]
    return r
