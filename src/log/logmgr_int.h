/*
 * logmgr_int.h — internal to src/log: the log manager's state, shared by
 * logmgr.c (buffer, appends, writer, master record) and logread.c (readers).
 */
#ifndef HDB_LOG_LOGMGR_INT_H
#define HDB_LOG_LOGMGR_INT_H

#include <pthread.h>
#include <string.h>

#include "log/logfile.h"
#include "log/logmgr.h"
#include "os/waitword.h"

struct logmgr {
    fio_file *f;
    char name[129];
    uint64_t V;            /* VLF size */
    uint64_t B;            /* ring size */
    uint64_t log_id;
    uint64_t max_size;
    uint8_t *ring;

    pthread_mutex_t mu;    /* everything below */
    pthread_cond_t writer_cv, flush_cv, space_cv;
    unsigned nslots;
    lf_slot *slots;        /* seq each slot holds (0 = free/never used), salt */
    /* durable_lsn <= written_lsn <= end_lsn, each at a record end; the ring
     * holds [written_lsn, end_lsn) */
    lsn_t end_lsn;         /* where the next record goes (after a VLF switch if needed) */
    lsn_t written_lsn;     /* below: pwritten to the file */
    _Atomic lsn_t durable_lsn;  /* below: fdatasync'd — moved by rounds, under mu; read
                                 * without it by committers woken from round_end */
    lsn_t flush_req;       /* highest durable target a waiter asked for */
    uint64_t cur_seq;      /* VLF holding end_lsn's records (end may be its very end) */
    unsigned cur_slot;
    uint64_t trunc_seq;    /* slots holding seq < trunc_seq are reusable */
    lsn_t trunc_lsn, ckpt_lsn;
    _Atomic lsn_t redo_point;   /* full-page writes: see log_set_redo_point; set under mu,
                                 * read without it by log_redo_point (a hint: append checks) */
    /* mini-transaction commits between their append and their pages' dirty
     * mark, counted by epoch parity (log_mtr_enter / log_mtr_drain) */
    _Atomic uint64_t mtr_epoch;
    _Atomic int64_t  mtr_inflight[2];
    lsn_t restore_lsn;     /* master block's restore fields (log_set_restore_state) */
    uint32_t restore_state;
    int flushing;          /* a write+sync round is under way (writer or a committer) */
    waitword round_end;    /* bumped (under mu) when a round ends or the log fails */
    unsigned space_waiters;
    int writer_idle;       /* the writer sleeps untimed: the next append must wake it */
    int failed, stop, abandon;
    hdb_err fail_err;
    log_stats st;
    char reuse_wait[64];
    uint64_t rng;

    pthread_mutex_t master_mu;  /* serializes master-block rewrites */
    uint64_t master_gen;
    pthread_t writer;
};

/* Slot holding VLF `seq`, -1 if none (mu held). */
static inline int lm_slot_of(const logmgr *lm, uint64_t seq)
{
    for (unsigned k = 0; k < lm->nslots; k++)
        if (lm->slots[k].seq == seq)
            return (int)k;
    return -1;
}

/* Copy n buffered bytes starting at LSN pos out of the ring (mu held). */
static inline void lm_ring_get(const logmgr *lm, lsn_t pos, void *dst, size_t n)
{
    uint8_t *d = dst;
    while (n) {
        size_t at = (size_t)(pos % lm->B), k = (size_t)(lm->B - at);
        if (k > n)
            k = n;
        memcpy(d, lm->ring + at, k);
        d += k;
        pos += k;
        n -= k;
    }
}

#endif
