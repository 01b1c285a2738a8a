/* pageop.c — encoding and applying physical page operations (see pageop.h). */
#include "storage/pageop.h"

#include <string.h>

static uint8_t *put16(uint8_t *p, uint16_t v) { memcpy(p, &v, 2); return p + 2; }
static uint8_t *put32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); return p + 4; }
static uint16_t get16(const uint8_t *p) { uint16_t v; memcpy(&v, p, 2); return v; }
static uint32_t get32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return v; }

size_t pageop_format(uint8_t *out, size_t cap, enum page_type type, uint32_t owner, uint16_t level)
{
    if (cap < 8)
        return 0;
    uint8_t *p = out;
    *p++ = PO_FORMAT;
    *p++ = (uint8_t)type;
    p = put32(p, owner);
    p = put16(p, level);
    return (size_t)(p - out);
}

static size_t slot_bytes(uint8_t *out, size_t cap, uint8_t op, int slot, const void *rec, uint16_t len)
{
    if (cap < (size_t)len + 5)
        return 0;
    uint8_t *p = out;
    *p++ = op;
    p = put16(p, (uint16_t)slot);
    p = put16(p, len);
    memcpy(p, rec, len);
    return (size_t)(p - out) + len;
}

size_t pageop_insert(uint8_t *out, size_t cap, int slot, const void *rec, uint16_t len)
{
    return slot_bytes(out, cap, PO_INSERT, slot, rec, len);
}

size_t pageop_replace(uint8_t *out, size_t cap, int slot, const void *rec, uint16_t len)
{
    return slot_bytes(out, cap, PO_REPLACE, slot, rec, len);
}

size_t pageop_setbytes(uint8_t *out, size_t cap, uint16_t offset, const void *bytes, uint16_t len)
{
    return slot_bytes(out, cap, PO_SETBYTES, offset, bytes, len);
}

static size_t slot_only(uint8_t *out, size_t cap, uint8_t op, int slot)
{
    if (cap < 3)
        return 0;
    out[0] = op;
    put16(out + 1, (uint16_t)slot);
    return 3;
}

size_t pageop_delete(uint8_t *out, size_t cap, int slot) { return slot_only(out, cap, PO_DELETE, slot); }
size_t pageop_truncate(uint8_t *out, size_t cap, int from) { return slot_only(out, cap, PO_TRUNCATE, from); }

size_t pageop_image(uint8_t *out, size_t cap, const void *page)
{
    if (cap < PAGEOP_IMAGE_SIZE)
        return 0;
    out[0] = PO_IMAGE;
    memcpy(out + 1, page, PAGE_SIZE);
    return PAGEOP_IMAGE_SIZE;
}

size_t pageop_apply(void *page, pgid_t id, const uint8_t *op, size_t len, lsn_t lsn)
{
    if (len < 1)
        return 0;
    size_t used = 0;
    page_header *h = page_hdr(page);
    switch (op[0]) {
    case PO_FORMAT:
        if (len < 8)
            return 0;
        page_format(page, id, (enum page_type)op[1], get32(op + 2), get16(op + 6));
        used = 8;
        break;
    case PO_INSERT:
    case PO_REPLACE:
    case PO_SETBYTES: {
        if (len < 5)
            return 0;
        uint16_t a = get16(op + 1), n = get16(op + 3);
        if (len < (size_t)n + 5)
            return 0;
        if (op[0] == PO_SETBYTES) {
            if ((size_t)a + n > PAGE_SIZE || a < 24)  /* never the checksum/id/lsn */
                return 0;
            memcpy((uint8_t *)page + a, op + 5, n);
        } else if (op[0] == PO_INSERT) {
            if (page_insert(page, a, op + 5, n) < 0)
                return 0;
        } else {
            if (a >= h->nslots || page_replace(page, a, op + 5, n) < 0)
                return 0;
        }
        used = (size_t)n + 5;
        break;
    }
    case PO_DELETE:
    case PO_TRUNCATE: {
        if (len < 3)
            return 0;
        uint16_t s = get16(op + 1);
        if (op[0] == PO_DELETE) {
            if (s >= h->nslots)
                return 0;
            page_delete(page, s);
        } else {
            if (s > h->nslots)
                return 0;
            page_truncate(page, s);
        }
        used = 3;
        break;
    }
    case PO_IMAGE:
        if (len < PAGEOP_IMAGE_SIZE)
            return 0;
        memcpy(page, op + 1, PAGE_SIZE);
        h->id = id;
        used = PAGEOP_IMAGE_SIZE;
        break;
    default:
        return 0;
    }
    h->lsn = lsn;
    return used;
}
