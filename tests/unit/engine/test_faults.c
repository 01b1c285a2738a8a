/* Fault tests: a corrupt page gives 824 and the rest of the database stays
 * usable; a failed log write fails the transaction cleanly and loses nothing
 * acknowledged; a data page torn by a crash mid-write is rebuilt by redo. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <fcntl.h>

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
    fault_clear();
    h_remove_dir();
    return 0;
}

static void load(instance *in, database *db, table_def *td, int from, int to)
{
    hdb_err e;
    txn *t = txn_begin(in->txns, 1, "load", "sa");
    for (int i = from; i < to; i++)
        assert_int_equal(h_insert(t, db, td, i, i, NULL, &e), 0);
    assert_int_equal(txn_commit(t, &e), 0);
    txn_free(t);
}

static void corrupt_page_is_824_and_isolated(void **state)
{
    (void)state;
    hdb_err e;
    instance *in = h_open(8);
    database *db = inst_create_database(in, "c", &e);
    h_create_table(in, db, "bad");
    h_create_table(in, db, "good");
    load(in, db, h_table(db, "bad"), 0, 50);
    load(in, db, h_table(db, "good"), 0, 50);
    pgid_t root = h_table(db, "bad")->idx[0].root;   /* a one-page tree: root = leaf */
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s", df_file(db->df, 1)->path);
    inst_close(in, 1);

    int fd = open(path, O_RDWR);
    assert_true(fd >= 0);
    uint8_t byte = 0xEE;
    assert_int_equal(pwrite(fd, &byte, 1, (off_t)PGID_PAGE(root) * PAGE_SIZE + 5000), 1);
    close(fd);

    in = h_open(8);
    db = inst_find_database(in, "c");
    assert_non_null(db);
    table_def *bad = h_table(db, "bad");
    txn *t = txn_begin(in->txns, 1, "read", "sa");
    sql_value key = value_int(SQL_INT, 7);
    table_row r;
    assert_int_equal(table_get(t, db, bad, &key, ISO_READ_COMMITTED, &r, &e), -1);
    assert_int_equal(e.number, 824);
    assert_non_null(strstr(e.msg, "incorrect checksum"));
    assert_non_null(strstr(e.msg, "c.mdf"));
    char page[32];
    snprintf(page, sizeof page, "(1:%u)", PGID_PAGE(root));
    assert_non_null(strstr(e.msg, page));
    txn_commit(t, &e);
    txn_free(t);
    /* the other table, and new work, are fine */
    table_def *good = h_table(db, "good");
    assert_int_equal(h_count(in, db, good), 50);
    load(in, db, good, 50, 60);
    assert_int_equal(h_count(in, db, good), 60);
    inst_close(in, 1);
}

static void failed_log_write_loses_nothing_acknowledged(void **state)
{
    (void)state;
    hdb_err e;
    instance *in = h_open(8);
    database *db = inst_create_database(in, "l", &e);
    h_create_table(in, db, "t");
    table_def *td = h_table(db, "t");
    load(in, db, td, 0, 10);   /* acknowledged */
    fault_rule r = { .path_contains = "l_log.ldf", .ops = FIO_OP_WRITE | FIO_OP_SYNC, .action = FAULT_EIO };
    fault_add(&r);
    txn *t = txn_begin(in->txns, 1, "doomed", "sa");
    int rc = h_insert(t, db, td, 100, 100, NULL, &e);
    if (rc == 0)
        rc = txn_commit(t, &e);
    assert_int_equal(rc, -1);
    assert_true(e.number == 9001 || e.number == 823);
    txn_free(t);
    fault_clear();
    inst_close(in, 0);

    in = h_open(8);
    db = inst_find_database(in, "l");
    td = h_table(db, "t");
    assert_int_equal(h_count(in, db, td), 10);
    assert_int_equal(h_get(in, db, td, 100), -1);
    load(in, db, td, 10, 20);
    assert_int_equal(h_count(in, db, td), 20);
    inst_close(in, 1);
}

static void log_disk_full_is_9002(void **state)
{
    (void)state;
    hdb_err e;
    instance *in = h_open(8);
    database *db = inst_create_database(in, "f", &e);
    h_create_table(in, db, "t");
    table_def *td = h_table(db, "t");
    load(in, db, td, 0, 10);
    fault_rule r = { .path_contains = "f_log.ldf", .ops = FIO_OP_RESIZE, .action = FAULT_ENOSPC };
    fault_add(&r);
    /* one open transaction keeps the log from truncating until it is full */
    txn *t = txn_begin(in->txns, 1, "filler", "sa");
    char pad[1500];
    memset(pad, 'p', sizeof pad - 1);
    pad[sizeof pad - 1] = 0;
    int rc = 0, i;
    for (i = 1000; i < 200000 && rc == 0; i++)
        rc = h_insert(t, db, td, i, i, pad, &e);
    assert_int_equal(rc, -1);
    assert_int_equal(e.number, 9002);
    assert_non_null(strstr(e.msg, "'f'"));
    fault_clear();
    hdb_err ig;
    assert_int_equal(txn_rollback(t, &ig), 0);
    txn_free(t);
    assert_int_equal(h_count(in, db, td), 10);
    inst_close(in, 0);
    in = h_open(8);
    db = inst_find_database(in, "f");
    assert_int_equal(h_count(in, db, h_table(db, "t")), 10);
    inst_close(in, 1);
}

static void torn_page_rebuilt_by_redo(void **state)
{
    (void)state;
    hdb_err e;
    instance *in = h_open(8);
    database *db = inst_create_database(in, "torn", &e);
    h_create_table(in, db, "t");
    table_def *td = h_table(db, "t");
    load(in, db, td, 0, 40);
    assert_int_equal(db_checkpoint(db, &e), 0);
    load(in, db, td, 40, 80);   /* first change since the checkpoint: a page image is logged */
    /* the next checkpoint's page writes tear, and the crash comes before it
     * completes (its data-file sync fails) */
    fault_rule torn = { .path_contains = "torn.mdf", .ops = FIO_OP_WRITE, .action = FAULT_TORN };
    fault_rule nosync = { .path_contains = "torn.mdf", .ops = FIO_OP_SYNC, .action = FAULT_EIO };
    fault_add(&torn);
    fault_add(&nosync);
    assert_int_equal(db_checkpoint(db, &e), -1);
    fault_clear();
    inst_close(in, 0);

    in = h_open(8);
    db = inst_find_database(in, "torn");
    assert_int_equal(db->state, DB_ONLINE);
    td = h_table(db, "t");
    assert_int_equal(h_count(in, db, td), 80);
    assert_int_equal(h_get(in, db, td, 79), 79);
    inst_close(in, 1);
}

/* Recovery itself fails half-way through undo (its log writes start failing);
 * the next start resumes from the compensation records already written and
 * still ends with exactly the committed state. */
static void crash_during_recovery_undo(void **state)
{
    (void)state;
    hdb_err e;
    instance *in = h_open(8);
    database *db = inst_create_database(in, "u", &e);
    h_create_table(in, db, "t");
    table_def *td = h_table(db, "t");
    load(in, db, td, 0, 100);
    txn *t = txn_begin(in->txns, 1, "loser", "sa");
    for (int i = 100; i < 2100; i++)
        assert_int_equal(h_insert(t, db, td, i, i, "some padding to fill pages", &e), 0);
    for (int i = 0; i < 50; i++)
        assert_int_equal(h_update(t, db, td, i, -1, &e), 0);
    assert_int_equal(log_flush_all(db->tdb.log, &e), 0);
    txn_free(t);
    inst_close(in, 0);

    /* from its first log sync on, the next start's recovery of 'u' fails: its
     * compensation records reach the file but recovery cannot complete */
    fault_rule r = { .path_contains = "u_log.ldf", .ops = FIO_OP_SYNC, .nth = 1, .count = 1000000, .action = FAULT_EIO };
    fault_add(&r);
    in = h_open(8);
    db = inst_find_database(in, "u");
    assert_non_null(db);
    assert_int_not_equal(db->state, DB_ONLINE);
    fault_clear();
    inst_close(in, 0);

    in = h_open(8);
    db = inst_find_database(in, "u");
    assert_int_equal(db->state, DB_ONLINE);
    td = h_table(db, "t");
    assert_int_equal(h_count(in, db, td), 100);
    assert_int_equal(h_get(in, db, td, 7), 7);
    bt_stats st;
    assert_int_equal(bt_check(&td->idx[0].bt, &st, &e), 0);
    inst_close(in, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(corrupt_page_is_824_and_isolated, setup, teardown),
        cmocka_unit_test_setup_teardown(failed_log_write_loses_nothing_acknowledged, setup, teardown),
        cmocka_unit_test_setup_teardown(log_disk_full_is_9002, setup, teardown),
        cmocka_unit_test_setup_teardown(torn_page_rebuilt_by_redo, setup, teardown),
        cmocka_unit_test_setup_teardown(crash_during_recovery_undo, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
