/*
 * expr_str.c — evaluating the string, NULL-handling and math functions
 * (LEN, SUBSTRING, REPLACE, CHARINDEX, ..., ISNULL, COALESCE, NULLIF, IIF,
 * ABS, ROUND, ...). Strings are handled in code units: bytes for varchar
 * (Latin-1), UTF-16 units for nvarchar; comparisons inside them (CHARINDEX,
 * REPLACE) follow the collation.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sql/exec_int.h"

/* ------------------------------------------------------------ evaluation helpers */

static int oom(ex_env *env)
{
    return hdb_raise_text(env->err, 701, 19, 1, "There is insufficient system memory to run this query.");
}

static inline uint16_t unit_at(const uint8_t *b, size_t i, bool uni)
{
    return uni ? (uint16_t)(b[2 * i] | b[2 * i + 1] << 8) : b[i];
}

static inline void unit_put(uint8_t *b, size_t i, uint16_t u, bool uni)
{
    if (uni) {
        b[2 * i] = (uint8_t)u;
        b[2 * i + 1] = (uint8_t)(u >> 8);
    } else {
        b[i] = (uint8_t)u;
    }
}

static inline bool unit_eq(uint16_t a, uint16_t b, bool uni, uint16_t coll)
{
    if (coll & VALUE_COLL_BIN)
        return a == b;
    return value_coll_weight(a, uni, coll) == value_coll_weight(b, uni, coll);
}

static uint16_t up1(uint16_t c)
{
    if (c >= 'a' && c <= 'z') return (uint16_t)(c - 32);
    if (c >= 0xE0 && c <= 0xFE && c != 0xF7) return (uint16_t)(c - 32);
    if (c == 0xFF) return 0x178;
    if (c >= 0x3B1 && c <= 0x3C9 && c != 0x3C2) return (uint16_t)(c - 32);
    if (c >= 0x430 && c <= 0x44F) return (uint16_t)(c - 32);
    if (c >= 0x450 && c <= 0x45F) return (uint16_t)(c - 80);
    return c;
}

static uint16_t low1(uint16_t c)
{
    if (c >= 'A' && c <= 'Z') return (uint16_t)(c + 32);
    if (c >= 0xC0 && c <= 0xDE && c != 0xD7) return (uint16_t)(c + 32);
    if (c >= 0x391 && c <= 0x3A9) return (uint16_t)(c + 32);
    if (c >= 0x410 && c <= 0x42F) return (uint16_t)(c + 32);
    if (c >= 0x400 && c <= 0x40F) return (uint16_t)(c + 80);
    return c;
}

/* A string value of e's type made of n units. */
static uint8_t *new_str(ex_env *env, const bx *e, size_t units, sql_value *out)
{
    bool uni = value_type_is_unicode(e->t.id);
    size_t bytes = uni ? units * 2 : units;
    uint8_t *p = arena_alloc(env->a, bytes ? bytes : 1);
    *out = value_bytes(e->t.id, p, (uint32_t)bytes);
    return p;
}

static void str_result(const bx *e, sql_value *v)
{
    /* cut to the declared result length (e.g. REPLACE into varchar(8000)) */
    int64_t cap = value_type_max_bytes(&e->t);
    if (cap >= 0 && v->len > cap)
        v->len = (uint32_t)cap;
    v->type = e->t.id;
}

/* Position (0-based unit) of needle in hay from `from`, or -1. */
static long find_units(const uint8_t *h, size_t hn, const uint8_t *nd, size_t nn, size_t from, bool uni,
                       uint16_t coll)
{
    if (nn == 0 || nn > hn)
        return -1;
    for (size_t i = from; i + nn <= hn; i++) {
        size_t k = 0;
        while (k < nn && unit_eq(unit_at(h, i + k, uni), unit_at(nd, k, uni), uni, coll))
            k++;
        if (k == nn)
            return (long)i;
    }
    return -1;
}

/* ------------------------------------------------------------ fn_eval */

/* ISDATE / ISNUMERIC: whether the string converts (out of line: the error
 * record it needs is large and fn_eval's frame is on the recursion path). */
__attribute__((noinline)) static int converts(ex_env *env, bool date, const sql_value *v, const sql_type *at)
{
    hdb_err tmp, *saved = env->err;
    hdb_err_clear(&tmp);
    env->err = &tmp;
    sql_value r;
    int ok;
    if (date) {
        sql_type dt = value_type(SQL_DATETIME, 0, 0, 0);
        ok = cv_convert(env, v, at, &dt, -1, false, &r) == 0;
    } else {
        sql_type ft = value_type(SQL_FLOAT, 0, 53, 0), mt = value_type(SQL_MONEY, 0, 0, 0);
        ok = (v->len > 0 && cv_convert(env, v, at, &ft, -1, false, &r) == 0) ||
             (hdb_err_clear(&tmp), v->len > 0 && cv_convert(env, v, at, &mt, -1, false, &r) == 0);
    }
    env->err = saved;
    return ok;
}

static int fn_compute(ex_env *env, const bx *e, sql_value *v, int nv, sql_value *out);
static int fn_lazy(ex_env *env, const bx *e, sql_value *out);

/* Out of line: the four argument slots are the only locals on the recursion
 * path (nested function calls), the computation's many locals are not. */
__attribute__((noinline)) static int fn_args(ex_env *env, const bx *e, sql_value *out)
{
    sql_value v[4];
    int nv = e->nargs < 4 ? e->nargs : 4;
    for (int i = 0; i < nv; i++)
        if (ex_eval(env, e->args[i], &v[i]) < 0)
            return -1;
    return fn_compute(env, e, v, nv, out);
}

int fn_eval(ex_env *env, const bx *e, sql_value *out)
{
    switch (e->op) {
    case F_ISNULL: case F_COALESCE: case F_IIF: case F_CHOOSE: case F_CONCAT: case F_CONCAT_WS:
        return fn_lazy(env, e, out);
    default:
        return fn_args(env, e, out);
    }
}

/* functions that look at their arguments one by one */
__attribute__((noinline)) static int fn_lazy(ex_env *env, const bx *e, sql_value *out)
{
    switch (e->op) {
    case F_ISNULL:
        if (ex_eval(env, e->args[0], out) < 0)
            return -1;
        if (!out->is_null)
            return 0;
        return ex_eval(env, e->args[1], out);
    case F_COALESCE:
        for (int i = 0; i < e->nargs; i++) {
            if (ex_eval(env, e->args[i], out) < 0)
                return -1;
            if (!out->is_null)
                return 0;
        }
        *out = value_null(e->t.id);
        return 0;
    case F_IIF: {
        int t;
        if (ex_truth(env, e->args[0], &t) < 0)
            return -1;
        return ex_eval(env, e->args[t == 1 ? 1 : 2], out);
    }
    case F_CHOOSE: {
        sql_value i;
        if (ex_eval(env, e->args[0], &i) < 0)
            return -1;
        if (i.is_null || i.u.i < 1 || i.u.i >= e->nargs) {   /* out of range: NULL */
            *out = value_null(e->t.id);
            return 0;
        }
        return ex_eval(env, e->args[i.u.i], out);
    }
    case F_CONCAT: case F_CONCAT_WS: {
        bool uni = value_type_is_unicode(e->t.id);
        sql_value sep = { 0 };
        int first = 0;
        if (e->op == F_CONCAT_WS) {
            if (ex_eval(env, e->args[0], &sep) < 0)
                return -1;
            first = 1;
        }
        size_t total = 0;
        sql_value *vals = arena_alloc(env->a, sizeof *vals * (size_t)e->nargs);
        if (!vals)
            return oom(env);
        int nonnull = 0;
        for (int i = first; i < e->nargs; i++) {
            if (ex_eval(env, e->args[i], &vals[i]) < 0)
                return -1;
            if (!vals[i].is_null) {
                total += vals[i].len;
                nonnull++;
            }
        }
        if (e->op == F_CONCAT_WS && !sep.is_null && nonnull > 1)
            total += (size_t)sep.len * (size_t)(nonnull - 1);
        uint8_t *p = arena_alloc(env->a, total ? total : 1);
        if (!p)
            return oom(env);
        size_t o = 0;
        int done = 0;
        for (int i = first; i < e->nargs; i++) {
            if (vals[i].is_null)
                continue;
            if (e->op == F_CONCAT_WS && done++ && !sep.is_null) {
                ex_mcpy(p + o, sep.bytes, sep.len);
                o += sep.len;
            }
            ex_mcpy(p + o, vals[i].bytes, vals[i].len);
            o += vals[i].len;
        }
        *out = value_bytes(uni ? SQL_NVARCHAR : SQL_VARCHAR, p, (uint32_t)o);
        str_result(e, out);
        return 0;
    }
    default:
        break;
    }
    return -1;
}

__attribute__((noinline)) static int fn_compute(ex_env *env, const bx *e, sql_value *v, int nv, sql_value *out)
{
    /* NULL in, NULL out for the plain scalar functions */
    switch (e->op) {
    case F_LEN: case F_DATALENGTH: case F_UPPER: case F_LOWER: case F_SUBSTRING: case F_LTRIM:
    case F_RTRIM: case F_TRIM: case F_REPLACE: case F_LEFT: case F_RIGHT: case F_REPLICATE:
    case F_REVERSE: case F_SPACE: case F_STUFF: case F_ASCII: case F_CHAR: case F_NCHAR:
    case F_UNICODE: case F_QUOTENAME: case F_STR: case F_YEAR: case F_MONTH: case F_DAY:
    case F_EOMONTH: case F_DATEFROMPARTS: case F_ABS: case F_ROUND: case F_FLOOR: case F_CEILING:
    case F_POWER: case F_SQRT: case F_SIGN: case F_EXP: case F_LOG: case F_LOG10: case F_SQUARE:
    case F_SIN: case F_COS: case F_TAN: case F_ATAN: case F_CHARINDEX: case F_PATINDEX:
        for (int i = 0; i < nv; i++) {
            if (v[i].is_null && !(e->op == F_CHARINDEX && i == 2) && !(e->op == F_ROUND && i == 2)) {
                *out = value_null(e->t.id);
                return 0;
            }
        }
        break;
    default:
        break;
    }
    if (fn_is_date(e->op))
        return fn_eval_date(env, e, v, out);
    if (fn_is_sys(e->op))
        return fn_eval_sys(env, e, v, out);
    bool uni = nv > 0 && value_type_is_unicode(e->args[0]->t.id);
    uint16_t coll = nv > 0 ? e->args[0]->t.collation_flags : 0;
    size_t n0 = nv > 0 ? (uni ? v[0].len / 2 : v[0].len) : 0;
    switch (e->op) {
    case F_LEN:
        *out = value_int(e->t.id, value_type_is_binary(e->args[0]->t.id) ? (int64_t)v[0].len :
                         (int64_t)value_str_trimmed_units(v[0].bytes, v[0].len, uni));
        return 0;
    case F_DATALENGTH: {
        if (v[0].is_null) {
            *out = value_null(e->t.id);
            return 0;
        }
        const sql_type *at = &e->args[0]->t;
        int64_t n;
        if (value_type_is_string(at->id) || value_type_is_binary(at->id))
            n = v[0].len;
        else if (at->id == SQL_DECIMAL || at->id == SQL_NUMERIC)
            n = value_decimal_width(at->precision ? at->precision : 38) + 1;
        else {
            static const int w[SQL_TYPE_COUNT] = { [SQL_TINYINT] = 1, [SQL_SMALLINT] = 2, [SQL_INT] = 4,
                [SQL_BIGINT] = 8, [SQL_BIT] = 1, [SQL_MONEY] = 8, [SQL_SMALLMONEY] = 4, [SQL_FLOAT] = 8,
                [SQL_REAL] = 4, [SQL_DATE] = 3, [SQL_TIME] = 5, [SQL_DATETIME] = 8, [SQL_DATETIME2] = 8,
                [SQL_UNIQUEIDENTIFIER] = 16 };
            n = w[at->id];
        }
        *out = value_int(e->t.id, n);
        return 0;
    }
    case F_UPPER: case F_LOWER: {
        uint8_t *p = new_str(env, e, n0, out);
        if (!p)
            return oom(env);
        for (size_t i = 0; i < n0; i++) {
            uint16_t c = unit_at(v[0].bytes, i, uni);
            c = e->op == F_UPPER ? up1(c) : low1(c);
            if (!uni && c > 0xFF)
                c = unit_at(v[0].bytes, i, uni);
            unit_put(p, i, c, uni);
        }
        return 0;
    }
    case F_LTRIM: case F_RTRIM: case F_TRIM: {
        size_t b = 0, en = n0;
        if (e->op != F_RTRIM)
            while (b < en && unit_at(v[0].bytes, b, uni) == ' ')
                b++;
        if (e->op != F_LTRIM)
            while (en > b && unit_at(v[0].bytes, en - 1, uni) == ' ')
                en--;
        *out = value_bytes(e->t.id, v[0].bytes + (uni ? 2 * b : b), (uint32_t)((en - b) * (uni ? 2 : 1)));
        return 0;
    }
    case F_REVERSE: {
        uint8_t *p = new_str(env, e, n0, out);
        if (!p)
            return oom(env);
        for (size_t i = 0; i < n0; i++)
            unit_put(p, i, unit_at(v[0].bytes, n0 - 1 - i, uni), uni);
        return 0;
    }
    case F_SUBSTRING: {
        bool bin = value_type_is_binary(e->args[0]->t.id);
        size_t n = bin ? v[0].len : n0;
        int64_t start = v[1].u.i, len = v[2].u.i;
        if (len < 0)
            return hdb_raise_text(env->err, 537, 16, 3, "Invalid length parameter passed to the LEFT or SUBSTRING function.");
        int64_t from = start - 1, to = start - 1 + len;
        if (from < 0)
            from = 0;
        if (to > (int64_t)n)
            to = (int64_t)n;
        if (to < from)
            to = from;
        size_t w = bin ? 1 : uni ? 2 : 1;
        *out = value_bytes(e->t.id, v[0].bytes + (size_t)from * w, (uint32_t)((size_t)(to - from) * w));
        return 0;
    }
    case F_LEFT: case F_RIGHT: {
        int64_t k = v[1].u.i;
        if (k < 0)
            return hdb_raise_text(env->err, e->op == F_LEFT ? 537 : 536, 16, 1, e->op == F_LEFT ?
                                  "Invalid length parameter passed to the LEFT or SUBSTRING function." :
                                  "Invalid length parameter passed to the RIGHT function.");
        bool bin = value_type_is_binary(e->args[0]->t.id);
        size_t n = bin ? v[0].len : n0, w = bin ? 1 : uni ? 2 : 1;
        size_t take = (size_t)k < n ? (size_t)k : n;
        size_t from = e->op == F_LEFT ? 0 : n - take;
        *out = value_bytes(e->t.id, v[0].bytes + from * w, (uint32_t)(take * w));
        return 0;
    }
    case F_REPLACE: {
        bool u = value_type_is_unicode(e->args[0]->t.id);
        size_t hn = u ? v[0].len / 2 : v[0].len, fn = u ? v[1].len / 2 : v[1].len, rn = u ? v[2].len / 2 : v[2].len;
        if (fn == 0) {
            *out = v[0];
            str_result(e, out);
            return 0;
        }
        size_t cap = hn + 16, o = 0, w = u ? 2 : 1;
        uint8_t *p = arena_alloc(env->a, cap * w);
        if (!p)
            return oom(env);
        size_t i = 0;
        while (i < hn) {
            long at = find_units(v[0].bytes, hn, v[1].bytes, fn, i, u, coll);
            size_t upto = at < 0 ? hn : (size_t)at;
            size_t need = o + (upto - i) + (at < 0 ? 0 : rn);
            if (need > cap) {
                size_t nc = need * 2;
                uint8_t *np = arena_alloc(env->a, nc * w);
                if (!np)
                    return oom(env);
                ex_mcpy(np, p, o * w);
                p = np;
                cap = nc;
            }
            ex_mcpy(p + o * w, v[0].bytes + i * w, (upto - i) * w);
            o += upto - i;
            if (at < 0)
                break;
            ex_mcpy(p + o * w, v[2].bytes, rn * w);
            o += rn;
            i = upto + fn;
        }
        *out = value_bytes(e->t.id, p, (uint32_t)(o * w));
        str_result(e, out);
        return 0;
    }
    case F_CHARINDEX: case F_PATINDEX: {
        if (v[0].is_null || v[1].is_null || (e->nargs > 2 && v[2].is_null)) {
            *out = value_null(e->t.id);
            return 0;
        }
        bool u1 = value_type_is_unicode(e->args[0]->t.id), u2 = value_type_is_unicode(e->args[1]->t.id);
        /* compare in a common representation */
        sql_type nt = value_type(SQL_NVARCHAR, VALUE_LEN_MAX, 0, 0);
        sql_value a = v[0], b = v[1];
        if (u1 != u2) {
            if (cv_convert(env, &v[0], &e->args[0]->t, &nt, -1, false, &a) < 0 ||
                cv_convert(env, &v[1], &e->args[1]->t, &nt, -1, false, &b) < 0)
                return -1;
            u1 = u2 = true;
        }
        size_t an = u1 ? a.len / 2 : a.len, bn = u2 ? b.len / 2 : b.len;
        if (e->op == F_PATINDEX) {
            /* PATINDEX('%pat%', s): first position where the pattern (without
             * its leading %) matches a prefix-anchored suffix; simple forms only */
            size_t ps = 0;
            while (ps < an && unit_at(a.bytes, ps, u1) == '%')
                ps++;
            size_t pe = an;
            while (pe > ps && unit_at(a.bytes, pe - 1, u1) == '%')
                pe--;
            long at = find_units(b.bytes, bn, a.bytes + ps * (u1 ? 2 : 1), pe - ps, 0, u1, coll);
            *out = value_int(e->t.id, at < 0 ? 0 : at + 1);
            return 0;
        }
        int64_t start = e->nargs > 2 ? v[2].u.i : 1;
        if (start < 1)
            start = 1;
        long at = find_units(b.bytes, bn, a.bytes, an, (size_t)(start - 1), u1, coll);
        *out = value_int(e->t.id, at < 0 ? 0 : at + 1);
        return 0;
    }
    case F_REPLICATE: {
        int64_t k = v[1].u.i;
        if (k < 0) {
            *out = value_null(e->t.id);
            return 0;
        }
        int64_t cap = value_type_max_bytes(&e->t);
        uint64_t total = (uint64_t)v[0].len * (uint64_t)k;
        if (cap >= 0 && total > (uint64_t)cap)
            total = (uint64_t)cap;
        if (total > (1u << 30))
            return oom(env);
        uint8_t *p = arena_alloc(env->a, total ? total : 1);
        if (!p)
            return oom(env);
        for (uint64_t o = 0; o < total; o += v[0].len)
            ex_mcpy(p + o, v[0].bytes, total - o < v[0].len ? total - o : v[0].len);
        *out = value_bytes(e->t.id, p, (uint32_t)total);
        return 0;
    }
    case F_SPACE: {
        int64_t k = v[0].u.i;
        if (k < 0) {
            *out = value_null(e->t.id);
            return 0;
        }
        if (k > 8000)
            k = 8000;
        uint8_t *p = arena_alloc(env->a, (size_t)k + 1);
        if (!p)
            return oom(env);
        memset(p, ' ', (size_t)k);
        *out = value_bytes(SQL_VARCHAR, p, (uint32_t)k);
        return 0;
    }
    case F_STUFF: {
        bool u = value_type_is_unicode(e->t.id);
        size_t n = u ? v[0].len / 2 : v[0].len, w = u ? 2 : 1;
        int64_t st = v[1].u.i, ln = v[2].u.i;
        if (st < 1 || st > (int64_t)n || ln < 0) {
            *out = value_null(e->t.id);
            return 0;
        }
        size_t from = (size_t)st - 1, to = from + (size_t)ln > n ? n : from + (size_t)ln;
        size_t ins = u ? v[3].len / 2 : v[3].len;
        size_t total = from + ins + (n - to);
        uint8_t *p = arena_alloc(env->a, total * w + 1);
        if (!p)
            return oom(env);
        ex_mcpy(p, v[0].bytes, from * w);
        ex_mcpy(p + from * w, v[3].bytes, ins * w);
        ex_mcpy(p + (from + ins) * w, v[0].bytes + to * w, (n - to) * w);
        *out = value_bytes(e->t.id, p, (uint32_t)(total * w));
        str_result(e, out);
        return 0;
    }
    case F_ASCII: case F_UNICODE:
        if (n0 == 0) {
            *out = value_null(SQL_INT);
            return 0;
        }
        *out = value_int(SQL_INT, unit_at(v[0].bytes, 0, uni));
        return 0;
    case F_CHAR: case F_NCHAR: {
        int64_t c = v[0].u.i;
        bool nu = e->op == F_NCHAR;
        if (c < 0 || c > (nu ? 65535 : 255)) {
            *out = value_null(e->t.id);
            return 0;
        }
        uint8_t *p = new_str(env, e, 1, out);
        if (!p)
            return oom(env);
        unit_put(p, 0, (uint16_t)c, nu);
        return 0;
    }
    case F_QUOTENAME: {
        uint16_t open = '[', close = ']';
        if (e->nargs > 1 && !v[1].is_null && v[1].len >= 2) {
            uint16_t q = unit_at(v[1].bytes, 0, true);
            if (q == '\'' || q == '"') open = close = q;
            else if (q == '(' || q == ')') { open = '('; close = ')'; }
            else if (q == '<' || q == '>') { open = '<'; close = '>'; }
            else if (q == '{' || q == '}') { open = '{'; close = '}'; }
            else if (q == '`') open = close = '`';
            else if (q != '[' && q != ']') {
                *out = value_null(e->t.id);
                return 0;
            }
        }
        size_t n = v[0].len / 2;
        if (n > 128) {
            *out = value_null(e->t.id);
            return 0;
        }
        uint8_t *p = arena_alloc(env->a, (2 * n + 2) * 2);
        if (!p)
            return oom(env);
        size_t o = 0;
        unit_put(p, o++, open, true);
        for (size_t i = 0; i < n; i++) {
            uint16_t c = unit_at(v[0].bytes, i, true);
            unit_put(p, o++, c, true);
            if (c == close)
                unit_put(p, o++, c, true);
        }
        unit_put(p, o++, close, true);
        *out = value_bytes(SQL_NVARCHAR, p, (uint32_t)(o * 2));
        return 0;
    }
    case F_STR: {
        int len = e->nargs > 1 ? (int)v[1].u.i : 10, dec = e->nargs > 2 ? (int)v[2].u.i : 0;
        if (len < 1 || len > 8000) {
            *out = value_null(e->t.id);
            return 0;
        }
        if (dec < 0) dec = 0;
        if (dec > 16) dec = 16;
        char *buf = arena_alloc(env->a, (size_t)len + 340);
        if (!buf)
            return oom(env);
        int n = snprintf(buf, (size_t)len + 340, "%*.*f", len, dec, v[0].u.f);
        if (n > len) {
            memset(buf, '*', (size_t)len);
            n = len;
        }
        *out = cv_strn(env->a, buf, (size_t)n, false);
        out->type = SQL_VARCHAR;
        return 0;
    }
    case F_NULLIF: {
        if (v[0].is_null || v[1].is_null) {
            *out = v[0];
            return 0;
        }
        sql_value a, b;
        if (cv_convert(env, &v[0], &e->args[0]->t, &e->ct, -3, false, &a) < 0 ||
            cv_convert(env, &v[1], &e->args[1]->t, &e->ct, -3, false, &b) < 0)
            return -1;
        *out = value_compare(&a, &b, &e->ct) == 0 ? value_null(e->t.id) : v[0];
        return 0;
    }
    case F_ISDATE: case F_ISNUMERIC: {
        if (v[0].is_null) {
            *out = value_int(SQL_INT, 0);
            return 0;
        }
        const sql_type *at = &e->args[0]->t;
        if (!value_type_is_string(at->id)) {
            bool ok = e->op == F_ISDATE ? (at->id == SQL_DATETIME || at->id == SQL_DATE || at->id == SQL_DATETIME2)
                                        : (at->id >= SQL_TINYINT && at->id <= SQL_REAL);
            *out = value_int(SQL_INT, ok);
            return 0;
        }
        *out = value_int(SQL_INT, converts(env, e->op == F_ISDATE, &v[0], at));
        return 0;
    }
    case F_ABS: {
        *out = v[0];
        out->type = e->t.id;
        uint8_t id = e->t.id;
        if (id == SQL_FLOAT || id == SQL_REAL) out->u.f = fabs(v[0].u.f);
        else if (id == SQL_DECIMAL || id == SQL_NUMERIC) out->u.dec = v[0].u.dec < 0 ? -v[0].u.dec : v[0].u.dec;
        else {
            if (v[0].u.i == INT64_MIN || (id == SQL_INT && v[0].u.i == INT32_MIN))
                return cv_overflow(env->err, &e->t);
            out->u.i = v[0].u.i < 0 ? -v[0].u.i : v[0].u.i;
        }
        return 0;
    }
    case F_SIGN: {
        *out = v[0];
        out->type = e->t.id;
        uint8_t id = e->t.id;
        if (id == SQL_FLOAT || id == SQL_REAL) out->u.f = v[0].u.f > 0 ? 1 : v[0].u.f < 0 ? -1 : 0;
        else if (id == SQL_DECIMAL || id == SQL_NUMERIC) {
            int sg = v[0].u.dec > 0 ? 1 : v[0].u.dec < 0 ? -1 : 0;
            out->u.dec = sg * cv_pow10(e->t.scale);
        } else if (id == SQL_MONEY || id == SQL_SMALLMONEY) out->u.i = v[0].u.i > 0 ? 10000 : v[0].u.i < 0 ? -10000 : 0;
        else out->u.i = v[0].u.i > 0 ? 1 : v[0].u.i < 0 ? -1 : 0;
        return 0;
    }
    case F_FLOOR: case F_CEILING: case F_ROUND: {
        uint8_t id = e->t.id;
        const sql_type *at = &e->args[0]->t;
        bool up = e->op == F_CEILING;
        *out = value_null(id);
        out->is_null = 0;
        if (id == SQL_FLOAT || id == SQL_REAL) {
            if (e->op == F_ROUND) {
                double m = pow(10.0, (double)v[1].u.i);
                bool trunc_ = e->nargs > 2 && !v[2].is_null && v[2].u.i != 0;
                out->u.f = trunc_ ? trunc(v[0].u.f * m) / m : round(v[0].u.f * m) / m;
            } else {
                out->u.f = up ? ceil(v[0].u.f) : floor(v[0].u.f);
            }
            return 0;
        }
        /* exact types: work on a scaled integer */
        __int128 x;
        int sc;
        if (id == SQL_DECIMAL || id == SQL_NUMERIC) { x = v[0].u.dec; sc = at->scale; }
        else if (id == SQL_MONEY || id == SQL_SMALLMONEY) { x = v[0].u.i; sc = 4; }
        else { x = v[0].u.i; sc = 0; }
        __int128 r;
        if (e->op == F_ROUND) {
            int64_t nd = v[1].u.i;
            bool trunc_ = e->nargs > 2 && !v[2].is_null && v[2].u.i != 0;
            int drop = sc - (int)nd;          /* digits to clear */
            if (drop <= 0) {
                r = x;
            } else if (drop > 38) {
                r = 0;
            } else {
                __int128 d = cv_pow10(drop), q = x / d, rem = x % d;
                if (!trunc_) {
                    if (rem < 0) rem = -rem;
                    if (rem * 2 >= d) q += x < 0 ? -1 : 1;
                }
                r = q * d;
            }
            int p = e->t.precision ? e->t.precision : 38;
            if ((id == SQL_DECIMAL || id == SQL_NUMERIC) && (r >= cv_pow10(p) || r <= -cv_pow10(p)))
                return cv_overflow(env->err, &e->t);
            if (id == SQL_DECIMAL || id == SQL_NUMERIC) out->u.dec = r;
            else {
                if (r > INT64_MAX || r < INT64_MIN || (id == SQL_INT && (r > INT32_MAX || r < INT32_MIN)))
                    return cv_overflow(env->err, &e->t);
                out->u.i = (int64_t)r;
            }
            return 0;
        }
        __int128 d = cv_pow10(sc), q = x / d, rem = x % d;
        if (rem != 0 && ((x > 0) == up))
            q += up ? 1 : -1;
        if (id == SQL_DECIMAL || id == SQL_NUMERIC) out->u.dec = q;      /* result scale 0 */
        else if (id == SQL_MONEY || id == SQL_SMALLMONEY) out->u.i = (int64_t)(q * 10000);
        else out->u.i = (int64_t)q;
        return 0;
    }
    case F_POWER: {
        double r = pow(v[0].u.f, v[1].u.f);
        if (!isfinite(r))
            return cv_overflow(env->err, &e->t);
        sql_value fv = value_float(SQL_FLOAT, r);
        sql_type ft = value_type(SQL_FLOAT, 0, 53, 0);
        if (e->t.id >= SQL_TINYINT && e->t.id <= SQL_BIGINT)
            fv.u.f = trunc(r);
        return cv_convert(env, &fv, &ft, &e->t, -1, false, out);
    }
    case F_SQRT: case F_EXP: case F_LOG: case F_LOG10: case F_SQUARE: case F_SIN: case F_COS: case F_TAN: case F_ATAN: {
        double x = v[0].u.f, r;
        switch (e->op) {
        case F_SQRT: r = sqrt(x); break;
        case F_EXP: r = exp(x); break;
        case F_LOG: r = e->nargs > 1 ? log(x) / log(v[1].u.f) : log(x); break;
        case F_LOG10: r = log10(x); break;
        case F_SQUARE: r = x * x; break;
        case F_SIN: r = sin(x); break;
        case F_COS: r = cos(x); break;
        case F_TAN: r = tan(x); break;
        default: r = atan(x); break;
        }
        if (!isfinite(r))
            return hdb_raise_text(env->err, 3623, 16, 1, "An invalid floating point operation occurred.");
        *out = value_float(SQL_FLOAT, r);
        return 0;
    }
    case F_RAND:
        if (e->nargs && !v[0].is_null)
            srand48((long)v[0].u.i);
        *out = value_float(SQL_FLOAT, drand48());
        return 0;
    case F_PI:
        *out = value_float(SQL_FLOAT, M_PI);
        return 0;
    case F_NEWID: {
        uint8_t g[16];
        fn_new_guid(g);
        *out = value_guid(g);
        return 0;
    }
    }
    return hdb_raise_text(env->err, 40000, 16, 1, "internal error: function not implemented");
}

