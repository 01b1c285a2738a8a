/* test_datafile.c — data files: create/open/grow, 1105, verification (824),
 * read retries under injected faults, 823, offline files, concurrency. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <fcntl.h>
#include <ftw.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "os/fio.h"
#include "storage/datafile.h"
#include "storage/page.h"

struct fx {
    char dir[256];
    char path[PATH_MAX];
    dbfiles *df;
};

static int rm_cb(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
    return remove(p);
}

static void rm_rf(const char *dir) { nftw(dir, rm_cb, 16, FTW_DEPTH | FTW_PHYS); }

static df_file_desc desc(uint16_t id, uint16_t fg, const char *name, const char *path,
                         uint32_t size, uint32_t growth, uint32_t max)
{
    df_file_desc d;
    memset(&d, 0, sizeof d);
    d.file_id = id;
    d.fg_id = fg;
    snprintf(d.logical_name, sizeof d.logical_name, "%s", name);
    snprintf(d.path, sizeof d.path, "%s", path);
    d.size_pages = size;
    d.growth_pages = growth;
    d.max_pages = max;
    return d;
}

/* Fixture: database 7 "testdb" with file 1 (16 pages, +8, max 64). */
static int setup(void **state)
{
    struct fx *x = calloc(1, sizeof *x);
    snprintf(x->dir, sizeof x->dir, "/tmp/hdb_df_XXXXXX");
    assert_non_null(mkdtemp(x->dir));
    snprintf(x->path, sizeof x->path, "%s/testdb.mdf", x->dir);
    x->df = df_create(7, "testdb");
    df_file_desc d = desc(1, 1, "testdb", x->path, 16, 8, 64);
    hdb_err e;
    hdb_err_clear(&e);
    assert_int_equal(df_add_file(x->df, &d, 1, &e), 0);
    *state = x;
    return 0;
}

static int teardown(void **state)
{
    struct fx *x = *state;
    fault_clear();
    df_destroy(x->df);
    rm_rf(x->dir);
    free(x);
    return 0;
}

static void fill_page(uint8_t *p, pgid_t id, uint32_t seed)
{
    page_format(p, id, PAGE_BTREE_LEAF, 42, 0);
    uint8_t rec[100];
    for (int i = 0; i < 100; i++)
        rec[i] = (uint8_t)(seed * 31 + (uint32_t)i);
    assert_int_equal(page_insert(p, 0, rec, sizeof rec), 0);
    page_hdr(p)->lsn = seed;
}

static void write_pages(dbfiles *df, uint16_t file, uint32_t n)
{
    uint8_t p[PAGE_SIZE];
    hdb_err e;
    for (uint32_t i = 0; i < n; i++) {
        fill_page(p, PGID(file, i), i + 1);
        assert_int_equal(df_write_page(df, PGID(file, i), p, &e), 0);
    }
}

static void check_page(dbfiles *df, uint16_t file, uint32_t pg)
{
    uint8_t want[PAGE_SIZE], got[PAGE_SIZE];
    hdb_err e;
    hdb_err_clear(&e);
    fill_page(want, PGID(file, pg), pg + 1);
    page_stamp(want);
    assert_int_equal(df_read_page(df, PGID(file, pg), got, &e), 0);
    assert_memory_equal(want, got, PAGE_SIZE);
}

/* suspect hook recorder */
static int sus_calls;
static uint32_t sus_db;
static pgid_t sus_id;
static int sus_event;
static void sus_hook(void *ctx, uint32_t db, pgid_t id, int ev)
{
    (void)ctx;
    sus_calls++;
    sus_db = db;
    sus_id = id;
    sus_event = ev;
}
static void sus_reset(void) { sus_calls = 0; sus_db = 0; sus_id = 0; sus_event = 0; }

/* ---- create / open / grow ------------------------------------------------ */

static void test_create_grow_reopen(void **state)
{
    struct fx *x = *state;
    hdb_err e;
    hdb_err_clear(&e);
    assert_int_equal(df_db_id(x->df), 7);
    assert_string_equal(df_db_name(x->df), "testdb");
    assert_int_equal(df_file_pages(x->df, 1), 16);
    struct stat st;
    assert_int_equal(stat(x->path, &st), 0);
    assert_int_equal(st.st_size, 16 * PAGE_SIZE);
    const df_file_desc *d = df_file(x->df, 1);
    assert_non_null(d);
    assert_string_equal(d->logical_name, "testdb");
    assert_null(df_file(x->df, 2));
    assert_int_equal(df_get_state(x->df, 1), DF_ONLINE);

    /* a fresh file reads as unformatted zero pages */
    uint8_t p[PAGE_SIZE];
    assert_int_equal(df_read_page(x->df, PGID(1, 5), p, &e), 0);
    assert_true(page_is_zero(p));

    write_pages(x->df, 1, 16);
    /* already big enough: no growth */
    assert_int_equal(df_ensure_pages(x->df, 1, 10, &e), 0);
    assert_int_equal(df_file_pages(x->df, 1), 16);
    /* short by 2: grows by the increment (8) */
    assert_int_equal(df_ensure_pages(x->df, 1, 18, &e), 0);
    assert_int_equal(df_file_pages(x->df, 1), 24);
    /* short by 12 > 8: grows by what is needed */
    assert_int_equal(df_ensure_pages(x->df, 1, 36, &e), 0);
    assert_int_equal(df_file_pages(x->df, 1), 36);
    /* 36 + 8 = 44, then 44 + 8 ... capped at max 64 */
    assert_int_equal(df_ensure_pages(x->df, 1, 60, &e), 0);
    assert_int_equal(df_file_pages(x->df, 1), 60);
    assert_int_equal(df_ensure_pages(x->df, 1, 61, &e), 0);
    assert_int_equal(df_file_pages(x->df, 1), 64);
    assert_int_equal(stat(x->path, &st), 0);
    assert_int_equal(st.st_size, 64 * PAGE_SIZE);
    /* past the maximum: 1105 naming database and filegroup */
    assert_int_equal(df_ensure_pages(x->df, 1, 65, &e), -1);
    assert_int_equal(e.number, 1105);
    assert_int_equal(e.severity, 17);
    assert_non_null(strstr(e.msg, "'testdb'"));
    assert_non_null(strstr(e.msg, "'PRIMARY' filegroup is full"));
    assert_int_equal(df_file_pages(x->df, 1), 64);

    /* file 2 in a named filegroup, no autogrow */
    char p2[PATH_MAX];
    snprintf(p2, sizeof p2, "%s/testdb_2.ndf", x->dir);
    assert_int_equal(df_set_filegroup_name(x->df, 2, "FG_DATA"), 0);
    char name[DF_NAME_MAX + 1];
    assert_string_equal(df_filegroup_name(x->df, 2, name, sizeof name), "FG_DATA");
    assert_string_equal(df_filegroup_name(x->df, 1, name, sizeof name), "PRIMARY");
    df_file_desc d2 = desc(2, 2, "testdb_2", p2, 4, 0, 0);
    assert_int_equal(df_add_file(x->df, &d2, 1, &e), 0);
    assert_int_equal(df_ensure_pages(x->df, 2, 4, &e), 0);
    hdb_err_clear(&e);
    assert_int_equal(df_ensure_pages(x->df, 2, 5, &e), -1);
    assert_int_equal(e.number, 1105);
    assert_non_null(strstr(e.msg, "'FG_DATA' filegroup"));
    write_pages(x->df, 2, 4);

    uint16_t ids[8];
    assert_int_equal(df_file_ids(x->df, ids, 8), 2);
    assert_int_equal(ids[0], 1);
    assert_int_equal(ids[1], 2);

    /* duplicates are refused without touching the existing file */
    hdb_err_clear(&e);
    df_file_desc dup = desc(3, 1, "testdb", p2, 4, 0, 0);
    assert_int_equal(df_add_file(x->df, &dup, 1, &e), -1);
    assert_int_equal(e.number, 1828);
    dup = desc(2, 1, "other", p2, 4, 0, 0);
    assert_int_equal(df_add_file(x->df, &dup, 0, &e), -1);
    /* creating over an existing path: the OS refuses (5120) */
    dup = desc(3, 1, "other", p2, 4, 0, 0);
    assert_int_equal(df_add_file(x->df, &dup, 1, &e), -1);
    assert_int_equal(e.number, 5120);
    check_page(x->df, 2, 3);

    /* reopen: sizes and contents survive */
    df_destroy(x->df);
    x->df = df_create(7, "testdb");
    d2 = desc(2, 2, "testdb_2", p2, 0, 0, 0);
    df_file_desc d1 = desc(1, 1, "testdb", x->path, 0, 8, 64);
    assert_int_equal(df_add_file(x->df, &d2, 0, &e), 0);  /* any order */
    assert_int_equal(df_add_file(x->df, &d1, 0, &e), 0);
    assert_int_equal(df_file_ids(x->df, ids, 8), 2);
    assert_int_equal(ids[0], 1);
    assert_int_equal(df_file_pages(x->df, 1), 64);
    assert_int_equal(df_file_pages(x->df, 2), 4);
    for (uint32_t i = 0; i < 16; i++)
        check_page(x->df, 1, i);
    for (uint32_t i = 0; i < 4; i++)
        check_page(x->df, 2, i);
    assert_int_equal(df_sync(x->df, &e), 0);

    /* a missing file cannot be opened */
    char p3[PATH_MAX];
    snprintf(p3, sizeof p3, "%s/nope.ndf", x->dir);
    df_file_desc d3 = desc(3, 1, "nope", p3, 0, 0, 0);
    assert_int_equal(df_add_file(x->df, &d3, 0, &e), -1);
    assert_int_equal(e.number, 5120);

    /* removed: its pages are gone */
    df_remove_file(x->df, 2);
    assert_null(df_file(x->df, 2));
    hdb_err_clear(&e);
    assert_int_equal(df_read_page(x->df, PGID(2, 1), p, &e), -1);
    assert_int_equal(e.number, 824);
    assert_non_null(strstr(e.msg, "offline"));
}

static void test_grow_enospc(void **state)
{
    struct fx *x = *state;
    hdb_err e;
    hdb_err_clear(&e);
    fault_rule r = { .path_contains = x->dir, .ops = FIO_OP_RESIZE, .action = FAULT_ENOSPC };
    int id = fault_add(&r);
    assert_true(id > 0);
    assert_int_equal(df_ensure_pages(x->df, 1, 20, &e), -1);
    assert_int_equal(e.number, 1105);
    assert_int_equal(df_file_pages(x->df, 1), 16);
    fault_remove(id);
    assert_int_equal(df_ensure_pages(x->df, 1, 20, &e), 0);
    assert_int_equal(df_file_pages(x->df, 1), 24);

    /* creating a file that cannot be sized: 1105, and no file is left behind */
    char p2[PATH_MAX];
    snprintf(p2, sizeof p2, "%s/full.ndf", x->dir);
    id = fault_add(&r);
    df_file_desc d2 = desc(2, 1, "full", p2, 8, 8, 0);
    hdb_err_clear(&e);
    assert_int_equal(df_add_file(x->df, &d2, 1, &e), -1);
    assert_int_equal(e.number, 1105);
    assert_int_not_equal(access(p2, F_OK), 0);
    fault_remove(id);
    assert_int_equal(df_add_file(x->df, &d2, 1, &e), 0);
}

/* ---- verification ----------------------------------------------------------- */

static void raw_pwrite(const char *path, const void *buf, size_t n, off_t off)
{
    int fd = open(path, O_RDWR);
    assert_true(fd >= 0);
    assert_int_equal(pwrite(fd, buf, n, off), (ssize_t)n);
    close(fd);
}

static void raw_pread(const char *path, void *buf, size_t n, off_t off)
{
    int fd = open(path, O_RDONLY);
    assert_true(fd >= 0);
    assert_int_equal(pread(fd, buf, n, off), (ssize_t)n);
    close(fd);
}

static void test_checksum_corruption(void **state)
{
    struct fx *x = *state;
    hdb_err e;
    hdb_err_clear(&e);
    df_set_suspect_hook(x->df, sus_hook, NULL);
    sus_reset();
    write_pages(x->df, 1, 10);

    uint8_t disk[PAGE_SIZE];
    raw_pread(x->path, disk, PAGE_SIZE, 4 * PAGE_SIZE);
    uint32_t stored = page_chdr(disk)->checksum;
    assert_int_equal(stored, page_checksum(disk));  /* write stamped it */
    disk[5000] ^= 0x01;
    uint32_t actual = page_checksum(disk);
    raw_pwrite(x->path, disk + 5000, 1, 4 * PAGE_SIZE + 5000);

    uint8_t p[PAGE_SIZE];
    assert_int_equal(df_read_page(x->df, PGID(1, 4), p, &e), -1);
    assert_int_equal(e.number, 824);
    assert_int_equal(e.severity, 24);
    char want[160];
    snprintf(want, sizeof want, "incorrect checksum (expected: 0x%08x; actual: 0x%08x)", stored, actual);
    assert_non_null(strstr(e.msg, want));
    assert_non_null(strstr(e.msg, "during a read of page (1:4) in database ID 7"));
    assert_non_null(strstr(e.msg, "0x00000000008000"));  /* offset 4*8192 */
    assert_non_null(strstr(e.msg, x->path));
    assert_int_equal(sus_calls, 1);
    assert_int_equal(sus_db, 7);
    assert_int_equal(sus_id, PGID(1, 4));
    assert_int_equal(sus_event, 2);

    /* neighbours are fine */
    check_page(x->df, 1, 3);
    check_page(x->df, 1, 5);
    assert_int_equal(sus_calls, 1);

    /* PAGE_VERIFY NONE: the checksum is not looked at */
    df_set_page_verify(x->df, 0);
    assert_int_equal(df_read_page(x->df, PGID(1, 4), p, &e), 0);
    assert_int_equal(p[5000], disk[5000]);
    df_set_page_verify(x->df, 1);
    assert_int_equal(df_read_page(x->df, PGID(1, 4), p, &e), -1);

    /* rewriting the page heals it */
    fill_page(p, PGID(1, 4), 5);
    assert_int_equal(df_write_page(x->df, PGID(1, 4), p, &e), 0);
    check_page(x->df, 1, 4);
}

static void test_wrong_page_id(void **state)
{
    struct fx *x = *state;
    hdb_err e;
    hdb_err_clear(&e);
    df_set_suspect_hook(x->df, sus_hook, NULL);
    sus_reset();
    write_pages(x->df, 1, 10);
    /* page 9's image lands at page 5's place (a misdirected write) */
    uint8_t disk[PAGE_SIZE];
    raw_pread(x->path, disk, PAGE_SIZE, 9 * PAGE_SIZE);
    raw_pwrite(x->path, disk, PAGE_SIZE, 5 * PAGE_SIZE);
    uint8_t p[PAGE_SIZE];
    assert_int_equal(df_read_page(x->df, PGID(1, 5), p, &e), -1);
    assert_int_equal(e.number, 824);
    assert_non_null(strstr(e.msg, "incorrect pageid (expected 1:5; actual 1:9)"));
    assert_non_null(strstr(e.msg, "page (1:5) in database ID 7"));
    assert_int_equal(sus_calls, 1);
    assert_int_equal(sus_event, 1);
    assert_int_equal(sus_id, PGID(1, 5));
    /* the id check stays on with PAGE_VERIFY NONE */
    df_set_page_verify(x->df, 0);
    hdb_err_clear(&e);
    assert_int_equal(df_read_page(x->df, PGID(1, 5), p, &e), -1);
    assert_int_equal(e.number, 824);
    assert_non_null(strstr(e.msg, "incorrect pageid"));
    check_page(x->df, 1, 9);
}

static void test_injected_corrupt_read(void **state)
{
    struct fx *x = *state;
    hdb_err e;
    hdb_err_clear(&e);
    df_set_suspect_hook(x->df, sus_hook, NULL);
    sus_reset();
    write_pages(x->df, 1, 8);
    uint8_t p[PAGE_SIZE];

    /* persistent: every read of page 2 comes back corrupt -> 824 after retries */
    fault_rule r = { .path_contains = x->dir, .ops = FIO_OP_READ, .offset_lo = 2 * PAGE_SIZE,
                     .offset_hi = 3 * PAGE_SIZE, .action = FAULT_CORRUPT };
    int id = fault_add(&r);
    assert_int_equal(df_read_page(x->df, PGID(1, 2), p, &e), -1);
    assert_int_equal(e.number, 824);
    assert_non_null(strstr(e.msg, "incorrect checksum"));
    assert_non_null(strstr(e.msg, "page (1:2) in database ID 7"));
    assert_int_equal(fault_fired(id), 5);  /* the read and 4 retries */
    assert_int_equal(sus_calls, 1);
    assert_int_equal(sus_event, 2);
    check_page(x->df, 1, 1);  /* other pages are unaffected */
    check_page(x->df, 1, 3);
    fault_remove(id);
    check_page(x->df, 1, 2);  /* the disk was never damaged */

    /* transient: only the first read is corrupt; a retry succeeds */
    sus_reset();
    r.nth = 1;
    r.count = 0;
    id = fault_add(&r);
    uint64_t before = df_read_retries(x->df);
    check_page(x->df, 1, 2);
    assert_int_equal(fault_fired(id), 1);
    assert_int_equal(df_read_retries(x->df), before + 1);
    assert_int_equal(sus_calls, 0);
    fault_remove(id);

    /* corrupt four times in a row: the fifth read still rescues it */
    r.nth = 1;
    r.count = 3;
    id = fault_add(&r);
    check_page(x->df, 1, 2);
    assert_int_equal(fault_fired(id), 4);
    fault_remove(id);
}

static void test_injected_eio(void **state)
{
    struct fx *x = *state;
    hdb_err e;
    hdb_err_clear(&e);
    df_set_suspect_hook(x->df, sus_hook, NULL);
    sus_reset();
    write_pages(x->df, 1, 8);
    uint8_t p[PAGE_SIZE];
    fault_rule r = { .path_contains = x->dir, .ops = FIO_OP_READ, .offset_lo = 6 * PAGE_SIZE,
                     .offset_hi = 7 * PAGE_SIZE, .action = FAULT_EIO };
    int id = fault_add(&r);
    assert_int_equal(df_read_page(x->df, PGID(1, 6), p, &e), -1);
    assert_int_equal(e.number, 823);
    assert_non_null(strstr(e.msg, "during a read"));
    assert_non_null(strstr(e.msg, x->path));
    assert_int_equal(fault_fired(id), 5);
    assert_int_equal(sus_calls, 1);
    assert_int_equal(sus_event, 1);
    for (uint32_t i = 0; i < 8; i++)
        if (i != 6)
            check_page(x->df, 1, i);
    fault_remove(id);
    check_page(x->df, 1, 6);

    /* transient EIO is absorbed by the retries */
    r.nth = 1;
    r.count = 1;
    id = fault_add(&r);
    check_page(x->df, 1, 6);
    assert_int_equal(fault_fired(id), 2);
    fault_remove(id);

    /* write errors: 823, and the page on disk keeps its old image */
    r.ops = FIO_OP_WRITE;
    r.nth = 0;
    id = fault_add(&r);
    fill_page(p, PGID(1, 6), 99);
    hdb_err_clear(&e);
    assert_int_equal(df_write_page(x->df, PGID(1, 6), p, &e), -1);
    assert_int_equal(e.number, 823);
    assert_non_null(strstr(e.msg, "during a write"));
    fault_remove(id);
    check_page(x->df, 1, 6);

    /* sync errors surface too */
    r.ops = FIO_OP_SYNC;
    r.offset_lo = r.offset_hi = 0;
    id = fault_add(&r);
    assert_int_equal(df_sync(x->df, &e), -1);
    assert_int_equal(e.number, 823);
    fault_remove(id);
    assert_int_equal(df_sync(x->df, &e), 0);
}

static void test_offline_and_unknown(void **state)
{
    struct fx *x = *state;
    hdb_err e;
    hdb_err_clear(&e);
    df_set_suspect_hook(x->df, sus_hook, NULL);
    sus_reset();
    write_pages(x->df, 1, 4);
    uint8_t p[PAGE_SIZE];
    df_set_state(x->df, 1, DF_OFFLINE);
    assert_int_equal(df_get_state(x->df, 1), DF_OFFLINE);
    assert_int_equal(df_read_page(x->df, PGID(1, 2), p, &e), -1);
    assert_int_equal(e.number, 824);
    assert_non_null(strstr(e.msg, "read from an offline file"));
    assert_non_null(strstr(e.msg, "page (1:2) in database ID 7"));
    fill_page(p, PGID(1, 2), 3);
    assert_int_equal(df_write_page(x->df, PGID(1, 2), p, &e), -1);
    assert_int_equal(sus_calls, 0);  /* not a damaged page */
    df_set_state(x->df, 1, DF_RESTORING);  /* restore reads and writes these */
    check_page(x->df, 1, 2);
    df_set_state(x->df, 1, DF_ONLINE);
    check_page(x->df, 1, 2);
    hdb_err_clear(&e);
    assert_int_equal(df_read_page(x->df, PGID(9, 0), p, &e), -1);
    assert_int_equal(e.number, 824);
    assert_non_null(strstr(e.msg, "offline"));
    assert_int_equal(df_get_state(x->df, 9), DF_DEFUNCT);
}

/* WAL hook plumbing and a page written past the end of the file */
static int wal_calls;
static lsn_t wal_last;
static int wal_hook(void *ctx, lsn_t lsn, hdb_err *err)
{
    wal_calls++;
    wal_last = lsn;
    return *(int *)ctx ? hdb_raise(err, 40000, "log failed") : 0;
}

static void test_hooks_and_extend(void **state)
{
    struct fx *x = *state;
    hdb_err e;
    hdb_err_clear(&e);
    assert_int_equal(df_wal_flush(x->df, 5, &e), 0);  /* no hook: nothing to do */
    int fail = 0;
    df_set_wal_hook(x->df, wal_hook, &fail);
    assert_int_equal(df_wal_flush(x->df, 77, &e), 0);
    assert_int_equal(wal_calls, 1);
    assert_int_equal(wal_last, 77);
    fail = 1;
    assert_int_equal(df_wal_flush(x->df, 78, &e), -1);
    assert_int_equal(e.number, 40000);

    uint8_t p[PAGE_SIZE];
    fill_page(p, PGID(1, 30), 31);
    assert_int_equal(df_write_page(x->df, PGID(1, 30), p, &e), 0);
    assert_int_equal(df_file_pages(x->df, 1), 31);
    check_page(x->df, 1, 30);
    /* an all-zero page stays "unformatted" (checksum 0) */
    memset(p, 0, sizeof p);
    assert_int_equal(df_write_page(x->df, PGID(1, 3), p, &e), 0);
    assert_int_equal(df_read_page(x->df, PGID(1, 3), p, &e), 0);
    assert_true(page_is_zero(p));
}

/* ---- concurrency ---------------------------------------------------------- */

struct worker { struct fx *x; int t; int fails; };

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    dbfiles *df = w->x->df;
    uint8_t p[PAGE_SIZE], q[PAGE_SIZE];
    hdb_err e;
    unsigned seed = (unsigned)w->t * 7919u + 1;
    for (int it = 0; it < 400; it++) {
        /* each thread owns pages t, t+4, ...; the file grows as they go */
        uint32_t pg = (uint32_t)(w->t + 4 * (it / 2));
        if (df_ensure_pages(df, 3, pg + 1, &e) < 0) {
            w->fails++;
            continue;
        }
        if (it % 2 == 0) {
            fill_page(p, PGID(3, pg), pg + 1);
            if (df_write_page(df, PGID(3, pg), p, &e) < 0)
                w->fails++;
        } else {
            fill_page(q, PGID(3, pg), pg + 1);
            page_stamp(q);
            if (df_read_page(df, PGID(3, pg), p, &e) < 0 || memcmp(p, q, PAGE_SIZE) != 0)
                w->fails++;
        }
        /* and read any page below (maybe another thread's, maybe unwritten) */
        uint32_t any = (uint32_t)(rand_r(&seed) % (pg + 1));
        if (df_read_page(df, PGID(3, any), p, &e) < 0)
            w->fails++;
    }
    return NULL;
}

static void test_concurrent(void **state)
{
    struct fx *x = *state;
    /* file 3: tiny increments and no maximum, so the workers race to grow it */
    char p3[PATH_MAX];
    snprintf(p3, sizeof p3, "%s/grow.ndf", x->dir);
    df_file_desc d3 = desc(3, 1, "grow", p3, 1, 3, 0);
    hdb_err e;
    assert_int_equal(df_add_file(x->df, &d3, 1, &e), 0);
    pthread_t th[4];
    struct worker w[4];
    for (int i = 0; i < 4; i++) {
        w[i] = (struct worker){ x, i, 0 };
        pthread_create(&th[i], NULL, worker_main, &w[i]);
    }
    /* meanwhile, file 2 comes and goes */
    char p2[PATH_MAX];
    snprintf(p2, sizeof p2, "%s/extra.ndf", x->dir);
    for (int i = 0; i < 20; i++) {
        df_file_desc d2 = desc(2, 1, "extra", p2, 2, 0, 0);
        assert_int_equal(df_add_file(x->df, &d2, i == 0, &e), 0);
        write_pages(x->df, 2, 2);
        df_remove_file(x->df, 2);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(th[i], NULL);
        assert_int_equal(w[i].fails, 0);
    }
    assert_true(df_file_pages(x->df, 3) >= 4 * 200);
    assert_true(df_file_pages(x->df, 3) <= 4 * 200 + 3);  /* grown once per shortfall */
    for (uint32_t pg = 0; pg < 800; pg++)
        check_page(x->df, 3, pg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_create_grow_reopen, setup, teardown),
        cmocka_unit_test_setup_teardown(test_grow_enospc, setup, teardown),
        cmocka_unit_test_setup_teardown(test_checksum_corruption, setup, teardown),
        cmocka_unit_test_setup_teardown(test_wrong_page_id, setup, teardown),
        cmocka_unit_test_setup_teardown(test_injected_corrupt_read, setup, teardown),
        cmocka_unit_test_setup_teardown(test_injected_eio, setup, teardown),
        cmocka_unit_test_setup_teardown(test_offline_and_unknown, setup, teardown),
        cmocka_unit_test_setup_teardown(test_hooks_and_extend, setup, teardown),
        cmocka_unit_test_setup_teardown(test_concurrent, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
