/*
 * restore.c — RESTORE DATABASE / RESTORE LOG: the sequence rules and the
 * order of the steps (see restore.h and backup/README.md).
 *
 *   open the media, find the set; media_verify (every checksum, and each
 *   page's checksum and self id)                      <- nothing written yet
 *   sequence rules: 3101, 3154, 3159, 3117, 4326, 4305, 3136, paths
 *   full:  pages -> new files "<path>.restoring"; log -> new log at its LSNs,
 *          master block: checkpoint = CheckpointLSN, state RESTORING
 *          detach + close the database it replaces; rename log, then data
 *   diff:  pages over the RESTORING database's files; its log replaced
 *   log:   records from R = end of the database's log, up to the stop point
 *   attach (RESTORING) and run recovery: analysis + redo from the floor;
 *   RECOVERY: undo, ONLINE, restore state cleared; else pages flushed and
 *   the state RESTORING kept with the new floor; STANDBY: then undo with the
 *   images it changes saved (standby.c), ONLINE read-only.
 */
#include "backup/backup_int.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "access/space.h"
#include "backup/run_writer.h"
#include "backup/standby.h"
#include "engine/catalog.h"
#include "engine/dcm_db.h"
#include "engine/recovery.h"
#include "os/fio.h"

#define TMP_SUFFIX ".restoring"
#define RUN_PAGES 128

static unsigned long long ull(uint64_t v) { return (unsigned long long)v; }

/* ---- verification ------------------------------------------------------------ */

static int check_page(void *ctx, const media_page *pg, hdb_err *err)
{
    (void)ctx;
    pgid_t id = PGID(pg->file_id, pg->page_no), found = 0;
    if (page_verify(pg->image, id, NULL, NULL, &found) != 0)
        return bk_failf(err, 3183, "RESTORE detected an error on page (%u:%u) in database as read from the "
                     "backup set.", pg->file_id, pg->page_no);
    return 0;
}

int restore_verify_only(const char *device_path, int file, hdb_err *err)
{
    media_reader *mr = media_open(device_path, err);
    if (!mr)
        return -1;
    int rc = media_verify(mr, file ? file : 1, check_page, NULL, err);
    media_close(mr);
    return rc;
}

/* ---- rules ------------------------------------------------------------------- */

/* Work in the log after the last log backup: what a tail-log backup would save. */
static int unbacked_log(database *db)
{
    pthread_mutex_lock(&db->boot_mu);
    lsn_t from = db->boot.log_chain_lsn;
    int model = db->boot.recovery_model;
    pthread_mutex_unlock(&db->boot_mu);
    if (!from || model == RECOVERY_SIMPLE)
        return 0;
    logmgr *log = db->tdb.log;
    lsn_t trunc = log_truncation_lsn(log);
    if (from < trunc)
        from = trunc;
    hdb_err e;
    log_reader *rd = log_reader_open(log, from, 0, &e);
    if (!rd)
        return 1;
    log_rec r;
    int found = 0;
    while (!found && log_reader_next(rd, &r, &e) == 1)
        found = r.kind == LR_ROW || r.kind == LR_COMMIT;
    log_reader_close(rd);
    return found;
}

static int check_existing(database *ex, const restore_opts *o, const media_set_header *h, hdb_err *err)
{
    if (ex->users > 0)
        return bk_failf(err, 3101, "Exclusive access could not be obtained because the database is in use.");
    if (o->replace)
        return 0;
    /* a standby is in the middle of a restore sequence, as RESTORING is */
    int restoring = ex->state == DB_RESTORING || ex->tdb.read_only_log;
    if (memcmp(ex->boot.guid, h->family_guid, 16) != 0 && !restoring)
        return bk_failf(err, 3154, "The backup set holds a backup of a database other than the existing '%s' "
                     "database.", ex->tdb.name);
    if (ex->state == DB_ONLINE && !restoring && !o->stop_at && unbacked_log(ex))
        return bk_failf(err, 3159, "The tail of the log for the database \"%s\" has not been backed up. Use "
                     "BACKUP LOG WITH NORECOVERY to backup the log if it contains work you do not want to "
                     "lose. Use the WITH REPLACE or WITH STOPAT clause of the RESTORE statement to just "
                     "overwrite the contents of the log.", ex->tdb.name);
    return 0;
}

typedef struct target {
    const media_file_entry *e;
    char path[PATH_MAX], tmp[PATH_MAX];
    fio_file *f;
    int skip;                    /* PARTIAL: a data file left out, registered OFFLINE */
} target;

static int owned_by(database *db, const char *path)
{
    if (strcmp(db->log_path, path) == 0)
        return 1;
    uint16_t ids[DF_MAX_FILES];
    int n = df_file_ids(db->df, ids, DF_MAX_FILES);
    for (int i = 0; i < n; i++)
        if (strcmp(df_file(db->df, ids[i])->path, path) == 0)
            return 1;
    return 0;
}

/* Where each file goes: MOVE, else where it was. */
static int plan_paths(instance *in, database *ex, const restore_opts *o, const media_file_entry *fl, size_t n,
                      const rs_new_files *nf, target *t, hdb_err *err)
{
    const char *unknown;
    if (!rs_moves_known(o, fl, n, nf, &unknown))
        return bk_failf(err, 3234, "Logical file '%s' is not part of database '%s'. Use RESTORE FILELISTONLY "
                     "to list the logical file names.", unknown, o->db_name);
    for (int m = 0; m < o->nmoves; m++) {
        for (int k = 0; k < m; k++)
            if (strcasecmp(o->moves[k].logical_name, o->moves[m].logical_name) == 0)
                return bk_failf(err, 4353, "Conflicting file relocations have been specified for file '%s'. "
                             "Only a single WITH MOVE clause should be specified for any logical file name.",
                             o->moves[m].logical_name);
    }
    for (size_t i = 0; i < n; i++) {
        t[i].e = &fl[i];
        const char *p = fl[i].physical_name;
        for (int m = 0; m < o->nmoves; m++)
            if (strcasecmp(fl[i].logical_name, o->moves[m].logical_name) == 0)
                p = o->moves[m].path;
        if (strlen(p) + sizeof TMP_SUFFIX >= PATH_MAX || strlen(p) > BOOT_PATH_MAX)
            return bk_failf(err, 5105, "The physical file name '%s' is too long.", p);
        snprintf(t[i].path, sizeof t[i].path, "%s", p);
        snprintf(t[i].tmp, sizeof t[i].tmp, "%s" TMP_SUFFIX, p);
        for (size_t k = 0; k < i; k++)
            if (strcmp(t[k].path, t[i].path) == 0)
                return bk_failf(err, 3176, "File '%s' is claimed by '%s'(%u) and '%s'(%u). The WITH MOVE clause "
                             "can be used to relocate one or more files.", t[i].path, fl[k].logical_name,
                             fl[k].file_id, fl[i].logical_name, fl[i].file_id);
        for (uint32_t id = 1; id < INST_MAX_DBS; id++) {
            database *d = inst_database(in, id);
            if (d && d != ex && owned_by(d, t[i].path))
                return bk_failf(err, 1834, "The file '%s' cannot be overwritten.  It is being used by database "
                             "'%s'.", t[i].path, d->tdb.name);
        }
        if (!o->replace && access(t[i].path, F_OK) == 0 && !(ex && owned_by(ex, t[i].path)))
            return bk_failf(err, 3142, "File \"%s\" cannot be restored over the existing \"%s\". Reissue the "
                         "RESTORE statement using WITH REPLACE to overwrite pre-existing files, or WITH MOVE "
                         "to identify an alternate location.", fl[i].logical_name, t[i].path);
    }
    return 0;
}

/* ---- writing ----------------------------------------------------------------- */

static target *data_target(target *t, size_t n, uint32_t file_id)
{
    for (size_t i = 0; i < n; i++)
        if (t[i].e->type == 'D' && t[i].e->file_id == file_id)
            return &t[i];
    return NULL;
}

static int flush_run(run_writer *w, target *t, uint32_t first, uint32_t cnt, hdb_err *err)
{
    return cnt ? rw_submit(w, t->f, (size_t)cnt * PAGE_SIZE, (uint64_t)first * PAGE_SIZE, err) : 0;
}

/* Page images into the data files (open in t[i].f), in runs of up to 1 MiB
 * written by a second thread while the next run is read and checked; each
 * page's extent marked in `changed` if given. */
static int write_pages(media_reader *mr, int pos, target *t, size_t n, bk_progress *prog, uint64_t *pages,
                       dcm *changed, hdb_err *err)
{
    media_cursor *c = media_cursor_open(mr, pos, err);
    run_writer *w = c ? rw_start((size_t)RUN_PAGES * PAGE_SIZE, err) : NULL;
    if (!w) {
        media_cursor_close(c);
        return -1;
    }
    target *cur = NULL;
    uint32_t first = 0, cnt = 0;
    int rc = 0, k;
    media_page pg;
    while (rc == 0 && (k = media_next_page(c, &pg, err)) == 1) {
        target *d = data_target(t, n, pg.file_id);
        if (d && d->skip)
            continue;
        if (!d || !d->f) {
            rc = hdb_raise(err, 3189);
            break;
        }
        if ((rc = check_page(NULL, &pg, err)) < 0)
            break;
        if (d != cur || pg.page_no != first + cnt || cnt == RUN_PAGES) {
            if ((rc = flush_run(w, cur, first, cnt, err)) < 0)
                break;
            cur = d;
            first = pg.page_no;
            cnt = 0;
        }
        memcpy(rw_buffer(w) + (size_t)cnt * PAGE_SIZE, pg.image, PAGE_SIZE);
        if (changed)
            dcm_mark(changed, PGID(pg.file_id, pg.page_no));
        cnt++;
        (*pages)++;
        bk_progress_add(prog, 1);
    }
    if (rc == 0 && k < 0)
        rc = -1;
    if (rc == 0)
        rc = flush_run(w, cur, first, cnt, err);
    /* every write handed over is done (or failed) before the files are used;
     * an earlier error stays the one reported */
    hdb_err late;
    if (rw_finish(w, rc == 0 ? err : &late) < 0)
        rc = -1;
    media_cursor_close(c);
    return rc;
}

/* A new log holding the set's log, ready for recovery: its checkpoint is the
 * set's, its state RESTORING with redo floor = its first record. */
static int build_log(media_reader *mr, int pos, const media_set_header *h, const target *lt, lsn_t stop,
                     uint64_t *bytes, hdb_err *err)
{
    log_options lo = { .vlf_size = lt->e->source_block_size, .initial_vlfs = 2 };
    unlink(lt->tmp);
    logmgr *lm = log_create_at(lt->tmp, &lo, h->log_stream_first, err);
    if (!lm)
        return -1;
    int rc = rs_install_log(mr, pos, lm, 0, stop, bytes, err);
    if (rc == 0)
        rc = log_flush_all(lm, err);
    if (rc == 0 && h->checkpoint_lsn)
        rc = log_set_checkpoint(lm, h->checkpoint_lsn, err);
    /* the log carries the RESTORING state from the moment it is renamed in */
    if (rc == 0)
        rc = log_set_restore_state(lm, DB_RESTORE_RESTORING, h->log_stream_first, err);
    log_close(lm);
    return rc;
}

static int rename_in(const char *from, const char *to, hdb_err *err)
{
    if (rename(from, to) < 0)
        return bk_failf(err, 3634, "The operating system returned the error '%s' while attempting 'rename' on "
                     "'%s'.", strerror(errno), to);
    return fio_sync_parent(to, err);
}

/* The secondary data files (id >= 2) of a database being replaced, so the
 * ones the restored database does not reuse can be removed. */
static int secondary_paths(database *db, char (**out)[PATH_MAX])
{
    uint16_t ids[DF_MAX_FILES];
    int n = df_file_ids(db->df, ids, DF_MAX_FILES), k = 0;
    *out = calloc((size_t)n + 1, PATH_MAX);
    for (int i = 0; *out && i < n; i++)
        if (ids[i] >= 2)
            snprintf((*out)[k++], PATH_MAX, "%s", df_file(db->df, ids[i])->path);
    return *out ? k : 0;
}

/* Where a restore step left the database; once ONLINE (and writable) the
 * truncation policy learns which backup its log chain starts from. */
static void note_outcome(database *db, lsn_t chain_base, lsn_t restored_end, restore_result *res)
{
    res->redo_point = log_end_lsn(db->tdb.log);
    res->state = db->state;
    if (db->state == DB_ONLINE && !db->tdb.read_only_log) {
        hdb_err e;
        db_note_restored(db, chain_base, restored_end ? restored_end : res->redo_point, &e);
    }
}

/* ---- roll forward ------------------------------------------------------------ */

/* Analysis + redo from the floor; then RECOVERY (undo, ONLINE), NORECOVERY
 * (RESTORING, pages durable through the log's end) or STANDBY (NORECOVERY's
 * state, then undo with the images it changes saved: ONLINE, read-only). */
static int roll_forward(instance *in, database *db, lsn_t floor, const restore_opts *o, int mode,
                        int stopped_early, lsn_t *restored_end, hdb_err *err)
{
    logmgr *log = db->tdb.log;
    recovery *rc = recovery_begin(in->txns);
    if (!rc)
        return hdb_raise_text(err, 701, 19, 1, "There is insufficient system memory to run this query.");
    int r = recovery_add_restored(rc, db, floor, err);
    /* where the restored log ends, before undo appends anything: the log
     * chain goes on from here, so the next log backup holds undo's records
     * too (an online file or page restore applies them) */
    if (restored_end)
        *restored_end = log_end_lsn(log);
    if (stopped_early)
        recovery_stopped_early(rc);
    if (r == 0 && mode == RESTORE_RECOVERY) {
        r = recovery_finish(rc, NULL, NULL, err);
        if (r == 0 && db->state != DB_ONLINE)
            r = bk_failf(err, 3013, "RESTORE could not recover database '%s'; it is marked SUSPECT.", db->tdb.name);
        /* a checkpoint first, so the next start-up need not redo all this */
        if (r == 0)
            r = db_checkpoint(db, err);
        if (r == 0)
            r = log_set_restore_state(log, DB_RESTORE_NONE, 0, err);
    } else if (r == 0) {
        /* the next RESTORE LOG starts redo where this one ends */
        lsn_t end = log_end_lsn(log);
        r = bp_flush_db(db->bp, db->df, err);
        if (r == 0)
            r = log_set_restore_state(log, DB_RESTORE_RESTORING | (stopped_early ? DB_RESTORE_STOPPED_EARLY << 16 : 0),
                                      end, err);
        db->state = DB_RESTORING;
        if (r == 0 && mode == RESTORE_STANDBY) {
            standby_capture *c = standby_begin(db, o->standby_file, end, err);
            r = c ? 0 : -1;
            /* no session may write while undo runs: txn_join refuses */
            db->tdb.read_only_log = 1;
            if (r == 0)
                r = recovery_finish(rc, NULL, NULL, err);
            if (r == 0 && db->state != DB_ONLINE)
                r = bk_failf(err, 3013, "RESTORE could not undo database '%s' for STANDBY.", db->tdb.name);
            /* undo's pages durable (their images are), then the file complete */
            if (r == 0)
                r = bp_flush_db(db->bp, db->df, err);
            if (r == 0) {
                r = standby_finish(c, err);
                c = NULL;
            }
            standby_abort(c);
            db->tdb.read_only_log = 0;
            if (r == 0)
                r = db_set_read_only(db, 1, err);
            if (r == 0)
                r = log_set_restore_state(log, DB_RESTORE_STANDBY, end, err);
            if (r < 0) {
                /* the next RESTORE takes back whatever undo did */
                db_set_read_only(db, 0, NULL);
                db->state = DB_RESTORING;
            }
        }
    }
    recovery_free(rc);
    if (r < 0 && db->state == DB_RECOVERING)
        db->state = DB_SUSPECT;
    return r;
}

/* ---- RESTORE DATABASE (full) --------------------------------------------------- */

/* WITH PARTIAL, FILEGROUP = ...: the data files of the other filegroups are
 * left out (PRIMARY is always restored). 3234 for a filegroup the backup
 * does not have. */
static int partial_skips(const restore_opts *o, target *t, size_t n, hdb_err *err)
{
    if (!o->partial)
        return 0;
    for (int k = 0; k < o->nfilegroups; k++) {
        int known = 0;
        for (size_t i = 0; i < n && !known; i++)
            known = t[i].e->type == 'D' && !strcasecmp(t[i].e->filegroup_name, o->filegroups[k]);
        if (!known)
            return bk_failf(err, 3234, "Logical file '%s' is not part of database '%s'. Use RESTORE FILELISTONLY to "
                         "list the logical file names.", o->filegroups[k], o->db_name);
    }
    for (size_t i = 0; i < n; i++) {
        if (t[i].e->type != 'D' || t[i].e->filegroup_id == 1)
            continue;
        int wanted = 0;
        for (int k = 0; k < o->nfilegroups && !wanted; k++)
            wanted = !strcasecmp(t[i].e->filegroup_name, o->filegroups[k]);
        t[i].skip = !wanted;
    }
    return 0;
}

static int restore_full(instance *in, const restore_opts *o, media_reader *mr, int pos,
                        const media_set_header *h, restore_result *res, bk_progress *prog, hdb_err *err)
{
    size_t n;
    const media_file_entry *fl = media_set_files(mr, pos, &n);
    database *ex = inst_find_database(in, o->db_name);
    if (ex && check_existing(ex, o, h, err) < 0)
        return -1;
    if (o->stop_at && h->backup_start_date && o->stop_at < h->backup_start_date)
        return bk_failf(err, 4338, "The STOPAT clause specifies a point too early to allow this backup set to be "
                     "restored. Choose a different stop point or use RESTORE DATABASE WITH RECOVERY to recover "
                     "at the current point.");
    target *t = calloc(n ? n : 1, sizeof *t);
    if (!t)
        return hdb_raise_text(err, 701, 19, 1, "There is insufficient system memory to run this query.");
    int rc = -1;
    const target *lt = NULL, *dt = NULL;
    /* files added while the backup ran: in its log, not in its file list */
    rs_new_files nf = { 0 };
    uint16_t have[MEDIA_MAX_FILES];
    const char *taken[MEDIA_MAX_FILES];
    int nhave = 0;
    for (size_t i = 0; i < n; i++)
        if (fl[i].type == 'D')
            have[nhave++] = (uint16_t)fl[i].file_id;
    if (rs_scan_new_files(mr, pos, h->log_stream_first, 0, o, have, nhave, &nf, err) < 0 ||
        plan_paths(in, ex, o, fl, n, &nf, t, err) < 0)
        goto out;
    for (size_t i = 0; i < n; i++) {
        if (t[i].e->type == 'L' && !lt)
            lt = &t[i];
        if (t[i].e->type == 'D' && t[i].e->file_id == 1)
            dt = &t[i];
    }
    if (!lt || !dt || !h->log_stream_first) {
        rc = hdb_raise(err, 3189);
        goto out;
    }
    uint32_t id = ex ? ex->tdb.id : inst_free_db_id(in);
    if (!id) {
        bk_failf(err, 1807, "Could not obtain exclusive lock on database 'model'. Too many databases.");
        goto out;
    }
    for (size_t i = 0; i < n; i++)
        taken[i] = t[i].path;
    if (rs_check_new_files(in, id, ex, o, taken, (int)n, &nf, err) < 0 || partial_skips(o, t, n, err) < 0)
        goto out;
    /* 1. the new files, aside */
    for (size_t i = 0; i < n; i++) {
        if (t[i].e->type != 'D' || t[i].skip)
            continue;
        unlink(t[i].tmp);
        if (!(t[i].f = fio_open(t[i].tmp, FIO_CREATE | FIO_EXCL, err)) ||
            fio_resize(t[i].f, t[i].e->size, err) < 0)
            goto out;
    }
    if (write_pages(mr, pos, t, n, prog, &res->pages, NULL, err) < 0)
        goto out;
    for (size_t i = 0; i < n; i++)
        if (t[i].f && fio_sync(t[i].f, err) < 0)
            goto out;
    if (build_log(mr, pos, h, lt, 0, &res->log_bytes, err) < 0)
        goto out;
    for (size_t i = 0; i < n; i++) {
        fio_close(t[i].f);
        t[i].f = NULL;
    }
    /* 2. the swap: from the log's rename on, the database is the restored
     * one (RESTORING until recovery clears it) */
    if (ex) {
        inst_detach(in, ex);
        standby_forget(ex->log_path);
        char old[2][PATH_MAX];
        snprintf(old[0], PATH_MAX, "%s", ex->log_path);
        snprintf(old[1], PATH_MAX, "%s", df_file(ex->df, 1)->path);
        char (*olds)[PATH_MAX];
        int nolds = secondary_paths(ex, &olds);
        db_close(ex, 0);
        for (int k = 0; k < nolds; k++) {
            int kept = 0;
            for (size_t i = 0; i < n; i++)
                kept |= strcmp(t[i].path, olds[k]) == 0;
            if (!kept)
                unlink(olds[k]);
        }
        free(olds);
        ex = NULL;
        for (int k = 0; k < 2; k++) {
            int kept = 0;
            for (size_t i = 0; i < n; i++)
                kept |= strcmp(t[i].path, old[k]) == 0;
            if (!kept)
                unlink(old[k]);
            if (!kept && k == 0)
                db_dcm_remove(old[0]);   /* the old log's changed-extent map */
        }
    }
    /* an old standby's undo is not this database's: never taken back */
    standby_forget(lt->path);
    if (rename_in(lt->tmp, lt->path, err) < 0)
        goto out;
    for (size_t i = 0; i < n; i++)
        if (t[i].e->type == 'D' && !t[i].skip && rename_in(t[i].tmp, t[i].path, err) < 0)
            goto out;
    /* every data file's path in master, in the same transaction as the
     * primary's and the log's: the boot page's list is redone from the
     * backup's log and may name the paths the backup was taken from */
    inst_file_path fp[MEDIA_MAX_FILES];
    int nfp = 0;
    for (size_t i = 0; i < n; i++)
        if (t[i].e->type == 'D' && t[i].e->file_id >= 2)
            fp[nfp++] = (inst_file_path){ .file_id = (uint16_t)t[i].e->file_id, .path = t[i].path,
                                          .state = t[i].skip ? DF_OFFLINE : DF_ONLINE };
    database *db = inst_attach_files(in, id, o->db_name, dt->path, lt->path, fp, nfp, err);
    if (!db || rs_create_new_files(in, db, &nf, err) < 0)
        goto out;
    /* the backup's pages are the new differential base: nothing changed yet */
    db_dcm_restored(db, h->first_lsn, h->log_stream_first, NULL);
    /* 3. the same recovery as a crash's */
    lsn_t end = 0;
    if (roll_forward(in, db, h->log_stream_first, o, o->recovery, 0, &end, err) < 0)
        goto out;
    note_outcome(db, h->first_lsn, end, res);
    rc = 0;
out:
    for (size_t i = 0; i < n; i++) {
        if (t[i].f)
            fio_close(t[i].f);
        if (rc < 0)
            unlink(t[i].tmp);
    }
    free(t);
    rs_new_files_free(&nf);
    return rc;
}

/* ---- RESTORE DATABASE (differential) ------------------------------------------- */

/* The data files a restoring database has (ids), and their paths and its
 * log's (taken[0 .. n]): a file added in the log to restore may not land
 * on them. Returns n. */
static int own_files(database *db, uint16_t *ids, const char **taken)
{
    int n = df_file_ids(db->df, ids, DF_MAX_FILES);
    for (int i = 0; i < n; i++)
        taken[i] = df_file(db->df, ids[i])->path;
    taken[n] = db->log_path;
    return n;
}

/* Between restores WITH STANDBY: ONLINE, read-only. */
static int in_standby(database *db)
{
    return db->state == DB_ONLINE && db->tdb.read_only_log &&
           log_restore_state(db->tdb.log, NULL) == DB_RESTORE_STANDBY;
}

static database *restoring_db(instance *in, const restore_opts *o, hdb_err *err)
{
    database *db = inst_find_database(in, o->db_name);
    if (!db) {
        bk_failf(err, 3118, "The database \"%s\" does not exist. RESTORE can only create a database when "
              "restoring either a full backup or a file backup of the primary file.", o->db_name);
        return NULL;
    }
    if (db->state != DB_RESTORING && !in_standby(db)) {
        bk_failf(err, 3117, "The log or differential backup cannot be restored because no files are ready to "
              "rollforward.");
        return NULL;
    }
    if (db->users > 0) {
        bk_failf(err, 3101, "Exclusive access could not be obtained because the database is in use.");
        return NULL;
    }
    /* STANDBY's undo is taken back first: then it is as NORECOVERY left it */
    return standby_pending(db) ? standby_revert(in, db, err) : db;
}

static int restore_diff(instance *in, const restore_opts *o, media_reader *mr, int pos,
                        const media_set_header *h, restore_result *res, bk_progress *prog, hdb_err *err)
{
    database *db = restoring_db(in, o, err);
    if (!db)
        return -1;
    logmgr *log = db->tdb.log;
    lsn_t R = log_end_lsn(log);
    /* based on the full this sequence started from, and not behind it */
    if (h->differential_base_lsn != log_truncation_lsn(log) || R > h->last_lsn)
        return bk_failf(err, 3136, "This differential backup cannot be restored because the database has not "
                     "been restored to the correct earlier state.");
    size_t n;
    const media_file_entry *fl = media_set_files(mr, pos, &n);
    target *t = calloc(n ? n : 1, sizeof *t);
    if (!t)
        return hdb_raise_text(err, 701, 19, 1, "There is insufficient system memory to run this query.");
    int rc = -1;
    dcm *changed = NULL;
    rs_new_files nf = { 0 };
    uint32_t id = db->tdb.id;
    char name[CAT_NAME_MAX + 1], data[PATH_MAX], logp[PATH_MAX];
    snprintf(name, sizeof name, "%s", db->tdb.name);
    snprintf(data, sizeof data, "%s", df_file(db->df, 1)->path);
    snprintf(logp, sizeof logp, "%s", db->log_path);
    const target *lt = NULL;
    for (size_t i = 0; i < n; i++) {
        t[i].e = &fl[i];
        const df_file_desc *d = fl[i].type == 'D' ? df_file(db->df, (uint16_t)fl[i].file_id) : NULL;
        if (fl[i].type == 'D' && !d) {
            bk_failf(err, 3155, "The RESTORE operation cannot proceed because one or more files have been added or "
                  "dropped from the database since the backup set was created.");
            goto out;
        }
        snprintf(t[i].path, sizeof t[i].path, "%s", d ? d->path : logp);
        snprintf(t[i].tmp, sizeof t[i].tmp, "%s" TMP_SUFFIX, t[i].path);
        if (fl[i].type == 'L' && !lt)
            lt = &t[i];
    }
    if (!lt)
        goto out;
    /* files added while the differential ran go where MOVE says */
    uint16_t have[DF_MAX_FILES];
    const char *taken[DF_MAX_FILES + 1];
    int nhave = own_files(db, have, taken);
    if (rs_scan_new_files(mr, pos, h->log_stream_first, 0, o, have, nhave, &nf, err) < 0 ||
        rs_check_new_files(in, id, db, o, taken, nhave + 1, &nf, err) < 0)
        goto out;
    if (!(changed = dcm_create())) {
        hdb_raise_text(err, 701, 19, 1, "There is insufficient system memory to run this query.");
        goto out;
    }
    inst_detach(in, db);
    db_close(db, 0);   /* RESTORING: its pages are durable already */
    for (size_t i = 0; i < n; i++)
        if (t[i].e->type == 'D' && !(t[i].f = fio_open(t[i].path, 0, err)))
            goto out;
    if (write_pages(mr, pos, t, n, prog, &res->pages, changed, err) < 0)
        goto out;
    for (size_t i = 0; i < n; i++)
        if (t[i].f && fio_sync(t[i].f, err) < 0)
            goto out;
    if (build_log(mr, pos, h, lt, 0, &res->log_bytes, err) < 0 || rename_in(lt->tmp, lt->path, err) < 0)
        goto out;
    db = inst_attach(in, id, name, data, logp, err);
    lsn_t end = 0;
    /* changed since the base: the pages just written, then what redo replays */
    if (db)
        db_dcm_restored(db, h->database_backup_lsn, h->log_stream_first, changed);
    if (!db || rs_create_new_files(in, db, &nf, err) < 0 ||
        roll_forward(in, db, h->log_stream_first, o, o->recovery, 0, &end, err) < 0)
        goto out;
    note_outcome(db, h->database_backup_lsn, end, res);
    rc = 0;
out:
    for (size_t i = 0; i < n; i++)
        if (t[i].f)
            fio_close(t[i].f);
    free(t);
    dcm_free(changed);
    rs_new_files_free(&nf);
    return rc;
}

/* ---- RESTORE LOG --------------------------------------------------------------- */

static int restore_log(instance *in, const restore_opts *o, media_reader *mr, int pos,
                       const media_set_header *h, restore_result *res, hdb_err *err)
{
    database *db = restoring_db(in, o, err);
    if (!db)
        return -1;
    logmgr *log = db->tdb.log;
    lsn_t floor = 0;
    log_restore_state(log, &floor);
    lsn_t R = log_end_lsn(log);
    if (h->last_lsn <= R)
        return bk_failf(err, 4326, "The log in this backup set terminates at LSN %llu, which is too early to apply "
                     "to the database. A more recent log backup that includes LSN %llu can be restored.",
                     ull(h->last_lsn), ull(R));
    if (h->first_lsn > R || h->log_stream_first > R)
        return bk_failf(err, 4305, "The log in this backup set begins at LSN %llu, which is too recent to apply to "
                     "the database. An earlier log backup that includes LSN %llu can be restored.",
                     ull(h->first_lsn), ull(R));
    lsn_t stop;
    if (rs_stop_lsn(mr, pos, o, &stop, err) < 0)
        return -1;
    if (stop && stop != UINT64_MAX && stop <= R)
        return bk_failf(err, 4338, "The STOPAT clause specifies a point too early to allow this backup set to be "
                     "restored. Choose a different stop point or use RESTORE DATABASE WITH RECOVERY to recover "
                     "at the current point.");
    int beyond = stop == UINT64_MAX;
    /* files added inside the records to install: placed (MOVE) and checked
     * before anything is written, created before redo meets them */
    uint16_t have[DF_MAX_FILES];
    const char *taken[DF_MAX_FILES + 1];
    int nhave = own_files(db, have, taken);
    rs_new_files nf;
    int rc = rs_scan_new_files(mr, pos, R, beyond ? 0 : stop, o, have, nhave, &nf, err);
    if (rc == 0)
        rc = rs_check_new_files(in, db->tdb.id, db, o, taken, nhave + 1, &nf, err);
    if (rc == 0)
        rc = rs_create_new_files(in, db, &nf, err);
    rs_new_files_free(&nf);
    if (rc < 0)
        return -1;
    if (rs_install_log(mr, pos, log, R, beyond ? 0 : stop, &res->log_bytes, err) < 0 ||
        log_flush_all(log, err) < 0)
        return -1;
    res->stop_lsn = beyond ? 0 : stop;
    int mode = o->recovery == RESTORE_RECOVERY && beyond ? RESTORE_NORECOVERY : o->recovery;
    if (o->recovery == RESTORE_RECOVERY && beyond)
        res->info = o->stop_at ? 4322 : 4329;   /* the target is in a later log backup */
    lsn_t end = 0;
    if (roll_forward(in, db, floor, o, mode, res->stop_lsn != 0, &end, err) < 0)
        return -1;
    note_outcome(db, h->database_backup_lsn, end, res);
    return 0;
}

/* ---- entry points ------------------------------------------------------------ */

int restore_run(instance *in, const restore_opts *o, restore_result *r, hdb_err *err)
{
    memset(r, 0, sizeof *r);
    double t0 = bk_now_s();
    if (!o->db_name || !o->device_path)
        return hdb_raise_text(err, 3270, 16, 1, "RESTORE needs a database and a device.");
    if (strcasecmp(o->db_name, "tempdb") == 0)
        return bk_failf(err, 3147, "Backup and restore operations are not allowed on database tempdb.");
    if (o->recovery == RESTORE_STANDBY && (!o->standby_file || !o->standby_file[0]))
        return bk_failf(err, 3013, "RESTORE WITH STANDBY needs the name of an undo file.");
    int pos = o->file ? o->file : 1;
    media_reader *mr = media_open(o->device_path, err);
    if (!mr)
        return -1;
    int rc = -1;
    const media_set_header *h = media_set_at(mr, pos);
    if (!h) {
        media_cursor *c = media_cursor_open(mr, pos, err);   /* for the precise error */
        media_cursor_close(c);
        goto out;
    }
    if (o->checksum && !(h->flags & MEDIA_FLAG_CHECKSUMS)) {
        bk_failf(err, 3187, "RESTORE WITH CHECKSUM cannot be specified because the backup set does not contain "
              "checksum information.");
        goto out;
    }
    int is_log_set = h->backup_type == MEDIA_TYPE_LOG;
    if (o->is_log != is_log_set ||
        (h->backup_type != MEDIA_TYPE_DATABASE && h->backup_type != MEDIA_TYPE_DIFF_DATABASE && !is_log_set)) {
        bk_failf(err, 3013, "The backup set on file %d is %s; use RESTORE %s.", pos,
              is_log_set ? "a transaction log backup" : "a database backup", is_log_set ? "LOG" : "DATABASE");
        goto out;
    }
    if (o->partial && h->backup_type != MEDIA_TYPE_DATABASE) {
        bk_failf(err, 3032, "One or more of the options (PARTIAL) are not supported for this statement: a partial "
              "restore begins with a full database backup.");
        goto out;
    }
    if (!is_log_set && (o->stop_mark || o->stop_mark_lsn) && !o->stop_mark_lsn) {
        bk_failf(err, 4340, "Point-in-time recovery with a mark name is only allowed with RESTORE LOG.");
        goto out;
    }
    /* The whole set is sound before anything is touched. A full restore
     * writes its files under temporary names and reads the whole set (every
     * block and page checked) before it swaps them in, so it needs no
     * separate pass; the others write into the restoring database. */
    if (h->backup_type != MEDIA_TYPE_DATABASE && media_verify(mr, pos, check_page, NULL, err) < 0)
        goto out;
    bk_progress prog = { .step = o->stats_percent, .next = o->stats_percent, .fn = o->progress,
                         .ctx = o->progress_ctx, .total = h->page_count ? h->page_count : 1 };
    r->set = *h;
    r->position = pos;
    if (h->backup_type == MEDIA_TYPE_DATABASE) {
        r->restore_type = 'D';
        rc = restore_full(in, o, mr, pos, h, r, &prog, err);
    } else if (h->backup_type == MEDIA_TYPE_DIFF_DATABASE) {
        r->restore_type = 'I';
        rc = restore_diff(in, o, mr, pos, h, r, &prog, err);
    } else {
        r->restore_type = 'L';
        rc = restore_log(in, o, mr, pos, h, r, err);
    }
    if (rc == 0 && prog.fn && prog.step && prog.next <= 100)
        prog.fn(prog.ctx, 100);
out:
    media_close(mr);
    r->seconds = bk_now_s() - t0;
    return rc;
}

/* NORECOVERY / STANDBY without FROM: nothing new is restored. Any standby
 * undo is taken back first (the database is then as NORECOVERY left it);
 * STANDBY then undoes again into the undo file named now, exactly as the
 * last restore step would have with STANDBY. */
static int recover_only_standby(instance *in, database *db, const restore_opts *o, restore_result *r,
                                hdb_err *err)
{
    if (o->recovery == RESTORE_STANDBY && (!o->standby_file || !o->standby_file[0]))
        return bk_failf(err, 3013, "RESTORE WITH STANDBY needs the name of an undo file.");
    if (standby_pending(db) && !(db = standby_revert(in, db, err)))
        return -1;
    if (o->recovery == RESTORE_STANDBY) {
        lsn_t floor = 0;
        log_restore_state(db->tdb.log, &floor);
        int stopped_early = (log_restore_flags(db->tdb.log) & DB_RESTORE_STOPPED_EARLY) != 0;
        if (roll_forward(in, db, floor, o, RESTORE_STANDBY, stopped_early, NULL, err) < 0)
            return -1;
    }
    r->redo_point = log_end_lsn(db->tdb.log);
    r->state = db->state;
    return 0;
}

int restore_recover_only(instance *in, const restore_opts *o, restore_result *r, hdb_err *err)
{
    memset(r, 0, sizeof *r);
    double t0 = bk_now_s();
    lsn_t end = 0;
    const char *db_name = o->db_name ? o->db_name : "";
    database *db = inst_find_database(in, db_name);
    if (!db)
        return bk_failf(err, 911, "Database '%s' does not exist. Make sure that the name is entered correctly.",
                     db_name);
    int standby = in_standby(db);
    if (db->state != DB_RESTORING && !standby)
        return bk_failf(err, 3153, "The database is already fully recovered.");
    if (db->users > 0)
        return bk_failf(err, 3101, "Exclusive access could not be obtained because the database is in use.");
    if (o->recovery != RESTORE_RECOVERY) {
        int rc = recover_only_standby(in, db, o, r, err);
        r->seconds = bk_now_s() - t0;
        return rc;
    }
    if (standby) {
        /* undo is done already: the database only becomes writable; the
         * state is cleared before the first checkpoint writes to the log */
        if (db_set_read_only(db, 0, err) < 0 || log_set_restore_state(db->tdb.log, DB_RESTORE_NONE, 0, err) < 0 ||
            db_checkpoint(db, err) < 0)
            return -1;
        standby_forget(db->log_path);
    } else {
        if (standby_pending(db) && !(db = standby_revert(in, db, err)))
            return -1;
        lsn_t floor = 0;
        log_restore_state(db->tdb.log, &floor);
        int stopped_early = (log_restore_flags(db->tdb.log) & DB_RESTORE_STOPPED_EARLY) != 0;
        if (roll_forward(in, db, floor, NULL, RESTORE_RECOVERY, stopped_early, &end, err) < 0)
            return -1;
    }
    r->redo_point = log_end_lsn(db->tdb.log);
    r->state = db->state;
    hdb_err e;
    pthread_mutex_lock(&db->boot_mu);
    lsn_t full = db->boot.full_backup_lsn;
    pthread_mutex_unlock(&db->boot_mu);
    db_note_restored(db, full, end ? end : r->redo_point, &e);
    r->seconds = bk_now_s() - t0;
    return 0;
}

int restore_with_recovery_only(instance *in, const char *db_name, restore_result *r, hdb_err *err)
{
    restore_opts o = { .db_name = db_name, .recovery = RESTORE_RECOVERY };
    return restore_recover_only(in, &o, r, err);
}
