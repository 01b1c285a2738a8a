/*
 * btree_int.h — internals shared by btree.c, btree_smo.c, btree_cursor.c and
 * overflow.c. Not a contract: nothing outside access/ includes it.
 *
 * Record layouts (see btree.h):
 *   leaf      u16 key_len, key, value
 *   internal  u16 key_len, key, u64 child
 * An internal page's leftmost child sits in the first 8 bytes of the header's
 * 'special' area. Child index j of an internal page runs from -1 (leftmost) to
 * nslots-1 (the child of record j); child j holds keys in [key j, key j+1).
 */
#ifndef HDB_ACCESS_BTREE_INT_H
#define HDB_ACCESS_BTREE_INT_H

#include <string.h>

#include "access/btree.h"
#include "storage/pageop.h"

#define BT_MAX_HEIGHT   32
#define BT_PREV_OFF     40          /* page_header.prev */
#define BT_NEXT_OFF     48          /* page_header.next */
#define BT_LEFTMOST_OFF 56          /* page_header.special[0..8) */
#define BT_PAGE_ROOM    ((size_t)(PAGE_SIZE - PAGE_HEADER_SIZE))
/* A page using less than this (records + slots) is a merge candidate. */
#define BT_UNDERFULL    (BT_PAGE_ROOM / 4)
#define BT_INT_REC_MAX  (2 + BT_MAX_KEY + 8)

/* The pages of one root-to-leaf descent: id[level] is the page at that level,
 * idx[level] (level >= 1) the child index taken there; top is the root's level. */
typedef struct bt_path {
    int    top;
    pgid_t id[BT_MAX_HEIGHT];
    int    idx[BT_MAX_HEIGHT];
} bt_path;

static inline uint16_t bt_get16(const uint8_t *p) { uint16_t v; memcpy(&v, p, 2); return v; }
static inline uint64_t bt_get64(const uint8_t *p) { uint64_t v; memcpy(&v, p, 8); return v; }

static inline const uint8_t *bt_rec_key(const void *page, int slot, size_t *klen)
{
    const uint8_t *r = page_record(page, slot, NULL);
    *klen = bt_get16(r);
    return r + 2;
}

static inline const uint8_t *bt_leaf_val(const void *page, int slot, size_t *vlen)
{
    uint16_t len;
    const uint8_t *r = page_record(page, slot, &len);
    uint16_t kl = bt_get16(r);
    *vlen = (size_t)len - 2 - kl;
    return r + 2 + kl;
}

/* Child j of an internal page (j = -1: the leftmost child). */
static inline pgid_t bt_child(const void *page, int j)
{
    if (j < 0)
        return bt_get64((const uint8_t *)page + BT_LEFTMOST_OFF);
    uint16_t len;
    const uint8_t *r = page_record(page, j, &len);
    return bt_get64(r + len - 8);
}

/* Bytes of records and slots in use. */
static inline size_t bt_used(const void *page) { return BT_PAGE_ROOM - page_free_space(page); }

static inline int bt_underfull(const void *page)
{
    return page_chdr(page)->nslots == 0 || bt_used(page) < BT_UNDERFULL;
}

/* memcmp order, a proper prefix first. */
int bt_keycmp(const uint8_t *a, size_t al, const uint8_t *b, size_t bl);
/* Leaf: first slot whose key >= key (*found: equal). key NULL = slot 0. */
int bt_leaf_search(const void *page, const uint8_t *key, size_t klen, int *found);
/* Internal: index of the child covering key, -1..nslots-1 (key NULL: -1). */
int bt_int_search(const void *page, const uint8_t *key, size_t klen);
/* Build an internal record into out (BT_INT_REC_MAX bytes); returns its length. */
size_t bt_int_rec(uint8_t *out, const uint8_t *key, size_t klen, pgid_t child);

/* Does this page header look like a page of bt at `level` (-1: any level)? */
int bt_page_ok(const btree *bt, const void *page, pgid_t id, int level);
/* Raise the "page belongs elsewhere / malformed" error for page id. */
int bt_corrupt(hdb_err *err, const btree *bt, pgid_t id, const char *what);

/* Descend from the root to the leaf covering key (NULL: leftmost leaf). Internal
 * pages are latched shared one at a time (the caller holds the SMO lock, so they
 * cannot change); the leaf is returned fixed with leaf_latch. Fills path if
 * non-NULL. */
bp_frame *bt_descend(btree *bt, const uint8_t *key, size_t klen, int leaf_latch, bt_path *path, hdb_err *err);

/* ---- logged page changes (each applies at once to an X-latched frame) ---- */
int bt_op_format(mtr *m, bp_frame *f, enum page_type type, uint32_t owner, uint16_t level, hdb_err *err);
int bt_op_insert(mtr *m, bp_frame *f, int slot, const void *rec, size_t len, hdb_err *err);
int bt_op_delete(mtr *m, bp_frame *f, int slot, hdb_err *err);
int bt_op_replace(mtr *m, bp_frame *f, int slot, const void *rec, size_t len, hdb_err *err);
int bt_op_truncate(mtr *m, bp_frame *f, int from, hdb_err *err);
int bt_op_set64(mtr *m, bp_frame *f, uint16_t off, uint64_t v, hdb_err *err);

static inline void bt_mtr_begin(mtr *m, const bt_env *env)
{
    mtr_begin(m, env->db->log, env->db->fpw_lsn);
}

/* Commit m as a redo-only LR_PAGES record (no transaction). 0 or -1. */
int bt_commit_pages(mtr *m, hdb_err *err);
/* Pages in all files of the database: an upper bound for any walk of a page
 * chain, so a damaged chain that loops is reported instead of followed forever. */
uint64_t bt_page_cap(dbfiles *df);
/* Clear the allocation bits of pages ids[0..n) in LR_PAGES records (only the
 * bitmaps change, so one record covers many pages). The pages themselves are
 * left as they are: whoever allocates one next formats it. */
int bt_free_pages(const bt_env *env, const pgid_t *ids, size_t n, hdb_err *err);

/* ---- structure modifications (btree_smo.c); caller holds bt->smo exclusive ---- */
/* Split the leaf covering key (and its ancestors as needed) so that the pending
 * insert/update of key gains room. One LR_PAGES record. */
int bt_smo_split(btree *bt, const uint8_t *key, size_t klen, hdb_err *err);
/* Merge the leaf covering key into a sibling if it is underfull (and ancestors
 * likewise), collapsing a single-child root. One LR_PAGES record; 0 also when
 * nothing was merged. */
int bt_smo_merge(btree *bt, const uint8_t *key, size_t klen, hdb_err *err);

#endif
