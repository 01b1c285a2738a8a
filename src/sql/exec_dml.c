/*
 * exec_dml.c — INSERT (VALUES, SELECT, DEFAULT VALUES), UPDATE and DELETE
 * (with FROM/joins, TOP, OUTPUT), TRUNCATE TABLE.
 *
 * INSERT fills what the statement leaves out from DEFAULT constraints and the
 * IDENTITY column, checks NOT NULL (515) and CHECK constraints (547), and lets
 * the engine find duplicate keys (2627/2601).
 *
 * UPDATE and DELETE run in two phases, as SQL Server does with U locks:
 * first find the target rows (read committed, keys only, so changing a row
 * never makes the scan see it again; a target named by its whole clustered
 * key is X-locked right away), then read each one X-locked
 * (ISO_FOR_UPDATE), check the WHERE again on that fresh row, and change it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sql/exec_int.h"

static int oom(sql_session *s)
{
    return ex_failf(s, 701, 19, 1, "There is insufficient system memory to run this query.");
}

/* ------------------------------------------------------------ OUTPUT */

typedef struct out_ctx {
    q_plan *p;          /* inserted = src 0, deleted = src 1 */
    bool    started;
} out_ctx;

static int output_row(ex_env *env, out_ctx *o, sql_value *newv, sql_value *oldv)
{
    sql_session *s = env->s;
    if (!o->p)
        return 0;
    ex_env e = *env;
    sql_value *rows[2] = { newv, oldv };
    e.rows = rows;
    e.outer = NULL;
    sql_value *out = arena_alloc(&s->row_arena, sizeof *out * (size_t)(o->p->nitems ? o->p->nitems : 1));
    if (!out)
        return oom(s), -1;
    for (int i = 0; i < o->p->nitems; i++)
        if (ex_eval(&e, o->p->items[i], &out[i]) < 0)
            return -1;
    if (q_fit_row(&e, o->p->cols, o->p->nitems, out) < 0 || ex_reads_durable(s, &s->err) < 0)
        return -1;
    if (s->sink && s->sink->row && s->sink->row(s->sink->ctx, out, o->p->nitems) < 0) {
        s->sink_failed = true;
        return -1;
    }
    return 0;
}

static int output_begin(sql_session *s, ast_output *ao, database *db, table_def *td, out_ctx *o)
{
    memset(o, 0, sizeof *o);
    if (!ao)
        return 0;
    o->p = q_bind_output(s, ao, db, td);
    if (!o->p)
        return -1;
    if (s->sink && s->sink->columns && s->sink->columns(s->sink->ctx, o->p->cols, o->p->nitems) < 0) {
        s->sink_failed = true;
        return -1;
    }
    o->started = true;
    return 0;
}

/* ------------------------------------------------------------ row checks */

static const char *schema_of(database *db, table_def *td)
{
    static __thread char buf[130];
    const char *n = ex_schema_name(db, td->schema_id, buf);
    return n ? n : "dbo";
}

static int null_error(sql_session *s, database *db, table_def *td, int col, const char *verb)
{
    return ex_failf(s, 515, 16, 2, "Cannot insert the value NULL into column '%s', table '%s.%s.%s'; column "
                    "does not allow nulls. %s fails.", td->cols[col].name, db->tdb.name,
                    schema_of(db, td), td->name, verb);
}

/* CHECK constraints against the new row (unknown passes, as in SQL Server). */
static int check_row(sql_session *s, ex_env *env, database *db, table_def *td, tmeta *m, sql_value *vals,
                     const char *verb)
{
    if (!m || !m->nchecks)
        return 0;
    q_plan *tp = q_table_plan(s, db, td, td->name, 0, NULL);
    if (!tp)
        return -1;
    for (int i = 0; i < m->nchecks; i++) {
        tmeta_check *c = &m->checks[i];
        if (!c->expr)
            continue;
        bscope sc = { .plan = tp };
        bx *b = bx_bind_pred(s, &sc, c->expr);
        if (!b)
            return -1;
        ex_env e = *env;
        sql_value *rows[1] = { vals };
        e.rows = rows;
        e.outer = NULL;
        int t;
        if (ex_truth(&e, b, &t) < 0)
            return -1;
        if (t == 0) {
            char colpart[200] = "";
            if (c->col >= 0)
                snprintf(colpart, sizeof colpart, ", column '%s'", td->cols[c->col].name);
            return ex_failf(s, 547, 16, 0, "The %s statement conflicted with the CHECK constraint \"%s\". The "
                            "conflict occurred in database \"%s\", table \"%s.%s\"%s.", verb, c->name,
                            db->tdb.name, schema_of(db, td),
                            td->name, colpart);
        }
    }
    return 0;
}

static int convert_col(ex_env *env, database *db, table_def *td, int col, const sql_value *v, const sql_type *from,
                       sql_value *out)
{
    if (cv_convert(env, v, from, &td->types[col], -3, true, out) < 0) {
        if (env->err->number == 8152) {
            char m[600];
            snprintf(m, sizeof m, "String or binary data would be truncated in table '%s.%s.%s', column '%s'.",
                     db->tdb.name, schema_of(db, td),
                     td->name, td->cols[col].name);
            hdb_raise_text(env->err, 2628, 16, 1, m);
        }
        return -1;
    }
    return 0;
}

static int eval_default(sql_session *s, ex_env *env, tmeta *m, table_def *td, database *db, int col,
                        sql_value *out)
{
    if (m && m->defaults && m->defaults[col]) {
        bscope sc = { 0 };
        bx *b = bx_bind(s, &sc, m->defaults[col]);
        if (!b)
            return -1;
        sql_value v;
        if (ex_eval(env, b, &v) < 0)
            return -1;
        return convert_col(env, db, td, col, &v, &b->t, out);
    }
    *out = value_null(td->types[col].id);
    return 0;
}

/* ------------------------------------------------------------ deferred FK checks */

/* Foreign keys are checked when the statement's rows are all written, as
 * SQL Server does: rows of one INSERT may reference each other, and one
 * DELETE may remove parents with their children. */
typedef struct fk_pend {
    const tmeta_fk *fk;        /* parent-exists check of a child row */
    sql_value *row;            /* the row (copy) */
    sql_value *newv;           /* no-children check: the parent's new values, NULL on delete */
} fk_pend;

typedef struct fk_list {
    fk_pend *v;
    int n, cap;
} fk_list;

static int pend_add(sql_session *s, fk_list *l, const tmeta_fk *fk, const sql_value *row, const sql_value *newv, int ncols)
{
    if (l->n == l->cap) {
        int nc = l->cap ? l->cap * 2 : 16;
        fk_pend *nv = arena_alloc(&s->stmt_arena, sizeof *nv * (size_t)nc);
        if (!nv)
            return oom(s);
        if (l->n)
            ex_mcpy(nv, l->v, sizeof *nv * (size_t)l->n);
        l->v = nv;
        l->cap = nc;
    }
    ex_env env;
    ex_env_init(&env, s);
    fk_pend *p = &l->v[l->n++];
    p->fk = fk;
    p->row = q_copy_row(&env, row, ncols);
    p->newv = newv ? q_copy_row(&env, newv, ncols) : NULL;
    return p->row && (!newv || p->newv) ? 0 : oom(s);
}

static int pend_run(sql_session *s, database *db, table_def *td, tmeta *m, txn *t, fk_list *l, const char *verb)
{
    ex_env env;
    ex_env_init(&env, s);
    for (int i = 0; i < l->n; i++) {
        fk_pend *p = &l->v[i];
        int rc = p->fk ? ex_fk_parent_exists(s, &env, db, t, p->fk, p->row, verb)
                       : ex_fk_no_children(s, db, t, td, m, p->row, p->newv, verb);
        if (rc < 0)
            return -1;
    }
    return 0;
}

/* ------------------------------------------------------------ INSERT */

/* A write would have to maintain an index that is in an offline filegroup. */
static int offline_index(sql_session *s, const table_def *td)
{
    return ex_failf(s, 8607, 16, 1, "The table '%s' cannot be modified because one or more nonclustered indexes "
                    "reside in a filegroup which is not online.", td->name);
}

static int resolve_target(sql_session *s, ast_tableref *t, database **db, table_def **td)
{
    ast_objname vn;
    const ast_objname *name = &t->name;
    if (t->kind == TREF_VARIABLE) {
        memset(&vn, 0, sizeof vn);
        vn.object = t->var;
        vn.nparts = 1;
        vn.line = t->line;
        name = &vn;
    }
    int view;
    if (q_resolve_table(s, name, db, td, &view) < 0)
        return ex_bind_fail(s);
    if (view)
        return ex_failf(s, 259, 16, 1, "Ad hoc updates to system catalogs are not allowed."), ex_bind_fail(s);
    if (!ex_secondary_indexes_online(*db, *td))
        return offline_index(s, *td), ex_bind_fail(s);
    return EX_OK;
}

/* After the rows of INSERT, UPDATE or DELETE: pending foreign-key work, the
 * statement's end, the count. */
static int dml_finish(sql_session *s, int rc, database *db, table_def *td, tmeta *m, txn *t,
                      fk_list *pend, int cmd, int64_t count)
{
    if (rc == 0)
        rc = pend_run(s, db, td, m, t, pend, cmd == CMD_INSERT ? "INSERT" : cmd == CMD_UPDATE ? "UPDATE" : "DELETE");
    rc = ex_stmt_end(s, rc);
    if (s->sink_failed)
        return EX_FATAL;
    if (rc < 0)
        return EX_ERROR;
    s->rowcount = count;
    return ex_done(s, 0, cmd, (uint64_t)count, true);
}

int ex_insert(sql_session *s, ast_stmt *st)
{
    ast_insert *ins = &st->u.insert;
    if (ins->ctes.n)
        q_set_ctes(s, &ins->ctes);
    database *db;
    table_def *td;
    int rc = resolve_target(s, ins->target, &db, &td);
    if (rc != EX_OK)
        return rc;
    tmeta *m = ex_tmeta(s, db, td);
    bool ident_ins = s->ident_ins_obj == td->object_id && s->ident_ins_db == db->tdb.id;
    int ncols = 0;
    int *cols = arena_alloc(&s->stmt_arena, sizeof(int) * (size_t)td->ncols);
    if (!cols)
        return oom(s);
    if (ins->columns.n) {
        for (int i = 0; i < ins->columns.n; i++) {
            int c;
            for (c = 0; c < td->ncols; c++)
                if (ex_name_eq(td->cols[c].name, ins->columns.v[i]))
                    break;
            if (c == td->ncols)
                return ex_failf(s, 207, 16, 1, "Invalid column name '%s'.", ins->columns.v[i]), ex_bind_fail(s);
            for (int k = 0; k < ncols; k++)
                if (cols[k] == c)
                    return ex_failf(s, 264, 16, 1, "The column name '%s' is specified more than once in the SET "
                                    "clause or column list of an INSERT. A column cannot be assigned more than one "
                                    "value in the same clause. Modify the clause to make sure that a column is "
                                    "updated only once. If this statement updates or inserts columns into a view, "
                                    "column aliasing can conceal the duplication in your code.", td->cols[c].name),
                           ex_bind_fail(s);
            if (ncols >= td->ncols)
                break;
            cols[ncols++] = c;
        }
    } else if (ins->source != INSERT_DEFAULT_VALUES) {
        for (int c = 0; c < td->ncols; c++)
            if (!td->cols[c].identity || ident_ins)
                cols[ncols++] = c;
        if (ident_ins)
            return ex_failf(s, 545, 16, 1, "Explicit value must be specified for identity column in table '%s' "
                            "either when IDENTITY_INSERT is set to ON or when a replication user is inserting into "
                            "a NOT FOR REPLICATION identity column.", td->name);
    }
    for (int k = 0; k < ncols; k++)
        if (td->cols[cols[k]].identity && !ident_ins)
            return ex_failf(s, 544, 16, 1, "Cannot insert explicit value for identity column in table '%s' when "
                            "IDENTITY_INSERT is set to OFF.", td->name);
    /* the source rows, bound */
    int nrows = 0;
    bx ***vrows = NULL;
    q_plan *qp = NULL;
    switch (ins->source) {
    case INSERT_VALUES:
        nrows = ins->rows.n;
        vrows = arena_alloc(&s->stmt_arena, sizeof(bx **) * (size_t)(nrows ? nrows : 1));
        if (!vrows)
            return oom(s);
        for (int r = 0; r < nrows; r++) {
            ast_expr_list *l = ins->rows.v[r];
            if (l->n != ncols) {
                if (l->n > ncols)
                    ex_failf(s, 110, 16, 1, "There are fewer columns in the INSERT statement than values specified "
                             "in the VALUES clause. The number of values in the VALUES clause must match the number "
                             "of columns specified in the INSERT statement.");
                else
                    ex_failf(s, 109, 16, 1, "There are more columns in the INSERT statement than values specified "
                             "in the VALUES clause. The number of values in the VALUES clause must match the number "
                             "of columns specified in the INSERT statement.");
                return ex_bind_fail(s);
            }
            vrows[r] = arena_alloc(&s->stmt_arena, sizeof(bx *) * (size_t)(ncols ? ncols : 1));
            if (!vrows[r])
                return oom(s);
            for (int i = 0; i < ncols; i++) {
                bscope sc = { 0 };
                if (!(vrows[r][i] = bx_bind(s, &sc, l->v[i])))
                    return ex_bind_fail(s);
            }
        }
        break;
    case INSERT_QUERY:
        qp = q_bind(s, NULL, ins->query, false);
        if (!qp)
            return ex_bind_fail(s);
        if (qp->nitems != ncols) {
            if (qp->nitems < ncols)
                ex_failf(s, 120, 15, 1, "The select list for the INSERT statement contains fewer items than the "
                         "insert list. The number of SELECT values must match the number of INSERT columns.");
            else
                ex_failf(s, 121, 15, 1, "The select list for the INSERT statement contains more items than the "
                         "insert list. The number of SELECT values must match the number of INSERT columns.");
            return ex_bind_fail(s);
        }
        break;
    case INSERT_DEFAULT_VALUES:
        nrows = 1;
        break;
    case INSERT_EXEC:
        return ex_failf(s, 40013, 16, 1, "INSERT ... EXEC is not supported yet.");
    }
    if (ins->top)
        return ex_failf(s, 40016, 16, 1, "INSERT TOP (n) is not supported yet.");
    out_ctx oc;
    if (output_begin(s, ins->output, db, td, &oc) < 0)
        return s->sink_failed ? EX_FATAL : ex_bind_fail(s);
    if (ex_stmt_begin(s, true) < 0)
        return EX_ERROR;
    ex_env env;
    ex_env_init(&env, s);
    txn *t = ex_txn(s, true, &s->err);
    if (!t)
        return ex_stmt_end(s, -1), EX_ERROR;
    sql_value **qrows = NULL;
    if (qp) {
        /* read everything first: INSERT t SELECT FROM t must not see its own rows */
        if (q_collect(&env, qp, &qrows, &nrows) < 0)
            return ex_stmt_end(s, -1), EX_ERROR;
    }
    sql_value *vals = arena_alloc(&s->stmt_arena, sizeof *vals * (size_t)td->ncols);
    uint8_t *given = arena_alloc(&s->stmt_arena, (size_t)td->ncols);
    if (!vals || !given)
        return ex_stmt_end(s, -1), oom(s);
    int64_t count = 0;
    fk_list pend = { 0 };
    rc = 0;
    for (int r = 0; r < nrows && rc == 0; r++) {
        memset(given, 0, (size_t)td->ncols);
        env.a = &s->row_arena;
        for (int i = 0; i < ncols && rc == 0; i++) {
            int c = cols[i];
            sql_value v;
            const sql_type *vt;
            if (qp) {
                v = qrows[r][i];
                vt = &qp->cols[i].type;
            } else {
                bx *b = vrows[r][i];
                if (b->kind == BX_DEFAULT)
                    continue;
                if (ex_eval(&env, b, &v) < 0) {
                    rc = -1;
                    break;
                }
                vt = &b->t;
            }
            if (convert_col(&env, db, td, c, &v, vt, &vals[c]) < 0)
                rc = -1;
            given[c] = 1;
        }
        __int128 ident = 0;
        bool has_ident = false;
        for (int c = 0; c < td->ncols && rc == 0; c++) {
            if (given[c]) {
                if (td->cols[c].identity && !vals[c].is_null) {
                    ex_identity_seen(m, vals[c].type == SQL_DECIMAL || vals[c].type == SQL_NUMERIC ? vals[c].u.dec : vals[c].u.i);
                    ident = vals[c].type == SQL_DECIMAL || vals[c].type == SQL_NUMERIC ? vals[c].u.dec : vals[c].u.i;
                    has_ident = true;
                }
                continue;
            }
            if (td->cols[c].identity) {
                if (ex_identity_next(s, db, td, m, &ident, &s->err) < 0) {
                    rc = -1;
                    break;
                }
                has_ident = true;
                sql_value iv = (td->types[c].id == SQL_DECIMAL || td->types[c].id == SQL_NUMERIC) ?
                               value_decimal(ident) : value_int(td->types[c].id, (int64_t)ident);
                iv.type = td->types[c].id;
                if (value_check(&iv, &td->types[c], NULL) < 0) {
                    cv_overflow(&s->err, &td->types[c]);
                    rc = -1;
                    break;
                }
                vals[c] = iv;
                continue;
            }
            if (eval_default(s, &env, m, td, db, c, &vals[c]) < 0)
                rc = -1;
        }
        for (int c = 0; c < td->ncols && rc == 0; c++)
            if (vals[c].is_null && !td->cols[c].nullable)
                rc = null_error(s, db, td, c, "INSERT");
        if (rc == 0)
            rc = check_row(s, &env, db, td, m, vals, "INSERT");
        for (int f = 0; rc == 0 && m && f < m->nfks; f++)
            rc = pend_add(s, &pend, &m->fks[f], vals, NULL, td->ncols);
        if (rc == 0)
            rc = table_insert(t, db, td, vals, &s->err);
        if (rc == 0 && has_ident) {
            s->has_identity = s->has_scope_identity = true;
            s->identity = s->scope_identity = ident;
        }
        if (rc == 0)
            rc = output_row(&env, &oc, vals, NULL);
        if (rc == 0)
            count++;
        arena_reset(&s->row_arena);
        if (rc == 0 && (count & 1023) == 0 && ex_cancelled(s))
            rc = ex_failf(s, 3980, 16, 1, "The request was cancelled.");
    }
    return dml_finish(s, rc, db, td, m, t, &pend, CMD_INSERT, count);
}

/* ------------------------------------------------------------ UPDATE / DELETE */

typedef struct match {
    sql_value  *key;          /* clustered key values (or the heap row id) */
    sql_value **others;       /* other sources' rows (joins) */
} match;

typedef struct find_ctx {
    sql_session *s;
    q_plan *p;
    int tsrc;
    match *m;
    int n, cap;
    int64_t limit;
    /* duplicate detection (a row matched twice by a join changes once) */
    uint64_t *hashes;
    int *slots;
    int hcap;
} find_ctx;

static int key_of(ex_env *env, table_def *td, int tsrc, sql_value *out)
{
    tbl_index *x = &td->idx[0];
    if (x->hidden_key) {
        out[0] = value_int(SQL_BIGINT, env->rowids[tsrc]);
        return 1;
    }
    for (int k = 0; k < x->nkeys; k++)
        if (cv_copy(&env->s->stmt_arena, &env->rows[tsrc][x->keycols[k]], &out[k]) < 0)
            return -1;
    return x->nkeys;
}

static int find_cb(void *ctx, ex_env *env)
{
    find_ctx *f = ctx;
    sql_session *s = f->s;
    table_def *td = f->p->srcs[f->tsrc].td;
    if (f->limit >= 0 && f->n >= f->limit)
        return 1;
    sql_value kv[TBL_MAX_KEYCOLS];
    int nk = key_of(env, td, f->tsrc, kv);
    if (nk < 0)
        return -1;
    sql_type kt[TBL_MAX_KEYCOLS];
    for (int k = 0; k < nk; k++)
        kt[k] = td->idx[0].hidden_key ? value_type(SQL_BIGINT, 0, 0, 0) : td->types[td->idx[0].keycols[k]];
    if (f->p->nsrc > 1) {
        if (f->n * 2 >= f->hcap) {
            int nc = f->hcap ? f->hcap * 2 : 64;
            uint64_t *nh = arena_calloc(&s->stmt_arena, sizeof *nh * (size_t)nc);
            int *ns = arena_calloc(&s->stmt_arena, sizeof *ns * (size_t)nc);
            if (!nh || !ns)
                return oom(s), -1;
            for (int i = 0; i < f->hcap; i++) {
                if (!f->slots[i])
                    continue;
                int k = (int)(f->hashes[i] % (uint64_t)nc);
                while (ns[k])
                    k = (k + 1) % nc;
                ns[k] = f->slots[i];
                nh[k] = f->hashes[i];
            }
            f->hashes = nh;
            f->slots = ns;
            f->hcap = nc;
        }
        uint64_t h = q_row_hash(kv, kt, nk);
        int k = (int)(h % (uint64_t)f->hcap);
        while (f->slots[k]) {
            if (f->hashes[k] == h) {
                match *o = &f->m[f->slots[k] - 1];
                bool eq = true;
                for (int i = 0; i < nk && eq; i++)
                    eq = value_compare(&o->key[i], &kv[i], &kt[i]) == 0;
                if (eq)
                    return 0;
            }
            k = (k + 1) % f->hcap;
        }
        f->slots[k] = f->n + 1;
        f->hashes[k] = h;
    }
    if (f->n == f->cap) {
        int nc = f->cap ? f->cap * 2 : 64;
        match *nm = arena_alloc(&s->stmt_arena, sizeof *nm * (size_t)nc);
        if (!nm)
            return oom(s), -1;
        if (f->n)
            ex_mcpy(nm, f->m, sizeof *nm * (size_t)f->n);
        f->m = nm;
        f->cap = nc;
    }
    match *mt = &f->m[f->n++];
    mt->key = arena_alloc(&s->stmt_arena, sizeof(sql_value) * (size_t)nk);
    if (!mt->key)
        return oom(s), -1;
    ex_mcpy(mt->key, kv, sizeof(sql_value) * (size_t)nk);
    mt->others = NULL;
    if (f->p->nsrc > 1) {
        mt->others = arena_calloc(&s->stmt_arena, sizeof(sql_value *) * (size_t)f->p->nsrc);
        if (!mt->others)
            return oom(s), -1;
        for (int i = 0; i < f->p->nsrc; i++) {
            if (i == f->tsrc || !env->rows[i])
                continue;
            int nc = f->p->srcs[i].ncols;
            sql_value *r = arena_alloc(&s->stmt_arena, sizeof *r * (size_t)(nc ? nc : 1));
            if (!r)
                return oom(s), -1;
            for (int c = 0; c < nc; c++)
                if (cv_copy(&s->stmt_arena, &env->rows[i][c], &r[c]) < 0)
                    return oom(s), -1;
            mt->others[i] = r;
        }
    }
    return 0;
}

static int dml_top(sql_session *s, ast_expr *top, bool percent, int64_t *limit)
{
    *limit = -1;
    if (s->opt.rowcount > 0)
        *limit = s->opt.rowcount;
    if (!top)
        return 0;
    if (percent)
        return ex_failf(s, 40017, 16, 1, "TOP (n) PERCENT in UPDATE/DELETE is not supported yet.");
    bscope sc = { .no_columns = true };
    bx *b = bx_bind(s, &sc, top);
    if (!b)
        return ex_bind_fail(s);
    ex_env env;
    ex_env_init(&env, s);
    sql_value v;
    if (ex_eval(&env, b, &v) < 0)
        return EX_ERROR;
    if (v.is_null || !(b->t.id >= SQL_TINYINT && b->t.id <= SQL_BIGINT) || v.u.i < 0)
        return ex_failf(s, 1060, 16, 1, "The number of rows in the TOP clause must be an integer.");
    if (*limit < 0 || v.u.i < *limit)
        *limit = v.u.i;
    return 0;
}

/* Phase 1: the target rows. */
static int find_targets(sql_session *s, ex_env *env, q_plan *p, int tsrc, int64_t limit, find_ctx *f)
{
    memset(f, 0, sizeof *f);
    f->s = s;
    f->p = p;
    f->tsrc = tsrc;
    f->limit = limit;
    env->rowids = arena_calloc(&s->stmt_arena, sizeof(int64_t) * (size_t)p->nsrc);
    if (!env->rowids)
        return oom(s), -1;
    p->srcs[tsrc].want_rowid = true;
    int rc = q_iterate(env, p, find_cb, f);
    return rc < 0 ? -1 : 0;
}

/* Phase 2 helper: the current row, X-locked, still matching the WHERE. */
static int lock_target(sql_session *s, ex_env *env, q_plan *p, int tsrc, match *mt, table_row *row, txn *t)
{
    ex_src *src = &p->srcs[tsrc];
    int g = table_get(t, src->db, src->td, mt->key, ISO_FOR_UPDATE, row, &s->err);
    if (g <= 0)
        return g;
    for (int i = 0; i < p->nsrc; i++)
        env->rows[i] = i == tsrc ? row->vals : (mt->others ? mt->others[i] : NULL);
    int ok = 1, tr;
    if (p->src_filter[tsrc]) {
        if (ex_truth(env, p->src_filter[tsrc], &tr) < 0)
            return -1;
        ok = tr == 1;
    }
    if (ok && p->where) {
        if (ex_truth(env, p->where, &tr) < 0)
            return -1;
        ok = tr == 1;
    }
    if (!ok) {
        table_row_free(row);
        return 0;
    }
    return 1;
}

/* What UPDATE and DELETE share before changing rows: TOP, OUTPUT's result
 * set, the statement's start, the transaction and the target keys. */
typedef struct dml_run {
    ex_env   env;
    out_ctx  oc;
    find_ctx f;
    txn     *t;
} dml_run;

/* 0 when the targets are found; otherwise the statement's result code. */
static int dml_start(sql_session *s, ast_expr *top, bool top_percent, ast_output *output, q_plan *p,
                     int tsrc, dml_run *r)
{
    int64_t limit;
    int rc = dml_top(s, top, top_percent, &limit);
    if (rc != 0)
        return rc;
    if (output_begin(s, output, p->srcs[tsrc].db, p->srcs[tsrc].td, &r->oc) < 0)
        return s->sink_failed ? EX_FATAL : ex_bind_fail(s);
    if (ex_stmt_begin(s, true) < 0)
        return EX_ERROR;
    ex_env_init(&r->env, s);
    /* A target found by its whole clustered key is read X-locked at once, as
     * SQL Server's U lock on a seek would be: no shared lock to convert (two
     * updaters of one row no longer deadlock), and a writer waiting for the
     * row waits for X, which a committing holder can hand over before its
     * flush (txn/README.md). Serializable keeps its key-range locks. */
    ex_src *ts = &p->srcs[tsrc];
    if (p->src_pk[tsrc] && ex_iso_of(s, ts->iso) <= ISO_REPEATABLE_READ)
        ts->iso = ISO_FOR_UPDATE;
    r->env.rows = arena_calloc(&s->stmt_arena, sizeof(sql_value *) * (size_t)p->nsrc);
    r->t = r->env.rows ? ex_txn(s, true, &s->err) : NULL;
    if (!r->t || find_targets(s, &r->env, p, tsrc, limit, &r->f) < 0)
        return ex_stmt_end(s, -1), EX_ERROR;
    return 0;
}

int ex_update(sql_session *s, ast_stmt *st)
{
    ast_update *u = &st->u.update;
    if (u->ctes.n)
        q_set_ctes(s, &u->ctes);
    int tsrc;
    q_plan *p = q_bind_dml(s, u->target, &u->from, u->where, &tsrc);
    if (!p)
        return ex_bind_fail(s);
    ex_src *src = &p->srcs[tsrc];
    database *db = src->db;
    table_def *td = src->td;
    if (!ex_secondary_indexes_online(db, td))
        return offline_index(s, td);
    tmeta *m = ex_tmeta(s, db, td);
    /* SET items */
    int nset = u->set.n;
    int *setcol = arena_alloc(&s->stmt_arena, sizeof(int) * (size_t)(nset ? nset : 1));
    int *setvar = arena_alloc(&s->stmt_arena, sizeof(int) * (size_t)(nset ? nset : 1));
    bx **setval = arena_alloc(&s->stmt_arena, sizeof(bx *) * (size_t)(nset ? nset : 1));
    if (!setcol || !setvar || !setval)
        return oom(s);
    bscope sc = { .plan = p };
    for (int i = 0; i < nset; i++) {
        ast_set_item *it = u->set.v[i];
        setcol[i] = -1;
        setvar[i] = -1;
        ast_expr *val = it->value;
        ast_expr comp, ref;
        if (it->column) {
            const char *cn = it->column->u.col.name;
            int c;
            for (c = 0; c < td->ncols; c++)
                if (ex_name_eq(td->cols[c].name, cn))
                    break;
            if (c == td->ncols)
                return ex_failf(s, 207, 16, 1, "Invalid column name '%s'.", cn), ex_bind_fail(s);
            if (td->cols[c].identity)
                return ex_failf(s, 8102, 16, 1, "Cannot update identity column '%s'.", cn), ex_bind_fail(s);
            for (int k = 0; k < i; k++)
                if (setcol[k] == c)
                    return ex_failf(s, 264, 16, 1, "The column name '%s' is specified more than once in the SET "
                                    "clause or column list of an INSERT. A column cannot be assigned more than one "
                                    "value in the same clause. Modify the clause to make sure that a column is "
                                    "updated only once. If this statement updates or inserts columns into a view, "
                                    "column aliasing can conceal the duplication in your code.", cn), ex_bind_fail(s);
            setcol[i] = c;
            if (it->op != AST_OP_NONE) {
                ref = *it->column;
                memset(&comp, 0, sizeof comp);
                comp.kind = EXPR_BINARY;
                comp.line = it->column->line;
                comp.u.binary.op = it->op;
                comp.u.binary.left = &ref;
                comp.u.binary.right = val;
                val = &comp;
            }
        }
        if (it->var) {
            setvar[i] = ex_var_find(s, it->var);
            if (setvar[i] < 0)
                return ex_failf(s, 137, 15, 2, "Must declare the scalar variable \"%s\".", it->var), ex_bind_fail(s);
            if (!it->column && it->op != AST_OP_NONE) {
                memset(&ref, 0, sizeof ref);
                ref.kind = EXPR_VARIABLE;
                ref.u.name = it->var;
                memset(&comp, 0, sizeof comp);
                comp.kind = EXPR_BINARY;
                comp.u.binary.op = it->op;
                comp.u.binary.left = &ref;
                comp.u.binary.right = val;
                val = &comp;
            }
        }
        if (val->kind == EXPR_DEFAULT) {
            setval[i] = NULL;
            if (setcol[i] < 0)
                return ex_failf(s, 102, 15, 1, "Incorrect syntax near 'DEFAULT'."), ex_bind_fail(s);
            continue;
        }
        if (!(setval[i] = bx_bind(s, &sc, val)))
            return ex_bind_fail(s);
    }
    dml_run r;
    int rc = dml_start(s, u->top, u->top_percent, u->output, p, tsrc, &r);
    if (rc != 0)
        return rc;
    ex_env env = r.env;
    out_ctx oc = r.oc;
    find_ctx f = r.f;
    txn *t = r.t;
    sql_value *nv = arena_alloc(&s->stmt_arena, sizeof *nv * (size_t)td->ncols);
    sql_value *old = arena_alloc(&s->stmt_arena, sizeof *old * (size_t)td->ncols);
    if (!nv || !old)
        return ex_stmt_end(s, -1), oom(s);
    int64_t count = 0;
    fk_list pend = { 0 };
    env.a = &s->row_arena;
    for (int i = 0; i < f.n && rc == 0; i++) {
        table_row row;
        int g = lock_target(s, &env, p, tsrc, &f.m[i], &row, t);
        if (g < 0) {
            rc = -1;
            break;
        }
        if (g == 0)
            continue;
        ex_mcpy(nv, row.vals, sizeof *nv * (size_t)td->ncols);
        ex_mcpy(old, row.vals, sizeof *old * (size_t)td->ncols);
        /* every SET expression sees the row as it was before the UPDATE */
        sql_value *computed = arena_alloc(&s->row_arena, sizeof *computed * (size_t)(nset ? nset : 1));
        if (!computed) {
            rc = oom(s), rc = -1;
            table_row_free(&row);
            break;
        }
        for (int k = 0; k < nset && rc == 0; k++) {
            if (!setval[k]) {
                if (eval_default(s, &env, m, td, db, setcol[k], &computed[k]) < 0)
                    rc = -1;
                continue;
            }
            sql_value v;
            if (ex_eval(&env, setval[k], &v) < 0) {
                rc = -1;
                break;
            }
            if (setcol[k] >= 0) {
                if (convert_col(&env, db, td, setcol[k], &v, &setval[k]->t, &computed[k]) < 0)
                    rc = -1;
            } else {
                computed[k] = v;
            }
            if (rc == 0 && setvar[k] >= 0 && ex_var_assign(&env, setvar[k], setcol[k] >= 0 ? &computed[k] : &v,
                                                              setcol[k] >= 0 ? &td->types[setcol[k]] : &setval[k]->t) < 0)
                rc = -1;
        }
        for (int k = 0; k < nset && rc == 0; k++)
            if (setcol[k] >= 0)
                nv[setcol[k]] = computed[k];
        for (int c = 0; c < td->ncols && rc == 0; c++)
            if (nv[c].is_null && !td->cols[c].nullable)
                rc = null_error(s, db, td, c, "UPDATE");
        if (rc == 0)
            rc = check_row(s, &env, db, td, m, nv, "UPDATE");
        for (int f = 0; rc == 0 && m && f < m->nfks; f++) {
            /* only a changed reference needs its parent checked */
            const tmeta_fk *fk = &m->fks[f];
            bool changed = false;
            for (int k = 0; k < fk->ncols && !changed; k++)
                changed = value_compare(&old[fk->ccols[k]], &nv[fk->ccols[k]], &td->types[fk->ccols[k]]) != 0;
            if (changed)
                rc = pend_add(s, &pend, fk, nv, NULL, td->ncols);
        }
        if (rc == 0 && m && m->nrefs)
            rc = pend_add(s, &pend, NULL, old, nv, td->ncols);
        if (rc == 0) {
            int r = table_update(t, db, td, f.m[i].key, nv, &s->err);
            if (r < 0)
                rc = -1;
            else if (r == 0) {
                count++;
                rc = output_row(&env, &oc, nv, old);
            }
        }
        table_row_free(&row);
        arena_reset(&s->row_arena);
    }
    return dml_finish(s, rc, db, td, m, t, &pend, CMD_UPDATE, count);
}

int ex_delete(sql_session *s, ast_stmt *st)
{
    ast_delete *d = &st->u.delete_;
    if (d->ctes.n)
        q_set_ctes(s, &d->ctes);
    int tsrc;
    q_plan *p = q_bind_dml(s, d->target, &d->from, d->where, &tsrc);
    if (!p)
        return ex_bind_fail(s);
    ex_src *src = &p->srcs[tsrc];
    database *db = src->db;
    table_def *td = src->td;
    if (!ex_secondary_indexes_online(db, td))
        return offline_index(s, td);
    tmeta *m = ex_tmeta(s, db, td);
    dml_run r;
    int rc = dml_start(s, d->top, d->top_percent, d->output, p, tsrc, &r);
    if (rc != 0)
        return rc;
    ex_env env = r.env;
    out_ctx oc = r.oc;
    find_ctx f = r.f;
    txn *t = r.t;
    int64_t count = 0;
    fk_list pend = { 0 };
    env.a = &s->row_arena;
    for (int i = 0; i < f.n && rc == 0; i++) {
        table_row row;
        int g = lock_target(s, &env, p, tsrc, &f.m[i], &row, t);
        if (g < 0) {
            rc = -1;
            break;
        }
        if (g == 0)
            continue;
        if (m && m->nrefs && pend_add(s, &pend, NULL, row.vals, NULL, td->ncols) < 0) {
            rc = -1;
            table_row_free(&row);
            break;
        }
        int r = table_delete(t, db, td, f.m[i].key, &s->err);
        if (r < 0)
            rc = -1;
        else if (r == 0) {
            count++;
            rc = output_row(&env, &oc, NULL, row.vals);
        }
        table_row_free(&row);
        arena_reset(&s->row_arena);
    }
    return dml_finish(s, rc, db, td, m, t, &pend, CMD_DELETE, count);
}

int ex_truncate(sql_session *s, ast_stmt *st)
{
    if (st->u.drop.names.n != 1)
        return ex_failf(s, 102, 15, 1, "Incorrect syntax near 'TRUNCATE'.");
    ast_objname *n = st->u.drop.names.v[0];
    database *db;
    table_def *td;
    int view;
    if (q_resolve_table(s, n, &db, &td, &view) < 0)
        return ex_bind_fail(s);
    if (view)
        return ex_failf(s, 259, 16, 1, "Ad hoc updates to system catalogs are not allowed.");
    if (!ex_secondary_indexes_online(db, td))
        return offline_index(s, td);
    if (ex_fk_referenced(s, db, td, true) < 0)
        return EX_ERROR;
    if (ex_stmt_begin(s, true) < 0)
        return EX_ERROR;
    txn *t = ex_txn(s, true, &s->err);
    if (!t)
        return ex_stmt_end(s, -1), EX_ERROR;
    /* collect the keys, then delete (the engine has no bulk truncate) */
    q_plan *p = q_table_plan(s, db, td, td->name, 0, NULL);
    ex_env env;
    ex_env_init(&env, s);
    find_ctx f;
    int rc = -1;
    if (p) {
        p->from = arena_calloc(&s->stmt_arena, sizeof *p->from);
        if (p->from) {
            p->from->leaf = true;
            p->from->hi = 1;
            env.rows = arena_calloc(&s->stmt_arena, sizeof(sql_value *));
            p->srcs[0].iso = ISO_FOR_UPDATE;
            rc = env.rows ? find_targets(s, &env, p, 0, -1, &f) : -1;
        }
    }
    for (int i = 0; rc == 0 && i < f.n; i++)
        if (table_delete(t, db, td, f.m[i].key, &s->err) < 0)
            rc = -1;
    rc = ex_stmt_end(s, rc);
    if (rc < 0)
        return EX_ERROR;
    tmeta *m = ex_tmeta(s, db, td);
    if (m && m->ident_col >= 0) {
        /* TRUNCATE reseeds the identity */
        m->ident_loaded = true;
        m->ident_used = false;
        m->ident_last = m->seed;
    }
    s->rowcount = 0;
    return ex_done(s, 0, CMD_NONE, 0, false);
}
