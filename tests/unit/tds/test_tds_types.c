/* Unit tests: type encodings round-tripped through the RPC parameter
 * decoder, the legacy types clients send, and malformed parameters. */
#include "tds_test.h"

#include <math.h>
#include <stdlib.h>

#define COLL "09 04 D0 00 34"

/* RPC "p" with one parameter "@x" whose TYPE_INFO + value are `param`. */
static void rpc_with_param(tds_buf *b, uint32_t version, const uint8_t *param, size_t n)
{
    if (version >= TDS_VER_72)
        buf_all_headers(b, 0);
    buf_u16le(b, 1);
    buf_ascii16(b, "p");
    buf_u16le(b, 0);
    buf_u8(b, 2);
    buf_ascii16(b, "@x");
    buf_u8(b, 0);
    buf_put(b, param, n);
}

/* Parses a one-parameter RPC; returns 0/-1 and leaves the request in *r. */
static int decode_hex(uint32_t version, const char *hex, tds_rpc_request *r, hdb_err *e)
{
    static uint8_t p[1 << 16];
    size_t n = hexbytes(hex, p);
    tds_buf b;
    buf_init(&b);
    rpc_with_param(&b, version, p, n);
    int rc = tds_rpc_parse(version, b.p, b.len, r, e);
    /* the request points into its payload: keep the buffer while it lives */
    static tds_buf keep[256];
    static int nkeep;
    buf_free(&keep[nkeep % 256]);
    keep[nkeep++ % 256] = b;
    return rc;
}

static const tds_param *decode_ok(uint32_t version, const char *hex, tds_rpc_request *r)
{
    hdb_err e;
    hdb_err_clear(&e);
    int rc = decode_hex(version, hex, r, &e);
    if (rc != 0)
        fprintf(stderr, "decode failed: %d %s\n", e.number, e.msg);
    assert_int_equal(rc, 0);
    assert_int_equal(r->ncalls, 1);
    assert_int_equal(r->calls[0].nparams, 1);
    assert_string_equal(r->calls[0].params[0].name, "@x");
    return &r->calls[0].params[0];
}

static void decode_fails(uint32_t version, const char *hex, int number)
{
    tds_rpc_request r;
    hdb_err e;
    hdb_err_clear(&e);
    assert_int_equal(decode_hex(version, hex, &r, &e), -1);
    if (e.number != number)
        fprintf(stderr, "%s: got %d (%s)\n", hex, e.number, e.msg);
    assert_int_equal(e.number, number);
    assert_int_equal(r.ncalls, 0);
    assert_null(r.calls);
}

/* Encodes v as type t the way the server does, decodes it as a parameter
 * and checks the value (and the type) survive. */
static void round_trip(uint32_t version, sql_type t, sql_value v)
{
    struct tds_wcol w;
    hdb_err e;
    assert_int_equal(tds_wcol_from_type(version, &t, &w, &e), 0);
    assert_int_equal(tds_value_check(&w, &v, &e), 0);
    tds_buf enc, b;
    buf_init(&enc);
    buf_init(&b);
    tds_typeinfo_put(&enc, &w, tds_default_collation);
    tds_param_value_put(tds_sink_buf(&enc), &w, &v);
    rpc_with_param(&b, version, enc.p, enc.len);
    tds_rpc_request r;
    int rc = tds_rpc_parse(version, b.p, b.len, &r, &e);
    if (rc)
        fprintf(stderr, "type %d: %s\n", t.id, e.msg);
    assert_int_equal(rc, 0);
    const tds_param *p = &r.calls[0].params[0];
    assert_int_equal(p->type.id, t.id);
    assert_int_equal(p->value.is_null, v.is_null);
    assert_int_equal(p->value.type, t.id);
    int p_max = t.max_len == VALUE_LEN_MAX ? VALUE_LEN_MAX : (t.max_len ? t.max_len : 1);
    if (value_type_is_string(t.id) || value_type_is_binary(t.id))
        assert_int_equal(p->type.max_len, p_max);
    if (t.id == SQL_DECIMAL || t.id == SQL_NUMERIC) {
        assert_int_equal(p->type.precision, t.precision ? t.precision : 38);
        assert_int_equal(p->type.scale, t.scale);
    }
    if (t.id == SQL_TIME || t.id == SQL_DATETIME2)
        assert_int_equal(p->type.precision, t.precision);
    if (value_type_is_string(t.id) || value_type_is_binary(t.id))
        assert_memory_equal(p->collation, value_type_is_binary(t.id) ? (const uint8_t *)"\0\0\0\0\0"
                            : tds_default_collation, 5);
    if (!v.is_null) {
        switch (t.id) {
        case SQL_DECIMAL: case SQL_NUMERIC:
            assert_true(p->value.u.dec == v.u.dec);
            break;
        case SQL_FLOAT:
            assert_true(p->value.u.f == v.u.f);
            break;
        case SQL_REAL:
            assert_true(p->value.u.f == (double)(float)v.u.f);
            break;
        case SQL_CHAR: case SQL_NCHAR: case SQL_BINARY: {
            /* padded to the declared width */
            size_t width = (size_t)t.max_len * (t.id == SQL_NCHAR ? 2 : 1);
            assert_int_equal(p->value.len, width);
            assert_memory_equal(p->value.bytes, v.bytes, v.len);
            for (size_t k = v.len; k < width; k++)
                assert_int_equal(p->value.bytes[k],
                                 t.id == SQL_BINARY ? 0 : (t.id == SQL_NCHAR && (k & 1)) ? 0 : ' ');
            break;
        }
        case SQL_VARCHAR: case SQL_NVARCHAR: case SQL_VARBINARY:
            assert_int_equal(p->value.len, v.len);
            if (v.len)
                assert_memory_equal(p->value.bytes, v.bytes, v.len);
            break;
        case SQL_DATE:
            assert_int_equal(p->value.u.date, v.u.date);
            break;
        case SQL_TIME:
            assert_int_equal(p->value.u.time, v.u.time);
            break;
        case SQL_DATETIME:
            assert_int_equal(p->value.u.dt.days, v.u.dt.days);
            assert_int_equal(p->value.u.dt.ticks, v.u.dt.ticks);
            break;
        case SQL_DATETIME2:
            assert_int_equal(p->value.u.dt2.days, v.u.dt2.days);
            assert_int_equal(p->value.u.dt2.ticks, v.u.dt2.ticks);
            break;
        case SQL_UNIQUEIDENTIFIER:
            assert_memory_equal(p->value.u.guid, v.u.guid, 16);
            break;
        default:
            assert_int_equal(p->value.u.i, v.u.i);
        }
    }
    tds_rpc_free(&r);
    buf_free(&enc);
    buf_free(&b);
}

static void round_trip_every_type(void **state)
{
    (void)state;
    static const uint32_t versions[] = { TDS_VER_74, TDS_VER_73B };
    char big[20000];
    for (size_t k = 0; k < sizeof big; k++)
        big[k] = (char)('a' + k % 26);
    uint8_t g[16];
    for (int k = 0; k < 16; k++)
        g[k] = (uint8_t)(k * 17);
    for (size_t vi = 0; vi < 2; vi++) {
        uint32_t V = versions[vi];
        const int64_t ints[] = { 0, 1, -1, 127, -128, 32767, -32768, INT32_MAX, INT32_MIN,
                                 INT64_MAX, INT64_MIN };
        for (size_t k = 0; k < sizeof ints / sizeof ints[0]; k++) {
            round_trip(V, value_type(SQL_BIGINT, 0, 0, 0), value_int(SQL_BIGINT, ints[k]));
            round_trip(V, value_type(SQL_MONEY, 0, 0, 0), value_int(SQL_MONEY, ints[k]));
            if (ints[k] >= INT32_MIN && ints[k] <= INT32_MAX) {
                round_trip(V, value_type(SQL_INT, 0, 0, 0), value_int(SQL_INT, ints[k]));
                round_trip(V, value_type(SQL_SMALLMONEY, 0, 0, 0), value_int(SQL_SMALLMONEY, ints[k]));
            }
            if (ints[k] >= INT16_MIN && ints[k] <= INT16_MAX)
                round_trip(V, value_type(SQL_SMALLINT, 0, 0, 0), value_int(SQL_SMALLINT, ints[k]));
            if (ints[k] >= 0 && ints[k] <= 255)
                round_trip(V, value_type(SQL_TINYINT, 0, 0, 0), value_int(SQL_TINYINT, ints[k]));
        }
        round_trip(V, value_type(SQL_TINYINT, 0, 0, 0), value_int(SQL_TINYINT, 255));
        round_trip(V, value_type(SQL_BIT, 0, 0, 0), value_int(SQL_BIT, 1));
        round_trip(V, value_type(SQL_BIT, 0, 0, 0), value_int(SQL_BIT, 0));
        for (int p = 1; p <= 38; p++) {
            __int128 max = 1;
            for (int k = 0; k < p; k++)
                max *= 10;
            max -= 1;
            sql_value d = value_decimal(max);
            round_trip(V, value_type(SQL_DECIMAL, 0, (uint8_t)p, (uint8_t)(p / 2)), d);
            d.u.dec = -max;
            d.type = SQL_NUMERIC;
            round_trip(V, value_type(SQL_NUMERIC, 0, (uint8_t)p, 0), d);
        }
        round_trip(V, value_type(SQL_DECIMAL, 0, 0, 0), value_decimal(0));
        const double fl[] = { 0.0, -0.0, 1.5, -3.25e300, 1e-300, 3.4e38, 123456789.125 };
        for (size_t k = 0; k < sizeof fl / sizeof fl[0]; k++) {
            round_trip(V, value_type(SQL_FLOAT, 0, 0, 0), value_float(SQL_FLOAT, fl[k]));
            if (fabs(fl[k]) < 3.5e38)
                round_trip(V, value_type(SQL_REAL, 0, 0, 0), value_float(SQL_REAL, fl[k]));
        }
        round_trip(V, value_type(SQL_VARCHAR, 10, 0, 0), value_bytes(SQL_VARCHAR, "abc", 3));
        round_trip(V, value_type(SQL_VARCHAR, 10, 0, 0), value_bytes(SQL_VARCHAR, "", 0));
        round_trip(V, value_type(SQL_VARCHAR, 8000, 0, 0), value_bytes(SQL_VARCHAR, big, 8000));
        round_trip(V, value_type(SQL_CHAR, 5, 0, 0), value_bytes(SQL_CHAR, "ab", 2));
        round_trip(V, value_type(SQL_NCHAR, 4, 0, 0), value_bytes(SQL_NCHAR, "x\0y\0", 4));
        round_trip(V, value_type(SQL_NVARCHAR, 4000, 0, 0), value_bytes(SQL_NVARCHAR, big, 8000));
        round_trip(V, value_type(SQL_NVARCHAR, 1, 0, 0), value_bytes(SQL_NVARCHAR, "\x3D\xD8", 2));
        round_trip(V, value_type(SQL_BINARY, 6, 0, 0), value_bytes(SQL_BINARY, "\1\2\3", 3));
        round_trip(V, value_type(SQL_VARBINARY, 100, 0, 0), value_bytes(SQL_VARBINARY, "\0\xFF", 2));
        round_trip(V, value_type(SQL_VARCHAR, VALUE_LEN_MAX, 0, 0), value_bytes(SQL_VARCHAR, big, 20000));
        round_trip(V, value_type(SQL_VARCHAR, VALUE_LEN_MAX, 0, 0), value_bytes(SQL_VARCHAR, "", 0));
        round_trip(V, value_type(SQL_NVARCHAR, VALUE_LEN_MAX, 0, 0), value_bytes(SQL_NVARCHAR, big, 20000));
        round_trip(V, value_type(SQL_VARBINARY, VALUE_LEN_MAX, 0, 0), value_bytes(SQL_VARBINARY, big, 9));
        round_trip(V, value_type(SQL_DATE, 0, 0, 0), value_date(0));
        round_trip(V, value_type(SQL_DATE, 0, 0, 0), value_date(VALUE_DATE_MAX));
        for (int s = 0; s <= 7; s++) {
            int64_t unit = 1;
            for (int k = s; k < 7; k++)
                unit *= 10;
            int64_t ticks = (VALUE_TICKS_PER_DAY - 1) / unit * unit;   /* last tick at scale s */
            round_trip(V, value_type(SQL_TIME, 0, (uint8_t)s, 0), value_time(ticks));
            round_trip(V, value_type(SQL_TIME, 0, (uint8_t)s, 0), value_time(0));
            round_trip(V, value_type(SQL_DATETIME2, 0, (uint8_t)s, 0),
                       value_datetime2(VALUE_DATE_MAX, ticks));
            round_trip(V, value_type(SQL_DATETIME2, 0, (uint8_t)s, 0), value_datetime2(0, unit));
        }
        round_trip(V, value_type(SQL_DATETIME, 0, 0, 0), value_datetime(VALUE_DATETIME_MIN_DAYS, 0));
        round_trip(V, value_type(SQL_DATETIME, 0, 0, 0),
                   value_datetime(VALUE_DATETIME_MAX_DAYS, VALUE_DT_TICKS_PER_DAY - 1));
        round_trip(V, value_type(SQL_UNIQUEIDENTIFIER, 0, 0, 0), value_guid(g));
        /* NULL of every type */
        for (uint8_t id = SQL_TINYINT; id < SQL_TYPE_COUNT; id++) {
            sql_type t = value_type(id, 10, 10, 2);
            if (id == SQL_TIME || id == SQL_DATETIME2)
                t.precision = 7;
            round_trip(V, t, value_null(id));
            if (value_type_is_variable(id)) {
                t.max_len = VALUE_LEN_MAX;
                round_trip(V, t, value_null(id));
            }
        }
    }
    /* 7.1: (max) travels as TEXT/NTEXT/IMAGE and decodes back to (max) */
    round_trip(TDS_VER_71, value_type(SQL_NVARCHAR, VALUE_LEN_MAX, 0, 0),
               value_bytes(SQL_NVARCHAR, big, 100));
    round_trip(TDS_VER_71, value_type(SQL_VARCHAR, VALUE_LEN_MAX, 0, 0), value_null(SQL_VARCHAR));
    round_trip(TDS_VER_71, value_type(SQL_VARBINARY, VALUE_LEN_MAX, 0, 0),
               value_bytes(SQL_VARBINARY, "\1", 1));
}

static void legacy_fixed_types(void **state)
{
    (void)state;
    tds_rpc_request r;
    const tds_param *p;
    p = decode_ok(TDS_VER_74, "38 2A 00 00 00", &r);
    assert_int_equal(p->type.id, SQL_INT);
    assert_int_equal(p->value.u.i, 42);
    assert_int_equal(p->wire_type, 0x38);
    tds_rpc_free(&r);
    p = decode_ok(TDS_VER_74, "30 FF", &r);
    assert_int_equal(p->type.id, SQL_TINYINT);
    assert_int_equal(p->value.u.i, 255);
    tds_rpc_free(&r);
    p = decode_ok(TDS_VER_74, "34 FE FF", &r);
    assert_int_equal(p->type.id, SQL_SMALLINT);
    assert_int_equal(p->value.u.i, -2);
    tds_rpc_free(&r);
    p = decode_ok(TDS_VER_74, "7F FF FF FF FF FF FF FF 7F", &r);
    assert_int_equal(p->type.id, SQL_BIGINT);
    assert_true(p->value.u.i == INT64_MAX);
    tds_rpc_free(&r);
    p = decode_ok(TDS_VER_74, "32 01", &r);
    assert_int_equal(p->type.id, SQL_BIT);
    assert_int_equal(p->value.u.i, 1);
    tds_rpc_free(&r);
    p = decode_ok(TDS_VER_74, "3E 00 00 00 00 00 00 F8 3F", &r);
    assert_int_equal(p->type.id, SQL_FLOAT);
    assert_true(p->value.u.f == 1.5);
    tds_rpc_free(&r);
    p = decode_ok(TDS_VER_74, "3B 00 00 C0 3F", &r);
    assert_int_equal(p->type.id, SQL_REAL);
    assert_true(p->value.u.f == 1.5);
    tds_rpc_free(&r);
    p = decode_ok(TDS_VER_74, "7A 10 27 00 00", &r);
    assert_int_equal(p->type.id, SQL_SMALLMONEY);
    assert_int_equal(p->value.u.i, 10000);
    tds_rpc_free(&r);
    p = decode_ok(TDS_VER_74, "3C FF FF FF FF FE FF FF FF", &r);
    assert_int_equal(p->type.id, SQL_MONEY);
    assert_int_equal(p->value.u.i, -2);
    tds_rpc_free(&r);
    /* smalldatetime 1900-01-02 01:00 becomes a datetime */
    p = decode_ok(TDS_VER_74, "3A 01 00 3C 00", &r);
    assert_int_equal(p->type.id, SQL_DATETIME);
    assert_int_equal(p->value.u.dt.days, 1);
    assert_int_equal(p->value.u.dt.ticks, 60 * 60 * 300);
    tds_rpc_free(&r);
    p = decode_ok(TDS_VER_74, "6F 04 04 01 00 3C 00", &r);
    assert_int_equal(p->value.u.dt.ticks, 60 * 60 * 300);
    tds_rpc_free(&r);
    p = decode_ok(TDS_VER_74, "3D 02 00 00 00 2C 01 00 00", &r);
    assert_int_equal(p->value.u.dt.days, 2);
    assert_int_equal(p->value.u.dt.ticks, 300);
    tds_rpc_free(&r);
    p = decode_ok(TDS_VER_74, "1F", &r);             /* NULLTYPE */
    assert_true(p->value.is_null);
    tds_rpc_free(&r);
}

static void n_types_and_lengths(void **state)
{
    (void)state;
    tds_rpc_request r;
    const tds_param *p;
    p = decode_ok(TDS_VER_74, "26 04 04 2A 00 00 00", &r);
    assert_int_equal(p->type.id, SQL_INT);
    assert_int_equal(p->value.u.i, 42);
    tds_rpc_free(&r);
    p = decode_ok(TDS_VER_74, "26 04 00", &r);       /* NULL: how FreeTDS sends @handle OUT */
    assert_int_equal(p->type.id, SQL_INT);
    assert_true(p->value.is_null);
    tds_rpc_free(&r);
    p = decode_ok(TDS_VER_74, "26 02 04 00 00 01 00", &r);   /* wider than declared */
    assert_int_equal(p->type.id, SQL_INT);
    assert_int_equal(p->value.u.i, 65536);
    tds_rpc_free(&r);
    p = decode_ok(TDS_VER_74, "26 08 01 80", &r);    /* 1-byte values are unsigned */
    assert_int_equal(p->value.u.i, 128);
    tds_rpc_free(&r);
    /* FreeTDS-style compact DECIMALN: precision 10 with a 6-byte value */
    p = decode_ok(TDS_VER_74, "6A 11 0A 02 06 01 39 30 00 00 00", &r);
    assert_int_equal(p->type.id, SQL_DECIMAL);
    assert_int_equal(p->type.precision, 10);
    assert_int_equal(p->type.scale, 2);
    assert_true(p->value.u.dec == 12345);
    tds_rpc_free(&r);
    p = decode_ok(TDS_VER_74, "37 05 05 00 03 00 07 00", &r);   /* legacy DECIMAL, negative */
    assert_true(p->value.u.dec == -7);
    tds_rpc_free(&r);
    p = decode_ok(TDS_VER_74, "6C 11 26 00 00", &r);
    assert_int_equal(p->type.id, SQL_NUMERIC);
    assert_true(p->value.is_null);
    tds_rpc_free(&r);
    p = decode_ok(TDS_VER_74, "24 10 10 04 03 02 01 06 05 08 07 09 0A 0B 0C 0D 0E 0F 10", &r);
    assert_int_equal(p->type.id, SQL_UNIQUEIDENTIFIER);
    assert_int_equal(p->value.u.guid[0], 4);
    tds_rpc_free(&r);
    p = decode_ok(TDS_VER_74, "28 00", &r);
    assert_int_equal(p->type.id, SQL_DATE);
    assert_true(p->value.is_null);
    tds_rpc_free(&r);
    /* datetimeoffset(7): UTC 2024-01-02 00:30 at -01:00 is 2024-01-01 23:30 locally */
    p = decode_ok(TDS_VER_74, "2B 07 0A 00 34 E2 30 04 46 46 0B C4 FF", &r);
    assert_int_equal(p->type.id, SQL_DATETIME2);
    assert_int_equal(p->type.precision, 7);
    assert_true(p->has_tz);
    assert_int_equal(p->tz_offset, -60);
    assert_int_equal(p->value.u.dt2.days, 738885);
    assert_true(p->value.u.dt2.ticks == 235LL * 360 * 10000000);
    tds_rpc_free(&r);
    p = decode_ok(TDS_VER_74, "29 00 03 F0 B0 00", &r);          /* time(0) 12:34:56 */
    assert_true(p->value.u.time == 45296LL * 10000000);
    tds_rpc_free(&r);
}

static void character_and_binary_types(void **state)
{
    (void)state;
    tds_rpc_request r;
    const tds_param *p;
    p = decode_ok(TDS_VER_74, "27 0A 03 61 62 63", &r);          /* SYBVARCHAR */
    assert_int_equal(p->type.id, SQL_VARCHAR);
    assert_int_equal(p->type.max_len, 10);
    assert_int_equal(p->value.len, 3);
    assert_memory_equal(p->value.bytes, "abc", 3);
    tds_rpc_free(&r);
    p = decode_ok(TDS_VER_74, "2F 05 02 61 62", &r);
    assert_int_equal(p->type.id, SQL_CHAR);
    tds_rpc_free(&r);
    p = decode_ok(TDS_VER_74, "25 04 01 FF", &r);
    assert_int_equal(p->type.id, SQL_VARBINARY);
    tds_rpc_free(&r);
    p = decode_ok(TDS_VER_74, "E7 08 00 09 04 D0 00 00 04 00 61 00 62 00", &r);
    assert_int_equal(p->type.id, SQL_NVARCHAR);
    assert_int_equal(p->type.max_len, 4);
    assert_int_equal(p->collation[4], 0);            /* as sent, not ours */
    assert_int_equal(p->value.len, 4);
    tds_rpc_free(&r);
    p = decode_ok(TDS_VER_74, "E7 08 00 " COLL " FF FF", &r);
    assert_true(p->value.is_null);
    tds_rpc_free(&r);
    p = decode_ok(TDS_VER_74, "A7 10 00 " COLL " 00 00", &r);  /* empty, not NULL */
    assert_false(p->value.is_null);
    assert_int_equal(p->value.len, 0);
    tds_rpc_free(&r);
    /* NTEXT as FreeTDS sends sp_prepexec statements; NULL as "inner length -1" */
    p = decode_ok(TDS_VER_74, "63 FF FF FF 7F " COLL " 04 00 00 00 61 00 62 00", &r);
    assert_int_equal(p->type.id, SQL_NVARCHAR);
    assert_int_equal(p->type.max_len, VALUE_LEN_MAX);
    assert_int_equal(p->value.len, 4);
    tds_rpc_free(&r);
    p = decode_ok(TDS_VER_74, "63 FF FF FF 7F " COLL " FF FF FF FF", &r);
    assert_true(p->value.is_null);
    tds_rpc_free(&r);
    p = decode_ok(TDS_VER_74, "23 FF FF FF 7F " COLL " 01 00 00 00 7A", &r);
    assert_int_equal(p->type.id, SQL_VARCHAR);
    tds_rpc_free(&r);
    p = decode_ok(TDS_VER_74, "22 FF FF FF 7F 00 00 00 00", &r);
    assert_int_equal(p->type.id, SQL_VARBINARY);
    assert_int_equal(p->value.len, 0);
    tds_rpc_free(&r);
    /* PLP: unknown total length, several chunks (tedious) -> copied together */
    p = decode_ok(TDS_VER_74, "E7 FF FF " COLL " FE FF FF FF FF FF FF FF"
                  " 02 00 00 00 61 00 04 00 00 00 62 00 63 00 00 00 00 00", &r);
    assert_int_equal(p->type.max_len, VALUE_LEN_MAX);
    assert_int_equal(p->value.len, 6);
    assert_memory_equal(p->value.bytes, "a\0b\0c\0", 6);
    tds_rpc_free(&r);
    p = decode_ok(TDS_VER_74, "A5 FF FF 03 00 00 00 00 00 00 00 03 00 00 00 01 02 03 00 00 00 00", &r);
    assert_int_equal(p->value.len, 3);
    tds_rpc_free(&r);
    p = decode_ok(TDS_VER_74, "A7 FF FF " COLL " FF FF FF FF FF FF FF FF", &r);
    assert_true(p->value.is_null);
    tds_rpc_free(&r);
    p = decode_ok(TDS_VER_74, "A7 FF FF " COLL " 00 00 00 00 00 00 00 00 00 00 00 00", &r);
    assert_false(p->value.is_null);
    assert_int_equal(p->value.len, 0);
    tds_rpc_free(&r);
    /* XML, with and without a schema collection */
    p = decode_ok(TDS_VER_74, "F1 00 02 00 00 00 00 00 00 00 02 00 00 00 3C 00 00 00 00 00", &r);
    assert_int_equal(p->type.id, SQL_NVARCHAR);
    assert_int_equal(p->value.len, 2);
    tds_rpc_free(&r);
    p = decode_ok(TDS_VER_74, "F1 01 01 64 00 01 6F 00 01 00 78 00 FF FF FF FF FF FF FF FF", &r);
    assert_true(p->value.is_null);
    tds_rpc_free(&r);
}

static void sql_variant_params(void **state)
{
    (void)state;
    tds_rpc_request r;
    const tds_param *p;
    p = decode_ok(TDS_VER_74, "62 49 1F 00 00 06 00 00 00 38 00 2A 00 00 00", &r);
    assert_int_equal(p->type.id, SQL_INT);
    assert_int_equal(p->value.u.i, 42);
    tds_rpc_free(&r);
    p = decode_ok(TDS_VER_74, "62 49 1F 00 00 0D 00 00 00 E7 07 " COLL " 08 00 68 00 69 00", &r);
    assert_int_equal(p->type.id, SQL_NVARCHAR);
    assert_int_equal(p->value.len, 4);
    tds_rpc_free(&r);
    p = decode_ok(TDS_VER_74, "62 49 1F 00 00 09 00 00 00 6A 02 05 02 01 39 30 00 00", &r);
    assert_true(p->value.u.dec == 12345);
    assert_int_equal(p->type.scale, 2);
    tds_rpc_free(&r);
    p = decode_ok(TDS_VER_74, "62 49 1F 00 00 00 00 00 00", &r);
    assert_true(p->value.is_null);
    tds_rpc_free(&r);
    decode_fails(TDS_VER_74, "62 49 1F 00 00 06 00 00 00 38 00 2A 00 00", TDS_ERR_PROTOCOL);
    decode_fails(TDS_VER_74, "62 49 1F 00 00 05 00 00 00 38 00 2A 00 00", TDS_ERR_RPC_LEN);
    decode_fails(TDS_VER_74, "62 49 1F 00 00 03 00 00 00 F0 00 00", TDS_ERR_RPC_TYPE);
    decode_fails(TDS_VER_74, "62 49 1F 00 00 02 00 00 00 38 05", TDS_ERR_RPC_LEN);
}

static void malformed_parameters(void **state)
{
    (void)state;
    decode_fails(TDS_VER_74, "99 00", TDS_ERR_RPC_TYPE);
    decode_fails(TDS_VER_74, "F0 00", TDS_ERR_RPC_TYPE);          /* UDT */
    decode_fails(TDS_VER_74, "F3 00", TDS_ERR_RPC_TYPE);          /* TVP */
    decode_fails(TDS_VER_74, "26 03 03 00 00 00", TDS_ERR_RPC_LEN);
    decode_fails(TDS_VER_74, "26 04 03 00 00 00", TDS_ERR_RPC_LEN);
    decode_fails(TDS_VER_74, "68 02 01 01", TDS_ERR_RPC_LEN);
    decode_fails(TDS_VER_74, "6D 08 04 00 00 C0 FF", TDS_ERR_RPC_VALUE);      /* NaN */
    decode_fails(TDS_VER_74, "6D 08 08 00 00 00 00 00 00 F0 7F", TDS_ERR_RPC_VALUE);  /* inf */
    decode_fails(TDS_VER_74, "6F 08 08 00 00 00 00 00 84 8B 01", TDS_ERR_RPC_VALUE);  /* ticks */
    decode_fails(TDS_VER_74, "6F 08 08 00 00 00 80 00 00 00 00", TDS_ERR_RPC_VALUE);  /* days */
    decode_fails(TDS_VER_74, "6F 04 04 00 00 A0 05", TDS_ERR_RPC_VALUE);             /* minutes */
    decode_fails(TDS_VER_74, "6A 11 00 00 00", TDS_ERR_RPC_LEN);   /* precision 0 */
    decode_fails(TDS_VER_74, "6A 11 27 00 00", TDS_ERR_RPC_LEN);   /* precision 39 */
    decode_fails(TDS_VER_74, "6A 11 05 06 00", TDS_ERR_RPC_LEN);   /* scale > precision */
    decode_fails(TDS_VER_74, "6A 05 02 00 05 01 64 00 00 00", TDS_ERR_RPC_VALUE);   /* 100 in p=2 */
    decode_fails(TDS_VER_74, "6A 11 26 00 01 01", TDS_ERR_RPC_LEN);
    decode_fails(TDS_VER_74, "6A 12 26 00 00", TDS_ERR_RPC_LEN);
    decode_fails(TDS_VER_74, "6A 11 26 00 11 01 FF FF FF FF FF FF FF FF FF FF FF FF FF FF FF FF",
                 TDS_ERR_RPC_VALUE);                               /* >= 10^38 */
    decode_fails(TDS_VER_74, "29 08 03 00 00 00", TDS_ERR_RPC_LEN);
    decode_fails(TDS_VER_74, "29 07 06 00 00 00 00 00 00", TDS_ERR_RPC_LEN);
    decode_fails(TDS_VER_74, "29 07 05 00 00 00 00 FF", TDS_ERR_RPC_VALUE);   /* >= 24h */
    decode_fails(TDS_VER_74, "28 02 00 00", TDS_ERR_RPC_LEN);
    decode_fails(TDS_VER_74, "28 03 FF FF FF", TDS_ERR_RPC_VALUE);
    decode_fails(TDS_VER_74, "2B 07 0A 00 00 00 00 00 00 00 00 10 27", TDS_ERR_RPC_VALUE);
    decode_fails(TDS_VER_74, "2B 07 0A 00 00 00 00 00 00 00 00 C4 FF", TDS_ERR_RPC_VALUE);
    decode_fails(TDS_VER_74, "E7 07 00 " COLL " 00 00", TDS_ERR_RPC_LEN);   /* odd max */
    decode_fails(TDS_VER_74, "E7 42 1F " COLL " 00 00", TDS_ERR_RPC_LEN);   /* 8002 */
    decode_fails(TDS_VER_74, "E7 04 00 " COLL " 06 00 61 00 62 00 63 00", TDS_ERR_RPC_LEN);
    decode_fails(TDS_VER_74, "E7 08 00 " COLL " 03 00 61 00 62", TDS_ERR_RPC_LEN);
    decode_fails(TDS_VER_74, "EF FF FF " COLL " 00 00", TDS_ERR_RPC_LEN);   /* nchar(max) */
    decode_fails(TDS_VER_74, "27 02 03 61 62 63", TDS_ERR_RPC_LEN);
    /* PLP whose chunks disagree with its declared total */
    decode_fails(TDS_VER_74, "A5 FF FF 05 00 00 00 00 00 00 00 03 00 00 00 01 02 03 00 00 00 00",
                 TDS_ERR_RPC_LEN);
    decode_fails(TDS_VER_74, "A5 FF FF 03 00 00 00 00 00 00 00 03 00 00 00 01 02 03", TDS_ERR_PROTOCOL);
    decode_fails(TDS_VER_74, "A5 FF FF 03 00 00 00 00 00 00 00 08 00 00 00 01 02 03", TDS_ERR_PROTOCOL);
    decode_fails(TDS_VER_74, "E7 FF FF " COLL " 01 00 00 00 00 00 00 00 01 00 00 00 61 00 00 00 00",
                 TDS_ERR_RPC_LEN);                                 /* odd UTF-16 */
    decode_fails(TDS_VER_74, "63 FF FF FF 7F " COLL " 10 00 00 00 61 00", TDS_ERR_PROTOCOL);
    decode_fails(TDS_VER_74, "", TDS_ERR_PROTOCOL);                /* no type at all */
}

/* Every prefix of a valid many-parameter request either parses (it ends on
 * a parameter boundary) or fails cleanly; ASan checks no byte past the end
 * is read. */
static void every_truncation_is_safe(void **state)
{
    (void)state;
    tds_buf b;
    buf_init(&b);
    buf_all_headers(&b, 0);
    buf_u16le(&b, 0xFFFF);
    buf_u16le(&b, TDS_SP_EXECUTESQL);
    buf_u16le(&b, 0);
    const char *params[] = {
        "63 FF FF FF 7F " COLL " 04 00 00 00 61 00 62 00",
        "E7 FF FF " COLL " FE FF FF FF FF FF FF FF 02 00 00 00 61 00 02 00 00 00 62 00 00 00 00 00",
        "26 08 08 01 02 03 04 05 06 07 08",
        "6A 11 0A 02 06 01 39 30 00 00 00",
        "2B 07 0A 00 34 E2 30 04 46 46 0B C4 FF",
        "62 49 1F 00 00 0D 00 00 00 E7 07 " COLL " 08 00 68 00 69 00",
        "F1 01 01 64 00 01 6F 00 01 00 78 00 FF FF FF FF FF FF FF FF",
        "A7 10 00 " COLL " 02 00 68 69",
    };
    for (size_t i = 0; i < sizeof params / sizeof params[0]; i++) {
        uint8_t t[256];
        size_t n = hexbytes(params[i], t);
        buf_u8(&b, 1);
        buf_ascii16(&b, "a");
        buf_u8(&b, (uint8_t)(i & 1));
        buf_put(&b, t, n);
    }
    tds_rpc_request r;
    hdb_err e;
    assert_int_equal(tds_rpc_parse(TDS_VER_74, b.p, b.len, &r, &e), 0);
    assert_int_equal(r.calls[0].nparams, 8);
    tds_rpc_free(&r);
    for (size_t cut = 0; cut < b.len; cut++) {
        uint8_t *copy = malloc(cut ? cut : 1);
        memcpy(copy, b.p, cut);
        int rc = tds_rpc_parse(TDS_VER_74, copy, cut, &r, &e);
        if (rc == 0)
            tds_rpc_free(&r);
        else
            assert_true(e.number == TDS_ERR_PROTOCOL || e.number == TDS_ERR_RPC_LEN);
        free(copy);
    }
    buf_free(&b);
}

static void encrypted_and_too_many_params(void **state)
{
    (void)state;
    tds_buf b;
    buf_init(&b);
    buf_all_headers(&b, 0);
    buf_u16le(&b, 1);
    buf_ascii16(&b, "p");
    buf_u16le(&b, 0);
    for (int i = 0; i <= TDS_MAX_PARAMS; i++) {
        buf_u8(&b, 0);
        buf_u8(&b, 0);
        buf_u8(&b, 0x26);
        buf_u8(&b, 4);
        buf_u8(&b, 0);
    }
    tds_rpc_request r;
    hdb_err e;
    assert_int_equal(tds_rpc_parse(TDS_VER_74, b.p, b.len, &r, &e), -1);
    assert_int_equal(e.number, TDS_ERR_RPC_NPARAM);
    assert_int_equal(tds_rpc_parse(TDS_VER_74, b.p, b.len - 5, &r, &e), 0);
    assert_int_equal(r.calls[0].nparams, TDS_MAX_PARAMS);
    tds_rpc_free(&r);
    b.p[22 + 2 + 2 + 2 + 1] = TDS_PARAM_ENCRYPTED;   /* status of the first parameter */
    assert_int_equal(tds_rpc_parse(TDS_VER_74, b.p, 22 + 6 + 5, &r, &e), -1);
    assert_int_equal(e.number, TDS_ERR_RPC_TYPE);
    buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(round_trip_every_type),
        cmocka_unit_test(legacy_fixed_types),
        cmocka_unit_test(n_types_and_lengths),
        cmocka_unit_test(character_and_binary_types),
        cmocka_unit_test(sql_variant_params),
        cmocka_unit_test(malformed_parameters),
        cmocka_unit_test(every_truncation_is_safe),
        cmocka_unit_test(encrypted_and_too_many_params),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
