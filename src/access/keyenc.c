/*
 * keyenc.c — order-preserving key encoding (layout in keyenc.h).
 */
#include "access/keyenc.h"

#include <stdio.h>
#include <string.h>

/* Fixed payload width of a column type; 0 for the escaped (string/binary) types. */
static size_t fixed_width(const sql_type *t)
{
    switch ((enum sql_type_id)t->id) {
    case SQL_TINYINT: case SQL_BIT:                     return 1;
    case SQL_SMALLINT:                                  return 2;
    case SQL_INT: case SQL_SMALLMONEY: case SQL_REAL:   return 4;
    case SQL_BIGINT: case SQL_MONEY: case SQL_FLOAT:    return 8;
    case SQL_DECIMAL: case SQL_NUMERIC:                 return (size_t)value_decimal_width(t->precision);
    case SQL_DATE:                                      return 3;
    case SQL_TIME:                                      return 5;
    case SQL_DATETIME: case SQL_DATETIME2:              return 8;
    case SQL_UNIQUEIDENTIFIER:                          return 16;
    case SQL_CHAR: case SQL_VARCHAR: case SQL_NCHAR: case SQL_NVARCHAR:
    case SQL_BINARY: case SQL_VARBINARY:
    case SQL_TYPE_NONE: case SQL_TYPE_COUNT:
        break;
    }
    return 0;
}

static uint32_t bin_trimmed(const sql_value *v)
{
    uint32_t n = v->len;
    while (n > 0 && v->bytes[n - 1] == 0)
        n--;
    return n;
}

static size_t column_bound(const sql_value *v, const sql_type *t)
{
    if (v->is_null)
        return 1;
    if (value_type_is_string(t->id)) {
        int uni = value_type_is_unicode(t->id);
        size_t units = value_str_trimmed_units(v->bytes, v->len, uni);
        return 1 + units * (uni ? 3 : 2) + 1;       /* longest weight code + terminator */
    }
    if (value_type_is_binary(t->id))
        return 1 + (size_t)bin_trimmed(v) * 2 + 2;  /* worst case: every byte escaped */
    return 1 + fixed_width(t);
}

size_t keyenc_size_bound(const sql_value *vals, const sql_type *types, int ncols)
{
    size_t n = 0;
    for (int i = 0; i < ncols; i++)
        n += column_bound(&vals[i], &types[i]);
    return n;
}

/* Big-endian unsigned integer of `width` bytes. */
static uint8_t *put_be(uint8_t *p, uint64_t x, int width)
{
    for (int k = width - 1; k >= 0; k--) {
        p[k] = (uint8_t)x;
        x >>= 8;
    }
    return p + width;
}

/* Signed integer of `width` bytes: flipping the sign bit maps two's complement
 * order onto unsigned order. */
static uint8_t *put_signed(uint8_t *p, int64_t x, int width)
{
    uint64_t u = (uint64_t)x ^ (1ULL << (width * 8 - 1));
    return put_be(p, u, width);
}

static uint8_t *put_i128(uint8_t *p, __int128 x)
{
    unsigned __int128 u = (unsigned __int128)x ^ ((unsigned __int128)1 << 127);
    p = put_be(p, (uint64_t)(u >> 64), 8);
    return put_be(p, (uint64_t)u, 8);
}

static uint8_t *put_double(uint8_t *p, double f)
{
    if (f == 0)
        f = 0.0;                    /* -0.0 == 0.0 must encode identically */
    uint64_t bits;
    memcpy(&bits, &f, 8);
    bits = (bits >> 63) ? ~bits : bits | (1ULL << 63);
    return put_be(p, bits, 8);
}

static uint8_t *put_float(uint8_t *p, float f)
{
    if (f == 0)
        f = 0.0f;
    uint32_t bits;
    memcpy(&bits, &f, 4);
    bits = (bits >> 31) ? ~bits : bits | (1U << 31);
    return put_be(p, bits, 4);
}

/* Escaped byte (binary values): 0x00 becomes 0x00 0xFF so the 0x00 0x00
 * terminator stays unique and a prefix sorts first. */
static inline uint8_t *put_esc(uint8_t *p, uint8_t b)
{
    *p++ = b;
    if (b == 0)
        *p++ = 0xFF;
    return p;
}

/* Weight code: an order-preserving, self-delimiting code for 16-bit collation
 * weights whose first byte is never 0x00, so a single 0x00 can end the string
 * and sorts before any further character. Common weights take one byte (all of
 * Latin-1 under the default collation), so keys stay about as long as the text:
 *   w < 240            1 byte   w + 1                      (0x01..0xF0)
 *   w < 240 + 14*256   2 bytes  0xF1 + (w-240)/256, low byte (lead 0xF1..0xFE)
 *   otherwise          3 bytes  0xFF, w - 3824 big-endian
 * Only lead bytes are compared against the terminator, and equal leads imply
 * equal code lengths, so memcmp of codes is weight order. */
#define WC_ONE   240
#define WC_TWO   14

static uint8_t *put_weight(uint8_t *p, uint16_t w)
{
    if (w < WC_ONE) {
        *p++ = (uint8_t)(w + 1);
        return p;
    }
    uint32_t x = (uint32_t)w - WC_ONE;
    if (x < WC_TWO * 256) {
        *p++ = (uint8_t)(WC_ONE + 1 + x / 256);
        *p++ = (uint8_t)x;
        return p;
    }
    x -= WC_TWO * 256;
    *p++ = 0xFF;
    *p++ = (uint8_t)(x >> 8);
    *p++ = (uint8_t)x;
    return p;
}

static uint8_t *put_string(uint8_t *p, const sql_value *v, const sql_type *t)
{
    int uni = value_type_is_unicode(t->id);
    size_t n = value_str_trimmed_units(v->bytes, v->len, uni);
    for (size_t i = 0; i < n; i++) {
        uint16_t unit = uni ? (uint16_t)(v->bytes[2 * i] | v->bytes[2 * i + 1] << 8) : v->bytes[i];
        p = put_weight(p, value_coll_weight(unit, uni, t->collation_flags));
    }
    *p++ = 0;
    return p;
}

static uint8_t *put_binary(uint8_t *p, const sql_value *v)
{
    uint32_t n = bin_trimmed(v);
    for (uint32_t i = 0; i < n; i++)
        p = put_esc(p, v->bytes[i]);
    *p++ = 0;
    *p++ = 0;
    return p;
}

/* SQL Server's uniqueidentifier comparison order over storage bytes. */
static const uint8_t guid_order[16] = { 10, 11, 12, 13, 14, 15, 8, 9, 6, 7, 4, 5, 0, 1, 2, 3 };

static uint8_t *put_value(uint8_t *p, const sql_value *v, const sql_type *t)
{
    switch ((enum sql_type_id)t->id) {
    case SQL_TINYINT: case SQL_BIT:
        *p++ = (uint8_t)v->u.i;
        return p;
    case SQL_SMALLINT:   return put_signed(p, v->u.i, 2);
    case SQL_INT: case SQL_SMALLMONEY:
        return put_signed(p, v->u.i, 4);
    case SQL_BIGINT: case SQL_MONEY:
        return put_signed(p, v->u.i, 8);
    case SQL_DECIMAL: case SQL_NUMERIC: {
        int w = value_decimal_width(t->precision);
        return w == 16 ? put_i128(p, v->u.dec) : put_signed(p, (int64_t)v->u.dec, w);
    }
    case SQL_FLOAT:      return put_double(p, v->u.f);
    case SQL_REAL:       return put_float(p, (float)v->u.f);
    case SQL_DATE:       return put_be(p, (uint64_t)v->u.date, 3);
    case SQL_TIME:       return put_be(p, (uint64_t)v->u.time, 5);
    case SQL_DATETIME:
        p = put_signed(p, v->u.dt.days, 4);
        return put_be(p, v->u.dt.ticks, 4);
    case SQL_DATETIME2:
        p = put_be(p, (uint64_t)v->u.dt2.days, 3);
        return put_be(p, (uint64_t)v->u.dt2.ticks, 5);
    case SQL_UNIQUEIDENTIFIER:
        for (int k = 0; k < 16; k++)
            *p++ = v->u.guid[guid_order[k]];
        return p;
    case SQL_CHAR: case SQL_VARCHAR: case SQL_NCHAR: case SQL_NVARCHAR:
        return put_string(p, v, t);
    case SQL_BINARY: case SQL_VARBINARY:
        return put_binary(p, v);
    case SQL_TYPE_NONE: case SQL_TYPE_COUNT:
        break;
    }
    return p;
}

int keyenc_encode(const sql_value *vals, const sql_type *types, const uint8_t *desc,
                  int ncols, uint8_t *out, size_t cap, size_t *out_len, hdb_err *err)
{
    size_t len = 0;
    for (int i = 0; i < ncols; i++) {
        const sql_value *v = &vals[i];
        const sql_type *t = &types[i];
        if (!v->is_null) {
            if (value_check(v, t, err) < 0)
                return -1;
            if (v->flags & VALUE_F_OFFROW)
                return hdb_raise(err, 40000, "an off-row value cannot be part of an index key");
        }
        /* bound first, so writing never runs past cap */
        if (column_bound(v, t) > cap - len)
            return hdb_raise(err, 40000, "index key buffer too small");
        uint8_t *start = out + len, *p = start;
        if (v->is_null) {
            *p++ = 0x00;
        } else {
            *p++ = 0x01;
            p = put_value(p, v, t);
        }
        if (desc && desc[i]) {
            for (uint8_t *q = start; q < p; q++)
                *q = (uint8_t)~*q;
        }
        len += (size_t)(p - start);
    }
    *out_len = len;
    return 0;
}

size_t keyenc_describe(const sql_value *vals, const sql_type *types, int ncols,
                       char *buf, size_t cap)
{
    size_t len = 0;
    /* append with snprintf semantics: count everything, write what fits */
#define APPEND_TEXT(s) do { \
        const char *s_ = (s); size_t n_ = strlen(s_); \
        if (len < cap) { size_t room_ = cap - len - 1; \
            memcpy(buf + len, s_, n_ < room_ ? n_ : room_); } \
        len += n_; } while (0)
    APPEND_TEXT("(");
    for (int i = 0; i < ncols; i++) {
        if (i > 0)
            APPEND_TEXT(", ");
        size_t room = len < cap ? cap - len : 0;
        len += value_format(&vals[i], &types[i], room ? buf + len : NULL, room);
    }
    APPEND_TEXT(")");
#undef APPEND_TEXT
    if (cap > 0)
        buf[len < cap ? len : cap - 1] = 0;
    return len;
}

int keyenc_compare(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
    size_t n = alen < blen ? alen : blen;
    int c = n ? memcmp(a, b, n) : 0;
    if (c)
        return c < 0 ? -1 : 1;
    return alen < blen ? -1 : alen > blen;
}
