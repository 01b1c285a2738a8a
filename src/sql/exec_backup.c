/*
 * exec_backup.c — the BACKUP and RESTORE DATABASE / LOG statements: checks
 * SQL Server makes before any work (permission, transaction, database, device,
 * options), the mapping of every WITH option to backup/backup.h's and
 * backup/restore.h's options, and the messages a DBA sees:
 *
 *   n percent processed.                                   (3211, STATS = n)
 *   Processed n pages for database 'db', file 'f' on file k.          (4035)
 *   BACKUP DATABASE successfully processed n pages in s seconds (r MB/sec).
 *                                                                     (3014)
 *   <the cause>, then BACKUP DATABASE is terminating abnormally.      (3013)
 *
 * EXPIREDATE / RETAINDAYS date the set (RETAINDAYS wins when both are
 * given); INIT without SKIP or FORMAT then refuses to overwrite media holding
 * a set not yet expired (4030). Options with no effect on what is written or
 * restored (BLOCKSIZE, BUFFERCOUNT, MAXTRANSFERSIZE, tape positioning,
 * BACKUP's RESTART, STOP_ON_ERROR) are accepted as SQL Server accepts them
 * for disks; every other
 * option this engine does not implement answers 40027 "... is not supported
 * yet." before anything is done. The history rows go to msdb afterwards
 * (msdb_history.c); the RESTORE info statements are exec_restore_info.c.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "backup/backup.h"
#include "backup/restore.h"
#include "backup/restore_page.h"
#include "engine/deferred.h"
#include "os/fio.h"
#include "sql/exec_int.h"

/* ------------------------------------------------------------ option values */

static int opt_text(sql_session *s, const ast_option *o, const char **out)
{
    *out = NULL;
    if (o->word && !o->value) {
        *out = o->word;
        return EX_OK;
    }
    if (!o->value)
        return EX_OK;
    sql_value v;
    sql_type t;
    if (ex_eval_scalar(s, o->value, &v, &t) < 0)
        return EX_ERROR;
    *out = v.is_null ? NULL : cv_utf8(&s->stmt_arena, &v, &t);
    return EX_OK;
}

static int opt_int(sql_session *s, const ast_option *o, const char *param, int lo, int hi, int *out)
{
    sql_value v;
    sql_type t;
    if (ex_eval_scalar(s, o->value, &v, &t) < 0)
        return EX_ERROR;
    if (v.is_null || !ty_int(t.id) || v.u.i < lo || v.u.i > hi)
        return ex_failf(s, 3250, 16, 1, "The value '%s' is not within range for the %s parameter.",
                        v.is_null ? "NULL" : cv_utf8(&s->stmt_arena, &v, &t), param);
    *out = (int)v.u.i;
    return EX_OK;
}

/* A datetime option (STOPAT, AFTER) as µs since 1970 UTC, read as local time. */
static int opt_time(sql_session *s, ast_expr *e, const char *param, int64_t *out)
{
    sql_value v;
    sql_type t;
    if (ex_eval_scalar(s, e, &v, &t) < 0)
        return EX_ERROR;
    sql_type to = value_type(SQL_DATETIME2, 0, 7, 7);
    ex_env env;
    ex_env_init(&env, s);
    sql_value d;
    if (v.is_null || cv_convert(&env, &v, &t, &to, -1, false, &d) < 0)
        return ex_failf(s, 3250, 16, 1, "The value '%s' is not within range for the %s parameter.",
                        v.is_null ? "NULL" : cv_utf8(&s->stmt_arena, &v, &t), param);
    int64_t local = ((int64_t)d.u.dt2.days - value_days_from_ymd(1970, 1, 1)) * 86400000000LL + d.u.dt2.ticks / 10;
    int64_t l, u;
    cv_now(&l, &u);
    *out = local - (l - u);
    return EX_OK;
}

/* The database named directly or through @var. */
static int target_name(sql_session *s, const ast_dbref *r, char *out, size_t cap)
{
    if (r->name) {
        snprintf(out, cap, "%s", r->name);
        return EX_OK;
    }
    int idx = ex_var_find(s, r->var);
    if (idx < 0)
        return ex_failf(s, 137, 15, 2, "Must declare the scalar variable \"%s\".", r->var);
    const sql_var *v = &s->vars[idx];
    const char *u = v->v.is_null ? "" : cv_utf8(&s->stmt_arena, &v->v, &v->type);
    snprintf(out, cap, "%s", u ? u : "");
    return EX_OK;
}

static int not_supported(sql_session *s, const char *stmt, const char *opt)
{
    return ex_failf(s, 40027, 16, 1, "%s WITH %s is not supported yet.", stmt, opt);
}

/* ------------------------------------------------------------ progress */

typedef struct progress {
    sql_session *s;
    int last;
} progress;

static void on_progress(void *ctx, int percent)
{
    progress *p = ctx;
    if (percent <= p->last || percent > 100)
        return;
    p->last = percent;
    char msg[64];
    snprintf(msg, sizeof msg, "%d percent processed.", percent);
    ex_info(p->s, 3211, 10, 1, msg);
}

static void processed(sql_session *s, const char *what, uint64_t pages, double seconds, uint64_t bytes)
{
    char msg[300];
    double mbs = seconds > 0 ? (double)bytes / 1048576.0 / seconds : 0.0;
    snprintf(msg, sizeof msg, "%s successfully processed %llu pages in %.3f seconds (%.3f MB/sec).", what,
             (unsigned long long)pages, seconds, mbs);
    ex_info(s, 3014, 10, 1, msg);
}

static void pages_of_file(sql_session *s, const char *db, const char *file, uint64_t pages, int position)
{
    char msg[600];
    snprintf(msg, sizeof msg, "Processed %llu pages for database '%.128s', file '%.128s' on file %d.",
             (unsigned long long)pages, db, file, position);
    ex_info(s, 4035, 10, 1, msg);
}

/* I/O errors on the backup device, in SQL Server's words: 3201 when it cannot
 * be opened, 3202 when a write fails (disk full, ...); the OS error kept. */
static void device_error(sql_session *s, const bk_device *dev, bool writing)
{
    int e = 0;
    if (s->err.number == 5120) {
        const char *p = strstr(s->err.msg, "Operating system error ");
        if (p)
            e = atoi(p + strlen("Operating system error "));
        hdb_raise(&s->err, 3201, dev->given, e, strerror(e ? e : EIO));
    } else if (s->err.number == 823 && writing) {
        e = fio_last_errno();
        char msg[HDB_ERR_MSG_MAX];
        snprintf(msg, sizeof msg, "Write on \"%.600s\" failed: %d(%s)", dev->given, e, strerror(e ? e : EIO));
        hdb_raise_text(&s->err, 3202, 16, 1, msg);
    }
}

/* ------------------------------------------------------------ BACKUP */

/* The largest ExpirationDate a datetime holds: 9999-12-31 23:59:59 UTC. */
#define MAX_EXPIRATION_US 253402300799000000LL

/* NOSKIP with INIT: every set on the media must have expired (4030 names the
 * first that has not). NOINIT only appends, so nothing is checked then. */
static int check_unexpired(sql_session *s, const bk_device *dev)
{
    if (access(dev->path, F_OK) != 0)
        return EX_OK;
    hdb_err e;
    media_reader *m = media_open(dev->path, &e);
    if (!m)
        return EX_OK;   /* not media: media_write_begin answers 3241 */
    int64_t local, utc;
    cv_now(&local, &utc);
    int pos = media_first_unexpired(m, utc);
    int rc = EX_OK;
    if (pos) {
        sql_value v = bk_datetime(media_set_at(m, pos)->expiration_date);
        sql_type t = value_type(SQL_DATETIME, 0, 0, 0);
        char *when = NULL;
        size_t len;
        if (cv_to_text(&s->stmt_arena, &v, &t, 109, &when, &len) < 0)
            when = NULL;
        hdb_raise(&s->err, 4030, dev->given, when ? when : "(unknown)");
        rc = EX_ERROR;
    }
    media_close(m);
    return rc;
}

/* NOSKIP with MEDIANAME: an existing media must carry that name (4037). */
static int check_media_name(sql_session *s, const bk_device *dev, const char *want)
{
    if (access(dev->path, F_OK) != 0)
        return EX_OK;
    hdb_err e;
    media_reader *m = media_open(dev->path, &e);
    if (!m)
        return EX_OK;   /* not media: media_write_begin answers 3241 */
    int rc = EX_OK;
    if (strcmp(media_label(m)->name, want) != 0) {
        char msg[HDB_ERR_MSG_MAX];
        snprintf(msg, sizeof msg, "The user-specified MEDIANAME \"%.200s\" does not match the MEDIANAME \"%.200s\" of the device \"%.400s\".",
                 want, media_label(m)->name, dev->given);
        hdb_raise_text(&s->err, 4037, 16, 1, msg);
        rc = EX_ERROR;
    }
    media_close(m);
    return rc;
}

static int backup_options(sql_session *s, const ast_backup *b, backup_opts *o, progress *pr, const char *what,
                          bool *skip)
{
    static const char *const ignored[] = { "BLOCKSIZE", "BUFFERCOUNT", "MAXTRANSFERSIZE", "REWIND", "NOREWIND",
                                           "UNLOAD", "NOUNLOAD", "RESTART", "STOP_ON_ERROR", "NOSKIP",
                                           "NOFORMAT", "NOINIT", "NO_CHECKSUM", "NO_COMPRESSION" };
    *skip = false;
    o->type = b->log ? MEDIA_TYPE_LOG : MEDIA_TYPE_DATABASE;
    o->init_mode = MEDIA_NOINIT;
    int64_t expire = 0;
    int retain = -1;
    for (int i = 0; i < b->with.n; i++) {
        const ast_option *op = b->with.v[i];
        const char *n = op->name;
        bool done = false;
        for (size_t k = 0; k < sizeof ignored / sizeof *ignored && !done; k++)
            done = !strcmp(n, ignored[k]);
        if (done)
            continue;
        if (!strcmp(n, "DIFFERENTIAL") || !strcmp(n, "NORECOVERY") || !strcmp(n, "NO_TRUNCATE") ||
            !strcmp(n, "STANDBY")) {
            if ((strcmp(n, "DIFFERENTIAL") == 0) == b->log)   /* DIFFERENTIAL: DATABASE only; the rest: LOG only */
                return ex_failf(s, 3032, 16, 1, "One or more of the options (%s) are not supported for this "
                                "statement. Review the documentation for supported options.", n);
            if (!strcmp(n, "DIFFERENTIAL"))
                o->type = MEDIA_TYPE_DIFF_DATABASE;
            else if (!strcmp(n, "NORECOVERY"))
                o->norecovery = 1;
            else if (!strcmp(n, "NO_TRUNCATE"))
                o->no_truncate = 1;
            else
                return not_supported(s, what, "STANDBY");
        } else if (!strcmp(n, "COPY_ONLY")) {
            o->copy_only = 1;
        } else if (!strcmp(n, "COMPRESSION")) {
            if (op->sub.n || op->args.n)
                return not_supported(s, what, "COMPRESSION (ALGORITHM = ...)");
            o->compression = 1;
        } else if (!strcmp(n, "NAME") || !strcmp(n, "DESCRIPTION") || !strcmp(n, "MEDIANAME") ||
                   !strcmp(n, "MEDIADESCRIPTION")) {
            const char *v;
            if (opt_text(s, op, &v) != EX_OK)
                return EX_ERROR;
            size_t max = !strcmp(n, "NAME") || !strcmp(n, "MEDIANAME") ? 128 : 255;
            if (v && strlen(v) > max)
                return ex_failf(s, 3250, 16, 1, "The value '%.40s...' is not within range for the %s parameter.", v, n);
            if (!strcmp(n, "NAME"))
                o->name = v;
            else if (!strcmp(n, "DESCRIPTION"))
                o->description = v;
            else if (!strcmp(n, "MEDIANAME"))
                o->media_name = v;
            else
                o->media_description = v;
        } else if (!strcmp(n, "INIT")) {
            if (o->init_mode != MEDIA_FORMAT)
                o->init_mode = MEDIA_INIT;
        } else if (!strcmp(n, "FORMAT")) {
            o->init_mode = MEDIA_FORMAT;
            *skip = true;   /* FORMAT implies SKIP */
        } else if (!strcmp(n, "SKIP")) {
            *skip = true;
        } else if (!strcmp(n, "CHECKSUM")) {
            o->checksum = 1;
        } else if (!strcmp(n, "STATS")) {
            int pct = 10;
            if (op->value && opt_int(s, op, "STATS", 1, 100, &pct) != EX_OK)
                return EX_ERROR;
            o->stats_percent = pct;
            o->progress = on_progress;
            o->progress_ctx = pr;
        } else if (!strcmp(n, "EXPIREDATE")) {
            if (opt_time(s, op->value, "EXPIREDATE", &expire) != EX_OK)
                return EX_ERROR;
        } else if (!strcmp(n, "RETAINDAYS")) {
            if (opt_int(s, op, "RETAINDAYS", 0, INT32_MAX, &retain) != EX_OK)
                return EX_ERROR;
        } else {
            /* CONTINUE_AFTER_ERROR, ENCRYPTION, PASSWORD, MEDIAPASSWORD */
            return not_supported(s, what, n);
        }
    }
    /* RETAINDAYS wins over EXPIREDATE, as in SQL Server; 0 days (like the
     * default 'media retention' of 0) leaves the set without a date */
    if (retain > 0) {
        int64_t local, utc;
        cv_now(&local, &utc);
        if (retain > (MAX_EXPIRATION_US - utc) / 86400000000LL)
            return ex_failf(s, 3250, 16, 1, "The value '%d' is not within range for the RETAINDAYS parameter.",
                            retain);
        o->expiration_date = utc + (int64_t)retain * 86400000000LL;
    } else if (retain < 0) {
        o->expiration_date = expire;
    }
    if (o->type == MEDIA_TYPE_DIFF_DATABASE)
        o->copy_only = 0;   /* DIFFERENTIAL + COPY_ONLY: COPY_ONLY is ignored */
    return EX_OK;
}

int ex_backup(sql_session *s, ast_stmt *st)
{
    ast_backup *b = &st->u.backup;
    const char *what = b->log ? "BACKUP LOG" : "BACKUP DATABASE";
    char dbname[260];
    if (target_name(s, &b->db, dbname, sizeof dbname) != EX_OK)
        return EX_ERROR;
    if (!bk_is_sysadmin(s))
        return hdb_raise(&s->err, 262, dbname), bk_terminate(s, what);
    if (s->trancount > 0)
        return hdb_raise(&s->err, 3021), bk_terminate(s, what);
    if (b->files.n)
        return ex_failf(s, 40027, 16, 1, "File and filegroup backups are not supported yet.");
    if (b->mirror_to.n)
        return ex_failf(s, 40027, 16, 1, "BACKUP ... MIRROR TO is not supported yet.");
    if (b->to.n != 1)
        return ex_failf(s, 40027, 16, 1, "Striped backups (%d devices) are not supported yet: back up to one device.", b->to.n);
    if (!strcasecmp(dbname, "tempdb"))   /* whether or not it was created yet */
        return hdb_raise(&s->err, 3147), bk_terminate(s, what);
    database *db = inst_find_database(s->in, dbname);
    if (!db)
        return hdb_raise(&s->err, 911, dbname), bk_terminate(s, what);
    if (b->log && db->tdb.id == DBID_MASTER)
        return hdb_raise(&s->err, 4212), bk_terminate(s, what);

    progress pr = { s, 0 };
    backup_opts o = { 0 };
    bool skip;
    if (backup_options(s, b, &o, &pr, what, &skip) != EX_OK)
        return s->err.number == 40027 || s->err.number == 3032 ? EX_ERROR : bk_terminate(s, what);
    /* in SIMPLE, or before the first full backup: 4208 / 4214 before touching the media */
    if (b->log && !o.no_truncate && db_check_log_backup(db, &s->err) < 0)
        return bk_terminate(s, what);
    bk_device dev;
    if (bk_resolve_device(s, b->to.v[0], &dev) != EX_OK)
        return bk_terminate(s, what);
    if (o.media_name && !skip && o.init_mode != MEDIA_FORMAT && check_media_name(s, &dev, o.media_name) != EX_OK)
        return bk_terminate(s, what);
    if (o.init_mode == MEDIA_INIT && !skip && check_unexpired(s, &dev) != EX_OK)
        return bk_terminate(s, what);
    o.device_path = dev.path;
    o.device_type = dev.device_type;
    o.user_name = s->login;
    o.server_name = ex_server_name();

    backup_result *r = calloc(1, sizeof *r);
    if (!r)
        return ex_failf(s, 701, 19, 1, "There is insufficient system memory to run this query.");
    if (backup_database(s->in, db, &o, r, &s->err) < 0) {
        free(r);
        device_error(s, &dev, true);
        return bk_terminate(s, what);
    }
    if (o.stats_percent && pr.last < 100)
        on_progress(&pr, 100);
    uint64_t pages = 0;   /* 3014 counts what 4035 listed, data and log */
    for (int i = 0; i < r->nfiles; i++) {
        pages_of_file(s, db->tdb.name, r->files[i].logical_name, r->files[i].pages, r->position);
        pages += r->files[i].pages;
    }
    processed(s, what, r->nfiles ? pages : r->pages, r->seconds, r->total_bytes);
    bk_history_backup(s, r, &dev);
    inst_log(s->in, "%s: database '%s', pages %llu, first LSN %llu, last LSN %llu, device '%s', position %d.",
             b->log ? "Log was backed up" : o.type == MEDIA_TYPE_DIFF_DATABASE ? "Database differential changes were backed up"
                                                                               : "Database backed up",
             db->tdb.name, (unsigned long long)r->pages, (unsigned long long)r->first_lsn,
             (unsigned long long)r->last_lsn, dev.path, r->position);
    free(r);
    return ex_done(s, 0, CMD_NONE, 0, false);
}

/* ------------------------------------------------------------ RESTORE */

/* A path of a RESTORE option as ex_file_path places it (a relative one under
 * DATADIR/data), in the statement's arena; NULL without memory. */
static const char *under_datadir(sql_session *s, const char *path)
{
    size_t cap = strlen(s->in->datadir) + strlen(path) + 8;
    char *p = arena_alloc(&s->stmt_arena, cap);
    if (p)
        ex_file_path(s, path, p, cap);
    return p;
}

static int restore_options(sql_session *s, const ast_restore *q, restore_opts *o, progress *pr, const char *what,
                           const char **media_name)
{
    static const char *const ignored[] = { "BLOCKSIZE", "BUFFERCOUNT", "MAXTRANSFERSIZE", "REWIND", "NOREWIND",
                                           "UNLOAD", "NOUNLOAD", "STOP_ON_ERROR", "NO_CHECKSUM" };
    int recov = 0;
    *media_name = NULL;
    restore_move *moves = NULL;
    for (int i = 0; i < q->with.n; i++) {
        const ast_option *op = q->with.v[i];
        const char *n = op->name;
        bool done = false;
        for (size_t k = 0; k < sizeof ignored / sizeof *ignored && !done; k++)
            done = !strcmp(n, ignored[k]);
        if (done)
            continue;
        if (!strcmp(n, "RECOVERY") || !strcmp(n, "NORECOVERY") || !strcmp(n, "STANDBY")) {
            if (recov++)
                return ex_failf(s, 3032, 16, 1, "One or more of the options (%s) are not supported for this "
                                "statement. Review the documentation for supported options.", n);
            o->recovery = !strcmp(n, "RECOVERY") ? RESTORE_RECOVERY : !strcmp(n, "NORECOVERY") ? RESTORE_NORECOVERY
                                                                                               : RESTORE_STANDBY;
            if (o->recovery == RESTORE_STANDBY && opt_text(s, op, &o->standby_file) != EX_OK)
                return EX_ERROR;
            const char *sf = o->recovery == RESTORE_STANDBY ? o->standby_file : NULL;
            if (sf && sf[0] && !(o->standby_file = under_datadir(s, sf)))   /* relative: like MOVE */
                return ex_failf(s, 701, 19, 1, "There is insufficient system memory to run this query.");
        } else if (!strcmp(n, "MOVE")) {
            if (!moves && !(moves = arena_calloc(&s->stmt_arena, sizeof *moves * (size_t)q->with.n)))
                return ex_failf(s, 701, 19, 1, "There is insufficient system memory to run this query.");
            restore_move *m = &moves[o->nmoves];
            sql_value v;
            sql_type t;
            if (ex_eval_scalar(s, op->value, &v, &t) < 0)
                return EX_ERROR;
            m->logical_name = v.is_null ? "" : cv_utf8(&s->stmt_arena, &v, &t);
            if (ex_eval_scalar(s, op->value2, &v, &t) < 0)
                return EX_ERROR;
            const char *to = v.is_null ? "" : cv_utf8(&s->stmt_arena, &v, &t);
            if (to && to[0] && !(to = under_datadir(s, to)))   /* relative: like CREATE DATABASE */
                return ex_failf(s, 701, 19, 1, "There is insufficient system memory to run this query.");
            m->path = to;
            for (int k = 0; k < o->nmoves; k++)
                if (!strcasecmp(moves[k].logical_name, m->logical_name))
                    return ex_failf(s, 4353, 16, 1, "Conflicting file relocations have been specified for file "
                                    "'%.128s'. Only a single WITH MOVE clause should be specified for any logical file name.",
                                    m->logical_name);
            o->nmoves++;
        } else if (!strcmp(n, "REPLACE")) {
            o->replace = 1;
        } else if (!strcmp(n, "FILE")) {
            if (opt_int(s, op, "FILE", 1, 65535, &o->file) != EX_OK)
                return EX_ERROR;
        } else if (!strcmp(n, "CHECKSUM")) {
            o->checksum = 1;
        } else if (!strcmp(n, "PARTIAL")) {
            o->partial = 1;
        } else if (!strcmp(n, "STATS")) {
            int pct = 10;
            if (op->value && opt_int(s, op, "STATS", 1, 100, &pct) != EX_OK)
                return EX_ERROR;
            o->stats_percent = pct;
            o->progress = on_progress;
            o->progress_ctx = pr;
        } else if (!strcmp(n, "MEDIANAME")) {
            if (opt_text(s, op, media_name) != EX_OK)
                return EX_ERROR;
        } else if (!strcmp(n, "STOPAT")) {
            if (opt_time(s, op->value, "STOPAT", &o->stop_at) != EX_OK)
                return EX_ERROR;
        } else if (!strcmp(n, "STOPATMARK") || !strcmp(n, "STOPBEFOREMARK")) {
            const char *mark;
            if (opt_text(s, op, &mark) != EX_OK)
                return EX_ERROR;
            if (!mark || !mark[0])
                return ex_failf(s, 4334, 16, 1, "The named mark does not identify a valid LSN.");
            o->stop_before = !strcmp(n, "STOPBEFOREMARK");
            if (!strncasecmp(mark, "lsn:", 4)) {
                char *end;
                unsigned long long l = strtoull(mark + 4, &end, 10);
                if (*end || !l)
                    return ex_failf(s, 4334, 16, 1, "The named mark does not identify a valid LSN.");
                o->stop_mark_lsn = l;
            } else {
                o->stop_mark = mark;
            }
            if (op->value2 && opt_time(s, op->value2, "AFTER", &o->stop_after) != EX_OK)
                return EX_ERROR;
        } else {
            /* RESTART, RESTRICTED_USER, CONTINUE_AFTER_ERROR, KEEP_*, *_BROKER, FILESTREAM,
             * LOADHISTORY, CREDENTIAL, PASSWORD, MEDIAPASSWORD */
            return not_supported(s, what, n);
        }
    }
    o->moves = moves;
    if (o->stop_at && (o->stop_mark || o->stop_mark_lsn))
        return ex_failf(s, 3032, 16, 1, "One or more of the options (STOPAT) are not supported for this "
                        "statement. Review the documentation for supported options.");
    return EX_OK;
}

/* Pages per file of the restored set (4035), from its file list. */
static void restored_files(sql_session *s, const bk_device *dev, const restore_result *r, const char *db)
{
    hdb_err e;
    media_reader *m = media_open(dev->path, &e);
    if (!m)
        return;
    size_t n = 0;
    const media_file_entry *f = media_set_files(m, r->position, &n);
    for (size_t i = 0; f && i < n; i++) {
        /* a log backup restores only log; a data backup's log entry counts its log bytes */
        if (r->set.backup_type == MEDIA_TYPE_LOG && f[i].type != 'L')
            continue;
        pages_of_file(s, db, f[i].logical_name, (f[i].backup_size + 8191) / 8192, r->position);
    }
    media_close(m);
}

static void info_after_restore(sql_session *s, int number)
{
    if (number == 4322)
        ex_info(s, 4322, 10, 1, "This backup set contains records that were logged before the designated point in "
                                "time. The database is being left in the restoring state so that more roll forward "
                                "can be performed.");
    else if (number == 4329)
        ex_info(s, 4329, 10, 1, "This log file contains records logged before the designated mark. The database is "
                                "being left in the Restoring state so you can apply another log file.");
}

static void info_deferred_remain(sql_session *s)
{
    ex_info(s, 3192, 10, 1, "Restore was successful but deferred transactions remain. These deferred "
            "transactions cannot be resolved because there are data that is unavailable. Either use DBCC "
            "CHECKDB to find and repair the damaged pages, or restore the affected files or filegroups.");
}

/* RESTORE DATABASE db PAGE = '...' FROM ..., and the RESTORE LOG and
 * RESTORE DATABASE db WITH RECOVERY steps of a page restore in progress
 * (backup/restore_page.h). The database stays online throughout. */
static int restore_pages(sql_session *s, const ast_restore *q, restore_opts *o, const char *db, const char *what)
{
    const char *list = NULL;
    if (q->kind == RESTORE_DATABASE && q->files.n && opt_text(s, q->files.v[0], &list) != EX_OK)
        return EX_ERROR;
    bk_device dev = { 0 };
    if (q->from.n && bk_resolve_device(s, q->from.v[0], &dev) != EX_OK)
        return bk_terminate(s, what);
    if (q->from.n && access(dev.path, R_OK) != 0)
        return hdb_raise(&s->err, 3201, dev.given, errno, strerror(errno)), bk_terminate(s, what);
    o->device_path = q->from.n ? dev.path : NULL;
    restore_page_result *r = calloc(1, sizeof *r);
    if (!r)
        return ex_failf(s, 701, 19, 1, "There is insufficient system memory to run this query.");
    int rc;
    if (q->kind == RESTORE_DATABASE && q->files.n && strcmp(q->files.v[0]->name, "PAGE") != 0) {
        restore_file_name names[16];
        int n = 0;
        for (int i = 0; i < q->files.n && n < 16; i++, n++) {
            names[n].is_filegroup = !strcmp(q->files.v[i]->name, "FILEGROUP");
            if (opt_text(s, q->files.v[i], &names[n].name) != EX_OK) {
                free(r);
                return EX_ERROR;
            }
            if (!names[n].name)
                names[n].name = "";
        }
        rc = restore_file_begin(s->in, o, names, n, r, &s->err);
    } else {
        rc = q->kind == RESTORE_DATABASE && q->files.n ? restore_page_begin(s->in, o, list, r, &s->err)
           : q->from.n ? restore_page_log(s->in, o, r, &s->err) : restore_page_recover(s->in, db, r, &s->err);
    }
    if (rc < 0) {
        free(r);
        return bk_terminate(s, what);
    }
    for (int i = 0; i < r->nfiles; i++)
        pages_of_file(s, db, r->files[i].logical_name, r->files[i].pages, r->r.position);
    if (q->files.n == 0 && q->from.n)
        restored_files(s, &dev, &r->r, db);
    char msg[400];
    if (r->r.info == 4339) {
        snprintf(msg, sizeof msg, "The roll forward start point is now at log sequence number (LSN) %llu. Additional "
                 "roll forward past LSN %llu is required to complete the restore sequence.",
                 (unsigned long long)r->applied_to, (unsigned long long)r->redo_target);
        ex_info(s, 4339, 10, 1, msg);
    }
    if (r->deferred_left)
        info_deferred_remain(s);
    uint64_t pages = q->files.n ? r->r.pages : (r->r.log_bytes + 8191) / 8192;
    processed(s, what, pages, r->r.seconds, q->files.n ? pages * 8192 : r->r.log_bytes);
    if (q->from.n)
        bk_history_restore(s, &r->r, o, &dev);
    free(r);   /* the error log has each step (restore_page.c) */
    return ex_done(s, 0, CMD_NONE, 0, false);
}

int ex_restore(sql_session *s, ast_stmt *st)
{
    ast_restore *q = &st->u.restore;
    if (q->kind != RESTORE_DATABASE && q->kind != RESTORE_LOG)
        return ex_restore_info(s, st);
    const char *what = q->kind == RESTORE_LOG ? "RESTORE LOG" : "RESTORE DATABASE";
    char dbname[260];
    if (target_name(s, &q->db, dbname, sizeof dbname) != EX_OK)
        return EX_ERROR;
    if (!bk_is_sysadmin(s))
        return hdb_raise(&s->err, 3110, dbname), bk_terminate(s, what);
    if (s->trancount > 0)
        return hdb_raise(&s->err, 3021), bk_terminate(s, what);
    /* PAGE = (alone), or FILE = / FILEGROUP = (PARTIAL: a piecemeal
     * restore's first step; else an online file restore) */
    bool pages = false, other = false;
    for (int i = 0; i < q->files.n; i++) {
        const char *k = q->files.v[i]->name;
        if (!strcmp(k, "PAGE"))
            pages = true;
        else if (!strcmp(k, "FILE") || !strcmp(k, "FILEGROUP"))
            other = true;
        else
            return ex_failf(s, 40027, 16, 1, "RESTORE ... %s is not supported yet.", k);
    }
    if ((pages && (other || q->files.n > 1)) || (q->files.n && q->kind == RESTORE_LOG))
        return ex_failf(s, 40027, 16, 1, "This combination of PAGE, FILE and FILEGROUP in one RESTORE is not "
                        "supported yet.");
    if (q->from.n > 1)
        return ex_failf(s, 40027, 16, 1, "Restoring from %d devices is not supported yet: one media family per backup.", q->from.n);
    if (!strcasecmp(dbname, "tempdb"))
        return hdb_raise(&s->err, 3147), bk_terminate(s, what);
    if (!strcasecmp(dbname, "master") || !strcasecmp(dbname, "msdb"))
        return ex_failf(s, 40027, 16, 1, "Restoring the system database '%s' is not supported yet.", dbname);
    if (s->db && !strcasecmp(s->db->tdb.name, dbname)) {
        ex_failf(s, 3102, 16, 1, "%s cannot process database '%s' because it is in use by this session. It is "
                 "recommended that the master database be used when performing this operation.", what, dbname);
        return bk_terminate(s, what);
    }

    progress pr = { s, 0 };
    restore_opts o = { 0 };
    o.is_log = q->kind == RESTORE_LOG;
    o.db_name = dbname;
    const char *media_name;
    if (restore_options(s, q, &o, &pr, what, &media_name) != EX_OK)
        return s->err.number == 40027 || s->err.number == 3032 ? EX_ERROR : bk_terminate(s, what);
    /* A mark is looked up in a log backup's mark table, so only RESTORE LOG
     * can name one ('lsn:N' is allowed on RESTORE DATABASE). Checked before
     * anything is read, also for the recover-only form, which would
     * otherwise recover at the current point as if no mark were given. */
    if (!o.is_log && o.stop_mark) {
        ex_failf(s, 4340, 16, 1, "Point-in-time recovery with a mark name is only allowed with RESTORE LOG.");
        return bk_terminate(s, what);
    }
    if (o.partial && !q->files.n)
        return ex_failf(s, 3032, 16, 1, "One or more of the options (PARTIAL) are not supported for this statement. "
                        "Review the documentation for supported options.");
    if (o.partial) {   /* the filegroups to restore (PRIMARY always): restore_full leaves the rest OFFLINE */
        const char **fgs = arena_calloc(&s->stmt_arena, sizeof *fgs * (size_t)q->files.n);
        if (!fgs)
            return ex_failf(s, 701, 19, 1, "There is insufficient system memory to run this query.");
        for (int i = 0; i < q->files.n; i++) {
            if (strcmp(q->files.v[i]->name, "FILEGROUP") != 0)
                return ex_failf(s, 40027, 16, 1, "A partial restore by FILE = is not supported yet: name "
                                "filegroups.");
            if (opt_text(s, q->files.v[i], &fgs[i]) != EX_OK)
                return EX_ERROR;
            if (!fgs[i])
                fgs[i] = "";
        }
        o.filegroups = fgs;
        o.nfilegroups = q->files.n;
    } else if (q->files.n || ((q->kind == RESTORE_LOG || q->from.n == 0) && restore_page_active(s->in, dbname))) {
        return restore_pages(s, q, &o, dbname, what);
    }
    restore_result r;
    memset(&r, 0, sizeof r);
    if (q->from.n == 0) {   /* RESTORE DATABASE db WITH RECOVERY | NORECOVERY | STANDBY: nothing read */
        if (restore_recover_only(s->in, &o, &r, &s->err) < 0)
            return bk_terminate(s, what);
        processed(s, what, 0, r.seconds, 0);
        inst_log(s->in, o.recovery == RESTORE_RECOVERY ? "Database '%s' was recovered and is online."
                        : o.recovery == RESTORE_STANDBY ? "Database '%s' is in STANDBY (read-only)."
                                                        : "Database '%s' is RESTORING.", dbname);
        return ex_done(s, 0, CMD_NONE, 0, false);
    }
    bk_device dev;
    if (bk_resolve_device(s, q->from.v[0], &dev) != EX_OK)
        return bk_terminate(s, what);
    if (access(dev.path, R_OK) != 0)
        return hdb_raise(&s->err, 3201, dev.given, errno, strerror(errno)), bk_terminate(s, what);
    if (media_name) {
        hdb_err e;
        media_reader *m = media_open(dev.path, &e);
        bool same = !m || !strcmp(media_label(m)->name, media_name);
        if (m && !same) {
            char msg[HDB_ERR_MSG_MAX];
            snprintf(msg, sizeof msg, "The user-specified MEDIANAME \"%.200s\" does not match the MEDIANAME \"%.200s\" of the device \"%.400s\".",
                     media_name, media_label(m)->name, dev.given);
            hdb_raise_text(&s->err, 4037, 16, 1, msg);
        }
        if (m)
            media_close(m);
        if (!same)
            return bk_terminate(s, what);
    }
    o.device_path = dev.path;
    if (restore_run(s->in, &o, &r, &s->err) < 0) {
        device_error(s, &dev, false);
        return bk_terminate(s, what);
    }
    if (o.stats_percent && pr.last < 100)
        on_progress(&pr, 100);
    restored_files(s, &dev, &r, dbname);
    info_after_restore(s, r.info);
    database *now = inst_find_database(s->in, dbname);
    if (o.recovery == RESTORE_RECOVERY && now && now->state == DB_ONLINE && deferred_count(now) > 0)
        info_deferred_remain(s);
    processed(s, what, r.pages + (r.log_bytes + 8191) / 8192, r.seconds, r.pages * 8192 + r.log_bytes);
    bk_history_restore(s, &r, &o, &dev);
    inst_log(s->in, "%s: database '%s' from '%s' (file %d); the database is %s.", what, dbname, dev.path,
             r.position, db_state_desc(r.state));
    return ex_done(s, 0, CMD_NONE, 0, false);
}
