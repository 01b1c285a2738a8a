/*
 * physloc.c — %%physloc%%, the virtual column that says where a row lives,
 * and sys.fn_PhysLocFormatter, which prints it as '(file:page:slot)'.
 *
 * The value is binary(8) laid out as SQL Server's: page number (4 bytes,
 * little-endian), file id (2 bytes), slot (2 bytes). Page n of a file is at
 * byte offset n * 8192 (storage/README.md), so '(1:153:4)' tells a DBA — or
 * a test — exactly which 8 KiB of which file hold the row. The slot is the
 * record's index in the leaf's slot array (our leaves keep slots in key
 * order, so it is the row's position on the page).
 *
 * How it is bound: a name "%%physloc%%" (the lexer makes one token of it;
 * bracketed [%%physloc%%] means the same, so printed SQL reads back the
 * same) resolves against a base table its query scans. The first reference
 * adds a hidden column to that source (after the table's own, never part of
 * *), and the scan (exec_query.c) fills it from table_scan_where for every
 * row it delivers; copies of rows (joins, sorts) carry it along like any
 * column. A point lookup does not know the place, so a query asking for
 * %%physloc%% scans instead. Not available: system views, derived tables,
 * the target of UPDATE / DELETE (its rows are re-read by key), OUTPUT.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "sql/exec_int.h"

#define PHYSLOC_NAME "%%physloc%%"

bool ex_is_physloc_name(const char *name) { return name && strcasecmp(name, PHYSLOC_NAME) == 0; }

void ex_physloc_encode(uint8_t out[8], pgid_t page, int slot)
{
    uint32_t p = PGID_PAGE(page);
    uint32_t f = PGID_FILE(page);
    out[0] = (uint8_t)p;
    out[1] = (uint8_t)(p >> 8);
    out[2] = (uint8_t)(p >> 16);
    out[3] = (uint8_t)(p >> 24);
    out[4] = (uint8_t)f;
    out[5] = (uint8_t)(f >> 8);
    out[6] = (uint8_t)slot;
    out[7] = (uint8_t)((unsigned)slot >> 8);
}

int ex_physloc_text(const uint8_t *b, size_t len, char *out, size_t cap)
{
    uint8_t v[8] = { 0 };
    memcpy(v, b, len < 8 ? len : 8);
    unsigned page = (unsigned)v[0] | (unsigned)v[1] << 8 | (unsigned)v[2] << 16 | (unsigned)v[3] << 24;
    unsigned file = (unsigned)v[4] | (unsigned)v[5] << 8;
    unsigned slot = (unsigned)v[6] | (unsigned)v[7] << 8;
    return snprintf(out, cap, "(%u:%u:%u)", file, page, slot);
}

/* Give src its hidden %%physloc%% column (once). */
static int add_column(sql_session *s, ex_src *src)
{
    if (src->physloc_col)
        return 0;
    int n = src->ncols;
    const char **names = q_salloc(s, sizeof *names * (size_t)(n + 1));
    sql_type *types = q_salloc(s, sizeof *types * (size_t)(n + 1));
    uint8_t *nullable = q_salloc(s, (size_t)(n + 1));
    if (!names || !types || !nullable)
        return -1;
    ex_mcpy(names, src->colnames, sizeof *names * (size_t)n);
    ex_mcpy(types, src->types, sizeof *types * (size_t)n);   /* src->types may be the table's own */
    ex_mcpy(nullable, src->nullable, (size_t)n);
    names[n] = PHYSLOC_NAME;
    types[n] = value_type(SQL_BINARY, 8, 0, 0);
    nullable[n] = 0;
    src->colnames = names;
    src->types = types;
    src->nullable = nullable;
    src->physloc_col = n;
    src->ncols = n + 1;
    return 0;
}

static int fail(sql_session *s, int line, int number, const char *fmt, const char *arg)
{
    return q_bfail(s, line, number, 16, 1, fmt, arg);
}

bx *bx_bind_physloc(sql_session *s, bscope *sc, ast_expr *ae)
{
    const ast_objname *q = &ae->u.col.qual;
    int depth = 0;
    bool any_qual = false;
    for (bscope *p = sc; p; p = p->parent) {
        if (p->no_columns && p == sc)
            break;
        if (!p->plan)
            continue;
        q_plan *pl = p->plan;
        int found = -1, n = 0;
        bool qual_found = false;
        for (int i = 0; i < pl->nsrc; i++) {
            ex_src *src = &pl->srcs[i];
            if (!ex_src_matches(src, q))
                continue;
            qual_found = true;
            if (src->kind == SRC_TABLE && src->physloc_ok && n++ == 0)
                found = i;
        }
        if (n > 1)
            return fail(s, ae->line, 209, "Ambiguous column name '%s'.", ae->u.col.name), NULL;
        if (n == 1) {
            ex_src *src = &pl->srcs[found];
            if (add_column(s, src) < 0)
                return NULL;
            bx *e = q_salloc(s, sizeof *e);
            if (!e)
                return NULL;
            e->kind = BX_COL;
            e->line = ae->line;
            e->u.col.depth = depth;
            e->u.col.src = found;
            e->u.col.col = src->physloc_col;
            e->t = src->types[src->physloc_col];
            e->nullable = src->outer_null;
            /* every query between here and the one owning the source is correlated */
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
            any_qual = true;   /* the table is there but cannot say (a view, a DML target) */
            break;
        }
        depth++;
    }
    if (q->nparts > 0 && !any_qual)
        return fail(s, ae->line, 4104, "The multi-part identifier \"%s\" could not be bound.", q->object), NULL;
    return fail(s, ae->line, 207, "Invalid column name '%s'.", ae->u.col.name), NULL;
}

sql_value *ex_physloc_rowbuf(ex_env *env, const ex_src *src)
{
    /* the values, then the 8 bytes the physloc value points to */
    size_t n = (size_t)src->ncols;
    sql_value *v = arena_alloc(&env->s->stmt_arena, sizeof *v * n + 8);
    if (!v)
        hdb_raise_text(env->err, 701, 19, 1, "There is insufficient system memory to run this query.");
    return v;
}

void ex_physloc_fill(sql_value *buf, const ex_src *src, const table_row *row, pgid_t page, int slot)
{
    int own = src->physloc_col;
    for (int c = 0; c < own; c++)
        buf[c] = c < row->ncols ? row->vals[c] : value_null(src->types[c].id);
    uint8_t *b = (uint8_t *)(buf + src->ncols);
    ex_physloc_encode(b, page, slot);
    buf[own] = value_bytes(SQL_BINARY, b, 8);
}

int ex_physloc_format_fn(ex_env *env, const bx *e, const sql_value *v, sql_value *out)
{
    if (v[0].is_null) {
        *out = value_null(SQL_VARCHAR);
        return 0;
    }
    char text[64];
    ex_physloc_text(v[0].bytes, v[0].len, text, sizeof text);
    *out = cv_str(env->a, text, false);
    return 0;
}
