/* database.c — creating, opening and closing one database (see database.h). */
#include "engine/database.h"

#include "engine/deferred.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "engine/catalog.h"
#include "engine/dcm_db.h"
#include "engine/instance.h"
#include "engine/suspect.h"
#include "os/fio.h"
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
    /* a damaged page becomes a row of msdb.dbo.suspect_pages (suspect.h) */
    df_set_suspect_hook(db->df, suspect_df_hook, inst);
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

static int write_files(database *db, hdb_err *err)
{
    bp_frame *f = bp_fix(db->bp, db->df, SPACE_BOOT_PAGE, BP_EXCL, 0, err);
    if (!f)
        return -1;
    mtr m;
    mtr_begin(&m, db->tdb.log, 0);
    uint8_t *op = malloc(sizeof(boot_files) + 16);
    int rc = -1;
    if (op) {
        size_t n = pageop_setbytes(op, sizeof(boot_files) + 16, BOOT_FILES_OFFSET, &db->files, sizeof db->files);
        if (mtr_add(&m, f, op, n, err) == 0 && commit_system(&m, err))
            rc = 0;
        else
            mtr_abort(&m);
        free(op);
    } else {
        mtr_abort(&m);
        hdb_raise_text(err, 701, 19, 1, "There is insufficient system memory to run this query.");
    }
    bp_unfix(f);
    return rc;
}

static void list_file(database *db, int slot, const df_file_desc *d)
{
    boot_file *bf = &db->files.files[slot];
    memset(bf, 0, sizeof *bf);
    bf->file_id = d->file_id;
    bf->fg_id = d->fg_id;
    bf->growth_pages = d->growth_pages;
    bf->max_pages = d->max_pages;
    snprintf(bf->logical, sizeof bf->logical, "%s", d->logical_name);
    snprintf(bf->path, sizeof bf->path, "%.256s", d->path);
}

uint16_t db_filegroup_id(database *db, const char *name)
{
    uint16_t id = 0;
    pthread_mutex_lock(&db->boot_mu);
    for (int i = 0; i < BOOT_MAX_FGS && !id; i++)
        if (db->files.fgs[i].fg_id && strcasecmp(db->files.fgs[i].name, name) == 0)
            id = db->files.fgs[i].fg_id;
    pthread_mutex_unlock(&db->boot_mu);
    return id;
}

int db_file_by_name(database *db, const char *logical, boot_file *out)
{
    int id = 0;
    pthread_mutex_lock(&db->boot_mu);
    for (int i = 0; i < BOOT_MAX_FILES && !id; i++) {
        const boot_file *bf = &db->files.files[i];
        if (bf->file_id && strcasecmp(bf->logical, logical) == 0) {
            id = bf->file_id;
            if (out)
                *out = *bf;
        }
    }
    pthread_mutex_unlock(&db->boot_mu);
    return id;
}

int db_set_file_state(database *db, uint16_t file_id, int state, hdb_err *err)
{
    pthread_mutex_lock(&db->boot_mu);
    int rc = -1;
    for (int i = 0; i < BOOT_MAX_FILES; i++) {
        boot_file *bf = &db->files.files[i];
        if (bf->file_id != file_id)
            continue;
        uint8_t old = bf->state;
        bf->state = (uint8_t)state;
        rc = write_files(db, err);
        if (rc < 0)
            bf->state = old;
        break;
    }
    pthread_mutex_unlock(&db->boot_mu);
    if (rc == 0)
        df_set_state(db->df, file_id, (enum df_state)state);
    return rc;
}

/* Has filegroup fg_id (0 = PRIMARY) a file whose state `match` accepts? */
static int fg_has_file(database *db, uint16_t fg_id, int (*match)(enum df_state))
{
    if (df_all_online(db->df))
        return 0;   /* the common case: one atomic load */
    if (fg_id == 0)
        fg_id = 1;
    uint16_t ids[DF_MAX_FILES];
    int n = df_file_ids(db->df, ids, DF_MAX_FILES);
    for (int i = 0; i < n; i++) {
        const df_file_desc *d = df_file(db->df, ids[i]);
        if (d && d->fg_id == fg_id && match(df_get_state(db->df, ids[i])))
            return 1;
    }
    return 0;
}

static int not_online(enum df_state st) { return st != DF_ONLINE; }
static int defunct(enum df_state st) { return st == DF_DEFUNCT; }

int db_filegroup_online(database *db, uint16_t fg_id) { return !fg_has_file(db, fg_id, not_online); }

int db_peek_files(const char *data_path, boot_files *out, hdb_err *err)
{
    fio_file *f = fio_open(data_path, FIO_RDONLY, err);
    if (!f)
        return -1;
    uint64_t off = (uint64_t)PGID_PAGE(SPACE_BOOT_PAGE) * PAGE_SIZE + BOOT_FILES_OFFSET;
    int rc = fio_pread(f, out, sizeof *out, off, err);
    fio_close(f);
    return rc < 0 ? -1 : 0;
}

int db_filegroup_defunct(database *db, uint16_t fg_id) { return fg_has_file(db, fg_id, defunct); }

int db_add_filegroup(database *db, const char *name, uint16_t *fg_id, hdb_err *err)
{
    if (!name[0] || strlen(name) > DF_NAME_MAX)
        return hdb_raise_text(err, 15151, 16, 1, "Invalid filegroup name.");
    if (db_filegroup_id(db, name)) {
        char msg[300];
        snprintf(msg, sizeof msg, "Filegroup '%s' already exists in this database.", name);
        return hdb_raise_text(err, 1828, 16, 1, msg);
    }
    pthread_mutex_lock(&db->boot_mu);
    int slot = -1;
    uint16_t next = 1;
    for (int i = 0; i < BOOT_MAX_FGS; i++) {
        if (!db->files.fgs[i].fg_id && slot < 0)
            slot = i;
        if (db->files.fgs[i].fg_id >= next)
            next = (uint16_t)(db->files.fgs[i].fg_id + 1);
    }
    int rc = -1;
    if (slot < 0) {
        hdb_raise_text(err, 1833, 16, 1, "The maximum number of filegroups for this database has been reached.");
    } else {
        db->files.fgs[slot].fg_id = next;
        snprintf(db->files.fgs[slot].name, sizeof db->files.fgs[slot].name, "%s", name);
        rc = write_files(db, err);
        if (rc < 0)
            db->files.fgs[slot].fg_id = 0;
        else {
            df_set_filegroup_name(db->df, next, name);
            if (fg_id)
                *fg_id = next;
        }
    }
    pthread_mutex_unlock(&db->boot_mu);
    return rc;
}

int db_add_file(database *db, const char *fg_name, const db_file_spec *spec, uint16_t *file_id, hdb_err *err)
{
    uint16_t fg = fg_name ? db_filegroup_id(db, fg_name) : 1;
    if (!fg) {
        char msg[300];
        snprintf(msg, sizeof msg, "Filegroup '%s' does not exist in this database.", fg_name);
        return hdb_raise_text(err, 5035, 16, 1, msg);
    }
    if (strlen(spec->path) > BOOT_PATH_MAX)
        return hdb_raise_text(err, 5105, 16, 1, "The physical file name is too long (at most 256 characters).");
    pthread_mutex_lock(&db->boot_mu);
    int slot = -1;
    uint16_t next = 1;
    int dup = 0;
    for (int i = 0; i < BOOT_MAX_FILES; i++) {
        boot_file *bf = &db->files.files[i];
        if (!bf->file_id && slot < 0)
            slot = i;
        if (bf->file_id >= next)
            next = (uint16_t)(bf->file_id + 1);
        if (bf->file_id && strcasecmp(bf->logical, spec->logical_name) == 0)
            dup = 1;
    }
    if (dup || slot < 0) {
        pthread_mutex_unlock(&db->boot_mu);
        char msg[300];
        snprintf(msg, sizeof msg, dup ? "The logical file name \"%s\" is already in use. Choose a different name."
                                      : "Too many files for database '%s'.", dup ? spec->logical_name : db->tdb.name);
        return hdb_raise_text(err, dup ? 1828 : 1833, 16, 1, msg);
    }
    df_file_desc d = { .file_id = next, .fg_id = fg };
    snprintf(d.logical_name, sizeof d.logical_name, "%s", spec->logical_name);
    snprintf(d.path, sizeof d.path, "%s", spec->path);
    d.size_pages = spec->size_pages ? spec->size_pages : 1024;
    d.growth_pages = spec->no_growth ? 0 : spec->growth_pages ? spec->growth_pages : 1024;
    d.max_pages = spec->max_pages;
    int rc = -1;
    if (df_add_file(db->df, &d, 1, err) == 0) {
        /* FILE_OP first, so that redo (restore, crash) can recreate the file
         * before it meets the file's formatting */
        lbuf b;
        lbuf_init(&b);
        lbuf_u8(&b, 1);
        lbuf_u16(&b, d.file_id);
        lbuf_u16(&b, d.fg_id);
        lbuf_str(&b, d.logical_name);
        lbuf_str(&b, d.path);
        lbuf_u32(&b, d.size_pages);
        lbuf_u32(&b, d.growth_pages);
        lbuf_u32(&b, d.max_pages);
        log_rec r = { .kind = LR_FILE, .body = b.p, .body_len = (uint32_t)b.len };
        space_ctx sc = { db->bp, db->df };
        mtr m;
        if (!b.oom && log_append(db->tdb.log, &r, err)) {
            mtr_begin(&m, db->tdb.log, 0);
            if (space_format_file(&sc, &m, d.file_id, d.fg_id, err) == 0 && commit_system(&m, err)) {
                list_file(db, slot, &d);
                rc = write_files(db, err);
            } else {
                mtr_abort(&m);
            }
        }
        lbuf_free(&b);
        if (rc < 0) {
            bp_discard_db(db->bp, db->df);
            df_remove_file(db->df, d.file_id);
            unlink(d.path);
            memset(&db->files.files[slot], 0, sizeof db->files.files[slot]);
        }
    }
    pthread_mutex_unlock(&db->boot_mu);
    if (rc == 0 && file_id)
        *file_id = d.file_id;
    return rc;
}

int db_parse_file_op(const log_rec *rec, df_file_desc *d)
{
    lread r;
    lread_init(&r, rec->body, rec->body_len);
    int op = lread_u8(&r);
    memset(d, 0, sizeof *d);
    d->file_id = lread_u16(&r);
    d->fg_id = lread_u16(&r);
    lread_str(&r, d->logical_name, sizeof d->logical_name);
    lread_str(&r, d->path, sizeof d->path);
    d->size_pages = lread_u32(&r);
    d->growth_pages = lread_u32(&r);
    d->max_pages = lread_u32(&r);
    return r.bad || op != 1 ? -1 : 0;
}

int db_redo_file_op(database *db, const log_rec *rec, hdb_err *err)
{
    df_file_desc d;
    if (db_parse_file_op(rec, &d) < 0)
        return hdb_raise(err, 3313, db->tdb.name, "(FILE_OP)");
    if (df_file(db->df, d.file_id))
        return 0;
    int exists = access(d.path, F_OK) == 0;
    return df_add_file(db->df, &d, !exists, err);
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

const char *db_log_name(database *db, char *out, size_t cap)
{
    pthread_mutex_lock(&db->boot_mu);
    if (db->boot.log_logical[0])
        snprintf(out, cap, "%.*s", DF_NAME_MAX, db->boot.log_logical);
    else
        snprintf(out, cap, "%.128s_log", db->tdb.name);
    pthread_mutex_unlock(&db->boot_mu);
    return out;
}

int db_save_file_list(database *db, hdb_err *err)
{
    pthread_mutex_lock(&db->boot_mu);
    int rc = write_files(db, err);
    pthread_mutex_unlock(&db->boot_mu);
    return rc;
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

void db_make_guid(uint8_t g[16]) { random_guid(g); }

database *db_create(instance *inst, bufpool *bp, const db_create_spec *spec, hdb_err *err)
{
    database *db = db_alloc(inst, bp, spec->db_id, spec->name);
    if (!db) {
        hdb_raise_text(err, 701, 19, 1, "There is insufficient system memory to run this query.");
        return NULL;
    }
    if (strlen(spec->data.path) > BOOT_PATH_MAX) {
        db_free(db);
        hdb_raise_text(err, 5105, 16, 1, "The physical file name is too long (at most 256 characters).");
        return NULL;
    }
    snprintf(db->log_path, sizeof db->log_path, "%s", spec->log.path);
    df_file_desc d = { .file_id = 1, .fg_id = 1 };
    snprintf(d.logical_name, sizeof d.logical_name, "%s", spec->data.logical_name);
    snprintf(d.path, sizeof d.path, "%s", spec->data.path);
    d.size_pages = spec->data.size_pages ? spec->data.size_pages : 1024;
    d.growth_pages = spec->data.no_growth ? 0 : spec->data.growth_pages ? spec->data.growth_pages : 1024;
    d.max_pages = spec->data.max_pages;
    df_set_filegroup_name(db->df, 1, "PRIMARY");
    if (df_add_file(db->df, &d, 1, err) < 0) {
        db_free(db);
        return NULL;
    }
    log_options lo = log_opts(spec, inst);
    logmgr *log = log_create(spec->log.path, &lo, err);
    if (!log) {
        if (err && err->number != 5120)
            unlink(spec->log.path);   /* made, then could not be formatted (5120: never made) */
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
    if (spec->log.logical_name[0])
        snprintf(db->boot.log_logical, sizeof db->boot.log_logical, "%s", spec->log.logical_name);
    db->boot.log_max_pages = (uint32_t)((spec->log_max_size + PAGE_SIZE - 1) / PAGE_SIZE);
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
    memset(&db->files, 0, sizeof db->files);
    list_file(db, 0, &d);
    db->files.fgs[0].fg_id = 1;
    snprintf(db->files.fgs[0].name, sizeof db->files.fgs[0].name, "PRIMARY");
    if (write_files(db, err) < 0)
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

/* The registry's row for the file the boot page lists as `bf`, if any. */
static const db_file_path *file_reg(const boot_file *bf, const db_file_path *paths, int npaths)
{
    for (int i = 0; i < npaths; i++)
        if (paths[i].file_id == bf->file_id)
            return &paths[i];
    return NULL;
}

static int closed_state(int st) { return st == DF_OFFLINE || st == DF_DEFUNCT; }

database *db_open(instance *inst, bufpool *bp, uint32_t db_id, const char *name,
                  const char *data_path, const char *log_path, const db_file_path *paths, int npaths,
                  hdb_err *err)
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
    /* the other files, as the boot page on disk lists them (redo of FILE_OP
     * records adds any file created since that page was written) */
    uint8_t *page = malloc(PAGE_SIZE);
    if (!page || df_read_page(db->df, SPACE_BOOT_PAGE, page, err) < 0) {
        free(page);
        db_free(db);
        return NULL;
    }
    memcpy(&db->files, page + BOOT_FILES_OFFSET, sizeof db->files);
    boot_info on_disk;   /* the log's maximum size: redo may change it, the log opens first */
    memcpy(&on_disk, page + PAGE_HEADER_SIZE, sizeof on_disk);
    free(page);
    /* the primary's logical name, growth and maximum are the list's
     * (CREATE DATABASE ... ON (NAME = x, MAXSIZE = ...)), not the defaults:
     * backups name it, and a database attached or restored under a name
     * another file has must still open */
    for (int i = 0; i < BOOT_MAX_FILES; i++) {
        const boot_file *bf = &db->files.files[i];
        if (bf->file_id != 1 || !bf->logical[0] ||
            (!strcmp(bf->logical, d.logical_name) && bf->growth_pages == d.growth_pages &&
             bf->max_pages == d.max_pages))
            continue;
        df_remove_file(db->df, 1);
        snprintf(d.logical_name, sizeof d.logical_name, "%s", bf->logical);
        d.growth_pages = bf->growth_pages;   /* 0: FILEGROWTH = 0 */
        d.max_pages = bf->max_pages;
        if (df_add_file(db->df, &d, 0, err) < 0) {
            db_free(db);
            return NULL;
        }
    }
    for (int i = 0; i < BOOT_MAX_FGS; i++)
        if (db->files.fgs[i].fg_id > 1)
            df_set_filegroup_name(db->df, db->files.fgs[i].fg_id, db->files.fgs[i].name);
    for (int i = 0; i < BOOT_MAX_FILES; i++) {
        boot_file *bf = &db->files.files[i];
        if (bf->file_id <= 1)
            continue;
        df_file_desc fd = { .file_id = bf->file_id, .fg_id = bf->fg_id, .growth_pages = bf->growth_pages,
                            .max_pages = bf->max_pages };
        const db_file_path *reg = file_reg(bf, paths, npaths);
        snprintf(fd.logical_name, sizeof fd.logical_name, "%s", bf->logical);
        snprintf(fd.path, sizeof fd.path, "%s", reg ? reg->path : bf->path);
        snprintf(bf->path, sizeof bf->path, "%.256s", fd.path);
        /* an offline or defunct file is listed, never opened (it may be
         * gone); master may know of it before the boot page does */
        int st = reg && closed_state(reg->state) ? reg->state : bf->state;
        if (closed_state(st) ? df_add_closed_file(db->df, &fd, (enum df_state)st, err) < 0
                             : df_add_file(db->df, &fd, 0, err) < 0) {
            db_free(db);
            return NULL;
        }
    }
    log_options lo = log_opts(NULL, inst);
    if (on_disk.magic == BOOT_MAGIC)
        lo.max_size = (uint64_t)on_disk.log_max_pages * PAGE_SIZE;
    logmgr *log = log_open(log_path, &lo, err);
    if (!log) {
        db_free(db);
        return NULL;
    }
    attach_log(db, log);
    db_dcm_open(db);   /* before recovery: redo adds what it replays */
    return db;
}

database *db_shell(instance *inst, bufpool *bp, uint32_t db_id, const char *name, const char *data_path,
                   const char *log_path, logmgr *log)
{
    database *db = db_alloc(inst, bp, db_id, name);
    if (!db)
        return NULL;
    snprintf(db->log_path, sizeof db->log_path, "%s", log_path);
    /* sys.master_files shows where the primary file should be */
    boot_file *bf = &db->files.files[0];
    bf->file_id = 1;
    bf->fg_id = 1;
    snprintf(bf->logical, sizeof bf->logical, "%s", name);
    snprintf(bf->path, sizeof bf->path, "%.256s", data_path);
    db->files.fgs[0].fg_id = 1;
    snprintf(db->files.fgs[0].name, sizeof db->files.fgs[0].name, "PRIMARY");
    snprintf(db->boot.name, sizeof db->boot.name, "%s", name);
    db->boot.db_id = db_id;
    if (log)
        attach_log(db, log);
    db->state = DB_RECOVERY_PENDING;
    return db;
}

int db_load_boot(database *db, hdb_err *err)
{
    bp_frame *f = bp_fix(db->bp, db->df, SPACE_BOOT_PAGE, BP_SHARED, 0, err);
    if (!f)
        return -1;
    memcpy(&db->boot, (uint8_t *)bp_page(f) + PAGE_HEADER_SIZE, sizeof db->boot);
    pthread_mutex_lock(&db->boot_mu);
    memcpy(&db->files, (uint8_t *)bp_page(f) + BOOT_FILES_OFFSET, sizeof db->files);
    /* the files are where they were opened (the registry's paths), whatever
     * an older image of this page says; the next change to the list writes
     * these paths back */
    for (int i = 0; i < BOOT_MAX_FILES; i++) {
        boot_file *bf = &db->files.files[i];
        const df_file_desc *d = bf->file_id ? df_file(db->df, bf->file_id) : NULL;
        if (d) {
            snprintf(bf->path, sizeof bf->path, "%.256s", d->path);
            bf->state = (uint8_t)df_get_state(db->df, bf->file_id);
        }
    }
    pthread_mutex_unlock(&db->boot_mu);
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
    /* its deferred transactions stay in its log for the next recovery */
    deferred_drop(db);
    if (db->tdb.read_only_log && db->tdb.log)
        db_set_read_only(db, 0, NULL);   /* the watch names this log */
    bp_discard_db(db->bp, db->df);
    if (db->tdb.log) {
        if (clean)
            log_close(db->tdb.log);
        else
            log_close_abandon(db->tdb.log);
    }
    db_free(db);
}
