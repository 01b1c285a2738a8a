/* txn.c — transactions, savepoints, rollback and the commit protocols (see txn.h). */
#include "txn/txn.h"

#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "txn/commit_gate.h"

struct txn_mgr {
    pthread_mutex_t mu;
    uint64_t        next_id;
    lock_mgr       *locks;
    txn_undo_fn     undo;
    void           *undo_ctx;
    txn            *live;
    commit_gate     gate;            /* the marked-commit block */
    int             mark_timeout_ms; /* how long a marked commit waits for prepared ones */
    int             crash_point;     /* TXN_CRASH_*: tests of in-doubt recovery */
    _Atomic int     early_release;   /* hand locks over before the commit flush */
    _Atomic uint64_t handed_over;    /* locks released that way, in all */
};

int64_t txn_now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

void txn_db_init(txn_db *db, uint32_t id, const char *name, logmgr *log)
{
    memset(db, 0, sizeof *db);
    db->id = id;
    snprintf(db->name, sizeof db->name, "%s", name);
    db->log = log;
    pthread_mutex_init(&db->att_mu, NULL);
}

void txn_db_destroy(txn_db *db) { pthread_mutex_destroy(&db->att_mu); }

txn_mgr *txn_mgr_create(lock_mgr *locks, txn_undo_fn undo, void *undo_ctx)
{
    txn_mgr *m = calloc(1, sizeof *m);
    if (!m)
        return NULL;
    pthread_mutex_init(&m->mu, NULL);
    m->next_id = 1;
    m->locks = locks;
    m->undo = undo;
    m->undo_ctx = undo_ctx;
    commit_gate_init(&m->gate);
    m->mark_timeout_ms = TXN_MARK_TIMEOUT_MS;
    atomic_init(&m->early_release, 1);
    return m;
}

void txn_mgr_destroy(txn_mgr *m)
{
    if (!m)
        return;
    commit_gate_destroy(&m->gate);
    pthread_mutex_destroy(&m->mu);
    free(m);
}

lock_mgr *txn_mgr_locks(txn_mgr *m) { return m->locks; }

void txn_mgr_set_mark_timeout(txn_mgr *m, int ms) { m->mark_timeout_ms = ms; }
void txn_mgr_set_crash_point(txn_mgr *m, int point) { m->crash_point = point; }
void txn_mgr_set_early_lock_release(txn_mgr *m, int on) { atomic_store(&m->early_release, !!on); }
uint64_t txn_mgr_locks_handed_over(txn_mgr *m) { return atomic_load(&m->handed_over); }

/* Waits until the commits this transaction was handed locks by are durable
 * (txn/README.md, "Early lock release"); all of them, or all but those in
 * log `except` (which the caller's own commit record will cover: it comes
 * later in that log). */
static int wait_handed_commits(txn *t, logmgr *except, hdb_err *err)
{
    lock_owner *o = &t->lo;
    int keep = 0;
    for (int i = 0; i < o->ndeps; i++) {
        if (o->deps[i].log == except) {
            o->deps[keep++] = o->deps[i];
        } else if (log_flush_to(o->deps[i].log, o->deps[i].lsn, err) < 0) {
            return -1;
        }
    }
    o->ndeps = keep;
    return 0;
}

int txn_wait_handed_commits(txn *t, hdb_err *err) { return wait_handed_commits(t, NULL, err); }

void txn_mgr_mark_stats(txn_mgr *m, uint64_t *marks, uint64_t *blocked_us, uint64_t *max_blocked_us)
{
    pthread_mutex_lock(&m->gate.mu);
    *marks = m->gate.closes;
    *blocked_us = m->gate.closed_us;
    *max_blocked_us = m->gate.max_closed_us;
    pthread_mutex_unlock(&m->gate.mu);
}

/* Leave the marked-commit gate, or open it for the marked commit holding it. */
static void release_gate(txn *t)
{
    if (t->gate == TXN_GATE_INSIDE)
        commit_gate_leave(&t->mgr->gate);
    else if (t->gate == TXN_GATE_HELD)
        commit_gate_open(&t->mgr->gate);
    t->gate = 0;
}

/* A crash at a chosen point of the cross-database commit, as if the process
 * were killed there (HADRD_CRASH_AT; for tests of in-doubt recovery). */
static void crash_if(txn *t, int point)
{
    if (t->mgr->crash_point == point && t->session_id > 0)
        _exit(70);
}
void txn_mgr_see_id(txn_mgr *m, uint64_t id)
{
    pthread_mutex_lock(&m->mu);
    if (id >= m->next_id)
        m->next_id = id + 1;
    pthread_mutex_unlock(&m->mu);
}

uint64_t txn_mgr_next_id(txn_mgr *m)
{
    pthread_mutex_lock(&m->mu);
    uint64_t id = m->next_id;
    pthread_mutex_unlock(&m->mu);
    return id;
}

void txn_mgr_foreach(txn_mgr *m, void (*fn)(void *ctx, const txn *t), void *ctx)
{
    pthread_mutex_lock(&m->mu);
    for (txn *t = m->live; t; t = t->next)
        fn(ctx, t);
    pthread_mutex_unlock(&m->mu);
}

/* snprintf("%s") without its cost: every autocommit statement names a txn */
static void copy_str(char *dst, size_t cap, const char *src)
{
    size_t n = strnlen(src, cap - 1);
    memcpy(dst, src, n);
    dst[n] = 0;
}

static txn *txn_alloc(txn_mgr *m, uint64_t id, int session_id)
{
    /* Every autocommit statement allocates one: zero all but the 2 KB
     * participant array, of which only [0, nparts) is ever read and whose
     * slots txn_attach_part clears as it hands them out. */
    txn *t = malloc(sizeof *t);
    if (!t)
        return NULL;
    size_t tail = offsetof(txn, parts) + sizeof t->parts;
    memset(t, 0, offsetof(txn, parts));
    memset((char *)t + tail, 0, sizeof *t - tail);
    t->mgr = m;
    t->session_id = session_id;
    t->state = TXN_ACTIVE;
    t->lock_timeout_ms = LOCK_WAIT_FOREVER;
    t->begin_time_us = txn_now_us();
    pthread_mutex_lock(&m->mu);
    if (!id)
        id = m->next_id++;
    else if (id >= m->next_id)
        m->next_id = id + 1;
    t->id = id;
    t->next = m->live;
    if (m->live)
        m->live->prev = t;
    m->live = t;
    pthread_mutex_unlock(&m->mu);
    lock_owner_init(&t->lo, t->id, session_id);
    return t;
}

txn *txn_begin(txn_mgr *m, int session_id, const char *name, const char *user)
{
    txn *t = txn_alloc(m, 0, session_id);
    if (!t)
        return NULL;
    copy_str(t->name, sizeof t->name, name ? name : "user_transaction");
    copy_str(t->user, sizeof t->user, user ? user : "");
    return t;
}

txn *txn_recreate(txn_mgr *m, uint64_t id)
{
    txn *t = txn_alloc(m, id, 0);
    if (t) {
        t->recovering = 1;
        snprintf(t->name, sizeof t->name, "recovered");
    }
    return t;
}

static void att_unlink(txn_part *p)
{
    txn_db *db = p->db;
    pthread_mutex_lock(&db->att_mu);
    if (p->att_prev)
        p->att_prev->att_next = p->att_next;
    else if (db->att == p)
        db->att = p->att_next;
    if (p->att_next)
        p->att_next->att_prev = p->att_prev;
    p->att_next = p->att_prev = NULL;
    pthread_mutex_unlock(&db->att_mu);
}

static void att_link(txn_part *p)
{
    txn_db *db = p->db;
    pthread_mutex_lock(&db->att_mu);
    p->att_prev = NULL;
    p->att_next = db->att;
    if (db->att)
        db->att->att_prev = p;
    db->att = p;
    pthread_mutex_unlock(&db->att_mu);
}

void txn_free(txn *t)
{
    if (!t)
        return;
    /* freed without commit (a crash simulation, a failed log): the actions
     * only release their arguments */
    for (int i = 0; i < t->nactions; i++)
        t->actions[i].fn(t->actions[i].arg, 0);
    release_gate(t);
    for (int i = 0; i < t->nparts; i++)
        if (t->parts[i].db)
            att_unlink(&t->parts[i]);
    lock_release_all(t->mgr->locks, &t->lo);
    lock_owner_destroy(&t->lo);
    txn_mgr *m = t->mgr;
    pthread_mutex_lock(&m->mu);
    if (t->prev)
        t->prev->next = t->next;
    else if (m->live == t)
        m->live = t->next;
    if (t->next)
        t->next->prev = t->prev;
    pthread_mutex_unlock(&m->mu);
    free(t->saves);
    free(t->actions);
    free(t);
}

txn_part *txn_find_part(txn *t, const txn_db *db)
{
    for (int i = 0; i < t->nparts; i++)
        if (t->parts[i].db == db)
            return &t->parts[i];
    return NULL;
}

txn_part *txn_attach_part(txn *t, txn_db *db, lsn_t first, lsn_t last, lsn_t undo_next, int state)
{
    if (t->nparts == TXN_MAX_DBS)
        return NULL;
    txn_part *p = &t->parts[t->nparts++];
    memset(p, 0, sizeof *p);
    p->db = db;
    p->txn = t;
    p->first_lsn = first;
    p->last_lsn = last;
    p->undo_next = undo_next;
    p->state = state;
    att_link(p);
    return p;
}

/* Append one record of t to p's chain. */
static lsn_t append_rec(txn *t, txn_part *p, int kind, const void *body, size_t len, hdb_err *err)
{
    log_rec r = { .kind = (uint8_t)kind, .txn_id = t->id, .prev_lsn = p->last_lsn,
                  .body = body, .body_len = (uint32_t)len };
    lsn_t lsn = log_append(p->db->log, &r, err);
    if (lsn) {
        if (!p->first_lsn)
            p->first_lsn = lsn;
        p->last_lsn = lsn;
        lock_owner_add_log_used(&t->lo, r.len);
    }
    return lsn;
}

txn_part *txn_join(txn *t, txn_db *db, hdb_err *err)
{
    txn_part *p = txn_find_part(t, db);
    if (p)
        return p;
    if (t->state != TXN_ACTIVE) {
        hdb_raise(err, 3930);
        return NULL;
    }
    if (db->read_only_log) {
        hdb_raise(err, 3906, db->name);
        return NULL;
    }
    if (t->nparts == TXN_MAX_DBS) {
        hdb_raise_text(err, 40000, 16, 1, "A transaction may not change more than 32 databases.");
        return NULL;
    }
    p = &t->parts[t->nparts];
    memset(p, 0, sizeof *p);
    p->db = db;
    p->txn = t;
    p->state = ATT_ACTIVE;
    lbuf b;
    lbuf_init(&b);
    lbuf_u64(&b, (uint64_t)t->begin_time_us);
    lbuf_str(&b, t->name);
    lbuf_str(&b, t->user);
    lbuf_u32(&b, (uint32_t)t->session_id);
    lbuf_u8(&b, (uint8_t)t->marked);
    lsn_t lsn = append_rec(t, p, LR_BEGIN, b.p, b.len, err);
    lbuf_free(&b);
    if (!lsn)
        return NULL;
    p->undo_next = lsn;
    t->nparts++;
    att_link(p);
    return p;
}

static lsn_t log_with_mtr(txn *t, txn_part *p, mtr *m, int kind, const void *prefix, size_t plen, hdb_err *err)
{
    log_rec r = { .kind = (uint8_t)kind, .txn_id = t->id, .prev_lsn = p->last_lsn };
    lsn_t lsn = mtr_commit(m, &r, prefix, plen, err);
    if (lsn) {
        p->last_lsn = lsn;
        lock_owner_add_log_used(&t->lo, r.len);
    }
    return lsn;
}

lsn_t txn_log_row(txn *t, txn_part *p, mtr *m, const void *undo, size_t undo_len, hdb_err *err)
{
    lbuf b;
    lbuf_init(&b);
    lbuf_u32(&b, (uint32_t)undo_len);
    lbuf_put(&b, undo, undo_len);
    lsn_t lsn = b.oom ? 0 : log_with_mtr(t, p, m, LR_ROW, b.p, b.len, err);
    if (b.oom)
        mtr_abort(m);
    lbuf_free(&b);
    if (lsn)
        p->undo_next = lsn;
    return lsn;
}

lsn_t txn_log_clr(txn *t, txn_part *p, mtr *m, lsn_t undo_next, hdb_err *err)
{
    uint64_t un = undo_next;
    lsn_t lsn = log_with_mtr(t, p, m, LR_CLR, &un, sizeof un, err);
    if (lsn)
        p->undo_next = undo_next;
    return lsn;
}

lsn_t txn_log_plain(txn *t, txn_part *p, int kind, const void *body, size_t len, hdb_err *err)
{
    return append_rec(t, p, kind, body, len, err);
}

int txn_on_commit(txn *t, txn_commit_action fn, void *arg)
{
    void *a = realloc(t->actions, (size_t)(t->nactions + 1) * sizeof t->actions[0]);
    if (!a)
        return -1;
    t->actions = a;
    t->actions[t->nactions].fn = fn;
    t->actions[t->nactions].arg = arg;
    t->nactions++;
    return 0;
}

/* ---- rollback ------------------------------------------------------------ */

static void run_actions(txn *t, int committed)
{
    for (int i = 0; i < t->nactions; i++)
        t->actions[i].fn(t->actions[i].arg, committed);
    t->nactions = 0;
}

/* Undo p's records newer than `stop` (exclusive). */
static int undo_part(txn *t, txn_part *p, lsn_t stop, hdb_err *err)
{
    uint8_t *buf = NULL;
    size_t cap = 0;
    int rc = 0;
    lsn_t lsn = p->undo_next;
    while (lsn && lsn > stop) {
        log_rec rec;
        if (log_read_at(p->db->log, lsn, &rec, &buf, &cap, err) < 0) {
            rc = -1;
            break;
        }
        if (rec.txn_id != t->id) {
            rc = hdb_raise(err, 3314, p->db->name, "(transaction chain broken)");
            break;
        }
        if (rec.kind == LR_ROW) {
            if (t->mgr->undo(t->mgr->undo_ctx, t, p, &rec, err) < 0) {
                rc = -1;
                break;
            }
            lsn = rec.prev_lsn;
        } else if (rec.kind == LR_CLR) {
            uint64_t un = 0;
            if (rec.body_len >= 8)
                memcpy(&un, rec.body, 8);
            lsn = un;
        } else if (rec.kind == LR_BEGIN) {
            lsn = 0;
        } else {
            lsn = rec.prev_lsn;
        }
        p->undo_next = lsn;
    }
    free(buf);
    return rc;
}

static void end_txn(txn *t, int state)
{
    /* what this transaction read or restored of a handed-over commit must
     * not reach others through its locks before that commit is durable */
    hdb_err ignore;
    wait_handed_commits(t, NULL, &ignore);   /* fails only with a failed log */
    release_gate(t);
    t->state = state;
    for (int i = 0; i < t->nparts; i++)
        att_unlink(&t->parts[i]);
    lock_release_all(t->mgr->locks, &t->lo);
}

/* Roll every participant back; with `defer`, one whose undo hits a page
 * error stays as it is (txn_rollback_or_defer). Returns 0, 1 (deferred) or -1. */
static int rollback_parts(txn *t, int defer, hdb_err *err)
{
    int rc = 0, deferred = 0;
    for (int i = t->nparts - 1; i >= 0; i--) {
        txn_part *p = &t->parts[i];
        if (p->state == 0)
            continue;   /* rolled back by an earlier attempt */
        p->state = ATT_ABORTING;
        hdb_err e;
        hdb_err_clear(&e);
        if (undo_part(t, p, 0, &e) < 0) {
            if (defer && (e.number == 823 || e.number == 824 || e.number == 829)) {
                p->deferred = 1;
                if (!deferred++)
                    *err = e;
            } else {
                if (rc == 0)
                    *err = e;
                rc = -1;   /* the database needs recovery; others still roll back */
            }
            continue;
        }
        p->deferred = 0;
        uint64_t now = (uint64_t)txn_now_us();
        if (!append_rec(t, p, LR_ABORT, &now, sizeof now, err))
            rc = -1;
        else if (defer) {
            att_unlink(p);   /* this database is done with it, whatever the others do */
            p->state = 0;
        }
    }
    if (deferred && rc == 0) {
        t->state = TXN_DEFERRED;   /* locks and the unfinished parts stay */
        return 1;
    }
    /* An abort record need not be durable before locks go: if it is lost,
     * recovery finds the CLRs and finishes the (already complete) rollback. */
    run_actions(t, 0);
    end_txn(t, TXN_ABORTED);
    return rc;
}

int txn_rollback(txn *t, hdb_err *err)
{
    hdb_err ignore;
    return rollback_parts(t, 0, err ? err : &ignore);
}

int txn_rollback_or_defer(txn *t, hdb_err *err)
{
    hdb_err ignore;
    return rollback_parts(t, 1, err ? err : &ignore);
}

int txn_save(txn *t, const char *name, hdb_err *err)
{
    void *s = realloc(t->saves, (size_t)(t->nsaves + 1) * sizeof *t->saves);
    if (!s)
        return hdb_raise_text(err, 701, 19, 1, "There is insufficient system memory to run this query.");
    t->saves = s;
    txn_savepoint *sp = &t->saves[t->nsaves++];
    memset(sp, 0, sizeof *sp);
    snprintf(sp->name, sizeof sp->name, "%s", name);
    sp->nactions = t->nactions;
    sp->nparts = t->nparts;
    for (int i = 0; i < t->nparts; i++)
        sp->last[i] = t->parts[i].last_lsn;
    return 0;
}

int txn_rollback_to(txn *t, const char *name, hdb_err *err)
{
    int k;
    for (k = t->nsaves - 1; k >= 0; k--)
        if (strcasecmp(t->saves[k].name, name) == 0)
            break;
    if (k < 0)
        return hdb_raise(err, 6401, name);
    txn_savepoint *sp = &t->saves[k];
    for (int i = t->nparts - 1; i >= 0; i--) {
        /* participants joined after the savepoint lose everything but BEGIN */
        lsn_t stop = i < sp->nparts ? sp->last[i] : t->parts[i].first_lsn;
        if (undo_part(t, &t->parts[i], stop, err) < 0)
            return -1;
    }
    /* work undone here must not act at commit (e.g. free pages the restored
     * rows point to again) */
    for (int i = sp->nactions; i < t->nactions; i++)
        t->actions[i].fn(t->actions[i].arg, 0);
    t->nactions = sp->nactions;
    /* the savepoint stays; later ones are gone (SQL Server semantics) */
    t->nsaves = k + 1;
    return 0;
}

/* ---- commit ---------------------------------------------------------------- */


/* A marked transaction (BEGIN TRAN name WITH MARK) leaves its mark in the
 * log of every database it changed, right before the COMMIT there: restores
 * stop at it (STOPATMARK / STOPBEFOREMARK). */
static lsn_t log_mark(txn *t, txn_part *p, uint64_t now, hdb_err *err)
{
    lbuf b;
    lbuf_init(&b);
    lbuf_u64(&b, now);
    lbuf_str(&b, t->name);
    lbuf_str(&b, t->mark_desc);
    lbuf_str(&b, t->user);
    lbuf_str(&b, p->db->name);
    lsn_t lsn = 0;
    if (b.oom)
        hdb_raise(err, 701, "default");
    else
        lsn = append_rec(t, p, LR_MARK, b.p, b.len, err);
    lbuf_free(&b);
    return lsn;
}

static lsn_t log_commit(txn *t, txn_part *p, hdb_err *err)
{
    uint64_t now = (uint64_t)txn_now_us();
    if (t->marked && !log_mark(t, p, now, err))
        return 0;
    lsn_t lsn = append_rec(t, p, LR_COMMIT, &now, sizeof now, err);
    if (lsn) {
        p->commit_lsn = lsn;
        t->commit_time_us = (int64_t)now;
    }
    return lsn;
}

int txn_prepare(txn *t, const uint8_t gtid[16], uint32_t coord_db, hdb_err *err)
{
    if (wait_handed_commits(t, NULL, err) < 0)
        return -1;
    /* from the first PREPARE to the last COMMIT no marked commit may run
     * (unless this is the marked one, which holds the gate) */
    if (!t->gate) {
        commit_gate_enter(&t->mgr->gate);
        t->gate = TXN_GATE_INSIDE;
    }
    lbuf b;
    lbuf_init(&b);
    lbuf_u64(&b, (uint64_t)txn_now_us());
    lbuf_put(&b, gtid, 16);
    lbuf_u32(&b, coord_db);
    lbuf_u16(&b, (uint16_t)t->nparts);
    for (int i = 0; i < t->nparts; i++)
        lbuf_u32(&b, t->parts[i].db->id);
    lsn_t lsns[TXN_MAX_DBS];
    int rc = 0;
    for (int i = 0; i < t->nparts && rc == 0; i++) {
        lsns[i] = append_rec(t, &t->parts[i], LR_PREPARE, b.p, b.len, err);
        if (!lsns[i])
            rc = -1;
    }
    lbuf_free(&b);
    /* Phase one is complete only when every prepare record is durable; the
     * flushes run on each database's log writer in parallel. */
    for (int i = 0; i < t->nparts && rc == 0; i++)
        if (log_flush_to(t->parts[i].db->log, lsns[i], err) < 0)
            rc = -1;
    if (rc == 0) {
        t->state = TXN_PREPARED;
        for (int i = 0; i < t->nparts; i++)
            t->parts[i].state = ATT_PREPARED;
    }
    return rc;
}

int txn_commit_prepared(txn *t, hdb_err *err)
{
    /* The decision is a COMMIT in any participant's log (recovery.c commits
     * a prepared transaction if one of its databases holds its COMMIT), so
     * every COMMIT is appended at once and the logs are flushed together:
     * one round of log writes after the prepare, not two. */
    lsn_t lsns[TXN_MAX_DBS];
    crash_if(t, TXN_CRASH_PREPARED);
    for (int i = 0; i < t->nparts; i++) {
        lsns[i] = log_commit(t, &t->parts[i], err);
        if (!lsns[i]) {
            release_gate(t);   /* the outcome is recovery's to decide now */
            return -1;
        }
        t->parts[i].state = ATT_COMMITTED;
    }
    /* every COMMIT is in its log: the order a mark depends on is fixed */
    release_gate(t);
    /* Every commit record is durable before the transaction leaves the
     * active tables, so no later checkpoint can truncate a decision another
     * participant's recovery may still look for. */
    for (int i = 0; i < t->nparts; i++) {
        if (log_flush_to(t->parts[i].db->log, lsns[i], err) < 0)
            return -1;
        if (i == 0)
            crash_if(t, TXN_CRASH_DECIDED);
    }
    run_actions(t, 1);
    end_txn(t, TXN_COMMITTED);
    return 0;
}

int txn_commit(txn *t, hdb_err *err)
{
    if (t->state != TXN_ACTIVE)
        return hdb_raise(err, 3930);
    if (t->nparts == 0) {           /* read-only: nothing to log */
        end_txn(t, TXN_COMMITTED);
        return 0;
    }
    /* A marked commit closes the gate first (seed 003): prepared transactions
     * finish, new ones wait until its mark and COMMIT are in every log. */
    if (t->marked) {
        if (commit_gate_close(&t->mgr->gate, t->mgr->mark_timeout_ms) < 0) {
            hdb_err ignore;
            txn_rollback(t, &ignore);
            char msg[HDB_ERR_MSG_MAX];
            snprintf(msg, sizeof msg,
                     "The marked transaction \"%s\" failed. A timeout occurred while attempting to place a mark "
                     "in the log by committing the marked transaction. This can be caused by contention with "
                     "distributed transactions or other local marked transactions that have prepared, but not "
                     "committed or aborted. Try the operation again and if the error persists, determine the "
                     "source of the contention.", t->name);
            return hdb_raise_text(err, 3928, 16, 1, msg);
        }
        t->gate = TXN_GATE_HELD;
    }
    if (t->nparts == 1) {
        txn_part *p = &t->parts[0];
        /* a commit read here that lives in another log must be durable
         * before this commit record can be: nothing orders the two logs */
        if (wait_handed_commits(t, p->db->log, err) < 0) {
            hdb_err ignore;
            txn_rollback(t, &ignore);
            return -1;
        }
        lsn_t lsn = log_commit(t, p, err);
        if (!lsn) {
            hdb_err ignore;
            txn_rollback(t, &ignore);
            return -1;
        }
        release_gate(t);
        p->state = ATT_COMMITTED;
        /* Early lock release: whoever waits for a lock of this transaction
         * gets it now, while the flush runs, and remembers (log, lsn); what it
         * then sends a client waits for this flush, and its own commit record
         * comes after this one. Commit actions (page frees) need the locks
         * until they have run, so such a transaction keeps them. */
        if (t->nactions == 0 && atomic_load_explicit(&t->mgr->early_release, memory_order_relaxed)) {
            size_t n = lock_hand_over(t->mgr->locks, &t->lo, p->db->log, lsn);
            if (n)
                atomic_fetch_add_explicit(&t->mgr->handed_over, n, memory_order_relaxed);
        }
        /* Durability: the commit is acknowledged only once the log writer's
         * fdatasync covers this record (group commit). */
        if (log_flush_to(p->db->log, lsn, err) < 0)
            return -1;   /* log failed: outcome decided by recovery */
        run_actions(t, 1);
        end_txn(t, TXN_COMMITTED);
        return 0;
    }
    uint8_t gtid[16] = { 0 };
    memcpy(gtid, &t->id, 8);
    if (txn_prepare(t, gtid, t->parts[0].db->id, err) < 0) {
        hdb_err ignore;
        txn_rollback(t, &ignore);
        return -1;
    }
    return txn_commit_prepared(t, err);
}
