/*
 * exec_query.c — the row sources of bound queries: scans and point lookups
 * of base tables (and row-id walks of heaps for UPDATE/DELETE), computed rows
 * (system views, derived tables), nested-loop joins (inner, left/right, full,
 * cross), WHERE. What happens to the rows (grouping, ordering, TOP, set
 * operations) is exec_group.c.
 *
 * Rows flow by callback (push): q_iterate calls fn once per joined row that
 * passes the WHERE, with env->rows pointing at each source's current values.
 * A query's result rows go to an emit callback; returning 1 from a callback
 * stops the iteration early (TOP, EXISTS).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sql/exec_int.h"

static int oom(ex_env *env)
{
    return hdb_raise_text(env->err, 701, 19, 1, "There is insufficient system memory to run this query.");
}

static arena *keep(ex_env *env) { return &env->s->stmt_arena; }

sql_value *q_copy_row(ex_env *env, const sql_value *vals, int n)
{
    sql_value *r = arena_alloc(keep(env), sizeof *r * (size_t)(n ? n : 1));
    if (!r)
        return NULL;
    for (int i = 0; i < n; i++)
        if (cv_copy(keep(env), &vals[i], &r[i]) < 0)
            return NULL;
    return r;
}

sql_value *q_null_row(ex_env *env, const ex_src *src)
{
    sql_value *r = arena_alloc(keep(env), sizeof *r * (size_t)(src->ncols ? src->ncols : 1));
    if (!r)
        return NULL;
    for (int i = 0; i < src->ncols; i++)
        r[i] = value_null(src->types[i].id);
    return r;
}

/* ------------------------------------------------------------ leaves */

typedef struct iter {
    ex_env   *env;
    q_plan   *p;
    q_row_fn  fn;
    void     *ctx;
} iter;

static int leaf_rows(ex_env *env, q_plan *p, int srcno, sql_value ***rows, int *n)
{
    ex_src *src = &p->srcs[srcno];
    if (src->kind == SRC_ROWS) {
        database *db = src->db;
        if (src->view_arg) {
            sql_value v;
            if (ex_eval(env, src->view_arg, &v) < 0)
                return -1;
            if (!v.is_null) {
                if (!ty_int(src->view_arg->t.id) || !(db = inst_database(env->s->in, (uint32_t)v.u.i))) {
                    *rows = NULL;
                    *n = 0;
                    return 0;
                }
            }
        }
        return sv_view_rows(env->s, db, src->view, keep(env), rows, n, env->err);
    }
    /* derived table: its plan was bound in the enclosing query's scope, so
     * it runs against that query's environment */
    if (env->outer)
        return q_collect(env->outer, src->derived, rows, n);
    ex_env blank = *env;
    blank.rows = NULL;
    blank.outer = NULL;
    blank.aggs = NULL;
    blank.reset_rows = false;
    return q_collect(&blank, src->derived, rows, n);
}

static int filter_ok(ex_env *env, q_plan *p, int srcno, int *ok)
{
    *ok = 1;
    if (!p->src_filter[srcno])
        return 0;
    int t;
    if (ex_truth(env, p->src_filter[srcno], &t) < 0)
        return -1;
    *ok = t == 1;
    return 0;
}

/* Point lookup through the clustered key: -1 error, 0 done (row delivered
 * or absent), 1 not applicable. */
static int leaf_lookup(ex_env *env, q_plan *p, int srcno, int iso, int (*cb)(void *, ex_env *), void *ctx,
                       int *stop)
{
    ex_src *src = &p->srcs[srcno];
    bx **keys = p->src_pk[srcno];
    if (!keys)
        return 1;
    tbl_index *x = &src->td->idx[0];
    sql_value kv[TBL_MAX_KEYCOLS];
    for (int k = 0; k < x->nkeys; k++) {
        sql_value v;
        if (ex_eval(env, keys[k], &v) < 0)
            return -1;
        if (v.is_null)
            return 0;
        const sql_type *ct = &src->td->types[x->keycols[k]];
        hdb_err tmp, *saved = env->err;
        hdb_err_clear(&tmp);
        env->err = &tmp;
        int rc = cv_convert(env, &v, &keys[k]->t, ct, -3, false, &kv[k]);
        env->err = saved;
        if (rc < 0)
            return 1;     /* not representable in the key type: scan instead */
    }
    txn *t = ex_txn(env->s, true, env->err);
    if (!t)
        return -1;
    table_row row;
    int rc = table_get(t, src->db, src->td, kv, iso, &row, env->err);
    if (rc < 0)
        return -1;
    if (rc == 0)
        return 0;
    env->rows[srcno] = row.vals;
    int ok;
    rc = filter_ok(env, p, srcno, &ok);
    if (rc == 0 && ok)
        rc = cb(ctx, env);
    env->rows[srcno] = NULL;
    table_row_free(&row);
    if (rc > 0)
        *stop = 1;
    return rc < 0 ? -1 : 0;
}

/* A bound expression simple enough to evaluate before the scan. */
static bool range_operand(const bx *o)
{
    switch (o->kind) {
    case BX_CONST: case BX_VAR:
        return true;
    case BX_COL:
        return o->u.col.depth > 0;
    case BX_UNARY: case BX_CAST:
        return range_operand(o->args[0]);
    default:
        return false;
    }
}

static void tighten(table_bound *b, sql_value *slot, const sql_value *v, bool incl, bool lower)
{
    if (b->n) {
        int c = (v->u.i > slot->u.i) - (v->u.i < slot->u.i);
        if ((lower ? c < 0 : c > 0) || (c == 0 && (incl || !b->inclusive)))
            return;
    }
    *slot = *v;
    b->vals = slot;
    b->n = 1;
    b->inclusive = incl;
}

/* Bounds on an integer leading clustered key column from the source's own
 * WHERE conjuncts (col < > <= >= = value), so that the scan reads only that key
 * range — and under SERIALIZABLE locks only that range. Integer to integer
 * conversion is exact or fails, so the range never misses a row; the filter
 * still runs on every row read. lo->n / hi->n stay 0 without a bound. */
static int leaf_range(ex_env *env, q_plan *p, int srcno, table_bound *lo, table_bound *hi, sql_value *vals)
{
    ex_src *src = &p->srcs[srcno];
    const tbl_index *x = &src->td->idx[0];
    memset(lo, 0, sizeof *lo);
    memset(hi, 0, sizeof *hi);
    const sql_type *kt = &src->td->types[x->keycols[0]];
    if (x->hidden_key || !p->src_filter[srcno] || !ty_int(kt->id))
        return 0;
    bx *conj[64];
    int nconj = q_conjuncts(p->src_filter[srcno], conj, 64);
    for (int j = 0; j < nconj; j++) {
        bx *e = conj[j];
        if (e->kind != BX_CMP || e->op == AST_OP_NE)
            continue;
        for (int side = 0; side < 2; side++) {
            bx *c = e->args[side], *o = e->args[1 - side];
            if (c->kind == BX_CAST && ty_int(c->t.id) && c->t.id >= kt->id)
                c = c->args[0];          /* widened column: same order */
            if (c->kind != BX_COL || c->u.col.depth != 0 || c->u.col.src != srcno ||
                c->u.col.col != x->keycols[0] || !ty_int(o->t.id) || !range_operand(o))
                continue;
            sql_value v, kv;
            if (ex_eval(env, o, &v) < 0)
                return -1;
            if (v.is_null)
                break;
            hdb_err tmp, *saved = env->err;
            hdb_err_clear(&tmp);
            env->err = &tmp;
            int rc = cv_convert(env, &v, &o->t, kt, -3, false, &kv);
            env->err = saved;
            if (rc < 0)
                break;                   /* out of the key type's range: no bound */
            int op = e->op;
            if (side == 1)               /* value op col: turn it round */
                op = op == AST_OP_LT ? AST_OP_GT : op == AST_OP_GT ? AST_OP_LT
                   : op == AST_OP_LE ? AST_OP_GE : op == AST_OP_GE ? AST_OP_LE : op;
            if (op == AST_OP_GT || op == AST_OP_GE || op == AST_OP_EQ)
                tighten(lo, &vals[0], &kv, op != AST_OP_GT, true);
            if (op == AST_OP_LT || op == AST_OP_LE || op == AST_OP_EQ)
                tighten(hi, &vals[1], &kv, op != AST_OP_LT, false);
            break;
        }
    }
    if (x->desc[0]) {                    /* index order runs the other way */
        table_bound t = *lo;
        *lo = *hi;
        *hi = t;
    }
    return 0;
}

/* A heap that UPDATE/DELETE will change: walk its row ids (table_scan does
 * not report them) and read each row through table_get, which locks. */
static int heap_iter(ex_env *env, q_plan *p, int srcno, int iso, int (*cb)(void *, ex_env *), void *ctx)
{
    ex_src *src = &p->srcs[srcno];
    txn *t = ex_txn(env->s, true, env->err);
    if (!t)
        return -1;
    bt_cursor *c = bt_cursor_open(&src->td->idx[0].bt, NULL, 0, 1, env->err);
    if (!c)
        return -1;
    int rc = 0, k;
    const uint8_t *key, *val;
    size_t kl, vl;
    uint64_t n = 0;
    while ((k = bt_cursor_next(c, &key, &kl, &val, &vl, env->err)) == 1) {
        if (kl != 8)
            continue;
        uint64_t x = 0;
        for (int i = 0; i < 8; i++)
            x = x << 8 | key[i];
        int64_t rowid = (int64_t)(x ^ (1ull << 63));
        if ((++n & 1023) == 0 && ex_cancelled(env->s)) {
            hdb_raise_text(env->err, 3980, 16, 1, "The request was cancelled.");
            rc = -1;
            break;
        }
        sql_value kv = value_int(SQL_BIGINT, rowid);
        table_row row;
        int g = table_get(t, src->db, src->td, &kv, iso, &row, env->err);
        if (g < 0) {
            rc = -1;
            break;
        }
        if (g == 0)
            continue;
        env->rows[srcno] = row.vals;
        if (env->rowids)
            env->rowids[srcno] = rowid;
        int ok;
        rc = filter_ok(env, p, srcno, &ok);
        if (rc == 0 && ok)
            rc = cb(ctx, env);
        env->rows[srcno] = NULL;
        table_row_free(&row);
        if (rc != 0)
            break;
    }
    if (k < 0)
        rc = -1;
    bt_cursor_close(c);
    return rc;
}

static int leaf_iter(ex_env *env, q_plan *p, int srcno, int (*cb)(void *, ex_env *), void *ctx)
{
    ex_src *src = &p->srcs[srcno];
    if (src->kind != SRC_TABLE) {
        sql_value **rows;
        int n;
        if (leaf_rows(env, p, srcno, &rows, &n) < 0)
            return -1;
        for (int i = 0; i < n; i++) {
            env->rows[srcno] = rows[i];
            int ok;
            if (filter_ok(env, p, srcno, &ok) < 0)
                return -1;
            if (!ok)
                continue;
            int rc = cb(ctx, env);
            if (rc != 0)
                return rc;
        }
        env->rows[srcno] = NULL;
        return 0;
    }
    int iso = ex_iso_of(env->s, src->iso);
    if (src->want_rowid && src->td->idx[0].hidden_key)
        return heap_iter(env, p, srcno, iso, cb, ctx);
    int stop = 0;
    /* a point lookup cannot say where the row is: %%physloc%% scans */
    int rc = src->physloc_col ? 1 : leaf_lookup(env, p, srcno, iso, cb, ctx, &stop);
    if (rc <= 0)
        return rc < 0 ? -1 : stop;
    sql_value *placed = src->physloc_col ? ex_physloc_rowbuf(env, src) : NULL;
    if (src->physloc_col && !placed)
        return -1;
    txn *t = ex_txn(env->s, true, env->err);
    if (!t)
        return -1;
    table_bound lo, hi;
    sql_value bvals[2];
    if (leaf_range(env, p, srcno, &lo, &hi, bvals) < 0)
        return -1;
    table_scan *sc = table_scan_open_range(t, src->db, src->td, iso, lo.n ? &lo : NULL, hi.n ? &hi : NULL, env->err);
    if (!sc)
        return -1;
    table_row row;
    uint64_t n = 0;
    rc = 0;
    int k;
    while ((k = table_scan_next(sc, &row, env->err)) == 1) {
        if ((++n & 1023) == 0 && ex_cancelled(env->s)) {
            hdb_raise_text(env->err, 3980, 16, 1, "The request was cancelled.");
            rc = -1;
            break;
        }
        env->rows[srcno] = row.vals;
        if (placed) {
            pgid_t page = 0;
            int slot = 0;
            table_scan_where(sc, &page, &slot);
            ex_physloc_fill(placed, src, &row, page, slot);
            env->rows[srcno] = placed;
        }
        int ok;
        if (filter_ok(env, p, srcno, &ok) < 0) {
            rc = -1;
            break;
        }
        if (!ok)
            continue;
        rc = cb(ctx, env);
        if (rc != 0)
            break;
    }
    if (k < 0)
        rc = -1;
    env->rows[srcno] = NULL;
    table_scan_close(sc);
    return rc;
}

/* ------------------------------------------------------------ joins */

typedef struct combos {
    ex_env      *env;
    int          lo, hi;
    sql_value ***rows;       /* rows[i][src - lo] */
    int          n, cap;
} combos;

static int combo_cb(void *ctx, ex_env *env)
{
    combos *c = ctx;
    if (c->n == c->cap) {
        int nc = c->cap ? c->cap * 2 : 64;
        sql_value ***nr = arena_alloc(keep(env), sizeof *nr * (size_t)nc);
        if (!nr)
            return oom(env);
        if (c->n)
            ex_mcpy(nr, c->rows, sizeof *nr * (size_t)c->n);
        c->rows = nr;
        c->cap = nc;
    }
    int w = c->hi - c->lo;
    sql_value **one = arena_alloc(keep(env), sizeof *one * (size_t)w);
    if (!one)
        return oom(env);
    for (int i = 0; i < w; i++)
        one[i] = env->rows[c->lo + i];
    c->rows[c->n++] = one;
    return 0;
}

static int node_iter(ex_env *env, q_plan *p, q_from *f, int (*cb)(void *, ex_env *), void *ctx);

typedef struct copy_ctx {
    combos *c;
    q_plan *p;
} copy_ctx;

/* Materialize copies (the leaf values die with the scan's next row). */
static int copy_cb(void *ctx, ex_env *env)
{
    copy_ctx *cc = ctx;
    combos *c = cc->c;
    if (combo_cb(c, env) < 0)
        return -1;
    sql_value **one = c->rows[c->n - 1];
    for (int i = 0; i < c->hi - c->lo; i++) {
        ex_src *src = &cc->p->srcs[c->lo + i];
        one[i] = one[i] ? q_copy_row(env, one[i], src->ncols) : NULL;
        if (!one[i] && env->rows[c->lo + i])
            return oom(env);
    }
    return 0;
}

static void set_right(ex_env *env, combos *r, int i)
{
    for (int k = 0; k < r->hi - r->lo; k++)
        env->rows[r->lo + k] = r->rows[i][k];
}

typedef struct join_ctx {
    q_plan  *p;
    q_from  *f;
    combos  *right;
    bool    *matched;
    int    (*cb)(void *, ex_env *);
    void    *ctx;
    /* hash join: buckets of right combos by key hash */
    int      nb;
    int     *head, *next;        /* combo index + 1 chains */
    uint64_t *hash;
    sql_value **keys;            /* per combo: its key values */
} join_ctx;

/* Hash the right side's combos on the join keys (NULL keys never match). */
static int build_hash(ex_env *env, join_ctx *j)
{
    q_from *f = j->f;
    combos *r = j->right;
    int nb = 1;
    while (nb < r->n * 2)
        nb <<= 1;
    j->nb = nb;
    j->head = arena_calloc(keep(env), sizeof(int) * (size_t)nb);
    j->next = arena_calloc(keep(env), sizeof(int) * (size_t)(r->n ? r->n : 1));
    j->hash = arena_alloc(keep(env), sizeof(uint64_t) * (size_t)(r->n ? r->n : 1));
    j->keys = arena_calloc(keep(env), sizeof(sql_value *) * (size_t)(r->n ? r->n : 1));
    if (!j->head || !j->next || !j->hash || !j->keys)
        return oom(env);
    sql_value kv[16];
    for (int i = 0; i < r->n; i++) {
        set_right(env, r, i);
        bool null = false;
        for (int k = 0; k < f->nkeys && !null; k++) {
            if (ex_eval(env, f->rkeys[k], &kv[k]) < 0)
                return -1;
            null = kv[k].is_null;
        }
        if (null)
            continue;
        j->keys[i] = q_copy_row(env, kv, f->nkeys);
        if (!j->keys[i])
            return oom(env);
        j->hash[i] = q_row_hash(kv, f->ktypes, f->nkeys);
        int b = (int)(j->hash[i] & (uint64_t)(nb - 1));
        j->next[i] = j->head[b];
        j->head[b] = i + 1;
    }
    return 0;
}

static void clear_side(ex_env *env, q_plan *p, int lo, int hi, sql_value **nulls)
{
    for (int k = lo; k < hi; k++)
        env->rows[k] = nulls[k];
    (void)p;
}

static int join_cb(void *ctx, ex_env *env)
{
    join_ctx *j = ctx;
    bool any = false;
    int cand = -1;
    uint64_t h = 0;
    sql_value kv[16];
    kv[0] = value_null(SQL_INT);
    if (j->nb) {
        /* probe: only right combos with equal keys are candidates */
        bool null = false;
        for (int k = 0; k < j->f->nkeys && !null; k++) {
            if (ex_eval(env, j->f->lkeys[k], &kv[k]) < 0)
                return -1;
            null = kv[k].is_null;
        }
        h = q_row_hash(kv, j->f->ktypes, j->f->nkeys);
        cand = null ? 0 : j->head[h & (uint64_t)(j->nb - 1)];
    }
    for (int i = 0; j->nb ? cand > 0 : i < j->right->n; i++) {
        if (j->nb) {
            i = cand - 1;
            cand = j->next[i];
            if (j->hash[i] != h)
                continue;
            bool eq = true;
            for (int k = 0; k < j->f->nkeys && eq; k++)
                eq = value_compare(&kv[k], &j->keys[i][k], &j->f->ktypes[k]) == 0;
            if (!eq)
                continue;
        }
        set_right(env, j->right, i);
        int t = 1;
        if (j->f->on && ex_truth(env, j->f->on, &t) < 0)
            return -1;
        if (t != 1)
            continue;
        any = true;
        if (j->matched)
            j->matched[i] = true;
        int rc = j->cb(j->ctx, env);
        if (rc != 0)
            return rc;
    }
    if (!any && (j->f->join == JOIN_LEFT || j->f->join == JOIN_FULL)) {
        for (int k = j->right->lo; k < j->right->hi; k++) {
            sql_value *nr = q_null_row(env, &j->p->srcs[k]);
            if (!nr)
                return oom(env);
            env->rows[k] = nr;
        }
        return j->cb(j->ctx, env);
    }
    return 0;
}

static int node_iter(ex_env *env, q_plan *p, q_from *f, int (*cb)(void *, ex_env *), void *ctx)
{
    if (f->leaf)
        return leaf_iter(env, p, f->src, cb, ctx);
    combos right = { .env = env, .lo = f->r->lo, .hi = f->r->hi };
    copy_ctx cc = { &right, p };
    int rc = node_iter(env, p, f->r, copy_cb, &cc);
    if (rc < 0)
        return -1;
    join_ctx j = { .p = p, .f = f, .right = &right, .cb = cb, .ctx = ctx };
    if (f->nkeys && right.n > 8 && build_hash(env, &j) < 0)
        return -1;
    if (f->join == JOIN_FULL) {
        j.matched = arena_calloc(keep(env), (size_t)(right.n ? right.n : 1));
        if (!j.matched)
            return oom(env);
    }
    rc = node_iter(env, p, f->l, join_cb, &j);
    if (rc != 0 || f->join != JOIN_FULL)
        return rc;
    /* FULL: right rows nothing matched, with the left side NULL */
    sql_value **nulls = arena_alloc(keep(env), sizeof *nulls * (size_t)p->nsrc);
    if (!nulls)
        return oom(env);
    for (int k = f->l->lo; k < f->l->hi; k++)
        if (!(nulls[k] = q_null_row(env, &p->srcs[k])))
            return oom(env);
    for (int i = 0; i < right.n; i++) {
        if (j.matched[i])
            continue;
        clear_side(env, p, f->l->lo, f->l->hi, nulls);
        set_right(env, &right, i);
        rc = cb(ctx, env);
        if (rc != 0)
            return rc;
    }
    return 0;
}

typedef struct where_ctx {
    q_plan *p;
    q_row_fn fn;
    void *ctx;
} where_ctx;

static int where_cb(void *ctx, ex_env *env)
{
    where_ctx *w = ctx;
    if (w->p->where) {
        int t;
        if (ex_truth(env, w->p->where, &t) < 0)
            return -1;
        if (t != 1)
            return 0;
    }
    return w->fn(w->ctx, env);
}

int q_iterate(ex_env *env, q_plan *p, q_row_fn fn, void *ctx)
{
    where_ctx w = { p, fn, ctx };
    if (!p->from) {
        /* SELECT without FROM: one row */
        return where_cb(&w, env);
    }
    return node_iter(env, p, p->from, where_cb, &w);
}

