/* Table tests: secondary indexes kept in step with the rows, heaps, values
 * larger than a page, and row locks between transactions. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <pthread.h>

#include "engine_harness.h"

static int setup(void **state)
{
    (void)state;
    h_make_dir();
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    fault_clear();
    h_remove_dir();
    return 0;
}

/* people(id int pk, email varchar(100), city varchar(50)) */
static table_def *make_people(instance *in, database *db)
{
    hdb_err e;
    tbl_column c[3] = { { .name = "id", .type = { .id = SQL_INT } },
                        { .name = "email", .type = { .id = SQL_VARCHAR, .max_len = 100 } },
                        { .name = "city", .type = { .id = SQL_VARCHAR, .max_len = 50 }, .nullable = 1 } };
    int pk = 0;
    table_spec s = { .schema_id = SCHEMA_DBO, .name = "people", .ncols = 3, .cols = c, .npk = 1, .pk_cols = &pk };
    txn *t = txn_begin(in->txns, 1, "ddl", "sa");
    assert_int_equal(cat_create_table(t, db, &s, NULL, &e), 0);
    table_def *td = h_table(db, "people");
    int ecol = 1, ccol = 2;
    assert_int_equal(cat_create_index(t, db, td, "ux_email", 1, 1, &ecol, NULL, &e), 0);
    td = h_table(db, "people");
    assert_int_equal(cat_create_index(t, db, td, "ix_city", 0, 1, &ccol, NULL, &e), 0);
    assert_int_equal(txn_commit(t, &e), 0);
    txn_free(t);
    return h_table(db, "people");
}

static int put_person(txn *t, database *db, table_def *td, int id, const char *email, const char *city, hdb_err *e)
{
    sql_value v[3] = { value_int(SQL_INT, id), value_bytes(SQL_VARCHAR, email, (uint32_t)strlen(email)),
                       city ? value_bytes(SQL_VARCHAR, city, (uint32_t)strlen(city)) : value_null(SQL_VARCHAR) };
    return table_insert(t, db, td, v, e);
}

static long index_entries(table_def *td, int i)
{
    hdb_err e;
    bt_cursor *c = bt_cursor_open(&td->idx[i].bt, NULL, 0, 1, &e);
    assert_non_null(c);
    const uint8_t *k, *v;
    size_t kl, vl;
    long n = 0;
    while (bt_cursor_next(c, &k, &kl, &v, &vl, &e) == 1)
        n++;
    bt_cursor_close(c);
    return n;
}

static void secondary_indexes_follow_rows(void **state)
{
    (void)state;
    hdb_err e;
    instance *in = h_open(8);
    database *db = inst_create_database(in, "idx", &e);
    table_def *td = make_people(in, db);
    assert_int_equal(td->nidx, 3);
    txn *t = txn_begin(in->txns, 1, "load", "sa");
    char email[64];
    for (int i = 0; i < 300; i++) {
        snprintf(email, sizeof email, "user%d@example.com", i);
        assert_int_equal(put_person(t, db, td, i, email, i % 3 ? "Paris" : "Lyon", &e), 0);
    }
    /* unique secondary index: 2601; case-insensitive like SQL Server */
    assert_int_equal(put_person(t, db, td, 1000, "USER5@example.com", NULL, &e), -1);
    assert_int_equal(e.number, 2601);
    assert_non_null(strstr(e.msg, "ux_email"));
    assert_int_equal(txn_commit(t, &e), 0);
    txn_free(t);
    assert_int_equal(index_entries(td, 1), 300);
    assert_int_equal(index_entries(td, 2), 300);

    /* update moves index entries; delete removes them; rollback restores */
    t = txn_begin(in->txns, 1, "change", "sa");
    sql_value key = value_int(SQL_INT, 7);
    sql_value nv[3] = { key, value_bytes(SQL_VARCHAR, "new7@x.org", 10), value_bytes(SQL_VARCHAR, "Nice", 4) };
    if (table_update(t, db, td, &key, nv, &e) != 0)
        fail_msg("update: %s (%d)", e.msg, e.number);
    for (int i = 100; i < 200; i++) {
        sql_value k = value_int(SQL_INT, i);
        assert_int_equal(table_delete(t, db, td, &k, &e), 0);
    }
    assert_int_equal(index_entries(td, 1), 200);
    hdb_err ig;
    assert_int_equal(txn_rollback(t, &ig), 0);
    txn_free(t);
    assert_int_equal(index_entries(td, 1), 300);
    assert_int_equal(index_entries(td, 2), 300);
    bt_stats st;
    for (int i = 0; i < 3; i++)
        assert_int_equal(bt_check(&td->idx[i].bt, &st, &e), 0);

    t = txn_begin(in->txns, 1, "change2", "sa");
    assert_int_equal(table_update(t, db, td, &key, nv, &e), 0);
    assert_int_equal(txn_commit(t, &e), 0);
    txn_free(t);
    /* the old email is free again, the new one taken */
    t = txn_begin(in->txns, 1, "reuse", "sa");
    assert_int_equal(put_person(t, db, td, 2000, "user7@example.com", NULL, &e), 0);
    assert_int_equal(put_person(t, db, td, 2001, "NEW7@x.org", NULL, &e), -1);
    assert_int_equal(e.number, 2601);
    assert_int_equal(txn_commit(t, &e), 0);
    txn_free(t);
    inst_close(in, 0);
    in = h_open(8);
    db = inst_find_database(in, "idx");
    td = h_table(db, "people");
    assert_int_equal(index_entries(td, 1), 301);
    assert_int_equal(index_entries(td, 2), 301);
    inst_close(in, 1);
}

static void heap_tables_keep_row_ids(void **state)
{
    (void)state;
    hdb_err e;
    instance *in = h_open(8);
    database *db = inst_create_database(in, "heap", &e);
    tbl_column c[1] = { { .name = "v", .type = { .id = SQL_INT }, .nullable = 1 } };
    table_spec s = { .schema_id = SCHEMA_DBO, .name = "h", .ncols = 1, .cols = c };
    txn *t = txn_begin(in->txns, 1, "x", "sa");
    assert_int_equal(cat_create_table(t, db, &s, NULL, &e), 0);
    table_def *td = h_table(db, "h");
    assert_true(td->idx[0].hidden_key);
    for (int i = 0; i < 100; i++) {
        sql_value v = value_int(SQL_INT, 5);   /* duplicates are fine in a heap */
        assert_int_equal(table_insert(t, db, td, &v, &e), 0);
    }
    assert_int_equal(txn_commit(t, &e), 0);
    txn_free(t);
    inst_close(in, 1);
    in = h_open(8);
    db = inst_find_database(in, "heap");
    td = h_table(db, "h");
    assert_int_equal(td->next_rowid, 101);   /* continues after the highest row id */
    t = txn_begin(in->txns, 1, "x", "sa");
    sql_value v = value_int(SQL_INT, 6);
    assert_int_equal(table_insert(t, db, td, &v, &e), 0);
    assert_int_equal(txn_commit(t, &e), 0);
    txn_free(t);
    assert_int_equal(h_count(in, db, td), 101);
    inst_close(in, 1);
}

static void large_values_use_overflow_pages(void **state)
{
    (void)state;
    hdb_err e;
    instance *in = h_open(8);
    database *db = inst_create_database(in, "lob", &e);
    h_create_table(in, db, "docs");
    table_def *td = h_table(db, "docs");
    space_ctx sc = { db->bp, db->df };
    uint64_t used0, used1, used2, total;
    assert_int_equal(space_usage(&sc, 1, &used0, &total, &e), 0);
    size_t n = 300 * 1024;
    char *big = malloc(n + 1);
    for (size_t i = 0; i < n; i++)
        big[i] = (char)('a' + i % 26);
    big[n] = 0;
    txn *t = txn_begin(in->txns, 1, "x", "sa");
    assert_int_equal(h_insert(t, db, td, 1, 1, big, &e), 0);
    assert_int_equal(txn_commit(t, &e), 0);
    txn_free(t);
    assert_int_equal(space_usage(&sc, 1, &used1, &total, &e), 0);
    assert_true(used1 >= used0 + n / PAGE_SIZE);
    t = txn_begin(in->txns, 1, "read", "sa");
    sql_value key = value_int(SQL_INT, 1);
    table_row r;
    assert_int_equal(table_get(t, db, td, &key, ISO_READ_COMMITTED, &r, &e), 1);
    assert_int_equal(r.vals[2].len, n);
    assert_memory_equal(r.vals[2].bytes, big, n);
    table_row_free(&r);
    txn_commit(t, &e);
    txn_free(t);
    /* a rolled-back insert gives its overflow pages back */
    t = txn_begin(in->txns, 1, "undo", "sa");
    assert_int_equal(h_insert(t, db, td, 2, 2, big, &e), 0);
    hdb_err ig;
    txn_rollback(t, &ig);
    txn_free(t);
    /* a committed delete frees them at commit */
    t = txn_begin(in->txns, 1, "del", "sa");
    assert_int_equal(table_delete(t, db, td, &key, &e), 0);
    assert_int_equal(txn_commit(t, &e), 0);
    txn_free(t);
    assert_int_equal(space_usage(&sc, 1, &used2, &total, &e), 0);
    assert_true(used2 <= used0 + 2);
    free(big);
    inst_close(in, 1);
}

struct locker {
    instance *in;
    database *db;
    table_def *td;
    int first, second;
    int rc, errnum;
    pthread_barrier_t *bar;
};

static void *deadlocker(void *arg)
{
    struct locker *l = arg;
    hdb_err e;
    hdb_err_clear(&e);
    txn *t = txn_begin(l->in->txns, l->first + 10, "dl", "sa");
    t->lock_timeout_ms = 20000;
    l->rc = h_update(t, l->db, l->td, l->first, 1, &e);
    pthread_barrier_wait(l->bar);
    if (l->rc == 0)
        l->rc = h_update(t, l->db, l->td, l->second, 1, &e);
    l->errnum = e.number;
    hdb_err ig;
    if (l->rc == 0)
        txn_commit(t, &ig);
    else
        txn_rollback(t, &ig);
    txn_free(t);
    return NULL;
}

static void row_locks_timeout_and_deadlock(void **state)
{
    (void)state;
    hdb_err e;
    instance *in = h_open(8);
    database *db = inst_create_database(in, "lk", &e);
    h_create_table(in, db, "t");
    table_def *td = h_table(db, "t");
    txn *t = txn_begin(in->txns, 1, "x", "sa");
    for (int i = 0; i < 10; i++)
        assert_int_equal(h_insert(t, db, td, i, i, NULL, &e), 0);
    assert_int_equal(txn_commit(t, &e), 0);
    txn_free(t);

    /* a writer holds row 3: a reader with LOCK_TIMEOUT 100 gets 1222, the
     * statement fails, its transaction stays usable */
    txn *w = txn_begin(in->txns, 1, "w", "sa");
    assert_int_equal(h_update(w, db, td, 3, 33, &e), 0);
    txn *r = txn_begin(in->txns, 2, "r", "sa");
    r->lock_timeout_ms = 100;
    sql_value key = value_int(SQL_INT, 3);
    table_row row;
    assert_int_equal(table_get(r, db, td, &key, ISO_READ_COMMITTED, &row, &e), -1);
    assert_int_equal(e.number, 1222);
    key = value_int(SQL_INT, 4);
    assert_int_equal(table_get(r, db, td, &key, ISO_READ_COMMITTED, &row, &e), 1);
    table_row_free(&row);
    /* READ UNCOMMITTED reads through the lock */
    key = value_int(SQL_INT, 3);
    assert_int_equal(table_get(r, db, td, &key, ISO_READ_UNCOMMITTED, &row, &e), 1);
    assert_int_equal(row.vals[1].u.i, 33);
    table_row_free(&row);
    assert_int_equal(txn_commit(w, &e), 0);
    txn_free(w);
    txn_commit(r, &e);
    txn_free(r);

    /* two transactions locking 1 then 2 and 2 then 1: one is the victim */
    pthread_barrier_t bar;
    pthread_barrier_init(&bar, NULL, 2);
    struct locker a = { in, db, td, 1, 2, 0, 0, &bar }, b = { in, db, td, 2, 1, 0, 0, &bar };
    pthread_t ta, tb;
    pthread_create(&ta, NULL, deadlocker, &a);
    pthread_create(&tb, NULL, deadlocker, &b);
    pthread_join(ta, NULL);
    pthread_join(tb, NULL);
    pthread_barrier_destroy(&bar);
    assert_true((a.rc == 0) != (b.rc == 0));
    assert_int_equal(a.rc ? a.errnum : b.errnum, 1205);
    inst_close(in, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(secondary_indexes_follow_rows, setup, teardown),
        cmocka_unit_test_setup_teardown(heap_tables_keep_row_ids, setup, teardown),
        cmocka_unit_test_setup_teardown(large_values_use_overflow_pages, setup, teardown),
        cmocka_unit_test_setup_teardown(row_locks_timeout_and_deadlock, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
