/* Key-range locking: SERIALIZABLE scans and lookups lock the gaps they read,
 * so inserts and deletes that would make a phantom wait (or time out with
 * 1222); READ COMMITTED and REPEATABLE READ take no range locks. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <pthread.h>
#include <stdatomic.h>
#include <time.h>

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
    h_remove_dir();
    return 0;
}

static void sleep_ms(int ms)
{
    struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
    nanosleep(&ts, NULL);
}

/* A table t(id int pk, val bigint, pad varchar(max)) holding `keys`. */
static table_def *make_table(instance *in, database *db, const char *name, const int *keys, int n)
{
    hdb_err e;
    h_create_table(in, db, name);
    table_def *td = h_table(db, name);
    txn *t = txn_begin(in->txns, 1, "load", "sa");
    for (int i = 0; i < n; i++)
        assert_int_equal(h_insert(t, db, td, keys[i], keys[i], NULL, &e), 0);
    assert_int_equal(txn_commit(t, &e), 0);
    txn_free(t);
    return td;
}

/* Scan ids in [lo, hi] (hi < 0: to the end) at isolation iso; the ids go to
 * out. Returns the count, or -1 with *errnum. */
static int scan_ids(txn *t, database *db, table_def *td, int iso, int lo, int hi, int *out, int *errnum)
{
    hdb_err e;
    hdb_err_clear(&e);
    sql_value lv = value_int(SQL_INT, lo), hv = value_int(SQL_INT, hi);
    table_bound lb = { &lv, 1, 1 }, hb = { &hv, 1, 1 };
    table_scan *s = table_scan_open_range(t, db, td, iso, &lb, hi < 0 ? NULL : &hb, &e);
    if (!s) {
        *errnum = e.number;
        return -1;
    }
    table_row r;
    int n = 0, k;
    while ((k = table_scan_next(s, &r, &e)) == 1)
        out[n++] = (int)r.vals[0].u.i;
    table_scan_close(s);
    if (k < 0) {
        *errnum = e.number;
        return -1;
    }
    return n;
}

/* Insert id in a transaction of its own with LOCK_TIMEOUT timeout_ms, then
 * roll it back: 0 if the insert went through, else its error number. */
static int try_insert(instance *in, database *db, table_def *td, int id, int timeout_ms)
{
    hdb_err e;
    hdb_err_clear(&e);
    txn *t = txn_begin(in->txns, 7, "ins", "sa");
    t->lock_timeout_ms = timeout_ms;
    int rc = h_insert(t, db, td, id, id, NULL, &e);
    hdb_err ig;
    txn_rollback(t, &ig);
    txn_free(t);
    return rc == 0 ? 0 : e.number;
}

static int try_delete(instance *in, database *db, table_def *td, int id, int timeout_ms)
{
    hdb_err e;
    hdb_err_clear(&e);
    txn *t = txn_begin(in->txns, 8, "del", "sa");
    t->lock_timeout_ms = timeout_ms;
    sql_value key = value_int(SQL_INT, id);
    int rc = table_delete(t, db, td, &key, &e);
    hdb_err ig;
    txn_rollback(t, &ig);
    txn_free(t);
    return rc == 0 ? 0 : e.number;
}

static int try_update(instance *in, database *db, table_def *td, int id, int timeout_ms)
{
    hdb_err e;
    hdb_err_clear(&e);
    txn *t = txn_begin(in->txns, 9, "upd", "sa");
    t->lock_timeout_ms = timeout_ms;
    int rc = h_update(t, db, td, id, 1000 + id, &e);
    hdb_err ig;
    txn_rollback(t, &ig);
    txn_free(t);
    return rc == 0 ? 0 : e.number;
}

/* Granted locks of the instance by mode. */
struct mode_counts { int n[LOCK_MODE_COUNT]; int keys_ranged; };

static void count_mode(void *ctx, const lock_res *res, lock_mode mode, int granted, const lock_owner *o)
{
    (void)o;
    struct mode_counts *c = ctx;
    if (!granted)
        return;
    c->n[mode]++;
    if (mode >= LOCK_RANGE_S_S && res->kind == LOCK_RES_KEY)
        c->keys_ranged++;
}

static struct mode_counts lock_counts(instance *in)
{
    struct mode_counts c;
    memset(&c, 0, sizeof c);
    lock_mgr_foreach(in->locks, count_mode, &c);
    return c;
}

/* ---- a background operation that may block ---- */

struct bg {
    instance *in;
    database *db;
    table_def *td;
    int op;              /* 'i' insert, 'd' delete, 's' serializable scan [lo, hi] */
    int id, lo, hi;
    int timeout_ms;
    int commit;          /* insert/delete: commit instead of rolling back */
    int rc, errnum, rows;
    int ids[64];
    atomic_int done;
    pthread_t th;
};

static void *bg_main(void *arg)
{
    struct bg *b = arg;
    hdb_err e;
    hdb_err_clear(&e);
    txn *t = txn_begin(b->in->txns, 20, "bg", "sa");
    t->lock_timeout_ms = b->timeout_ms;
    if (b->op == 'i') {
        b->rc = h_insert(t, b->db, b->td, b->id, b->id, NULL, &e);
    } else if (b->op == 'd') {
        sql_value key = value_int(SQL_INT, b->id);
        b->rc = table_delete(t, b->db, b->td, &key, &e);
    } else {
        b->rows = scan_ids(t, b->db, b->td, ISO_SERIALIZABLE, b->lo, b->hi, b->ids, &b->errnum);
        b->rc = b->rows < 0 ? -1 : 0;
    }
    if (b->op != 's')
        b->errnum = b->rc ? e.number : 0;
    hdb_err ig;
    if (b->rc == 0 && b->commit)
        txn_commit(t, &ig);
    else
        txn_rollback(t, &ig);
    txn_free(t);
    atomic_store(&b->done, 1);
    return NULL;
}

static void bg_start(struct bg *b, instance *in, database *db, table_def *td, int op, int id, int commit)
{
    memset(b, 0, sizeof *b);
    b->in = in;
    b->db = db;
    b->td = td;
    b->op = op;
    b->id = id;
    b->commit = commit;
    b->timeout_ms = LOCK_WAIT_FOREVER;
    atomic_init(&b->done, 0);
    assert_int_equal(pthread_create(&b->th, NULL, bg_main, b), 0);
}

static void bg_scan(struct bg *b, instance *in, database *db, table_def *td, int lo, int hi)
{
    memset(b, 0, sizeof *b);
    b->in = in;
    b->db = db;
    b->td = td;
    b->op = 's';
    b->lo = lo;
    b->hi = hi;
    b->timeout_ms = LOCK_WAIT_FOREVER;
    atomic_init(&b->done, 0);
    assert_int_equal(pthread_create(&b->th, NULL, bg_main, b), 0);
}

static void commit_free(txn *t)
{
    hdb_err e;
    assert_int_equal(txn_commit(t, &e), 0);
    txn_free(t);
}

/* ---- tests ---- */

static const int base_keys[] = { 0, 5, 10, 12, 18, 20, 30, 40 };
#define NBASE ((int)(sizeof base_keys / sizeof base_keys[0]))

/* T1 reads 10..20 SERIALIZABLE: the keys read and the gaps below them are
 * locked, and so is the gap up to the next key (30). */
static void serializable_scan_blocks_inserts_in_range(void **state)
{
    (void)state;
    hdb_err e;
    instance *in = h_open(8);
    database *db = inst_create_database(in, "kr", &e);
    table_def *td = make_table(in, db, "t", base_keys, NBASE);

    txn *t1 = txn_begin(in->txns, 1, "t1", "sa");
    int ids[16], err = 0;
    assert_int_equal(scan_ids(t1, db, td, ISO_SERIALIZABLE, 10, 20, ids, &err), 4);
    assert_int_equal(ids[0], 10);
    assert_int_equal(ids[3], 20);
    struct mode_counts c = lock_counts(in);
    assert_int_equal(c.n[LOCK_RANGE_S_S], 5);      /* 10 12 18 20 and 30 */
    assert_int_equal(c.keys_ranged, 5);

    assert_int_equal(try_insert(in, db, td, 15, 100), 1222);   /* inside */
    assert_int_equal(try_insert(in, db, td, 25, 100), 1222);   /* (20, 30): next-key lock */
    assert_int_equal(try_insert(in, db, td, 7, 100), 1222);    /* (5, 10): the gap below 10 */
    assert_int_equal(try_insert(in, db, td, 35, 100), 0);      /* (30, 40): free */
    assert_int_equal(try_insert(in, db, td, 3, 100), 0);       /* (0, 5): free */
    assert_int_equal(try_insert(in, db, td, 50, 100), 0);      /* past the end */
    /* the keys read cannot change; others can */
    assert_int_equal(try_update(in, db, td, 12, 100), 1222);
    assert_int_equal(try_update(in, db, td, 30, 100), 1222);   /* RangeS-S locks key 30 too */
    assert_int_equal(try_update(in, db, td, 40, 100), 0);
    assert_int_equal(try_delete(in, db, td, 18, 100), 1222);
    assert_int_equal(try_delete(in, db, td, 0, 100), 0);
    /* deleting 5 would merge (0, 5) into the gap below 10, which the deleter
     * must then lock against later readers: it waits for T1 (SQL Server's
     * ghost records let it go on; see engine/README.md) */
    assert_int_equal(try_delete(in, db, td, 5, 100), 1222);

    /* the transaction itself may insert into its range */
    assert_int_equal(h_insert(t1, db, td, 16, 16, NULL, &e), 0);

    /* a waiting insert goes through once T1 commits; T1's re-read first
     * sees exactly what it saw (plus its own row) */
    struct bg b;
    bg_start(&b, in, db, td, 'i', 15, 1);
    sleep_ms(150);
    assert_int_equal(atomic_load(&b.done), 0);
    assert_int_equal(scan_ids(t1, db, td, ISO_SERIALIZABLE, 10, 20, ids, &err), 5);
    assert_int_equal(ids[2], 16);
    commit_free(t1);
    pthread_join(b.th, NULL);
    assert_int_equal(b.rc, 0);
    assert_int_equal(h_get(in, db, td, 15), 15);
    assert_int_equal(lock_counts(in).keys_ranged, 0);
    inst_close(in, 1);
}

/* An empty range locks its gap (the next key); a range reaching the end of
 * the index locks the end-of-index resource. */
static void empty_range_and_end_of_index(void **state)
{
    (void)state;
    hdb_err e;
    instance *in = h_open(8);
    database *db = inst_create_database(in, "kr", &e);
    static const int keys[] = { 10, 20 };
    table_def *td = make_table(in, db, "t", keys, 2);

    txn *t1 = txn_begin(in->txns, 1, "t1", "sa");
    int ids[16], err = 0;
    assert_int_equal(scan_ids(t1, db, td, ISO_SERIALIZABLE, 12, 18, ids, &err), 0);
    assert_int_equal(lock_counts(in).n[LOCK_RANGE_S_S], 1);     /* key 20 */
    assert_int_equal(try_insert(in, db, td, 15, 100), 1222);
    assert_int_equal(try_insert(in, db, td, 11, 100), 1222);    /* (10, 20) is one gap */
    assert_int_equal(try_insert(in, db, td, 5, 100), 0);
    assert_int_equal(try_insert(in, db, td, 25, 100), 0);
    commit_free(t1);

    t1 = txn_begin(in->txns, 1, "t1", "sa");
    assert_int_equal(scan_ids(t1, db, td, ISO_SERIALIZABLE, 15, -1, ids, &err), 1);
    assert_int_equal(ids[0], 20);
    assert_int_equal(lock_counts(in).n[LOCK_RANGE_S_S], 2);     /* 20 and the end */
    assert_int_equal(try_insert(in, db, td, 1000, 100), 1222);
    assert_int_equal(try_insert(in, db, td, 21, 100), 1222);
    assert_int_equal(try_insert(in, db, td, 12, 100), 1222);
    assert_int_equal(try_insert(in, db, td, 5, 100), 0);
    commit_free(t1);

    /* a full scan of an empty table locks just the end of the index */
    h_create_table(in, db, "empty");
    table_def *te = h_table(db, "empty");
    t1 = txn_begin(in->txns, 1, "t1", "sa");
    table_scan *s = table_scan_open(t1, db, te, ISO_SERIALIZABLE, &e);
    table_row r;
    assert_non_null(s);
    assert_int_equal(table_scan_next(s, &r, &e), 0);
    table_scan_close(s);
    assert_int_equal(lock_counts(in).n[LOCK_RANGE_S_S], 1);
    assert_int_equal(try_insert(in, db, te, 1, 100), 1222);
    commit_free(t1);
    assert_int_equal(try_insert(in, db, te, 1, 100), 0);
    inst_close(in, 1);
}

/* A lookup that finds its key needs only the key's lock; one that finds
 * nothing locks the gap where the key would go. */
static void point_lookups(void **state)
{
    (void)state;
    hdb_err e;
    instance *in = h_open(8);
    database *db = inst_create_database(in, "kr", &e);
    static const int keys[] = { 10, 20, 30 };
    table_def *td = make_table(in, db, "t", keys, 3);

    txn *t1 = txn_begin(in->txns, 1, "t1", "sa");
    sql_value key = value_int(SQL_INT, 20);
    table_row r;
    assert_int_equal(table_get(t1, db, td, &key, ISO_SERIALIZABLE, &r, &e), 1);
    table_row_free(&r);
    struct mode_counts c = lock_counts(in);
    assert_int_equal(c.keys_ranged, 0);
    assert_int_equal(c.n[LOCK_S], 1);
    assert_int_equal(try_insert(in, db, td, 15, 100), 0);
    assert_int_equal(try_insert(in, db, td, 25, 100), 0);
    assert_int_equal(try_update(in, db, td, 20, 100), 1222);

    key = value_int(SQL_INT, 25);
    assert_int_equal(table_get(t1, db, td, &key, ISO_SERIALIZABLE, &r, &e), 0);
    assert_int_equal(lock_counts(in).n[LOCK_RANGE_S_S], 1);      /* key 30 */
    assert_int_equal(try_insert(in, db, td, 25, 100), 1222);
    assert_int_equal(try_insert(in, db, td, 22, 100), 1222);
    assert_int_equal(try_insert(in, db, td, 35, 100), 0);
    key = value_int(SQL_INT, 99);
    assert_int_equal(table_get(t1, db, td, &key, ISO_SERIALIZABLE, &r, &e), 0);
    assert_int_equal(try_insert(in, db, td, 99, 100), 1222);      /* end of index */
    /* T1 deletes 30, the key whose range lock covers its empty lookup of 25:
     * the merged gap (20, end) stays closed to others */
    key = value_int(SQL_INT, 30);
    assert_int_equal(table_delete(t1, db, td, &key, &e), 0);
    assert_int_equal(try_insert(in, db, td, 25, 100), 1222);
    assert_int_equal(try_insert(in, db, td, 31, 100), 1222);
    key = value_int(SQL_INT, 25);
    assert_int_equal(table_get(t1, db, td, &key, ISO_SERIALIZABLE, &r, &e), 0);
    commit_free(t1);
    assert_int_equal(try_insert(in, db, td, 25, 100), 0);

    /* the same when the next key is not at the end */
    static const int more[] = { 50, 60 };
    txn *t = txn_begin(in->txns, 1, "load", "sa");
    for (int i = 0; i < 2; i++)
        assert_int_equal(h_insert(t, db, td, more[i], more[i], NULL, &e), 0);
    commit_free(t);
    t1 = txn_begin(in->txns, 1, "t1", "sa");
    key = value_int(SQL_INT, 45);
    assert_int_equal(table_get(t1, db, td, &key, ISO_SERIALIZABLE, &r, &e), 0);   /* locks 50 */
    key = value_int(SQL_INT, 50);
    assert_int_equal(table_delete(t1, db, td, &key, &e), 0);
    assert_int_equal(try_insert(in, db, td, 45, 100), 1222);
    assert_int_equal(try_insert(in, db, td, 55, 100), 1222);
    assert_int_equal(try_insert(in, db, td, 65, 100), 0);
    commit_free(t1);
    inst_close(in, 1);
}

/* Deletes: a delete of a key a range reader covered waits; an uncommitted
 * delete makes a later range reader wait (the key is gone, but the deleter
 * keeps the gap), and a rollback gives the reader the row back. */
static void deletes_and_range_readers(void **state)
{
    (void)state;
    hdb_err e;
    instance *in = h_open(8);
    database *db = inst_create_database(in, "kr", &e);
    table_def *td = make_table(in, db, "t", base_keys, NBASE);

    /* reader first */
    txn *t1 = txn_begin(in->txns, 1, "t1", "sa");
    int ids[16], err = 0;
    assert_int_equal(scan_ids(t1, db, td, ISO_SERIALIZABLE, 10, 20, ids, &err), 4);
    assert_int_equal(try_delete(in, db, td, 12, 100), 1222);
    assert_int_equal(try_delete(in, db, td, 30, 100), 1222);
    assert_int_equal(try_delete(in, db, td, 40, 100), 0);
    commit_free(t1);

    /* deleter first, then rolled back: the reader waits and sees 12 */
    txn *d = txn_begin(in->txns, 2, "d", "sa");
    sql_value key = value_int(SQL_INT, 12);
    assert_int_equal(table_delete(d, db, td, &key, &e), 0);
    struct mode_counts c = lock_counts(in);
    assert_int_equal(c.n[LOCK_RANGE_X_X], 1);   /* 12 */
    assert_int_equal(c.n[LOCK_RANGE_X_N], 1);   /* 18: the gap 12 leaves behind */
    struct bg b;
    bg_scan(&b, in, db, td, 10, 20);
    sleep_ms(150);
    assert_int_equal(atomic_load(&b.done), 0);
    /* READ COMMITTED readers and other writers outside the gap go on */
    assert_int_equal(try_insert(in, db, td, 25, 100), 0);
    assert_int_equal(try_update(in, db, td, 20, 100), 0);
    hdb_err ig;
    txn_rollback(d, &ig);
    txn_free(d);
    pthread_join(b.th, NULL);
    assert_int_equal(b.rc, 0);
    assert_int_equal(b.rows, 4);
    assert_int_equal(b.ids[1], 12);

    /* deleter first, committed: the reader waits, then does not see 12 */
    d = txn_begin(in->txns, 2, "d", "sa");
    assert_int_equal(table_delete(d, db, td, &key, &e), 0);
    bg_scan(&b, in, db, td, 10, 20);
    sleep_ms(150);
    assert_int_equal(atomic_load(&b.done), 0);
    commit_free(d);
    pthread_join(b.th, NULL);
    assert_int_equal(b.rows, 3);

    /* While a delete is pending, the gap it merged keeps its shape: deleting
     * the key after it waits (else that gap would lose its lock when the
     * second delete commits), and so does an insert into it (a rollback of
     * the delete would put the key back below the new one, outside the gap
     * the lock covers). Row locks on the next key are not affected. */
    d = txn_begin(in->txns, 2, "d", "sa");
    key = value_int(SQL_INT, 10);
    assert_int_equal(table_delete(d, db, td, &key, &e), 0);
    assert_int_equal(try_delete(in, db, td, 18, 100), 1222);
    assert_int_equal(try_insert(in, db, td, 11, 100), 1222);
    assert_int_equal(try_insert(in, db, td, 17, 100), 1222);
    assert_int_equal(try_update(in, db, td, 18, 100), 0);
    assert_int_equal(try_delete(in, db, td, 20, 100), 0);
    assert_int_equal(try_insert(in, db, td, 19, 100), 0);
    txn_rollback(d, &ig);
    txn_free(d);

    /* a delete whose next key is someone's uncommitted insert waits for it:
     * rolling the insert back would take the delete's gap lock away */
    txn *ins = txn_begin(in->txns, 3, "ins", "sa");
    assert_int_equal(h_insert(ins, db, td, 19, 19, NULL, &e), 0);
    assert_int_equal(lock_counts(in).n[LOCK_RANGE_I_X], 1);
    assert_int_equal(try_delete(in, db, td, 18, 100), 1222);
    assert_int_equal(try_insert(in, db, td, 17, 100), 0);    /* inserts below it go on */
    assert_int_equal(try_update(in, db, td, 18, 100), 0);
    txn_rollback(ins, &ig);
    txn_free(ins);
    assert_int_equal(try_delete(in, db, td, 18, 100), 0);
    inst_close(in, 1);
}

/* READ COMMITTED and REPEATABLE READ take no range locks: inserts into what
 * they read never wait for them. */
static void weaker_levels_take_no_range_locks(void **state)
{
    (void)state;
    hdb_err e;
    instance *in = h_open(8);
    database *db = inst_create_database(in, "kr", &e);
    table_def *td = make_table(in, db, "t", base_keys, NBASE);
    int ids[16], err = 0;
    txn *t1 = txn_begin(in->txns, 1, "t1", "sa");
    assert_int_equal(scan_ids(t1, db, td, ISO_READ_COMMITTED, 10, 20, ids, &err), 4);
    assert_int_equal(lock_counts(in).n[LOCK_S], 0);
    assert_int_equal(try_insert(in, db, td, 15, 100), 0);
    table_scan *s = table_scan_open(t1, db, td, ISO_READ_COMMITTED, &e);
    table_row r;
    while (table_scan_next(s, &r, &e) == 1)
        ;
    table_scan_close(s);
    assert_int_equal(try_insert(in, db, td, 1000, 100), 0);
    sql_value key = value_int(SQL_INT, 15);
    assert_int_equal(table_get(t1, db, td, &key, ISO_READ_COMMITTED, &r, &e), 0);
    assert_int_equal(try_insert(in, db, td, 15, 100), 0);

    assert_int_equal(scan_ids(t1, db, td, ISO_REPEATABLE_READ, 10, 20, ids, &err), 4);
    struct mode_counts c = lock_counts(in);
    assert_int_equal(c.n[LOCK_S], 4);
    assert_int_equal(c.keys_ranged, 0);
    assert_int_equal(try_insert(in, db, td, 15, 100), 0);
    assert_int_equal(try_update(in, db, td, 12, 100), 1222);
    commit_free(t1);
    inst_close(in, 1);
}

/* Heaps have no key order: a SERIALIZABLE read holds S on the table. */
static void serializable_heap_scan_locks_the_table(void **state)
{
    (void)state;
    hdb_err e;
    instance *in = h_open(8);
    database *db = inst_create_database(in, "kr", &e);
    tbl_column col[1] = { { .name = "v", .type = { .id = SQL_INT }, .nullable = 1 } };
    table_spec spec = { .schema_id = SCHEMA_DBO, .name = "h", .ncols = 1, .cols = col };
    txn *t = txn_begin(in->txns, 1, "x", "sa");
    assert_int_equal(cat_create_table(t, db, &spec, NULL, &e), 0);
    table_def *td = h_table(db, "h");
    for (int i = 0; i < 5; i++) {
        sql_value v = value_int(SQL_INT, i);
        assert_int_equal(table_insert(t, db, td, &v, &e), 0);
    }
    commit_free(t);

    txn *t1 = txn_begin(in->txns, 1, "t1", "sa");
    table_scan *s = table_scan_open(t1, db, td, ISO_SERIALIZABLE, &e);
    assert_non_null(s);
    table_row r;
    int n = 0;
    while (table_scan_next(s, &r, &e) == 1)
        n++;
    table_scan_close(s);
    assert_int_equal(n, 5);
    struct mode_counts c = lock_counts(in);
    assert_int_equal(c.n[LOCK_S], 1);          /* the table, no row locks */

    txn *t2 = txn_begin(in->txns, 2, "t2", "sa");
    t2->lock_timeout_ms = 100;
    sql_value v = value_int(SQL_INT, 9);
    assert_int_equal(table_insert(t2, db, td, &v, &e), -1);
    assert_int_equal(e.number, 1222);
    /* readers are welcome */
    s = table_scan_open(t2, db, td, ISO_READ_COMMITTED, &e);
    n = 0;
    while (table_scan_next(s, &r, &e) == 1)
        n++;
    table_scan_close(s);
    assert_int_equal(n, 5);
    commit_free(t1);
    assert_int_equal(table_insert(t2, db, td, &v, &e), 0);
    commit_free(t2);
    inst_close(in, 1);
}

/* Two SERIALIZABLE transactions, each inserting into the range the other
 * read: a deadlock, found and broken (1205). */
struct dl {
    instance *in;
    database *db;
    table_def *td;
    int lo, hi, ins;
    int rc, errnum;
    pthread_barrier_t *bar;
};

static void *dl_main(void *arg)
{
    struct dl *d = arg;
    hdb_err e;
    hdb_err_clear(&e);
    txn *t = txn_begin(d->in->txns, 30 + d->lo, "dl", "sa");
    t->lock_timeout_ms = 20000;
    int ids[16];
    d->rc = scan_ids(t, d->db, d->td, ISO_SERIALIZABLE, d->lo, d->hi, ids, &d->errnum) < 0 ? -1 : 0;
    pthread_barrier_wait(d->bar);
    if (d->rc == 0) {
        d->rc = h_insert(t, d->db, d->td, d->ins, d->ins, NULL, &e);
        d->errnum = d->rc ? e.number : 0;
    }
    hdb_err ig;
    if (d->rc == 0)
        txn_commit(t, &ig);
    else
        txn_rollback(t, &ig);
    txn_free(t);
    return NULL;
}

static void range_deadlock_is_detected(void **state)
{
    (void)state;
    hdb_err e;
    instance *in = h_open(8);
    database *db = inst_create_database(in, "kr", &e);
    table_def *td = make_table(in, db, "t", base_keys, NBASE);
    pthread_barrier_t bar;
    pthread_barrier_init(&bar, NULL, 2);
    struct dl a = { in, db, td, 10, 12, 35, 0, 0, &bar }, b = { in, db, td, 35, 40, 11, 0, 0, &bar };
    pthread_t ta, tb;
    pthread_create(&ta, NULL, dl_main, &a);
    pthread_create(&tb, NULL, dl_main, &b);
    pthread_join(ta, NULL);
    pthread_join(tb, NULL);
    pthread_barrier_destroy(&bar);
    assert_true((a.rc == 0) != (b.rc == 0));
    assert_int_equal(a.rc ? a.errnum : b.errnum, 1205);
    /* the survivor's row is there, the victim's is not */
    assert_int_equal(h_get(in, db, td, a.rc == 0 ? 35 : 11) >= 0, 1);
    assert_int_equal(h_get(in, db, td, a.rc == 0 ? 11 : 35), -1);
    inst_close(in, 1);
}

/* Many writers and SERIALIZABLE readers at once: every reader sees the same
 * rows twice in a row (no phantoms), whatever the writers do. */
struct churn {
    instance *in;
    database *db;
    table_def *td;
    int seed;
    atomic_int *stop;
    int phantoms, reads;
};

static void *churn_writer(void *arg)
{
    struct churn *c = arg;
    unsigned s = (unsigned)c->seed;
    while (!atomic_load(c->stop)) {
        hdb_err e;
        txn *t = txn_begin(c->in->txns, 40, "w", "sa");
        t->lock_timeout_ms = 2000;
        int rc = 0;
        for (int i = 0; i < 3 && rc == 0; i++) {
            int id = (int)(rand_r(&s) % 200);
            sql_value key = value_int(SQL_INT, id);
            if (rand_r(&s) % 2) {
                hdb_err_clear(&e);
                rc = h_insert(t, c->db, c->td, id, id, NULL, &e);
                if (rc < 0 && (e.number == 2627))
                    rc = 0;
            } else {
                rc = table_delete(t, c->db, c->td, &key, &e) < 0 ? -1 : 0;
            }
        }
        hdb_err ig;
        if (rc == 0 && rand_r(&s) % 4)
            txn_commit(t, &ig);
        else
            txn_rollback(t, &ig);
        txn_free(t);
    }
    return NULL;
}

static void *churn_reader(void *arg)
{
    struct churn *c = arg;
    unsigned s = (unsigned)c->seed;
    while (!atomic_load(c->stop)) {
        txn *t = txn_begin(c->in->txns, 50, "r", "sa");
        t->lock_timeout_ms = 2000;
        int lo = (int)(rand_r(&s) % 180), hi = lo + (int)(rand_r(&s) % 30);
        int a[256], b[256], err = 0;
        int na = scan_ids(t, c->db, c->td, ISO_SERIALIZABLE, lo, hi, a, &err);
        sleep_ms(1);
        int nb = na < 0 ? -1 : scan_ids(t, c->db, c->td, ISO_SERIALIZABLE, lo, hi, b, &err);
        if (na >= 0 && nb >= 0) {
            c->reads++;
            if (na != nb || memcmp(a, b, sizeof(int) * (size_t)na) != 0)
                c->phantoms++;
        }
        hdb_err ig;
        txn_rollback(t, &ig);
        txn_free(t);
    }
    return NULL;
}

static void no_phantoms_under_churn(void **state)
{
    (void)state;
    hdb_err e;
    instance *in = h_open(16);
    database *db = inst_create_database(in, "kr", &e);
    int keys[100];
    for (int i = 0; i < 100; i++)
        keys[i] = i * 2;
    table_def *td = make_table(in, db, "t", keys, 100);
    atomic_int stop;
    atomic_init(&stop, 0);
    struct churn w[3], r[2];
    pthread_t tw[3], tr[2];
    for (int i = 0; i < 3; i++) {
        w[i] = (struct churn){ in, db, td, 100 + i, &stop, 0, 0 };
        pthread_create(&tw[i], NULL, churn_writer, &w[i]);
    }
    for (int i = 0; i < 2; i++) {
        r[i] = (struct churn){ in, db, td, 200 + i, &stop, 0, 0 };
        pthread_create(&tr[i], NULL, churn_reader, &r[i]);
    }
    sleep_ms(1500);
    atomic_store(&stop, 1);
    for (int i = 0; i < 3; i++)
        pthread_join(tw[i], NULL);
    for (int i = 0; i < 2; i++)
        pthread_join(tr[i], NULL);
    assert_int_equal(r[0].phantoms + r[1].phantoms, 0);
    assert_true(r[0].reads + r[1].reads > 0);
    assert_int_equal(lock_counts(in).keys_ranged, 0);
    bt_stats st;
    assert_int_equal(bt_check(&td->idx[0].bt, &st, &e), 0);
    inst_close(in, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(serializable_scan_blocks_inserts_in_range, setup, teardown),
        cmocka_unit_test_setup_teardown(empty_range_and_end_of_index, setup, teardown),
        cmocka_unit_test_setup_teardown(point_lookups, setup, teardown),
        cmocka_unit_test_setup_teardown(deletes_and_range_readers, setup, teardown),
        cmocka_unit_test_setup_teardown(weaker_levels_take_no_range_locks, setup, teardown),
        cmocka_unit_test_setup_teardown(serializable_heap_scan_locks_the_table, setup, teardown),
        cmocka_unit_test_setup_teardown(range_deadlock_is_detected, setup, teardown),
        cmocka_unit_test_setup_teardown(no_phantoms_under_churn, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
