/* Unit tests: UTF-8 <-> UTF-16LE conversion, malformed input, truncation. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util/utf16.h"

static void ascii_and_bmp(void **state)
{
    (void)state;
    uint8_t u[64];
    char s[64];
    assert_int_equal(utf8_to_utf16le("ab", 2, u, sizeof u), 4);
    assert_memory_equal(u, "a\0b\0", 4);
    /* é (U+00E9), € (U+20AC) */
    const char *t = "\xC3\xA9\xE2\x82\xAC";
    assert_int_equal(utf8_to_utf16le(t, strlen(t), u, sizeof u), 4);
    assert_memory_equal(u, "\xE9\x00\xAC\x20", 4);
    assert_int_equal(utf16le_to_utf8(u, 4, s, sizeof s), 5);
    assert_string_equal(s, t);
    assert_int_equal(utf8_utf16_units(t, strlen(t)), 2);
    assert_int_equal(utf16le_to_utf8(u, 0, s, sizeof s), 0);
    assert_string_equal(s, "");
}

static void surrogate_pairs(void **state)
{
    (void)state;
    const char *t = "\xF0\x9F\x98\x80";            /* U+1F600 */
    uint8_t u[8];
    char s[8];
    assert_int_equal(utf8_to_utf16le(t, 4, u, sizeof u), 4);
    assert_memory_equal(u, "\x3D\xD8\x00\xDE", 4);
    assert_int_equal(utf16le_to_utf8(u, 4, s, sizeof s), 4);
    assert_string_equal(s, t);
    assert_int_equal(utf8_utf16_units(t, 4), 2);
    /* U+10FFFF, the last code point */
    const char *m = "\xF4\x8F\xBF\xBF";
    assert_int_equal(utf8_to_utf16le(m, 4, u, sizeof u), 4);
    assert_memory_equal(u, "\xFF\xDB\xFF\xDF", 4);
}

static void malformed_becomes_replacement(void **state)
{
    (void)state;
    char s[32];
    uint8_t u[32];
    /* lone high surrogate followed by 'a'; lone low surrogate; odd byte */
    const uint8_t bad16[] = { 0x00, 0xD8, 'a', 0, 0x00, 0xDC, 'b' };
    assert_int_equal(utf16le_to_utf8(bad16, sizeof bad16, s, sizeof s), 3 + 1 + 3 + 3);
    assert_string_equal(s, "\xEF\xBF\xBD" "a" "\xEF\xBF\xBD" "\xEF\xBF\xBD");
    /* high surrogate at the very end */
    const uint8_t end16[] = { 'x', 0, 0x3D, 0xD8 };
    assert_int_equal(utf16le_to_utf8(end16, 4, s, sizeof s), 4);
    /* UTF-8: stray continuation, overlong, surrogate, > U+10FFFF, truncated */
    const char *cases[] = { "\x80", "\xC0\xAF", "\xED\xA0\x80", "\xF4\x90\x80\x80", "\xE2\x82" };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        size_t n = utf8_to_utf16le(cases[i], strlen(cases[i]), u, sizeof u);
        assert_true(n >= 2);
        assert_int_equal(u[0], 0xFD);
        assert_int_equal(u[1], 0xFF);
    }
}

static void truncation_follows_snprintf(void **state)
{
    (void)state;
    const uint8_t u[] = { 'a', 0, 0xE9, 0, 'b', 0 };   /* "aéb" = 4 UTF-8 bytes */
    char s[8];
    memset(s, 'Z', sizeof s);
    assert_int_equal(utf16le_to_utf8(u, sizeof u, s, 3), 4);
    assert_string_equal(s, "a");                        /* é did not fit whole */
    assert_int_equal(utf16le_to_utf8(u, sizeof u, s, 4), 4);
    assert_string_equal(s, "a\xC3\xA9");
    assert_int_equal(utf16le_to_utf8(u, sizeof u, NULL, 0), 4);
    uint8_t o[4];
    assert_int_equal(utf8_to_utf16le("abc", 3, o, 4), 6);  /* writes only what fits */
    assert_memory_equal(o, "a\0b\0", 4);
}

static void allocating_forms(void **state)
{
    (void)state;
    size_t n;
    uint8_t *u = utf8_to_utf16le_alloc("h\xC3\xA9", 3, &n);
    assert_int_equal(n, 4);
    char *s = utf16le_to_utf8_alloc(u, n, &n);
    assert_int_equal(n, 3);
    assert_string_equal(s, "h\xC3\xA9");
    free(u);
    free(s);
    u = utf8_to_utf16le_alloc("", 0, &n);
    assert_non_null(u);
    assert_int_equal(n, 0);
    free(u);
}

/* Every UTF-16 unit pair decodes and re-encodes to itself when valid. */
static void exhaustive_bmp_round_trip(void **state)
{
    (void)state;
    for (uint32_t cp = 0; cp < 0x10000; cp++) {
        if (cp >= 0xD800 && cp <= 0xDFFF)
            continue;
        uint8_t u[2] = { (uint8_t)cp, (uint8_t)(cp >> 8) }, back[4];
        char s[8];
        size_t n = utf16le_to_utf8(u, 2, s, sizeof s);
        assert_int_equal(utf8_to_utf16le(s, n, back, sizeof back), 2);
        assert_memory_equal(back, u, 2);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(ascii_and_bmp),
        cmocka_unit_test(surrogate_pairs),
        cmocka_unit_test(malformed_becomes_replacement),
        cmocka_unit_test(truncation_follows_snprintf),
        cmocka_unit_test(allocating_forms),
        cmocka_unit_test(exhaustive_bmp_round_trip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
