/*
 * backup_pages.c — reading a database's pages for a data backup while it is
 * in use.
 *
 * Which pages: those allocated in the allocation bitmaps as the buffer pool
 * has them right after the backup's checkpoint (the current bitmaps, read
 * under their latches). A page allocated later is formatted by a logged
 * whole-page operation inside the backup's log range, so redo rebuilds it.
 * A differential reads only the allocated pages of the extents a copy of the
 * changed-extent map marks (storage/dcm.h), and writes those whose pageLSN
 * is at or above its base.
 *
 * How: straight from the data files, 1 MiB at a time, with no latch held —
 * writers go on. Every page on disk is at least as new as at the checkpoint
 * (the checkpoint flushed what was dirty before its redo point; later writes
 * only add changes), which is all the restore's redo needs: pageLSNs make the
 * replay of newer records idempotent. A page the buffer pool was writing just
 * then may come back torn; its checksum says so, and it is read again through
 * the buffer pool under its S latch, which gives a whole page of some moment.
 * That page may be newer than the durable log; the caller flushes the log
 * after the copy, before it notes LastLSN.
 */
#include "backup/backup_int.h"

#include <stdio.h>
#include <stdlib.h>

#include "access/space.h"
#include "os/fio.h"

#define RUN_PAGES 128   /* one read: at most 1 MiB */
#define GAP_PAGES 8     /* unwanted pages read through between two wanted ones */

void bk_progress_add(bk_progress *p, uint64_t n)
{
    p->done += n;
    if (!p->step || !p->fn || !p->total)
        return;
    int pct = (int)(p->done * 100 / p->total);
    if (pct > 100)
        pct = 100;
    while (p->next <= pct && p->next <= 100) {
        p->fn(p->ctx, p->next);
        p->next += p->step;
    }
}

/* Allocation bits of one interval, copied under the bitmap's S latch. */
static int load_bits(database *db, uint16_t file, uint32_t base, uint8_t *bits, hdb_err *err)
{
    bp_frame *f = bp_fix(db->bp, db->df, PGID(file, base + 1), BP_SHARED, 0, err);
    if (!f)
        return -1;
    const uint8_t *p = bp_page(f);
    if (page_chdr(p)->type == PAGE_ALLOC)
        memcpy(bits, p + PAGE_HEADER_SIZE, SPACE_INTERVAL / 8);
    else
        memset(bits, 0, SPACE_INTERVAL / 8);
    bp_unfix(f);
    return 0;
}

static int bit_on(const uint8_t *bits, uint32_t i) { return (bits[i / 8] >> (i % 8)) & 1; }

uint64_t bk_count_pages(database *db, const dcm *changed)
{
    space_ctx sc = { db->bp, db->df };
    uint16_t ids[DF_MAX_FILES];
    int n = df_file_ids(db->df, ids, DF_MAX_FILES);
    uint64_t sum = 0;
    uint8_t *bits = changed ? malloc(SPACE_INTERVAL / 8) : NULL;
    for (int i = 0; i < n; i++) {
        if (!changed || !bits) {
            uint64_t used = 0, total = 0;
            if (space_usage(&sc, ids[i], &used, &total, NULL) == 0)
                sum += used;
            continue;
        }
        /* a differential: allocated pages of the changed extents */
        uint32_t pages = df_file_pages(db->df, ids[i]);
        for (uint32_t base = 0; base < pages; base += SPACE_INTERVAL) {
            hdb_err e;
            if (load_bits(db, ids[i], base, bits, &e) < 0)
                break;
            uint32_t lim = pages - base < SPACE_INTERVAL ? pages - base : SPACE_INTERVAL;
            for (uint32_t p = 0; p < lim; p += DCM_EXTENT_PAGES) {
                if (!bits[p / 8] || !dcm_changed(changed, PGID(ids[i], base + p)))
                    continue;
                sum += (uint64_t)__builtin_popcount(bits[p / 8]);
            }
        }
    }
    free(bits);
    return sum;
}

/* A page whose direct read failed its checks: again through the pool. */
static int reread(database *db, pgid_t id, uint8_t *out, hdb_err *err)
{
    hdb_err e;
    hdb_err_clear(&e);
    bp_frame *f = bp_fix(db->bp, db->df, id, BP_SHARED, 0, &e);
    if (!f) {
        char msg[HDB_ERR_MSG_MAX];
        snprintf(msg, sizeof msg, "BACKUP detected an error on page (%u:%u) in file '%.300s'. %.600s",
                 PGID_FILE(id), PGID_PAGE(id), df_file(db->df, (uint16_t)PGID_FILE(id))->path, e.msg);
        return hdb_raise_text(err, 3043, 16, 1, msg);
    }
    memcpy(out, bp_page(f), PAGE_SIZE);
    bp_unfix(f);
    /* the pool's copy is the page as of now; stamp it as a write would */
    if (!page_is_zero(out))
        page_stamp(out);
    return 0;
}

/* Pages of the window [base + run, + n) to copy: allocated ones and, for a
 * differential, only those in an extent the changed-extent map has marked.
 * Windows start on extent boundaries (SPACE_INTERVAL and RUN_PAGES are
 * multiples of 8). */
static void pick(const uint8_t *bits, uint16_t file, uint32_t base, uint32_t run, uint32_t n, const dcm *changed,
                 uint8_t *want)
{
    int in_changed = 1;
    for (uint32_t i = 0; i < n; i++) {
        if (changed && i % DCM_EXTENT_PAGES == 0)
            in_changed = dcm_changed(changed, PGID(file, base + run + i));
        want[i] = in_changed && bit_on(bits, run + i);
    }
}

/* Read pages [p0, p0 + cnt) with one pread and copy the wanted ones. */
static int copy_span(database *db, media_writer *w, fio_file *f, uint16_t file, uint32_t p0, uint32_t cnt,
                     const uint8_t *want, lsn_t diff_base, uint8_t *buf, uint64_t *count, uint64_t *done,
                     hdb_err *err)
{
    if (fio_pread(f, buf, (size_t)cnt * PAGE_SIZE, (uint64_t)p0 * PAGE_SIZE, err) < 0)
        return -1;
    for (uint32_t i = 0; i < cnt; i++) {
        if (!want[i])
            continue;
        pgid_t id = PGID(file, p0 + i);
        uint8_t *pg = buf + (size_t)i * PAGE_SIZE;
        if (page_verify(pg, id, NULL, NULL, NULL) != 0 && reread(db, id, pg, err) < 0)
            return -1;
        (*done)++;
        /* the map is per extent; the pageLSN says which of its pages changed */
        if (diff_base && page_lsn(pg) < diff_base)
            continue;
        if (media_write_page(w, file, p0 + i, pg, err) < 0)
            return -1;
        (*count)++;
    }
    return 0;
}

static int copy_file(database *db, media_writer *w, uint16_t file, lsn_t diff_base, const dcm *changed,
                     bk_progress *prog, uint8_t *bits, uint8_t *buf, uint64_t *count, uint64_t *read,
                     hdb_err *err)
{
    const df_file_desc *d = df_file(db->df, file);
    fio_file *f = fio_open(d->path, FIO_RDONLY, err);
    if (!f)
        return -1;
    uint32_t pages = df_file_pages(db->df, file);
    uint8_t want[RUN_PAGES];
    int rc = 0;
    for (uint32_t base = 0; base < pages && rc == 0; base += SPACE_INTERVAL) {
        if ((rc = load_bits(db, file, base, bits, err)) < 0)
            break;
        uint32_t lim = pages - base < SPACE_INTERVAL ? pages - base : SPACE_INTERVAL;
        for (uint32_t run = 0; run < lim && rc == 0; run += RUN_PAGES) {
            uint32_t n = lim - run < RUN_PAGES ? lim - run : RUN_PAGES;
            pick(bits, file, base, run, n, changed, want);
            /* one read per group of wanted pages; a gap of up to GAP_PAGES
             * is read through rather than split into two reads */
            uint64_t done = 0;
            uint32_t first = n, last = 0;
            for (uint32_t i = 0; i <= n && rc == 0; i++) {
                if (i < n && !want[i])
                    continue;
                if (first < n && (i == n || i - last > GAP_PAGES + 1)) {
                    uint32_t cnt = last - first + 1;
                    rc = copy_span(db, w, f, file, base + run + first, cnt, want + first, diff_base, buf,
                                   count, &done, err);
                    *read += cnt;
                    first = n;
                }
                if (i < n) {
                    if (first == n)
                        first = i;
                    last = i;
                }
            }
            bk_progress_add(prog, done);
        }
    }
    fio_close(f);
    return rc;
}

int bk_copy_pages(database *db, media_writer *w, lsn_t diff_base, const dcm *changed, bk_progress *prog,
                  uint16_t *ids, uint64_t *pages_per_file, int *nfiles, uint64_t *pages_read, hdb_err *err)
{
    int n = df_file_ids(db->df, ids, DF_MAX_FILES);
    uint8_t *bits = malloc(SPACE_INTERVAL / 8);
    uint8_t *buf = malloc((size_t)RUN_PAGES * PAGE_SIZE);
    int rc = 0;
    if (!bits || !buf)
        rc = hdb_raise_text(err, 701, 19, 1, "There is insufficient system memory to run this query.");
    for (int i = 0; i < n && rc == 0; i++) {
        pages_per_file[i] = 0;
        if (df_get_state(db->df, ids[i]) != DF_ONLINE)
            continue;
        rc = copy_file(db, w, ids[i], diff_base, changed, prog, bits, buf, &pages_per_file[i], pages_read, err);
    }
    *nfiles = n;
    free(bits);
    free(buf);
    return rc;
}
