/*
 * txn.h — transactions: begin, log, commit (local and cross-database), rollback,
 * savepoints. See txn/README.md for the commit protocol.
 *
 * A transaction is instance-wide; it joins each database it writes (txn_join),
 * which writes LR_BEGIN into that database's log and links a participant into
 * the database's active transaction table (used by checkpoints). In each
 * database its records form a backward chain through prev_lsn.
 *
 * Rollback walks each participant's chain backward: an LR_ROW record is undone
 * by the undo handler (logical undo in the access layer, which writes an LR_CLR
 * whose undo_next_lsn is the undone record's prev_lsn); an LR_CLR is skipped by
 * jumping to its undo_next_lsn. So a rollback interrupted by a crash resumes
 * where it stopped and never undoes anything twice. Crash recovery rolls back
 * its losers with this same code.
 */
#ifndef HDB_TXN_TXN_H
#define HDB_TXN_TXN_H

#include <pthread.h>
#include <stdint.h>

#include "log/logmgr.h"
#include "log/logrec.h"
#include "log/mtr.h"
#include "txn/lock.h"
#include "util/err.h"

#define TXN_MAX_DBS   32
#define TXN_NAME_MAX  32
#define TXN_USER_MAX  128
#define TXN_MARK_DESC_MAX 255
/* How long a marked commit waits for prepared cross-database commits (3928). */
#define TXN_MARK_TIMEOUT_MS 20000

struct txn;
struct txn_part;

/* What the transaction layer needs of a database (embedded in engine's database). */
typedef struct txn_db {
    uint32_t         id;
    char             name[129];
    logmgr          *log;
    _Atomic lsn_t    fpw_lsn;       /* begin LSN of the last checkpoint (full-page writes) */
    pthread_mutex_t  att_mu;        /* guards the active transaction table below */
    struct txn_part *att;           /* participants active in this database */
    int              read_only_log; /* log unusable: writes refused */
} txn_db;

void txn_db_init(txn_db *db, uint32_t id, const char *name, logmgr *log);
void txn_db_destroy(txn_db *db);

/* TXN_DEFERRED: recovery could not roll it back (a page it must undo was
 * unreadable or offline); it stays open with its locks (seed 004). */
enum txn_state { TXN_ACTIVE = 1, TXN_PREPARED, TXN_COMMITTED, TXN_ABORTED, TXN_DEFERRED };

typedef struct txn_part {
    txn_db          *db;
    struct txn      *txn;
    lsn_t            first_lsn;     /* its LR_BEGIN */
    lsn_t            last_lsn;      /* newest record (prev_lsn of the next) */
    lsn_t            undo_next;     /* next record to undo (after partial rollbacks) */
    int              state;         /* att_state */
    lsn_t            commit_lsn;    /* its COMMIT (logmarkhistory.lsn of a mark) */
    int              deferred;      /* undo stopped here on an unreadable page */
    struct txn_part *att_next, *att_prev;
} txn_part;

typedef struct txn_savepoint {
    char  name[TXN_NAME_MAX + 1];
    int   nactions;             /* on-commit actions registered before it */
    int   nparts;
    lsn_t last[TXN_MAX_DBS];
} txn_savepoint;

/* committed = 1 after a durable commit; 0 when the transaction rolled back
 * (the action only releases its argument then). */
typedef void (*txn_commit_action)(void *arg, int committed);

/* Undo one LR_ROW record of transaction t in participant p: perform the logical
 * inverse and log it as an LR_CLR with undo_next_lsn = rec->prev_lsn
 * (txn_log_clr). Supplied by the layers above (access/engine). */
typedef int (*txn_undo_fn)(void *ctx, struct txn *t, txn_part *p, const log_rec *rec, hdb_err *err);

typedef struct txn_mgr txn_mgr;

typedef struct txn {
    uint64_t        id;
    txn_mgr        *mgr;
    lock_owner      lo;
    int             session_id;
    char            name[TXN_NAME_MAX + 1];
    char            user[TXN_USER_MAX + 1];
    int64_t         begin_time_us;
    int             state;
    int             lock_timeout_ms;   /* SET LOCK_TIMEOUT; -1 forever */
    int             recovering;        /* a loser being rolled back by recovery */
    int             nparts;
    txn_part        parts[TXN_MAX_DBS];
    int             nsaves;
    txn_savepoint  *saves;
    int             marked;
    char            mark_desc[TXN_MARK_DESC_MAX + 1];
    int             gate;              /* TXN_GATE_*: where it stands at the marked-commit gate */
    int64_t         commit_time_us;
    int             nactions;
    struct { txn_commit_action fn; void *arg; } *actions;
    struct txn     *next, *prev;       /* instance list (DMVs) */
} txn;

enum { TXN_GATE_INSIDE = 1, TXN_GATE_HELD };
/* Crash points of a cross-database commit (tests): after every PREPARE is
 * durable; after the coordinator's COMMIT is durable. */
enum { TXN_CRASH_NONE, TXN_CRASH_PREPARED, TXN_CRASH_DECIDED };

txn_mgr *txn_mgr_create(lock_mgr *locks, txn_undo_fn undo, void *undo_ctx);
/* Marked commits (commit_gate.h): the wait for prepared transactions (default
 * TXN_MARK_TIMEOUT_MS), and what the gate has cost so far. */
void txn_mgr_set_mark_timeout(txn_mgr *m, int ms);
void txn_mgr_mark_stats(txn_mgr *m, uint64_t *marks, uint64_t *blocked_us, uint64_t *max_blocked_us);
/* Exit the process at that point of every user cross-database commit. */
void txn_mgr_set_crash_point(txn_mgr *m, int point);
/* Early lock release at commit (README; default on): a committing
 * transaction hands the locks others wait for over before its flush.
 * txn_mgr_locks_handed_over counts the locks released that way. */
void txn_mgr_set_early_lock_release(txn_mgr *m, int on);
uint64_t txn_mgr_locks_handed_over(txn_mgr *m);
void txn_mgr_destroy(txn_mgr *m);
lock_mgr *txn_mgr_locks(txn_mgr *m);
/* Transaction ids grow across restarts: recovery raises the next id above every
 * id found in the logs. */
void txn_mgr_see_id(txn_mgr *m, uint64_t id);
uint64_t txn_mgr_next_id(txn_mgr *m);
/* Iterate live transactions (DMVs): fn runs under the manager mutex. */
void txn_mgr_foreach(txn_mgr *m, void (*fn)(void *ctx, const txn *t), void *ctx);

txn *txn_begin(txn_mgr *m, int session_id, const char *name, const char *user);
/* A transaction rebuilt by recovery with a given id (no BEGIN logged). */
txn *txn_recreate(txn_mgr *m, uint64_t id);
void txn_free(txn *t);

/* Join database db (first write): logs LR_BEGIN there. Returns the participant. */
txn_part *txn_join(txn *t, txn_db *db, hdb_err *err);
txn_part *txn_find_part(txn *t, const txn_db *db);
/* Add a participant as recovery found it (no logging). */
txn_part *txn_attach_part(txn *t, txn_db *db, lsn_t first, lsn_t last, lsn_t undo_next, int state);

/* Log an undoable row change: commits the mtr as LR_ROW with the given logical
 * undo bytes, chained to the participant. Returns the LSN or 0. */
lsn_t txn_log_row(txn *t, txn_part *p, mtr *m, const void *undo, size_t undo_len, hdb_err *err);
/* Log a compensation (used by undo handlers). */
lsn_t txn_log_clr(txn *t, txn_part *p, mtr *m, lsn_t undo_next, hdb_err *err);
/* Append a non-page record of this transaction (LR_MARK, ...) to p's chain. */
lsn_t txn_log_plain(txn *t, txn_part *p, int kind, const void *body, size_t len, hdb_err *err);

/* Run fn(arg, 1) after the commit is durable, before locks are released
 * (e.g. deallocating pages freed by the transaction); fn(arg, 0) on rollback. */
int txn_on_commit(txn *t, txn_commit_action fn, void *arg);

/* Commit: one database -> LR_COMMIT + group-commit wait. Several -> internal
 * two-phase commit (see README). A marked transaction first closes the
 * marked-commit gate (3928 and rollback if prepared ones do not finish in
 * time). Returns 0, or -1 with the transaction rolled back where possible (or
 * 9001 if its logs failed). Frees nothing: parts[i].commit_lsn and
 * commit_time_us stay readable. */
int txn_commit(txn *t, hdb_err *err);
/* Full rollback (writes CLRs then LR_ABORT per participant). */
int txn_rollback(txn *t, hdb_err *err);
/* Recovery's rollback. As txn_rollback, except that a participant whose undo
 * fails on a page that cannot be read (823, 824, offline file; 829 a page being restored) stops there:
 * it stays in its database's active table with undo_next where undo stopped
 * and `deferred` set, and the transaction becomes TXN_DEFERRED, keeping its
 * locks, until a later txn_rollback_or_defer gets through (or txn_free).
 * Returns 0 rolled back, 1 deferred (err: the page error), -1 another error
 * (the transaction ended as txn_rollback leaves it). */
int txn_rollback_or_defer(txn *t, hdb_err *err);
int txn_save(txn *t, const char *name, hdb_err *err);
/* ROLLBACK TRAN savepoint: 6401 if no such savepoint. */
int txn_rollback_to(txn *t, const char *name, hdb_err *err);

/* Prepare every participant (phase one), used by txn_commit and later by the
 * distributed transaction coordinator. gtid: 16 bytes. */
int txn_prepare(txn *t, const uint8_t gtid[16], uint32_t coord_db, hdb_err *err);
/* Finish a prepared transaction as recovery decided (no further prepare). */
int txn_commit_prepared(txn *t, hdb_err *err);

/* Waits until every commit whose locks t was handed before they were
 * durable (early lock release) is durable: before anything t read is sent
 * to a client. Cheap when there is none. -1 only when a log failed (9001). */
int txn_wait_handed_commits(txn *t, hdb_err *err);

int64_t txn_now_us(void);

#endif
