/*
 * expr_date.c — date and time functions: GETDATE / SYSDATETIME / GETUTCDATE,
 * DATEADD, DATEDIFF (boundaries crossed, weeks from Sunday), DATEPART /
 * DATENAME (DATEFIRST-aware weekday and week), YEAR / MONTH / DAY, EOMONTH,
 * DATEFROMPARTS. All work on (days since 0001-01-01, 100 ns ticks).
 */
#include <stdio.h>
#include <string.h>

#include "sql/exec_int.h"

/* ---- dates ---- */

enum { DP_YEAR = 1, DP_QUARTER, DP_MONTH, DP_DAYOFYEAR, DP_DAY, DP_WEEK, DP_WEEKDAY, DP_HOUR,
       DP_MINUTE, DP_SECOND, DP_MILLISECOND, DP_MICROSECOND, DP_NANOSECOND, DP_ISO_WEEK };

static int datepart_id(const sql_value *v)
{
    static const struct { const char *n; int id; } dps[] = {
        { "year", DP_YEAR }, { "yy", DP_YEAR }, { "yyyy", DP_YEAR }, { "quarter", DP_QUARTER },
        { "qq", DP_QUARTER }, { "q", DP_QUARTER }, { "month", DP_MONTH }, { "mm", DP_MONTH },
        { "m", DP_MONTH }, { "dayofyear", DP_DAYOFYEAR }, { "dy", DP_DAYOFYEAR }, { "y", DP_DAYOFYEAR },
        { "day", DP_DAY }, { "dd", DP_DAY }, { "d", DP_DAY }, { "week", DP_WEEK }, { "wk", DP_WEEK },
        { "ww", DP_WEEK }, { "weekday", DP_WEEKDAY }, { "dw", DP_WEEKDAY }, { "w", DP_WEEKDAY },
        { "hour", DP_HOUR }, { "hh", DP_HOUR }, { "minute", DP_MINUTE }, { "mi", DP_MINUTE },
        { "n", DP_MINUTE }, { "second", DP_SECOND }, { "ss", DP_SECOND }, { "s", DP_SECOND },
        { "millisecond", DP_MILLISECOND }, { "ms", DP_MILLISECOND }, { "microsecond", DP_MICROSECOND },
        { "mcs", DP_MICROSECOND }, { "nanosecond", DP_NANOSECOND }, { "ns", DP_NANOSECOND },
        { "iso_week", DP_ISO_WEEK }, { "isowk", DP_ISO_WEEK }, { "isoww", DP_ISO_WEEK },
    };
    if (v->is_null || v->len == 0 || v->len > 20)
        return 0;
    char buf[24];
    ex_mcpy(buf, v->bytes, v->len);
    buf[v->len] = 0;
    for (size_t i = 0; i < sizeof dps / sizeof dps[0]; i++)
        if (strcasecmp(buf, dps[i].n) == 0)
            return dps[i].id;
    return 0;
}

static int bad_datepart(ex_env *env, const sql_value *v, const char *fn)
{
    char m[200];
    snprintf(m, sizeof m, "'%.*s' is not a recognized %s option.", v->is_null ? 4 : (int)v->len,
             v->is_null ? "NULL" : (const char *)v->bytes, fn);
    return hdb_raise_text(env->err, 155, 15, 1, m);
}

/* days since 0001-01-01 and 100 ns ticks of any date/time value */
static void dparts(const sql_value *v, uint8_t id, int32_t *days, int64_t *ticks)
{
    switch (id) {
    case SQL_DATE: *days = v->u.date; *ticks = 0; return;
    case SQL_TIME: *days = VALUE_DAYS_1900; *ticks = v->u.time; return;
    case SQL_DATETIME:
        *days = v->u.dt.days + VALUE_DAYS_1900;
        *ticks = ((int64_t)v->u.dt.ticks * 100000 + 1) / 3;
        return;
    default: *days = v->u.dt2.days; *ticks = v->u.dt2.ticks; return;
    }
}

static int dmake(ex_env *env, int32_t days, int64_t ticks, const sql_type *t, sql_value *out)
{
    while (ticks < 0) {
        ticks += VALUE_TICKS_PER_DAY;
        days--;
    }
    while (ticks >= VALUE_TICKS_PER_DAY) {
        ticks -= VALUE_TICKS_PER_DAY;
        days++;
    }
    sql_value tmp = value_datetime2(days, ticks);
    sql_type t2 = value_type(SQL_DATETIME2, 0, 7, 0);
    if (days < 0 || days > VALUE_DATE_MAX)
        return hdb_raise_text(env->err, 517, 16, 1, "Adding a value to a 'datetime' column caused an overflow.");
    if (cv_convert(env, &tmp, &t2, t, -1, false, out) < 0) {
        hdb_err_clear(env->err);
        return hdb_raise_text(env->err, 517, 16, 1, "Adding a value to a 'datetime' column caused an overflow.");
    }
    return 0;
}

static int weekday_of(ex_env *env, int32_t days)
{
    int sunday0 = (int)((days % 7 + 7 + 1) % 7);     /* 0001-01-01 is a Monday */
    int df = env->s->opt.datefirst % 7;
    return (sunday0 - df + 7) % 7 + 1;
}

static int64_t dpart(ex_env *env, int dp, int32_t days, int64_t ticks)
{
    int y, m, d;
    value_ymd_from_days(days, &y, &m, &d);
    switch (dp) {
    case DP_YEAR: return y;
    case DP_QUARTER: return (m - 1) / 3 + 1;
    case DP_MONTH: return m;
    case DP_DAYOFYEAR: return days - value_days_from_ymd(y, 1, 1) + 1;
    case DP_DAY: return d;
    case DP_WEEKDAY: return weekday_of(env, days);
    case DP_WEEK: {
        int32_t jan1 = value_days_from_ymd(y, 1, 1);
        return (days - jan1 + weekday_of(env, jan1) - 1) / 7 + 1;
    }
    case DP_ISO_WEEK: {
        int wd = (int)((days % 7 + 7) % 7);          /* 0 = Monday */
        int32_t thursday = days - wd + 3;
        int ty_, tm, td;
        value_ymd_from_days(thursday, &ty_, &tm, &td);
        return (thursday - value_days_from_ymd(ty_, 1, 1)) / 7 + 1;
    }
    case DP_HOUR: return ticks / 36000000000LL;
    case DP_MINUTE: return ticks / 600000000LL % 60;
    case DP_SECOND: return ticks / 10000000 % 60;
    case DP_MILLISECOND: return ticks / 10000 % 1000;
    case DP_MICROSECOND: return ticks / 10 % 1000000;
    case DP_NANOSECOND: return ticks % 10000000 * 100;
    }
    return 0;
}

static int64_t floordiv(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

static int ev_datediff(ex_env *env, const bx *e, sql_value *out)
{
    sql_value p, a, b;
    if (ex_eval(env, e->args[0], &p) < 0 || ex_eval(env, e->args[1], &a) < 0 || ex_eval(env, e->args[2], &b) < 0)
        return -1;
    int dp = datepart_id(&p);
    if (!dp)
        return bad_datepart(env, &p, "datediff");
    if (a.is_null || b.is_null) {
        *out = value_null(e->t.id);
        return 0;
    }
    int32_t d1, d2;
    int64_t t1, t2;
    dparts(&a, e->args[1]->t.id, &d1, &t1);
    dparts(&b, e->args[2]->t.id, &d2, &t2);
    int y1, m1, dd1, y2, m2, dd2;
    value_ymd_from_days(d1, &y1, &m1, &dd1);
    value_ymd_from_days(d2, &y2, &m2, &dd2);
    __int128 r;
    __int128 abs1 = (__int128)d1 * VALUE_TICKS_PER_DAY + t1, abs2 = (__int128)d2 * VALUE_TICKS_PER_DAY + t2;
    switch (dp) {
    case DP_YEAR: r = y2 - y1; break;
    case DP_QUARTER: r = (y2 * 4 + (m2 - 1) / 3) - (y1 * 4 + (m1 - 1) / 3); break;
    case DP_MONTH: r = (y2 * 12 + m2) - (y1 * 12 + m1); break;
    case DP_DAY: case DP_DAYOFYEAR: case DP_WEEKDAY: r = d2 - d1; break;
    case DP_WEEK: case DP_ISO_WEEK:
        /* Sunday-based week boundaries, independent of DATEFIRST */
        r = floordiv(d2 + 1, 7) - floordiv(d1 + 1, 7);
        break;
    case DP_HOUR: r = (abs2 / 36000000000LL) - (abs1 / 36000000000LL); break;
    case DP_MINUTE: r = (abs2 / 600000000LL) - (abs1 / 600000000LL); break;
    case DP_SECOND: r = (abs2 / 10000000) - (abs1 / 10000000); break;
    case DP_MILLISECOND: r = (abs2 / 10000) - (abs1 / 10000); break;
    case DP_MICROSECOND: r = (abs2 / 10) - (abs1 / 10); break;
    default: r = (abs2 - abs1) * 100; break;
    }
    if (e->t.id == SQL_INT && (r > INT32_MAX || r < INT32_MIN))
        return hdb_raise_text(env->err, 535, 16, 0, "The datediff function resulted in an overflow. The number of "
                              "dateparts separating two date/time instances is too large. Try to use datediff with "
                              "a less precise datepart.");
    *out = value_int(e->t.id, (int64_t)r);
    return 0;
}

static int ev_dateadd(ex_env *env, const bx *e, sql_value *out)
{
    sql_value p, n, d;
    if (ex_eval(env, e->args[0], &p) < 0 || ex_eval(env, e->args[1], &n) < 0 || ex_eval(env, e->args[2], &d) < 0)
        return -1;
    int dp = datepart_id(&p);
    if (!dp)
        return bad_datepart(env, &p, "dateadd");
    if (n.is_null || d.is_null) {
        *out = value_null(e->t.id);
        return 0;
    }
    int32_t days;
    int64_t ticks;
    uint8_t id = e->args[2]->t.id;
    dparts(&d, id, &days, &ticks);
    int64_t k = n.u.i;
    if (id == SQL_DATE && dp >= DP_HOUR)
        return hdb_raise_text(env->err, 9810, 16, 1, "The datepart hour is not supported by date function dateadd for data type date.");
    if (id == SQL_TIME && dp <= DP_WEEKDAY) {
        char m[200];
        snprintf(m, sizeof m, "The datepart %.*s is not supported by date function dateadd for data type time.", (int)p.len, p.bytes);
        return hdb_raise_text(env->err, 9810, 16, 1, m);
    }
    switch (dp) {
    case DP_YEAR: case DP_QUARTER: case DP_MONTH: {
        int y, m, dd;
        value_ymd_from_days(days, &y, &m, &dd);
        int64_t months = (int64_t)y * 12 + (m - 1) + k * (dp == DP_YEAR ? 12 : dp == DP_QUARTER ? 3 : 1);
        int64_t ny = months / 12, nm = months % 12 + 1;
        if (ny < 1 || ny > 9999)
            return hdb_raise_text(env->err, 517, 16, 1, "Adding a value to a 'datetime' column caused an overflow.");
        static const int dm[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
        int lim = dm[nm - 1] + (nm == 2 && ((ny % 4 == 0 && ny % 100 != 0) || ny % 400 == 0));
        if (dd > lim)
            dd = lim;
        days = value_days_from_ymd((int)ny, (int)nm, dd);
        break;
    }
    case DP_DAY: case DP_DAYOFYEAR: case DP_WEEKDAY:
        if (k > 4000000 || k < -4000000)
            return hdb_raise_text(env->err, 517, 16, 1, "Adding a value to a 'datetime' column caused an overflow.");
        days += (int32_t)k;
        break;
    case DP_WEEK: case DP_ISO_WEEK:
        if (k > 600000 || k < -600000)
            return hdb_raise_text(env->err, 517, 16, 1, "Adding a value to a 'datetime' column caused an overflow.");
        days += (int32_t)(k * 7);
        break;
    default: {
        static const int64_t unit[] = { [DP_HOUR] = 36000000000LL, [DP_MINUTE] = 600000000LL,
                                        [DP_SECOND] = 10000000, [DP_MILLISECOND] = 10000,
                                        [DP_MICROSECOND] = 10, [DP_NANOSECOND] = 1 };
        __int128 t = (__int128)days * VALUE_TICKS_PER_DAY + ticks;
        if (dp == DP_NANOSECOND)
            t += k / 100;
        else
            t += (__int128)k * unit[dp];
        if (t < 0 || t > (__int128)(VALUE_DATE_MAX + 1) * VALUE_TICKS_PER_DAY)
            return hdb_raise_text(env->err, 517, 16, 1, "Adding a value to a 'datetime' column caused an overflow.");
        days = (int32_t)(t / VALUE_TICKS_PER_DAY);
        ticks = (int64_t)(t % VALUE_TICKS_PER_DAY);
        if (id == SQL_TIME)
            days = VALUE_DAYS_1900;
        break;
    }
    }
    return dmake(env, days, ticks, &e->t, out);
}

static const char *const day_names[7] = { "Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday" };
static const char *const mon_names[12] = { "January", "February", "March", "April", "May", "June", "July",
                                           "August", "September", "October", "November", "December" };

bool fn_is_date(int id)
{
    switch (id) {
    case F_GETDATE: case F_SYSDATETIME: case F_GETUTCDATE: case F_SYSUTCDATETIME: case F_CURRENT_TIMESTAMP:
    case F_DATEADD: case F_DATEDIFF: case F_DATEDIFF_BIG: case F_DATEPART: case F_DATENAME: case F_YEAR:
    case F_MONTH: case F_DAY: case F_EOMONTH: case F_DATEFROMPARTS:
        return true;
    }
    return false;
}

int fn_eval_date(ex_env *env, const bx *e, const sql_value *v, sql_value *out)
{
    switch (e->op) {
    case F_GETDATE: case F_GETUTCDATE: case F_CURRENT_TIMESTAMP: case F_SYSDATETIME: case F_SYSUTCDATETIME: {
        int64_t loc, utc;
        cv_now(&loc, &utc);
        int64_t us = (e->op == F_GETUTCDATE || e->op == F_SYSUTCDATETIME) ? utc : loc;
        int64_t days1970 = us / 86400000000LL;
        int64_t rem = us % 86400000000LL;
        int32_t days = (int32_t)(days1970 + value_days_from_ymd(1970, 1, 1));
        return dmake(env, days, rem * 10, &e->t, out);
    }
    case F_DATEADD:
        return ev_dateadd(env, e, out);
    case F_DATEDIFF: case F_DATEDIFF_BIG:
        return ev_datediff(env, e, out);
    case F_DATEPART: case F_DATENAME: {
        int dp = datepart_id(&v[0]);
        if (!dp)
            return bad_datepart(env, &v[0], e->op == F_DATEPART ? "datepart" : "datename");
        if (v[1].is_null) {
            *out = value_null(e->t.id);
            return 0;
        }
        int32_t days;
        int64_t ticks;
        dparts(&v[1], e->args[1]->t.id, &days, &ticks);
        int64_t r = dpart(env, dp, days, ticks);
        if (e->op == F_DATEPART) {
            *out = value_int(SQL_INT, r);
            return 0;
        }
        char buf[32];
        if (dp == DP_MONTH)
            snprintf(buf, sizeof buf, "%s", mon_names[r - 1]);
        else if (dp == DP_WEEKDAY)
            snprintf(buf, sizeof buf, "%s", day_names[(int)((days % 7 + 7 + 1) % 7)]);
        else
            snprintf(buf, sizeof buf, "%lld", (long long)r);
        *out = fn_nstr(env, buf);
        return 0;
    }
    case F_YEAR: case F_MONTH: case F_DAY: {
        int32_t days;
        int64_t ticks;
        dparts(&v[0], e->args[0]->t.id, &days, &ticks);
        *out = value_int(SQL_INT, dpart(env, e->op == F_YEAR ? DP_YEAR : e->op == F_MONTH ? DP_MONTH : DP_DAY, days, ticks));
        return 0;
    }
    case F_EOMONTH: {
        int32_t days;
        int64_t ticks;
        dparts(&v[0], e->args[0]->t.id, &days, &ticks);
        int y, m, d;
        value_ymd_from_days(days, &y, &m, &d);
        int64_t months = (int64_t)y * 12 + (m - 1) + (e->nargs > 1 ? v[1].u.i : 0);
        int ny = (int)(months / 12), nm = (int)(months % 12 + 1);
        if (ny < 1 || ny > 9999)
            return hdb_raise_text(env->err, 517, 16, 1, "Adding a value to a 'date' column caused an overflow.");
        int32_t next = nm == 12 ? value_days_from_ymd(ny + 1, 1, 1) : value_days_from_ymd(ny, nm + 1, 1);
        if (ny == 9999 && nm == 12)
            next = value_days_from_ymd(9999, 12, 31) + 1;
        *out = value_date(next - 1);
        return 0;
    }
    case F_DATEFROMPARTS: {
        int y = (int)v[0].u.i, m = (int)v[1].u.i, d = (int)v[2].u.i;
        static const int dm[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
        if (y < 1 || y > 9999 || m < 1 || m > 12 || d < 1 ||
            d > dm[m - 1] + (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0)))
            return hdb_raise_text(env->err, 289, 16, 1, "Cannot construct data type date, some of the arguments have values which are not valid.");
        *out = value_date(value_days_from_ymd(y, m, d));
        return 0;
    }
    }
    return hdb_raise_text(env->err, 40000, 16, 1, "internal error: date function not implemented");
}
