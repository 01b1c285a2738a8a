/*
 * bufpool.h — the buffer pool shared by every database of the instance.
 *
 * A fixed number of 8 KiB frames chosen at start (buffer_pool_mb). Policy is
 * steal / no-force: a dirty page may be written before its transaction commits
 * (undo information is in the log), and commit never writes data pages.
 *
 * Protocol for callers:
 *   f = bp_fix(bp, df, id, BP_SHARED|BP_EXCL, flags, err)  pin + latch
 *   page = bp_page(f)                                     read or modify
 *   bp_dirty(f, lsn)          after applying a logged change (EXCL latch held):
 *                              sets the pageLSN and, if the page was clean,
 *                              remembers lsn as its recLSN (dirty page table)
 *   bp_unfix(f)               unlatch + unpin
 * A latch is held only for the short physical operation, never across a lock
 * wait. Latch order: pages are latched top-down (parent before child) and
 * left-to-right; see access/README.md. Latches are writer-preferring and not
 * recursive: a thread must never fix a page it already has fixed. lsn should
 * be > 0 (a recLSN of 0 reads as "no dirty page" in bp_min_rec_lsn).
 *
 * WAL rule: before a dirty page is written (eviction, background writer,
 * checkpoint), df_wal_flush(df, pageLSN) makes the log durable through it.
 * Eviction: clock (second chance) over unpinned frames. A background writer
 * thread writes dirty pages ahead of the clock hand so fixes rarely wait on a
 * write.
 */
#ifndef HDB_STORAGE_BUFPOOL_H
#define HDB_STORAGE_BUFPOOL_H

#include <stddef.h>
#include <stdint.h>

#include "storage/datafile.h"
#include "storage/page.h"
#include "util/err.h"

typedef struct bufpool bufpool;
typedef struct bp_frame bp_frame;

enum { BP_SHARED = 1, BP_EXCL = 2 };
enum {
    BP_NOREAD = 1,   /* the caller formats the page: don't read it from disk
                        (an uncached page comes back all zeros; a cached one
                        comes back as cached) */
};

/* `bytes` of frames (at least 16 frames). Starts the background writer. */
bufpool *bp_create(size_t bytes, hdb_err *err);
/* Stops the writer; frames must all be unpinned. Does NOT write dirty pages
 * (call bp_flush_db first for a clean shutdown). */
void bp_destroy(bufpool *bp);

/* Pin and latch page `id` of database `df`. Reads it (verifying) if not cached.
 * Errors: 823/824 from the read (the frame is released, nothing cached),
 * 802 when every frame is pinned. */
bp_frame *bp_fix(bufpool *bp, dbfiles *df, pgid_t id, int latch, int flags, hdb_err *err);
void bp_unfix(bp_frame *f);
void *bp_page(bp_frame *f);
pgid_t bp_id(const bp_frame *f);
/* Mark dirty after a logged change at `lsn` (stores lsn as pageLSN). */
void bp_dirty(bp_frame *f, lsn_t lsn);

/* Write every dirty page of `df` (WAL enforced), then df_sync. For checkpoint.
 * Call with no latch held (it waits for shared latches). A page whose write
 * fails stays dirty; the other pages are still written, and the first error is
 * returned (without the df_sync). Pages dirtied during the call may remain. */
int bp_flush_db(bufpool *bp, dbfiles *df, hdb_err *err);
/* Dirty page table of `df`: calls fn(ctx, page id, recLSN) for each dirty page. */
void bp_dirty_pages(bufpool *bp, dbfiles *df, void (*fn)(void *ctx, pgid_t id, lsn_t rec_lsn), void *ctx);
/* Smallest recLSN among dirty pages of df, or 0 if none. */
lsn_t bp_min_rec_lsn(bufpool *bp, dbfiles *df);
/* Drop every frame of `df` without writing (database closed or crash simulated).
 * No frame of df may be pinned by a caller; a write of the pool's own in flight
 * is waited for, so df may be destroyed as soon as this returns. */
void bp_discard_db(bufpool *bp, dbfiles *df);
/* Drop one page (after restore wrote it directly, or it is known bad). */
void bp_discard_page(bufpool *bp, dbfiles *df, pgid_t id);
/* Page restore: once page id is restore-pending (df_set_restore_pending, so
 * every new fix fails with 829), wait until no thread that fixed it before
 * still holds its latch; any change such a thread made is then logged. No
 * read, no pin kept; an uncached page returns at once. No latch may be held. */
void bp_wait_unlatched(bufpool *bp, dbfiles *df, pgid_t id);

typedef struct bp_stats {
    uint64_t frames, used, dirty, hits, misses, reads, writes, evictions;
} bp_stats;
void bp_get_stats(bufpool *bp, bp_stats *out);
/* Page writes that failed (the pages stayed dirty), e.g. in the background
 * writer, which has no caller to report to. */
uint64_t bp_write_errors(bufpool *bp);
/* Background writer period (default 1000 ms). 0 pauses it altogether — no
 * periodic and no high-water writes — until set again, and returns only once
 * a round in progress has stopped (so no background write happens after it
 * returns). For tests, and to freeze the data files in crash tests. Call with
 * no latch held. */
void bp_set_writer_period(bufpool *bp, unsigned ms);
/* How long a page stays dirty before the periodic tick writes it when there
 * is no memory pressure (default 30 s; 0 = at the next tick). */
void bp_set_trickle_age(bufpool *bp, unsigned ms);

#endif
