/*
 * exec_alter.c — ALTER TABLE: ADD CONSTRAINT (CHECK, DEFAULT ... FOR,
 * UNIQUE, FOREIGN KEY) and DROP CONSTRAINT (CHECK, DEFAULT, FOREIGN KEY).
 * CHECK and FOREIGN KEY constraints are
 * verified against the existing rows unless WITH NOCHECK (547 if one fails),
 * UNIQUE builds a unique index (1505 on duplicates). Changing columns (ADD /
 * ALTER / DROP COLUMN) needs the engine to rewrite rows and is refused.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sql/exec_int.h"

static int find_col(table_def *td, const char *name)
{
    for (int i = 0; i < td->ncols; i++)
        if (ex_name_eq(td->cols[i].name, name))
            return i;
    return -1;
}

typedef struct meta_row { int col, kind; char name[CAT_NAME_MAX + 1]; } meta_row;

/* The metadata rows of a table (at most cap). */
static int meta_rows(sql_session *s, database *db, txn *t, table_def *mt, uint32_t obj, meta_row *out, int cap)
{
    table_scan *sc = table_scan_open(t, db, mt, ISO_READ_COMMITTED, &s->err);
    if (!sc)
        return -1;
    int n = 0, k = 0;
    table_row r;
    while (n < cap && (k = table_scan_next(sc, &r, &s->err)) == 1) {
        if (r.vals[0].u.i != (int64_t)obj)
            continue;
        out[n].col = (int)r.vals[1].u.i;
        out[n].kind = (int)r.vals[2].u.i;
        out[n].name[0] = 0;
        if (!r.vals[5].is_null)
            snprintf(out[n].name, sizeof out[n].name, "%.*s", (int)r.vals[5].len, (const char *)r.vals[5].bytes);
        n++;
    }
    table_scan_close(sc);
    return k < 0 ? -1 : n;
}

/* Existing rows against a new CHECK constraint. */
static int verify_check(sql_session *s, database *db, table_def *td, txn *t, ast_expr *check, const char *name,
                        int col)
{
    q_plan *tp = q_table_plan(s, db, td, td->name, 0, NULL);
    if (!tp)
        return -1;
    bscope sc = { .plan = tp };
    bx *b = bx_bind_pred(s, &sc, check);
    if (!b)
        return -1;
    ex_env env;
    ex_env_init(&env, s);
    env.a = &s->row_arena;
    table_scan *scan = table_scan_open(t, db, td, ISO_READ_COMMITTED, &s->err);
    if (!scan)
        return -1;
    table_row r;
    int k, rc = 0;
    while ((k = table_scan_next(scan, &r, &s->err)) == 1) {
        sql_value *rows[1] = { r.vals };
        env.rows = rows;
        int tr;
        if (ex_truth(&env, b, &tr) < 0) {
            rc = -1;
            break;
        }
        arena_reset(&s->row_arena);
        if (tr == 0) {
            char colpart[200] = "";
            if (col >= 0)
                snprintf(colpart, sizeof colpart, ", column '%s'", td->cols[col].name);
            char sb[130];
            const char *sn = ex_schema_name(db, td->schema_id, sb);
            rc = ex_failf(s, 547, 16, 0, "The ALTER TABLE statement conflicted with the CHECK constraint \"%s\". The "
                          "conflict occurred in database \"%s\", table \"%s.%s\"%s.", name, db->tdb.name,
                          sn ? sn : "dbo", td->name, colpart);
            break;
        }
    }
    if (k < 0)
        rc = -1;
    table_scan_close(scan);
    return rc;
}

static int add_constraint(sql_session *s, database *db, table_def **tdp, txn *t, ast_constraint *c, bool nocheck,
                          int ordinal)
{
    table_def *td = *tdp;
    uint32_t obj = td->object_id;
    char nm[CAT_NAME_MAX + 1];
    switch (c->kind) {
    case CONSTR_CHECK: {
        if (c->name)
            snprintf(nm, sizeof nm, "%s", c->name);
        else
            snprintf(nm, sizeof nm, "CK__%.60s__%08X%02X", td->name, obj, ordinal & 0xFF);
        int col = c->columns.n == 1 ? find_col(td, c->columns.v[0]->name) : -1;
        if (!nocheck && verify_check(s, db, td, t, c->check, nm, col) < 0)
            return -1;
        table_def *mt;
        if (ex_meta_ensure(s, db, t, &mt) < 0)
            return -1;
        meta_row rows[256];
        int n = meta_rows(s, db, t, mt, obj, rows, 256);
        if (n < 0)
            return -1;
        int next = 0;
        for (int i = 0; i < n; i++) {
            if (rows[i].kind == META_CHECK && rows[i].col >= next)
                next = rows[i].col + 1;
            if (!strcasecmp(rows[i].name, nm))
                return ex_failf(s, 2714, 16, 5, "There is already an object named '%s' in the database.", nm);
        }
        char *txt = ast_expr_to_sql_with(&s->stmt_arena, c->check, s->lits);
        if (!txt)
            return ex_failf(s, 701, 19, 1, "There is insufficient system memory to run this query.");
        return ex_meta_put(s, db, t, mt, obj, next, META_CHECK, col, 0, true, nm, txt);
    }
    case CONSTR_DEFAULT: {
        if (c->columns.n != 1)
            return ex_failf(s, 102, 15, 1, "Incorrect syntax near 'DEFAULT'.");
        int col = find_col(td, c->columns.v[0]->name);
        if (col < 0)
            return ex_failf(s, 1911, 16, 1, "Column name '%s' does not exist in the target table or view.", c->columns.v[0]->name);
        if (td->cols[col].identity)
            return ex_failf(s, 1754, 16, 0, "Defaults cannot be created on columns with an IDENTITY attribute. Table '%s', column '%s'.",
                            td->name, td->cols[col].name);
        tmeta *m = ex_tmeta(s, db, td);
        if (m && m->defaults && m->defaults[col])
            return ex_failf(s, 1781, 16, 1, "Column already has a DEFAULT bound to it.");
        if (c->name)
            snprintf(nm, sizeof nm, "%s", c->name);
        else
            snprintf(nm, sizeof nm, "DF__%.40s__%.20s__%08X", td->name, td->cols[col].name, obj);
        table_def *mt;
        if (ex_meta_ensure(s, db, t, &mt) < 0)
            return -1;
        char *txt = ast_expr_to_sql_with(&s->stmt_arena, c->default_value, s->lits);
        if (!txt)
            return ex_failf(s, 701, 19, 1, "There is insufficient system memory to run this query.");
        return ex_meta_put(s, db, t, mt, obj, col, META_DEFAULT, 0, 0, false, nm, txt);
    }
    case CONSTR_UNIQUE: {
        int cols[TBL_MAX_KEYCOLS];
        uint8_t desc[TBL_MAX_KEYCOLS];
        if (c->columns.n > TBL_MAX_KEYCOLS)
            return ex_failf(s, 1904, 16, 1, "Too many key columns for index on table '%s'.", td->name);
        for (int i = 0; i < c->columns.n; i++) {
            cols[i] = find_col(td, c->columns.v[i]->name);
            if (cols[i] < 0)
                return ex_failf(s, 1911, 16, 1, "Column name '%s' does not exist in the target table or view.", c->columns.v[i]->name);
            desc[i] = c->columns.v[i]->desc;
        }
        if (c->name)
            snprintf(nm, sizeof nm, "%s", c->name);
        else
            snprintf(nm, sizeof nm, "UQ__%.60s__%08X%02X", td->name, obj, ordinal & 0xFF);
        if (cat_create_index(t, db, td, nm, 1, c->columns.n, cols, desc, &s->err) < 0) {
            if (s->err.number == 2601 || s->err.number == 2627)
                ex_failf(s, 1505, 16, 1, "The CREATE UNIQUE INDEX statement terminated because a duplicate key was "
                         "found for the object name 'dbo.%s' and the index name '%s'.", td->name, nm);
            return -1;
        }
        table_def *nt = cat_get_table(db, obj, &s->err);
        if (!nt)
            return -1;
        *tdp = nt;
        return 0;
    }
    case CONSTR_PRIMARY_KEY:
        if (!td->idx[0].hidden_key)
            return ex_failf(s, 1779, 16, 0, "Table '%s' already has a primary key defined on it.", td->name);
        return ex_failf(s, 40023, 16, 1, "ALTER TABLE ADD PRIMARY KEY on a table without one is not supported yet.");
    case CONSTR_FOREIGN_KEY:
        return ex_fk_define(s, db, t, td, c, -1, 100 + ordinal, !nocheck);
    }
    return ex_failf(s, 40023, 16, 1, "This ALTER TABLE form is not supported yet.");
}

static int drop_constraint(sql_session *s, database *db, table_def *td, txn *t, const char *name, bool if_exists)
{
    table_def *mt = ex_meta_table(db);
    if (mt) {
        meta_row rows[256];
        int n = meta_rows(s, db, t, mt, td->object_id, rows, 256);
        if (n < 0)
            return -1;
        for (int i = 0; i < n; i++) {
            if ((rows[i].kind != META_CHECK && rows[i].kind != META_DEFAULT && rows[i].kind != META_FK) ||
                strcasecmp(rows[i].name, name))
                continue;
            if (rows[i].kind == META_FK)
                ex_tmeta_forget_all();      /* the parent's list of referencing keys */
            sql_value key[3] = { value_int(SQL_INT, td->object_id), value_int(SQL_INT, rows[i].col),
                                 value_int(SQL_TINYINT, rows[i].kind) };
            s->tx_ddl = true;
            return table_delete(t, db, mt, key, &s->err) < 0 ? -1 : 0;
        }
    }
    for (int i = 0; i < td->nidx; i++)
        if (!strcasecmp(td->idx[i].name, name))
            return ex_failf(s, 40022, 16, 1, "Dropping the constraint '%s' (an index) is not supported yet.", name);
    if (if_exists)
        return 0;
    return ex_failf(s, 3728, 16, 1, "'%s' is not a constraint.", name);
}

int ex_alter_table(sql_session *s, ast_stmt *st)
{
    ast_alter_table *a = &st->u.alter_table;
    database *db;
    table_def *td;
    int view;
    if (q_resolve_table(s, &a->name, &db, &td, &view) < 0)
        return ex_bind_fail(s);
    if (view)
        return ex_failf(s, 4902, 16, 1, "Cannot find the object \"%s\" because it does not exist or you do not have permissions.", a->name.object);
    switch (a->action) {
    case ALTER_TABLE_ADD:
        if (a->def.columns.n)
            return ex_failf(s, 40023, 16, 1, "ALTER TABLE ADD column is not supported yet.");
        break;
    case ALTER_TABLE_DROP_CONSTRAINT:
        break;
    case ALTER_TABLE_ALTER_COLUMN:
        return ex_failf(s, 40023, 16, 1, "ALTER TABLE ALTER COLUMN is not supported yet.");
    case ALTER_TABLE_DROP_COLUMN:
        return ex_failf(s, 40023, 16, 1, "ALTER TABLE DROP COLUMN is not supported yet.");
    }
    if (ex_stmt_begin(s, true) < 0)
        return EX_ERROR;
    txn *t = ex_txn(s, true, &s->err);
    if (!t)
        return ex_stmt_end(s, -1), EX_ERROR;
    /* hold the table still while its constraints change */
    lock_res res = lock_res_table(db->tdb.id, td->object_id);
    int rc = lock_acquire(txn_mgr_locks(t->mgr), &t->lo, &res, LOCK_X, t->lock_timeout_ms, &s->err);
    if (a->action == ALTER_TABLE_ADD) {
        for (int i = 0; rc == 0 && i < a->def.constraints.n; i++)
            rc = add_constraint(s, db, &td, t, a->def.constraints.v[i], a->with_nocheck, i);
    } else {
        for (int i = 0; rc == 0 && i < a->names.n; i++)
            rc = drop_constraint(s, db, td, t, a->names.v[i], a->if_exists);
    }
    uint32_t obj = td->object_id;
    if (ex_stmt_end(s, rc) < 0)
        return EX_ERROR;
    ex_tmeta_forget(db, obj);       /* reloaded with the new constraints */
    return ex_done(s, 0, CMD_NONE, 0, false);
}
