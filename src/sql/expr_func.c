/*
 * expr_func.c — built-in scalar functions: the name table, result types
 * (fn_bind), and evaluation (fn_eval) of the string, NULL and math functions,
 * with SQL Server's argument rules and error numbers (174/189 wrong argument
 * count, 195 unknown function, 536/537 invalid lengths, 8116 bad argument
 * types). Date functions are in expr_date.c, system functions and
 * @@variables in expr_sys.c.
 */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "sql/exec_int.h"


static const struct fdef {
    const char *name;
    int id, min, max;
} fdefs[] = {
    { "LEN", F_LEN, 1, 1 }, { "DATALENGTH", F_DATALENGTH, 1, 1 }, { "UPPER", F_UPPER, 1, 1 },
    { "LOWER", F_LOWER, 1, 1 }, { "SUBSTRING", F_SUBSTRING, 3, 3 }, { "LTRIM", F_LTRIM, 1, 1 },
    { "RTRIM", F_RTRIM, 1, 1 }, { "TRIM", F_TRIM, 1, 1 }, { "REPLACE", F_REPLACE, 3, 3 },
    { "CHARINDEX", F_CHARINDEX, 2, 3 }, { "LEFT", F_LEFT, 2, 2 }, { "RIGHT", F_RIGHT, 2, 2 },
    { "REPLICATE", F_REPLICATE, 2, 2 }, { "REVERSE", F_REVERSE, 1, 1 }, { "SPACE", F_SPACE, 1, 1 },
    { "STUFF", F_STUFF, 4, 4 }, { "CONCAT", F_CONCAT, 2, 254 }, { "CONCAT_WS", F_CONCAT_WS, 3, 254 },
    { "ASCII", F_ASCII, 1, 1 }, { "CHAR", F_CHAR, 1, 1 }, { "NCHAR", F_NCHAR, 1, 1 },
    { "UNICODE", F_UNICODE, 1, 1 }, { "QUOTENAME", F_QUOTENAME, 1, 2 }, { "STR", F_STR, 1, 3 },
    { "PATINDEX", F_PATINDEX, 2, 2 },
    { "ISNULL", F_ISNULL, 2, 2 }, { "COALESCE", F_COALESCE, 1, 254 }, { "NULLIF", F_NULLIF, 2, 2 },
    { "IIF", F_IIF, 3, 3 }, { "CHOOSE", F_CHOOSE, 2, 254 },
    { "GETDATE", F_GETDATE, 0, 0 }, { "SYSDATETIME", F_SYSDATETIME, 0, 0 },
    { "GETUTCDATE", F_GETUTCDATE, 0, 0 }, { "SYSUTCDATETIME", F_SYSUTCDATETIME, 0, 0 },
    { "CURRENT_TIMESTAMP", F_CURRENT_TIMESTAMP, 0, 0 }, { "DATEADD", F_DATEADD, 3, 3 },
    { "DATEDIFF", F_DATEDIFF, 3, 3 }, { "DATEDIFF_BIG", F_DATEDIFF_BIG, 3, 3 },
    { "DATEPART", F_DATEPART, 2, 2 }, { "DATENAME", F_DATENAME, 2, 2 }, { "YEAR", F_YEAR, 1, 1 },
    { "MONTH", F_MONTH, 1, 1 }, { "DAY", F_DAY, 1, 1 }, { "EOMONTH", F_EOMONTH, 1, 2 },
    { "DATEFROMPARTS", F_DATEFROMPARTS, 3, 3 }, { "ISDATE", F_ISDATE, 1, 1 },
    { "ABS", F_ABS, 1, 1 }, { "ROUND", F_ROUND, 2, 3 }, { "FLOOR", F_FLOOR, 1, 1 },
    { "CEILING", F_CEILING, 1, 1 }, { "POWER", F_POWER, 2, 2 }, { "SQRT", F_SQRT, 1, 1 },
    { "SIGN", F_SIGN, 1, 1 }, { "RAND", F_RAND, 0, 1 }, { "PI", F_PI, 0, 0 }, { "EXP", F_EXP, 1, 1 },
    { "LOG", F_LOG, 1, 2 }, { "LOG10", F_LOG10, 1, 1 }, { "SQUARE", F_SQUARE, 1, 1 },
    { "SIN", F_SIN, 1, 1 }, { "COS", F_COS, 1, 1 }, { "TAN", F_TAN, 1, 1 }, { "ATAN", F_ATAN, 1, 1 },
    { "ISNUMERIC", F_ISNUMERIC, 1, 1 },
    { "NEWID", F_NEWID, 0, 0 }, { "DB_NAME", F_DB_NAME, 0, 1 }, { "DB_ID", F_DB_ID, 0, 1 },
    { "SUSER_SNAME", F_SUSER_SNAME, 0, 1 }, { "SUSER_NAME", F_SUSER_NAME, 0, 1 },
    { "USER_NAME", F_USER_NAME, 0, 1 }, { "CURRENT_USER", F_CURRENT_USER, 0, 0 },
    { "SESSION_USER", F_CURRENT_USER, 0, 0 }, { "USER", F_CURRENT_USER, 0, 0 },
    { "SYSTEM_USER", F_SYSTEM_USER, 0, 0 }, { "HOST_NAME", F_HOST_NAME, 0, 0 },
    { "APP_NAME", F_APP_NAME, 0, 0 }, { "OBJECT_ID", F_OBJECT_ID, 1, 2 },
    { "OBJECT_NAME", F_OBJECT_NAME, 1, 2 }, { "SCHEMA_NAME", F_SCHEMA_NAME, 0, 1 },
    { "TYPE_NAME", F_TYPE_NAME, 1, 1 }, { "TYPE_ID", F_TYPE_ID, 1, 1 },
    { "SCHEMA_ID", F_SCHEMA_ID, 0, 1 }, { "SERVERPROPERTY", F_SERVERPROPERTY, 1, 1 },
    { "SESSIONPROPERTY", F_SESSIONPROPERTY, 1, 1 },
    { "DATABASEPROPERTYEX", F_DATABASEPROPERTYEX, 2, 2 }, { "SCOPE_IDENTITY", F_SCOPE_IDENTITY, 0, 0 },
    { "IDENT_CURRENT", F_IDENT_CURRENT, 1, 1 }, { "ERROR_NUMBER", F_ERROR_NUMBER, 0, 0 },
    { "ERROR_MESSAGE", F_ERROR_MESSAGE, 0, 0 }, { "ERROR_SEVERITY", F_ERROR_SEVERITY, 0, 0 },
    { "ERROR_STATE", F_ERROR_STATE, 0, 0 }, { "ERROR_LINE", F_ERROR_LINE, 0, 0 },
    { "ERROR_PROCEDURE", F_ERROR_PROCEDURE, 0, 0 }, { "XACT_STATE", F_XACT_STATE, 0, 0 },
    { "ORIGINAL_LOGIN", F_ORIGINAL_LOGIN, 0, 0 }, { "IS_SRVROLEMEMBER", F_IS_SRVROLEMEMBER, 1, 2 },
    { "HAS_DBACCESS", F_HAS_DBACCESS, 1, 1 },
    { NULL, 0, 0, 0 }
};

int fn_agg_lookup(const char *name)
{
    static const struct { const char *n; int id; } aggs[] = {
        { "COUNT", AGG_COUNT }, { "COUNT_BIG", AGG_COUNT_BIG }, { "SUM", AGG_SUM }, { "AVG", AGG_AVG },
        { "MIN", AGG_MIN }, { "MAX", AGG_MAX }, { "STDEV", AGG_STDEV }, { "VAR", AGG_VAR },
    };
    for (size_t i = 0; i < sizeof aggs / sizeof aggs[0]; i++)
        if (strcasecmp(aggs[i].n, name) == 0)
            return aggs[i].id;
    return 0;
}

int fn_lookup(const char *name, int nargs, int *id, hdb_err *err)
{
    for (const struct fdef *d = fdefs; d->name; d++) {
        if (strcasecmp(d->name, name) != 0)
            continue;
        if (nargs < d->min || nargs > d->max) {
            char m[200], lower[64];
            size_t k = 0;
            for (; d->name[k] && k < sizeof lower - 1; k++)   /* SQL Server names built-ins in lower case here */
                lower[k] = (char)tolower((unsigned char)d->name[k]);
            lower[k] = '\0';
            if (d->min == d->max)
                snprintf(m, sizeof m, "The %s function requires %d argument(s).", lower, d->min);
            else
                snprintf(m, sizeof m, "The %s function requires %d to %d arguments.", lower, d->min, d->max);
            return hdb_raise_text(err, d->min == d->max ? 174 : 189, 15, 1, m);
        }
        *id = d->id;
        return 0;
    }
    char m[200];
    snprintf(m, sizeof m, "'%s' is not a recognized built-in function name.", name);
    return hdb_raise_text(err, 195, 15, 10, m);
}

/* ------------------------------------------------------------ binding */

static sql_type ty(uint8_t id, int32_t len, uint8_t p, uint8_t s) { return value_type(id, len, p, s); }

static bool is_str(const bx *e) { return value_type_is_string(e->t.id); }

/* Make argument i a string (varchar unless it is unicode). */
static int want_string(sql_session *s, bx *e, int i)
{
    bx *a = e->args[i];
    if (value_type_is_string(a->t.id) || value_type_is_binary(a->t.id))
        return 0;
    sql_type t = ty(SQL_VARCHAR, a->null_lit ? 1 : 30, 0, 0);
    return (e->args[i] = bx_cast_to(s, a, &t)) ? 0 : -1;
}

static int want(sql_session *s, bx *e, int i, uint8_t id)
{
    sql_type t = ty(id, 0, id == SQL_FLOAT ? 53 : 0, 0);
    if (e->args[i]->t.id == id)
        return 0;
    return (e->args[i] = bx_cast_to(s, e->args[i], &t)) ? 0 : -1;
}

static sql_type str_type_of(const bx *a, int32_t len)
{
    bool uni = value_type_is_unicode(a->t.id);
    bool bin = value_type_is_binary(a->t.id);
    int32_t lim = uni ? 4000 : 8000;
    if (a->t.max_len == VALUE_LEN_MAX)
        len = VALUE_LEN_MAX;
    else if (len > lim)
        len = lim;
    else if (len < 1)
        len = 1;
    return ty(bin ? SQL_VARBINARY : uni ? SQL_NVARCHAR : SQL_VARCHAR, len, 0, 0);
}

static int date_arg(sql_session *s, bx *e, int i)
{
    uint8_t id = e->args[i]->t.id;
    if (id == SQL_DATE || id == SQL_TIME || id == SQL_DATETIME || id == SQL_DATETIME2)
        return 0;
    sql_type t = ty(SQL_DATETIME2, 0, 7, 0);
    if (value_type_is_string(id) || e->args[i]->null_lit)
        return (e->args[i] = bx_cast_to(s, e->args[i], &t)) ? 0 : -1;
    t = ty(SQL_DATETIME, 0, 0, 0);
    return (e->args[i] = bx_cast_to(s, e->args[i], &t)) ? 0 : -1;
}

int fn_bind(sql_session *s, bx *e, hdb_err *err)
{
    bx **a = e->args;
    switch (e->op) {
    case F_LEN: case F_CHARINDEX: case F_PATINDEX:
        for (int i = 0; i < e->nargs && i < 2; i++)
            if (want_string(s, e, i) < 0)
                return -1;
        if (e->nargs == 3 && want(s, e, 2, SQL_BIGINT) < 0)
            return -1;
        e->t = ty((a[0]->t.max_len == VALUE_LEN_MAX || (e->nargs > 1 && a[1]->t.max_len == VALUE_LEN_MAX)) ? SQL_BIGINT : SQL_INT, 0, 0, 0);
        return 0;
    case F_DATALENGTH:
        e->t = ty(a[0]->t.max_len == VALUE_LEN_MAX ? SQL_BIGINT : SQL_INT, 0, 0, 0);
        return 0;
    case F_UPPER: case F_LOWER: case F_LTRIM: case F_RTRIM: case F_TRIM: case F_REVERSE:
        if (want_string(s, e, 0) < 0)
            return -1;
        e->t = str_type_of(a[0], a[0]->t.max_len);
        if (value_type_is_binary(a[0]->t.id))
            return hdb_raise_text(err, 8116, 16, 1, "Argument data type varbinary is invalid for argument 1 of function.");
        return 0;
    case F_SUBSTRING: {
        if (want_string(s, e, 0) < 0 || want(s, e, 1, SQL_BIGINT) < 0 || want(s, e, 2, SQL_BIGINT) < 0)
            return -1;
        int32_t n = a[0]->t.max_len;
        if (a[2]->kind == BX_CONST && !a[2]->u.k.is_null && n != VALUE_LEN_MAX && a[2]->u.k.u.i < n)
            n = (int32_t)(a[2]->u.k.u.i > 0 ? a[2]->u.k.u.i : 1);
        e->t = str_type_of(a[0], n);
        return 0;
    }
    case F_LEFT: case F_RIGHT: {
        if (want_string(s, e, 0) < 0 || want(s, e, 1, SQL_BIGINT) < 0)
            return -1;
        int32_t n = a[0]->t.max_len;
        if (a[1]->kind == BX_CONST && !a[1]->u.k.is_null && n != VALUE_LEN_MAX && a[1]->u.k.u.i < n)
            n = (int32_t)(a[1]->u.k.u.i > 0 ? a[1]->u.k.u.i : 1);
        e->t = str_type_of(a[0], n);
        return 0;
    }
    case F_REPLACE: {
        for (int i = 0; i < 3; i++)
            if (want_string(s, e, i) < 0)
                return -1;
        bool uni = is_str(a[0]) && value_type_is_unicode(a[0]->t.id);
        for (int i = 0; i < 3; i++)
            uni = uni || value_type_is_unicode(a[i]->t.id);
        sql_type t = ty(uni ? SQL_NVARCHAR : SQL_VARCHAR, a[0]->t.max_len == VALUE_LEN_MAX ? VALUE_LEN_MAX : uni ? 4000 : 8000, 0, 0);
        sql_type ct = t;
        ct.max_len = VALUE_LEN_MAX;
        for (int i = 0; i < 3; i++)
            if (!(a[i] = bx_cast_to(s, a[i], &ct)))
                return -1;
        e->t = t;
        return 0;
    }
    case F_REPLICATE:
        if (want_string(s, e, 0) < 0 || want(s, e, 1, SQL_BIGINT) < 0)
            return -1;
        e->t = str_type_of(a[0], a[0]->t.max_len == VALUE_LEN_MAX ? VALUE_LEN_MAX : 8000);
        return 0;
    case F_SPACE:
        if (want(s, e, 0, SQL_BIGINT) < 0)
            return -1;
        e->t = ty(SQL_VARCHAR, 8000, 0, 0);
        return 0;
    case F_STUFF: {
        if (want_string(s, e, 0) < 0 || want(s, e, 1, SQL_BIGINT) < 0 || want(s, e, 2, SQL_BIGINT) < 0 ||
            want_string(s, e, 3) < 0)
            return -1;
        bool uni = value_type_is_unicode(a[0]->t.id) || value_type_is_unicode(a[3]->t.id);
        sql_type t = ty(uni ? SQL_NVARCHAR : SQL_VARCHAR, a[0]->t.max_len == VALUE_LEN_MAX ? VALUE_LEN_MAX : uni ? 4000 : 8000, 0, 0);
        sql_type ct = t;
        ct.max_len = VALUE_LEN_MAX;
        if (!(a[0] = bx_cast_to(s, a[0], &ct)) || !(a[3] = bx_cast_to(s, a[3], &ct)))
            return -1;
        e->t = t;
        return 0;
    }
    case F_CONCAT: case F_CONCAT_WS: {
        bool uni = false, max = false;
        int64_t total = 0;
        for (int i = 0; i < e->nargs; i++) {
            if (want_string(s, e, i) < 0)
                return -1;
            uni = uni || value_type_is_unicode(a[i]->t.id);
            if (a[i]->t.max_len == VALUE_LEN_MAX)
                max = true;
            else
                total += a[i]->t.max_len;
        }
        if (e->op == F_CONCAT_WS)
            total += (int64_t)a[0]->t.max_len * (e->nargs - 2);
        int32_t lim = uni ? 4000 : 8000;
        sql_type ct = ty(uni ? SQL_NVARCHAR : SQL_VARCHAR, VALUE_LEN_MAX, 0, 0);
        for (int i = 0; i < e->nargs; i++)
            if (!(a[i] = bx_cast_to(s, a[i], &ct)))
                return -1;
        e->t = ty(ct.id, max || total > lim ? (max ? VALUE_LEN_MAX : lim) : (int32_t)(total ? total : 1), 0, 0);
        e->nullable = false;
        return 0;
    }
    case F_ASCII: case F_UNICODE:
        if (want_string(s, e, 0) < 0)
            return -1;
        e->t = ty(SQL_INT, 0, 0, 0);
        return 0;
    case F_CHAR:
        if (want(s, e, 0, SQL_INT) < 0)
            return -1;
        e->t = ty(SQL_CHAR, 1, 0, 0);
        return 0;
    case F_NCHAR:
        if (want(s, e, 0, SQL_INT) < 0)
            return -1;
        e->t = ty(SQL_NCHAR, 1, 0, 0);
        return 0;
    case F_QUOTENAME:
        for (int i = 0; i < e->nargs; i++) {
            sql_type nt = ty(SQL_NVARCHAR, VALUE_LEN_MAX, 0, 0);
            if (!(a[i] = bx_cast_to(s, a[i], &nt)))
                return -1;
        }
        e->t = ty(SQL_NVARCHAR, 258, 0, 0);
        return 0;
    case F_STR:
        if (want(s, e, 0, SQL_FLOAT) < 0)
            return -1;
        for (int i = 1; i < e->nargs; i++)
            if (want(s, e, i, SQL_INT) < 0)
                return -1;
        e->t = ty(SQL_VARCHAR, e->nargs > 1 && a[1]->kind == BX_CONST && !a[1]->u.k.is_null ?
                                   (int32_t)a[1]->u.k.u.i : 10, 0, 0);
        if (e->t.max_len < 1 || e->t.max_len > 8000)
            e->t.max_len = 8000;
        return 0;
    case F_ISNULL: {
        sql_type t = a[0]->null_lit ? a[1]->t : a[0]->t;
        if (!(a[1] = bx_cast_to(s, a[1], &t)) || !(a[0] = bx_cast_to(s, a[0], &t)))
            return -1;
        e->t = t;
        e->nullable = a[0]->nullable && a[1]->nullable;
        return 0;
    }
    case F_COALESCE: case F_IIF: case F_CHOOSE: {
        /* CHOOSE(index, v1, v2, ...): the index is an int, the values share a type */
        if (e->op == F_CHOOSE && want(s, e, 0, SQL_INT) < 0)
            return -1;
        int first = e->op == F_COALESCE ? 0 : 1;
        sql_type t;
        bool have = false;
        for (int i = first; i < e->nargs; i++) {
            if (a[i]->null_lit)
                continue;
            if (!have) {
                t = a[i]->t;
                have = true;
            } else if (bx_common_type(s, &t, &a[i]->t, &t, a[i]->line) < 0) {
                return -1;
            }
        }
        if (!have) {
            if (e->op == F_COALESCE)
                return hdb_raise_text(err, 4127, 16, 1, "At least one of the arguments to COALESCE must be an expression that is not the NULL constant.");
            t = ty(SQL_INT, 0, 0, 0);
        }
        for (int i = first; i < e->nargs; i++)
            if (!(a[i] = bx_cast_to(s, a[i], &t)))
                return -1;
        e->t = t;
        return 0;
    }
    case F_NULLIF: {
        sql_type ct;
        if (bx_common_type(s, &a[0]->t, &a[1]->t, &ct, e->line) < 0)
            return -1;
        e->t = a[0]->t;
        e->ct = ct;
        return 0;
    }
    case F_GETDATE: case F_GETUTCDATE: case F_CURRENT_TIMESTAMP:
        e->t = ty(SQL_DATETIME, 0, 0, 0);
        e->nullable = false;
        return 0;
    case F_SYSDATETIME: case F_SYSUTCDATETIME:
        e->t = ty(SQL_DATETIME2, 0, 7, 0);
        e->nullable = false;
        return 0;
    case F_DATEADD:
        if (want(s, e, 1, SQL_BIGINT) < 0 || date_arg(s, e, 2) < 0)
            return -1;
        e->t = a[2]->t;
        return 0;
    case F_DATEDIFF: case F_DATEDIFF_BIG:
        if (date_arg(s, e, 1) < 0 || date_arg(s, e, 2) < 0)
            return -1;
        e->t = ty(e->op == F_DATEDIFF ? SQL_INT : SQL_BIGINT, 0, 0, 0);
        return 0;
    case F_DATEPART:
        if (date_arg(s, e, 1) < 0)
            return -1;
        e->t = ty(SQL_INT, 0, 0, 0);
        return 0;
    case F_DATENAME:
        if (date_arg(s, e, 1) < 0)
            return -1;
        e->t = ty(SQL_NVARCHAR, 30, 0, 0);
        return 0;
    case F_YEAR: case F_MONTH: case F_DAY:
        if (date_arg(s, e, 0) < 0)
            return -1;
        e->t = ty(SQL_INT, 0, 0, 0);
        return 0;
    case F_EOMONTH:
        if (date_arg(s, e, 0) < 0 || (e->nargs > 1 && want(s, e, 1, SQL_INT) < 0))
            return -1;
        e->t = ty(SQL_DATE, 0, 0, 0);
        return 0;
    case F_DATEFROMPARTS:
        for (int i = 0; i < 3; i++)
            if (want(s, e, i, SQL_INT) < 0)
                return -1;
        e->t = ty(SQL_DATE, 0, 0, 0);
        return 0;
    case F_ISDATE: case F_ISNUMERIC:
        e->t = ty(SQL_INT, 0, 0, 0);
        e->nullable = false;
        return 0;
    case F_ABS: case F_SIGN: case F_FLOOR: case F_CEILING: case F_ROUND: {
        uint8_t id = a[0]->t.id;
        if (value_type_is_string(id) || a[0]->null_lit) {
            if (want(s, e, 0, SQL_FLOAT) < 0)
                return -1;
            id = SQL_FLOAT;
        }
        if (!(id >= SQL_TINYINT && id <= SQL_REAL) || id == SQL_BIT) {
            char m[200];
            snprintf(m, sizeof m, "Argument data type %s is invalid for argument 1 of %s function.",
                     value_type_name(id), e->op == F_ABS ? "abs" : e->op == F_ROUND ? "round" :
                     e->op == F_FLOOR ? "floor" : e->op == F_CEILING ? "ceiling" : "sign");
            return hdb_raise_text(err, 8116, 16, 1, m);
        }
        e->t = a[0]->t;
        if (id == SQL_TINYINT || id == SQL_SMALLINT)
            e->t = ty(SQL_INT, 0, 0, 0), a[0] = bx_cast_to(s, a[0], &e->t);
        if (id == SQL_REAL)
            e->t = ty(SQL_FLOAT, 0, 53, 0), a[0] = bx_cast_to(s, a[0], &e->t);
        if ((id == SQL_DECIMAL || id == SQL_NUMERIC)) {
            int p = a[0]->t.precision ? a[0]->t.precision : 38;
            if (e->op == F_FLOOR || e->op == F_CEILING)
                e->t = ty(id, 0, (uint8_t)(p - a[0]->t.scale + 1 > 38 ? 38 : p - a[0]->t.scale + 1), 0);
            else if (e->op == F_ROUND)
                e->t = ty(id, 0, (uint8_t)(p + 1 > 38 ? 38 : p + 1), a[0]->t.scale);
        }
        if (e->op == F_ROUND && (want(s, e, 1, SQL_INT) < 0 || (e->nargs > 2 && want(s, e, 2, SQL_INT) < 0)))
            return -1;
        return 0;
    }
    case F_POWER: {
        uint8_t id = a[0]->t.id;
        if (want(s, e, 1, SQL_FLOAT) < 0)
            return -1;
        if (id == SQL_DECIMAL || id == SQL_NUMERIC)
            e->t = ty(id, 0, 38, a[0]->t.scale);
        else if (id == SQL_INT || id == SQL_BIGINT || id == SQL_MONEY)
            e->t = a[0]->t;
        else if (id == SQL_TINYINT || id == SQL_SMALLINT || id == SQL_BIT)
            e->t = ty(SQL_INT, 0, 0, 0);
        else
            e->t = ty(SQL_FLOAT, 0, 53, 0);
        return want(s, e, 0, SQL_FLOAT);
    }
    case F_SQRT: case F_EXP: case F_LOG: case F_LOG10: case F_SQUARE: case F_SIN: case F_COS:
    case F_TAN: case F_ATAN:
        for (int i = 0; i < e->nargs; i++)
            if (want(s, e, i, SQL_FLOAT) < 0)
                return -1;
        e->t = ty(SQL_FLOAT, 0, 53, 0);
        return 0;
    case F_RAND:
        if (e->nargs && want(s, e, 0, SQL_INT) < 0)
            return -1;
        e->t = ty(SQL_FLOAT, 0, 53, 0);
        e->nullable = false;
        return 0;
    case F_PI:
        e->t = ty(SQL_FLOAT, 0, 53, 0);
        e->nullable = false;
        return 0;
    case F_NEWID:
        e->t = ty(SQL_UNIQUEIDENTIFIER, 0, 0, 0);
        e->nullable = false;
        return 0;
    case F_DB_ID: case F_SCHEMA_ID: case F_OBJECT_ID: case F_IDENT_CURRENT: case F_DB_NAME:
    case F_SCHEMA_NAME: case F_OBJECT_NAME: case F_SERVERPROPERTY: case F_DATABASEPROPERTYEX:
    case F_SESSIONPROPERTY: case F_TYPE_NAME: case F_TYPE_ID: case F_SUSER_SNAME: case F_SUSER_NAME: case F_USER_NAME: case F_IS_SRVROLEMEMBER: case F_HAS_DBACCESS:
        for (int i = 0; i < e->nargs; i++) {
            bool numeric = (e->op == F_DB_NAME || e->op == F_SCHEMA_NAME || e->op == F_OBJECT_NAME || e->op == F_TYPE_NAME ||
                            e->op == F_USER_NAME || e->op == F_SUSER_SNAME || e->op == F_SUSER_NAME) ||
                           (e->op == F_OBJECT_NAME && i == 1);
            if (numeric && !is_str(a[i])) {
                if (want(s, e, i, SQL_INT) < 0)
                    return -1;
            } else if (want_string(s, e, i) < 0) {
                return -1;
            }
        }
        switch (e->op) {
        case F_DB_ID: case F_SCHEMA_ID: case F_OBJECT_ID: case F_IS_SRVROLEMEMBER: case F_HAS_DBACCESS:
        case F_SESSIONPROPERTY:   /* sql_variant in SQL Server; its values are ints */
        case F_TYPE_ID:
            e->t = ty(e->op == F_DB_ID ? SQL_SMALLINT : SQL_INT, 0, 0, 0);
            break;
        case F_IDENT_CURRENT:
            e->t = ty(SQL_NUMERIC, 0, 38, 0);
            break;
        default:
            e->t = ty(SQL_NVARCHAR, 128, 0, 0);
            break;
        }
        return 0;
    case F_CURRENT_USER: case F_SYSTEM_USER: case F_HOST_NAME: case F_APP_NAME: case F_ORIGINAL_LOGIN:
        e->t = ty(SQL_NVARCHAR, 128, 0, 0);
        return 0;
    case F_SCOPE_IDENTITY:
        e->t = ty(SQL_NUMERIC, 0, 38, 0);
        return 0;
    case F_PHYSLOC_FORMATTER:
        if (!value_type_is_binary(a[0]->t.id)) {
            sql_type bt = ty(SQL_VARBINARY, 8, 0, 0);
            if (!(e->args[0] = bx_cast_to(s, a[0], &bt)))
                return -1;
        }
        e->t = ty(SQL_VARCHAR, 128, 0, 0);
        return 0;
    case F_ERROR_NUMBER: case F_ERROR_SEVERITY: case F_ERROR_STATE: case F_ERROR_LINE:
        e->t = ty(SQL_INT, 0, 0, 0);
        return 0;
    case F_ERROR_MESSAGE:
        e->t = ty(SQL_NVARCHAR, 4000, 0, 0);
        return 0;
    case F_ERROR_PROCEDURE:
        e->t = ty(SQL_NVARCHAR, 128, 0, 0);
        return 0;
    case F_XACT_STATE:
        e->t = ty(SQL_SMALLINT, 0, 0, 0);
        e->nullable = false;
        return 0;
    }
    return hdb_raise_text(err, 195, 15, 10, "Unknown built-in function.");
}

