/*
 * plancache.c — parsed batches kept for reuse (plancache.h).
 *
 * The scanner below walks a batch the way the lexer (lexer.c) does, but only
 * far enough to find comments, quoted names and constants; everything that
 * is not a parameterizable constant is copied into the key as written. A
 * tree is published only after its literal nodes were matched one to one to
 * the scanner's constants (plancache_insert), so a disagreement between the
 * two costs a cache entry, never a wrong value.
 */
#include "sql/plancache.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "sql/lexer.h"
#include "sql/parser.h"

#define NBUCKETS 1024
#define MARK     '\x01'   /* a constant in the key; texts holding it are not cached */

/* How one constant of the shape is used: a parameter slot, or fixed text. */
typedef struct span_use {
    int slot;                 /* 1-based; 0 = fixed */
    bool negate;
    const char *fixed;        /* slot 0: the text the constant must have */
    uint32_t fixed_len;
} span_use;

struct plan_entry {
    plan_entry *next;         /* hash chain */
    uint64_t hash;
    const char *key;
    size_t key_len;
    arena a;                  /* holds the tree and everything below */
    ast_batch *batch;
    span_use *uses;           /* one per span of the shape */
    int nspans;
    size_t bytes;
    int refs;
    bool dead;                /* out of the table: freed at the last release */
    plan_entry *newer, *older;  /* the LRU list */
    uint64_t id, runs;        /* sys.dm_exec_cached_plans (mu) */
    bool parameterized;
};

static struct {
    pthread_mutex_t mu;
    plan_entry *buckets[NBUCKETS];
    plan_entry *newest, *oldest;
    uint64_t entries, bytes;
    uint64_t next_id;
} pc = { .mu = PTHREAD_MUTEX_INITIALIZER };

static _Atomic uint64_t n_hits, n_misses, n_inserts, n_evictions;

bool plancache_enabled(void)
{
    static int on = -1;   /* benign race: every thread computes the same */
    if (on < 0) {
        const char *v = getenv("HADRD_PLAN_CACHE");
        on = !(v && strcmp(v, "0") == 0);
    }
    return on;
}

/* ---- the shape of a text ---------------------------------------------- */

/* End of a run quoted by `close` starting after its opener at i (a doubled
 * close stands for one), or 0 when the text ends first. */
static size_t quoted_end(const char *s, size_t len, size_t i, char close)
{
    while (i < len) {
        if (s[i] == close) {
            if (i + 1 < len && s[i + 1] == close) {
                i += 2;
                continue;
            }
            return i + 1;
        }
        i++;
    }
    return 0;
}

/* End of the block comment opening at i (they nest), or 0. */
static size_t comment_end(const char *s, size_t len, size_t i)
{
    int depth = 0;
    while (i < len) {
        if (s[i] == '/' && i + 1 < len && s[i + 1] == '*') {
            depth++;
            i += 2;
        } else if (s[i] == '*' && i + 1 < len && s[i + 1] == '/') {
            i += 2;
            if (--depth == 0)
                return i;
        } else {
            i++;
        }
    }
    return 0;
}

static uint64_t fnv1a(const char *p, size_t n)
{
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)p[i]) * 1099511628211ULL;
    return h;
}

plan_scan *plancache_scan(arena *a, const char *text, size_t len, bool quoted_identifier,
                          const char *const *declared, int ndeclared)
{
    if (len > PLANCACHE_MAX_TEXT || memchr(text, MARK, len))
        goto uncacheable;
    size_t hdr = 2;
    for (int i = 0; i < ndeclared; i++)
        hdr += strlen(declared[i]) + 1;
    plan_scan *sc = arena_alloc(a, sizeof *sc);
    size_t maxspans = len < PLANCACHE_MAX_SPANS ? len + 1 : PLANCACHE_MAX_SPANS;
    char *k = arena_alloc(a, hdr + 2 * len + 1);   /* "5" becomes MARK 'i' */
    plan_span *spans = arena_alloc(a, sizeof *spans * maxspans);
    if (!sc || !k || !spans)
        goto uncacheable;

    /* header: what else steers the parser */
    size_t o = 0;
    k[o++] = quoted_identifier ? 'Q' : 'q';
    for (int i = 0; i < ndeclared; i++) {
        size_t n = strlen(declared[i]);
        memcpy(k + o, declared[i], n);
        o += n;
        k[o++] = 0;
    }
    k[o++] = MARK;

    int ns = 0;
    size_t i = 0;
    while (i < len) {
        unsigned char c = (unsigned char)text[i], n1 = i + 1 < len ? (unsigned char)text[i + 1] : 0;
        size_t end = i + 1;
        char kind = 0;
        if (c == '-' && n1 == '-') {
            const char *nl = memchr(text + i, '\n', len - i);
            end = nl ? (size_t)(nl - text) : len;
        } else if (c == '/' && n1 == '*') {
            if (!(end = comment_end(text, len, i)))
                goto uncacheable;
        } else if (c == '\'' || ((c == 'N' || c == 'n') && n1 == '\'')) {
            size_t open = c == '\'' ? i + 1 : i + 2;
            if (!(end = quoted_end(text, len, open, '\'')))
                goto uncacheable;
            /* a line break inside would move the lines of what follows */
            if (!memchr(text + open, '\n', end - open))
                kind = c == '\'' ? 's' : 'n';
        } else if (c == '[' || c == '"') {
            if (!(end = quoted_end(text, len, i + 1, c == '[' ? ']' : '"')))
                goto uncacheable;
        } else if (lex_is_ident_start(c) || c == '@') {
            while (end < len && lex_is_ident_char((unsigned char)text[end]))
                end++;
        } else if (c == '0' && (n1 == 'x' || n1 == 'X')) {
            end = i + 2;
            while (end < len && lex_is_hex((unsigned char)text[end]))
                end++;
        } else if (lex_is_digit(c) || (c == '.' && lex_is_digit(n1)) ||
                   (c == '$' && (lex_is_digit(n1) || (n1 == '.' && i + 2 < len && lex_is_digit((unsigned char)text[i + 2]))))) {
            /* the lexer's number: digits [. digits] [e [+-] digits]; money
             * ($) takes no exponent */
            end = c == '$' ? i + 1 : i;
            while (end < len && lex_is_digit((unsigned char)text[end]))
                end++;
            bool dot = end < len && text[end] == '.';
            if (dot)
                for (end++; end < len && lex_is_digit((unsigned char)text[end]);)
                    end++;
            bool expo = c != '$' && end < len && (text[end] == 'e' || text[end] == 'E');
            if (expo) {
                end++;
                if (end < len && (text[end] == '+' || text[end] == '-'))
                    end++;
                while (end < len && lex_is_digit((unsigned char)text[end]))
                    end++;
            } else if (c != '$') {
                kind = dot ? 'd' : 'i';
                if (!dot) {
                    sql_value v;
                    sql_type t;
                    if (literal_number_value(TK_INTEGER, text + i, end - i, false, &v, &t))
                        goto uncacheable;   /* the parse reports it */
                    if (t.id != SQL_INT)
                        kind = 'I';
                }
            }
        }
        if (kind) {
            if (ns == (int)maxspans)
                goto uncacheable;
            spans[ns++] = (plan_span){ (uint32_t)i, (uint32_t)(end - i), kind };
            k[o++] = MARK;
            k[o++] = kind;
        } else {
            memcpy(k + o, text + i, end - i);
            o += end - i;
        }
        i = end;
    }
    *sc = (plan_scan){ k, o, fnv1a(k, o), spans, ns };
    return sc;
uncacheable:
    atomic_fetch_add_explicit(&n_misses, 1, memory_order_relaxed);
    return NULL;
}

/* ---- values of one execution ---------------------------------------- */

static int span_value(arena *a, const char *text, const plan_span *sp, bool negate, plan_lit *out)
{
    const char *p = text + sp->offset;
    if (sp->kind == 'i' || sp->kind == 'I' || sp->kind == 'd')
        return literal_number_value(sp->kind == 'd' ? TK_DECIMAL : TK_INTEGER, p, sp->len, negate, &out->v,
                                    &out->type);
    /* a string: drop the quotes (and N), undouble '' */
    size_t from = sp->kind == 'n' ? 2 : 1, to = sp->len - 1;
    char *buf = arena_alloc(a, to - from + 1);
    if (!buf)
        return 701;
    size_t n = 0;
    for (size_t j = from; j < to; j++) {
        buf[n++] = p[j];
        if (p[j] == '\'')
            j++;
    }
    return literal_string_value(a, buf, n, sp->kind == 'n', &out->v, &out->type);
}

/* ---- the table ------------------------------------------------------- */

static plan_entry **bucket_of(uint64_t hash) { return &pc.buckets[hash % NBUCKETS]; }

static void lru_unlink(plan_entry *e)
{
    if (e->newer) e->newer->older = e->older; else pc.newest = e->older;
    if (e->older) e->older->newer = e->newer; else pc.oldest = e->newer;
    e->newer = e->older = NULL;
}

static void lru_push_front(plan_entry *e)
{
    e->older = pc.newest;
    e->newer = NULL;
    if (pc.newest) pc.newest->newer = e; else pc.oldest = e;
    pc.newest = e;
}

static void entry_free(plan_entry *e)
{
    arena_destroy(&e->a);
    free(e);
}

/* Takes e out of the table (mu held); frees it unless someone runs it. */
static void unlink_locked(plan_entry *e)
{
    for (plan_entry **pp = bucket_of(e->hash); *pp; pp = &(*pp)->next)
        if (*pp == e) {
            *pp = e->next;
            break;
        }
    lru_unlink(e);
    e->dead = true;
    pc.entries--;
    pc.bytes -= e->bytes;
    if (e->refs == 0)
        entry_free(e);
}

plan_entry *plancache_lookup(const plan_scan *sc, const char *text, arena *a, const plan_lit **lits)
{
    pthread_mutex_lock(&pc.mu);
    plan_entry *e = *bucket_of(sc->hash);
    while (e && !(e->hash == sc->hash && e->key_len == sc->key_len && memcmp(e->key, sc->key, sc->key_len) == 0))
        e = e->next;
    if (e) {
        e->refs++;
        e->runs++;
        lru_unlink(e);
        lru_push_front(e);
    }
    pthread_mutex_unlock(&pc.mu);
    if (!e)
        goto miss;

    /* the tree is read-only now: the rest needs no lock */
    int nslots = 0;
    for (int j = 0; j < e->nspans; j++)
        if (e->uses[j].slot > nslots)
            nslots = e->uses[j].slot;
    plan_lit *v = arena_alloc(a, sizeof *v * (size_t)(nslots ? nslots : 1));
    if (!v)
        goto release;
    for (int j = 0; j < e->nspans; j++) {
        const span_use *u = &e->uses[j];
        const plan_span *sp = &sc->spans[j];
        if (u->slot == 0) {
            if (u->fixed_len != sp->len || memcmp(u->fixed, text + sp->offset, sp->len) != 0)
                goto release;
        } else if (span_value(a, text, sp, u->negate, &v[u->slot - 1]) != 0) {
            goto release;   /* out of range: the parse reports it */
        }
    }
    *lits = v;
    atomic_fetch_add_explicit(&n_hits, 1, memory_order_relaxed);
    return e;
release:
    plancache_release(e);
miss:
    atomic_fetch_add_explicit(&n_misses, 1, memory_order_relaxed);
    return NULL;
}

const ast_batch *plancache_batch(const plan_entry *e) { return e->batch; }

/* Decides each span's use from the parser's literals; false when they do not
 * line up (a literal straddling a span, one span two different literals). */
static bool match_spans(const plan_scan *sc, const ast_batch *b, span_use *uses, arena *a, const char *text)
{
    int slots = 0;
    for (int j = 0; j < sc->nspans; j++) {
        const plan_span *sp = &sc->spans[j];
        span_use *u = &uses[j];
        *u = (span_use){ 0 };
        int found = 0;
        bool pinned = false, negate = false;
        for (int l = 0; l < b->lits.n; l++) {
            const ast_lit_use *lu = b->lits.v[l];
            if (lu->offset + lu->len <= sp->offset || lu->offset >= sp->offset + sp->len)
                continue;
            if (lu->offset != sp->offset || lu->len != sp->len || (found && lu->negate != negate))
                return false;
            negate = lu->negate;
            pinned |= lu->pinned;
            found++;
        }
        if (found && !pinned) {
            u->slot = ++slots;
            u->negate = negate;
        } else {
            u->fixed = arena_memdup(a, text + sp->offset, sp->len);
            u->fixed_len = sp->len;
            if (!u->fixed)
                return false;
        }
    }
    /* a literal inside text kept verbatim is fine; one inside a span is not
     * (checked above); now give the parameters their slots */
    for (int j = 0; j < sc->nspans; j++)
        if (uses[j].slot)
            for (int l = 0; l < b->lits.n; l++)
                if (b->lits.v[l]->offset == sc->spans[j].offset)
                    b->lits.v[l]->e->u.lit.slot = uses[j].slot;
    return true;
}

/* Evicts the least recently used entries nobody runs until the cache is
 * within its bounds (mu held). */
static void evict_locked(void)
{
    plan_entry *e = pc.oldest;
    while (e && (pc.entries > PLANCACHE_MAX_ENTRIES || pc.bytes > PLANCACHE_MAX_BYTES)) {
        plan_entry *newer = e->newer;
        if (e->refs == 0) {
            unlink_locked(e);
            atomic_fetch_add_explicit(&n_evictions, 1, memory_order_relaxed);
        }
        e = newer;
    }
}

plan_entry *plancache_insert(const plan_scan *sc, const char *text, arena *a, ast_batch *b)
{
    /* what the entry keeps goes into the parse arena, which becomes the
     * entry's; if publishing fails it is the caller's to release as ever */
    span_use *uses = arena_alloc(a, sizeof *uses * (size_t)(sc->nspans ? sc->nspans : 1));
    char *key = arena_memdup(a, sc->key, sc->key_len);
    plan_entry *e = calloc(1, sizeof *e);
    if (!uses || !key || !e || !match_spans(sc, b, uses, a, text)) {
        free(e);
        return NULL;
    }
    e->hash = sc->hash;
    e->key = key;
    e->key_len = sc->key_len;
    e->batch = b;
    e->uses = uses;
    e->nspans = sc->nspans;

    pthread_mutex_lock(&pc.mu);
    for (plan_entry *o = *bucket_of(sc->hash); o; o = o->next)
        if (o->hash == sc->hash && o->key_len == sc->key_len && memcmp(o->key, sc->key, sc->key_len) == 0) {
            /* another session published this shape meanwhile: keep theirs;
             * b's slots are harmless (this session runs it without values) */
            pthread_mutex_unlock(&pc.mu);
            free(e);
            return NULL;
        }
    e->a = *a;
    arena_init(a, 0);
    e->bytes = sizeof *e + arena_bytes(&e->a);
    e->refs = 1;
    e->runs = 1;
    e->id = ++pc.next_id;
    /* the key's header holds the declared names between its flag and a MARK */
    e->parameterized = key[1] != MARK;
    for (int j = 0; j < e->nspans; j++)
        e->parameterized |= uses[j].slot != 0;
    plan_entry **bp = bucket_of(e->hash);
    e->next = *bp;
    *bp = e;
    lru_push_front(e);
    pc.entries++;
    pc.bytes += e->bytes;
    evict_locked();
    pthread_mutex_unlock(&pc.mu);
    atomic_fetch_add_explicit(&n_inserts, 1, memory_order_relaxed);
    return e;
}

void plancache_release(plan_entry *e)
{
    pthread_mutex_lock(&pc.mu);
    bool gone = --e->refs == 0 && e->dead;
    if (!gone && e->refs == 0)
        evict_locked();
    pthread_mutex_unlock(&pc.mu);
    if (gone)
        entry_free(e);
}

void plancache_flush(void)
{
    pthread_mutex_lock(&pc.mu);
    for (int i = 0; i < NBUCKETS; i++)
        while (pc.buckets[i])
            unlink_locked(pc.buckets[i]);
    pthread_mutex_unlock(&pc.mu);
}

void plancache_foreach(void (*fn)(void *ctx, const plancache_entry_info *e), void *ctx)
{
    pthread_mutex_lock(&pc.mu);
    for (plan_entry *e = pc.newest; e; e = e->older) {
        plancache_entry_info i = { e->id, (unsigned)(e->hash % NBUCKETS), e->refs, e->runs, e->bytes,
                                   e->parameterized };
        fn(ctx, &i);
    }
    pthread_mutex_unlock(&pc.mu);
}

void plancache_get_stats(plancache_stats *st)
{
    pthread_mutex_lock(&pc.mu);
    st->entries = pc.entries;
    st->bytes = pc.bytes;
    pthread_mutex_unlock(&pc.mu);
    st->hits = atomic_load_explicit(&n_hits, memory_order_relaxed);
    st->misses = atomic_load_explicit(&n_misses, memory_order_relaxed);
    st->inserts = atomic_load_explicit(&n_inserts, memory_order_relaxed);
    st->evictions = atomic_load_explicit(&n_evictions, memory_order_relaxed);
}
