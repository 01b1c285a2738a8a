/* Unit tests: the arena allocator (util/arena.c). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdint.h>
#include <string.h>

#include "util/arena.h"

static void alignment_and_contents(void **state)
{
    (void)state;
    arena a;
    arena_init(&a, 256);
    char *prev = NULL;
    for (size_t n = 0; n < 300; n++) {
        char *p = arena_alloc(&a, n);
        assert_non_null(p);
        assert_int_equal((uintptr_t)p % 16, 0);
        assert_true(p != prev);
        memset(p, (int)n, n);
        prev = p;
    }
    /* earlier blocks are not overwritten by later ones */
    arena_reset(&a);
    char *x = arena_alloc(&a, 40), *y = arena_alloc(&a, 40);
    memset(x, 'x', 40);
    memset(y, 'y', 40);
    for (int i = 0; i < 40; i++)
        assert_int_equal(x[i], 'x');
    arena_destroy(&a);
}

static void big_blocks_keep_current_chunk(void **state)
{
    (void)state;
    arena a;
    arena_init(&a, 1024);
    char *small1 = arena_alloc(&a, 16);
    char *big = arena_alloc(&a, 100000);   /* its own chunk */
    char *small2 = arena_alloc(&a, 16);
    assert_non_null(big);
    memset(big, 1, 100000);
    /* the small ones came from the same ordinary chunk */
    assert_true(small2 - small1 == 16);
    assert_true(arena_bytes(&a) >= 100000 + 1024);
    arena_destroy(&a);
    assert_int_equal(arena_bytes(&a), 0);
}

static void strings_and_calloc(void **state)
{
    (void)state;
    arena a;
    arena_init(&a, 0);
    char *s = arena_strdup(&a, "hello");
    assert_string_equal(s, "hello");
    char *t = arena_strndup(&a, "abcdef", 3);
    assert_string_equal(t, "abc");
    int *z = arena_calloc(&a, 64 * sizeof(int));
    for (int i = 0; i < 64; i++)
        assert_int_equal(z[i], 0);
    uint8_t src[5] = { 1, 2, 3, 4, 5 };
    uint8_t *d = arena_memdup(&a, src, 5);
    assert_memory_equal(d, src, 5);
    assert_non_null(arena_alloc(&a, 0));
    arena_destroy(&a);
}

static void limit(void **state)
{
    (void)state;
    arena a;
    arena_init(&a, 1024);
    arena_set_limit(&a, 4096);
    int got = 0;
    while (arena_alloc(&a, 100))
        got++;
    assert_true(got >= 30 && got <= 41);
    assert_null(arena_alloc(&a, 1 << 20));
    assert_true(arena_bytes(&a) <= 4096);
    /* reset gives the room back */
    arena_reset(&a);
    assert_non_null(arena_alloc(&a, 100));
    arena_destroy(&a);
    /* absurd sizes fail cleanly */
    arena_init(&a, 0);
    assert_null(arena_alloc(&a, SIZE_MAX - 4));
    assert_null(arena_strndup(&a, "x", SIZE_MAX));
    arena_destroy(&a);
}

static void reset_reuses_first_chunk(void **state)
{
    (void)state;
    arena a;
    arena_init(&a, 512);
    for (int round = 0; round < 50; round++) {
        for (int i = 0; i < 100; i++)
            assert_non_null(arena_alloc(&a, 24));
        arena_reset(&a);
        assert_true(arena_bytes(&a) <= 512);
    }
    arena_destroy(&a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(alignment_and_contents),
        cmocka_unit_test(big_blocks_keep_current_chunk),
        cmocka_unit_test(strings_and_calloc),
        cmocka_unit_test(limit),
        cmocka_unit_test(reset_reuses_first_chunk),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
