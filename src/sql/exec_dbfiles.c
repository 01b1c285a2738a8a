/*
 * exec_dbfiles.c — ALTER DATABASE db MODIFY FILE (NAME = x, OFFLINE) and
 * ALTER DATABASE db REMOVE FILE x (seed 004, engine/README.md "Offline
 * files").
 *
 * OFFLINE is for a damaged secondary file that will be restored: every
 * object in its filegroup becomes unusable (8653), the rest of the database
 * keeps working, and only a RESTORE brings the file back. On an open
 * database it needs the database to itself (the termination clause of SET
 * OFFLINE applies), then restarts it with the file closed: recovery redoes
 * nothing into it and defers any transaction whose rollback needs it. On a
 * database whose files could not be opened (RECOVERY_PENDING, e.g. that file
 * is missing) master remembers the state, so the next SET ONLINE opens the
 * database without the file.
 *
 * REMOVE FILE of an offline file makes it DEFUNCT: its data is given up for
 * good, transactions deferred because of it are rolled back (their changes
 * to it skipped), and it can never be restored. Removing an online file
 * (which must be empty) is not supported yet.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "engine/dbstate.h"
#include "engine/deferred.h"
#include "engine/suspect.h"
#include "sql/exec_int.h"

/* The file named `name` in db: from the open boot page, or for a database
 * whose files are not open, from its primary file on disk. */
static int find_file(database *db, const char *name, boot_file *out)
{
    if (!dbst_is_shell(db))
        return db_file_by_name(db, name, out);
    boot_files *bf = malloc(sizeof *bf);
    hdb_err e;
    int id = 0;
    if (bf && db_peek_files(db->files.files[0].path, bf, &e) == 0)
        for (int i = 0; i < BOOT_MAX_FILES && !id; i++)
            if (bf->files[i].file_id && !strcasecmp(bf->files[i].logical, name)) {
                id = bf->files[i].file_id;
                *out = bf->files[i];
            }
    free(bf);
    return id;
}

static int file_checks(sql_session *s, database *db, const char *name, boot_file *bf, const char *what)
{
    if (s->trancount > 0)
        return ex_failf(s, 226, 16, 6, "ALTER DATABASE statement not allowed within multi-statement transaction.");
    if (db->state == DB_RESTORING)
        return ex_failf(s, 5052, 16, 1, "ALTER DATABASE is not permitted while a database is in the Restoring "
                                        "state.");
    if (!find_file(db, name, bf))
        return ex_failf(s, 5041, 16, 1, "%s failed. File '%s' does not exist.", what, name);
    if (bf->file_id == 1 && !strcmp(what, "REMOVE FILE"))
        return ex_failf(s, 5020, 16, 1, "The primary data or log file cannot be removed from a database.");
    if (bf->file_id == 1 || bf->fg_id == 1)
        return ex_failf(s, 5077, 16, 1, "Cannot change the state of non-data files or files in the primary "
                                        "filegroup.");
    return EX_OK;
}

/* master's row for the file: the path it is registered at (a RESTORE ...
 * MOVE may have changed it since the boot page was written) */
static int set_registry_state(sql_session *s, database *db, const boot_file *bf, int state)
{
    char path[PATH_MAX];
    if (!inst_registered_path(s->in, db->tdb.id, bf->file_id, path, sizeof path))
        snprintf(path, sizeof path, "%s", bf->path);
    return inst_set_file_state(s->in, db->tdb.id, bf->file_id, path, state, &s->err);
}

static int modify_file_offline(sql_session *s, ast_alter_database *ad, database *db)
{
    const ast_filespec *f = ad->files.v[0];
    if (!f->offline || f->newname || f->filename || f->size_kb != AST_SIZE_UNSET ||
        f->maxsize_kb != AST_SIZE_UNSET || f->growth != AST_SIZE_UNSET)
        return ex_failf(s, 40001, 16, 1, "ALTER DATABASE MODIFY FILE is supported only as (NAME = file, OFFLINE) "
                                         "yet.");
    boot_file bf;
    int rc = file_checks(s, db, f->name ? f->name : "", &bf, "MODIFY FILE");
    if (rc != EX_OK)
        return rc;
    if (bf.state == DF_DEFUNCT)
        return ex_failf(s, 5056, 16, 1, "Cannot add, remove, or modify a file in filegroup '%s' because the "
                        "filegroup is not online.", f->name);
    bool open = !dbst_is_shell(db) && db->state == DB_ONLINE;
    if (open) {
        rc = ex_db_exclusive(s, db, ad);
        if (rc != EX_OK)
            return rc;
        /* everything of the file's on disk before it closes */
        if (inst_checkpoint(s->in, db, &s->err) < 0 || db_set_file_state(db, bf.file_id, DF_OFFLINE, &s->err) < 0)
            return EX_ERROR;
    }
    if (set_registry_state(s, db, &bf, DF_OFFLINE) < 0)
        return EX_ERROR;
    inst_log(s->in, "File '%s' (file id %u) of database '%s' has been set OFFLINE; only a RESTORE can bring it "
             "back online.", bf.logical, bf.file_id, db->tdb.name);
    if (open) {
        database *now;
        if (ex_db_restart(s, db, &now) < 0)
            return EX_ERROR;
    }
    return ex_done(s, 0, CMD_NONE, 0, false);
}

static int remove_file(sql_session *s, ast_alter_database *ad, database *db)
{
    boot_file bf;
    int rc = file_checks(s, db, ad->target ? ad->target : "", &bf, "REMOVE FILE");
    if (rc != EX_OK)
        return rc;
    if (dbst_is_shell(db) || db->state != DB_ONLINE) {
        ex_db_usable(s, db, &s->err);
        return EX_ERROR;
    }
    if (bf.state == DF_ONLINE)
        return ex_failf(s, 40001, 16, 1, "ALTER DATABASE REMOVE FILE of an online file is not supported yet.");
    if (bf.state != DF_DEFUNCT) {
        if (db_set_file_state(db, bf.file_id, DF_DEFUNCT, &s->err) < 0 ||
            set_registry_state(s, db, &bf, DF_DEFUNCT) < 0)
            return EX_ERROR;
        suspect_forget(s->in, db->tdb.id, bf.file_id);
        inst_log(s->in, "File '%s' (file id %u) of database '%s' is DEFUNCT: it can never be restored.",
                 bf.logical, bf.file_id, db->tdb.name);
    }
    /* what was deferred for want of this file rolls back now, skipping it */
    if (deferred_count(db) > 0) {
        hdb_err e;
        hdb_err_clear(&e);
        int left = deferred_retry(db, &e);
        if (left != 0)
            inst_log(s->in, "Database '%s': %d deferred transaction(s) remain after REMOVE FILE '%s'%s%s.",
                     db->tdb.name, left, bf.logical, e.number ? ": " : "", e.number ? e.msg : "");
    }
    char m[300];
    snprintf(m, sizeof m, "The file '%s' has been removed.", bf.logical);
    ex_info(s, 0, 0, 1, m);
    return ex_done(s, 0, CMD_NONE, 0, false);
}

int ex_alter_db_file(sql_session *s, ast_alter_database *ad, database *db)
{
    if (ad->action == ALTERDB_MODIFY_FILE)
        return modify_file_offline(s, ad, db);
    return remove_file(s, ad, db);
}
