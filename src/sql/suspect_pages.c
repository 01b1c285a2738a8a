/*
 * suspect_pages.c — msdb.dbo.suspect_pages: the table, and the writer that
 * turns the events engine/suspect.h queues into its rows.
 *
 * The table has SQL Server's columns (database_id, file_id, page_id,
 * event_type, error_count, last_update_date) and is an ordinary user table
 * of msdb, created at server start when missing, so DBAs query and purge it
 * as on SQL Server (typically DELETE ... WHERE event_type IN (4, 5, 7)).
 *
 * The writer is one thread per server. It waits for events (woken at once
 * when one is noted), and writes each batch of them as T-SQL in a private
 * msdb session with nothing latched — never from the I/O path that found
 * the damage. Rules, as SQL Server's:
 *   - types 1-3: the page's row gets error_count + n, the new type and the
 *     event's time; a page not yet listed gets a row, unless the table
 *     already has 1000 rows (then the event is not recorded);
 *   - types 4, 5, 7 change the type (and time) of a listed page only;
 *   - DROP DATABASE / REMOVE FILE delete the database's / file's rows.
 * Each error event also goes to the error log. A failure to write (msdb
 * offline or damaged) is logged once a minute at most (SQL Server's 4345
 * situation) and those events are dropped.
 */
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "engine/suspect.h"
#include "sql/exec_int.h"

#define MAX_ROWS  1000      /* SQL Server's limit for the table */
#define BATCH     64

static const char ddl[] =
    "CREATE TABLE dbo.suspect_pages (database_id int NOT NULL, file_id int NOT NULL, page_id bigint NOT NULL, "
    "event_type int NOT NULL, error_count int NOT NULL, last_update_date datetime NOT NULL)";

static struct {
    instance       *in;
    pthread_t       thread;
    bool            running;
    _Atomic bool    stop;
    pthread_mutex_t write_mu;     /* one writer of the table at a time (thread or flush) */
    time_t          last_complaint;
} w = { .write_mu = PTHREAD_MUTEX_INITIALIZER };

/* ------------------------------------------------------------ T-SQL */

typedef struct sbuf {
    char  *p;
    size_t len, cap;
    bool   oom;
} sbuf;

static void add(sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void add(sbuf *b, const char *fmt, ...)
{
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        size_t room = b->p ? b->cap - b->len : 0;
        int n = vsnprintf(b->p ? b->p + b->len : NULL, room, fmt, ap);
        va_end(ap);
        if (n < 0) {
            b->oom = true;
            return;
        }
        if ((size_t)n < room) {
            b->len += (size_t)n;
            return;
        }
        size_t nc = (b->cap ? b->cap * 2 : 4096) + (size_t)n;
        char *np = realloc(b->p, nc);
        if (!np) {
            b->oom = true;
            return;
        }
        b->p = np;
        b->cap = nc;
    }
}

/* 'yyyy-mm-ddThh:mm:ss.mmm' in local time, as GETDATE() shows it. */
static void add_time(sbuf *b, int64_t us)
{
    time_t t = (time_t)(us / 1000000);
    struct tm tm;
    localtime_r(&t, &tm);
    add(b, "'%04d-%02d-%02dT%02d:%02d:%02d.%03d'", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
        tm.tm_min, tm.tm_sec, (int)(us / 1000 % 1000));
}

static void add_event(sbuf *b, const suspect_event *e)
{
    if (e->kind == SUSPECT_EV_FORGET) {
        add(b, "DELETE FROM dbo.suspect_pages WHERE database_id = %u", e->db_id);
        if (e->file_id)
            add(b, " AND file_id = %u", e->file_id);
        add(b, ";\n");
        return;
    }
    char where[128];
    snprintf(where, sizeof where, "WHERE database_id = %u AND file_id = %u AND page_id = %u", e->db_id, e->file_id,
             e->page_no);
    bool error = e->event_type <= SUSPECT_TORN_PAGE;
    add(b, "UPDATE dbo.suspect_pages SET event_type = %d, ", e->event_type);
    if (error)
        add(b, "error_count = error_count + %u, ", e->count);
    add(b, "last_update_date = ");
    add_time(b, e->time_us);
    add(b, " %s;\n", where);
    if (!error)
        return;
    add(b, "IF @@ROWCOUNT = 0 AND (SELECT COUNT(*) FROM dbo.suspect_pages) < %d\n"
           "    INSERT INTO dbo.suspect_pages (database_id, file_id, page_id, event_type, error_count, "
           "last_update_date) VALUES (%u, %u, %u, %d, %u, ",
        MAX_ROWS, e->db_id, e->file_id, e->page_no, e->event_type, e->count);
    add_time(b, e->time_us);
    add(b, ");\n");
}

/* ------------------------------------------------------------ running it */

typedef struct quiet {
    hdb_err first;
} quiet;

static int q_message(void *ctx, const hdb_err *e, int is_error, const char *proc, int line)
{
    quiet *q = ctx;
    if (is_error && !q->first.number)
        q->first = *e;
    return 0;
}

static int run_in_msdb(instance *in, const char *sql, hdb_err *err)
{
    database *msdb = inst_database(in, DBID_MSDB);
    if (!msdb || msdb->state != DB_ONLINE)
        return hdb_raise_text(err, 4345, 16, 1, "msdb is not online.");
    sql_login_info li = { .spid = 0, .login = "sa", .database = "msdb", .app = "hadrdb suspect_pages" };
    sql_session *s = sql_session_open(in, &li, err);
    if (!s)
        return -1;
    quiet q = { { 0 } };
    sql_sink sink = { .ctx = &q, .message = q_message };
    int rc = sql_execute_batch(s, sql, strlen(sql), 0, &sink);
    sql_session_close(s);
    if (rc < 0 || q.first.number) {
        if (err)
            *err = q.first.number ? q.first : (hdb_err){ 4345, 16, 1, "Could not write msdb.dbo.suspect_pages." };
        return -1;
    }
    return 0;
}

static const char *type_text(int t)
{
    switch (t) {
    case SUSPECT_IO_ERROR: return "823 or 824 error";
    case SUSPECT_BAD_CHECKSUM: return "bad checksum";
    case SUSPECT_TORN_PAGE: return "torn page";
    case SUSPECT_RESTORED: return "restored";
    case SUSPECT_REPAIRED: return "repaired by DBCC";
    default: return "deallocated by DBCC";
    }
}

/* Caller holds write_mu. */
static void write_events(instance *in, const suspect_event *ev, int n)
{
    sbuf b = { 0 };
    for (int i = 0; i < n; i++) {
        add_event(&b, &ev[i]);
        if (ev[i].kind == SUSPECT_EV_PAGE && ev[i].event_type <= SUSPECT_TORN_PAGE)
            inst_log(in, "Page (%u:%u) in database ID %u is suspect (%s, event_type %d, %u occurrence%s); "
                     "see msdb.dbo.suspect_pages.", ev[i].file_id, ev[i].page_no, ev[i].db_id,
                     type_text(ev[i].event_type), ev[i].event_type, ev[i].count, ev[i].count == 1 ? "" : "s");
    }
    hdb_err e = { 0 };
    int rc = b.oom ? hdb_raise_text(&e, 701, 19, 1, "There is insufficient system memory to run this query.")
                   : run_in_msdb(in, b.p, &e);
    free(b.p);
    time_t now = time(NULL);
    if (rc < 0 && now - w.last_complaint >= 60) {
        w.last_complaint = now;
        inst_log(in, "Could not write %d event(s) to msdb.dbo.suspect_pages (error %d: %s).", n, e.number, e.msg);
    }
}

static void *writer_main(void *arg)
{
    instance *in = arg;
    while (!atomic_load(&w.stop)) {
        if (suspect_wait(in, 1000))
            sql_suspect_pages_flush(in);
    }
    return NULL;
}

int sql_suspect_pages_prepare(instance *in, hdb_err *err)
{
    database *msdb = inst_database(in, DBID_MSDB);
    if (!msdb || msdb->state != DB_ONLINE)
        return 0;
    hdb_err e;
    if (cat_find_table(msdb, SCHEMA_DBO, "suspect_pages", &e))
        return 0;
    return run_in_msdb(in, ddl, err);
}

int sql_suspect_pages_start(instance *in, hdb_err *err)
{
    if (w.running)
        return 0;
    if (sql_suspect_pages_prepare(in, err) < 0)
        return -1;
    w.in = in;
    atomic_store(&w.stop, false);
    if (pthread_create(&w.thread, NULL, writer_main, in) != 0)
        return hdb_raise_text(err, 17120, 16, 1, "Could not start the suspect_pages writer thread.");
    w.running = true;
    return 0;
}

int sql_suspect_pages_flush(instance *in)
{
    suspect_event ev[BATCH];
    int total = 0, n;
    pthread_mutex_lock(&w.write_mu);
    while ((n = suspect_take(in, ev, BATCH)) > 0) {
        write_events(in, ev, n);
        total += n;
    }
    pthread_mutex_unlock(&w.write_mu);
    return total;
}

void sql_suspect_pages_stop(instance *in, int flush)
{
    if (w.running && w.in == in) {
        atomic_store(&w.stop, true);
        suspect_wake();
        pthread_join(w.thread, NULL);
        w.running = false;
        w.in = NULL;
    }
    if (flush)
        sql_suspect_pages_flush(in);
    suspect_discard(in);
}
