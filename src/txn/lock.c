/*
 * lock.c — lock manager: partitioned hash table of lock heads, FIFO wait queues,
 * in-place conversions, and a wait-for-graph deadlock detector.
 *
 * Mutex order (see README.md): detector mutex -> bucket mutexes in ascending
 * index. Outside the detector a thread holds at most one bucket mutex at a time,
 * and never takes the detector mutex while holding one.
 */
#include "txn/lock.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define NPART        64      /* bucket partitions, each with its own mutex */
#define PART_CAP0    16      /* initial chain-table size of a partition */
#define DETECT_MS    100     /* a waiter re-runs deadlock detection this often */
#define DETECT_ROUNDS 16     /* cycles resolved per detector call, at most */

enum { ST_GRANTED = 0, ST_WAITING, ST_TIMEDOUT, ST_VICTIM, ST_CANCELLED, ST_NOMEM };
enum { DET_ON_STACK = 1, DET_DONE = 2 };

struct lock_req {
    struct lock_head *head;
    lock_owner *owner;
    lock_mode mode;        /* granted mode; LOCK_NONE while a new request waits */
    lock_mode want;        /* mode waited for; LOCK_NONE when not waiting */
    int status;            /* ST_*, meaningful while/after waiting */
    struct lock_req *gprev, *gnext;   /* head's granted list */
    struct lock_req *wprev, *wnext;   /* head's conversion or wait queue */
    struct lock_req *oprev, *onext;   /* owner's held list */
};

struct lock_head {
    lock_res res;
    uint64_t hv;                       /* full hash of res */
    struct lock_head *next;            /* partition chain */
    unsigned part;
    struct lock_req *granted;
    struct lock_req *conv_first, *conv_last;   /* waiting conversions, FIFO */
    struct lock_req *wait_first, *wait_last;   /* waiting new requests, FIFO */
    uint32_t gcnt[LOCK_MODE_COUNT];    /* granted requests per mode */
    uint32_t wcnt[LOCK_MODE_COUNT];    /* waiting requests per wanted mode */
    uint32_t gmask, wmask;             /* modes with a non-zero count */
};

struct lock_part {
    pthread_mutex_t mu;
    struct lock_head **tab;
    size_t cap, count;
};

struct det_frame { lock_owner *o; size_t first, n, idx; };

struct lock_mgr {
    struct lock_part part[NPART];
    pthread_mutex_t det_mu;            /* serialises deadlock searches */
    /* detector scratch, under det_mu */
    uint64_t det_epoch;
    struct det_frame *stack; size_t stack_len, stack_cap;
    lock_owner **pool; size_t pool_len, pool_cap;     /* edges of stacked frames */
    lock_owner **cycle; int *cbucket; size_t cycle_cap;
};

/* ------------------------------------------------------------------ modes */

/* A mode is a pair (range part, key part): range N/S/I/X covers the gap before
 * a key (S-S and I-I compatible, everything else with a range part conflicts),
 * key part N/IS/IX/S/SIX/U/X is the classic mode. Two modes are compatible iff
 * both parts are; the supremum is taken part by part, rounded up to a mode that
 * exists (S+I ranges give X; RangeS-X would equal RangeX-X and becomes it, a
 * range S with no key part becomes RangeS-S).
 * The tables below are that rule written out; test_lock.c recomputes them.
 *
 * compat: 1 iff a holder of the row's mode lets the column's mode be granted
 * (symmetric). Kept as conflicts[m], bit k set iff m and mode k conflict. */
#define ROW(a, b, c, d, e, f, g, h, i, j, k, l, m, n, o, p, q)                                           \
    ((uint32_t)(!(a) << 0 | !(b) << 1 | !(c) << 2 | !(d) << 3 | !(e) << 4 | !(f) << 5 | !(g) << 6 |      \
                !(h) << 7 | !(i) << 8 | !(j) << 9 | !(k) << 10 | !(l) << 11 | !(m) << 12 | !(n) << 13 |  \
                !(o) << 14 | !(p) << 15 | !(q) << 16))
static const uint32_t conflicts[LOCK_MODE_COUNT] = {
    /*             N   IS  IX  S   SIX U   X   RSS RSU RIN RIS RIU RIX RXN RXS RXU RXX */
    /* NONE */ ROW(1,  1,  1,  1,  1,  1,  1,  1,  1,  1,  1,  1,  1,  1,  1,  1,  1),
    /* IS   */ ROW(1,  1,  1,  1,  1,  1,  0,  1,  1,  1,  1,  1,  0,  1,  1,  1,  0),
    /* IX   */ ROW(1,  1,  1,  0,  0,  0,  0,  0,  0,  1,  0,  0,  0,  1,  0,  0,  0),
    /* S    */ ROW(1,  1,  0,  1,  0,  1,  0,  1,  1,  1,  1,  1,  0,  1,  1,  1,  0),
    /* SIX  */ ROW(1,  1,  0,  0,  0,  0,  0,  0,  0,  1,  0,  0,  0,  1,  0,  0,  0),
    /* U    */ ROW(1,  1,  0,  1,  0,  0,  0,  1,  0,  1,  1,  0,  0,  1,  1,  0,  0),
    /* X    */ ROW(1,  0,  0,  0,  0,  0,  0,  0,  0,  1,  0,  0,  0,  1,  0,  0,  0),
    /* RS_S */ ROW(1,  1,  0,  1,  0,  1,  0,  1,  1,  0,  0,  0,  0,  0,  0,  0,  0),
    /* RS_U */ ROW(1,  1,  0,  1,  0,  0,  0,  1,  0,  0,  0,  0,  0,  0,  0,  0,  0),
    /* RI_N */ ROW(1,  1,  1,  1,  1,  1,  1,  0,  0,  1,  1,  1,  1,  0,  0,  0,  0),
    /* RI_S */ ROW(1,  1,  0,  1,  0,  1,  0,  0,  0,  1,  1,  1,  0,  0,  0,  0,  0),
    /* RI_U */ ROW(1,  1,  0,  1,  0,  0,  0,  0,  0,  1,  1,  0,  0,  0,  0,  0,  0),
    /* RI_X */ ROW(1,  0,  0,  0,  0,  0,  0,  0,  0,  1,  0,  0,  0,  0,  0,  0,  0),
    /* RX_N */ ROW(1,  1,  1,  1,  1,  1,  1,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0),
    /* RX_S */ ROW(1,  1,  0,  1,  0,  1,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0),
    /* RX_U */ ROW(1,  1,  0,  1,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0),
    /* RX_X */ ROW(1,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0),
};
#undef ROW

#define N_ LOCK_NONE
#define IS LOCK_IS
#define IX LOCK_IX
#define S_ LOCK_S
#define SI LOCK_SIX
#define U_ LOCK_U
#define X_ LOCK_X
#define SS LOCK_RANGE_S_S
#define SU LOCK_RANGE_S_U
#define IN LOCK_RANGE_I_N
#define I_S LOCK_RANGE_I_S
#define IU LOCK_RANGE_I_U
#define I_X LOCK_RANGE_I_X
#define XN LOCK_RANGE_X_N
#define XS LOCK_RANGE_X_S
#define XU LOCK_RANGE_X_U
#define XX LOCK_RANGE_X_X
/* supremum[held][requested]: the weakest mode at least as strong as both (SIX
 * also covers IX+U: we have no UIX mode). Intent modes never meet range modes
 * on one resource; their entries are merely safe (rounded up). */
static const unsigned char supremum[LOCK_MODE_COUNT][LOCK_MODE_COUNT] = {
    /*          NONE IS   IX   S    SIX  U    X    RS_S RS_U RI_N RI_S RI_U RI_X RX_N RX_S RX_U RX_X */
    /* NONE */ { N_ , IS , IX , S_ , SI , U_ , X_ , SS , SU , IN , I_S, IU , I_X, XN , XS , XU , XX },
    /* IS   */ { IS , IS , IX , S_ , SI , U_ , X_ , SS , SU , I_S, I_S, IU , I_X, XS , XS , XU , XX },
    /* IX   */ { IX , IX , IX , SI , SI , SI , X_ , XX , XX , I_X, I_X, I_X, I_X, XX , XX , XX , XX },
    /* S    */ { S_ , S_ , SI , S_ , SI , U_ , X_ , SS , SU , I_S, I_S, IU , I_X, XS , XS , XU , XX },
    /* SIX  */ { SI , SI , SI , SI , SI , SI , X_ , XX , XX , I_X, I_X, I_X, I_X, XX , XX , XX , XX },
    /* U    */ { U_ , U_ , SI , U_ , SI , U_ , X_ , SU , SU , IU , IU , IU , I_X, XU , XU , XU , XX },
    /* X    */ { X_ , X_ , X_ , X_ , X_ , X_ , X_ , XX , XX , I_X, I_X, I_X, I_X, XX , XX , XX , XX },
    /* RS_S */ { SS , SS , XX , SS , XX , SU , XX , SS , SU , XS , XS , XU , XX , XS , XS , XU , XX },
    /* RS_U */ { SU , SU , XX , SU , XX , SU , XX , SU , SU , XU , XU , XU , XX , XU , XU , XU , XX },
    /* RI_N */ { IN , I_S, I_X, I_S, I_X, IU , I_X, XS , XU , IN , I_S, IU , I_X, XN , XS , XU , XX },
    /* RI_S */ { I_S, I_S, I_X, I_S, I_X, IU , I_X, XS , XU , I_S, I_S, IU , I_X, XS , XS , XU , XX },
    /* RI_U */ { IU , IU , I_X, IU , I_X, IU , I_X, XU , XU , IU , IU , IU , I_X, XU , XU , XU , XX },
    /* RI_X */ { I_X, I_X, I_X, I_X, I_X, I_X, I_X, XX , XX , I_X, I_X, I_X, I_X, XX , XX , XX , XX },
    /* RX_N */ { XN , XS , XX , XS , XX , XU , XX , XS , XU , XN , XS , XU , XX , XN , XS , XU , XX },
    /* RX_S */ { XS , XS , XX , XS , XX , XU , XX , XS , XU , XS , XS , XU , XX , XS , XS , XU , XX },
    /* RX_U */ { XU , XU , XX , XU , XX , XU , XX , XU , XU , XU , XU , XU , XX , XU , XU , XU , XX },
    /* RX_X */ { XX , XX , XX , XX , XX , XX , XX , XX , XX , XX , XX , XX , XX , XX , XX , XX , XX },
};
#undef N_
#undef IS
#undef IX
#undef S_
#undef SI
#undef U_
#undef X_
#undef SS
#undef SU
#undef IN
#undef I_S
#undef IU
#undef I_X
#undef XN
#undef XS
#undef XU
#undef XX

#define MODE_BIT(m) (1u << (m))

static int mode_ok(lock_mode m) { return m >= LOCK_NONE && m < LOCK_MODE_COUNT; }

static inline int compat(lock_mode held, lock_mode requested)
{
    return !(conflicts[requested] & MODE_BIT(held));
}

int lock_mode_compatible(lock_mode held, lock_mode requested)
{
    assert(mode_ok(held) && mode_ok(requested));
    return compat(held, requested);
}

lock_mode lock_mode_supremum(lock_mode held, lock_mode requested)
{
    assert(mode_ok(held) && mode_ok(requested));
    return (lock_mode)supremum[held][requested];
}

int lock_mode_covers(lock_mode held, lock_mode requested)
{
    return lock_mode_supremum(held, requested) == held;
}

const char *lock_mode_name(lock_mode m)
{
    static const char *const names[LOCK_MODE_COUNT] = {
        "NULL", "IS", "IX", "S", "SIX", "U", "X", "RangeS-S", "RangeS-U", "RangeI-N",
        "RangeI-S", "RangeI-U", "RangeI-X", "RangeX-N", "RangeX-S", "RangeX-U", "RangeX-X" };
    return mode_ok(m) ? names[m] : "?";
}

const char *lock_mode_wait_name(lock_mode m)
{
    static const char *const names[LOCK_MODE_COUNT] = {
        "NL", "IS", "IX", "S", "SIX", "U", "X", "RS_S", "RS_U", "RIn_NL",
        "RIn_S", "RIn_U", "RIn_X", "RX_NL", "RX_S", "RX_U", "RX_X" };
    return mode_ok(m) ? names[m] : "?";
}

/* Per-mode counts with a bit mask of the non-zero ones, so that "compatible
 * with every counted mode" is one AND whatever the number of modes. */
static inline void cnt_inc(uint32_t *cnt, uint32_t *mask, lock_mode m)
{
    if (cnt[m]++ == 0)
        *mask |= MODE_BIT(m);
}

static inline void cnt_dec(uint32_t *cnt, uint32_t *mask, lock_mode m)
{
    if (--cnt[m] == 0)
        *mask &= ~MODE_BIT(m);
}

/* 1 if `m` is compatible with every mode in mask (bits of LOCK_IS and up). */
static inline int compat_mask(uint32_t mask, lock_mode m)
{
    return !(mask & conflicts[m]);
}

/* 1 if `m` is compatible with the granted modes of everyone but r's owner. */
static int compat_others(const struct lock_head *h, const struct lock_req *r, lock_mode m)
{
    uint32_t mask = h->gmask;
    if (h->gcnt[r->mode] == 1)
        mask &= ~MODE_BIT(r->mode);
    return compat_mask(mask, m);
}

/* -------------------------------------------------------------- resources */

static inline uint64_t rotl64(uint64_t x, int r) { return (x << r) | (x >> (64 - r)); }

static uint64_t fmix64(uint64_t k)
{
    k ^= k >> 33; k *= 0xff51afd7ed558ccdULL;
    k ^= k >> 33; k *= 0xc4ceb9fe1a85ec53ULL;
    k ^= k >> 33;
    return k;
}

static uint64_t le64(const unsigned char *p, size_t n)
{
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++)
        v |= (uint64_t)p[i] << (8 * i);
    return v;
}

/* Multiply-rotate over 8-byte lanes with a murmur finaliser: every input bit
 * reaches every output bit, so nearby keys spread over buckets. */
uint64_t lock_hash_bytes(const void *data, size_t len)
{
    const uint64_t P1 = 0x9E3779B185EBCA87ULL, P2 = 0xC2B2AE3D27D4EB4FULL;
    const unsigned char *p = data;
    uint64_t h = 0x27D4EB2F165667C5ULL ^ ((uint64_t)len * P1);
    while (len >= 8) {
        uint64_t k = le64(p, 8);
        k *= P2; k = rotl64(k, 31); k *= P1;
        h ^= k;
        h = rotl64(h, 27) * P1 + 0x85EBCA77C2B2AE63ULL;
        p += 8; len -= 8;
    }
    if (len) {
        uint64_t k = le64(p, len);
        k *= P2; k = rotl64(k, 31); k *= P1;
        h ^= k;
        h = rotl64(h, 27) * P1;
    }
    return fmix64(h);
}

static lock_res mkres(uint32_t db, uint32_t obj, uint8_t kind, uint64_t hash)
{
    lock_res r;
    memset(&r, 0, sizeof r);     /* clean padding: callers may memcpy/compare */
    r.db_id = db; r.object_id = obj; r.kind = kind; r.hash = hash;
    return r;
}

lock_res lock_res_database(uint32_t db_id) { return mkres(db_id, 0, LOCK_RES_DATABASE, 0); }
lock_res lock_res_table(uint32_t db_id, uint32_t obj) { return mkres(db_id, obj, LOCK_RES_TABLE, 0); }
lock_res lock_res_metadata(uint32_t db_id, uint32_t obj) { return mkres(db_id, obj, LOCK_RES_METADATA, 0); }
lock_res lock_res_page(uint32_t db_id, uint32_t obj, uint64_t page_no)
{
    return mkres(db_id, obj, LOCK_RES_PAGE, page_no);
}
lock_res lock_res_key(uint32_t db_id, uint32_t obj, const void *key, size_t len)
{
    return mkres(db_id, obj, LOCK_RES_KEY, lock_hash_bytes(key, len));
}
lock_res lock_res_key_end(uint32_t db_id, uint32_t obj)
{
    return mkres(db_id, obj, LOCK_RES_KEY, LOCK_KEY_END_HASH);
}

int lock_res_equal(const lock_res *a, const lock_res *b)
{
    return a->db_id == b->db_id && a->object_id == b->object_id &&
           a->kind == b->kind && a->hash == b->hash;
}

const char *lock_res_kind_name(uint8_t kind)
{
    switch (kind) {
    case LOCK_RES_DATABASE: return "DATABASE";
    case LOCK_RES_TABLE:    return "OBJECT";
    case LOCK_RES_KEY:      return "KEY";
    case LOCK_RES_PAGE:     return "PAGE";
    case LOCK_RES_METADATA: return "METADATA";
    default:                return "?";
    }
}

static uint64_t res_hash(const lock_res *r)
{
    uint64_t h = fmix64(r->hash + 0x9E3779B185EBCA87ULL * r->kind);
    return fmix64(h ^ (((uint64_t)r->db_id << 32) | r->object_id));
}

/* ----------------------------------------------------------------- owners */

void lock_owner_init(lock_owner *o, uint64_t txn_id, int session_id)
{
    memset(o, 0, sizeof *o);
    o->txn_id = txn_id;
    o->session_id = session_id;
    atomic_init(&o->deadlock_priority, LOCK_PRIORITY_NORMAL);
    atomic_init(&o->log_used, 0);
    atomic_init(&o->wait_bucket, -1);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);   /* timeouts immune to clock steps */
    pthread_cond_init(&o->cv, &ca);
    pthread_condattr_destroy(&ca);
}

void lock_owner_destroy(lock_owner *o)
{
    if (o->mgr) {
        if (o->held)
            lock_release_all(o->mgr, o);
        /* A deadlock search may have picked up a pointer to o while o still
         * held locks; it finishes before we let the memory go. */
        pthread_mutex_lock(&o->mgr->det_mu);
        pthread_mutex_unlock(&o->mgr->det_mu);
    }
    pthread_cond_destroy(&o->cv);
}

void lock_owner_set_deadlock_priority(lock_owner *o, int p) { atomic_store(&o->deadlock_priority, p); }
int lock_owner_deadlock_priority(const lock_owner *o)
{
    return atomic_load(&((lock_owner *)o)->deadlock_priority);
}
void lock_owner_set_log_used(lock_owner *o, uint64_t b) { atomic_store(&o->log_used, b); }
void lock_owner_add_log_used(lock_owner *o, uint64_t b) { atomic_fetch_add(&o->log_used, b); }
uint64_t lock_owner_log_used(const lock_owner *o)
{
    return atomic_load(&((lock_owner *)o)->log_used);
}
uint64_t lock_owner_txn_id(const lock_owner *o) { return o->txn_id; }
int lock_owner_session_id(const lock_owner *o) { return o->session_id; }
size_t lock_owner_held_count(const lock_owner *o) { return o->nheld; }

/* Called under the bucket mutex of the owner's pending request. */
static void owner_clear_wait(lock_owner *o)
{
    o->wait_req = NULL;
    atomic_store(&o->wait_bucket, -1);
}

static void owner_link(lock_owner *o, struct lock_req *r)
{
    r->oprev = NULL;
    r->onext = o->held;
    if (o->held)
        o->held->oprev = r;
    o->held = r;
    o->nheld++;
}

static void owner_unlink(lock_owner *o, struct lock_req *r)
{
    if (r->oprev) r->oprev->onext = r->onext; else o->held = r->onext;
    if (r->onext) r->onext->oprev = r->oprev;
    o->nheld--;
}

/* ------------------------------------------------------------ the manager */

lock_mgr *lock_mgr_create(void)
{
    lock_mgr *m = calloc(1, sizeof *m);
    if (!m)
        return NULL;
    for (int i = 0; i < NPART; i++) {
        struct lock_part *p = &m->part[i];
        p->tab = calloc(PART_CAP0, sizeof *p->tab);
        if (!p->tab) {
            for (int j = 0; j < i; j++) {
                free(m->part[j].tab);
                pthread_mutex_destroy(&m->part[j].mu);
            }
            free(m);
            return NULL;
        }
        p->cap = PART_CAP0;
        pthread_mutex_init(&p->mu, NULL);
    }
    pthread_mutex_init(&m->det_mu, NULL);
    return m;
}

void lock_mgr_destroy(lock_mgr *m)
{
    if (!m)
        return;
    for (int i = 0; i < NPART; i++) {
        struct lock_part *p = &m->part[i];
        for (size_t b = 0; b < p->cap; b++) {
            struct lock_head *h = p->tab[b];
            while (h) {
                struct lock_head *hn = h->next;
                for (struct lock_req *r = h->granted, *rn; r; r = rn) { rn = r->gnext; free(r); }
                for (struct lock_req *r = h->wait_first, *rn; r; r = rn) { rn = r->wnext; free(r); }
                free(h);
                h = hn;
            }
        }
        free(p->tab);
        pthread_mutex_destroy(&p->mu);
    }
    pthread_mutex_destroy(&m->det_mu);
    free(m->stack);
    free(m->pool);
    free(m->cycle);
    free(m->cbucket);
    free(m);
}

static struct lock_head *head_find(struct lock_part *p, const lock_res *res, uint64_t hv)
{
    for (struct lock_head *h = p->tab[(hv / NPART) & (p->cap - 1)]; h; h = h->next)
        if (h->hv == hv && lock_res_equal(&h->res, res))
            return h;
    return NULL;
}

/* Double the chain table; on allocation failure keep the longer chains. */
static void part_grow(struct lock_part *p)
{
    size_t ncap = p->cap * 2;
    struct lock_head **nt = calloc(ncap, sizeof *nt);
    if (!nt)
        return;
    for (size_t b = 0; b < p->cap; b++) {
        struct lock_head *h = p->tab[b];
        while (h) {
            struct lock_head *hn = h->next;
            size_t i = (h->hv / NPART) & (ncap - 1);
            h->next = nt[i];
            nt[i] = h;
            h = hn;
        }
    }
    free(p->tab);
    p->tab = nt;
    p->cap = ncap;
}

static struct lock_head *head_new(struct lock_part *p, unsigned pi, const lock_res *res, uint64_t hv)
{
    if (p->count >= p->cap)
        part_grow(p);
    struct lock_head *h = calloc(1, sizeof *h);
    if (!h)
        return NULL;
    h->res = *res;
    h->hv = hv;
    h->part = pi;
    size_t i = (hv / NPART) & (p->cap - 1);
    h->next = p->tab[i];
    p->tab[i] = h;
    p->count++;
    return h;
}

static void head_maybe_free(lock_mgr *m, struct lock_head *h)
{
    if (h->granted || h->conv_first || h->wait_first)
        return;
    struct lock_part *p = &m->part[h->part];
    struct lock_head **pp = &p->tab[(h->hv / NPART) & (p->cap - 1)];
    while (*pp != h)
        pp = &(*pp)->next;
    *pp = h->next;
    p->count--;
    free(h);
}

/* o's granted request on h, or NULL, found through the shorter of h's
 * granted list and o's held list: a table lock every session holds (IX)
 * has as many grants as sessions, and walking them was 2 % of the server's
 * CPU at 32 TPC-B clients. o is the calling thread's own owner, and not
 * waiting, so no other thread changes its held list meanwhile. */
static struct lock_req *owner_req(const struct lock_head *h, const lock_owner *o)
{
    size_t granted = 0;
    for (int m = 0; m < LOCK_MODE_COUNT; m++)
        granted += h->gcnt[m];
    if (o->nheld < granted) {
        for (struct lock_req *r = o->held; r; r = r->onext)
            if (r->head == h)
                return r;
        return NULL;
    }
    for (struct lock_req *r = h->granted; r; r = r->gnext)
        if (r->owner == o)
            return r;
    return NULL;
}

static void granted_link(struct lock_head *h, struct lock_req *r)
{
    r->gprev = NULL;
    r->gnext = h->granted;
    if (h->granted)
        h->granted->gprev = r;
    h->granted = r;
}

static void granted_unlink(struct lock_head *h, struct lock_req *r)
{
    if (r->gprev) r->gprev->gnext = r->gnext; else h->granted = r->gnext;
    if (r->gnext) r->gnext->gprev = r->gprev;
}

/* A waiting request is a conversion iff it already holds a granted mode. */
static void queue_append(struct lock_head *h, struct lock_req *r)
{
    struct lock_req **first = r->mode ? &h->conv_first : &h->wait_first;
    struct lock_req **last = r->mode ? &h->conv_last : &h->wait_last;
    r->wnext = NULL;
    r->wprev = *last;
    if (*last) (*last)->wnext = r; else *first = r;
    *last = r;
    cnt_inc(h->wcnt, &h->wmask, r->want);
}

static void queue_remove(struct lock_head *h, struct lock_req *r)
{
    struct lock_req **first = r->mode ? &h->conv_first : &h->wait_first;
    struct lock_req **last = r->mode ? &h->conv_last : &h->wait_last;
    if (r->wprev) r->wprev->wnext = r->wnext; else *first = r->wnext;
    if (r->wnext) r->wnext->wprev = r->wprev; else *last = r->wprev;
    r->wprev = r->wnext = NULL;
    cnt_dec(h->wcnt, &h->wmask, r->want);
}

static void grant(struct lock_head *h, struct lock_req *r)
{
    queue_remove(h, r);
    if (r->mode) {
        cnt_dec(h->gcnt, &h->gmask, r->mode);
    } else {
        granted_link(h, r);
        owner_link(r->owner, r);   /* the owner is blocked in its wait: safe */
    }
    r->mode = r->want;
    r->want = LOCK_NONE;
    cnt_inc(h->gcnt, &h->gmask, r->mode);
    r->status = ST_GRANTED;
    owner_clear_wait(r->owner);
    pthread_cond_signal(&r->owner->cv);
}

/* Grant every waiter that has become grantable, with the same rules as a fresh
 * request: conversions first (against other holders only), then new requests
 * in FIFO order (against holders and every waiter still ahead of them). One
 * pass reaches the fixpoint because grants only make granted modes stronger. */
static void grant_pass(struct lock_head *h)
{
    uint32_t ahead = 0;      /* modes of the requests left waiting so far */
    struct lock_req *r, *nx;
    for (r = h->conv_first; r; r = nx) {
        nx = r->wnext;
        if (compat_others(h, r, r->want))
            grant(h, r);
        else
            ahead |= MODE_BIT(r->want);
    }
    for (r = h->wait_first; r; r = nx) {
        nx = r->wnext;
        if (compat_mask(h->gmask | ahead, r->want))
            grant(h, r);
        else
            ahead |= MODE_BIT(r->want);
    }
}

/* End a pending wait unsuccessfully (timeout, victim, cancel): dequeue it, let
 * whoever it was holding up in, and wake its owner. The owner frees r if it
 * was a new request. Under the bucket mutex; may free the head. */
static void fail_wait(lock_mgr *m, struct lock_req *r, int status)
{
    struct lock_head *h = r->head;
    assert(r->status == ST_WAITING);
    queue_remove(h, r);
    r->want = LOCK_NONE;
    r->status = status;
    if (!r->mode)
        r->head = NULL;
    owner_clear_wait(r->owner);
    pthread_cond_signal(&r->owner->cv);
    grant_pass(h);
    head_maybe_free(m, h);
}

/* Remove a granted request (its owner is not waiting on it). */
static void release_req(lock_mgr *m, struct lock_req *r)
{
    struct lock_head *h = r->head;
    if (r->want)
        fail_wait(m, r, ST_CANCELLED);     /* defensive: conversion still queued */
    granted_unlink(h, r);
    cnt_dec(h->gcnt, &h->gmask, r->mode);
    owner_unlink(r->owner, r);
    free(r);
    grant_pass(h);
    head_maybe_free(m, h);
}

/* Record (log, lsn) in o's deps: 0, or -1 when o has no room for a new log. */
static int dep_add(lock_owner *o, void *log, uint64_t lsn, int dry_run)
{
    for (int i = 0; i < o->ndeps; i++)
        if (o->deps[i].log == log) {
            if (!dry_run && o->deps[i].lsn < lsn)
                o->deps[i].lsn = lsn;
            return 0;
        }
    if (o->ndeps == LOCK_DEPS)
        return -1;
    if (!dry_run)
        o->deps[o->ndeps++] = (lock_dep){ log, lsn };
    return 0;
}

/* Stamps every waiter of h with (log, lsn); 0, or -1 (nothing stamped) when
 * one of them has no room. Under h's partition mutex. */
static int stamp_waiters(struct lock_head *h, void *log, uint64_t lsn)
{
    for (int pass = 0; pass < 2; pass++) {        /* check all, then stamp all */
        struct lock_req *q[2] = { h->conv_first, h->wait_first };
        for (int l = 0; l < 2; l++)
            for (struct lock_req *w = q[l]; w; w = w->wnext)
                if (dep_add(w->owner, log, lsn, pass == 0) < 0)
                    return -1;
    }
    return 0;
}

size_t lock_hand_over(lock_mgr *m, lock_owner *o, void *log, uint64_t lsn)
{
    size_t released = 0;
    struct lock_req *r = o->held, *next;
    for (; r; r = next) {
        struct lock_part *p = &m->part[r->head->part];
        pthread_mutex_lock(&p->mu);
        next = r->onext;       /* only o's own thread changes o's held list */
        struct lock_head *h = r->head;
        /* only to waiters for X: each holds it until its own end (or hands it
         * on the same way), so nobody without the stamp reads through it */
        if (h->wmask == MODE_BIT(LOCK_X) && stamp_waiters(h, log, lsn) == 0) {
            release_req(m, r);
            released++;
        }
        pthread_mutex_unlock(&p->mu);
    }
    return released;
}

/* ------------------------------------------------------- deadlock detector */

/* Collect the owners that block w (under w's bucket mutex): holders of an
 * incompatible granted mode, and — for a new request — incompatible waiters
 * ahead of it. These are exactly what grant_pass checks, so the graph has no
 * false edges. With `only` set, return 1 iff `only` is among them instead. */
static int blockers(lock_mgr *m, const struct lock_req *w, const lock_owner *only)
{
    const struct lock_head *h = w->head;
    lock_mode want = w->want;
    const struct lock_req *q[3] = { h->granted, NULL, NULL };
    if (!w->mode) {
        q[1] = h->conv_first;
        q[2] = h->wait_first;
    }
    for (int l = 0; l < 3; l++) {
        for (const struct lock_req *r = q[l]; r; r = l ? r->wnext : r->gnext) {
            if (l && r == w)
                break;                       /* only waiters ahead of w count */
            lock_mode held = l ? r->want : r->mode;
            if (r->owner == w->owner || compat(held, want))
                continue;
            if (only) {
                if (r->owner == only)
                    return 1;
                continue;
            }
            if (m->pool_len == m->pool_cap) {
                size_t nc = m->pool_cap ? m->pool_cap * 2 : 64;
                lock_owner **np = realloc(m->pool, nc * sizeof *np);
                if (!np)
                    return -1;
                m->pool = np;
                m->pool_cap = nc;
            }
            m->pool[m->pool_len++] = r->owner;
        }
    }
    return 0;
}

/* Lock the bucket o is waiting in, or return -1 if o is not waiting. The
 * bucket index can only change away from b under b's mutex, so re-reading it
 * after locking pins the owner's wait. */
static int lock_wait_bucket(lock_mgr *m, lock_owner *o)
{
    for (;;) {
        int b = atomic_load(&o->wait_bucket);
        if (b < 0)
            return -1;
        pthread_mutex_lock(&m->part[b].mu);
        if (atomic_load(&o->wait_bucket) == b)
            return b;
        pthread_mutex_unlock(&m->part[b].mu);
    }
}

static int push_frame(lock_mgr *m, lock_owner *o, uint64_t epoch)
{
    if (m->stack_len == m->stack_cap) {
        size_t nc = m->stack_cap ? m->stack_cap * 2 : 32;
        struct det_frame *ns = realloc(m->stack, nc * sizeof *ns);
        if (!ns)
            return -1;
        m->stack = ns;
        m->stack_cap = nc;
    }
    o->det_epoch = epoch;
    o->det_state = DET_ON_STACK;
    struct det_frame *f = &m->stack[m->stack_len++];
    f->o = o;
    f->first = m->pool_len;
    f->idx = 0;
    f->n = 0;
    int b = lock_wait_bucket(m, o);
    if (b >= 0) {
        int rc = blockers(m, o->wait_req, NULL);
        pthread_mutex_unlock(&m->part[b].mu);
        if (rc < 0)
            return -1;
        f->n = m->pool_len - f->first;
    }
    return 0;
}

/* Depth-first search of the wait-for graph from `start`; on finding a cycle,
 * leave it in m->cycle and return its length, else 0. Each node's edges are
 * read under its own bucket mutex only, so the cycle must be re-verified. */
static size_t find_cycle(lock_mgr *m, lock_owner *start)
{
    uint64_t epoch = ++m->det_epoch;
    m->stack_len = 0;
    m->pool_len = 0;
    if (push_frame(m, start, epoch) < 0)
        return 0;
    while (m->stack_len) {
        struct det_frame *f = &m->stack[m->stack_len - 1];
        if (f->idx == f->n) {
            f->o->det_state = DET_DONE;
            m->pool_len = f->first;
            m->stack_len--;
            continue;
        }
        lock_owner *nx = m->pool[f->first + f->idx++];
        if (nx->det_epoch != epoch) {
            if (push_frame(m, nx, epoch) < 0)
                return 0;
        } else if (nx->det_state == DET_ON_STACK) {
            size_t i = m->stack_len;
            while (m->stack[i - 1].o != nx)
                i--;
            size_t n = m->stack_len - (i - 1);
            if (n > m->cycle_cap) {
                lock_owner **nc = realloc(m->cycle, n * sizeof *nc);
                if (nc)
                    m->cycle = nc;
                int *nb = realloc(m->cbucket, n * sizeof *nb);
                if (nb)
                    m->cbucket = nb;
                if (!nc || !nb)
                    return 0;
                m->cycle_cap = n;
            }
            for (size_t j = 0; j < n; j++)
                m->cycle[j] = m->stack[i - 1 + j].o;
            return n;
        }
    }
    return 0;
}

/* 1 if a should be the victim rather than b: lowest DEADLOCK_PRIORITY, then the
 * least log written (cheapest rollback), then the requester, then the youngest. */
static int worse(const lock_owner *a, const lock_owner *b, const lock_owner *req)
{
    int pa = lock_owner_deadlock_priority(a), pb = lock_owner_deadlock_priority(b);
    if (pa != pb)
        return pa < pb;
    uint64_t la = lock_owner_log_used(a), lb = lock_owner_log_used(b);
    if (la != lb)
        return la < lb;
    if ((a == req) != (b == req))
        return a == req;
    return a->txn_id > b->txn_id;
}

/* Freeze the cycle's buckets (ascending), check every edge still holds at this
 * one instant — then it is a real deadlock — and fail the victim's wait. */
static void resolve(lock_mgr *m, size_t n, lock_owner *req)
{
    unsigned char need[NPART] = { 0 };
    int *bucket = m->cbucket;
    for (size_t i = 0; i < n; i++) {
        bucket[i] = atomic_load(&m->cycle[i]->wait_bucket);
        if (bucket[i] < 0)
            return;
        need[bucket[i]] = 1;
    }
    for (int b = 0; b < NPART; b++)
        if (need[b])
            pthread_mutex_lock(&m->part[b].mu);
    int ok = 1;
    for (size_t i = 0; i < n && ok; i++) {
        lock_owner *o = m->cycle[i];
        ok = atomic_load(&o->wait_bucket) == bucket[i] &&
             blockers(m, o->wait_req, m->cycle[(i + 1) % n]) == 1;
    }
    if (ok) {
        lock_owner *v = m->cycle[0];
        for (size_t i = 1; i < n; i++)
            if (worse(m->cycle[i], v, req))
                v = m->cycle[i];
        fail_wait(m, v->wait_req, ST_VICTIM);
    }
    for (int b = NPART - 1; b >= 0; b--)
        if (need[b])
            pthread_mutex_unlock(&m->part[b].mu);
}

/* Find and break deadlocks reachable from `start`. No bucket mutex held. */
static void detect(lock_mgr *m, lock_owner *start)
{
    pthread_mutex_lock(&m->det_mu);
    for (int round = 0; round < DETECT_ROUNDS; round++) {
        size_t n = find_cycle(m, start);
        if (!n)
            break;
        resolve(m, n, start);   /* a victim has no out-edges: next search skips it */
    }
    pthread_mutex_unlock(&m->det_mu);
}

/* ------------------------------------------------------------ acquire etc */

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int raise_nomem(hdb_err *err)
{
    return hdb_raise_text(err, 1204, 19, 4,
        "The instance of the SQL Server Database Engine cannot obtain a LOCK resource at "
        "this time. Rerun your statement when there are fewer active users. Ask the "
        "database administrator to check the lock and memory configuration for this "
        "instance, or to check for long-running transactions.");
}

/* Entered with p->mu held and r queued; returns with it released. */
static int wait_for_grant(lock_mgr *m, struct lock_part *p, lock_owner *o, struct lock_req *r,
                          int timeout_ms, hdb_err *err)
{
    int64_t deadline = timeout_ms > 0 ? now_ms() + timeout_ms : INT64_MAX;
    pthread_mutex_unlock(&p->mu);
    detect(m, o);
    int64_t last = now_ms();
    pthread_mutex_lock(&p->mu);
    while (r->status == ST_WAITING) {
        /* Wake at least every DETECT_MS: a cycle closed by a conversion grant
         * elsewhere, or a search that lost a race, is found by a later check. */
        int64_t wake = last + DETECT_MS < deadline ? last + DETECT_MS : deadline;
        struct timespec ts = { .tv_sec = wake / 1000, .tv_nsec = (wake % 1000) * 1000000 };
        pthread_cond_timedwait(&o->cv, &p->mu, &ts);
        if (r->status != ST_WAITING)
            break;
        int64_t t = now_ms();
        if (t >= deadline) {
            fail_wait(m, r, ST_TIMEDOUT);
            break;
        }
        if (t >= last + DETECT_MS) {
            pthread_mutex_unlock(&p->mu);
            detect(m, o);
            pthread_mutex_lock(&p->mu);
            last = now_ms();
        }
    }
    int st = r->status;
    int is_new = r->mode == LOCK_NONE;   /* failed new requests are ours to free */
    r->status = ST_GRANTED;
    pthread_mutex_unlock(&p->mu);
    if (st == ST_GRANTED)
        return 0;
    if (is_new)
        free(r);
    switch (st) {
    case ST_VICTIM:
        return hdb_raise(err, 1205, o->session_id);
    case ST_CANCELLED:
        return hdb_raise_text(err, 3980, 16, 1,
            "The request failed to run because the batch is aborted, this can be caused by "
            "abort signal sent from client, or another request is running in the same "
            "session, which makes the session busy.");
    default:
        return hdb_raise(err, 1222);
    }
}

int lock_acquire(lock_mgr *m, lock_owner *o, const lock_res *res, lock_mode mode,
                 int timeout_ms, hdb_err *err)
{
    assert(mode > LOCK_NONE && mode < LOCK_MODE_COUNT);
    assert(!o->mgr || o->mgr == m);
    assert(atomic_load(&o->wait_bucket) < 0);
    o->mgr = m;
    uint64_t hv = res_hash(res);
    unsigned pi = (unsigned)(hv % NPART);
    struct lock_part *p = &m->part[pi];

    pthread_mutex_lock(&p->mu);
    struct lock_head *h = head_find(p, res, hv);
    struct lock_req *r = h ? owner_req(h, o) : NULL;
    if (r) {
        lock_mode target = supremum[r->mode][mode];
        if (target == r->mode) {
            pthread_mutex_unlock(&p->mu);
            return 0;
        }
        if (compat_others(h, r, target)) {     /* convert in place */
            cnt_dec(h->gcnt, &h->gmask, r->mode);
            cnt_inc(h->gcnt, &h->gmask, target);
            r->mode = target;
            pthread_mutex_unlock(&p->mu);
            return 0;
        }
        if (timeout_ms == 0) {
            pthread_mutex_unlock(&p->mu);
            return hdb_raise(err, 1222);
        }
        r->want = target;               /* joins the conversion queue, ahead of new waiters */
    } else {
        if (!h && !(h = head_new(p, pi, res, hv))) {
            pthread_mutex_unlock(&p->mu);
            return raise_nomem(err);
        }
        /* FIFO: grantable only if compatible with holders and every waiter */
        int now = compat_mask(h->gmask | h->wmask, mode);
        if (!now && timeout_ms == 0) {
            pthread_mutex_unlock(&p->mu);   /* h has holders or waiters: keep it */
            return hdb_raise(err, 1222);
        }
        r = calloc(1, sizeof *r);
        if (!r) {
            head_maybe_free(m, h);
            pthread_mutex_unlock(&p->mu);
            return raise_nomem(err);
        }
        r->head = h;
        r->owner = o;
        if (now) {
            r->mode = mode;
            granted_link(h, r);
            cnt_inc(h->gcnt, &h->gmask, mode);
            owner_link(o, r);
            pthread_mutex_unlock(&p->mu);
            return 0;
        }
        r->want = mode;
    }
    queue_append(h, r);
    r->status = ST_WAITING;
    o->wait_req = r;
    atomic_store(&o->wait_bucket, (int)pi);
    return wait_for_grant(m, p, o, r, timeout_ms, err);
}

int lock_acquire_instant(lock_mgr *m, lock_owner *o, const lock_res *res, lock_mode mode,
                         int timeout_ms, lock_mode *held_out, hdb_err *err)
{
    assert(mode > LOCK_NONE && mode < LOCK_MODE_COUNT);
    assert(!o->mgr || o->mgr == m);
    assert(atomic_load(&o->wait_bucket) < 0);
    uint64_t hv = res_hash(res);
    unsigned pi = (unsigned)(hv % NPART);
    struct lock_part *p = &m->part[pi];

    if (held_out)
        *held_out = LOCK_NONE;
    pthread_mutex_lock(&p->mu);
    struct lock_head *h = head_find(p, res, hv);
    if (!h) {                        /* nobody holds it: the common case */
        pthread_mutex_unlock(&p->mu);
        return 0;
    }
    struct lock_req *r = owner_req(h, o);
    lock_mode held = r ? r->mode : LOCK_NONE;
    if (held_out)
        *held_out = held;
    lock_mode target = supremum[held][mode];
    if (r ? target == held || compat_others(h, r, target) : compat_mask(h->gmask, mode)) {
        pthread_mutex_unlock(&p->mu);
        return 0;
    }
    if (timeout_ms == 0) {
        pthread_mutex_unlock(&p->mu);
        return hdb_raise(err, 1222);
    }
    /* Wait like any request (so the wait is in the wait-for graph), then
     * give back what the grant added. */
    o->mgr = m;
    if (!r) {
        r = calloc(1, sizeof *r);
        if (!r) {
            pthread_mutex_unlock(&p->mu);
            return raise_nomem(err);
        }
        r->head = h;
        r->owner = o;
    }
    r->want = target;
    queue_append(h, r);
    r->status = ST_WAITING;
    o->wait_req = r;
    atomic_store(&o->wait_bucket, (int)pi);
    if (wait_for_grant(m, p, o, r, timeout_ms, err) < 0)
        return -1;                   /* nothing was added */
    pthread_mutex_lock(&p->mu);
    if (held == LOCK_NONE) {
        release_req(m, r);
    } else {
        cnt_dec(h->gcnt, &h->gmask, r->mode);
        cnt_inc(h->gcnt, &h->gmask, held);
        r->mode = held;
        grant_pass(h);               /* the weaker mode may let waiters in */
    }
    pthread_mutex_unlock(&p->mu);
    return 0;
}

int lock_release(lock_mgr *m, lock_owner *o, const lock_res *res)
{
    uint64_t hv = res_hash(res);
    struct lock_part *p = &m->part[hv % NPART];
    pthread_mutex_lock(&p->mu);
    struct lock_head *h = head_find(p, res, hv);
    struct lock_req *r = h ? owner_req(h, o) : NULL;
    if (r)
        release_req(m, r);
    pthread_mutex_unlock(&p->mu);
    return r ? 0 : -1;
}

void lock_release_all(lock_mgr *m, lock_owner *o)
{
    struct lock_req *r;
    while ((r = o->held)) {
        struct lock_part *p = &m->part[r->head->part];
        pthread_mutex_lock(&p->mu);
        release_req(m, r);
        pthread_mutex_unlock(&p->mu);
    }
}

lock_mode lock_held_mode(lock_mgr *m, lock_owner *o, const lock_res *res)
{
    uint64_t hv = res_hash(res);
    struct lock_part *p = &m->part[hv % NPART];
    pthread_mutex_lock(&p->mu);
    struct lock_head *h = head_find(p, res, hv);
    struct lock_req *r = h ? owner_req(h, o) : NULL;
    lock_mode mode = r ? r->mode : LOCK_NONE;
    pthread_mutex_unlock(&p->mu);
    return mode;
}

void lock_cancel_wait(lock_mgr *m, lock_owner *o)
{
    int b = lock_wait_bucket(m, o);
    if (b < 0)
        return;
    fail_wait(m, o->wait_req, ST_CANCELLED);
    pthread_mutex_unlock(&m->part[b].mu);
}

void lock_mgr_foreach(lock_mgr *m,
                      void (*fn)(void *ctx, const lock_res *res, lock_mode mode,
                                 int granted, const lock_owner *owner),
                      void *ctx)
{
    for (int i = 0; i < NPART; i++) {
        struct lock_part *p = &m->part[i];
        pthread_mutex_lock(&p->mu);
        for (size_t b = 0; b < p->cap; b++) {
            for (struct lock_head *h = p->tab[b]; h; h = h->next) {
                for (struct lock_req *r = h->granted; r; r = r->gnext)
                    fn(ctx, &h->res, r->mode, 1, r->owner);
                for (struct lock_req *r = h->conv_first; r; r = r->wnext)
                    fn(ctx, &h->res, r->want, 0, r->owner);
                for (struct lock_req *r = h->wait_first; r; r = r->wnext)
                    fn(ctx, &h->res, r->want, 0, r->owner);
            }
        }
        pthread_mutex_unlock(&p->mu);
    }
}
