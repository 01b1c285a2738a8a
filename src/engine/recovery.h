/*
 * recovery.h — ARIES restart recovery, for one database or a set of them.
 *
 *   rc = recovery_begin(txns)
 *   recovery_add(rc, db)        analysis + redo of db (its catalog is opened)
 *   ... every database of the set ...
 *   recovery_finish(rc, lookup) resolve prepared cross-database transactions,
 *                               undo the losers, end
 *
 * Analysis reads forward from the checkpoint in the log's master block and
 * rebuilds the active transaction table (state, first/last LSN, next LSN to
 * undo) and the dirty page table. Redo repeats history from the smallest
 * recLSN: a page op is applied when its page is in the dirty page table and
 * the page's pageLSN is older than the record (so redo is idempotent and a
 * crash during recovery is harmless). Full-page images are applied without
 * reading the page, which repairs torn writes. Undo rolls the losers back
 * with the transaction layer's rollback (CLRs), exactly as a live rollback;
 * a loser whose undo meets an unreadable page is deferred (deferred.h).
 *
 * A transaction left PREPARED in a database is committed if any database of
 * the set holds its COMMIT (txn.c appends every COMMIT only after every
 * PREPARE is durable), else rolled back when its coordinator database is in
 * the set (presumed abort). If the coordinator database is not available,
 * commit is presumed (message 3429, as SQL Server does) — except in a restore that stopped at a
 * point in time or a mark (recovery_stopped_early): there the log past the
 * stop point is not part of the database's history, so a transaction not
 * committed by then is rolled back.
 */
#ifndef HDB_ENGINE_RECOVERY_H
#define HDB_ENGINE_RECOVERY_H

#include "engine/database.h"

typedef struct recovery recovery;

typedef struct recovery_stats {
    uint64_t records_analyzed, records_redone, pages_redone, bytes_redone;
    uint64_t txns_rolled_back, txns_committed_in_doubt, txns_deferred;
    double   analysis_s, redo_s, undo_s;
} recovery_stats;

typedef database *(*recovery_lookup_fn)(void *ctx, uint32_t db_id);

recovery *recovery_begin(txn_mgr *txns);
int recovery_add(recovery *rc, database *db, hdb_err *err);
/* The same for a database being restored (backup/restore.c): its data pages
 * already hold every change before redo_floor, so redo starts there at the
 * earliest. Without recovery_finish (NORECOVERY) nothing is undone. */
int recovery_add_restored(recovery *rc, database *db, lsn_t redo_floor, hdb_err *err);
/* The restored log ends at a STOPAT / STOPATMARK / STOPBEFOREMARK point:
 * prepared transactions without a COMMIT before it are rolled back. */
void recovery_stopped_early(recovery *rc);
/* Attach (engine/attach.c): no transaction may be deferred (seed 004: "attach
 * fails"). A loser whose rollback cannot complete then makes recovery_finish
 * return -1 with that rollback's error (823, 824, ...). */
void recovery_forbid_deferral(recovery *rc);
int recovery_finish(recovery *rc, recovery_lookup_fn lookup, void *ctx, hdb_err *err);
void recovery_get_stats(recovery *rc, recovery_stats *st);
void recovery_free(recovery *rc);

#endif
