/* deferred.c — deferred transactions (see deferred.h). */
#include "engine/deferred.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "access/btree.h"
#include "engine/instance.h"

/* The instance's deferred transactions (few: each is a damaged page's worth
 * of trouble), under the list mutex. */
#define DEFERRED_MAX 256
static pthread_mutex_t list_mu = PTHREAD_MUTEX_INITIALIZER;
static struct { instance *in; txn *t; } list[DEFERRED_MAX];
static int nlist;

int deferred_allowed(database *db, hdb_err *err)
{
    pthread_mutex_lock(&db->boot_mu);
    int model = db->boot.recovery_model;
    lsn_t full = db->boot.full_backup_lsn;
    pthread_mutex_unlock(&db->boot_mu);
    if (model != RECOVERY_SIMPLE && full)
        return 0;
    return hdb_raise_text(err, 3418, 16, 1,
                          "Recovery is unable to defer error. Errors can only be deferred in databases using the "
                          "full recovery model and an active backup log chain.");
}

static int has_part_in(const txn *t, const database *db)
{
    for (int i = 0; i < t->nparts; i++)
        if (t->parts[i].db == &db->tdb && t->parts[i].state)
            return 1;
    return 0;
}

/* X on every key the part's not yet undone records changed (walking its
 * chain back from undo_next, skipping what compensation records undid), IX
 * on their tables, X on the catalog when it changed the catalog. */
static int lock_remaining(txn *t, txn_part *p, hdb_err *err)
{
    database *db = db_of(p->db);
    lock_mgr *lm = txn_mgr_locks(t->mgr);
    uint8_t *buf = NULL;
    size_t cap = 0;
    int rc = 0;
    lsn_t lsn = p->undo_next;
    while (rc == 0 && lsn) {
        log_rec rec;
        if (log_read_at(p->db->log, lsn, &rec, &buf, &cap, err) < 0) {
            rc = -1;
            break;
        }
        lsn = rec.prev_lsn;
        if (rec.kind == LR_BEGIN)
            break;
        if (rec.kind == LR_CLR) {
            uint64_t un = 0;
            if (rec.body_len >= 8)
                memcpy(&un, rec.body, 8);
            lsn = un;
            continue;
        }
        if (rec.kind != LR_ROW || rec.body_len < 4)
            continue;
        uint32_t ulen;
        memcpy(&ulen, rec.body, 4);
        const uint8_t *undo = rec.body + 4;
        bt_undo_rec u;
        if (ulen > rec.body_len - 4 || bt_undo_parse(undo, ulen, &u) < 0)
            continue;
        uint32_t obj = u.object_id;
        uint16_t idx = u.index_id;
        lock_res res;
        if (obj < FIRST_USER_OBJECT_ID) {
            res = lock_res_metadata(db->tdb.id, SYSOBJ_OBJECTS);
            rc = lock_acquire(lm, &t->lo, &res, LOCK_X, 0, err);
            continue;
        }
        const uint8_t *key = u.key;
        uint32_t klen = u.klen;
        res = lock_res_table(db->tdb.id, obj);
        rc = lock_acquire(lm, &t->lo, &res, LOCK_IX, 0, err);
        if (rc == 0 && key) {
            /* secondary index entries are locked as SQL Server's unique ones are */
            res = lock_res_key(db->tdb.id, idx == 1 ? obj : obj + ((uint32_t)idx << 24), key, klen);
            rc = lock_acquire(lm, &t->lo, &res, LOCK_X, 0, err);
        }
    }
    free(buf);
    return rc;
}

int deferred_add(database *db, txn *t, const hdb_err *why, hdb_err *err)
{
    for (int i = 0; i < t->nparts; i++)
        if (t->parts[i].deferred && lock_remaining(t, &t->parts[i], err) < 0)
            return -1;
    pthread_mutex_lock(&list_mu);
    int full = nlist == DEFERRED_MAX;
    if (!full) {
        list[nlist].in = db->inst;
        list[nlist++].t = t;
    }
    pthread_mutex_unlock(&list_mu);
    if (full)
        return hdb_raise_text(err, 3418, 16, 1, "Recovery is unable to defer error: too many deferred transactions.");
    /* SQL Server's marks: its locks belong to session -3 ("a deferred
     * recovery transaction": blocking_session_id in sys.dm_exec_requests), and
     * it is listed by that name in sys.dm_tran_active_transactions */
    t->session_id = 0;
    t->lo.session_id = DEFERRED_SESSION_ID;
    snprintf(t->name, sizeof t->name, "deferred");
    if (db->inst)
        inst_log(db->inst,
                 "An error occurred during recovery while rolling back transaction %llu in database '%s'. The "
                 "transaction was deferred. Restore the bad page or file and re-run recovery. (3401) Cause: %s "
                 "(error %d).", (unsigned long long)t->id, db->tdb.name, why->msg, why->number);
    return 0;
}

int deferred_count(database *db)
{
    int n = 0;
    pthread_mutex_lock(&list_mu);
    for (int i = 0; i < nlist; i++)
        n += has_part_in(list[i].t, db);
    pthread_mutex_unlock(&list_mu);
    return n;
}

/* Take the deferred transactions of db off the list (into out). */
static int take(database *db, txn **out)
{
    int n = 0;
    pthread_mutex_lock(&list_mu);
    for (int i = 0; i < nlist;) {
        if (has_part_in(list[i].t, db)) {
            out[n++] = list[i].t;
            list[i] = list[--nlist];
        } else {
            i++;
        }
    }
    pthread_mutex_unlock(&list_mu);
    return n;
}

int deferred_retry(database *db, hdb_err *err)
{
    txn *mine[DEFERRED_MAX];
    int n = take(db, mine), remain = 0, rc = 0;
    for (int i = 0; i < n; i++) {
        hdb_err e;
        hdb_err_clear(&e);
        int r = txn_rollback_or_defer(mine[i], &e);
        if (r == 0) {
            if (db->inst)
                inst_log(db->inst, "Deferred transaction %llu in database '%s' was rolled back.",
                         (unsigned long long)mine[i]->id, db->tdb.name);
            txn_free(mine[i]);
        } else if (r == 1) {
            pthread_mutex_lock(&list_mu);
            list[nlist].in = db->inst;
            list[nlist++].t = mine[i];
            pthread_mutex_unlock(&list_mu);
            remain++;
        } else {
            if (rc == 0 && err)
                *err = e;
            rc = -1;
            txn_free(mine[i]);
        }
    }
    return rc < 0 ? -1 : remain;
}

void deferred_drop(database *db)
{
    txn *mine[DEFERRED_MAX];
    int n = take(db, mine);
    for (int i = 0; i < n; i++)
        txn_free(mine[i]);
}
