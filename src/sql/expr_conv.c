/*
 * expr_conv.c — conversions between the engine's types with SQL Server's
 * rules: CAST/CONVERT (explicit, with styles), implicit conversions of
 * comparisons and arithmetic, and assignment to columns/variables.
 *
 * Errors are SQL Server's: 245 (string to int/bit), 8114 (string to
 * numeric/float), 235 (string to money), 241/242 (date strings), 8169
 * (uniqueidentifier), 8115 (arithmetic overflow), 8152 (truncation on
 * assignment to a column), 529/206 (conversion not allowed).
 *
 * Text inside values: varchar holds Latin-1 bytes, nvarchar UTF-16LE. Text
 * produced here (numbers, dates) is ASCII, so one UTF-8 rendering serves both.
 */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include "sql/exec_int.h"
#include "util/utf16.h"

__int128 cv_pow10(int n)
{
    __int128 r = 1;
    while (n-- > 0)
        r *= 10;
    return r;
}

/* Rescale a scaled decimal, rounding half away from zero when the scale drops.
 * -1 on overflow of the 128-bit representation. */
int cv_dec_rescale(__int128 v, int from, int to, __int128 *out)
{
    if (to >= from) {
        __int128 m = cv_pow10(to - from);
        __int128 r;
        if (__builtin_mul_overflow(v, m, &r))
            return -1;
        *out = r;
        return 0;
    }
    __int128 d = cv_pow10(from - to);
    __int128 q = v / d, rem = v % d;
    if (rem < 0)
        rem = -rem;
    if (rem * 2 >= d)
        q += v < 0 ? -1 : 1;
    *out = q;
    return 0;
}

static const char *tname(uint8_t id)
{
    return id == SQL_DECIMAL ? "numeric" : value_type_name(id);
}

int cv_overflow(hdb_err *err, const sql_type *t)
{
    char msg[160];
    snprintf(msg, sizeof msg, "Arithmetic overflow error converting expression to data type %s.",
             tname(t->id));
    return hdb_raise_text(err, 8115, 16, 1, msg);
}

static int overflow_from(hdb_err *err, uint8_t from, const sql_type *to)
{
    char msg[160];
    if (to->id == SQL_DECIMAL || to->id == SQL_NUMERIC)
        snprintf(msg, sizeof msg, "Arithmetic overflow error converting %s to data type numeric.",
                 tname(from));
    else
        snprintf(msg, sizeof msg, "Arithmetic overflow error converting expression to data type %s.",
                 tname(to->id));
    return hdb_raise_text(err, 8115, 16, 1, msg);
}

void cv_now(int64_t *us_local, int64_t *us_utc)
{
    struct timeval tv;
    gettimeofday(&tv, NULL);
    int64_t utc = (int64_t)tv.tv_sec * 1000000 + tv.tv_usec;
    if (us_utc)
        *us_utc = utc;
    if (us_local) {
        /* only when asked: every request stamps its UTC start time */
        struct tm lt;
        time_t sec = tv.tv_sec;
        localtime_r(&sec, &lt);
        *us_local = utc + (int64_t)lt.tm_gmtoff * 1000000;
    }
}

/* ------------------------------------------------------------ strings */

sql_value cv_strn(arena *a, const char *utf8, size_t n, bool unicode)
{
    if (unicode) {
        size_t need = utf8_to_utf16le(utf8, n, NULL, 0);
        uint8_t *p = arena_alloc(a, need ? need : 1);
        if (p)
            utf8_to_utf16le(utf8, n, p, need);
        return value_bytes(SQL_NVARCHAR, p, p ? (uint32_t)need : 0);
    }
    /* UTF-8 -> Latin-1; characters beyond U+00FF become '?' as SQL Server's
     * code-page conversion does */
    uint8_t *p = arena_alloc(a, n ? n : 1);
    size_t o = 0;
    if (!p)
        return value_bytes(SQL_VARCHAR, NULL, 0);
    for (size_t i = 0; i < n;) {
        unsigned char c = (unsigned char)utf8[i];
        uint32_t cp;
        int k;
        if (c < 0x80) { cp = c; k = 1; }
        else if ((c & 0xE0) == 0xC0 && i + 1 < n) { cp = (uint32_t)(c & 0x1F) << 6 | (utf8[i + 1] & 0x3F); k = 2; }
        else if ((c & 0xF0) == 0xE0 && i + 2 < n) { cp = 0x1000; k = 3; }
        else if ((c & 0xF8) == 0xF0 && i + 3 < n) { cp = 0x10000; k = 4; }
        else { cp = '?'; k = 1; }
        p[o++] = cp <= 0xFF ? (uint8_t)cp : '?';
        i += (size_t)k;
    }
    return value_bytes(SQL_VARCHAR, p, (uint32_t)o);
}

sql_value cv_str(arena *a, const char *utf8, bool unicode)
{
    return cv_strn(a, utf8, strlen(utf8), unicode);
}

/* UTF-8 text of a string value (Latin-1 or UTF-16). */
static char *str_utf8(arena *a, const uint8_t *b, uint32_t len, bool unicode, size_t *outlen)
{
    char *p;
    size_t n;
    if (unicode) {
        n = utf16le_to_utf8(b, len, NULL, 0);
        p = arena_alloc(a, n + 1);
        if (p)
            utf16le_to_utf8(b, len, p, n + 1);
    } else {
        p = arena_alloc(a, (size_t)len * 2 + 1);
        n = 0;
        if (p) {
            for (uint32_t i = 0; i < len; i++) {
                uint8_t c = b[i];
                if (c < 0x80) {
                    p[n++] = (char)c;
                } else {
                    p[n++] = (char)(0xC0 | c >> 6);
                    p[n++] = (char)(0x80 | (c & 0x3F));
                }
            }
            p[n] = 0;
        }
    }
    if (outlen)
        *outlen = p ? n : 0;
    return p;
}

char *cv_utf8(arena *a, const sql_value *v, const sql_type *t)
{
    if (v->is_null)
        return arena_strdup(a, "NULL");
    char *out;
    size_t len;
    if (value_type_is_string(t->id))
        return str_utf8(a, v->bytes, v->len, value_type_is_unicode(t->id), NULL);
    if (cv_to_text(a, v, t, -1, &out, &len) < 0)
        return arena_strdup(a, "?");
    return out;
}

int cv_copy(arena *a, const sql_value *in, sql_value *out)
{
    *out = *in;
    if (!in->is_null && in->bytes && in->len) {
        uint8_t *p = arena_memdup(a, in->bytes, in->len);
        if (!p)
            return -1;
        out->bytes = p;
    }
    return 0;
}

/* ------------------------------------------------------------ conversion */

bool cv_allowed(uint8_t from, uint8_t to, bool explicit_)
{
    if (from == to || from == SQL_TYPE_NONE)
        return true;
    bool fs = value_type_is_string(from), ts = value_type_is_string(to);
    bool fb = value_type_is_binary(from), tb = value_type_is_binary(to);
    bool fnum = from >= SQL_TINYINT && from <= SQL_REAL, tnum = to >= SQL_TINYINT && to <= SQL_REAL;
    bool fdate = from == SQL_DATE || from == SQL_TIME || from == SQL_DATETIME2;
    bool tdate = to == SQL_DATE || to == SQL_TIME || to == SQL_DATETIME2;
    if (fs || ts)
        return true;
    if (fnum && tnum)
        return true;
    if (fb || tb) {
        if (from == SQL_FLOAT || from == SQL_REAL || to == SQL_FLOAT || to == SQL_REAL)
            return false;
        if (fb && tb)
            return true;
        return explicit_ || fb;   /* binary -> int implicitly, int -> binary explicitly */
    }
    if (from == SQL_UNIQUEIDENTIFIER || to == SQL_UNIQUEIDENTIFIER)
        return false;
    if ((from == SQL_DATETIME && tnum) || (fnum && to == SQL_DATETIME))
        return explicit_ || (fnum && to == SQL_DATETIME);
    if ((fdate || from == SQL_DATETIME) && (tdate || to == SQL_DATETIME)) {
        if (from == SQL_DATE && to == SQL_TIME)
            return false;
        if (from == SQL_TIME && to == SQL_DATE)
            return false;
        return true;
    }
    return false;
}

static int not_allowed(hdb_err *err, uint8_t from, uint8_t to, bool explicit_)
{
    char msg[200];
    if (explicit_) {
        snprintf(msg, sizeof msg, "Explicit conversion from data type %s to %s is not allowed.",
                 tname(from), tname(to));
        return hdb_raise_text(err, 529, 16, 2, msg);
    }
    snprintf(msg, sizeof msg, "Implicit conversion from data type %s to %s is not allowed. Use the "
             "CONVERT function to run this query.", tname(from), tname(to));
    return hdb_raise_text(err, 257, 16, 3, msg);
}

static int conv_failed(hdb_err *err, const char *text, uint8_t from, const sql_type *to)
{
    char msg[600];
    const char *fk = value_type_is_unicode(from) ? "nvarchar" : "varchar";
    switch (to->id) {
    case SQL_DECIMAL: case SQL_NUMERIC:
        snprintf(msg, sizeof msg, "Error converting data type %s to numeric.", fk);
        return hdb_raise_text(err, 8114, 16, 5, msg);
    case SQL_FLOAT: case SQL_REAL:
        snprintf(msg, sizeof msg, "Error converting data type %s to %s.", fk, tname(to->id));
        return hdb_raise_text(err, 8114, 16, 5, msg);
    case SQL_MONEY: case SQL_SMALLMONEY:
        return hdb_raise_text(err, 235, 16, 0, "Cannot convert a char value to money. The char value has incorrect syntax.");
    case SQL_DATE: case SQL_TIME: case SQL_DATETIME: case SQL_DATETIME2:
        return hdb_raise_text(err, 241, 16, 1, "Conversion failed when converting date and/or time from character string.");
    case SQL_UNIQUEIDENTIFIER:
        return hdb_raise_text(err, 8169, 16, 2, "Conversion failed when converting from a character string to uniqueidentifier.");
    default:
        snprintf(msg, sizeof msg, "Conversion failed when converting the %s value '%.400s' to data type %s.",
                 fk, text, tname(to->id));
        return hdb_raise_text(err, 245, 16, 1, msg);
    }
}

/* Parse text as a scaled decimal: optional sign, digits, optional fraction.
 * money allows a leading currency sign and thousands separators. */
static int parse_decimal(const char *s, size_t n, bool money, __int128 *v, int *scale, int *prec)
{
    size_t i = 0;
    while (i < n && isspace((unsigned char)s[i])) i++;
    while (n > i && isspace((unsigned char)s[n - 1])) n--;
    bool neg = false;
    if (money && i < n && s[i] == '$') i++;
    if (i < n && (s[i] == '+' || s[i] == '-')) neg = s[i++] == '-';
    if (money && i < n && s[i] == '$') i++;
    __int128 r = 0;
    int digits = 0, sc = 0, sig = 0;
    bool point = false, any = false;
    for (; i < n; i++) {
        char c = s[i];
        if (isdigit((unsigned char)c)) {
            any = true;
            if (sig < 38 || (point ? 0 : 1)) {
                if (r || c != '0')
                    sig++;
                if (sig > 38)
                    return -2;
                r = r * 10 + (c - '0');
                digits++;
                if (point)
                    sc++;
            }
        } else if (c == '.' && !point) {
            point = true;
        } else if (money && c == ',' && !point) {
            continue;
        } else {
            return -1;
        }
    }
    if (!any && !money)
        return -1;
    *v = neg ? -r : r;
    *scale = sc;
    *prec = sig - 0 > sc ? sig : sc;
    if (*prec < 1)
        *prec = 1;
    return 0;
}

static int check_int_range(int64_t i, uint8_t id)
{
    switch (id) {
    case SQL_TINYINT: return i >= 0 && i <= 255;
    case SQL_SMALLINT: return i >= INT16_MIN && i <= INT16_MAX;
    case SQL_INT: return i >= INT32_MIN && i <= INT32_MAX;
    case SQL_BIT: return 1;
    default: return 1;
    }
}

/* numeric -> numeric */
static int num_to_num(const sql_value *in, const sql_type *from, const sql_type *to, sql_value *out,
                      hdb_err *err)
{
    __int128 dec = 0;
    int scale = 0;
    double f = 0;
    bool isf = false;
    switch (from->id) {
    case SQL_TINYINT: case SQL_SMALLINT: case SQL_INT: case SQL_BIGINT: case SQL_BIT:
        dec = in->u.i;
        break;
    case SQL_MONEY: case SQL_SMALLMONEY:
        dec = in->u.i;
        scale = 4;
        break;
    case SQL_DECIMAL: case SQL_NUMERIC:
        dec = in->u.dec;
        scale = from->scale;
        break;
    default:
        f = in->u.f;
        isf = true;
        break;
    }
    *out = value_null(to->id);
    out->is_null = 0;
    switch (to->id) {
    case SQL_BIT:
        out->u.i = isf ? f != 0 : dec != 0;
        return 0;
    case SQL_TINYINT: case SQL_SMALLINT: case SQL_INT: case SQL_BIGINT: {
        __int128 r;
        if (isf) {
            double t = trunc(f);
            if (!(t >= -9223372036854775808.0 && t < 9223372036854775808.0))
                return overflow_from(err, from->id, to);
            r = (__int128)t;
        } else if (from->id == SQL_MONEY || from->id == SQL_SMALLMONEY) {
            cv_dec_rescale(dec, scale, 0, &r);       /* money rounds */
        } else {
            r = dec / cv_pow10(scale);               /* decimal truncates */
        }
        if (r < INT64_MIN || r > INT64_MAX || !check_int_range((int64_t)r, to->id)) {
            /* an int-family value too big for tinyint/smallint: SQL Server names the value */
            if ((from->id >= SQL_TINYINT && from->id <= SQL_INT) && (to->id == SQL_TINYINT || to->id == SQL_SMALLINT)) {
                char msg[160];
                snprintf(msg, sizeof msg, "Arithmetic overflow error for data type %s, value = %lld.",
                         tname(to->id), (long long)r);
                return hdb_raise_text(err, 220, 16, 2, msg);
            }
            return overflow_from(err, from->id, to);
        }
        out->u.i = (int64_t)r;
        return 0;
    }
    case SQL_MONEY: case SQL_SMALLMONEY: {
        __int128 r;
        if (isf) {
            double t = round(f * 10000.0);
            if (!(t > -9.3e18 && t < 9.3e18))
                return overflow_from(err, from->id, to);
            r = (__int128)t;
        } else if (cv_dec_rescale(dec, scale, 4, &r) < 0) {
            return overflow_from(err, from->id, to);
        }
        if (r < INT64_MIN || r > INT64_MAX ||
            (to->id == SQL_SMALLMONEY && (r < INT32_MIN || r > INT32_MAX)))
            return overflow_from(err, from->id, to);
        out->u.i = (int64_t)r;
        return 0;
    }
    case SQL_DECIMAL: case SQL_NUMERIC: {
        int p = to->precision ? to->precision : 38;
        __int128 r;
        if (isf) {
            long double t = roundl((long double)f * (long double)cv_pow10(to->scale));
            if (!(fabsl(t) < 1e38L))
                return overflow_from(err, from->id, to);
            r = (__int128)t;
        } else if (cv_dec_rescale(dec, scale, to->scale, &r) < 0) {
            return overflow_from(err, from->id, to);
        }
        __int128 lim = cv_pow10(p);
        if (r >= lim || r <= -lim)
            return overflow_from(err, from->id, to);
        out->u.dec = r;
        return 0;
    }
    case SQL_FLOAT: case SQL_REAL: {
        double r = isf ? f : (double)dec / (double)cv_pow10(scale);
        if (scale == 0 && !isf)
            r = (double)dec;
        if (to->id == SQL_REAL)
            r = (double)(float)r;
        if (!isfinite(r))
            return cv_overflow(err, to);
        out->u.f = r;
        return 0;
    }
    default:
        return not_allowed(err, from->id, to->id, true);
    }
}

/* datetime <-> other date/time types, all through (days since 0001, ticks of 100 ns) */
static void dt_parts(const sql_value *v, uint8_t id, int32_t *days, int64_t *ticks)
{
    switch (id) {
    case SQL_DATE: *days = v->u.date; *ticks = 0; break;
    case SQL_TIME: *days = VALUE_DAYS_1900; *ticks = v->u.time; break;
    case SQL_DATETIME:
        *days = v->u.dt.days + VALUE_DAYS_1900;
        *ticks = ((int64_t)v->u.dt.ticks * 100000 + 1) / 3;
        break;
    default: *days = v->u.dt2.days; *ticks = v->u.dt2.ticks; break;
    }
}

static int dt_make(int32_t days, int64_t ticks, const sql_type *to, sql_value *out, hdb_err *err,
                   bool from_string)
{
    *out = value_null(to->id);
    out->is_null = 0;
    switch (to->id) {
    case SQL_DATE:
        out->u.date = days;
        return 0;
    case SQL_TIME: {
        int p = to->precision > 7 ? 7 : to->precision;
        int64_t unit = (int64_t)cv_pow10(7 - p);
        int64_t t = (ticks + unit / 2) / unit * unit;
        if (t >= VALUE_TICKS_PER_DAY)
            t = VALUE_TICKS_PER_DAY - unit;
        out->u.time = t;
        return 0;
    }
    case SQL_DATETIME: {
        int64_t t300 = (ticks * 3 + 50000) / 100000;
        int32_t d = days - VALUE_DAYS_1900;
        if (t300 >= VALUE_DT_TICKS_PER_DAY) {
            t300 -= VALUE_DT_TICKS_PER_DAY;
            d++;
        }
        if (d < VALUE_DATETIME_MIN_DAYS || d > VALUE_DATETIME_MAX_DAYS) {
            if (from_string)
                return hdb_raise_text(err, 242, 16, 3, "The conversion of a varchar data type to a datetime data type resulted in an out-of-range value.");
            return cv_overflow(err, to);
        }
        out->u.dt.days = d;
        out->u.dt.ticks = (uint32_t)t300;
        return 0;
    }
    case SQL_DATETIME2: {
        int p = to->precision > 7 ? 7 : to->precision;
        int64_t unit = (int64_t)cv_pow10(7 - p);
        int64_t t = (ticks + unit / 2) / unit * unit;
        if (t >= VALUE_TICKS_PER_DAY) {
            t -= VALUE_TICKS_PER_DAY;
            days++;
        }
        if (days < 0 || days > VALUE_DATE_MAX)
            return cv_overflow(err, to);
        out->u.dt2.days = days;
        out->u.dt2.ticks = t;
        return 0;
    }
    }
    return -1;
}

/* string value -> text bytes (UTF-8) for parsing */
static char *src_text(ex_env *env, const sql_value *in, uint8_t from, size_t *n)
{
    return str_utf8(env->a, in->bytes, in->len, value_type_is_unicode(from), n);
}

/* Make a string value of type `to` from UTF-8 text (ASCII for numbers/dates). */
static int text_to_string(ex_env *env, const char *txt, size_t n, const sql_type *to, bool assign,
                          bool numeric_src, sql_value *out);

static int fit_string(ex_env *env, sql_value *v, const sql_type *to, bool assign)
{
    bool uni = value_type_is_unicode(to->id);
    int64_t cap = value_type_max_bytes(to);
    if (to->max_len == 0 && !uni)
        cap = 1;
    if (cap >= 0 && v->len > cap) {
        if (assign) {
            /* only spaces (or zero bytes for binary) may be cut silently */
            bool blank = true;
            for (uint32_t i = (uint32_t)cap; i < v->len && blank; i++) {
                if (value_type_is_binary(to->id))
                    blank = false;
                else if (uni)
                    blank = (i % 2 == 0) ? v->bytes[i] == ' ' : v->bytes[i] == 0;
                else
                    blank = v->bytes[i] == ' ';
            }
            if (!blank)
                return hdb_raise_text(env->err, 8152, 16, 14, "String or binary data would be truncated.");
        }
        v->len = (uint32_t)(uni ? cap & ~1LL : cap);
    }
    /* fixed length types are padded */
    if ((to->id == SQL_CHAR || to->id == SQL_NCHAR || to->id == SQL_BINARY) && cap > 0 && v->len < cap) {
        uint8_t *p = arena_alloc(env->a, (size_t)cap);
        if (!p)
            return -1;
        ex_mcpy(p, v->bytes, v->len);
        for (int64_t i = v->len; i < cap; i++)
            p[i] = to->id == SQL_BINARY ? 0 : uni ? ((i % 2 == 0) ? ' ' : 0) : ' ';
        v->bytes = p;
        v->len = (uint32_t)cap;
    }
    v->type = to->id;
    return 0;
}

static int text_to_string(ex_env *env, const char *txt, size_t n, const sql_type *to, bool assign,
                          bool numeric_src, sql_value *out)
{
    bool uni = value_type_is_unicode(to->id);
    int64_t cap = value_type_max_bytes(to);
    if (numeric_src && cap >= 0 && (int64_t)(uni ? 2 * n : n) > cap) {
        /* a number that does not fit: '*' for char types, an error for n-types */
        if (uni)
            return cv_overflow(env->err, to);
        *out = value_bytes(to->id, "*", 1);
        return fit_string(env, out, to, false);
    }
    *out = cv_strn(env->a, txt, n, uni);
    if (n && !out->bytes)
        return -1;
    return fit_string(env, out, to, assign);
}

int cv_convert(ex_env *env, const sql_value *in, const sql_type *from, const sql_type *to, int style,
               bool assign, sql_value *out)
{
    hdb_err *err = env->err;
    if (in->is_null) {
        *out = value_null(to->id);
        return 0;
    }
    uint8_t f = from->id ? from->id : in->type, t = to->id;
    sql_type fromt = *from;
    fromt.id = f;
    bool fs = value_type_is_string(f), ts = value_type_is_string(t);
    bool fb = value_type_is_binary(f), tb = value_type_is_binary(t);

    if (f == t && !fs && !fb && t != SQL_DECIMAL && t != SQL_NUMERIC && t != SQL_TIME &&
        t != SQL_DATETIME2) {
        *out = *in;
        out->type = t;
        if (value_check(out, to, NULL) < 0)
            return cv_overflow(err, to);
        return 0;
    }
    /* string/binary -> string/binary */
    if ((fs || fb) && (ts || tb)) {
        if (fs && ts) {
            bool fu = value_type_is_unicode(f), tu = value_type_is_unicode(t);
            if (fu == tu) {
                *out = *in;
            } else {
                size_t n;
                char *u8 = src_text(env, in, f, &n);
                if (!u8)
                    return -1;
                *out = cv_strn(env->a, u8, n, tu);
            }
            return fit_string(env, out, to, assign);
        }
        if (fb && ts && (style == 1 || style == 2)) {
            size_t n = (size_t)in->len * 2 + 3;
            char *h = arena_alloc(env->a, n);
            if (!h)
                return -1;
            size_t o = 0;
            if (style == 1) {
                h[o++] = '0';
                h[o++] = 'x';
            }
            for (uint32_t i = 0; i < in->len; i++)
                o += (size_t)sprintf(h + o, "%02X", in->bytes[i]);
            return text_to_string(env, h, o, to, assign, false, out);
        }
        if (fs && tb && (style == 1 || style == 2)) {
            size_t n;
            char *s = src_text(env, in, f, &n);
            if (!s)
                return -1;
            size_t i = 0;
            if (style == 1) {
                if (n < 2 || s[0] != '0' || (s[1] != 'x' && s[1] != 'X'))
                    return conv_failed(err, s, f, to);
                i = 2;
            }
            if ((n - i) % 2)
                return conv_failed(err, s, f, to);
            uint8_t *b = arena_alloc(env->a, (n - i) / 2 + 1);
            if (!b)
                return -1;
            size_t o = 0;
            for (; i < n; i += 2) {
                int hi = cv_hexval(s[i]), lo = cv_hexval(s[i + 1]);
                if (hi < 0 || lo < 0)
                    return hdb_raise_text(err, 8114, 16, 5, "Error converting data type varchar to varbinary.");
                b[o++] = (uint8_t)(hi << 4 | lo);
            }
            *out = value_bytes(t, b, (uint32_t)o);
            return fit_string(env, out, to, assign);
        }
        /* raw bytes reinterpretation */
        *out = value_bytes(t, in->bytes, in->len);
        if (value_type_is_unicode(t) && (out->len & 1)) {
            uint8_t *p = arena_alloc(env->a, out->len + 1);
            if (!p)
                return -1;
            ex_mcpy(p, in->bytes, in->len);
            p[out->len++] = 0;
            out->bytes = p;
        }
        return fit_string(env, out, to, assign);
    }
    if (!cv_allowed(f, t, style != -3)) {
        return not_allowed(err, f, t, true);
    }
    /* string -> other */
    if (fs) {
        size_t n;
        char *s = src_text(env, in, f, &n);
        if (!s)
            return -1;
        switch (t) {
        case SQL_TINYINT: case SQL_SMALLINT: case SQL_INT: case SQL_BIGINT: case SQL_BIT: {
            size_t i = 0, e = n;
            while (i < e && isspace((unsigned char)s[i])) i++;
            while (e > i && isspace((unsigned char)s[e - 1])) e--;
            if (i == e) {
                *out = value_int(t, 0);
                return 0;
            }
            if (t == SQL_BIT) {
                if (e - i == 4 && strncasecmp(s + i, "TRUE", 4) == 0) {
                    *out = value_int(t, 1);
                    return 0;
                }
                if (e - i == 5 && strncasecmp(s + i, "FALSE", 5) == 0) {
                    *out = value_int(t, 0);
                    return 0;
                }
            }
            size_t k = i;
            bool neg = false;
            if (s[k] == '+' || s[k] == '-')
                neg = s[k++] == '-';
            if (k == e)
                return conv_failed(err, s, f, to);
            __int128 r = 0;
            for (; k < e; k++) {
                if (!isdigit((unsigned char)s[k]))
                    return conv_failed(err, s, f, to);
                r = r * 10 + (s[k] - '0');
                if (r > ((__int128)1 << 64))
                    break;
            }
            if (neg)
                r = -r;
            if (t == SQL_BIT) {
                *out = value_int(t, r != 0);
                return 0;
            }
            if (r < INT64_MIN || r > INT64_MAX || !check_int_range((int64_t)r, t)) {
                char msg[600];
                snprintf(msg, sizeof msg, "The conversion of the %s value '%.400s' overflowed an %s column.",
                         value_type_is_unicode(f) ? "nvarchar" : "varchar", s, tname(t));
                return hdb_raise_text(err, 248, 16, 1, msg);
            }
            *out = value_int(t, (int64_t)r);
            return 0;
        }
        case SQL_DECIMAL: case SQL_NUMERIC: case SQL_MONEY: case SQL_SMALLMONEY: {
            __int128 v;
            int sc, pr;
            bool money = t == SQL_MONEY || t == SQL_SMALLMONEY;
            int rc = parse_decimal(s, n, money, &v, &sc, &pr);
            if (rc == -2)
                return overflow_from(err, f, to);
            if (rc < 0)
                return conv_failed(err, s, f, to);
            sql_value dv = value_decimal(v);
            sql_type dt = value_type(SQL_DECIMAL, 0, 38, (uint8_t)sc);
            return num_to_num(&dv, &dt, to, out, err);
        }
        case SQL_FLOAT: case SQL_REAL: {
            size_t i = 0, e = n;
            while (i < e && isspace((unsigned char)s[i])) i++;
            while (e > i && isspace((unsigned char)s[e - 1])) e--;
            if (i == e) {
                *out = value_float(t, 0);
                return 0;
            }
            char *end;
            s[e] = 0;
            double d = strtod(s + i, &end);
            if (end != s + e || !isfinite(d))
                return conv_failed(err, s, f, to);
            *out = value_float(t, t == SQL_REAL ? (double)(float)d : d);
            return 0;
        }
        case SQL_UNIQUEIDENTIFIER: {
            uint8_t g[16];
            if (cv_guid_parse(s, n, g) < 0)
                return conv_failed(err, s, f, to);
            *out = value_guid(g);
            return 0;
        }
        case SQL_DATE: case SQL_TIME: case SQL_DATETIME: case SQL_DATETIME2: {
            int y, mo, d, hd, ht;
            int64_t ticks;
            if (cv_parse_datetime(s, n, &y, &mo, &d, &ticks, &hd, &ht) < 0)
                return conv_failed(err, s, f, to);
            if (t == SQL_DATE && !hd && ht)
                return conv_failed(err, s, f, to);
            return dt_make(value_days_from_ymd(y, mo, d), ticks, to, out, err, true);
        }
        }
        return not_allowed(err, f, t, true);
    }
    /* other -> string */
    if (ts) {
        char *txt;
        size_t n;
        if (cv_to_text(env->a, in, &fromt, style, &txt, &n) < 0)
            return -1;
        bool numeric = f >= SQL_TINYINT && f <= SQL_REAL;
        return text_to_string(env, txt, n, to, assign, numeric, out);
    }
    /* binary <-> fixed types */
    if (fb) {
        /* right-aligned big-endian bytes */
        if (t == SQL_UNIQUEIDENTIFIER) {
            uint8_t g[16] = { 0 };
            ex_mcpy(g, in->bytes, in->len < 16 ? in->len : 16);
            *out = value_guid(g);
            return 0;
        }
        uint64_t x = 0;
        uint32_t start = in->len > 8 ? in->len - 8 : 0;
        for (uint32_t i = start; i < in->len; i++)
            x = x << 8 | in->bytes[i];
        int width = t == SQL_TINYINT ? 1 : t == SQL_SMALLINT ? 2 : t == SQL_INT ? 4 : 8;
        if (t == SQL_BIT) {
            *out = value_int(t, x != 0);
            return 0;
        }
        if (t >= SQL_TINYINT && t <= SQL_BIGINT) {
            int64_t v;
            if (width == 1) v = (uint8_t)x;
            else if (width == 2) v = (int16_t)x;
            else if (width == 4) v = (int32_t)x;
            else v = (int64_t)x;
            *out = value_int(t, v);
            return 0;
        }
        if (t == SQL_MONEY || t == SQL_SMALLMONEY) {
            *out = value_int(t, t == SQL_SMALLMONEY ? (int32_t)x : (int64_t)x);
            return 0;
        }
        return not_allowed(err, f, t, true);
    }
    if (tb) {
        uint8_t buf[16];
        int w;
        if (f == SQL_UNIQUEIDENTIFIER) {
            memcpy(buf, in->u.guid, 16);
            w = 16;
        } else if (f >= SQL_TINYINT && f <= SQL_BIT) {
            w = f == SQL_TINYINT || f == SQL_BIT ? 1 : f == SQL_SMALLINT ? 2 : f == SQL_INT ? 4 : 8;
            uint64_t x = (uint64_t)in->u.i;
            for (int i = w - 1; i >= 0; i--) {
                buf[i] = (uint8_t)x;
                x >>= 8;
            }
        } else if (f == SQL_MONEY || f == SQL_SMALLMONEY) {
            w = f == SQL_MONEY ? 8 : 4;
            uint64_t x = (uint64_t)in->u.i;
            for (int i = w - 1; i >= 0; i--) {
                buf[i] = (uint8_t)x;
                x >>= 8;
            }
        } else {
            return not_allowed(err, f, t, true);
        }
        int64_t cap = value_type_max_bytes(to);
        int skip = cap >= 0 && cap < w ? w - (int)cap : 0;   /* keep the rightmost bytes */
        uint8_t *p = arena_memdup(env->a, buf + skip, (size_t)(w - skip));
        if (!p)
            return -1;
        *out = value_bytes(t, p, (uint32_t)(w - skip));
        return fit_string(env, out, to, false);
    }
    /* numbers */
    bool fnum = f >= SQL_TINYINT && f <= SQL_REAL, tnum = t >= SQL_TINYINT && t <= SQL_REAL;
    if (fnum && tnum)
        return num_to_num(in, &fromt, to, out, err);
    /* number -> datetime: days since 1900 + fraction */
    if (fnum && t == SQL_DATETIME) {
        double d;
        if (f == SQL_FLOAT || f == SQL_REAL)
            d = in->u.f;
        else if (f == SQL_DECIMAL || f == SQL_NUMERIC)
            d = (double)in->u.dec / (double)cv_pow10(from->scale);
        else if (f == SQL_MONEY || f == SQL_SMALLMONEY)
            d = (double)in->u.i / 10000.0;
        else
            d = (double)in->u.i;
        double days = floor(d);
        int64_t ticks = (int64_t)llround((d - days) * (double)VALUE_TICKS_PER_DAY);
        if (days < -60000 || days > 3000000)
            return cv_overflow(err, to);
        return dt_make((int32_t)days + VALUE_DAYS_1900, ticks, to, out, err, false);
    }
    if (f == SQL_DATETIME && tnum) {
        double d = in->u.dt.days + (double)in->u.dt.ticks / VALUE_DT_TICKS_PER_DAY;
        sql_value fv = value_float(SQL_FLOAT, d);
        sql_type ft = value_type(SQL_FLOAT, 0, 53, 0);
        if (t >= SQL_TINYINT && t <= SQL_BIGINT)
            fv.u.f = round(d);      /* datetime -> int rounds to the nearest day */
        return num_to_num(&fv, &ft, to, out, err);
    }
    /* date/time family */
    bool fd = f == SQL_DATE || f == SQL_TIME || f == SQL_DATETIME || f == SQL_DATETIME2;
    bool td = t == SQL_DATE || t == SQL_TIME || t == SQL_DATETIME || t == SQL_DATETIME2;
    if (fd && td) {
        int32_t days;
        int64_t ticks;
        dt_parts(in, f, &days, &ticks);
        if (t == SQL_DATE)
            ticks = 0;
        return dt_make(days, ticks, to, out, err, false);
    }
    return not_allowed(err, f, t, true);
}
