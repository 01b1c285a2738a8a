/* dbcc_repair.c — one round of DBCC repair for what a check found (see
 * dbcc.h): rebuild damaged trees from what survived, rebuild secondary
 * indexes that do not match their table, set and clear allocation bits. */
#include "engine/dbcc_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "access/row.h"
#include "engine/suspect.h"
#include "engine/table.h"

static const char oom[] = "There is insufficient system memory to run this query.";

typedef struct recs {
    bv_record *v;
    size_t     n, cap;
    int        table_rows;    /* clustered index of a table: rows are checked first */
    run       *r;
    table_def *td;
    uint64_t   dropped;
} recs;

static int keep(recs *c, const uint8_t *k, size_t kl, const uint8_t *v, size_t vl)
{
    if (c->n == c->cap) {
        size_t nc = c->cap ? c->cap * 2 : 256;
        bv_record *g = realloc(c->v, nc * sizeof *g);
        if (!g)
            return -1;
        c->v = g;
        c->cap = nc;
    }
    uint8_t *b = malloc(kl + vl + 1);
    if (!b)
        return -1;
    memcpy(b, k, kl);
    if (vl)
        memcpy(b + kl, v, vl);
    c->v[c->n++] = (bv_record){ .k = b, .v = b + kl, .kl = (uint16_t)kl, .vl = (uint16_t)vl };
    return 0;
}

static void recs_free(recs *c)
{
    for (size_t i = 0; i < c->n; i++)
        free((void *)c->v[i].k);
    free(c->v);
}

/* A row can stay when it decodes and every off-row value it points to is whole. */
static int row_ok(recs *c, const uint8_t *v, size_t vl)
{
    table_def *td = c->td;
    sql_value *vals = calloc((size_t)(td->ncols ? td->ncols : 1), sizeof *vals);
    if (!vals)
        return 0;
    int ok = row_decode(v, vl, td->types, td->ncols, vals) == 0;
    bv_callbacks quiet = { 0 };
    for (int i = 0; ok && i < td->ncols; i++)
        if (vals[i].flags & VALUE_F_OFFROW)
            ok = ovf_verify(&c->r->db->env, vals[i].u.offrow.first_page, td->object_id, vals[i].u.offrow.total_len,
                            &quiet, NULL, NULL) == 1;
    free(vals);
    return ok;
}

static int collect(void *ctx, pgid_t page, int slot, const uint8_t *k, size_t kl, const uint8_t *v, size_t vl,
                   hdb_err *err)
{
    (void)page, (void)slot;
    recs *c = ctx;
    if (c->table_rows && !row_ok(c, v, vl)) {
        c->dropped++;
        return 0;
    }
    return keep(c, k, kl, v, vl) < 0 ? hdb_raise_text(err, 701, 19, 1, oom) : 0;
}

static const char *kind_of(const tfind *t)
{
    return t->pos < 0 ? "Clustered" : t->pos == 0 ? (t->index_id == 0 ? "Heap" : "Clustered") : "Nonclustered";
}

/* Rebuild tree t from the records its readable pages hold. */
static int rebuild(run *r, int ti, txn_part *p, int from_table)
{
    tfind *t = &r->trees[ti];
    ofind *o = &r->objs[t->obj];
    char d[200];
    r->in_chain = 0;
    dbcc_obj_desc(r, ti, d, sizeof d);
    dbcc_say(r->o, 8945, d);
    recs c = { .r = r, .td = o->td };
    int rc = 0;
    if (!from_table) {
        /* what the pages that can be read hold (a table's rows must also be whole) */
        c.table_rows = t->pos == 0 && o->td;
        bv_callbacks cb = { .ctx = &c, .record = collect };
        rc = bt_verify(t->bt, &cb, NULL, r->err);
    } else {
        /* a secondary index: one entry per row of the (sound) clustered index */
        table_def *td = o->td;
        bt_cursor *cur = bt_cursor_open(&td->idx[0].bt, NULL, 0, 1, r->err);
        const uint8_t *k, *v;
        size_t kl, vl;
        int got;
        rc = cur ? 0 : -1;
        while (cur && (got = bt_cursor_next(cur, &k, &kl, &v, &vl, r->err)) == 1) {
            table_row row;
            hdb_err e;
            uint8_t key[TABLE_KEY_CAP];
            size_t klen;
            if (table_decode_stored(r->db, td, v, vl, &row, &e) < 0)
                continue;
            int ok = table_index_key(td, t->pos, row.vals, k, kl, key, &klen, &e) == 0;
            table_row_free(&row);
            if (ok && keep(&c, key, klen, k, kl) < 0) {
                rc = hdb_raise_text(r->err, 701, 19, 1, oom);
                break;
            }
        }
        if (cur && got < 0)
            rc = -1;
        bt_cursor_close(cur);
    }
    long n = rc < 0 ? -1 : bt_rebuild(t->bt, r->t, p, c.v, c.n, t->pages.v, t->pages.n, r->err);
    recs_free(&c);
    if (n < 0)
        return -1;
    dbcc_say(r->o, 7912, kind_of(t), o->name, r->db->tdb.name);
    return 0;
}

/* The clustered index of object o can be read whole. */
static int sound_table(run *r, int o)
{
    for (int i = 0; i < r->ntrees; i++)
        if (r->trees[i].obj == o && r->trees[i].pos == 0)
            return !r->trees[i].lost && !r->trees[i].structural && !r->trees[i].bad_rows;
    return 0;
}

int dbcc_repair_round(run *r, int *changed)
{
    *changed = 0;
    int loss = r->o->repair == DBCC_REPAIR_ALLOW_DATA_LOSS;
    database *db = r->db;
    txn_part *p = txn_join(r->t, &db->tdb, r->err);
    if (!p)
        return -1;
    int rebuilt = 0;
    /* damaged trees: from what can still be read */
    for (int i = 0; i < r->ntrees; i++) {
        tfind *t = &r->trees[i];
        if (!t->structural && !t->bad_rows)
            continue;
        if (!loss && (t->lost || t->bad_rows))
            continue;   /* REPAIR_REBUILD loses nothing */
        if (rebuild(r, i, p, 0) < 0)
            return -1;
        if (t->pos == 0 && r->rebuilt)
            pgvec_push(r->rebuilt, r->objs[t->obj].id);   /* its lost rows are reported */
        for (int j = 0; j < r->nmsgs; j++) {
            const dbcc_msg *m = &r->msgs[j].m;
            if (m->number == 8928 && r->msgs[j].obj == t->obj && m->index_id == t->index_id) {
                char d[200];
                dbcc_obj_desc(r, i, d, sizeof d);
                dbcc_say(r->o, 7911, PGID_FILE(m->page), PGID_PAGE(m->page), d);
            }
        }
        rebuilt++;
    }
    /* secondary indexes that do not match a sound table: from the table */
    for (int i = 0; i < r->ntrees && !rebuilt; i++) {
        tfind *t = &r->trees[i];
        if (!t->mismatch || t->pos <= 0 || !sound_table(r, t->obj))
            continue;
        if (rebuild(r, i, p, 1) < 0)
            return -1;
        rebuilt++;
    }
    if (rebuilt) {
        /* pages that could not be read are gone with the rebuilds (noted once
         * the rebuilds, which read the trees again, are done) */
        for (int i = 0; loss && i < r->nmsgs; i++) {
            const dbcc_msg *m = &r->msgs[i].m;
            if (m->number == 8928 && m->page)
                suspect_page_note(db->inst, db->tdb.id, m->page, SUSPECT_DEALLOCATED);
        }
        *changed = 1;
        return 0;   /* allocation is judged again once the trees are whole */
    }
    /* allocation: pages in use get their bit; pages nothing uses lose it */
    char d[200];
    if (r->unallocated.n) {
        if (bt_mark_pages(&db->env, r->unallocated.v, r->unallocated.n, 1, r->err) < 0)
            return -1;
        for (size_t i = 0; i < r->unallocated.n; i++) {
            snprintf(d, sizeof d, "database ID %u", db->tdb.id);
            dbcc_say(r->o, 7910, PGID_FILE(r->unallocated.v[i]), PGID_PAGE(r->unallocated.v[i]), d);
        }
        *changed = 1;
    }
    if (loss && r->leaked.n) {
        if (bt_mark_pages(&db->env, r->leaked.v, r->leaked.n, 0, r->err) < 0)
            return -1;
        for (size_t i = 0; i < r->leaked.n; i++) {
            snprintf(d, sizeof d, "database ID %u", db->tdb.id);
            dbcc_say(r->o, 7911, PGID_FILE(r->leaked.v[i]), PGID_PAGE(r->leaked.v[i]), d);
            suspect_page_note(db->inst, db->tdb.id, r->leaked.v[i], SUSPECT_DEALLOCATED);
        }
        *changed = 1;
    }
    return 0;
}
