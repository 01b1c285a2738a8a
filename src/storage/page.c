/* page.c — page header, checksum and slotted-record operations (see page.h). */
#include "storage/page.h"

#include "util/crc32c.h"

void page_format(void *page, pgid_t id, enum page_type type, uint32_t owner, uint16_t level)
{
    memset(page, 0, PAGE_SIZE);
    page_header *h = page_hdr(page);
    h->format = PAGE_FORMAT;
    h->type = (uint8_t)type;
    h->id = id;
    h->owner = owner;
    h->level = level;
    h->free_lo = PAGE_HEADER_SIZE;
    h->free_hi = PAGE_SIZE;
}

uint32_t page_checksum(const void *page)
{
    return crc32c(0, (const uint8_t *)page + 4, PAGE_SIZE - 4);
}

void page_stamp(void *page)
{
    page_hdr(page)->checksum = page_checksum(page);
}

int page_is_zero(const void *page)
{
    const uint64_t *w = page;
    for (size_t i = 0; i < PAGE_SIZE / 8; i++)
        if (w[i])
            return 0;
    return 1;
}

int page_verify(const void *page, pgid_t id, uint32_t *expected, uint32_t *actual, pgid_t *found_id)
{
    const page_header *h = page_chdr(page);
    if (h->checksum == 0 && h->type == PAGE_UNUSED && page_is_zero(page))
        return 0;
    uint32_t sum = page_checksum(page);
    if (sum != h->checksum) {
        if (expected)
            *expected = h->checksum;
        if (actual)
            *actual = sum;
        return 1;
    }
    if (h->id != id) {
        if (found_id)
            *found_id = h->id;
        return 2;
    }
    return 0;
}

static uint16_t *slot_at(void *page, int slot)
{
    return (uint16_t *)((uint8_t *)page + PAGE_HEADER_SIZE + (size_t)slot * PAGE_SLOT_SIZE);
}

const uint8_t *page_record(const void *page, int slot, uint16_t *len)
{
    const uint16_t *s = slot_at((void *)page, slot);
    if (len)
        *len = s[1];
    return (const uint8_t *)page + s[0];
}

size_t page_contig_space(const void *page)
{
    const page_header *h = page_chdr(page);
    return (size_t)(h->free_hi - h->free_lo);
}

size_t page_free_space(const void *page)
{
    return page_contig_space(page) + page_chdr(page)->frag;
}

void page_compact(void *page)
{
    page_header *h = page_hdr(page);
    uint8_t tmp[PAGE_SIZE];
    size_t top = PAGE_SIZE;
    for (int i = 0; i < h->nslots; i++) {
        uint16_t *s = slot_at(page, i);
        top -= s[1];
        memcpy(tmp + top, (uint8_t *)page + s[0], s[1]);
        s[0] = (uint16_t)top;
    }
    memcpy((uint8_t *)page + top, tmp + top, PAGE_SIZE - top);
    /* zero the gap so page images compress and never leak stale bytes */
    memset((uint8_t *)page + h->free_lo, 0, top - h->free_lo);
    h->free_hi = (uint16_t)top;
    h->frag = 0;
}

/* Room for `len` record bytes plus `slots` new slots, compacting if needed. */
static int make_room(void *page, size_t len, int slots)
{
    size_t need = len + (size_t)slots * PAGE_SLOT_SIZE;
    if (page_contig_space(page) >= need)
        return 0;
    if (page_free_space(page) < need)
        return -1;
    page_compact(page);
    return 0;
}

int page_insert(void *page, int slot, const void *rec, uint16_t len)
{
    page_header *h = page_hdr(page);
    if (slot < 0 || slot > h->nslots || make_room(page, len, 1) < 0)
        return -1;
    uint16_t *s = slot_at(page, slot);
    memmove(s + 2, s, (size_t)(h->nslots - slot) * PAGE_SLOT_SIZE);
    h->free_hi -= len;
    memcpy((uint8_t *)page + h->free_hi, rec, len);
    s[0] = h->free_hi;
    s[1] = len;
    h->nslots++;
    h->free_lo += PAGE_SLOT_SIZE;
    return 0;
}

void page_delete(void *page, int slot)
{
    page_header *h = page_hdr(page);
    uint16_t *s = slot_at(page, slot);
    if (s[0] == h->free_hi)
        h->free_hi += s[1];
    else
        h->frag += s[1];
    memmove(s, s + 2, (size_t)(h->nslots - slot - 1) * PAGE_SLOT_SIZE);
    h->nslots--;
    h->free_lo -= PAGE_SLOT_SIZE;
    memset((uint8_t *)page + h->free_lo, 0, PAGE_SLOT_SIZE);
}

int page_replace(void *page, int slot, const void *rec, uint16_t len)
{
    page_header *h = page_hdr(page);
    uint16_t *s = slot_at(page, slot);
    if (len <= s[1]) {
        /* shrink in place: the tail becomes fragmentation */
        memmove((uint8_t *)page + s[0], rec, len);
        h->frag += s[1] - len;
        s[1] = len;
        return 0;
    }
    if (page_free_space(page) + s[1] < len)
        return -1;
    /* free the old bytes first so compaction can reuse them */
    h->frag += s[1];
    s[1] = 0;
    if (page_contig_space(page) < len)
        page_compact(page);
    s = slot_at(page, slot);
    h->free_hi -= len;
    memcpy((uint8_t *)page + h->free_hi, rec, len);
    s[0] = h->free_hi;
    s[1] = len;
    return 0;
}

void page_truncate(void *page, int from)
{
    page_header *h = page_hdr(page);
    while (h->nslots > from)
        page_delete(page, h->nslots - 1);
}
