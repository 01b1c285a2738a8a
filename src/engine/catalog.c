/* catalog.c — system tables and the table-definition cache (see catalog.h). */
#include "engine/catalog.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "access/keyenc.h"
#include "access/row.h"
#include "engine/instance.h"
#include "engine/table.h"

static size_t key_obj(uint8_t *k, uint32_t obj)
{
    k[0] = (uint8_t)(obj >> 24);
    k[1] = (uint8_t)(obj >> 16);
    k[2] = (uint8_t)(obj >> 8);
    k[3] = (uint8_t)obj;
    return 4;
}

static size_t key_obj_sub(uint8_t *k, uint32_t obj, uint16_t sub)
{
    key_obj(k, obj);
    k[4] = (uint8_t)(sub >> 8);
    k[5] = (uint8_t)sub;
    return 6;
}

static uint32_t key_get_obj(const uint8_t *k)
{
    return (uint32_t)k[0] << 24 | (uint32_t)k[1] << 16 | (uint32_t)k[2] << 8 | k[3];
}

int cat_bootstrap(database *db, hdb_err *err)
{
    for (uint32_t i = 1; i < SYSOBJ_COUNT; i++) {
        pgid_t root = bt_create(&db->env, i, 1, 1, err);
        if (!root)
            return -1;
        db->boot.sys_root[i] = root;
    }
    if (db_write_boot(db, err) < 0)
        return -1;
    cat_open_system(db);
    /* the schemas every database has */
    static const struct { uint32_t id; const char *name; } schemas[] = {
        { SCHEMA_DBO, "dbo" }, { 2, "guest" }, { 3, "INFORMATION_SCHEMA" }, { SCHEMA_SYS, "sys" },
    };
    txn *t = txn_begin(db->inst ? db->inst->txns : NULL, 0, "bootstrap", "sa");
    if (!t)
        return hdb_raise_text(err, 701, 19, 1, "There is insufficient system memory to run this query.");
    txn_part *p = txn_join(t, &db->tdb, err);
    int rc = p ? 0 : -1;
    for (size_t i = 0; rc == 0 && i < sizeof schemas / sizeof schemas[0]; i++) {
        uint8_t k[4];
        lbuf v;
        lbuf_init(&v);
        lbuf_str(&v, schemas[i].name);
        if (bt_insert(&db->sys[SYSOBJ_SCHEMAS], t, p, k, key_obj(k, schemas[i].id), v.p, v.len, err) != 0)
            rc = -1;
        lbuf_free(&v);
    }
    if (rc == 0)
        rc = txn_commit(t, err);
    else {
        hdb_err ignore;
        txn_rollback(t, &ignore);
    }
    txn_free(t);
    return rc;
}

void cat_open_system(database *db)
{
    for (uint32_t i = 1; i < SYSOBJ_COUNT; i++) {
        if (db->sys[i].root)
            bt_close(&db->sys[i]);
        bt_open(&db->sys[i], &db->env, i, 1, 1, db->boot.sys_root[i]);
    }
}

/* ---- encoding of catalog rows -------------------------------------------- */

static void enc_object(lbuf *v, const table_def *td)
{
    lbuf_u32(v, td->schema_id);
    lbuf_str(v, td->name);
    lbuf_u8(v, 'U');
    lbuf_u64(v, (uint64_t)txn_now_us());
}

static void enc_column(lbuf *v, const tbl_column *c)
{
    lbuf_str(v, c->name);
    lbuf_u8(v, c->type.id);
    lbuf_u32(v, (uint32_t)c->type.max_len);
    lbuf_u8(v, c->type.precision);
    lbuf_u8(v, c->type.scale);
    lbuf_u16(v, c->type.collation_flags);
    lbuf_u8(v, c->nullable);
    lbuf_u8(v, c->identity);
}

static void dec_column(lread *r, tbl_column *c)
{
    lread_str(r, c->name, sizeof c->name);
    c->type.id = lread_u8(r);
    c->type.max_len = (int32_t)lread_u32(r);
    c->type.precision = lread_u8(r);
    c->type.scale = lread_u8(r);
    c->type.collation_flags = lread_u16(r);
    c->nullable = lread_u8(r);
    c->identity = lread_u8(r);
}

static void enc_index(lbuf *v, const tbl_index *x)
{
    lbuf_str(v, x->name);
    lbuf_u8(v, (uint8_t)(x->unique | x->primary_key << 1 | x->hidden_key << 2));
    lbuf_u16(v, x->fg_id);
    lbuf_u64(v, x->root);
    lbuf_u8(v, (uint8_t)x->nkeys);
    for (int i = 0; i < x->nkeys; i++) {
        lbuf_u16(v, (uint16_t)x->keycols[i]);
        lbuf_u8(v, x->desc[i]);
    }
}

static void dec_index(lread *r, tbl_index *x)
{
    lread_str(r, x->name, sizeof x->name);
    uint8_t fl = lread_u8(r);
    x->unique = fl & 1;
    x->primary_key = (fl >> 1) & 1;
    x->hidden_key = (fl >> 2) & 1;
    x->fg_id = lread_u16(r);
    x->root = lread_u64(r);
    x->nkeys = lread_u8(r);
    if (x->nkeys > TBL_MAX_KEYCOLS)
        x->nkeys = TBL_MAX_KEYCOLS;
    for (int i = 0; i < x->nkeys; i++) {
        x->keycols[i] = (int16_t)lread_u16(r);
        x->desc[i] = lread_u8(r);
    }
}

pgid_t cat_index_row_root(const uint8_t *val, size_t len)
{
    tbl_index x;
    memset(&x, 0, sizeof x);
    lread r;
    lread_init(&r, val, len);
    dec_index(&r, &x);
    return r.bad ? 0 : x.root;
}

/* ---- cache ------------------------------------------------------------------ */

static void td_free(table_def *td)
{
    for (int i = 0; i < td->nidx; i++)
        bt_close(&td->idx[i].bt);
    free(td->idx);
    free(td->cols);
    free(td->types);
    free(td);
}

void cat_free_cache(database *db)
{
    pthread_mutex_lock(&db->cat_mu);
    table_def *td = db->tables;
    db->tables = NULL;
    pthread_mutex_unlock(&db->cat_mu);
    while (td) {
        table_def *n = td->next;
        td_free(td);
        td = n;
    }
}

/* Definitions are kept (marked dropped) until the database closes, since a
 * session may still hold a pointer; lookups skip them. */
void cat_invalidate(database *db)
{
    pthread_mutex_lock(&db->cat_mu);
    for (table_def *td = db->tables; td; td = td->next)
        td->dropped = 1;
    pthread_mutex_unlock(&db->cat_mu);
}

/* Highest row id in a heap (its clustered key is the big-endian row id). */
static int64_t heap_max_rowid(btree *bt, hdb_err *err)
{
    bt_cursor *c = bt_cursor_open(bt, NULL, 0, 1, err);
    if (!c)
        return -1;
    int64_t max = 0;
    const uint8_t *k, *v;
    size_t kl, vl;
    int rc;
    while ((rc = bt_cursor_next(c, &k, &kl, &v, &vl, err)) == 1) {
        if (kl == 8) {
            uint64_t x = 0;
            for (int i = 0; i < 8; i++)
                x = x << 8 | k[i];
            max = (int64_t)(x ^ (1ull << 63));
        }
    }
    bt_cursor_close(c);
    return rc < 0 ? -1 : max;
}

/* Read a table's definition from the catalog trees. */
static table_def *load_table(database *db, uint32_t obj, hdb_err *err)
{
    uint8_t k[8];
    uint8_t *val = NULL;
    size_t vlen = 0;
    int found = bt_get(&db->sys[SYSOBJ_OBJECTS], k, key_obj(k, obj), &val, &vlen, err);
    if (found <= 0) {
        if (found == 0)
            hdb_raise(err, 208, "(object)");
        return NULL;
    }
    table_def *td = calloc(1, sizeof *td);
    lread r;
    lread_init(&r, val, vlen);
    td->object_id = obj;
    td->schema_id = lread_u32(&r);
    lread_str(&r, td->name, sizeof td->name);
    free(val);

    /* columns */
    bt_cursor *c = bt_cursor_open(&db->sys[SYSOBJ_COLUMNS], k, key_obj_sub(k, obj, 0), 1, err);
    const uint8_t *ck, *cv;
    size_t ckl, cvl;
    int rc;
    int cap = 0;
    while (c && (rc = bt_cursor_next(c, &ck, &ckl, &cv, &cvl, err)) == 1 && key_get_obj(ck) == obj) {
        if (td->ncols == cap) {
            cap = cap ? cap * 2 : 8;
            td->cols = realloc(td->cols, (size_t)cap * sizeof *td->cols);
        }
        tbl_column *col = &td->cols[td->ncols++];
        memset(col, 0, sizeof *col);
        lread_init(&r, cv, cvl);
        dec_column(&r, col);
    }
    bt_cursor_close(c);
    td->types = calloc((size_t)(td->ncols ? td->ncols : 1), sizeof *td->types);
    for (int i = 0; i < td->ncols; i++)
        td->types[i] = td->cols[i].type;

    /* indexes */
    c = bt_cursor_open(&db->sys[SYSOBJ_INDEXES], k, key_obj_sub(k, obj, 0), 1, err);
    cap = 0;
    while (c && (rc = bt_cursor_next(c, &ck, &ckl, &cv, &cvl, err)) == 1 && key_get_obj(ck) == obj) {
        if (td->nidx == cap) {
            cap = cap ? cap * 2 : 4;
            td->idx = realloc(td->idx, (size_t)cap * sizeof *td->idx);
        }
        tbl_index *x = &td->idx[td->nidx++];
        memset(x, 0, sizeof *x);
        x->index_id = (uint16_t)(ck[4] << 8 | ck[5]);
        lread_init(&r, cv, cvl);
        dec_index(&r, x);
        bt_open(&x->bt, &db->env, obj, x->index_id, x->fg_id, x->root);
    }
    bt_cursor_close(c);
    if (td->nidx == 0 || td->idx[0].index_id != 1) {
        td_free(td);
        hdb_raise_text(err, 5180, 22, 1, "The catalog of the database is damaged: a table has no clustered index.");
        return NULL;
    }
    if (td->idx[0].hidden_key) {
        int64_t max = heap_max_rowid(&td->idx[0].bt, err);
        if (max < 0) {
            td_free(td);
            return NULL;
        }
        td->next_rowid = max + 1;
    }
    return td;
}

static table_def *cache_lookup(database *db, uint32_t obj)
{
    for (table_def *td = db->tables; td; td = td->next)
        if (!td->dropped && td->object_id == obj)
            return td;
    return NULL;
}

table_def *cat_get_table(database *db, uint32_t obj, hdb_err *err)
{
    pthread_mutex_lock(&db->cat_mu);
    table_def *td = cache_lookup(db, obj);
    if (!td) {
        td = load_table(db, obj, err);
        if (td) {
            td->next = db->tables;
            db->tables = td;
        }
    }
    pthread_mutex_unlock(&db->cat_mu);
    return td;
}

/* Object id of schema.name via a scan of SYSOBJ_OBJECTS (0 = none). */
static uint32_t find_object_id(database *db, uint32_t schema_id, const char *name, hdb_err *err)
{
    bt_cursor *c = bt_cursor_open(&db->sys[SYSOBJ_OBJECTS], NULL, 0, 1, err);
    if (!c)
        return 0;
    const uint8_t *k, *v;
    size_t kl, vl;
    uint32_t found = 0;
    while (!found && bt_cursor_next(c, &k, &kl, &v, &vl, err) == 1) {
        lread r;
        lread_init(&r, v, vl);
        uint32_t sid = lread_u32(&r);
        char nm[CAT_NAME_MAX + 1];
        lread_str(&r, nm, sizeof nm);
        if (sid == schema_id && strcasecmp(nm, name) == 0)
            found = key_get_obj(k);
    }
    bt_cursor_close(c);
    return found;
}

table_def *cat_find_table(database *db, uint32_t schema_id, const char *name, hdb_err *err)
{
    pthread_mutex_lock(&db->cat_mu);
    for (table_def *td = db->tables; td; td = td->next) {
        if (!td->dropped && td->schema_id == schema_id && strcasecmp(td->name, name) == 0) {
            pthread_mutex_unlock(&db->cat_mu);
            return td;
        }
    }
    pthread_mutex_unlock(&db->cat_mu);
    hdb_err e;
    hdb_err_clear(&e);
    uint32_t obj = find_object_id(db, schema_id, name, &e);
    if (!obj) {
        if (err)
            *err = e;
        if (!e.number)
            hdb_raise(err, 208, name);
        return NULL;
    }
    return cat_get_table(db, obj, err);
}

btree *cat_tree(database *db, uint32_t obj, uint16_t index_id, hdb_err *err)
{
    if (obj < SYSOBJ_COUNT && obj > 0)
        return &db->sys[obj];
    table_def *td = cat_get_table(db, obj, err);
    if (!td)
        return NULL;
    for (int i = 0; i < td->nidx; i++)
        if (td->idx[i].index_id == index_id)
            return &td->idx[i].bt;
    hdb_raise_text(err, 5180, 22, 1, "The catalog of the database is damaged: an index is missing.");
    return NULL;
}

int cat_foreach_table(database *db, int (*fn)(void *ctx, table_def *td), void *ctx, hdb_err *err)
{
    bt_cursor *c = bt_cursor_open(&db->sys[SYSOBJ_OBJECTS], NULL, 0, 1, err);
    if (!c)
        return -1;
    uint32_t ids[1024];
    int n = 0, rc;
    const uint8_t *k, *v;
    size_t kl, vl;
    while (n < 1024 && (rc = bt_cursor_next(c, &k, &kl, &v, &vl, err)) == 1)
        ids[n++] = key_get_obj(k);
    bt_cursor_close(c);
    for (int i = 0; i < n; i++) {
        table_def *td = cat_get_table(db, ids[i], err);
        if (!td)
            return -1;
        if (fn(ctx, td))
            break;
    }
    return 0;
}

/* ---- DDL --------------------------------------------------------------------- */

static int lock_name(txn *t, database *db, uint32_t schema_id, const char *name, hdb_err *err)
{
    /* IX on the catalog as a whole: DDL runs side by side, but a deferred
     * transaction that changed the catalog holds X there (deferred.h), and so
     * blocks every CREATE TABLE until it is resolved, as in SQL Server. */
    lock_res cat = lock_res_metadata(db->tdb.id, SYSOBJ_OBJECTS);
    if (lock_acquire(t->mgr ? txn_mgr_locks(t->mgr) : NULL, &t->lo, &cat, LOCK_IX, t->lock_timeout_ms, err) < 0)
        return -1;
    char up[CAT_NAME_MAX + 16];
    size_t n = (size_t)snprintf(up, sizeof up, "%u.", schema_id);
    for (const char *s = name; *s && n + 1 < sizeof up; s++)
        up[n++] = (char)((*s >= 'a' && *s <= 'z') ? *s - 32 : *s);
    lock_res res = lock_res_key(db->tdb.id, SYSOBJ_OBJECTS, up, n);
    return lock_acquire(t->mgr ? txn_mgr_locks(t->mgr) : NULL, &t->lo, &res, LOCK_X, t->lock_timeout_ms, err);
}

static int put_index_row(txn *t, txn_part *p, database *db, uint32_t obj, const tbl_index *x, hdb_err *err)
{
    uint8_t k[8];
    lbuf v;
    lbuf_init(&v);
    enc_index(&v, x);
    int rc = bt_insert(&db->sys[SYSOBJ_INDEXES], t, p, k, key_obj_sub(k, obj, x->index_id), v.p, v.len, err);
    lbuf_free(&v);
    return rc == 0 ? 0 : -1;
}

int cat_create_table(txn *t, database *db, const table_spec *spec, uint32_t *object_id, hdb_err *err)
{
    if (spec->ncols <= 0 || spec->ncols > ROW_MAX_COLUMNS)
        return hdb_raise_text(err, 1702, 16, 1, "CREATE TABLE failed because column count is out of range.");
    txn_part *p = txn_join(t, &db->tdb, err);
    if (!p || lock_name(t, db, spec->schema_id, spec->name, err) < 0)
        return -1;
    hdb_err e;
    hdb_err_clear(&e);
    if (find_object_id(db, spec->schema_id, spec->name, &e))
        return hdb_raise(err, 2714, spec->name);
    if (e.number) {
        if (err)
            *err = e;
        return -1;
    }
    uint32_t obj = db_next_object_id(db, err);
    if (!obj)
        return -1;
    table_def td = { .object_id = obj, .schema_id = spec->schema_id };
    snprintf(td.name, sizeof td.name, "%s", spec->name);
    uint8_t k[8];
    lbuf v;
    lbuf_init(&v);
    enc_object(&v, &td);
    int rc = bt_insert(&db->sys[SYSOBJ_OBJECTS], t, p, k, key_obj(k, obj), v.p, v.len, err);
    for (int i = 0; rc == 0 && i < spec->ncols; i++) {
        lbuf_reset(&v);
        enc_column(&v, &spec->cols[i]);
        rc = bt_insert(&db->sys[SYSOBJ_COLUMNS], t, p, k, key_obj_sub(k, obj, (uint16_t)i), v.p, v.len, err);
    }
    lbuf_free(&v);
    if (rc != 0)
        return -1;
    tbl_index x = { .index_id = 1, .fg_id = spec->fg_id ? spec->fg_id : 1 };
    if (spec->npk > 0) {
        x.unique = x.primary_key = 1;
        x.nkeys = spec->npk > TBL_MAX_KEYCOLS ? TBL_MAX_KEYCOLS : spec->npk;
        for (int i = 0; i < x.nkeys; i++) {
            x.keycols[i] = (int16_t)spec->pk_cols[i];
            x.desc[i] = spec->pk_desc ? spec->pk_desc[i] : 0;
        }
        if (spec->pk_name)
            snprintf(x.name, sizeof x.name, "%s", spec->pk_name);
        else
            snprintf(x.name, sizeof x.name, "PK__%.60s__%08X", spec->name, obj);
    } else {
        x.hidden_key = 1;
        x.unique = 1;
    }
    x.root = bt_create(&db->env, obj, 1, x.fg_id, err);
    if (!x.root || put_index_row(t, p, db, obj, &x, err) < 0)
        return -1;
    if (object_id)
        *object_id = obj;
    return 0;
}

int cat_create_index(txn *t, database *db, table_def *td, const char *name, int unique,
                     int nkeys, const int *keycols, const uint8_t *desc, hdb_err *err)
{
    return cat_create_index_on(t, db, td, name, unique, nkeys, keycols, desc, td->idx[0].fg_id, err);
}

int cat_create_index_on(txn *t, database *db, table_def *td, const char *name, int unique, int nkeys,
                        const int *keycols, const uint8_t *desc, uint16_t fg_id, hdb_err *err)
{
    txn_part *p = txn_join(t, &db->tdb, err);
    if (!p)
        return -1;
    for (int i = 0; i < td->nidx; i++)
        if (strcasecmp(td->idx[i].name, name) == 0)
            return hdb_raise_text(err, 1913, 16, 1, "The operation failed because an index or statistics with that name already exists on the table.");
    tbl_index x = { .index_id = (uint16_t)(td->idx[td->nidx - 1].index_id + 1), .fg_id = fg_id };
    snprintf(x.name, sizeof x.name, "%s", name);
    x.unique = (uint8_t)unique;
    x.nkeys = nkeys > TBL_MAX_KEYCOLS ? TBL_MAX_KEYCOLS : nkeys;
    for (int i = 0; i < x.nkeys; i++) {
        x.keycols[i] = (int16_t)keycols[i];
        x.desc[i] = desc ? desc[i] : 0;
    }
    x.root = bt_create(&db->env, td->object_id, x.index_id, x.fg_id, err);
    if (!x.root || put_index_row(t, p, db, td->object_id, &x, err) < 0)
        return -1;
    /* reload the definition so table operations maintain the new index, then
     * fill it from the existing rows */
    pthread_mutex_lock(&db->cat_mu);
    td->dropped = 1;
    pthread_mutex_unlock(&db->cat_mu);
    table_def *nt = cat_get_table(db, td->object_id, err);
    if (!nt)
        return -1;
    return table_build_index(t, db, nt, nt->nidx - 1, err);
}

int cat_drop_table(txn *t, database *db, table_def *td, hdb_err *err)
{
    txn_part *p = txn_join(t, &db->tdb, err);
    if (!p)
        return -1;
    lock_res res = lock_res_table(db->tdb.id, td->object_id);
    if (lock_acquire(txn_mgr_locks(t->mgr), &t->lo, &res, LOCK_X, t->lock_timeout_ms, err) < 0)
        return -1;
    uint8_t k[8];
    if (bt_delete(&db->sys[SYSOBJ_OBJECTS], t, p, k, key_obj(k, td->object_id), err) < 0)
        return -1;
    for (int i = 0; i < td->ncols; i++)
        if (bt_delete(&db->sys[SYSOBJ_COLUMNS], t, p, k, key_obj_sub(k, td->object_id, (uint16_t)i), err) < 0)
            return -1;
    for (int i = 0; i < td->nidx; i++)
        if (bt_delete(&db->sys[SYSOBJ_INDEXES], t, p, k, key_obj_sub(k, td->object_id, td->idx[i].index_id), err) < 0)
            return -1;
    /* The pages are freed at commit: until then a rollback can bring the
     * table back whole. */
    pthread_mutex_lock(&db->cat_mu);
    td->dropped = 1;
    pthread_mutex_unlock(&db->cat_mu);
    return table_drop_storage_at_commit(t, db, td, err);
}
