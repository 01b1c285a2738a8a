/* table.c — rows in, rows out: keys, indexes, overflow values, locks (see table.h). */
#include "engine/table.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "access/keyenc.h"
#include "access/overflow.h"
#include "access/row.h"

#define KEY_CAP (BT_MAX_KEY * 2 + 64)

static const char oom_text[] = "There is insufficient system memory to run this query.";

void table_row_free(table_row *r)
{
    if (!r)
        return;
    free(r->vals);
    free(r->buf);
    for (int i = 0; i < r->nlobs; i++)
        free(r->lobs[i]);
    free(r->lobs);
    memset(r, 0, sizeof *r);
}

/* ---- keys ------------------------------------------------------------------ */

static size_t rowid_key(uint8_t *k, int64_t id)
{
    uint64_t x = (uint64_t)id ^ (1ull << 63);
    for (int i = 7; i >= 0; i--) {
        k[i] = (uint8_t)x;
        x >>= 8;
    }
    return 8;
}

/* Encode index x's key columns taken from a full row of values. */
static int index_key(const table_def *td, const tbl_index *x, const sql_value *row,
                     uint8_t *out, size_t *len, hdb_err *err)
{
    sql_value kv[TBL_MAX_KEYCOLS];
    sql_type kt[TBL_MAX_KEYCOLS];
    for (int i = 0; i < x->nkeys; i++) {
        kv[i] = row[x->keycols[i]];
        kt[i] = td->types[x->keycols[i]];
    }
    if (keyenc_encode(kv, kt, x->desc, x->nkeys, out, KEY_CAP, len, err) < 0)
        return -1;
    if (*len > BT_MAX_KEY)
        return hdb_raise_text(err, 1946, 16, 1, "Operation failed. The index entry exceeds the maximum length of 900 bytes.");
    return 0;
}

/* Clustered key from the key column values only (table_get / update / delete). */
static int clustered_key_from_key(const table_def *td, const sql_value *key, uint8_t *out, size_t *len, hdb_err *err)
{
    const tbl_index *x = &td->idx[0];
    if (x->hidden_key) {
        *len = rowid_key(out, key[0].u.i);
        return 0;
    }
    sql_type kt[TBL_MAX_KEYCOLS];
    for (int i = 0; i < x->nkeys; i++)
        kt[i] = td->types[x->keycols[i]];
    return keyenc_encode(key, kt, x->desc, x->nkeys, out, KEY_CAP, len, err);
}

/* Secondary index entry: its key (+ clustering key unless unique) -> clustering key. */
static int secondary_key(const table_def *td, const tbl_index *x, const sql_value *row,
                         const uint8_t *ck, size_t cklen, uint8_t *out, size_t *len, hdb_err *err)
{
    if (index_key(td, x, row, out, len, err) < 0)
        return -1;
    if (!x->unique) {
        if (*len + cklen > KEY_CAP)
            return hdb_raise_text(err, 1946, 16, 1, "Operation failed. The index entry exceeds the maximum length of 900 bytes.");
        memcpy(out + *len, ck, cklen);
        *len += cklen;
    }
    return 0;
}

static int lock_key(txn *t, database *db, uint32_t obj, const uint8_t *k, size_t klen, lock_mode mode, hdb_err *err)
{
    lock_res res = lock_res_key(db->tdb.id, obj, k, klen);
    return lock_acquire(txn_mgr_locks(t->mgr), &t->lo, &res, mode, t->lock_timeout_ms, err);
}

static int lock_table(txn *t, database *db, uint32_t obj, lock_mode mode, hdb_err *err)
{
    lock_res res = lock_res_table(db->tdb.id, obj);
    return lock_acquire(txn_mgr_locks(t->mgr), &t->lo, &res, mode, t->lock_timeout_ms, err);
}

/* ---- key-range locks ----------------------------------------------------------
 *
 * (engine/README.md, "Key-range locking".) A SERIALIZABLE reader of a clustered
 * index takes RangeS-S on every key it reads and on the first key past its
 * range (the end-of-index resource past the last key): each covers the key
 * and the gap below it. It locks first and then checks, under latches, that
 * the gap is still what it saw. Writers test or take range locks under the
 * leaf latch, in the B+tree's next-key callback, so that the check and the
 * change are one step:
 *   insert k (next key n): RangeI-N on n, instant (waits, keeps nothing),
 *     and RangeI-X on k itself, kept to the end;
 *   delete k (next key n): RangeX-X on k (before the B+tree operation) and
 *     RangeX-N on n, both kept to the end: the delete is physical, so the gap
 *     it merges stays locked against readers, inserters and other deleters
 *     until the deleter commits or rolls k back.
 * A callback that would have to wait gives up (BT_WAIT); the caller then waits
 * for that lock with no latch held and tries again. Heaps have no key order
 * to lock: a SERIALIZABLE read of a heap takes S on the table instead. */

/* The lock resource of a clustered key (k NULL: the end of the index). */
static lock_res ckey_res(database *db, const table_def *td, const uint8_t *k, size_t kl)
{
    return k ? lock_res_key(db->tdb.id, td->object_id, k, kl) : lock_res_key_end(db->tdb.id, td->object_id);
}

/* What a next-key callback could not get without waiting. */
typedef struct range_ctx {
    txn       *t;
    database  *db;
    table_def *td;
    const uint8_t *key;      /* the key inserted */
    size_t     klen;
    lock_res   wait_res;
    lock_mode  wait_mode;
    int        instant;
} range_ctx;

/* A no-wait attempt inside a callback: 0 got it, BT_WAIT (remembered in c), -1.
 * An instant attempt reports in *held what the transaction itself holds. */
static int range_try(range_ctx *c, const lock_res *res, lock_mode mode, int instant, lock_mode *held,
                     hdb_err *err)
{
    lock_mgr *lm = txn_mgr_locks(c->t->mgr);
    hdb_err e;
    hdb_err_clear(&e);
    int rc = instant ? lock_acquire_instant(lm, &c->t->lo, res, mode, LOCK_NOWAIT, held, &e)
                     : lock_acquire(lm, &c->t->lo, res, mode, LOCK_NOWAIT, &e);
    if (rc == 0)
        return 0;
    if (e.number != 1222) {
        *err = e;
        return -1;
    }
    c->wait_res = *res;
    c->wait_mode = mode;
    c->instant = instant;
    return BT_WAIT;
}

static int insert_next_key(void *ctx, const uint8_t *next, size_t nlen, hdb_err *err)
{
    range_ctx *c = ctx;
    lock_res res = ckey_res(c->db, c->td, next, nlen);
    lock_mode held = LOCK_NONE;
    int rc = range_try(c, &res, LOCK_RANGE_I_N, 1, &held, err);
    if (rc != 0 || !(lock_mode_covers(held, LOCK_RANGE_S_S) || lock_mode_covers(held, LOCK_RANGE_X_N)))
        return rc;
    /* The gap is one we read SERIALIZABLE or merged by a delete: the new key
     * splits it, and the part below the new key must stay locked too. */
    res = ckey_res(c->db, c->td, c->key, c->klen);
    return range_try(c, &res, LOCK_RANGE_X_X, 0, NULL, err);
}

/* (The deleted key itself is already RangeX-X: table_delete took it.) */
static int delete_next_key(void *ctx, const uint8_t *next, size_t nlen, hdb_err *err)
{
    range_ctx *c = ctx;
    lock_res res = ckey_res(c->db, c->td, next, nlen);
    return range_try(c, &res, LOCK_RANGE_X_N, 0, NULL, err);
}

/* After BT_WAIT: wait for what the callback could not get. */
static int range_wait(range_ctx *c, hdb_err *err)
{
    lock_mgr *lm = txn_mgr_locks(c->t->mgr);
    return c->instant ? lock_acquire_instant(lm, &c->t->lo, &c->wait_res, c->wait_mode, c->t->lock_timeout_ms,
                                             NULL, err)
                      : lock_acquire(lm, &c->t->lo, &c->wait_res, c->wait_mode, c->t->lock_timeout_ms, err);
}

/* Clustered-index insert / delete with the key-range protocol (not for heaps). */
static int ranged_insert(txn *t, txn_part *p, database *db, table_def *td, const uint8_t *ck, size_t cklen,
                         const uint8_t *row, size_t rowlen, hdb_err *err)
{
    range_ctx c = { .t = t, .db = db, .td = td, .key = ck, .klen = cklen };
    for (;;) {
        int rc = bt_insert_ranged(&td->idx[0].bt, t, p, ck, cklen, row, rowlen, insert_next_key, &c, err);
        if (rc != BT_WAIT)
            return rc;
        if (range_wait(&c, err) < 0)
            return -1;
    }
}

static int ranged_delete(txn *t, txn_part *p, database *db, table_def *td, const uint8_t *ck, size_t cklen,
                         hdb_err *err)
{
    range_ctx c = { .t = t, .db = db, .td = td };
    for (;;) {
        int rc = bt_delete_ranged(&td->idx[0].bt, t, p, ck, cklen, delete_next_key, &c, err);
        if (rc != BT_WAIT)
            return rc;
        if (range_wait(&c, err) < 0)
            return -1;
    }
}

/* ---- rows and overflow ------------------------------------------------------ */

/* Encode vals into a record value that fits a B+tree record next to a key of
 * klen bytes, moving the largest variable columns to overflow pages. */
static int encode_row(database *db, const table_def *td, const sql_value *vals, size_t klen,
                      uint8_t **out, size_t *len, hdb_err *err)
{
    int n = td->ncols;
    sql_value *v = malloc((size_t)n * sizeof *v);
    if (!v)
        return hdb_raise_text(err, 701, 19, 1, oom_text);
    memcpy(v, vals, (size_t)n * sizeof *v);
    size_t limit = BT_MAX_RECORD - 2 - klen;
    while (row_inrow_size(v, td->types, n) > limit) {
        int best = -1;
        for (int i = 0; i < n; i++)
            if (!v[i].is_null && !(v[i].flags & VALUE_F_OFFROW) && value_type_is_variable(td->types[i].id) &&
                v[i].len > ROW_OFFROW_PTR_SIZE && (best < 0 || v[i].len > v[best].len))
                best = i;
        if (best < 0) {
            free(v);
            return hdb_raise(err, 511, (int)row_inrow_size(vals, td->types, n), (int)limit);
        }
        pgid_t first = ovf_write(&db->env, td->idx[0].fg_id, td->object_id, v[best].bytes, v[best].len, err);
        if (!first) {
            free(v);
            return -1;
        }
        v[best] = value_offrow(td->types[best].id, first, v[best].len);
    }
    size_t cap = row_inrow_size(v, td->types, n) + 16;
    uint8_t *buf = malloc(cap);
    int rc = buf ? row_encode(v, td->types, n, buf, cap, len, err) : hdb_raise_text(err, 701, 19, 1, oom_text);
    free(v);
    if (rc < 0) {
        free(buf);
        return -1;
    }
    *out = buf;
    return 0;
}

/* Overflow chains a stored row points to (count returned, ids in out). */
static int offrow_chains(const table_def *td, const uint8_t *row, size_t len, pgid_t *out, int cap)
{
    int n = 0;
    for (int i = 0; i < td->ncols && n < cap; i++) {
        if (!value_type_is_variable(td->types[i].id) || row_var_column_is_offrow(row, len, td->types, i) != 1)
            continue;
        sql_value v;
        if (row_get_column(row, len, td->types, i, &v) == 0 && (v.flags & VALUE_F_OFFROW))
            out[n++] = v.u.offrow.first_page;
    }
    return n;
}

/* Decode a stored row into r (taking ownership of buf), reading overflow values. */
static int decode_row(database *db, const table_def *td, uint8_t *buf, size_t len, table_row *r, hdb_err *err)
{
    memset(r, 0, sizeof *r);
    r->buf = buf;
    r->len = len;
    r->ncols = td->ncols;
    r->vals = calloc((size_t)(td->ncols ? td->ncols : 1), sizeof *r->vals);
    if (!r->vals) {
        table_row_free(r);
        return hdb_raise_text(err, 701, 19, 1, oom_text);
    }
    if (row_decode(buf, len, td->types, td->ncols, r->vals) < 0) {
        table_row_free(r);
        return hdb_raise_text(err, 5180, 22, 1, "A stored row could not be decoded (row format).");
    }
    for (int i = 0; i < td->ncols; i++) {
        sql_value *v = &r->vals[i];
        if (!(v->flags & VALUE_F_OFFROW))
            continue;
        size_t n = (size_t)v->u.offrow.total_len;
        uint8_t *data = malloc(n ? n : 1);
        uint8_t **lobs = realloc(r->lobs, (size_t)(r->nlobs + 1) * sizeof *r->lobs);
        if (!data || !lobs) {
            free(data);
            if (lobs)
                r->lobs = lobs;
            table_row_free(r);
            return hdb_raise_text(err, 701, 19, 1, oom_text);
        }
        r->lobs = lobs;
        r->lobs[r->nlobs++] = data;
        if (ovf_read(&db->env, v->u.offrow.first_page, data, n, err) < 0) {
            table_row_free(r);
            return -1;
        }
        *v = value_bytes(td->types[i].id, data, (uint32_t)n);
    }
    return 0;
}

struct deferred_free {
    database *db;
    int n;
    pgid_t chains[];
};

static void free_chains_action(void *arg, int committed)
{
    struct deferred_free *d = arg;
    if (committed) {
        for (int i = 0; i < d->n; i++) {
            hdb_err e;
            /* a failure here only leaks pages, which DBCC CHECKALLOC reports */
            ovf_free(&d->db->env, d->chains[i], &e);
        }
    }
    free(d);
}

/* Free a stored row's overflow chains at once (a row that was never stored,
 * or whose change is being undone). Best effort: a chain that cannot be
 * freed is a leak DBCC CHECKDB reports (8964), never lost data. */
static void free_offrow_now(database *db, const table_def *td, const uint8_t *row, size_t len)
{
    pgid_t chains[64];
    int n = offrow_chains(td, row, len, chains, 64);
    for (int i = 0; i < n; i++) {
        hdb_err e;
        ovf_free(&db->env, chains[i], &e);
    }
}

/* Free a stored row's overflow chains when t commits. */
static int free_offrow_at_commit(txn *t, database *db, const table_def *td, const uint8_t *row, size_t len, hdb_err *err)
{
    pgid_t chains[64];
    int n = offrow_chains(td, row, len, chains, 64);
    if (!n)
        return 0;
    struct deferred_free *d = malloc(sizeof *d + (size_t)n * sizeof(pgid_t));
    if (!d)
        return hdb_raise_text(err, 701, 19, 1, oom_text);
    d->db = db;
    d->n = n;
    memcpy(d->chains, chains, (size_t)n * sizeof(pgid_t));
    if (txn_on_commit(t, free_chains_action, d) < 0) {
        free(d);
        return hdb_raise_text(err, 701, 19, 1, oom_text);
    }
    return 0;
}

/* ---- row operations ---------------------------------------------------------- */

static int check_nulls(const table_def *td, const sql_value *vals, hdb_err *err)
{
    for (int i = 0; i < td->ncols; i++) {
        if (vals[i].is_null && !td->cols[i].nullable) {
            char msg[400];
            snprintf(msg, sizeof msg, "Cannot insert the value NULL into column '%s', table '%s'; column does not allow nulls. INSERT fails.",
                     td->cols[i].name, td->name);
            return hdb_raise_text(err, 515, 16, 2, msg);
        }
        if (!vals[i].is_null && !(vals[i].flags & VALUE_F_OFFROW) && value_check(&vals[i], &td->types[i], err) < 0)
            return -1;
    }
    return 0;
}

static int duplicate_error(const table_def *td, const tbl_index *x, const sql_value *row, hdb_err *err)
{
    sql_value kv[TBL_MAX_KEYCOLS];
    sql_type kt[TBL_MAX_KEYCOLS];
    for (int i = 0; i < x->nkeys; i++) {
        kv[i] = row[x->keycols[i]];
        kt[i] = td->types[x->keycols[i]];
    }
    char desc[600];
    keyenc_describe(kv, kt, x->nkeys, desc, sizeof desc);
    char obj[CAT_NAME_MAX + 8];
    snprintf(obj, sizeof obj, "dbo.%s", td->name);
    if (x->primary_key)
        return hdb_raise(err, 2627, x->name, obj, desc);
    return hdb_raise(err, 2601, obj, x->name, desc);
}

static int insert_secondaries(txn *t, txn_part *p, database *db, table_def *td, const sql_value *vals,
                              const uint8_t *ck, size_t cklen, hdb_err *err)
{
    for (int i = 1; i < td->nidx; i++) {
        tbl_index *x = &td->idx[i];
        uint8_t sk[KEY_CAP];
        size_t sklen;
        if (secondary_key(td, x, vals, ck, cklen, sk, &sklen, err) < 0)
            return -1;
        if (x->unique && lock_key(t, db, td->object_id + ((uint32_t)x->index_id << 24), sk, sklen, LOCK_X, err) < 0)
            return -1;
        int rc = bt_insert(&x->bt, t, p, sk, sklen, ck, cklen, err);
        if (rc < 0)
            return -1;
        if (rc == 1)
            return duplicate_error(td, x, vals, err);
    }
    return 0;
}

static int delete_secondaries(txn *t, txn_part *p, database *db, table_def *td, const sql_value *vals,
                              const uint8_t *ck, size_t cklen, hdb_err *err)
{
    (void)db;
    for (int i = 1; i < td->nidx; i++) {
        tbl_index *x = &td->idx[i];
        uint8_t sk[KEY_CAP];
        size_t sklen;
        if (secondary_key(td, x, vals, ck, cklen, sk, &sklen, err) < 0)
            return -1;
        if (bt_delete(&x->bt, t, p, sk, sklen, err) < 0)
            return -1;
    }
    return 0;
}

/* Delete the secondary entries of the stored row `old`. */
static int delete_secondaries_of(txn *t, txn_part *p, database *db, table_def *td, const uint8_t *old,
                                 size_t oldlen, const uint8_t *ck, size_t cklen, hdb_err *err)
{
    uint8_t *copy = malloc(oldlen ? oldlen : 1);
    if (!copy)
        return hdb_raise_text(err, 701, 19, 1, oom_text);
    memcpy(copy, old, oldlen);
    table_row r;
    if (decode_row(db, td, copy, oldlen, &r, err) < 0)
        return -1;
    int rc = delete_secondaries(t, p, db, td, r.vals, ck, cklen, err);
    table_row_free(&r);
    return rc;
}

int table_insert(txn *t, database *db, table_def *td, const sql_value *vals, hdb_err *err)
{
    if (check_nulls(td, vals, err) < 0)
        return -1;
    txn_part *p = txn_join(t, &db->tdb, err);
    if (!p || lock_table(t, db, td->object_id, LOCK_IX, err) < 0)
        return -1;
    tbl_index *cx = &td->idx[0];
    uint8_t ck[KEY_CAP];
    size_t cklen;
    if (cx->hidden_key)
        cklen = rowid_key(ck, td->next_rowid++);
    else if (index_key(td, cx, vals, ck, &cklen, err) < 0)
        return -1;
    /* RangeI-X, not X: a delete whose next key is this uncommitted one must
     * wait, or a rollback of the insert would take its gap lock away */
    if (lock_key(t, db, td->object_id, ck, cklen, cx->hidden_key ? LOCK_X : LOCK_RANGE_I_X, err) < 0)
        return -1;
    uint8_t *row;
    size_t rowlen;
    if (encode_row(db, td, vals, cklen, &row, &rowlen, err) < 0)
        return -1;
    int rc = cx->hidden_key ? bt_insert(&cx->bt, t, p, ck, cklen, row, rowlen, err)
                            : ranged_insert(t, p, db, td, ck, cklen, row, rowlen, err);
    if (rc != 0) {
        /* nothing refers to the row's overflow chains (a duplicate, a lock
         * timeout or deadlock waiting for a key range) */
        pgid_t chains[64];
        int n = offrow_chains(td, row, rowlen, chains, 64);
        for (int i = 0; i < n; i++) {
            hdb_err e;
            ovf_free(&db->env, chains[i], &e);
        }
        free(row);
        return rc == 1 ? duplicate_error(td, cx, vals, err) : -1;
    }
    free(row);
    return insert_secondaries(t, p, db, td, vals, ck, cklen, err);
}

/* Read the stored row of clustered key ck (no locking). 1/0/-1. */
static int fetch(database *db, table_def *td, const uint8_t *ck, size_t cklen, table_row *row, hdb_err *err)
{
    uint8_t *val;
    size_t vlen;
    int rc = bt_get(&td->idx[0].bt, ck, cklen, &val, &vlen, err);
    if (rc != 1)
        return rc;
    if (!row) {
        free(val);
        return 1;
    }
    return decode_row(db, td, val, vlen, row, err) < 0 ? -1 : 1;
}

/* Read-lock a key for a reader at isolation iso; *release says whether to
 * drop it right after reading (READ COMMITTED). */
static int read_lock(txn *t, database *db, table_def *td, const uint8_t *ck, size_t cklen, int iso, int *release, hdb_err *err)
{
    *release = 0;
    if (iso == ISO_READ_UNCOMMITTED)
        return 0;
    if (iso == ISO_FOR_UPDATE)
        return lock_table(t, db, td->object_id, LOCK_IX, err) < 0 ? -1
               : lock_key(t, db, td->object_id, ck, cklen, LOCK_X, err);
    if (lock_table(t, db, td->object_id, LOCK_IS, err) < 0)
        return -1;
    lock_res res = lock_res_key(db->tdb.id, td->object_id, ck, cklen);
    lock_mgr *lm = txn_mgr_locks(t->mgr);
    lock_mode held = lock_held_mode(lm, &t->lo, &res);
    if (lock_mode_covers(held, LOCK_S))
        return 0;
    if (lock_acquire(lm, &t->lo, &res, LOCK_S, t->lock_timeout_ms, err) < 0)
        return -1;
    /* a lock held before (e.g. RangeI-N from deleting the key before) stays */
    *release = iso == ISO_READ_COMMITTED && held == LOCK_NONE;
    return 0;
}

/* SERIALIZABLE read of a heap: S on the table covers every row and the gaps. */
static int heap_serializable(const table_def *td, int iso)
{
    return iso == ISO_SERIALIZABLE && td->idx[0].hidden_key;
}

/* SERIALIZABLE read of a clustered index: key-range locks. */
static int key_range_read(const table_def *td, int iso)
{
    return iso == ISO_SERIALIZABLE && !td->idx[0].hidden_key;
}

static int lock_range_s(txn *t, database *db, const table_def *td, const uint8_t *k, size_t kl, hdb_err *err)
{
    lock_res res = ckey_res(db, td, k, kl);
    return lock_acquire(txn_mgr_locks(t->mgr), &t->lo, &res, LOCK_RANGE_S_S, t->lock_timeout_ms, err);
}

/* First key >= ck: 1 (copied to out), 0 none, -1. */
static int first_key_from(bt_cursor *c, const uint8_t *ck, size_t cklen, uint8_t *out, size_t *outlen, hdb_err *err)
{
    if (bt_cursor_seek(c, ck, cklen, 1, err) < 0)
        return -1;
    const uint8_t *k;
    size_t kl;
    int rc = bt_cursor_next(c, &k, &kl, NULL, NULL, err);
    if (rc == 1) {
        memcpy(out, k, kl);
        *outlen = kl;
    }
    return rc;
}

/* SERIALIZABLE point lookup in a clustered index: a key found needs only its
 * S lock; a key not found locks the gap it would go in (RangeS-S on the next
 * key), checked again after the lock was granted. */
static int get_serializable(txn *t, database *db, table_def *td, const uint8_t *ck, size_t cklen, table_row *row,
                            hdb_err *err)
{
    if (lock_table(t, db, td->object_id, LOCK_IS, err) < 0)
        return -1;
    bt_cursor *c = bt_cursor_open(&td->idx[0].bt, NULL, 0, 1, err);
    if (!c)
        return -1;
    int rc;
    for (;;) {
        uint8_t nk[KEY_CAP], nk2[KEY_CAP];
        size_t nkl = 0, nk2l = 0;
        rc = first_key_from(c, ck, cklen, nk, &nkl, err);
        if (rc < 0)
            break;
        if (rc == 1 && nkl == cklen && memcmp(nk, ck, cklen) == 0) {
            int release;
            rc = read_lock(t, db, td, ck, cklen, ISO_SERIALIZABLE, &release, err);
            if (rc == 0)
                rc = fetch(db, td, ck, cklen, row, err);
            if (rc != 0)
                break;
            continue;            /* deleted while we waited: now a gap */
        }
        if (lock_range_s(t, db, td, rc == 1 ? nk : NULL, nkl, err) < 0) {
            rc = -1;
            break;
        }
        int rc2 = first_key_from(c, ck, cklen, nk2, &nk2l, err);
        if (rc2 < 0) {
            rc = -1;
            break;
        }
        if (rc2 == rc && (rc == 0 || (nk2l == nkl && memcmp(nk2, nk, nkl) == 0))) {
            rc = 0;
            break;
        }
    }
    bt_cursor_close(c);
    return rc;
}

static void read_unlock(txn *t, database *db, table_def *td, const uint8_t *ck, size_t cklen)
{
    lock_res res = lock_res_key(db->tdb.id, td->object_id, ck, cklen);
    lock_release(txn_mgr_locks(t->mgr), &t->lo, &res);
}

int table_get(txn *t, database *db, table_def *td, const sql_value *key, int iso, table_row *row, hdb_err *err)
{
    uint8_t ck[KEY_CAP];
    size_t cklen;
    if (clustered_key_from_key(td, key, ck, &cklen, err) < 0)
        return -1;
    if (key_range_read(td, iso))
        return get_serializable(t, db, td, ck, cklen, row, err);
    if (heap_serializable(td, iso))
        return lock_table(t, db, td->object_id, LOCK_S, err) < 0 ? -1 : fetch(db, td, ck, cklen, row, err);
    int release;
    if (read_lock(t, db, td, ck, cklen, iso, &release, err) < 0)
        return -1;
    int rc = fetch(db, td, ck, cklen, row, err);
    if (release)
        read_unlock(t, db, td, ck, cklen);
    return rc;
}

int table_delete(txn *t, database *db, table_def *td, const sql_value *key, hdb_err *err)
{
    uint8_t ck[KEY_CAP];
    size_t cklen;
    if (clustered_key_from_key(td, key, ck, &cklen, err) < 0)
        return -1;
    /* RangeX-X rather than X: besides the row, the gap below it goes (it waits
     * for a pending delete of the key before, whose gap lock this key holds) */
    txn_part *p = txn_join(t, &db->tdb, err);
    if (!p || lock_table(t, db, td->object_id, LOCK_IX, err) < 0 ||
        lock_key(t, db, td->object_id, ck, cklen, td->idx[0].hidden_key ? LOCK_X : LOCK_RANGE_X_X, err) < 0)
        return -1;
    uint8_t *old;
    size_t oldlen;
    int rc = bt_get(&td->idx[0].bt, ck, cklen, &old, &oldlen, err);
    if (rc != 1)
        return rc < 0 ? -1 : 1;
    /* the clustered delete first: it is the step that may wait for a key
     * range, and nothing has changed yet if that wait fails */
    rc = td->idx[0].hidden_key ? bt_delete(&td->idx[0].bt, t, p, ck, cklen, err)
                               : ranged_delete(t, p, db, td, ck, cklen, err);
    if (rc == 0 && td->nidx > 1)
        rc = delete_secondaries_of(t, p, db, td, old, oldlen, ck, cklen, err);
    if (rc == 0)
        rc = free_offrow_at_commit(t, db, td, old, oldlen, err);
    free(old);
    return rc;
}

int table_update(txn *t, database *db, table_def *td, const sql_value *key, const sql_value *vals, hdb_err *err)
{
    if (check_nulls(td, vals, err) < 0)
        return -1;
    tbl_index *cx = &td->idx[0];
    uint8_t ck[KEY_CAP], nk[KEY_CAP];
    size_t cklen, nklen;
    if (clustered_key_from_key(td, key, ck, &cklen, err) < 0)
        return -1;
    if (cx->hidden_key) {
        memcpy(nk, ck, cklen);
        nklen = cklen;
    } else if (index_key(td, cx, vals, nk, &nklen, err) < 0) {
        return -1;
    }
    if (nklen != cklen || memcmp(nk, ck, cklen) != 0) {
        /* the clustering key changes: the row moves */
        int rc = table_delete(t, db, td, key, err);
        if (rc != 0)
            return rc;
        return table_insert(t, db, td, vals, err) < 0 ? -1 : 0;
    }
    txn_part *p = txn_join(t, &db->tdb, err);
    if (!p || lock_table(t, db, td->object_id, LOCK_IX, err) < 0 ||
        lock_key(t, db, td->object_id, ck, cklen, LOCK_X, err) < 0)
        return -1;
    uint8_t *old;
    size_t oldlen;
    int rc = bt_get(&cx->bt, ck, cklen, &old, &oldlen, err);
    if (rc != 1)
        return rc < 0 ? -1 : 1;
    table_row r = { 0 };
    if (td->nidx > 1) {
        uint8_t *copy = malloc(oldlen);
        if (copy)
            memcpy(copy, old, oldlen);
        if (!copy || decode_row(db, td, copy, oldlen, &r, err) < 0) {
            if (!copy)
                hdb_raise_text(err, 701, 19, 1, oom_text);
            free(old);
            return -1;
        }
    }
    uint8_t *row = NULL;     /* encode_row leaves it unset when it fails */
    size_t rowlen;
    rc = encode_row(db, td, vals, cklen, &row, &rowlen, err);
    if (rc == 0) {
        rc = bt_update(&cx->bt, t, p, ck, cklen, row, rowlen, err);
        if (rc != 0)
            free_offrow_now(db, td, row, rowlen);   /* written for a row that never made it */
    }
    free(row);
    if (rc == 0)
        rc = free_offrow_at_commit(t, db, td, old, oldlen, err);
    free(old);
    /* secondary entries whose key changed move */
    for (int i = 1; rc == 0 && i < td->nidx; i++) {
        tbl_index *x = &td->idx[i];
        uint8_t ok[KEY_CAP], nk2[KEY_CAP];
        size_t oklen, nk2len;
        if (secondary_key(td, x, r.vals, ck, cklen, ok, &oklen, err) < 0 ||
            secondary_key(td, x, vals, ck, cklen, nk2, &nk2len, err) < 0) {
            rc = -1;
            break;
        }
        if (oklen == nk2len && memcmp(ok, nk2, oklen) == 0)
            continue;
        if (bt_delete(&x->bt, t, p, ok, oklen, err) < 0) {
            rc = -1;
            break;
        }
        if (x->unique && lock_key(t, db, td->object_id + ((uint32_t)x->index_id << 24), nk2, nk2len, LOCK_X, err) < 0) {
            rc = -1;
            break;
        }
        int ins = bt_insert(&x->bt, t, p, nk2, nk2len, ck, cklen, err);
        if (ins == 1)
            rc = duplicate_error(td, x, vals, err);
        else if (ins < 0)
            rc = -1;
    }
    table_row_free(&r);
    return rc < 0 ? -1 : rc;
}

/* ---- scans ------------------------------------------------------------------- */

struct table_scan {
    txn       *t;
    database  *db;
    table_def *td;
    int        iso;
    bt_cursor *c;
    table_row  row;
    uint8_t   *lo, *hi;      /* encoded bounds: lo inclusive, hi as hi_incl says */
    size_t     lolen, hilen;
    int        hi_incl;
    int        empty;        /* the bounds admit no key */
    int        done;
    uint8_t   *prev;         /* key-range scans: the last key returned */
    size_t     prevlen;
    int        have_prev;
};

/* Encode a bound (a prefix of the clustered key) into a malloc'd buffer. */
static int encode_bound(const table_def *td, const table_bound *b, uint8_t **out, size_t *len, hdb_err *err)
{
    const tbl_index *x = &td->idx[0];
    if (b->n < 1 || b->n > x->nkeys || x->hidden_key)
        return hdb_raise_text(err, 40000, 16, 1, "Internal error: a scan bound does not fit the clustered key.");
    sql_type kt[TBL_MAX_KEYCOLS];
    for (int i = 0; i < b->n; i++)
        kt[i] = td->types[x->keycols[i]];
    uint8_t k[KEY_CAP];
    if (keyenc_encode(b->vals, kt, x->desc, b->n, k, KEY_CAP, len, err) < 0)
        return -1;
    *out = malloc(*len ? *len : 1);
    if (!*out)
        return hdb_raise_text(err, 701, 19, 1, oom_text);
    memcpy(*out, k, *len);
    return 0;
}

/* Keys having prefix p are exactly those in [p, succ(p)): the successor drops
 * trailing 0xFF bytes and increments the last byte. 0 if there is none. */
static int prefix_successor(uint8_t *p, size_t *len)
{
    while (*len && p[*len - 1] == 0xFF)
        (*len)--;
    if (!*len)
        return 0;
    p[*len - 1]++;
    return 1;
}

/* 1 if key k lies beyond the scan's upper bound. */
static int past_hi(const table_scan *s, const uint8_t *k, size_t kl)
{
    if (!s->hi)
        return 0;
    int c = keyenc_compare(k, kl < s->hilen ? kl : s->hilen, s->hi, s->hilen);
    return s->hi_incl ? c > 0 : c >= 0;
}

table_scan *table_scan_open_range(txn *t, database *db, table_def *td, int iso, const table_bound *lo,
                                  const table_bound *hi, hdb_err *err)
{
    table_scan *s = calloc(1, sizeof *s);
    if (!s) {
        hdb_raise_text(err, 701, 19, 1, oom_text);
        return NULL;
    }
    s->t = t;
    s->db = db;
    s->td = td;
    s->iso = iso;
    if (lo && encode_bound(td, lo, &s->lo, &s->lolen, err) < 0)
        goto fail;
    if (hi && encode_bound(td, hi, &s->hi, &s->hilen, err) < 0)
        goto fail;
    s->hi_incl = hi && hi->inclusive;
    if (lo && !lo->inclusive && !prefix_successor(s->lo, &s->lolen))
        s->empty = 1;
    /* Lock before reading: a heap read SERIALIZABLE holds S on the table, a
     * key-range scan IS (its keys get range locks). */
    if (heap_serializable(td, iso) ? lock_table(t, db, td->object_id, LOCK_S, err) < 0
        : key_range_read(td, iso) && lock_table(t, db, td->object_id, LOCK_IS, err) < 0)
        goto fail;
    s->c = bt_cursor_open(&td->idx[0].bt, s->lo, s->lolen, 1, err);
    if (!s->c)
        goto fail;
    if (key_range_read(td, iso) && !(s->prev = malloc(KEY_CAP))) {
        hdb_raise_text(err, 701, 19, 1, oom_text);
        goto fail;
    }
    return s;
fail:
    table_scan_close(s);
    return NULL;
}

table_scan *table_scan_open(txn *t, database *db, table_def *td, int iso, hdb_err *err)
{
    return table_scan_open_range(t, db, td, iso, NULL, NULL, err);
}

static int row_from_bytes(table_scan *s, const uint8_t *v, size_t vl, hdb_err *err)
{
    uint8_t *copy = malloc(vl ? vl : 1);
    if (!copy)
        return hdb_raise_text(err, 701, 19, 1, oom_text);
    memcpy(copy, v, vl);
    return decode_row(s->db, s->td, copy, vl, &s->row, err);
}

/* Key-range scan step. Read the next key, take RangeS-S on it (or on the end
 * of the index), then make sure that nothing came into the gap before it while
 * we waited: either the cursor proves the leaf unchanged, or a fresh seek from
 * the last key returned must find the same key. A key past the upper bound is
 * locked too (the range up to it is what the scan saw) and ends the scan. */
static int range_scan_next(table_scan *s, table_row *out, hdb_err *err)
{
    const uint8_t *k, *v;
    size_t kl, vl;
    int rc = bt_cursor_next(s->c, &k, &kl, &v, &vl, err);
    for (;;) {
        if (rc < 0)
            return -1;
        uint8_t cand[KEY_CAP];
        size_t candlen = rc == 1 ? kl : 0;
        if (rc == 1)
            memcpy(cand, k, kl);
        if (lock_range_s(s->t, s->db, s->td, rc == 1 ? cand : NULL, candlen, err) < 0)
            return -1;
        int same = rc == 1 ? bt_cursor_unchanged(s->c, err) : 0;
        if (same < 0)
            return -1;
        if (!same) {
            int r = s->have_prev ? bt_cursor_seek(s->c, s->prev, s->prevlen, 0, err)
                                 : bt_cursor_seek(s->c, s->lo, s->lolen, 1, err);
            int rc2 = r < 0 ? -1 : bt_cursor_next(s->c, &k, &kl, &v, &vl, err);
            if (rc2 < 0)
                return -1;
            same = rc2 == rc && (rc == 0 || (kl == candlen && memcmp(k, cand, kl) == 0));
            if (!same) {
                rc = rc2;        /* something came or went: lock that instead */
                continue;
            }
        }
        if (rc == 0 || past_hi(s, k, kl)) {
            s->done = 1;
            return 0;
        }
        memcpy(s->prev, k, kl);
        s->prevlen = kl;
        s->have_prev = 1;
        if (row_from_bytes(s, v, vl, err) < 0)
            return -1;
        *out = s->row;
        return 1;
    }
}

int table_scan_next(table_scan *s, table_row *out, hdb_err *err)
{
    if (s->done || s->empty)
        return 0;
    table_row_free(&s->row);
    if (key_range_read(s->td, s->iso))
        return range_scan_next(s, out, err);
    for (;;) {
        const uint8_t *k, *v;
        size_t kl, vl;
        int rc = bt_cursor_next(s->c, &k, &kl, &v, &vl, err);
        if (rc <= 0)
            return rc;
        if (past_hi(s, k, kl)) {
            s->done = 1;
            return 0;
        }
        table_row_free(&s->row);
        if (s->iso == ISO_READ_UNCOMMITTED || heap_serializable(s->td, s->iso)) {
            if (row_from_bytes(s, v, vl, err) < 0)
                return -1;
        } else {
            /* lock, then read the committed row (it may have changed or gone
             * while we waited) */
            uint8_t ck[KEY_CAP];
            memcpy(ck, k, kl);
            int release;
            if (read_lock(s->t, s->db, s->td, ck, kl, s->iso, &release, err) < 0)
                return -1;
            rc = fetch(s->db, s->td, ck, kl, &s->row, err);
            if (release)
                read_unlock(s->t, s->db, s->td, ck, kl);
            if (rc < 0)
                return -1;
            if (rc == 0)
                continue;
        }
        *out = s->row;
        return 1;
    }
}

int table_scan_where(const table_scan *s, pgid_t *page, int *slot)
{
    return bt_cursor_where(s->c, page, slot);
}

void table_scan_close(table_scan *s)
{
    if (!s)
        return;
    table_row_free(&s->row);
    bt_cursor_close(s->c);
    free(s->lo);
    free(s->hi);
    free(s->prev);
    free(s);
}

int table_build_index(txn *t, database *db, table_def *td, int i, hdb_err *err)
{
    txn_part *p = txn_join(t, &db->tdb, err);
    if (!p || lock_table(t, db, td->object_id, LOCK_S, err) < 0)
        return -1;
    tbl_index *x = &td->idx[i];
    bt_cursor *c = bt_cursor_open(&td->idx[0].bt, NULL, 0, 1, err);
    if (!c)
        return -1;
    const uint8_t *k, *v;
    size_t kl, vl;
    int rc;
    while ((rc = bt_cursor_next(c, &k, &kl, &v, &vl, err)) == 1) {
        uint8_t ck[KEY_CAP];
        memcpy(ck, k, kl);
        uint8_t *copy = malloc(vl ? vl : 1);
        table_row r;
        if (!copy) {
            rc = hdb_raise_text(err, 701, 19, 1, oom_text);
            break;
        }
        memcpy(copy, v, vl);
        if (decode_row(db, td, copy, vl, &r, err) < 0) {
            rc = -1;
            break;
        }
        uint8_t sk[KEY_CAP];
        size_t sklen;
        rc = secondary_key(td, x, r.vals, ck, kl, sk, &sklen, err);
        if (rc == 0) {
            int ins = bt_insert(&x->bt, t, p, sk, sklen, ck, kl, err);
            rc = ins == 1 ? duplicate_error(td, x, r.vals, err) : ins;
        }
        table_row_free(&r);
        if (rc < 0)
            break;
    }
    bt_cursor_close(c);
    return rc < 0 ? -1 : 0;
}

struct drop_storage {
    database *db;
    int n;
    btree trees[];
};

static void drop_storage_action(void *arg, int committed)
{
    struct drop_storage *d = arg;
    for (int i = 0; i < d->n; i++) {
        if (committed) {
            hdb_err e;
            bt_drop(&d->trees[i], &e);
        }
        bt_close(&d->trees[i]);
    }
    free(d);
}

int table_drop_storage_at_commit(txn *t, database *db, table_def *td, hdb_err *err)
{
    struct drop_storage *d = calloc(1, sizeof *d + (size_t)td->nidx * sizeof(btree));
    if (!d)
        return hdb_raise_text(err, 701, 19, 1, oom_text);
    d->db = db;
    d->n = td->nidx;
    for (int i = 0; i < td->nidx; i++)
        bt_open(&d->trees[i], &db->env, td->object_id, td->idx[i].index_id, td->idx[i].fg_id, td->idx[i].root);
    if (txn_on_commit(t, drop_storage_action, d) < 0) {
        drop_storage_action(d, 0);
        return hdb_raise_text(err, 701, 19, 1, oom_text);
    }
    return 0;
}

/* ---- undo dispatch ------------------------------------------------------------ */

int table_decode_stored(database *db, const table_def *td, const uint8_t *row, size_t len, table_row *out,
                        hdb_err *err)
{
    uint8_t *copy = malloc(len ? len : 1);
    if (!copy)
        return hdb_raise_text(err, 701, 19, 1, oom_text);
    if (len)
        memcpy(copy, row, len);
    return decode_row(db, td, copy, len, out, err);
}

int table_index_key(const table_def *td, int i, const sql_value *vals, const uint8_t *ck, size_t cklen,
                    uint8_t *out, size_t *len, hdb_err *err)
{
    return secondary_key(td, &td->idx[i], vals, ck, cklen, out, len, err);
}

/* An update being undone: the overflow chains of the row it stored that
 * the old row (in the undo record) does not have, freed once the old row is
 * back (an update writes new chains for its large values). */
static int update_undo_chains(database *db, btree *bt, const bt_undo_rec *u, pgid_t *out, int cap, hdb_err *err)
{
    table_def *td = u->key && u->row ? cat_get_table(db, u->object_id, err) : NULL;
    uint8_t *cur;
    size_t curlen;
    if (!td || bt_get(bt, u->key, u->klen, &cur, &curlen, err) != 1)
        return 0;
    pgid_t now[64], before[64];
    int n = offrow_chains(td, cur, curlen, now, 64), nb = offrow_chains(td, u->row, u->rowlen, before, 64), k = 0;
    free(cur);
    for (int i = 0; i < n && k < cap; i++) {
        int shared = 0;
        for (int j = 0; j < nb && !shared; j++)
            shared = now[i] == before[j];
        if (!shared)
            out[k++] = now[i];
    }
    return k;
}

int table_undo(void *ctx, txn *t, txn_part *p, const log_rec *rec, hdb_err *err)
{
    (void)ctx;
    database *db = db_of(p->db);
    if (rec->body_len < 4)
        return hdb_raise(err, 3314, db->tdb.name, "(short record)");
    uint32_t ulen;
    memcpy(&ulen, rec->body, 4);
    const uint8_t *undo = rec->body + 4;
    bt_undo_rec u;
    if (ulen > rec->body_len - 4 || bt_undo_parse(undo, ulen, &u) < 0)
        return hdb_raise(err, 3314, db->tdb.name, "(bad undo information)");
    int op = u.op;
    uint32_t obj = u.object_id;
    uint16_t idx = u.index_id;
    btree *bt = cat_tree(db, obj, idx, err);
    if (!bt)
        return -1;
    if (db_filegroup_defunct(db, bt->fg_id)) {
        /* REMOVE FILE made its filegroup defunct: the change is gone with
         * it. A CLR without page changes moves the rollback past it. */
        mtr m;
        mtr_begin(&m, p->db->log, 0);
        return txn_log_clr(t, p, &m, rec->prev_lsn, err) ? 0 : -1;
    }
    /* An undone insert of a row with overflow values frees them; an undone
     * index-creation frees the index's pages. */
    pgid_t chains[64];
    int nchains = 0;
    pgid_t dropped_root = 0;
    if (op == UNDO_UPDATE && obj >= FIRST_USER_OBJECT_ID && idx == 1)
        nchains = update_undo_chains(db, bt, &u, chains, 64, err);
    if (op == UNDO_INSERT && (obj >= FIRST_USER_OBJECT_ID || obj == SYSOBJ_INDEXES)) {
        uint8_t *val;
        size_t vlen;
        if (u.key && bt_get(bt, u.key, u.klen, &val, &vlen, err) == 1) {
            if (obj == SYSOBJ_INDEXES) {
                dropped_root = cat_index_row_root(val, vlen);
            } else if (idx == 1) {
                table_def *td = cat_get_table(db, obj, err);
                if (td)
                    nchains = offrow_chains(td, val, vlen, chains, 64);
            }
            free(val);
        }
    }
    if (bt_undo(bt, t, p, rec, undo, ulen, err) < 0)
        return -1;
    for (int i = 0; i < nchains; i++) {
        hdb_err e;
        ovf_free(&db->env, chains[i], &e);
    }
    if (dropped_root) {
        btree tmp;
        hdb_err e;
        bt_open(&tmp, &db->env, 0, 0, 1, dropped_root);
        bt_drop(&tmp, &e);
        bt_close(&tmp);
    }
    if (obj < FIRST_USER_OBJECT_ID)
        cat_invalidate(db);
    return 0;
}
