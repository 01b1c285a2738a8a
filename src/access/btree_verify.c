/* btree_verify.c — DBCC's walks of a B+tree and of an overflow chain that go
 * on past what they find (see btree_verify.h). */
#include "access/btree_verify.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "access/btree_int.h"

static const char oom[] = "There is insufficient system memory to run this query.";

/* One child pointer of the level above, with the separator keys bounding it
 * (offsets into the level's key store) and, once processed, what it held. */
typedef struct entry {
    pgid_t   id, parent;
    int      slot;                 /* child index in the parent (-1 = leftmost) */
    uint32_t lo, hi;               /* key store offsets */
    uint16_t lolen, hilen;
    uint8_t  has_lo, has_hi, seen;
    pgid_t   prev, next;           /* the page's links, when seen */
} entry;

typedef struct level {
    entry   *e;
    size_t   n, cap;
    uint8_t *keys;
    size_t   klen, kcap;
} level;

typedef struct walk {
    btree              *bt;
    const bv_callbacks *cb;
    bv_stats           *st;
    hdb_err            *err;
    uint8_t             pg[PAGE_SIZE];
} walk;

static void report(walk *w, const bv_issue *is)
{
    if (w->cb->issue)
        w->cb->issue(w->cb->ctx, is);
}

static bv_issue make(int kind, pgid_t page, int level)
{
    bv_issue is;
    memset(&is, 0, sizeof is);
    is.kind = kind;
    is.page = page;
    is.level = level;
    return is;
}

static void bad(walk *w, pgid_t page, int level, const char *test, long long v1, long long v2)
{
    bv_issue is = make(BV_BAD_PAGE, page, level);
    snprintf(is.test, sizeof is.test, "%s", test);
    is.v1 = v1;
    is.v2 = v2;
    report(w, &is);
}

static int push_key(level *l, const uint8_t *k, size_t kl, uint32_t *off)
{
    if (l->klen + kl > l->kcap) {
        size_t nc = l->kcap ? l->kcap * 2 : 4096;
        while (nc < l->klen + kl)
            nc *= 2;
        uint8_t *g = realloc(l->keys, nc);
        if (!g)
            return -1;
        l->keys = g;
        l->kcap = nc;
    }
    if (kl)
        memcpy(l->keys + l->klen, k, kl);
    *off = (uint32_t)l->klen;
    l->klen += kl;
    return 0;
}

static entry *push_entry(level *l)
{
    if (l->n == l->cap) {
        size_t nc = l->cap ? l->cap * 2 : 64;
        entry *g = realloc(l->e, nc * sizeof *g);
        if (!g)
            return NULL;
        l->e = g;
        l->cap = nc;
    }
    entry *e = &l->e[l->n++];
    memset(e, 0, sizeof *e);
    return e;
}

/* Slot array and record framing (as bt_check's check_slots): 0 good, else
 * fills the failed test. */
static int framing(const uint8_t *pg, int leaf, const char **test, long long *v1, long long *v2)
{
    const page_header *h = page_chdr(pg);
    if (h->free_lo != PAGE_HEADER_SIZE + (size_t)h->nslots * PAGE_SLOT_SIZE || h->free_hi < h->free_lo ||
        h->free_hi > PAGE_SIZE) {
        *test = "m_freeLo == end of slot array && m_freeLo <= m_freeHi";
        *v1 = h->free_lo;
        *v2 = h->free_hi;
        return -1;
    }
    size_t sum = 0;
    for (int i = 0; i < h->nslots; i++) {
        uint16_t off, len;
        memcpy(&off, pg + PAGE_HEADER_SIZE + (size_t)i * PAGE_SLOT_SIZE, 2);
        memcpy(&len, pg + PAGE_HEADER_SIZE + (size_t)i * PAGE_SLOT_SIZE + 2, 2);
        if (off < h->free_hi || (size_t)off + len > PAGE_SIZE || len < 2) {
            *test = "slot offset and length inside the record area";
            *v1 = off;
            *v2 = len;
            return -1;
        }
        uint16_t kl = bt_get16(pg + off);
        if (kl > BT_MAX_KEY || (size_t)kl + 2 > len || (!leaf && (size_t)kl + 10 != len)) {
            *test = leaf ? "key length inside the record" : "index record length == key length + 10";
            *v1 = kl;
            *v2 = len;
            return -1;
        }
        sum += len;
    }
    if (sum + h->frag != (size_t)(PAGE_SIZE - h->free_hi)) {
        *test = "record bytes + m_fragBytes == record area";
        *v1 = (long long)(sum + h->frag);
        *v2 = PAGE_SIZE - h->free_hi;
        return -1;
    }
    return 0;
}

/* Read and check one page of the tree; 1 seen (copy in w->pg), 0 not. */
static int fetch(walk *w, entry *e, int lvl)
{
    if (w->cb->claim && w->cb->claim(w->cb->ctx, e->id)) {
        bv_issue is = make(BV_TWO_PARENTS, e->id, lvl);
        is.parent = e->parent;
        is.slot = e->slot;
        report(w, &is);
        return 0;
    }
    hdb_err re;
    hdb_err_clear(&re);
    bp_frame *f = bp_fix(w->bt->env.bp, w->bt->env.df, e->id, BP_SHARED, 0, &re);
    if (!f) {
        bv_issue is = make(BV_READ_FAILED, e->id, lvl);
        is.err = re;
        report(w, &is);
        return 0;
    }
    memcpy(w->pg, bp_page(f), PAGE_SIZE);
    bp_unfix(f);
    const page_header *h = page_chdr(w->pg);
    int leaf = lvl == 0;
    const char *test;
    long long v1, v2;
    if (h->id != e->id) {
        bad(w, e->id, lvl, "m_pageId == pageId", (long long)PGID_PAGE(h->id), (long long)PGID_PAGE(e->id));
        return 0;
    }
    if (h->owner != w->bt->object_id) {
        bad(w, e->id, lvl, "m_objId == objId", h->owner, w->bt->object_id);
        return 0;
    }
    if (h->type != (leaf ? PAGE_BTREE_LEAF : PAGE_BTREE_INTERNAL)) {
        bad(w, e->id, lvl, leaf ? "m_type == PAGE_BTREE_LEAF" : "m_type == PAGE_BTREE_INTERNAL", h->type,
            leaf ? PAGE_BTREE_LEAF : PAGE_BTREE_INTERNAL);
        return 0;
    }
    if (h->level != lvl) {
        bad(w, e->id, lvl, "m_level == level", h->level, lvl);
        return 0;
    }
    if (framing(w->pg, leaf, &test, &v1, &v2) < 0) {
        bad(w, e->id, lvl, test, v1, v2);
        return 0;
    }
    return 1;
}

/* Process one level; children go to `down`. */
static int do_level(walk *w, level *cur, level *down, int lvl)
{
    for (size_t i = 0; i < cur->n; i++) {
        entry *e = &cur->e[i];
        if (!fetch(w, e, lvl)) {
            if (e->parent) {
                bv_issue is = make(BV_NOT_SEEN, e->id, lvl);
                is.parent = e->parent;
                is.slot = e->slot;
                is.other = i ? cur->e[i - 1].id : 0;
                report(w, &is);
            }
            w->st->lost++;
            continue;
        }
        const uint8_t *pg = w->pg;
        const page_header *h = page_chdr(pg);
        e->seen = 1;
        e->prev = h->prev;
        e->next = h->next;
        w->st->pages++;
        int n = h->nslots;
        for (int s = 1; s < n; s++) {
            size_t al, bl;
            const uint8_t *a = bt_rec_key(pg, s - 1, &al), *b = bt_rec_key(pg, s, &bl);
            if (bt_keycmp(a, al, b, bl) >= 0) {
                bv_issue is = make(BV_KEY_ORDER, e->id, lvl);
                is.slot = s;
                report(w, &is);
                break;   /* one per page */
            }
        }
        if (n > 0) {
            size_t kl;
            const uint8_t *k = bt_rec_key(pg, 0, &kl);
            if (e->has_lo && bt_keycmp(k, kl, cur->keys + e->lo, e->lolen) < 0) {
                bv_issue is = make(BV_LOW_KEY, e->id, lvl);
                is.parent = e->parent;
                is.slot = e->slot;
                report(w, &is);
            }
            k = bt_rec_key(pg, n - 1, &kl);
            if (e->has_hi && bt_keycmp(k, kl, cur->keys + e->hi, e->hilen) >= 0) {
                bv_issue is = make(BV_HIGH_KEY, e->id, lvl);
                is.parent = e->parent;
                is.slot = e->slot + 1;
                is.other = i + 1 < cur->n ? cur->e[i + 1].id : 0;
                report(w, &is);
            }
        }
        if (lvl == 0) {
            w->st->records += (uint64_t)n;
            for (int s = 0; s < n && w->cb->record; s++) {
                size_t kl, vl;
                const uint8_t *k = bt_rec_key(pg, s, &kl), *v = bt_leaf_val(pg, s, &vl);
                if (w->cb->record(w->cb->ctx, e->id, s, k, kl, v, vl, w->err) < 0)
                    return -1;
            }
            continue;
        }
        for (int j = -1; j < n; j++) {
            pgid_t child = bt_child(pg, j);
            if (!child) {
                bad(w, e->id, lvl, "child page id != 0", 0, j);
                continue;
            }
            /* bounds: [key j (or the page's own lo), key j+1 (or its hi)) */
            entry *c = push_entry(down);
            if (!c)
                return hdb_raise_text(w->err, 701, 19, 1, oom);
            c->id = child;
            c->parent = e->id;
            c->slot = j;
            size_t kl;
            const uint8_t *k;
            if (j >= 0) {
                k = bt_rec_key(pg, j, &kl);
                if (push_key(down, k, kl, &c->lo) < 0)
                    return hdb_raise_text(w->err, 701, 19, 1, oom);
                c->lolen = (uint16_t)kl;
                c->has_lo = 1;
            } else if (e->has_lo) {
                if (push_key(down, cur->keys + e->lo, e->lolen, &c->lo) < 0)
                    return hdb_raise_text(w->err, 701, 19, 1, oom);
                c->lolen = e->lolen;
                c->has_lo = 1;
            }
            if (j + 1 < n) {
                k = bt_rec_key(pg, j + 1, &kl);
                if (push_key(down, k, kl, &c->hi) < 0)
                    return hdb_raise_text(w->err, 701, 19, 1, oom);
                c->hilen = (uint16_t)kl;
                c->has_hi = 1;
            } else if (e->has_hi) {
                if (push_key(down, cur->keys + e->hi, e->hilen, &c->hi) < 0)
                    return hdb_raise_text(w->err, 701, 19, 1, oom);
                c->hilen = e->hilen;
                c->has_hi = 1;
            }
        }
    }
    /* links along the level, against the order the parents gave */
    for (size_t i = 0; i < cur->n; i++) {
        entry *b = &cur->e[i], *a = i ? &cur->e[i - 1] : NULL;
        if (!b->seen)
            continue;
        if (a && (!a->seen || a->next != b->id)) {
            bv_issue is = make(BV_NEXT_LINK, b->id, lvl);
            is.other = a->id;
            report(w, &is);
        }
        pgid_t want = a ? a->id : 0;
        if (b->prev != want) {
            bv_issue is = make(BV_PREV_LINK, b->id, lvl);
            is.other = want;
            is.other2 = b->prev;
            is.parent = b->parent;
            is.slot = b->slot;
            report(w, &is);
        }
        if (i + 1 == cur->n && b->next) {
            bv_issue is = make(BV_NEXT_DANGLING, b->id, lvl);
            is.other = b->next;
            report(w, &is);
        }
    }
    return 0;
}

int bt_verify(btree *bt, const bv_callbacks *cb, bv_stats *st, hdb_err *err)
{
    bv_stats dummy;
    if (!st)
        st = &dummy;
    memset(st, 0, sizeof *st);
    walk *w = malloc(sizeof *w);
    if (!w)
        return hdb_raise_text(err, 701, 19, 1, oom);
    w->bt = bt;
    w->cb = cb;
    w->st = st;
    w->err = err;
    level lv[2];
    memset(lv, 0, sizeof lv);
    int rc = 0;
    pthread_rwlock_rdlock(&bt->smo);
    /* the root's own header says how high the tree is */
    int top = -1, rtype = -1;
    hdb_err re;
    bp_frame *f = bp_fix(bt->env.bp, bt->env.df, bt->root, BP_SHARED, 0, &re);
    if (f) {
        const page_header *h = page_chdr(bp_page(f));
        rtype = h->type;
        if (h->type == PAGE_BTREE_LEAF)
            top = 0;
        else if (h->type == PAGE_BTREE_INTERNAL && h->level > 0 && h->level < BT_MAX_HEIGHT)
            top = h->level;
        bp_unfix(f);
    }
    entry *root = push_entry(&lv[0]);
    if (!root) {
        rc = hdb_raise_text(err, 701, 19, 1, oom);
    } else {
        root->id = bt->root;
        if (top < 0) {
            if (!f) {
                fetch(w, root, 0);   /* claims it and reports the read error */
            } else {
                if (cb->claim)
                    cb->claim(cb->ctx, bt->root);
                bad(w, bt->root, -1, "root m_type is a B+tree page type", rtype, PAGE_BTREE_LEAF);
            }
            st->lost = 1;
        } else {
            st->height = top + 1;
            int c = 0;
            for (int l = top; l >= 0 && rc == 0 && lv[c].n; l--) {
                lv[!c].n = 0;
                lv[!c].klen = 0;
                rc = do_level(w, &lv[c], &lv[!c], l);
                c = !c;
            }
        }
    }
    pthread_rwlock_unlock(&bt->smo);
    for (int i = 0; i < 2; i++) {
        free(lv[i].e);
        free(lv[i].keys);
    }
    free(w);
    return rc;
}

/* ------------------------------------------------------------ overflow chains */

int ovf_verify(const bt_env *env, pgid_t first, uint32_t owner, uint64_t len, const bv_callbacks *cb,
               uint64_t *pages, hdb_err *err)
{
    (void)err;
    uint64_t cap = bt_page_cap(env->df), left = len, n = 0;
    pgid_t id = first, prev = 0;
    uint8_t *pg = malloc(PAGE_SIZE);
    if (!pg)
        return hdb_raise_text(err, 701, 19, 1, oom);
    int whole = 0;
    walk w = { .cb = cb };
    for (;;) {
        if (!id || n >= cap) {
            bv_issue is = make(BV_CHAIN_LENGTH, prev ? prev : first, 0);
            snprintf(is.test, sizeof is.test, "off-row value length == length recorded in the row");
            is.v1 = (long long)(len - left);
            is.v2 = (long long)len;
            report(&w, &is);
            break;
        }
        if (cb->claim && cb->claim(cb->ctx, id)) {
            bv_issue is = make(BV_TWO_PARENTS, id, 0);
            is.parent = prev;
            report(&w, &is);
            break;
        }
        hdb_err re;
        hdb_err_clear(&re);
        bp_frame *f = bp_fix(env->bp, env->df, id, BP_SHARED, 0, &re);
        if (!f) {
            bv_issue is = make(BV_READ_FAILED, id, 0);
            is.err = re;
            report(&w, &is);
            break;
        }
        memcpy(pg, bp_page(f), PAGE_SIZE);
        bp_unfix(f);
        n++;
        const page_header *h = page_chdr(pg);
        const char *test = NULL;
        long long v1 = 0, v2 = 0;
        if (h->id != id)
            test = "m_pageId == pageId", v1 = PGID_PAGE(h->id), v2 = PGID_PAGE(id);
        else if (h->type != PAGE_OVERFLOW)
            test = "m_type == PAGE_OVERFLOW", v1 = h->type, v2 = PAGE_OVERFLOW;
        else if (h->owner != owner)
            test = "m_objId == objId", v1 = h->owner, v2 = owner;
        else if (h->prev != prev)
            test = "m_prevPage == previous node of the chain", v1 = PGID_PAGE(h->prev), v2 = PGID_PAGE(prev);
        else if (h->nslots != 1 || h->free_lo != PAGE_HEADER_SIZE + PAGE_SLOT_SIZE)
            test = "m_slotCnt == 1", v1 = h->nslots, v2 = 1;
        uint16_t rl = 0;
        if (!test) {
            const uint8_t *r = page_record(pg, 0, &rl);
            if ((size_t)(r - pg) < h->free_hi || (size_t)(r - pg) + rl > PAGE_SIZE || rl > OVF_PAGE_DATA)
                test = "off-row node inside the page", v1 = (long long)(r - pg), v2 = rl;
        }
        if (test) {
            bad(&w, id, 0, test, v1, v2);
            break;
        }
        if (rl > left || (h->next && rl != OVF_PAGE_DATA)) {
            bv_issue is = make(BV_CHAIN_LENGTH, id, 0);
            snprintf(is.test, sizeof is.test, "off-row node length == bytes left of the value");
            is.v1 = rl;
            is.v2 = (long long)left;
            report(&w, &is);
            break;
        }
        left -= rl;
        if (!h->next) {
            if (left) {
                bv_issue is = make(BV_CHAIN_LENGTH, id, 0);
                snprintf(is.test, sizeof is.test, "off-row value length == length recorded in the row");
                is.v1 = (long long)(len - left);
                is.v2 = (long long)len;
                report(&w, &is);
            } else {
                whole = 1;
            }
            break;
        }
        prev = id;
        id = h->next;
    }
    free(pg);
    if (pages)
        *pages = n;
    return whole;
}
