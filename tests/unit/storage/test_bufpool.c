/* test_bufpool.c — buffer pool: a database 10x the pool through it exactly,
 * the WAL rule watched from outside, concurrency, 802, flush/DPT/recLSN, the
 * background writer, read and write errors, discard. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <fcntl.h>
#include <ftw.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "os/fio.h"
#include "storage/bufpool.h"
#include "storage/datafile.h"
#include "storage/page.h"

/* ---- fake log: the WAL hook -------------------------------------------------- */

#define MAX_LSN (1u << 20)
static _Atomic lsn_t next_lsn;         /* LSN generator of the fake log */
static _Atomic lsn_t durable;          /* highest LSN the pool asked to flush */
static _Atomic int wal_fail;           /* make the hook fail */
static _Atomic uint64_t wal_calls;
static uint8_t requested[MAX_LSN / 8]; /* every LSN the hook was asked for */

static int wal_hook(void *ctx, lsn_t lsn, hdb_err *err)
{
    (void)ctx;
    atomic_fetch_add(&wal_calls, 1);
    if (atomic_load(&wal_fail))
        return hdb_raise(err, 40000, "fake log failed");
    assert_true(lsn < MAX_LSN);
    __atomic_fetch_or(&requested[lsn / 8], (uint8_t)(1u << (lsn % 8)), __ATOMIC_SEQ_CST);
    lsn_t d = atomic_load(&durable);
    while (d < lsn && !atomic_compare_exchange_weak(&durable, &d, lsn))
        ;
    return 0;
}

static int was_requested(lsn_t lsn)
{
    return (__atomic_load_n(&requested[lsn / 8], __ATOMIC_SEQ_CST) >> (lsn % 8)) & 1;
}

static lsn_t new_lsn(void) { return atomic_fetch_add(&next_lsn, 1) + 1; }

/* ---- fixture ------------------------------------------------------------------- */

struct fx {
    char dir[256];
    char path[PATH_MAX];
    dbfiles *df;
    bufpool *bp;
};

static int rm_cb(const char *p, const struct stat *sb, int flag, struct FTW *ftw) { return remove(p); }

static struct fx *fx_new(size_t pool_bytes, uint32_t file_pages)
{
    struct fx *x = calloc(1, sizeof *x);
    snprintf(x->dir, sizeof x->dir, "/tmp/hdb_bp_XXXXXX");
    assert_non_null(mkdtemp(x->dir));
    snprintf(x->path, sizeof x->path, "%s/db.mdf", x->dir);
    x->df = df_create(9, "bpdb");
    df_file_desc d;
    memset(&d, 0, sizeof d);
    d.file_id = 1;
    d.fg_id = 1;
    snprintf(d.logical_name, sizeof d.logical_name, "bpdb");
    snprintf(d.path, sizeof d.path, "%s", x->path);
    d.size_pages = file_pages;
    d.growth_pages = 64;
    hdb_err e;
    assert_int_equal(df_add_file(x->df, &d, 1, &e), 0);
    df_set_wal_hook(x->df, wal_hook, NULL);
    x->bp = bp_create(pool_bytes, &e);
    assert_non_null(x->bp);
    atomic_store(&next_lsn, 0);
    atomic_store(&durable, 0);
    atomic_store(&wal_fail, 0);
    memset(requested, 0, sizeof requested);
    return x;
}

static int teardown(void **state)
{
    struct fx *x = *state;
    if (!x)
        return 0;
    fault_clear();
    bp_discard_db(x->bp, x->df);
    bp_destroy(x->bp);
    df_destroy(x->df);
    nftw(x->dir, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
    free(x);
    return 0;
}

/* Page content: one record { page no, version, filler derived from both }. */
struct rec { uint64_t pg, ver; uint8_t fill[240]; };

static void make_rec(struct rec *r, uint32_t pg, uint64_t ver)
{
    r->pg = pg;
    r->ver = ver;
    for (size_t i = 0; i < sizeof r->fill; i++)
        r->fill[i] = (uint8_t)(pg * 7 + ver * 13 + i);
}

/* Format (ver 0) or update page `pg` to `ver` under an X latch, logged at a new LSN. */
static void put_version(struct fx *x, uint32_t pg, uint64_t ver, int noread)
{
    hdb_err e;
    hdb_err_clear(&e);
    bp_frame *f = bp_fix(x->bp, x->df, PGID(1, pg), BP_EXCL, noread ? BP_NOREAD : 0, &e);
    if (!f)
        fail_msg("fix %u: %d %s", pg, e.number, e.msg);
    void *p = bp_page(f);
    struct rec r;
    make_rec(&r, pg, ver);
    if (noread) {
        page_format(p, PGID(1, pg), PAGE_BTREE_LEAF, 1, 0);
        assert_int_equal(page_insert(p, 0, &r, sizeof r), 0);
    } else {
        assert_int_equal(page_replace(p, 0, &r, sizeof r), 0);
    }
    bp_dirty(f, new_lsn());
    bp_unfix(f);
}

static void check_rec(const void *p, uint32_t pg, uint64_t ver)
{
    assert_int_equal(page_chdr(p)->id, PGID(1, pg));
    assert_int_equal(page_chdr(p)->nslots, 1);
    uint16_t len;
    const uint8_t *b = page_record(p, 0, &len);
    assert_int_equal(len, sizeof(struct rec));
    struct rec want;
    make_rec(&want, pg, ver);
    assert_memory_equal(b, &want, sizeof want);
}

static void check_version(struct fx *x, uint32_t pg, uint64_t ver)
{
    hdb_err e;
    hdb_err_clear(&e);
    bp_frame *f = bp_fix(x->bp, x->df, PGID(1, pg), BP_SHARED, 0, &e);
    if (!f)
        fail_msg("fix %u: %d %s", pg, e.number, e.msg);
    assert_int_equal(bp_id(f), PGID(1, pg));
    check_rec(bp_page(f), pg, ver);
    bp_unfix(f);
}

/* ---- a database 10x larger than the pool, with the WAL rule watched ------------ */

/* Scans the data file from outside while the pool works: any page found on disk
 * with a pageLSN the log was not yet asked to make durable broke the WAL rule.
 * The disk LSN is read BEFORE the durable mark, so a correct pool (flush, then
 * write) can never trip it. */
struct monitor { const char *path; uint32_t pages; _Atomic int stop; uint64_t checks, violations; };

static void *monitor_main(void *arg)
{
    struct monitor *m = arg;
    int fd = open(m->path, O_RDONLY);
    assert_true(fd >= 0);
    while (!atomic_load(&m->stop)) {
        for (uint32_t pg = 0; pg < m->pages && !atomic_load(&m->stop); pg++) {
            lsn_t disk = 0;
            if (pread(fd, &disk, sizeof disk, (off_t)pg * PAGE_SIZE + 16) != (ssize_t)sizeof disk)
                continue;
            lsn_t d = atomic_load(&durable);
            m->checks++;
            if (disk > d)
                m->violations++;
        }
    }
    close(fd);
    return NULL;
}

static void test_db_larger_than_pool(void **state)
{
    const uint32_t N = 2000;
    struct fx *x = *state = fx_new(1 << 20, 16);  /* 128 frames */
    hdb_err e;
    bp_stats st;
    bp_get_stats(x->bp, &st);
    assert_int_equal(st.frames, 128);
    assert_int_equal(df_ensure_pages(x->df, 1, N, &e), 0);

    struct monitor m = { .path = x->path, .pages = N };
    pthread_t mt;
    pthread_create(&mt, NULL, monitor_main, &m);

    uint64_t *ver = calloc(N, sizeof *ver);
    for (uint32_t pg = 0; pg < N; pg++)
        put_version(x, pg, 0, 1);
    srand(12345);
    for (int i = 0; i < 4000; i++) {
        uint32_t pg = (uint32_t)rand() % N;
        put_version(x, pg, ++ver[pg], 0);
    }
    for (uint32_t pg = 0; pg < N; pg++)
        check_version(x, pg, ver[pg]);

    atomic_store(&m.stop, 1);
    pthread_join(mt, NULL);
    assert_int_equal(m.violations, 0);
    assert_true(m.checks > 0);

    bp_get_stats(x->bp, &st);
    assert_true(st.evictions > N);
    assert_true(st.writes >= N - 128);
    assert_true(st.used <= 128);

    /* everything reaches disk; each page on disk carries a pageLSN the log was
     * asked to flush, and the exact contents survive dropping the cache */
    assert_int_equal(bp_flush_db(x->bp, x->df, &e), 0);
    bp_get_stats(x->bp, &st);
    assert_int_equal(st.dirty, 0);
    bp_discard_db(x->bp, x->df);
    bp_get_stats(x->bp, &st);
    assert_int_equal(st.used, 0);
    uint8_t p[PAGE_SIZE];
    for (uint32_t pg = 0; pg < N; pg++) {
        assert_int_equal(df_read_page(x->df, PGID(1, pg), p, &e), 0);
        check_rec(p, pg, ver[pg]);
        assert_true(page_lsn(p) <= atomic_load(&durable));
        assert_true(was_requested(page_lsn(p)));
    }
    for (uint32_t pg = 0; pg < N; pg += 7)
        check_version(x, pg, ver[pg]);
    free(ver);
}

/* ---- concurrency ------------------------------------------------------------------ */

#define CPAGES 300
#define CTHREADS 4
#define CITERS 6000

/* Page content for the concurrency test: a counter stored twice (torn or
 * half-applied updates would show as a mismatch). */
struct ctr { uint64_t a; uint32_t pg; uint32_t pad; uint64_t b; };

struct cworker { struct fx *x; int t; uint32_t incs[CPAGES]; int errors; };

static void *cworker_main(void *arg)
{
    struct cworker *w = arg;
    unsigned seed = (unsigned)w->t * 2654435761u + 17;
    hdb_err e;
    for (int i = 0; i < CITERS; i++) {
        uint32_t pg = (uint32_t)rand_r(&seed) % CPAGES;
        int wr = rand_r(&seed) % 3 == 0;
        bp_frame *f = bp_fix(w->x->bp, w->x->df, PGID(1, pg), wr ? BP_EXCL : BP_SHARED, 0, &e);
        if (!f) {
            w->errors++;
            continue;
        }
        void *p = bp_page(f);
        uint16_t len;
        struct ctr c;
        memcpy(&c, page_record(p, 0, &len), sizeof c);
        if (len != sizeof c || c.a != c.b || c.pg != pg || page_chdr(p)->id != PGID(1, pg))
            w->errors++;
        if (wr) {
            c.a++;
            c.b++;
            page_replace(p, 0, &c, sizeof c);
            bp_dirty(f, new_lsn());
            w->incs[pg]++;
        }
        bp_unfix(f);
    }
    return NULL;
}

static void test_concurrent(void **state)
{
    struct fx *x = *state = fx_new(64 * PAGE_SIZE, CPAGES);  /* pool 1/5 of the data */
    hdb_err e;
    for (uint32_t pg = 0; pg < CPAGES; pg++) {
        bp_frame *f = bp_fix(x->bp, x->df, PGID(1, pg), BP_EXCL, BP_NOREAD, &e);
        assert_non_null(f);
        page_format(bp_page(f), PGID(1, pg), PAGE_BTREE_LEAF, 1, 0);
        struct ctr c = { 0, pg, 0, 0 };
        assert_int_equal(page_insert(bp_page(f), 0, &c, sizeof c), 0);
        bp_dirty(f, new_lsn());
        bp_unfix(f);
    }
    struct cworker *w = calloc(CTHREADS, sizeof *w);
    pthread_t th[CTHREADS];
    for (int i = 0; i < CTHREADS; i++) {
        w[i].x = x;
        w[i].t = i;
        pthread_create(&th[i], NULL, cworker_main, &w[i]);
    }
    /* a checkpoint now and then, concurrently with the workers */
    for (int i = 0; i < 5; i++) {
        usleep(20000);
        assert_int_equal(bp_flush_db(x->bp, x->df, &e), 0);
        (void)bp_min_rec_lsn(x->bp, x->df);
    }
    for (int i = 0; i < CTHREADS; i++)
        pthread_join(th[i], NULL);
    for (int i = 0; i < CTHREADS; i++)
        assert_int_equal(w[i].errors, 0);

    /* no update lost, in memory and after a trip through the disk */
    for (int round = 0; round < 2; round++) {
        for (uint32_t pg = 0; pg < CPAGES; pg++) {
            uint64_t want = 0;
            for (int i = 0; i < CTHREADS; i++)
                want += w[i].incs[pg];
            bp_frame *f = bp_fix(x->bp, x->df, PGID(1, pg), BP_SHARED, 0, &e);
            assert_non_null(f);
            struct ctr c;
            memcpy(&c, page_record(bp_page(f), 0, NULL), sizeof c);
            assert_int_equal(c.a, want);
            assert_int_equal(c.b, want);
            bp_unfix(f);
        }
        assert_int_equal(bp_flush_db(x->bp, x->df, &e), 0);
        bp_discard_db(x->bp, x->df);
    }
    free(w);
}

/* Many threads fix the same uncached page at once: exactly one reads it. */
struct same { struct fx *x; pthread_barrier_t *bar; int ok; };

static void *same_main(void *arg)
{
    struct same *s = arg;
    hdb_err e;
    pthread_barrier_wait(s->bar);
    bp_frame *f = bp_fix(s->x->bp, s->x->df, PGID(1, 5), BP_SHARED, 0, &e);
    if (f) {
        uint16_t len;
        const struct rec *r = (const void *)page_record(bp_page(f), 0, &len);
        s->ok = len == sizeof(struct rec) && r->pg == 5;
        bp_unfix(f);
    }
    return NULL;
}

static void test_single_reader(void **state)
{
    struct fx *x = *state = fx_new(64 * PAGE_SIZE, 16);
    hdb_err e;
    for (uint32_t pg = 0; pg < 8; pg++)
        put_version(x, pg, 0, 1);
    assert_int_equal(bp_flush_db(x->bp, x->df, &e), 0);
    bp_discard_db(x->bp, x->df);
    for (int round = 0; round < 20; round++) {
        bp_stats before, after;
        bp_get_stats(x->bp, &before);
        pthread_barrier_t bar;
        pthread_barrier_init(&bar, NULL, 8);
        pthread_t th[8];
        struct same s[8];
        for (int i = 0; i < 8; i++) {
            s[i] = (struct same){ x, &bar, 0 };
            pthread_create(&th[i], NULL, same_main, &s[i]);
        }
        for (int i = 0; i < 8; i++) {
            pthread_join(th[i], NULL);
            assert_true(s[i].ok);
        }
        pthread_barrier_destroy(&bar);
        bp_get_stats(x->bp, &after);
        assert_int_equal(after.reads - before.reads, 1);
        assert_int_equal(after.misses - before.misses, 1);
        assert_int_equal(after.hits - before.hits, 7);
        bp_discard_page(x->bp, x->df, PGID(1, 5));
    }
}

/* ---- 802 ------------------------------------------------------------------------- */

/* Sessions holding pages: each thread fixes one page and holds it until told. */
struct holder { struct fx *x; uint32_t pg; pthread_barrier_t *fixed, *release; int ok; };

static void *holder_main(void *arg)
{
    struct holder *h = arg;
    hdb_err e;
    bp_frame *f = bp_fix(h->x->bp, h->x->df, PGID(1, h->pg), h->pg % 2 ? BP_EXCL : BP_SHARED, 0, &e);
    h->ok = f != NULL;
    pthread_barrier_wait(h->fixed);
    pthread_barrier_wait(h->release);
    if (f)
        bp_unfix(f);
    return NULL;
}

static void test_all_pinned_802(void **state)
{
    struct fx *x = *state = fx_new(0, 64);  /* rounds up to 16 frames */
    hdb_err e;
    hdb_err_clear(&e);
    bp_stats st;
    bp_get_stats(x->bp, &st);
    assert_int_equal(st.frames, 16);
    pthread_barrier_t fixed, release;
    pthread_barrier_init(&fixed, NULL, 17);
    pthread_barrier_init(&release, NULL, 17);
    pthread_t th[16];
    struct holder h[16];
    for (uint32_t i = 0; i < 16; i++) {
        h[i] = (struct holder){ x, i, &fixed, &release, 0 };
        pthread_create(&th[i], NULL, holder_main, &h[i]);
    }
    pthread_barrier_wait(&fixed);
    for (int i = 0; i < 16; i++)
        assert_true(h[i].ok);
    /* every frame pinned: no page can come in */
    assert_null(bp_fix(x->bp, x->df, PGID(1, 20), BP_SHARED, 0, &e));
    assert_int_equal(e.number, 802);
    assert_int_equal(e.severity, 17);
    assert_non_null(strstr(e.msg, "insufficient memory available in the buffer pool"));
    bp_get_stats(x->bp, &st);
    assert_int_equal(st.used, 16);
    /* ... but a page already in the pool can still be shared */
    bp_frame *s0 = bp_fix(x->bp, x->df, PGID(1, 0), BP_SHARED, 0, &e);
    assert_non_null(s0);
    bp_unfix(s0);
    pthread_barrier_wait(&release);
    for (int i = 0; i < 16; i++)
        pthread_join(th[i], NULL);
    pthread_barrier_destroy(&fixed);
    pthread_barrier_destroy(&release);
    bp_frame *g = bp_fix(x->bp, x->df, PGID(1, 20), BP_SHARED, 0, &e);
    assert_non_null(g);
    assert_int_equal(bp_id(g), PGID(1, 20));
    bp_unfix(g);
}

/* ---- flush, dirty page table, recLSN ------------------------------------------------ */

struct dpt { int n; pgid_t id[64]; lsn_t rec[64]; };
static void dpt_cb(void *ctx, pgid_t id, lsn_t rec)
{
    struct dpt *d = ctx;
    d->id[d->n] = id;
    d->rec[d->n] = rec;
    d->n++;
}
static lsn_t dpt_find(const struct dpt *d, pgid_t id)
{
    for (int i = 0; i < d->n; i++)
        if (d->id[i] == id)
            return d->rec[i];
    return 0;
}

static void test_flush_and_dpt(void **state)
{
    struct fx *x = *state = fx_new(256 * PAGE_SIZE, 64);
    hdb_err e;
    /* a second database in the same pool */
    char p2[PATH_MAX];
    snprintf(p2, sizeof p2, "%s/other.mdf", x->dir);
    dbfiles *df2 = df_create(10, "other");
    df_file_desc d;
    memset(&d, 0, sizeof d);
    d.file_id = 1;
    d.fg_id = 1;
    snprintf(d.path, sizeof d.path, "%s", p2);
    snprintf(d.logical_name, sizeof d.logical_name, "other");
    d.size_pages = 8;
    assert_int_equal(df_add_file(df2, &d, 1, &e), 0);
    df_set_wal_hook(df2, wal_hook, NULL);

    assert_int_equal(bp_min_rec_lsn(x->bp, x->df), 0);
    bp_set_writer_period(x->bp, 0);  /* only the flushes below write pages */
    bp_frame *f[4];
    for (uint32_t i = 0; i < 4; i++) {
        f[i] = bp_fix(x->bp, x->df, PGID(1, 10 + i), BP_EXCL, BP_NOREAD, &e);
        assert_non_null(f[i]);
        page_format(bp_page(f[i]), PGID(1, 10 + i), PAGE_BTREE_LEAF, 1, 0);
        bp_dirty(f[i], 100 + 10 * i);
    }
    bp_dirty(f[0], 500);  /* re-dirtied: recLSN stays the first LSN */
    assert_int_equal(page_lsn(bp_page(f[0])), 500);
    bp_frame *g = bp_fix(x->bp, df2, PGID(1, 3), BP_EXCL, BP_NOREAD, &e);
    assert_non_null(g);
    page_format(bp_page(g), PGID(1, 3), PAGE_BTREE_LEAF, 1, 0);
    bp_dirty(g, 50);
    /* a clean cached page is not in the table */
    bp_frame *c = bp_fix(x->bp, x->df, PGID(1, 30), BP_SHARED, 0, &e);
    assert_non_null(c);
    bp_unfix(c);

    struct dpt t = { 0 };
    bp_dirty_pages(x->bp, x->df, dpt_cb, &t);
    assert_int_equal(t.n, 4);
    assert_int_equal(dpt_find(&t, PGID(1, 10)), 100);
    assert_int_equal(dpt_find(&t, PGID(1, 11)), 110);
    assert_int_equal(dpt_find(&t, PGID(1, 13)), 130);
    assert_int_equal(bp_min_rec_lsn(x->bp, x->df), 100);
    assert_int_equal(bp_min_rec_lsn(x->bp, df2), 50);
    bp_stats st;
    bp_get_stats(x->bp, &st);
    assert_int_equal(st.dirty, 5);
    for (uint32_t i = 0; i < 4; i++)
        bp_unfix(f[i]);
    bp_unfix(g);

    /* the flush of x->df leaves the other database's page alone */
    assert_int_equal(bp_flush_db(x->bp, x->df, &e), 0);
    assert_int_equal(bp_min_rec_lsn(x->bp, df2), 50);
    t.n = 0;
    bp_dirty_pages(x->bp, x->df, dpt_cb, &t);
    assert_int_equal(t.n, 0);
    assert_int_equal(bp_min_rec_lsn(x->bp, x->df), 0);
    assert_true(atomic_load(&durable) >= 500);  /* WAL rule on the flush path */
    uint8_t p[PAGE_SIZE];
    assert_int_equal(df_read_page(x->df, PGID(1, 10), p, &e), 0);
    assert_int_equal(page_lsn(p), 500);

    /* a page that is dirtied again after the flush comes back with a new recLSN */
    bp_frame *h = bp_fix(x->bp, x->df, PGID(1, 11), BP_EXCL, 0, &e);
    assert_non_null(h);
    bp_dirty(h, 900);
    assert_int_equal(bp_min_rec_lsn(x->bp, x->df), 900);
    bp_unfix(h);

    assert_int_equal(bp_flush_db(x->bp, df2, &e), 0);
    assert_int_equal(bp_min_rec_lsn(x->bp, df2), 0);
    assert_int_equal(bp_flush_db(x->bp, x->df, &e), 0);
    bp_get_stats(x->bp, &st);
    assert_int_equal(st.dirty, 0);
    bp_discard_db(x->bp, df2);
    df_destroy(df2);
    bp_set_writer_period(x->bp, 1000);
}

/* ---- background writer ---------------------------------------------------------------- */

static void wait_clean(bufpool *bp, size_t target, int max_ms)
{
    bp_stats st;
    for (int ms = 0; ms < max_ms; ms += 20) {
        bp_get_stats(bp, &st);
        if (st.dirty <= target)
            return;
        usleep(20000);
    }
    bp_get_stats(bp, &st);
    fail_msg("still %llu dirty after %d ms", (unsigned long long)st.dirty, max_ms);
}

static void test_background_writer(void **state)
{
    struct fx *x = *state = fx_new(64 * PAGE_SIZE, 64);
    hdb_err e;
    /* paused: nothing is written, even far over the high-water mark */
    bp_set_writer_period(x->bp, 0);
    for (uint32_t pg = 40; pg < 60; pg++)
        put_version(x, pg, 0, 1);
    for (uint32_t pg = 40; pg < 60; pg++)
        put_version(x, pg, 1, 0);
    usleep(300000);
    bp_stats st;
    bp_get_stats(x->bp, &st);
    assert_int_equal(st.dirty, 20);
    assert_int_equal(st.writes, 0);
    bp_set_trickle_age(x->bp, 0);   /* every dirty page is old enough for the tick */
    bp_set_writer_period(x->bp, 200);
    wait_clean(x->bp, 0, 5000);
    /* a few dirty pages (below the high-water mark): the periodic tick */
    for (uint32_t pg = 0; pg < 6; pg++)
        put_version(x, pg, 0, 1);
    bp_get_stats(x->bp, &st);
    assert_true(st.dirty <= 6);
    wait_clean(x->bp, 0, 5000);
    uint8_t p[PAGE_SIZE];
    for (uint32_t pg = 0; pg < 6; pg++) {
        assert_int_equal(df_read_page(x->df, PGID(1, pg), p, &e), 0);
        check_rec(p, pg, 0);
        assert_true(was_requested(page_lsn(p)));
    }
    /* over a quarter of the pool dirty: woken at once, writes down to ~1/8 */
    for (uint32_t pg = 10; pg < 50; pg++)
        put_version(x, pg, 0, 1);
    wait_clean(x->bp, 8, 5000);
    wait_clean(x->bp, 0, 5000);
    assert_int_equal(bp_min_rec_lsn(x->bp, x->df), 0);
}

/* Without memory pressure the tick spares pages dirtied recently (a hot page
 * would be dirtied again at once); with it, the writer cleans down to 1/8. */
static void test_writer_spares_young_pages(void **state)
{
    struct fx *x = *state = fx_new(64 * PAGE_SIZE, 128);   /* 64 frames */
    bp_stats st;
    bp_set_writer_period(x->bp, 50);
    for (uint32_t pg = 0; pg < 24; pg++)   /* over a quarter dirty, 40 frames free */
        put_version(x, pg, 0, 1);
    usleep(400000);   /* eight ticks */
    bp_get_stats(x->bp, &st);
    assert_int_equal(st.dirty, 24);
    assert_int_equal(st.writes, 0);
    /* old enough now: the tick writes them */
    bp_set_trickle_age(x->bp, 100);
    wait_clean(x->bp, 0, 5000);
    check_version(x, 5, 0);

    /* the pool nearly full (fewer than 1/8 of the frames free) and over the
     * high-water mark: written down to about 1/8 however young */
    bp_set_trickle_age(x->bp, 3600 * 1000);
    for (uint32_t pg = 24; pg < 60; pg++)
        put_version(x, pg, 0, 1);
    for (uint32_t pg = 0; pg < 24; pg++)
        put_version(x, pg, 1, 0);
    wait_clean(x->bp, 8, 5000);
    bp_get_stats(x->bp, &st);
    assert_true(st.writes >= 24 + 60 - 8);
    check_version(x, 3, 1);
}

/* ---- errors ------------------------------------------------------------------------------- */

static void test_write_error_keeps_dirty(void **state)
{
    struct fx *x = *state = fx_new(0, 64);  /* 16 frames */
    hdb_err e;
    /* the background writer also hits the fault (it counts errors and keeps
     * the pages dirty); run once with it active, which is the harder case */
    fault_rule r = { .path_contains = x->dir, .ops = FIO_OP_WRITE, .action = FAULT_EIO };
    int id = fault_add(&r);
    put_version(x, 7, 0, 1);
    put_version(x, 7, 1, 0);
    hdb_err_clear(&e);
    assert_int_equal(bp_flush_db(x->bp, x->df, &e), -1);
    assert_int_equal(e.number, 823);
    assert_true(fault_fired(id) >= 1);
    assert_true(bp_write_errors(x->bp) >= 1);
    bp_stats st;
    bp_get_stats(x->bp, &st);
    assert_int_equal(st.dirty, 1);
    assert_int_equal(bp_min_rec_lsn(x->bp, x->df), 1);
    check_version(x, 7, 1);  /* the change is still there */

    /* with every frame dirty and unwritable, a miss reports the write error */
    for (uint32_t pg = 20; pg < 35; pg++)
        put_version(x, pg, 0, 1);
    hdb_err_clear(&e);
    assert_null(bp_fix(x->bp, x->df, PGID(1, 50), BP_SHARED, 0, &e));
    assert_int_equal(e.number, 823);

    /* the WAL hook failing stops the write just the same */
    atomic_store(&wal_fail, 1);
    /* A background write may have passed the hook just before; a blocking flush
     * takes every frame's write mutex, so once it returns no such write is in
     * flight and the fault can go without a page slipping out. */
    assert_int_equal(bp_flush_db(x->bp, x->df, &e), -1);
    fault_remove(id);
    hdb_err_clear(&e);
    assert_int_equal(bp_flush_db(x->bp, x->df, &e), -1);
    assert_int_equal(e.number, 40000);
    bp_get_stats(x->bp, &st);
    assert_int_equal(st.dirty, 16);
    atomic_store(&wal_fail, 0);

    /* fault gone: the next flush writes everything */
    assert_int_equal(bp_flush_db(x->bp, x->df, &e), 0);
    bp_get_stats(x->bp, &st);
    assert_int_equal(st.dirty, 0);
    bp_discard_db(x->bp, x->df);
    check_version(x, 7, 1);
    for (uint32_t pg = 20; pg < 35; pg++)
        check_version(x, pg, 0);
}

struct bad { struct fx *x; int errs; };
static void *bad_main(void *arg)
{
    struct bad *b = arg;
    hdb_err e;
    for (int i = 0; i < 20; i++) {
        bp_frame *f = bp_fix(b->x->bp, b->x->df, PGID(1, 4), BP_SHARED, 0, &e);
        if (f)
            bp_unfix(f);
        else if (e.number == 823)
            b->errs++;
    }
    return NULL;
}

static void test_read_error_not_cached(void **state)
{
    struct fx *x = *state = fx_new(64 * PAGE_SIZE, 16);
    hdb_err e;
    for (uint32_t pg = 0; pg < 8; pg++)
        put_version(x, pg, 0, 1);
    assert_int_equal(bp_flush_db(x->bp, x->df, &e), 0);
    bp_discard_db(x->bp, x->df);

    /* damage page 2 on disk: 824, nothing cached, a second fix reads again */
    int fd = open(x->path, O_RDWR);
    uint8_t byte = 0x77;
    assert_int_equal(pwrite(fd, &byte, 1, 2 * PAGE_SIZE + 3000), 1);
    close(fd);
    bp_stats a, b;
    bp_get_stats(x->bp, &a);
    hdb_err_clear(&e);
    assert_null(bp_fix(x->bp, x->df, PGID(1, 2), BP_SHARED, 0, &e));
    assert_int_equal(e.number, 824);
    assert_non_null(strstr(e.msg, "incorrect checksum"));
    assert_null(bp_fix(x->bp, x->df, PGID(1, 2), BP_EXCL, 0, &e));
    bp_get_stats(x->bp, &b);
    assert_int_equal(b.reads - a.reads, 2);
    assert_int_equal(b.used, a.used);
    check_version(x, 3, 0);

    /* repair it (as restore would) and drop any cached copy: readable again */
    uint8_t p[PAGE_SIZE];
    page_format(p, PGID(1, 2), PAGE_BTREE_LEAF, 1, 0);
    struct rec r;
    make_rec(&r, 2, 0);
    assert_int_equal(page_insert(p, 0, &r, sizeof r), 0);
    assert_int_equal(df_write_page(x->df, PGID(1, 2), p, &e), 0);
    bp_discard_page(x->bp, x->df, PGID(1, 2));
    check_version(x, 2, 0);

    /* many threads hitting a failing read: all get the error, none hangs */
    fault_rule fr = { .path_contains = x->dir, .ops = FIO_OP_READ, .offset_lo = 4 * PAGE_SIZE,
                      .offset_hi = 5 * PAGE_SIZE, .action = FAULT_EIO };
    int id = fault_add(&fr);
    pthread_t th[4];
    struct bad bd[4];
    for (int i = 0; i < 4; i++) {
        bd[i] = (struct bad){ x, 0 };
        pthread_create(&th[i], NULL, bad_main, &bd[i]);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(th[i], NULL);
        assert_int_equal(bd[i].errs, 20);
    }
    fault_remove(id);
    check_version(x, 4, 0);
}

static void test_discard(void **state)
{
    struct fx *x = *state = fx_new(64 * PAGE_SIZE, 16);
    hdb_err e;
    put_version(x, 1, 0, 1);
    put_version(x, 2, 0, 1);
    assert_int_equal(bp_flush_db(x->bp, x->df, &e), 0);
    put_version(x, 1, 5, 0);
    put_version(x, 2, 6, 0);
    /* discarding a dirty page throws the change away */
    bp_discard_page(x->bp, x->df, PGID(1, 1));
    check_version(x, 1, 0);
    check_version(x, 2, 6);
    bp_discard_page(x->bp, x->df, PGID(1, 9));  /* not cached: nothing happens */
    /* discarding the database drops everything (a simulated crash) */
    bp_discard_db(x->bp, x->df);
    bp_stats st;
    bp_get_stats(x->bp, &st);
    assert_int_equal(st.used, 0);
    assert_int_equal(st.dirty, 0);
    check_version(x, 2, 0);
    assert_int_equal(bp_min_rec_lsn(x->bp, x->df), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_db_larger_than_pool, teardown),
        cmocka_unit_test_teardown(test_concurrent, teardown),
        cmocka_unit_test_teardown(test_single_reader, teardown),
        cmocka_unit_test_teardown(test_all_pinned_802, teardown),
        cmocka_unit_test_teardown(test_flush_and_dpt, teardown),
        cmocka_unit_test_teardown(test_background_writer, teardown),
        cmocka_unit_test_teardown(test_writer_spares_young_pages, teardown),
        cmocka_unit_test_teardown(test_write_error_keeps_dirty, teardown),
        cmocka_unit_test_teardown(test_read_error_not_cached, teardown),
        cmocka_unit_test_teardown(test_discard, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
