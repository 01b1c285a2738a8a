/*
 * exec_from.c — binding the FROM clause: resolving 1-, 2- and 3-part table
 * names (tables, temp tables, table variables, catalog views, CTEs), derived
 * tables, and the join tree with its ON conditions. Shared by SELECT and by
 * UPDATE/DELETE ... FROM (exec_select.c's q_bind_dml).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sql/exec_int.h"

/* ------------------------------------------------------------ names */

database *ex_find_db(sql_session *s, const char *name, hdb_err *err)
{
    database *db = inst_find_database(s->in, name);
    if (!db) {
        hdb_raise(err, 911, name);
        return NULL;
    }
    /* its state and user access (exec_dbstate.c) */
    return ex_db_usable(s, db, err) < 0 ? NULL : db;
}

static void objname_text(const ast_objname *n, char *buf, size_t cap)
{
    size_t o = 0;
    buf[0] = 0;
    const char *parts[4] = { n->server, n->database, n->schema, n->object };
    bool started = false;
    for (int i = 0; i < 4; i++) {
        if (!parts[i] && !started)
            continue;
        o += (size_t)snprintf(buf + o, o < cap ? cap - o : 0, "%s%s", started ? "." : "", parts[i] ? parts[i] : "");
        started = true;
    }
}

bool ex_secondary_indexes_online(database *db, const table_def *td)
{
    for (int i = 1; i < td->nidx; i++)
        if (!db_filegroup_online(db, td->idx[i].fg_id))
            return false;
    return true;
}

int q_resolve_table(sql_session *s, const ast_objname *n, database **dbp, table_def **tdp, int *view)
{
    *dbp = NULL;
    *tdp = NULL;
    *view = 0;
    char full[600];   /* the name as written, for error messages only */
    if (n->server) {
        char m[700];
        snprintf(m, sizeof m, "Could not find server '%s' in sys.servers. Verify that the correct server name was "
                 "specified. If necessary, execute the stored procedure sp_addlinkedserver to add the server to "
                 "sys.servers.", n->server);
        hdb_raise_text(&s->err, 7202, 11, 2, m);
        s->err_line = n->line;
        return -1;
    }
    if (n->object && (n->object[0] == '#' || n->object[0] == '@')) {
        if (ex_temp_find(s, n->object, dbp, tdp))
            return 0;
        if (n->object[0] == '@')
            return q_bfail(s, n->line, 1087, 15, 2, "Must declare the table variable \"%s\".", n->object);
        objname_text(n, full, sizeof full);
        return q_bfail(s, n->line, 208, 16, 1, "Invalid object name '%s'.", full);
    }
    database *db = s->db;
    if (n->database) {
        db = ex_find_db(s, n->database, &s->err);
        if (!db) {
            s->err_line = n->line;
            return -1;
        }
    }
    const char *schema = n->schema ? n->schema : "dbo";
    int v = sv_view_lookup(schema, n->object);
    if (v) {
        *dbp = db;
        *view = v;
        return 0;
    }
    uint32_t sid = ex_schema_id(db, schema);
    table_def *td = NULL;
    if (sid && sid != SCHEMA_SYS && sid != 3) {
        hdb_err e;
        hdb_err_clear(&e);
        td = cat_find_table(db, sid, n->object, &e);
        if (!td && e.number && e.number != 208) {
            s->err = e;
            s->err_line = n->line;
            return -1;
        }
    }
    if (!td) {
        objname_text(n, full, sizeof full);
        return q_bfail(s, n->line, 208, 16, 1, "Invalid object name '%s'.", full);
    }
    /* the rows are in the clustered index (or heap); queries read nothing
     * else, so an offline nonclustered index stops only writers (8607) */
    if (!db_filegroup_online(db, td->idx[0].fg_id))
        return q_bfail(s, n->line, 8653, 16, 1, "The query processor is unable to produce a plan for the table or "
                       "view '%s' because the table resides in a filegroup that is not online.", td->name);
    *dbp = db;
    *tdp = td;
    return 0;
}

/* ------------------------------------------------------------ sources */

int q_add_src(sql_session *s, q_plan *p, ex_src **out)
{
    ex_src *ns = q_salloc(s, sizeof *ns * (size_t)(p->nsrc + 1));
    if (!ns)
        return -1;
    if (p->nsrc)
        ex_mcpy(ns, p->srcs, sizeof *ns * (size_t)p->nsrc);
    p->srcs = ns;
    *out = &ns[p->nsrc++];
    memset(*out, 0, sizeof **out);
    return p->nsrc - 1;
}

static int hint_iso(const ast_option_list *h)
{
    int iso = 0;
    for (int i = 0; i < h->n; i++) {
        const char *n = h->v[i]->name;
        if (!strcmp(n, "NOLOCK") || !strcmp(n, "READUNCOMMITTED")) iso = ISO_READ_UNCOMMITTED;
        else if (!strcmp(n, "HOLDLOCK") || !strcmp(n, "SERIALIZABLE")) iso = ISO_SERIALIZABLE;
        else if (!strcmp(n, "REPEATABLEREAD")) iso = ISO_REPEATABLE_READ;
        else if (!strcmp(n, "READCOMMITTED") || !strcmp(n, "READCOMMITTEDLOCK")) iso = ISO_READ_COMMITTED;
        else if (!strcmp(n, "UPDLOCK") || !strcmp(n, "XLOCK")) iso = ISO_FOR_UPDATE;
    }
    return iso;
}

static ast_cte *find_cte(sql_session *s, const ast_objname *n)
{
    if (!s->ctes || n->nparts != 1)
        return NULL;
    for (int i = 0; i < s->ctes->n; i++)
        if (ex_name_eq(s->ctes->v[i]->name, n->object))
            return s->ctes->v[i];
    return NULL;
}

/* The FROM-tree leaf for source idx. */
static int leaf_from(sql_session *s, int idx, q_from **out)
{
    q_from *f = q_salloc(s, sizeof *f);
    if (!f)
        return -1;
    f->leaf = true;
    f->src = idx;
    f->lo = idx;
    f->hi = idx + 1;
    *out = f;
    return 0;
}

static int derived_src(sql_session *s, bscope *sc, q_plan *p, ast_query *q, const char *alias,
                       ast_name_list *colnames, int line, q_from **out)
{
    /* a derived table sees the enclosing query's scope, not its siblings */
    q_plan *dp = q_bind(s, sc->parent, q, false);
    if (!dp)
        return -1;
    ex_src *src;
    int idx = q_add_src(s, p, &src);
    if (idx < 0)
        return -1;
    src->kind = SRC_DERIVED;
    src->derived = dp;
    src->alias = alias;
    src->ncols = dp->nitems;
    if (colnames->n && colnames->n != dp->nitems)
        return q_bfail(s, line, 8158, 16, 1, "'%s' has more columns than were specified in the column list.", alias);
    src->colnames = q_salloc(s, sizeof(char *) * (size_t)dp->nitems);
    src->types = q_salloc(s, sizeof(sql_type) * (size_t)dp->nitems);
    src->nullable = q_salloc(s, (size_t)dp->nitems);
    if (!src->colnames || !src->types || !src->nullable)
        return -1;
    for (int i = 0; i < dp->nitems; i++) {
        const char *nm = colnames->n ? colnames->v[i] : dp->cols[i].name;
        if (!nm || !nm[0]) {
            char m[300];
            snprintf(m, sizeof m, "No column name was specified for column %d of '%s'.", i + 1, alias);
            hdb_raise_text(&s->err, 8155, 16, 2, m);
            s->err_line = line;
            return -1;
        }
        src->colnames[i] = nm;
        src->types[i] = dp->cols[i].type;
        src->nullable[i] = dp->cols[i].nullable;
    }
    return leaf_from(s, idx, out);
}

int q_bind_tref(sql_session *s, bscope *sc, q_plan *p, ast_tableref *t, q_from **out)
{
    switch (t->kind) {
    case TREF_TABLE: {
        ast_cte *cte = find_cte(s, &t->name);
        if (cte) {
            if (cte->query && cte->query->kind != QUERY_SELECT) {
                /* a recursive CTE refers to itself inside a UNION ALL */
                ast_cte_list *saved = s->ctes;
                s->ctes = NULL;
                int rc = derived_src(s, sc, p, cte->query, t->alias ? t->alias : cte->name, &cte->columns, t->line, out);
                s->ctes = saved;
                return rc;
            }
            return derived_src(s, sc, p, cte->query, t->alias ? t->alias : cte->name, &cte->columns, t->line, out);
        }
        database *db;
        table_def *td;
        int view;
        if (q_resolve_table(s, &t->name, &db, &td, &view) < 0)
            return -1;
        ex_src *src;
        int idx = q_add_src(s, p, &src);
        if (idx < 0)
            return -1;
        src->alias = t->alias;
        src->table = t->name.object;
        src->schema = t->name.schema ? t->name.schema : (view ? NULL : "dbo");
        src->dbname = db->tdb.name;
        src->db = db;
        src->iso = hint_iso(&t->hints);
        if (view) {
            src->kind = SRC_ROWS;
            src->view = view;
            if (sv_view_columns(view, &src->ncols, &src->colnames, &src->types, &src->nullable) < 0)
                return q_bfail(s, t->line, 208, 16, 1, "Invalid object name '%s'.", t->name.object);
        } else {
            src->kind = SRC_TABLE;
            src->td = td;
            src->physloc_ok = true;
            src->ncols = td->ncols;
            src->colnames = q_salloc(s, sizeof(char *) * (size_t)td->ncols);
            src->types = td->types;
            src->nullable = q_salloc(s, (size_t)td->ncols);
            if (!src->colnames || !src->nullable)
                return -1;
            for (int i = 0; i < td->ncols; i++) {
                src->colnames[i] = td->cols[i].name;
                src->nullable[i] = td->cols[i].nullable;
            }
        }
        return leaf_from(s, idx, out);
    }
    case TREF_DERIVED:
        return derived_src(s, sc, p, t->query, t->alias, &t->col_aliases, t->line, out);
    case TREF_VARIABLE: {
        /* a table variable reads like the tempdb table behind it */
        ast_tableref tv = *t;
        tv.kind = TREF_TABLE;
        memset(&tv.name, 0, sizeof tv.name);
        tv.name.object = t->var;
        tv.name.nparts = 1;
        tv.name.line = t->line;
        return q_bind_tref(s, sc, p, &tv, out);
    }
    case TREF_FUNCTION: {
        int view = sv_view_lookup(t->name.schema ? t->name.schema : "sys", t->name.object);
        if (!view || strcasecmp(t->name.object, "dm_db_log_info") != 0 || t->args.n != 1)
            return q_bfail(s, t->line, 40010, 16, 1, "Table-valued functions (%s) are not supported yet.", t->name.object);
        ex_src *src;
        int idx = q_add_src(s, p, &src);
        if (idx < 0)
            return -1;
        src->kind = SRC_ROWS;
        src->view = view;
        src->alias = t->alias;
        src->table = t->name.object;
        src->schema = "sys";
        src->db = s->db;
        src->dbname = s->db->tdb.name;
        bscope asc = { .parent = sc->parent };
        if (t->args.v[0]->kind != EXPR_DEFAULT && !(src->view_arg = bx_bind(s, &asc, t->args.v[0])))
            return -1;
        if (sv_view_columns(view, &src->ncols, &src->colnames, &src->types, &src->nullable) < 0)
            return q_bfail(s, t->line, 208, 16, 1, "Invalid object name '%s'.", t->name.object);
        return leaf_from(s, idx, out);
    }
    case TREF_JOIN: {
        if (t->join == JOIN_CROSS_APPLY || t->join == JOIN_OUTER_APPLY)
            return q_bfail(s, t->line, 40011, 16, 1, "%s is not supported yet.", t->join == JOIN_CROSS_APPLY ? "CROSS APPLY" : "OUTER APPLY");
        q_from *l, *r;
        if (q_bind_tref(s, sc, p, t->left, &l) < 0 || q_bind_tref(s, sc, p, t->right, &r) < 0)
            return -1;
        q_from *f = q_salloc(s, sizeof *f);
        if (!f)
            return -1;
        f->join = t->join;
        f->l = l;
        f->r = r;
        f->lo = l->lo;
        f->hi = r->hi;
        if (t->join == JOIN_LEFT || t->join == JOIN_FULL)
            for (int i = r->lo; i < r->hi; i++)
                p->srcs[i].outer_null = true;
        if (t->join == JOIN_RIGHT || t->join == JOIN_FULL)
            for (int i = l->lo; i < l->hi; i++)
                p->srcs[i].outer_null = true;
        if (t->on) {
            bscope on = *sc;
            on.allow_agg = false;
            f->on = bx_bind_pred(s, &on, t->on);
            if (!f->on)
                return -1;
        }
        if (t->join == JOIN_RIGHT) {
            /* a RIGHT join is the LEFT join of its sides swapped */
            f->l = r;
            f->r = l;
            f->join = JOIN_LEFT;
        }
        *out = f;
        return 0;
    }
    }
    return q_bfail(s, t->line, 102, 15, 1, "Incorrect syntax near '%s'.", "FROM");
}

/* Two sources of one FROM clause may not be exposed under the same name:
 * 1011 when a correlation name repeats, 1013 when two tables do. */
static int check_exposed_names(sql_session *s, q_plan *p, int first, int line)
{
    for (int i = first; i < p->nsrc; i++) {
        const ex_src *a = &p->srcs[i];
        const char *an = a->alias ? a->alias : a->table;
        for (int k = first; an && k < i; k++) {
            const ex_src *b = &p->srcs[k];
            const char *bn = b->alias ? b->alias : b->table;
            if (!bn || strcasecmp(an, bn) != 0)
                continue;
            if (a->alias || b->alias)
                return q_bfail(s, line, 1011, 16, 1,
                               "The correlation name '%s' is specified multiple times in a FROM clause.", an);
            char m[600];
            snprintf(m, sizeof m, "The objects \"%s.%s\" and \"%s.%s\" in the FROM clause have the same exposed names. "
                     "Use correlation names to distinguish them.", b->schema ? b->schema : "dbo", bn,
                     a->schema ? a->schema : "dbo", an);
            hdb_raise_text(&s->err, 1013, 16, 1, m);
            s->err_line = line;
            return -1;
        }
    }
    return 0;
}

int q_bind_from(sql_session *s, bscope *sc, q_plan *p, ast_tableref_list *from)
{
    q_from *acc = NULL;
    int first = p->nsrc;
    for (int i = 0; i < from->n; i++) {
        q_from *f;
        if (q_bind_tref(s, sc, p, from->v[i], &f) < 0)
            return -1;
        if (!acc) {
            acc = f;
            continue;
        }
        q_from *j = q_salloc(s, sizeof *j);
        if (!j)
            return -1;
        j->join = JOIN_CROSS;
        j->l = acc;
        j->r = f;
        j->lo = acc->lo;
        j->hi = f->hi;
        acc = j;
    }
    if (check_exposed_names(s, p, first, from->n ? from->v[0]->line : 0) < 0)
        return -1;
    p->from = acc;
    return 0;
}

