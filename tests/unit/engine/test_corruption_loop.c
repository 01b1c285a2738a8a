/* test_corruption_loop.c — random page corruption of a database under load is
 * always detected: never returned as data, always an 823/824 naming the page,
 * always one suspect-page event per failed read.
 *
 * The database: one table t(id int PRIMARY KEY, ver bigint, sk int, h bigint,
 * payload varchar(max)) with a unique secondary index on sk. Every row proves
 * itself: payload is a function of (id, ver) (every 16th key's payload is a few
 * KB, so it lives in an overflow chain), sk = id * 1024 + ver % 1024 (so a
 * secondary index entry names its own clustering key), and h hashes all four.
 * A model (committed / attempted version per key) also says which versions a
 * reader may see, so a stale page (a lost write) would be caught too.
 *
 * The load: writer threads (each owning the keys k % NWRITERS == w) update
 * and insert rows in committed transactions; reader threads get rows by key,
 * scan key ranges and the whole table, and read the secondary index (scan and
 * point lookups), verifying everything they are given. Any operation may fail
 * with 823/824 naming the page under injection, and only while one is.
 *
 * The corruptor (the test's own thread) runs the loop. Each round, with the
 * load paused at operation boundaries (a writer-preferring gate):
 *   flush the pool (every page clean), pick a page in use (clustered leaf or
 *   internal page, secondary index page, overflow page, or a system page:
 *   file header, allocation bitmap, boot page, catalog trees), save its image,
 *   drop it from the pool (it is clean), damage it on disk, then let the load
 *   run against it for a few ms. Nothing can bring the page back into the pool
 *   meanwhile: a read fails, and a page that is allocated is never formatted
 *   anew (BP_NOREAD) nor freed (freeing reads it first). Then its own read
 *   through the pool must fail with the expected error and exactly one
 *   suspect-hook call with the expected event; then the load pauses again and
 *   the good image is written back.
 *
 * Kinds of damage: random bit flips anywhere in the page; bytes of the header
 * (checksum field, flags, page id, ...); the slot array; a burst in the record
 * area; a zeroed 512-byte sector; another page's image (wrong page id); a torn
 * write made by hand (a random mix of sectors of the page's old and new image)
 * and one made by the fault layer (FAULT_TORN on the pool's own write); a
 * corrupting read (FAULT_CORRUPT on every read of the page); an I/O error
 * (FAULT_EIO: 823); and a transient corrupting read that the retries heal
 * (no error, counted as an 825). A second phase switches the database to
 * PAGE_VERIFY TORN_PAGE_DETECTION (as ALTER DATABASE does) and injects tears,
 * wrong page ids, 823s, and bit flips.
 *
 * What must be detected is decided per injection by expected_event(), the
 * rule of storage/README.md written out again here (not pageprot.c): a CRC
 * mismatch on a checksum page, a torn-bits page whose sectors disagree with
 * its pattern, or a wrong self id. Damage the rule cannot see is counted as
 * undetectable by design and never shown to the load (it would return wrong
 * data by design): a tear that leaves the page's bytes as one version, a tear
 * between two versions whose torn patterns match, and bit flips under
 * TORN_PAGE_DETECTION outside the torn bits. Not injected at all: an older
 * image of the same page (a lost write: its checksum and id are right, as in
 * SQL Server), damage to a page that is dirty in the pool (the next write
 * replaces it; nothing to detect), and an all-zero page (reads as
 * "unformatted" by design, see the README).
 *
 * At the end: every row and index entry equals the model, bt_check and DBCC
 * CHECKDB find nothing but leaked overflow pages (8964/2533: the new chain
 * of an update that failed or was rolled back is never freed, a known leak
 * of engine/table.c that any ROLLBACK of such an update shows; and a chain
 * whose free at commit met the damaged page), the engine's suspect queue
 * holds exactly the hook's events, and after a clean restart the
 * data still equals the model. HADR_CORRUPT_SEED=n repeats a run's choices
 * (not its thread interleaving). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <time.h>

#include "engine_harness.h"

#include "access/keyenc.h"
#include "access/space.h"
#include "engine/dbcc.h"
#include "engine/suspect.h"
#include "storage/pageprot.h"
#include "util/crc32c.h"

#define NWRITERS       2
#define NREADERS       2
#define NKEYS_INIT     3000
#define MAXKEYS        6000
#ifndef ROUNDS_CHECKSUM             /* -D for a longer soak */
#define ROUNDS_CHECKSUM 120
#endif
#ifndef ROUNDS_TORN
#define ROUNDS_TORN     40
#endif
#define EXPOSE_US      4000
#define SECTOR         512
#define NSECTORS       (PAGE_SIZE / SECTOR)

/* ---- rows that prove themselves --------------------------------------------- */

static size_t payload_len(int k)
{
    return k % 16 == 5 ? 2400 + (size_t)(k * 37 % 6000) : 40 + (size_t)(k * 13 % 200);
}

static uint64_t mix64(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdull;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ull;
    return x ^ (x >> 33);
}

static void payload_fill(int k, int64_t ver, uint8_t *p, size_t n)
{
    uint64_t s = mix64(((uint64_t)k << 32) ^ (uint64_t)ver) | 1;
    for (size_t i = 0; i < n; i++) {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        p[i] = (uint8_t)('a' + s % 26);
    }
}

static int32_t sk_of(int k, int64_t ver) { return (int32_t)(k * 1024 + (ver & 1023)); }

static int64_t row_hash(int k, int64_t ver, int32_t sk, const uint8_t *p, size_t n)
{
    uint64_t h = 0xcbf29ce484222325ull;
    uint64_t head[3] = { (uint64_t)k, (uint64_t)ver, (uint64_t)(uint32_t)sk };
    const uint8_t *b = (const uint8_t *)head;
    for (size_t i = 0; i < sizeof head; i++)
        h = (h ^ b[i]) * 0x100000001b3ull;
    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 0x100000001b3ull;
    return (int64_t)(h >> 1);
}

/* vals[5] for row (k, ver); pbuf must hold payload_len(k) bytes. */
static void make_row(int k, int64_t ver, uint8_t *pbuf, sql_value *v)
{
    size_t n = payload_len(k);
    payload_fill(k, ver, pbuf, n);
    int32_t sk = sk_of(k, ver);
    v[0] = value_int(SQL_INT, k);
    v[1] = value_int(SQL_BIGINT, ver);
    v[2] = value_int(SQL_INT, sk);
    v[3] = value_int(SQL_BIGINT, row_hash(k, ver, sk, pbuf, n));
    v[4] = value_bytes(SQL_VARCHAR, pbuf, (uint32_t)n);
}

/* The key bytes of an int column (keyenc: marker 0x01, big-endian, sign
 * flipped); checked against keyenc_encode in setup. */
static size_t int_key(int32_t v, uint8_t *out)
{
    uint32_t x = (uint32_t)v ^ 0x80000000u;
    out[0] = 1;
    out[1] = (uint8_t)(x >> 24);
    out[2] = (uint8_t)(x >> 16);
    out[3] = (uint8_t)(x >> 8);
    out[4] = (uint8_t)x;
    return 5;
}

static int key_int(const uint8_t *k, size_t len, int32_t *v)
{
    if (len != 5 || k[0] != 1)
        return -1;
    uint32_t x = ((uint32_t)k[1] << 24) | ((uint32_t)k[2] << 16) | ((uint32_t)k[3] << 8) | k[4];
    *v = (int32_t)(x ^ 0x80000000u);
    return 0;
}

/* ---- shared state ------------------------------------------------------------- */

static instance  *g_in;
static database  *g_db;
static table_def *g_td;
static char       g_path[PATH_MAX];

/* The model: the version last committed for each key (0 = never inserted) and
 * the highest version any transaction tried (a reader may see anything in
 * between: the row's lock is released inside commit, before `committed`
 * moves). */
static _Atomic int64_t committed[MAXKEYS];
static _Atomic int64_t attempted[MAXKEYS];

static pthread_rwlock_t gate;         /* load: shared per operation; corruptor: exclusive */
static _Atomic int      stop;
static _Atomic pgid_t   exposed_page; /* the damaged page the load may meet, 0 = none */
static _Atomic int      exposed_event;
static _Atomic int      exposed_823;

static _Atomic uint64_t violations;
static pthread_mutex_t  vmu = PTHREAD_MUTEX_INITIALIZER;
static char             first_violation[1024];

static _Atomic uint64_t hook_calls;
static _Thread_local int    tl_hook_calls, tl_hook_event;
static _Thread_local pgid_t tl_hook_page;

static _Atomic uint64_t load_reads, load_read_errors, load_txns, load_txn_errors, load_rollbacks;

static void violation(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void violation(const char *fmt, ...)
{
    if (atomic_fetch_add(&violations, 1) == 0) {
        va_list ap;
        va_start(ap, fmt);
        pthread_mutex_lock(&vmu);
        vsnprintf(first_violation, sizeof first_violation, fmt, ap);
        pthread_mutex_unlock(&vmu);
        va_end(ap);
    }
}

static void assert_no_violation(void)
{
    if (atomic_load(&violations)) {
        pthread_mutex_lock(&vmu);
        fail_msg("%" PRIu64 " violation(s), first: %s", (uint64_t)atomic_load(&violations), first_violation);
        pthread_mutex_unlock(&vmu);
    }
}

/* df_set_suspect_hook: every call must be for the page under injection, with
 * the event it must raise; then on to the engine's queue as usual. */
static void hook(void *ctx, uint32_t db_id, pgid_t id, int event)
{
    atomic_fetch_add(&hook_calls, 1);
    tl_hook_calls++;
    tl_hook_event = event;
    tl_hook_page = id;
    pgid_t x = atomic_load(&exposed_page);
    if (x == 0 || id != x || event != atomic_load(&exposed_event))
        violation("suspect hook: page 1:%u event %d, but the page under injection is 1:%u (event %d)",
                  PGID_PAGE(id), event, PGID_PAGE(x), atomic_load(&exposed_event));
    suspect_df_hook(ctx, db_id, id, event);
}

/* An error the load got: only 823/824 for the page under injection. Called
 * with the gate still held, so the injection is still in place. */
static void load_error(const hdb_err *e, const char *what)
{
    pgid_t x = atomic_load(&exposed_page);
    if (x == 0) {
        violation("%s failed with no page under injection: %d %s", what, e->number, e->msg);
        return;
    }
    char want[64];
    if (e->number == 824) {
        snprintf(want, sizeof want, "page (1:%u)", PGID_PAGE(x));
    } else if (e->number == 823 && atomic_load(&exposed_823)) {
        snprintf(want, sizeof want, "offset %#016llx", (unsigned long long)PGID_PAGE(x) * PAGE_SIZE);
    } else {
        violation("%s failed with %d (not 823/824 for page 1:%u): %s", what, e->number, PGID_PAGE(x), e->msg);
        return;
    }
    if (!strstr(e->msg, want))
        violation("%s: error %d does not name %s: %s", what, e->number, want, e->msg);
}

static void gate_shared(void) { pthread_rwlock_rdlock(&gate); }
static void gate_exclusive(void) { pthread_rwlock_wrlock(&gate); }
static void gate_open(void) { pthread_rwlock_unlock(&gate); }

static uint64_t rng_next(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

static unsigned rnd(uint64_t *s, unsigned n) { return (unsigned)(rng_next(s) % n); }

/* ---- verification -------------------------------------------------------------- */

/* Check a row read from the table against itself (payload, sk and hash from
 * its key and version). Returns the key, or -1 (violation recorded). */
static int check_row(const table_row *r, const char *what)
{
    if (r->ncols != 5) {
        violation("%s: row with %d columns", what, r->ncols);
        return -1;
    }
    for (int i = 0; i < 5; i++)
        if (r->vals[i].is_null) {
            violation("%s: column %d is NULL", what, i);
            return -1;
        }
    int64_t k = r->vals[0].u.i, ver = r->vals[1].u.i, sk = r->vals[2].u.i, h = r->vals[3].u.i;
    if (k < 0 || k >= MAXKEYS || ver < 1) {
        violation("%s: row id %" PRId64 " ver %" PRId64, what, k, ver);
        return -1;
    }
    size_t n = payload_len((int)k);
    if (r->vals[4].len != n) {
        violation("%s: key %" PRId64 " payload of %u bytes, not %zu", what, k, (unsigned)r->vals[4].len, n);
        return -1;
    }
    uint8_t *want = malloc(n);
    payload_fill((int)k, ver, want, n);
    int same = memcmp(want, r->vals[4].bytes, n) == 0;
    free(want);
    if (!same || sk != sk_of((int)k, ver) || h != row_hash((int)k, ver, (int32_t)sk, r->vals[4].bytes, n)) {
        violation("%s: key %" PRId64 " ver %" PRId64 ": row does not verify (payload %s, sk %s, hash %s)", what, k,
                  ver, same ? "ok" : "WRONG", sk == sk_of((int)k, ver) ? "ok" : "WRONG",
                  h == row_hash((int)k, ver, (int32_t)sk, r->vals[4].bytes, n) ? "ok" : "WRONG");
        return -1;
    }
    return (int)k;
}

/* The version seen must lie between the one committed before the read began
 * and the highest one tried after it ended. */
static void check_version(int k, int64_t ver, int64_t lo, const char *what)
{
    int64_t hi = atomic_load(&attempted[k]);
    if (ver < lo || ver > hi)
        violation("%s: key %d version %" PRId64 ", expected %" PRId64 "..%" PRId64 " (stale or phantom data)", what,
                  k, ver, lo, hi);
}

/* ---- the load ------------------------------------------------------------------ */

typedef struct worker {
    int       id;
    uint64_t  rng;
    pthread_t th;
    int64_t  *snap;      /* readers: committed[] at the start of a scan */
    uint8_t  *pbuf;
    int       next_insert;
} worker;

static int random_key(uint64_t *rng, int owner)
{
    for (int tries = 0; tries < 64; tries++) {
        int k = (int)rnd(rng, MAXKEYS);
        if (owner >= 0)
            k = k - k % NWRITERS + owner;
        if (k < MAXKEYS && atomic_load(&committed[k]) > 0)
            return k;
    }
    return owner >= 0 ? owner : 0;
}

/* One writer transaction over keys that only this thread changes. */
static void writer_txn(worker *w)
{
    int keys[4], nk = 0, ins = -1;
    int64_t vers[4];
    if (rnd(&w->rng, 3) == 0 && w->next_insert < MAXKEYS) {
        ins = w->next_insert;
        w->next_insert += NWRITERS;
    }
    int nupd = 1 + (int)rnd(&w->rng, 3);
    for (int i = 0; i < nupd; i++) {
        int k = random_key(&w->rng, w->id);
        int dup = 0;
        for (int j = 0; j < nk; j++)
            dup |= keys[j] == k;
        if (!dup && atomic_load(&committed[k]) > 0)
            keys[nk++] = k;
    }
    hdb_err e;
    hdb_err_clear(&e);
    txn *t = txn_begin(g_in->txns, 100 + w->id, "writer", "sa");
    int rc = 0;
    sql_value v[5];
    if (ins >= 0) {
        atomic_store(&attempted[ins], 1);
        make_row(ins, 1, w->pbuf, v);
        rc = table_insert(t, g_db, g_td, v, &e);
        if (rc > 0)
            violation("insert of new key %d: %d", ins, rc);
    }
    for (int i = 0; i < nk && rc == 0; i++) {
        int k = keys[i];
        vers[i] = atomic_load(&committed[k]) + 1;
        if (atomic_load(&attempted[k]) < vers[i])
            atomic_store(&attempted[k], vers[i]);
        make_row(k, vers[i], w->pbuf, v);
        sql_value key = value_int(SQL_INT, k);
        rc = table_update(t, g_db, g_td, &key, v, &e);
        if (rc > 0)
            violation("update of key %d: not found", k);
    }
    if (rc == 0)
        rc = txn_commit(t, &e);
    atomic_fetch_add(&load_txns, 1);
    if (rc == 0) {
        if (ins >= 0)
            atomic_store(&committed[ins], 1);
        for (int i = 0; i < nk; i++)
            atomic_store(&committed[keys[i]], vers[i]);
    } else {
        atomic_fetch_add(&load_txn_errors, 1);
        load_error(&e, "writer");
        if (t->state != TXN_COMMITTED && t->state != TXN_ABORTED) {
            hdb_err re;
            if (txn_rollback(t, &re) < 0)
                violation("rollback after %d failed: %d %s", e.number, re.number, re.msg);
            atomic_fetch_add(&load_rollbacks, 1);
        }
    }
    txn_free(t);
}

static void *writer_main(void *arg)
{
    worker *w = arg;
    while (!atomic_load(&stop)) {
        gate_shared();
        writer_txn(w);
        gate_open();
    }
    return NULL;
}

static void reader_get(worker *w)
{
    int k = (int)rnd(&w->rng, MAXKEYS);
    int64_t lo = atomic_load(&committed[k]);
    hdb_err e;
    txn *t = txn_begin(g_in->txns, 200 + w->id, "reader", "sa");
    sql_value key = value_int(SQL_INT, k);
    table_row r;
    int rc = table_get(t, g_db, g_td, &key, ISO_READ_COMMITTED, &r, &e);
    atomic_fetch_add(&load_reads, 1);
    if (rc < 0) {
        atomic_fetch_add(&load_read_errors, 1);
        load_error(&e, "table_get");
    } else if (rc == 0) {
        if (lo > 0)
            violation("table_get: committed key %d not found", k);
    } else {
        int got = check_row(&r, "table_get");
        if (got >= 0 && got != k)
            violation("table_get(%d) returned key %d", k, got);
        if (got == k)
            check_version(k, r.vals[1].u.i, lo, "table_get");
        table_row_free(&r);
    }
    txn_commit(t, &e);
    txn_free(t);
}

/* A range or full scan: rows verify, keys ascend, and every key committed
 * before the scan began is returned. */
static void reader_scan(worker *w, int full)
{
    int a = 0, b = MAXKEYS - 1;
    if (!full) {
        a = (int)rnd(&w->rng, MAXKEYS);
        b = a + 50 + (int)rnd(&w->rng, 300);
        if (b >= MAXKEYS)
            b = MAXKEYS - 1;
    }
    for (int k = a; k <= b; k++)
        w->snap[k] = atomic_load(&committed[k]);
    hdb_err e;
    txn *t = txn_begin(g_in->txns, 200 + w->id, "scan", "sa");
    sql_value lov = value_int(SQL_INT, a), hiv = value_int(SQL_INT, b);
    table_bound lo = { &lov, 1, 1 }, hi = { &hiv, 1, 1 };
    table_scan *s = full ? table_scan_open(t, g_db, g_td, ISO_READ_COMMITTED, &e)
                         : table_scan_open_range(t, g_db, g_td, ISO_READ_COMMITTED, &lo, &hi, &e);
    const char *what = full ? "full scan" : "range scan";
    atomic_fetch_add(&load_reads, 1);
    if (!s) {
        atomic_fetch_add(&load_read_errors, 1);
        load_error(&e, what);
    } else {
        table_row r;
        int rc, prev = a - 1;
        while ((rc = table_scan_next(s, &r, &e)) == 1) {
            int k = check_row(&r, what);
            if (k < 0)
                break;
            if (k <= prev || k > b) {
                violation("%s [%d, %d]: key %d after key %d", what, a, b, k, prev);
                break;
            }
            for (int m = prev + 1; m < k; m++)
                if (w->snap[m] > 0) {
                    violation("%s: committed key %d skipped (between %d and %d)", what, m, prev, k);
                    break;
                }
            check_version(k, r.vals[1].u.i, w->snap[k], what);
            prev = k;
        }
        if (rc < 0) {
            atomic_fetch_add(&load_read_errors, 1);
            load_error(&e, what);
        } else if (rc == 0) {
            for (int m = prev + 1; m <= b; m++)
                if (w->snap[m] > 0) {
                    violation("%s: committed key %d missing at the end (last %d)", what, m, prev);
                    break;
                }
        }
        table_scan_close(s);
    }
    txn_commit(t, &e);
    txn_free(t);
}

/* The secondary index: entries are self-verifying (sk names its clustering
 * key) and ascend; a point lookup of the committed sk of a key that nobody
 * has touched since finds exactly that key. */
static void reader_index(worker *w)
{
    btree *bt = &g_td->idx[1].bt;
    hdb_err e;
    atomic_fetch_add(&load_reads, 1);
    if (rnd(&w->rng, 4) == 0) {
        bt_cursor *c = bt_cursor_open(bt, NULL, 0, 1, &e);
        if (!c) {
            atomic_fetch_add(&load_read_errors, 1);
            load_error(&e, "index scan");
            return;
        }
        const uint8_t *k, *v;
        size_t kl, vl;
        int rc;
        int64_t prev = INT64_MIN;
        while ((rc = bt_cursor_next(c, &k, &kl, &v, &vl, &e)) == 1) {
            int32_t sk, ck;
            if (key_int(k, kl, &sk) < 0 || key_int(v, vl, &ck) < 0 || sk / 1024 != ck || sk <= prev) {
                violation("index scan: entry (%zu-byte key, %zu-byte value) does not verify", kl, vl);
                break;
            }
            prev = sk;
        }
        if (rc < 0) {
            atomic_fetch_add(&load_read_errors, 1);
            load_error(&e, "index scan");
        }
        bt_cursor_close(c);
        return;
    }
    int key = random_key(&w->rng, -1);
    int64_t ver = atomic_load(&committed[key]);
    uint8_t kb[8];
    size_t kl = int_key(sk_of(key, ver), kb);
    uint8_t *val = NULL;
    size_t vl = 0;
    int rc = bt_get(bt, kb, kl, &val, &vl, &e);
    if (rc < 0) {
        atomic_fetch_add(&load_read_errors, 1);
        load_error(&e, "index lookup");
    } else if (rc == 1) {
        int32_t ck;
        if (key_int(val, vl, &ck) < 0 || ck != key)
            violation("index lookup of sk %d: clustering key is not %d", sk_of(key, ver), key);
    } else if (ver > 0 && atomic_load(&attempted[key]) == ver) {
        violation("index lookup: entry of key %d version %" PRId64 " missing", key, ver);
    }
    free(val);
}

static void *reader_main(void *arg)
{
    worker *w = arg;
    while (!atomic_load(&stop)) {
        gate_shared();
        unsigned x = rnd(&w->rng, 100);
        if (x < 70)
            reader_get(w);
        else if (x < 84)
            reader_index(w);
        else if (x < 97)
            reader_scan(w, 0);
        else
            reader_scan(w, 1);
        gate_open();
    }
    return NULL;
}

/* ---- what a read must report ------------------------------------------------------ */

static int image_zero(const uint8_t *p)
{
    for (size_t i = 0; i < PAGE_SIZE; i++)
        if (p[i])
            return 0;
    return 1;
}

/* storage/README.md's rule, restated: 0 = the read passes, else the
 * suspect_pages event it raises (1 wrong page id, 2 bad checksum, 3 torn). */
static int expected_event(const uint8_t *img, pgid_t id, int mode)
{
    if (image_zero(img))
        return 0;                                   /* "unformatted" */
    uint32_t cs;
    uint64_t self;
    memcpy(&cs, img, 4);
    memcpy(&self, img + 8, 8);
    unsigned prot = img[7] & PAGE_FLAG_PROT;
    if (prot == PAGE_FLAG_TORN_BITS) {
        unsigned p = cs >> 30;
        int torn = p == 0;
        for (int s = 1; s < NSECTORS; s++)
            torn |= (img[s * SECTOR + SECTOR - 1] & 3u) != p;
        if (torn && mode != PAGE_VERIFY_NONE)
            return 3;
    } else if (!(prot == PAGE_FLAG_NO_CHECKSUM && cs == PAGEPROT_NONE_MAGIC) && mode != PAGE_VERIFY_NONE) {
        if (crc32c(0, img + 4, PAGE_SIZE - 4) != cs)
            return 2;
    }
    return self != id ? 1 : 0;
}

/* ---- pages to damage ---------------------------------------------------------------- */

enum { CAT_LEAF, CAT_INTERNAL, CAT_INDEX, CAT_OVERFLOW, CAT_SYSTEM, NCATS };
static const char *cat_name[NCATS] = { "clustered leaf", "clustered internal", "secondary index", "overflow",
                                       "system" };

typedef struct pagesets {
    pgid_t  *v[NCATS];
    int      n[NCATS];
    uint8_t *seen;       /* per page number: reached by a tree walk */
    uint32_t npages;
} pagesets;

static void ps_add(pagesets *ps, int cat, pgid_t id)
{
    ps->v[cat] = realloc(ps->v[cat], (size_t)(ps->n[cat] + 1) * sizeof(pgid_t));
    ps->v[cat][ps->n[cat]++] = id;
}

struct walk_ctx { pagesets *ps; int clustered; };

static int walk_fn(void *ctx, pgid_t id, const void *page)
{
    struct walk_ctx *w = ctx;
    int cat = !w->clustered ? CAT_INDEX : page_chdr(page)->type == PAGE_BTREE_LEAF ? CAT_LEAF : CAT_INTERNAL;
    if (PGID_PAGE(id) < w->ps->npages)
        w->ps->seen[PGID_PAGE(id)] = 1;
    ps_add(w->ps, cat, id);
    return 0;
}

/* Every page in use, by category (the load is paused and the pool flushed,
 * so the file holds what the pool holds). */
static void collect_pages(pagesets *ps)
{
    for (int c = 0; c < NCATS; c++) {
        free(ps->v[c]);
        ps->v[c] = NULL;
        ps->n[c] = 0;
    }
    ps->npages = df_file_pages(g_db->df, 1);
    free(ps->seen);
    ps->seen = calloc(ps->npages, 1);
    hdb_err e;
    struct walk_ctx wc = { ps, 1 };
    if (bt_walk_pages(&g_td->idx[0].bt, walk_fn, &wc, &e) < 0)
        fail_msg("walk of the clustered index: %s", e.msg);
    wc.clustered = 0;
    if (bt_walk_pages(&g_td->idx[1].bt, walk_fn, &wc, &e) < 0)
        fail_msg("walk of the secondary index: %s", e.msg);
    space_ctx sc = { g_db->bp, g_db->df };
    uint8_t *img = malloc(PAGE_SIZE);
    for (uint32_t p = 0; p < ps->npages; p++) {
        if (ps->seen[p])
            continue;
        if (df_read_page_raw(g_db->df, PGID(1, p), img, &e) < 0)
            fail_msg("raw read of 1:%u: %s", p, e.msg);
        if (image_zero(img) || space_is_allocated(&sc, PGID(1, p), &e) != 1)
            continue;
        const page_header *h = page_chdr(img);
        ps_add(ps, h->type == PAGE_OVERFLOW && h->owner == g_td->object_id ? CAT_OVERFLOW : CAT_SYSTEM, PGID(1, p));
    }
    free(img);
}

static pgid_t pick_page(pagesets *ps, uint64_t *rng, int *cat_out, int leaf_only)
{
    static const int weight[NCATS] = { 35, 10, 15, 20, 20 };
    int cat = CAT_LEAF;
    if (!leaf_only) {
        unsigned x = rnd(rng, 100);
        for (cat = 0; cat < NCATS - 1 && x >= (unsigned)weight[cat]; cat++)
            x -= (unsigned)weight[cat];
    }
    if (ps->n[cat] == 0)
        cat = CAT_LEAF;
    assert_true(ps->n[cat] > 0);
    *cat_out = cat;
    return ps->v[cat][rnd(rng, (unsigned)ps->n[cat])];
}

/* ---- the corruptor ------------------------------------------------------------------- */

enum kind {
    K_BITFLIP, K_HEADER, K_SLOTS, K_BODY, K_ZERO_SECTOR, K_OTHER_PAGE, K_TEAR, K_TEAR_FIO,
    K_READ_CORRUPT, K_READ_EIO, K_TRANSIENT, NKINDS
};
static const char *kind_name[NKINDS] = {
    "bit flips", "header bytes", "slot array", "record-area burst", "zeroed sector", "another page's image",
    "torn write (by hand)", "torn write (FAULT_TORN)", "corrupting read (FAULT_CORRUPT)", "read error (FAULT_EIO)",
    "transient corrupting read",
};

typedef struct tally {
    int injected, detected, noop, stale, by_design;
    int events[4];
} tally;

static tally tallies[2][NKINDS];       /* [0] CHECKSUM, [1] TORN_PAGE_DETECTION */
static int   cat_injected[NCATS];
static int   transient_healed;
static uint64_t load_errors_at_injection;

static void pwrite_page(int fd, pgid_t id, const uint8_t *img)
{
    assert_int_equal(pwrite(fd, img, PAGE_SIZE, (off_t)PGID_PAGE(id) * PAGE_SIZE), PAGE_SIZE);
}

static void raw_read(pgid_t id, uint8_t *img)
{
    hdb_err e;
    if (df_read_page_raw(g_db->df, id, img, &e) < 0)
        fail_msg("raw read of 1:%u: %s", PGID_PAGE(id), e.msg);
}

static void flush_all(void)
{
    hdb_err e;
    if (bp_flush_db(g_db->bp, g_db->df, &e) < 0)
        fail_msg("flush: %d %s", e.number, e.msg);
}

struct dirty_probe { pgid_t id; int found; };
static void dirty_fn(void *ctx, pgid_t id, lsn_t rec)
{
    (void)rec;
    struct dirty_probe *d = ctx;
    d->found |= id == d->id;
}

/* Drop page id from the pool: it must be clean (the pool was just flushed and
 * nothing changed since), so no change is thrown away. */
static void evict(pgid_t id)
{
    struct dirty_probe d = { id, 0 };
    bp_dirty_pages(g_db->bp, g_db->df, dirty_fn, &d);
    assert_false(d.found);
    bp_discard_page(g_db->bp, g_db->df, id);
}

/* Update the row with clustered key k as one committed transaction (the
 * corruptor's own, with the load paused). */
static void update_key(int k)
{
    hdb_err e;
    uint8_t *pbuf = malloc(payload_len(k));
    int64_t ver = atomic_load(&committed[k]) + 1;
    if (atomic_load(&attempted[k]) < ver)
        atomic_store(&attempted[k], ver);
    sql_value v[5];
    make_row(k, ver, pbuf, v);
    sql_value key = value_int(SQL_INT, k);
    txn *t = txn_begin(g_in->txns, 99, "tear", "sa");
    if (table_update(t, g_db, g_td, &key, v, &e) != 0 || txn_commit(t, &e) != 0)
        fail_msg("update of key %d for a tear: %s", k, e.msg);
    txn_free(t);
    atomic_store(&committed[k], ver);
    free(pbuf);
}

/* A key stored on clustered leaf `id` (-1 if the leaf is empty). */
static int key_on_leaf(pgid_t id)
{
    uint8_t img[PAGE_SIZE];
    raw_read(id, img);
    const page_header *h = page_chdr(img);
    if (h->type != PAGE_BTREE_LEAF || h->nslots == 0)
        return -1;
    uint16_t len;
    const uint8_t *rec = page_record(img, 0, &len);
    uint16_t kl;
    memcpy(&kl, rec, 2);
    int32_t k;
    if (key_int(rec + 2, kl, &k) < 0)
        return -1;
    return k;
}

static void damage(enum kind kind, uint8_t *c, uint64_t *rng)
{
    const page_header *h = page_chdr(c);
    switch (kind) {
    case K_BITFLIP: {
        int n = 1 + (int)rnd(rng, 8);
        for (int i = 0; i < n; i++) {
            unsigned bit = rnd(rng, PAGE_SIZE * 8);
            c[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        }
        break;
    }
    case K_HEADER: {
        int n = 1 + (int)rnd(rng, 3);
        for (int i = 0; i < n; i++)
            c[rnd(rng, PAGE_HEADER_SIZE)] ^= (uint8_t)(1 + rnd(rng, 255));
        break;
    }
    case K_SLOTS: {
        unsigned end = PAGE_HEADER_SIZE + (unsigned)h->nslots * PAGE_SLOT_SIZE;
        if (end <= PAGE_HEADER_SIZE + 8 || end > PAGE_SIZE)
            end = PAGE_HEADER_SIZE + 64;
        int n = 1 + (int)rnd(rng, 4);
        for (int i = 0; i < n; i++)
            c[PAGE_HEADER_SIZE + rnd(rng, end - PAGE_HEADER_SIZE)] ^= (uint8_t)(1 + rnd(rng, 255));
        break;
    }
    case K_BODY: {
        unsigned lo = h->free_hi >= PAGE_HEADER_SIZE && h->free_hi < PAGE_SIZE - 64 ? h->free_hi : PAGE_HEADER_SIZE;
        unsigned len = 1 + rnd(rng, 64);
        unsigned at = lo + rnd(rng, PAGE_SIZE - lo - len + 1);
        for (unsigned i = 0; i < len; i++)
            c[at + i] = (uint8_t)rng_next(rng);
        break;
    }
    case K_ZERO_SECTOR:
        memset(c + (size_t)rnd(rng, NSECTORS) * SECTOR, 0, SECTOR);
        break;
    default:
        break;
    }
}

/* Tell the load a page is damaged (it may now fail on it), and take it back. */
static void expose(pgid_t id, int event, int is823)
{
    atomic_store(&exposed_event, event);
    atomic_store(&exposed_823, is823);
    atomic_store(&exposed_page, id);
}

static void unexpose(void)
{
    atomic_store(&exposed_page, 0);
    atomic_store(&exposed_event, 0);
    atomic_store(&exposed_823, 0);
}

/* The corruptor's own read of the damaged page through the pool: it must
 * fail with `number` and the text of `event`, with one hook call. */
static void check_detected(pgid_t id, int event, int number, enum kind kind)
{
    hdb_err e;
    hdb_err_clear(&e);
    tl_hook_calls = 0;
    bp_frame *f = bp_fix(g_db->bp, g_db->df, id, BP_SHARED, 0, &e);
    if (f) {
        bp_unfix(f);
        fail_msg("%s: damaged page 1:%u was read as good data", kind_name[kind], PGID_PAGE(id));
    }
    if (e.number != number)
        fail_msg("%s on 1:%u: error %d, expected %d: %s", kind_name[kind], PGID_PAGE(id), e.number, number, e.msg);
    const char *text = number == 823 ? "during a read" : event == 2 ? "incorrect checksum"
                                                   : event == 3 ? "torn page" : "incorrect pageid";
    if (!strstr(e.msg, text))
        fail_msg("%s on 1:%u: expected \"%s\": %s", kind_name[kind], PGID_PAGE(id), text, e.msg);
    if (tl_hook_calls != 1 || tl_hook_page != id || tl_hook_event != event)
        fail_msg("%s on 1:%u: %d hook call(s), last page 1:%u event %d; expected one, event %d", kind_name[kind],
                 PGID_PAGE(id), tl_hook_calls, PGID_PAGE(tl_hook_page), tl_hook_event, event);
}

/* After the repair the page reads back as `want` (its image in memory). */
static void check_repaired(pgid_t id, const uint8_t *want)
{
    hdb_err e;
    bp_frame *f = bp_fix(g_db->bp, g_db->df, id, BP_SHARED, 0, &e);
    if (!f)
        fail_msg("repaired page 1:%u: %d %s", PGID_PAGE(id), e.number, e.msg);
    int same = memcmp(bp_page(f), want, PAGE_SIZE) == 0;
    bp_unfix(f);
    assert_true(same);
}

/* What a good image looks like in memory after a read (torn bits put back). */
static void opened(const uint8_t *raw, pgid_t id, int mode, uint8_t *out)
{
    memcpy(out, raw, PAGE_SIZE);
    assert_int_equal(pageprot_open(out, id, mode, NULL), PAGEPROT_OK);
}

static void fault_range(fault_rule *r, pgid_t id, unsigned ops, fault_action act)
{
    memset(r, 0, sizeof *r);
    r->path_contains = g_path;
    r->ops = ops;
    r->offset_lo = (uint64_t)PGID_PAGE(id) * PAGE_SIZE;
    r->offset_hi = r->offset_lo + PAGE_SIZE;
    r->action = act;
}

/* One round: returns with the gate closed again and the page good. */
static void one_round(int fd, pagesets *ps, uint64_t *rng, int mode, enum kind kind)
{
    tally *ty = &tallies[mode == PAGE_VERIFY_TORN][kind];
    hdb_err e;
    int tear = kind == K_TEAR || kind == K_TEAR_FIO;
    int cat;
    pgid_t id = 0;
    int key = -1;
    for (int tries = 0; tries < 100 && (id == 0 || (tear && key < 0)); tries++) {
        id = pick_page(ps, rng, &cat, tear);
        if (tear)
            key = key_on_leaf(id);
    }
    assert_true(id != 0 && (!tear || key >= 0));

    uint8_t *old = malloc(PAGE_SIZE), *bad = malloc(PAGE_SIZE), *good = malloc(PAGE_SIZE),
            *mem = malloc(PAGE_SIZE);
    raw_read(id, old);
    if (expected_event(old, id, mode) != 0)
        fail_msg("page 1:%u (%s) is bad on disk before any injection", PGID_PAGE(id), cat_name[cat]);
    memcpy(good, old, PAGE_SIZE);   /* the image the repair writes back */
    int rule = 0, event = 0, number = 824;

    switch (kind) {
    case K_BITFLIP: case K_HEADER: case K_SLOTS: case K_BODY: case K_ZERO_SECTOR:
        memcpy(bad, old, PAGE_SIZE);
        damage(kind, bad, rng);
        break;
    case K_OTHER_PAGE: {
        int c2;
        pgid_t other;
        do
            other = pick_page(ps, rng, &c2, 0);
        while (other == id);
        raw_read(other, bad);
        break;
    }
    case K_TEAR: {
        /* a new version of the page, written whole; then a write of it that
         * reached the disk only in some sectors (any mix of old and new) */
        update_key(key);
        flush_all();
        raw_read(id, good);
        unsigned mask;
        do
            mask = (unsigned)rnd(rng, 1u << NSECTORS);
        while (mask == 0 || mask == (1u << NSECTORS) - 1);
        for (int s = 0; s < NSECTORS; s++)
            memcpy(bad + s * SECTOR, ((mask >> s) & 1 ? good : old) + s * SECTOR, SECTOR);
        break;
    }
    case K_TEAR_FIO: {
        /* the pool's own write of the new version tears (first half only) */
        fault_rule r;
        fault_range(&r, id, FIO_OP_WRITE, FAULT_TORN);
        r.nth = 1;
        int rid = fault_add(&r);
        update_key(key);
        flush_all();
        assert_int_equal(fault_fired(rid), 1);
        fault_remove(rid);
        bp_frame *f = bp_fix(g_db->bp, g_db->df, id, BP_SHARED, 0, &e);
        assert_non_null(f);
        memcpy(good, bp_page(f), PAGE_SIZE);
        bp_unfix(f);
        pageprot_seal(good, mode);      /* what the whole write would have left */
        raw_read(id, bad);
        break;
    }
    case K_READ_CORRUPT:
        memcpy(bad, old, PAGE_SIZE);
        bad[PAGE_SIZE / 2 + 17] ^= 0x5a;   /* what FAULT_CORRUPT does to a read */
        break;
    case K_READ_EIO:
        memcpy(bad, old, PAGE_SIZE);
        break;
    case K_TRANSIENT: {
        /* the first 1..4 reads come back damaged; a retry gets the page */
        fault_rule r;
        fault_range(&r, id, FIO_OP_READ, FAULT_CORRUPT);
        r.nth = 1;
        r.count = rnd(rng, 4);
        evict(id);
        uint64_t retries = df_read_retries(g_db->df);
        tl_hook_calls = 0;
        int rid = fault_add(&r);
        opened(old, id, mode, mem);
        check_repaired(id, mem);
        assert_int_equal(fault_fired(rid), r.count + 1);
        fault_remove(rid);
        assert_int_equal(df_read_retries(g_db->df) - retries, 1);
        assert_int_equal(tl_hook_calls, 0);
        transient_healed++;
        ty->injected++;
        ty->detected++;
        free(old), free(bad), free(good), free(mem);
        return;
    }
    default:
        break;
    }

    if (kind == K_READ_EIO) {
        event = 1;
        number = 823;
    } else {
        event = expected_event(bad, id, mode);
    }
    if (memcmp(bad, good, PAGE_SIZE) == 0 && kind != K_READ_EIO) {
        ty->noop++;        /* e.g. a tear whose halves are the same bytes */
        free(old), free(bad), free(good), free(mem);
        return;
    }
    if (tear && memcmp(bad, old, PAGE_SIZE) == 0) {
        /* every changed sector kept its old bytes: a lost write, which no
         * page check can see (the old image is a good page) */
        ty->stale++;
        pwrite_page(fd, id, good);
        free(old), free(bad), free(good), free(mem);
        return;
    }
    if (event == 0) {
        /* undetectable by design: never shown to the load; the good image
         * goes back (it may already have been written, as a tear) */
        ty->by_design++;
        pwrite_page(fd, id, good);
        free(old), free(bad), free(good), free(mem);
        return;
    }

    evict(id);
    if (kind == K_READ_CORRUPT || kind == K_READ_EIO) {
        fault_rule r;
        fault_range(&r, id, FIO_OP_READ, kind == K_READ_EIO ? FAULT_EIO : FAULT_CORRUPT);
        rule = fault_add(&r);
    } else {
        pwrite_page(fd, id, bad);
    }
    ty->injected++;
    cat_injected[cat]++;
    uint64_t errs0 = atomic_load(&load_read_errors) + atomic_load(&load_txn_errors);
    expose(id, event, number == 823);
    gate_open();

    usleep(EXPOSE_US);                 /* the load meets the damage, or not */
    check_detected(id, event, number, kind);
    ty->detected++;
    ty->events[event]++;

    gate_exclusive();
    load_errors_at_injection += atomic_load(&load_read_errors) + atomic_load(&load_txn_errors) - errs0;
    unexpose();
    if (rule)
        fault_remove(rule);
    else
        pwrite_page(fd, id, good);
    opened(good, id, mode, mem);
    check_repaired(id, mem);
    free(old), free(bad), free(good), free(mem);
}

static enum kind pick_kind(uint64_t *rng, int mode)
{
    if (mode == PAGE_VERIFY_TORN) {
        static const enum kind torn_kinds[] = { K_TEAR, K_TEAR, K_TEAR_FIO, K_TEAR_FIO, K_OTHER_PAGE, K_READ_EIO,
                                                K_BITFLIP };
        return torn_kinds[rnd(rng, sizeof torn_kinds / sizeof torn_kinds[0])];
    }
    return (enum kind)rnd(rng, NKINDS);
}

/* ALTER DATABASE ... SET PAGE_VERIFY, as exec_pageverify.c does it. */
static void set_page_verify(int mode)
{
    hdb_err e;
    pthread_mutex_lock(&g_db->boot_mu);
    g_db->boot.page_verify = (uint8_t)mode;
    int rc = db_write_boot(g_db, &e);
    pthread_mutex_unlock(&g_db->boot_mu);
    if (rc < 0)
        fail_msg("page verify: %s", e.msg);
    df_set_page_verify(g_db->df, mode);
}

/* ---- setup and final checks ------------------------------------------------------- */

static void create_schema(void)
{
    hdb_err e;
    tbl_column c[5] = { { .name = "id", .type = { .id = SQL_INT } },
                        { .name = "ver", .type = { .id = SQL_BIGINT } },
                        { .name = "sk", .type = { .id = SQL_INT } },
                        { .name = "h", .type = { .id = SQL_BIGINT } },
                        { .name = "payload", .type = { .id = SQL_VARCHAR, .max_len = -1 } } };
    int pk = 0, skcol = 2;
    table_spec s = { .schema_id = SCHEMA_DBO, .name = "t", .ncols = 5, .cols = c, .npk = 1, .pk_cols = &pk };
    txn *t = txn_begin(g_in->txns, 1, "ddl", "sa");
    if (cat_create_table(t, g_db, &s, NULL, &e) < 0)
        fail_msg("create table: %s", e.msg);
    table_def *td = h_table(g_db, "t");
    if (cat_create_index(t, g_db, td, "ux_sk", 1, 1, &skcol, NULL, &e) < 0)
        fail_msg("create index: %s", e.msg);
    assert_int_equal(txn_commit(t, &e), 0);
    txn_free(t);
    g_td = h_table(g_db, "t");
    assert_int_equal(g_td->nidx, 2);

    uint8_t *pbuf = malloc(payload_len(5) + 8192);
    for (int k = 0; k < NKEYS_INIT;) {
        t = txn_begin(g_in->txns, 1, "load", "sa");
        for (int n = 0; n < 500 && k < NKEYS_INIT; n++, k++) {
            sql_value v[5];
            make_row(k, 1, pbuf, v);
            if (table_insert(t, g_db, g_td, v, &e) != 0)
                fail_msg("load %d: %s", k, e.msg);
            atomic_store(&committed[k], 1);
            atomic_store(&attempted[k], 1);
        }
        assert_int_equal(txn_commit(t, &e), 0);
        txn_free(t);
    }
    free(pbuf);
    assert_int_equal(db_checkpoint(g_db, &e), 0);
}

/* Every row and index entry equals the model (the load is stopped). */
static void verify_all(table_def *td)
{
    hdb_err e;
    txn *t = txn_begin(g_in->txns, 1, "verify", "sa");
    table_scan *s = table_scan_open(t, g_db, td, ISO_READ_COMMITTED, &e);
    assert_non_null(s);
    table_row r;
    int rc, prev = -1, rows = 0;
    while ((rc = table_scan_next(s, &r, &e)) == 1) {
        int k = check_row(&r, "final scan");
        assert_true(k > prev);
        for (int m = prev + 1; m < k; m++)
            if (atomic_load(&committed[m]))
                fail_msg("final scan: key %d missing", m);
        if (r.vals[1].u.i != atomic_load(&committed[k]))
            fail_msg("final scan: key %d version %" PRId64 ", committed %" PRId64, k, r.vals[1].u.i,
                     (int64_t)atomic_load(&committed[k]));
        prev = k;
        rows++;
    }
    if (rc < 0)
        fail_msg("final scan: %s", e.msg);
    for (int m = prev + 1; m < MAXKEYS; m++)
        if (atomic_load(&committed[m]))
            fail_msg("final scan: key %d missing", m);
    table_scan_close(s);
    txn_commit(t, &e);
    txn_free(t);
    assert_no_violation();

    bt_cursor *c = bt_cursor_open(&td->idx[1].bt, NULL, 0, 1, &e);
    assert_non_null(c);
    const uint8_t *k, *v;
    size_t kl, vl;
    int entries = 0;
    while ((rc = bt_cursor_next(c, &k, &kl, &v, &vl, &e)) == 1) {
        int32_t sk = -1, ck = -1;
        assert_int_equal(key_int(k, kl, &sk), 0);
        assert_int_equal(key_int(v, vl, &ck), 0);
        assert_true(ck >= 0 && ck < MAXKEYS);
        assert_int_equal(sk, sk_of(ck, atomic_load(&committed[ck])));
        entries++;
    }
    assert_int_equal(rc, 0);
    bt_cursor_close(c);
    assert_int_equal(entries, rows);
    for (int i = 0; i < 2; i++) {
        bt_stats st;
        if (bt_check(&td->idx[i].bt, &st, &e) < 0)
            fail_msg("bt_check of index %d: %s", i + 1, e.msg);
    }
}

struct dbcc_tally { int leaks, other; char first[HDB_ERR_MSG_MAX]; };

static void dbcc_emit(void *ctx, const dbcc_msg *m)
{
    struct dbcc_tally *d = ctx;
    if (m->severity <= 10)
        return;
    /* 8964 / 2533: an off-row page allocated but unreferenced (a leak: see
     * the top of the file); 8951/8952 and the like would be real damage */
    if (m->number == 8964 || m->number == 2533)
        d->leaks++;
    else if (d->other++ == 0)
        snprintf(d->first, sizeof d->first, "%d: %.900s", m->number, m->text);
}

static int setup(void **state)
{
    (void)state;
    h_make_dir();
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    fault_clear();
    h_remove_dir();
    return 0;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void corruption_loop(void **state)
{
    (void)state;
    double t0 = now_s();
    hdb_err e;
    uint64_t seed = getenv("HADR_CORRUPT_SEED") ? strtoull(getenv("HADR_CORRUPT_SEED"), NULL, 0)
                                                : (uint64_t)time(NULL) ^ (uint64_t)getpid();
    seed |= 1;
    print_message("corruption loop: seed %" PRIu64 " (HADR_CORRUPT_SEED)\n", seed);

    /* the keys the rows are stored under are what int_key() says */
    {
        sql_value v = value_int(SQL_INT, -12345);
        sql_type ty = { .id = SQL_INT };
        uint8_t a[16], b[16];
        size_t n;
        assert_int_equal(keyenc_encode(&v, &ty, NULL, 1, a, sizeof a, &n, &e), 0);
        assert_int_equal(n, int_key(-12345, b));
        assert_memory_equal(a, b, n);
    }

    g_in = h_open(2);                         /* 256 frames: the data does not fit */
    g_db = inst_create_database(g_in, "corr", &e);
    if (!g_db)
        fail_msg("create database: %s", e.msg);
    assert_int_equal(df_page_verify(g_db->df), PAGE_VERIFY_CHECKSUM);
    df_set_suspect_hook(g_db->df, hook, g_in);
    snprintf(g_path, sizeof g_path, "%s", df_file(g_db->df, 1)->path);
    create_schema();

    pthread_rwlockattr_t ga;
    pthread_rwlockattr_init(&ga);
    pthread_rwlockattr_setkind_np(&ga, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
    pthread_rwlock_init(&gate, &ga);
    pthread_rwlockattr_destroy(&ga);

    int fd = open(g_path, O_RDWR);
    assert_true(fd >= 0);
    worker ws[NWRITERS + NREADERS];
    atomic_store(&stop, 0);
    gate_exclusive();                         /* the corruptor holds the gate except while exposing */
    for (int i = 0; i < NWRITERS + NREADERS; i++) {
        ws[i] = (worker){ .id = i < NWRITERS ? i : i - NWRITERS, .rng = mix64(seed + (uint64_t)i + 1) | 1 };
        ws[i].snap = calloc(MAXKEYS, sizeof(int64_t));
        ws[i].pbuf = malloc(payload_len(5) + 8192);
        ws[i].next_insert = NKEYS_INIT + ws[i].id;
        assert_int_equal(pthread_create(&ws[i].th, NULL, i < NWRITERS ? writer_main : reader_main, &ws[i]), 0);
    }

    pagesets ps = { 0 };
    uint64_t rng = seed;
    for (int round = 0; round < ROUNDS_CHECKSUM + ROUNDS_TORN; round++) {
        int mode = round < ROUNDS_CHECKSUM ? PAGE_VERIFY_CHECKSUM : PAGE_VERIFY_TORN;
        if (round == ROUNDS_CHECKSUM)
            set_page_verify(PAGE_VERIFY_TORN);
        if (round % 16 == 15)
            assert_int_equal(db_checkpoint(g_db, &e), 0);   /* keeps the log short */
        flush_all();
        collect_pages(&ps);
        one_round(fd, &ps, &rng, mode, pick_kind(&rng, mode));
        assert_no_violation();
        /* let the load run on good pages too */
        gate_open();
        usleep(1000);
        gate_exclusive();
    }
    atomic_store(&stop, 1);
    gate_open();
    for (int i = 0; i < NWRITERS + NREADERS; i++) {
        pthread_join(ws[i].th, NULL);
        free(ws[i].snap);
        free(ws[i].pbuf);
    }
    close(fd);
    for (int c = 0; c < NCATS; c++)
        free(ps.v[c]);
    free(ps.seen);
    assert_no_violation();
    double t_loop = now_s() - t0;

    /* the report */
    int injected = 0, detected = 0;
    for (int m = 0; m < 2; m++)
        for (int k = 0; k < NKINDS; k++) {
            tally *ty = &tallies[m][k];
            if (!ty->injected && !ty->noop && !ty->stale && !ty->by_design)
                continue;
            print_message("  %-8s %-33s injected %3d detected %3d (events 1/2/3: %2d/%2d/%2d)  no-op %d  "
                          "lost write %d  undetectable by design %d\n",
                          m ? "TORN" : "CHECKSUM", kind_name[k], ty->injected, ty->detected, ty->events[1],
                          ty->events[2], ty->events[3], ty->noop, ty->stale, ty->by_design);
            assert_int_equal(ty->detected, ty->injected);
            if (k != K_TRANSIENT) {
                injected += ty->injected;
                detected += ty->detected;
            }
        }
    print_message("  pages: leaf %d, internal %d, secondary %d, overflow %d, system %d\n", cat_injected[0],
                  cat_injected[1], cat_injected[2], cat_injected[3], cat_injected[4]);
    print_message("  load: %" PRIu64 " reads (%" PRIu64 " failed), %" PRIu64 " txns (%" PRIu64 " failed, %" PRIu64
                  " rolled back); %" PRIu64 " load errors met injected pages; %" PRIu64 " hook calls; %d transient "
                  "healed; loop %.1f s\n",
                  (uint64_t)load_reads, (uint64_t)load_read_errors, (uint64_t)load_txns, (uint64_t)load_txn_errors,
                  (uint64_t)load_rollbacks, load_errors_at_injection, (uint64_t)hook_calls, transient_healed, t_loop);
    assert_true(injected >= 100);
    assert_int_equal(detected, injected);
    assert_true(load_errors_at_injection > 0);   /* the load did meet the damage */
    /* one hook call per failed read: each load error came from one, each
     * check of ours made one; a few more come from reads whose error is
     * swallowed (a chain freed at commit, a merge given up) */
    assert_true(atomic_load(&hook_calls) >= load_errors_at_injection + (uint64_t)injected);

    /* the engine's suspect queue got every event the hook saw */
    suspect_event ev[256];
    uint64_t queued = 0;
    int n;
    while ((n = suspect_take(g_in, ev, 256)) > 0)
        for (int i = 0; i < n; i++)
            if (ev[i].kind == SUSPECT_EV_PAGE && ev[i].db_id == df_db_id(g_db->df))
                queued += ev[i].count;
    assert_int_equal(queued, atomic_load(&hook_calls));

    /* the data equals the model; the structures are sound */
    verify_all(g_td);
    struct dbcc_tally dt = { 0 };
    dbcc_opts o = { .what = DBCC_CHECKDB, .lock_timeout_ms = -1, .emit = dbcc_emit, .ctx = &dt };
    dbcc_result dr;
    assert_int_equal(dbcc_run(g_db, &o, &dr, &e), 0);
    if (dt.other)
        fail_msg("DBCC CHECKDB: %d error(s), first %s", dt.other, dt.first);
    print_message("  DBCC CHECKDB: clean but %d leaked overflow page message(s)\n", dt.leaks);

    /* and after a clean restart */
    inst_close(g_in, 1);
    g_in = h_open(2);
    g_db = inst_find_database(g_in, "corr");
    assert_non_null(g_db);
    assert_int_equal(g_db->state, DB_ONLINE);
    verify_all(h_table(g_db, "t"));
    inst_close(g_in, 1);
    pthread_rwlock_destroy(&gate);
    print_message("  total %.1f s\n", now_s() - t0);
}

/* A page of all zeros passes every storage check ("unformatted", by design:
 * see storage/README.md), so the loop never injects one; the layer reading
 * the page must refuse it. For the allocation bitmap that layer used to
 * format it afresh, handing out pages in use (rows vanished, trees broke).
 * Now an allocation that needs it fails with 8946 and nothing is lost. */
static void zeroed_bitmap_is_refused(void **state)
{
    (void)state;
    hdb_err e;
    instance *in = h_open(8);
    database *db = inst_create_database(in, "zb", &e);
    h_create_table(in, db, "t");
    table_def *td = h_table(db, "t");
    const char *pad = "padding padding padding padding padding padding";
    txn *t = txn_begin(in->txns, 1, "load", "sa");
    for (int i = 0; i < 300; i++)
        assert_int_equal(h_insert(t, db, td, i, i, pad, &e), 0);
    assert_int_equal(txn_commit(t, &e), 0);
    txn_free(t);
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s", df_file(db->df, 1)->path);
    inst_close(in, 1);

    int fd = open(path, O_RDWR);
    assert_true(fd >= 0);
    static const uint8_t zero[PAGE_SIZE];
    assert_int_equal(pwrite(fd, zero, PAGE_SIZE, PAGE_SIZE), PAGE_SIZE);   /* page 1:1 */
    close(fd);

    in = h_open(8);
    db = inst_find_database(in, "zb");
    td = h_table(db, "t");
    int added = 0, rc = 0;
    for (int i = 1000; i < 3000 && rc == 0; i++) {   /* until a page must be allocated */
        t = txn_begin(in->txns, 1, "more", "sa");
        rc = h_insert(t, db, td, i, i, pad, &e);
        if (rc == 0) {
            assert_int_equal(txn_commit(t, &e), 0);
            added++;
        } else {
            hdb_err ig;
            txn_rollback(t, &ig);
        }
        txn_free(t);
    }
    assert_int_equal(rc, -1);
    assert_int_equal(e.number, 8946);
    assert_int_equal(h_count(in, db, td), 300 + added);
    for (int i = 0; i < 300; i += 7)
        assert_int_equal(h_get(in, db, td, i), i);
    inst_close(in, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(corruption_loop, setup, teardown),
        cmocka_unit_test_setup_teardown(zeroed_bitmap_is_refused, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
