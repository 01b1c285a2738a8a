/*
 * deferred.h — deferred transactions (seed 004).
 *
 * When recovery (start-up, restore, a database coming back online) must roll
 * a transaction back and a page it needs cannot be read (823, 824) or lies in
 * an offline file, the transaction is *deferred* instead of failing the
 * database: it keeps the locks on everything its remaining log records
 * changed (re-acquired from those records: the rows' keys, IX on their
 * tables, and X on the database's catalog if it changed the catalog, so a
 * deferred CREATE TABLE blocks every CREATE TABLE), stays in the database's
 * active transaction table (so checkpoints record it and the log from its
 * first record cannot be truncated: log_reuse_wait_desc ACTIVE_TRANSACTION),
 * and the database comes ONLINE. The error log says which transaction and
 * which page (3401).
 *
 * It is resolved by rolling it back once its pages can be read: the next
 * start-up or a database restart when the error was transient
 * (deferred_drop forgets it, recovery meets it again in the log), or
 * deferred_retry after a page or file is restored while the database stays
 * online.
 *
 * Deferral needs what SQL Server needs: FULL or BULK_LOGGED recovery and a
 * backup chain (a full backup); otherwise recovery fails (3418, SUSPECT).
 */
#ifndef HDB_ENGINE_DEFERRED_H
#define HDB_ENGINE_DEFERRED_H

#include "engine/database.h"

/* The session a deferred transaction's locks belong to, as SQL Server shows. */
#define DEFERRED_SESSION_ID (-3)

/* May db defer a transaction? 0 yes; -1 with 3418 if not. */
int deferred_allowed(database *db, hdb_err *err);
/* t came back TXN_DEFERRED from txn_rollback_or_defer (why: the page error):
 * re-acquire its locks, log 3401 and keep it in the instance's list. */
int deferred_add(database *db, txn *t, const hdb_err *why, hdb_err *err);
/* Roll back again the deferred transactions of db; returns how many remain
 * deferred (0: all resolved), -1 on another error. */
int deferred_retry(database *db, hdb_err *err);
/* db closes (offline, shutdown, drop): its deferred transactions are
 * forgotten here — locks released — and found again in its log by the next
 * recovery. */
void deferred_drop(database *db);
/* How many deferred transactions have a part in db. */
int deferred_count(database *db);

#endif
