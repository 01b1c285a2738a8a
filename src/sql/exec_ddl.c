/*
 * exec_ddl.c — DROP DATABASE (CREATE: exec_createdb.c), CREATE/DROP SCHEMA, CREATE/DROP TABLE
 * (identity, defaults, CHECK and UNIQUE constraints: see exec_meta.c),
 * CREATE INDEX, ALTER DATABASE SET RECOVERY / PAGE_VERIFY, ADD FILEGROUP,
 * ADD FILE, USE.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine/dbstate.h"
#include "engine/suspect.h"
#include "log/logrec.h"
#include "sql/exec_int.h"


/* ------------------------------------------------------------ schemas */

static const struct { uint32_t id; const char *name; } builtin_schemas[] = {
    { SCHEMA_DBO, "dbo" }, { 2, "guest" }, { 3, "INFORMATION_SCHEMA" }, { SCHEMA_SYS, "sys" },
};

/* User schemas live in the catalog's schema tree (key: big-endian id,
 * value: the name as catalog.c writes it). Read without locks: a schema
 * being created by an open transaction is already visible, as a table is. */
int ex_schema_list(database *db, uint32_t *ids, char (*names)[130], int cap)
{
    int n = 0;
    for (size_t i = 0; i < sizeof builtin_schemas / sizeof builtin_schemas[0] && n < cap; i++, n++) {
        ids[n] = builtin_schemas[i].id;
        snprintf(names[n], 130, "%s", builtin_schemas[i].name);
    }
    hdb_err e;
    bt_cursor *c = bt_cursor_open(&db->sys[SYSOBJ_SCHEMAS], NULL, 0, 1, &e);
    if (!c)
        return n;
    const uint8_t *k, *v;
    size_t kl, vl;
    while (n < cap && bt_cursor_next(c, &k, &kl, &v, &vl, &e) == 1) {
        if (kl != 4)
            continue;
        uint32_t id = (uint32_t)k[0] << 24 | (uint32_t)k[1] << 16 | (uint32_t)k[2] << 8 | k[3];
        if (id <= SCHEMA_SYS)
            continue;
        lread r;
        lread_init(&r, v, vl);
        ids[n] = id;
        lread_str(&r, names[n], 130);
        n++;
    }
    bt_cursor_close(c);
    return n;
}

/* First user schema for which match() holds, scanning the schema tree. */
static uint32_t schema_find(database *db, bool (*match)(uint32_t id, const char *name, const void *arg),
                            const void *arg, char out[130])
{
    hdb_err e;
    bt_cursor *c = bt_cursor_open(&db->sys[SYSOBJ_SCHEMAS], NULL, 0, 1, &e);
    if (!c)
        return 0;
    const uint8_t *k, *v;
    size_t kl, vl;
    uint32_t found = 0;
    char name[130];
    while (!found && bt_cursor_next(c, &k, &kl, &v, &vl, &e) == 1) {
        if (kl != 4)
            continue;
        uint32_t id = (uint32_t)k[0] << 24 | (uint32_t)k[1] << 16 | (uint32_t)k[2] << 8 | k[3];
        if (id <= SCHEMA_SYS)
            continue;
        lread r;
        lread_init(&r, v, vl);
        lread_str(&r, name, sizeof name);
        if (match(id, name, arg)) {
            found = id;
            if (out)
                snprintf(out, 130, "%s", name);
        }
    }
    bt_cursor_close(c);
    return found;
}

static bool by_name(uint32_t id, const char *name, const void *arg) { (void)id; return !strcasecmp(name, arg); }
static bool by_id(uint32_t id, const char *name, const void *arg) { (void)name; return id == *(const uint32_t *)arg; }

uint32_t ex_schema_id(database *db, const char *name)
{
    if (!name)
        return 0;
    for (size_t i = 0; i < sizeof builtin_schemas / sizeof builtin_schemas[0]; i++)
        if (!strcasecmp(name, builtin_schemas[i].name))
            return builtin_schemas[i].id;
    return db ? schema_find(db, by_name, name, NULL) : 0;
}

const char *ex_schema_name(database *db, uint32_t id, char buf[130])
{
    for (size_t i = 0; i < sizeof builtin_schemas / sizeof builtin_schemas[0]; i++)
        if (builtin_schemas[i].id == id)
            return builtin_schemas[i].name;
    return db && schema_find(db, by_id, &id, buf) ? buf : NULL;
}

static int schema_key(uint8_t k[4], uint32_t id)
{
    k[0] = (uint8_t)(id >> 24);
    k[1] = (uint8_t)(id >> 16);
    k[2] = (uint8_t)(id >> 8);
    k[3] = (uint8_t)id;
    return 4;
}

static int lock_schema_name(sql_session *s, database *db, txn *t, const char *name)
{
    char up[CAT_NAME_MAX + 8];
    size_t n = (size_t)snprintf(up, sizeof up, "S.");
    for (const char *p = name; *p && n + 1 < sizeof up; p++)
        up[n++] = (char)((*p >= 'a' && *p <= 'z') ? *p - 32 : *p);
    lock_res res = lock_res_key(db->tdb.id, SYSOBJ_SCHEMAS, up, n);
    return lock_acquire(txn_mgr_locks(t->mgr), &t->lo, &res, LOCK_X, t->lock_timeout_ms, &s->err);
}

static int run_create_table(sql_session *s, ast_stmt *st);

static int create_schema(sql_session *s, ast_stmt *st)
{
    ast_create_schema *cs = &st->u.create_schema;
    database *db = s->db;
    if (strlen(cs->name) > CAT_NAME_MAX)
        return ex_failf(s, 103, 15, 1, "The identifier that starts with '%.128s' is too long. Maximum length is 128.", cs->name);
    if (ex_stmt_begin(s, true) < 0)
        return EX_ERROR;
    txn *t = ex_txn(s, true, &s->err);
    if (!t)
        return ex_stmt_end(s, -1), EX_ERROR;
    int rc = lock_schema_name(s, db, t, cs->name);
    if (rc == 0 && ex_schema_id(db, cs->name))
        rc = ex_failf(s, 2714, 16, 6, "There is already an object named '%s' in the database.", cs->name);
    uint32_t id = 5;
    if (rc == 0) {
        uint32_t *ids = arena_alloc(&s->stmt_arena, sizeof *ids * 1024);
        char (*names)[130] = arena_alloc(&s->stmt_arena, sizeof *names * 1024);
        int n = ids && names ? ex_schema_list(db, ids, names, 1024) : 0;
        for (int i = 0; i < n; i++)
            if (ids[i] >= id)
                id = ids[i] + 1;
        txn_part *p = txn_join(t, &db->tdb, &s->err);
        lbuf v;
        lbuf_init(&v);
        lbuf_str(&v, cs->name);
        uint8_t k[4];
        int ins = p ? bt_insert(&db->sys[SYSOBJ_SCHEMAS], t, p, k, (size_t)schema_key(k, id), v.p, v.len, &s->err) : -1;
        lbuf_free(&v);
        if (ins == 1)
            rc = ex_failf(s, 2714, 16, 6, "There is already an object named '%s' in the database.", cs->name);
        else if (ins < 0)
            rc = -1;
    }
    rc = ex_stmt_end(s, rc);
    if (rc < 0)
        return EX_ERROR;
    /* CREATE SCHEMA s CREATE TABLE t (...): the elements, created in it */
    for (int i = 0; i < cs->elements.n; i++) {
        ast_stmt *el = cs->elements.v[i];
        if (el->kind != STMT_CREATE_TABLE)
            return ex_failf(s, 40024, 16, 1, "Only CREATE TABLE is supported inside CREATE SCHEMA.");
        if (!el->u.create_table.name.schema)
            el->u.create_table.name.schema = cs->name;
        int r = run_create_table(s, el);
        if (r != EX_OK)
            return r;
    }
    return ex_done(s, 0, CMD_NONE, 0, false);
}

typedef struct schema_use { uint32_t sid; const char *table; } schema_use;

static int uses_schema(void *ctx, table_def *td)
{
    schema_use *u = ctx;
    if (td->schema_id == u->sid && !td->dropped) {
        u->table = td->name;
        return 1;
    }
    return 0;
}

static int drop_schema(sql_session *s, ast_stmt *st)
{
    ast_drop *d = &st->u.drop;
    database *db = s->db;
    for (int i = 0; i < d->names.n; i++) {
        const char *name = d->names.v[i]->object;
        uint32_t sid = ex_schema_id(db, name);
        if (!sid) {
            if (d->if_exists)
                continue;
            return ex_failf(s, 3701, 11, 1, "Cannot drop the schema '%s', because it does not exist or you do not have permission.", name);
        }
        if (sid <= SCHEMA_SYS)
            return ex_failf(s, 15150, 16, 1, "Cannot drop the schema '%s'.", name);
        schema_use u = { sid, NULL };
        if (cat_foreach_table(db, uses_schema, &u, &s->err) < 0)
            return EX_ERROR;
        if (u.table)
            return ex_failf(s, 3729, 16, 1, "Cannot drop schema '%s' because it is being referenced by object '%s'.", name, u.table);
        if (ex_stmt_begin(s, true) < 0)
            return EX_ERROR;
        txn *t = ex_txn(s, true, &s->err);
        if (!t)
            return ex_stmt_end(s, -1), EX_ERROR;
        int rc = lock_schema_name(s, db, t, name);
        txn_part *p = rc == 0 ? txn_join(t, &db->tdb, &s->err) : NULL;
        uint8_t k[4];
        if (rc == 0 && (!p || bt_delete(&db->sys[SYSOBJ_SCHEMAS], t, p, k, (size_t)schema_key(k, sid), &s->err) < 0))
            rc = -1;
        if (ex_stmt_end(s, rc) < 0)
            return EX_ERROR;
    }
    return ex_done(s, 0, CMD_NONE, 0, false);
}

/* ------------------------------------------------------------ USE */

int ex_use(sql_session *s, const char *name, bool report)
{
    database *db = ex_find_db(s, name, &s->err);
    if (!db)
        return EX_ERROR;
    if (db != s->db) {
        char old[130];
        snprintf(old, sizeof old, "%s", s->db->tdb.name);
        db->users++;
        s->db->users--;
        s->db = db;
        if (s->sink && s->sink->env_database && s->sink->env_database(s->sink->ctx, db->tdb.name, old) < 0)
            s->sink_failed = true;
    } else if (s->sink && s->sink->env_database && s->sink->env_database(s->sink->ctx, db->tdb.name, db->tdb.name) < 0) {
        s->sink_failed = true;
    }
    if (report) {
        char m[200];
        snprintf(m, sizeof m, "Changed database context to '%s'.", db->tdb.name);
        ex_info(s, 5701, 0, 1, m);
    }
    s->rowcount = 0;
    return ex_done(s, 0, CMD_NONE, 0, false);
}

/* ------------------------------------------------------------ CREATE TABLE */

static int find_col(const tbl_column *cols, int n, const char *name)
{
    for (int i = 0; i < n; i++)
        if (ex_name_eq(cols[i].name, name))
            return i;
    return -1;
}

static uint16_t coll_flags(const char *c)
{
    uint16_t fl = 0;
    if (!c)
        return 0;
    if (strstr(c, "_BIN") || strstr(c, "_bin"))
        fl |= VALUE_COLL_BIN;
    if (strstr(c, "_CS") || strstr(c, "_cs"))
        fl |= VALUE_COLL_CS;
    if (strstr(c, "_AI") || strstr(c, "_ai"))
        fl |= VALUE_COLL_AI;
    return fl;
}

/* Where a new table named n goes: its database (*db comes in as the
 * session's), its name there, its schema. Temporary tables go to tempdb,
 * under a session-unique name (realname, 140 bytes). */
static int new_table_place(sql_session *s, const ast_objname *n, bool temp, database **db, char *realname,
                           const char **tname, uint32_t *sid)
{
    *tname = n->object;
    if (temp) {
        if (!(*db = ex_tempdb(s, &s->err)))
            return EX_ERROR;
        database *xdb;
        table_def *xtd;
        if (ex_temp_find(s, n->object, &xdb, &xtd))
            return ex_failf(s, 2714, 16, 6, "There is already an object named '%s' in the database.", n->object);
        ex_temp_real_name(s, n->object, realname, 140);
        *tname = realname;
    } else if (n->database && !(*db = ex_find_db(s, n->database, &s->err))) {
        return EX_ERROR;
    }
    *sid = n->schema && !temp ? ex_schema_id(*db, n->schema) : SCHEMA_DBO;
    if (!*sid || *sid == SCHEMA_SYS || *sid == 3)
        return ex_failf(s, 2760, 16, 1, "The specified schema name \"%s\" either does not exist or you do not have permission to use it.", n->schema);
    return EX_OK;
}

typedef struct uq { int n; int cols[TBL_MAX_KEYCOLS]; uint8_t desc[TBL_MAX_KEYCOLS]; const char *name; } uq;

static int create_table(sql_session *s, ast_stmt *st, bool send_done)
{
    ast_create_table *ct = &st->u.create_table;
    ast_objname *n = &ct->name;
    if (strlen(n->object) > CAT_NAME_MAX)
        return ex_failf(s, 103, 15, 1, "The identifier that starts with '%.128s' is too long. Maximum length is 128.", n->object);
    database *db = s->db;
    bool temp = n->object[0] == '#' || n->object[0] == '@';   /* #temp table or table variable */
    char realname[140];
    const char *tname;
    uint32_t sid;
    int where = new_table_place(s, n, temp, &db, realname, &tname, &sid);
    if (where != EX_OK)
        return where;
    int ncols = ct->def.columns.n;
    if (ncols == 0)
        return ex_failf(s, 102, 15, 1, "Incorrect syntax near ')'.");
    arena *a = &s->stmt_arena;
    tbl_column *cols = arena_calloc(a, sizeof *cols * (size_t)ncols);
    if (!cols)
        return ex_failf(s, 701, 19, 1, "There is insufficient system memory to run this query.");
    int npk = 0, pk[TBL_MAX_KEYCOLS];
    uint8_t pkdesc[TBL_MAX_KEYCOLS];
    const char *pkname = NULL;
    uq uqs[16];
    int nuq = 0;
    int ident = -1;
    int64_t seed = 1, incr = 1;
    bool explicit_null[1024] = { 0 };
    for (int i = 0; i < ncols; i++) {
        ast_coldef *cd = ct->def.columns.v[i];
        if (cd->computed)
            return ex_failf(s, 40018, 16, 1, "Computed columns ('%s') are not supported yet.", cd->name);
        if (strlen(cd->name) > CAT_NAME_MAX)
            return ex_failf(s, 103, 15, 1, "The identifier that starts with '%.128s' is too long. Maximum length is 128.", cd->name);
        if (find_col(cols, i, cd->name) >= 0)
            return ex_failf(s, 2705, 16, 3, "Column names in each table must be unique. Column name '%s' in table '%s' is specified more than once.", cd->name, n->object);
        if (cd->type.t.id == SQL_TYPE_NONE)
            return ex_failf(s, 2715, 16, 6, "Column, parameter, or variable #%d: Cannot find data type %s.", i + 1, cd->type.name ? cd->type.name : "?");
        snprintf(cols[i].name, sizeof cols[i].name, "%s", cd->name);
        cols[i].type = cd->type.t;
        cols[i].type.collation_flags = coll_flags(cd->collation);
        cols[i].nullable = cd->nullability != NULLABILITY_NOT_NULL;
        if (i < 1024)
            explicit_null[i] = cd->nullability == NULLABILITY_NULL;
        if (cd->identity) {
            uint8_t id = cd->type.t.id;
            bool ok = (id >= SQL_TINYINT && id <= SQL_BIGINT) || ((id == SQL_DECIMAL || id == SQL_NUMERIC) && cd->type.t.scale == 0);
            if (!ok)
                return ex_failf(s, 2749, 16, 2, "Identity column '%s' must be of data type int, bigint, smallint, tinyint, or decimal or numeric with a scale of 0, and constrained to be nonnullable.", cd->name);
            if (ident >= 0)
                return ex_failf(s, 2744, 16, 2, "Multiple identity columns specified for table '%s'. Only one identity column per table is allowed.", n->object);
            if (cd->identity_increment == 0)
                return ex_failf(s, 2748, 16, 1, "Cannot create an identity column with increment 0.");
            ident = i;
            seed = cd->identity_seed;
            incr = cd->identity_increment;
            cols[i].identity = 1;
            cols[i].nullable = 0;
        }
        for (int k = 0; k < cd->constraints.n; k++) {
            ast_constraint *c = cd->constraints.v[k];
            if (c->kind == CONSTR_PRIMARY_KEY) {
                if (npk)
                    return ex_failf(s, 8110, 16, 0, "Cannot add multiple PRIMARY KEY constraints to table '%s'.", n->object);
                pk[npk] = i;
                pkdesc[npk++] = 0;
                pkname = c->name;
            } else if (c->kind == CONSTR_UNIQUE && nuq < 16) {
                uqs[nuq].n = 1;
                uqs[nuq].cols[0] = i;
                uqs[nuq].desc[0] = 0;
                uqs[nuq++].name = c->name;
            }
        }
    }
    for (int k = 0; k < ct->def.constraints.n; k++) {
        ast_constraint *c = ct->def.constraints.v[k];
        if (c->kind == CONSTR_DEFAULT || c->kind == CONSTR_FOREIGN_KEY)
            continue;
        if (c->kind != CONSTR_PRIMARY_KEY && c->kind != CONSTR_UNIQUE)
            continue;
        if (c->kind == CONSTR_PRIMARY_KEY && npk)
            return ex_failf(s, 8110, 16, 0, "Cannot add multiple PRIMARY KEY constraints to table '%s'.", n->object);
        if (c->columns.n > TBL_MAX_KEYCOLS)
            return ex_failf(s, 1904, 16, 1, "The index '%s' on table '%s' has %d column names in index key list. The maximum limit for index key column list is %d.",
                            c->name ? c->name : "", n->object, c->columns.n, TBL_MAX_KEYCOLS);
        uq *u = c->kind == CONSTR_UNIQUE && nuq < 16 ? &uqs[nuq] : NULL;
        for (int i = 0; i < c->columns.n; i++) {
            int col = find_col(cols, ncols, c->columns.v[i]->name);
            if (col < 0)
                return ex_failf(s, 1911, 16, 1, "Column name '%s' does not exist in the target table or view.", c->columns.v[i]->name);
            if (c->kind == CONSTR_PRIMARY_KEY) {
                pk[npk] = col;
                pkdesc[npk++] = c->columns.v[i]->desc;
            } else if (u) {
                u->cols[i] = col;
                u->desc[i] = c->columns.v[i]->desc;
            }
        }
        if (c->kind == CONSTR_PRIMARY_KEY)
            pkname = c->name;
        else if (u) {
            u->n = c->columns.n;
            u->name = c->name;
            nuq++;
        }
    }
    for (int i = 0; i < npk; i++) {
        if (pk[i] < 1024 && explicit_null[pk[i]])
            return ex_failf(s, 8111, 16, 1, "Cannot define PRIMARY KEY constraint on nullable column in table '%s'.", n->object);
        cols[pk[i]].nullable = 0;
    }
    uint16_t fg = 0;
    if (ct->on_filegroup && strcasecmp(ct->on_filegroup, "default") != 0) {
        fg = db_filegroup_id(db, ct->on_filegroup);
        if (!fg)
            return ex_failf(s, 1921, 16, 1, "Invalid filegroup '%s' specified.", ct->on_filegroup);
    }
    if (ex_stmt_begin(s, true) < 0)
        return EX_ERROR;
    txn *t = ex_txn(s, true, &s->err);
    if (!t)
        return ex_stmt_end(s, -1), EX_ERROR;
    table_spec spec = { .schema_id = sid, .name = tname, .ncols = ncols, .cols = cols, .npk = npk,
                        .pk_cols = pk, .pk_desc = pkdesc, .pk_name = pkname, .fg_id = fg };
    uint32_t obj = 0;
    int rc = cat_create_table(t, db, &spec, &obj, &s->err);
    table_def *td = rc == 0 ? cat_get_table(db, obj, &s->err) : NULL;
    if (rc == 0 && !td)
        rc = -1;
    /* UNIQUE constraints are unique secondary indexes */
    for (int k = 0; rc == 0 && k < nuq; k++) {
        char nm[CAT_NAME_MAX + 1];
        if (uqs[k].name)
            snprintf(nm, sizeof nm, "%s", uqs[k].name);
        else
            snprintf(nm, sizeof nm, "UQ__%.60s__%08X%02X", n->object, obj, k);
        rc = cat_create_index(t, db, td, nm, 1, uqs[k].n, uqs[k].cols, uqs[k].desc, &s->err);
        if (rc == 0)
            td = cat_get_table(db, obj, &s->err);
        if (!td)
            rc = -1;
    }
    /* foreign keys: checked and recorded now that the table exists */
    int nfk = 0;
    for (int i = 0; rc == 0 && i < ncols; i++)
        for (int k = 0; rc == 0 && k < ct->def.columns.v[i]->constraints.n; k++)
            if (ct->def.columns.v[i]->constraints.v[k]->kind == CONSTR_FOREIGN_KEY)
                rc = ex_fk_define(s, db, t, td, ct->def.columns.v[i]->constraints.v[k], i, nfk++, false);
    for (int k = 0; rc == 0 && k < ct->def.constraints.n; k++)
        if (ct->def.constraints.v[k]->kind == CONSTR_FOREIGN_KEY)
            rc = ex_fk_define(s, db, t, td, ct->def.constraints.v[k], -1, nfk++, false);
    /* identity, defaults and checks go to the metadata table */
    bool need_meta = ident >= 0;
    for (int i = 0; i < ncols; i++)
        if (ct->def.columns.v[i]->default_value)
            need_meta = true;
    for (int k = 0; k < ct->def.constraints.n; k++)
        if (ct->def.constraints.v[k]->kind == CONSTR_CHECK || ct->def.constraints.v[k]->kind == CONSTR_DEFAULT)
            need_meta = true;
    for (int i = 0; i < ncols; i++)
        for (int k = 0; k < ct->def.columns.v[i]->constraints.n; k++)
            if (ct->def.columns.v[i]->constraints.v[k]->kind == CONSTR_CHECK)
                need_meta = true;
    if (rc == 0 && need_meta) {
        table_def *mt;
        rc = ex_meta_ensure(s, db, t, &mt);
        if (rc == 0 && ident >= 0)
            rc = ex_meta_put(s, db, t, mt, obj, ident, META_IDENTITY, seed, incr, true, NULL, NULL);
        int nchk = 0;
        for (int i = 0; rc == 0 && i < ncols; i++) {
            ast_coldef *cd = ct->def.columns.v[i];
            if (cd->default_value) {
                char *txt = ast_expr_to_sql_with(a, cd->default_value, s->lits);
                char nm[CAT_NAME_MAX + 1];
                if (cd->default_name)
                    snprintf(nm, sizeof nm, "%s", cd->default_name);
                else
                    snprintf(nm, sizeof nm, "DF__%.40s__%.20s__%08X", n->object, cd->name, obj);
                rc = txt ? ex_meta_put(s, db, t, mt, obj, i, META_DEFAULT, 0, 0, false, nm, txt) : -1;
            }
            for (int k = 0; rc == 0 && k < cd->constraints.n; k++) {
                ast_constraint *c = cd->constraints.v[k];
                if (c->kind != CONSTR_CHECK)
                    continue;
                char *txt = ast_expr_to_sql_with(a, c->check, s->lits);
                char nm[CAT_NAME_MAX + 1];
                if (c->name)
                    snprintf(nm, sizeof nm, "%s", c->name);
                else
                    snprintf(nm, sizeof nm, "CK__%.40s__%.20s__%08X", n->object, cd->name, obj + (uint32_t)nchk);
                rc = txt ? ex_meta_put(s, db, t, mt, obj, nchk++, META_CHECK, i, 0, true, nm, txt) : -1;
            }
        }
        for (int k = 0; rc == 0 && k < ct->def.constraints.n; k++) {
            ast_constraint *c = ct->def.constraints.v[k];
            if (c->kind == CONSTR_CHECK) {
                char *txt = ast_expr_to_sql_with(a, c->check, s->lits);
                char nm[CAT_NAME_MAX + 1];
                if (c->name)
                    snprintf(nm, sizeof nm, "%s", c->name);
                else
                    snprintf(nm, sizeof nm, "CK__%.60s__%08X", n->object, obj + (uint32_t)nchk);
                /* seed = -1: a table-level constraint */
                rc = txt ? ex_meta_put(s, db, t, mt, obj, nchk++, META_CHECK, -1, 0, true, nm, txt) : -1;
            } else if (c->kind == CONSTR_DEFAULT && c->columns.n == 1) {
                int col = find_col(cols, ncols, c->columns.v[0]->name);
                char *txt = col >= 0 ? ast_expr_to_sql_with(a, c->default_value, s->lits) : NULL;
                rc = txt ? ex_meta_put(s, db, t, mt, obj, col, META_DEFAULT, 0, 0, false, c->name, txt) : -1;
                if (col < 0)
                    ex_failf(s, 1911, 16, 1, "Column name '%s' does not exist in the target table or view.", c->columns.v[0]->name);
            }
        }
    }
    rc = ex_stmt_end(s, rc);
    if (rc < 0)
        return EX_ERROR;
    if (temp && n->object[1] != '#' && ex_temp_add(s, n->object, realname, obj) < 0)
        return ex_failf(s, 701, 19, 1, "There is insufficient system memory to run this query.");
    return send_done ? ex_done(s, 0, CMD_NONE, 0, false) : EX_OK;
}

/* DECLARE @t TABLE (...): the variable is a table in tempdb (see exec_temp.c) */
int ex_declare_table(sql_session *s, ast_declare_var *d)
{
    database *db;
    table_def *td;
    if (ex_temp_find(s, d->name, &db, &td))
        return EX_OK;                  /* a DECLARE run again (loop) keeps it */
    ast_stmt st;
    memset(&st, 0, sizeof st);
    st.kind = STMT_CREATE_TABLE;
    st.line = d->line;
    st.u.create_table.name.object = d->name;
    st.u.create_table.name.nparts = 1;
    st.u.create_table.def = d->table;
    return create_table(s, &st, false);
}

/* SELECT ... INTO t: a table shaped like the query's result. Runs inside the
 * caller's statement transaction. */
int ex_create_table_for(sql_session *s, const ast_objname *n, const sql_column *rc, int ncols,
                        database **dbp, table_def **tdp)
{
    tbl_column *cols = arena_calloc(&s->stmt_arena, sizeof *cols * (size_t)(ncols ? ncols : 1));
    if (!cols)
        return ex_failf(s, 701, 19, 1, "There is insufficient system memory to run this query.");
    for (int i = 0; i < ncols; i++) {
        if (!rc[i].name || !rc[i].name[0])
            return ex_failf(s, 1038, 15, 4, "An object or column name is missing or empty. For SELECT INTO "
                            "statements, verify each column has a name. For other statements, look for empty "
                            "alias names. Aliases defined as \"\" or [] are not allowed. Change the alias to a valid name.");
        for (int k = 0; k < i; k++)
            if (ex_name_eq(cols[k].name, rc[i].name))
                return ex_failf(s, 2705, 16, 3, "Column names in each table must be unique. Column name '%s' in table '%s' is specified more than once.", rc[i].name, n->object);
        snprintf(cols[i].name, sizeof cols[i].name, "%s", rc[i].name);
        cols[i].type = rc[i].type;
        cols[i].nullable = rc[i].nullable;
    }
    database *db = s->db;
    bool temp = n->object[0] == '#';
    char realname[140];
    const char *tname;
    uint32_t sid;
    int where = new_table_place(s, n, temp, &db, realname, &tname, &sid);
    if (where != EX_OK)
        return where;
    txn *t = ex_txn(s, true, &s->err);
    if (!t)
        return EX_ERROR;
    table_spec spec = { .schema_id = sid, .name = tname, .ncols = ncols, .cols = cols };
    uint32_t obj;
    if (cat_create_table(t, db, &spec, &obj, &s->err) < 0)
        return EX_ERROR;
    table_def *td = cat_get_table(db, obj, &s->err);
    if (!td)
        return EX_ERROR;
    if (temp && n->object[1] != '#')
        ex_temp_add(s, n->object, realname, obj);
    *dbp = db;
    *tdp = td;
    return EX_OK;
}

static int run_create_table(sql_session *s, ast_stmt *st) { return create_table(s, st, true); }

static int drop_table(sql_session *s, ast_stmt *st)
{
    ast_drop *d = &st->u.drop;
    for (int i = 0; i < d->names.n; i++) {
        ast_objname *n = d->names.v[i];
        database *db;
        table_def *td;
        int view;
        if (q_resolve_table(s, n, &db, &td, &view) < 0) {
            if (s->err.number == 208 || s->err.number == 911) {
                hdb_err_clear(&s->err);
                if (d->if_exists)
                    continue;
                return ex_failf(s, 3701, 11, 5, "Cannot drop the table '%s', because it does not exist or you do not have permission.", n->object);
            }
            return EX_ERROR;
        }
        if (view)
            return ex_failf(s, 3701, 11, 5, "Cannot drop the table '%s', because it does not exist or you do not have permission.", n->object);
        if (ex_fk_referenced(s, db, td, false) < 0)
            return EX_ERROR;
        if (ex_stmt_begin(s, true) < 0)
            return EX_ERROR;
        txn *t = ex_txn(s, true, &s->err);
        if (!t)
            return ex_stmt_end(s, -1), EX_ERROR;
        uint32_t obj = td->object_id;
        int rc = cat_drop_table(t, db, td, &s->err);
        /* its metadata rows go too */
        table_def *mt = rc == 0 ? ex_meta_table(db) : NULL;
        if (mt) {
            table_scan *sc = table_scan_open(t, db, mt, ISO_READ_COMMITTED, &s->err);
            sql_value (*keys)[3] = arena_alloc(&s->stmt_arena, sizeof *keys * 1024);
            int nk = 0;
            table_row r;
            while (sc && keys && nk < 1024 && table_scan_next(sc, &r, &s->err) == 1) {
                if (r.vals[0].u.i != (int64_t)obj)
                    continue;
                keys[nk][0] = r.vals[0];
                keys[nk][1] = r.vals[1];
                keys[nk][2] = r.vals[2];
                nk++;
            }
            table_scan_close(sc);
            for (int k = 0; rc == 0 && k < nk; k++)
                if (table_delete(t, db, mt, keys[k], &s->err) < 0)
                    rc = -1;
        }
        rc = ex_stmt_end(s, rc);
        if (rc < 0)
            return EX_ERROR;
        ex_tmeta_forget_all();     /* tables it referenced lose a foreign key */
        (void)obj;
        if (n->object[0] == '#')
            ex_temp_forget(s, n->object);
    }
    return ex_done(s, 0, CMD_NONE, 0, false);
}

static int create_index(sql_session *s, ast_stmt *st)
{
    ast_create_index *ci = &st->u.create_index;
    database *db;
    table_def *td;
    int view;
    if (q_resolve_table(s, &ci->table, &db, &td, &view) < 0)
        return ex_bind_fail(s);
    if (view)
        return ex_failf(s, 1088, 16, 12, "Cannot find the object \"%s\" because it does not exist or you do not have permissions.", ci->table.object);
    if (ci->where)
        return ex_failf(s, 40020, 16, 1, "Filtered indexes are not supported yet.");
    if (ci->clustered == IDX_CLUSTERED && !td->idx[0].hidden_key)
        return ex_failf(s, 1902, 16, 3, "Cannot create more than one clustered index on table '%s'. Drop the existing clustered index '%s' before creating another.",
                        td->name, td->idx[0].name);
    int nk = ci->columns.n;
    if (nk > TBL_MAX_KEYCOLS)
        return ex_failf(s, 1904, 16, 1, "The index '%s' on table '%s' has %d column names in index key list. The maximum limit for index key column list is %d.",
                        ci->name, td->name, nk, TBL_MAX_KEYCOLS);
    int cols[TBL_MAX_KEYCOLS];
    uint8_t desc[TBL_MAX_KEYCOLS];
    for (int i = 0; i < nk; i++) {
        int c = find_col(td->cols, td->ncols, ci->columns.v[i]->name);
        if (c < 0)
            return ex_failf(s, 1911, 16, 1, "Column name '%s' does not exist in the target table or view.", ci->columns.v[i]->name);
        cols[i] = c;
        desc[i] = ci->columns.v[i]->desc;
    }
    uint16_t fg = td->idx[0].fg_id;   /* by default where the table is */
    if (ci->on_filegroup && strcasecmp(ci->on_filegroup, "default") != 0) {
        fg = db_filegroup_id(db, ci->on_filegroup);
        if (!fg)
            return ex_failf(s, 1921, 16, 1, "Invalid filegroup '%s' specified.", ci->on_filegroup);
    }
    if (ex_stmt_begin(s, true) < 0)
        return EX_ERROR;
    txn *t = ex_txn(s, true, &s->err);
    if (!t)
        return ex_stmt_end(s, -1), EX_ERROR;
    int rc = cat_create_index_on(t, db, td, ci->name, ci->unique, nk, cols, desc, fg, &s->err);
    if (rc < 0 && (s->err.number == 2601 || s->err.number == 2627)) {
        char m[600];
        snprintf(m, sizeof m, "The CREATE UNIQUE INDEX statement terminated because a duplicate key was found for "
                 "the object name 'dbo.%s' and the index name '%s'.", td->name, ci->name);
        hdb_raise_text(&s->err, 1505, 16, 1, m);
    }
    if (ex_stmt_end(s, rc) < 0)
        return EX_ERROR;
    return ex_done(s, 0, CMD_NONE, 0, false);
}

/* ------------------------------------------------------------ databases */

/* CREATE DATABASE: exec_createdb.c */

static int drop_database(sql_session *s, ast_stmt *st)
{
    ast_drop *d = &st->u.drop;
    if (s->trancount > 0)
        return ex_failf(s, 226, 16, 6, "DROP DATABASE statement not allowed within multi-statement transaction.");
    for (int i = 0; i < d->names.n; i++) {
        const char *name = d->names.v[i]->object;
        if (!inst_find_database(s->in, name)) {
            if (d->if_exists)
                continue;
            return ex_failf(s, 3701, 11, 1, "Cannot drop the database '%s', because it does not exist or you do not have permission.", name);
        }
        database *db = inst_find_database(s->in, name);
        uint32_t db_id = db ? db->tdb.id : 0;
        /* OFFLINE / RECOVERY_PENDING: no file is open (engine/dbstate.h) */
        if (db && dbst_is_shell(db) ? dbst_drop_shell(s->in, db, &s->err) < 0
                                    : inst_drop_database(s->in, name, &s->err) < 0)
            return EX_ERROR;
        suspect_forget(s->in, db_id, 0);   /* its msdb.dbo.suspect_pages rows go too */
    }
    return ex_done(s, 0, CMD_NONE, 0, false);
}

/* ALTER DATABASE db ADD FILEGROUP fg | ADD FILE (...) [, ...] [TO FILEGROUP fg]:
 * each file is created, formatted and listed on the boot page (logged), and
 * its path registered in master (sys.master_files). A relative FILENAME is
 * under DATADIR/data, as for RESTORE ... MOVE. */
static int alter_database_files(sql_session *s, ast_alter_database *ad, database *db)
{
    if (s->trancount > 0)
        return ex_failf(s, 226, 16, 6, "ALTER DATABASE statement not allowed within multi-statement transaction.");
    if (db->state != DB_ONLINE) {
        return ex_failf(s, db->state == DB_RESTORING ? 927 : 942, 14, 1,
                        db->state == DB_RESTORING ? "Database '%s' cannot be opened. It is in the middle of a restore."
                                                  : "Database '%s' cannot be opened because it is offline.",
                        db->tdb.name);
    }
    if (db->tdb.read_only_log)
        return ex_failf(s, 3906, 16, 1, "Failed to update database \"%s\" because the database is read-only.",
                        db->tdb.name);
    if (ad->action == ALTERDB_ADD_FILEGROUP) {
        if (ad->options.n)
            return ex_failf(s, 40001, 16, 1, "ALTER DATABASE ADD FILEGROUP ... %s is not supported yet.",
                            ad->options.v[0]->name);
        if (db_add_filegroup(db, ad->target, NULL, &s->err) < 0)
            return EX_ERROR;
        return ex_done(s, 0, CMD_NONE, 0, false);
    }
    for (int i = 0; i < ad->files.n; i++) {
        const ast_filespec *f = ad->files.v[i];
        if (!f->name || !f->name[0] || !f->filename || !f->filename[0])
            return ex_failf(s, 40001, 16, 1, "ALTER DATABASE ADD FILE needs NAME and FILENAME.");
        db_file_spec spec;
        if (ex_file_spec(s, f, 1024, &spec) != EX_OK)   /* exec_createdb.c, as CREATE DATABASE */
            return EX_ERROR;
        if (access(spec.path, F_OK) == 0)
            return ex_failf(s, 5170, 16, 1, "Cannot create file '%s' because it already exists. Change the file "
                            "path or the file name, and retry the operation.", spec.path);
        if (inst_add_file(s->in, db, ad->target, &spec, NULL, &s->err) < 0)
            return EX_ERROR;
    }
    return ex_done(s, 0, CMD_NONE, 0, false);
}

static int alter_database(sql_session *s, ast_stmt *st)
{
    ast_alter_database *ad = &st->u.alter_db;
    database *db = ad->current ? s->db : inst_find_database(s->in, ad->name);
    if (!db)
        return ex_failf(s, 5011, 14, 5, "User does not have permission to alter database '%s', the database does not exist, or the database is not in a state that allows access checks.", ad->name);
    if (ad->action == ALTERDB_ADD_FILE || ad->action == ALTERDB_ADD_FILEGROUP)
        return alter_database_files(s, ad, db);
    if (ad->action == ALTERDB_MODIFY_FILE || ad->action == ALTERDB_REMOVE_FILE)
        return ex_alter_db_file(s, ad, db);   /* exec_dbfiles.c */
    if (ad->action != ALTERDB_SET)
        return ex_failf(s, 40001, 16, 1, "This form of ALTER DATABASE is not supported yet.");
    if (ex_is_dbstate_option(ad))   /* ONLINE, OFFLINE, EMERGENCY, user access: exec_dbstate.c */
        return ex_alter_db_state(s, ad, db);
    if (dbst_is_shell(db)) {   /* its boot page is not open */
        ex_db_usable(s, db, &s->err);
        return EX_ERROR;
    }
    for (int i = 0; i < ad->options.n; i++) {
        const ast_option *o = ad->options.v[i];
        if (!strcmp(o->name, "RECOVERY") && o->word) {
            int model = ast_option_word_is(o, "FULL") ? RECOVERY_FULL : ast_option_word_is(o, "SIMPLE") ? RECOVERY_SIMPLE :
                        ast_option_word_is(o, "BULK_LOGGED") ? RECOVERY_BULK_LOGGED : 0;
            if (!model)
                return ex_failf(s, 102, 15, 1, "Incorrect syntax near '%s'.", o->word);
            if (db->tdb.id == DBID_MASTER && model != RECOVERY_SIMPLE)
                return ex_failf(s, 5058, 16, 1, "Option 'RECOVERY' cannot be set in database 'master'.");
            if (db_set_recovery_model(db, model, &s->err) < 0)
                return EX_ERROR;
        } else if (!strcmp(o->name, "PAGE_VERIFY") || !strcmp(o->name, "TORN_PAGE_DETECTION")) {
            int rc = ex_set_page_verify(s, db, ad, o);   /* exec_pageverify.c */
            if (rc != EX_OK)
                return rc;
        } else {
            return ex_failf(s, 40001, 16, 1, "ALTER DATABASE SET %s is not supported yet.", o->name);
        }
    }
    return ex_done(s, 0, CMD_NONE, 0, false);
}

int ex_ddl(sql_session *s, ast_stmt *st)
{
    switch (st->kind) {
    case STMT_CREATE_TABLE: return create_table(s, st, true);
    case STMT_DROP_TABLE: return drop_table(s, st);
    case STMT_CREATE_INDEX: return create_index(s, st);
    case STMT_CREATE_DATABASE: return ex_create_database(s, st);   /* exec_createdb.c */
    case STMT_DROP_DATABASE: return drop_database(s, st);
    case STMT_ALTER_DATABASE: return alter_database(s, st);
    case STMT_DROP_INDEX: return ex_failf(s, 40022, 16, 1, "DROP INDEX is not supported yet.");
    case STMT_ALTER_TABLE: return ex_alter_table(s, st);
    case STMT_CREATE_SCHEMA: return create_schema(s, st);
    case STMT_DROP_SCHEMA: return drop_schema(s, st);
    default: break;
    }
    return ex_failf(s, 40001, 16, 1, "%s is not supported yet.", ast_stmt_kind_name(st->kind));
}
