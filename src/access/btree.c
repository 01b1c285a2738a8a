/* btree.c — B+tree handles, descent, row operations, lookups and logical undo
 * (see btree.h). Splits and merges live in btree_smo.c, cursors in
 * btree_cursor.c, bt_check/bt_drop in btree_check.c. */
#include "access/btree_int.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------ keys, records */

int bt_keycmp(const uint8_t *a, size_t al, const uint8_t *b, size_t bl)
{
    size_t n = al < bl ? al : bl;
    int c = n ? memcmp(a, b, n) : 0;
    if (c)
        return c;
    return (al > bl) - (al < bl);
}

int bt_leaf_search(const void *page, const uint8_t *key, size_t klen, int *found)
{
    int n = page_chdr(page)->nslots;
    *found = 0;
    if (!key)
        return 0;
    int lo = 0, hi = n;
    while (lo < hi) {
        int mid = lo + (hi - lo) / 2;
        size_t ml;
        const uint8_t *mk = bt_rec_key(page, mid, &ml);
        if (bt_keycmp(mk, ml, key, klen) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo < n) {
        size_t ml;
        const uint8_t *mk = bt_rec_key(page, lo, &ml);
        *found = bt_keycmp(mk, ml, key, klen) == 0;
    }
    return lo;
}

int bt_int_search(const void *page, const uint8_t *key, size_t klen)
{
    if (!key)
        return -1;
    int lo = 0, hi = page_chdr(page)->nslots;
    /* count the records whose key <= key: the last of them covers it */
    while (lo < hi) {
        int mid = lo + (hi - lo) / 2;
        size_t ml;
        const uint8_t *mk = bt_rec_key(page, mid, &ml);
        if (bt_keycmp(mk, ml, key, klen) <= 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo - 1;
}

size_t bt_int_rec(uint8_t *out, const uint8_t *key, size_t klen, pgid_t child)
{
    uint16_t kl = (uint16_t)klen;
    memcpy(out, &kl, 2);
    if (klen)
        memcpy(out + 2, key, klen);
    memcpy(out + 2 + klen, &child, 8);
    return 2 + klen + 8;
}

int bt_page_ok(const btree *bt, const void *page, pgid_t id, int level)
{
    const page_header *h = page_chdr(page);
    if (h->id != id || h->owner != bt->object_id)
        return 0;
    if (h->type == PAGE_BTREE_LEAF) {
        if (h->level != 0)
            return 0;
    } else if (h->type != PAGE_BTREE_INTERNAL || h->level == 0 || h->level >= BT_MAX_HEIGHT) {
        return 0;
    }
    if (level >= 0 && h->level != level)
        return 0;
    /* cheap slot-array sanity so a damaged page is reported, not followed */
    if (h->free_lo != PAGE_HEADER_SIZE + (size_t)h->nslots * PAGE_SLOT_SIZE || h->free_hi > PAGE_SIZE ||
        h->free_hi < h->free_lo)
        return 0;
    return 1;
}

int bt_corrupt(hdb_err *err, const btree *bt, pgid_t id, const char *what)
{
    char msg[512];
    snprintf(msg, sizeof msg,
             "Table error: object ID %" PRIu32 ", index ID %u, page (%" PRIu32 ":%" PRIu32 "): %s.",
             bt->object_id, (unsigned)bt->index_id, PGID_FILE(id), PGID_PAGE(id), what);
    return hdb_raise_text(err, 8928, 16, 1, msg);
}

bp_frame *bt_descend(btree *bt, const uint8_t *key, size_t klen, int leaf_latch, bt_path *path, hdb_err *err)
{
    pgid_t id = bt->root;
    int latch = BP_SHARED;
    int expect = -1;    /* level the next page must have; -1 for the root */
    for (;;) {
        bp_frame *f = bp_fix(bt->env.bp, bt->env.df, id, latch, 0, err);
        if (!f)
            return NULL;
        const void *pg = bp_page(f);
        if (!bt_page_ok(bt, pg, id, expect)) {
            bp_unfix(f);
            bt_corrupt(err, bt, id, expect < 0 ? "the root is not a B+tree page of this index"
                                               : "a child page is not at the expected level of this index");
            return NULL;
        }
        const page_header *h = page_chdr(pg);
        if (h->type == PAGE_BTREE_LEAF) {
            if (latch != leaf_latch) {
                /* a one-page tree: the root is the leaf; it stays one while
                 * the caller holds the SMO lock, so just re-latch it */
                bp_unfix(f);
                latch = leaf_latch;
                continue;
            }
            if (path) {
                if (expect < 0)
                    path->top = 0;
                path->id[0] = id;
                path->idx[0] = 0;
            }
            return f;
        }
        int lvl = h->level;
        int j = bt_int_search(pg, key, klen);
        pgid_t child = bt_child(pg, j);
        if (path) {
            if (expect < 0)
                path->top = lvl;
            path->id[lvl] = id;
            path->idx[lvl] = j;
        }
        bp_unfix(f);
        if (!child) {
            bt_corrupt(err, bt, id, "an internal record has no child page");
            return NULL;
        }
        id = child;
        expect = lvl - 1;
        latch = lvl == 1 ? leaf_latch : BP_SHARED;
    }
}

/* ------------------------------------------------------------ logged ops */

static int add_op(mtr *m, bp_frame *f, const uint8_t *op, size_t n, hdb_err *err)
{
    if (!n)
        return hdb_raise_text(err, 40000, 16, 1, "Internal error: a page operation could not be encoded.");
    return mtr_add(m, f, op, n, err);
}

int bt_op_format(mtr *m, bp_frame *f, enum page_type type, uint32_t owner, uint16_t level, hdb_err *err)
{
    uint8_t op[16];
    return add_op(m, f, op, pageop_format(op, sizeof op, type, owner, level), err);
}

int bt_op_insert(mtr *m, bp_frame *f, int slot, const void *rec, size_t len, hdb_err *err)
{
    uint8_t op[PAGEOP_MAX(PAGE_SIZE)];
    return add_op(m, f, op, pageop_insert(op, sizeof op, slot, rec, (uint16_t)len), err);
}

int bt_op_delete(mtr *m, bp_frame *f, int slot, hdb_err *err)
{
    uint8_t op[8];
    return add_op(m, f, op, pageop_delete(op, sizeof op, slot), err);
}

int bt_op_replace(mtr *m, bp_frame *f, int slot, const void *rec, size_t len, hdb_err *err)
{
    uint8_t op[PAGEOP_MAX(PAGE_SIZE)];
    return add_op(m, f, op, pageop_replace(op, sizeof op, slot, rec, (uint16_t)len), err);
}

int bt_op_truncate(mtr *m, bp_frame *f, int from, hdb_err *err)
{
    uint8_t op[8];
    return add_op(m, f, op, pageop_truncate(op, sizeof op, from), err);
}

int bt_op_set64(mtr *m, bp_frame *f, uint16_t off, uint64_t v, hdb_err *err)
{
    uint8_t op[24];
    return add_op(m, f, op, pageop_setbytes(op, sizeof op, off, &v, 8), err);
}

int bt_commit_pages(mtr *m, hdb_err *err)
{
    log_rec r = { .kind = LR_PAGES, .txn_id = 0, .prev_lsn = 0 };
    return mtr_commit(m, &r, NULL, 0, err) ? 0 : -1;
}

/* ------------------------------------------------------------ handles */

pgid_t bt_create(const bt_env *env, uint32_t object_id, uint16_t index_id, uint16_t fg_id, hdb_err *err)
{
    (void)index_id;
    space_ctx sc = { env->bp, env->df };
    mtr m;
    bt_mtr_begin(&m, env);
    bp_frame *f = space_alloc(&sc, &m, fg_id, 0, err);
    if (!f) {
        mtr_abort(&m);
        return 0;
    }
    pgid_t id = bp_id(f);
    if (bt_op_format(&m, f, PAGE_BTREE_LEAF, object_id, 0, err) < 0) {
        mtr_abort(&m);
        return 0;
    }
    return bt_commit_pages(&m, err) < 0 ? 0 : id;
}

int bt_open(btree *bt, const bt_env *env, uint32_t object_id, uint16_t index_id, uint16_t fg_id, pgid_t root)
{
    memset(bt, 0, sizeof *bt);
    bt->env = *env;
    bt->object_id = object_id;
    bt->index_id = index_id;
    bt->fg_id = fg_id;
    bt->root = root;
    /* Writer preference: with a steady stream of row operations holding the
     * SMO lock shared, a split waiting for it exclusive must not starve. (So no
     * thread may take it shared twice: a queued writer would block the second
     * acquisition.) */
    pthread_rwlockattr_t a;
    pthread_rwlockattr_init(&a);
    pthread_rwlockattr_setkind_np(&a, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
    int rc = pthread_rwlock_init(&bt->smo, &a);
    pthread_rwlockattr_destroy(&a);
    return rc ? -1 : 0;
}

void bt_close(btree *bt)
{
    pthread_rwlock_destroy(&bt->smo);
}

void bt_set_name(btree *bt, const char *name)
{
    snprintf(bt->name, sizeof bt->name, "%s", name ? name : "");
}

/* ------------------------------------------------------------ row operations */

enum { OP_INSERT = 1, OP_DELETE, OP_UPDATE };

/* How a row change is logged: as the transaction's LR_ROW (with logical undo
 * bytes) or, when it is itself an undo, as an LR_CLR. */
typedef struct logctx {
    txn      *t;
    txn_part *p;
    int       clr;
    lsn_t     undo_next;
} logctx;

/* The caller's next-key callback (bt_insert_ranged / bt_delete_ranged). */
typedef struct nk_hook {
    bt_next_key_fn fn;
    void          *ctx;
} nk_hook;

#define NK_MAX_EMPTY 16     /* empty leaves crossed looking for the next key */

/* A delete left its leaf underfull: where to look for a sibling. */
typedef struct merge_hint {
    int    want;
    size_t used;
    pgid_t prev, next;
} merge_hint;

static int size_error(const btree *bt, size_t klen, size_t vlen, hdb_err *err)
{
    if (klen > BT_MAX_KEY) {
        char name[160], msg[512];
        if (bt->name[0])
            snprintf(name, sizeof name, "%s", bt->name);
        else
            snprintf(name, sizeof name, "%" PRIu32 ".%u", bt->object_id, (unsigned)bt->index_id);
        snprintf(msg, sizeof msg,
                 "Operation failed. The index entry of length %d bytes for the index '%s' exceeds "
                 "the maximum length of %d bytes.",
                 (int)(klen > INT32_MAX ? INT32_MAX : klen), name, BT_MAX_KEY);
        return hdb_raise_text(err, 1946, 16, 1, msg);
    }
    if (klen + vlen > BT_MAX_RECORD)
        return hdb_raise(err, 511, (int)(klen + vlen > INT32_MAX ? INT32_MAX : klen + vlen), BT_MAX_RECORD);
    return 0;
}

/* Logical undo bytes (log/logrec.h): u8 op, u32 object, u16 index, u32 key_len,
 * key, u32 row_len, row. */
static void build_undo(lbuf *b, int op, const btree *bt, const uint8_t *key, size_t klen,
                       const uint8_t *row, size_t rlen)
{
    lbuf_u8(b, (uint8_t)op);
    lbuf_u32(b, bt->object_id);
    lbuf_u16(b, bt->index_id);
    lbuf_u32(b, (uint32_t)klen);
    lbuf_put(b, key, klen);
    lbuf_u32(b, (uint32_t)rlen);
    lbuf_put(b, row, rlen);
}

/* Call the next-key hook for the record at `slot` of the X-latched leaf f (the
 * key after it is at slot `after`, or further right). Right siblings are
 * latched shared, left to right, and stay latched in sib[] until the change is
 * done, so the next key cannot change under it. 0 go on, BT_WAIT, -1. */
static int next_key_hook(btree *bt, bp_frame *f, int after, const nk_hook *nk, bp_frame **sib, int *nsib,
                         hdb_err *err)
{
    const void *pg = bp_page(f);
    if (after < page_chdr(pg)->nslots) {
        size_t nl;
        const uint8_t *nkey = bt_rec_key(pg, after, &nl);
        return nk->fn(nk->ctx, nkey, nl, err);
    }
    pgid_t next = page_chdr(pg)->next;
    while (next) {
        if (*nsib == NK_MAX_EMPTY || next == bp_id(f) || (*nsib && next == bp_id(sib[*nsib - 1])))
            return bt_corrupt(err, bt, next, "the leaf chain has a loop or too many empty leaves");
        bp_frame *s = bp_fix(bt->env.bp, bt->env.df, next, BP_SHARED, 0, err);
        if (!s)
            return -1;
        sib[(*nsib)++] = s;
        const void *sp = bp_page(s);
        if (!bt_page_ok(bt, sp, next, 0))
            return bt_corrupt(err, bt, next, "the next leaf is not a leaf of this index");
        if (page_chdr(sp)->nslots > 0) {
            size_t nl;
            const uint8_t *nkey = bt_rec_key(sp, 0, &nl);
            return nk->fn(nk->ctx, nkey, nl, err);
        }
        next = page_chdr(sp)->next;
    }
    return nk->fn(nk->ctx, NULL, 0, err);
}

static void unfix_all(bp_frame **sib, int n)
{
    while (n > 0)
        bp_unfix(sib[--n]);
}

/* The change itself, at `slot` of the X-latched leaf f (found: the key is
 * there). Consumes f. 0 or -1. */
static int try_leaf_change(btree *bt, bp_frame *f, int op, int slot, int found, const uint8_t *key, size_t klen,
                           const uint8_t *val, size_t vlen, size_t reclen, const logctx *lc, merge_hint *mh,
                           hdb_err *err)
{
    void *pg = bp_page(f);
    lbuf undo;
    lbuf_init(&undo);
    if (!lc->clr) {
        size_t ovl = 0;
        const uint8_t *ov = found ? bt_leaf_val(pg, slot, &ovl) : NULL;
        build_undo(&undo, op == OP_INSERT ? UNDO_INSERT : op == OP_DELETE ? UNDO_DELETE : UNDO_UPDATE,
                   bt, key, klen, ov, ovl);
        if (undo.oom) {
            lbuf_free(&undo);
            bp_unfix(f);
            return hdb_raise_text(err, 701, 19, 1, "There is insufficient system memory to run this query.");
        }
    }

    uint8_t rec[2 + BT_MAX_RECORD];
    if (op != OP_DELETE) {
        uint16_t kl = (uint16_t)klen;
        memcpy(rec, &kl, 2);
        if (klen)
            memcpy(rec + 2, key, klen);
        if (vlen)
            memcpy(rec + 2 + klen, val, vlen);
    }

    mtr m;
    bt_mtr_begin(&m, &bt->env);
    if (mtr_own(&m, f, err) < 0) {
        mtr_abort(&m);
        bp_unfix(f);
        lbuf_free(&undo);
        return -1;
    }
    int rc = op == OP_INSERT ? bt_op_insert(&m, f, slot, rec, reclen, err)
           : op == OP_UPDATE ? bt_op_replace(&m, f, slot, rec, reclen, err)
                             : bt_op_delete(&m, f, slot, err);
    if (rc < 0) {
        mtr_abort(&m);   /* restores the page and unfixes f */
        lbuf_free(&undo);
        return -1;
    }
    if (op == OP_DELETE && bp_id(f) != bt->root && bt_underfull(pg)) {
        const page_header *h = page_chdr(pg);
        mh->want = 1;
        mh->used = bt_used(pg);
        mh->prev = h->prev;
        mh->next = h->next;
    }
    lsn_t lsn = lc->clr ? txn_log_clr(lc->t, lc->p, &m, lc->undo_next, err)
                        : txn_log_row(lc->t, lc->p, &m, undo.p, undo.len, err);
    lbuf_free(&undo);
    return lsn ? 0 : -1;
}

/* Apply one row change to the X-latched leaf f (which covers key) and log it.
 * Consumes f. Returns 0 done, 1 key exists (insert) / missing (delete, update),
 * 2 no room (the caller splits), BT_WAIT (the next-key hook said so), -1 error. */
static int try_leaf(btree *bt, bp_frame *f, int op, const uint8_t *key, size_t klen, const uint8_t *val,
                    size_t vlen, const logctx *lc, const nk_hook *nk, merge_hint *mh, hdb_err *err)
{
    void *pg = bp_page(f);
    int found;
    int slot = bt_leaf_search(pg, key, klen, &found);
    if (op == OP_INSERT ? found : !found) {
        bp_unfix(f);
        return 1;
    }
    size_t reclen = 2 + klen + vlen;
    uint16_t oldlen = 0;
    if (found)
        page_record(pg, slot, &oldlen);
    int fits = op == OP_DELETE || (op == OP_INSERT ? page_free_space(pg) >= page_need(reclen)
                                                   : page_free_space(pg) + oldlen >= reclen);
    if (!fits) {
        bp_unfix(f);
        return 2;
    }
    bp_frame *sib[NK_MAX_EMPTY];
    int nsib = 0;
    if (nk && nk->fn) {
        int hr = next_key_hook(bt, f, found ? slot + 1 : slot, nk, sib, &nsib, err);
        if (hr != 0) {
            unfix_all(sib, nsib);
            bp_unfix(f);
            return hr < 0 ? -1 : BT_WAIT;
        }
    }
    int rc = try_leaf_change(bt, f, op, slot, found, key, klen, val, vlen, reclen, lc, mh, err);
    unfix_all(sib, nsib);
    return rc;
}

/* Could a neighbour absorb the underfull leaf? A cheap look (shared latches,
 * one page at a time) so that a delete does not take the SMO lock exclusive
 * when no merge can happen. The merge itself re-checks everything. */
static int merge_worthwhile(btree *bt, const merge_hint *mh)
{
    pgid_t ids[2] = { mh->next, mh->prev };
    for (int i = 0; i < 2; i++) {
        if (!ids[i])
            continue;
        if (mh->used == 0)
            return 1;
        hdb_err e;
        bp_frame *f = bp_fix(bt->env.bp, bt->env.df, ids[i], BP_SHARED, 0, &e);
        if (!f)
            continue;
        int ok = bt_page_ok(bt, bp_page(f), ids[i], 0) && page_free_space(bp_page(f)) >= mh->used;
        bp_unfix(f);
        if (ok)
            return 1;
    }
    return 0;
}

static int row_op(btree *bt, int op, const uint8_t *key, size_t klen, const uint8_t *val, size_t vlen,
                  const logctx *lc, const nk_hook *nk, hdb_err *err)
{
    merge_hint mh = { 0 };
    pthread_rwlock_rdlock(&bt->smo);
    bp_frame *f = bt_descend(bt, key, klen, BP_EXCL, NULL, err);
    int rc = f ? try_leaf(bt, f, op, key, klen, val, vlen, lc, nk, &mh, err) : -1;
    if (rc == 0 && mh.want && !merge_worthwhile(bt, &mh))
        mh.want = 0;
    pthread_rwlock_unlock(&bt->smo);

    if (rc == 2) {
        /* No room: split under the exclusive SMO lock, then redo the change
         * (logged on its own, after the split's LR_PAGES record). Holding the
         * lock through the retry guarantees the room is still there. */
        pthread_rwlock_wrlock(&bt->smo);
        for (int tries = 0;; tries++) {
            f = bt_descend(bt, key, klen, BP_EXCL, NULL, err);
            rc = f ? try_leaf(bt, f, op, key, klen, val, vlen, lc, nk, &mh, err) : -1;
            if (rc != 2)
                break;
            if (tries == 4) {
                rc = hdb_raise_text(err, 40000, 16, 1, "Internal error: a B+tree split made no room.");
                break;
            }
            if (bt_smo_split(bt, key, klen, err) < 0) {
                rc = -1;
                break;
            }
        }
        pthread_rwlock_unlock(&bt->smo);
    }

    if (rc == 0 && mh.want) {
        /* The row change is logged and done; a failed merge leaves the tree
         * valid (its mtr is rolled back), so its error is not the caller's. */
        hdb_err ignore;
        hdb_err_clear(&ignore);
        pthread_rwlock_wrlock(&bt->smo);
        bt_smo_merge(bt, key, klen, &ignore);
        pthread_rwlock_unlock(&bt->smo);
    }
    return rc;
}

int bt_insert(btree *bt, txn *t, txn_part *p, const uint8_t *key, size_t klen, const uint8_t *val, size_t vlen,
              hdb_err *err)
{
    if (size_error(bt, klen, vlen, err) < 0)
        return -1;
    logctx lc = { t, p, 0, 0 };
    return row_op(bt, OP_INSERT, key, klen, val, vlen, &lc, NULL, err);
}

int bt_insert_ranged(btree *bt, txn *t, txn_part *p, const uint8_t *key, size_t klen, const uint8_t *val,
                     size_t vlen, bt_next_key_fn fn, void *ctx, hdb_err *err)
{
    if (size_error(bt, klen, vlen, err) < 0)
        return -1;
    logctx lc = { t, p, 0, 0 };
    nk_hook nk = { fn, ctx };
    return row_op(bt, OP_INSERT, key, klen, val, vlen, &lc, &nk, err);
}

int bt_delete(btree *bt, txn *t, txn_part *p, const uint8_t *key, size_t klen, hdb_err *err)
{
    if (klen > BT_MAX_KEY)
        return 1;   /* no such key can be stored */
    logctx lc = { t, p, 0, 0 };
    return row_op(bt, OP_DELETE, key, klen, NULL, 0, &lc, NULL, err);
}

int bt_delete_ranged(btree *bt, txn *t, txn_part *p, const uint8_t *key, size_t klen, bt_next_key_fn fn,
                     void *ctx, hdb_err *err)
{
    if (klen > BT_MAX_KEY)
        return 1;
    logctx lc = { t, p, 0, 0 };
    nk_hook nk = { fn, ctx };
    return row_op(bt, OP_DELETE, key, klen, NULL, 0, &lc, &nk, err);
}

int bt_update(btree *bt, txn *t, txn_part *p, const uint8_t *key, size_t klen, const uint8_t *val, size_t vlen,
              hdb_err *err)
{
    if (size_error(bt, klen, vlen, err) < 0)
        return -1;
    logctx lc = { t, p, 0, 0 };
    return row_op(bt, OP_UPDATE, key, klen, val, vlen, &lc, NULL, err);
}

int bt_get(btree *bt, const uint8_t *key, size_t klen, uint8_t **val, size_t *vlen, hdb_err *err)
{
    if (klen > BT_MAX_KEY)
        return 0;
    pthread_rwlock_rdlock(&bt->smo);
    bp_frame *f = bt_descend(bt, key, klen, BP_SHARED, NULL, err);
    if (!f) {
        pthread_rwlock_unlock(&bt->smo);
        return -1;
    }
    const void *pg = bp_page(f);
    int found, rc = 0;
    int slot = bt_leaf_search(pg, key, klen, &found);
    if (found) {
        size_t n;
        const uint8_t *v = bt_leaf_val(pg, slot, &n);
        uint8_t *copy = malloc(n ? n : 1);
        if (!copy) {
            rc = hdb_raise_text(err, 701, 19, 1, "There is insufficient system memory to run this query.");
        } else {
            memcpy(copy, v, n);
            *val = copy;
            *vlen = n;
            rc = 1;
        }
    }
    bp_unfix(f);
    pthread_rwlock_unlock(&bt->smo);
    return rc;
}

/* ------------------------------------------------------------ undo */

int bt_undo_parse(const uint8_t *undo, size_t len, bt_undo_rec *u)
{
    lread r;
    lread_init(&r, undo, len);
    u->op = lread_u8(&r);
    u->object_id = lread_u32(&r);
    u->index_id = lread_u16(&r);
    u->klen = lread_u32(&r);
    u->key = lread_bytes(&r, u->klen);
    u->rowlen = lread_u32(&r);
    u->row = lread_bytes(&r, u->rowlen);
    return r.bad || u->op < UNDO_INSERT || u->op > UNDO_UPDATE ? -1 : 0;
}

int bt_undo_header(const uint8_t *undo, size_t len, int *op, uint32_t *object_id, uint16_t *index_id)
{
    bt_undo_rec u;
    if (bt_undo_parse(undo, len, &u) < 0)
        return -1;
    *op = u.op;
    *object_id = u.object_id;
    *index_id = u.index_id;
    return 0;
}

int bt_undo(btree *bt, txn *t, txn_part *p, const log_rec *rec, const uint8_t *undo, size_t undo_len,
            hdb_err *err)
{
    char lsn_txt[32];
    snprintf(lsn_txt, sizeof lsn_txt, "%" PRIu64, (uint64_t)rec->lsn);
    bt_undo_rec u;
    if (bt_undo_parse(undo, undo_len, &u) < 0 || u.object_id != bt->object_id || u.index_id != bt->index_id ||
        u.klen > BT_MAX_KEY || (size_t)u.klen + u.rowlen > BT_MAX_RECORD)
        return hdb_raise(err, 3314, p->db->name, lsn_txt);
    int op = u.op;
    const uint8_t *key = u.key, *row = u.row;
    uint32_t klen = u.klen, rlen = u.rowlen;
    logctx lc = { t, p, 1, rec->prev_lsn };
    int rc;
    switch (op) {
    case UNDO_INSERT:
        rc = row_op(bt, OP_DELETE, key, klen, NULL, 0, &lc, NULL, err);
        break;
    case UNDO_DELETE:
        rc = row_op(bt, OP_INSERT, key, klen, row, rlen, &lc, NULL, err);
        break;
    case UNDO_UPDATE:
        rc = row_op(bt, OP_UPDATE, key, klen, row, rlen, &lc, NULL, err);
        break;
    default:
        return hdb_raise(err, 3314, p->db->name, lsn_txt);
    }
    /* The key is locked by the transaction being rolled back, so its row must
     * be exactly as the change left it; anything else is a damaged index. */
    if (rc == 1)
        return hdb_raise(err, 3314, p->db->name, lsn_txt);
    return rc;
}
