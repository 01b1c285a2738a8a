/*
 * overflow.h — values too large for a row, stored in chains of PAGE_OVERFLOW
 * pages (varchar(max), varbinary(max), ...). The row keeps a pointer to the
 * chain (access/row.h: first page id + total length).
 *
 * Page layout: a normal page header (type PAGE_OVERFLOW, owner = the object,
 * level 0, prev/next = the neighbouring pages of the chain, 0 at the ends) and
 * one slotted record holding the next OVF_PAGE_DATA (or fewer, in the last
 * page) bytes of the value.
 *
 * Logging: redo only. Pages are allocated, formatted and filled in LR_PAGES
 * mini-transactions of a few pages each (a new page is usually logged as its
 * full image, which costs no more than the data itself). A chain is therefore
 * not undone by rollback: the table layer frees the chains of rolled-back
 * inserts, and defers freeing the chains of deleted or replaced values to
 * commit (txn_on_commit), so a rollback always finds them intact. A crash in
 * the middle of ovf_write leaves the pages written so far allocated but
 * unreferenced (a space leak, not an inconsistency).
 */
#ifndef HDB_ACCESS_OVERFLOW_H
#define HDB_ACCESS_OVERFLOW_H

#include <stddef.h>
#include <stdint.h>

#include "access/btree.h"

/* Value bytes per overflow page: the whole record area minus one slot. */
#define OVF_PAGE_DATA (PAGE_SIZE - PAGE_HEADER_SIZE - PAGE_SLOT_SIZE)

/* Pages a value of len bytes occupies (at least one). */
static inline size_t ovf_pages(size_t len) { return len ? (len + OVF_PAGE_DATA - 1) / OVF_PAGE_DATA : 1; }

/* Store data (len bytes, len may be 0) as a new chain in filegroup fg_id owned
 * by object `owner`. Returns the first page id, 0 on error (nothing is left
 * allocated after an error). */
pgid_t ovf_write(const bt_env *env, uint16_t fg_id, uint32_t owner, const uint8_t *data, size_t len,
                 hdb_err *err);
/* Read exactly len bytes (the length the row's pointer records) from the
 * chain at first into out. 0, or -1 (a broken chain or a length mismatch is
 * reported as a consistency error). */
int ovf_read(const bt_env *env, pgid_t first, uint8_t *out, size_t len, hdb_err *err);
/* Free every page of the chain at first. */
int ovf_free(const bt_env *env, pgid_t first, hdb_err *err);

#endif
