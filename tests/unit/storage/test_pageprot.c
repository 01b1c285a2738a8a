/* test_pageprot.c — page protection on disk (PAGE_VERIFY CHECKSUM, TORN_PAGE_DETECTION,
 * NONE): sealing and opening images, and through data files: 824 texts, suspect
 * hook event types (2 checksum, 3 torn, 1 wrong id), SQL Server's rule that a page
 * keeps the protection it was written with, torn writes, raw reads. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "os/fio.h"
#include "storage/datafile.h"
#include "storage/page.h"
#include "storage/pageprot.h"

static void fill(uint8_t *p, pgid_t id, uint32_t seed, lsn_t lsn)
{
    page_format(p, id, PAGE_BTREE_LEAF, 42, 0);
    page_hdr(p)->lsn = lsn;
    uint8_t rec[3000];
    for (size_t i = 0; i < sizeof rec; i++)
        rec[i] = (uint8_t)(seed * 131 + i * 7);
    assert_int_equal(page_insert(p, 0, rec, sizeof rec), 0);
    assert_int_equal(page_insert(p, 1, rec, sizeof rec), 0);
}

/* ------------------------------------------------------------ images */

static void test_checksum_image(void **state)
{
    (void)state;
    uint8_t a[PAGE_SIZE], b[PAGE_SIZE];
    fill(a, PGID(1, 9), 1, 100);
    memcpy(b, a, PAGE_SIZE);
    pageprot_seal(b, PAGE_VERIFY_CHECKSUM);
    assert_int_equal(page_chdr(b)->flags & PAGE_FLAG_PROT, 0);
    assert_int_equal(page_chdr(b)->checksum, page_checksum(b));
    assert_int_equal(pageprot_flag_bits(b), 0x200);
    /* what was written reads back unchanged (checksum included) */
    uint8_t c[PAGE_SIZE];
    memcpy(c, b, PAGE_SIZE);
    assert_int_equal(pageprot_open(c, PGID(1, 9), PAGE_VERIFY_CHECKSUM, NULL), PAGEPROT_OK);
    assert_memory_equal(c, b, PAGE_SIZE);
    /* one bit anywhere: bad checksum, with both sums */
    c[7000] ^= 0x10;
    pageprot_result r;
    assert_int_equal(pageprot_open(c, PGID(1, 9), PAGE_VERIFY_CHECKSUM, &r), PAGEPROT_BAD_CHECKSUM);
    assert_int_equal(r.expected, page_chdr(b)->checksum);
    assert_int_equal(r.actual, page_checksum(c));
    /* under NONE only the id counts */
    assert_int_equal(pageprot_open(c, PGID(1, 9), PAGE_VERIFY_NONE, NULL), PAGEPROT_OK);
    assert_int_equal(pageprot_open(c, PGID(1, 8), PAGE_VERIFY_NONE, &r), PAGEPROT_WRONG_ID);
    assert_int_equal(r.found_id, PGID(1, 9));
    /* zeroing the first bytes (checksum, flags) leaves a checksum to fail */
    memcpy(c, b, PAGE_SIZE);
    memset(c, 0, 8);
    assert_int_equal(pageprot_open(c, PGID(1, 9), PAGE_VERIFY_CHECKSUM, NULL), PAGEPROT_BAD_CHECKSUM);
    /* a checksum page read under TORN_PAGE_DETECTION is still checked */
    memcpy(c, b, PAGE_SIZE);
    c[5000] ^= 1;
    assert_int_equal(pageprot_open(c, PGID(1, 9), PAGE_VERIFY_TORN, NULL), PAGEPROT_BAD_CHECKSUM);
}

static void test_none_image(void **state)
{
    (void)state;
    uint8_t a[PAGE_SIZE], b[PAGE_SIZE];
    fill(a, PGID(2, 3), 2, 200);
    memcpy(b, a, PAGE_SIZE);
    pageprot_seal(b, PAGE_VERIFY_NONE);
    assert_int_equal(page_chdr(b)->flags & PAGE_FLAG_PROT, PAGE_FLAG_NO_CHECKSUM);
    assert_int_equal(page_chdr(b)->checksum, PAGEPROT_NONE_MAGIC);
    assert_int_equal(pageprot_flag_bits(b), 0);
    /* no checksum to check, whatever the database's option now */
    b[6000] ^= 0xff;
    assert_int_equal(pageprot_open(b, PGID(2, 3), PAGE_VERIFY_CHECKSUM, NULL), PAGEPROT_OK);
    assert_int_equal(pageprot_open(b, PGID(2, 4), PAGE_VERIFY_CHECKSUM, NULL), PAGEPROT_WRONG_ID);
    /* the mark needs flag and word: the flag alone leaves a checksum to fail */
    page_hdr(b)->checksum = 12345;
    assert_int_equal(pageprot_open(b, PGID(2, 3), PAGE_VERIFY_CHECKSUM, NULL), PAGEPROT_BAD_CHECKSUM);
    /* sealing again under CHECKSUM drops the mark */
    pageprot_seal(b, PAGE_VERIFY_CHECKSUM);
    assert_int_equal(page_chdr(b)->flags & PAGE_FLAG_PROT, 0);
    assert_int_equal(pageprot_open(b, PGID(2, 3), PAGE_VERIFY_CHECKSUM, NULL), PAGEPROT_OK);
}

static void test_torn_image(void **state)
{
    (void)state;
    for (lsn_t lsn = 1000; lsn < 1040; lsn += 8) {
        uint8_t a[PAGE_SIZE], b[PAGE_SIZE];
        fill(a, PGID(1, 20), (uint32_t)lsn, lsn);
        memcpy(b, a, PAGE_SIZE);
        pageprot_seal(b, PAGE_VERIFY_TORN);
        unsigned p = pageprot_torn_pattern(lsn);
        assert_true(p >= 1 && p <= 3);
        assert_int_equal(page_chdr(b)->flags & PAGE_FLAG_PROT, PAGE_FLAG_TORN_BITS);
        assert_int_equal(page_chdr(b)->checksum >> 30, p);
        assert_int_equal(pageprot_flag_bits(b), 0x100);
        for (int s = 1; s < PAGE_SIZE / PAGEPROT_SECTOR; s++)
            assert_int_equal(b[s * PAGEPROT_SECTOR + PAGEPROT_SECTOR - 1] & 3, p);
        /* read back whole: the original bytes, with a fresh checksum */
        uint8_t c[PAGE_SIZE];
        memcpy(c, b, PAGE_SIZE);
        assert_int_equal(pageprot_open(c, PGID(1, 20), PAGE_VERIFY_TORN, NULL), PAGEPROT_OK);
        assert_memory_equal(c + 4, a + 4, PAGE_SIZE - 4);
        assert_int_equal(page_chdr(c)->checksum, page_checksum(c));
        /* the same page read after the option went back to CHECKSUM */
        memcpy(c, b, PAGE_SIZE);
        assert_int_equal(pageprot_open(c, PGID(1, 20), PAGE_VERIFY_CHECKSUM, NULL), PAGEPROT_OK);
        assert_memory_equal(c + 4, a + 4, PAGE_SIZE - 4);
        /* and under NONE the bits are put back too (unchecked) */
        memcpy(c, b, PAGE_SIZE);
        assert_int_equal(pageprot_open(c, PGID(1, 20), PAGE_VERIFY_NONE, NULL), PAGEPROT_OK);
        assert_memory_equal(c + 4, a + 4, PAGE_SIZE - 4);
        /* the second half never written (zeros): torn, whatever p */
        memcpy(c, b, PAGE_SIZE);
        memset(c + PAGE_SIZE / 2, 0, PAGE_SIZE / 2);
        pageprot_result r;
        assert_int_equal(pageprot_open(c, PGID(1, 20), PAGE_VERIFY_TORN, &r), PAGEPROT_TORN);
        uint32_t want = 0;
        for (int s = 0; s < 16; s++)
            want |= (uint32_t)p << (2 * s);
        assert_int_equal(r.expected, want);
        assert_int_not_equal(r.actual, want);
        /* NONE does not look */
        assert_int_equal(pageprot_open(c, PGID(1, 20), PAGE_VERIFY_NONE, NULL), PAGEPROT_OK);
    }
}

/* Two versions of a page with different patterns: a write torn between them
 * (first half new, second half old) is caught. */
static void test_torn_between_versions(void **state)
{
    (void)state;
    lsn_t l1 = 5000, l2 = 5008;
    while (pageprot_torn_pattern(l2) == pageprot_torn_pattern(l1))
        l2 += 8;
    uint8_t v1[PAGE_SIZE], v2[PAGE_SIZE], mix[PAGE_SIZE];
    fill(v1, PGID(1, 30), 1, l1);
    fill(v2, PGID(1, 30), 2, l2);
    pageprot_seal(v1, PAGE_VERIFY_TORN);
    pageprot_seal(v2, PAGE_VERIFY_TORN);
    memcpy(mix, v2, PAGE_SIZE / 2);
    memcpy(mix + PAGE_SIZE / 2, v1 + PAGE_SIZE / 2, PAGE_SIZE / 2);
    assert_int_equal(pageprot_open(mix, PGID(1, 30), PAGE_VERIFY_TORN, NULL), PAGEPROT_TORN);
    /* one sector short is enough */
    memcpy(mix, v2, PAGE_SIZE - PAGEPROT_SECTOR);
    memcpy(mix + PAGE_SIZE - PAGEPROT_SECTOR, v1 + PAGE_SIZE - PAGEPROT_SECTOR, PAGEPROT_SECTOR);
    assert_int_equal(pageprot_open(mix, PGID(1, 30), PAGE_VERIFY_TORN, NULL), PAGEPROT_TORN);
}

static void test_zero_page(void **state)
{
    (void)state;
    uint8_t z[PAGE_SIZE];
    for (int mode = 0; mode <= 2; mode++) {
        memset(z, 0, PAGE_SIZE);
        pageprot_seal(z, mode);
        for (int i = 0; i < PAGE_SIZE; i++)
            assert_int_equal(z[i], 0);
        assert_int_equal(pageprot_open(z, PGID(1, 77), PAGE_VERIFY_CHECKSUM, NULL), PAGEPROT_OK);
        assert_int_equal(pageprot_open(z, PGID(1, 77), mode, NULL), PAGEPROT_OK);
        assert_int_equal(pageprot_flag_bits(z), 0);
    }
}

/* ------------------------------------------------------------ through data files */

struct fx {
    char dir[64];
    char path[128];
    dbfiles *df;
};

static int sus_calls, sus_event;
static pgid_t sus_id;
static void hook(void *ctx, uint32_t db, pgid_t id, int ev)
{
    (void)ctx;
    (void)db;
    sus_calls++;
    sus_event = ev;
    sus_id = id;
}

static int rm_cb(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(p);
}

static int setup(void **state)
{
    struct fx *x = calloc(1, sizeof *x);
    snprintf(x->dir, sizeof x->dir, "/tmp/hdb_pp_XXXXXX");
    assert_non_null(mkdtemp(x->dir));
    snprintf(x->path, sizeof x->path, "%s/db.mdf", x->dir);
    x->df = df_create(9, "ppdb");
    df_file_desc d;
    memset(&d, 0, sizeof d);
    d.file_id = 1;
    d.fg_id = 1;
    snprintf(d.logical_name, sizeof d.logical_name, "ppdb");
    snprintf(d.path, sizeof d.path, "%s", x->path);
    d.size_pages = 32;
    d.growth_pages = 8;
    hdb_err e;
    assert_int_equal(df_add_file(x->df, &d, 1, &e), 0);
    df_set_suspect_hook(x->df, hook, NULL);
    sus_calls = 0;
    *state = x;
    return 0;
}

static int teardown(void **state)
{
    struct fx *x = *state;
    fault_clear();
    df_destroy(x->df);
    nftw(x->dir, rm_cb, 8, FTW_DEPTH | FTW_PHYS);
    free(x);
    return 0;
}

static void put(struct fx *x, uint32_t pg, uint32_t seed, lsn_t lsn)
{
    uint8_t p[PAGE_SIZE];
    hdb_err e;
    fill(p, PGID(1, pg), seed, lsn);
    assert_int_equal(df_write_page(x->df, PGID(1, pg), p, &e), 0);
}

static void poke(struct fx *x, uint32_t pg, size_t off, uint8_t xor)
{
    FILE *f = fopen(x->path, "r+b");
    assert_non_null(f);
    uint8_t b;
    assert_int_equal(fseek(f, (long)pg * PAGE_SIZE + (long)off, SEEK_SET), 0);
    assert_int_equal(fread(&b, 1, 1, f), 1);
    b ^= xor;
    assert_int_equal(fseek(f, (long)pg * PAGE_SIZE + (long)off, SEEK_SET), 0);
    assert_int_equal(fwrite(&b, 1, 1, f), 1);
    fclose(f);
}

static void test_df_option_follows_the_page(void **state)
{
    struct fx *x = *state;
    hdb_err e;
    uint8_t p[PAGE_SIZE];
    assert_int_equal(df_page_verify(x->df), PAGE_VERIFY_CHECKSUM);
    put(x, 4, 1, 10);                       /* with a checksum */
    df_set_page_verify(x->df, PAGE_VERIFY_NONE);
    assert_int_equal(df_page_verify(x->df), PAGE_VERIFY_NONE);
    put(x, 5, 2, 20);                       /* without */
    poke(x, 4, 4000, 0x04);
    poke(x, 5, 4000, 0x04);
    /* NONE: neither is checked */
    assert_int_equal(df_read_page(x->df, PGID(1, 4), p, &e), 0);
    assert_int_equal(df_read_page(x->df, PGID(1, 5), p, &e), 0);
    /* back to CHECKSUM: the page written with one is caught, the other is not */
    df_set_page_verify(x->df, PAGE_VERIFY_CHECKSUM);
    assert_int_equal(df_read_page(x->df, PGID(1, 4), p, &e), -1);
    assert_int_equal(e.number, 824);
    assert_non_null(strstr(e.msg, "incorrect checksum"));
    assert_int_equal(sus_event, 2);
    assert_int_equal(df_read_page(x->df, PGID(1, 5), p, &e), 0);
    /* written again: protected again */
    put(x, 5, 3, 30);
    poke(x, 5, 4000, 0x04);
    assert_int_equal(df_read_page(x->df, PGID(1, 5), p, &e), -1);
    assert_int_equal(sus_calls, 2);
    /* an unknown mode means CHECKSUM */
    df_set_page_verify(x->df, 7);
    assert_int_equal(df_page_verify(x->df), PAGE_VERIFY_CHECKSUM);
}

static void test_df_torn_write(void **state)
{
    struct fx *x = *state;
    hdb_err e;
    uint8_t p[PAGE_SIZE], q[PAGE_SIZE];
    df_set_page_verify(x->df, PAGE_VERIFY_TORN);
    /* a torn first write of a page: its second half stays zero */
    fault_rule r = { .path_contains = x->dir, .ops = FIO_OP_WRITE, .offset_lo = 6 * PAGE_SIZE,
                     .offset_hi = 7 * PAGE_SIZE, .action = FAULT_TORN };
    int id = fault_add(&r);
    put(x, 6, 4, 40);
    assert_int_equal(fault_fired(id), 1);
    fault_clear();
    assert_int_equal(df_read_page(x->df, PGID(1, 6), p, &e), -1);
    assert_int_equal(e.number, 824);
    assert_non_null(strstr(e.msg, "torn page (expected signature: 0x"));
    assert_non_null(strstr(e.msg, "page (1:6) in database ID 9"));
    assert_int_equal(sus_calls, 1);
    assert_int_equal(sus_event, 3);
    assert_int_equal(sus_id, PGID(1, 6));
    /* a whole write reads back as written */
    put(x, 6, 5, 48);
    assert_int_equal(df_read_page(x->df, PGID(1, 6), p, &e), 0);
    fill(q, PGID(1, 6), 5, 48);
    assert_memory_equal(p + 4, q + 4, PAGE_SIZE - 4);
    /* a later version torn over it: caught when the patterns differ (as SQL
     * Server's flip would always be) */
    lsn_t l2 = 56;
    while (pageprot_torn_pattern(l2) == pageprot_torn_pattern(48))
        l2 += 8;
    fault_add(&r);
    put(x, 6, 6, l2);
    fault_clear();
    assert_int_equal(df_read_page(x->df, PGID(1, 6), p, &e), -1);
    assert_non_null(strstr(e.msg, "torn page"));
    /* under CHECKSUM a torn write is a bad checksum */
    df_set_page_verify(x->df, PAGE_VERIFY_CHECKSUM);
    r.offset_lo = 7 * PAGE_SIZE;
    r.offset_hi = 8 * PAGE_SIZE;
    fault_add(&r);
    put(x, 7, 7, 64);
    fault_clear();
    assert_int_equal(df_read_page(x->df, PGID(1, 7), p, &e), -1);
    assert_non_null(strstr(e.msg, "incorrect checksum"));
    assert_int_equal(sus_event, 2);
}

static void test_df_raw_read(void **state)
{
    struct fx *x = *state;
    hdb_err e;
    uint8_t p[PAGE_SIZE], raw[PAGE_SIZE];
    put(x, 8, 9, 72);
    poke(x, 8, 100, 0x01);
    assert_int_equal(df_read_page(x->df, PGID(1, 8), p, &e), -1);
    int calls = sus_calls;
    /* the bytes on disk as they are: no check, no retry, no hook */
    assert_int_equal(df_read_page_raw(x->df, PGID(1, 8), raw, &e), 0);
    assert_int_equal(sus_calls, calls);
    assert_int_equal(page_chdr(raw)->id, PGID(1, 8));
    assert_int_equal(pageprot_flag_bits(raw), 0x200);
    /* page n is at byte n * 8192 */
    FILE *f = fopen(x->path, "rb");
    uint8_t direct[PAGE_SIZE];
    assert_int_equal(fseek(f, 8L * PAGE_SIZE, SEEK_SET), 0);
    assert_int_equal(fread(direct, 1, PAGE_SIZE, f), PAGE_SIZE);
    fclose(f);
    assert_memory_equal(direct, raw, PAGE_SIZE);
    /* an offline file: 824-family error, no hook */
    df_set_state(x->df, 1, DF_OFFLINE);
    assert_int_equal(df_read_page_raw(x->df, PGID(1, 8), raw, &e), -1);
    assert_int_equal(e.number, 824);
    assert_int_equal(sus_calls, calls);
    df_set_state(x->df, 1, DF_ONLINE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_checksum_image),
        cmocka_unit_test(test_none_image),
        cmocka_unit_test(test_torn_image),
        cmocka_unit_test(test_torn_between_versions),
        cmocka_unit_test(test_zero_page),
        cmocka_unit_test_setup_teardown(test_df_option_follows_the_page, setup, teardown),
        cmocka_unit_test_setup_teardown(test_df_torn_write, setup, teardown),
        cmocka_unit_test_setup_teardown(test_df_raw_read, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
