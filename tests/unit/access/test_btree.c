/* test_btree.c — B+tree: row operations against a reference model through
 * splits and merges, invariants (bt_check), cursors (also while other threads
 * change the tree), rollback and savepoints (logical undo across page moves), a
 * tree larger than the buffer pool, drop, and a redo replay proving every page
 * change is in the log.
 *
 * Keys are generated from integer ids: an optional common prefix (long prefixes
 * make separators long, so internal pages hold few entries and trees grow deep),
 * the id big-endian, then a few id-dependent bytes (variable length). So key
 * order is id order and the reference model is an array indexed by id holding
 * the value's version (0 = absent); a value is regenerated from (id, version).
 * Set BT_SEED to vary the random sequences. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "access/btree.h"
#include "access/overflow.h"
#include "bt_harness.h"
#include "log/logrec.h"
#include "storage/pageop.h"

/* ------------------------------------------------------------- helpers */

static uint64_t seed = 0x2545F4914F6CDD1DULL;

static uint64_t mix(uint64_t z)
{
    z += 0x9E3779B97F4A7C15ULL;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

typedef struct rng { uint64_t s; } rng;
static uint64_t rnd(rng *r) { return mix(r->s++ ^ seed); }
static uint32_t rnd_below(rng *r, uint32_t n) { return n ? (uint32_t)(rnd(r) % n) : 0; }

typedef struct keyspec {
    size_t prefix;   /* common prefix bytes */
    size_t maxval;   /* values are 0..maxval-1 bytes */
} keyspec;

static size_t mk_key(uint8_t *out, const keyspec *ks, uint32_t id)
{
    memset(out, 'K', ks->prefix);
    uint8_t *p = out + ks->prefix;
    p[0] = (uint8_t)(id >> 24);
    p[1] = (uint8_t)(id >> 16);
    p[2] = (uint8_t)(id >> 8);
    p[3] = (uint8_t)id;
    size_t extra = mix(id) % 9;
    for (size_t i = 0; i < extra; i++)
        p[4 + i] = (uint8_t)(mix(id + i) | 1);
    return ks->prefix + 4 + extra;
}

static uint32_t key_id(const keyspec *ks, const uint8_t *k)
{
    const uint8_t *p = k + ks->prefix;
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static size_t mk_val(uint8_t *out, const keyspec *ks, uint32_t id, uint32_t ver)
{
    uint64_t h = mix(((uint64_t)id << 32) ^ ver);
    size_t n = ks->maxval ? h % ks->maxval : 0;
    for (size_t i = 0; i < n; i++)
        out[i] = (uint8_t)(mix(h + i / 8) >> (8 * (i % 8)));
    return n;
}

typedef struct model {
    uint32_t  n;
    uint32_t *ver;   /* 0 = absent */
    uint32_t  next_ver;
    keyspec   ks;
} model;

static void model_init(model *m, uint32_t n, keyspec ks)
{
    m->n = n;
    m->ver = calloc(n, sizeof *m->ver);
    assert_non_null(m->ver);
    m->next_ver = 1;
    m->ks = ks;
}

static void model_copy(model *dst, const model *src)
{
    *dst = *src;
    dst->ver = malloc(src->n * sizeof *dst->ver);
    assert_non_null(dst->ver);
    memcpy(dst->ver, src->ver, src->n * sizeof *dst->ver);
}

static uint64_t model_count(const model *m)
{
    uint64_t c = 0;
    for (uint32_t i = 0; i < m->n; i++)
        c += m->ver[i] != 0;
    return c;
}

#define FAILMSG(h) (h)->err.msg

/* One random operation on tree and model: insert, delete or update. */
static void random_op(bth *h, btree *bt, txn *t, txn_part *p, model *m, rng *r, int del_pct)
{
    uint8_t key[BT_MAX_KEY], val[BT_MAX_RECORD];
    uint32_t id = rnd_below(r, m->n);
    size_t kl = mk_key(key, &m->ks, id);
    int roll = (int)rnd_below(r, 100);
    int rc;
    if (!m->ver[id] && roll >= del_pct) {
        uint32_t v = m->next_ver++;
        size_t vl = mk_val(val, &m->ks, id, v);
        rc = bt_insert(bt, t, p, key, kl, val, vl, &h->err);
        if (rc != 0)
            fail_msg("insert id %u: rc %d: %s", id, rc, FAILMSG(h));
        m->ver[id] = v;
    } else if (m->ver[id] && roll < del_pct) {
        rc = bt_delete(bt, t, p, key, kl, &h->err);
        if (rc != 0)
            fail_msg("delete id %u: rc %d: %s", id, rc, FAILMSG(h));
        m->ver[id] = 0;
    } else if (m->ver[id]) {
        uint32_t v = m->next_ver++;
        size_t vl = mk_val(val, &m->ks, id, v);
        rc = bt_update(bt, t, p, key, kl, val, vl, &h->err);
        if (rc != 0)
            fail_msg("update id %u: rc %d: %s", id, rc, FAILMSG(h));
        m->ver[id] = v;
    } else {
        /* absent and we rolled "delete": the tree must agree it is absent */
        rc = bt_delete(bt, t, p, key, kl, &h->err);
        assert_int_equal(rc, 1);
        rc = bt_update(bt, t, p, key, kl, val, 1, &h->err);
        assert_int_equal(rc, 1);
    }
}

/* bt_check plus a full scan compared with the model, plus point lookups. */
static void verify(bth *h, btree *bt, const model *m, bt_stats *out)
{
    bt_stats st;
    if (bt_check(bt, &st, &h->err) != 0)
        fail_msg("bt_check: %s", FAILMSG(h));
    assert_int_equal(st.records, model_count(m));
    bt_cursor *c = bt_cursor_open(bt, NULL, 0, 1, &h->err);
    assert_non_null(c);
    uint32_t next = 0;
    const uint8_t *k, *v;
    size_t kl, vl;
    uint8_t ek[BT_MAX_KEY], ev[BT_MAX_RECORD];
    int rc;
    while ((rc = bt_cursor_next(c, &k, &kl, &v, &vl, &h->err)) == 1) {
        while (next < m->n && !m->ver[next])
            next++;
        assert_true(next < m->n);
        size_t ekl = mk_key(ek, &m->ks, next);
        if (kl != ekl || memcmp(k, ek, kl) != 0)
            fail_msg("scan: got id %u, expected id %u", key_id(&m->ks, k), next);
        size_t evl = mk_val(ev, &m->ks, next, m->ver[next]);
        assert_int_equal(vl, evl);
        assert_memory_equal(v, ev, vl);
        next++;
    }
    assert_int_equal(rc, 0);
    while (next < m->n && !m->ver[next])
        next++;
    assert_int_equal(next, m->n);
    bt_cursor_close(c);
    /* a sample of point lookups, present and absent */
    for (uint32_t id = 0; id < m->n; id += 1 + m->n / 500) {
        size_t ekl = mk_key(ek, &m->ks, id);
        uint8_t *got = NULL;
        size_t gl = 0;
        rc = bt_get(bt, ek, ekl, &got, &gl, &h->err);
        assert_int_equal(rc, m->ver[id] ? 1 : 0);
        if (rc == 1) {
            size_t evl = mk_val(ev, &m->ks, id, m->ver[id]);
            assert_int_equal(gl, evl);
            assert_memory_equal(got, ev, gl);
            free(got);
        }
    }
    if (out)
        *out = st;
}

static void open_tree(bth *h, btree *bt, uint32_t obj)
{
    pgid_t root = bt_create(&h->env, obj, 1, 1, &h->err);
    if (!root)
        fail_msg("bt_create: %s", FAILMSG(h));
    assert_int_equal(bt_open(bt, &h->env, obj, 1, 1, root), 0);
    bth_register(h, bt);
}

static void setup_h(bth *h, size_t pool)
{
    if (bth_open(h, pool) != 0)
        fail_msg("harness: %s", FAILMSG(h));
}

/* ------------------------------------------------------------- tests */

static void test_empty_and_limits(void **state)
{
    bth h;
    btree bt;
    setup_h(&h, 8u << 20);
    open_tree(&h, &bt, 100);
    bt_stats st;
    assert_int_equal(bt_check(&bt, &st, &h.err), 0);
    assert_int_equal(st.height, 1);
    assert_int_equal(st.records, 0);
    assert_int_equal(st.leaves, 1);

    uint8_t *v = NULL;
    size_t vl;
    assert_int_equal(bt_get(&bt, (const uint8_t *)"a", 1, &v, &vl, &h.err), 0);
    bt_cursor *c = bt_cursor_open(&bt, NULL, 0, 1, &h.err);
    const uint8_t *k, *cv;
    size_t kl, cvl;
    assert_int_equal(bt_cursor_next(c, &k, &kl, &cv, &cvl, &h.err), 0);
    assert_int_equal(bt_cursor_next(c, &k, &kl, &cv, &cvl, &h.err), 0);
    bt_cursor_close(c);

    txn_part *p;
    txn *t = bth_begin(&h, &p);
    assert_non_null(t);
    assert_int_equal(bt_delete(&bt, t, p, (const uint8_t *)"a", 1, &h.err), 1);
    assert_int_equal(bt_update(&bt, t, p, (const uint8_t *)"a", 1, (const uint8_t *)"x", 1, &h.err), 1);
    assert_int_equal(bt_insert(&bt, t, p, (const uint8_t *)"a", 1, (const uint8_t *)"one", 3, &h.err), 0);
    assert_int_equal(bt_insert(&bt, t, p, (const uint8_t *)"a", 1, (const uint8_t *)"two", 3, &h.err), 1);
    /* empty key and empty value are legal */
    assert_int_equal(bt_insert(&bt, t, p, (const uint8_t *)"", 0, NULL, 0, &h.err), 0);
    assert_int_equal(bt_get(&bt, (const uint8_t *)"", 0, &v, &vl, &h.err), 1);
    assert_int_equal(vl, 0);
    free(v);
    assert_int_equal(bt_get(&bt, (const uint8_t *)"a", 1, &v, &vl, &h.err), 1);
    assert_int_equal(vl, 3);
    assert_memory_equal(v, "one", 3);
    free(v);

    /* key and record limits */
    static uint8_t big[4096];
    memset(big, 'z', sizeof big);
    hdb_err_clear(&h.err);
    assert_int_equal(bt_insert(&bt, t, p, big, BT_MAX_KEY + 1, NULL, 0, &h.err), -1);
    assert_int_equal(h.err.number, 1946);
    assert_non_null(strstr(h.err.msg, "901 bytes"));
    bt_set_name(&bt, "PK_demo");
    assert_int_equal(bt_insert(&bt, t, p, big, BT_MAX_KEY + 1, NULL, 0, &h.err), -1);
    assert_non_null(strstr(h.err.msg, "'PK_demo'"));
    assert_int_equal(bt_insert(&bt, t, p, big, BT_MAX_KEY, big, BT_MAX_RECORD - BT_MAX_KEY + 1, &h.err), -1);
    assert_int_equal(h.err.number, 511);
    assert_int_equal(bt_update(&bt, t, p, (const uint8_t *)"a", 1, big, BT_MAX_RECORD, &h.err), -1);
    assert_int_equal(h.err.number, 511);
    /* the largest legal record */
    assert_int_equal(bt_insert(&bt, t, p, big, BT_MAX_KEY, big, BT_MAX_RECORD - BT_MAX_KEY, &h.err), 0);
    assert_int_equal(bt_get(&bt, big, BT_MAX_KEY + 1, &v, &vl, &h.err), 0);
    assert_int_equal(bt_delete(&bt, t, p, big, BT_MAX_KEY + 1, &h.err), 1);
    assert_int_equal(bth_commit(&h, t), 0);
    assert_int_equal(bt_check(&bt, &st, &h.err), 0);
    assert_int_equal(st.records, 3);
    bt_close(&bt);
    bth_close(&h);
}

/* Random mixes in phases (insert-heavy, mixed, delete-heavy, refill), each in
 * one committed transaction, verified after every phase. */
static void run_mix(keyspec ks, uint32_t nids, const int *phase_ops, const int *phase_del, int nphases,
                    uint64_t rs, uint64_t min_height)
{
    bth h;
    btree bt;
    setup_h(&h, 16u << 20);
    open_tree(&h, &bt, 200);
    model m;
    model_init(&m, nids, ks);
    rng r = { rs };
    uint64_t max_height = 0;
    for (int ph = 0; ph < nphases; ph++) {
        txn_part *p;
        txn *t = bth_begin(&h, &p);
        assert_non_null(t);
        for (int i = 0; i < phase_ops[ph]; i++)
            random_op(&h, &bt, t, p, &m, &r, phase_del[ph]);
        if (bth_commit(&h, t) != 0)
            fail_msg("commit: %s", FAILMSG(&h));
        bt_stats st;
        verify(&h, &bt, &m, &st);
        if (st.height > max_height)
            max_height = st.height;
    }
    /* the phases grow the tree to several levels and shrink it again */
    assert_true(max_height >= min_height);
    free(m.ver);
    bt_close(&bt);
    bth_close(&h);
}

static void test_random_mix(void **state)
{
    /* 50k operations, keys 4..12 bytes, values 0..299 bytes */
    static const int ops[] = { 15000, 15000, 12000, 8000 };
    static const int del[] = { 10, 45, 90, 20 };
    run_mix((keyspec){ 0, 300 }, 12000, ops, del, 4, 1, 2);
}

static void test_random_mix_deep(void **state)
{
    /* ~600-byte keys: separators stay long, internal pages hold ~12 entries,
     * so splits and merges cascade through several internal levels */
    static const int ops[] = { 6000, 6000, 6000, 3000 };
    static const int del[] = { 5, 50, 95, 10 };
    run_mix((keyspec){ 600, 900 }, 3000, ops, del, 4, 2, 4);
}

/* Thousands of changes rolled back (restores the committed state exactly) or
 * committed (keeps them). */
static void rollback_case(int commit)
{
    bth h;
    btree bt;
    setup_h(&h, 16u << 20);
    open_tree(&h, &bt, 300);
    model base;
    model_init(&base, 8000, (keyspec){ 8, 400 });
    rng r = { 11 };
    txn_part *p;
    txn *t = bth_begin(&h, &p);
    for (int i = 0; i < 6000; i++)
        random_op(&h, &bt, t, p, &base, &r, 0);
    assert_int_equal(bth_commit(&h, t), 0);
    verify(&h, &bt, &base, NULL);

    model work;
    model_copy(&work, &base);
    t = bth_begin(&h, &p);
    /* heavy deletes (merges), then inserts and updates (splits) */
    for (int i = 0; i < 5000; i++)
        random_op(&h, &bt, t, p, &work, &r, 80);
    for (int i = 0; i < 5000; i++)
        random_op(&h, &bt, t, p, &work, &r, 10);
    verify(&h, &bt, &work, NULL);
    if (commit) {
        assert_int_equal(bth_commit(&h, t), 0);
        verify(&h, &bt, &work, NULL);
    } else {
        if (bth_rollback(&h, t) != 0)
            fail_msg("rollback: %s", FAILMSG(&h));
        verify(&h, &bt, &base, NULL);
    }
    free(base.ver);
    free(work.ver);
    bt_close(&bt);
    bth_close(&h);
}

static void test_rollback_large(void **state) { rollback_case(0); }
static void test_commit_large(void **state) { rollback_case(1); }

static void test_savepoint(void **state)
{
    bth h;
    btree bt;
    setup_h(&h, 16u << 20);
    open_tree(&h, &bt, 400);
    model m;
    model_init(&m, 4000, (keyspec){ 0, 500 });
    rng r = { 21 };
    txn_part *p;
    txn *t = bth_begin(&h, &p);
    for (int i = 0; i < 2000; i++)
        random_op(&h, &bt, t, p, &m, &r, 20);
    model at_save;
    model_copy(&at_save, &m);
    assert_int_equal(txn_save(t, "s1", &h.err), 0);
    for (int i = 0; i < 3000; i++)
        random_op(&h, &bt, t, p, &m, &r, 40);
    verify(&h, &bt, &m, NULL);
    if (txn_rollback_to(t, "s1", &h.err) != 0)
        fail_msg("rollback to savepoint: %s", FAILMSG(&h));
    verify(&h, &bt, &at_save, NULL);
    /* go on after the partial rollback, then roll back to it again */
    free(m.ver);
    model_copy(&m, &at_save);
    for (int i = 0; i < 1000; i++)
        random_op(&h, &bt, t, p, &m, &r, 30);
    assert_int_equal(txn_rollback_to(t, "s1", &h.err), 0);
    verify(&h, &bt, &at_save, NULL);
    for (int i = 0; i < 500; i++)
        random_op(&h, &bt, t, p, &at_save, &r, 30);
    assert_int_equal(bth_commit(&h, t), 0);
    verify(&h, &bt, &at_save, NULL);
    free(m.ver);
    free(at_save.ver);
    bt_close(&bt);
    bth_close(&h);
}

/* The undone keys have moved to other pages (splits and merges by another,
 * committed transaction) before the rollback: logical undo finds them. */
static void test_undo_after_split(void **state)
{
    bth h;
    btree bt;
    setup_h(&h, 16u << 20);
    open_tree(&h, &bt, 500);
    keyspec ks = { 0, 200 };
    uint8_t key[64], val[256];
    size_t kl, vl;
    txn_part *p1, *p2;
    txn *t0 = bth_begin(&h, &p1);
    for (uint32_t id = 0; id < 40; id += 2) {   /* a one-leaf tree of even ids */
        kl = mk_key(key, &ks, id);
        vl = mk_val(val, &ks, id, 1);
        assert_int_equal(bt_insert(&bt, t0, p1, key, kl, val, vl, &h.err), 0);
    }
    assert_int_equal(bth_commit(&h, t0), 0);
    bt_stats st;
    assert_int_equal(bt_check(&bt, &st, &h.err), 0);
    assert_int_equal(st.height, 1);

    txn *t1 = bth_begin(&h, &p1);
    kl = mk_key(key, &ks, 21);   /* insert 21 */
    vl = mk_val(val, &ks, 21, 7);
    assert_int_equal(bt_insert(&bt, t1, p1, key, kl, val, vl, &h.err), 0);
    kl = mk_key(key, &ks, 10);   /* update 10 */
    vl = mk_val(val, &ks, 10, 8);
    assert_int_equal(bt_update(&bt, t1, p1, key, kl, val, vl, &h.err), 0);
    kl = mk_key(key, &ks, 30);   /* delete 30 */
    assert_int_equal(bt_delete(&bt, t1, p1, key, kl, &h.err), 0);

    /* another transaction grows the tree around those keys by thousands of
     * rows (many splits, root growth), then removes most again (merges) */
    txn *t2 = bth_begin(&h, &p2);
    for (uint32_t id = 1000; id < 9000; id++) {
        kl = mk_key(key, &ks, id);
        vl = mk_val(val, &ks, id, 1);
        assert_int_equal(bt_insert(&bt, t2, p2, key, kl, val, vl, &h.err), 0);
    }
    for (uint32_t id = 41; id < 1000; id += 2) {
        kl = mk_key(key, &ks, id);
        vl = mk_val(val, &ks, id, 1);
        assert_int_equal(bt_insert(&bt, t2, p2, key, kl, val, vl, &h.err), 0);
    }
    for (uint32_t id = 1000; id < 8990; id++) {
        kl = mk_key(key, &ks, id);
        assert_int_equal(bt_delete(&bt, t2, p2, key, kl, &h.err), 0);
    }
    assert_int_equal(bth_commit(&h, t2), 0);
    assert_int_equal(bt_check(&bt, &st, &h.err), 0);
    assert_true(st.height >= 2);

    if (bth_rollback(&h, t1) != 0)
        fail_msg("rollback: %s", FAILMSG(&h));
    model m;
    model_init(&m, 9000, ks);
    for (uint32_t id = 0; id < 40; id += 2)
        m.ver[id] = 1;
    for (uint32_t id = 41; id < 1000; id += 2)
        m.ver[id] = 1;
    for (uint32_t id = 8990; id < 9000; id++)
        m.ver[id] = 1;
    verify(&h, &bt, &m, NULL);
    free(m.ver);
    bt_close(&bt);
    bth_close(&h);
}

/* Cursor bounds, and a scan that continues after the tree changed under it. */
static void test_cursor_bounds_and_changes(void **state)
{
    bth h;
    btree bt;
    setup_h(&h, 16u << 20);
    open_tree(&h, &bt, 600);
    keyspec ks = { 0, 100 };
    uint8_t key[64], val[2048];
    size_t kl, vl;
    txn_part *p;
    txn *t = bth_begin(&h, &p);
    for (uint32_t id = 0; id < 3000; id += 3) {
        kl = mk_key(key, &ks, id);
        vl = mk_val(val, &ks, id, 1);
        assert_int_equal(bt_insert(&bt, t, p, key, kl, val, vl, &h.err), 0);
    }
    const uint8_t *k, *v;
    size_t ckl, cvl;
    /* lo = key of id 300 (present): inclusive starts there, exclusive after */
    kl = mk_key(key, &ks, 300);
    bt_cursor *c = bt_cursor_open(&bt, key, kl, 1, &h.err);
    assert_int_equal(bt_cursor_next(c, &k, &ckl, &v, &cvl, &h.err), 1);
    assert_int_equal(key_id(&ks, k), 300);
    bt_cursor_close(c);
    c = bt_cursor_open(&bt, key, kl, 0, &h.err);
    assert_int_equal(bt_cursor_next(c, &k, &ckl, &v, &cvl, &h.err), 1);
    assert_int_equal(key_id(&ks, k), 303);
    bt_cursor_close(c);
    /* lo absent (301): both start at 303 */
    kl = mk_key(key, &ks, 301);
    c = bt_cursor_open(&bt, key, kl, 1, &h.err);
    assert_int_equal(bt_cursor_next(c, &k, &ckl, &v, &cvl, &h.err), 1);
    assert_int_equal(key_id(&ks, k), 303);
    bt_cursor_close(c);
    /* lo past the end */
    kl = mk_key(key, &ks, 5000);
    c = bt_cursor_open(&bt, key, kl, 1, &h.err);
    assert_int_equal(bt_cursor_next(c, &k, &ckl, &v, &cvl, &h.err), 0);
    bt_cursor_close(c);

    /* Scan while changing the tree between calls: delete the next key, insert
     * keys just ahead and just behind, insert bursts ahead (splits) and delete
     * runs ahead (merges). The scan must return, in order and once, exactly
     * the keys present when it passes them: every key inserted ahead of it,
     * none inserted behind it, none deleted before it got there. */
    enum { N = 6000 };
    static uint8_t pstate[N], returned[N], behind[N];
    memset(pstate, 0, sizeof pstate);
    memset(returned, 0, sizeof returned);
    memset(behind, 0, sizeof behind);
    for (uint32_t id = 0; id < 3000; id += 3)
        pstate[id] = 1;
    c = bt_cursor_open(&bt, NULL, 0, 1, &h.err);
    uint32_t last = 0;
    int first = 1, bursts = 0;
    for (;;) {
        int rc = bt_cursor_next(c, &k, &ckl, &v, &cvl, &h.err);
        assert_int_not_equal(rc, -1);
        if (rc == 0)
            break;
        uint32_t id = key_id(&ks, k);
        assert_true(id < N);
        if (!first && id <= last)
            fail_msg("id %u after %u", id, last);
        if (!pstate[id])
            fail_msg("id %u returned but not present", id);
        first = 0;
        last = id;
        returned[id] = 1;
        uint32_t q = id / 3;
        if (id % 3 != 0)
            continue;
        if (q % 4 == 0 && id + 3 < 3000 && pstate[id + 3]) {   /* delete the next one */
            kl = mk_key(key, &ks, id + 3);
            assert_int_equal(bt_delete(&bt, t, p, key, kl, &h.err), 0);
            pstate[id + 3] = 0;
        }
        if (q % 4 == 1) {
            kl = mk_key(key, &ks, id + 1);   /* just ahead */
            vl = mk_val(val, &ks, id + 1, 1);
            assert_int_equal(bt_insert(&bt, t, p, key, kl, val, vl, &h.err), 0);
            pstate[id + 1] = 1;
            if (id >= 2 && !pstate[id - 1]) {   /* just behind */
                kl = mk_key(key, &ks, id - 1);
                vl = mk_val(val, &ks, id - 1, 1);
                assert_int_equal(bt_insert(&bt, t, p, key, kl, val, vl, &h.err), 0);
                pstate[id - 1] = 1;
                behind[id - 1] = 1;
            }
        }
        if (q % 60 == 7) {   /* a burst of big rows ahead: splits under the cursor */
            bursts++;
            for (uint32_t j = id + 2; j < id + 2 + 3 * 40 && j < N; j += 3) {
                if (pstate[j])
                    continue;
                kl = mk_key(key, &ks, j);
                memset(val, 'b', 1500);
                assert_int_equal(bt_insert(&bt, t, p, key, kl, val, 1500, &h.err), 0);
                pstate[j] = 1;
            }
        }
        if (q % 60 == 30) {   /* delete a run ahead: merges under the cursor */
            for (uint32_t j = id + 3; j < id + 3 + 3 * 25 && j < N; j++) {
                if (!pstate[j] || j % 3 == 2)
                    continue;
                kl = mk_key(key, &ks, j);
                assert_int_equal(bt_delete(&bt, t, p, key, kl, &h.err), 0);
                pstate[j] = 0;
            }
        }
    }
    assert_true(bursts > 5);
    for (uint32_t id = 0; id < N; id++) {
        if (behind[id])
            assert_int_equal(returned[id], 0);
        else if (pstate[id] && !returned[id])
            fail_msg("id %u present but never returned", id);
    }
    bt_cursor_close(c);
    assert_int_equal(bth_commit(&h, t), 0);
    assert_int_equal(bt_check(&bt, NULL, &h.err), 0);
    bt_close(&bt);
    bth_close(&h);
}

/* Cursors scanning while other threads insert and delete (with splits and
 * merges going on): every key present throughout is returned, in order, once. */
typedef struct conc {
    bth          *h;
    btree        *bt;
    keyspec       ks;
    uint32_t      n;
    atomic_uint   inserted;   /* odd ids below this are committed */
    atomic_int    done;
    atomic_int    failed;
} conc;

static void *inserter(void *arg)
{
    conc *c = arg;
    uint8_t key[64], val[1024];
    hdb_err e;
    txn_part *p;
    txn *t = bth_begin(c->h, &p);
    for (uint32_t id = 1; id < c->n; id += 2) {
        size_t kl = mk_key(key, &c->ks, id), vl = mk_val(val, &c->ks, id, 1);
        if (bt_insert(c->bt, t, p, key, kl, val, vl, &e) != 0) {
            fprintf(stderr, "inserter: %s\n", e.msg);
            c->failed = 1;
            break;
        }
        if (id % 400 == 399) {
            if (txn_commit(t, &e) != 0)
                c->failed = 1;
            txn_free(t);
            atomic_store(&c->inserted, id + 1);
            t = bth_begin(c->h, &p);
        }
    }
    txn_commit(t, &e);
    txn_free(t);
    atomic_store(&c->inserted, c->n);
    atomic_store(&c->done, 1);
    return NULL;
}

static void *deleter(void *arg)
{
    conc *c = arg;
    uint8_t key[64];
    hdb_err e;
    txn_part *p;
    txn *t = bth_begin(c->h, &p);
    uint32_t id = 1;
    int k = 0;
    for (;;) {
        uint32_t lim = atomic_load(&c->inserted);
        if (id >= lim) {
            if (atomic_load(&c->done) && id >= c->n)
                break;
            sched_yield();
            continue;
        }
        if (id % 4 == 1) {   /* delete half of the odd ids again */
            size_t kl = mk_key(key, &c->ks, id);
            if (bt_delete(c->bt, t, p, key, kl, &e) != 0) {
                fprintf(stderr, "deleter: %s\n", e.msg);
                c->failed = 1;
                break;
            }
            if (++k % 300 == 0) {
                txn_commit(t, &e);
                txn_free(t);
                t = bth_begin(c->h, &p);
            }
        }
        id += 2;
    }
    txn_commit(t, &e);
    txn_free(t);
    return NULL;
}

static void test_cursor_concurrent(void **state)
{
    bth h;
    btree bt;
    setup_h(&h, 32u << 20);
    open_tree(&h, &bt, 700);
    conc c = { .h = &h, .bt = &bt, .ks = { 0, 600 }, .n = 24000 };
    uint8_t key[64], val[1024];
    txn_part *p;
    txn *t = bth_begin(&h, &p);
    for (uint32_t id = 0; id < c.n; id += 2) {
        size_t kl = mk_key(key, &c.ks, id), vl = mk_val(val, &c.ks, id, 1);
        assert_int_equal(bt_insert(&bt, t, p, key, kl, val, vl, &h.err), 0);
    }
    assert_int_equal(bth_commit(&h, t), 0);

    pthread_t ti, td;
    pthread_create(&ti, NULL, inserter, &c);
    pthread_create(&td, NULL, deleter, &c);
    int scans = 0;
    do {
        bt_cursor *cur = bt_cursor_open(&bt, NULL, 0, 1, &h.err);
        assert_non_null(cur);
        const uint8_t *k, *v;
        size_t kl, vl;
        uint32_t expect_even = 0, last = 0;
        int first = 1, rc;
        while ((rc = bt_cursor_next(cur, &k, &kl, &v, &vl, &h.err)) == 1) {
            uint32_t id = key_id(&c.ks, k);
            if (!first && id <= last)
                fail_msg("scan %d: id %u after %u", scans, id, last);
            first = 0;
            last = id;
            uint8_t ev[1024];
            size_t evl = mk_val(ev, &c.ks, id, 1);
            assert_int_equal(vl, evl);
            assert_memory_equal(v, ev, vl);
            if (id % 2 == 0) {
                if (id != expect_even)
                    fail_msg("scan %d: even id %u missing (got %u)", scans, expect_even, id);
                expect_even += 2;
            }
        }
        if (rc != 0)
            fail_msg("cursor: %s", FAILMSG(&h));
        assert_int_equal(expect_even, c.n);
        bt_cursor_close(cur);
        scans++;
    } while (!atomic_load(&c.done) || scans < 3);
    pthread_join(ti, NULL);
    pthread_join(td, NULL);
    assert_int_equal(c.failed, 0);
    model m;
    model_init(&m, c.n, c.ks);
    for (uint32_t id = 0; id < c.n; id++)
        m.ver[id] = (id % 2 == 0 || id % 4 == 3) ? 1 : 0;
    verify(&h, &bt, &m, NULL);
    free(m.ver);
    print_message("  %d full scans during concurrent changes\n", scans);
    bt_close(&bt);
    bth_close(&h);
}

/* Several writers at once on disjoint keys (id % W == thread): concurrent
 * splits, merges and rollbacks; afterwards the tree equals the union of the
 * threads' models. */
enum { W = 4 };
typedef struct wctx {
    bth     *h;
    btree   *bt;
    model   *m;      /* shared model; each thread touches only its ids */
    int      w;
    uint64_t ops;
    int      failed;
    char     msg[1400];
} wctx;

static void *writer(void *arg)
{
    wctx *c = arg;
    rng r = { 9000 + (uint64_t)c->w };
    uint8_t key[BT_MAX_KEY], val[BT_MAX_RECORD];
    hdb_err e;
    uint32_t *saved = malloc(c->m->n * sizeof *saved);
    for (int round = 0; round < 12 && !c->failed; round++) {
        txn_part *p;
        txn *t = bth_begin(c->h, &p);
        if (!t) {
            c->failed = 1;
            break;
        }
        memcpy(saved, c->m->ver, c->m->n * sizeof *saved);
        int del = round % 3 == 2 ? 70 : 25;
        for (int i = 0; i < 1500; i++) {
            uint32_t id = rnd_below(&r, c->m->n / W) * W + (uint32_t)c->w;
            size_t kl = mk_key(key, &c->m->ks, id);
            int roll = (int)rnd_below(&r, 100), rc;
            uint32_t v = (uint32_t)(round * 100000 + i + 1) * W + (uint32_t)c->w;   /* unique per thread */
            if (!c->m->ver[id] && roll >= del) {
                size_t vl = mk_val(val, &c->m->ks, id, v);
                rc = bt_insert(c->bt, t, p, key, kl, val, vl, &e);
                if (rc == 0)
                    c->m->ver[id] = v;
            } else if (c->m->ver[id] && roll < del) {
                rc = bt_delete(c->bt, t, p, key, kl, &e);
                if (rc == 0)
                    c->m->ver[id] = 0;
            } else if (c->m->ver[id]) {
                size_t vl = mk_val(val, &c->m->ks, id, v);
                rc = bt_update(c->bt, t, p, key, kl, val, vl, &e);
                if (rc == 0)
                    c->m->ver[id] = v;
            } else {
                rc = 0;
            }
            if (rc != 0) {
                snprintf(c->msg, sizeof c->msg, "thread %d id %u rc %d: %s", c->w, id, rc, e.msg);
                c->failed = 1;
                break;
            }
            c->ops++;
        }
        if (c->failed) {
            txn_rollback(t, &e);
            txn_free(t);
            break;
        }
        if (round % 4 == 3) {   /* roll this round back: restore the thread's ids */
            if (txn_rollback(t, &e) != 0) {
                snprintf(c->msg, sizeof c->msg, "rollback: %s", e.msg);
                c->failed = 1;
            }
            for (uint32_t id = (uint32_t)c->w; id < c->m->n; id += W)
                c->m->ver[id] = saved[id];
        } else if (txn_commit(t, &e) != 0) {
            snprintf(c->msg, sizeof c->msg, "commit: %s", e.msg);
            c->failed = 1;
        }
        txn_free(t);
    }
    free(saved);
    return NULL;
}

static void test_concurrent_writers(void **state)
{
    bth h;
    btree bt;
    setup_h(&h, 16u << 20);
    open_tree(&h, &bt, 750);
    model m;
    model_init(&m, 8000, (keyspec){ 40, 500 });
    pthread_t th[W];
    wctx c[W];
    for (int i = 0; i < W; i++) {
        c[i] = (wctx){ .h = &h, .bt = &bt, .m = &m, .w = i };
        pthread_create(&th[i], NULL, writer, &c[i]);
    }
    uint64_t ops = 0;
    for (int i = 0; i < W; i++) {
        pthread_join(th[i], NULL);
        if (c[i].failed)
            fail_msg("%s", c[i].msg);
        ops += c[i].ops;
    }
    bt_stats st;
    verify(&h, &bt, &m, &st);
    print_message("  %llu operations by %d threads, height %llu\n", (unsigned long long)ops, W,
                  (unsigned long long)st.height);
    free(m.ver);
    bt_close(&bt);
    bth_close(&h);
}

/* 200k rows through a 4 MB pool (512 frames): most of the tree lives on disk. */
static void test_larger_than_pool(void **state)
{
    bth h;
    btree bt;
    setup_h(&h, 4u << 20);
    open_tree(&h, &bt, 800);
    const uint32_t n = 200000;
    keyspec ks = { 4, 60 };
    model m;
    model_init(&m, n, ks);
    /* insert in a scrambled order (a stride coprime with n) */
    uint8_t key[64], val[128];
    txn_part *p;
    txn *t = bth_begin(&h, &p);
    for (uint32_t i = 0; i < n; i++) {
        uint32_t id = (uint32_t)(((uint64_t)i * 7919) % n);
        size_t kl = mk_key(key, &ks, id), vl = mk_val(val, &ks, id, 1);
        if (bt_insert(&bt, t, p, key, kl, val, vl, &h.err) != 0)
            fail_msg("insert %u: %s", id, FAILMSG(&h));
        m.ver[id] = 1;
        if (i % 50000 == 49999) {
            assert_int_equal(bth_commit(&h, t), 0);
            t = bth_begin(&h, &p);
        }
    }
    assert_int_equal(bth_commit(&h, t), 0);
    bt_stats st;
    verify(&h, &bt, &m, &st);
    assert_int_equal(st.records, n);
    assert_true(st.leaves > 1000);   /* far more pages than frames */
    /* every row by point lookup, in another scrambled order */
    for (uint32_t i = 0; i < n; i++) {
        uint32_t id = (uint32_t)(((uint64_t)i * 104729) % n);
        size_t kl = mk_key(key, &ks, id);
        uint8_t *got;
        size_t gl;
        assert_int_equal(bt_get(&bt, key, kl, &got, &gl, &h.err), 1);
        size_t vl = mk_val(val, &ks, id, 1);
        assert_int_equal(gl, vl);
        assert_memory_equal(got, val, vl);
        free(got);
    }
    bp_stats bs;
    bp_get_stats(h.bp, &bs);
    assert_true(bs.evictions > 0);
    print_message("  %llu leaves, height %llu, %llu evictions\n", (unsigned long long)st.leaves,
                  (unsigned long long)st.height, (unsigned long long)bs.evictions);
    free(m.ver);
    bt_close(&bt);
    bth_close(&h);
}

static void test_drop(void **state)
{
    bth h;
    btree bt;
    setup_h(&h, 16u << 20);
    uint64_t before = bth_used_pages(&h);
    open_tree(&h, &bt, 900);
    model m;
    model_init(&m, 20000, (keyspec){ 0, 200 });
    rng r = { 31 };
    txn_part *p;
    txn *t = bth_begin(&h, &p);
    for (int i = 0; i < 15000; i++)
        random_op(&h, &bt, t, p, &m, &r, 0);
    assert_int_equal(bth_commit(&h, t), 0);
    bt_stats st;
    assert_int_equal(bt_check(&bt, &st, &h.err), 0);
    uint64_t during = bth_used_pages(&h);
    assert_int_equal(during - before, st.leaves + st.internals);
    assert_int_equal(bt_drop(&bt, &h.err), 0);
    assert_int_equal(bth_used_pages(&h), before);
    bth_unregister(&h, &bt);
    bt_close(&bt);

    /* a handle with object id 0 drops whatever tree its root belongs to */
    open_tree(&h, &bt, 901);
    memset(m.ver, 0, m.n * sizeof *m.ver);
    txn_part *p2;
    t = bth_begin(&h, &p2);
    for (int i = 0; i < 3000; i++)
        random_op(&h, &bt, t, p2, &m, &r, 0);
    assert_int_equal(bth_commit(&h, t), 0);
    assert_true(bth_used_pages(&h) > before + 10);
    btree any;
    assert_int_equal(bt_open(&any, &h.env, 0, 0, 1, bt.root), 0);
    assert_int_equal(bt_drop(&any, &h.err), 0);
    bt_close(&any);
    assert_int_equal(bth_used_pages(&h), before);
    bth_unregister(&h, &bt);
    bt_close(&bt);
    free(m.ver);
    bth_close(&h);
}

/* ---- redo replay: every page change is in the log ------------------------ */

typedef struct rpage {
    pgid_t   id;
    uint8_t *img;
} rpage;

typedef struct replay {
    rpage *p;
    size_t n, cap;
} replay;

static uint8_t *replay_page(replay *r, pgid_t id)
{
    for (size_t i = 0; i < r->n; i++)   /* linear: a few thousand pages at most */
        if (r->p[i].id == id)
            return r->p[i].img;
    if (r->n == r->cap) {
        r->cap = r->cap ? r->cap * 2 : 256;
        r->p = realloc(r->p, r->cap * sizeof *r->p);
        assert_non_null(r->p);
    }
    r->p[r->n].id = id;
    r->p[r->n].img = calloc(1, PAGE_SIZE);
    assert_non_null(r->p[r->n].img);
    return r->p[r->n++].img;
}

static void test_redo_replay(void **state)
{
    bth h;
    btree a, b;
    setup_h(&h, 8u << 20);
    open_tree(&h, &a, 1000);
    open_tree(&h, &b, 1001);
    model ma, mb;
    model_init(&ma, 6000, (keyspec){ 0, 400 });
    model_init(&mb, 1500, (keyspec){ 500, 900 });
    rng r = { 41 };
    txn_part *p;
    txn *t = bth_begin(&h, &p);
    for (int i = 0; i < 8000; i++) {
        random_op(&h, &a, t, p, &ma, &r, 15);
        if (i % 3 == 0)
            random_op(&h, &b, t, p, &mb, &r, 15);
    }
    assert_int_equal(bth_commit(&h, t), 0);
    model sa, sb;
    model_copy(&sa, &ma);
    model_copy(&sb, &mb);
    t = bth_begin(&h, &p);   /* deletes, updates, then a rollback (CLRs) */
    for (int i = 0; i < 6000; i++) {
        random_op(&h, &a, t, p, &ma, &r, 70);
        if (i % 3 == 0)
            random_op(&h, &b, t, p, &mb, &r, 70);
    }
    assert_int_equal(bth_rollback(&h, t), 0);
    t = bth_begin(&h, &p);   /* and committed merges */
    for (int i = 0; i < 4000; i++)
        random_op(&h, &a, t, p, &sa, &r, 90);
    assert_int_equal(bth_commit(&h, t), 0);
    verify(&h, &a, &sa, NULL);
    verify(&h, &b, &sb, NULL);
    /* overflow chains are redo-logged too: one kept, one freed */
    static uint8_t big[100000];
    for (size_t i = 0; i < sizeof big; i++)
        big[i] = (uint8_t)(i * 7);
    pgid_t keep = ovf_write(&h.env, 1, 1000, big, sizeof big, &h.err);
    pgid_t gone = ovf_write(&h.env, 1, 1000, big, 30000, &h.err);
    assert_true(keep && gone);
    assert_int_equal(ovf_free(&h.env, gone, &h.err), 0);

    /* replay every page op of the log onto zeroed pages */
    assert_int_equal(log_flush_all(h.log, &h.err), 0);
    log_reader *lr = log_reader_open(h.log, log_truncation_lsn(h.log), 0, &h.err);
    assert_non_null(lr);
    replay rp = { 0 };
    log_rec rec;
    int rc;
    uint64_t nrec = 0, nops = 0, kinds[LR_KIND_MAX] = { 0 };
    while ((rc = log_reader_next(lr, &rec, &h.err)) == 1) {
        nrec++;
        if (rec.kind < LR_KIND_MAX)
            kinds[rec.kind]++;
        size_t off;
        if (!logrec_pageops_offset(rec.kind, rec.body, rec.body_len, &off))
            continue;
        pageop_iter it;
        assert_int_equal(pageop_iter_init(&it, rec.body + off, rec.body_len - off), 0);
        pgid_t id;
        const uint8_t *op;
        size_t oplen;
        int k;
        while ((k = pageop_iter_next(&it, &id, &op, &oplen)) == 1) {
            uint8_t *pg = replay_page(&rp, id);
            /* redo rule: apply when the page is older than the record (several
             * ops of one record on one page all apply) */
            if (page_lsn(pg) > rec.lsn)
                continue;
            if (pageop_apply(pg, id, op, oplen, rec.lsn) != oplen)
                fail_msg("op %u on page %u at lsn %llu does not apply", op[0], PGID_PAGE(id),
                         (unsigned long long)rec.lsn);
            nops++;
        }
        assert_int_equal(k, 0);
    }
    assert_int_equal(rc, 0);
    log_reader_close(lr);
    assert_true(kinds[LR_ROW] > 0 && kinds[LR_CLR] > 0 && kinds[LR_PAGES] > 0);

    /* ... and compare with the live pages (checksum field excluded) */
    size_t compared = 0;
    for (size_t i = 0; i < rp.n; i++) {
        bp_frame *f = bp_fix(h.bp, h.df, rp.p[i].id, BP_SHARED, 0, &h.err);
        assert_non_null(f);
        const uint8_t *live = bp_page(f);
        if (memcmp(live + 4, rp.p[i].img + 4, PAGE_SIZE - 4) != 0) {
            size_t at = 4;
            while (live[at] == rp.p[i].img[at])
                at++;
            fail_msg("page %u differs from its redo at byte %zu (type %u, lsn %llu vs %llu)",
                     PGID_PAGE(rp.p[i].id), at, live[6], (unsigned long long)page_lsn(live),
                     (unsigned long long)page_lsn(rp.p[i].img));
        }
        bp_unfix(f);
        compared++;
    }
    print_message("  %llu records (%llu row, %llu clr, %llu pages), %llu ops, %zu pages identical\n",
                  (unsigned long long)nrec, (unsigned long long)kinds[LR_ROW], (unsigned long long)kinds[LR_CLR],
                  (unsigned long long)kinds[LR_PAGES], (unsigned long long)nops, compared);
    for (size_t i = 0; i < rp.n; i++)
        free(rp.p[i].img);
    free(rp.p);
    free(ma.ver);
    free(mb.ver);
    free(sa.ver);
    free(sb.ver);
    bt_close(&a);
    bt_close(&b);
    bth_close(&h);
}

int main(void)
{
    const char *s = getenv("BT_SEED");
    if (s)
        seed = strtoull(s, NULL, 0);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_empty_and_limits, bth_teardown),
        cmocka_unit_test_teardown(test_random_mix, bth_teardown),
        cmocka_unit_test_teardown(test_random_mix_deep, bth_teardown),
        cmocka_unit_test_teardown(test_rollback_large, bth_teardown),
        cmocka_unit_test_teardown(test_commit_large, bth_teardown),
        cmocka_unit_test_teardown(test_savepoint, bth_teardown),
        cmocka_unit_test_teardown(test_undo_after_split, bth_teardown),
        cmocka_unit_test_teardown(test_cursor_bounds_and_changes, bth_teardown),
        cmocka_unit_test_teardown(test_cursor_concurrent, bth_teardown),
        cmocka_unit_test_teardown(test_concurrent_writers, bth_teardown),
        cmocka_unit_test_teardown(test_larger_than_pool, bth_teardown),
        cmocka_unit_test_teardown(test_drop, bth_teardown),
        cmocka_unit_test_teardown(test_redo_replay, bth_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
