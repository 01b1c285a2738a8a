/* test_standby.c — RESTORE ... WITH STANDBY: a full and two log backups
 * restored STANDBY, STANDBY, RECOVERY; the standby is readable, shows only
 * committed work, refuses writes (3906) and backups (3036), keeps its log
 * unchanged, survives a restart; a damaged undo file is refused (3441)
 * without touching the database; WITH RECOVERY after STANDBY; STANDBY and
 * NORECOVERY without FROM. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <sys/stat.h>

#include "../engine/engine_harness.h"
#include "backup/backup.h"
#include "backup/restore.h"

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
    if (!getenv("HADR_KEEP"))
        h_remove_dir();
    return 0;
}

static void path_of(char *out, const char *name)
{
    snprintf(out, PATH_MAX, "%s/%s", h_dir, name);
}

static void do_backup(instance *in, database *db, int type, const char *dev)
{
    backup_opts o = { .type = type, .device_path = dev, .name = "t" };
    backup_result r;
    hdb_err e;
    hdb_err_clear(&e);
    if (backup_database(in, db, &o, &r, &e) < 0)
        fail_msg("backup type %d: %s (%d)", type, e.msg, e.number);
}

static void commit_rows(instance *in, database *db, table_def *td, int from, int to, int64_t val)
{
    hdb_err e;
    txn *t = txn_begin(in->txns, 1, "load", "sa");
    for (int i = from; i < to; i++)
        if (h_insert(t, db, td, i, val, "x", &e) < 0)
            fail_msg("write: %s", e.msg);
    assert_int_equal(txn_commit(t, &e), 0);
    txn_free(t);
}

static int restore(instance *in, const char *db, const char *dev, int file, int is_log, int recovery,
                   const char *undo, hdb_err *e)
{
    char d1[PATH_MAX], l1[PATH_MAX];
    path_of(d1, "r.mdf");
    path_of(l1, "r_log.ldf");
    restore_move mv[2] = { { "src", d1 }, { "src_log", l1 } };
    restore_opts o = { .is_log = is_log, .db_name = db, .device_path = dev, .file = file,
                       .recovery = recovery, .standby_file = undo, .moves = is_log ? NULL : mv,
                       .nmoves = is_log ? 0 : 2 };
    restore_result r;
    hdb_err_clear(e);
    int rc = restore_run(in, &o, &r, e);
    if (rc < 0 && getenv("HADR_DEBUG"))
        fprintf(stderr, "restore: %s (%d)\n", e->msg, e->number);
    return rc;
}

static int64_t sum_of(instance *in, database *db, table_def *td, long *rows)
{
    hdb_err e;
    txn *t = txn_begin(in->txns, 1, "sum", "sa");
    table_scan *s = table_scan_open(t, db, td, ISO_READ_COMMITTED, &e);
    assert_non_null(s);
    table_row r;
    int64_t sum = 0;
    long n = 0;
    while (table_scan_next(s, &r, &e) == 1) {
        sum += r.vals[1].u.i * 1000003 + r.vals[0].u.i;
        n++;
    }
    table_scan_close(s);
    txn_commit(t, &e);
    txn_free(t);
    *rows = n;
    return sum;
}

static int is_standby(database *db)
{
    return db->state == DB_ONLINE && db->tdb.read_only_log &&
           log_restore_state(db->tdb.log, NULL) == DB_RESTORE_STANDBY;
}

/* A write to the standby: 3906, and nothing reaches its log. */
static void write_refused(instance *in, database *r)
{
    lsn_t end = log_end_lsn(r->tdb.log);
    hdb_err e;
    hdb_err_clear(&e);
    txn *t = txn_begin(in->txns, 1, "w", "sa");
    assert_int_equal(h_insert(t, r, h_table(r, "t"), 77777, 1, "w", &e), -1);
    assert_int_equal(e.number, 3906);
    txn_rollback(t, &e);
    txn_free(t);
    hdb_err_clear(&e);
    assert_int_equal(db_set_recovery_model(r, RECOVERY_SIMPLE, &e), -1);
    assert_int_equal(e.number, 3906);
    assert_int_equal(db_checkpoint(r, &e), 0);
    assert_int_equal(log_end_lsn(r->tdb.log), end);
    char dev[PATH_MAX];
    path_of(dev, "of_standby.bak");
    backup_opts o = { .type = MEDIA_TYPE_DATABASE, .device_path = dev };
    backup_result br;
    assert_int_equal(backup_database(in, r, &o, &br, &e), -1);
    assert_int_equal(e.number, 3036);
}

static void flip_byte(const char *path, off_t at)
{
    FILE *f = fopen(path, "r+b");
    assert_non_null(f);
    assert_int_equal(fseeko(f, at, SEEK_SET), 0);
    int c = fgetc(f);
    assert_int_equal(fseeko(f, at, SEEK_SET), 0);
    fputc(c ^ 0x5a, f);
    fclose(f);
}

/* Full + 2 logs: STANDBY, STANDBY, RECOVERY. */
static void standby_chain(void **state)
{
    (void)state;
    instance *in = h_open(32);
    hdb_err e;
    database *db = inst_create_database(in, "src", &e);
    h_create_table(in, db, "t");
    table_def *td = h_table(db, "t");
    commit_rows(in, db, td, 0, 100, 1);
    char dev[PATH_MAX], u1[PATH_MAX], u2[PATH_MAX];
    path_of(dev, "chain.bak");
    path_of(u1, "undo1.dat");
    path_of(u2, "undo2.dat");
    /* open across the full backup: committed in log 1 */
    txn *open0 = txn_begin(in->txns, 1, "open0", "sa");
    assert_int_equal(h_insert(open0, db, td, 9000, 9, "o", &e), 0);
    for (int i = 0; i < 50; i++)
        assert_int_equal(h_insert(open0, db, td, 10000 + i, 9, "o", &e), 0);
    do_backup(in, db, MEDIA_TYPE_DATABASE, dev);
    assert_int_equal(txn_commit(open0, &e), 0);
    txn_free(open0);
    commit_rows(in, db, td, 100, 200, 2);
    /* open across log 1: committed in log 2 */
    txn *open1 = txn_begin(in->txns, 1, "open1", "sa");
    assert_int_equal(h_insert(open1, db, td, 9001, 9, "p", &e), 0);
    do_backup(in, db, MEDIA_TYPE_LOG, dev);
    assert_int_equal(txn_commit(open1, &e), 0);
    txn_free(open1);
    commit_rows(in, db, td, 200, 300, 3);
    /* open at the end of log 2: rolled back */
    txn *loser = txn_begin(in->txns, 1, "loser", "sa");
    assert_int_equal(h_insert(loser, db, td, 9002, 9, "l", &e), 0);
    do_backup(in, db, MEDIA_TYPE_LOG, dev);
    txn_rollback(loser, &e);
    txn_free(loser);
    long nsrc;
    int64_t sum_src = sum_of(in, db, td, &nsrc);

    /* 1. the full WITH STANDBY: committed rows only */
    if (restore(in, "r", dev, 1, 0, RESTORE_STANDBY, u1, &e) < 0)
        fail_msg("full standby: %s (%d)", e.msg, e.number);
    database *r = inst_find_database(in, "r");
    assert_non_null(r);
    assert_true(is_standby(r));
    struct stat st;
    assert_int_equal(stat(u1, &st), 0);
    assert_true(st.st_size > 4096);   /* undo changed pages: their images are there */
    table_def *rt = h_table(r, "t");
    assert_int_equal(h_count(in, r, rt), 100);
    assert_int_equal(h_get(in, r, rt, 9000), -1);   /* open at the end of the full: undone */
    write_refused(in, r);
    /* exclusive access for the next restore */
    r->users++;
    assert_int_equal(restore(in, "r", dev, 2, 1, RESTORE_STANDBY, u2, &e), -1);
    assert_int_equal(e.number, 3101);
    r->users--;

    /* 2. log 1 WITH STANDBY: the undo is taken back, redo goes on */
    if (restore(in, "r", dev, 2, 1, RESTORE_STANDBY, u2, &e) < 0)
        fail_msg("log 1 standby: %s (%d)", e.msg, e.number);
    r = inst_find_database(in, "r");
    assert_true(is_standby(r));
    assert_int_not_equal(stat(u1, &st), 0);   /* taken back: gone */
    rt = h_table(r, "t");
    assert_int_equal(h_count(in, r, rt), 251);
    assert_int_equal(h_get(in, r, rt, 9000), 9);
    assert_int_equal(h_get(in, r, rt, 9001), -1);
    lsn_t end = log_end_lsn(r->tdb.log);

    /* 3. a restart keeps it STANDBY, readable, its log unchanged */
    inst_close(in, 1);
    in = h_open(32);
    r = inst_find_database(in, "r");
    assert_non_null(r);
    assert_true(is_standby(r));
    assert_int_equal(log_end_lsn(r->tdb.log), end);
    rt = h_table(r, "t");
    assert_int_equal(h_count(in, r, rt), 251);
    write_refused(in, r);

    /* 4. a damaged undo file: refused, the standby left as it was */
    flip_byte(u2, 4096 + 16 + 100);
    assert_int_equal(restore(in, "r", dev, 3, 1, RESTORE_RECOVERY, NULL, &e), -1);
    assert_int_equal(e.number, 3441);
    r = inst_find_database(in, "r");
    assert_true(is_standby(r));
    assert_int_equal(h_count(in, r, h_table(r, "t")), 251);
    flip_byte(u2, 20);   /* the header */
    flip_byte(u2, 4096 + 16 + 100);
    assert_int_equal(restore(in, "r", dev, 3, 1, RESTORE_RECOVERY, NULL, &e), -1);
    assert_int_equal(e.number, 3441);
    flip_byte(u2, 20);

    /* 5. log 2 WITH RECOVERY: the source's rows, writable */
    if (restore(in, "r", dev, 3, 1, RESTORE_RECOVERY, NULL, &e) < 0)
        fail_msg("log 2 recovery: %s (%d)", e.msg, e.number);
    r = inst_find_database(in, "r");
    assert_int_equal(r->state, DB_ONLINE);
    assert_false(r->tdb.read_only_log);
    rt = h_table(r, "t");
    long nr;
    assert_int_equal(sum_of(in, r, rt, &nr), sum_src);
    assert_int_equal(nr, nsrc);
    assert_int_equal(h_get(in, r, rt, 9001), 9);
    assert_int_equal(h_get(in, r, rt, 9002), -1);
    commit_rows(in, r, rt, 5000, 5010, 7);
    inst_close(in, 1);
    in = h_open(32);
    r = inst_find_database(in, "r");
    assert_int_equal(r->state, DB_ONLINE);
    assert_int_equal(h_count(in, r, h_table(r, "t")), nsrc + 10);
    inst_close(in, 1);
}

/* RESTORE DATABASE WITH RECOVERY after STANDBY: nothing taken back, writable;
 * NORECOVERY after STANDBY, then RECOVERY. */
static void recovery_after_standby(void **state)
{
    (void)state;
    instance *in = h_open(32);
    hdb_err e;
    database *db = inst_create_database(in, "src", &e);
    h_create_table(in, db, "t");
    table_def *td = h_table(db, "t");
    commit_rows(in, db, td, 0, 40, 1);
    char dev[PATH_MAX], u1[PATH_MAX];
    path_of(dev, "r.bak");
    path_of(u1, "undo.dat");
    txn *open0 = txn_begin(in->txns, 1, "open0", "sa");
    assert_int_equal(h_insert(open0, db, td, 9000, 9, "o", &e), 0);
    do_backup(in, db, MEDIA_TYPE_DATABASE, dev);
    assert_int_equal(txn_commit(open0, &e), 0);
    txn_free(open0);
    commit_rows(in, db, td, 40, 60, 2);
    do_backup(in, db, MEDIA_TYPE_LOG, dev);

    assert_int_equal(restore(in, "r", dev, 1, 0, RESTORE_STANDBY, u1, &e), 0);
    restore_result rr;
    if (restore_with_recovery_only(in, "r", &rr, &e) < 0)
        fail_msg("recovery only: %s (%d)", e.msg, e.number);
    database *r = inst_find_database(in, "r");
    assert_int_equal(r->state, DB_ONLINE);
    assert_false(r->tdb.read_only_log);
    assert_int_equal(h_count(in, r, h_table(r, "t")), 40);
    commit_rows(in, r, h_table(r, "t"), 100, 105, 3);
    assert_int_equal(h_count(in, r, h_table(r, "t")), 45);
    assert_int_equal(restore(in, "r", dev, 2, 1, RESTORE_NORECOVERY, NULL, &e), -1);
    assert_int_equal(e.number, 3117);

    /* again over it (REPLACE not needed: same database), STANDBY then NORECOVERY then RECOVERY */
    assert_int_equal(restore(in, "r2", dev, 1, 0, RESTORE_NORECOVERY, NULL, &e), -1);   /* paths in use */
    inst_close(in, 1);
    in = h_open(32);
    assert_int_equal(inst_drop_database(in, "r", &e), 0);
    assert_int_equal(restore(in, "r", dev, 1, 0, RESTORE_STANDBY, u1, &e), 0);
    if (restore(in, "r", dev, 2, 1, RESTORE_NORECOVERY, NULL, &e) < 0)
        fail_msg("log norecovery: %s (%d)", e.msg, e.number);
    r = inst_find_database(in, "r");
    assert_int_equal(r->state, DB_RESTORING);
    assert_int_equal(restore_with_recovery_only(in, "r", &rr, &e), 0);
    r = inst_find_database(in, "r");
    assert_int_equal(r->state, DB_ONLINE);
    assert_int_equal(h_count(in, r, h_table(r, "t")), 61);
    inst_close(in, 1);
}

static int recover_only(instance *in, const char *db, int recovery, const char *undo, hdb_err *e)
{
    restore_opts o = { .db_name = db, .recovery = recovery, .standby_file = undo };
    restore_result r;
    hdb_err_clear(e);
    return restore_recover_only(in, &o, &r, e);
}

/* RESTORE DATABASE r WITH STANDBY / NORECOVERY without FROM: a RESTORING
 * database becomes a standby (undo saved), a standby takes its undo back
 * (NORECOVERY) or undoes again into another file (STANDBY); the next log
 * backup still applies; refused on an online database (3153), while in use
 * (3101) and without an undo file name. */
static void standby_without_from(void **state)
{
    (void)state;
    instance *in = h_open(32);
    hdb_err e;
    database *db = inst_create_database(in, "src", &e);
    h_create_table(in, db, "t");
    table_def *td = h_table(db, "t");
    commit_rows(in, db, td, 0, 30, 1);
    char dev[PATH_MAX], u1[PATH_MAX], u2[PATH_MAX];
    path_of(dev, "nf.bak");
    path_of(u1, "nf_undo1.dat");
    path_of(u2, "nf_undo2.dat");
    txn *open0 = txn_begin(in->txns, 1, "open0", "sa");
    assert_int_equal(h_insert(open0, db, td, 9000, 9, "o", &e), 0);
    do_backup(in, db, MEDIA_TYPE_DATABASE, dev);
    assert_int_equal(txn_commit(open0, &e), 0);
    txn_free(open0);
    commit_rows(in, db, td, 30, 50, 2);
    do_backup(in, db, MEDIA_TYPE_LOG, dev);

    assert_int_equal(recover_only(in, "src", RESTORE_STANDBY, u1, &e), -1);
    assert_int_equal(e.number, 3153);
    assert_int_equal(restore(in, "r", dev, 1, 0, RESTORE_NORECOVERY, NULL, &e), 0);
    database *r = inst_find_database(in, "r");
    assert_int_equal(r->state, DB_RESTORING);
    assert_int_equal(recover_only(in, "r", RESTORE_STANDBY, "", &e), -1);
    r->users++;
    assert_int_equal(recover_only(in, "r", RESTORE_STANDBY, u1, &e), -1);
    assert_int_equal(e.number, 3101);
    r->users--;
    assert_int_equal(r->state, DB_RESTORING);

    /* RESTORING -> standby: the transaction open at the backup is undone */
    if (recover_only(in, "r", RESTORE_STANDBY, u1, &e) < 0)
        fail_msg("standby without FROM: %s (%d)", e.msg, e.number);
    r = inst_find_database(in, "r");
    assert_true(is_standby(r));
    struct stat st;
    assert_int_equal(stat(u1, &st), 0);
    assert_int_equal(h_count(in, r, h_table(r, "t")), 30);
    assert_int_equal(h_get(in, r, h_table(r, "t"), 9000), -1);
    write_refused(in, r);
    lsn_t end = log_end_lsn(r->tdb.log);

    /* standby -> standby with another undo file, across a restart */
    if (recover_only(in, "r", RESTORE_STANDBY, u2, &e) < 0)
        fail_msg("standby again: %s (%d)", e.msg, e.number);
    assert_int_not_equal(stat(u1, &st), 0);
    assert_int_equal(stat(u2, &st), 0);
    inst_close(in, 0);
    in = h_open(32);
    r = inst_find_database(in, "r");
    assert_true(is_standby(r));
    assert_int_equal(log_end_lsn(r->tdb.log), end);
    assert_int_equal(h_count(in, r, h_table(r, "t")), 30);

    /* standby -> RESTORING: the undo taken back, the log applies on top */
    if (recover_only(in, "r", RESTORE_NORECOVERY, NULL, &e) < 0)
        fail_msg("norecovery without FROM: %s (%d)", e.msg, e.number);
    r = inst_find_database(in, "r");
    assert_int_equal(r->state, DB_RESTORING);
    assert_false(r->tdb.read_only_log);
    assert_int_not_equal(stat(u2, &st), 0);
    assert_int_equal(recover_only(in, "r", RESTORE_NORECOVERY, NULL, &e), 0);   /* nothing to do */
    if (restore(in, "r", dev, 2, 1, RESTORE_NORECOVERY, NULL, &e) < 0)
        fail_msg("log after it: %s (%d)", e.msg, e.number);
    assert_int_equal(recover_only(in, "r", RESTORE_STANDBY, u1, &e), 0);
    r = inst_find_database(in, "r");
    assert_true(is_standby(r));
    assert_int_equal(h_count(in, r, h_table(r, "t")), 51);
    restore_result rr;
    assert_int_equal(restore_with_recovery_only(in, "r", &rr, &e), 0);
    r = inst_find_database(in, "r");
    assert_int_equal(r->state, DB_ONLINE);
    assert_false(r->tdb.read_only_log);
    commit_rows(in, r, h_table(r, "t"), 100, 101, 3);
    assert_int_equal(h_count(in, r, h_table(r, "t")), 52);
    assert_int_equal(recover_only(in, "r", RESTORE_NORECOVERY, NULL, &e), -1);
    assert_int_equal(e.number, 3153);
    inst_close(in, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(standby_chain, setup, teardown),
        cmocka_unit_test_setup_teardown(recovery_after_standby, setup, teardown),
        cmocka_unit_test_setup_teardown(standby_without_from, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
