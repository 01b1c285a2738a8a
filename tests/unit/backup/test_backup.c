/* test_backup.c — BACKUP and RESTORE through the engine: full backup restored
 * under new paths, full + log chains, the sequence errors, STOPAT and marks,
 * tail-log backups, RESTORING across a restart, damaged media refused, a
 * crash during a restore, a backup under a concurrent write load. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <pthread.h>
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

static void do_backup(instance *in, database *db, int type, const char *dev, backup_result *r)
{
    backup_opts o = { .type = type, .device_path = dev, .name = "t" };
    hdb_err e;
    hdb_err_clear(&e);
    if (backup_database(in, db, &o, r, &e) < 0)
        fail_msg("backup type %d: %s (%d)", type, e.msg, e.number);
}

static void commit_rows(instance *in, database *db, table_def *td, int from, int to, int64_t val)
{
    hdb_err e;
    txn *t = txn_begin(in->txns, 1, "load", "sa");
    for (int i = from; i < to; i++)
        if (h_insert(t, db, td, i, val, "x", &e) < 0 && h_update(t, db, td, i, val, &e) < 0)
            fail_msg("write: %s", e.msg);
    assert_int_equal(txn_commit(t, &e), 0);
    txn_free(t);
}

static int restore(instance *in, const char *db, const char *dev, int file, int is_log, int recovery,
                   const restore_move *mv, int nmv, int replace, hdb_err *e)
{
    restore_opts o = { .is_log = is_log, .db_name = db, .device_path = dev, .file = file,
                       .recovery = recovery, .moves = mv, .nmoves = nmv, .replace = replace };
    restore_result r;
    hdb_err_clear(e);
    return restore_run(in, &o, &r, e);
}

static int64_t sum_vals(instance *in, database *db, table_def *td, long *rows)
{
    hdb_err e;
    txn *t = txn_begin(in->txns, 1, "sum", "sa");
    table_scan *s = table_scan_open(t, db, td, ISO_READ_COMMITTED, &e);
    assert_non_null(s);
    table_row r;
    int64_t sum = 0;
    long n = 0;
    while (table_scan_next(s, &r, &e) == 1) {
        sum += r.vals[1].u.i;
        n++;
    }
    table_scan_close(s);
    txn_commit(t, &e);
    txn_free(t);
    if (rows)
        *rows = n;
    return sum;
}

/* Full backup, restored as another database under new paths: same rows. */
static void full_restore_with_move(void **state)
{
    (void)state;
    instance *in = h_open(32);
    hdb_err e;
    database *db = inst_create_database(in, "src", &e);
    assert_non_null(db);
    h_create_table(in, db, "t");
    table_def *td = h_table(db, "t");
    for (int k = 0; k < 10; k++)
        commit_rows(in, db, td, k * 300, (k + 1) * 300, k);
    char dev[PATH_MAX], d1[PATH_MAX], l1[PATH_MAX];
    path_of(dev, "full.bak");
    path_of(d1, "copy.mdf");
    path_of(l1, "copy_log.ldf");
    backup_result br;
    do_backup(in, db, MEDIA_TYPE_DATABASE, dev, &br);
    assert_int_equal(br.position, 1);
    assert_true(br.pages > 10);
    assert_true(br.first_lsn <= br.checkpoint_lsn && br.checkpoint_lsn < br.last_lsn);
    assert_int_equal(restore_verify_only(dev, 1, &e), 0);

    restore_move mv[2] = { { "src", d1 }, { "src_log", l1 } };
    if (restore(in, "copy", dev, 1, 0, RESTORE_RECOVERY, mv, 2, 0, &e) < 0)
        fail_msg("restore: %s (%d)", e.msg, e.number);
    database *cp = inst_find_database(in, "copy");
    assert_non_null(cp);
    assert_int_equal(cp->state, DB_ONLINE);
    table_def *ct = h_table(cp, "t");
    long n1, n2;
    assert_int_equal(sum_vals(in, cp, ct, &n2), sum_vals(in, db, td, &n1));
    assert_int_equal(n1, n2);
    assert_int_equal(n1, 3000);
    /* the copy is a working database: writes, and survives a restart */
    commit_rows(in, cp, ct, 5000, 5010, 7);
    inst_close(in, 1);
    in = h_open(32);
    cp = inst_find_database(in, "copy");
    assert_non_null(cp);
    assert_int_equal(cp->state, DB_ONLINE);
    assert_int_equal(h_count(in, cp, h_table(cp, "t")), 3010);
    /* restoring over an existing database of another origin needs REPLACE */
    assert_int_equal(restore(in, "copy", dev, 1, 0, RESTORE_RECOVERY, NULL, 0, 0, &e), -1);
    if (e.number != 3159 && e.number != 1834)
        fail_msg("over copy: %s (%d)", e.msg, e.number);
    inst_close(in, 1);
}

/* Full + three log backups, restored NORECOVERY, NORECOVERY, ..., RECOVERY;
 * a transaction open across a log backup boundary. */
static void log_chain(void **state)
{
    (void)state;
    instance *in = h_open(32);
    hdb_err e;
    database *db = inst_create_database(in, "src", &e);
    h_create_table(in, db, "t");
    table_def *td = h_table(db, "t");
    commit_rows(in, db, td, 0, 100, 1);
    char dev[PATH_MAX], d1[PATH_MAX], l1[PATH_MAX];
    path_of(dev, "chain.bak");
    path_of(d1, "r.mdf");
    path_of(l1, "r_log.ldf");
    backup_result b[5];
    do_backup(in, db, MEDIA_TYPE_DATABASE, dev, &b[0]);
    commit_rows(in, db, td, 100, 200, 2);
    do_backup(in, db, MEDIA_TYPE_LOG, dev, &b[1]);
    /* open across the boundary: commits after log backup 2 */
    txn *open = txn_begin(in->txns, 1, "open", "sa");
    assert_int_equal(h_insert(open, db, td, 9000, 9, "o", &e), 0);
    commit_rows(in, db, td, 200, 300, 3);
    do_backup(in, db, MEDIA_TYPE_LOG, dev, &b[2]);
    assert_int_equal(txn_commit(open, &e), 0);
    txn_free(open);
    /* open at the end of the last log backup: must be rolled back */
    txn *loser = txn_begin(in->txns, 1, "loser", "sa");
    assert_int_equal(h_insert(loser, db, td, 9001, 9, "l", &e), 0);
    commit_rows(in, db, td, 300, 400, 4);
    do_backup(in, db, MEDIA_TYPE_LOG, dev, &b[3]);
    assert_int_equal(b[1].first_lsn, b[0].first_lsn);
    assert_int_equal(b[2].first_lsn, b[1].last_lsn);
    assert_int_equal(b[3].first_lsn, b[2].last_lsn);
    txn_rollback(loser, &e);
    txn_free(loser);
    long nsrc;
    int64_t sum_src = sum_vals(in, db, td, &nsrc);

    restore_move mv[2] = { { "src", d1 }, { "src_log", l1 } };
    /* a log before the database is there, and onto an ONLINE database */
    assert_int_equal(restore(in, "r", dev, 2, 1, RESTORE_NORECOVERY, NULL, 0, 0, &e), -1);
    assert_int_equal(e.number, 3118);
    assert_int_equal(restore(in, "src", dev, 2, 1, RESTORE_NORECOVERY, NULL, 0, 0, &e), -1);
    assert_int_equal(e.number, 3117);
    /* the source has log after its last backup: 3159 without REPLACE */
    commit_rows(in, db, td, 500, 501, 5);
    assert_int_equal(restore(in, "src", dev, 1, 0, RESTORE_NORECOVERY, NULL, 0, 0, &e), -1);
    assert_int_equal(e.number, 3159);

    assert_int_equal(restore(in, "r", dev, 1, 0, RESTORE_NORECOVERY, mv, 2, 0, &e), 0);
    database *r = inst_find_database(in, "r");
    assert_int_equal(r->state, DB_RESTORING);
    /* gap: log 3 before log 2 */
    assert_int_equal(restore(in, "r", dev, 3, 1, RESTORE_NORECOVERY, NULL, 0, 0, &e), -1);
    assert_int_equal(e.number, 4305);
    assert_int_equal(restore(in, "r", dev, 2, 1, RESTORE_NORECOVERY, NULL, 0, 0, &e), 0);
    /* too early: log 2 again */
    assert_int_equal(restore(in, "r", dev, 2, 1, RESTORE_NORECOVERY, NULL, 0, 0, &e), -1);
    assert_int_equal(e.number, 4326);
    assert_int_equal(restore(in, "r", dev, 3, 1, RESTORE_NORECOVERY, NULL, 0, 0, &e), 0);
    if (restore(in, "r", dev, 4, 1, RESTORE_RECOVERY, NULL, 0, 0, &e) < 0)
        fail_msg("last log: %s (%d)", e.msg, e.number);
    r = inst_find_database(in, "r");
    assert_int_equal(r->state, DB_ONLINE);
    table_def *rt = h_table(r, "t");
    long nr;
    assert_int_equal(sum_vals(in, r, rt, &nr), sum_src);
    assert_int_equal(nr, nsrc);
    assert_int_equal(h_get(in, r, rt, 9000), 9);    /* committed after its log backup */
    assert_int_equal(h_get(in, r, rt, 9001), -1);   /* open at the end: rolled back */
    assert_int_equal(h_get(in, r, rt, 500), -1);    /* after the last log backup */
    /* a log onto a recovered database */
    assert_int_equal(restore(in, "r", dev, 4, 1, RESTORE_NORECOVERY, NULL, 0, 0, &e), -1);
    assert_int_equal(e.number, 3117);
    inst_close(in, 1);
}

/* RESTORING survives a restart; WITH RECOVERY alone finishes it. */
static void restoring_survives_restart(void **state)
{
    (void)state;
    instance *in = h_open(32);
    hdb_err e;
    database *db = inst_create_database(in, "src", &e);
    h_create_table(in, db, "t");
    table_def *td = h_table(db, "t");
    commit_rows(in, db, td, 0, 50, 1);
    char dev[PATH_MAX], d1[PATH_MAX], l1[PATH_MAX];
    path_of(dev, "r.bak");
    path_of(d1, "r.mdf");
    path_of(l1, "r_log.ldf");
    backup_result b;
    do_backup(in, db, MEDIA_TYPE_DATABASE, dev, &b);
    commit_rows(in, db, td, 50, 80, 2);
    do_backup(in, db, MEDIA_TYPE_LOG, dev, &b);
    restore_move mv[2] = { { "src", d1 }, { "src_log", l1 } };
    assert_int_equal(restore(in, "r", dev, 1, 0, RESTORE_NORECOVERY, mv, 2, 0, &e), 0);
    inst_close(in, 1);
    in = h_open(32);
    database *r = inst_find_database(in, "r");
    assert_non_null(r);
    assert_int_equal(r->state, DB_RESTORING);
    if (restore(in, "r", dev, 2, 1, RESTORE_NORECOVERY, NULL, 0, 0, &e) < 0)
        fail_msg("log after restart: %s (%d)", e.msg, e.number);
    inst_close(in, 0);   /* a crash while RESTORING */
    in = h_open(32);
    r = inst_find_database(in, "r");
    assert_int_equal(r->state, DB_RESTORING);
    restore_result rr;
    assert_int_equal(restore_with_recovery_only(in, "r", &rr, &e), 0);
    assert_int_equal(r->state, DB_ONLINE);
    assert_int_equal(h_count(in, r, h_table(r, "t")), 80);
    assert_int_equal(restore_with_recovery_only(in, "r", &rr, &e), -1);
    assert_int_equal(e.number, 3153);
    inst_close(in, 1);
}

static void log_mark(instance *in, database *db, table_def *td, const char *name, int id)
{
    hdb_err e;
    txn *t = txn_begin(in->txns, 1, name, "sa");
    assert_int_equal(h_insert(t, db, td, id, id, "m", &e), 0);
    txn_part *p = txn_find_part(t, &db->tdb);
    lbuf b;
    lbuf_init(&b);
    lbuf_u64(&b, (uint64_t)txn_now_us());
    lbuf_str(&b, name);
    lbuf_str(&b, "desc");
    lbuf_str(&b, "sa");
    lbuf_str(&b, db->tdb.name);
    assert_true(txn_log_plain(t, p, LR_MARK, b.p, b.len, &e) != 0);
    lbuf_free(&b);
    assert_int_equal(txn_commit(t, &e), 0);
    txn_free(t);
}

/* STOPAT between two commits, STOPATMARK and STOPBEFOREMARK. */
static void point_in_time(void **state)
{
    (void)state;
    instance *in = h_open(32);
    hdb_err e;
    database *db = inst_create_database(in, "src", &e);
    h_create_table(in, db, "t");
    table_def *td = h_table(db, "t");
    commit_rows(in, db, td, 0, 10, 1);
    char dev[PATH_MAX];
    path_of(dev, "pit.bak");
    backup_result b;
    do_backup(in, db, MEDIA_TYPE_DATABASE, dev, &b);
    commit_rows(in, db, td, 10, 20, 1);
    usleep(20000);
    int64_t between = txn_now_us();
    usleep(20000);
    commit_rows(in, db, td, 20, 30, 1);
    log_mark(in, db, td, "M1", 100);
    commit_rows(in, db, td, 30, 40, 1);
    do_backup(in, db, MEDIA_TYPE_LOG, dev, &b);

    const char *names[3] = { "p1", "p2", "p3" };
    long expect[3] = { 20, 31, 30 };
    for (int k = 0; k < 3; k++) {
        char d1[PATH_MAX], l1[PATH_MAX], ld[64], ll[64];
        snprintf(ld, sizeof ld, "%s.mdf", names[k]);
        snprintf(ll, sizeof ll, "%s_log.ldf", names[k]);
        path_of(d1, ld);
        path_of(l1, ll);
        restore_move mv[2] = { { "src", d1 }, { "src_log", l1 } };
        assert_int_equal(restore(in, names[k], dev, 1, 0, RESTORE_NORECOVERY, mv, 2, 0, &e), 0);
        restore_opts o = { .is_log = 1, .db_name = names[k], .device_path = dev, .file = 2 };
        if (k == 0)
            o.stop_at = between;
        else {
            o.stop_mark = "M1";
            o.stop_before = k == 2;
        }
        restore_result rr;
        if (restore_run(in, &o, &rr, &e) < 0)
            fail_msg("%s: %s (%d)", names[k], e.msg, e.number);
        database *r = inst_find_database(in, names[k]);
        assert_int_equal(r->state, DB_ONLINE);
        assert_int_equal(h_count(in, r, h_table(r, "t")), expect[k]);
    }
    /* a mark beyond this log backup with RECOVERY: left RESTORING (4329) */
    char d1[PATH_MAX], l1[PATH_MAX];
    path_of(d1, "p4.mdf");
    path_of(l1, "p4_log.ldf");
    restore_move mv[2] = { { "src", d1 }, { "src_log", l1 } };
    assert_int_equal(restore(in, "p4", dev, 1, 0, RESTORE_NORECOVERY, mv, 2, 0, &e), 0);
    restore_opts o = { .is_log = 1, .db_name = "p4", .device_path = dev, .file = 2, .stop_mark = "M9" };
    restore_result rr;
    assert_int_equal(restore_run(in, &o, &rr, &e), 0);
    assert_int_equal(rr.info, 4329);
    assert_int_equal(inst_find_database(in, "p4")->state, DB_RESTORING);
    inst_close(in, 1);
}

/* Tail-log backup WITH NORECOVERY, then restore over the same database. */
static void tail_log(void **state)
{
    (void)state;
    instance *in = h_open(32);
    hdb_err e;
    database *db = inst_create_database(in, "src", &e);
    h_create_table(in, db, "t");
    table_def *td = h_table(db, "t");
    commit_rows(in, db, td, 0, 100, 1);
    char dev[PATH_MAX];
    path_of(dev, "tail.bak");
    backup_result b;
    do_backup(in, db, MEDIA_TYPE_DATABASE, dev, &b);
    commit_rows(in, db, td, 100, 150, 2);
    backup_opts o = { .type = MEDIA_TYPE_LOG, .device_path = dev, .norecovery = 1 };
    assert_int_equal(backup_database(in, db, &o, &b, &e), 0);
    assert_int_equal(db->state, DB_RESTORING);
    assert_true(b.set.flags & MEDIA_FLAG_TAIL_LOG);
    assert_int_equal(restore(in, "src", dev, 1, 0, RESTORE_NORECOVERY, NULL, 0, 0, &e), 0);
    assert_int_equal(restore(in, "src", dev, 2, 1, RESTORE_RECOVERY, NULL, 0, 0, &e), 0);
    db = inst_find_database(in, "src");
    assert_int_equal(db->state, DB_ONLINE);
    assert_int_equal(h_count(in, db, h_table(db, "t")), 150);
    inst_close(in, 1);
}

/* Full, differential (fewer pages), log: restored in that order. */
static void differential(void **state)
{
    (void)state;
    instance *in = h_open(32);
    hdb_err e;
    database *db = inst_create_database(in, "src", &e);
    h_create_table(in, db, "t");
    table_def *td = h_table(db, "t");
    commit_rows(in, db, td, 0, 3000, 1);
    char dev[PATH_MAX], d1[PATH_MAX], l1[PATH_MAX];
    path_of(dev, "diff.bak");
    path_of(d1, "d.mdf");
    path_of(l1, "d_log.ldf");
    backup_result full, diff, lg;
    do_backup(in, db, MEDIA_TYPE_DATABASE, dev, &full);
    commit_rows(in, db, td, 3000, 3010, 2);
    do_backup(in, db, MEDIA_TYPE_DIFF_DATABASE, dev, &diff);
    assert_true(diff.pages < full.pages);
    assert_int_equal(diff.differential_base_lsn, full.first_lsn);
    commit_rows(in, db, td, 3010, 3020, 3);
    do_backup(in, db, MEDIA_TYPE_LOG, dev, &lg);
    restore_move mv[2] = { { "src", d1 }, { "src_log", l1 } };
    /* a differential needs its base restored first */
    assert_int_equal(restore(in, "d", dev, 2, 0, RESTORE_NORECOVERY, mv, 2, 0, &e), -1);
    assert_int_equal(e.number, 3118);
    assert_int_equal(restore(in, "d", dev, 1, 0, RESTORE_NORECOVERY, mv, 2, 0, &e), 0);
    if (restore(in, "d", dev, 2, 0, RESTORE_NORECOVERY, NULL, 0, 0, &e) < 0)
        fail_msg("diff: %s (%d)", e.msg, e.number);
    if (restore(in, "d", dev, 3, 1, RESTORE_RECOVERY, NULL, 0, 0, &e) < 0)
        fail_msg("log after diff: %s (%d)", e.msg, e.number);
    database *r = inst_find_database(in, "d");
    assert_int_equal(r->state, DB_ONLINE);
    assert_int_equal(h_count(in, r, h_table(r, "t")), 3020);
    assert_int_equal(sum_vals(in, r, h_table(r, "t"), NULL), sum_vals(in, db, td, NULL));
    inst_close(in, 1);
}

/* A damaged backup is refused and the database it would replace is intact;
 * so is one whose restore dies of an I/O error half-way. */
static void damaged_media_and_crash(void **state)
{
    (void)state;
    instance *in = h_open(32);
    hdb_err e;
    database *db = inst_create_database(in, "src", &e);
    h_create_table(in, db, "t");
    table_def *td = h_table(db, "t");
    commit_rows(in, db, td, 0, 2000, 1);
    char dev[PATH_MAX], bad[PATH_MAX];
    path_of(dev, "d.bak");
    path_of(bad, "bad.bak");
    backup_result b;
    do_backup(in, db, MEDIA_TYPE_DATABASE, dev, &b);
    commit_rows(in, db, td, 2000, 2100, 2);
    /* flip a byte in the middle of the pages */
    char cmd[PATH_MAX * 2 + 64];
    snprintf(cmd, sizeof cmd, "cp %s %s", dev, bad);
    assert_int_equal(system(cmd), 0);
    FILE *f = fopen(bad, "r+b");
    assert_non_null(f);
    fseek(f, 4096 * 6 + 5000, SEEK_SET);
    int c = fgetc(f);
    fseek(f, 4096 * 6 + 5000, SEEK_SET);
    fputc(c ^ 0x20, f);
    fclose(f);
    assert_int_equal(restore(in, "src", bad, 1, 0, RESTORE_RECOVERY, NULL, 0, 1, &e), -1);
    assert_true(e.number == 3189 || e.number == 3183);
    db = inst_find_database(in, "src");
    assert_int_equal(db->state, DB_ONLINE);
    assert_int_equal(h_count(in, db, h_table(db, "t")), 2100);

    /* an I/O error while the new files are written */
    fault_rule fr = { .path_contains = ".restoring", .ops = FIO_OP_WRITE, .nth = 3, .count = 1000,
                      .action = FAULT_EIO };
    fault_add(&fr);
    assert_int_equal(restore(in, "src", dev, 1, 0, RESTORE_RECOVERY, NULL, 0, 1, &e), -1);
    fault_clear();
    db = inst_find_database(in, "src");
    assert_non_null(db);
    assert_int_equal(db->state, DB_ONLINE);
    assert_int_equal(h_count(in, db, h_table(db, "t")), 2100);
    inst_close(in, 1);
    in = h_open(32);
    db = inst_find_database(in, "src");
    assert_int_equal(h_count(in, db, h_table(db, "t")), 2100);
    inst_close(in, 1);
}

/* A full backup taken while transfers commit restores to a consistent
 * state: the sum is preserved. */
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
        int a = (int)(rand_r(&l->seed) % 500), b = (int)(rand_r(&l->seed) % 500);
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

static void online_backup_under_load(void **state)
{
    (void)state;
    instance *in = h_open(64);
    hdb_err e;
    database *db = inst_create_database(in, "bank", &e);
    h_create_table(in, db, "acct");
    table_def *td = h_table(db, "acct");
    commit_rows(in, db, td, 0, 500, 1000);
    for (int k = 0; k < 20; k++)
        commit_rows(in, db, td, 1000 + k * 500, 1500 + k * 500, 0);   /* bulk so the copy takes a while */
    load l = { .in = in, .db = db, .td = td, .seed = 7 };
    pthread_t th[3];
    for (int i = 0; i < 3; i++)
        pthread_create(&th[i], NULL, transfers, &l);
    usleep(100000);
    char dev[PATH_MAX], d1[PATH_MAX], l1[PATH_MAX];
    path_of(dev, "bank.bak");
    path_of(d1, "bank2.mdf");
    path_of(l1, "bank2_log.ldf");
    backup_result b;
    long before = l.commits;
    do_backup(in, db, MEDIA_TYPE_DATABASE, dev, &b);
    long during = l.commits - before;
    usleep(50000);
    l.stop = 1;
    for (int i = 0; i < 3; i++)
        pthread_join(th[i], NULL);
    assert_true(l.commits > 0);
    restore_move mv[2] = { { "bank", d1 }, { "bank_log", l1 } };
    if (restore(in, "bank2", dev, 1, 0, RESTORE_RECOVERY, mv, 2, 0, &e) < 0)
        fail_msg("restore: %s (%d)", e.msg, e.number);
    database *r = inst_find_database(in, "bank2");
    long n;
    int64_t sum = sum_vals(in, r, h_table(r, "acct"), &n);
    assert_int_equal(n, 500 + 20 * 500);
    assert_int_equal(sum, 500 * 1000);
    if (getenv("HADR_VERBOSE"))
        fprintf(stderr, "transfers committed during the backup: %ld\n", during);
    inst_close(in, 1);
}

/* A table on a secondary file's filegroup, the copy's file list. */
static int file2_path_is(database *db, const char *path)
{
    const df_file_desc *d = df_file(db->df, 2);
    int listed = 0;
    for (int i = 0; i < BOOT_MAX_FILES; i++)
        if (db->files.files[i].file_id == 2)
            listed = strcmp(db->files.files[i].path, path) == 0;
    return d && strcmp(d->path, path) == 0 && listed;
}

/* RESTORE ... MOVE of a secondary data file: the log backup restored after
 * the full holds a full image of the boot page listing the source's paths
 * (the first change after the backup's checkpoint), so the boot page of the
 * copy names them again after redo. The copy must still open its own files,
 * after a clean restart and after a crash, with the source alive or gone. */
static void move_secondary_file(void **state)
{
    (void)state;
    instance *in = h_open(32);
    hdb_err e;
    database *db = inst_create_database(in, "src", &e);
    assert_non_null(db);
    uint16_t fg;
    assert_int_equal(db_add_filegroup(db, "fg2", &fg, &e), 0);
    db_file_spec fs = { .size_pages = 64, .growth_pages = 64 };
    snprintf(fs.logical_name, sizeof fs.logical_name, "src_2");
    path_of(fs.path, "src_2.ndf");
    uint16_t fid;
    assert_int_equal(inst_add_file(in, db, "fg2", &fs, &fid, &e), 0);
    assert_int_equal(fid, 2);
    tbl_column c[3] = { { .name = "id", .type = { .id = SQL_INT } }, { .name = "val", .type = { .id = SQL_BIGINT } },
                        { .name = "pad", .type = { .id = SQL_VARCHAR, .max_len = -1 }, .nullable = 1 } };
    int pk = 0;
    table_spec ts = { .schema_id = SCHEMA_DBO, .name = "t", .ncols = 3, .cols = c, .npk = 1, .pk_cols = &pk,
                      .fg_id = fg };
    txn *t = txn_begin(in->txns, 1, "ddl", "sa");
    assert_int_equal(cat_create_table(t, db, &ts, NULL, &e), 0);
    assert_int_equal(txn_commit(t, &e), 0);
    txn_free(t);
    table_def *td = h_table(db, "t");
    assert_int_equal(PGID_FILE(td->idx[0].root), 2);
    commit_rows(in, db, td, 0, 400, 1);
    char dev[PATH_MAX], d1[PATH_MAX], d2[PATH_MAX], l1[PATH_MAX], src2[PATH_MAX];
    path_of(dev, "mv2.bak");
    path_of(d1, "copy.mdf");
    path_of(d2, "copy_2.ndf");
    path_of(l1, "copy_log.ldf");
    snprintf(src2, sizeof src2, "%s", fs.path);
    backup_result br;
    do_backup(in, db, MEDIA_TYPE_DATABASE, dev, &br);
    h_create_table(in, db, "after");   /* a boot page change: its full image is logged */
    commit_rows(in, db, td, 400, 600, 2);
    do_backup(in, db, MEDIA_TYPE_LOG, dev, &br);
    long nsrc;
    int64_t sum_src = sum_vals(in, db, td, &nsrc);

    restore_move mv[3] = { { "src", d1 }, { "src_2", d2 }, { "src_log", l1 } };
    if (restore(in, "copy", dev, 1, 0, RESTORE_NORECOVERY, mv, 3, 0, &e) < 0)
        fail_msg("full: %s (%d)", e.msg, e.number);
    if (restore(in, "copy", dev, 2, 1, RESTORE_RECOVERY, NULL, 0, 0, &e) < 0)
        fail_msg("log: %s (%d)", e.msg, e.number);
    database *cp = inst_find_database(in, "copy");
    assert_non_null(cp);
    assert_int_equal(cp->state, DB_ONLINE);
    assert_true(file2_path_is(cp, d2));
    assert_true(file2_path_is(db, src2));
    table_def *ct = h_table(cp, "t");
    long n;
    assert_int_equal(sum_vals(in, cp, ct, &n), sum_src);
    assert_int_equal(n, nsrc);
    /* both go on on their own; the copy's boot page reaches the disk */
    commit_rows(in, cp, ct, 1000, 1100, 3);
    commit_rows(in, db, td, 2000, 2010, 4);
    assert_int_equal(db_checkpoint(cp, &e), 0);
    for (int round = 0; round < 2; round++) {
        inst_close(in, round);   /* a crash, then a clean shutdown */
        in = h_open(32);
        cp = inst_find_database(in, "copy");
        db = inst_find_database(in, "src");
        assert_non_null(cp);
        assert_int_equal(cp->state, DB_ONLINE);
        assert_true(file2_path_is(cp, d2));
        assert_true(file2_path_is(db, src2));
        assert_int_equal(h_count(in, cp, h_table(cp, "t")), nsrc + 100 + round);
        assert_int_equal(h_count(in, db, h_table(db, "t")), nsrc + 10);
        commit_rows(in, cp, h_table(cp, "t"), 3000 + round, 3001 + round, 5);
    }
    /* the source gone (its files too): the copy does not need them */
    assert_int_equal(inst_drop_database(in, "src", &e), 0);
    assert_int_not_equal(access(src2, F_OK), 0);
    inst_close(in, 0);
    in = h_open(32);
    cp = inst_find_database(in, "copy");
    assert_non_null(cp);
    assert_int_equal(cp->state, DB_ONLINE);
    assert_true(file2_path_is(cp, d2));
    assert_int_equal(h_count(in, cp, h_table(cp, "t")), nsrc + 102);
    /* restored again over itself to yet other paths: the old files go */
    char d1b[PATH_MAX], d2b[PATH_MAX], l1b[PATH_MAX];
    path_of(d1b, "copyb.mdf");
    path_of(d2b, "copyb_2.ndf");
    path_of(l1b, "copyb_log.ldf");
    restore_move mvb[3] = { { "src", d1b }, { "src_2", d2b }, { "src_log", l1b } };
    if (restore(in, "copy", dev, 1, 0, RESTORE_RECOVERY, mvb, 3, 1, &e) < 0)
        fail_msg("over the copy: %s (%d)", e.msg, e.number);
    assert_int_not_equal(access(d2, F_OK), 0);
    cp = inst_find_database(in, "copy");
    assert_true(file2_path_is(cp, d2b));
    inst_close(in, 0);
    in = h_open(32);
    cp = inst_find_database(in, "copy");
    assert_non_null(cp);
    assert_true(file2_path_is(cp, d2b));
    assert_int_equal(h_count(in, cp, h_table(cp, "t")), 400);
    inst_close(in, 1);
}

/* A file added after the full backup: its FILE_OP is in the log backup and
 * names the source's path. RESTORE LOG refuses to put it there while the
 * source has it (1834) and nothing is written; WITH MOVE it goes to the
 * copy's own path, registered, so restarts open it there. */
static void file_added_in_log_range(void **state)
{
    (void)state;
    instance *in = h_open(32);
    hdb_err e;
    database *db = inst_create_database(in, "src", &e);
    h_create_table(in, db, "t");
    commit_rows(in, db, h_table(db, "t"), 0, 100, 1);
    char dev[PATH_MAX], d1[PATH_MAX], l1[PATH_MAX], d3[PATH_MAX], src3[PATH_MAX];
    path_of(dev, "added.bak");
    path_of(d1, "cp.mdf");
    path_of(l1, "cp_log.ldf");
    path_of(d3, "cp_3.ndf");
    path_of(src3, "src_3.ndf");
    backup_result br;
    do_backup(in, db, MEDIA_TYPE_DATABASE, dev, &br);
    uint16_t fg, fid;
    assert_int_equal(db_add_filegroup(db, "late", &fg, &e), 0);
    db_file_spec fs = { .size_pages = 64, .growth_pages = 64 };
    snprintf(fs.logical_name, sizeof fs.logical_name, "src_3");
    snprintf(fs.path, sizeof fs.path, "%s", src3);
    assert_int_equal(inst_add_file(in, db, "late", &fs, &fid, &e), 0);
    tbl_column c[3] = { { .name = "id", .type = { .id = SQL_INT } }, { .name = "val", .type = { .id = SQL_BIGINT } },
                        { .name = "pad", .type = { .id = SQL_VARCHAR, .max_len = -1 }, .nullable = 1 } };
    int pk = 0;
    table_spec ts = { .schema_id = SCHEMA_DBO, .name = "l", .ncols = 3, .cols = c, .npk = 1, .pk_cols = &pk,
                      .fg_id = fg };
    txn *t = txn_begin(in->txns, 1, "ddl", "sa");
    assert_int_equal(cat_create_table(t, db, &ts, NULL, &e), 0);
    assert_int_equal(txn_commit(t, &e), 0);
    txn_free(t);
    commit_rows(in, db, h_table(db, "l"), 0, 300, 2);
    do_backup(in, db, MEDIA_TYPE_LOG, dev, &br);
    struct stat before;
    assert_int_equal(stat(src3, &before), 0);

    restore_move mv[3] = { { "src", d1 }, { "src_log", l1 }, { "src_3", d3 } };
    assert_int_equal(restore(in, "cp", dev, 1, 0, RESTORE_NORECOVERY, mv, 3, 0, &e), -1);   /* not in this set */
    assert_int_equal(e.number, 3234);
    assert_int_equal(restore(in, "cp", dev, 1, 0, RESTORE_NORECOVERY, mv, 2, 0, &e), 0);
    assert_int_equal(restore(in, "cp", dev, 2, 1, RESTORE_RECOVERY, NULL, 0, 0, &e), -1);
    assert_int_equal(e.number, 1834);
    database *cp = inst_find_database(in, "cp");
    assert_int_equal(cp->state, DB_RESTORING);
    assert_null(df_file(cp->df, fid));
    struct stat after;
    assert_int_equal(stat(src3, &after), 0);
    assert_int_equal(after.st_mtime, before.st_mtime);
    assert_int_equal(after.st_size, before.st_size);
    if (restore(in, "cp", dev, 2, 1, RESTORE_RECOVERY, &mv[2], 1, 0, &e) < 0)
        fail_msg("log with MOVE: %s (%d)", e.msg, e.number);
    cp = inst_find_database(in, "cp");
    assert_int_equal(cp->state, DB_ONLINE);
    assert_true(df_file(cp->df, fid) && strcmp(df_file(cp->df, fid)->path, d3) == 0);
    assert_int_equal(h_count(in, cp, h_table(cp, "l")), 300);
    assert_int_equal(PGID_FILE(h_table(cp, "l")->idx[0].root), fid);
    commit_rows(in, cp, h_table(cp, "l"), 1000, 1010, 3);
    for (int round = 0; round < 2; round++) {
        inst_close(in, round);
        in = h_open(32);
        cp = inst_find_database(in, "cp");
        db = inst_find_database(in, "src");
        assert_int_equal(cp->state, DB_ONLINE);
        assert_true(df_file(cp->df, fid) && strcmp(df_file(cp->df, fid)->path, d3) == 0);
        assert_true(df_file(db->df, fid) && strcmp(df_file(db->df, fid)->path, src3) == 0);
        assert_int_equal(h_count(in, cp, h_table(cp, "l")), 310);
        assert_int_equal(h_count(in, db, h_table(db, "l")), 300);
    }
    inst_close(in, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(full_restore_with_move, setup, teardown),
        cmocka_unit_test_setup_teardown(move_secondary_file, setup, teardown),
        cmocka_unit_test_setup_teardown(file_added_in_log_range, setup, teardown),
        cmocka_unit_test_setup_teardown(log_chain, setup, teardown),
        cmocka_unit_test_setup_teardown(restoring_survives_restart, setup, teardown),
        cmocka_unit_test_setup_teardown(point_in_time, setup, teardown),
        cmocka_unit_test_setup_teardown(tail_log, setup, teardown),
        cmocka_unit_test_setup_teardown(differential, setup, teardown),
        cmocka_unit_test_setup_teardown(damaged_media_and_crash, setup, teardown),
        cmocka_unit_test_setup_teardown(online_backup_under_load, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
