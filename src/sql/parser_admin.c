/*
 * parser_admin.c — transactions, EXEC, KILL, SHUTDOWN, CHECKPOINT,
 * RECONFIGURE, BACKUP, RESTORE, ALTER DATABASE, DBCC, ENDPOINT, and the
 * option lists most of them share.
 *
 * Admin statements carry long option lists (BACKUP ... WITH INIT, STATS = 5,
 * NAME = 'x'). They are parsed by one table-driven routine: each option name
 * has a value rule (flag, "= value", "value TO value", "= value AFTER value",
 * parenthesised sub-options ...). Unknown names get SQL Server's error 155
 * "'X' is not a recognized BACKUP option.", so the executor only ever sees
 * options that exist; which combinations make sense is its business.
 * Adding an option = one line in the statement's table.
 */
#include "sql/parser_int.h"

/* ------------------------------------------------------------ options */

static bool is_unit(parser *P)
{
    static const char *const units[] = {
        "KB", "MB", "GB", "TB", "SECONDS", "MINUTES", "HOURS", "DAYS", NULL
    };
    if (parse_cur(P)->kind != TK_IDENT)
        return false;
    for (int i = 0; units[i]; i++)
        if (parse_is_word(P, units[i]))
            return true;
    return false;
}

/* A word that can be an option's value without '=': a plain identifier, or
 * one of the reserved words that name settings. Statement keywords are not,
 * so "SET OFFLINE SELECT 1" still ends at SELECT. */
static bool is_value_word(parser *P)
{
    if (parse_is_ident(P))
        return true;
    return parse_is_kw(P, KW_ON) || parse_is_kw(P, KW_OFF) || parse_is_kw(P, KW_FULL) ||
           parse_is_kw(P, KW_DEFAULT) || parse_is_kw(P, KW_ALL);
}

static void sub_options(parser *P, ast_option_list *out);

/* value := constant | -constant | @var | word | ( sub-options ), then an
 * optional unit after a number. */
static void option_value(parser *P, ast_option *o)
{
    if (parse_is_op(P, OP_LPAREN)) {
        sub_options(P, &o->sub);
        return;
    }
    if (parse_is_simple_value(P)) {
        const lex_token *t = parse_cur(P);
        bool number = t->kind == TK_INTEGER || t->kind == TK_DECIMAL || t->kind == TK_OP;
        o->value = parse_simple_value(P);
        if (number) {
            if (is_unit(P)) {
                o->unit = parse_upper(P, parse_cur(P)->text);
                parse_advance(P);
            } else if (parse_is_op(P, OP_PERCENT)) {
                parse_advance(P);
                o->unit = "%";
            }
        }
        return;
    }
    if (parse_is_anyword_at(P, 0) || parse_cur(P)->kind == TK_QIDENT) {
        o->word = parse_cur(P)->text;
        o->word_quoted = parse_cur(P)->kind == TK_QIDENT;
        parse_advance(P);
        /* CHANGE_TRACKING = ON (AUTO_CLEANUP = ON) */
        if (parse_is_op(P, OP_LPAREN))
            sub_options(P, &o->sub);
        return;
    }
    parse_error_near(P);
}

/* ( name [= value | words], ... ) — names may be several words
 * ("SERVER CERTIFICATE = c"). */
static void sub_options(parser *P, ast_option_list *out)
{
    parse_expect_op(P, OP_LPAREN);
    do {
        ast_option *o = PARSE_NEW(P, ast_option);
        o->line = parse_cur(P)->line;
        o->name = parse_upper(P, parse_anyword(P));
        while (parse_is_anyword_at(P, 0))
            o->name = parse_concat(P, o->name, " ", parse_upper(P, parse_anyword(P)));
        o->equals = parse_is_op(P, OP_EQ);
        if (parse_accept_op(P, OP_EQ))
            option_value(P, o);
        else if (parse_is_simple_value(P))
            option_value(P, o);
        PARSE_PUSH(P, *out, o);
    } while (parse_accept_op(P, OP_COMMA));
    parse_expect_op(P, OP_RPAREN);
}

/* The value rule `val` applied to an option whose name was just read. */
static void option_body(parser *P, ast_option *o, parse_optval val)
{
    o->equals = parse_is_op(P, OP_EQ);
    switch (val) {
    case OV_FLAG:
        break;
    case OV_EQ:
        parse_expect_op(P, OP_EQ);
        option_value(P, o);
        break;
    case OV_EQ_OPT:
        if (parse_accept_op(P, OP_EQ))
            option_value(P, o);
        break;
    case OV_WORD:
        parse_accept_op(P, OP_EQ);
        option_value(P, o);
        break;
    case OV_WORD_OPT:
        if (parse_accept_op(P, OP_EQ) || is_value_word(P) || parse_is_simple_value(P) ||
            parse_is_op(P, OP_LPAREN))
            option_value(P, o);
        break;
    case OV_EQ_WORDS:
        parse_expect_op(P, OP_EQ);
        if (parse_is_op(P, OP_LPAREN)) {
            /* LISTENER_IP = (10.0.0.1): keep the text between the parentheses. */
            uint32_t from = parse_peek(P, 1)->offset;
            int depth = 0;
            do {
                if (parse_is_op(P, OP_LPAREN)) depth++;
                if (parse_is_op(P, OP_RPAREN)) depth--;
                if (parse_cur(P)->kind == TK_EOF)
                    parse_error_near(P);
                parse_advance(P);
            } while (depth > 0);
            uint32_t to = parse_tok(P, P->pos - 1)->offset;
            char *txt = parse_alloc(P, to - from + 1);
            memcpy(txt, P->src + from, to - from);
            o->word = txt;
            o->word_in_parens = true;
        } else if (parse_is_simple_value(P)) {
            option_value(P, o);
        } else {
            /* A phrase of plain words (WINDOWS NEGOTIATE, REQUIRED ALGORITHM
             * AES); a [quoted] name stands alone. */
            bool plain = parse_cur(P)->kind == TK_IDENT;
            o->word_quoted = !plain;
            o->word = plain ? parse_anyword(P) : parse_ident(P);
            while (plain && parse_cur(P)->kind == TK_IDENT) {
                int line = parse_cur(P)->line;
                o->word = parse_concat(P, o->word, " ", parse_anyword(P));
                /* printed back as one name, so a name's limit (fuzz find) */
                if (strlen(o->word) > LEX_MAX_IDENT)
                    parse_fail(P, line, 103, "identifier", LEX_MAX_IDENT, o->word, LEX_MAX_IDENT);
            }
        }
        break;
    case OV_PAREN:
        if (parse_is_op(P, OP_LPAREN))
            sub_options(P, &o->sub);
        else if (parse_accept_op(P, OP_EQ))
            option_value(P, o);
        break;
    case OV_MOVE:
        o->value = parse_simple_value(P);
        parse_expect_kw(P, KW_TO);
        o->value2 = parse_simple_value(P);
        break;
    case OV_MARK:
        parse_expect_op(P, OP_EQ);
        o->value = parse_simple_value(P);
        if (parse_accept_word(P, "AFTER"))
            o->value2 = parse_simple_value(P);
        break;
    }
}

ast_option *parse_option_as(parser *P, parse_optval val)
{
    ast_option *o = PARSE_NEW(P, ast_option);
    o->line = parse_cur(P)->line;
    o->name = parse_upper(P, parse_anyword(P));
    option_body(P, o, val);
    return o;
}

void parse_options(parser *P, ast_option_list *out, const parse_optdef *defs, const char *what)
{
    do {
        const lex_token *t = parse_cur(P);
        if (!parse_is_anyword_at(P, 0))
            parse_error_near(P);
        parse_optval val = OV_EQ_OPT;
        if (defs) {
            const parse_optdef *d = defs;
            while (d->name && strcasecmp(d->name, t->text) != 0)
                d++;
            if (!d->name)
                parse_fail(P, t->line, 155, t->text, what);
            val = d->val;
        } else {
            /* NAME, NAME = v, NAME v (TRUSTWORTHY ON), NAME (sub-options) */
            val = OV_WORD_OPT;
        }
        ast_option *o = parse_option_as(P, val);
        PARSE_PUSH(P, *out, o);
    } while (parse_accept_op(P, OP_COMMA));
}

ast_device *parse_device(parser *P)
{
    ast_device *d = PARSE_NEW(P, ast_device);
    const lex_token *t = parse_cur(P);
    d->line = t->line;
    if (t->kind == TK_VARIABLE) {
        d->kind = DEV_LOGICAL;
        d->value = parse_simple_value(P);
        return d;
    }
    if (parse_is_op_at(P, 1, OP_EQ) && parse_is_anyword_at(P, 0)) {
        if (parse_is_kw(P, KW_DISK))
            d->kind = DEV_DISK;
        else if (parse_is_word(P, "TAPE"))
            d->kind = DEV_TAPE;
        else if (parse_is_word(P, "URL"))
            d->kind = DEV_URL;
        else if (parse_is_word(P, "DATABASE_SNAPSHOT"))
            d->kind = DEV_DATABASE_SNAPSHOT;
        else
            parse_error_near(P);
        parse_advance(P);
        parse_advance(P);
        if (d->kind == DEV_DATABASE_SNAPSHOT) {
            if (parse_cur(P)->kind == TK_STRING || parse_cur(P)->kind == TK_NSTRING) {
                d->name = parse_string_name(P, parse_cur(P));
                parse_advance(P);
            } else {
                d->name = parse_ident(P);
            }
            return d;
        }
        if (parse_cur(P)->kind != TK_STRING && parse_cur(P)->kind != TK_NSTRING &&
            parse_cur(P)->kind != TK_VARIABLE)
            parse_error_near(P);
        d->value = parse_simple_value(P);
        return d;
    }
    d->kind = DEV_LOGICAL;
    d->name = parse_ident(P);
    return d;
}

static void device_list(parser *P, ast_device_list *out)
{
    do {
        ast_device *d = parse_device(P);
        PARSE_PUSH(P, *out, d);
    } while (parse_accept_op(P, OP_COMMA));
}

/* ---------------------------------------------------------- transactions */

/* Transaction and savepoint names are limited to 32 characters. */
#define TRAN_NAME_MAX 32

static bool tran_name(parser *P, ast_tran *tr)
{
    const lex_token *t = parse_cur(P);
    if (t->kind == TK_VARIABLE) {
        parse_var_use(P, t->text, VAR_SCALAR, t->line);
        tr->name = t->text;
        tr->name_is_var = true;
        parse_advance(P);
        return true;
    }
    if (!parse_is_ident(P))
        return false;
    size_t chars = 0;
    const char *s = t->text;
    for (size_t i = 0; s[i]; i++)
        if (((unsigned char)s[i] & 0xC0) != 0x80)
            chars++;
    if (chars > TRAN_NAME_MAX) {
        size_t i = 0, c = 0;
        while (s[i] && !(c == TRAN_NAME_MAX && ((unsigned char)s[i] & 0xC0) != 0x80)) {
            if (((unsigned char)s[i] & 0xC0) != 0x80)
                c++;
            i++;
        }
        parse_fail(P, t->line, 103, "identifier", (int)i, s, TRAN_NAME_MAX);
    }
    tr->name = t->text;
    parse_advance(P);
    return true;
}

ast_stmt *parse_begin_tran(parser *P)
{
    ast_stmt *s = parse_new_stmt(P, STMT_BEGIN_TRAN);
    ast_tran *tr = &s->u.tran;
    if (parse_accept_kw(P, KW_DISTRIBUTED))
        tr->distributed = true;
    if (!parse_accept_kw(P, KW_TRAN) && !parse_accept_kw(P, KW_TRANSACTION))
        parse_error_near(P);
    bool named = tran_name(P, tr);
    if (!tr->distributed && parse_is_kw(P, KW_WITH) && parse_is_word_at(P, 1, "MARK")) {
        /* 3901: WITH MARK needs a transaction name. */
        if (!named)
            parse_fail(P, parse_cur(P)->line, 3901);
        parse_advance(P);
        parse_advance(P);
        tr->with_mark = true;
        const lex_token *t = parse_cur(P);
        if (t->kind == TK_STRING || t->kind == TK_NSTRING || t->kind == TK_VARIABLE)
            tr->mark_desc = parse_simple_value(P);
    }
    return s;
}

ast_stmt *parse_commit_rollback(parser *P)
{
    bool commit = parse_is_kw(P, KW_COMMIT);
    ast_stmt *s = parse_new_stmt(P, commit ? STMT_COMMIT : STMT_ROLLBACK);
    parse_advance(P);
    if (parse_accept_kw(P, KW_TRAN) || parse_accept_kw(P, KW_TRANSACTION))
        tran_name(P, &s->u.tran);
    else
        parse_accept_word(P, "WORK");
    if (commit && parse_is_kw(P, KW_WITH) && parse_is_op_at(P, 1, OP_LPAREN)) {
        static const parse_optdef defs[] = { { "DELAYED_DURABILITY", OV_EQ }, { NULL, 0 } };
        parse_advance(P);
        parse_expect_op(P, OP_LPAREN);
        parse_options(P, &s->u.tran.with, defs, "COMMIT");
        parse_expect_op(P, OP_RPAREN);
    }
    return s;
}

ast_stmt *parse_save_tran(parser *P)
{
    ast_stmt *s = parse_new_stmt(P, STMT_SAVE_TRAN);
    parse_advance(P);
    if (!parse_accept_kw(P, KW_TRAN) && !parse_accept_kw(P, KW_TRANSACTION))
        parse_error_near(P);
    if (!tran_name(P, &s->u.tran))
        parse_error_near(P);
    return s;
}

/* ------------------------------------------------------------------ EXEC */

/* One EXEC argument value: constant, signed constant, variable [OUTPUT],
 * DEFAULT, NULL, or a bare identifier (taken as a string, as SQL Server
 * does: EXEC sp_help mytable). */
static bool starts_exec_arg(parser *P)
{
    return parse_is_simple_value(P) || parse_is_ident(P) || parse_is_kw(P, KW_DEFAULT);
}

static ast_exec_arg *exec_arg(parser *P)
{
    ast_exec_arg *a = PARSE_NEW(P, ast_exec_arg);
    const lex_token *t = parse_cur(P);
    a->line = t->line;
    if (t->kind == TK_VARIABLE && parse_is_op_at(P, 1, OP_EQ)) {
        a->param = t->text;
        parse_advance(P);
        parse_advance(P);
        t = parse_cur(P);
    }
    if (parse_accept_kw(P, KW_DEFAULT)) {
        a->is_default = true;
    } else if (parse_is_ident(P)) {
        a->value = parse_string_literal(P, t->text, true, t->line);
        parse_advance(P);
    } else {
        a->value = parse_simple_value(P);
    }
    if (parse_accept_word(P, "OUTPUT") || parse_accept_word(P, "OUT")) {
        if (!a->value || a->value->kind != EXPR_VARIABLE)
            parse_error_near_at(P, -1);
        a->output = true;
    }
    return a;
}

ast_stmt *parse_exec(parser *P, bool implicit)
{
    ast_stmt *s = parse_new_stmt(P, STMT_EXEC);
    ast_exec *x = &s->u.exec;
    if (!implicit)
        parse_advance(P);   /* EXEC / EXECUTE */
    if (parse_is_kw(P, KW_AS))
        return parse_unsupported(P, "EXECUTE AS", false);
    if (parse_accept_op(P, OP_LPAREN)) {
        /* EXEC ('...' + @x + N'...') [AT server] */
        x->is_string = true;
        do {
            const lex_token *t = parse_cur(P);
            if (t->kind != TK_STRING && t->kind != TK_NSTRING && t->kind != TK_VARIABLE)
                parse_error_near(P);
            ast_expr *e = parse_simple_value(P);
            PARSE_PUSH(P, x->strings, e);
        } while (parse_accept_op(P, OP_PLUS));
        parse_expect_op(P, OP_RPAREN);
        if (parse_accept_word(P, "AT"))
            x->at_server = parse_ident(P);
        return s;
    }
    const lex_token *t = parse_cur(P);
    if (t->kind == TK_VARIABLE && parse_is_op_at(P, 1, OP_EQ)) {
        x->return_var = t->text;
        parse_var_use(P, t->text, VAR_SCALAR, t->line);
        parse_advance(P);
        parse_advance(P);
        t = parse_cur(P);
    }
    if (t->kind == TK_VARIABLE) {
        x->proc_var = t->text;
        parse_var_use(P, t->text, VAR_SCALAR, t->line);
        parse_advance(P);
    } else {
        parse_objname(P, &x->proc, 4);
        /* proc;2 — numbered procedures are not supported. */
        if (parse_is_op(P, OP_SEMI) && parse_peek(P, 1)->kind == TK_INTEGER)
            parse_error_near(P);
    }
    if (starts_exec_arg(P)) {
        do {
            ast_exec_arg *a = exec_arg(P);
            PARSE_PUSH(P, x->args, a);
        } while (parse_accept_op(P, OP_COMMA));
    }
    if (parse_is_kw(P, KW_WITH) && parse_is_word_at(P, 1, "RECOMPILE")) {
        parse_advance(P);
        ast_option *o = parse_option_as(P, OV_FLAG);
        PARSE_PUSH(P, x->with, o);
    }
    return s;
}

/* --------------------------------------------- KILL, SHUTDOWN, CHECKPOINT */

ast_stmt *parse_kill(parser *P)
{
    ast_stmt *s = parse_new_stmt(P, STMT_KILL);
    parse_advance(P);
    if (parse_is_word(P, "QUERY") || parse_is_word(P, "STATS"))
        return parse_unsupported(P, "KILL QUERY NOTIFICATION", false);
    const lex_token *t = parse_cur(P);
    bool uow = t->kind == TK_STRING || t->kind == TK_NSTRING;
    if (uow) {
        s->u.kill.target = parse_simple_value(P);
    } else {
        /* a session id, possibly negative (KILL -2: orphaned DTC work) */
        int64_t spid = parse_int_const(P);
        if (spid < INT32_MIN || spid > INT32_MAX)
            parse_fail(P, t->line, 8115, "int");
        ast_expr *e = parse_new_expr(P, EXPR_LITERAL, t->line);
        e->u.lit.v = value_int(SQL_INT, spid);
        e->u.lit.type = value_type(SQL_INT, 0, 0, 0);
        s->u.kill.target = e;
    }
    if (parse_accept_kw(P, KW_WITH)) {
        if (parse_accept_word(P, "STATUSONLY"))
            s->u.kill.with = KILL_STATUSONLY;
        else if (uow && parse_accept_kw(P, KW_COMMIT))
            s->u.kill.with = KILL_COMMIT;
        else if (uow && parse_accept_kw(P, KW_ROLLBACK))
            s->u.kill.with = KILL_ROLLBACK;
        else
            parse_error_near(P);
    }
    return s;
}

ast_stmt *parse_shutdown(parser *P)
{
    ast_stmt *s = parse_new_stmt(P, STMT_SHUTDOWN);
    parse_advance(P);
    if (parse_accept_kw(P, KW_WITH)) {
        parse_expect_word(P, "NOWAIT");
        s->u.nowait = true;
    }
    return s;
}

ast_stmt *parse_checkpoint(parser *P)
{
    ast_stmt *s = parse_new_stmt(P, STMT_CHECKPOINT);
    parse_advance(P);
    if (parse_cur(P)->kind == TK_INTEGER)
        s->u.expr = parse_int_literal(P);
    return s;
}

ast_stmt *parse_reconfigure(parser *P)
{
    ast_stmt *s = parse_new_stmt(P, STMT_RECONFIGURE);
    parse_advance(P);
    if (parse_accept_kw(P, KW_WITH)) {
        parse_expect_word(P, "OVERRIDE");
        s->u.nowait = true;
    }
    return s;
}

/* -------------------------------------------------------- BACKUP, RESTORE */

static const parse_optdef backup_opts[] = {
    { "DIFFERENTIAL", OV_FLAG }, { "COPY_ONLY", OV_FLAG },
    { "COMPRESSION", OV_PAREN }, { "NO_COMPRESSION", OV_FLAG },
    { "DESCRIPTION", OV_EQ }, { "NAME", OV_EQ },
    { "EXPIREDATE", OV_EQ }, { "RETAINDAYS", OV_EQ },
    { "INIT", OV_FLAG }, { "NOINIT", OV_FLAG }, { "SKIP", OV_FLAG }, { "NOSKIP", OV_FLAG },
    { "FORMAT", OV_FLAG }, { "NOFORMAT", OV_FLAG },
    { "MEDIADESCRIPTION", OV_EQ }, { "MEDIANAME", OV_EQ },
    { "BLOCKSIZE", OV_EQ }, { "BUFFERCOUNT", OV_EQ }, { "MAXTRANSFERSIZE", OV_EQ },
    { "CHECKSUM", OV_FLAG }, { "NO_CHECKSUM", OV_FLAG },
    { "STOP_ON_ERROR", OV_FLAG }, { "CONTINUE_AFTER_ERROR", OV_FLAG },
    { "RESTART", OV_FLAG }, { "STATS", OV_EQ_OPT },
    { "REWIND", OV_FLAG }, { "NOREWIND", OV_FLAG }, { "UNLOAD", OV_FLAG }, { "NOUNLOAD", OV_FLAG },
    { "ENCRYPTION", OV_PAREN }, { "PASSWORD", OV_EQ }, { "MEDIAPASSWORD", OV_EQ },
    /* BACKUP LOG only (the executor checks) */
    { "NORECOVERY", OV_FLAG }, { "STANDBY", OV_EQ }, { "NO_TRUNCATE", OV_FLAG },
    { NULL, 0 }
};

static const parse_optdef restore_opts[] = {
    { "RECOVERY", OV_FLAG }, { "NORECOVERY", OV_FLAG }, { "STANDBY", OV_EQ },
    { "MOVE", OV_MOVE }, { "REPLACE", OV_FLAG }, { "RESTART", OV_FLAG },
    { "RESTRICTED_USER", OV_FLAG }, { "PARTIAL", OV_FLAG },
    { "FILE", OV_EQ }, { "PASSWORD", OV_EQ }, { "MEDIANAME", OV_EQ },
    { "MEDIAPASSWORD", OV_EQ }, { "BLOCKSIZE", OV_EQ }, { "BUFFERCOUNT", OV_EQ },
    { "MAXTRANSFERSIZE", OV_EQ }, { "CHECKSUM", OV_FLAG }, { "NO_CHECKSUM", OV_FLAG },
    { "STOP_ON_ERROR", OV_FLAG }, { "CONTINUE_AFTER_ERROR", OV_FLAG },
    { "STATS", OV_EQ_OPT }, { "REWIND", OV_FLAG }, { "NOREWIND", OV_FLAG },
    { "UNLOAD", OV_FLAG }, { "NOUNLOAD", OV_FLAG },
    { "KEEP_REPLICATION", OV_FLAG }, { "KEEP_CDC", OV_FLAG }, { "ENABLE_BROKER", OV_FLAG },
    { "ERROR_BROKER_CONVERSATIONS", OV_FLAG }, { "NEW_BROKER", OV_FLAG },
    { "FILESTREAM", OV_PAREN }, { "LOADHISTORY", OV_FLAG }, { "CREDENTIAL", OV_FLAG },
    { "STOPAT", OV_EQ }, { "STOPATMARK", OV_MARK }, { "STOPBEFOREMARK", OV_MARK },
    { NULL, 0 }
};

/* FILE = x | FILEGROUP = y | PAGE = 'f:p, ...' | READ_WRITE_FILEGROUPS */
static const parse_optdef file_opts[] = {
    { "FILE", OV_EQ }, { "FILEGROUP", OV_EQ }, { "PAGE", OV_EQ },
    { "READ_WRITE_FILEGROUPS", OV_FLAG }, { NULL, 0 }
};

static void db_ref(parser *P, ast_dbref *db)
{
    const lex_token *t = parse_cur(P);
    if (t->kind == TK_VARIABLE) {
        parse_var_use(P, t->text, VAR_SCALAR, t->line);
        db->var = t->text;
        parse_advance(P);
    } else {
        db->name = parse_ident(P);
    }
}

ast_stmt *parse_backup(parser *P)
{
    ast_stmt *s = parse_new_stmt(P, STMT_BACKUP);
    ast_backup *b = &s->u.backup;
    parse_advance(P);
    if (parse_accept_word(P, "LOG"))
        b->log = true;
    else if (!parse_accept_kw(P, KW_DATABASE))
        return parse_unsupported(P, "BACKUP", false);   /* CERTIFICATE, MASTER KEY ... */
    db_ref(P, &b->db);
    if (!b->log && !parse_is_kw(P, KW_TO))
        parse_options(P, &b->files, file_opts, "BACKUP");
    parse_expect_kw(P, KW_TO);
    device_list(P, &b->to);
    while (parse_is_word(P, "MIRROR") && parse_is_kw_at(P, 1, KW_TO)) {
        parse_advance(P);
        parse_advance(P);
        ast_device_list *l = PARSE_NEW(P, ast_device_list);
        device_list(P, l);
        PARSE_PUSH(P, b->mirror_to, l);
    }
    if (parse_accept_kw(P, KW_WITH))
        parse_options(P, &b->with, backup_opts, "BACKUP");
    return s;
}

ast_stmt *parse_restore(parser *P)
{
    ast_stmt *s = parse_new_stmt(P, STMT_RESTORE);
    ast_restore *r = &s->u.restore;
    parse_advance(P);
    static const struct { const char *w; ast_restore_kind k; } only[] = {
        { "HEADERONLY", RESTORE_HEADERONLY }, { "FILELISTONLY", RESTORE_FILELISTONLY },
        { "VERIFYONLY", RESTORE_VERIFYONLY }, { "LABELONLY", RESTORE_LABELONLY },
        { "REWINDONLY", RESTORE_REWINDONLY },
    };
    bool info = false;
    for (size_t i = 0; i < sizeof only / sizeof only[0]; i++) {
        if (parse_accept_word(P, only[i].w)) {
            r->kind = only[i].k;
            info = true;
            break;
        }
    }
    if (!info) {
        if (parse_accept_word(P, "LOG"))
            r->kind = RESTORE_LOG;
        else if (parse_accept_kw(P, KW_DATABASE))
            r->kind = RESTORE_DATABASE;
        else
            return parse_unsupported(P, "RESTORE", false);
        db_ref(P, &r->db);
        if (!parse_is_kw(P, KW_FROM) && !parse_is_kw(P, KW_WITH) &&
            parse_is_anyword_at(P, 0) && parse_is_op_at(P, 1, OP_EQ))
            parse_options(P, &r->files, file_opts, "RESTORE");
        if (parse_accept_kw(P, KW_FROM))
            device_list(P, &r->from);
    } else {
        parse_expect_kw(P, KW_FROM);
        device_list(P, &r->from);
    }
    if (parse_accept_kw(P, KW_WITH))
        parse_options(P, &r->with, restore_opts, "RESTORE");
    else if (!info && r->from.n == 0 && r->files.n == 0)
        parse_error_near(P);   /* recover-only needs WITH RECOVERY etc. */
    /* "RESTORE DATABASE db FILEGROUP = fg" alone brings an offline filegroup
     * back (seed 004). */
    return s;
}

/* -------------------------------------------------------- ALTER DATABASE */

static void mirroring(parser *P, ast_alter_database *a, bool witness)
{
    a->action = witness ? ALTERDB_WITNESS : ALTERDB_PARTNER;
    if (parse_accept_op(P, OP_EQ)) {
        const lex_token *t = parse_cur(P);
        if (t->kind != TK_STRING && t->kind != TK_NSTRING)
            parse_error_near(P);
        a->mirror = MIRROR_ADDRESS;
        a->mirror_value = parse_simple_value(P);
        return;
    }
    if (parse_accept_kw(P, KW_OFF)) {
        a->mirror = MIRROR_OFF;
        return;
    }
    if (witness)
        parse_error_near(P);
    if (parse_accept_word(P, "FAILOVER"))
        a->mirror = MIRROR_FAILOVER;
    else if (parse_accept_word(P, "FORCE_SERVICE_ALLOW_DATA_LOSS"))
        a->mirror = MIRROR_FORCE_SERVICE;
    else if (parse_accept_word(P, "RESUME"))
        a->mirror = MIRROR_RESUME;
    else if (parse_accept_word(P, "SUSPEND"))
        a->mirror = MIRROR_SUSPEND;
    else if (parse_accept_word(P, "SAFETY")) {
        if (parse_accept_kw(P, KW_FULL))
            a->mirror = MIRROR_SAFETY_FULL;
        else if (parse_accept_kw(P, KW_OFF))
            a->mirror = MIRROR_SAFETY_OFF;
        else
            parse_error_near(P);
    } else if (parse_accept_word(P, "TIMEOUT")) {
        a->mirror = MIRROR_TIMEOUT;
        a->mirror_value = parse_int_literal(P);
    } else {
        parse_error_near(P);
    }
}

/* WITH ROLLBACK IMMEDIATE | ROLLBACK AFTER n [SECONDS] | NO_WAIT */
static void termination(parser *P, ast_alter_database *a)
{
    if (!parse_accept_kw(P, KW_WITH))
        return;
    if (parse_accept_word(P, "NO_WAIT")) {
        a->termination = TERM_NO_WAIT;
        return;
    }
    parse_expect_kw(P, KW_ROLLBACK);
    if (parse_accept_word(P, "IMMEDIATE")) {
        a->termination = TERM_ROLLBACK_IMMEDIATE;
        return;
    }
    parse_expect_word(P, "AFTER");
    int64_t n = parse_int_const(P);
    if (n < 0 || n > INT32_MAX)
        parse_error_near_at(P, -1);
    a->termination = TERM_ROLLBACK_AFTER;
    a->rollback_after = (int)n;
    parse_accept_word(P, "SECONDS");
}

ast_stmt *parse_alter_database(parser *P)
{
    ast_stmt *s = parse_new_stmt(P, STMT_ALTER_DATABASE);
    ast_alter_database *a = &s->u.alter_db;
    if (parse_accept_kw(P, KW_CURRENT))
        a->current = true;
    else
        a->name = parse_ident(P);
    if (parse_accept_kw(P, KW_SET)) {
        if (parse_accept_word(P, "PARTNER")) {
            mirroring(P, a, false);
        } else if (parse_accept_word(P, "WITNESS")) {
            mirroring(P, a, true);
        } else if (parse_is_word(P, "HADR")) {
            return parse_unsupported(P, "ALTER DATABASE SET HADR", false);
        } else {
            a->action = ALTERDB_SET;
            do {
                if (!parse_is_anyword_at(P, 0))
                    parse_error_near(P);
                ast_option *o = parse_option_as(P, OV_WORD_OPT);
                PARSE_PUSH(P, a->options, o);
            } while (parse_accept_op(P, OP_COMMA));
            termination(P, a);
        }
    } else if (parse_accept_kw(P, KW_ADD)) {
        if (parse_accept_word(P, "FILEGROUP")) {
            a->action = ALTERDB_ADD_FILEGROUP;
            a->target = parse_ident(P);
            if (parse_accept_kw(P, KW_CONTAINS)) {
                ast_option *o = PARSE_NEW(P, ast_option);
                o->line = parse_cur(P)->line;
                o->name = parse_concat(P, "CONTAINS", " ", parse_upper(P, parse_anyword(P)));
                PARSE_PUSH(P, a->options, o);
            }
        } else {
            a->action = parse_accept_word(P, "LOG") ? ALTERDB_ADD_LOG_FILE : ALTERDB_ADD_FILE;
            parse_expect_kw(P, KW_FILE);
            parse_filespec_list(P, &a->files);
            if (a->action == ALTERDB_ADD_FILE && parse_accept_kw(P, KW_TO)) {
                parse_expect_word(P, "FILEGROUP");
                a->target = parse_ident(P);
            }
        }
    } else if (parse_accept_word(P, "REMOVE")) {
        if (parse_accept_kw(P, KW_FILE))
            a->action = ALTERDB_REMOVE_FILE;
        else if (parse_accept_word(P, "FILEGROUP"))
            a->action = ALTERDB_REMOVE_FILEGROUP;
        else
            parse_error_near(P);
        a->target = parse_ident(P);
    } else if (parse_accept_word(P, "MODIFY")) {
        if (parse_accept_kw(P, KW_FILE)) {
            a->action = ALTERDB_MODIFY_FILE;
            parse_filespec_list(P, &a->files);
            if (a->files.n != 1)
                parse_error_near(P);
        } else if (parse_accept_word(P, "FILEGROUP")) {
            a->action = ALTERDB_MODIFY_FILEGROUP;
            a->target = parse_ident(P);
            ast_option *o;
            if (parse_accept_kw(P, KW_DEFAULT)) {
                o = PARSE_NEW(P, ast_option);
                o->name = "DEFAULT";
            } else if (parse_is_word(P, "NAME")) {
                o = parse_option_as(P, OV_EQ);
            } else {
                o = parse_option_as(P, OV_FLAG);
            }
            PARSE_PUSH(P, a->options, o);
            termination(P, a);
        } else if (parse_accept_word(P, "NAME")) {
            a->action = ALTERDB_MODIFY_NAME;
            parse_expect_op(P, OP_EQ);
            a->target = parse_ident(P);
        } else {
            parse_error_near(P);
        }
    } else if (parse_accept_kw(P, KW_COLLATE)) {
        a->action = ALTERDB_COLLATE;
        a->target = parse_ident(P);
    } else {
        parse_error_near(P);
    }
    return s;
}

/* ------------------------------------------------------------------ DBCC */

ast_stmt *parse_dbcc(parser *P)
{
    ast_stmt *s = parse_new_stmt(P, STMT_DBCC);
    ast_dbcc *d = &s->u.dbcc;
    parse_advance(P);
    d->name = parse_upper(P, parse_anyword(P));
    if (parse_accept_op(P, OP_LPAREN)) {
        if (!parse_is_op(P, OP_RPAREN)) {
            do {
                ast_expr *e = parse_expr(P);
                PARSE_PUSH(P, d->args, e);
            } while (parse_accept_op(P, OP_COMMA));
        }
        parse_expect_op(P, OP_RPAREN);
    }
    if (parse_accept_kw(P, KW_WITH))
        parse_options(P, &d->with, NULL, "DBCC");
    return s;
}

/* -------------------------------------------------------------- ENDPOINT */

static void endpoint_options(parser *P, ast_option_list *out)
{
    parse_expect_op(P, OP_LPAREN);
    do {
        ast_option *o = parse_option_as(P, OV_EQ_WORDS);
        PARSE_PUSH(P, *out, o);
    } while (parse_accept_op(P, OP_COMMA));
    parse_expect_op(P, OP_RPAREN);
}

ast_stmt *parse_endpoint(parser *P, bool alter)
{
    ast_stmt *s = parse_new_stmt(P, STMT_ENDPOINT);
    ast_endpoint *e = &s->u.endpoint;
    e->alter = alter;
    e->name = parse_ident(P);
    if (parse_accept_kw(P, KW_AUTHORIZATION))
        e->authorization = parse_ident(P);
    if (parse_accept_word(P, "STATE")) {
        parse_expect_op(P, OP_EQ);
        e->state = parse_anyword(P);
    }
    if (parse_accept_kw(P, KW_AS)) {
        e->protocol = parse_upper(P, parse_anyword(P));
        endpoint_options(P, &e->protocol_options);
    }
    if (parse_accept_kw(P, KW_FOR)) {
        e->payload = parse_upper(P, parse_anyword(P));
        endpoint_options(P, &e->payload_options);
    }
    if (!alter && !e->protocol)
        parse_error_near(P);
    return s;
}
