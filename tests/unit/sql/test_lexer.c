/* Unit tests: the T-SQL lexer (sql/lexer.c). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "sql/lexer.h"

/* Lexes `src` into at most `max` tokens (stopping after EOF or an error). */
static int lex_all(arena *a, const char *src, bool qi, lex_token *out, int max)
{
    lexer lx;
    lex_init(&lx, src, strlen(src), a, qi);
    int n = 0;
    while (n < max) {
        lex_next(&lx, &out[n]);
        n++;
        if (out[n - 1].kind == TK_EOF || out[n - 1].kind == TK_ERROR)
            break;
    }
    return n;
}

/* One token from `src` (which must hold exactly one, then EOF). */
static lex_token one(arena *a, const char *src, bool qi)
{
    lex_token t[3];
    int n = lex_all(a, src, qi, t, 3);
    if (t[0].kind != TK_ERROR) {
        if (n != 2 || t[1].kind != TK_EOF)
            fail_msg("'%s' is not a single token", src);
    }
    return t[0];
}

static void keyword_table_is_sorted(void **state)
{
    (void)state;
    for (int k = KW_NONE + 2; k < KW_COUNT_; k++)
        if (strcmp(lex_keyword_name((lex_kw)(k - 1)), lex_keyword_name((lex_kw)k)) >= 0)
            fail_msg("keyword list out of order at %s", lex_keyword_name((lex_kw)k));
    /* every keyword finds itself, in any case */
    for (int k = KW_NONE + 1; k < KW_COUNT_; k++) {
        const char *w = lex_keyword_name((lex_kw)k);
        assert_int_equal(lex_keyword(w, strlen(w)), k);
        char lower[64];
        size_t n = strlen(w);
        for (size_t i = 0; i <= n; i++)
            lower[i] = (char)((w[i] >= 'A' && w[i] <= 'Z') ? w[i] + 32 : w[i]);
        assert_int_equal(lex_keyword(lower, n), k);
    }
    assert_int_equal(lex_keyword("select", 6), KW_SELECT);
    assert_int_equal(lex_keyword("SeLeCt", 6), KW_SELECT);
    assert_int_equal(lex_keyword("selects", 7), KW_NONE);
    assert_int_equal(lex_keyword("TRY", 3), KW_NONE);       /* not reserved */
    assert_int_equal(lex_keyword("THROW", 5), KW_NONE);
    assert_int_equal(lex_keyword("OFFSET", 6), KW_NONE);
    assert_int_equal(lex_keyword("FILE", 4), KW_FILE);
}

static void identifiers(void **state)
{
    (void)state;
    arena a;
    arena_init(&a, 0);
    lex_token t = one(&a, "Customer_1", true);
    assert_int_equal(t.kind, TK_IDENT);
    assert_int_equal(t.kw, KW_NONE);
    assert_string_equal(t.text, "Customer_1");

    t = one(&a, "select", true);
    assert_int_equal(t.kind, TK_IDENT);
    assert_int_equal(t.kw, KW_SELECT);
    assert_string_equal(t.text, "select");

    t = one(&a, "#temp", true);
    assert_int_equal(t.kind, TK_IDENT);
    assert_string_equal(t.text, "#temp");
    t = one(&a, "##global$x@y", true);
    assert_string_equal(t.text, "##global$x@y");

    t = one(&a, "[a]]b]", true);
    assert_int_equal(t.kind, TK_QIDENT);
    assert_string_equal(t.text, "a]b");

    t = one(&a, "[select]", true);
    assert_int_equal(t.kind, TK_QIDENT);
    assert_int_equal(t.kw, KW_NONE);
    assert_string_equal(t.text, "select");

    t = one(&a, "[with space]", true);
    assert_string_equal(t.text, "with space");

    /* "x" is a name with QUOTED_IDENTIFIER ON, a string with it OFF */
    t = one(&a, "\"a\"\"b\"", true);
    assert_int_equal(t.kind, TK_QIDENT);
    assert_string_equal(t.text, "a\"b");
    t = one(&a, "\"it's\"", false);
    assert_int_equal(t.kind, TK_STRING);
    assert_string_equal(t.text, "it's");

    /* Unicode letters are identifier characters */
    t = one(&a, "Café", true);
    assert_int_equal(t.kind, TK_IDENT);
    assert_string_equal(t.text, "Café");
    arena_destroy(&a);
}

static void variables(void **state)
{
    (void)state;
    arena a;
    arena_init(&a, 0);
    lex_token t = one(&a, "@my_var", true);
    assert_int_equal(t.kind, TK_VARIABLE);
    assert_string_equal(t.text, "@my_var");
    t = one(&a, "@@TRANCOUNT", true);
    assert_int_equal(t.kind, TK_SYSVAR);
    assert_string_equal(t.text, "@@TRANCOUNT");
    t = one(&a, "@@spid", true);
    assert_int_equal(t.kind, TK_SYSVAR);
    /* A lone @ starts nothing */
    t = one(&a, "@", true);
    assert_int_equal(t.kind, TK_OP);
    assert_int_equal(t.op, OP_OTHER);
    arena_destroy(&a);
}

static void strings(void **state)
{
    (void)state;
    arena a;
    arena_init(&a, 0);
    lex_token t = one(&a, "'it''s'", true);
    assert_int_equal(t.kind, TK_STRING);
    assert_string_equal(t.text, "it's");
    assert_int_equal(t.text_len, 4);

    t = one(&a, "N'it''s'", true);
    assert_int_equal(t.kind, TK_NSTRING);
    assert_string_equal(t.text, "it's");
    t = one(&a, "n'x'", true);
    assert_int_equal(t.kind, TK_NSTRING);

    t = one(&a, "''", true);
    assert_int_equal(t.kind, TK_STRING);
    assert_int_equal(t.text_len, 0);

    t = one(&a, "''''", true);
    assert_string_equal(t.text, "'");

    /* N followed by a space is a name then a string */
    lex_token ts[4];
    int n = lex_all(&a, "N 'x'", true, ts, 4);
    assert_int_equal(n, 3);
    assert_int_equal(ts[0].kind, TK_IDENT);
    assert_int_equal(ts[1].kind, TK_STRING);

    /* strings span lines; the line count goes on after them */
    n = lex_all(&a, "'a\nb\nc' x", true, ts, 4);
    assert_int_equal(ts[0].kind, TK_STRING);
    assert_string_equal(ts[0].text, "a\nb\nc");
    assert_int_equal(ts[0].line, 1);
    assert_int_equal(ts[1].line, 3);
    arena_destroy(&a);
}

static void numbers(void **state)
{
    (void)state;
    arena a;
    arena_init(&a, 0);
    struct { const char *src; lex_kind kind; const char *text; } cases[] = {
        { "42", TK_INTEGER, "42" },
        { "007", TK_INTEGER, "007" },
        { "1.5", TK_DECIMAL, "1.5" },
        { ".5", TK_DECIMAL, ".5" },
        { "5.", TK_DECIMAL, "5." },
        { "1.5e-3", TK_FLOAT, "1.5e-3" },
        { "1E10", TK_FLOAT, "1E10" },
        { "2.e+5", TK_FLOAT, "2.e+5" },
        { "$12.5", TK_MONEY, "12.5" },
        { "$.25", TK_MONEY, ".25" },
        { "0xABCD", TK_BINARY, "ABCD" },
        { "0x", TK_BINARY, "" },
        { "0Xff", TK_BINARY, "ff" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        lex_token t = one(&a, cases[i].src, true);
        if (t.kind != cases[i].kind)
            fail_msg("%s: kind %d, expected %d", cases[i].src, t.kind, cases[i].kind);
        assert_string_equal(t.text, cases[i].text);
    }
    /* a number glued to a word is two tokens, as in SQL Server ("10MB") */
    lex_token ts[4];
    int n = lex_all(&a, "10MB", true, ts, 4);
    assert_int_equal(n, 3);
    assert_int_equal(ts[0].kind, TK_INTEGER);
    assert_int_equal(ts[1].kind, TK_IDENT);
    assert_string_equal(ts[1].text, "MB");
    /* money takes no exponent */
    n = lex_all(&a, "$1e5", true, ts, 4);
    assert_int_equal(ts[0].kind, TK_MONEY);
    assert_int_equal(ts[1].kind, TK_IDENT);
    arena_destroy(&a);
}

static void comments_and_lines(void **state)
{
    (void)state;
    arena a;
    arena_init(&a, 0);
    lex_token ts[8];
    int n = lex_all(&a, "-- one\r\n/* two /* nested */ still\r\n */ x -- y\r\nz", true, ts, 8);
    assert_int_equal(n, 3);
    assert_string_equal(ts[0].text, "x");
    assert_int_equal(ts[0].line, 3);
    assert_string_equal(ts[1].text, "z");
    assert_int_equal(ts[1].line, 4);

    /* "--" inside an expression starts a comment; "- -" does not */
    n = lex_all(&a, "1--2", true, ts, 8);
    assert_int_equal(n, 2);
    n = lex_all(&a, "1- -2", true, ts, 8);
    assert_int_equal(n, 5);

    /* a comment ending exactly at the end of the batch */
    n = lex_all(&a, "x/**/", true, ts, 8);
    assert_int_equal(n, 2);
    arena_destroy(&a);
}

static void operators(void **state)
{
    (void)state;
    arena a;
    arena_init(&a, 0);
    const char *src = "( ) , ; . : :: = <> != < <= > >= !< !> + - * / % & | ^ ~ "
                      "+= -= *= /= %= &= |= ^=";
    lex_op expect[] = {
        OP_LPAREN, OP_RPAREN, OP_COMMA, OP_SEMI, OP_DOT, OP_COLON, OP_DCOLON, OP_EQ,
        OP_NE, OP_NE, OP_LT, OP_LE, OP_GT, OP_GE, OP_NLT, OP_NGT, OP_PLUS, OP_MINUS,
        OP_STAR, OP_SLASH, OP_PERCENT, OP_AMP, OP_PIPE, OP_CARET, OP_TILDE,
        OP_PLUS_EQ, OP_MINUS_EQ, OP_STAR_EQ, OP_SLASH_EQ, OP_PERCENT_EQ, OP_AMP_EQ,
        OP_PIPE_EQ, OP_CARET_EQ,
    };
    size_t ne = sizeof expect / sizeof expect[0];
    lex_token ts[64];
    int n = lex_all(&a, src, true, ts, 64);
    assert_int_equal(n, (int)ne + 1);
    for (size_t i = 0; i < ne; i++) {
        assert_int_equal(ts[i].kind, TK_OP);
        if (ts[i].op != expect[i])
            fail_msg("operator %zu: got %s", i, lex_op_text(ts[i].op));
    }
    /* characters that start nothing */
    lex_token t = one(&a, "{", true);
    assert_int_equal(t.op, OP_OTHER);
    assert_string_equal(t.text, "{");
    arena_destroy(&a);
}

static void spans(void **state)
{
    (void)state;
    arena a;
    arena_init(&a, 0);
    lex_token ts[8];
    const char *src = "SELECT [a b], N'x'";
    lex_all(&a, src, true, ts, 8);
    assert_int_equal(ts[1].offset, 7);
    assert_int_equal(ts[1].len, 5);
    assert_int_equal(ts[3].offset, 14);
    assert_int_equal(ts[3].len, 4);
    arena_destroy(&a);
}

static void expect_error(const char *src, bool qi, int number, int line, const char *msg)
{
    arena a;
    arena_init(&a, 0);
    lex_token ts[16];
    int n = lex_all(&a, src, qi, ts, 16);
    lex_token *t = &ts[n - 1];
    if (t->kind != TK_ERROR)
        fail_msg("'%s' lexed without error", src);
    assert_non_null(t->err);
    assert_int_equal(t->err->number, number);
    assert_int_equal(t->err->severity, 15);
    assert_int_equal(t->line, line);
    if (msg)
        assert_string_equal(t->err->msg, msg);
    arena_destroy(&a);
}

static void unterminated(void **state)
{
    (void)state;
    expect_error("SELECT 'abc", true, 105, 1,
                 "Unclosed quotation mark after the character string 'abc'.");
    expect_error("SELECT 1\nSELECT N'it''s\nmore", true, 105, 2,
                 "Unclosed quotation mark after the character string 'it's\nmore'.");
    expect_error("SELECT [abc", true, 105, 1,
                 "Unclosed quotation mark after the character string 'abc'.");
    expect_error("SELECT \"abc", true, 105, 1,
                 "Unclosed quotation mark after the character string 'abc'.");
    expect_error("SELECT \"abc", false, 105, 1, NULL);
    expect_error("SELECT 'x''", true, 105, 1,
                 "Unclosed quotation mark after the character string 'x''.");
    expect_error("x\n/* a /* b */ c", true, 113, 2, "Missing end comment mark '*/'.");
    expect_error("/*", true, 113, 1, NULL);
    expect_error("SELECT []", true, 1038, 1, NULL);
    expect_error("SELECT \"\"", true, 1038, 1, NULL);
}

static void identifier_length(void **state)
{
    (void)state;
    arena a;
    arena_init(&a, 0);
    char name[300];
    memset(name, 'a', 128);
    name[128] = '\0';
    lex_token t = one(&a, name, true);
    assert_int_equal(t.kind, TK_IDENT);

    memset(name, 'a', 129);
    name[129] = '\0';
    char msg[400];
    snprintf(msg, sizeof msg, "The identifier that starts with '%.128s' is too long. "
                              "Maximum length is 128.", name);
    expect_error(name, true, 103, 1, msg);

    /* length counts characters, not bytes: 128 two-byte letters are fine */
    char wide[600] = "[";
    for (int i = 0; i < 128; i++)
        strcat(wide, "é");
    strcat(wide, "]");
    t = one(&a, wide, true);
    assert_int_equal(t.kind, TK_QIDENT);
    arena_destroy(&a);
}

static void needs_quotes(void **state)
{
    (void)state;
    assert_false(lex_ident_needs_quotes("abc"));
    assert_false(lex_ident_needs_quotes("_a1$"));
    assert_false(lex_ident_needs_quotes("#t"));
    assert_true(lex_ident_needs_quotes("select"));
    assert_true(lex_ident_needs_quotes("a b"));
    assert_true(lex_ident_needs_quotes("1a"));
    assert_true(lex_ident_needs_quotes(""));
    assert_true(lex_ident_needs_quotes("a]"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(keyword_table_is_sorted),
        cmocka_unit_test(identifiers),
        cmocka_unit_test(variables),
        cmocka_unit_test(strings),
        cmocka_unit_test(numbers),
        cmocka_unit_test(comments_and_lines),
        cmocka_unit_test(operators),
        cmocka_unit_test(spans),
        cmocka_unit_test(unterminated),
        cmocka_unit_test(identifier_length),
        cmocka_unit_test(needs_quotes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
