/* Unit tests: early lock release at commit (txn/README.md). With the log's
 * fdatasync made slow, a transaction waiting for a committing one's row lock
 * for writing gets it while that commit is still being flushed, and
 * everything it could pass on — an answer to its client, its own commit, a
 * rollback that restores the committed value — waits until that commit is
 * durable; a reader waits for the flush as before. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <pthread.h>
#include <time.h>

#include "engine_harness.h"

#define SLOW_SYNC_MS 300

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void count_waiter(void *ctx, const lock_res *res, lock_mode mode, int granted, const lock_owner *o)
{
    if (!granted)
        ++*(int *)ctx;
}

static int waiting_requests(instance *in)
{
    int n = 0;
    lock_mgr_foreach(txn_mgr_locks(in->txns), count_waiter, &n);
    return n;
}

/* T1 on its own thread: once someone waits for its row, commit with a
 * flush that takes SLOW_SYNC_MS. */
typedef struct {
    instance *in;
    txn *t1;
    int64_t start_ms;
    lsn_t lsn;
    pthread_t th;
} committer;

static void *committer_main(void *arg)
{
    committer *c = arg;
    for (int64_t end = now_ms() + 5000; waiting_requests(c->in) == 0 && now_ms() < end; ) {
        struct timespec ts = { 0, 1000000 };
        nanosleep(&ts, NULL);
    }
    fault_rule slow = { .path_contains = ".ldf", .ops = FIO_OP_SYNC, .action = FAULT_SLOW,
                        .delay_ms = SLOW_SYNC_MS };
    int id = fault_add(&slow);
    hdb_err e;
    c->start_ms = now_ms();
    assert_int_equal(txn_commit(c->t1, &e), 0);
    fault_remove(id);
    c->lsn = c->t1->parts[0].commit_lsn;
    txn_free(c->t1);
    return NULL;
}

/* T1 updates row 1 to 1 and commits (committer) while T2, here, updates
 * the row to 2 (write) or reads it. Returns T2 once its statement is done;
 * *granted_ms: when that was; *val: what it read. */
static txn *race(instance *in, database *db, committer *c, int write, int64_t *granted_ms, int64_t *val)
{
    hdb_err e;
    table_def *td = h_table(db, "t");
    *c = (committer){ .in = in, .t1 = txn_begin(in->txns, 1, "t1", "sa") };
    assert_int_equal(h_update(c->t1, db, td, 1, 1, &e), 0);
    txn *t2 = txn_begin(in->txns, 2, "t2", "sa");
    assert_int_equal(pthread_create(&c->th, NULL, committer_main, c), 0);
    if (write) {
        assert_int_equal(h_update(t2, db, td, 1, 2, &e), 0);
    } else {
        sql_value key = value_int(SQL_INT, 1);
        table_row r;
        assert_int_equal(table_get(t2, db, td, &key, ISO_READ_COMMITTED, &r, &e), 1);
        *val = r.vals[1].u.i;
        table_row_free(&r);
    }
    *granted_ms = now_ms();
    return t2;
}

static instance *IN_;
static database *DB_;

static database *setup_db(instance *in)
{
    hdb_err e;
    database *db = inst_create_database(in, "elr", &e);
    assert_non_null(db);
    h_create_table(in, db, "t");
    txn *t = txn_begin(in->txns, 1, "load", "sa");
    assert_int_equal(h_insert(t, db, h_table(db, "t"), 1, 0, NULL, &e), 0);
    assert_int_equal(txn_commit(t, &e), 0);
    txn_free(t);
    return db;
}

/* Each test: a fresh instance with database elr, table t, row (1, 0). */
static int fresh(void **state)
{
    h_make_dir();
    IN_ = h_open(8);
    DB_ = setup_db(IN_);
    return 0;
}

static int gone(void **state)
{
    inst_close(IN_, 1);
    h_remove_dir();
    return 0;
}

static void test_writer_gets_the_row_during_the_flush(void **state)
{
    instance *in = IN_;
    database *db = DB_;
    hdb_err e;
    committer c;
    int64_t granted, val;
    txn *t2 = race(in, db, &c, 1, &granted, &val);
    lsn_t durable_at_grant = log_durable_lsn(db->tdb.log);
    pthread_join(c.th, NULL);
    /* granted while T1's slow flush ran, and told what it depends on */
    assert_true(granted < c.start_ms + SLOW_SYNC_MS / 2);
    assert_true(durable_at_grant <= c.lsn);
    assert_int_equal(t2->lo.ndeps, 1);
    assert_ptr_equal(t2->lo.deps[0].log, db->tdb.log);
    assert_int_equal(t2->lo.deps[0].lsn, c.lsn);
    assert_true(txn_mgr_locks_handed_over(in->txns) >= 1);
    /* its own commit record comes later in the same log */
    assert_int_equal(txn_commit(t2, &e), 0);
    assert_true(t2->parts[0].commit_lsn > c.lsn);
    txn_free(t2);
    assert_int_equal(h_get(in, db, h_table(db, "t"), 1), 2);
}

static void test_writer_waits_before_it_answers(void **state)
{
    instance *in = IN_;
    database *db = DB_;
    hdb_err e;
    committer c;
    int64_t granted, val;
    txn *t2 = race(in, db, &c, 1, &granted, &val);
    assert_int_equal(t2->lo.ndeps, 1);
    lsn_t dep = t2->lo.deps[0].lsn;
    assert_true(log_durable_lsn(db->tdb.log) <= dep);   /* T1 not durable yet */
    /* what the session does before it sends its client anything */
    assert_int_equal(txn_wait_handed_commits(t2, &e), 0);
    assert_true(log_durable_lsn(db->tdb.log) > dep);
    assert_int_equal(t2->lo.ndeps, 0);
    pthread_join(c.th, NULL);
    assert_true(granted < c.start_ms + SLOW_SYNC_MS / 2);
    assert_int_equal(txn_commit(t2, &e), 0);
    txn_free(t2);
}

/* A shared lock is released after its statement (read committed): handed
 * over, it would let T1's change reach a third transaction unstamped, so a
 * reader waits for the flush as before. */
static void test_reader_waits_for_the_flush(void **state)
{
    instance *in = IN_;
    database *db = DB_;
    hdb_err e;
    committer c;
    int64_t granted, val = -1;
    txn *t2 = race(in, db, &c, 0, &granted, &val);
    pthread_join(c.th, NULL);
    assert_int_equal(val, 1);
    assert_true(granted >= c.start_ms + SLOW_SYNC_MS);
    assert_int_equal(t2->lo.ndeps, 0);
    assert_int_equal(txn_mgr_locks_handed_over(in->txns), 0);
    assert_int_equal(txn_commit(t2, &e), 0);
    txn_free(t2);
}

static void test_rollback_waits_before_releasing(void **state)
{
    instance *in = IN_;
    database *db = DB_;
    hdb_err e;
    committer c;
    int64_t granted, val;
    txn *t2 = race(in, db, &c, 1, &granted, &val);
    lsn_t dep = t2->lo.deps[0].lsn;
    assert_true(log_durable_lsn(db->tdb.log) <= dep);
    /* rolling back restores T1's value: it must not reach anyone before T1
     * is durable, so the rollback releases its locks only after that */
    assert_int_equal(txn_rollback(t2, &e), 0);
    assert_true(log_durable_lsn(db->tdb.log) > dep);
    pthread_join(c.th, NULL);
    assert_int_equal(dep, c.lsn);
    txn_free(t2);
    assert_int_equal(h_get(in, db, h_table(db, "t"), 1), 1);
}

static void test_turned_off_the_lock_waits_for_the_flush(void **state)
{
    instance *in = IN_;
    database *db = DB_;
    txn_mgr_set_early_lock_release(in->txns, 0);
    hdb_err e;
    committer c;
    int64_t granted, val;
    txn *t2 = race(in, db, &c, 1, &granted, &val);
    pthread_join(c.th, NULL);
    assert_true(granted >= c.start_ms + SLOW_SYNC_MS);
    assert_int_equal(t2->lo.ndeps, 0);
    assert_int_equal(txn_mgr_locks_handed_over(in->txns), 0);
    assert_int_equal(txn_commit(t2, &e), 0);
    txn_free(t2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_writer_gets_the_row_during_the_flush, fresh, gone),
        cmocka_unit_test_setup_teardown(test_writer_waits_before_it_answers, fresh, gone),
        cmocka_unit_test_setup_teardown(test_reader_waits_for_the_flush, fresh, gone),
        cmocka_unit_test_setup_teardown(test_rollback_waits_before_releasing, fresh, gone),
        cmocka_unit_test_setup_teardown(test_turned_off_the_lock_waits_for_the_flush, fresh, gone),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
