/*
 * bt_harness.h — a minimal storage stack for access-layer unit tests: one
 * database with one data file in a fresh temp directory, a buffer pool, a log,
 * the transaction layer (lock manager + txn manager whose undo callback hands
 * LR_ROW records to bt_undo of the registered trees).
 *
 *   bth h;
 *   bth_open(&h, pool_bytes);        -1 on failure (h.err says why)
 *   ... bt_create(&h.env, ...), bth_register(&h, &tree), txns via h.tm ...
 *   bth_close(&h);                   flushes, closes, removes the directory
 * Register tests with cmocka_unit_test_teardown(test, bth_teardown) so a
 * failed test leaves no temp directory behind.
 */
#ifndef TESTS_BT_HARNESS_H
#define TESTS_BT_HARNESS_H

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "access/btree.h"
#include "access/space.h"
#include "log/logmgr.h"
#include "log/mtr.h"
#include "storage/bufpool.h"
#include "storage/datafile.h"
#include "txn/lock.h"
#include "txn/txn.h"

#define BTH_MAX_TREES 16

typedef struct bth {
    char      dir[256];
    dbfiles  *df;
    bufpool  *bp;
    logmgr   *log;
    txn_db    db;
    int       db_ready;
    lock_mgr *locks;
    txn_mgr  *tm;
    bt_env    env;
    space_ctx sc;
    btree    *trees[BTH_MAX_TREES];
    int       ntrees;
    hdb_err   err;
} bth;

/* The directory of the harness opened last and not yet closed: a failing
 * cmocka assertion jumps out of the test before bth_close, so the teardown
 * (bth_teardown) removes its files. Nothing else is released then — threads
 * may still hold latches — the test has failed anyway. */
static char bth_open_dir[256];

static inline int bth_teardown(void **state)
{
    (void)state;
    if (bth_open_dir[0]) {
        DIR *d = opendir(bth_open_dir);
        if (d) {
            struct dirent *e;
            char path[512];
            while ((e = readdir(d)))
                if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
                    snprintf(path, sizeof path, "%s/%s", bth_open_dir, e->d_name);
                    unlink(path);
                }
            closedir(d);
        }
        rmdir(bth_open_dir);
        bth_open_dir[0] = 0;
    }
    return 0;
}

static inline int bth_wal(void *ctx, lsn_t lsn, hdb_err *err)
{
    return log_flush_to((logmgr *)ctx, lsn, err);
}

/* The transaction layer's undo callback: LR_ROW body = u32 undo_len, undo. */
static inline int bth_undo(void *ctx, txn *t, txn_part *p, const log_rec *rec, hdb_err *err)
{
    bth *h = ctx;
    uint32_t ul = 0;
    if (rec->body_len >= 4)
        memcpy(&ul, rec->body, 4);
    if (rec->body_len < 4 || (size_t)ul + 4 > rec->body_len)
        return hdb_raise_text(err, 40000, 16, 1, "test harness: malformed LR_ROW body");
    const uint8_t *u = rec->body + 4;
    int op;
    uint32_t obj;
    uint16_t idx;
    if (bt_undo_header(u, ul, &op, &obj, &idx) < 0)
        return hdb_raise_text(err, 40000, 16, 1, "test harness: malformed undo bytes");
    for (int i = 0; i < h->ntrees; i++)
        if (h->trees[i]->object_id == obj && h->trees[i]->index_id == idx)
            return bt_undo(h->trees[i], t, p, rec, u, ul, err);
    return hdb_raise_text(err, 40000, 16, 1, "test harness: undo for an unknown tree");
}

static inline void bth_register(bth *h, btree *bt)
{
    if (h->ntrees < BTH_MAX_TREES)
        h->trees[h->ntrees++] = bt;
}

static inline void bth_unregister(bth *h, btree *bt)
{
    for (int i = 0; i < h->ntrees; i++)
        if (h->trees[i] == bt) {
            h->trees[i] = h->trees[--h->ntrees];
            return;
        }
}

static inline void bth_rmdir(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *e;
    char path[512];
    while ((e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        unlink(path);
    }
    closedir(d);
    rmdir(dir);
}

static inline void bth_close(bth *h)
{
    hdb_err e;
    if (h->bp && h->df)
        bp_flush_db(h->bp, h->df, &e);
    if (h->tm)
        txn_mgr_destroy(h->tm);
    if (h->locks)
        lock_mgr_destroy(h->locks);
    if (h->bp)
        bp_destroy(h->bp);
    if (h->log)
        log_close(h->log);
    if (h->df)
        df_destroy(h->df);
    if (h->db_ready)
        txn_db_destroy(&h->db);
    if (h->dir[0]) {
        bth_rmdir(h->dir);
        if (!strcmp(h->dir, bth_open_dir))
            bth_open_dir[0] = 0;
    }
    memset(h, 0, sizeof *h);
}

static inline int bth_open(bth *h, size_t pool_bytes)
{
    memset(h, 0, sizeof *h);
    snprintf(h->dir, sizeof h->dir, "/tmp/hdb_bt_XXXXXX");
    if (!mkdtemp(h->dir)) {
        h->dir[0] = 0;
        return hdb_raise_text(&h->err, 40000, 16, 1, "mkdtemp failed");
    }
    snprintf(bth_open_dir, sizeof bth_open_dir, "%s", h->dir);
    h->df = df_create(1, "bttest");
    if (!h->df)
        goto fail;
    df_file_desc d;
    memset(&d, 0, sizeof d);
    d.file_id = 1;
    d.fg_id = 1;
    snprintf(d.logical_name, sizeof d.logical_name, "bttest");
    snprintf(d.path, sizeof d.path, "%s/bttest.mdf", h->dir);
    d.size_pages = 64;
    d.growth_pages = 1024;
    if (df_add_file(h->df, &d, 1, &h->err) < 0)
        goto fail;
    h->bp = bp_create(pool_bytes, &h->err);
    if (!h->bp)
        goto fail;
    char lpath[300];
    snprintf(lpath, sizeof lpath, "%s/bttest.ldf", h->dir);
    log_options lo = { .vlf_size = 4u << 20, .initial_vlfs = 4, .max_size = 0, .buffer_size = 8u << 20 };
    h->log = log_create(lpath, &lo, &h->err);
    if (!h->log)
        goto fail;
    log_set_name(h->log, "bttest");
    txn_db_init(&h->db, 1, "bttest", h->log);
    h->db_ready = 1;
    df_set_wal_hook(h->df, bth_wal, h->log);
    h->sc.bp = h->bp;
    h->sc.df = h->df;
    mtr m;
    mtr_begin(&m, h->log, 0);
    if (space_format_file(&h->sc, &m, 1, 1, &h->err) < 0) {
        mtr_abort(&m);
        goto fail;
    }
    log_rec r = { .kind = LR_PAGES };
    if (!mtr_commit(&m, &r, NULL, 0, &h->err))
        goto fail;
    h->locks = lock_mgr_create();
    h->tm = txn_mgr_create(h->locks, bth_undo, h);
    if (!h->locks || !h->tm)
        goto fail;
    h->env.bp = h->bp;
    h->env.df = h->df;
    h->env.db = &h->db;
    return 0;
fail:
    if (!h->err.number)
        hdb_raise_text(&h->err, 40000, 16, 1, "test harness setup failed");
    {
        hdb_err keep = h->err;
        bth_close(h);
        h->err = keep;
    }
    return -1;
}

/* Begin a transaction joined to the database. */
static inline txn *bth_begin(bth *h, txn_part **p)
{
    *p = NULL;
    txn *t = txn_begin(h->tm, 1, NULL, "test");
    if (!t)
        return NULL;
    *p = txn_join(t, &h->db, &h->err);
    if (!*p) {
        txn_free(t);
        return NULL;
    }
    return t;
}

static inline int bth_commit(bth *h, txn *t)
{
    int rc = txn_commit(t, &h->err);
    txn_free(t);
    return rc;
}

static inline int bth_rollback(bth *h, txn *t)
{
    int rc = txn_rollback(t, &h->err);
    txn_free(t);
    return rc;
}

static inline uint64_t bth_used_pages(bth *h)
{
    uint64_t used = 0, total = 0;
    hdb_err e;
    if (space_usage(&h->sc, 1, &used, &total, &e) < 0)
        return 0;
    return used;
}

#endif
