/*
 * ast_print_int.h — what the printer files share (ast_print.c: expressions,
 * queries, options; ast_print_stmt.c: statements; ast_print_admin.c: admin
 * statements).
 */
#ifndef HDB_SQL_AST_PRINT_INT_H
#define HDB_SQL_AST_PRINT_INT_H

#include <stdbool.h>
#include <stddef.h>

#include "sql/ast.h"

/* Growable output buffer (malloc'd; copied into the arena at the end). */
typedef struct ast_sb {
    char *p;
    size_t n, cap;
    bool oom;
    const ast_lit_value *lits;   /* a cached tree's parameter values, or NULL */
} ast_sb;

void ast_sb_putn(ast_sb *b, const char *s, size_t n);
void ast_sb_put(ast_sb *b, const char *s);
__attribute__((format(printf, 2, 3)))
void ast_sb_printf(ast_sb *b, const char *fmt, ...);

/* How an option's value is separated from its name. */
typedef enum ast_pr_style { AST_PR_EQ, AST_PR_SPACE } ast_pr_style;

const char *ast_pr_op_text(ast_op op);
void ast_pr_name(ast_sb *b, const char *name);
void ast_pr_word(ast_sb *b, const char *w);
/* A collation name: bare when it is one word, else [bracketed]. */
void ast_pr_collation(ast_sb *b, const char *c);
void ast_pr_objname(ast_sb *b, const ast_objname *o);
void ast_pr_name_list(ast_sb *b, const ast_name_list *l);
void ast_pr_expr(ast_sb *b, const ast_expr *e);
void ast_pr_expr_list(ast_sb *b, const ast_expr_list *l);
void ast_pr_type(ast_sb *b, const ast_type *t);
void ast_pr_query(ast_sb *b, const ast_query *q);
void ast_pr_ctes(ast_sb *b, const ast_cte_list *l);
void ast_pr_select_items(ast_sb *b, const ast_select_item_list *l);
void ast_pr_top(ast_sb *b, const ast_expr *top, bool percent, bool ties);
void ast_pr_tableref(ast_sb *b, const ast_tableref *r);
void ast_pr_tableref_list(ast_sb *b, const ast_tableref_list *l);
void ast_pr_option(ast_sb *b, const ast_option *o, ast_pr_style style);
void ast_pr_options(ast_sb *b, const ast_option_list *l, ast_pr_style style);
void ast_pr_query_hints(ast_sb *b, const ast_option_list *l);
void ast_pr_stmt(ast_sb *b, const ast_stmt *s, int indent);

/* ast_print_admin.c */
void ast_pr_set_option(ast_sb *b, const ast_set_option *o);
void ast_pr_alter_database(ast_sb *b, const ast_alter_database *a);
void ast_pr_create_database(ast_sb *b, const ast_create_database *c);
void ast_pr_backup(ast_sb *b, const ast_backup *k);
void ast_pr_restore(ast_sb *b, const ast_restore *r);
void ast_pr_endpoint(ast_sb *b, const ast_endpoint *e);
void ast_pr_stmt_list(ast_sb *b, const ast_stmt_list *l, int indent);

#endif
