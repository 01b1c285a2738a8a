/*
 * ast.c — small helpers over the AST (the printer is in ast_print*.c).
 */
#include "sql/ast.h"

#include <string.h>
#include <strings.h>

/* ------------------------------------------------------------- helpers */

static const char *const stmt_names[STMT_KIND_COUNT_] = {
    [STMT_SELECT] = "SELECT", [STMT_INSERT] = "INSERT", [STMT_UPDATE] = "UPDATE",
    [STMT_DELETE] = "DELETE", [STMT_CREATE_DATABASE] = "CREATE DATABASE",
    [STMT_DROP_DATABASE] = "DROP DATABASE", [STMT_CREATE_SCHEMA] = "CREATE SCHEMA",
    [STMT_DROP_SCHEMA] = "DROP SCHEMA", [STMT_CREATE_TABLE] = "CREATE TABLE",
    [STMT_ALTER_TABLE] = "ALTER TABLE", [STMT_DROP_TABLE] = "DROP TABLE",
    [STMT_TRUNCATE_TABLE] = "TRUNCATE TABLE", [STMT_CREATE_INDEX] = "CREATE INDEX",
    [STMT_DROP_INDEX] = "DROP INDEX", [STMT_CREATE_PROCEDURE] = "CREATE PROCEDURE",
    [STMT_DROP_PROCEDURE] = "DROP PROCEDURE", [STMT_USE] = "USE",
    [STMT_DECLARE] = "DECLARE", [STMT_SET_VAR] = "SET", [STMT_SET_OPTION] = "SET",
    [STMT_IF] = "IF", [STMT_WHILE] = "WHILE", [STMT_BREAK] = "BREAK",
    [STMT_CONTINUE] = "CONTINUE", [STMT_BLOCK] = "BEGIN", [STMT_TRY] = "BEGIN TRY",
    [STMT_THROW] = "THROW", [STMT_RAISERROR] = "RAISERROR", [STMT_PRINT] = "PRINT",
    [STMT_RETURN] = "RETURN", [STMT_GOTO] = "GOTO", [STMT_LABEL] = "label",
    [STMT_WAITFOR] = "WAITFOR", [STMT_BEGIN_TRAN] = "BEGIN TRANSACTION",
    [STMT_COMMIT] = "COMMIT TRANSACTION", [STMT_ROLLBACK] = "ROLLBACK TRANSACTION",
    [STMT_SAVE_TRAN] = "SAVE TRANSACTION", [STMT_EXEC] = "EXECUTE", [STMT_KILL] = "KILL",
    [STMT_SHUTDOWN] = "SHUTDOWN", [STMT_CHECKPOINT] = "CHECKPOINT",
    [STMT_RECONFIGURE] = "RECONFIGURE", [STMT_BACKUP] = "BACKUP", [STMT_RESTORE] = "RESTORE",
    [STMT_ALTER_DATABASE] = "ALTER DATABASE", [STMT_DBCC] = "DBCC",
    [STMT_ENDPOINT] = "CREATE ENDPOINT", [STMT_DROP_ENDPOINT] = "DROP ENDPOINT",
    [STMT_UNSUPPORTED] = "unsupported statement",
};

const char *ast_stmt_kind_name(ast_stmt_kind k)
{
    return (k >= 0 && k < STMT_KIND_COUNT_ && stmt_names[k]) ? stmt_names[k] : "?";
}

const ast_option *ast_option_find(const ast_option_list *l, const char *name)
{
    for (int i = 0; i < l->n; i++)
        if (strcmp(l->v[i]->name, name) == 0)
            return l->v[i];
    return NULL;
}

bool ast_option_word_is(const ast_option *o, const char *w)
{
    return o && o->word && strcasecmp(o->word, w) == 0;
}

bool ast_expr_is_predicate(const ast_expr *e)
{
    if (!e)
        return false;
    switch (e->kind) {
    case EXPR_BINARY:
        return e->u.binary.op >= AST_OP_EQ && e->u.binary.op <= AST_OP_OR;
    case EXPR_UNARY:
        return e->u.unary.op == AST_OP_NOT;
    case EXPR_IS_NULL: case EXPR_BETWEEN: case EXPR_LIKE: case EXPR_IN:
    case EXPR_EXISTS: case EXPR_QUANTIFIED:
        return true;
    default:
        return false;
    }
}
