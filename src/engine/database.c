/* database.c — creating, opening and closing one database (see database.h). */
#include "engine/database.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine/catalog.h"
#include "engine/instance.h"
#include "storage/pageop.h"
#include "util/crc32c.h"

const char *db_state_desc(int state)
{
    static const char *const names[] = { "ONLINE", "RESTORING", "RECOVERING", "RECOVERY_PENDING",
                                         "SUSPECT", "EMERGENCY", "OFFLINE" };
    return state >= 0 && state <= DB_OFFLINE ? names[state] : "UNKNOWN";
}

/* WAL rule hook: a page is written only after the log is durable through its pageLSN. */
static int wal_flush(void *ctx, lsn_t lsn, hdb_err *err)
{
    return log_flush_to((logmgr *)ctx, lsn, err);
}

static database *db_alloc(instance *inst, bufpool *bp, uint32_t id, const char *name)
{
    database *db = calloc(1, sizeof *db);
    if (!db)
        return NULL;
    db->inst = inst;
    db->bp = bp;
    db->df = df_create(id, name);
    if (!db->df) {
        free(db);
        return NULL;
    }
    txn_db_init(&db->tdb, id, name, NULL);
    pthread_mutex_init(&db->boot_mu, NULL);
    pthread_mutex_init(&db->cat_mu, NULL);
    pthread_mutex_init(&db->ckpt_mu, NULL);
    db->env.bp = bp;
    db->env.df = db->df;
    db->env.db = &db->tdb;
    db->state = DB_RECOVERING;
    return db;
}

static void db_free(database *db)
{
    cat_free_cache(db);
    for (int i = 1; i < SYSOBJ_COUNT; i++)
        if (db->sys[i].root)
            bt_close(&db->sys[i]);
    if (db->df)
        df_destroy(db->df);
    txn_db_destroy(&db->tdb);
    pthread_mutex_destroy(&db->boot_mu);
    pthread_mutex_destroy(&db->cat_mu);
    pthread_mutex_destroy(&db->ckpt_mu);
    free(db);
}

static log_options log_opts(const db_create_spec *spec, instance *inst)
{
    log_options o = { 0 };
    o.vlf_size = spec && spec->vlf_size ? spec->vlf_size : (inst && inst->opt.vlf_size ? inst->opt.vlf_size : 4u << 20);
    o.initial_vlfs = spec && spec->initial_vlfs ? spec->initial_vlfs : (inst && inst->opt.initial_vlfs ? inst->opt.initial_vlfs : 4);
    o.max_size = spec ? spec->log_max_size : 0;
    o.buffer_size = 8u << 20;
    return o;
}

static int attach_log(database *db, logmgr *log)
{
    db->tdb.log = log;
    log_set_name(log, db->tdb.name);
    df_set_wal_hook(db->df, wal_flush, log);
    return 0;
}

/* Redo-only system change with one mtr. */
static lsn_t commit_system(mtr *m, hdb_err *err)
{
    log_rec r = { .kind = LR_PAGES };
    return mtr_commit(m, &r, NULL, 0, err);
}

int db_write_boot(database *db, hdb_err *err)
{
    bp_frame *f = bp_fix(db->bp, db->df, SPACE_BOOT_PAGE, BP_EXCL, 0, err);
    if (!f)
        return -1;
    mtr m;
    mtr_begin(&m, db->tdb.log, db->tdb.fpw_lsn);
    uint8_t op[sizeof(boot_info) + 16];
    size_t n = pageop_setbytes(op, sizeof op, PAGE_HEADER_SIZE, &db->boot, sizeof db->boot);
    int rc = -1;
    if (mtr_add(&m, f, op, n, err) == 0 && commit_system(&m, err))
        rc = 0;
    else
        mtr_abort(&m);
    bp_unfix(f);
    return rc;
}

uint32_t db_next_object_id(database *db, hdb_err *err)
{
    pthread_mutex_lock(&db->boot_mu);
    uint32_t id = db->boot.next_object_id++;
    if (db_write_boot(db, err) < 0) {
        db->boot.next_object_id--;
        id = 0;
    }
    pthread_mutex_unlock(&db->boot_mu);
    return id;
}

static void random_guid(uint8_t g[16])
{
    FILE *f = fopen("/dev/urandom", "rb");
    if (!f || fread(g, 1, 16, f) != 16) {
        uint64_t t = (uint64_t)txn_now_us();
        memcpy(g, &t, 8);
        uint32_t c = crc32c(0, &t, 8);
        memcpy(g + 8, &c, 4);
    }
    if (f)
        fclose(f);
}

database *db_create(instance *inst, bufpool *bp, const db_create_spec *spec, hdb_err *err)
{
    database *db = db_alloc(inst, bp, spec->db_id, spec->name);
    if (!db) {
        hdb_raise_text(err, 701, 19, 1, "There is insufficient system memory to run this query.");
        return NULL;
    }
    snprintf(db->log_path, sizeof db->log_path, "%s", spec->log.path);
    df_file_desc d = { .file_id = 1, .fg_id = 1 };
    snprintf(d.logical_name, sizeof d.logical_name, "%s", spec->data.logical_name);
    snprintf(d.path, sizeof d.path, "%s", spec->data.path);
    d.size_pages = spec->data.size_pages ? spec->data.size_pages : 1024;
    d.growth_pages = spec->data.growth_pages ? spec->data.growth_pages : 1024;
    d.max_pages = spec->data.max_pages;
    df_set_filegroup_name(db->df, 1, "PRIMARY");
    if (df_add_file(db->df, &d, 1, err) < 0) {
        db_free(db);
        return NULL;
    }
    log_options lo = log_opts(spec, inst);
    logmgr *log = log_create(spec->log.path, &lo, err);
    if (!log) {
        unlink(d.path);
        db_free(db);
        return NULL;
    }
    attach_log(db, log);

    /* file header + first allocation bitmap, then the boot page */
    space_ctx sc = { bp, db->df };
    mtr m;
    mtr_begin(&m, log, 0);
    if (space_format_file(&sc, &m, 1, 1, err) < 0 || !commit_system(&m, err))
        goto fail_abort;
    bp_frame *bf = bp_fix(bp, db->df, SPACE_BOOT_PAGE, BP_EXCL, BP_NOREAD, err);
    if (!bf)
        goto fail;
    memset(&db->boot, 0, sizeof db->boot);
    db->boot.magic = BOOT_MAGIC;
    db->boot.version = BOOT_VERSION;
    db->boot.db_id = spec->db_id;
    db->boot.next_object_id = FIRST_USER_OBJECT_ID;
    snprintf(db->boot.name, sizeof db->boot.name, "%s", spec->name);
    random_guid(db->boot.guid);
    db->boot.create_time_us = (uint64_t)txn_now_us();
    db->boot.recovery_model = RECOVERY_FULL;
    db->boot.page_verify = 1;
    mtr_begin(&m, log, 0);
    uint8_t op[sizeof(boot_info) + 16];
    size_t n = pageop_format(op, sizeof op, PAGE_BOOT, 0, 0);
    int ok = mtr_add(&m, bf, op, n, err) == 0;
    n = pageop_setbytes(op, sizeof op, PAGE_HEADER_SIZE, &db->boot, sizeof db->boot);
    ok = ok && mtr_add(&m, bf, op, n, err) == 0 && commit_system(&m, err);
    if (!ok)
        mtr_abort(&m);
    bp_unfix(bf);
    if (!ok)
        goto fail;
    if (cat_bootstrap(db, err) < 0)
        goto fail;
    db->state = DB_ONLINE;
    if (db_checkpoint(db, err) < 0)
        goto fail;
    return db;

fail_abort:
    mtr_abort(&m);
fail:
    bp_discard_db(bp, db->df);
    log_close_abandon(log);
    unlink(spec->log.path);
    unlink(d.path);
    db_free(db);
    return NULL;
}

database *db_open(instance *inst, bufpool *bp, uint32_t db_id, const char *name,
                  const char *data_path, const char *log_path, hdb_err *err)
{
    database *db = db_alloc(inst, bp, db_id, name);
    if (!db) {
        hdb_raise_text(err, 701, 19, 1, "There is insufficient system memory to run this query.");
        return NULL;
    }
    snprintf(db->log_path, sizeof db->log_path, "%s", log_path);
    df_file_desc d = { .file_id = 1, .fg_id = 1, .growth_pages = 1024 };
    snprintf(d.logical_name, sizeof d.logical_name, "%s", name);
    snprintf(d.path, sizeof d.path, "%s", data_path);
    df_set_filegroup_name(db->df, 1, "PRIMARY");
    if (df_add_file(db->df, &d, 0, err) < 0) {
        db_free(db);
        return NULL;
    }
    log_options lo = log_opts(NULL, inst);
    logmgr *log = log_open(log_path, &lo, err);
    if (!log) {
        db_free(db);
        return NULL;
    }
    attach_log(db, log);
    return db;
}

int db_load_boot(database *db, hdb_err *err)
{
    bp_frame *f = bp_fix(db->bp, db->df, SPACE_BOOT_PAGE, BP_SHARED, 0, err);
    if (!f)
        return -1;
    memcpy(&db->boot, (uint8_t *)bp_page(f) + PAGE_HEADER_SIZE, sizeof db->boot);
    bp_unfix(f);
    if (db->boot.magic != BOOT_MAGIC || db->boot.version != BOOT_VERSION)
        return hdb_raise_text(err, 5172, 16, 1, "The header for the database file is not a valid database file header.");
    df_set_page_verify(db->df, db->boot.page_verify);
    cat_open_system(db);
    return 0;
}

void db_close(database *db, int clean)
{
    if (!db)
        return;
    if (clean && db->state == DB_ONLINE) {
        hdb_err e;
        db_checkpoint(db, &e);
    }
    bp_discard_db(db->bp, db->df);
    if (db->tdb.log) {
        if (clean)
            log_close(db->tdb.log);
        else
            log_close_abandon(db->tdb.log);
    }
    db_free(db);
}
