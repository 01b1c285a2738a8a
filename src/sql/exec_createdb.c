/*
 * exec_createdb.c — CREATE DATABASE (plain, with file clauses, FOR ATTACH),
 * sp_detach_db / sp_attach_db, and the file spec conversion that ALTER
 * DATABASE ADD FILE shares (ex_file_spec). The work is engine/attach.h's;
 * this file maps the statement onto it and says what SQL Server says:
 *
 *   <path problem: 5170, 5133, 5123, 5120, 5105>, then 1802 (CREATE DATABASE failed)
 *   <why the files could not be opened or recovered>, then 1813 (FOR ATTACH)
 *
 * A relative FILENAME is under DATADIR/data, as for ADD FILE and RESTORE ...
 * MOVE. Sizes are in KB in the tree (default unit MB, parser_ddl.c) and in
 * 8 KB pages here; a data file is at least 8 pages. What is not supported
 * answers 40021 before anything is done: AS SNAPSHOT OF (database snapshots),
 * FOR ATTACH_REBUILD_LOG (a log cannot be rebuilt here), more than one log
 * file (a database has one log file), FILEGROUP ... DEFAULT and CONTAINS
 * FILESTREAM. COLLATE and WITH options are accepted and ignored, as for a
 * CREATE DATABASE without files.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "engine/attach.h"
#include "sql/exec_int.h"

/* ------------------------------------------------------------ file specs */

/* KB from a file spec -> pages (at least 8: header, bitmap and some data). */
static uint32_t kb_pages(int64_t kb, uint32_t dflt)
{
    if (kb == AST_SIZE_UNSET)
        return dflt;
    int64_t pages = (kb + 7) / 8;
    return pages < 8 ? 8 : pages > UINT32_MAX ? UINT32_MAX : (uint32_t)pages;
}

void ex_file_path(sql_session *s, const char *filename, char *out, size_t cap)
{
    if (filename[0] == '/')
        snprintf(out, cap, "%s", filename);
    else
        snprintf(out, cap, "%s/data/%s", s->in->datadir, filename);
}

int ex_file_spec(sql_session *s, const ast_filespec *f, uint32_t default_pages, db_file_spec *spec)
{
    memset(spec, 0, sizeof *spec);
    snprintf(spec->logical_name, sizeof spec->logical_name, "%s", f->name ? f->name : "");
    if (f->filename)
        ex_file_path(s, f->filename, spec->path, sizeof spec->path);
    spec->size_pages = kb_pages(f->size_kb, default_pages);
    spec->max_pages = f->maxsize_kb == AST_SIZE_UNLIMITED ? 0 : kb_pages(f->maxsize_kb, 0);
    if (spec->max_pages && spec->max_pages < spec->size_pages) {
        hdb_raise(&s->err, 1545, spec->logical_name);
        return EX_ERROR;
    }
    if (f->growth_percent)
        spec->growth_pages = (uint32_t)((uint64_t)spec->size_pages * (uint64_t)f->growth / 100);
    else
        spec->growth_pages = f->growth == AST_SIZE_UNSET ? 1024 : f->growth ? kb_pages(f->growth, 0) : 0;
    if (f->growth != AST_SIZE_UNSET && f->growth && !spec->growth_pages)
        spec->growth_pages = 1;
    spec->no_growth = f->growth == 0;   /* FILEGROWTH = 0 (or 0%) */
    return EX_OK;
}

/* ------------------------------------------------------------ CREATE DATABASE */

static int not_supported(sql_session *s, const char *what, const char *why)
{
    return ex_failf(s, 40021, 16, 1, "CREATE DATABASE %s is not supported%s%s.", what, why ? ": " : "", why ? why : "");
}

/* A file clause of CREATE DATABASE (not FOR ATTACH): NAME and FILENAME. */
static int create_spec(sql_session *s, const ast_filespec *f, uint32_t default_pages, db_file_spec *spec)
{
    if (!f->name || !f->name[0] || !f->filename || !f->filename[0])
        return ex_failf(s, 40021, 16, 1, "CREATE DATABASE needs NAME and FILENAME for every file%s%s%s.",
                        f->name ? " (file '" : "", f->name ? f->name : "", f->name ? "')" : "");
    if (f->newname || f->offline)
        return ex_failf(s, 102, 15, 1, "Incorrect syntax near '%s'.", f->newname ? "NEWNAME" : "OFFLINE");
    return ex_file_spec(s, f, default_pages, spec);
}

/* The cause goes to the client, then `number` is the statement's error.
 * Inside TRY only the last error reaches the CATCH block, as in SQL Server
 * (the cause is not sent). The cause is about files that are not (yet) a
 * database of this server, so an 823 / 824 among them is sent at severity
 * 16, not 24: it must not end the session (the error log has it as is). */
static int fail_after_cause(sql_session *s, int number, const char *arg)
{
    if (s->err.severity > 16)
        s->err.severity = 16;
    if (s->try_depth == 0)
        ex_report(s, &s->err, s->cur_line);
    hdb_raise(&s->err, number, arg);
    return EX_ERROR;
}

/* After the engine's error: the path problems get SQL Server's 1802. */
static int create_failed(sql_session *s)
{
    int n = s->err.number;
    if (n == 5170 || n == 5133 || n == 5123 || n == 5120 || n == 5105)
        return fail_after_cause(s, 1802, NULL);
    return EX_ERROR;
}

static int create_with_files(sql_session *s, ast_create_database *cd)
{
    int nfiles = 0;
    for (int g = 0; g < cd->filegroups.n; g++)
        nfiles += cd->filegroups.v[g]->files.n;
    attach_file *files = arena_calloc(&s->stmt_arena, sizeof *files * (size_t)(nfiles + 1));
    const char **fgs = arena_calloc(&s->stmt_arena, sizeof *fgs * (size_t)(cd->filegroups.n + 1));
    if (!files || !fgs)
        return ex_failf(s, 701, 19, 1, "There is insufficient system memory to run this query.");
    attach_layout l = { .name = cd->name, .files = files, .filegroups = fgs };
    int nf = 0;
    for (int g = 0; g < cd->filegroups.n; g++) {
        const ast_filegroup *fg = cd->filegroups.v[g];
        if (fg->contains_filestream)
            return not_supported(s, "with a FILESTREAM filegroup", NULL);
        if (fg->is_default)
            return not_supported(s, "with FILEGROUP ... DEFAULT", "PRIMARY is always the default filegroup");
        if (g > 0)
            fgs[l.nfilegroups++] = fg->name;
        for (int i = 0; i < fg->files.n; i++) {
            db_file_spec *spec = g == 0 && i == 0 ? &l.data : &files[nf].spec;
            if (create_spec(s, fg->files.v[i], 1024, spec) != EX_OK)
                return EX_ERROR;
            if (spec != &l.data)
                files[nf++].filegroup = g == 0 ? NULL : fg->name;
        }
    }
    l.nfiles = nf;
    if (!cd->filegroups.n) {   /* LOG ON alone: the primary file where a plain CREATE puts it */
        snprintf(l.data.logical_name, sizeof l.data.logical_name, "%s", cd->name);
        snprintf(l.data.path, sizeof l.data.path, "%s/data/%.128s.mdf", s->in->datadir, cd->name);
        l.data.size_pages = l.data.growth_pages = 1024;
    }
    if (cd->log_files.n > 1)
        return not_supported(s, "with more than one log file", "a database has one log file");
    if (cd->log_files.n) {
        const ast_filespec *f = cd->log_files.v[0];
        if (create_spec(s, f, 0, &l.log) != EX_OK)
            return EX_ERROR;
    } else {
        snprintf(l.log.logical_name, sizeof l.log.logical_name, "%.120s_log", cd->name);
        snprintf(l.log.path, sizeof l.log.path, "%s/data/%.128s_log.ldf", s->in->datadir, cd->name);
    }
    if (!attach_create_database(s->in, &l, &s->err))
        return create_failed(s);
    return ex_done(s, 0, CMD_NONE, 0, false);
}

/* CREATE DATABASE d ON (FILENAME = ...), ... [LOG ON (FILENAME = ...)] FOR ATTACH */
static int attach_files(sql_session *s, ast_create_database *cd)
{
    int n = cd->log_files.n;
    for (int g = 0; g < cd->filegroups.n; g++)
        n += cd->filegroups.v[g]->files.n;
    if (!cd->filegroups.n)
        return ex_failf(s, 40021, 16, 1, "CREATE DATABASE ... FOR ATTACH needs the files: ON (FILENAME = '...mdf'), ...");
    const char **paths = arena_calloc(&s->stmt_arena, sizeof *paths * (size_t)n);
    if (!paths)
        return ex_failf(s, 701, 19, 1, "There is insufficient system memory to run this query.");
    int k = 0;
    for (int g = 0; g <= cd->filegroups.n; g++) {
        const ast_filespec_list *l = g < cd->filegroups.n ? &cd->filegroups.v[g]->files : &cd->log_files;
        for (int i = 0; i < l->n; i++) {
            const ast_filespec *f = l->v[i];
            if (!f->filename || !f->filename[0])
                return ex_failf(s, 40021, 16, 1, "CREATE DATABASE ... FOR ATTACH needs a FILENAME for every file.");
            char *p = arena_alloc(&s->stmt_arena, PATH_MAX);
            if (!p)
                return ex_failf(s, 701, 19, 1, "There is insufficient system memory to run this query.");
            ex_file_path(s, f->filename, p, PATH_MAX);
            paths[k++] = p;
        }
    }
    int aborted = 0;
    if (attach_database(s->in, cd->name, paths, k, &aborted, &s->err))
        return ex_done(s, 0, CMD_NONE, 0, false);
    return aborted ? fail_after_cause(s, 1813, cd->name) : EX_ERROR;
}

int ex_create_database(sql_session *s, ast_stmt *st)
{
    ast_create_database *cd = &st->u.create_db;
    if (s->trancount > 0)
        return ex_failf(s, 226, 16, 6, "CREATE DATABASE statement not allowed within multi-statement transaction.");
    if (cd->snapshot_of)
        return not_supported(s, "... AS SNAPSHOT OF", "database snapshots are not implemented");
    if (cd->attach == ATTACH_REBUILD_LOG)
        return not_supported(s, "... FOR ATTACH_REBUILD_LOG", "this server cannot rebuild a log; attach with the log file");
    if (cd->attach == ATTACH)
        return attach_files(s, cd);
    if (cd->filegroups.n || cd->log_files.n)
        return create_with_files(s, cd);
    if (!inst_create_database(s->in, cd->name, &s->err))
        return EX_ERROR;
    return ex_done(s, 0, CMD_NONE, 0, false);
}

/* ------------------------------------------------------------ sp_detach_db, sp_attach_db */

bool sysproc_is_attach_proc(const char *name)
{
    return !strcasecmp(name, "sp_detach_db") || !strcasecmp(name, "sp_attach_db");
}

/* sp_detach_db [@dbname =] 'db' [, [@skipchecks =] ...] [, [@keepfulltextindexfile =] ...]
 * sp_attach_db [@dbname =] 'db', [@filename1 =] 'path' [, ... @filename16]
 * (@skipchecks: statistics are not kept here, so there is nothing to update.) */
int sysproc_attach(sql_session *s, const char *name, const sql_rpc_param *params, int n)
{
    if (strcasecmp(s->login, "sa") != 0)
        return ex_failf(s, 15247, 16, 1, "User does not have permission to perform this action.");
    const char *db = sysproc_text_arg(s, params, n, 0, "@dbname");
    if (!db)
        return ex_failf(s, 201, 16, 4, "Procedure or function '%s' expects parameter '@dbname', which was not supplied.",
                        name);
    if (s->trancount > 0)
        return ex_failf(s, 226, 16, 6, "%s statement not allowed within multi-statement transaction.", name);
    if (!strcasecmp(name, "sp_detach_db")) {
        if (attach_detach_database(s->in, db, &s->err) < 0)
            return EX_ERROR;
        return EX_OK;
    }
    const char *paths[16];
    int k = 0;
    for (int i = 1; i <= 16; i++) {
        char pn[24];
        snprintf(pn, sizeof pn, "@filename%d", i);
        const char *p = sysproc_text_arg(s, params, n, i, pn);
        if (!p || !p[0])
            continue;
        char *full = arena_alloc(&s->stmt_arena, PATH_MAX);
        if (!full)
            return ex_failf(s, 701, 19, 1, "There is insufficient system memory to run this query.");
        ex_file_path(s, p, full, PATH_MAX);
        paths[k++] = full;
    }
    if (!k)
        return ex_failf(s, 201, 16, 4, "Procedure or function 'sp_attach_db' expects parameter '@filename1', which "
                        "was not supplied.");
    int aborted = 0;
    if (attach_database(s->in, db, paths, k, &aborted, &s->err))
        return EX_OK;
    return aborted ? fail_after_cause(s, 1813, db) : EX_ERROR;
}
