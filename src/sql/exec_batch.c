/*
 * exec_batch.c — running a batch: the statement loop, what an error does
 * (reference §2: statement-terminating vs batch-aborting errors, XACT_ABORT,
 * TRY/CATCH, deadlock victims), control of flow, variables, PRINT,
 * RAISERROR/THROW, SET options, and the small utility statements.
 *
 * Errors: a statement returns EX_ERROR with s->err filled; ex_handle_error
 * then reports it (or hands it to CATCH) and decides whether the batch goes
 * on. Binding errors (invalid names, 207/208/4104 ...) are compile errors in
 * SQL Server: they abort the batch and a TRY at the same level does not catch
 * them (s->err_batch).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sql/exec_int.h"


bool ex_name_eq(const char *a, const char *b) { return a && b && strcasecmp(a, b) == 0; }

void ex_env_init(ex_env *env, sql_session *s)
{
    memset(env, 0, sizeof *env);
    env->s = s;
    env->a = &s->stmt_arena;
    env->err = &s->err;
}

/* ------------------------------------------------------------ messages */

int ex_report(sql_session *s, const hdb_err *e, int line)
{
    if (!s->sink || !s->sink->message)
        return 0;
    if (e->severity > 10)
        s->rpc_error = true;
    hdb_err ignore;                     /* a failed log: its own error follows */
    ex_reads_durable(s, &ignore);
    if (s->sink->message(s->sink->ctx, e, e->severity > 10, NULL, line > 0 ? line : 1) < 0)
        s->sink_failed = true;
    return 0;
}

int ex_info(sql_session *s, int number, int severity, int state, const char *text)
{
    hdb_err e;
    hdb_raise_text(&e, number, severity, state, text);
    return ex_report(s, &e, s->cur_line);
}

int ex_done(sql_session *s, unsigned status, unsigned curcmd, uint64_t rowcount, bool count)
{
    if (!s->sink || !s->sink->done)
        return EX_OK;
    unsigned st = status;
    if (count && !s->opt.nocount && !(status & SQL_DONE_ERROR))
        st |= SQL_DONE_COUNT;
    s->dones_sent++;
    if (s->sink->done(s->sink->ctx, s->done_kind, st, curcmd, (st & SQL_DONE_COUNT) ? rowcount : 0) < 0) {
        s->sink_failed = true;
        return EX_FATAL;
    }
    return EX_OK;
}

int ex_fail(sql_session *s, int line)
{
    s->err_line = line;
    return EX_ERROR;
}

int ex_failf(sql_session *s, int number, int severity, int state, const char *fmt, ...)
{
    char m[HDB_ERR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(m, sizeof m, fmt, ap);
    va_end(ap);
    hdb_raise_text(&s->err, number, severity, state, m);
    return EX_ERROR;
}

int ex_bind_fail(sql_session *s)
{
    s->err_batch = true;
    return EX_ERROR;
}

bool ex_cancelled(sql_session *s)
{
    if (s->killed || s->interrupted)
        return true;
    if (s->sink && s->sink->cancelled && s->sink->cancelled(s->sink->ctx)) {
        s->interrupted = 1;
        return true;
    }
    return false;
}

/* ------------------------------------------------------------ variables */

int ex_var_find(sql_session *s, const char *name)
{
    for (int i = s->nvars - 1; i >= s->var_base; i--)
        if (strcasecmp(s->vars[i].name, name) == 0)
            return i;
    return -1;
}

int ex_var_declare(sql_session *s, const char *name, const sql_type *t)
{
    int i = ex_var_find(s, name);
    if (i >= 0)
        return i;
    if (s->nvars == s->cap_vars) {
        int nc = s->cap_vars ? s->cap_vars * 2 : 16;
        sql_var *nv = realloc(s->vars, sizeof *nv * (size_t)nc);
        if (!nv)
            return -1;
        s->vars = nv;
        s->cap_vars = nc;
    }
    sql_var *v = &s->vars[s->nvars];
    memset(v, 0, sizeof *v);
    snprintf(v->name, sizeof v->name, "%s", name);
    v->type = *t;
    v->v = value_null(t->id);
    v->depth = s->scope_depth;
    return s->nvars++;
}

/* Store v (already of the variable's type) into the variable's own buffer. */
int ex_var_set(sql_session *s, int idx, const sql_value *v, hdb_err *err)
{
    sql_var *var = &s->vars[idx];
    sql_value nv = *v;
    nv.type = var->type.id;
    if (!v->is_null && v->bytes && v->len) {
        /* copy first: v may point into the old buffer (SET @s = SUBSTRING(@s, ...)) */
        uint8_t *buf = malloc(v->len);
        if (!buf)
            return hdb_raise_text(err, 701, 19, 1, "There is insufficient system memory to run this query.");
        ex_mcpy(buf, v->bytes, v->len);
        free(var->buf);
        var->buf = buf;
        var->cap = v->len;
        nv.bytes = buf;
    } else if (!v->is_null && v->len == 0) {
        nv.bytes = (const uint8_t *)"";
    }
    var->v = nv;
    return 0;
}

int ex_var_assign(ex_env *env, int idx, const sql_value *v, const sql_type *from)
{
    sql_var *var = &env->s->vars[idx];
    sql_value cv;
    if (cv_convert(env, v, from, &var->type, -3, false, &cv) < 0)
        return -1;
    return ex_var_set(env->s, idx, &cv, env->err);
}

void ex_vars_pop(sql_session *s, int to)
{
    while (s->nvars > to) {
        s->nvars--;
        free(s->vars[s->nvars].buf);
    }
}

/* Variables exist for the whole batch from the start, as in SQL Server
 * (DECLARE is a compile-time declaration: a DECLARE inside IF or a loop still
 * declares, and re-running it does not reset the value). */
static void predeclare(sql_session *s, ast_stmt_list *l);

static void predeclare_stmt(sql_session *s, ast_stmt *st)
{
    if (!st)
        return;
    switch (st->kind) {
    case STMT_DECLARE:
        for (int i = 0; i < st->u.declare.n; i++) {
            ast_declare_var *d = st->u.declare.v[i];
            if (!d->is_table)
                ex_var_declare(s, d->name, &d->type.t);
        }
        break;
    case STMT_IF:
        predeclare_stmt(s, st->u.if_.then);
        predeclare_stmt(s, st->u.if_.else_);
        break;
    case STMT_WHILE:
        predeclare_stmt(s, st->u.while_.body);
        break;
    case STMT_BLOCK:
        predeclare(s, &st->u.block);
        break;
    case STMT_TRY:
        predeclare(s, &st->u.try_.try_body);
        predeclare(s, &st->u.try_.catch_body);
        break;
    default:
        break;
    }
}

static void predeclare(sql_session *s, ast_stmt_list *l)
{
    for (int i = 0; i < l->n; i++)
        predeclare_stmt(s, l->v[i]);
}

/* The first statement the grammar knows but we do not implement. */
static ast_stmt *find_unsupported(ast_stmt_list *l);

static ast_stmt *unsupported_in(ast_stmt *st)
{
    if (!st)
        return NULL;
    switch (st->kind) {
    case STMT_UNSUPPORTED: return st;
    case STMT_IF: {
        ast_stmt *u = unsupported_in(st->u.if_.then);
        return u ? u : unsupported_in(st->u.if_.else_);
    }
    case STMT_WHILE: return unsupported_in(st->u.while_.body);
    case STMT_BLOCK: return find_unsupported(&st->u.block);
    case STMT_TRY: {
        ast_stmt *u = find_unsupported(&st->u.try_.try_body);
        return u ? u : find_unsupported(&st->u.try_.catch_body);
    }
    case STMT_CREATE_PROCEDURE: return st;
    default: return NULL;
    }
}

static ast_stmt *find_unsupported(ast_stmt_list *l)
{
    for (int i = 0; i < l->n; i++) {
        ast_stmt *u = unsupported_in(l->v[i]);
        if (u)
            return u;
    }
    return NULL;
}

/* ------------------------------------------------------------ errors */

static unsigned stmt_cmd(const ast_stmt *st)
{
    switch (st->kind) {
    case STMT_SELECT: return CMD_SELECT;
    case STMT_INSERT: return CMD_INSERT;
    case STMT_UPDATE: return CMD_UPDATE;
    case STMT_DELETE: return CMD_DELETE;
    case STMT_SET_OPTION: case STMT_SET_VAR: return CMD_SET;
    case STMT_BEGIN_TRAN: return CMD_BEGIN_TRAN;
    case STMT_COMMIT: return CMD_COMMIT;
    case STMT_ROLLBACK: return CMD_ROLLBACK;
    case STMT_EXEC: return CMD_EXECUTE;
    default: return CMD_NONE;
    }
}

/* Run-time errors that end the batch even with XACT_ABORT OFF (conversion
 * errors, deadlock victims) — Erland Sommarskog's "batch-abortion" class. */
static bool batch_aborting(int number)
{
    switch (number) {
    case 245: case 241: case 242: case 8114: case 8169: case 248: case 235: case 1205: case 3930:
    case 3931: case 3980:
        return true;
    }
    return false;
}

int ex_handle_error(sql_session *s, ast_stmt *st)
{
    hdb_err e = s->err;
    int line = s->err_line > 0 ? s->err_line : st ? st->line : s->cur_line;
    bool compile = s->err_batch;
    bool abort_batch = compile || s->err_abort || batch_aborting(e.number);
    bool raiserror = s->err_raiserror;
    s->err_batch = s->err_abort = s->err_raiserror = false;
    s->err_line = 0;
    hdb_err_clear(&s->err);
    if (e.number == 0)
        return EX_OK;
    ex_temp_display_names(s, &e);
    s->last_error = e.number;
    if (e.severity >= 20) {
        ex_report(s, &e, line);
        ex_tran_abort(s);
        return EX_FATAL;
    }
    if (e.number == 3980 && (s->interrupted || s->killed))
        return EX_CANCEL;       /* our own lock wait was cancelled: a quiet stop */
    bool xact_abort = s->opt.xact_abort && !compile && !raiserror;
    bool catchable = s->try_depth > 0 && e.severity > 10 && (!compile || s->scope_try_base > 0);
    if (catchable) {
        if (xact_abort && s->tx && s->trancount > 0)
            s->doomed = true;       /* XACT_ABORT inside TRY: uncommittable, not rolled back */
        else if (xact_abort && s->tx)
            ex_tran_abort(s);
        if (s->ncatch == s->cap_catch) {
            int nc = s->cap_catch ? s->cap_catch * 2 : 4;
            ex_errinfo *ns = realloc(s->catch_stack, sizeof *ns * (size_t)nc);
            if (!ns)
                return EX_FATAL;
            s->catch_stack = ns;
            s->cap_catch = nc;
        }
        ex_errinfo *ei = &s->catch_stack[s->ncatch++];
        memset(ei, 0, sizeof *ei);
        ei->number = e.number;
        ei->severity = e.severity;
        ei->state = e.state;
        ei->line = line;
        snprintf(ei->msg, sizeof ei->msg, "%s", e.msg);
        return EX_CATCH;
    }
    ex_report(s, &e, line);
    bool dml = st && (st->kind == STMT_INSERT || st->kind == STMT_UPDATE || st->kind == STMT_DELETE);
    if (dml && !abort_batch && !xact_abort && e.severity > 10)
        ex_info(s, 3621, 0, 0, "The statement has been terminated.");
    if (xact_abort && s->tx)
        ex_tran_abort(s);
    if (e.severity > 10 || !st)
        ex_done(s, SQL_DONE_ERROR, st ? stmt_cmd(st) : CMD_NONE, 0, false);
    if (xact_abort || (abort_batch && !compile))
        return EX_ABORT;
    if (compile)
        return EX_ABORT_SCOPE;
    return EX_OK;
}

/* ------------------------------------------------------------ conditions */

/* Evaluate a search condition as a little statement of its own (it may read
 * tables through subqueries). */
static int eval_cond(sql_session *s, ast_expr *cond, int *truth)
{
    if (ex_stmt_begin(s, false) < 0)
        return EX_ERROR;
    bscope sc = { 0 };
    bx *b = bx_bind_pred(s, &sc, cond);
    if (!b)
        return ex_stmt_end(s, -1), ex_bind_fail(s);
    ex_env env;
    ex_env_init(&env, s);
    int rc = ex_truth(&env, b, truth);
    rc = ex_stmt_end(s, rc);
    arena_reset(&s->stmt_arena);
    return rc < 0 ? EX_ERROR : EX_OK;
}

/* ------------------------------------------------------------ dispatch */

static int run_leaf(sql_session *s, ast_stmt *st)
{
    s->stmt_cmd = (int)stmt_cmd(st);
    switch (st->kind) {
    case STMT_SELECT: return ex_select(s, st);
    case STMT_INSERT: return ex_insert(s, st);
    case STMT_UPDATE: return ex_update(s, st);
    case STMT_DELETE: return ex_delete(s, st);
    case STMT_TRUNCATE_TABLE: return ex_truncate(s, st);
    case STMT_CREATE_DATABASE: case STMT_DROP_DATABASE: case STMT_CREATE_SCHEMA: case STMT_DROP_SCHEMA:
    case STMT_CREATE_TABLE: case STMT_ALTER_TABLE: case STMT_DROP_TABLE: case STMT_CREATE_INDEX:
    case STMT_DROP_INDEX: case STMT_ALTER_DATABASE:
        return ex_ddl(s, st);
    case STMT_USE: return ex_use(s, st->u.name, true);
    case STMT_DECLARE: return ex_declare(s, st);
    case STMT_SET_VAR: return ex_set_var(s, st);
    case STMT_SET_OPTION: return ex_set_option(s, st);
    case STMT_PRINT: return ex_print(s, st);
    case STMT_RAISERROR: return ex_raiserror(s, st);
    case STMT_THROW: return ex_throw(s, st);
    case STMT_WAITFOR: return ex_waitfor(s, st);
    case STMT_BEGIN_TRAN: case STMT_COMMIT: case STMT_ROLLBACK: case STMT_SAVE_TRAN:
        return ex_tran_stmt(s, st);
    case STMT_EXEC: return rpc_exec_stmt(s, st);
    case STMT_KILL: return ex_kill(s, st);
    case STMT_SHUTDOWN: return ex_shutdown(s, st);
    case STMT_CHECKPOINT: return ex_checkpoint(s, st);
    case STMT_RECONFIGURE: return ex_done(s, 0, CMD_NONE, 0, false);
    case STMT_BACKUP: return ex_backup(s, st);
    case STMT_RESTORE: return ex_restore(s, st);
    case STMT_DBCC: return ex_dbcc(s, st);
    case STMT_ENDPOINT: return ex_unsupported(s, st->u.endpoint.alter ? "ALTER ENDPOINT" : "CREATE ENDPOINT");
    case STMT_DROP_ENDPOINT: return ex_unsupported(s, "DROP ENDPOINT");
    case STMT_CREATE_PROCEDURE: return ex_unsupported(s, "CREATE PROCEDURE");
    case STMT_DROP_PROCEDURE: return ex_unsupported(s, "DROP PROCEDURE");
    case STMT_UNSUPPORTED: return ex_unsupported(s, st->u.unsupported.what ? st->u.unsupported.what : "This statement");
    default:
        return ex_unsupported(s, ast_stmt_kind_name(st->kind));
    }
}

static int run_while(sql_session *s, ast_stmt *st)
{
    for (;;) {
        if (ex_cancelled(s))
            return EX_CANCEL;
        int truth;
        int rc = eval_cond(s, st->u.while_.cond, &truth);
        if (rc == EX_ERROR) {
            rc = ex_handle_error(s, st);
            return rc;
        }
        if (truth != 1)
            return EX_OK;
        rc = ex_run_stmt(s, st->u.while_.body);
        if (rc == EX_BREAK)
            return EX_OK;
        if (rc == EX_CONTINUE || rc == EX_OK)
            continue;
        return rc;
    }
}

static int run_try(sql_session *s, ast_stmt *st)
{
    s->try_depth++;
    int rc = ex_run_list(s, &st->u.try_.try_body);
    s->try_depth--;
    if (rc != EX_CATCH)
        return rc;
    int mine = s->ncatch - 1;          /* this CATCH's error, for ERROR_*() */
    rc = ex_run_list(s, &st->u.try_.catch_body);
    /* drop it; an error the CATCH block raised for an outer TRY stays above */
    if (mine >= 0 && mine < s->ncatch) {
        memmove(&s->catch_stack[mine], &s->catch_stack[mine + 1], sizeof *s->catch_stack * (size_t)(s->ncatch - mine - 1));
        s->ncatch--;
    }
    return rc;
}

int ex_run_stmt(sql_session *s, ast_stmt *st)
{
    if (!st)
        return EX_OK;
    if (s->sink_failed)
        return EX_FATAL;
    if (ex_cancelled(s))
        return s->killed ? EX_FATAL : EX_CANCEL;
    s->cur_line = st->line;
    if (s->opt.noexec && !(st->kind == STMT_SET_OPTION && st->u.set_option.names.n &&
                           !strcmp(st->u.set_option.names.v[0], "NOEXEC")))
        return EX_OK;
    switch (st->kind) {
    case STMT_IF: {
        int truth;
        int rc = eval_cond(s, st->u.if_.cond, &truth);
        if (rc == EX_ERROR)
            return ex_handle_error(s, st);
        if (truth == 1)
            return ex_run_stmt(s, st->u.if_.then);
        return ex_run_stmt(s, st->u.if_.else_);
    }
    case STMT_WHILE:
        return run_while(s, st);
    case STMT_BLOCK:
        return ex_run_list(s, &st->u.block);
    case STMT_TRY:
        return run_try(s, st);
    case STMT_BREAK:
        return EX_BREAK;
    case STMT_CONTINUE:
        return EX_CONTINUE;
    case STMT_RETURN:
        if (st->u.expr) {
            sql_value v;
            sql_type t;
            int rc = ex_eval_scalar(s, st->u.expr, &v, &t);
            if (rc == EX_ERROR)
                return ex_handle_error(s, st);
            if (rc == EX_OK && !v.is_null && t.id >= SQL_TINYINT && t.id <= SQL_BIGINT)
                s->return_status = (int)v.u.i;
        }
        return EX_RETURN;
    case STMT_GOTO:
        s->goto_label = st->u.name;
        return EX_GOTO;
    case STMT_LABEL:
        return EX_OK;
    default:
        break;
    }
    hdb_err_clear(&s->err);
    s->err_line = 0;
    int rc = run_leaf(s, st);
    if (rc == EX_ERROR)
        rc = ex_handle_error(s, st);
    else if (rc == EX_OK)
        s->last_error = 0;
    arena_reset(&s->stmt_arena);
    arena_reset(&s->row_arena);
    if (s->sink_failed)
        return EX_FATAL;
    return rc;
}

int ex_run_list(sql_session *s, ast_stmt_list *l)
{
    for (int i = 0; i < l->n; i++) {
        int rc = ex_run_stmt(s, l->v[i]);
        if (rc == EX_GOTO) {
            int k;
            for (k = 0; k < l->n; k++)
                if (l->v[k]->kind == STMT_LABEL && ex_name_eq(l->v[k]->u.name, s->goto_label))
                    break;
            if (k == l->n)
                return EX_GOTO;
            i = k;
            continue;
        }
        if (rc != EX_OK)
            return rc;
    }
    return EX_OK;
}

int ex_run_batch(sql_session *s, ast_batch *b)
{
    ast_stmt *u = find_unsupported(&b->stmts);
    if (u) {
        hdb_err e;
        char m[300];
        if (u->kind == STMT_CREATE_PROCEDURE)
            snprintf(m, sizeof m, "CREATE PROCEDURE is not supported yet.");
        else
            snprintf(m, sizeof m, "%s is not supported yet.", u->u.unsupported.what ? u->u.unsupported.what : "This statement");
        hdb_raise_text(&e, 40001, 16, 1, m);
        if (s->scope_depth > 0) {
            s->err = e;
            s->err_line = u->line;
            return EX_ERROR;
        }
        ex_report(s, &e, u->line);
        ex_done(s, SQL_DONE_ERROR, CMD_NONE, 0, false);
        return EX_ABORT;
    }
    predeclare(s, &b->stmts);
    int rc = ex_run_list(s, &b->stmts);
    if (rc == EX_RETURN || rc == EX_GOTO || rc == EX_BREAK || rc == EX_CONTINUE || rc == EX_ABORT_SCOPE)
        rc = EX_OK;
    return rc;
}

/* Runs a tree with the parameter values of this text (NULL: the tree's own). */
static int run_tree(sql_session *s, ast_batch *b, const char *text, const plan_lit *lits)
{
    const char *saved_src = s->batch_src;
    const plan_lit *saved_lits = s->lits;
    s->batch_src = text;
    s->lits = lits;
    int rc = ex_run_batch(s, b);
    s->batch_src = saved_src;
    s->lits = saved_lits;
    return rc;
}

int ex_run_text(sql_session *s, const char *text, size_t len, const char *const *declared, int ndeclared)
{
    arena a;
    arena_init(&a, 4096);   /* small chunks: a cached tree keeps its arena */
    arena_set_limit(&a, (size_t)256 << 20);
    int rc;
    plan_scan *sc = plancache_enabled()
                  ? plancache_scan(&a, text, len, s->opt.quoted_identifier, declared, ndeclared) : NULL;
    const plan_lit *lits;
    plan_entry *pe = sc ? plancache_lookup(sc, text, &a, &lits) : NULL;
    if (pe) {
        ast_batch run = *plancache_batch(pe);   /* shared and read-only */
        run.src = text;
        run.src_len = len;
        rc = run_tree(s, &run, text, lits);
        plancache_release(pe);
        arena_destroy(&a);
        return rc;
    }

    parse_opts po = { .quoted_identifier = s->opt.quoted_identifier, .declared = declared,
                      .ndeclared = ndeclared };
    ast_batch *b = NULL;
    hdb_err e;
    hdb_err_clear(&e);
    int line = 1;
    if (parse_batch(&a, text, len, &po, &b, &e, &line) < 0) {
        arena_destroy(&a);
        if (e.number == 0)
            hdb_raise_text(&e, 102, 15, 1, "Incorrect syntax.");
        if (s->scope_depth > 0) {
            /* a compile error of dynamic SQL is the EXEC statement's error in
             * the caller: it does not end the caller's batch */
            s->err = e;
            s->err_line = line;
            return EX_ERROR;
        }
        s->last_error = e.number;
        ex_report(s, &e, line);
        ex_done(s, SQL_DONE_ERROR, CMD_NONE, 0, false);
        return EX_ABORT;
    }
    /* published, the tree moves into the cache with its arena (a is then
     * empty); this run uses the tree's own literals either way */
    pe = sc ? plancache_insert(sc, text, &a, b) : NULL;
    rc = run_tree(s, b, text, NULL);
    if (pe)
        plancache_release(pe);
    arena_destroy(&a);
    return rc;
}

int ex_run_nested(sql_session *s, const char *text, size_t len, const char *const *declared, int ndeclared,
                  int (*declare)(sql_session *s, void *ctx), void *ctx)
{
    /* a new scope: own variables, own statement memory (the caller's stays
     * intact), results as DONEINPROC */
    if (s->scope_depth >= 32)
        return ex_failf(s, 217, 16, 1, "Maximum stored procedure, function, trigger, or view nesting level exceeded (limit 32).");
    arena saved_stmt = s->stmt_arena, saved_row = s->row_arena;
    arena_init(&s->stmt_arena, 0);
    arena_init(&s->row_arena, 0);
    int saved_base = s->var_base, saved_kind = s->done_kind, saved_try = s->scope_try_base;
    int saved_nvars = s->nvars;
    s->scope_depth++;
    s->var_base = s->nvars;
    s->done_kind = SQL_DONEINPROC;
    s->scope_try_base = s->try_depth;
    int rc = declare ? declare(s, ctx) : 0;
    if (rc == 0)
        rc = ex_run_text(s, text, len, declared, ndeclared);
    else
        rc = EX_ERROR;
    arena_destroy(&s->stmt_arena);
    arena_destroy(&s->row_arena);
    s->stmt_arena = saved_stmt;
    s->row_arena = saved_row;
    s->scope_depth--;
    ex_temp_cleanup(s, s->scope_depth + 1);   /* its #tables end with it */
    s->done_kind = saved_kind;
    s->scope_try_base = saved_try;
    /* the callee's variables die with its scope; the caller reads OUTPUT
     * values before calling ex_vars_pop itself (see rpc.c), so keep them
     * until then: only restore the visibility base */
    s->var_base = saved_base;
    (void)saved_nvars;
    return rc;
}
