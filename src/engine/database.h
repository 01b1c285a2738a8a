/*
 * database.h — one database: its data files, its log, its boot page, its state.
 *
 * Files: a primary data file (file 1, filegroup PRIMARY) plus optional others,
 * and one log file. The boot page (1:2) holds the database's identity and the
 * roots of its catalog B+trees, so a database is self-contained: copying (or
 * backing up) its files carries its schema.
 *
 * Boot page body (at offset 96, little-endian, struct boot_info): magic "HDBB",
 * version, database id, name, GUID, creation time, the four catalog roots, the
 * next object id, recovery model, page verify option, the two backup
 * LSNs that decide log truncation (full_backup_lsn, log_chain_lsn; see
 * checkpoint.c), and the log's logical name and MAXSIZE. Changed only
 * through logged page ops, like any page.
 *
 * Lifecycle: db_create (format files, boot page, catalog trees — all logged,
 * then a checkpoint), db_open (open files and log; the caller then runs
 * recovery), db_close (clean: checkpoint; or abandon, as in a crash).
 */
#ifndef HDB_ENGINE_DATABASE_H
#define HDB_ENGINE_DATABASE_H

#include <limits.h>
#include <pthread.h>
#include <stdint.h>

#include "access/btree.h"
#include "log/logmgr.h"
#include "storage/bufpool.h"
#include "storage/datafile.h"
#include "txn/txn.h"

struct instance;
struct table_def;

enum db_state {
    DB_ONLINE = 0, DB_RESTORING = 1, DB_RECOVERING = 2, DB_RECOVERY_PENDING = 3,
    DB_SUSPECT = 4, DB_EMERGENCY = 5, DB_OFFLINE = 6,
};
const char *db_state_desc(int state);

enum { RECOVERY_FULL = 1, RECOVERY_BULK_LOGGED = 2, RECOVERY_SIMPLE = 3 };

/* Catalog trees: object ids of the system tables. */
enum { SYSOBJ_OBJECTS = 1, SYSOBJ_COLUMNS = 2, SYSOBJ_INDEXES = 3, SYSOBJ_SCHEMAS = 4, SYSOBJ_COUNT = 5 };
#define FIRST_USER_OBJECT_ID 1000

#define BOOT_MAGIC 0x42424448u  /* "HDBB" */
#define BOOT_VERSION 1

typedef struct boot_info {
    uint32_t magic;
    uint32_t version;
    uint32_t db_id;
    uint32_t next_object_id;
    char     name[132];
    uint8_t  guid[16];
    uint64_t create_time_us;
    uint64_t sys_root[SYSOBJ_COUNT];   /* index 1..4 used */
    uint8_t  recovery_model;
    uint8_t  page_verify;              /* 1 = CHECKSUM, 0 = NONE */
    uint8_t  user_access;              /* DB_MULTI_USER / DB_SINGLE_USER / DB_RESTRICTED_USER
                                          (engine/dbstate.h) */
    uint8_t  set_offline;              /* ALTER DATABASE ... SET OFFLINE: the database
                                          stays OFFLINE across restarts (dbstate.c) */
    uint8_t  reserved[4];
    /* Backup history that decides log truncation (checkpoint.c). Pages
     * written before these fields existed hold zeros here: "never backed up". */
    lsn_t    full_backup_lsn;          /* first LSN of the last full, non-copy-only
                                          backup (DatabaseBackupLSN); 0 = none */
    lsn_t    log_chain_lsn;            /* FULL/BULK_LOGGED: the log is kept from
                                          here on for the next log backup; 0 = no
                                          log chain (the log is truncated as in SIMPLE) */
    char     log_logical[DF_NAME_MAX + 1]; /* the log's logical name (CREATE DATABASE ...
                                          LOG ON (NAME = x)); "" = "<database>_log" */
    uint32_t log_max_pages;            /* the log's MAXSIZE in pages; 0 = unlimited */
} boot_info;
_Static_assert(sizeof(boot_info) <= 512, "boot_info overlaps the file list");

/* The database's files and filegroups, kept on the boot page after
 * boot_info (at BOOT_FILES_OFFSET) so that opening a database knows every
 * file before redo starts. File 1 (primary) is listed too. */
#define BOOT_MAX_FILES 12
#define BOOT_MAX_FGS   16
#define BOOT_PATH_MAX  256
#define BOOT_FILES_OFFSET (PAGE_HEADER_SIZE + 512)

typedef struct boot_file {
    uint16_t file_id;              /* 0 = unused entry */
    uint16_t fg_id;
    uint32_t growth_pages;
    uint32_t max_pages;
    uint8_t  state;                /* enum df_state */
    uint8_t  reserved[3];
    char     logical[DF_NAME_MAX + 1];
    char     path[BOOT_PATH_MAX + 1];
} boot_file;

typedef struct boot_fg {
    uint16_t fg_id;                /* 0 = unused entry; 1 = PRIMARY */
    char     name[DF_NAME_MAX + 1];
} boot_fg;

typedef struct boot_files {
    boot_file files[BOOT_MAX_FILES];
    boot_fg   fgs[BOOT_MAX_FGS];
} boot_files;

_Static_assert(BOOT_FILES_OFFSET + sizeof(boot_files) <= PAGE_SIZE, "boot page overflow");

/* Restore state in the log's master block (log_set_restore_state). */
enum { DB_RESTORE_NONE = 0, DB_RESTORE_RESTORING = 1, DB_RESTORE_STANDBY = 2 };
/* Flag (log_restore_flags): the restored log was cut at a STOPAT / mark, so
 * the recovery that follows rolls back what was not committed by then. */
enum { DB_RESTORE_STOPPED_EARLY = 1 };


typedef struct db_file_spec {
    char     logical_name[DF_NAME_MAX + 1];
    char     path[PATH_MAX];
    uint32_t size_pages;
    uint32_t growth_pages;     /* 0 = the default (1024) */
    uint32_t max_pages;
    uint8_t  no_growth;        /* FILEGROWTH = 0: the file never grows */
} db_file_spec;

typedef struct db_create_spec {
    const char  *name;
    uint32_t     db_id;
    db_file_spec data;        /* primary data file */
    db_file_spec log;         /* size_pages unused; see log options */
    uint64_t     vlf_size;    /* 0 = default */
    unsigned     initial_vlfs;
    uint64_t     log_max_size;
} db_create_spec;

typedef struct database {
    txn_db           tdb;        /* first: the transaction layer's view */
    struct instance *inst;
    bufpool         *bp;
    dbfiles         *df;
    bt_env           env;
    _Atomic int      state;
    char             log_path[PATH_MAX];
    boot_info        boot;
    boot_files       files;      /* under boot_mu */
    btree            sys[SYSOBJ_COUNT];
    pthread_mutex_t  boot_mu;    /* boot page updates (next object id) */
    pthread_mutex_t  cat_mu;     /* the table cache */
    struct table_def *tables;
    pthread_mutex_t  ckpt_mu;    /* one checkpoint at a time */
    lsn_t            last_ckpt_lsn;
    _Atomic lsn_t    backup_pin;  /* db_pin_log: 0 = no backup/restore running */
    _Atomic int      users;      /* sessions using it */
} database;

static inline database *db_of(txn_db *t) { return (database *)t; }

database *db_create(struct instance *inst, bufpool *bp, const db_create_spec *spec, hdb_err *err);
/* Where a secondary data file is, as master's registry says (instance.c). */
typedef struct db_file_path {
    uint16_t    file_id;
    const char *path;
    uint8_t     state;     /* enum df_state as master says: OFFLINE / DEFUNCT win over the boot page */
} db_file_path;
/* Open files and log; state RECOVERING. Recovery (engine/recovery.h) follows.
 * The data files other than the primary are those the boot page on disk
 * lists, each at its `paths` entry if it has one, else at the boot page's
 * path (the page may be older than a RESTORE ... MOVE). */
database *db_open(struct instance *inst, bufpool *bp, uint32_t db_id, const char *name,
                  const char *data_path, const char *log_path, const db_file_path *paths, int npaths,
                  hdb_err *err);
/* A database known to the registry whose files are not open (dbstate.h):
 * OFFLINE, or RECOVERY_PENDING when they could not be opened. It has no data
 * file; `log` (may be NULL) is its log when that at least could be opened (a
 * tail-log backup reads it). State DB_RECOVERY_PENDING until the caller sets
 * another. */
database *db_shell(struct instance *inst, bufpool *bp, uint32_t db_id, const char *name, const char *data_path,
                   const char *log_path, logmgr *log);
/* Read the boot page and open the catalog trees (after redo). */
int db_load_boot(database *db, hdb_err *err);
/* clean = 1: checkpoint then close. clean = 0: drop buffers unwritten, abandon
 * the log buffer (what a crash leaves behind). */
void db_close(database *db, int clean);

/* A read-only database (a standby between restores, engine/readonly.c):
 * writes get 3906, nothing is logged, checkpoints do nothing. */
int db_set_read_only(database *db, int on, hdb_err *err);
/* Open a database whose log says STANDBY (no recovery: its pages hold the
 * undone state, durable): catalog loaded, read-only, ONLINE. */
int db_open_standby(database *db, hdb_err *err);

/* Allocate a new object id (logged boot page change). */
uint32_t db_next_object_id(database *db, hdb_err *err);
/* Write boot fields (logged). */
int db_write_boot(database *db, hdb_err *err);

/* ALTER DATABASE ... ADD FILEGROUP name: 1828-style error if it exists. */
int db_add_filegroup(database *db, const char *name, uint16_t *fg_id, hdb_err *err);
/* A new random database GUID (boot.guid: the identity caches key on). */
void db_make_guid(uint8_t g[16]);
/* The log's logical name (sys.master_files): the boot page's, or "<db>_log". */
const char *db_log_name(database *db, char *out, size_t cap);
/* Write the file list to the boot page (logged) with the paths the files are
 * open at, so that the files alone say where they are (attach, detach). */
int db_save_file_list(database *db, hdb_err *err);
/* The file whose logical name is `logical` (case-insensitive): its id, and
 * its boot page entry in *out (may be NULL); 0 if none. */
int db_file_by_name(database *db, const char *logical, boot_file *out);
/* A file's state (enum df_state) on the boot page (logged) and in the open
 * file set. MODIFY FILE ... OFFLINE, REMOVE FILE of an offline file. */
int db_set_file_state(database *db, uint16_t file_id, int state, hdb_err *err);
/* Are all files of filegroup fg_id (0 = PRIMARY) online? A table or index
 * in a filegroup that is not cannot be used (8653). */
int db_filegroup_online(database *db, uint16_t fg_id);
/* The file list of the boot page as it is on disk in the primary data file
 * at data_path, unverified (a database whose files are not open: which
 * logical name is which file). */
int db_peek_files(const char *data_path, boot_files *out, hdb_err *err);
/* Has filegroup fg_id a DEFUNCT file (REMOVE FILE of an offline file)? Its
 * data is gone for good: rollback skips changes to it. */
int db_filegroup_defunct(database *db, uint16_t fg_id);
/* Filegroup id by name (case-insensitive), 0 if none. */
uint16_t db_filegroup_id(database *db, const char *name);
/* ALTER DATABASE ... ADD FILE (...) TO FILEGROUP fg: creates and formats the
 * file, logs FILE_OP (so restore and redo recreate it) and lists it on the
 * boot page. */
int db_add_file(database *db, const char *fg_name, const db_file_spec *spec, uint16_t *file_id, hdb_err *err);
/* Redo of a FILE_OP record: open (or create) a file the database lacks, at
 * the path the record names (a restore puts such files where MOVE says
 * beforehand: backup/restore_files.c). */
int db_redo_file_op(database *db, const log_rec *rec, hdb_err *err);
/* The file a FILE_OP (LR_FILE) record adds. -1 if malformed. */
int db_parse_file_op(const log_rec *rec, df_file_desc *d);

/* ---- checkpoint (engine/checkpoint.c) ------------------------------------ */
/* Fuzzy checkpoint: take the redo point, write BEGIN_CKPT, flush every dirty
 * page (WAL rule holds), write END_CKPT with the active transaction and dirty
 * page tables, make it durable, record it in the log's master block, then
 * truncate the log up to what recovery still needs. */
int db_checkpoint(database *db, hdb_err *err);
/* Oldest LSN recovery or a rollback still needs. */
lsn_t db_min_needed_lsn(database *db);

/* ---- recovery models and log truncation (engine/checkpoint.c) ------------
 * What the log may be truncated to at a checkpoint: what recovery and open
 * transactions need (db_min_needed_lsn), and, in FULL / BULK_LOGGED once a
 * full backup started the log chain, nothing after the end of the last log
 * backup; a running backup pins its own start too. Before the first full
 * backup (and always in SIMPLE) the log is truncated as in SIMPLE. */
lsn_t db_truncation_bound(database *db);

/* sys.databases.log_reuse_wait: what keeps the oldest VLF from being reused,
 * computed now. The same word goes to the log for its 9002 message. */
enum {
    DB_REUSE_NOTHING = 0, DB_REUSE_CHECKPOINT = 1, DB_REUSE_LOG_BACKUP = 2,
    DB_REUSE_ACTIVE_BACKUP_OR_RESTORE = 3, DB_REUSE_ACTIVE_TRANSACTION = 4,
};
int db_log_reuse_wait(database *db);
const char *db_log_reuse_wait_desc(int reuse_wait);

/* BackupType codes, as SQL Server's (and media.h's MEDIA_TYPE_*). */
enum { DB_BACKUP_FULL = 1, DB_BACKUP_LOG = 2, DB_BACKUP_DIFF = 5 };

/* After a successful backup: a full, non-copy-only backup starts the log
 * chain (if none) and becomes the differential base; a non-copy-only log
 * backup lets truncation advance to `last_lsn` (its exclusive end) and then
 * checkpoints the database so that the saved log is reusable at once.
 * Persisted on the boot page; a failure to write it goes to the error log
 * (the backup itself stays valid). Must not be called with ckpt_mu held. */
void db_note_backup(database *db, int type, int copy_only, lsn_t first_lsn, lsn_t last_lsn);
/* After a restore brought the database online: its log chain continues from
 * the restored backups (`chain_lsn` = the LSN the database was recovered to;
 * 0 = no chain, as after a restore from a SIMPLE backup). */
int db_note_restored(database *db, lsn_t full_backup_lsn, lsn_t chain_lsn, hdb_err *err);
/* ALTER DATABASE ... SET RECOVERY: persisted. Leaving FULL / BULK_LOGGED for
 * SIMPLE breaks the log chain (a later log backup needs a new full backup). */
int db_set_recovery_model(database *db, int model, hdb_err *err);
/* Whether BACKUP LOG may run now: 4208 in SIMPLE, 4214 before the first
 * full backup (or after the chain was broken). 0 = yes. */
int db_check_log_backup(database *db, hdb_err *err);
/* A data backup or restore in progress keeps the log from `lsn` on (0 ends
 * the pin); log_reuse_wait shows ACTIVE_BACKUP_OR_RESTORE meanwhile. */
void db_pin_log(database *db, lsn_t lsn);

#endif
