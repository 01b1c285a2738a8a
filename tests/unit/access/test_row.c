/*
 * test_row.c — row format: round trips for every type (random values, NULLs,
 * maximum lengths), schema evolution (fewer stored columns than the schema),
 * off-row pointers, the 8060-byte limit (511) and robustness against corrupt rows.
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

#include "access/row.h"
#include "access/value.h"

static uint64_t rng_state = 0x243F6A8885A308D3ULL;

static uint64_t rnd(void)
{
    uint64_t z = (rng_state += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

static uint64_t rnd_below(uint64_t n) { return n ? rnd() % n : 0; }

static int64_t rnd_range(int64_t lo, int64_t hi)
{
    if (rnd_below(4) == 0)
        return rnd_below(2) ? lo : hi;             /* edges often */
    uint64_t span = (uint64_t)hi - (uint64_t)lo;
    return (int64_t)((uint64_t)lo + (span == UINT64_MAX ? rnd() : rnd_below(span + 1)));
}

static uint8_t arena[1 << 17];
static size_t arena_used;

static uint8_t *arena_alloc(size_t n)
{
    assert_true(arena_used + n <= sizeof arena);
    uint8_t *p = arena + arena_used;
    arena_used += n;
    return p;
}

/* Random value of type t; variable data up to `maxbytes` (or the type's cap). */
static sql_value gen_value(const sql_type *t, size_t maxbytes)
{
    sql_value v = { 0 };
    v.type = t->id;
    if (rnd_below(6) == 0) {
        v.is_null = 1;
        return v;
    }
    switch ((enum sql_type_id)t->id) {
    case SQL_TINYINT:    v.u.i = rnd_range(0, 255); break;
    case SQL_SMALLINT:   v.u.i = rnd_range(INT16_MIN, INT16_MAX); break;
    case SQL_INT: case SQL_SMALLMONEY:
        v.u.i = rnd_range(INT32_MIN, INT32_MAX);
        break;
    case SQL_BIGINT: case SQL_MONEY:
        v.u.i = rnd_range(INT64_MIN, INT64_MAX);
        break;
    case SQL_BIT:        v.u.i = (int64_t)rnd_below(2); break;
    case SQL_DECIMAL: case SQL_NUMERIC: {
        int p = t->precision ? t->precision : 38;
        __int128 lim = 1;
        for (int k = 0; k < p; k++)
            lim *= 10;
        unsigned __int128 r = ((unsigned __int128)rnd() << 64) | rnd();
        v.u.dec = (__int128)(r % (2 * (unsigned __int128)lim - 1) - (unsigned __int128)(lim - 1));
        if (rnd_below(4) == 0)
            v.u.dec = rnd_below(2) ? lim - 1 : -(lim - 1);
        break;
    }
    case SQL_FLOAT: case SQL_REAL:
        for (;;) {
            uint64_t bits = rnd();
            memcpy(&v.u.f, &bits, 8);
            if (t->id == SQL_REAL)
                v.u.f = (float)((double)(int64_t)rnd() / 3.0);
            if (isfinite(v.u.f))
                break;
        }
        break;
    case SQL_CHAR: case SQL_VARCHAR: case SQL_NCHAR: case SQL_NVARCHAR:
    case SQL_BINARY: case SQL_VARBINARY: {
        int64_t cap = value_type_max_bytes(t);
        size_t max = cap < 0 || (size_t)cap > maxbytes ? maxbytes : (size_t)cap;
        size_t n = rnd_below(4) == 0 ? max : rnd_below(max + 1);
        if (value_type_is_unicode(t->id))
            n &= ~(size_t)1;
        uint8_t *p = arena_alloc(n);
        for (size_t k = 0; k < n; k++)
            p[k] = (uint8_t)rnd();
        v.bytes = p;
        v.len = (uint32_t)n;
        break;
    }
    case SQL_DATE:       v.u.date = (int32_t)rnd_range(0, VALUE_DATE_MAX); break;
    case SQL_TIME:       v.u.time = rnd_range(0, VALUE_TICKS_PER_DAY - 1); break;
    case SQL_DATETIME:
        v.u.dt.days = (int32_t)rnd_range(VALUE_DATETIME_MIN_DAYS, VALUE_DATETIME_MAX_DAYS);
        v.u.dt.ticks = (uint32_t)rnd_range(0, VALUE_DT_TICKS_PER_DAY - 1);
        break;
    case SQL_DATETIME2:
        v.u.dt2.days = (int32_t)rnd_range(0, VALUE_DATE_MAX);
        v.u.dt2.ticks = rnd_range(0, VALUE_TICKS_PER_DAY - 1);
        break;
    case SQL_UNIQUEIDENTIFIER:
        for (int k = 0; k < 16; k++)
            v.u.guid[k] = (uint8_t)rnd();
        break;
    case SQL_TYPE_NONE: case SQL_TYPE_COUNT:
        fail();
    }
    return v;
}

static sql_type schema[40];
static int nschema;

static void init_schema(void)
{
    if (nschema)
        return;
    sql_type *t = schema;
    *t++ = value_type(SQL_TINYINT, 0, 0, 0);
    *t++ = value_type(SQL_VARCHAR, 30, 0, 0);
    *t++ = value_type(SQL_SMALLINT, 0, 0, 0);
    *t++ = value_type(SQL_INT, 0, 0, 0);
    *t++ = value_type(SQL_NVARCHAR, 20, 0, 0);
    *t++ = value_type(SQL_BIGINT, 0, 0, 0);
    *t++ = value_type(SQL_BIT, 0, 0, 0);
    *t++ = value_type(SQL_BIT, 0, 0, 0);
    *t++ = value_type(SQL_DECIMAL, 0, 9, 2);
    *t++ = value_type(SQL_DECIMAL, 0, 18, 4);
    *t++ = value_type(SQL_NUMERIC, 0, 38, 6);
    *t++ = value_type(SQL_VARBINARY, 16, 0, 0);
    *t++ = value_type(SQL_MONEY, 0, 0, 0);
    *t++ = value_type(SQL_SMALLMONEY, 0, 0, 0);
    *t++ = value_type(SQL_FLOAT, 0, 0, 0);
    *t++ = value_type(SQL_REAL, 0, 0, 0);
    *t++ = value_type(SQL_CHAR, 10, 0, 0);
    *t++ = value_type(SQL_NCHAR, 5, 0, 0);
    *t++ = value_type(SQL_BINARY, 7, 0, 0);
    *t++ = value_type(SQL_DATE, 0, 0, 0);
    *t++ = value_type(SQL_TIME, 0, 7, 0);
    *t++ = value_type(SQL_DATETIME, 0, 0, 0);
    *t++ = value_type(SQL_DATETIME2, 0, 7, 0);
    *t++ = value_type(SQL_UNIQUEIDENTIFIER, 0, 0, 0);
    *t++ = value_type(SQL_VARCHAR, VALUE_LEN_MAX, 0, 0);
    *t++ = value_type(SQL_NVARCHAR, VALUE_LEN_MAX, 0, 0);
    *t++ = value_type(SQL_VARBINARY, VALUE_LEN_MAX, 0, 0);
    nschema = (int)(t - schema);
}

/* Decoded value must be the stored value exactly (not merely collation-equal). */
static void assert_same(const sql_value *in, const sql_value *out, const sql_type *t)
{
    assert_int_equal(out->type, t->id);
    assert_int_equal(out->is_null, in->is_null);
    if (in->is_null)
        return;
    assert_int_equal(out->flags, in->flags);
    if (in->flags & VALUE_F_OFFROW) {
        assert_int_equal(out->u.offrow.first_page, in->u.offrow.first_page);
        assert_int_equal(out->u.offrow.total_len, in->u.offrow.total_len);
        assert_int_equal(out->len, ROW_OFFROW_PTR_SIZE);
        return;
    }
    switch ((enum sql_type_id)t->id) {
    case SQL_CHAR: case SQL_NCHAR: case SQL_BINARY: {
        size_t w = row_type_fixed_size(t);
        assert_int_equal(out->len, w);
        assert_memory_equal(out->bytes, in->bytes, in->len);
        for (size_t k = in->len; k < w; k++) {
            uint8_t pad = t->id == SQL_BINARY ? 0 : (t->id == SQL_NCHAR && (k & 1)) ? 0 : ' ';
            assert_int_equal(out->bytes[k], pad);
        }
        return;
    }
    case SQL_VARCHAR: case SQL_NVARCHAR: case SQL_VARBINARY:
        assert_int_equal(out->len, in->len);
        if (in->len)
            assert_memory_equal(out->bytes, in->bytes, in->len);
        return;
    case SQL_FLOAT:
        assert_memory_equal(&out->u.f, &in->u.f, 8);
        return;
    case SQL_REAL:
        assert_true((float)out->u.f == (float)in->u.f);
        return;
    default:
        assert_int_equal(value_compare(in, out, t), 0);
        return;
    }
}

static size_t encode_ok(const sql_value *v, const sql_type *t, int n, uint8_t *buf, size_t cap)
{
    hdb_err err = { 0 };
    size_t len = 0;
    int rc = row_encode(v, t, n, buf, cap, &len, &err);
    if (rc)
        print_error("row_encode: %d %s\n", err.number, err.msg);
    assert_int_equal(rc, 0);
    assert_int_equal(len, row_inrow_size(v, t, n));
    assert_true(len <= ROW_MAX_INROW);
    return len;
}

static void check_roundtrip(const sql_value *in, const sql_type *t, int n)
{
    uint8_t row[ROW_MAX_INROW];
    size_t len = encode_ok(in, t, n, row, sizeof row);
    sql_value out[64];
    assert_int_equal(row_decode(row, len, t, n, out), 0);
    assert_int_equal(row_column_count(row, len), n);
    for (int i = 0; i < n; i++) {
        assert_same(&in[i], &out[i], &t[i]);
        sql_value one;
        assert_int_equal(row_get_column(row, len, t, i, &one), 0);
        assert_same(&in[i], &one, &t[i]);
        int off = row_var_column_is_offrow(row, len, t, i);
        assert_int_equal(off, !in[i].is_null && (in[i].flags & VALUE_F_OFFROW) ? 1 : 0);
    }
}

static void test_roundtrip_random(void **state)
{
    (void)state;
    init_schema();
    for (int iter = 0; iter < 5000; iter++) {
        arena_used = 0;
        /* a random subset of the schema, in random order, exercises every
         * interleaving of fixed and variable columns */
        sql_type t[40];
        sql_value v[40];
        int n = 1 + (int)rnd_below((uint64_t)nschema);
        for (int i = 0; i < n; i++) {
            t[i] = schema[rnd_below((uint64_t)nschema)];
            v[i] = gen_value(&t[i], 200);
            if (value_type_is_variable(t[i].id) && !v[i].is_null && rnd_below(8) == 0) {
                int64_t cap = value_type_max_bytes(&t[i]);
                uint64_t total = rnd_below(cap < 0 ? 1u << 30 : (uint64_t)cap + 1) & ~1ull;
                v[i] = value_offrow(t[i].id, rnd(), total);
            }
        }
        check_roundtrip(v, t, n);
    }
}

static void test_all_types_null_and_not(void **state)
{
    (void)state;
    init_schema();
    sql_value v[40];
    for (int pass = 0; pass < 3; pass++) {
        arena_used = 0;
        for (int i = 0; i < nschema; i++) {
            v[i] = gen_value(&schema[i], 100);
            if (pass == 0)
                v[i] = value_null(schema[i].id);
            else if (pass == 1 && v[i].is_null)
                v[i] = gen_value(&schema[i], 100);
        }
        check_roundtrip(v, schema, nschema);
    }
    /* an all-NULL row stores no offset entries at all */
    for (int i = 0; i < nschema; i++)
        v[i] = value_null(schema[i].id);
    uint8_t row[ROW_MAX_INROW];
    size_t len = encode_ok(v, schema, nschema, row, sizeof row);
    size_t fixed = 0;
    for (int i = 0; i < nschema; i++)
        fixed += row_type_fixed_size(&schema[i]);
    assert_int_equal(len, ROW_HEADER_SIZE + (nschema + 7) / 8 + fixed + 2);
}

static void test_max_lengths(void **state)
{
    (void)state;
    static uint8_t big[8100];
    memset(big, 'x', sizeof big);
    struct { sql_type t; uint32_t len; } cases[] = {
        { value_type(SQL_VARCHAR, 8000, 0, 0), 8000 },
        { value_type(SQL_NVARCHAR, 4000, 0, 0), 8000 },
        { value_type(SQL_VARBINARY, 8000, 0, 0), 8000 },
        { value_type(SQL_CHAR, 8000, 0, 0), 8000 },
        { value_type(SQL_NCHAR, 4000, 0, 0), 8000 },
        { value_type(SQL_BINARY, 8000, 0, 0), 8000 },
        { value_type(SQL_VARCHAR, VALUE_LEN_MAX, 0, 0), 8049 },  /* exactly 8060 in-row */
        { value_type(SQL_NVARCHAR, VALUE_LEN_MAX, 0, 0), 8048 },
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        sql_value v = value_bytes(cases[k].t.id, big, cases[k].len);
        check_roundtrip(&v, &cases[k].t, 1);
    }
    sql_type vm = value_type(SQL_VARCHAR, VALUE_LEN_MAX, 0, 0);
    sql_value v = value_bytes(SQL_VARCHAR, big, 8049);
    assert_int_equal(row_inrow_size(&v, &vm, 1), ROW_MAX_INROW);

    /* extreme values of each fixed type */
    __int128 lim38 = 1;
    for (int k = 0; k < 38; k++)
        lim38 *= 10;
    sql_type t[] = { value_type(SQL_BIGINT, 0, 0, 0), value_type(SQL_BIGINT, 0, 0, 0),
                     value_type(SQL_DECIMAL, 0, 38, 0), value_type(SQL_DECIMAL, 0, 38, 0),
                     value_type(SQL_DATETIME, 0, 0, 0), value_type(SQL_DATETIME2, 0, 7, 0),
                     value_type(SQL_FLOAT, 0, 0, 0), value_type(SQL_REAL, 0, 0, 0),
                     value_type(SQL_SMALLMONEY, 0, 0, 0), value_type(SQL_TIME, 0, 7, 0) };
    sql_value x[] = { value_int(SQL_BIGINT, INT64_MIN), value_int(SQL_BIGINT, INT64_MAX),
                      value_decimal(lim38 - 1), value_decimal(-(lim38 - 1)),
                      value_datetime(VALUE_DATETIME_MIN_DAYS, VALUE_DT_TICKS_PER_DAY - 1),
                      value_datetime2(VALUE_DATE_MAX, VALUE_TICKS_PER_DAY - 1),
                      value_float(SQL_FLOAT, -DBL_MAX), value_float(SQL_REAL, FLT_MAX),
                      value_int(SQL_SMALLMONEY, INT32_MIN), value_time(VALUE_TICKS_PER_DAY - 1) };
    check_roundtrip(x, t, (int)(sizeof t / sizeof t[0]));
}

static void test_too_large_511(void **state)
{
    (void)state;
    static uint8_t big[9000];
    memset(big, 'y', sizeof big);
    sql_type t[3] = { value_type(SQL_INT, 0, 0, 0), value_type(SQL_VARCHAR, VALUE_LEN_MAX, 0, 0),
                      value_type(SQL_NVARCHAR, 4000, 0, 0) };
    sql_value v[3] = { value_int(SQL_INT, 7), value_bytes(SQL_VARCHAR, big, 5000),
                       value_bytes(SQL_NVARCHAR, big, 4000) };
    size_t size = row_inrow_size(v, t, 3);
    assert_int_equal(size, ROW_HEADER_SIZE + 1 + 4 + 2 + 4 + 9000);
    uint8_t row[16384];
    size_t len;
    hdb_err err = { 0 };
    assert_int_equal(row_encode(v, t, 3, row, sizeof row, &len, &err), -1);
    assert_int_equal(err.number, 511);
    assert_int_equal(err.severity, 16);
    char want[200];
    snprintf(want, sizeof want, "Cannot create a row of size %zu which is greater than the "
             "allowable maximum row size of 8060.", size);
    assert_string_equal(err.msg, want);

    /* the caller moves the largest column off-row and the row fits */
    v[1] = value_offrow(SQL_VARCHAR, 0x100000005ULL, 5000);
    assert_int_equal(row_inrow_size(v, t, 3), size - 5000 + ROW_OFFROW_PTR_SIZE);
    check_roundtrip(v, t, 3);
    hdb_err_clear(&err);
    assert_int_equal(row_encode(v, t, 3, row, sizeof row, &len, &err), 0);
    assert_int_equal(row_var_column_is_offrow(row, len, t, 1), 1);
    assert_int_equal(row_var_column_is_offrow(row, len, t, 2), 0);
    assert_int_equal(row_var_column_is_offrow(row, len, t, 0), 0);
    sql_value out;
    assert_int_equal(row_get_column(row, len, t, 1, &out), 0);
    assert_true(out.flags & VALUE_F_OFFROW);
    assert_int_equal(out.u.offrow.first_page, 0x100000005ULL);
    assert_int_equal(out.u.offrow.total_len, 5000);

    /* many fixed columns can also exceed the limit */
    sql_type ch = value_type(SQL_CHAR, 8000, 0, 0);
    sql_type two[2] = { ch, ch };
    sql_value nn[2] = { value_null(SQL_CHAR), value_null(SQL_CHAR) };
    hdb_err_clear(&err);
    assert_int_equal(row_encode(nn, two, 2, row, sizeof row, &len, &err), -1);
    assert_int_equal(err.number, 511);
}

static void test_fewer_columns_than_schema(void **state)
{
    (void)state;
    sql_type t[6] = { value_type(SQL_INT, 0, 0, 0), value_type(SQL_VARCHAR, 10, 0, 0),
                      value_type(SQL_DATE, 0, 0, 0),
                      /* added later: */
                      value_type(SQL_BIGINT, 0, 0, 0), value_type(SQL_NVARCHAR, 10, 0, 0),
                      value_type(SQL_CHAR, 3, 0, 0) };
    sql_value v[3] = { value_int(SQL_INT, 42), value_bytes(SQL_VARCHAR, "hello", 5),
                       value_date(738000) };
    uint8_t row[256];
    size_t len = encode_ok(v, t, 3, row, sizeof row);
    sql_value out[6];
    assert_int_equal(row_decode(row, len, t, 6, out), 0);
    for (int i = 0; i < 3; i++)
        assert_same(&v[i], &out[i], &t[i]);
    for (int i = 3; i < 6; i++) {
        assert_true(out[i].is_null);
        assert_int_equal(out[i].type, t[i].id);
        sql_value one;
        assert_int_equal(row_get_column(row, len, t, i, &one), 0);
        assert_true(one.is_null);
        assert_int_equal(row_var_column_is_offrow(row, len, t, i), 0);
    }

    /* and the other way: a row with more columns than the reader asks for */
    sql_value w[6] = { value_int(SQL_INT, 1), value_bytes(SQL_VARCHAR, "ab", 2), value_date(5),
                       value_int(SQL_BIGINT, -9), value_bytes(SQL_NVARCHAR, "x\0", 2),
                       value_bytes(SQL_CHAR, "abc", 3) };
    len = encode_ok(w, t, 6, row, sizeof row);
    assert_int_equal(row_decode(row, len, t, 2, out), 0);
    assert_same(&w[0], &out[0], &t[0]);
    assert_same(&w[1], &out[1], &t[1]);
}

static void test_fixed_padding(void **state)
{
    (void)state;
    sql_type t[3] = { value_type(SQL_CHAR, 5, 0, 0), value_type(SQL_NCHAR, 3, 0, 0),
                      value_type(SQL_BINARY, 4, 0, 0) };
    sql_value v[3] = { value_bytes(SQL_CHAR, "ab", 2), value_bytes(SQL_NCHAR, "a\0", 2),
                       value_bytes(SQL_BINARY, "\x01", 1) };
    uint8_t row[64];
    size_t len = encode_ok(v, t, 3, row, sizeof row);
    sql_value out[3];
    assert_int_equal(row_decode(row, len, t, 3, out), 0);
    assert_int_equal(out[0].len, 5);
    assert_memory_equal(out[0].bytes, "ab   ", 5);
    assert_int_equal(out[1].len, 6);
    assert_memory_equal(out[1].bytes, "a\0 \0 \0", 6);
    assert_int_equal(out[2].len, 4);
    assert_memory_equal(out[2].bytes, "\x01\0\0\0", 4);
}

static void test_errors(void **state)
{
    (void)state;
    uint8_t row[64];
    size_t len;
    hdb_err err = { 0 };
    sql_type vc = value_type(SQL_VARCHAR, 3, 0, 0);
    sql_value s = value_bytes(SQL_VARCHAR, "abcd", 4);
    assert_int_equal(row_encode(&s, &vc, 1, row, sizeof row, &len, &err), -1);
    assert_int_equal(err.number, 8152);

    sql_type ch = value_type(SQL_CHAR, 3, 0, 0);
    s.type = SQL_CHAR;
    hdb_err_clear(&err);
    assert_int_equal(row_encode(&s, &ch, 1, row, sizeof row, &len, &err), -1);
    assert_int_equal(err.number, 8152);

    sql_type si = value_type(SQL_SMALLINT, 0, 0, 0);
    sql_value big = value_int(SQL_SMALLINT, 40000);
    hdb_err_clear(&err);
    assert_int_equal(row_encode(&big, &si, 1, row, sizeof row, &len, &err), -1);
    assert_int_equal(err.number, 8115);

    sql_type dt = value_type(SQL_DATETIME, 0, 0, 0);
    sql_value early = value_datetime(VALUE_DATETIME_MIN_DAYS - 1, 0);
    hdb_err_clear(&err);
    assert_int_equal(row_encode(&early, &dt, 1, row, sizeof row, &len, &err), -1);
    assert_int_equal(err.number, 8115);

    sql_type it = value_type(SQL_INT, 0, 0, 0);
    sql_value off = value_offrow(SQL_INT, 1, 2);
    hdb_err_clear(&err);
    assert_int_equal(row_encode(&off, &it, 1, row, sizeof row, &len, &err), -1);
    assert_int_equal(err.number, 40000);

    sql_type v10 = value_type(SQL_VARCHAR, 10, 0, 0);
    sql_value off2 = value_offrow(SQL_VARCHAR, 1, 11);           /* longer than n */
    hdb_err_clear(&err);
    assert_int_equal(row_encode(&off2, &v10, 1, row, sizeof row, &len, &err), -1);
    assert_int_equal(err.number, 8152);

    sql_value ok = value_int(SQL_INT, 1);
    hdb_err_clear(&err);
    assert_int_equal(row_encode(&ok, &it, 1, row, 5, &len, &err), -1);
    assert_int_equal(err.number, 40000);

    sql_type nv = value_type(SQL_NVARCHAR, 10, 0, 0);
    sql_value odd = value_bytes(SQL_NVARCHAR, "abc", 3);
    hdb_err_clear(&err);
    assert_int_equal(row_encode(&odd, &nv, 1, row, sizeof row, &len, &err), -1);
    assert_int_equal(err.number, 40000);
}

/* Truncated or scribbled rows must be rejected or decoded without reading
 * outside the buffer (the ASan build checks the latter). */
static void test_corrupt_rows(void **state)
{
    (void)state;
    init_schema();
    sql_value v[40], out[40];
    for (int iter = 0; iter < 300; iter++) {
        arena_used = 0;
        for (int i = 0; i < nschema; i++)
            v[i] = gen_value(&schema[i], 40);
        uint8_t row[ROW_MAX_INROW];
        size_t len = encode_ok(v, schema, nschema, row, sizeof row);
        for (size_t cut = 0; cut < len; cut++) {
            uint8_t *copy = malloc(cut ? cut : 1);   /* exact size: ASan sees overreads */
            memcpy(copy, row, cut);
            assert_int_equal(row_decode(copy, cut, schema, nschema, out), -1);
            free(copy);
        }
        for (int k = 0; k < 50; k++) {
            uint8_t *copy = malloc(len);
            memcpy(copy, row, len);
            for (int f = 0; f < 3; f++)
                copy[rnd_below(len)] = (uint8_t)rnd();
            if (row_decode(copy, len, schema, nschema, out) == 0) {
                for (int i = 0; i < nschema; i++) {
                    if (!out[i].is_null && out[i].bytes) {
                        assert_true(out[i].bytes >= copy);
                        assert_true(out[i].bytes + out[i].len <= copy + len);
                    }
                }
            }
            for (int i = 0; i < nschema; i++) {
                sql_value one;
                (void)row_get_column(copy, len, schema, i, &one);
                (void)row_var_column_is_offrow(copy, len, schema, i);
            }
            free(copy);
        }
    }
    uint8_t bad[16] = { 99 };
    assert_int_equal(row_decode(bad, sizeof bad, schema, 1, out), -1);
    assert_int_equal(row_column_count(bad, sizeof bad), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_roundtrip_random),
        cmocka_unit_test(test_all_types_null_and_not),
        cmocka_unit_test(test_max_lengths),
        cmocka_unit_test(test_too_large_511),
        cmocka_unit_test(test_fewer_columns_than_schema),
        cmocka_unit_test(test_fixed_padding),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_corrupt_rows),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
