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
 * master's catalog holds the registry of databases (table sysdbreg: id,
 * name, primary data file, log file; table sysmasterfiles: where each other
 * data file is, as sys.master_files shows it); a database created by a
 * transaction that never committed is not in it. The registry, not the
 * database's boot page, says where its files are: RESTORE ... MOVE changes
 * the registry, and redo may bring an older boot page back.
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
 * its log's restore state says so, else recovered as at start-up. The paths
 * of its other data files stay as registered. */
database *inst_attach(instance *in, uint32_t id, const char *name, const char *data_path,
                      const char *log_path, hdb_err *err);
/* The same, and its secondary data files (id >= 2) are registered at these
 * paths, in the same master transaction (a full restore: nfiles >= 0
 * replaces every path registered for `id`; nfiles < 0 keeps them). */
typedef struct inst_file_path {
    uint16_t    file_id;
    const char *path;
    uint8_t     state;     /* enum df_state: DF_ONLINE unless set offline/defunct */
} inst_file_path;
database *inst_attach_files(instance *in, uint32_t id, const char *name, const char *data_path,
                            const char *log_path, const inst_file_path *files, int nfiles, hdb_err *err);

/* Register database `id` under `name` with these files in one master
 * transaction (its row, and its secondary files' rows when nfiles >= 0), as
 * inst_attach_files does, without opening it; the caller holds ddl_mu
 * (engine/attach.c: CREATE DATABASE with files, FOR ATTACH). */
int inst_register(instance *in, uint32_t id, const char *name, const char *data_path, const char *log_path,
                  const inst_file_path *files, int nfiles, hdb_err *err);

/* Register (or change) where data file `file_id` of database `db_id` is. */
int inst_set_file_path(instance *in, uint32_t db_id, uint16_t file_id, const char *path, hdb_err *err);
/* The same with the file's state (enum df_state): MODIFY FILE ... OFFLINE,
 * REMOVE FILE of an offline file (DEFUNCT). inst_set_file_path sets ONLINE. */
int inst_set_file_state(instance *in, uint32_t db_id, uint16_t file_id, const char *path, int state, hdb_err *err);
/* Where master says that file is: 1 and `out` filled, 0 if it has no row. */
int inst_registered_path(instance *in, uint32_t db_id, uint16_t file_id, char *out, size_t cap);

/* ALTER DATABASE ... ADD FILE: db_add_file, then the file's path in master. */
int inst_add_file(instance *in, database *db, const char *fg_name, const db_file_spec *spec, uint16_t *file_id,
                  hdb_err *err);

/* ---- database states (engine/dbstate.c; the caller holds ddl_mu) ---------
 * Open database `id` again as master's registry says (name, files): db_open
 * only, the caller recovers it. */
database *inst_reopen(instance *in, uint32_t id, hdb_err *err);
/* The registry's paths of database `id`: 1 found, 0 not. */
int inst_registry_paths(instance *in, uint32_t id, char *data, char *log);
/* Take `id` out of the registry, its file rows too (DROP DATABASE of a
 * database whose files are not open). */
int inst_unregister(instance *in, uint32_t id, hdb_err *err);

/* Error log line (timestamped) to DATADIR/log/errorlog and stderr. */
void inst_log(instance *in, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
