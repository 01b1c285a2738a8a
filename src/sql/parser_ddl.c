/*
 * parser_ddl.c — CREATE / ALTER / DROP of databases, schemas, tables,
 * indexes and procedures; TRUNCATE TABLE; file specifications.
 *
 * CREATE PROCEDURE / VIEW / FUNCTION / TRIGGER / SCHEMA must open their batch
 * (error 111 otherwise) because their body runs to the end of the batch; the
 * same rule lets CREATE PROCEDURE read its body as "every remaining
 * statement".
 */
#include "sql/parser_int.h"

/* ------------------------------------------------------------ file specs */

/* size [KB|MB|GB|TB|%] -> KB (default unit MB) or percent. */
static int64_t size_value(parser *P, bool allow_percent, bool *percent)
{
    int line = parse_cur(P)->line;
    int64_t n = parse_int_const(P);
    int64_t mult = 1024;
    if (percent)
        *percent = false;
    if (parse_accept_word(P, "KB"))
        mult = 1;
    else if (parse_accept_word(P, "MB"))
        mult = 1024;
    else if (parse_accept_word(P, "GB"))
        mult = 1024 * 1024;
    else if (parse_accept_word(P, "TB"))
        mult = 1024LL * 1024 * 1024;
    else if (allow_percent && parse_is_op(P, OP_PERCENT)) {
        parse_advance(P);
        *percent = true;
        return n;
    }
    if (n < 0)
        parse_fail(P, line, 102, "-");
    if (n > INT64_MAX / mult)
        parse_fail(P, line, 8115, "int");
    return n * mult;
}

/* NAME = logical_name | 'logical_name' */
static const char *name_value(parser *P)
{
    const lex_token *t = parse_cur(P);
    if (t->kind == TK_STRING || t->kind == TK_NSTRING) {
        parse_advance(P);
        return parse_string_name(P, t);
    }
    return parse_ident(P);
}

static const char *string_value(parser *P)
{
    const lex_token *t = parse_cur(P);
    if (t->kind != TK_STRING && t->kind != TK_NSTRING)
        parse_error_near(P);
    parse_advance(P);
    return t->text;
}

static ast_filespec *filespec(parser *P)
{
    ast_filespec *f = PARSE_NEW(P, ast_filespec);
    f->line = parse_cur(P)->line;
    f->size_kb = f->maxsize_kb = f->growth = AST_SIZE_UNSET;
    parse_expect_op(P, OP_LPAREN);
    do {
        if (parse_accept_word(P, "OFFLINE")) {
            f->offline = true;
            continue;
        }
        const char *w = parse_cur(P)->kind == TK_IDENT ? parse_cur(P)->text : "";
        if (strcasecmp(w, "NAME") == 0) {
            parse_advance(P);
            parse_expect_op(P, OP_EQ);
            f->name = name_value(P);
        } else if (strcasecmp(w, "NEWNAME") == 0) {
            parse_advance(P);
            parse_expect_op(P, OP_EQ);
            f->newname = name_value(P);
        } else if (strcasecmp(w, "FILENAME") == 0) {
            parse_advance(P);
            parse_expect_op(P, OP_EQ);
            f->filename = string_value(P);
        } else if (strcasecmp(w, "SIZE") == 0) {
            parse_advance(P);
            parse_expect_op(P, OP_EQ);
            f->size_kb = size_value(P, false, NULL);
        } else if (strcasecmp(w, "MAXSIZE") == 0) {
            parse_advance(P);
            parse_expect_op(P, OP_EQ);
            if (parse_accept_word(P, "UNLIMITED"))
                f->maxsize_kb = AST_SIZE_UNLIMITED;
            else
                f->maxsize_kb = size_value(P, false, NULL);
        } else if (strcasecmp(w, "FILEGROWTH") == 0) {
            parse_advance(P);
            parse_expect_op(P, OP_EQ);
            f->growth = size_value(P, true, &f->growth_percent);
        } else {
            parse_error_near(P);
        }
    } while (parse_accept_op(P, OP_COMMA));
    parse_expect_op(P, OP_RPAREN);
    return f;
}

void parse_filespec_list(parser *P, ast_filespec_list *out)
{
    do {
        ast_filespec *f = filespec(P);
        PARSE_PUSH(P, *out, f);
    } while (parse_is_op(P, OP_COMMA) && parse_is_op_at(P, 1, OP_LPAREN) &&
             (parse_advance(P), true));
}

/* ------------------------------------------------------------ databases */

static ast_filegroup *new_filegroup(parser *P, const char *name)
{
    ast_filegroup *g = PARSE_NEW(P, ast_filegroup);
    g->name = name;
    return g;
}

static ast_stmt *create_database(parser *P)
{
    ast_stmt *s = parse_new_stmt(P, STMT_CREATE_DATABASE);
    ast_create_database *c = &s->u.create_db;
    c->name = parse_ident(P);
    if (parse_is_word(P, "CONTAINMENT")) {
        ast_option *o = parse_option_as(P, OV_EQ);
        PARSE_PUSH(P, c->with, o);
    }
    if (parse_accept_kw(P, KW_ON)) {
        ast_filegroup *g = new_filegroup(P, "PRIMARY");
        parse_accept_kw(P, KW_PRIMARY);
        PARSE_PUSH(P, c->filegroups, g);
        ast_filespec *f = filespec(P);
        PARSE_PUSH(P, g->files, f);
        while (parse_accept_op(P, OP_COMMA)) {
            if (parse_accept_word(P, "FILEGROUP")) {
                g = new_filegroup(P, parse_ident(P));
                if (parse_accept_kw(P, KW_CONTAINS)) {
                    if (!parse_accept_word(P, "FILESTREAM"))
                        parse_error_near(P);
                    g->contains_filestream = true;
                }
                if (parse_accept_kw(P, KW_DEFAULT))
                    g->is_default = true;
                PARSE_PUSH(P, c->filegroups, g);
            }
            f = filespec(P);
            PARSE_PUSH(P, g->files, f);
        }
    }
    if (parse_is_word(P, "LOG") && parse_is_kw_at(P, 1, KW_ON)) {
        parse_advance(P);
        parse_advance(P);
        parse_filespec_list(P, &c->log_files);
    }
    if (parse_accept_kw(P, KW_COLLATE))
        c->collation = parse_ident(P);
    if (parse_accept_kw(P, KW_WITH))
        parse_options(P, &c->with, NULL, "CREATE DATABASE");
    if (parse_accept_kw(P, KW_FOR)) {
        if (parse_accept_word(P, "ATTACH"))
            c->attach = ATTACH;
        else if (parse_accept_word(P, "ATTACH_REBUILD_LOG"))
            c->attach = ATTACH_REBUILD_LOG;
        else
            parse_error_near(P);
        if (c->attach == ATTACH && parse_accept_kw(P, KW_WITH))
            parse_options(P, &c->with, NULL, "CREATE DATABASE");
    } else if (parse_accept_kw(P, KW_AS)) {
        parse_expect_word(P, "SNAPSHOT");
        parse_expect_kw(P, KW_OF);
        c->snapshot_of = parse_ident(P);
    }
    return s;
}

/* ---------------------------------------------------------------- tables */

static ast_clustered clustered_opt(parser *P)
{
    if (parse_accept_kw(P, KW_CLUSTERED))
        return IDX_CLUSTERED;
    if (parse_accept_kw(P, KW_NONCLUSTERED))
        return IDX_NONCLUSTERED;
    return IDX_DEFAULT;
}

static void index_columns(parser *P, ast_index_col_list *out)
{
    parse_expect_op(P, OP_LPAREN);
    do {
        ast_index_col *c = PARSE_NEW(P, ast_index_col);
        c->name = parse_ident(P);
        if (parse_accept_kw(P, KW_DESC))
            c->desc = true;
        else
            parse_accept_kw(P, KW_ASC);
        PARSE_PUSH(P, *out, c);
    } while (parse_accept_op(P, OP_COMMA));
    parse_expect_op(P, OP_RPAREN);
}

static void name_list(parser *P, ast_name_list *out)
{
    parse_expect_op(P, OP_LPAREN);
    do {
        const char *n = parse_ident(P);
        PARSE_PUSH(P, *out, n);
    } while (parse_accept_op(P, OP_COMMA));
    parse_expect_op(P, OP_RPAREN);
}

/* WITH (name = value, ...) of an index or constraint; also the old form
 * WITH FILLFACTOR = n. */
static void index_with(parser *P, ast_option_list *out)
{
    if (!parse_is_kw(P, KW_WITH))
        return;
    parse_advance(P);
    if (parse_accept_op(P, OP_LPAREN)) {
        parse_options(P, out, NULL, "index");
        parse_expect_op(P, OP_RPAREN);
    } else {
        ast_option *o = parse_option_as(P, OV_EQ);
        PARSE_PUSH(P, *out, o);
    }
}

static const char *on_filegroup(parser *P)
{
    if (!parse_is_kw(P, KW_ON))
        return NULL;
    parse_advance(P);
    if (parse_accept_kw(P, KW_DEFAULT))
        return "default";
    if (parse_accept_kw(P, KW_PRIMARY))
        return "PRIMARY";
    return parse_ident(P);
}

static ast_ref_action ref_action(parser *P)
{
    if (parse_accept_kw(P, KW_CASCADE))
        return REF_CASCADE;
    if (parse_accept_word(P, "NO")) {
        parse_expect_word(P, "ACTION");
        return REF_NO_ACTION;
    }
    parse_expect_kw(P, KW_SET);
    if (parse_accept_kw(P, KW_NULL))
        return REF_SET_NULL;
    parse_expect_kw(P, KW_DEFAULT);
    return REF_SET_DEFAULT;
}

static void not_for_replication(parser *P)
{
    if (parse_is_kw(P, KW_NOT) && parse_is_kw_at(P, 1, KW_FOR)) {
        parse_advance(P);
        parse_advance(P);
        parse_expect_kw(P, KW_REPLICATION);
    }
}

static bool starts_constraint(parser *P)
{
    return parse_is_kw(P, KW_CONSTRAINT) || parse_is_kw(P, KW_PRIMARY) ||
           parse_is_kw(P, KW_UNIQUE) || parse_is_kw(P, KW_CHECK) ||
           parse_is_kw(P, KW_FOREIGN) || parse_is_kw(P, KW_REFERENCES) ||
           parse_is_kw(P, KW_DEFAULT);
}

/* A constraint. `column` is the column it is attached to (column-level
 * form: no key list), or NULL for a table constraint. Returns NULL when it
 * was a DEFAULT, which the column records itself. */
static ast_constraint *constraint(parser *P, ast_coldef *column, bool in_alter)
{
    ast_constraint *c = PARSE_NEW(P, ast_constraint);
    c->line = parse_cur(P)->line;
    if (parse_accept_kw(P, KW_CONSTRAINT))
        c->name = parse_ident(P);
    if (parse_accept_kw(P, KW_PRIMARY) || parse_is_kw(P, KW_UNIQUE)) {
        if (parse_accept_kw(P, KW_UNIQUE)) {
            c->kind = CONSTR_UNIQUE;
        } else {
            parse_expect_kw(P, KW_KEY);
            c->kind = CONSTR_PRIMARY_KEY;
        }
        c->clustered = clustered_opt(P);
        if (!column || parse_is_op(P, OP_LPAREN))
            index_columns(P, &c->columns);
        index_with(P, &c->with);
        c->on_filegroup = on_filegroup(P);
    } else if (parse_accept_kw(P, KW_CHECK)) {
        c->kind = CONSTR_CHECK;
        not_for_replication(P);
        parse_expect_op(P, OP_LPAREN);
        c->check = parse_cond(P);
        parse_expect_op(P, OP_RPAREN);
    } else if (parse_is_kw(P, KW_FOREIGN) || parse_is_kw(P, KW_REFERENCES)) {
        c->kind = CONSTR_FOREIGN_KEY;
        /* A table-level constraint names its columns: FOREIGN KEY (a, b). */
        if (!column && !parse_is_kw(P, KW_FOREIGN))
            parse_error_near(P);
        if (parse_accept_kw(P, KW_FOREIGN)) {
            parse_expect_kw(P, KW_KEY);
            if (!column || parse_is_op(P, OP_LPAREN))
                index_columns(P, &c->columns);
        }
        parse_expect_kw(P, KW_REFERENCES);
        parse_objname(P, &c->ref_table, 3);
        if (parse_is_op(P, OP_LPAREN))
            name_list(P, &c->ref_columns);
        while (parse_is_kw(P, KW_ON)) {
            parse_advance(P);
            if (parse_accept_kw(P, KW_DELETE))
                c->on_delete = ref_action(P);
            else if (parse_accept_kw(P, KW_UPDATE))
                c->on_update = ref_action(P);
            else
                parse_error_near(P);
        }
        not_for_replication(P);
    } else if (parse_accept_kw(P, KW_DEFAULT)) {
        if (column) {
            column->default_value = parse_expr(P);
            column->default_name = c->name;
            return NULL;
        }
        if (!in_alter)
            parse_error_near_at(P, -1);
        /* ALTER TABLE t ADD CONSTRAINT df DEFAULT expr FOR column */
        c->kind = CONSTR_DEFAULT;
        c->default_value = parse_expr(P);
        parse_expect_kw(P, KW_FOR);
        ast_index_col *ic = PARSE_NEW(P, ast_index_col);
        ic->name = parse_ident(P);
        PARSE_PUSH(P, c->columns, ic);
        if (parse_is_kw(P, KW_WITH) && parse_is_word_at(P, 1, "VALUES")) {
            parse_advance(P);
            parse_advance(P);
        }
    } else {
        parse_error_near(P);
    }
    if (column) {
        ast_index_col *ic = PARSE_NEW(P, ast_index_col);
        ic->name = column->name;
        if (c->columns.n == 0)
            PARSE_PUSH(P, c->columns, ic);
    }
    return c;
}

static ast_coldef *column_def(parser *P)
{
    ast_coldef *c = PARSE_NEW(P, ast_coldef);
    c->line = parse_cur(P)->line;
    c->name = parse_ident(P);
    c->identity_seed = c->identity_increment = 1;
    if (parse_accept_kw(P, KW_AS)) {
        c->computed = parse_expr(P);
        if (parse_accept_word(P, "PERSISTED"))
            c->persisted = true;
    } else {
        parse_type(P, &c->type, false);
    }
    for (;;) {
        if (parse_accept_kw(P, KW_COLLATE)) {
            c->collation = parse_ident(P);
        } else if (parse_accept_kw(P, KW_NULL)) {
            c->nullability = NULLABILITY_NULL;
        } else if (parse_is_kw(P, KW_NOT) && parse_is_kw_at(P, 1, KW_NULL)) {
            parse_advance(P);
            parse_advance(P);
            c->nullability = NULLABILITY_NOT_NULL;
        } else if (parse_accept_kw(P, KW_IDENTITY)) {
            c->identity = true;
            if (parse_accept_op(P, OP_LPAREN)) {
                c->identity_seed = parse_int_const(P);
                parse_expect_op(P, OP_COMMA);
                c->identity_increment = parse_int_const(P);
                parse_expect_op(P, OP_RPAREN);
            }
            not_for_replication(P);
        } else if (parse_accept_kw(P, KW_ROWGUIDCOL)) {
            c->rowguidcol = true;
        } else if (parse_accept_word(P, "SPARSE")) {
            c->sparse = true;
        } else if (starts_constraint(P)) {
            ast_constraint *k = constraint(P, c, false);
            if (k)
                PARSE_PUSH(P, c->constraints, k);
        } else {
            break;
        }
    }
    return c;
}

/* Elements of a table definition; the '(' is already consumed. */
static void table_elements(parser *P, ast_table_def *out, bool in_alter)
{
    int ordinal = 0;
    do {
        /* A table-level DEFAULT exists only in ALTER TABLE ... ADD. */
        if (starts_constraint(P) && (in_alter || !parse_is_kw(P, KW_DEFAULT))) {
            ast_constraint *k = constraint(P, NULL, in_alter);
            PARSE_PUSH(P, out->constraints, k);
        } else {
            P->type_ordinal = ++ordinal;
            ast_coldef *c = column_def(P);
            PARSE_PUSH(P, out->columns, c);
        }
    } while (parse_accept_op(P, OP_COMMA));
    P->type_ordinal = 0;
}

void parse_table_def(parser *P, ast_table_def *out)
{
    parse_expect_op(P, OP_LPAREN);
    table_elements(P, out, false);
    parse_expect_op(P, OP_RPAREN);
}

static ast_stmt *create_table(parser *P)
{
    ast_stmt *s = parse_new_stmt(P, STMT_CREATE_TABLE);
    ast_create_table *t = &s->u.create_table;
    parse_objname(P, &t->name, 3);
    parse_table_def(P, &t->def);
    for (;;) {
        if (parse_is_kw(P, KW_ON)) {
            t->on_filegroup = on_filegroup(P);
        } else if (parse_accept_word(P, "TEXTIMAGE_ON")) {
            t->textimage_on = parse_accept_kw(P, KW_DEFAULT) ? "default" : parse_ident(P);
        } else if (parse_is_kw(P, KW_WITH) && parse_is_op_at(P, 1, OP_LPAREN)) {
            index_with(P, &t->with);
        } else {
            break;
        }
    }
    return s;
}

static ast_stmt *alter_table(parser *P)
{
    ast_stmt *s = parse_new_stmt(P, STMT_ALTER_TABLE);
    ast_alter_table *a = &s->u.alter_table;
    parse_objname(P, &a->name, 3);
    if (parse_is_kw(P, KW_WITH)) {
        parse_advance(P);
        if (parse_accept_kw(P, KW_CHECK))
            a->with_check = true;
        else if (parse_accept_kw(P, KW_NOCHECK))
            a->with_nocheck = true;
        else
            parse_error_near(P);
        if (!parse_is_kw(P, KW_ADD))
            parse_error_near(P);
    }
    if (parse_accept_kw(P, KW_ADD)) {
        a->action = ALTER_TABLE_ADD;
        table_elements(P, &a->def, true);
    } else if (parse_is_kw(P, KW_ALTER) && parse_is_kw_at(P, 1, KW_COLUMN)) {
        parse_advance(P);
        parse_advance(P);
        a->action = ALTER_TABLE_ALTER_COLUMN;
        P->type_ordinal = 1;
        ast_coldef *c = column_def(P);
        P->type_ordinal = 0;
        PARSE_PUSH(P, a->def.columns, c);
    } else if (parse_accept_kw(P, KW_DROP)) {
        a->action = ALTER_TABLE_DROP_CONSTRAINT;
        if (parse_accept_kw(P, KW_COLUMN))
            a->action = ALTER_TABLE_DROP_COLUMN;
        else
            parse_accept_kw(P, KW_CONSTRAINT);
        if (parse_is_kw(P, KW_IF) && parse_is_kw_at(P, 1, KW_EXISTS)) {
            parse_advance(P);
            parse_advance(P);
            a->if_exists = true;
        }
        do {
            const char *n = parse_ident(P);
            PARSE_PUSH(P, a->names, n);
        } while (parse_accept_op(P, OP_COMMA));
    } else {
        return parse_unsupported(P, "ALTER TABLE", false);
    }
    return s;
}

/* --------------------------------------------------------------- indexes */

static ast_stmt *create_index(parser *P, bool unique, ast_clustered cl)
{
    ast_stmt *s = parse_new_stmt(P, STMT_CREATE_INDEX);
    ast_create_index *ci = &s->u.create_index;
    ci->unique = unique;
    ci->clustered = cl;
    ci->name = parse_ident(P);
    parse_expect_kw(P, KW_ON);
    parse_objname(P, &ci->table, 3);
    index_columns(P, &ci->columns);
    if (parse_accept_word(P, "INCLUDE"))
        name_list(P, &ci->include);
    if (parse_accept_kw(P, KW_WHERE))
        ci->where = parse_cond(P);
    index_with(P, &ci->with);
    ci->on_filegroup = on_filegroup(P);
    return s;
}

static bool accept_if_exists(parser *P)
{
    if (parse_is_kw(P, KW_IF) && parse_is_kw_at(P, 1, KW_EXISTS)) {
        parse_advance(P);
        parse_advance(P);
        return true;
    }
    return false;
}

static ast_stmt *drop_index(parser *P)
{
    ast_stmt *s = parse_new_stmt(P, STMT_DROP_INDEX);
    ast_drop_index *d = &s->u.drop_index;
    d->if_exists = accept_if_exists(P);
    do {
        ast_index_ref *r = PARSE_NEW(P, ast_index_ref);
        ast_objname on;
        parse_objname(P, &on, 4);
        if (parse_accept_kw(P, KW_ON)) {
            if (on.nparts != 1)
                parse_error_near_at(P, -1);
            r->name = on.object;
            parse_objname(P, &r->table, 3);
        } else {
            /* Old form: [schema.]table.index ("t..ix" names no table) */
            if (on.nparts < 2 || !on.schema)
                parse_error_near(P);
            r->name = on.object;
            r->table.object = on.schema;
            r->table.schema = on.database;
            r->table.database = on.server;
            r->table.nparts = on.nparts - 1;
            r->table.line = on.line;
        }
        if (parse_is_kw(P, KW_WITH) && parse_is_op_at(P, 1, OP_LPAREN)) {
            ast_option_list ignored = { 0 };
            index_with(P, &ignored);
        }
        PARSE_PUSH(P, d->indexes, r);
    } while (parse_accept_op(P, OP_COMMA));
    return s;
}

/* ------------------------------------------------------------ procedures */

static void proc_param(parser *P, ast_create_proc *cp, int ordinal)
{
    ast_param *p = PARSE_NEW(P, ast_param);
    const lex_token *t = parse_cur(P);
    if (t->kind != TK_VARIABLE)
        parse_error_near(P);
    p->name = t->text;
    p->line = t->line;
    parse_advance(P);
    parse_accept_kw(P, KW_AS);
    P->type_ordinal = ordinal;
    parse_type(P, &p->type, false);
    P->type_ordinal = 0;
    parse_accept_kw(P, KW_VARYING);
    if (parse_accept_op(P, OP_EQ)) {
        /* Defaults are constants or NULL (checked before the parameter is
         * in scope, so a default cannot name a variable). */
        if (parse_cur(P)->kind == TK_VARIABLE)
            parse_error_near(P);
        p->default_value = parse_simple_value(P);
    }
    for (;;) {
        if (parse_accept_word(P, "OUTPUT") || parse_accept_word(P, "OUT"))
            p->output = true;
        else if (parse_accept_word(P, "READONLY"))
            p->readonly = true;
        else
            break;
    }
    parse_var_declare(P, p->name, p->readonly ? VAR_TABLE : VAR_SCALAR, p->line);
    PARSE_PUSH(P, cp->params, p);
}

static ast_stmt *create_procedure(parser *P, bool alter, bool or_alter, bool top, int line)
{
    /* Nested (inside IF / BEGIN): SQL Server stops at the PROCEDURE keyword. */
    if (!top)
        parse_error_near_at(P, -1);
    if (P->top_index > 0)
        parse_fail(P, line, 111, "CREATE/ALTER PROCEDURE");
    ast_stmt *s = parse_new_stmt(P, STMT_CREATE_PROCEDURE);
    ast_create_proc *cp = &s->u.create_proc;
    cp->alter = alter;
    cp->or_alter = or_alter;
    parse_objname(P, &cp->name, 3);
    bool paren = parse_accept_op(P, OP_LPAREN);
    int ordinal = 0;
    if (parse_cur(P)->kind == TK_VARIABLE) {
        do {
            proc_param(P, cp, ++ordinal);
        } while (parse_accept_op(P, OP_COMMA));
    }
    if (paren)
        parse_expect_op(P, OP_RPAREN);
    if (parse_accept_kw(P, KW_WITH)) {
        do {
            ast_option *o;
            if (parse_is_kw(P, KW_EXECUTE) || parse_is_kw(P, KW_EXEC)) {
                o = PARSE_NEW(P, ast_option);
                o->line = parse_cur(P)->line;
                parse_advance(P);
                parse_expect_kw(P, KW_AS);
                o->name = "EXECUTE AS";
                if (parse_cur(P)->kind == TK_STRING || parse_cur(P)->kind == TK_NSTRING)
                    o->value = parse_simple_value(P);
                else
                    o->word = parse_anyword(P);
            } else {
                o = parse_option_as(P, OV_FLAG);
            }
            PARSE_PUSH(P, cp->with, o);
        } while (parse_accept_op(P, OP_COMMA));
    }
    if (parse_is_kw(P, KW_FOR) && parse_is_kw_at(P, 1, KW_REPLICATION)) {
        parse_advance(P);
        parse_advance(P);
    }
    parse_expect_kw(P, KW_AS);
    cp->body_offset = parse_cur(P)->offset;
    /* The body is every remaining statement of the batch. */
    parse_stmt_list(P, &cp->body, false);
    return s;
}

/* ------------------------------------------------------------- dispatch */

static ast_stmt *first_in_batch_unsupported(parser *P, const char *what, bool top)
{
    if (!top)
        parse_error_near(P);
    if (P->top_index > 0)
        parse_fail(P, parse_tok(P, P->pos - 1)->line, 111, what);
    return parse_unsupported(P, what, true);
}

ast_stmt *parse_create(parser *P)
{
    bool top = P->stmt_top;
    int line = parse_cur(P)->line;
    parse_advance(P);   /* CREATE */
    bool or_alter = false;
    if (parse_is_kw(P, KW_OR) && parse_is_kw_at(P, 1, KW_ALTER)) {
        parse_advance(P);
        parse_advance(P);
        or_alter = true;
    }
    ast_stmt *s;
    if (parse_is_kw(P, KW_PROC) || parse_is_kw(P, KW_PROCEDURE)) {
        parse_advance(P);
        s = create_procedure(P, false, or_alter, top, line);
    } else if (parse_is_kw(P, KW_VIEW)) {
        s = first_in_batch_unsupported(P, "CREATE VIEW", top);
    } else if (parse_is_kw(P, KW_FUNCTION)) {
        s = first_in_batch_unsupported(P, "CREATE FUNCTION", top);
    } else if (parse_is_kw(P, KW_TRIGGER)) {
        s = first_in_batch_unsupported(P, "CREATE TRIGGER", top);
    } else if (or_alter) {
        parse_error_near(P);
    } else if (parse_accept_kw(P, KW_DATABASE)) {
        s = create_database(P);
    } else if (parse_is_kw(P, KW_SCHEMA)) {
        if (!top)
            parse_error_near(P);
        if (P->top_index > 0)
            parse_fail(P, line, 111, "CREATE SCHEMA");
        parse_advance(P);
        s = parse_new_stmt(P, STMT_CREATE_SCHEMA);
        ast_create_schema *cs = &s->u.create_schema;
        if (parse_is_kw(P, KW_AUTHORIZATION)) {
            parse_advance(P);
            cs->authorization = parse_ident(P);
        } else {
            cs->name = parse_ident(P);
            if (parse_accept_kw(P, KW_AUTHORIZATION))
                cs->authorization = parse_ident(P);
        }
        /* Schema elements: CREATE TABLE statements that follow without a
         * terminating semicolon belong to the schema. */
        while (parse_is_kw(P, KW_CREATE) && parse_is_kw_at(P, 1, KW_TABLE)) {
            ast_stmt *e = parse_create(P);
            PARSE_PUSH(P, cs->elements, e);
        }
    } else if (parse_accept_kw(P, KW_TABLE)) {
        s = create_table(P);
    } else if (parse_is_kw(P, KW_UNIQUE) || parse_is_kw(P, KW_CLUSTERED) ||
               parse_is_kw(P, KW_NONCLUSTERED) || parse_is_kw(P, KW_INDEX)) {
        bool unique = parse_accept_kw(P, KW_UNIQUE);
        ast_clustered cl = clustered_opt(P);
        if (parse_is_word(P, "COLUMNSTORE"))
            return parse_unsupported(P, "CREATE COLUMNSTORE INDEX", false);
        parse_expect_kw(P, KW_INDEX);
        s = create_index(P, unique, cl);
    } else if (parse_accept_word(P, "ENDPOINT")) {
        s = parse_endpoint(P, false);
    } else if (parse_is_kw(P, KW_DEFAULT)) {
        s = first_in_batch_unsupported(P, "CREATE DEFAULT", top);
    } else if (parse_is_kw(P, KW_RULE)) {
        s = first_in_batch_unsupported(P, "CREATE RULE", top);
    } else if (parse_is_anyword_at(P, 0)) {
        char *what = parse_concat(P, "CREATE", " ", parse_upper(P, parse_cur(P)->text));
        /* the word belongs to the statement even when it is a block's END */
        parse_advance(P);
        return parse_unsupported(P, what, false);
    } else {
        parse_error_near(P);
    }
    return s;
}

static ast_stmt *drop_names(parser *P, ast_stmt_kind kind, int maxparts, bool many)
{
    ast_stmt *s = parse_new_stmt(P, kind);
    s->u.drop.if_exists = accept_if_exists(P);
    do {
        ast_objname *n = PARSE_NEW(P, ast_objname);
        parse_objname(P, n, maxparts);
        PARSE_PUSH(P, s->u.drop.names, n);
    } while (many && parse_accept_op(P, OP_COMMA));
    return s;
}

ast_stmt *parse_drop(parser *P)
{
    parse_advance(P);   /* DROP */
    if (parse_accept_kw(P, KW_DATABASE))
        return drop_names(P, STMT_DROP_DATABASE, 1, true);
    if (parse_accept_kw(P, KW_TABLE))
        return drop_names(P, STMT_DROP_TABLE, 3, true);
    if (parse_accept_kw(P, KW_SCHEMA))
        return drop_names(P, STMT_DROP_SCHEMA, 1, false);
    if (parse_accept_kw(P, KW_INDEX))
        return drop_index(P);
    if (parse_accept_kw(P, KW_PROC) || parse_accept_kw(P, KW_PROCEDURE))
        return drop_names(P, STMT_DROP_PROCEDURE, 3, true);
    if (parse_accept_word(P, "ENDPOINT"))
        return drop_names(P, STMT_DROP_ENDPOINT, 1, false);
    if (parse_is_anyword_at(P, 0)) {
        char *what = parse_concat(P, "DROP", " ", parse_upper(P, parse_cur(P)->text));
        return parse_unsupported(P, what, false);
    }
    parse_error_near(P);
}

ast_stmt *parse_alter(parser *P)
{
    bool top = P->stmt_top;
    int line = parse_cur(P)->line;
    parse_advance(P);   /* ALTER */
    if (parse_accept_kw(P, KW_DATABASE))
        return parse_alter_database(P);
    if (parse_accept_kw(P, KW_TABLE))
        return alter_table(P);
    if (parse_accept_kw(P, KW_PROC) || parse_accept_kw(P, KW_PROCEDURE))
        return create_procedure(P, true, false, top, line);
    if (parse_accept_word(P, "ENDPOINT"))
        return parse_endpoint(P, true);
    if (parse_is_kw(P, KW_VIEW))
        return first_in_batch_unsupported(P, "ALTER VIEW", top);
    if (parse_is_kw(P, KW_FUNCTION))
        return first_in_batch_unsupported(P, "ALTER FUNCTION", top);
    if (parse_is_kw(P, KW_TRIGGER))
        return first_in_batch_unsupported(P, "ALTER TRIGGER", top);
    if (parse_is_anyword_at(P, 0)) {
        char *what = parse_concat(P, "ALTER", " ", parse_upper(P, parse_cur(P)->text));
        return parse_unsupported(P, what, false);
    }
    parse_error_near(P);
}

ast_stmt *parse_truncate(parser *P)
{
    parse_advance(P);   /* TRUNCATE */
    parse_expect_kw(P, KW_TABLE);
    return drop_names(P, STMT_TRUNCATE_TABLE, 3, false);
}
