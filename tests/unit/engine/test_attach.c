/* test_attach.c — engine/attach.h: CREATE DATABASE with files (names, paths,
 * filegroups, a restart; every failure — bad request, I/O error, full disk —
 * leaves no file and no registration), sp_detach_db and FOR ATTACH (under
 * another name and id, from moved files, a file found by its name only),
 * and an attach whose recovery meets a damaged page: it fails, nothing is
 * deferred or registered, and the same files attach once the page reads. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>

#include "engine_harness.h"
#include "engine/attach.h"
#include "engine/catalog.h"
#include "engine/dbstate.h"
#include "storage/pageop.h"

static char other[200], moved[200];

static int setup(void **state)
{
    (void)state;
    h_make_dir();
    snprintf(other, sizeof other, "%.64s/other", h_dir);
    snprintf(moved, sizeof moved, "%.64s/moved", h_dir);
    assert_int_equal(mkdir(other, 0755), 0);
    assert_int_equal(mkdir(moved, 0755), 0);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    fault_clear();
    h_remove_dir();
    return 0;
}

/* ---- a layout: primary + one more PRIMARY file, fg1 with two files, fg2 with
 * one, a named log; the data files under `other`, the log too */
typedef struct lay {
    attach_layout l;
    attach_file   files[4];
    const char   *fgs[2];
} lay;

static void spec(db_file_spec *f, const char *logical, const char *dir, const char *file, uint32_t pages)
{
    memset(f, 0, sizeof *f);
    snprintf(f->logical_name, sizeof f->logical_name, "%s", logical);
    snprintf(f->path, sizeof f->path, "%.200s/%.60s", dir, file);
    f->size_pages = pages;
    f->growth_pages = 16;
}

static void make_layout(lay *y, const char *name)
{
    memset(y, 0, sizeof *y);
    char n[64];
    y->l.name = name;
    snprintf(n, sizeof n, "%s.mdf", name);
    spec(&y->l.data, "prim", other, n, 64);
    y->l.data.max_pages = 4096;
    snprintf(n, sizeof n, "%s.ldf", name);
    spec(&y->l.log, "the_log", other, n, 0);
    y->l.log.max_pages = 1024;
    y->fgs[0] = "fg1";
    y->fgs[1] = "fg2";
    y->l.filegroups = y->fgs;
    y->l.nfilegroups = 2;
    snprintf(n, sizeof n, "%s_p2.ndf", name);
    spec(&y->files[0].spec, "p2", other, n, 16);
    snprintf(n, sizeof n, "%s_a.ndf", name);
    spec(&y->files[1].spec, "f1a", other, n, 16);
    y->files[1].filegroup = "fg1";
    snprintf(n, sizeof n, "%s_b.ndf", name);
    spec(&y->files[2].spec, "f1b", other, n, 16);
    y->files[2].filegroup = "fg1";
    snprintf(n, sizeof n, "%s_c.ndf", name);
    spec(&y->files[3].spec, "f2", other, n, 16);
    y->files[3].filegroup = "FG2";
    y->files[3].spec.no_growth = 1;
    y->l.files = y->files;
    y->l.nfiles = 4;
}

/* How many entries of dir start with prefix. */
static int files_named(const char *dir, const char *prefix)
{
    DIR *d = opendir(dir);
    assert_non_null(d);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        n += !strncmp(e->d_name, prefix, strlen(prefix));
    closedir(d);
    return n;
}

static int exists(const char *path) { return access(path, F_OK) == 0; }

/* Registered (master's sysdbreg) databases other than master and msdb. */
static int registered_user_dbs(instance *in)
{
    int n = 0;
    char d[PATH_MAX], l[PATH_MAX];
    for (uint32_t id = 5; id < INST_MAX_DBS; id++)
        n += inst_registry_paths(in, id, d, l);
    return n;
}

static void create_on(instance *in, database *db, const char *table, const char *fg)
{
    tbl_column c[3] = { { .name = "id", .type = { .id = SQL_INT } },
                        { .name = "val", .type = { .id = SQL_BIGINT } },
                        { .name = "pad", .type = { .id = SQL_VARCHAR, .max_len = -1 }, .nullable = 1 } };
    int pk = 0;
    table_spec s = { .schema_id = SCHEMA_DBO, .name = table, .ncols = 3, .cols = c, .npk = 1, .pk_cols = &pk,
                     .fg_id = fg ? db_filegroup_id(db, fg) : 0 };
    hdb_err e;
    txn *t = txn_begin(in->txns, 1, "ddl", "sa");
    assert_int_equal(cat_create_table(t, db, &s, NULL, &e), 0);
    assert_int_equal(txn_commit(t, &e), 0);
    txn_free(t);
}

static void load(instance *in, database *db, table_def *td, int from, int to)
{
    hdb_err e;
    txn *t = txn_begin(in->txns, 1, "load", "sa");
    for (int i = from; i < to; i++)
        assert_int_equal(h_insert(t, db, td, i, i, "padding padding padding padding", &e), 0);
    assert_int_equal(txn_commit(t, &e), 0);
    txn_free(t);
}

/* ---- CREATE DATABASE with files ------------------------------------------- */

static void check_files_of(instance *in, database *db, const lay *y)
{
    assert_string_equal(df_file(db->df, 1)->path, y->l.data.path);
    assert_string_equal(df_file(db->df, 1)->logical_name, "prim");
    assert_string_equal(db->log_path, y->l.log.path);
    char buf[PATH_MAX];
    assert_string_equal(db_log_name(db, buf, sizeof buf), "the_log");
    for (int i = 0; i < 4; i++) {
        const df_file_desc *d = df_file(db->df, (uint16_t)(i + 2));
        assert_non_null(d);
        assert_string_equal(d->path, y->files[i].spec.path);
        assert_string_equal(d->logical_name, y->files[i].spec.logical_name);
        assert_true(inst_registered_path(in, db->tdb.id, (uint16_t)(i + 2), buf, sizeof buf));
        assert_string_equal(buf, y->files[i].spec.path);
    }
    assert_int_equal(db_filegroup_id(db, "fg1"), 2);
    assert_int_equal(db_filegroup_id(db, "fg2"), 3);
    assert_int_equal(df_file(db->df, 2)->fg_id, 1);
    assert_int_equal(df_file(db->df, 3)->fg_id, 2);
    assert_int_equal(df_file(db->df, 4)->fg_id, 2);
    assert_int_equal(df_file(db->df, 5)->fg_id, 3);
    assert_int_equal(df_file(db->df, 1)->max_pages, 4096);
    assert_int_equal(db->boot.log_max_pages, 1024);
    assert_int_equal(df_file(db->df, 1)->growth_pages, 16);
    assert_int_equal(df_file(db->df, 5)->growth_pages, 0);   /* FILEGROWTH = 0 */
}

static void create_with_files_and_restart(void **state)
{
    (void)state;
    hdb_err e;
    instance *in = h_open(8);
    lay y;
    make_layout(&y, "mf");
    database *db = attach_create_database(in, &y.l, &e);
    if (!db)
        fail_msg("create: %s (%d)", e.msg, e.number);
    assert_int_equal(db->state, DB_ONLINE);
    check_files_of(in, db, &y);
    create_on(in, db, "t1", "fg1");
    table_def *td = h_table(db, "t1");
    assert_int_equal(df_file(db->df, (uint16_t)PGID_FILE(td->idx[0].root))->fg_id, 2);
    load(in, db, td, 0, 2000);   /* grows into both files of fg1 */
    inst_close(in, 0);   /* a crash first, then a clean restart */
    for (int round = 0; round < 2; round++) {
        in = h_open(8);
        db = inst_find_database(in, "mf");
        assert_non_null(db);
        assert_int_equal(db->state, DB_ONLINE);
        check_files_of(in, db, &y);
        assert_int_equal(h_count(in, db, h_table(db, "t1")), 2000);
        inst_close(in, 1);
    }
}

static void create_refusals_leave_nothing(void **state)
{
    (void)state;
    hdb_err e;
    instance *in = h_open(8);
    lay y;
    struct { const char *what; int number; } cases[] = {
        { "duplicate logical name", 1828 }, { "log name = a data file's", 1828 }, { "same path twice", 5170 },
        { "file exists", 5170 }, { "no such directory", 5133 }, { "directory is a file", 5133 },
        { "SIZE > MAXSIZE", 1545 }, { "unknown filegroup", 5035 }, { "filegroup twice", 1828 },
        { "FILEGROUP PRIMARY", 1828 }, { "name taken", 1801 }, { "path too long", 5105 },
    };
    char existing[PATH_MAX];
    snprintf(existing, sizeof existing, "%.200s/already.ndf", other);
    FILE *f = fopen(existing, "w");
    assert_non_null(f);
    fclose(f);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        make_layout(&y, "rf");
        switch (i) {
        case 0: snprintf(y.files[2].spec.logical_name, DF_NAME_MAX, "F1A"); break;
        case 1: snprintf(y.l.log.logical_name, DF_NAME_MAX, "p2"); break;
        case 2: snprintf(y.files[3].spec.path, PATH_MAX, "%s", y.files[0].spec.path); break;
        case 3: snprintf(y.files[1].spec.path, PATH_MAX, "%s", existing); break;
        case 4: snprintf(y.files[2].spec.path, PATH_MAX, "%s/nosuchdir/x.ndf", h_dir); break;
        case 5: snprintf(y.l.log.path, PATH_MAX, "%.300s/x.ldf", existing); break;
        case 6: y.files[0].spec.max_pages = 8; break;
        case 7: y.files[3].filegroup = "fg3"; break;
        case 8: y.fgs[1] = "FG1"; break;
        case 9: y.fgs[1] = "primary"; break;
        case 10: y.l.name = "msdb"; break;
        case 11: memset(y.files[1].spec.path + strlen(y.files[1].spec.path), 'x', 300);
                 y.files[1].spec.path[strlen(y.files[1].spec.path) + 300] = 0;
                 break;
        }
        hdb_err_clear(&e);
        if (attach_create_database(in, &y.l, &e))
            fail_msg("%s: created", cases[i].what);
        if (e.number != cases[i].number)
            fail_msg("%s: error %d (%s), want %d", cases[i].what, e.number, e.msg, cases[i].number);
        assert_null(inst_find_database(in, "rf"));
        assert_int_equal(files_named(other, "rf"), 0);
    }
    assert_true(exists(existing));   /* not "cleaned up" */
    assert_int_equal(registered_user_dbs(in), 0);
    make_layout(&y, "rf");
    assert_non_null(attach_create_database(in, &y.l, &e));
    inst_close(in, 1);
}

/* I/O errors and a full disk while the files are made and formatted: each
 * attempt fails, leaves no file and no registration, and the instance goes
 * on; the same CREATE then succeeds. */
static void create_faults_leave_nothing(void **state)
{
    (void)state;
    hdb_err e;
    instance *in = h_open(8);
    lay y;
    make_layout(&y, "fx");
    fault_rule rules[] = {
        { .path_contains = "fx_b.ndf", .ops = FIO_OP_RESIZE, .action = FAULT_ENOSPC },
        { .path_contains = "fx_c.ndf", .ops = FIO_OP_WRITE, .action = FAULT_EIO },
        { .path_contains = "fx_a.ndf", .ops = FIO_OP_SYNC, .action = FAULT_EIO },
        { .path_contains = "fx.mdf", .ops = FIO_OP_RESIZE, .action = FAULT_ENOSPC },
        { .path_contains = "fx.mdf", .ops = FIO_OP_WRITE, .action = FAULT_EIO },
        { .path_contains = "fx.ldf", .ops = FIO_OP_RESIZE | FIO_OP_WRITE, .action = FAULT_ENOSPC },
        { .path_contains = "fx.ldf", .ops = FIO_OP_WRITE, .nth = 3, .action = FAULT_EIO },
        { .path_contains = "fx.ldf", .ops = FIO_OP_SYNC, .nth = 4, .action = FAULT_EIO },
    };
    for (size_t i = 0; i < sizeof rules / sizeof rules[0]; i++) {
        int id = fault_add(&rules[i]);
        hdb_err_clear(&e);
        database *db = attach_create_database(in, &y.l, &e);
        if (db)
            fail_msg("rule %zu (%s): created", i, rules[i].path_contains);
        assert_true(fault_fired(id) > 0);
        assert_true(e.number != 0);
        fault_clear();
        assert_null(inst_find_database(in, "fx"));
        if (files_named(other, "fx"))
            fail_msg("rule %zu (%s): files left behind", i, rules[i].path_contains);
        assert_int_equal(registered_user_dbs(in), 0);
    }
    /* the instance is fine: other databases work, and the create succeeds */
    database *plain = inst_create_database(in, "plain", &e);
    assert_non_null(plain);
    database *db = attach_create_database(in, &y.l, &e);
    if (!db)
        fail_msg("create after faults: %s (%d)", e.msg, e.number);
    create_on(in, db, "t", "fg2");
    load(in, db, h_table(db, "t"), 0, 100);
    inst_close(in, 1);
    in = h_open(8);
    db = inst_find_database(in, "fx");
    assert_non_null(db);
    assert_int_equal(h_count(in, db, h_table(db, "t")), 100);
    assert_int_equal(registered_user_dbs(in), 2);
    inst_close(in, 1);
}

/* ---- detach / attach ----------------------------------------------------- */

static void move_file(const char *from, char *to, size_t cap)
{
    const char *b = strrchr(from, '/');
    snprintf(to, cap, "%.200s/%.200s", moved, b + 1);
    assert_int_equal(rename(from, to), 0);
}

static void detach_and_attach(void **state)
{
    (void)state;
    hdb_err e;
    int aborted;
    instance *in = h_open(8);
    lay y;
    make_layout(&y, "dd");
    database *db = attach_create_database(in, &y.l, &e);
    assert_non_null(db);
    uint32_t old_id = db->tdb.id;
    create_on(in, db, "t", "fg1");
    table_def *td = h_table(db, "t");
    load(in, db, td, 0, 500);

    /* refusals */
    assert_int_equal(attach_detach_database(in, "master", &e), -1);
    assert_int_equal(e.number, 7940);
    assert_int_equal(attach_detach_database(in, "nosuch", &e), -1);
    assert_int_equal(e.number, 15010);
    db->users++;
    assert_int_equal(attach_detach_database(in, "dd", &e), -1);
    assert_int_equal(e.number, 3703);
    db->users--;
    txn *t = txn_begin(in->txns, 3, "open", "sa");
    assert_int_equal(h_insert(t, db, td, 9999, 1, NULL, &e), 0);
    assert_int_equal(attach_detach_database(in, "dd", &e), -1);
    assert_int_equal(e.number, 3703);
    assert_int_equal(txn_rollback(t, &e), 0);
    txn_free(t);

    assert_int_equal(attach_detach_database(in, "dd", &e), 0);
    assert_null(inst_find_database(in, "dd"));
    assert_int_equal(registered_user_dbs(in), 0);
    assert_true(exists(y.l.data.path) && exists(y.l.log.path) && exists(y.files[3].spec.path));
    /* its id goes to the next database */
    database *taker = inst_create_database(in, "taker", &e);
    assert_int_equal(taker->tdb.id, old_id);

    /* move every file; attach in any order under another name */
    char p[6][PATH_MAX];
    move_file(y.l.data.path, p[0], PATH_MAX);
    move_file(y.l.log.path, p[1], PATH_MAX);
    for (int i = 0; i < 4; i++)
        move_file(y.files[i].spec.path, p[2 + i], PATH_MAX);
    const char *bad1[] = { p[0] };   /* no log */
    assert_null(attach_database(in, "dd2", bad1, 1, &aborted, &e));
    assert_int_equal(e.number, 40021);
    const char *bad2[] = { p[1], p[2] };   /* no primary */
    assert_null(attach_database(in, "dd2", bad2, 2, &aborted, &e));
    assert_int_equal(e.number, 5171);
    assert_int_equal(aborted, 0);
    const char *bad3[] = { p[0], p[1], y.files[0].spec.path };   /* not there any more */
    assert_null(attach_database(in, "dd2", bad3, 3, &aborted, &e));
    assert_int_equal(e.number, 5120);
    assert_int_equal(aborted, 1);
    const char *bad4[] = { p[0], p[1] };   /* the others are not where the boot page says */
    assert_null(attach_database(in, "dd2", bad4, 2, &aborted, &e));
    assert_int_equal(e.number, 5120);
    assert_int_equal(aborted, 1);
    assert_null(attach_database(in, "taker", (const char *[]){ p[0], p[1] }, 2, &aborted, &e));
    assert_int_equal(e.number, 1801);
    assert_int_equal(registered_user_dbs(in), 1);

    const char *all[] = { p[3], p[1], p[5], p[0], p[2], p[4] };
    db = attach_database(in, "dd2", all, 6, &aborted, &e);
    if (!db)
        fail_msg("attach: %s (%d)", e.msg, e.number);
    assert_int_not_equal(db->tdb.id, old_id);
    assert_int_equal(db->boot.db_id, db->tdb.id);
    assert_string_equal(db->boot.name, "dd2");
    assert_int_equal(h_count(in, db, h_table(db, "t")), 500);
    char buf[PATH_MAX];
    assert_true(inst_registered_path(in, db->tdb.id, 5, buf, sizeof buf));
    assert_string_equal(buf, p[5]);
    assert_string_equal(db->log_path, p[1]);
    assert_string_equal(db_log_name(db, buf, sizeof buf), "the_log");
    /* files in use are refused */
    assert_null(attach_database(in, "dd3", (const char *[]){ p[0], p[1] }, 2, &aborted, &e));
    assert_int_equal(e.number, 5120);
    load(in, db, h_table(db, "t"), 500, 600);
    uint32_t id2 = db->tdb.id;
    inst_close(in, 0);   /* a crash: the attach is durable */
    in = h_open(8);
    db = inst_find_database(in, "dd2");
    assert_non_null(db);
    assert_int_equal(db->tdb.id, id2);
    assert_int_equal(h_count(in, db, h_table(db, "t")), 600);

    /* OFFLINE, detached, attached again from the primary and the log alone
     * (the boot page lists the moved files); fg1's second file lost its
     * header page: matched by its name */
    assert_int_equal(dbst_set_offline(in, db, &e), 0);
    assert_int_equal(attach_detach_database(in, "dd2", &e), 0);
    int fd = open(p[4], O_WRONLY);
    assert_true(fd >= 0);
    uint8_t zero[PAGE_SIZE] = { 0 };
    assert_int_equal(pwrite(fd, zero, PAGE_SIZE, 0), PAGE_SIZE);
    close(fd);
    db = attach_database(in, "dd2", (const char *[]){ p[0], p[4], p[1] }, 3, &aborted, &e);
    if (!db)
        fail_msg("attach 2: %s (%d)", e.msg, e.number);
    assert_int_equal(db->state, DB_ONLINE);
    assert_int_equal(h_count(in, db, h_table(db, "t")), 600);
    inst_close(in, 1);
    in = h_open(8);
    db = inst_find_database(in, "dd2");
    assert_non_null(db);
    assert_int_equal(db->state, DB_ONLINE);   /* no longer OFFLINE at start-up */
    assert_int_equal(h_count(in, db, h_table(db, "t")), 600);
    inst_close(in, 1);
}

/* ---- attach with a loser whose page is damaged ---------------------------- */

static void count_deferred(void *ctx, const txn *t)
{
    if (t->state == TXN_DEFERRED)
        ++*(int *)ctx;
}

static void attach_with_damaged_loser_fails(void **state)
{
    (void)state;
    enum { ROWS = 400 };
    hdb_err e;
    int aborted;
    instance *in = h_open(8);
    database *db = inst_create_database(in, "src", &e);
    /* FULL with a backup chain: start-up recovery could defer; attach may not */
    assert_int_equal(db_set_recovery_model(db, RECOVERY_FULL, &e), 0);
    db_note_backup(db, DB_BACKUP_FULL, 0, log_end_lsn(db->tdb.log), log_end_lsn(db->tdb.log));
    h_create_table(in, db, "t");
    table_def *td = h_table(db, "t");
    load(in, db, td, 0, ROWS);
    txn *t = txn_begin(in->txns, 2, "loser", "sa");
    for (int i = 0; i < ROWS; i++)
        assert_int_equal(h_update(t, db, td, i, -1, &e), 0);
    pgid_t bad = h_page_of_last_row(t, db);
    assert_int_equal(log_flush_all(db->tdb.log, &e), 0);
    assert_int_equal(db_checkpoint(db, &e), 0);   /* the uncommitted pages reach the disk */
    txn_free(t);                                     /* the crash */
    inst_close(in, 0);
    char cmd[3 * PATH_MAX], mdf[PATH_MAX], ldf[PATH_MAX];
    snprintf(mdf, sizeof mdf, "%.200s/copy.mdf", other);
    snprintf(ldf, sizeof ldf, "%.200s/copy.ldf", other);
    snprintf(cmd, sizeof cmd, "cp %s/data/src.mdf %s && cp %s/data/src_log.ldf %s", h_dir, mdf, h_dir, ldf);
    assert_int_equal(system(cmd), 0);

    in = h_open(8);   /* src recovers on its own (nothing wrong with its files) */
    fault_rule r = { .path_contains = "copy.mdf", .ops = FIO_OP_READ,
                     .offset_lo = (uint64_t)PGID_PAGE(bad) * PAGE_SIZE,
                     .offset_hi = (uint64_t)(PGID_PAGE(bad) + 1) * PAGE_SIZE, .action = FAULT_CORRUPT };
    int rid = fault_add(&r);
    const char *files[] = { mdf, ldf };
    assert_null(attach_database(in, "copy", files, 2, &aborted, &e));
    assert_true(fault_fired(rid) > 0);
    assert_int_equal(aborted, 1);
    assert_int_equal(e.number, 824);
    assert_null(inst_find_database(in, "copy"));
    assert_int_equal(registered_user_dbs(in), 1);   /* src only */
    int deferred = 0;
    txn_mgr_foreach(in->txns, count_deferred, &deferred);
    assert_int_equal(deferred, 0);
    fault_clear();

    /* the same files, the page readable: recovery rolls the loser back */
    db = attach_database(in, "copy", files, 2, &aborted, &e);
    if (!db)
        fail_msg("attach: %s (%d)", e.msg, e.number);
    database *src = inst_find_database(in, "src");
    assert_int_not_equal(db->tdb.id, src->tdb.id);   /* its old id is src's */
    assert_memory_not_equal(db->boot.guid, src->boot.guid, 16);
    td = h_table(db, "t");
    for (int i = 0; i < ROWS; i += 37)
        assert_int_equal(h_get(in, db, td, i), i);
    assert_int_equal(h_count(in, db, td), ROWS);
    inst_close(in, 1);
    in = h_open(8);
    db = inst_find_database(in, "copy");
    assert_non_null(db);
    assert_int_equal(h_get(in, db, h_table(db, "t"), ROWS - 1), ROWS - 1);
    inst_close(in, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(create_with_files_and_restart, setup, teardown),
        cmocka_unit_test_setup_teardown(create_refusals_leave_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(create_faults_leave_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(detach_and_attach, setup, teardown),
        cmocka_unit_test_setup_teardown(attach_with_damaged_loser_fails, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
