/*
 * expr_sys.c — system functions (DB_NAME, DB_ID, OBJECT_ID, SERVERPROPERTY,
 * ERROR_NUMBER and the other ERROR_* of CATCH blocks, XACT_STATE,
 * SCOPE_IDENTITY, ...) and the @@variables (@@TRANCOUNT, @@ROWCOUNT,
 * @@ERROR, @@IDENTITY, @@SPID, @@VERSION, @@OPTIONS, ...).
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "engine/dbstate.h"
#include "sql/exec_int.h"

const char *ex_server_name(void);

sql_value fn_nstr(ex_env *env, const char *u8)
{
    return u8 ? cv_str(env->a, u8, true) : value_null(SQL_NVARCHAR);
}

/* ---- names of objects ---- */

/* Split 'a.b.c' (brackets / quotes allowed) into up to 3 parts, right-aligned:
 * parts[2] = object, parts[1] = schema, parts[0] = database. */
static int split_name(const char *s, char parts[3][130])
{
    char tmp[3][130];
    int n = 0;
    memset(parts, 0, 3 * 130);
    while (*s && n < 3) {
        size_t o = 0;
        if (*s == '[' || *s == '"') {
            char close = *s == '[' ? ']' : '"';
            s++;
            while (*s && !(*s == close && s[1] != close)) {
                if (*s == close)
                    s++;
                if (o < 129)
                    tmp[n][o++] = *s;
                s++;
            }
            if (*s)
                s++;
        } else {
            while (*s && *s != '.') {
                if (o < 129)
                    tmp[n][o++] = *s;
                s++;
            }
        }
        tmp[n][o] = 0;
        n++;
        if (*s == '.')
            s++;
        else
            break;
    }
    if (*s)
        return -1;
    for (int i = 0; i < n; i++)
        memcpy(parts[3 - n + i], tmp[i], 130);
    return n;
}

static char *arg_utf8(ex_env *env, const bx *a, const sql_value *v)
{
    return cv_utf8(env->a, v, &a->t);
}

typedef struct find_id_ctx { uint32_t id; const char *name; } find_id_ctx;

static int find_by_id(void *ctx, table_def *td)
{
    find_id_ctx *c = ctx;
    if (td->object_id == c->id) {
        c->name = td->name;
        return 1;
    }
    return 0;
}

static int server_property(ex_env *env, const char *prop, sql_value *out)
{
    extern const char *ex_server_name(void);
    const char *v = NULL;
    char buf[64];
    if (!strcasecmp(prop, "ProductVersion")) v = "16.0.2000.0";
    else if (!strcasecmp(prop, "ProductLevel")) v = "RTM";
    else if (!strcasecmp(prop, "ProductMajorVersion")) v = "16";
    else if (!strcasecmp(prop, "ProductMinorVersion")) v = "0";
    else if (!strcasecmp(prop, "Edition")) v = "Developer Edition (64-bit)";
    else if (!strcasecmp(prop, "EngineEdition")) v = "3";
    else if (!strcasecmp(prop, "ServerName") || !strcasecmp(prop, "MachineName")) v = ex_server_name();
    else if (!strcasecmp(prop, "InstanceName")) v = NULL;
    else if (!strcasecmp(prop, "Collation")) v = "SQL_Latin1_General_CP1_CI_AS";
    else if (!strcasecmp(prop, "IsHadrEnabled")) v = "0";
    else if (!strcasecmp(prop, "IsClustered")) v = "0";
    else if (!strcasecmp(prop, "IsIntegratedSecurityOnly")) v = "0";
    else if (!strcasecmp(prop, "IsSingleUser")) v = "0";
    else if (!strcasecmp(prop, "ProcessID")) { snprintf(buf, sizeof buf, "%d", (int)getpid()); v = buf; }
    *out = fn_nstr(env, v);
    return 0;
}

/* SESSIONPROPERTY: the SET options of this session, 1 or 0; NULL when the
 * name is not one of them. */
static int session_property(ex_env *env, const char *prop, sql_value *out)
{
    const ex_opts *o = &env->s->opt;
    static const struct { const char *name; size_t off; } props[] = {
        { "ANSI_NULLS", offsetof(ex_opts, ansi_nulls) },
        { "ANSI_PADDING", offsetof(ex_opts, ansi_padding) },
        { "ANSI_WARNINGS", offsetof(ex_opts, ansi_warnings) },
        { "ARITHABORT", offsetof(ex_opts, arithabort) },
        { "CONCAT_NULL_YIELDS_NULL", offsetof(ex_opts, concat_null) },
        { "NUMERIC_ROUNDABORT", offsetof(ex_opts, numeric_roundabort) },
        { "QUOTED_IDENTIFIER", offsetof(ex_opts, quoted_identifier) },
    };
    for (size_t i = 0; i < sizeof props / sizeof props[0]; i++) {
        if (!strcasecmp(prop, props[i].name)) {
            bool on = *(const bool *)((const char *)o + props[i].off);
            *out = value_int(SQL_INT, on ? 1 : 0);
            return 0;
        }
    }
    *out = value_null(SQL_INT);
    return 0;
}

static int database_property(ex_env *env, const char *db, const char *prop, sql_value *out)
{
    database *d = inst_find_database(env->s->in, db);
    const char *v = NULL;
    if (d) {
        if (!strcasecmp(prop, "Status")) v = db_state_desc(d->state);
        else if (!strcasecmp(prop, "Recovery"))
            v = d->boot.recovery_model == RECOVERY_SIMPLE ? "SIMPLE" : d->boot.recovery_model == RECOVERY_BULK_LOGGED ? "BULK_LOGGED" : "FULL";
        else if (!strcasecmp(prop, "Collation")) v = "SQL_Latin1_General_CP1_CI_AS";
        else if (!strcasecmp(prop, "Updateability")) v = d->tdb.read_only_log ? "READ_ONLY" : "READ_WRITE";
        else if (!strcasecmp(prop, "UserAccess")) v = db_user_access_desc(dbst_user_access(d));
        else if (!strcasecmp(prop, "IsAutoClose") || !strcasecmp(prop, "IsAutoShrink")) v = "0";
        else if (!strcasecmp(prop, "Version")) v = "957";
    }
    *out = fn_nstr(env, v);
    return 0;
}

void fn_new_guid(uint8_t g[16])
{
    if (getrandom(g, 16, 0) != 16) {
        for (int i = 0; i < 16; i++)
            g[i] = (uint8_t)rand();
    }
    g[7] = (uint8_t)((g[7] & 0x0F) | 0x40);   /* version 4 (storage order: byte 7 is the high byte of group 3) */
    g[8] = (uint8_t)((g[8] & 0x3F) | 0x80);
}

static const ex_errinfo *cur_error(ex_env *env)
{
    sql_session *s = env->s;
    return s->ncatch > 0 ? &s->catch_stack[s->ncatch - 1] : NULL;
}

bool fn_is_sys(int id)
{
    return id >= F_DB_NAME && id <= F_PHYSLOC_FORMATTER;
}

int fn_eval_sys(ex_env *env, const bx *e, const sql_value *v, sql_value *out)
{
    sql_session *s = env->s;
    switch (e->op) {
    case F_PHYSLOC_FORMATTER:
        return ex_physloc_format_fn(env, e, v, out);
    case F_DB_NAME: {
        if (e->nargs == 0 || v[0].is_null) {
            *out = fn_nstr(env, e->nargs == 0 ? s->db->tdb.name : NULL);
            return 0;
        }
        database *d = inst_database(s->in, (uint32_t)v[0].u.i);
        *out = fn_nstr(env, d ? d->tdb.name : NULL);
        return 0;
    }
    case F_DB_ID: {
        if (e->nargs == 0) {
            *out = value_int(SQL_SMALLINT, s->db->tdb.id);
            return 0;
        }
        if (v[0].is_null) {
            *out = value_null(SQL_SMALLINT);
            return 0;
        }
        database *d = inst_find_database(s->in, arg_utf8(env, e->args[0], &v[0]));
        *out = d ? value_int(SQL_SMALLINT, d->tdb.id) : value_null(SQL_SMALLINT);
        return 0;
    }
    case F_SUSER_SNAME: case F_SUSER_NAME: case F_SYSTEM_USER: case F_ORIGINAL_LOGIN:
        *out = fn_nstr(env, e->nargs && !v[0].is_null ? (v[0].u.i == 1 || v[0].len ? "sa" : NULL) : s->login);
        return 0;
    case F_USER_NAME: case F_CURRENT_USER:
        *out = fn_nstr(env, "dbo");
        return 0;
    case F_HOST_NAME:
        *out = fn_nstr(env, s->host);
        return 0;
    case F_APP_NAME:
        *out = fn_nstr(env, s->app);
        return 0;
    case F_IS_SRVROLEMEMBER: case F_HAS_DBACCESS:
        *out = value_int(SQL_INT, 1);
        return 0;
    case F_OBJECT_ID: {
        if (v[0].is_null) {
            *out = value_null(SQL_INT);
            return 0;
        }
        char parts[3][130];
        char *name = arg_utf8(env, e->args[0], &v[0]);
        if (!name || split_name(name, parts) < 0) {
            *out = value_null(SQL_INT);
            return 0;
        }
        if (parts[2][0] == '#') {
            database *tdb;
            table_def *ttd;
            *out = ex_temp_find(s, parts[2], &tdb, &ttd) ? value_int(SQL_INT, ttd->object_id) : value_null(SQL_INT);
            return 0;
        }
        database *db = parts[0][0] ? inst_find_database(s->in, parts[0]) : s->db;
        if (db && db->state != DB_ONLINE && db->state != DB_EMERGENCY)
            db = NULL;   /* its catalog is not readable: NULL, as for a missing name */
        uint32_t sid = parts[1][0] && db ? ex_schema_id(db, parts[1]) : SCHEMA_DBO;
        if (e->nargs > 1 && !v[1].is_null) {
            char *type = arg_utf8(env, e->args[1], &v[1]);
            if (type && strncasecmp(type, "U", 1) != 0) {
                *out = value_null(SQL_INT);
                return 0;
            }
        }
        hdb_err tmp;
        table_def *td = db && sid ? cat_find_table(db, sid, parts[2], &tmp) : NULL;
        *out = td ? value_int(SQL_INT, td->object_id) : value_null(SQL_INT);
        if (!td && db && sid) {
            int view = sv_view_lookup(parts[1][0] ? parts[1] : "dbo", parts[2]);
            if (view)
                *out = value_int(SQL_INT, -100 - view);
        }
        return 0;
    }
    case F_OBJECT_NAME: {
        if (v[0].is_null) {
            *out = value_null(e->t.id);
            return 0;
        }
        database *db = e->nargs > 1 && !v[1].is_null ? inst_database(s->in, (uint32_t)v[1].u.i) : s->db;
        find_id_ctx c = { .id = (uint32_t)v[0].u.i };
        hdb_err tmp;
        if (db)
            cat_foreach_table(db, find_by_id, &c, &tmp);
        *out = fn_nstr(env, c.name);
        return 0;
    }
    case F_SCHEMA_NAME: {
        char sb[130];
        *out = fn_nstr(env, e->nargs == 0 ? "dbo" : v[0].is_null ? NULL : ex_schema_name(s->db, (uint32_t)v[0].u.i, sb));
        return 0;
    }
    case F_TYPE_NAME:
        *out = fn_nstr(env, v[0].is_null ? NULL : sv_type_name((int32_t)v[0].u.i));
        return 0;
    case F_TYPE_ID: {
        int32_t id = v[0].is_null ? 0 : sv_type_id(arg_utf8(env, e->args[0], &v[0]));
        *out = id ? value_int(SQL_INT, id) : value_null(SQL_INT);
        return 0;
    }
    case F_SCHEMA_ID: {
        if (e->nargs == 0) {
            *out = value_int(SQL_INT, SCHEMA_DBO);
            return 0;
        }
        uint32_t id = v[0].is_null ? 0 : ex_schema_id(s->db, arg_utf8(env, e->args[0], &v[0]));
        *out = id ? value_int(SQL_INT, id) : value_null(SQL_INT);
        return 0;
    }
    case F_SERVERPROPERTY:
        if (v[0].is_null) {
            *out = value_null(e->t.id);
            return 0;
        }
        return server_property(env, arg_utf8(env, e->args[0], &v[0]), out);
    case F_SESSIONPROPERTY:
        if (v[0].is_null) {
            *out = value_null(SQL_INT);
            return 0;
        }
        return session_property(env, arg_utf8(env, e->args[0], &v[0]), out);
    case F_DATABASEPROPERTYEX:
        if (v[0].is_null || v[1].is_null) {
            *out = value_null(e->t.id);
            return 0;
        }
        return database_property(env, arg_utf8(env, e->args[0], &v[0]), arg_utf8(env, e->args[1], &v[1]), out);
    case F_SCOPE_IDENTITY:
        *out = s->has_scope_identity ? value_decimal(s->scope_identity) : value_null(SQL_NUMERIC);
        out->type = SQL_NUMERIC;
        return 0;
    case F_IDENT_CURRENT: {
        *out = value_null(SQL_NUMERIC);
        if (v[0].is_null)
            return 0;
        char parts[3][130];
        char *name = arg_utf8(env, e->args[0], &v[0]);
        if (!name || split_name(name, parts) < 0)
            return 0;
        database *db = parts[0][0] ? inst_find_database(s->in, parts[0]) : s->db;
        if (db && db->state != DB_ONLINE && db->state != DB_EMERGENCY)
            db = NULL;
        uint32_t sid = parts[1][0] && db ? ex_schema_id(db, parts[1]) : SCHEMA_DBO;
        hdb_err tmp;
        table_def *td = db && sid ? cat_find_table(db, sid, parts[2], &tmp) : NULL;
        tmeta *m = td ? ex_tmeta(s, db, td) : NULL;
        if (m && m->ident_col >= 0) {
            __int128 cur;
            if (!m->ident_loaded && ex_identity_next(s, db, td, m, NULL, env->err) < 0)
                return -1;
            cur = m->ident_used ? m->ident_last : m->seed;
            *out = value_decimal(cur);
            out->type = SQL_NUMERIC;
        }
        return 0;
    }
    case F_ERROR_NUMBER: case F_ERROR_SEVERITY: case F_ERROR_STATE: case F_ERROR_LINE: {
        const ex_errinfo *ei = cur_error(env);
        if (!ei) {
            *out = value_null(SQL_INT);
            return 0;
        }
        int x = e->op == F_ERROR_NUMBER ? ei->number : e->op == F_ERROR_SEVERITY ? ei->severity :
                e->op == F_ERROR_STATE ? ei->state : ei->line;
        *out = value_int(SQL_INT, x);
        return 0;
    }
    case F_ERROR_MESSAGE: {
        const ex_errinfo *ei = cur_error(env);
        *out = fn_nstr(env, ei ? ei->msg : NULL);
        return 0;
    }
    case F_ERROR_PROCEDURE: {
        const ex_errinfo *ei = cur_error(env);
        *out = fn_nstr(env, ei && ei->proc[0] ? ei->proc : NULL);
        return 0;
    }
    case F_XACT_STATE:
        *out = value_int(SQL_SMALLINT, s->trancount == 0 || !s->tx ? 0 : s->doomed ? -1 : 1);
        return 0;
    }
    return hdb_raise_text(env->err, 40000, 16, 1, "internal error: system function not implemented");
}

/* ------------------------------------------------------------ @@variables */

enum { SV_TRANCOUNT = 1, SV_ROWCOUNT, SV_ERROR, SV_IDENTITY, SV_SPID, SV_VERSION, SV_SERVERNAME,
       SV_OPTIONS, SV_SERVICENAME, SV_LANGUAGE, SV_DATEFIRST, SV_LOCK_TIMEOUT, SV_MAX_CONNECTIONS,
       SV_NESTLEVEL, SV_FETCH_STATUS, SV_PROCID, SV_TEXTSIZE, SV_MICROSOFTVERSION, SV_LANGID,
       SV_MAX_PRECISION, SV_DBTS, SV_CONNECTIONS };

static const struct { const char *name; int id; } svars[] = {
    { "@@TRANCOUNT", SV_TRANCOUNT }, { "@@ROWCOUNT", SV_ROWCOUNT }, { "@@ERROR", SV_ERROR },
    { "@@IDENTITY", SV_IDENTITY }, { "@@SPID", SV_SPID }, { "@@VERSION", SV_VERSION },
    { "@@SERVERNAME", SV_SERVERNAME }, { "@@OPTIONS", SV_OPTIONS }, { "@@SERVICENAME", SV_SERVICENAME },
    { "@@LANGUAGE", SV_LANGUAGE }, { "@@DATEFIRST", SV_DATEFIRST }, { "@@LOCK_TIMEOUT", SV_LOCK_TIMEOUT },
    { "@@MAX_CONNECTIONS", SV_MAX_CONNECTIONS }, { "@@NESTLEVEL", SV_NESTLEVEL },
    { "@@FETCH_STATUS", SV_FETCH_STATUS }, { "@@PROCID", SV_PROCID }, { "@@TEXTSIZE", SV_TEXTSIZE },
    { "@@MICROSOFTVERSION", SV_MICROSOFTVERSION }, { "@@LANGID", SV_LANGID },
    { "@@MAX_PRECISION", SV_MAX_PRECISION }, { "@@CONNECTIONS", SV_CONNECTIONS },
};

int sv_lookup(const char *name)
{
    for (size_t i = 0; i < sizeof svars / sizeof svars[0]; i++)
        if (strcasecmp(svars[i].name, name) == 0)
            return svars[i].id;
    return -1;
}

int sv_type(int sv, sql_type *t)
{
    switch (sv) {
    case SV_IDENTITY: *t = value_type(SQL_NUMERIC, 0, 38, 0); break;
    case SV_SPID: case SV_LANGID: *t = value_type(SQL_SMALLINT, 0, 0, 0); break;
    case SV_DATEFIRST: case SV_MAX_PRECISION: *t = value_type(SQL_TINYINT, 0, 0, 0); break;
    case SV_VERSION: *t = value_type(SQL_NVARCHAR, 300, 0, 0); break;
    case SV_SERVERNAME: case SV_SERVICENAME: case SV_LANGUAGE: *t = value_type(SQL_NVARCHAR, 128, 0, 0); break;
    default: *t = value_type(SQL_INT, 0, 0, 0); break;
    }
    return 0;
}

const char *ex_server_name(void);

int sv_eval(ex_env *env, int sv, sql_value *out)
{
    sql_session *s = env->s;
    switch (sv) {
    case SV_TRANCOUNT: *out = value_int(SQL_INT, s->trancount); return 0;
    case SV_ROWCOUNT: *out = value_int(SQL_INT, s->rowcount > INT32_MAX ? INT32_MAX : s->rowcount); return 0;
    case SV_ERROR: *out = value_int(SQL_INT, s->last_error); return 0;
    case SV_IDENTITY:
        *out = s->has_identity ? value_decimal(s->identity) : value_null(SQL_NUMERIC);
        out->type = SQL_NUMERIC;
        return 0;
    case SV_SPID: *out = value_int(SQL_SMALLINT, s->spid); return 0;
    case SV_VERSION:
        *out = cv_str(env->a, "Microsoft SQL Server 2022 (RTM) - 16.0.2000.0 (X64) \n"
                              "\thadrdb - a SQL Server-compatible database server\n"
                              "\tDeveloper Edition (64-bit) on Linux", true);
        return 0;
    case SV_SERVERNAME: *out = cv_str(env->a, ex_server_name(), true); return 0;
    case SV_SERVICENAME: *out = cv_str(env->a, "MSSQLSERVER", true); return 0;
    case SV_LANGUAGE: *out = cv_str(env->a, s->opt.language, true); return 0;
    case SV_LANGID: *out = value_int(SQL_SMALLINT, 0); return 0;
    case SV_DATEFIRST: *out = value_int(SQL_TINYINT, s->opt.datefirst); return 0;
    case SV_LOCK_TIMEOUT: *out = value_int(SQL_INT, s->opt.lock_timeout); return 0;
    case SV_MAX_CONNECTIONS: *out = value_int(SQL_INT, 32767); return 0;
    case SV_NESTLEVEL: *out = value_int(SQL_INT, s->scope_depth); return 0;
    case SV_FETCH_STATUS: *out = value_int(SQL_INT, -1); return 0;
    case SV_PROCID: *out = value_int(SQL_INT, 0); return 0;
    case SV_TEXTSIZE: *out = value_int(SQL_INT, s->opt.textsize); return 0;
    case SV_MICROSOFTVERSION: *out = value_int(SQL_INT, 0x100007D0); return 0;
    case SV_MAX_PRECISION: *out = value_int(SQL_TINYINT, 38); return 0;
    case SV_CONNECTIONS: *out = value_int(SQL_INT, 0); return 0;
    case SV_OPTIONS: {
        const ex_opts *o = &s->opt;
        int v = 0;
        if (o->implicit_tx) v |= 2;
        if (o->cursor_close_on_commit) v |= 4;
        if (o->ansi_warnings) v |= 8;
        if (o->ansi_padding) v |= 16;
        if (o->ansi_nulls) v |= 32;
        if (o->arithabort) v |= 64;
        if (o->quoted_identifier) v |= 256;
        if (o->nocount) v |= 512;
        if (o->ansi_null_dflt_on) v |= 1024;
        if (o->concat_null) v |= 4096;
        if (o->numeric_roundabort) v |= 8192;
        if (o->xact_abort) v |= 16384;
        *out = value_int(SQL_INT, v);
        return 0;
    }
    }
    *out = value_null(SQL_INT);
    return 0;
}
