/* Engine tests: databases, tables, restart, recovery after a crash at every
 * kind of log record, cross-database commit and its in-doubt resolution. */
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
    fault_clear();
    if (getenv("HADR_KEEP"))
        return 0;
    h_remove_dir();
    return 0;
}

static void create_reopen_read_back(void **state)
{
    (void)state;
    hdb_err e;
    instance *in = h_open(16);
    database *db = inst_create_database(in, "shop", &e);
    assert_non_null(db);
    assert_null(inst_create_database(in, "SHOP", &e));
    assert_int_equal(e.number, 1801);
    h_create_table(in, db, "items");
    table_def *td = h_table(db, "items");
    txn *t = txn_begin(in->txns, 1, "load", "sa");
    for (int i = 0; i < 1000; i++)
        assert_int_equal(h_insert(t, db, td, i, i * 10, i % 7 ? NULL : "x", &e), 0);
    /* a duplicate key is 2627 and changes nothing */
    assert_int_equal(h_insert(t, db, td, 5, 0, NULL, &e), -1);
    assert_int_equal(e.number, 2627);
    assert_non_null(strstr(e.msg, "(5)"));
    assert_int_equal(txn_commit(t, &e), 0);
    txn_free(t);
    inst_close(in, 1);

    in = h_open(16);
    db = inst_find_database(in, "shop");
    assert_non_null(db);
    assert_int_equal(db->state, DB_ONLINE);
    td = h_table(db, "items");
    assert_int_equal(h_count(in, db, td), 1000);
    assert_int_equal(h_get(in, db, td, 999), 9990);
    assert_null(cat_find_table(db, SCHEMA_DBO, "nothing", &e));
    assert_int_equal(e.number, 208);
    /* master and msdb exist and cannot be dropped */
    assert_non_null(inst_find_database(in, "master"));
    assert_non_null(inst_find_database(in, "msdb"));
    assert_int_equal(inst_drop_database(in, "msdb", &e), -1);
    assert_int_equal(e.number, 3708);
    /* DROP DATABASE removes it, its files and its registration */
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/data/shop.mdf", h_dir);
    assert_int_equal(access(path, F_OK), 0);
    assert_int_equal(inst_drop_database(in, "shop", &e), 0);
    assert_int_not_equal(access(path, F_OK), 0);
    assert_int_equal(inst_drop_database(in, "shop", &e), -1);
    assert_int_equal(e.number, 911);
    inst_close(in, 1);
    in = h_open(16);
    assert_null(inst_find_database(in, "shop"));
    assert_non_null(inst_create_database(in, "shop", &e));
    inst_close(in, 1);
}

/* A script of steps; after each one the log is made durable and the instance
 * "crashes" (buffers dropped unwritten, log buffer abandoned); recovery must
 * then show exactly the committed state. */
static void crash_after_every_record_kind(void **state)
{
    (void)state;
    enum { STEPS = 13 };
    for (int stop = 0; stop <= STEPS; stop++) {
        if (getenv("HADR_VERBOSE"))
            fprintf(stderr, "-- crash after step %d\n", stop);
        h_remove_dir();
        h_make_dir();
        hdb_err e;
        instance *in = h_open(8);
        database *a = inst_create_database(in, "a", &e);
        database *b = inst_create_database(in, "b", &e);
        assert_non_null(a);
        assert_non_null(b);
        h_create_table(in, a, "t");
        h_create_table(in, b, "t");
        table_def *ta = h_table(a, "t"), *tb = h_table(b, "t");
        txn *t1 = NULL, *t2 = NULL;
        int step = 0;
        /* expected after recovery: */
        int64_t exp_a1 = -1, exp_a2 = -1, exp_b1 = -1;
        char big[6000];
        memset(big, 'q', sizeof big - 1);
        big[sizeof big - 1] = 0;
#define STEP(code)                                   \
        if (step++ < stop) {                        \
            code;                                   \
        }
        STEP(t1 = txn_begin(in->txns, 1, "t1", "sa"));                      /* nothing logged */
        STEP(assert_int_equal(h_insert(t1, a, ta, 1, 100, big, &e), 0));     /* BEGIN + ROW + overflow PAGES */
        STEP(assert_int_equal(txn_save(t1, "sp", &e), 0);
             assert_int_equal(h_update(t1, a, ta, 1, 999, &e), 0));          /* ROW (update) */
        STEP(assert_int_equal(txn_rollback_to(t1, "sp", &e), 0));           /* CLR */
        STEP(lbuf mb; lbuf_init(&mb); lbuf_u64(&mb, 1); lbuf_str(&mb, "M1"); lbuf_str(&mb, "desc");
             lbuf_str(&mb, "sa"); lbuf_str(&mb, "a");
             assert_true(txn_log_plain(t1, txn_find_part(t1, &a->tdb), LR_MARK, mb.p, mb.len, &e) != 0);
             lbuf_free(&mb));                                               /* MARK */
        STEP(assert_int_equal(txn_commit(t1, &e), 0); exp_a1 = 100;
             txn_free(t1); t1 = NULL);                                      /* COMMIT */
        STEP(assert_int_equal(db_checkpoint(a, &e), 0));                    /* CKPT */
        STEP(t2 = txn_begin(in->txns, 2, "t2", "sa");
             assert_int_equal(h_insert(t2, a, ta, 2, 200, NULL, &e), 0);
             assert_int_equal(h_insert(t2, b, tb, 1, 300, NULL, &e), 0));   /* two databases */
        STEP(uint8_t g[16] = { 7 };
             assert_int_equal(txn_prepare(t2, g, a->tdb.id, &e), 0));       /* PREPARE in both */
        STEP(assert_int_equal(txn_commit_prepared(t2, &e), 0);
             exp_a2 = 200; exp_b1 = 300; txn_free(t2); t2 = NULL);         /* COMMIT in both */
        STEP(t1 = txn_begin(in->txns, 3, "t3", "sa");
             for (int i = 10; i < 400; i++)
                 assert_int_equal(h_insert(t1, a, ta, i, i, "padding padding padding", &e), 0)); /* splits */
        STEP(hdb_err ig; txn_rollback(t1, &ig); txn_free(t1); t1 = NULL);   /* CLRs + ABORT */
        STEP(t1 = txn_begin(in->txns, 4, "t4", "sa");
             assert_int_equal(h_update(t1, a, ta, 1, 555, &e), 0));         /* loser at crash */
#undef STEP
        log_flush_all(a->tdb.log, &e);
        log_flush_all(b->tdb.log, &e);
        /* crash: transactions still open are abandoned (their memory freed,
         * nothing more logged) */
        txn_free(t1);
        txn_free(t2);
        inst_close(in, 0);

        in = h_open(8);
        a = inst_find_database(in, "a");
        b = inst_find_database(in, "b");
        assert_non_null(a);
        assert_non_null(b);
        if (a->state != DB_ONLINE)
            fail_msg("after crash at step %d database a is %s", stop, db_state_desc(a->state));
        ta = h_table(a, "t");
        tb = h_table(b, "t");
        if (h_get(in, a, ta, 1) != exp_a1 || h_get(in, a, ta, 2) != exp_a2 || h_get(in, b, tb, 1) != exp_b1)
            fail_msg("after crash at step %d: a1=%lld (want %lld) a2=%lld (want %lld) b1=%lld (want %lld)", stop,
                     (long long)h_get(in, a, ta, 1), (long long)exp_a1, (long long)h_get(in, a, ta, 2),
                     (long long)exp_a2, (long long)h_get(in, b, tb, 1), (long long)exp_b1);
        assert_int_equal(h_count(in, a, ta), (exp_a1 >= 0) + (exp_a2 >= 0));
        bt_stats st;
        assert_int_equal(bt_check(&ta->idx[0].bt, &st, &e), 0);
        /* recovery's own work survives a second crash */
        inst_close(in, 0);
        in = h_open(8);
        a = inst_find_database(in, "a");
        ta = h_table(a, "t");
        assert_int_equal(h_get(in, a, ta, 1), exp_a1);
        inst_close(in, 1);
    }
}

/* Prepared in both databases, committed only in the coordinator (or only in
 * the participant, whose log was flushed first): recovery must commit the
 * other one too. Prepared only: both roll back. */
static void in_doubt_resolution(void **state)
{
    (void)state;
    for (int committed_in = 0; committed_in <= 2; committed_in++) {   /* none, a, b */
        int coord_committed = committed_in != 0;
        h_remove_dir();
        h_make_dir();
        hdb_err e;
        instance *in = h_open(8);
        database *a = inst_create_database(in, "a", &e);
        database *b = inst_create_database(in, "b", &e);
        h_create_table(in, a, "t");
        h_create_table(in, b, "t");
        txn *t = txn_begin(in->txns, 1, "x", "sa");
        assert_int_equal(h_insert(t, a, h_table(a, "t"), 1, 10, NULL, &e), 0);
        assert_int_equal(h_insert(t, b, h_table(b, "t"), 1, 20, NULL, &e), 0);
        uint8_t g[16] = { 1 };
        assert_int_equal(txn_prepare(t, g, a->tdb.id, &e), 0);
        if (committed_in) {
            database *d = committed_in == 1 ? a : b;
            txn_part *p = txn_find_part(t, &d->tdb);
            uint64_t now = 1;
            lsn_t lsn = txn_log_plain(t, p, LR_COMMIT, &now, sizeof now, &e);
            assert_true(lsn != 0);
            assert_int_equal(log_flush_to(d->tdb.log, lsn, &e), 0);
        }
        txn_free(t);   /* the crash: memory goes, nothing more is logged */
        inst_close(in, 0);
        in = h_open(8);
        a = inst_find_database(in, "a");
        b = inst_find_database(in, "b");
        int64_t want_a = coord_committed ? 10 : -1, want_b = coord_committed ? 20 : -1;
        assert_int_equal(h_get(in, a, h_table(a, "t"), 1), want_a);
        assert_int_equal(h_get(in, b, h_table(b, "t"), 1), want_b);
        inst_close(in, 1);
    }
}

static void rollback_and_savepoints(void **state)
{
    (void)state;
    hdb_err e;
    instance *in = h_open(8);
    database *db = inst_create_database(in, "r", &e);
    h_create_table(in, db, "t");
    table_def *td = h_table(db, "t");
    txn *t = txn_begin(in->txns, 1, "x", "sa");
    for (int i = 0; i < 500; i++)
        assert_int_equal(h_insert(t, db, td, i, i, NULL, &e), 0);
    assert_int_equal(txn_commit(t, &e), 0);
    txn_free(t);
    t = txn_begin(in->txns, 1, "y", "sa");
    assert_int_equal(txn_save(t, "s1", &e), 0);
    for (int i = 0; i < 500; i += 2) {
        sql_value k = value_int(SQL_INT, i);
        assert_int_equal(table_delete(t, db, td, &k, &e), 0);
    }
    assert_int_equal(txn_rollback_to(t, "nosuch", &e), -1);
    assert_int_equal(e.number, 6401);
    assert_int_equal(txn_rollback_to(t, "s1", &e), 0);
    assert_int_equal(h_update(t, db, td, 3, 33, &e), 0);
    assert_int_equal(txn_commit(t, &e), 0);
    txn_free(t);
    assert_int_equal(h_count(in, db, td), 500);
    assert_int_equal(h_get(in, db, td, 3), 33);
    assert_int_equal(h_get(in, db, td, 4), 4);
    inst_close(in, 1);
}

static void larger_than_buffer_pool(void **state)
{
    (void)state;
    hdb_err e;
    instance *in = h_open(4);
    database *db = inst_create_database(in, "big", &e);
    h_create_table(in, db, "t");
    table_def *td = h_table(db, "t");
    const int N = 200000;
    txn *t = NULL;
    for (int i = 0; i < N; i++) {
        if (!t)
            t = txn_begin(in->txns, 1, "load", "sa");
        int id = (int)(((int64_t)i * 7919) % N);   /* a permutation: random order */
        assert_int_equal(h_insert(t, db, td, id, (int64_t)id * 3, NULL, &e), 0);
        if (i % 5000 == 4999) {
            assert_int_equal(txn_commit(t, &e), 0);
            txn_free(t);
            t = NULL;
        }
    }
    if (t) {
        assert_int_equal(txn_commit(t, &e), 0);
        txn_free(t);
    }
    inst_close(in, 0);  /* crash: most pages were only ever in the 4 MB pool or the log */
    in = h_open(4);
    db = inst_find_database(in, "big");
    td = h_table(db, "t");
    t = txn_begin(in->txns, 1, "scan", "sa");
    table_scan *s = table_scan_open(t, db, td, ISO_READ_COMMITTED, &e);
    table_row r;
    int k, expect = 0;
    while ((k = table_scan_next(s, &r, &e)) == 1) {
        assert_int_equal(r.vals[0].u.i, expect);
        assert_int_equal(r.vals[1].u.i, (int64_t)expect * 3);
        expect++;
    }
    assert_int_equal(k, 0);
    assert_int_equal(expect, N);
    table_scan_close(s);
    txn_commit(t, &e);
    txn_free(t);
    bt_stats st;
    assert_int_equal(bt_check(&td->idx[0].bt, &st, &e), 0);
    inst_close(in, 1);
}

/* A second filegroup with its own file: a table placed on it lives there,
 * across a crash (the boot page listing the file may not be on disk yet:
 * redo of FILE_OP reopens it) and a clean restart. */
static void filegroups_and_files(void **state)
{
    (void)state;
    hdb_err e;
    instance *in = h_open(8);
    database *db = inst_create_database(in, "fgdb", &e);
    assert_non_null(db);
    uint16_t fg;
    assert_int_equal(db_add_filegroup(db, "archive", &fg, &e), 0);
    assert_int_equal(db_add_filegroup(db, "ARCHIVE", NULL, &e), -1);
    assert_int_equal(e.number, 1828);
    db_file_spec fs = { .size_pages = 64, .growth_pages = 64 };
    snprintf(fs.logical_name, sizeof fs.logical_name, "archive1");
    snprintf(fs.path, sizeof fs.path, "%s/data/fgdb_archive1.ndf", h_dir);
    uint16_t fid;
    assert_int_equal(db_add_file(db, "nosuch", &fs, &fid, &e), -1);
    assert_int_equal(db_add_file(db, "archive", &fs, &fid, &e), 0);
    assert_int_equal(fid, 2);
    tbl_column c[2] = { { .name = "id", .type = { .id = SQL_INT } }, { .name = "v", .type = { .id = SQL_BIGINT } } };
    int pk = 0;
    table_spec ts = { .schema_id = SCHEMA_DBO, .name = "old", .ncols = 2, .cols = c, .npk = 1, .pk_cols = &pk, .fg_id = fg };
    txn *t = txn_begin(in->txns, 1, "ddl", "sa");
    assert_int_equal(cat_create_table(t, db, &ts, NULL, &e), 0);
    assert_int_equal(txn_commit(t, &e), 0);
    txn_free(t);
    table_def *td = h_table(db, "old");
    assert_int_equal(PGID_FILE(td->idx[0].root), 2);
    t = txn_begin(in->txns, 1, "load", "sa");
    for (int i = 0; i < 3000; i++) {
        sql_value v[2] = { value_int(SQL_INT, i), value_int(SQL_BIGINT, i) };
        assert_int_equal(table_insert(t, db, td, v, &e), 0);
    }
    assert_int_equal(txn_commit(t, &e), 0);
    txn_free(t);
    inst_close(in, 0);   /* crash */
    for (int round = 0; round < 2; round++) {
        in = h_open(8);
        db = inst_find_database(in, "fgdb");
        assert_non_null(db);
        assert_int_equal(db->state, DB_ONLINE);
        assert_int_equal(db_filegroup_id(db, "archive"), fg);
        assert_non_null(df_file(db->df, 2));
        td = h_table(db, "old");
        assert_int_equal(h_count(in, db, td), 3000);
        inst_close(in, 1);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(create_reopen_read_back, setup, teardown),
        cmocka_unit_test_setup_teardown(rollback_and_savepoints, setup, teardown),
        cmocka_unit_test_setup_teardown(crash_after_every_record_kind, setup, teardown),
        cmocka_unit_test_setup_teardown(in_doubt_resolution, setup, teardown),
        cmocka_unit_test_setup_teardown(larger_than_buffer_pool, setup, teardown),
        cmocka_unit_test_setup_teardown(filegroups_and_files, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
