/* test_page.c — the slotted page (page.c) and physical page operations
 * (pageop.c): invariants under random operations checked against a model,
 * checksum/verify, encode+apply round trips, malformed operations. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "storage/page.h"
#include "storage/pageop.h"

static uint64_t rng_state;
static uint32_t rnd(void)
{
    uint64_t x = rng_state;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    rng_state = x;
    return (uint32_t)(x >> 16);
}

/* ---- model of a slotted page ------------------------------------------------- */

#define MAXREC 2048
struct model {
    int n;
    uint16_t len[2048];
    uint8_t *rec[2048];
};

static void model_insert(struct model *m, int slot, const uint8_t *r, uint16_t len)
{
    memmove(&m->len[slot + 1], &m->len[slot], (size_t)(m->n - slot) * sizeof m->len[0]);
    memmove(&m->rec[slot + 1], &m->rec[slot], (size_t)(m->n - slot) * sizeof m->rec[0]);
    m->len[slot] = len;
    m->rec[slot] = malloc(len ? len : 1);
    memcpy(m->rec[slot], r, len);
    m->n++;
}

static void model_delete(struct model *m, int slot)
{
    free(m->rec[slot]);
    memmove(&m->len[slot], &m->len[slot + 1], (size_t)(m->n - slot - 1) * sizeof m->len[0]);
    memmove(&m->rec[slot], &m->rec[slot + 1], (size_t)(m->n - slot - 1) * sizeof m->rec[0]);
    m->n--;
}

static void model_replace(struct model *m, int slot, const uint8_t *r, uint16_t len)
{
    free(m->rec[slot]);
    m->len[slot] = len;
    m->rec[slot] = malloc(len ? len : 1);
    memcpy(m->rec[slot], r, len);
}

static void model_free(struct model *m)
{
    while (m->n)
        model_delete(m, m->n - 1);
}

static size_t model_bytes(const struct model *m)
{
    size_t s = 0;
    for (int i = 0; i < m->n; i++)
        s += m->len[i];
    return s;
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

/* Every structural invariant of a slotted page, and equality with the model. */
static void check_page(const uint8_t *p, const struct model *m, const page_header *orig)
{
    const page_header *h = page_chdr(p);
    assert_int_equal(h->nslots, m->n);
    assert_int_equal(h->free_lo, PAGE_HEADER_SIZE + PAGE_SLOT_SIZE * m->n);
    assert_true(h->free_lo <= h->free_hi);
    assert_true(h->free_hi <= PAGE_SIZE);
    size_t live = model_bytes(m);
    /* the record area holds exactly the live records plus fragmentation */
    assert_int_equal(PAGE_SIZE - h->free_hi, live + h->frag);
    assert_int_equal(page_free_space(p), PAGE_SIZE - h->free_lo - live);
    assert_int_equal(page_contig_space(p), h->free_hi - h->free_lo);
    /* the header outside the slotted fields is never touched */
    assert_int_equal(h->id, orig->id);
    assert_int_equal(h->lsn, orig->lsn);
    assert_int_equal(h->type, orig->type);
    assert_int_equal(h->owner, orig->owner);
    assert_int_equal(h->level, orig->level);
    assert_int_equal(h->prev, orig->prev);
    assert_int_equal(h->next, orig->next);
    assert_memory_equal(h->special, orig->special, sizeof h->special);
    /* records inside the record area, not overlapping, equal to the model */
    uint32_t spans[2048];
    int ns = 0;
    for (int i = 0; i < m->n; i++) {
        uint16_t len;
        const uint8_t *r = page_record(p, i, &len);
        assert_int_equal(len, m->len[i]);
        if (len == 0)
            continue;
        uint32_t off = (uint32_t)(r - p);
        assert_true(off >= h->free_hi);
        assert_true(off + len <= PAGE_SIZE);
        assert_memory_equal(r, m->rec[i], len);
        spans[ns++] = off << 16 | (uint32_t)i;
    }
    qsort(spans, (size_t)ns, sizeof spans[0], cmp_u32);
    for (int k = 1; k < ns; k++) {
        uint32_t prev_off = spans[k - 1] >> 16, prev_slot = spans[k - 1] & 0xffff;
        assert_true(prev_off + m->len[prev_slot] <= spans[k] >> 16);
    }
}

static void random_rec(uint8_t *r, uint16_t len)
{
    for (uint16_t i = 0; i < len; i++)
        r[i] = (uint8_t)rnd();
}

static uint16_t random_len(void)
{
    switch (rnd() % 8) {
    case 0: return 0;
    case 1: return (uint16_t)(rnd() % 2000);  /* large: often does not fit */
    default: return (uint16_t)(rnd() % 120 + 1);
    }
}

static void test_format_and_checksum(void **state)
{
    (void)state;
    uint8_t p[PAGE_SIZE];
    memset(p, 0xee, sizeof p);
    page_format(p, PGID(3, 77), PAGE_BTREE_INTERNAL, 12, 2);
    const page_header *h = page_chdr(p);
    assert_int_equal(h->format, PAGE_FORMAT);
    assert_int_equal(h->type, PAGE_BTREE_INTERNAL);
    assert_int_equal(h->id, PGID(3, 77));
    assert_int_equal(PGID_FILE(h->id), 3);
    assert_int_equal(PGID_PAGE(h->id), 77);
    assert_int_equal(h->owner, 12);
    assert_int_equal(h->level, 2);
    assert_int_equal(h->nslots, 0);
    assert_int_equal(page_free_space(p), PAGE_SIZE - PAGE_HEADER_SIZE);
    for (size_t i = PAGE_HEADER_SIZE; i < PAGE_SIZE; i++)
        assert_int_equal(p[i], 0);

    uint32_t exp = 0, act = 0;
    pgid_t found = 0;
    page_stamp(p);
    assert_int_equal(page_verify(p, PGID(3, 77), &exp, &act, &found), 0);
    p[5000] ^= 0x10;
    assert_int_equal(page_verify(p, PGID(3, 77), &exp, &act, &found), 1);
    assert_int_equal(exp, page_chdr(p)->checksum);
    assert_int_equal(act, page_checksum(p));
    assert_int_not_equal(exp, act);
    p[5000] ^= 0x10;
    assert_int_equal(page_verify(p, PGID(3, 78), &exp, &act, &found), 2);
    assert_int_equal(found, PGID(3, 77));
    /* the checksum covers the header too (except itself) */
    page_hdr(p)->lsn = 5;
    assert_int_equal(page_verify(p, PGID(3, 77), NULL, NULL, NULL), 1);
    /* all zero = unformatted: passes whatever id is expected */
    memset(p, 0, sizeof p);
    assert_true(page_is_zero(p));
    assert_int_equal(page_verify(p, PGID(9, 9), NULL, NULL, NULL), 0);
    p[PAGE_SIZE - 1] = 1;
    assert_false(page_is_zero(p));
    assert_int_equal(page_verify(p, PGID(9, 9), NULL, NULL, NULL), 1);
}

static void test_random_slotted_ops(void **state)
{
    (void)state;
    for (int seed = 1; seed <= 20; seed++) {
        rng_state = 0x9E3779B97F4A7C15ull * (uint64_t)seed;
        uint8_t p[PAGE_SIZE], before[PAGE_SIZE], r[MAXREC];
        struct model m = { 0 };
        page_format(p, PGID(1, (uint32_t)seed), PAGE_BTREE_LEAF, 7, 0);
        page_hdr(p)->lsn = 1234;
        page_hdr(p)->prev = 11;
        page_hdr(p)->next = 12;
        memset(page_hdr(p)->special, 0xab, sizeof page_hdr(p)->special);
        page_header orig = *page_chdr(p);
        int fails = 0, compactions = 0;
        for (int it = 0; it < 3000; it++) {
            memcpy(before, p, PAGE_SIZE);
            uint32_t op = rnd() % 100;
            if (op < 45 || m.n == 0) {
                uint16_t len = random_len();
                int slot = (int)(rnd() % (uint32_t)(m.n + 1));
                random_rec(r, len);
                size_t freeb = page_free_space(p);
                int fits = page_need(len) <= freeb;
                int needs_compact = fits && page_contig_space(p) < page_need(len);
                int rc = page_insert(p, slot, r, len);
                assert_int_equal(rc, fits ? 0 : -1);
                if (rc == 0) {
                    model_insert(&m, slot, r, len);
                    compactions += needs_compact;
                } else {
                    assert_memory_equal(p, before, PAGE_SIZE);  /* a failed insert changes nothing */
                    fails++;
                }
            } else if (op < 70) {
                int slot = (int)(rnd() % (uint32_t)m.n);
                page_delete(p, slot);
                model_delete(&m, slot);
            } else if (op < 95) {
                int slot = (int)(rnd() % (uint32_t)m.n);
                uint16_t len = random_len();
                random_rec(r, len);
                int fits = len <= page_free_space(p) + m.len[slot];
                int rc = page_replace(p, slot, r, len);
                assert_int_equal(rc, fits ? 0 : -1);
                if (rc == 0)
                    model_replace(&m, slot, r, len);
                else
                    assert_memory_equal(p, before, PAGE_SIZE);
            } else if (op < 98) {
                page_compact(p);
                assert_int_equal(page_chdr(p)->frag, 0);
                assert_int_equal(page_chdr(p)->free_hi, PAGE_SIZE - model_bytes(&m));
                for (size_t i = page_chdr(p)->free_lo; i < page_chdr(p)->free_hi; i++)
                    assert_int_equal(p[i], 0);  /* no stale bytes left in the gap */
            } else {
                int from = (int)(rnd() % (uint32_t)(m.n + 1));
                page_truncate(p, from);
                while (m.n > from)
                    model_delete(&m, m.n - 1);
            }
            check_page(p, &m, &orig);
        }
        assert_true(fails > 0);         /* the page really filled up */
        assert_true(compactions > 0);   /* and inserts had to compact */
        /* empty it: everything comes back */
        page_truncate(p, 0);
        model_free(&m);
        check_page(p, &m, &orig);
        page_compact(p);
        assert_int_equal(page_free_space(p), PAGE_SIZE - PAGE_HEADER_SIZE);
        assert_int_equal(page_contig_space(p), PAGE_SIZE - PAGE_HEADER_SIZE);
    }
}

static void test_fill_exactly(void **state)
{
    (void)state;
    uint8_t p[PAGE_SIZE], r[PAGE_SIZE];
    memset(r, 0x5c, sizeof r);
    page_format(p, PGID(1, 1), PAGE_BTREE_LEAF, 1, 0);
    /* one record taking every free byte */
    uint16_t max = (uint16_t)(PAGE_SIZE - PAGE_HEADER_SIZE - PAGE_SLOT_SIZE);
    assert_int_equal(page_insert(p, 0, r, (uint16_t)(max + 1)), -1);
    assert_int_equal(page_insert(p, 0, r, max), 0);
    assert_int_equal(page_free_space(p), 0);
    assert_int_equal(page_insert(p, 0, r, 0), -1);  /* not even a slot */
    /* shrink it, then a new record fits only in the freed tail after compaction */
    assert_int_equal(page_replace(p, 0, r, 100), 0);
    assert_int_equal(page_contig_space(p), 0);
    assert_int_equal(page_free_space(p), max - 100);
    assert_int_equal(page_insert(p, 1, r, (uint16_t)(max - 100 - PAGE_SLOT_SIZE)), 0);
    assert_int_equal(page_free_space(p), 0);
    uint16_t len;
    page_record(p, 0, &len);
    assert_int_equal(len, 100);
    page_record(p, 1, &len);
    assert_int_equal(len, max - 100 - PAGE_SLOT_SIZE);
    /* grow record 0 into what deleting record 1 frees */
    page_delete(p, 1);
    assert_int_equal(page_replace(p, 0, r, max), 0);
    page_record(p, 0, &len);
    assert_int_equal(len, max);
    for (int i = 0; i < max; i++)
        assert_int_equal(page_record(p, 0, NULL)[i], 0x5c);
}

/* ---- page operations --------------------------------------------------------------- */

/* Apply one random operation to `direct` with the page_* calls and, encoded, to
 * `redo` with pageop_apply; both must agree on success and on every byte. */
static void one_roundtrip(uint8_t *direct, uint8_t *redo, pgid_t id, lsn_t lsn)
{
    uint8_t rec[MAXREC], op[PAGEOP_IMAGE_SIZE + 16];
    size_t n = 0;
    int ok = 1;
    int nslots = page_chdr(direct)->nslots;
    uint32_t kind = rnd() % 100;
    if (kind < 40 || nslots == 0) {
        uint16_t len = random_len();
        random_rec(rec, len);
        int slot = (int)(rnd() % (uint32_t)(nslots + 1));
        n = pageop_insert(op, sizeof op, slot, rec, len);
        assert_int_equal(n, (size_t)len + 5);
        assert_true(n <= PAGEOP_MAX(len));
        ok = page_insert(direct, slot, rec, len) == 0;
    } else if (kind < 60) {
        int slot = (int)(rnd() % (uint32_t)nslots);
        n = pageop_delete(op, sizeof op, slot);
        assert_int_equal(n, 3);
        page_delete(direct, slot);
    } else if (kind < 85) {
        uint16_t len = random_len();
        random_rec(rec, len);
        int slot = (int)(rnd() % (uint32_t)nslots);
        n = pageop_replace(op, sizeof op, slot, rec, len);
        ok = page_replace(direct, slot, rec, len) == 0;
    } else if (kind < 90) {
        int from = (int)(rnd() % (uint32_t)(nslots + 1));
        n = pageop_truncate(op, sizeof op, from);
        page_truncate(direct, from);
    } else if (kind < 97) {
        /* raw bytes: the B+tree links in the header */
        uint64_t link = rnd();
        uint16_t off = rnd() % 2 ? offsetof(page_header, prev) : offsetof(page_header, next);
        n = pageop_setbytes(op, sizeof op, off, &link, sizeof link);
        memcpy(direct + off, &link, sizeof link);
    } else if (kind < 99) {
        page_compact(direct);
        n = pageop_image(op, sizeof op, direct);  /* compaction travels as an image */
        assert_int_equal(n, PAGEOP_IMAGE_SIZE);
    } else {
        n = pageop_format(op, sizeof op, PAGE_BTREE_LEAF, 99, 0);
        page_format(direct, id, PAGE_BTREE_LEAF, 99, 0);
    }
    assert_true(n > 0);
    size_t used = pageop_apply(redo, id, op, n, lsn);
    if (ok) {
        assert_int_equal(used, n);
        page_hdr(direct)->lsn = lsn;  /* apply stamps the pageLSN */
    } else {
        assert_int_equal(used, 0);
    }
    assert_memory_equal(direct, redo, PAGE_SIZE);
}

static void test_pageop_roundtrip(void **state)
{
    (void)state;
    for (int seed = 1; seed <= 10; seed++) {
        rng_state = 0xD1B54A32D192ED03ull * (uint64_t)seed;
        uint8_t direct[PAGE_SIZE], redo[PAGE_SIZE], op[16];
        pgid_t id = PGID(2, (uint32_t)(100 + seed));
        /* both start from a formatted page, the redo one through PO_FORMAT */
        page_format(direct, id, PAGE_BTREE_LEAF, 5, 0);
        memset(redo, 0, sizeof redo);
        size_t n = pageop_format(op, sizeof op, PAGE_BTREE_LEAF, 5, 0);
        assert_int_equal(pageop_apply(redo, id, op, n, 1), n);
        page_hdr(direct)->lsn = 1;
        assert_memory_equal(direct, redo, PAGE_SIZE);
        for (lsn_t lsn = 2; lsn < 3000; lsn++)
            one_roundtrip(direct, redo, id, lsn);
    }
}

static void test_pageop_image_and_multi(void **state)
{
    (void)state;
    uint8_t a[PAGE_SIZE], b[PAGE_SIZE], buf[PAGEOP_IMAGE_SIZE + 64];
    page_format(a, PGID(1, 4), PAGE_ALLOC, 0, 0);
    uint8_t bits[32];
    memset(bits, 0xf0, sizeof bits);
    memcpy(a + 200, bits, sizeof bits);
    page_hdr(a)->lsn = 77;
    page_stamp(a);
    /* an image applied elsewhere keeps the target's id; lsn is the record's */
    memset(b, 0x11, sizeof b);
    assert_int_equal(pageop_image(buf, sizeof buf, a), PAGEOP_IMAGE_SIZE);
    assert_int_equal(pageop_image(buf, PAGEOP_IMAGE_SIZE - 1, a), 0);
    assert_int_equal(pageop_apply(b, PGID(1, 9), buf, PAGEOP_IMAGE_SIZE, 500), PAGEOP_IMAGE_SIZE);
    assert_int_equal(page_chdr(b)->id, PGID(1, 9));
    assert_int_equal(page_lsn(b), 500);
    assert_memory_equal(b + 24, a + 24, PAGE_SIZE - 24);

    /* several operations back to back, as a log record carries them */
    uint8_t rec1[10] = "abcdefghi", rec2[4] = "xyz";
    size_t n = 0;
    n += pageop_format(buf + n, sizeof buf - n, PAGE_BTREE_LEAF, 3, 0);
    n += pageop_insert(buf + n, sizeof buf - n, 0, rec1, sizeof rec1);
    n += pageop_insert(buf + n, sizeof buf - n, 0, rec2, sizeof rec2);
    n += pageop_delete(buf + n, sizeof buf - n, 1);
    size_t off = 0;
    while (off < n) {
        size_t used = pageop_apply(b, PGID(1, 9), buf + off, n - off, 600);
        assert_true(used > 0);
        off += used;
    }
    assert_int_equal(off, n);
    assert_int_equal(page_chdr(b)->nslots, 1);
    uint16_t len;
    assert_memory_equal(page_record(b, 0, &len), rec2, sizeof rec2);
    assert_int_equal(len, sizeof rec2);
    assert_int_equal(page_chdr(b)->owner, 3);
}

static void test_pageop_malformed(void **state)
{
    (void)state;
    uint8_t p[PAGE_SIZE], before[PAGE_SIZE], op[PAGEOP_IMAGE_SIZE + 8], big[3000];
    page_format(p, PGID(1, 3), PAGE_BTREE_LEAF, 1, 0);
    uint8_t rec[50];
    memset(rec, 7, sizeof rec);
    for (int i = 0; i < 3; i++)
        assert_int_equal(page_insert(p, i, rec, sizeof rec), 0);
    page_hdr(p)->lsn = 10;
    memcpy(before, p, PAGE_SIZE);
    memset(big, 1, sizeof big);

    /* every well-formed op, cut short by one byte or more, is rejected */
    size_t lens[7];
    uint8_t ops[7][PAGEOP_IMAGE_SIZE];
    lens[0] = pageop_format(ops[0], sizeof ops[0], PAGE_BTREE_LEAF, 1, 0);
    lens[1] = pageop_insert(ops[1], sizeof ops[1], 1, rec, sizeof rec);
    lens[2] = pageop_delete(ops[2], sizeof ops[2], 1);
    lens[3] = pageop_replace(ops[3], sizeof ops[3], 1, rec, 20);
    lens[4] = pageop_truncate(ops[4], sizeof ops[4], 1);
    lens[5] = pageop_setbytes(ops[5], sizeof ops[5], 40, rec, 8);
    lens[6] = pageop_image(ops[6], sizeof ops[6], p);
    for (int k = 0; k < 7; k++) {
        assert_true(lens[k] > 0);
        for (size_t cut = 0; cut < lens[k]; cut += (lens[k] > 64 ? 997 : 1)) {
            assert_int_equal(pageop_apply(p, PGID(1, 3), ops[k], cut, 99), 0);
            assert_memory_equal(p, before, PAGE_SIZE);
        }
    }
    /* encoders refuse a buffer that is too small */
    assert_int_equal(pageop_insert(op, 10, 0, rec, sizeof rec), 0);
    assert_int_equal(pageop_delete(op, 2, 0), 0);
    assert_int_equal(pageop_format(op, 7, PAGE_BTREE_LEAF, 1, 0), 0);

    op[0] = 0;
    assert_int_equal(pageop_apply(p, PGID(1, 3), op, 8, 99), 0);  /* unknown kind */
    op[0] = PO_IMAGE + 1;
    assert_int_equal(pageop_apply(p, PGID(1, 3), op, 8, 99), 0);
    /* raw bytes may not touch checksum, id or lsn, nor run off the page */
    size_t n = pageop_setbytes(op, sizeof op, 16, rec, 8);
    assert_int_equal(pageop_apply(p, PGID(1, 3), op, n, 99), 0);
    n = pageop_setbytes(op, sizeof op, 0, rec, 4);
    assert_int_equal(pageop_apply(p, PGID(1, 3), op, n, 99), 0);
    n = pageop_setbytes(op, sizeof op, PAGE_SIZE - 4, rec, 8);
    assert_int_equal(pageop_apply(p, PGID(1, 3), op, n, 99), 0);
    /* slots that do not exist */
    n = pageop_delete(op, sizeof op, 3);
    assert_int_equal(pageop_apply(p, PGID(1, 3), op, n, 99), 0);
    n = pageop_replace(op, sizeof op, 3, rec, 5);
    assert_int_equal(pageop_apply(p, PGID(1, 3), op, n, 99), 0);
    n = pageop_truncate(op, sizeof op, 4);
    assert_int_equal(pageop_apply(p, PGID(1, 3), op, n, 99), 0);
    n = pageop_insert(op, sizeof op, 5, rec, 5);
    assert_int_equal(pageop_apply(p, PGID(1, 3), op, n, 99), 0);
    /* records that do not fit */
    uint8_t bigop[PAGE_SIZE + 16];
    n = pageop_insert(bigop, sizeof bigop, 0, big, sizeof big);
    for (int i = 0; i < 2; i++)
        assert_int_equal(pageop_apply(p, PGID(1, 3), bigop, n, 99), n);
    memcpy(before, p, PAGE_SIZE);
    assert_int_equal(pageop_apply(p, PGID(1, 3), bigop, n, 100), 0);
    n = pageop_replace(bigop, sizeof bigop, 2, big, sizeof big);  /* a 50-byte slot */
    assert_int_equal(pageop_apply(p, PGID(1, 3), bigop, n, 100), 0);
    assert_memory_equal(p, before, PAGE_SIZE);  /* nothing changed, not even the lsn */
    assert_int_equal(page_lsn(p), 99);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_format_and_checksum),
        cmocka_unit_test(test_random_slotted_ops),
        cmocka_unit_test(test_fill_exactly),
        cmocka_unit_test(test_pageop_roundtrip),
        cmocka_unit_test(test_pageop_image_and_multi),
        cmocka_unit_test(test_pageop_malformed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
