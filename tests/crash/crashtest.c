/*
 * crashtest.c — kill the engine at random moments and check what survives.
 *
 *   build/crashtest --iterations N --dir DIR [--threads T] [--seed S]
 *
 * Set-up: an instance with three databases bank1..bank3, each with
 *   accounts(id int primary key, balance bigint not null)   -- 50 rows of 1000
 *   history(id bigint primary key, src_db int, src int, dst_db int, dst int, amount bigint)
 * Each cycle forks a child that opens the instance (running crash recovery),
 * and runs T threads of transfers: move an amount from one account to another
 * — a third of them between two databases (cross-database two-phase commit) —
 * and record the transfer in the source database's history, all in one
 * transaction. Some transactions are rolled back on purpose, some partly
 * (savepoints). After each acknowledged commit the child appends the transfer
 * id to an acknowledgement file. The parent SIGKILLs the child after a random
 * delay (sometimes during its recovery), then opens the instance itself and
 * checks:
 *   - lost commits: every acknowledged id is in a history table;
 *   - invariants: the total balance is unchanged, every account's balance is
 *     1000 + what its history says came in - what went out (so no change of an
 *     unfinished or rolled-back transaction survived), and every B+tree passes
 *     bt_check.
 * It ends with the line
 *   crashtest: N cycles, L lost commits, V invariant violations
 * and exits non-zero if L or V is not zero.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "engine/instance.h"
#include "engine/table.h"

#define NDBS      3
#define NACCOUNTS 50
#define START_BALANCE 1000

static const char *dir = "build/crashtest-data";
static int nthreads = 4;

static instance *open_instance(int checkpoint_s, hdb_err *err)
{
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/inst", dir);
    inst_options o = { .datadir = path, .buffer_pool_mb = 2, .checkpoint_interval_s = checkpoint_s,
                       .vlf_size = 256 * 1024, .initial_vlfs = 4, .quiet = 1 };
    return inst_open(&o, err);
}

static database *bank(instance *in, int i)
{
    char name[16];
    snprintf(name, sizeof name, "bank%d", i + 1);
    return inst_find_database(in, name);
}

static void die(const char *what, const hdb_err *e)
{
    fprintf(stderr, "crashtest: %s: %s (error %d)\n", what, e->msg, e->number);
    exit(2);
}

/* ---- set-up ------------------------------------------------------------- */

static void make_tables(instance *in, database *db)
{
    hdb_err e;
    tbl_column acc[2] = { { .name = "id", .type = { .id = SQL_INT } },
                          { .name = "balance", .type = { .id = SQL_BIGINT } } };
    tbl_column his[6] = { { .name = "id", .type = { .id = SQL_BIGINT } },
                          { .name = "src_db", .type = { .id = SQL_INT } },
                          { .name = "src", .type = { .id = SQL_INT } },
                          { .name = "dst_db", .type = { .id = SQL_INT } },
                          { .name = "dst", .type = { .id = SQL_INT } },
                          { .name = "amount", .type = { .id = SQL_BIGINT } } };
    int pk = 0;
    table_spec a = { .schema_id = SCHEMA_DBO, .name = "accounts", .ncols = 2, .cols = acc, .npk = 1, .pk_cols = &pk };
    table_spec h = { .schema_id = SCHEMA_DBO, .name = "history", .ncols = 6, .cols = his, .npk = 1, .pk_cols = &pk };
    txn *t = txn_begin(in->txns, 0, "setup", "sa");
    if (cat_create_table(t, db, &a, NULL, &e) < 0 || cat_create_table(t, db, &h, NULL, &e) < 0)
        die("create table", &e);
    table_def *td = cat_find_table(db, SCHEMA_DBO, "accounts", &e);
    if (!td)
        die("find accounts", &e);
    for (int i = 0; i < NACCOUNTS; i++) {
        sql_value v[2] = { value_int(SQL_INT, i), value_int(SQL_BIGINT, START_BALANCE) };
        if (table_insert(t, db, td, v, &e) < 0)
            die("insert account", &e);
    }
    if (txn_commit(t, &e) < 0)
        die("commit set-up", &e);
    txn_free(t);
}

static void setup(void)
{
    char cmd[PATH_MAX + 16];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0 || mkdir(dir, 0755) < 0) {
        perror("crashtest: set-up directory");
        exit(2);
    }
    hdb_err e;
    instance *in = open_instance(0, &e);
    if (!in)
        die("open instance", &e);
    for (int i = 0; i < NDBS; i++) {
        char name[16];
        snprintf(name, sizeof name, "bank%d", i + 1);
        database *db = inst_create_database(in, name, &e);
        if (!db)
            die("create database", &e);
        make_tables(in, db);
    }
    inst_close(in, 1);
}

/* ---- the child: transfers until killed ------------------------------------ */

struct worker {
    instance *in;
    int       id;
    int       ack_fd;
    unsigned  seed;
};

static int add_to(txn *t, database *db, table_def *acc, int id, int64_t delta, hdb_err *e)
{
    sql_value key = value_int(SQL_INT, id);
    table_row r;
    int rc = table_get(t, db, acc, &key, ISO_FOR_UPDATE, &r, e);
    if (rc != 1)
        return rc == 0 ? (hdb_raise_text(e, 50000, 16, 1, "account missing"), -1) : -1;
    sql_value v[2] = { key, value_int(SQL_BIGINT, r.vals[1].u.i + delta) };
    table_row_free(&r);
    return table_update(t, db, acc, &key, v, e) == 0 ? 0 : -1;
}

static int transfer(struct worker *w, uint64_t tid, hdb_err *e)
{
    unsigned *s = &w->seed;
    int sdb = rand_r(s) % NDBS;
    int ddb = (rand_r(s) % 3 == 0) ? (sdb + 1 + rand_r(s) % (NDBS - 1)) % NDBS : sdb;
    int src = rand_r(s) % NACCOUNTS, dst = rand_r(s) % NACCOUNTS;
    int64_t amount = 1 + rand_r(s) % 100;
    int mode = rand_r(s) % 10;   /* 0: roll back all; 1: roll back a savepoint; else commit */
    database *a = bank(w->in, sdb), *b = bank(w->in, ddb);
    table_def *aa = cat_find_table(a, SCHEMA_DBO, "accounts", e);
    table_def *ah = cat_find_table(a, SCHEMA_DBO, "history", e);
    table_def *ba = cat_find_table(b, SCHEMA_DBO, "accounts", e);
    if (!aa || !ah || !ba)
        return -1;
    txn *t = txn_begin(w->in->txns, w->id + 1, "transfer", "sa");
    t->lock_timeout_ms = 10000;
    int rc = add_to(t, a, aa, src, -amount, e);
    if (rc == 0 && mode == 1) {
        /* a change undone by a partial rollback must not survive either */
        rc = txn_save(t, "sp", e);
        if (rc == 0)
            rc = add_to(t, b, ba, dst, 1000000, e);
        if (rc == 0)
            rc = txn_rollback_to(t, "sp", e);
    }
    if (rc == 0)
        rc = add_to(t, b, ba, dst, amount, e);
    if (rc == 0) {
        sql_value h[6] = { value_int(SQL_BIGINT, (int64_t)tid), value_int(SQL_INT, sdb), value_int(SQL_INT, src),
                           value_int(SQL_INT, ddb), value_int(SQL_INT, dst), value_int(SQL_BIGINT, amount) };
        rc = table_insert(t, a, ah, h, e);
    }
    if (rc == 0 && mode == 0) {
        hdb_err ignore;
        txn_rollback(t, &ignore);
        txn_free(t);
        return 1;
    }
    if (rc == 0)
        rc = txn_commit(t, e);
    else {
        hdb_err ignore;
        txn_rollback(t, &ignore);
    }
    txn_free(t);
    if (rc == 0) {
        char line[32];
        int n = snprintf(line, sizeof line, "%llu\n", (unsigned long long)tid);
        /* the acknowledgement: written only after the commit returned */
        if (write(w->ack_fd, line, (size_t)n) != n)
            _exit(3);
    }
    return rc;
}

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    uint64_t seq = 0;
    for (;;) {
        hdb_err e;
        hdb_err_clear(&e);
        uint64_t tid = ((uint64_t)getpid() << 32) | ((uint64_t)w->id << 24) | (seq++ & 0xFFFFFF);
        if (transfer(w, tid, &e) < 0 && e.number != 1205 && e.number != 1222) {
            fprintf(stderr, "crashtest child: transfer failed: %s (error %d)\n", e.msg, e.number);
            _exit(4);
        }
    }
    return NULL;
}

static void child(int cycle)
{
    hdb_err e;
    instance *in = open_instance(1, &e);
    if (!in) {
        fprintf(stderr, "crashtest child: recovery failed: %s (error %d)\n", e.msg, e.number);
        _exit(5);
    }
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/acks.%d", dir, cycle);
    int fd = open(path, O_WRONLY | O_CREAT | O_APPEND, 0644);
    pthread_t th[64];
    struct worker w[64];
    for (int i = 0; i < nthreads; i++) {
        w[i] = (struct worker){ .in = in, .id = i, .ack_fd = fd, .seed = (unsigned)(getpid() * 31 + i) };
        pthread_create(&th[i], NULL, worker_main, &w[i]);
    }
    for (;;)
        pause();
}

/* ---- the parent: verify ------------------------------------------------------ */

typedef struct idset {
    uint64_t *v;
    size_t n, cap;
} idset;

static void idset_add(idset *s, uint64_t id)
{
    if (s->n == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 1024;
        s->v = realloc(s->v, s->cap * sizeof *s->v);
    }
    s->v[s->n++] = id;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static int check_tree(table_def *td, const char *what)
{
    bt_stats st;
    hdb_err e;
    for (int i = 0; i < td->nidx; i++) {
        if (bt_check(&td->idx[i].bt, &st, &e) < 0) {
            fprintf(stderr, "crashtest: B+tree of %s is damaged: %s\n", what, e.msg);
            return 1;
        }
    }
    return 0;
}

/* Returns the number of invariant violations; adds history ids to `seen`. */
static long verify(instance *in, idset *seen, long *total_commits)
{
    long violations = 0;
    int64_t expected[NDBS][NACCOUNTS];
    int64_t actual[NDBS][NACCOUNTS];
    for (int d = 0; d < NDBS; d++)
        for (int i = 0; i < NACCOUNTS; i++)
            expected[d][i] = START_BALANCE, actual[d][i] = 0;
    hdb_err e;
    txn *t = txn_begin(in->txns, 0, "verify", "sa");
    for (int d = 0; d < NDBS; d++) {
        database *db = bank(in, d);
        if (!db || db->state != DB_ONLINE) {
            fprintf(stderr, "crashtest: database bank%d is not online after recovery\n", d + 1);
            violations++;
            continue;
        }
        table_def *h = cat_find_table(db, SCHEMA_DBO, "history", &e);
        table_def *a = cat_find_table(db, SCHEMA_DBO, "accounts", &e);
        if (!h || !a)
            die("catalog after recovery", &e);
        violations += check_tree(h, "history") + check_tree(a, "accounts");
        table_scan *s = table_scan_open(t, db, h, ISO_READ_COMMITTED, &e);
        table_row r;
        int k;
        while ((k = table_scan_next(s, &r, &e)) == 1) {
            idset_add(seen, (uint64_t)r.vals[0].u.i);
            int sdb = (int)r.vals[1].u.i, src = (int)r.vals[2].u.i;
            int ddb = (int)r.vals[3].u.i, dst = (int)r.vals[4].u.i;
            int64_t amount = r.vals[5].u.i;
            if (sdb != d || sdb < 0 || ddb < 0 || sdb >= NDBS || ddb >= NDBS || src < 0 || dst < 0 ||
                src >= NACCOUNTS || dst >= NACCOUNTS) {
                violations++;
                continue;
            }
            expected[sdb][src] -= amount;
            expected[ddb][dst] += amount;
            (*total_commits)++;
        }
        if (k < 0)
            die("scan history", &e);
        table_scan_close(s);
        s = table_scan_open(t, db, a, ISO_READ_COMMITTED, &e);
        int rows = 0;
        while ((k = table_scan_next(s, &r, &e)) == 1) {
            int id = (int)r.vals[0].u.i;
            if (id >= 0 && id < NACCOUNTS)
                actual[d][id] = r.vals[1].u.i;
            rows++;
        }
        if (k < 0)
            die("scan accounts", &e);
        table_scan_close(s);
        if (rows != NACCOUNTS) {
            fprintf(stderr, "crashtest: bank%d has %d accounts, expected %d\n", d + 1, rows, NACCOUNTS);
            violations++;
        }
    }
    txn_commit(t, &e);
    txn_free(t);
    int64_t total = 0;
    for (int d = 0; d < NDBS; d++) {
        for (int i = 0; i < NACCOUNTS; i++) {
            total += actual[d][i];
            if (actual[d][i] != expected[d][i]) {
                fprintf(stderr, "crashtest: bank%d account %d balance %lld, history says %lld\n", d + 1, i,
                        (long long)actual[d][i], (long long)expected[d][i]);
                violations++;
            }
        }
    }
    if (total != (int64_t)NDBS * NACCOUNTS * START_BALANCE) {
        fprintf(stderr, "crashtest: total balance %lld, expected %lld\n", (long long)total,
                (long long)NDBS * NACCOUNTS * START_BALANCE);
        violations++;
    }
    return violations;
}

static long count_lost(int cycles, idset *seen)
{
    qsort(seen->v, seen->n, sizeof *seen->v, cmp_u64);
    long lost = 0;
    for (int c = 0; c < cycles; c++) {
        char path[PATH_MAX];
        snprintf(path, sizeof path, "%s/acks.%d", dir, c);
        FILE *f = fopen(path, "r");
        if (!f)
            continue;
        unsigned long long id;
        while (fscanf(f, "%llu", &id) == 1)
            if (!bsearch(&(uint64_t){ id }, seen->v, seen->n, sizeof *seen->v, cmp_u64))
                lost++;
        fclose(f);
    }
    return lost;
}

int main(int argc, char **argv)
{
    int iterations = 5;
    unsigned seed = (unsigned)time(NULL);
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--iterations") && i + 1 < argc)
            iterations = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--dir") && i + 1 < argc)
            dir = argv[++i];
        else if (!strcmp(argv[i], "--threads") && i + 1 < argc)
            nthreads = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--seed") && i + 1 < argc)
            seed = (unsigned)strtoul(argv[++i], NULL, 10);
        else {
            fprintf(stderr, "usage: crashtest [--iterations N] [--dir DIR] [--threads T] [--seed S]\n");
            return 2;
        }
    }
    if (nthreads < 1 || nthreads > 64)
        nthreads = 4;
    srand(seed);
    printf("crashtest: seed %u, %d threads, %d cycles\n", seed, nthreads, iterations);
    fflush(stdout);
    setup();
    long lost = 0, violations = 0, commits = 0;
    idset seen = { 0 };
    for (int c = 0; c < iterations; c++) {
        pid_t pid = fork();
        if (pid < 0) {
            perror("fork");
            return 2;
        }
        if (pid == 0)
            child(c);
        /* mostly mid-workload; one cycle in five right into the child's recovery */
        int ms = (rand() % 5 == 0) ? rand() % 60 : 150 + rand() % 600;
        struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
        nanosleep(&ts, NULL);
        int status;
        if (waitpid(pid, &status, WNOHANG) == pid) {
            fprintf(stderr, "crashtest: child exited early (status %d)\n", WEXITSTATUS(status));
            violations++;
            break;
        }
        kill(pid, SIGKILL);
        waitpid(pid, &status, 0);
        hdb_err e;
        instance *in = open_instance(0, &e);
        if (!in) {
            fprintf(stderr, "crashtest: recovery after cycle %d failed: %s (error %d)\n", c, e.msg, e.number);
            violations++;
            break;
        }
        seen.n = 0;
        commits = 0;
        violations += verify(in, &seen, &commits);
        /* alternate: a clean shutdown, or leave it as a crash would */
        inst_close(in, c % 2);
        printf("crashtest: cycle %d: killed after %d ms, %ld transfers committed so far\n", c + 1, ms, commits);
        fflush(stdout);
    }
    lost = count_lost(iterations, &seen);
    free(seen.v);
    printf("crashtest: %d cycles, %ld lost commits, %ld invariant violations\n", iterations, lost, violations);
    return lost || violations ? 1 : 0;
}
