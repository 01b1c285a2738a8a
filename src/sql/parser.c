/*
 * parser.c — token stream, errors, names, variables, the batch, statement
 * dispatch and control of flow. See parser_int.h for the overall shape and
 * src/sql/README.md for the grammar covered.
 *
 * Statement boundaries: T-SQL needs no ';' between statements; a statement
 * ends where its grammar cannot go on, and the next token must start a
 * statement. Two statements do need the previous one terminated by ';' —
 * THROW and a WITH common table expression — because their first word could
 * otherwise continue it (SQL Server: 102 near 'THROW', error 319 for WITH).
 * `P->terminated` tracks that.
 */
#include "sql/parser_int.h"

#include <stdarg.h>
#include <stdlib.h>

/* ------------------------------------------------------------------ tokens */

static void fail_from_lexer(parser *P, const lex_token *t)
{
    if (!t->err)
        parse_fail(P, t->line, 701, "default");
    *P->err = *t->err;
    P->err_line = t->line;
    longjmp(P->jb, 1);
}

/* Makes sure tokens up to index i exist. Past the end the EOF token is
 * repeated, so lookahead never runs off the array. */
static void fill_to(parser *P, int i)
{
    while (P->ntok <= i) {
        if (P->ntok == P->nblocks * PARSE_TOK_BLOCK) {
            lex_token **nb = realloc(P->blocks, sizeof(lex_token *) * (size_t)(P->nblocks + 1));
            if (!nb)
                parse_fail(P, P->lx.line, 701, "default");
            P->blocks = nb;
            nb[P->nblocks] = malloc(sizeof(lex_token) * PARSE_TOK_BLOCK);
            if (!nb[P->nblocks])
                parse_fail(P, P->lx.line, 701, "default");
            P->nblocks++;
        }
        lex_token *t = parse_tok(P, P->ntok);
        if (P->ntok > 0 && parse_tok(P, P->ntok - 1)->kind == TK_EOF) {
            *t = *parse_tok(P, P->ntok - 1);
        } else {
            lex_next(&P->lx, t);
            if (t->kind == TK_ERROR)
                fail_from_lexer(P, t);
        }
        P->ntok++;
    }
}

const lex_token *parse_peek(parser *P, int k)
{
    int i = P->pos + k;
    if (i < 0)
        i = 0;
    fill_to(P, i);
    return parse_tok(P, i);
}

void parse_advance(parser *P)
{
    fill_to(P, P->pos);
    if (parse_tok(P, P->pos)->kind != TK_EOF)
        P->pos++;
}

void parse_relex(parser *P, bool quoted_identifier)
{
    P->lx.quoted_identifier = quoted_identifier;
    /* Drop lookahead lexed under the old setting and restart the lexer right
     * after the last consumed token. */
    if (P->pos == 0) {
        lex_rewind(&P->lx, 0, 1);
    } else {
        const lex_token *last = parse_tok(P, P->pos - 1);
        lex_rewind(&P->lx, (size_t)last->offset + last->len, last->end_line);
    }
    P->ntok = P->pos;
}

bool parse_is_kw_at(parser *P, int k, lex_kw kw)
{
    const lex_token *t = parse_peek(P, k);
    return t->kind == TK_IDENT && t->kw == kw;
}

bool parse_accept_kw(parser *P, lex_kw kw)
{
    if (!parse_is_kw(P, kw))
        return false;
    parse_advance(P);
    return true;
}

void parse_expect_kw(parser *P, lex_kw kw)
{
    if (!parse_accept_kw(P, kw))
        parse_error_near(P);
}

bool parse_is_op_at(parser *P, int k, lex_op op)
{
    const lex_token *t = parse_peek(P, k);
    return t->kind == TK_OP && t->op == op;
}

bool parse_accept_op(parser *P, lex_op op)
{
    if (!parse_is_op(P, op))
        return false;
    parse_advance(P);
    return true;
}

void parse_expect_op(parser *P, lex_op op)
{
    if (!parse_accept_op(P, op))
        parse_error_near(P);
}

bool parse_is_word_at(parser *P, int k, const char *upper)
{
    const lex_token *t = parse_peek(P, k);
    if (t->kind != TK_IDENT)
        return false;
    return strcasecmp(t->text, upper) == 0;
}

bool parse_accept_word(parser *P, const char *upper)
{
    if (!parse_is_word(P, upper))
        return false;
    parse_advance(P);
    return true;
}

void parse_expect_word(parser *P, const char *upper)
{
    if (!parse_accept_word(P, upper))
        parse_error_near(P);
}

bool parse_is_ident_at(parser *P, int k)
{
    const lex_token *t = parse_peek(P, k);
    return (t->kind == TK_IDENT && t->kw == KW_NONE) || t->kind == TK_QIDENT;
}

const char *parse_ident(parser *P)
{
    if (!parse_is_ident(P))
        parse_error_near(P);
    const char *s = parse_cur(P)->text;
    parse_advance(P);
    return s;
}

bool parse_is_anyword_at(parser *P, int k)
{
    return parse_peek(P, k)->kind == TK_IDENT;
}

const char *parse_anyword(parser *P)
{
    if (!parse_is_anyword_at(P, 0))
        parse_error_near(P);
    const char *s = parse_cur(P)->text;
    parse_advance(P);
    return s;
}

const char *parse_string_name(parser *P, const lex_token *t)
{
    size_t chars = 0, cut = 0;
    for (size_t i = 0; i < t->text_len; i++) {
        if (((unsigned char)t->text[i] & 0xC0) != 0x80) {
            if (chars == LEX_MAX_IDENT)
                cut = i;
            chars++;
        }
    }
    if (chars > LEX_MAX_IDENT)
        parse_fail(P, t->line, 103, "identifier", (int)cut, t->text, LEX_MAX_IDENT);
    return t->text;
}

void parse_objname(parser *P, ast_objname *out, int maxparts)
{
    const char *parts[8];
    int n = 0;
    int line = parse_cur(P)->line;
    int first = P->pos;
    parts[n++] = parse_ident(P);
    while (parse_is_op(P, OP_DOT)) {
        parse_advance(P);
        if (n == 8)
            parse_error_near(P);
        /* "db..t": an empty part stands for the default schema. */
        if (parse_is_op(P, OP_DOT)) {
            parts[n++] = NULL;
            continue;
        }
        /* after a dot a reserved word is a name, as in c.precision or x.[key] */
        parts[n++] = parse_is_anyword_at(P, 0) ? parse_anyword(P) : parse_ident(P);
    }
    if (parts[n - 1] == NULL)
        parse_error_near(P);
    if (n > maxparts) {
        /* 117: "The object name 'a.b.c.d.e' contains more than the maximum
         * number of prefixes. The maximum is 3." */
        const lex_token *a = parse_tok(P, first), *b = parse_tok(P, P->pos - 1);
        int span = (int)(b->offset + b->len - a->offset);
        parse_fail(P, line, 117, "object", span, P->src + a->offset, maxparts - 1);
    }
    memset(out, 0, sizeof *out);
    out->nparts = n;
    out->line = line;
    out->object = parts[n - 1];
    if (n >= 2) out->schema = parts[n - 2];
    if (n >= 3) out->database = parts[n - 3];
    if (n >= 4) out->server = parts[n - 4];
}

/* ------------------------------------------------------------------ errors */

_Noreturn void parse_fail_state(parser *P, int line, int state, int number, ...)
{
    va_list ap;
    va_start(ap, number);
    hdb_vraise(P->err, number, ap);
    va_end(ap);
    P->err->state = state;
    P->err_line = line;
    longjmp(P->jb, 1);
}

_Noreturn void parse_fail(parser *P, int line, int number, ...)
{
    va_list ap;
    va_start(ap, number);
    hdb_vraise(P->err, number, ap);
    va_end(ap);
    P->err_line = line;
    longjmp(P->jb, 1);
}

/* Index of the last real token before the end of the batch, or -1. */
static int last_token_index(parser *P)
{
    for (int i = P->ntok - 1; i >= 0; i--)
        if (parse_tok(P, i)->kind != TK_EOF)
            return i;
    return -1;
}

const char *parse_token_text(parser *P, int idx)
{
    const lex_token *t = parse_tok(P, idx);
    switch (t->kind) {
    case TK_STRING: case TK_NSTRING: case TK_QIDENT:
    case TK_IDENT: case TK_VARIABLE: case TK_SYSVAR:
        return t->text;
    default: {
        char *s = arena_strndup(P->a, P->src + t->offset, t->len);
        return s ? s : "";
    }
    }
}

int parse_line_at(parser *P, int k)
{
    if (P->ntok == 0)
        return 1;
    const lex_token *t = parse_peek(P, k < 0 ? 0 : k);
    if (t->kind == TK_EOF) {
        int last = last_token_index(P);
        return last >= 0 ? parse_tok(P, last)->line : t->line;
    }
    return t->line;
}

_Noreturn void parse_error_near_at(parser *P, int k)
{
    const lex_token *t = parse_peek(P, k);
    int idx = P->pos + k;
    if (t->kind == TK_EOF) {
        /* SQL Server names the last token of the batch, keyword or not. */
        int last = last_token_index(P);
        if (last < 0)
            parse_fail(P, t->line, 102, "");
        parse_fail(P, parse_tok(P, last)->line, 102, parse_token_text(P, last));
    }
    if (t->kind == TK_IDENT && t->kw != KW_NONE)
        parse_fail(P, t->line, 156, t->text);
    parse_fail(P, t->line, 102, parse_token_text(P, idx));
}

void parse_enter(parser *P)
{
    if (++P->depth > PARSE_MAX_DEPTH)
        parse_fail(P, parse_line_at(P, 0), 191);
}

/* ------------------------------------------------------------------ memory */

void *parse_alloc(parser *P, size_t n)
{
    void *p = arena_calloc(P->a, n);
    if (!p)
        parse_fail(P, parse_line_at(P, 0), 701, "default");
    return p;
}

char *parse_strdup(parser *P, const char *s)
{
    size_t n = strlen(s);
    char *p = parse_alloc(P, n + 1);
    memcpy(p, s, n);
    return p;
}

char *parse_upper(parser *P, const char *s)
{
    char *p = parse_strdup(P, s);
    for (char *q = p; *q; q++)
        if (*q >= 'a' && *q <= 'z')
            *q = (char)(*q - 'a' + 'A');
    return p;
}

char *parse_concat(parser *P, const char *a, const char *sep, const char *b)
{
    size_t na = strlen(a), ns = strlen(sep), nb = strlen(b);
    char *p = parse_alloc(P, na + ns + nb + 1);
    memcpy(p, a, na);
    memcpy(p + na, sep, ns);
    memcpy(p + na + ns, b, nb);
    return p;
}

/* ------------------------------------------------------ variables, labels */

static uint32_t name_hash(const char *s)
{
    uint32_t h = 2166136261u;
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c >= 'A' && c <= 'Z')
            c = (unsigned char)(c - 'A' + 'a');
        h = (h ^ c) * 16777619u;
    }
    return h;
}

/* Slot of `name` (or of the empty slot where it would go). */
static uint32_t nameset_slot(const parse_nameset *s, const char *name)
{
    uint32_t i = name_hash(name) & (s->cap - 1);
    while (s->names[i] && strcasecmp(s->names[i], name) != 0)
        i = (i + 1) & (s->cap - 1);
    return i;
}

static int nameset_get(const parse_nameset *s, const char *name)
{
    if (!s->cap)
        return 0;
    uint32_t i = nameset_slot(s, name);
    return s->names[i] ? s->kinds[i] : 0;
}

static void nameset_put(parser *P, parse_nameset *s, const char *name, int kind)
{
    if ((s->n + 1) * 2 > s->cap) {
        parse_nameset g = { 0 };
        g.cap = s->cap ? s->cap * 2 : 16;
        g.names = parse_alloc(P, sizeof(char *) * g.cap);
        g.kinds = parse_alloc(P, g.cap);
        for (uint32_t i = 0; i < s->cap; i++) {
            if (s->names[i]) {
                uint32_t j = nameset_slot(&g, s->names[i]);
                g.names[j] = s->names[i];
                g.kinds[j] = s->kinds[i];
                g.n++;
            }
        }
        *s = g;
    }
    uint32_t i = nameset_slot(s, name);
    if (!s->names[i])
        s->n++;
    s->names[i] = name;
    s->kinds[i] = (uint8_t)kind;
}

void parse_var_declare(parser *P, const char *name, int kind, int line)
{
    if (!P->check_vars)
        return;
    if (nameset_get(&P->vars, name))
        parse_fail(P, line, 134, name);
    nameset_put(P, &P->vars, name, kind);
}

void parse_var_use(parser *P, const char *name, int kind, int line)
{
    if (!P->check_vars)
        return;
    int have = nameset_get(&P->vars, name);
    if (kind == VAR_TABLE && have != VAR_TABLE)
        parse_fail_state(P, line, 2, 1087, name);
    if (kind == VAR_SCALAR && have != VAR_SCALAR)
        parse_fail_state(P, line, 2, 137, name);
}

/* 133 for a GOTO whose label never appears (checked at the end of the batch
 * or procedure, since labels may follow their GOTO). */
static void check_gotos(parser *P)
{
    for (int i = 0; i < P->gotos.n; i++)
        if (!nameset_get(&P->labels, P->gotos.v[i]->label))
            parse_fail(P, P->gotos.v[i]->line, 133, P->gotos.v[i]->label);
}

/* -------------------------------------------------------------- statements */

ast_stmt *parse_new_stmt(parser *P, ast_stmt_kind kind)
{
    ast_stmt *s = PARSE_NEW(P, ast_stmt);
    s->kind = kind;
    s->line = parse_cur(P)->line;
    return s;
}

static bool at_list_end(parser *P, bool until_end)
{
    const lex_token *t = parse_cur(P);
    if (t->kind == TK_EOF)
        return true;
    return until_end && t->kind == TK_IDENT && t->kw == KW_END;
}

/* Between top-level statements no grammar function holds a token, so the
 * token blocks wholly before the last consumed token can go: a long batch
 * then keeps only a window of tokens, not all of them. */
static void release_old_tokens(parser *P)
{
    int keep_from = P->pos - 1;   /* the last consumed token stays (messages) */
    while (P->first_live_block < P->nblocks &&
           (P->first_live_block + 1) * PARSE_TOK_BLOCK <= keep_from) {
        free(P->blocks[P->first_live_block]);
        P->blocks[P->first_live_block] = NULL;
        P->first_live_block++;
    }
}

void parse_stmt_list(parser *P, ast_stmt_list *out, bool until_end)
{
    P->terminated = true;
    for (;;) {
        while (parse_accept_op(P, OP_SEMI))
            P->terminated = true;
        if (P->nest == 0)
            release_old_tokens(P);
        if (at_list_end(P, until_end))
            break;
        ast_stmt *s = parse_statement(P);
        PARSE_PUSH(P, *out, s);
        if (P->nest == 0)
            P->top_index++;
    }
}

/* A statement used as the body of IF / ELSE / WHILE: it may be THROW. */
static ast_stmt *body_statement(parser *P)
{
    while (parse_accept_op(P, OP_SEMI))
        ;
    if (parse_cur(P)->kind == TK_EOF)
        parse_error_near(P);
    P->terminated = true;
    return parse_statement(P);
}

ast_stmt *parse_unsupported(parser *P, const char *what, bool to_end_of_batch)
{
    ast_stmt *s = parse_new_stmt(P, STMT_UNSUPPORTED);
    s->u.unsupported.what = what;
    /* The statement began where its dispatch began; its text runs from there
     * to the last token the skip takes (trailing semicolons excluded). */
    uint32_t from = P->stmt_offset, to = from;
    if (P->pos > 0) {
        /* tokens the statement's own parser already took */
        const lex_token *last = parse_tok(P, P->pos - 1);
        if (last->offset >= from)
            to = last->offset + last->len;
    }
    int cases = 0;
    for (;;) {
        const lex_token *t = parse_cur(P);
        if (t->kind == TK_EOF)
            break;
        if (!to_end_of_batch) {
            /* ';' ends it whatever the parentheses: a ';' inside them is
             * not T-SQL, so unbalanced input cannot swallow the batch. */
            if (t->kind == TK_OP && t->op == OP_SEMI)
                break;
            /* Inside BEGIN..END the block's END ends us too (CASE..END aside). */
            if (P->block_depth > 0 && cases == 0 && t->kind == TK_IDENT && t->kw == KW_END)
                break;
        }
        if (t->kind == TK_IDENT && t->kw == KW_CASE) cases++;
        if (t->kind == TK_IDENT && t->kw == KW_END && cases > 0) cases--;
        if (!(t->kind == TK_OP && t->op == OP_SEMI) && t->offset + t->len > to)
            to = t->offset + t->len;
        parse_advance(P);
    }
    char *text = parse_alloc(P, to - from + 1);
    memcpy(text, P->src + from, to - from);
    s->u.unsupported.text = text;
    return s;
}

static ast_stmt *parse_if(parser *P)
{
    ast_stmt *s = parse_new_stmt(P, STMT_IF);
    parse_advance(P);   /* IF */
    s->u.if_.cond = parse_cond(P);
    s->u.if_.then = body_statement(P);
    /* "IF c stmt; ELSE stmt" is valid: the ';' ends the THEN statement. */
    int k = 0;
    while (parse_is_op_at(P, k, OP_SEMI))
        k++;
    if (parse_is_kw_at(P, k, KW_ELSE)) {
        while (k-- > 0)
            parse_advance(P);
        parse_advance(P);   /* ELSE */
        s->u.if_.else_ = body_statement(P);
    }
    return s;
}

static ast_stmt *parse_while(parser *P)
{
    ast_stmt *s = parse_new_stmt(P, STMT_WHILE);
    parse_advance(P);
    s->u.while_.cond = parse_cond(P);
    P->while_depth++;
    s->u.while_.body = body_statement(P);
    P->while_depth--;
    return s;
}

static void expect_end(parser *P)
{
    parse_expect_kw(P, KW_END);
}

/* BEGIN TRY stmts END TRY BEGIN CATCH [stmts] END CATCH */
static ast_stmt *parse_try(parser *P)
{
    ast_stmt *s = parse_new_stmt(P, STMT_TRY);
    parse_advance(P);   /* BEGIN */
    parse_advance(P);   /* TRY */
    P->block_depth++;
    parse_stmt_list(P, &s->u.try_.try_body, true);
    /* An empty TRY block is a syntax error in SQL Server, an empty CATCH
     * block is not. */
    if (s->u.try_.try_body.n == 0)
        parse_error_near(P);
    expect_end(P);
    parse_expect_word(P, "TRY");
    if (!parse_is_kw(P, KW_BEGIN) || !parse_is_word_at(P, 1, "CATCH"))
        parse_error_near(P);
    parse_advance(P);
    parse_advance(P);
    P->catch_depth++;
    parse_stmt_list(P, &s->u.try_.catch_body, true);
    P->catch_depth--;
    P->block_depth--;
    expect_end(P);
    parse_expect_word(P, "CATCH");
    return s;
}

static ast_stmt *parse_begin(parser *P)
{
    if (parse_is_kw_at(P, 1, KW_TRAN) || parse_is_kw_at(P, 1, KW_TRANSACTION) ||
        parse_is_kw_at(P, 1, KW_DISTRIBUTED)) {
        parse_advance(P);
        return parse_begin_tran(P);
    }
    if (parse_is_word_at(P, 1, "TRY"))
        return parse_try(P);
    if (parse_is_word_at(P, 1, "DIALOG") || parse_is_word_at(P, 1, "CONVERSATION"))
        return parse_unsupported(P, "BEGIN DIALOG", false);
    ast_stmt *s = parse_new_stmt(P, STMT_BLOCK);
    parse_advance(P);
    P->block_depth++;
    parse_stmt_list(P, &s->u.block, true);
    P->block_depth--;
    if (s->u.block.n == 0)
        parse_error_near(P);
    expect_end(P);
    return s;
}

/* THROW [number, message, state] — arguments are constants or variables. */
static ast_stmt *parse_throw(parser *P)
{
    ast_stmt *s = parse_new_stmt(P, STMT_THROW);
    parse_advance(P);
    if (!parse_is_simple_value(P)) {
        if (P->catch_depth == 0)
            parse_fail(P, s->line, 10704);
        return s;
    }
    s->u.throw_.number = parse_simple_value(P);
    parse_expect_op(P, OP_COMMA);
    s->u.throw_.message = parse_simple_value(P);
    parse_expect_op(P, OP_COMMA);
    s->u.throw_.state = parse_simple_value(P);
    return s;
}

/* RAISERROR ( msg, severity, state [, arg ...] ) [WITH LOG|NOWAIT|SETERROR, ...] */
static ast_stmt *parse_raiserror(parser *P)
{
    ast_stmt *s = parse_new_stmt(P, STMT_RAISERROR);
    parse_advance(P);
    parse_expect_op(P, OP_LPAREN);
    s->u.raiserror.msg = parse_simple_value(P);
    parse_expect_op(P, OP_COMMA);
    s->u.raiserror.severity = parse_simple_value(P);
    parse_expect_op(P, OP_COMMA);
    s->u.raiserror.state = parse_simple_value(P);
    while (parse_accept_op(P, OP_COMMA)) {
        ast_expr *e = parse_simple_value(P);
        PARSE_PUSH(P, s->u.raiserror.args, e);
    }
    parse_expect_op(P, OP_RPAREN);
    if (parse_is_kw(P, KW_WITH)) {
        parse_advance(P);
        do {
            if (parse_accept_word(P, "LOG"))
                s->u.raiserror.flags |= RAISERROR_LOG;
            else if (parse_accept_word(P, "NOWAIT"))
                s->u.raiserror.flags |= RAISERROR_NOWAIT;
            else if (parse_accept_word(P, "SETERROR"))
                s->u.raiserror.flags |= RAISERROR_SETERROR;
            else
                parse_error_near(P);
        } while (parse_accept_op(P, OP_COMMA));
    }
    return s;
}

/* Whether the current token can begin an expression (for RETURN [expr]). */
static bool starts_expr(parser *P)
{
    const lex_token *t = parse_cur(P);
    switch (t->kind) {
    case TK_QIDENT: case TK_VARIABLE: case TK_SYSVAR: case TK_STRING: case TK_NSTRING:
    case TK_INTEGER: case TK_DECIMAL: case TK_FLOAT: case TK_MONEY: case TK_BINARY:
        return true;
    case TK_OP:
        return t->op == OP_LPAREN || t->op == OP_MINUS || t->op == OP_PLUS ||
               t->op == OP_TILDE;
    case TK_IDENT:
        switch (t->kw) {
        case KW_NONE:
            /* A following ':' makes it a label, not a column. */
            return !parse_is_op_at(P, 1, OP_COLON);
        case KW_NULL: case KW_CASE: case KW_CONVERT: case KW_TRY_CONVERT:
        case KW_COALESCE: case KW_NULLIF: case KW_LEFT: case KW_RIGHT:
        case KW_CURRENT_TIMESTAMP: case KW_CURRENT_USER: case KW_SESSION_USER:
        case KW_SYSTEM_USER: case KW_USER:
            return true;
        default:
            return false;
        }
    default:
        return false;
    }
}

static ast_stmt *parse_return(parser *P)
{
    ast_stmt *s = parse_new_stmt(P, STMT_RETURN);
    parse_advance(P);
    if (starts_expr(P))
        s->u.expr = parse_expr(P);
    return s;
}

static ast_stmt *parse_print(parser *P)
{
    ast_stmt *s = parse_new_stmt(P, STMT_PRINT);
    parse_advance(P);
    s->u.expr = parse_expr(P);
    return s;
}

static ast_stmt *goto_stmt(parser *P)
{
    ast_stmt *s = parse_new_stmt(P, STMT_GOTO);
    parse_advance(P);
    s->u.name = parse_ident(P);
    parse_goto_ref *g = PARSE_NEW(P, parse_goto_ref);
    g->label = s->u.name;
    g->line = s->line;
    PARSE_PUSH(P, P->gotos, g);
    return s;
}

static ast_stmt *parse_label(parser *P)
{
    ast_stmt *s = parse_new_stmt(P, STMT_LABEL);
    s->u.name = parse_ident(P);
    parse_expect_op(P, OP_COLON);
    if (nameset_get(&P->labels, s->u.name))
        parse_fail(P, s->line, 132, s->u.name);
    nameset_put(P, &P->labels, s->u.name, 1);
    return s;
}

/* WAITFOR DELAY 'hh:mm:ss' | TIME 'hh:mm:ss' (string or variable). */
static ast_stmt *parse_waitfor(parser *P)
{
    ast_stmt *s = parse_new_stmt(P, STMT_WAITFOR);
    parse_advance(P);
    if (parse_accept_word(P, "DELAY"))
        s->u.waitfor.delay = true;
    else if (parse_accept_word(P, "TIME"))
        s->u.waitfor.delay = false;
    else if (parse_is_op(P, OP_LPAREN))
        return parse_unsupported(P, "WAITFOR (RECEIVE)", false);
    else
        parse_error_near(P);
    s->u.waitfor.value = parse_simple_value(P);
    return s;
}

static ast_stmt *parse_use(parser *P)
{
    ast_stmt *s = parse_new_stmt(P, STMT_USE);
    parse_advance(P);
    s->u.name = parse_ident(P);
    return s;
}

static ast_stmt *parse_break_continue(parser *P, ast_stmt_kind kind)
{
    ast_stmt *s = parse_new_stmt(P, kind);
    /* 135 / 136: BREAK / CONTINUE outside a WHILE loop. */
    if (P->while_depth == 0)
        parse_fail(P, s->line, kind == STMT_BREAK ? 135 : 136);
    parse_advance(P);
    return s;
}

/* Statement starting with a plain identifier. */
static ast_stmt *parse_ident_statement(parser *P)
{
    if (parse_is_op_at(P, 1, OP_COLON))
        return parse_label(P);
    const lex_token *t = parse_cur(P);
    if (t->kind == TK_IDENT && strcasecmp(t->text, "THROW") == 0) {
        if (!P->terminated)
            parse_error_near(P);
        return parse_throw(P);
    }
    if (t->kind == TK_IDENT && (strcasecmp(t->text, "ENABLE") == 0 ||
                                strcasecmp(t->text, "DISABLE") == 0) &&
        parse_is_kw_at(P, 1, KW_TRIGGER))
        return parse_unsupported(P, "ENABLE/DISABLE TRIGGER", false);
    /* A procedure name alone may start a batch: "sp_who 53" means EXEC. */
    if (P->stmt_top && P->top_index == 0)
        return parse_exec(P, true);
    parse_error_near(P);
}

static ast_stmt *dispatch(parser *P)
{
    const lex_token *t = parse_cur(P);
    if (t->kind == TK_OP && t->op == OP_LPAREN)
        return parse_select_stmt(P);
    if (t->kind == TK_QIDENT)
        return parse_ident_statement(P);
    if (t->kind != TK_IDENT)
        parse_error_near(P);
    switch (t->kw) {
    case KW_NONE:        return parse_ident_statement(P);
    case KW_SELECT:      return parse_select_stmt(P);
    case KW_WITH:
        if (!P->terminated)
            parse_fail(P, t->line, 319);
        return parse_with_stmt(P);
    case KW_INSERT:      return parse_insert(P, NULL);
    case KW_UPDATE:
        if (parse_is_kw_at(P, 1, KW_STATISTICS))
            return parse_unsupported(P, "UPDATE STATISTICS", false);
        return parse_update(P, NULL);
    case KW_DELETE:      return parse_delete(P, NULL);
    case KW_CREATE:      return parse_create(P);
    case KW_DROP:        return parse_drop(P);
    case KW_ALTER:       return parse_alter(P);
    case KW_TRUNCATE:    return parse_truncate(P);
    case KW_USE:         return parse_use(P);
    case KW_DECLARE:     return parse_declare(P);
    case KW_SET:         return parse_set(P);
    case KW_IF:          return parse_if(P);
    case KW_WHILE:       return parse_while(P);
    case KW_BREAK:       return parse_break_continue(P, STMT_BREAK);
    case KW_CONTINUE:    return parse_break_continue(P, STMT_CONTINUE);
    case KW_BEGIN:       return parse_begin(P);
    case KW_COMMIT:
    case KW_ROLLBACK:    return parse_commit_rollback(P);
    case KW_SAVE:        return parse_save_tran(P);
    case KW_EXEC:
    case KW_EXECUTE:     return parse_exec(P, false);
    case KW_KILL:        return parse_kill(P);
    case KW_SHUTDOWN:    return parse_shutdown(P);
    case KW_CHECKPOINT:  return parse_checkpoint(P);
    case KW_RECONFIGURE: return parse_reconfigure(P);
    case KW_BACKUP:      return parse_backup(P);
    case KW_RESTORE:     return parse_restore(P);
    case KW_DBCC:        return parse_dbcc(P);
    case KW_PRINT:       return parse_print(P);
    case KW_RAISERROR:   return parse_raiserror(P);
    case KW_RETURN:      return parse_return(P);
    case KW_GOTO:        return goto_stmt(P);
    case KW_WAITFOR:     return parse_waitfor(P);
    case KW_MERGE:       return parse_unsupported(P, "MERGE", false);
    case KW_GRANT:       return parse_unsupported(P, "GRANT", false);
    case KW_REVOKE:      return parse_unsupported(P, "REVOKE", false);
    case KW_DENY:        return parse_unsupported(P, "DENY", false);
    case KW_OPEN:        return parse_unsupported(P, "OPEN cursor", false);
    case KW_CLOSE:       return parse_unsupported(P, "CLOSE cursor", false);
    case KW_FETCH:       return parse_unsupported(P, "FETCH cursor", false);
    case KW_DEALLOCATE:  return parse_unsupported(P, "DEALLOCATE cursor", false);
    case KW_BULK:        return parse_unsupported(P, "BULK INSERT", false);
    case KW_REVERT:      return parse_unsupported(P, "REVERT", false);
    case KW_SETUSER:     return parse_unsupported(P, "SETUSER", false);
    case KW_READTEXT:    return parse_unsupported(P, "READTEXT", false);
    case KW_WRITETEXT:   return parse_unsupported(P, "WRITETEXT", false);
    case KW_UPDATETEXT:  return parse_unsupported(P, "UPDATETEXT", false);
    default:
        parse_error_near(P);
    }
}

ast_stmt *parse_statement(parser *P)
{
    parse_enter(P);
    const lex_token *first = parse_cur(P);
    int line = first->line;
    uint32_t offset = first->offset;
    /* Statements parsed inside this one (IF bodies, blocks) are nested. */
    P->stmt_top = P->nest == 0;
    P->stmt_offset = offset;
    P->nest++;
    ast_stmt *s = dispatch(P);
    P->nest--;
    s->line = line;
    s->offset = offset;
    if (P->pos > 0) {
        const lex_token *last = parse_tok(P, P->pos - 1);
        if (last->offset + last->len >= offset)
            s->len = last->offset + last->len - offset;
    }
    P->terminated = false;
    parse_leave(P);
    return s;
}

/* ------------------------------------------------------------------- batch */

int parse_batch(arena *a, const char *sql, size_t len, const parse_opts *opts,
                ast_batch **out, hdb_err *err, int *err_line)
{
    parser *P = calloc(1, sizeof *P);
    if (!P) {
        hdb_raise(err, 701, "default");
        if (err_line)
            *err_line = 1;
        return -1;
    }
    P->a = a;
    P->src = sql;
    P->len = len;
    P->err = err ? err : &P->own_err;
    bool qi = opts ? opts->quoted_identifier : true;
    P->check_vars = !(opts && opts->no_variable_check);
    lex_init(&P->lx, sql, len, a, qi);

    int rc;
    if (setjmp(P->jb) == 0) {
        if (opts)
            for (int i = 0; i < opts->ndeclared; i++)
                parse_var_declare(P, parse_strdup(P, opts->declared[i]), VAR_SCALAR, 1);
        ast_batch *b = PARSE_NEW(P, ast_batch);
        b->src = sql;
        b->src_len = len;
        parse_stmt_list(P, &b->stmts, false);
        check_gotos(P);
        b->lits = P->lits;
        *out = b;
        rc = 0;
    } else {
        if (err_line)
            *err_line = P->err_line;
        rc = -1;
    }
    for (int i = 0; i < P->nblocks; i++)
        free(P->blocks[i]);
    free(P->blocks);
    free(P);
    return rc;
}
