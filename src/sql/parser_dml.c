/*
 * parser_dml.c — queries and data modification.
 *
 *   query      := term { (UNION [ALL] | EXCEPT) term } [ORDER BY ...]
 *                 [OFFSET n ROWS [FETCH {FIRST|NEXT} n ROWS ONLY]]
 *   term       := primary { INTERSECT primary }       (INTERSECT binds tighter)
 *   primary    := select_spec | ( query )
 *   select_spec:= SELECT [ALL|DISTINCT] [TOP (n) [PERCENT] [WITH TIES]] items
 *                 [INTO t] [FROM sources] [WHERE c] [GROUP BY e,..] [HAVING c]
 *   source     := primary_source { join }
 *   join       := [INNER | {LEFT|RIGHT|FULL} [OUTER]] JOIN source ON c
 *               | CROSS JOIN primary_source | {CROSS|OUTER} APPLY primary_source
 *
 * T-SQL nests joins as "A JOIN B JOIN C ON b=c ON a=b": the right operand of
 * a join may itself be a chain of joins that is waiting for its ON clauses,
 * which join_rhs() reads recursively.
 */
#include "sql/parser_int.h"

/* ------------------------------------------------------------------ height */

static uint32_t hmax(uint32_t a, uint32_t b) { return a > b ? a : b; }
static uint32_t hx(const ast_expr *e) { return e ? e->height : 0; }

static uint32_t hlist(const ast_expr_list *l)
{
    uint32_t h = 0;
    for (int i = 0; i < l->n; i++)
        h = hmax(h, hx(l->v[i]));
    return h;
}

static uint32_t hitems(const ast_select_item_list *l)
{
    uint32_t h = 0;
    for (int i = 0; i < l->n; i++)
        h = hmax(h, hx(l->v[i]->expr));
    return h;
}

ast_tableref *parse_seal_tableref(parser *P, ast_tableref *r)
{
    uint32_t h = hlist(&r->args);
    if (r->query)
        h = hmax(h, r->query->height);
    if (r->kind == TREF_JOIN)
        h = hmax(hmax(r->left->height, r->right->height), hx(r->on));
    r->height = h + 1;
    if (r->height > AST_MAX_HEIGHT)
        parse_fail(P, r->line, 191);
    return r;
}

ast_query *parse_seal_query(parser *P, ast_query *q)
{
    uint32_t h = 0;
    if (q->select) {
        const ast_select *s = q->select;
        h = hmax(hx(s->top), hitems(&s->items));
        h = hmax(h, hmax(hx(s->where), hx(s->having)));
        h = hmax(h, hlist(&s->group_by));
        for (int i = 0; i < s->from.n; i++)
            h = hmax(h, s->from.v[i]->height);
    }
    if (q->left)
        h = hmax(h, hmax(q->left->height, q->right->height));
    for (int i = 0; i < q->order_by.n; i++)
        h = hmax(h, hx(q->order_by.v[i]->expr));
    h = hmax(h, hmax(hx(q->offset), hx(q->fetch)));
    for (int i = 0; i < q->ctes.n; i++)
        h = hmax(h, q->ctes.v[i]->query->height);
    q->height = h + 1;
    if (q->height > AST_MAX_HEIGHT)
        parse_fail(P, parse_line_at(P, 0), 191);
    return q;
}

bool parse_starts_query_at(parser *P, int k)
{
    while (parse_is_op_at(P, k, OP_LPAREN))
        k++;
    return parse_is_kw_at(P, k, KW_SELECT);
}

/* ------------------------------------------------------------- TOP, hints */

/* TOP (expr) | TOP constant (SELECT only), [PERCENT], [WITH TIES]. */
static ast_expr *top_clause(parser *P, bool *percent, bool *with_ties, bool is_select)
{
    if (!parse_accept_kw(P, KW_TOP))
        return NULL;
    ast_expr *e;
    if (parse_accept_op(P, OP_LPAREN)) {
        e = parse_expr(P);
        parse_expect_op(P, OP_RPAREN);
    } else {
        const lex_token *t = parse_cur(P);
        if (!is_select || (t->kind != TK_INTEGER && t->kind != TK_DECIMAL && t->kind != TK_FLOAT))
            parse_error_near(P);
        e = parse_literal_token(P, false);
    }
    *percent = parse_accept_kw(P, KW_PERCENT);
    if (with_ties && parse_is_kw(P, KW_WITH) && parse_is_word_at(P, 1, "TIES")) {
        parse_advance(P);
        parse_advance(P);
        *with_ties = true;
    }
    return e;
}

static const char *const table_hints[] = {
    "NOLOCK", "READUNCOMMITTED", "UPDLOCK", "REPEATABLEREAD", "SERIALIZABLE",
    "HOLDLOCK", "READCOMMITTED", "READCOMMITTEDLOCK", "TABLOCK", "TABLOCKX",
    "PAGLOCK", "ROWLOCK", "NOWAIT", "READPAST", "XLOCK", "SNAPSHOT", "NOEXPAND",
    "INDEX", "FORCESEEK", "FORCESCAN", "KEEPIDENTITY", "KEEPDEFAULTS",
    "IGNORE_CONSTRAINTS", "IGNORE_TRIGGERS", NULL
};

static bool is_table_hint(const char *w)
{
    for (int i = 0; table_hints[i]; i++)
        if (strcasecmp(table_hints[i], w) == 0)
            return true;
    return false;
}

/* Hints inside the parentheses (comma or space separated, as SQL Server
 * accepts both): NOLOCK, INDEX(ix, ...), INDEX = ix, FORCESEEK(ix(cols)). */
static void hint_list(parser *P, ast_option_list *out)
{
    parse_expect_op(P, OP_LPAREN);
    do {
        const lex_token *t = parse_cur(P);
        if (!parse_is_anyword_at(P, 0))
            parse_error_near(P);
        if (!is_table_hint(t->text))
            parse_fail(P, t->line, 321, t->text);
        ast_option *o = PARSE_NEW(P, ast_option);
        o->name = parse_upper(P, t->text);
        o->line = t->line;
        parse_advance(P);
        o->equals = parse_is_op(P, OP_EQ);
        if (parse_accept_op(P, OP_EQ)) {
            o->value = parse_expr(P);
        } else if (parse_accept_op(P, OP_LPAREN)) {
            do {
                ast_expr *a = parse_expr(P);
                PARSE_PUSH(P, o->args, a);
                if (parse_is_op(P, OP_LPAREN)) {   /* FORCESEEK(ix(col, ...)) */
                    parse_advance(P);
                    do {
                        ast_expr *c = parse_expr(P);
                        PARSE_PUSH(P, o->args, c);
                    } while (parse_accept_op(P, OP_COMMA));
                    parse_expect_op(P, OP_RPAREN);
                }
            } while (parse_accept_op(P, OP_COMMA));
            parse_expect_op(P, OP_RPAREN);
        }
        PARSE_PUSH(P, *out, o);
        parse_accept_op(P, OP_COMMA);
    } while (!parse_is_op(P, OP_RPAREN));
    parse_advance(P);
}

/* WITH ( hints ) after a table, if present. */
static void with_hints(parser *P, ast_option_list *out)
{
    if (parse_is_kw(P, KW_WITH) && parse_is_op_at(P, 1, OP_LPAREN)) {
        parse_advance(P);
        hint_list(P, out);
    }
}

/* The old form without WITH: "FROM t (NOLOCK)". */
static bool legacy_hints_ahead(parser *P)
{
    return parse_is_op(P, OP_LPAREN) && parse_is_anyword_at(P, 1) &&
           parse_peek(P, 1)->kind == TK_IDENT && is_table_hint(parse_peek(P, 1)->text) &&
           (parse_is_op_at(P, 2, OP_RPAREN) || parse_is_op_at(P, 2, OP_COMMA));
}

void parse_query_hints(parser *P, ast_option_list *out)
{
    if (!parse_accept_kw(P, KW_OPTION))
        return;
    parse_expect_op(P, OP_LPAREN);
    do {
        ast_option *o = PARSE_NEW(P, ast_option);
        o->line = parse_cur(P)->line;
        o->name = parse_upper(P, parse_anyword(P));
        while (parse_is_anyword_at(P, 0))
            o->name = parse_concat(P, o->name, " ", parse_upper(P, parse_anyword(P)));
        o->equals = parse_is_op(P, OP_EQ);
        if (parse_accept_op(P, OP_EQ) || parse_is_simple_value(P))
            o->value = parse_simple_value(P);
        PARSE_PUSH(P, *out, o);
    } while (parse_accept_op(P, OP_COMMA));
    parse_expect_op(P, OP_RPAREN);
}

/* ---------------------------------------------------------- select items */

/* Assignment operator at pos + k: NONE for '=', ADD for '+=', ...; -1 if none. */
static ast_op assign_op_at(parser *P, int k)
{
    const lex_token *t = parse_peek(P, k);
    if (t->kind != TK_OP)
        return (ast_op)-1;
    switch (t->op) {
    case OP_EQ: return AST_OP_NONE;
    case OP_PLUS_EQ: return AST_OP_ADD;
    case OP_MINUS_EQ: return AST_OP_SUB;
    case OP_STAR_EQ: return AST_OP_MUL;
    case OP_SLASH_EQ: return AST_OP_DIV;
    case OP_PERCENT_EQ: return AST_OP_MOD;
    case OP_AMP_EQ: return AST_OP_BITAND;
    case OP_PIPE_EQ: return AST_OP_BITOR;
    case OP_CARET_EQ: return AST_OP_BITXOR;
    default: return (ast_op)-1;
    }
}

static ast_op assign_op(parser *P)
{
    return assign_op_at(P, 0);
}

/* Number of tokens of "a.b.*" at the current position, or 0. */
static int qualified_star_len(parser *P)
{
    if (!parse_is_ident_at(P, 0))
        return 0;
    int i = 1;
    while (parse_is_op_at(P, i, OP_DOT)) {
        if (parse_is_op_at(P, i + 1, OP_STAR))
            return i + 2;
        if (parse_is_ident_at(P, i + 1))
            i += 2;
        else if (parse_is_op_at(P, i + 1, OP_DOT))
            i += 1;
        else
            return 0;
    }
    return 0;
}

static ast_expr *qualified_star(parser *P, int ntok)
{
    const char *parts[8] = { 0 };
    int n = 0;
    int line = parse_cur(P)->line;
    for (int i = 0; i < ntok - 2; i++) {
        const lex_token *t = parse_cur(P);
        if (t->kind == TK_OP) {
            if (parse_is_op_at(P, 1, OP_DOT) && n < 8)
                parts[n++] = NULL;   /* "db..t.*" */
        } else if (n < 8) {
            parts[n++] = t->text;
        }
        parse_advance(P);
    }
    parse_advance(P);   /* . */
    parse_advance(P);   /* * */
    if (n > 3)
        parse_error_near_at(P, -1);
    ast_expr *e = parse_new_expr(P, EXPR_STAR, line);
    ast_objname *q = &e->u.star.qual;
    q->nparts = n;
    q->line = line;
    q->object = parts[n - 1];
    if (n >= 2) q->schema = parts[n - 2];
    if (n >= 3) q->database = parts[n - 3];
    return e;
}

/* [AS] alias after a select item: a name or a string. */
static const char *column_alias(parser *P)
{
    const lex_token *t = parse_cur(P);
    bool as = parse_accept_kw(P, KW_AS);
    t = parse_cur(P);
    if (t->kind == TK_STRING || t->kind == TK_NSTRING) {
        parse_advance(P);
        return parse_string_name(P, t);
    }
    if (parse_is_ident(P)) {
        parse_advance(P);
        return t->text;
    }
    if (as)
        parse_error_near(P);
    return NULL;
}

void parse_select_items(parser *P, ast_select_item_list *out)
{
    do {
        ast_select_item *it = PARSE_NEW(P, ast_select_item);
        const lex_token *t = parse_cur(P);
        int qs;
        if (parse_is_op(P, OP_STAR)) {
            it->expr = parse_new_expr(P, EXPR_STAR, t->line);
            parse_advance(P);
        } else if ((qs = qualified_star_len(P)) > 0) {
            it->expr = qualified_star(P, qs);
        } else if (t->kind == TK_VARIABLE && (int)assign_op_at(P, 1) != -1) {
            /* @v = expr, @v += expr ... */
            it->kind = SELITEM_ASSIGN;
            it->var = t->text;
            parse_var_use(P, t->text, VAR_SCALAR, t->line);
            parse_advance(P);
            it->assign_op = assign_op(P);
            parse_advance(P);
            it->expr = parse_expr(P);
        } else {
            if ((parse_is_ident(P) || t->kind == TK_STRING || t->kind == TK_NSTRING) &&
                parse_is_op_at(P, 1, OP_EQ)) {
                /* alias = expr */
                it->alias = t->kind == TK_STRING || t->kind == TK_NSTRING ? parse_string_name(P, t)
                                                                           : t->text;
                parse_advance(P);
                parse_advance(P);
                it->expr = parse_expr(P);
            } else {
                it->expr = parse_expr(P);
                it->alias = column_alias(P);
            }
        }
        PARSE_PUSH(P, *out, it);
    } while (parse_accept_op(P, OP_COMMA));
}

/* ------------------------------------------------------------ FROM clause */

static ast_tableref *joined(parser *P);

static ast_tableref *new_tref(parser *P, ast_tref_kind kind)
{
    ast_tableref *r = PARSE_NEW(P, ast_tableref);
    r->kind = kind;
    r->line = parse_cur(P)->line;
    return r;
}

static const char *table_alias(parser *P)
{
    if (parse_accept_kw(P, KW_AS))
        return parse_ident(P);
    if (parse_is_ident(P))
        return parse_ident(P);
    return NULL;
}

static void name_list_parens(parser *P, ast_name_list *out)
{
    parse_expect_op(P, OP_LPAREN);
    do {
        const char *n = parse_ident(P);
        PARSE_PUSH(P, *out, n);
    } while (parse_accept_op(P, OP_COMMA));
    parse_expect_op(P, OP_RPAREN);
}

static ast_query *setop(parser *P, ast_query_kind kind, ast_query *l, ast_query *r);

/* UNION ALL of the one-row SELECTs in rows[lo, hi), as a balanced tree so
 * that long constructors stay shallow. */
static ast_query *union_all_of(parser *P, ast_query **rows, int lo, int hi)
{
    if (hi - lo == 1)
        return rows[lo];
    int mid = lo + (hi - lo) / 2;
    return setop(P, QUERY_UNION_ALL, union_all_of(P, rows, lo, mid), union_all_of(P, rows, mid, hi));
}

/* A table value constructor, VALUES (a, b), (c, d): the same rows as
 * SELECT a, b UNION ALL SELECT c, d, which is how it is kept. */
static ast_query *values_constructor(parser *P)
{
    parse_expect_kw(P, KW_VALUES);
    AST_LIST_OF(ast_query) rows = { 0 };
    int width = -1;
    do {
        int line = parse_cur(P)->line;
        ast_query *q = PARSE_NEW(P, ast_query);
        q->kind = QUERY_SELECT;
        q->select = PARSE_NEW(P, ast_select);
        parse_expect_op(P, OP_LPAREN);
        do {
            ast_select_item *it = PARSE_NEW(P, ast_select_item);
            it->kind = SELITEM_EXPR;
            it->expr = parse_expr(P);
            PARSE_PUSH(P, q->select->items, it);
        } while (parse_accept_op(P, OP_COMMA));
        parse_expect_op(P, OP_RPAREN);
        if (width >= 0 && q->select->items.n != width)
            parse_fail(P, line, 10709);
        width = q->select->items.n;
        PARSE_PUSH(P, rows, parse_seal_query(P, q));
    } while (parse_accept_op(P, OP_COMMA));
    return union_all_of(P, rows.v, 0, rows.n);
}

static ast_tableref *table_primary(parser *P)
{
    const lex_token *t = parse_cur(P);
    ast_tableref *r;
    if (t->kind == TK_OP && t->op == OP_LPAREN) {
        parse_enter(P);
        if (parse_is_kw_at(P, 1, KW_VALUES)) {
            r = new_tref(P, TREF_DERIVED);
            parse_advance(P);
            r->query = values_constructor(P);
            parse_expect_op(P, OP_RPAREN);
            parse_accept_kw(P, KW_AS);
            r->alias = parse_ident(P);
            if (parse_is_op(P, OP_LPAREN))
                name_list_parens(P, &r->col_aliases);
        } else if (parse_starts_query_at(P, 1)) {
            r = new_tref(P, TREF_DERIVED);
            parse_advance(P);
            r->query = parse_query(P);
            parse_expect_op(P, OP_RPAREN);
            parse_accept_kw(P, KW_AS);
            r->alias = parse_ident(P);
            if (parse_is_op(P, OP_LPAREN))
                name_list_parens(P, &r->col_aliases);
        } else {
            parse_advance(P);
            r = joined(P);
            parse_expect_op(P, OP_RPAREN);
        }
        parse_leave(P);
        return parse_seal_tableref(P, r);
    }
    if (t->kind == TK_VARIABLE) {
        r = new_tref(P, TREF_VARIABLE);
        r->var = t->text;
        parse_var_use(P, t->text, VAR_TABLE, t->line);
        parse_advance(P);
        r->alias = table_alias(P);
        return r;
    }
    if (t->kind == TK_IDENT && (t->kw == KW_OPENQUERY || t->kw == KW_OPENROWSET ||
                                t->kw == KW_OPENDATASOURCE || t->kw == KW_OPENXML)) {
        /* Pass-through queries to linked servers: a function the binder
         * resolves (or rejects). */
        r = new_tref(P, TREF_FUNCTION);
        r->name.object = parse_upper(P, t->text);
        r->name.nparts = 1;
        parse_advance(P);
    } else {
        r = new_tref(P, TREF_TABLE);
        parse_objname(P, &r->name, 4);
    }
    if (parse_is_op(P, OP_LPAREN) && !legacy_hints_ahead(P)) {
        r->kind = TREF_FUNCTION;
        parse_advance(P);
        if (!parse_is_op(P, OP_RPAREN)) {
            do {
                ast_expr *a = parse_expr(P);
                PARSE_PUSH(P, r->args, a);
            } while (parse_accept_op(P, OP_COMMA));
        }
        parse_expect_op(P, OP_RPAREN);
    }
    if (legacy_hints_ahead(P))
        hint_list(P, &r->hints);
    r->alias = table_alias(P);
    if (legacy_hints_ahead(P))
        hint_list(P, &r->hints);
    with_hints(P, &r->hints);
    return parse_seal_tableref(P, r);
}

/* Consumes a join operator if one is next. */
static bool accept_join(parser *P, ast_join_kind *kind)
{
    int n = 0;
    if (parse_is_kw(P, KW_JOIN)) {
        *kind = JOIN_INNER;
        n = 1;
    } else if (parse_is_kw(P, KW_INNER) && parse_is_kw_at(P, 1, KW_JOIN)) {
        *kind = JOIN_INNER;
        n = 2;
    } else if (parse_is_kw(P, KW_LEFT) || parse_is_kw(P, KW_RIGHT) || parse_is_kw(P, KW_FULL)) {
        *kind = parse_is_kw(P, KW_LEFT) ? JOIN_LEFT : parse_is_kw(P, KW_RIGHT) ? JOIN_RIGHT
                                                                              : JOIN_FULL;
        int k = parse_is_kw_at(P, 1, KW_OUTER) ? 2 : 1;
        if (!parse_is_kw_at(P, k, KW_JOIN))
            parse_error_near_at(P, k);
        n = k + 1;
    } else if (parse_is_kw(P, KW_CROSS)) {
        if (parse_is_kw_at(P, 1, KW_JOIN))
            *kind = JOIN_CROSS;
        else if (parse_is_word_at(P, 1, "APPLY"))
            *kind = JOIN_CROSS_APPLY;
        else
            parse_error_near_at(P, 1);
        n = 2;
    } else if (parse_is_kw(P, KW_OUTER) && parse_is_word_at(P, 1, "APPLY")) {
        *kind = JOIN_OUTER_APPLY;
        n = 2;
    } else {
        return false;
    }
    while (n-- > 0)
        parse_advance(P);
    return true;
}

static ast_tableref *join_node(parser *P, ast_join_kind kind, ast_tableref *l,
                               ast_tableref *r, ast_expr *on)
{
    ast_tableref *j = PARSE_NEW(P, ast_tableref);
    j->kind = TREF_JOIN;
    j->join = kind;
    j->left = l;
    j->right = r;
    j->on = on;
    j->line = l->line;
    return parse_seal_tableref(P, j);
}

static bool needs_on(ast_join_kind k)
{
    return k == JOIN_INNER || k == JOIN_LEFT || k == JOIN_RIGHT || k == JOIN_FULL;
}

static ast_tableref *join_rhs(parser *P)
{
    parse_enter(P);
    ast_tableref *r = table_primary(P);
    ast_join_kind kind;
    for (;;) {
        /* A join met here nests: "A JOIN B JOIN C ON b=c ON a=b". */
        if (!accept_join(P, &kind))
            break;
        if (needs_on(kind)) {
            ast_tableref *r2 = join_rhs(P);
            parse_expect_kw(P, KW_ON);
            r = join_node(P, kind, r, r2, parse_cond(P));
        } else {
            r = join_node(P, kind, r, table_primary(P), NULL);
        }
    }
    parse_leave(P);
    return r;
}

static ast_tableref *joined(parser *P)
{
    ast_tableref *l = table_primary(P);
    ast_join_kind kind;
    while (accept_join(P, &kind)) {
        if (needs_on(kind)) {
            ast_tableref *r = join_rhs(P);
            parse_expect_kw(P, KW_ON);
            l = join_node(P, kind, l, r, parse_cond(P));
        } else {
            l = join_node(P, kind, l, table_primary(P), NULL);
        }
    }
    return l;
}

static void from_list(parser *P, ast_tableref_list *out)
{
    do {
        ast_tableref *r = joined(P);
        PARSE_PUSH(P, *out, r);
    } while (parse_accept_op(P, OP_COMMA));
}

/* ----------------------------------------------------------------- queries */

static ast_select *select_spec(parser *P)
{
    ast_select *s = PARSE_NEW(P, ast_select);
    parse_expect_kw(P, KW_SELECT);
    if (parse_accept_kw(P, KW_DISTINCT))
        s->distinct = true;
    else
        parse_accept_kw(P, KW_ALL);
    s->top = top_clause(P, &s->top_percent, &s->top_with_ties, true);
    parse_select_items(P, &s->items);
    if (parse_accept_kw(P, KW_INTO)) {
        s->into = PARSE_NEW(P, ast_objname);
        parse_objname(P, s->into, 4);
    }
    if (parse_accept_kw(P, KW_FROM))
        from_list(P, &s->from);
    if (parse_accept_kw(P, KW_WHERE))
        s->where = parse_cond(P);
    if (parse_is_kw(P, KW_GROUP)) {
        parse_advance(P);
        parse_expect_kw(P, KW_BY);
        do {
            ast_expr *e = parse_expr(P);
            PARSE_PUSH(P, s->group_by, e);
        } while (parse_accept_op(P, OP_COMMA));
    }
    if (parse_accept_kw(P, KW_HAVING))
        s->having = parse_cond(P);
    return s;
}

static ast_query *setop(parser *P, ast_query_kind kind, ast_query *l, ast_query *r)
{
    ast_query *q = PARSE_NEW(P, ast_query);
    q->kind = kind;
    q->left = l;
    q->right = r;
    return parse_seal_query(P, q);
}

static ast_query *query_primary(parser *P)
{
    if (parse_is_op(P, OP_LPAREN)) {
        parse_enter(P);
        parse_advance(P);
        ast_query *q = parse_query(P);
        parse_expect_op(P, OP_RPAREN);
        q->parens = true;
        parse_leave(P);
        return q;
    }
    ast_query *q = PARSE_NEW(P, ast_query);
    q->kind = QUERY_SELECT;
    q->select = select_spec(P);
    return parse_seal_query(P, q);
}

static ast_query *query_term(parser *P)
{
    ast_query *l = query_primary(P);
    while (parse_accept_kw(P, KW_INTERSECT))
        l = setop(P, QUERY_INTERSECT, l, query_primary(P));
    return l;
}

static bool accept_rows(parser *P)
{
    return parse_accept_word(P, "ROWS") || parse_accept_word(P, "ROW");
}

ast_query *parse_query(parser *P)
{
    ast_query *q = query_term(P);
    for (;;) {
        if (parse_accept_kw(P, KW_UNION)) {
            ast_query_kind k = parse_accept_kw(P, KW_ALL) ? QUERY_UNION_ALL : QUERY_UNION;
            q = setop(P, k, q, query_term(P));
        } else if (parse_accept_kw(P, KW_EXCEPT)) {
            q = setop(P, QUERY_EXCEPT, q, query_term(P));
        } else {
            break;
        }
    }
    if (parse_is_kw(P, KW_ORDER)) {
        /* "(... ORDER BY a) ORDER BY b" would need a second level. */
        if (q->order_by.n)
            parse_error_near(P);
        parse_advance(P);
        parse_expect_kw(P, KW_BY);
        parse_order_list(P, &q->order_by);
        if (parse_is_word(P, "OFFSET")) {
            parse_advance(P);
            q->offset = parse_expr(P);
            if (!accept_rows(P))
                parse_error_near(P);
            if (parse_accept_kw(P, KW_FETCH)) {
                if (!parse_accept_word(P, "NEXT") && !parse_accept_word(P, "FIRST"))
                    parse_error_near(P);
                q->fetch = parse_expr(P);
                if (!accept_rows(P))
                    parse_error_near(P);
                parse_expect_word(P, "ONLY");
            }
            /* 10741: "A TOP can not be used in the same query or sub-query as a OFFSET." */
            if (q->kind == QUERY_SELECT && q->select && q->select->top)
                parse_fail(P, q->offset->line, 10741);
        }
        parse_seal_query(P, q);
    }
    return q;
}

ast_stmt *parse_select_stmt(parser *P)
{
    ast_stmt *s = parse_new_stmt(P, STMT_SELECT);
    s->u.query = parse_query(P);
    parse_query_hints(P, &s->u.query->hints);
    return s;
}

static void cte_list(parser *P, ast_cte_list *out)
{
    parse_expect_kw(P, KW_WITH);
    if (parse_is_word(P, "XMLNAMESPACES"))
        parse_error_near(P);
    do {
        ast_cte *c = PARSE_NEW(P, ast_cte);
        c->name = parse_ident(P);
        if (parse_is_op(P, OP_LPAREN))
            name_list_parens(P, &c->columns);
        parse_expect_kw(P, KW_AS);
        parse_enter(P);
        parse_expect_op(P, OP_LPAREN);
        c->query = parse_query(P);
        parse_expect_op(P, OP_RPAREN);
        parse_leave(P);
        PARSE_PUSH(P, *out, c);
    } while (parse_accept_op(P, OP_COMMA));
}

ast_stmt *parse_with_stmt(parser *P)
{
    int line = parse_cur(P)->line;
    ast_cte_list ctes = { 0 };
    cte_list(P, &ctes);
    ast_stmt *s;
    if (parse_is_kw(P, KW_SELECT) || parse_is_op(P, OP_LPAREN)) {
        s = parse_select_stmt(P);
        s->u.query->ctes = ctes;
        parse_seal_query(P, s->u.query);
    } else if (parse_is_kw(P, KW_INSERT)) {
        s = parse_insert(P, &ctes);
    } else if (parse_is_kw(P, KW_UPDATE)) {
        s = parse_update(P, &ctes);
    } else if (parse_is_kw(P, KW_DELETE)) {
        s = parse_delete(P, &ctes);
    } else if (parse_is_kw(P, KW_MERGE)) {
        s = parse_unsupported(P, "MERGE", false);
    } else {
        parse_error_near(P);
    }
    s->line = line;
    return s;
}

/* ---------------------------------------------------------------------- DML */

/* Target of INSERT / UPDATE / DELETE: a table (with hints) or @table. */
static ast_tableref *dml_target(parser *P)
{
    const lex_token *t = parse_cur(P);
    ast_tableref *r;
    if (t->kind == TK_VARIABLE) {
        r = new_tref(P, TREF_VARIABLE);
        r->var = t->text;
        parse_var_use(P, t->text, VAR_TABLE, t->line);
        parse_advance(P);
        return r;
    }
    r = new_tref(P, TREF_TABLE);
    parse_objname(P, &r->name, 4);
    with_hints(P, &r->hints);
    return r;
}

static ast_output *output_clause(parser *P)
{
    if (!parse_is_word(P, "OUTPUT"))
        return NULL;
    parse_advance(P);
    ast_output *o = PARSE_NEW(P, ast_output);
    parse_select_items(P, &o->items);
    if (parse_accept_kw(P, KW_INTO)) {
        o->into = dml_target(P);
        if (parse_is_op(P, OP_LPAREN) && !parse_starts_query_at(P, 1))
            name_list_parens(P, &o->into_columns);
    }
    return o;
}

/* SQL Server caps a VALUES list at 1000 rows (error 10738). */
#define MAX_VALUES_ROWS 1000

ast_stmt *parse_insert(parser *P, ast_cte_list *ctes)
{
    ast_stmt *s = parse_new_stmt(P, STMT_INSERT);
    ast_insert *ins = &s->u.insert;
    if (ctes)
        ins->ctes = *ctes;
    parse_expect_kw(P, KW_INSERT);
    ins->top = top_clause(P, &ins->top_percent, NULL, false);
    parse_accept_kw(P, KW_INTO);
    ins->target = dml_target(P);
    if (parse_is_op(P, OP_LPAREN) && !parse_starts_query_at(P, 1))
        name_list_parens(P, &ins->columns);
    ins->output = output_clause(P);
    if (parse_accept_kw(P, KW_VALUES)) {
        ins->source = INSERT_VALUES;
        do {
            if (ins->rows.n == MAX_VALUES_ROWS)
                parse_fail(P, parse_line_at(P, 0), 10738);
            ast_expr_list *row = PARSE_NEW(P, ast_expr_list);
            parse_expect_op(P, OP_LPAREN);
            do {
                ast_expr *e;
                if (parse_is_kw(P, KW_DEFAULT)) {
                    e = parse_new_expr(P, EXPR_DEFAULT, parse_cur(P)->line);
                    parse_advance(P);
                } else {
                    e = parse_expr(P);
                }
                PARSE_PUSH(P, *row, e);
            } while (parse_accept_op(P, OP_COMMA));
            parse_expect_op(P, OP_RPAREN);
            PARSE_PUSH(P, ins->rows, row);
        } while (parse_accept_op(P, OP_COMMA));
    } else if (parse_is_kw(P, KW_DEFAULT)) {
        parse_advance(P);
        parse_expect_kw(P, KW_VALUES);
        ins->source = INSERT_DEFAULT_VALUES;
    } else if (parse_is_kw(P, KW_EXEC) || parse_is_kw(P, KW_EXECUTE)) {
        /* EXECUTE AS is a statement of its own, not a source of rows (fuzz
         * find: it was taken as one and printed back as EXECUTE EXECUTE AS) */
        if (parse_is_kw_at(P, 1, KW_AS)) {
            parse_advance(P);
            parse_error_near(P);
        }
        ins->source = INSERT_EXEC;
        ins->exec = parse_exec(P, false);
    } else if (parse_starts_query_at(P, 0)) {
        ins->source = INSERT_QUERY;
        ins->query = parse_query(P);
        parse_query_hints(P, &ins->query->hints);
    } else {
        parse_error_near(P);
    }
    return s;
}

static ast_expr *set_value(parser *P, bool allow_default)
{
    if (allow_default && parse_is_kw(P, KW_DEFAULT)) {
        ast_expr *e = parse_new_expr(P, EXPR_DEFAULT, parse_cur(P)->line);
        parse_advance(P);
        return e;
    }
    return parse_expr(P);
}

static ast_expr *column_target(parser *P)
{
    int line = parse_cur(P)->line;
    ast_objname on;
    parse_objname(P, &on, 4);
    ast_expr *e = parse_new_expr(P, EXPR_COLUMN, line);
    e->u.col.name = on.object;
    e->u.col.qual.object = on.schema;
    e->u.col.qual.schema = on.database;
    e->u.col.qual.database = on.server;
    e->u.col.qual.nparts = on.nparts - 1;
    e->u.col.qual.line = line;
    return e;
}

ast_stmt *parse_update(parser *P, ast_cte_list *ctes)
{
    ast_stmt *s = parse_new_stmt(P, STMT_UPDATE);
    ast_update *u = &s->u.update;
    if (ctes)
        u->ctes = *ctes;
    parse_expect_kw(P, KW_UPDATE);
    u->top = top_clause(P, &u->top_percent, NULL, false);
    u->target = dml_target(P);
    parse_expect_kw(P, KW_SET);
    do {
        ast_set_item *it = PARSE_NEW(P, ast_set_item);
        const lex_token *t = parse_cur(P);
        if (t->kind == TK_VARIABLE) {
            it->var = t->text;
            parse_var_use(P, t->text, VAR_SCALAR, t->line);
            parse_advance(P);
            /* @v = col = expr */
            if (parse_is_op(P, OP_EQ) && parse_is_ident_at(P, 1) && parse_is_op_at(P, 2, OP_EQ)) {
                parse_advance(P);
                it->column = column_target(P);
            }
        } else {
            it->column = column_target(P);
        }
        int op = (int)assign_op(P);
        if (op == -1)
            parse_error_near(P);
        it->op = (ast_op)op;
        parse_advance(P);
        it->value = set_value(P, it->column && !it->var && it->op == AST_OP_NONE);
        PARSE_PUSH(P, u->set, it);
    } while (parse_accept_op(P, OP_COMMA));
    u->output = output_clause(P);
    if (parse_accept_kw(P, KW_FROM))
        from_list(P, &u->from);
    if (parse_accept_kw(P, KW_WHERE)) {
        if (parse_is_kw(P, KW_CURRENT))
            return parse_unsupported(P, "WHERE CURRENT OF", false);
        u->where = parse_cond(P);
    }
    parse_query_hints(P, &u->hints);
    return s;
}

ast_stmt *parse_delete(parser *P, ast_cte_list *ctes)
{
    ast_stmt *s = parse_new_stmt(P, STMT_DELETE);
    ast_delete *d = &s->u.delete_;
    if (ctes)
        d->ctes = *ctes;
    parse_expect_kw(P, KW_DELETE);
    d->top = top_clause(P, &d->top_percent, NULL, false);
    parse_accept_kw(P, KW_FROM);
    d->target = dml_target(P);
    d->output = output_clause(P);
    if (parse_accept_kw(P, KW_FROM))
        from_list(P, &d->from);
    if (parse_accept_kw(P, KW_WHERE)) {
        if (parse_is_kw(P, KW_CURRENT))
            return parse_unsupported(P, "WHERE CURRENT OF", false);
        d->where = parse_cond(P);
    }
    parse_query_hints(P, &d->hints);
    return s;
}
