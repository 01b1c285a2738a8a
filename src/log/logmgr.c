/*
 * logmgr.c — log buffer, appends, the log-writer thread (group commit),
 * master-record updates and truncation. The file layout lives in logfile.c,
 * readers in logread.c; the protocol is described in src/log/README.md.
 *
 * The buffer is a ring of B bytes addressed by LSN: the byte of LSN x sits at
 * ring[x % B]. It holds [written_lsn, end_lsn), which is never more than B
 * bytes. The unused tail of a VLF (skipped when a record does not fit) and the
 * next VLF's header are put in the ring like records, so the writer simply
 * writes the LSN range [written_lsn, end_lsn) to wherever each VLF's slot is.
 */
#include "log/logmgr.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "log/logmgr_int.h"
#include "os/fio.h"
#include "util/crc32c.h"

#define DEFAULT_VLF       (1024u * 1024)
#define DEFAULT_BUFFER    (8u * 1024 * 1024)
#define FLUSH_INTERVAL_NS (100 * 1000000L)

static void *writer_main(void *arg);

/* ---- small helpers ------------------------------------------------------- */

static uint64_t next_rand(logmgr *lm)
{
    /* splitmix64: salts only need to differ between uses of a slot */
    uint64_t z = (lm->rng += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static uint64_t seed_rand(void)
{
    uint64_t s = 0;
    if (getrandom(&s, sizeof s, GRND_NONBLOCK) != (ssize_t)sizeof s) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        s = (uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 20) ^ ((uint64_t)getpid() << 40);
    }
    return s;
}

/* The file name without directory and extension. */
static void default_name(char *out, size_t cap, const char *path)
{
    const char *b = strrchr(path, '/');
    b = b ? b + 1 : path;
    snprintf(out, cap, "%s", b);
    char *dot = strrchr(out, '.');
    if (dot && dot != out)
        *dot = 0;
}


static void ring_put(logmgr *lm, lsn_t pos, const void *src, size_t n)
{
    const uint8_t *s = src;
    while (n) {
        size_t at = (size_t)(pos % lm->B), k = (size_t)(lm->B - at);
        if (k > n)
            k = n;
        if (s) {
            memcpy(lm->ring + at, s, k);
            s += k;
        } else {
            memset(lm->ring + at, 0, k);
        }
        pos += k;
        n -= k;
    }
}

/* (mu held) A round ended, the log failed, or the writer stopped: committers
 * sleep on round_end, the writer on flush_cv. */
static void wake_flush_waiters(logmgr *lm)
{
    waitword_bump(&lm->round_end);
    pthread_cond_broadcast(&lm->flush_cv);
}

/* Make the log failed (mu held): waiters and later appends get 9001. The
 * original OS error goes to the error log (stderr) once. */
static void fail_locked(logmgr *lm, const hdb_err *e)
{
    if (!lm->failed) {
        lm->failed = 1;
        if (e)
            lm->fail_err = *e;
        fprintf(stderr, "hadrdb: log for database '%s' failed: %s\n", lm->name,
                e ? e->msg : "unknown error");
    }
    wake_flush_waiters(lm);
    pthread_cond_broadcast(&lm->space_cv);
    pthread_cond_broadcast(&lm->writer_cv);
}

static int raise_unavailable(logmgr *lm, hdb_err *err)
{
    return hdb_raise(err, 9001, lm->name);
}


/* ---- create / open / close ----------------------------------------------- */

static logmgr *lm_new(fio_file *f, const char *path, const lf_master *m, const log_options *opt,
                      hdb_err *err)
{
    logmgr *lm = calloc(1, sizeof *lm);
    if (!lm) {
        hdb_raise_text(err, 701, 19, 1, "There is insufficient system memory to run this query.");
        return NULL;
    }
    lm->f = f;
    lm->V = m->vlf_size;
    lm->log_id = m->log_id;
    lm->max_size = opt ? opt->max_size : 0;
    uint64_t b = opt && opt->buffer_size ? opt->buffer_size : DEFAULT_BUFFER;
    /* A VLF switch needs (rest of VLF) + header + record < 2V of ring space;
     * with B >= 2V an appender can always eventually fit. */
    if (b < 2 * lm->V)
        b = 2 * lm->V;
    lm->B = lf_align8(b);
    lm->ring = malloc(lm->B);
    lm->ckpt_lsn = m->ckpt_lsn;
    lm->trunc_lsn = m->trunc_lsn;
    lm->trunc_seq = m->trunc_lsn / lm->V;
    lm->restore_lsn = m->restore_lsn;
    lm->restore_state = m->restore_state;
    lm->master_gen = m->gen;
    lm->rng = seed_rand();
    snprintf(lm->reuse_wait, sizeof lm->reuse_wait, "CHECKPOINT");
    default_name(lm->name, sizeof lm->name, path);
    pthread_mutex_init(&lm->mu, NULL);
    pthread_mutex_init(&lm->master_mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&lm->writer_cv, &ca);
    pthread_condattr_destroy(&ca);
    pthread_cond_init(&lm->flush_cv, NULL);
    pthread_cond_init(&lm->space_cv, NULL);
    if (!lm->ring) {
        hdb_raise_text(err, 701, 19, 1, "There is insufficient system memory to run this query.");
        return lm;   /* caller frees */
    }
    return lm;
}

static void lm_free(logmgr *lm)
{
    if (!lm)
        return;
    pthread_mutex_destroy(&lm->mu);
    pthread_mutex_destroy(&lm->master_mu);
    pthread_cond_destroy(&lm->writer_cv);
    pthread_cond_destroy(&lm->flush_cv);
    pthread_cond_destroy(&lm->space_cv);
    fio_close(lm->f);
    free(lm->ring);
    free(lm->slots);
    free(lm);
}

static int start_writer(logmgr *lm, hdb_err *err)
{
    if (pthread_create(&lm->writer, NULL, writer_main, lm) != 0)
        return hdb_raise(err, 9001, lm->name);
    return 0;
}

static logmgr *create_at(const char *path, const log_options *opt, uint64_t first_seq, hdb_err *err)
{
    uint64_t V = opt && opt->vlf_size ? opt->vlf_size : DEFAULT_VLF;
    unsigned n = opt && opt->initial_vlfs ? opt->initial_vlfs : 2;
    if (V < LF_MIN_VLF || V % 4096 || V > ((uint64_t)1 << 31)) {
        hdb_raise(err, 40000, "Log VLF size must be a multiple of 4096 between 64 KiB and 2 GiB.");
        return NULL;
    }
    if (n < 2)
        n = 2;
    if (opt && opt->max_size && lf_slot_off(n, V) > opt->max_size) {
        hdb_raise(err, 40000, "Log maximum size is smaller than its initial size.");
        return NULL;
    }
    fio_file *f = fio_open(path, FIO_CREATE | FIO_EXCL, err);
    if (!f)
        return NULL;
    uint64_t id = seed_rand();
    lf_master m = { .vlf_size = V, .ckpt_lsn = 0, .trunc_lsn = first_seq * V + LOG_VLF_HEADER, .gen = 1,
                    .log_id = id ? id : 1 };
    logmgr *lm = lm_new(f, path, &m, opt, err);
    if (!lm) {
        fio_close(f);
        return NULL;
    }
    lm->slots = calloc(n, sizeof *lm->slots);
    if (!lm->ring || !lm->slots) {
        hdb_raise_text(err, 701, 19, 1, "There is insufficient system memory to run this query.");
        lm_free(lm);
        return NULL;
    }
    lm->nslots = n;
    uint32_t salt = (uint32_t)next_rand(lm);
    if (lf_format(f, &m, n, salt, first_seq, err) < 0 || fio_sync_parent(path, err) < 0) {
        lm_free(lm);
        return NULL;
    }
    lm->slots[0].seq = first_seq;
    lm->slots[0].salt = salt;
    lm->cur_seq = first_seq;
    lm->cur_slot = 0;
    lm->end_lsn = lm->written_lsn = lm->durable_lsn = first_seq * V + LOG_VLF_HEADER;
    if (start_writer(lm, err) < 0) {
        lm_free(lm);
        return NULL;
    }
    return lm;
}

logmgr *log_create(const char *path, const log_options *opt, hdb_err *err)
{
    return create_at(path, opt, 1, err);
}

logmgr *log_create_at(const char *path, const log_options *opt, lsn_t first_lsn, hdb_err *err)
{
    uint64_t V = opt && opt->vlf_size ? opt->vlf_size : DEFAULT_VLF;
    if (V < LF_MIN_VLF || first_lsn % V != LOG_VLF_HEADER || first_lsn / V < 1) {
        hdb_raise(err, 40000, "A restored log must start at the first record of a virtual log file.");
        return NULL;
    }
    return create_at(path, opt, first_lsn / V, err);
}

logmgr *log_open(const char *path, const log_options *opt, hdb_err *err)
{
    fio_file *f = fio_open(path, 0, err);
    if (!f)
        return NULL;
    lf_master m;
    char nm[129];   /* default name, for errors before lm exists */
    default_name(nm, sizeof nm, path);
    int good = lf_read_master(f, &m, nm, err);
    if (!good) {
        fio_close(f);
        return NULL;
    }
    logmgr *lm = lm_new(f, path, &m, opt, err);
    if (!lm) {
        fio_close(f);
        return NULL;
    }
    int64_t size = fio_size(f);
    unsigned n = size > LOG_MASTER_SIZE ? (unsigned)(((uint64_t)size - LOG_MASTER_SIZE) / lm->V) : 0;
    lm->slots = calloc(n ? n : 1, sizeof *lm->slots);
    if (!lm->ring || !lm->slots) {
        hdb_raise_text(err, 701, 19, 1, "There is insufficient system memory to run this query.");
        lm_free(lm);
        return NULL;
    }
    lm->nslots = n;
    lf_scan_out so;
    if (lf_scan(f, &m, n, lm->slots, &so, lm->name, err) < 0) {
        lm_free(lm);
        return NULL;
    }
    if (good == 1) {
        /* one copy was damaged: rewrite both so the next torn write has a fallback */
        m.gen++;
        if (lf_write_master(f, &m, err) < 0) {
            lm_free(lm);
            return NULL;
        }
        lm->master_gen = m.gen;
    }
    lm->cur_seq = so.cur_seq;
    lm->cur_slot = so.cur_slot;
    lm->end_lsn = lm->written_lsn = lm->durable_lsn = so.end;
    if (start_writer(lm, err) < 0) {
        lm_free(lm);
        return NULL;
    }
    return lm;
}

static void stop_writer(logmgr *lm, int abandon)
{
    pthread_mutex_lock(&lm->mu);
    lm->stop = 1;
    lm->abandon = abandon;
    pthread_cond_signal(&lm->writer_cv);
    pthread_mutex_unlock(&lm->mu);
    pthread_join(lm->writer, NULL);
}

void log_close(logmgr *lm)
{
    if (!lm)
        return;
    log_flush_all(lm, NULL);   /* on a failed log this just returns */
    stop_writer(lm, 0);
    lm_free(lm);
}

void log_close_abandon(logmgr *lm)
{
    if (!lm)
        return;
    stop_writer(lm, 1);
    lm_free(lm);
}

void log_set_name(logmgr *lm, const char *db_name)
{
    pthread_mutex_lock(&lm->mu);
    snprintf(lm->name, sizeof lm->name, "%s", db_name ? db_name : "");
    pthread_mutex_unlock(&lm->mu);
}

void log_set_reuse_wait(logmgr *lm, const char *desc)
{
    pthread_mutex_lock(&lm->mu);
    snprintf(lm->reuse_wait, sizeof lm->reuse_wait, "%s", desc ? desc : "NOTHING");
    pthread_mutex_unlock(&lm->mu);
}

/* ---- appending ----------------------------------------------------------- */

/* A slot for a new VLF (mu held): the reusable slot holding the oldest
 * sequence, else grow the file. -1 with 9002 (or the resize's 823) if none. */
static int take_slot(logmgr *lm, hdb_err *err)
{
    int best = -1;
    for (unsigned k = 0; k < lm->nslots; k++) {
        if (lm->slots[k].seq < lm->trunc_seq &&
            (best < 0 || lm->slots[k].seq < lm->slots[best].seq))
            best = (int)k;
    }
    if (best >= 0)
        return best;

    unsigned add = LOG_GROW_VLFS;
    uint64_t size = lf_slot_off(lm->nslots, lm->V);
    if (lm->max_size) {
        uint64_t room = lm->max_size > size ? (lm->max_size - size) / lm->V : 0;
        if (room < add)
            add = (unsigned)room;   /* grow as far as max_size allows */
    }
    if (add == 0)
        return hdb_raise(err, 9002, lm->name, lm->reuse_wait);
    lf_slot *ns = realloc(lm->slots, (lm->nslots + add) * sizeof *ns);
    if (!ns)
        return hdb_raise(err, 9002, lm->name, lm->reuse_wait);
    lm->slots = ns;
    hdb_err e = {0};
    /* Growing is rare, so it happens under the mutex; the writer may keep
     * writing meanwhile since it does I/O without holding it. */
    if (fio_resize_zeroed(lm->f, lf_slot_off(lm->nslots + add, lm->V), &e) < 0) {
        if (fio_last_errno() == ENOSPC)
            return hdb_raise(err, 9002, lm->name, lm->reuse_wait);
        if (err)
            *err = e;   /* nothing was lost: this append fails, the log stays usable */
        return -1;
    }
    for (unsigned k = lm->nslots; k < lm->nslots + add; k++)
        lm->slots[k] = (lf_slot){0, 0};
    best = (int)lm->nslots;
    lm->nslots += add;
    lm->st.grows++;
    return best;
}

/* fpw_seen: the redo point the caller built the record against (0 = any);
 * if a checkpoint moved it since, nothing is appended and *stale is set. */
static lsn_t append(logmgr *lm, log_rec *rec, const void *const *parts, const size_t *lens,
                    int nparts, lsn_t fpw_seen, int *stale, hdb_err *err)
{
    uint64_t body = 0;
    for (int i = 0; i < nparts; i++)
        body += lens[i];
    uint64_t n = lf_align8(LOG_REC_HEADER + body);
    if (n > lm->V - LOG_VLF_HEADER) {
        char t[160];
        snprintf(t, sizeof t, "Log record of %" PRIu64 " bytes exceeds the largest that fits "
                 "in a virtual log file (%" PRIu64 " bytes).", n, lm->V - LOG_VLF_HEADER);
        hdb_raise(err, 40000, t);
        return 0;
    }
    static const uint8_t pad[8];
    size_t padn = (size_t)(n - LOG_REC_HEADER - body);
    uint8_t hdr[LOG_REC_HEADER];
    rec->len = (uint32_t)n;
    rec->body_len = (uint32_t)body;
    rec->rsvd = 0;
    rec->lsn = 0;
    rec->crc = 0;
    lf_encode_rechdr(hdr, rec);
    /* checksum everything but the LSN and salt before taking the mutex */
    uint32_t crc = crc32c(0, hdr + 16, LOG_REC_HEADER - 16);
    for (int i = 0; i < nparts; i++)
        crc = crc32c(crc, parts[i], lens[i]);
    crc = crc32c(crc, pad, padn);

    pthread_mutex_lock(&lm->mu);
    if (fpw_seen && lm->redo_point > fpw_seen) {
        pthread_mutex_unlock(&lm->mu);
        *stale = 1;
        return 0;
    }
    lsn_t pos;
    for (;;) {
        if (lm->failed) {
            pthread_mutex_unlock(&lm->mu);
            raise_unavailable(lm, err);
            return 0;
        }
        lsn_t vend = (lm->cur_seq + 1) * lm->V;
        int sw = lm->end_lsn + n > vend;
        pos = sw ? vend + LOG_VLF_HEADER : lm->end_lsn;
        if (pos + n - lm->written_lsn > lm->B) {
            /* buffer full: get the writer going and wait for space */
            lm->space_waiters++;
            lm->st.space_waits++;
            pthread_cond_signal(&lm->writer_cv);
            pthread_cond_wait(&lm->space_cv, &lm->mu);
            lm->space_waiters--;
            continue;
        }
        if (sw) {
            int k = take_slot(lm, err);
            if (k < 0) {
                pthread_mutex_unlock(&lm->mu);
                return 0;
            }
            /* zero the unused rest of this VLF, then the next VLF's header */
            ring_put(lm, lm->end_lsn, NULL, (size_t)(vend - lm->end_lsn));
            lf_vlf h = { .seq = lm->cur_seq + 1, .prev_end = lm->end_lsn, .log_id = lm->log_id,
                         .vlf_size = lm->V, .salt = (uint32_t)next_rand(lm) };
            uint8_t hb[LOG_VLF_HEADER];
            lf_encode_vlf(hb, &h);
            ring_put(lm, vend, hb, sizeof hb);
            lm->slots[k].seq = h.seq;
            lm->slots[k].salt = h.salt;
            lm->cur_seq = h.seq;
            lm->cur_slot = (unsigned)k;
            lm->st.vlf_switches++;
        }
        break;
    }
    uint8_t lb[8], sb[4];
    lf_put64(lb, pos);
    lf_put32(sb, lm->slots[lm->cur_slot].salt);
    crc = crc32c(crc32c(crc, lb, 8), sb, 4);
    rec->lsn = pos;
    rec->crc = crc;
    lf_put32(hdr + 4, crc);
    lf_put64(hdr + 8, pos);
    /* copy in under the mutex: a record is visible to readers and the writer
     * only once end_lsn moves past it, i.e. when it is complete */
    ring_put(lm, pos, hdr, sizeof hdr);
    lsn_t at = pos + LOG_REC_HEADER;
    for (int i = 0; i < nparts; i++) {
        ring_put(lm, at, parts[i], lens[i]);
        at += lens[i];
    }
    ring_put(lm, at, NULL, padn);
    lm->end_lsn = pos + n;
    lm->st.appends++;
    lm->st.append_bytes += n;
    /* wake the writer only from its untimed wait (nothing was pending), so the
     * periodic flush starts; or early, before appenders block on space. In
     * its timed wait it needs no wake-up: the deadline comes anyway, and
     * waking it for every transaction cost futex calls and a context switch
     * per commit although the committer flushes its own records. */
    if (lm->writer_idle || lm->end_lsn - lm->written_lsn >= lm->B / 2) {
        lm->writer_idle = 0;
        pthread_cond_signal(&lm->writer_cv);
    }
    pthread_mutex_unlock(&lm->mu);
    return pos;
}

lsn_t log_appendv(logmgr *lm, log_rec *rec, const void *const *parts, const size_t *lens,
                  int nparts, hdb_err *err)
{
    int stale = 0;
    return append(lm, rec, parts, lens, nparts, 0, &stale, err);
}

lsn_t log_append_fpw(logmgr *lm, log_rec *rec, lsn_t fpw_seen, int *stale, hdb_err *err)
{
    const void *p = rec->body;
    size_t l = rec->body_len;
    *stale = 0;
    return append(lm, rec, &p, &l, rec->body_len ? 1 : 0, fpw_seen, stale, err);
}

lsn_t log_set_redo_point(logmgr *lm)
{
    pthread_mutex_lock(&lm->mu);
    lm->redo_point = lm->end_lsn;
    lsn_t r = lm->redo_point;
    pthread_mutex_unlock(&lm->mu);
    return r;
}

int log_mtr_enter(logmgr *lm)
{
    int parity = (int)(atomic_load(&lm->mtr_epoch) & 1);
    atomic_fetch_add(&lm->mtr_inflight[parity], 1);
    return parity;
}

void log_mtr_leave(logmgr *lm, int ticket)
{
    atomic_fetch_sub(&lm->mtr_inflight[ticket], 1);
}

void log_mtr_drain(logmgr *lm)
{
    /* A commit whose record lies below the redo point entered before it
     * was set, so before this flip: it counts under the old parity. Later
     * entrants under the old parity only make the wait a little longer. */
    int old = (int)(atomic_fetch_add(&lm->mtr_epoch, 1) & 1);
    while (atomic_load(&lm->mtr_inflight[old]) > 0)
        sched_yield();
}

lsn_t log_redo_point(logmgr *lm)
{
    /* no mutex: every mini-transaction asks, and a stale answer is caught
     * where it matters, by append's check against the redo point */
    return atomic_load_explicit(&lm->redo_point, memory_order_acquire);
}

lsn_t log_append(logmgr *lm, log_rec *rec, hdb_err *err)
{
    const void *p = rec->body;
    size_t l = rec->body_len;
    return log_appendv(lm, rec, &p, &l, rec->body_len ? 1 : 0, err);
}

/* ---- group commit -------------------------------------------------------- */

struct seg;
static void flush_round(logmgr *lm, struct seg **segs, size_t *cap);

/* A committer whose record is not durable leads a round itself when none is
 * under way (so a lone committer pays one pwrite + fdatasync and no thread
 * hand-off); otherwise it waits for the round in progress, and whoever wakes
 * first leads the next one, covering every record appended meanwhile. The
 * wait is on round_end, not on a condition variable: the committers a round
 * made durable leave without taking mu again (with flush_cv each woken
 * committer queued for mu in turn, and most slept a second time there). */
static int wait_durable(logmgr *lm, lsn_t want, hdb_err *err)
{
    pthread_mutex_lock(&lm->mu);
    if (want > lm->end_lsn)
        want = lm->end_lsn;
    if (lm->durable_lsn >= want) {
        pthread_mutex_unlock(&lm->mu);
        return 0;
    }
    lm->st.flush_waits++;
    struct seg *segs = NULL;
    size_t cap = 0;
    while (lm->durable_lsn < want && !lm->failed) {
        if (lm->flush_req < want)
            lm->flush_req = want;
        if (!lm->flushing && !lm->stop) {
            flush_round(lm, &segs, &cap);
            continue;
        }
        /* read under mu: the round under way cannot end before we sleep */
        uint32_t seen = waitword_value(&lm->round_end);
        pthread_mutex_unlock(&lm->mu);
        waitword_sleep(&lm->round_end, seen);
        if (lm->durable_lsn >= want) {
            free(segs);
            return 0;
        }
        pthread_mutex_lock(&lm->mu);
    }
    int ok = lm->durable_lsn >= want;   /* never report what is not durable */
    pthread_mutex_unlock(&lm->mu);
    free(segs);
    return ok ? 0 : raise_unavailable(lm, err);
}

int log_flush_to(logmgr *lm, lsn_t lsn, hdb_err *err)
{
    return wait_durable(lm, lsn + 1, err);
}

int log_flush_all(logmgr *lm, hdb_err *err)
{
    return wait_durable(lm, UINT64_MAX, err);
}

struct seg {
    uint64_t file_off;
    size_t ring_off, len;
};

/* Split [from, to) into pieces contiguous both in the ring and in the file. */
static int plan_writes(logmgr *lm, lsn_t from, lsn_t to, struct seg **segs, size_t *cap,
                       size_t *nseg)
{
    *nseg = 0;
    lsn_t pos = from;
    while (pos < to) {
        uint64_t s = pos / lm->V;
        lsn_t e = (s + 1) * lm->V < to ? (s + 1) * lm->V : to;
        int k = lm_slot_of(lm, s);
        if (k < 0)
            return -1;   /* cannot happen: a VLF gets its slot before it gets bytes */
        uint64_t foff = lf_slot_off((unsigned)k, lm->V) + (pos - s * lm->V);
        while (pos < e) {
            size_t at = (size_t)(pos % lm->B), len = (size_t)(lm->B - at);
            if (len > e - pos)
                len = (size_t)(e - pos);
            if (*nseg == *cap) {
                size_t nc = *cap ? *cap * 2 : 16;
                struct seg *p = realloc(*segs, nc * sizeof *p);
                if (!p)
                    return -1;
                *segs = p;
                *cap = nc;
            }
            (*segs)[(*nseg)++] = (struct seg){ foff, at, len };
            pos += len;
            foff += len;
        }
    }
    return 0;
}

static struct timespec deadline_in(long ns)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    t.tv_nsec += ns;
    while (t.tv_nsec >= 1000000000L) {
        t.tv_nsec -= 1000000000L;
        t.tv_sec++;
    }
    return t;
}

static int past(const struct timespec *d)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec > d->tv_sec || (t.tv_sec == d->tv_sec && t.tv_nsec >= d->tv_nsec);
}

/* One round (mu held on entry and exit, no round under way): write everything
 * appended so far with one batch of pwrites and ONE fdatasync, then wake every
 * waiter it made durable. */
static void flush_round(logmgr *lm, struct seg **segs, size_t *cap)
{
    size_t nseg = 0;
    lsn_t from = lm->written_lsn, to = lm->end_lsn;
    hdb_err e = {0};
    lm->flushing = 1;
    if (plan_writes(lm, from, to, segs, cap, &nseg) < 0) {
        hdb_raise(&e, 9001, lm->name);
        fail_locked(lm, &e);
        lm->flushing = 0;
        pthread_cond_broadcast(&lm->flush_cv);
        return;
    }
    lm->st.rounds++;
    pthread_mutex_unlock(&lm->mu);

    /* The ring bytes of [from, to) are stable: appenders only write at
     * end_lsn and beyond, and cannot wrap onto them before written_lsn moves. */
    int rc = 0;
    uint64_t bytes = 0;
    for (size_t i = 0; i < nseg && rc == 0; i++) {
        rc = fio_pwrite(lm->f, lm->ring + (*segs)[i].ring_off, (*segs)[i].len, (*segs)[i].file_off, &e);
        bytes += (*segs)[i].len;
    }
    pthread_mutex_lock(&lm->mu);
    if (rc == 0) {
        lm->written_lsn = to;
        lm->st.writes += nseg;
        lm->st.bytes_written += bytes;
        pthread_cond_broadcast(&lm->space_cv);   /* ring space is free again */
        pthread_mutex_unlock(&lm->mu);

        /* Commit durability depends on this fdatasync: durable_lsn moves, and
         * commits waiting in log_flush_to are released, only after it returned
         * success. One sync per round serves every waiter of the round. */
        rc = fio_sync(lm->f, &e);

        pthread_mutex_lock(&lm->mu);
        lm->st.syncs++;
    }
    if (rc < 0)
        fail_locked(lm, &e);
    else
        lm->durable_lsn = to;
    lm->flushing = 0;
    wake_flush_waiters(lm);
}

/* The log writer: flushes what nobody waits for (within 100 ms), makes room
 * when the ring fills, and drains the log at close. Committers flush their own
 * records (wait_durable); the writer never runs a round alongside them. */
static void *writer_main(void *arg)
{
    logmgr *lm = arg;
    struct seg *segs = NULL;
    size_t cap = 0;
    int timer_set = 0;
    struct timespec deadline = {0, 0};

    pthread_mutex_lock(&lm->mu);
    for (;;) {
        if (lm->stop && (lm->abandon || lm->failed || lm->end_lsn == lm->written_lsn))
            break;
        if (lm->failed) {
            pthread_cond_wait(&lm->writer_cv, &lm->mu);
            continue;
        }
        if (lm->end_lsn == lm->written_lsn) {
            timer_set = 0;
            lm->writer_idle = 1;
            pthread_cond_wait(&lm->writer_cv, &lm->mu);
            lm->writer_idle = 0;
            continue;
        }
        /* committers lead their own rounds (wait_durable), so a waiting
         * committer is no reason to go: only space, closing, or the timer */
        int go = lm->stop || lm->space_waiters || lm->end_lsn - lm->written_lsn >= lm->B / 2;
        if (!go) {
            /* unflushed data: flush it within 100 ms of the writer seeing it.
             * It does not wait on flush_cv here, which every round wakes. */
            if (!timer_set) {
                deadline = deadline_in(FLUSH_INTERVAL_NS);
                timer_set = 1;
            }
            if (!past(&deadline)) {
                pthread_cond_timedwait(&lm->writer_cv, &lm->mu, &deadline);
                continue;
            }
        }
        if (lm->flushing) {
            /* someone's round is under way: look again when it ends */
            pthread_cond_wait(&lm->flush_cv, &lm->mu);
            continue;
        }
        timer_set = 0;
        flush_round(lm, &segs, &cap);
    }
    wake_flush_waiters(lm);
    pthread_mutex_unlock(&lm->mu);
    free(segs);
    return NULL;
}

lsn_t log_end_lsn(logmgr *lm)
{
    pthread_mutex_lock(&lm->mu);
    lsn_t v = lm->end_lsn;
    pthread_mutex_unlock(&lm->mu);
    return v;
}

lsn_t log_durable_lsn(logmgr *lm)
{
    pthread_mutex_lock(&lm->mu);
    lsn_t v = lm->durable_lsn;
    pthread_mutex_unlock(&lm->mu);
    return v;
}

int log_failed(logmgr *lm, hdb_err *detail)
{
    pthread_mutex_lock(&lm->mu);
    int f = lm->failed;
    if (f && detail)
        *detail = lm->fail_err;
    pthread_mutex_unlock(&lm->mu);
    return f;
}

void log_get_stats(logmgr *lm, log_stats *st)
{
    pthread_mutex_lock(&lm->mu);
    *st = lm->st;
    pthread_mutex_unlock(&lm->mu);
}

/* ---- master record, truncation ------------------------------------------- */

/* Rewrite the master block with ckpt/trunc (master_mu held). */
static int write_master(logmgr *lm, lsn_t ckpt, lsn_t trunc, hdb_err *err)
{
    lf_master m = { .vlf_size = lm->V, .ckpt_lsn = ckpt, .trunc_lsn = trunc,
                    .gen = lm->master_gen + 1, .log_id = lm->log_id,
                    .restore_lsn = lm->restore_lsn, .restore_state = lm->restore_state };
    hdb_err e = {0};
    int rc = lf_write_master(lm->f, &m, &e);
    pthread_mutex_lock(&lm->mu);
    lm->st.master_writes++;
    if (rc < 0) {
        fail_locked(lm, &e);
        pthread_mutex_unlock(&lm->mu);
        return raise_unavailable(lm, err);
    }
    lm->master_gen = m.gen;
    lm->ckpt_lsn = ckpt;
    lm->trunc_lsn = trunc;
    lm->trunc_seq = trunc / lm->V;   /* slots below become reusable only now */
    pthread_mutex_unlock(&lm->mu);
    return 0;
}

int log_set_checkpoint(logmgr *lm, lsn_t ckpt_lsn, hdb_err *err)
{
    /* recovery starts at ckpt_lsn, so that record must be durable first */
    if (ckpt_lsn && log_flush_to(lm, ckpt_lsn, err) < 0)
        return -1;
    pthread_mutex_lock(&lm->master_mu);
    pthread_mutex_lock(&lm->mu);
    int failed = lm->failed;
    lsn_t trunc = lm->trunc_lsn, end = lm->end_lsn;
    pthread_mutex_unlock(&lm->mu);
    int rc;
    if (failed)
        rc = raise_unavailable(lm, err);
    else if (ckpt_lsn && (ckpt_lsn < trunc || ckpt_lsn >= end))
        rc = hdb_raise(err, 40000, "The checkpoint LSN is outside the log.");
    else
        rc = write_master(lm, ckpt_lsn, trunc, err);
    pthread_mutex_unlock(&lm->master_mu);
    return rc;
}

lsn_t log_checkpoint_lsn(logmgr *lm)
{
    pthread_mutex_lock(&lm->mu);
    lsn_t v = lm->ckpt_lsn;
    pthread_mutex_unlock(&lm->mu);
    return v;
}

int log_truncate_before(logmgr *lm, lsn_t lsn, hdb_err *err)
{
    pthread_mutex_lock(&lm->master_mu);
    pthread_mutex_lock(&lm->mu);
    int failed = lm->failed;
    lsn_t dur = lm->durable_lsn, old = lm->trunc_lsn, ckpt = lm->ckpt_lsn;
    pthread_mutex_unlock(&lm->mu);
    int rc = 0;
    if (failed) {
        rc = raise_unavailable(lm, err);
        goto out;
    }
    /* never past the durable end, nor past the checkpoint recovery starts at */
    lsn_t l = lsn < dur ? lsn : dur;
    if (ckpt && l > ckpt)
        l = ckpt;
    /* the VLF holding l must have a durable header: when the durable end sits
     * exactly on a VLF boundary, keep the VLF before it */
    uint64_t last = (dur - 1) / lm->V;
    if (l / lm->V > last)
        l = last * lm->V + LOG_VLF_HEADER;
    if (l > old)
        rc = write_master(lm, ckpt, l, err);
out:
    pthread_mutex_unlock(&lm->master_mu);
    return rc;
}

lsn_t log_truncation_lsn(logmgr *lm)
{
    pthread_mutex_lock(&lm->mu);
    lsn_t v = lm->trunc_lsn;
    pthread_mutex_unlock(&lm->mu);
    return v;
}

/* ---- restore support ------------------------------------------------------- */

int log_set_restore_state(logmgr *lm, uint32_t state, lsn_t lsn, hdb_err *err)
{
    pthread_mutex_lock(&lm->master_mu);
    pthread_mutex_lock(&lm->mu);
    lsn_t ckpt = lm->ckpt_lsn, trunc = lm->trunc_lsn;
    uint32_t old_state = lm->restore_state;
    lsn_t old_lsn = lm->restore_lsn;
    lm->restore_state = state;
    lm->restore_lsn = lsn;
    pthread_mutex_unlock(&lm->mu);
    int rc = write_master(lm, ckpt, trunc, err);
    if (rc < 0) {
        pthread_mutex_lock(&lm->mu);
        lm->restore_state = old_state;
        lm->restore_lsn = old_lsn;
        pthread_mutex_unlock(&lm->mu);
    }
    pthread_mutex_unlock(&lm->master_mu);
    return rc;
}

uint32_t log_restore_state(logmgr *lm, lsn_t *lsn)
{
    pthread_mutex_lock(&lm->mu);
    uint32_t st = lm->restore_state;
    if (lsn)
        *lsn = lm->restore_lsn;
    pthread_mutex_unlock(&lm->mu);
    return st & 0xffff;
}

uint32_t log_restore_flags(logmgr *lm)
{
    pthread_mutex_lock(&lm->mu);
    uint32_t st = lm->restore_state;
    pthread_mutex_unlock(&lm->mu);
    return st >> 16;
}

lsn_t log_append_restored(logmgr *lm, const log_rec *rec, hdb_err *err)
{
    /* where an ordinary append would put it: records are placed by length
     * alone, so a contiguous run of records lands where it was written */
    pthread_mutex_lock(&lm->mu);
    lsn_t vend = (lm->cur_seq + 1) * lm->V;
    lsn_t at = lm->end_lsn + rec->len > vend ? vend + LOG_VLF_HEADER : lm->end_lsn;
    pthread_mutex_unlock(&lm->mu);
    if (at != rec->lsn || rec->len != lf_align8(LOG_REC_HEADER + (uint64_t)rec->body_len)) {
        char t[200];
        snprintf(t, sizeof t, "The restored log record at LSN %" PRIu64 " does not continue the log "
                 "(which continues at %" PRIu64 ").", (uint64_t)rec->lsn, (uint64_t)at);
        hdb_raise(err, 40000, t);
        return 0;
    }
    log_rec c = *rec;
    lsn_t lsn = log_append(lm, &c, err);
    if (lsn && lsn != rec->lsn) {
        hdb_raise(err, 9004, lm->name);
        return 0;
    }
    return lsn;
}
