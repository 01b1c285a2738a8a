/* T-SQL execution tests: batches run through sql_execute_batch / RPCs against
 * an instance in a temporary directory, with a sink that writes everything it
 * receives (columns, rows, messages, DONE tokens, environment changes) as
 * text lines, so each test states what a client would see. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <pthread.h>
#include <stdbool.h>
#include <time.h>
#include <unistd.h>

#include "unit/engine/engine_harness.h"
#include "sql/session.h"
#include "util/utf16.h"

/* ------------------------------------------------------------ capturing sink */

typedef struct cap {
    char      *text;
    size_t     len, cap;
    sql_column cols[64];
    int        ncols;
} cap;

static void cap_add(cap *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void cap_add(cap *c, const char *fmt, ...)
{
    char line[4096];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if ((size_t)n >= sizeof line)
        n = sizeof line - 1;
    if (c->len + (size_t)n + 2 > c->cap) {
        c->cap = (c->len + (size_t)n + 2) * 2;
        c->text = realloc(c->text, c->cap);
        assert_non_null(c->text);
    }
    memcpy(c->text + c->len, line, (size_t)n);
    c->len += (size_t)n;
    c->text[c->len++] = '\n';
    c->text[c->len] = 0;
}

static void type_text(const sql_type *t, char *buf, size_t n)
{
    const char *name = value_type_name(t->id);
    if (value_type_is_string(t->id) || value_type_is_binary(t->id)) {
        if (t->max_len == VALUE_LEN_MAX)
            snprintf(buf, n, "%s(max)", name);
        else
            snprintf(buf, n, "%s(%d)", name, t->max_len);
    } else if (t->id == SQL_DECIMAL || t->id == SQL_NUMERIC) {
        snprintf(buf, n, "%s(%d,%d)", name, t->precision, t->scale);
    } else {
        snprintf(buf, n, "%s", name);
    }
}

static int s_columns(void *ctx, const sql_column *cols, int n)
{
    cap *c = ctx;
    char line[2048] = "COLS";
    size_t o = 4;
    c->ncols = n;
    for (int i = 0; i < n && i < 64; i++) {
        c->cols[i] = cols[i];
        char t[64];
        type_text(&cols[i].type, t, sizeof t);
        o += (size_t)snprintf(line + o, sizeof line - o, " %s:%s", cols[i].name[0] ? cols[i].name : "-", t);
    }
    cap_add(c, "%s", line);
    return 0;
}

static int s_row(void *ctx, const sql_value *vals, int n)
{
    cap *c = ctx;
    char line[4096] = "ROW";
    size_t o = 3;
    for (int i = 0; i < n; i++) {
        char v[1024];
        sql_type t = i < c->ncols ? c->cols[i].type : value_type(vals[i].type, -1, 0, 0);
        if (vals[i].is_null)
            snprintf(v, sizeof v, "NULL");
        else
            value_format(&vals[i], &t, v, sizeof v);
        /* the wire needs values that fit their column */
        if (!vals[i].is_null && value_check(&vals[i], &t, NULL) < 0)
            snprintf(v, sizeof v, "<BAD:%s>", value_type_name(vals[i].type));
        o += (size_t)snprintf(line + o, sizeof line - o, "%s%s", i ? "|" : " ", v);
    }
    cap_add(c, "%s", line);
    return 0;
}

static int s_done(void *ctx, int kind, unsigned status, unsigned curcmd, uint64_t rowcount)
{
    cap *c = ctx;
    const char *k = kind == SQL_DONE ? "DONE" : kind == SQL_DONEPROC ? "DONEPROC" : "DONEINPROC";
    char st[64] = "";
    if (status & SQL_DONE_ERROR) strcat(st, " ERROR");
    if (status & SQL_DONE_COUNT) strcat(st, " COUNT");
    if (status & SQL_DONE_INXACT) strcat(st, " INXACT");
    if (status & SQL_DONE_COUNT)
        cap_add(c, "%s%s n=%llu", k, st, (unsigned long long)rowcount);
    else
        cap_add(c, "%s%s", k, st);
    (void)curcmd;
    return 0;
}

static int s_message(void *ctx, const hdb_err *e, int is_error, const char *proc, int line)
{
    cap *c = ctx;
    cap_add(c, "%s %d sev=%d st=%d line=%d: %s", is_error ? "ERR" : "INFO", e->number, e->severity, e->state, line,
            e->msg);
    (void)proc;
    return 0;
}

static int s_env_db(void *ctx, const char *nd, const char *od)
{
    cap_add(ctx, "ENVDB %s %s", nd, od);
    return 0;
}

static int s_env_tx(void *ctx, int what, uint64_t d)
{
    cap_add(ctx, "ENVTX %s", what == SQL_ENV_BEGIN_TRAN ? "BEGIN" : what == SQL_ENV_COMMIT_TRAN ? "COMMIT" :
                             what == SQL_ENV_ROLLBACK_TRAN ? "ROLLBACK" : "ENDED");
    assert_true(d != 0);
    return 0;
}

static int s_retstat(void *ctx, int32_t st)
{
    cap_add(ctx, "RETSTATUS %d", st);
    return 0;
}

static int s_retval(void *ctx, int ordinal, const char *name, const sql_type *t, const sql_value *v)
{
    char buf[512];
    if (v->is_null)
        snprintf(buf, sizeof buf, "NULL");
    else
        value_format(v, t, buf, sizeof buf);
    cap_add(ctx, "RETVAL %d %s %s", ordinal, name, buf);
    return 0;
}

static int s_cancelled(void *ctx) { (void)ctx; return 0; }

static cap C;
static sql_sink SINK = { .ctx = &C, .columns = s_columns, .row = s_row, .done = s_done, .message = s_message,
                         .env_database = s_env_db, .env_transaction = s_env_tx, .return_status = s_retstat,
                         .return_value = s_retval, .cancelled = s_cancelled };

static instance *IN;

static sql_session *open_session(int spid, int odbc)
{
    sql_login_info li = { .spid = spid, .login = "sa", .database = "", .host = "test", .app = "test_exec",
                          .ansi_defaults = odbc, .quoted_identifier = odbc };
    hdb_err e;
    hdb_err_clear(&e);
    sql_session *s = sql_session_open(IN, &li, &e);
    if (!s)
        fail_msg("session: %s", e.msg);
    return s;
}

/* Runs a batch and returns what the client saw. */
static const char *run(sql_session *s, const char *sql)
{
    C.len = 0;
    if (C.text)
        C.text[0] = 0;
    int rc = sql_execute_batch(s, sql, strlen(sql), 0, &SINK);
    assert_int_equal(rc, 0);
    return C.text ? C.text : "";
}

#define EXPECT(s, sql, want) do { const char *got_ = run((s), (sql)); \
    if (!strstr(got_, (want))) fail_msg("batch:\n%s\nwanted:\n%s\ngot:\n%s", (sql), (want), got_); } while (0)
#define EXPECT_NOT(s, sql, bad) do { const char *got_ = run((s), (sql)); \
    if (strstr(got_, (bad))) fail_msg("batch:\n%s\nmust not contain:\n%s\ngot:\n%s", (sql), (bad), got_); } while (0)
#define HAS(want) do { if (!strstr(C.text ? C.text : "", (want))) \
    fail_msg("wanted:\n%s\ngot:\n%s", (want), C.text ? C.text : ""); } while (0)
#define HASNT(bad) do { if (strstr(C.text ? C.text : "", (bad))) \
    fail_msg("must not contain:\n%s\ngot:\n%s", (bad), C.text ? C.text : ""); } while (0)

static int group_setup(void **state)
{
    (void)state;
    h_make_dir();
    IN = h_open(64);
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    inst_close(IN, 1);
    h_remove_dir();
    free(C.text);
    return 0;
}

/* ------------------------------------------------------------ tests */

static void select_expressions(void **state)
{
    (void)state;
    sql_session *s = open_session(51, 1);
    EXPECT(s, "SELECT 1 AS a, 'abc' AS b, N'xy' AS c, 1.5 AS d, NULL AS e",
           "COLS a:int b:varchar(3) c:nvarchar(2) d:numeric(2,1) e:int\nROW 1|abc|xy|1.5|NULL\nDONE COUNT n=1");
    EXPECT(s, "SELECT 1 + 2 * 3, 10 / 3, 10 % 3, -7 / 2, 2.0 / 3", "COLS -:int -:int -:int -:int -:numeric(7,6)\nROW 7|3|1|-3|0.666666");
    EXPECT(s, "SELECT 1.5 + 1, 0.1 * 0.2, CAST(1 AS bigint) + 1", "COLS -:numeric(3,1) -:numeric(3,2) -:bigint");
    EXPECT(s, "SELECT 'a' + 'bc', N'x' + 'y', 'n=' + CAST(5 AS varchar(10))", "ROW abc|xy|n=5");
    EXPECT(s, "SELECT COALESCE(NULL, 2), ISNULL(NULL, 'z'), NULLIF(3, 3), IIF(1 < 2, 'y', 'n')",
           "ROW 2|z|NULL|y");
    EXPECT(s, "SELECT CASE WHEN 1 = 0 THEN 'a' WHEN 2 = 2 THEN 'b' END, CASE 3 WHEN 3 THEN 'three' ELSE 'x' END",
           "ROW b|three");
    EXPECT(s, "SELECT LEN('abc  '), UPPER('aBc'), LOWER(N'AbC'), SUBSTRING('hello', 2, 3), LTRIM('  x'), RTRIM('y  ')",
           "ROW 3|ABC|abc|ell|x|y");
    EXPECT(s, "SELECT REPLACE('aXbXc', 'x', '-'), CHARINDEX('c', 'abcabc'), CHARINDEX('c', 'abcabc', 4), LEFT('abcd', 2), RIGHT('abcd', 2)",
           "ROW a-b-c|3|6|ab|cd");
    EXPECT(s, "SELECT ABS(-3), ROUND(2.567, 2), FLOOR(2.5), CEILING(2.1), POWER(2, 10), SQRT(16.0)",
           "ROW 3|2.570|2|3|1024|4");
    EXPECT(s, "SELECT CAST('123' AS int) + 1, CONVERT(varchar(10), 42), CAST(3.7 AS int), CAST(1 AS bit)", "ROW 124|42|3|1");
    EXPECT(s, "SELECT CONVERT(varchar(10), CAST('2024-03-05' AS date), 101), CONVERT(varchar(20), CAST('2024-03-05 13:04:05' AS datetime), 120)",
           "ROW 03/05/2024|2024-03-05 13:04:05");
    EXPECT(s, "SELECT YEAR('2024-03-05'), MONTH('2024-03-05'), DAY('2024-03-05'), DATEPART(hour, '2024-03-05 13:00'), "
              "DATEDIFF(day, '2024-01-01', '2024-03-01'), DATEADD(month, 1, CAST('2024-01-31' AS date))",
           "ROW 2024|3|5|13|60|2024-02-29");
    EXPECT(s, "SELECT @@TRANCOUNT, @@SPID, DB_NAME(), SUSER_SNAME(), @@ERROR", "ROW 0|51|master|sa|0");
    EXPECT(s, "SELECT LEN(CAST(NEWID() AS varchar(36))), DATALENGTH(N'ab')", "ROW 36|4");
    EXPECT(s, "SELECT CAST(GETDATE() AS date) = CAST(SYSDATETIME() AS date) AS x", "Incorrect syntax");
    EXPECT(s, "SELECT 1/0", "ERR 8134 sev=16");
    EXPECT(s, "SELECT CAST('abc' AS int)", "ERR 245 sev=16 st=1 line=1: Conversion failed when converting the varchar value 'abc' to data type int.");
    EXPECT(s, "SELECT 2147483647 + 1", "ERR 8115");
    EXPECT(s, "SELECT 1 AS a\nSELECT nosuchcol", "ERR 207 sev=16 st=1 line=2: Invalid column name 'nosuchcol'.");
    EXPECT(s, "SELECT * FROM nosuchtable", "ERR 208 sev=16 st=1 line=1: Invalid object name 'nosuchtable'.");
    EXPECT(s, "SELECT 1 FROM", "ERR 102");
    EXPECT(s, "SELEC 1", "ERR 2812");
    sql_session_close(s);
}

static void ddl_and_dml(void **state)
{
    (void)state;
    sql_session *s = open_session(52, 1);
    EXPECT(s, "CREATE TABLE t1 (id int PRIMARY KEY, name varchar(20) NOT NULL, qty int NULL DEFAULT 7)", "DONE");
    EXPECT(s, "INSERT INTO t1 (id, name) VALUES (1, 'one'), (2, 'two'), (3, 'three')", "DONE COUNT n=3");
    EXPECT(s, "SELECT id, name, qty FROM t1 ORDER BY id DESC",
           "COLS id:int name:varchar(20) qty:int\nROW 3|three|7\nROW 2|two|7\nROW 1|one|7\nDONE COUNT n=3");
    EXPECT(s, "UPDATE t1 SET qty = qty + id WHERE id >= 2", "DONE COUNT n=2");
    EXPECT(s, "SELECT qty FROM t1 WHERE id = 3", "ROW 10\nDONE COUNT n=1");
    EXPECT(s, "DELETE FROM t1 WHERE name = 'TWO'", "DONE COUNT n=1");
    EXPECT(s, "SELECT COUNT(*), SUM(qty), MAX(name), MIN(id), AVG(qty) FROM t1", "ROW 2|17|three|1|8");
    /* constraint errors end the statement, the batch continues */
    EXPECT(s, "INSERT INTO t1 VALUES (1, 'dup', 0)\nSELECT 'after'",
           "ERR 2627 sev=14 st=1 line=1: Violation of PRIMARY KEY constraint");
    HAS("INFO 3621 sev=0 st=0 line=1: The statement has been terminated.");
    HAS("DONE ERROR\nCOLS -:varchar(5)\nROW after");
    EXPECT(s, "INSERT INTO t1 (id) VALUES (9)", "ERR 515 sev=16 st=2 line=1: Cannot insert the value NULL into column 'name', table 'master.dbo.t1'; column does not allow nulls. INSERT fails.");
    EXPECT(s, "INSERT INTO t1 VALUES (10, 'x', 1), (1, 'dup', 2)", "ERR 2627");
    EXPECT(s, "SELECT COUNT(*) FROM t1", "ROW 2");   /* the statement was atomic */
    EXPECT(s, "INSERT INTO t1 VALUES (11, 'abcdefghijklmnopqrstuvwxyz', 1)", "ERR 2628");
    EXPECT(s, "SET NOCOUNT ON; INSERT INTO t1 VALUES (12, 'n', 1); SET NOCOUNT OFF", "DONE\nDONE\nDONE\n");
    EXPECT(s, "UPDATE t1 SET name = NULL WHERE id = 12", "UPDATE fails.");
    EXPECT(s, "INSERT INTO t1 SELECT id + 100, name, qty FROM t1", "DONE COUNT n=3");
    EXPECT(s, "SELECT COUNT(*) FROM t1 WHERE id > 100", "ROW 3");
    EXPECT(s, "DROP TABLE t1; SELECT * FROM t1", "ERR 208");
    EXPECT(s, "DROP TABLE t1", "ERR 3701");
    EXPECT(s, "DROP TABLE IF EXISTS t1", "DONE");
    /* heaps: no primary key */
    EXPECT(s, "CREATE TABLE h (a int, b varchar(10)); INSERT h VALUES (1, 'x'), (1, 'x'), (2, 'y')", "DONE COUNT n=3");
    EXPECT(s, "UPDATE h SET b = 'z' WHERE a = 1", "DONE COUNT n=2");
    EXPECT(s, "DELETE h WHERE b = 'z'", "DONE COUNT n=2");
    EXPECT(s, "SELECT * FROM h", "ROW 2|y\nDONE COUNT n=1");
    sql_session_close(s);
}

static void identity_and_defaults(void **state)
{
    (void)state;
    sql_session *s = open_session(53, 1);
    EXPECT(s, "CREATE TABLE idt (id int IDENTITY(10, 5) PRIMARY KEY, v varchar(10) DEFAULT 'dflt', d datetime DEFAULT GETDATE())", "DONE");
    EXPECT(s, "INSERT idt (v) VALUES ('a'); SELECT @@IDENTITY, SCOPE_IDENTITY()", "ROW 10|10");
    EXPECT(s, "INSERT idt DEFAULT VALUES; INSERT idt (v) VALUES ('c'); SELECT id, v FROM idt ORDER BY id",
           "ROW 10|a\nROW 15|dflt\nROW 20|c");
    EXPECT(s, "INSERT idt (id, v) VALUES (1, 'x')", "ERR 544");
    EXPECT(s, "SET IDENTITY_INSERT idt ON; INSERT idt (id, v) VALUES (100, 'x'); SET IDENTITY_INSERT idt OFF; "
              "INSERT idt (v) VALUES ('y'); SELECT MAX(id) FROM idt", "ROW 105");
    EXPECT(s, "SELECT COUNT(*) FROM idt WHERE d IS NOT NULL", "ROW 5");
    EXPECT(s, "CREATE TABLE ck (a int CHECK (a > 0), b int, CONSTRAINT ck_ab CHECK (b < 10))", "DONE");
    EXPECT(s, "INSERT ck VALUES (1, 1)", "DONE COUNT n=1");
    EXPECT(s, "INSERT ck VALUES (0, 1)", "ERR 547");
    EXPECT(s, "INSERT ck VALUES (1, 20)", "The INSERT statement conflicted with the CHECK constraint \"ck_ab\"");
    EXPECT(s, "INSERT ck VALUES (NULL, NULL)", "DONE COUNT n=1");
    /* ALTER TABLE ADD / DROP CONSTRAINT */
    EXPECT(s, "ALTER TABLE ck ADD CONSTRAINT ck_b5 CHECK (b < 5)", "DONE");
    EXPECT(s, "INSERT ck VALUES (1, 7)", "CHECK constraint \"ck_b5\"");
    EXPECT(s, "INSERT ck VALUES (1, 20), (1, 21)", "ERR 547");
    EXPECT(s, "ALTER TABLE ck ADD CONSTRAINT ck_never CHECK (a > 100)", "The ALTER TABLE statement conflicted with the CHECK constraint \"ck_never\"");
    EXPECT(s, "ALTER TABLE ck ADD CONSTRAINT df_b DEFAULT 3 FOR b; INSERT ck (a) VALUES (9); SELECT b FROM ck WHERE a = 9", "ROW 3");
    EXPECT(s, "ALTER TABLE ck DROP CONSTRAINT ck_b5, ck_ab; INSERT ck VALUES (2, 50)", "DONE COUNT n=1");
    EXPECT(s, "BEGIN TRAN; ALTER TABLE ck ADD CONSTRAINT ck_tmp CHECK (a < 0); ROLLBACK; INSERT ck VALUES (3, 1)", "DONE COUNT n=1");
    EXPECT(s, "ALTER TABLE ck DROP CONSTRAINT nothing", "ERR 3728");
    EXPECT(s, "ALTER TABLE ck ADD c int", "ERR 40023");
    sql_session_close(s);
}

static void foreign_keys(void **state)
{
    (void)state;
    sql_session *s = open_session(70, 1);
    EXPECT(s, "CREATE TABLE fpar (id int PRIMARY KEY, code varchar(5) UNIQUE);"
              "CREATE TABLE fch (id int PRIMARY KEY, pid int REFERENCES fpar(id), pcode varchar(5),"
              " CONSTRAINT fk_code FOREIGN KEY (pcode) REFERENCES fpar(code));"
              "INSERT fpar VALUES (1, 'a'), (2, 'b')", "DONE COUNT n=2");
    EXPECT(s, "INSERT fch VALUES (10, 1, 'a'), (11, NULL, NULL)", "DONE COUNT n=2");
    EXPECT(s, "INSERT fch VALUES (12, 3, NULL)", "ERR 547 sev=16 st=0 line=1: The INSERT statement conflicted with the FOREIGN KEY constraint");
    HAS("table \"dbo.fpar\", column 'id'.");
    EXPECT(s, "INSERT fch VALUES (13, 1, 'zz')", "FOREIGN KEY constraint \"fk_code\"");
    EXPECT(s, "UPDATE fch SET pid = 9 WHERE id = 10", "The UPDATE statement conflicted with the FOREIGN KEY constraint");
    EXPECT(s, "DELETE fpar WHERE id = 1", "The DELETE statement conflicted with the REFERENCE constraint");
    EXPECT(s, "UPDATE fpar SET id = 5 WHERE id = 1", "The UPDATE statement conflicted with the REFERENCE constraint");
    EXPECT(s, "DELETE fpar WHERE id = 2", "DONE COUNT n=1");
    EXPECT(s, "DROP TABLE fpar", "ERR 3726");
    EXPECT(s, "TRUNCATE TABLE fpar", "ERR 4712");
    /* self reference: checks run after the whole statement */
    EXPECT(s, "CREATE TABLE fkemp (id int PRIMARY KEY, boss int FOREIGN KEY REFERENCES fkemp(id));"
              "INSERT fkemp VALUES (1, NULL), (2, 1), (3, 3)", "DONE COUNT n=3");
    EXPECT(s, "DELETE fkemp WHERE id = 3", "DONE COUNT n=1");
    EXPECT(s, "DELETE fkemp WHERE id = 1", "REFERENCE constraint");
    EXPECT(s, "DELETE fkemp", "DONE COUNT n=2");
    EXPECT(s, "ALTER TABLE fch DROP CONSTRAINT fk_code; INSERT fch VALUES (14, 1, 'zz')", "DONE COUNT n=1");
    EXPECT(s, "ALTER TABLE fch ADD CONSTRAINT fk2 FOREIGN KEY (pcode) REFERENCES fpar(code)",
           "The ALTER TABLE statement conflicted with the FOREIGN KEY constraint \"fk2\"");
    EXPECT(s, "DROP TABLE fkemp; DROP TABLE fch; DROP TABLE fpar; SELECT COUNT(*) FROM sys.tables WHERE name LIKE 'f%'", "ROW 0");
    EXPECT(s, "CREATE TABLE bad (a int REFERENCES nothere(id))", "ERR 1767");
    HAS("ERR 1750 sev=16 st=0 line=1: Could not create constraint or index. See previous errors.");
    EXPECT(s, "BEGIN TRY CREATE TABLE bad (a int REFERENCES nothere(id)) END TRY BEGIN CATCH SELECT ERROR_NUMBER() END CATCH",
           "ROW 1750");
    HASNT("ERR ");
    sql_session_close(s);
}

static void transactions(void **state)
{
    (void)state;
    sql_session *s = open_session(54, 1);
    EXPECT(s, "CREATE TABLE tx (id int PRIMARY KEY, v int)", "DONE");
    EXPECT(s, "BEGIN TRAN; INSERT tx VALUES (1, 1); SELECT @@TRANCOUNT", "ENVTX BEGIN\nDONE");
    HAS("ROW 1");
    /* the transaction stays open across batches */
    EXPECT(s, "BEGIN TRAN; SELECT @@TRANCOUNT; COMMIT; SELECT @@TRANCOUNT", "ROW 2");
    HAS("ROW 1");
    HASNT("ENVTX COMMIT");
    EXPECT(s, "ROLLBACK; SELECT COUNT(*) FROM tx", "ENVTX ROLLBACK");
    HAS("ROW 0");
    EXPECT(s, "COMMIT", "ERR 3902 sev=16 st=1 line=1: The COMMIT TRANSACTION request has no corresponding BEGIN TRANSACTION.");
    EXPECT(s, "ROLLBACK", "ERR 3903");
    EXPECT(s, "SAVE TRAN sp", "ERR 628");
    EXPECT(s, "BEGIN TRAN t; INSERT tx VALUES (2, 2); SAVE TRAN sp; INSERT tx VALUES (3, 3); ROLLBACK TRAN sp; "
              "SELECT COUNT(*), @@TRANCOUNT FROM tx; COMMIT TRAN t", "ROW 1|1");
    HAS("ENVTX COMMIT");
    EXPECT(s, "SELECT id FROM tx", "ROW 2\nDONE COUNT n=1");
    EXPECT(s, "BEGIN TRAN; ROLLBACK TRAN nosuch", "ERR 6401");
    EXPECT(s, "ROLLBACK", "ENVTX ROLLBACK");
    /* a failing statement inside a transaction undoes only itself */
    EXPECT(s, "BEGIN TRAN; INSERT tx VALUES (4, 4); INSERT tx VALUES (5, 5), (2, 0); SELECT COUNT(*) FROM tx; COMMIT",
           "ERR 2627");
    HAS("ROW 2");
    /* XACT_ABORT: the error ends the batch and rolls back */
    EXPECT(s, "SET XACT_ABORT ON; BEGIN TRAN; INSERT tx VALUES (6, 6); INSERT tx VALUES (2, 2); SELECT 'not reached'",
           "ENVTX ROLLBACK");
    HASNT("not reached");
    EXPECT(s, "SET XACT_ABORT OFF; SELECT @@TRANCOUNT, COUNT(*) FROM tx", "ROW 0|2");
    /* IMPLICIT_TRANSACTIONS */
    EXPECT(s, "SET IMPLICIT_TRANSACTIONS ON; INSERT tx VALUES (7, 7); SELECT @@TRANCOUNT", "ENVTX BEGIN");
    HAS("ROW 1");
    EXPECT(s, "ROLLBACK; SET IMPLICIT_TRANSACTIONS OFF; SELECT COUNT(*) FROM tx WHERE id = 7", "ROW 0");
    /* conversion errors end the batch; the transaction stays */
    EXPECT(s, "BEGIN TRAN; SELECT CAST('x' AS int); SELECT 'not reached'", "ERR 245");
    HASNT("not reached");
    EXPECT(s, "SELECT @@TRANCOUNT; ROLLBACK", "ROW 1");
    /* transaction-manager requests */
    C.len = 0;
    assert_int_equal(sql_execute_tm(s, SQL_TM_BEGIN, "", 0, 0, &SINK), 0);
    HAS("ENVTX BEGIN\nDONE");
    C.len = 0;
    assert_int_equal(sql_execute_tm(s, SQL_TM_COMMIT, "", 0, 1, &SINK), 0);
    HAS("ENVTX COMMIT\nENVTX BEGIN\nDONE");
    C.len = 0;
    assert_int_equal(sql_execute_tm(s, SQL_TM_ROLLBACK, "", 0, 0, &SINK), 0);
    HAS("ENVTX ROLLBACK\nDONE");
    sql_session_close(s);
}

static void control_flow(void **state)
{
    (void)state;
    sql_session *s = open_session(55, 1);
    EXPECT(s, "DECLARE @i int = 0, @s varchar(100) = ''\n"
              "WHILE @i < 5 BEGIN SET @i += 1; IF @i = 2 CONTINUE; IF @i = 4 BREAK; SET @s = @s + CAST(@i AS varchar(5)) END\n"
              "SELECT @i, @s",
           "ROW 4|13");
    EXPECT(s, "DECLARE @x int; SELECT @x = 5; PRINT 'x is ' + CAST(@x AS varchar(10))", "INFO 0 sev=0 st=1 line=1: x is 5");
    EXPECT(s, "BEGIN TRY\n SELECT 1/0\nEND TRY\nBEGIN CATCH\n SELECT ERROR_NUMBER(), ERROR_SEVERITY(), ERROR_LINE(), ERROR_MESSAGE()\nEND CATCH",
           "ROW 8134|16|2|Divide by zero error encountered.");
    HASNT("ERR 8134");
    EXPECT(s, "BEGIN TRY THROW 50001, 'my error', 3 END TRY BEGIN CATCH SELECT ERROR_NUMBER(), ERROR_STATE() END CATCH",
           "ROW 50001|3");
    EXPECT(s, "THROW 50002, 'thrown', 1; SELECT 'not reached'", "ERR 50002 sev=16 st=1 line=1: thrown");
    HASNT("not reached");
    EXPECT(s, "RAISERROR('value %d and %s', 16, 2, 42, 'str'); SELECT 'after'", "ERR 50000 sev=16 st=2 line=1: value 42 and str");
    HAS("ROW after");
    EXPECT(s, "RAISERROR('just info', 10, 1)", "INFO 50000 sev=10 st=1 line=1: just info");
    EXPECT(s, "BEGIN TRY BEGIN TRY SELECT CAST('a' AS int) END TRY BEGIN CATCH THROW END CATCH END TRY "
              "BEGIN CATCH SELECT 'outer', ERROR_NUMBER() END CATCH", "ROW outer|245");
    EXPECT(s, "DECLARE @n int = 3; IF @n > 2 SELECT 'big' ELSE SELECT 'small'", "ROW big");
    EXPECT(s, "IF EXISTS (SELECT * FROM sys.databases WHERE name = 'master') PRINT 'yes'", "INFO 0 sev=0 st=1 line=1: yes");
    EXPECT(s, "SELECT 1; SELECT @@ROWCOUNT", "ROW 1\nDONE COUNT n=1\nCOLS -:int\nROW 1");
    EXPECT(s, "SELECT 1/0; SELECT @@ERROR", "ROW 8134");
    EXPECT(s, "GOTO skip; SELECT 'skipped'; skip: SELECT 'landed'", "ROW landed");
    HASNT("skipped");
    sql_session_close(s);
}

static void queries(void **state)
{
    (void)state;
    sql_session *s = open_session(56, 1);
    EXPECT(s, "CREATE TABLE dept (id int PRIMARY KEY, name nvarchar(30)); "
              "CREATE TABLE emp (id int PRIMARY KEY, dept int, name varchar(30), sal decimal(10,2)); "
              "INSERT dept VALUES (1, N'eng'), (2, N'ops'), (3, N'empty'); "
              "INSERT emp VALUES (1, 1, 'ann', 100.50), (2, 1, 'bob', 200), (3, 2, 'cy', 50), (4, NULL, 'dee', 10)",
           "DONE COUNT n=4");
    EXPECT(s, "SELECT d.name, COUNT(e.id) AS n, SUM(e.sal) AS total FROM dept d LEFT JOIN emp e ON e.dept = d.id "
              "GROUP BY d.name ORDER BY d.name",
           "ROW empty|0|NULL\nROW eng|2|300.50\nROW ops|1|50.00");
    HAS("COLS name:nvarchar(30) n:int total:decimal(38,2)\nINFO 8153 sev=10");
    EXPECT(s, "SELECT e.name FROM emp e JOIN dept d ON d.id = e.dept WHERE d.name = 'eng' ORDER BY e.name", "ROW ann\nROW bob\nDONE");
    EXPECT(s, "SELECT e.name, d.name FROM emp e FULL JOIN dept d ON d.id = e.dept ORDER BY e.name", "ROW NULL|empty\nROW ann|eng");
    HAS("ROW dee|NULL");
    EXPECT(s, "SELECT TOP 2 name FROM emp ORDER BY sal DESC", "ROW bob\nROW ann\nDONE COUNT n=2");
    EXPECT(s, "SELECT DISTINCT dept FROM emp ORDER BY dept", "ROW NULL\nROW 1\nROW 2\nDONE COUNT n=3");
    EXPECT(s, "SELECT dept, COUNT(*) FROM emp GROUP BY dept HAVING COUNT(*) > 1", "ROW 1|2\nDONE COUNT n=1");
    EXPECT(s, "SELECT name FROM emp WHERE dept IN (SELECT id FROM dept WHERE name LIKE 'e%') ORDER BY 1", "ROW ann\nROW bob\nDONE");
    EXPECT(s, "SELECT name, (SELECT name FROM dept WHERE id = emp.dept) FROM emp WHERE id = 3", "ROW cy|ops");
    EXPECT(s, "SELECT name FROM emp e WHERE EXISTS (SELECT 1 FROM dept d WHERE d.id = e.dept AND d.name = N'ops')", "ROW cy\nDONE COUNT n=1");
    EXPECT(s, "SELECT name FROM emp WHERE name LIKE '_e%' OR sal BETWEEN 40 AND 60 ORDER BY name", "ROW cy\nROW dee\nDONE");
    EXPECT(s, "SELECT id FROM dept UNION SELECT dept FROM emp WHERE dept IS NOT NULL ORDER BY 1", "ROW 1\nROW 2\nROW 3\nDONE COUNT n=3");
    EXPECT(s, "SELECT COUNT(*) FROM emp WHERE sal > (SELECT AVG(sal) FROM emp)", "ROW 2");
    EXPECT(s, "SELECT name FROM emp ORDER BY id OFFSET 1 ROWS FETCH NEXT 2 ROWS ONLY", "ROW bob\nROW cy\nDONE COUNT n=2");
    EXPECT(s, "SELECT name, dept FROM emp GROUP BY dept", "ERR 8120");
    EXPECT(s, "SELECT id FROM emp, dept", "ERR 209");
    EXPECT(s, "SELECT x.id FROM emp", "ERR 4104");
    EXPECT(s, "SELECT * FROM emp WHERE id = 2", "ROW 2|1|bob|200.00\nDONE COUNT n=1");
    EXPECT(s, "WITH big AS (SELECT * FROM emp WHERE sal > 60) SELECT COUNT(*) FROM big", "ROW 2");
    EXPECT(s, "SELECT * FROM (SELECT dept, MAX(sal) AS m FROM emp GROUP BY dept) AS x WHERE m > 60", "ROW 1|200.00");
    /* window functions */
    EXPECT(s, "SELECT name, ROW_NUMBER() OVER (ORDER BY sal DESC) AS rn, RANK() OVER (PARTITION BY dept ORDER BY sal) AS rk, "
              "SUM(sal) OVER (PARTITION BY dept) AS tot, LAG(name) OVER (ORDER BY id) AS prev FROM emp ORDER BY id",
           "ROW ann|2|1|300.50|NULL\nROW bob|1|2|300.50|ann\nROW cy|3|1|50.00|bob\nROW dee|4|1|10.00|cy");
    EXPECT(s, "SELECT name FROM (SELECT name, ROW_NUMBER() OVER (ORDER BY id) AS rn FROM emp) x WHERE rn = 3", "ROW cy\nDONE");
    EXPECT(s, "SELECT id FROM emp WHERE ROW_NUMBER() OVER (ORDER BY id) = 1", "ERR 4108");
    /* an equi-join large enough for the hash join */
    EXPECT(s, "SELECT CASE WHEN (SELECT COUNT(*) FROM sys.columns a JOIN sys.columns b ON a.object_id = b.object_id "
              "AND a.column_id = b.column_id) = (SELECT COUNT(*) FROM sys.columns) THEN 'same' END", "ROW same");
    sql_session_close(s);
}

static void catalog_views(void **state)
{
    (void)state;
    sql_session *s = open_session(57, 1);
    EXPECT(s, "CREATE DATABASE cv_db", "DONE");
    EXPECT(s, "USE cv_db", "ENVDB cv_db master\nINFO 5701 sev=0 st=1 line=1: Changed database context to 'cv_db'.\nDONE");
    EXPECT(s, "CREATE TABLE things (id int PRIMARY KEY, label nvarchar(50) NULL, price decimal(9,2) NOT NULL)", "DONE");
    EXPECT(s, "SELECT name, state_desc, recovery_model_desc, log_reuse_wait_desc FROM sys.databases WHERE name = 'cv_db'",
           "ROW cv_db|ONLINE|FULL|NOTHING");
    EXPECT(s, "SELECT t.name, s.name FROM sys.tables t JOIN sys.schemas s ON s.schema_id = t.schema_id", "ROW things|dbo\nDONE COUNT n=1");
    EXPECT(s, "SELECT c.name, c.column_id, c.max_length, c.is_nullable FROM sys.columns c JOIN sys.objects o ON o.object_id = c.object_id "
              "WHERE o.name = 'things' ORDER BY c.column_id", "ROW id|1|4|0\nROW label|2|100|1\nROW price|3|5|0");
    EXPECT(s, "SELECT TABLE_NAME, COLUMN_NAME, DATA_TYPE, IS_NULLABLE, CHARACTER_MAXIMUM_LENGTH FROM INFORMATION_SCHEMA.COLUMNS ORDER BY ORDINAL_POSITION",
           "ROW things|id|int|NO|NULL\nROW things|label|nvarchar|YES|50");
    EXPECT(s, "SELECT TABLE_SCHEMA, TABLE_NAME, TABLE_TYPE FROM INFORMATION_SCHEMA.TABLES", "ROW dbo|things|BASE TABLE");
    EXPECT(s, "SELECT session_id, login_name FROM sys.dm_exec_sessions WHERE session_id = @@SPID", "ROW 57|sa");
    EXPECT(s, "SELECT CASE WHEN OBJECT_ID('dbo.things') IS NOT NULL THEN 1 END, OBJECT_ID('nothing')", "ROW 1|NULL");
    EXPECT(s, "SELECT * FROM master.sys.databases WHERE database_id = 1", "ROW master|1");
    EXPECT(s, "ALTER DATABASE cv_db SET RECOVERY SIMPLE; SELECT recovery_model_desc FROM sys.databases WHERE name = 'cv_db'", "ROW SIMPLE");
    EXPECT(s, "DROP DATABASE cv_db", "ERR 3702");
    EXPECT(s, "USE master; DROP DATABASE cv_db; SELECT COUNT(*) FROM sys.databases WHERE name = 'cv_db'", "ROW 0");
    EXPECT(s, "USE nodb", "ERR 911");
    EXPECT(s, "BACKUP DATABASE master TO DISK = 'x.bak' WITH PASSWORD = 'p'",
           "ERR 40027 sev=16 st=1 line=1: BACKUP DATABASE WITH PASSWORD is not supported yet.");
    sql_session_close(s);
}

static void rpc_calls(void **state)
{
    (void)state;
    sql_session *s = open_session(58, 1);
    run(s, "CREATE TABLE rp (id int PRIMARY KEY, v nvarchar(20))");
    sql_type nv = value_type(SQL_NVARCHAR, 4000, 0, 0), it = value_type(SQL_INT, 0, 0, 0);
    size_t n1, n2;
    uint8_t *stmt = utf8_to_utf16le_alloc("INSERT rp VALUES (@a, @b); SELECT @out = COUNT(*) FROM rp", 57, &n1);
    uint8_t *decl = utf8_to_utf16le_alloc("@a int, @b nvarchar(20), @out int OUTPUT", 40, &n2);
    uint8_t *hello = utf8_to_utf16le_alloc("hello", 5, NULL);
    sql_rpc_param ps[5] = {
        { .type = nv, .value = value_bytes(SQL_NVARCHAR, stmt, (uint32_t)n1) },
        { .type = nv, .value = value_bytes(SQL_NVARCHAR, decl, (uint32_t)n2) },
        { .name = "@a", .type = it, .value = value_int(SQL_INT, 7) },
        { .name = "@b", .type = nv, .value = value_bytes(SQL_NVARCHAR, hello, 10) },
        { .name = "@out", .type = it, .value = value_null(SQL_INT), .output = 1 },
    };
    C.len = 0;
    assert_int_equal(sql_execute_rpc(s, "sp_executesql", ps, 5, 0, &SINK), 0);
    HAS("DONEINPROC COUNT n=1\nDONEINPROC COUNT n=1\nRETSTATUS 0\nRETVAL 4 @out 1\nDONEPROC");
    /* positional values (FreeTDS) */
    ps[2].name = ps[3].name = ps[4].name = NULL;
    ps[2].value = value_int(SQL_INT, 8);
    C.len = 0;
    assert_int_equal(sql_execute_rpc(s, "sp_executesql", ps, 5, 0, &SINK), 0);
    HAS("RETVAL 4  2");
    /* prepare / execute / unprepare */
    uint8_t *q = utf8_to_utf16le_alloc("SELECT v FROM rp WHERE id = @P1", 31, &n1);
    uint8_t *d = utf8_to_utf16le_alloc("@P1 int", 7, &n2);
    sql_rpc_param pp[3] = {
        { .name = "@handle", .type = it, .value = value_null(SQL_INT), .output = 1 },
        { .type = nv, .value = value_bytes(SQL_NVARCHAR, d, (uint32_t)n2) },
        { .type = nv, .value = value_bytes(SQL_NVARCHAR, q, (uint32_t)n1) },
    };
    C.len = 0;
    assert_int_equal(sql_execute_rpc(s, "sp_prepare", pp, 3, 0, &SINK), 0);
    HAS("RETSTATUS 0\nRETVAL 0 @handle 1\nDONEPROC");
    sql_rpc_param ep[2] = { { .type = it, .value = value_int(SQL_INT, 1) }, { .type = it, .value = value_int(SQL_INT, 7) } };
    C.len = 0;
    assert_int_equal(sql_execute_rpc(s, "sp_execute", ep, 2, 0, &SINK), 0);
    HAS("COLS v:nvarchar(20)\nROW hello\nDONEINPROC COUNT n=1\nRETSTATUS 0\nDONEPROC");
    C.len = 0;
    assert_int_equal(sql_execute_rpc(s, "sp_unprepare", ep, 1, 0, &SINK), 0);
    C.len = 0;
    assert_int_equal(sql_execute_rpc(s, "sp_execute", ep, 2, 0, &SINK), 0);
    HAS("ERR 8179");
    C.len = 0;
    assert_int_equal(sql_execute_rpc(s, "no_such_proc", NULL, 0, 0, &SINK), 0);
    HAS("ERR 2812");
    /* EXEC from T-SQL */
    EXPECT(s, "DECLARE @c int; EXEC sp_executesql N'SELECT @x = COUNT(*) FROM rp', N'@x int OUTPUT', @x = @c OUTPUT; SELECT @c",
           "ROW 2");
    EXPECT(s, "EXEC ('SELECT ''dyn''')", "ROW dyn");
    free(stmt);
    free(decl);
    free(hello);
    free(q);
    free(d);
    sql_session_close(s);
}


static void error_scopes(void **state)
{
    (void)state;
    sql_session *s = open_session(62, 1);
    /* a compile error inside dynamic SQL ends that batch only */
    EXPECT(s, "EXEC sp_executesql N'SELECT * FROM nosuch'\nSELECT 'continues'", "ERR 208");
    HAS("RETSTATUS 0\nDONEPROC ERROR\nCOLS -:varchar(9)\nROW continues");
    /* ...and an outer TRY catches it */
    EXPECT(s, "BEGIN TRY EXEC sp_executesql N'SELECT * FROM nosuch' END TRY BEGIN CATCH SELECT 'caught', ERROR_NUMBER() END CATCH",
           "ROW caught|208");
    /* at the same level, TRY does not catch a compile error */
    EXPECT(s, "BEGIN TRY SELECT * FROM nosuch END TRY BEGIN CATCH SELECT 'wrong' END CATCH SELECT 'not reached'", "ERR 208");
    HASNT("wrong");
    HASNT("not reached");
    /* XACT_ABORT inside TRY dooms the transaction: 3998 at the end of the batch */
    run(s, "CREATE TABLE es (id int PRIMARY KEY)");
    EXPECT(s, "SET XACT_ABORT ON; BEGIN TRY BEGIN TRAN; INSERT es VALUES (1); INSERT es VALUES (1) END TRY "
              "BEGIN CATCH SELECT XACT_STATE(), @@TRANCOUNT END CATCH", "ROW -1|1");
    HAS("ERR 3998 sev=16 st=1");
    HAS("ENVTX ROLLBACK\nDONE ERROR");
    EXPECT(s, "SET XACT_ABORT OFF; SELECT COUNT(*), @@TRANCOUNT FROM es", "ROW 0|0");
    /* a committable transaction survives a caught error */
    EXPECT(s, "BEGIN TRAN; BEGIN TRY INSERT es VALUES (2); SELECT 1/0 END TRY BEGIN CATCH SELECT XACT_STATE() END CATCH; COMMIT; "
              "SELECT COUNT(*) FROM es", "ROW 1\nDONE");
    HAS("ENVTX COMMIT");
    /* RAISERROR is not affected by XACT_ABORT */
    EXPECT(s, "SET XACT_ABORT ON; RAISERROR('r', 16, 1); SELECT 'goes on'; SET XACT_ABORT OFF", "ROW goes on");
    /* a DECLARE-only batch still ends with a DONE */
    EXPECT(s, "DECLARE @x int", "DONE\n");
    sql_session_close(s);
}


static void schemas_temp_tables(void **state)
{
    (void)state;
    sql_session *s = open_session(63, 1);
    EXPECT(s, "CREATE SCHEMA sales", "DONE");
    EXPECT(s, "CREATE TABLE sales.orders (id int PRIMARY KEY, amt money); INSERT sales.orders VALUES (1, 10)", "DONE COUNT n=1");
    EXPECT(s, "SELECT s.name, t.name FROM sys.tables t JOIN sys.schemas s ON s.schema_id = t.schema_id WHERE s.name = 'sales'",
           "ROW sales|orders");
    EXPECT(s, "SELECT * FROM orders", "ERR 208");
    EXPECT(s, "DROP SCHEMA sales", "ERR 3729");
    EXPECT(s, "DROP TABLE sales.orders; DROP SCHEMA sales; SELECT SCHEMA_ID('sales')", "ROW NULL");
    EXPECT(s, "CREATE SCHEMA dbo", "ERR 2714");
    /* temporary tables */
    EXPECT(s, "CREATE TABLE #t (id int IDENTITY PRIMARY KEY, v varchar(10) DEFAULT 'd'); "
              "INSERT #t (v) VALUES ('a'); INSERT #t DEFAULT VALUES; SELECT * FROM #t", "ROW 1|a\nROW 2|d");
    EXPECT(s, "SELECT COUNT(*) FROM #t", "ROW 2");       /* lives across batches */
    EXPECT(s, "IF OBJECT_ID('tempdb..#t') IS NOT NULL DROP TABLE #t; SELECT * FROM #t", "ERR 208");
    EXPECT(s, "EXEC('CREATE TABLE #inner (a int); INSERT #inner VALUES (1); SELECT * FROM #inner'); SELECT * FROM #inner",
           "ROW 1");
    HAS("ERR 208");                                       /* ended with its scope */
    EXPECT(s, "BEGIN TRAN; CREATE TABLE #r (a int); ROLLBACK; SELECT * FROM #r", "ERR 208");
    sql_session *other = open_session(64, 1);
    run(s, "CREATE TABLE #mine (a int)");
    EXPECT(other, "SELECT * FROM #mine", "ERR 208");      /* private to its session */
    EXPECT(other, "CREATE TABLE #mine (b int); INSERT #mine VALUES (7); SELECT * FROM #mine", "ROW 7");
    sql_session_close(other);
    /* table variables */
    EXPECT(s, "DECLARE @t TABLE (id int PRIMARY KEY, v varchar(10)); INSERT @t VALUES (1, 'a'), (2, 'b'); "
              "UPDATE @t SET v = 'bb' WHERE id = 2; DELETE FROM @t WHERE id = 1; SELECT * FROM @t",
           "ROW 2|bb\nDONE COUNT n=1");
    EXPECT(s, "SELECT * FROM @t", "ERR 1087");
    /* SELECT INTO */
    EXPECT(s, "SELECT name, database_id INTO #dbs FROM sys.databases WHERE database_id <= 4; SELECT COUNT(*) FROM #dbs",
           "DONE COUNT n=2\nCOLS -:int\nROW 2");
    EXPECT(s, "SELECT 1 INTO badtab", "ERR 1038");
    /* more catalog views */
    EXPECT(s, "SELECT type_desc, name FROM sys.master_files WHERE database_id = 1 ORDER BY file_id", "ROW ROWS|master\nROW LOG|master_log");
    EXPECT(s, "SELECT name FROM sys.filegroups", "ROW PRIMARY");
    EXPECT(s, "SELECT command FROM sys.dm_exec_requests WHERE session_id = @@SPID", "ROW SELECT");
    EXPECT(s, "SELECT COUNT(*) FROM sys.dm_db_log_info(DB_ID()) WHERE vlf_active = 1", "ROW 1");
    EXPECT(s, "BEGIN TRAN; INSERT #dbs VALUES ('x', 99); SELECT COUNT(*) FROM sys.dm_tran_database_transactions "
              "WHERE transaction_id = (SELECT transaction_id FROM sys.dm_exec_requests WHERE session_id = @@SPID); ROLLBACK",
           "ROW 1");
    sql_session_close(s);
}


typedef struct bg_arg {
    sql_session *s;
    const char *sql;
    cap c;
} bg_arg;

static void *bg_run(void *arg)
{
    bg_arg *b = arg;
    sql_sink k = SINK;
    k.ctx = &b->c;
    sql_execute_batch(b->s, b->sql, strlen(b->sql), 0, &k);
    return NULL;
}


/* Server threads have 256 KiB stacks: the deepest nesting the parser allows
 * must run inside one. */
static void *deep_run(void *arg)
{
    bg_arg *b = arg;
    return bg_run(b);
}

static void deep_nesting(void **state)
{
    (void)state;
    sql_session *s = open_session(68, 1);
    char *sql = malloc(65536);
    assert_non_null(sql);
    /* expressions nested 120 deep */
    size_t o = (size_t)sprintf(sql, "SELECT ");
    for (int i = 0; i < 120; i++)
        o += (size_t)sprintf(sql + o, "UPPER(");
    o += (size_t)sprintf(sql + o, "'x'");
    for (int i = 0; i < 120; i++)
        sql[o++] = ')';
    o += (size_t)sprintf(sql + o, ", ");
    for (int i = 0; i < 100; i++)
        o += (size_t)sprintf(sql + o, "1 + ");
    o += (size_t)sprintf(sql + o, "1; SELECT ");
    /* subqueries nested 30 deep, then too deep */
    for (int i = 0; i < 30; i++)
        o += (size_t)sprintf(sql + o, "(SELECT ");
    o += (size_t)sprintf(sql + o, "1");
    for (int i = 0; i < 30; i++)
        sql[o++] = ')';
    o += (size_t)sprintf(sql + o, "; SELECT ");
    for (int i = 0; i < 60; i++)
        o += (size_t)sprintf(sql + o, "(SELECT ");
    o += (size_t)sprintf(sql + o, "1");
    for (int i = 0; i < 60; i++)
        sql[o++] = ')';
    /* a long OR chain (generated SQL) is one n-ary node, not a deep tree
     * (the parser itself takes at most about 120 terms for now) */
    o += (size_t)sprintf(sql + o, "; SELECT COUNT(*) FROM sys.databases WHERE database_id = -1");
    for (int i = 0; i < 110; i++)
        o += (size_t)sprintf(sql + o, " OR database_id = %d", i + 1000);
    o += (size_t)sprintf(sql + o, " OR name = 'master'");
    sql[o] = 0;
    bg_arg bg = { .s = s, .sql = sql };
    pthread_attr_t at;
    pthread_attr_init(&at);
    pthread_attr_setstacksize(&at, 256 * 1024);
    pthread_t th;
    assert_int_equal(pthread_create(&th, &at, deep_run, &bg), 0);
    assert_int_equal(pthread_join(th, NULL), 0);
    pthread_attr_destroy(&at);
    const char *t = bg.c.text ? bg.c.text : "";
    if (!strstr(t, "ROW X|101\n") || !strstr(t, "ROW 1\n") || !strstr(t, "ERR 191") || !strstr(t, "ROW 1\nDONE COUNT n=1\n"))
        fail_msg("got:\n%s", t);
    free(bg.c.text);
    free(sql);
    sql_session_close(s);
}

static void deadlock_victim(void **state)
{
    (void)state;
    sql_session *a = open_session(65, 1), *b = open_session(66, 1);
    run(a, "CREATE TABLE dl (id int PRIMARY KEY, v int); INSERT dl VALUES (1, 0), (2, 0)");
    EXPECT(a, "BEGIN TRAN; UPDATE dl SET v = 1 WHERE id = 1", "DONE COUNT n=1");
    EXPECT(b, "BEGIN TRAN; UPDATE dl SET v = 2 WHERE id = 2", "DONE COUNT n=1");
    /* a waits for b's row in the background; b then waits for a's: one is the victim */
    bg_arg bg = { .s = a, .sql = "UPDATE dl SET v = 1 WHERE id = 2; SELECT 'a goes on'" };
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, bg_run, &bg), 0);
    usleep(200 * 1000);
    run(b, "UPDATE dl SET v = 2 WHERE id = 1; SELECT 'b goes on'");
    assert_int_equal(pthread_join(th, NULL), 0);
    const char *ta = bg.c.text ? bg.c.text : "", *tb = C.text ? C.text : "";
    bool a_victim = strstr(ta, "ERR 1205") != NULL, b_victim = strstr(tb, "ERR 1205") != NULL;
    if (a_victim == b_victim)
        fail_msg("exactly one victim expected\na:\n%s\nb:\n%s", ta, tb);
    const char *vt = a_victim ? ta : tb, *wt = a_victim ? tb : ta;
    /* the victim's transaction is rolled back and its batch ends */
    if (!strstr(vt, "ENVTX ROLLBACK") || strstr(vt, "goes on"))
        fail_msg("victim:\n%s", vt);
    if (!strstr(wt, "goes on"))
        fail_msg("survivor:\n%s", wt);
    sql_session *w = a_victim ? b : a, *v = a_victim ? a : b;
    EXPECT(v, "SELECT @@TRANCOUNT", "ROW 0");
    EXPECT(w, "COMMIT; SELECT COUNT(*) FROM dl WHERE v = 0", "ROW 0");
    free(bg.c.text);
    sql_session_close(a);
    sql_session_close(b);
}

/* Early lock release (txn/README.md): a writer waiting for a committing
 * transaction's row gets the lock while the commit is flushed (slowly,
 * here), but what it then reads reaches its client only once that commit
 * is durable. */
static int64_t row_sent_ms;

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int timed_row(void *ctx, const sql_value *vals, int n)
{
    row_sent_ms = mono_ms();
    return s_row(ctx, vals, n);
}

static void *timed_run(void *arg)
{
    bg_arg *b = arg;
    sql_sink k = SINK;
    k.ctx = &b->c;
    k.row = timed_row;
    sql_execute_batch(b->s, b->sql, strlen(b->sql), 0, &k);
    return NULL;
}

static void early_lock_release_rows_wait(void **state)
{
    (void)state;
    enum { SLOW_MS = 300 };
    sql_session *a = open_session(69, 1), *b = open_session(70, 1);
    run(a, "CREATE TABLE elr (id int PRIMARY KEY, v int); INSERT elr VALUES (1, 0)");
    EXPECT(a, "BEGIN TRAN; UPDATE elr SET v = 1 WHERE id = 1", "DONE COUNT n=1");
    bg_arg bg = { .s = b, .sql = "BEGIN TRAN; UPDATE elr SET v = v + 10 WHERE id = 1; "
                                 "SELECT v FROM elr WHERE id = 1; COMMIT" };
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, timed_run, &bg), 0);
    usleep(200 * 1000);                       /* b waits to update the row */
    EXPECT(a, "SELECT wait_type FROM sys.dm_exec_requests WHERE blocking_session_id <> 0", "ROW LCK_M_X");
    uint64_t handed = txn_mgr_locks_handed_over(IN->txns);
    fault_rule slow = { .path_contains = ".ldf", .ops = FIO_OP_SYNC, .action = FAULT_SLOW, .delay_ms = SLOW_MS };
    int id = fault_add(&slow);
    int64_t start = mono_ms();
    EXPECT(a, "COMMIT", "ENVTX COMMIT");
    fault_remove(id);
    assert_int_equal(pthread_join(th, NULL), 0);
    const char *t = bg.c.text ? bg.c.text : "";
    if (!strstr(t, "ROW 11\n") || !strstr(t, "ENVTX COMMIT"))
        fail_msg("reader got:\n%s", t);
    assert_true(txn_mgr_locks_handed_over(IN->txns) > handed);   /* granted during the flush */
    assert_true(row_sent_ms >= start + SLOW_MS);                 /* sent after it */
    free(bg.c.text);
    run(a, "DROP TABLE elr");
    sql_session_close(a);
    sql_session_close(b);
}

static void three_part_names(void **state)
{
    (void)state;
    sql_session *s = open_session(67, 1);
    EXPECT(s, "CREATE DATABASE other; CREATE TABLE other.dbo.o (id int PRIMARY KEY, v varchar(10))", "DONE");
    EXPECT(s, "INSERT other.dbo.o VALUES (1, 'x'); INSERT INTO other..o VALUES (2, 'y')", "DONE COUNT n=1");
    EXPECT(s, "SELECT DB_NAME(), COUNT(*) FROM other.dbo.o", "ROW master|2");
    EXPECT(s, "BEGIN TRAN; UPDATE other.dbo.o SET v = 'z'; CREATE TABLE here (a int); INSERT here VALUES (1); COMMIT",
           "ENVTX COMMIT");
    EXPECT(s, "SELECT COUNT(*) FROM other.dbo.o o JOIN master.dbo.here h ON h.a = o.id WHERE o.v = 'z'", "ROW 1");
    EXPECT(s, "USE other; SELECT DB_NAME(); USE master", "ROW other");
    EXPECT(s, "SELECT * FROM nodb.dbo.x", "ERR 911");
    EXPECT(s, "DROP DATABASE other; SELECT DB_ID('other')", "ROW NULL");
    sql_session_close(s);
}

/* A mark name belongs to RESTORE LOG (it is looked up in a log backup's mark
 * table): RESTORE DATABASE refuses it with 4340 before anything else, also in
 * the recover-only form, which would otherwise recover as if no mark were
 * given; 'lsn:N' stays allowed on RESTORE DATABASE. */
static void restore_mark_name_only_on_log(void **state)
{
    (void)state;
    sql_session *s = open_session(68, 1);
    EXPECT(s, "RESTORE DATABASE nosuch_rm WITH RECOVERY, STOPATMARK = 'm'",
           "ERR 4340 sev=16 st=1 line=1: Point-in-time recovery with a mark name is only allowed with RESTORE LOG.\n"
           "ERR 3013 sev=16 st=1 line=1: RESTORE DATABASE is terminating abnormally.");
    EXPECT(s, "RESTORE DATABASE nosuch_rm FROM DISK = 'nosuch_rm.bak' WITH STOPBEFOREMARK = 'm' AFTER '2024-01-01'",
           "ERR 4340");
    EXPECT_NOT(s, "RESTORE DATABASE nosuch_rm FROM DISK = 'nosuch_rm.bak' WITH STOPBEFOREMARK = 'm'", "ERR 3201");
    EXPECT(s, "RESTORE DATABASE nosuch_rm WITH RECOVERY, STOPATMARK = 'lsn:5'", "ERR 911");
    EXPECT_NOT(s, "RESTORE LOG nosuch_rm FROM DISK = 'nosuch_rm.bak' WITH STOPATMARK = 'm'", "ERR 4340");
    sql_session_close(s);
}

/* A counter of sys.dm_os_performance_counters; `instance` NULL: any. */
static long long counter_of(sql_session *s, const char *object, const char *name, const char *instance)
{
    char q[400];
    int n = snprintf(q, sizeof q, "SELECT cntr_value FROM sys.dm_os_performance_counters "
                                  "WHERE object_name = '%s' AND counter_name = '%s'", object, name);
    if (instance)
        snprintf(q + n, sizeof q - (size_t)n, " AND instance_name = '%s'", instance);
    const char *r = strstr(run(s, q), "ROW ");
    if (!r)
        fail_msg("no counter %s / %s / %s", object, name, instance ? instance : "");
    return atoll(r + 4);
}

static long long perf_counter(sql_session *s, const char *object, const char *name)
{
    return counter_of(s, object, name, NULL);
}

/* A database's counter (object hadrdb:Databases, instance_name the database). */
static long long db_counter(sql_session *s, const char *db, const char *name)
{
    return counter_of(s, "hadrdb:Databases", name, db);
}

/* Each database's group commit in SQL Server's counter names: every commit
 * waited for a flush, each lone commit led its own. */
static void log_flush_counters(void **state)
{
    (void)state;
    sql_session *s = open_session(71, 1);
    run(s, "CREATE DATABASE lfdb");
    run(s, "USE lfdb");
    run(s, "CREATE TABLE t (id int PRIMARY KEY)");
    long long flushes = db_counter(s, "lfdb", "Log Flushes/sec");
    long long waits = db_counter(s, "lfdb", "Log Flush Waits/sec");
    long long bytes = db_counter(s, "lfdb", "Log Bytes Flushed/sec");
    long long other = db_counter(s, "master", "Log Flush Waits/sec");
    for (int i = 0; i < 3; i++) {
        char q[64];
        snprintf(q, sizeof q, "INSERT INTO t VALUES (%d)", i);
        EXPECT(s, q, "DONE COUNT n=1");
    }
    assert_true(db_counter(s, "lfdb", "Log Flushes/sec") >= flushes + 3);
    assert_true(db_counter(s, "lfdb", "Log Flush Waits/sec") >= waits + 3);
    assert_true(db_counter(s, "lfdb", "Log Bytes Flushed/sec") > bytes);
    assert_int_equal(db_counter(s, "master", "Log Flush Waits/sec"), other);
    EXPECT(s, "SELECT COUNT(*) FROM sys.dm_os_performance_counters WHERE object_name = 'hadrdb:Databases' "
              "AND instance_name = 'lfdb'", "ROW 3");
    run(s, "USE master");
    run(s, "DROP DATABASE lfdb");
    EXPECT(s, "SELECT COUNT(*) FROM sys.dm_os_performance_counters WHERE instance_name = 'lfdb'", "ROW 0");
    sql_session_close(s);
}

/* Batches of one shape share a cached tree; each runs with its own constants:
 * in expressions and result types, ORDER BY positions, a mark's description,
 * a DEFAULT's stored text, sp_executesql. */
static void plan_cache_reuse(void **state)
{
    (void)state;
    sql_session *s = open_session(71, 1);
    run(s, "DBCC FREEPROCCACHE WITH NO_INFOMSGS");   /* the cache is the process's: start empty */
    run(s, "CREATE DATABASE pcdb");
    run(s, "USE pcdb");
    run(s, "CREATE TABLE pc (id int PRIMARY KEY, v varchar(10))");
    run(s, "INSERT INTO pc VALUES (1, 'b')");
    long long hits = perf_counter(s, "hadrdb:Plan Cache", "Cache hits");
    EXPECT(s, "INSERT INTO pc VALUES (2, 'a')", "DONE COUNT n=1");
    EXPECT(s, "SELECT v, 'k' + v, 1.5 * id FROM pc WHERE id = 1",
           "COLS v:varchar(10) -:varchar(11) -:numeric(13,1)\nROW b|kb|1.5");
    EXPECT(s, "SELECT v, 'kkk' + v, 12.25 * id FROM pc WHERE id = 2",
           "COLS v:varchar(10) -:varchar(13) -:numeric(15,2)\nROW a|kkka|24.50");
    /* the second INSERT, the second SELECT and the counter query itself */
    assert_true(perf_counter(s, "hadrdb:Plan Cache", "Cache hits") >= hits + 3);
    /* the SELECT's shape ran twice, from one entry with parameters */
    EXPECT(s, "SELECT COUNT(*) FROM sys.dm_exec_cached_plans WHERE usecounts >= 2 AND objtype = 'Prepared' "
              "AND cacheobjtype = 'Parse Tree' AND refcounts >= 1 AND size_in_bytes > 0 AND DATALENGTH(plan_handle) = 16",
           "ROW 3");   /* INSERT, SELECT, and the counter query */
    EXPECT(s, "SELECT objtype FROM sys.dm_exec_cached_plans WHERE usecounts = 1 AND objtype = 'Adhoc' AND bucketid >= 0",
           "ROW Adhoc");   /* CREATE TABLE pc (...) had no constants */
    EXPECT(s, "SELECT id, v FROM pc ORDER BY 1", "ROW 1|b\nROW 2|a");
    EXPECT(s, "SELECT id, v FROM pc ORDER BY 2", "ROW 2|a\nROW 1|b");
    EXPECT(s, "SELECT id, v FROM pc ORDER BY 3", "ERR 108");
    /* a default is stored as the text of this execution's constant */
    EXPECT(s, "CREATE TABLE #d (a int, b int DEFAULT 7); INSERT INTO #d (a) VALUES (1); SELECT b FROM #d; DROP TABLE #d",
           "ROW 7");
    EXPECT(s, "CREATE TABLE #d (a int, b int DEFAULT 9); INSERT INTO #d (a) VALUES (1); SELECT b FROM #d; DROP TABLE #d",
           "ROW 9");
    /* each marked commit records its own description */
    run(s, "BEGIN TRAN pcm WITH MARK 'first'; UPDATE pc SET v = 'x' WHERE id = 1; COMMIT");
    run(s, "BEGIN TRAN pcm WITH MARK 'second'; UPDATE pc SET v = 'y' WHERE id = 1; COMMIT");
    EXPECT(s, "SELECT description FROM msdb.dbo.logmarkhistory WHERE database_name = 'pcdb' ORDER BY lsn",
           "ROW first\nROW second");
    /* sp_executesql: the same text and parameters hit; values come from the parameters */
    EXPECT(s, "EXEC sp_executesql N'SELECT v FROM pc WHERE id = @i', N'@i int', @i = 1", "ROW y");
    EXPECT(s, "EXEC sp_executesql N'SELECT v FROM pc WHERE id = @i', N'@i int', @i = 2", "ROW a");
    /* DBCC FREEPROCCACHE empties it */
    EXPECT(s, "DBCC FREEPROCCACHE", "INFO 2528");
    /* only the DBCC batch itself (published after its flush) and the counter query */
    assert_true(perf_counter(s, "hadrdb:Plan Cache", "Cached batches") <= 2);
    /* the counter query, and this one (running: its own reference and the cache's) */
    EXPECT(s, "SELECT COUNT(*), MAX(refcounts) FROM sys.dm_exec_cached_plans", "ROW 2|2");
    EXPECT(s, "DBCC FREEPROCCACHE (0x06)", "ERR 40000");
    EXPECT(s, "SELECT v FROM pc WHERE id = 2", "ROW a");
    run(s, "USE master");
    sql_session_close(s);
}

typedef struct lock_arg {
    sql_session *s;
    const char *sql;
    cap c;
} lock_arg;

static void lock_timeout(void **state)
{
    (void)state;
    sql_session *a = open_session(60, 1), *b = open_session(61, 1);
    run(a, "CREATE TABLE lk (id int PRIMARY KEY, v int); INSERT lk VALUES (1, 1)");
    EXPECT(a, "BEGIN TRAN; UPDATE lk SET v = 2 WHERE id = 1", "DONE COUNT n=1");
    EXPECT(b, "SET LOCK_TIMEOUT 0; SELECT v FROM lk WHERE id = 1", "ERR 1222");
    EXPECT(b, "SELECT v FROM lk WITH (NOLOCK) WHERE id = 1", "ROW 2");
    EXPECT(a, "ROLLBACK", "ENVTX ROLLBACK");
    EXPECT(b, "SELECT v FROM lk WHERE id = 1", "ROW 1");
    sql_session_close(a);
    sql_session_close(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(select_expressions),
        cmocka_unit_test(ddl_and_dml),
        cmocka_unit_test(identity_and_defaults),
        cmocka_unit_test(foreign_keys),
        cmocka_unit_test(transactions),
        cmocka_unit_test(control_flow),
        cmocka_unit_test(queries),
        cmocka_unit_test(catalog_views),
        cmocka_unit_test(rpc_calls),
        cmocka_unit_test(lock_timeout),
        cmocka_unit_test(error_scopes),
        cmocka_unit_test(schemas_temp_tables),
        cmocka_unit_test(deadlock_victim),
        cmocka_unit_test(early_lock_release_rows_wait),
        cmocka_unit_test(three_part_names),
        cmocka_unit_test(deep_nesting),
        cmocka_unit_test(restore_mark_name_only_on_log),
        cmocka_unit_test(plan_cache_reuse),
        cmocka_unit_test(log_flush_counters),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
