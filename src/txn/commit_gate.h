/*
 * commit_gate.h — the marked-commit block (seed 003, "two-phase commit").
 *
 * A marked transaction must leave its mark in every database's log at a point
 * where no transaction is in doubt: from the mark on, nothing may appear
 * committed in one database's log and not in another's. The gate gives that:
 *
 *   - a cross-database commit *enters* the gate before its first PREPARE is
 *     appended and *leaves* it once its last COMMIT is appended (durability
 *     comes after, outside the gate: only log order matters for the mark);
 *   - a marked commit *closes* the gate: new entries wait, transactions
 *     already inside (prepared) finish, it waits for them — at most
 *     `timeout_ms`, else 3928 — then prepares and commits itself and *opens*
 *     the gate again.
 *
 * One-database commits never enter: a transaction in one log cannot be
 * committed in one log and not another, so they are not held up by marks.
 * Marked commits are serialized by the gate itself (a second one waits until
 * the first opens it). No gate wait is ever part of a lock wait-for cycle —
 * transactions inside the gate wait for no lock — so the gate cannot deadlock;
 * concurrent marked transactions still meet 1205 on their data like any other.
 */
#ifndef HDB_TXN_COMMIT_GATE_H
#define HDB_TXN_COMMIT_GATE_H

#include <pthread.h>
#include <stdint.h>

typedef struct commit_gate {
    pthread_mutex_t mu;
    pthread_cond_t  cv;
    int             closed;       /* a marked commit holds the gate */
    int             inside;       /* cross-database commits between PREPARE and last COMMIT */
    uint64_t        closes;       /* marked commits that closed it (DMV/bench figures) */
    uint64_t        closed_us;    /* total time it was closed */
    uint64_t        max_closed_us;
    int64_t         closed_at_us;
} commit_gate;

void commit_gate_init(commit_gate *g);
void commit_gate_destroy(commit_gate *g);

/* A cross-database commit starts: waits while a marked commit holds the gate. */
void commit_gate_enter(commit_gate *g);
void commit_gate_leave(commit_gate *g);

/* A marked commit starts: waits its turn, closes the gate and waits until no
 * commit is inside. 0 on success; -1 when those inside did not finish within
 * timeout_ms (< 0: forever) — the gate is open again then. */
int commit_gate_close(commit_gate *g, int timeout_ms);
void commit_gate_open(commit_gate *g);

#endif
