/* test_dbstate.c — database states (engine/dbstate.h): OFFLINE closes the
 * files and survives a restart, ONLINE recovers the database again
 * (autorestart), missing files make it RECOVERY_PENDING instead of failing
 * the instance, EMERGENCY reads without recovery and refuses changes, a
 * failed recovery leaves it SUSPECT, and the last resort (EMERGENCY + repair)
 * brings it back ONLINE. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "engine_harness.h"
#include "engine/dbcc.h"
#include "engine/dbstate.h"
#include "log/logrec.h"
#include "storage/pageop.h"

enum { ROWS = 600 };

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

static database *make_db(instance *in, int rows)
{
    hdb_err e;
    database *db = inst_create_database(in, "st", &e);
    assert_non_null(db);
    h_create_table(in, db, "t");
    table_def *td = h_table(db, "t");
    txn *t = txn_begin(in->txns, 1, "load", "sa");
    for (int i = 0; i < rows; i++)
        assert_int_equal(h_insert(t, db, td, i, i, "padding padding padding", &e), 0);
    assert_int_equal(txn_commit(t, &e), 0);
    txn_free(t);
    return db;
}

static void offline_then_online(void **state)
{
    (void)state;
    instance *in = h_open(8);
    database *db = make_db(in, ROWS);
    hdb_err e;
    assert_int_equal(dbst_set_offline(in, db, &e), 0);
    db = inst_find_database(in, "st");
    assert_int_equal(db->state, DB_OFFLINE);
    assert_true(dbst_is_shell(db));
    /* the files are closed: moving them away and back is harmless */
    char a[256], b[256];
    snprintf(a, sizeof a, "%s/data/st.mdf", h_dir);
    snprintf(b, sizeof b, "%s/data/st.mdf.moved", h_dir);
    assert_int_equal(rename(a, b), 0);
    assert_int_equal(rename(b, a), 0);
    database *now;
    assert_int_equal(dbst_restart(in, db, &now, &e), 0);
    assert_int_equal(now->state, DB_ONLINE);
    assert_ptr_equal(inst_find_database(in, "st"), now);
    assert_int_equal(h_count(in, now, h_table(now, "t")), ROWS);
    /* OFFLINE again, and the instance restarts: still OFFLINE */
    assert_int_equal(dbst_set_offline(in, now, &e), 0);
    inst_close(in, 1);
    in = h_open(8);
    db = inst_find_database(in, "st");
    assert_non_null(db);
    assert_int_equal(db->state, DB_OFFLINE);
    assert_int_equal(dbst_restart(in, db, &now, &e), 0);
    assert_int_equal(h_count(in, now, h_table(now, "t")), ROWS);
    /* ... and ONLINE is remembered too */
    inst_close(in, 1);
    in = h_open(8);
    assert_int_equal(inst_find_database(in, "st")->state, DB_ONLINE);
    inst_close(in, 1);
}

static void missing_file_is_recovery_pending(void **state)
{
    (void)state;
    instance *in = h_open(8);
    make_db(in, 50);
    inst_close(in, 1);
    char a[256], b[256];
    snprintf(a, sizeof a, "%s/data/st.mdf", h_dir);
    snprintf(b, sizeof b, "%s/data/st.mdf.away", h_dir);
    assert_int_equal(rename(a, b), 0);
    in = h_open(8);   /* the instance starts */
    database *db = inst_find_database(in, "st");
    assert_non_null(db);
    assert_int_equal(db->state, DB_RECOVERY_PENDING);
    assert_non_null(db->tdb.log);   /* a tail-log backup could read it */
    hdb_err e;
    database *now;
    assert_int_equal(dbst_restart(in, db, &now, &e), -1);
    assert_int_equal(e.number, 5120);
    assert_int_equal(now->state, DB_RECOVERY_PENDING);
    assert_int_equal(rename(b, a), 0);
    assert_int_equal(dbst_restart(in, now, &now, &e), 0);
    assert_int_equal(now->state, DB_ONLINE);
    assert_int_equal(h_count(in, now, h_table(now, "t")), 50);
    /* the name can go while the files are missing */
    inst_close(in, 1);
    assert_int_equal(rename(a, b), 0);
    in = h_open(8);
    db = inst_find_database(in, "st");
    assert_int_equal(dbst_drop_shell(in, db, &e), 0);
    assert_null(inst_find_database(in, "st"));
    inst_close(in, 1);
}

static void emergency_reads_without_changes(void **state)
{
    (void)state;
    instance *in = h_open(8);
    database *db = make_db(in, ROWS);
    hdb_err e;
    database *now;
    assert_int_equal(dbst_set_emergency(in, db, &now, &e), 0);
    assert_int_equal(now->state, DB_EMERGENCY);
    table_def *td = h_table(now, "t");
    assert_int_equal(h_count(in, now, td), ROWS);
    txn *t = txn_begin(in->txns, 1, "w", "sa");
    assert_int_equal(h_insert(t, now, td, ROWS + 1, 1, "x", &e), -1);
    assert_int_equal(e.number, 3906);
    txn_rollback(t, NULL);
    txn_free(t);
    /* user access is kept in memory there (the repair needs SINGLE_USER) */
    assert_int_equal(dbst_set_user_access(now, DB_SINGLE_USER, &e), 0);
    assert_int_equal(dbst_user_access(now), DB_SINGLE_USER);
    assert_int_equal(dbst_restart(in, now, &now, &e), 0);
    assert_int_equal(now->state, DB_ONLINE);
    t = txn_begin(in->txns, 1, "w", "sa");
    assert_int_equal(h_insert(t, now, h_table(now, "t"), ROWS + 1, 1, "x", &e), 0);
    assert_int_equal(txn_commit(t, &e), 0);
    txn_free(t);
    /* SINGLE_USER written on the boot page travels with the database */
    assert_int_equal(dbst_set_user_access(now, DB_SINGLE_USER, &e), 0);
    inst_close(in, 1);
    in = h_open(8);
    assert_int_equal(dbst_user_access(inst_find_database(in, "st")), DB_SINGLE_USER);
    inst_close(in, 1);
}

static void show(void *ctx, const dbcc_msg *m)
{
    (void)ctx;
    fprintf(stderr, "  %d: %s\n", m->number, m->text);
}

/* SIMPLE recovery, a crash with an uncommitted update whose page then reads
 * bad: start-up cannot roll it back (no deferral in SIMPLE) -> SUSPECT. The
 * last resort: EMERGENCY, SINGLE_USER, repair with data loss -> ONLINE,
 * physically consistent, the bad page's rows gone. */
static void suspect_emergency_repair(void **state)
{
    (void)state;
    instance *in = h_open(8);
    database *db = make_db(in, ROWS);
    hdb_err e;
    assert_int_equal(db_set_recovery_model(db, RECOVERY_SIMPLE, &e), 0);
    table_def *td = h_table(db, "t");
    txn *t = txn_begin(in->txns, 2, "loser", "sa");
    for (int i = 0; i < ROWS; i += 3)
        assert_int_equal(h_update(t, db, td, i, -1, &e), 0);
    pgid_t bad = h_page_of_last_row(t, db);
    assert_int_equal(log_flush_all(db->tdb.log, &e), 0);
    assert_int_equal(db_checkpoint(db, &e), 0);
    txn_free(t);   /* the crash */
    inst_close(in, 0);
    fault_rule r = { .path_contains = "st.mdf", .ops = FIO_OP_READ, .offset_lo = (uint64_t)PGID_PAGE(bad) * PAGE_SIZE,
                     .offset_hi = (uint64_t)(PGID_PAGE(bad) + 1) * PAGE_SIZE, .action = FAULT_CORRUPT };
    fault_add(&r);
    in = h_open(8);
    db = inst_find_database(in, "st");
    assert_int_equal(db->state, DB_SUSPECT);
    /* SET ONLINE tries again, and fails again */
    database *now;
    assert_int_equal(dbst_restart(in, db, &now, &e), -1);
    assert_int_equal(e.number, 3414);
    assert_int_equal(now->state, DB_SUSPECT);
    assert_int_equal(dbst_set_emergency(in, now, &now, &e), 0);
    assert_int_equal(now->state, DB_EMERGENCY);
    assert_int_equal(dbst_set_user_access(now, DB_SINGLE_USER, &e), 0);
    dbcc_opts o = { .what = DBCC_CHECKDB, .repair = DBCC_REPAIR_ALLOW_DATA_LOSS, .lock_timeout_ms = 5000,
                    .emit = getenv("HADR_VERBOSE") ? show : NULL };
    dbcc_result res;
    assert_int_equal(dbcc_run(now, &o, &res, &e), 0);
    assert_true(res.consistency_errors > 0);
    assert_true(res.rows_lost > 0);
    long lost = (long)res.rows_lost;
    assert_int_equal(dbst_restart(in, now, &now, &e), 0);
    assert_int_equal(now->state, DB_ONLINE);
    o.repair = 0;
    assert_int_equal(dbcc_run(now, &o, &res, &e), 0);
    assert_int_equal(res.alloc_errors + res.consistency_errors, 0);
    assert_int_equal(h_count(in, now, h_table(now, "t")), ROWS - lost);
    inst_close(in, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(offline_then_online, setup, teardown),
        cmocka_unit_test_setup_teardown(missing_file_is_recovery_pending, setup, teardown),
        cmocka_unit_test_setup_teardown(emergency_reads_without_changes, setup, teardown),
        cmocka_unit_test_setup_teardown(suspect_emergency_repair, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
