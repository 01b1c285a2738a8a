/* btree_pages.c — which pages a tree has (DBCC IND) and whether a given page
 * is one of them (DBCC PAGE's "Metadata: IndexId"). See btree.h.
 *
 * Both hold the SMO lock shared, so the tree's shape cannot change under them
 * (row changes go on), and latch one page at a time, top-down and left to
 * right: the latch protocol of btree.h. A damaged link is reported as 8928,
 * never followed forever (at most as many pages as the files hold). */
#include "access/btree_int.h"

int bt_walk_pages(btree *bt, bt_page_fn fn, void *ctx, hdb_err *err)
{
    pthread_rwlock_rdlock(&bt->smo);
    uint64_t cap = bt_page_cap(bt->env.df), seen = 0;
    pgid_t first = bt->root;
    int expect = -1, rc = 0;   /* level of the next page; -1: the root's, whatever it is */
    while (first && rc == 0) {
        pgid_t id = first, below = 0;
        int level = expect;
        while (id && rc == 0) {
            if (++seen > cap + 1) {
                rc = bt_corrupt(err, bt, id, "the pages of a level link into a cycle");
                break;
            }
            bp_frame *f = bp_fix(bt->env.bp, bt->env.df, id, BP_SHARED, 0, err);
            if (!f) {
                rc = -1;
                break;
            }
            const void *pg = bp_page(f);
            if (!bt_page_ok(bt, pg, id, level)) {
                bp_unfix(f);
                rc = bt_corrupt(err, bt, id, "the page is not a page of this index at the expected level");
                break;
            }
            const page_header *h = page_chdr(pg);
            if (level < 0)
                level = h->level;
            if (id == first && level > 0)
                below = bt_child(pg, -1);
            pgid_t next = h->next;
            int stop = fn(ctx, id, pg);
            bp_unfix(f);
            if (stop)
                rc = 1;
            if (next == id) {
                rc = bt_corrupt(err, bt, id, "the page's next pointer points to itself");
                break;
            }
            id = next;
        }
        first = below;
        expect = level - 1;
    }
    pthread_rwlock_unlock(&bt->smo);
    return rc < 0 ? -1 : 0;
}

int bt_holds_page(btree *bt, pgid_t id, const uint8_t *key, size_t klen, int level, hdb_err *err)
{
    /* the page itself is never read: it may be the damaged one DBCC PAGE shows */
    if (id == bt->root)
        return 1;
    pthread_rwlock_rdlock(&bt->smo);
    pgid_t cur = bt->root;
    int expect = -1, rc = 0;
    for (;;) {
        bp_frame *f = bp_fix(bt->env.bp, bt->env.df, cur, BP_SHARED, 0, err);
        if (!f) {
            rc = -1;
            break;
        }
        const void *pg = bp_page(f);
        if (!bt_page_ok(bt, pg, cur, expect)) {
            bp_unfix(f);
            break;   /* not this tree's page, or damaged: "no" */
        }
        int lv = page_chdr(pg)->level;
        if (lv <= level) {
            bp_unfix(f);
            break;
        }
        pgid_t child = bt_child(pg, bt_int_search(pg, key, klen));
        bp_unfix(f);
        if (lv == level + 1) {
            rc = child == id;
            break;
        }
        cur = child;
        expect = lv - 1;
    }
    pthread_rwlock_unlock(&bt->smo);
    return rc;
}
