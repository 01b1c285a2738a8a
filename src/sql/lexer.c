/*
 * lexer.c — T-SQL tokenizer (see lexer.h for what it recognises).
 *
 * Byte-oriented over UTF-8: every byte >= 0x80 counts as a letter, which is
 * what SQL Server does with Unicode letters in identifiers and is harmless for
 * the rest (such bytes cannot start anything else). Only '\n' ends a line, so
 * CRLF and LF text get the same line numbers.
 */
#include "sql/lexer.h"

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

static const char *const kw_names[KW_COUNT_] = {
    [KW_NONE] = "",
#define LEX_KW_NAME(w) [KW_##w] = #w,
    LEX_RESERVED_WORDS(LEX_KW_NAME)
#undef LEX_KW_NAME
};

const char *lex_keyword_name(lex_kw kw)
{
    return (kw > KW_NONE && kw < KW_COUNT_) ? kw_names[kw] : "";
}

/* Keywords are looked up by a hash of the upper-cased word, built once: a
 * binary search over the list (kept in strcmp order, a unit test checks it)
 * cost a tenth of the lexing of a short statement. */
#define KW_HASH_SLOTS 1024                     /* power of two, > 4 * KW_COUNT_ */
static uint16_t kw_hash[KW_HASH_SLOTS];        /* keyword + 1, 0 = empty */
static uint8_t kw_len[KW_COUNT_];
_Static_assert(KW_COUNT_ * 4 < KW_HASH_SLOTS, "keyword hash too full");
static pthread_once_t kw_hash_once = PTHREAD_ONCE_INIT;

static uint32_t kw_hash_of(const char *upper, size_t len)
{
    uint32_t h = 2166136261u;                  /* FNV-1a */
    for (size_t i = 0; i < len; i++)
        h = (h ^ (unsigned char)upper[i]) * 16777619u;
    return h;
}

static void kw_hash_build(void)
{
    for (int k = KW_NONE + 1; k < KW_COUNT_; k++) {
        kw_len[k] = (uint8_t)strlen(kw_names[k]);
        uint32_t h = kw_hash_of(kw_names[k], kw_len[k]);
        while (kw_hash[h & (KW_HASH_SLOTS - 1)])
            h++;
        kw_hash[h & (KW_HASH_SLOTS - 1)] = (uint16_t)(k + 1);
    }
}

lex_kw lex_keyword(const char *word, size_t len)
{
    if (len == 0 || len > 32)
        return KW_NONE;
    pthread_once(&kw_hash_once, kw_hash_build);
    char up[33];
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)word[i];
        up[i] = (char)(c >= 'a' && c <= 'z' ? c - 'a' + 'A' : c);
    }
    for (uint32_t h = kw_hash_of(up, len);; h++) {
        int k = kw_hash[h & (KW_HASH_SLOTS - 1)];
        if (!k)
            return KW_NONE;
        if (kw_len[k - 1] == len && memcmp(kw_names[k - 1], up, len) == 0)
            return (lex_kw)(k - 1);
    }
}

static const char *const op_texts[] = {
    [OP_NONE] = "", [OP_LPAREN] = "(", [OP_RPAREN] = ")", [OP_COMMA] = ",",
    [OP_SEMI] = ";", [OP_DOT] = ".", [OP_COLON] = ":", [OP_DCOLON] = "::",
    [OP_EQ] = "=", [OP_NE] = "<>", [OP_LT] = "<", [OP_LE] = "<=", [OP_GT] = ">",
    [OP_GE] = ">=", [OP_NLT] = "!<", [OP_NGT] = "!>", [OP_PLUS] = "+",
    [OP_MINUS] = "-", [OP_STAR] = "*", [OP_SLASH] = "/", [OP_PERCENT] = "%",
    [OP_AMP] = "&", [OP_PIPE] = "|", [OP_CARET] = "^", [OP_TILDE] = "~",
    [OP_PLUS_EQ] = "+=", [OP_MINUS_EQ] = "-=", [OP_STAR_EQ] = "*=",
    [OP_SLASH_EQ] = "/=", [OP_PERCENT_EQ] = "%=", [OP_AMP_EQ] = "&=",
    [OP_PIPE_EQ] = "|=", [OP_CARET_EQ] = "^=", [OP_OTHER] = "?",
};

const char *lex_op_text(lex_op op)
{
    return (op >= OP_NONE && op <= OP_OTHER) ? op_texts[op] : "";
}

static bool is_space(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

static size_t utf8_chars_n(const char *s, size_t n)
{
    size_t c = 0;
    for (size_t i = 0; i < n; i++)
        if (((unsigned char)s[i] & 0xC0) != 0x80)
            c++;
    return c;
}

bool lex_is_word(const char *s, size_t n)
{
    if (n == 0 || !lex_is_ident_start((unsigned char)s[0]))
        return false;
    for (size_t i = 1; i < n; i++)
        if (!lex_is_ident_char((unsigned char)s[i]))
            return false;
    return utf8_chars_n(s, n) <= LEX_MAX_IDENT;
}

bool lex_ident_needs_quotes(const char *name)
{
    size_t n = strlen(name);
    return !lex_is_word(name, n) || lex_keyword(name, n) != KW_NONE;
}

/* Characters (not bytes) in UTF-8 text: count every byte but continuations. */
static size_t utf8_chars(const char *s, size_t n)
{
    size_t c = 0;
    for (size_t i = 0; i < n; i++)
        if (((unsigned char)s[i] & 0xC0) != 0x80)
            c++;
    return c;
}

/* Byte length of the first `chars` characters of s[0..n). */
static size_t utf8_prefix(const char *s, size_t n, size_t chars)
{
    size_t i = 0, c = 0;
    while (i < n) {
        if (((unsigned char)s[i] & 0xC0) != 0x80) {
            if (c == chars)
                break;
            c++;
        }
        i++;
    }
    return i;
}

void lex_init(lexer *lx, const char *src, size_t len, arena *a, bool quoted_identifier)
{
    lx->src = src;
    /* Offsets are 32-bit; a TDS batch is far below 4 GiB. */
    lx->len = len > UINT32_MAX ? UINT32_MAX : len;
    lx->pos = 0;
    lx->line = 1;
    lx->quoted_identifier = quoted_identifier;
    lx->a = a;
    lx->oom = false;
}

void lex_rewind(lexer *lx, size_t pos, int line)
{
    lx->pos = pos > lx->len ? lx->len : pos;
    lx->line = line;
}

static void set_error(lexer *lx, lex_token *t, int number, ...)
{
    t->kind = TK_ERROR;
    t->err = arena_calloc(lx->a, sizeof(hdb_err));
    if (!t->err) {
        lx->oom = true;
        return;
    }
    va_list ap;
    va_start(ap, number);
    hdb_vraise(t->err, number, ap);
    va_end(ap);
}

static void set_oom(lexer *lx, lex_token *t)
{
    lx->oom = true;
    t->kind = TK_ERROR;
    t->err = NULL;   /* the parser reports 701 */
}

/* Skips white space and comments. Returns false (and fills an error token)
 * on an unterminated block comment. */
static bool skip_space(lexer *lx, lex_token *t)
{
    const char *s = lx->src;
    while (lx->pos < lx->len) {
        unsigned char c = (unsigned char)s[lx->pos];
        if (is_space(c)) {
            if (c == '\n')
                lx->line++;
            lx->pos++;
        } else if (c == '-' && lx->pos + 1 < lx->len && s[lx->pos + 1] == '-') {
            while (lx->pos < lx->len && s[lx->pos] != '\n')
                lx->pos++;
        } else if (c == '/' && lx->pos + 1 < lx->len && s[lx->pos + 1] == '*') {
            /* Block comments nest, as in SQL Server: an inner opener needs its
             * own closer before the comment ends. */
            int depth = 0;
            int start_line = lx->line;
            while (lx->pos < lx->len) {
                if (s[lx->pos] == '/' && lx->pos + 1 < lx->len && s[lx->pos + 1] == '*') {
                    depth++;
                    lx->pos += 2;
                } else if (s[lx->pos] == '*' && lx->pos + 1 < lx->len && s[lx->pos + 1] == '/') {
                    depth--;
                    lx->pos += 2;
                    if (depth == 0)
                        break;
                } else {
                    if (s[lx->pos] == '\n')
                        lx->line++;
                    lx->pos++;
                }
            }
            if (depth > 0) {
                t->line = start_line;
                set_error(lx, t, 113);
                return false;
            }
        } else {
            break;
        }
    }
    return true;
}

/* Reads a quoted run ending at `close`, where a doubled `close` stands for
 * one. On return lx->pos is past the closing character; the decoded text is
 * in the arena. Returns false when the batch ends first (decoded text so far
 * is still returned, for the 105 message). */
static bool read_quoted(lexer *lx, char close, const char **text, uint32_t *text_len)
{
    const char *s = lx->src;
    size_t start = lx->pos;
    /* Decoded text is never longer than the source run. */
    size_t end = start;
    bool closed = false;
    while (end < lx->len) {
        if (s[end] == close) {
            if (end + 1 < lx->len && s[end + 1] == close) {
                end += 2;
                continue;
            }
            closed = true;
            break;
        }
        end++;
    }
    char *out = arena_alloc(lx->a, end - start + 1);
    if (!out) {
        lx->oom = true;
        *text = "";
        *text_len = 0;
        lx->pos = end;
        return false;
    }
    size_t o = 0;
    for (size_t i = start; i < end; i++) {
        if (s[i] == '\n')
            lx->line++;
        out[o++] = s[i];
        if (s[i] == close)
            i++;   /* skip the second of a doubled pair */
    }
    out[o] = '\0';
    *text = out;
    *text_len = (uint32_t)o;
    lx->pos = closed ? end + 1 : end;
    return closed;
}

static void lex_string(lexer *lx, lex_token *t, lex_kind kind, char quote)
{
    if (!read_quoted(lx, quote, &t->text, &t->text_len)) {
        if (lx->oom)
            set_oom(lx, t);
        else
            set_error(lx, t, 105, t->text);
        return;
    }
    t->kind = kind;
}

static void lex_quoted_ident(lexer *lx, lex_token *t, char close)
{
    if (!read_quoted(lx, close, &t->text, &t->text_len)) {
        if (lx->oom)
            set_oom(lx, t);
        else
            set_error(lx, t, 105, t->text);
        return;
    }
    t->kind = TK_QIDENT;
    if (t->text_len == 0) {
        set_error(lx, t, 1038);
        return;
    }
    size_t chars = utf8_chars(t->text, t->text_len);
    if (chars > LEX_MAX_IDENT) {
        int pre = (int)utf8_prefix(t->text, t->text_len, LEX_MAX_IDENT);
        set_error(lx, t, 103, "identifier", pre, t->text, LEX_MAX_IDENT);
    }
}

static bool copy_text(lexer *lx, lex_token *t, size_t from, size_t to)
{
    char *p = arena_strndup(lx->a, lx->src + from, to - from);
    if (!p)
        return false;
    t->text = p;
    t->text_len = (uint32_t)(to - from);
    return true;
}

static void lex_word(lexer *lx, lex_token *t, size_t start, lex_kind kind)
{
    const char *s = lx->src;
    while (lx->pos < lx->len && lex_is_ident_char((unsigned char)s[lx->pos]))
        lx->pos++;
    if (!copy_text(lx, t, start, lx->pos)) {
        set_oom(lx, t);
        return;
    }
    t->kind = kind;
    if (utf8_chars(t->text, t->text_len) > LEX_MAX_IDENT) {
        int pre = (int)utf8_prefix(t->text, t->text_len, LEX_MAX_IDENT);
        set_error(lx, t, 103, "identifier", pre, t->text, LEX_MAX_IDENT);
        return;
    }
    if (kind == TK_IDENT)
        t->kw = lex_keyword(t->text, t->text_len);
}

static void lex_number(lexer *lx, lex_token *t, size_t start, bool money)
{
    const char *s = lx->src;
    size_t p = lx->pos;
    lex_kind kind = TK_INTEGER;
    while (p < lx->len && lex_is_digit((unsigned char)s[p]))
        p++;
    if (p < lx->len && s[p] == '.') {
        kind = TK_DECIMAL;
        p++;
        while (p < lx->len && lex_is_digit((unsigned char)s[p]))
            p++;
    }
    /* Money constants take no exponent: "$1e5" is $1 followed by e5. */
    if (!money && p < lx->len && (s[p] == 'e' || s[p] == 'E')) {
        kind = TK_FLOAT;
        p++;
        if (p < lx->len && (s[p] == '+' || s[p] == '-'))
            p++;
        while (p < lx->len && lex_is_digit((unsigned char)s[p]))
            p++;
    }
    lx->pos = p;
    if (!copy_text(lx, t, start, p)) {
        set_oom(lx, t);
        return;
    }
    t->kind = money ? TK_MONEY : kind;
}

static void lex_op_tok(lexer *lx, lex_token *t, lex_op op, size_t n)
{
    t->kind = TK_OP;
    t->op = op;
    lx->pos += n;
}

/* End of a virtual column name (%%letters%%: %%physloc%%, %%lockres%%)
 * starting at `start`, or 0. Nothing else can start with %%: a modulo's
 * right operand cannot start with %. */
static size_t virtual_column_end(const lexer *lx, size_t start)
{
    size_t p = start + 2;
    while (p < lx->len && p - start < LEX_MAX_IDENT - 2 &&   /* %%name%% is at most 128 characters */
           ((((unsigned char)lx->src[p] | 0x20) >= 'a' && ((unsigned char)lx->src[p] | 0x20) <= 'z') ||
            lx->src[p] == '_'))
        p++;
    if (p == start + 2 || p + 1 >= lx->len || lx->src[p] != '%' || lx->src[p + 1] != '%')
        return 0;
    return p + 2;
}

void lex_next(lexer *lx, lex_token *t)
{
    memset(t, 0, sizeof *t);
    t->text = "";
    if (lx->oom) {
        t->line = lx->line;
        set_oom(lx, t);
        return;
    }
    if (!skip_space(lx, t)) {
        t->offset = (uint32_t)lx->pos;
        t->end_line = lx->line;
        return;
    }
    const char *s = lx->src;
    size_t start = lx->pos;
    t->line = lx->line;
    t->offset = (uint32_t)start;
    if (start >= lx->len) {
        t->kind = TK_EOF;
        t->end_line = lx->line;
        return;
    }
    unsigned char c = (unsigned char)s[start];
    unsigned char n1 = start + 1 < lx->len ? (unsigned char)s[start + 1] : 0;
    unsigned char n2 = start + 2 < lx->len ? (unsigned char)s[start + 2] : 0;

    if ((c == 'N' || c == 'n') && n1 == '\'') {
        lx->pos += 2;
        lex_string(lx, t, TK_NSTRING, '\'');
    } else if (lex_is_ident_start(c)) {
        lx->pos++;
        lex_word(lx, t, start, TK_IDENT);
    } else if (c == '[') {
        lx->pos++;
        lex_quoted_ident(lx, t, ']');
    } else if (c == '"') {
        lx->pos++;
        if (lx->quoted_identifier)
            lex_quoted_ident(lx, t, '"');
        else
            lex_string(lx, t, TK_STRING, '"');
    } else if (c == '\'') {
        lx->pos++;
        lex_string(lx, t, TK_STRING, '\'');
    } else if (c == '@' && n1 == '@' && lex_is_ident_char(n2)) {
        lx->pos += 2;
        lex_word(lx, t, start, TK_SYSVAR);
    } else if (c == '@' && lex_is_ident_char(n1)) {
        lx->pos++;
        lex_word(lx, t, start, TK_VARIABLE);
    } else if (c == '0' && (n1 == 'x' || n1 == 'X')) {
        size_t p = start + 2;
        while (p < lx->len && lex_is_hex((unsigned char)s[p]))
            p++;
        lx->pos = p;
        if (copy_text(lx, t, start + 2, p))
            t->kind = TK_BINARY;
        else
            set_oom(lx, t);
    } else if (lex_is_digit(c) || (c == '.' && lex_is_digit(n1))) {
        lex_number(lx, t, start, false);
    } else if (c == '$' && (lex_is_digit(n1) || (n1 == '.' && lex_is_digit(n2)))) {
        lx->pos++;
        lex_number(lx, t, start + 1, true);
    } else if (c == '%' && n1 == '%' && virtual_column_end(lx, start) > start) {
        /* %%physloc%% and its kind: one identifier token, text as written */
        size_t end = virtual_column_end(lx, start);
        lx->pos = end;
        if (copy_text(lx, t, start, end))
            t->kind = TK_IDENT;
        else
            set_oom(lx, t);
    } else {
        switch (c) {
        case '(': lex_op_tok(lx, t, OP_LPAREN, 1); break;
        case ')': lex_op_tok(lx, t, OP_RPAREN, 1); break;
        case ',': lex_op_tok(lx, t, OP_COMMA, 1); break;
        case ';': lex_op_tok(lx, t, OP_SEMI, 1); break;
        case '.': lex_op_tok(lx, t, OP_DOT, 1); break;
        case ':':
            if (n1 == ':') lex_op_tok(lx, t, OP_DCOLON, 2);
            else lex_op_tok(lx, t, OP_COLON, 1);
            break;
        case '=': lex_op_tok(lx, t, OP_EQ, 1); break;
        case '<':
            if (n1 == '=') lex_op_tok(lx, t, OP_LE, 2);
            else if (n1 == '>') lex_op_tok(lx, t, OP_NE, 2);
            else lex_op_tok(lx, t, OP_LT, 1);
            break;
        case '>':
            if (n1 == '=') lex_op_tok(lx, t, OP_GE, 2);
            else lex_op_tok(lx, t, OP_GT, 1);
            break;
        case '!':
            if (n1 == '=') lex_op_tok(lx, t, OP_NE, 2);
            else if (n1 == '<') lex_op_tok(lx, t, OP_NLT, 2);
            else if (n1 == '>') lex_op_tok(lx, t, OP_NGT, 2);
            else lex_op_tok(lx, t, OP_OTHER, 1);
            break;
        case '+': lex_op_tok(lx, t, n1 == '=' ? OP_PLUS_EQ : OP_PLUS, n1 == '=' ? 2 : 1); break;
        case '-': lex_op_tok(lx, t, n1 == '=' ? OP_MINUS_EQ : OP_MINUS, n1 == '=' ? 2 : 1); break;
        case '*': lex_op_tok(lx, t, n1 == '=' ? OP_STAR_EQ : OP_STAR, n1 == '=' ? 2 : 1); break;
        case '/': lex_op_tok(lx, t, n1 == '=' ? OP_SLASH_EQ : OP_SLASH, n1 == '=' ? 2 : 1); break;
        case '%': lex_op_tok(lx, t, n1 == '=' ? OP_PERCENT_EQ : OP_PERCENT, n1 == '=' ? 2 : 1); break;
        case '&': lex_op_tok(lx, t, n1 == '=' ? OP_AMP_EQ : OP_AMP, n1 == '=' ? 2 : 1); break;
        case '|': lex_op_tok(lx, t, n1 == '=' ? OP_PIPE_EQ : OP_PIPE, n1 == '=' ? 2 : 1); break;
        case '^': lex_op_tok(lx, t, n1 == '=' ? OP_CARET_EQ : OP_CARET, n1 == '=' ? 2 : 1); break;
        case '~': lex_op_tok(lx, t, OP_TILDE, 1); break;
        default: lex_op_tok(lx, t, OP_OTHER, 1); break;
        }
        if (t->kind == TK_OP) {
            if (t->op == OP_OTHER) {
                /* Keep the offending character (whole UTF-8 sequence is not
                 * needed: bytes >= 0x80 never get here) for the message. */
                if (!copy_text(lx, t, start, lx->pos))
                    set_oom(lx, t);
            } else {
                t->text = lex_op_text(t->op);
                t->text_len = (uint32_t)strlen(t->text);
            }
        }
    }
    t->len = (uint32_t)(lx->pos - start);
    t->end_line = lx->line;
}
