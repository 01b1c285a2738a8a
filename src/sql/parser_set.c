/*
 * parser_set.c — DECLARE and SET.
 *
 * SET covers two different things: assignment to a variable (SET @v = x,
 * SET @v += x) and session options. Drivers send a burst of options at login
 * (SET ANSI_NULLS ON, SET TEXTSIZE 2147483647, ...), so the option table
 * below lists every option SQL Server accepts, with the kind of value each
 * takes; the executor decides which it honours. An unknown option is error
 * 195 "'X' is not a recognized SET option.".
 *
 * SET QUOTED_IDENTIFIER (and ANSI_DEFAULTS, which includes it) acts at parse
 * time: the rest of the batch is read under the new setting.
 */
#include "sql/parser_int.h"

/* ---------------------------------------------------------------- DECLARE */

ast_stmt *parse_declare(parser *P)
{
    ast_stmt *s = parse_new_stmt(P, STMT_DECLARE);
    parse_advance(P);
    /* DECLARE name [INSENSITIVE] [SCROLL] CURSOR ...: cursors are not
     * implemented. */
    if (parse_is_ident(P) && parse_cur(P)->kind == TK_IDENT)
        return parse_unsupported(P, "DECLARE CURSOR", false);
    int ordinal = 0;
    do {
        const lex_token *t = parse_cur(P);
        if (t->kind != TK_VARIABLE)
            parse_error_near(P);
        ast_declare_var *v = PARSE_NEW(P, ast_declare_var);
        v->name = t->text;
        v->line = t->line;
        parse_advance(P);
        parse_accept_kw(P, KW_AS);
        if (parse_accept_kw(P, KW_TABLE)) {
            v->is_table = true;
            parse_table_def(P, &v->table);
            parse_var_declare(P, v->name, VAR_TABLE, v->line);
        } else if (parse_is_kw(P, KW_CURSOR)) {
            parse_var_declare(P, v->name, VAR_SCALAR, v->line);
            return parse_unsupported(P, "cursor variables", false);
        } else {
            P->type_ordinal = ++ordinal;
            parse_type(P, &v->type, false);
            P->type_ordinal = 0;
            if (parse_accept_op(P, OP_EQ))
                v->init = parse_expr(P);
            parse_var_declare(P, v->name, VAR_SCALAR, v->line);
        }
        PARSE_PUSH(P, s->u.declare, v);
    } while (parse_accept_op(P, OP_COMMA));
    return s;
}

/* -------------------------------------------------------------------- SET */

enum setkind {
    SK_ONOFF,       /* ON | OFF; may be listed with others */
    SK_VALUE,       /* integer, string, binary or variable */
    SK_WORD,        /* DATEFORMAT, LANGUAGE: a word, string or variable */
    SK_PRIORITY     /* DEADLOCK_PRIORITY: LOW | NORMAL | HIGH | int | @v */
};

struct setdef {
    const char *name;
    uint8_t kind;
};

static const struct setdef set_options[] = {
    { "ANSI_DEFAULTS", SK_ONOFF }, { "ANSI_NULLS", SK_ONOFF },
    { "ANSI_NULL_DFLT_ON", SK_ONOFF }, { "ANSI_NULL_DFLT_OFF", SK_ONOFF },
    { "ANSI_PADDING", SK_ONOFF }, { "ANSI_WARNINGS", SK_ONOFF },
    { "ARITHABORT", SK_ONOFF }, { "ARITHIGNORE", SK_ONOFF },
    { "CONCAT_NULL_YIELDS_NULL", SK_ONOFF }, { "CURSOR_CLOSE_ON_COMMIT", SK_ONOFF },
    { "FMTONLY", SK_ONOFF }, { "FORCEPLAN", SK_ONOFF },
    { "IMPLICIT_TRANSACTIONS", SK_ONOFF }, { "NOCOUNT", SK_ONOFF },
    { "NOEXEC", SK_ONOFF }, { "NUMERIC_ROUNDABORT", SK_ONOFF },
    { "PARSEONLY", SK_ONOFF }, { "QUOTED_IDENTIFIER", SK_ONOFF },
    { "REMOTE_PROC_TRANSACTIONS", SK_ONOFF }, { "SHOWPLAN_ALL", SK_ONOFF },
    { "SHOWPLAN_TEXT", SK_ONOFF }, { "SHOWPLAN_XML", SK_ONOFF },
    { "STATISTICS IO", SK_ONOFF }, { "STATISTICS TIME", SK_ONOFF },
    { "STATISTICS XML", SK_ONOFF }, { "STATISTICS PROFILE", SK_ONOFF },
    { "XACT_ABORT", SK_ONOFF }, { "NO_BROWSETABLE", SK_ONOFF },
    { "LOCK_TIMEOUT", SK_VALUE }, { "TEXTSIZE", SK_VALUE }, { "ROWCOUNT", SK_VALUE },
    { "DATEFIRST", SK_VALUE }, { "QUERY_GOVERNOR_COST_LIMIT", SK_VALUE },
    { "CONTEXT_INFO", SK_VALUE },
    { "DATEFORMAT", SK_WORD }, { "LANGUAGE", SK_WORD },
    { "DEADLOCK_PRIORITY", SK_PRIORITY },
    { NULL, 0 }
};

static const struct setdef *find_set_option(const char *name)
{
    for (const struct setdef *d = set_options; d->name; d++)
        if (strcasecmp(d->name, name) == 0)
            return d;
    return NULL;
}

/* Option name at the current token; STATISTICS takes a second word. */
static const char *set_option_name(parser *P, int *line)
{
    const lex_token *t = parse_cur(P);
    *line = t->line;
    if (t->kind != TK_IDENT)
        parse_error_near(P);
    char *name = parse_upper(P, t->text);
    parse_advance(P);
    if (strcmp(name, "STATISTICS") == 0) {
        if (!parse_is_anyword_at(P, 0))
            parse_error_near(P);
        name = parse_concat(P, name, " ", parse_upper(P, parse_cur(P)->text));
        parse_advance(P);
    }
    if (!find_set_option(name))
        parse_fail(P, *line, 195, t->text);
    return name;
}

static void set_isolation(parser *P, ast_set_option *o)
{
    /* TRANSACTION already read */
    parse_expect_word(P, "ISOLATION");
    parse_expect_word(P, "LEVEL");
    o->kind = SETVAL_ISOLATION;
    const char *name = "TRANSACTION ISOLATION LEVEL";
    PARSE_PUSH(P, o->names, name);
    if (parse_accept_kw(P, KW_READ)) {
        if (parse_accept_word(P, "UNCOMMITTED"))
            o->isolation = ISO_READ_UNCOMMITTED;
        else if (parse_accept_word(P, "COMMITTED"))
            o->isolation = ISO_READ_COMMITTED;
        else
            parse_error_near(P);
    } else if (parse_accept_word(P, "REPEATABLE")) {
        parse_expect_kw(P, KW_READ);
        o->isolation = ISO_REPEATABLE_READ;
    } else if (parse_accept_word(P, "SNAPSHOT")) {
        o->isolation = ISO_SNAPSHOT;
    } else if (parse_accept_word(P, "SERIALIZABLE")) {
        o->isolation = ISO_SERIALIZABLE;
    } else {
        parse_error_near(P);
    }
}

static bool accept_onoff(parser *P, ast_set_option *o)
{
    if (parse_accept_kw(P, KW_ON)) {
        o->kind = SETVAL_ON;
        return true;
    }
    if (parse_accept_kw(P, KW_OFF)) {
        o->kind = SETVAL_OFF;
        return true;
    }
    return false;
}

static ast_stmt *set_variable(parser *P)
{
    ast_stmt *s = parse_new_stmt(P, STMT_SET_VAR);
    const lex_token *t = parse_cur(P);
    parse_var_use(P, t->text, VAR_SCALAR, t->line);
    s->u.set_var.var = t->text;
    parse_advance(P);
    const lex_token *op = parse_cur(P);
    if (op->kind != TK_OP)
        parse_error_near(P);
    switch (op->op) {
    case OP_EQ: s->u.set_var.op = AST_OP_NONE; break;
    case OP_PLUS_EQ: s->u.set_var.op = AST_OP_ADD; break;
    case OP_MINUS_EQ: s->u.set_var.op = AST_OP_SUB; break;
    case OP_STAR_EQ: s->u.set_var.op = AST_OP_MUL; break;
    case OP_SLASH_EQ: s->u.set_var.op = AST_OP_DIV; break;
    case OP_PERCENT_EQ: s->u.set_var.op = AST_OP_MOD; break;
    case OP_AMP_EQ: s->u.set_var.op = AST_OP_BITAND; break;
    case OP_PIPE_EQ: s->u.set_var.op = AST_OP_BITOR; break;
    case OP_CARET_EQ: s->u.set_var.op = AST_OP_BITXOR; break;
    default: parse_error_near(P);
    }
    parse_advance(P);
    if (parse_is_kw(P, KW_CURSOR))
        return parse_unsupported(P, "cursor variables", false);
    s->u.set_var.value = parse_expr(P);
    return s;
}

ast_stmt *parse_set(parser *P)
{
    parse_advance(P);   /* SET */
    if (parse_cur(P)->kind == TK_VARIABLE)
        return set_variable(P);
    ast_stmt *s = parse_new_stmt(P, STMT_SET_OPTION);
    ast_set_option *o = &s->u.set_option;
    if (parse_accept_kw(P, KW_TRANSACTION)) {
        set_isolation(P, o);
        return s;
    }
    if (parse_accept_kw(P, KW_IDENTITY_INSERT)) {
        const char *name = "IDENTITY_INSERT";
        PARSE_PUSH(P, o->names, name);
        parse_objname(P, &o->table, 3);
        if (!accept_onoff(P, o))
            parse_error_near(P);
        return s;
    }
    int line;
    const char *name = set_option_name(P, &line);
    PARSE_PUSH(P, o->names, name);
    const struct setdef *d = find_set_option(name);
    switch (d->kind) {
    case SK_ONOFF:
        /* SET ANSI_NULLS, ANSI_WARNINGS ON */
        while (parse_accept_op(P, OP_COMMA)) {
            const char *n = set_option_name(P, &line);
            if (find_set_option(n)->kind != SK_ONOFF)
                parse_error_near_at(P, -1);
            PARSE_PUSH(P, o->names, n);
        }
        if (!accept_onoff(P, o))
            parse_error_near(P);
        for (int i = 0; i < o->names.n; i++) {
            if (strcmp(o->names.v[i], "QUOTED_IDENTIFIER") == 0 ||
                strcmp(o->names.v[i], "ANSI_DEFAULTS") == 0)
                parse_relex(P, o->kind == SETVAL_ON);
        }
        break;
    case SK_VALUE:
        if (!parse_is_simple_value(P))
            parse_error_near(P);
        o->kind = SETVAL_VALUE;
        o->value = parse_simple_value(P);
        break;
    case SK_PRIORITY:
        if (parse_accept_word(P, "LOW")) {
            o->kind = SETVAL_WORD;
            o->word = "LOW";
        } else if (parse_accept_word(P, "NORMAL")) {
            o->kind = SETVAL_WORD;
            o->word = "NORMAL";
        } else if (parse_accept_word(P, "HIGH")) {
            o->kind = SETVAL_WORD;
            o->word = "HIGH";
        } else if (parse_is_simple_value(P)) {
            o->kind = SETVAL_VALUE;
            o->value = parse_simple_value(P);
        } else {
            parse_error_near(P);
        }
        break;
    case SK_WORD:
        if (parse_is_ident(P)) {
            o->kind = SETVAL_WORD;
            o->word = parse_ident(P);
        } else if (parse_is_simple_value(P)) {
            o->kind = SETVAL_VALUE;
            o->value = parse_simple_value(P);
        } else {
            parse_error_near(P);
        }
        break;
    }
    return s;
}
