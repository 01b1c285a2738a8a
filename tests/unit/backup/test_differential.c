/* test_differential.c — differential backups read only the extents the
 * changed-extent map marks, and never miss a change: across a crash (with
 * the changed pages already on disk, or the map file lost), across COPY_ONLY
 * full backups, with a full backup taken while writers run, and on a
 * database rebuilt by RESTORE (full, differential and log). Each
 * differential is checked by restoring it on its full and comparing every
 * row. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <pthread.h>

#include "../engine/engine_harness.h"
#include "backup/backup.h"
#include "backup/restore.h"
#include "engine/dcm_db.h"

#define ROWS 40000   /* about 2200 pages: 17 MB */

static char pad[401];

static int setup(void **state)
{
    (void)state;
    h_make_dir();
    memset(pad, 'p', sizeof pad - 1);
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

static void do_backup(instance *in, database *db, int type, int copy_only, const char *dev, backup_result *r)
{
    backup_opts o = { .type = type, .copy_only = copy_only, .device_path = dev, .name = "t" };
    hdb_err e;
    hdb_err_clear(&e);
    if (backup_database(in, db, &o, r, &e) < 0)
        fail_msg("backup type %d: %s (%d)", type, e.msg, e.number);
    if (getenv("HADR_VERBOSE"))
        fprintf(stderr, "backup type %d%s: %llu pages read, %llu written\n", type, copy_only ? " copy-only" : "",
                (unsigned long long)r->pages_read, (unsigned long long)r->pages);
}

/* Rows [from, to) get val (inserted with a 400-byte pad the first time). */
static void write_rows(instance *in, database *db, table_def *td, int from, int to, int64_t val)
{
    hdb_err e;
    txn *t = txn_begin(in->txns, 1, "load", "sa");
    for (int i = from; i < to; i++) {
        if (i > from && (i - from) % 5000 == 0) {
            assert_int_equal(txn_commit(t, &e), 0);
            txn_free(t);
            t = txn_begin(in->txns, 1, "load", "sa");
        }
        if (h_insert(t, db, td, i, val, pad, &e) < 0 && h_update(t, db, td, i, val, &e) < 0)
            fail_msg("write: %s", e.msg);
    }
    assert_int_equal(txn_commit(t, &e), 0);
    txn_free(t);
}

/* Over a VLF of log that touches only the first rows' pages: a change made
 * before it is then not in the log a later differential carries, so only the
 * map can bring it into the differential. */
static void churn(instance *in, database *db, table_def *td)
{
    for (int k = 0; k < 80; k++)
        write_rows(in, db, td, 0, 40, 100 + k);
}

static database *make_source(instance *in, const char *name, table_def **td)
{
    hdb_err e;
    database *db = inst_create_database(in, name, &e);
    assert_non_null(db);
    h_create_table(in, db, "t");
    *td = h_table(db, "t");
    write_rows(in, db, *td, 0, ROWS, 1);
    return db;
}

static void restore_ok(instance *in, const char *db, const char *dev, int file, int is_log, int recovery,
                       const restore_move *mv, int nmv)
{
    restore_opts o = { .is_log = is_log, .db_name = db, .device_path = dev, .file = file,
                       .recovery = recovery, .moves = mv, .nmoves = nmv };
    restore_result r;
    hdb_err e;
    hdb_err_clear(&e);
    if (restore_run(in, &o, &r, &e) < 0)
        fail_msg("restore %s from %s file %d: %s (%d)", db, dev, file, e.msg, e.number);
}

/* Every row, as one number: a row lost or with another value changes it. */
static uint64_t digest(instance *in, database *db, long *rows)
{
    hdb_err e;
    table_def *td = h_table(db, "t");
    txn *t = txn_begin(in->txns, 1, "digest", "sa");
    table_scan *s = table_scan_open(t, db, td, ISO_READ_COMMITTED, &e);
    assert_non_null(s);
    table_row r;
    uint64_t d = 0;
    long n = 0;
    while (table_scan_next(s, &r, &e) == 1) {
        /* each (id, val) mixed on its own (splitmix64's finalizer), then summed */
        uint64_t x = (uint64_t)r.vals[0].u.i * 0x9E3779B97F4A7C15ull ^ (uint64_t)r.vals[1].u.i;
        x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
        x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
        d += x ^ (x >> 31);
        n++;
    }
    table_scan_close(s);
    txn_commit(t, &e);
    txn_free(t);
    if (rows)
        *rows = n;
    return d;
}

/* Restore full (file 1 of full_dev) + differential (file `diff_file` of
 * diff_dev) as `name` and compare every row with `want`. */
static void check_restore(instance *in, database *want, const char *name, const char *full_dev,
                          const char *diff_dev, int diff_file)
{
    char d[PATH_MAX], l[PATH_MAX], dn[64], ln[64];
    snprintf(dn, sizeof dn, "%s.mdf", name);
    snprintf(ln, sizeof ln, "%s_log.ldf", name);
    path_of(d, dn);
    path_of(l, ln);
    /* the full is always the source's: its logical names */
    restore_move mv[2] = { { "src", d }, { "src_log", l } };
    restore_ok(in, name, full_dev, 1, 0, RESTORE_NORECOVERY, mv, 2);
    restore_ok(in, name, diff_dev, diff_file, 0, RESTORE_RECOVERY, NULL, 0);
    database *r = inst_find_database(in, name);
    assert_non_null(r);
    assert_int_equal(r->state, DB_ONLINE);
    long n1, n2;
    uint64_t a = digest(in, want, &n1), b = digest(in, r, &n2);
    if (a != b || n1 != n2)
        fail_msg("%s: %ld rows restored, %ld wanted, or other values", name, n2, n1);
}

/* Changing 0.5% of the rows (one key range): the differential reads a few
 * extents, not the table; nothing changed: next to nothing. */
static void reads_only_changed_extents(void **state)
{
    (void)state;
    instance *in = h_open(64);
    table_def *td;
    database *db = make_source(in, "src", &td);
    char full[PATH_MAX], diff[PATH_MAX];
    path_of(full, "full.bak");
    path_of(diff, "diff.bak");
    backup_result f, d0, d1;
    do_backup(in, db, MEDIA_TYPE_DATABASE, 0, full, &f);
    assert_true(f.pages_read >= f.pages && f.pages > 2000);
    do_backup(in, db, MEDIA_TYPE_DIFF_DATABASE, 0, diff, &d0);
    assert_true(d0.pages_read <= 24);
    write_rows(in, db, td, 20000, 20200, 2);   /* about 11 leaves */
    do_backup(in, db, MEDIA_TYPE_DIFF_DATABASE, 0, diff, &d1);
    assert_true(d1.pages >= 11);
    assert_true(d1.pages <= d1.pages_read);
    if (d1.pages_read > 80)
        fail_msg("the differential read %llu pages of %llu", (unsigned long long)d1.pages_read,
                 (unsigned long long)f.pages_read);
    assert_int_equal(d1.differential_base_lsn, f.first_lsn);
    check_restore(in, db, "r", full, diff, 2);
    inst_close(in, 1);
}

/* A crash between the change and the differential: changes only in memory
 * (not checkpointed; their pages written), after a checkpoint, right after
 * the full backup, after a checkpoint that could not save the map; then with
 * the map file gone. */
static void crash_keeps_changes(void **state)
{
    (void)state;
    instance *in = h_open(64);
    table_def *td;
    database *db = make_source(in, "src", &td);
    char full[PATH_MAX], diff[PATH_MAX], map[PATH_MAX];
    path_of(full, "full.bak");
    path_of(diff, "diff.bak");
    db_dcm_path(db->log_path, map, sizeof map);
    backup_result f, d;
    hdb_err e;
    do_backup(in, db, MEDIA_TYPE_DATABASE, 0, full, &f);
    /* right after the full backup */
    write_rows(in, db, td, 100, 150, 2);
    inst_close(in, 0);
    in = h_open(64);
    db = inst_find_database(in, "src");
    td = h_table(db, "t");
    write_rows(in, db, td, 5000, 5100, 3);      /* saved by the next checkpoint */
    assert_int_equal(inst_checkpoint(in, db, &e), 0);
    write_rows(in, db, td, 30000, 30100, 4);    /* only in memory and the log */
    assert_int_equal(bp_flush_db(in->bp, db->df, &e), 0);   /* on disk, no checkpoint */
    inst_close(in, 0);
    in = h_open(64);
    db = inst_find_database(in, "src");
    do_backup(in, db, MEDIA_TYPE_DIFF_DATABASE, 0, diff, &d);
    assert_true(d.pages_read < f.pages_read / 10);   /* the map survived */
    check_restore(in, db, "r1", full, diff, 1);

    /* a checkpoint that could not save the map: the pages it wrote are not
     * redone after the crash, the file is older; the log after the file's
     * point still names them */
    td = h_table(db, "t");
    write_rows(in, db, td, 12000, 12100, 6);
    fault_rule fr = { .path_contains = ".dcm", .ops = FIO_OP_WRITE, .action = FAULT_EIO };
    int fid = fault_add(&fr);
    assert_int_equal(inst_checkpoint(in, db, &e), 0);
    fault_remove(fid);
    inst_close(in, 0);
    in = h_open(64);
    db = inst_find_database(in, "src");
    do_backup(in, db, MEDIA_TYPE_DIFF_DATABASE, 0, diff, &d);
    check_restore(in, db, "r3", full, diff, 2);

    /* the map file lost while the server is down: everything counts */
    td = h_table(db, "t");
    write_rows(in, db, td, 39000, 39050, 5);
    inst_close(in, 0);
    assert_int_equal(unlink(map), 0);
    in = h_open(64);
    db = inst_find_database(in, "src");
    do_backup(in, db, MEDIA_TYPE_DIFF_DATABASE, 0, diff, &d);
    assert_true(d.pages_read >= f.pages_read - 10);
    check_restore(in, db, "r2", full, diff, 3);
    inst_close(in, 1);
}

/* COPY_ONLY full backups do not start a new map: a later differential still
 * holds what changed before them. */
static void copy_only_keeps_map(void **state)
{
    (void)state;
    instance *in = h_open(64);
    table_def *td;
    database *db = make_source(in, "src", &td);
    char full[PATH_MAX], copy[PATH_MAX], diff[PATH_MAX];
    path_of(full, "full.bak");
    path_of(copy, "copy.bak");
    path_of(diff, "diff.bak");
    backup_result f, c, d1, d2;
    do_backup(in, db, MEDIA_TYPE_DATABASE, 0, full, &f);
    write_rows(in, db, td, 1000, 1300, 2);
    churn(in, db, td);
    do_backup(in, db, MEDIA_TYPE_DIFF_DATABASE, 0, diff, &d1);
    do_backup(in, db, MEDIA_TYPE_DATABASE, 1, copy, &c);
    write_rows(in, db, td, 25000, 25300, 3);
    do_backup(in, db, MEDIA_TYPE_DIFF_DATABASE, 0, diff, &d2);
    check_restore(in, db, "r", full, diff, 2);
    assert_int_equal(d2.differential_base_lsn, f.first_lsn);
    assert_true(d2.pages >= d1.pages + 10);
    assert_true(d2.pages_read < f.pages_read / 10);
    inst_close(in, 1);
}

/* A full backup taken while transfers commit, more transfers, then a
 * differential: full + differential is exactly the source. */
typedef struct load {
    instance *in;
    database *db;
    table_def *td;
    _Atomic int stop;
    _Atomic long commits;
    unsigned seed;
} load;

static void *transfers(void *arg)
{
    load *l = arg;
    hdb_err e;
    while (!l->stop) {
        int a = (int)(rand_r(&l->seed) % ROWS), b = (int)(rand_r(&l->seed) % ROWS);
        if (a == b)
            continue;
        txn *t = txn_begin(l->in->txns, 2, "xfer", "sa");
        t->lock_timeout_ms = 2000;
        sql_value ka = value_int(SQL_INT, a), kb = value_int(SQL_INT, b);
        table_row ra, rb;
        int ok = table_get(t, l->db, l->td, &ka, ISO_FOR_UPDATE, &ra, &e) == 1;
        int okb = ok && table_get(t, l->db, l->td, &kb, ISO_FOR_UPDATE, &rb, &e) == 1;
        if (okb) {
            ok = h_update(t, l->db, l->td, a, ra.vals[1].u.i - 7, &e) == 0 &&
                 h_update(t, l->db, l->td, b, rb.vals[1].u.i + 7, &e) == 0;
            table_row_free(&rb);
        } else {
            ok = 0;
        }
        if (okb || ok)
            table_row_free(&ra);
        if (ok && txn_commit(t, &e) == 0)
            l->commits++;
        else
            txn_rollback(t, &e);
        txn_free(t);
    }
    return NULL;
}

static void full_under_load_then_differential(void **state)
{
    (void)state;
    instance *in = h_open(64);
    table_def *td;
    database *db = make_source(in, "src", &td);
    char full[PATH_MAX], diff[PATH_MAX];
    path_of(full, "full.bak");
    path_of(diff, "diff.bak");
    for (int round = 0; round < 3; round++) {
        load l = { .in = in, .db = db, .td = td, .seed = 11u + (unsigned)round };
        pthread_t th[3];
        for (int i = 0; i < 3; i++)
            pthread_create(&th[i], NULL, transfers, &l);
        usleep(50000);
        backup_result f, d;
        long before = l.commits;
        do_backup(in, db, MEDIA_TYPE_DATABASE, 0, full, &f);   /* appended: file round + 1 */
        long during = l.commits - before;
        usleep(100000);
        l.stop = 1;
        for (int i = 0; i < 3; i++)
            pthread_join(th[i], NULL);
        do_backup(in, db, MEDIA_TYPE_DIFF_DATABASE, 0, diff, &d);
        if (getenv("HADR_VERBOSE"))
            fprintf(stderr, "round %d: %ld transfers during the full backup, %ld in all\n", round, during,
                    (long)l.commits);
        assert_true(l.commits > 0);
        /* each round appends a set to both media: full and differential n are file n + 1 */
        char name[16], dp[PATH_MAX], lp[PATH_MAX], dn[32], ln[32];
        snprintf(name, sizeof name, "r%d", round);
        snprintf(dn, sizeof dn, "%s.mdf", name);
        snprintf(ln, sizeof ln, "%s_log.ldf", name);
        path_of(dp, dn);
        path_of(lp, ln);
        restore_move mv[2] = { { "src", dp }, { "src_log", lp } };
        restore_ok(in, name, full, round + 1, 0, RESTORE_NORECOVERY, mv, 2);
        restore_ok(in, name, diff, round + 1, 0, RESTORE_RECOVERY, NULL, 0);
        database *r = inst_find_database(in, name);
        long n1, n2;
        if (digest(in, db, &n1) != digest(in, r, &n2) || n1 != n2)
            fail_msg("round %d: full + differential differs from the source", round);
    }
    inst_close(in, 1);
}

/* A database rebuilt by RESTORE (full, differential, log) has the full as
 * its differential base; what the differential and log restores changed and
 * what changes afterwards is in its map, also across a restart. */
static void restored_database_map(void **state)
{
    (void)state;
    instance *in = h_open(64);
    table_def *td;
    database *db = make_source(in, "src", &td);
    char full[PATH_MAX], diff[PATH_MAX], lg[PATH_MAX], diff2[PATH_MAX], d[PATH_MAX], l[PATH_MAX];
    path_of(full, "full.bak");
    path_of(diff, "diff.bak");
    path_of(lg, "log.bak");
    path_of(diff2, "diff2.bak");
    path_of(d, "r.mdf");
    path_of(l, "r_log.ldf");
    backup_result f, d1, l1, d2;
    do_backup(in, db, MEDIA_TYPE_DATABASE, 0, full, &f);
    write_rows(in, db, td, 3000, 3200, 2);      /* X: in the differential's pages only */
    churn(in, db, td);
    do_backup(in, db, MEDIA_TYPE_DIFF_DATABASE, 0, diff, &d1);
    write_rows(in, db, td, 17000, 17200, 3);    /* Y: in the log backup */
    do_backup(in, db, MEDIA_TYPE_LOG, 0, lg, &l1);
    restore_move mv[2] = { { "src", d }, { "src_log", l } };
    restore_ok(in, "r", full, 1, 0, RESTORE_NORECOVERY, mv, 2);
    restore_ok(in, "r", diff, 1, 0, RESTORE_NORECOVERY, NULL, 0);
    restore_ok(in, "r", lg, 1, 1, RESTORE_RECOVERY, NULL, 0);
    database *r = inst_find_database(in, "r");
    assert_int_equal(r->state, DB_ONLINE);
    write_rows(in, r, h_table(r, "t"), 33000, 33200, 4);   /* Z: on the restored database */
    inst_close(in, 1);
    in = h_open(64);
    r = inst_find_database(in, "r");
    do_backup(in, r, MEDIA_TYPE_DIFF_DATABASE, 0, diff2, &d2);
    check_restore(in, r, "r2", full, diff2, 1);
    assert_int_equal(d2.differential_base_lsn, f.first_lsn);
    assert_true(d2.pages_read < f.pages_read / 4);
    assert_true(d2.pages >= 30);   /* X, Y and Z: about 11 leaves each */
    inst_close(in, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(reads_only_changed_extents, setup, teardown),
        cmocka_unit_test_setup_teardown(crash_keeps_changes, setup, teardown),
        cmocka_unit_test_setup_teardown(copy_only_keeps_map, setup, teardown),
        cmocka_unit_test_setup_teardown(full_under_load_then_differential, setup, teardown),
        cmocka_unit_test_setup_teardown(restored_database_map, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
