/* btree_check.c — consistency check (bt_check) and dropping a tree (bt_drop);
 * see btree.h. */
#include "access/btree_int.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------ bt_check */

typedef struct chk {
    btree    *bt;
    bt_stats *st;
    hdb_err  *err;
    space_ctx sc;
    uint8_t  *buf[BT_MAX_HEIGHT];        /* page copy per level, alive during recursion */
    pgid_t    last[BT_MAX_HEIGHT];       /* previous page seen at each level */
    pgid_t    last_next[BT_MAX_HEIGHT];  /* its next pointer */
    uint8_t   prevkey[BT_MAX_KEY];       /* last leaf key, across leaves */
    size_t    prevlen;
    int       have_prev;
} chk;

static int fail(chk *c, pgid_t id, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(chk *c, pgid_t id, const char *fmt, ...)
{
    char what[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    return bt_corrupt(c->err, c->bt, id, what);
}

/* Slot array and record framing of one page copy. */
static int check_slots(chk *c, const uint8_t *pg, pgid_t id, int leaf)
{
    const page_header *h = page_chdr(pg);
    if (h->free_lo != PAGE_HEADER_SIZE + (size_t)h->nslots * PAGE_SLOT_SIZE || h->free_hi < h->free_lo ||
        h->free_hi > PAGE_SIZE)
        return fail(c, id, "slot array bounds are inconsistent (nslots %u, free_lo %u, free_hi %u)",
                    (unsigned)h->nslots, (unsigned)h->free_lo, (unsigned)h->free_hi);
    size_t sum = 0;
    for (int i = 0; i < h->nslots; i++) {
        uint16_t off, len;
        memcpy(&off, pg + PAGE_HEADER_SIZE + (size_t)i * PAGE_SLOT_SIZE, 2);
        memcpy(&len, pg + PAGE_HEADER_SIZE + (size_t)i * PAGE_SLOT_SIZE + 2, 2);
        if (off < h->free_hi || (size_t)off + len > PAGE_SIZE)
            return fail(c, id, "slot %d (offset %u, length %u) lies outside the record area", i, off, len);
        if (len < 2)
            return fail(c, id, "record %d is too short", i);
        uint16_t kl = bt_get16(pg + off);
        if (kl > BT_MAX_KEY || (size_t)kl + 2 > len)
            return fail(c, id, "record %d has a bad key length %u", i, kl);
        if (!leaf && (size_t)kl + 10 != len)
            return fail(c, id, "internal record %d has length %u for a key of %u bytes", i, len, kl);
        sum += len;
    }
    if (sum + h->frag != (size_t)(PAGE_SIZE - h->free_hi))
        return fail(c, id, "record bytes (%zu) plus fragmentation (%u) do not fill the record area (%u)", sum,
                    (unsigned)h->frag, (unsigned)(PAGE_SIZE - h->free_hi));
    return 0;
}

/* Check the subtree at id (expected at `level`) whose keys must lie in
 * [lo, hi) (NULL bound: open). */
static int check_node(chk *c, pgid_t id, int level, const uint8_t *lo, size_t lolen, const uint8_t *hi,
                      size_t hilen)
{
    if (level < 0 || level >= BT_MAX_HEIGHT)
        return fail(c, id, "level %d out of range", level);
    int alloc = space_is_allocated(&c->sc, id, c->err);
    if (alloc < 0)
        return -1;
    if (!alloc)
        return fail(c, id, "the page is in use but free in its allocation bitmap");
    bp_frame *f = bp_fix(c->bt->env.bp, c->bt->env.df, id, BP_SHARED, 0, c->err);
    if (!f)
        return -1;
    uint8_t *pg = c->buf[level];
    memcpy(pg, bp_page(f), PAGE_SIZE);
    bp_unfix(f);
    const page_header *h = page_chdr(pg);
    int leaf = level == 0;
    if (h->id != id)
        return fail(c, id, "the header's page id is (%" PRIu32 ":%" PRIu32 ")", PGID_FILE(h->id),
                    PGID_PAGE(h->id));
    if (h->type != (leaf ? PAGE_BTREE_LEAF : PAGE_BTREE_INTERNAL) || h->level != level)
        return fail(c, id, "type %u level %u where a %s at level %d was expected", h->type, h->level,
                    leaf ? "leaf" : "internal page", level);
    if (h->owner != c->bt->object_id)
        return fail(c, id, "the page belongs to object %" PRIu32, h->owner);
    if (check_slots(c, pg, id, leaf) < 0)
        return -1;

    /* sibling chain, visited left to right */
    if (h->prev != c->last[level])
        return fail(c, id, "prev pointer (%" PRIu32 ":%" PRIu32 ") should be (%" PRIu32 ":%" PRIu32 ")",
                    PGID_FILE(h->prev), PGID_PAGE(h->prev), PGID_FILE(c->last[level]), PGID_PAGE(c->last[level]));
    if (c->last[level] && c->last_next[level] != id)
        return fail(c, c->last[level], "next pointer does not lead to (%" PRIu32 ":%" PRIu32 ")", PGID_FILE(id),
                    PGID_PAGE(id));
    c->last[level] = id;
    c->last_next[level] = h->next;

    int n = h->nslots;
    const uint8_t *pk = NULL;
    size_t pkl = 0;
    for (int i = 0; i < n; i++) {
        size_t kl;
        const uint8_t *k = bt_rec_key(pg, i, &kl);
        if (pk && bt_keycmp(pk, pkl, k, kl) >= 0)
            return fail(c, id, "key of record %d is not above the previous one", i);
        if (lo && bt_keycmp(k, kl, lo, lolen) < 0)
            return fail(c, id, "key of record %d is below the parent's separator", i);
        if (hi && bt_keycmp(k, kl, hi, hilen) >= 0)
            return fail(c, id, "key of record %d is not below the next separator", i);
        if (leaf && i == 0 && c->have_prev && bt_keycmp(c->prevkey, c->prevlen, k, kl) >= 0)
            return fail(c, id, "first key is not above the last key of the previous leaf");
        pk = k;
        pkl = kl;
    }
    if (leaf) {
        c->st->leaves++;
        c->st->records += (uint64_t)n;
        if (n) {
            memcpy(c->prevkey, pk, pkl);
            c->prevlen = pkl;
            c->have_prev = 1;
        }
        return 0;
    }
    c->st->internals++;
    for (int j = -1; j < n; j++) {
        pgid_t child = bt_child(pg, j);
        if (!child)
            return fail(c, id, "child %d is page 0", j);
        size_t kl = 0, nl = 0;
        const uint8_t *k = j >= 0 ? bt_rec_key(pg, j, &kl) : lo;
        if (j < 0)
            kl = lolen;
        const uint8_t *nk = j + 1 < n ? bt_rec_key(pg, j + 1, &nl) : hi;
        if (j + 1 >= n)
            nl = hilen;
        if (check_node(c, child, level - 1, k, kl, nk, nl) < 0)
            return -1;
    }
    return 0;
}

int bt_check(btree *bt, bt_stats *st, hdb_err *err)
{
    bt_stats dummy;
    if (!st)
        st = &dummy;
    memset(st, 0, sizeof *st);
    chk *c = calloc(1, sizeof *c);
    if (!c)
        return hdb_raise_text(err, 701, 19, 1, "There is insufficient system memory to run this query.");
    c->bt = bt;
    c->st = st;
    c->err = err;
    c->sc.bp = bt->env.bp;
    c->sc.df = bt->env.df;
    int rc = 0;
    /* Shared: row changes may go on (each keeps every invariant at all times
     * under its leaf latch), structure changes may not. */
    pthread_rwlock_rdlock(&bt->smo);
    bp_frame *f = bp_fix(bt->env.bp, bt->env.df, bt->root, BP_SHARED, 0, err);
    int top = -1;
    if (!f) {
        rc = -1;
    } else {
        if (bt_page_ok(bt, bp_page(f), bt->root, -1))
            top = page_chdr(bp_page(f))->level;
        bp_unfix(f);
        if (top < 0)
            rc = bt_corrupt(err, bt, bt->root, "the root is not a B+tree page of this index");
    }
    for (int l = 0; rc == 0 && l <= top; l++)
        if (!(c->buf[l] = malloc(PAGE_SIZE)))
            rc = hdb_raise_text(err, 701, 19, 1, "There is insufficient system memory to run this query.");
    if (rc == 0)
        rc = check_node(c, bt->root, top, NULL, 0, NULL, 0);
    for (int l = 0; rc == 0 && l <= top; l++)
        if (c->last_next[l])
            rc = fail(c, c->last[l], "the last page of level %d has a next pointer", l);
    if (rc == 0)
        st->height = (uint64_t)top + 1;
    pthread_rwlock_unlock(&bt->smo);
    for (int l = 0; l < BT_MAX_HEIGHT; l++)
        free(c->buf[l]);
    free(c);
    return rc;
}

/* ------------------------------------------------------------ bt_drop */

uint64_t bt_page_cap(dbfiles *df)
{
    uint16_t ids[DF_MAX_FILES];
    int n = df_file_ids(df, ids, DF_MAX_FILES);
    uint64_t total = 0;
    for (int i = 0; i < n; i++)
        total += df_file_pages(df, ids[i]);
    return total;
}

int bt_free_pages(const bt_env *env, const pgid_t *ids, size_t n, hdb_err *err)
{
    space_ctx sc = { env->bp, env->df };
    for (size_t i = 0; i < n;) {
        mtr m;
        bt_mtr_begin(&m, env);
        /* a batch ends before its mtr could run out of page slots (one per
         * distinct bitmap) */
        for (size_t k = 0; i < n && k < 1024 && m.npages < MTR_MAX_PAGES - 1; i++, k++)
            if (space_free(&sc, &m, ids[i], err) < 0) {
                mtr_abort(&m);
                return -1;
            }
        if (bt_commit_pages(&m, err) < 0)
            return -1;
    }
    return 0;
}

int bt_drop(btree *bt, hdb_err *err)
{
    pgid_t *ids = NULL;
    size_t n = 0, cap = 0;
    int rc = 0;
    pthread_rwlock_wrlock(&bt->smo);
    uint32_t saved_owner = bt->object_id;
    if (!bt->object_id) {
        /* "whoever owns the root" (undo of an index creation knows only the
         * root): adopt the root's owner, then check every page against it */
        bp_frame *f = bp_fix(bt->env.bp, bt->env.df, bt->root, BP_SHARED, 0, err);
        if (!f) {
            pthread_rwlock_unlock(&bt->smo);
            return -1;
        }
        bt->object_id = page_chdr(bp_page(f))->owner;
        bp_unfix(f);
    }
    /* Collect every page level by level (leftmost child, then next links)
     * before freeing any, so no freed page is read again. */
    uint64_t cap_pages = bt_page_cap(bt->env.df);
    for (pgid_t first = bt->root; first && rc == 0;) {
        pgid_t down = 0;
        for (pgid_t id = first; id;) {
            if (n >= cap_pages) {
                rc = bt_corrupt(err, bt, id, "the page chain loops");
                break;
            }
            bp_frame *f = bp_fix(bt->env.bp, bt->env.df, id, BP_SHARED, 0, err);
            if (!f) {
                rc = -1;
                break;
            }
            const void *pg = bp_page(f);
            if (!bt_page_ok(bt, pg, id, -1)) {
                bp_unfix(f);
                rc = bt_corrupt(err, bt, id, "a page reached while dropping is not a page of this index");
                break;
            }
            if (!down && page_chdr(pg)->type == PAGE_BTREE_INTERNAL)
                down = bt_child(pg, -1);
            pgid_t next = page_chdr(pg)->next;
            bp_unfix(f);
            if (n == cap) {
                size_t nc = cap ? cap * 2 : 256;
                pgid_t *p = realloc(ids, nc * sizeof *ids);
                if (!p) {
                    rc = hdb_raise_text(err, 701, 19, 1, "There is insufficient system memory to run this query.");
                    break;
                }
                ids = p;
                cap = nc;
            }
            ids[n++] = id;
            id = next;
        }
        first = down;
    }
    if (rc == 0)
        rc = bt_free_pages(&bt->env, ids, n, err);
    bt->object_id = saved_owner;
    pthread_rwlock_unlock(&bt->smo);
    free(ids);
    return rc;
}
