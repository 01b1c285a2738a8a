/* arena.c — chunked region allocator (see arena.h for the contract). */
#include "util/arena.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define ARENA_ALIGN 16u

struct arena_chunk {
    arena_chunk *next;
    size_t size;      /* payload bytes */
    size_t used;
    /* Keeps the payload 16-byte aligned whatever the header's size. */
    _Alignas(16) unsigned char data[];
};

static size_t align_up(size_t n)
{
    return (n + (ARENA_ALIGN - 1)) & ~(size_t)(ARENA_ALIGN - 1);
}

void arena_init(arena *a, size_t chunk_size)
{
    a->head = NULL;
    a->chunk_size = chunk_size ? align_up(chunk_size) : ARENA_DEFAULT_CHUNK;
    a->total = 0;
    a->limit = 0;
}

void arena_set_limit(arena *a, size_t limit)
{
    a->limit = limit;
}

static arena_chunk *chunk_new(arena *a, size_t size)
{
    if (a->limit && (size > a->limit || a->total > a->limit - size))
        return NULL;
    if (size > SIZE_MAX - sizeof(arena_chunk))
        return NULL;
    arena_chunk *c = malloc(sizeof(arena_chunk) + size);
    if (!c)
        return NULL;
    c->size = size;
    c->used = 0;
    a->total += size;
    return c;
}

/* n bytes at an offset that is a multiple of `align` (1 or 16). Alignment
 * applies to where a block starts, not to its size, so strings pack
 * tightly between aligned nodes. */
static void *alloc_aligned(arena *a, size_t n, size_t align)
{
    if (n > SIZE_MAX - 2 * ARENA_ALIGN)
        return NULL;
    if (n == 0)
        n = 1;
    arena_chunk *c = a->head;
    if (c) {
        size_t off = (c->used + (align - 1)) & ~(align - 1);
        if (off <= c->size && c->size - off >= n) {
            c->used = off + n;
            return c->data + off;
        }
    }
    if (n > a->chunk_size / 4) {
        /* A big block gets its own chunk, linked behind the current one so the
         * current chunk's free space stays in use. */
        arena_chunk *big = chunk_new(a, align_up(n));
        if (!big)
            return NULL;
        big->used = big->size;
        if (c) {
            big->next = c->next;
            c->next = big;
        } else {
            big->next = NULL;
            a->head = big;
        }
        return big->data;
    }
    arena_chunk *fresh = chunk_new(a, a->chunk_size);
    if (!fresh)
        return NULL;
    fresh->next = c;
    a->head = fresh;
    fresh->used = n;
    return fresh->data;
}

void *arena_alloc(arena *a, size_t n)
{
    return alloc_aligned(a, n, ARENA_ALIGN);
}

void *arena_calloc(arena *a, size_t n)
{
    void *p = arena_alloc(a, n);
    if (p)
        memset(p, 0, n);
    return p;
}

void *arena_memdup(arena *a, const void *src, size_t n)
{
    void *p = alloc_aligned(a, n, 1);
    if (p && n)
        memcpy(p, src, n);
    return p;
}

char *arena_strndup(arena *a, const char *s, size_t n)
{
    if (n == SIZE_MAX)
        return NULL;
    char *p = alloc_aligned(a, n + 1, 1);
    if (!p)
        return NULL;
    if (n)
        memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

char *arena_strdup(arena *a, const char *s)
{
    return arena_strndup(a, s, strlen(s));
}

void arena_reset(arena *a)
{
    /* Keep the last chunk of the list: it is the oldest, normally an ordinary
     * chunk (the first allocation of a batch is small). */
    arena_chunk *keep = NULL;
    arena_chunk *c = a->head;
    while (c) {
        arena_chunk *next = c->next;
        if (!next && c->size == a->chunk_size) {
            keep = c;
            break;
        }
        free(c);
        c = next;
    }
    a->head = keep;
    a->total = 0;
    if (keep) {
        keep->used = 0;
        keep->next = NULL;
        a->total = keep->size;
    }
}

void arena_destroy(arena *a)
{
    arena_chunk *c = a->head;
    while (c) {
        arena_chunk *next = c->next;
        free(c);
        c = next;
    }
    a->head = NULL;
    a->total = 0;
}

size_t arena_bytes(const arena *a)
{
    return a->total;
}
