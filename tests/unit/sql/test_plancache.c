/*
 * test_plancache.c — the plan cache's shapes (which texts share a tree), its
 * parameter values, the lining up of the parser's literals with the
 * scanner's constants, eviction, and concurrent use.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sql/ast.h"
#include "sql/parser.h"
#include "sql/plancache.h"

#include "parser_corpus.h"
#include "plan_variant.h"

static arena A;

static int setup(void **state)
{
    (void)state;
    arena_init(&A, 0);
    plancache_flush();
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    plancache_flush();
    arena_destroy(&A);
    return 0;
}

static plan_scan *scan(const char *sql)
{
    return plancache_scan(&A, sql, strlen(sql), true, NULL, 0);
}

static bool same_shape(const char *x, const char *y)
{
    plan_scan *a = scan(x), *b = scan(y);
    assert_non_null(a);
    assert_non_null(b);
    return a->key_len == b->key_len && memcmp(a->key, b->key, a->key_len) == 0;
}

/* Parses sql into a fresh arena and publishes it; the entry (referenced) or NULL. */
static plan_entry *publish(const char *sql, arena *pa)
{
    arena_init(pa, 0);
    plan_scan *sc = scan(sql);
    if (!sc)
        return NULL;
    ast_batch *b = NULL;
    hdb_err e = { 0 };
    if (parse_batch(pa, sql, strlen(sql), NULL, &b, &e, NULL) != 0)
        fail_msg("%s: %s", sql, e.msg);
    return plancache_insert(sc, sql, pa, b);
}

static plan_entry *lookup(const char *sql, const plan_lit **lits)
{
    plan_scan *sc = scan(sql);
    return sc ? plancache_lookup(sc, sql, &A, lits) : NULL;
}

/* ------------------------------------------------------------ shapes */

static void shapes(void **state)
{
    (void)state;
    /* constants are parameters, whatever their value or length */
    assert_true(same_shape("SELECT a FROM t WHERE id = 17", "SELECT a FROM t WHERE id = 4711"));
    assert_true(same_shape("SELECT 'x', N'y', 1.5", "SELECT 'it''s', N'', 12345.125"));
    assert_true(same_shape("UPDATE t SET v = v + -5 WHERE k = 3", "UPDATE t SET v = v + -4999 WHERE k = 10"));
    /* ... but not their kind */
    assert_false(same_shape("SELECT 1", "SELECT 1.0"));
    assert_false(same_shape("SELECT 1", "SELECT 2147483648"));        /* int / numeric */
    assert_false(same_shape("SELECT 'x'", "SELECT N'x'"));
    assert_false(same_shape("SELECT 1", "SELECT '1'"));
    /* everything else is shape, as written */
    assert_false(same_shape("SELECT a FROM t WHERE id = 1", "select a from t where id = 1"));
    assert_false(same_shape("SELECT 1 -- 1\n", "SELECT 1 -- 2\n"));
    assert_false(same_shape("SELECT 1 /* 1 /* 2 */ 3 */", "SELECT 1 /* 1 /* 2 */ 4 */"));
    assert_false(same_shape("SELECT [c 1] FROM t", "SELECT [c 2] FROM t"));
    assert_false(same_shape("SELECT \"c 1\"", "SELECT \"c 2\""));
    assert_false(same_shape("SELECT t1.a FROM t1", "SELECT t2.a FROM t2"));
    assert_false(same_shape("SELECT @v1", "SELECT @v2"));
    assert_false(same_shape("SELECT 1e5", "SELECT 2e5"));              /* floats */
    assert_false(same_shape("SELECT $1.5", "SELECT $2.5"));            /* money */
    assert_false(same_shape("SELECT 0x01", "SELECT 0x02"));            /* binary */
    assert_false(same_shape("SELECT 'a\nb'", "SELECT 'a\nc'"));        /* lines would move */
    /* the options that steer the parser are part of it */
    plan_scan *q_on = scan("SELECT 1"), *q_off = plancache_scan(&A, "SELECT 1", 8, false, NULL, 0);
    assert_false(q_on->key_len == q_off->key_len && memcmp(q_on->key, q_off->key, q_on->key_len) == 0);
    const char *d1[] = { "@p1" }, *d2[] = { "@p2" };
    plan_scan *x = plancache_scan(&A, "SELECT 1", 8, true, d1, 1), *y = plancache_scan(&A, "SELECT 1", 8, true, d2, 1);
    assert_false(x->key_len == y->key_len && memcmp(x->key, y->key, x->key_len) == 0);
    /* what cannot be cached */
    assert_null(scan("SELECT 'open"));
    assert_null(scan("SELECT 1 /* open"));
    assert_null(scan("SELECT [open"));
    assert_null(scan("SELECT '\x01'"));
    assert_null(scan("SELECT 123456789012345678901234567890123456789"));   /* 1007: the parse reports it */
    char *big = malloc(PLANCACHE_MAX_TEXT + 2);
    memset(big, ' ', PLANCACHE_MAX_TEXT + 1);
    memcpy(big, "SELECT 1", 8);
    big[PLANCACHE_MAX_TEXT + 1] = 0;
    assert_null(scan(big));
    free(big);
}

/* ------------------------------------------------------------ values */

static void values_of_a_text(void **state)
{
    (void)state;
    arena pa;
    plan_entry *e = publish("SELECT id FROM t WHERE id = -5 AND name = N'a''b' AND d > 1.50", &pa);
    assert_non_null(e);
    plancache_release(e);
    arena_destroy(&pa);   /* the entry owns the tree now: pa was left empty */

    const plan_lit *v;
    e = lookup("SELECT id FROM t WHERE id = -70000 AND name = N'x''y''' AND d > 12.125", &v);
    assert_non_null(e);
    assert_int_equal(v[0].type.id, SQL_INT);
    assert_int_equal(v[0].v.u.i, -70000);   /* the folded '-' applies to the new value */
    assert_int_equal(v[1].type.id, SQL_NVARCHAR);
    assert_int_equal(v[1].v.len, 8);          /* x'y' in UTF-16 */
    assert_memory_equal(v[1].v.bytes, "x\0'\0y\0'\0", 8);
    assert_int_equal(v[2].type.id, SQL_DECIMAL);
    assert_int_equal(v[2].type.precision, 5);
    assert_int_equal(v[2].type.scale, 3);
    assert_true(v[2].v.u.dec == 12125);
    /* the shared tree's literals carry their slots */
    const ast_batch *b = plancache_batch(e);
    assert_int_equal(b->lits.n, 3);
    for (int i = 0; i < 3; i++)
        assert_int_equal(b->lits.v[i]->e->u.lit.slot, i + 1);
    plancache_release(e);

    plancache_stats st;
    plancache_get_stats(&st);
    assert_int_equal(st.entries, 1);
    assert_true(st.hits >= 1);
}

static void fixed_constants_must_match(void **state)
{
    (void)state;
    /* TOP (n) is an expression (a parameter); a KILL's session id is read by
     * the parser (parse_int_const), so it stays part of the shape */
    arena pa;
    plan_entry *e = publish("SELECT TOP (3) a FROM t; KILL 55", &pa);
    assert_non_null(e);
    plancache_release(e);
    const plan_lit *v;
    e = lookup("SELECT TOP (9) a FROM t; KILL 55", &v);
    assert_non_null(e);
    assert_int_equal(v[0].v.u.i, 9);
    plancache_release(e);
    assert_null(lookup("SELECT TOP (9) a FROM t; KILL 56", &v));
}

/* For every batch of the parser's corpus: publish it, then run a variant
 * with other constants of the same kinds through the cache. On a hit, the
 * cached tree with the variant's values must print exactly as the variant's
 * own parse does. */
static void corpus_variants(void **state)
{
    (void)state;
    int hits = 0;
    for (size_t i = 0; i < sizeof corpus / sizeof corpus[0]; i++) {
        const char *sql = corpus[i];
        arena pa;
        plan_entry *e = publish(sql, &pa);
        arena_destroy(&pa);
        if (!e)
            continue;
        plancache_release(e);

        plan_scan *sc = scan(sql);
        char var[PLANCACHE_MAX_TEXT * 2];
        assert_true(plan_variant(sql, strlen(sql), sc, var, sizeof var));

        const plan_lit *v;
        e = lookup(var, &v);
        if (!e)
            continue;   /* a fixed constant changed */
        hits++;
        char *cached = ast_batch_to_sql_with(&A, plancache_batch(e), v);
        plancache_release(e);

        ast_batch *fresh = NULL;
        hdb_err err = { 0 };
        if (parse_batch(&A, var, strlen(var), NULL, &fresh, &err, NULL) != 0)
            fail_msg("variant does not parse: %s\n  %s", err.msg, var);
        char *own = ast_batch_to_sql(&A, fresh);
        if (strcmp(cached, own) != 0)
            fail_msg("cached tree differs\n  text:   %s\n  cached: %s\n  parsed: %s", var, cached, own);
    }
    /* most of the corpus must be reusable, or the test proves nothing */
    assert_true(hits > (int)(sizeof corpus / sizeof corpus[0]) / 2);
}

/* ------------------------------------------------------------ bounds */

static void eviction_keeps_bounds(void **state)
{
    (void)state;
    char sql[100];
    arena pa;
    snprintf(sql, sizeof sql, "SELECT 1 AS c_held");
    plan_entry *held = publish(sql, &pa);   /* referenced throughout */
    assert_non_null(held);
    for (int i = 0; i < PLANCACHE_MAX_ENTRIES + 50; i++) {
        snprintf(sql, sizeof sql, "SELECT 1 AS c%d", i);
        plan_entry *e = publish(sql, &pa);
        assert_non_null(e);
        plancache_release(e);
    }
    plancache_stats st;
    plancache_get_stats(&st);
    assert_true(st.entries <= PLANCACHE_MAX_ENTRIES);
    assert_true(st.evictions >= 50);
    /* the oldest unreferenced went first; the held one stays usable */
    const plan_lit *v;
    assert_null(lookup("SELECT 1 AS c0", &v));
    assert_non_null(plancache_batch(held));
    plancache_flush();
    plancache_get_stats(&st);
    assert_int_equal(st.entries, 0);
    assert_int_equal(plancache_batch(held)->stmts.n, 1);   /* freed only at release */
    plancache_release(held);
}

/* ------------------------------------------------------------ threads */

#define SHAPES 40

static void *worker(void *arg)
{
    unsigned seed = (unsigned)(uintptr_t)arg;
    arena a;
    for (int i = 0; i < 3000; i++) {
        int shape = (int)(rand_r(&seed) % SHAPES), val = (int)(rand_r(&seed) % 100000);
        char sql[100];
        snprintf(sql, sizeof sql, "SELECT c%d FROM t WHERE k = %d", shape, val);
        arena_init(&a, 0);
        plan_scan *sc = plancache_scan(&a, sql, strlen(sql), true, NULL, 0);
        const plan_lit *v;
        plan_entry *e = plancache_lookup(sc, sql, &a, &v);
        if (e) {
            if (v[0].v.u.i != val)
                return (void *)1;
            plancache_release(e);
        } else {
            ast_batch *b;
            if (parse_batch(&a, sql, strlen(sql), NULL, &b, NULL, NULL) != 0)
                return (void *)2;
            e = plancache_insert(sc, sql, &a, b);
            if (e)
                plancache_release(e);
        }
        arena_destroy(&a);
        if (i % 500 == 499 && seed % 2)
            plancache_flush();
    }
    return NULL;
}

static void concurrent_use(void **state)
{
    (void)state;
    pthread_t th[4];
    for (uintptr_t i = 0; i < 4; i++)
        assert_int_equal(pthread_create(&th[i], NULL, worker, (void *)(i + 1)), 0);
    for (int i = 0; i < 4; i++) {
        void *rc;
        pthread_join(th[i], &rc);
        assert_null(rc);
    }
    plancache_stats st;
    plancache_get_stats(&st);
    assert_true(st.hits > 1000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
        T(shapes), T(values_of_a_text), T(fixed_constants_must_match), T(corpus_variants),
        T(eviction_keeps_bounds), T(concurrent_use),
#undef T
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
