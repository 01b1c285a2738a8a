/*
 * dcm.h — the changed-extent map (SQL Server's DCM): one bit per extent of 8
 * pages, set when any page of the extent changes. A differential backup reads
 * only the extents whose bit is set.
 *
 * This module is the mechanism only: an in-memory bitmap that writers set with
 * one atomic OR, two generations so that a full backup can start a fresh map
 * while writers go on, and a file format to save and load one generation.
 * When it is set, saved, loaded and cleared, and why no change is ever missed,
 * is the engine's protocol (engine/dcm_db.h, storage/README.md).
 *
 *   dcm_mark(m, id)              hot path: the extent of page id changed
 *   dcm_next_begin(m)            a full backup: start filling the next generation
 *                                too (it starts empty)
 *   dcm_next_end(m, keep, base)  keep: the next generation becomes the map, as
 *                                the map for differential base `base`; else dropped
 *   dcm_copy(m)                  a private copy of the current generation (what a
 *                                differential backup reads)
 *
 * A generation may be "all": every extent counts as changed (a map that was
 * lost, or could not be allocated). Over-approximation is always safe; only a
 * missing bit would lose data from a differential.
 *
 * Memory: a directory per file id (allocated on first use) of chunks of 2^18
 * extent bits (32 KiB, 16 GiB of pages) allocated on first use; nothing is
 * freed before dcm_free, so a writer never touches freed memory whatever
 * generation change happens meanwhile. File ids above DCM_MAX_FILE make the
 * generation "all".
 */
#ifndef HDB_STORAGE_DCM_H
#define HDB_STORAGE_DCM_H

#include <stdint.h>

#include "storage/page.h"
#include "util/err.h"

#define DCM_EXTENT_PAGES 8
#define DCM_MAX_FILE     255

typedef struct dcm dcm;

dcm *dcm_create(void);
void dcm_free(dcm *m);

/* The extent holding page `id` changed: atomic, lock-free, no allocation once
 * the extent's chunk exists. Marks the current generation and, while a full
 * backup fills one, the next. */
void dcm_mark(dcm *m, pgid_t id);

/* Whether the extent of page `id` is marked in the current generation (or the
 * generation is "all"). Meant for private copies (dcm_copy). */
int dcm_changed(const dcm *m, pgid_t id);
/* Marked extents of the current generation; UINT64_MAX when "all". */
uint64_t dcm_count(const dcm *m);
/* The current generation: every extent counts as changed. */
void dcm_mark_all(dcm *m);
/* 1 if the current generation is "all". */
int dcm_is_all(const dcm *m);
/* The differential base the current generation answers for (the FirstLSN of
 * the full backup that started it; 0 = since the database began). */
lsn_t dcm_base(const dcm *m);

/* Empty the current generation, answering for `base` from now on. Only when
 * nothing writes to the database (restore). */
void dcm_reset(dcm *m, lsn_t base);
/* OR the current generation of src into dst's. */
void dcm_merge(dcm *dst, const dcm *src);
/* A private copy of the current generation (with its base); NULL = out of
 * memory. */
dcm *dcm_copy(dcm *m);

/* Start filling the next generation (emptied first). -1 when one is already
 * being filled (a second concurrent full backup just leaves the map alone). */
int dcm_next_begin(dcm *m);
/* keep = 1: the next generation becomes current, answering for `base`;
 * keep = 0: it is dropped. */
void dcm_next_end(dcm *m, int keep, lsn_t base);

/* ---- the map file ---------------------------------------------------------
 * Little-endian:
 *   0  u32 magic "HDCM"   4 u16 version 1   6 u16 flags (bit 0: "all")
 *   8  u64 owner (the log's id: a map belongs to one log)
 *  16  u64 covered: every change logged before this LSN is in the map
 *  24  u64 base (dcm_base)
 *  32  u32 record count   36 u32 0
 *  40  records: u16 file id, u16 chunk index, u32 n, n u64 words of bits
 *      (only chunks with a bit set; n = up to the last non-zero word)
 *  end u32 CRC-32C of everything before it
 * Written to "<path>.tmp", fdatasync'd, renamed over path, directory synced. */
int dcm_save(dcm *m, const char *path, uint64_t owner, lsn_t covered, hdb_err *err);
/* Replace the current generation with the file's, if it is intact and belongs
 * to `owner`: 0 and *covered, else -1 (the map is left as it was). */
int dcm_load(dcm *m, const char *path, uint64_t owner, lsn_t *covered);

#endif
