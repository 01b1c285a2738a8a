/*
 * expr_bind.c — binding expressions: names to columns/variables, result
 * types per SQL Server's precedence and decimal rules, implicit conversions
 * made explicit as cast nodes, aggregates registered with their query.
 * Evaluation is expr.c.
 *
 * Binding happens once per statement execution into the statement arena, so
 * evaluation never looks at names: a column is (query level, source, column),
 * a variable an index, and every operator finds its operands already
 * converted to the type it computes in.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sql/exec_int.h"

/* ------------------------------------------------------------ helpers */

static bx *new_bx(sql_session *s, int kind, int line, int nargs)
{
    bx *e = arena_calloc(&s->stmt_arena, sizeof *e);
    if (!e)
        return NULL;
    e->kind = (uint8_t)kind;
    e->line = line;
    e->nargs = nargs;
    if (nargs) {
        e->args = arena_calloc(&s->stmt_arena, sizeof(bx *) * (size_t)nargs);
        if (!e->args)
            return NULL;
    }
    e->nullable = true;
    return e;
}

static bx *oom(sql_session *s)
{
    hdb_raise_text(&s->err, 701, 19, 1, "There is insufficient system memory to run this query.");
    return NULL;
}

static bx *bind_fail(sql_session *s, int line, int number, int severity, int state, const char *msg)
{
    hdb_raise_text(&s->err, number, severity, state, msg);
    s->err_line = line;
    return NULL;
}

/* Formatted binding error; kept out of line so the recursive binder's frame
 * stays small (server threads have 256 KiB stacks). */
__attribute__((noinline, format(printf, 6, 7)))
static bx *bind_failf(sql_session *s, int line, int number, int severity, int state, const char *fmt, ...)
{
    char m[600];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(m, sizeof m, fmt, ap);
    va_end(ap);
    return bind_fail(s, line, number, severity, state, m);
}

/* The result type of an aggregate over an argument of type `at` (NULL for
 * COUNT(*)): SUM/AVG widen small integers to int, real to float, decimals to
 * precision 38 (AVG keeps at least 6 decimals), smallmoney to money. */
static int agg_type(sql_session *s, int fn, const sql_type *at, int line, sql_type *out)
{
    switch (fn) {
    case AGG_COUNT_STAR: case AGG_COUNT:
        *out = value_type(SQL_INT, 0, 0, 0);
        return 0;
    case AGG_COUNT_BIG_STAR: case AGG_COUNT_BIG:
        *out = value_type(SQL_BIGINT, 0, 0, 0);
        return 0;
    case AGG_SUM: case AGG_AVG:
        if (!at || !ty_num(at->id) || at->id == SQL_BIT) {
            bind_failf(s, line, 8117, 16, 1, "Operand data type %s is invalid for %s operator.",
                       at ? value_type_name(at->id) : "NULL", fn == AGG_SUM ? "sum" : "avg");
            return -1;
        }
        if (at->id == SQL_TINYINT || at->id == SQL_SMALLINT || at->id == SQL_INT)
            *out = value_type(SQL_INT, 0, 0, 0);
        else if (at->id == SQL_REAL)
            *out = value_type(SQL_FLOAT, 0, 53, 0);
        else if (ty_dec(at->id))
            *out = value_type(at->id, 0, 38, (uint8_t)(fn == AGG_AVG ? (at->scale > 6 ? at->scale : 6) : at->scale));
        else if (at->id == SQL_SMALLMONEY)
            *out = value_type(SQL_MONEY, 0, 0, 0);
        else
            *out = *at;
        return 0;
    case AGG_STDEV: case AGG_VAR:
        *out = value_type(SQL_FLOAT, 0, 53, 0);
        return 0;
    default:   /* MIN / MAX */
        *out = *at;
        return 0;
    }
}

bool bx_is_const(const bx *e) { return e->kind == BX_CONST; }

bx *bx_const(sql_session *s, const sql_value *v, const sql_type *t, int line)
{
    bx *e = new_bx(s, BX_CONST, line, 0);
    if (!e)
        return oom(s);
    e->u.k = *v;
    e->u.k.type = t->id;
    e->t = *t;
    e->nullable = v->is_null;
    return e;
}

/* Conversion node to t (implicit: style -3). Constants convert at once so
 * errors in literals surface at bind time as SQL Server reports them. */
bx *bx_cast_to(sql_session *s, bx *e, const sql_type *t)
{
    if (!e)
        return NULL;
    if (e->t.id == t->id && e->t.max_len == t->max_len && e->t.precision == t->precision &&
        e->t.scale == t->scale)
        return e;
    if (e->null_lit) {
        bx *c = new_bx(s, BX_CONST, e->line, 0);
        if (!c)
            return oom(s);
        c->u.k = value_null(t->id);
        c->t = *t;
        c->null_lit = true;
        return c;
    }
    if (!cv_allowed(e->t.id, t->id, false)) {
        bx_clash(s, &e->t, t, e->line);
        return NULL;
    }
    bx *c = new_bx(s, BX_CAST, e->line, 1);
    if (!c)
        return oom(s);
    c->args[0] = e;
    c->t = *t;
    c->u.style = -3;
    c->nullable = e->nullable;
    return c;
}

bool bx_has_agg(const bx *e)
{
    if (!e)
        return false;
    if (e->kind == BX_AGG)
        return true;
    for (int i = 0; i < e->nargs; i++)
        if (bx_has_agg(e->args[i]))
            return true;
    return false;
}

bool bx_uses_scope(const bx *e, int depth)
{
    if (!e)
        return false;
    if (e->kind == BX_COL && e->u.col.depth == depth)
        return true;
    if ((e->kind == BX_SUBQ || e->kind == BX_EXISTS || e->kind == BX_IN || e->kind == BX_QUANT) &&
        e->u.subq.plan && e->u.subq.plan->correlated)
        return true;
    for (int i = 0; i < e->nargs; i++)
        if (bx_uses_scope(e->args[i], depth))
            return true;
    return false;
}

/* ------------------------------------------------------------ names */

bool ex_src_matches(const ex_src *src, const ast_objname *q)
{
    if (q->nparts == 0)
        return true;
    if (src->alias) {
        /* an aliased table is known only by its alias */
        return q->nparts == 1 && ex_name_eq(src->alias, q->object);
    }
    if (!src->table || !ex_name_eq(src->table, q->object))
        return false;
    if (q->schema && src->schema && !ex_name_eq(q->schema, src->schema))
        return false;
    if (q->database && src->dbname && !ex_name_eq(q->database, src->dbname))
        return false;
    return true;
}

static void qual_text(const ast_objname *q, const char *name, char *buf, size_t cap)
{
    size_t o = 0;
    const char *parts[4] = { q->database, q->schema, q->object, name };
    buf[0] = 0;
    for (int i = 0; i < 4; i++) {
        if (i < 3 && !parts[i] && !(i == 1 && q->database))
            continue;
        o += (size_t)snprintf(buf + o, o < cap ? cap - o : 0, "%s%s", o ? "." : "", parts[i] ? parts[i] : "");
    }
}

__attribute__((noinline)) static bx *bind_column(sql_session *s, bscope *sc, ast_expr *ae)
{
    const ast_objname *q = &ae->u.col.qual;
    const char *name = ae->u.col.name;
    if (ex_is_physloc_name(name))
        return bx_bind_physloc(s, sc, ae);
    int depth = 0;
    for (bscope *p = sc; p; p = p->parent) {
        if (p->no_columns && p == sc)
            break;
        if (!p->plan)
            continue;
        q_plan *pl = p->plan;
        int fsrc = -1, fcol = -1, nfound = 0;
        bool qual_found = false;
        for (int i = 0; i < pl->nsrc; i++) {
            ex_src *src = &pl->srcs[i];
            if (!ex_src_matches(src, q))
                continue;
            qual_found = true;
            for (int c = 0; c < src->ncols; c++) {
                if (ex_name_eq(src->colnames[c], name)) {
                    if (nfound == 0) {
                        fsrc = i;
                        fcol = c;
                    }
                    nfound++;
                    break;
                }
            }
        }
        if (nfound > 1) {
            return bind_failf(s, ae->line, 209, 16, 1, "Ambiguous column name '%s'.", name);
        }
        if (nfound == 1) {
            bx *e = new_bx(s, BX_COL, ae->line, 0);
            if (!e)
                return oom(s);
            e->u.col.depth = depth;
            e->u.col.src = fsrc;
            e->u.col.col = fcol;
            e->t = pl->srcs[fsrc].types[fcol];
            e->nullable = pl->srcs[fsrc].nullable[fcol] || pl->srcs[fsrc].outer_null;
            /* every query between here and the one owning the column is correlated */
            int d = 0;
            for (bscope *m = sc; m && d < depth; m = m->parent) {
                if (m->plan) {
                    m->plan->correlated = true;
                    d++;
                }
            }
            return e;
        }
        if (q->nparts > 0 && qual_found) {
            return bind_failf(s, ae->line, 207, 16, 1, "Invalid column name '%s'.", name);
        }
        depth++;
    }
    if (q->nparts > 0) {
        char full[400];
        qual_text(q, name, full, sizeof full);
        return bind_failf(s, ae->line, 4104, 16, 1, "The multi-part identifier \"%s\" could not be bound.", full);
    }
    return bind_failf(s, ae->line, 207, 16, 1, "Invalid column name '%s'.", name);
}

/* ------------------------------------------------------------ binding */

static bx *bind(sql_session *s, bscope *sc, ast_expr *e);

__attribute__((noinline)) static bx *bind_literal(sql_session *s, ast_expr *ae)
{
    const sql_value *lv;
    const sql_type *lt;
    ex_literal(s, ae, &lv, &lt);
    sql_type t = *lt;
    sql_value v = *lv;
    if (t.id == SQL_DECIMAL) {
        t.id = SQL_NUMERIC;           /* literals are numeric(p,s) */
        if (!t.precision)
            t.precision = 1;
        if (t.precision < t.scale)
            t.precision = t.scale;
    }
    if (value_type_is_string(t.id) || value_type_is_binary(t.id)) {
        int32_t units = value_type_is_unicode(t.id) ? (int32_t)(v.len / 2) : (int32_t)v.len;
        int32_t lim = value_type_is_unicode(t.id) ? 4000 : 8000;
        t.max_len = units > lim ? VALUE_LEN_MAX : units > 0 ? units : 1;
    }
    bx *b = bx_const(s, &v, &t, ae->line);
    if (b && v.is_null)
        b->null_lit = true;
    return b;
}

/* a OR b OR c ... is one n-ary node: generated SQL writes long chains, and a
 * left-deep tree of them would recurse once per term. */
__attribute__((noinline)) static bx *bind_andor(sql_session *s, bscope *sc, ast_expr *ae)
{
    ast_op op = ae->u.binary.op;
    int n = 0;
    for (ast_expr *x = ae; x->kind == EXPR_BINARY && x->u.binary.op == op; x = x->u.binary.left)
        n++;
    bx *e = new_bx(s, op == AST_OP_AND ? BX_AND : BX_OR, ae->line, n + 1);
    if (!e)
        return oom(s);
    /* right operands from the top down, the leftmost leaf last */
    ast_expr *x = ae;
    for (int i = n; i >= 1; i--) {
        if (!(e->args[i] = bx_bind_pred(s, sc, x->u.binary.right)))
            return NULL;
        x = x->u.binary.left;
    }
    if (!(e->args[0] = bx_bind_pred(s, sc, x)))
        return NULL;
    e->pred = true;
    e->t = value_type(SQL_BIT, 0, 0, 0);
    return e;
}

static bx *bind_binary(sql_session *s, bscope *sc, ast_expr *ae)
{
    int op = ae->u.binary.op;
    if (op == AST_OP_AND || op == AST_OP_OR)
        return bind_andor(s, sc, ae);
    bx *l = bind(s, sc, ae->u.binary.left);
    if (!l)
        return NULL;
    bx *r = bind(s, sc, ae->u.binary.right);
    if (!r)
        return NULL;
    if (op >= AST_OP_EQ && op <= AST_OP_GE) {
        bx *e = new_bx(s, BX_CMP, ae->line, 2);
        if (!e)
            return oom(s);
        e->op = (uint8_t)op;
        e->pred = true;
        e->t = value_type(SQL_BIT, 0, 0, 0);
        sql_type ct;
        if (l->null_lit && r->null_lit)
            ct = l->t;
        else if (l->null_lit)
            ct = r->t;
        else if (r->null_lit)
            ct = l->t;
        else if (bx_common_type(s, &l->t, &r->t, &ct, ae->line) < 0)
            return NULL;
        e->ct = ct;
        if (!(e->args[0] = bx_cast_to(s, l, &ct)) || !(e->args[1] = bx_cast_to(s, r, &ct)))
            return NULL;
        return e;
    }
    /* an integer constant meeting a decimal counts only its own digits
     * (2.0 / 3 is numeric(7,6), not numeric(13,12)) */
    if ((ty_dec(l->t.id) || ty_dec(r->t.id)) && op >= AST_OP_ADD && op <= AST_OP_MOD) {
        bx **sides[2] = { &l, &r };
        for (int k = 0; k < 2; k++) {
            bx *c = *sides[k];
            if (c->kind == BX_CONST && !c->u.k.is_null && ty_int(c->t.id)) {
                int64_t v = c->u.k.u.i < 0 ? -c->u.k.u.i : c->u.k.u.i;
                int digits = 1;
                while (v >= 10) {
                    v /= 10;
                    digits++;
                }
                sql_value dv = value_decimal(c->u.k.u.i);
                sql_type dt = value_type(SQL_NUMERIC, 0, (uint8_t)digits, 0);
                bx *nc = bx_const(s, &dv, &dt, c->line);
                if (!nc)
                    return NULL;
                *sides[k] = nc;
            }
        }
    }
    sql_type rt;
    int concat;
    if (bx_arith_type(s, op, l, r, &rt, &concat, ae->line) < 0)
        return NULL;
    bx *e = new_bx(s, concat ? BX_CONCAT : BX_ARITH, ae->line, 2);
    if (!e)
        return oom(s);
    e->op = (uint8_t)op;
    e->t = rt;
    e->nullable = l->nullable || r->nullable;
    if (concat) {
        sql_type st = rt;
        st.max_len = VALUE_LEN_MAX;
        e->args[0] = bx_cast_to(s, l, &st);
        e->args[1] = bx_cast_to(s, r, &st);
    } else if (rt.id == SQL_DATETIME) {
        /* datetime arithmetic works on float days */
        sql_type ft = value_type(SQL_FLOAT, 0, 53, 0);
        e->args[0] = bx_cast_to(s, l, l->t.id == SQL_DATETIME ? &l->t : &ft);
        e->args[1] = bx_cast_to(s, r, r->t.id == SQL_DATETIME ? &r->t : &ft);
    } else if (ty_dec(rt.id)) {
        int p, scl;
        sql_type t;
        bx_dec_of(l->null_lit ? &rt : &l->t, &p, &scl);
        t = value_type(SQL_NUMERIC, 0, (uint8_t)p, (uint8_t)scl);
        e->args[0] = bx_cast_to(s, l, &t);
        bx_dec_of(r->null_lit ? &rt : &r->t, &p, &scl);
        t = value_type(SQL_NUMERIC, 0, (uint8_t)p, (uint8_t)scl);
        e->args[1] = bx_cast_to(s, r, &t);
        if (value_type_is_string(l->t.id))
            e->args[0] = bx_cast_to(s, l, &rt);
        if (value_type_is_string(r->t.id))
            e->args[1] = bx_cast_to(s, r, &rt);
    } else {
        e->args[0] = bx_cast_to(s, l, &rt);
        e->args[1] = bx_cast_to(s, r, &rt);
    }
    if (!e->args[0] || !e->args[1])
        return NULL;
    return e;
}

__attribute__((noinline)) static bx *bind_subquery(sql_session *s, bscope *sc, int kind, ast_query *q, int line)
{
    bx *e = new_bx(s, kind, line, 0);
    if (!e)
        return oom(s);
    q_plan *p = q_bind(s, sc, q, false);
    if (!p)
        return NULL;
    e->u.subq.plan = p;
    if (kind != BX_EXISTS && p->nitems != 1) {
        return bind_fail(s, line, 116, 16, 1, "Only one expression can be specified in the select list when "
                         "the subquery is not introduced with EXISTS.");
    }
    if (kind == BX_SUBQ) {
        e->t = p->cols[0].type;
        e->nullable = true;
    } else {
        e->pred = true;
        e->t = value_type(SQL_BIT, 0, 0, 0);
    }
    return e;
}

__attribute__((noinline)) static bx *bind_agg(sql_session *s, bscope *sc, ast_expr *ae, int fn)
{
    bscope *own = sc;
    while (own && !own->plan)
        own = own->parent;
    if (!own || !own->allow_agg) {
        if (own && own->in_agg)
            return bind_fail(s, ae->line, 130, 16, 1, "Cannot perform an aggregate function on an expression "
                             "containing an aggregate or a subquery.");
        return bind_fail(s, ae->line, 147, 15, 1, "An aggregate may not appear in the WHERE clause unless it is "
                         "in a subquery contained in a HAVING clause or a select list, and the column being "
                         "aggregated is an outer reference.");
    }
    q_plan *p = own->plan;
    q_agg ag = { .fn = fn, .distinct = ae->u.func.distinct, .line = ae->line };
    if (ae->u.func.star) {
        if (fn != AGG_COUNT && fn != AGG_COUNT_BIG)
            return bind_fail(s, ae->line, 102, 15, 1, "Incorrect syntax near '*'.");
        ag.fn = fn == AGG_COUNT ? AGG_COUNT_STAR : AGG_COUNT_BIG_STAR;
    } else {
        if (ae->u.func.args.n != 1) {
            return bind_failf(s, ae->line, 174, 15, 1, "The %s function requires 1 argument(s).", ae->u.func.name.object);
        }
        bscope inner = *own;
        inner.allow_agg = false;
        inner.in_agg = true;
        ag.arg = bind(s, &inner, ae->u.func.args.v[0]);
        if (!ag.arg)
            return NULL;
        if (bx_has_agg(ag.arg))
            return bind_fail(s, ae->line, 130, 16, 1, "Cannot perform an aggregate function on an expression "
                             "containing an aggregate or a subquery.");
    }
    if (agg_type(s, ag.fn, ag.arg ? &ag.arg->t : NULL, ae->line, &ag.t) < 0)
        return NULL;
    /* append to the plan's aggregates */
    q_agg *na = arena_alloc(&s->stmt_arena, sizeof *na * (size_t)(p->nagg + 1));
    if (!na)
        return oom(s);
    if (p->nagg)
        ex_mcpy(na, p->aggs, sizeof *na * (size_t)p->nagg);
    na[p->nagg] = ag;
    p->aggs = na;
    bx *e = new_bx(s, BX_AGG, ae->line, 0);
    if (!e)
        return oom(s);
    e->u.agg = p->nagg++;
    e->t = ag.t;
    e->nullable = ag.fn != AGG_COUNT && ag.fn != AGG_COUNT_STAR && ag.fn != AGG_COUNT_BIG && ag.fn != AGG_COUNT_BIG_STAR;
    p->grouped = true;
    return e;
}

__attribute__((noinline)) static bx *bind_case(sql_session *s, bscope *sc, ast_expr *ae)
{
    /* args: [operand] (when, then)* [else] */
    int nw = ae->u.case_.whens.n;
    bool simple = ae->u.case_.operand != NULL;
    int n = (simple ? 1 : 0) + 2 * nw + 1;
    bx *e = new_bx(s, BX_CASE, ae->line, n);
    if (!e)
        return oom(s);
    e->u.has_else = true;
    int k = 0;
    if (simple) {
        if (!(e->args[k++] = bind(s, sc, ae->u.case_.operand)))
            return NULL;
    }
    for (int i = 0; i < nw; i++) {
        ast_when *w = ae->u.case_.whens.v[i];
        bx *wb = simple ? bind(s, sc, w->when) : bx_bind_pred(s, sc, w->when);
        if (!wb)
            return NULL;
        e->args[k++] = wb;
        if (!(e->args[k++] = bind(s, sc, w->then)))
            return NULL;
    }
    if (ae->u.case_.else_) {
        if (!(e->args[k] = bind(s, sc, ae->u.case_.else_)))
            return NULL;
    } else {
        sql_value nv = value_null(SQL_INT);
        sql_type it = value_type(SQL_INT, 0, 0, 0);
        e->args[k] = bx_const(s, &nv, &it, ae->line);
        if (!e->args[k])
            return NULL;
        e->args[k]->null_lit = true;
    }
    if (simple) {
        /* comparison type of the operand against each WHEN value */
        sql_type ct = e->args[0]->t;
        for (int i = 0; i < nw; i++) {
            bx *w = e->args[1 + 2 * i];
            if (!w->null_lit && bx_common_type(s, &ct, &w->t, &ct, w->line) < 0)
                return NULL;
        }
        e->ct = ct;
        if (!(e->args[0] = bx_cast_to(s, e->args[0], &ct)))
            return NULL;
        for (int i = 0; i < nw; i++)
            if (!(e->args[1 + 2 * i] = bx_cast_to(s, e->args[1 + 2 * i], &ct)))
                return NULL;
    }
    /* THEN values at (simple ? 2 : 1) step 2, plus ELSE (last) */
    sql_type rt;
    bool have = false;
    int first = simple ? 2 : 1;
    for (int i = first; i < n; i++) {
        if (i != n - 1 && (i - first) % 2)
            continue;
        bx *a = e->args[i];
        if (a->null_lit)
            continue;
        if (!have) {
            rt = a->t;
            have = true;
        } else if (bx_common_type(s, &rt, &a->t, &rt, a->line) < 0) {
            return NULL;
        }
    }
    if (!have)
        rt = value_type(SQL_INT, 0, 0, 0);
    e->t = rt;
    for (int i = first; i < n; i++) {
        if (i != n - 1 && (i - first) % 2)
            continue;
        if (!(e->args[i] = bx_cast_to(s, e->args[i], &rt)))
            return NULL;
    }
    return e;
}

__attribute__((noinline)) static bx *bind_like(sql_session *s, bscope *sc, ast_expr *ae)
{
    bx *e = new_bx(s, BX_LIKE, ae->line, ae->u.like.escape ? 3 : 2);
    if (!e)
        return oom(s);
    e->pred = true;
    e->negated = ae->u.like.negated;
    e->t = value_type(SQL_BIT, 0, 0, 0);
    bx *x = bind(s, sc, ae->u.like.operand);
    bx *p = x ? bind(s, sc, ae->u.like.pattern) : NULL;
    if (!p)
        return NULL;
    bool uni = value_type_is_unicode(x->t.id) || value_type_is_unicode(p->t.id);
    sql_type st = value_type(uni ? SQL_NVARCHAR : SQL_VARCHAR, VALUE_LEN_MAX, 0, 0);
    st.collation_flags = x->t.collation_flags | p->t.collation_flags;
    e->ct = st;
    if (!(e->args[0] = bx_cast_to(s, x, &st)) || !(e->args[1] = bx_cast_to(s, p, &st)))
        return NULL;
    if (ae->u.like.escape) {
        bx *esc = bind(s, sc, ae->u.like.escape);
        if (!esc || !(e->args[2] = bx_cast_to(s, esc, &st)))
            return NULL;
    }
    return e;
}

__attribute__((noinline)) static bx *bind_in(sql_session *s, bscope *sc, ast_expr *ae)
{
    bx *x = bind(s, sc, ae->u.in.operand);
    if (!x)
        return NULL;
    if (ae->u.in.subquery) {
        bx *e = bind_subquery(s, sc, BX_IN, ae->u.in.subquery, ae->line);
        if (!e)
            return NULL;
        e->negated = ae->u.in.negated;
        sql_type ct;
        if (bx_common_type(s, &x->t, &e->u.subq.plan->cols[0].type, &ct, ae->line) < 0)
            return NULL;
        e->ct = ct;
        e->nargs = 1;
        e->args = arena_calloc(&s->stmt_arena, sizeof(bx *));
        if (!e->args || !(e->args[0] = bx_cast_to(s, x, &ct)))
            return e->args ? NULL : oom(s);
        return e;
    }
    int n = ae->u.in.list.n;
    bx *e = new_bx(s, BX_IN, ae->line, n + 1);
    if (!e)
        return oom(s);
    e->pred = true;
    e->negated = ae->u.in.negated;
    e->t = value_type(SQL_BIT, 0, 0, 0);
    sql_type ct = x->t;
    bool have = !x->null_lit;
    e->args[0] = x;
    for (int i = 0; i < n; i++) {
        bx *a = bind(s, sc, ae->u.in.list.v[i]);
        if (!a)
            return NULL;
        e->args[i + 1] = a;
        if (a->null_lit)
            continue;
        if (!have) {
            ct = a->t;
            have = true;
        } else if (bx_common_type(s, &ct, &a->t, &ct, a->line) < 0) {
            return NULL;
        }
    }
    e->ct = ct;
    for (int i = 0; i <= n; i++)
        if (!(e->args[i] = bx_cast_to(s, e->args[i], &ct)))
            return NULL;
    return e;
}

/* f(...) OVER (PARTITION BY ... ORDER BY ...): registered with the query,
 * computed after its rows are known (exec_group.c). */
__attribute__((noinline)) static bx *bind_window(sql_session *s, bscope *sc, ast_expr *ae)
{
    const char *name = ae->u.func.name.object;
    bscope *own = sc;
    while (own && !own->plan)
        own = own->parent;
    if (!own || !own->allow_win)
        return bind_fail(s, ae->line, 4108, 16, 1, "Windowed functions can only appear in the SELECT or ORDER BY clauses.");
    q_plan *p = own->plan;
    q_win w = { .line = ae->line };
    int nargs = ae->u.func.args.n;
    int agg = ae->u.func.name.nparts <= 1 ? fn_agg_lookup(name) : 0;
    if (!strcasecmp(name, "ROW_NUMBER")) w.fn = WIN_ROW_NUMBER;
    else if (!strcasecmp(name, "RANK")) w.fn = WIN_RANK;
    else if (!strcasecmp(name, "DENSE_RANK")) w.fn = WIN_DENSE_RANK;
    else if (!strcasecmp(name, "NTILE")) w.fn = WIN_NTILE;
    else if (!strcasecmp(name, "LAG")) w.fn = WIN_LAG;
    else if (!strcasecmp(name, "LEAD")) w.fn = WIN_LEAD;
    else if (agg) { w.fn = WIN_AGG; w.agg = agg; }
    else {
        return bind_failf(s, ae->line, 195, 15, 10, "'%s' is not a recognized windowing function.", name);
    }
    bool ranking = w.fn <= WIN_NTILE;
    if (ranking && !ae->u.func.over->order_by.n) {
        return bind_failf(s, ae->line, 4112, 15, 1, "The function '%s' must have an OVER clause with ORDER BY.", name);
    }
    int want_min = w.fn == WIN_NTILE ? 1 : (w.fn == WIN_LAG || w.fn == WIN_LEAD) ? 1 : w.fn == WIN_AGG ? (ae->u.func.star ? 0 : 1) : 0;
    int want_max = w.fn == WIN_NTILE ? 1 : (w.fn == WIN_LAG || w.fn == WIN_LEAD) ? 3 : w.fn == WIN_AGG ? 1 : 0;
    if (nargs < want_min || nargs > want_max) {
        return bind_failf(s, ae->line, 174, 15, 1, "The function '%s' takes %d argument(s).", name, want_max);
    }
    if (ae->u.func.distinct)
        return bind_fail(s, ae->line, 10759, 15, 1, "Use of DISTINCT is not allowed with the OVER clause.");
    bscope asc = *own;
    asc.allow_win = false;
    if (nargs && !(w.arg = bind(s, &asc, ae->u.func.args.v[0])))
        return NULL;
    if (nargs > 1 && !(w.arg2 = bind(s, &asc, ae->u.func.args.v[1])))
        return NULL;
    if (nargs > 2 && !(w.arg3 = bind(s, &asc, ae->u.func.args.v[2])))
        return NULL;
    if (w.fn == WIN_AGG && ae->u.func.star)
        w.agg = agg == AGG_COUNT ? AGG_COUNT_STAR : agg == AGG_COUNT_BIG ? AGG_COUNT_BIG_STAR : agg;
    ast_window *ow = ae->u.func.over;
    w.npart = ow->partition_by.n;
    w.nord = ow->order_by.n;
    w.part = arena_alloc(&s->stmt_arena, sizeof(bx *) * (size_t)(w.npart + 1));
    w.ord = arena_alloc(&s->stmt_arena, sizeof(bx *) * (size_t)(w.nord + 1));
    w.desc = arena_alloc(&s->stmt_arena, sizeof(bool) * (size_t)(w.nord + 1));
    if (!w.part || !w.ord || !w.desc)
        return oom(s);
    for (int i = 0; i < w.npart; i++)
        if (!(w.part[i] = bind(s, &asc, ow->partition_by.v[i])))
            return NULL;
    for (int i = 0; i < w.nord; i++) {
        if (!(w.ord[i] = bind(s, &asc, ow->order_by.v[i]->expr)))
            return NULL;
        w.desc[i] = ow->order_by.v[i]->desc;
    }
    switch (w.fn) {
    case WIN_ROW_NUMBER:
        w.t = value_type(SQL_BIGINT, 0, 0, 0);
        break;
    case WIN_RANK: case WIN_DENSE_RANK: case WIN_NTILE:
        w.t = value_type(SQL_BIGINT, 0, 0, 0);
        if (w.fn == WIN_NTILE && (!ty_int(w.arg->t.id)))
            return bind_fail(s, ae->line, 8116, 16, 1, "Argument data type is invalid for argument 1 of ntile function.");
        break;
    case WIN_LAG: case WIN_LEAD:
        w.t = w.arg->t;
        if (w.arg2 && !ty_int(w.arg2->t.id))
            return bind_fail(s, ae->line, 8116, 16, 1, "Argument data type is invalid for argument 2 of lag/lead function.");
        if (w.arg3 && !(w.arg3 = bx_cast_to(s, w.arg3, &w.t)))
            return NULL;
        break;
    default:   /* an aggregate over a window: its type as for GROUP BY */
        if (agg_type(s, w.agg, w.arg ? &w.arg->t : NULL, ae->line, &w.t) < 0)
            return NULL;
        break;
    }
    q_win *nw = arena_alloc(&s->stmt_arena, sizeof *nw * (size_t)(p->nwin + 1));
    if (!nw)
        return oom(s);
    if (p->nwin)
        ex_mcpy(nw, p->wins, sizeof *nw * (size_t)p->nwin);
    nw[p->nwin] = w;
    p->wins = nw;
    bx *e = new_bx(s, BX_WIN, ae->line, 0);
    if (!e)
        return oom(s);
    e->u.agg = p->nwin++;
    e->t = w.t;
    return e;
}

__attribute__((noinline)) static bx *bind_func(sql_session *s, bscope *sc, ast_expr *ae)
{
    const ast_objname *fname = &ae->u.func.name;
    const char *name = fname->object;
    if (ae->u.func.over)
        return bind_window(s, sc, ae);
    if (fname->nparts <= 1 || (fname->schema && ex_name_eq(fname->schema, "dbo") == false && !fname->database)) {
        int agg = fname->nparts <= 1 ? fn_agg_lookup(name) : 0;
        if (agg)
            return bind_agg(s, sc, ae, agg);
    }
    int id;
    if (fname->nparts == 2 && fname->schema && ex_name_eq(fname->schema, "sys") &&
        ex_name_eq(name, "fn_PhysLocFormatter")) {
        if (ae->u.func.args.n != 1)
            return bind_fail(s, ae->line, 174, 15, 1, "The fn_physlocformatter function requires 1 argument(s).");
        id = F_PHYSLOC_FORMATTER;
    } else if (fname->nparts > 1) {
        return bind_failf(s, ae->line, 4121, 16, 1, "Cannot find either column \"%s\" or the user-defined function or aggregate "
                 "\"%s.%s\", or the name is ambiguous.", fname->schema ? fname->schema : "",
                 fname->schema ? fname->schema : "", name);
    } else if (fn_lookup(name, ae->u.func.args.n, &id, &s->err) < 0) {
        s->err_line = ae->line;
        return NULL;
    }
    int n = ae->u.func.args.n;
    bx *e = new_bx(s, BX_FUNC, ae->line, n);
    if (!e)
        return oom(s);
    e->op = (uint8_t)id;
    for (int i = 0; i < n; i++) {
        ast_expr *a = ae->u.func.args.v[i];
        bx *b;
        if (i == 0 && ex_name_eq(name, "IIF"))
            b = bx_bind_pred(s, sc, a);
        else if (a->kind == EXPR_COLUMN && a->u.col.qual.nparts == 0 && i == 0 &&
                 (ex_name_eq(name, "DATEADD") || ex_name_eq(name, "DATEDIFF") || ex_name_eq(name, "DATEPART") ||
                  ex_name_eq(name, "DATENAME") || ex_name_eq(name, "DATEDIFF_BIG") || ex_name_eq(name, "DATETRUNC"))) {
            /* datepart keyword: passed as a string constant */
            sql_value v = cv_str(&s->stmt_arena, a->u.col.name, false);
            sql_type t = value_type(SQL_VARCHAR, (int32_t)v.len, 0, 0);
            b = bx_const(s, &v, &t, a->line);
        } else {
            b = bind(s, sc, a);
        }
        if (!b)
            return NULL;
        e->args[i] = b;
    }
    if (fn_bind(s, e, &s->err) < 0) {
        s->err_line = ae->line;
        return NULL;
    }
    return e;
}

static bx *bind_node(sql_session *s, bscope *sc, ast_expr *ae);

/* Expression nesting is bounded so that binding and evaluating fit the
 * 256 KiB stack of a server thread (error 191, as SQL Server's limit). */
#if defined(__SANITIZE_ADDRESS__)
#define BIND_MAX_DEPTH 128      /* AddressSanitizer's frames are several times larger */
#else
#define BIND_MAX_DEPTH 256
#endif

static bx *bind(sql_session *s, bscope *sc, ast_expr *ae)
{
    if (++s->bind_depth > BIND_MAX_DEPTH) {
        s->bind_depth--;
        return bind_fail(s, ae ? ae->line : 0, 191, 15, 1, "Some part of your SQL statement is nested too deeply. "
                         "Rewrite the query or break it up into smaller queries.");
    }
    bx *e = bind_node(s, sc, ae);
    s->bind_depth--;
    return e;
}

static bx *bind_node(sql_session *s, bscope *sc, ast_expr *ae)
{
    if (!ae)
        return bind_fail(s, 0, 102, 15, 1, "Incorrect syntax.");
    switch (ae->kind) {
    case EXPR_LITERAL:
        return bind_literal(s, ae);
    case EXPR_COLUMN:
        return bind_column(s, sc, ae);
    case EXPR_STAR:
        return bind_fail(s, ae->line, 102, 15, 1, "Incorrect syntax near '*'.");
    case EXPR_VARIABLE: {
        int idx = ex_var_find(s, ae->u.name);
        if (idx < 0) {
            return bind_failf(s, ae->line, 137, 15, 2, "Must declare the scalar variable \"%s\".", ae->u.name);
        }
        bx *e = new_bx(s, BX_VAR, ae->line, 0);
        if (!e)
            return oom(s);
        e->u.var = idx;
        e->t = s->vars[idx].type;
        return e;
    }
    case EXPR_SYSVAR: {
        int sv = sv_lookup(ae->u.name);
        if (sv < 0) {
            return bind_failf(s, ae->line, 137, 15, 2, "Must declare the scalar variable \"%s\".", ae->u.name);
        }
        bx *e = new_bx(s, BX_SYSVAR, ae->line, 0);
        if (!e)
            return oom(s);
        e->u.sysvar = sv;
        sv_type(sv, &e->t);
        return e;
    }
    case EXPR_UNARY: {
        if (ae->u.unary.op == AST_OP_NOT) {
            bx *e = new_bx(s, BX_NOT, ae->line, 1);
            if (!e)
                return oom(s);
            if (!(e->args[0] = bx_bind_pred(s, sc, ae->u.unary.operand)))
                return NULL;
            e->pred = true;
            e->t = value_type(SQL_BIT, 0, 0, 0);
            return e;
        }
        bx *x = bind(s, sc, ae->u.unary.operand);
        if (!x)
            return NULL;
        if (ae->u.unary.op == AST_OP_POS)
            return x;
        /* constant folding of negative literals keeps their exact type */
        if (x->kind == BX_CONST && ae->u.unary.op == AST_OP_NEG && !x->u.k.is_null) {
            if (ty_int(x->t.id) || x->t.id == SQL_MONEY) {
                x->u.k.u.i = -x->u.k.u.i;
                return x;
            }
            if (ty_dec(x->t.id)) {
                x->u.k.u.dec = -x->u.k.u.dec;
                return x;
            }
            if (x->t.id == SQL_FLOAT || x->t.id == SQL_REAL) {
                x->u.k.u.f = -x->u.k.u.f;
                return x;
            }
        }
        bool bitnot = ae->u.unary.op == AST_OP_BITNOT;
        if (!ty_num(x->t.id) || (bitnot && !ty_int(x->t.id) && x->t.id != SQL_BIT)) {
            return bind_failf(s, ae->line, 8117, 16, 1, "Operand data type %s is invalid for %s operator.",
                     value_type_name(x->t.id), bitnot ? "~" : "minus");
        }
        bx *e = new_bx(s, BX_UNARY, ae->line, 1);
        if (!e)
            return oom(s);
        e->op = (uint8_t)ae->u.unary.op;
        e->args[0] = x;
        e->t = x->t;
        if (e->t.id == SQL_BIT && !bitnot)
            e->t = value_type(SQL_INT, 0, 0, 0), e->args[0] = bx_cast_to(s, x, &e->t);
        return e;
    }
    case EXPR_BINARY:
        return bind_binary(s, sc, ae);
    case EXPR_IS_NULL: {
        bx *e = new_bx(s, BX_ISNULL, ae->line, 1);
        if (!e)
            return oom(s);
        if (!(e->args[0] = bind(s, sc, ae->u.is_null.operand)))
            return NULL;
        e->negated = ae->u.is_null.negated;
        e->pred = true;
        e->t = value_type(SQL_BIT, 0, 0, 0);
        return e;
    }
    case EXPR_BETWEEN: {
        /* x BETWEEN a AND b  ==  x >= a AND x <= b (nodes in the arena:
         * this frame is on the recursion path) */
        ast_expr *ge = arena_calloc(&s->stmt_arena, sizeof *ge), *le = arena_calloc(&s->stmt_arena, sizeof *le);
        if (!ge || !le)
            return oom(s);
        ge->kind = EXPR_BINARY;
        ge->line = ae->line;
        ge->u.binary.op = AST_OP_GE;
        ge->u.binary.left = ae->u.between.operand;
        ge->u.binary.right = ae->u.between.low;
        *le = *ge;
        le->u.binary.op = AST_OP_LE;
        le->u.binary.right = ae->u.between.high;
        bx *e = new_bx(s, BX_AND, ae->line, 2);
        if (!e)
            return oom(s);
        if (!(e->args[0] = bind_binary(s, sc, ge)) || !(e->args[1] = bind_binary(s, sc, le)))
            return NULL;
        e->pred = true;
        e->t = value_type(SQL_BIT, 0, 0, 0);
        if (!ae->u.between.negated)
            return e;
        bx *n = new_bx(s, BX_NOT, ae->line, 1);
        if (!n)
            return oom(s);
        n->args[0] = e;
        n->pred = true;
        n->t = e->t;
        return n;
    }
    case EXPR_LIKE:
        return bind_like(s, sc, ae);
    case EXPR_IN:
        return bind_in(s, sc, ae);
    case EXPR_EXISTS:
        return bind_subquery(s, sc, BX_EXISTS, ae->u.subquery.query, ae->line);
    case EXPR_SUBQUERY:
        return bind_subquery(s, sc, BX_SUBQ, ae->u.subquery.query, ae->line);
    case EXPR_QUANTIFIED: {
        bx *x = bind(s, sc, ae->u.quantified.operand);
        if (!x)
            return NULL;
        bx *e = bind_subquery(s, sc, BX_QUANT, ae->u.quantified.query, ae->line);
        if (!e)
            return NULL;
        e->op = (uint8_t)ae->u.quantified.op;
        e->u.subq.all = ae->u.quantified.all;
        sql_type ct;
        if (bx_common_type(s, &x->t, &e->u.subq.plan->cols[0].type, &ct, ae->line) < 0)
            return NULL;
        e->ct = ct;
        e->nargs = 1;
        e->args = arena_calloc(&s->stmt_arena, sizeof(bx *));
        if (!e->args)
            return oom(s);
        if (!(e->args[0] = bx_cast_to(s, x, &ct)))
            return NULL;
        return e;
    }
    case EXPR_CASE:
        return bind_case(s, sc, ae);
    case EXPR_CAST: {
        bx *x = bind(s, sc, ae->u.cast.operand);
        if (!x)
            return NULL;
        sql_type t = ae->u.cast.type.t;
        if (t.id == SQL_TYPE_NONE) {
            return bind_failf(s, ae->line, 243, 16, 2, "Type %s is not a defined system type.", ae->u.cast.type.name);
        }
        int style = -1;
        if (ae->u.cast.style) {
            bx *st = bind(s, sc, ae->u.cast.style);
            if (!st)
                return NULL;
            if (st->kind != BX_CONST || !ty_int(st->t.id))
                return bind_fail(s, ae->line, 8116, 16, 1, "Argument data type is invalid for argument 3 of convert function.");
            style = st->u.k.is_null ? -1 : (int)st->u.k.u.i;
        }
        if (!cv_allowed(x->t.id, t.id, true) && !x->null_lit) {
            return bind_failf(s, ae->line, 529, 16, 2, "Explicit conversion from data type %s to %s is not allowed.",
                     value_type_name(x->t.id), value_type_name(t.id));
        }
        bx *e = new_bx(s, BX_CAST, ae->line, 1);
        if (!e)
            return oom(s);
        e->args[0] = x;
        e->t = t;
        e->u.style = style;
        e->is_try = ae->u.cast.is_try;
        return e;
    }
    case EXPR_FUNCTION:
        return bind_func(s, sc, ae);
    case EXPR_COLLATE: {
        bx *x = bind(s, sc, ae->u.collate.operand);
        if (!x)
            return NULL;
        if (!value_type_is_string(x->t.id))
            return bind_fail(s, ae->line, 447, 16, 1, "Expression type is invalid for COLLATE clause.");
        const char *c = ae->u.collate.collation;
        uint16_t fl = 0;
        if (strstr(c, "_BIN") || strstr(c, "_bin"))
            fl |= VALUE_COLL_BIN;
        if (strstr(c, "_CS") || strstr(c, "_cs"))
            fl |= VALUE_COLL_CS;
        if (strstr(c, "_AI") || strstr(c, "_ai"))
            fl |= VALUE_COLL_AI;
        bx *e = new_bx(s, BX_CAST, ae->line, 1);
        if (!e)
            return oom(s);
        e->args[0] = x;
        e->t = x->t;
        e->t.collation_flags = fl;
        e->u.style = -3;
        return e;
    }
    case EXPR_DEFAULT: {
        bx *e = new_bx(s, BX_DEFAULT, ae->line, 0);
        if (!e)
            return oom(s);
        e->t = value_type(SQL_INT, 0, 0, 0);
        e->null_lit = true;
        return e;
    }
    }
    return bind_fail(s, ae->line, 102, 15, 1, "Incorrect syntax.");
}

bx *bx_bind(sql_session *s, bscope *sc, ast_expr *e)
{
    bx *b = bind(s, sc, e);
    if (b && b->pred) {
        /* a condition used as a value is a syntax error in T-SQL */
        return bind_fail(s, e->line, 4145, 15, 1, "An expression of non-boolean type specified in a context where a condition is expected.");
    }
    return b;
}

bx *bx_bind_pred(sql_session *s, bscope *sc, ast_expr *e)
{
    bx *b = bind(s, sc, e);
    if (b && !b->pred) {
        return bind_failf(s, e->line, 4145, 15, 1, "An expression of non-boolean type specified in a context where a condition is expected.");
    }
    return b;
}

