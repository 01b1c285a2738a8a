/*
 * btree_verify.h — DBCC's view of B+trees and overflow chains: walks that
 * report every inconsistency they meet and go on (bt_check stops at the
 * first), and the rebuild that REPAIR_ALLOW_DATA_LOSS / REPAIR_REBUILD use.
 * The engine (engine/dbcc.h) turns the issues into SQL Server's messages and
 * does the allocation accounting through the claim callback.
 *
 * bt_verify walks a tree level by level from its root, holding the tree's
 * SMO lock shared (row changes may go on; the engine locks the table when it
 * wants a still picture). Each level is the list of child pointers its parent
 * level gave, in key order, each with the separator keys that bound it. A
 * page that cannot be read, is not a page of this tree at that level, or has
 * a broken slot array is "not seen": its subtree is not walked (its pages
 * then show up as allocated but unseen), and its neighbours' links to it are
 * reported. For every seen page: key order, the parent's bounds, and the
 * prev/next links against the neighbours the parent level says it has.
 */
#ifndef HDB_ACCESS_BTREE_VERIFY_H
#define HDB_ACCESS_BTREE_VERIFY_H

#include "access/btree.h"
#include "access/overflow.h"

enum bv_kind {
    BV_READ_FAILED = 1, /* page: could not be read; err is the read error (823/824) */
    BV_BAD_PAGE,        /* page: not a page of this tree/chain at this place; test, v1, v2 */
    BV_NOT_SEEN,        /* page: referenced by parent (slot) and previous (other), not processed */
    BV_PREV_LINK,       /* page's prev pointer (other2) is not the previous page (other) its parent expects */
    BV_NEXT_LINK,       /* page is missing a reference from the previous page (other) */
    BV_NEXT_DANGLING,   /* page is the last of its level but its next pointer is other */
    BV_KEY_ORDER,       /* page: keys out of order at slots slot-1 and slot */
    BV_LOW_KEY,         /* page: first key below its parent's separator (parent, slot) */
    BV_HIGH_KEY,        /* page: last key not below the next separator (parent, slot, next page other) */
    BV_TWO_PARENTS,     /* page was already reached elsewhere; parent, slot is the second reference */
    BV_CHAIN_LENGTH,    /* overflow chain at page ends before / after the length its row records */
};

typedef struct bv_issue {
    int      kind;
    pgid_t   page, other, other2, parent;
    int      slot, level;
    hdb_err  err;             /* BV_READ_FAILED */
    char     test[96];        /* BV_BAD_PAGE, BV_CHAIN_LENGTH: what was expected */
    long long v1, v2;         /* ... and the values met */
} bv_issue;

typedef struct bv_callbacks {
    void *ctx;
    void (*issue)(void *ctx, const bv_issue *is);
    /* A page about to be processed. 0 = go on; 1 = something already
     * reached it (it is then skipped: BV_TWO_PARENTS). May be NULL. */
    int (*claim)(void *ctx, pgid_t id);
    /* Each record of a seen leaf, left to right (slot is its slot). -1 stops
     * the walk with err set. May be NULL. */
    int (*record)(void *ctx, pgid_t page, int slot, const uint8_t *k, size_t kl, const uint8_t *v, size_t vl,
                  hdb_err *err);
} bv_callbacks;

typedef struct bv_stats {
    uint64_t pages;           /* seen */
    uint64_t records;         /* leaf records of seen leaves */
    uint64_t lost;            /* pages referenced but not seen */
    int      height;          /* root level + 1, 0 when the root could not be read */
} bv_stats;

/* 0 when the walk finished (whatever it found), -1 on out of memory or a
 * record callback's error. */
int bt_verify(btree *bt, const bv_callbacks *cb, bv_stats *st, hdb_err *err);

/* The overflow chain of `len` bytes at `first` owned by `owner` (a row's
 * off-row pointer). Every page is claimed; issues as above (BV_CHAIN_LENGTH
 * when the pages hold more or fewer bytes than the row records). 1 = the
 * chain is whole, 0 = broken, -1 on error. *pages: pages walked. */
int ovf_verify(const bt_env *env, pgid_t first, uint32_t owner, uint64_t len, const bv_callbacks *cb,
               uint64_t *pages, hdb_err *err);

/* ---- repair ------------------------------------------------------------- */

/* Rebuild bt in place from `n` records (any order; a key met twice keeps its
 * first record): the pages in free_ids (every page the tree had, as the
 * caller found them, the root excepted) are freed, the root is formatted as
 * an empty leaf (without reading it: it may be unreadable), and the records
 * are inserted in transaction t (participant p). Holds the SMO lock
 * exclusive throughout. Returns the number of records inserted, -1 on error. */
typedef struct bv_record { const uint8_t *k, *v; uint16_t kl, vl; uint32_t seq; } bv_record;
long bt_rebuild(btree *bt, txn *t, txn_part *p, bv_record *recs, size_t n, const pgid_t *free_ids, size_t nfree,
                hdb_err *err);

/* Set (on = 1) or clear the allocation bits of pages ids[0..n) in redo-only
 * LR_PAGES records (REPAIR: a page in use but free in its bitmap; a page
 * allocated but used by nothing). */
int bt_mark_pages(const bt_env *env, const pgid_t *ids, size_t n, int on, hdb_err *err);

#endif
