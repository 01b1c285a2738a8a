/*
 * restore_files.c — data files created inside a restored log range.
 *
 * ALTER DATABASE ... ADD FILE logs a FILE_OP record naming the new file's
 * path; redo opens (or creates) the file there. In a restore that path is
 * the source database's, which may still be in use, so redo must never be
 * the one to pick it. Before a restore step writes anything, the log records
 * it will install are scanned for FILE_OPs of files the database does not
 * have; each goes where MOVE names its logical name (RESTORE LOG accepts
 * MOVE for exactly these files, as SQL Server's does), else where it was.
 * The checks refuse the step with nothing written: 1834 (another database
 * has the file open), 3176 (two files on one path), 3142 (a file is there,
 * without REPLACE; a file this restore made for the same database in an
 * attempt that did not finish counts as its own). Then, before redo, each
 * file is created empty and sized (redo formats it) and its path goes to
 * master's registry, so redo finds it open and a restart opens it there.
 *
 * The scan reads the set's log section once more; log sections are small
 * next to the pages, and every FILE_OP must be known before anything is
 * written.
 */
#include "backup/backup_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>
#include <unistd.h>

#include "os/fio.h"

static int has_id(const uint16_t *ids, int n, uint16_t id)
{
    for (int i = 0; i < n; i++)
        if (ids[i] == id)
            return 1;
    return 0;
}

static int add_file(rs_new_files *nf, const df_file_desc *d, hdb_err *err)
{
    for (int i = 0; i < nf->n; i++)
        if (nf->v[i].file_id == d->file_id)
            return 0;   /* one FILE_OP per file; a repeat changes nothing */
    df_file_desc *v = realloc(nf->v, sizeof *v * (size_t)(nf->n + 1));
    if (!v)
        return hdb_raise_text(err, 701, 19, 1, "There is insufficient system memory to run this query.");
    nf->v = v;
    nf->v[nf->n++] = *d;
    return 0;
}

typedef struct scan_ctx {
    lsn_t           from, stop;
    const uint16_t *have;
    int             nhave;
    rs_new_files   *nf;
} scan_ctx;

static int scan_one(void *ctx, const log_rec *r, hdb_err *err)
{
    scan_ctx *x = ctx;
    if (r->kind != LR_FILE || r->lsn < x->from || (x->stop && r->lsn >= x->stop))
        return 0;
    df_file_desc fd;
    if (db_parse_file_op(r, &fd) < 0)
        return hdb_raise(err, 3189);
    return has_id(x->have, x->nhave, fd.file_id) ? 0 : add_file(x->nf, &fd, err);
}

/* Every FILE_OP of a file not in `have` among the records [from, stop). */
static int scan(media_reader *mr, int pos, lsn_t from, lsn_t stop, const uint16_t *have, int nhave,
                rs_new_files *nf, hdb_err *err)
{
    scan_ctx x = { from, stop, have, nhave, nf };
    return rs_for_each_record(mr, pos, scan_one, &x, err);
}

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

int rs_scan_new_files(media_reader *mr, int pos, lsn_t from, lsn_t stop, const restore_opts *o,
                      const uint16_t *have, int nhave, rs_new_files *nf, hdb_err *err)
{
    memset(nf, 0, sizeof *nf);
    if (scan(mr, pos, from, stop, have, nhave, nf, err) < 0)
        return -1;
    for (int i = 0; i < nf->n; i++)
        for (int m = 0; m < o->nmoves; m++)
            if (strcasecmp(o->moves[m].logical_name, nf->v[i].logical_name) == 0)
                snprintf(nf->v[i].path, sizeof nf->v[i].path, "%s", o->moves[m].path);
    return 0;
}

int rs_check_new_files(instance *in, uint32_t db_id, database *self, const restore_opts *o,
                       const char *const *taken, int ntaken, const rs_new_files *nf, hdb_err *err)
{
    for (int i = 0; i < nf->n; i++) {
        const df_file_desc *d = &nf->v[i];
        if (strlen(d->path) > BOOT_PATH_MAX)
            return bk_failf(err, 5105, "The physical file name '%s' is too long.", d->path);
        for (int k = 0; k < ntaken + i; k++)
            if (strcmp(k < ntaken ? taken[k] : nf->v[k - ntaken].path, d->path) == 0)
                return bk_failf(err, 3176, "File '%s' is claimed by '%s' and another file. The WITH MOVE clause "
                             "can be used to relocate one or more files.", d->path, d->logical_name);
        for (uint32_t id = 1; id < INST_MAX_DBS; id++) {
            database *x = inst_database(in, id);
            if (x && x != self && owned_by(x, d->path))
                return bk_failf(err, 1834, "The file '%s' cannot be overwritten.  It is being used by database "
                             "'%s'.", d->path, x->tdb.name);
        }
        char mine[PATH_MAX];
        int ours = (self && owned_by(self, d->path)) ||
                   (inst_registered_path(in, db_id, d->file_id, mine, sizeof mine) && strcmp(mine, d->path) == 0);
        if (!o->replace && !ours && access(d->path, F_OK) == 0)
            return bk_failf(err, 3142, "File \"%s\" cannot be restored over the existing \"%s\". Reissue the "
                         "RESTORE statement using WITH REPLACE to overwrite pre-existing files, or WITH MOVE "
                         "to identify an alternate location.", d->logical_name, d->path);
    }
    return 0;
}

int rs_create_new_files(instance *in, database *db, const rs_new_files *nf, hdb_err *err)
{
    for (int i = 0; i < nf->n; i++) {
        const df_file_desc *d = &nf->v[i];
        if (df_file(db->df, d->file_id))
            continue;
        unlink(d->path);   /* allowed by the plan: REPLACE, or this restore's own */
        if (df_add_file(db->df, d, 1, err) < 0 || fio_sync_parent(d->path, err) < 0)
            return -1;
        /* a restart opens it from here, whatever the boot page says */
        if (inst_set_file_path(in, db->tdb.id, d->file_id, d->path, err) < 0)
            return -1;
    }
    return 0;
}

int rs_moves_known(const restore_opts *o, const media_file_entry *fl, size_t n, const rs_new_files *nf,
                   const char **unknown)
{
    for (int m = 0; m < o->nmoves; m++) {
        int hit = 0;
        for (size_t i = 0; i < n && !hit; i++)
            hit = strcasecmp(fl[i].logical_name, o->moves[m].logical_name) == 0;
        for (int i = 0; nf && i < nf->n && !hit; i++)
            hit = strcasecmp(nf->v[i].logical_name, o->moves[m].logical_name) == 0;
        if (!hit) {
            *unknown = o->moves[m].logical_name;
            return 0;
        }
    }
    return 1;
}

void rs_new_files_free(rs_new_files *nf)
{
    free(nf->v);
    memset(nf, 0, sizeof *nf);
}
