/* Recovery models and log truncation: SIMPLE truncates at checkpoint; FULL
 * behaves like SIMPLE until a full backup starts the log chain, then keeps
 * the log for the next log backup (LOG_BACKUP); an open transaction holds the
 * log in every model (ACTIVE_TRANSACTION); switching to SIMPLE breaks the
 * chain (4214); the state survives a restart. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "engine_harness.h"

static int setup(void **state)
{
    (void)state;
    h_make_dir();
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    if (getenv("HADR_KEEP"))
        return 0;
    h_remove_dir();
    return 0;
}

/* Insert enough rows to fill a few VLFs (256 KiB each in the harness). */
static void grow_log(instance *in, database *db, table_def *td, int *next_id, int rows)
{
    hdb_err e;
    static char pad[900];
    memset(pad, 'x', sizeof pad - 1);
    txn *t = txn_begin(in->txns, 1, "grow", "sa");
    for (int i = 0; i < rows; i++)
        assert_int_equal(h_insert(t, db, td, (*next_id)++, i, pad, &e), 0);
    assert_int_equal(txn_commit(t, &e), 0);
    txn_free(t);
}

static uint64_t vlf_of(database *db, lsn_t lsn)
{
    return lsn / log_vlf_size(db->tdb.log);
}

static void checkpoint(database *db)
{
    hdb_err e;
    if (db_checkpoint(db, &e) < 0)
        fail_msg("checkpoint: %s", e.msg);
}

static void simple_truncates_at_checkpoint(void **state)
{
    (void)state;
    hdb_err e;
    instance *in = h_open(16);
    database *db = inst_create_database(in, "s1", &e);
    assert_non_null(db);
    assert_int_equal(db_set_recovery_model(db, RECOVERY_SIMPLE, &e), 0);
    h_create_table(in, db, "t");
    table_def *td = h_table(db, "t");
    int id = 0;
    grow_log(in, db, td, &id, 1500);
    checkpoint(db);
    /* everything before the current VLF is reusable */
    assert_int_equal(vlf_of(db, log_truncation_lsn(db->tdb.log)), vlf_of(db, log_end_lsn(db->tdb.log)));
    assert_int_equal(db_log_reuse_wait(db), DB_REUSE_NOTHING);
    /* a full backup does not start a log chain in SIMPLE */
    db_note_backup(db, DB_BACKUP_FULL, 0, log_end_lsn(db->tdb.log), log_end_lsn(db->tdb.log));
    grow_log(in, db, td, &id, 1500);
    assert_int_equal(db_log_reuse_wait(db), DB_REUSE_CHECKPOINT);
    checkpoint(db);
    assert_int_equal(db_log_reuse_wait(db), DB_REUSE_NOTHING);
    assert_int_equal(db_check_log_backup(db, &e), -1);
    assert_int_equal(e.number, 4208);
    inst_close(in, 1);
}

static void full_keeps_log_for_log_backup(void **state)
{
    (void)state;
    hdb_err e;
    instance *in = h_open(16);
    database *db = inst_create_database(in, "f1", &e);
    assert_non_null(db);
    assert_int_equal(db->boot.recovery_model, RECOVERY_FULL);
    h_create_table(in, db, "t");
    table_def *td = h_table(db, "t");
    int id = 0;

    /* pseudo-simple: no full backup yet, so the log is truncated anyway */
    assert_int_equal(db_check_log_backup(db, &e), -1);
    assert_int_equal(e.number, 4214);
    grow_log(in, db, td, &id, 1500);
    checkpoint(db);
    assert_int_equal(db_log_reuse_wait(db), DB_REUSE_NOTHING);

    /* the first full backup starts the chain: the log is kept from its start */
    checkpoint(db);
    lsn_t full_first = log_end_lsn(db->tdb.log);
    db_note_backup(db, DB_BACKUP_FULL, 0, full_first, full_first + 512);
    assert_int_equal(db_check_log_backup(db, NULL), 0);
    grow_log(in, db, td, &id, 1500);
    checkpoint(db);
    assert_true(log_truncation_lsn(db->tdb.log) <= full_first);
    assert_true(vlf_of(db, log_end_lsn(db->tdb.log)) > vlf_of(db, full_first));
    assert_int_equal(db_log_reuse_wait(db), DB_REUSE_LOG_BACKUP);

    /* a copy-only log backup changes nothing */
    lsn_t end = log_end_lsn(db->tdb.log);
    db_note_backup(db, DB_BACKUP_LOG, 1, full_first, end);
    assert_int_equal(db_log_reuse_wait(db), DB_REUSE_LOG_BACKUP);

    /* a log backup lets truncation reach its end (it checkpoints itself) */
    db_note_backup(db, DB_BACKUP_LOG, 0, full_first, end);
    assert_int_equal(db->boot.log_chain_lsn, end);
    assert_true(log_truncation_lsn(db->tdb.log) > full_first);
    assert_int_equal(db_log_reuse_wait(db), DB_REUSE_NOTHING);

    /* an open transaction holds the log in every model */
    txn *t = txn_begin(in->txns, 1, "open", "sa");
    lsn_t open_at = log_end_lsn(db->tdb.log);
    assert_int_equal(h_insert(t, db, td, 1000000, 1, NULL, &e), 0);
    grow_log(in, db, td, &id, 1500);
    db_note_backup(db, DB_BACKUP_LOG, 0, end, log_end_lsn(db->tdb.log));
    assert_true(log_truncation_lsn(db->tdb.log) <= open_at);
    assert_int_equal(db_log_reuse_wait(db), DB_REUSE_ACTIVE_TRANSACTION);
    assert_int_equal(txn_commit(t, &e), 0);
    txn_free(t);
    checkpoint(db);
    assert_int_equal(db_log_reuse_wait(db), DB_REUSE_NOTHING);

    /* a running backup pins the log */
    lsn_t pin = log_end_lsn(db->tdb.log);
    db_note_backup(db, DB_BACKUP_LOG, 0, end, pin);
    db_pin_log(db, pin);
    grow_log(in, db, td, &id, 1500);
    assert_int_equal(db_log_reuse_wait(db), DB_REUSE_ACTIVE_BACKUP_OR_RESTORE);
    checkpoint(db);
    assert_true(log_truncation_lsn(db->tdb.log) <= pin);
    db_pin_log(db, 0);

    /* the chain survives a restart */
    lsn_t chain = db->boot.log_chain_lsn;
    inst_close(in, 1);
    in = h_open(16);
    db = inst_find_database(in, "f1");
    assert_non_null(db);
    assert_int_equal(db->boot.log_chain_lsn, chain);
    assert_int_equal(db->boot.full_backup_lsn, full_first);
    assert_int_equal(db_check_log_backup(db, NULL), 0);

    /* SIMPLE breaks the chain; back in FULL a log backup needs a new full backup */
    assert_int_equal(db_set_recovery_model(db, RECOVERY_SIMPLE, &e), 0);
    assert_int_equal(db->boot.log_chain_lsn, 0);
    assert_int_equal(db_set_recovery_model(db, RECOVERY_FULL, &e), 0);
    assert_int_equal(db_check_log_backup(db, &e), -1);
    assert_int_equal(e.number, 4214);
    /* a differential on the old base restarts it, as in SQL Server */
    lsn_t diff_first = log_end_lsn(db->tdb.log);
    db_note_backup(db, DB_BACKUP_DIFF, 0, diff_first, diff_first + 512);
    assert_int_equal(db->boot.log_chain_lsn, diff_first);
    assert_int_equal(db->boot.full_backup_lsn, full_first);
    inst_close(in, 1);

    in = h_open(16);
    db = inst_find_database(in, "f1");
    assert_int_equal(db->boot.recovery_model, RECOVERY_FULL);
    assert_int_equal(db->boot.log_chain_lsn, diff_first);
    inst_close(in, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(simple_truncates_at_checkpoint, setup, teardown),
        cmocka_unit_test_setup_teardown(full_keeps_log_for_log_backup, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
