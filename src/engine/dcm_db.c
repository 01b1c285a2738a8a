/* dcm_db.c — the changed-extent map across checkpoints, crashes and restores
 * (see dcm_db.h; the invariant is in storage/README.md). */
#include "engine/dcm_db.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "engine/instance.h"
#include "log/logrec.h"

void db_dcm_path(const char *log_path, char *out, size_t cap)
{
    /* not "<log>.dcm": tests and fault rules match log file names by substring */
    const char *slash = strrchr(log_path, '/');
    const char *dot = strrchr(slash ? slash : log_path, '.');
    int stem = dot && dot != (slash ? slash + 1 : log_path) ? (int)(dot - log_path) : (int)strlen(log_path);
    snprintf(out, cap, "%.*s.dcm", stem, log_path);
}

/* Every page a log record from `from` on changes: marked. -1 if that part of
 * the log is no longer there (or cannot be read). */
static int mark_from_log(database *db, dcm *m, lsn_t from)
{
    logmgr *log = db->tdb.log;
    if (from < log_truncation_lsn(log))
        return -1;
    if (from >= log_end_lsn(log))
        return 0;
    hdb_err e;
    log_reader *rd = log_reader_open(log, from, 0, &e);
    if (!rd)
        return -1;
    log_rec r;
    int k;
    while ((k = log_reader_next(rd, &r, &e)) == 1) {
        size_t off;
        if (!logrec_pageops_offset(r.kind, r.body, r.body_len, &off))
            continue;
        pageop_iter it;
        if (pageop_iter_init(&it, r.body + off, r.body_len - off) < 0) {
            k = -1;
            break;
        }
        pgid_t id;
        const uint8_t *op;
        size_t oplen;
        while ((k = pageop_iter_next(&it, &id, &op, &oplen)) == 1)
            dcm_mark(m, id);
        if (k < 0)
            break;
    }
    log_reader_close(rd);
    return k < 0 ? -1 : 0;
}

void db_dcm_open(database *db)
{
    dcm *m = df_dcm(db->df);
    char path[PATH_MAX];
    db_dcm_path(db->log_path, path, sizeof path);
    lsn_t covered = 0;
    if (dcm_load(m, path, log_identity(db->tdb.log), &covered) < 0 || mark_from_log(db, m, covered) < 0)
        dcm_mark_all(m);
}

void db_dcm_save(database *db, lsn_t covered)
{
    char path[PATH_MAX];
    db_dcm_path(db->log_path, path, sizeof path);
    hdb_err e;
    hdb_err_clear(&e);
    if (dcm_save(df_dcm(db->df), path, log_identity(db->tdb.log), covered, &e) < 0 && db->inst)
        inst_log(db->inst, "Could not save the changed-extent map of database '%s' (%s); the next differential "
                 "backup may read more of the database.", db->tdb.name, e.msg);
}

void db_dcm_restored(database *db, lsn_t base, lsn_t floor, const dcm *changed)
{
    dcm *m = df_dcm(db->df);
    dcm_reset(m, base);
    if (changed)
        dcm_merge(m, changed);
    db_dcm_save(db, floor);
}

void db_dcm_remove(const char *log_path)
{
    char path[PATH_MAX];
    db_dcm_path(log_path, path, sizeof path);
    unlink(path);
}
