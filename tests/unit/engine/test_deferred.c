/* test_deferred.c — deferred transactions (engine/deferred.h): recovery meets
 * an unreadable page while rolling a loser back; the transaction is deferred
 * with its locks, the database comes online, the log keeps it; resolved by
 * retrying once the page reads again, or by a restart. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "engine_harness.h"
#include "engine/catalog.h"
#include "engine/deferred.h"
#include "storage/pageop.h"

enum { ROWS = 400 };

static int setup(void **state)
{
    (void)state;
    h_make_dir();
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    fault_clear();
    h_remove_dir();
    return 0;
}

/* A database in FULL recovery with a backup chain, ROWS committed rows, and
 * an uncommitted transaction that (with_ddl) created a table and then
 * updated every row, its pages flushed by a checkpoint; then a crash. The
 * page its last update changed is corrupted on every read afterwards.
 * (full_recovery 0: SIMPLE recovery, where nothing can be deferred.)
 * Returns that page. */
static pgid_t crash_with_loser(int with_ddl, int full_recovery)
{
    hdb_err e;
    instance *in = h_open(8);
    database *db = inst_create_database(in, "dfr", &e);
    assert_int_equal(db_set_recovery_model(db, full_recovery ? RECOVERY_FULL : RECOVERY_SIMPLE, &e), 0);
    if (full_recovery)
        db_note_backup(db, DB_BACKUP_FULL, 0, log_end_lsn(db->tdb.log), log_end_lsn(db->tdb.log));
    h_create_table(in, db, "t");
    table_def *td = h_table(db, "t");
    txn *t = txn_begin(in->txns, 1, "load", "sa");
    for (int i = 0; i < ROWS; i++)
        assert_int_equal(h_insert(t, db, td, i, i, "some padding to fill pages", &e), 0);
    assert_int_equal(txn_commit(t, &e), 0);
    txn_free(t);
    t = txn_begin(in->txns, 2, "loser", "sa");
    if (with_ddl) {
        tbl_column c = { .name = "id", .type = { .id = SQL_INT } };
        int pk = 0;
        table_spec s = { .schema_id = SCHEMA_DBO, .name = "made_by_loser", .ncols = 1, .cols = &c, .npk = 1, .pk_cols = &pk };
        assert_int_equal(cat_create_table(t, db, &s, NULL, &e), 0);
    }
    for (int i = 0; i < ROWS; i++)
        assert_int_equal(h_update(t, db, td, i, -1, &e), 0);
    pgid_t bad = h_page_of_last_row(t, db);
    assert_int_equal(log_flush_all(db->tdb.log, &e), 0);
    assert_int_equal(db_checkpoint(db, &e), 0);   /* the uncommitted pages reach the disk */
    txn_free(t);                                     /* the crash */
    inst_close(in, 0);
    fault_rule r = { .path_contains = "dfr.mdf", .ops = FIO_OP_READ, .offset_lo = (uint64_t)PGID_PAGE(bad) * PAGE_SIZE,
                     .offset_hi = (uint64_t)(PGID_PAGE(bad) + 1) * PAGE_SIZE, .action = FAULT_CORRUPT };
    fault_add(&r);
    return bad;
}

static void pick_deferred(void *ctx, const txn *t)
{
    if (t->state == TXN_DEFERRED)
        *(const txn **)ctx = t;
}

static txn *find_deferred(instance *in)
{
    const txn *found = NULL;
    txn_mgr_foreach(in->txns, pick_deferred, &found);
    return (txn *)found;
}

/* A lock-timeout-0 read of row id: 0 value, else the error number. */
static int64_t try_read(instance *in, database *db, table_def *td, int id)
{
    hdb_err e;
    txn *t = txn_begin(in->txns, 9, "reader", "sa");
    t->lock_timeout_ms = 0;
    sql_value key = value_int(SQL_INT, id);
    table_row r;
    int rc = table_get(t, db, td, &key, ISO_READ_COMMITTED, &r, &e);
    int64_t v = rc == 1 ? r.vals[1].u.i : rc < 0 ? -(int64_t)e.number : -1;
    if (rc == 1)
        table_row_free(&r);
    txn_commit(t, &e);
    txn_free(t);
    return v;
}

static int try_create_table(instance *in, database *db, const char *name)
{
    hdb_err e;
    txn *t = txn_begin(in->txns, 9, "ddl", "sa");
    t->lock_timeout_ms = 0;
    tbl_column c = { .name = "id", .type = { .id = SQL_INT } };
    int pk = 0;
    table_spec s = { .schema_id = SCHEMA_DBO, .name = name, .ncols = 1, .cols = &c, .npk = 1, .pk_cols = &pk };
    int rc = cat_create_table(t, db, &s, NULL, &e);
    if (rc == 0)
        rc = txn_commit(t, &e);
    else
        txn_rollback(t, NULL);
    txn_free(t);
    return rc == 0 ? 0 : e.number;
}

static void deferred_then_resolved_online(void **state)
{
    (void)state;
    crash_with_loser(1, 1);
    instance *in = h_open(8);
    database *db = inst_find_database(in, "dfr");
    assert_non_null(db);
    assert_int_equal(db->state, DB_ONLINE);
    assert_int_equal(deferred_count(db), 1);
    txn *d = find_deferred(in);
    assert_non_null(d);
    table_def *td = h_table(db, "t");
    /* its rows stay locked: a reader times out (1222) ... */
    assert_int_equal(try_read(in, db, td, 0), -1222);
    /* ... and so does any CREATE TABLE: it changed the catalog */
    assert_int_equal(try_create_table(in, db, "someone_else"), 1222);
    /* the log from its first record is kept */
    hdb_err e;
    assert_int_equal(db_checkpoint(db, &e), 0);
    lsn_t first = txn_find_part(d, &db->tdb)->first_lsn;
    assert_true(log_truncation_lsn(db->tdb.log) <= first);
    /* the page reads again (restored, say): a retry rolls it back */
    fault_clear();
    assert_int_equal(deferred_retry(db, &e), 0);
    assert_int_equal(deferred_count(db), 0);
    assert_null(find_deferred(in));
    for (int i = 0; i < ROWS; i += 37)
        assert_int_equal(try_read(in, db, td, i), i);
    assert_int_equal(try_create_table(in, db, "someone_else"), 0);
    assert_int_equal(cat_find_table(db, SCHEMA_DBO, "made_by_loser", &e) == NULL, 1);
    inst_close(in, 1);
}

static void deferred_survives_restart_then_transient_error_gone(void **state)
{
    (void)state;
    crash_with_loser(0, 1);
    instance *in = h_open(8);
    database *db = inst_find_database(in, "dfr");
    assert_int_equal(db->state, DB_ONLINE);
    assert_int_equal(deferred_count(db), 1);
    /* still unreadable at the next start: deferred again */
    inst_close(in, 1);
    in = h_open(8);
    db = inst_find_database(in, "dfr");
    assert_int_equal(deferred_count(db), 1);
    inst_close(in, 0);
    /* the error was transient: the next start rolls it back */
    fault_clear();
    in = h_open(8);
    db = inst_find_database(in, "dfr");
    assert_int_equal(db->state, DB_ONLINE);
    assert_int_equal(deferred_count(db), 0);
    table_def *td = h_table(db, "t");
    for (int i = 0; i < ROWS; i += 41)
        assert_int_equal(h_get(in, db, td, i), i);
    inst_close(in, 1);
}

/* SIMPLE recovery cannot defer (3418): the database fails recovery instead. */
static void simple_recovery_cannot_defer(void **state)
{
    (void)state;
    crash_with_loser(0, 0);
    instance *in = h_open(8);
    database *db = inst_find_database(in, "dfr");
    assert_non_null(db);
    assert_int_equal(db->state, DB_SUSPECT);
    assert_int_equal(deferred_count(db), 0);
    hdb_err e;
    assert_int_equal(deferred_allowed(db, &e), -1);
    assert_int_equal(e.number, 3418);
    inst_close(in, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(deferred_then_resolved_online, setup, teardown),
        cmocka_unit_test_setup_teardown(deferred_survives_restart_then_transient_error_gone, setup, teardown),
        cmocka_unit_test_setup_teardown(simple_recovery_cannot_defer, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
