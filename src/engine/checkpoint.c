/*
 * checkpoint.c — fuzzy checkpoints and log truncation (see database.h).
 *
 * Sequence:
 *   1. redo point R = end of log; full-page writes restart from R (the first
 *      change to any page after R logs the whole page, see log/mtr.h)
 *   2. append BEGIN_CKPT (at B >= R)
 *   3. flush every dirty page (each write waits for the log through its
 *      pageLSN: the WAL rule) and fdatasync the data files
 *   4. append END_CKPT {R, next txn id, active transactions, dirty pages}
 *      and make it durable
 *   5. write B into the log's master block (fdatasync) — from now on recovery
 *      starts here
 *   6. truncate the log below the oldest LSN still needed: R, the first LSN
 *      of every active transaction, the recLSN of every dirty page.
 * Writers are never blocked: pages are flushed while transactions go on, and
 * what they change meanwhile is in the log after R.
 */
#include "engine/database.h"

#include <stdlib.h>
#include <string.h>

#include "engine/instance.h"

struct dpt_acc {
    lbuf *b;
    uint32_t n;
    lsn_t min;
};

static void dpt_add(void *ctx, pgid_t id, lsn_t rec_lsn)
{
    struct dpt_acc *a = ctx;
    lbuf_u64(a->b, id);
    lbuf_u64(a->b, rec_lsn);
    a->n++;
    if (!a->min || rec_lsn < a->min)
        a->min = rec_lsn;
}

/* Oldest first LSN among active transactions of db (0 if none). */
static lsn_t oldest_active(database *db)
{
    lsn_t min = 0;
    pthread_mutex_lock(&db->tdb.att_mu);
    for (txn_part *p = db->tdb.att; p; p = p->att_next)
        if (p->first_lsn && (!min || p->first_lsn < min))
            min = p->first_lsn;
    pthread_mutex_unlock(&db->tdb.att_mu);
    return min;
}

lsn_t db_min_needed_lsn(database *db)
{
    lsn_t need = db->last_ckpt_lsn;
    lsn_t act = oldest_active(db);
    if (act && act < need)
        need = act;
    lsn_t dirty = bp_min_rec_lsn(db->bp, db->df);
    if (dirty && dirty < need)
        need = dirty;
    return need;
}

int db_checkpoint(database *db, hdb_err *err)
{
    logmgr *log = db->tdb.log;
    pthread_mutex_lock(&db->ckpt_mu);
    int rc = -1;
    lbuf b;
    lbuf_init(&b);

    lsn_t redo = log_set_redo_point(log);
    uint64_t now = (uint64_t)txn_now_us();
    log_rec begin = { .kind = LR_CKPT_BEGIN, .body = (const uint8_t *)&now, .body_len = sizeof now };
    lsn_t B = log_append(log, &begin, err);
    if (!B)
        goto out;
    if (bp_flush_db(db->bp, db->df, err) < 0)
        goto out;

    lbuf_u64(&b, redo);
    lbuf_u64(&b, txn_mgr_next_id(db->inst ? db->inst->txns : NULL));
    size_t natt_at = b.len;
    lbuf_u32(&b, 0);
    uint32_t natt = 0;
    pthread_mutex_lock(&db->tdb.att_mu);
    for (txn_part *p = db->tdb.att; p; p = p->att_next) {
        lbuf_u64(&b, p->txn->id);
        lbuf_u8(&b, (uint8_t)p->state);
        lbuf_u64(&b, p->first_lsn);
        lbuf_u64(&b, p->last_lsn);
        lbuf_u64(&b, p->undo_next);
        natt++;
    }
    pthread_mutex_unlock(&db->tdb.att_mu);
    if (b.p)
        memcpy(b.p + natt_at, &natt, 4);
    size_t ndpt_at = b.len;
    lbuf_u32(&b, 0);
    struct dpt_acc acc = { &b, 0, 0 };
    bp_dirty_pages(db->bp, db->df, dpt_add, &acc);
    if (b.oom) {
        hdb_raise_text(err, 701, 19, 1, "There is insufficient system memory to run this query.");
        goto out;
    }
    memcpy(b.p + ndpt_at, &acc.n, 4);
    log_rec end = { .kind = LR_CKPT_END, .body = b.p, .body_len = (uint32_t)b.len };
    lsn_t E = log_append(log, &end, err);
    /* The checkpoint counts only once END_CKPT is durable and the master block
     * (fdatasync'd by log_set_checkpoint) points at BEGIN_CKPT. */
    if (!E || log_flush_to(log, E, err) < 0 || log_set_checkpoint(log, B, err) < 0)
        goto out;
    db->last_ckpt_lsn = redo < B ? redo : B;
    if (log_truncate_before(log, db_min_needed_lsn(db), err) < 0)
        goto out;
    rc = 0;
out:
    if (rc < 0 && log_failed(log, NULL))
        db->state = DB_SUSPECT;   /* no further change can be logged */
    lbuf_free(&b);
    pthread_mutex_unlock(&db->ckpt_mu);
    return rc;
}
