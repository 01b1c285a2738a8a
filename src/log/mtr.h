/*
 * mtr.h — mini-transactions: a group of page changes logged as ONE record.
 *
 * Every change to a data page goes through an mtr:
 *
 *   mtr_begin(&m, log, fpw_lsn)
 *   mtr_add(&m, frame, op, len)        frame X-latched; op applied at once
 *   ... more pages/ops ...
 *   lsn = mtr_commit(&m, &rec, prefix, prefix_len, err)
 *
 * mtr_add applies each op to its (X-latched, so unseen) frame immediately, after
 * keeping a copy of the page as it was before the mtr touched it. mtr_commit
 * builds the record body (prefix + page-op list), appends it, and stamps every
 * touched frame with the record's LSN (bp_dirty). If anything fails, the frames
 * are restored from the copies (mtr_abort), so no page keeps an unlogged change.
 * Frames handed over with mtr_own() are unfixed when the mtr ends.
 *
 * Because the record is atomic in the log, a multi-page change (a B+tree split)
 * is either wholly redone or not at all.
 *
 * Full-page writes: the first change to a page after the last checkpoint's
 * redo point (log_redo_point; the fpw_lsn argument of mtr_begin is ignored and
 * kept only for callers' sake) is logged as the page's whole image instead of
 * a delta. mtr_commit appends with log_append_fpw and, if a checkpoint moved
 * the redo point meanwhile, re-decides and retries.
 * Redo then never needs to read that page from disk, so a data page torn by a
 * crash mid-write is rebuilt from the log (see engine/README.md, recovery).
 */
#ifndef HDB_LOG_MTR_H
#define HDB_LOG_MTR_H

#include "log/logmgr.h"
#include "log/logrec.h"
#include "storage/bufpool.h"

#define MTR_MAX_PAGES 64   /* a B+tree split touches ~3 pages per level (btree_smo.c) */

typedef struct mtr {
    logmgr  *log;
    lsn_t    fpw_lsn;
    int      npages;
    struct {
        bp_frame *frame;
        uint8_t  *before;      /* page copy taken at first touch */
        int       image;       /* log a full image for this page */
        int       owned;       /* unfix at the end of the mtr */
    } pages[MTR_MAX_PAGES];
    lbuf     ops;              /* u32-length-prefixed (frame index, op) entries */
    int      nops;
} mtr;

void mtr_begin(mtr *m, logmgr *log, lsn_t fpw_lsn);
/* Apply an op to an X-latched frame now and remember it for the log record.
 * On error the caller must mtr_abort (which restores every touched page). */
int mtr_add(mtr *m, bp_frame *f, const uint8_t *op, size_t len, hdb_err *err);
/* The mtr unfixes f when it commits or aborts (f must be X-latched and
 * already touched or about to be touched by this mtr). */
int mtr_own(mtr *m, bp_frame *f, hdb_err *err);
/* Log the current contents of f (e.g. a page built in place) as a full image. */
int mtr_add_image(mtr *m, bp_frame *f, hdb_err *err);
/* Apply, log (one record of rec->kind, body = prefix + page-op list), stamp.
 * Returns the LSN, or 0 with err (frames restored). Always releases the mtr. */
lsn_t mtr_commit(mtr *m, log_rec *rec, const void *prefix, size_t prefix_len, hdb_err *err);
/* Undo every change the mtr applied (restoring page copies), release it. */
void mtr_abort(mtr *m);

/* A watcher of one log's page changes: mtr_commit calls it before appending,
 * once per page, with the page as it was before this mtr. A failure aborts
 * the mtr with the watcher's error. Used by RESTORE WITH STANDBY (saving the
 * images undo is about to change) and by read-only databases (refusing any
 * change). Unwatched logs pay one relaxed atomic load per commit. */
typedef int (*mtr_watch_fn)(void *ctx, pgid_t id, const void *before, hdb_err *err);
/* -1 when every slot is taken (MTR_MAX_WATCHES). */
#define MTR_MAX_WATCHES 64
int mtr_watch(logmgr *log, mtr_watch_fn fn, void *ctx);
/* Must not race with commits on that log (its owner stops writing first). */
void mtr_unwatch(logmgr *log);

#endif
