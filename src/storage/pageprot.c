/* pageprot.c — page protection on disk: checksum, torn bits, none (see pageprot.h). */
#include "storage/pageprot.h"

#define SECTORS (PAGE_SIZE / PAGEPROT_SECTOR)

/* The byte of sector s (1..15) whose low 2 bits carry the torn pattern: its
 * last, so a sector that reached the disk only in part is caught as well. */
static uint8_t *marker(void *page, int s) { return (uint8_t *)page + (size_t)s * PAGEPROT_SECTOR + PAGEPROT_SECTOR - 1; }

unsigned pageprot_torn_pattern(lsn_t lsn)
{
    /* every version of a page has a new pageLSN; spread it, then 1..3 */
    uint64_t x = lsn * 0x9e3779b97f4a7c15ull;
    return (unsigned)(x >> 40) % 3u + 1u;
}

static int is_torn_sealed(const page_header *h)
{
    return (h->flags & PAGE_FLAG_PROT) == PAGE_FLAG_TORN_BITS;
}

static int is_unprotected(const page_header *h)
{
    return (h->flags & PAGE_FLAG_PROT) == PAGE_FLAG_NO_CHECKSUM && h->checksum == PAGEPROT_NONE_MAGIC;
}

void pageprot_seal(void *page, int mode)
{
    page_header *h = page_hdr(page);
    h->flags &= (uint8_t)~PAGE_FLAG_PROT;
    h->checksum = 0;
    if (page_is_zero(page))
        return;   /* never written: stays "unformatted" */
    if (mode == PAGE_VERIFY_NONE) {
        h->flags |= PAGE_FLAG_NO_CHECKSUM;
        h->checksum = PAGEPROT_NONE_MAGIC;
    } else if (mode == PAGE_VERIFY_TORN) {
        unsigned p = pageprot_torn_pattern(h->lsn);
        uint32_t saved = (uint32_t)p << 30;
        for (int s = 1; s < SECTORS; s++) {
            uint8_t *b = marker(page, s);
            saved |= (uint32_t)(*b & 3u) << (2 * (s - 1));
            *b = (uint8_t)((*b & ~3u) | p);
        }
        h->flags |= PAGE_FLAG_TORN_BITS;
        h->checksum = saved;
    } else {
        page_stamp(page);
    }
}

/* Torn bits: check (unless NONE), then put the saved bits back. */
static int open_torn(void *page, int mode, pageprot_result *r)
{
    page_header *h = page_hdr(page);
    uint32_t saved = h->checksum;
    unsigned p = saved >> 30;
    uint32_t expected = 0, actual = p;
    int torn = p == 0;
    for (int s = 0; s < SECTORS; s++)
        expected |= (uint32_t)p << (2 * s);
    for (int s = 1; s < SECTORS; s++) {
        unsigned m = *marker(page, s) & 3u;
        actual |= (uint32_t)m << (2 * s);
        torn |= m != p;
    }
    if (torn && mode != PAGE_VERIFY_NONE) {
        r->expected = expected;
        r->actual = actual;
        return PAGEPROT_TORN;
    }
    for (int s = 1; s < SECTORS; s++) {
        uint8_t *b = marker(page, s);
        *b = (uint8_t)((*b & ~3u) | ((saved >> (2 * (s - 1))) & 3u));
    }
    h->flags &= (uint8_t)~PAGE_FLAG_PROT;
    page_stamp(page);
    return PAGEPROT_OK;
}

int pageprot_open(void *page, pgid_t id, int mode, pageprot_result *r)
{
    pageprot_result dummy;
    if (!r)
        r = &dummy;
    r->expected = r->actual = 0;
    r->found_id = 0;
    page_header *h = page_hdr(page);
    if (is_torn_sealed(h)) {
        int rc = open_torn(page, mode, r);
        if (rc != PAGEPROT_OK)
            return rc;
    } else if (!is_unprotected(h) && mode != PAGE_VERIFY_NONE) {
        uint32_t want = 0, got = 0;
        pgid_t found = 0;
        int v = page_verify(page, id, &want, &got, &found);
        if (v == 1) {
            r->expected = want;
            r->actual = got;
            return PAGEPROT_BAD_CHECKSUM;
        }
    }
    /* the self id is checked whatever the option, as in SQL Server: a page
     * read from the wrong place is never returned */
    if (h->id != id && !page_is_zero(page)) {
        r->found_id = h->id;
        return PAGEPROT_WRONG_ID;
    }
    return PAGEPROT_OK;
}

unsigned pageprot_flag_bits(const void *page)
{
    const page_header *h = page_chdr(page);
    if (is_torn_sealed(h))
        return 0x100;
    if (is_unprotected(h) || page_is_zero(page))
        return 0;
    return 0x200;
}
