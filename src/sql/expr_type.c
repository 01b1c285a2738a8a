/*
 * expr_type.c — the types of expressions: SQL Server's data type precedence,
 * the common type of two operands (comparisons, CASE, UNION), and the result
 * type of arithmetic — including the decimal precision/scale rules (p1 + p2 +
 * 1 for *, max(6, s1 + p2 + 1) for /, scale cut to keep 38 digits).
 */
#include <stdio.h>
#include <string.h>

#include "sql/exec_int.h"

int bx_prec(uint8_t id)
{
    switch (id) {
    case SQL_DATETIME2: return 30;
    case SQL_DATETIME: return 29;
    case SQL_DATE: return 27;
    case SQL_TIME: return 26;
    case SQL_FLOAT: return 25;
    case SQL_REAL: return 24;
    case SQL_DECIMAL: case SQL_NUMERIC: return 23;
    case SQL_MONEY: return 22;
    case SQL_SMALLMONEY: return 21;
    case SQL_BIGINT: return 20;
    case SQL_INT: return 19;
    case SQL_SMALLINT: return 18;
    case SQL_TINYINT: return 17;
    case SQL_BIT: return 16;
    case SQL_UNIQUEIDENTIFIER: return 12;
    case SQL_NVARCHAR: return 11;
    case SQL_NCHAR: return 10;
    case SQL_VARCHAR: return 9;
    case SQL_CHAR: return 8;
    case SQL_VARBINARY: return 7;
    case SQL_BINARY: return 6;
    }
    return 0;
}

void bx_type_text(const sql_type *t, char *buf, size_t cap)
{
    const char *n = t->id == SQL_DECIMAL ? "decimal" : value_type_name(t->id);
    if (value_type_is_string(t->id) || value_type_is_binary(t->id)) {
        if (t->max_len == VALUE_LEN_MAX)
            snprintf(buf, cap, "%s(max)", n);
        else
            snprintf(buf, cap, "%s(%d)", n, t->max_len);
    } else if (t->id == SQL_DECIMAL || t->id == SQL_NUMERIC) {
        snprintf(buf, cap, "%s(%d,%d)", n, t->precision ? t->precision : 38, t->scale);
    } else {
        snprintf(buf, cap, "%s", n);
    }
}


/* decimal(p,s) an exact type converts to */
void bx_dec_of(const sql_type *t, int *p, int *sc)
{
    switch (t->id) {
    case SQL_BIT: *p = 1; *sc = 0; return;
    case SQL_TINYINT: *p = 3; *sc = 0; return;
    case SQL_SMALLINT: *p = 5; *sc = 0; return;
    case SQL_INT: *p = 10; *sc = 0; return;
    case SQL_BIGINT: *p = 19; *sc = 0; return;
    case SQL_MONEY: *p = 19; *sc = 4; return;
    case SQL_SMALLMONEY: *p = 10; *sc = 4; return;
    default: *p = t->precision ? t->precision : 38; *sc = t->scale; return;
    }
}

/* Precision beyond 38: keep the integral digits, shrink the scale, but not
 * below 6 (SQL Server's rule for results of arithmetic). */
static void dec_reduce(int *p, int *s)
{
    if (*p <= 38)
        return;
    int ip = *p - *s;
    if (ip < 32)
        *s = *s < 38 - ip ? *s : 38 - ip;
    else
        *s = *s < 6 ? *s : 6;
    *p = 38;
}

int bx_clash(sql_session *s, const sql_type *a, const sql_type *b, int line)
{
    char m[200], ta[64], tb[64];
    snprintf(ta, sizeof ta, "%s", a->id == SQL_DECIMAL ? "decimal" : value_type_name(a->id));
    snprintf(tb, sizeof tb, "%s", b->id == SQL_DECIMAL ? "decimal" : value_type_name(b->id));
    snprintf(m, sizeof m, "Operand type clash: %s is incompatible with %s", ta, tb);
    hdb_raise_text(&s->err, 206, 16, 2, m);
    s->err_line = line;
    return -1;
}

int bx_common_type(sql_session *s, const sql_type *a, const sql_type *b, sql_type *out, int line)
{
    if (value_type_is_string(a->id) && value_type_is_string(b->id)) {
        bool uni = value_type_is_unicode(a->id) || value_type_is_unicode(b->id);
        bool fixed = (a->id == SQL_CHAR || a->id == SQL_NCHAR) && (b->id == SQL_CHAR || b->id == SQL_NCHAR);
        int32_t n = a->max_len == VALUE_LEN_MAX || b->max_len == VALUE_LEN_MAX ? VALUE_LEN_MAX
                    : a->max_len > b->max_len ? a->max_len : b->max_len;
        *out = value_type(uni ? (fixed ? SQL_NCHAR : SQL_NVARCHAR) : (fixed ? SQL_CHAR : SQL_VARCHAR), n, 0, 0);
        out->collation_flags = a->collation_flags | b->collation_flags;
        return 0;
    }
    if (value_type_is_binary(a->id) && value_type_is_binary(b->id)) {
        int32_t n = a->max_len == VALUE_LEN_MAX || b->max_len == VALUE_LEN_MAX ? VALUE_LEN_MAX
                    : a->max_len > b->max_len ? a->max_len : b->max_len;
        *out = value_type(a->id == SQL_BINARY && b->id == SQL_BINARY ? SQL_BINARY : SQL_VARBINARY, n, 0, 0);
        return 0;
    }
    const sql_type *hi = bx_prec(a->id) >= bx_prec(b->id) ? a : b;
    const sql_type *lo = hi == a ? b : a;
    if (!cv_allowed(lo->id, hi->id, false))
        return bx_clash(s, lo, hi, line);
    *out = *hi;
    if (ty_dec(hi->id) && (ty_dec(lo->id) || ty_int(lo->id) || lo->id == SQL_BIT ||
                           lo->id == SQL_MONEY || lo->id == SQL_SMALLMONEY)) {
        int p1, s1, p2, s2;
        bx_dec_of(hi, &p1, &s1);
        bx_dec_of(lo, &p2, &s2);
        int sc = s1 > s2 ? s1 : s2;
        int ip = (p1 - s1) > (p2 - s2) ? p1 - s1 : p2 - s2;
        int p = ip + sc;
        if (p > 38)
            p = 38;
        *out = value_type(hi->id == SQL_NUMERIC && lo->id == SQL_NUMERIC ? SQL_NUMERIC : hi->id, 0, (uint8_t)p, (uint8_t)sc);
    }
    if ((hi->id == SQL_DATETIME2 || hi->id == SQL_TIME) && lo->id == hi->id && lo->precision > hi->precision)
        out->precision = lo->precision;
    return 0;
}

int bx_arith_type(sql_session *s, int op, bx *l, bx *r, sql_type *out, int *concat, int line)
{
    const sql_type *a = &l->t, *b = &r->t;
    *concat = 0;
    bool as = value_type_is_string(a->id) || l->null_lit, bs = value_type_is_string(b->id) || r->null_lit;
    if (op == AST_OP_ADD && as && bs && !(l->null_lit && r->null_lit)) {
        const sql_type *sa = l->null_lit ? b : a, *sb = r->null_lit ? a : b;
        bool uni = value_type_is_unicode(sa->id) || value_type_is_unicode(sb->id);
        int32_t lim = uni ? 4000 : 8000, n;
        if (sa->max_len == VALUE_LEN_MAX || sb->max_len == VALUE_LEN_MAX)
            n = VALUE_LEN_MAX;
        else {
            n = sa->max_len + sb->max_len;
            if (n > lim)
                n = lim;
        }
        *out = value_type(uni ? SQL_NVARCHAR : SQL_VARCHAR, n, 0, 0);
        *concat = 1;
        return 0;
    }
    if (value_type_is_binary(a->id) && value_type_is_binary(b->id) && op == AST_OP_ADD) {
        int32_t n = a->max_len == VALUE_LEN_MAX || b->max_len == VALUE_LEN_MAX ? VALUE_LEN_MAX : a->max_len + b->max_len;
        if (n > 8000)
            n = 8000;
        *out = value_type(SQL_VARBINARY, n, 0, 0);
        *concat = 1;
        return 0;
    }
    sql_type ta = l->null_lit ? *b : *a, tb = r->null_lit ? *a : *b;
    if (l->null_lit && r->null_lit)
        ta = tb = value_type(SQL_INT, 0, 0, 0);
    /* a string meets a number: the string converts to the number's type */
    if (value_type_is_string(ta.id) && !value_type_is_string(tb.id))
        ta = tb;
    if (value_type_is_string(tb.id) && !value_type_is_string(ta.id))
        tb = ta;
    if (value_type_is_string(ta.id) && value_type_is_string(tb.id)) {
        char m[200];
        snprintf(m, sizeof m, "The data types %s and %s are incompatible in the %s operator.",
                 value_type_name(a->id), value_type_name(b->id),
                 op == AST_OP_SUB ? "subtract" : op == AST_OP_MUL ? "multiply" : op == AST_OP_DIV ? "divide" :
                 op == AST_OP_MOD ? "modulo" : "bitwise");
        hdb_raise_text(&s->err, 402, 16, 1, m);
        s->err_line = line;
        return -1;
    }
    const char *opname = op == AST_OP_ADD ? "add" : op == AST_OP_SUB ? "subtract" : op == AST_OP_MUL ? "multiply"
                         : op == AST_OP_DIV ? "divide" : op == AST_OP_MOD ? "modulo" : "bitwise";
    if (ta.id == SQL_DATETIME || tb.id == SQL_DATETIME) {
        const sql_type *o = ta.id == SQL_DATETIME ? &tb : &ta;
        if ((op == AST_OP_ADD || op == AST_OP_SUB) && (ty_num(o->id) || o->id == SQL_DATETIME)) {
            *out = value_type(SQL_DATETIME, 0, 0, 0);
            return 0;
        }
    }
    for (int k = 0; k < 2; k++) {
        const sql_type *t = k ? &tb : &ta;
        if (!ty_num(t->id) || ((op >= AST_OP_BITAND && op <= AST_OP_BITXOR) && !ty_int(t->id) && t->id != SQL_BIT)) {
            char m[200];
            snprintf(m, sizeof m, "Operand data type %s is invalid for %s operator.",
                     t->id == SQL_DECIMAL ? "decimal" : value_type_name(t->id), opname);
            hdb_raise_text(&s->err, 8117, 16, 1, m);
            s->err_line = line;
            return -1;
        }
    }
    if (op >= AST_OP_BITAND && op <= AST_OP_BITXOR) {
        *out = bx_prec(ta.id) >= bx_prec(tb.id) ? ta : tb;
        if (out->id == SQL_BIT && (ta.id != SQL_BIT || tb.id != SQL_BIT))
            *out = value_type(SQL_INT, 0, 0, 0);
        return 0;
    }
    if (ta.id == SQL_FLOAT || tb.id == SQL_FLOAT || ta.id == SQL_REAL || tb.id == SQL_REAL) {
        if (op == AST_OP_MOD) {
            char m[200];
            snprintf(m, sizeof m, "The data types %s and %s are incompatible in the modulo operator.",
                     value_type_name(ta.id), value_type_name(tb.id));
            hdb_raise_text(&s->err, 402, 16, 1, m);
            s->err_line = line;
            return -1;
        }
        bool real = (ta.id == SQL_REAL || !ty_num(ta.id) || ta.id != SQL_FLOAT) &&
                    (tb.id == SQL_REAL || tb.id != SQL_FLOAT) && (ta.id == SQL_REAL && tb.id == SQL_REAL);
        *out = value_type(real ? SQL_REAL : SQL_FLOAT, 0, real ? 24 : 53, 0);
        return 0;
    }
    if (ty_dec(ta.id) || ty_dec(tb.id)) {
        int p1, s1, p2, s2, p, sc;
        bx_dec_of(&ta, &p1, &s1);
        bx_dec_of(&tb, &p2, &s2);
        switch (op) {
        case AST_OP_ADD: case AST_OP_SUB: {
            sc = s1 > s2 ? s1 : s2;
            int ip = (p1 - s1) > (p2 - s2) ? p1 - s1 : p2 - s2;
            p = sc + ip + 1;
            break;
        }
        case AST_OP_MUL:
            p = p1 + p2 + 1;
            sc = s1 + s2;
            break;
        case AST_OP_DIV:
            sc = 6 > s1 + p2 + 1 ? 6 : s1 + p2 + 1;
            p = p1 - s1 + s2 + sc;
            break;
        default: {   /* % */
            sc = s1 > s2 ? s1 : s2;
            int ip = (p1 - s1) < (p2 - s2) ? p1 - s1 : p2 - s2;
            p = ip + sc;
            break;
        }
        }
        dec_reduce(&p, &sc);
        if (p < 1)
            p = 1;
        *out = value_type(SQL_NUMERIC, 0, (uint8_t)p, (uint8_t)sc);
        return 0;
    }
    if (ta.id == SQL_MONEY || tb.id == SQL_MONEY || ta.id == SQL_SMALLMONEY || tb.id == SQL_SMALLMONEY) {
        *out = value_type(ta.id == SQL_SMALLMONEY && tb.id == SQL_SMALLMONEY ? SQL_SMALLMONEY : SQL_MONEY, 0, 0, 0);
        return 0;
    }
    /* integers (bit takes part as int) */
    uint8_t ia = ta.id == SQL_BIT ? SQL_INT : ta.id, ib = tb.id == SQL_BIT ? SQL_INT : tb.id;
    *out = value_type(bx_prec(ia) >= bx_prec(ib) ? ia : ib, 0, 0, 0);
    return 0;
}

