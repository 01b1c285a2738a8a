/* recovery.c — analysis, redo, in-doubt resolution and undo (see recovery.h). */
#include "engine/recovery.h"

#include "engine/deferred.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "engine/catalog.h"
#include "engine/instance.h"
#include "storage/pageop.h"

typedef struct rtxn {
    uint64_t id;
    int      state;           /* att_state, or 0 = ended */
    lsn_t    first, last, undo_next;
    uint32_t coord_db;
} rtxn;

typedef struct rpage {
    pgid_t id;
    lsn_t  rec_lsn;
} rpage;

typedef struct rdb {
    database *db;
    int       failed;         /* undo or its flush failed: the database is SUSPECT */
    rtxn     *txns;
    size_t    ntxns, txcap;
    rpage    *dpt;            /* open-addressing hash on page id */
    size_t    dpt_cap, dpt_n;
    lsn_t     redo_lsn;
} rdb;

struct recovery {
    txn_mgr       *txns;
    rdb           *dbs;
    int            ndbs, cap;
    int            stopped_early;   /* a restore's stop point ends the history */
    int            no_defer;        /* attach: a loser that cannot be rolled back fails recovery */
    recovery_stats st;
};

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

recovery *recovery_begin(txn_mgr *txns)
{
    recovery *rc = calloc(1, sizeof *rc);
    if (rc)
        rc->txns = txns;
    return rc;
}

void recovery_get_stats(recovery *rc, recovery_stats *st) { *st = rc->st; }

void recovery_free(recovery *rc)
{
    if (!rc)
        return;
    for (int i = 0; i < rc->ndbs; i++) {
        free(rc->dbs[i].txns);
        free(rc->dbs[i].dpt);
    }
    free(rc->dbs);
    free(rc);
}

/* ---- tables ---------------------------------------------------------------- */

/* Analysis meets every transaction in the log (a linear search made it
 * quadratic), so ids are found through an open-addressing index: 2 * txcap
 * slots holding position + 1 (0 = empty), kept in the same block right after
 * the array, so that free(d->txns) frees both. */
static uint32_t *tx_index(const rdb *d) { return (uint32_t *)(d->txns + d->txcap); }

static void tx_index_put(rdb *d, size_t pos)
{
    uint32_t *ix = tx_index(d);
    size_t mask = 2 * d->txcap - 1;
    size_t h = (size_t)((d->txns[pos].id * 0x9E3779B97F4A7C15ull) >> 17) & mask;
    while (ix[h])
        h = (h + 1) & mask;
    ix[h] = (uint32_t)(pos + 1);
}

static rtxn *txn_entry(rdb *d, uint64_t id, int create)
{
    if (d->txcap) {
        const uint32_t *ix = tx_index(d);
        size_t mask = 2 * d->txcap - 1;
        for (size_t h = (size_t)((id * 0x9E3779B97F4A7C15ull) >> 17) & mask; ix[h]; h = (h + 1) & mask)
            if (d->txns[ix[h] - 1].id == id)
                return &d->txns[ix[h] - 1];
    }
    if (!create)
        return NULL;
    if (d->ntxns == d->txcap) {
        size_t cap = d->txcap ? d->txcap * 2 : 64;
        rtxn *t = realloc(d->txns, cap * sizeof *t + 2 * cap * sizeof(uint32_t));
        if (!t)
            return NULL;
        d->txns = t;
        d->txcap = cap;
        memset(tx_index(d), 0, 2 * cap * sizeof(uint32_t));
        for (size_t i = 0; i < d->ntxns; i++)
            tx_index_put(d, i);
    }
    rtxn *t = &d->txns[d->ntxns];
    memset(t, 0, sizeof *t);
    t->id = id;
    t->state = ATT_ACTIVE;
    tx_index_put(d, d->ntxns++);
    return t;
}

static size_t dpt_slot(const rdb *d, pgid_t id)
{
    uint64_t h = id * 0x9E3779B97F4A7C15ull;
    return (size_t)(h >> 17) & (d->dpt_cap - 1);
}

static rpage *dpt_find(const rdb *d, pgid_t id)
{
    if (!d->dpt_cap)
        return NULL;
    for (size_t i = dpt_slot(d, id);; i = (i + 1) & (d->dpt_cap - 1)) {
        if (d->dpt[i].id == id)
            return &d->dpt[i];
        if (!d->dpt[i].id)
            return NULL;
    }
}

static int dpt_add(rdb *d, pgid_t id, lsn_t lsn)
{
    if ((d->dpt_n + 1) * 2 > d->dpt_cap) {
        size_t cap = d->dpt_cap ? d->dpt_cap * 2 : 1024;
        rpage *old = d->dpt;
        size_t oldcap = d->dpt_cap;
        d->dpt = calloc(cap, sizeof *d->dpt);
        if (!d->dpt) {
            d->dpt = old;
            return -1;
        }
        d->dpt_cap = cap;
        d->dpt_n = 0;
        for (size_t i = 0; i < oldcap; i++)
            if (old[i].id)
                dpt_add(d, old[i].id, old[i].rec_lsn);
        free(old);
    }
    rpage *p = dpt_find(d, id);
    if (p) {
        if (lsn < p->rec_lsn)
            p->rec_lsn = lsn;
        return 0;
    }
    size_t i = dpt_slot(d, id);
    while (d->dpt[i].id)
        i = (i + 1) & (d->dpt_cap - 1);
    d->dpt[i].id = id;
    d->dpt[i].rec_lsn = lsn;
    d->dpt_n++;
    return 0;
}

/* ---- analysis ------------------------------------------------------------- */

static int note_pages(rdb *d, const log_rec *r)
{
    size_t off;
    if (!logrec_pageops_offset(r->kind, r->body, r->body_len, &off))
        return 0;
    pageop_iter it;
    if (pageop_iter_init(&it, r->body + off, r->body_len - off) < 0)
        return -1;
    pgid_t id;
    const uint8_t *op;
    size_t oplen;
    int k;
    while ((k = pageop_iter_next(&it, &id, &op, &oplen)) == 1)
        if (dpt_add(d, id, r->lsn) < 0)
            return -1;
    return k;
}

static int load_checkpoint(recovery *rc, rdb *d, const log_rec *r)
{
    lread rd;
    lread_init(&rd, r->body, r->body_len);
    d->redo_lsn = lread_u64(&rd);
    uint64_t next_id = lread_u64(&rd);
    if (rc->txns && next_id)
        txn_mgr_see_id(rc->txns, next_id - 1);
    uint32_t natt = lread_u32(&rd);
    for (uint32_t i = 0; i < natt && !rd.bad; i++) {
        uint64_t id = lread_u64(&rd);
        int state = lread_u8(&rd);
        lsn_t first = lread_u64(&rd), last = lread_u64(&rd), undo_next = lread_u64(&rd);
        rtxn *t = txn_entry(d, id, 0);
        if (t) {
            /* seen since BEGIN_CKPT: the scan is newer, but the checkpoint
             * knows where the transaction began */
            if (first && (!t->first || first < t->first))
                t->first = first;
            continue;
        }
        t = txn_entry(d, id, 1);
        if (!t)
            return -1;
        t->state = state;
        t->first = first;
        t->last = last;
        t->undo_next = undo_next;
    }
    uint32_t ndpt = lread_u32(&rd);
    for (uint32_t i = 0; i < ndpt && !rd.bad; i++) {
        pgid_t id = lread_u64(&rd);
        lsn_t rec = lread_u64(&rd);
        if (dpt_add(d, id, rec) < 0)
            return -1;
    }
    return rd.bad ? -1 : 0;
}

static int analyze_txn(rdb *d, const log_rec *r)
{
    rtxn *t = txn_entry(d, r->txn_id, 1);
    if (!t)
        return -1;
    if (r->kind == LR_BEGIN || !t->first)
        t->first = r->kind == LR_BEGIN ? r->lsn : (t->first ? t->first : r->lsn);
    t->last = r->lsn;
    switch (r->kind) {
    case LR_BEGIN:
        t->state = ATT_ACTIVE;
        t->undo_next = r->lsn;
        break;
    case LR_ROW:
        t->undo_next = r->lsn;
        break;
    case LR_CLR: {
        uint64_t un = 0;
        if (r->body_len >= 8)
            memcpy(&un, r->body, 8);
        t->undo_next = un;
        break;
    }
    case LR_PREPARE: {
        lread rd;
        lread_init(&rd, r->body, r->body_len);
        lread_u64(&rd);
        lread_bytes(&rd, 16);
        t->coord_db = lread_u32(&rd);
        t->state = ATT_PREPARED;
        break;
    }
    case LR_COMMIT:
        t->state = ATT_COMMITTED;
        break;
    case LR_ABORT:
        t->state = 0;
        break;
    default:
        break;
    }
    return 0;
}

static int analyze(recovery *rc, rdb *d, hdb_err *err)
{
    logmgr *log = d->db->tdb.log;
    lsn_t start = log_checkpoint_lsn(log);
    if (!start)
        start = log_truncation_lsn(log);
    d->redo_lsn = start;
    log_reader *rd = log_reader_open(log, start, 0, err);
    if (!rd)
        return -1;
    log_rec r;
    int k;
    while ((k = log_reader_next(rd, &r, err)) == 1) {
        rc->st.records_analyzed++;
        if (r.txn_id && rc->txns)
            txn_mgr_see_id(rc->txns, r.txn_id);
        if (r.kind == LR_CKPT_END) {
            if (load_checkpoint(rc, d, &r) < 0)
                goto bad;
            continue;
        }
        if (r.txn_id && analyze_txn(d, &r) < 0)
            goto bad;
        if (note_pages(d, &r) < 0)
            goto bad;
    }
    log_reader_close(rd);
    if (k < 0)
        return -1;
    for (size_t i = 0; i < d->dpt_cap; i++)
        if (d->dpt[i].id && d->dpt[i].rec_lsn < d->redo_lsn)
            d->redo_lsn = d->dpt[i].rec_lsn;
    return 0;
bad:
    log_reader_close(rd);
    char at[32];
    snprintf(at, sizeof at, "%llu", (unsigned long long)r.lsn);
    return hdb_raise(err, 3313, d->db->tdb.name, at);
}

/* ---- redo ----------------------------------------------------------------- */

static int file_closed(database *db, pgid_t id)
{
    enum df_state st = df_get_state(db->df, (uint16_t)PGID_FILE(id));
    return (st == DF_OFFLINE || st == DF_DEFUNCT) && df_file(db->df, (uint16_t)PGID_FILE(id));
}

static int redo_record(recovery *rc, rdb *d, const log_rec *r, hdb_err *err)
{
    if (r->kind == LR_FILE)
        return db_redo_file_op(d->db, r, err);
    size_t off;
    if (!logrec_pageops_offset(r->kind, r->body, r->body_len, &off))
        return 0;
    database *db = d->db;
    pageop_iter it;
    if (pageop_iter_init(&it, r->body + off, r->body_len - off) < 0)
        return -1;
    pgid_t id;
    const uint8_t *op;
    size_t oplen;
    int k, redone = 0;
    /* one record may carry several ops for one page: the pageLSN test is
     * made once, before the first of them */
    pgid_t applied[64];
    int napplied = 0;
    while ((k = pageop_iter_next(&it, &id, &op, &oplen)) == 1) {
        /* changed, whether or not the disk has it already (storage/README.md) */
        dcm_mark(df_dcm(db->df), id);
        rpage *p = dpt_find(d, id);
        if (!p || r->lsn < p->rec_lsn)
            continue;   /* the page on disk already has this change */
        if (file_closed(db, id))
            continue;   /* offline or defunct: a file restore replays it later */
        /* a whole-page op needs nothing from disk: a torn page is rebuilt */
        int whole = op[0] == PO_IMAGE || op[0] == PO_FORMAT;
        if (df_ensure_pages(db->df, (uint16_t)PGID_FILE(id), PGID_PAGE(id) + 1, err) < 0)
            return -1;
        bp_frame *f = bp_fix(db->bp, db->df, id, BP_EXCL, whole ? BP_NOREAD : 0, err);
        if (!f)
            return -1;
        void *page = bp_page(f);
        int again = 0;
        for (int i = 0; i < napplied && !again; i++)
            again = applied[i] == id;
        if (again || page_lsn(page) < r->lsn) {
            if (!again && napplied < 64)
                applied[napplied++] = id;
            if (!pageop_apply(page, id, op, oplen, r->lsn)) {
                if (getenv("HADR_DEBUG_REDO"))
                    fprintf(stderr, "redo failed: lsn %llu kind %d page %u:%u op %d len %zu; page type %d lsn %llu nslots %d free %zu slot %d\n",
                            (unsigned long long)r->lsn, r->kind, PGID_FILE(id), PGID_PAGE(id), op[0], oplen,
                            page_chdr(page)->type, (unsigned long long)page_lsn(page), page_chdr(page)->nslots,
                            page_free_space(page), oplen >= 3 ? op[1] | op[2] << 8 : -1);
                bp_unfix(f);
                return -1;
            }
            bp_dirty(f, r->lsn);
            rc->st.pages_redone++;
            redone = 1;
        }
        bp_unfix(f);
    }
    if (redone) {
        rc->st.records_redone++;
        rc->st.bytes_redone += r->len;
    }
    return k < 0 ? -1 : 0;
}

static int redo(recovery *rc, rdb *d, hdb_err *err)
{
    log_reader *rd = log_reader_open(d->db->tdb.log, d->redo_lsn, 0, err);
    if (!rd)
        return -1;
    log_rec r;
    int k;
    while ((k = log_reader_next(rd, &r, err)) == 1) {
        hdb_err e;
        hdb_err_clear(&e);
        if (redo_record(rc, d, &r, &e) < 0) {
            log_reader_close(rd);
            char at[128];
            snprintf(at, sizeof at, "%llu (%.90s)", (unsigned long long)r.lsn, e.number ? e.msg : "malformed page operation");
            if (e.number == 823 || e.number == 824) {
                if (err)
                    *err = e;
                return -1;
            }
            return hdb_raise(err, 3313, d->db->tdb.name, at);
        }
    }
    log_reader_close(rd);
    return k < 0 ? -1 : 0;
}

static int add_db(recovery *rc, database *db, lsn_t redo_floor, hdb_err *err);

int recovery_add(recovery *rc, database *db, hdb_err *err)
{
    return add_db(rc, db, 0, err);
}

int recovery_add_restored(recovery *rc, database *db, lsn_t redo_floor, hdb_err *err)
{
    return add_db(rc, db, redo_floor, err);
}

static int add_db(recovery *rc, database *db, lsn_t redo_floor, hdb_err *err)
{
    if (rc->ndbs == rc->cap) {
        int cap = rc->cap ? rc->cap * 2 : 8;
        rdb *n = realloc(rc->dbs, (size_t)cap * sizeof *n);
        if (!n)
            return hdb_raise_text(err, 701, 19, 1, "There is insufficient system memory to run this query.");
        rc->dbs = n;
        rc->cap = cap;
    }
    rdb *d = &rc->dbs[rc->ndbs];
    memset(d, 0, sizeof *d);
    d->db = db;
    db->state = DB_RECOVERING;
    double t0 = now_s();
    if (analyze(rc, d, err) < 0) {
        free(d->txns);
        free(d->dpt);
        return -1;
    }
    double t1 = now_s();
    rc->st.analysis_s += t1 - t0;
    /* a restore knows its pages are redone through redo_floor (or, for a
     * data backup, that the log before it was never copied) */
    if (d->redo_lsn < redo_floor)
        d->redo_lsn = redo_floor;
    int r = redo(rc, d, err);
    rc->st.redo_s += now_s() - t1;
    if (r < 0 || db_load_boot(db, err) < 0) {
        free(d->txns);
        free(d->dpt);
        return -1;
    }
    rc->ndbs++;
    return 0;
}

/* ---- in-doubt resolution and undo ----------------------------------------- */

static rdb *find_rdb(recovery *rc, uint32_t db_id)
{
    for (int i = 0; i < rc->ndbs; i++)
        if (rc->dbs[i].db->tdb.id == db_id)
            return &rc->dbs[i];
    return NULL;
}

void recovery_stopped_early(recovery *rc) { rc->stopped_early = 1; }

void recovery_forbid_deferral(recovery *rc) { rc->no_defer = 1; }

/* The coordinator's verdict on a prepared transaction: 1 commit, 0 abort. */
static int coordinator_says_commit(recovery *rc, const rtxn *t, recovery_lookup_fn lookup, void *ctx, rdb *self)
{
    /* a COMMIT in any participant's log is the decision (txn.c appends the
     * COMMITs only once every PREPARE is durable, all together) */
    for (int i = 0; i < rc->ndbs; i++) {
        rtxn *o = txn_entry(&rc->dbs[i], t->id, 0);
        if (o && o->state == ATT_COMMITTED)
            return 1;
    }
    if (find_rdb(rc, t->coord_db))
        return 0;   /* the coordinator is here and holds no COMMIT: presumed abort */
    if (rc->stopped_early) {
        if (self->db->inst)
            inst_log(self->db->inst,
                     "Restore of database '%s': transaction %llu was prepared but not committed at the stop "
                     "point; it is rolled back.", self->db->tdb.name, (unsigned long long)t->id);
        return 0;
    }
    database *cdb = lookup ? lookup(ctx, t->coord_db) : NULL;
    (void)cdb;
    /* coordinator unavailable: presume commit (SQL Server's 3429) */
    if (self->db->inst)
        inst_log(self->db->inst,
                 "Recovery of database '%s' could not determine the outcome of transaction %llu "
                 "because its coordinating database (id %u) is not available. The transaction was "
                 "assumed to be committed. (3429)",
                 self->db->tdb.name, (unsigned long long)t->id, t->coord_db);
    return 1;
}

/* A loser whose undo hit an unreadable page: deferred if every database it
 * is stuck in may defer (deferred.h); else e says why not and it fails. */
static int defer(txn *t, hdb_err *e)
{
    for (int i = 0; i < t->nparts; i++)
        if (t->parts[i].deferred && deferred_allowed(db_of(t->parts[i].db), e) < 0)
            return -1;
    for (int i = 0; i < t->nparts; i++)
        if (t->parts[i].deferred)
            return deferred_add(db_of(t->parts[i].db), t, e, e);
    return -1;
}

int recovery_finish(recovery *rc, recovery_lookup_fn lookup, void *ctx, hdb_err *err)
{
    double t0 = now_s();
    int result = 0;
    /* group the losers by transaction id across databases */
    for (int i = 0; i < rc->ndbs; i++) {
        rdb *d = &rc->dbs[i];
        for (size_t j = 0; j < d->ntxns; j++) {
            rtxn *rt = &d->txns[j];
            if (rt->state != ATT_PREPARED)
                continue;
            if (coordinator_says_commit(rc, rt, lookup, ctx, d)) {
                txn *t = txn_recreate(rc->txns, rt->id);
                if (!t)
                    return hdb_raise_text(err, 701, 19, 1, "There is insufficient system memory to run this query.");
                txn_part *p = txn_attach_part(t, &d->db->tdb, rt->first, rt->last, rt->undo_next, ATT_PREPARED);
                uint64_t now = (uint64_t)txn_now_us();
                hdb_err e;
                lsn_t lsn = p ? txn_log_plain(t, p, LR_COMMIT, &now, sizeof now, &e) : 0;
                if (!lsn || log_flush_to(d->db->tdb.log, lsn, &e) < 0)
                    d->failed = 1;
                rt->state = ATT_COMMITTED;
                rc->st.txns_committed_in_doubt++;
                txn_free(t);
            } else {
                rt->state = ATT_ABORTING;
            }
        }
    }
    for (int i = 0; i < rc->ndbs; i++) {
        rdb *d = &rc->dbs[i];
        for (size_t j = 0; j < d->ntxns; j++) {
            rtxn *rt = &d->txns[j];
            if (rt->state != ATT_ACTIVE && rt->state != ATT_ABORTING)
                continue;
            txn *t = txn_recreate(rc->txns, rt->id);
            if (!t)
                return hdb_raise_text(err, 701, 19, 1, "There is insufficient system memory to run this query.");
            /* the same transaction in later databases joins this rollback */
            int involved[TXN_MAX_DBS], ninv = 0;
            for (int k = i; k < rc->ndbs; k++) {
                rdb *o = &rc->dbs[k];
                rtxn *ot = k == i ? rt : txn_entry(o, rt->id, 0);
                if (!ot || (ot->state != ATT_ACTIVE && ot->state != ATT_ABORTING))
                    continue;
                if (txn_attach_part(t, &o->db->tdb, ot->first, ot->last, ot->undo_next, ATT_ABORTING) &&
                    ninv < TXN_MAX_DBS)
                    involved[ninv++] = k;
                ot->state = 0;
            }
            hdb_err e;
            hdb_err_clear(&e);
            int r = txn_rollback_or_defer(t, &e);
            if (r == 1 && !rc->no_defer && defer(t, &e) == 0) {
                rc->st.txns_deferred++;
                continue;   /* it lives on, deferred, with its locks */
            }
            if (r != 0) {
                /* the next start resumes from the CLRs that did get logged */
                for (int k = 0; k < ninv; k++)
                    rc->dbs[involved[k]].failed = 1;
                if (rc->no_defer && !result) {
                    if (err)
                        *err = e;
                    result = -1;
                }
                if (t->mgr && rc->dbs[i].db->inst)
                    inst_log(rc->dbs[i].db->inst, "Rollback of transaction %llu during recovery failed: %s (error %d).",
                             (unsigned long long)rt->id, e.msg, e.number);
            }
            rc->st.txns_rolled_back++;
            txn_free(t);
        }
    }
    rc->st.undo_s += now_s() - t0;
    for (int i = 0; i < rc->ndbs; i++) {
        rdb *d = &rc->dbs[i];
        database *db = d->db;
        /* make the undo durable before the database is used */
        hdb_err e;
        if (!d->failed && log_flush_all(db->tdb.log, &e) < 0)
            d->failed = 1;
        db->state = d->failed ? DB_SUSPECT : DB_ONLINE;
        if (d->failed) {
            if (db->inst)
                inst_log(db->inst, "Recovery of database '%s' could not complete; the database is marked SUSPECT.",
                         db->tdb.name);
            /* master is the one database the instance cannot run without */
            if (db->tdb.id == 1 && !result) {
                hdb_raise(err, 3314, db->tdb.name, "(recovery)");
                result = -1;
            }
        }
    }
    return result;
}
