/* test_marks.c — the marked-commit gate (txn/commit_gate.h) and what it
 * guarantees in the logs: at every mark, the cross-database transactions
 * committed before it are the same in every database, and none is in doubt. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdatomic.h>

#include "engine_harness.h"
#include "txn/commit_gate.h"

static int setup(void **state)
{
    (void)state;
    h_make_dir();
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    h_remove_dir();
    return 0;
}

/* ---- the gate alone -------------------------------------------------------- */

typedef struct { commit_gate *g; atomic_int entered; } enter_arg;

static void *enter_thread(void *p)
{
    enter_arg *a = p;
    commit_gate_enter(a->g);
    atomic_store(&a->entered, 1);
    commit_gate_leave(a->g);
    return NULL;
}

static void gate_basics(void **state)
{
    (void)state;
    commit_gate g;
    commit_gate_init(&g);
    /* someone inside: a close times out and leaves the gate open */
    commit_gate_enter(&g);
    assert_int_equal(commit_gate_close(&g, 50), -1);
    commit_gate_enter(&g);
    commit_gate_leave(&g);
    commit_gate_leave(&g);
    /* nobody inside: closed at once; a newcomer waits until it opens */
    assert_int_equal(commit_gate_close(&g, 50), 0);
    enter_arg a = { &g, 0 };
    pthread_t th;
    pthread_create(&th, NULL, enter_thread, &a);
    usleep(50000);
    assert_int_equal(atomic_load(&a.entered), 0);
    /* a second closer waits its turn too */
    assert_int_equal(commit_gate_close(&g, 30), -1);
    commit_gate_open(&g);
    pthread_join(th, NULL);
    assert_int_equal(atomic_load(&a.entered), 1);
    assert_int_equal(g.closes, 2);   /* the timed-out close reopened it too */
    commit_gate_destroy(&g);
}

/* ---- a marked commit behind a prepared transaction ---------------------------- */

static void mark_waits_for_prepared(void **state)
{
    (void)state;
    hdb_err e;
    instance *in = h_open(8);
    database *a = inst_create_database(in, "a", &e);
    database *b = inst_create_database(in, "b", &e);
    h_create_table(in, a, "t");
    h_create_table(in, b, "t");
    table_def *ta = h_table(a, "t"), *tb = h_table(b, "t");

    txn *t1 = txn_begin(in->txns, 1, "t1", "sa");
    assert_int_equal(h_insert(t1, a, ta, 1, 1, NULL, &e), 0);
    assert_int_equal(h_insert(t1, b, tb, 1, 1, NULL, &e), 0);
    uint8_t g[16] = { 9 };
    assert_int_equal(txn_prepare(t1, g, a->tdb.id, &e), 0);   /* inside the gate, undecided */

    txn_mgr_set_mark_timeout(in->txns, 100);
    txn *m = txn_begin(in->txns, 2, "M", "sa");
    m->marked = 1;
    assert_int_equal(h_insert(m, a, ta, 2, 2, NULL, &e), 0);
    assert_int_equal(h_insert(m, b, tb, 2, 2, NULL, &e), 0);
    assert_int_equal(txn_commit(m, &e), -1);
    assert_int_equal(e.number, 3928);
    assert_int_equal(m->state, TXN_ABORTED);
    txn_free(m);

    assert_int_equal(txn_commit_prepared(t1, &e), 0);
    txn_free(t1);
    m = txn_begin(in->txns, 2, "M", "sa");
    m->marked = 1;
    assert_int_equal(h_insert(m, a, ta, 3, 3, NULL, &e), 0);
    assert_int_equal(h_insert(m, b, tb, 3, 3, NULL, &e), 0);
    assert_int_equal(txn_commit(m, &e), 0);
    assert_true(m->parts[0].commit_lsn != 0 && m->parts[1].commit_lsn != 0);
    txn_free(m);
    assert_int_equal(h_get(in, a, ta, 2), -1);
    assert_int_equal(h_get(in, b, tb, 2), -1);
    assert_int_equal(h_get(in, a, ta, 3), 3);
    assert_int_equal(h_get(in, b, tb, 3), 3);
    uint64_t marks, blocked, max_blocked;
    txn_mgr_mark_stats(in->txns, &marks, &blocked, &max_blocked);
    assert_int_equal(marks, 2);   /* the timed-out close counts too */
    inst_close(in, 1);
}

/* ---- many marks under a cross-database load ---------------------------------- */

typedef struct {
    instance   *in;
    database   *a, *b;
    table_def  *ta, *tb;
    int         base;
    int         marked;
    atomic_int *stop;
    int         done;
} load_arg;

static void *load_thread(void *p)
{
    load_arg *l = p;
    hdb_err e;
    for (int i = 0; !atomic_load(l->stop) && i < 100000; i++) {
        txn *t = txn_begin(l->in->txns, l->base, l->marked ? "Mk" : "w", "sa");
        t->marked = l->marked;
        int id = l->base * 1000000 + i;
        if (h_insert(t, l->a, l->ta, id, id, NULL, &e) < 0 || h_insert(t, l->b, l->tb, id, id, NULL, &e) < 0 ||
            txn_commit(t, &e) < 0)
            fail_msg("cross-database commit: %s (%d)", e.msg, e.number);
        txn_free(t);
        l->done++;
        if (l->marked && l->done >= 150)
            atomic_store(l->stop, 1);
    }
    return NULL;
}

/* The log of one database as a sequence of (kind, txn) for PREPARE, MARK, COMMIT. */
typedef struct { uint8_t kind; uint64_t txn; } ev;

static ev *read_events(database *db, size_t *n)
{
    hdb_err e;
    log_reader *r = log_reader_open(db->tdb.log, log_truncation_lsn(db->tdb.log), 0, &e);
    assert_non_null(r);
    ev *v = NULL;
    size_t cap = 0;
    *n = 0;
    log_rec rec;
    int k;
    while ((k = log_reader_next(r, &rec, &e)) == 1) {
        if (rec.kind != LR_PREPARE && rec.kind != LR_MARK && rec.kind != LR_COMMIT)
            continue;
        if (*n == cap) {
            cap = cap ? cap * 2 : 1024;
            v = realloc(v, cap * sizeof *v);
        }
        v[(*n)++] = (ev){ rec.kind, rec.txn_id };
    }
    assert_int_equal(k, 0);
    log_reader_close(r);
    return v;
}

/* Per mark (in log order): the sorted ids committed before it. Fails if a
 * transaction is prepared but undecided at a mark. */
static int cmp_u64(const void *x, const void *y)
{
    uint64_t a = *(const uint64_t *)x, b = *(const uint64_t *)y;
    return a < b ? -1 : a > b;
}

/* Prepared, not yet committed transactions of one log (few at a time). */
typedef struct { uint64_t id[64]; int n; } open_set;

static void see(open_set *o, const ev *x, uint64_t *commits, size_t *nc)
{
    if (x->kind == LR_PREPARE) {
        assert_true(o->n < 64);
        o->id[o->n++] = x->txn;
    } else if (x->kind == LR_COMMIT) {
        for (int i = 0; i < o->n; i++)
            if (o->id[i] == x->txn) {     /* a cross-database commit */
                o->id[i] = o->id[--o->n];
                commits[(*nc)++] = x->txn;
                break;
            }
    }
}

static void check_marks(ev *ea, size_t na, ev *eb, size_t nb)
{
    size_t ia = 0, ib = 0;
    uint64_t *ca = malloc(na * sizeof *ca), *cb = malloc(nb * sizeof *cb);
    size_t nca = 0, ncb = 0, marks = 0;
    open_set oa = { .n = 0 }, ob = { .n = 0 };
    for (;;) {
        while (ia < na && ea[ia].kind != LR_MARK)
            see(&oa, &ea[ia++], ca, &nca);
        while (ib < nb && eb[ib].kind != LR_MARK)
            see(&ob, &eb[ib++], cb, &ncb);
        if (ia == na || ib == nb) {
            assert_true(ia == na && ib == nb);
            break;
        }
        assert_int_equal(ea[ia].txn, eb[ib].txn);     /* the same mark in both */
        /* nothing in doubt at the mark but the marked transaction itself */
        if (oa.n != 1 || ob.n != 1 || oa.id[0] != ea[ia].txn || ob.id[0] != eb[ib].txn)
            fail_msg("mark %zu: %d/%d prepared transactions undecided", marks, oa.n, ob.n);
        qsort(ca, nca, sizeof *ca, cmp_u64);
        qsort(cb, ncb, sizeof *cb, cmp_u64);
        if (nca != ncb || memcmp(ca, cb, nca * sizeof *ca) != 0)
            fail_msg("mark %zu: %zu commits before it in a, %zu in b", marks, nca, ncb);
        marks++;
        ia++;
        ib++;
    }
    assert_true(marks >= 150);
    free(ca);
    free(cb);
}

static void marks_split_logs_consistently(void **state)
{
    (void)state;
    hdb_err e;
    instance *in = h_open(16);
    database *a = inst_create_database(in, "a", &e);
    database *b = inst_create_database(in, "b", &e);
    h_create_table(in, a, "t");
    h_create_table(in, b, "t");
    atomic_int stop = 0;
    enum { W = 4 };
    load_arg l[W + 1];
    pthread_t th[W + 1];
    for (int i = 0; i <= W; i++) {
        l[i] = (load_arg){ in, a, b, h_table(a, "t"), h_table(b, "t"), i + 1, i == W, &stop, 0 };
        pthread_create(&th[i], NULL, load_thread, &l[i]);
    }
    for (int i = 0; i <= W; i++)
        pthread_join(th[i], NULL);
    int ordinary = 0;
    for (int i = 0; i < W; i++)
        ordinary += l[i].done;
    assert_true(ordinary > 0);
    size_t na, nb;
    ev *ea = read_events(a, &na), *eb = read_events(b, &nb);
    check_marks(ea, na, eb, nb);
    free(ea);
    free(eb);
    inst_close(in, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(gate_basics),
        cmocka_unit_test_setup_teardown(mark_waits_for_prepared, setup, teardown),
        cmocka_unit_test_setup_teardown(marks_split_logs_consistently, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
