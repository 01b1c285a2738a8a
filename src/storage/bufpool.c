/*
 * bufpool.c — the shared buffer pool (see bufpool.h and storage/README.md).
 *
 * Frames. A fixed array of frames, each with its 8 KiB page, a pthread rwlock
 * latch, an atomic pin count, a clock reference bit and its identity (dbfiles
 * pointer + page id). A frame is "hashed" while it is reachable through the
 * page table; only hashed frames can be found, so only they can gain pins.
 *
 * Page table. Open hashing on (df, id); bucket b is guarded by stripe mutex
 * b % nstripes. A hashed frame's identity and chain link change only under its
 * stripe mutex, and a lookup pins under that mutex. So a hashed frame whose pin
 * count is 0 while its stripe mutex is held is quiescent: nobody holds its
 * latch, nobody is writing it, its dirty flag cannot change.
 *
 * Ownership. To claim a frame for a new page a thread moves its pin count from
 * 0 to 1 with a CAS (under the stripe mutex if the frame is hashed) and unhashes
 * it: from then on nobody else can reach it. An unhashed frame with pin count 0
 * is free. Frames that fail to load, or are discarded, become free when their
 * last pin goes.
 *
 * Dirty state. dirty, mod (a counter bumped by every bp_dirty) and rec_lsn are
 * guarded by the frame's meta mutex. A writer copies the page under a shared
 * latch, noting mod; after the write it clears dirty only if mod is unchanged,
 * so a change made while the copy was on its way to disk is never lost. Writes
 * of one frame are serialized by its io_mu: two overlapping writers could
 * otherwise land an older image after a newer one and still mark it clean.
 *
 * Lock order (outer first):
 *   caller's page latches
 *   -> frame io_mu          (only trylock when latches may be held)
 *   -> frame latch          (only trylock from inside the pool, except a
 *                            frame the thread owns exclusively)
 *   -> stripe mutex
 *   -> frame meta mutex
 *   writer mutex (wmu) is a leaf, taken with nothing else held.
 * Stripe mutex holders never block on anything but meta. No pool lock is held
 * while calling df_* except io_mu (around the WAL flush and page write) and the
 * X latch of a frame being loaded, which no one else can be waiting for with
 * a pool lock held.
 */
#include "storage/bufpool.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#define BP_MIN_FRAMES   16
#define BP_MAX_STRIPES  1024
/* How many dirty frames a fixing thread passes over (waking the background
 * writer) before it writes one itself: fixes rarely wait on a write, yet a
 * pool that is all dirty is not scanned end to end on every miss. */
#define BP_DIRTY_SKIPS  16
#define BP_WRITER_PERIOD_MS 1000
/* Without memory pressure the writer leaves a page alone until it has been
 * dirty this long: a checkpoint writes every dirty page anyway, and a hot page
 * written sooner is dirtied again at once (see the README's background writer). */
#define BP_TRICKLE_AGE_MS 30000

#define RELAXED memory_order_relaxed

struct bp_frame {
    pthread_rwlock_t latch;
    pthread_mutex_t  io_mu;
    pthread_mutex_t  meta;
    _Atomic int      pins;
    _Atomic int      ref;      /* clock: used since the hand last passed */
    _Atomic int      hashed;
    _Atomic int      valid;    /* page holds the page's contents */
    _Atomic int      dirty;    /* written under meta; read anywhere as a hint */
    _Atomic(dbfiles *) df;
    _Atomic pgid_t   id;
    _Atomic lsn_t    rec_lsn;  /* written under meta */
    _Atomic int64_t  dirtied_ms;  /* monotonic ms it went from clean to dirty; under meta */
    uint64_t         mod;      /* under meta */
    bp_frame        *next;     /* hash chain, under the stripe mutex */
    bufpool         *bp;
    uint8_t         *page;
};

struct bufpool {
    size_t            nframes;
    bp_frame         *frames;
    uint8_t          *mem;
    bp_frame        **buckets;
    size_t            bmask;
    pthread_mutex_t  *stripes;
    size_t            smask;
    _Atomic uint64_t  hand;
    _Atomic size_t    ndirty, nused;
    _Atomic uint64_t  hits, misses, reads, writes, evictions, write_errors;

    /* background writer */
    pthread_t         writer;
    int               writer_started;
    pthread_mutex_t   wmu;
    pthread_cond_t    wcv;        /* wakes the writer */
    pthread_cond_t    widle;      /* the writer finished a round */
    int               stop;       /* under wmu */
    int               busy;       /* under wmu: the writer is in a round */
    _Atomic int       kick;
    _Atomic int       pressed;    /* eviction passed over dirty frames since the writer looked */
    _Atomic unsigned  period_ms;  /* 0 = writer paused */
    _Atomic unsigned  trickle_age_ms;
    struct cand { lsn_t rec; uint32_t idx; } *cands;  /* writer thread only */
};

/* ---- page table ---------------------------------------------------------- */

static size_t bucket_of(const bufpool *bp, const dbfiles *df, pgid_t id)
{
    uint64_t h = (uint64_t)(uintptr_t)df * 0x9E3779B97F4A7C15ull;
    h ^= id + 0x7F4A7C159E3779B9ull + (h << 6) + (h >> 2);
    h ^= h >> 31;
    h *= 0xBF58476D1CE4E5B9ull;
    h ^= h >> 29;
    return (size_t)h & bp->bmask;
}

static pthread_mutex_t *stripe_of(bufpool *bp, size_t b) { return &bp->stripes[b & bp->smask]; }

/* Caller holds the bucket's stripe mutex. */
static bp_frame *lookup(bufpool *bp, size_t b, const dbfiles *df, pgid_t id)
{
    for (bp_frame *f = bp->buckets[b]; f; f = f->next)
        if (atomic_load_explicit(&f->df, RELAXED) == df && atomic_load_explicit(&f->id, RELAXED) == id)
            return f;
    return NULL;
}

/* Caller holds the stripe mutex; f is in bucket b. */
static void unhash(bufpool *bp, size_t b, bp_frame *f)
{
    bp_frame **pp = &bp->buckets[b];
    while (*pp != f)
        pp = &(*pp)->next;
    *pp = f->next;
    f->next = NULL;
    atomic_store(&f->hashed, 0);
    atomic_fetch_sub(&bp->nused, 1);
}

static void unpin(bp_frame *f) { atomic_fetch_sub(&f->pins, 1); }

/* Pin f if it is still hashed as a page of df (any page when df is NULL).
 * Used by scans that found f by walking the frame array. */
static int pin_if(bufpool *bp, bp_frame *f, const dbfiles *df)
{
    dbfiles *fdf = atomic_load(&f->df);
    pgid_t id = atomic_load(&f->id);
    if (!fdf || (df && fdf != df))
        return 0;
    size_t b = bucket_of(bp, fdf, id);
    pthread_mutex_t *s = stripe_of(bp, b);
    pthread_mutex_lock(s);
    int ok = atomic_load(&f->hashed) && atomic_load(&f->df) == fdf && atomic_load(&f->id) == id;
    if (ok)
        atomic_fetch_add(&f->pins, 1);
    pthread_mutex_unlock(s);
    return ok;
}

/* Drop the dirty state of a frame whose contents are being thrown away. */
static void forget_dirty(bufpool *bp, bp_frame *f)
{
    pthread_mutex_lock(&f->meta);
    if (atomic_load(&f->dirty)) {
        atomic_store(&f->dirty, 0);
        atomic_fetch_sub(&bp->ndirty, 1);
    }
    atomic_store(&f->rec_lsn, 0);
    pthread_mutex_unlock(&f->meta);
}

/* ---- writing ------------------------------------------------------------- */

/* Write f (pinned by the caller) if dirty. blocking = 0: give up (return 1)
 * rather than wait for its io_mu or latch, because the caller may hold other
 * latches. Returns 0 written or nothing to do, 1 skipped, -1 error (the frame
 * stays dirty). */
static int write_frame(bufpool *bp, bp_frame *f, int blocking, hdb_err *err)
{
    if (blocking)
        pthread_mutex_lock(&f->io_mu);
    else if (pthread_mutex_trylock(&f->io_mu) != 0)
        return 1;
    /* Discard unhashes before it waits on io_mu, so once we hold io_mu a
     * hashed frame's dbfiles is known to be alive for the whole write. */
    if (!atomic_load(&f->hashed) || !atomic_load(&f->valid) || !atomic_load(&f->dirty)) {
        pthread_mutex_unlock(&f->io_mu);
        return 0;
    }
    if (blocking)
        pthread_rwlock_rdlock(&f->latch);
    else if (pthread_rwlock_tryrdlock(&f->latch) != 0) {
        pthread_mutex_unlock(&f->io_mu);
        return 1;
    }
    pthread_mutex_lock(&f->meta);
    uint64_t mod = f->mod;
    pthread_mutex_unlock(&f->meta);
    /* Private copy: the latch is held only for the memcpy, never across I/O,
     * and df_write_page stamps the checksum into the copy, not the frame. */
    _Alignas(64) uint8_t buf[PAGE_SIZE];
    memcpy(buf, f->page, PAGE_SIZE);
    pthread_rwlock_unlock(&f->latch);

    dbfiles *df = atomic_load(&f->df);
    pgid_t id = atomic_load(&f->id);
    /* WAL rule: the log must be durable through this image's pageLSN BEFORE
     * the image reaches the data file. Otherwise a crash could leave on disk a
     * change whose log record (and so its undo information) was lost. */
    int rc = df_wal_flush(df, page_lsn(buf), err);
    if (rc == 0)
        rc = df_write_page(df, id, buf, err);
    if (rc == 0) {
        atomic_fetch_add(&bp->writes, 1);
        pthread_mutex_lock(&f->meta);
        if (f->mod == mod && atomic_load(&f->dirty)) {
            atomic_store(&f->dirty, 0);
            atomic_store(&f->rec_lsn, 0);
            atomic_fetch_sub(&bp->ndirty, 1);
        }
        pthread_mutex_unlock(&f->meta);
    } else {
        atomic_fetch_add(&bp->write_errors, 1);
    }
    pthread_mutex_unlock(&f->io_mu);
    return rc < 0 ? -1 : 0;
}

static int64_t now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* Fewer than 1/8 of the frames are free: misses will soon need victims, and
 * clean ones are what the writer can provide. */
static int nearly_full(bufpool *bp)
{
    return atomic_load_explicit(&bp->nused, RELAXED) + bp->nframes / 8 >= bp->nframes;
}

static void kick_writer(bufpool *bp)
{
    if (atomic_exchange(&bp->kick, 1))
        return;
    pthread_mutex_lock(&bp->wmu);
    pthread_cond_signal(&bp->wcv);
    pthread_mutex_unlock(&bp->wmu);
}

/* ---- eviction ------------------------------------------------------------ */

/* Reset a frame just claimed (pins == 1, unhashed). A holder may have dirtied
 * a discarded frame after discard; that change is being thrown away too. */
static bp_frame *claimed(bufpool *bp, bp_frame *f)
{
    forget_dirty(bp, f);
    atomic_store(&f->valid, 0);
    atomic_store(&f->ref, 0);
    return f;
}

/* Claim a frame for a new page: clock with second chance over unpinned frames.
 * Returns it pinned once, unhashed and clean; NULL with 802 (or the error of a
 * failed write of a dirty victim) when none can be freed. */
static bp_frame *claim_victim(bufpool *bp, hdb_err *err)
{
    /* Four sweeps: one to clear reference bits, the rest to find a frame that
     * stayed unused, tolerating frames that other threads touch meanwhile. */
    size_t limit = 4 * bp->nframes;
    int skips = 0, wfail = 0;
    hdb_err werr;
    hdb_err_clear(&werr);
    for (size_t step = 0; step < limit; step++) {
        bp_frame *f = &bp->frames[atomic_fetch_add_explicit(&bp->hand, 1, RELAXED) % bp->nframes];
        if (atomic_load(&f->pins))
            continue;
        int zero = 0;
        if (!atomic_load(&f->hashed)) {
            if (!atomic_compare_exchange_strong(&f->pins, &zero, 1))
                continue;
            if (!atomic_load(&f->hashed))
                return claimed(bp, f);
            unpin(f);  /* it was claimed, loaded and released under us */
            continue;
        }
        if (atomic_exchange(&f->ref, 0))
            continue;
        if (atomic_load(&f->dirty) && skips < BP_DIRTY_SKIPS) {
            skips++;
            atomic_store(&bp->pressed, 1);
            kick_writer(bp);
            continue;
        }
        dbfiles *df = atomic_load(&f->df);
        pgid_t id = atomic_load(&f->id);
        size_t b = bucket_of(bp, df, id);
        pthread_mutex_t *s = stripe_of(bp, b);
        pthread_mutex_lock(s);
        if (!atomic_load(&f->hashed) || atomic_load(&f->df) != df || atomic_load(&f->id) != id ||
            !atomic_compare_exchange_strong(&f->pins, &zero, 1)) {
            pthread_mutex_unlock(s);
            continue;
        }
        if (atomic_load(&f->dirty)) {
            /* Write it first (WAL rule inside). With our pin it cannot vanish. */
            pthread_mutex_unlock(s);
            int rc = write_frame(bp, f, 0, &werr);
            if (rc != 0) {
                wfail |= rc < 0;
                unpin(f);
                continue;
            }
            pthread_mutex_lock(s);
            if (atomic_load(&f->pins) != 1 || atomic_load(&f->dirty) || !atomic_load(&f->hashed)) {
                pthread_mutex_unlock(s);  /* someone wants it again, or re-dirtied it */
                unpin(f);
                continue;
            }
        }
        unhash(bp, b, f);
        pthread_mutex_unlock(s);
        atomic_fetch_add(&bp->evictions, 1);
        return claimed(bp, f);
    }
    if (wfail) {
        if (err)
            *err = werr;
        return NULL;
    }
    hdb_raise(err, 802);
    return NULL;
}

/* Give back a claimed frame that turned out not to be needed. */
static void release_claimed(bp_frame *f)
{
    atomic_store(&f->valid, 0);
    unpin(f);
}

/* ---- fix / unfix --------------------------------------------------------- */

static void latch(bp_frame *f, int mode)
{
    if (mode == BP_EXCL)
        pthread_rwlock_wrlock(&f->latch);
    else
        pthread_rwlock_rdlock(&f->latch);
}

bp_frame *bp_fix(bufpool *bp, dbfiles *df, pgid_t id, int mode, int flags, hdb_err *err)
{
    size_t b = bucket_of(bp, df, id);
    pthread_mutex_t *s = stripe_of(bp, b);
    for (;;) {
        pthread_mutex_lock(s);
        bp_frame *f = lookup(bp, b, df, id);
        if (f) {
            atomic_fetch_add(&f->pins, 1);
            pthread_mutex_unlock(s);
            atomic_store_explicit(&f->ref, 1, RELAXED);
            /* If another thread is reading the page in, it holds the X latch
             * until the I/O is over: waiting for the latch waits for the read. */
            latch(f, mode);
            if (atomic_load(&f->valid) && atomic_load(&f->hashed)) {
                /* checked under the latch: bp_wait_unlatched's promise */
                if (df_page_restore_pending(df, id, err)) {
                    bp_unfix(f);
                    return NULL;
                }
                atomic_fetch_add_explicit(&bp->hits, 1, RELAXED);
                return f;
            }
            /* Its read failed (or it was discarded): start over, reading it
             * ourselves so this caller gets an error of its own. */
            pthread_rwlock_unlock(&f->latch);
            unpin(f);
            continue;
        }
        pthread_mutex_unlock(s);

        bp_frame *v = claim_victim(bp, err);
        if (!v)
            return NULL;
        /* Latch before publishing: whoever finds it now waits for our read. */
        pthread_rwlock_wrlock(&v->latch);
        pthread_mutex_lock(s);
        if (lookup(bp, b, df, id)) {  /* another thread got here first */
            pthread_mutex_unlock(s);
            pthread_rwlock_unlock(&v->latch);
            release_claimed(v);
            continue;
        }
        atomic_store(&v->df, df);
        atomic_store(&v->id, id);
        v->next = bp->buckets[b];
        bp->buckets[b] = v;
        atomic_store(&v->hashed, 1);
        atomic_fetch_add(&bp->nused, 1);
        pthread_mutex_unlock(s);
        atomic_fetch_add_explicit(&bp->misses, 1, RELAXED);

        int bad;
        if (flags & BP_NOREAD) {
            /* not even a new page may appear where one is being restored */
            bad = df_page_restore_pending(df, id, err);
            memset(v->page, 0, PAGE_SIZE);
        } else {
            atomic_fetch_add_explicit(&bp->reads, 1, RELAXED);
            bad = df_read_page(df, id, v->page, err) < 0;
        }
        if (bad) {
            /* Never cache a bad page: unpublish, let waiters retry. */
            pthread_mutex_lock(s);
            if (atomic_load(&v->hashed))  /* a discard may have beaten us */
                unhash(bp, b, v);
            pthread_mutex_unlock(s);
            pthread_rwlock_unlock(&v->latch);
            release_claimed(v);
            return NULL;
        }
        atomic_store(&v->valid, 1);
        atomic_store_explicit(&v->ref, 1, RELAXED);
        if (mode == BP_EXCL)
            return v;
        /* No downgrade for rwlocks: reacquire shared. The pin keeps it ours. */
        pthread_rwlock_unlock(&v->latch);
        pthread_rwlock_rdlock(&v->latch);
        if (atomic_load(&v->hashed))
            return v;
        pthread_rwlock_unlock(&v->latch);  /* discarded in that instant */
        unpin(v);
    }
}

void bp_unfix(bp_frame *f)
{
    pthread_rwlock_unlock(&f->latch);
    unpin(f);
}

void *bp_page(bp_frame *f) { return f->page; }
pgid_t bp_id(const bp_frame *f) { return atomic_load_explicit(&f->id, RELAXED); }

void bp_dirty(bp_frame *f, lsn_t lsn)
{
    bufpool *bp = f->bp;
    /* the changed-extent map, before the frame is seen dirty: a checkpoint
     * that lists the page in its DPT finds the bit set (storage/README.md) */
    dcm_mark(df_dcm(atomic_load_explicit(&f->df, memory_order_relaxed)),
             atomic_load_explicit(&f->id, memory_order_relaxed));
    page_hdr(f->page)->lsn = lsn;
    size_t n = 0;
    pthread_mutex_lock(&f->meta);
    f->mod++;
    if (!atomic_load(&f->dirty)) {
        atomic_store(&f->rec_lsn, lsn);
        atomic_store(&f->dirtied_ms, now_ms());
        atomic_store(&f->dirty, 1);
        n = atomic_fetch_add(&bp->ndirty, 1) + 1;
    }
    pthread_mutex_unlock(&f->meta);
    if (n > bp->nframes / 4 && nearly_full(bp))
        kick_writer(bp);
}

/* ---- whole-database operations -------------------------------------------- */

int bp_flush_db(bufpool *bp, dbfiles *df, hdb_err *err)
{
    int failed = 0;
    for (size_t i = 0; i < bp->nframes; i++) {
        bp_frame *f = &bp->frames[i];
        if (atomic_load(&f->df) != df || !atomic_load(&f->dirty) || !pin_if(bp, f, df))
            continue;
        hdb_err tmp;
        /* Keep the first error for the caller, but write every other page. */
        if (write_frame(bp, f, 1, failed ? &tmp : err) < 0)
            failed = 1;
        unpin(f);
    }
    if (failed)
        return -1;
    return df_sync(df, err);
}

struct dpt_ent { pgid_t id; lsn_t rec; };

/* Snapshot (id, recLSN) of df's dirty frames; returns count, *out malloc'd. */
static size_t snapshot_dirty(bufpool *bp, dbfiles *df, struct dpt_ent **out)
{
    size_t n = 0, cap = 64;
    struct dpt_ent *v = malloc(cap * sizeof *v);
    for (size_t i = 0; v && i < bp->nframes; i++) {
        bp_frame *f = &bp->frames[i];
        if (atomic_load(&f->df) != df || !atomic_load(&f->dirty))
            continue;
        pgid_t id = atomic_load(&f->id);
        size_t b = bucket_of(bp, df, id);
        pthread_mutex_t *s = stripe_of(bp, b);
        pthread_mutex_lock(s);
        if (atomic_load(&f->hashed) && atomic_load(&f->df) == df && atomic_load(&f->id) == id) {
            pthread_mutex_lock(&f->meta);
            if (atomic_load(&f->dirty)) {
                if (n == cap) {
                    struct dpt_ent *nv = realloc(v, 2 * cap * sizeof *v);
                    if (!nv) {
                        pthread_mutex_unlock(&f->meta);
                        pthread_mutex_unlock(s);
                        break;
                    }
                    v = nv;
                    cap *= 2;
                }
                v[n].id = id;
                v[n].rec = atomic_load(&f->rec_lsn);
                n++;
            }
            pthread_mutex_unlock(&f->meta);
        }
        pthread_mutex_unlock(s);
    }
    *out = v;
    return n;
}

void bp_dirty_pages(bufpool *bp, dbfiles *df, void (*fn)(void *ctx, pgid_t id, lsn_t rec_lsn), void *ctx)
{
    struct dpt_ent *v;
    size_t n = snapshot_dirty(bp, df, &v);
    for (size_t i = 0; i < n; i++)  /* no lock held: fn may do anything */
        fn(ctx, v[i].id, v[i].rec);
    free(v);
}

lsn_t bp_min_rec_lsn(bufpool *bp, dbfiles *df)
{
    struct dpt_ent *v;
    size_t n = snapshot_dirty(bp, df, &v);
    lsn_t min = 0;
    for (size_t i = 0; i < n; i++)
        if (min == 0 || v[i].rec < min)
            min = v[i].rec;
    free(v);
    return min;
}

/* Unhash f if it still is page (df, id); then wait out a write in flight so
 * the caller may destroy df as soon as we return. */
static void discard_frame(bufpool *bp, bp_frame *f, dbfiles *df, pgid_t id)
{
    size_t b = bucket_of(bp, df, id);
    pthread_mutex_t *s = stripe_of(bp, b);
    pthread_mutex_lock(s);
    int mine = atomic_load(&f->hashed) && atomic_load(&f->df) == df && atomic_load(&f->id) == id;
    if (mine) {
        unhash(bp, b, f);
        atomic_store(&f->valid, 0);
        forget_dirty(bp, f);
    }
    pthread_mutex_unlock(s);
    if (mine) {
        pthread_mutex_lock(&f->io_mu);
        pthread_mutex_unlock(&f->io_mu);
    }
}

void bp_discard_db(bufpool *bp, dbfiles *df)
{
    for (size_t i = 0; i < bp->nframes; i++) {
        bp_frame *f = &bp->frames[i];
        if (atomic_load(&f->df) == df && atomic_load(&f->hashed))
            discard_frame(bp, f, df, atomic_load(&f->id));
    }
}

void bp_wait_unlatched(bufpool *bp, dbfiles *df, pgid_t id)
{
    size_t b = bucket_of(bp, df, id);
    pthread_mutex_t *s = stripe_of(bp, b);
    pthread_mutex_lock(s);
    bp_frame *f = lookup(bp, b, df, id);
    if (f)
        atomic_fetch_add(&f->pins, 1);
    pthread_mutex_unlock(s);
    if (!f)
        return;
    /* a holder keeps its X latch until its mtr is logged (log/mtr.h) */
    pthread_rwlock_wrlock(&f->latch);
    pthread_rwlock_unlock(&f->latch);
    unpin(f);
}

void bp_discard_page(bufpool *bp, dbfiles *df, pgid_t id)
{
    size_t b = bucket_of(bp, df, id);
    pthread_mutex_t *s = stripe_of(bp, b);
    pthread_mutex_lock(s);
    bp_frame *f = lookup(bp, b, df, id);
    pthread_mutex_unlock(s);
    if (f)
        discard_frame(bp, f, df, id);  /* rechecks the identity under the mutex */
}

void bp_get_stats(bufpool *bp, bp_stats *out)
{
    out->frames = bp->nframes;
    out->used = atomic_load(&bp->nused);
    out->dirty = atomic_load(&bp->ndirty);
    out->hits = atomic_load(&bp->hits);
    out->misses = atomic_load(&bp->misses);
    out->reads = atomic_load(&bp->reads);
    out->writes = atomic_load(&bp->writes);
    out->evictions = atomic_load(&bp->evictions);
}

uint64_t bp_write_errors(bufpool *bp) { return atomic_load(&bp->write_errors); }

/* ---- background writer ---------------------------------------------------- */

static int cand_cmp(const void *a, const void *b)
{
    const struct cand *x = a, *y = b;
    return x->rec < y->rec ? -1 : x->rec > y->rec;
}

/* Write up to `max` frames dirty for at least `min_age_ms`, oldest recLSN
 * first (that is what lets the next checkpoint's minimum recLSN, and so log
 * truncation, move forward). Returns how many were written. Frames latched
 * exclusively are skipped. */
static size_t write_batch(bufpool *bp, size_t max, unsigned min_age_ms)
{
    size_t n = 0;
    int64_t born_by = now_ms() - (int64_t)min_age_ms;
    for (size_t i = 0; i < bp->nframes; i++) {
        bp_frame *f = &bp->frames[i];
        if (atomic_load(&f->dirty) && atomic_load(&f->hashed) && atomic_load(&f->valid) &&
            (!min_age_ms || atomic_load_explicit(&f->dirtied_ms, RELAXED) <= born_by)) {
            bp->cands[n].rec = atomic_load(&f->rec_lsn);
            bp->cands[n].idx = (uint32_t)i;
            n++;
        }
    }
    qsort(bp->cands, n, sizeof bp->cands[0], cand_cmp);
    size_t done = 0;
    for (size_t i = 0; i < n && done < max && atomic_load(&bp->period_ms); i++) {
        bp_frame *f = &bp->frames[bp->cands[i].idx];
        if (!pin_if(bp, f, NULL))
            continue;
        /* Errors stay with the page (still dirty); a checkpoint will report. */
        if (write_frame(bp, f, 0, NULL) == 0)
            done++;
        unpin(f);
    }
    return done;
}

static void *writer_main(void *arg)
{
    bufpool *bp = arg;
    size_t hi = bp->nframes / 4, lo = bp->nframes / 8;
    size_t batch = bp->nframes / 16 > 64 ? bp->nframes / 16 : 64;
    pthread_mutex_lock(&bp->wmu);
    while (!bp->stop) {
        unsigned period = atomic_load(&bp->period_ms);
        if (period == 0) {
            pthread_cond_wait(&bp->wcv, &bp->wmu);  /* paused: kicks are ignored */
            continue;
        }
        if (!atomic_load(&bp->kick)) {
            struct timespec ts;
            clock_gettime(CLOCK_MONOTONIC, &ts);
            ts.tv_sec += period / 1000;
            ts.tv_nsec += (long)(period % 1000) * 1000000L;
            if (ts.tv_nsec >= 1000000000L) {
                ts.tv_sec++;
                ts.tv_nsec -= 1000000000L;
            }
            pthread_cond_timedwait(&bp->wcv, &bp->wmu, &ts);
        }
        if (bp->stop || atomic_load(&bp->period_ms) == 0)
            continue;
        atomic_store(&bp->kick, 0);
        bp->busy = 1;
        pthread_mutex_unlock(&bp->wmu);
        /* Under memory pressure (eviction met dirty frames, or few frames are
         * free) and over the high-water mark: write until well below it;
         * under pressure otherwise, one batch. Without pressure (the periodic
         * tick) one batch of the pages dirty for a long time, so they trickle
         * out before the checkpoint without rewriting hot pages every tick. */
        int pressure = atomic_exchange(&bp->pressed, 0) || nearly_full(bp);
        size_t wrote;
        if (pressure && atomic_load(&bp->ndirty) > hi) {
            do
                wrote = write_batch(bp, batch, 0);
            while (wrote > 0 && atomic_load(&bp->ndirty) > lo && atomic_load(&bp->period_ms));
        } else if (atomic_load(&bp->ndirty) > 0) {
            write_batch(bp, batch, pressure ? 0 : atomic_load(&bp->trickle_age_ms));
        }
        pthread_mutex_lock(&bp->wmu);
        bp->busy = 0;
        pthread_cond_broadcast(&bp->widle);
    }
    pthread_mutex_unlock(&bp->wmu);
    return NULL;
}

void bp_set_trickle_age(bufpool *bp, unsigned ms) { atomic_store(&bp->trickle_age_ms, ms); }

void bp_set_writer_period(bufpool *bp, unsigned ms)
{
    pthread_mutex_lock(&bp->wmu);
    atomic_store(&bp->period_ms, ms);
    pthread_cond_signal(&bp->wcv);
    while (ms == 0 && bp->busy)  /* paused means: no write of ours after return */
        pthread_cond_wait(&bp->widle, &bp->wmu);
    pthread_mutex_unlock(&bp->wmu);
}

/* ---- create / destroy ----------------------------------------------------- */

static void free_pool(bufpool *bp)
{
    if (bp->frames) {
        for (size_t i = 0; i < bp->nframes; i++) {
            pthread_rwlock_destroy(&bp->frames[i].latch);
            pthread_mutex_destroy(&bp->frames[i].io_mu);
            pthread_mutex_destroy(&bp->frames[i].meta);
        }
    }
    if (bp->stripes)
        for (size_t i = 0; i <= bp->smask; i++)
            pthread_mutex_destroy(&bp->stripes[i]);
    pthread_mutex_destroy(&bp->wmu);
    pthread_cond_destroy(&bp->wcv);
    pthread_cond_destroy(&bp->widle);
    free(bp->frames);
    free(bp->mem);
    free(bp->buckets);
    free(bp->stripes);
    free(bp->cands);
    free(bp);
}

static size_t pow2_at_least(size_t n)
{
    size_t p = 1;
    while (p < n)
        p <<= 1;
    return p;
}

#define BP_HUGE_PAGE (2u << 20)

bufpool *bp_create(size_t bytes, hdb_err *err)
{
    size_t n = bytes / PAGE_SIZE;
    if (n < BP_MIN_FRAMES)
        n = BP_MIN_FRAMES;
    if (n > UINT32_MAX)
        n = UINT32_MAX;
    bufpool *bp = calloc(1, sizeof *bp);
    if (!bp) {
        hdb_raise(err, 802);
        return NULL;
    }
    bp->nframes = n;
    size_t nb = pow2_at_least(2 * n), ns = pow2_at_least(n / 4 < BP_MAX_STRIPES ? n / 4 : BP_MAX_STRIPES);
    bp->bmask = nb - 1;
    bp->smask = ns - 1;
    atomic_init(&bp->period_ms, BP_WRITER_PERIOD_MS);
    atomic_init(&bp->trickle_age_ms, BP_TRICKLE_AGE_MS);
    pthread_mutex_init(&bp->wmu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&bp->wcv, &ca);
    pthread_cond_init(&bp->widle, NULL);
    pthread_condattr_destroy(&ca);
    /* Transparent huge pages for the frames: the first touch of each 4 KB of
     * an empty pool is a page fault, which made up a third of redo's time
     * after a restart (perf); in 2 MB pages that is 512 times fewer faults. */
    void *mem = NULL;
    if (posix_memalign(&mem, BP_HUGE_PAGE, n * PAGE_SIZE) != 0)
        mem = NULL;
    else
        madvise(mem, n * PAGE_SIZE, MADV_HUGEPAGE);   /* advice only: failure is harmless */
    bp->mem = mem;
    bp->frames = calloc(n, sizeof *bp->frames);
    bp->buckets = calloc(nb, sizeof *bp->buckets);
    bp->stripes = calloc(ns, sizeof *bp->stripes);
    bp->cands = calloc(n, sizeof *bp->cands);
    if (!bp->mem || !bp->frames || !bp->buckets || !bp->stripes || !bp->cands) {
        free(bp->frames);  /* nothing initialized in them yet */
        bp->frames = NULL;
        free(bp->stripes);
        bp->stripes = NULL;
        free_pool(bp);
        hdb_raise(err, 802);
        return NULL;
    }
    for (size_t i = 0; i < ns; i++)
        pthread_mutex_init(&bp->stripes[i], NULL);
    /* Writer-preferring latches: an X request (a page split, say) is not
     * starved by a stream of readers. The cost: a thread must never take the
     * same latch twice (a queued writer would deadlock it). */
    pthread_rwlockattr_t ra;
    pthread_rwlockattr_init(&ra);
    pthread_rwlockattr_setkind_np(&ra, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
    for (size_t i = 0; i < n; i++) {
        bp_frame *f = &bp->frames[i];
        pthread_rwlock_init(&f->latch, &ra);
        pthread_mutex_init(&f->io_mu, NULL);
        pthread_mutex_init(&f->meta, NULL);
        f->bp = bp;
        f->page = bp->mem + i * PAGE_SIZE;
    }
    pthread_rwlockattr_destroy(&ra);
    if (pthread_create(&bp->writer, NULL, writer_main, bp) != 0) {
        free_pool(bp);
        hdb_raise(err, 802);
        return NULL;
    }
    bp->writer_started = 1;
    return bp;
}

void bp_destroy(bufpool *bp)
{
    if (!bp)
        return;
    if (bp->writer_started) {
        pthread_mutex_lock(&bp->wmu);
        bp->stop = 1;
        pthread_cond_signal(&bp->wcv);
        pthread_mutex_unlock(&bp->wmu);
        pthread_join(bp->writer, NULL);
    }
    free_pool(bp);
}
