/*
 * table.h — row operations on tables, the engine's internal API for the SQL
 * layer: values in, values out; keys, rows, indexes, overflow and locks inside.
 *
 * Locking (strict two-phase for writes): IX on the table and X on the key
 * (clustered key resource) before changing a row, held to the end of the
 * transaction. Reads take IS + S on the key; under READ COMMITTED the S lock
 * is released as soon as the row is read, under REPEATABLE READ it is kept.
 * SERIALIZABLE adds key ranges so that no phantom can appear: RangeS-S on
 * every key read and on the next key past the range; inserts test RangeI-N on
 * the next key (and hold RangeI-X on their own), deletes keep RangeX-X on the
 * key and RangeX-N on the next one (a SERIALIZABLE heap read takes S on the
 * table instead). Lock waits respect
 * the transaction's LOCK_TIMEOUT (1222) and deadlock detection (1205).
 *
 * Large values: when a row does not fit a B+tree record, its largest variable
 * columns move to overflow pages (access/overflow.h) and the row keeps a
 * pointer. Overflow chains of deleted/replaced values are freed at commit; a
 * rolled-back insert frees its chains during undo.
 */
#ifndef HDB_ENGINE_TABLE_H
#define HDB_ENGINE_TABLE_H

#include "engine/catalog.h"

enum { ISO_READ_UNCOMMITTED = 1, ISO_READ_COMMITTED = 2, ISO_REPEATABLE_READ = 3,
       ISO_SERIALIZABLE = 4, ISO_SNAPSHOT = 5,
       ISO_FOR_UPDATE = 6   /* read to change: X lock held to the end (UPDLOCK, XLOCK) */ };

/* A row read from a table: values point into `buf` (owned). */
typedef struct table_row {
    sql_value *vals;
    int        ncols;
    uint8_t   *buf;
    size_t     len;
    uint8_t  **lobs;        /* materialized overflow values */
    int        nlobs;
} table_row;
void table_row_free(table_row *r);

int table_insert(txn *t, database *db, table_def *td, const sql_value *vals, hdb_err *err);
/* 1 found (row filled), 0 not found. key: values of the clustered key columns. */
int table_get(txn *t, database *db, table_def *td, const sql_value *key, int iso, table_row *row, hdb_err *err);
/* Replace the row with clustered key `key` by `vals` (all columns). 0, 1 = not found. */
int table_update(txn *t, database *db, table_def *td, const sql_value *key, const sql_value *vals, hdb_err *err);
int table_delete(txn *t, database *db, table_def *td, const sql_value *key, hdb_err *err);

/* Scan the clustered index in key order (all rows). */
typedef struct table_scan table_scan;
table_scan *table_scan_open(txn *t, database *db, table_def *td, int iso, hdb_err *err);
/* Scan the keys between lo and hi (either NULL: unbounded). A bound gives the
 * values of the first n clustered key columns; keys whose first n columns
 * equal them are included iff `inclusive`. Bounds are in the index's order
 * (for a DESC column, lo holds the larger value). Not for heaps. Under
 * SERIALIZABLE the scan locks the range it covers, up to and including the
 * first key past hi (see "Key-range locking" in engine/README.md). */
typedef struct table_bound {
    const sql_value *vals;
    int              n;
    int              inclusive;
} table_bound;
table_scan *table_scan_open_range(txn *t, database *db, table_def *td, int iso, const table_bound *lo,
                                  const table_bound *hi, hdb_err *err);
/* 1 = row (valid until next call), 0 = end, -1 = error. */
int table_scan_next(table_scan *s, table_row *row, hdb_err *err);
/* Where the scan read the row last returned: its clustered index leaf page
 * and slot (%%physloc%%). 0, or -1 if there is none. */
int table_scan_where(const table_scan *s, pgid_t *page, int *slot);
void table_scan_close(table_scan *s);

/* Fill secondary index idx[i] from the table's rows (CREATE INDEX). */
int table_build_index(txn *t, database *db, table_def *td, int i, hdb_err *err);
/* DROP TABLE: free the table's pages once the transaction commits. */
int table_drop_storage_at_commit(txn *t, database *db, table_def *td, hdb_err *err);

/* ---- DBCC (engine/dbcc_check.c) -------------------------------------------
 * A row as stored in the clustered index (bytes), decoded with its off-row
 * values read: 0, or -1 (5180 undecodable, 7105 broken overflow chain). */
int table_decode_stored(database *db, const table_def *td, const uint8_t *row, size_t len, table_row *out,
                        hdb_err *err);
/* The key secondary index idx[i] holds for a row of values `vals` whose
 * clustered key is ck (its value is ck). out: TABLE_KEY_CAP bytes. */
#define TABLE_KEY_CAP (BT_MAX_KEY * 2 + 64)
int table_index_key(const table_def *td, int i, const sql_value *vals, const uint8_t *ck, size_t cklen,
                    uint8_t *out, size_t *len, hdb_err *err);

/* Undo handler for txn_mgr: dispatches LR_ROW records to their B+tree. */
int table_undo(void *ctx, txn *t, txn_part *p, const log_rec *rec, hdb_err *err);

#endif
