/*
 * arena.h — region allocator: many small allocations, one release.
 *
 * Everything the parser builds for one batch (tokens' decoded text, the AST,
 * literal values) lives in one arena and dies with it, so no AST node is ever
 * freed individually and an error half-way through a parse leaks nothing.
 *
 * Memory comes from a list of chunks. Allocations are 16-byte aligned (the
 * AST holds sql_values with __int128 members). A request larger than a
 * quarter of the chunk size gets a chunk of its own, so one big string does
 * not waste the rest of the current chunk.
 *
 * An optional byte limit makes arena_alloc fail (return NULL) once the arena
 * holds that much, which bounds what one hostile batch can make the server
 * allocate. Not thread-safe: an arena belongs to one session at a time.
 */
#ifndef HDB_UTIL_ARENA_H
#define HDB_UTIL_ARENA_H

#include <stddef.h>

typedef struct arena_chunk arena_chunk;

typedef struct arena {
    arena_chunk *head;     /* chunk being filled; older chunks follow */
    size_t chunk_size;     /* payload bytes of an ordinary chunk */
    size_t total;          /* payload bytes held by all chunks */
    size_t limit;          /* 0 = unlimited; else arena_alloc fails beyond it */
} arena;

#define ARENA_DEFAULT_CHUNK (32u * 1024u)

/* chunk_size 0 picks ARENA_DEFAULT_CHUNK. No memory is taken until the first
 * allocation. */
void arena_init(arena *a, size_t chunk_size);
/* Caps the bytes the arena may hold (0 = no cap). */
void arena_set_limit(arena *a, size_t limit);

/* n bytes, 16-byte aligned, uninitialised; NULL when out of memory or over the
 * limit. n == 0 returns a valid unique pointer. */
void *arena_alloc(arena *a, size_t n);
void *arena_calloc(arena *a, size_t n);
/* Copies are byte-aligned (they hold text and bytes), so they pack tightly. */
void *arena_memdup(arena *a, const void *p, size_t n);
/* NUL-terminated copy of the first n bytes of s (s need not be terminated). */
char *arena_strndup(arena *a, const char *s, size_t n);
char *arena_strdup(arena *a, const char *s);

/* Releases every allocation but keeps the first chunk for reuse, so a session
 * parsing batch after batch does not go back to malloc each time. */
void arena_reset(arena *a);
/* Releases everything; the arena may be reused after arena_init. */
void arena_destroy(arena *a);

/* Payload bytes currently held (for limits and diagnostics). */
size_t arena_bytes(const arena *a);

#endif
