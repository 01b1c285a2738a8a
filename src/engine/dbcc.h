/*
 * dbcc.h — DBCC CHECKDB / CHECKTABLE / CHECKALLOC: find every inconsistency
 * of a database's pages and say it in SQL Server's messages; with a repair
 * option, fix what can be fixed (REPAIR_REBUILD: nothing is lost;
 * REPAIR_ALLOW_DATA_LOSS: bad pages are deallocated and what pointed to them
 * rebuilt) and say what was lost.
 *
 * What is checked (engine/README.md, "DBCC", has the message per finding):
 *   - every page of every B+tree (the four catalog trees, then each table's
 *     clustered and secondary indexes) and of every overflow chain a row
 *     points to: readable (checksum, page id: 8928 + 8939 / 8909), of the
 *     right tree, type and level, slot array sane; keys in order (2511) and
 *     inside the parent's separators (8933 / 8934); prev/next links as the
 *     parents order the pages (8978, 8935, 8981); every page referenced is
 *     seen (8976);
 *   - rows decode (8944), off-row chains are whole (8929, 8965);
 *   - each secondary index holds exactly one entry per row (8951 / 8952);
 *   - allocation against use: a page in use must be allocated in its bitmap
 *     (8939, "page is allocated"); an allocated page must be used: one that
 *     names an object but was not reached is 2533 (overflow page: 8964), one
 *     that names none is 8906; allocation pages themselves (8946 / 8998).
 * A run holds S on the catalog and on each table it checks (to the end), so
 * DDL and writers wait and the picture is still (SQL Server's TABLOCK way);
 * an EMERGENCY (read-only) database is read as it is.
 *
 * Repair runs rounds of check-then-fix until a check is clean or a round
 * fixes nothing (at most four): a tree with a damaged page or link is rebuilt
 * in place from the records of the pages that were seen (bt_rebuild), rows
 * whose off-row value is broken are dropped, a secondary index that does not
 * match its table is rebuilt from the table, allocation bits are set or
 * cleared. Every change is logged; a round's rebuilds are one transaction.
 * In EMERGENCY the database is made writable for the repair, the log is then
 * cut loose from transactions recovery could not roll back (a checkpoint
 * that no longer lists them: SQL Server's "log rebuilt", transactional
 * consistency is lost) and the database restarts ONLINE.
 */
#ifndef HDB_ENGINE_DBCC_H
#define HDB_ENGINE_DBCC_H

#include "engine/instance.h"

enum { DBCC_CHECKDB = 1, DBCC_CHECKTABLE = 2, DBCC_CHECKALLOC = 3 };
enum { DBCC_REPAIR_NONE = 0, DBCC_REPAIR_REBUILD = 1, DBCC_REPAIR_ALLOW_DATA_LOSS = 2 };

/* One message, with what DBCC ... WITH TABLERESULTS shows of it. */
typedef struct dbcc_msg {
    int      number, severity, state;
    char     text[HDB_ERR_MSG_MAX];
    int      repair_level;       /* minimum repair for this error (DBCC_REPAIR_*), 0 for information */
    int      allocation;         /* an allocation error (else consistency) */
    uint32_t object_id;
    int      index_id;
    uint64_t partition_id;
    pgid_t   page, ref_page;
    int      slot, ref_slot;
} dbcc_msg;

typedef struct dbcc_opts {
    int         what;            /* DBCC_CHECKDB / CHECKTABLE / CHECKALLOC */
    uint32_t    object_id;       /* CHECKTABLE */
    int         noindex;         /* NOINDEX: secondary indexes are not checked */
    int         repair;          /* DBCC_REPAIR_* */
    int         infomsgs;        /* per-object lines ("DBCC results for", "There are n rows") */
    int         all_errormsgs;   /* else at most 200 error messages per object */
    int         lock_timeout_ms; /* waiting for the S locks; -1 forever */
    struct txn *txn;             /* the caller's open transaction: the locks go there (and stay
                                    until it ends), so a check inside it never waits for itself;
                                    NULL: a transaction of the run's own (not with repair) */
    /* every message in order (the caller sends it); ctx is passed back */
    void      (*emit)(void *ctx, const dbcc_msg *m);
    void       *ctx;
} dbcc_opts;

typedef struct dbcc_result {
    int      alloc_errors, consistency_errors;   /* found (by the first check) */
    int      alloc_fixed, consistency_fixed;     /* repaired */
    int      repair_level;                       /* minimum repair for what was found */
    uint64_t rows_lost;                          /* repair: rows of all tables lost */
} dbcc_result;

/* Check (and repair) db. 0 when the check ran (whatever it found), -1 when
 * it could not (err: 7929 deferred transactions, 1222 lock timeout, ...). */
int dbcc_run(database *db, const dbcc_opts *o, dbcc_result *r, hdb_err *err);

/* The partition / allocation unit id DBCC messages name for (object, index):
 * one of each per index here, numbered as SQL Server's look. */
uint64_t dbcc_partition_id(uint32_t object_id, int index_id);

#endif
