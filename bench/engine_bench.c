/*
 * engine_bench.c — durable commits per second: hadrdb against SQLite, and both
 * against the machine's fsync rate. See bench/README.md.
 *
 * One "commit" is a transaction that changes one row of a 10,000-row table
 * (balance + 1 on a random id) and returns only once it is durable. With one
 * client the physical limit is one commit per fdatasync, so we measure how
 * many 4 KiB write + fdatasync pairs the disk does per second. With many
 * clients an engine can pass that limit only by group commit; SQLite, which
 * serializes writers and syncs once per commit, cannot: that is the comparison.
 *
 * For each thread count hadrdb and SQLite run back to back for the same time,
 * their order alternating between rounds, and an fsync probe runs before each
 * round and after the last, so slow drift of the machine (neighbours, page
 * cache, the virtual disk) lands on both engines and on the reference alike.
 *
 * After every run the sum of balances must have grown by exactly the number
 * of acknowledged commits; otherwise we exit 1.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "engine/catalog.h"
#include "engine/instance.h"
#include "engine/table.h"
#include "txn/txn.h"

#define NROWS           10000
#define LOAD_BATCH      1000
#define START_BALANCE   1000
#define LOCK_TIMEOUT_MS 10000   /* never fires on this workload unless something hangs */
#define PROBE_SECONDS   2.0
#define MAX_ROUNDS      8

static int thread_counts[MAX_ROUNDS] = { 1, 8, 32 };
static int nrounds = 3;

enum { ENG_HADRDB = 0, ENG_SQLITE = 1 };
static const char *const eng_name[2] = { "hadrdb", "sqlite" };

/* ---- helpers ------------------------------------------------------------- */

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
    fputs("bench_engine: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(1);
}

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    return remove(path);
}

/* Every run starts from empty engine directories: leftovers of an earlier run
 * (a longer log, a grown file) would make runs incomparable. */
static void rm_rf(const char *path)
{
    if (access(path, F_OK) == 0 && nftw(path, rm_entry, 16, FTW_DEPTH | FTW_PHYS) != 0)
        die("cannot remove %s: %s", path, strerror(errno));
}

static void make_dir(const char *path)
{
    if (mkdir(path, 0755) < 0 && errno != EEXIST)
        die("cannot create %s: %s", path, strerror(errno));
}

/* xorshift64*, per thread: picking an id touches no shared state. */
static uint64_t rnd(uint64_t *s)
{
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * 2685821657736338717ULL;
}

/* Latencies in ns, one growable vector per worker (no sharing while timed). */
typedef struct lat_vec {
    int64_t *v;
    size_t   n, cap;
} lat_vec;

static void lat_push(lat_vec *l, int64_t x)
{
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 4096;
        if (!(l->v = realloc(l->v, l->cap * sizeof *l->v)))
            die("out of memory");
    }
    l->v[l->n++] = x;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* Percentile p (0..1) of a sorted vector, in ms; p = 1 is the maximum. */
static double pct_ms(const lat_vec *l, double p)
{
    return l->n ? (double)l->v[(size_t)(p * (double)(l->n - 1) + 0.5)] / 1e6 : 0;
}

/* CPU used by everything but this process during a run, as a share of the
 * machine (steal included). On a small shared machine this is the main source
 * of error: a run with a high share measured the neighbours as much as the
 * engine. Kernel I/O threads count too, so a quiet machine still shows some. */
typedef struct cpu_snap {
    double busy_s, total_s, self_s;
} cpu_snap;

static void cpu_take(cpu_snap *c)
{
    unsigned long long v[8] = { 0 };   /* user nice system idle iowait irq softirq steal */
    FILE *f = fopen("/proc/stat", "r");
    if (f && fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5],
                    &v[6], &v[7]) != 8)
        memset(v, 0, sizeof v);
    if (f)
        fclose(f);
    double hz = (double)sysconf(_SC_CLK_TCK);
    c->busy_s = (double)(v[0] + v[1] + v[2] + v[5] + v[6] + v[7]) / hz;
    c->total_s = c->busy_s + (double)(v[3] + v[4]) / hz;
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    c->self_s = (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
                (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

static double cpu_other_share(const cpu_snap *a, const cpu_snap *b)
{
    double total = b->total_s - a->total_s, other = (b->busy_s - a->busy_s) - (b->self_s - a->self_s);
    return total > 0 && other > 0 ? other / total : 0;
}

/* ---- fsync probe --------------------------------------------------------- */

/* 4 KiB pwrite + fdatasync in a loop: what one-commit-per-flush can reach.
 * The file is preallocated and overwritten in place, cycling through 4 MiB,
 * as a log writes into VLFs that already exist (no size change per sync). */
static double fsync_rate(const char *dir, double seconds)
{
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%.3000s/fsync-probe.dat", dir);
    int fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        die("open %s: %s", path, strerror(errno));
    static char block[4096];
    const long nblocks = 1024;
    for (long i = 0; i < nblocks; i++)
        if (pwrite(fd, block, sizeof block, i * 4096) != (ssize_t)sizeof block)
            die("pwrite %s: %s", path, strerror(errno));
    if (fsync(fd) < 0)
        die("fsync %s: %s", path, strerror(errno));
    int64_t t0 = now_ns(), end = t0 + (int64_t)(seconds * 1e9), t = t0;
    long n = 0;
    for (; t < end; n++, t = now_ns()) {
        block[0] = (char)n;
        if (pwrite(fd, block, sizeof block, (n % nblocks) * 4096) != (ssize_t)sizeof block || fdatasync(fd) < 0)
            die("write/sync %s: %s", path, strerror(errno));
    }
    close(fd);
    unlink(path);
    return (double)n / ((double)(t - t0) / 1e9);
}

/* ---- one timed run ------------------------------------------------------- */

typedef struct run run;

typedef struct worker {
    pthread_t     th;
    int           idx;
    run          *r;
    uint64_t      seed;
    uint64_t      commits;       /* finished inside the timed window */
    uint64_t      commits_all;   /* every acknowledged commit (balance check) */
    uint64_t      retries;
    lat_vec       lat;
    sqlite3      *c;             /* sqlite: this thread's own connection */
    sqlite3_stmt *beg, *upd, *com, *rb;
} worker;

struct run {
    int               engine, nthreads;
    pthread_barrier_t gate;
    int64_t           deadline_ns;
    atomic_int        failed;      /* a worker hit a real error: all stop */
    char              fail_msg[512];
    pthread_mutex_t   fail_mu;
    database         *db;          /* hadrdb */
    table_def        *td;
    txn_mgr          *txns;
    const char       *sqlite_path; /* sqlite */
};

typedef struct result {
    double   tps, p50_ms, p99_ms, max_ms;
    double   other_cpu;     /* share of the machine used by other processes */
    uint64_t commits, commits_all, retries;
    uint64_t log_syncs;     /* hadrdb: fdatasyncs of the database's log in the run */
} result;

static __attribute__((format(printf, 2, 3))) void run_fail(run *r, const char *fmt, ...)
{
    pthread_mutex_lock(&r->fail_mu);
    if (!r->failed) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(r->fail_msg, sizeof r->fail_msg, fmt, ap);
        va_end(ap);
        r->failed = 1;
    }
    pthread_mutex_unlock(&r->fail_mu);
}

/* One hadrdb commit attempt: 0 committed, 1 retry (1205/1222), -1 failed. */
static int hadr_attempt(worker *w, int64_t id)
{
    run *r = w->r;
    hdb_err e;
    hdb_err_clear(&e);
    txn *t = txn_begin(r->txns, 100 + w->idx, "bench", "bench");
    if (!t) {
        run_fail(r, "txn_begin failed");
        return -1;
    }
    t->lock_timeout_ms = LOCK_TIMEOUT_MS;
    sql_value key = value_int(SQL_INT, id);
    table_row row;
    memset(&row, 0, sizeof row);
    int rc = table_get(t, r->db, r->td, &key, ISO_FOR_UPDATE, &row, &e);
    if (rc == 1) {
        sql_value vals[2] = { value_int(SQL_INT, id), value_int(SQL_BIGINT, row.vals[1].u.i + 1) };
        table_row_free(&row);
        rc = table_update(t, r->db, r->td, &key, vals, &e);
        if (rc == 0) {
            rc = txn_commit(t, &e);    /* rolls back by itself when it fails */
            txn_free(t);
            if (rc < 0)
                run_fail(r, "txn_commit: %d %s", e.number, e.msg);
            return rc;
        }
    }
    txn_rollback(t, NULL);
    txn_free(t);
    if (rc < 0 && (e.number == 1205 || e.number == 1222))
        return 1;
    if (rc >= 0)
        run_fail(r, "row %lld not found", (long long)id);
    else
        run_fail(r, "row %lld: error %d %s", (long long)id, e.number, e.msg);
    return -1;
}

static int sq_step(sqlite3_stmt *st)
{
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    return rc;
}

static int sqlite_connect(worker *w)
{
    sqlite3 *c;
    /* NOMUTEX: a connection per thread needs no connection mutex; writers
     * still exclude each other through the WAL write lock. */
    int ok = sqlite3_open_v2(w->r->sqlite_path, &w->c, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL) == SQLITE_OK;
    c = w->c;
    ok = ok && sqlite3_busy_timeout(c, 60000) == SQLITE_OK &&
         /* synchronous is per connection: FULL fsyncs the WAL at every commit */
         sqlite3_exec(c, "PRAGMA synchronous=FULL", NULL, NULL, NULL) == SQLITE_OK &&
         sqlite3_prepare_v2(c, "BEGIN IMMEDIATE", -1, &w->beg, NULL) == SQLITE_OK &&
         sqlite3_prepare_v2(c, "UPDATE accounts SET balance = balance + 1 WHERE id = ?", -1, &w->upd, NULL) == SQLITE_OK &&
         sqlite3_prepare_v2(c, "COMMIT", -1, &w->com, NULL) == SQLITE_OK &&
         sqlite3_prepare_v2(c, "ROLLBACK", -1, &w->rb, NULL) == SQLITE_OK;
    if (!ok)
        run_fail(w->r, "sqlite connect: %s", c ? sqlite3_errmsg(c) : "out of memory");
    return ok;
}

/* One SQLite commit attempt, same contract as hadr_attempt. SQLITE_BUSY means
 * the 60 s busy timeout ran out: a retry, like hadrdb's lock timeout. */
static int sqlite_attempt(worker *w, int64_t id)
{
    int rc = sq_step(w->beg);
    if (rc == SQLITE_DONE) {
        sqlite3_bind_int64(w->upd, 1, id);
        rc = sq_step(w->upd);
        if (rc == SQLITE_DONE && sqlite3_changes(w->c) != 1)
            rc = SQLITE_NOTFOUND;
        if (rc == SQLITE_DONE)
            rc = sq_step(w->com);
        if (rc == SQLITE_DONE)
            return 0;
        sq_step(w->rb);
    }
    if (rc == SQLITE_BUSY)
        return 1;
    run_fail(w->r, "sqlite, id %lld: %s", (long long)id, rc == SQLITE_NOTFOUND ? "row not found" : sqlite3_errmsg(w->c));
    return -1;
}

static void *worker_main(void *arg)
{
    worker *w = arg;
    run *r = w->r;
    int ok = r->engine == ENG_HADRDB || sqlite_connect(w);
    /* Two gates: every worker is ready (connections open), then the main
     * thread fixes the window and lets them go, so setup is never timed. */
    pthread_barrier_wait(&r->gate);
    pthread_barrier_wait(&r->gate);
    while (ok && !r->failed && now_ns() < r->deadline_ns) {
        int64_t id = (int64_t)(rnd(&w->seed) % NROWS) + 1;
        /* Latency is what a client sees, from the first attempt's begin to
         * the acknowledged commit, retries included. Commits that end after
         * the deadline count too: a client starved through the whole window
         * (SQLite's busy handler sleeps) must show in p99. */
        int64_t t0 = now_ns();
        int rc;
        while ((rc = r->engine == ENG_HADRDB ? hadr_attempt(w, id) : sqlite_attempt(w, id)) == 1)
            w->retries++;
        if (rc < 0)
            break;
        int64_t t1 = now_ns();
        w->commits_all++;
        w->commits += t1 <= r->deadline_ns;
        lat_push(&w->lat, t1 - t0);
    }
    sqlite3_finalize(w->beg);
    sqlite3_finalize(w->upd);
    sqlite3_finalize(w->com);
    sqlite3_finalize(w->rb);
    sqlite3_close(w->c);
    return NULL;
}

static void run_workers(run *r, double seconds, result *res)
{
    worker *ws = calloc((size_t)r->nthreads, sizeof *ws);
    if (!ws)
        die("out of memory");
    pthread_mutex_init(&r->fail_mu, NULL);
    pthread_barrier_init(&r->gate, NULL, (unsigned)r->nthreads + 1);
    for (int i = 0; i < r->nthreads; i++) {
        ws[i] = (worker){ .idx = i, .r = r, .seed = 0x9E3779B97F4A7C15ULL * (uint64_t)(i + 1) };
        if (pthread_create(&ws[i].th, NULL, worker_main, &ws[i]) != 0)
            die("pthread_create failed");
    }
    cpu_snap c0, c1;
    pthread_barrier_wait(&r->gate);
    cpu_take(&c0);
    r->deadline_ns = now_ns() + (int64_t)(seconds * 1e9);
    pthread_barrier_wait(&r->gate);
    lat_vec all = { 0 };
    memset(res, 0, sizeof *res);
    for (int i = 0; i < r->nthreads; i++) {
        pthread_join(ws[i].th, NULL);
        if (i == 0)
            cpu_take(&c1);   /* the others are at most one commit from done */
        for (size_t k = 0; k < ws[i].lat.n; k++)
            lat_push(&all, ws[i].lat.v[k]);
        res->commits += ws[i].commits;
        res->commits_all += ws[i].commits_all;
        res->retries += ws[i].retries;
        free(ws[i].lat.v);
    }
    qsort(all.v, all.n, sizeof *all.v, cmp_i64);
    res->tps = (double)res->commits / seconds;
    res->p50_ms = pct_ms(&all, 0.50);
    res->p99_ms = pct_ms(&all, 0.99);
    res->max_ms = pct_ms(&all, 1.0);
    res->other_cpu = cpu_other_share(&c0, &c1);
    free(all.v);
    free(ws);
    pthread_barrier_destroy(&r->gate);
    pthread_mutex_destroy(&r->fail_mu);
    if (r->failed)
        die("%s, %d threads: %s", eng_name[r->engine], r->nthreads, r->fail_msg);
}

static void check_sum(int engine, int nthreads, int64_t before, int64_t after, const result *res)
{
    if (after - before != (int64_t)res->commits_all)
        die("CORRECTNESS ERROR: %s, %d threads: the sum of balances grew by %lld but %llu transactions "
            "committed", eng_name[engine], nthreads, (long long)(after - before),
            (unsigned long long)res->commits_all);
}

/* ---- hadrdb -------------------------------------------------------------- */

static instance *hadr_open(const char *dir)
{
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%.3000s/hadrdb", dir);
    inst_options o = { .datadir = path, .buffer_pool_mb = 64, .checkpoint_interval_s = 30, .quiet = 1 };
    hdb_err e;
    hdb_err_clear(&e);
    instance *in = inst_open(&o, &e);
    if (!in)
        die("inst_open %s: %d %s", path, e.number, e.msg);
    return in;
}

/* Setup and verification errors end the program: nothing to roll back for. */
static void hadr_check(int rc, const hdb_err *e, const char *what)
{
    if (rc < 0)
        die("hadrdb %s: %d %s", what, e->number, e->msg);
}

static void hadr_setup(const char *dir)
{
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%.3000s/hadrdb", dir);
    rm_rf(path);
    instance *in = hadr_open(dir);
    hdb_err e;
    hdb_err_clear(&e);
    database *db = inst_create_database(in, "bench", &e);
    if (!db)
        die("CREATE DATABASE bench: %d %s", e.number, e.msg);
    tbl_column cols[2] = { { .name = "id", .type = { .id = SQL_INT } },
                           { .name = "balance", .type = { .id = SQL_BIGINT } } };
    int pk = 0;
    table_spec spec = { .schema_id = SCHEMA_DBO, .name = "accounts", .ncols = 2, .cols = cols,
                        .npk = 1, .pk_cols = &pk };
    txn *t = txn_begin(in->txns, 1, "create", "bench");
    hadr_check(cat_create_table(t, db, &spec, NULL, &e), &e, "CREATE TABLE accounts");
    hadr_check(txn_commit(t, &e), &e, "commit CREATE TABLE");
    txn_free(t);
    table_def *td = cat_find_table(db, SCHEMA_DBO, "accounts", &e);
    if (!td)
        die("accounts not found after CREATE TABLE: %d %s", e.number, e.msg);
    for (int base = 1; base <= NROWS; base += LOAD_BATCH) {
        t = txn_begin(in->txns, 1, "load", "bench");
        for (int id = base; id < base + LOAD_BATCH && id <= NROWS; id++) {
            sql_value v[2] = { value_int(SQL_INT, id), value_int(SQL_BIGINT, START_BALANCE) };
            hadr_check(table_insert(t, db, td, v, &e), &e, "INSERT accounts");
        }
        hadr_check(txn_commit(t, &e), &e, "commit load");
        txn_free(t);
    }
    inst_close(in, 1);
}

/* Sum of balances, read committed; also warms the buffer pool of an instance
 * just reopened, so the timed run does not read pages from disk. */
static int64_t hadr_sum(instance *in, database *db, table_def *td)
{
    hdb_err e;
    hdb_err_clear(&e);
    txn *t = txn_begin(in->txns, 1, "verify", "bench");
    table_scan *s = table_scan_open(t, db, td, ISO_READ_COMMITTED, &e);
    if (!s)
        die("hadrdb scan: %d %s", e.number, e.msg);
    table_row row;
    memset(&row, 0, sizeof row);
    int64_t sum = 0, n = 0;
    int rc;
    for (; (rc = table_scan_next(s, &row, &e)) == 1; n++)
        sum += row.vals[1].u.i;
    table_scan_close(s);
    hadr_check(rc, &e, "scan");
    hadr_check(txn_commit(t, &e), &e, "commit scan");
    txn_free(t);
    if (n != NROWS)
        die("hadrdb: accounts has %lld rows, expected %d", (long long)n, NROWS);
    return sum;
}

/* The instance lives for one run only (reopened: recovery, then a clean
 * close), so neither its checkpoint thread nor its log writer is alive, or
 * writing, while SQLite is measured. */
static void hadr_run(const char *dir, int nthreads, double seconds, result *res)
{
    instance *in = hadr_open(dir);
    database *db = inst_find_database(in, "bench");
    if (!db)
        die("hadrdb: database bench missing after restart");
    hdb_err e;
    hdb_err_clear(&e);
    table_def *td = cat_find_table(db, SCHEMA_DBO, "accounts", &e);
    if (!td)
        die("hadrdb: accounts missing: %d %s", e.number, e.msg);
    /* the sum the last run left must have survived the close and reopen */
    static int64_t last_sum = (int64_t)NROWS * START_BALANCE;
    int64_t before = hadr_sum(in, db, td);
    if (before != last_sum)
        die("CORRECTNESS ERROR: hadrdb: sum of balances %lld after restart, %lld before", (long long)before,
            (long long)last_sum);
    log_stats ls0, ls1;
    log_get_stats(db->tdb.log, &ls0);
    run r = { .engine = ENG_HADRDB, .nthreads = nthreads, .db = db, .td = td, .txns = in->txns };
    run_workers(&r, seconds, res);
    log_get_stats(db->tdb.log, &ls1);
    res->log_syncs = ls1.syncs - ls0.syncs;
    last_sum = hadr_sum(in, db, td);
    check_sum(ENG_HADRDB, nthreads, before, last_sum, res);
    inst_close(in, 1);
}

/* ---- SQLite -------------------------------------------------------------- */

static void sq_exec(sqlite3 *c, const char *sql)
{
    char *msg = NULL;
    if (sqlite3_exec(c, sql, NULL, NULL, &msg) != SQLITE_OK)
        die("sqlite: %s: %s", sql, msg ? msg : "?");
}

static int64_t sqlite_sum(sqlite3 *c)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(c, "SELECT sum(balance), count(*) FROM accounts", -1, &st, NULL) != SQLITE_OK ||
        sqlite3_step(st) != SQLITE_ROW)
        die("sqlite sum: %s", sqlite3_errmsg(c));
    int64_t sum = sqlite3_column_int64(st, 0), n = sqlite3_column_int64(st, 1);
    sqlite3_finalize(st);
    if (n != NROWS)
        die("sqlite: accounts has %lld rows, expected %d", (long long)n, NROWS);
    return sum;
}

static void sqlite_setup(const char *dir, char *path, size_t cap)
{
    char sub[PATH_MAX];
    snprintf(sub, sizeof sub, "%.3000s/sqlite", dir);
    rm_rf(sub);
    make_dir(sub);
    snprintf(path, cap, "%.3000s/bench.db", sub);
    sqlite3 *c;
    if (sqlite3_open(path, &c) != SQLITE_OK)
        die("sqlite open %s: %s", path, sqlite3_errmsg(c));
    sq_exec(c, "PRAGMA journal_mode=WAL");   /* persistent: every connection gets it */
    /* INTEGER PRIMARY KEY makes id the rowid, so rows live in the key's
     * B-tree, as in hadrdb's clustered primary key. */
    sq_exec(c, "CREATE TABLE accounts(id INTEGER PRIMARY KEY, balance BIGINT NOT NULL)");
    sq_exec(c, "BEGIN");
    sqlite3_stmt *ins;
    if (sqlite3_prepare_v2(c, "INSERT INTO accounts VALUES(?, ?)", -1, &ins, NULL) != SQLITE_OK)
        die("sqlite: %s", sqlite3_errmsg(c));
    for (int id = 1; id <= NROWS; id++) {
        sqlite3_bind_int(ins, 1, id);
        sqlite3_bind_int(ins, 2, START_BALANCE);
        if (sq_step(ins) != SQLITE_DONE)
            die("sqlite insert: %s", sqlite3_errmsg(c));
    }
    sqlite3_finalize(ins);
    sq_exec(c, "COMMIT");
    sqlite3_close(c);
}

static void sqlite_run(const char *path, int nthreads, double seconds, result *res)
{
    sqlite3 *c;
    if (sqlite3_open_v2(path, &c, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK)
        die("sqlite open %s", path);
    sqlite3_busy_timeout(c, 60000);
    int64_t before = sqlite_sum(c);
    run r = { .engine = ENG_SQLITE, .nthreads = nthreads, .sqlite_path = path };
    run_workers(&r, seconds, res);
    check_sum(ENG_SQLITE, nthreads, before, sqlite_sum(c), res);
    sqlite3_close(c);
}

/* ---- report -------------------------------------------------------------- */

typedef struct machine {
    long nproc;
    char cpu[256], kernel[256], date[64];
} machine;

static void machine_info(machine *m)
{
    m->nproc = sysconf(_SC_NPROCESSORS_ONLN);
    snprintf(m->cpu, sizeof m->cpu, "unknown");
    FILE *f = fopen("/proc/cpuinfo", "r");
    char line[512];
    while (f && fgets(line, sizeof line, f)) {
        char *colon = strchr(line, ':');
        if (strncmp(line, "model name", 10) == 0 && colon) {
            snprintf(m->cpu, sizeof m->cpu, "%s", colon + 2);
            m->cpu[strcspn(m->cpu, "\n")] = 0;
            break;
        }
    }
    if (f)
        fclose(f);
    struct utsname u;
    if (uname(&u) == 0)
        snprintf(m->kernel, sizeof m->kernel, "%s %s %s", u.sysname, u.release, u.machine);
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(m->date, sizeof m->date, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* The CPU model and kernel are the only free text we emit. */
static void json_str(FILE *f, const char *key, const char *s)
{
    fprintf(f, "\"%s\": \"", key);
    for (; *s; s++) {
        if (*s == '"' || *s == '\\')
            fputc('\\', f);
        if ((unsigned char)*s >= 0x20)
            fputc(*s, f);
    }
    fputc('"', f);
}

static void json_result(FILE *f, const char *name, const result *r)
{
    fprintf(f, "      \"%s\": {\"tps\": %.1f, \"p50_ms\": %.3f, \"p99_ms\": %.3f, \"max_ms\": %.3f, "
               "\"commits\": %llu, \"retries\": %llu, \"other_cpu\": %.3f",
            name, r->tps, r->p50_ms, r->p99_ms, r->max_ms, (unsigned long long)r->commits,
            (unsigned long long)r->retries, r->other_cpu);
    if (r->log_syncs)
        fprintf(f, ", \"log_syncs\": %llu, \"commits_per_sync\": %.2f", (unsigned long long)r->log_syncs,
                (double)r->commits_all / (double)r->log_syncs);
    fprintf(f, "},\n");
}

typedef struct summary {
    double fsync_mean, one_ratio;   /* one_ratio < 0: no 1-thread round */
    int    tgt_one, tgt_multi;
} summary;

static void write_json(const char *out, const machine *m, double seconds, const double *fs,
                       result res[][2], const summary *sm)
{
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%.3000s/engine.json", out);
    FILE *f = fopen(path, "w");
    if (!f) {
        fprintf(stderr, "bench_engine: cannot write %s: %s\n", path, strerror(errno));
        return;
    }
    fprintf(f, "{\n  \"benchmark\": \"engine\",\n  \"machine\": {\"nproc\": %ld, ", m->nproc);
    json_str(f, "cpu_model", m->cpu);
    fprintf(f, ", ");
    json_str(f, "kernel", m->kernel);
    fprintf(f, ", \"date\": \"%s\"},\n", m->date);
    fprintf(f, "  \"config\": {\"seconds\": %.1f, \"rows\": %d, \"sqlite_version\": \"%s\", "
               "\"sqlite\": \"journal_mode=WAL, synchronous=FULL\"},\n", seconds, NROWS, sqlite3_libversion());
    fprintf(f, "  \"fsync_rate\": {\"mean\": %.1f, \"probes\": [", sm->fsync_mean);
    for (int i = 0; i <= nrounds; i++)
        fprintf(f, "%s%.1f", i ? ", " : "", fs[i]);
    fprintf(f, "]},\n  \"runs\": [\n");
    for (int i = 0; i < nrounds; i++) {
        fprintf(f, "    {\"threads\": %d,\n", thread_counts[i]);
        json_result(f, "hadrdb", &res[i][ENG_HADRDB]);
        json_result(f, "sqlite", &res[i][ENG_SQLITE]);
        fprintf(f, "      \"ratio\": %.2f}%s\n",
                res[i][ENG_SQLITE].tps > 0 ? res[i][ENG_HADRDB].tps / res[i][ENG_SQLITE].tps : 0.0,
                i + 1 < nrounds ? "," : "");
    }
    /* a target whose round was not run is null */
    char one[32] = "null";
    if (sm->one_ratio >= 0)
        snprintf(one, sizeof one, "%.3f", sm->one_ratio);
    fprintf(f, "  ],\n  \"targets\": {\"one_thread_commits_per_fsync\": %s, \"one_thread_within_10pct\": %s, "
               "\"multi_thread_3x_sqlite\": %s}\n}\n", one,
            sm->one_ratio < 0 ? "null" : sm->tgt_one ? "true" : "false",
            sm->tgt_multi < 0 ? "null" : sm->tgt_multi ? "true" : "false");
    fclose(f);
    printf("results: %s\n", path);
}

/* A bar chart only if gnuplot is there: the numbers are in the JSON anyway. */
static void write_png(const char *out, double fsync_mean, result res[][2])
{
    if (system("command -v gnuplot >/dev/null 2>&1") != 0) {
        printf("gnuplot not installed: no chart\n");
        return;
    }
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%.3000s/engine.png", out);
    FILE *g = popen("gnuplot", "w");
    if (!g)
        return;
    fprintf(g, "set terminal pngcairo size 900,540 noenhanced\nset output '%s'\n"
               "set title 'Durable single-row update transactions per second'\n"
               "set style data histograms\nset style histogram clustered gap 1\n"
               "set style fill solid 0.85 border -1\nset boxwidth 0.9\nset grid ytics\n"
               "set xlabel 'client threads'\nset ylabel 'commits/s'\nset yrange [0:*]\nset key top left\n"
               "set arrow from graph 0, first %.1f to graph 1, first %.1f nohead dt 2 lw 2 lc rgb 'gray30'\n"
               "set label 'fsync rate %.0f/s' at graph 0.99, first %.1f right offset 0,0.7\n$d << EOD\n",
            path, fsync_mean, fsync_mean, fsync_mean, fsync_mean);
    for (int i = 0; i < nrounds; i++)
        fprintf(g, "%d %.1f %.1f\n", thread_counts[i], res[i][ENG_HADRDB].tps, res[i][ENG_SQLITE].tps);
    fprintf(g, "EOD\nplot $d using 2:xtic(1) title 'hadrdb' lc rgb '#1f77b4', "
               "'' using 3 title 'SQLite (WAL, synchronous=FULL)' lc rgb '#ff7f0e'\n");
    if (pclose(g) != 0)
        fprintf(stderr, "bench_engine: gnuplot failed; no chart\n");
    else
        printf("chart:   %s\n", path);
}

/* ---- main ---------------------------------------------------------------- */

static void usage(void)
{
    fprintf(stderr, "usage: bench_engine [--dir DIR] [--seconds N | --quick] [--threads 1,8,32] [--out DIR]\n"
                    "  --dir DIR       scratch directory for the databases (default build/bench-data)\n"
                    "  --seconds N     duration of each timed run (default 5)\n"
                    "  --quick         2-second runs\n"
                    "  --threads LIST  client thread counts, one round each (default 1,8,32)\n"
                    "  --out DIR       where engine.json / engine.png go (default bench/results)\n");
    exit(2);
}

static void parse_threads(const char *arg)
{
    nrounds = 0;
    for (const char *p = arg; *p; p += *p == ',') {
        char *end;
        long n = strtol(p, &end, 10);
        if (end == p || n < 1 || n > 1024 || nrounds == MAX_ROUNDS)
            usage();
        thread_counts[nrounds++] = (int)n;
        p = end;
    }
    if (!nrounds)
        usage();
}

int main(int argc, char **argv)
{
    const char *dir = "build/bench-data", *out = "bench/results";
    double seconds = 5;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--dir") && i + 1 < argc)
            dir = argv[++i];
        else if (!strcmp(argv[i], "--seconds") && i + 1 < argc)
            seconds = atof(argv[++i]);
        else if (!strcmp(argv[i], "--quick"))
            seconds = 2;
        else if (!strcmp(argv[i], "--threads") && i + 1 < argc)
            parse_threads(argv[++i]);
        else if (!strcmp(argv[i], "--out") && i + 1 < argc)
            out = argv[++i];
        else
            usage();
    }
    if (seconds <= 0 || strlen(dir) > 3000 || strlen(out) > 3000)
        usage();
    if (!sqlite3_threadsafe())
        die("libsqlite3 was built without thread support");
    make_dir(dir);
    make_dir(out);
    machine m;
    machine_info(&m);
    printf("engine bench: %ld CPUs (%s), %s; %.0f s per run, %d rows\n", m.nproc, m.cpu, m.kernel, seconds, NROWS);
    fflush(stdout);
    hadr_setup(dir);
    char sqlite_path[PATH_MAX];
    sqlite_setup(dir, sqlite_path, sizeof sqlite_path);

    /* An fsync probe before every round and one after the last: each round
     * is bracketed by two, and the 1-thread target uses its own bracket. */
    double fs[MAX_ROUNDS + 1];
    result res[MAX_ROUNDS][2];
    for (int i = 0; i <= nrounds; i++) {
        fs[i] = fsync_rate(dir, PROBE_SECONDS);
        fprintf(stderr, "fsync probe: %.0f/s\n", fs[i]);
        /* alternate which engine goes first, so neither always runs on the
         * warmer (or more tired) machine */
        for (int k = 0; i < nrounds && k < 2; k++) {
            int eng = (i + k) % 2 == 0 ? ENG_HADRDB : ENG_SQLITE;
            result *r = &res[i][eng];
            if (eng == ENG_HADRDB)
                hadr_run(dir, thread_counts[i], seconds, r);
            else
                sqlite_run(sqlite_path, thread_counts[i], seconds, r);
            fprintf(stderr, "%2d threads %-6s %7.0f commits/s  p50 %.2f  p99 %.2f  max %.1f ms  other cpu %2.0f%%",
                    thread_counts[i], eng_name[eng], r->tps, r->p50_ms, r->p99_ms, r->max_ms, 100 * r->other_cpu);
            if (r->log_syncs)
                fprintf(stderr, "  %.2f commits/log sync", (double)r->commits_all / (double)r->log_syncs);
            fputc('\n', stderr);
        }
    }

    summary sm = { .one_ratio = -1, .tgt_multi = -1 };   /* -1: no such round */
    for (int i = 0; i <= nrounds; i++)
        sm.fsync_mean += fs[i] / (nrounds + 1);
    printf("\nfsync rate: %.0f/s (probes:", sm.fsync_mean);
    for (int i = 0; i <= nrounds; i++)
        printf(" %.0f", fs[i]);
    printf(")\nthreads  hadrdb tps  p50 ms  p99 ms  sqlite tps  p50 ms  p99 ms  ratio\n");
    double noisy = 0, fmin = fs[0], fmax = fs[0];
    for (int i = 1; i <= nrounds; i++) {
        fmin = fs[i] < fmin ? fs[i] : fmin;
        fmax = fs[i] > fmax ? fs[i] : fmax;
    }
    for (int i = 0; i < nrounds; i++) {
        const result *h = &res[i][ENG_HADRDB], *s = &res[i][ENG_SQLITE];
        double ratio = s->tps > 0 ? h->tps / s->tps : 0;
        printf("%7d  %10.0f  %6.2f  %6.2f  %10.0f  %6.2f  %6.2f  %5.2f\n", thread_counts[i], h->tps, h->p50_ms,
               h->p99_ms, s->tps, s->p50_ms, s->p99_ms, ratio);
        if (thread_counts[i] >= 8)
            sm.tgt_multi = (sm.tgt_multi != 0) && ratio >= 3.0;
        if (thread_counts[i] == 1 && sm.one_ratio < 0)
            sm.one_ratio = h->tps / ((fs[i] + fs[i + 1]) / 2);
        noisy = h->other_cpu > noisy ? h->other_cpu : noisy;
        noisy = s->other_cpu > noisy ? s->other_cpu : noisy;
    }
    sm.tgt_one = sm.one_ratio >= 0.9;
    if (sm.one_ratio >= 0)
        printf("\n1-thread commits/fsync-rate = %.3f   (target >= 0.90: %s)\n", sm.one_ratio,
               sm.tgt_one ? "met" : "MISSED");
    if (sm.tgt_multi >= 0)
        printf("8+ threads hadrdb >= 3x sqlite:       %s\n", sm.tgt_multi ? "met" : "MISSED");
    if (noisy > 0.15)
        printf("warning: other processes used up to %.0f%% of the machine during a run; rerun on a quiet machine\n",
               100 * noisy);
    /* other tenants of the disk do not show as CPU; they show here */
    if (fmax > 1.2 * fmin)
        printf("warning: the fsync probes differ by %.0f%%: the disk was shared; rerun for stable ratios\n",
               100 * (fmax / fmin - 1));
    write_json(out, &m, seconds, fs, res, &sm);
    write_png(out, sm.fsync_mean, res);
    return 0;
}
