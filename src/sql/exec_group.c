/*
 * exec_group.c — what a query does with its rows (q_run): evaluating the
 * select list, hash grouping with aggregates (COUNT/SUM/AVG/MIN/MAX/STDEV/VAR,
 * DISTINCT), HAVING, DISTINCT, ORDER BY, TOP [PERCENT] [WITH TIES],
 * OFFSET/FETCH, SELECT @v = ... assignment, UNION / EXCEPT / INTERSECT.
 * Grouping and DISTINCT hash values with the collation, so 'a' and 'A ' fall
 * together under the default case-insensitive collation.
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

/* ------------------------------------------------------------ hashing */

static uint64_t mix(uint64_t h, uint64_t x)
{
    h ^= x + 0x9E3779B97F4A7C15ull + (h << 6) + (h >> 2);
    return h;
}

static uint64_t val_hash(const sql_value *v, const sql_type *t)
{
    if (v->is_null)
        return 0x51;
    switch (t->id) {
    case SQL_DECIMAL: case SQL_NUMERIC:
        return mix((uint64_t)v->u.dec, (uint64_t)(v->u.dec >> 64));
    case SQL_FLOAT: case SQL_REAL: {
        double d = t->id == SQL_REAL ? (double)(float)v->u.f : v->u.f;
        if (d == 0)
            d = 0;
        uint64_t x;
        memcpy(&x, &d, 8);
        return mix(0, x);
    }
    case SQL_CHAR: case SQL_VARCHAR: case SQL_NCHAR: case SQL_NVARCHAR: {
        bool uni = value_type_is_unicode(t->id);
        size_t n = value_str_trimmed_units(v->bytes, v->len, uni);
        uint64_t h = 7;
        for (size_t i = 0; i < n; i++) {
            uint16_t u = uni ? (uint16_t)(v->bytes[2 * i] | v->bytes[2 * i + 1] << 8) : v->bytes[i];
            h = h * 31 + ((t->collation_flags & VALUE_COLL_BIN) ? u : value_coll_weight(u, uni, t->collation_flags));
        }
        return h;
    }
    case SQL_BINARY: case SQL_VARBINARY: {
        uint32_t n = v->len;
        while (n > 0 && v->bytes[n - 1] == 0)
            n--;
        uint64_t h = 11;
        for (uint32_t i = 0; i < n; i++)
            h = h * 131 + v->bytes[i];
        return h;
    }
    case SQL_DATE: return mix(1, (uint64_t)v->u.date);
    case SQL_TIME: return mix(2, (uint64_t)v->u.time);
    case SQL_DATETIME: return mix((uint64_t)v->u.dt.days, v->u.dt.ticks);
    case SQL_DATETIME2: return mix((uint64_t)v->u.dt2.days, (uint64_t)v->u.dt2.ticks);
    case SQL_UNIQUEIDENTIFIER: {
        uint64_t a, b;
        memcpy(&a, v->u.guid, 8);
        memcpy(&b, v->u.guid + 8, 8);
        return mix(a, b);
    }
    default:
        return mix(3, (uint64_t)v->u.i);
    }
}

uint64_t q_row_hash(const sql_value *vals, const sql_type *types, int n)
{
    uint64_t h = 17;
    for (int i = 0; i < n; i++)
        h = mix(h, val_hash(&vals[i], &types[i]));
    return h;
}

typedef struct htab {
    int *slots;          /* index + 1, 0 empty */
    uint64_t *hashes;
    int cap;
} htab;

static int ht_init(ex_env *env, htab *h, int cap)
{
    h->cap = cap;
    h->slots = arena_calloc(keep(env), sizeof(int) * (size_t)cap);
    h->hashes = arena_calloc(keep(env), sizeof(uint64_t) * (size_t)cap);
    return h->slots && h->hashes ? 0 : oom(env);
}

/* ------------------------------------------------------------ aggregates */

typedef struct agg_state {
    int64_t  count;
    __int128 isum;
    double   fsum, fsum2;
    sql_value mm;         /* MIN/MAX */
    bool     has;
    htab     seen;        /* DISTINCT */
    sql_value *dvals;
    int      nd, dcap;
} agg_state;

typedef struct group {
    sql_value **rep;      /* representative row per source */
    sql_value  *keys;
    agg_state  *st;
} group;

static int agg_distinct_new(ex_env *env, agg_state *a, const sql_value *v, const sql_type *t, bool *isnew)
{
    if (!a->seen.cap && ht_init(env, &a->seen, 64) < 0)
        return -1;
    if (a->nd * 2 >= a->seen.cap) {
        htab nh;
        if (ht_init(env, &nh, a->seen.cap * 2) < 0)
            return -1;
        for (int i = 0; i < a->seen.cap; i++) {
            if (!a->seen.slots[i])
                continue;
            int k = (int)(a->seen.hashes[i] % (uint64_t)nh.cap);
            while (nh.slots[k])
                k = (k + 1) % nh.cap;
            nh.slots[k] = a->seen.slots[i];
            nh.hashes[k] = a->seen.hashes[i];
        }
        a->seen = nh;
    }
    uint64_t h = val_hash(v, t);
    int k = (int)(h % (uint64_t)a->seen.cap);
    while (a->seen.slots[k]) {
        if (a->seen.hashes[k] == h && value_compare(&a->dvals[a->seen.slots[k] - 1], v, t) == 0) {
            *isnew = false;
            return 0;
        }
        k = (k + 1) % a->seen.cap;
    }
    if (a->nd == a->dcap) {
        int nc = a->dcap ? a->dcap * 2 : 32;
        sql_value *nv = arena_alloc(keep(env), sizeof *nv * (size_t)nc);
        if (!nv)
            return oom(env);
        if (a->nd)
            ex_mcpy(nv, a->dvals, sizeof *nv * (size_t)a->nd);
        a->dvals = nv;
        a->dcap = nc;
    }
    if (cv_copy(keep(env), v, &a->dvals[a->nd]) < 0)
        return oom(env);
    a->seen.slots[k] = ++a->nd;
    a->seen.hashes[k] = h;
    *isnew = true;
    return 0;
}

static int agg_step(ex_env *env, const q_agg *ag, agg_state *a)
{
    if (ag->fn == AGG_COUNT_STAR || ag->fn == AGG_COUNT_BIG_STAR) {
        a->count++;
        return 0;
    }
    sql_value v;
    if (ex_eval(env, ag->arg, &v) < 0)
        return -1;
    if (v.is_null) {
        if (env->s->opt.ansi_warnings && !a->has)
            a->has = a->has;   /* the 8153 warning is sent once per statement by the caller */
        return 0;
    }
    const sql_type *t = &ag->arg->t;
    if (ag->distinct) {
        bool isnew;
        if (agg_distinct_new(env, a, &v, t, &isnew) < 0)
            return -1;
        if (!isnew)
            return 0;
    }
    a->count++;
    switch (ag->fn) {
    case AGG_SUM: case AGG_AVG: case AGG_STDEV: case AGG_VAR:
        switch (t->id) {
        case SQL_FLOAT: case SQL_REAL: a->fsum += v.u.f; a->fsum2 += v.u.f * v.u.f; break;
        case SQL_DECIMAL: case SQL_NUMERIC:
            if (__builtin_add_overflow(a->isum, v.u.dec, &a->isum))
                return hdb_raise_text(env->err, 8115, 16, 1, "Arithmetic overflow error converting expression to data type numeric.");
            a->fsum += (double)v.u.dec / (double)cv_pow10(t->scale);
            a->fsum2 += ((double)v.u.dec / (double)cv_pow10(t->scale)) * ((double)v.u.dec / (double)cv_pow10(t->scale));
            break;
        default:
            a->isum += v.u.i;
            a->fsum += (double)v.u.i;
            a->fsum2 += (double)v.u.i * (double)v.u.i;
            break;
        }
        a->has = true;
        return 0;
    case AGG_MIN: case AGG_MAX: {
        int c = a->has ? value_compare(&v, &a->mm, t) : 0;
        if (!a->has || (ag->fn == AGG_MIN ? c < 0 : c > 0)) {
            if (cv_copy(keep(env), &v, &a->mm) < 0)
                return oom(env);
            a->has = true;
        }
        return 0;
    }
    default:
        a->has = true;
        return 0;
    }
}

static int agg_final(ex_env *env, const q_agg *ag, agg_state *a, sql_value *out)
{
    const sql_type *t = &ag->t;
    switch (ag->fn) {
    case AGG_COUNT_STAR: case AGG_COUNT:
        if (a->count > INT32_MAX)
            return hdb_raise_text(env->err, 8115, 16, 2, "Arithmetic overflow error converting expression to data type int.");
        *out = value_int(SQL_INT, a->count);
        return 0;
    case AGG_COUNT_BIG_STAR: case AGG_COUNT_BIG:
        *out = value_int(SQL_BIGINT, a->count);
        return 0;
    case AGG_MIN: case AGG_MAX:
        *out = a->has ? a->mm : value_null(t->id);
        out->type = t->id;
        return 0;
    default:
        break;
    }
    if (!a->count) {
        *out = value_null(t->id);
        return 0;
    }
    const sql_type *at = &ag->arg->t;
    if (ag->fn == AGG_STDEV || ag->fn == AGG_VAR) {
        if (a->count < 2) {
            *out = value_null(SQL_FLOAT);
            return 0;
        }
        double n = (double)a->count, var = (a->fsum2 - a->fsum * a->fsum / n) / (n - 1);
        if (var < 0)
            var = 0;
        *out = value_float(SQL_FLOAT, ag->fn == AGG_VAR ? var : sqrt(var));
        return 0;
    }
    bool avg = ag->fn == AGG_AVG;
    switch (t->id) {
    case SQL_FLOAT: case SQL_REAL:
        *out = value_float(t->id, avg ? a->fsum / (double)a->count : a->fsum);
        return 0;
    case SQL_DECIMAL: case SQL_NUMERIC: {
        __int128 r = a->isum;
        if (avg) {
            __int128 sc;
            if (cv_dec_rescale(r, at->scale, t->scale, &sc) < 0)
                return hdb_raise_text(env->err, 8115, 16, 1, "Arithmetic overflow error converting expression to data type numeric.");
            r = sc / a->count;   /* truncated, as SQL Server's decimal division */
        } else if (cv_dec_rescale(r, at->scale, t->scale, &r) < 0) {
            return hdb_raise_text(env->err, 8115, 16, 1, "Arithmetic overflow error converting expression to data type numeric.");
        }
        if (r >= cv_pow10(38) || r <= -cv_pow10(38))
            return hdb_raise_text(env->err, 8115, 16, 1, "Arithmetic overflow error converting expression to data type numeric.");
        *out = value_decimal(r);
        out->type = t->id;
        return 0;
    }
    default: {
        __int128 r = avg ? a->isum / a->count : a->isum;
        bool ok = t->id == SQL_INT ? (r >= INT32_MIN && r <= INT32_MAX) : (r >= INT64_MIN && r <= INT64_MAX);
        if (!ok) {
            char m[120];
            snprintf(m, sizeof m, "Arithmetic overflow error converting expression to data type %s.", value_type_name(t->id));
            return hdb_raise_text(env->err, 8115, 16, 1, m);
        }
        *out = value_int(t->id, (int64_t)r);
        return 0;
    }
    }
}

/* ------------------------------------------------------------ output rows */

typedef struct out_buf {
    sql_value **rows;      /* items + order keys */
    int n, cap;
    int width;
} out_buf;

static int buf_push(ex_env *env, out_buf *b, sql_value *row)
{
    if (b->n == b->cap) {
        int nc = b->cap ? b->cap * 2 : 64;
        sql_value **nr = arena_alloc(keep(env), sizeof *nr * (size_t)nc);
        if (!nr)
            return oom(env);
        if (b->n)
            ex_mcpy(nr, b->rows, sizeof *nr * (size_t)b->n);
        b->rows = nr;
        b->cap = nc;
    }
    sql_value *c = q_copy_row(env, row, b->width);
    if (!c)
        return oom(env);
    b->rows[b->n++] = c;
    return 0;
}

typedef struct run_ctx {
    ex_env   *env;
    q_plan   *p;
    q_emit_fn emit;
    void     *ectx;
    bool      buffered;
    out_buf   buf;
    int64_t   limit;     /* rows to produce (-1 = all) */
    int64_t   count;
    /* grouping */
    group    *groups;
    int       ngroups, gcap;
    htab      gh;
    bool      null_warned;
    /* window functions: every row's state, kept until the windows are known */
    struct snap *snaps;
    int       nsnap, capsnap;
    bool      final_pass;
} run_ctx;

typedef struct snap {
    sql_value **rows;
    sql_value  *aggs;
    sql_value  *wins;
} snap;

/* Evaluate the select list (+ hidden order keys) for the current row/group. */
static int make_row(run_ctx *r, sql_value *row)
{
    q_plan *p = r->p;
    ex_env *env = r->env;
    for (int i = 0; i < p->nitems; i++) {
        if (ex_eval(env, p->items[i], &row[i]) < 0)
            return -1;
        if (!p->assign_var && row[i].type != p->cols[i].type.id && !row[i].is_null && p->kind == QUERY_SELECT) {
            sql_value c;
            if (cv_convert(env, &row[i], &p->items[i]->t, &p->cols[i].type, -3, false, &c) < 0)
                return -1;
            row[i] = c;
        }
    }
    for (int i = 0; i < p->norder; i++) {
        if (p->order_item[i] >= 0)
            row[p->nitems + i] = row[p->order_item[i]];
        else if (ex_eval(env, p->order[i], &row[p->nitems + i]) < 0)
            return -1;
    }
    return 0;
}

static int assign_row(run_ctx *r, sql_value *row)
{
    q_plan *p = r->p;
    for (int i = 0; i < p->nitems; i++) {
        int var = p->assign_var[i];
        sql_value v = row[i];
        sql_type vt = p->items[i]->t;
        if (p->assign_op[i] != AST_OP_NONE) {
            /* @v += x: compute with the current value */
            sql_var *sv = &r->env->s->vars[var];
            bx lhs = { .kind = BX_CONST, .t = sv->type };
            lhs.u.k = sv->v;
            bx rhs = { .kind = BX_CONST, .t = vt };
            rhs.u.k = v;
            bx *args[2] = { &lhs, &rhs };
            bx op = { .kind = BX_ARITH, .op = p->assign_op[i], .t = sv->type, .nargs = 2, .args = args };
            if (value_type_is_string(sv->type.id) && p->assign_op[i] == AST_OP_ADD) {
                op.kind = BX_CONCAT;
                sql_value rc;
                sql_type st = sv->type;
                if (cv_convert(r->env, &v, &vt, &st, -3, false, &rc) < 0)
                    return -1;
                rhs.u.k = rc;
                rhs.t = st;
                op.t.max_len = VALUE_LEN_MAX;
            } else {
                sql_value rc;
                if (cv_convert(r->env, &v, &vt, &sv->type, -3, false, &rc) < 0)
                    return -1;
                rhs.u.k = rc;
                rhs.t = sv->type;
            }
            if (ex_eval(r->env, &op, &v) < 0)
                return -1;
            vt = op.t;
        }
        if (ex_var_assign(r->env, var, &v, &vt) < 0)
            return -1;
    }
    return 0;
}

static int deliver(run_ctx *r, sql_value *row)
{
    if (r->p->assign_var) {
        r->count++;
        return assign_row(r, row);
    }
    if (r->buffered)
        return buf_push(r->env, &r->buf, row);
    if (r->limit >= 0 && r->count >= r->limit)
        return 1;
    int rc = r->emit ? r->emit(r->ectx, row, r->p->nitems) : 0;
    if (rc < 0)
        return -1;
    r->count++;
    if (r->limit >= 0 && r->count >= r->limit)
        return 1;
    return rc;
}

static int take_snap(run_ctx *r, ex_env *env)
{
    q_plan *p = r->p;
    if (r->nsnap == r->capsnap) {
        int nc = r->capsnap ? r->capsnap * 2 : 64;
        snap *ns = arena_alloc(keep(env), sizeof *ns * (size_t)nc);
        if (!ns)
            return oom(env);
        if (r->nsnap)
            ex_mcpy(ns, r->snaps, sizeof *ns * (size_t)r->nsnap);
        r->snaps = ns;
        r->capsnap = nc;
    }
    snap *sn = &r->snaps[r->nsnap++];
    sn->rows = arena_calloc(keep(env), sizeof(sql_value *) * (size_t)(p->nsrc ? p->nsrc : 1));
    sn->wins = arena_calloc(keep(env), sizeof(sql_value) * (size_t)p->nwin);
    sn->aggs = NULL;
    if (!sn->rows || !sn->wins)
        return oom(env);
    for (int i = 0; i < p->nsrc; i++)
        if (env->rows && env->rows[i] && !(sn->rows[i] = q_copy_row(env, env->rows[i], p->srcs[i].ncols)))
            return oom(env);
    if (env->aggs && p->nagg && !(sn->aggs = q_copy_row(env, env->aggs, p->nagg)))
        return oom(env);
    if (env->reset_rows && env->a == &env->s->row_arena)
        arena_reset(env->a);
    return 0;
}

static int row_cb(void *ctx, ex_env *env)
{
    run_ctx *r = ctx;
    if (r->p->nwin && !r->final_pass)
        return take_snap(r, env);
    int w = r->p->nitems + r->p->norder;
    sql_value *row = arena_alloc(env->a, sizeof *row * (size_t)(w ? w : 1));
    if (!row)
        return oom(env);
    if (make_row(r, row) < 0)
        return -1;
    int rc = deliver(r, row);
    if (env->reset_rows && env->a == &env->s->row_arena)
        arena_reset(env->a);
    return rc;
}

static int group_cb(void *ctx, ex_env *env)
{
    run_ctx *r = ctx;
    q_plan *p = r->p;
    sql_value keys[64];
    int ng = p->ngroup < 64 ? p->ngroup : 64;
    uint64_t h = 1;
    for (int i = 0; i < ng; i++) {
        if (ex_eval(env, p->group[i], &keys[i]) < 0)
            return -1;
        h = mix(h, val_hash(&keys[i], &p->group[i]->t));
    }
    /* find the group */
    if (r->ngroups * 2 >= r->gh.cap) {
        htab nh;
        if (ht_init(env, &nh, r->gh.cap ? r->gh.cap * 2 : 64) < 0)
            return -1;
        for (int i = 0; i < r->gh.cap; i++) {
            if (!r->gh.slots[i])
                continue;
            int k = (int)(r->gh.hashes[i] % (uint64_t)nh.cap);
            while (nh.slots[k])
                k = (k + 1) % nh.cap;
            nh.slots[k] = r->gh.slots[i];
            nh.hashes[k] = r->gh.hashes[i];
        }
        r->gh = nh;
    }
    int k = (int)(h % (uint64_t)r->gh.cap);
    group *g = NULL;
    while (r->gh.slots[k]) {
        group *c = &r->groups[r->gh.slots[k] - 1];
        if (r->gh.hashes[k] == h) {
            bool eq = true;
            for (int i = 0; i < ng && eq; i++)
                eq = value_compare(&keys[i], &c->keys[i], &p->group[i]->t) == 0;
            if (eq) {
                g = c;
                break;
            }
        }
        k = (k + 1) % r->gh.cap;
    }
    if (!g) {
        if (r->ngroups == r->gcap) {
            int nc = r->gcap ? r->gcap * 2 : 16;
            group *ngs = arena_alloc(keep(env), sizeof *ngs * (size_t)nc);
            if (!ngs)
                return oom(env);
            if (r->ngroups)
                ex_mcpy(ngs, r->groups, sizeof *ngs * (size_t)r->ngroups);
            r->groups = ngs;
            r->gcap = nc;
        }
        g = &r->groups[r->ngroups++];
        g->keys = q_copy_row(env, keys, ng);
        g->rep = arena_alloc(keep(env), sizeof(sql_value *) * (size_t)(p->nsrc ? p->nsrc : 1));
        g->st = arena_calloc(keep(env), sizeof(agg_state) * (size_t)(p->nagg ? p->nagg : 1));
        if (!g->keys || !g->rep || !g->st)
            return oom(env);
        for (int i = 0; i < p->nsrc; i++) {
            g->rep[i] = env->rows[i] ? q_copy_row(env, env->rows[i], p->srcs[i].ncols) : NULL;
            if (env->rows[i] && !g->rep[i])
                return oom(env);
        }
        r->gh.slots[k] = r->ngroups;
        r->gh.hashes[k] = h;
    }
    for (int i = 0; i < p->nagg; i++) {
        if (!r->null_warned && p->aggs[i].arg && env->s->opt.ansi_warnings) {
            sql_value v;
            if (ex_eval(env, p->aggs[i].arg, &v) < 0)
                return -1;
            if (v.is_null)
                r->null_warned = true;
        }
        if (agg_step(env, &p->aggs[i], &g->st[i]) < 0)
            return -1;
    }
    if (env->reset_rows && env->a == &env->s->row_arena)
        arena_reset(env->a);
    return 0;
}

/* ------------------------------------------------------------ sorting */

typedef struct sort_ctx {
    q_plan *p;
    int nitems;
} sort_ctx;

static int row_cmp(const void *a, const void *b, void *ctx)
{
    const sort_ctx *sc = ctx;
    const sql_value *x = *(sql_value *const *)a, *y = *(sql_value *const *)b;
    q_plan *p = sc->p;
    for (int i = 0; i < p->norder; i++) {
        const sql_type *t = p->order_item[i] >= 0 ? &p->cols[p->order_item[i]].type : &p->order[i]->t;
        int c = value_compare(&x[sc->nitems + i], &y[sc->nitems + i], t);
        if (c)
            return p->order_desc[i] ? -c : c;
    }
    return 0;
}

static int dedupe(ex_env *env, q_plan *p, out_buf *b)
{
    htab h;
    if (ht_init(env, &h, b->n * 2 + 16) < 0)
        return -1;
    int out = 0;
    for (int i = 0; i < b->n; i++) {
        uint64_t hv = 5;
        for (int c = 0; c < p->nitems; c++)
            hv = mix(hv, val_hash(&b->rows[i][c], &p->cols[c].type));
        int k = (int)(hv % (uint64_t)h.cap);
        bool dup = false;
        while (h.slots[k]) {
            if (h.hashes[k] == hv) {
                sql_value *o = b->rows[h.slots[k] - 1];
                bool eq = true;
                for (int c = 0; c < p->nitems && eq; c++)
                    eq = value_compare(&o[c], &b->rows[i][c], &p->cols[c].type) == 0;
                if (eq) {
                    dup = true;
                    break;
                }
            }
            k = (k + 1) % h.cap;
        }
        if (dup)
            continue;
        b->rows[out] = b->rows[i];
        h.slots[k] = out + 1;
        h.hashes[k] = hv;
        out++;
    }
    b->n = out;
    return 0;
}

static int eval_count(ex_env *env, bx *e, int64_t *out, bool allow_float)
{
    sql_value v;
    ex_env cenv = *env;
    if (ex_eval(&cenv, e, &v) < 0)
        return -1;
    if (v.is_null)
        return hdb_raise_text(env->err, 1060, 16, 1, "The number of rows in the TOP clause must be an integer.");
    if (e->t.id == SQL_FLOAT || e->t.id == SQL_REAL || e->t.id == SQL_DECIMAL || e->t.id == SQL_NUMERIC) {
        double d = e->t.id == SQL_FLOAT || e->t.id == SQL_REAL ? v.u.f : (double)v.u.dec / (double)cv_pow10(e->t.scale);
        if (!allow_float)
            return hdb_raise_text(env->err, 1060, 16, 1, "The number of rows in the TOP clause must be an integer.");
        *out = (int64_t)ceil(d * 1000000.0);     /* percent, scaled */
        return 1;
    }
    if (!(e->t.id >= SQL_TINYINT && e->t.id <= SQL_BIGINT))
        return hdb_raise_text(env->err, 1060, 16, 1, "The number of rows in the TOP clause must be an integer.");
    *out = v.u.i;
    return 0;
}

/* Apply DISTINCT, ORDER BY, OFFSET/FETCH, TOP to buffered rows and emit. */
static int finish(run_ctx *r, int64_t top, bool percent, int64_t offset, int64_t fetch)
{
    ex_env *env = r->env;
    q_plan *p = r->p;
    out_buf *b = &r->buf;
    if (p->distinct && dedupe(env, p, b) < 0)
        return -1;
    if (p->norder && b->n > 1) {      /* rows is NULL when empty: keep it from qsort_r */
        sort_ctx sc = { p, p->nitems };
        qsort_r(b->rows, (size_t)b->n, sizeof *b->rows, row_cmp, &sc);
    }
    int64_t from = offset > 0 ? offset : 0, n = b->n - from;
    if (fetch >= 0 && n > fetch)
        n = fetch;
    if (top >= 0) {
        int64_t lim = percent ? (int64_t)ceil((double)b->n * (double)top / 100000000.0) : top;
        if (n > lim) {
            int64_t k = lim;
            if (p->with_ties && k > 0) {
                sort_ctx sc = { p, p->nitems };
                while (from + k < b->n && row_cmp(&b->rows[from + k - 1], &b->rows[from + k], &sc) == 0)
                    k++;
            }
            n = k;
        }
    }
    if (r->env->s->opt.rowcount > 0 && n > r->env->s->opt.rowcount)
        n = r->env->s->opt.rowcount;
    for (int64_t i = 0; i < n; i++) {
        if (r->emit) {
            int rc = r->emit(r->ectx, b->rows[from + i], p->nitems);
            if (rc < 0)
                return -1;
            r->count++;
            if (rc > 0)
                break;
        } else {
            r->count++;
        }
    }
    return 0;
}

/* ------------------------------------------------------------ set operations */

typedef struct collect_ctx {
    ex_env *env;
    out_buf *b;
    const sql_column *from_cols;
    const sql_column *to_cols;
    int n;
} collect_ctx;

static int collect_emit(void *ctx, sql_value *row, int ncols)
{
    collect_ctx *c = ctx;
    sql_value *conv = arena_alloc(keep(c->env), sizeof *conv * (size_t)(ncols ? ncols : 1));
    if (!conv)
        return oom(c->env);
    for (int i = 0; i < ncols; i++) {
        if (c->to_cols && c->from_cols) {
            if (cv_convert(c->env, &row[i], &c->from_cols[i].type, &c->to_cols[i].type, -3, false, &conv[i]) < 0)
                return -1;
        } else {
            conv[i] = row[i];
        }
    }
    return buf_push(c->env, c->b, conv);
}

static int run_setop(ex_env *env, q_plan *p, q_emit_fn emit, void *ectx)
{
    out_buf lb = { .width = p->nitems }, rb = { .width = p->nitems };
    collect_ctx lc = { env, &lb, p->left->cols, p->cols, p->nitems };
    collect_ctx rcx = { env, &rb, p->right->cols, p->cols, p->nitems };
    ex_env sub = *env;
    sub.reset_rows = false;
    if (q_run(&sub, p->left, collect_emit, &lc) < 0 || q_run(&sub, p->right, collect_emit, &rcx) < 0)
        return -1;
    run_ctx r = { .env = env, .p = p, .emit = emit, .ectx = ectx, .buffered = true };
    r.buf.width = p->nitems + p->norder;
    out_buf *res = &r.buf;
    q_plan tmp = *p;
    tmp.distinct = true;
    tmp.norder = 0;
    if (p->kind == QUERY_UNION_ALL || p->kind == QUERY_UNION) {
        for (int i = 0; i < lb.n; i++)
            if (buf_push(env, res, lb.rows[i]) < 0)
                return -1;
        for (int i = 0; i < rb.n; i++)
            if (buf_push(env, res, rb.rows[i]) < 0)
                return -1;
        if (p->kind == QUERY_UNION && dedupe(env, &tmp, res) < 0)
            return -1;
    } else {
        if (dedupe(env, &tmp, &lb) < 0)
            return -1;
        for (int i = 0; i < lb.n; i++) {
            bool in_right = false;
            for (int k = 0; k < rb.n && !in_right; k++) {
                bool eq = true;
                for (int c = 0; c < p->nitems && eq; c++)
                    eq = value_compare(&lb.rows[i][c], &rb.rows[k][c], &p->cols[c].type) == 0;
                in_right = eq;
            }
            if (in_right == (p->kind == QUERY_INTERSECT) && buf_push(env, res, lb.rows[i]) < 0)
                return -1;
        }
    }
    /* order keys are result columns */
    for (int i = 0; i < res->n; i++)
        for (int k = 0; k < p->norder; k++)
            res->rows[i][p->nitems + k] = res->rows[i][p->order_item[k]];
    int64_t offset = 0, fetch = -1;
    if (p->offset && eval_count(env, p->offset, &offset, false) < 0)
        return -1;
    if (p->fetch && eval_count(env, p->fetch, &fetch, false) < 0)
        return -1;
    q_plan saved = *p;
    p->distinct = false;
    int rc = finish(&r, -1, false, offset, fetch);
    *p = saved;
    return rc < 0 ? -1 : (int)r.count;
}

/* ------------------------------------------------------------ window functions */

typedef struct wsort {
    sql_value **keys;     /* per row: partition keys then order keys */
    q_win *w;
} wsort;

static int wcmp(const void *a, const void *b, void *ctx)
{
    const wsort *ws = ctx;
    int x = *(const int *)a, y = *(const int *)b;
    const q_win *w = ws->w;
    for (int i = 0; i < w->npart + w->nord; i++) {
        const sql_type *t = i < w->npart ? &w->part[i]->t : &w->ord[i - w->npart]->t;
        int c = value_compare(&ws->keys[x][i], &ws->keys[y][i], t);
        if (c)
            return (i >= w->npart && w->desc[i - w->npart]) ? -c : c;
    }
    return x < y ? -1 : x > y;       /* stable */
}

static bool same_keys(const q_win *w, sql_value *a, sql_value *b, int from, int to)
{
    for (int i = from; i < to; i++) {
        const sql_type *t = i < w->npart ? &w->part[i]->t : &w->ord[i - w->npart]->t;
        if (value_compare(&a[i], &b[i], t) != 0)
            return false;
    }
    return true;
}

static void set_snap(ex_env *env, snap *sn)
{
    env->rows = sn->rows;
    env->aggs = sn->aggs;
}

static int compute_windows(run_ctx *r)
{
    ex_env *env = r->env;
    q_plan *p = r->p;
    int n = r->nsnap;
    if (!n)
        return 0;
    int *idx = arena_alloc(keep(env), sizeof(int) * (size_t)n);
    sql_value **keys = arena_alloc(keep(env), sizeof(sql_value *) * (size_t)n);
    sql_value *args = arena_alloc(keep(env), sizeof(sql_value) * (size_t)n);
    if (!idx || !keys || !args)
        return oom(env);
    for (int wi = 0; wi < p->nwin; wi++) {
        q_win *w = &p->wins[wi];
        int nk = w->npart + w->nord;
        for (int i = 0; i < n; i++) {
            set_snap(env, &r->snaps[i]);
            sql_value *k = arena_alloc(keep(env), sizeof(sql_value) * (size_t)(nk ? nk : 1));
            if (!k)
                return oom(env);
            for (int j = 0; j < nk; j++) {
                sql_value v;
                if (ex_eval(env, j < w->npart ? w->part[j] : w->ord[j - w->npart], &v) < 0 ||
                    cv_copy(keep(env), &v, &k[j]) < 0)
                    return -1;
            }
            keys[i] = k;
            args[i] = value_null(SQL_INT);
            if (w->arg && w->fn != WIN_AGG) {
                sql_value v;
                if (ex_eval(env, w->arg, &v) < 0 || cv_copy(keep(env), &v, &args[i]) < 0)
                    return -1;
            }
            idx[i] = i;
        }
        wsort ws = { keys, w };
        if (n > 1)
            qsort_r(idx, (size_t)n, sizeof *idx, wcmp, &ws);
        for (int ps = 0; ps < n;) {
            int pe = ps + 1;
            while (pe < n && same_keys(w, keys[idx[ps]], keys[idx[pe]], 0, w->npart))
                pe++;
            int64_t rank = 0, dense = 0, size = pe - ps;
            for (int k = ps; k < pe; k++) {
                snap *sn = &r->snaps[idx[k]];
                sql_value *out = &sn->wins[wi];
                bool peer = k > ps && same_keys(w, keys[idx[k - 1]], keys[idx[k]], w->npart, nk);
                if (!peer) {
                    rank = k - ps + 1;
                    dense++;
                }
                switch (w->fn) {
                case WIN_ROW_NUMBER: *out = value_int(SQL_BIGINT, k - ps + 1); break;
                case WIN_RANK: *out = value_int(SQL_BIGINT, rank); break;
                case WIN_DENSE_RANK: *out = value_int(SQL_BIGINT, dense); break;
                case WIN_NTILE: {
                    int64_t nt = args[idx[k]].is_null || args[idx[k]].u.i <= 0 ? 1 : args[idx[k]].u.i;
                    int64_t pos = k - ps, q = size / nt, rem = size % nt, tile;
                    /* the first rem tiles have q + 1 rows */
                    if (pos < rem * (q + 1))
                        tile = pos / (q + 1) + 1;
                    else
                        tile = rem + (q ? (pos - rem * (q + 1)) / q : 0) + 1;
                    *out = value_int(SQL_BIGINT, tile);
                    break;
                }
                case WIN_LAG: case WIN_LEAD: {
                    int64_t off = 1;
                    set_snap(env, sn);
                    if (w->arg2) {
                        sql_value ov;
                        if (ex_eval(env, w->arg2, &ov) < 0)
                            return -1;
                        off = ov.is_null ? 1 : ov.u.i;
                    }
                    int64_t at = w->fn == WIN_LAG ? k - off : k + off;
                    if (at >= ps && at < pe) {
                        *out = args[idx[at]];
                    } else if (w->arg3) {
                        sql_value dv;
                        if (ex_eval(env, w->arg3, &dv) < 0 || cv_copy(keep(env), &dv, out) < 0)
                            return -1;
                    } else {
                        *out = value_null(w->t.id);
                    }
                    break;
                }
                default:
                    break;
                }
            }
            if (w->fn == WIN_AGG) {
                /* whole partition without ORDER BY; running (with peers) with it */
                q_agg ag = { .fn = w->agg, .arg = w->arg, .t = w->t };
                agg_state st;
                memset(&st, 0, sizeof st);
                for (int k = ps; k < pe;) {
                    int ke = w->nord ? k + 1 : pe;
                    while (w->nord && ke < pe && same_keys(w, keys[idx[k]], keys[idx[ke]], w->npart, nk))
                        ke++;
                    for (int j = k; j < ke; j++) {
                        set_snap(env, &r->snaps[idx[j]]);
                        if (agg_step(env, &ag, &st) < 0)
                            return -1;
                    }
                    sql_value v;
                    if (agg_final(env, &ag, &st, &v) < 0)
                        return -1;
                    for (int j = k; j < ke; j++)
                        if (cv_copy(keep(env), &v, &r->snaps[idx[j]].wins[wi]) < 0)
                            return oom(env);
                    k = ke;
                }
            }
            ps = pe;
        }
    }
    return 0;
}

/* ------------------------------------------------------------ q_run */

int q_run(ex_env *outer, q_plan *p, q_emit_fn emit, void *ectx)
{
    if (p->kind != QUERY_SELECT)
        return run_setop(outer, p, emit, ectx);
    ex_env env = *outer;
    bool root = !outer->rows && !outer->outer;
    env.outer = root ? NULL : outer;
    /* only the statement's own query may recycle the row arena per row */
    env.reset_rows = root && outer->reset_rows;
    env.a = env.reset_rows ? &outer->s->row_arena : outer->a;
    env.aggs = NULL;
    env.rows = arena_calloc(keep(&env), sizeof(sql_value *) * (size_t)(p->nsrc ? p->nsrc : 1));
    if (!env.rows)
        return oom(&env);
    run_ctx r = { .env = &env, .p = p, .emit = emit, .ectx = ectx, .limit = -1 };
    r.buf.width = p->nitems + p->norder;
    int64_t top = -1, offset = 0, fetch = -1;
    bool percent = false;
    if (p->top) {
        int k = eval_count(&env, p->top, &top, p->top_percent);
        if (k < 0)
            return -1;
        percent = p->top_percent;
        if (percent && k == 0)
            top *= 1000000;
        if (top < 0)
            return hdb_raise_text(env.err, 1060, 16, 1, "The number of rows in the TOP clause must be an integer.");
    }
    if (p->offset && eval_count(&env, p->offset, &offset, false) < 0)
        return -1;
    if (p->fetch && eval_count(&env, p->fetch, &fetch, false) < 0)
        return -1;
    r.buffered = !p->assign_var && (p->norder || p->distinct || p->grouped || p->with_ties || p->offset || percent ||
                                    p->nwin);
    if (!r.buffered && !p->assign_var) {
        r.limit = top;
        if (env.s->opt.rowcount > 0 && (r.limit < 0 || r.limit > env.s->opt.rowcount))
            r.limit = env.s->opt.rowcount;
    }
    if (r.limit == 0)
        return 0;
    int rc;
    if (!p->grouped) {
        rc = q_iterate(&env, p, row_cb, &r);
    } else {
        rc = q_iterate(&env, p, group_cb, &r);
        if (rc >= 0 && r.ngroups == 0 && p->ngroup == 0) {
            /* aggregates over no rows: one group of NULLs */
            group *g = arena_calloc(keep(&env), sizeof *g);
            if (!g)
                return oom(&env);
            g->rep = arena_calloc(keep(&env), sizeof(sql_value *) * (size_t)(p->nsrc ? p->nsrc : 1));
            g->st = arena_calloc(keep(&env), sizeof(agg_state) * (size_t)(p->nagg ? p->nagg : 1));
            if (!g->rep || !g->st)
                return oom(&env);
            for (int i = 0; i < p->nsrc; i++)
                if (!(g->rep[i] = q_null_row(&env, &p->srcs[i])))
                    return oom(&env);
            r.groups = g;
            r.ngroups = 1;
        }
        if (rc >= 0 && r.null_warned && env.s->opt.ansi_warnings)
            ex_info(env.s, 8153, 10, 1, "Warning: Null value is eliminated by an aggregate or other SET operation.");
        sql_value *aggv = arena_alloc(keep(&env), sizeof *aggv * (size_t)(p->nagg ? p->nagg : 1));
        if (!aggv)
            return oom(&env);
        for (int gi = 0; rc >= 0 && gi < r.ngroups; gi++) {
            group *g = &r.groups[gi];
            for (int i = 0; i < p->nagg; i++)
                if (agg_final(&env, &p->aggs[i], &g->st[i], &aggv[i]) < 0)
                    return -1;
            env.rows = g->rep;
            env.aggs = aggv;
            if (p->having) {
                int t;
                if (ex_truth(&env, p->having, &t) < 0)
                    return -1;
                if (t != 1)
                    continue;
            }
            rc = row_cb(&r, &env);
            if (rc > 0)
                break;
        }
    }
    if (rc < 0)
        return -1;
    if (p->nwin) {
        if (compute_windows(&r) < 0)
            return -1;
        r.final_pass = true;
        for (int i = 0; i < r.nsnap; i++) {
            env.rows = r.snaps[i].rows;
            env.aggs = r.snaps[i].aggs;
            env.wins = r.snaps[i].wins;
            if (row_cb(&r, &env) < 0)
                return -1;
        }
        env.wins = NULL;
    }
    if (r.buffered && finish(&r, top, percent, offset, fetch) < 0)
        return -1;
    return r.count > INT32_MAX ? INT32_MAX : (int)r.count;
}

typedef struct qc_ctx {
    ex_env *env;
    sql_value **rows;
    int n, cap;
} qc_ctx;

static int qc_emit(void *ctx, sql_value *row, int ncols)
{
    qc_ctx *c = ctx;
    if (c->n == c->cap) {
        int nc = c->cap ? c->cap * 2 : 32;
        sql_value **nr = arena_alloc(keep(c->env), sizeof *nr * (size_t)nc);
        if (!nr)
            return oom(c->env);
        if (c->n)
            ex_mcpy(nr, c->rows, sizeof *nr * (size_t)c->n);
        c->rows = nr;
        c->cap = nc;
    }
    sql_value *r = q_copy_row(c->env, row, ncols);
    if (!r)
        return oom(c->env);
    c->rows[c->n++] = r;
    return 0;
}

int q_collect(ex_env *env, q_plan *p, sql_value ***rows, int *nrows)
{
    qc_ctx c = { .env = env };
    if (q_run(env, p, qc_emit, &c) < 0)
        return -1;
    *rows = c.rows;
    *nrows = c.n;
    return 0;
}
