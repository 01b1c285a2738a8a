/*
 * loadgen.c — a TDS load generator for the client/server benchmarks (see
 * bench/README.md), linked with FreeTDS db-lib.
 *
 *   loadgen -m init   -s SCALE              create and fill the pgbench tables
 *   loadgen -m tpcb   -c CLIENTS -T SECONDS pgbench's TPC-B-like transaction
 *   loadgen -m select -c CLIENTS -T SECONDS pgbench -S: one point select
 *   loadgen -m check                        the TPC-B invariants (four sums)
 *   loadgen -m idle   -c CLIENTS            hold CLIENTS logged-in sessions
 *                                           until standard input closes
 *   loadgen -m marks-init -n DBS -o DIR     bench-marks: databases marks1..DBS
 *                                           in FULL recovery, their tables,
 *                                           a full backup of each into DIR
 *   loadgen -m marks  -n DBS -c CLIENTS -T SECONDS [-k PERIOD_MS] [-x] [-B MS]
 *                                           cross-database transactions, and a
 *                                           marked one every PERIOD_MS on one
 *                                           more connection (-x: not marked)
 *   loadgen -m marks-check -n DBS           the cross-database sums agree
 * common: -H HOST -p PORT -U USER -P PASSWORD -d DATABASE [-b] [-r SEED]
 *
 * One thread per client, each with its own DBPROCESS, no think time. Every
 * statement is sent as its own SQL batch with the values written into the
 * text, as pgbench does in its default (simple) query mode; so a TPC-B
 * transaction is 7 round trips: BEGIN, the five statements, COMMIT. -b sends
 * the whole transaction as one batch instead (not what pgbench does; for
 * looking at the server's per-round-trip cost, not for the comparison).
 *
 * Results are one JSON line on stdout: transactions finished inside the
 * window, tps, latency percentiles from a per-thread log-linear histogram
 * (~1.5 % resolution), deadlock retries, and this process's own CPU time
 * during the window, so a reader can tell that the generator was not the
 * bottleneck.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <sybfront.h>
#include <sybdb.h>

#define MAX_CLIENTS   1024
#define LOAD_ROWS     1000      /* rows per INSERT while loading */
#define LOAD_TXN_ROWS 100000    /* rows per transaction while loading */
#define SUB_BITS      6         /* histogram: 64 sub-buckets per power of two */
#define NBUCKETS      (64 * 40)
#define MAX_ERRORS    100       /* non-deadlock errors before a client gives up */
#define MARK_DBS_MAX  3         /* -m marks: databases marks1..marks3 at most */
#define MARK_ACCOUNTS 10000     /* rows of marks1.dbo.acct */

static const char *host = "127.0.0.1", *user = "sa", *password = "", *db_name = "bench", *mode = "tpcb";
static int port = 1433, nclients = 1, scale = 1, one_batch = 0;
static double seconds = 10;
static uint64_t seed0 = 1;
/* -m marks */
static int ndbs = 2, mark_period_ms = 1000, mark_unmarked = 0;
static double baseline_ms = -1;
static const char *backup_dir = ".";

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static __attribute__((format(printf, 1, 2), noreturn)) void die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("loadgen: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(1);
}

/* xorshift64*, per thread: drawing keys touches no shared state. */
static uint64_t rnd(uint64_t *s)
{
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * 2685821657736338717ULL;
}

/* Uniform in [lo, hi], as pgbench's random(lo, hi). */
static int64_t rnd_range(uint64_t *s, int64_t lo, int64_t hi)
{
    return lo + (int64_t)(rnd(s) % (uint64_t)(hi - lo + 1));
}

/* ---- latency histogram ---------------------------------------------------- */

/* Microseconds, exact below 64 us, then 64 buckets per power of two: fixed
 * size, no allocation while timed, and merging threads is an addition. */
static int bucket_of(uint64_t us)
{
    if (us < 64)
        return (int)us;
    int e = 63 - __builtin_clzll(us) - SUB_BITS;   /* us >> e is in [64, 128) */
    int b = 64 * e + (int)(us >> e);
    return b < NBUCKETS ? b : NBUCKETS - 1;
}

static double bucket_mid_us(int b)
{
    if (b < 128)
        return b;
    int e = b / 64 - 1;
    uint64_t lo = (uint64_t)(b - 64 * e) << e;
    return (double)lo + (double)((1ULL << e) - 1) / 2;
}

static double hist_pct_ms(const uint64_t *h, uint64_t n, double p)
{
    if (!n)
        return 0;
    uint64_t rank = (uint64_t)(p * (double)(n - 1)) + 1, seen = 0;
    for (int b = 0; b < NBUCKETS; b++)
        if ((seen += h[b]) >= rank)
            return bucket_mid_us(b) / 1000;
    return 0;
}

/* ---- db-lib plumbing ------------------------------------------------------ */

/* What the handlers saw on one connection since the last statement began. */
typedef struct conn_state {
    int  msgno, severity;
    char msg[256];
} conn_state;

static int msg_handler(DBPROCESS *p, DBINT msgno, int state, int severity, char *text, char *srv, char *proc,
                       int line)
{
    conn_state *cs = p ? (conn_state *)dbgetuserdata(p) : NULL;
    if (cs && severity > 10 && !cs->severity) {
        cs->msgno = (int)msgno;
        cs->severity = severity;
        snprintf(cs->msg, sizeof cs->msg, "%s", text);
    }
    return 0;
}

static int err_handler(DBPROCESS *p, int severity, int dberr, int oserr, char *dberrstr, char *oserrstr)
{
    conn_state *cs = p ? (conn_state *)dbgetuserdata(p) : NULL;
    /* SYBESMSG only says that the message handler got a server error */
    if (dberr == SYBESMSG)
        return INT_CANCEL;
    if (cs && !cs->severity) {
        cs->msgno = dberr;
        cs->severity = severity ? severity : 1;
        snprintf(cs->msg, sizeof cs->msg, "%s", dberrstr ? dberrstr : "db-lib error");
    } else if (!cs) {
        fprintf(stderr, "loadgen: db-lib: %s\n", dberrstr ? dberrstr : "error");
    }
    return INT_CANCEL;
}

/* -m marks: one transaction's times (CLOCK_MONOTONIC ns): its BEGIN was
 * sent, its COMMIT was sent, the COMMIT was acknowledged. */
typedef struct xrec {
    int64_t begin, commit, done;
} xrec;

typedef struct client {
    pthread_t  th;
    int        idx;
    DBPROCESS *p;
    conn_state cs;
    uint64_t   seed;
    uint64_t   txns;          /* finished inside the window */
    uint64_t   deadlocks;     /* 1205: rolled back by the server and retried */
    uint64_t   errors;        /* anything else */
    int        dead;          /* the connection was lost */
    char       last_err[300];
    uint64_t   hist[NBUCKETS];
    struct xrecs {            /* -m marks: every transaction's times */
        xrec  *v;
        size_t n, cap;
    } recs;
} client;

static DBPROCESS *connect_one(conn_state *cs)
{
    LOGINREC *login = dblogin();
    if (!login)
        die("dblogin failed");
    DBSETLUSER(login, user);
    DBSETLPWD(login, password);
    DBSETLAPP(login, "loadgen");
    DBSETLDBNAME(login, db_name);
    DBSETLVERSION(login, DBVERSION_74);
    char server[300];
    snprintf(server, sizeof server, "%s:%d", host, port);
    DBPROCESS *p = dbopen(login, server);
    dbloginfree(login);
    if (p)
        dbsetuserdata(p, (BYTE *)cs);
    return p;
}

/* Sends one batch and drains every result. Returns 0, or -1 with cs filled
 * (msgno 1205 for a deadlock victim). *val receives the first column of the
 * first row when asked for and present. */
static int exec_sql(DBPROCESS *p, conn_state *cs, const char *sql, int64_t *val)
{
    cs->msgno = cs->severity = 0;
    cs->msg[0] = 0;
    if (dbcmd(p, sql) == FAIL || dbsqlexec(p) == FAIL) {
        if (!cs->severity)
            snprintf(cs->msg, sizeof cs->msg, "dbsqlexec failed");
        return -1;
    }
    RETCODE rc;
    int got = 0;
    while ((rc = dbresults(p)) != NO_MORE_RESULTS) {
        if (rc == FAIL)
            break;
        while (dbnextrow(p) != NO_MORE_ROWS) {
            if (val && !got && dbnumcols(p) >= 1 && dbdata(p, 1)) {
                DBBIGINT v = 0;
                dbconvert(p, dbcoltype(p, 1), dbdata(p, 1), dbdatlen(p, 1), SYBINT8, (BYTE *)&v, sizeof v);
                *val = v;
                got = 1;
            }
        }
    }
    if (cs->severity > 10 || rc == FAIL || dbdead(p)) {
        if (!cs->severity)
            snprintf(cs->msg, sizeof cs->msg, "%s", dbdead(p) ? "connection lost" : "statement failed");
        return -1;
    }
    return 0;
}

/* ---- the workloads -------------------------------------------------------- */

static atomic_int go, stop, live;
static int64_t t_start, t_end;

static void client_error(client *c)
{
    if (dbdead(c->p)) {
        c->dead = 1;
        return;
    }
    c->errors++;
    snprintf(c->last_err, sizeof c->last_err, "%d: %.250s", c->cs.msgno, c->cs.msg);
    /* whatever happened, no transaction may stay open into the next one */
    exec_sql(c->p, &c->cs, "IF @@TRANCOUNT > 0 ROLLBACK", NULL);
}

/* One TPC-B transaction, retried on deadlock. 0 committed, -1 failed. */
static int tpcb_txn(client *c)
{
    int64_t aid = rnd_range(&c->seed, 1, 100000LL * scale), bid = rnd_range(&c->seed, 1, scale),
            tid = rnd_range(&c->seed, 1, 10LL * scale), delta = rnd_range(&c->seed, -5000, 5000);
    char st[5][200];
    snprintf(st[0], sizeof st[0], "UPDATE pgbench_accounts SET abalance = abalance + %" PRId64 " WHERE aid = %" PRId64,
             delta, aid);
    snprintf(st[1], sizeof st[1], "SELECT abalance FROM pgbench_accounts WHERE aid = %" PRId64, aid);
    snprintf(st[2], sizeof st[2], "UPDATE pgbench_tellers SET tbalance = tbalance + %" PRId64 " WHERE tid = %" PRId64,
             delta, tid);
    snprintf(st[3], sizeof st[3], "UPDATE pgbench_branches SET bbalance = bbalance + %" PRId64 " WHERE bid = %" PRId64,
             delta, bid);
    snprintf(st[4], sizeof st[4],
             "INSERT INTO pgbench_history (tid, bid, aid, delta, mtime) VALUES (%" PRId64 ", %" PRId64 ", %" PRId64
             ", %" PRId64 ", CURRENT_TIMESTAMP)",
             tid, bid, aid, delta);
    for (;;) {
        int rc = 0;
        if (one_batch) {
            char all[1200];
            snprintf(all, sizeof all, "BEGIN TRANSACTION; %s; %s; %s; %s; %s; COMMIT TRANSACTION", st[0], st[1], st[2],
                     st[3], st[4]);
            int64_t v;
            rc = exec_sql(c->p, &c->cs, all, &v);
        } else {
            int64_t v;
            rc = exec_sql(c->p, &c->cs, "BEGIN TRANSACTION", NULL);
            for (int i = 0; i < 5 && rc == 0; i++)
                rc = exec_sql(c->p, &c->cs, st[i], i == 1 ? &v : NULL);
            if (rc == 0)
                rc = exec_sql(c->p, &c->cs, "COMMIT TRANSACTION", NULL);
        }
        if (rc == 0)
            return 0;
        if (c->cs.msgno == 1205 && !dbdead(c->p)) {
            /* the server rolled the victim back; start it over */
            c->deadlocks++;
            exec_sql(c->p, &c->cs, "IF @@TRANCOUNT > 0 ROLLBACK", NULL);
            if (atomic_load(&stop))
                return -1;
            continue;
        }
        client_error(c);
        return -1;
    }
}

static int select_txn(client *c)
{
    char sql[120];
    int64_t v;
    snprintf(sql, sizeof sql, "SELECT abalance FROM pgbench_accounts WHERE aid = %" PRId64,
             rnd_range(&c->seed, 1, 100000LL * scale));
    if (exec_sql(c->p, &c->cs, sql, &v) == 0)
        return 0;
    client_error(c);
    return -1;
}

static void *client_main(void *arg)
{
    client *c = arg;
    while (!atomic_load(&go))
        usleep(1000);
    int select_only = strcmp(mode, "select") == 0;
    while (!atomic_load(&stop) && !c->dead && c->errors < MAX_ERRORS) {
        int64_t t0 = now_ns();
        int rc = select_only ? select_txn(c) : tpcb_txn(c);
        int64_t t1 = now_ns();
        /* as pgbench -T: what finishes after the window is not counted */
        if (rc == 0 && t1 <= t_end) {
            c->txns++;
            c->hist[bucket_of((uint64_t)(t1 - t0) / 1000)]++;
        }
    }
    atomic_fetch_sub(&live, 1);
    return NULL;
}

static double cpu_self_s(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) + (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

static client *open_clients(void)
{
    client *cs = calloc((size_t)nclients, sizeof *cs);
    if (!cs)
        die("out of memory");
    for (int i = 0; i < nclients; i++) {
        cs[i].idx = i;
        cs[i].seed = 0x9E3779B97F4A7C15ULL * (seed0 + (uint64_t)i) | 1;
        if (!(cs[i].p = connect_one(&cs[i].cs)))
            die("client %d: cannot log in to %s:%d as %s (database %s)", i, host, port, user, db_name);
    }
    return cs;
}

static void run_load(void)
{
    client *cs = open_clients();
    atomic_store(&live, nclients);
    for (int i = 0; i < nclients; i++)
        if (pthread_create(&cs[i].th, NULL, client_main, &cs[i]) != 0)
            die("pthread_create failed");
    double cpu0 = cpu_self_s();
    t_start = now_ns();
    t_end = t_start + (int64_t)(seconds * 1e9);
    atomic_store(&go, 1);
    /* a killed server (bench-recovery) ends the run early */
    while (now_ns() < t_end && atomic_load(&live) > 0)
        usleep(20000);
    atomic_store(&stop, 1);
    double cpu1 = cpu_self_s(), wall = (double)(now_ns() - t_start) / 1e9;
    double window = wall < seconds ? wall : seconds;
    static uint64_t hist[NBUCKETS];
    uint64_t txns = 0, deadlocks = 0, errors = 0;
    int dead = 0;
    const char *last_err = "";
    for (int i = 0; i < nclients; i++) {
        pthread_join(cs[i].th, NULL);
        txns += cs[i].txns;
        deadlocks += cs[i].deadlocks;
        errors += cs[i].errors;
        dead += cs[i].dead;
        if (cs[i].last_err[0])
            last_err = cs[i].last_err;
        for (int b = 0; b < NBUCKETS; b++)
            hist[b] += cs[i].hist[b];
    }
    /* double-quote free for the JSON string */
    char err[300];
    snprintf(err, sizeof err, "%s", last_err);
    for (char *q = err; *q; q++)
        if (*q == '"' || *q == '\\' || (unsigned char)*q < 0x20)
            *q = '\'';
    printf("{\"mode\": \"%s\", \"clients\": %d, \"seconds\": %.3f, \"txns\": %" PRIu64 ", \"tps\": %.1f, "
           "\"p50_ms\": %.3f, \"p99_ms\": %.3f, \"max_ms\": %.3f, \"deadlocks\": %" PRIu64 ", \"errors\": %" PRIu64
           ", \"lost_connections\": %d, \"last_error\": \"%s\", \"loadgen_cpu_s\": %.3f, "
           "\"loadgen_cpu_pct\": %.1f, \"round_trips_per_txn\": %d}\n",
           mode, nclients, window, txns, (double)txns / window, hist_pct_ms(hist, txns, 0.50),
           hist_pct_ms(hist, txns, 0.99), hist_pct_ms(hist, txns, 1.0), deadlocks, errors, dead, err, cpu1 - cpu0,
           100 * (cpu1 - cpu0) / wall, strcmp(mode, "select") == 0 ? 1 : one_batch ? 1 : 7);
    fflush(stdout);
    for (int i = 0; i < nclients; i++)
        dbclose(cs[i].p);
    free(cs);
}

/* ---- bench-marks: cross-database transactions and marks ------------------ */

/* Databases marks1..marksN (ndbs), all in FULL recovery with a full backup
 * taken, so each has a log chain (and a mark in it means something):
 *   marks1.dbo.acct (id, bal, n)            MARK_ACCOUNTS rows
 *   marksK.dbo.journal (cid, acct, amount)  K >= 2, a heap, one row per txn
 *   marksK.dbo.marker (id, n)               one row, touched only by marks
 * An ordinary transaction moves an amount into a random account in marks1
 * and journals it in every other database: a cross-database transaction,
 * which the server commits with its two-phase commit. A marked transaction
 * (BEGIN TRAN mK WITH MARK) adds one to every database's marker row, so it
 * spans all the databases and never waits for an ordinary one's row locks:
 * what it costs the others is the commit protocol alone. */

static void xrecs_push(client *c, xrec x)
{
    struct xrecs *r = &c->recs;
    if (r->n == r->cap) {
        size_t cap = r->cap ? 2 * r->cap : 16384;
        xrec *v = realloc(r->v, cap * sizeof *v);
        if (!v)
            die("out of memory");
        r->v = v;
        r->cap = cap;
    }
    r->v[r->n++] = x;
}

/* BEGIN, the statements and COMMIT, each its own batch (as tpcb), retried
 * on deadlock; x gets the times (begin from the first attempt). */
static int xdb_run(client *c, const char *begin, char (*st)[200], int nst, xrec *x)
{
    x->begin = now_ns();
    for (;;) {
        int rc = exec_sql(c->p, &c->cs, begin, NULL);
        for (int i = 0; i < nst && rc == 0; i++)
            rc = exec_sql(c->p, &c->cs, st[i], NULL);
        if (rc == 0) {
            x->commit = now_ns();
            rc = exec_sql(c->p, &c->cs, "COMMIT TRANSACTION", NULL);
            x->done = now_ns();
        }
        if (rc == 0)
            return 0;
        if (c->cs.msgno == 1205 && !dbdead(c->p)) {
            c->deadlocks++;
            exec_sql(c->p, &c->cs, "IF @@TRANCOUNT > 0 ROLLBACK", NULL);
            if (atomic_load(&stop))
                return -1;
            continue;
        }
        client_error(c);
        return -1;
    }
}

static int xdb_txn(client *c, xrec *x)
{
    int64_t acct = rnd_range(&c->seed, 1, MARK_ACCOUNTS), delta = rnd_range(&c->seed, -5000, 5000);
    char st[MARK_DBS_MAX][200];
    snprintf(st[0], sizeof st[0], "UPDATE marks1.dbo.acct SET bal = bal + %" PRId64 ", n = n + 1 WHERE id = %" PRId64,
             delta, acct);
    for (int d = 2; d <= ndbs; d++)
        snprintf(st[d - 1], sizeof st[d - 1],
                 "INSERT INTO marks%d.dbo.journal (cid, acct, amount) VALUES (%d, %" PRId64 ", %" PRId64 ")", d,
                 c->idx, acct, delta);
    return xdb_run(c, "BEGIN TRANSACTION", st, ndbs, x);
}

static int mark_txn(client *c, int k, xrec *x)
{
    char begin[80], st[MARK_DBS_MAX][200];
    if (mark_unmarked)
        snprintf(begin, sizeof begin, "BEGIN TRANSACTION");
    else
        snprintf(begin, sizeof begin, "BEGIN TRANSACTION m%d WITH MARK 'bench'", k);
    for (int d = 1; d <= ndbs; d++)
        snprintf(st[d - 1], sizeof st[d - 1], "UPDATE marks%d.dbo.marker SET n = n + 1 WHERE id = 1", d);
    return xdb_run(c, begin, st, ndbs, x);
}

static void *marks_client_main(void *arg)
{
    client *c = arg;
    while (!atomic_load(&go))
        usleep(1000);
    while (!atomic_load(&stop) && !c->dead && c->errors < MAX_ERRORS) {
        xrec x;
        if (xdb_txn(c, &x) == 0) {
            /* counted only inside the window; kept anyway, since a mark
             * near its end may have held this commit up */
            c->txns += x.done <= t_end;
            xrecs_push(c, x);
        }
    }
    atomic_fetch_sub(&live, 1);
    return NULL;
}

/* Server side: how long each mark held cross-database commits back (the
 * marked-commit gate's closed time), from the counter hadrdb keeps in
 * sys.dm_os_performance_counters, read after each mark. */
#define GATE_MAX 4096
static double gate_ms[GATE_MAX];
static size_t ngate;

static int64_t gate_counter(client *c)
{
    int64_t v = -1;
    if (exec_sql(c->p, &c->cs, "SELECT cntr_value FROM sys.dm_os_performance_counters "
                               "WHERE counter_name = 'Marked commit block time (us)'", &v) < 0)
        return -1;
    return v;
}

/* One marked transaction at t_start + k * period, k = 1, 2, ...; a slot
 * that has already passed when the previous mark returns is skipped. */
static void *marker_main(void *arg)
{
    client *c = arg;
    while (!atomic_load(&go))
        usleep(1000);
    int64_t period = (int64_t)mark_period_ms * 1000000;
    for (int k = 1; !c->dead && c->errors < MAX_ERRORS; k++) {
        int64_t at = t_start + k * period;
        if (at >= t_end)
            break;
        struct timespec ts = { .tv_sec = at / 1000000000, .tv_nsec = at % 1000000000 };
        while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
            ;
        if (atomic_load(&stop))
            break;
        xrec x;
        int64_t g0 = gate_counter(c);
        if (mark_txn(c, k, &x) == 0 && x.done <= t_end) {
            c->txns++;
            xrecs_push(c, x);
            int64_t g1 = gate_counter(c);
            if (g0 >= 0 && g1 >= g0 && ngate < GATE_MAX)
                gate_ms[ngate++] = (double)(g1 - g0) / 1000.0;
        }
        while (t_start + (k + 1) * period < now_ns())
            k++;
    }
    return NULL;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Exact percentile of sorted values, as bench/run.py's pct(). */
static double pct_of(const double *v, size_t n, double p)
{
    return n ? v[(size_t)(p * (double)(n - 1) + 0.5)] : 0;
}

static double ms_between(int64_t a, int64_t b)
{
    return (double)(b - a) / 1e6;
}

/* The stall of a window [from, to): the longest COMMIT round trip among the
 * ordinary ones that overlapped it, less base (ms), at least 0; 0 when none
 * overlapped. Their latencies are appended to ov when given. */
static double stall_in(const xrec *all, size_t nall, int64_t from, int64_t to, double base, unsigned *over,
                       double *ov, size_t *nov, size_t ovcap)
{
    int64_t worst = 0;
    for (size_t i = 0; i < nall; i++)
        if (all[i].commit < to && all[i].done > from) {
            (*over)++;
            if (all[i].done - all[i].commit > worst)
                worst = all[i].done - all[i].commit;
            if (ov && *nov < ovcap)
                ov[(*nov)++] = ms_between(all[i].commit, all[i].done);
        }
    double stall = *over ? (double)worst / 1e6 - base : 0;
    return stall < 0 ? 0 : stall;
}

static void run_marks(void)
{
    client *cs = open_clients();
    client *mk = NULL;
    if (mark_period_ms > 0) {
        if (!(mk = calloc(1, sizeof *mk)))
            die("out of memory");
        mk->idx = nclients;
        if (!(mk->p = connect_one(&mk->cs)))
            die("marker: cannot log in to %s:%d as %s (database %s)", host, port, user, db_name);
    }
    atomic_store(&live, nclients);
    for (int i = 0; i < nclients; i++)
        if (pthread_create(&cs[i].th, NULL, marks_client_main, &cs[i]) != 0)
            die("pthread_create failed");
    if (mk && pthread_create(&mk->th, NULL, marker_main, mk) != 0)
        die("pthread_create failed");
    double cpu0 = cpu_self_s();
    t_start = now_ns();
    t_end = t_start + (int64_t)(seconds * 1e9);
    atomic_store(&go, 1);
    while (now_ns() < t_end && atomic_load(&live) > 0)
        usleep(20000);
    atomic_store(&stop, 1);
    double cpu1 = cpu_self_s(), wall = (double)(now_ns() - t_start) / 1e9;
    double window = wall < seconds ? wall : seconds;

    uint64_t txns = 0, deadlocks = 0, errors = 0;
    int dead = 0;
    const char *last_err = "";
    for (int i = 0; i < nclients; i++) {
        pthread_join(cs[i].th, NULL);
        txns += cs[i].txns;
        deadlocks += cs[i].deadlocks;
        errors += cs[i].errors;
        dead += cs[i].dead;
        if (cs[i].last_err[0])
            last_err = cs[i].last_err;
    }
    if (mk) {
        pthread_join(mk->th, NULL);
        if (mk->last_err[0])
            last_err = mk->last_err;
    }
    /* every ordinary transaction: those inside the window for the
     * latencies, all of them for the overlaps */
    size_t nall = 0, n = 0;
    for (int i = 0; i < nclients; i++)
        nall += cs[i].recs.n;
    xrec *all = malloc((nall ? nall : 1) * sizeof *all);
    double *cl = malloc((txns ? txns : 1) * sizeof *cl), *tl = malloc((txns ? txns : 1) * sizeof *tl);
    if (!all || !cl || !tl)
        die("out of memory");
    nall = 0;
    for (int i = 0; i < nclients; i++)
        for (size_t j = 0; j < cs[i].recs.n; j++) {
            xrec x = all[nall++] = cs[i].recs.v[j];
            if (x.done <= t_end) {
                cl[n] = ms_between(x.commit, x.done);
                tl[n++] = ms_between(x.begin, x.done);
            }
        }
    qsort(cl, n, sizeof *cl, cmp_double);
    qsort(tl, n, sizeof *tl, cmp_double);
    double base = baseline_ms >= 0 ? baseline_ms : pct_of(cl, n, 0.5);

    /* per mark: the ordinary COMMITs whose round trip overlapped the mark's
     * COMMIT; its stall is the longest of them less the baseline. The same
     * figure half a period later (no mark there, same phase) is the shadow:
     * what the machine's own jitter gives the statistic. */
    size_t nm = mk ? mk->recs.n : 0, nsh = 0, nov = 0;
    double *mc = malloc((nm ? nm : 1) * sizeof *mc), *ms = malloc((nm ? nm : 1) * sizeof *ms);
    double *sh = malloc((nm ? nm : 1) * sizeof *sh), *ov = malloc((nall ? nall : 1) * sizeof *ov);
    size_t cap = 200 + nm * 100, len = 0;
    char *detail = malloc(cap);
    if (!mc || !ms || !sh || !ov || !detail)
        die("out of memory");
    detail[0] = 0;
    int64_t half = (int64_t)mark_period_ms * 500000;
    for (size_t k = 0; k < nm; k++) {
        xrec m = mk->recs.v[k];
        unsigned over = 0;
        ms[k] = stall_in(all, nall, m.commit, m.done, base, &over, ov, &nov, nall);
        mc[k] = ms_between(m.commit, m.done);
        double shadow = -1;
        if (m.done + half <= t_end) {
            unsigned o2 = 0;
            shadow = sh[nsh++] = stall_in(all, nall, m.commit + half, m.done + half, base, &o2, NULL, NULL, 0);
        }
        len += (size_t)snprintf(detail + len, cap - len, "%s[%.3f, %.3f, %u, %.3f, %.3f]", k ? ", " : "",
                                (double)(m.commit - t_start) / 1e9, mc[k], over, ms[k], shadow);
    }
    qsort(mc, nm, sizeof *mc, cmp_double);
    qsort(ms, nm, sizeof *ms, cmp_double);
    qsort(sh, nsh, sizeof *sh, cmp_double);
    qsort(ov, nov, sizeof *ov, cmp_double);
    qsort(gate_ms, ngate, sizeof *gate_ms, cmp_double);

    char err[300];
    snprintf(err, sizeof err, "%s", last_err);
    for (char *q = err; *q; q++)
        if (*q == '"' || *q == '\\' || (unsigned char)*q < 0x20)
            *q = '\'';
    printf("{\"mode\": \"marks\", \"clients\": %d, \"dbs\": %d, \"marked\": %s, \"period_ms\": %d, \"seconds\": %.3f, "
           "\"txns\": %" PRIu64 ", \"tps\": %.1f, \"commit_p50_ms\": %.3f, \"commit_p99_ms\": %.3f, "
           "\"commit_max_ms\": %.3f, \"txn_p50_ms\": %.3f, \"txn_p99_ms\": %.3f, \"txn_max_ms\": %.3f, "
           "\"deadlocks\": %" PRIu64 ", \"errors\": %" PRIu64 ", \"lost_connections\": %d, \"baseline_commit_ms\": %.3f, "
           "\"marks\": %zu, \"mark_errors\": %" PRIu64 ", \"mark_lost_connection\": %d, \"mark_commit_p50_ms\": %.3f, "
           "\"mark_commit_p99_ms\": %.3f, \"mark_commit_max_ms\": %.3f, \"stall_p50_ms\": %.3f, \"stall_p99_ms\": %.3f, "
           "\"stall_max_ms\": %.3f, \"overlapped_per_mark\": %.1f, \"overlap_commit_p50_ms\": %.3f, "
           "\"overlap_commit_p99_ms\": %.3f, \"shadow_stall_p50_ms\": %.3f, \"shadow_stall_p99_ms\": %.3f, "
           "\"shadow_stall_max_ms\": %.3f, \"gate_marks\": %zu, \"gate_block_p50_ms\": %.3f, "
           "\"gate_block_p99_ms\": %.3f, \"gate_block_max_ms\": %.3f, \"mark_detail\": [%s], \"last_error\": \"%s\", "
           "\"loadgen_cpu_s\": %.3f, \"loadgen_cpu_pct\": %.1f, \"round_trips_per_txn\": %d}\n",
           nclients, ndbs, mark_unmarked ? "false" : "true", mark_period_ms, window, txns, (double)txns / window,
           pct_of(cl, n, 0.5), pct_of(cl, n, 0.99), pct_of(cl, n, 1.0), pct_of(tl, n, 0.5), pct_of(tl, n, 0.99),
           pct_of(tl, n, 1.0), deadlocks, errors, dead, base, nm, mk ? mk->errors : 0, mk ? mk->dead : 0,
           pct_of(mc, nm, 0.5), pct_of(mc, nm, 0.99), pct_of(mc, nm, 1.0), pct_of(ms, nm, 0.5), pct_of(ms, nm, 0.99),
           pct_of(ms, nm, 1.0), nm ? (double)nov / (double)nm : 0.0, pct_of(ov, nov, 0.5), pct_of(ov, nov, 0.99),
           pct_of(sh, nsh, 0.5), pct_of(sh, nsh, 0.99), pct_of(sh, nsh, 1.0), ngate, pct_of(gate_ms, ngate, 0.5),
           pct_of(gate_ms, ngate, 0.99), pct_of(gate_ms, ngate, 1.0), detail, err, cpu1 - cpu0,
           100 * (cpu1 - cpu0) / wall, ndbs + 2);
    fflush(stdout);
    for (int i = 0; i < nclients; i++) {
        dbclose(cs[i].p);
        free(cs[i].recs.v);
    }
    if (mk) {
        dbclose(mk->p);
        free(mk->recs.v);
        free(mk);
    }
    free(cs);
    free(all);
    free(cl);
    free(tl);
    free(mc);
    free(ms);
    free(sh);
    free(ov);
    free(detail);
}

static void marks_exec(DBPROCESS *p, conn_state *st, const char *sql)
{
    if (exec_sql(p, st, sql, NULL) < 0)
        die("%s: error %d: %s", sql, st->msgno, st->msg);
}

static void run_marks_init(void)
{
    conn_state st = { 0 };
    const char *want = db_name;
    db_name = "master";
    DBPROCESS *p = connect_one(&st);
    db_name = want;
    if (!p)
        die("cannot log in to %s:%d", host, port);
    int64_t t0 = now_ns();
    char sql[8 * 1000 * 24 + 200];
    for (int d = 1; d <= ndbs; d++) {
        snprintf(sql, sizeof sql, "IF DB_ID('marks%d') IS NULL CREATE DATABASE marks%d", d, d);
        marks_exec(p, &st, sql);
        snprintf(sql, sizeof sql, "ALTER DATABASE marks%d SET RECOVERY FULL", d);
        marks_exec(p, &st, sql);
        snprintf(sql, sizeof sql, "CREATE TABLE marks%d.dbo.marker (id int NOT NULL PRIMARY KEY, n bigint NOT NULL)", d);
        marks_exec(p, &st, sql);
        snprintf(sql, sizeof sql, "INSERT INTO marks%d.dbo.marker (id, n) VALUES (1, 0)", d);
        marks_exec(p, &st, sql);
        if (d == 1)
            marks_exec(p, &st, "CREATE TABLE marks1.dbo.acct (id int NOT NULL PRIMARY KEY, bal bigint NOT NULL, "
                               "n int NOT NULL, filler char(80) NULL)");
        else {
            snprintf(sql, sizeof sql,
                     "CREATE TABLE marks%d.dbo.journal (cid int NOT NULL, acct int NOT NULL, amount int NOT NULL, "
                     "filler char(40) NULL)", d);
            marks_exec(p, &st, sql);
        }
    }
    for (int first = 1; first <= MARK_ACCOUNTS; first += 1000) {
        size_t len = (size_t)snprintf(sql, sizeof sql, "INSERT INTO marks1.dbo.acct (id, bal, n, filler) VALUES ");
        for (int k = first; k < first + 1000 && k <= MARK_ACCOUNTS; k++)
            len += (size_t)snprintf(sql + len, sizeof sql - len, "%s(%d,0,0,'')", k == first ? "" : ",", k);
        marks_exec(p, &st, sql);
    }
    /* FULL recovery has a log chain only from the first full backup on */
    for (int d = 1; d <= ndbs; d++) {
        snprintf(sql, sizeof sql, "BACKUP DATABASE marks%d TO DISK = '%s/marks%d.bak' WITH INIT", d, backup_dir, d);
        marks_exec(p, &st, sql);
    }
    printf("{\"mode\": \"marks-init\", \"dbs\": %d, \"accounts\": %d, \"load_s\": %.3f}\n", ndbs, MARK_ACCOUNTS,
           (double)(now_ns() - t0) / 1e9);
    dbclose(p);
}

/* Every transaction that committed did so in every database or in none:
 * sum(acct.bal) = sum(journal.amount) and sum(acct.n) = count(journal) in
 * each other database, and the marker rows all hold the same count. */
static void run_marks_check(void)
{
    conn_state st = { 0 };
    DBPROCESS *p = connect_one(&st);
    if (!p)
        die("cannot log in to %s:%d (database %s)", host, port, db_name);
    int64_t bal = 0, cnt = 0, marker[MARK_DBS_MAX] = { 0 }, jsum[MARK_DBS_MAX] = { 0 }, jcnt[MARK_DBS_MAX] = { 0 };
    char sql[200];
    static const char *const q1[] = { "SELECT ISNULL(SUM(bal), 0) FROM marks1.dbo.acct",
                                      "SELECT ISNULL(SUM(CAST(n AS bigint)), 0) FROM marks1.dbo.acct" };
    if (exec_sql(p, &st, q1[0], &bal) < 0 || exec_sql(p, &st, q1[1], &cnt) < 0)
        die("marks1.dbo.acct: error %d: %s", st.msgno, st.msg);
    int ok = 1;
    for (int d = 1; d <= ndbs; d++) {
        snprintf(sql, sizeof sql, "SELECT n FROM marks%d.dbo.marker WHERE id = 1", d);
        if (exec_sql(p, &st, sql, &marker[d - 1]) < 0)
            die("%s: error %d: %s", sql, st.msgno, st.msg);
        ok &= marker[d - 1] == marker[0];
        if (d == 1)
            continue;
        snprintf(sql, sizeof sql, "SELECT ISNULL(SUM(CAST(amount AS bigint)), 0) FROM marks%d.dbo.journal", d);
        if (exec_sql(p, &st, sql, &jsum[d - 1]) < 0)
            die("%s: error %d: %s", sql, st.msgno, st.msg);
        snprintf(sql, sizeof sql, "SELECT COUNT_BIG(*) FROM marks%d.dbo.journal", d);
        if (exec_sql(p, &st, sql, &jcnt[d - 1]) < 0)
            die("%s: error %d: %s", sql, st.msgno, st.msg);
        ok &= jsum[d - 1] == bal && jcnt[d - 1] == cnt;
    }
    printf("{\"mode\": \"marks-check\", \"ok\": %s, \"sum_bal\": %" PRId64 ", \"txns\": %" PRId64 ", \"journal_sums\": [",
           ok ? "true" : "false", bal, cnt);
    for (int d = 2; d <= ndbs; d++)
        printf("%s%" PRId64, d > 2 ? ", " : "", jsum[d - 1]);
    printf("], \"journal_rows\": [");
    for (int d = 2; d <= ndbs; d++)
        printf("%s%" PRId64, d > 2 ? ", " : "", jcnt[d - 1]);
    printf("], \"marker\": [");
    for (int d = 1; d <= ndbs; d++)
        printf("%s%" PRId64, d > 1 ? ", " : "", marker[d - 1]);
    printf("]}\n");
    dbclose(p);
    if (!ok)
        exit(2);
}

/* pgbench's tables, as pgbench -i makes them, except that the primary keys
 * are declared with the tables (hadrdb clusters rows on them). */
static void run_init(void)
{
    conn_state st = { 0 };
    const char *want = db_name;
    db_name = "master";
    DBPROCESS *p = connect_one(&st);
    if (!p)
        die("cannot log in to %s:%d", host, port);
    char sql0[300];
    snprintf(sql0, sizeof sql0, "IF DB_ID('%s') IS NULL CREATE DATABASE [%s]", want, want);
    if (exec_sql(p, &st, sql0, NULL) < 0)
        die("%s: error %d: %s", sql0, st.msgno, st.msg);
    if (dbuse(p, want) == FAIL)
        die("USE %s failed", want);
    db_name = want;
    static const char *const ddl[] = {
        "IF OBJECT_ID('pgbench_history') IS NOT NULL DROP TABLE pgbench_history",
        "IF OBJECT_ID('pgbench_tellers') IS NOT NULL DROP TABLE pgbench_tellers",
        "IF OBJECT_ID('pgbench_accounts') IS NOT NULL DROP TABLE pgbench_accounts",
        "IF OBJECT_ID('pgbench_branches') IS NOT NULL DROP TABLE pgbench_branches",
        "CREATE TABLE pgbench_history (tid int, bid int, aid int, delta int, mtime datetime, filler char(22))",
        "CREATE TABLE pgbench_tellers (tid int NOT NULL PRIMARY KEY, bid int, tbalance int, filler char(84))",
        "CREATE TABLE pgbench_accounts (aid int NOT NULL PRIMARY KEY, bid int, abalance int, filler char(84))",
        "CREATE TABLE pgbench_branches (bid int NOT NULL PRIMARY KEY, bbalance int, filler char(88))",
    };
    int64_t t0 = now_ns();
    for (size_t i = 0; i < sizeof ddl / sizeof *ddl; i++)
        if (exec_sql(p, &st, ddl[i], NULL) < 0)
            die("%s: error %d: %s", ddl[i], st.msgno, st.msg);
    size_t cap = (size_t)LOAD_ROWS * 48 + 200;
    char *sql = malloc(cap);
    if (!sql)
        die("out of memory");
    struct {
        const char *head;
        int64_t     n;
    } tabs[3] = {
        { "INSERT INTO pgbench_branches (bid, bbalance) VALUES ", scale },
        { "INSERT INTO pgbench_tellers (tid, bid, tbalance) VALUES ", 10LL * scale },
        { "INSERT INTO pgbench_accounts (aid, bid, abalance, filler) VALUES ", 100000LL * scale },
    };
    for (int t = 0; t < 3; t++) {
        for (int64_t first = 1; first <= tabs[t].n; first += LOAD_ROWS) {
            if ((first - 1) % LOAD_TXN_ROWS == 0 && exec_sql(p, &st, "BEGIN TRANSACTION", NULL) < 0)
                die("BEGIN TRANSACTION: %s", st.msg);
            size_t len = (size_t)snprintf(sql, cap, "%s", tabs[t].head);
            for (int64_t k = first; k < first + LOAD_ROWS && k <= tabs[t].n; k++) {
                const char *sep = k == first ? "" : ",";
                if (t == 0)
                    len += (size_t)snprintf(sql + len, cap - len, "%s(%" PRId64 ",0)", sep, k);
                else if (t == 1)
                    len += (size_t)snprintf(sql + len, cap - len, "%s(%" PRId64 ",%" PRId64 ",0)", sep, k,
                                            (k - 1) / 10 + 1);
                else
                    len += (size_t)snprintf(sql + len, cap - len, "%s(%" PRId64 ",%" PRId64 ",0,'')", sep, k,
                                            (k - 1) / 100000 + 1);
            }
            if (exec_sql(p, &st, sql, NULL) < 0)
                die("loading: error %d: %s", st.msgno, st.msg);
            int64_t next = first + LOAD_ROWS;
            if ((next - 1) % LOAD_TXN_ROWS == 0 || next > tabs[t].n)
                if (exec_sql(p, &st, "COMMIT TRANSACTION", NULL) < 0)
                    die("COMMIT TRANSACTION: %s", st.msg);
        }
    }
    free(sql);
    double load_s = (double)(now_ns() - t0) / 1e9;
    printf("{\"mode\": \"init\", \"scale\": %d, \"accounts\": %lld, \"load_s\": %.3f}\n", scale, 100000LL * scale,
           load_s);
    dbclose(p);
}

/* pgbench's invariant: every transaction adds delta to one account, one
 * teller, one branch and one history row, so the four sums are equal. */
static void run_check(void)
{
    conn_state st = { 0 };
    DBPROCESS *p = connect_one(&st);
    if (!p)
        die("cannot log in to %s:%d (database %s)", host, port, db_name);
    static const char *const q[] = {
        "SELECT SUM(CAST(abalance AS bigint)) FROM pgbench_accounts",
        "SELECT SUM(CAST(tbalance AS bigint)) FROM pgbench_tellers",
        "SELECT SUM(CAST(bbalance AS bigint)) FROM pgbench_branches",
        "SELECT SUM(CAST(delta AS bigint)) FROM pgbench_history",
        "SELECT COUNT(*) FROM pgbench_accounts",
    };
    int64_t v[5] = { 0 };
    for (int i = 0; i < 5; i++) {
        char sql[200];
        /* SUM of an empty table is NULL: 0 then */
        snprintf(sql, sizeof sql, "SELECT ISNULL((%s), 0)", q[i]);
        if (exec_sql(p, &st, sql, &v[i]) < 0)
            die("%s: error %d: %s", q[i], st.msgno, st.msg);
    }
    int ok = v[0] == v[1] && v[1] == v[2] && v[2] == v[3] && v[4] == 100000LL * scale;
    printf("{\"mode\": \"check\", \"ok\": %s, \"sum_abalance\": %" PRId64 ", \"sum_tbalance\": %" PRId64
           ", \"sum_bbalance\": %" PRId64 ", \"sum_delta\": %" PRId64 ", \"accounts\": %" PRId64 "}\n",
           ok ? "true" : "false", v[0], v[1], v[2], v[3], v[4]);
    dbclose(p);
    if (!ok)
        exit(2);
}

static void run_idle(void)
{
    client *cs = open_clients();
    printf("{\"mode\": \"idle\", \"connected\": %d}\n", nclients);
    fflush(stdout);
    char buf[256];
    while (read(0, buf, sizeof buf) > 0)
        ;
    for (int i = 0; i < nclients; i++)
        dbclose(cs[i].p);
    free(cs);
}

static void usage(void)
{
    fprintf(stderr, "usage: loadgen -m init|tpcb|select|check|idle|marks-init|marks|marks-check [-H host] [-p port]\n"
                    "               [-U user] [-P password] [-d database] [-c clients] [-T seconds] [-s scale]\n"
                    "               [-r seed] [-b] [-n dbs] [-k mark_period_ms] [-x] [-B baseline_ms] [-o backup_dir]\n");
    exit(1);
}

int main(int argc, char **argv)
{
    int o;
    while ((o = getopt(argc, argv, "m:H:p:U:P:d:c:T:s:r:bn:k:xB:o:")) != -1) {
        switch (o) {
        case 'm': mode = optarg; break;
        case 'H': host = optarg; break;
        case 'p': port = atoi(optarg); break;
        case 'U': user = optarg; break;
        case 'P': password = optarg; break;
        case 'd': db_name = optarg; break;
        case 'c': nclients = atoi(optarg); break;
        case 'T': seconds = atof(optarg); break;
        case 's': scale = atoi(optarg); break;
        case 'r': seed0 = strtoull(optarg, NULL, 10); break;
        case 'b': one_batch = 1; break;
        case 'n': ndbs = atoi(optarg); break;
        case 'k': mark_period_ms = atoi(optarg); break;
        case 'x': mark_unmarked = 1; break;
        case 'B': baseline_ms = atof(optarg); break;
        case 'o': backup_dir = optarg; break;
        default: usage();
        }
    }
    if (nclients < 1 || nclients > MAX_CLIENTS || scale < 1 || seconds <= 0 || port <= 0 || ndbs < 2 ||
        ndbs > MARK_DBS_MAX || mark_period_ms < 0)
        usage();
    if (dbinit() == FAIL)
        die("dbinit failed");
    dberrhandle(err_handler);
    dbmsghandle(msg_handler);
    dbsetlogintime(30);
    if (!strcmp(mode, "init"))
        run_init();
    else if (!strcmp(mode, "tpcb") || !strcmp(mode, "select"))
        run_load();
    else if (!strcmp(mode, "check"))
        run_check();
    else if (!strcmp(mode, "idle"))
        run_idle();
    else if (!strcmp(mode, "marks-init"))
        run_marks_init();
    else if (!strcmp(mode, "marks"))
        run_marks();
    else if (!strcmp(mode, "marks-check"))
        run_marks_check();
    else
        usage();
    dbexit();
    return 0;
}
