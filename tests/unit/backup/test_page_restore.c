/* test_page_restore.c — online page restore (backup/restore_page.h): the
 * page list; a damaged page (824) rebuilt from a full backup, two log
 * backups and a tail taken after the restore began, with the database in
 * use (829 for that page only) and every committed change there afterwards;
 * the sequence rules (4305, 4326, RECOVERY short of the redo target); a
 * page that was cached and dirty when its restore began; a failed final
 * write that leaves the pages pending; a restart forgetting the sequence;
 * the refusals (4346, 3111, 3194, 3105, 3154, a second sequence, a log
 * backup as the base); a deferred transaction resolved without a restart. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>

#include "../engine/engine_harness.h"
#include "backup/backup.h"
#include "backup/restore_page.h"
#include "engine/deferred.h"
#include "engine/suspect.h"
#include "storage/pageop.h"

enum { ROWS = 400 };
#define PAD "padding that spreads the rows over many pages, padding that spreads the rows"

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

static database *full_db(instance *in, const char *name)
{
    hdb_err e;
    database *db = inst_create_database(in, name, &e);
    assert_non_null(db);
    assert_int_equal(db_set_recovery_model(db, RECOVERY_FULL, &e), 0);
    return db;
}

static void commit_rows(instance *in, database *db, const char *table, int from, int to, int64_t val)
{
    hdb_err e;
    table_def *td = h_table(db, table);
    txn *t = txn_begin(in->txns, 1, "load", "sa");
    for (int i = from; i < to; i++)
        if (h_insert(t, db, td, i, val < 0 ? i : val, PAD, &e) < 0)
            fail_msg("insert: %s", e.msg);
    assert_int_equal(txn_commit(t, &e), 0);
    txn_free(t);
}

static void update_rows(instance *in, database *db, int from, int to, int64_t base)
{
    hdb_err e;
    table_def *td = h_table(db, "t");
    txn *t = txn_begin(in->txns, 1, "upd", "sa");
    for (int i = from; i < to; i++)
        if (h_update(t, db, td, i, base + i, &e) < 0)
            fail_msg("update %d: %s (%d)", i, e.msg, e.number);
    assert_int_equal(txn_commit(t, &e), 0);
    txn_free(t);
}

/* The page holding row id of t (found by updating the row to val, committed). */
static pgid_t page_of_row(instance *in, database *db, int id, int64_t val)
{
    hdb_err e;
    txn *t = txn_begin(in->txns, 1, "find", "sa");
    assert_int_equal(h_update(t, db, h_table(db, "t"), id, val, &e), 0);
    pgid_t p = h_page_of_last_row(t, db);
    assert_int_equal(txn_commit(t, &e), 0);
    txn_free(t);
    return p;
}

/* Damage page id on disk, as a failing disk would: the pool's copy is
 * written and dropped first, so the next read meets the damage (824). */
static void damage_page(database *db, pgid_t id)
{
    hdb_err e;
    assert_int_equal(bp_flush_db(db->bp, db->df, &e), 0);
    bp_discard_page(db->bp, db->df, id);
    int fd = open(df_file(db->df, (uint16_t)PGID_FILE(id))->path, O_WRONLY);
    assert_true(fd >= 0);
    uint8_t junk[300];
    memset(junk, 0xde, sizeof junk);
    assert_int_equal(pwrite(fd, junk, sizeof junk, (off_t)PGID_PAGE(id) * PAGE_SIZE + 3000), (ssize_t)sizeof junk);
    close(fd);
}

/* Row id of t with a lock timeout of 0: its val, -1 missing, -number on error. */
static int64_t try_read(instance *in, database *db, int id)
{
    hdb_err e;
    txn *t = txn_begin(in->txns, 9, "reader", "sa");
    t->lock_timeout_ms = 0;
    sql_value key = value_int(SQL_INT, id);
    table_row r;
    int rc = table_get(t, db, h_table(db, "t"), &key, ISO_READ_COMMITTED, &r, &e);
    int64_t v = rc == 1 ? r.vals[1].u.i : rc < 0 ? -(int64_t)e.number : -1;
    if (rc == 1)
        table_row_free(&r);
    txn_commit(t, &e);
    txn_free(t);
    return v;
}

/* An update of row id of t: 0 or the error number (rolled back). */
static int try_update(instance *in, database *db, int id, int64_t val)
{
    hdb_err e;
    txn *t = txn_begin(in->txns, 9, "writer", "sa");
    t->lock_timeout_ms = 0;
    int rc = h_update(t, db, h_table(db, "t"), id, val, &e);
    if (rc == 0)
        rc = txn_commit(t, &e);
    else
        txn_rollback(t, NULL);
    txn_free(t);
    return rc == 0 ? 0 : e.number;
}

static int pages_step(instance *in, const char *db, const char *dev, int file, int recovery, const char *pages,
                      restore_page_result *r, hdb_err *e)
{
    restore_opts o = { .db_name = db, .device_path = dev, .file = file, .recovery = recovery };
    hdb_err_clear(e);
    int rc = pages ? restore_page_begin(in, &o, pages, r, e) : restore_page_log(in, &o, r, e);
    if (rc < 0 && getenv("HADR_DEBUG"))
        fprintf(stderr, "page restore step: %s (%d)\n", e->msg, e->number);
    return rc;
}

static const char *page_text(pgid_t id, char *buf)
{
    snprintf(buf, 32, "%u:%u", PGID_FILE(id), PGID_PAGE(id));
    return buf;
}

/* Every row of t as expected (vals[i] = -1: absent). */
static void rows_are(instance *in, database *db, const int64_t *vals, int n)
{
    for (int i = 0; i < n; i++)
        if (try_read(in, db, i) != vals[i])
            fail_msg("row %d: %lld, expected %lld", i, (long long)try_read(in, db, i), (long long)vals[i]);
}

static int event_of(instance *in, pgid_t id)
{
    suspect_event ev[64];
    int n = suspect_take(in, ev, 64), type = 0;
    for (int i = 0; i < n; i++)
        if (PGID(ev[i].file_id, ev[i].page_no) == id)
            type = ev[i].event_type;
    return type;
}

/* ---- the page list ---------------------------------------------------------- */

static void page_list(void **state)
{
    (void)state;
    pgid_t ids[RESTORE_PAGE_MAX];
    int n;
    hdb_err e;
    assert_int_equal(restore_page_parse("1:57, 1:202,3:4", ids, RESTORE_PAGE_MAX, &n, &e), 0);
    assert_int_equal(n, 3);
    assert_true(ids[0] == PGID(1, 57) && ids[1] == PGID(1, 202) && ids[2] == PGID(3, 4));
    assert_int_equal(restore_page_parse(" 1:57 , 1:57 ", ids, RESTORE_PAGE_MAX, &n, &e), 0);
    assert_int_equal(n, 1);
    static const char *const bad[] = { "", "1", "1:", ":5", "1:5,", "1:5 2:6", "0:5", "70000:1", "1:99999999999",
                                       "a:b", "1:-2" };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        hdb_err_clear(&e);
        assert_int_equal(restore_page_parse(bad[i], ids, RESTORE_PAGE_MAX, &n, &e), -1);
        assert_int_equal(e.number, 3250);
    }
    assert_int_equal(restore_page_parse(NULL, ids, RESTORE_PAGE_MAX, &n, &e), -1);
    char many[16000] = "";
    for (int i = 0; i <= RESTORE_PAGE_MAX; i++)
        snprintf(many + strlen(many), sizeof many - strlen(many), "%s1:%d", i ? "," : "", 10 + i);
    assert_int_equal(restore_page_parse(many, ids, RESTORE_PAGE_MAX, &n, &e), -1);
    assert_int_equal(e.number, 3105);
}

/* ---- the whole sequence ------------------------------------------------------ */

static void damaged_page_restored_online(void **state)
{
    (void)state;
    instance *in = h_open(32);
    database *db = full_db(in, "pr");
    h_create_table(in, db, "t");
    h_create_table(in, db, "u");
    commit_rows(in, db, "t", 0, ROWS, -1);
    commit_rows(in, db, "u", 0, 50, 1);
    char dev[PATH_MAX], pg[32];
    path_of(dev, "pr.bak");
    do_backup(in, db, MEDIA_TYPE_DATABASE, dev);              /* 1 */
    update_rows(in, db, 100, 140, 1000);
    do_backup(in, db, MEDIA_TYPE_LOG, dev);                   /* 2 */
    update_rows(in, db, 120, 130, 2000);
    do_backup(in, db, MEDIA_TYPE_LOG, dev);                   /* 3 */
    pgid_t bad = page_of_row(in, db, 125, 3000);              /* after the last log backup */
    int64_t want[ROWS];
    for (int i = 0; i < ROWS; i++)
        want[i] = try_read(in, db, i);
    assert_int_equal(want[125], 3000);
    assert_int_equal(want[121], 2121);
    damage_page(db, bad);
    assert_int_equal(try_read(in, db, 125), -824);
    assert_int_equal(event_of(in, bad), SUSPECT_BAD_CHECKSUM);

    restore_page_result r;
    hdb_err e;
    /* a log backup cannot start it; then the full backup does */
    assert_int_equal(pages_step(in, "pr", dev, 2, RESTORE_NORECOVERY, page_text(bad, pg), &r, &e), -1);
    assert_int_equal(e.number, 3013);
    assert_false(restore_page_active(in, "pr"));
    if (pages_step(in, "pr", dev, 1, RESTORE_NORECOVERY, page_text(bad, pg), &r, &e) < 0)
        fail_msg("begin: %s (%d)", e.msg, e.number);
    assert_true(restore_page_active(in, "pr"));
    assert_int_equal(r.nfiles, 1);
    assert_int_equal(r.files[0].pages, 1);
    assert_false(r.finished);
    assert_true(r.redo_target > r.applied_to);
    lsn_t target = r.redo_target;

    /* online: only that page is unavailable (829, not 824), for reads and writes */
    assert_int_equal(try_read(in, db, 125), -829);
    assert_int_equal(try_update(in, db, 125, 1), 829);
    assert_int_equal(try_read(in, db, 0), 0);
    assert_int_equal(try_read(in, db, ROWS - 1), ROWS - 1);
    assert_int_equal(try_update(in, db, 0, 77), 0);
    want[0] = 77;
    commit_rows(in, db, "u", 50, 60, 2);
    assert_int_equal(h_count(in, db, h_table(db, "u")), 60);
    /* a full backup meanwhile copies pages from disk: the damaged one fails it */
    char other_dev[PATH_MAX];
    path_of(other_dev, "meanwhile.bak");
    backup_opts bo = { .type = MEDIA_TYPE_DATABASE, .device_path = other_dev, .copy_only = 1 };
    backup_result br;
    assert_int_equal(backup_database(in, db, &bo, &br, &e), -1);
    assert_int_equal(e.number, 3043);
    assert_non_null(strstr(e.msg, "RestorePending"));

    /* a second sequence, the sequence rules, RECOVERY short of the target */
    assert_int_equal(pages_step(in, "pr", dev, 1, RESTORE_NORECOVERY, "1:3", &r, &e), -1);
    assert_int_equal(e.number, 3013);
    assert_non_null(strstr(e.msg, "already in progress"));
    assert_int_equal(pages_step(in, "pr", dev, 3, RESTORE_NORECOVERY, NULL, &r, &e), -1);
    assert_int_equal(e.number, 4305);
    assert_int_equal(pages_step(in, "pr", dev, 2, RESTORE_RECOVERY, NULL, &r, &e), -1);
    assert_int_equal(e.number, 4326);
    assert_non_null(strstr(e.msg, "includes LSN"));
    assert_int_equal(pages_step(in, "pr", dev, 2, RESTORE_NORECOVERY, NULL, &r, &e), 0);
    assert_int_equal(pages_step(in, "pr", dev, 2, RESTORE_NORECOVERY, NULL, &r, &e), -1);
    assert_int_equal(e.number, 4326);
    assert_int_equal(restore_page_recover(in, "pr", &r, &e), -1);
    assert_int_equal(e.number, 4326);
    assert_int_equal(pages_step(in, "pr", dev, 3, RESTORE_NORECOVERY, NULL, &r, &e), 0);
    assert_int_equal(try_read(in, db, 125), -829);

    /* the tail, taken now, reaches the target */
    do_backup(in, db, MEDIA_TYPE_LOG, dev);                   /* 4 */
    if (pages_step(in, "pr", dev, 4, RESTORE_RECOVERY, NULL, &r, &e) < 0)
        fail_msg("tail: %s (%d)", e.msg, e.number);
    assert_true(r.finished);
    assert_true(r.applied_to >= target);
    assert_false(restore_page_active(in, "pr"));
    assert_int_equal(event_of(in, bad), SUSPECT_RESTORED);
    rows_are(in, db, want, ROWS);
    assert_int_equal(try_update(in, db, 125, 4000), 0);
    want[125] = 4000;
    assert_int_equal(pages_step(in, "pr", dev, 4, RESTORE_NORECOVERY, NULL, &r, &e), -1);
    assert_int_equal(e.number, 3117);

    /* durable: a restart (and a crash after it) keeps it */
    inst_close(in, 1);
    in = h_open(32);
    db = inst_find_database(in, "pr");
    rows_are(in, db, want, ROWS);
    assert_int_equal(h_count(in, db, h_table(db, "u")), 60);
    inst_close(in, 0);
    in = h_open(32);
    db = inst_find_database(in, "pr");
    rows_are(in, db, want, ROWS);
    inst_close(in, 1);
}

/* A page that is fine, cached and dirty when its restore begins: the change
 * in the pool's copy is logged before the redo target, and the copy never
 * overwrites the restored image. The final write fails once (EIO): the page
 * stays pending until RESTORE DATABASE ... WITH RECOVERY writes it. */
static void dirty_page_and_failed_finish(void **state)
{
    (void)state;
    instance *in = h_open(32);
    database *db = full_db(in, "dp");
    h_create_table(in, db, "t");
    commit_rows(in, db, "t", 0, ROWS, -1);
    char dev[PATH_MAX], pg[32];
    path_of(dev, "dp.bak");
    do_backup(in, db, MEDIA_TYPE_DATABASE, dev);
    pgid_t p = page_of_row(in, db, 200, 5200);                 /* cached, dirty */
    int64_t want[ROWS];
    for (int i = 0; i < ROWS; i++)
        want[i] = try_read(in, db, i);
    restore_page_result r;
    hdb_err e;
    if (pages_step(in, "dp", dev, 1, RESTORE_RECOVERY, page_text(p, pg), &r, &e) < 0)
        fail_msg("begin: %s (%d)", e.msg, e.number);
    assert_int_equal(r.r.info, 4339);   /* RECOVERY asked: more log needed */
    assert_false(r.finished);
    assert_int_equal(try_read(in, db, 200), -829);
    hdb_err ce;
    assert_int_equal(db_checkpoint(db, &ce), 0);   /* writes the pool's copy: allowed */
    assert_int_equal(try_read(in, db, 200), -829);
    do_backup(in, db, MEDIA_TYPE_LOG, dev);
    fault_rule fr = { .path_contains = "dp.mdf", .ops = FIO_OP_WRITE, .offset_lo = (uint64_t)PGID_PAGE(p) * PAGE_SIZE,
                      .offset_hi = (uint64_t)(PGID_PAGE(p) + 1) * PAGE_SIZE, .nth = 1, .action = FAULT_EIO };
    int id = fault_add(&fr);
    assert_int_equal(pages_step(in, "dp", dev, 2, RESTORE_RECOVERY, NULL, &r, &e), -1);
    assert_int_equal(fault_fired(id), 1);
    assert_true(restore_page_active(in, "dp"));
    assert_int_equal(try_read(in, db, 200), -829);
    fault_clear();
    if (restore_page_recover(in, "dp", &r, &e) < 0)
        fail_msg("recover: %s (%d)", e.msg, e.number);
    assert_true(r.finished);
    rows_are(in, db, want, ROWS);
    inst_close(in, 0);   /* a crash right after: the image was durable */
    in = h_open(32);
    rows_are(in, inst_find_database(in, "dp"), want, ROWS);
    inst_close(in, 1);
}

/* A restart in the middle forgets the sequence: the page on disk is still
 * the damaged one (824), and a new sequence can start. */
static void restart_forgets_sequence(void **state)
{
    (void)state;
    instance *in = h_open(32);
    database *db = full_db(in, "rf");
    h_create_table(in, db, "t");
    commit_rows(in, db, "t", 0, ROWS, -1);
    char dev[PATH_MAX], pg[32];
    path_of(dev, "rf.bak");
    do_backup(in, db, MEDIA_TYPE_DATABASE, dev);
    pgid_t p = page_of_row(in, db, 300, 6300);
    damage_page(db, p);
    restore_page_result r;
    hdb_err e;
    assert_int_equal(pages_step(in, "rf", dev, 1, RESTORE_NORECOVERY, page_text(p, pg), &r, &e), 0);
    inst_close(in, 1);
    in = h_open(32);
    db = inst_find_database(in, "rf");
    assert_false(restore_page_active(in, "rf"));
    assert_int_equal(try_read(in, db, 300), -824);
    assert_int_equal(try_read(in, db, 10), 10);
    assert_int_equal(pages_step(in, "rf", dev, 1, RESTORE_NORECOVERY, page_text(p, pg), &r, &e), 0);
    do_backup(in, db, MEDIA_TYPE_LOG, dev);
    assert_int_equal(pages_step(in, "rf", dev, 2, RESTORE_RECOVERY, NULL, &r, &e), 0);
    assert_int_equal(try_read(in, db, 300), 6300);
    inst_close(in, 1);
}

/* A transaction still open that changed the page could not roll back while
 * it is pending: refused, and the page is as readable as before; once that
 * transaction ended, the restore goes. */
static void open_transaction_on_page(void **state)
{
    (void)state;
    instance *in = h_open(32);
    database *db = full_db(in, "ot");
    h_create_table(in, db, "t");
    commit_rows(in, db, "t", 0, ROWS, -1);
    char dev[PATH_MAX], pg[32];
    path_of(dev, "ot.bak");
    do_backup(in, db, MEDIA_TYPE_DATABASE, dev);
    hdb_err e;
    txn *open = txn_begin(in->txns, 3, "open", "sa");
    assert_int_equal(h_update(open, db, h_table(db, "t"), 50, 555, &e), 0);
    pgid_t p = h_page_of_last_row(open, db);
    restore_page_result r;
    assert_int_equal(pages_step(in, "ot", dev, 1, RESTORE_NORECOVERY, page_text(p, pg), &r, &e), -1);
    assert_int_equal(e.number, 3013);
    assert_non_null(strstr(e.msg, "still open"));
    assert_false(restore_page_active(in, "ot"));
    assert_int_equal(txn_rollback(open, &e), 0);   /* the page was never pending: it rolls back */
    txn_free(open);
    assert_int_equal(try_read(in, db, 50), 50);
    assert_int_equal(pages_step(in, "ot", dev, 1, RESTORE_NORECOVERY, page_text(p, pg), &r, &e), 0);
    do_backup(in, db, MEDIA_TYPE_LOG, dev);
    assert_int_equal(pages_step(in, "ot", dev, 2, RESTORE_RECOVERY, NULL, &r, &e), 0);
    assert_int_equal(try_read(in, db, 50), 50);
    inst_close(in, 1);
}

/* Log records at or after `from` that change page p (the redo target's
 * promise: none). */
static int changes_since(database *db, pgid_t p, lsn_t from)
{
    hdb_err e;
    log_reader *rd = log_reader_open(db->tdb.log, from, 0, &e);
    assert_non_null(rd);
    log_rec r;
    int n = 0;
    size_t off;
    while (log_reader_next(rd, &r, &e) == 1) {
        pageop_iter it;
        pgid_t id;
        const uint8_t *op;
        size_t oplen;
        if (!logrec_pageops_offset(r.kind, r.body, r.body_len, &off) ||
            pageop_iter_init(&it, r.body + off, r.body_len - off) < 0)
            continue;
        while (pageop_iter_next(&it, &id, &op, &oplen) == 1)
            n += id == p;
    }
    log_reader_close(rd);
    return n;
}

/* Writers hammer rows of the page while its restore begins: every update
 * that committed is in the restored page, none that failed (829) is, and
 * no change to the page is logged at or after the redo target. */
typedef struct hammer {
    instance *in;
    database *db;
    int       row;
    _Atomic int stop;
    int64_t   last;            /* the last committed value */
    int       refused;         /* updates that met 829 */
} hammer;

static void *hammer_main(void *arg)
{
    hammer *h = arg;
    for (int64_t v = 1; !atomic_load(&h->stop); v++) {
        int rc = try_update(h->in, h->db, h->row, 100000 + v);
        if (rc == 0)
            h->last = 100000 + v;
        else if (rc == 829)
            h->refused++;
        else if (rc != 1222)
            fail_msg("writer: %d", rc);
    }
    return NULL;
}

static void writers_during_begin(void **state)
{
    (void)state;
    instance *in = h_open(32);
    database *db = full_db(in, "wr");
    h_create_table(in, db, "t");
    commit_rows(in, db, "t", 0, ROWS, -1);
    char dev[PATH_MAX], pg[32];
    path_of(dev, "wr.bak");
    do_backup(in, db, MEDIA_TYPE_DATABASE, dev);
    int64_t want[ROWS];
    for (int i = 0; i < ROWS; i++)
        want[i] = i;
    for (int round = 0; round < 5; round++) {
        int row = 37 + round * 60;
        pgid_t p = page_of_row(in, db, row, row);
        hammer h[2] = { { .in = in, .db = db, .row = row }, { .in = in, .db = db, .row = row + 1 } };
        pthread_t th[2];
        for (int i = 0; i < 2; i++)
            assert_int_equal(pthread_create(&th[i], NULL, hammer_main, &h[i]), 0);
        usleep(20000);
        restore_page_result r;
        hdb_err e;
        int rc;
        while ((rc = pages_step(in, "wr", dev, 1 + round * 2, RESTORE_NORECOVERY, page_text(p, pg), &r, &e)) < 0)
            assert_non_null(strstr(e.msg, "still open"));   /* caught one in the middle: again */
        usleep(20000);
        for (int i = 0; i < 2; i++) {
            atomic_store(&h[i].stop, 1);
            pthread_join(th[i], NULL);
            assert_true(h[i].refused > 0);
        }
        assert_int_equal(changes_since(db, p, r.redo_target), 0);
        do_backup(in, db, MEDIA_TYPE_LOG, dev);
        if (pages_step(in, "wr", dev, 2 + round * 2, RESTORE_RECOVERY, NULL, &r, &e) < 0)
            fail_msg("round %d: %s (%d)", round, e.msg, e.number);
        for (int i = 0; i < 2; i++)
            want[row + i] = h[i].last ? h[i].last : want[row + i];
        rows_are(in, db, want, ROWS);
        do_backup(in, db, MEDIA_TYPE_DATABASE, dev);   /* the next round's base */
    }
    inst_close(in, 1);
}

/* ---- refusals --------------------------------------------------------------- */

static void expect_begin_error(instance *in, const char *db, const char *dev, const char *pages, int number)
{
    restore_page_result r;
    hdb_err e;
    assert_int_equal(pages_step(in, db, dev, 1, RESTORE_NORECOVERY, pages, &r, &e), -1);
    if (e.number != number)
        fail_msg("%s: %d (%s), expected %d", pages, e.number, e.msg, number);
    assert_false(restore_page_active(in, db));
}

static void refusals(void **state)
{
    (void)state;
    instance *in = h_open(32);
    database *db = full_db(in, "rz");
    h_create_table(in, db, "t");
    commit_rows(in, db, "t", 0, 50, -1);
    database *other = full_db(in, "other");
    char dev[PATH_MAX], odev[PATH_MAX], many[16000] = "";
    path_of(dev, "rz.bak");
    path_of(odev, "other.bak");
    do_backup(in, db, MEDIA_TYPE_DATABASE, dev);
    do_backup(in, other, MEDIA_TYPE_DATABASE, odev);
    uint32_t size = df_file_pages(db->df, 1);
    char big[32];
    snprintf(big, sizeof big, "1:%u", size);
    expect_begin_error(in, "rz", dev, "1:0", 3111);
    expect_begin_error(in, "rz", dev, "1:1", 3111);
    expect_begin_error(in, "rz", dev, "1:2", 3111);   /* the boot page */
    expect_begin_error(in, "rz", dev, big, 3194);
    expect_begin_error(in, "rz", dev, "7:10", 3194);  /* no such file */
    expect_begin_error(in, "rz", dev, "1:x", 3250);
    for (int i = 0; i <= RESTORE_PAGE_MAX; i++)
        snprintf(many + strlen(many), sizeof many - strlen(many), "%s1:%d", i ? "," : "", 3 + i);
    expect_begin_error(in, "rz", dev, many, 3105);
    expect_begin_error(in, "rz", odev, "1:5", 3154);
    expect_begin_error(in, "nosuch", dev, "1:5", 911);
    restore_opts so = { .db_name = "rz", .device_path = dev, .file = 1, .recovery = RESTORE_STANDBY,
                        .standby_file = "/tmp/x" };
    restore_page_result r;
    hdb_err e;
    assert_int_equal(restore_page_begin(in, &so, "1:5", &r, &e), -1);
    assert_int_equal(e.number, 3032);
    assert_int_equal(restore_page_log(in, &(restore_opts){ .db_name = "rz", .device_path = dev }, &r, &e), -1);
    assert_int_equal(e.number, 3117);
    hdb_err ce;
    assert_int_equal(db_set_recovery_model(db, RECOVERY_SIMPLE, &ce), 0);
    expect_begin_error(in, "rz", dev, "1:5", 4346);
    inst_close(in, 1);
}

/* ---- a deferred transaction ------------------------------------------------- */

static txn *deferred_txn;
static void pick_deferred(void *ctx, const txn *t)
{
    (void)ctx;
    if (t->state == TXN_DEFERRED)
        deferred_txn = (txn *)t;
}

/* An uncommitted transaction updates every row, its pages reach the disk, a
 * crash; one of its pages is damaged on disk. Recovery defers it (its rows
 * stay locked). The page restore rolls it back without a restart. */
static void deferred_transaction_resolved(void **state)
{
    (void)state;
    instance *in = h_open(8);
    database *db = full_db(in, "dfr");
    h_create_table(in, db, "t");
    commit_rows(in, db, "t", 0, ROWS, -1);
    char dev[PATH_MAX], pg[32];
    path_of(dev, "dfr.bak");
    do_backup(in, db, MEDIA_TYPE_DATABASE, dev);
    update_rows(in, db, 0, ROWS, 10000);   /* committed after the backup: must survive */
    hdb_err e;
    txn *t = txn_begin(in->txns, 2, "loser", "sa");
    table_def *td = h_table(db, "t");
    for (int i = 0; i < ROWS; i++)
        assert_int_equal(h_update(t, db, td, i, -1, &e), 0);
    pgid_t bad = h_page_of_last_row(t, db);
    assert_int_equal(log_flush_all(db->tdb.log, &e), 0);
    assert_int_equal(db_checkpoint(db, &e), 0);   /* its pages reach the disk */
    damage_page(db, bad);
    txn_free(t);                                     /* the crash */
    inst_close(in, 0);
    in = h_open(8);
    db = inst_find_database(in, "dfr");
    assert_int_equal(db->state, DB_ONLINE);
    assert_int_equal(deferred_count(db), 1);
    assert_int_equal(try_read(in, db, 0), -1222);    /* its rows stay locked */

    restore_page_result r;
    assert_int_equal(pages_step(in, "dfr", dev, 1, RESTORE_NORECOVERY, page_text(bad, pg), &r, &e), 0);
    do_backup(in, db, MEDIA_TYPE_LOG, dev);
    if (pages_step(in, "dfr", dev, 2, RESTORE_RECOVERY, NULL, &r, &e) < 0)
        fail_msg("tail: %s (%d)", e.msg, e.number);
    assert_true(r.finished);
    assert_int_equal(r.deferred_left, 0);
    assert_int_equal(deferred_count(db), 0);
    deferred_txn = NULL;
    txn_mgr_foreach(in->txns, pick_deferred, NULL);
    assert_null(deferred_txn);
    for (int i = 0; i < ROWS; i++)
        assert_int_equal(try_read(in, db, i), 10000 + i);   /* rolled back, unlocked */
    assert_int_equal(try_update(in, db, 7, 70), 0);
    inst_close(in, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(page_list),
        cmocka_unit_test_setup_teardown(damaged_page_restored_online, setup, teardown),
        cmocka_unit_test_setup_teardown(dirty_page_and_failed_finish, setup, teardown),
        cmocka_unit_test_setup_teardown(restart_forgets_sequence, setup, teardown),
        cmocka_unit_test_setup_teardown(open_transaction_on_page, setup, teardown),
        cmocka_unit_test_setup_teardown(writers_during_begin, setup, teardown),
        cmocka_unit_test_setup_teardown(refusals, setup, teardown),
        cmocka_unit_test_setup_teardown(deferred_transaction_resolved, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
