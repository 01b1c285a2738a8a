/*
 * row.c — FixedVar row encoding and decoding (layout in row.h).
 *
 * Decoding trusts nothing in the row: every offset is checked against the row
 * length before use, so a corrupt row yields -1 instead of a wild read.
 */
#include "access/row.h"

#include <stdio.h>
#include <string.h>

/* ------------------------------------------------------- little-endian io */

static void put_le(uint8_t *p, uint64_t x, int width)
{
    for (int k = 0; k < width; k++) {
        p[k] = (uint8_t)x;
        x >>= 8;
    }
}

static uint64_t get_le(const uint8_t *p, int width)
{
    uint64_t x = 0;
    for (int k = width - 1; k >= 0; k--)
        x = x << 8 | p[k];
    return x;
}

/* Sign-extends the low `width` bytes of x. */
static int64_t sext(uint64_t x, int width)
{
    int shift = 64 - 8 * width;
    return (int64_t)(x << shift) >> shift;
}

/* ----------------------------------------------------------------- sizes */

size_t row_type_fixed_size(const sql_type *t)
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
    case SQL_CHAR: case SQL_NCHAR: case SQL_BINARY:
        return t->max_len > 0 ? (size_t)value_type_max_bytes(t) : 0;
    case SQL_VARCHAR: case SQL_NVARCHAR: case SQL_VARBINARY:
    case SQL_TYPE_NONE: case SQL_TYPE_COUNT:
        break;
    }
    return 0;
}

static size_t bitmap_size(int ncols) { return ((size_t)ncols + 7) / 8; }

static size_t var_data_size(const sql_value *v)
{
    if (v->is_null)
        return 0;
    return (v->flags & VALUE_F_OFFROW) ? ROW_OFFROW_PTR_SIZE : v->len;
}

/* Variable columns that get an offset entry: up to the last non-NULL one. */
static int stored_var_count(const sql_value *vals, const sql_type *types, int ncols)
{
    int nvar = 0, k = 0;
    for (int i = 0; i < ncols; i++) {
        if (!value_type_is_variable(types[i].id))
            continue;
        k++;
        if (!vals[i].is_null)
            nvar = k;
    }
    return nvar;
}

size_t row_inrow_size(const sql_value *vals, const sql_type *types, int ncols)
{
    size_t size = ROW_HEADER_SIZE + bitmap_size(ncols) + 2;
    for (int i = 0; i < ncols; i++) {
        if (value_type_is_variable(types[i].id))
            size += var_data_size(&vals[i]);
        else
            size += row_type_fixed_size(&types[i]);
    }
    return size + 2 * (size_t)stored_var_count(vals, types, ncols);
}

/* --------------------------------------------------------------- encoding */

static void put_fixed(uint8_t *p, const sql_value *v, const sql_type *t, size_t width)
{
    uint64_t bits;
    switch ((enum sql_type_id)t->id) {
    case SQL_TINYINT: case SQL_BIT: case SQL_SMALLINT: case SQL_INT:
    case SQL_SMALLMONEY: case SQL_BIGINT: case SQL_MONEY:
        put_le(p, (uint64_t)v->u.i, (int)width);
        break;
    case SQL_DECIMAL: case SQL_NUMERIC:
        put_le(p, (uint64_t)v->u.dec, width < 8 ? (int)width : 8);
        if (width == 16)
            put_le(p + 8, (uint64_t)((unsigned __int128)v->u.dec >> 64), 8);
        break;
    case SQL_FLOAT:
        memcpy(&bits, &v->u.f, 8);
        put_le(p, bits, 8);
        break;
    case SQL_REAL: {
        float f = (float)v->u.f;
        uint32_t b32;
        memcpy(&b32, &f, 4);
        put_le(p, b32, 4);
        break;
    }
    case SQL_DATE:
        put_le(p, (uint64_t)v->u.date, 3);
        break;
    case SQL_TIME:
        put_le(p, (uint64_t)v->u.time, 5);
        break;
    case SQL_DATETIME:
        put_le(p, (uint32_t)v->u.dt.days, 4);
        put_le(p + 4, v->u.dt.ticks, 4);
        break;
    case SQL_DATETIME2:
        put_le(p, (uint64_t)v->u.dt2.days, 3);
        put_le(p + 3, (uint64_t)v->u.dt2.ticks, 5);
        break;
    case SQL_UNIQUEIDENTIFIER:
        memcpy(p, v->u.guid, 16);
        break;
    case SQL_CHAR: case SQL_NCHAR: case SQL_BINARY:
        /* fixed-length strings are padded, as SQL Server stores them */
        if (v->len)
            memcpy(p, v->bytes, v->len);
        for (size_t k = v->len; k < width; k++) {
            if (t->id == SQL_BINARY)
                p[k] = 0;
            else
                p[k] = (t->id == SQL_NCHAR && (k & 1)) ? 0 : 0x20;
        }
        break;
    case SQL_VARCHAR: case SQL_NVARCHAR: case SQL_VARBINARY:
    case SQL_TYPE_NONE: case SQL_TYPE_COUNT:
        break;
    }
}

int row_encode(const sql_value *vals, const sql_type *types, int ncols,
               uint8_t *out, size_t cap, size_t *len, hdb_err *err)
{
    if (ncols < 0 || ncols > ROW_MAX_COLUMNS)
        return hdb_raise(err, 40000, "row column count out of range");
    for (int i = 0; i < ncols; i++) {
        if (value_check(&vals[i], &types[i], err) < 0)
            return -1;
        if (!value_type_is_variable(types[i].id) && !vals[i].is_null &&
            row_type_fixed_size(&types[i]) == 0)
            return hdb_raise(err, 40000, "fixed-length column without a length");
    }
    size_t size = row_inrow_size(vals, types, ncols);
    if (size > ROW_MAX_INROW)
        return hdb_raise(err, 511, (int)(size > 0x7fffffff ? 0x7fffffff : size), ROW_MAX_INROW);
    if (size > cap)
        return hdb_raise(err, 40000, "row buffer too small");

    size_t bm = ROW_HEADER_SIZE, fixed = bm + bitmap_size(ncols);
    memset(out, 0, fixed);
    out[0] = ROW_FORMAT_VERSION;
    out[1] = 0;
    put_le(out + 2, (uint64_t)ncols, 2);

    for (int i = 0; i < ncols; i++) {
        if (vals[i].is_null)
            out[bm + i / 8] |= (uint8_t)(1u << (i % 8));
        if (value_type_is_variable(types[i].id))
            continue;
        size_t w = row_type_fixed_size(&types[i]);
        memset(out + fixed, 0, w);
        if (!vals[i].is_null)
            put_fixed(out + fixed, &vals[i], &types[i], w);
        fixed += w;
    }

    size_t var_off = fixed;
    int nvar = stored_var_count(vals, types, ncols);
    put_le(out + 4, var_off, 2);
    put_le(out + var_off, (uint64_t)nvar, 2);
    size_t slot = var_off + 2, data = slot + 2 * (size_t)nvar;
    int k = 0;
    for (int i = 0; i < ncols && k < nvar; i++) {
        if (!value_type_is_variable(types[i].id))
            continue;
        const sql_value *v = &vals[i];
        uint16_t flag = 0;
        if (!v->is_null && (v->flags & VALUE_F_OFFROW)) {
            put_le(out + data, v->u.offrow.first_page, 8);
            put_le(out + data + 8, v->u.offrow.total_len, 8);
            data += ROW_OFFROW_PTR_SIZE;
            flag = ROW_VAR_OFFROW_BIT;
        } else if (!v->is_null && v->len) {
            memcpy(out + data, v->bytes, v->len);
            data += v->len;
        }
        put_le(out + slot + 2 * (size_t)k, data | flag, 2);
        k++;
    }
    *len = data;
    return 0;
}

/* --------------------------------------------------------------- decoding */

struct rowhdr {
    int ncols;
    size_t bitmap, var_off, slots, data;
    int nvar;
};

static int parse_header(const uint8_t *row, size_t len, struct rowhdr *h)
{
    if (!row || len < ROW_HEADER_SIZE || row[0] != ROW_FORMAT_VERSION)
        return -1;
    h->ncols = (int)get_le(row + 2, 2);
    h->bitmap = ROW_HEADER_SIZE;
    h->var_off = get_le(row + 4, 2);
    if (h->var_off < h->bitmap + bitmap_size(h->ncols) || h->var_off + 2 > len)
        return -1;
    h->nvar = (int)get_le(row + h->var_off, 2);
    h->slots = h->var_off + 2;
    h->data = h->slots + 2 * (size_t)h->nvar;
    return h->data <= len ? 0 : -1;
}

static int is_null_bit(const uint8_t *row, const struct rowhdr *h, int col)
{
    return (row[h->bitmap + col / 8] >> (col % 8)) & 1;
}

static void get_fixed(const uint8_t *p, const sql_type *t, size_t width, sql_value *v)
{
    uint64_t bits;
    switch ((enum sql_type_id)t->id) {
    case SQL_TINYINT: case SQL_BIT:
        v->u.i = p[0];
        break;
    case SQL_SMALLINT: case SQL_INT: case SQL_SMALLMONEY: case SQL_BIGINT: case SQL_MONEY:
        v->u.i = sext(get_le(p, (int)width), (int)width);
        break;
    case SQL_DECIMAL: case SQL_NUMERIC:
        if (width == 16) {
            unsigned __int128 u = (unsigned __int128)get_le(p + 8, 8) << 64 | get_le(p, 8);
            v->u.dec = (__int128)u;
        } else {
            v->u.dec = sext(get_le(p, (int)width), (int)width);
        }
        break;
    case SQL_FLOAT:
        bits = get_le(p, 8);
        memcpy(&v->u.f, &bits, 8);
        break;
    case SQL_REAL: {
        uint32_t b32 = (uint32_t)get_le(p, 4);
        float f;
        memcpy(&f, &b32, 4);
        v->u.f = f;
        break;
    }
    case SQL_DATE:
        v->u.date = (int32_t)get_le(p, 3);
        break;
    case SQL_TIME:
        v->u.time = (int64_t)get_le(p, 5);
        break;
    case SQL_DATETIME:
        v->u.dt.days = (int32_t)sext(get_le(p, 4), 4);
        v->u.dt.ticks = (uint32_t)get_le(p + 4, 4);
        break;
    case SQL_DATETIME2:
        v->u.dt2.days = (int32_t)get_le(p, 3);
        v->u.dt2.ticks = (int64_t)get_le(p + 3, 5);
        break;
    case SQL_UNIQUEIDENTIFIER:
        memcpy(v->u.guid, p, 16);
        break;
    case SQL_CHAR: case SQL_NCHAR: case SQL_BINARY:
        v->bytes = p;
        v->len = (uint32_t)width;
        break;
    case SQL_VARCHAR: case SQL_NVARCHAR: case SQL_VARBINARY:
    case SQL_TYPE_NONE: case SQL_TYPE_COUNT:
        break;
    }
}

/* Variable column number k: [start, end) and the off-row flag. */
static int var_extent(const uint8_t *row, size_t len, const struct rowhdr *h, int k,
                      size_t *start, size_t *end, int *offrow)
{
    uint16_t e = (uint16_t)get_le(row + h->slots + 2 * (size_t)k, 2);
    *start = k == 0 ? h->data
                    : (get_le(row + h->slots + 2 * (size_t)(k - 1), 2) & ~ROW_VAR_OFFROW_BIT);
    *end = e & ~ROW_VAR_OFFROW_BIT;
    *offrow = (e & ROW_VAR_OFFROW_BIT) != 0;
    if (*start < h->data || *end < *start || *end > len)
        return -1;
    if (*offrow && *end - *start != ROW_OFFROW_PTR_SIZE)
        return -1;
    return 0;
}

/* Decodes column `col` given its fixed offset (fixed types) or variable index. */
static int decode_column(const uint8_t *row, size_t len, const struct rowhdr *h,
                         const sql_type *t, int col, size_t fixed_off, int var_idx,
                         sql_value *v)
{
    memset(v, 0, sizeof *v);
    v->type = t->id;
    v->is_null = 1;
    if (col >= h->ncols)
        return 0;                      /* column added after this row was written */
    int null = is_null_bit(row, h, col);
    if (!value_type_is_variable(t->id)) {
        size_t w = row_type_fixed_size(t);
        if (fixed_off + w > h->var_off)
            return -1;
        if (!null) {
            v->is_null = 0;
            get_fixed(row + fixed_off, t, w, v);
        }
        return 0;
    }
    if (null)
        return 0;
    if (var_idx >= h->nvar)
        return -1;                     /* non-NULL but no offset entry */
    size_t start, end;
    int offrow;
    if (var_extent(row, len, h, var_idx, &start, &end, &offrow) < 0)
        return -1;
    v->is_null = 0;
    v->bytes = row + start;
    v->len = (uint32_t)(end - start);
    if (offrow) {
        v->flags = VALUE_F_OFFROW;
        v->u.offrow.first_page = get_le(row + start, 8);
        v->u.offrow.total_len = get_le(row + start + 8, 8);
    }
    return 0;
}

int row_decode(const uint8_t *row, size_t len, const sql_type *types, int ncols,
               sql_value *out_vals)
{
    struct rowhdr h;
    if (parse_header(row, len, &h) < 0)
        return -1;
    size_t fixed_off = h.bitmap + bitmap_size(h.ncols);
    int var_idx = 0;
    for (int i = 0; i < ncols; i++) {
        if (decode_column(row, len, &h, &types[i], i, fixed_off, var_idx, &out_vals[i]) < 0)
            return -1;
        if (value_type_is_variable(types[i].id))
            var_idx++;
        else
            fixed_off += row_type_fixed_size(&types[i]);
    }
    return 0;
}

/* Position of column col: fixed offset and variable index from types[0..col-1]. */
static void locate(const struct rowhdr *h, const sql_type *types, int col,
                   size_t *fixed_off, int *var_idx)
{
    *fixed_off = h->bitmap + bitmap_size(h->ncols);
    *var_idx = 0;
    for (int i = 0; i < col; i++) {
        if (value_type_is_variable(types[i].id))
            (*var_idx)++;
        else
            *fixed_off += row_type_fixed_size(&types[i]);
    }
}

int row_get_column(const uint8_t *row, size_t len, const sql_type *types, int col,
                   sql_value *out)
{
    struct rowhdr h;
    if (col < 0 || parse_header(row, len, &h) < 0)
        return -1;
    size_t fixed_off;
    int var_idx;
    locate(&h, types, col, &fixed_off, &var_idx);
    return decode_column(row, len, &h, &types[col], col, fixed_off, var_idx, out);
}

int row_var_column_is_offrow(const uint8_t *row, size_t len, const sql_type *types, int col)
{
    struct rowhdr h;
    if (col < 0 || parse_header(row, len, &h) < 0)
        return -1;
    if (!value_type_is_variable(types[col].id) || col >= h.ncols || is_null_bit(row, &h, col))
        return 0;
    size_t fixed_off, start, end;
    int var_idx, offrow;
    locate(&h, types, col, &fixed_off, &var_idx);
    if (var_idx >= h.nvar || var_extent(row, len, &h, var_idx, &start, &end, &offrow) < 0)
        return -1;
    return offrow;
}

int row_column_count(const uint8_t *row, size_t len)
{
    struct rowhdr h;
    return parse_header(row, len, &h) < 0 ? -1 : h.ncols;
}
