/* engine_harness.h — helpers shared by the engine tests: an instance in a
 * temporary directory, a table of (id int primary key, val bigint, pad
 * varchar(max)), and row helpers. */
#ifndef ENGINE_HARNESS_H
#define ENGINE_HARNESS_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine/instance.h"
#include "engine/table.h"
#include "log/logrec.h"
#include "os/fio.h"
#include "storage/pageop.h"

static char h_dir[64];

static inline void h_make_dir(void)
{
    snprintf(h_dir, sizeof h_dir, "/tmp/hadr-eng-XXXXXX");
    assert_non_null(mkdtemp(h_dir));
}

static inline void h_remove_dir(void)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", h_dir);
    assert_int_equal(system(cmd), 0);
}

static inline instance *h_open(size_t pool_mb)
{
    inst_options o = { .datadir = h_dir, .buffer_pool_mb = pool_mb, .checkpoint_interval_s = 0,
                       .vlf_size = 256 * 1024, .initial_vlfs = 4, .quiet = getenv("HADR_VERBOSE") == NULL };
    hdb_err e;
    hdb_err_clear(&e);
    instance *in = inst_open(&o, &e);
    if (!in)
        fail_msg("inst_open: %s (%d)", e.msg, e.number);
    return in;
}

static inline void h_create_table(instance *in, database *db, const char *name)
{
    tbl_column c[3] = { { .name = "id", .type = { .id = SQL_INT } },
                        { .name = "val", .type = { .id = SQL_BIGINT } },
                        { .name = "pad", .type = { .id = SQL_VARCHAR, .max_len = -1 }, .nullable = 1 } };
    int pk = 0;
    table_spec s = { .schema_id = SCHEMA_DBO, .name = name, .ncols = 3, .cols = c, .npk = 1, .pk_cols = &pk };
    hdb_err e;
    txn *t = txn_begin(in->txns, 1, "ddl", "sa");
    if (cat_create_table(t, db, &s, NULL, &e) < 0)
        fail_msg("create table: %s", e.msg);
    assert_int_equal(txn_commit(t, &e), 0);
    txn_free(t);
}

static inline table_def *h_table(database *db, const char *name)
{
    hdb_err e;
    table_def *td = cat_find_table(db, SCHEMA_DBO, name, &e);
    if (!td)
        fail_msg("find table %s: %s", name, e.msg);
    return td;
}

static inline int h_insert(txn *t, database *db, table_def *td, int id, int64_t val, const char *pad, hdb_err *e)
{
    sql_value v[3] = { value_int(SQL_INT, id), value_int(SQL_BIGINT, val),
                       pad ? value_bytes(SQL_VARCHAR, pad, (uint32_t)strlen(pad)) : value_null(SQL_VARCHAR) };
    return table_insert(t, db, td, v, e);
}

static inline int h_update(txn *t, database *db, table_def *td, int id, int64_t val, hdb_err *e)
{
    sql_value key = value_int(SQL_INT, id);
    sql_value v[3] = { key, value_int(SQL_BIGINT, val), value_null(SQL_VARCHAR) };
    return table_update(t, db, td, &key, v, e);
}

/* -1 = missing, else the val column. */
static inline int64_t h_get(instance *in, database *db, table_def *td, int id)
{
    hdb_err e;
    txn *t = txn_begin(in->txns, 1, "read", "sa");
    sql_value key = value_int(SQL_INT, id);
    table_row r;
    int rc = table_get(t, db, td, &key, ISO_READ_COMMITTED, &r, &e);
    if (rc < 0)
        fail_msg("table_get: %s", e.msg);
    int64_t v = -1;
    if (rc == 1) {
        v = r.vals[1].u.i;
        table_row_free(&r);
    }
    txn_commit(t, &e);
    txn_free(t);
    return v;
}

static inline long h_count(instance *in, database *db, table_def *td)
{
    hdb_err e;
    txn *t = txn_begin(in->txns, 1, "count", "sa");
    table_scan *s = table_scan_open(t, db, td, ISO_READ_COMMITTED, &e);
    assert_non_null(s);
    table_row r;
    long n = 0;
    int k;
    while ((k = table_scan_next(s, &r, &e)) == 1)
        n++;
    if (k < 0)
        fail_msg("scan: %s", e.msg);
    table_scan_close(s);
    txn_commit(t, &e);
    txn_free(t);
    return n;
}

/* The first data page the newest row record (LR_ROW) of t in db changed. */
static inline pgid_t h_page_of_last_row(txn *t, database *db)
{
    txn_part *p = txn_find_part(t, &db->tdb);
    uint8_t *buf = NULL;
    size_t cap = 0, off;
    hdb_err e;
    for (lsn_t lsn = p->last_lsn; lsn;) {
        log_rec r;
        assert_int_equal(log_read_at(db->tdb.log, lsn, &r, &buf, &cap, &e), 0);
        if (r.kind == LR_ROW && logrec_pageops_offset(r.kind, r.body, r.body_len, &off)) {
            pageop_iter it;
            pgid_t id;
            const uint8_t *op;
            size_t oplen;
            assert_int_equal(pageop_iter_init(&it, r.body + off, r.body_len - off), 0);
            assert_int_equal(pageop_iter_next(&it, &id, &op, &oplen), 1);
            free(buf);
            return id;
        }
        lsn = r.prev_lsn;
    }
    fail_msg("no row record");
    return 0;
}

#endif
