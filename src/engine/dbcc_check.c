/* dbcc_check.c — DBCC CHECKDB / CHECKTABLE / CHECKALLOC: one check of a
 * database and the messages it makes, and the run that repeats it around
 * repairs (see dbcc.h). */
#include "engine/dbcc_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "access/keyenc.h"
#include "access/row.h"
#include "access/space.h"
#include "engine/deferred.h"
#include "engine/instance.h"
#include "engine/table.h"

static const char oom[] = "There is insufficient system memory to run this query.";

/* errors kept per object unless ALL_ERRORMSGS (SQL Server's limit) */
#define MSGS_PER_OBJECT 200

uint64_t dbcc_partition_id(uint32_t object_id, int index_id)
{
    return (1ull << 56) | ((uint64_t)object_id << 16) | (uint16_t)index_id;
}

int pgvec_push(pgvec *p, pgid_t id)
{
    if (p->n == p->cap) {
        size_t nc = p->cap ? p->cap * 2 : 64;
        pgid_t *g = realloc(p->v, nc * sizeof *g);
        if (!g)
            return -1;
        p->v = g;
        p->cap = nc;
    }
    p->v[p->n++] = id;
    return 0;
}

static const char *command(const run *r)
{
    return r->o->what == DBCC_CHECKTABLE ? "CHECKTABLE" : r->o->what == DBCC_CHECKALLOC ? "CHECKALLOC" : "CHECKDB";
}

/* ------------------------------------------------------------ messages */

void dbcc_obj_desc(run *r, int tree, char *buf, size_t cap)
{
    uint32_t obj = 0;
    int idx = 0;
    if (tree >= 0 && tree < r->ntrees) {
        obj = r->objs[r->trees[tree].obj].id;
        idx = r->trees[tree].index_id;
    }
    uint64_t part = dbcc_partition_id(obj, idx);
    snprintf(buf, cap, "Object ID %u, index ID %d, partition ID %llu, alloc unit ID %llu (type %s)", obj, idx,
             (unsigned long long)part, (unsigned long long)part, r->in_chain ? "LOB data" : "In-row data");
}

/* Keep one message for the report, for the current object; errors count. */
static void add(run *r, int allocation, int level, pgid_t page, int slot, pgid_t ref, int number, ...)
{
    hdb_err e;
    va_list ap;
    va_start(ap, number);
    hdb_vraise(&e, number, ap);
    va_end(ap);
    /* allocation -1: a detail line of the error before it (8955, 8956): not counted */
    int detail = allocation < 0;
    int error = e.severity > 10 && !detail;
    if (detail)
        allocation = 0;
    /* CHECKALLOC speaks of allocation only */
    if (error && !allocation && r->o->what == DBCC_CHECKALLOC)
        return;
    ofind *o = r->cur_obj >= 0 ? &r->objs[r->cur_obj] : NULL;
    if (error) {
        if (allocation) {
            r->alloc_err++;
            if (o)
                o->alloc_err++;
        } else {
            r->cons_err++;
            if (o)
                o->cons_err++;
        }
        if (level > r->repair_level)
            r->repair_level = level;
        if (o && !r->o->all_errormsgs && o->kept >= MSGS_PER_OBJECT)
            return;
        if (o)
            o->kept++;
    }
    if (r->nmsgs == r->capmsgs) {
        int nc = r->capmsgs ? r->capmsgs * 2 : 64;
        kept_msg *g = realloc(r->msgs, (size_t)nc * sizeof *g);
        if (!g)
            return;
        r->msgs = g;
        r->capmsgs = nc;
    }
    kept_msg *k = &r->msgs[r->nmsgs++];
    memset(k, 0, sizeof *k);
    k->obj = r->cur_obj;
    dbcc_msg *m = &k->m;
    m->number = e.number;
    m->severity = e.severity;
    m->state = e.state;
    snprintf(m->text, sizeof m->text, "%s", e.msg);
    m->repair_level = error ? level : 0;
    m->allocation = allocation;
    if (r->cur_tree >= 0 && r->cur_tree < r->ntrees) {
        m->object_id = r->objs[r->trees[r->cur_tree].obj].id;
        m->index_id = r->trees[r->cur_tree].index_id;
    } else if (o) {
        m->object_id = o->id;
    }
    m->partition_id = m->object_id ? dbcc_partition_id(m->object_id, m->index_id) : 0;
    m->page = page;
    m->slot = slot;
    m->ref_page = ref;
}

#define F(id) PGID_FILE(id), PGID_PAGE(id)

/* ------------------------------------------------------------ pages */

static fmap *fmap_of(run *r, pgid_t id)
{
    for (int i = 0; i < r->nfiles; i++)
        if (r->files[i].file_id == PGID_FILE(id))
            return &r->files[i];
    return NULL;
}

static int bit(const uint8_t *bits, uint32_t n) { return (bits[n / 8] >> (n % 8)) & 1; }
static void set_bit(uint8_t *bits, uint32_t n) { bits[n / 8] |= (uint8_t)(1u << (n % 8)); }

static int interval_bad(const fmap *f, uint32_t page) { return f->bad_interval[page / SPACE_INTERVAL]; }

/* A structure reached page id: 1 if something reached it before. A page in
 * use must be allocated. */
static int claim(void *ctx, pgid_t id)
{
    run *r = ctx;
    fmap *f = fmap_of(r, id);
    if (!f || PGID_PAGE(id) >= f->pages)
        return 0;   /* past the file: reading it reports it */
    uint32_t p = PGID_PAGE(id);
    if (bit(f->seen, p))
        return 1;
    set_bit(f->seen, p);
    if (r->cur_tree >= 0 && !r->in_chain) {   /* a rebuild frees the tree's own pages only */
        tfind *t = &r->trees[r->cur_tree];
        if (pgvec_push(&t->pages, id) < 0)
            r->failed = 1;
    }
    if (!bit(f->alloc, p) && !interval_bad(f, p)) {
        char d[200];
        dbcc_obj_desc(r, r->cur_tree, d, sizeof d);
        add(r, 1, DBCC_REPAIR_REBUILD, id, 0, 0, 8939, d, F(id), "page is allocated in the allocation map", 0LL,
            1LL);
        pgvec_push(&r->unallocated, id);
    }
    return 0;
}

/* A page's header as it lies on disk, for what a failed read cannot say
 * (the page id it claims, how many rows it held). */
static int raw_header(run *r, pgid_t id, page_header *h)
{
    const df_file_desc *d = df_file(r->db->df, (uint16_t)PGID_FILE(id));
    if (!d)
        return -1;
    FILE *fp = fopen(d->path, "rb");
    if (!fp)
        return -1;
    int ok = fseeko(fp, (off_t)PGID_PAGE(id) * PAGE_SIZE, SEEK_SET) == 0 && fread(h, sizeof *h, 1, fp) == 1;
    fclose(fp);
    return ok ? 0 : -1;
}

/* ------------------------------------------------------------ B+tree issues */

static void issue(void *ctx, const bv_issue *is)
{
    run *r = ctx;
    tfind *t = r->cur_tree >= 0 ? &r->trees[r->cur_tree] : NULL;
    char d[200];
    dbcc_obj_desc(r, r->cur_tree, d, sizeof d);
    const int L = DBCC_REPAIR_ALLOW_DATA_LOSS, RB = DBCC_REPAIR_REBUILD;
    switch (is->kind) {
    case BV_READ_FAILED: {
        page_header h;
        int have = raw_header(r, is->page, &h) == 0;
        add(r, 0, L, is->page, 0, 0, 8928, d, F(is->page));
        if (is->err.number == 824 && strstr(is->err.msg, "incorrect pageid") && have)
            add(r, 0, L, is->page, 0, 0, 8909, d, F(is->page), F(h.id));
        else
            add(r, 0, L, is->page, 0, 0, 8939, d, F(is->page), "IS_OFF (BUF_IOERR, pBUF->bstat)",
                (long long)is->err.number, -4LL);
        /* what a lost leaf held, when its header still says */
        if (t && have && is->level == 0 && h.type == PAGE_BTREE_LEAF && h.owner == t->bt->object_id &&
            h.free_lo == PAGE_HEADER_SIZE + (size_t)h.nslots * PAGE_SLOT_SIZE)
            t->lost_rows += h.nslots;
        if (t)
            t->structural = t->lost = 1;
        break;
    }
    case BV_BAD_PAGE:
        add(r, 0, L, is->page, 0, 0, 8928, d, F(is->page));
        add(r, 0, L, is->page, 0, 0, 8939, d, F(is->page), is->test, is->v1, is->v2);
        if (t)
            t->structural = t->lost = 1;
        break;
    case BV_NOT_SEEN:
        add(r, 0, L, is->page, 0, is->parent, 8976, d, F(is->page), F(is->parent), F(is->other));
        if (t)
            t->structural = t->lost = 1;
        break;
    case BV_PREV_LINK:
        add(r, 0, RB, is->page, 0, is->other, 8935, d, F(is->other2), F(is->page), F(is->other), F(is->parent),
            is->slot);
        if (t)
            t->structural = 1;
        break;
    case BV_NEXT_LINK:
        add(r, 0, RB, is->page, 0, is->other, 8978, d, F(is->page), F(is->other));
        if (t)
            t->structural = 1;
        break;
    case BV_NEXT_DANGLING:
        add(r, 0, RB, is->page, 0, is->other, 8981, d, F(is->page), F(is->other), F(is->other));
        if (t)
            t->structural = 1;
        break;
    case BV_KEY_ORDER:
        add(r, 0, RB, is->page, is->slot, 0, 2511, d, F(is->page), is->slot - 1, is->slot);
        if (t)
            t->structural = 1;
        break;
    case BV_LOW_KEY:
        add(r, 0, RB, is->page, 0, is->parent, 8933, d, F(is->page), is->level, F(is->parent), is->slot);
        if (t)
            t->structural = 1;
        break;
    case BV_HIGH_KEY:
        add(r, 0, RB, is->page, 0, is->parent, 8934, d, F(is->page), is->level, F(is->parent), is->slot,
            F(is->other));
        if (t)
            t->structural = 1;
        break;
    case BV_TWO_PARENTS:
        add(r, 0, L, is->page, 0, is->parent, 8937, d, F(is->page), F(is->parent), is->slot);
        if (t)
            t->structural = t->lost = 1;
        break;
    case BV_CHAIN_LENGTH:
        add(r, 0, L, is->page, 0, 0, 8939, d, F(is->page), is->test, is->v1, is->v2);
        break;
    }
}

/* ------------------------------------------------------------ rows and index entries */

static int ivec_push(ivec *v, const uint8_t *k, size_t kl, const uint8_t *val, size_t vl, pgid_t page, int slot)
{
    if (v->n == v->cap) {
        size_t nc = v->cap ? v->cap * 2 : 256;
        ient *g = realloc(v->v, nc * sizeof *g);
        if (!g)
            return -1;
        v->v = g;
        v->cap = nc;
    }
    ient *e = &v->v[v->n];
    e->b = malloc(kl + vl + 1);
    if (!e->b)
        return -1;
    memcpy(e->b, k, kl);
    if (vl)
        memcpy(e->b + kl, val, vl);
    e->kl = (uint16_t)kl;
    e->vl = (uint16_t)vl;
    e->page = page;
    e->slot = slot;
    v->n++;
    return 0;
}

static void ivec_free(ivec *v)
{
    for (size_t i = 0; i < v->n; i++)
        free(v->v[i].b);
    free(v->v);
    memset(v, 0, sizeof *v);
}

/* B+tree key order: bytes, a proper prefix first */
static int bytes_cmp(const uint8_t *a, size_t al, const uint8_t *b, size_t bl)
{
    size_t n = al < bl ? al : bl;
    int c = n ? memcmp(a, b, n) : 0;
    return c ? c : (al > bl) - (al < bl);
}

static int ient_cmp(const void *a, const void *b)
{
    const ient *x = a, *y = b;
    int c = bytes_cmp(x->b, x->kl, y->b, y->kl);
    return c ? c : bytes_cmp(x->b + x->kl, x->vl, y->b + y->kl, y->vl);
}

static int clustered_record(void *ctx, pgid_t page, int slot, const uint8_t *k, size_t kl, const uint8_t *v,
                            size_t vl, hdb_err *err)
{
    run *r = ctx;
    tfind *t = &r->trees[r->cur_tree];
    ofind *o = &r->objs[t->obj];
    table_def *td = o->td;
    if (!td)
        return 0;
    char d[200];
    /* the row decodes (its off-row pointers too) */
    sql_value *vals = calloc((size_t)(td->ncols ? td->ncols : 1), sizeof *vals);
    if (!vals)
        return hdb_raise_text(err, 701, 19, 1, oom);
    if (row_decode(v, vl, td->types, td->ncols, vals) < 0) {
        dbcc_obj_desc(r, r->cur_tree, d, sizeof d);
        add(r, 0, DBCC_REPAIR_ALLOW_DATA_LOSS, page, slot, 0, 8944, d, F(page), slot, "row decodes", 0LL, 1LL);
        t->bad_rows++;
        free(vals);
        return 0;
    }
    int whole = 1;
    for (int i = 0; i < td->ncols; i++) {
        if (!(vals[i].flags & VALUE_F_OFFROW))
            continue;
        uint64_t np = 0;
        r->in_chain = 1;
        int w = ovf_verify(&r->db->env, vals[i].u.offrow.first_page, td->object_id, vals[i].u.offrow.total_len,
                           &(bv_callbacks){ .ctx = r, .issue = issue, .claim = claim }, &np, err);
        t->npages += np;
        if (w == 0) {
            dbcc_obj_desc(r, r->cur_tree, d, sizeof d);
            add(r, 0, DBCC_REPAIR_ALLOW_DATA_LOSS, page, slot, vals[i].u.offrow.first_page, 8965, d,
                F(vals[i].u.offrow.first_page), (unsigned long long)vals[i].u.offrow.first_page, F(page), slot);
        }
        r->in_chain = 0;
        if (w < 0) {
            free(vals);
            return -1;
        }
        if (w == 0) {
            dbcc_obj_desc(r, r->cur_tree, d, sizeof d);
            add(r, 0, DBCC_REPAIR_ALLOW_DATA_LOSS, page, slot, 0, 8929, d,
                (unsigned long long)vals[i].u.offrow.first_page, F(page), slot);
            whole = 0;
        }
    }
    free(vals);
    if (!whole) {
        t->bad_rows++;
        return 0;
    }
    if (!r->expect)
        return 0;
    /* the entries every secondary index must hold for it */
    table_row row;
    hdb_err e;
    if (table_decode_stored(r->db, td, v, vl, &row, &e) < 0)
        return 0;   /* reported above */
    for (int i = 1; i < td->nidx; i++) {
        uint8_t key[TABLE_KEY_CAP];
        size_t klen;
        if (table_index_key(td, i, row.vals, k, kl, key, &klen, &e) == 0 &&
            ivec_push(&r->expect[i], key, klen, k, kl, page, slot) < 0) {
            table_row_free(&row);
            return hdb_raise_text(err, 701, 19, 1, oom);
        }
    }
    table_row_free(&row);
    return 0;
}

static int index_record(void *ctx, pgid_t page, int slot, const uint8_t *k, size_t kl, const uint8_t *v, size_t vl,
                        hdb_err *err)
{
    run *r = ctx;
    if (ivec_push(&r->actual, k, kl, v, vl, page, slot) < 0)
        return hdb_raise_text(err, 701, 19, 1, oom);
    return 0;
}

/* The catalog's object tree: every object's id. */
static int add_object(run *r, uint32_t id);
static int object_record(void *ctx, pgid_t page, int slot, const uint8_t *k, size_t kl, const uint8_t *v,
                         size_t vl, hdb_err *err)
{
    (void)page, (void)slot, (void)v, (void)vl, (void)err;
    run *r = ctx;
    if (kl != 4)
        return 0;
    uint32_t id = (uint32_t)k[0] << 24 | (uint32_t)k[1] << 16 | (uint32_t)k[2] << 8 | k[3];
    return add_object(r, id) < 0 ? -1 : 0;
}

/* "id = 5" for the columns of index x taken from a row (a heap: its row id). */
static void describe(const table_def *td, const tbl_index *x, const sql_value *vals, char *buf, size_t cap)
{
    size_t n = 0;
    buf[0] = 0;
    for (int i = 0; i < x->nkeys && n < cap; i++) {
        char v[200];
        int c = x->keycols[i];
        value_format(&vals[c], &td->types[c], v, sizeof v);
        n += (size_t)snprintf(buf + n, cap - n, "%s%s = %s", i ? " and " : "", td->cols[c].name, v);
    }
}

static void hex(const uint8_t *b, size_t n, char *buf, size_t cap)
{
    size_t o = (size_t)snprintf(buf, cap, "0x");
    for (size_t i = 0; i < n && o + 3 < cap; i++)
        o += (size_t)snprintf(buf + o, cap - o, "%02X", b[i]);
}

/* How the data row with clustered key ck is identified: its key columns, or
 * (when it cannot be read) its key bytes. *vals_out gets the index values. */
static void identify(run *r, table_def *td, int idx, const uint8_t *ck, size_t cklen, char *ident, size_t icap,
                     char *ivals, size_t vcap)
{
    uint8_t *val = NULL;
    size_t vl = 0;
    hdb_err e;
    table_row row;
    ivals[0] = 0;
    /* a table that lost pages is not searched again for each of its rows */
    int lost = 0;
    for (int t = 0; t < r->ntrees; t++)
        if (r->trees[t].obj == r->cur_obj && r->trees[t].pos == 0)
            lost = r->trees[t].lost;
    if (!lost && bt_get(&td->idx[0].bt, ck, cklen, &val, &vl, &e) == 1 &&
        table_decode_stored(r->db, td, val, vl, &row, &e) == 0) {
        if (td->idx[0].hidden_key) {
            uint64_t x = 0;
            for (size_t i = 0; i < cklen && i < 8; i++)
                x = x << 8 | ck[i];
            snprintf(ident, icap, "RID = %lld", (long long)(x ^ (1ull << 63)));
        } else {
            describe(td, &td->idx[0], row.vals, ident, icap);
        }
        describe(td, &td->idx[idx], row.vals, ivals, vcap);
        table_row_free(&row);
    } else {
        hex(ck, cklen, ident, icap);
    }
    free(val);
}

/* The entries a secondary index holds against those its table says. */
static void compare_index(run *r, table_def *td, int i, int tree)
{
    ivec *want = &r->expect[i], *have = &r->actual;
    qsort(want->v, want->n, sizeof *want->v, ient_cmp);
    qsort(have->v, have->n, sizeof *have->v, ient_cmp);
    size_t a = 0, b = 0;
    const tbl_index *x = &td->idx[i];
    while (a < want->n || b < have->n) {
        int c = a >= want->n ? 1 : b >= have->n ? -1 : ient_cmp(&want->v[a], &have->v[b]);
        if (c == 0) {
            a++, b++;
            continue;
        }
        char ident[600], ivals[600];
        r->trees[tree].mismatch = 1;
        if (c < 0) {
            const ient *e = &want->v[a++];
            add(r, 0, DBCC_REPAIR_REBUILD, e->page, e->slot, 0, 8951, td->name, td->object_id, x->name,
                (int)x->index_id);
            identify(r, td, i, e->b + e->kl, e->vl, ident, sizeof ident, ivals, sizeof ivals);
            add(r, -1, 0, e->page, e->slot, 0, 8955, F(e->page), e->slot, ident, ivals);
        } else {
            const ient *e = &have->v[b++];
            add(r, 0, DBCC_REPAIR_REBUILD, e->page, e->slot, 0, 8952, td->name, td->object_id, x->name,
                (int)x->index_id);
            char kh[600];
            hex(e->b, e->kl, kh, sizeof kh);
            identify(r, td, i, e->b + e->kl, e->vl, ident, sizeof ident, ivals, sizeof ivals);
            add(r, -1, 0, e->page, e->slot, 0, 8956, F(e->page), e->slot, kh, ident);
        }
    }
}

/* ------------------------------------------------------------ one object */

static int new_tree(run *r, int obj, btree *bt, int index_id, int pos)
{
    if (r->ntrees == r->captrees) {
        int nc = r->captrees ? r->captrees * 2 : 16;
        tfind *g = realloc(r->trees, (size_t)nc * sizeof *g);
        if (!g)
            return -1;
        r->trees = g;
        r->captrees = nc;
    }
    tfind *t = &r->trees[r->ntrees];
    memset(t, 0, sizeof *t);
    t->obj = obj;
    t->bt = bt;
    t->index_id = index_id;
    t->pos = pos;
    return r->ntrees++;
}

static int walk_tree(run *r, int tree, int (*record)(void *, pgid_t, int, const uint8_t *, size_t, const uint8_t *,
                                                      size_t, hdb_err *))
{
    r->cur_tree = tree;
    tfind *t = &r->trees[tree];
    bv_callbacks cb = { .ctx = r, .issue = issue, .claim = claim, .record = record };
    bv_stats st;
    int rc = bt_verify(t->bt, &cb, &st, r->err);
    t = &r->trees[tree];
    t->records = st.records;
    t->npages += st.pages;
    return rc < 0 || r->failed ? -1 : 0;
}

static int lock(run *r, lock_res res)
{
    if (!r->t)
        return 0;
    return lock_acquire(txn_mgr_locks(r->db->inst->txns), &r->t->lo, &res, LOCK_S, r->o->lock_timeout_ms, r->err);
}

static void name_object(database *db, ofind *o)
{
    static const char *const sys[] = { "", "sys.sysschobjs", "sys.syscolpars", "sys.sysidxstats", "sys.sysschemas" };
    if (o->sys) {
        snprintf(o->name, sizeof o->name, "%s", sys[o->sys]);
        return;
    }
    (void)db;
    if (o->td)
        snprintf(o->name, sizeof o->name, "%s%s", o->td->schema_id == SCHEMA_SYS ? "sys." : "", o->td->name);
    else
        snprintf(o->name, sizeof o->name, "%u", o->id);
}

static int check_table(run *r, int oi)
{
    ofind *o = &r->objs[oi];
    r->cur_obj = oi;
    r->cur_tree = -1;
    hdb_err e;
    o->td = cat_get_table(r->db, o->id, &e);
    name_object(r->db, o);
    o->checked = 1;
    if (!o->td) {
        add(r, 0, DBCC_REPAIR_ALLOW_DATA_LOSS, 0, 0, 0, 8939, o->name, 0u, 0u, "object metadata is readable",
            (long long)e.number, 0LL);
        return 0;
    }
    table_def *td = o->td;
    if (lock(r, lock_res_table(r->db->tdb.id, td->object_id)) < 0)
        return -1;
    int with_indexes = !r->o->noindex && r->o->what != DBCC_CHECKALLOC && td->nidx > 1;
    if (with_indexes) {
        r->expect = calloc((size_t)td->nidx, sizeof *r->expect);
        if (!r->expect)
            return hdb_raise_text(r->err, 701, 19, 1, oom);
    }
    int rc = 0;
    int first = -1;
    for (int i = 0; i < td->nidx && rc == 0; i++) {
        tbl_index *x = &td->idx[i];
        int tree = new_tree(r, oi, &x->bt, i == 0 && x->hidden_key ? 0 : x->index_id, i);
        if (tree < 0) {
            rc = hdb_raise_text(r->err, 701, 19, 1, oom);
            break;
        }
        if (i == 0)
            first = tree;
        rc = walk_tree(r, tree, i == 0 ? clustered_record : with_indexes ? index_record : NULL);
        if (rc == 0 && i > 0 && with_indexes) {
            tfind *t = &r->trees[tree];
            /* an index whose pages were all seen tells how many rows there were */
            if (!t->lost && t->records > o->index_rows)
                o->index_rows = t->records;
            compare_index(r, td, i, tree);
        }
        ivec_free(&r->actual);
    }
    if (r->expect) {
        for (int i = 0; i < td->nidx; i++)
            ivec_free(&r->expect[i]);
        free(r->expect);
        r->expect = NULL;
    }
    if (first >= 0) {
        tfind *c = &r->trees[first];
        o->rows = c->records;
        for (int t = first; t < r->ntrees; t++)
            o->pages += r->trees[t].npages;
        o->rows_before = c->records + c->lost_rows;
        if (o->index_rows > o->rows_before)
            o->rows_before = o->index_rows;
    }
    r->cur_tree = -1;
    return rc;
}

/* ------------------------------------------------------------ allocation */

static int load_maps(run *r)
{
    uint16_t ids[DF_MAX_FILES];
    int n = df_file_ids(r->db->df, ids, DF_MAX_FILES);
    for (int i = 0; i < n; i++) {
        if (df_get_state(r->db->df, ids[i]) != DF_ONLINE && df_get_state(r->db->df, ids[i]) != DF_RESTORING)
            continue;   /* an offline file: nothing in it can be checked */
        fmap *f = &r->files[r->nfiles++];
        f->file_id = ids[i];
        f->pages = df_file_pages(r->db->df, ids[i]);
        size_t bytes = f->pages / 8 + 1;
        f->alloc = calloc(1, bytes);
        f->seen = calloc(1, bytes);
        f->bad_interval = calloc(1, f->pages / SPACE_INTERVAL + 1);
        if (!f->alloc || !f->seen || !f->bad_interval)
            return hdb_raise_text(r->err, 701, 19, 1, oom);
        for (uint32_t base = 0; base < f->pages; base += SPACE_INTERVAL) {
            pgid_t bid = PGID(f->file_id, base + 1);
            if (base + 1 >= f->pages)
                break;
            hdb_err e;
            bp_frame *fr = bp_fix(r->db->bp, r->db->df, bid, BP_SHARED, 0, &e);
            int type = fr ? page_chdr(bp_page(fr))->type : -1;
            if (!fr || (type != PAGE_ALLOC && !(base > 0 && page_is_zero(bp_page(fr))))) {
                if (fr)
                    bp_unfix(fr);
                f->bad_interval[base / SPACE_INTERVAL] = 1;
                uint32_t last = base + SPACE_INTERVAL - 1 < f->pages ? base + SPACE_INTERVAL - 1 : f->pages - 1;
                add(r, 1, DBCC_REPAIR_ALLOW_DATA_LOSS, bid, 0, 0, 8946, F(bid), "allocation map", type);
                add(r, 1, DBCC_REPAIR_ALLOW_DATA_LOSS, bid, 0, 0, 8998, (unsigned)r->db->tdb.id, F(PGID(f->file_id, base)),
                    F(PGID(f->file_id, last)));
                continue;
            }
            const uint8_t *bits = (const uint8_t *)bp_page(fr) + PAGE_HEADER_SIZE;
            for (uint32_t p = base; p < f->pages && p < base + SPACE_INTERVAL; p++)
                if (bit(bits, p - base))
                    set_bit(f->alloc, p);
            bp_unfix(fr);
        }
    }
    return 0;
}

/* The pages no object owns: each file's header and bitmaps, the boot page. */
static void check_system_page(run *r, fmap *f, uint32_t p, int want)
{
    pgid_t id = PGID(f->file_id, p);
    claim(r, id);
    if (want == PAGE_ALLOC)
        return;   /* load_maps read it */
    hdb_err e;
    bp_frame *fr = bp_fix(r->db->bp, r->db->df, id, BP_SHARED, 0, &e);
    int type = fr ? page_chdr(bp_page(fr))->type : -1;
    if (fr)
        bp_unfix(fr);
    if (type != want)
        add(r, 1, DBCC_REPAIR_ALLOW_DATA_LOSS, id, 0, 0, 8946, F(id), want == PAGE_BOOT ? "boot page" : "file header",
            type);
}

static void check_system_pages(run *r)
{
    r->cur_tree = -1;
    for (int i = 0; i < r->nfiles; i++) {
        fmap *f = &r->files[i];
        if (f->pages > 0)
            check_system_page(r, f, 0, PAGE_FILE_HEADER);
        if (f->pages > 1)
            check_system_page(r, f, 1, PAGE_ALLOC);
        if (f->file_id == 1 && f->pages > 2)
            check_system_page(r, f, 2, PAGE_BOOT);
        /* later intervals' bitmaps, once something was allocated there */
        for (uint32_t base = SPACE_INTERVAL; base + 1 < f->pages; base += SPACE_INTERVAL)
            if (bit(f->alloc, base + 1))
                check_system_page(r, f, base + 1, PAGE_ALLOC);
    }
}

static int add_object(run *r, uint32_t id)
{
    if (r->nobjs == r->capobjs) {
        int nc = r->capobjs ? r->capobjs * 2 : 32;
        ofind *g = realloc(r->objs, (size_t)nc * sizeof *g);
        if (!g)
            return hdb_raise_text(r->err, 701, 19, 1, oom);
        r->objs = g;
        r->capobjs = nc;
    }
    ofind *o = &r->objs[r->nobjs];
    memset(o, 0, sizeof *o);
    o->id = id;
    return r->nobjs++;
}

static int object_index(run *r, uint32_t id)
{
    for (int i = 0; i < r->nobjs; i++)
        if (r->objs[i].id == id)
            return i;
    return -1;
}

/* Allocated pages nothing reached. */
static void check_unused(run *r)
{
    for (int i = 0; i < r->nfiles; i++) {
        fmap *f = &r->files[i];
        for (uint32_t p = 0; p < f->pages; p++) {
            if (!bit(f->alloc, p) || bit(f->seen, p) || interval_bad(f, p))
                continue;
            pgid_t id = PGID(f->file_id, p);
            hdb_err e;
            bp_frame *fr = bp_fix(r->db->bp, r->db->df, id, BP_SHARED, 0, &e);
            int type = -1;
            uint32_t owner = 0;
            if (fr) {
                type = page_chdr(bp_page(fr))->type;
                owner = page_chdr(bp_page(fr))->owner;
                bp_unfix(fr);
            }
            int oi = owner ? object_index(r, owner) : -1;
            int owned = oi >= 0 && (type == PAGE_BTREE_LEAF || type == PAGE_BTREE_INTERNAL || type == PAGE_OVERFLOW);
            /* CHECKALLOC judges allocation only: a page its header gives to a
             * known object is allocated to it, reached or not */
            if (owned && r->o->what == DBCC_CHECKALLOC)
                continue;
            pgvec_push(&r->leaked, id);
            if (owned) {
                r->cur_obj = oi;
                ofind *o = &r->objs[oi];
                int idx = o->td && o->td->idx[0].hidden_key ? 0 : 1;
                uint64_t part = dbcc_partition_id(owner, idx);
                if (type == PAGE_OVERFLOW) {
                    char d[200];
                    snprintf(d, sizeof d, "Object ID %u, index ID %d, partition ID %llu, alloc unit ID %llu (type "
                             "LOB data)", owner, idx, (unsigned long long)part, (unsigned long long)part);
                    add(r, 0, DBCC_REPAIR_ALLOW_DATA_LOSS, id, 0, 0, 8964, d, F(id), (unsigned long long)id);
                } else {
                    add(r, 0, DBCC_REPAIR_ALLOW_DATA_LOSS, id, 0, 0, 2533, F(id), owner, idx,
                        (unsigned long long)part, (unsigned long long)part);
                }
                r->cur_obj = -1;
            } else {
                add(r, 1, DBCC_REPAIR_ALLOW_DATA_LOSS, id, 0, 0, 8906, F(id), (unsigned)r->db->tdb.id,
                    F(PGID(f->file_id, (p / SPACE_INTERVAL) * SPACE_INTERVAL + 1)), type);
            }
        }
    }
}

/* ------------------------------------------------------------ a check */

int dbcc_check_once(run *r)
{
    database *db = r->db;
    r->cur_obj = r->cur_tree = -1;
    if (lock(r, lock_res_metadata(db->tdb.id, SYSOBJ_OBJECTS)) < 0)
        return -1;
    if (load_maps(r) < 0)
        return -1;
    if (r->o->what != DBCC_CHECKTABLE)
        check_system_pages(r);
    if (r->o->what == DBCC_CHECKTABLE) {
        /* the table asked for, nothing else */
        if (add_object(r, r->o->object_id) < 0)
            return -1;
    } else {
        /* the catalog trees first: they say what else there is */
        for (int s = 1; s < SYSOBJ_COUNT; s++) {
            int oi = add_object(r, (uint32_t)s);
            if (oi < 0)
                return -1;
            r->objs[oi].sys = s;
            r->objs[oi].checked = 1;
            name_object(db, &r->objs[oi]);
            r->cur_obj = oi;
            int tree = new_tree(r, oi, &db->sys[s], 1, -1);
            if (tree < 0)
                return hdb_raise_text(r->err, 701, 19, 1, oom);
            if (walk_tree(r, tree, s == SYSOBJ_OBJECTS ? object_record : NULL) < 0)
                return -1;
            r->objs[oi].rows = r->trees[tree].records;
            r->objs[oi].pages = r->trees[tree].npages;
            r->objs[oi].rows_before = r->objs[oi].rows;
        }
        r->cur_obj = -1;
    }
    int n = r->nobjs;
    for (int i = 0; i < n; i++)
        if (!r->objs[i].sys && check_table(r, i) < 0)
            return -1;
    r->cur_obj = -1;
    if (r->o->what != DBCC_CHECKTABLE)
        check_unused(r);
    return 0;
}

void dbcc_run_free(run *r)
{
    for (int i = 0; i < r->nfiles; i++) {
        free(r->files[i].alloc);
        free(r->files[i].seen);
        free(r->files[i].bad_interval);
    }
    for (int i = 0; i < r->ntrees; i++)
        free(r->trees[i].pages.v);
    free(r->trees);
    free(r->objs);
    free(r->msgs);
    free(r->unallocated.v);
    free(r->leaked.v);
    ivec_free(&r->actual);
    r->nfiles = r->ntrees = r->nobjs = r->nmsgs = 0;
    r->trees = NULL;
    r->objs = NULL;
    r->msgs = NULL;
    r->unallocated = (pgvec){ 0 };
    r->leaked = (pgvec){ 0 };
    r->capobjs = r->captrees = r->capmsgs = 0;
    r->alloc_err = r->cons_err = r->repair_level = 0;
}

/* ------------------------------------------------------------ the report */

void dbcc_say(const dbcc_opts *o, int number, ...)
{
    hdb_err e;
    va_list ap;
    va_start(ap, number);
    hdb_vraise(&e, number, ap);
    va_end(ap);
    dbcc_msg m;
    memset(&m, 0, sizeof m);
    m.number = e.number;
    m.severity = e.severity;
    m.state = e.state;
    snprintf(m.text, sizeof m.text, "%s", e.msg);
    if (o->emit)
        o->emit(o->ctx, &m);
}

static void send_kept(run *r, int obj)
{
    for (int i = 0; i < r->nmsgs; i++)
        if (r->msgs[i].obj == obj && r->o->emit)
            r->o->emit(r->o->ctx, &r->msgs[i].m);
}

static const char *level_name(int level)
{
    return level == DBCC_REPAIR_ALLOW_DATA_LOSS ? "repair_allow_data_loss" : "repair_rebuild";
}

/* Everything one check found, in SQL Server's order: the database, what
 * belongs to no object, then object by object. */
static void report(run *r)
{
    const dbcc_opts *o = r->o;
    const char *cmd = command(r);
    int info = o->infomsgs;
    if (info && o->what != DBCC_CHECKTABLE)
        dbcc_say(o, 2536, r->db->tdb.name);
    int na = 0, nc = 0;
    for (int i = 0; i < r->nmsgs; i++)
        if (r->msgs[i].obj < 0 && r->msgs[i].m.severity > 10)
            r->msgs[i].m.allocation ? na++ : nc++;
    send_kept(r, -1);
    if (o->what == DBCC_CHECKDB && (info || na || nc))
        dbcc_say(o, 8954, cmd, na, nc);
    /* the catalog's trees first, then the tables */
    for (int k = 0; k < 2 * r->nobjs && o->what != DBCC_CHECKALLOC; k++) {
        int i = k % r->nobjs;
        ofind *ob = &r->objs[i];
        if (!ob->checked || (k < r->nobjs) != (ob->sys != 0))
            continue;
        if (info)
            dbcc_say(o, 2536, ob->name);
        send_kept(r, i);
        if (info)
            dbcc_say(o, 2593, (unsigned long long)ob->rows, (unsigned long long)ob->pages, ob->name);
        if (ob->alloc_err || ob->cons_err)
            dbcc_say(o, 8990, cmd, ob->alloc_err, ob->cons_err, ob->name, ob->id);
    }
    if (o->what == DBCC_CHECKALLOC)
        for (int i = 0; i < r->nobjs; i++)
            send_kept(r, i);
}

static void closing(run *r, const dbcc_result *res)
{
    const dbcc_opts *o = r->o;
    const char *cmd = command(r);
    int errors = res->alloc_errors + res->consistency_errors;
    if (o->what != DBCC_CHECKTABLE && (o->infomsgs || errors))
        dbcc_say(o, 8989, cmd, res->alloc_errors, res->consistency_errors, r->db->tdb.name);
    if (o->repair && (res->alloc_fixed || res->consistency_fixed))
        dbcc_say(o, 8912, cmd, res->alloc_fixed, res->consistency_fixed, r->db->tdb.name);
    int left = errors - res->alloc_fixed - res->consistency_fixed;
    if (left > 0) {
        char target[300];
        if (o->what == DBCC_CHECKTABLE && r->nobjs == 1)
            snprintf(target, sizeof target, "%s.dbo.%s", r->db->tdb.name, r->objs[0].name);
        else
            snprintf(target, sizeof target, "%s", r->db->tdb.name);
        dbcc_say(o, 8958, level_name(res->repair_level), cmd, target);
    }
    if (o->infomsgs || errors)
        dbcc_say(o, 2528);
}

/* ------------------------------------------------------------ the run */

static int begin(run *r, database *db, const dbcc_opts *o, hdb_err *err)
{
    memset(r, 0, sizeof *r);
    r->db = db;
    r->o = o;
    r->err = err;
    r->cur_obj = r->cur_tree = -1;
    if (o->txn && !o->repair) {
        r->t = o->txn;
        return 0;
    }
    r->t = txn_begin(db->inst->txns, 0, "DBCC", "sa");
    if (!r->t)
        return hdb_raise_text(err, 701, 19, 1, oom);
    r->t->lock_timeout_ms = o->lock_timeout_ms;
    r->own_txn = 1;
    return 0;
}

static void end(run *r, int commit)
{
    if (r->t && r->own_txn) {
        hdb_err e;
        if (commit)
            txn_commit(r->t, &e);
        else
            txn_rollback(r->t, &e);
        txn_free(r->t);
        r->t = NULL;
    }
    dbcc_run_free(r);
}

/* The object of the first check that is `id`, for its before/after counts. */
static ofind *find_obj(run *r, uint32_t id, int sys)
{
    for (int i = 0; i < r->nobjs; i++)
        if (r->objs[i].id == id && r->objs[i].sys == sys)
            return &r->objs[i];
    return NULL;
}

/* Emergency-mode repair: the database was not (or could not be) recovered.
 * It becomes writable for the repair; transactions recovery could not roll
 * back are let go (their locks too), and once the repair is done a
 * checkpoint that no longer lists them is what the next recovery starts
 * from: SQL Server's "log rebuilt" — the log chain is broken and
 * transactional consistency lost. The caller then restarts the database. */
static int emergency_begin(database *db, hdb_err *err)
{
    deferred_drop(db);
    return db->tdb.read_only_log ? db_set_read_only(db, 0, err) : 0;
}

static int emergency_end(database *db, hdb_err *err)
{
    pthread_mutex_lock(&db->boot_mu);
    db->boot.log_chain_lsn = 0;   /* the next log backup needs a new full backup */
    int rc = db_write_boot(db, err);
    pthread_mutex_unlock(&db->boot_mu);
    if (rc == 0)
        rc = db_checkpoint(db, err);
    if (db->inst)
        inst_log(db->inst, rc == 0 ? "Warning: The log for database '%s' has been rebuilt by emergency-mode repair. "
                                     "Transactional consistency has been lost; the log backup chain is broken."
                                   : "Emergency-mode repair of database '%s' could not rebuild the log.",
                 db->tdb.name);
    return rc < 0 ? hdb_raise(err, 7909) : 0;
}

static int run_checks(database *db, const dbcc_opts *o, dbcc_result *res, hdb_err *err);

int dbcc_run(database *db, const dbcc_opts *o, dbcc_result *res, hdb_err *err)
{
    memset(res, 0, sizeof *res);
    int emergency = db->state == DB_EMERGENCY && o->repair;
    if (emergency && emergency_begin(db, err) < 0)
        return -1;
    if (deferred_count(db) > 0)
        return hdb_raise(err, 7929);
    int rc = run_checks(db, o, res, err);
    if (emergency) {
        hdb_err e;
        hdb_err_clear(&e);
        if (emergency_end(db, &e) < 0 && rc == 0) {
            if (err)
                *err = e;
            rc = -1;
        }
    }
    return rc;
}

static int run_checks(database *db, const dbcc_opts *o, dbcc_result *res, hdb_err *err)
{
    run first;
    if (begin(&first, db, o, err) < 0)
        return -1;
    if (dbcc_check_once(&first) < 0) {
        end(&first, 0);
        return -1;
    }
    res->alloc_errors = first.alloc_err;
    res->consistency_errors = first.cons_err;
    res->repair_level = first.repair_level;
    report(&first);
    if (!o->repair || first.alloc_err + first.cons_err == 0) {
        closing(&first, res);
        end(&first, 1);
        return 0;
    }
    /* repair: fix what the last check found, check again, until a check is
     * clean or a round changes nothing; each round is one transaction */
    dbcc_opts quiet = *o;
    quiet.infomsgs = 0;
    quiet.all_errormsgs = 1;
    int rc = 0, changed = 0;
    run *cur = &first, next;
    memset(&next, 0, sizeof next);
    pgvec rebuilt = { 0 };
    for (int round = 0; round < 4; round++) {
        cur->rebuilt = &rebuilt;
        if (dbcc_repair_round(cur, &changed) < 0)
            rc = -1;
        hdb_err e;
        if (rc < 0 ? txn_rollback(cur->t, &e) : txn_commit(cur->t, &e))
            rc = -1;
        txn_free(cur->t);
        cur->t = NULL;
        if (cur != &first)
            dbcc_run_free(cur);
        if (rc < 0)
            break;
        if (begin(&next, db, &quiet, err) < 0) {
            rc = -1;
            break;
        }
        if (dbcc_check_once(&next) < 0) {
            end(&next, 0);
            rc = -1;
            break;
        }
        cur = &next;
        if (next.alloc_err + next.cons_err == 0 || !changed || round == 3)
            break;
    }
    if (rc == 0) {
        /* what is fixed and what was lost, table by table: the first check
         * against the last */
        for (int i = 0; i < first.nobjs; i++) {
            ofind *a = &first.objs[i];
            if (!a->checked)
                continue;
            ofind *b = find_obj(&next, a->id, a->sys);
            uint64_t now = b ? b->rows : 0;
            int was_rebuilt = 0;
            for (size_t k = 0; k < rebuilt.n; k++)
                was_rebuilt |= rebuilt.v[k] == a->id;
            if (!a->sys && was_rebuilt && a->rows_before > now) {
                res->rows_lost += a->rows_before - now;
                dbcc_say(o, 7913, (unsigned long long)(a->rows_before - now), a->name, a->id);
            }
            int fa = a->alloc_err - (b ? b->alloc_err : 0), fc = a->cons_err - (b ? b->cons_err : 0);
            if (fa > 0 || fc > 0)
                dbcc_say(o, 8949, command(&first), fa > 0 ? fa : 0, fc > 0 ? fc : 0, a->name, a->id);
        }
        int fa = first.alloc_err - next.alloc_err, fc = first.cons_err - next.cons_err;
        res->alloc_fixed = fa > 0 ? fa : 0;
        res->consistency_fixed = fc > 0 ? fc : 0;
        end(&next, 1);
    }
    free(rebuilt.v);
    closing(&first, res);
    dbcc_run_free(&first);
    return rc;
}
