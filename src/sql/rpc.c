/*
 * rpc.c — procedure calls: the RPCs drivers send (sp_executesql, sp_prepare,
 * sp_execute, sp_prepexec, sp_unprepare) and EXEC from T-SQL (of those
 * procedures, and EXEC ('dynamic sql')).
 *
 * Parameter binding follows what the clients force (TDS reference §6.3): the
 * fixed leading parameters of the special procedures bind by position (tedious
 * calls sp_executesql's @stmt "@statement"); the user's values bind by name
 * when named, else by position against the @params declaration.
 *
 * Response of an RPC: the statements' results with DONEINPROC, then
 * RETURNSTATUS, the OUTPUT parameters as RETURNVALUE (in call order), DONEPROC.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sql/exec_int.h"

/* ------------------------------------------------------------ prepared statements */

void rpc_free_prepared(sql_session *s)
{
    for (int i = 0; i < s->nprep; i++) {
        free(s->preps[i].params);
        free(s->preps[i].stmt);
    }
    free(s->preps);
    s->preps = NULL;
    s->nprep = s->cap_prep = 0;
}

static ex_prepared *find_prep(sql_session *s, int handle)
{
    for (int i = 0; i < s->nprep; i++)
        if (s->preps[i].handle == handle)
            return &s->preps[i];
    return NULL;
}

static int add_prep(sql_session *s, const char *params, const char *stmt, int *handle)
{
    if (s->nprep == s->cap_prep) {
        int nc = s->cap_prep ? s->cap_prep * 2 : 8;
        ex_prepared *np = realloc(s->preps, sizeof *np * (size_t)nc);
        if (!np)
            return -1;
        s->preps = np;
        s->cap_prep = nc;
    }
    ex_prepared *p = &s->preps[s->nprep];
    p->params = params ? strdup(params) : NULL;
    p->stmt = strdup(stmt ? stmt : "");
    if ((params && !p->params) || !p->stmt) {
        free(p->params);
        free(p->stmt);
        return -1;
    }
    p->handle = s->next_handle++;
    *handle = p->handle;
    s->nprep++;
    return 0;
}

static void drop_prep(sql_session *s, int handle)
{
    for (int i = 0; i < s->nprep; i++) {
        if (s->preps[i].handle != handle)
            continue;
        free(s->preps[i].params);
        free(s->preps[i].stmt);
        s->preps[i] = s->preps[--s->nprep];
        return;
    }
}

/* ------------------------------------------------------------ declarations */

typedef struct pdecl {
    const char *name;
    sql_type    type;
    bool        output;
} pdecl;

/* "@a int, @b decimal(10,2) OUTPUT" -> names, types, OUTPUT flags, parsed
 * with the real parser as a DECLARE so every type spelling works. */
static int parse_decl(sql_session *s, arena *a, const char *decl, pdecl **out, int *n)
{
    *out = NULL;
    *n = 0;
    if (!decl)
        return 0;
    size_t len = strlen(decl);
    char *buf = arena_alloc(a, len * 2 + 16);
    bool *outs = arena_calloc(a, sizeof(bool) * (len + 1));
    if (!buf || !outs)
        return ex_failf(s, 701, 19, 1, "There is insufficient system memory to run this query.");
    /* copy piece by piece, dropping OUTPUT / OUT / READONLY words */
    size_t o = (size_t)sprintf(buf, "DECLARE ");
    int depth = 0, piece = 0;
    size_t start = 0;
    bool any = false;
    for (size_t i = 0; i <= len; i++) {
        char c = i < len ? decl[i] : ',';
        if (c == '(')
            depth++;
        if (c == ')')
            depth--;
        if (c == ',' && depth == 0) {
            size_t b = start, e = i;
            while (b < e && isspace((unsigned char)decl[b]))
                b++;
            while (e > b && isspace((unsigned char)decl[e - 1]))
                e--;
            for (;;) {
                size_t w = e;
                while (w > b && !isspace((unsigned char)decl[w - 1]))
                    w--;
                if (w > b && (!strncasecmp(decl + w, "OUTPUT", e - w > 6 ? 6 : e - w) ||
                              !strncasecmp(decl + w, "OUT", e - w > 3 ? 3 : e - w)) &&
                    (e - w == 6 || e - w == 3)) {
                    outs[piece] = true;
                } else if (w > b && e - w == 8 && !strncasecmp(decl + w, "READONLY", 8)) {
                    /* table-valued parameters only */
                } else {
                    break;
                }
                e = w;
                while (e > b && isspace((unsigned char)decl[e - 1]))
                    e--;
            }
            if (e > b) {
                if (any)
                    buf[o++] = ',';
                ex_mcpy(buf + o, decl + b, e - b);
                o += e - b;
                any = true;
                piece++;
            }
            start = i + 1;
        }
    }
    buf[o] = 0;
    if (!any)
        return 0;
    ast_batch *b;
    hdb_err e;
    hdb_err_clear(&e);
    int line;
    parse_opts po = { .quoted_identifier = true, .no_variable_check = true };
    if (parse_batch(a, buf, o, &po, &b, &e, &line) < 0 || b->stmts.n != 1 || b->stmts.v[0]->kind != STMT_DECLARE) {
        if (e.number)
            s->err = e;
        else
            ex_failf(s, 102, 15, 1, "Incorrect syntax near '%.100s'.", decl);
        return -1;
    }
    ast_declare_list *dl = &b->stmts.v[0]->u.declare;
    pdecl *d = arena_calloc(a, sizeof *d * (size_t)(dl->n ? dl->n : 1));
    if (!d)
        return ex_failf(s, 701, 19, 1, "There is insufficient system memory to run this query.");
    for (int i = 0; i < dl->n; i++) {
        if (dl->v[i]->type.t.id == SQL_TYPE_NONE)
            return ex_failf(s, 2715, 16, 3, "Column, parameter, or variable #%d: Cannot find data type %s.", i + 1,
                            dl->v[i]->type.name ? dl->v[i]->type.name : "?");
        d[i].name = dl->v[i]->name;
        d[i].type = dl->v[i]->type.t;
        d[i].output = i < piece && outs[i];
    }
    *out = d;
    *n = dl->n;
    return 0;
}

/* ------------------------------------------------------------ running statements */

typedef struct call {
    sql_session         *s;
    const sql_rpc_param *params;    /* user values (after the fixed ones) */
    int                  nparams;
    int                  first;     /* ordinal of params[0] in the RPC */
    pdecl               *decl;
    int                  ndecl;
    int                 *bound;     /* decl i -> params index, -1 default */
    int                  var_base;  /* first variable of the callee */
} call;

static int declare_params(sql_session *s, void *ctx)
{
    call *c = ctx;
    c->var_base = s->nvars;
    ex_env env;
    ex_env_init(&env, s);
    for (int i = 0; i < c->ndecl; i++) {
        int idx = ex_var_declare(s, c->decl[i].name, &c->decl[i].type);
        if (idx < 0)
            return ex_failf(s, 701, 19, 1, "There is insufficient system memory to run this query."), -1;
        int k = c->bound[i];
        if (k < 0)
            continue;
        const sql_rpc_param *p = &c->params[k];
        if (p->is_default)
            continue;
        if (ex_var_assign(&env, idx, &p->value, &p->type) < 0)
            return -1;
    }
    return 0;
}

static int bind_values(sql_session *s, call *c, const char *stmt)
{
    c->bound = arena_alloc(&s->stmt_arena, sizeof(int) * (size_t)(c->ndecl ? c->ndecl : 1));
    if (!c->bound)
        return ex_failf(s, 701, 19, 1, "There is insufficient system memory to run this query.");
    int pos = 0;
    for (int i = 0; i < c->ndecl; i++)
        c->bound[i] = -1;
    for (int k = 0; k < c->nparams; k++) {
        const sql_rpc_param *p = &c->params[k];
        int d = -1;
        if (p->name && p->name[0]) {
            for (int i = 0; i < c->ndecl; i++)
                if (ex_name_eq(c->decl[i].name, p->name))
                    d = i;
            if (d < 0)
                return ex_failf(s, 8145, 16, 1, "%s is not a parameter for procedure sp_executesql.", p->name);
        } else {
            d = pos;
            if (d >= c->ndecl)
                return ex_failf(s, 8144, 16, 2, "Procedure or function sp_executesql has too many arguments specified.");
        }
        c->bound[d] = k;
        pos = d + 1;
    }
    for (int i = 0; i < c->ndecl; i++) {
        if (c->bound[i] < 0 && !c->decl[i].output) {
            char decl[600] = "";
            size_t o = 0;
            for (int k = 0; k < c->ndecl && o < sizeof decl - 1; k++)
                o += (size_t)snprintf(decl + o, sizeof decl - o, "%s%s", k ? "," : "", c->decl[k].name);
            return ex_failf(s, 8178, 16, 1, "The parameterized query '(%s)%.200s' expects the parameter '%s', which was not supplied.",
                            decl, stmt, c->decl[i].name);
        }
    }
    return 0;
}

typedef struct outv {
    int         ordinal;
    const char *name;
    sql_type    type;
    sql_value   value;
    int         var;           /* EXEC from T-SQL: caller's variable, else -1 */
} outv;

/* Run `stmt` with its declared parameters in a new scope; collect OUTPUT
 * values into outs (copied, the scope's variables die here). */
static int run_with_params(sql_session *s, const char *stmt, const char *decl, const sql_rpc_param *params,
                           int nparams, int first_ordinal, outv *outs, int *nouts)
{
    call c = { .s = s, .params = params, .nparams = nparams, .first = first_ordinal };
    if (parse_decl(s, &s->stmt_arena, decl, &c.decl, &c.ndecl) < 0)
        return EX_ERROR;
    if (bind_values(s, &c, stmt) < 0)
        return EX_ERROR;
    const char **names = arena_alloc(&s->stmt_arena, sizeof(char *) * (size_t)(c.ndecl ? c.ndecl : 1));
    if (!names)
        return ex_failf(s, 701, 19, 1, "There is insufficient system memory to run this query.");
    for (int i = 0; i < c.ndecl; i++)
        names[i] = c.decl[i].name;
    int saved_nvars = s->nvars;
    int rc = ex_run_nested(s, stmt, strlen(stmt), names, c.ndecl, declare_params, &c);
    /* OUTPUT values, in call order */
    *nouts = 0;
    for (int i = 0; i < c.ndecl && rc != EX_FATAL; i++) {
        int k = c.bound[i];
        if (!c.decl[i].output || k < 0 || !params[k].output)
            continue;
        int idx = c.var_base + i;
        if (idx >= s->nvars)
            continue;
        outv *o = &outs[(*nouts)++];
        o->ordinal = first_ordinal + k;
        o->name = params[k].name;
        o->type = c.decl[i].type;
        if (cv_copy(&s->stmt_arena, &s->vars[idx].v, &o->value) < 0)
            o->value = value_null(o->type.id);
        o->var = -1;
    }
    ex_vars_pop(s, saved_nvars);
    return rc;
}

/* ------------------------------------------------------------ the procedures */

static char *param_text(sql_session *s, const sql_rpc_param *p)
{
    if (p->value.is_null)
        return NULL;
    if (!value_type_is_string(p->type.id))
        return NULL;
    return cv_utf8(&s->stmt_arena, &p->value, &p->type);
}

static int param_int(const sql_rpc_param *p, int *out)
{
    if (p->value.is_null || !(p->type.id >= SQL_TINYINT && p->type.id <= SQL_BIGINT))
        return -1;
    *out = (int)p->value.u.i;
    return 0;
}

typedef struct rpc_result {
    outv   *outs;
    int     nouts;
    bool    has_handle;
    int     handle;
    int     handle_ordinal;
    const char *handle_name;
} rpc_result;

static int proc_dispatch(sql_session *s, const char *proc, const sql_rpc_param *params, int n, rpc_result *res)
{
    const char *pn = proc;
    /* sys.sp_executesql / master.dbo.sp_executesql name the same procedure */
    const char *dot = strrchr(pn, '.');
    if (dot)
        pn = dot + 1;
    if (!strcasecmp(pn, "sp_executesql")) {
        if (n < 1 || !value_type_is_string(params[0].type.id))
            return ex_failf(s, 214, 16, 2, "Procedure expects parameter '@statement' of type 'ntext/nchar/nvarchar'.");
        char *stmt = param_text(s, &params[0]);
        char *decl = n > 1 ? param_text(s, &params[1]) : NULL;
        if (!stmt)
            return EX_OK;
        return run_with_params(s, stmt, decl, params + (n > 1 ? 2 : 1), n > 1 ? n - 2 : 0, n > 1 ? 2 : 1, res->outs, &res->nouts);
    }
    if (!strcasecmp(pn, "sp_prepare") || !strcasecmp(pn, "sp_prepexec")) {
        bool exec = !strcasecmp(pn, "sp_prepexec");
        if (n < 3)
            return ex_failf(s, 201, 16, 4, "Procedure or function '%s' expects parameter '@stmt', which was not supplied.", pn);
        char *decl = param_text(s, &params[1]);
        char *stmt = param_text(s, &params[2]);
        if (!stmt)
            return ex_failf(s, 214, 16, 2, "Procedure expects parameter '@statement' of type 'ntext/nchar/nvarchar'.");
        int handle;
        if (add_prep(s, decl, stmt, &handle) < 0)
            return ex_failf(s, 701, 19, 1, "There is insufficient system memory to run this query.");
        res->has_handle = true;
        res->handle = handle;
        res->handle_ordinal = 0;
        res->handle_name = params[0].name;
        if (!exec)
            return EX_OK;
        return run_with_params(s, stmt, decl, params + 3, n - 3, 3, res->outs, &res->nouts);
    }
    if (!strcasecmp(pn, "sp_execute")) {
        int handle;
        if (n < 1 || param_int(&params[0], &handle) < 0)
            return ex_failf(s, 201, 16, 4, "Procedure or function 'sp_execute' expects parameter '@handle', which was not supplied.");
        ex_prepared *p = find_prep(s, handle);
        if (!p)
            return ex_failf(s, 8179, 16, 2, "Could not find prepared statement with handle %d.", handle);
        /* copy: a nested sp_unprepare could free them */
        char *stmt = arena_strdup(&s->stmt_arena, p->stmt);
        char *decl = p->params ? arena_strdup(&s->stmt_arena, p->params) : NULL;
        if (!stmt)
            return ex_failf(s, 701, 19, 1, "There is insufficient system memory to run this query.");
        return run_with_params(s, stmt, decl, params + 1, n - 1, 1, res->outs, &res->nouts);
    }
    if (!strcasecmp(pn, "sp_unprepare")) {
        int handle;
        if (n < 1 || param_int(&params[0], &handle) < 0)
            return ex_failf(s, 201, 16, 4, "Procedure or function 'sp_unprepare' expects parameter '@handle', which was not supplied.");
        drop_prep(s, handle);
        return EX_OK;
    }
    if (sysproc_is_datatype_info(pn))
        return sysproc_datatype_info(s, params, n);
    if (sysproc_is_device_proc(pn))
        return sysproc_device(s, pn, params, n);
    if (sysproc_is_attach_proc(pn))
        return sysproc_attach(s, pn, params, n);
    if (!strncasecmp(pn, "sp_cursor", 9) || !strcasecmp(pn, "sp_prepexecrpc"))
        return ex_failf(s, 40025, 16, 1, "%s is not supported yet.", pn);
    return ex_failf(s, 2812, 16, 62, "Could not find stored procedure '%s'.", proc);
}

static int send_proc_end(sql_session *s, int32_t status, rpc_result *res, bool rpc)
{
    const sql_sink *k = s->sink;
    if (!k)
        return 0;
    if (ex_reads_durable(s, &s->err) < 0) {      /* a failed log: values withheld */
        ex_report(s, &s->err, s->cur_line);
        rpc = false;
    } else if (k->return_status && k->return_status(k->ctx, status) < 0) {
        s->sink_failed = true;
    }
    if (rpc && k->return_value) {
        if (res->has_handle) {
            sql_type it = value_type(SQL_INT, 0, 0, 0);
            sql_value hv = value_int(SQL_INT, res->handle);
            if (k->return_value(k->ctx, res->handle_ordinal, res->handle_name ? res->handle_name : "", &it, &hv) < 0)
                s->sink_failed = true;
        }
        for (int i = 0; i < res->nouts; i++) {
            outv *o = &res->outs[i];
            ex_env env;
            ex_env_init(&env, s);
            sql_column col = { .type = o->type };
            q_fit_row(&env, &col, 1, &o->value);
            if (k->return_value(k->ctx, o->ordinal, o->name ? o->name : "", &o->type, &o->value) < 0)
                s->sink_failed = true;
        }
    }
    unsigned st = s->rpc_error ? SQL_DONE_ERROR : 0;
    s->dones_sent++;
    if (k->done && k->done(k->ctx, SQL_DONEPROC, st, CMD_EXECUTE, 0) < 0)
        s->sink_failed = true;
    return 0;
}

/* The RPC request. */
int rpc_execute(sql_session *s, const char *proc, const sql_rpc_param *params, int nparams)
{
    rpc_result res = { 0 };
    res.outs = arena_calloc(&s->stmt_arena, sizeof(outv) * (size_t)(nparams + 1));
    hdb_err_clear(&s->err);
    int rc = res.outs ? proc_dispatch(s, proc, params, nparams, &res) : EX_FATAL;
    if (rc == EX_ERROR) {
        /* errors of the call itself (bad parameters, unknown procedure) */
        hdb_err e = s->err;
        int line = s->err_line > 0 ? s->err_line : 1;
        hdb_err_clear(&s->err);
        s->err_batch = s->err_abort = s->err_raiserror = false;
        s->last_error = e.number;
        if (e.severity >= 20) {
            ex_report(s, &e, line);
            return EX_FATAL;
        }
        ex_report(s, &e, line);
    }
    if (rc == EX_FATAL || s->sink_failed)
        return EX_FATAL;
    send_proc_end(s, s->return_status, &res, true);
    s->return_status = 0;
    arena_reset(&s->stmt_arena);
    return s->sink_failed ? EX_FATAL : EX_OK;
}

/* EXEC from T-SQL. */
int rpc_exec_stmt(sql_session *s, ast_stmt *st)
{
    ast_exec *ex = &st->u.exec;
    ex_env env;
    ex_env_init(&env, s);
    if (ex->is_string) {
        if (ex->at_server)
            return ex_failf(s, 40026, 16, 1, "EXEC ... AT linked server is not supported yet.");
        /* EXEC ('...' + @x): concatenate the parts */
        size_t total = 0;
        char **parts = arena_alloc(&s->stmt_arena, sizeof(char *) * (size_t)(ex->strings.n ? ex->strings.n : 1));
        if (!parts)
            return ex_failf(s, 701, 19, 1, "There is insufficient system memory to run this query.");
        for (int i = 0; i < ex->strings.n; i++) {
            bscope sc = { 0 };
            bx *b = bx_bind(s, &sc, ex->strings.v[i]);
            if (!b)
                return ex_bind_fail(s);
            sql_value v;
            if (ex_eval(&env, b, &v) < 0)
                return EX_ERROR;
            parts[i] = v.is_null ? "" : cv_utf8(&s->stmt_arena, &v, &b->t);
            if (!parts[i])
                return ex_failf(s, 701, 19, 1, "There is insufficient system memory to run this query.");
            total += strlen(parts[i]);
        }
        char *text = arena_alloc(&s->stmt_arena, total + 1);
        if (!text)
            return ex_failf(s, 701, 19, 1, "There is insufficient system memory to run this query.");
        size_t o = 0;
        for (int i = 0; i < ex->strings.n; i++) {
            size_t l = strlen(parts[i]);
            ex_mcpy(text + o, parts[i], l);
            o += l;
        }
        text[o] = 0;
        int rc = ex_run_nested(s, text, o, NULL, 0, NULL, NULL);
        int saved = s->nvars;
        (void)saved;
        return rc;
    }
    const char *proc = NULL;
    char namebuf[600];
    if (ex->proc_var) {
        int idx = ex_var_find(s, ex->proc_var);
        if (idx < 0)
            return ex_failf(s, 137, 15, 2, "Must declare the scalar variable \"%s\".", ex->proc_var), ex_bind_fail(s);
        char *u = cv_utf8(&s->stmt_arena, &s->vars[idx].v, &s->vars[idx].type);
        snprintf(namebuf, sizeof namebuf, "%s", u ? u : "");
        proc = namebuf;
    } else {
        if (ex->proc.server)
            return ex_failf(s, 40026, 16, 1, "Remote procedure calls (%s) are not supported yet.", ex->proc.server);
        proc = ex->proc.object;
    }
    int n = ex->args.n;
    sql_rpc_param *ps = arena_calloc(&s->stmt_arena, sizeof *ps * (size_t)(n ? n : 1));
    int *vars = arena_alloc(&s->stmt_arena, sizeof(int) * (size_t)(n ? n : 1));
    if (!ps || !vars)
        return ex_failf(s, 701, 19, 1, "There is insufficient system memory to run this query.");
    for (int i = 0; i < n; i++) {
        ast_exec_arg *a = ex->args.v[i];
        vars[i] = -1;
        ps[i].name = a->param;
        ps[i].output = a->output;
        ps[i].is_default = a->is_default;
        if (a->is_default || !a->value) {
            ps[i].value = value_null(SQL_INT);
            ps[i].type = value_type(SQL_INT, 0, 0, 0);
            continue;
        }
        bscope sc = { 0 };
        bx *b = bx_bind(s, &sc, a->value);
        if (!b)
            return ex_bind_fail(s);
        if (a->output && b->kind == BX_VAR)
            vars[i] = b->u.var;
        sql_value v;
        if (ex_eval(&env, b, &v) < 0)
            return EX_ERROR;
        if (cv_copy(&s->stmt_arena, &v, &ps[i].value) < 0)
            return ex_failf(s, 701, 19, 1, "There is insufficient system memory to run this query.");
        ps[i].type = b->t;
    }
    rpc_result res = { 0 };
    res.outs = arena_calloc(&s->stmt_arena, sizeof(outv) * (size_t)(n + 1));
    if (!res.outs)
        return ex_failf(s, 701, 19, 1, "There is insufficient system memory to run this query.");
    int saved_kind = s->done_kind;
    int rc = proc_dispatch(s, proc, ps, n, &res);
    s->done_kind = saved_kind;
    if (rc == EX_ERROR || rc == EX_FATAL || rc == EX_ABORT || rc == EX_CATCH || rc == EX_CANCEL)
        return rc;
    /* OUTPUT values back into the caller's variables */
    for (int i = 0; i < res.nouts; i++) {
        int k = res.outs[i].ordinal;
        int first = 0;
        (void)first;
        for (int a = 0; a < n; a++) {
            if (a != k)
                continue;
            if (vars[a] >= 0 && ex_var_assign(&env, vars[a], &res.outs[i].value, &res.outs[i].type) < 0)
                return EX_ERROR;
        }
    }
    if (res.has_handle && n > 0 && vars[0] >= 0) {
        sql_value hv = value_int(SQL_INT, res.handle);
        sql_type it = value_type(SQL_INT, 0, 0, 0);
        if (ex_var_assign(&env, vars[0], &hv, &it) < 0)
            return EX_ERROR;
    }
    if (ex->return_var) {
        int idx = ex_var_find(s, ex->return_var);
        if (idx >= 0) {
            sql_value rv = value_int(SQL_INT, s->return_status);
            sql_type it = value_type(SQL_INT, 0, 0, 0);
            if (ex_var_assign(&env, idx, &rv, &it) < 0)
                return EX_ERROR;
        }
    }
    int saved = s->done_kind;
    s->done_kind = SQL_DONEPROC;
    send_proc_end(s, s->return_status, &res, false);
    s->done_kind = saved;
    s->return_status = 0;
    return s->sink_failed ? EX_FATAL : EX_OK;
}
