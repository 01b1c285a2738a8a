/*
 * parser_int.h — what the parser's files share (not for consumers: they use
 * parser.h and ast.h).
 *
 * Shape: hand-written recursive descent over a token array that grows on
 * demand from the lexer. Lookahead is by index (parse_peek(P, k)), so the
 * few places T-SQL needs to look past a token (alias = expr, t.* in a select
 * list, labels) need no backtracking machinery. Token pointers stay valid
 * for the whole parse (block storage), so grammar code may hold one.
 *
 * Errors: the first error ends the parse. parse_fail() fills the error record
 * and longjmps to parse_batch(); everything allocated lives in the arena, so
 * nothing leaks and no caller has to check a return value. That keeps every
 * grammar function a straight transcription of its rule.
 *
 * Files:
 *   parser.c        tokens, errors, names, variables, batch and statement
 *                   dispatch, control of flow (IF, WHILE, BEGIN..END, TRY,
 *                   THROW, RAISERROR, PRINT, RETURN, GOTO, WAITFOR, USE)
 *   parser_expr.c   expressions and predicates
 *   parser_types.c  constants (engine values) and data types
 *   parser_dml.c    queries (SELECT, set operations, FROM/joins, CTEs),
 *                   INSERT, UPDATE, DELETE, OUTPUT
 *   parser_ddl.c    CREATE/ALTER/DROP DATABASE, SCHEMA, TABLE, INDEX,
 *                   PROCEDURE; TRUNCATE; file specifications
 *   parser_admin.c  transactions, EXEC, KILL, SHUTDOWN, CHECKPOINT,
 *                   BACKUP, RESTORE, ALTER DATABASE, DBCC, ENDPOINT, and the
 *                   option-list machinery they share
 *   parser_set.c    DECLARE, SET (variables and session options)
 */
#ifndef HDB_SQL_PARSER_INT_H
#define HDB_SQL_PARSER_INT_H

#include <setjmp.h>
#include <stdint.h>
#include <string.h>

#include "sql/ast.h"
#include "sql/lexer.h"
#include "sql/parser.h"

/* Nesting limit (parentheses, subqueries, blocks) before error 191. Each
 * level costs a few recursive frames; this keeps a parse well inside a 1 MiB
 * thread stack even under AddressSanitizer. */
#define PARSE_MAX_DEPTH 128

/* A name -> kind set (variables, labels) with open addressing; names compare
 * case-insensitively. */
typedef struct parse_nameset {
    const char **names;
    uint8_t *kinds;
    uint32_t cap, n;
} parse_nameset;

enum { VAR_SCALAR = 1, VAR_TABLE = 2 };

typedef struct parse_goto_ref {
    const char *label;
    int line;
} parse_goto_ref;

typedef struct parser {
    arena *a;
    lexer lx;
    /* Tokens lexed so far, in fixed blocks that never move, so a token
     * pointer stays valid while more tokens are lexed behind it. */
    lex_token **blocks;       /* malloc'd; NULL once released */
    int nblocks;
    int first_live_block;     /* blocks before it are released */
    int ntok;
    int pos;                  /* current token */
    jmp_buf jb;
    hdb_err *err;
    hdb_err own_err;          /* used when the caller passed no record */
    int err_line;
    const char *src;
    size_t len;

    bool check_vars;
    parse_nameset vars;       /* declared variables of the batch / procedure */
    parse_nameset labels;
    AST_LIST_OF(parse_goto_ref) gotos;
    ast_lit_use_list lits;    /* every literal made from a token */

    int depth;                /* nesting, for error 191 */
    int nest;                 /* statement nesting: 0 = top level of the batch */
    int top_index;            /* ordinal of the current top-level statement */
    uint32_t stmt_offset;     /* where the statement being dispatched starts */
    bool stmt_top;            /* the statement being dispatched is top level
                               * (read it before parsing sub-statements) */
    int while_depth;          /* BREAK / CONTINUE need an enclosing WHILE */
    int catch_depth;          /* a bare THROW needs an enclosing CATCH */
    int block_depth;          /* BEGIN..END nesting (unsupported-statement skip) */
    bool terminated;          /* the previous statement ended with ';' (or
                               * there was none): THROW and WITH need it */
    int type_ordinal;         /* "Column or parameter #n" in type errors */
} parser;

/* ---- tokens ---- */
#define PARSE_TOK_BLOCK 1024
/* Token i (already lexed). */
static inline lex_token *parse_tok(parser *P, int i)
{
    return &P->blocks[i / PARSE_TOK_BLOCK][i % PARSE_TOK_BLOCK];
}
const lex_token *parse_peek(parser *P, int k);    /* token at pos + k */
static inline const lex_token *parse_cur(parser *P) { return parse_peek(P, 0); }
void parse_advance(parser *P);
/* Re-lexes everything after the current position (QUOTED_IDENTIFIER change). */
void parse_relex(parser *P, bool quoted_identifier);

bool parse_is_kw_at(parser *P, int k, lex_kw kw);
static inline bool parse_is_kw(parser *P, lex_kw kw) { return parse_is_kw_at(P, 0, kw); }
bool parse_accept_kw(parser *P, lex_kw kw);
void parse_expect_kw(parser *P, lex_kw kw);

bool parse_is_op_at(parser *P, int k, lex_op op);
static inline bool parse_is_op(parser *P, lex_op op) { return parse_is_op_at(P, 0, op); }
bool parse_accept_op(parser *P, lex_op op);
void parse_expect_op(parser *P, lex_op op);

/* Unquoted word (reserved or not) equal to `upper`, case-insensitively. */
bool parse_is_word_at(parser *P, int k, const char *upper);
static inline bool parse_is_word(parser *P, const char *upper) { return parse_is_word_at(P, 0, upper); }
bool parse_accept_word(parser *P, const char *upper);
void parse_expect_word(parser *P, const char *upper);

/* A token usable as a name: regular non-reserved identifier or quoted one. */
bool parse_is_ident_at(parser *P, int k);
static inline bool parse_is_ident(parser *P) { return parse_is_ident_at(P, 0); }
const char *parse_ident(parser *P);               /* expects one */
/* An unquoted word, reserved or not (option names, DBCC names ...). */
bool parse_is_anyword_at(parser *P, int k);
const char *parse_anyword(parser *P);
/* A string constant used as a name ('alias' = x, NAME = 'logical'): the
 * 128-character limit of names applies (103). Returns its text. */
const char *parse_string_name(parser *P, const lex_token *t);
/* Dotted name of 1..maxparts parts ("db..t" allowed). */
void parse_objname(parser *P, ast_objname *out, int maxparts);

/* ---- errors (never return) ---- */
_Noreturn void parse_fail(parser *P, int line, int number, ...);
_Noreturn void parse_fail_state(parser *P, int line, int state, int number, ...);
/* "Incorrect syntax near" the token at pos + k (102, or 156 for a reserved
 * keyword; at the end of the batch: 102 near the last token). */
_Noreturn void parse_error_near_at(parser *P, int k);
_Noreturn static inline void parse_error_near(parser *P) { parse_error_near_at(P, 0); }
/* Line of the token at pos + k (or of the last token at the end). */
int parse_line_at(parser *P, int k);
/* Text SQL Server shows for a token in "near '...'" messages. */
const char *parse_token_text(parser *P, int idx);

/* ---- memory ---- */
void *parse_alloc(parser *P, size_t n);           /* zeroed; 701 on failure */
char *parse_strdup(parser *P, const char *s);
char *parse_upper(parser *P, const char *s);      /* ASCII upper-case copy */
char *parse_concat(parser *P, const char *a, const char *sep, const char *b);

#define PARSE_NEW(P, T) ((T *)parse_alloc((P), sizeof(T)))
/* Appends to an AST_LIST_OF list, growing it in the arena. */
#define PARSE_PUSH(P, list, item) do {                                        \
        if ((list).n == (list).cap_) {                                        \
            int nc_ = (list).cap_ ? (list).cap_ * 2 : 4;                      \
            void *nv_ = parse_alloc((P), sizeof(*(list).v) * (size_t)nc_);    \
            if ((list).n)                                                     \
                memcpy(nv_, (list).v, sizeof(*(list).v) * (size_t)(list).n);  \
            (list).v = nv_;                                                   \
            (list).cap_ = nc_;                                                \
        }                                                                     \
        (list).v[(list).n++] = (item);                                        \
    } while (0)

/* ---- tree height (AST_MAX_HEIGHT) ---- */
/* Each sets the node's height from its children (already sealed) and fails
 * with 191 beyond AST_MAX_HEIGHT. Every node with children is sealed when
 * built, so heights are exact without a second pass. */
ast_expr *parse_seal_expr(parser *P, ast_expr *e);
ast_query *parse_seal_query(parser *P, ast_query *q);
ast_tableref *parse_seal_tableref(parser *P, ast_tableref *r);

/* ---- nesting ---- */
void parse_enter(parser *P);                      /* 191 beyond PARSE_MAX_DEPTH */
static inline void parse_leave(parser *P) { P->depth--; }

/* ---- variables and labels ---- */
void parse_var_declare(parser *P, const char *name, int kind, int line);
void parse_var_use(parser *P, const char *name, int kind, int line);

/* ---- statements ---- */
ast_stmt *parse_statement(parser *P);
ast_stmt *parse_new_stmt(parser *P, ast_stmt_kind kind);
/* Statements up to (not including) END / END TRY / END CATCH / end of batch. */
void parse_stmt_list(parser *P, ast_stmt_list *out, bool until_end);
/* Skips a statement hadrdb does not implement and returns STMT_UNSUPPORTED. */
ast_stmt *parse_unsupported(parser *P, const char *what, bool to_end_of_batch);

/* ---- expressions (parser_expr.c), constants and types (parser_types.c) ---- */
ast_expr *parse_expr(parser *P);                  /* value expression */
ast_expr *parse_cond(parser *P);                  /* search condition */
ast_expr *parse_new_expr(parser *P, ast_expr_kind kind, int line);
/* A constant, a signed constant or a variable (THROW / RAISERROR / EXEC args). */
bool parse_is_simple_value(parser *P);
ast_expr *parse_simple_value(parser *P);
ast_expr *parse_literal_token(parser *P, bool negate);
bool parse_is_number_token(const lex_token *t);
ast_expr *parse_null_literal(parser *P, int line);
ast_expr *parse_variable_ref(parser *P);               /* @v (checked) or @@name */
ast_expr *parse_string_literal(parser *P, const char *s, bool unicode, int line);
void parse_type(parser *P, ast_type *out, bool in_cast);
/* An unsigned constant of type int (CHECKPOINT n, TIMEOUT n): 8115 beyond. */
ast_expr *parse_int_literal(parser *P);
/* A signed integer constant (IDENTITY seeds, sizes, SPIDs). */
int64_t parse_int_const(parser *P);
void parse_order_list(parser *P, ast_order_list *out);

/* ---- queries and DML (parser_dml.c) ---- */
ast_query *parse_query(parser *P);
/* Whether the tokens at pos + k open a query: SELECT, or ('s leading to one. */
bool parse_starts_query_at(parser *P, int k);
ast_stmt *parse_select_stmt(parser *P);
ast_stmt *parse_with_stmt(parser *P);             /* WITH cte ... */
ast_stmt *parse_insert(parser *P, ast_cte_list *ctes);
ast_stmt *parse_update(parser *P, ast_cte_list *ctes);
ast_stmt *parse_delete(parser *P, ast_cte_list *ctes);
void parse_query_hints(parser *P, ast_option_list *out);   /* OPTION (...) */
void parse_select_items(parser *P, ast_select_item_list *out);

/* ---- DDL (parser_ddl.c) ---- */
ast_stmt *parse_create(parser *P);
ast_stmt *parse_drop(parser *P);
ast_stmt *parse_alter(parser *P);
ast_stmt *parse_truncate(parser *P);
void parse_table_def(parser *P, ast_table_def *out);
void parse_filespec_list(parser *P, ast_filespec_list *out);

/* ---- admin (parser_admin.c) ---- */
ast_stmt *parse_begin_tran(parser *P);            /* at TRAN / DISTRIBUTED */
ast_stmt *parse_commit_rollback(parser *P);
ast_stmt *parse_save_tran(parser *P);
ast_stmt *parse_declare(parser *P);
ast_stmt *parse_set(parser *P);
ast_stmt *parse_exec(parser *P, bool implicit);
ast_stmt *parse_kill(parser *P);
ast_stmt *parse_shutdown(parser *P);
ast_stmt *parse_checkpoint(parser *P);
ast_stmt *parse_reconfigure(parser *P);
ast_stmt *parse_backup(parser *P);
ast_stmt *parse_restore(parser *P);
ast_stmt *parse_alter_database(parser *P);        /* after ALTER DATABASE */
ast_stmt *parse_dbcc(parser *P);
ast_stmt *parse_endpoint(parser *P, bool alter);  /* after CREATE|ALTER ENDPOINT */

/* Generic option lists (admin statements, index WITH, table hints). */
typedef enum parse_optval {
    OV_FLAG,          /* NAME */
    OV_EQ,            /* NAME = value */
    OV_EQ_OPT,        /* NAME [= value] */
    OV_WORD,          /* NAME word|number  (ALTER DATABASE SET RECOVERY FULL) */
    OV_WORD_OPT,      /* NAME [word|number|= value] */
    OV_EQ_WORDS,      /* NAME = word [word ...] (endpoint AUTHENTICATION) */
    OV_PAREN,         /* NAME ( sub-options ) or NAME = value */
    OV_MOVE,          /* MOVE value TO value */
    OV_MARK           /* NAME = value [AFTER value] */
} parse_optval;

typedef struct parse_optdef {
    const char *name;
    parse_optval val;
} parse_optdef;

/* Parses `opt [, opt ...]`. With defs, names must be among them (else 155
 * "'X' is not a recognized <what> option."); without, any NAME [= value |
 * word] is taken. */
void parse_options(parser *P, ast_option_list *out, const parse_optdef *defs,
                   const char *what);
/* One option with an explicit value rule (no definition table). */
ast_option *parse_option_as(parser *P, parse_optval val);
/* A device: logical name, @var, or DISK|TAPE|URL = 'path'|@var. */
ast_device *parse_device(parser *P);

#endif
