/*
 * expr.c — evaluating bound expressions (expr_bind.c) with SQL Server's
 * semantics: three-valued logic, NULL propagation, integer/decimal/money/
 * float arithmetic with overflow (8115) and divide-by-zero (8134) errors,
 * LIKE with collation-aware matching, IN / EXISTS / ANY / ALL / scalar
 * subqueries (uncorrelated ones computed once per statement), CASE, CAST.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sql/exec_int.h"

/* ------------------------------------------------------------ evaluation */

static int ev_fail(ex_env *env, int number, int severity, int state, const char *msg)
{
    return hdb_raise_text(env->err, number, severity, state, msg);
}

static int div_zero(ex_env *env)
{
    return ev_fail(env, 8134, 16, 1, "Divide by zero error encountered.");
}

int ex_compare(ex_env *env, const sql_value *a, const sql_value *b, const sql_type *t, int *cmp)
{
    (void)env;
    *cmp = value_compare(a, b, t);
    return 0;
}

static int int_range_ok(__int128 r, uint8_t id)
{
    switch (id) {
    case SQL_TINYINT: return r >= 0 && r <= 255;
    case SQL_SMALLINT: return r >= INT16_MIN && r <= INT16_MAX;
    case SQL_INT: case SQL_SMALLMONEY: return r >= INT32_MIN && r <= INT32_MAX;
    default: return r >= INT64_MIN && r <= INT64_MAX;
    }
}

static int arith(ex_env *env, const bx *e, sql_value a, sql_value b, sql_value *out);

/* Operands here, the arithmetic out of line (its many locals stay off the
 * recursion path). */
__attribute__((noinline)) static int ev_arith(ex_env *env, const bx *e, sql_value *out)
{
    sql_value a, b;
    if (ex_eval(env, e->args[0], &a) < 0 || ex_eval(env, e->args[1], &b) < 0)
        return -1;
    if (a.is_null || b.is_null) {
        *out = value_null(e->t.id);
        return 0;
    }
    return arith(env, e, a, b, out);
}

__attribute__((noinline)) static int arith(ex_env *env, const bx *e, sql_value a, sql_value b, sql_value *out)
{
    int op = e->op;
    uint8_t id = e->t.id;
    *out = value_null(id);
    out->is_null = 0;
    if (id == SQL_DATETIME) {
        /* datetime +/- number of days, or datetime - datetime */
        double x = e->args[0]->t.id == SQL_DATETIME ? a.u.dt.days + (double)a.u.dt.ticks / VALUE_DT_TICKS_PER_DAY : a.u.f;
        double y = e->args[1]->t.id == SQL_DATETIME ? b.u.dt.days + (double)b.u.dt.ticks / VALUE_DT_TICKS_PER_DAY : b.u.f;
        double r = op == AST_OP_ADD ? x + y : x - y;
        double days = floor(r);
        int64_t t300 = llround((r - days) * VALUE_DT_TICKS_PER_DAY);
        if (t300 >= VALUE_DT_TICKS_PER_DAY) {
            t300 -= VALUE_DT_TICKS_PER_DAY;
            days += 1;
        }
        if (days < VALUE_DATETIME_MIN_DAYS || days > VALUE_DATETIME_MAX_DAYS)
            return ev_fail(env, 517, 16, 1, "Adding a value to a 'datetime' column caused an overflow.");
        *out = value_datetime((int32_t)days, (uint32_t)t300);
        return 0;
    }
    if (id == SQL_FLOAT || id == SQL_REAL) {
        double r;
        switch (op) {
        case AST_OP_ADD: r = a.u.f + b.u.f; break;
        case AST_OP_SUB: r = a.u.f - b.u.f; break;
        case AST_OP_MUL: r = a.u.f * b.u.f; break;
        default:
            if (b.u.f == 0)
                return div_zero(env);
            r = a.u.f / b.u.f;
            break;
        }
        if (id == SQL_REAL)
            r = (double)(float)r;
        if (!isfinite(r))
            return cv_overflow(env->err, &e->t);
        out->u.f = r;
        return 0;
    }
    if (ty_dec(id)) {
        int s1 = e->args[0]->t.scale, s2 = e->args[1]->t.scale, rs = e->t.scale;
        int p = e->t.precision ? e->t.precision : 38;
        __int128 x = a.u.dec, y = b.u.dec, r;
        bool ovf = false;
        switch (op) {
        case AST_OP_ADD: case AST_OP_SUB: case AST_OP_MOD: {
            int ms = s1 > s2 ? s1 : s2;
            if (cv_dec_rescale(x, s1, ms, &x) < 0 || cv_dec_rescale(y, s2, ms, &y) < 0) {
                ovf = true;
                break;
            }
            if (op == AST_OP_MOD) {
                if (y == 0)
                    return div_zero(env);
                r = x % y;
            } else {
                r = op == AST_OP_ADD ? x + y : x - y;
            }
            if (cv_dec_rescale(r, ms, rs, &r) < 0)
                ovf = true;
            break;
        }
        case AST_OP_MUL:
            if (__builtin_mul_overflow(x, y, &r)) {
                long double lr = (long double)x * (long double)y / (long double)cv_pow10(s1 + s2 - rs);
                if (fabsl(lr) >= 1e38L)
                    ovf = true;
                else
                    r = (__int128)roundl(lr);
            } else if (cv_dec_rescale(r, s1 + s2, rs, &r) < 0) {
                ovf = true;
            }
            break;
        default: {   /* DIV: x * 10^(rs + s2 - s1) / y, rounded */
            if (y == 0)
                return div_zero(env);
            int k = rs + s2 - s1;
            __int128 num;
            if (k >= 0 && !__builtin_mul_overflow(x, cv_pow10(k), &num)) {
                /* SQL Server truncates the quotient at the result scale */
                r = num / y;
            } else {
                long double lr = (long double)x / (long double)y * powl(10.0L, k);
                if (fabsl(lr) >= 1e38L)
                    ovf = true;
                else
                    r = (__int128)truncl(lr);
            }
            break;
        }
        }
        if (!ovf) {
            __int128 lim = cv_pow10(p);
            if (r >= lim || r <= -lim)
                ovf = true;
        }
        if (ovf)
            return ev_fail(env, 8115, 16, 1, "Arithmetic overflow error converting expression to data type numeric.");
        out->u.dec = r;
        return 0;
    }
    /* integers, money, bit */
    __int128 x = a.u.i, y = b.u.i, r;
    bool money = id == SQL_MONEY || id == SQL_SMALLMONEY;
    switch (op) {
    case AST_OP_ADD: r = x + y; break;
    case AST_OP_SUB: r = x - y; break;
    case AST_OP_MUL:
        r = x * y;
        if (money) {
            __int128 q = r / 10000, rem = r % 10000;
            if (rem >= 5000) q++;
            else if (rem <= -5000) q--;
            r = q;
        }
        break;
    case AST_OP_DIV:
        if (y == 0)
            return div_zero(env);
        r = money ? x * 10000 / y : x / y;
        break;
    case AST_OP_MOD:
        if (y == 0)
            return div_zero(env);
        r = x % y;
        break;
    case AST_OP_BITAND: r = x & y; break;
    case AST_OP_BITOR: r = x | y; break;
    default: r = x ^ y; break;
    }
    if (id == SQL_BIT)
        r &= 1;
    if (!int_range_ok(r, id))
        return cv_overflow(env->err, &e->t);
    out->u.i = (int64_t)r;
    return 0;
}

__attribute__((noinline)) static int ev_concat(ex_env *env, const bx *e, sql_value *out)
{
    sql_value a, b;
    if (ex_eval(env, e->args[0], &a) < 0 || ex_eval(env, e->args[1], &b) < 0)
        return -1;
    if (a.is_null || b.is_null) {
        if (env->s->opt.concat_null || (a.is_null && b.is_null)) {
            *out = value_null(e->t.id);
            return 0;
        }
    }
    uint32_t la = a.is_null ? 0 : a.len, lb = b.is_null ? 0 : b.len;
    int64_t cap = value_type_max_bytes(&e->t);
    uint64_t n = (uint64_t)la + lb;
    if (cap >= 0 && n > (uint64_t)cap)
        n = (uint64_t)cap;
    uint8_t *p = arena_alloc(env->a, n ? n : 1);
    if (!p)
        return ev_fail(env, 701, 19, 1, "There is insufficient system memory to run this query.");
    uint32_t ca = la < n ? la : (uint32_t)n;
    ex_mcpy(p, a.bytes, ca);
    if (n > ca)
        ex_mcpy(p + ca, b.bytes, n - ca);
    *out = value_bytes(e->t.id, p, (uint32_t)n);
    return 0;
}

/* ---- LIKE ---- */

typedef struct lstr { const uint8_t *b; size_t n; bool uni; uint16_t coll; } lstr;

static inline uint16_t lunit(const lstr *s, size_t i)
{
    return s->uni ? (uint16_t)(s->b[2 * i] | s->b[2 * i + 1] << 8) : s->b[i];
}

static inline bool leq(const lstr *s, uint16_t a, uint16_t b)
{
    if (s->coll & VALUE_COLL_BIN)
        return a == b;
    return value_coll_weight(a, s->uni, s->coll) == value_coll_weight(b, s->uni, s->coll);
}

static inline int lcmp(const lstr *s, uint16_t a, uint16_t b)
{
    if (s->coll & VALUE_COLL_BIN)
        return (int)a - (int)b;
    return (int)value_coll_weight(a, s->uni, s->coll) - (int)value_coll_weight(b, s->uni, s->coll);
}

/* Match text[ti..] against pat[pi..]; escape -1 if none. Iterative on '%'
 * with backtracking to the last '%' (linear in practice). */
static bool like_match(const lstr *t, const lstr *p, int esc)
{
    size_t ti = 0, pi = 0, star_p = (size_t)-1, star_t = 0;
    while (ti < t->n) {
        if (pi < p->n) {
            uint16_t pc = lunit(p, pi);
            if (esc >= 0 && pc == (uint16_t)esc && pi + 1 < p->n) {
                if (leq(t, lunit(t, ti), lunit(p, pi + 1))) {
                    ti++;
                    pi += 2;
                    continue;
                }
            } else if (pc == '%') {
                star_p = pi++;
                star_t = ti;
                continue;
            } else if (pc == '_') {
                ti++;
                pi++;
                continue;
            } else if (pc == '[') {
                size_t k = pi + 1;
                bool neg = false, hit = false;
                if (k < p->n && lunit(p, k) == '^') {
                    neg = true;
                    k++;
                }
                size_t start = k;
                while (k < p->n && (lunit(p, k) != ']' || k == start)) {
                    uint16_t lo = lunit(p, k);
                    if (k + 2 < p->n && lunit(p, k + 1) == '-' && lunit(p, k + 2) != ']') {
                        uint16_t hi = lunit(p, k + 2);
                        uint16_t c = lunit(t, ti);
                        if (lcmp(t, c, lo) >= 0 && lcmp(t, c, hi) <= 0)
                            hit = true;
                        k += 3;
                    } else {
                        if (leq(t, lunit(t, ti), lo))
                            hit = true;
                        k++;
                    }
                }
                if (k < p->n) {
                    if (hit != neg) {
                        ti++;
                        pi = k + 1;
                        continue;
                    }
                } else if (leq(t, lunit(t, ti), '[')) {   /* unclosed: literal [ */
                    ti++;
                    pi++;
                    continue;
                }
            } else if (leq(t, lunit(t, ti), pc)) {
                ti++;
                pi++;
                continue;
            }
        }
        if (star_p == (size_t)-1)
            return false;
        pi = star_p + 1;
        ti = ++star_t;
    }
    while (pi < p->n && lunit(p, pi) == '%')
        pi++;
    return pi == p->n;
}

__attribute__((noinline)) static int ev_like(ex_env *env, const bx *e, int *truth)
{
    sql_value a, p, es;
    if (ex_eval(env, e->args[0], &a) < 0 || ex_eval(env, e->args[1], &p) < 0)
        return -1;
    int esc = -1;
    if (e->nargs > 2) {
        if (ex_eval(env, e->args[2], &es) < 0)
            return -1;
        if (!es.is_null) {
            bool uni = value_type_is_unicode(e->ct.id);
            size_t n = uni ? es.len / 2 : es.len;
            if (n != 1)
                return ev_fail(env, 506, 16, 1, "The invalid escape character \"\" was specified in a LIKE predicate.");
            esc = uni ? (es.bytes[0] | es.bytes[1] << 8) : es.bytes[0];
        }
    }
    if (a.is_null || p.is_null) {
        *truth = -1;
        return 0;
    }
    bool uni = value_type_is_unicode(e->ct.id);
    lstr ts = { a.bytes, uni ? a.len / 2 : a.len, uni, e->ct.collation_flags };
    lstr ps = { p.bytes, uni ? p.len / 2 : p.len, uni, e->ct.collation_flags };
    bool m = like_match(&ts, &ps, esc);
    if (!m) {
        /* trailing spaces of the value do not prevent a match when the
         * pattern does not end with one (char padding) */
        size_t n = ts.n;
        while (n > 0 && lunit(&ts, n - 1) == ' ')
            n--;
        if (n != ts.n && (ps.n == 0 || lunit(&ps, ps.n - 1) != ' ')) {
            ts.n = n;
            m = like_match(&ts, &ps, esc);
        }
    }
    *truth = m ? 1 : 0;
    return 0;
}

/* ---- subqueries ---- */

typedef struct sub_collect {
    ex_env    *env;
    sql_value *vals;
    int        n, cap;
    int        limit;        /* stop after this many rows (0 = all) */
} sub_collect;

static int sub_emit(void *ctx, sql_value *row, int ncols)
{
    sub_collect *c = ctx;
    (void)ncols;
    if (c->n == c->cap) {
        int nc = c->cap ? c->cap * 2 : 8;
        sql_value *nv = arena_alloc(&c->env->s->stmt_arena, sizeof *nv * (size_t)nc);
        if (!nv)
            return -1;
        if (c->n)
            ex_mcpy(nv, c->vals, sizeof *nv * (size_t)c->n);
        c->vals = nv;
        c->cap = nc;
    }
    if (ncols > 0) {
        if (cv_copy(&c->env->s->stmt_arena, &row[0], &c->vals[c->n]) < 0)
            return -1;
    } else {
        c->vals[c->n] = value_null(SQL_INT);
    }
    c->n++;
    return c->limit && c->n >= c->limit ? 1 : 0;
}

/* Rows of a subquery's single column; uncorrelated ones are computed once. */
static int sub_rows(ex_env *env, const bx *e, int limit, sql_value **vals, int *n)
{
    if (e->cache) {
        *vals = e->cache;
        *n = e->ncache;
        return 0;
    }
    sub_collect c = { .env = env, .limit = limit };
    if (q_run(env, e->u.subq.plan, sub_emit, &c) < 0)
        return -1;
    *vals = c.vals;
    *n = c.n;
    if (!e->u.subq.plan->correlated) {
        bx *m = (bx *)e;
        m->cache = c.vals ? (void *)c.vals : (void *)m;
        m->ncache = c.n;
        if (!c.vals)
            *vals = NULL;
    }
    return 0;
}

__attribute__((noinline)) static int ev_in(ex_env *env, const bx *e, int *truth)
{
    sql_value x;
    if (ex_eval(env, e->args[0], &x) < 0)
        return -1;
    bool unknown = x.is_null;
    bool found = false;
    if (e->u.subq.plan && e->nargs == 1) {
        sql_value *vals;
        int n;
        if (sub_rows(env, e, 0, &vals, &n) < 0)
            return -1;
        if (n == 0) {
            *truth = e->negated ? 1 : 0;
            return 0;
        }
        const sql_type *st = &e->u.subq.plan->cols[0].type;
        for (int i = 0; i < n && !found && !x.is_null; i++) {
            sql_value v;
            if (vals[i].is_null) {
                unknown = true;
                continue;
            }
            if (cv_convert(env, &vals[i], st, &e->ct, -3, false, &v) < 0)
                return -1;
            if (value_compare(&x, &v, &e->ct) == 0)
                found = true;
        }
    } else {
        for (int i = 1; i < e->nargs && !found; i++) {
            sql_value v;
            if (ex_eval(env, e->args[i], &v) < 0)
                return -1;
            if (v.is_null || x.is_null) {
                unknown = true;
                continue;
            }
            if (value_compare(&x, &v, &e->ct) == 0)
                found = true;
        }
    }
    int t = found ? 1 : unknown ? -1 : 0;
    if (e->negated && t >= 0)
        t = !t;
    *truth = t;
    return 0;
}

__attribute__((noinline)) static int ev_quant(ex_env *env, const bx *e, int *truth)
{
    sql_value x;
    if (ex_eval(env, e->args[0], &x) < 0)
        return -1;
    sql_value *vals;
    int n;
    if (sub_rows(env, e, 0, &vals, &n) < 0)
        return -1;
    bool all = e->u.subq.all;
    int res = all ? 1 : 0;
    const sql_type *st = &e->u.subq.plan->cols[0].type;
    for (int i = 0; i < n; i++) {
        int t;
        if (x.is_null || vals[i].is_null) {
            t = -1;
        } else {
            sql_value v;
            if (cv_convert(env, &vals[i], st, &e->ct, -3, false, &v) < 0)
                return -1;
            int c = value_compare(&x, &v, &e->ct);
            switch (e->op) {
            case AST_OP_EQ: t = c == 0; break;
            case AST_OP_NE: t = c != 0; break;
            case AST_OP_LT: t = c < 0; break;
            case AST_OP_LE: t = c <= 0; break;
            case AST_OP_GT: t = c > 0; break;
            default: t = c >= 0; break;
            }
        }
        if (all) {
            if (t == 0) { res = 0; break; }
            if (t < 0) res = -1;
        } else {
            if (t == 1) { res = 1; break; }
            if (t < 0) res = -1;
        }
    }
    *truth = res;
    return 0;
}

/* The recursive entry points (ex_truth, ex_eval) keep no addressable
 * locals: every case with some lives in its own out-of-line helper, so one
 * level of nesting costs little stack (server threads have 256 KiB). */
#define NOINLINE __attribute__((noinline))

NOINLINE static int truth_andor(ex_env *env, const bx *e, int *truth)
{
    /* n-ary: FALSE (AND) / TRUE (OR) decides, else UNKNOWN if any is */
    bool and_ = e->kind == BX_AND;
    bool unknown = false;
    for (int i = 0; i < e->nargs; i++) {
        int t;
        if (ex_truth(env, e->args[i], &t) < 0)
            return -1;
        if (t == (and_ ? 0 : 1)) {
            *truth = t;
            return 0;
        }
        if (t < 0)
            unknown = true;
    }
    *truth = unknown ? -1 : and_ ? 1 : 0;
    return 0;
}

NOINLINE static int truth_not(ex_env *env, const bx *e, int *truth)
{
    int a;
    if (ex_truth(env, e->args[0], &a) < 0)
        return -1;
    *truth = a < 0 ? -1 : !a;
    return 0;
}

NOINLINE static int truth_cmp(ex_env *env, const bx *e, int *truth)
{
    sql_value a, b;
    if (ex_eval(env, e->args[0], &a) < 0 || ex_eval(env, e->args[1], &b) < 0)
        return -1;
    if (a.is_null || b.is_null) {
        if (!env->s->opt.ansi_nulls && (e->op == AST_OP_EQ || e->op == AST_OP_NE) &&
            (e->args[0]->null_lit || e->args[1]->null_lit || e->args[0]->kind == BX_VAR ||
             e->args[1]->kind == BX_VAR)) {
            bool eq = a.is_null && b.is_null;
            *truth = e->op == AST_OP_EQ ? eq : !eq;
            return 0;
        }
        *truth = -1;
        return 0;
    }
    int c = value_compare(&a, &b, &e->ct);
    switch (e->op) {
    case AST_OP_EQ: *truth = c == 0; break;
    case AST_OP_NE: *truth = c != 0; break;
    case AST_OP_LT: *truth = c < 0; break;
    case AST_OP_LE: *truth = c <= 0; break;
    case AST_OP_GT: *truth = c > 0; break;
    default: *truth = c >= 0; break;
    }
    return 0;
}

NOINLINE static int truth_other(ex_env *env, const bx *e, int *truth)
{
    switch (e->kind) {
    case BX_ISNULL: {
        sql_value a;
        if (ex_eval(env, e->args[0], &a) < 0)
            return -1;
        *truth = e->negated ? !a.is_null : a.is_null;
        return 0;
    }
    case BX_LIKE: {
        int t = -1;
        if (ev_like(env, e, &t) < 0)
            return -1;
        *truth = (e->negated && t >= 0) ? !t : t;
        return 0;
    }
    case BX_EXISTS: {
        sql_value *vals;
        int n;
        if (sub_rows(env, e, 1, &vals, &n) < 0)
            return -1;
        *truth = n > 0;
        return 0;
    }
    default: {
        sql_value v;
        if (ex_eval(env, e, &v) < 0)
            return -1;
        *truth = v.is_null ? -1 : v.u.i != 0;
        return 0;
    }
    }
}

int ex_truth(ex_env *env, const bx *e, int *truth)
{
    switch (e->kind) {
    case BX_AND: case BX_OR:
        return truth_andor(env, e, truth);
    case BX_NOT:
        return truth_not(env, e, truth);
    case BX_CMP:
        return truth_cmp(env, e, truth);
    case BX_IN:
        return ev_in(env, e, truth);
    case BX_QUANT:
        return ev_quant(env, e, truth);
    default:
        return truth_other(env, e, truth);
    }
}

NOINLINE static int ev_case(ex_env *env, const bx *e, sql_value *out)
{
    bool simple = e->ct.id != SQL_TYPE_NONE;
    int k = 0;
    sql_value op;
    if (simple) {
        if (ex_eval(env, e->args[0], &op) < 0)
            return -1;
        k = 1;
    }
    for (; k + 1 < e->nargs; k += 2) {
        bool hit;
        if (simple) {
            sql_value w;
            if (ex_eval(env, e->args[k], &w) < 0)
                return -1;
            hit = !op.is_null && !w.is_null && value_compare(&op, &w, &e->ct) == 0;
        } else {
            int t;
            if (ex_truth(env, e->args[k], &t) < 0)
                return -1;
            hit = t == 1;
        }
        if (hit)
            return ex_eval(env, e->args[k + 1], out);
    }
    return ex_eval(env, e->args[e->nargs - 1], out);
}

/* TRY_CAST / TRY_CONVERT: a failed conversion is NULL. Out of line: its
 * error record is large and ex_eval's frame is on the recursion path. */
__attribute__((noinline)) static int try_convert(ex_env *env, const bx *e, const sql_value *a, sql_value *out)
{
    hdb_err *saved = env->err, tmp;
    hdb_err_clear(&tmp);
    env->err = &tmp;
    int rc = cv_convert(env, a, &e->args[0]->t, &e->t, e->u.style, false, out);
    env->err = saved;
    if (rc < 0)
        *out = value_null(e->t.id);
    return 0;
}

NOINLINE static int eval_pred(ex_env *env, const bx *e, sql_value *out)
{
    int t;
    if (ex_truth(env, e, &t) < 0)
        return -1;
    *out = t < 0 ? value_null(SQL_BIT) : value_int(SQL_BIT, t);
    return 0;
}

NOINLINE static int eval_unary(ex_env *env, const bx *e, sql_value *out)
{
    sql_value a;
    if (ex_eval(env, e->args[0], &a) < 0)
        return -1;
    *out = a;
    out->type = e->t.id;
    if (a.is_null)
        return 0;
    if (e->op == AST_OP_BITNOT) {
        int64_t r = ~a.u.i;
        if (e->t.id == SQL_TINYINT) r &= 0xFF;
        if (e->t.id == SQL_BIT) r &= 1;
        out->u.i = r;
        return 0;
    }
    if (ty_dec(e->t.id))
        out->u.dec = -a.u.dec;
    else if (e->t.id == SQL_FLOAT || e->t.id == SQL_REAL)
        out->u.f = -a.u.f;
    else {
        if (!int_range_ok(-(__int128)a.u.i, e->t.id))
            return cv_overflow(env->err, &e->t);
        out->u.i = -a.u.i;
    }
    return 0;
}

NOINLINE static int eval_subq(ex_env *env, const bx *e, sql_value *out)
{
    sql_value *vals;
    int n;
    if (sub_rows(env, e, 2, &vals, &n) < 0)
        return -1;
    if (n > 1)
        return ev_fail(env, 512, 16, 1, "Subquery returned more than 1 value. This is not permitted when "
                       "the subquery follows =, !=, <, <= , >, >= or when the subquery is used as an expression.");
    *out = n ? vals[0] : value_null(e->t.id);
    out->type = e->t.id;
    return 0;
}

NOINLINE static int eval_cast(ex_env *env, const bx *e, sql_value *out)
{
    sql_value a;
    if (ex_eval(env, e->args[0], &a) < 0)
        return -1;
    if (e->is_try)
        return try_convert(env, e, &a, out);
    return cv_convert(env, &a, &e->args[0]->t, &e->t, e->u.style, false, out);
}

int ex_eval(ex_env *env, const bx *e, sql_value *out)
{
    if (e->pred)
        return eval_pred(env, e, out);
    switch (e->kind) {
    case BX_CONST:
        *out = e->u.k;
        return 0;
    case BX_COL: {
        ex_env *en = env;
        for (int d = 0; d < e->u.col.depth && en; d++)
            en = en->outer;
        if (!en || !en->rows || !en->rows[e->u.col.src]) {
            *out = value_null(e->t.id);
            return 0;
        }
        *out = en->rows[e->u.col.src][e->u.col.col];
        out->type = e->t.id;
        return 0;
    }
    case BX_VAR:
        *out = env->s->vars[e->u.var].v;
        return 0;
    case BX_SYSVAR:
        return sv_eval(env, e->u.sysvar, out);
    case BX_UNARY:
        return eval_unary(env, e, out);
    case BX_ARITH:
        return ev_arith(env, e, out);
    case BX_CONCAT:
        return ev_concat(env, e, out);
    case BX_SUBQ:
        return eval_subq(env, e, out);
    case BX_CASE:
        return ev_case(env, e, out);
    case BX_CAST:
        return eval_cast(env, e, out);
    case BX_FUNC:
        return fn_eval(env, e, out);
    case BX_AGG:
        if (!env->aggs) {
            *out = value_null(e->t.id);
            return 0;
        }
        *out = env->aggs[e->u.agg];
        return 0;
    case BX_DEFAULT:
        *out = value_null(SQL_INT);
        return 0;
    case BX_WIN:
        *out = env->wins ? env->wins[e->u.agg] : value_null(e->t.id);
        out->type = e->t.id;
        return 0;
    }
    return ev_fail(env, 40000, 16, 1, "internal error: unknown expression kind");
}
