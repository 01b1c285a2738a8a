/*
 * exec_dbcc.c — DBCC statements: one table maps each command name to the
 * module that runs it; a name not in it answers as SQL Server does for a
 * command this server does not have (the 40000-range "not supported").
 */
#include <stdio.h>
#include <string.h>

#include "sql/exec_int.h"

typedef int (*dbcc_fn)(sql_session *s, ast_stmt *st);

static const char done_text[] = "DBCC execution completed. If DBCC printed error messages, contact your system "
                                "administrator.";

int ex_dbcc_done(sql_session *s, ast_stmt *st)
{
    if (!ast_option_find(&st->u.dbcc.with, "NO_INFOMSGS")) {
        int rc = ex_info(s, 2528, 10, 1, done_text);
        if (rc != EX_OK)
            return rc;
    }
    return ex_done(s, 0, CMD_NONE, 0, false);
}

int ex_dbcc_need_sysadmin(sql_session *s, const char *what)
{
    if (bk_is_sysadmin(s))
        return EX_OK;
    return ex_failf(s, 2571, 14, 1, "User '%s' does not have permission to run DBCC %s.", s->login, what);
}

/* DBCC FREEPROCCACHE [WITH NO_INFOMSGS]: empties the plan cache (plancache.h).
 * A plan handle, sql handle or pool name argument is not supported. */
static int freeproccache(sql_session *s, ast_stmt *st)
{
    int rc = ex_dbcc_need_sysadmin(s, "FREEPROCCACHE");
    if (rc != EX_OK)
        return rc;
    if (st->u.dbcc.args.n > 0)
        return ex_failf(s, 40000, 16, 1, "DBCC FREEPROCCACHE with a plan handle, sql handle or pool name is not supported yet.");
    plancache_flush();
    return ex_dbcc_done(s, st);
}

static const struct { const char *name; dbcc_fn run; } commands[] = {
    /* { "NAME", ex_dbcc_name }, in the order they were added */
    { "IND", ex_dbcc_ind },            /* exec_dbcc_page.c */
    { "PAGE", ex_dbcc_page },          /* exec_dbcc_page.c */
    { "TRACEON", ex_dbcc_traceon },    /* exec_dbcc_page.c */
    { "TRACEOFF", ex_dbcc_traceoff },  /* exec_dbcc_page.c */
    { "CHECKDB", ex_dbcc_checkdb },    /* exec_dbcc_check.c */
    { "CHECKTABLE", ex_dbcc_checktable },  /* exec_dbcc_check.c */
    { "CHECKALLOC", ex_dbcc_checkalloc },  /* exec_dbcc_check.c */
    { "FREEPROCCACHE", freeproccache },
    { NULL, NULL },
};

int ex_dbcc(sql_session *s, ast_stmt *st)
{
    const char *name = st->u.dbcc.name ? st->u.dbcc.name : "";
    for (size_t i = 0; commands[i].name; i++)
        if (strcmp(commands[i].name, name) == 0)
            return commands[i].run(s, st);
    char w[160];
    snprintf(w, sizeof w, "DBCC %s", name);
    return ex_unsupported(s, w);
}
