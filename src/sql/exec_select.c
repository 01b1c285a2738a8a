/*
 * exec_select.c — binding queries (q_bind): FROM (exec_from.c), WHERE
 * (split into per-source filters and primary-key point lookups), GROUP BY /
 * aggregates / HAVING, the select list (with * expansion and variable
 * assignment), DISTINCT, TOP, ORDER BY, set operations, CTEs; and the SELECT
 * statement itself. Running a bound plan is exec_query.c's job.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sql/exec_int.h"

void *q_salloc(sql_session *s, size_t n)
{
    void *p = arena_calloc(&s->stmt_arena, n ? n : 1);
    if (!p)
        hdb_raise_text(&s->err, 701, 19, 1, "There is insufficient system memory to run this query.");
    return p;
}

int q_bfail(sql_session *s, int line, int number, int sev, int state, const char *fmt, const char *arg)
{
    char m[600];
    snprintf(m, sizeof m, fmt, arg);
    hdb_raise_text(&s->err, number, sev, state, m);
    s->err_line = line;
    return -1;
}

void q_set_ctes(sql_session *s, ast_cte_list *ctes) { s->ctes = ctes; }

/* ------------------------------------------------------------ WHERE pushdown */

/* Sources (depth 0) an expression reads: bit mask, or -1 if it reads more
 * than we can tell (correlated subqueries). */
static int64_t src_mask(const bx *e)
{
    if (!e)
        return 0;
    int64_t m = 0;
    if (e->kind == BX_COL && e->u.col.depth == 0)
        m |= e->u.col.src < 62 ? (int64_t)1 << e->u.col.src : -1;
    if ((e->kind == BX_SUBQ || e->kind == BX_EXISTS || e->kind == BX_IN || e->kind == BX_QUANT) &&
        e->u.subq.plan && e->u.subq.plan->correlated)
        return -1;
    for (int i = 0; i < e->nargs; i++) {
        int64_t a = src_mask(e->args[i]);
        if (a < 0)
            return -1;
        m |= a;
    }
    return m;
}

static bx *and_of(sql_session *s, bx *a, bx *b)
{
    if (!a)
        return b;
    bx *e = q_salloc(s, sizeof *e);
    bx **args = q_salloc(s, sizeof(bx *) * 2);
    if (!e || !args)
        return NULL;
    e->kind = BX_AND;
    e->pred = true;
    e->t = value_type(SQL_BIT, 0, 0, 0);
    e->nargs = 2;
    e->args = args;
    args[0] = a;
    args[1] = b;
    return e;
}

static bool has_outer(const q_from *f)
{
    if (!f || f->leaf)
        return false;
    if (f->join == JOIN_LEFT || f->join == JOIN_RIGHT || f->join == JOIN_FULL)
        return true;
    return has_outer(f->l) || has_outer(f->r);
}

static int64_t range_mask(int lo, int hi)
{
    int64_t m = 0;
    for (int i = lo; i < hi && i < 62; i++)
        m |= (int64_t)1 << i;
    return m;
}

/* ON's equality conjuncts between the join's two sides become hash keys. */
static int find_join_keys(sql_session *s, q_from *f)
{
    if (!f || f->leaf)
        return 0;
    if (find_join_keys(s, f->l) < 0 || find_join_keys(s, f->r) < 0)
        return -1;
    if (!f->on || f->hi > 62)
        return 0;
    int64_t lm = range_mask(f->l->lo, f->l->hi), rm = range_mask(f->r->lo, f->r->hi);
    bx *stack[64];
    int n = 0;
    stack[n++] = f->on;
    bx *lk[16], *rk[16];
    int nk = 0;
    while (n > 0 && nk < 16) {
        bx *e = stack[--n];
        if (e->kind == BX_AND) {
            for (int i = 0; i < e->nargs && n < 64; i++)
                stack[n++] = e->args[i];
            continue;
        }
        if (e->kind != BX_CMP || e->op != AST_OP_EQ)
            continue;
        int64_t a = src_mask(e->args[0]), b = src_mask(e->args[1]);
        if (a <= 0 || b <= 0)
            continue;
        if ((a & ~lm) == 0 && (b & ~rm) == 0) {
            lk[nk] = e->args[0];
            rk[nk++] = e->args[1];
        } else if ((a & ~rm) == 0 && (b & ~lm) == 0) {
            lk[nk] = e->args[1];
            rk[nk++] = e->args[0];
        }
    }
    if (!nk)
        return 0;
    f->lkeys = q_salloc(s, sizeof(bx *) * (size_t)nk);
    f->rkeys = q_salloc(s, sizeof(bx *) * (size_t)nk);
    f->ktypes = q_salloc(s, sizeof(sql_type) * (size_t)nk);
    if (!f->lkeys || !f->rkeys || !f->ktypes)
        return -1;
    for (int i = 0; i < nk; i++) {
        f->lkeys[i] = lk[i];
        f->rkeys[i] = rk[i];
        f->ktypes[i] = lk[i]->t;
    }
    f->nkeys = nk;
    return 0;
}

static int split_where(sql_session *s, q_plan *p, bx *w)
{
    if (w->kind == BX_AND) {
        for (int i = 0; i < w->nargs; i++)
            if (split_where(s, p, w->args[i]) < 0)
                return -1;
        return 0;
    }
    int64_t m = src_mask(w);
    if (m > 0 && (m & (m - 1)) != 0 && p->from && !has_outer(p->from)) {
        /* an inner/cross join condition written in WHERE: give it to the
         * lowest join whose two sides it connects (enables a hash join) */
        q_from *f = p->from;
        for (;;) {
            if (f->leaf)
                break;
            int64_t lm = range_mask(f->l->lo, f->l->hi), rm = range_mask(f->r->lo, f->r->hi);
            if ((m & ~lm) == 0) {
                f = f->l;
                continue;
            }
            if ((m & ~rm) == 0) {
                f = f->r;
                continue;
            }
            break;
        }
        if (!f->leaf) {
            f->on = and_of(s, f->on, w);
            if (f->join == JOIN_CROSS)
                f->join = JOIN_INNER;
            return f->on ? 0 : -1;
        }
    }
    if (m > 0 && (m & (m - 1)) == 0) {
        int src = __builtin_ctzll((unsigned long long)m);
        if (src < p->nsrc && !p->srcs[src].outer_null) {
            p->src_filter[src] = and_of(s, p->src_filter[src], w);
            return p->src_filter[src] ? 0 : -1;
        }
    }
    p->where = and_of(s, p->where, w);
    return p->where ? 0 : -1;
}

int q_conjuncts(bx *filter, bx **out, int cap)
{
    bx *stack[64];
    int n = 0, k = 0;
    if (filter)
        stack[n++] = filter;
    while (n > 0 && k < cap) {
        bx *e = stack[--n];
        if (e->kind == BX_AND) {
            for (int i = 0; i < e->nargs && n < 64; i++)
                stack[n++] = e->args[i];
            continue;
        }
        out[k++] = e;
    }
    return k;
}

/* Equality conjuncts pinning every clustered key column of a base table. */
static void find_point_lookup(sql_session *s, q_plan *p, int src)
{
    ex_src *sr = &p->srcs[src];
    if (sr->kind != SRC_TABLE || sr->td->idx[0].hidden_key || !p->src_filter[src])
        return;
    tbl_index *x = &sr->td->idx[0];
    bx **keys = q_salloc(s, sizeof(bx *) * (size_t)x->nkeys);
    if (!keys)
        return;
    bx *conj[64];
    int nconj = q_conjuncts(p->src_filter[src], conj, 64);
    for (int j = 0; j < nconj; j++) {
        bx *e = conj[j];
        if (e->kind != BX_CMP || e->op != AST_OP_EQ)
            continue;
        for (int side = 0; side < 2; side++) {
            bx *c = e->args[side], *o = e->args[1 - side];
            if (c->kind != BX_COL || c->u.col.depth != 0 || c->u.col.src != src || bx_uses_scope(o, 0))
                continue;
            for (int k = 0; k < x->nkeys; k++) {
                if (x->keycols[k] == c->u.col.col && !keys[k]) {
                    /* string keys compare with collation: only exact types qualify */
                    keys[k] = o;
                }
            }
        }
    }
    for (int k = 0; k < x->nkeys; k++)
        if (!keys[k])
            return;
    p->src_pk[src] = keys;
}

/* ------------------------------------------------------------ select list */

static bool bx_equal(const bx *a, const bx *b)
{
    if (a->kind != b->kind || a->op != b->op || a->nargs != b->nargs || a->negated != b->negated)
        return false;
    switch (a->kind) {
    case BX_COL:
        return a->u.col.depth == b->u.col.depth && a->u.col.src == b->u.col.src && a->u.col.col == b->u.col.col;
    case BX_CONST:
        return a->t.id == b->t.id && value_compare(&a->u.k, &b->u.k, &a->t) == 0 && a->u.k.is_null == b->u.k.is_null;
    case BX_VAR:
        return a->u.var == b->u.var;
    case BX_SYSVAR:
        return a->u.sysvar == b->u.sysvar;
    case BX_CAST:
        if (a->t.id != b->t.id || a->t.max_len != b->t.max_len || a->u.style != b->u.style)
            return false;
        break;
    case BX_AGG: case BX_WIN: case BX_SUBQ: case BX_EXISTS: case BX_IN: case BX_QUANT:
        return a == b;
    default:
        break;
    }
    for (int i = 0; i < a->nargs; i++)
        if (!bx_equal(a->args[i], b->args[i]))
            return false;
    return true;
}

/* In a grouped query every column outside an aggregate must be grouped. */
static int check_grouped(sql_session *s, q_plan *p, bx *e)
{
    if (!e || e->kind == BX_AGG)
        return 0;
    for (int g = 0; g < p->ngroup; g++)
        if (bx_equal(e, p->group[g]))
            return 0;
    if (e->kind == BX_COL && e->u.col.depth == 0) {
        ex_src *src = &p->srcs[e->u.col.src];
        char m[600];
        snprintf(m, sizeof m, "Column '%s.%s' is invalid in the select list because it is not contained in "
                 "either an aggregate function or the GROUP BY clause.",
                 src->alias ? src->alias : src->table ? src->table : "", src->colnames[e->u.col.col]);
        hdb_raise_text(&s->err, 8120, 16, 1, m);
        s->err_line = e->line;
        return -1;
    }
    if (e->kind == BX_SUBQ || e->kind == BX_EXISTS)
        return 0;
    for (int i = 0; i < e->nargs; i++)
        if (check_grouped(s, p, e->args[i]) < 0)
            return -1;
    return 0;
}

static const char *item_name(ast_select_item *it, bx *e, q_plan *p)
{
    if (it->alias)
        return it->alias;
    if (it->expr && it->expr->kind == EXPR_COLUMN && !ex_is_physloc_name(it->expr->u.col.name))
        return it->expr->u.col.name;   /* a virtual column has no name, as in SQL Server */
    (void)e;
    (void)p;
    return "";
}

typedef struct item_acc {
    bx **items;
    const char **names;
    int *assign;
    uint8_t *aop;
    int n, cap;
} item_acc;

static int push_item(sql_session *s, item_acc *a, bx *e, const char *name, int var, uint8_t op)
{
    if (a->n == a->cap) {
        int nc = a->cap ? a->cap * 2 : 16;
        bx **ni = q_salloc(s, sizeof(bx *) * (size_t)nc);
        const char **nn = q_salloc(s, sizeof(char *) * (size_t)nc);
        int *na = q_salloc(s, sizeof(int) * (size_t)nc);
        uint8_t *no = q_salloc(s, (size_t)nc);
        if (!ni || !nn || !na || !no)
            return -1;
        if (a->n) {
            ex_mcpy(ni, a->items, sizeof(bx *) * (size_t)a->n);
            ex_mcpy(nn, a->names, sizeof(char *) * (size_t)a->n);
            ex_mcpy(na, a->assign, sizeof(int) * (size_t)a->n);
            ex_mcpy(no, a->aop, (size_t)a->n);
        }
        a->items = ni;
        a->names = nn;
        a->assign = na;
        a->aop = no;
        a->cap = nc;
    }
    a->items[a->n] = e;
    a->names[a->n] = name;
    a->assign[a->n] = var;
    a->aop[a->n] = op;
    a->n++;
    return 0;
}

static bx *col_ref(sql_session *s, q_plan *p, int src, int col, int line)
{
    bx *e = q_salloc(s, sizeof *e);
    if (!e)
        return NULL;
    e->kind = BX_COL;
    e->line = line;
    e->u.col.src = src;
    e->u.col.col = col;
    e->t = p->srcs[src].types[col];
    e->nullable = p->srcs[src].nullable[col] || p->srcs[src].outer_null;
    return e;
}

static int expand_star(sql_session *s, q_plan *p, ast_expr *star, item_acc *acc)
{
    const ast_objname *q = &star->u.star.qual;
    bool any = false;
    for (int i = 0; i < p->nsrc; i++) {
        ex_src *src = &p->srcs[i];
        if (q->nparts) {
            bool match = src->alias ? (q->nparts == 1 && ex_name_eq(src->alias, q->object))
                                    : (src->table && ex_name_eq(src->table, q->object));
            if (!match)
                continue;
        }
        any = true;
        for (int c = 0; c < src->ncols; c++) {
            if (src->physloc_col && c == src->physloc_col)
                continue;   /* %%physloc%% is never part of * */
            bx *e = col_ref(s, p, i, c, star->line);
            if (!e || push_item(s, acc, e, src->colnames[c], -1, 0) < 0)
                return -1;
        }
    }
    if (!any) {
        if (q->nparts)
            return q_bfail(s, star->line, 4104, 16, 1, "The multi-part identifier \"%s\" could not be bound.", q->object);
        return q_bfail(s, star->line, 263, 16, 1, "Must specify table to select from.%s", "");
    }
    return 0;
}

static q_plan *bind_select(sql_session *s, bscope *parent, ast_select *sel)
{
    q_plan *p = q_salloc(s, sizeof *p);
    if (!p)
        return NULL;
    p->kind = QUERY_SELECT;
    bscope sc = { .parent = parent, .plan = p };
    if (q_bind_from(s, &sc, p, &sel->from) < 0)
        return NULL;
    p->src_filter = q_salloc(s, sizeof(bx *) * (size_t)(p->nsrc ? p->nsrc : 1));
    p->src_pk = q_salloc(s, sizeof(bx **) * (size_t)(p->nsrc ? p->nsrc : 1));
    if (!p->src_filter || !p->src_pk)
        return NULL;
    if (sel->where) {
        bx *w = bx_bind_pred(s, &sc, sel->where);
        if (!w)
            return NULL;
        p->has_where = true;
        if (split_where(s, p, w) < 0)
            return NULL;
        for (int i = 0; i < p->nsrc; i++)
            find_point_lookup(s, p, i);
    }
    if (find_join_keys(s, p->from) < 0)
        return NULL;
    if (sel->group_by.n) {
        p->group = q_salloc(s, sizeof(bx *) * (size_t)sel->group_by.n);
        if (!p->group)
            return NULL;
        for (int i = 0; i < sel->group_by.n; i++) {
            if (!(p->group[i] = bx_bind(s, &sc, sel->group_by.v[i])))
                return NULL;
            if (bx_has_agg(p->group[i]))
                return q_bfail(s, sel->group_by.v[i]->line, 144, 15, 1, "Cannot use an aggregate or a subquery in an expression used for the group by list of a GROUP BY clause.%s", ""), NULL;
        }
        p->ngroup = sel->group_by.n;
        p->grouped = true;
    }
    bscope isc = sc;
    isc.allow_agg = true;
    isc.allow_win = true;
    item_acc acc = { 0 };
    for (int i = 0; i < sel->items.n; i++) {
        ast_select_item *it = sel->items.v[i];
        if (it->kind == SELITEM_EXPR && it->expr && it->expr->kind == EXPR_STAR) {
            if (expand_star(s, p, it->expr, &acc) < 0)
                return NULL;
            continue;
        }
        bx *e = bx_bind(s, &isc, it->expr);
        if (!e)
            return NULL;
        if (it->kind == SELITEM_ASSIGN) {
            int v = ex_var_find(s, it->var);
            if (v < 0)
                return q_bfail(s, it->expr->line, 137, 15, 2, "Must declare the scalar variable \"%s\".", it->var), NULL;
            if (push_item(s, &acc, e, "", v, (uint8_t)it->assign_op) < 0)
                return NULL;
        } else if (push_item(s, &acc, e, item_name(it, e, p), -1, 0) < 0) {
            return NULL;
        }
    }
    p->nitems = acc.n;
    p->items = acc.items;
    bool any_assign = false, any_plain = false;
    for (int i = 0; i < acc.n; i++) {
        if (acc.assign[i] >= 0)
            any_assign = true;
        else
            any_plain = true;
    }
    if (any_assign && any_plain)
        return q_bfail(s, sel->items.v[0]->expr ? sel->items.v[0]->expr->line : 0, 141, 15, 1,
                     "A SELECT statement that assigns a value to a variable must not be combined with data-retrieval operations.%s", ""), NULL;
    if (any_assign) {
        p->assign_var = acc.assign;
        p->assign_op = acc.aop;
    }
    p->cols = q_salloc(s, sizeof(sql_column) * (size_t)(acc.n ? acc.n : 1));
    p->untyped = q_salloc(s, (size_t)(acc.n ? acc.n : 1));
    if (!p->cols || !p->untyped)
        return NULL;
    for (int i = 0; i < acc.n; i++) {
        bx *e = acc.items[i];
        p->cols[i].name = acc.names[i];
        p->cols[i].type = e->t;
        p->untyped[i] = e->null_lit;
        if (e->null_lit)
            p->cols[i].type = value_type(SQL_INT, 0, 0, 0);
        p->cols[i].nullable = e->nullable;
        if (e->kind == BX_COL && e->u.col.depth == 0 && p->srcs[e->u.col.src].td &&
            e->u.col.col < p->srcs[e->u.col.src].td->ncols)
            p->cols[i].identity = p->srcs[e->u.col.src].td->cols[e->u.col.col].identity;
    }
    if (sel->having) {
        isc.allow_win = false;
        p->having = bx_bind_pred(s, &isc, sel->having);
        if (!p->having)
            return NULL;
        p->grouped = true;
    }
    if (p->grouped) {
        for (int i = 0; i < p->nitems; i++)
            if (check_grouped(s, p, p->items[i]) < 0)
                return NULL;
        if (p->having && check_grouped(s, p, p->having) < 0)
            return NULL;
    }
    p->distinct = sel->distinct;
    if (sel->top) {
        bscope tsc = { .parent = parent, .no_columns = true };
        p->top = bx_bind(s, &tsc, sel->top);
        if (!p->top)
            return NULL;
        p->top_percent = sel->top_percent;
        p->with_ties = sel->top_with_ties;
    }
    if (sel->into)
        return q_bfail(s, sel->into->line, 40012, 16, 1, "SELECT ... INTO %s is not supported yet.", sel->into->object), NULL;
    return p;
}

/* ------------------------------------------------------------ ORDER BY */

static int bind_order(sql_session *s, bscope *parent, q_plan *p, ast_order_list *ob, bool setop)
{
    int n = ob->n;
    if (!n)
        return 0;
    p->order = q_salloc(s, sizeof(bx *) * (size_t)n);
    p->order_item = q_salloc(s, sizeof(int) * (size_t)n);
    p->order_desc = q_salloc(s, sizeof(bool) * (size_t)n);
    if (!p->order || !p->order_item || !p->order_desc)
        return -1;
    p->norder = n;
    for (int i = 0; i < n; i++) {
        ast_expr *e = ob->v[i]->expr;
        p->order_desc[i] = ob->v[i]->desc;
        p->order_item[i] = -1;
        const sql_value *lv = NULL;
        const sql_type *lt = NULL;
        if (e->kind == EXPR_LITERAL)
            ex_literal(s, e, &lv, &lt);
        if (lt && lt->id == SQL_INT && !lv->is_null) {
            int64_t k = lv->u.i;
            if (k < 1 || k > p->nitems) {
                char m[200];
                snprintf(m, sizeof m, "The ORDER BY position number %lld is out of range of the number of items in the select list.", (long long)k);
                hdb_raise_text(&s->err, 108, 15, 1, m);
                s->err_line = e->line;
                return -1;
            }
            p->order_item[i] = (int)k - 1;
            continue;
        }
        if (e->kind == EXPR_COLUMN && e->u.col.qual.nparts == 0) {
            int found = -1;
            for (int k = 0; k < p->nitems; k++)
                if (p->cols[k].name && ex_name_eq(p->cols[k].name, e->u.col.name)) {
                    found = k;
                    break;
                }
            if (found >= 0) {
                p->order_item[i] = found;
                continue;
            }
        }
        if (setop)
            return q_bfail(s, e->line, 104, 16, 1, "ORDER BY items must appear in the select list if the statement contains a UNION, INTERSECT or EXCEPT operator.%s", "");
        bscope sc = { .parent = parent, .plan = p, .allow_agg = p->grouped, .allow_win = true };
        bx *b = bx_bind(s, &sc, e);
        if (!b)
            return -1;
        if (b->kind == BX_AGG || bx_has_agg(b))
            p->grouped = true;
        for (int k = 0; k < p->nitems; k++)
            if (bx_equal(b, p->items[k])) {
                p->order_item[i] = k;
                break;
            }
        if (p->order_item[i] < 0) {
            if (p->distinct)
                return q_bfail(s, e->line, 145, 15, 1, "ORDER BY items must appear in the select list if SELECT DISTINCT is specified.%s", "");
            if (p->grouped && check_grouped(s, p, b) < 0)
                return -1;
            p->order[i] = b;
        }
    }
    return 0;
}

/* ------------------------------------------------------------ queries */

q_plan *q_bind(sql_session *s, bscope *parent, ast_query *q, bool top_level)
{
    (void)top_level;
    /* each query level costs a few KiB of stack when it runs; server threads
     * have 256 KiB */
    int depth = 0;
    for (bscope *b = parent; b; b = b->parent)
        depth++;
    if (depth > 32) {
        hdb_raise_text(&s->err, 191, 15, 1, "Some part of your SQL statement is nested too deeply. Rewrite the query or break it up into smaller queries.");
        return NULL;
    }
    ast_cte_list *saved = s->ctes;
    if (q->ctes.n)
        s->ctes = &q->ctes;
    q_plan *p;
    if (q->kind == QUERY_SELECT) {
        p = bind_select(s, parent, q->select);
    } else {
        q_plan *l = q_bind(s, parent, q->left, false);
        q_plan *r = l ? q_bind(s, parent, q->right, false) : NULL;
        p = NULL;
        if (r) {
            if (l->nitems != r->nitems) {
                q_bfail(s, 0, 205, 16, 1, "All queries combined using a UNION, INTERSECT or EXCEPT operator must have an equal number of expressions in their target lists.%s", "");
            } else if ((p = q_salloc(s, sizeof *p))) {
                p->kind = q->kind;
                p->left = l;
                p->right = r;
                p->nitems = l->nitems;
                p->cols = q_salloc(s, sizeof(sql_column) * (size_t)(l->nitems ? l->nitems : 1));
                p->untyped = q_salloc(s, (size_t)(l->nitems ? l->nitems : 1));
                if (!p->cols || !p->untyped)
                    p = NULL;
                for (int i = 0; p && i < l->nitems; i++) {
                    bool lu = l->untyped && l->untyped[i], ru = r->untyped && r->untyped[i];
                    p->cols[i] = l->cols[i];
                    p->untyped[i] = lu && ru;
                    /* SELECT N'a' UNION ALL SELECT NULL is nvarchar: a bare NULL has no type */
                    if (lu || ru)
                        p->cols[i].type = lu ? r->cols[i].type : l->cols[i].type;
                    else if (bx_common_type(s, &l->cols[i].type, &r->cols[i].type, &p->cols[i].type, 0) < 0)
                        p = NULL;
                    if (p)
                        p->cols[i].nullable = l->cols[i].nullable || r->cols[i].nullable;
                }
                if (p)
                    p->correlated = l->correlated || r->correlated;
            }
        }
    }
    if (p && (q->order_by.n || q->offset)) {
        if (bind_order(s, parent, p, &q->order_by, p->kind != QUERY_SELECT) < 0)
            p = NULL;
    }
    if (p && q->offset) {
        bscope tsc = { .parent = parent, .no_columns = true };
        p->offset = bx_bind(s, &tsc, q->offset);
        if (p->offset && q->fetch)
            p->fetch = bx_bind(s, &tsc, q->fetch);
        if (!p->offset || (q->fetch && !p->fetch))
            p = NULL;
    }
    s->ctes = saved;
    return p;
}

/* ------------------------------------------------------------ SELECT statement */

typedef struct sink_ctx {
    sql_session *s;
    const sql_column *cols;
    int ncols;
    uint64_t rows;
} sink_ctx;

/* Values must fit their column exactly on the wire (padded char, length
 * within the declared size). */
int ex_send_built_row(sql_session *s, const sql_column *cols, int n, sql_value *row)
{
    ex_env env;
    ex_env_init(&env, s);
    env.a = &s->row_arena;
    if (q_fit_row(&env, cols, n, row) < 0 || ex_reads_durable(s, &s->err) < 0)
        return EX_ERROR;
    if (s->sink && s->sink->row && s->sink->row(s->sink->ctx, row, n) < 0) {
        s->sink_failed = true;
        return EX_FATAL;
    }
    arena_reset(&s->row_arena);
    return EX_OK;
}

int q_fit_row(ex_env *env, const sql_column *cols, int n, sql_value *row)
{
    for (int i = 0; i < n; i++) {
        sql_value *v = &row[i];
        const sql_type *t = &cols[i].type;
        if (v->is_null) {
            v->type = t->id;
            continue;
        }
        if (v->type && v->type != t->id && !((v->type == SQL_DECIMAL || v->type == SQL_NUMERIC) &&
                                               (t->id == SQL_DECIMAL || t->id == SQL_NUMERIC))) {
            sql_type from = value_type(v->type, VALUE_LEN_MAX, 38, 0);
            sql_value c;
            if (cv_convert(env, v, &from, t, -1, false, &c) < 0)
                return -1;
            *v = c;
        }
        v->type = t->id;
        if (value_type_is_string(t->id) || value_type_is_binary(t->id)) {
            int64_t cap = value_type_max_bytes(t);
            if (cap >= 0 && v->len > cap)
                v->len = (uint32_t)cap;
            if (value_type_is_unicode(t->id) && (v->len & 1))
                v->len--;
            if ((t->id == SQL_CHAR || t->id == SQL_NCHAR || t->id == SQL_BINARY) && cap > 0 && v->len < cap) {
                sql_value c;
                if (cv_convert(env, v, t, t, -1, false, &c) < 0)
                    return -1;
                *v = c;
            }
        }
    }
    return 0;
}

static int emit_sink(void *ctx, sql_value *row, int ncols)
{
    sink_ctx *c = ctx;
    sql_session *s = c->s;
    ex_env env;
    ex_env_init(&env, s);
    env.a = &s->row_arena;
    if (q_fit_row(&env, c->cols, ncols, row) < 0 || ex_reads_durable(s, &s->err) < 0)
        return -1;
    if (s->sink && s->sink->row && s->sink->row(s->sink->ctx, row, ncols) < 0) {
        s->sink_failed = true;
        hdb_raise_text(&s->err, 40000, 20, 1, "The connection was broken while sending results.");
        return -1;
    }
    c->rows++;
    if ((c->rows & 1023) == 0 && ex_cancelled(s)) {
        hdb_raise_text(&s->err, 3980, 16, 1, "The request was cancelled.");
        return -1;
    }
    return 0;
}

typedef struct into_ctx {
    sql_session *s;
    database *db;
    table_def *td;
    uint64_t rows;
} into_ctx;

static int emit_into(void *ctx, sql_value *row, int ncols)
{
    into_ctx *c = ctx;
    sql_session *s = c->s;
    ex_env env;
    ex_env_init(&env, s);
    env.a = &s->row_arena;
    sql_column *cols = arena_alloc(&s->row_arena, sizeof *cols * (size_t)(ncols ? ncols : 1));
    if (!cols)
        return -1;
    for (int i = 0; i < ncols; i++)
        cols[i].type = c->td->types[i];
    if (q_fit_row(&env, cols, ncols, row) < 0 || table_insert(s->tx, c->db, c->td, row, &s->err) < 0)
        return -1;
    c->rows++;
    return 0;
}

/* SELECT ... INTO t FROM ...: create t from the result's shape, fill it. */
static int select_into(sql_session *s, ast_query *q, ast_objname *into)
{
    q_plan *p = q_bind(s, NULL, q, true);
    if (!p)
        return ex_bind_fail(s);
    if (p->assign_var)
        return ex_failf(s, 141, 15, 1, "A SELECT statement that assigns a value to a variable must not be combined with data-retrieval operations.");
    if (ex_stmt_begin(s, true) < 0)
        return EX_ERROR;
    into_ctx c = { .s = s };
    int rc = ex_create_table_for(s, into, p->cols, p->nitems, &c.db, &c.td) == EX_OK ? 0 : -1;
    if (rc == 0) {
        ex_env env;
        ex_env_init(&env, s);
        env.reset_rows = true;
        rc = q_run(&env, p, emit_into, &c) < 0 ? -1 : 0;
    }
    if (ex_stmt_end(s, rc) < 0)
        return EX_ERROR;
    s->rowcount = (int64_t)c.rows;
    return ex_done(s, 0, CMD_SELECT, c.rows, true);
}

int ex_select(sql_session *s, ast_stmt *st)
{
    ast_query *q = st->u.query;
    ast_query *first = q;
    while (first->kind != QUERY_SELECT && first->left)
        first = first->left;
    if (first->kind == QUERY_SELECT && first->select->into) {
        ast_objname *into = first->select->into;
        first->select->into = NULL;        /* bound as a plain query */
        int rc = select_into(s, q, into);
        first->select->into = into;
        return rc;
    }
    q_plan *p = q_bind(s, NULL, q, true);
    if (!p)
        return ex_bind_fail(s);
    if (ex_stmt_begin(s, false) < 0)
        return EX_ERROR;
    ex_env env;
    ex_env_init(&env, s);
    env.reset_rows = true;
    sink_ctx c = { .s = s, .cols = p->cols, .ncols = p->nitems };
    int rc;
    if (p->assign_var) {
        rc = q_run(&env, p, NULL, &c);
        if (rc >= 0)
            c.rows = (uint64_t)rc;
    } else {
        if (s->sink && s->sink->columns && s->sink->columns(s->sink->ctx, p->cols, p->nitems) < 0) {
            s->sink_failed = true;
            ex_stmt_end(s, -1);
            return EX_FATAL;
        }
        rc = q_run(&env, p, emit_sink, &c);
    }
    rc = ex_stmt_end(s, rc < 0 ? -1 : 0);
    if (s->sink_failed)
        return EX_FATAL;
    if (rc < 0)
        return EX_ERROR;
    s->rowcount = (int64_t)c.rows;
    return ex_done(s, 0, CMD_SELECT, c.rows, true);
}

/* ------------------------------------------------------------ DML support */

/* A plan over one base table (CHECK constraints, OUTPUT pseudo-tables). */
q_plan *q_table_plan(sql_session *s, database *db, table_def *td, const char *alias, int ncopies,
                     const char *const *aliases)
{
    q_plan *p = q_salloc(s, sizeof *p);
    if (!p)
        return NULL;
    p->kind = QUERY_SELECT;
    int n = ncopies > 0 ? ncopies : 1;
    for (int k = 0; k < n; k++) {
        ex_src *src;
        if (q_add_src(s, p, &src) < 0)
            return NULL;
        src->kind = SRC_TABLE;
        src->db = db;
        src->td = td;
        src->alias = ncopies > 0 ? aliases[k] : alias;
        src->table = td->name;
        char sb[130];
        const char *sn = ex_schema_name(db, td->schema_id, sb);
        src->schema = sn ? arena_strdup(&s->stmt_arena, sn) : "dbo";
        src->dbname = db->tdb.name;
        src->ncols = td->ncols;
        src->types = td->types;
        src->colnames = q_salloc(s, sizeof(char *) * (size_t)td->ncols);
        src->nullable = q_salloc(s, (size_t)td->ncols);
        if (!src->colnames || !src->nullable)
            return NULL;
        for (int i = 0; i < td->ncols; i++) {
            src->colnames[i] = td->cols[i].name;
            src->nullable[i] = td->cols[i].nullable;
        }
    }
    p->src_filter = q_salloc(s, sizeof(bx *) * (size_t)n);
    p->src_pk = q_salloc(s, sizeof(bx **) * (size_t)n);
    if (!p->src_filter || !p->src_pk)
        return NULL;
    return p;
}

/* UPDATE / DELETE: FROM (or just the target), the target's source index and
 * the WHERE split as for a SELECT. */
q_plan *q_bind_dml(sql_session *s, ast_tableref *target, ast_tableref_list *from, ast_expr *where, int *tsrc)
{
    q_plan *p = q_salloc(s, sizeof *p);
    if (!p)
        return NULL;
    p->kind = QUERY_SELECT;
    bscope sc = { .plan = p };
    ast_tableref tv;
    if (target->kind == TREF_VARIABLE) {
        tv = *target;
        tv.kind = TREF_TABLE;
        memset(&tv.name, 0, sizeof tv.name);
        tv.name.object = target->var;
        tv.name.nparts = 1;
        tv.name.line = target->line;
        target = &tv;
    }
    if (target->kind != TREF_TABLE)
        return q_bfail(s, target->line, 102, 15, 1, "Incorrect syntax near '%s'.", "UPDATE"), NULL;
    if (from->n && q_bind_from(s, &sc, p, from) < 0)
        return NULL;
    *tsrc = -1;
    /* the target names a FROM source by alias, else by table name */
    if (target->name.nparts == 1) {
        for (int i = 0; i < p->nsrc && *tsrc < 0; i++)
            if (p->srcs[i].alias && ex_name_eq(p->srcs[i].alias, target->name.object))
                *tsrc = i;
    }
    for (int i = 0; i < p->nsrc && *tsrc < 0; i++)
        if (!p->srcs[i].alias && p->srcs[i].table && ex_name_eq(p->srcs[i].table, target->name.object))
            *tsrc = i;
    if (*tsrc < 0) {
        q_from *f;
        if (q_bind_tref(s, &sc, p, target, &f) < 0)
            return NULL;
        *tsrc = f->src;
        if (p->from) {
            q_from *j = q_salloc(s, sizeof *j);
            if (!j)
                return NULL;
            j->join = JOIN_CROSS;
            j->l = f;
            j->r = p->from;
            j->lo = 0;
            j->hi = p->nsrc;
            f = j;
        }
        p->from = f;
    }
    ex_src *t = &p->srcs[*tsrc];
    /* phase 2 re-reads the target by key (exec_dml.c), which knows no place */
    t->physloc_ok = false;
    if (t->kind != SRC_TABLE) {
        if (t->kind == SRC_ROWS)
            return q_bfail(s, target->line, 259, 16, 1, "Ad hoc updates to system catalogs are not allowed.%s", ""), NULL;
        return q_bfail(s, target->line, 4405, 16, 1, "View or function '%s' is not updatable because the modification affects multiple base tables.", target->name.object), NULL;
    }
    if (t->outer_null)
        return q_bfail(s, target->line, 40014, 16, 1, "The target of UPDATE/DELETE cannot be the inner side of an outer join (%s).", target->name.object), NULL;
    p->src_filter = q_salloc(s, sizeof(bx *) * (size_t)p->nsrc);
    p->src_pk = q_salloc(s, sizeof(bx **) * (size_t)p->nsrc);
    if (!p->src_filter || !p->src_pk)
        return NULL;
    if (where) {
        bx *w = bx_bind_pred(s, &sc, where);
        if (!w || split_where(s, p, w) < 0)
            return NULL;
        p->has_where = true;
        for (int i = 0; i < p->nsrc; i++)
            find_point_lookup(s, p, i);
    }
    if (find_join_keys(s, p->from) < 0)
        return NULL;
    return p;
}

/* OUTPUT items over the pseudo-tables: inserted and/or deleted (sources 0 and
 * 1 of the returned plan, both shaped like the target table). */
q_plan *q_bind_output(sql_session *s, ast_output *o, database *db, table_def *td)
{
    if (o->into)
        return q_bfail(s, 0, 40015, 16, 1, "OUTPUT ... INTO is not supported yet.%s", ""), NULL;
    static const char *const names[2] = { "inserted", "deleted" };
    q_plan *p = q_table_plan(s, db, td, NULL, 2, names);
    if (!p)
        return NULL;
    for (int i = 0; i < 2; i++)
        p->srcs[i].table = NULL;
    bscope sc = { .plan = p };
    item_acc acc = { 0 };
    for (int i = 0; i < o->items.n; i++) {
        ast_select_item *it = o->items.v[i];
        if (it->expr && it->expr->kind == EXPR_STAR) {
            if (expand_star(s, p, it->expr, &acc) < 0)
                return NULL;
            continue;
        }
        bx *e = bx_bind(s, &sc, it->expr);
        if (!e || push_item(s, &acc, e, item_name(it, e, p), -1, 0) < 0)
            return NULL;
    }
    p->nitems = acc.n;
    p->items = acc.items;
    p->cols = q_salloc(s, sizeof(sql_column) * (size_t)(acc.n ? acc.n : 1));
    if (!p->cols)
        return NULL;
    for (int i = 0; i < acc.n; i++) {
        p->cols[i].name = acc.names[i];
        p->cols[i].type = acc.items[i]->t;
        p->cols[i].nullable = acc.items[i]->nullable;
    }
    return p;
}
