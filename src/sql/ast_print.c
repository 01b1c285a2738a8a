/*
 * ast_print.c — the canonical printer: buffer, names, literals, expressions,
 * options, queries, table sources (statements: ast_print_stmt.c).
 *
 * The printer writes T-SQL that parses back to the same tree: names are
 * bracketed, every compound expression is parenthesised, literals are
 * written so their type survives (5. for a decimal(1,0), 1.5E+00 for a
 * float, $1.5000 for money). The unit tests parse a statement, print it,
 * parse the print and print again: the two prints must be equal. Tools can
 * use it to show a statement in normalised form.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sql/ast_print_int.h"
#include "sql/lexer.h"

/* -------------------------------------------------------------- buffer */

void ast_sb_putn(ast_sb *b, const char *s, size_t n)
{
    if (b->oom)
        return;
    if (b->n + n + 1 > b->cap) {
        size_t nc = b->cap ? b->cap * 2 : 256;
        while (nc < b->n + n + 1)
            nc *= 2;
        char *np = realloc(b->p, nc);
        if (!np) {
            b->oom = true;
            return;
        }
        b->p = np;
        b->cap = nc;
    }
    memcpy(b->p + b->n, s, n);
    b->n += n;
    b->p[b->n] = '\0';
}

void ast_sb_put(ast_sb *b, const char *s)
{
    ast_sb_putn(b, s, strlen(s));
}

__attribute__((format(printf, 2, 3)))
void ast_sb_printf(ast_sb *b, const char *fmt, ...)
{
    char tmp[128];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n > 0)
        ast_sb_putn(b, tmp, (size_t)n < sizeof tmp ? (size_t)n : sizeof tmp - 1);
}

static char *ast_sb_finish(ast_sb *b, arena *a)
{
    char *out = NULL;
    if (!b->oom)
        out = arena_strndup(a, b->p ? b->p : "", b->n);
    free(b->p);
    return out;
}

/* --------------------------------------------------------------- names */

static void put_bracketed(ast_sb *b, const char *name)
{
    ast_sb_put(b, "[");
    for (const char *c = name; *c; c++) {
        if (*c == ']')
            ast_sb_put(b, "]");
        ast_sb_putn(b, c, 1);
    }
    ast_sb_put(b, "]");
}

/* Names are always bracketed: unambiguous whatever the word. */
void ast_pr_name(ast_sb *b, const char *name)
{
    put_bracketed(b, name);
}

/* A bare word if it reads back as one (several words allowed), else
 * bracketed. Used for option values such as FULL, ON, WINDOWS NEGOTIATE. */
void ast_pr_word(ast_sb *b, const char *w)
{
    bool bare = *w != '\0';
    for (const char *p = w; bare && *p;) {
        const char *e = strchr(p, ' ');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        bare = lex_is_word(p, n);
        p = e ? e + 1 : p + n;
        if (e && *p == '\0')
            bare = false;   /* trailing space */
    }
    if (bare)
        ast_sb_put(b, w);
    else
        put_bracketed(b, w);
}

void ast_pr_collation(ast_sb *b, const char *c)
{
    if (*c && lex_is_word(c, strlen(c)))
        ast_sb_put(b, c);
    else
        put_bracketed(b, c);   /* one name, whatever it holds (spaces, COLLATE) */
}

void ast_pr_objname(ast_sb *b, const ast_objname *o)
{
    const char *parts[4] = { o->server, o->database, o->schema, o->object };
    int first = 4 - o->nparts;
    for (int i = first; i < 4; i++) {
        if (i > first)
            ast_sb_put(b, ".");
        if (parts[i])
            ast_pr_name(b, parts[i]);
    }
}

void ast_pr_name_list(ast_sb *b, const ast_name_list *l)
{
    ast_sb_put(b, "(");
    for (int i = 0; i < l->n; i++) {
        if (i)
            ast_sb_put(b, ", ");
        ast_pr_name(b, l->v[i]);
    }
    ast_sb_put(b, ")");
}

/* ------------------------------------------------------------ literals */

static void put_i128(ast_sb *b, __int128 v, int scale, bool keep_point)
{
    char digits[64];
    int n = 0;
    bool neg = v < 0;
    unsigned __int128 u = neg ? (unsigned __int128)(-(v + 1)) + 1 : (unsigned __int128)v;
    do {
        digits[n++] = (char)('0' + (int)(u % 10));
        u /= 10;
    } while (u);
    while (n <= scale)
        digits[n++] = '0';
    if (neg)
        ast_sb_put(b, "-");
    for (int i = n - 1; i >= 0; i--) {
        ast_sb_putn(b, &digits[i], 1);
        if (i == scale && (scale > 0 || keep_point))
            ast_sb_put(b, ".");
    }
}

static void put_utf8(ast_sb *b, uint32_t cp)
{
    char u[4];
    if (cp < 0x80) {
        u[0] = (char)cp;
        ast_sb_putn(b, u, 1);
    } else if (cp < 0x800) {
        u[0] = (char)(0xC0 | cp >> 6);
        u[1] = (char)(0x80 | (cp & 0x3F));
        ast_sb_putn(b, u, 2);
    } else if (cp < 0x10000) {
        u[0] = (char)(0xE0 | cp >> 12);
        u[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        u[2] = (char)(0x80 | (cp & 0x3F));
        ast_sb_putn(b, u, 3);
    } else {
        u[0] = (char)(0xF0 | cp >> 18);
        u[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
        u[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
        u[3] = (char)(0x80 | (cp & 0x3F));
        ast_sb_putn(b, u, 4);
    }
}

static void put_char_quoted(ast_sb *b, uint32_t cp)
{
    if (cp == '\'')
        ast_sb_put(b, "''");
    else
        put_utf8(b, cp);
}

/* A literal's value as this print sees it (ast_sb.lits). */
static const ast_lit_value *lit_of(const ast_sb *b, const ast_expr *e, ast_lit_value *own)
{
    if (e->u.lit.slot && b->lits)
        return &b->lits[e->u.lit.slot - 1];
    *own = (ast_lit_value){ e->u.lit.v, e->u.lit.type };
    return own;
}

static void put_literal(ast_sb *b, const ast_expr *e)
{
    ast_lit_value own;
    const ast_lit_value *lit = lit_of(b, e, &own);
    const sql_value *v = &lit->v;
    if (v->is_null) {
        ast_sb_put(b, "NULL");
        return;
    }
    switch (lit->type.id) {
    case SQL_INT: case SQL_BIGINT: case SQL_SMALLINT: case SQL_TINYINT: case SQL_BIT:
        ast_sb_printf(b, "%lld", (long long)v->u.i);
        break;
    case SQL_DECIMAL: case SQL_NUMERIC:
        put_i128(b, v->u.dec, lit->type.scale, true);
        break;
    case SQL_FLOAT: case SQL_REAL: {
        /* Shortest digits that read back to the same double; the exponent
         * keeps it a float constant when parsed again. */
        char tmp[40];
        for (int prec = 1; prec <= 17; prec++) {
            snprintf(tmp, sizeof tmp, "%.*E", prec - 1, v->u.f);
            if (strtod(tmp, NULL) == v->u.f)
                break;
        }
        ast_sb_put(b, tmp);
        break;
    }
    case SQL_MONEY: case SQL_SMALLMONEY:
        if (v->u.i < 0)
            ast_sb_put(b, "-");
        ast_sb_put(b, "$");
        put_i128(b, v->u.i < 0 ? -(__int128)v->u.i : (__int128)v->u.i, 4, false);
        break;
    case SQL_VARCHAR: case SQL_CHAR:
        ast_sb_put(b, "'");
        for (uint32_t i = 0; i < v->len; i++)
            put_char_quoted(b, v->bytes[i]);
        ast_sb_put(b, "'");
        break;
    case SQL_NVARCHAR: case SQL_NCHAR:
        ast_sb_put(b, "N'");
        for (uint32_t i = 0; i + 1 < v->len; i += 2) {
            uint32_t u = (uint32_t)v->bytes[i] | (uint32_t)v->bytes[i + 1] << 8;
            if (u >= 0xD800 && u < 0xDC00 && i + 3 < v->len) {
                uint32_t lo = (uint32_t)v->bytes[i + 2] | (uint32_t)v->bytes[i + 3] << 8;
                if (lo >= 0xDC00 && lo < 0xE000) {
                    u = 0x10000 + ((u - 0xD800) << 10) + (lo - 0xDC00);
                    i += 2;
                }
            }
            put_char_quoted(b, u);
        }
        ast_sb_put(b, "'");
        break;
    case SQL_VARBINARY: case SQL_BINARY:
        ast_sb_put(b, "0x");
        for (uint32_t i = 0; i < v->len; i++)
            ast_sb_printf(b, "%02X", v->bytes[i]);
        break;
    default:
        ast_sb_put(b, "NULL");
        break;
    }
}

/* --------------------------------------------------------- expressions */


const char *ast_pr_op_text(ast_op op)
{
    switch (op) {
    case AST_OP_ADD: return "+";
    case AST_OP_SUB: return "-";
    case AST_OP_MUL: return "*";
    case AST_OP_DIV: return "/";
    case AST_OP_MOD: return "%";
    case AST_OP_BITAND: return "&";
    case AST_OP_BITOR: return "|";
    case AST_OP_BITXOR: return "^";
    case AST_OP_EQ: return "=";
    case AST_OP_NE: return "<>";
    case AST_OP_LT: return "<";
    case AST_OP_LE: return "<=";
    case AST_OP_GT: return ">";
    case AST_OP_GE: return ">=";
    case AST_OP_AND: return "AND";
    case AST_OP_OR: return "OR";
    case AST_OP_NEG: return "-";
    case AST_OP_POS: return "+";
    case AST_OP_BITNOT: return "~";
    case AST_OP_NOT: return "NOT";
    default: return "?";
    }
}

void ast_pr_expr_list(ast_sb *b, const ast_expr_list *l)
{
    for (int i = 0; i < l->n; i++) {
        if (i)
            ast_sb_put(b, ", ");
        ast_pr_expr(b, l->v[i]);
    }
}

void ast_pr_type(ast_sb *b, const ast_type *t)
{
    if (t->schema) {
        ast_pr_name(b, t->schema);
        ast_sb_put(b, ".");
        ast_pr_name(b, t->name);
    } else if (t->t.id != SQL_TYPE_NONE || !lex_ident_needs_quotes(t->name)) {
        ast_sb_put(b, t->name);
    } else {
        ast_pr_name(b, t->name);
    }
    if (t->nargs) {
        ast_sb_put(b, "(");
        for (int i = 0; i < t->nargs; i++) {
            if (i)
                ast_sb_put(b, ", ");
            if (t->args[i] == AST_TYPE_MAX)
                ast_sb_put(b, "max");
            else
                ast_sb_printf(b, "%lld", (long long)t->args[i]);
        }
        ast_sb_put(b, ")");
    }
}

static void put_order_list(ast_sb *b, const ast_order_list *l)
{
    for (int i = 0; i < l->n; i++) {
        if (i)
            ast_sb_put(b, ", ");
        ast_pr_expr(b, l->v[i]->expr);
        if (l->v[i]->desc)
            ast_sb_put(b, " DESC");
    }
}

/* Whether a reserved word reads back bare as this function: only those the
 * expression grammar takes as one (LEFT (...), USER without parentheses);
 * any other ([To](x), a table-valued function) must stay bracketed. */
static bool keyword_function_name(const char *name, int where_parens)
{
    switch (lex_keyword(name, strlen(name))) {
    case KW_COALESCE: case KW_NULLIF: case KW_LEFT: case KW_RIGHT:
        return where_parens == 1;
    case KW_CURRENT_TIMESTAMP: case KW_CURRENT_USER: case KW_SESSION_USER: case KW_SYSTEM_USER: case KW_USER:
        return where_parens == 0;
    default:
        return false;
    }
}

/* where_parens: 1 an expression with parentheses, 0 one without, -1 a table source */
static void put_function_name(ast_sb *b, const ast_objname *n, int where_parens)
{
    if (n->nparts == 1 && (!lex_ident_needs_quotes(n->object) || keyword_function_name(n->object, where_parens))) {
        ast_sb_put(b, n->object);   /* built-ins read back bare (LEFT, COALESCE ...) */
        return;
    }
    ast_pr_objname(b, n);
}

static void put_subquery(ast_sb *b, const ast_query *q)
{
    ast_sb_put(b, "(");
    ast_pr_query(b, q);
    ast_sb_put(b, ")");
}

/* Binding strength, loosest first, as the parser reads it: OR, AND, NOT,
 * predicates (comparison, IS, BETWEEN, LIKE, IN), + - & | ^, * / %, unary,
 * COLLATE, primaries. Parentheses go only where the tree differs from what
 * the grammar would build without them, so a left-deep chain of 2000 ORs
 * prints flat (nested parentheses would count against the nesting limit
 * when the text is parsed again). */
enum { PR_OR = 1, PR_AND, PR_NOT, PR_PRED, PR_ADD, PR_MUL, PR_UNARY, PR_COLLATE, PR_PRIMARY };

static int prec_of(const ast_expr *e)
{
    switch (e->kind) {
    case EXPR_BINARY:
        switch (e->u.binary.op) {
        case AST_OP_OR: return PR_OR;
        case AST_OP_AND: return PR_AND;
        case AST_OP_MUL: case AST_OP_DIV: case AST_OP_MOD: return PR_MUL;
        case AST_OP_ADD: case AST_OP_SUB: case AST_OP_BITAND: case AST_OP_BITOR:
        case AST_OP_BITXOR: return PR_ADD;
        default: return PR_PRED;
        }
    case EXPR_UNARY:
        return e->u.unary.op == AST_OP_NOT ? PR_NOT : PR_UNARY;
    case EXPR_IS_NULL: case EXPR_BETWEEN: case EXPR_LIKE: case EXPR_IN: case EXPR_QUANTIFIED:
        return PR_PRED;
    case EXPR_COLLATE:
        return PR_COLLATE;
    default:
        return PR_PRIMARY;
    }
}

static void put_expr_in(ast_sb *b, const ast_expr *e, int ctx);

void ast_pr_expr(ast_sb *b, const ast_expr *e)
{
    put_expr_in(b, e, 0);
}

/* Prints e where the grammar expects something binding at least `ctx`. */
static void put_expr_in(ast_sb *b, const ast_expr *e, int ctx)
{
    int p = prec_of(e);
    if (p < ctx) {
        ast_sb_put(b, "(");
        put_expr_in(b, e, 0);
        ast_sb_put(b, ")");
        return;
    }
    switch (e->kind) {
    case EXPR_LITERAL:
        put_literal(b, e);
        break;
    case EXPR_COLUMN:
        if (e->u.col.qual.nparts) {
            ast_pr_objname(b, &e->u.col.qual);
            ast_sb_put(b, ".");
        }
        ast_pr_name(b, e->u.col.name);
        break;
    case EXPR_STAR:
        if (e->u.star.qual.nparts) {
            ast_pr_objname(b, &e->u.star.qual);
            ast_sb_put(b, ".");
        }
        ast_sb_put(b, "*");
        break;
    case EXPR_VARIABLE: case EXPR_SYSVAR:
        ast_sb_put(b, e->u.name);
        break;
    case EXPR_UNARY:
        if (e->u.unary.op == AST_OP_NOT) {
            ast_sb_put(b, "NOT ");
            put_expr_in(b, e->u.unary.operand, PR_NOT);
        } else {
            /* "- x" with a space, so "- -1" never becomes a -- comment;
             * "-(1)" for a constant, which "- 1" would fold into -1. No
             * other parentheses: each would cost a nesting level when the
             * text is parsed again. */
            const ast_expr *x = e->u.unary.operand;
            ast_sb_put(b, ast_pr_op_text(e->u.unary.op));
            ast_lit_value own;
            if (e->u.unary.op == AST_OP_NEG && x->kind == EXPR_LITERAL && !lit_of(b, x, &own)->v.is_null) {
                ast_sb_put(b, "(");
                put_expr_in(b, x, 0);
                ast_sb_put(b, ")");
            } else {
                ast_sb_put(b, " ");
                put_expr_in(b, x, PR_UNARY);
            }
        }
        break;
    case EXPR_BINARY: {
        /* Left-associative: the left operand may be of the same strength;
         * predicates take value operands only. */
        int lp = p == PR_PRED ? PR_ADD : p;
        put_expr_in(b, e->u.binary.left, lp);
        ast_sb_put(b, " ");
        ast_sb_put(b, ast_pr_op_text(e->u.binary.op));
        ast_sb_put(b, " ");
        put_expr_in(b, e->u.binary.right, p == PR_PRED ? PR_ADD : p + 1);
        break;
    }
    case EXPR_IS_NULL:
        put_expr_in(b, e->u.is_null.operand, PR_ADD);
        ast_sb_put(b, e->u.is_null.negated ? " IS NOT NULL" : " IS NULL");
        break;
    case EXPR_BETWEEN:
        put_expr_in(b, e->u.between.operand, PR_ADD);
        ast_sb_put(b, e->u.between.negated ? " NOT BETWEEN " : " BETWEEN ");
        put_expr_in(b, e->u.between.low, PR_ADD);
        ast_sb_put(b, " AND ");
        put_expr_in(b, e->u.between.high, PR_ADD);
        break;
    case EXPR_LIKE:
        put_expr_in(b, e->u.like.operand, PR_ADD);
        ast_sb_put(b, e->u.like.negated ? " NOT LIKE " : " LIKE ");
        put_expr_in(b, e->u.like.pattern, PR_ADD);
        if (e->u.like.escape) {
            ast_sb_put(b, " ESCAPE ");
            put_expr_in(b, e->u.like.escape, PR_ADD);
        }
        break;
    case EXPR_IN:
        put_expr_in(b, e->u.in.operand, PR_ADD);
        ast_sb_put(b, e->u.in.negated ? " NOT IN " : " IN ");
        if (e->u.in.subquery) {
            put_subquery(b, e->u.in.subquery);
        } else {
            ast_sb_put(b, "(");
            ast_pr_expr_list(b, &e->u.in.list);
            ast_sb_put(b, ")");
        }
        break;
    case EXPR_EXISTS:
        ast_sb_put(b, "EXISTS ");
        put_subquery(b, e->u.subquery.query);
        break;
    case EXPR_SUBQUERY:
        put_subquery(b, e->u.subquery.query);
        break;
    case EXPR_QUANTIFIED:
        put_expr_in(b, e->u.quantified.operand, PR_ADD);
        ast_sb_put(b, " ");
        ast_sb_put(b, ast_pr_op_text(e->u.quantified.op));
        ast_sb_put(b, e->u.quantified.all ? " ALL " : " ANY ");
        put_subquery(b, e->u.quantified.query);
        break;
    case EXPR_CASE:
        ast_sb_put(b, "CASE");
        if (e->u.case_.operand) {
            ast_sb_put(b, " ");
            ast_pr_expr(b, e->u.case_.operand);
        }
        for (int i = 0; i < e->u.case_.whens.n; i++) {
            ast_sb_put(b, " WHEN ");
            ast_pr_expr(b, e->u.case_.whens.v[i]->when);
            ast_sb_put(b, " THEN ");
            ast_pr_expr(b, e->u.case_.whens.v[i]->then);
        }
        if (e->u.case_.else_) {
            ast_sb_put(b, " ELSE ");
            ast_pr_expr(b, e->u.case_.else_);
        }
        ast_sb_put(b, " END");
        break;
    case EXPR_CAST:
        if (e->u.cast.is_convert) {
            ast_sb_put(b, e->u.cast.is_try ? "TRY_CONVERT(" : "CONVERT(");
            ast_pr_type(b, &e->u.cast.type);
            ast_sb_put(b, ", ");
            ast_pr_expr(b, e->u.cast.operand);
            if (e->u.cast.style) {
                ast_sb_put(b, ", ");
                ast_pr_expr(b, e->u.cast.style);
            }
        } else {
            ast_sb_put(b, e->u.cast.is_try ? "TRY_CAST(" : "CAST(");
            ast_pr_expr(b, e->u.cast.operand);
            ast_sb_put(b, " AS ");
            ast_pr_type(b, &e->u.cast.type);
        }
        ast_sb_put(b, ")");
        break;
    case EXPR_FUNCTION:
        put_function_name(b, &e->u.func.name, e->u.func.no_parens ? 0 : 1);
        if (e->u.func.no_parens)
            break;
        ast_sb_put(b, "(");
        if (e->u.func.star)
            ast_sb_put(b, "*");
        if (e->u.func.distinct)
            ast_sb_put(b, "DISTINCT ");
        ast_pr_expr_list(b, &e->u.func.args);
        ast_sb_put(b, ")");
        if (e->u.func.over) {
            const ast_window *w = e->u.func.over;
            ast_sb_put(b, " OVER (");
            if (w->partition_by.n) {
                ast_sb_put(b, "PARTITION BY ");
                ast_pr_expr_list(b, &w->partition_by);
            }
            if (w->order_by.n) {
                ast_sb_put(b, w->partition_by.n ? " ORDER BY " : "ORDER BY ");
                put_order_list(b, &w->order_by);
            }
            ast_sb_put(b, ")");
        }
        break;
    case EXPR_COLLATE:
        put_expr_in(b, e->u.collate.operand, PR_PRIMARY);
        ast_sb_put(b, " COLLATE ");
        ast_pr_collation(b, e->u.collate.collation);
        break;
    case EXPR_DEFAULT:
        ast_sb_put(b, "DEFAULT");
        break;
    }
}

/* ------------------------------------------------------------- options */

void ast_pr_option(ast_sb *b, const ast_option *o, ast_pr_style style)
{
    ast_sb_put(b, o->name);
    if (strcmp(o->name, "MOVE") == 0 && o->value2) {
        ast_sb_put(b, " ");
        ast_pr_expr(b, o->value);
        ast_sb_put(b, " TO ");
        ast_pr_expr(b, o->value2);
        return;
    }
    /* As written: "NAME = v" or "NAME v" (RECOVERY FULL, MAXDOP 1). */
    const char *sep = o->equals ? " = " : " ";
    (void)style;
    if (o->value) {
        ast_sb_put(b, sep);
        ast_pr_expr(b, o->value);
        if (o->unit) {
            ast_sb_put(b, " ");
            ast_sb_put(b, o->unit);
        }
        if (o->value2) {
            ast_sb_put(b, " AFTER ");
            ast_pr_expr(b, o->value2);
        }
    } else if (o->word) {
        ast_sb_put(b, sep);
        if (o->word_in_parens) {
            ast_sb_put(b, "(");
            ast_sb_put(b, o->word);
            ast_sb_put(b, ")");
        } else {
            if (o->word_quoted)
                put_bracketed(b, o->word);
            else
                ast_pr_word(b, o->word);
        }
    } else if (o->args.n) {
        ast_sb_put(b, "(");
        ast_pr_expr_list(b, &o->args);
        ast_sb_put(b, ")");
    }
    if (o->sub.n) {
        /* "NAME = (a = 1)" keeps its "=" when the parentheses are the value. */
        bool sub_is_value = o->equals && !o->value && !o->word;
        ast_sb_put(b, sub_is_value ? " = (" : " (");
        ast_pr_options(b, &o->sub, AST_PR_EQ);
        ast_sb_put(b, ")");
    }
}

void ast_pr_options(ast_sb *b, const ast_option_list *l, ast_pr_style style)
{
    for (int i = 0; i < l->n; i++) {
        if (i)
            ast_sb_put(b, ", ");
        ast_pr_option(b, l->v[i], style);
    }
}

static void put_hints(ast_sb *b, const ast_option_list *l)
{
    if (!l->n)
        return;
    ast_sb_put(b, " WITH (");
    ast_pr_options(b, l, AST_PR_EQ);
    ast_sb_put(b, ")");
}

void ast_pr_query_hints(ast_sb *b, const ast_option_list *l)
{
    if (!l->n)
        return;
    ast_sb_put(b, " OPTION (");
    ast_pr_options(b, l, AST_PR_SPACE);
    ast_sb_put(b, ")");
}

/* ------------------------------------------------------------- queries */

void ast_pr_tableref(ast_sb *b, const ast_tableref *r)
{
    switch (r->kind) {
    case TREF_TABLE:
        ast_pr_objname(b, &r->name);
        break;
    case TREF_VARIABLE:
        ast_sb_put(b, r->var);
        break;
    case TREF_FUNCTION:
        put_function_name(b, &r->name, -1);
        ast_sb_put(b, "(");
        ast_pr_expr_list(b, &r->args);
        ast_sb_put(b, ")");
        break;
    case TREF_DERIVED:
        put_subquery(b, r->query);
        break;
    case TREF_JOIN: {
        static const char *const names[] = {
            [JOIN_INNER] = " INNER JOIN ", [JOIN_LEFT] = " LEFT OUTER JOIN ",
            [JOIN_RIGHT] = " RIGHT OUTER JOIN ", [JOIN_FULL] = " FULL OUTER JOIN ",
            [JOIN_CROSS] = " CROSS JOIN ", [JOIN_CROSS_APPLY] = " CROSS APPLY ",
            [JOIN_OUTER_APPLY] = " OUTER APPLY ",
        };
        /* Joins associate to the left: only a join on the right needs
         * parentheses, so long chains print flat. */
        ast_pr_tableref(b, r->left);
        ast_sb_put(b, names[r->join]);
        if (r->right->kind == TREF_JOIN)
            ast_sb_put(b, "(");
        ast_pr_tableref(b, r->right);
        if (r->right->kind == TREF_JOIN)
            ast_sb_put(b, ")");
        if (r->on) {
            ast_sb_put(b, " ON ");
            ast_pr_expr(b, r->on);
        }
        return;
    }
    }
    if (r->alias) {
        ast_sb_put(b, " AS ");
        ast_pr_name(b, r->alias);
    }
    if (r->col_aliases.n) {
        ast_sb_put(b, " ");
        ast_pr_name_list(b, &r->col_aliases);
    }
    put_hints(b, &r->hints);
}

void ast_pr_tableref_list(ast_sb *b, const ast_tableref_list *l)
{
    for (int i = 0; i < l->n; i++) {
        if (i)
            ast_sb_put(b, ", ");
        ast_pr_tableref(b, l->v[i]);
    }
}

void ast_pr_select_items(ast_sb *b, const ast_select_item_list *l)
{
    for (int i = 0; i < l->n; i++) {
        const ast_select_item *it = l->v[i];
        if (i)
            ast_sb_put(b, ", ");
        if (it->kind == SELITEM_ASSIGN) {
            ast_sb_put(b, it->var);
            ast_sb_put(b, " ");
            if (it->assign_op != AST_OP_NONE)
                ast_sb_put(b, ast_pr_op_text(it->assign_op));
            ast_sb_put(b, "= ");
            ast_pr_expr(b, it->expr);
        } else {
            ast_pr_expr(b, it->expr);
            if (it->alias && it->alias[0] == '\0') {
                ast_sb_put(b, " AS ''");   /* '' is a legal alias, [] is not */
            } else if (it->alias) {
                ast_sb_put(b, " AS ");
                ast_pr_name(b, it->alias);
            }
        }
    }
}

void ast_pr_top(ast_sb *b, const ast_expr *top, bool percent, bool ties)
{
    if (!top)
        return;
    ast_sb_put(b, "TOP (");
    ast_pr_expr(b, top);
    ast_sb_put(b, ")");
    if (percent)
        ast_sb_put(b, " PERCENT");
    if (ties)
        ast_sb_put(b, " WITH TIES");
    ast_sb_put(b, " ");
}

static void put_select(ast_sb *b, const ast_select *s)
{
    ast_sb_put(b, "SELECT ");
    if (s->distinct)
        ast_sb_put(b, "DISTINCT ");
    ast_pr_top(b, s->top, s->top_percent, s->top_with_ties);
    ast_pr_select_items(b, &s->items);
    if (s->into) {
        ast_sb_put(b, " INTO ");
        ast_pr_objname(b, s->into);
    }
    if (s->from.n) {
        ast_sb_put(b, " FROM ");
        ast_pr_tableref_list(b, &s->from);
    }
    if (s->where) {
        ast_sb_put(b, " WHERE ");
        ast_pr_expr(b, s->where);
    }
    if (s->group_by.n) {
        ast_sb_put(b, " GROUP BY ");
        ast_pr_expr_list(b, &s->group_by);
    }
    if (s->having) {
        ast_sb_put(b, " HAVING ");
        ast_pr_expr(b, s->having);
    }
}

static bool query_has_tail(const ast_query *q)
{
    return q->order_by.n || q->offset || q->hints.n;
}

static void put_operand(ast_sb *b, const ast_query *q, bool parens)
{
    if (parens || query_has_tail(q)) {
        ast_sb_put(b, "(");
        ast_pr_query(b, q);
        ast_sb_put(b, ")");
    } else {
        ast_pr_query(b, q);
    }
}

void ast_pr_ctes(ast_sb *b, const ast_cte_list *l)
{
    if (!l->n)
        return;
    ast_sb_put(b, "WITH ");
    for (int i = 0; i < l->n; i++) {
        if (i)
            ast_sb_put(b, ", ");
        ast_pr_name(b, l->v[i]->name);
        if (l->v[i]->columns.n) {
            ast_sb_put(b, " ");
            ast_pr_name_list(b, &l->v[i]->columns);
        }
        ast_sb_put(b, " AS ");
        put_subquery(b, l->v[i]->query);
    }
    ast_sb_put(b, " ");
}

void ast_pr_query(ast_sb *b, const ast_query *q)
{
    if (q->kind == QUERY_SELECT) {
        put_select(b, q->select);
    } else {
        static const char *const names[] = {
            [QUERY_UNION] = " UNION ", [QUERY_UNION_ALL] = " UNION ALL ",
            [QUERY_EXCEPT] = " EXCEPT ", [QUERY_INTERSECT] = " INTERSECT ",
        };
        /* Left-associative; INTERSECT binds tighter than UNION / EXCEPT. */
        bool lp = q->kind == QUERY_INTERSECT && q->left->kind != QUERY_SELECT &&
                  q->left->kind != QUERY_INTERSECT;
        put_operand(b, q->left, lp);
        ast_sb_put(b, names[q->kind]);
        put_operand(b, q->right, q->right->kind != QUERY_SELECT);
    }
    if (q->order_by.n) {
        ast_sb_put(b, " ORDER BY ");
        put_order_list(b, &q->order_by);
    }
    if (q->offset) {
        ast_sb_put(b, " OFFSET ");
        ast_pr_expr(b, q->offset);
        ast_sb_put(b, " ROWS");
        if (q->fetch) {
            ast_sb_put(b, " FETCH NEXT ");
            ast_pr_expr(b, q->fetch);
            ast_sb_put(b, " ROWS ONLY");
        }
    }
}

/* --------------------------------------------------------------- entry */

char *ast_stmt_to_sql(arena *a, const ast_stmt *s)
{
    ast_sb b = { 0 };
    ast_pr_stmt(&b, s, 0);
    return ast_sb_finish(&b, a);
}

char *ast_expr_to_sql(arena *a, const ast_expr *e)
{
    return ast_expr_to_sql_with(a, e, NULL);
}

char *ast_expr_to_sql_with(arena *a, const ast_expr *e, const ast_lit_value *lits)
{
    ast_sb b = { .lits = lits };
    ast_pr_expr(&b, e);
    return ast_sb_finish(&b, a);
}

char *ast_batch_to_sql(arena *a, const ast_batch *batch)
{
    return ast_batch_to_sql_with(a, batch, NULL);
}

char *ast_batch_to_sql_with(arena *a, const ast_batch *batch, const ast_lit_value *lits)
{
    ast_sb b = { .lits = lits };
    ast_pr_stmt_list(&b, &batch->stmts, 0);
    return ast_sb_finish(&b, a);
}
