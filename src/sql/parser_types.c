/*
 * parser_types.c — constants and data types.
 *
 * Constants become engine values (access/value.h) with SQL Server's typing:
 * an integer is int, or numeric(p,0) beyond int; 1.5 is numeric(p,s) with p
 * its significant digits; 1e3 is float; $1.5 money; 0xAB varbinary (an odd
 * digit count gets a leading 0); 'x' varchar in Latin-1 (other characters
 * become '?', as a code-page conversion does); N'x' nvarchar in UTF-16LE.
 * More than 38 digits is error 1007.
 *
 * Type names map to sql_type with SQL Server's defaults and limits:
 * varchar = varchar(1) (30 inside CAST/CONVERT), varchar(max), n <= 8000
 * (4000 for n-types, error 131), decimal = decimal(18,0) with p <= 38 (2750)
 * and s <= p (2751), time/datetime2(p <= 7) (1002), float(n) -> real for
 * n <= 24. Types SQL Server has but the engine lacks keep SQL_TYPE_NONE.
 */
#include "sql/parser_int.h"

#include <math.h>
#include <stdlib.h>

/* --------------------------------------------------------------- literals */

/* Decodes one UTF-8 sequence at s[*i]; invalid bytes stand for themselves
 * (as Latin-1), so any byte string converts. */
static uint32_t utf8_decode(const char *s, size_t n, size_t *i)
{
    const unsigned char *u = (const unsigned char *)s;
    unsigned char c = u[*i];
    int len = c < 0x80 ? 1 : (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3
            : (c & 0xF8) == 0xF0 ? 4 : 0;
    if (len <= 1 || *i + (size_t)len > n) {
        (*i)++;
        return c;
    }
    uint32_t cp = c & (0x7F >> len);
    for (int k = 1; k < len; k++) {
        if ((u[*i + k] & 0xC0) != 0x80) {
            (*i)++;
            return c;
        }
        cp = (cp << 6) | (u[*i + k] & 0x3F);
    }
    /* Overlong forms (C0 80 for NUL ...) are not UTF-8: take the lead byte
     * alone, like any other invalid byte. */
    static const uint32_t min_cp[5] = { 0, 0, 0x80, 0x800, 0x10000 };
    if (cp < min_cp[len] || cp > 0x10FFFF) {
        (*i)++;
        return c;
    }
    *i += (size_t)len;
    return cp;
}

/* Builds the engine value of a string constant: varchar bytes are Latin-1
 * (characters beyond it become '?', as a code-page conversion does),
 * nvarchar bytes UTF-16LE. */
int literal_string_value(arena *a, const char *s, size_t n, bool unicode, sql_value *v, sql_type *t)
{
    uint8_t *out = arena_alloc(a, unicode ? n * 4 + 2 : n + 1);
    if (!out)
        return 701;
    size_t o = 0;
    for (size_t i = 0; i < n;) {
        uint32_t cp = utf8_decode(s, n, &i);
        if (!unicode) {
            out[o++] = cp <= 0xFF ? (uint8_t)cp : (uint8_t)'?';
        } else if (cp >= 0x10000) {
            uint32_t w = cp - 0x10000;
            uint16_t hi = (uint16_t)(0xD800 + (w >> 10)), lo = (uint16_t)(0xDC00 + (w & 0x3FF));
            out[o++] = (uint8_t)hi; out[o++] = (uint8_t)(hi >> 8);
            out[o++] = (uint8_t)lo; out[o++] = (uint8_t)(lo >> 8);
        } else {
            out[o++] = (uint8_t)cp; out[o++] = (uint8_t)(cp >> 8);
        }
    }
    uint8_t id = unicode ? SQL_NVARCHAR : SQL_VARCHAR;
    *v = value_bytes(id, out, (uint32_t)o);
    *t = value_type(id, (int32_t)(unicode ? o / 2 : o), 0, 0);
    return 0;
}

static ast_expr *string_value(parser *P, const char *s, size_t n, bool unicode, int line)
{
    ast_expr *e = parse_new_expr(P, EXPR_LITERAL, line);
    if (literal_string_value(P->a, s, n, unicode, &e->u.lit.v, &e->u.lit.type))
        parse_fail(P, line, 701, "default");
    return e;
}

ast_expr *parse_string_literal(parser *P, const char *s, bool unicode, int line)
{
    return string_value(P, s, strlen(s), unicode, line);
}

/* digits (no sign, no point) -> value; > 38 significant digits is 1007. */
static bool digits_to_i128(const char *d, size_t n, __int128 *out, int *sig)
{
    size_t i = 0;
    while (i < n && d[i] == '0')
        i++;
    *sig = (int)(n - i);
    if (*sig > 38)
        return false;
    __int128 v = 0;
    for (; i < n; i++)
        v = v * 10 + (d[i] - '0');
    *out = v;
    return true;
}

int literal_number_value(lex_kind kind, const char *s, size_t n, bool negate, sql_value *out, sql_type *type)
{
    if (kind == TK_INTEGER) {
        __int128 v;
        int sig;
        if (!digits_to_i128(s, n, &v, &sig))
            return 1007;
        if (negate)
            v = -v;
        if (v >= INT32_MIN && v <= INT32_MAX) {
            *out = value_int(SQL_INT, (int64_t)v);
            *type = value_type(SQL_INT, 0, 0, 0);
        } else {
            /* Beyond int a constant is numeric(p, 0), p = its digits. */
            *out = value_decimal(v);
            *type = value_type(SQL_DECIMAL, 0, (uint8_t)sig, 0);
        }
        return 0;
    }
    if (kind == TK_FLOAT) {
        char small[64], *buf = n < sizeof small ? small : malloc(n + 1);
        if (!buf)
            return 701;
        memcpy(buf, s, n);   /* strtod needs a terminated copy */
        buf[n] = 0;
        double d = strtod(buf, NULL);
        if (buf != small)
            free(buf);
        if (!isfinite(d))
            return 1007;
        *out = value_float(SQL_FLOAT, negate ? -d : d);
        *type = value_type(SQL_FLOAT, 0, 53, 0);
        return 0;
    }
    /* decimal or money: integer part, fraction */
    const char *dot = memchr(s, '.', n);
    size_t ni = dot ? (size_t)(dot - s) : n;
    const char *frac = dot ? dot + 1 : s + n;
    size_t nf = dot ? n - ni - 1 : 0;
    if (kind == TK_MONEY) {
        /* Four decimals, rounded half away from zero. */
        __int128 v;
        int sig;
        if (!digits_to_i128(s, ni, &v, &sig) || sig > 19)
            return 8115;
        for (size_t k = 0; k < 4; k++)
            v = v * 10 + (k < nf ? frac[k] - '0' : 0);
        if (nf > 4 && frac[4] >= '5')
            v++;
        if (negate)
            v = -v;
        if (v > INT64_MAX || v < INT64_MIN)
            return 8115;
        *out = value_int(SQL_MONEY, (int64_t)v);
        *type = value_type(SQL_MONEY, 0, 19, 4);
        return 0;
    }
    /* decimal(p, s): p = significant digits of the integer part + s. */
    size_t i = 0;
    while (i < ni && s[i] == '0')
        i++;
    size_t int_sig = ni - i;
    if (int_sig + nf > 38)
        return 1007;
    __int128 v = 0;
    for (size_t k = i; k < ni; k++)
        v = v * 10 + (s[k] - '0');
    for (size_t k = 0; k < nf; k++)
        v = v * 10 + (frac[k] - '0');
    int prec = (int)(int_sig + nf);
    if (prec < 1)
        prec = 1;
    *out = value_decimal(negate ? -v : v);
    *type = value_type(SQL_DECIMAL, 0, (uint8_t)prec, (uint8_t)nf);
    return 0;
}

static ast_expr *number_error(parser *P, const lex_token *t, bool negate)
{
    const char *txt = arena_strndup(P->a, P->src + t->offset, t->len);
    if (!txt)
        txt = "";
    parse_fail(P, t->line, 1007, negate ? parse_concat(P, "-", "", txt) : txt);
}

static ast_expr *literal_number(parser *P, const lex_token *t, bool negate)
{
    ast_expr *e = parse_new_expr(P, EXPR_LITERAL, t->line);
    int rc = literal_number_value(t->kind, t->text, t->text_len, negate, &e->u.lit.v, &e->u.lit.type);
    if (rc == 8115)
        parse_fail(P, t->line, 8115, "money");
    if (rc == 701)
        parse_fail(P, t->line, 701, "default");
    if (rc)
        number_error(P, t, negate);
    return e;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return c - 'A' + 10;
}

ast_expr *parse_literal_token(parser *P, bool negate)
{
    const lex_token *t = parse_cur(P);
    ast_expr *e;
    switch (t->kind) {
    case TK_INTEGER: case TK_DECIMAL: case TK_FLOAT: case TK_MONEY:
        e = literal_number(P, t, negate);
        break;
    case TK_STRING: case TK_NSTRING:
        e = string_value(P, t->text, t->text_len, t->kind == TK_NSTRING, t->line);
        break;
    case TK_BINARY: {
        /* An odd digit count gets a leading zero: 0xABC is 0x0ABC. */
        size_t nd = t->text_len, nb = (nd + 1) / 2;
        uint8_t *b = parse_alloc(P, nb + 1);
        size_t d = 0;
        for (size_t k = 0; k < nb; k++) {
            int hi = (nd % 2 && k == 0) ? 0 : hexval(t->text[d++]);
            int lo = hexval(t->text[d++]);
            b[k] = (uint8_t)(hi << 4 | lo);
        }
        e = parse_new_expr(P, EXPR_LITERAL, t->line);
        e->u.lit.v = value_bytes(SQL_VARBINARY, b, (uint32_t)nb);
        e->u.lit.type = value_type(SQL_VARBINARY, (int32_t)nb, 0, 0);
        break;
    }
    default:
        parse_error_near(P);
    }
    ast_lit_use *u = PARSE_NEW(P, ast_lit_use);
    *u = (ast_lit_use){ .offset = t->offset, .len = t->len, .e = e, .negate = negate };
    PARSE_PUSH(P, P->lits, u);
    parse_advance(P);
    return e;
}

bool parse_is_number_token(const lex_token *t)
{
    return t->kind == TK_INTEGER || t->kind == TK_DECIMAL || t->kind == TK_FLOAT ||
           t->kind == TK_MONEY;
}

static bool is_constant_token(const lex_token *t)
{
    return parse_is_number_token(t) || t->kind == TK_STRING || t->kind == TK_NSTRING ||
           t->kind == TK_BINARY;
}

ast_expr *parse_null_literal(parser *P, int line)
{
    ast_expr *e = parse_new_expr(P, EXPR_LITERAL, line);
    e->u.lit.v = value_null(SQL_INT);
    e->u.lit.type = value_type(SQL_INT, 0, 0, 0);
    return e;
}

ast_expr *parse_variable_ref(parser *P)
{
    const lex_token *t = parse_cur(P);
    ast_expr *e;
    if (t->kind == TK_VARIABLE) {
        e = parse_new_expr(P, EXPR_VARIABLE, t->line);
        e->u.name = t->text;
        parse_var_use(P, t->text, VAR_SCALAR, t->line);
    } else {
        e = parse_new_expr(P, EXPR_SYSVAR, t->line);
        e->u.name = parse_upper(P, t->text);
    }
    parse_advance(P);
    return e;
}

bool parse_is_simple_value(parser *P)
{
    const lex_token *t = parse_cur(P);
    if (is_constant_token(t) || t->kind == TK_VARIABLE || t->kind == TK_SYSVAR)
        return true;
    if (t->kind == TK_IDENT && t->kw == KW_NULL)
        return true;
    return (parse_is_op(P, OP_MINUS) || parse_is_op(P, OP_PLUS)) &&
           parse_is_number_token(parse_peek(P, 1));
}

ast_expr *parse_simple_value(parser *P)
{
    const lex_token *t = parse_cur(P);
    if (t->kind == TK_VARIABLE || t->kind == TK_SYSVAR)
        return parse_variable_ref(P);
    if (t->kind == TK_IDENT && t->kw == KW_NULL) {
        parse_advance(P);
        return parse_null_literal(P, t->line);
    }
    if ((parse_is_op(P, OP_MINUS) || parse_is_op(P, OP_PLUS)) &&
        parse_is_number_token(parse_peek(P, 1))) {
        bool neg = parse_is_op(P, OP_MINUS);
        parse_advance(P);
        return parse_literal_token(P, neg);
    }
    if (!is_constant_token(t))
        parse_error_near(P);
    return parse_literal_token(P, false);
}

ast_expr *parse_int_literal(parser *P)
{
    const lex_token *t = parse_cur(P);
    if (t->kind != TK_INTEGER)
        parse_error_near(P);
    ast_expr *e = parse_literal_token(P, false);
    P->lits.v[P->lits.n - 1]->pinned = true;   /* its type decided the parse */
    if (e->u.lit.type.id != SQL_INT)
        parse_fail(P, t->line, 8115, "int");
    return e;
}

int64_t parse_int_const(parser *P)
{
    bool neg = false;
    if (parse_accept_op(P, OP_MINUS))
        neg = true;
    else
        parse_accept_op(P, OP_PLUS);
    const lex_token *t = parse_cur(P);
    if (t->kind != TK_INTEGER)
        parse_error_near(P);
    __int128 v;
    int sig;
    if (!digits_to_i128(t->text, t->text_len, &v, &sig) || v > INT64_MAX)
        number_error(P, t, neg);
    parse_advance(P);
    return neg ? -(int64_t)v : (int64_t)v;
}

/* ----------------------------------------------------------------- types */

enum targs { TA_NONE, TA_LEN, TA_VARLEN, TA_PS, TA_FRAC, TA_FLOAT, TA_FIXED };

struct typedesc {
    const char *name;        /* lower-case spelling */
    uint8_t id;              /* SQL_TYPE_NONE: known to SQL Server, not to the engine */
    uint8_t args;            /* enum targs */
    int32_t limit;           /* max length for TA_LEN / TA_VARLEN */
    const char *canon;       /* name recorded in the AST (synonyms) */
};

static const struct typedesc types[] = {
    { "bigint", SQL_BIGINT, TA_NONE, 0, NULL },
    { "int", SQL_INT, TA_NONE, 0, NULL },
    { "integer", SQL_INT, TA_NONE, 0, "int" },
    { "smallint", SQL_SMALLINT, TA_NONE, 0, NULL },
    { "tinyint", SQL_TINYINT, TA_NONE, 0, NULL },
    { "bit", SQL_BIT, TA_NONE, 0, NULL },
    { "decimal", SQL_DECIMAL, TA_PS, 0, NULL },
    { "dec", SQL_DECIMAL, TA_PS, 0, "decimal" },
    { "numeric", SQL_NUMERIC, TA_PS, 0, NULL },
    { "money", SQL_MONEY, TA_NONE, 0, NULL },
    { "smallmoney", SQL_SMALLMONEY, TA_NONE, 0, NULL },
    { "float", SQL_FLOAT, TA_FLOAT, 0, NULL },
    { "real", SQL_REAL, TA_NONE, 0, NULL },
    { "char", SQL_CHAR, TA_LEN, 8000, NULL },
    { "character", SQL_CHAR, TA_LEN, 8000, "char" },
    { "varchar", SQL_VARCHAR, TA_VARLEN, 8000, NULL },
    { "nchar", SQL_NCHAR, TA_LEN, 4000, NULL },
    { "nvarchar", SQL_NVARCHAR, TA_VARLEN, 4000, NULL },
    { "binary", SQL_BINARY, TA_LEN, 8000, NULL },
    { "varbinary", SQL_VARBINARY, TA_VARLEN, 8000, NULL },
    { "date", SQL_DATE, TA_NONE, 0, NULL },
    { "time", SQL_TIME, TA_FRAC, 0, NULL },
    { "datetime", SQL_DATETIME, TA_NONE, 0, NULL },
    { "datetime2", SQL_DATETIME2, TA_FRAC, 0, NULL },
    { "uniqueidentifier", SQL_UNIQUEIDENTIFIER, TA_NONE, 0, NULL },
    { "sysname", SQL_NVARCHAR, TA_FIXED, 128, NULL },
    /* SQL Server types the engine does not have: parsed, rejected later. */
    { "smalldatetime", SQL_TYPE_NONE, TA_NONE, 0, NULL },
    { "datetimeoffset", SQL_TYPE_NONE, TA_FRAC, 0, NULL },
    { "text", SQL_TYPE_NONE, TA_NONE, 0, NULL },
    { "ntext", SQL_TYPE_NONE, TA_NONE, 0, NULL },
    { "image", SQL_TYPE_NONE, TA_NONE, 0, NULL },
    { "xml", SQL_TYPE_NONE, TA_NONE, 0, NULL },
    { "sql_variant", SQL_TYPE_NONE, TA_NONE, 0, NULL },
    { "timestamp", SQL_TYPE_NONE, TA_NONE, 0, NULL },
    { "rowversion", SQL_TYPE_NONE, TA_NONE, 0, NULL },
    { "hierarchyid", SQL_TYPE_NONE, TA_NONE, 0, NULL },
    { "geometry", SQL_TYPE_NONE, TA_NONE, 0, NULL },
    { "geography", SQL_TYPE_NONE, TA_NONE, 0, NULL },
};

static const struct typedesc *find_type(const char *name)
{
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
        if (strcasecmp(types[i].name, name) == 0)
            return &types[i];
    return NULL;
}

/* Multi-word ISO synonyms: double precision, char(acter) varying, binary
 * varying, national char(acter) [varying], national text. Returns the
 * lower-case single-word name, or NULL when the tokens are not one. */
static const char *multiword_type(parser *P)
{
    if (parse_is_kw(P, KW_DOUBLE)) {
        parse_advance(P);
        parse_expect_kw(P, KW_PRECISION);
        return "float";
    }
    if (parse_is_kw(P, KW_NATIONAL)) {
        parse_advance(P);
        if (parse_accept_word(P, "TEXT"))
            return "ntext";
        if (!parse_accept_word(P, "CHAR") && !parse_accept_word(P, "CHARACTER"))
            parse_error_near(P);
        return parse_accept_kw(P, KW_VARYING) ? "nvarchar" : "nchar";
    }
    if ((parse_is_word(P, "CHAR") || parse_is_word(P, "CHARACTER")) &&
        parse_is_kw_at(P, 1, KW_VARYING)) {
        parse_advance(P);
        parse_advance(P);
        return "varchar";
    }
    if (parse_is_word(P, "BINARY") && parse_is_kw_at(P, 1, KW_VARYING)) {
        parse_advance(P);
        parse_advance(P);
        return "varbinary";
    }
    return NULL;
}

/* One type argument: an unsigned integer or MAX. */
static int64_t type_arg(parser *P, bool *is_max)
{
    *is_max = false;
    if (parse_accept_word(P, "MAX")) {
        *is_max = true;
        return AST_TYPE_MAX;
    }
    const lex_token *t = parse_cur(P);
    if (t->kind != TK_INTEGER)
        parse_error_near(P);
    __int128 v;
    int sig;
    if (!digits_to_i128(t->text, t->text_len, &v, &sig) || v > INT32_MAX)
        v = INT32_MAX;
    parse_advance(P);
    return (int64_t)v;
}

void parse_type(parser *P, ast_type *out, bool in_cast)
{
    memset(out, 0, sizeof *out);
    int line = parse_cur(P)->line;
    const char *mw = multiword_type(P);
    const char *name = mw;
    if (!name) {
        ast_objname on;
        parse_objname(P, &on, 2);
        name = on.object;
        out->schema = on.schema;
    }
    const struct typedesc *td = out->schema ? NULL : find_type(name);
    out->name = td ? (td->canon ? td->canon : td->name) : name;

    /* Arguments as written. */
    bool maxarg[2] = { false, false };
    if (parse_accept_op(P, OP_LPAREN)) {
        out->args[out->nargs] = type_arg(P, &maxarg[out->nargs]);
        out->nargs++;
        if (parse_accept_op(P, OP_COMMA)) {
            out->args[out->nargs] = type_arg(P, &maxarg[out->nargs]);
            out->nargs++;
        }
        parse_expect_op(P, OP_RPAREN);
    }
    if (!td) {
        out->t.id = SQL_TYPE_NONE;
        return;
    }
    int ord = P->type_ordinal ? P->type_ordinal : 1;
    uint8_t id = td->id;
    out->t.id = id;
    int64_t a0 = out->args[0], a1 = out->args[1];
    if ((maxarg[0] && td->args != TA_VARLEN) || maxarg[1])
        parse_fail(P, line, 102, "max");
    switch (td->args) {
    case TA_NONE:
    case TA_FIXED:
        if (out->nargs)
            parse_fail(P, line, 2716, ord, out->name);
        if (td->args == TA_FIXED)
            out->t.max_len = td->limit;
        break;
    case TA_LEN:
    case TA_VARLEN:
        if (out->nargs > 1)
            parse_fail(P, line, 102, ",");
        if (out->nargs == 0) {
            out->t.max_len = in_cast ? 30 : 1;
        } else if (a0 == AST_TYPE_MAX) {
            out->t.max_len = VALUE_LEN_MAX;
        } else {
            if (a0 == 0)
                parse_fail(P, line, 1001, line, 0);
            if (a0 > td->limit)
                parse_fail(P, line, 131, (int)a0, "type", out->name, (int)td->limit);
            out->t.max_len = (int32_t)a0;
        }
        break;
    case TA_PS: {
        int64_t p = out->nargs ? a0 : 18, s = out->nargs > 1 ? a1 : 0;
        if (p == 0)
            parse_fail(P, line, 1001, line, 0);
        if (p > 38)
            parse_fail(P, line, 2750, ord, (int)p, 38);
        if (s > p)
            parse_fail(P, line, 2751, ord, (int)s, (int)p);
        out->t.precision = (uint8_t)p;
        out->t.scale = (uint8_t)s;
        break;
    }
    case TA_FRAC:
        if (out->nargs > 1)
            parse_fail(P, line, 102, ",");
        if (out->nargs && a0 > 7)
            parse_fail(P, line, 1002, line, (int)a0);
        out->t.precision = (uint8_t)(out->nargs ? a0 : 7);
        break;
    case TA_FLOAT:
        if (out->nargs > 1)
            parse_fail(P, line, 102, ",");
        if (out->nargs) {
            if (a0 == 0)
                parse_fail(P, line, 1001, line, 0);
            if (a0 > 53)
                parse_fail(P, line, 2750, ord, (int)a0, 53);
            /* float(1..24) is real, float(25..53) float. */
            if (a0 <= 24)
                out->t.id = SQL_REAL;
        }
        out->t.precision = out->t.id == SQL_REAL ? 24 : 53;
        break;
    }
}

