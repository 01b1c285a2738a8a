/*
 * btree.h — B+trees: clustered indexes (key -> row), secondary indexes
 * (key -> clustering key) and the system catalog tables all use them.
 *
 * Pages: leaves (PAGE_BTREE_LEAF, level 0) hold records
 *   u16 key_len, key bytes, value bytes
 * sorted by memcmp of the key (keys come from access/keyenc.h, so memcmp order
 * is SQL order). Internal pages (PAGE_BTREE_INTERNAL, level >= 1) hold records
 *   u16 key_len, key bytes, u64 child page id
 * where the child holds keys >= that key (and < the next record's key); the
 * page's leftmost child (keys below the first record's key) sits in the header
 * 'special' area (first 8 bytes). Pages of one level are doubly linked (prev,
 * next) so range scans walk leaves left to right.
 *
 * The root page id never changes: when the root splits, its contents move to two
 * new pages and the root becomes their parent (one level higher). So the
 * catalog records a tree's root once, at creation.
 *
 * Logging: a change to one leaf that needs no split or merge is logged as an
 * LR_ROW record of the transaction (txn_log_row) whose redo is the page op and
 * whose undo is logical (insert -> delete key, delete -> re-insert key+value,
 * update -> put the old value back), because by the time of rollback the key
 * may live on another page. Splits, merges and root growth are structure
 * modifications (SMOs): logged as one redo-only LR_PAGES record (all pages
 * touched, incl. allocation bits), never undone — the tree stays valid, and the
 * row change that needed the room is logged after it as usual.
 *
 * Concurrency: a tree-wide SMO rwlock — every operation holds it shared while
 * it descends; a split or merge retries the operation holding it exclusive.
 * Latches are taken top-down (parent before child), siblings left to right, and
 * never held when the call returns. Transactional key locking is the caller's
 * job (access/table.c): the B+tree only latches.
 */
#ifndef HDB_ACCESS_BTREE_H
#define HDB_ACCESS_BTREE_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "access/space.h"
#include "txn/txn.h"

#define BT_MAX_KEY  900     /* SQL Server's 900-byte index key limit */
/* Largest key+value a leaf record may hold: at least 4 records fit a page. */
#define BT_MAX_RECORD 1950

/* Logical undo ops (first byte of the undo bytes of an LR_ROW). */
enum { UNDO_INSERT = 1, UNDO_DELETE = 2, UNDO_UPDATE = 3 };

typedef struct bt_env {
    bufpool *bp;
    dbfiles *df;
    txn_db  *db;        /* log, fpw_lsn */
} bt_env;

typedef struct btree {
    bt_env   env;
    uint32_t object_id;
    uint16_t index_id;
    uint16_t fg_id;
    pgid_t   root;
    pthread_rwlock_t smo;
    char     name[129];     /* index name for messages (bt_set_name); "" = ids */
} btree;

/* Create an empty tree (a root leaf) in filegroup fg; logged as LR_PAGES.
 * Returns the root page id, 0 on error. */
pgid_t bt_create(const bt_env *env, uint32_t object_id, uint16_t index_id, uint16_t fg_id, hdb_err *err);
/* In-memory handle for an existing tree. */
int bt_open(btree *bt, const bt_env *env, uint32_t object_id, uint16_t index_id, uint16_t fg_id, pgid_t root);
void bt_close(btree *bt);
/* Name used in error 1946 ("... for the index '%s' ..."); without one the
 * message names "object_id.index_id". */
void bt_set_name(btree *bt, const char *name);

/* Row operations of transaction t in participant p (txn_join'ed by the caller).
 * Return 0 on success, -1 on error; bt_insert returns 1 if the key exists (no
 * change), bt_delete / bt_update return 1 if the key does not exist. */
int bt_insert(btree *bt, txn *t, txn_part *p, const uint8_t *key, size_t klen,
              const uint8_t *val, size_t vlen, hdb_err *err);
int bt_delete(btree *bt, txn *t, txn_part *p, const uint8_t *key, size_t klen, hdb_err *err);
int bt_update(btree *bt, txn *t, txn_part *p, const uint8_t *key, size_t klen,
              const uint8_t *val, size_t vlen, hdb_err *err);

/* Key-range locking (engine/table.c) needs the key that follows an inserted or
 * deleted key, read under the same latches as the change itself. These variants
 * call fn(ctx, next, nlen) with the leaf latched, once the change's place is
 * known and before anything changes; next is NULL at the end of the index. fn
 * returns 0 to go on, BT_WAIT to give up with nothing changed (the operation
 * returns BT_WAIT; the caller waits for its lock with no latch held and calls
 * again), or -1 with err set. fn must not wait: it runs under latches. For an
 * insert the duplicate check comes first (1 without calling fn). */
#define BT_WAIT 3
typedef int (*bt_next_key_fn)(void *ctx, const uint8_t *next, size_t nlen, hdb_err *err);
int bt_insert_ranged(btree *bt, txn *t, txn_part *p, const uint8_t *key, size_t klen,
                     const uint8_t *val, size_t vlen, bt_next_key_fn fn, void *ctx, hdb_err *err);
int bt_delete_ranged(btree *bt, txn *t, txn_part *p, const uint8_t *key, size_t klen,
                     bt_next_key_fn fn, void *ctx, hdb_err *err);

/* Point lookup: 1 found (value copied to *val, malloc'd, caller frees), 0 not
 * found, -1 error (e.g. 824 reading a page). */
int bt_get(btree *bt, const uint8_t *key, size_t klen, uint8_t **val, size_t *vlen, hdb_err *err);

/* Range scan. Cursors hold no latch between calls: each call re-finds its place
 * (cheaply when the leaf has not changed since, by pageLSN; else by re-seeking
 * past the last key returned). A scan returns keys in order and each at most
 * once: every key present throughout, keys inserted ahead of its position,
 * never keys inserted behind it. */
typedef struct bt_cursor bt_cursor;
/* Position before the first key >= lo (or > lo if !inclusive; lo NULL = start). */
bt_cursor *bt_cursor_open(btree *bt, const uint8_t *lo, size_t lolen, int inclusive, hdb_err *err);
/* 1 = next record (key/val point into the cursor, valid until the next call),
 * 0 = end, -1 = error. */
int bt_cursor_next(bt_cursor *c, const uint8_t **key, size_t *klen, const uint8_t **val, size_t *vlen, hdb_err *err);
void bt_cursor_close(bt_cursor *c);
/* Reposition: the next call returns the first key > key (>= key if inclusive;
 * key NULL: the first key of the tree), found by a fresh descent. key may point
 * into the cursor (the key last returned). 0 or -1 (out of memory). */
int bt_cursor_seek(bt_cursor *c, const uint8_t *key, size_t klen, int inclusive, hdb_err *err);
/* Where the record last returned was read: its leaf and slot (%%physloc%%).
 * 0, or -1 before the first record. The record may have moved since. */
int bt_cursor_where(const bt_cursor *c, pgid_t *leaf, int *slot);
/* 1 if nothing can have come between the record last returned and the one
 * before it, nor changed either, since they were read: both were read from one
 * leaf in one stretch and that leaf's pageLSN is unchanged now. 0 when that
 * cannot be told (first record, a re-seek, a new leaf, a changed page), -1 on
 * error. Lets a key-range scan skip re-reading after it locked a key. */
int bt_cursor_unchanged(bt_cursor *c, hdb_err *err);

/* Undo one LR_ROW record of this tree (rollback and recovery): perform the
 * logical inverse and log it as an LR_CLR (txn_log_clr, undo_next =
 * rec->prev_lsn). `undo` points at the record's undo bytes. The inverse may
 * split or merge pages (logged first, as LR_PAGES). 3314 if the key is not as
 * the undone change left it (the index is damaged). */
int bt_undo(btree *bt, txn *t, txn_part *p, const log_rec *rec, const uint8_t *undo, size_t undo_len, hdb_err *err);
/* The parts of a record's undo bytes (pointers into them). */
typedef struct bt_undo_rec {
    int            op;           /* UNDO_INSERT, UNDO_DELETE, UNDO_UPDATE */
    uint32_t       object_id;
    uint16_t       index_id;
    const uint8_t *key, *row;    /* row: the old row (delete, update); empty for insert */
    uint32_t       klen, rowlen;
} bt_undo_rec;
/* Parse undo bytes; -1 if they are malformed. */
int bt_undo_parse(const uint8_t *undo, size_t len, bt_undo_rec *u);
/* Parse the undo bytes header: op, object id, index id (for dispatch). */
int bt_undo_header(const uint8_t *undo, size_t len, int *op, uint32_t *object_id, uint16_t *index_id);

/* Check every invariant (order within and across pages, separator keys, levels,
 * sibling links, records well formed). Fills counts. 0 = consistent, else -1
 * with a message describing the first violation. */
typedef struct bt_stats { uint64_t leaves, internals, records, height; } bt_stats;
int bt_check(btree *bt, bt_stats *st, hdb_err *err);

/* Every page of the tree (btree_pages.c, for DBCC IND): level by level from
 * the root down, each level left to right along its links. fn sees each page
 * S-latched (it must not fix pages itself) and returns nonzero to stop. Holds
 * the SMO lock shared: row changes go on meanwhile. 0, or -1 (8928 for a
 * damaged link, or the read error). */
typedef int (*bt_page_fn)(void *ctx, pgid_t id, const void *page);
int bt_walk_pages(btree *bt, bt_page_fn fn, void *ctx, hdb_err *err);
/* 1 if page id is this tree's page at `level` on the way to key (key NULL:
 * the leftmost path), 0 if not, -1 on a read error (DBCC PAGE's IndexId).
 * Reads the pages above it, never the page itself (it may be damaged). */
int bt_holds_page(btree *bt, pgid_t id, const uint8_t *key, size_t klen, int level, hdb_err *err);

/* Free every page of the tree (DROP TABLE), logged as LR_PAGES records. Only
 * allocation bits change (the pages keep their bytes until reallocated). A
 * handle opened with object_id 0 drops whatever tree the root belongs to
 * (every page must carry the root's owner). The handle is unusable after. */
int bt_drop(btree *bt, hdb_err *err);

#endif
