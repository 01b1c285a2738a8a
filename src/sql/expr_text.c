/*
 * expr_text.c — dates and numbers as text: parsing the date/time string forms
 * SQL Server accepts, and writing values as CAST/CONVERT does (styles 0-14,
 * 20-27, 100-114, 120-127 for dates; 0-2 for money and float; uniqueidentifier
 * in its canonical upper-case form).
 */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sql/exec_int.h"

static const char *const month_abbr[12] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                            "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
static const char *const month_full[12] = { "January", "February", "March", "April", "May", "June",
                                            "July", "August", "September", "October", "November",
                                            "December" };

/* ------------------------------------------------------------ calendar */

static void ymd_of_days(int32_t days, int *y, int *m, int *d) { value_ymd_from_days(days, y, m, d); }

static int days_in_month(int y, int m)
{
    static const int dm[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
        return 29;
    return dm[m - 1];
}

static int month_by_name(const char *s, size_t n)
{
    for (int i = 0; i < 12; i++) {
        if (n == 3 && strncasecmp(s, month_abbr[i], 3) == 0)
            return i + 1;
        if (n == strlen(month_full[i]) && strncasecmp(s, month_full[i], n) == 0)
            return i + 1;
    }
    return 0;
}

/* Parses the date/time string forms SQL Server accepts most often:
 *   yyyy-mm-dd, yyyy/mm/dd, yyyy.mm.dd, yyyymmdd, mm/dd/yyyy, mm-dd-yyyy,
 *   dd.mm.yyyy, "Jan 1 2020", "1 Jan 2020", "January 1, 2020", each optionally
 *   followed by [T| ]hh:mm[:ss[.fffffff|:fff]] [AM|PM]; or a time alone.
 * 0 on success, -1 if not a date. */
int cv_parse_datetime(const char *s, size_t n, int *y, int *mo, int *d, int64_t *ticks, int *has_date,
                      int *has_time)
{
    size_t i = 0;
    *y = 1900; *mo = 1; *d = 1; *ticks = 0; *has_date = 0; *has_time = 0;
    while (i < n && isspace((unsigned char)s[i]))
        i++;
    while (n > i && isspace((unsigned char)s[n - 1]))
        n--;
    if (i >= n)
        return -1;
    /* tokens: numbers, words, separators */
    size_t p = i;
    /* date part */
    if (isdigit((unsigned char)s[p])) {
        size_t q = p;
        while (q < n && isdigit((unsigned char)s[q]))
            q++;
        size_t nd = q - p;
        if (q < n && s[q] == ':') {
            /* time only */
        } else if (nd == 8 && (q == n || s[q] == ' ' || s[q] == 'T')) {
            *y = atoi((char[]){ s[p], s[p + 1], s[p + 2], s[p + 3], 0 });
            *mo = atoi((char[]){ s[p + 4], s[p + 5], 0 });
            *d = atoi((char[]){ s[p + 6], s[p + 7], 0 });
            *has_date = 1;
            p = q;
        } else if (q < n && (s[q] == '-' || s[q] == '/' || s[q] == '.')) {
            char sep = s[q];
            long a = strtol(s + p, NULL, 10);
            size_t r = q + 1;
            size_t r2 = r;
            long b;
            int bmonth = 0;
            if (r2 < n && isalpha((unsigned char)s[r2])) {
                while (r2 < n && isalpha((unsigned char)s[r2]))
                    r2++;
                bmonth = month_by_name(s + r, r2 - r);
                if (!bmonth)
                    return -1;
                b = bmonth;
            } else {
                while (r2 < n && isdigit((unsigned char)s[r2]))
                    r2++;
                if (r2 == r)
                    return -1;
                b = strtol(s + r, NULL, 10);
            }
            if (r2 >= n || s[r2] != sep)
                return -1;
            size_t t = r2 + 1, t2 = t;
            while (t2 < n && isdigit((unsigned char)s[t2]))
                t2++;
            if (t2 == t)
                return -1;
            long c = strtol(s + t, NULL, 10);
            if (nd == 4) {              /* y-m-d */
                *y = (int)a; *mo = (int)b; *d = (int)c;
            } else if (bmonth) {        /* d-mon-y */
                *d = (int)a; *mo = (int)b; *y = (int)c;
            } else if (sep == '.') {    /* dd.mm.yyyy */
                *d = (int)a; *mo = (int)b; *y = (int)c;
            } else {                    /* mdy */
                *mo = (int)a; *d = (int)b; *y = (int)c;
            }
            if (nd != 4 && t2 - t == 2)      /* two-digit year in the last field */
                *y += *y < 50 ? 2000 : 1900;
            *has_date = 1;
            p = t2;
        } else if (q < n && s[q] == ' ' && nd <= 2) {
            /* "1 Jan 2020" */
            size_t r = q + 1, r2 = r;
            while (r2 < n && isalpha((unsigned char)s[r2]))
                r2++;
            int m = month_by_name(s + r, r2 - r);
            if (!m)
                return -1;
            while (r2 < n && (s[r2] == ' ' || s[r2] == ','))
                r2++;
            size_t t = r2;
            while (r2 < n && isdigit((unsigned char)s[r2]))
                r2++;
            if (r2 - t != 4)
                return -1;
            *d = (int)strtol(s + p, NULL, 10);
            *mo = m;
            *y = (int)strtol(s + t, NULL, 10);
            *has_date = 1;
            p = r2;
        } else {
            return -1;
        }
    } else if (isalpha((unsigned char)s[p])) {
        size_t q = p;
        while (q < n && isalpha((unsigned char)s[q]))
            q++;
        int m = month_by_name(s + p, q - p);
        if (!m)
            return -1;
        while (q < n && s[q] == ' ')
            q++;
        size_t r = q;
        while (q < n && isdigit((unsigned char)s[q]))
            q++;
        if (q == r)
            return -1;
        long dd = strtol(s + r, NULL, 10);
        while (q < n && (s[q] == ' ' || s[q] == ','))
            q++;
        r = q;
        while (q < n && isdigit((unsigned char)s[q]))
            q++;
        if (q - r != 4)
            return -1;
        *mo = m;
        *d = (int)dd;
        *y = (int)strtol(s + r, NULL, 10);
        *has_date = 1;
        p = q;
    } else {
        return -1;
    }
    if (*has_date) {
        if (*mo < 1 || *mo > 12 || *d < 1 || *y < 1 || *y > 9999 || *d > days_in_month(*y, *mo))
            return -1;
        if (p < n && (s[p] == 'T' || s[p] == ' '))
            p++;
        while (p < n && s[p] == ' ')
            p++;
        if (p >= n)
            return 0;
    }
    /* time part */
    if (!isdigit((unsigned char)s[p]))
        return -1;
    long hh = 0, mi = 0, ss = 0;
    int64_t frac = 0;
    size_t q = p;
    while (q < n && isdigit((unsigned char)s[q]))
        q++;
    if (q - p > 2)
        return -1;
    hh = strtol(s + p, NULL, 10);
    if (q < n && s[q] == ':') {
        p = ++q;
        while (q < n && isdigit((unsigned char)s[q]))
            q++;
        if (q == p || q - p > 2)
            return -1;
        mi = strtol(s + p, NULL, 10);
        if (q < n && s[q] == ':') {
            p = ++q;
            while (q < n && isdigit((unsigned char)s[q]))
                q++;
            if (q == p || q - p > 2)
                return -1;
            ss = strtol(s + p, NULL, 10);
            if (q < n && (s[q] == '.' || s[q] == ':')) {
                bool ms = s[q] == ':';
                p = ++q;
                int digits = 0;
                while (q < n && isdigit((unsigned char)s[q])) {
                    if (digits < 7) {
                        frac = frac * 10 + (s[q] - '0');
                        digits++;
                    }
                    q++;
                }
                if (ms) {
                    /* hh:mm:ss:mmm is milliseconds */
                    while (digits < 3) { frac *= 10; digits++; }
                    frac *= 10000;
                    digits = 7;
                }
                while (digits < 7) {
                    frac *= 10;
                    digits++;
                }
            }
        }
    } else if (!(q < n && (s[q] == ' ' || isalpha((unsigned char)s[q])))) {
        return -1;
    }
    while (q < n && s[q] == ' ')
        q++;
    if (q < n) {
        if (n - q == 2 && strncasecmp(s + q, "AM", 2) == 0) {
            if (hh > 12) return -1;
            if (hh == 12) hh = 0;
        } else if (n - q == 2 && strncasecmp(s + q, "PM", 2) == 0) {
            if (hh > 12) return -1;
            if (hh < 12) hh += 12;
        } else {
            return -1;
        }
        q = n;
    }
    if (hh > 23 || mi > 59 || ss > 59)
        return -1;
    *ticks = ((hh * 60 + mi) * 60 + ss) * 10000000LL + frac;
    *has_time = 1;
    return 0;
}

/* ------------------------------------------------------------ text out */

static char *fmt_scaled(char *buf, size_t cap, __int128 v, int scale)
{
    char digits[64];
    int n = 0;
    bool neg = v < 0;
    unsigned __int128 u = neg ? (unsigned __int128)(-(v + 1)) + 1 : (unsigned __int128)v;
    do {
        digits[n++] = (char)('0' + (int)(u % 10));
        u /= 10;
    } while (u);
    while (n <= scale)
        digits[n++] = '0';
    size_t o = 0;
    if (neg && o + 1 < cap)
        buf[o++] = '-';
    for (int i = n - 1; i >= 0 && o + 2 < cap; i--) {
        buf[o++] = digits[i];
        if (i == scale && scale > 0)
            buf[o++] = '.';
    }
    buf[o] = 0;
    return buf;
}

static void fmt_float(char *buf, size_t cap, double f, int style, bool real)
{
    if (style == 1 || style == 2 || style == 3) {
        snprintf(buf, cap, "%.*e", style == 1 ? 7 : 15, f);
    } else {
        snprintf(buf, cap, "%.*g", real ? 6 : 6, f);
        if (style == -2)                   /* full precision for internal text */
            snprintf(buf, cap, "%.17g", f);
    }
    /* SQL Server writes exponents with three digits: 1e+006 */
    char *e = strchr(buf, 'e');
    if (e && (e[1] == '+' || e[1] == '-')) {
        char *d = e + 2;
        size_t nd = strlen(d);
        if (nd < 3) {
            memmove(d + (3 - nd), d, nd + 1);
            memset(d, '0', 3 - nd);
        }
    }
}

static void fmt_money(char *buf, size_t cap, int64_t cents4, int style)
{
    char tmp[64];
    if (style == 2) {
        fmt_scaled(buf, cap, cents4, 4);
        return;
    }
    __int128 r;
    cv_dec_rescale(cents4, 4, 2, &r);
    fmt_scaled(tmp, sizeof tmp, r, 2);
    if (style != 1) {
        snprintf(buf, cap, "%s", tmp);
        return;
    }
    /* thousands separators */
    char *dot = strchr(tmp, '.');
    size_t intlen = (size_t)(dot - tmp);
    size_t start = tmp[0] == '-' ? 1 : 0;
    size_t o = 0;
    for (size_t i = 0; tmp[i] && o + 2 < cap; i++) {
        if (i > start && i < intlen && (intlen - i) % 3 == 0)
            buf[o++] = ',';
        buf[o++] = tmp[i];
    }
    buf[o] = 0;
}

static void split_ticks(int64_t ticks, int *hh, int *mi, int *ss, int64_t *frac)
{
    int64_t sec = ticks / 10000000;
    *frac = ticks % 10000000;
    *hh = (int)(sec / 3600);
    *mi = (int)(sec / 60 % 60);
    *ss = (int)(sec % 60);
}

/* datetime ticks (1/300 s) -> milliseconds as SQL Server shows them (.000 .003 .007) */
static int dt_ms(uint32_t ticks300, int *sec_of_day)
{
    int64_t ms = ((int64_t)ticks300 * 10 + 1) / 3;
    *sec_of_day = (int)(ms / 1000);
    return (int)(ms % 1000);
}

static void fmt_datetime_style(char *buf, size_t cap, int y, int m, int d, int hh, int mi, int ss,
                               int64_t frac7, int fdigits, int style, bool has_date, bool has_time)
{
    int ms = (int)(frac7 / 10000);
    int h12 = hh % 12 ? hh % 12 : 12;
    const char *ampm = hh < 12 ? "AM" : "PM";
    char fr[16] = "";
    if (fdigits > 0) {
        snprintf(fr, sizeof fr, ".%07lld", (long long)frac7);
        fr[1 + fdigits] = 0;
    }
    int yy = style < 100 && style != 20 && style != 21 && style != 23 && style != 25 && style != 0 &&
             style != 9 && style != 13 && style != 14 ? y % 100 : y;
    int st = style >= 100 ? style - 100 : style;
    switch (st) {
    case 1:  snprintf(buf, cap, "%02d/%02d/%0*d", m, d, yy == y ? 4 : 2, yy); return;
    case 2:  snprintf(buf, cap, "%0*d.%02d.%02d", yy == y ? 4 : 2, yy, m, d); return;
    case 3:  snprintf(buf, cap, "%02d/%02d/%0*d", d, m, yy == y ? 4 : 2, yy); return;
    case 4:  snprintf(buf, cap, "%02d.%02d.%0*d", d, m, yy == y ? 4 : 2, yy); return;
    case 5:  snprintf(buf, cap, "%02d-%02d-%0*d", d, m, yy == y ? 4 : 2, yy); return;
    case 6:  snprintf(buf, cap, "%02d %s %0*d", d, month_abbr[m - 1], yy == y ? 4 : 2, yy); return;
    case 7:  snprintf(buf, cap, "%s %02d, %0*d", month_abbr[m - 1], d, yy == y ? 4 : 2, yy); return;
    case 8: case 24: snprintf(buf, cap, "%02d:%02d:%02d", hh, mi, ss); return;
    case 10: snprintf(buf, cap, "%02d-%02d-%0*d", m, d, yy == y ? 4 : 2, yy); return;
    case 11: snprintf(buf, cap, "%0*d/%02d/%02d", yy == y ? 4 : 2, yy, m, d); return;
    case 12: snprintf(buf, cap, "%0*d%02d%02d", yy == y ? 4 : 2, yy, m, d); return;
    case 9:
        snprintf(buf, cap, "%s %2d %d %2d:%02d:%02d:%03d%s", month_abbr[m - 1], d, y, h12, mi, ss, ms, ampm);
        return;
    case 13:
        snprintf(buf, cap, "%02d %s %d %02d:%02d:%02d:%03d", d, month_abbr[m - 1], y, hh, mi, ss, ms);
        return;
    case 14: snprintf(buf, cap, "%02d:%02d:%02d:%03d", hh, mi, ss, ms); return;
    case 20: snprintf(buf, cap, "%04d-%02d-%02d %02d:%02d:%02d", y, m, d, hh, mi, ss); return;
    case 21: case 25:
        snprintf(buf, cap, "%04d-%02d-%02d %02d:%02d:%02d%s", y, m, d, hh, mi, ss, fdigits ? fr : ".000");
        return;
    case 23: snprintf(buf, cap, "%04d-%02d-%02d", y, m, d); return;
    case 26: case 27:
        snprintf(buf, cap, "%04d-%02d-%02dT%02d:%02d:%02d%s", y, m, d, hh, mi, ss, frac7 ? fr : "");
        return;
    default:
        break;
    }
    /* style 0 / 100: mon dd yyyy hh:miAM (date or time alone as such) */
    if (has_date && has_time)
        snprintf(buf, cap, "%s %2d %d %2d:%02d%s", month_abbr[m - 1], d, y, h12, mi, ampm);
    else if (has_date)
        snprintf(buf, cap, "%s %2d %d", month_abbr[m - 1], d, y);
    else
        snprintf(buf, cap, "%2d:%02d%s", h12, mi, ampm);
}

static void guid_text(const uint8_t g[16], char *buf)
{
    snprintf(buf, 37, "%02X%02X%02X%02X-%02X%02X-%02X%02X-%02X%02X-%02X%02X%02X%02X%02X%02X",
             g[3], g[2], g[1], g[0], g[5], g[4], g[7], g[6], g[8], g[9], g[10], g[11], g[12], g[13],
             g[14], g[15]);
}

int cv_hexval(int c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

int cv_guid_parse(const char *s, size_t n, uint8_t g[16])
{
    while (n && isspace((unsigned char)*s)) { s++; n--; }
    while (n && isspace((unsigned char)s[n - 1])) n--;
    if (n == 38 && s[0] == '{' && s[37] == '}') { s++; n -= 2; }
    if (n != 36 || s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-')
        return -1;
    uint8_t raw[16];
    int k = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '-')
            continue;
        int hi = cv_hexval(s[i]), lo = i + 1 < n ? cv_hexval(s[i + 1]) : -1;
        if (hi < 0 || lo < 0 || k >= 16)
            return -1;
        raw[k++] = (uint8_t)(hi << 4 | lo);
        i++;
    }
    if (k != 16)
        return -1;
    g[0] = raw[3]; g[1] = raw[2]; g[2] = raw[1]; g[3] = raw[0];
    g[4] = raw[5]; g[5] = raw[4]; g[6] = raw[7]; g[7] = raw[6];
    memcpy(g + 8, raw + 8, 8);
    return 0;
}

/* Text of a non-string value, as CAST(v AS varchar) writes it. */
int cv_to_text(arena *a, const sql_value *v, const sql_type *t, int style, char **out, size_t *len)
{
    char buf[160];
    buf[0] = 0;
    switch (t->id) {
    case SQL_TINYINT: case SQL_SMALLINT: case SQL_INT: case SQL_BIGINT: case SQL_BIT:
        snprintf(buf, sizeof buf, "%lld", (long long)v->u.i);
        break;
    case SQL_DECIMAL: case SQL_NUMERIC:
        fmt_scaled(buf, sizeof buf, v->u.dec, t->scale);
        break;
    case SQL_MONEY: case SQL_SMALLMONEY:
        fmt_money(buf, sizeof buf, v->u.i, style);
        break;
    case SQL_FLOAT: case SQL_REAL:
        fmt_float(buf, sizeof buf, v->u.f, style, t->id == SQL_REAL);
        break;
    case SQL_UNIQUEIDENTIFIER:
        guid_text(v->u.guid, buf);
        break;
    case SQL_DATE: {
        int y, m, d;
        ymd_of_days(v->u.date, &y, &m, &d);
        if (style < 0 || style == 0 || style == 100 || style == 121 || style == 120 || style == 126)
            snprintf(buf, sizeof buf, "%04d-%02d-%02d", y, m, d);
        else
            fmt_datetime_style(buf, sizeof buf, y, m, d, 0, 0, 0, 0, 0, style, true, false);
        break;
    }
    case SQL_TIME: {
        int hh, mi, ss;
        int64_t fr;
        split_ticks(v->u.time, &hh, &mi, &ss, &fr);
        int p = t->precision > 7 ? 7 : t->precision;
        if (style < 0 || style == 0 || style == 121 || style == 120 || style == 126 || style == 108 ||
            style == 8) {
            if (style == 8 || style == 108 || style == 120)
                snprintf(buf, sizeof buf, "%02d:%02d:%02d", hh, mi, ss);
            else if (p > 0)
                snprintf(buf, sizeof buf, "%02d:%02d:%02d.%0*lld", hh, mi, ss, p,
                         (long long)(fr / (int64_t)cv_pow10(7 - p)));
            else
                snprintf(buf, sizeof buf, "%02d:%02d:%02d", hh, mi, ss);
        } else {
            fmt_datetime_style(buf, sizeof buf, 1900, 1, 1, hh, mi, ss, fr, p, style, false, true);
        }
        break;
    }
    case SQL_DATETIME: {
        int y, m, d, sod;
        int ms = dt_ms(v->u.dt.ticks, &sod);
        int32_t days = v->u.dt.days + VALUE_DAYS_1900;
        if (sod >= 86400) {          /* .999x rounding into the next day */
            sod -= 86400;
            days++;
        }
        ymd_of_days(days, &y, &m, &d);
        int hh = sod / 3600, mi = sod / 60 % 60, ss = sod % 60;
        int st = style < 0 ? 0 : style;
        if (st == 121 || st == 21 || st == 25)
            snprintf(buf, sizeof buf, "%04d-%02d-%02d %02d:%02d:%02d.%03d", y, m, d, hh, mi, ss, ms);
        else if ((st == 126 || st == 127) && ms)
            snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03d", y, m, d, hh, mi, ss, ms);
        else if (st == 126 || st == 127)
            snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d", y, m, d, hh, mi, ss);
        else
            fmt_datetime_style(buf, sizeof buf, y, m, d, hh, mi, ss, (int64_t)ms * 10000, 3, st, true, true);
        break;
    }
    case SQL_DATETIME2: {
        int y, m, d, hh, mi, ss;
        int64_t fr;
        ymd_of_days(v->u.dt2.days, &y, &m, &d);
        split_ticks(v->u.dt2.ticks, &hh, &mi, &ss, &fr);
        int p = t->precision > 7 ? 7 : t->precision;
        if (style < 0 || style == 0 || style == 121 || style == 21) {
            if (p > 0 && style != 0)
                snprintf(buf, sizeof buf, "%04d-%02d-%02d %02d:%02d:%02d.%0*lld", y, m, d, hh, mi, ss, p,
                         (long long)(fr / (int64_t)cv_pow10(7 - p)));
            else if (p > 0 && style < 0)
                snprintf(buf, sizeof buf, "%04d-%02d-%02d %02d:%02d:%02d.%0*lld", y, m, d, hh, mi, ss, p,
                         (long long)(fr / (int64_t)cv_pow10(7 - p)));
            else if (style == 0)
                fmt_datetime_style(buf, sizeof buf, y, m, d, hh, mi, ss, fr, p, 0, true, true);
            else
                snprintf(buf, sizeof buf, "%04d-%02d-%02d %02d:%02d:%02d", y, m, d, hh, mi, ss);
        } else {
            fmt_datetime_style(buf, sizeof buf, y, m, d, hh, mi, ss, fr, p, style, true, true);
        }
        break;
    }
    default:
        snprintf(buf, sizeof buf, "?");
        break;
    }
    *len = strlen(buf);
    *out = arena_memdup(a, buf, *len + 1);
    return *out ? 0 : -1;
}

