/* attach.c — CREATE DATABASE with files, FOR ATTACH, sp_detach_db (see attach.h). */
#include "engine/attach.h"

#include <errno.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "access/space.h"
#include "engine/catalog.h"
#include "engine/dcm_db.h"
#include "engine/dbstate.h"
#include "engine/recovery.h"
#include "os/fio.h"

static const char oom[] = "There is insufficient system memory to run this query.";

static int check_name(const char *name, hdb_err *err)
{
    if (!name || !name[0] || strlen(name) > CAT_NAME_MAX || strchr(name, '/'))
        return hdb_raise_text(err, 15151, 16, 1, "Invalid database name.");
    return 0;
}

static void install(instance *in, uint32_t id, database *db)
{
    pthread_mutex_lock(&in->mu);
    in->dbs[id] = db;
    pthread_mutex_unlock(&in->mu);
}

static database *lookup(void *ctx, uint32_t id) { return inst_database(ctx, id); }

/* ---- CREATE DATABASE with files ------------------------------------------- */

/* A file to be made at `path`: its directory must exist and be writable,
 * the file must not. */
static int check_new_path(const char *path, hdb_err *err)
{
    if (strlen(path) > BOOT_PATH_MAX)
        return hdb_raise_text(err, 5105, 16, 1, "The physical file name is too long (at most 256 characters).");
    char dir[PATH_MAX];
    snprintf(dir, sizeof dir, "%s", path);
    const char *d = dirname(dir);
    struct stat st;
    if (stat(d, &st) < 0)
        return hdb_raise(err, 5133, path, errno, strerror(errno));
    if (!S_ISDIR(st.st_mode))
        return hdb_raise(err, 5133, path, ENOTDIR, strerror(ENOTDIR));
    if (lstat(path, &st) == 0)
        return hdb_raise(err, 5170, path);
    if (access(d, W_OK | X_OK) < 0)
        return hdb_raise(err, 5123, errno, strerror(errno), path);
    return 0;
}

static int check_sizes(const db_file_spec *f, hdb_err *err)
{
    if (f->max_pages && f->max_pages < f->size_pages)
        return hdb_raise(err, 1545, f->logical_name);
    return 0;
}

static int is_primary_fg(const char *fg) { return !fg || !strcasecmp(fg, "PRIMARY"); }

/* Everything about the layout that can be known before a file is made. */
static int check_layout(instance *in, const attach_layout *l, hdb_err *err)
{
    const db_file_spec *all[BOOT_MAX_FILES + 1];
    int n = 0;
    if (l->nfiles < 0 || l->nfiles + 1 > BOOT_MAX_FILES) {
        char msg[300];
        snprintf(msg, sizeof msg, "Too many files for database '%s' (at most %d data files).", l->name,
                 BOOT_MAX_FILES);
        return hdb_raise_text(err, 1833, 16, 1, msg);
    }
    if (l->nfilegroups < 0 || l->nfilegroups + 1 > BOOT_MAX_FGS)
        return hdb_raise_text(err, 1833, 16, 1, "The maximum number of filegroups for this database has been reached.");
    all[n++] = &l->data;
    all[n++] = &l->log;
    for (int i = 0; i < l->nfiles; i++)
        all[n++] = &l->files[i].spec;
    for (int i = 0; i < n; i++) {
        if (!all[i]->logical_name[0] || !all[i]->path[0])
            return hdb_raise_text(err, 40000, 16, 1, "Every file of CREATE DATABASE needs a NAME and a FILENAME.");
        for (int j = 0; j < i; j++) {
            if (!strcasecmp(all[i]->logical_name, all[j]->logical_name))
                return hdb_raise(err, 1828, all[i]->logical_name);
            if (!strcmp(all[i]->path, all[j]->path))
                return hdb_raise(err, 5170, all[i]->path);
        }
        if (check_sizes(all[i], err) < 0)
            return -1;
    }
    for (int i = 0; i < l->nfilegroups; i++) {
        const char *g = l->filegroups[i];
        if (!g || !g[0] || strlen(g) > DF_NAME_MAX)
            return hdb_raise_text(err, 15151, 16, 1, "Invalid filegroup name.");
        int dup = is_primary_fg(g);
        for (int j = 0; j < i && !dup; j++)
            dup = !strcasecmp(g, l->filegroups[j]);
        if (dup) {
            char msg[300];
            snprintf(msg, sizeof msg, "Filegroup '%s' already exists in this database.", g);
            return hdb_raise_text(err, 1828, 16, 1, msg);
        }
    }
    for (int i = 0; i < l->nfiles; i++) {
        const char *g = l->files[i].filegroup;
        int known = is_primary_fg(g);
        for (int j = 0; j < l->nfilegroups && !known; j++)
            known = !strcasecmp(g, l->filegroups[j]);
        if (!known) {
            char msg[300];
            snprintf(msg, sizeof msg, "Filegroup '%s' does not exist in this database.", g);
            return hdb_raise_text(err, 5035, 16, 1, msg);
        }
    }
    /* the directories and the files last: the answer SQL Server gives for a
     * bad name comes before the one for a bad place */
    for (int i = 0; i < n; i++)
        if (check_new_path(all[i]->path, err) < 0)
            return -1;
    (void)in;
    return 0;
}

/* The log's VLFs from SIZE / MAXSIZE / FILEGROWTH = 0 (other FILEGROWTH
 * values are not kept: the log grows by LOG_GROW_VLFS): a log asked smaller
 * than two VLFs of the instance's size gets smaller VLFs (down to 64 KiB),
 * so SIZE is what it says; MAXSIZE is kept at least the initial size (the
 * file's headers are on top of SIZE). */
static void log_layout(instance *in, const attach_layout *l, db_create_spec *spec)
{
    uint64_t V = in->opt.vlf_size ? in->opt.vlf_size : 4u << 20;
    unsigned n = in->opt.initial_vlfs ? in->opt.initial_vlfs : 4;
    if (l->log.size_pages) {
        uint64_t size = (uint64_t)l->log.size_pages * PAGE_SIZE;
        while (V > 64 * 1024 && 2 * V > size)
            V = (V / 2) & ~(uint64_t)4095;
        if (V < 64 * 1024)
            V = 64 * 1024;
        uint64_t k = size / V;
        n = k < 2 ? 2 : k > 65536 ? 65536 : (unsigned)k;
    }
    spec->vlf_size = V;
    spec->initial_vlfs = n;
    uint64_t initial = LOG_MASTER_SIZE + (uint64_t)n * V;
    uint64_t max = l->log.max_pages ? (uint64_t)l->log.max_pages * PAGE_SIZE : 0;
    if (l->log.no_growth || (max && max < initial))
        max = initial;
    spec->log_max_size = max;
}

/* After a failure: every file the layout names was checked not to exist
 * (under ddl_mu), so whatever is there now was made by this attempt. */
static void remove_made(const attach_layout *l, int dcm_existed)
{
    unlink(l->data.path);
    unlink(l->log.path);
    for (int i = 0; i < l->nfiles; i++)
        unlink(l->files[i].spec.path);
    if (!dcm_existed)
        db_dcm_remove(l->log.path);
}

static database *create_locked(instance *in, const attach_layout *l, hdb_err *err)
{
    if (inst_find_database(in, l->name))
        return hdb_raise(err, 1801, l->name), NULL;
    uint32_t id = inst_free_db_id(in);
    if (!id)
        return hdb_raise_text(err, 1807, 16, 1, "Could not obtain exclusive lock on database 'model'. Too many databases."), NULL;
    if (check_layout(in, l, err) < 0)
        return NULL;
    char dcm[PATH_MAX];
    db_dcm_path(l->log.path, dcm, sizeof dcm);
    struct stat st;
    int dcm_existed = stat(dcm, &st) == 0;

    db_create_spec spec;
    memset(&spec, 0, sizeof spec);
    spec.name = l->name;
    spec.db_id = id;
    spec.data = l->data;
    spec.log = l->log;
    log_layout(in, l, &spec);
    inst_file_path *rows = calloc((size_t)l->nfiles + 1, sizeof *rows);
    database *db = rows ? db_create(in, in->bp, &spec, err) : NULL;
    if (!rows)
        hdb_raise_text(err, 701, 19, 1, oom);
    int ok = db != NULL;
    for (int i = 0; ok && i < l->nfilegroups; i++)
        ok = db_add_filegroup(db, l->filegroups[i], NULL, err) == 0;
    for (int i = 0; ok && i < l->nfiles; i++) {
        const attach_file *f = &l->files[i];
        uint16_t fid = 0;
        ok = db_add_file(db, is_primary_fg(f->filegroup) ? NULL : f->filegroup, &f->spec, &fid, err) == 0;
        rows[i] = (inst_file_path){ .file_id = fid, .path = f->spec.path };
    }
    /* every formatted page to disk now: an I/O error or a full disk fails
     * the create here, before anything is registered */
    ok = ok && db_checkpoint(db, err) == 0;
    ok = ok && inst_register(in, id, l->name, l->data.path, l->log.path, rows, l->nfiles, err) == 0;
    free(rows);
    if (!ok) {
        if (db)
            db_close(db, 0);   /* no more writes: the files go */
        remove_made(l, dcm_existed);
        inst_log(in, "CREATE DATABASE '%s' failed: %s (error %d). Its files were removed.", l->name,
                 err ? err->msg : "", err ? err->number : 0);
        return NULL;
    }
    install(in, id, db);
    inst_log(in, "Database '%s' created (database id %u) with %d data file%s; primary '%s', log '%s'.", l->name,
             id, l->nfiles + 1, l->nfiles ? "s" : "", l->data.path, l->log.path);
    return db;
}

database *attach_create_database(instance *in, const attach_layout *l, hdb_err *err)
{
    if (check_name(l->name, err) < 0)
        return NULL;
    pthread_mutex_lock(&in->ddl_mu);
    database *db = create_locked(in, l, err);
    pthread_mutex_unlock(&in->ddl_mu);
    return db;
}

/* ---- FOR ATTACH ------------------------------------------------------------- */

typedef struct given {
    const char *path;
    int         kind;      /* GIVEN_DATA (header read), GIVEN_OTHER (no file header) */
    uint16_t    file_id;   /* GIVEN_DATA, or matched to the boot page's list */
} given;

enum { GIVEN_OTHER = 0, GIVEN_DATA = 1 };

/* Page 0 of a data file is its file header: type, its own id (file:0) and,
 * in the special area, the file and filegroup ids (access/space.c). 1 with
 * *file_id, 0 if the file does not start with one, -1 if it cannot be read. */
static int probe_file(const char *path, uint16_t *file_id, hdb_err *err)
{
    fio_file *f = fio_open(path, FIO_RDONLY, err);
    if (!f)
        return -1;
    uint8_t *page = malloc(PAGE_SIZE);
    int rc = page ? fio_pread(f, page, PAGE_SIZE, 0, err) : hdb_raise_text(err, 701, 19, 1, oom);
    fio_close(f);
    if (rc < 0) {
        free(page);
        return -1;
    }
    const page_header *h = page_chdr(page);
    uint16_t ids[2];
    memcpy(ids, page + 56, sizeof ids);
    int data = h->format == PAGE_FORMAT && h->type == PAGE_FILE_HEADER && PGID_PAGE(h->id) == 0 && ids[0] &&
               PGID_FILE(h->id) == ids[0];
    free(page);
    if (data)
        *file_id = ids[0];
    return data;
}

/* The primary file's boot page (1:2) as it is on disk: identity and file
 * list. Its checksum is checked when the database opens. */
static int read_boot(const char *path, boot_info *bi, boot_files *bf, hdb_err *err)
{
    fio_file *f = fio_open(path, FIO_RDONLY, err);
    if (!f)
        return -1;
    uint8_t *page = malloc(PAGE_SIZE);
    int rc = page ? fio_pread(f, page, PAGE_SIZE, (uint64_t)PGID_PAGE(SPACE_BOOT_PAGE) * PAGE_SIZE, err)
                  : hdb_raise_text(err, 701, 19, 1, oom);
    fio_close(f);
    if (rc == 0) {
        memcpy(bi, page + PAGE_HEADER_SIZE, sizeof *bi);
        memcpy(bf, page + BOOT_FILES_OFFSET, sizeof *bf);
        if (page_chdr(page)->type != PAGE_BOOT || bi->magic != BOOT_MAGIC || bi->version != BOOT_VERSION)
            rc = hdb_raise(err, 5172, path);
    }
    free(page);
    return rc;
}

static const char *base_name(const char *p)
{
    const char *s = strrchr(p, '/');
    return s ? s + 1 : p;
}

/* Is `path` a file some database of this instance has (or, offline, would
 * have) open? Compared by device and inode, so other spellings count. */
static const char *in_use_by(instance *in, const char *path)
{
    struct stat want, st;
    if (stat(path, &want) < 0)
        return NULL;
    const char *owner = NULL;
    pthread_mutex_lock(&in->mu);
    for (int i = 0; i < INST_MAX_DBS && !owner; i++) {
        database *db = in->dbs[i];
        if (!db)
            continue;
        if (stat(db->log_path, &st) == 0 && st.st_dev == want.st_dev && st.st_ino == want.st_ino)
            owner = db->tdb.name;
        uint16_t ids[DF_MAX_FILES];
        int n = df_file_ids(db->df, ids, DF_MAX_FILES);
        for (int k = 0; k < n && !owner; k++) {
            const df_file_desc *d = df_file(db->df, ids[k]);
            if (d && stat(d->path, &st) == 0 && st.st_dev == want.st_dev && st.st_ino == want.st_ino)
                owner = db->tdb.name;
        }
        if (!owner && !n && stat(db->files.files[0].path, &st) == 0 && st.st_dev == want.st_dev &&
            st.st_ino == want.st_ino)
            owner = db->tdb.name;   /* a shell: its primary file */
    }
    pthread_mutex_unlock(&in->mu);
    return owner;
}

static int not_matching(hdb_err *err) { return hdb_raise(err, 5173); }

/* Which given file is what. On success: *primary and *log index into g,
 * and the data files other than the primary have their file ids. */
static int classify(instance *in, given *g, int n, int *primary, int *log, boot_info *bi, boot_files *bf,
                    hdb_err *err)
{
    *primary = *log = -1;
    for (int i = 0; i < n; i++) {
        const char *owner = in_use_by(in, g[i].path);
        if (owner)
            return hdb_raise(err, 5120, g[i].path, 32,
                             "The process cannot access the file because it is being used by another process.");
        int r = probe_file(g[i].path, &g[i].file_id, err);
        if (r < 0)
            return -1;
        g[i].kind = r ? GIVEN_DATA : GIVEN_OTHER;
        for (int j = 0; j < i; j++)
            if (!strcmp(g[i].path, g[j].path))
                return not_matching(err);
        if (r && g[i].file_id == 1) {
            if (*primary >= 0)
                return not_matching(err);
            *primary = i;
        }
    }
    if (*primary < 0)
        return hdb_raise(err, 5171, g[0].path);
    if (read_boot(g[*primary].path, bi, bf, err) < 0)
        return -1;
    /* the other data files must be on the primary's list, once each */
    for (int i = 0; i < n; i++) {
        if (i == *primary || g[i].kind != GIVEN_DATA)
            continue;
        int listed = 0;
        for (int k = 0; k < BOOT_MAX_FILES; k++)
            listed |= bf->files[k].file_id == g[i].file_id;
        for (int j = 0; j < i; j++)
            if (g[j].kind == GIVEN_DATA && g[j].file_id == g[i].file_id)
                listed = 0;
        if (!listed)
            return not_matching(err);
    }
    /* a file without a header: a listed data file whose page 0 never reached
     * the disk (matched by file name), or the log */
    for (int i = 0; i < n; i++) {
        if (g[i].kind != GIVEN_OTHER)
            continue;
        for (int k = 0; k < BOOT_MAX_FILES && g[i].kind == GIVEN_OTHER; k++) {
            const boot_file *b = &bf->files[k];
            if (b->file_id < 2 || strcmp(base_name(b->path), base_name(g[i].path)))
                continue;
            int taken = 0;
            for (int j = 0; j < n; j++)
                taken |= j != i && g[j].kind == GIVEN_DATA && g[j].file_id == b->file_id;
            if (!taken) {
                g[i].kind = GIVEN_DATA;
                g[i].file_id = b->file_id;
            }
        }
        if (g[i].kind == GIVEN_OTHER) {
            if (*log >= 0)
                return not_matching(err);
            *log = i;
        }
    }
    if (*log < 0)
        return hdb_raise_text(err, 40021, 16, 1,
                              "FOR ATTACH needs the database's log file among the files (FILENAME = '...ldf'): "
                              "this server cannot rebuild a log.");
    return 0;
}

/* The id the database had, if it is free here; else the first free one. */
static uint32_t pick_id(instance *in, uint32_t old)
{
    if (old > DBID_MSDB && old < INST_MAX_DBS && !inst_database(in, old))
        return old;
    return inst_free_db_id(in);
}

/* Open and recover, deferral forbidden. The database ONLINE, or NULL. */
static database *open_and_recover(instance *in, uint32_t id, const char *name, const char *data, const char *logp,
                                  const db_file_path *paths, int npaths, hdb_err *err)
{
    database *db = db_open(in, in->bp, id, name, data, logp, paths, npaths, err);
    if (!db)
        return NULL;
    if (log_restore_state(db->tdb.log, NULL) != DB_RESTORE_NONE) {
        hdb_raise(err, 927, name);
        db_close(db, 0);
        return NULL;
    }
    inst_log(in, "Starting up database '%s' (attach).", name);
    recovery *rc = recovery_begin(in->txns);
    if (!rc) {
        hdb_raise_text(err, 701, 19, 1, oom);
        db_close(db, 0);
        return NULL;
    }
    recovery_forbid_deferral(rc);
    int r = recovery_add(rc, db, err);
    if (r == 0)
        r = recovery_finish(rc, lookup, in, err);
    recovery_stats st;
    recovery_get_stats(rc, &st);
    recovery_free(rc);
    if (r == 0 && db->state != DB_ONLINE) {
        char msg[300];
        snprintf(msg, sizeof msg, "An error occurred during recovery, preventing the database '%s' from "
                 "restarting.", name);
        r = hdb_raise_text(err, 3414, 21, 1, msg);
    }
    if (r < 0) {
        db_close(db, 0);   /* no more writes: the files stay as they were given */
        return NULL;
    }
    inst_log(in, "Recovery of database '%s' (attach): %llu log records redone, %llu transactions rolled back.",
             name, (unsigned long long)st.records_redone, (unsigned long long)st.txns_rolled_back);
    return db;
}

/* The boot page now says who and where the database is. */
static int rewrite_boot(database *db, uint32_t id, const char *name, hdb_err *err)
{
    pthread_mutex_lock(&db->boot_mu);
    boot_info old = db->boot;
    db->boot.db_id = id;
    snprintf(db->boot.name, sizeof db->boot.name, "%s", name);
    db->boot.set_offline = 0;   /* detached while OFFLINE: attached ONLINE */
    /* a new identity: a copy attached next to its original (or files that
     * changed elsewhere since they were here) must not share what is cached
     * under the old one (sql/exec_meta.c keys table metadata on it) */
    db_make_guid(db->boot.guid);
    int rc = db_write_boot(db, err);
    if (rc < 0)
        db->boot = old;
    pthread_mutex_unlock(&db->boot_mu);
    return rc < 0 ? -1 : db_save_file_list(db, err);
}

static database *attach_locked(instance *in, const char *name, given *g, int n, int *aborted, hdb_err *err)
{
    if (inst_find_database(in, name))
        return hdb_raise(err, 1801, name), NULL;
    int primary, log;
    boot_info bi;
    boot_files bf;
    if (classify(in, g, n, &primary, &log, &bi, &bf, err) < 0) {
        /* a file that is not there or cannot be read is the database's
         * failure to open; files that do not fit together are the request's */
        if (aborted)
            *aborted = err && err->number != 5171 && err->number != 5173 && err->number != 5172;
        return NULL;
    }
    if (aborted)
        *aborted = 1;
    uint32_t id = pick_id(in, bi.db_id);
    if (!id)
        return hdb_raise_text(err, 1807, 16, 1, "Could not obtain exclusive lock on database 'model'. Too many databases."), NULL;
    db_file_path paths[BOOT_MAX_FILES];
    int np = 0;
    for (int i = 0; i < n && np < BOOT_MAX_FILES; i++)
        if (i != primary && g[i].kind == GIVEN_DATA)
            paths[np++] = (db_file_path){ .file_id = g[i].file_id, .path = g[i].path };
    database *db = open_and_recover(in, id, name, g[primary].path, g[log].path, paths, np, err);
    if (!db)
        return NULL;
    /* who and where, then durable, then registered */
    inst_file_path rows[DF_MAX_FILES];
    int nrows = 0;
    uint16_t ids[DF_MAX_FILES];
    int nf = df_file_ids(db->df, ids, DF_MAX_FILES);
    for (int i = 0; i < nf; i++) {
        const df_file_desc *d = df_file(db->df, ids[i]);
        if (d && ids[i] >= 2)
            rows[nrows++] = (inst_file_path){ .file_id = ids[i], .path = d->path,
                                              .state = (uint8_t)df_get_state(db->df, ids[i]) };
    }
    if (rewrite_boot(db, id, name, err) < 0 || db_checkpoint(db, err) < 0 ||
        inst_register(in, id, name, g[primary].path, g[log].path, rows, nrows, err) < 0) {
        db_close(db, 0);
        return NULL;
    }
    install(in, id, db);
    if (bi.db_id != id)
        inst_log(in, "Database '%s' attached as database id %u (its files were database id %u, '%.128s').", name,
                 id, bi.db_id, bi.name);
    else
        inst_log(in, "Database '%s' attached (database id %u).", name, id);
    return db;
}

database *attach_database(instance *in, const char *name, const char *const *paths, int npaths, int *aborted,
                          hdb_err *err)
{
    if (aborted)
        *aborted = 0;
    if (check_name(name, err) < 0)
        return NULL;
    if (npaths < 1 || npaths > BOOT_MAX_FILES + 1)
        return hdb_raise(err, 5173), NULL;
    given g[BOOT_MAX_FILES + 1];
    memset(g, 0, sizeof g);
    for (int i = 0; i < npaths; i++)
        g[i].path = paths[i];
    pthread_mutex_lock(&in->ddl_mu);
    database *db = attach_locked(in, name, g, npaths, aborted, err);
    pthread_mutex_unlock(&in->ddl_mu);
    if (!db)
        inst_log(in, "Attach of database '%s' failed: %s (error %d). Nothing was registered.", name,
                 err ? err->msg : "", err ? err->number : 0);
    return db;
}

/* ---- sp_detach_db ----------------------------------------------------------- */

/* Transactions with a part in db (deferred ones are the log's: the close
 * leaves them there, and an attach meets them again). */
static int active_parts(database *db)
{
    int n = 0;
    pthread_mutex_lock(&db->tdb.att_mu);
    for (txn_part *p = db->tdb.att; p; p = p->att_next)
        if (p->txn && p->txn->state != TXN_DEFERRED)
            n++;
    pthread_mutex_unlock(&db->tdb.att_mu);
    return n;
}

static void take_out(instance *in, database *db)
{
    pthread_mutex_lock(&in->mu);
    if (in->dbs[db->tdb.id] == db)
        in->dbs[db->tdb.id] = NULL;
    pthread_mutex_unlock(&in->mu);
}

static int detach_locked(instance *in, const char *name, hdb_err *err)
{
    database *db = inst_find_database(in, name);
    if (!db)
        return hdb_raise(err, 15010, name);
    if (db->tdb.id <= DBID_MSDB || !strcasecmp(db->tdb.name, "tempdb") || !strcasecmp(db->tdb.name, "model"))
        return hdb_raise(err, 7940);
    if (db->users > 0 || active_parts(db) > 0)
        return hdb_raise(err, 3703, db->tdb.name);
    char dname[CAT_NAME_MAX + 1];
    snprintf(dname, sizeof dname, "%s", db->tdb.name);
    if (dbst_is_shell(db)) {
        /* OFFLINE: closed cleanly already. RECOVERY_PENDING: never opened. */
        if (db->state != DB_OFFLINE)
            return hdb_raise(err, 3707);
        if (inst_unregister(in, db->tdb.id, err) < 0)
            return -1;
        take_out(in, db);
        db_close(db, 0);
        inst_log(in, "Database '%s' was detached (it was OFFLINE; its files are left as they were).", dname);
        return 0;
    }
    if (db->state == DB_SUSPECT || db->state == DB_RECOVERY_PENDING)
        return hdb_raise(err, 3707);
    if (db->state != DB_ONLINE || db->tdb.read_only_log) {
        char msg[300];
        snprintf(msg, sizeof msg, "Cannot detach the database '%s' while it is %s.", db->tdb.name,
                 db->tdb.read_only_log && db->state == DB_ONLINE ? "read-only (STANDBY)" : db_state_desc(db->state));
        return hdb_raise_text(err, 3703, 16, 2, msg);
    }
    /* the files say where they are, and need no recovery: both before the
     * registry forgets them, so a failure changes nothing */
    if (db_save_file_list(db, err) < 0 || db_checkpoint(db, err) < 0)
        return -1;
    if (inst_unregister(in, db->tdb.id, err) < 0)
        return -1;
    take_out(in, db);
    db_close(db, 1);
    inst_log(in, "Database '%s' was detached; its files are left on disk.", dname);
    return 0;
}

int attach_detach_database(instance *in, const char *name, hdb_err *err)
{
    pthread_mutex_lock(&in->ddl_mu);
    int rc = detach_locked(in, name, err);
    pthread_mutex_unlock(&in->ddl_mu);
    return rc;
}
