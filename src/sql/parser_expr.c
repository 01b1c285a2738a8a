/*
 * parser_expr.c — expressions and search conditions (constants and types:
 * parser_types.c).
 *
 * T-SQL keeps values and predicates apart in its grammar: `SELECT a = b`
 * is an alias, not a comparison, and `WHERE a` is error 4145. So there are
 * two entry points:
 *
 *   parse_expr   value expression; precedence, loosest first:
 *                  + - & | ^   then   * / %   then unary - + ~   then primary
 *   parse_cond   search condition: OR < AND < NOT < predicate, where a
 *                predicate is  x op y | x op ALL|ANY|SOME (query) |
 *                x IS [NOT] NULL | x [NOT] BETWEEN a AND b |
 *                x [NOT] LIKE p [ESCAPE e] | x [NOT] IN (list | query) |
 *                EXISTS (query) | ( search condition )
 *
 * The one ambiguity is '(' in a condition: "(a + b) > c" opens a value,
 * "(a > b OR c = d)" a condition. The parser reads a condition inside the
 * parentheses that may turn out to be a bare value; if it does, the value
 * goes on through the arithmetic levels and must meet a comparison.
 *
 * Unary minus directly on a numeric constant folds into the constant, so
 * -2147483648 is an int as in SQL Server.
 */
#include "sql/parser_int.h"

ast_expr *parse_new_expr(parser *P, ast_expr_kind kind, int line)
{
    ast_expr *e = PARSE_NEW(P, ast_expr);
    e->kind = kind;
    e->line = line;
    e->height = 1;
    return e;
}

/* ------------------------------------------------------------------ height */

static uint32_t hmax(uint32_t a, uint32_t b) { return a > b ? a : b; }
static uint32_t hx(const ast_expr *e) { return e ? e->height : 0; }
static uint32_t hq(const ast_query *q) { return q ? q->height : 0; }

static uint32_t hlist(const ast_expr_list *l)
{
    uint32_t h = 0;
    for (int i = 0; i < l->n; i++)
        h = hmax(h, hx(l->v[i]));
    return h;
}

ast_expr *parse_seal_expr(parser *P, ast_expr *e)
{
    uint32_t h = 0;
    switch (e->kind) {
    case EXPR_UNARY: h = hx(e->u.unary.operand); break;
    case EXPR_BINARY: h = hmax(hx(e->u.binary.left), hx(e->u.binary.right)); break;
    case EXPR_IS_NULL: h = hx(e->u.is_null.operand); break;
    case EXPR_BETWEEN:
        h = hmax(hx(e->u.between.operand), hmax(hx(e->u.between.low), hx(e->u.between.high)));
        break;
    case EXPR_LIKE:
        h = hmax(hx(e->u.like.operand), hmax(hx(e->u.like.pattern), hx(e->u.like.escape)));
        break;
    case EXPR_IN:
        h = hmax(hx(e->u.in.operand), hmax(hlist(&e->u.in.list), hq(e->u.in.subquery)));
        break;
    case EXPR_EXISTS: case EXPR_SUBQUERY: h = hq(e->u.subquery.query); break;
    case EXPR_QUANTIFIED: h = hmax(hx(e->u.quantified.operand), hq(e->u.quantified.query)); break;
    case EXPR_CASE:
        h = hmax(hx(e->u.case_.operand), hx(e->u.case_.else_));
        for (int i = 0; i < e->u.case_.whens.n; i++)
            h = hmax(h, hmax(hx(e->u.case_.whens.v[i]->when), hx(e->u.case_.whens.v[i]->then)));
        break;
    case EXPR_CAST: h = hmax(hx(e->u.cast.operand), hx(e->u.cast.style)); break;
    case EXPR_FUNCTION:
        h = hlist(&e->u.func.args);
        if (e->u.func.over) {
            h = hmax(h, hlist(&e->u.func.over->partition_by));
            for (int i = 0; i < e->u.func.over->order_by.n; i++)
                h = hmax(h, hx(e->u.func.over->order_by.v[i]->expr));
        }
        break;
    case EXPR_COLLATE: h = hx(e->u.collate.operand); break;
    default: break;
    }
    e->height = h + 1;
    if (e->height > AST_MAX_HEIGHT)
        parse_fail(P, e->line, 191);
    return e;
}

/* ------------------------------------------------------------ expressions */

static ast_expr *unary(parser *P);
static ast_expr *additive(parser *P, ast_expr *first);
static ast_expr *cond_or(parser *P);

static ast_expr *binary_node(parser *P, ast_op op, ast_expr *l, ast_expr *r, int line)
{
    ast_expr *e = parse_new_expr(P, EXPR_BINARY, line);
    e->u.binary.op = op;
    e->u.binary.left = l;
    e->u.binary.right = r;
    return parse_seal_expr(P, e);
}

static ast_query *paren_query(parser *P)
{
    parse_expect_op(P, OP_LPAREN);
    ast_query *q = parse_query(P);
    parse_expect_op(P, OP_RPAREN);
    return q;
}

static void expr_list(parser *P, ast_expr_list *out)
{
    do {
        ast_expr *e = parse_expr(P);
        PARSE_PUSH(P, *out, e);
    } while (parse_accept_op(P, OP_COMMA));
}

void parse_order_list(parser *P, ast_order_list *out)
{
    do {
        ast_order_item *o = PARSE_NEW(P, ast_order_item);
        o->expr = parse_expr(P);
        if (parse_accept_kw(P, KW_DESC))
            o->desc = true;
        else
            parse_accept_kw(P, KW_ASC);
        PARSE_PUSH(P, *out, o);
    } while (parse_accept_op(P, OP_COMMA));
}

static ast_window *over_clause(parser *P)
{
    ast_window *w = PARSE_NEW(P, ast_window);
    parse_expect_op(P, OP_LPAREN);
    if (parse_is_word(P, "PARTITION") && parse_is_kw_at(P, 1, KW_BY)) {
        parse_advance(P);
        parse_advance(P);
        expr_list(P, &w->partition_by);
    }
    if (parse_accept_kw(P, KW_ORDER)) {
        parse_expect_kw(P, KW_BY);
        parse_order_list(P, &w->order_by);
    }
    parse_expect_op(P, OP_RPAREN);
    return w;
}

/* CAST(x AS type) / TRY_CAST; CONVERT(type, x [, style]) / TRY_CONVERT. */
static ast_expr *cast_expr(parser *P, bool is_convert, bool is_try)
{
    ast_expr *e = parse_new_expr(P, EXPR_CAST, parse_cur(P)->line);
    e->u.cast.is_convert = is_convert;
    e->u.cast.is_try = is_try;
    parse_advance(P);
    parse_expect_op(P, OP_LPAREN);
    if (is_convert) {
        parse_type(P, &e->u.cast.type, true);
        parse_expect_op(P, OP_COMMA);
        e->u.cast.operand = parse_expr(P);
        if (parse_accept_op(P, OP_COMMA))
            e->u.cast.style = parse_expr(P);
    } else {
        e->u.cast.operand = parse_expr(P);
        parse_expect_kw(P, KW_AS);
        parse_type(P, &e->u.cast.type, true);
    }
    parse_expect_op(P, OP_RPAREN);
    return parse_seal_expr(P, e);
}

/* name ( [DISTINCT|ALL] args | * ) [OVER (...)] — name already read. */
static ast_expr *function_call(parser *P, const ast_objname *name, int line)
{
    ast_expr *e = parse_new_expr(P, EXPR_FUNCTION, line);
    e->u.func.name = *name;
    parse_expect_op(P, OP_LPAREN);
    if (parse_is_op(P, OP_STAR) && parse_is_op_at(P, 1, OP_RPAREN)) {
        parse_advance(P);
        e->u.func.star = true;
    } else if (!parse_is_op(P, OP_RPAREN)) {
        if (parse_accept_kw(P, KW_DISTINCT))
            e->u.func.distinct = true;
        else
            parse_accept_kw(P, KW_ALL);
        bool iif = name->nparts == 1 && strcasecmp(name->object, "IIF") == 0;
        ast_expr *first = iif ? parse_cond(P) : parse_expr(P);
        PARSE_PUSH(P, e->u.func.args, first);
        while (parse_accept_op(P, OP_COMMA)) {
            ast_expr *a = parse_expr(P);
            PARSE_PUSH(P, e->u.func.args, a);
        }
    }
    parse_expect_op(P, OP_RPAREN);
    if (parse_accept_kw(P, KW_OVER))
        e->u.func.over = over_clause(P);
    return parse_seal_expr(P, e);
}

static ast_expr *case_expr(parser *P)
{
    ast_expr *e = parse_new_expr(P, EXPR_CASE, parse_cur(P)->line);
    parse_advance(P);
    bool searched = parse_is_kw(P, KW_WHEN);
    if (!searched)
        e->u.case_.operand = parse_expr(P);
    if (!parse_is_kw(P, KW_WHEN))
        parse_error_near(P);
    while (parse_accept_kw(P, KW_WHEN)) {
        ast_when *w = PARSE_NEW(P, ast_when);
        w->when = searched ? parse_cond(P) : parse_expr(P);
        parse_expect_kw(P, KW_THEN);
        w->then = parse_expr(P);
        PARSE_PUSH(P, e->u.case_.whens, w);
    }
    if (parse_accept_kw(P, KW_ELSE))
        e->u.case_.else_ = parse_expr(P);
    parse_expect_kw(P, KW_END);
    return parse_seal_expr(P, e);
}

/* A column reference or a function call starting with a name. */
static ast_expr *name_expr(parser *P)
{
    int line = parse_cur(P)->line;
    ast_objname on;
    parse_objname(P, &on, 4);
    if (parse_is_op(P, OP_LPAREN)) {
        if (on.nparts > 3)
            parse_error_near_at(P, -1);
        return function_call(P, &on, line);
    }
    ast_expr *e = parse_new_expr(P, EXPR_COLUMN, line);
    e->u.col.name = on.object;
    /* Shift the qualifier: a.b.c.col -> database a, schema b, table c. */
    ast_objname *q = &e->u.col.qual;
    q->object = on.schema;
    q->schema = on.database;
    q->database = on.server;
    q->nparts = on.nparts - 1;
    q->line = line;
    return e;
}

static ast_expr *keyword_function(parser *P, const lex_token *t)
{
    ast_objname on = { 0 };
    on.object = t->text;
    on.nparts = 1;
    on.line = t->line;
    parse_advance(P);
    switch (t->kw) {
    case KW_CURRENT_TIMESTAMP: case KW_CURRENT_USER: case KW_SESSION_USER:
    case KW_SYSTEM_USER: case KW_USER: {
        ast_expr *e = parse_new_expr(P, EXPR_FUNCTION, t->line);
        e->u.func.name = on;
        e->u.func.no_parens = true;
        return e;
    }
    default:
        return function_call(P, &on, t->line);
    }
}

static ast_expr *postfix(parser *P, ast_expr *e)
{
    while (parse_is_kw(P, KW_COLLATE)) {
        ast_expr *c = parse_new_expr(P, EXPR_COLLATE, parse_cur(P)->line);
        parse_advance(P);
        c->u.collate.operand = e;
        c->u.collate.collation = parse_ident(P);
        e = parse_seal_expr(P, c);
    }
    return e;
}

static ast_expr *primary(parser *P)
{
    const lex_token *t = parse_cur(P);
    ast_expr *e;
    switch (t->kind) {
    case TK_INTEGER: case TK_DECIMAL: case TK_FLOAT: case TK_MONEY:
    case TK_STRING: case TK_NSTRING: case TK_BINARY:
        e = parse_literal_token(P, false);
        break;
    case TK_VARIABLE: case TK_SYSVAR:
        e = parse_variable_ref(P);
        break;
    case TK_QIDENT:
        e = name_expr(P);
        break;
    case TK_OP:
        if (t->op != OP_LPAREN)
            parse_error_near(P);
        /* Only "(SELECT" opens a subquery here: "((SELECT 1) + 1)" is a
         * parenthesised value containing one. */
        if (parse_is_kw_at(P, 1, KW_SELECT)) {
            e = parse_new_expr(P, EXPR_SUBQUERY, t->line);
            e->u.subquery.query = paren_query(P);
            parse_seal_expr(P, e);
        } else {
            parse_advance(P);
            e = parse_expr(P);
            parse_expect_op(P, OP_RPAREN);
        }
        break;
    case TK_IDENT:
        switch (t->kw) {
        case KW_NONE:
            if ((strcasecmp(t->text, "CAST") == 0 || strcasecmp(t->text, "TRY_CAST") == 0) &&
                parse_is_op_at(P, 1, OP_LPAREN)) {
                e = cast_expr(P, false, strcasecmp(t->text, "TRY_CAST") == 0);
                break;
            }
            e = name_expr(P);
            break;
        case KW_NULL:
            parse_advance(P);
            e = parse_null_literal(P, t->line);
            break;
        case KW_CASE:
            e = case_expr(P);
            break;
        case KW_CONVERT: case KW_TRY_CONVERT:
            e = cast_expr(P, true, t->kw == KW_TRY_CONVERT);
            break;
        case KW_COALESCE: case KW_NULLIF: case KW_LEFT: case KW_RIGHT:
            if (!parse_is_op_at(P, 1, OP_LPAREN))
                parse_error_near(P);
            e = keyword_function(P, t);
            break;
        case KW_CURRENT_TIMESTAMP: case KW_CURRENT_USER: case KW_SESSION_USER:
        case KW_SYSTEM_USER: case KW_USER:
            e = keyword_function(P, t);
            break;
        default:
            parse_error_near(P);
        }
        break;
    default:
        parse_error_near(P);
    }
    return postfix(P, e);
}

/* Every operand passes through here, whatever nests it (parentheses,
 * function arguments, CASE, CAST, subqueries), so this is where nesting
 * depth is counted. */
static ast_expr *unary(parser *P)
{
    parse_enter(P);
    const lex_token *t = parse_cur(P);
    ast_expr *e;
    if (t->kind == TK_OP && (t->op == OP_MINUS || t->op == OP_PLUS || t->op == OP_TILDE)) {
        const lex_token *n = parse_peek(P, 1);
        if (t->op == OP_MINUS && parse_is_number_token(n)) {
            parse_advance(P);
            e = postfix(P, parse_literal_token(P, true));
        } else {
            parse_advance(P);
            e = parse_new_expr(P, EXPR_UNARY, t->line);
            e->u.unary.op = t->op == OP_MINUS ? AST_OP_NEG : t->op == OP_PLUS ? AST_OP_POS
                                                                              : AST_OP_BITNOT;
            e->u.unary.operand = unary(P);
            parse_seal_expr(P, e);
        }
    } else {
        e = primary(P);
    }
    parse_leave(P);
    return e;
}

static ast_op mul_op(parser *P)
{
    const lex_token *t = parse_cur(P);
    if (t->kind != TK_OP)
        return AST_OP_NONE;
    switch (t->op) {
    case OP_STAR: return AST_OP_MUL;
    case OP_SLASH: return AST_OP_DIV;
    case OP_PERCENT: return AST_OP_MOD;
    default: return AST_OP_NONE;
    }
}

static ast_op add_op(parser *P)
{
    const lex_token *t = parse_cur(P);
    if (t->kind != TK_OP)
        return AST_OP_NONE;
    switch (t->op) {
    case OP_PLUS: return AST_OP_ADD;
    case OP_MINUS: return AST_OP_SUB;
    case OP_AMP: return AST_OP_BITAND;
    case OP_PIPE: return AST_OP_BITOR;
    case OP_CARET: return AST_OP_BITXOR;
    default: return AST_OP_NONE;
    }
}

/* `first`, when given, is an already parsed operand (a parenthesised value
 * met while reading a condition). */
static ast_expr *multiplicative(parser *P, ast_expr *first)
{
    ast_expr *l = first ? first : unary(P);
    ast_op op;
    while ((op = mul_op(P)) != AST_OP_NONE) {
        int line = parse_cur(P)->line;
        parse_advance(P);
        l = binary_node(P, op, l, unary(P), line);
    }
    return l;
}

static ast_expr *additive(parser *P, ast_expr *first)
{
    ast_expr *l = multiplicative(P, first);
    ast_op op;
    while ((op = add_op(P)) != AST_OP_NONE) {
        int line = parse_cur(P)->line;
        parse_advance(P);
        l = binary_node(P, op, l, multiplicative(P, NULL), line);
    }
    return l;
}

ast_expr *parse_expr(parser *P)
{
    return additive(P, NULL);
}

/* ------------------------------------------------------------- conditions */

/* 4145 near the current token (or the last one at the end of the batch). */
static _Noreturn void non_boolean(parser *P)
{
    const lex_token *t = parse_cur(P);
    int idx = P->pos;
    if (t->kind == TK_EOF) {
        for (idx = P->pos - 1; idx > 0 && parse_tok(P, idx)->kind == TK_EOF; idx--)
            ;
        if (idx < 0)
            idx = 0;
    }
    parse_fail(P, parse_tok(P, idx)->line, 4145, parse_token_text(P, idx));
}

static void require_bool(parser *P, const ast_expr *e)
{
    if (!ast_expr_is_predicate(e))
        non_boolean(P);
}

static ast_op cmp_op(parser *P)
{
    const lex_token *t = parse_cur(P);
    if (t->kind != TK_OP)
        return AST_OP_NONE;
    switch (t->op) {
    case OP_EQ: return AST_OP_EQ;
    case OP_NE: return AST_OP_NE;
    case OP_LT: return AST_OP_LT;
    case OP_LE: return AST_OP_LE;
    case OP_GT: return AST_OP_GT;
    case OP_GE: return AST_OP_GE;
    case OP_NLT: return AST_OP_GE;
    case OP_NGT: return AST_OP_LE;
    default: return AST_OP_NONE;
    }
}

/* The predicate operators after a value; returns `left` unchanged when none
 * follows (the caller decides whether a bare value is acceptable). */
static ast_expr *predicate_tail(parser *P, ast_expr *left)
{
    int line = parse_cur(P)->line;
    ast_op op = cmp_op(P);
    if (op != AST_OP_NONE) {
        parse_advance(P);
        if (parse_is_kw(P, KW_ALL) || parse_is_kw(P, KW_ANY) || parse_is_kw(P, KW_SOME)) {
            ast_expr *e = parse_new_expr(P, EXPR_QUANTIFIED, line);
            e->u.quantified.all = parse_is_kw(P, KW_ALL);
            parse_advance(P);
            e->u.quantified.operand = left;
            e->u.quantified.op = op;
            parse_enter(P);
            e->u.quantified.query = paren_query(P);
            parse_leave(P);
            return parse_seal_expr(P, e);
        }
        return binary_node(P, op, left, parse_expr(P), line);
    }
    if (parse_is_kw(P, KW_IS)) {
        parse_advance(P);
        ast_expr *e = parse_new_expr(P, EXPR_IS_NULL, line);
        e->u.is_null.operand = left;
        e->u.is_null.negated = parse_accept_kw(P, KW_NOT);
        parse_expect_kw(P, KW_NULL);
        return parse_seal_expr(P, e);
    }
    bool negated = false;
    if (parse_is_kw(P, KW_NOT) && (parse_is_kw_at(P, 1, KW_BETWEEN) ||
                                   parse_is_kw_at(P, 1, KW_LIKE) ||
                                   parse_is_kw_at(P, 1, KW_IN))) {
        parse_advance(P);
        negated = true;
    }
    if (parse_accept_kw(P, KW_BETWEEN)) {
        ast_expr *e = parse_new_expr(P, EXPR_BETWEEN, line);
        e->u.between.operand = left;
        e->u.between.negated = negated;
        e->u.between.low = parse_expr(P);
        parse_expect_kw(P, KW_AND);
        e->u.between.high = parse_expr(P);
        return parse_seal_expr(P, e);
    }
    if (parse_accept_kw(P, KW_LIKE)) {
        ast_expr *e = parse_new_expr(P, EXPR_LIKE, line);
        e->u.like.operand = left;
        e->u.like.negated = negated;
        e->u.like.pattern = parse_expr(P);
        if (parse_accept_kw(P, KW_ESCAPE))
            e->u.like.escape = parse_expr(P);
        return parse_seal_expr(P, e);
    }
    if (parse_accept_kw(P, KW_IN)) {
        ast_expr *e = parse_new_expr(P, EXPR_IN, line);
        e->u.in.operand = left;
        e->u.in.negated = negated;
        parse_enter(P);
        if (parse_is_kw_at(P, 1, KW_SELECT)) {
            e->u.in.subquery = paren_query(P);
        } else {
            parse_expect_op(P, OP_LPAREN);
            expr_list(P, &e->u.in.list);
            parse_expect_op(P, OP_RPAREN);
        }
        parse_leave(P);
        return parse_seal_expr(P, e);
    }
    return left;
}

static ast_expr *cond_primary(parser *P)
{
    const lex_token *t = parse_cur(P);
    if (t->kind == TK_IDENT && t->kw == KW_EXISTS) {
        parse_advance(P);
        ast_expr *e = parse_new_expr(P, EXPR_EXISTS, t->line);
        parse_enter(P);
        e->u.subquery.query = paren_query(P);
        parse_leave(P);
        return parse_seal_expr(P, e);
    }
    if (t->kind == TK_OP && t->op == OP_LPAREN && !parse_is_kw_at(P, 1, KW_SELECT)) {
        parse_enter(P);
        parse_advance(P);
        ast_expr *inner = cond_or(P);
        parse_expect_op(P, OP_RPAREN);
        parse_leave(P);
        if (ast_expr_is_predicate(inner))
            return inner;
        /* "(a + b) * 2 > c": the parentheses held a value. */
        ast_expr *v = additive(P, postfix(P, inner));
        return predicate_tail(P, v);
    }
    return predicate_tail(P, parse_expr(P));
}

static ast_expr *cond_not(parser *P)
{
    if (parse_is_kw(P, KW_NOT)) {
        int line = parse_cur(P)->line;
        parse_advance(P);
        parse_enter(P);
        ast_expr *operand = cond_not(P);
        require_bool(P, operand);
        parse_leave(P);
        ast_expr *e = parse_new_expr(P, EXPR_UNARY, line);
        e->u.unary.op = AST_OP_NOT;
        e->u.unary.operand = operand;
        return parse_seal_expr(P, e);
    }
    return cond_primary(P);
}

static ast_expr *cond_and(parser *P)
{
    ast_expr *l = cond_not(P);
    while (parse_is_kw(P, KW_AND)) {
        require_bool(P, l);
        int line = parse_cur(P)->line;
        parse_advance(P);
        ast_expr *r = cond_not(P);
        require_bool(P, r);
        l = binary_node(P, AST_OP_AND, l, r, line);
    }
    return l;
}

/* May return a bare value (inside parentheses the caller sorts it out). */
static ast_expr *cond_or(parser *P)
{
    ast_expr *l = cond_and(P);
    while (parse_is_kw(P, KW_OR)) {
        require_bool(P, l);
        int line = parse_cur(P)->line;
        parse_advance(P);
        ast_expr *r = cond_and(P);
        require_bool(P, r);
        l = binary_node(P, AST_OP_OR, l, r, line);
    }
    return l;
}

ast_expr *parse_cond(parser *P)
{
    ast_expr *e = cond_or(P);
    require_bool(P, e);
    return e;
}
