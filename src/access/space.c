/* space.c — allocation bitmaps (see space.h). */
#include "access/space.h"

#include <string.h>

#include "storage/pageop.h"

static pgid_t bitmap_page(uint16_t file, uint32_t page)
{
    return PGID(file, (page / SPACE_INTERVAL) * SPACE_INTERVAL + 1);
}

/* Set or clear page `page`'s bit on the latched bitmap frame through m. */
static int set_bit(mtr *m, bp_frame *bf, uint32_t page, int on, hdb_err *err)
{
    uint32_t bit = page % SPACE_INTERVAL;
    uint8_t *bytes = (uint8_t *)bp_page(bf) + PAGE_HEADER_SIZE;
    uint8_t v = bytes[bit / 8];
    v = on ? (uint8_t)(v | (1u << (bit % 8))) : (uint8_t)(v & ~(1u << (bit % 8)));
    uint8_t op[16];
    size_t n = pageop_setbytes(op, sizeof op, (uint16_t)(PAGE_HEADER_SIZE + bit / 8), &v, 1);
    return mtr_add(m, bf, op, n, err);
}

int space_format_file(const space_ctx *sc, mtr *m, uint16_t file_id, uint16_t fg_id, hdb_err *err)
{
    bp_frame *hf = bp_fix(sc->bp, sc->df, PGID(file_id, 0), BP_EXCL, BP_NOREAD, err);
    if (!hf)
        return -1;
    if (mtr_own(m, hf, err) < 0) {
        bp_unfix(hf);
        return -1;
    }
    uint8_t op[64];
    size_t n = pageop_format(op, sizeof op, PAGE_FILE_HEADER, 0, 0);
    if (mtr_add(m, hf, op, n, err) < 0)
        return -1;
    uint16_t ids[2] = { file_id, fg_id };
    n = pageop_setbytes(op, sizeof op, 56, ids, sizeof ids);   /* header 'special' */
    if (mtr_add(m, hf, op, n, err) < 0)
        return -1;
    bp_frame *bf = bp_fix(sc->bp, sc->df, PGID(file_id, 1), BP_EXCL, BP_NOREAD, err);
    if (!bf)
        return -1;
    if (mtr_own(m, bf, err) < 0) {
        bp_unfix(bf);
        return -1;
    }
    n = pageop_format(op, sizeof op, PAGE_ALLOC, 0, 0);
    if (mtr_add(m, bf, op, n, err) < 0)
        return -1;
    uint8_t used = file_id == 1 ? 0x07 : 0x03;
    n = pageop_setbytes(op, sizeof op, PAGE_HEADER_SIZE, &used, 1);
    return mtr_add(m, bf, op, n, err);
}

/* Fix (and format if this interval is new) the bitmap covering `page`. */
static bp_frame *fix_bitmap(const space_ctx *sc, mtr *m, uint16_t file, uint32_t page, hdb_err *err)
{
    pgid_t bid = bitmap_page(file, page);
    for (int i = 0; i < m->npages; i++)
        if (bp_id(m->pages[i].frame) == bid)
            return m->pages[i].frame;   /* already latched by this mtr */
    if (df_ensure_pages(sc->df, file, PGID_PAGE(bid) + 1, err) < 0)
        return NULL;
    bp_frame *bf = bp_fix(sc->bp, sc->df, bid, BP_EXCL, 0, err);
    if (!bf)
        return NULL;
    /* Only a bitmap never written (all zero, past the first interval, whose
     * bitmap is formatted with the file) may be formatted below. Anything
     * else is damage that passed the storage checks (an all-zero page reads
     * as "unformatted"): formatting it would hand out pages in use. The same
     * rule as DBCC's 8946 (engine/dbcc_check.c). */
    int type = page_chdr(bp_page(bf))->type;
    if (type != PAGE_ALLOC && (PGID_PAGE(bid) < SPACE_INTERVAL || !page_is_zero(bp_page(bf)))) {
        bp_unfix(bf);
        hdb_raise(err, 8946, (unsigned)file, PGID_PAGE(bid), "allocation map", type);
        return NULL;
    }
    if (mtr_own(m, bf, err) < 0) {
        bp_unfix(bf);
        return NULL;
    }
    if (page_chdr(bp_page(bf))->type != PAGE_ALLOC) {
        uint8_t op[32];
        size_t n = pageop_format(op, sizeof op, PAGE_ALLOC, 0, 0);
        if (mtr_add(m, bf, op, n, err) < 0)
            return NULL;
        uint8_t self = 1u << 1;   /* the bitmap page itself (k*I + 1) */
        n = pageop_setbytes(op, sizeof op, PAGE_HEADER_SIZE, &self, 1);
        if (mtr_add(m, bf, op, n, err) < 0)
            return NULL;
    }
    return bf;
}

/* Find a free bit in the bitmap: near `near_bit` (same extent) first, then a
 * free extent, then any free bit. -1 if the interval is full. */
static int64_t find_free(const uint8_t *bits, int64_t near_bit, uint32_t limit)
{
    uint32_t nbytes = (limit + 7) / 8;
    if (near_bit >= 0) {
        uint32_t b = (uint32_t)near_bit / 8;
        if (b < nbytes && bits[b] != 0xFF)
            for (int k = 0; k < 8; k++)
                if (!(bits[b] & (1u << k)) && b * 8 + (uint32_t)k < limit)
                    return b * 8 + k;
    }
    for (uint32_t b = 0; b < nbytes; b++)
        if (bits[b] == 0 && b * 8 < limit)
            return (int64_t)b * 8;
    for (uint32_t b = 0; b < nbytes; b++)
        if (bits[b] != 0xFF)
            for (int k = 0; k < 8; k++)
                if (!(bits[b] & (1u << k)) && b * 8 + (uint32_t)k < limit)
                    return b * 8 + k;
    return -1;
}

/* Try to allocate in one file; 0 = none free there (and it cannot grow). */
static bp_frame *alloc_in_file(const space_ctx *sc, mtr *m, uint16_t file, pgid_t hint, hdb_err *err, int *tried_grow)
{
    const df_file_desc *d = df_file(sc->df, file);
    uint32_t max = d->max_pages ? d->max_pages : UINT32_MAX;
    uint32_t start = (hint && PGID_FILE(hint) == file) ? PGID_PAGE(hint) : 0;
    for (uint32_t base = (start / SPACE_INTERVAL) * SPACE_INTERVAL;; base += SPACE_INTERVAL) {
        if (base >= max)
            return NULL;
        bp_frame *bf = fix_bitmap(sc, m, file, base, err);
        if (!bf)
            return NULL;
        const uint8_t *bits = (const uint8_t *)bp_page(bf) + PAGE_HEADER_SIZE;
        uint32_t limit = max - base < SPACE_INTERVAL ? max - base : SPACE_INTERVAL;
        int64_t near_bit = (start >= base && start < base + SPACE_INTERVAL) ? (int64_t)(start - base) : -1;
        int64_t bit = find_free(bits, near_bit, limit);
        if (bit < 0)
            continue;
        uint32_t page = base + (uint32_t)bit;
        if (page >= df_file_pages(sc->df, file)) {
            *tried_grow = 1;
            if (df_ensure_pages(sc->df, file, page + 1, err) < 0)
                return NULL;
        }
        if (set_bit(m, bf, page, 1, err) < 0)
            return NULL;
        bp_frame *f = bp_fix(sc->bp, sc->df, PGID(file, page), BP_EXCL, BP_NOREAD, err);
        if (!f)
            return NULL;
        if (mtr_own(m, f, err) < 0) {
            bp_unfix(f);
            return NULL;
        }
        return f;
    }
}

bp_frame *space_alloc(const space_ctx *sc, mtr *m, uint16_t fg_id, pgid_t hint, hdb_err *err)
{
    uint16_t ids[DF_MAX_FILES];
    int n = df_file_ids(sc->df, ids, DF_MAX_FILES);
    /* the hint's file first, then every other file of the filegroup */
    uint16_t order[DF_MAX_FILES];
    int k = 0;
    if (hint && df_file(sc->df, (uint16_t)PGID_FILE(hint)) &&
        df_file(sc->df, (uint16_t)PGID_FILE(hint))->fg_id == fg_id)
        order[k++] = (uint16_t)PGID_FILE(hint);
    for (int i = 0; i < n; i++)
        if (df_file(sc->df, ids[i])->fg_id == fg_id && !(k && order[0] == ids[i]) &&
            df_get_state(sc->df, ids[i]) == DF_ONLINE)
            order[k++] = ids[i];
    hdb_err last;
    hdb_err_clear(&last);
    for (int i = 0; i < k; i++) {
        int tried_grow = 0;
        hdb_err e;
        hdb_err_clear(&e);
        bp_frame *f = alloc_in_file(sc, m, order[i], i == 0 ? hint : 0, &e, &tried_grow);
        if (f)
            return f;
        if (e.number && e.number != 1105) {
            if (err)
                *err = e;
            return NULL;
        }
        if (e.number)
            last = e;
    }
    if (last.number) {
        if (err)
            *err = last;
        return NULL;
    }
    hdb_raise(err, 1105, "(allocation)", df_db_name(sc->df), fg_id == 1 ? "PRIMARY" : "filegroup");
    return NULL;
}

int space_free(const space_ctx *sc, mtr *m, pgid_t id, hdb_err *err)
{
    bp_frame *bf = fix_bitmap(sc, m, (uint16_t)PGID_FILE(id), PGID_PAGE(id), err);
    if (!bf)
        return -1;
    return set_bit(m, bf, PGID_PAGE(id), 0, err);
}

int space_set_allocated(const space_ctx *sc, mtr *m, pgid_t id, int on, hdb_err *err)
{
    bp_frame *bf = fix_bitmap(sc, m, (uint16_t)PGID_FILE(id), PGID_PAGE(id), err);
    if (!bf)
        return -1;
    return set_bit(m, bf, PGID_PAGE(id), on, err);
}

int space_is_allocated(const space_ctx *sc, pgid_t id, hdb_err *err)
{
    uint16_t file = (uint16_t)PGID_FILE(id);
    uint32_t page = PGID_PAGE(id);
    pgid_t bid = bitmap_page(file, page);
    if (PGID_PAGE(bid) >= df_file_pages(sc->df, file))
        return 0;
    bp_frame *bf = bp_fix(sc->bp, sc->df, bid, BP_SHARED, 0, err);
    if (!bf)
        return -1;
    uint32_t bit = page % SPACE_INTERVAL;
    int on = (((const uint8_t *)bp_page(bf))[PAGE_HEADER_SIZE + bit / 8] >> (bit % 8)) & 1;
    bp_unfix(bf);
    return on;
}

int space_usage(const space_ctx *sc, uint16_t file_id, uint64_t *used, uint64_t *total, hdb_err *err)
{
    uint32_t pages = df_file_pages(sc->df, file_id);
    *total = pages;
    *used = 0;
    for (uint32_t base = 0; base < pages; base += SPACE_INTERVAL) {
        bp_frame *bf = bp_fix(sc->bp, sc->df, PGID(file_id, base + 1), BP_SHARED, 0, err);
        if (!bf)
            return -1;
        const uint8_t *bits = (const uint8_t *)bp_page(bf) + PAGE_HEADER_SIZE;
        for (uint32_t b = 0; b < SPACE_INTERVAL / 8; b++)
            *used += (uint64_t)__builtin_popcount(bits[b]);
        bp_unfix(bf);
    }
    return 0;
}
