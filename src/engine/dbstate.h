/*
 * dbstate.h — a database's state and user access as ALTER DATABASE and
 * start-up change them (SQL Server's database states, seed 004).
 *
 *   ONLINE ──SET OFFLINE──> OFFLINE ──SET ONLINE──> (restart) ──> ONLINE
 *     │                                                 │  └──> SUSPECT          recovery failed, damaged files
 *     │                                                 └─────> RECOVERY_PENDING files missing / inaccessible
 *     └──SET EMERGENCY──> EMERGENCY ──SET ONLINE──> (restart)
 *   SUSPECT / RECOVERY_PENDING ──SET EMERGENCY──> EMERGENCY (no recovery, read-only)
 *
 * OFFLINE closes the files (after a checkpoint when it can): the database is
 * then a *shell* — registered, listed in sys.databases, with no data file
 * open — so its files can be copied, replaced or damaged on disk. SET ONLINE
 * is SQL Server's "autorestart": the files are opened again where master's
 * registry says and the database is recovered on its own, exactly as at
 * start-up (so a transaction left deferred is met again, and rolled back if
 * its page now reads). A database whose files cannot be opened becomes a
 * RECOVERY_PENDING shell (its log is still opened when it can be, for a
 * tail-log backup); one whose recovery fails stays open as SUSPECT.
 * EMERGENCY makes a database readable without recovery: read-only (3906 on
 * any change, nothing is logged), for sysadmin only.
 *
 * Persistence: SET OFFLINE writes `boot.set_offline` before the clean close,
 * so a restart finds the database OFFLINE again; SET ONLINE clears it. User
 * access (SINGLE_USER / RESTRICTED_USER / MULTI_USER) is `boot.user_access`,
 * so it travels with the database (and its backups). EMERGENCY, SUSPECT and
 * RECOVERY_PENDING are not persisted: a restart tries recovery again.
 *
 * Every transition swaps the instance's `database` object for id under
 * ddl_mu (the old one is freed), so the caller (sql/exec_dbstate.c) must
 * first make sure no session uses the database nor has a transaction in it.
 */
#ifndef HDB_ENGINE_DBSTATE_H
#define HDB_ENGINE_DBSTATE_H

#include "engine/instance.h"

enum { DB_MULTI_USER = 0, DB_SINGLE_USER = 1, DB_RESTRICTED_USER = 2 };
const char *db_user_access_desc(int access);

/* A registered database whose files are not open (OFFLINE, RECOVERY_PENDING). */
int dbst_is_shell(const database *db);

/* ALTER DATABASE ... SET OFFLINE. A shell just changes state. */
int dbst_set_offline(instance *in, database *db, hdb_err *err);
/* ALTER DATABASE ... SET ONLINE (autorestart): close db if open, open its
 * files again, recover it. *out is the database now registered under its id
 * (ONLINE, SUSPECT, or a RECOVERY_PENDING shell). 0 = ONLINE; -1 with err =
 * why it is not. */
int dbst_restart(instance *in, database *db, database **out, hdb_err *err);
/* ALTER DATABASE ... SET EMERGENCY: read-only, no recovery. A shell's files
 * are opened (and its catalog read) first; failing that, nothing changes. */
int dbst_set_emergency(instance *in, database *db, database **out, hdb_err *err);
/* SET SINGLE_USER | RESTRICTED_USER | MULTI_USER (logged on the boot page
 * when the database can be written; else kept in memory). */
int dbst_set_user_access(database *db, int access, hdb_err *err);
static inline int dbst_user_access(const database *db) { return db->boot.user_access; }

/* ---- start-up (inst_open) ------------------------------------------------- */
/* The registered files of database `id` are missing or cannot be opened:
 * register a RECOVERY_PENDING shell (SUSPECT when `error` says they are
 * damaged: 823 / 824) instead of failing the server. */
void dbst_pending_at_start(instance *in, uint32_t id, const char *name, const char *data, const char *log,
                           int error, const char *why);
/* db was just opened: if it was set OFFLINE, close it again and register an
 * OFFLINE shell. 1 = it was (db is gone), 0 = go on with recovery. */
int dbst_offline_at_start(instance *in, database *db);

/* DROP DATABASE of a shell: unregistered; its files are left on disk, as SQL
 * Server leaves the files of an offline database. */
int dbst_drop_shell(instance *in, database *db, hdb_err *err);

#endif
