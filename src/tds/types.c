/*
 * types.c — TYPE_INFO and value encodings, both directions.
 *
 * Server -> client (COLMETADATA, ROW/NBCROW, RETURNVALUE): every engine type
 * goes out the way SQL Server sends it, using only the nullable "N" forms so
 * one layout covers NULL and non-NULL values:
 *
 *   tinyint..bigint  INTN 1/2/4/8          bit             BITN 1
 *   decimal/numeric  DECIMALN/NUMERICN, length 5/9/13/17 by precision (tedious
 *                    accepts no other sizes), sign byte + LE magnitude
 *   money/smallmoney MONEYN 8/4 (8: high dword first)    float/real FLTN 8/4
 *   datetime         DATETIMN 8            uniqueidentifier GUID 16
 *   date/time/datetime2  DATEN/TIMEN/DATETIME2N (7.3+); NVARCHAR text before
 *   char/varchar/nchar/nvarchar/binary/varbinary  BIGxxx / Nxxx types with a 2-byte length
 *                    (char types carry the connection's collation); (max) as
 *                    PLP on 7.2+, as TEXT/NTEXT/IMAGE with a dummy textptr on 7.1
 *
 * Client -> server (RPC parameters) accepts everything clients send, the
 * legacy Sybase-era codes included (fixed INT1..INT8, SYBVARCHAR with a 1-byte
 * length, DATETIM4, DECIMAL with compact lengths as FreeTDS sends them, TEXT/
 * NTEXT/IMAGE, XML, sql_variant) and maps each onto an engine sql_type plus
 * sql_value. Values point into the request payload; only multi-chunk PLP
 * values are copied (into the request's memory).
 */
#include "tds/tds_int.h"

#include <math.h>
#include <stdio.h>

#include "util/utf16.h"

/* ------------------------------------------------------------ request memory */

struct tds_mem {
    struct tds_mem *next;
    _Alignas(16) uint8_t data[];
};

void *tds_mem_alloc(struct tds_mem **m, size_t n)
{
    struct tds_mem *b = malloc(sizeof *b + (n ? n : 1));
    if (!b)
        return NULL;
    b->next = *m;
    *m = b;
    return b->data;
}

void tds_mem_free(struct tds_mem **m)
{
    while (*m) {
        struct tds_mem *n = (*m)->next;
        free(*m);
        *m = n;
    }
}

/* ------------------------------------------------------------ helpers */

static const int64_t pow10_tab[8] = { 1, 10, 100, 1000, 10000, 100000, 1000000, 10000000 };

static unsigned __int128 pow10_u128(int p)
{
    unsigned __int128 r = 1;
    while (p-- > 0)
        r *= 10;
    return r;
}

static uint8_t decimal_size(int p) { return p <= 9 ? 5 : p <= 19 ? 9 : p <= 28 ? 13 : 17; }
static uint8_t time_size(int scale) { return scale <= 2 ? 3 : scale <= 4 ? 4 : 5; }

static int bad_type(hdb_err *err, const char *what)
{
    return tds_fail(err, 50000, 16, "Cannot send a value of %s to the client.", what);
}

/* ------------------------------------------------------------ engine -> wire */

int tds_wcol_from_type(uint32_t version, const sql_type *t, struct tds_wcol *w, hdb_err *err)
{
    int v72 = tds_is72(version);
    int v73 = version == 0 || version >= TDS_VER_73A;
    memset(w, 0, sizeof *w);
    w->t = *t;
    w->form = TDS_FORM_BYTELEN;
    switch ((enum sql_type_id)t->id) {
    case SQL_TINYINT:  w->code = TDS_INTN; w->size = 1; return 0;
    case SQL_SMALLINT: w->code = TDS_INTN; w->size = 2; return 0;
    case SQL_INT:      w->code = TDS_INTN; w->size = 4; return 0;
    case SQL_BIGINT:   w->code = TDS_INTN; w->size = 8; return 0;
    case SQL_BIT:      w->code = TDS_BITN; w->size = 1; return 0;
    case SQL_MONEY:    w->code = TDS_MONEYN; w->size = 8; return 0;
    case SQL_SMALLMONEY: w->code = TDS_MONEYN; w->size = 4; return 0;
    case SQL_FLOAT:    w->code = TDS_FLTN; w->size = 8; return 0;
    case SQL_REAL:     w->code = TDS_FLTN; w->size = 4; return 0;
    case SQL_DATETIME: w->code = TDS_DATETIMN; w->size = 8; return 0;
    case SQL_UNIQUEIDENTIFIER: w->code = TDS_GUID; w->size = 16; return 0;
    case SQL_DECIMAL: case SQL_NUMERIC: {
        int p = t->precision ? t->precision : 38;
        if (p > 38 || t->scale > p)
            return bad_type(err, "an invalid decimal precision/scale");
        w->code = t->id == SQL_DECIMAL ? TDS_DECIMALN : TDS_NUMERICN;
        w->prec = (uint8_t)p;
        w->scale = t->scale;
        w->size = decimal_size(p);
        return 0;
    }
    case SQL_DATE: case SQL_TIME: case SQL_DATETIME2: {
        int s = t->id == SQL_DATE ? 0 : t->precision;
        if (s > 7)
            return bad_type(err, "a time scale above 7");
        w->scale = (uint8_t)s;
        if (!v73) {
            /* pre-7.3 clients know no date/time types: SQL Server sends text */
            int chars = t->id == SQL_DATE ? 10 : t->id == SQL_TIME ? 8 : 19;
            if (t->id != SQL_DATE && s > 0)
                chars += 1 + s;
            w->code = TDS_NVARCHAR;
            w->form = TDS_FORM_DATETEXT;
            w->has_coll = 1;
            w->maxlen = (uint16_t)(2 * chars);
            return 0;
        }
        w->code = t->id == SQL_DATE ? TDS_DATEN : t->id == SQL_TIME ? TDS_TIMEN : TDS_DATETIME2N;
        w->size = t->id == SQL_DATE ? 3 : t->id == SQL_TIME ? time_size(s) : (uint8_t)(time_size(s) + 3);
        return 0;
    }
    case SQL_CHAR: case SQL_VARCHAR: case SQL_NCHAR: case SQL_NVARCHAR:
    case SQL_BINARY: case SQL_VARBINARY: {
        int uni = value_type_is_unicode(t->id), bin = value_type_is_binary(t->id);
        int var = value_type_is_variable(t->id);
        w->has_coll = !bin;
        if (t->max_len == VALUE_LEN_MAX) {
            if (!var)
                return bad_type(err, "a fixed-length (max) type");
            if (v72) {
                w->form = TDS_FORM_PLP;
                w->code = bin ? TDS_BIGVARBINARY : uni ? TDS_NVARCHAR : TDS_BIGVARCHAR;
                w->maxlen = 0xFFFF;
            } else {
                w->form = TDS_FORM_TEXT;
                w->code = bin ? TDS_IMAGE : uni ? TDS_NTEXT : TDS_TEXT;
            }
            return 0;
        }
        int64_t bytes = (int64_t)(t->max_len > 0 ? t->max_len : 1) * (uni ? 2 : 1);
        if (bytes > 8000)
            return bad_type(err, "a string or binary type longer than 8000 bytes");
        w->form = TDS_FORM_USHORT;
        w->maxlen = (uint16_t)bytes;
        switch (t->id) {
        case SQL_CHAR: w->code = TDS_BIGCHAR; break;
        case SQL_VARCHAR: w->code = TDS_BIGVARCHAR; break;
        case SQL_NCHAR: w->code = TDS_NCHAR; break;
        case SQL_NVARCHAR: w->code = TDS_NVARCHAR; break;
        case SQL_BINARY: w->code = TDS_BIGBINARY; break;
        default: w->code = TDS_BIGVARBINARY; break;
        }
        return 0;
    }
    case SQL_TYPE_NONE: case SQL_TYPE_COUNT:
        break;
    }
    return bad_type(err, "an unknown type");
}

void tds_typeinfo_put(tds_buf *b, const struct tds_wcol *w, const uint8_t coll[5])
{
    buf_u8(b, w->code);
    switch (w->form) {
    case TDS_FORM_BYTELEN:
        if (w->code == TDS_DATEN)
            break;
        if (w->code == TDS_TIMEN || w->code == TDS_DATETIME2N) {
            buf_u8(b, w->scale);
        } else if (w->code == TDS_DECIMALN || w->code == TDS_NUMERICN) {
            buf_u8(b, w->size);
            buf_u8(b, w->prec);
            buf_u8(b, w->scale);
        } else {
            buf_u8(b, w->size);
        }
        break;
    case TDS_FORM_USHORT: case TDS_FORM_PLP: case TDS_FORM_DATETEXT:
        buf_u16le(b, w->maxlen);
        if (w->has_coll)
            buf_put(b, coll, 5);
        break;
    case TDS_FORM_TEXT:
        buf_u32le(b, w->code == TDS_NTEXT ? 0x7FFFFFFEu : 0x7FFFFFFFu);
        if (w->has_coll)
            buf_put(b, coll, 5);
        break;
    }
}

int tds_value_check(const struct tds_wcol *w, const sql_value *v, hdb_err *err)
{
    if (v->is_null)
        return 0;
    if (v->flags & VALUE_F_OFFROW)
        return tds_fail(err, 50000, 16, "Internal error: an off-row value reached the TDS "
                        "encoder without being read back.");
    const sql_type *t = &w->t;
    switch ((enum sql_type_id)t->id) {
    case SQL_CHAR: case SQL_VARCHAR: case SQL_NCHAR: case SQL_NVARCHAR:
    case SQL_BINARY: case SQL_VARBINARY:
        if (v->len && !v->bytes)
            return tds_fail(err, 50000, 16, "Internal error: value without data.");
        if (value_type_is_unicode(t->id) && (v->len & 1))
            return tds_fail(err, 50000, 16, "Internal error: odd byte length of a UTF-16 value.");
        if ((w->form == TDS_FORM_USHORT && v->len > w->maxlen) ||
            (w->form == TDS_FORM_TEXT && v->len > 0x7FFFFFFFu))
            return hdb_raise_text(err, 8152, 16, 2, "String or binary data would be truncated.");
        return 0;
    case SQL_DECIMAL: case SQL_NUMERIC: {
        __int128 lim = (__int128)pow10_u128(w->prec);
        if (v->u.dec >= lim || v->u.dec <= -lim)
            return hdb_raise_text(err, 8115, 16, 2, "Arithmetic overflow error converting "
                                  "numeric to data type numeric.");
        return 0;
    }
    case SQL_FLOAT: case SQL_REAL:
        if (!isfinite(v->u.f))
            return hdb_raise_text(err, 8115, 16, 2, "Arithmetic overflow error for type float.");
        return 0;
    case SQL_DATE:
        return (v->u.date < 0 || v->u.date > VALUE_DATE_MAX) ?
            tds_fail(err, 50000, 16, "Internal error: date out of range.") : 0;
    case SQL_TIME:
        return (v->u.time < 0 || v->u.time >= VALUE_TICKS_PER_DAY) ?
            tds_fail(err, 50000, 16, "Internal error: time out of range.") : 0;
    case SQL_DATETIME2:
        return (v->u.dt2.days < 0 || v->u.dt2.days > VALUE_DATE_MAX || v->u.dt2.ticks < 0 ||
                v->u.dt2.ticks >= VALUE_TICKS_PER_DAY) ?
            tds_fail(err, 50000, 16, "Internal error: datetime2 out of range.") : 0;
    default:
        return 0;
    }
}

static void put_le(tds_sink s, uint64_t v, int n)
{
    uint8_t b[8];
    for (int k = 0; k < n; k++)
        b[k] = (uint8_t)(v >> (8 * k));
    s.put(s.ctx, b, (size_t)n);
}

static void put_u8(tds_sink s, uint8_t v) { s.put(s.ctx, &v, 1); }

static void put_padded(tds_sink s, const sql_value *v, size_t width, uint8_t pad, int unicode)
{
    if (v->len)
        s.put(s.ctx, v->bytes, v->len);
    uint8_t fill[64];
    for (size_t k = 0; k < sizeof fill; k++)
        fill[k] = unicode ? (k & 1 ? 0 : pad) : pad;
    size_t left = width > v->len ? width - v->len : 0;
    while (left > 0) {
        size_t n = left < sizeof fill ? left : sizeof fill;
        s.put(s.ctx, fill, n);
        left -= n;
    }
}

/* Date/time as text for pre-7.3 clients, e.g. "2024-01-02 03:04:05.1234567". */
static void put_datetext(tds_sink s, const struct tds_wcol *w, const sql_value *v)
{
    char text[64];
    sql_value tmp = *v;
    tmp.type = w->t.id;
    size_t n = value_format(&tmp, &w->t, text, sizeof text);
    if (n >= sizeof text)
        n = sizeof text - 1;
    uint8_t u[128];
    size_t ub = utf8_to_utf16le(text, n, u, sizeof u);
    if (ub > w->maxlen)
        ub = w->maxlen;
    put_le(s, ub, 2);
    s.put(s.ctx, u, ub);
}

static void put_bytelen(tds_sink s, const struct tds_wcol *w, const sql_value *v)
{
    put_u8(s, w->size);
    switch (w->code) {
    case TDS_INTN:
        put_le(s, (uint64_t)v->u.i, w->size);
        break;
    case TDS_BITN:
        put_u8(s, v->u.i ? 1 : 0);
        break;
    case TDS_FLTN:
        if (w->size == 8) {
            uint64_t bits;
            memcpy(&bits, &v->u.f, 8);
            put_le(s, bits, 8);
        } else {
            float f = (float)v->u.f;
            uint32_t bits;
            memcpy(&bits, &f, 4);
            put_le(s, bits, 4);
        }
        break;
    case TDS_MONEYN:
        if (w->size == 8) {
            /* money: the high dword goes first, each half little-endian */
            put_le(s, (uint64_t)v->u.i >> 32, 4);
            put_le(s, (uint64_t)v->u.i & 0xFFFFFFFFu, 4);
        } else {
            put_le(s, (uint64_t)v->u.i, 4);
        }
        break;
    case TDS_DATETIMN:
        put_le(s, (uint32_t)v->u.dt.days, 4);
        put_le(s, v->u.dt.ticks, 4);
        break;
    case TDS_GUID:
        s.put(s.ctx, v->u.guid, 16);
        break;
    case TDS_DECIMALN: case TDS_NUMERICN: {
        __int128 d = v->u.dec;
        put_u8(s, d >= 0 ? 1 : 0);
        unsigned __int128 m = d >= 0 ? (unsigned __int128)d : (unsigned __int128)(-d);
        uint8_t b[16];
        for (int k = 0; k < 16; k++)
            b[k] = (uint8_t)(m >> (8 * k));
        s.put(s.ctx, b, (size_t)w->size - 1);
        break;
    }
    case TDS_DATEN:
        put_le(s, (uint32_t)v->u.date, 3);
        break;
    case TDS_TIMEN:
        put_le(s, (uint64_t)(v->u.time / pow10_tab[7 - w->scale]), w->size);
        break;
    case TDS_DATETIME2N:
        put_le(s, (uint64_t)(v->u.dt2.ticks / pow10_tab[7 - w->scale]), w->size - 3);
        put_le(s, (uint32_t)v->u.dt2.days, 3);
        break;
    }
}

static void value_put(tds_sink s, const struct tds_wcol *w, const sql_value *v, int param_form)
{
    if (v->is_null) {
        static const uint8_t ff[8] = { 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF };
        switch (w->form) {
        case TDS_FORM_BYTELEN: put_u8(s, 0); break;
        case TDS_FORM_USHORT: case TDS_FORM_DATETEXT: s.put(s.ctx, ff, 2); break;
        case TDS_FORM_PLP: s.put(s.ctx, ff, 8); break;
        case TDS_FORM_TEXT:
            if (param_form)
                s.put(s.ctx, ff, 4);
            else
                put_u8(s, 0);          /* no textptr = NULL */
            break;
        }
        return;
    }
    switch (w->form) {
    case TDS_FORM_BYTELEN:
        put_bytelen(s, w, v);
        break;
    case TDS_FORM_USHORT: {
        int fixed = w->code == TDS_BIGCHAR || w->code == TDS_NCHAR || w->code == TDS_BIGBINARY;
        size_t n = fixed ? w->maxlen : v->len;
        put_le(s, n, 2);
        put_padded(s, v, n, w->code == TDS_BIGBINARY ? 0 : ' ', w->code == TDS_NCHAR);
        break;
    }
    case TDS_FORM_PLP:
        /* known total length, one chunk, terminator (an empty value is just
         * the zero length followed by the terminator) */
        put_le(s, v->len, 8);
        if (v->len) {
            put_le(s, v->len, 4);
            s.put(s.ctx, v->bytes, v->len);
        }
        put_le(s, 0, 4);
        break;
    case TDS_FORM_TEXT:
        if (!param_form) {
            static const uint8_t ptr[1 + 16 + 8] = { 16, 1 };  /* clients ignore the contents */
            s.put(s.ctx, ptr, sizeof ptr);
        }
        put_le(s, v->len, 4);
        if (v->len)
            s.put(s.ctx, v->bytes, v->len);
        break;
    case TDS_FORM_DATETEXT:
        put_datetext(s, w, v);
        break;
    }
}

void tds_value_put(tds_sink s, const struct tds_wcol *w, const sql_value *v) { value_put(s, w, v, 0); }
void tds_param_value_put(tds_sink s, const struct tds_wcol *w, const sql_value *v) { value_put(s, w, v, 1); }

/* ------------------------------------------------------------ wire -> engine */

/* What a TYPE_INFO said. */
struct meta {
    uint8_t  code;
    uint32_t maxlen;         /* declared length (bytes), 0xFFFF for PLP types */
    uint8_t  prec, scale;
    int      plp;
};

/* Error context: which parameter. */
struct pctx {
    int ordinal;
    const char *name;
    hdb_err *err;
};

#define RPC_PREFIX "The incoming tabular data stream (TDS) remote procedure call (RPC) " \
                   "protocol stream is incorrect. "

static int e_trunc(struct pctx *x)
{
    return tds_fail(x->err, TDS_ERR_PROTOCOL, 16, "The incoming tabular data stream (TDS) "
                    "protocol stream is incorrect. The stream ended unexpectedly "
                    "(parameter %d).", x->ordinal);
}
static int e_len(struct pctx *x, uint8_t code)
{
    return tds_fail(x->err, TDS_ERR_RPC_LEN, 16, RPC_PREFIX "Parameter %d (\"%s\"): Data type "
                    "0x%02X has an invalid data length or metadata length.",
                    x->ordinal, x->name, code);
}
static int e_type(struct pctx *x, uint8_t code)
{
    return tds_fail(x->err, TDS_ERR_RPC_TYPE, 16, RPC_PREFIX "Parameter %d (\"%s\"): Data type "
                    "0x%02X is unknown.", x->ordinal, x->name, code);
}
static int e_value(struct pctx *x, uint8_t id)
{
    return tds_fail(x->err, TDS_ERR_RPC_VALUE, 16, RPC_PREFIX "Parameter %d (\"%s\"): The "
                    "supplied value is not a valid instance of data type %s. Check the source "
                    "data for invalid values. An example of an invalid value is data of numeric "
                    "type with scale greater than precision.", x->ordinal, x->name,
                    value_type_name(id));
}

static int64_t le_signed(const uint8_t *b, size_t n)
{
    uint64_t v = 0;
    for (size_t k = 0; k < n; k++)
        v |= (uint64_t)b[k] << (8 * k);
    if (n < 8 && (b[n - 1] & 0x80))
        v |= ~(uint64_t)0 << (8 * n);
    return (int64_t)v;
}

static uint64_t le_unsigned(const uint8_t *b, size_t n)
{
    uint64_t v = 0;
    for (size_t k = 0; k < n; k++)
        v |= (uint64_t)b[k] << (8 * k);
    return v;
}

/* The engine type a TYPE_INFO declares. */
static sql_type declared_type(const struct meta *m)
{
    uint32_t ml = m->maxlen;
    switch (m->code) {
    case TDS_INT1: return value_type(SQL_TINYINT, 0, 0, 0);
    case TDS_INT2: return value_type(SQL_SMALLINT, 0, 0, 0);
    case TDS_INT4: return value_type(SQL_INT, 0, 0, 0);
    case TDS_INT8: return value_type(SQL_BIGINT, 0, 0, 0);
    case TDS_INTN:
        return value_type(ml == 1 ? SQL_TINYINT : ml == 2 ? SQL_SMALLINT : ml == 4 ? SQL_INT
                          : SQL_BIGINT, 0, 0, 0);
    case TDS_BIT: case TDS_BITN: return value_type(SQL_BIT, 0, 0, 0);
    case TDS_FLT4: return value_type(SQL_REAL, 0, 0, 0);
    case TDS_FLT8: return value_type(SQL_FLOAT, 0, 0, 0);
    case TDS_FLTN: return value_type(ml == 4 ? SQL_REAL : SQL_FLOAT, 0, 0, 0);
    case TDS_MONEY4: return value_type(SQL_SMALLMONEY, 0, 0, 0);
    case TDS_MONEY: return value_type(SQL_MONEY, 0, 0, 0);
    case TDS_MONEYN: return value_type(ml == 4 ? SQL_SMALLMONEY : SQL_MONEY, 0, 0, 0);
    case TDS_DATETIM4: case TDS_DATETIME: case TDS_DATETIMN:
        return value_type(SQL_DATETIME, 0, 0, 0);
    case TDS_GUID: return value_type(SQL_UNIQUEIDENTIFIER, 0, 0, 0);
    case TDS_DECIMAL: case TDS_DECIMALN:
        return value_type(SQL_DECIMAL, 0, m->prec, m->scale);
    case TDS_NUMERIC: case TDS_NUMERICN:
        return value_type(SQL_NUMERIC, 0, m->prec, m->scale);
    case TDS_DATEN: return value_type(SQL_DATE, 0, 0, 0);
    case TDS_TIMEN: return value_type(SQL_TIME, 0, m->scale, 0);
    case TDS_DATETIME2N: case TDS_DATETIMEOFFSETN:
        return value_type(SQL_DATETIME2, 0, m->scale, 0);
    case TDS_BIGCHAR: case TDS_CHAR:
        return value_type(SQL_CHAR, (int32_t)ml, 0, 0);
    case TDS_BIGVARCHAR: case TDS_VARCHAR:
        return value_type(SQL_VARCHAR, m->plp ? VALUE_LEN_MAX : (int32_t)ml, 0, 0);
    case TDS_NCHAR:
        return value_type(SQL_NCHAR, (int32_t)(ml / 2), 0, 0);
    case TDS_NVARCHAR: case TDS_SYBNVARCHAR:
        return value_type(SQL_NVARCHAR, m->plp ? VALUE_LEN_MAX : (int32_t)(ml / 2), 0, 0);
    case TDS_BIGBINARY: case TDS_BINARY:
        return value_type(SQL_BINARY, (int32_t)ml, 0, 0);
    case TDS_BIGVARBINARY: case TDS_VARBINARY:
        return value_type(SQL_VARBINARY, m->plp ? VALUE_LEN_MAX : (int32_t)ml, 0, 0);
    case TDS_TEXT: return value_type(SQL_VARCHAR, VALUE_LEN_MAX, 0, 0);
    case TDS_NTEXT: case TDS_XML: return value_type(SQL_NVARCHAR, VALUE_LEN_MAX, 0, 0);
    case TDS_IMAGE: return value_type(SQL_VARBINARY, VALUE_LEN_MAX, 0, 0);
    }
    return value_type(SQL_INT, 0, 0, 0);          /* NULLTYPE */
}

/* Turns n value bytes of a TYPE_INFO m into p->value (p->type already set). */
static int convert(struct pctx *x, const struct meta *m, const uint8_t *b, size_t n, tds_param *p)
{
    sql_value *v = &p->value;
    uint8_t id = p->type.id;
    memset(v, 0, sizeof *v);
    v->type = id;
    switch (m->code) {
    case TDS_INT1: case TDS_INT2: case TDS_INT4: case TDS_INT8: case TDS_INTN:
        if (n != 1 && n != 2 && n != 4 && n != 8)
            return e_len(x, m->code);
        v->u.i = n == 1 ? (int64_t)b[0] : le_signed(b, n);
        /* a narrower declared type than the value needs: widen the type */
        if ((id == SQL_TINYINT && n > 1) || (id == SQL_SMALLINT && n > 2) || (id == SQL_INT && n > 4))
            p->type.id = v->type = n == 2 ? SQL_SMALLINT : n == 4 ? SQL_INT : SQL_BIGINT;
        return 0;
    case TDS_BIT: case TDS_BITN:
        if (n != 1)
            return e_len(x, m->code);
        v->u.i = b[0] != 0;
        return 0;
    case TDS_FLT4: case TDS_FLT8: case TDS_FLTN:
        if (n == 4) {
            float f;
            uint32_t bits = (uint32_t)le_unsigned(b, 4);
            memcpy(&f, &bits, 4);
            v->u.f = f;
        } else if (n == 8) {
            uint64_t bits = le_unsigned(b, 8);
            memcpy(&v->u.f, &bits, 8);
        } else {
            return e_len(x, m->code);
        }
        return isfinite(v->u.f) ? 0 : e_value(x, id);
    case TDS_MONEY4: case TDS_MONEY: case TDS_MONEYN:
        if (n == 4)
            v->u.i = le_signed(b, 4);
        else if (n == 8)
            v->u.i = (int64_t)((uint64_t)le_unsigned(b, 4) << 32 | le_unsigned(b + 4, 4));
        else
            return e_len(x, m->code);
        return 0;
    case TDS_DATETIM4: case TDS_DATETIME: case TDS_DATETIMN:
        if (n == 4) {
            /* smalldatetime: days since 1900 and minutes; the engine has
             * only datetime, which holds it exactly */
            uint32_t mins = (uint32_t)le_unsigned(b + 2, 2);
            if (mins >= 1440)
                return e_value(x, id);
            v->u.dt.days = (int32_t)le_unsigned(b, 2);
            v->u.dt.ticks = mins * 60u * 300u;
        } else if (n == 8) {
            v->u.dt.days = (int32_t)le_signed(b, 4);
            v->u.dt.ticks = (uint32_t)le_unsigned(b + 4, 4);
            if (v->u.dt.days < VALUE_DATETIME_MIN_DAYS || v->u.dt.days > VALUE_DATETIME_MAX_DAYS ||
                v->u.dt.ticks >= VALUE_DT_TICKS_PER_DAY)
                return e_value(x, id);
        } else {
            return e_len(x, m->code);
        }
        return 0;
    case TDS_GUID:
        if (n != 16)
            return e_len(x, m->code);
        memcpy(v->u.guid, b, 16);
        return 0;
    case TDS_DECIMAL: case TDS_NUMERIC: case TDS_DECIMALN: case TDS_NUMERICN: {
        /* FreeTDS sends compact Sybase-style lengths: accept 2..17 */
        if (n < 2 || n > 17)
            return e_len(x, m->code);
        unsigned __int128 mag = 0;
        for (size_t k = n - 1; k >= 1; k--)
            mag = mag << 8 | b[k];
        if (mag >= pow10_u128(m->prec))
            return e_value(x, id);
        v->u.dec = b[0] ? (__int128)mag : -(__int128)mag;
        return 0;
    }
    case TDS_DATEN:
        if (n != 3)
            return e_len(x, m->code);
        v->u.date = (int32_t)le_unsigned(b, 3);
        return v->u.date > VALUE_DATE_MAX ? e_value(x, id) : 0;
    case TDS_TIMEN: case TDS_DATETIME2N: case TDS_DATETIMEOFFSETN: {
        size_t extra = m->code == TDS_TIMEN ? 0 : m->code == TDS_DATETIME2N ? 3 : 5;
        if (n < extra + 3 || n > extra + 5)
            return e_len(x, m->code);
        size_t tl = n - extra;
        uint64_t raw = le_unsigned(b, tl);
        int64_t unit = pow10_tab[7 - m->scale];
        if (raw >= (uint64_t)(VALUE_TICKS_PER_DAY / unit))   /* before multiplying */
            return e_value(x, id);
        int64_t ticks = (int64_t)raw * unit;
        if (m->code == TDS_TIMEN) {
            v->u.time = ticks;
            return 0;
        }
        int32_t days = (int32_t)le_unsigned(b + tl, 3);
        if (m->code == TDS_DATETIMEOFFSETN) {
            /* the wire holds the UTC instant; the value a user means is the
             * local time at that offset (CAST(dto AS datetime2) semantics) */
            int16_t off = (int16_t)le_unsigned(b + tl + 3, 2);
            if (off < -840 || off > 840)
                return e_value(x, id);
            p->tz_offset = off;
            p->has_tz = 1;
            ticks += (int64_t)off * 600000000LL;
            while (ticks < 0) { ticks += VALUE_TICKS_PER_DAY; days--; }
            while (ticks >= VALUE_TICKS_PER_DAY) { ticks -= VALUE_TICKS_PER_DAY; days++; }
        }
        if (days < 0 || days > VALUE_DATE_MAX)
            return e_value(x, id);
        v->u.dt2.days = days;
        v->u.dt2.ticks = ticks;
        return 0;
    }
    default:
        /* character, binary, text, xml: the bytes as they came */
        if (value_type_is_unicode(id) && (n & 1))
            return e_len(x, m->code);
        if (n > UINT32_MAX)
            return e_len(x, m->code);
        v->bytes = b;
        v->len = (uint32_t)n;
        return 0;
    }
}

/* Reads a PLP value: sets *data and *n, or *is_null. Multi-chunk values are
 * copied into request memory; a single chunk is used in place. */
static int read_plp(struct pctx *x, tds_rd *r, uint8_t code, struct tds_mem **mem,
                    const uint8_t **data, size_t *n, int *is_null)
{
    uint64_t total;
    if (rd_u64le(r, &total) < 0)
        return e_trunc(x);
    if (total == UINT64_MAX) {
        *is_null = 1;
        return 0;
    }
    tds_rd scan = *r;
    uint64_t sum = 0;
    size_t chunks = 0;
    const uint8_t *first = NULL;
    for (;;) {
        uint32_t cl;
        const uint8_t *cb;
        if (rd_u32le(&scan, &cl) < 0)
            return e_trunc(x);
        if (cl == 0)
            break;
        if (rd_bytes(&scan, cl, &cb) < 0)
            return e_trunc(x);
        if (!chunks)
            first = cb;
        chunks++;
        sum += cl;
    }
    if ((total != UINT64_MAX - 1 && total != sum) || sum > UINT32_MAX)
        return e_len(x, code);
    if (chunks <= 1) {
        *data = first;
        *n = (size_t)sum;
        *r = scan;
        return 0;
    }
    uint8_t *out = tds_mem_alloc(mem, (size_t)sum);
    if (!out)
        return hdb_raise_text(x->err, 701, 17, 1, "There is insufficient system memory to run "
                              "this query.");
    size_t at = 0;
    for (;;) {
        /* second walk over chunks the first one validated */
        uint32_t cl = 0;
        const uint8_t *cb = NULL;
        if (rd_u32le(r, &cl) < 0 || cl == 0 || rd_bytes(r, cl, &cb) < 0)
            break;
        memcpy(out + at, cb, cl);
        at += cl;
    }
    *data = out;
    *n = (size_t)sum;
    return 0;
}

static int fixed_size(uint8_t code)
{
    switch (code) {
    case TDS_INT1: case TDS_BIT: return 1;
    case TDS_INT2: return 2;
    case TDS_INT4: case TDS_FLT4: case TDS_MONEY4: case TDS_DATETIM4: return 4;
    case TDS_INT8: case TDS_FLT8: case TDS_MONEY: case TDS_DATETIME: return 8;
    }
    return 0;
}

/* Checks a 1-byte max length of the N types against what SQL Server allows. */
static int maxlen_ok(uint8_t code, uint32_t ml)
{
    switch (code) {
    case TDS_INTN: return ml == 1 || ml == 2 || ml == 4 || ml == 8;
    case TDS_BITN: return ml == 1;
    case TDS_FLTN: case TDS_MONEYN: case TDS_DATETIMN: return ml == 4 || ml == 8;
    case TDS_GUID: return ml == 16;
    }
    return 1;
}

/* sql_variant: len:4 (0 = NULL), base type, prop count, props, data. */
static int decode_variant(struct pctx *x, tds_rd *r, tds_param *p)
{
    uint32_t len;
    const uint8_t *body;
    if (rd_u32le(r, &len) < 0)
        return e_trunc(x);
    if (len == 0) {
        p->type = value_type(SQL_INT, 0, 0, 0);
        p->value = value_null(SQL_INT);
        return 0;
    }
    if (len > 8009 || rd_bytes(r, len, &body) < 0)
        return len > 8009 ? e_len(x, TDS_SSVARIANT) : e_trunc(x);
    if (len < 2 || (size_t)body[1] + 2 > len)
        return e_len(x, TDS_SSVARIANT);
    struct meta m = { .code = body[0] };
    const uint8_t *props = body + 2;
    uint8_t np = body[1];
    const uint8_t *data = props + np;
    size_t dn = len - 2 - np;
    int fs = fixed_size(m.code);
    switch (m.code) {
    case TDS_INT1: case TDS_INT2: case TDS_INT4: case TDS_INT8: case TDS_BIT:
    case TDS_FLT4: case TDS_FLT8: case TDS_MONEY4: case TDS_MONEY:
    case TDS_DATETIM4: case TDS_DATETIME:
        if (np != 0 || dn != (size_t)fs)
            return e_len(x, TDS_SSVARIANT);
        break;
    case TDS_GUID: case TDS_DATEN:
        if (np != 0)
            return e_len(x, TDS_SSVARIANT);
        break;
    case TDS_DECIMALN: case TDS_NUMERICN:
        if (np != 2 || props[0] < 1 || props[0] > 38 || props[1] > props[0])
            return e_len(x, TDS_SSVARIANT);
        m.prec = props[0];
        m.scale = props[1];
        break;
    case TDS_TIMEN: case TDS_DATETIME2N: case TDS_DATETIMEOFFSETN:
        if (np != 1 || props[0] > 7)
            return e_len(x, TDS_SSVARIANT);
        m.scale = props[0];
        break;
    case TDS_BIGVARCHAR: case TDS_BIGCHAR: case TDS_NVARCHAR: case TDS_NCHAR:
        if (np != 7)
            return e_len(x, TDS_SSVARIANT);
        memcpy(p->collation, props, 5);
        m.maxlen = get_u16le(props + 5);
        break;
    case TDS_BIGVARBINARY: case TDS_BIGBINARY:
        if (np != 2)
            return e_len(x, TDS_SSVARIANT);
        m.maxlen = get_u16le(props);
        break;
    default:
        return e_type(x, m.code);
    }
    if (m.maxlen && dn > m.maxlen)
        m.maxlen = (uint32_t)dn;
    p->type = declared_type(&m);
    return convert(x, &m, data, dn, p);
}

int tds_param_decode(tds_rd *r, uint32_t version, tds_param *p, int ordinal,
                     struct tds_mem **mem, hdb_err *err)
{
    (void)version;             /* every code is accepted whatever the version */
    struct pctx x = { ordinal, p->name ? p->name : "", err };
    struct meta m;
    memset(&m, 0, sizeof m);
    if (rd_u8(r, &m.code) < 0)
        return e_trunc(&x);
    p->wire_type = m.code;
    const uint8_t *data = NULL;
    size_t n = 0;
    int is_null = 0;
    uint8_t b8;
    uint16_t u16;
    uint32_t u32;

    switch (m.code) {
    case TDS_NULLTYPE:
        is_null = 1;
        break;
    case TDS_INT1: case TDS_INT2: case TDS_INT4: case TDS_INT8: case TDS_BIT:
    case TDS_FLT4: case TDS_FLT8: case TDS_MONEY4: case TDS_MONEY:
    case TDS_DATETIM4: case TDS_DATETIME:
        n = (size_t)fixed_size(m.code);
        m.maxlen = (uint32_t)n;
        if (rd_bytes(r, n, &data) < 0)
            return e_trunc(&x);
        break;
    case TDS_INTN: case TDS_BITN: case TDS_FLTN: case TDS_MONEYN: case TDS_DATETIMN:
    case TDS_GUID: case TDS_CHAR: case TDS_VARCHAR: case TDS_BINARY: case TDS_VARBINARY:
    case TDS_SYBNVARCHAR:
        if (rd_u8(r, &b8) < 0)
            return e_trunc(&x);
        m.maxlen = b8;
        if (!maxlen_ok(m.code, m.maxlen))
            return e_len(&x, m.code);
        if (rd_u8(r, &b8) < 0)
            return e_trunc(&x);
        n = b8;
        is_null = n == 0;
        if (n > m.maxlen && m.code != TDS_INTN)
            return e_len(&x, m.code);
        if (rd_bytes(r, n, &data) < 0)
            return e_trunc(&x);
        break;
    case TDS_DECIMAL: case TDS_NUMERIC: case TDS_DECIMALN: case TDS_NUMERICN:
        if (rd_u8(r, &b8) < 0 || rd_u8(r, &m.prec) < 0 || rd_u8(r, &m.scale) < 0)
            return e_trunc(&x);
        m.maxlen = b8;
        if (m.prec < 1 || m.prec > 38 || m.scale > m.prec || b8 > 17)
            return e_len(&x, m.code);
        if (rd_u8(r, &b8) < 0)
            return e_trunc(&x);
        n = b8;
        is_null = n == 0;
        if (rd_bytes(r, n, &data) < 0)
            return e_trunc(&x);
        break;
    case TDS_DATEN: case TDS_TIMEN: case TDS_DATETIME2N: case TDS_DATETIMEOFFSETN:
        if (m.code != TDS_DATEN) {
            if (rd_u8(r, &m.scale) < 0)
                return e_trunc(&x);
            if (m.scale > 7)
                return e_len(&x, m.code);
        }
        if (rd_u8(r, &b8) < 0)
            return e_trunc(&x);
        n = b8;
        is_null = n == 0;
        if (rd_bytes(r, n, &data) < 0)
            return e_trunc(&x);
        break;
    case TDS_BIGVARCHAR: case TDS_BIGCHAR: case TDS_NVARCHAR: case TDS_NCHAR:
    case TDS_BIGVARBINARY: case TDS_BIGBINARY: {
        const uint8_t *coll;
        if (rd_u16le(r, &u16) < 0)
            return e_trunc(&x);
        m.maxlen = u16;
        int var = m.code == TDS_BIGVARCHAR || m.code == TDS_NVARCHAR || m.code == TDS_BIGVARBINARY;
        int uni = m.code == TDS_NVARCHAR || m.code == TDS_NCHAR;
        m.plp = var && u16 == 0xFFFF;
        if (!m.plp && (u16 > 8000 || (uni && (u16 & 1))))
            return e_len(&x, m.code);
        if (m.code != TDS_BIGVARBINARY && m.code != TDS_BIGBINARY) {
            if (rd_bytes(r, 5, &coll) < 0)
                return e_trunc(&x);
            memcpy(p->collation, coll, 5);
        }
        if (m.plp) {
            if (read_plp(&x, r, m.code, mem, &data, &n, &is_null) < 0)
                return -1;
            break;
        }
        if (rd_u16le(r, &u16) < 0)
            return e_trunc(&x);
        if (u16 == 0xFFFF) {
            is_null = 1;
            break;
        }
        n = u16;
        if (n > m.maxlen)
            return e_len(&x, m.code);
        if (rd_bytes(r, n, &data) < 0)
            return e_trunc(&x);
        break;
    }
    case TDS_TEXT: case TDS_NTEXT: case TDS_IMAGE: {
        const uint8_t *coll;
        if (rd_u32le(r, &u32) < 0)
            return e_trunc(&x);
        m.maxlen = u32;
        if (m.code != TDS_IMAGE) {
            if (rd_bytes(r, 5, &coll) < 0)
                return e_trunc(&x);
            memcpy(p->collation, coll, 5);
        }
        if (rd_u32le(r, &u32) < 0)
            return e_trunc(&x);
        if (u32 == 0xFFFFFFFFu) {
            is_null = 1;
            break;
        }
        n = u32;
        if (rd_bytes(r, n, &data) < 0)
            return e_trunc(&x);
        break;
    }
    case TDS_XML: {
        uint8_t schema;
        if (rd_u8(r, &schema) < 0)
            return e_trunc(&x);
        if (schema) {
            /* schema collection: db and owner B_VARCHAR, name US_VARCHAR */
            uint8_t l1, l2;
            uint16_t l3;
            if (rd_u8(r, &l1) < 0 || rd_skip(r, 2u * l1) < 0 || rd_u8(r, &l2) < 0 ||
                rd_skip(r, 2u * l2) < 0 || rd_u16le(r, &l3) < 0 || rd_skip(r, 2u * l3) < 0)
                return e_trunc(&x);
        }
        m.plp = 1;
        if (read_plp(&x, r, m.code, mem, &data, &n, &is_null) < 0)
            return -1;
        break;
    }
    case TDS_SSVARIANT:
        if (rd_u32le(r, &u32) < 0)
            return e_trunc(&x);
        return decode_variant(&x, r, p);
    default:
        return e_type(&x, m.code);
    }

    p->type = declared_type(&m);
    if (is_null) {
        p->value = value_null(p->type.id);
        return 0;
    }
    return convert(&x, &m, data, n, p);
}
