/* test_logmgr.c — log file, VLFs, group commit, torn tails, readers. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log/logmgr.h"
#include "os/fio.h"

#define V64K (64u * 1024)

static char tdir[256];
static int file_no;

/* ---- helpers ------------------------------------------------------------- */

static void newpath(char *out, size_t n)
{
    snprintf(out, n, "%s/log%d.ldf", tdir, ++file_no);
}

static uint64_t rng_state = 12345;
static uint32_t rnd(void)
{
    rng_state = rng_state * 6364136223846793005ull + 1442695040888963407ull;
    return (uint32_t)(rng_state >> 33);
}

static uint8_t pat(uint64_t id, size_t i) { return (uint8_t)(id * 131 + i * 7 + (i >> 8)); }

/* Append record `id` with a body of `len` bytes derived from id. */
static lsn_t app(logmgr *lm, uint64_t id, size_t len, hdb_err *err)
{
    uint8_t *b = malloc(len ? len : 1);
    for (size_t i = 0; i < len; i++)
        b[i] = pat(id, i);
    if (len >= 8)
        memcpy(b, &id, 8);
    log_rec r = { .kind = (uint8_t)(id % 11 + 1), .flags = (uint8_t)id, .txn_id = id,
                  .prev_lsn = id * 3, .body = b, .body_len = (uint32_t)len };
    lsn_t l = log_append(lm, &r, err);
    if (l)
        assert_int_equal(r.lsn, l);
    free(b);
    return l;
}

static lsn_t app_ok(logmgr *lm, uint64_t id, size_t len)
{
    hdb_err e = {0};
    lsn_t l = app(lm, id, len, &e);
    if (!l)
        fail_msg("append %llu failed: %d %s", (unsigned long long)id, e.number, e.msg);
    return l;
}

/* Does rec hold record `id` of `len` bytes? */
static void check_rec(const log_rec *r, uint64_t id, size_t len)
{
    assert_int_equal(r->txn_id, id);
    assert_int_equal(r->kind, id % 11 + 1);
    assert_int_equal(r->flags, (uint8_t)id);
    assert_int_equal(r->prev_lsn, id * 3);
    assert_int_equal(r->body_len, len);
    for (size_t i = len >= 8 ? 8 : 0; i < len; i++)
        if (r->body[i] != pat(id, i))
            fail_msg("record %llu body byte %zu differs", (unsigned long long)id, i);
    if (len >= 8) {
        uint64_t x;
        memcpy(&x, r->body, 8);
        assert_int_equal(x, id);
    }
}

struct ent { lsn_t lsn; uint64_t id; size_t len; };

/* Read the log from `from`: the first n records must be ents[0..n); returns
 * how many records follow them (when allow_extra) . */
static size_t verify_prefix(logmgr *lm, lsn_t from, const struct ent *ents, size_t n,
                            int allow_extra)
{
    hdb_err e = {0};
    log_reader *r = log_reader_open(lm, from, 0, &e);
    assert_non_null(r);
    log_rec rec;
    size_t i = 0;
    int rc;
    size_t extra = 0;
    while ((rc = log_reader_next(r, &rec, &e)) == 1) {
        if (i >= n) {
            if (!allow_extra)
                fail_msg("extra record at %llu (txn %llu)", (unsigned long long)rec.lsn,
                         (unsigned long long)rec.txn_id);
            extra++;
            continue;
        }
        assert_int_equal(rec.lsn, ents[i].lsn);
        check_rec(&rec, ents[i].id, ents[i].len);
        i++;
    }
    if (rc < 0)
        fail_msg("reader error %d %s", e.number, e.msg);
    assert_int_equal(i, n);
    log_reader_close(r);
    return extra;
}

static void verify_all(logmgr *lm, lsn_t from, const struct ent *ents, size_t n)
{
    verify_prefix(lm, from, ents, n, 0);
}

static log_options opts(uint64_t vlf, unsigned n, uint64_t max, size_t buf)
{
    log_options o = { .vlf_size = vlf, .initial_vlfs = n, .max_size = max, .buffer_size = buf };
    return o;
}

static logmgr *create_ok(const char *path, const log_options *o)
{
    hdb_err e = {0};
    logmgr *lm = log_create(path, o, &e);
    if (!lm)
        fail_msg("create: %d %s", e.number, e.msg);
    return lm;
}

static logmgr *open_ok(const char *path, const log_options *o)
{
    hdb_err e = {0};
    logmgr *lm = log_open(path, o, &e);
    if (!lm)
        fail_msg("open: %d %s", e.number, e.msg);
    return lm;
}

/* File offset of `lsn` (through the VLF listing). */
static uint64_t file_off(logmgr *lm, lsn_t lsn)
{
    log_vlf_info v[512];
    int n = log_vlfs(lm, v, 512);
    uint64_t V = log_vlf_size(lm);
    for (int i = 0; i < n && i < 512; i++)
        if (v[i].seq == lsn / V)
            return v[i].file_offset + lsn % V;
    fail_msg("no slot for lsn %llu", (unsigned long long)lsn);
    return 0;
}

static void raw_write(const char *path, uint64_t off, const void *p, size_t n)
{
    int fd = open(path, O_WRONLY);
    assert_true(fd >= 0);
    assert_int_equal(pwrite(fd, p, n, (off_t)off), (ssize_t)n);
    close(fd);
}

static void raw_read(const char *path, uint64_t off, void *p, size_t n)
{
    int fd = open(path, O_RDONLY);
    assert_true(fd >= 0);
    assert_int_equal(pread(fd, p, n, (off_t)off), (ssize_t)n);
    close(fd);
}

static size_t rnd_len(void)
{
    uint32_t x = rnd() % 100;
    if (x < 70)
        return rnd() % 200;
    if (x < 95)
        return rnd() % 3000;
    return rnd() % 30000;
}

/* ---- tests --------------------------------------------------------------- */

static void test_append_readback(void **st)
{
    (void)st;
    char p[300];
    newpath(p, sizeof p);
    log_options o = opts(V64K, 4, 0, 256 * 1024);
    logmgr *lm = create_ok(p, &o);
    const size_t N = 4000;
    struct ent *ents = calloc(N, sizeof *ents);
    lsn_t first = log_end_lsn(lm);
    assert_int_equal(first, V64K + 512);
    for (size_t i = 0; i < N; i++) {
        ents[i].id = i + 1;
        ents[i].len = rnd_len();
        ents[i].lsn = app_ok(lm, ents[i].id, ents[i].len);
        assert_int_equal(ents[i].lsn % 8, 0);
        if (i)
            assert_true(ents[i].lsn > ents[i - 1].lsn);
        /* a record never spans VLFs */
        assert_int_equal(ents[i].lsn / V64K,
                         (ents[i].lsn + ((40 + ents[i].len + 7) & ~7u) - 1) / V64K);
    }
    /* readable from the buffer, before being flushed */
    verify_all(lm, first, ents, N);
    hdb_err e = {0};
    assert_int_equal(log_flush_all(lm, &e), 0);
    assert_true(log_durable_lsn(lm) >= log_end_lsn(lm));
    verify_all(lm, first, ents, N);
    /* from the middle, and from a VLF start */
    verify_all(lm, ents[N / 2].lsn, ents + N / 2, N - N / 2);
    size_t k = 0;
    while (ents[k].lsn < 5 * V64K)
        k++;
    verify_all(lm, 5 * V64K, ents + k, N - k);

    log_stats s;
    log_get_stats(lm, &s);
    assert_true(s.vlf_switches > 20);
    assert_int_equal(s.appends, N);
    log_close(lm);

    lm = open_ok(p, NULL);
    verify_all(lm, first, ents, N);
    log_close(lm);
    free(ents);
}

static void test_reopen_exact_end(void **st)
{
    (void)st;
    char p[300];
    newpath(p, sizeof p);
    log_options o = opts(V64K, 2, 0, 0);
    logmgr *lm = create_ok(p, &o);
    struct ent ents[900];
    size_t n = 0;
    for (int round = 0; round < 3; round++) {
        for (int i = 0; i < 300; i++, n++) {
            ents[n].id = n + 1;
            ents[n].len = rnd_len() % 2000;
            ents[n].lsn = app_ok(lm, ents[n].id, ents[n].len);
        }
        lsn_t end = log_end_lsn(lm);
        log_close(lm);
        lm = open_ok(p, &o);
        assert_int_equal(log_end_lsn(lm), end);
        assert_int_equal(log_durable_lsn(lm), end);
        verify_all(lm, V64K + 512, ents, n);
    }
    log_close(lm);
}

/* Garbage and a torn record after the last good one are cut off; appends
 * continue where the valid log ends and never see the garbage again. */
static void test_torn_tail(void **st)
{
    (void)st;
    char p[300];
    newpath(p, sizeof p);
    log_options o = opts(V64K, 2, 0, 0);
    logmgr *lm = create_ok(p, &o);
    struct ent ents[400];
    size_t n = 0;
    for (; n < 100; n++) {
        ents[n].id = n + 1;
        ents[n].len = 100 + n;
        ents[n].lsn = app_ok(lm, ents[n].id, ents[n].len);
    }
    lsn_t end = log_end_lsn(lm);
    uint64_t off = file_off(lm, end);
    log_close(lm);

    /* 1: random garbage right after the last record */
    uint8_t junk[3000];
    for (size_t i = 0; i < sizeof junk; i++)
        junk[i] = (uint8_t)rnd();
    raw_write(p, off, junk, sizeof junk);
    lm = open_ok(p, &o);
    assert_int_equal(log_end_lsn(lm), end);
    verify_all(lm, V64K + 512, ents, n);

    /* 2: a torn write (only the first half of the round reaches the disk) */
    lsn_t torn = app_ok(lm, 999, 400);
    assert_int_equal(torn, end);
    fault_rule fr = { .path_contains = p, .ops = FIO_OP_WRITE, .nth = 1, .action = FAULT_TORN };
    int id = fault_add(&fr);
    hdb_err e = {0};
    assert_int_equal(log_flush_to(lm, torn, &e), 0);  /* the "power cut" comes before we know */
    assert_int_equal(fault_fired(id), 1);
    fault_clear();
    log_close_abandon(lm);
    lm = open_ok(p, &o);
    assert_int_equal(log_end_lsn(lm), end);
    verify_all(lm, V64K + 512, ents, n);

    /* 3: appends continue at the cut; a later reopen sees only them */
    for (; n < 200; n++) {
        ents[n].id = n + 1;
        ents[n].len = 37 + n;
        ents[n].lsn = app_ok(lm, ents[n].id, ents[n].len);
    }
    assert_int_equal(ents[100].lsn, end);
    log_close(lm);
    lm = open_ok(p, &o);
    verify_all(lm, V64K + 512, ents, n);
    log_close(lm);
}

/* A lost write in the middle leaves later records of the same VLF on disk with
 * their correct LSNs and salt; after reopen they must never come back. */
static void test_stale_same_vlf_after_crash(void **st)
{
    (void)st;
    char p[300];
    newpath(p, sizeof p);
    log_options o = opts(V64K, 2, 0, 0);
    logmgr *lm = create_ok(p, &o);
    struct ent ents[100];
    size_t n = 0;
    for (; n < 20; n++) {
        ents[n].id = n + 1;
        ents[n].len = 64;
        ents[n].lsn = app_ok(lm, ents[n].id, ents[n].len);
    }
    lsn_t cut = app_ok(lm, 500, 64);
    for (int i = 0; i < 10; i++)
        app_ok(lm, 501 + i, 64);
    hdb_err e = {0};
    assert_int_equal(log_flush_all(lm, &e), 0);
    uint64_t off = file_off(lm, cut);
    log_close_abandon(lm);
    uint8_t b = 0xff;
    raw_write(p, off + 20, &b, 1);   /* record 500 damaged; 501.. intact */

    lm = open_ok(p, &o);
    assert_int_equal(log_end_lsn(lm), cut);
    /* same size as 500: the new record ends exactly where 501 starts */
    ents[n].id = 7000;
    ents[n].len = 64;
    ents[n].lsn = app_ok(lm, 7000, 64);
    assert_int_equal(ents[n].lsn, cut);
    n++;
    log_close(lm);
    lm = open_ok(p, &o);
    verify_all(lm, V64K + 512, ents, n);
    assert_int_equal(log_end_lsn(lm), ents[n - 1].lsn + 104);
    log_close(lm);
}

/* The last record of VLF s lost but VLF s+1 written: the log ends in VLF s. */
static void test_hole_across_vlfs(void **st)
{
    (void)st;
    char p[300];
    newpath(p, sizeof p);
    log_options o = opts(V64K, 4, 0, 0);
    logmgr *lm = create_ok(p, &o);
    struct ent ents[400];
    size_t n = 0;
    lsn_t last_in_first = 0;
    uint64_t id = 1;
    for (;;) {
        lsn_t l = app_ok(lm, id, 1000);
        if (l / V64K != 1)
            break;
        ents[n++] = (struct ent){ l, id, 1000 };
        last_in_first = l;
        id++;
    }
    for (int i = 0; i < 5; i++)
        app_ok(lm, 10000 + i, 1000);
    hdb_err e = {0};
    assert_int_equal(log_flush_all(lm, &e), 0);
    uint64_t off = file_off(lm, last_in_first);
    log_close_abandon(lm);
    uint8_t z[64] = {0};
    raw_write(p, off + 40, z, sizeof z);
    n--;   /* that record is gone */

    lm = open_ok(p, &o);
    assert_int_equal(log_end_lsn(lm), last_in_first);
    verify_all(lm, V64K + 512, ents, n);
    for (int i = 0; i < 100; i++, n++) {
        ents[n].id = 20000 + i;
        ents[n].len = 700;
        ents[n].lsn = app_ok(lm, ents[n].id, ents[n].len);
    }
    log_close(lm);
    lm = open_ok(p, &o);
    verify_all(lm, V64K + 512, ents, n);
    log_close(lm);
}

/* Same start as above, but after reopen the slot whose header was invalidated
 * is reused for the same sequence and the new log ends exactly where one of
 * the stale records of that sequence starts: only the per-use salt tells them
 * apart. */
static void test_stale_reused_slot(void **st)
{
    (void)st;
    char p[300];
    newpath(p, sizeof p);
    log_options o = opts(V64K, 4, 0, 0);
    logmgr *lm = create_ok(p, &o);
    struct ent ents[400];
    size_t n = 0;
    lsn_t last_in_first = 0;
    uint64_t id = 1;
    for (;;) {
        lsn_t l = app_ok(lm, id, 1000);   /* framed 1040 */
        if (l / V64K != 1)
            break;
        ents[n++] = (struct ent){ l, id, 1000 };
        last_in_first = l;
        id++;
    }
    for (int i = 0; i < 5; i++)
        app_ok(lm, 10000 + i, 1000);
    hdb_err e = {0};
    assert_int_equal(log_flush_all(lm, &e), 0);
    uint64_t off = file_off(lm, last_in_first);
    log_close_abandon(lm);
    uint8_t z[64] = {0};
    raw_write(p, off + 40, z, sizeof z);
    n--;

    lm = open_ok(p, &o);
    int in2 = 0;
    while (in2 < 2) {
        ents[n].id = 30000 + n;
        ents[n].len = 480;                 /* framed 520: two end where stale #2 starts */
        ents[n].lsn = app_ok(lm, ents[n].id, ents[n].len);
        if (ents[n].lsn / V64K == 2)
            in2++;
        n++;
    }
    lsn_t end = log_end_lsn(lm);
    assert_int_equal(end, 2 * V64K + 512 + 1040);
    log_close(lm);
    lm = open_ok(p, &o);
    assert_int_equal(log_end_lsn(lm), end);
    verify_all(lm, V64K + 512, ents, n);
    log_close(lm);
}

/* Truncation frees VLFs, new VLFs reuse their slots; old records left in a
 * reused slot are never read, even after reopen. */
static void test_reuse_wraparound(void **st)
{
    (void)st;
    char p[300];
    newpath(p, sizeof p);
    log_options o = opts(V64K, 4, 0, 0);
    logmgr *lm = create_ok(p, &o);
    hdb_err e = {0};
    struct ent *ents = calloc(20000, sizeof *ents);
    size_t n = 0, keep = 0;
    for (int cycle = 0; cycle < 12; cycle++) {
        /* big records first so later, smaller ones leave old bytes behind */
        size_t len = cycle % 2 ? 3000 : 150;
        for (int i = 0; i < 60; i++, n++) {
            ents[n].id = n + 1;
            ents[n].len = len + (size_t)(rnd() % 50);
            ents[n].lsn = app_ok(lm, ents[n].id, ents[n].len);
        }
        assert_int_equal(log_flush_all(lm, &e), 0);
        lsn_t t = ents[n - 5].lsn;
        assert_int_equal(log_truncate_before(lm, t, &e), 0);
        lsn_t tl = log_truncation_lsn(lm);
        assert_true(tl <= t);
        while (ents[keep].lsn < (tl / V64K) * V64K)
            keep++;
    }
    log_stats s;
    log_get_stats(lm, &s);
    lsn_t end = log_end_lsn(lm);
    uint64_t size = log_file_size(lm);
    verify_all(lm, (log_truncation_lsn(lm) / V64K) * V64K, ents + keep, n - keep);
    log_close(lm);
    lm = open_ok(p, &o);
    assert_int_equal(log_end_lsn(lm), end);
    assert_int_equal(log_file_size(lm), size);
    verify_all(lm, (log_truncation_lsn(lm) / V64K) * V64K, ents + keep, n - keep);
    /* reading below the truncation VLF is refused */
    assert_null(log_reader_open(lm, V64K + 512, 0, &e));
    log_close(lm);
    free(ents);
}

static void test_growth(void **st)
{
    (void)st;
    char p[300];
    newpath(p, sizeof p);
    log_options o = opts(V64K, 2, 0, 0);
    logmgr *lm = create_ok(p, &o);
    assert_int_equal(log_file_size(lm), 4096 + 2 * V64K);
    struct ent ents[300];
    for (size_t i = 0; i < 300; i++) {
        ents[i].id = i + 1;
        ents[i].len = 4000;
        ents[i].lsn = app_ok(lm, ents[i].id, ents[i].len);
    }
    log_stats s;
    log_get_stats(lm, &s);
    assert_true(s.grows >= 4);
    uint64_t size = log_file_size(lm);
    assert_int_equal((size - 4096) % (LOG_GROW_VLFS * V64K), 2 * V64K);
    log_vlf_info v[64];
    int nv = log_vlfs(lm, v, 64);
    assert_int_equal((uint64_t)nv * V64K + 4096, size);
    int active = 0;
    for (int i = 0; i < nv; i++) {
        assert_int_equal(v[i].file_offset, 4096 + (uint64_t)i * V64K);
        assert_int_equal(v[i].size, V64K);
        if (v[i].active) {
            active++;
            assert_int_equal(v[i].first_lsn, v[i].seq * V64K + 512);
        }
    }
    assert_int_equal((uint64_t)active * V64K, log_used_bytes(lm));
    log_close(lm);
    lm = open_ok(p, &o);
    assert_int_equal(log_file_size(lm), size);
    verify_all(lm, V64K + 512, ents, 300);
    log_close(lm);
}

static void test_log_full_9002(void **st)
{
    (void)st;
    char p[300];
    newpath(p, sizeof p);
    log_options o = opts(V64K, 2, 4096 + 4 * V64K, 0);
    logmgr *lm = create_ok(p, &o);
    log_set_name(lm, "fulldb");
    hdb_err e = {0};
    uint64_t id = 1;
    lsn_t last = 0;
    for (;;) {
        lsn_t l = app(lm, id, 2000, &e);
        if (!l)
            break;
        last = l;
        id++;
        assert_true(id < 1000);
    }
    assert_int_equal(e.number, 9002);
    assert_int_equal(e.severity, 17);
    assert_non_null(strstr(e.msg, "'fulldb'"));
    assert_int_equal(log_file_size(lm), 4096 + 4 * V64K);
    /* still usable: earlier records can be flushed, truncation frees space */
    assert_int_equal(log_flush_to(lm, last, &e), 0);
    log_set_reuse_wait(lm, "LOG_BACKUP");
    hdb_err e2 = {0};
    assert_int_equal(app(lm, id, 2000, &e2), 0);
    assert_non_null(strstr(e2.msg, "LOG_BACKUP"));
    assert_int_equal(log_truncate_before(lm, last, &e), 0);
    for (int i = 0; i < 60; i++)
        app_ok(lm, ++id, 2000);
    assert_int_equal(log_file_size(lm), 4096 + 4 * V64K);

    /* ENOSPC on growth: 9002 for that append only */
    log_close(lm);
    newpath(p, sizeof p);
    o = opts(V64K, 2, 0, 0);
    lm = create_ok(p, &o);
    fault_rule fr = { .path_contains = p, .ops = FIO_OP_RESIZE, .action = FAULT_ENOSPC };
    int fid = fault_add(&fr);
    id = 1;
    hdb_err e3 = {0};
    while (app(lm, id, 2000, &e3))
        id++;
    assert_true(fault_fired(fid) >= 1);
    assert_int_equal(e3.number, 9002);
    fault_clear();
    app_ok(lm, id, 2000);   /* growth works again */
    assert_int_equal(log_flush_all(lm, &e), 0);
    assert_int_equal(log_failed(lm, NULL), 0);
    log_close(lm);
}

/* Over a long run with truncation the file stays the same size. */
static void test_bounded_size(void **st)
{
    (void)st;
    char p[300];
    newpath(p, sizeof p);
    log_options o = opts(V64K, 4, 0, 0);
    logmgr *lm = create_ok(p, &o);
    hdb_err e = {0};
    uint64_t id = 1, max_size = 0;
    lsn_t last = 0;
    for (int round = 0; round < 200; round++) {
        for (int i = 0; i < 20; i++)
            last = app_ok(lm, id++, 2000);
        assert_int_equal(log_flush_to(lm, last, &e), 0);
        assert_int_equal(log_set_checkpoint(lm, last, &e), 0);
        assert_int_equal(log_truncate_before(lm, last, &e), 0);
        if (log_file_size(lm) > max_size)
            max_size = log_file_size(lm);
    }
    assert_true(last > 100 * V64K);        /* went through many VLF sequences */
    assert_true(max_size <= 4096 + 8 * V64K);
    assert_int_equal(log_checkpoint_lsn(lm), last);
    log_close(lm);
    lm = open_ok(p, &o);
    assert_int_equal(log_checkpoint_lsn(lm), last);
    log_rec r;
    uint8_t *buf = NULL;
    size_t cap = 0;
    assert_int_equal(log_read_at(lm, last, &r, &buf, &cap, &e), 0);
    check_rec(&r, id - 1, 2000);
    free(buf);
    log_close(lm);
}

/* ---- group commit -------------------------------------------------------- */

#define GC_THREADS 8
#define GC_COMMITS 500

struct gc_arg { logmgr *lm; int t; lsn_t lsns[GC_COMMITS]; int bad; };

static void *gc_thread(void *a_)
{
    struct gc_arg *a = a_;
    for (int i = 0; i < GC_COMMITS; i++) {
        hdb_err e = {0};
        uint64_t id = (uint64_t)a->t * 1000000 + (uint64_t)i;
        lsn_t l = app(a->lm, id, 40 + (size_t)(i % 7) * 16, &e);
        if (!l || log_flush_to(a->lm, l, &e) < 0 || log_durable_lsn(a->lm) <= l)
            a->bad++;
        a->lsns[i] = l;
    }
    return NULL;
}

static void test_group_commit(void **st)
{
    (void)st;
    char p[300];
    newpath(p, sizeof p);
    log_options o = opts(V64K, 4, 0, 0);
    logmgr *lm = create_ok(p, &o);
    struct gc_arg *args = calloc(GC_THREADS, sizeof *args);
    pthread_t th[GC_THREADS];
    for (int t = 0; t < GC_THREADS; t++) {
        args[t].lm = lm;
        args[t].t = t;
        pthread_create(&th[t], NULL, gc_thread, &args[t]);
    }
    for (int t = 0; t < GC_THREADS; t++)
        pthread_join(th[t], NULL);
    log_stats s;
    log_get_stats(lm, &s);
    for (int t = 0; t < GC_THREADS; t++)
        assert_int_equal(args[t].bad, 0);
    int commits = GC_THREADS * GC_COMMITS;
    print_message("group commit: %d commits, %llu fdatasyncs, %llu rounds\n", commits,
                  (unsigned long long)s.syncs, (unsigned long long)s.rounds);
    assert_true(s.syncs * 2 < (uint64_t)commits);   /* observed ~4 commits per sync */
    assert_int_equal(s.syncs, s.rounds);

    /* every commit is in the log after a crash */
    log_close_abandon(lm);
    lm = open_ok(p, &o);
    log_reader *r = log_reader_open(lm, V64K + 512, 1, NULL);
    assert_non_null(r);
    int next[GC_THREADS] = {0};
    log_rec rec;
    int n = 0;
    while (log_reader_next(r, &rec, NULL) == 1) {
        int t = (int)(rec.txn_id / 1000000), i = (int)(rec.txn_id % 1000000);
        assert_true(t < GC_THREADS);
        assert_int_equal(i, next[t]);   /* each thread's records in its order */
        assert_int_equal(rec.lsn, args[t].lsns[i]);
        check_rec(&rec, rec.txn_id, 40 + (size_t)(i % 7) * 16);
        next[t]++;
        n++;
    }
    assert_int_equal(n, commits);
    log_reader_close(r);
    log_close(lm);
    free(args);
}

/* A single committer is not held up by the periodic timer. */
static void test_single_commit_latency(void **st)
{
    (void)st;
    char p[300];
    newpath(p, sizeof p);
    logmgr *lm = create_ok(p, NULL);
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    hdb_err e = {0};
    for (int i = 0; i < 50; i++) {
        lsn_t l = app_ok(lm, (uint64_t)i + 1, 100);
        assert_int_equal(log_flush_to(lm, l, &e), 0);
    }
    clock_gettime(CLOCK_MONOTONIC, &b);
    double ms = (double)(b.tv_sec - a.tv_sec) * 1e3 + (double)(b.tv_nsec - a.tv_nsec) / 1e6;
    print_message("50 serial commits: %.1f ms\n", ms);
    assert_true(ms < 50 * 50.0);   /* far below 50 x 100 ms */
    log_close(lm);
}

/* Unflushed data becomes durable by itself within about 100 ms. */
static void test_periodic_flush(void **st)
{
    (void)st;
    char p[300];
    newpath(p, sizeof p);
    logmgr *lm = create_ok(p, NULL);
    for (int k = 0; k < 2; k++) {   /* from a fresh log, and again once idle */
        lsn_t l = app_ok(lm, 1, 100);
        for (int i = 0; i < 100 && log_durable_lsn(lm) <= l; i++)
            usleep(10000);
        assert_true(log_durable_lsn(lm) > l);
        usleep(150000);
    }
    log_stats s;
    log_get_stats(lm, &s);
    assert_int_equal(s.flush_waits, 0);
    log_close(lm);
}

/* ---- failures ------------------------------------------------------------ */

static void io_failure(unsigned ops)
{
    char p[300];
    newpath(p, sizeof p);
    log_options o = opts(V64K, 2, 0, 0);
    logmgr *lm = create_ok(p, &o);
    log_set_name(lm, "faildb");
    struct ent ents[200];
    size_t n = 0;
    hdb_err e = {0};
    for (; n < 100; n++) {
        ents[n].id = n + 1;
        ents[n].len = 300;
        ents[n].lsn = app_ok(lm, ents[n].id, ents[n].len);
        if (n % 10 == 9)
            assert_int_equal(log_flush_to(lm, ents[n].lsn, &e), 0);
    }
    lsn_t durable = log_durable_lsn(lm);
    assert_true(durable > ents[99].lsn);

    fault_rule fr = { .path_contains = p, .ops = ops, .nth = 0, .action = FAULT_EIO };
    int fid = fault_add(&fr);
    lsn_t l = app_ok(lm, 5000, 300);
    assert_int_equal(log_flush_to(lm, l, &e), -1);
    assert_int_equal(e.number, 9001);
    assert_int_equal(e.severity, 21);
    assert_non_null(strstr(e.msg, "'faildb'"));
    assert_true(fault_fired(fid) >= 1);
    assert_true(log_durable_lsn(lm) <= l);   /* never reported durable */
    hdb_err d = {0};
    assert_int_equal(log_failed(lm, &d), 1);
    assert_int_equal(d.number, 823);
    hdb_err e2 = {0};
    assert_int_equal(app(lm, 5001, 10, &e2), 0);
    assert_int_equal(e2.number, 9001);
    hdb_err e3 = {0};
    assert_int_equal(log_flush_all(lm, &e3), -1);
    assert_int_equal(log_set_checkpoint(lm, 0, &e3), -1);
    fault_clear();
    log_close(lm);

    lm = open_ok(p, &o);
    assert_true(log_end_lsn(lm) >= durable);
    /* every acknowledged record is there; 5000 only if its write reached the file */
    assert_true(verify_prefix(lm, V64K + 512, ents, n, 1) <= 1);
    lsn_t a = app_ok(lm, 6000, 10);
    assert_int_equal(log_flush_to(lm, a, &e), 0);
    log_close(lm);
}

static void test_write_failure(void **st) { (void)st; io_failure(FIO_OP_WRITE); }
static void test_sync_failure(void **st) { (void)st; io_failure(FIO_OP_SYNC); }

/* ---- random access, readers ---------------------------------------------- */

static void test_read_at(void **st)
{
    (void)st;
    char p[300];
    newpath(p, sizeof p);
    log_options o = opts(V64K, 2, 0, 0);
    logmgr *lm = create_ok(p, &o);
    struct ent ents[500];
    for (size_t i = 0; i < 500; i++) {
        ents[i].id = i + 1;
        ents[i].len = rnd_len();
        ents[i].lsn = app_ok(lm, ents[i].id, ents[i].len);
    }
    uint8_t *buf = NULL;
    size_t cap = 0;
    log_rec r;
    hdb_err e = {0};
    for (int k = 0; k < 1000; k++) {
        size_t i = rnd() % 500;
        assert_int_equal(log_read_at(lm, ents[i].lsn, &r, &buf, &cap, &e), 0);
        assert_ptr_equal(r.body, buf);
        check_rec(&r, ents[i].id, ents[i].len);
        if (k == 500)
            assert_int_equal(log_flush_all(lm, &e), 0);
    }
    /* not a record boundary, beyond the end, in a header */
    assert_int_equal(log_read_at(lm, ents[10].lsn + 8, &r, &buf, &cap, &e), -1);
    assert_int_equal(log_read_at(lm, log_end_lsn(lm), &r, &buf, &cap, &e), -1);
    assert_int_equal(log_read_at(lm, 2 * V64K + 8, &r, &buf, &cap, &e), -1);
    free(buf);

    /* largest record that fits a VLF; one byte more is rejected */
    size_t maxb = V64K - 512 - 40;
    lsn_t l = app_ok(lm, 77, maxb);
    assert_int_equal(l % V64K, 512);
    assert_int_equal(app(lm, 78, maxb + 1, &e), 0);
    assert_int_equal(e.number, 40000);
    buf = NULL;
    cap = 0;
    assert_int_equal(log_read_at(lm, l, &r, &buf, &cap, &e), 0);
    check_rec(&r, 77, maxb);
    free(buf);
    log_close(lm);
}

struct rd_arg {
    logmgr *lm;
    int durable_only;
    long want;
    long seen;
    int bad;
};

static void *reader_thread(void *a_)
{
    struct rd_arg *a = a_;
    log_reader *r = log_reader_open(a->lm, V64K + 512, a->durable_only, NULL);
    if (!r) {
        a->bad++;
        return NULL;
    }
    log_rec rec;
    lsn_t prev = 0;
    while (a->seen < a->want) {
        hdb_err e = {0};
        int rc = log_reader_next(r, &rec, &e);
        if (rc < 0) {
            a->bad++;
            break;
        }
        if (rc == 0) {
            sched_yield();
            continue;
        }
        if (rec.lsn <= prev)
            a->bad++;
        if (a->durable_only && rec.lsn + rec.len > log_durable_lsn(a->lm))
            a->bad++;
        /* body must be complete: it is derived from txn_id */
        size_t len = rec.body_len;
        for (size_t i = 8; i < len; i++)
            if (rec.body[i] != pat(rec.txn_id, i)) {
                a->bad++;
                break;
            }
        prev = rec.lsn;
        a->seen++;
    }
    log_reader_close(r);
    return NULL;
}

struct wr_arg { logmgr *lm; int t; int n; };

static void *writer_thread(void *a_)
{
    struct wr_arg *a = a_;
    for (int i = 0; i < a->n; i++) {
        uint64_t id = (uint64_t)a->t << 32 | (uint64_t)i;
        lsn_t l = app(a->lm, id, (size_t)(id * 2654435761u % 5000), NULL);
        if (l && i % 50 == 0)
            log_flush_to(a->lm, l, NULL);
    }
    return NULL;
}

static void test_concurrent_readers(void **st)
{
    (void)st;
    char p[300];
    newpath(p, sizeof p);
    log_options o = opts(V64K, 4, 0, 128 * 1024);
    logmgr *lm = create_ok(p, &o);
    const int per = 3000;
    struct wr_arg w[2] = { { lm, 1, per }, { lm, 2, per } };
    struct rd_arg r[2] = { { lm, 0, 2 * per, 0, 0 }, { lm, 1, 2 * per, 0, 0 } };
    pthread_t tw[2], tr[2];
    for (int i = 0; i < 2; i++)
        pthread_create(&tr[i], NULL, reader_thread, &r[i]);
    for (int i = 0; i < 2; i++)
        pthread_create(&tw[i], NULL, writer_thread, &w[i]);
    for (int i = 0; i < 2; i++)
        pthread_join(tw[i], NULL);
    hdb_err e = {0};
    assert_int_equal(log_flush_all(lm, &e), 0);
    for (int i = 0; i < 2; i++)
        pthread_join(tr[i], NULL);
    for (int i = 0; i < 2; i++) {
        assert_int_equal(r[i].bad, 0);
        assert_int_equal(r[i].seen, 2 * per);
    }
    log_close(lm);
}

/* ---- master block -------------------------------------------------------- */

static void test_master_copies(void **st)
{
    (void)st;
    char p[300];
    newpath(p, sizeof p);
    log_options o = opts(V64K, 4, 0, 0);
    logmgr *lm = create_ok(p, &o);
    hdb_err e = {0};
    lsn_t ck = 0, l = 0;
    for (int i = 0; i < 200; i++) {
        l = app_ok(lm, (uint64_t)i + 1, 1000);
        if (i == 150)
            ck = l;
    }
    assert_int_equal(log_set_checkpoint(lm, ck, &e), 0);
    assert_int_equal(log_truncate_before(lm, ck, &e), 0);
    lsn_t tl = log_truncation_lsn(lm);
    assert_int_equal(tl, ck);
    /* never backward, never past the checkpoint */
    assert_int_equal(log_truncate_before(lm, ck - 1000, &e), 0);
    assert_int_equal(log_truncation_lsn(lm), tl);
    assert_int_equal(log_truncate_before(lm, l, &e), 0);
    assert_int_equal(log_truncation_lsn(lm), tl);
    assert_int_equal(log_set_checkpoint(lm, ck - 8, &e), -1);
    lsn_t end = log_end_lsn(lm);
    log_close(lm);

    uint8_t junk[100];
    memset(junk, 0xA5, sizeof junk);
    for (int copy = 0; copy < 2; copy++) {
        uint8_t save[2048];
        raw_read(p, (uint64_t)copy * 2048, save, sizeof save);
        raw_write(p, (uint64_t)copy * 2048 + 10, junk, sizeof junk);
        lm = open_ok(p, &o);
        assert_int_equal(log_checkpoint_lsn(lm), ck);
        assert_int_equal(log_truncation_lsn(lm), tl);
        assert_int_equal(log_end_lsn(lm), end);
        log_close(lm);
        /* the open repaired the bad copy */
        uint8_t now[2048];
        raw_read(p, (uint64_t)copy * 2048, now, sizeof now);
        assert_int_equal(memcmp(now + 10, junk, sizeof junk) != 0, 1);
    }
    /* both copies bad: the log cannot be opened */
    raw_write(p, 10, junk, sizeof junk);
    raw_write(p, 2048 + 10, junk, sizeof junk);
    assert_null(log_open(p, &o, &e));
    assert_int_equal(e.number, 9004);
}

/* A torn master write (first copy half written) leaves the old state. */
static void test_master_torn(void **st)
{
    (void)st;
    char p[300];
    newpath(p, sizeof p);
    log_options o = opts(V64K, 2, 0, 0);
    logmgr *lm = create_ok(p, &o);
    hdb_err e = {0};
    lsn_t a = app_ok(lm, 1, 100), b = app_ok(lm, 2, 100);
    assert_int_equal(log_set_checkpoint(lm, a, &e), 0);
    assert_int_equal(log_flush_all(lm, &e), 0);
    fault_rule fr = { .path_contains = p, .ops = FIO_OP_WRITE, .offset_lo = 0,
                      .offset_hi = 4096, .nth = 1, .action = FAULT_TORN };
    fault_add(&fr);
    assert_int_equal(log_set_checkpoint(lm, b, &e), 0);   /* "power cut" during it */
    fault_clear();
    log_close_abandon(lm);
    lm = open_ok(p, &o);
    lsn_t ck = log_checkpoint_lsn(lm);
    assert_true(ck == a || ck == b);
    log_close(lm);
}

/* log_mtr_drain waits for commits that entered before it, not for later ones. */
static _Atomic int drained;

static void *drain_thread(void *a)
{
    log_mtr_drain(a);
    atomic_store(&drained, 1);
    return NULL;
}

static void test_mtr_drain(void **st)
{
    (void)st;
    char p[300];
    newpath(p, sizeof p);
    log_options o = opts(V64K, 3, 0, 0);
    logmgr *lm = create_ok(p, &o);
    int before = log_mtr_enter(lm);
    atomic_store(&drained, 0);
    pthread_t th;
    pthread_create(&th, NULL, drain_thread, lm);
    usleep(30000);
    /* a commit entering after the drain began does not hold it */
    int after = log_mtr_enter(lm);
    usleep(30000);
    assert_int_equal(atomic_load(&drained), 0);
    log_mtr_leave(lm, before);
    pthread_join(th, NULL);
    assert_int_equal(atomic_load(&drained), 1);
    log_mtr_leave(lm, after);
    log_mtr_drain(lm);   /* nobody inside: returns at once */
    log_close(lm);
}

static void test_vlf_info_and_name(void **st)
{
    (void)st;
    char p[300];
    newpath(p, sizeof p);
    log_options o = opts(V64K, 3, 0, 0);
    logmgr *lm = create_ok(p, &o);
    log_vlf_info v[8];
    assert_int_equal(log_vlfs(lm, v, 8), 3);
    assert_int_equal(v[0].seq, 1);
    assert_int_equal(v[0].active, 1);
    assert_int_equal(v[0].first_lsn, V64K + 512);
    assert_int_equal(v[1].seq, 0);
    assert_int_equal(v[1].active, 0);
    assert_int_equal(v[1].first_lsn, 0);
    assert_int_equal(log_used_bytes(lm), V64K);
    assert_int_equal(log_vlfs(lm, v, 1), 3);   /* count beyond cap */
    log_close(lm);
    /* creating over an existing file fails */
    hdb_err e = {0};
    assert_null(log_create(p, &o, &e));
    assert_int_equal(e.number, 5120);
    /* bad options */
    char q[300];
    newpath(q, sizeof q);
    log_options bad = opts(1000, 2, 0, 0);
    assert_null(log_create(q, &bad, &e));
}

/* ---- main ---------------------------------------------------------------- */

static int rm_dir(const char *d)
{
    DIR *dp = opendir(d);
    if (!dp)
        return -1;
    struct dirent *de;
    char f[600];
    while ((de = readdir(dp))) {
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
            continue;
        snprintf(f, sizeof f, "%s/%s", d, de->d_name);
        unlink(f);
    }
    closedir(dp);
    return rmdir(d);
}

static int setup(void **st)
{
    (void)st;
    const char *base = getenv("HDB_TEST_TMPDIR");   /* e.g. /dev/shm to try a fast "disk" */
    snprintf(tdir, sizeof tdir, "%s/hdb_logmgr_XXXXXX", base ? base : "/tmp");
    return mkdtemp(tdir) ? 0 : -1;
}

static int teardown(void **st)
{
    (void)st;
    fault_clear();
    return rm_dir(tdir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_append_readback),
        cmocka_unit_test(test_mtr_drain),
        cmocka_unit_test(test_reopen_exact_end),
        cmocka_unit_test(test_torn_tail),
        cmocka_unit_test(test_stale_same_vlf_after_crash),
        cmocka_unit_test(test_hole_across_vlfs),
        cmocka_unit_test(test_stale_reused_slot),
        cmocka_unit_test(test_reuse_wraparound),
        cmocka_unit_test(test_growth),
        cmocka_unit_test(test_log_full_9002),
        cmocka_unit_test(test_bounded_size),
        cmocka_unit_test(test_group_commit),
        cmocka_unit_test(test_single_commit_latency),
        cmocka_unit_test(test_periodic_flush),
        cmocka_unit_test(test_write_failure),
        cmocka_unit_test(test_sync_failure),
        cmocka_unit_test(test_read_at),
        cmocka_unit_test(test_concurrent_readers),
        cmocka_unit_test(test_master_copies),
        cmocka_unit_test(test_master_torn),
        cmocka_unit_test(test_vlf_info_and_name),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
