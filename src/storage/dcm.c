/*
 * dcm.c — the changed-extent map (see dcm.h for the contract and
 * storage/README.md for why it never misses a change).
 *
 * Two generations g[0], g[1]; `state` says which is current and whether the
 * other is being filled by a full backup. dcm_mark loads `state` once and sets
 * the bit in the generation(s) it names, so a generation change is one atomic
 * store, and a mark lands in the old generation, both, or the new one —
 * never in neither:
 *
 *   dcm_next_begin   empty the other generation, then state = cur | NEXT
 *                    (release: a writer that sees NEXT sees it emptied)
 *   dcm_next_end     state = other (kept) or cur (dropped)
 *
 * A writer still holding an older `state` may set a bit in a generation that
 * is no longer current: that is a spare, emptied again before it is used, or
 * at worst it gains one extra bit. Memory of either generation is freed only
 * by dcm_free, so such a late write is always to live memory.
 *
 * `mu` serializes what reads or replaces a whole generation (copies, saves,
 * loads, generation changes); writers never take it.
 */
#include "storage/dcm.h"

#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "os/fio.h"
#include "util/crc32c.h"

#define CHUNK_SHIFT 18                                 /* extents per chunk */
#define CHUNK_BITS  (1u << CHUNK_SHIFT)
#define CHUNK_WORDS (CHUNK_BITS / 64)
#define DIR_SIZE    (1u << (32 - 3 - CHUNK_SHIFT))     /* 2^32 pages = 2^29 extents */

#define FILE_MAGIC   0x4D434448u                       /* "HDCM" */
#define FILE_VERSION 1
#define FILE_HEADER  40
#define FILE_MAX     ((int64_t)1 << 30)

typedef _Atomic uint64_t word;

typedef struct dir {
    _Atomic(word *) chunk[DIR_SIZE];
} dir;

typedef struct gen {
    _Atomic(dir *) files[DCM_MAX_FILE + 1];
    _Atomic int    all;
    lsn_t          base;      /* under mu */
} gen;

enum { CUR = 1, NEXT = 2 };

struct dcm {
    _Atomic unsigned state;   /* bit 0: the current generation; NEXT: the other is being filled */
    gen              g[2];
    pthread_mutex_t  mu;
    pthread_mutex_t  save_mu; /* one dcm_save at a time (they share the .tmp file) */
};

dcm *dcm_create(void)
{
    dcm *m = calloc(1, sizeof *m);
    if (m) {
        pthread_mutex_init(&m->mu, NULL);
        pthread_mutex_init(&m->save_mu, NULL);
    }
    return m;
}

void dcm_free(dcm *m)
{
    if (!m)
        return;
    for (int k = 0; k < 2; k++)
        for (int f = 0; f <= DCM_MAX_FILE; f++) {
            dir *d = atomic_load(&m->g[k].files[f]);
            if (!d)
                continue;
            for (uint32_t c = 0; c < DIR_SIZE; c++)
                free(atomic_load(&d->chunk[c]));
            free(d);
        }
    pthread_mutex_destroy(&m->mu);
    pthread_mutex_destroy(&m->save_mu);
    free(m);
}

/* The chunk holding extent bits [ci << CHUNK_SHIFT, ...) of `file`; created
 * on first use when `create` (NULL if memory runs out). */
static word *chunk_of(gen *g, uint32_t file, uint32_t ci, int create)
{
    dir *d = atomic_load_explicit(&g->files[file], memory_order_acquire);
    if (!d) {
        dir *n = create ? calloc(1, sizeof *n) : NULL;
        if (!n)
            return NULL;
        if (atomic_compare_exchange_strong(&g->files[file], &d, n))
            d = n;
        else
            free(n);
    }
    word *c = atomic_load_explicit(&d->chunk[ci], memory_order_acquire);
    if (!c && create) {
        word *n = calloc(CHUNK_WORDS, sizeof *n);
        if (!n)
            return NULL;
        if (atomic_compare_exchange_strong(&d->chunk[ci], &c, n))
            c = n;
        else
            free(n);
    }
    return c;
}

static void gen_set(gen *g, pgid_t id)
{
    if (atomic_load_explicit(&g->all, memory_order_relaxed))
        return;
    uint32_t file = PGID_FILE(id), ext = PGID_PAGE(id) / DCM_EXTENT_PAGES;
    word *c = file <= DCM_MAX_FILE ? chunk_of(g, file, ext >> CHUNK_SHIFT, 1) : NULL;
    if (!c) {
        atomic_store(&g->all, 1);   /* no memory for the bit: count everything as changed */
        return;
    }
    word *w = &c[(ext & (CHUNK_BITS - 1)) / 64];
    uint64_t bit = (uint64_t)1 << (ext % 64);
    /* usually set already: a load, no write to a shared line */
    if (!(atomic_load_explicit(w, memory_order_relaxed) & bit))
        atomic_fetch_or_explicit(w, bit, memory_order_relaxed);
}

void dcm_mark(dcm *m, pgid_t id)
{
    unsigned s = atomic_load_explicit(&m->state, memory_order_acquire);
    gen_set(&m->g[s & CUR], id);
    if (s & NEXT)
        gen_set(&m->g[(s & CUR) ^ 1], id);
}

static const gen *cur_gen(const dcm *m)
{
    return &m->g[atomic_load_explicit(&m->state, memory_order_acquire) & CUR];
}

int dcm_changed(const dcm *m, pgid_t id)
{
    gen *g = (gen *)cur_gen(m);
    if (atomic_load(&g->all))
        return 1;
    uint32_t file = PGID_FILE(id), ext = PGID_PAGE(id) / DCM_EXTENT_PAGES;
    if (file > DCM_MAX_FILE)
        return 1;
    word *c = chunk_of(g, file, ext >> CHUNK_SHIFT, 0);
    return c && (atomic_load_explicit(&c[(ext & (CHUNK_BITS - 1)) / 64], memory_order_relaxed) >> (ext % 64)) & 1;
}

uint64_t dcm_count(const dcm *m)
{
    const gen *g = cur_gen(m);
    if (atomic_load(&g->all))
        return UINT64_MAX;
    uint64_t n = 0;
    for (int f = 0; f <= DCM_MAX_FILE; f++) {
        dir *d = atomic_load(&g->files[f]);
        for (uint32_t c = 0; d && c < DIR_SIZE; c++) {
            word *w = atomic_load(&d->chunk[c]);
            for (uint32_t i = 0; w && i < CHUNK_WORDS; i++)
                n += (uint64_t)__builtin_popcountll(atomic_load_explicit(&w[i], memory_order_relaxed));
        }
    }
    return n;
}

void dcm_mark_all(dcm *m)
{
    pthread_mutex_lock(&m->mu);
    atomic_store(&((gen *)cur_gen(m))->all, 1);
    pthread_mutex_unlock(&m->mu);
}

int dcm_is_all(const dcm *m) { return atomic_load(&cur_gen(m)->all); }

lsn_t dcm_base(const dcm *m)
{
    pthread_mutex_lock((pthread_mutex_t *)&m->mu);
    lsn_t b = cur_gen(m)->base;
    pthread_mutex_unlock((pthread_mutex_t *)&m->mu);
    return b;
}

/* Under mu, on a generation no writer is told about (the spare, before
 * dcm_next_begin publishes it) or while nothing writes (reset, load). */
static void gen_clear(gen *g)
{
    atomic_store(&g->all, 0);
    for (int f = 0; f <= DCM_MAX_FILE; f++) {
        dir *d = atomic_load(&g->files[f]);
        for (uint32_t c = 0; d && c < DIR_SIZE; c++) {
            word *w = atomic_load(&d->chunk[c]);
            for (uint32_t i = 0; w && i < CHUNK_WORDS; i++)
                atomic_store_explicit(&w[i], 0, memory_order_relaxed);
        }
    }
}

/* OR the words of src into dst (both generations of live maps or copies). */
static void gen_or(gen *dst, const gen *src)
{
    if (atomic_load(&src->all)) {
        atomic_store(&dst->all, 1);
        return;
    }
    for (uint32_t f = 0; f <= DCM_MAX_FILE; f++) {
        dir *d = atomic_load(&((gen *)src)->files[f]);
        for (uint32_t c = 0; d && c < DIR_SIZE; c++) {
            word *w = atomic_load(&d->chunk[c]), *o = NULL;
            for (uint32_t i = 0; w && i < CHUNK_WORDS; i++) {
                uint64_t v = atomic_load_explicit(&w[i], memory_order_relaxed);
                if (!v)
                    continue;
                if (!o && !(o = chunk_of(dst, f, c, 1))) {
                    atomic_store(&dst->all, 1);
                    return;
                }
                atomic_fetch_or_explicit(&o[i], v, memory_order_relaxed);
            }
        }
    }
}

void dcm_reset(dcm *m, lsn_t base)
{
    pthread_mutex_lock(&m->mu);
    unsigned s = atomic_load(&m->state) & CUR;
    gen_clear(&m->g[s]);
    m->g[s].base = base;
    atomic_store(&m->state, s);
    pthread_mutex_unlock(&m->mu);
}

void dcm_merge(dcm *dst, const dcm *src)
{
    pthread_mutex_lock(&dst->mu);
    gen_or((gen *)cur_gen(dst), cur_gen(src));
    pthread_mutex_unlock(&dst->mu);
}

dcm *dcm_copy(dcm *m)
{
    dcm *c = dcm_create();
    if (!c)
        return NULL;
    pthread_mutex_lock(&m->mu);
    const gen *g = cur_gen(m);
    c->g[0].base = g->base;
    gen_or(&c->g[0], g);
    pthread_mutex_unlock(&m->mu);
    return c;
}

int dcm_next_begin(dcm *m)
{
    pthread_mutex_lock(&m->mu);
    unsigned s = atomic_load(&m->state);
    int rc = -1;
    if (!(s & NEXT)) {
        gen_clear(&m->g[(s & CUR) ^ 1]);
        atomic_store_explicit(&m->state, s | NEXT, memory_order_seq_cst);
        rc = 0;
    }
    pthread_mutex_unlock(&m->mu);
    return rc;
}

void dcm_next_end(dcm *m, int keep, lsn_t base)
{
    pthread_mutex_lock(&m->mu);
    unsigned s = atomic_load(&m->state);
    if (s & NEXT) {
        unsigned next = (s & CUR) ^ 1;
        if (keep)
            m->g[next].base = base;
        atomic_store(&m->state, keep ? next : (s & CUR));
    }
    pthread_mutex_unlock(&m->mu);
}

/* ---- the map file ----------------------------------------------------------- */

static void put16(uint8_t *p, uint16_t v) { memcpy(p, &v, 2); }
static void put32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }
static void put64(uint8_t *p, uint64_t v) { memcpy(p, &v, 8); }
static uint16_t get16(const uint8_t *p) { uint16_t v; memcpy(&v, p, 2); return v; }
static uint32_t get32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return v; }
static uint64_t get64(const uint8_t *p) { uint64_t v; memcpy(&v, p, 8); return v; }

/* Words of a chunk up to its last non-zero one. */
static uint32_t used_words(word *w)
{
    uint32_t n = CHUNK_WORDS;
    while (n && !atomic_load_explicit(&w[n - 1], memory_order_relaxed))
        n--;
    return n;
}

/* The current generation as the file's bytes (caller holds mu). Writers may
 * add bits meanwhile; a bit for a change logged before `covered` is there
 * already (see storage/README.md), so what the sizing pass saw is enough. */
static uint8_t *encode(const gen *g, uint64_t owner, lsn_t covered, size_t *len)
{
    int all = atomic_load(&g->all);
    struct rec { uint16_t f, c; uint32_t n; word *w; } *recs = NULL;
    size_t nrec = 0, cap = 0, size = FILE_HEADER + 4;
    for (int f = 0; f <= DCM_MAX_FILE && !all; f++) {
        dir *d = atomic_load(&((gen *)g)->files[f]);
        for (uint32_t c = 0; d && c < DIR_SIZE; c++) {
            word *w = atomic_load(&d->chunk[c]);
            uint32_t n = w ? used_words(w) : 0;
            if (!n)
                continue;
            if (nrec == cap) {
                cap = cap ? cap * 2 : 16;
                struct rec *r = realloc(recs, cap * sizeof *r);
                if (!r) {
                    free(recs);
                    return NULL;
                }
                recs = r;
            }
            recs[nrec++] = (struct rec){ (uint16_t)f, (uint16_t)c, n, w };
            size += 8 + (size_t)n * 8;
        }
    }
    uint8_t *b = calloc(1, size);
    if (!b) {
        free(recs);
        return NULL;
    }
    put32(b, FILE_MAGIC);
    put16(b + 4, FILE_VERSION);
    put16(b + 6, all ? 1 : 0);
    put64(b + 8, owner);
    put64(b + 16, covered);
    put64(b + 24, g->base);
    put32(b + 32, (uint32_t)nrec);
    uint8_t *p = b + FILE_HEADER;
    for (size_t r = 0; r < nrec; r++) {
        put16(p, recs[r].f);
        put16(p + 2, recs[r].c);
        put32(p + 4, recs[r].n);
        p += 8;
        for (uint32_t i = 0; i < recs[r].n; i++, p += 8)
            put64(p, atomic_load_explicit(&recs[r].w[i], memory_order_relaxed));
    }
    free(recs);
    put32(p, crc32c(0, b, size - 4));
    *len = size;
    return b;
}

static int save_locked(dcm *m, const char *path, uint64_t owner, lsn_t covered, hdb_err *err)
{
    pthread_mutex_lock(&m->mu);
    size_t len = 0;
    uint8_t *b = encode(cur_gen(m), owner, covered, &len);
    pthread_mutex_unlock(&m->mu);
    if (!b)
        return hdb_raise_text(err, 701, 19, 1, "There is insufficient system memory to run this query.");
    char tmp[PATH_MAX + 8];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    unlink(tmp);
    fio_file *f = fio_open(tmp, FIO_CREATE | FIO_EXCL, err);
    int rc = f ? 0 : -1;
    /* fdatasync before the rename: the name never points at a partial map
     * (a damaged map would only cost a whole-database differential) */
    if (rc == 0)
        rc = fio_pwrite(f, b, len, 0, err);
    if (rc == 0)
        rc = fio_sync(f, err);
    fio_close(f);
    free(b);
    if (rc == 0 && rename(tmp, path) < 0)
        rc = hdb_raise_text(err, 3634, 16, 1, "The operating system could not rename the changed-extent map.");
    if (rc < 0) {
        unlink(tmp);
        return -1;
    }
    return fio_sync_parent(path, err);
}

int dcm_save(dcm *m, const char *path, uint64_t owner, lsn_t covered, hdb_err *err)
{
    pthread_mutex_lock(&m->save_mu);
    int rc = save_locked(m, path, owner, covered, err);
    pthread_mutex_unlock(&m->save_mu);
    return rc;
}

/* The file's bytes, checked: NULL unless intact, of this version and owner. */
static uint8_t *read_checked(const char *path, uint64_t owner, size_t *len)
{
    hdb_err e;
    fio_file *f = fio_open(path, FIO_RDONLY, &e);
    if (!f)
        return NULL;
    int64_t size = fio_size(f);
    uint8_t *b = size >= FILE_HEADER + 4 && size <= FILE_MAX ? malloc((size_t)size) : NULL;
    int ok = b && fio_pread(f, b, (size_t)size, 0, &e) == 0;
    fio_close(f);
    ok = ok && get32(b + size - 4) == crc32c(0, b, (size_t)size - 4) && get32(b) == FILE_MAGIC &&
         get16(b + 4) == FILE_VERSION && get64(b + 8) == owner;
    if (!ok) {
        free(b);
        return NULL;
    }
    *len = (size_t)size - 4;
    return b;
}

int dcm_load(dcm *m, const char *path, uint64_t owner, lsn_t *covered)
{
    size_t len;
    uint8_t *b = read_checked(path, owner, &len);
    if (!b)
        return -1;
    /* the records' framing, before the map is touched */
    uint32_t nrec = get32(b + 32);
    size_t off = FILE_HEADER;
    for (uint32_t r = 0; r < nrec; r++) {
        uint32_t n = off + 8 <= len ? get32(b + off + 4) : UINT32_MAX;
        if (n > CHUNK_WORDS || get16(b + off) > DCM_MAX_FILE || get16(b + off + 2) >= DIR_SIZE ||
            off + 8 + (size_t)n * 8 > len) {
            free(b);
            return -1;
        }
        off += 8 + (size_t)n * 8;
    }
    if (off != len) {
        free(b);
        return -1;
    }
    pthread_mutex_lock(&m->mu);
    unsigned s = atomic_load(&m->state) & CUR;
    gen *g = &m->g[s];
    gen_clear(g);
    g->base = get64(b + 24);
    if (get16(b + 6) & 1)
        atomic_store(&g->all, 1);
    off = FILE_HEADER;
    for (uint32_t r = 0; r < nrec && !atomic_load(&g->all); r++) {
        uint32_t n = get32(b + off + 4);
        word *w = chunk_of(g, get16(b + off), get16(b + off + 2), 1);
        if (!w)
            atomic_store(&g->all, 1);
        for (uint32_t i = 0; w && i < n; i++)
            atomic_store_explicit(&w[i], get64(b + off + 8 + (size_t)i * 8), memory_order_relaxed);
        off += 8 + (size_t)n * 8;
    }
    atomic_store(&m->state, s);
    pthread_mutex_unlock(&m->mu);
    *covered = get64(b + 16);
    free(b);
    return 0;
}
