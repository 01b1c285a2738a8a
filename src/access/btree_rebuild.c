/* btree_rebuild.c — DBCC repair of a B+tree: rebuild it in place from the
 * records that survived, and set or clear allocation bits (see
 * btree_verify.h). */
#include "access/btree_verify.h"

#include <stdlib.h>
#include <string.h>

#include "access/btree_int.h"

static const char oom[] = "There is insufficient system memory to run this query.";

int bt_mark_pages(const bt_env *env, const pgid_t *ids, size_t n, int on, hdb_err *err)
{
    space_ctx sc = { env->bp, env->df };
    for (size_t i = 0; i < n;) {
        mtr m;
        bt_mtr_begin(&m, env);
        for (size_t k = 0; i < n && k < 1024 && m.npages < MTR_MAX_PAGES - 1; i++, k++)
            if (space_set_allocated(&sc, &m, ids[i], on, err) < 0) {
                mtr_abort(&m);
                return -1;
            }
        if (bt_commit_pages(&m, err) < 0)
            return -1;
    }
    return 0;
}

/* The root becomes an empty leaf, allocated: one redo-only record, written
 * without reading the page (it may be the damaged one). */
static int reset_root(btree *bt, hdb_err *err)
{
    space_ctx sc = { bt->env.bp, bt->env.df };
    mtr m;
    bt_mtr_begin(&m, &bt->env);
    bp_frame *f = bp_fix(bt->env.bp, bt->env.df, bt->root, BP_EXCL, BP_NOREAD, err);
    if (!f) {
        mtr_abort(&m);
        return -1;
    }
    if (mtr_own(&m, f, err) < 0) {
        bp_unfix(f);
        mtr_abort(&m);
        return -1;
    }
    if (bt_op_format(&m, f, PAGE_BTREE_LEAF, bt->object_id, 0, err) < 0 ||
        space_set_allocated(&sc, &m, bt->root, 1, err) < 0) {
        mtr_abort(&m);
        return -1;
    }
    return bt_commit_pages(&m, err);
}

/* key order; equal keys keep the order they came in (the first one wins) */
static int by_key(const void *a, const void *b)
{
    const bv_record *x = a, *y = b;
    int c = bt_keycmp(x->k, x->kl, y->k, y->kl);
    return c ? c : (x->seq > y->seq) - (x->seq < y->seq);
}

long bt_rebuild(btree *bt, txn *t, txn_part *p, bv_record *recs, size_t n, const pgid_t *free_ids, size_t nfree,
                hdb_err *err)
{
    pgid_t *ids = malloc((nfree ? nfree : 1) * sizeof *ids);
    if (!ids)
        return hdb_raise_text(err, 701, 19, 1, oom);
    size_t k = 0;
    for (size_t i = 0; i < nfree; i++)
        if (free_ids[i] != bt->root)
            ids[k++] = free_ids[i];
    pthread_rwlock_wrlock(&bt->smo);
    int rc = bt_free_pages(&bt->env, ids, k, err);
    if (rc == 0)
        rc = reset_root(bt, err);
    pthread_rwlock_unlock(&bt->smo);
    free(ids);
    if (rc < 0)
        return -1;
    /* qsort is not stable: ties are broken by the order given */
    for (size_t i = 0; i < n; i++)
        recs[i].seq = (uint32_t)i;
    qsort(recs, n, sizeof *recs, by_key);
    long inserted = 0;
    for (size_t i = 0; i < n; i++) {
        if (i && bt_keycmp(recs[i - 1].k, recs[i - 1].kl, recs[i].k, recs[i].kl) == 0)
            continue;
        int r = bt_insert(bt, t, p, recs[i].k, recs[i].kl, recs[i].v, recs[i].vl, err);
        if (r < 0)
            return -1;
        if (r == 0)
            inserted++;
    }
    return inserted;
}
