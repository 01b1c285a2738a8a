/* btree_cursor.c — range scans (see btree.h).
 *
 * A cursor holds no latch and no lock between calls. It remembers the leaf it
 * read last, that leaf's pageLSN and the next slot, plus a copy of the last key
 * returned. Every change to a page (row change, split, merge, freeing) gives it
 * a new pageLSN, so an unchanged pageLSN proves the remembered slot is still
 * right and the scan continues in place; otherwise it re-seeks from the root to
 * the first key after the last one returned. Each call holds the tree's SMO
 * lock shared, so it never sees a half-done split or merge; moving to the next
 * leaf latches it before releasing the current one (left to right, the
 * protocol's order).
 */
#include "access/btree_int.h"

#include <stdlib.h>
#include <string.h>

struct bt_cursor {
    btree   *bt;
    uint8_t *lo;          /* lower bound (copy), NULL = from the start */
    size_t   lolen;
    int      inclusive;
    int      started;     /* a record was returned: kbuf holds its key */
    int      eof;
    pgid_t   leaf;        /* where to continue if leaf's pageLSN is still lsn */
    lsn_t    lsn;
    int      slot;
    int      in_place;    /* the last record followed the one before it on an unchanged leaf */
    uint8_t *kbuf, *vbuf;
    size_t   klen, kcap, vlen, vcap;
};

static const char oom_text[] = "There is insufficient system memory to run this query.";

bt_cursor *bt_cursor_open(btree *bt, const uint8_t *lo, size_t lolen, int inclusive, hdb_err *err)
{
    bt_cursor *c = calloc(1, sizeof *c);
    if (!c) {
        hdb_raise_text(err, 701, 19, 1, oom_text);
        return NULL;
    }
    c->bt = bt;
    c->inclusive = inclusive;
    if (lo) {
        c->lo = malloc(lolen ? lolen : 1);
        if (!c->lo) {
            free(c);
            hdb_raise_text(err, 701, 19, 1, oom_text);
            return NULL;
        }
        if (lolen)
            memcpy(c->lo, lo, lolen);
        c->lolen = lolen;
    }
    return c;
}

void bt_cursor_close(bt_cursor *c)
{
    if (!c)
        return;
    free(c->lo);
    free(c->kbuf);
    free(c->vbuf);
    free(c);
}

static int reserve(uint8_t **buf, size_t *cap, size_t n)
{
    if (n <= *cap && *buf)
        return 0;
    size_t nc = *cap ? *cap : 64;
    while (nc < n)
        nc *= 2;
    uint8_t *p = realloc(*buf, nc);
    if (!p)
        return -1;
    *buf = p;
    *cap = nc;
    return 0;
}

/* Copy record `slot` of the latched leaf into the cursor and remember where the
 * scan stands. */
static int take(bt_cursor *c, bp_frame *f, int slot, hdb_err *err)
{
    const void *pg = bp_page(f);
    size_t kl, vl;
    const uint8_t *k = bt_rec_key(pg, slot, &kl);
    const uint8_t *v = bt_leaf_val(pg, slot, &vl);
    if (reserve(&c->kbuf, &c->kcap, kl) < 0 || reserve(&c->vbuf, &c->vcap, vl) < 0)
        return hdb_raise_text(err, 701, 19, 1, oom_text);
    memcpy(c->kbuf, k, kl);
    memcpy(c->vbuf, v, vl);
    c->klen = kl;
    c->vlen = vl;
    c->started = 1;
    c->leaf = bp_id(f);
    c->lsn = page_lsn(pg);
    c->slot = slot + 1;
    return 0;
}

/* Latch the leaf to read next, and the slot to read there; *in_place says
 * whether that continues from the last record on an unchanged leaf. */
static bp_frame *position(bt_cursor *c, int *slot, int *in_place, hdb_err *err)
{
    btree *bt = c->bt;
    *in_place = 0;
    if (c->leaf) {
        bp_frame *f = bp_fix(bt->env.bp, bt->env.df, c->leaf, BP_SHARED, 0, err);
        if (!f)
            return NULL;
        if (page_lsn(bp_page(f)) == c->lsn) {
            *slot = c->slot;
            *in_place = c->started;
            return f;
        }
        bp_unfix(f);
    }
    const uint8_t *key = c->started ? c->kbuf : c->lo;
    size_t klen = c->started ? c->klen : c->lolen;
    bp_frame *f = bt_descend(bt, key, klen, BP_SHARED, NULL, err);
    if (!f)
        return NULL;
    int found;
    *slot = bt_leaf_search(bp_page(f), key, klen, &found);
    if (found && (c->started || !c->inclusive))
        (*slot)++;
    return f;
}

int bt_cursor_next(bt_cursor *c, const uint8_t **key, size_t *klen, const uint8_t **val, size_t *vlen,
                   hdb_err *err)
{
    if (c->eof)
        return 0;
    btree *bt = c->bt;
    pthread_rwlock_rdlock(&bt->smo);
    int slot, rc, in_place;
    bp_frame *f = position(c, &slot, &in_place, err);
    if (!f) {
        pthread_rwlock_unlock(&bt->smo);
        return -1;
    }
    for (;;) {
        const void *pg = bp_page(f);
        if (slot < page_chdr(pg)->nslots) {
            rc = take(c, f, slot, err) < 0 ? -1 : 1;
            c->in_place = in_place;
            break;
        }
        in_place = 0;
        pgid_t next = page_chdr(pg)->next;
        if (!next) {
            c->eof = 1;
            rc = 0;
            break;
        }
        if (next == bp_id(f)) {   /* latches are not recursive: never re-fix f */
            rc = bt_corrupt(err, bt, next, "the leaf's next pointer points to itself");
            break;
        }
        bp_frame *nf = bp_fix(bt->env.bp, bt->env.df, next, BP_SHARED, 0, err);
        bp_unfix(f);
        if (!nf) {
            pthread_rwlock_unlock(&bt->smo);
            return -1;
        }
        f = nf;
        slot = 0;
        if (!bt_page_ok(bt, bp_page(f), next, 0)) {
            bt_corrupt(err, bt, next, "the next leaf is not a leaf of this index");
            rc = -1;
            break;
        }
    }
    bp_unfix(f);
    pthread_rwlock_unlock(&bt->smo);
    if (rc == 1) {
        *key = c->kbuf;
        *klen = c->klen;
        if (val)
            *val = c->vbuf;
        if (vlen)
            *vlen = c->vlen;
    }
    return rc;
}

int bt_cursor_seek(bt_cursor *c, const uint8_t *key, size_t klen, int inclusive, hdb_err *err)
{
    uint8_t *lo = NULL;
    if (key) {
        lo = malloc(klen ? klen : 1);
        if (!lo)
            return hdb_raise_text(err, 701, 19, 1, oom_text);
        if (klen)
            memcpy(lo, key, klen);
    }
    free(c->lo);
    c->lo = lo;
    c->lolen = key ? klen : 0;
    c->inclusive = inclusive;
    c->started = 0;
    c->eof = 0;
    c->leaf = 0;
    c->in_place = 0;
    return 0;
}

int bt_cursor_unchanged(bt_cursor *c, hdb_err *err)
{
    if (!c->started || !c->in_place || !c->leaf)
        return 0;
    btree *bt = c->bt;
    pthread_rwlock_rdlock(&bt->smo);
    bp_frame *f = bp_fix(bt->env.bp, bt->env.df, c->leaf, BP_SHARED, 0, err);
    int rc = -1;
    if (f) {
        rc = page_lsn(bp_page(f)) == c->lsn;
        bp_unfix(f);
    }
    pthread_rwlock_unlock(&bt->smo);
    return rc;
}

int bt_cursor_where(const bt_cursor *c, pgid_t *leaf, int *slot)
{
    if (!c->started || !c->leaf)
        return -1;
    *leaf = c->leaf;
    *slot = c->slot - 1;   /* take() left it on the record after */
    return 0;
}
