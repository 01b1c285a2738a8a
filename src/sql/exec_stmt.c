/*
 * exec_stmt.c — the statements that are neither queries nor DDL nor
 * transactions: PRINT, RAISERROR (printf-style formatting, WITH LOG /
 * NOWAIT / SETERROR), THROW, DECLARE / SET @variable, SET options (NOCOUNT,
 * XACT_ABORT, IMPLICIT_TRANSACTIONS, ANSI_*, LOCK_TIMEOUT, ISOLATION LEVEL,
 * DATEFIRST, DATEFORMAT, IDENTITY_INSERT, ...), WAITFOR, KILL, SHUTDOWN,
 * CHECKPOINT.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sql/exec_int.h"

void (*ex_shutdown_hook(void))(int);
int (*ex_kill_hook(void))(int);
int ex_kill_session(instance *in, int spid);

/* ------------------------------------------------------------ PRINT / RAISERROR / THROW */

int ex_eval_scalar(sql_session *s, ast_expr *e, sql_value *out, sql_type *t)
{
    bscope sc = { 0 };
    bx *b = bx_bind(s, &sc, e);
    if (!b)
        return ex_bind_fail(s);
    ex_env env;
    ex_env_init(&env, s);
    if (ex_eval(&env, b, out) < 0)
        return EX_ERROR;
    *t = b->t;
    return EX_OK;
}

int ex_print(sql_session *s, ast_stmt *st)
{
    sql_value v;
    sql_type t;
    int rc = ex_eval_scalar(s, st->u.expr, &v, &t);
    if (rc != EX_OK)
        return rc;
    char *txt = v.is_null ? "" : cv_utf8(&s->stmt_arena, &v, &t);
    s->rowcount = 0;
    return ex_info(s, 0, 0, 1, txt ? txt : "");
}

/* RAISERROR's printf: %d %i %u %o %x %X %s with flags, width, precision
 * (or *), and the h / l / I64 size prefixes. */
static void rr_format(sql_session *s, const char *fmt, sql_value *args, sql_type *types, int nargs,
                      char *out, size_t cap)
{
    size_t o = 0;
    int ai = 0;
    for (const char *p = fmt; *p && o + 1 < cap; p++) {
        if (*p != '%') {
            out[o++] = *p;
            continue;
        }
        p++;
        if (*p == '%') {
            out[o++] = '%';
            continue;
        }
        char spec[32] = "%";
        size_t k = 1;
        while (*p && strchr("-+ 0#", *p) && k < 8)
            spec[k++] = *p++;
        if (*p == '*') {
            int w = ai < nargs && !args[ai].is_null ? (int)args[ai].u.i : 0;
            ai++;
            k += (size_t)snprintf(spec + k, sizeof spec - k, "%d", w);
            p++;
        } else {
            while (*p >= '0' && *p <= '9' && k < 20)
                spec[k++] = *p++;
        }
        if (*p == '.') {
            spec[k++] = *p++;
            if (*p == '*') {
                int w = ai < nargs && !args[ai].is_null ? (int)args[ai].u.i : 0;
                ai++;
                k += (size_t)snprintf(spec + k, sizeof spec - k, "%d", w);
                p++;
            } else {
                while (*p >= '0' && *p <= '9' && k < 28)
                    spec[k++] = *p++;
            }
        }
        if (*p == 'h' || *p == 'l')
            p++;
        else if (strncmp(p, "I64", 3) == 0)
            p += 3;
        char conv = *p;
        if (!conv)
            break;
        char piece[1100];
        piece[0] = 0;
        if (ai >= nargs) {
            snprintf(piece, sizeof piece, "(null)");
        } else {
            sql_value *a = &args[ai];
            sql_type *t = &types[ai];
            ai++;
            if (conv == 's') {
                spec[k++] = 's';
                spec[k] = 0;
                char *txt = a->is_null ? "(null)" : cv_utf8(&s->stmt_arena, a, t);
                snprintf(piece, sizeof piece, spec, txt ? txt : "");
            } else if (strchr("diuoxX", conv)) {
                spec[k++] = 'l';
                spec[k++] = 'l';
                spec[k++] = conv;
                spec[k] = 0;
                long long x = 0;
                if (!a->is_null) {
                    if (t->id >= SQL_TINYINT && t->id <= SQL_BIT)
                        x = a->u.i;
                    else if (value_type_is_string(t->id)) {
                        char *txt = cv_utf8(&s->stmt_arena, a, t);
                        x = txt ? atoll(txt) : 0;
                    }
                }
                if (a->is_null)
                    snprintf(piece, sizeof piece, "(null)");
                else
                    snprintf(piece, sizeof piece, spec, x);
            } else {
                snprintf(piece, sizeof piece, "%%%c", conv);
            }
        }
        for (char *q = piece; *q && o + 1 < cap; q++)
            out[o++] = *q;
    }
    out[o] = 0;
}

int ex_raiserror(sql_session *s, ast_stmt *st)
{
    sql_value mv, sv, stv;
    sql_type mt, stt, stt2;
    int rc;
    if ((rc = ex_eval_scalar(s, st->u.raiserror.msg, &mv, &mt)) != EX_OK ||
        (rc = ex_eval_scalar(s, st->u.raiserror.severity, &sv, &stt)) != EX_OK ||
        (rc = ex_eval_scalar(s, st->u.raiserror.state, &stv, &stt2)) != EX_OK)
        return rc;
    int n = st->u.raiserror.args.n;
    if (n > 20)
        return ex_failf(s, 2747, 16, 1, "Too many substitution parameters for RAISERROR. Cannot exceed 20 substitution parameters.");
    sql_value args[20];
    sql_type types[20];
    for (int i = 0; i < n; i++)
        if ((rc = ex_eval_scalar(s, st->u.raiserror.args.v[i], &args[i], &types[i])) != EX_OK)
            return rc;
    int sev = sv.is_null ? 16 : (int)(value_type_is_string(stt.id) ? 16 : sv.u.i);
    int state = stv.is_null ? 1 : (int)stv.u.i;
    if (sev < 0) sev = 0;
    if (sev > 25) sev = 25;
    if (state < 0 || state > 255) state = 1;
    if (sev > 18 && !(st->u.raiserror.flags & RAISERROR_LOG))
        return ex_failf(s, 2754, 16, 1, "Error severity levels greater than 18 can only be specified by members of the sysadmin role, using the WITH LOG option.");
    int number = 50000;
    char text[2100];
    if (mt.id >= SQL_TINYINT && mt.id <= SQL_BIGINT && !mv.is_null) {
        number = (int)mv.u.i;
        int dsev;
        const char *fmt = hdb_msg_format(number, &dsev);
        if (!fmt || number < 13000) {
            if (!fmt) {
                char m[400];
                snprintf(m, sizeof m, "Error %d, severity %d, state %d was raised, but no message with that error "
                         "number was found in sys.messages. If error is larger than 50000, make sure the "
                         "user-defined message is added using sp_addmessage.", number, sev, state);
                hdb_raise_text(&s->err, 18054, 16, 1, m);
                return EX_ERROR;
            }
        }
        rr_format(s, fmt, args, types, n, text, sizeof text);
    } else {
        char *fmt = mv.is_null ? "" : cv_utf8(&s->stmt_arena, &mv, &mt);
        rr_format(s, fmt ? fmt : "", args, types, n, text, sizeof text);
    }
    if (strlen(text) > 2047)
        text[2047] = 0;
    if (st->u.raiserror.flags & RAISERROR_LOG)
        inst_log(s->in, "Error: %d, Severity: %d, State: %d. %s", number, sev, state, text);
    if (sev <= 10) {
        ex_info(s, number, sev, state, text);
        if (st->u.raiserror.flags & RAISERROR_SETERROR)
            s->last_error = number;
        return EX_OK;
    }
    hdb_raise_text(&s->err, number, sev, state, text);
    s->err_raiserror = true;
    s->err_line = st->line;
    return EX_ERROR;
}

int ex_throw(sql_session *s, ast_stmt *st)
{
    if (!st->u.throw_.number) {
        /* rethrow the error being handled */
        if (s->ncatch == 0)
            return ex_failf(s, 10704, 15, 1, "To rethrow an error, a THROW statement must be used inside a CATCH block.");
        ex_errinfo *ei = &s->catch_stack[s->ncatch - 1];
        hdb_raise_text(&s->err, ei->number, ei->severity, ei->state, ei->msg);
        s->err_line = ei->line;
        s->err_abort = true;
        return EX_ERROR;
    }
    sql_value nv, mv, sv;
    sql_type nt, mt, stt;
    int rc;
    if ((rc = ex_eval_scalar(s, st->u.throw_.number, &nv, &nt)) != EX_OK ||
        (rc = ex_eval_scalar(s, st->u.throw_.message, &mv, &mt)) != EX_OK ||
        (rc = ex_eval_scalar(s, st->u.throw_.state, &sv, &stt)) != EX_OK)
        return rc;
    int64_t number = nv.is_null ? 0 : (nt.id >= SQL_TINYINT && nt.id <= SQL_BIGINT ? nv.u.i : 0);
    if (number < 50000 || number > 2147483647)
        return ex_failf(s, 35100, 16, 10, "Error number %lld in the THROW statement is outside the valid range. "
                        "Specify an error number in the valid range of 50000 to 2147483647.", (long long)number);
    int state = sv.is_null ? 1 : (int)sv.u.i;
    if (state < 0 || state > 255)
        return ex_failf(s, 35101, 16, 1, "The state %d in the THROW statement is outside the valid range. Specify a state in the valid range of 0 to 255.", state);
    char *txt = mv.is_null ? "" : cv_utf8(&s->stmt_arena, &mv, &mt);
    hdb_raise_text(&s->err, (int)number, 16, state, txt ? txt : "");
    s->err_line = st->line;
    s->err_abort = true;
    return EX_ERROR;
}

/* ------------------------------------------------------------ DECLARE / SET @v */

int ex_declare(sql_session *s, ast_stmt *st)
{
    for (int i = 0; i < st->u.declare.n; i++) {
        ast_declare_var *d = st->u.declare.v[i];
        if (d->is_table) {
            int rc = ex_declare_table(s, d);
            if (rc != EX_OK)
                return rc;
            continue;
        }
        if (d->type.t.id == SQL_TYPE_NONE) {
            s->err_line = d->line;
            ex_failf(s, 2715, 16, 3, "Column, parameter, or variable #%d: Cannot find data type %s.", i + 1,
                     d->type.name ? d->type.name : "?");
            return ex_bind_fail(s);
        }
        int idx = ex_var_find(s, d->name);
        if (idx < 0 && (idx = ex_var_declare(s, d->name, &d->type.t)) < 0)
            return ex_failf(s, 701, 19, 1, "There is insufficient system memory to run this query.");
        if (d->init) {
            if (ex_stmt_begin(s, false) < 0)
                return EX_ERROR;
            bscope sc = { 0 };
            bx *b = bx_bind(s, &sc, d->init);
            if (!b)
                return ex_stmt_end(s, -1), ex_bind_fail(s);
            ex_env env;
            ex_env_init(&env, s);
            sql_value v;
            int rc = ex_eval(&env, b, &v);
            if (rc == 0)
                rc = ex_var_assign(&env, idx, &v, &b->t);
            if (ex_stmt_end(s, rc) < 0)
                return EX_ERROR;
        }
    }
    return EX_OK;
}

int ex_set_var(sql_session *s, ast_stmt *st)
{
    int idx = ex_var_find(s, st->u.set_var.var);
    if (idx < 0) {
        ex_failf(s, 137, 15, 2, "Must declare the scalar variable \"%s\".", st->u.set_var.var);
        return ex_bind_fail(s);
    }
    ast_expr *val = st->u.set_var.value;
    ast_expr comp, var;
    if (st->u.set_var.op != AST_OP_NONE) {
        /* SET @v += x  ==  SET @v = @v + x */
        memset(&var, 0, sizeof var);
        var.kind = EXPR_VARIABLE;
        var.line = st->line;
        var.u.name = st->u.set_var.var;
        memset(&comp, 0, sizeof comp);
        comp.kind = EXPR_BINARY;
        comp.line = st->line;
        comp.u.binary.op = st->u.set_var.op;
        comp.u.binary.left = &var;
        comp.u.binary.right = val;
        val = &comp;
    }
    if (ex_stmt_begin(s, false) < 0)
        return EX_ERROR;
    bscope sc = { 0 };
    bx *b = bx_bind(s, &sc, val);
    if (!b)
        return ex_stmt_end(s, -1), ex_bind_fail(s);
    ex_env env;
    ex_env_init(&env, s);
    sql_value v;
    int rc = ex_eval(&env, b, &v);
    if (rc == 0)
        rc = ex_var_assign(&env, idx, &v, &b->t);
    if (ex_stmt_end(s, rc) < 0)
        return EX_ERROR;
    s->rowcount = 1;
    return ex_done(s, 0, CMD_SET, 0, false);
}

/* ------------------------------------------------------------ SET options */

static int set_value_int(sql_session *s, ast_expr *e, int64_t *out)
{
    sql_value v;
    sql_type t;
    int rc = ex_eval_scalar(s, e, &v, &t);
    if (rc != EX_OK)
        return rc;
    if (v.is_null)
        return ex_failf(s, 8114, 16, 5, "Error converting data type NULL to int.");
    if (t.id >= SQL_TINYINT && t.id <= SQL_BIT) {
        *out = v.u.i;
        return EX_OK;
    }
    sql_type it = value_type(SQL_BIGINT, 0, 0, 0);
    ex_env env;
    ex_env_init(&env, s);
    sql_value iv;
    if (cv_convert(&env, &v, &t, &it, -1, false, &iv) < 0)
        return EX_ERROR;
    *out = iv.u.i;
    return EX_OK;
}

/* The word of SET DATEFORMAT dmy / SET LANGUAGE @lang: as written, or the
 * value of the expression (NULL when there is neither). */
static int set_value_word(sql_session *s, const ast_set_option *o, const char **out)
{
    *out = o->word;
    if (o->word || !o->value)
        return EX_OK;
    sql_value v;
    sql_type t;
    int rc = ex_eval_scalar(s, o->value, &v, &t);
    if (rc != EX_OK)
        return rc;
    *out = v.is_null ? "" : cv_utf8(&s->stmt_arena, &v, &t);
    if (!*out)
        *out = "";
    return EX_OK;
}

int ex_set_option(sql_session *s, ast_stmt *st)
{
    ast_set_option *o = &st->u.set_option;
    ex_opts *op = &s->opt;
    bool on = o->kind == SETVAL_ON;
    for (int i = 0; i < o->names.n; i++) {
        const char *n = o->names.v[i];
        if (!strcmp(n, "NOCOUNT")) op->nocount = on;
        else if (!strcmp(n, "XACT_ABORT")) op->xact_abort = on;
        else if (!strcmp(n, "IMPLICIT_TRANSACTIONS")) op->implicit_tx = on;
        else if (!strcmp(n, "ANSI_NULLS")) op->ansi_nulls = on;
        else if (!strcmp(n, "ANSI_WARNINGS")) op->ansi_warnings = on;
        else if (!strcmp(n, "ANSI_PADDING")) op->ansi_padding = on;
        else if (!strcmp(n, "CONCAT_NULL_YIELDS_NULL")) op->concat_null = on;
        else if (!strcmp(n, "QUOTED_IDENTIFIER")) op->quoted_identifier = on;
        else if (!strcmp(n, "ARITHABORT")) op->arithabort = on;
        else if (!strcmp(n, "ANSI_NULL_DFLT_ON")) op->ansi_null_dflt_on = on;
        else if (!strcmp(n, "ANSI_NULL_DFLT_OFF")) op->ansi_null_dflt_on = !on;
        else if (!strcmp(n, "CURSOR_CLOSE_ON_COMMIT")) op->cursor_close_on_commit = on;
        else if (!strcmp(n, "NUMERIC_ROUNDABORT")) op->numeric_roundabort = on;
        else if (!strcmp(n, "NOEXEC")) op->noexec = on;
        else if (!strcmp(n, "PARSEONLY")) op->parseonly = on;
        else if (!strcmp(n, "ANSI_DEFAULTS")) {
            op->ansi_nulls = op->ansi_warnings = op->ansi_padding = op->quoted_identifier = on;
            op->ansi_null_dflt_on = op->implicit_tx = op->cursor_close_on_commit = on;
        } else if (!strcmp(n, "FMTONLY") || !strncmp(n, "SHOWPLAN", 8) || !strcmp(n, "STATISTICS XML") ||
                   !strcmp(n, "STATISTICS PROFILE")) {
            if (on)
                return ex_failf(s, 40006, 16, 1, "SET %s ON is not supported yet.", n);
        } else if (!strcmp(n, "STATISTICS IO") || !strcmp(n, "STATISTICS TIME") || !strcmp(n, "ARITHIGNORE") ||
                   !strcmp(n, "FORCEPLAN") || !strcmp(n, "REMOTE_PROC_TRANSACTIONS") ||
                   !strcmp(n, "NO_BROWSETABLE")) {
            /* accepted; they only change diagnostics or plans */
        } else if (!strcmp(n, "TRANSACTION ISOLATION LEVEL")) {
            switch (o->isolation) {
            case AST_ISO_READ_UNCOMMITTED: op->iso = ISO_READ_UNCOMMITTED; break;
            case AST_ISO_READ_COMMITTED: op->iso = ISO_READ_COMMITTED; break;
            case AST_ISO_REPEATABLE_READ: op->iso = ISO_REPEATABLE_READ; break;
            case AST_ISO_SNAPSHOT: op->iso = ISO_SNAPSHOT; break;
            default: op->iso = ISO_SERIALIZABLE; break;
            }
        } else if (!strcmp(n, "LOCK_TIMEOUT")) {
            int64_t v;
            int rc = set_value_int(s, o->value, &v);
            if (rc != EX_OK)
                return rc;
            op->lock_timeout = v < 0 ? -1 : (int)v;
            if (s->tx)
                s->tx->lock_timeout_ms = op->lock_timeout;
        } else if (!strcmp(n, "TEXTSIZE") || !strcmp(n, "ROWCOUNT") || !strcmp(n, "DATEFIRST") ||
                   !strcmp(n, "QUERY_GOVERNOR_COST_LIMIT")) {
            int64_t v;
            int rc = set_value_int(s, o->value, &v);
            if (rc != EX_OK)
                return rc;
            if (!strcmp(n, "TEXTSIZE"))
                op->textsize = v <= 0 ? 4096 : (int)(v > INT32_MAX ? INT32_MAX : v);
            else if (!strcmp(n, "ROWCOUNT"))
                op->rowcount = v < 0 ? 0 : v;
            else if (!strcmp(n, "DATEFIRST")) {
                if (v < 1 || v > 7)
                    return ex_failf(s, 1005, 15, 1, "Line %d: Invalid or missing DATEFIRST value.", st->line);
                op->datefirst = (int)v;
            }
        } else if (!strcmp(n, "CONTEXT_INFO")) {
            /* accepted */
        } else if (!strcmp(n, "DATEFORMAT")) {
            const char *w;
            int rc = set_value_word(s, o, &w);
            if (rc != EX_OK)
                return rc;
            static const char *const fmts[] = { "mdy", "dmy", "ymd", "ydm", "myd", "dym" };
            bool ok = false;
            for (int k = 0; k < 6; k++)
                if (w && !strcasecmp(w, fmts[k])) {
                    snprintf(op->dateformat, sizeof op->dateformat, "%s", fmts[k]);
                    ok = true;
                }
            if (!ok)
                return ex_failf(s, 2741, 16, 1, "SET DATEFORMAT date order '%s' is invalid.", w ? w : "");
        } else if (!strcmp(n, "LANGUAGE")) {
            const char *w;
            int rc = set_value_word(s, o, &w);
            if (rc != EX_OK)
                return rc;
            if (!w || (strcasecmp(w, "us_english") && strcasecmp(w, "English")))
                return ex_failf(s, 2732, 16, 1, "Error number 2732 is invalid. The number must be from 13000 through 2147483647 and it cannot be 50000.");
            snprintf(op->language, sizeof op->language, "us_english");
            ex_info(s, 5703, 0, 1, "Changed language setting to us_english.");
        } else if (!strcmp(n, "DEADLOCK_PRIORITY")) {
            int p = 0;
            if (o->kind == SETVAL_WORD)
                p = !strcmp(o->word, "LOW") ? -5 : !strcmp(o->word, "HIGH") ? 5 : 0;
            else {
                int64_t v;
                int rc = set_value_int(s, o->value, &v);
                if (rc != EX_OK)
                    return rc;
                if (v < -10 || v > 10)
                    return ex_failf(s, 1203, 16, 1, "The deadlock priority value %lld is not valid. Valid values are in the range of -10 to 10.", (long long)v);
                p = (int)v;
            }
            op->deadlock_priority = p;
            if (s->tx)
                lock_owner_set_deadlock_priority(&s->tx->lo, p);
        } else if (!strcmp(n, "IDENTITY_INSERT")) {
            database *db;
            table_def *td;
            int view;
            if (q_resolve_table(s, &o->table, &db, &td, &view) < 0)
                return ex_bind_fail(s);
            if (!td)
                return ex_failf(s, 8104, 16, 1, "The current user is not the database owner of the database that contains the object.");
            if (on) {
                if (s->ident_ins_obj && (s->ident_ins_obj != td->object_id || s->ident_ins_db != db->tdb.id))
                    return ex_failf(s, 8107, 16, 1, "IDENTITY_INSERT is already ON for table '%s'. Cannot perform SET operation for table '%s'.",
                                    "(another table)", td->name);
                tmeta *m = ex_tmeta(s, db, td);
                if (!m || m->ident_col < 0)
                    return ex_failf(s, 8106, 16, 1, "Table '%s' does not have the identity property. Cannot perform SET operation.", td->name);
                s->ident_ins_db = db->tdb.id;
                s->ident_ins_obj = td->object_id;
            } else if (s->ident_ins_obj == td->object_id && s->ident_ins_db == db->tdb.id) {
                s->ident_ins_db = s->ident_ins_obj = 0;
            }
        } else {
            return ex_failf(s, 195, 15, 1, "'%s' is not a recognized SET option.", n);
        }
    }
    s->rowcount = 0;
    return ex_done(s, 0, CMD_SET, 0, false);
}

/* ------------------------------------------------------------ small statements */

int ex_waitfor(sql_session *s, ast_stmt *st)
{
    sql_value v;
    sql_type t;
    int rc = ex_eval_scalar(s, st->u.waitfor.value, &v, &t);
    if (rc != EX_OK)
        return rc;
    sql_type tt = value_type(SQL_TIME, 0, 7, 0);
    ex_env env;
    ex_env_init(&env, s);
    sql_value tv;
    if (cv_convert(&env, &v, &t, &tt, -1, false, &tv) < 0)
        return hdb_raise_text(&s->err, 148, 15, 1, "Incorrect time syntax in time string used with WAITFOR."), EX_ERROR;
    int64_t wait_us;
    if (st->u.waitfor.delay) {
        wait_us = tv.u.time / 10;
    } else {
        int64_t loc;
        cv_now(&loc, NULL);
        int64_t now_ticks = (loc % 86400000000LL) * 10;
        int64_t d = tv.u.time - now_ticks;
        if (d < 0)
            d += VALUE_TICKS_PER_DAY;
        wait_us = d / 10;
    }
    while (wait_us > 0) {
        if (ex_cancelled(s))
            return EX_CANCEL;
        int64_t step = wait_us > 100000 ? 100000 : wait_us;
        struct timespec ts = { step / 1000000, (long)(step % 1000000) * 1000 };
        nanosleep(&ts, NULL);
        wait_us -= step;
    }
    return EX_OK;
}

int ex_kill(sql_session *s, ast_stmt *st)
{
    sql_value v;
    sql_type t;
    int rc = ex_eval_scalar(s, st->u.kill.target, &v, &t);
    if (rc != EX_OK)
        return rc;
    if (value_type_is_string(t.id))
        return ex_failf(s, 40007, 16, 1, "KILL of a unit of work (UOW) is not supported yet.");
    if (s->trancount > 0)
        return ex_failf(s, 6115, 16, 1, "KILL command cannot be used inside user transactions.");
    if (v.is_null || !(t.id >= SQL_TINYINT && t.id <= SQL_BIGINT))
        return ex_failf(s, 6101, 16, 1, "Session ID %s is not valid.", "NULL");
    int spid = (int)v.u.i;
    if (st->u.kill.with == KILL_STATUSONLY)
        return ex_failf(s, 6120, 16, 1, "Status report cannot be obtained. Rollback operation for Process ID %d is not in progress.", spid);
    if (st->u.kill.with != KILL_PLAIN)
        return ex_failf(s, 6108, 16, 1, "KILL SPID WITH COMMIT/ABORT is not supported by Microsoft Distributed Transaction Coordinator (MS DTC). Use KILL UOW WITH COMMIT/ABORT to resolve in-doubt distributed transactions involving Microsoft Distributed Transaction Coordinator (MS DTC).");
    if (spid == s->spid)
        return ex_failf(s, 6104, 16, 1, "Cannot use KILL to kill your own process.");
    if (spid < 1 || spid > 32767)
        return ex_failf(s, 6101, 16, 1, "Session ID %d is not valid.", spid);
    if (!ex_kill_session(s->in, spid))
        return ex_failf(s, 6106, 16, 2, "Process ID %d is not an active process ID.", spid);
    int (*hook)(int) = ex_kill_hook();
    if (hook)
        hook(spid);
    return ex_done(s, 0, CMD_NONE, 0, false);
}

int ex_shutdown(sql_session *s, ast_stmt *st)
{
    void (*hook)(int) = ex_shutdown_hook();
    if (!hook)
        return ex_failf(s, 40008, 16, 1, "SHUTDOWN is not available in this server process.");
    if (s->trancount > 0 && !st->u.nowait)
        ex_tran_abort(s);
    char m[200];
    snprintf(m, sizeof m, "Server shut down by %srequest from login %s.", st->u.nowait ? "NOWAIT " : "", s->login);
    ex_info(s, 0, 10, 1, m);
    ex_done(s, 0, CMD_NONE, 0, false);
    hook(st->u.nowait);
    return EX_OK;
}

int ex_checkpoint(sql_session *s, ast_stmt *st)
{
    (void)st;
    if (inst_checkpoint(s->in, s->db, &s->err) < 0)
        return EX_ERROR;
    return ex_done(s, 0, CMD_NONE, 0, false);
}

int ex_unsupported(sql_session *s, const char *what)
{
    return ex_failf(s, 40001, 16, 1, "%s is not supported yet.", what);
}

