/*
 * test_keyenc.c — value comparison and order-preserving key encoding.
 *
 * The central property: for any two keys a, b
 *     sign(keyenc_compare(enc(a), enc(b))) == sign(SQL order of a vs b)
 * checked on many random pairs per type (values drawn from small alphabets and
 * edge values so that ties, prefixes, case/trailing-space equalities and embedded
 * zero bytes are frequent), with NULLs, DESC and composite keys.
 * Set KEYENC_SEED to reproduce a failing run with another seed.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "access/keyenc.h"
#include "access/value.h"

/* ------------------------------------------------------------- helpers */

static uint64_t rng_state = 0x9E3779B97F4A7C15ULL;

static uint64_t rnd(void)
{
    uint64_t z = (rng_state += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

static uint64_t rnd_below(uint64_t n) { return n ? rnd() % n : 0; }

static int sgn(int x) { return (x > 0) - (x < 0); }

/* Storage for generated variable data; reset per pair. */
static uint8_t arena[1 << 16];
static size_t arena_used;

static uint8_t *arena_alloc(size_t n)
{
    assert_true(arena_used + n <= sizeof arena);
    uint8_t *p = arena + arena_used;
    arena_used += n;
    return p;
}

static const uint8_t char_alpha[] = {
    'a', 'A', 'b', 'B', 'z', 'Z', ' ', ' ', 0x00, 0x01, 0x1F, '0', '9', '_', '-', '{',
    0xE9 /* é */, 0xC9 /* É */, 'e', 'E', 'f', 0xFF /* ÿ */, 0xDF /* ß */, 0xC6 /* Æ */,
    0xE6 /* æ */, 0x7F, 0xA0, 0xB2 /* ² */, '2', 0xAA /* ª */, 0xB5 /* µ */, 0xFE,
};
static const uint16_t nchar_alpha[] = {
    'a', 'A', 'b', 'B', 'z', ' ', ' ', 0x0000, 0x0001, '0', '_', 0x00E9, 0x00C9, 'e', 'E',
    0x00FF, 0x0178 /* Ÿ */, 0x0100, 0x0101, 0x0391, 0x03B1, 0x0410, 0x0430, 0x4E00,
    0xFFFF, 0xD800, 0xDC00, 0x2000, 0x0120, 0x0020, 0x00DF, 0x0130, 0x0131,
};
static const uint8_t bin_alpha[] = { 0x00, 0x00, 0x01, 0x02, 0x20, 0x7F, 0x80, 0xFF };

static int64_t pick_int(int64_t lo, int64_t hi)
{
    switch (rnd_below(4)) {
    case 0: {                                   /* near zero: lots of ties */
        int64_t x = (int64_t)rnd_below(5) - 2;
        return x < lo ? lo : x > hi ? hi : x;
    }
    case 1:
        return rnd_below(2) ? lo : hi;
    default: {
        uint64_t span = (uint64_t)hi - (uint64_t)lo;
        uint64_t r = span == UINT64_MAX ? rnd() : rnd_below(span + 1);
        return (int64_t)((uint64_t)lo + r);
    }
    }
}

static __int128 pick_dec(int p)
{
    __int128 lim = 1;
    for (int k = 0; k < p; k++)
        lim *= 10;
    switch (rnd_below(4)) {
    case 0: return (__int128)rnd_below(5) - 2;
    case 1: return rnd_below(2) ? lim - 1 : -(lim - 1);
    default: {
        unsigned __int128 r = ((unsigned __int128)rnd() << 64) | rnd();
        /* unsigned arithmetic: 2 * 10^38 does not fit a signed 128-bit integer */
        return (__int128)(r % (2 * (unsigned __int128)lim - 1) - (unsigned __int128)(lim - 1));
    }
    }
}

static double pick_double(void)
{
    static const double special[] = { 0.0, -0.0, 1.0, -1.0, 0.5, -0.5, DBL_MAX, -DBL_MAX,
                                      DBL_MIN, -DBL_MIN, 4.9e-324, -4.9e-324, 1e300, 3.0 };
    if (rnd_below(3) == 0)
        return special[rnd_below(sizeof special / sizeof special[0])];
    if (rnd_below(2))
        return (double)((int64_t)rnd_below(21) - 10) / 4;
    for (;;) {
        uint64_t bits = rnd();
        double d;
        memcpy(&d, &bits, 8);
        if (isfinite(d))
            return d;
    }
}

static void gen_string(sql_value *v, const sql_type *t)
{
    int uni = value_type_is_unicode(t->id);
    int64_t cap = value_type_max_bytes(t);
    size_t maxunits = (size_t)(cap < 0 ? 12 : (uni ? cap / 2 : cap));
    if (maxunits > 12)
        maxunits = 12;
    size_t n = rnd_below(maxunits + 1);
    uint8_t *p = arena_alloc(uni ? 2 * n : n);
    for (size_t k = 0; k < n; k++) {
        if (uni) {
            uint16_t u = nchar_alpha[rnd_below(sizeof nchar_alpha / sizeof nchar_alpha[0])];
            p[2 * k] = (uint8_t)u;
            p[2 * k + 1] = (uint8_t)(u >> 8);
        } else {
            p[k] = char_alpha[rnd_below(sizeof char_alpha)];
        }
    }
    v->bytes = p;
    v->len = (uint32_t)(uni ? 2 * n : n);
}

static void gen_binary(sql_value *v, const sql_type *t)
{
    int64_t cap = value_type_max_bytes(t);
    size_t n = rnd_below((size_t)(cap < 0 || cap > 8 ? 8 : cap) + 1);
    uint8_t *p = arena_alloc(n);
    for (size_t k = 0; k < n; k++)
        p[k] = bin_alpha[rnd_below(sizeof bin_alpha)];
    v->bytes = p;
    v->len = (uint32_t)n;
}

static sql_value gen_value(const sql_type *t, int allow_null)
{
    sql_value v = { 0 };
    v.type = t->id;
    if (allow_null && rnd_below(8) == 0) {
        v.is_null = 1;
        return v;
    }
    switch ((enum sql_type_id)t->id) {
    case SQL_TINYINT:    v.u.i = pick_int(0, 255); break;
    case SQL_SMALLINT:   v.u.i = pick_int(INT16_MIN, INT16_MAX); break;
    case SQL_INT:        v.u.i = pick_int(INT32_MIN, INT32_MAX); break;
    case SQL_SMALLMONEY: v.u.i = pick_int(INT32_MIN, INT32_MAX); break;
    case SQL_BIGINT:     v.u.i = pick_int(INT64_MIN, INT64_MAX); break;
    case SQL_MONEY:      v.u.i = pick_int(INT64_MIN, INT64_MAX); break;
    case SQL_BIT:        v.u.i = (int64_t)rnd_below(2); break;
    case SQL_DECIMAL: case SQL_NUMERIC:
        v.u.dec = pick_dec(t->precision ? t->precision : 38);
        break;
    case SQL_FLOAT: case SQL_REAL:
        v.u.f = pick_double();
        if (t->id == SQL_REAL && fabs(v.u.f) > FLT_MAX)
            v.u.f = v.u.f < 0 ? -FLT_MAX : FLT_MAX;
        break;
    case SQL_CHAR: case SQL_VARCHAR: case SQL_NCHAR: case SQL_NVARCHAR:
        gen_string(&v, t);
        break;
    case SQL_BINARY: case SQL_VARBINARY:
        gen_binary(&v, t);
        break;
    case SQL_DATE:       v.u.date = (int32_t)pick_int(0, VALUE_DATE_MAX); break;
    case SQL_TIME:       v.u.time = pick_int(0, VALUE_TICKS_PER_DAY - 1); break;
    case SQL_DATETIME:
        v.u.dt.days = (int32_t)pick_int(VALUE_DATETIME_MIN_DAYS, VALUE_DATETIME_MAX_DAYS);
        v.u.dt.ticks = (uint32_t)pick_int(0, VALUE_DT_TICKS_PER_DAY - 1);
        break;
    case SQL_DATETIME2:
        v.u.dt2.days = (int32_t)pick_int(0, VALUE_DATE_MAX);
        v.u.dt2.ticks = pick_int(0, VALUE_TICKS_PER_DAY - 1);
        break;
    case SQL_UNIQUEIDENTIFIER:
        /* mostly zero with one or two set bytes, so pairs often differ in only
         * one byte group and every group's significance gets exercised */
        for (int k = 1 + (int)rnd_below(2); k > 0; k--)
            v.u.guid[rnd_below(16)] = (uint8_t)(1 + rnd_below(3));
        break;
    case SQL_TYPE_NONE: case SQL_TYPE_COUNT:
        fail();
    }
    return v;
}

static sql_type ty(uint8_t id, int32_t n, uint8_t p, uint8_t s, uint16_t coll)
{
    sql_type t = value_type(id, n, p, s);
    t.collation_flags = coll;
    return t;
}

static sql_type all_types[40];
static int n_all_types;

static void init_types(void)
{
    if (n_all_types)
        return;
    const char *seed = getenv("KEYENC_SEED");
    if (seed)
        rng_state = strtoull(seed, NULL, 0);
    sql_type *t = all_types;
    *t++ = ty(SQL_TINYINT, 0, 0, 0, 0);
    *t++ = ty(SQL_SMALLINT, 0, 0, 0, 0);
    *t++ = ty(SQL_INT, 0, 0, 0, 0);
    *t++ = ty(SQL_BIGINT, 0, 0, 0, 0);
    *t++ = ty(SQL_BIT, 0, 0, 0, 0);
    *t++ = ty(SQL_DECIMAL, 0, 5, 2, 0);
    *t++ = ty(SQL_DECIMAL, 0, 9, 0, 0);
    *t++ = ty(SQL_DECIMAL, 0, 18, 4, 0);
    *t++ = ty(SQL_NUMERIC, 0, 38, 10, 0);
    *t++ = ty(SQL_DECIMAL, 0, 0, 0, 0);         /* precision 0 = 38 */
    *t++ = ty(SQL_MONEY, 0, 0, 0, 0);
    *t++ = ty(SQL_SMALLMONEY, 0, 0, 0, 0);
    *t++ = ty(SQL_FLOAT, 0, 0, 0, 0);
    *t++ = ty(SQL_REAL, 0, 0, 0, 0);
    *t++ = ty(SQL_CHAR, 8, 0, 0, 0);
    *t++ = ty(SQL_VARCHAR, 20, 0, 0, 0);
    *t++ = ty(SQL_VARCHAR, VALUE_LEN_MAX, 0, 0, 0);
    *t++ = ty(SQL_NCHAR, 6, 0, 0, 0);
    *t++ = ty(SQL_NVARCHAR, 20, 0, 0, 0);
    *t++ = ty(SQL_VARCHAR, 20, 0, 0, VALUE_COLL_CS);
    *t++ = ty(SQL_VARCHAR, 20, 0, 0, VALUE_COLL_AI);
    *t++ = ty(SQL_VARCHAR, 20, 0, 0, VALUE_COLL_CS | VALUE_COLL_AI);
    *t++ = ty(SQL_VARCHAR, 20, 0, 0, VALUE_COLL_BIN);
    *t++ = ty(SQL_NVARCHAR, 20, 0, 0, VALUE_COLL_CS);
    *t++ = ty(SQL_NVARCHAR, 20, 0, 0, VALUE_COLL_AI);
    *t++ = ty(SQL_NVARCHAR, 20, 0, 0, VALUE_COLL_BIN);
    *t++ = ty(SQL_BINARY, 6, 0, 0, 0);
    *t++ = ty(SQL_VARBINARY, 10, 0, 0, 0);
    *t++ = ty(SQL_DATE, 0, 0, 0, 0);
    *t++ = ty(SQL_TIME, 0, 7, 0, 0);
    *t++ = ty(SQL_DATETIME, 0, 0, 0, 0);
    *t++ = ty(SQL_DATETIME2, 0, 7, 0, 0);
    *t++ = ty(SQL_UNIQUEIDENTIFIER, 0, 0, 0, 0);
    n_all_types = (int)(t - all_types);
}

static size_t encode_ok(const sql_value *v, const sql_type *t, const uint8_t *desc, int n,
                        uint8_t *buf, size_t cap)
{
    hdb_err err = { 0 };
    size_t len = 0;
    int rc = keyenc_encode(v, t, desc, n, buf, cap, &len, &err);
    if (rc != 0)
        print_error("keyenc_encode failed: %d %s\n", err.number, err.msg);
    assert_int_equal(rc, 0);
    assert_true(len <= keyenc_size_bound(v, t, n));
    return len;
}

static int sql_tuple_compare(const sql_value *a, const sql_value *b, const sql_type *t,
                             const uint8_t *desc, int n)
{
    for (int i = 0; i < n; i++) {
        int c = sgn(value_compare(&a[i], &b[i], &t[i]));
        if (c)
            return desc && desc[i] ? -c : c;
    }
    return 0;
}

static void dump_pair(const sql_value *a, const sql_value *b, const sql_type *t, int n)
{
    char x[256], y[256];
    keyenc_describe(a, t, n, x, sizeof x);
    keyenc_describe(b, t, n, y, sizeof y);
    print_error("a=%s b=%s (first type %s, coll %d)\n", x, y, value_type_name(t[0].id),
                t[0].collation_flags);
}

/* The property itself, plus antisymmetry of value_compare. */
static void check_pair(const sql_value *a, const sql_value *b, const sql_type *t,
                       const uint8_t *desc, int n)
{
    uint8_t ka[512], kb[512];
    size_t la = encode_ok(a, t, desc, n, ka, sizeof ka);
    size_t lb = encode_ok(b, t, desc, n, kb, sizeof kb);
    int want = sql_tuple_compare(a, b, t, desc, n);
    int got = keyenc_compare(ka, la, kb, lb);
    if (want != got)
        dump_pair(a, b, t, n);
    assert_int_equal(want, got);
    assert_int_equal(want, -sql_tuple_compare(b, a, t, desc, n));
}

/* ---------------------------------------------------------------- tests */

static void test_single_column_random(void **state)
{
    (void)state;
    init_types();
    for (int ti = 0; ti < n_all_types; ti++) {
        for (int d = 0; d < 2; d++) {
            uint8_t desc = (uint8_t)d;
            for (int iter = 0; iter < 3000; iter++) {
                arena_used = 0;
                sql_value a = gen_value(&all_types[ti], 1);
                sql_value b = rnd_below(10) == 0 ? a : gen_value(&all_types[ti], 1);
                check_pair(&a, &b, &all_types[ti], &desc, 1);
            }
        }
    }
}

static void test_composite_random(void **state)
{
    (void)state;
    init_types();
    for (int iter = 0; iter < 20000; iter++) {
        arena_used = 0;
        int n = 1 + (int)rnd_below(4);
        sql_type t[4];
        sql_value a[4], b[4];
        uint8_t desc[4];
        for (int i = 0; i < n; i++) {
            t[i] = all_types[rnd_below((uint64_t)n_all_types)];
            desc[i] = (uint8_t)rnd_below(2);
            a[i] = gen_value(&t[i], 1);
            /* equal leading columns make later columns matter */
            b[i] = rnd_below(2) ? a[i] : gen_value(&t[i], 1);
        }
        check_pair(a, b, t, desc, n);
    }
}

/* Encoding the first k columns yields a byte prefix of the full key. */
static void test_prefix_property(void **state)
{
    (void)state;
    init_types();
    for (int iter = 0; iter < 2000; iter++) {
        arena_used = 0;
        sql_type t[3];
        sql_value v[3];
        uint8_t desc[3], full[512], part[512];
        for (int i = 0; i < 3; i++) {
            t[i] = all_types[rnd_below((uint64_t)n_all_types)];
            desc[i] = (uint8_t)rnd_below(2);
            v[i] = gen_value(&t[i], 1);
        }
        size_t lf = encode_ok(v, t, desc, 3, full, sizeof full);
        for (int k = 0; k <= 3; k++) {
            size_t lp = encode_ok(v, t, desc, k, part, sizeof part);
            assert_true(lp <= lf);
            assert_memory_equal(part, full, lp);
        }
    }
}

static sql_value str(uint8_t id, const char *s, size_t n) { return value_bytes(id, s, (uint32_t)n); }

#define S(id, lit) str(id, lit, sizeof(lit) - 1)

static void assert_order(sql_value a, sql_value b, const sql_type *t, int expect)
{
    uint8_t desc = 0;
    assert_int_equal(sgn(value_compare(&a, &b, t)), expect);
    check_pair(&a, &b, t, &desc, 1);
}

static void test_string_collation(void **state)
{
    (void)state;
    sql_type vc = value_type(SQL_VARCHAR, 50, 0, 0);
    sql_type nvc = value_type(SQL_NVARCHAR, 50, 0, 0);
    uint8_t k1[64], k2[64];

    /* case-insensitive and trailing-space-blind: identical encodings */
    sql_value a = S(SQL_VARCHAR, "abc"), b = S(SQL_VARCHAR, "ABC ");
    assert_int_equal(value_compare(&a, &b, &vc), 0);
    size_t l1 = encode_ok(&a, &vc, NULL, 1, k1, sizeof k1);
    size_t l2 = encode_ok(&b, &vc, NULL, 1, k2, sizeof k2);
    assert_int_equal(l1, l2);
    assert_memory_equal(k1, k2, l1);

    sql_value na = S(SQL_NVARCHAR, "a\0b\0c\0"), nb = S(SQL_NVARCHAR, "A\0B\0C\0 \0 \0");
    l1 = encode_ok(&na, &nvc, NULL, 1, k1, sizeof k1);
    l2 = encode_ok(&nb, &nvc, NULL, 1, k2, sizeof k2);
    assert_int_equal(value_compare(&na, &nb, &nvc), 0);
    assert_int_equal(l1, l2);
    assert_memory_equal(k1, k2, l1);

    assert_order(S(SQL_VARCHAR, "abc"), S(SQL_VARCHAR, "abd"), &vc, -1);
    assert_order(S(SQL_VARCHAR, "ab"), S(SQL_VARCHAR, "abc"), &vc, -1);
    assert_order(S(SQL_VARCHAR, ""), S(SQL_VARCHAR, "   "), &vc, 0);
    assert_order(S(SQL_VARCHAR, "a"), S(SQL_VARCHAR, "a\x01"), &vc, -1);
    assert_order(S(SQL_VARCHAR, "a "), S(SQL_VARCHAR, "a \x01"), &vc, -1);
    /* embedded zero bytes */
    assert_order(S(SQL_VARCHAR, "a"), S(SQL_VARCHAR, "a\0"), &vc, -1);
    assert_order(S(SQL_VARCHAR, "a\0b"), S(SQL_VARCHAR, "a\0c"), &vc, -1);
    assert_order(S(SQL_VARCHAR, "a\0"), S(SQL_VARCHAR, "a\x01"), &vc, -1);
    assert_order(S(SQL_NVARCHAR, "a\0\0\0"), S(SQL_NVARCHAR, "a\0"), &nvc, 1);
    assert_order(S(SQL_NVARCHAR, "a\0\0\x01"), S(SQL_NVARCHAR, "a\0b\0"), &nvc, 1);
    /* SQL Server order: punctuation < digits < letters; é right after e */
    assert_order(S(SQL_VARCHAR, "_"), S(SQL_VARCHAR, "0"), &vc, -1);
    assert_order(S(SQL_VARCHAR, "9"), S(SQL_VARCHAR, "a"), &vc, -1);
    assert_order(S(SQL_VARCHAR, "Zebra"), S(SQL_VARCHAR, "apple"), &vc, 1);
    assert_order(S(SQL_VARCHAR, "e"), S(SQL_VARCHAR, "\xE9"), &vc, -1);
    assert_order(S(SQL_VARCHAR, "\xE9"), S(SQL_VARCHAR, "f"), &vc, -1);
    assert_order(S(SQL_VARCHAR, "\xC9"), S(SQL_VARCHAR, "\xE9"), &vc, 0);   /* É = é */
    assert_order(S(SQL_NVARCHAR, "\xC9\0"), S(SQL_NVARCHAR, "\xE9\0"), &nvc, 0);
    assert_order(S(SQL_NVARCHAR, "\0\x01"), S(SQL_NVARCHAR, "\x01\x01"), &nvc, 0);  /* Ā ā */
    assert_order(S(SQL_NVARCHAR, "\x78\x01"), S(SQL_NVARCHAR, "\xFF\0"), &nvc, 0); /* Ÿ ÿ */

    sql_type cs = vc, ai = vc, bin = vc;
    cs.collation_flags = VALUE_COLL_CS;
    ai.collation_flags = VALUE_COLL_AI;
    bin.collation_flags = VALUE_COLL_BIN;
    assert_order(S(SQL_VARCHAR, "a"), S(SQL_VARCHAR, "A"), &cs, -1);
    assert_order(S(SQL_VARCHAR, "A"), S(SQL_VARCHAR, "b"), &cs, -1);
    assert_order(S(SQL_VARCHAR, "abc"), S(SQL_VARCHAR, "abc  "), &cs, 0);
    assert_order(S(SQL_VARCHAR, "e"), S(SQL_VARCHAR, "\xE9"), &ai, 0);
    assert_order(S(SQL_VARCHAR, "E"), S(SQL_VARCHAR, "\xE9"), &ai, 0);
    assert_order(S(SQL_VARCHAR, "B"), S(SQL_VARCHAR, "a"), &bin, -1);
    assert_order(S(SQL_VARCHAR, "a"), S(SQL_VARCHAR, "a\x01"), &bin, -1);
    assert_order(S(SQL_VARCHAR, "ab "), S(SQL_VARCHAR, "ab"), &bin, 0);

    /* char(n) compares like varchar: padding is invisible */
    sql_type ch = value_type(SQL_CHAR, 5, 0, 0);
    assert_order(S(SQL_CHAR, "ab   "), S(SQL_CHAR, "AB"), &ch, 0);
}

/* Every UTF-16 unit against its successor, under BIN (weight = unit) and the
 * default collation: covers all three weight-code lengths and their borders. */
static void test_weight_codes_exhaustive(void **state)
{
    (void)state;
    sql_type bin = value_type(SQL_NVARCHAR, 10, 0, 0), ci = bin;
    bin.collation_flags = VALUE_COLL_BIN;
    uint8_t desc = 0;
    for (uint32_t u = 0; u < 0xFFFF; u++) {
        uint8_t a[4] = { (uint8_t)u, (uint8_t)(u >> 8), 0, 0 };
        uint8_t b[4] = { (uint8_t)(u + 1), (uint8_t)((u + 1) >> 8), 'z', 0 };
        sql_value va = value_bytes(SQL_NVARCHAR, a, 4), vb = value_bytes(SQL_NVARCHAR, b, 2);
        sql_value va1 = value_bytes(SQL_NVARCHAR, a, 2), vb2 = value_bytes(SQL_NVARCHAR, b, 4);
        check_pair(&va, &vb, &bin, &desc, 1);
        check_pair(&va1, &vb2, &bin, &desc, 1);
        check_pair(&va, &va1, &bin, &desc, 1);
        check_pair(&va, &vb2, &ci, &desc, 1);
    }
}

/* Latin text keys stay about as long as the text (900-byte key limit). */
static void test_key_size(void **state)
{
    (void)state;
    static uint8_t text[900];
    for (int k = 0; k < 450; k++) {
        text[2 * k] = (uint8_t)"Hello, World 123 "[k % 17];
        text[2 * k + 1] = 0;
    }
    text[898] = 'x';                             /* no trailing space to trim */
    sql_type nv = value_type(SQL_NVARCHAR, 450, 0, 0);
    sql_value v = value_bytes(SQL_NVARCHAR, text, 900);
    uint8_t key[2048];
    size_t len = encode_ok(&v, &nv, NULL, 1, key, sizeof key);
    assert_int_equal(len, 1 + 450 + 1);
    sql_type cs = nv;
    cs.collation_flags = VALUE_COLL_CS;
    len = encode_ok(&v, &cs, NULL, 1, key, sizeof key);
    assert_true(len <= 1 + 2 * 450 + 1);
}

static void test_binary_trailing_zeros(void **state)
{
    (void)state;
    sql_type vb = value_type(SQL_VARBINARY, 10, 0, 0);
    assert_order(S(SQL_VARBINARY, "\x01"), S(SQL_VARBINARY, "\x01\0"), &vb, 0);
    assert_order(S(SQL_VARBINARY, ""), S(SQL_VARBINARY, "\0\0"), &vb, 0);
    assert_order(S(SQL_VARBINARY, "\0\x01"), S(SQL_VARBINARY, "\x01"), &vb, -1);
    assert_order(S(SQL_VARBINARY, "\x20"), S(SQL_VARBINARY, "\x20\x20"), &vb, -1);
    assert_order(S(SQL_VARBINARY, "\xFF"), S(SQL_VARBINARY, "\xFF\0\x01"), &vb, -1);
}

static void test_numbers(void **state)
{
    (void)state;
    sql_type f = value_type(SQL_FLOAT, 0, 0, 0), r = value_type(SQL_REAL, 0, 0, 0);
    assert_order(value_float(SQL_FLOAT, -0.0), value_float(SQL_FLOAT, 0.0), &f, 0);
    assert_order(value_float(SQL_REAL, -0.0), value_float(SQL_REAL, 0.0), &r, 0);
    static const double asc[] = { -DBL_MAX, -1e300, -1.5, -1, -DBL_MIN, -4.9e-324, 0,
                                  4.9e-324, DBL_MIN, 0.25, 1, 1.5, 1e300, DBL_MAX };
    for (size_t k = 0; k + 1 < sizeof asc / sizeof asc[0]; k++)
        assert_order(value_float(SQL_FLOAT, asc[k]), value_float(SQL_FLOAT, asc[k + 1]), &f, -1);
    /* real compares as float: doubles that round to the same float are equal */
    assert_order(value_float(SQL_REAL, 1.0), value_float(SQL_REAL, 1.0 + 1e-12), &r, 0);

    hdb_err err = { 0 };
    uint8_t buf[32];
    size_t len;
    sql_value nan = value_float(SQL_FLOAT, NAN), inf = value_float(SQL_FLOAT, INFINITY);
    assert_int_equal(keyenc_encode(&nan, &f, NULL, 1, buf, sizeof buf, &len, &err), -1);
    assert_int_equal(err.number, 8115);
    hdb_err_clear(&err);
    assert_int_equal(keyenc_encode(&inf, &f, NULL, 1, buf, sizeof buf, &len, &err), -1);
    assert_int_equal(err.number, 8115);

    sql_type d = value_type(SQL_DECIMAL, 0, 38, 0);
    __int128 big = 1;
    for (int k = 0; k < 37; k++)
        big *= 10;
    assert_order(value_decimal(-big), value_decimal(-1), &d, -1);
    assert_order(value_decimal(-1), value_decimal(0), &d, -1);
    assert_order(value_decimal(big * 9), value_decimal(big * 9 + 1), &d, -1);
    hdb_err_clear(&err);
    sql_value over = value_decimal(big * 10);
    assert_int_equal(keyenc_encode(&over, &d, NULL, 1, buf, sizeof buf, &len, &err), -1);
    assert_int_equal(err.number, 8115);

    sql_type ti = value_type(SQL_TINYINT, 0, 0, 0);
    sql_value bad = value_int(SQL_TINYINT, 256);
    hdb_err_clear(&err);
    assert_int_equal(keyenc_encode(&bad, &ti, NULL, 1, buf, sizeof buf, &len, &err), -1);
    assert_int_equal(err.number, 8115);
}

static int hexval(char c)
{
    return c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10;
}

/* Text "XXXXXXXX-XXXX-XXXX-XXXX-XXXXXXXXXXXX" to SQL Server storage order. */
static sql_value guid_from_text(const char *s)
{
    uint8_t text[16], g[16];
    int n = 0;
    for (const char *p = s; *p && n < 16; p++) {
        if (*p == '-')
            continue;
        text[n++] = (uint8_t)(hexval(p[0]) << 4 | hexval(p[1]));
        p++;
    }
    static const uint8_t from_text[16] = { 3, 2, 1, 0, 5, 4, 7, 6, 8, 9, 10, 11, 12, 13, 14, 15 };
    for (int k = 0; k < 16; k++)
        g[k] = text[from_text[k]];
    return value_guid(g);
}

/* SQL Server's ORDER BY of GUIDs with one non-zero byte, ascending (as reported
 * from SQL Server: the last group is most significant, the first least). */
static void test_guid_order(void **state)
{
    (void)state;
    static const char *const asc[] = {
        "01000000-0000-0000-0000-000000000000", "00010000-0000-0000-0000-000000000000",
        "00000100-0000-0000-0000-000000000000", "00000001-0000-0000-0000-000000000000",
        "00000000-0100-0000-0000-000000000000", "00000000-0001-0000-0000-000000000000",
        "00000000-0000-0100-0000-000000000000", "00000000-0000-0001-0000-000000000000",
        "00000000-0000-0000-0001-000000000000", "00000000-0000-0000-0100-000000000000",
        "00000000-0000-0000-0000-000000000001", "00000000-0000-0000-0000-000000000100",
        "00000000-0000-0000-0000-000000010000", "00000000-0000-0000-0000-000001000000",
        "00000000-0000-0000-0000-000100000000", "00000000-0000-0000-0000-010000000000",
    };
    sql_type g = value_type(SQL_UNIQUEIDENTIFIER, 0, 0, 0);
    for (size_t k = 0; k < 16; k++) {
        sql_value v = guid_from_text(asc[k]);
        char text[64];
        value_format(&v, &g, text, sizeof text);
        assert_string_equal(text, asc[k]);
        if (k + 1 < 16)
            assert_order(v, guid_from_text(asc[k + 1]), &g, -1);
    }
    assert_order(guid_from_text("55666BEE-B3A0-4BF5-81A7-86FF976E763F"),
                 guid_from_text("8DD5BCA5-6ABE-4F73-B4B7-393AE6BBB849"), &g, 1);
}

static void test_nulls(void **state)
{
    (void)state;
    sql_type t = value_type(SQL_INT, 0, 0, 0);
    sql_value n = value_null(SQL_INT), lo = value_int(SQL_INT, INT32_MIN);
    uint8_t asc = 0, desc = 1;
    assert_true(value_compare(&n, &lo, &t) < 0);
    assert_int_equal(value_compare(&n, &n, &t), 0);
    check_pair(&n, &lo, &t, &asc, 1);
    check_pair(&n, &lo, &t, &desc, 1);
    check_pair(&n, &n, &t, &desc, 1);
    uint8_t k1[8], k2[8];
    encode_ok(&n, &t, &desc, 1, k1, sizeof k1);
    sql_value hi = value_int(SQL_INT, INT32_MAX);
    encode_ok(&hi, &t, &desc, 1, k2, sizeof k2);
    assert_true(memcmp(k1, k2, 1) > 0);     /* DESC: NULL sorts last */
}

static void test_dates(void **state)
{
    (void)state;
    assert_int_equal(value_days_from_ymd(1, 1, 1), 0);
    assert_int_equal(value_days_from_ymd(1900, 1, 1), VALUE_DAYS_1900);
    assert_int_equal(value_days_from_ymd(9999, 12, 31), VALUE_DATE_MAX);
    assert_int_equal(value_days_from_ymd(1753, 1, 1) - VALUE_DAYS_1900, VALUE_DATETIME_MIN_DAYS);
    assert_int_equal(value_days_from_ymd(2000, 3, 1) - value_days_from_ymd(2000, 2, 28), 2);
    assert_int_equal(value_days_from_ymd(1900, 3, 1) - value_days_from_ymd(1900, 2, 28), 1);
    for (int32_t d = 0; d <= VALUE_DATE_MAX; d += 1 + (int32_t)rnd_below(50)) {
        int y, m, dd;
        value_ymd_from_days(d, &y, &m, &dd);
        assert_int_equal(value_days_from_ymd(y, m, dd), d);
    }
    int y, m, d;
    value_ymd_from_days(VALUE_DATE_MAX, &y, &m, &d);
    assert_int_equal(y * 10000 + m * 100 + d, 99991231);
    value_ymd_from_days(value_days_from_ymd(2024, 2, 29), &y, &m, &d);
    assert_int_equal(y * 10000 + m * 100 + d, 20240229);

    sql_type dt = value_type(SQL_DATETIME, 0, 0, 0);
    assert_order(value_datetime(-1, 25919999), value_datetime(0, 0), &dt, -1);
    sql_type d2 = value_type(SQL_DATETIME2, 0, 7, 0);
    assert_order(value_datetime2(5, VALUE_TICKS_PER_DAY - 1), value_datetime2(6, 0), &d2, -1);
}

static void test_describe(void **state)
{
    (void)state;
    sql_type t[4] = { value_type(SQL_INT, 0, 0, 0), value_type(SQL_VARCHAR, 10, 0, 0),
                      value_type(SQL_DECIMAL, 0, 10, 2), value_type(SQL_NVARCHAR, 10, 0, 0) };
    sql_value v[4] = { value_int(SQL_INT, 1), S(SQL_VARCHAR, "abc"), value_decimal(1250),
                       S(SQL_NVARCHAR, "h\0\xE9\0l\0") };
    char buf[128];
    size_t n = keyenc_describe(v, t, 4, buf, sizeof buf);
    assert_string_equal(buf, "(1, abc, 12.50, h\xC3\xA9l)");
    assert_int_equal(n, strlen(buf));

    /* truncation keeps the snprintf contract */
    char small[6];
    assert_int_equal(keyenc_describe(v, t, 4, small, sizeof small), n);
    assert_string_equal(small, "(1, a");

    sql_value nul = value_null(SQL_INT);
    keyenc_describe(&nul, t, 1, buf, sizeof buf);
    assert_string_equal(buf, "(<NULL>)");

    struct { sql_type t; sql_value v; const char *s; } cases[] = {
        { value_type(SQL_DECIMAL, 0, 5, 2), value_decimal(-5), "-0.05" },
        { value_type(SQL_DECIMAL, 0, 5, 0), value_decimal(0), "0" },
        { value_type(SQL_MONEY, 0, 0, 0), value_int(SQL_MONEY, 15000), "1.5000" },
        { value_type(SQL_FLOAT, 0, 0, 0), value_float(SQL_FLOAT, 0.1), "0.1" },
        { value_type(SQL_REAL, 0, 0, 0), value_float(SQL_REAL, 0.1f), "0.1" },
        { value_type(SQL_BIGINT, 0, 0, 0), value_int(SQL_BIGINT, INT64_MIN), "-9223372036854775808" },
        { value_type(SQL_VARBINARY, 4, 0, 0), S(SQL_VARBINARY, "\x01\xAB"), "0x01AB" },
        { value_type(SQL_DATE, 0, 0, 0), value_date(value_days_from_ymd(2024, 2, 29)), "2024-02-29" },
        { value_type(SQL_TIME, 0, 7, 0), value_time(37230000000LL + 1234567), "01:02:03.1234567" },
        { value_type(SQL_TIME, 0, 0, 0), value_time(37230000000LL), "01:02:03" },
        { value_type(SQL_DATETIME, 0, 0, 0),
          value_datetime(value_days_from_ymd(2020, 1, 2) - VALUE_DAYS_1900, (3 * 3600 + 4 * 60 + 5) * 300 + 2),
          "2020-01-02 03:04:05.007" },
        { value_type(SQL_DATETIME2, 0, 3, 0),
          value_datetime2(value_days_from_ymd(1, 1, 1), 5000000), "0001-01-01 00:00:00.500" },
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        value_format(&cases[k].v, &cases[k].t, buf, sizeof buf);
        assert_string_equal(buf, cases[k].s);
    }
}

static void test_errors(void **state)
{
    (void)state;
    hdb_err err = { 0 };
    uint8_t buf[64];
    size_t len;
    sql_type vc = value_type(SQL_VARCHAR, 3, 0, 0);
    sql_value longv = S(SQL_VARCHAR, "abcd");
    assert_int_equal(keyenc_encode(&longv, &vc, NULL, 1, buf, sizeof buf, &len, &err), -1);
    assert_int_equal(err.number, 8152);

    sql_value ok = S(SQL_VARCHAR, "abc");
    hdb_err_clear(&err);
    assert_int_equal(keyenc_encode(&ok, &vc, NULL, 1, buf, 4, &len, &err), -1);
    assert_int_equal(err.number, 40000);
    hdb_err_clear(&err);
    assert_int_equal(keyenc_encode(&ok, &vc, NULL, 1, buf, sizeof buf, &len, &err), 0);

    sql_type vm = value_type(SQL_VARCHAR, VALUE_LEN_MAX, 0, 0);
    sql_value off = value_offrow(SQL_VARCHAR, 42, 100000);
    assert_int_equal(keyenc_encode(&off, &vm, NULL, 1, buf, sizeof buf, &len, &err), -1);
    assert_int_equal(err.number, 40000);

    sql_type it = value_type(SQL_INT, 0, 0, 0);
    sql_value wrong = value_float(SQL_FLOAT, 1);
    hdb_err_clear(&err);
    assert_int_equal(keyenc_encode(&wrong, &it, NULL, 1, buf, sizeof buf, &len, &err), -1);
    assert_int_equal(err.number, 40000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_single_column_random),
        cmocka_unit_test(test_composite_random),
        cmocka_unit_test(test_prefix_property),
        cmocka_unit_test(test_string_collation),
        cmocka_unit_test(test_weight_codes_exhaustive),
        cmocka_unit_test(test_key_size),
        cmocka_unit_test(test_binary_trailing_zeros),
        cmocka_unit_test(test_numbers),
        cmocka_unit_test(test_guid_order),
        cmocka_unit_test(test_nulls),
        cmocka_unit_test(test_dates),
        cmocka_unit_test(test_describe),
        cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
