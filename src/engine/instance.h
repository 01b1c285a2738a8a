/*
 * instance.h — the set of databases one server runs, and what they share:
 * the buffer pool, the lock manager, the transaction manager, the error log,
 * the background checkpoint.
 *
 * Data directory (SPEC §2):
 *   DATADIR/data/      master.mdf + mastlog.ldf, msdbdata.mdf + msdblog.ldf,
 *                      and <db>.mdf + <db>_log.ldf for databases created
 *                      without file clauses
 *   DATADIR/log/errorlog
 *   DATADIR/backup/    relative backup paths
 * master's catalog holds the registry of databases (table sysdatabases:
 * id, name, primary data file, log file); a database created by a transaction
 * that never committed is not in it.
 *
 * Start-up (inst_open) recovers every database as one unit: analysis and redo
 * of master, then of every registered database, then resolution of
 * cross-database transactions left prepared (the coordinator database's log
 * decides: its COMMIT means commit, anything else means abort — presumed
 * abort), then undo everywhere, then a checkpoint of each.
 */
#ifndef HDB_ENGINE_INSTANCE_H
#define HDB_ENGINE_INSTANCE_H

#include <limits.h>
#include <pthread.h>
#include <stdint.h>

#include "engine/database.h"

#define INST_MAX_DBS 256
#define DBID_MASTER 1
#define DBID_MSDB   4

typedef struct inst_options {
    const char *datadir;
    size_t      buffer_pool_mb;        /* default 128 */
    int         checkpoint_interval_s; /* default 60; 0 = no background checkpoints */
    uint64_t    vlf_size;              /* default 4 MiB */
    unsigned    initial_vlfs;          /* default 4 */
    int         quiet;                 /* errorlog only, nothing on stderr */
} inst_options;

typedef struct instance {
    char            datadir[PATH_MAX - 512];  /* room for the file names under it */
    inst_options    opt;
    bufpool        *bp;
    lock_mgr       *locks;
    txn_mgr        *txns;
    pthread_mutex_t mu;                /* dbs[] */
    pthread_mutex_t ddl_mu;            /* CREATE/DROP DATABASE vs each other and checkpoints */
    database       *dbs[INST_MAX_DBS];
    pthread_mutex_t log_mu;
    int             errlog_fd;
    pthread_t       ckpt_thread;
    int             ckpt_running;
    pthread_mutex_t ckpt_mu;
    pthread_cond_t  ckpt_cv;
    int             stopping;
} instance;

instance *inst_open(const inst_options *opt, hdb_err *err);
/* clean = 1: checkpoint every database (SHUTDOWN). 0: as after a crash
 * (SHUTDOWN WITH NOWAIT): nothing more is written. */
void inst_close(instance *in, int clean);

database *inst_find_database(instance *in, const char *name);
database *inst_database(instance *in, uint32_t db_id);
/* CREATE DATABASE name (files under DATADIR/data). 1801 if it exists. */
database *inst_create_database(instance *in, const char *name, hdb_err *err);
int inst_drop_database(instance *in, const char *name, hdb_err *err);
int inst_checkpoint(instance *in, database *db, hdb_err *err);

/* ---- RESTORE (backup/restore.c) -------------------------------------------
 * A restore builds a database's files aside, takes the database it replaces
 * out of the instance (inst_detach, then db_close), moves the files into
 * place and hands them back with inst_attach. */
/* A database id no database uses (0 if none is left). */
uint32_t inst_free_db_id(instance *in);
/* Take db out of the instance without unregistering or closing it. */
void inst_detach(instance *in, database *db);
/* Register database `id` under `name` with these files (replacing its
 * registry row, if any, in one master transaction) and open it: RESTORING if
 * its log's restore state says so, else recovered as at start-up. */
database *inst_attach(instance *in, uint32_t id, const char *name, const char *data_path,
                      const char *log_path, hdb_err *err);

/* Error log line (timestamped) to DATADIR/log/errorlog and stderr. */
void inst_log(instance *in, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
