/* test_dbcc_page.c — finding pages and recording damaged ones, through T-SQL
 * against an instance in a temporary directory: %%physloc%% and
 * sys.fn_PhysLocFormatter, DBCC IND, DBCC PAGE, DBCC TRACEON, ALTER DATABASE
 * SET PAGE_VERIFY, and msdb.dbo.suspect_pages as the writer fills it. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdbool.h>

#include "unit/engine/engine_harness.h"
#include "engine/suspect.h"
#include "sql/lexer.h"
#include "sql/session.h"

/* ------------------------------------------------------------ a text sink */

static char *OUT;
static size_t OUTLEN, OUTCAP;

static void add(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void add(const char *fmt, ...)
{
    char line[2048];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if ((size_t)n >= sizeof line)
        n = sizeof line - 1;
    if (OUTLEN + (size_t)n + 2 > OUTCAP) {
        OUTCAP = (OUTLEN + (size_t)n + 2) * 2;
        OUT = realloc(OUT, OUTCAP);
        assert_non_null(OUT);
    }
    memcpy(OUT + OUTLEN, line, (size_t)n);
    OUTLEN += (size_t)n;
    OUT[OUTLEN++] = '\n';
    OUT[OUTLEN] = 0;
}

static sql_column COLS[64];
static int NCOLS;

static int s_columns(void *ctx, const sql_column *cols, int n)
{
    (void)ctx;
    char line[2048] = "COLS";
    size_t o = 4;
    NCOLS = n < 64 ? n : 64;
    for (int i = 0; i < n && i < 64; i++) {
        COLS[i] = cols[i];
        o += (size_t)snprintf(line + o, sizeof line - o, " %s:%s", cols[i].name[0] ? cols[i].name : "-",
                              value_type_name(cols[i].type.id));
    }
    add("%s", line);
    return 0;
}

static int s_row(void *ctx, const sql_value *vals, int n)
{
    (void)ctx;
    char line[2048] = "ROW";
    size_t o = 3;
    for (int i = 0; i < n; i++) {
        char v[600];
        sql_type t = i < NCOLS ? COLS[i].type : value_type(vals[i].type, -1, 0, 0);
        if (vals[i].is_null)
            snprintf(v, sizeof v, "NULL");
        else
            value_format(&vals[i], &t, v, sizeof v);
        o += (size_t)snprintf(line + o, sizeof line - o, "%s%s", i ? "|" : " ", v);
    }
    add("%s", line);
    return 0;
}

static int s_done(void *ctx, int kind, unsigned status, unsigned curcmd, uint64_t rowcount)
{
    (void)ctx;
    (void)kind;
    (void)curcmd;
    add("DONE%s n=%llu", (status & SQL_DONE_ERROR) ? " ERROR" : "", (unsigned long long)rowcount);
    return 0;
}

static int s_message(void *ctx, const hdb_err *e, int is_error, const char *proc, int line)
{
    (void)ctx;
    (void)proc;
    (void)line;
    add("%s %d sev=%d: %s", is_error ? "ERR" : "INFO", e->number, e->severity, e->msg);
    return 0;
}

static int s_env(void *ctx, const char *a, const char *b) { (void)ctx; (void)a; (void)b; return 0; }

static sql_sink SINK = { .columns = s_columns, .row = s_row, .done = s_done, .message = s_message,
                         .env_database = s_env };
static instance *IN;
static sql_session *S;

static const char *run(const char *sql)
{
    OUTLEN = 0;
    if (OUT)
        OUT[0] = 0;
    assert_int_equal(sql_execute_batch(S, sql, strlen(sql), 0, &SINK), 0);
    return OUT ? OUT : "";
}

#define EXPECT(sql, want) do { const char *got_ = run(sql); \
    if (!strstr(got_, (want))) fail_msg("batch:\n%s\nwanted:\n%s\ngot:\n%s", (sql), (want), got_); } while (0)
#define EXPECT_NOT(sql, bad) do { const char *got_ = run(sql); \
    if (strstr(got_, (bad))) fail_msg("batch:\n%s\nmust not contain:\n%s\ngot:\n%s", (sql), (bad), got_); } while (0)

static int count_lines(const char *text, const char *prefix)
{
    int n = 0;
    size_t pl = strlen(prefix);
    for (const char *p = text; p && *p;) {
        if (!strncmp(p, prefix, pl))
            n++;
        const char *nl = strchr(p, '\n');
        p = nl ? nl + 1 : NULL;
    }
    return n;
}

static int group_setup(void **state)
{
    (void)state;
    h_make_dir();
    IN = h_open(64);
    hdb_err e;
    hdb_err_clear(&e);
    assert_int_equal(sql_suspect_pages_prepare(IN, &e), 0);
    sql_login_info li = { .spid = 51, .login = "sa", .database = "", .host = "test", .app = "test_dbcc_page",
                          .ansi_defaults = 1, .quoted_identifier = 1 };
    S = sql_session_open(IN, &li, &e);
    if (!S)
        fail_msg("session: %s", e.msg);
    run("CREATE DATABASE pg; USE pg; CREATE TABLE t (id int PRIMARY KEY, v varchar(300)); "
        "SET NOCOUNT ON; DECLARE @i int = 1; WHILE @i <= 300 BEGIN "
        "INSERT INTO t VALUES (@i, REPLICATE('v', 200)); SET @i += 1; END");
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    sql_session_close(S);
    sql_suspect_pages_stop(IN, 0);
    inst_close(IN, 1);
    h_remove_dir();
    free(OUT);
    return 0;
}

/* ------------------------------------------------------------ %%physloc%% */

static void physloc(void **state)
{
    (void)state;
    EXPECT("SELECT %%physloc%% AS p FROM t WHERE id = 1", "COLS p:binary");
    EXPECT("SELECT sys.fn_PhysLocFormatter(%%physloc%%) AS loc FROM t WHERE id = 1", "COLS loc:varchar\nROW (1:");
    /* the same place three ways */
    const char *got = run("SELECT sys.fn_PhysLocFormatter(%%PHYSLOC%%), sys.fn_PhysLocFormatter(x.%%physloc%%), "
                          "SYS.FN_PHYSLOCFORMATTER([%%physloc%%]) FROM t x WHERE id = 150");
    char a[40], b[40], c[40];
    assert_int_equal(sscanf(strstr(got, "ROW ") + 4, "%39[^|]|%39[^|]|%39[^\n]", a, b, c), 3);
    assert_string_equal(a, b);
    assert_string_equal(a, c);
    /* the formatter itself: page, file, slot little-endian */
    EXPECT("SELECT sys.fn_PhysLocFormatter(0x0A00000001000300), sys.fn_PhysLocFormatter(NULL)",
           "ROW (1:10:3)|NULL");
    EXPECT("SELECT sys.fn_PhysLocFormatter(0x01)", "ROW (0:1:0)");
    /* not part of *; carried through a join's copies and a derived table */
    EXPECT("SELECT %%physloc%%, * FROM t WHERE id = 2", "COLS -:binary id:int v:varchar\n");
    got = run("SELECT a.id, sys.fn_PhysLocFormatter(b.%%physloc%%), sys.fn_PhysLocFormatter(a.%%physloc%%) "
              "FROM t a JOIN t b ON a.id = b.id WHERE a.id = 200");
    assert_int_equal(sscanf(strstr(got, "ROW 200|") + 8, "%39[^|]|%39[^\n]", a, b), 2);
    assert_string_equal(a, b);
    EXPECT("SELECT COUNT(DISTINCT p) FROM (SELECT %%physloc%% AS p FROM t) x", "ROW 300");
    EXPECT("SELECT TOP 1 id FROM t ORDER BY %%physloc%% DESC", "ROW 300");
    /* errors as SQL Server's */
    EXPECT("SELECT %%physloc%% FROM t a JOIN t b ON a.id = b.id", "ERR 209 sev=16: Ambiguous column name '%%physloc%%'.");
    EXPECT("SELECT %%physloc%% FROM sys.databases", "ERR 207 sev=16: Invalid column name '%%physloc%%'.");
    EXPECT("SELECT %%physloc%%", "ERR 207");
    EXPECT("SELECT %%lockres%% FROM t", "ERR 207 sev=16: Invalid column name '%%lockres%%'.");
    EXPECT("SELECT nosuch.%%physloc%% FROM t", "ERR 4104");
    EXPECT("SELECT fn_PhysLocFormatter(0x01)", "ERR 195");
    EXPECT("SELECT sys.fn_PhysLocFormatter(0x01, 2)", "ERR 174");
    EXPECT("UPDATE t SET v = 'x' WHERE %%physloc%% = 0x00", "ERR 207");
    EXPECT("SELECT 7 %% 2", "ERR 102");                /* %% alone is still no operator */
    EXPECT("SELECT 7 % 2", "ROW 1");
}

/* The lexer reads %%name%% as one identifier, and nothing else changes. */
static void lex_virtual_columns(void **state)
{
    (void)state;
    arena a;
    arena_init(&a, 4096);
    const char *src = "%%physloc%% t.%%PhysLoc%% %%x 5 %% %%%%a%%b%%";
    lexer lx;
    lex_init(&lx, src, strlen(src), &a, true);
    lex_token t;
    const struct { lex_kind kind; lex_op op; const char *text; } want[] = {
        { TK_IDENT, OP_NONE, "%%physloc%%" }, { TK_IDENT, OP_NONE, "t" }, { TK_OP, OP_DOT, "." },
        { TK_IDENT, OP_NONE, "%%PhysLoc%%" }, { TK_OP, OP_PERCENT, "%" }, { TK_OP, OP_PERCENT, "%" },
        { TK_IDENT, OP_NONE, "x" }, { TK_INTEGER, OP_NONE, "5" }, { TK_OP, OP_PERCENT, "%" },
        { TK_OP, OP_PERCENT, "%" }, { TK_OP, OP_PERCENT, "%" }, { TK_OP, OP_PERCENT, "%" },
        { TK_IDENT, OP_NONE, "%%a%%" }, { TK_IDENT, OP_NONE, "b" }, { TK_OP, OP_PERCENT, "%" },
        { TK_OP, OP_PERCENT, "%" }, { TK_EOF, OP_NONE, "" },
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        lex_next(&lx, &t);
        if (t.kind != want[i].kind || (t.kind == TK_OP && t.op != want[i].op) || strcmp(t.text, want[i].text))
            fail_msg("token %zu: kind %d op %d text '%s', wanted '%s'", i, t.kind, t.op, t.text, want[i].text);
        assert_int_equal(t.kw, KW_NONE);
    }
    /* at most 128 characters with the marks, like any name: longer is not one */
    char longname[140];
    for (int n = 124; n <= 125; n++) {
        memset(longname, 'q', sizeof longname);
        longname[0] = longname[1] = '%';
        longname[n + 2] = longname[n + 3] = '%';
        longname[n + 4] = 0;
        lex_init(&lx, longname, strlen(longname), &a, true);
        lex_next(&lx, &t);
        if (n == 124)
            assert_true(t.kind == TK_IDENT && strlen(t.text) == 128);
        else
            assert_true(t.kind == TK_OP && t.op == OP_PERCENT);
    }
    arena_destroy(&a);
}

/* ------------------------------------------------------------ DBCC IND */

static void dbcc_ind(void **state)
{
    (void)state;
    const char *got = run("DBCC IND ('pg', 't', -1)");
    if (!strstr(got, "COLS PageFID:tinyint PagePID:int IAMFID:tinyint IAMPID:int ObjectID:int IndexID:int "
                     "PartitionNumber:tinyint PartitionID:bigint iam_chain_type:varchar PageType:tinyint "
                     "IndexLevel:tinyint NextPageFID:tinyint NextPagePID:int PrevPageFID:tinyint PrevPagePID:int"))
        fail_msg("%s", got);
    int pages = count_lines(got, "ROW ");
    assert_true(pages > 8);
    assert_non_null(strstr(got, "|NULL|NULL|1000|1|1|281475042246656|In-row data|1|0|"));   /* a data page */
    assert_non_null(strstr(got, "|In-row data|2|1|"));                                      /* the root */
    assert_null(strstr(got, "2528"));            /* a rowset, no message */
    /* the same by ids and with the current database; index 1 alone; -2 = IAM pages: none */
    run("DECLARE @o int = OBJECT_ID('t'); DBCC IND (0, @o, 1)");
    assert_int_equal(count_lines(OUT, "ROW "), pages);
    EXPECT("DBCC IND (pg, t, -2)", "DONE n=0");
    EXPECT("DBCC IND ('pg', 't', 2)", "DONE n=0");

    /* a heap is index 0; a secondary index has index pages; big values have LOB pages */
    run("CREATE TABLE h (a int, b varchar(max)); "
        "INSERT INTO h VALUES (1, REPLICATE(CAST('z' AS varchar(max)), 20000)), (2, 'small'); "
        "CREATE INDEX ix_a ON h (a)");
    got = run("DBCC IND ('pg', 'dbo.h', -1)");
    assert_non_null(strstr(got, "|0|1|"));                                /* IndexID 0, partition 1 */
    assert_non_null(strstr(got, "|LOB data|3|0|"));
    assert_non_null(strstr(got, "|2|1|"));                                /* IndexID 2 */
    int lob = 0;
    for (const char *p = strstr(got, "LOB data"); p; p = strstr(p + 1, "LOB data"))
        lob++;
    assert_int_equal(lob, 3);                     /* 20000 bytes: three overflow pages */
    got = run("DBCC IND ('pg', 'h', 2)");
    assert_int_equal(count_lines(got, "ROW "), 1);
    assert_non_null(strstr(got, "|In-row data|2|0|"));
    /* errors */
    EXPECT("DBCC IND ('nosuchdb', 't', -1)", "ERR 2520");
    EXPECT("DBCC IND ('pg', 'nosuch', -1)", "ERR 2501 sev=16: Cannot find a table or object with the name 'nosuch'");
    EXPECT("DBCC IND ('pg', 't')", "ERR 2583");
}

/* ------------------------------------------------------------ DBCC PAGE */

static void dbcc_page(void **state)
{
    (void)state;
    const char *got = run("SELECT sys.fn_PhysLocFormatter(%%physloc%%) FROM t WHERE id = 42");
    unsigned f, p, slot;
    assert_int_equal(sscanf(strstr(got, "ROW (") + 5, "%u:%u:%u", &f, &p, &slot), 3);
    char sql[200], want[200];

    snprintf(sql, sizeof sql, "DBCC PAGE ('pg', %u, %u, 3) WITH TABLERESULTS", f, p);
    got = run(sql);
    assert_non_null(strstr(got, "COLS ParentObject:varchar Object:varchar Field:varchar VALUE:varchar"));
    snprintf(want, sizeof want, "ROW PAGE HEADER:|Page (%u:%u)|m_pageId|(%u:%u)", f, p, f, p);
    assert_non_null(strstr(got, want));
    assert_non_null(strstr(got, "|m_type|1\n"));
    assert_non_null(strstr(got, "|Metadata: IndexId|1\n"));
    assert_non_null(strstr(got, "|Metadata: ObjectId|1000\n"));
    assert_non_null(strstr(got, "ROW Allocation Status||ALLOC (1:1)|ALLOCATED"));
    snprintf(want, sizeof want, "ROW Slot %u Offset 0x", slot);
    assert_non_null(strstr(got, want));
    assert_non_null(strstr(got, "|Record Type|PRIMARY_RECORD"));
    assert_non_null(strstr(got, "|id|42\n"));
    assert_non_null(strstr(got, "Column 2 Offset 0x"));
    assert_non_null(strstr(got, "|Memory Dump|0000000000000000:|"));
    assert_non_null(strstr(got, "INFO 2528 sev=10: DBCC execution completed."));

    /* messages: one line each, header first */
    snprintf(sql, sizeof sql, "DBCC TRACEON (3604); DBCC PAGE (pg, %u, %u, 1)", f, p);
    got = run(sql);
    snprintf(want, sizeof want, "INFO 0 sev=0: PAGE: (%u:%u)", f, p);
    assert_non_null(strstr(got, want));
    snprintf(want, sizeof want, "INFO 0 sev=0: m_pageId = (%u:%u)", f, p);
    assert_non_null(strstr(got, want));
    snprintf(want, sizeof want, "INFO 0 sev=0: Slot %u, Offset 0x", slot);
    assert_non_null(strstr(got, want));
    assert_non_null(strstr(got, "INFO 0 sev=0: OFFSET TABLE:"));
    assert_non_null(strstr(got, "INFO 0 sev=0: Row - Offset = 0 (0x0) - "));
    assert_int_equal(count_lines(got, "INFO 2528"), 2);

    /* 0: header only; 2: the whole page, 512 lines of 16 bytes */
    snprintf(sql, sizeof sql, "DBCC PAGE (pg, %u, %u) WITH TABLERESULTS, NO_INFOMSGS", f, p);
    got = run(sql);
    assert_null(strstr(got, "Slot "));
    assert_null(strstr(got, "2528"));
    snprintf(sql, sizeof sql, "DBCC PAGE (pg, %u, %u, 2) WITH TABLERESULTS, NO_INFOMSGS", f, p);
    got = run(sql);
    assert_int_equal(count_lines(got, "ROW DATA:|Memory Dump|"), PAGE_SIZE / 16);
    /* the root of t: an index page, its children */
    got = run("DBCC PAGE ('pg', 1, 2, 0) WITH TABLERESULTS");   /* the boot page */
    assert_non_null(strstr(got, "|m_type|13\n"));
    /* errors */
    EXPECT("DBCC PAGE ('pg', 1, 999999)", "ERR 8968");
    EXPECT("DBCC PAGE ('pg', 9, 1)", "ERR 8968");
    EXPECT("DBCC PAGE ('pg', 1, 1, 7)", "ERR 2583");
    EXPECT("DBCC PAGE ('pg', 1)", "ERR 2583");
    EXPECT("DBCC TRACEOFF (3604, -1)", "INFO 2528");
    EXPECT("DBCC TRACEON (1222)", "ERR 40000");
}

/* ------------------------------------------------------------ PAGE_VERIFY */

static void page_verify_option(void **state)
{
    (void)state;
    EXPECT("SELECT page_verify_option, page_verify_option_desc FROM sys.databases WHERE name = 'pg'", "ROW 2|CHECKSUM");
    run("ALTER DATABASE pg SET PAGE_VERIFY NONE");
    EXPECT("SELECT page_verify_option, page_verify_option_desc FROM sys.databases WHERE name = 'pg'", "ROW 0|NONE");
    database *db = inst_find_database(IN, "pg");
    assert_int_equal(df_page_verify(db->df), PAGE_VERIFY_NONE);     /* at once, not at the next start */
    run("ALTER DATABASE pg SET PAGE_VERIFY TORN_PAGE_DETECTION");
    EXPECT("SELECT page_verify_option, page_verify_option_desc FROM sys.databases WHERE name = 'pg'",
           "ROW 1|TORN_PAGE_DETECTION");
    assert_int_equal(df_page_verify(db->df), PAGE_VERIFY_TORN);
    run("ALTER DATABASE pg SET TORN_PAGE_DETECTION OFF");
    EXPECT("SELECT page_verify_option_desc FROM sys.databases WHERE name = 'pg'", "ROW NONE");
    run("ALTER DATABASE pg SET TORN_PAGE_DETECTION ON");
    EXPECT("SELECT page_verify_option_desc FROM sys.databases WHERE name = 'pg'", "ROW TORN_PAGE_DETECTION");
    EXPECT("ALTER DATABASE pg SET TORN_PAGE_DETECTION ON, PAGE_VERIFY CHECKSUM", "ERR 5067");
    EXPECT("ALTER DATABASE pg SET PAGE_VERIFY SOMETIMES", "ERR 102 sev=15: Incorrect syntax near 'SOMETIMES'.");
    run("ALTER DATABASE pg SET PAGE_VERIFY CHECKSUM");
    EXPECT("SELECT page_verify_option_desc FROM sys.databases WHERE name = 'pg'", "ROW CHECKSUM");
    assert_int_equal(df_page_verify(db->df), PAGE_VERIFY_CHECKSUM);
    /* rows written under each option still read back */
    run("ALTER DATABASE pg SET PAGE_VERIFY TORN_PAGE_DETECTION; UPDATE t SET v = 'torn' WHERE id = 5; "
        "USE pg; CHECKPOINT; ALTER DATABASE pg SET PAGE_VERIFY CHECKSUM");
    EXPECT("SELECT v FROM t WHERE id = 5", "ROW torn");
}

/* ------------------------------------------------------------ suspect_pages */

static void suspect_pages(void **state)
{
    (void)state;
    EXPECT("SELECT name FROM msdb.sys.tables WHERE name = 'suspect_pages'", "ROW suspect_pages");
    EXPECT("SELECT * FROM msdb.dbo.suspect_pages", "COLS database_id:int file_id:int page_id:bigint event_type:int "
                                                   "error_count:int last_update_date:datetime");
    suspect_page_note(IN, 7, PGID(1, 77), SUSPECT_BAD_CHECKSUM);
    suspect_page_note(IN, 7, PGID(1, 77), SUSPECT_BAD_CHECKSUM);
    suspect_page_note(IN, 7, PGID(2, 5), SUSPECT_IO_ERROR);
    suspect_page_note(IN, 7, PGID(1, 99), SUSPECT_REPAIRED);           /* never listed: not recorded */
    assert_int_equal(sql_suspect_pages_flush(IN), 3);
    EXPECT("SELECT database_id, file_id, page_id, event_type, error_count FROM msdb.dbo.suspect_pages "
           "ORDER BY file_id", "ROW 7|1|77|2|2\nROW 7|2|5|1|1\nDONE");
    /* a repeat counts up and takes the new type; restore marks it 4 */
    suspect_page_note(IN, 7, PGID(1, 77), SUSPECT_TORN_PAGE);
    sql_suspect_pages_flush(IN);
    EXPECT("SELECT event_type, error_count FROM msdb.dbo.suspect_pages WHERE page_id = 77", "ROW 3|3");
    suspect_page_note(IN, 7, PGID(1, 77), SUSPECT_RESTORED);
    suspect_page_note(IN, 7, PGID(2, 5), SUSPECT_DEALLOCATED);
    sql_suspect_pages_flush(IN);
    EXPECT("SELECT page_id, event_type, error_count FROM msdb.dbo.suspect_pages ORDER BY file_id",
           "ROW 77|4|3\nROW 5|7|1\nDONE");
    /* a page fixed before can go bad again */
    suspect_page_note(IN, 7, PGID(1, 77), SUSPECT_BAD_CHECKSUM);
    sql_suspect_pages_flush(IN);
    EXPECT("SELECT event_type, error_count FROM msdb.dbo.suspect_pages WHERE page_id = 77", "ROW 2|4");
    /* REMOVE FILE / DROP DATABASE forget the rows */
    suspect_forget(IN, 7, 2);
    sql_suspect_pages_flush(IN);
    EXPECT("SELECT COUNT(*) FROM msdb.dbo.suspect_pages", "ROW 1");
    suspect_forget(IN, 7, 0);
    sql_suspect_pages_flush(IN);
    EXPECT("SELECT COUNT(*) FROM msdb.dbo.suspect_pages", "ROW 0");

    /* at most 1000 rows: a new page is not recorded then, a listed one still is */
    run("SET NOCOUNT ON; DECLARE @i int = 1; WHILE @i <= 1000 BEGIN "
        "INSERT INTO msdb.dbo.suspect_pages VALUES (8, 1, @i, 2, 1, GETDATE()); SET @i += 1; END");
    suspect_page_note(IN, 8, PGID(1, 5000), SUSPECT_BAD_CHECKSUM);
    suspect_page_note(IN, 8, PGID(1, 10), SUSPECT_BAD_CHECKSUM);
    sql_suspect_pages_flush(IN);
    EXPECT("SELECT COUNT(*), MAX(error_count), SUM(CASE WHEN page_id = 5000 THEN 1 ELSE 0 END) "
           "FROM msdb.dbo.suspect_pages", "ROW 1000|2|0");
    run("DELETE FROM msdb.dbo.suspect_pages");

    /* the data-file hook of a real database feeds the queue; DROP DATABASE forgets */
    run("CREATE DATABASE gone");
    database *db = inst_find_database(IN, "gone");
    uint32_t id = db->tdb.id;
    suspect_df_hook(IN, id, PGID(1, 3), SUSPECT_BAD_CHECKSUM);
    sql_suspect_pages_flush(IN);
    char q[200];
    snprintf(q, sizeof q, "SELECT COUNT(*) FROM msdb.dbo.suspect_pages WHERE database_id = %u", id);
    EXPECT(q, "ROW 1");
    run("DROP DATABASE gone");
    sql_suspect_pages_flush(IN);
    EXPECT(q, "ROW 0");
}

/* The writer thread: an event becomes a row without anyone flushing. */
static void suspect_writer(void **state)
{
    (void)state;
    hdb_err e;
    assert_int_equal(sql_suspect_pages_start(IN, &e), 0);
    suspect_page_note(IN, 9, PGID(1, 123), SUSPECT_BAD_CHECKSUM);
    int found = 0;
    for (int i = 0; i < 100 && !found; i++) {
        usleep(50 * 1000);
        found = strstr(run("SELECT error_count FROM msdb.dbo.suspect_pages WHERE page_id = 123"), "ROW 1") != NULL;
    }
    assert_true(found);
    suspect_page_note(IN, 9, PGID(1, 124), SUSPECT_BAD_CHECKSUM);
    sql_suspect_pages_stop(IN, 1);                        /* writes what is queued first */
    EXPECT("SELECT COUNT(*) FROM msdb.dbo.suspect_pages WHERE database_id = 9", "ROW 2");
    assert_int_equal(suspect_pending(IN), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(lex_virtual_columns),
        cmocka_unit_test(physloc),
        cmocka_unit_test(dbcc_ind),
        cmocka_unit_test(dbcc_page),
        cmocka_unit_test(page_verify_option),
        cmocka_unit_test(suspect_pages),
        cmocka_unit_test(suspect_writer),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
