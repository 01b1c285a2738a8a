/*
 * ast_print_stmt.c — the canonical printer, statements (see ast_print.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sql/ast_print_int.h"
#include "sql/lexer.h"

/* -------------------------------------------------------------- DML/DDL */

static void put_output(ast_sb *b, const ast_output *o)
{
    if (!o)
        return;
    ast_sb_put(b, " OUTPUT ");
    ast_pr_select_items(b, &o->items);
    if (o->into) {
        ast_sb_put(b, " INTO ");
        ast_pr_tableref(b, o->into);
        if (o->into_columns.n) {
            ast_sb_put(b, " ");
            ast_pr_name_list(b, &o->into_columns);
        }
    }
}

static void put_type_def(ast_sb *b, const ast_table_def *d);

static void put_index_cols(ast_sb *b, const ast_index_col_list *l)
{
    ast_sb_put(b, "(");
    for (int i = 0; i < l->n; i++) {
        if (i)
            ast_sb_put(b, ", ");
        ast_pr_name(b, l->v[i]->name);
        if (l->v[i]->desc)
            ast_sb_put(b, " DESC");
    }
    ast_sb_put(b, ")");
}

static void put_clustered(ast_sb *b, ast_clustered c)
{
    if (c == IDX_CLUSTERED)
        ast_sb_put(b, " CLUSTERED");
    else if (c == IDX_NONCLUSTERED)
        ast_sb_put(b, " NONCLUSTERED");
}

static void put_with_options(ast_sb *b, const ast_option_list *l)
{
    if (!l->n)
        return;
    ast_sb_put(b, " WITH (");
    ast_pr_options(b, l, AST_PR_EQ);
    ast_sb_put(b, ")");
}

static void put_on_fg(ast_sb *b, const char *fg)
{
    if (!fg)
        return;
    ast_sb_put(b, " ON ");
    if (strcmp(fg, "default") == 0)
        ast_sb_put(b, "DEFAULT");
    else if (strcmp(fg, "PRIMARY") == 0)
        ast_sb_put(b, "PRIMARY");
    else
        ast_pr_name(b, fg);
}

static const char *ref_action_text(ast_ref_action a)
{
    switch (a) {
    case REF_CASCADE: return "CASCADE";
    case REF_SET_NULL: return "SET NULL";
    case REF_SET_DEFAULT: return "SET DEFAULT";
    default: return "NO ACTION";
    }
}

static void put_constraint(ast_sb *b, const ast_constraint *c, bool column_level)
{
    if (c->name) {
        ast_sb_put(b, "CONSTRAINT ");
        ast_pr_name(b, c->name);
        ast_sb_put(b, " ");
    }
    switch (c->kind) {
    case CONSTR_PRIMARY_KEY: case CONSTR_UNIQUE:
        ast_sb_put(b, c->kind == CONSTR_UNIQUE ? "UNIQUE" : "PRIMARY KEY");
        put_clustered(b, c->clustered);
        if (!column_level) {
            ast_sb_put(b, " ");
            put_index_cols(b, &c->columns);
        }
        put_with_options(b, &c->with);
        put_on_fg(b, c->on_filegroup);
        break;
    case CONSTR_CHECK:
        ast_sb_put(b, "CHECK (");
        ast_pr_expr(b, c->check);
        ast_sb_put(b, ")");
        break;
    case CONSTR_FOREIGN_KEY:
        if (!column_level) {
            ast_sb_put(b, "FOREIGN KEY ");
            put_index_cols(b, &c->columns);
            ast_sb_put(b, " ");
        }
        ast_sb_put(b, "REFERENCES ");
        ast_pr_objname(b, &c->ref_table);
        if (c->ref_columns.n) {
            ast_sb_put(b, " ");
            ast_pr_name_list(b, &c->ref_columns);
        }
        if (c->on_delete != REF_NO_ACTION) {
            ast_sb_put(b, " ON DELETE ");
            ast_sb_put(b, ref_action_text(c->on_delete));
        }
        if (c->on_update != REF_NO_ACTION) {
            ast_sb_put(b, " ON UPDATE ");
            ast_sb_put(b, ref_action_text(c->on_update));
        }
        break;
    case CONSTR_DEFAULT:
        ast_sb_put(b, "DEFAULT ");
        ast_pr_expr(b, c->default_value);
        ast_sb_put(b, " FOR ");
        ast_pr_name(b, c->columns.v[0]->name);
        break;
    }
}

static void put_coldef(ast_sb *b, const ast_coldef *c)
{
    ast_pr_name(b, c->name);
    if (c->computed) {
        ast_sb_put(b, " AS ");
        ast_pr_expr(b, c->computed);
        if (c->persisted)
            ast_sb_put(b, " PERSISTED");
    } else {
        ast_sb_put(b, " ");
        ast_pr_type(b, &c->type);
    }
    if (c->collation) {
        ast_sb_put(b, " COLLATE ");
        ast_pr_collation(b, c->collation);
    }
    if (c->identity)
        ast_sb_printf(b, " IDENTITY(%lld, %lld)", (long long)c->identity_seed,
                  (long long)c->identity_increment);
    if (c->rowguidcol)
        ast_sb_put(b, " ROWGUIDCOL");
    if (c->sparse)
        ast_sb_put(b, " SPARSE");
    if (c->nullability == NULLABILITY_NULL)
        ast_sb_put(b, " NULL");
    else if (c->nullability == NULLABILITY_NOT_NULL)
        ast_sb_put(b, " NOT NULL");
    if (c->default_value) {
        ast_sb_put(b, " ");
        if (c->default_name) {
            ast_sb_put(b, "CONSTRAINT ");
            ast_pr_name(b, c->default_name);
            ast_sb_put(b, " ");
        }
        ast_sb_put(b, "DEFAULT ");
        ast_pr_expr(b, c->default_value);
    }
    for (int i = 0; i < c->constraints.n; i++) {
        ast_sb_put(b, " ");
        put_constraint(b, c->constraints.v[i], true);
    }
}

static void put_type_def(ast_sb *b, const ast_table_def *d)
{
    ast_sb_put(b, "(");
    for (int i = 0; i < d->columns.n; i++) {
        if (i)
            ast_sb_put(b, ", ");
        put_coldef(b, d->columns.v[i]);
    }
    for (int i = 0; i < d->constraints.n; i++) {
        if (i || d->columns.n)
            ast_sb_put(b, ", ");
        put_constraint(b, d->constraints.v[i], false);
    }
    ast_sb_put(b, ")");
}

static void put_tran_name(ast_sb *b, const ast_tran *t)
{
    if (!t->name)
        return;
    ast_sb_put(b, " ");
    if (t->name_is_var)
        ast_sb_put(b, t->name);
    else
        ast_pr_name(b, t->name);
}

void ast_pr_stmt_list(ast_sb *b, const ast_stmt_list *l, int indent)
{
    for (int i = 0; i < l->n; i++) {
        ast_pr_stmt(b, l->v[i], indent);
        ast_sb_put(b, ";\n");
    }
}

static void put_indent(ast_sb *b, int indent)
{
    for (int i = 0; i < indent; i++)
        ast_sb_put(b, "    ");
}

static void put_objname_list(ast_sb *b, const ast_objname_list *l)
{
    for (int i = 0; i < l->n; i++) {
        if (i)
            ast_sb_put(b, ", ");
        ast_pr_objname(b, l->v[i]);
    }
}

static void put_drop(ast_sb *b, const char *what, const ast_drop *d)
{
    ast_sb_put(b, what);
    if (d->if_exists)
        ast_sb_put(b, " IF EXISTS");
    ast_sb_put(b, " ");
    put_objname_list(b, &d->names);
}

static void put_exec(ast_sb *b, const ast_exec *x)
{
    ast_sb_put(b, "EXECUTE ");
    if (x->is_string) {
        ast_sb_put(b, "(");
        for (int i = 0; i < x->strings.n; i++) {
            if (i)
                ast_sb_put(b, " + ");
            ast_pr_expr(b, x->strings.v[i]);
        }
        ast_sb_put(b, ")");
        if (x->at_server) {
            ast_sb_put(b, " AT ");
            ast_pr_name(b, x->at_server);
        }
        return;
    }
    if (x->return_var) {
        ast_sb_put(b, x->return_var);
        ast_sb_put(b, " = ");
    }
    if (x->proc_var)
        ast_sb_put(b, x->proc_var);
    else
        ast_pr_objname(b, &x->proc);
    for (int i = 0; i < x->args.n; i++) {
        const ast_exec_arg *a = x->args.v[i];
        ast_sb_put(b, i ? ", " : " ");
        if (a->param) {
            ast_sb_put(b, a->param);
            ast_sb_put(b, " = ");
        }
        if (a->is_default)
            ast_sb_put(b, "DEFAULT");
        else
            ast_pr_expr(b, a->value);
        if (a->output)
            ast_sb_put(b, " OUTPUT");
    }
    if (x->with.n) {
        ast_sb_put(b, " WITH ");
        ast_pr_options(b, &x->with, AST_PR_EQ);
    }
}

static void put_create_proc(ast_sb *b, const ast_create_proc *p, int indent)
{
    ast_sb_put(b, p->alter ? "ALTER PROCEDURE " : p->or_alter ? "CREATE OR ALTER PROCEDURE "
                                                         : "CREATE PROCEDURE ");
    ast_pr_objname(b, &p->name);
    for (int i = 0; i < p->params.n; i++) {
        const ast_param *a = p->params.v[i];
        ast_sb_put(b, i ? ", " : " ");
        ast_sb_put(b, a->name);
        ast_sb_put(b, " ");
        ast_pr_type(b, &a->type);
        if (a->default_value) {
            ast_sb_put(b, " = ");
            ast_pr_expr(b, a->default_value);
        }
        if (a->output)
            ast_sb_put(b, " OUTPUT");
        if (a->readonly)
            ast_sb_put(b, " READONLY");
    }
    if (p->with.n) {
        ast_sb_put(b, " WITH ");
        for (int i = 0; i < p->with.n; i++) {
            const ast_option *o = p->with.v[i];
            if (i)
                ast_sb_put(b, ", ");
            if (strcmp(o->name, "EXECUTE AS") == 0) {
                ast_sb_put(b, "EXECUTE AS ");
                if (o->value)
                    ast_pr_expr(b, o->value);
                else
                    ast_pr_word(b, o->word);
            } else {
                ast_pr_option(b, o, AST_PR_EQ);
            }
        }
    }
    ast_sb_put(b, " AS\n");
    ast_pr_stmt_list(b, &p->body, indent + 1);
}

void ast_pr_stmt(ast_sb *b, const ast_stmt *s, int indent)
{
    put_indent(b, indent);
    switch (s->kind) {
    case STMT_SELECT:
        ast_pr_ctes(b, &s->u.query->ctes);
        ast_pr_query(b, s->u.query);
        ast_pr_query_hints(b, &s->u.query->hints);
        break;
    case STMT_INSERT: {
        const ast_insert *x = &s->u.insert;
        ast_pr_ctes(b, &x->ctes);
        ast_sb_put(b, "INSERT ");
        ast_pr_top(b, x->top, x->top_percent, false);
        ast_sb_put(b, "INTO ");
        ast_pr_tableref(b, x->target);
        if (x->columns.n) {
            ast_sb_put(b, " ");
            ast_pr_name_list(b, &x->columns);
        }
        put_output(b, x->output);
        switch (x->source) {
        case INSERT_VALUES:
            ast_sb_put(b, " VALUES ");
            for (int i = 0; i < x->rows.n; i++) {
                ast_sb_put(b, i ? ", (" : "(");
                ast_pr_expr_list(b, x->rows.v[i]);
                ast_sb_put(b, ")");
            }
            break;
        case INSERT_QUERY:
            ast_sb_put(b, " ");
            ast_pr_query(b, x->query);
            ast_pr_query_hints(b, &x->query->hints);
            break;
        case INSERT_DEFAULT_VALUES:
            ast_sb_put(b, " DEFAULT VALUES");
            break;
        case INSERT_EXEC:
            ast_sb_put(b, " ");
            put_exec(b, &x->exec->u.exec);
            break;
        }
        break;
    }
    case STMT_UPDATE: {
        const ast_update *u = &s->u.update;
        ast_pr_ctes(b, &u->ctes);
        ast_sb_put(b, "UPDATE ");
        ast_pr_top(b, u->top, u->top_percent, false);
        ast_pr_tableref(b, u->target);
        ast_sb_put(b, " SET ");
        for (int i = 0; i < u->set.n; i++) {
            const ast_set_item *it = u->set.v[i];
            if (i)
                ast_sb_put(b, ", ");
            if (it->var) {
                ast_sb_put(b, it->var);
                ast_sb_put(b, it->column ? " = " : " ");
            }
            if (it->column) {
                ast_pr_expr(b, it->column);
                ast_sb_put(b, " ");
            }
            if (it->op != AST_OP_NONE)
                ast_sb_put(b, ast_pr_op_text(it->op));
            ast_sb_put(b, "= ");
            ast_pr_expr(b, it->value);
        }
        put_output(b, u->output);
        if (u->from.n) {
            ast_sb_put(b, " FROM ");
            ast_pr_tableref_list(b, &u->from);
        }
        if (u->where) {
            ast_sb_put(b, " WHERE ");
            ast_pr_expr(b, u->where);
        }
        ast_pr_query_hints(b, &u->hints);
        break;
    }
    case STMT_DELETE: {
        const ast_delete *d = &s->u.delete_;
        ast_pr_ctes(b, &d->ctes);
        ast_sb_put(b, "DELETE ");
        ast_pr_top(b, d->top, d->top_percent, false);
        ast_sb_put(b, "FROM ");
        ast_pr_tableref(b, d->target);
        put_output(b, d->output);
        if (d->from.n) {
            ast_sb_put(b, " FROM ");
            ast_pr_tableref_list(b, &d->from);
        }
        if (d->where) {
            ast_sb_put(b, " WHERE ");
            ast_pr_expr(b, d->where);
        }
        ast_pr_query_hints(b, &d->hints);
        break;
    }
    case STMT_CREATE_DATABASE:
        ast_pr_create_database(b, &s->u.create_db);
        break;
    case STMT_DROP_DATABASE: put_drop(b, "DROP DATABASE", &s->u.drop); break;
    case STMT_DROP_SCHEMA: put_drop(b, "DROP SCHEMA", &s->u.drop); break;
    case STMT_DROP_TABLE: put_drop(b, "DROP TABLE", &s->u.drop); break;
    case STMT_DROP_PROCEDURE: put_drop(b, "DROP PROCEDURE", &s->u.drop); break;
    case STMT_DROP_ENDPOINT: put_drop(b, "DROP ENDPOINT", &s->u.drop); break;
    case STMT_TRUNCATE_TABLE: put_drop(b, "TRUNCATE TABLE", &s->u.drop); break;
    case STMT_CREATE_SCHEMA: {
        const ast_create_schema *c = &s->u.create_schema;
        ast_sb_put(b, "CREATE SCHEMA");
        if (c->name) {
            ast_sb_put(b, " ");
            ast_pr_name(b, c->name);
        }
        if (c->authorization) {
            ast_sb_put(b, " AUTHORIZATION ");
            ast_pr_name(b, c->authorization);
        }
        for (int i = 0; i < c->elements.n; i++) {
            ast_sb_put(b, "\n");
            ast_pr_stmt(b, c->elements.v[i], indent + 1);
        }
        break;
    }
    case STMT_CREATE_TABLE: {
        const ast_create_table *t = &s->u.create_table;
        ast_sb_put(b, "CREATE TABLE ");
        ast_pr_objname(b, &t->name);
        ast_sb_put(b, " ");
        put_type_def(b, &t->def);
        put_on_fg(b, t->on_filegroup);
        if (t->textimage_on) {
            ast_sb_put(b, " TEXTIMAGE_ON ");
            if (strcmp(t->textimage_on, "default") == 0)
                ast_sb_put(b, "DEFAULT");
            else
                ast_pr_name(b, t->textimage_on);
        }
        put_with_options(b, &t->with);
        break;
    }
    case STMT_ALTER_TABLE: {
        const ast_alter_table *a = &s->u.alter_table;
        ast_sb_put(b, "ALTER TABLE ");
        ast_pr_objname(b, &a->name);
        if (a->with_check)
            ast_sb_put(b, " WITH CHECK");
        if (a->with_nocheck)
            ast_sb_put(b, " WITH NOCHECK");
        switch (a->action) {
        case ALTER_TABLE_ADD: {
            ast_sb_put(b, " ADD ");
            /* the same element list as CREATE TABLE, without parentheses */
            ast_sb tmp = { .lits = b->lits };   /* a cached tree's values too */
            put_type_def(&tmp, &a->def);
            if (tmp.p && tmp.n >= 2)
                ast_sb_putn(b, tmp.p + 1, tmp.n - 2);
            free(tmp.p);
            break;
        }
        case ALTER_TABLE_ALTER_COLUMN:
            ast_sb_put(b, " ALTER COLUMN ");
            put_coldef(b, a->def.columns.v[0]);
            break;
        case ALTER_TABLE_DROP_COLUMN:
        case ALTER_TABLE_DROP_CONSTRAINT:
            ast_sb_put(b, a->action == ALTER_TABLE_DROP_COLUMN ? " DROP COLUMN " : " DROP CONSTRAINT ");
            if (a->if_exists)
                ast_sb_put(b, "IF EXISTS ");
            for (int i = 0; i < a->names.n; i++) {
                if (i)
                    ast_sb_put(b, ", ");
                ast_pr_name(b, a->names.v[i]);
            }
            break;
        }
        break;
    }
    case STMT_CREATE_INDEX: {
        const ast_create_index *c = &s->u.create_index;
        ast_sb_put(b, c->unique ? "CREATE UNIQUE" : "CREATE");
        put_clustered(b, c->clustered);
        ast_sb_put(b, " INDEX ");
        ast_pr_name(b, c->name);
        ast_sb_put(b, " ON ");
        ast_pr_objname(b, &c->table);
        ast_sb_put(b, " ");
        put_index_cols(b, &c->columns);
        if (c->include.n) {
            ast_sb_put(b, " INCLUDE ");
            ast_pr_name_list(b, &c->include);
        }
        if (c->where) {
            ast_sb_put(b, " WHERE ");
            ast_pr_expr(b, c->where);
        }
        put_with_options(b, &c->with);
        put_on_fg(b, c->on_filegroup);
        break;
    }
    case STMT_DROP_INDEX: {
        const ast_drop_index *d = &s->u.drop_index;
        ast_sb_put(b, d->if_exists ? "DROP INDEX IF EXISTS " : "DROP INDEX ");
        for (int i = 0; i < d->indexes.n; i++) {
            if (i)
                ast_sb_put(b, ", ");
            ast_pr_name(b, d->indexes.v[i]->name);
            ast_sb_put(b, " ON ");
            ast_pr_objname(b, &d->indexes.v[i]->table);
        }
        break;
    }
    case STMT_CREATE_PROCEDURE:
        put_create_proc(b, &s->u.create_proc, indent);
        break;
    case STMT_USE:
        ast_sb_put(b, "USE ");
        ast_pr_name(b, s->u.name);
        break;
    case STMT_DECLARE:
        ast_sb_put(b, "DECLARE ");
        for (int i = 0; i < s->u.declare.n; i++) {
            const ast_declare_var *v = s->u.declare.v[i];
            if (i)
                ast_sb_put(b, ", ");
            ast_sb_put(b, v->name);
            if (v->is_table) {
                ast_sb_put(b, " TABLE ");
                put_type_def(b, &v->table);
                continue;
            }
            ast_sb_put(b, " ");
            ast_pr_type(b, &v->type);
            if (v->init) {
                ast_sb_put(b, " = ");
                ast_pr_expr(b, v->init);
            }
        }
        break;
    case STMT_SET_VAR:
        ast_sb_put(b, "SET ");
        ast_sb_put(b, s->u.set_var.var);
        ast_sb_put(b, " ");
        if (s->u.set_var.op != AST_OP_NONE)
            ast_sb_put(b, ast_pr_op_text(s->u.set_var.op));
        ast_sb_put(b, "= ");
        ast_pr_expr(b, s->u.set_var.value);
        break;
    case STMT_SET_OPTION:
        ast_pr_set_option(b, &s->u.set_option);
        break;
    case STMT_IF:
        ast_sb_put(b, "IF ");
        ast_pr_expr(b, s->u.if_.cond);
        ast_sb_put(b, "\n");
        ast_pr_stmt(b, s->u.if_.then, indent + 1);
        if (s->u.if_.else_) {
            ast_sb_put(b, "\n");
            put_indent(b, indent);
            ast_sb_put(b, "ELSE\n");
            ast_pr_stmt(b, s->u.if_.else_, indent + 1);
        }
        break;
    case STMT_WHILE:
        ast_sb_put(b, "WHILE ");
        ast_pr_expr(b, s->u.while_.cond);
        ast_sb_put(b, "\n");
        ast_pr_stmt(b, s->u.while_.body, indent + 1);
        break;
    case STMT_BREAK: ast_sb_put(b, "BREAK"); break;
    case STMT_CONTINUE: ast_sb_put(b, "CONTINUE"); break;
    case STMT_BLOCK:
        ast_sb_put(b, "BEGIN\n");
        ast_pr_stmt_list(b, &s->u.block, indent + 1);
        put_indent(b, indent);
        ast_sb_put(b, "END");
        break;
    case STMT_TRY:
        ast_sb_put(b, "BEGIN TRY\n");
        ast_pr_stmt_list(b, &s->u.try_.try_body, indent + 1);
        put_indent(b, indent);
        ast_sb_put(b, "END TRY\n");
        put_indent(b, indent);
        ast_sb_put(b, "BEGIN CATCH\n");
        ast_pr_stmt_list(b, &s->u.try_.catch_body, indent + 1);
        put_indent(b, indent);
        ast_sb_put(b, "END CATCH");
        break;
    case STMT_THROW:
        ast_sb_put(b, "THROW");
        if (s->u.throw_.number) {
            ast_sb_put(b, " ");
            ast_pr_expr(b, s->u.throw_.number);
            ast_sb_put(b, ", ");
            ast_pr_expr(b, s->u.throw_.message);
            ast_sb_put(b, ", ");
            ast_pr_expr(b, s->u.throw_.state);
        }
        break;
    case STMT_RAISERROR: {
        ast_sb_put(b, "RAISERROR(");
        ast_pr_expr(b, s->u.raiserror.msg);
        ast_sb_put(b, ", ");
        ast_pr_expr(b, s->u.raiserror.severity);
        ast_sb_put(b, ", ");
        ast_pr_expr(b, s->u.raiserror.state);
        for (int i = 0; i < s->u.raiserror.args.n; i++) {
            ast_sb_put(b, ", ");
            ast_pr_expr(b, s->u.raiserror.args.v[i]);
        }
        ast_sb_put(b, ")");
        int f = s->u.raiserror.flags;
        if (f) {
            const char *sep = " WITH ";
            if (f & RAISERROR_LOG) { ast_sb_put(b, sep); ast_sb_put(b, "LOG"); sep = ", "; }
            if (f & RAISERROR_NOWAIT) { ast_sb_put(b, sep); ast_sb_put(b, "NOWAIT"); sep = ", "; }
            if (f & RAISERROR_SETERROR) { ast_sb_put(b, sep); ast_sb_put(b, "SETERROR"); }
        }
        break;
    }
    case STMT_PRINT:
        ast_sb_put(b, "PRINT ");
        ast_pr_expr(b, s->u.expr);
        break;
    case STMT_RETURN:
        ast_sb_put(b, "RETURN");
        if (s->u.expr) {
            ast_sb_put(b, " ");
            ast_pr_expr(b, s->u.expr);
        }
        break;
    case STMT_GOTO:
        ast_sb_put(b, "GOTO ");
        ast_pr_name(b, s->u.name);
        break;
    case STMT_LABEL:
        ast_pr_name(b, s->u.name);
        ast_sb_put(b, ":");
        break;
    case STMT_WAITFOR:
        ast_sb_put(b, s->u.waitfor.delay ? "WAITFOR DELAY " : "WAITFOR TIME ");
        ast_pr_expr(b, s->u.waitfor.value);
        break;
    case STMT_BEGIN_TRAN:
        ast_sb_put(b, s->u.tran.distributed ? "BEGIN DISTRIBUTED TRANSACTION" : "BEGIN TRANSACTION");
        put_tran_name(b, &s->u.tran);
        if (s->u.tran.with_mark) {
            ast_sb_put(b, " WITH MARK");
            if (s->u.tran.mark_desc) {
                ast_sb_put(b, " ");
                ast_pr_expr(b, s->u.tran.mark_desc);
            }
        }
        break;
    case STMT_COMMIT:
    case STMT_ROLLBACK:
    case STMT_SAVE_TRAN:
        ast_sb_put(b, s->kind == STMT_COMMIT ? "COMMIT TRANSACTION"
                  : s->kind == STMT_ROLLBACK ? "ROLLBACK TRANSACTION" : "SAVE TRANSACTION");
        put_tran_name(b, &s->u.tran);
        if (s->u.tran.with.n) {
            ast_sb_put(b, " WITH (");
            ast_pr_options(b, &s->u.tran.with, AST_PR_EQ);
            ast_sb_put(b, ")");
        }
        break;
    case STMT_EXEC:
        put_exec(b, &s->u.exec);
        break;
    case STMT_KILL:
        ast_sb_put(b, "KILL ");
        ast_pr_expr(b, s->u.kill.target);
        switch (s->u.kill.with) {
        case KILL_STATUSONLY: ast_sb_put(b, " WITH STATUSONLY"); break;
        case KILL_COMMIT: ast_sb_put(b, " WITH COMMIT"); break;
        case KILL_ROLLBACK: ast_sb_put(b, " WITH ROLLBACK"); break;
        default: break;
        }
        break;
    case STMT_SHUTDOWN:
        ast_sb_put(b, s->u.nowait ? "SHUTDOWN WITH NOWAIT" : "SHUTDOWN");
        break;
    case STMT_CHECKPOINT:
        ast_sb_put(b, "CHECKPOINT");
        if (s->u.expr) {
            ast_sb_put(b, " ");
            ast_pr_expr(b, s->u.expr);
        }
        break;
    case STMT_RECONFIGURE:
        ast_sb_put(b, s->u.nowait ? "RECONFIGURE WITH OVERRIDE" : "RECONFIGURE");
        break;
    case STMT_BACKUP:
        ast_pr_backup(b, &s->u.backup);
        break;
    case STMT_RESTORE:
        ast_pr_restore(b, &s->u.restore);
        break;
    case STMT_ALTER_DATABASE:
        ast_pr_alter_database(b, &s->u.alter_db);
        break;
    case STMT_DBCC:
        ast_sb_put(b, "DBCC ");
        ast_sb_put(b, s->u.dbcc.name);
        if (s->u.dbcc.args.n) {
            ast_sb_put(b, " (");
            ast_pr_expr_list(b, &s->u.dbcc.args);
            ast_sb_put(b, ")");
        }
        if (s->u.dbcc.with.n) {
            ast_sb_put(b, " WITH ");
            ast_pr_options(b, &s->u.dbcc.with, AST_PR_EQ);
        }
        break;
    case STMT_ENDPOINT:
        ast_pr_endpoint(b, &s->u.endpoint);
        break;
    case STMT_UNSUPPORTED:
        /* Not understood beyond its first words: echo the source. */
        ast_sb_put(b, s->u.unsupported.text);
        break;
    case STMT_KIND_COUNT_:
        break;
    }
}
