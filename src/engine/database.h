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
 * next object id, recovery model, page verify option. Changed only through
 * logged page ops, like any page.
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
    uint8_t  reserved[6];
} boot_info;

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

typedef struct db_file_spec {
    char     logical_name[DF_NAME_MAX + 1];
    char     path[PATH_MAX];
    uint32_t size_pages;
    uint32_t growth_pages;
    uint32_t max_pages;
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
    _Atomic int      users;      /* sessions using it */
} database;

static inline database *db_of(txn_db *t) { return (database *)t; }

database *db_create(struct instance *inst, bufpool *bp, const db_create_spec *spec, hdb_err *err);
/* Open files and log; state RECOVERING. Recovery (engine/recovery.h) follows. */
database *db_open(struct instance *inst, bufpool *bp, uint32_t db_id, const char *name,
                  const char *data_path, const char *log_path, hdb_err *err);
/* Read the boot page and open the catalog trees (after redo). */
int db_load_boot(database *db, hdb_err *err);
/* clean = 1: checkpoint then close. clean = 0: drop buffers unwritten, abandon
 * the log buffer (what a crash leaves behind). */
void db_close(database *db, int clean);

/* Allocate a new object id (logged boot page change). */
uint32_t db_next_object_id(database *db, hdb_err *err);
/* Write boot fields (logged). */
int db_write_boot(database *db, hdb_err *err);

/* ALTER DATABASE ... ADD FILEGROUP name: 1828-style error if it exists. */
int db_add_filegroup(database *db, const char *name, uint16_t *fg_id, hdb_err *err);
/* Filegroup id by name (case-insensitive), 0 if none. */
uint16_t db_filegroup_id(database *db, const char *name);
/* ALTER DATABASE ... ADD FILE (...) TO FILEGROUP fg: creates and formats the
 * file, logs FILE_OP (so restore and redo recreate it) and lists it on the
 * boot page. */
int db_add_file(database *db, const char *fg_name, const db_file_spec *spec, uint16_t *file_id, hdb_err *err);
/* Redo of a FILE_OP record: open (or create) a file the database lacks. */
int db_redo_file_op(database *db, const log_rec *rec, hdb_err *err);

/* ---- checkpoint (engine/checkpoint.c) ------------------------------------ */
/* Fuzzy checkpoint: take the redo point, write BEGIN_CKPT, flush every dirty
 * page (WAL rule holds), write END_CKPT with the active transaction and dirty
 * page tables, make it durable, record it in the log's master block, then
 * truncate the log up to what recovery still needs. */
int db_checkpoint(database *db, hdb_err *err);
/* Oldest LSN recovery or a rollback still needs (log truncation bound). */
lsn_t db_min_needed_lsn(database *db);

#endif
