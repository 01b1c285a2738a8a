/*
 * value.c — SQL value types: properties, validation, collation, comparison,
 * calendar arithmetic and text rendering.
 *
 * Collation. SQL Server's default Latin1_General_CI_AS sorts space and
 * punctuation before digits, digits before letters, and accented letters next
 * to their base letter ('e' < 'é' < 'f'), ignoring case. We reproduce that for
 * the Latin-1 range with one weight per character (a rank in 0..255), built once
 * from a classification of the 256 Latin-1 code points. UTF-16 units above
 * U+00FF weigh their own code-unit value (after simple case folding of Latin
 * Extended-A, Greek and Cyrillic), so they sort after all of Latin-1.
 * Deliberate simplifications, documented in README.md: single-level weights (no
 * secondary accent pass, so 'éa' > 'eb'), no expansions (æ, ß are single
 * letters), control characters are not ignorable, surrogates weigh as code units.
 */
#include "access/value.h"

#include <float.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------ types */

static const char *const type_names[SQL_TYPE_COUNT] = {
    [SQL_TYPE_NONE] = "?",         [SQL_TINYINT] = "tinyint",   [SQL_SMALLINT] = "smallint",
    [SQL_INT] = "int",             [SQL_BIGINT] = "bigint",     [SQL_BIT] = "bit",
    [SQL_DECIMAL] = "decimal",     [SQL_NUMERIC] = "numeric",   [SQL_MONEY] = "money",
    [SQL_SMALLMONEY] = "smallmoney", [SQL_FLOAT] = "float",     [SQL_REAL] = "real",
    [SQL_CHAR] = "char",           [SQL_VARCHAR] = "varchar",   [SQL_NCHAR] = "nchar",
    [SQL_NVARCHAR] = "nvarchar",   [SQL_BINARY] = "binary",     [SQL_VARBINARY] = "varbinary",
    [SQL_DATE] = "date",           [SQL_TIME] = "time",         [SQL_DATETIME] = "datetime",
    [SQL_DATETIME2] = "datetime2", [SQL_UNIQUEIDENTIFIER] = "uniqueidentifier",
};

const char *value_type_name(uint8_t id)
{
    return id < SQL_TYPE_COUNT ? type_names[id] : "?";
}

int value_type_is_string(uint8_t id)
{
    return id == SQL_CHAR || id == SQL_VARCHAR || id == SQL_NCHAR || id == SQL_NVARCHAR;
}

int value_type_is_unicode(uint8_t id) { return id == SQL_NCHAR || id == SQL_NVARCHAR; }
int value_type_is_binary(uint8_t id) { return id == SQL_BINARY || id == SQL_VARBINARY; }

int value_type_is_variable(uint8_t id)
{
    return id == SQL_VARCHAR || id == SQL_NVARCHAR || id == SQL_VARBINARY;
}

int64_t value_type_max_bytes(const sql_type *t)
{
    if (t->max_len < 0)
        return -1;
    return value_type_is_unicode(t->id) ? 2 * (int64_t)t->max_len : t->max_len;
}

int value_decimal_width(uint8_t precision)
{
    if (precision != 0 && precision <= 9)
        return 4;
    if (precision != 0 && precision <= 18)
        return 8;
    return 16;
}

/* ------------------------------------------------------------- collation */

enum { CL_SPACE, CL_CONTROL, CL_SYMBOL, CL_DIGIT, CL_LETTER };

struct cinfo { uint8_t cls, base, variant, upper; };

/* Base letters of U+00C0..U+00DF and U+00E0..U+00FF: '*' marks × and ÷ (symbols),
 * 'T' thorn, which sorts after z. An accented letter's variant number is its
 * position among the letters of the same base in its row, so À/à = a+1, Á/á = a+2. */
static const char latin1_upper_base[] = "aaaaaaaceeeeiiiidnooooo*ouuuuyTs";
static const char latin1_lower_base[] = "aaaaaaaceeeeiiiidnooooo*ouuuuyTy";

static int base_index(char b) { return b == 'T' ? 26 : b - 'a'; }

static struct cinfo classify(int c)
{
    struct cinfo ci = { CL_SYMBOL, (uint8_t)c, 0, 0 };
    if (c == 0x20) {
        ci.cls = CL_SPACE; ci.base = 0;
    } else if (c < 0x20 || (c >= 0x7F && c <= 0x9F)) {
        ci.cls = CL_CONTROL;
    } else if (c >= '0' && c <= '9') {
        ci.cls = CL_DIGIT; ci.base = (uint8_t)(c - '0');
    } else if (c >= 'A' && c <= 'Z') {
        ci.cls = CL_LETTER; ci.base = (uint8_t)(c - 'A'); ci.upper = 1;
    } else if (c >= 'a' && c <= 'z') {
        ci.cls = CL_LETTER; ci.base = (uint8_t)(c - 'a');
    } else if (c == 0xB9 || c == 0xB2 || c == 0xB3) {     /* superscript digits */
        ci.cls = CL_DIGIT; ci.base = c == 0xB9 ? 1 : (uint8_t)(c - 0xB0); ci.variant = 1;
    } else if (c == 0xAA) {                                /* ª */
        ci.cls = CL_LETTER; ci.base = 0; ci.variant = 8;
    } else if (c == 0xBA) {                                /* º */
        ci.cls = CL_LETTER; ci.base = 'o' - 'a'; ci.variant = 7;
    } else if (c == 0xB5) {                                /* µ: after thorn */
        ci.cls = CL_LETTER; ci.base = 27;
    } else if (c >= 0xC0) {
        const char *row = c < 0xE0 ? latin1_upper_base : latin1_lower_base;
        int pos = c & 0x1F;
        if (row[pos] != '*') {
            int variant = 1;
            for (int k = 0; k < pos; k++)
                variant += row[k] == row[pos];
            ci.cls = CL_LETTER;
            ci.base = (uint8_t)base_index(row[pos]);
            ci.variant = (uint8_t)variant;
            ci.upper = c < 0xDF;   /* ß (0xDF) is lower case */
        }
    }
    return ci;
}

/* rank[flags & (CS|AI)][c]: dense rank of Latin-1 code point c. */
static uint8_t coll_rank[4][256];
static pthread_once_t coll_once = PTHREAD_ONCE_INIT;

static uint32_t coll_key(int c, int flags)
{
    struct cinfo ci = classify(c);
    uint32_t variant = (flags & VALUE_COLL_AI) ? 0 : ci.variant;
    uint32_t upper = (flags & VALUE_COLL_CS) ? ci.upper : 0;
    return (uint32_t)ci.cls << 24 | (uint32_t)ci.base << 16 | variant << 8 | upper;
}

static void coll_build(void)
{
    for (int f = 0; f < 4; f++) {
        uint32_t key[256];
        int order[256];
        for (int c = 0; c < 256; c++) {
            key[c] = coll_key(c, f);
            order[c] = c;
        }
        for (int i = 1; i < 256; i++) {          /* insertion sort by key */
            int c = order[i], j = i;
            for (; j > 0 && key[order[j - 1]] > key[c]; j--)
                order[j] = order[j - 1];
            order[j] = c;
        }
        int rank = 0;                            /* dense: equal keys share a rank */
        for (int i = 0; i < 256; i++) {
            if (i > 0 && key[order[i]] != key[order[i - 1]])
                rank++;
            coll_rank[f][order[i]] = (uint8_t)rank;
        }
    }
}

/* Simple upper -> lower folding for units above Latin-1. */
static uint16_t fold_ext(uint16_t u)
{
    if (u >= 0x0100 && u <= 0x0137 && u != 0x0130)
        return u | 1;                       /* pairs: even upper, odd lower */
    if (u >= 0x0139 && u <= 0x0148)
        return (u & 1) ? u + 1 : u;         /* odd upper, even lower */
    if (u >= 0x014A && u <= 0x0177)
        return u | 1;
    if (u == 0x0178)
        return 0x00FF;                      /* Ÿ -> ÿ */
    if (u >= 0x0179 && u <= 0x017E)
        return (u & 1) ? u + 1 : u;
    if (u >= 0x0391 && u <= 0x03A9 && u != 0x03A2)
        return u + 0x20;                    /* Greek */
    if (u >= 0x0410 && u <= 0x042F)
        return u + 0x20;                    /* Cyrillic */
    if (u >= 0x0400 && u <= 0x040F)
        return u + 0x50;
    return u;
}

uint16_t value_coll_weight(uint16_t unit, int unicode, uint16_t flags)
{
    if (!unicode)
        unit &= 0xFF;
    if (flags & VALUE_COLL_BIN) {
        /* code-unit order, except space goes below the control characters so that
         * trimming trailing spaces agrees with padding comparisons */
        if (unit == 0x20)
            return 0;
        return unit < 0x20 ? unit + 1 : unit;
    }
    if (unit >= 0x100 && !(flags & VALUE_COLL_CS))
        unit = fold_ext(unit);
    if (unit >= 0x100)
        return unit;
    pthread_once(&coll_once, coll_build);
    return coll_rank[flags & (VALUE_COLL_CS | VALUE_COLL_AI)][unit];
}

size_t value_str_trimmed_units(const uint8_t *bytes, uint32_t len, int unicode)
{
    if (unicode) {
        size_t n = len / 2;
        while (n > 0 && bytes[2 * n - 2] == 0x20 && bytes[2 * n - 1] == 0)
            n--;
        return n;
    }
    size_t n = len;
    while (n > 0 && bytes[n - 1] == 0x20)
        n--;
    return n;
}

static inline uint16_t str_unit(const uint8_t *b, size_t i, int unicode)
{
    return unicode ? (uint16_t)(b[2 * i] | b[2 * i + 1] << 8) : b[i];
}

static int str_compare(const sql_value *a, const sql_value *b, int unicode, uint16_t flags)
{
    size_t na = value_str_trimmed_units(a->bytes, a->len, unicode);
    size_t nb = value_str_trimmed_units(b->bytes, b->len, unicode);
    size_t n = na < nb ? na : nb;
    for (size_t i = 0; i < n; i++) {
        uint16_t ua = str_unit(a->bytes, i, unicode), ub = str_unit(b->bytes, i, unicode);
        if (ua == ub)
            continue;
        uint16_t wa = value_coll_weight(ua, unicode, flags);
        uint16_t wb = value_coll_weight(ub, unicode, flags);
        if (wa != wb)
            return wa < wb ? -1 : 1;
    }
    return na < nb ? -1 : na > nb;
}

static int bin_compare(const sql_value *a, const sql_value *b)
{
    /* SQL Server ignores trailing 0x00 bytes when comparing binary values */
    uint32_t na = a->len, nb = b->len;
    while (na > 0 && a->bytes[na - 1] == 0)
        na--;
    while (nb > 0 && b->bytes[nb - 1] == 0)
        nb--;
    uint32_t n = na < nb ? na : nb;
    int c = n ? memcmp(a->bytes, b->bytes, n) : 0;
    if (c)
        return c < 0 ? -1 : 1;
    return na < nb ? -1 : na > nb;
}

/* SQL Server compares uniqueidentifier bytes (storage order) in this order:
 * the last six (node) first, then 8-9, 6-7, 4-5 and finally 0-3. */
static const uint8_t guid_order[16] = { 10, 11, 12, 13, 14, 15, 8, 9, 6, 7, 4, 5, 0, 1, 2, 3 };

#define CMP(x, y) ((x) < (y) ? -1 : (x) > (y))

int value_compare(const sql_value *a, const sql_value *b, const sql_type *t)
{
    sql_type dflt;
    if (!t) {
        memset(&dflt, 0, sizeof dflt);
        dflt.id = a->type;
        dflt.max_len = VALUE_LEN_MAX;
        t = &dflt;
    }
    if (a->is_null || b->is_null)
        return (int)b->is_null - (int)a->is_null;
    switch ((enum sql_type_id)t->id) {
    case SQL_TINYINT: case SQL_SMALLINT: case SQL_INT: case SQL_BIGINT:
    case SQL_BIT: case SQL_MONEY: case SQL_SMALLMONEY:
        return CMP(a->u.i, b->u.i);
    case SQL_DECIMAL: case SQL_NUMERIC:
        return CMP(a->u.dec, b->u.dec);
    case SQL_FLOAT:
        return CMP(a->u.f, b->u.f);
    case SQL_REAL:
        return CMP((float)a->u.f, (float)b->u.f);
    case SQL_CHAR: case SQL_VARCHAR: case SQL_NCHAR: case SQL_NVARCHAR:
        return str_compare(a, b, value_type_is_unicode(t->id), t->collation_flags);
    case SQL_BINARY: case SQL_VARBINARY:
        return bin_compare(a, b);
    case SQL_DATE:
        return CMP(a->u.date, b->u.date);
    case SQL_TIME:
        return CMP(a->u.time, b->u.time);
    case SQL_DATETIME:
        if (a->u.dt.days != b->u.dt.days)
            return CMP(a->u.dt.days, b->u.dt.days);
        return CMP(a->u.dt.ticks, b->u.dt.ticks);
    case SQL_DATETIME2:
        if (a->u.dt2.days != b->u.dt2.days)
            return CMP(a->u.dt2.days, b->u.dt2.days);
        return CMP(a->u.dt2.ticks, b->u.dt2.ticks);
    case SQL_UNIQUEIDENTIFIER:
        for (int k = 0; k < 16; k++) {
            int i = guid_order[k];
            if (a->u.guid[i] != b->u.guid[i])
                return CMP(a->u.guid[i], b->u.guid[i]);
        }
        return 0;
    case SQL_TYPE_NONE: case SQL_TYPE_COUNT:
        break;
    }
    return 0;
}

/* ------------------------------------------------------------ validation */

/* 40000 carries a free-form detail: format it first (its table format is "%s"). */
__attribute__((format(printf, 2, 3)))
static int internal(hdb_err *err, const char *fmt, ...)
{
    char msg[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return hdb_raise(err, 40000, msg);
}

static int overflow(hdb_err *err, uint8_t id)
{
    char msg[128];
    snprintf(msg, sizeof msg, "Arithmetic overflow error converting expression to data type %s.",
             value_type_name(id));
    return hdb_raise_text(err, 8115, 16, 1, msg);
}

static int truncated(hdb_err *err)
{
    return hdb_raise_text(err, 8152, 16, 30, "String or binary data would be truncated.");
}

static __int128 pow10_i128(int p)
{
    __int128 r = 1;
    while (p-- > 0)
        r *= 10;
    return r;
}

int value_check(const sql_value *v, const sql_type *t, hdb_err *err)
{
    if (v->is_null)
        return 0;
    if (v->type != SQL_TYPE_NONE && v->type != t->id &&
        !((v->type == SQL_DECIMAL || v->type == SQL_NUMERIC) &&
          (t->id == SQL_DECIMAL || t->id == SQL_NUMERIC)))
        return internal(err, "value of type %s where %s was expected",
                         value_type_name(v->type), value_type_name(t->id));
    if ((v->flags & VALUE_F_OFFROW) && !value_type_is_variable(t->id))
        return internal(err, "off-row value for a fixed-length type");
    int64_t i = v->u.i;
    switch ((enum sql_type_id)t->id) {
    case SQL_TINYINT:   return (i < 0 || i > 255) ? overflow(err, t->id) : 0;
    case SQL_SMALLINT:  return (i < INT16_MIN || i > INT16_MAX) ? overflow(err, t->id) : 0;
    case SQL_INT:
    case SQL_SMALLMONEY:
        return (i < INT32_MIN || i > INT32_MAX) ? overflow(err, t->id) : 0;
    case SQL_BIGINT: case SQL_MONEY:
        return 0;
    case SQL_BIT:       return (i < 0 || i > 1) ? overflow(err, t->id) : 0;
    case SQL_DECIMAL: case SQL_NUMERIC: {
        int p = t->precision ? t->precision : 38;
        if (p > 38 || t->scale > p)
            return internal(err, "invalid decimal type (%d, %d)", p, t->scale);
        __int128 lim = pow10_i128(p);
        return (v->u.dec >= lim || v->u.dec <= -lim) ? overflow(err, t->id) : 0;
    }
    case SQL_FLOAT:
        return isfinite(v->u.f) ? 0 : overflow(err, t->id);
    case SQL_REAL:
        return isfinite(v->u.f) && fabs(v->u.f) <= FLT_MAX ? 0 : overflow(err, t->id);
    case SQL_CHAR: case SQL_VARCHAR: case SQL_NCHAR: case SQL_NVARCHAR:
    case SQL_BINARY: case SQL_VARBINARY: {
        int64_t cap = value_type_max_bytes(t);
        uint64_t n = (v->flags & VALUE_F_OFFROW) ? v->u.offrow.total_len : v->len;
        if (cap >= 0 && n > (uint64_t)cap)
            return truncated(err);
        if (value_type_is_unicode(t->id) && (n & 1))
            return internal(err, "odd byte length %llu for a UTF-16 value",
                             (unsigned long long)n);
        if (!(v->flags & VALUE_F_OFFROW) && v->len && !v->bytes)
            return internal(err, "value without data");
        if (n > INT32_MAX)
            return truncated(err);
        return 0;
    }
    case SQL_DATE:
        return (v->u.date < 0 || v->u.date > VALUE_DATE_MAX) ? overflow(err, t->id) : 0;
    case SQL_TIME:
        return (v->u.time < 0 || v->u.time >= VALUE_TICKS_PER_DAY) ? overflow(err, t->id) : 0;
    case SQL_DATETIME:
        return (v->u.dt.days < VALUE_DATETIME_MIN_DAYS || v->u.dt.days > VALUE_DATETIME_MAX_DAYS ||
                v->u.dt.ticks >= VALUE_DT_TICKS_PER_DAY) ? overflow(err, t->id) : 0;
    case SQL_DATETIME2:
        return (v->u.dt2.days < 0 || v->u.dt2.days > VALUE_DATE_MAX || v->u.dt2.ticks < 0 ||
                v->u.dt2.ticks >= VALUE_TICKS_PER_DAY) ? overflow(err, t->id) : 0;
    case SQL_UNIQUEIDENTIFIER:
        return 0;
    case SQL_TYPE_NONE: case SQL_TYPE_COUNT:
        break;
    }
    return internal(err, "unknown type id %d", t->id);
}

/* -------------------------------------------------------------- calendar */

static int is_leap(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

static const uint16_t month_start[2][13] = {
    { 0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334, 365 },
    { 0, 31, 60, 91, 121, 152, 182, 213, 244, 274, 305, 335, 366 },
};

int32_t value_days_from_ymd(int y, int m, int d)
{
    int32_t py = y - 1;
    return 365 * py + py / 4 - py / 100 + py / 400 + month_start[is_leap(y)][m - 1] + d - 1;
}

void value_ymd_from_days(int32_t days, int *y, int *m, int *d)
{
    /* peel 400-, 100-, 4- and 1-year blocks off; the last block of each kind is
     * one day longer (it ends with a leap day), hence the clamps */
    int32_t n = days;
    int yr = 1 + 400 * (n / 146097);
    n %= 146097;
    int c = n / 36524; if (c == 4) c = 3;
    n -= c * 36524; yr += 100 * c;
    int q = n / 1461;
    n -= q * 1461; yr += 4 * q;
    int r = n / 365; if (r == 4) r = 3;
    n -= r * 365; yr += r;
    int leap = is_leap(yr), mo = 1;
    while (mo < 12 && n >= month_start[leap][mo])
        mo++;
    *y = yr; *m = mo; *d = n - month_start[leap][mo - 1] + 1;
}

/* -------------------------------------------------------------- rendering */

struct sbuf { char *buf; size_t cap, len; };

static void sb_putc(struct sbuf *s, char c)
{
    if (s->len + 1 < s->cap)
        s->buf[s->len] = c;
    s->len++;
}

static void sb_puts(struct sbuf *s, const char *p)
{
    while (*p)
        sb_putc(s, *p++);
}

__attribute__((format(printf, 2, 3)))
static void sb_printf(struct sbuf *s, const char *fmt, ...)
{
    char tmp[128];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    sb_puts(s, tmp);
}

static void sb_utf8(struct sbuf *s, uint32_t cp)
{
    if (cp < 0x80) {
        sb_putc(s, (char)cp);
    } else if (cp < 0x800) {
        sb_putc(s, (char)(0xC0 | cp >> 6));
        sb_putc(s, (char)(0x80 | (cp & 0x3F)));
    } else if (cp < 0x10000) {
        sb_putc(s, (char)(0xE0 | cp >> 12));
        sb_putc(s, (char)(0x80 | ((cp >> 6) & 0x3F)));
        sb_putc(s, (char)(0x80 | (cp & 0x3F)));
    } else {
        sb_putc(s, (char)(0xF0 | cp >> 18));
        sb_putc(s, (char)(0x80 | ((cp >> 12) & 0x3F)));
        sb_putc(s, (char)(0x80 | ((cp >> 6) & 0x3F)));
        sb_putc(s, (char)(0x80 | (cp & 0x3F)));
    }
}

static void sb_scaled(struct sbuf *s, __int128 v, int scale)
{
    char digits[48];
    int n = 0;
    unsigned __int128 mag = v < 0 ? -(unsigned __int128)v : (unsigned __int128)v;
    do {
        digits[n++] = (char)('0' + (int)(mag % 10));
        mag /= 10;
    } while (mag);
    while (n <= scale)
        digits[n++] = '0';
    if (v < 0)
        sb_putc(s, '-');
    for (int k = n - 1; k >= 0; k--) {
        sb_putc(s, digits[k]);
        if (k == scale && scale > 0)
            sb_putc(s, '.');
    }
}

static void sb_float(struct sbuf *s, double f, int is_real)
{
    char tmp[64];
    /* shortest text that reads back as the same value */
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(tmp, sizeof tmp, "%.*g", prec, f);
        double back = strtod(tmp, NULL);
        if (is_real ? (float)back == (float)f : back == f)
            break;
    }
    sb_puts(s, tmp);
}

static void sb_date(struct sbuf *s, int32_t days)
{
    int y, m, d;
    value_ymd_from_days(days, &y, &m, &d);
    sb_printf(s, "%04d-%02d-%02d", y, m, d);
}

static void sb_time(struct sbuf *s, int64_t ticks, int prec)
{
    int64_t secs = ticks / 10000000;
    sb_printf(s, "%02d:%02d:%02d", (int)(secs / 3600), (int)(secs / 60 % 60), (int)(secs % 60));
    if (prec > 0) {
        char frac[16];
        snprintf(frac, sizeof frac, "%07d", (int)(ticks % 10000000));
        frac[prec > 7 ? 7 : prec] = 0;
        sb_printf(s, ".%s", frac);
    }
}

size_t value_format(const sql_value *v, const sql_type *t, char *buf, size_t cap)
{
    struct sbuf s = { buf, cap, 0 };
    uint8_t id = t ? t->id : v->type;
    if (v->is_null) {
        sb_puts(&s, "<NULL>");
    } else if (v->flags & VALUE_F_OFFROW) {
        sb_printf(&s, "<off-row %llu bytes>", (unsigned long long)v->u.offrow.total_len);
    } else {
        switch ((enum sql_type_id)id) {
        case SQL_TINYINT: case SQL_SMALLINT: case SQL_INT: case SQL_BIGINT: case SQL_BIT:
            sb_printf(&s, "%lld", (long long)v->u.i);
            break;
        case SQL_MONEY: case SQL_SMALLMONEY:
            sb_scaled(&s, v->u.i, 4);
            break;
        case SQL_DECIMAL: case SQL_NUMERIC:
            sb_scaled(&s, v->u.dec, t ? t->scale : 0);
            break;
        case SQL_FLOAT: case SQL_REAL:
            sb_float(&s, v->u.f, id == SQL_REAL);
            break;
        case SQL_CHAR: case SQL_VARCHAR:
            for (uint32_t k = 0; k < v->len; k++)
                sb_utf8(&s, v->bytes[k]);          /* Latin-1 -> UTF-8 */
            break;
        case SQL_NCHAR: case SQL_NVARCHAR:
            for (uint32_t k = 0; k + 1 < v->len; k += 2) {
                uint32_t u = str_unit(v->bytes, k / 2, 1);
                if (u >= 0xD800 && u <= 0xDBFF && k + 3 < v->len) {
                    uint32_t lo = str_unit(v->bytes, k / 2 + 1, 1);
                    if (lo >= 0xDC00 && lo <= 0xDFFF) {
                        u = 0x10000 + ((u - 0xD800) << 10) + (lo - 0xDC00);
                        k += 2;
                    }
                }
                if (u >= 0xD800 && u <= 0xDFFF)
                    u = 0xFFFD;                     /* lone surrogate */
                sb_utf8(&s, u);
            }
            break;
        case SQL_BINARY: case SQL_VARBINARY:
            sb_puts(&s, "0x");
            for (uint32_t k = 0; k < v->len; k++)
                sb_printf(&s, "%02X", v->bytes[k]);
            break;
        case SQL_DATE:
            sb_date(&s, v->u.date);
            break;
        case SQL_TIME:
            sb_time(&s, v->u.time, t ? t->precision : 7);
            break;
        case SQL_DATETIME: {
            sb_date(&s, v->u.dt.days + VALUE_DAYS_1900);
            /* 1/300 s ticks shown as milliseconds rounded to .000/.003/.007 */
            uint32_t ms = (v->u.dt.ticks * 10 + 1) / 3;
            sb_printf(&s, " %02u:%02u:%02u.%03u", ms / 3600000, ms / 60000 % 60,
                      ms / 1000 % 60, ms % 1000);
            break;
        }
        case SQL_DATETIME2:
            sb_date(&s, v->u.dt2.days);
            sb_putc(&s, ' ');
            sb_time(&s, v->u.dt2.ticks, t ? t->precision : 7);
            break;
        case SQL_UNIQUEIDENTIFIER: {
            /* text order: groups 0-3, 4-5, 6-7 are stored little-endian */
            static const uint8_t text_order[16] = { 3, 2, 1, 0, 5, 4, 7, 6,
                                                    8, 9, 10, 11, 12, 13, 14, 15 };
            for (int k = 0; k < 16; k++) {
                if (k == 4 || k == 6 || k == 8 || k == 10)
                    sb_putc(&s, '-');
                sb_printf(&s, "%02X", v->u.guid[text_order[k]]);
            }
            break;
        }
        case SQL_TYPE_NONE: case SQL_TYPE_COUNT:
            sb_puts(&s, "?");
            break;
        }
    }
    if (cap > 0)
        buf[s.len < cap ? s.len : cap - 1] = 0;
    return s.len;
}
