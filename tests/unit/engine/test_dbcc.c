/* test_dbcc.c — DBCC CHECKDB / CHECKTABLE / CHECKALLOC (engine/dbcc.h): a
 * table with a secondary index and off-row values, damaged in controlled ways
 * (on disk: a bad checksum, a page at the wrong place; in memory: links, key
 * order, separators, allocation bits, index entries, leaked pages); each is
 * reported with SQL Server's message and counted; a healthy database is
 * clean; repair fixes what it can and says how many rows were lost. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <fcntl.h>

#include "engine_harness.h"
#include "access/space.h"
#include "access/keyenc.h"
#include "access/row.h"
#include "engine/dbcc.h"

enum { ROWS = 1500 };

static instance *in;
static database *db;

typedef struct msgs { int n, cap; dbcc_msg *m; } msgs;

static void collect(void *ctx, const dbcc_msg *m)
{
    msgs *c = ctx;
    if (c->n == c->cap) {
        c->cap = c->cap ? c->cap * 2 : 256;
        c->m = realloc(c->m, (size_t)c->cap * sizeof *c->m);
        assert_non_null(c->m);
    }
    c->m[c->n++] = *m;
    if (getenv("HADR_VERBOSE"))
        fprintf(stderr, "  %d: %s\n", m->number, m->text);
}

static int count(const msgs *c, int number)
{
    int n = 0;
    for (int i = 0; i < c->n; i++)
        n += c->m[i].number == number;
    return n;
}

static const dbcc_msg *find(const msgs *c, int number)
{
    for (int i = 0; i < c->n; i++)
        if (c->m[i].number == number)
            return &c->m[i];
    return NULL;
}

static int check(int what, uint32_t obj, int repair, msgs *c, dbcc_result *r)
{
    c->n = 0;
    dbcc_opts o = { .what = what, .object_id = obj, .repair = repair, .infomsgs = 1, .all_errormsgs = 1,
                    .lock_timeout_ms = 5000, .emit = collect, .ctx = c };
    hdb_err e;
    hdb_err_clear(&e);
    int rc = dbcc_run(db, &o, r, &e);
    if (rc < 0)
        fail_msg("dbcc_run: %s (%d)", e.msg, e.number);
    return r->alloc_errors + r->consistency_errors;
}

/* (id int primary key, val bigint, pad varchar(max)) + index on val; every
 * 50th row has an off-row value. */
static int setup(void **state)
{
    (void)state;
    h_make_dir();
    in = h_open(16);
    hdb_err e;
    db = inst_create_database(in, "dc", &e);
    assert_non_null(db);
    h_create_table(in, db, "t");
    table_def *td = h_table(db, "t");
    txn *t = txn_begin(in->txns, 1, "load", "sa");
    char big[9000];
    memset(big, 'b', sizeof big - 1);
    big[sizeof big - 1] = 0;
    for (int i = 0; i < ROWS; i++)
        assert_int_equal(h_insert(t, db, td, i, (i * 7) % 500, i % 50 == 0 ? big : "some padding", &e), 0);
    int key = 1;
    assert_int_equal(cat_create_index(t, db, td, "ix_val", 0, 1, &key, NULL, &e), 0);
    assert_int_equal(txn_commit(t, &e), 0);
    txn_free(t);
    assert_int_equal(db_checkpoint(db, &e), 0);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    fault_clear();
    inst_close(in, 0);   /* damaged pages are not written back */
    in = NULL;
    h_remove_dir();
    return 0;
}

/* ------------------------------------------------------------ pages */

static uint64_t u64_at(const uint8_t *p, size_t off)
{
    uint64_t v;
    memcpy(&v, p + off, 8);
    return v;
}

/* The n-th leaf (left to right) of the tree at root. */
static pgid_t leaf(pgid_t root, int n)
{
    hdb_err e;
    pgid_t id = root;
    for (;;) {
        bp_frame *f = bp_fix(db->bp, db->df, id, BP_SHARED, 0, &e);
        assert_non_null(f);
        const uint8_t *p = bp_page(f);
        pgid_t next = page_chdr(p)->type == PAGE_BTREE_INTERNAL ? u64_at(p, 56) : 0;
        bp_unfix(f);
        if (!next)
            break;
        id = next;
    }
    for (int i = 0; i < n; i++) {
        bp_frame *f = bp_fix(db->bp, db->df, id, BP_SHARED, 0, &e);
        pgid_t next = page_chdr(bp_page(f))->next;
        bp_unfix(f);
        assert_true(next != 0);
        id = next;
    }
    return id;
}

static int slots_of(pgid_t id)
{
    hdb_err e;
    bp_frame *f = bp_fix(db->bp, db->df, id, BP_SHARED, 0, &e);
    int n = page_chdr(bp_page(f))->nslots;
    bp_unfix(f);
    return n;
}

/* Change a cached page without logging it (what a stray write would do). */
static uint8_t *poke_begin(pgid_t id, bp_frame **f)
{
    hdb_err e;
    *f = bp_fix(db->bp, db->df, id, BP_EXCL, 0, &e);
    assert_non_null(*f);
    return bp_page(*f);
}

/* Overwrite bytes of a page in the file, the cached copy dropped. */
static void damage_on_disk(pgid_t id, size_t off, const void *bytes, size_t n)
{
    hdb_err e;
    assert_int_equal(db_checkpoint(db, &e), 0);
    bp_discard_page(db->bp, db->df, id);
    char path[512];
    snprintf(path, sizeof path, "%s/data/dc.mdf", h_dir);
    int fd = open(path, O_WRONLY);
    assert_true(fd >= 0);
    assert_int_equal(pwrite(fd, bytes, n, (off_t)PGID_PAGE(id) * PAGE_SIZE + (off_t)off), (ssize_t)n);
    close(fd);
}

static void set_alloc_bit(pgid_t id, int on)
{
    bp_frame *f;
    uint8_t *p = poke_begin(PGID(PGID_FILE(id), 1), &f);
    uint32_t b = PGID_PAGE(id);
    if (on)
        p[PAGE_HEADER_SIZE + b / 8] |= (uint8_t)(1u << (b % 8));
    else
        p[PAGE_HEADER_SIZE + b / 8] &= (uint8_t)~(1u << (b % 8));
    bp_unfix(f);
}

/* A page no one uses: past everything allocated in file 1. */
static pgid_t free_page(void)
{
    hdb_err e;
    space_ctx sc = { db->bp, db->df };
    for (uint32_t p = df_file_pages(db->df, 1) - 1; p > 3; p--)
        if (space_is_allocated(&sc, PGID(1, p), &e) == 0)
            return PGID(1, p);
    fail_msg("no free page");
    return 0;
}

/* ------------------------------------------------------------ tests */

static void healthy_is_clean(void **state)
{
    (void)state;
    msgs c = { 0 };
    dbcc_result r;
    assert_int_equal(check(DBCC_CHECKDB, 0, 0, &c, &r), 0);
    assert_int_equal(count(&c, 8989), 1);
    assert_string_equal(find(&c, 8989)->text, "CHECKDB found 0 allocation errors and 0 consistency errors in database 'dc'.");
    assert_int_equal(count(&c, 2528), 1);
    char want[200];
    snprintf(want, sizeof want, "There are %d rows in", ROWS);
    int seen = 0;
    for (int i = 0; i < c.n; i++)
        if (c.m[i].number == 2593 && strstr(c.m[i].text, want) && strstr(c.m[i].text, "object \"t\""))
            seen = 1;
    assert_true(seen);
    for (int i = 0; i < c.n; i++)
        assert_int_equal(c.m[i].severity, 10);
    table_def *td = h_table(db, "t");
    assert_int_equal(check(DBCC_CHECKTABLE, td->object_id, 0, &c, &r), 0);
    assert_int_equal(count(&c, 8989), 0);
    assert_int_equal(check(DBCC_CHECKALLOC, 0, 0, &c, &r), 0);
    assert_string_equal(find(&c, 8989)->text, "CHECKALLOC found 0 allocation errors and 0 consistency errors in database 'dc'.");
    free(c.m);
}

/* A leaf with a bad checksum: could not be processed (8928 + 8939), its
 * parent and previous page refer to it (8976), the next page misses its
 * link (8978), and the index rows of its rows match nothing (8952). Repair
 * deallocates it, rebuilds the table and its index, and counts the loss. */
static void bad_checksum_reported_and_repaired(void **state)
{
    (void)state;
    table_def *td = h_table(db, "t");
    pgid_t bad = leaf(td->idx[0].root, 3);
    int lost = slots_of(bad);
    uint8_t junk[64];
    memset(junk, 0xA5, sizeof junk);
    damage_on_disk(bad, 3000, junk, sizeof junk);
    msgs c = { 0 };
    dbcc_result r;
    check(DBCC_CHECKDB, 0, 0, &c, &r);
    assert_int_equal(count(&c, 8928), 1);
    assert_int_equal(count(&c, 8939), 1);
    assert_int_equal(count(&c, 8976), 1);
    assert_int_equal(count(&c, 8978), 1);
    assert_int_equal(count(&c, 8952), lost);
    assert_int_equal(find(&c, 8928)->page, bad);
    assert_true(strstr(find(&c, 8939)->text, "IS_OFF (BUF_IOERR") != NULL);
    assert_int_equal(r.alloc_errors, 0);
    assert_true(r.consistency_errors >= 4 + lost);
    assert_int_equal(r.repair_level, DBCC_REPAIR_ALLOW_DATA_LOSS);
    assert_non_null(find(&c, 8958));
    assert_true(strstr(find(&c, 8958)->text, "repair_allow_data_loss") != NULL);
    /* REPAIR_REBUILD loses nothing, so it leaves the lost page alone */
    check(DBCC_CHECKDB, 0, DBCC_REPAIR_REBUILD, &c, &r);
    assert_int_equal(count(&c, 7913), 0);
    assert_true(check(DBCC_CHECKDB, 0, 0, &c, &r) > 0);
    /* REPAIR_ALLOW_DATA_LOSS: consistent again, exactly the page's rows lost */
    check(DBCC_CHECKDB, 0, DBCC_REPAIR_ALLOW_DATA_LOSS, &c, &r);
    assert_int_equal(r.rows_lost, (uint64_t)lost);
    assert_int_equal(count(&c, 7913), 1);
    assert_int_equal(count(&c, 8912), 1);
    assert_int_equal(check(DBCC_CHECKDB, 0, 0, &c, &r), 0);
    assert_int_equal(h_count(in, db, h_table(db, "t")), ROWS - lost);
    free(c.m);
}

/* A page image written at another page's place: 824 "incorrect pageid",
 * reported as 8909 with the id its header holds. */
static void wrong_page_id(void **state)
{
    (void)state;
    table_def *td = h_table(db, "t");
    pgid_t a = leaf(td->idx[0].root, 2), b = leaf(td->idx[0].root, 5);
    hdb_err e;
    bp_frame *f = bp_fix(db->bp, db->df, b, BP_SHARED, 0, &e);
    uint8_t img[PAGE_SIZE];
    memcpy(img, bp_page(f), PAGE_SIZE);
    bp_unfix(f);
    page_stamp(img);   /* a good page, at the wrong place */
    damage_on_disk(a, 0, img, PAGE_SIZE);
    msgs c = { 0 };
    dbcc_result r;
    check(DBCC_CHECKDB, 0, 0, &c, &r);
    assert_int_equal(count(&c, 8928), 1);
    assert_int_equal(count(&c, 8909), 1);
    char want[64];
    snprintf(want, sizeof want, "The PageId in the page header = (1:%u)", PGID_PAGE(b));
    assert_non_null(strstr(find(&c, 8909)->text, want));
    free(c.m);
}

/* A broken next pointer: the following page misses its reference (8978). */
static void broken_sibling_link(void **state)
{
    (void)state;
    table_def *td = h_table(db, "t");
    pgid_t a = leaf(td->idx[0].root, 1), b = leaf(td->idx[0].root, 2);
    bp_frame *f;
    uint8_t *p = poke_begin(a, &f);
    pgid_t wrong = PGID(1, 3);
    memcpy(p + 48, &wrong, 8);
    bp_unfix(f);
    msgs c = { 0 };
    dbcc_result r;
    check(DBCC_CHECKDB, 0, 0, &c, &r);
    assert_int_equal(count(&c, 8978), 1);
    assert_int_equal(find(&c, 8978)->page, b);
    assert_int_equal(r.consistency_errors, 1);
    assert_int_equal(r.repair_level, DBCC_REPAIR_REBUILD);
    /* and the previous link of a page (8935) */
    p = poke_begin(b, &f);
    memcpy(p + 40, &wrong, 8);
    bp_unfix(f);
    check(DBCC_CHECKDB, 0, 0, &c, &r);
    assert_int_equal(count(&c, 8935), 1);
    /* REPAIR_REBUILD relinks by rebuilding; nothing is lost */
    check(DBCC_CHECKDB, 0, DBCC_REPAIR_REBUILD, &c, &r);
    assert_int_equal(r.rows_lost, 0);
    assert_int_equal(check(DBCC_CHECKDB, 0, 0, &c, &r), 0);
    assert_int_equal(h_count(in, db, h_table(db, "t")), ROWS);
    free(c.m);
}

/* Two records swapped in a leaf: keys out of order (2511). A key moved below
 * its parent's separator: 8933. */
static void key_order_and_bounds(void **state)
{
    (void)state;
    table_def *td = h_table(db, "t");
    pgid_t a = leaf(td->idx[0].root, 2);
    bp_frame *f;
    uint8_t *p = poke_begin(a, &f);
    uint32_t s3, s4;
    memcpy(&s3, p + PAGE_HEADER_SIZE + 3 * 4, 4);
    memcpy(&s4, p + PAGE_HEADER_SIZE + 4 * 4, 4);
    memcpy(p + PAGE_HEADER_SIZE + 3 * 4, &s4, 4);
    memcpy(p + PAGE_HEADER_SIZE + 4 * 4, &s3, 4);
    bp_unfix(f);
    msgs c = { 0 };
    dbcc_result r;
    check(DBCC_CHECKDB, 0, 0, &c, &r);
    assert_int_equal(count(&c, 2511), 1);
    assert_non_null(strstr(find(&c, 2511)->text, "slots 3 and 4"));
    /* put it back, then lower the first key of the next leaf */
    p = poke_begin(a, &f);
    memcpy(p + PAGE_HEADER_SIZE + 3 * 4, &s3, 4);
    memcpy(p + PAGE_HEADER_SIZE + 4 * 4, &s4, 4);
    bp_unfix(f);
    pgid_t b = leaf(td->idx[0].root, 4);
    p = poke_begin(b, &f);
    uint16_t off;
    memcpy(&off, p + PAGE_HEADER_SIZE, 2);
    p[off + 2 + 1] = 0x00;   /* the int key's high byte (the marker byte is first) */
    bp_unfix(f);
    check(DBCC_CHECKDB, 0, 0, &c, &r);
    assert_true(count(&c, 8933) == 1);
    assert_int_equal(find(&c, 8933)->page, b);
    free(c.m);
}

/* Allocation against use: a page in use marked free (8939 "page is
 * allocated", an allocation error), a page marked allocated that nothing uses
 * (8906), a leaf of the table nothing reaches (2533), an off-row page nothing
 * points to (8964). REPAIR_ALLOW_DATA_LOSS sets and clears the bits. */
static void allocation_against_use(void **state)
{
    (void)state;
    table_def *td = h_table(db, "t");
    pgid_t used = leaf(td->idx[0].root, 2);
    set_alloc_bit(used, 0);
    pgid_t spare = free_page();
    set_alloc_bit(spare, 1);
    msgs c = { 0 };
    dbcc_result r;
    check(DBCC_CHECKDB, 0, 0, &c, &r);
    assert_int_equal(r.alloc_errors, 2);
    assert_int_equal(count(&c, 8939), 1);
    assert_non_null(strstr(find(&c, 8939)->text, "page is allocated in the allocation map"));
    assert_int_equal(count(&c, 8906), 1);
    assert_int_equal(find(&c, 8906)->page, spare);
    /* CHECKALLOC finds them too */
    check(DBCC_CHECKALLOC, 0, 0, &c, &r);
    assert_int_equal(r.alloc_errors, 2);
    /* a leaf and an overflow page of t that nothing reaches */
    pgid_t orphan = spare, lob = PGID(1, PGID_PAGE(spare) - 1);
    set_alloc_bit(lob, 1);
    bp_frame *f;
    uint8_t *p = poke_begin(orphan, &f);
    page_format(p, orphan, PAGE_BTREE_LEAF, td->object_id, 0);
    bp_unfix(f);
    p = poke_begin(lob, &f);
    page_format(p, lob, PAGE_OVERFLOW, td->object_id, 0);
    bp_unfix(f);
    check(DBCC_CHECKDB, 0, 0, &c, &r);
    assert_int_equal(count(&c, 2533), 1);
    assert_int_equal(find(&c, 2533)->page, orphan);
    assert_int_equal(count(&c, 8964), 1);
    assert_int_equal(count(&c, 8906), 0);
    check(DBCC_CHECKDB, 0, DBCC_REPAIR_ALLOW_DATA_LOSS, &c, &r);
    assert_true(count(&c, 7910) >= 1);
    assert_true(count(&c, 7911) >= 2);
    assert_int_equal(r.rows_lost, 0);
    assert_int_equal(check(DBCC_CHECKDB, 0, 0, &c, &r), 0);
    free(c.m);
}

/* Index entries against rows: a missing one (8951 + 8955), one too many
 * (8952 + 8956); REPAIR_REBUILD rebuilds the index. */
static void index_against_table(void **state)
{
    (void)state;
    table_def *td = h_table(db, "t");
    tbl_index *x = &td->idx[1];
    hdb_err e;
    txn *t = txn_begin(in->txns, 1, "damage", "sa");
    txn_part *part = txn_join(t, &db->tdb, &e);
    /* the entry of row 10: key (val 70, id 10) -> id 10 */
    sql_value row[3] = { value_int(SQL_INT, 10), value_int(SQL_BIGINT, 70), value_null(SQL_VARCHAR) };
    uint8_t ck[TABLE_KEY_CAP], key[TABLE_KEY_CAP];
    size_t cklen, klen;
    sql_type it = { .id = SQL_INT };
    assert_int_equal(keyenc_encode(&row[0], &it, NULL, 1, ck, sizeof ck, &cklen, &e), 0);
    assert_int_equal(table_index_key(td, 1, row, ck, cklen, key, &klen, &e), 0);
    assert_int_equal(bt_delete(&x->bt, t, part, key, klen, &e), 0);
    /* and one for a row that does not exist */
    row[0] = value_int(SQL_INT, ROWS + 5);
    assert_int_equal(keyenc_encode(&row[0], &it, NULL, 1, ck, sizeof ck, &cklen, &e), 0);
    assert_int_equal(table_index_key(td, 1, row, ck, cklen, key, &klen, &e), 0);
    assert_int_equal(bt_insert(&x->bt, t, part, key, klen, ck, cklen, &e), 0);
    assert_int_equal(txn_commit(t, &e), 0);
    txn_free(t);
    msgs c = { 0 };
    dbcc_result r;
    check(DBCC_CHECKDB, 0, 0, &c, &r);
    assert_int_equal(count(&c, 8951), 1);
    assert_int_equal(count(&c, 8955), 1);
    assert_non_null(strstr(find(&c, 8955)->text, "identified by (id = 10) with index values 'val = 70'"));
    assert_int_equal(count(&c, 8952), 1);
    assert_int_equal(count(&c, 8956), 1);
    assert_int_equal(r.consistency_errors, 2);
    assert_int_equal(r.repair_level, DBCC_REPAIR_REBUILD);
    /* NOINDEX skips the comparison */
    c.n = 0;
    dbcc_opts o = { .what = DBCC_CHECKTABLE, .object_id = td->object_id, .noindex = 1, .infomsgs = 1,
                    .lock_timeout_ms = 5000, .emit = collect, .ctx = &c };
    assert_int_equal(dbcc_run(db, &o, &r, &e), 0);
    assert_int_equal(r.consistency_errors, 0);
    check(DBCC_CHECKTABLE, td->object_id, DBCC_REPAIR_REBUILD, &c, &r);
    assert_int_equal(count(&c, 7912), 1);
    assert_int_equal(r.rows_lost, 0);
    assert_int_equal(check(DBCC_CHECKDB, 0, 0, &c, &r), 0);
    free(c.m);
}

/* A broken off-row chain: the row's data record is named (8929) and the
 * chain page not seen (8965); repair drops that row only. */
static void broken_overflow_chain(void **state)
{
    (void)state;
    table_def *td = h_table(db, "t");
    /* row 50 has the off-row value; find its first chain page */
    hdb_err e;
    sql_value k = value_int(SQL_INT, 50);
    uint8_t ck[64];
    size_t cklen;
    sql_type it = { .id = SQL_INT };
    assert_int_equal(keyenc_encode(&k, &it, NULL, 1, ck, sizeof ck, &cklen, &e), 0);
    uint8_t *val;
    size_t vl;
    assert_int_equal(bt_get(&td->idx[0].bt, ck, cklen, &val, &vl, &e), 1);
    sql_value v;
    assert_int_equal(row_get_column(val, vl, td->types, 2, &v), 0);
    free(val);
    assert_true(v.flags & VALUE_F_OFFROW);
    pgid_t first = v.u.offrow.first_page;
    uint8_t junk[32];
    memset(junk, 0x3C, sizeof junk);
    damage_on_disk(first, 500, junk, sizeof junk);
    msgs c = { 0 };
    dbcc_result r;
    check(DBCC_CHECKDB, 0, 0, &c, &r);
    assert_int_equal(count(&c, 8929), 1);
    assert_int_equal(count(&c, 8965), 1);
    assert_int_equal(find(&c, 8965)->ref_page != 0, 1);
    check(DBCC_CHECKDB, 0, DBCC_REPAIR_ALLOW_DATA_LOSS, &c, &r);
    assert_int_equal(r.rows_lost, 1);
    assert_int_equal(check(DBCC_CHECKDB, 0, 0, &c, &r), 0);
    assert_int_equal(h_get(in, db, h_table(db, "t"), 50), -1);
    assert_int_equal(h_get(in, db, h_table(db, "t"), 51), 51 * 7 % 500);
    free(c.m);
}

/* An update that wrote new overflow chains and is rolled back (row 50 gets
 * a new off-row value; row 100 gets one where it had none) frees them: no
 * page is left allocated and unused (8964). The committed update of row 150
 * frees the old chain at commit. */
static void rolled_back_overflow_update_leaks_nothing(void **state)
{
    (void)state;
    table_def *td = h_table(db, "t");
    char big[12000];
    memset(big, 'n', sizeof big - 1);
    big[sizeof big - 1] = 0;
    hdb_err e;
    for (int commit = 0; commit < 2; commit++) {
        txn *t = txn_begin(in->txns, 1, "upd", "sa");
        for (int id = commit ? 150 : 50; id <= (commit ? 150 : 100); id += 50) {
            sql_value key = value_int(SQL_INT, id);
            sql_value v[3] = { key, value_int(SQL_BIGINT, 1), value_bytes(SQL_VARCHAR, big, (uint32_t)strlen(big)) };
            assert_int_equal(table_update(t, db, td, &key, v, &e), 0);
        }
        assert_int_equal(commit ? txn_commit(t, &e) : txn_rollback(t, &e), 0);
        txn_free(t);
    }
    msgs c = { 0 };
    dbcc_result r;
    assert_int_equal(check(DBCC_CHECKDB, 0, 0, &c, &r), 0);
    assert_int_equal(count(&c, 8964), 0);
    assert_int_equal(h_get(in, db, td, 50), 50 * 7 % 500);   /* rolled back */
    assert_int_equal(h_get(in, db, td, 150), 1);
    free(c.m);
}

/* CHECKTABLE looks at its table only: another damaged table does not show. */
static void checktable_scope(void **state)
{
    (void)state;
    h_create_table(in, db, "u");
    table_def *tu = h_table(db, "u");
    hdb_err e;
    txn *t = txn_begin(in->txns, 1, "load", "sa");
    for (int i = 0; i < 800; i++)
        assert_int_equal(h_insert(t, db, tu, i, i, "u padding", &e), 0);
    assert_int_equal(txn_commit(t, &e), 0);
    txn_free(t);
    table_def *td = h_table(db, "t");
    pgid_t a = leaf(td->idx[0].root, 1);
    bp_frame *f;
    uint8_t *p = poke_begin(a, &f);
    pgid_t wrong = PGID(1, 3);
    memcpy(p + 48, &wrong, 8);
    bp_unfix(f);
    msgs c = { 0 };
    dbcc_result r;
    assert_int_equal(check(DBCC_CHECKTABLE, tu->object_id, 0, &c, &r), 0);
    assert_true(check(DBCC_CHECKTABLE, td->object_id, 0, &c, &r) > 0);
    assert_non_null(find(&c, 8990));
    assert_non_null(strstr(find(&c, 8990)->text, "CHECKTABLE found 0 allocation errors and 1 consistency errors in table 't'"));
    free(c.m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(healthy_is_clean, setup, teardown),
        cmocka_unit_test_setup_teardown(bad_checksum_reported_and_repaired, setup, teardown),
        cmocka_unit_test_setup_teardown(wrong_page_id, setup, teardown),
        cmocka_unit_test_setup_teardown(broken_sibling_link, setup, teardown),
        cmocka_unit_test_setup_teardown(key_order_and_bounds, setup, teardown),
        cmocka_unit_test_setup_teardown(allocation_against_use, setup, teardown),
        cmocka_unit_test_setup_teardown(index_against_table, setup, teardown),
        cmocka_unit_test_setup_teardown(broken_overflow_chain, setup, teardown),
        cmocka_unit_test_setup_teardown(checktable_scope, setup, teardown),
        cmocka_unit_test_setup_teardown(rolled_back_overflow_update_leaks_nothing, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
