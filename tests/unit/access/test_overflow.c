/* test_overflow.c — overflow chains: round trips from 0 bytes to 1 MB (page
 * boundaries included), freeing gives every page back, damaged or mismatched
 * chains are reported, and chains survive a pool smaller than themselves. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "access/overflow.h"
#include "bt_harness.h"
#include "storage/pageop.h"

static uint8_t *pattern(size_t len, unsigned salt)
{
    uint8_t *p = malloc(len ? len : 1);
    assert_non_null(p);
    uint32_t x = 2166136261u ^ salt;
    for (size_t i = 0; i < len; i++) {
        x = (x ^ (uint32_t)i) * 16777619u;
        p[i] = (uint8_t)(x >> 13);
    }
    return p;
}

static void setup_h(bth *h, size_t pool)
{
    if (bth_open(h, pool) != 0)
        fail_msg("harness: %s", h->err.msg);
}

static void test_round_trips(void **state)
{
    bth h;
    setup_h(&h, 8u << 20);
    static const size_t sizes[] = { 0, 1, 2, 100, OVF_PAGE_DATA - 1, OVF_PAGE_DATA, OVF_PAGE_DATA + 1,
                                    3 * OVF_PAGE_DATA, 6 * OVF_PAGE_DATA, 6 * OVF_PAGE_DATA + 1,
                                    7 * OVF_PAGE_DATA + 5, 100000, 1u << 20 };
    const int n = (int)(sizeof sizes / sizeof sizes[0]);
    pgid_t first[sizeof sizes / sizeof sizes[0]];
    uint64_t base = bth_used_pages(&h);
    uint64_t expect_pages = 0;
    for (int i = 0; i < n; i++) {
        uint8_t *d = pattern(sizes[i], (unsigned)i);
        first[i] = ovf_write(&h.env, 1, 77, d, sizes[i], &h.err);
        if (!first[i])
            fail_msg("ovf_write %zu: %s", sizes[i], h.err.msg);
        expect_pages += ovf_pages(sizes[i]);
        free(d);
    }
    /* pages used: exactly the chains (plus at most a new bitmap: none here) */
    assert_int_equal(bth_used_pages(&h) - base, expect_pages);
    for (int i = 0; i < n; i++) {
        uint8_t *d = pattern(sizes[i], (unsigned)i);
        uint8_t *out = malloc(sizes[i] ? sizes[i] : 1);
        if (ovf_read(&h.env, first[i], out, sizes[i], &h.err) != 0)
            fail_msg("ovf_read %zu: %s", sizes[i], h.err.msg);
        assert_memory_equal(out, d, sizes[i]);
        free(out);
        free(d);
    }
    /* the chain links: first page owned by 77, typed, next/prev consistent */
    bp_frame *f = bp_fix(h.bp, h.df, first[n - 1], BP_SHARED, 0, &h.err);
    assert_non_null(f);
    const page_header *ph = page_chdr(bp_page(f));
    assert_int_equal(ph->type, PAGE_OVERFLOW);
    assert_int_equal(ph->owner, 77);
    assert_int_equal(ph->prev, 0);
    assert_int_not_equal(ph->next, 0);
    bp_unfix(f);

    /* a wrong length is an error, not a short or long copy */
    uint8_t *out = malloc(200000);
    hdb_err_clear(&h.err);
    assert_int_equal(ovf_read(&h.env, first[11], out, 99999, &h.err), -1);
    assert_int_equal(h.err.number, 7105);
    assert_int_equal(ovf_read(&h.env, first[11], out, 100001, &h.err), -1);
    assert_int_equal(h.err.number, 7105);
    free(out);

    /* freeing gives back every page */
    for (int i = 0; i < n; i++)
        if (ovf_free(&h.env, first[i], &h.err) != 0)
            fail_msg("ovf_free: %s", h.err.msg);
    assert_int_equal(bth_used_pages(&h), base);
    for (int i = 0; i < n; i++)
        assert_int_equal(space_is_allocated(&h.sc, first[i], &h.err), 0);
    bth_close(&h);
}

/* Freeing must refuse to follow a pointer into a non-overflow page. */
static void test_free_refuses_other_pages(void **state)
{
    bth h;
    setup_h(&h, 8u << 20);
    pgid_t root = bt_create(&h.env, 5, 1, 1, &h.err);
    assert_true(root != 0);
    uint64_t used = bth_used_pages(&h);
    hdb_err_clear(&h.err);
    assert_int_equal(ovf_free(&h.env, root, &h.err), -1);
    assert_int_equal(h.err.number, 7105);
    assert_int_equal(bth_used_pages(&h), used);
    uint8_t b[16];
    assert_int_equal(ovf_read(&h.env, root, b, sizeof b, &h.err), -1);
    bth_close(&h);
}

/* Many chains through a pool far smaller than them: written, evicted, read
 * back from disk; space reused after frees. */
static void test_small_pool(void **state)
{
    bth h;
    setup_h(&h, 1u << 20);   /* 128 frames */
    enum { N = 40 };
    pgid_t first[N];
    size_t len[N];
    uint64_t base = bth_used_pages(&h);
    for (int i = 0; i < N; i++) {
        len[i] = 50000 + (size_t)i * 4099;
        uint8_t *d = pattern(len[i], 1000u + (unsigned)i);
        first[i] = ovf_write(&h.env, 1, 9, d, len[i], &h.err);
        if (!first[i])
            fail_msg("ovf_write: %s", h.err.msg);
        free(d);
    }
    for (int i = 0; i < N; i += 2)
        assert_int_equal(ovf_free(&h.env, first[i], &h.err), 0);
    for (int i = 1; i < N; i += 2) {
        uint8_t *d = pattern(len[i], 1000u + (unsigned)i);
        uint8_t *out = malloc(len[i]);
        if (ovf_read(&h.env, first[i], out, len[i], &h.err) != 0)
            fail_msg("ovf_read: %s", h.err.msg);
        assert_memory_equal(out, d, len[i]);
        free(out);
        free(d);
    }
    /* freed space is reused: rewriting the freed chains does not grow usage
     * beyond the original peak */
    uint64_t peak = 0;
    for (int i = 0; i < N; i++)
        peak += ovf_pages(len[i]);
    for (int i = 0; i < N; i += 2) {
        uint8_t *d = pattern(len[i], 1000u + (unsigned)i);
        first[i] = ovf_write(&h.env, 1, 9, d, len[i], &h.err);
        assert_true(first[i] != 0);
        free(d);
    }
    assert_int_equal(bth_used_pages(&h) - base, peak);
    for (int i = 0; i < N; i++)
        assert_int_equal(ovf_free(&h.env, first[i], &h.err), 0);
    assert_int_equal(bth_used_pages(&h), base);
    bth_close(&h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_round_trips, bth_teardown),
        cmocka_unit_test_teardown(test_free_refuses_other_pages, bth_teardown),
        cmocka_unit_test_teardown(test_small_pool, bth_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
