/*
 * catalog.h — tables, columns and indexes, stored in system B+trees inside
 * each database (so backups carry the schema) and cached in memory.
 *
 * System trees (roots in the boot page), keys are big-endian so memcmp sorts:
 *   SYSOBJ_OBJECTS  key u32 object id            -> u32 schema id, str name,
 *                                                   u8 type ('U'), u64 created
 *   SYSOBJ_COLUMNS  key u32 object id, u16 col   -> str name, type, nullable,
 *                                                   identity
 *   SYSOBJ_INDEXES  key u32 object id, u16 index -> str name, flags, filegroup,
 *                                                   root page, key columns
 *   SYSOBJ_SCHEMAS  key u32 schema id            -> str name
 * Catalog rows change inside user transactions, so CREATE TABLE rolls back
 * like any insert. Names are unique per schema (2714), case-insensitive.
 *
 * Index 1 is the clustered index: on the primary key, or on a hidden 8-byte
 * row id when the table has none (a heap). Secondary indexes (id >= 2) map
 * their key (+ the clustering key when not unique) to the clustering key.
 */
#ifndef HDB_ENGINE_CATALOG_H
#define HDB_ENGINE_CATALOG_H

#include <stdint.h>

#include "access/btree.h"
#include "access/value.h"
#include "engine/database.h"

#define CAT_NAME_MAX    128
#define TBL_MAX_KEYCOLS 16
#define SCHEMA_DBO 1
#define SCHEMA_SYS 4

typedef struct tbl_column {
    char     name[CAT_NAME_MAX + 1];
    sql_type type;
    uint8_t  nullable;
    uint8_t  identity;
} tbl_column;

typedef struct tbl_index {
    uint16_t index_id;           /* 1 = clustered */
    char     name[CAT_NAME_MAX + 1];
    uint8_t  unique;
    uint8_t  primary_key;
    uint8_t  hidden_key;         /* heap: key is the row id */
    uint16_t fg_id;
    int      nkeys;
    int16_t  keycols[TBL_MAX_KEYCOLS];
    uint8_t  desc[TBL_MAX_KEYCOLS];
    pgid_t   root;
    btree    bt;
} tbl_index;

typedef struct table_def {
    uint32_t          object_id;
    uint32_t          schema_id;
    char              name[CAT_NAME_MAX + 1];
    int               ncols;
    tbl_column       *cols;
    sql_type         *types;     /* cols[i].type, for row_encode/decode */
    int               nidx;
    tbl_index        *idx;       /* idx[0] is the clustered index */
    _Atomic int64_t   next_rowid;
    int               dropped;
    struct table_def *next;
} table_def;

/* What CREATE TABLE asks for. pk_cols empty (npk = 0) -> a heap. */
typedef struct table_spec {
    uint32_t          schema_id;
    const char       *name;
    int               ncols;
    const tbl_column *cols;
    int               npk;
    const int        *pk_cols;
    const uint8_t    *pk_desc;   /* may be NULL */
    const char       *pk_name;   /* may be NULL: PK__<table> */
    uint16_t          fg_id;     /* 0 = PRIMARY */
} table_spec;

/* Create the four system trees of a new database (boot roots set by caller). */
int cat_bootstrap(database *db, hdb_err *err);
/* Open the system trees from the boot page roots. */
void cat_open_system(database *db);

int cat_create_table(txn *t, database *db, const table_spec *spec, uint32_t *object_id, hdb_err *err);
/* CREATE [UNIQUE] INDEX: builds it from the table's rows. */
int cat_create_index(txn *t, database *db, table_def *td, const char *name, int unique,
                     int nkeys, const int *keycols, const uint8_t *desc, hdb_err *err);
/* The same in filegroup fg_id (CREATE INDEX ... ON fg; 0 = PRIMARY);
 * cat_create_index puts it where the table is. */
int cat_create_index_on(txn *t, database *db, table_def *td, const char *name, int unique, int nkeys,
                        const int *keycols, const uint8_t *desc, uint16_t fg_id, hdb_err *err);
int cat_drop_table(txn *t, database *db, table_def *td, hdb_err *err);

/* Look up (cached). NULL and 208 if missing. */
table_def *cat_find_table(database *db, uint32_t schema_id, const char *name, hdb_err *err);
table_def *cat_get_table(database *db, uint32_t object_id, hdb_err *err);
/* Forget cached definitions (after catalog rows were undone). */
void cat_invalidate(database *db);
/* Free every cached definition (database close). */
void cat_free_cache(database *db);

/* Root page recorded in a SYSOBJ_INDEXES row value (0 if malformed). */
pgid_t cat_index_row_root(const uint8_t *val, size_t len);

/* The B+tree of (object, index): system trees or a table's index. */
btree *cat_tree(database *db, uint32_t object_id, uint16_t index_id, hdb_err *err);

/* Iterate user tables (sys.tables): fn returns nonzero to stop. */
int cat_foreach_table(database *db, int (*fn)(void *ctx, table_def *td), void *ctx, hdb_err *err);

#endif
