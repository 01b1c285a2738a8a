/*
 * parser.h — T-SQL batch text to AST (ast.h).
 *
 * A batch is parsed whole before anything runs, as SQL Server does: one syntax
 * error anywhere means no statement of the batch executes. The error is the
 * one SQL Server reports first, with its number, severity (15 for syntax),
 * state 1, message text and the 1-based line of the offending token:
 *
 *   102  Incorrect syntax near 'tok'.            (at the end of the batch:
 *                                                   near the last token)
 *   156  Incorrect syntax near the keyword 'FROM'.
 *   105  Unclosed quotation mark after the character string '...'.
 *   113  Missing end comment mark '*' '/'.
 *   103  The identifier that starts with '...' is too long. Maximum length is 128.
 *   1038 empty [] or "" name;  4145 non-boolean expression where a condition
 *   is expected;  137 / 1087 undeclared scalar / table variable;  134 variable
 *   declared twice;  111 CREATE PROCEDURE/SCHEMA not first in the batch;
 *   195 unknown SET option;  155 unknown option of BACKUP/RESTORE/...;
 *   10704 THROW without arguments outside CATCH;  191 nested too deeply.
 */
#ifndef HDB_SQL_PARSER_H
#define HDB_SQL_PARSER_H

#include <stdbool.h>
#include <stddef.h>

#include "sql/ast.h"
#include "sql/lexer.h"
#include "util/arena.h"
#include "util/err.h"

typedef struct parse_opts {
    /* SET QUOTED_IDENTIFIER of the session: "x" is a name (true) or a string
     * (false). A SET QUOTED_IDENTIFIER inside the batch changes it for the
     * rest of the batch, as in SQL Server. */
    bool quoted_identifier;
    /* Variables already declared when the batch starts: the parameters of an
     * sp_executesql / sp_prepare call ("@p1", ...). */
    const char *const *declared;
    int ndeclared;
    /* Skip the 137/1087/134 variable checks (tools that only want a tree). */
    bool no_variable_check;
} parse_opts;

/* Parses sql[0..len) into *out, all of it allocated in `a`. NULL opts means
 * QUOTED_IDENTIFIER ON and no declared variables. Returns 0, or -1 with *err
 * filled and *err_line (if non-NULL) set to the line of the error. */
int parse_batch(arena *a, const char *sql, size_t len, const parse_opts *opts,
                ast_batch **out, hdb_err *err, int *err_line);

/* The engine value of a constant token's text, typed as the parser types it
 * (kind TK_INTEGER, TK_DECIMAL, TK_FLOAT or TK_MONEY; negate for a folded
 * leading '-'); and of a string constant's decoded text. Return 0, or the
 * error number (1007 out of range, 8115 money overflow, 701 no memory). */
int literal_number_value(lex_kind kind, const char *text, size_t len, bool negate, sql_value *v, sql_type *t);
int literal_string_value(arena *a, const char *text, size_t len, bool unicode, sql_value *v, sql_type *t);

#endif
