/*
 * backup.c — BACKUP DATABASE / BACKUP LOG: the order of the steps and the
 * set's header (see backup.h and backup/README.md).
 *
 * Data backup (full or differential):
 *   checkpoint                        CheckpointLSN = its BEGIN_CKPT
 *   FirstLSN = first record of the VLF holding the oldest LSN the restore's
 *     recovery will read (the checkpoint's redo point, its dirty pages'
 *     recLSNs, its active transactions' first LSNs); pin the log there
 *   copy pages                        writers go on; a differential reads only
 *                                     the extents the changed-extent map marks
 *   a full, not COPY_ONLY: start a fresh changed-extent map
 *   flush the log; LastLSN = durable end   (every copied pageLSN is below it)
 *   copy the log [FirstLSN, LastLSN)  into the same set
 *   finish the set (durable), unpin, db_note_backup; once the boot page
 *     durably names this backup as the base, the fresh map is the map
 * Log backup: [the chain's LSN, durable end) with marks and commit times.
 */
#include "backup/backup_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "access/space.h"
#include "engine/dcm_db.h"
#include "util/crc32c.h"

/* Copy, cut to fit (media strings have their own limits). */
static void set_str(char *dst, size_t cap, const char *s)
{
    size_t n = s ? strlen(s) : 0;
    if (n > cap - 1)
        n = cap - 1;
    if (n)
        memcpy(dst, s, n);
    dst[n] = 0;
}

/* The oldest LSN the checkpoint at `ckpt` tells recovery to read. */
static lsn_t ckpt_oldest(logmgr *log, lsn_t ckpt, hdb_err *err)
{
    log_reader *rd = log_reader_open(log, ckpt, 1, err);
    if (!rd)
        return 0;
    log_rec r;
    int k;
    lsn_t min = ckpt;
    while ((k = log_reader_next(rd, &r, err)) == 1) {
        if (r.kind != LR_CKPT_END)
            continue;
        lread b;
        lread_init(&b, r.body, r.body_len);
        lsn_t redo = lread_u64(&b);
        if (redo && redo < min)
            min = redo;
        lread_u64(&b);
        uint32_t natt = lread_u32(&b);
        for (uint32_t i = 0; i < natt && !b.bad; i++) {
            lread_u64(&b);
            lread_u8(&b);
            lsn_t first = lread_u64(&b);
            lread_u64(&b);
            lread_u64(&b);
            if (first && first < min)
                min = first;
        }
        uint32_t ndpt = lread_u32(&b);
        for (uint32_t i = 0; i < ndpt && !b.bad; i++) {
            lread_u64(&b);
            lsn_t rec = lread_u64(&b);
            if (rec && rec < min)
                min = rec;
        }
        break;
    }
    log_reader_close(rd);
    return k < 0 ? 0 : min;
}

static void fill_header(database *db, const backup_opts *o, media_set_header *h)
{
    memset(h, 0, sizeof *h);
    set_str(h->name, sizeof h->name, o->name);
    set_str(h->description, sizeof h->description, o->description);
    h->backup_type = (uint8_t)o->type;
    h->device_type = (uint8_t)(o->device_type ? o->device_type : 2);
    h->recovery_model = db->boot.recovery_model ? db->boot.recovery_model : RECOVERY_FULL;
    h->compatibility_level = 160;
    h->expiration_date = o->expiration_date;
    set_str(h->user_name, sizeof h->user_name, o->user_name);
    set_str(h->server_name, sizeof h->server_name, o->server_name);
    set_str(h->database_name, sizeof h->database_name, db->tdb.name);
    if (o->machine_name)
        set_str(h->machine_name, sizeof h->machine_name, o->machine_name);
    else if (gethostname(h->machine_name, sizeof h->machine_name - 1) < 0)
        h->machine_name[0] = 0;
    set_str(h->collation, sizeof h->collation, "SQL_Latin1_General_CP1_CI_AS");
    h->database_version = 957;
    h->database_creation_date = (int64_t)db->boot.create_time_us;
    h->code_page = 1252;
    h->sort_order = 52;
    h->unicode_locale_id = 1033;
    h->unicode_comparison_style = 196609;
    h->software_vendor_id = 4608;
    h->software_major = 16;
    memcpy(h->binding_id, db->boot.guid, 16);
    memcpy(h->family_guid, db->boot.guid, 16);
    memcpy(h->recovery_fork_id, db->boot.guid, 16);
    memcpy(h->first_recovery_fork_id, db->boot.guid, 16);
    if (o->checksum)
        h->flags |= MEDIA_FLAG_CHECKSUMS;
    if (o->copy_only && o->type != MEDIA_TYPE_DIFF_DATABASE)
        h->flags |= MEDIA_FLAG_COPY_ONLY;
    if (o->type == MEDIA_TYPE_LOG && (o->norecovery || o->no_truncate))
        h->flags |= MEDIA_FLAG_TAIL_LOG;
    if (o->type == MEDIA_TYPE_LOG && o->norecovery)
        h->flags |= MEDIA_FLAG_FORCE_OFFLINE;
}

/* FILELISTONLY rows: the data files, then the log (whose SourceBlockSize is
 * the VLF size: restore needs it to lay the LSNs out the same way). */
static int file_list(database *db, media_file_entry *fl, uint16_t *ids)
{
    int n = df_file_ids(db->df, ids, DF_MAX_FILES), k = 0;
    for (int i = 0; i < n && k < BACKUP_MAX_FILES - 1; i++) {
        const df_file_desc *d = df_file(db->df, ids[i]);
        media_file_entry *e = &fl[k++];
        memset(e, 0, sizeof *e);
        set_str(e->logical_name, sizeof e->logical_name, d->logical_name);
        set_str(e->physical_name, sizeof e->physical_name, d->path);
        char fg[DF_NAME_MAX + 1];
        set_str(e->filegroup_name, sizeof e->filegroup_name, df_filegroup_name(db->df, d->fg_id, fg, sizeof fg));
        e->type = 'D';
        e->is_present = 1;
        e->file_id = d->file_id;
        e->filegroup_id = d->fg_id;
        e->source_block_size = PAGE_SIZE;
        e->size = (uint64_t)df_file_pages(db->df, d->file_id) * PAGE_SIZE;
        e->max_size = d->max_pages ? (uint64_t)d->max_pages * PAGE_SIZE : 0;
        uint32_t c = crc32c(crc32c(0, db->boot.guid, 16), &d->file_id, sizeof d->file_id);
        memcpy(e->unique_id, db->boot.guid, 16);
        memcpy(e->unique_id + 12, &c, 4);
    }
    media_file_entry *e = &fl[k++];
    memset(e, 0, sizeof *e);
    db_log_name(db, e->logical_name, sizeof e->logical_name);   /* LOG ON (NAME = ...) or <db>_log */
    set_str(e->physical_name, sizeof e->physical_name, db->log_path);
    e->type = 'L';
    e->is_present = 1;
    e->file_id = (uint32_t)(n + 1);
    e->source_block_size = (uint32_t)log_vlf_size(db->tdb.log);
    e->size = log_file_size(db->tdb.log);
    memcpy(e->unique_id, db->boot.guid, 16);
    e->unique_id[15] ^= 0x4C;
    return k;
}

/* After the set is durable: what HEADERONLY / LABELONLY now show for it. */
static void read_back(const backup_opts *o, backup_result *r)
{
    hdb_err e;
    media_reader *mr = media_open(o->device_path, &e);
    if (!mr)
        return;
    int n = media_set_count(mr);
    const media_set_header *h = n ? media_set_at(mr, n) : NULL;
    if (h) {
        r->set = *h;
        r->position = h->position;
        r->total_bytes = h->compressed_backup_size;
        memcpy(r->backup_set_guid, h->backup_set_guid, 16);
        r->start_date = h->backup_start_date;
        r->finish_date = h->backup_finish_date;
    }
    r->media = *media_label(mr);
    media_close(mr);
}

static media_writer *begin_set(const backup_opts *o, const media_set_header *h, const media_file_entry *fl,
                               int nfl, hdb_err *err)
{
    media_write_opts wo = { .mode = o->init_mode,
                            .compression = o->compression ? MEDIA_COMPRESS_ZSTD : MEDIA_COMPRESS_NONE,
                            .media_name = o->media_name, .media_description = o->media_description,
                            .software_vendor_id = 4608, .software_major = 16 };
    return media_write_begin(o->device_path, &wo, h, fl, (size_t)nfl, err);
}

static void count_log_file(backup_result *r, const media_file_entry *fl, int nfl)
{
    if (r->nfiles < BACKUP_MAX_FILES) {
        backup_file_count *c = &r->files[r->nfiles++];
        set_str(c->logical_name, sizeof c->logical_name, fl[nfl - 1].logical_name);
        c->type = 'L';
        c->pages = (r->log_bytes + PAGE_SIZE - 1) / PAGE_SIZE;
    }
}

/* Whether the boot page names `first` as the differential base, durably.
 * Only then may a full backup's fresh map replace the old one: after a crash
 * the map must never be younger than the base the boot page names. */
static int base_recorded(database *db, lsn_t first)
{
    hdb_err e;
    bp_frame *f = bp_fix(db->bp, db->df, SPACE_BOOT_PAGE, BP_SHARED, 0, &e);
    if (!f)
        return 0;
    boot_info b;
    memcpy(&b, (const uint8_t *)bp_page(f) + PAGE_HEADER_SIZE, sizeof b);
    lsn_t at = page_lsn(bp_page(f));
    bp_unfix(f);
    return b.full_backup_lsn == first && log_flush_to(db->tdb.log, at, &e) == 0;
}

static int backup_data(instance *in, database *db, const backup_opts *o, backup_result *r, hdb_err *err)
{
    (void)in;
    logmgr *log = db->tdb.log;
    int diff = o->type == MEDIA_TYPE_DIFF_DATABASE;
    pthread_mutex_lock(&db->boot_mu);
    lsn_t base = db->boot.full_backup_lsn;
    pthread_mutex_unlock(&db->boot_mu);
    if (diff && !base)
        return hdb_raise_text(err, 3035, 16, 1, "Cannot perform a differential backup for database, because "
                              "a current database backup does not exist. Perform a full database backup by "
                              "reissuing BACKUP DATABASE, omitting the WITH DIFFERENTIAL option.");
    media_file_entry *fl = calloc(BACKUP_MAX_FILES, sizeof *fl);
    if (!fl)
        return hdb_raise_text(err, 701, 19, 1, "There is insufficient system memory to run this query.");
    media_set_header h;
    uint16_t ids[DF_MAX_FILES];
    uint64_t counts[DF_MAX_FILES];
    int rc = -1, nids = 0;
    media_writer *w = NULL;
    dcm *map = df_dcm(db->df), *changed = NULL;
    int fresh_map = 0;
    uint64_t nread = 0;

    if (db_checkpoint(db, err) < 0)
        goto out;
    if (diff) {
        /* taken after the checkpoint: every change logged before it is marked */
        if (!(changed = dcm_copy(map))) {
            hdb_raise_text(err, 701, 19, 1, "There is insufficient system memory to run this query.");
            goto out;
        }
        /* a map started by a full backup that ended after `base` was read
         * does not answer for this base */
        if (dcm_base(changed) > base)
            dcm_mark_all(changed);
    }
    /* pin the log before anything can truncate what the restore must read */
    pthread_mutex_lock(&db->ckpt_mu);
    lsn_t ckpt = log_checkpoint_lsn(log);
    lsn_t trunc = log_truncation_lsn(log);
    db_pin_log(db, trunc);
    pthread_mutex_unlock(&db->ckpt_mu);
    lsn_t oldest = ckpt_oldest(log, ckpt, err);
    if (!oldest)
        goto out;
    if (oldest < trunc)
        oldest = trunc;
    uint64_t V = log_vlf_size(log);
    lsn_t first = oldest / V * V + LOG_VLF_HEADER;
    db_pin_log(db, first);

    fill_header(db, o, &h);
    h.checkpoint_lsn = ckpt;
    h.first_lsn = first;
    h.database_backup_lsn = base;
    if (diff)
        h.differential_base_lsn = base;
    int nfl = file_list(db, fl, ids);
    if (!(w = begin_set(o, &h, fl, nfl, err)))
        goto out;
    bk_progress prog = { .step = o->stats_percent, .next = o->stats_percent, .fn = o->progress,
                         .ctx = o->progress_ctx };
    prog.total = bk_count_pages(db, changed);
    if (bk_copy_pages(db, w, diff ? base : 0, changed, &prog, ids, counts, &nids, &nread, err) < 0)
        goto out;
    /* A full backup that becomes the differential base starts a fresh map
     * now, before LastLSN is fixed: a change logged at or after LastLSN is
     * marked in it, and the restore of this backup redoes everything before
     * (storage/README.md). A second concurrent one leaves the map alone. */
    fresh_map = !diff && !o->copy_only && dcm_next_begin(map) == 0;
    /* pages read through the pool may be ahead of the durable log */
    if (log_flush_all(log, err) < 0)
        goto out;
    lsn_t last = log_durable_lsn(log);
    bk_log_out lo;
    if (bk_copy_log(log, w, first, last, 0, NULL, &lo, err) < 0)
        goto out;
    media_set_header *fh = media_writer_header(w);
    fh->last_lsn = lo.end;
    r->log_bytes = lo.bytes;
    rc = media_write_finish(w, err);
    w = NULL;
    if (rc < 0)
        goto out;
    r->first_lsn = first;
    r->last_lsn = lo.end;
    r->checkpoint_lsn = ckpt;
    r->pages_read = nread;
    r->database_backup_lsn = base;
    r->differential_base_lsn = diff ? base : 0;
    r->nfiles = 0;
    for (int i = 0; i < nids && r->nfiles < BACKUP_MAX_FILES - 1; i++) {
        backup_file_count *c = &r->files[r->nfiles++];
        set_str(c->logical_name, sizeof c->logical_name, df_file(db->df, ids[i])->logical_name);
        c->type = 'D';
        c->pages = counts[i];
        r->pages += counts[i];
    }
    count_log_file(r, fl, nfl);
out:
    if (w) {
        hdb_err e;
        media_write_abort(w, &e);
    }
    db_pin_log(db, 0);
    free(fl);
    if (rc == 0)
        db_note_backup(db, diff ? DB_BACKUP_DIFF : DB_BACKUP_FULL, o->copy_only && !diff, r->first_lsn, r->last_lsn);
    if (fresh_map) {
        int keep = rc == 0 && base_recorded(db, r->first_lsn);
        dcm_next_end(map, keep, r->first_lsn);
        /* now, not at the next checkpoint: a crash meanwhile would otherwise
         * find the old map, right but as large as before this backup */
        if (keep)
            db_dcm_save(db, r->last_lsn);
    }
    dcm_free(changed);
    return rc;
}

static int backup_log(instance *in, database *db, const backup_opts *o, backup_result *r, hdb_err *err)
{
    (void)in;
    logmgr *log = db->tdb.log;
    if (db->tdb.id == 1)
        return hdb_raise_text(err, 4212, 16, 1, "Cannot back up the log of the master database. Use BACKUP DATABASE instead.");
    if (db_check_log_backup(db, err) < 0)
        return -1;
    if (o->norecovery && db->users > 0) {
        char msg[300];
        snprintf(msg, sizeof msg, "Exclusive access could not be obtained because the database is in use.");
        return hdb_raise_text(err, 3101, 16, 1, msg);
    }
    int old_state = db->state;
    if (o->norecovery)
        db->state = DB_RESTORING;   /* nothing may change it from here on */
    media_file_entry *fl = calloc(BACKUP_MAX_FILES, sizeof *fl);
    if (!fl)
        return hdb_raise_text(err, 701, 19, 1, "There is insufficient system memory to run this query.");
    uint16_t ids[DF_MAX_FILES];
    media_set_header h;
    media_writer *w = NULL;
    int rc = -1;
    pthread_mutex_lock(&db->boot_mu);
    lsn_t from = db->boot.log_chain_lsn, base = db->boot.full_backup_lsn;
    pthread_mutex_unlock(&db->boot_mu);
    if (!log_failed(log, NULL) && log_flush_all(log, err) < 0)
        goto out;
    lsn_t to = log_durable_lsn(log);
    uint64_t V = log_vlf_size(log);
    lsn_t trunc = log_truncation_lsn(log);
    if (from < trunc / V * V) {
        if (!o->no_truncate) {
            hdb_raise(err, 4214);
            goto out;
        }
        from = trunc;   /* a damaged database: whatever is still there */
    }
    fill_header(db, o, &h);
    h.first_lsn = from;
    h.database_backup_lsn = base;
    if (from == base)
        h.flags |= MEDIA_FLAG_BEGINS_LOG_CHAIN;
    int nfl = file_list(db, fl, ids);
    if (!(w = begin_set(o, &h, fl, nfl, err)))
        goto out;
    bk_progress prog = { .step = o->stats_percent, .next = o->stats_percent, .fn = o->progress,
                         .ctx = o->progress_ctx, .total = to > from ? to - from : 1 };
    bk_log_out lo;
    int tail = o->norecovery || o->no_truncate;
    if (bk_copy_log(log, w, from, to, !tail, &prog, &lo, err) < 0)
        goto out;
    media_writer_header(w)->last_lsn = lo.end;
    r->log_bytes = lo.bytes;
    rc = media_write_finish(w, err);
    w = NULL;
    if (rc < 0)
        goto out;
    r->first_lsn = from;
    r->last_lsn = lo.end;
    r->database_backup_lsn = base;
    r->nfiles = 0;
    count_log_file(r, fl, nfl);
    if (o->norecovery) {
        /* persisted: the database stays RESTORING across a restart */
        hdb_err e;
        if (log_set_restore_state(log, DB_RESTORE_RESTORING, 0, &e) < 0 && db->inst)
            inst_log(db->inst, "Could not record the RESTORING state of database '%s': %s", db->tdb.name, e.msg);
    }
out:
    if (w) {
        hdb_err e;
        media_write_abort(w, &e);
    }
    free(fl);
    if (rc < 0 && o->norecovery)
        db->state = old_state;
    /* a tail-log backup leaves the database as it is: nothing more is logged */
    if (rc == 0 && !tail)
        db_note_backup(db, DB_BACKUP_LOG, o->copy_only, r->first_lsn, r->last_lsn);
    return rc;
}

int backup_database(instance *in, database *db, const backup_opts *o, backup_result *r, hdb_err *err)
{
    memset(r, 0, sizeof *r);
    if (!o->device_path || !o->device_path[0])
        return hdb_raise_text(err, 3270, 16, 1, "BACKUP needs a device.");
    if (db->tdb.id == 2)
        return hdb_raise_text(err, 3147, 16, 1, "Backup and restore operations are not allowed on database tempdb.");
    int st = db->state;
    int damaged_ok = o->type == MEDIA_TYPE_LOG && o->no_truncate &&
                     (st == DB_SUSPECT || st == DB_RECOVERY_PENDING);
    if (st != DB_ONLINE && !damaged_ok) {
        char msg[300];
        snprintf(msg, sizeof msg, "Database '%s' cannot be opened. It is in the middle of a restore.", db->tdb.name);
        if (st == DB_RESTORING)
            return hdb_raise_text(err, 927, 14, 1, msg);
        snprintf(msg, sizeof msg, "Database '%s' cannot be opened due to inaccessible files or insufficient "
                 "memory or disk space.", db->tdb.name);
        return hdb_raise_text(err, 945, 14, 2, msg);
    }
    if (db->tdb.read_only_log && log_restore_state(db->tdb.log, NULL) == DB_RESTORE_STANDBY)
        return hdb_raise_text(err, 3036, 16, 1, "The database is in warm-standby state (set by executing RESTORE "
                              "WITH STANDBY) and cannot be backed up until the entire restore sequence is completed.");
    double t0 = bk_now_s();
    int rc;
    if (o->type == MEDIA_TYPE_DATABASE || o->type == MEDIA_TYPE_DIFF_DATABASE)
        rc = backup_data(in, db, o, r, err);
    else if (o->type == MEDIA_TYPE_LOG)
        rc = backup_log(in, db, o, r, err);
    else
        rc = hdb_raise_text(err, 3270, 16, 1, "Unsupported backup type.");
    if (rc == 0) {
        read_back(o, r);
        r->seconds = bk_now_s() - t0;
    }
    return rc;
}

int backup_tail_log(instance *in, const char *db_name, const char *log_path, const backup_opts *o,
                    backup_result *r, hdb_err *err)
{
    (void)in;
    (void)db_name;
    (void)log_path;
    (void)o;
    memset(r, 0, sizeof *r);
    return hdb_raise_text(err, 3270, 16, 1, "BACKUP LOG of a database that cannot be opened is not supported yet; "
                          "a SUSPECT database can be backed up WITH NO_TRUNCATE.");
}
