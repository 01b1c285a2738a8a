/* dbstate.c — OFFLINE / ONLINE (autorestart) / EMERGENCY, user access, and
 * the databases start-up cannot open (see dbstate.h). */
#include "engine/dbstate.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "access/space.h"
#include "engine/recovery.h"

const char *db_user_access_desc(int access)
{
    return access == DB_SINGLE_USER ? "SINGLE_USER" : access == DB_RESTRICTED_USER ? "RESTRICTED_USER" : "MULTI_USER";
}

int dbst_is_shell(const database *db) { return df_file(db->df, 1) == NULL; }

static void install(instance *in, uint32_t id, database *db)
{
    pthread_mutex_lock(&in->mu);
    in->dbs[id] = db;
    pthread_mutex_unlock(&in->mu);
}

/* What a shell keeps of the database it stands for: identity, options and
 * the file list (sys.databases, sys.master_files), and the primary file's
 * place. */
static database *shell_of(instance *in, database *db, int state, logmgr *log)
{
    char data[PATH_MAX], logp[PATH_MAX];
    const df_file_desc *d = df_file(db->df, 1);
    snprintf(data, sizeof data, "%s", d ? d->path : db->files.files[0].path);
    snprintf(logp, sizeof logp, "%s", db->log_path);
    database *sh = db_shell(in, in->bp, db->tdb.id, db->tdb.name, data, logp, log);
    if (!sh)
        return NULL;
    pthread_mutex_lock(&db->boot_mu);
    if (db->boot.magic == BOOT_MAGIC)
        sh->boot = db->boot;
    if (db->files.files[0].file_id)
        sh->files = db->files;
    pthread_mutex_unlock(&db->boot_mu);
    sh->state = state;
    return sh;
}

static const char oom[] = "There is insufficient system memory to run this query.";

int dbst_set_offline(instance *in, database *db, hdb_err *err)
{
    pthread_mutex_lock(&in->ddl_mu);
    int rc = 0;
    if (dbst_is_shell(db)) {
        db->state = DB_OFFLINE;
        goto out;
    }
    /* remembered across restarts when the database can still be written
     * (the clean close's checkpoint makes it durable); EMERGENCY, SUSPECT
     * and standby databases go offline until the next restart only */
    int clean = db->state == DB_ONLINE && !db->tdb.read_only_log;
    if (clean) {
        pthread_mutex_lock(&db->boot_mu);
        db->boot.set_offline = 1;
        rc = db_write_boot(db, err);
        if (rc < 0)
            db->boot.set_offline = 0;
        pthread_mutex_unlock(&db->boot_mu);
        if (rc < 0)
            goto out;
    }
    database *sh = shell_of(in, db, DB_OFFLINE, NULL);
    if (!sh) {
        rc = hdb_raise_text(err, 701, 19, 1, oom);
        goto out;
    }
    install(in, db->tdb.id, sh);
    db_close(db, clean);
    inst_log(in, "Setting database option OFFLINE to ON for database '%s'.", sh->tdb.name);
out:
    pthread_mutex_unlock(&in->ddl_mu);
    return rc;
}

static database *lookup(void *ctx, uint32_t id) { return inst_database(ctx, id); }

/* Open database `id` from the registry and recover it on its own. */
static int restart_locked(instance *in, database *db, database **out, hdb_err *err)
{
    uint32_t id = db->tdb.id;
    /* while it is closed and reopened the name stays taken: a RECOVERING
     * shell stands in */
    database *interim = shell_of(in, db, DB_RECOVERING, NULL);
    if (!interim)
        return hdb_raise_text(err, 701, 19, 1, oom);
    install(in, id, interim);
    int clean = db->state == DB_ONLINE || db->state == DB_EMERGENCY;
    db_close(db, clean);
    inst_log(in, "Starting up database '%s'.", interim->tdb.name);
    hdb_err e;
    hdb_err_clear(&e);
    database *ndb = inst_reopen(in, id, &e);
    if (!ndb) {
        char data[PATH_MAX], logp[PATH_MAX];
        logmgr *lg = NULL;
        hdb_err le;
        if (inst_registry_paths(in, id, data, logp) && access(logp, F_OK) == 0)
            lg = log_open(logp, NULL, &le);
        /* damaged files (823/824 reading the boot page): SUSPECT; missing or
         * inaccessible ones: RECOVERY_PENDING */
        int st = e.number == 823 || e.number == 824 ? DB_SUSPECT : DB_RECOVERY_PENDING;
        database *sh = shell_of(in, interim, st, lg);
        if (!sh) {
            if (lg)
                log_close(lg);
            /* keep the interim shell rather than lose the name */
            interim->state = DB_RECOVERY_PENDING;
            *out = interim;
            return hdb_raise_text(err, 701, 19, 1, oom);
        }
        install(in, id, sh);
        inst_log(in, "Database '%s' cannot be opened: %s (error %d). It has been marked %s.", sh->tdb.name, e.msg,
                 e.number, db_state_desc(st));
        db_close(interim, 0);
        *out = sh;
        if (err)
            *err = e;
        return -1;
    }
    int rc = 0;
    if (log_restore_state(ndb->tdb.log, NULL) != DB_RESTORE_NONE) {
        /* a restore sequence is in progress in its log: as at start-up */
        ndb->state = DB_RESTORING;
        if (log_restore_state(ndb->tdb.log, NULL) == DB_RESTORE_STANDBY && db_open_standby(ndb, &e) < 0) {
            db_set_read_only(ndb, 0, NULL);
            ndb->state = DB_RESTORING;
        }
        rc = ndb->state == DB_ONLINE ? 0 : hdb_raise(err, 927, ndb->tdb.name);
    } else {
        recovery *rv = recovery_begin(in->txns);
        int r = rv ? recovery_add(rv, ndb, &e) : hdb_raise_text(&e, 701, 19, 1, oom);
        if (r == 0)
            r = recovery_finish(rv, lookup, in, &e);
        recovery_stats st;
        memset(&st, 0, sizeof st);
        if (rv) {
            recovery_get_stats(rv, &st);
            recovery_free(rv);
        }
        if (r < 0 || ndb->state != DB_ONLINE) {
            ndb->state = DB_SUSPECT;
            inst_log(in, "An error occurred during recovery, preventing the database '%s' (%u) from restarting: %s "
                         "(error %d). The database is marked SUSPECT. (3414)",
                     ndb->tdb.name, id, e.number ? e.msg : "undo failed", e.number);
            char m[400];
            snprintf(m, sizeof m, "An error occurred during recovery, preventing the database '%s' (%u:0) from "
                     "restarting. Diagnose the recovery errors and fix them, or restore from a known good backup. "
                     "If errors are not corrected or expected, contact Technical Support.", ndb->tdb.name, id);
            rc = hdb_raise_text(err, 3414, 16, 1, m);
        } else {
            inst_log(in, "Recovery completed for database %s (database ID %u): %llu log records redone, "
                         "%llu transactions rolled back, %llu deferred.",
                     ndb->tdb.name, id, (unsigned long long)st.records_redone,
                     (unsigned long long)st.txns_rolled_back, (unsigned long long)st.txns_deferred);
            hdb_err ce;
            if (ndb->boot.set_offline) {
                pthread_mutex_lock(&ndb->boot_mu);
                ndb->boot.set_offline = 0;
                if (db_write_boot(ndb, &ce) < 0)
                    inst_log(in, "Database '%s': the OFFLINE option could not be cleared: %s", ndb->tdb.name, ce.msg);
                pthread_mutex_unlock(&ndb->boot_mu);
            }
            if (db_checkpoint(ndb, &ce) < 0)
                inst_log(in, "Checkpoint of database '%s' after recovery failed: %s", ndb->tdb.name, ce.msg);
        }
    }
    install(in, id, ndb);
    db_close(interim, 0);
    *out = ndb;
    return rc;
}

int dbst_restart(instance *in, database *db, database **out, hdb_err *err)
{
    pthread_mutex_lock(&in->ddl_mu);
    int rc = restart_locked(in, db, out, err);
    pthread_mutex_unlock(&in->ddl_mu);
    return rc;
}

int dbst_set_emergency(instance *in, database *db, database **out, hdb_err *err)
{
    pthread_mutex_lock(&in->ddl_mu);
    int rc = 0;
    database *d = db;
    *out = db;
    if (dbst_is_shell(db)) {
        /* its files, as they are: no redo, no undo */
        d = inst_reopen(in, db->tdb.id, err);
        if (!d) {
            rc = -1;
            goto out;
        }
    }
    if (!d->sys[SYSOBJ_OBJECTS].root && db_load_boot(d, err) < 0) {
        rc = -1;
    } else if (!d->tdb.read_only_log && db_set_read_only(d, 1, err) < 0) {
        rc = -1;
    }
    if (rc < 0) {
        if (d != db)
            db_close(d, 0);
        goto out;
    }
    d->state = DB_EMERGENCY;
    if (d != db) {
        install(in, d->tdb.id, d);
        db_close(db, 0);
    }
    *out = d;
    inst_log(in, "Setting database option EMERGENCY to ON for database '%s'.", d->tdb.name);
out:
    pthread_mutex_unlock(&in->ddl_mu);
    return rc;
}

int dbst_set_user_access(database *db, int access, hdb_err *err)
{
    pthread_mutex_lock(&db->boot_mu);
    int old = db->boot.user_access, rc = 0;
    db->boot.user_access = (uint8_t)access;
    /* an EMERGENCY (read-only) database keeps it in memory: the repair that
     * usually follows needs SINGLE_USER there */
    if (old != access && !dbst_is_shell(db) && db->state == DB_ONLINE && !db->tdb.read_only_log) {
        rc = db_write_boot(db, err);
        if (rc < 0)
            db->boot.user_access = (uint8_t)old;
    }
    pthread_mutex_unlock(&db->boot_mu);
    return rc;
}

void dbst_pending_at_start(instance *in, uint32_t id, const char *name, const char *data, const char *log,
                           int error, const char *why)
{
    int st = error == 823 || error == 824 ? DB_SUSPECT : DB_RECOVERY_PENDING;
    hdb_err e;
    logmgr *lg = access(log, F_OK) == 0 ? log_open(log, NULL, &e) : NULL;
    database *sh = db_shell(in, in->bp, id, name, data, log, lg);
    if (!sh) {
        if (lg)
            log_close(lg);
        inst_log(in, "Database '%s' cannot be opened and is left out: %s", name, why);
        return;
    }
    sh->state = st;
    install(in, id, sh);
    inst_log(in, "Database '%s' cannot be opened: %s. It has been marked %s.", name, why, db_state_desc(st));
}

int dbst_offline_at_start(instance *in, database *db)
{
    uint8_t *pg = malloc(PAGE_SIZE);
    hdb_err e;
    int offline = 0;
    if (pg && df_read_page(db->df, SPACE_BOOT_PAGE, pg, &e) == 0) {
        const boot_info *b = (const boot_info *)(pg + PAGE_HEADER_SIZE);
        if (b->magic == BOOT_MAGIC && b->set_offline) {
            memcpy(&db->boot, b, sizeof db->boot);
            offline = 1;
        }
    }
    free(pg);
    if (!offline)
        return 0;
    database *sh = shell_of(in, db, DB_OFFLINE, NULL);
    if (!sh)
        return 0;   /* then it is simply recovered */
    install(in, db->tdb.id, sh);
    db_close(db, 0);
    inst_log(in, "Database '%s' is OFFLINE (ALTER DATABASE ... SET OFFLINE); it is not started.", sh->tdb.name);
    return 1;
}

int dbst_drop_shell(instance *in, database *db, hdb_err *err)
{
    pthread_mutex_lock(&in->ddl_mu);
    int rc = inst_unregister(in, db->tdb.id, err);
    if (rc == 0) {
        pthread_mutex_lock(&in->mu);
        if (in->dbs[db->tdb.id] == db)
            in->dbs[db->tdb.id] = NULL;
        pthread_mutex_unlock(&in->mu);
        inst_log(in, "Database '%s' dropped (its files were not open and are left on disk).", db->tdb.name);
        db_close(db, 0);
    }
    pthread_mutex_unlock(&in->ddl_mu);
    return rc;
}
