/*
 * lexer.h — T-SQL tokens.
 *
 * The lexer turns batch text (UTF-8) into tokens on demand; the parser pulls
 * them one at a time, so a SET QUOTED_IDENTIFIER statement can change how the
 * rest of the same batch is read, as it does in SQL Server (the setting acts
 * at parse time).
 *
 * What it recognises:
 *   identifiers   regular (letter, _, #, non-ASCII to start; then also digits,
 *                 @, $), [bracketed]] with ]] escape], "double-quoted" when
 *                 QUOTED_IDENTIFIER is ON (with "" escape); virtual
 *                 columns %%name%% (%%physloc%%) as one TK_IDENT whose text
 *                 keeps the %% marks
 *   keywords      regular identifiers that are SQL Server reserved words get
 *                 kw != KW_NONE (case-insensitive); other words the grammar
 *                 uses (TRY, MARK, LOG, ...) stay plain identifiers and the
 *                 parser matches them by text — exactly SQL Server's split,
 *                 which decides between errors 102 and 156 and which words may
 *                 name objects without brackets
 *   variables     @name  and  @@name (system functions)
 *   strings       'it''s', N'unicode', and "text" when QUOTED_IDENTIFIER is OFF
 *   numbers       123 (integer), 1.5 / .5 / 5. (decimal), 1.5e-3 / 1e5 (float),
 *                 $12.50 (money), 0xABCD (binary)
 *   comments      -- to end of line, and slash-star block comments, which
 *                 nest as in SQL Server
 *   operators     ( ) , ; . : :: = < > <= >= <> != !< !> + - * / % & | ^ ~
 *                 and compound assignment += -= *= /= %= &= |= ^=
 *
 * Every token carries its source span and the line it starts on. Decoded text
 * (identifier without brackets, string without quotes and with '' folded) is
 * NUL-terminated UTF-8 in the arena.
 *
 * Lexical errors come back as one TK_ERROR token whose `err` holds SQL
 * Server's error: 105 unclosed quotation mark (strings, [ and "), 113 missing
 * end comment mark, 103 identifier too long (> 128 characters), 1038 empty
 * quoted identifier. Characters that start no token become TK_OP/OP_OTHER;
 * the parser reports them as "Incorrect syntax near".
 */
#ifndef HDB_SQL_LEXER_H
#define HDB_SQL_LEXER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/arena.h"
#include "util/err.h"

/* SQL Server's reserved keywords (the documented list). Only these make error
 * 156 and need brackets to be used as names. */
#define LEX_RESERVED_WORDS(X) \
    X(ADD) X(ALL) X(ALTER) X(AND) X(ANY) X(AS) X(ASC) X(AUTHORIZATION) \
    X(BACKUP) X(BEGIN) X(BETWEEN) X(BREAK) X(BROWSE) X(BULK) X(BY) \
    X(CASCADE) X(CASE) X(CHECK) X(CHECKPOINT) X(CLOSE) X(CLUSTERED) \
    X(COALESCE) X(COLLATE) X(COLUMN) X(COMMIT) X(COMPUTE) X(CONSTRAINT) \
    X(CONTAINS) X(CONTAINSTABLE) X(CONTINUE) X(CONVERT) X(CREATE) X(CROSS) \
    X(CURRENT) X(CURRENT_DATE) X(CURRENT_TIME) X(CURRENT_TIMESTAMP) \
    X(CURRENT_USER) X(CURSOR) X(DATABASE) X(DBCC) X(DEALLOCATE) X(DECLARE) \
    X(DEFAULT) X(DELETE) X(DENY) X(DESC) X(DISK) X(DISTINCT) X(DISTRIBUTED) \
    X(DOUBLE) X(DROP) X(DUMP) X(ELSE) X(END) X(ERRLVL) X(ESCAPE) X(EXCEPT) \
    X(EXEC) X(EXECUTE) X(EXISTS) X(EXIT) X(EXTERNAL) X(FETCH) X(FILE) \
    X(FILLFACTOR) X(FOR) X(FOREIGN) X(FREETEXT) X(FREETEXTTABLE) X(FROM) \
    X(FULL) X(FUNCTION) X(GOTO) X(GRANT) X(GROUP) X(HAVING) X(HOLDLOCK) \
    X(IDENTITY) X(IDENTITYCOL) X(IDENTITY_INSERT) X(IF) X(IN) X(INDEX) \
    X(INNER) X(INSERT) X(INTERSECT) X(INTO) X(IS) X(JOIN) X(KEY) X(KILL) \
    X(LEFT) X(LIKE) X(LINENO) X(LOAD) X(MERGE) X(NATIONAL) X(NOCHECK) \
    X(NONCLUSTERED) X(NOT) X(NULL) X(NULLIF) X(OF) X(OFF) X(OFFSETS) X(ON) \
    X(OPEN) X(OPENDATASOURCE) X(OPENQUERY) X(OPENROWSET) X(OPENXML) \
    X(OPTION) X(OR) X(ORDER) X(OUTER) X(OVER) X(PERCENT) X(PIVOT) X(PLAN) \
    X(PRECISION) X(PRIMARY) X(PRINT) X(PROC) X(PROCEDURE) X(PUBLIC) \
    X(RAISERROR) X(READ) X(READTEXT) X(RECONFIGURE) X(REFERENCES) \
    X(REPLICATION) X(RESTORE) X(RESTRICT) X(RETURN) X(REVERT) X(REVOKE) \
    X(RIGHT) X(ROLLBACK) X(ROWCOUNT) X(ROWGUIDCOL) X(RULE) X(SAVE) X(SCHEMA) \
    X(SECURITYAUDIT) X(SELECT) X(SEMANTICKEYPHRASETABLE) \
    X(SEMANTICSIMILARITYDETAILSTABLE) X(SEMANTICSIMILARITYTABLE) \
    X(SESSION_USER) X(SET) X(SETUSER) X(SHUTDOWN) X(SOME) X(STATISTICS) \
    X(SYSTEM_USER) X(TABLE) X(TABLESAMPLE) X(TEXTSIZE) X(THEN) X(TO) X(TOP) \
    X(TRAN) X(TRANSACTION) X(TRIGGER) X(TRUNCATE) X(TRY_CONVERT) X(TSEQUAL) \
    X(UNION) X(UNIQUE) X(UNPIVOT) X(UPDATE) X(UPDATETEXT) X(USE) X(USER) \
    X(VALUES) X(VARYING) X(VIEW) X(WAITFOR) X(WHEN) X(WHERE) X(WHILE) \
    X(WITH) X(WITHIN) X(WRITETEXT)

typedef enum lex_kw {
    KW_NONE = 0,
#define LEX_KW_ENUM(w) KW_##w,
    LEX_RESERVED_WORDS(LEX_KW_ENUM)
#undef LEX_KW_ENUM
    KW_COUNT_
} lex_kw;

typedef enum lex_kind {
    TK_EOF = 0,
    TK_IDENT,      /* regular identifier; kw != KW_NONE when reserved */
    TK_QIDENT,     /* [bracketed] or "quoted" identifier (never a keyword) */
    TK_VARIABLE,   /* @name (text includes the @) */
    TK_SYSVAR,     /* @@name (text includes the @@) */
    TK_STRING,     /* '...' (or "..." with QUOTED_IDENTIFIER OFF) */
    TK_NSTRING,    /* N'...' */
    TK_INTEGER,    /* digits only */
    TK_DECIMAL,    /* digits with a point, no exponent */
    TK_FLOAT,      /* with an exponent */
    TK_MONEY,      /* $ followed by a number (text excludes the $) */
    TK_BINARY,     /* 0x... (text is the hex digits after 0x) */
    TK_OP,         /* punctuation / operator: see op */
    TK_ERROR       /* lexical error: see err */
} lex_kind;

typedef enum lex_op {
    OP_NONE = 0,
    OP_LPAREN, OP_RPAREN, OP_COMMA, OP_SEMI, OP_DOT, OP_COLON, OP_DCOLON,
    OP_EQ, OP_NE, OP_LT, OP_LE, OP_GT, OP_GE, OP_NLT, OP_NGT,
    OP_PLUS, OP_MINUS, OP_STAR, OP_SLASH, OP_PERCENT,
    OP_AMP, OP_PIPE, OP_CARET, OP_TILDE,
    OP_PLUS_EQ, OP_MINUS_EQ, OP_STAR_EQ, OP_SLASH_EQ, OP_PERCENT_EQ,
    OP_AMP_EQ, OP_PIPE_EQ, OP_CARET_EQ,
    OP_OTHER       /* a character that starts no token ({, ?, `, ...) */
} lex_op;

typedef struct lex_token {
    lex_kind kind;
    lex_kw   kw;          /* TK_IDENT: reserved keyword id, else KW_NONE */
    lex_op   op;          /* TK_OP */
    int      line;        /* 1-based line of the first character */
    int      end_line;    /* line after the last character */
    uint32_t offset;      /* byte span in the batch text */
    uint32_t len;
    const char *text;     /* decoded, NUL-terminated (see above) */
    uint32_t text_len;    /* bytes of text (strings may hold NULs) */
    hdb_err *err;         /* TK_ERROR only; lives in the arena */
} lex_token;

typedef struct lexer {
    const char *src;
    size_t len;
    size_t pos;
    int line;
    bool quoted_identifier;   /* "x" is an identifier (ON) or a string (OFF) */
    arena *a;
    bool oom;                 /* an allocation failed; tokens are TK_ERROR 701 */
} lexer;

/* Identifiers longer than this many characters are error 103. */
#define LEX_MAX_IDENT 128

void lex_init(lexer *lx, const char *src, size_t len, arena *a, bool quoted_identifier);
/* Next token (TK_EOF forever at the end). */
void lex_next(lexer *lx, lex_token *t);
/* Restarts at byte offset `pos`, which is on `line` (used to re-read
 * lookahead after a QUOTED_IDENTIFIER change). */
void lex_rewind(lexer *lx, size_t pos, int line);

/* Reserved keyword id of a word (any case), KW_NONE if not reserved. */
lex_kw lex_keyword(const char *word, size_t len);
/* Upper-case spelling of a keyword id ("SELECT"). */
const char *lex_keyword_name(lex_kw kw);
/* Spelling of an operator ("<=", "+="). */
const char *lex_op_text(lex_op op);
/* Whether an identifier must be bracketed to be read back as the same name:
 * reserved word, empty, or characters a regular identifier cannot hold. */
bool lex_ident_needs_quotes(const char *name);

/* Character classes of the lexer (the plan cache's scanner must agree). */
static inline bool lex_is_digit(unsigned char c) { return c >= '0' && c <= '9'; }
static inline bool lex_is_hex(unsigned char c)
{
    return lex_is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}
static inline bool lex_is_alpha(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
static inline bool lex_is_ident_start(unsigned char c)
{
    return lex_is_alpha(c) || c == '_' || c == '#' || c >= 0x80;
}
static inline bool lex_is_ident_char(unsigned char c)
{
    return lex_is_ident_start(c) || lex_is_digit(c) || c == '@' || c == '$';
}
/* Whether s[0..n) reads back as one word (a regular identifier or a
 * keyword). */
bool lex_is_word(const char *s, size_t n);

#endif
