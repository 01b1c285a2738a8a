/*
 * exec_fk.c — FOREIGN KEY constraints (NO ACTION). A foreign key is a row of
 * the metadata table (exec_meta.c, kind META_FK): the child table, the parent
 * table (in `seed`), and "c1 c2;p1 p2" column indexes as its definition.
 *
 * Checked as SQL Server does, row by row inside the statement:
 *   INSERT / UPDATE of a child row: the parent row must exist (547 "... the
 *   FOREIGN KEY constraint"), looked up through the parent's clustered key
 *   when the foreign key references it, else by a scan;
 *   DELETE / UPDATE of a parent row's key: no child row may still reference
 *   it (547 "... the REFERENCE constraint");
 *   DROP / TRUNCATE of a referenced table are refused (3726 / 4712).
 * A NULL in any referencing column makes the row exempt.
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

static const char *schema_of(database *db, table_def *td, char buf[130])
{
    const char *n = ex_schema_name(db, td->schema_id, buf);
    return n ? n : "dbo";
}

/* Do the parent columns form its primary key or a unique index? */
static bool is_candidate_key(table_def *p, const int *pcols, int n)
{
    for (int i = 0; i < p->nidx; i++) {
        tbl_index *x = &p->idx[i];
        if (x->hidden_key || !x->unique || x->nkeys != n)
            continue;
        bool all = true;
        for (int k = 0; k < n && all; k++) {
            bool found = false;
            for (int j = 0; j < n; j++)
                if (x->keycols[j] == pcols[k])
                    found = true;
            all = found;
        }
        if (all)
            return true;
    }
    return false;
}

static int fk_define(sql_session *s, database *db, txn *t, table_def *child, ast_constraint *c, int colcol,
                     int ordinal, bool verify)
{
    if (c->on_delete != REF_NO_ACTION || c->on_update != REF_NO_ACTION)
        return ex_failf(s, 40019, 16, 1, "FOREIGN KEY constraints with ON DELETE / ON UPDATE actions are not supported yet.");
    char nm[CAT_NAME_MAX + 1];
    if (c->name)
        snprintf(nm, sizeof nm, "%s", c->name);
    else
        snprintf(nm, sizeof nm, "FK__%.50s__%08X%02X", child->name, child->object_id, ordinal & 0xFF);
    /* the parent: another table of this database, or the child itself */
    table_def *parent = NULL;
    const ast_objname *rn = &c->ref_table;
    if (rn->database && !ex_name_eq(rn->database, db->tdb.name))
        return ex_failf(s, 1763, 16, 0, "Cross-database foreign key references are not supported. Foreign key '%s'.", rn->object);
    uint32_t sid = rn->schema ? ex_schema_id(db, rn->schema) : SCHEMA_DBO;
    if (sid == child->schema_id && ex_name_eq(rn->object, child->name))
        parent = child;
    else if (sid) {
        hdb_err e;
        parent = cat_find_table(db, sid, rn->object, &e);
    }
    if (!parent)
        return ex_failf(s, 1767, 16, 0, "Foreign key '%s' references invalid table '%s'.", nm, rn->object);
    int ccols[TBL_MAX_KEYCOLS], pcols[TBL_MAX_KEYCOLS], n;
    if (c->columns.n) {
        n = c->columns.n;
        if (n > TBL_MAX_KEYCOLS)
            return ex_failf(s, 1904, 16, 1, "Too many columns in foreign key '%s'.", nm);
        for (int i = 0; i < n; i++)
            if ((ccols[i] = find_col(child, c->columns.v[i]->name)) < 0)
                return ex_failf(s, 1769, 16, 1, "Foreign key '%s' references invalid column '%s' in referencing table '%s'.",
                                nm, c->columns.v[i]->name, child->name);
    } else if (colcol >= 0) {
        n = 1;
        ccols[0] = colcol;
    } else {
        return ex_failf(s, 102, 15, 1, "Incorrect syntax near 'REFERENCES'.");
    }
    if (c->ref_columns.n) {
        if (c->ref_columns.n != n)
            return ex_failf(s, 8139, 16, 0, "Number of referencing columns in foreign key differs from number of "
                            "referenced columns, table '%s'.", child->name);
        for (int i = 0; i < n; i++)
            if ((pcols[i] = find_col(parent, c->ref_columns.v[i])) < 0)
                return ex_failf(s, 1770, 16, 0, "Foreign key '%s' references invalid column '%s' in referenced table '%s'.",
                                nm, c->ref_columns.v[i], parent->name);
    } else {
        /* the parent's primary key */
        tbl_index *pk = &parent->idx[0];
        if (pk->hidden_key || pk->nkeys != n)
            return ex_failf(s, 1776, 16, 0, "There are no primary or candidate keys in the referenced table '%s' that "
                            "match the referencing column list in the foreign key '%s'.", parent->name, nm);
        for (int i = 0; i < n; i++)
            pcols[i] = pk->keycols[i];
    }
    if (!is_candidate_key(parent, pcols, n))
        return ex_failf(s, 1776, 16, 0, "There are no primary or candidate keys in the referenced table '%s' that "
                        "match the referencing column list in the foreign key '%s'.", parent->name, nm);
    for (int i = 0; i < n; i++) {
        const sql_type *a = &child->types[ccols[i]], *b = &parent->types[pcols[i]];
        bool same = a->id == b->id || (ty_dec(a->id) && ty_dec(b->id));
        if (!same || (ty_dec(a->id) && (a->precision != b->precision || a->scale != b->scale)))
            return ex_failf(s, 1778, 16, 0, "Column '%s.%s' is not the same data type as referencing column '%s.%s' in "
                            "foreign key '%s'.", parent->name, parent->cols[pcols[i]].name, child->name,
                            child->cols[ccols[i]].name, nm);
    }
    char def[256];
    size_t o = 0;
    for (int i = 0; i < n; i++)
        o += (size_t)snprintf(def + o, sizeof def - o, "%s%d", i ? " " : "", ccols[i]);
    o += (size_t)snprintf(def + o, sizeof def - o, ";");
    for (int i = 0; i < n; i++)
        o += (size_t)snprintf(def + o, sizeof def - o, "%s%d", i ? " " : "", pcols[i]);
    table_def *mt;
    if (ex_meta_ensure(s, db, t, &mt) < 0)
        return -1;
    if (ex_meta_put(s, db, t, mt, child->object_id, 1000 + ordinal, META_FK, parent->object_id, 0, true, nm, def) < 0)
        return -1;
    if (verify && child != parent) {
        /* existing rows must already satisfy it (ALTER TABLE ... ADD) */
        tmeta_fk fk = { .name = nm, .child_obj = child->object_id, .parent_obj = parent->object_id, .ncols = n };
        memcpy(fk.ccols, ccols, sizeof ccols);
        memcpy(fk.pcols, pcols, sizeof pcols);
        ex_env env;
        ex_env_init(&env, s);
        env.a = &s->row_arena;
        table_scan *sc = table_scan_open(t, db, child, ISO_READ_COMMITTED, &s->err);
        if (!sc)
            return -1;
        table_row r;
        int k, rc = 0;
        while (rc == 0 && (k = table_scan_next(sc, &r, &s->err)) == 1) {
            rc = ex_fk_parent_exists(s, &env, db, t, &fk, r.vals, "ALTER TABLE");
            arena_reset(&s->row_arena);
        }
        if (k < 0)
            rc = -1;
        table_scan_close(sc);
        if (rc < 0)
            return -1;
    }
    ex_tmeta_forget(db, parent->object_id);   /* its list of referencing keys changed */
    return 0;
}

/* Do the parent's values equal the child's key values? */
static bool row_matches(table_def *ptd, const sql_value *prow, const tmeta_fk *fk, const sql_value *kv)
{
    for (int i = 0; i < fk->ncols; i++)
        if (value_compare(&prow[fk->pcols[i]], &kv[i], &ptd->types[fk->pcols[i]]) != 0)
            return false;
    return true;
}

int ex_fk_parent_exists(sql_session *s, ex_env *env, database *db, txn *t, const tmeta_fk *fk, const sql_value *row,
                        const char *verb)
{
    sql_value kv[TBL_MAX_KEYCOLS];
    for (int i = 0; i < fk->ncols; i++) {
        if (row[fk->ccols[i]].is_null)
            return 0;
        kv[i] = row[fk->ccols[i]];
    }
    table_def *ptd = cat_get_table(db, fk->parent_obj, &s->err);
    if (!ptd)
        return -1;
    bool found = false;
    tbl_index *pk = &ptd->idx[0];
    bool by_key = !pk->hidden_key && pk->nkeys == fk->ncols;
    for (int i = 0; by_key && i < fk->ncols; i++)
        if (pk->keycols[i] != fk->pcols[i])
            by_key = false;
    if (by_key) {
        table_row r;
        int g = table_get(t, db, ptd, kv, ISO_READ_COMMITTED, &r, &s->err);
        if (g < 0)
            return -1;
        if (g == 1) {
            found = true;
            table_row_free(&r);
        }
    } else {
        table_scan *sc = table_scan_open(t, db, ptd, ISO_READ_COMMITTED, &s->err);
        if (!sc)
            return -1;
        table_row r;
        int k;
        while (!found && (k = table_scan_next(sc, &r, &s->err)) == 1)
            found = row_matches(ptd, r.vals, fk, kv);
        table_scan_close(sc);
        if (k < 0)
            return -1;
    }
    if (found)
        return 0;
    (void)env;
    char sb[130];
    return ex_failf(s, 547, 16, 0, "The %s statement conflicted with the FOREIGN KEY constraint \"%s\". The conflict "
                    "occurred in database \"%s\", table \"%s.%s\", column '%s'.", verb, fk->name, db->tdb.name,
                    schema_of(db, ptd, sb), ptd->name, ptd->cols[fk->pcols[0]].name);
}

/* No child row may reference the parent row `old` (being deleted, or its
 * key changed to `newv`). */
int ex_fk_no_children(sql_session *s, database *db, txn *t, table_def *ptd, tmeta *pm, const sql_value *old,
                      const sql_value *newv, const char *verb)
{
    for (int f = 0; pm && f < pm->nrefs; f++) {
        const tmeta_fk *fk = &pm->refs[f];
        bool changed = !newv;
        for (int i = 0; i < fk->ncols && !changed; i++)
            changed = value_compare(&old[fk->pcols[i]], &newv[fk->pcols[i]], &ptd->types[fk->pcols[i]]) != 0;
        if (!changed)
            continue;
        bool any_null = false;
        for (int i = 0; i < fk->ncols; i++)
            any_null = any_null || old[fk->pcols[i]].is_null;
        if (any_null)
            continue;
        table_def *ctd = cat_get_table(db, fk->child_obj, &s->err);
        if (!ctd)
            return -1;
        table_scan *sc = table_scan_open(t, db, ctd, ISO_READ_COMMITTED, &s->err);
        if (!sc)
            return -1;
        table_row r;
        int k;
        bool ref = false;
        while (!ref && (k = table_scan_next(sc, &r, &s->err)) == 1) {
            ref = true;
            for (int i = 0; i < fk->ncols && ref; i++)
                ref = !r.vals[fk->ccols[i]].is_null &&
                      value_compare(&r.vals[fk->ccols[i]], &old[fk->pcols[i]], &ptd->types[fk->pcols[i]]) == 0;
            if (ref && ctd == ptd && newv) {
                /* a row whose reference to itself changes with its key */
                bool self = true;
                for (int c = 0; c < ptd->ncols && self; c++)
                    self = value_compare(&r.vals[c], &newv[c], &ptd->types[c]) == 0;
                if (self)
                    ref = false;
            }
        }
        table_scan_close(sc);
        if (k < 0)
            return -1;
        if (ref) {
            char sb[130];
            return ex_failf(s, 547, 16, 0, "The %s statement conflicted with the REFERENCE constraint \"%s\". The "
                            "conflict occurred in database \"%s\", table \"%s.%s\", column '%s'.", verb, fk->name,
                            db->tdb.name, schema_of(db, ctd, sb), ctd->name, ctd->cols[fk->ccols[0]].name);
        }
    }
    return 0;
}

/* DROP TABLE / TRUNCATE TABLE of a table other tables reference. */
int ex_fk_referenced(sql_session *s, database *db, table_def *td, bool truncate)
{
    tmeta *m = ex_tmeta(s, db, td);
    for (int f = 0; m && f < m->nrefs; f++) {
        if (m->refs[f].child_obj == td->object_id && !truncate)
            continue;                         /* its own self-reference goes with it */
        if (truncate)
            return ex_failf(s, 4712, 16, 1, "Cannot truncate table '%s' because it is being referenced by a FOREIGN KEY constraint.", td->name);
        return ex_failf(s, 3726, 16, 1, "Could not drop object '%s' because it is referenced by a FOREIGN KEY constraint.", td->name);
    }
    return 0;
}

/* SQL Server follows a bad constraint definition with 1750; a TRY block sees
 * only the last error, so the first goes straight to the client. */
int ex_fk_define(sql_session *s, database *db, txn *t, table_def *child, ast_constraint *c, int colcol, int ordinal,
                 bool verify)
{
    int rc = fk_define(s, db, t, child, c, colcol, ordinal, verify);
    if (rc == 0)
        return 0;
    switch (s->err.number) {
    case 1767: case 1769: case 1770: case 1776: case 1778: case 8139: case 1904:
        if (s->try_depth == 0)
            ex_report(s, &s->err, s->cur_line);
        return ex_failf(s, 1750, 16, 0, "Could not create constraint or index. See previous errors.");
    default:
        return rc;
    }
}
