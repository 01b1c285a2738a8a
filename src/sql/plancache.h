/*
 * plancache.h — parsed batches kept for reuse, with simple parameterization.
 *
 * Parsing is the part of a statement's work that depends only on its text,
 * so a batch's tree is kept, keyed by the text with its number and string
 * constants taken out ("shape"), and the next batch of the same shape runs
 * that tree with its own constants: `... WHERE aid = 17` and
 * `... WHERE aid = 4711` share one entry. Binding still happens at every
 * execution (expr_bind.c), so a cached tree never holds a stale table,
 * column or type: only the parse is saved, never a plan that DDL could make
 * wrong.
 *
 * Which constants become parameters: an integer, a decimal (1.5), a '...'
 * or N'...' string written in the text, when the parser made a literal
 * of exactly that token (ast_batch.lits) and did not look at its value
 * (TOP 5 without parentheses, option values read by the parser: those
 * stay part of the shape and must match exactly). Floats (1e5), money,
 * binary constants and strings with a line break in them are shape too.
 * The key also holds what else steers the parser: QUOTED_IDENTIFIER and
 * the names of the variables declared before the batch (sp_executesql's
 * parameters).
 *
 * The cache is one per process, shared by all sessions: an entry's tree is
 * read-only once published; a session holds a reference while it runs it
 * (plancache_release). Entries beyond PLANCACHE_MAX_ENTRIES or
 * PLANCACHE_MAX_BYTES are evicted, least recently used first, as soon as
 * nobody runs them; DBCC FREEPROCCACHE empties it. HADRD_PLAN_CACHE=0 in
 * the environment turns it off.
 */
#ifndef HDB_SQL_PLANCACHE_H
#define HDB_SQL_PLANCACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "access/value.h"
#include "sql/ast.h"
#include "util/arena.h"

#define PLANCACHE_MAX_TEXT    8000    /* longer batches are not kept */
#define PLANCACHE_MAX_SPANS   256     /* constants in one batch */
#define PLANCACHE_MAX_ENTRIES 2048
#define PLANCACHE_MAX_BYTES   ((size_t)16 << 20)

/* One parameter's value for one execution. */
typedef ast_lit_value plan_lit;

/* A constant of the text: where it is and what kind of token it is. */
typedef struct plan_span {
    uint32_t offset, len;
    char kind;                /* 'i' int, 'I' beyond int, 'd' decimal, 's' '...', 'n' N'...' */
} plan_span;

/* A batch text reduced to its shape (plancache_scan). */
typedef struct plan_scan {
    char *key;
    size_t key_len;
    uint64_t hash;
    plan_span *spans;
    int nspans;
} plan_scan;

typedef struct plan_entry plan_entry;

/* Is the cache on (HADRD_PLAN_CACHE, read once)? */
bool plancache_enabled(void);

/* The shape of text[0..len) parsed with these options, in `a`. NULL when the
 * text cannot be cached (too long, too many constants, a byte the shape
 * could not tell from a marker, an unterminated quote or comment). */
plan_scan *plancache_scan(arena *a, const char *text, size_t len, bool quoted_identifier,
                          const char *const *declared, int ndeclared);

/* The entry of this shape, referenced, with the text's parameter values in
 * `a` (*lits, one per slot); NULL when there is none or the text's fixed
 * constants differ from the entry's. */
plan_entry *plancache_lookup(const plan_scan *sc, const char *text, arena *a, const plan_lit **lits);

/* The tree to run (shared: read only). */
const ast_batch *plancache_batch(const plan_entry *e);

/* Publishes batch b, parsed from the scanned text into *a: on success the
 * entry owns the arena (*a is left empty), b's parameter literals get their
 * slots, and the entry comes back referenced. NULL when b's literals do
 * not line up with the scan, or an entry of this shape already exists
 * (then *a and b are untouched and stay the caller's). */
plan_entry *plancache_insert(const plan_scan *sc, const char *text, arena *a, ast_batch *b);

void plancache_release(plan_entry *e);

/* DBCC FREEPROCCACHE: drops every entry (those running go when released). */
void plancache_flush(void);

/* One entry as sys.dm_exec_cached_plans shows it. */
typedef struct plancache_entry_info {
    uint64_t handle;          /* unique for the life of the process */
    unsigned bucket;
    int refs;                 /* sessions running it now */
    uint64_t uses;            /* executions: the first and every reuse */
    size_t bytes;
    bool parameterized;       /* constants became parameters, or it had declared ones */
} plancache_entry_info;

/* Calls fn for every entry, under the cache's lock (fn must not use the cache). */
void plancache_foreach(void (*fn)(void *ctx, const plancache_entry_info *e), void *ctx);

typedef struct plancache_stats {
    uint64_t hits, misses, inserts, evictions;
    uint64_t entries, bytes;
} plancache_stats;
void plancache_get_stats(plancache_stats *st);

#endif
