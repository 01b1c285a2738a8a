/*
 * exec_dbcc.c — DBCC statements: one table maps each command name to the
 * module that runs it; a name not in it answers as SQL Server does for a
 * command this server does not have (the 40000-range "not supported").
 */
#include <stdio.h>
#include <string.h>

#include "sql/exec_int.h"

typedef int (*dbcc_fn)(sql_session *s, ast_stmt *st);

static const struct { const char *name; dbcc_fn run; } commands[] = {
    /* { "NAME", ex_dbcc_name }, in the order they were added */
    { "IND", ex_dbcc_ind },            /* exec_dbcc_page.c */
    { "PAGE", ex_dbcc_page },          /* exec_dbcc_page.c */
    { "TRACEON", ex_dbcc_traceon },    /* exec_dbcc_page.c */
    { "TRACEOFF", ex_dbcc_traceoff },  /* exec_dbcc_page.c */
    { "CHECKDB", ex_dbcc_checkdb },    /* exec_dbcc_check.c */
    { "CHECKTABLE", ex_dbcc_checktable },  /* exec_dbcc_check.c */
    { "CHECKALLOC", ex_dbcc_checkalloc },  /* exec_dbcc_check.c */
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
