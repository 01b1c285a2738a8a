/* btree_smo.c — structure modifications: leaf and internal splits, root growth,
 * merges and root collapse (see btree.h).
 *
 * Every SMO runs with the tree's SMO lock held exclusive, so no other thread is
 * inside the tree: pages are fixed X one by one in whatever order the algorithm
 * needs. All pages an SMO touches (including allocation bitmaps) change through
 * one mtr, committed as a single redo-only LR_PAGES record: after a crash the
 * split or merge is wholly there or wholly absent. Every frame in the mtr is
 * owned by it (unfixed at commit/abort), and a page is fixed once per SMO
 * (smo_fix reuses the mtr's frame) so the SMO never waits on its own latch.
 */
#include "access/btree_int.h"

#include <stdlib.h>
#include <string.h>

typedef struct smo {
    btree         *bt;
    mtr            m;
    space_ctx      sc;
    bt_path        path;
    const uint8_t *key;     /* the pending key of a split */
    size_t         klen;
} smo;

static void smo_begin(smo *s, btree *bt)
{
    memset(s, 0, sizeof *s);
    s->bt = bt;
    s->sc.bp = bt->env.bp;
    s->sc.df = bt->env.df;
    bt_mtr_begin(&s->m, &bt->env);
}

static bp_frame *smo_held(smo *s, pgid_t id)
{
    for (int i = 0; i < s->m.npages; i++)
        if (bp_id(s->m.pages[i].frame) == id)
            return s->m.pages[i].frame;
    return NULL;
}

/* Fix page id X into the SMO's mtr (once). */
static bp_frame *smo_fix(smo *s, pgid_t id, hdb_err *err)
{
    bp_frame *f = smo_held(s, id);
    if (f)
        return f;
    f = bp_fix(s->bt->env.bp, s->bt->env.df, id, BP_EXCL, 0, err);
    if (!f)
        return NULL;
    if (!bt_page_ok(s->bt, bp_page(f), id, -1)) {
        bp_unfix(f);
        bt_corrupt(err, s->bt, id, "a page reached during a split or merge is not a page of this index");
        return NULL;
    }
    if (mtr_own(&s->m, f, err) < 0) {
        bp_unfix(f);
        return NULL;
    }
    return f;
}

/* Read-only look at a page: the mtr's frame when the SMO holds it (its current
 * state), else a copy into buf. A page only looked at stays out of the mtr, so
 * it is neither logged nor re-stamped. */
static const void *smo_view(smo *s, pgid_t id, uint8_t *buf, hdb_err *err)
{
    bp_frame *f = smo_held(s, id);
    if (f)
        return bp_page(f);
    f = bp_fix(s->bt->env.bp, s->bt->env.df, id, BP_SHARED, 0, err);
    if (!f)
        return NULL;
    memcpy(buf, bp_page(f), PAGE_SIZE);
    bp_unfix(f);
    if (!bt_page_ok(s->bt, buf, id, -1)) {
        bt_corrupt(err, s->bt, id, "a page reached during a merge is not a page of this index");
        return NULL;
    }
    return buf;
}

/* A new page near `hint`, formatted as a B+tree page at `level`. */
static bp_frame *smo_alloc(smo *s, pgid_t hint, int level, hdb_err *err)
{
    bp_frame *f = space_alloc(&s->sc, &s->m, s->bt->fg_id, hint, err);
    if (!f)
        return NULL;
    if (bt_op_format(&s->m, f, level ? PAGE_BTREE_INTERNAL : PAGE_BTREE_LEAF, s->bt->object_id,
                     (uint16_t)level, err) < 0)
        return NULL;
    return f;
}

/* Free a page. It is first reformatted as unused so that its pageLSN moves:
 * a cursor remembering it then re-seeks instead of reading stale records. */
static int smo_free(smo *s, bp_frame *f, hdb_err *err)
{
    if (bt_op_format(&s->m, f, PAGE_UNUSED, 0, 0, err) < 0)
        return -1;
    return space_free(&s->sc, &s->m, bp_id(f), err);
}

/* Copy records [from, to) of page `src` into frame dst starting at slot at. */
static int move_recs(smo *s, const void *src, int from, int to, bp_frame *dst, int at, hdb_err *err)
{
    for (int i = from; i < to; i++) {
        uint16_t len;
        const uint8_t *r = page_record(src, i, &len);
        if (bt_op_insert(&s->m, dst, at + (i - from), r, len, err) < 0)
            return -1;
    }
    return 0;
}

static int link(smo *s, bp_frame *f, int off, pgid_t to, hdb_err *err)
{
    return bt_op_set64(&s->m, f, (uint16_t)off, to, err);
}

/* ------------------------------------------------------------ splits */

/* Length of the shortest prefix of b that sorts after a (a < b). Separators
 * only need to divide the two pages, and short ones keep internal pages wide. */
static size_t shortest_sep(const uint8_t *a, size_t al, const uint8_t *b, size_t bl)
{
    size_t i = 0;
    while (i < al && i < bl && a[i] == b[i])
        i++;
    return i + 1 <= bl ? i + 1 : bl;
}

/* Where to cut page pg (n records) so both halves hold about half its bytes.
 * Leaf: records [cut, n) move right, cut in [1, n-1]. Internal: record cut
 * moves up and (cut, n) move right, cut in [1, n-2] when n >= 3. */
static int half_cut(const void *pg, int leaf)
{
    int n = page_chdr(pg)->nslots;
    size_t total = 0, acc = 0;
    for (int i = 0; i < n; i++) {
        uint16_t len;
        page_record(pg, i, &len);
        total += len + PAGE_SLOT_SIZE;
    }
    int i = 0;
    for (; i < n; i++) {
        uint16_t len;
        page_record(pg, i, &len);
        acc += len + PAGE_SLOT_SIZE;
        if (acc * 2 >= total)
            break;
    }
    int cut = leaf ? i + 1 : i;
    int lo = 1, hi = leaf ? n - 1 : n - 2;
    if (hi < lo)
        hi = lo = leaf ? 1 : (n > 1 ? 1 : 0);
    if (cut < lo)
        cut = lo;
    if (cut > hi)
        cut = hi;
    return cut;
}

static int insert_sep(smo *s, int level, const uint8_t *sep, size_t seplen, pgid_t child, hdb_err *err);

/* The root (frame f, at `level`) is full: move its records to two new pages A
 * and B and make it their parent, one level up. The root's page id stays. */
static int grow_root(smo *s, int level, bp_frame *f, int cut, const uint8_t *sep, size_t seplen,
                     bp_frame **lf, bp_frame **rf, hdb_err *err)
{
    const void *pg = bp_page(f);
    int n = page_chdr(pg)->nslots;
    pgid_t root = bp_id(f);
    if (level + 1 >= BT_MAX_HEIGHT)
        return hdb_raise_text(err, 40000, 16, 1, "Internal error: B+tree too high.");
    bp_frame *a = smo_alloc(s, root, level, err);
    if (!a)
        return -1;
    bp_frame *b = smo_alloc(s, bp_id(a), level, err);
    if (!b)
        return -1;
    if (level == 0) {
        if (move_recs(s, pg, 0, cut, a, 0, err) < 0 || move_recs(s, pg, cut, n, b, 0, err) < 0)
            return -1;
    } else {
        if (link(s, a, BT_LEFTMOST_OFF, bt_child(pg, -1), err) < 0 || move_recs(s, pg, 0, cut, a, 0, err) < 0 ||
            link(s, b, BT_LEFTMOST_OFF, bt_child(pg, cut), err) < 0 ||
            move_recs(s, pg, cut + 1, n, b, 0, err) < 0)
            return -1;
    }
    if (link(s, a, BT_NEXT_OFF, bp_id(b), err) < 0 || link(s, b, BT_PREV_OFF, bp_id(a), err) < 0)
        return -1;
    uint8_t rec[BT_INT_REC_MAX];
    size_t rl = bt_int_rec(rec, sep, seplen, bp_id(b));
    if (bt_op_format(&s->m, f, PAGE_BTREE_INTERNAL, s->bt->object_id, (uint16_t)(level + 1), err) < 0 ||
        link(s, f, BT_LEFTMOST_OFF, bp_id(a), err) < 0 || bt_op_insert(&s->m, f, 0, rec, rl, err) < 0)
        return -1;
    s->path.top = level + 1;
    s->path.id[level + 1] = root;
    *lf = a;
    *rf = b;
    return 0;
}

/* Split frame f (on the path, at `level`); `pending` is the slot where the
 * change that needs room goes. On return *lf / *rf hold the two halves and
 * *keep the records left in *lf (internal: the record at *keep moved up). The
 * separator is inserted into the parent, splitting it in turn if needed. */
static int split_page(smo *s, int level, bp_frame *f, int pending, int *keep, bp_frame **lf, bp_frame **rf,
                      hdb_err *err)
{
    const void *pg = bp_page(f);
    const page_header *h = page_chdr(pg);
    int n = h->nslots, leaf = level == 0;
    pgid_t id = bp_id(f);
    if (n < 1 || (leaf && n < 2 && pending != n))
        return bt_corrupt(err, s->bt, id, "a page to split holds too few records");

    /* Appending past the right end of the level (ascending keys): leave this
     * page full and start the new one (nearly) empty, as SQL Server does. */
    int append = pending == n && h->next == 0;
    int cut = append ? (leaf ? n : n - 1) : half_cut(pg, leaf);

    uint8_t sep[BT_MAX_KEY];
    size_t seplen, al, bl;
    if (leaf) {
        const uint8_t *a = bt_rec_key(pg, cut - 1, &al);
        const uint8_t *b = cut < n ? bt_rec_key(pg, cut, &bl) : (bl = s->klen, s->key);
        seplen = shortest_sep(a, al, b, bl);
        memcpy(sep, b, seplen);
    } else {
        const uint8_t *k = bt_rec_key(pg, cut, &seplen);
        memcpy(sep, k, seplen);
    }
    *keep = cut;
    if (id == s->bt->root)
        return grow_root(s, level, f, cut, sep, seplen, lf, rf, err);

    bp_frame *nf = smo_alloc(s, id, level, err);
    if (!nf)
        return -1;
    pgid_t nid = bp_id(nf), old_next = h->next;
    if (leaf) {
        if (move_recs(s, pg, cut, n, nf, 0, err) < 0)
            return -1;
    } else {
        if (link(s, nf, BT_LEFTMOST_OFF, bt_child(pg, cut), err) < 0 ||
            move_recs(s, pg, cut + 1, n, nf, 0, err) < 0)
            return -1;
    }
    if (cut < n && bt_op_truncate(&s->m, f, cut, err) < 0)
        return -1;
    if (link(s, nf, BT_PREV_OFF, id, err) < 0 || link(s, nf, BT_NEXT_OFF, old_next, err) < 0 ||
        link(s, f, BT_NEXT_OFF, nid, err) < 0)
        return -1;
    if (old_next) {
        bp_frame *r = smo_fix(s, old_next, err);
        if (!r || link(s, r, BT_PREV_OFF, nid, err) < 0)
            return -1;
    }
    *lf = f;
    *rf = nf;
    return insert_sep(s, level + 1, sep, seplen, nid, err);
}

/* Insert (sep -> child) into the path's page at `level`, right after the child
 * the descent came from. */
static int insert_sep(smo *s, int level, const uint8_t *sep, size_t seplen, pgid_t child, hdb_err *err)
{
    if (level > s->path.top)
        return hdb_raise_text(err, 40000, 16, 1, "Internal error: B+tree split above the root.");
    bp_frame *pf = smo_fix(s, s->path.id[level], err);
    if (!pf)
        return -1;
    int pos = s->path.idx[level] + 1;
    uint8_t rec[BT_INT_REC_MAX];
    size_t rl = bt_int_rec(rec, sep, seplen, child);
    if (page_free_space(bp_page(pf)) >= page_need(rl))
        return bt_op_insert(&s->m, pf, pos, rec, rl, err);
    int keep;
    bp_frame *l, *r;
    if (split_page(s, level, pf, pos, &keep, &l, &r, err) < 0)
        return -1;
    if (pos <= keep)
        return bt_op_insert(&s->m, l, pos, rec, rl, err);
    return bt_op_insert(&s->m, r, pos - keep - 1, rec, rl, err);
}

int bt_smo_split(btree *bt, const uint8_t *key, size_t klen, hdb_err *err)
{
    smo s;
    smo_begin(&s, bt);
    s.key = key;
    s.klen = klen;
    bp_frame *f = bt_descend(bt, key, klen, BP_EXCL, &s.path, err);
    if (!f) {
        mtr_abort(&s.m);
        return -1;
    }
    if (mtr_own(&s.m, f, err) < 0) {
        bp_unfix(f);
        mtr_abort(&s.m);
        return -1;
    }
    int found, keep;
    int pos = bt_leaf_search(bp_page(f), key, klen, &found);
    bp_frame *l, *r;
    if (split_page(&s, 0, f, pos, &keep, &l, &r, err) < 0) {
        mtr_abort(&s.m);
        return -1;
    }
    return bt_commit_pages(&s.m, err);
}

/* ------------------------------------------------------------ merges */

/* The underfull page L (child j of P) moves into its right sibling R (child
 * j+1): the pointer to L now points to R and R's separator goes. For internal
 * pages the separator comes down between L's and R's records. */
static int merge_right(smo *s, int level, bp_frame *lf, bp_frame *pf, int j, bp_frame *rf, hdb_err *err)
{
    const void *L = bp_page(lf), *P = bp_page(pf), *R = bp_page(rf);
    int nl = page_chdr(L)->nslots;
    pgid_t rid = bp_id(rf), lprev = page_chdr(L)->prev;
    if (move_recs(s, L, 0, nl, rf, 0, err) < 0)
        return -1;
    if (level > 0) {
        size_t kl;
        const uint8_t *k = bt_rec_key(P, j + 1, &kl);
        uint8_t rec[BT_INT_REC_MAX];
        size_t rl = bt_int_rec(rec, k, kl, bt_child(R, -1));
        if (bt_op_insert(&s->m, rf, nl, rec, rl, err) < 0 || link(s, rf, BT_LEFTMOST_OFF, bt_child(L, -1), err) < 0)
            return -1;
    }
    if (j < 0) {
        if (link(s, pf, BT_LEFTMOST_OFF, rid, err) < 0)
            return -1;
    } else {
        size_t kl;
        const uint8_t *k = bt_rec_key(P, j, &kl);
        uint8_t rec[BT_INT_REC_MAX];
        size_t rl = bt_int_rec(rec, k, kl, rid);
        if (bt_op_replace(&s->m, pf, j, rec, rl, err) < 0)
            return -1;
    }
    if (bt_op_delete(&s->m, pf, j + 1, err) < 0 || link(s, rf, BT_PREV_OFF, lprev, err) < 0)
        return -1;
    if (lprev) {
        bp_frame *pv = smo_fix(s, lprev, err);
        if (!pv || link(s, pv, BT_NEXT_OFF, rid, err) < 0)
            return -1;
    }
    return smo_free(s, lf, err);
}

/* The underfull page L (child j >= 0 of P) moves into its left sibling S. */
static int merge_left(smo *s, int level, bp_frame *lf, bp_frame *pf, int j, bp_frame *sf, hdb_err *err)
{
    const void *L = bp_page(lf), *P = bp_page(pf), *S = bp_page(sf);
    int nl = page_chdr(L)->nslots, ns = page_chdr(S)->nslots;
    pgid_t sid = bp_id(sf), lnext = page_chdr(L)->next;
    if (level > 0) {
        size_t kl;
        const uint8_t *k = bt_rec_key(P, j, &kl);
        uint8_t rec[BT_INT_REC_MAX];
        size_t rl = bt_int_rec(rec, k, kl, bt_child(L, -1));
        if (bt_op_insert(&s->m, sf, ns++, rec, rl, err) < 0)
            return -1;
    }
    if (move_recs(s, L, 0, nl, sf, ns, err) < 0 || bt_op_delete(&s->m, pf, j, err) < 0 ||
        link(s, sf, BT_NEXT_OFF, lnext, err) < 0)
        return -1;
    if (lnext) {
        bp_frame *nx = smo_fix(s, lnext, err);
        if (!nx || link(s, nx, BT_PREV_OFF, sid, err) < 0)
            return -1;
    }
    return smo_free(s, lf, err);
}

/* Try to merge the path's page at `level` into a sibling under the same
 * parent. 1 = merged (or the parent has no other child: look one level up),
 * 0 = nothing to do, -1 = error. */
static int merge_level(smo *s, int level, uint8_t *buf[3], hdb_err *err)
{
    pgid_t id = s->path.id[level], pid = s->path.id[level + 1];
    int j = s->path.idx[level + 1];
    const void *L = smo_view(s, id, buf[0], err);
    if (!L)
        return -1;
    if (!bt_underfull(L))
        return 0;
    const void *P = smo_view(s, pid, buf[1], err);
    if (!P)
        return -1;
    int np = page_chdr(P)->nslots;
    if (np == 0)
        return 1;
    size_t used = bt_used(L);
    for (int side = 0; side < 2; side++) {
        int sj = side == 0 ? j + 1 : j - 1;   /* right sibling first, then left */
        if (sj >= np || sj < -1 || (side == 1 && j < 0))
            continue;
        size_t need = used;
        if (level > 0) {   /* the separator pulled down between the two pages */
            size_t kl;
            bt_rec_key(P, side == 0 ? j + 1 : j, &kl);
            need += page_need(2 + kl + 8);
        }
        pgid_t sid = bt_child(P, sj);
        const void *S = smo_view(s, sid, buf[2], err);
        if (!S)
            return -1;
        if (page_chdr(S)->level != level)
            return bt_corrupt(err, s->bt, sid, "a sibling page is at the wrong level");
        if (page_free_space(S) < need)
            continue;
        bp_frame *lf = smo_fix(s, id, err);
        bp_frame *pf = lf ? smo_fix(s, pid, err) : NULL;
        bp_frame *sf = pf ? smo_fix(s, sid, err) : NULL;
        if (!sf)
            return -1;
        int rc = side == 0 ? merge_right(s, level, lf, pf, j, sf, err) : merge_left(s, level, lf, pf, j, sf, err);
        return rc < 0 ? -1 : 1;
    }
    return 0;
}

/* An internal root left with a single child takes over the child's contents
 * (the root's page id never changes) and the child is freed. */
static int collapse_root(smo *s, uint8_t *buf[3], hdb_err *err)
{
    for (;;) {
        if (s->m.npages > MTR_MAX_PAGES - 4)
            return 0;
        const void *R = smo_view(s, s->bt->root, buf[0], err);
        if (!R)
            return -1;
        if (page_chdr(R)->type != PAGE_BTREE_INTERNAL || page_chdr(R)->nslots > 0)
            return 0;
        pgid_t cid = bt_child(R, -1);
        bp_frame *rf = smo_fix(s, s->bt->root, err);
        bp_frame *cf = rf ? smo_fix(s, cid, err) : NULL;
        if (!cf)
            return -1;
        const void *C = bp_page(cf);
        const page_header *ch = page_chdr(C);
        if (ch->level + 1 != page_chdr(bp_page(rf))->level)
            return bt_corrupt(err, s->bt, cid, "the root's only child is at the wrong level");
        if (bt_op_format(&s->m, rf, (enum page_type)ch->type, s->bt->object_id, ch->level, err) < 0)
            return -1;
        if (ch->type == PAGE_BTREE_INTERNAL && link(s, rf, BT_LEFTMOST_OFF, bt_child(C, -1), err) < 0)
            return -1;
        if (move_recs(s, C, 0, ch->nslots, rf, 0, err) < 0 || smo_free(s, cf, err) < 0)
            return -1;
    }
}

int bt_smo_merge(btree *bt, const uint8_t *key, size_t klen, hdb_err *err)
{
    smo s;
    smo_begin(&s, bt);
    uint8_t *mem = malloc(3 * (size_t)PAGE_SIZE);
    if (!mem) {
        mtr_abort(&s.m);
        return hdb_raise_text(err, 701, 19, 1, "There is insufficient system memory to run this query.");
    }
    uint8_t *buf[3] = { mem, mem + PAGE_SIZE, mem + 2 * PAGE_SIZE };
    int rc = 0;
    bp_frame *f = bt_descend(bt, key, klen, BP_SHARED, &s.path, err);
    if (!f) {
        rc = -1;
    } else {
        bp_unfix(f);
        for (int level = 0; level < s.path.top; level++) {
            /* each level may add ~4 pages; stop early rather than overflow */
            if (s.m.npages > MTR_MAX_PAGES - 8)
                break;
            int r = merge_level(&s, level, buf, err);
            if (r < 0)
                rc = -1;
            if (r <= 0)
                break;
        }
        if (rc == 0)
            rc = collapse_root(&s, buf, err);
    }
    free(mem);
    if (rc < 0 || s.m.npages == 0) {
        mtr_abort(&s.m);
        return rc;
    }
    return bt_commit_pages(&s.m, err);
}
