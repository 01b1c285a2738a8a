/*
 * dbcc_int.h — what dbcc_check.c (a check and its messages) and
 * dbcc_repair.c (the repairs) share. Not a contract: nothing outside
 * engine/dbcc*.c includes it.
 */
#ifndef HDB_ENGINE_DBCC_INT_H
#define HDB_ENGINE_DBCC_INT_H

#include "access/btree_verify.h"
#include "engine/catalog.h"
#include "engine/dbcc.h"

typedef struct pgvec { pgid_t *v; size_t n, cap; } pgvec;
int  pgvec_push(pgvec *p, pgid_t id);

/* One data file: its allocation bits as its bitmaps say, the pages some
 * structure reached, and the bitmap intervals that could not be read. */
typedef struct fmap {
    uint16_t file_id;
    uint32_t pages;
    uint8_t *alloc, *seen;
    uint8_t *bad_interval;
} fmap;

/* What a check found in one B+tree. */
typedef struct tfind {
    int      obj;            /* its object (run.objs) */
    btree   *bt;
    int      index_id;       /* as messages name it: 0 for a heap's row-id index */
    int      pos;            /* td->idx position; -1 for a catalog tree */
    int      structural;     /* a page, link or key problem: rebuild it */
    int      lost;           /* a referenced page was not seen: rows are lost */
    int      mismatch;       /* secondary index entries differ from the table */
    int      bad_rows;       /* clustered: rows that cannot stay (undecodable, broken off-row value) */
    pgvec    pages;          /* every page it claimed */
    uint64_t records, npages, lost_rows;   /* lost_rows: estimated records of leaves not seen */
} tfind;

/* What a check found for one object. */
typedef struct ofind {
    uint32_t   id;
    char       name[CAT_NAME_MAX + 8];
    table_def *td;           /* NULL for a catalog tree */
    int        sys;          /* catalog tree number (SYSOBJ_*), 0 for tables */
    int        alloc_err, cons_err, kept;
    uint64_t   rows, pages;
    uint64_t   rows_before;  /* best estimate of the rows it had (lost rows = this - rows after repair) */
    uint64_t   index_rows;   /* most entries any intact secondary index held */
    int        checked;
} ofind;

typedef struct kept_msg { dbcc_msg m; int obj; } kept_msg;

/* One secondary index entry: key then value in b; where it was (or its row). */
typedef struct ient { uint8_t *b; uint16_t kl, vl; pgid_t page; int slot; } ient;
typedef struct ivec { ient *v; size_t n, cap; } ivec;

typedef struct run {
    database        *db;
    const dbcc_opts *o;
    hdb_err         *err;
    txn             *t;            /* holds the S locks (and a repair round's changes) */
    int              own_txn;
    fmap             files[DF_MAX_FILES];
    int              nfiles;
    ofind           *objs;
    int              nobjs, capobjs;
    tfind           *trees;
    int              ntrees, captrees;
    kept_msg        *msgs;
    int              nmsgs, capmsgs;
    int              cur_obj, cur_tree, in_chain;
    int              alloc_err, cons_err, repair_level;
    pgvec            unallocated;  /* in use but free in the bitmap */
    pgvec            leaked;       /* allocated, used by nothing */
    ivec            *expect;       /* per secondary index of the table being checked */
    ivec             actual;
    int              failed;       /* a callback hit a hard error (err set) */
    pgvec           *rebuilt;      /* repair: object ids whose clustered index was rebuilt (all rounds) */
} run;

/* dbcc_check.c */
int  dbcc_check_once(run *r);            /* 0, or -1 when the check could not run */
void dbcc_run_free(run *r);
void dbcc_obj_desc(run *r, int tree, char *buf, size_t cap);
/* dbcc_repair.c: one round of fixes for what r found; *changed = 1 if
 * anything was changed. Messages go straight to o->emit. */
int  dbcc_repair_round(run *r, int *changed);
void dbcc_say(const dbcc_opts *o, int number, ...);

#endif
