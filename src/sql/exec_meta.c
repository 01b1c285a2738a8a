/*
 * exec_meta.c — table metadata the engine's catalog does not keep: IDENTITY
 * seed/increment, DEFAULT and CHECK constraints, kept in a hidden table of
 * each database, sys.hdb_column_meta (object_id, column_id, kind, seed, incr,
 * name, definition). Rows are written in the same transaction as the DDL, so
 * they roll back, survive restarts and travel with backups exactly like the
 * catalog. Definitions are stored as canonical T-SQL (ast_expr_to_sql) and
 * parsed again when a table is first used; the parsed form is cached per
 * table (ex_tmeta), with the identity counter.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sql/exec_int.h"

/* ------------------------------------------------------------ metadata cache */

typedef struct tmeta_entry {
    uint8_t  guid[16];           /* database identity (ids are reused after DROP) */
    uint32_t object_id;
    bool     dropped;
    tmeta    m;
    struct tmeta_entry *next;
} tmeta_entry;

static pthread_mutex_t meta_mu = PTHREAD_MUTEX_INITIALIZER;
static tmeta_entry *meta_head;

void ex_tmeta_forget_all(void)
{
    pthread_mutex_lock(&meta_mu);
    for (tmeta_entry *e = meta_head; e; e = e->next)
        e->dropped = true;
    pthread_mutex_unlock(&meta_mu);
}

void ex_tmeta_forget(database *db, uint32_t object_id)
{
    pthread_mutex_lock(&meta_mu);
    for (tmeta_entry *e = meta_head; e; e = e->next)
        if (e->object_id == object_id && memcmp(e->guid, db->boot.guid, 16) == 0)
            e->dropped = true;   /* kept: another session may still hold it */
    pthread_mutex_unlock(&meta_mu);
}

table_def *ex_meta_table(database *db)
{
    hdb_err e;
    return cat_find_table(db, SCHEMA_SYS, META_TABLE, &e);
}

int ex_meta_ensure(sql_session *s, database *db, txn *t, table_def **out)
{
    *out = ex_meta_table(db);
    if (*out)
        return 0;
    tbl_column c[7];
    memset(c, 0, sizeof c);
    static const char *names[7] = { "object_id", "column_id", "kind", "seed", "incr", "name", "definition" };
    sql_type types[7] = { value_type(SQL_INT, 0, 0, 0), value_type(SQL_INT, 0, 0, 0), value_type(SQL_TINYINT, 0, 0, 0),
                          value_type(SQL_BIGINT, 0, 0, 0), value_type(SQL_BIGINT, 0, 0, 0),
                          value_type(SQL_VARBINARY, 256, 0, 0), value_type(SQL_VARBINARY, VALUE_LEN_MAX, 0, 0) };
    for (int i = 0; i < 7; i++) {
        snprintf(c[i].name, sizeof c[i].name, "%s", names[i]);
        c[i].type = types[i];
        c[i].nullable = i >= 3;
    }
    int pk[3] = { 0, 1, 2 };
    table_spec spec = { .schema_id = SCHEMA_SYS, .name = META_TABLE, .ncols = 7, .cols = c, .npk = 3, .pk_cols = pk,
                        .pk_name = "PK_hdb_column_meta" };
    if (cat_create_table(t, db, &spec, NULL, &s->err) < 0) {
        if (s->err.number == 2714 && (*out = ex_meta_table(db)))
            return 0;
        return -1;
    }
    *out = ex_meta_table(db);
    return *out ? 0 : -1;
}

int ex_meta_put(sql_session *s, database *db, txn *t, table_def *mt, uint32_t obj, int col, int kind,
                    int64_t seed, int64_t incr, bool has_nums, const char *name, const char *def)
{
    s->tx_ddl = true;   /* a rollback must drop the cached copies */
    sql_value v[7] = {
        value_int(SQL_INT, obj), value_int(SQL_INT, col), value_int(SQL_TINYINT, kind),
        has_nums ? value_int(SQL_BIGINT, seed) : value_null(SQL_BIGINT),
        has_nums ? value_int(SQL_BIGINT, incr) : value_null(SQL_BIGINT),
        name ? value_bytes(SQL_VARBINARY, name, (uint32_t)strlen(name)) : value_null(SQL_VARBINARY),
        def ? value_bytes(SQL_VARBINARY, def, (uint32_t)strlen(def)) : value_null(SQL_VARBINARY),
    };
    return table_insert(t, db, mt, v, &s->err);
}

static char *bytes_str(arena *a, const sql_value *v)
{
    if (v->is_null)
        return NULL;
    return arena_strndup(a, (const char *)v->bytes, v->len);
}

/* Parse a stored expression: "SELECT <text>" (defaults) or "SELECT 1 WHERE
 * <text>" (checks). */
static ast_expr *parse_stored(arena *a, const char *text, bool pred)
{
    size_t n = strlen(text) + 32;
    char *sql = arena_alloc(a, n);
    if (!sql)
        return NULL;
    snprintf(sql, n, pred ? "SELECT 1 WHERE %s" : "SELECT %s", text);
    ast_batch *b;
    hdb_err e;
    int line;
    parse_opts po = { .quoted_identifier = true, .no_variable_check = true };
    if (parse_batch(a, sql, strlen(sql), &po, &b, &e, &line) < 0 || b->stmts.n != 1 ||
        b->stmts.v[0]->kind != STMT_SELECT || !b->stmts.v[0]->u.query->select)
        return NULL;
    ast_select *sel = b->stmts.v[0]->u.query->select;
    if (pred)
        return sel->where;
    return sel->items.n == 1 ? sel->items.v[0]->expr : NULL;
}

/* A META_FK row: object_id child, seed parent, definition "c1 c2;p1 p2". */
static int parse_fk(arena *a, const table_row *r, tmeta_fk *fk)
{
    memset(fk, 0, sizeof *fk);
    fk->child_obj = (uint32_t)r->vals[0].u.i;
    fk->parent_obj = (uint32_t)r->vals[3].u.i;
    fk->name = bytes_str(a, &r->vals[5]);
    char *def = bytes_str(a, &r->vals[6]);
    if (!def || !fk->name)
        return -1;
    char *semi = strchr(def, ';');
    if (!semi)
        return -1;
    *semi = 0;
    int nc = 0, np = 0;
    for (char *p = def; *p && nc < TBL_MAX_KEYCOLS;) {
        fk->ccols[nc++] = (int)strtol(p, &p, 10);
        while (*p == ' ')
            p++;
    }
    for (char *p = semi + 1; *p && np < TBL_MAX_KEYCOLS;) {
        fk->pcols[np++] = (int)strtol(p, &p, 10);
        while (*p == ' ')
            p++;
    }
    if (nc != np || nc == 0)
        return -1;
    fk->ncols = nc;
    return 0;
}

static void load_meta(sql_session *s, database *db, table_def *td, tmeta *m)
{
    m->object_id = td->object_id;
    m->ident_col = -1;
    m->ncols = td->ncols;
    arena_init(&m->a, 4096);
    for (int i = 0; i < td->ncols; i++)
        if (td->cols[i].identity) {
            m->ident_col = i;
            m->seed = 1;
            m->incr = 1;
        }
    table_def *mt = ex_meta_table(db);
    if (!mt)
        return;
    /* the rows may belong to a transaction still open (CREATE TABLE in a user
     * transaction): read without locks */
    txn *t = txn_begin(s->in->txns, s->spid, "meta", s->login);
    if (!t)
        return;
    hdb_err e;
    table_scan *sc = table_scan_open(t, db, mt, ISO_READ_UNCOMMITTED, &e);
    table_row r;
    int nchecks = 0, nfks = 0, nrefs = 0;
    tmeta_check checks[64];
    tmeta_fk *fks = arena_calloc(&m->a, sizeof *fks * 64), *refs = arena_calloc(&m->a, sizeof *refs * 64);
    while (sc && table_scan_next(sc, &r, &e) == 1) {
        int kind = (int)r.vals[2].u.i;
        if (kind == META_FK && !r.vals[3].is_null && r.vals[3].u.i == (int64_t)td->object_id && refs && nrefs < 64) {
            /* another table's (or its own) foreign key pointing here */
            if (parse_fk(&m->a, &r, &refs[nrefs]) == 0)
                nrefs++;
        }
        if (r.vals[0].u.i != (int64_t)td->object_id)
            continue;
        int col = (int)r.vals[1].u.i;
        if (kind == META_FK && fks && nfks < 64 && parse_fk(&m->a, &r, &fks[nfks]) == 0)
            nfks++;
        if (kind == META_IDENTITY && !r.vals[3].is_null) {
            m->seed = r.vals[3].u.i;
            m->incr = r.vals[4].is_null ? 1 : r.vals[4].u.i;
        } else if (kind == META_DEFAULT && col >= 0 && col < td->ncols) {
            if (!m->defaults) {
                m->defaults = arena_calloc(&m->a, sizeof(ast_expr *) * (size_t)td->ncols);
                m->default_text = arena_calloc(&m->a, sizeof(char *) * (size_t)td->ncols);
                m->default_name = arena_calloc(&m->a, sizeof(char *) * (size_t)td->ncols);
            }
            if (m->defaults) {
                m->default_text[col] = bytes_str(&m->a, &r.vals[6]);
                m->default_name[col] = bytes_str(&m->a, &r.vals[5]);
                m->defaults[col] = m->default_text[col] ? parse_stored(&m->a, m->default_text[col], false) : NULL;
            }
        } else if (kind == META_CHECK && nchecks < 64) {
            tmeta_check *c = &checks[nchecks++];
            c->name = bytes_str(&m->a, &r.vals[5]);
            c->text = bytes_str(&m->a, &r.vals[6]);
            c->col = r.vals[3].is_null ? -1 : (int)r.vals[3].u.i;
            c->expr = c->text ? parse_stored(&m->a, c->text, true) : NULL;
        }
    }
    table_scan_close(sc);
    txn_commit(t, &e);
    txn_free(t);
    if (nchecks) {
        m->checks = arena_memdup(&m->a, checks, sizeof checks[0] * (size_t)nchecks);
        m->nchecks = m->checks ? nchecks : 0;
    }
    m->fks = fks;
    m->nfks = fks ? nfks : 0;
    m->refs = refs;
    m->nrefs = refs ? nrefs : 0;
}

tmeta *ex_tmeta(sql_session *s, database *db, table_def *td)
{
    pthread_mutex_lock(&meta_mu);
    for (tmeta_entry *e = meta_head; e; e = e->next) {
        if (!e->dropped && e->object_id == td->object_id && memcmp(e->guid, db->boot.guid, 16) == 0) {
            pthread_mutex_unlock(&meta_mu);
            return &e->m;
        }
    }
    tmeta_entry *e = calloc(1, sizeof *e);
    if (!e) {
        pthread_mutex_unlock(&meta_mu);
        return NULL;
    }
    memcpy(e->guid, db->boot.guid, 16);
    e->object_id = td->object_id;
    load_meta(s, db, td, &e->m);
    e->next = meta_head;
    meta_head = e;
    pthread_mutex_unlock(&meta_mu);
    return &e->m;
}

/* Highest value in the identity column, scanned once per table and process. */
static int ident_load(sql_session *s, database *db, table_def *td, tmeta *m, hdb_err *err)
{
    txn *t = txn_begin(s->in->txns, s->spid, "identity", s->login);
    if (!t)
        return hdb_raise_text(err, 701, 19, 1, "There is insufficient system memory to run this query.");
    table_scan *sc = table_scan_open(t, db, td, ISO_READ_UNCOMMITTED, err);
    bool any = false;
    __int128 best = 0;
    table_row r;
    int k = 0;
    while (sc && (k = table_scan_next(sc, &r, err)) == 1) {
        sql_value *v = &r.vals[m->ident_col];
        if (v->is_null)
            continue;
        __int128 x = (td->types[m->ident_col].id == SQL_DECIMAL || td->types[m->ident_col].id == SQL_NUMERIC) ? v->u.dec : v->u.i;
        if (!any || (m->incr > 0 ? x > best : x < best)) {
            best = x;
            any = true;
        }
    }
    table_scan_close(sc);
    hdb_err e;
    txn_commit(t, &e);
    txn_free(t);
    if (!sc || k < 0)
        return -1;
    m->ident_loaded = true;
    m->ident_used = any;
    m->ident_last = any ? best : m->seed;
    return 0;
}

int ex_identity_next(sql_session *s, database *db, table_def *td, tmeta *m, __int128 *out, hdb_err *err)
{
    pthread_mutex_lock(&meta_mu);
    int rc = 0;
    if (!m->ident_loaded)
        rc = ident_load(s, db, td, m, err);
    if (rc == 0 && out) {
        __int128 v = m->ident_used ? m->ident_last + m->incr : m->seed;
        m->ident_last = v;
        m->ident_used = true;
        *out = v;
    }
    pthread_mutex_unlock(&meta_mu);
    return rc;
}

void ex_identity_seen(tmeta *m, __int128 v)
{
    if (!m || m->ident_col < 0)
        return;
    pthread_mutex_lock(&meta_mu);
    if (m->ident_loaded && (!m->ident_used || (m->incr > 0 ? v > m->ident_last : v < m->ident_last))) {
        m->ident_last = v;
        m->ident_used = true;
    }
    pthread_mutex_unlock(&meta_mu);
}

