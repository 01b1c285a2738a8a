/* test_lock.c — lock manager: modes, conversions, waiting, timeouts, deadlocks,
 * victim choice, cancellation, and a multi-threaded stress run. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "txn/lock.h"

/* ---------------------------------------------------------------- helpers */

static int64_t ms_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(int ms)
{
    struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
    nanosleep(&ts, NULL);
}

static lock_res key_res(int k)
{
    char buf[16];
    int n = snprintf(buf, sizeof buf, "key%d", k);
    return lock_res_key(5, 77, buf, (size_t)n);
}

struct counts { int granted, waiting; };

static void count_cb(void *ctx, const lock_res *res, lock_mode mode, int granted,
                     const lock_owner *o)
{
    struct counts *c = ctx;
    if (granted)
        c->granted++;
    else
        c->waiting++;
}

static struct counts table_counts(lock_mgr *m)
{
    struct counts c = { 0, 0 };
    lock_mgr_foreach(m, count_cb, &c);
    return c;
}

/* Poll until exactly n requests wait (5 s bound). */
static void wait_for_waiters(lock_mgr *m, int n)
{
    int64_t end = ms_now() + 5000;
    while (table_counts(m).waiting != n) {
        if (ms_now() > end)
            fail_msg("expected %d waiting requests, have %d", n, table_counts(m).waiting);
        sleep_ms(1);
    }
}

/* One lock_acquire on a thread; on failure the "transaction" rolls back. */
struct job {
    lock_mgr *m;
    lock_owner *o;
    lock_res res;
    lock_mode mode;
    int timeout;
    int release_on_fail;
    int rc;
    hdb_err err;
    atomic_int done;
    pthread_t th;
};

static void *job_main(void *arg)
{
    struct job *j = arg;
    hdb_err_clear(&j->err);
    j->rc = lock_acquire(j->m, j->o, &j->res, j->mode, j->timeout, &j->err);
    if (j->rc && j->release_on_fail)
        lock_release_all(j->m, j->o);
    atomic_store(&j->done, 1);
    return NULL;
}

static void job_start_opt(struct job *j, lock_mgr *m, lock_owner *o, lock_res res,
                          lock_mode mode, int timeout, int release_on_fail)
{
    memset(j, 0, sizeof *j);
    j->m = m; j->o = o; j->res = res; j->mode = mode; j->timeout = timeout;
    j->release_on_fail = release_on_fail;
    atomic_init(&j->done, 0);
    assert_int_equal(pthread_create(&j->th, NULL, job_main, j), 0);
}

static void job_start(struct job *j, lock_mgr *m, lock_owner *o, lock_res res, lock_mode mode,
                      int timeout)
{
    job_start_opt(j, m, o, res, mode, timeout, 1);
}

static void job_join(struct job *j) { pthread_join(j->th, NULL); }

/* ------------------------------------------------------------ mode tables */

#define N_  LOCK_NONE
#define IS  LOCK_IS
#define IX  LOCK_IX
#define S   LOCK_S
#define SIX LOCK_SIX
#define U   LOCK_U
#define X   LOCK_X

/* SQL Server's compatibility matrix, written out independently of lock.c */
static const int expect_compat[7][7] = {
    /*         N  IS IX S  SIX U  X */
    /* N   */ { 1, 1, 1, 1, 1, 1, 1 },
    /* IS  */ { 1, 1, 1, 1, 1, 1, 0 },
    /* IX  */ { 1, 1, 1, 0, 0, 0, 0 },
    /* S   */ { 1, 1, 0, 1, 0, 1, 0 },
    /* SIX */ { 1, 1, 0, 0, 0, 0, 0 },
    /* U   */ { 1, 1, 0, 1, 0, 0, 0 },
    /* X   */ { 1, 0, 0, 0, 0, 0, 0 },
};

static void test_compat_matrix(void **state)
{
    for (int a = 0; a < 7; a++)
        for (int b = 0; b < 7; b++) {
            assert_int_equal(lock_mode_compatible(a, b), expect_compat[a][b]);
            assert_int_equal(lock_mode_compatible(a, b), lock_mode_compatible(b, a));
        }
    /* and the manager applies it: B's no-wait request against A's granted lock */
    lock_mgr *m = lock_mgr_create();
    assert_non_null(m);
    for (int a = IS; a <= X; a++)
        for (int b = IS; b <= X; b++) {
            lock_owner oa, ob;
            lock_owner_init(&oa, 1, 51);
            lock_owner_init(&ob, 2, 52);
            lock_res r = lock_res_table(1, 100);
            hdb_err e;
            hdb_err_clear(&e);
            assert_int_equal(lock_acquire(m, &oa, &r, a, 0, &e), 0);
            int rc = lock_acquire(m, &ob, &r, b, 0, &e);
            if (expect_compat[a][b]) {
                assert_int_equal(rc, 0);
                assert_int_equal(lock_held_mode(m, &ob, &r), b);
            } else {
                assert_int_equal(rc, -1);
                assert_int_equal(e.number, 1222);
                assert_int_equal(lock_held_mode(m, &ob, &r), LOCK_NONE);
            }
            lock_release_all(m, &oa);
            lock_release_all(m, &ob);
            lock_owner_destroy(&oa);
            lock_owner_destroy(&ob);
        }
    struct counts c = table_counts(m);
    assert_int_equal(c.granted + c.waiting, 0);
    lock_mgr_destroy(m);
}

/* compatible-with set of a mode, as a bit mask over IS..X */
static unsigned compat_set(int m)
{
    unsigned s = 0;
    for (int k = IS; k <= X; k++)
        if (expect_compat[m][k])
            s |= 1u << k;
    return s;
}

static void test_supremum(void **state)
{
    assert_int_equal(lock_mode_supremum(S, IX), SIX);
    assert_int_equal(lock_mode_supremum(IX, S), SIX);
    assert_int_equal(lock_mode_supremum(U, X), X);
    assert_int_equal(lock_mode_supremum(S, U), U);
    assert_int_equal(lock_mode_supremum(U, S), U);
    assert_int_equal(lock_mode_supremum(IS, S), S);
    assert_int_equal(lock_mode_supremum(IS, IX), IX);
    assert_int_equal(lock_mode_supremum(SIX, IX), SIX);
    assert_int_equal(lock_mode_supremum(N_, U), U);
    for (int a = N_; a <= X; a++)
        for (int b = N_; b <= X; b++) {
            int s = lock_mode_supremum(a, b);
            assert_int_equal(s, lock_mode_supremum(b, a));
            /* at least as strong as both ... */
            unsigned both = compat_set(a) & compat_set(b);
            assert_true((compat_set(s) & ~both) == 0);
            /* ... and the weakest such mode: any other candidate allows no more */
            for (int c = IS; c <= X; c++)
                if ((compat_set(c) & ~both) == 0)
                    assert_true((compat_set(c) & ~compat_set(s)) == 0);
            assert_int_equal(lock_mode_covers(s, a), 1);
            assert_int_equal(lock_mode_covers(s, b), 1);
        }
    assert_true(lock_mode_covers(X, S));
    assert_true(lock_mode_covers(U, S));
    assert_false(lock_mode_covers(S, U));
    assert_false(lock_mode_covers(IX, S));
    assert_string_equal(lock_mode_name(LOCK_SIX), "SIX");
    assert_string_equal(lock_mode_name(LOCK_NONE), "NULL");
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static void test_resources(void **state)
{
    lock_res a = lock_res_key(1, 2, "abc", 3), b = lock_res_key(1, 2, "abc", 3);
    lock_res c = lock_res_key(1, 2, "abd", 3), d = lock_res_key(1, 3, "abc", 3);
    assert_true(lock_res_equal(&a, &b));
    assert_false(lock_res_equal(&a, &c));
    assert_false(lock_res_equal(&a, &d));
    assert_int_equal(a.kind, LOCK_RES_KEY);
    assert_int_not_equal(a.hash, c.hash);
    lock_res t = lock_res_table(1, 2), md = lock_res_metadata(1, 2), db = lock_res_database(1);
    assert_int_equal(t.hash, 0);
    assert_false(lock_res_equal(&t, &md));
    assert_int_equal(db.kind, LOCK_RES_DATABASE);
    assert_string_equal(lock_res_kind_name(t.kind), "OBJECT");
    /* 20000 distinct small inputs (two lengths): no 64-bit collisions */
    uint64_t *h = malloc(20000 * sizeof *h);
    assert_non_null(h);
    for (int i = 0; i < 20000; i++) {
        uint32_t v = (uint32_t)(i % 10000);
        h[i] = lock_hash_bytes(&v, i < 10000 ? 4 : 3);   /* v < 2^24: 3 bytes differ too */
    }
    qsort(h, 20000, sizeof *h, cmp_u64);
    for (int i = 1; i < 20000; i++)
        assert_true(h[i] != h[i - 1]);
    free(h);
    assert_int_not_equal(lock_hash_bytes("", 0), lock_hash_bytes("\0", 1));

    /* different keys of one object do not conflict */
    lock_mgr *m = lock_mgr_create();
    lock_owner o1, o2;
    lock_owner_init(&o1, 1, 51);
    lock_owner_init(&o2, 2, 52);
    hdb_err e;
    assert_int_equal(lock_acquire(m, &o1, &a, LOCK_X, 0, &e), 0);
    assert_int_equal(lock_acquire(m, &o2, &c, LOCK_X, 0, &e), 0);
    assert_int_equal(lock_acquire(m, &o2, &b, LOCK_S, 0, &e), -1);
    lock_owner_destroy(&o1);          /* releases what it still holds */
    lock_owner_destroy(&o2);
    assert_int_equal(table_counts(m).granted, 0);
    lock_mgr_destroy(m);
}

static void test_reacquire_upgrade(void **state)
{
    lock_mgr *m = lock_mgr_create();
    lock_owner a, b;
    lock_owner_init(&a, 1, 51);
    lock_owner_init(&b, 2, 52);
    lock_res r = lock_res_table(1, 9);
    hdb_err e;
    hdb_err_clear(&e);

    assert_int_equal(lock_acquire(m, &a, &r, LOCK_S, 0, &e), 0);
    assert_int_equal(lock_acquire(m, &a, &r, LOCK_S, 0, &e), 0);
    assert_int_equal(lock_acquire(m, &a, &r, LOCK_IS, 0, &e), 0);
    assert_int_equal(lock_held_mode(m, &a, &r), LOCK_S);
    assert_int_equal(lock_owner_held_count(&a), 1);
    assert_int_equal(table_counts(m).granted, 1);

    assert_int_equal(lock_acquire(m, &a, &r, LOCK_IX, 0, &e), 0);   /* S + IX */
    assert_int_equal(lock_held_mode(m, &a, &r), LOCK_SIX);
    assert_int_equal(lock_acquire(m, &b, &r, LOCK_IS, 0, &e), 0);   /* IS fits SIX */
    assert_int_equal(lock_acquire(m, &a, &r, LOCK_X, 0, &e), -1);   /* B's IS blocks X */
    assert_int_equal(e.number, 1222);
    assert_int_equal(lock_held_mode(m, &a, &r), LOCK_SIX);          /* unchanged */
    assert_int_equal(table_counts(m).waiting, 0);
    assert_int_equal(lock_release(m, &b, &r), 0);
    assert_int_equal(lock_release(m, &b, &r), -1);
    assert_int_equal(lock_acquire(m, &a, &r, LOCK_X, 0, &e), 0);
    assert_int_equal(lock_held_mode(m, &a, &r), LOCK_X);
    assert_int_equal(lock_acquire(m, &a, &r, LOCK_U, 0, &e), 0);    /* covered */
    assert_int_equal(lock_held_mode(m, &a, &r), LOCK_X);
    assert_int_equal(lock_owner_held_count(&a), 1);

    /* S -> U -> X with another reader: U fits beside S, X does not */
    lock_res k = key_res(1);
    assert_int_equal(lock_acquire(m, &a, &k, LOCK_S, 0, &e), 0);
    assert_int_equal(lock_acquire(m, &b, &k, LOCK_S, 0, &e), 0);
    assert_int_equal(lock_acquire(m, &a, &k, LOCK_U, 0, &e), 0);
    assert_int_equal(lock_held_mode(m, &a, &k), LOCK_U);
    assert_int_equal(lock_acquire(m, &b, &k, LOCK_U, 0, &e), -1);   /* U vs U */
    assert_int_equal(lock_held_mode(m, &b, &k), LOCK_S);
    assert_int_equal(lock_acquire(m, &a, &k, LOCK_X, 0, &e), -1);
    lock_release_all(m, &b);
    assert_int_equal(lock_acquire(m, &a, &k, LOCK_X, 0, &e), 0);
    assert_int_equal(lock_owner_held_count(&a), 2);
    lock_release_all(m, &a);
    assert_int_equal(lock_owner_held_count(&a), 0);
    assert_int_equal(lock_held_mode(m, &a, &k), LOCK_NONE);
    assert_int_equal(table_counts(m).granted, 0);
    lock_owner_destroy(&a);
    lock_owner_destroy(&b);
    lock_mgr_destroy(m);
}

/* A crowded head (a table lock every session holds) and an owner with many
 * locks: a request finds its owner's grant whichever list is shorter. */
#define CROWD 8
#define KEYS 20

static void test_crowded_head(void **state)
{
    lock_mgr *m = lock_mgr_create();
    lock_owner o[CROWD];
    lock_res t = lock_res_table(1, 42);
    hdb_err e;
    hdb_err_clear(&e);
    for (int i = 0; i < CROWD; i++) {
        lock_owner_init(&o[i], (uint64_t)i + 1, 51 + i);
        assert_int_equal(lock_acquire(m, &o[i], &t, LOCK_IX, 0, &e), 0);
    }
    for (int k = 0; k < KEYS; k++) {   /* owner 0 holds more than the table has grants */
        lock_res kr = key_res(k);
        assert_int_equal(lock_acquire(m, &o[0], &kr, LOCK_S, 0, &e), 0);
    }
    assert_int_equal(lock_owner_held_count(&o[0]), KEYS + 1);
    for (int i = 0; i < CROWD; i++) {   /* again: found, nothing added */
        assert_int_equal(lock_acquire(m, &o[i], &t, LOCK_IX, 0, &e), 0);
        assert_int_equal(lock_acquire(m, &o[i], &t, LOCK_IS, 0, &e), 0);
        assert_int_equal(lock_held_mode(m, &o[i], &t), LOCK_IX);
    }
    assert_int_equal(lock_owner_held_count(&o[0]), KEYS + 1);
    assert_int_equal(lock_owner_held_count(&o[3]), 1);
    assert_int_equal(table_counts(m).granted, CROWD + KEYS);
    lock_res k7 = key_res(7);
    assert_int_equal(lock_held_mode(m, &o[0], &k7), LOCK_S);
    assert_int_equal(lock_held_mode(m, &o[3], &k7), LOCK_NONE);
    /* a conversion the others block leaves the grant as it was */
    assert_int_equal(lock_acquire(m, &o[5], &t, LOCK_X, 0, &e), -1);
    assert_int_equal(e.number, 1222);
    assert_int_equal(lock_held_mode(m, &o[5], &t), LOCK_IX);
    assert_int_equal(lock_acquire(m, &o[0], &t, LOCK_SIX, 0, &e), -1);
    assert_int_equal(lock_held_mode(m, &o[0], &t), LOCK_IX);
    assert_int_equal(lock_release(m, &o[6], &t), 0);
    assert_int_equal(lock_release(m, &o[6], &t), -1);
    assert_int_equal(lock_held_mode(m, &o[6], &t), LOCK_NONE);
    assert_int_equal(table_counts(m).granted, CROWD - 1 + KEYS);
    for (int i = 0; i < CROWD; i++) {
        lock_release_all(m, &o[i]);
        lock_owner_destroy(&o[i]);
    }
    assert_int_equal(table_counts(m).granted, 0);
    lock_mgr_destroy(m);
}

static void test_shared(void **state)
{
    lock_mgr *m = lock_mgr_create();
    lock_owner o[3];
    for (int i = 0; i < 3; i++)
        lock_owner_init(&o[i], (uint64_t)i + 1, 51 + i);
    lock_res r = key_res(2);
    hdb_err e;
    assert_int_equal(lock_acquire(m, &o[0], &r, LOCK_S, 0, &e), 0);
    assert_int_equal(lock_acquire(m, &o[1], &r, LOCK_S, 0, &e), 0);
    assert_int_equal(lock_acquire(m, &o[2], &r, LOCK_X, 0, &e), -1);
    assert_int_equal(e.number, 1222);
    assert_int_equal(e.severity, 16);
    struct counts c = table_counts(m);
    assert_int_equal(c.granted, 2);
    assert_int_equal(c.waiting, 0);
    for (int i = 0; i < 3; i++)
        lock_owner_destroy(&o[i]);
    lock_mgr_destroy(m);
}

static void test_x_blocks_s(void **state)
{
    lock_mgr *m = lock_mgr_create();
    lock_owner a, b;
    lock_owner_init(&a, 1, 51);
    lock_owner_init(&b, 2, 52);
    lock_res r = key_res(3);
    hdb_err e;
    assert_int_equal(lock_acquire(m, &a, &r, LOCK_X, -1, &e), 0);
    struct job j;
    job_start(&j, m, &b, r, LOCK_S, LOCK_WAIT_FOREVER);
    wait_for_waiters(m, 1);
    sleep_ms(50);
    assert_int_equal(atomic_load(&j.done), 0);
    assert_int_equal(lock_release(m, &a, &r), 0);
    job_join(&j);
    assert_int_equal(j.rc, 0);
    assert_int_equal(lock_held_mode(m, &b, &r), LOCK_S);
    lock_release_all(m, &b);
    lock_owner_destroy(&a);
    lock_owner_destroy(&b);
    assert_int_equal(table_counts(m).granted, 0);
    lock_mgr_destroy(m);
}

static void test_timeouts(void **state)
{
    lock_mgr *m = lock_mgr_create();
    lock_owner a, b;
    lock_owner_init(&a, 1, 51);
    lock_owner_init(&b, 2, 52);
    lock_res r = key_res(4);
    hdb_err e;
    assert_int_equal(lock_acquire(m, &a, &r, LOCK_X, -1, &e), 0);

    hdb_err_clear(&e);
    int64_t t0 = ms_now();
    assert_int_equal(lock_acquire(m, &b, &r, LOCK_S, LOCK_NOWAIT, &e), -1);
    assert_int_equal(e.number, 1222);
    assert_string_equal(e.msg, "Lock request time out period exceeded.");
    assert_true(ms_now() - t0 < 1000);   /* never waits */

    hdb_err_clear(&e);
    t0 = ms_now();
    assert_int_equal(lock_acquire(m, &b, &r, LOCK_S, 150, &e), -1);
    int64_t el = ms_now() - t0;
    assert_int_equal(e.number, 1222);
    assert_true(el >= 145);
    assert_true(el < 3000);
    struct counts c = table_counts(m);
    assert_int_equal(c.granted, 1);
    assert_int_equal(c.waiting, 0);
    assert_int_equal(lock_owner_held_count(&b), 0);

    /* conversion timing out keeps the granted mode */
    lock_res k = key_res(5);
    assert_int_equal(lock_acquire(m, &a, &k, LOCK_S, 0, &e), 0);
    assert_int_equal(lock_acquire(m, &b, &k, LOCK_S, 0, &e), 0);
    assert_int_equal(lock_acquire(m, &b, &k, LOCK_X, 60, &e), -1);
    assert_int_equal(e.number, 1222);
    assert_int_equal(lock_held_mode(m, &b, &k), LOCK_S);
    assert_int_equal(table_counts(m).waiting, 0);
    lock_release_all(m, &a);
    assert_int_equal(lock_acquire(m, &b, &k, LOCK_X, 60, &e), 0);

    /* a timed wait that is granted in time succeeds */
    assert_int_equal(lock_acquire(m, &a, &r, LOCK_X, 0, &e), 0);
    struct job j;
    job_start(&j, m, &b, r, LOCK_S, 5000);
    wait_for_waiters(m, 1);
    lock_release_all(m, &a);
    job_join(&j);
    assert_int_equal(j.rc, 0);
    lock_release_all(m, &b);
    assert_int_equal(table_counts(m).granted, 0);
    lock_owner_destroy(&a);
    lock_owner_destroy(&b);
    lock_mgr_destroy(m);
}

static void test_fifo_and_conversions(void **state)
{
    lock_mgr *m = lock_mgr_create();
    lock_owner a, b, c;
    lock_owner_init(&a, 1, 51);
    lock_owner_init(&b, 2, 52);
    lock_owner_init(&c, 3, 53);
    lock_res r = key_res(6);
    hdb_err e;

    /* a waiting X keeps later S/IS requests out, though they fit the holders */
    assert_int_equal(lock_acquire(m, &a, &r, LOCK_S, 0, &e), 0);
    struct job jb;
    job_start(&jb, m, &b, r, LOCK_X, -1);
    wait_for_waiters(m, 1);
    assert_int_equal(lock_acquire(m, &c, &r, LOCK_S, 0, &e), -1);
    assert_int_equal(lock_acquire(m, &c, &r, LOCK_IS, 0, &e), -1);
    /* ... but the holder's own conversion goes ahead of the waiter */
    assert_int_equal(lock_acquire(m, &a, &r, LOCK_U, 0, &e), 0);
    lock_release_all(m, &a);
    job_join(&jb);
    assert_int_equal(jb.rc, 0);
    lock_release_all(m, &b);

    /* a waiting conversion is granted before an earlier-queued new request */
    assert_int_equal(lock_acquire(m, &a, &r, LOCK_S, 0, &e), 0);
    assert_int_equal(lock_acquire(m, &b, &r, LOCK_S, 0, &e), 0);
    struct job jc, ja;
    job_start(&jc, m, &c, r, LOCK_X, -1);
    wait_for_waiters(m, 1);
    job_start(&ja, m, &a, r, LOCK_X, -1);      /* S -> X, blocked by B's S */
    wait_for_waiters(m, 2);
    lock_release_all(m, &b);
    job_join(&ja);
    assert_int_equal(ja.rc, 0);
    assert_int_equal(lock_held_mode(m, &a, &r), LOCK_X);
    sleep_ms(20);
    assert_int_equal(atomic_load(&jc.done), 0);
    lock_release_all(m, &a);
    job_join(&jc);
    assert_int_equal(jc.rc, 0);
    lock_release_all(m, &c);
    assert_int_equal(table_counts(m).granted, 0);
    lock_owner_destroy(&a);
    lock_owner_destroy(&b);
    lock_owner_destroy(&c);
    lock_mgr_destroy(m);
}

static void test_deadlock_two(void **state)
{
    lock_mgr *m = lock_mgr_create();
    lock_owner a, b;
    lock_owner_init(&a, 1, 51);
    lock_owner_init(&b, 2, 52);
    lock_res k1 = key_res(11), k2 = key_res(12);
    hdb_err e;
    assert_int_equal(lock_acquire(m, &a, &k1, LOCK_X, -1, &e), 0);
    assert_int_equal(lock_acquire(m, &b, &k2, LOCK_X, -1, &e), 0);

    int64_t t0 = ms_now();
    struct job ja;
    job_start(&ja, m, &a, k2, LOCK_X, -1);
    wait_for_waiters(m, 1);
    /* B closes the cycle from this thread; on 1205 it rolls back here */
    hdb_err_clear(&e);
    int rc = lock_acquire(m, &b, &k1, LOCK_X, -1, &e);
    int64_t tb = ms_now();
    if (rc) {
        assert_int_equal(e.number, 1205);
        assert_int_equal(e.severity, 13);
        assert_non_null(strstr(e.msg, "Process ID 52"));
        lock_release_all(m, &b);
    }
    job_join(&ja);
    assert_int_equal((rc != 0) + (ja.rc != 0), 1);      /* exactly one victim */
    if (ja.rc) {
        assert_int_equal(ja.err.number, 1205);
        assert_non_null(strstr(ja.err.msg, "Process ID 51"));
        /* equal priority and cost: the requester (B) must be the victim, unless
         * A's periodic re-check (>= 100 ms after it began waiting) got there first */
        assert_true(tb - t0 >= 100);
    } else {
        assert_int_equal(lock_held_mode(m, &a, &k2), LOCK_X);
    }
    lock_release_all(m, &a);
    lock_release_all(m, &b);
    struct counts c = table_counts(m);
    assert_int_equal(c.granted + c.waiting, 0);
    lock_owner_destroy(&a);
    lock_owner_destroy(&b);
    lock_mgr_destroy(m);
}

static void test_deadlock_three(void **state)
{
    lock_mgr *m = lock_mgr_create();
    lock_owner o[3];
    lock_res k[3];
    hdb_err e;
    for (int i = 0; i < 3; i++) {
        lock_owner_init(&o[i], (uint64_t)i + 1, 51 + i);
        k[i] = key_res(20 + i);
        assert_int_equal(lock_acquire(m, &o[i], &k[i], LOCK_X, -1, &e), 0);
    }
    struct job j[3];
    for (int i = 0; i < 3; i++) {
        job_start(&j[i], m, &o[i], k[(i + 1) % 3], LOCK_U, -1);
        if (i < 2)
            wait_for_waiters(m, i + 1);
    }
    /* survivors finish one after another once the victim rolled back: commit
     * each as it finishes, which lets the next one in */
    int victims = 0, joined[3] = { 0 }, left = 3;
    int64_t end = ms_now() + 10000;
    while (left) {
        assert_true(ms_now() < end);
        for (int i = 0; i < 3; i++) {
            if (joined[i] || !atomic_load(&j[i].done))
                continue;
            job_join(&j[i]);
            joined[i] = 1;
            left--;
            if (j[i].rc) {
                victims++;
                assert_int_equal(j[i].err.number, 1205);
            } else {
                assert_int_equal(lock_held_mode(m, &o[i], &k[(i + 1) % 3]), LOCK_U);
            }
            lock_release_all(m, &o[i]);
        }
        sleep_ms(1);
    }
    assert_int_equal(victims, 1);
    assert_int_equal(table_counts(m).granted, 0);
    for (int i = 0; i < 3; i++)
        lock_owner_destroy(&o[i]);
    lock_mgr_destroy(m);
}

static void test_upgrade_deadlock(void **state)
{
    lock_mgr *m = lock_mgr_create();
    lock_owner a, b;
    lock_owner_init(&a, 1, 51);
    lock_owner_init(&b, 2, 52);
    lock_res r = key_res(30);
    hdb_err e;
    assert_int_equal(lock_acquire(m, &a, &r, LOCK_S, -1, &e), 0);
    assert_int_equal(lock_acquire(m, &b, &r, LOCK_S, -1, &e), 0);
    struct job ja, jb;
    job_start(&ja, m, &a, r, LOCK_X, -1);
    wait_for_waiters(m, 1);
    job_start(&jb, m, &b, r, LOCK_X, -1);
    job_join(&jb);
    job_join(&ja);
    assert_int_equal((ja.rc != 0) + (jb.rc != 0), 1);
    struct job *win = ja.rc ? &jb : &ja, *lose = ja.rc ? &ja : &jb;
    assert_int_equal(lose->err.number, 1205);
    assert_int_equal(lock_held_mode(m, win->o, &r), LOCK_X);
    assert_int_equal(lock_held_mode(m, lose->o, &r), LOCK_NONE);   /* rolled back */
    lock_release_all(m, win->o);
    assert_int_equal(table_counts(m).granted, 0);
    lock_owner_destroy(&a);
    lock_owner_destroy(&b);
    lock_mgr_destroy(m);
}

/* A waits first, B closes the cycle; returns 1 if A was the victim. */
static int deadlock_victim_is_a(int prio_a, uint64_t log_a, int prio_b, uint64_t log_b)
{
    lock_mgr *m = lock_mgr_create();
    lock_owner a, b;
    lock_owner_init(&a, 1, 51);
    lock_owner_init(&b, 2, 52);
    lock_owner_set_deadlock_priority(&a, prio_a);
    lock_owner_set_deadlock_priority(&b, prio_b);
    lock_owner_set_log_used(&a, log_a);
    lock_owner_add_log_used(&b, log_b);
    assert_int_equal(lock_owner_deadlock_priority(&a), prio_a);
    assert_int_equal(lock_owner_log_used(&b), log_b);
    lock_res k1 = key_res(41), k2 = key_res(42);
    hdb_err e;
    assert_int_equal(lock_acquire(m, &a, &k1, LOCK_X, -1, &e), 0);
    assert_int_equal(lock_acquire(m, &b, &k2, LOCK_S, -1, &e), 0);
    struct job ja, jb;
    job_start(&ja, m, &a, k2, LOCK_X, -1);
    wait_for_waiters(m, 1);
    job_start(&jb, m, &b, k1, LOCK_S, -1);
    job_join(&ja);
    job_join(&jb);
    assert_int_equal((ja.rc != 0) + (jb.rc != 0), 1);
    assert_int_equal((ja.rc ? ja.err : jb.err).number, 1205);
    int a_victim = ja.rc != 0;
    lock_release_all(m, &a);
    lock_release_all(m, &b);
    lock_owner_destroy(&a);
    lock_owner_destroy(&b);
    lock_mgr_destroy(m);
    return a_victim;
}

static void test_victim_choice(void **state)
{
    /* lowest priority loses, whoever asked */
    assert_true(deadlock_victim_is_a(LOCK_PRIORITY_LOW, 0, LOCK_PRIORITY_NORMAL, 0));
    assert_false(deadlock_victim_is_a(LOCK_PRIORITY_HIGH, 0, LOCK_PRIORITY_NORMAL, 0));
    /* priority beats cost */
    assert_true(deadlock_victim_is_a(-1, 1, 0, 1000000));
    /* same priority: the cheaper rollback loses */
    assert_true(deadlock_victim_is_a(0, 10, 0, 1000));
    assert_false(deadlock_victim_is_a(0, 1000, 0, 10));
}

static void test_release_all_wakes(void **state)
{
    lock_mgr *m = lock_mgr_create();
    lock_owner a, b, c;
    lock_owner_init(&a, 1, 51);
    lock_owner_init(&b, 2, 52);
    lock_owner_init(&c, 3, 53);
    lock_res t = lock_res_table(1, 5), k1 = key_res(51), k2 = key_res(52);
    hdb_err e;
    assert_int_equal(lock_acquire(m, &a, &t, LOCK_IX, -1, &e), 0);
    assert_int_equal(lock_acquire(m, &a, &k1, LOCK_X, -1, &e), 0);
    assert_int_equal(lock_acquire(m, &a, &k2, LOCK_X, -1, &e), 0);
    assert_int_equal(lock_owner_held_count(&a), 3);
    struct job jb, jc;
    job_start(&jb, m, &b, k1, LOCK_S, -1);
    job_start(&jc, m, &c, k2, LOCK_X, -1);
    wait_for_waiters(m, 2);
    lock_release_all(m, &a);
    assert_int_equal(lock_owner_held_count(&a), 0);
    job_join(&jb);
    job_join(&jc);
    assert_int_equal(jb.rc, 0);
    assert_int_equal(jc.rc, 0);
    assert_int_equal(lock_held_mode(m, &b, &k1), LOCK_S);
    assert_int_equal(lock_held_mode(m, &c, &k2), LOCK_X);
    lock_release_all(m, &b);
    lock_release_all(m, &c);
    assert_int_equal(table_counts(m).granted, 0);
    lock_owner_destroy(&a);
    lock_owner_destroy(&b);
    lock_owner_destroy(&c);
    lock_mgr_destroy(m);
}

/* Early lock release: only locks someone waits for are handed over, and
 * every waiter of them records the commit it now depends on. */
static void test_hand_over(void **state)
{
    lock_mgr *m = lock_mgr_create();
    lock_owner a, b, c, d;
    lock_owner_init(&a, 1, 51);
    lock_owner_init(&b, 2, 52);
    lock_owner_init(&c, 3, 53);
    lock_owner_init(&d, 4, 54);
    int log1, log2;   /* two logs: only their addresses matter here */
    lock_res t = lock_res_table(1, 5), k1 = key_res(61), k2 = key_res(62), k3 = key_res(63);
    hdb_err e;
    assert_int_equal(lock_acquire(m, &a, &t, LOCK_IX, -1, &e), 0);
    assert_int_equal(lock_acquire(m, &a, &k1, LOCK_X, -1, &e), 0);
    assert_int_equal(lock_acquire(m, &a, &k2, LOCK_X, -1, &e), 0);
    assert_int_equal(lock_acquire(m, &a, &k3, LOCK_X, -1, &e), 0);
    /* b and c wait on k1 for X (c behind b), d on k2; nobody waits on k3 or t */
    struct job jb, jc, jd;
    job_start(&jb, m, &b, k1, LOCK_X, -1);
    wait_for_waiters(m, 1);
    job_start(&jc, m, &c, k1, LOCK_X, -1);
    job_start(&jd, m, &d, k2, LOCK_X, -1);
    wait_for_waiters(m, 3);
    d.deps[0] = (lock_dep){ &log2, 7 };    /* d already depends on another log */
    d.ndeps = 1;
    assert_int_equal(lock_hand_over(m, &a, &log1, 1000), 2);
    job_join(&jb);
    job_join(&jd);
    assert_int_equal(jb.rc, 0);
    assert_int_equal(jd.rc, 0);
    /* a keeps what nobody waited for */
    assert_int_equal(lock_owner_held_count(&a), 2);
    assert_int_equal(lock_held_mode(m, &a, &k3), LOCK_X);
    assert_int_equal(lock_held_mode(m, &a, &t), LOCK_IX);
    assert_int_equal(lock_held_mode(m, &a, &k1), LOCK_NONE);
    /* b got k1 and depends on (log1, 1000); c, still waiting behind b, too */
    assert_int_equal(b.ndeps, 1);
    assert_ptr_equal(b.deps[0].log, &log1);
    assert_int_equal(b.deps[0].lsn, 1000);
    assert_int_equal(c.ndeps, 1);
    assert_int_equal(c.deps[0].lsn, 1000);
    assert_int_equal(d.ndeps, 2);
    assert_ptr_equal(d.deps[1].log, &log1);
    /* b hands k1 on at a later commit in the same log: c keeps one entry,
     * with the higher LSN */
    assert_int_equal(lock_hand_over(m, &b, &log1, 2000), 1);
    job_join(&jc);
    assert_int_equal(jc.rc, 0);
    assert_int_equal(c.ndeps, 1);
    assert_int_equal(c.deps[0].lsn, 2000);
    /* a shared waiter: it would release the lock after its statement and let
     * the change out unstamped, so the lock stays until after the flush */
    lock_owner e2;
    lock_owner_init(&e2, 5, 55);
    struct job je;
    job_start(&je, m, &e2, k3, LOCK_S, -1);
    wait_for_waiters(m, 1);
    assert_int_equal(lock_hand_over(m, &a, &log1, 2500), 0);
    assert_int_equal(lock_held_mode(m, &a, &k3), LOCK_X);
    assert_int_equal(e2.ndeps, 0);
    /* a waiter with no room for another log's dependency: the lock stays */
    struct job jb2;
    job_start(&jb2, m, &b, k3, LOCK_X, -1);
    wait_for_waiters(m, 2);
    b.ndeps = LOCK_DEPS;
    for (int i = 0; i < LOCK_DEPS; i++)
        b.deps[i] = (lock_dep){ &b.deps[i], 1 };
    assert_int_equal(lock_hand_over(m, &a, &log1, 3000), 0);
    assert_int_equal(lock_held_mode(m, &a, &k3), LOCK_X);
    lock_release_all(m, &a);               /* after the flush, as usual */
    job_join(&je);
    assert_int_equal(je.rc, 0);
    lock_release_all(m, &e2);
    job_join(&jb2);
    assert_int_equal(jb2.rc, 0);
    lock_release_all(m, &b);
    lock_release_all(m, &c);
    lock_release_all(m, &d);
    assert_int_equal(table_counts(m).granted, 0);
    lock_owner_destroy(&a);
    lock_owner_destroy(&b);
    lock_owner_destroy(&c);
    lock_owner_destroy(&d);
    lock_owner_destroy(&e2);
    lock_mgr_destroy(m);
}

static void test_cancel_wait(void **state)
{
    lock_mgr *m = lock_mgr_create();
    lock_owner a, b;
    lock_owner_init(&a, 1, 51);
    lock_owner_init(&b, 2, 52);
    lock_res r = key_res(60);
    hdb_err e;
    lock_cancel_wait(m, &b);                       /* not waiting: no effect */
    assert_int_equal(lock_acquire(m, &a, &r, LOCK_X, -1, &e), 0);
    struct job j;
    job_start(&j, m, &b, r, LOCK_S, -1);
    wait_for_waiters(m, 1);
    lock_cancel_wait(m, &b);
    job_join(&j);
    assert_int_equal(j.rc, -1);
    assert_int_equal(j.err.number, 3980);
    assert_int_equal(j.err.severity, 16);
    assert_int_equal(table_counts(m).waiting, 0);
    /* a cancelled conversion keeps the held mode */
    lock_release_all(m, &a);
    assert_int_equal(lock_acquire(m, &a, &r, LOCK_S, -1, &e), 0);
    assert_int_equal(lock_acquire(m, &b, &r, LOCK_S, -1, &e), 0);
    job_start_opt(&j, m, &b, r, LOCK_X, -1, 0);
    wait_for_waiters(m, 1);
    lock_cancel_wait(m, &b);
    job_join(&j);
    assert_int_equal(j.err.number, 3980);
    assert_int_equal(lock_held_mode(m, &b, &r), LOCK_S);
    lock_release_all(m, &a);
    lock_release_all(m, &b);
    assert_int_equal(table_counts(m).granted, 0);
    lock_owner_destroy(&a);
    lock_owner_destroy(&b);
    lock_mgr_destroy(m);
}

/* ----------------------------------------------------------------- stress */

#ifndef ST_THREADS
#define ST_THREADS 8
#endif
#ifndef ST_OPS
#define ST_OPS     2000
#endif
#ifndef ST_KEYS
#define ST_KEYS    4
#endif

static atomic_int st_bad, st_done_threads, st_victims, st_timeouts, st_grants;

struct st_check { lock_res res; int n; lock_mode mode[64]; const lock_owner *own[64]; };

/* Rows of one resource arrive together: check each group's granted modes are
 * pairwise compatible and one per owner. */
static void st_flush(struct st_check *c)
{
    for (int i = 0; i < c->n; i++)
        for (int j = i + 1; j < c->n; j++)
            if (c->own[i] == c->own[j] || !lock_mode_compatible(c->mode[i], c->mode[j])) {
                fprintf(stderr, "stress: conflicting grants %s/%s\n",
                        lock_mode_name(c->mode[i]), lock_mode_name(c->mode[j]));
                atomic_fetch_add(&st_bad, 1);
            }
    c->n = 0;
}

static void st_row(void *ctx, const lock_res *res, lock_mode mode, int granted, const lock_owner *o)
{
    struct st_check *c = ctx;
    if (c->n && !lock_res_equal(&c->res, res))
        st_flush(c);
    c->res = *res;
    if (granted && c->n < 64) {
        c->mode[c->n] = mode;
        c->own[c->n++] = o;
    }
}

static void *st_checker(void *arg)
{
    lock_mgr *m = arg;
    struct st_check c;
    while (atomic_load(&st_done_threads) < ST_THREADS) {
        c.n = 0;
        lock_mgr_foreach(m, st_row, &c);
        st_flush(&c);
        sleep_ms(1);
    }
    return NULL;
}

struct st_arg { lock_mgr *m; int id; };

static void *st_worker(void *arg)
{
    struct st_arg *sa = arg;
    lock_mgr *m = sa->m;
    uint64_t rng = 0x9E3779B97F4A7C15ULL * (uint64_t)(sa->id + 1);
    uint64_t txn = (uint64_t)sa->id << 32;
    lock_owner o;
    lock_owner_init(&o, ++txn, 100 + sa->id);
    static const lock_mode modes[] = { LOCK_S, LOCK_S, LOCK_U, LOCK_X, LOCK_X, LOCK_IS, LOCK_IX, LOCK_SIX };
    lock_res table = lock_res_table(3, 3);
    for (int op = 0; op < ST_OPS; op++) {
        rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17;
        unsigned r = (unsigned)(rng >> 32);
        lock_res k = key_res((int)(r % ST_KEYS));
        unsigned pick = (r >> 8) % 100;
        if (pick < 60) {
            lock_mode mode = modes[(r >> 16) % 8];
            unsigned t = (r >> 20) % 10;
            int timeout = t < 7 ? -1 : t < 9 ? (int)((r >> 24) % 20) : 0;
            lock_mode intent = (mode == LOCK_S || mode == LOCK_IS) ? LOCK_IS : LOCK_IX;
            if (pick < 2)
                intent = pick ? LOCK_X : LOCK_S;   /* now and then a whole-table lock */
            hdb_err e;
            hdb_err_clear(&e);
            int rc = lock_acquire(m, &o, &table, intent, timeout, &e);
            if (!rc)
                rc = lock_acquire(m, &o, &k, mode, timeout, &e);
            if (!rc) {
                atomic_fetch_add(&st_grants, 1);
                lock_owner_add_log_used(&o, 100);
                if (!lock_mode_covers(lock_held_mode(m, &o, &k), mode))
                    atomic_fetch_add(&st_bad, 1);
            } else if (e.number == 1205) {
                atomic_fetch_add(&st_victims, 1);
                lock_owner_destroy(&o);            /* roll back */
                lock_owner_init(&o, ++txn, 100 + sa->id);
                lock_owner_set_deadlock_priority(&o, (int)(r % 3) - 1);
            } else if (e.number == 1222) {
                atomic_fetch_add(&st_timeouts, 1);
            } else {
                atomic_fetch_add(&st_bad, 1);
            }
        } else if (pick < 80) {
            lock_release(m, &o, &k);               /* may not hold it: fine */
        } else {
            lock_release_all(m, &o);               /* commit */
            if (lock_owner_held_count(&o) != 0)
                atomic_fetch_add(&st_bad, 1);
            lock_owner_destroy(&o);
            lock_owner_init(&o, ++txn, 100 + sa->id);
        }
    }
    lock_owner_destroy(&o);
    atomic_fetch_add(&st_done_threads, 1);
    return NULL;
}

static void st_dump(void *ctx, const lock_res *res, lock_mode mode, int granted, const lock_owner *o)
{
    fprintf(stderr, "  %s %llx %s %s session %d\n", lock_res_kind_name(res->kind),
            (unsigned long long)res->hash, lock_mode_name(mode), granted ? "GRANT" : "WAIT",
            lock_owner_session_id(o));
}

static void test_stress(void **state)
{
    lock_mgr *m = lock_mgr_create();
    atomic_store(&st_bad, 0);
    atomic_store(&st_done_threads, 0);
    atomic_store(&st_victims, 0);
    atomic_store(&st_timeouts, 0);
    atomic_store(&st_grants, 0);
    pthread_t th[ST_THREADS], chk;
    struct st_arg args[ST_THREADS];
    int64_t t0 = ms_now();
    for (int i = 0; i < ST_THREADS; i++) {
        args[i].m = m;
        args[i].id = i;
        assert_int_equal(pthread_create(&th[i], NULL, st_worker, &args[i]), 0);
    }
    assert_int_equal(pthread_create(&chk, NULL, st_checker, m), 0);
    /* an unresolved deadlock shows up as a hang: bound it */
    while (atomic_load(&st_done_threads) < ST_THREADS) {
        if (ms_now() - t0 > 120000) {
            fprintf(stderr, "stress: no progress after 120 s; lock table:\n");
            lock_mgr_foreach(m, st_dump, NULL);
            abort();
        }
        sleep_ms(10);
    }
    for (int i = 0; i < ST_THREADS; i++)
        pthread_join(th[i], NULL);
    pthread_join(chk, NULL);
    fprintf(stderr, "stress: %d grants, %d deadlock victims, %d timeouts in %lld ms\n",
            atomic_load(&st_grants), atomic_load(&st_victims), atomic_load(&st_timeouts),
            (long long)(ms_now() - t0));
    assert_int_equal(atomic_load(&st_bad), 0);
    assert_true(atomic_load(&st_grants) > 0);
    struct counts c = table_counts(m);
    assert_int_equal(c.granted, 0);
    assert_int_equal(c.waiting, 0);
    lock_mgr_destroy(m);
}

/* ------------------------------------------------------------ key ranges */

/* Each mode as (range part, key part): range N/S/I/X, key part an index into
 * the classic modes N..X. Written out here independently of lock.c. */
enum { RN, RS, RI, RX };
static const int range_part[LOCK_MODE_COUNT] = { RN, RN, RN, RN, RN, RN, RN, RS, RS, RI, RI, RI, RI, RX, RX, RX, RX };
static const int key_part[LOCK_MODE_COUNT] = { N_, IS, IX, S, SIX, U, X, S, U, N_, S, U, X, N_, S, U, X };

static int range_compat(int a, int b)
{
    if (a == RN || b == RN)
        return 1;
    return (a == RS && b == RS) || (a == RI && b == RI);
}

static int expect_mode_compat(int a, int b)
{
    return range_compat(range_part[a], range_part[b]) && expect_compat[key_part[a]][key_part[b]];
}

static void test_range_modes(void **state)
{
    /* SQL Server's key-range matrix, spot checks */
    assert_true(lock_mode_compatible(LOCK_RANGE_S_S, LOCK_RANGE_S_S));
    assert_true(lock_mode_compatible(LOCK_RANGE_S_S, LOCK_RANGE_S_U));
    assert_false(lock_mode_compatible(LOCK_RANGE_S_U, LOCK_RANGE_S_U));
    assert_false(lock_mode_compatible(LOCK_RANGE_S_S, LOCK_RANGE_I_N));
    assert_true(lock_mode_compatible(LOCK_RANGE_I_N, LOCK_RANGE_I_N));
    assert_true(lock_mode_compatible(LOCK_X, LOCK_RANGE_I_N));
    assert_true(lock_mode_compatible(LOCK_S, LOCK_RANGE_S_S));
    assert_false(lock_mode_compatible(LOCK_X, LOCK_RANGE_S_S));
    assert_false(lock_mode_compatible(LOCK_RANGE_I_N, LOCK_RANGE_X_X));
    /* RangeX-N (a delete's next key): every range mode conflicts, row locks do not */
    assert_false(lock_mode_compatible(LOCK_RANGE_X_N, LOCK_RANGE_X_N));
    assert_false(lock_mode_compatible(LOCK_RANGE_X_N, LOCK_RANGE_I_N));
    assert_false(lock_mode_compatible(LOCK_RANGE_X_N, LOCK_RANGE_S_S));
    assert_false(lock_mode_compatible(LOCK_RANGE_X_N, LOCK_RANGE_I_X));
    assert_true(lock_mode_compatible(LOCK_RANGE_X_N, LOCK_X));
    assert_true(lock_mode_compatible(LOCK_RANGE_X_N, LOCK_S));
    assert_int_equal(lock_mode_supremum(LOCK_RANGE_X_N, LOCK_X), LOCK_RANGE_X_X);
    assert_int_equal(lock_mode_supremum(LOCK_RANGE_I_N, LOCK_RANGE_X_N), LOCK_RANGE_X_N);
    assert_int_equal(lock_mode_supremum(LOCK_RANGE_S_S, LOCK_RANGE_I_N), LOCK_RANGE_X_S);
    assert_int_equal(lock_mode_supremum(LOCK_RANGE_I_N, LOCK_X), LOCK_RANGE_I_X);
    assert_int_equal(lock_mode_supremum(LOCK_RANGE_S_S, LOCK_X), LOCK_RANGE_X_X);
    assert_int_equal(lock_mode_supremum(LOCK_RANGE_S_S, LOCK_U), LOCK_RANGE_S_U);
    assert_int_equal(lock_mode_supremum(LOCK_S, LOCK_RANGE_S_S), LOCK_RANGE_S_S);
    /* the whole table follows the part-by-part rule, and the supremum of the
     * modes a key can hold is at least as strong as both and the weakest such */
    for (int a = 0; a < LOCK_MODE_COUNT; a++)
        for (int b = 0; b < LOCK_MODE_COUNT; b++) {
            assert_int_equal(lock_mode_compatible(a, b), expect_mode_compat(a, b));
            int sup = lock_mode_supremum(a, b);
            assert_int_equal(sup, lock_mode_supremum(b, a));
            assert_true(lock_mode_covers(sup, a) && lock_mode_covers(sup, b));
            for (int c = 1; c < LOCK_MODE_COUNT; c++) {
                if (!expect_mode_compat(a, c) || !expect_mode_compat(b, c))
                    assert_false(expect_mode_compat(sup, c));
            }
            if (key_part[a] == IS || key_part[a] == IX || key_part[a] == SIX ||
                key_part[b] == IS || key_part[b] == IX || key_part[b] == SIX)
                continue;        /* intent modes never share a resource with ranges */
            for (int c = 1; c < LOCK_MODE_COUNT; c++) {
                if (key_part[c] == IS || key_part[c] == IX || key_part[c] == SIX)
                    continue;
                int ok = 1;      /* c at least as strong as a and b ... */
                for (int d = 1; d < LOCK_MODE_COUNT; d++)
                    if ((!expect_mode_compat(a, d) || !expect_mode_compat(b, d)) && expect_mode_compat(c, d))
                        ok = 0;
                if (!ok)
                    continue;    /* ... then sup allows everything c does */
                for (int d = 1; d < LOCK_MODE_COUNT; d++)
                    if (expect_mode_compat(c, d))
                        assert_true(expect_mode_compat(sup, d));
            }
        }
    assert_string_equal(lock_mode_name(LOCK_RANGE_S_S), "RangeS-S");
    assert_string_equal(lock_mode_name(LOCK_RANGE_I_N), "RangeI-N");
    assert_string_equal(lock_mode_name(LOCK_RANGE_X_X), "RangeX-X");
    assert_string_equal(lock_mode_wait_name(LOCK_RANGE_I_N), "RIn_NL");
    assert_string_equal(lock_mode_wait_name(LOCK_X), "X");
    lock_res end = lock_res_key_end(5, 77);
    assert_int_equal(end.kind, LOCK_RES_KEY);
    assert_string_equal(lock_res_kind_name(end.kind), "KEY");
    lock_res k = key_res(1);
    assert_false(lock_res_equal(&end, &k));
}

struct instant_job {
    lock_mgr *m;
    lock_owner *o;
    lock_res res;
    lock_mode mode;
    int rc;
    hdb_err err;
    atomic_int done;
    pthread_t th;
};

static void *instant_main(void *arg)
{
    struct instant_job *j = arg;
    hdb_err_clear(&j->err);
    j->rc = lock_acquire_instant(j->m, j->o, &j->res, j->mode, -1, NULL, &j->err);
    atomic_store(&j->done, 1);
    return NULL;
}

static void instant_start(struct instant_job *j, lock_mgr *m, lock_owner *o, lock_res res, lock_mode mode)
{
    memset(j, 0, sizeof *j);
    j->m = m; j->o = o; j->res = res; j->mode = mode;
    atomic_init(&j->done, 0);
    assert_int_equal(pthread_create(&j->th, NULL, instant_main, j), 0);
}

/* An instant request waits like any other and keeps nothing. */
static void test_instant(void **state)
{
    lock_mgr *m = lock_mgr_create();
    lock_owner a, b;
    lock_owner_init(&a, 1, 51);
    lock_owner_init(&b, 2, 52);
    lock_res r = key_res(30);
    hdb_err e;
    lock_mode held = LOCK_X;
    /* nobody there: granted, nothing kept */
    assert_int_equal(lock_acquire_instant(m, &b, &r, LOCK_RANGE_I_N, LOCK_NOWAIT, &held, &e), 0);
    assert_int_equal(held, LOCK_NONE);
    assert_int_equal(table_counts(m).granted, 0);
    /* compatible holder (X on the key): granted at once */
    assert_int_equal(lock_acquire(m, &a, &r, LOCK_X, -1, &e), 0);
    assert_int_equal(lock_acquire_instant(m, &b, &r, LOCK_RANGE_I_N, LOCK_NOWAIT, NULL, &e), 0);
    lock_release_all(m, &a);
    /* a range reader: no-wait fails, a timed wait times out */
    assert_int_equal(lock_acquire(m, &a, &r, LOCK_RANGE_S_S, -1, &e), 0);
    hdb_err_clear(&e);
    assert_int_equal(lock_acquire_instant(m, &b, &r, LOCK_RANGE_I_N, LOCK_NOWAIT, NULL, &e), -1);
    assert_int_equal(e.number, 1222);
    int64_t t0 = ms_now();
    assert_int_equal(lock_acquire_instant(m, &b, &r, LOCK_RANGE_I_N, 100, NULL, &e), -1);
    assert_int_equal(e.number, 1222);
    assert_true(ms_now() - t0 >= 95);
    struct counts c = table_counts(m);
    assert_int_equal(c.granted, 1);
    assert_int_equal(c.waiting, 0);
    /* waits until the reader goes, then holds nothing */
    struct instant_job j;
    instant_start(&j, m, &b, r, LOCK_RANGE_I_N);
    wait_for_waiters(m, 1);
    sleep_ms(30);
    assert_int_equal(atomic_load(&j.done), 0);
    lock_release_all(m, &a);
    pthread_join(j.th, NULL);
    assert_int_equal(j.rc, 0);
    assert_int_equal(lock_owner_held_count(&b), 0);
    assert_int_equal(table_counts(m).granted, 0);
    /* a holder's instant request is a conversion that is given back: it
     * keeps exactly what it held */
    assert_int_equal(lock_acquire(m, &b, &r, LOCK_S, -1, &e), 0);
    assert_int_equal(lock_acquire(m, &a, &r, LOCK_RANGE_S_S, -1, &e), 0);
    assert_int_equal(lock_acquire_instant(m, &b, &r, LOCK_RANGE_I_N, 0, &held, &e), -1);
    assert_int_equal(held, LOCK_S);
    instant_start(&j, m, &b, r, LOCK_RANGE_I_N);
    wait_for_waiters(m, 1);
    lock_release_all(m, &a);
    pthread_join(j.th, NULL);
    assert_int_equal(j.rc, 0);
    assert_int_equal(lock_held_mode(m, &b, &r), LOCK_S);
    /* and others blocked by the temporary stronger mode get in afterwards */
    assert_int_equal(lock_acquire(m, &a, &r, LOCK_RANGE_S_S, LOCK_NOWAIT, &e), 0);
    lock_release_all(m, &a);
    lock_release_all(m, &b);
    lock_owner_destroy(&a);
    lock_owner_destroy(&b);
    lock_mgr_destroy(m);
}

/* Two range readers each inserting into the other's range: the instant waits
 * form a cycle, and the detector breaks it. */
static void test_instant_deadlock(void **state)
{
    lock_mgr *m = lock_mgr_create();
    lock_owner a, b;
    lock_owner_init(&a, 1, 51);
    lock_owner_init(&b, 2, 52);
    lock_res k1 = key_res(41), k2 = key_res(42);
    hdb_err e;
    assert_int_equal(lock_acquire(m, &a, &k1, LOCK_RANGE_S_S, -1, &e), 0);
    assert_int_equal(lock_acquire(m, &b, &k2, LOCK_RANGE_S_S, -1, &e), 0);
    struct instant_job j;
    instant_start(&j, m, &a, k2, LOCK_RANGE_I_N);
    wait_for_waiters(m, 1);
    hdb_err_clear(&e);
    int rc = lock_acquire_instant(m, &b, &k1, LOCK_RANGE_I_N, -1, NULL, &e);
    if (rc == 0) {
        /* a was the victim */
        pthread_join(j.th, NULL);
        assert_int_equal(j.rc, -1);
        assert_int_equal(j.err.number, 1205);
    } else {
        assert_int_equal(e.number, 1205);
        lock_release_all(m, &b);
        pthread_join(j.th, NULL);
        assert_int_equal(j.rc, 0);
    }
    lock_release_all(m, &a);
    lock_release_all(m, &b);
    struct counts c = table_counts(m);
    assert_int_equal(c.granted + c.waiting, 0);
    lock_owner_destroy(&a);
    lock_owner_destroy(&b);
    lock_mgr_destroy(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_compat_matrix),
        cmocka_unit_test(test_supremum),
        cmocka_unit_test(test_resources),
        cmocka_unit_test(test_reacquire_upgrade),
        cmocka_unit_test(test_crowded_head),
        cmocka_unit_test(test_shared),
        cmocka_unit_test(test_x_blocks_s),
        cmocka_unit_test(test_timeouts),
        cmocka_unit_test(test_fifo_and_conversions),
        cmocka_unit_test(test_deadlock_two),
        cmocka_unit_test(test_deadlock_three),
        cmocka_unit_test(test_upgrade_deadlock),
        cmocka_unit_test(test_victim_choice),
        cmocka_unit_test(test_release_all_wakes),
        cmocka_unit_test(test_hand_over),
        cmocka_unit_test(test_cancel_wait),
        cmocka_unit_test(test_stress),
        cmocka_unit_test(test_range_modes),
        cmocka_unit_test(test_instant),
        cmocka_unit_test(test_instant_deadlock),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
