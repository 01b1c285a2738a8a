/*
 * ast_print_admin.c — the canonical printer, admin statements: SET options,
 * CREATE/ALTER DATABASE, BACKUP, RESTORE, ENDPOINT (see ast_print.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sql/ast_print_int.h"

static void put_size(ast_sb *b, const char *name, int64_t kb, bool percent)
{
    ast_sb_printf(b, ", %s = ", name);
    if (kb == AST_SIZE_UNLIMITED)
        ast_sb_put(b, "UNLIMITED");
    else if (percent)
        ast_sb_printf(b, "%lld%%", (long long)kb);
    else
        ast_sb_printf(b, "%lldKB", (long long)kb);
}

static void put_filespec(ast_sb *b, const ast_filespec *f)
{
    /* A leading marker keeps the separator logic trivial; dropped below. */
    ast_sb tmp = { .lits = b->lits };
    if (f->name) {
        ast_sb_put(&tmp, ", NAME = ");
        ast_pr_name(&tmp, f->name);
    }
    if (f->newname) {
        ast_sb_put(&tmp, ", NEWNAME = ");
        ast_pr_name(&tmp, f->newname);
    }
    if (f->filename) {
        ast_sb_put(&tmp, ", FILENAME = N'");
        for (const char *c = f->filename; *c; c++)
            ast_sb_put(&tmp, *c == '\'' ? "''" : (char[2]){ *c, 0 });
        ast_sb_put(&tmp, "'");
    }
    if (f->size_kb != AST_SIZE_UNSET)
        put_size(&tmp, "SIZE", f->size_kb, false);
    if (f->maxsize_kb != AST_SIZE_UNSET)
        put_size(&tmp, "MAXSIZE", f->maxsize_kb, false);
    if (f->growth != AST_SIZE_UNSET)
        put_size(&tmp, "FILEGROWTH", f->growth, f->growth_percent);
    if (f->offline)
        ast_sb_put(&tmp, ", OFFLINE");
    ast_sb_put(b, "(");
    if (tmp.p && tmp.n > 2)
        ast_sb_put(b, tmp.p + 2);
    free(tmp.p);
    ast_sb_put(b, ")");
}

static void put_filespecs(ast_sb *b, const ast_filespec_list *l)
{
    for (int i = 0; i < l->n; i++) {
        if (i)
            ast_sb_put(b, ", ");
        put_filespec(b, l->v[i]);
    }
}

static void put_device(ast_sb *b, const ast_device *d)
{
    switch (d->kind) {
    case DEV_LOGICAL:
        if (d->name)
            ast_pr_name(b, d->name);
        else
            ast_pr_expr(b, d->value);
        return;
    case DEV_DISK: ast_sb_put(b, "DISK = "); break;
    case DEV_TAPE: ast_sb_put(b, "TAPE = "); break;
    case DEV_URL: ast_sb_put(b, "URL = "); break;
    case DEV_DATABASE_SNAPSHOT:
        ast_sb_put(b, "DATABASE_SNAPSHOT = ");
        ast_pr_name(b, d->name);
        return;
    }
    ast_pr_expr(b, d->value);
}

static void put_devices(ast_sb *b, const ast_device_list *l)
{
    for (int i = 0; i < l->n; i++) {
        if (i)
            ast_sb_put(b, ", ");
        put_device(b, l->v[i]);
    }
}

static void put_dbref(ast_sb *b, const ast_dbref *d)
{
    if (d->var)
        ast_sb_put(b, d->var);
    else
        ast_pr_name(b, d->name);
}

void ast_pr_set_option(ast_sb *b, const ast_set_option *o)
{
    if (o->kind == SETVAL_ISOLATION) {
        static const char *const lv[] = {
            [ISO_READ_UNCOMMITTED] = "READ UNCOMMITTED", [ISO_READ_COMMITTED] = "READ COMMITTED",
            [ISO_REPEATABLE_READ] = "REPEATABLE READ", [ISO_SNAPSHOT] = "SNAPSHOT",
            [ISO_SERIALIZABLE] = "SERIALIZABLE",
        };
        ast_sb_put(b, "SET TRANSACTION ISOLATION LEVEL ");
        ast_sb_put(b, lv[o->isolation]);
        return;
    }
    ast_sb_put(b, "SET ");
    for (int i = 0; i < o->names.n; i++) {
        if (i)
            ast_sb_put(b, ", ");
        ast_sb_put(b, o->names.v[i]);
    }
    if (o->table.nparts) {
        ast_sb_put(b, " ");
        ast_pr_objname(b, &o->table);
    }
    switch (o->kind) {
    case SETVAL_ON: ast_sb_put(b, " ON"); break;
    case SETVAL_OFF: ast_sb_put(b, " OFF"); break;
    case SETVAL_VALUE: ast_sb_put(b, " "); ast_pr_expr(b, o->value); break;
    case SETVAL_WORD: ast_sb_put(b, " "); ast_pr_word(b, o->word); break;
    default: break;
    }
}

void ast_pr_alter_database(ast_sb *b, const ast_alter_database *a)
{
    ast_sb_put(b, "ALTER DATABASE ");
    if (a->current)
        ast_sb_put(b, "CURRENT");
    else
        ast_pr_name(b, a->name);
    switch (a->action) {
    case ALTERDB_SET:
        ast_sb_put(b, " SET ");
        ast_pr_options(b, &a->options, AST_PR_SPACE);
        break;
    case ALTERDB_PARTNER:
    case ALTERDB_WITNESS:
        ast_sb_put(b, a->action == ALTERDB_PARTNER ? " SET PARTNER" : " SET WITNESS");
        switch (a->mirror) {
        case MIRROR_ADDRESS: ast_sb_put(b, " = "); ast_pr_expr(b, a->mirror_value); break;
        case MIRROR_FAILOVER: ast_sb_put(b, " FAILOVER"); break;
        case MIRROR_FORCE_SERVICE: ast_sb_put(b, " FORCE_SERVICE_ALLOW_DATA_LOSS"); break;
        case MIRROR_OFF: ast_sb_put(b, " OFF"); break;
        case MIRROR_RESUME: ast_sb_put(b, " RESUME"); break;
        case MIRROR_SUSPEND: ast_sb_put(b, " SUSPEND"); break;
        case MIRROR_SAFETY_FULL: ast_sb_put(b, " SAFETY FULL"); break;
        case MIRROR_SAFETY_OFF: ast_sb_put(b, " SAFETY OFF"); break;
        case MIRROR_TIMEOUT: ast_sb_put(b, " TIMEOUT "); ast_pr_expr(b, a->mirror_value); break;
        }
        break;
    case ALTERDB_ADD_FILE:
    case ALTERDB_ADD_LOG_FILE:
        ast_sb_put(b, a->action == ALTERDB_ADD_FILE ? " ADD FILE " : " ADD LOG FILE ");
        put_filespecs(b, &a->files);
        if (a->target) {
            ast_sb_put(b, " TO FILEGROUP ");
            ast_pr_name(b, a->target);
        }
        break;
    case ALTERDB_REMOVE_FILE:
        ast_sb_put(b, " REMOVE FILE ");
        ast_pr_name(b, a->target);
        break;
    case ALTERDB_MODIFY_FILE:
        ast_sb_put(b, " MODIFY FILE ");
        put_filespecs(b, &a->files);
        break;
    case ALTERDB_ADD_FILEGROUP:
        ast_sb_put(b, " ADD FILEGROUP ");
        ast_pr_name(b, a->target);
        if (a->options.n) {
            ast_sb_put(b, " ");
            ast_sb_put(b, a->options.v[0]->name);
        }
        break;
    case ALTERDB_REMOVE_FILEGROUP:
        ast_sb_put(b, " REMOVE FILEGROUP ");
        ast_pr_name(b, a->target);
        break;
    case ALTERDB_MODIFY_FILEGROUP:
        ast_sb_put(b, " MODIFY FILEGROUP ");
        ast_pr_name(b, a->target);
        ast_sb_put(b, " ");
        ast_pr_options(b, &a->options, AST_PR_EQ);
        break;
    case ALTERDB_MODIFY_NAME:
        ast_sb_put(b, " MODIFY NAME = ");
        ast_pr_name(b, a->target);
        break;
    case ALTERDB_COLLATE:
        ast_sb_put(b, " COLLATE ");
        ast_pr_collation(b, a->target);
        break;
    }
    switch (a->termination) {
    case TERM_ROLLBACK_IMMEDIATE: ast_sb_put(b, " WITH ROLLBACK IMMEDIATE"); break;
    case TERM_ROLLBACK_AFTER: ast_sb_printf(b, " WITH ROLLBACK AFTER %d SECONDS", a->rollback_after); break;
    case TERM_NO_WAIT: ast_sb_put(b, " WITH NO_WAIT"); break;
    default: break;
    }
}

void ast_pr_create_database(ast_sb *b, const ast_create_database *c)
{
    ast_sb_put(b, "CREATE DATABASE ");
    ast_pr_name(b, c->name);
    const ast_option *cont = ast_option_find(&c->with, "CONTAINMENT");
    if (cont) {
        ast_sb_put(b, " ");
        ast_pr_option(b, cont, AST_PR_EQ);
    }
    for (int g = 0; g < c->filegroups.n; g++) {
        const ast_filegroup *fg = c->filegroups.v[g];
        if (g == 0) {
            ast_sb_put(b, " ON PRIMARY ");
        } else {
            ast_sb_put(b, ", FILEGROUP ");
            ast_pr_name(b, fg->name);
            if (fg->contains_filestream)
                ast_sb_put(b, " CONTAINS FILESTREAM");
            if (fg->is_default)
                ast_sb_put(b, " DEFAULT");
            ast_sb_put(b, " ");
        }
        put_filespecs(b, &fg->files);
    }
    if (c->log_files.n) {
        ast_sb_put(b, " LOG ON ");
        put_filespecs(b, &c->log_files);
    }
    if (c->collation) {
        ast_sb_put(b, " COLLATE ");
        ast_pr_collation(b, c->collation);
    }
    bool first = true;
    for (int i = 0; i < c->with.n; i++) {
        if (strcmp(c->with.v[i]->name, "CONTAINMENT") == 0)
            continue;
        ast_sb_put(b, first ? " WITH " : ", ");
        first = false;
        ast_pr_option(b, c->with.v[i], AST_PR_EQ);
    }
    if (c->attach == ATTACH)
        ast_sb_put(b, " FOR ATTACH");
    else if (c->attach == ATTACH_REBUILD_LOG)
        ast_sb_put(b, " FOR ATTACH_REBUILD_LOG");
    if (c->snapshot_of) {
        ast_sb_put(b, " AS SNAPSHOT OF ");
        ast_pr_name(b, c->snapshot_of);
    }
}

void ast_pr_backup(ast_sb *b, const ast_backup *k)
{
    ast_sb_put(b, k->log ? "BACKUP LOG " : "BACKUP DATABASE ");
    put_dbref(b, &k->db);
    if (k->files.n) {
        ast_sb_put(b, " ");
        ast_pr_options(b, &k->files, AST_PR_EQ);
    }
    ast_sb_put(b, " TO ");
    put_devices(b, &k->to);
    for (int i = 0; i < k->mirror_to.n; i++) {
        ast_sb_put(b, " MIRROR TO ");
        put_devices(b, k->mirror_to.v[i]);
    }
    if (k->with.n) {
        ast_sb_put(b, " WITH ");
        ast_pr_options(b, &k->with, AST_PR_EQ);
    }
}

void ast_pr_restore(ast_sb *b, const ast_restore *r)
{
    static const char *const kinds[] = {
        [RESTORE_DATABASE] = "DATABASE", [RESTORE_LOG] = "LOG",
        [RESTORE_HEADERONLY] = "HEADERONLY", [RESTORE_FILELISTONLY] = "FILELISTONLY",
        [RESTORE_VERIFYONLY] = "VERIFYONLY", [RESTORE_LABELONLY] = "LABELONLY",
        [RESTORE_REWINDONLY] = "REWINDONLY",
    };
    ast_sb_put(b, "RESTORE ");
    ast_sb_put(b, kinds[r->kind]);
    if (r->kind == RESTORE_DATABASE || r->kind == RESTORE_LOG) {
        ast_sb_put(b, " ");
        put_dbref(b, &r->db);
    }
    if (r->files.n) {
        ast_sb_put(b, " ");
        ast_pr_options(b, &r->files, AST_PR_EQ);
    }
    if (r->from.n) {
        ast_sb_put(b, " FROM ");
        put_devices(b, &r->from);
    }
    if (r->with.n) {
        ast_sb_put(b, " WITH ");
        ast_pr_options(b, &r->with, AST_PR_EQ);
    }
}

void ast_pr_endpoint(ast_sb *b, const ast_endpoint *e)
{
    ast_sb_put(b, e->alter ? "ALTER ENDPOINT " : "CREATE ENDPOINT ");
    ast_pr_name(b, e->name);
    if (e->authorization) {
        ast_sb_put(b, " AUTHORIZATION ");
        ast_pr_name(b, e->authorization);
    }
    if (e->state) {
        ast_sb_put(b, " STATE = ");
        ast_pr_word(b, e->state);
    }
    if (e->protocol) {
        ast_sb_put(b, " AS ");
        ast_sb_put(b, e->protocol);
        ast_sb_put(b, " (");
        ast_pr_options(b, &e->protocol_options, AST_PR_EQ);
        ast_sb_put(b, ")");
    }
    if (e->payload) {
        ast_sb_put(b, " FOR ");
        ast_sb_put(b, e->payload);
        ast_sb_put(b, " (");
        ast_pr_options(b, &e->payload_options, AST_PR_EQ);
        ast_sb_put(b, ")");
    }
}

