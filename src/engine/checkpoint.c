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
 *
 * Truncation policy (recovery models). Step 6 also keeps what backups need:
 *   SIMPLE                 only what recovery and open transactions need;
 *   FULL / BULK_LOGGED     the same until a full backup starts the log chain
 *                          ("pseudo-simple": nothing could use the log yet);
 *                          then also everything from boot.log_chain_lsn on,
 *                          which each log backup moves to its end;
 *   any model              a running data backup or restore pins its start.
 * log_reuse_wait names the constraint that holds the oldest kept VLF back.
 * Switching to SIMPLE breaks the chain (log_chain_lsn = 0), so BACKUP LOG
 * then needs a new full backup (4214), as in SQL Server.
 */
#include "engine/database.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/dcm_db.h"
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
    if (db->tdb.read_only_log)
        return 0;   /* a standby's log stays the backups' log (engine/readonly.c) */
    pthread_mutex_lock(&db->ckpt_mu);
    int rc = -1;
    lbuf b;
    lbuf_init(&b);

    lsn_t redo = log_set_redo_point(log);
    /* every record below the redo point has its page dirty by now */
    log_mtr_drain(log);
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
    if (!E || log_flush_to(log, E, err) < 0)
        goto out;
    /* the changed-extent map as of R, before truncation may pass its old point */
    db_dcm_save(db, redo);
    if (log_set_checkpoint(log, B, err) < 0)
        goto out;
    db->last_ckpt_lsn = redo < B ? redo : B;
    if (log_truncate_before(log, db_truncation_bound(db), err) < 0)
        goto out;
    db_log_reuse_wait(db);   /* tells the log what 9002 should name */
    rc = 0;
out:
    if (rc < 0 && log_failed(log, NULL))
        db->state = DB_SUSPECT;   /* no further change can be logged */
    lbuf_free(&b);
    pthread_mutex_unlock(&db->ckpt_mu);
    return rc;
}

/* ---- recovery models, log truncation, log_reuse_wait --------------------- */

/* The LSN from which a log backup must still find the log, 0 = none needed. */
static lsn_t chain_bound(database *db)
{
    pthread_mutex_lock(&db->boot_mu);
    lsn_t l = db->boot.recovery_model == RECOVERY_SIMPLE ? 0 : db->boot.log_chain_lsn;
    pthread_mutex_unlock(&db->boot_mu);
    return l;
}

static lsn_t min_nonzero(lsn_t a, lsn_t b)
{
    return !a ? b : !b ? a : a < b ? a : b;
}

lsn_t db_truncation_bound(database *db)
{
    lsn_t need = db_min_needed_lsn(db);
    need = min_nonzero(need, chain_bound(db));
    return min_nonzero(need, db->backup_pin);
}

void db_pin_log(database *db, lsn_t lsn)
{
    db->backup_pin = lsn;
}

const char *db_log_reuse_wait_desc(int w)
{
    switch (w) {
    case DB_REUSE_NOTHING: return "NOTHING";
    case DB_REUSE_CHECKPOINT: return "CHECKPOINT";
    case DB_REUSE_LOG_BACKUP: return "LOG_BACKUP";
    case DB_REUSE_ACTIVE_BACKUP_OR_RESTORE: return "ACTIVE_BACKUP_OR_RESTORE";
    case DB_REUSE_ACTIVE_TRANSACTION: return "ACTIVE_TRANSACTION";
    default: return "OTHER_TRANSIENT";
    }
}

/* A constraint holds the log back when it keeps a VLF below the one being
 * written: only whole VLFs are ever reused. Of several, the oldest backup or
 * transaction is named (a checkpoint would not help); CHECKPOINT only when
 * nothing else holds the log. */
int db_log_reuse_wait(database *db)
{
    logmgr *log = db->tdb.log;
    if (!log)
        return DB_REUSE_NOTHING;
    uint64_t V = log_vlf_size(log);
    lsn_t cur = V ? log_end_lsn(log) / V : 0;
    struct { lsn_t lsn; int why; } c[3] = {
        { db->backup_pin, DB_REUSE_ACTIVE_BACKUP_OR_RESTORE },
        { chain_bound(db), DB_REUSE_LOG_BACKUP },
        { oldest_active(db), DB_REUSE_ACTIVE_TRANSACTION },
    };
    int why = DB_REUSE_NOTHING;
    lsn_t oldest = 0;
    for (int i = 0; i < 3; i++)
        if (c[i].lsn && V && c[i].lsn / V < cur && (!oldest || c[i].lsn < oldest)) {
            oldest = c[i].lsn;
            why = c[i].why;
        }
    if (why == DB_REUSE_NOTHING) {
        lsn_t ck = min_nonzero(db->last_ckpt_lsn, bp_min_rec_lsn(db->bp, db->df));
        if (!ck || (V && ck / V < cur))
            why = DB_REUSE_CHECKPOINT;
    }
    log_set_reuse_wait(log, db_log_reuse_wait_desc(why));
    return why;
}

void db_note_backup(database *db, int type, int copy_only, lsn_t first_lsn, lsn_t last_lsn)
{
    hdb_err e;
    hdb_err_clear(&e);
    int changed = 0, truncate = 0;
    pthread_mutex_lock(&db->boot_mu);
    boot_info *b = &db->boot;
    int logged_model = b->recovery_model != RECOVERY_SIMPLE;
    if (copy_only) {
        /* a copy-only backup is outside the sequence: it changes nothing */
    } else if (type == DB_BACKUP_FULL) {
        b->full_backup_lsn = first_lsn;
        if (logged_model && !b->log_chain_lsn)
            b->log_chain_lsn = first_lsn;   /* the log chain starts here */
        changed = 1;
    } else if (type == DB_BACKUP_DIFF) {
        /* after SIMPLE -> FULL, a differential on the old base restarts the chain */
        if (logged_model && !b->log_chain_lsn && b->full_backup_lsn) {
            b->log_chain_lsn = first_lsn;
            changed = 1;
        }
    } else if (type == DB_BACKUP_LOG) {
        if (b->log_chain_lsn && last_lsn > b->log_chain_lsn) {
            b->log_chain_lsn = last_lsn;
            changed = truncate = 1;
        }
    }
    int rc = changed ? db_write_boot(db, &e) : 0;
    pthread_mutex_unlock(&db->boot_mu);
    if (rc < 0 && db->inst)
        inst_log(db->inst, "Could not record the backup of database '%s' on its boot page: %s (error %d)",
                 db->tdb.name, e.msg, e.number);
    /* the log just saved may be reused now: checkpoint so truncation happens */
    if (truncate && db->state == DB_ONLINE && db_checkpoint(db, &e) < 0 && db->inst)
        inst_log(db->inst, "Checkpoint of database '%s' after a log backup failed: %s (error %d)",
                 db->tdb.name, e.msg, e.number);
}

int db_note_restored(database *db, lsn_t full_backup_lsn, lsn_t chain_lsn, hdb_err *err)
{
    pthread_mutex_lock(&db->boot_mu);
    db->boot.full_backup_lsn = full_backup_lsn;
    db->boot.log_chain_lsn = db->boot.recovery_model == RECOVERY_SIMPLE ? 0 : chain_lsn;
    int rc = db_write_boot(db, err);
    pthread_mutex_unlock(&db->boot_mu);
    return rc;
}

int db_set_recovery_model(database *db, int model, hdb_err *err)
{
    if (model != RECOVERY_FULL && model != RECOVERY_BULK_LOGGED && model != RECOVERY_SIMPLE)
        return hdb_raise_text(err, 5058, 16, 1, "Option 'RECOVERY' cannot be set to this value.");
    pthread_mutex_lock(&db->boot_mu);
    boot_info old = db->boot;
    db->boot.recovery_model = (uint8_t)model;
    if (model == RECOVERY_SIMPLE)
        db->boot.log_chain_lsn = 0;   /* the log chain is broken */
    int rc = 0;
    if (memcmp(&old, &db->boot, sizeof old) != 0 && (rc = db_write_boot(db, err)) < 0)
        db->boot = old;
    pthread_mutex_unlock(&db->boot_mu);
    return rc;
}

int db_check_log_backup(database *db, hdb_err *err)
{
    pthread_mutex_lock(&db->boot_mu);
    int model = db->boot.recovery_model;
    lsn_t chain = db->boot.log_chain_lsn;
    pthread_mutex_unlock(&db->boot_mu);
    if (model == RECOVERY_SIMPLE)
        return hdb_raise(err, 4208);
    if (!chain)
        return hdb_raise(err, 4214);
    return 0;
}
