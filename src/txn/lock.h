/*
 * lock.h — the lock manager: hierarchical resource locks with SQL Server's modes
 * (IS, IX, S, SIX, U, X, and the key-range modes RangeS-S ... RangeX-X),
 * in-place conversions, FIFO waiting, instant-duration requests, lock timeouts,
 * deadlock detection with DEADLOCK_PRIORITY / rollback-cost victim choice, and
 * cancellation of a wait (KILL / attention).
 *
 * A lock_owner is embedded by the txn layer in each transaction; one thread at a
 * time uses an owner (only lock_cancel_wait may be called from another thread).
 * See src/txn/README.md ("Lock manager") for the matrices and the mutex order.
 */
#ifndef HDB_TXN_LOCK_H
#define HDB_TXN_LOCK_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "util/err.h"

/* lock_res.kind */
enum {
    LOCK_RES_DATABASE = 1,
    LOCK_RES_TABLE    = 2,   /* an object: table or index */
    LOCK_RES_KEY      = 3,   /* a key of an object; hash = lock_hash_bytes(key),
                                or LOCK_KEY_END_HASH for the end of the index */
    LOCK_RES_PAGE     = 4,   /* a page of an object; hash = page number */
    LOCK_RES_METADATA = 5,   /* schema stability of an object */
};

typedef struct lock_res {
    uint32_t db_id;
    uint32_t object_id;
    uint8_t  kind;           /* LOCK_RES_* */
    uint64_t hash;           /* key hash for KEY, page number for PAGE, 0 otherwise */
} lock_res;

/* The hash of the "end of index" key resource: the key above every real key,
 * which a range scan reaching the end locks (SQL Server's ffffffffffff). */
#define LOCK_KEY_END_HASH UINT64_MAX

typedef enum lock_mode {
    LOCK_NONE = 0,           /* "not held" (never requested) */
    LOCK_IS,
    LOCK_IX,
    LOCK_S,
    LOCK_SIX,
    LOCK_U,
    LOCK_X,
    /* Key-range modes, for KEY resources only: a range part that covers the
     * gap between the key and the key before it, and a key part (N = none). */
    LOCK_RANGE_S_S,          /* RangeS-S: serializable read of the gap and the key */
    LOCK_RANGE_S_U,          /* RangeS-U */
    LOCK_RANGE_I_N,          /* RangeI-N: insert into the gap (key not locked) */
    LOCK_RANGE_I_S,          /* RangeI-S, RangeI-U, RangeI-X: conversions of RangeI-N */
    LOCK_RANGE_I_U,
    LOCK_RANGE_I_X,          /* (also what an insert holds on its new key) */
    LOCK_RANGE_X_N,          /* RangeX-N: gap exclusive, key free (not in SQL Server:
                                what a physical delete keeps on the next key) */
    LOCK_RANGE_X_S,          /* RangeX-S, RangeX-U: conversions (RangeS-S + RangeI-N) */
    LOCK_RANGE_X_U,
    LOCK_RANGE_X_X,          /* RangeX-X: gap and key exclusive (delete) */
} lock_mode;
#define LOCK_MODE_COUNT 17

/* timeout_ms values of lock_acquire (SET LOCK_TIMEOUT) */
#define LOCK_WAIT_FOREVER (-1)
#define LOCK_NOWAIT       0

/* SET DEADLOCK_PRIORITY LOW / NORMAL / HIGH; any int in -10..10 is accepted */
#define LOCK_PRIORITY_LOW    (-5)
#define LOCK_PRIORITY_NORMAL 0
#define LOCK_PRIORITY_HIGH   5

typedef struct lock_mgr lock_mgr;
struct lock_req;

/* Embedded in each transaction. Fields are private to lock.c: use the functions
 * below. (The struct is public only so that it can be embedded.) */
/* A commit this owner's reads may depend on: the commit record at `lsn` in
 * `log` (a logmgr *), whose locks were handed over before it was durable
 * (lock_hand_over). */
#define LOCK_DEPS 4
typedef struct lock_dep {
    void    *log;
    uint64_t lsn;
} lock_dep;

typedef struct lock_owner {
    uint64_t         txn_id;
    int              session_id;
    _Atomic int      deadlock_priority;  /* victim choice: lowest first */
    _Atomic uint64_t log_used;           /* victim choice: then least log used */
    struct lock_mgr *mgr;                /* set by the first acquire */
    struct lock_req *held;               /* granted requests, for O(held) release */
    size_t           nheld;
    pthread_cond_t   cv;                 /* the owner's wait; paired with a bucket mutex */
    _Atomic int      wait_bucket;        /* bucket of the pending request, -1 if none */
    struct lock_req *wait_req;           /* pending request (under that bucket's mutex) */
    uint64_t         det_epoch;          /* deadlock detector scratch (detector mutex) */
    int              det_state;
    /* commits not yet durable whose locks this owner was handed (at most
     * one entry per log: the highest LSN); written under a partition mutex
     * while the owner waits, read by the owner's own thread */
    lock_dep         deps[LOCK_DEPS];
    int              ndeps;
} lock_owner;

/* ---- resources ---- */
lock_res lock_res_database(uint32_t db_id);
lock_res lock_res_table(uint32_t db_id, uint32_t object_id);
lock_res lock_res_metadata(uint32_t db_id, uint32_t object_id);
lock_res lock_res_page(uint32_t db_id, uint32_t object_id, uint64_t page_no);
/* key: the encoded (memcmp-comparable) key bytes of the index entry */
lock_res lock_res_key(uint32_t db_id, uint32_t object_id, const void *key, size_t len);
/* the end-of-index key of an object (range locks past the last key) */
lock_res lock_res_key_end(uint32_t db_id, uint32_t object_id);
int      lock_res_equal(const lock_res *a, const lock_res *b);
const char *lock_res_kind_name(uint8_t kind);   /* "DATABASE", "OBJECT", "KEY", ... */

/* 64-bit hash of a byte string (stable within a process; not persisted). */
uint64_t lock_hash_bytes(const void *data, size_t len);

/* ---- modes ---- */
/* 1 if `requested` may be granted while another owner holds `held`. */
int lock_mode_compatible(lock_mode held, lock_mode requested);
/* The weakest mode at least as strong as both (e.g. S+IX = SIX, U+X = X):
 * what a holder of `held` ends up with after requesting `requested`. */
lock_mode lock_mode_supremum(lock_mode held, lock_mode requested);
/* 1 if holding `held` already implies `requested` (re-acquire is a no-op). */
int lock_mode_covers(lock_mode held, lock_mode requested);
/* sys.dm_tran_locks request_mode: "IS", "IX", "S", "SIX", "U", "X", "NULL",
 * "RangeS-S", "RangeI-N", ... */
const char *lock_mode_name(lock_mode m);
/* The suffix of the mode's wait type LCK_M_<suffix>: "S", "RS_S", "RIn_NL", ... */
const char *lock_mode_wait_name(lock_mode m);

/* ---- owners ---- */
void     lock_owner_init(lock_owner *o, uint64_t txn_id, int session_id);
/* Releases anything still held and waits out a running deadlock search that may
 * still look at the owner; call before freeing or re-initialising the memory. */
void     lock_owner_destroy(lock_owner *o);

/* Early lock release (txn/README.md): o's transaction has appended its commit
 * record at `lsn` in `log` and waits for it to be durable. Every lock of o
 * that only X requests wait for is released now, and each of its waiters
 * records (log, lsn) in its deps; other locks stay held until
 * lock_release_all (a shared holder could let the change out before the
 * flush), as does a lock whose waiters have no room for another log's
 * dependency. Returns how many locks were released. */
size_t   lock_hand_over(lock_mgr *m, lock_owner *o, void *log, uint64_t lsn);
void     lock_owner_set_deadlock_priority(lock_owner *o, int priority);
int      lock_owner_deadlock_priority(const lock_owner *o);
void     lock_owner_set_log_used(lock_owner *o, uint64_t bytes);
void     lock_owner_add_log_used(lock_owner *o, uint64_t bytes);
uint64_t lock_owner_log_used(const lock_owner *o);
uint64_t lock_owner_txn_id(const lock_owner *o);
int      lock_owner_session_id(const lock_owner *o);
size_t   lock_owner_held_count(const lock_owner *o);    /* owner's own thread */

/* ---- the manager ---- */
lock_mgr *lock_mgr_create(void);
/* All owners must have released their locks (or be abandoned) first. */
void      lock_mgr_destroy(lock_mgr *m);

/* Acquire `res` in `mode` (or convert a held lock up to supremum(held, mode)).
 * timeout_ms: -1 wait forever, 0 never wait, N wait at most N ms.
 * Returns 0 when granted, else -1 with err set to
 *   1222 lock request time out period exceeded (also timeout 0 when it must wait),
 *   1205 chosen as deadlock victim,
 *   3980 the wait was cancelled by lock_cancel_wait,
 *   1204 out of memory for lock structures.
 * A failed conversion leaves the previously held mode in place. */
int lock_acquire(lock_mgr *m, lock_owner *o, const lock_res *res, lock_mode mode,
                 int timeout_ms, hdb_err *err);
/* Instant duration (an insert testing a key-range lock): wait, as lock_acquire
 * would, until `mode` could be granted to o, then keep nothing (o keeps what it
 * held before, which *held reports if not NULL). Only the granted modes of
 * other owners count, not waiters. Returns 0, or -1 with the errors of
 * lock_acquire (1222 at once when timeout_ms is 0 and the mode is not
 * grantable now). */
int lock_acquire_instant(lock_mgr *m, lock_owner *o, const lock_res *res, lock_mode mode,
                         int timeout_ms, lock_mode *held, hdb_err *err);
/* Release one lock (read committed drops S locks early). 0, or -1 if not held. */
int lock_release(lock_mgr *m, lock_owner *o, const lock_res *res);
/* Release everything the owner holds (end of transaction). */
void lock_release_all(lock_mgr *m, lock_owner *o);
/* The granted mode of `res` held by `o`, LOCK_NONE if none. */
lock_mode lock_held_mode(lock_mgr *m, lock_owner *o, const lock_res *res);

/* Make the owner's pending lock_acquire (if any) fail with 3980. Any thread. */
void lock_cancel_wait(lock_mgr *m, lock_owner *o);

/* For sys.dm_tran_locks: calls fn once per granted lock (granted=1, its mode) and
 * once per waiting request (granted=0, the mode waited for; a conversion shows as
 * its granted row plus a waiting row). Rows of one resource come consecutively.
 * fn runs under an internal mutex: it must not call lock_* functions. */
void lock_mgr_foreach(lock_mgr *m,
                      void (*fn)(void *ctx, const lock_res *res, lock_mode mode,
                                 int granted, const lock_owner *owner),
                      void *ctx);

#endif
