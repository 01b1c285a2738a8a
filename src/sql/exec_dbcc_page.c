/*
 * exec_dbcc_page.c — finding and reading pages: DBCC IND, DBCC PAGE, and
 * DBCC TRACEON / TRACEOFF (3604, 3605).
 *
 *   DBCC IND ( 'db' | db_id | 0, 'table' | object_id, index_id | -1 | -2 )
 *     one row per page of the table (or of one index), SQL Server's columns.
 *   DBCC PAGE ( 'db' | db_id | 0, file_id, page_id [, printopt 0|1|2|3] )
 *              [ WITH TABLERESULTS ] [ , NO_INFOMSGS ]
 *     the page's header (0), with each record's bytes (1), the whole page's
 *     bytes (2), or each record's bytes and columns (3). As messages, one
 *     line each, or WITH TABLERESULTS as rows (ParentObject, Object, Field,
 *     VALUE). The output always goes to the client, as SQL Server does after
 *     DBCC TRACEON (3604); TRACEON / TRACEOFF of 3604 and 3605 are accepted
 *     and change nothing.
 *
 * What the engine knows and what it does not (SQL Server's fields kept where
 * the meaning is the same; ours added under their own names):
 *   - Pages are found by walking each index's B+tree and, for the clustered
 *     index, the overflow chains its rows point to. There are no IAM pages
 *     (allocation is per file, in bitmaps: access/space.h), so DBCC IND has no
 *     IAM row and IAMFID / IAMPID are NULL; index -2 (IAM pages only) lists
 *     nothing. A heap is IndexID 0 (SQL Server's number; ours is clustered on
 *     a hidden row id). Pages of the clustered index's leaf level are data
 *     pages (PageType 1); internal pages and secondary indexes are index
 *     pages (2); overflow pages are text pages (3), in the chain 'LOB data'
 *     for (max) columns and 'Row-overflow data' otherwise. PartitionNumber is
 *     1; PartitionID is made up the way SQL Server once made allocation unit
 *     ids (index id << 48 | object id << 16), stable for a given index.
 *   - DBCC PAGE has no BUFFER section (no buffer addresses to show). m_type
 *     is SQL Server's number for the kind of page (1 data, 2 index, 3 text,
 *     8 our allocation bitmap, 13 boot, 15 file header, 16 differential map).
 *     m_flagBits (0x200 checksum, 0x100 torn bits) and m_tornBits (the
 *     checksum field) are read from the page on disk, the rest from the
 *     buffer pool's current version. Records sit at the end of our pages, so
 *     m_freeData is the end of the slot array (where free space begins) and
 *     m_recordStart (ours) is where the records begin. "Allocation Status"
 *     shows our bitmap page (ALLOC) and the changed-extent map (DIFF).
 *   - A page that fails its checks is still shown, from the disk, after a
 *     line with the error (the failed read has been recorded in
 *     msdb.dbo.suspect_pages, as every failed read is).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "access/overflow.h"
#include "access/row.h"
#include "access/space.h"
#include "sql/exec_int.h"

/* SQL Server's page type numbers (m_type, DBCC IND's PageType). */
enum { PT_DATA = 1, PT_INDEX = 2, PT_TEXT_MIX = 3, PT_GAM = 8, PT_BOOT = 13, PT_FILE_HEADER = 15, PT_DIFF_MAP = 16 };

static int oom(sql_session *s)
{
    return ex_failf(s, 701, 19, 1, "There is insufficient system memory to run this query.");
}

/* ------------------------------------------------------------ arguments */

typedef struct arg {
    bool    present, is_num;
    int64_t num;
    char    text[300];
} arg;

/* Argument i: a bare name (EXPR_COLUMN) is text, anything else is evaluated. */
static int get_arg(sql_session *s, ast_stmt *st, int i, arg *a)
{
    memset(a, 0, sizeof *a);
    if (i >= st->u.dbcc.args.n)
        return EX_OK;
    ast_expr *e = st->u.dbcc.args.v[i];
    a->present = true;
    if (e->kind == EXPR_COLUMN && e->u.col.qual.nparts == 0) {
        snprintf(a->text, sizeof a->text, "%s", e->u.col.name);
        return EX_OK;
    }
    sql_value v;
    sql_type t;
    int rc = ex_eval_scalar(s, e, &v, &t);
    if (rc != EX_OK)
        return rc;
    if (v.is_null)
        return ex_failf(s, 2583, 16, 1, "An incorrect number of parameters was given to the DBCC statement.");
    if (ty_int(t.id) || t.id == SQL_BIT) {
        a->is_num = true;
        a->num = (int64_t)v.u.i;
        snprintf(a->text, sizeof a->text, "%lld", (long long)a->num);
    } else if (ty_dec(t.id) && t.scale == 0) {
        a->is_num = true;
        a->num = (int64_t)v.u.dec;
        snprintf(a->text, sizeof a->text, "%lld", (long long)a->num);
    } else {
        char *u = cv_utf8(&s->stmt_arena, &v, &t);
        snprintf(a->text, sizeof a->text, "%s", u ? u : "");
    }
    return EX_OK;
}

static database *arg_database(sql_session *s, const arg *a)
{
    database *db;
    if (a->is_num)
        db = a->num == 0 ? s->db : a->num > 0 && a->num < INST_MAX_DBS ? inst_database(s->in, (uint32_t)a->num) : NULL;
    else
        db = a->text[0] ? inst_find_database(s->in, a->text) : s->db;
    if (!db) {
        ex_failf(s, 2520, 16, 1, "Could not find database '%s'. The database either does not exist, or was dropped "
                 "before a statement tried to use it. Verify if the database exists by querying the sys.databases "
                 "catalog view.", a->text);
        return NULL;
    }
    /* the database must be usable (state, user access): exec_dbstate.c */
    return ex_find_db(s, db->tdb.name, &s->err);
}

/* "t", "dbo.t", "[dbo].[t]" -> schema and name. */
static void split_name(const char *in, char *schema, char *name, size_t cap)
{
    char parts[3][260];
    int n = 0;
    size_t k = 0;
    bool br = false;
    memset(parts, 0, sizeof parts);
    for (const char *p = in; *p && n < 3; p++) {
        if (br) {
            if (*p == ']' && p[1] == ']') {
                p++;
            } else if (*p == ']') {
                br = false;
                continue;
            }
        } else if (*p == '[') {
            br = true;
            continue;
        } else if (*p == '.') {
            parts[n][k] = 0;
            n++;
            k = 0;
            continue;
        }
        if (k + 1 < sizeof parts[0] && n < 3)
            parts[n][k++] = *p;
    }
    if (n < 3)
        parts[n][k] = 0;
    int last = n < 3 ? n : 2;
    snprintf(name, cap, "%s", parts[last]);
    snprintf(schema, cap, "%s", last > 0 ? parts[last - 1] : "dbo");
}

static table_def *arg_table(sql_session *s, database *db, const arg *a)
{
    hdb_err e;
    table_def *td = NULL;
    if (a->is_num) {
        td = a->num >= FIRST_USER_OBJECT_ID && a->num <= UINT32_MAX ? cat_get_table(db, (uint32_t)a->num, &e) : NULL;
    } else {
        char schema[260], name[260];
        split_name(a->text, schema, name, sizeof name);
        uint32_t sid = ex_schema_id(db, schema);
        td = sid ? cat_find_table(db, sid, name, &e) : NULL;
    }
    if (!td || td->dropped) {
        ex_failf(s, 2501, 16, 45, "Cannot find a table or object with the name '%s'. Check the system catalog.",
                 a->text);
        return NULL;
    }
    return td;
}

/* SQL Server's index id: a heap is 0. */
static int sql_index_id(const tbl_index *x) { return x->hidden_key ? 0 : x->index_id; }

static int64_t partition_id(uint32_t object_id, int index_id)
{
    return (int64_t)((uint64_t)(unsigned)index_id << 48 | (uint64_t)object_id << 16);
}

/* ------------------------------------------------------------ rowsets */

typedef struct colspec { const char *name; uint8_t id; int32_t len; } colspec;

typedef struct rowset {
    sql_session *s;
    sql_column  *cols;
    int          n, col;
    sql_value   *row;
    uint64_t     rows;
} rowset;

static int rs_open(rowset *r, sql_session *s, const colspec *spec, int n)
{
    memset(r, 0, sizeof *r);
    r->s = s;
    r->n = n;
    r->cols = arena_calloc(&s->stmt_arena, sizeof *r->cols * (size_t)n);
    r->row = arena_calloc(&s->stmt_arena, sizeof *r->row * (size_t)n);
    if (!r->cols || !r->row)
        return oom(s);
    for (int i = 0; i < n; i++) {
        r->cols[i].name = spec[i].name;
        r->cols[i].type = value_type(spec[i].id, spec[i].len, 0, 0);
        r->cols[i].nullable = 1;
    }
    if (s->sink && s->sink->columns && s->sink->columns(s->sink->ctx, r->cols, n) < 0) {
        s->sink_failed = true;
        return EX_FATAL;
    }
    return EX_OK;
}

static void rs_int(rowset *r, int64_t v)
{
    if (r->col < r->n) {
        r->row[r->col] = value_int(r->cols[r->col].type.id, v);
        r->col++;
    }
}

static void rs_null(rowset *r)
{
    if (r->col < r->n) {
        r->row[r->col] = value_null(r->cols[r->col].type.id);
        r->col++;
    }
}

static void rs_str(rowset *r, const char *utf8)
{
    if (r->col < r->n) {
        r->row[r->col] = utf8 ? cv_str(&r->s->row_arena, utf8, false) : value_null(SQL_VARCHAR);
        r->col++;
    }
}

static int rs_emit(rowset *r)
{
    sql_session *s = r->s;
    while (r->col < r->n)
        rs_null(r);
    int rc = ex_send_built_row(s, r->cols, r->n, r->row);
    if (rc != EX_OK)
        return rc;
    r->col = 0;
    r->rows++;
    return EX_OK;
}

static int rs_close(rowset *r)
{
    r->s->rowcount = (int64_t)r->rows;
    return ex_done(r->s, 0, CMD_SELECT, r->rows, true);
}

/* ------------------------------------------------------------ DBCC IND */

enum { CHAIN_IN_ROW = 0, CHAIN_ROW_OVERFLOW = 1, CHAIN_LOB = 2 };
static const char *const chain_names[] = { "In-row data", "Row-overflow data", "LOB data" };

typedef struct ind_row {
    pgid_t id, next, prev;
    int    index_id, chain, type, level;
} ind_row;

typedef struct ovf_ptr { pgid_t first; int chain; } ovf_ptr;

typedef struct ind_walk {
    table_def *td;
    int        index_id;        /* SQL Server's */
    bool       clustered;
    ind_row   *rows;
    size_t     n, cap;
    ovf_ptr   *ovf;
    size_t     novf, capovf;
    sql_value *vals;            /* row_decode scratch */
    bool       oom;
} ind_walk;

static bool grow(void **p, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap)
        return true;
    size_t nc = *cap ? *cap * 2 : 64;
    while (nc < need)
        nc *= 2;
    void *np = realloc(*p, nc * elem);
    if (!np)
        return false;
    *p = np;
    *cap = nc;
    return true;
}

static void add_row(ind_walk *w, pgid_t id, const page_header *h, int chain, int type)
{
    if (!grow((void **)&w->rows, &w->cap, w->n + 1, sizeof *w->rows)) {
        w->oom = true;
        return;
    }
    w->rows[w->n++] = (ind_row){ .id = id, .next = h->next, .prev = h->prev, .index_id = w->index_id,
                                 .chain = chain, .type = type, .level = h->level };
}

/* The off-row values a clustered leaf's rows point to. */
static void note_overflow(ind_walk *w, const void *page)
{
    const table_def *td = w->td;
    int ns = page_chdr(page)->nslots;
    for (int i = 0; i < ns; i++) {
        uint16_t len;
        const uint8_t *r = page_record(page, i, &len);
        if (len < 2)
            continue;
        uint16_t kl;
        memcpy(&kl, r, 2);
        if ((size_t)kl + 2 > len)
            continue;
        const uint8_t *row = r + 2 + kl;
        size_t rl = (size_t)len - 2 - kl;
        if (row_decode(row, rl, td->types, td->ncols, w->vals) < 0)
            continue;
        for (int c = 0; c < td->ncols; c++) {
            const sql_value *v = &w->vals[c];
            if (v->is_null || !(v->flags & VALUE_F_OFFROW))
                continue;
            if (!grow((void **)&w->ovf, &w->capovf, w->novf + 1, sizeof *w->ovf)) {
                w->oom = true;
                return;
            }
            w->ovf[w->novf++] = (ovf_ptr){ v->u.offrow.first_page,
                                           td->types[c].max_len == VALUE_LEN_MAX ? CHAIN_LOB : CHAIN_ROW_OVERFLOW };
        }
    }
}

static int ind_page(void *ctx, pgid_t id, const void *page)
{
    ind_walk *w = ctx;
    const page_header *h = page_chdr(page);
    bool data = w->clustered && h->level == 0;
    add_row(w, id, h, CHAIN_IN_ROW, data ? PT_DATA : PT_INDEX);
    if (data && w->vals)
        note_overflow(w, page);
    return w->oom;
}

/* Pages in all the database's files: a chain longer than that loops. */
static uint64_t page_cap(dbfiles *df)
{
    uint16_t ids[DF_MAX_FILES];
    int n = df_file_ids(df, ids, DF_MAX_FILES);
    uint64_t total = 0;
    for (int i = 0; i < n; i++)
        total += df_file_pages(df, ids[i]);
    return total;
}

/* Follow each overflow chain (owned by the table, linked by `next`). */
static int ind_chains(ind_walk *w, database *db, hdb_err *err)
{
    uint64_t cap = page_cap(db->df);
    for (size_t i = 0; i < w->novf && !w->oom; i++) {
        pgid_t id = w->ovf[i].first;
        for (uint64_t k = 0; id && k <= cap; k++) {
            bp_frame *f = bp_fix(db->bp, db->df, id, BP_SHARED, 0, err);
            if (!f)
                return -1;
            const page_header *h = page_chdr(bp_page(f));
            bool mine = h->type == PAGE_OVERFLOW && h->owner == w->td->object_id && h->id == id;
            pgid_t next = h->next;
            if (mine)
                add_row(w, id, h, w->ovf[i].chain, PT_TEXT_MIX);
            bp_unfix(f);
            id = mine && next != id ? next : 0;
        }
    }
    return 0;
}

static int cmp_ind(const void *a, const void *b)
{
    const ind_row *x = a, *y = b;
    if (x->index_id != y->index_id)
        return x->index_id < y->index_id ? -1 : 1;
    if (x->chain != y->chain)
        return x->chain < y->chain ? -1 : 1;
    return x->id < y->id ? -1 : x->id > y->id;
}

static const colspec ind_cols[] = {
    { "PageFID", SQL_TINYINT, 0 }, { "PagePID", SQL_INT, 0 }, { "IAMFID", SQL_TINYINT, 0 },
    { "IAMPID", SQL_INT, 0 }, { "ObjectID", SQL_INT, 0 }, { "IndexID", SQL_INT, 0 },
    { "PartitionNumber", SQL_TINYINT, 0 }, { "PartitionID", SQL_BIGINT, 0 },
    { "iam_chain_type", SQL_VARCHAR, 30 }, { "PageType", SQL_TINYINT, 0 }, { "IndexLevel", SQL_TINYINT, 0 },
    { "NextPageFID", SQL_TINYINT, 0 }, { "NextPagePID", SQL_INT, 0 }, { "PrevPageFID", SQL_TINYINT, 0 },
    { "PrevPagePID", SQL_INT, 0 },
};

int ex_dbcc_ind(sql_session *s, ast_stmt *st)
{
    int rc = ex_dbcc_need_sysadmin(s, "IND");
    if (rc != EX_OK)
        return rc;
    if (st->u.dbcc.args.n < 3 || st->u.dbcc.args.n > 4)
        return ex_failf(s, 2583, 16, 1, "An incorrect number of parameters was given to the DBCC statement.");
    arg a_db, a_tb, a_ix;
    if ((rc = get_arg(s, st, 0, &a_db)) != EX_OK || (rc = get_arg(s, st, 1, &a_tb)) != EX_OK ||
        (rc = get_arg(s, st, 2, &a_ix)) != EX_OK)
        return rc;
    if (!a_ix.is_num)
        return ex_failf(s, 2583, 16, 1, "An incorrect number of parameters was given to the DBCC statement.");
    database *db = arg_database(s, &a_db);
    if (!db)
        return EX_ERROR;
    table_def *td = arg_table(s, db, &a_tb);
    if (!td)
        return EX_ERROR;

    ind_walk w = { .td = td };
    w.vals = malloc(sizeof *w.vals * (size_t)(td->ncols ? td->ncols : 1));
    if (!w.vals)
        return oom(s);
    hdb_err err = { 0 };
    int bad = 0;
    for (int i = 0; i < td->nidx && !bad && !w.oom; i++) {
        tbl_index *x = &td->idx[i];
        w.index_id = sql_index_id(x);
        w.clustered = i == 0;
        if (a_ix.num == -2 || (a_ix.num >= 0 && a_ix.num != w.index_id))
            continue;   /* -2 asks for IAM pages only: there are none */
        if (bt_walk_pages(&x->bt, ind_page, &w, &err) < 0 || (w.clustered && ind_chains(&w, db, &err) < 0))
            bad = 1;
    }
    free(w.vals);
    free(w.ovf);
    if (w.oom || bad) {
        free(w.rows);
        if (w.oom)
            return oom(s);
        s->err = err;
        return EX_ERROR;
    }
    if (w.n)
        qsort(w.rows, w.n, sizeof *w.rows, cmp_ind);
    rowset r;
    rc = rs_open(&r, s, ind_cols, (int)(sizeof ind_cols / sizeof ind_cols[0]));
    for (size_t i = 0; i < w.n && rc == EX_OK; i++) {
        const ind_row *x = &w.rows[i];
        rs_int(&r, PGID_FILE(x->id));
        rs_int(&r, PGID_PAGE(x->id));
        rs_null(&r);
        rs_null(&r);
        rs_int(&r, td->object_id);
        rs_int(&r, x->index_id);
        rs_int(&r, 1);
        rs_int(&r, partition_id(td->object_id, x->index_id));
        rs_str(&r, chain_names[x->chain]);
        rs_int(&r, x->type);
        rs_int(&r, x->level);
        rs_int(&r, PGID_FILE(x->next));
        rs_int(&r, PGID_PAGE(x->next));
        rs_int(&r, PGID_FILE(x->prev));
        rs_int(&r, PGID_PAGE(x->prev));
        rc = rs_emit(&r);
    }
    free(w.rows);
    if (rc != EX_OK)
        return rc;
    return rs_close(&r);
}

/* ------------------------------------------------------------ DBCC PAGE */

typedef struct dump {
    sql_session *s;
    bool         table;          /* WITH TABLERESULTS */
    rowset       rs;
    char         parent[128], object[160];
    int          rc;
} dump;

/* One field. As messages: a section line when ParentObject changes, an
 * object line when Object changes, then "field = value" (a memory dump line
 * is "offset:   bytes"). */
static void out(dump *d, const char *parent, const char *object, const char *field, const char *value)
{
    if (d->rc != EX_OK)
        return;
    if (d->table) {
        rs_str(&d->rs, parent);
        rs_str(&d->rs, object);
        rs_str(&d->rs, field);
        rs_str(&d->rs, value);
        d->rc = rs_emit(&d->rs);
        return;
    }
    if (strcmp(d->parent, parent) != 0) {
        snprintf(d->parent, sizeof d->parent, "%s", parent);
        d->object[0] = 0;
        d->rc = ex_info(d->s, 0, 0, 1, "");
        if (d->rc == EX_OK)
            d->rc = ex_info(d->s, 0, 0, 1, parent);
    }
    if (d->rc == EX_OK && object[0] && strcmp(d->object, object) != 0) {
        snprintf(d->object, sizeof d->object, "%s", object);
        d->rc = ex_info(d->s, 0, 0, 1, "");
        if (d->rc == EX_OK)
            d->rc = ex_info(d->s, 0, 0, 1, object);
    }
    if (d->rc != EX_OK)
        return;
    char line[HDB_ERR_MSG_MAX];
    size_t fl = strlen(field);
    if (fl && field[fl - 1] == ':')
        snprintf(line, sizeof line, "%s   %s", field, value);
    else
        snprintf(line, sizeof line, "%s = %s", field, value);
    d->rc = ex_info(d->s, 0, 0, 1, line);
}

static void outf(dump *d, const char *parent, const char *object, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
static void outf(dump *d, const char *parent, const char *object, const char *field, const char *fmt, ...)
{
    char v[600];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(v, sizeof v, fmt, ap);
    va_end(ap);
    out(d, parent, object, field, v);
}

/* SQL Server's memory dump: 16 bytes a line, in groups of 4, then text. */
static void hexdump(dump *d, const char *parent, const char *object, const uint8_t *p, size_t n, size_t base)
{
    for (size_t off = 0; off < n && d->rc == EX_OK; off += 16) {
        char field[32], hex[64], text[20];
        size_t h = 0, k = 0;
        snprintf(field, sizeof field, "%016zx:", base + off);
        for (size_t i = 0; i < 16; i++) {
            if (off + i < n) {
                h += (size_t)snprintf(hex + h, sizeof hex - h, "%02x", p[off + i]);
                uint8_t c = p[off + i];
                text[k++] = c >= 0x20 && c < 0x7f ? (char)c : '.';
            } else {
                h += (size_t)snprintf(hex + h, sizeof hex - h, "  ");
            }
            if (i % 4 == 3 && i < 15)
                hex[h++] = ' ';
        }
        hex[h] = 0;
        text[k] = 0;
        outf(d, parent, object, field, "%s   %s", hex, text);
    }
}

static int sql_page_type(const page_header *h, bool clustered)
{
    switch (h->type) {
    case PAGE_BTREE_LEAF: return clustered ? PT_DATA : PT_INDEX;
    case PAGE_BTREE_INTERNAL: return PT_INDEX;
    case PAGE_OVERFLOW: return PT_TEXT_MIX;
    case PAGE_ALLOC: return PT_GAM;
    case PAGE_BOOT: return PT_BOOT;
    case PAGE_FILE_HEADER: return PT_FILE_HEADER;
    case PAGE_DIFFMAP: return PT_DIFF_MAP;
    default: return 0;
    }
}

/* Which table and index the page belongs to: the owner, then (B+tree pages)
 * the index whose descent to the page's first key reaches it. */
typedef struct page_owner {
    table_def *td;
    int        index_id;       /* SQL Server's; -1 unknown */
    int        idx;            /* position in td->idx, -1 unknown */
} page_owner;

static page_owner find_owner(database *db, pgid_t id, const void *page)
{
    page_owner o = { NULL, -1, -1 };
    const page_header *h = page_chdr(page);
    hdb_err e;
    if (h->owner > 0 && h->owner < SYSOBJ_COUNT && (h->type == PAGE_BTREE_LEAF || h->type == PAGE_BTREE_INTERNAL)) {
        o.index_id = 1;   /* a catalog tree: clustered */
        return o;
    }
    if (h->owner < FIRST_USER_OBJECT_ID || !(o.td = cat_get_table(db, h->owner, &e)) || o.td->dropped) {
        o.td = NULL;
        return o;
    }
    if (h->type == PAGE_OVERFLOW) {
        o.idx = 0;
        o.index_id = sql_index_id(&o.td->idx[0]);
        return o;
    }
    if (h->type != PAGE_BTREE_LEAF && h->type != PAGE_BTREE_INTERNAL)
        return o;
    const uint8_t *key = NULL;
    size_t klen = 0;
    if (h->nslots > 0) {
        uint16_t len;
        const uint8_t *r = page_record(page, 0, &len);
        uint16_t kl;
        memcpy(&kl, r, 2);
        if (len >= 2 && (size_t)kl + 2 <= len) {
            key = r + 2;
            klen = kl;
        }
    }
    for (int i = 0; i < o.td->nidx; i++) {
        if (bt_holds_page(&o.td->idx[i].bt, id, key, klen, h->level, &e) == 1) {
            o.idx = i;
            o.index_id = sql_index_id(&o.td->idx[i]);
            break;
        }
    }
    return o;
}

static const char *record_type(const page_header *h, const page_owner *o)
{
    switch (h->type) {
    case PAGE_BTREE_LEAF: return o->idx == 0 || (o->index_id == 1 && !o->td) ? "PRIMARY_RECORD" : "INDEX_RECORD";
    case PAGE_BTREE_INTERNAL: return "INDEX_RECORD";
    case PAGE_OVERFLOW: return "BLOB_FRAGMENT";
    default: return "SYSTEM_RECORD";
    }
}

/* printopt 3 on a data page: each column of the row in record `slot`. */
static void dump_columns(dump *d, const char *parent, int slot, const uint8_t *rec, size_t len, const table_def *td)
{
    uint16_t kl;
    memcpy(&kl, rec, 2);
    if ((size_t)kl + 2 > len)
        return;
    const uint8_t *row = rec + 2 + kl;
    size_t rl = len - 2 - kl;
    sql_value *vals = arena_alloc(&d->s->stmt_arena, sizeof *vals * (size_t)(td->ncols ? td->ncols : 1));
    if (!vals || row_decode(row, rl, td->types, td->ncols, vals) < 0) {
        out(d, parent, "", "Row", "(not decodable with the table's columns)");
        return;
    }
    int stored = row_column_count(row, rl);
    size_t fixed = ROW_HEADER_SIZE + (size_t)(stored + 7) / 8;   /* after the null bitmap */
    for (int c = 0; c < td->ncols && d->rc == EX_OK; c++) {
        const sql_value *v = &vals[c];
        size_t fw = row_type_fixed_size(&td->types[c]);
        size_t off = 0, plen = 0;
        if (c < stored && fw) {
            off = fixed;
            plen = v->is_null ? 0 : fw;
        } else if (c < stored && !v->is_null && v->bytes && v->bytes >= row && v->bytes <= row + rl) {
            off = (size_t)(v->bytes - row);
            plen = v->len;
        }
        if (c < stored && fw)
            fixed += fw;
        char object[160], text[600];
        snprintf(object, sizeof object, "Slot %d Column %d Offset 0x%zx Length %zu Length (physical) %zu", slot,
                 c + 1, off ? off + 2 + kl : 0, plen, plen);
        if (v->is_null)
            snprintf(text, sizeof text, "NULL");
        else if (v->flags & VALUE_F_OFFROW)
            snprintf(text, sizeof text, "[off-row value: %llu bytes from page (%u:%u)]",
                     (unsigned long long)v->u.offrow.total_len, PGID_FILE(v->u.offrow.first_page),
                     PGID_PAGE(v->u.offrow.first_page));
        else
            value_format(v, &td->types[c], text, sizeof text);
        out(d, parent, object, td->cols[c].name, text);
    }
}

static void dump_record(dump *d, const void *page, int slot, int printopt, const page_owner *o)
{
    const page_header *h = page_chdr(page);
    const uint16_t *sl = (const uint16_t *)((const uint8_t *)page + PAGE_HEADER_SIZE + (size_t)slot * PAGE_SLOT_SIZE);
    uint16_t off = sl[0], len = sl[1];
    char parent[128];
    if (printopt == 1)
        snprintf(parent, sizeof parent, "Slot %d, Offset 0x%x, Length %u, DumpStyle BYTE", slot, off, len);
    else
        snprintf(parent, sizeof parent, "Slot %d Offset 0x%x Length %u", slot, off, len);
    if ((size_t)off + len > PAGE_SIZE || off < PAGE_HEADER_SIZE) {
        out(d, parent, "", "Record", "(the slot points outside the page)");
        return;
    }
    const uint8_t *rec = (const uint8_t *)page + off;
    out(d, parent, "", "Record Type", record_type(h, o));
    outf(d, parent, "", "Record Size", "%u", len);
    hexdump(d, parent, "Memory Dump", rec, len, 0);
    if (printopt != 3 || len < 2)
        return;
    uint16_t kl;
    memcpy(&kl, rec, 2);
    if (h->type == PAGE_BTREE_INTERNAL && (size_t)kl + 10 <= len) {
        uint64_t child;
        memcpy(&child, rec + len - 8, 8);
        outf(d, parent, "", "ChildPage", "(%u:%u)", PGID_FILE(child), PGID_PAGE(child));
        hexdump(d, parent, "Key", rec + 2, kl, 0);
    } else if (h->type == PAGE_BTREE_LEAF && o->td && o->idx == 0) {
        dump_columns(d, parent, slot, rec, len, o->td);
    } else if (h->type == PAGE_BTREE_LEAF && (size_t)kl + 2 <= len) {
        hexdump(d, parent, "Key", rec + 2, kl, 0);
    }
}

static void dump_page(dump *d, database *db, pgid_t id, const uint8_t *page, const uint8_t *disk, int printopt)
{
    const page_header *h = page_chdr(page);
    page_owner o = find_owner(db, id, page);
    char object[64];
    snprintf(object, sizeof object, "Page (%u:%u)", PGID_FILE(id), PGID_PAGE(id));
    const char *ph = "PAGE HEADER:";
    outf(d, ph, object, "m_pageId", "(%u:%u)", PGID_FILE(h->id), PGID_PAGE(h->id));
    outf(d, ph, object, "m_headerVersion", "%u", h->format);
    outf(d, ph, object, "m_type", "%d", sql_page_type(h, o.idx == 0 || (o.index_id == 1 && !o.td)));
    outf(d, ph, object, "m_typeFlagBits", "0x0");
    outf(d, ph, object, "m_level", "%u", h->level);
    outf(d, ph, object, "m_flagBits", "0x%x", disk ? pageprot_flag_bits(disk) : 0);
    outf(d, ph, object, "Metadata: ObjectId", "%u", h->owner);
    if (o.index_id >= 0) {
        outf(d, ph, object, "Metadata: IndexId", "%d", o.index_id);
        outf(d, ph, object, "Metadata: PartitionId", "%lld", (long long)partition_id(h->owner, o.index_id));
    }
    outf(d, ph, object, "m_prevPage", "(%u:%u)", PGID_FILE(h->prev), PGID_PAGE(h->prev));
    outf(d, ph, object, "m_nextPage", "(%u:%u)", PGID_FILE(h->next), PGID_PAGE(h->next));
    outf(d, ph, object, "m_slotCnt", "%u", h->nslots);
    bool slotted = h->type == PAGE_BTREE_LEAF || h->type == PAGE_BTREE_INTERNAL || h->type == PAGE_OVERFLOW;
    bool sane = h->free_lo == PAGE_HEADER_SIZE + (size_t)h->nslots * PAGE_SLOT_SIZE && h->free_hi <= PAGE_SIZE &&
                h->free_lo <= h->free_hi;
    outf(d, ph, object, "m_freeCnt", "%zu", sane ? page_free_space(page) : 0);
    outf(d, ph, object, "m_freeData", "%u", h->free_lo);
    outf(d, ph, object, "m_recordStart", "%u", h->free_hi);
    outf(d, ph, object, "m_fragBytes", "%u", h->frag);
    outf(d, ph, object, "m_lsn", "%llu", (unsigned long long)h->lsn);
    outf(d, ph, object, "m_tornBits", "%d", disk ? (int32_t)page_chdr(disk)->checksum : 0);

    const char *as = "Allocation Status";
    space_ctx sc = { db->bp, db->df };
    hdb_err e;
    pgid_t map = PGID(PGID_FILE(id), PGID_PAGE(id) / SPACE_INTERVAL * SPACE_INTERVAL + 1);
    int alloc = space_is_allocated(&sc, id, &e);
    char field[40];
    snprintf(field, sizeof field, "ALLOC (%u:%u)", PGID_FILE(map), PGID_PAGE(map));
    out(d, as, "", field, alloc < 0 ? "(unreadable)" : alloc ? "ALLOCATED" : "NOT ALLOCATED");
    out(d, as, "", "DIFF", dcm_changed(df_dcm(db->df), id) ? "CHANGED" : "NOT CHANGED");

    if (printopt == 2) {
        hexdump(d, "DATA:", "Memory Dump", page, PAGE_SIZE, 0);
    } else if (printopt == 1 || printopt == 3) {
        for (int i = 0; slotted && sane && i < h->nslots && d->rc == EX_OK; i++)
            dump_record(d, page, i, printopt, &o);
    }
    if ((printopt == 1 || printopt == 2) && slotted && sane) {
        /* SQL Server lists the slot array last slot first */
        for (int i = h->nslots - 1; i >= 0 && d->rc == EX_OK; i--) {
            const uint16_t *sl = (const uint16_t *)(page + PAGE_HEADER_SIZE + (size_t)i * PAGE_SLOT_SIZE);
            outf(d, "OFFSET TABLE:", "", "Row - Offset", "%d (0x%x) - %u (0x%x)", i, i, sl[0], sl[0]);
        }
    }
}

static const colspec page_cols[] = {
    { "ParentObject", SQL_VARCHAR, 255 }, { "Object", SQL_VARCHAR, 255 }, { "Field", SQL_VARCHAR, 255 },
    { "VALUE", SQL_VARCHAR, 255 },
};

int ex_dbcc_page(sql_session *s, ast_stmt *st)
{
    int rc = ex_dbcc_need_sysadmin(s, "PAGE");
    if (rc != EX_OK)
        return rc;
    if (st->u.dbcc.args.n < 3 || st->u.dbcc.args.n > 4)
        return ex_failf(s, 2583, 16, 1, "An incorrect number of parameters was given to the DBCC statement.");
    arg a_db, a_file, a_page, a_opt;
    if ((rc = get_arg(s, st, 0, &a_db)) != EX_OK || (rc = get_arg(s, st, 1, &a_file)) != EX_OK ||
        (rc = get_arg(s, st, 2, &a_page)) != EX_OK || (rc = get_arg(s, st, 3, &a_opt)) != EX_OK)
        return rc;
    int printopt = a_opt.present ? (int)a_opt.num : 0;
    if (!a_file.is_num || !a_page.is_num || (a_opt.present && !a_opt.is_num) || printopt < 0 || printopt > 3)
        return ex_failf(s, 2583, 16, 1, "An incorrect number of parameters was given to the DBCC statement.");
    database *db = arg_database(s, &a_db);
    if (!db)
        return EX_ERROR;
    bool known = a_file.num > 0 && a_file.num <= UINT16_MAX && df_file(db->df, (uint16_t)a_file.num);
    if (!known || a_page.num < 0 || a_page.num >= df_file_pages(db->df, (uint16_t)a_file.num))
        return ex_failf(s, 8968, 16, 1, "Table error: DBCC PAGE page (%lld:%lld) (object ID 0, index ID 0, "
                        "partition ID 0, alloc unit ID 0 (type Unknown)) is out of the range of this database.",
                        (long long)a_file.num, (long long)a_page.num);
    pgid_t id = PGID(a_file.num, a_page.num);

    uint8_t *page = malloc(PAGE_SIZE), *disk = malloc(PAGE_SIZE);
    if (!page || !disk) {
        free(page);
        free(disk);
        return oom(s);
    }
    /* the current version from the pool; if it cannot be read, the bytes on disk */
    hdb_err e = { 0 }, de = { 0 };
    bp_frame *f = bp_fix(db->bp, db->df, id, BP_SHARED, 0, &e);
    if (f) {
        memcpy(page, bp_page(f), PAGE_SIZE);
        bp_unfix(f);
    }
    bool have_disk = df_read_page_raw(db->df, id, disk, &de) == 0;
    if (!f && !have_disk) {
        free(page);
        free(disk);
        s->err = e;
        return EX_ERROR;
    }
    if (!f)
        memcpy(page, disk, PAGE_SIZE);

    dump d = { .s = s, .table = ast_option_find(&st->u.dbcc.with, "TABLERESULTS") != NULL };
    if (d.table) {
        d.rc = rs_open(&d.rs, s, page_cols, 4);
    } else {
        char head[64];
        snprintf(head, sizeof head, "PAGE: (%u:%u)", PGID_FILE(id), PGID_PAGE(id));
        d.rc = ex_info(s, 0, 0, 1, head);
    }
    if (!f && d.rc == EX_OK)
        out(&d, "PAGE HEADER:", "", "Read error", e.msg);
    if (d.rc == EX_OK)
        dump_page(&d, db, id, page, have_disk ? disk : NULL, printopt);
    free(page);
    free(disk);
    if (d.rc != EX_OK)
        return d.rc;
    if (d.table && (rc = rs_close(&d.rs)) != EX_OK)
        return rc;
    return ex_dbcc_done(s, st);
}

/* ------------------------------------------------------------ TRACEON / TRACEOFF */

/* 3604 (DBCC output to the client) and 3605 (to the error log) only route
 * DBCC output: ours always goes to the client, so both change nothing. */
static int trace(sql_session *s, ast_stmt *st, const char *what)
{
    int rc = ex_dbcc_need_sysadmin(s, what);
    if (rc != EX_OK)
        return rc;
    for (int i = 0; i < st->u.dbcc.args.n; i++) {
        arg a;
        if ((rc = get_arg(s, st, i, &a)) != EX_OK)
            return rc;
        if (!a.is_num)
            return ex_failf(s, 2583, 16, 1, "An incorrect number of parameters was given to the DBCC statement.");
        if (a.num != 3604 && a.num != 3605 && a.num != -1)
            return ex_failf(s, 40000, 16, 1, "DBCC %s: trace flag %lld is not supported yet (only 3604 and 3605).",
                            what, (long long)a.num);
    }
    return ex_dbcc_done(s, st);
}

int ex_dbcc_traceon(sql_session *s, ast_stmt *st) { return trace(s, st, "TRACEON"); }
int ex_dbcc_traceoff(sql_session *s, ast_stmt *st) { return trace(s, st, "TRACEOFF"); }
