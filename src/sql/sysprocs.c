/*
 * sysprocs.c — catalog procedures drivers call on their own, and the
 * system procedures of backup devices (sp_addumpdevice, sp_dropdevice; their
 * storage is exec_backup_dev.c).
 *
 * sp_datatype_info (ODBC's SQLGetTypeInfo; tdsodbc calls sp_datatype_info_100
 * at TDS 7.3+, _90 at 7.2, the plain name at 7.1). pyodbc asks it at connect
 * time for varchar, nvarchar, varbinary and timestamp and keeps COLUMN_SIZE
 * (column 3) of the first row: the longest string it binds as (N)VARCHAR
 * rather than a (max) type, and the datetime precision it binds parameters
 * with. Without these rows pyodbc binds a 10000-character string as
 * NVARCHAR(4000), which FreeTDS cuts to 4000 characters, and datetimes with
 * no fraction of a second.
 *
 * Only the engine's types are listed, in ODBC's order: by DATA_TYPE, then the
 * closest match first. datetime comes before datetime2, so pyodbc binds
 * datetimes with milliseconds (precision 23), its usual behaviour against
 * SQL Server. The result is built as a T-SQL query and run in a nested
 * scope, so it goes out like any procedure's result.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "sql/exec_int.h"

#define NUL -999        /* a NULL column */

typedef struct type_row {
    const char *name;
    int   type3, type2;           /* DATA_TYPE for ODBC 3 and ODBC 2 callers */
    long  precision;
    const char *prefix, *suffix, *create;
    int   case_sensitive, searchable, unsigned_attr, money, auto_inc;
    int   min_scale, max_scale, sql_type, dt_sub, radix, usertype;
} type_row;

static const type_row types[] = {
    /* name              t3    t2   prec        prefix suffix  create_params       cs sr uns mo ai   min  max  sqlt sub  radix ut */
    { "uniqueidentifier", -11, -11, 36,         "'",   "'",    NULL,               0, 2, NUL, 0, NUL, NUL, NUL, -11, NUL, NUL, 0 },
    { "nvarchar(max)",   -10, -10, 1073741823,  "N'",  "'",    NULL,               0, 3, NUL, 0, NUL, NUL, NUL, -10, NUL, NUL, 0 },
    { "nvarchar",         -9,  -9, 4000,        "N'",  "'",    "max length",       0, 3, NUL, 0, NUL, NUL, NUL, -9,  NUL, NUL, 0 },
    { "nchar",            -8,  -8, 4000,        "N'",  "'",    "length",           0, 3, NUL, 0, NUL, NUL, NUL, -8,  NUL, NUL, 0 },
    { "bit",              -7,  -7, 1,           NULL,  NULL,   NULL,               0, 2, NUL, 0, NUL, 0,   0,   -7,  NUL, NUL, 16 },
    { "tinyint",          -6,  -6, 3,           NULL,  NULL,   NULL,               0, 2, 1,   0, 0,   0,   0,   -6,  NUL, 10,  5 },
    { "bigint",           -5,  -5, 19,          NULL,  NULL,   NULL,               0, 2, 0,   0, 0,   0,   0,   -5,  NUL, 10,  0 },
    { "varbinary(max)",   -4,  -4, 2147483647,  "0x",  NULL,   NULL,               0, 0, NUL, 0, NUL, NUL, NUL, -4,  NUL, NUL, 0 },
    { "varbinary",        -3,  -3, 8000,        "0x",  NULL,   "max length",       0, 2, NUL, 0, NUL, NUL, NUL, -3,  NUL, NUL, 4 },
    { "binary",           -2,  -2, 8000,        "0x",  NULL,   "length",           0, 2, NUL, 0, NUL, NUL, NUL, -2,  NUL, NUL, 3 },
    { "varchar(max)",     -1,  -1, 2147483647,  "'",   "'",    NULL,               0, 3, NUL, 0, NUL, NUL, NUL, -1,  NUL, NUL, 0 },
    { "char",              1,   1, 8000,        "'",   "'",    "length",           0, 3, NUL, 0, NUL, NUL, NUL, 1,   NUL, NUL, 1 },
    { "numeric",           2,   2, 38,          NULL,  NULL,   "precision,scale",  0, 2, 0,   0, 0,   0,   38,  2,   NUL, 10,  10 },
    { "decimal",           3,   3, 38,          NULL,  NULL,   "precision,scale",  0, 2, 0,   0, 0,   0,   38,  3,   NUL, 10,  24 },
    { "money",             3,   3, 19,          "$",   NULL,   NULL,               0, 2, 0,   1, 0,   4,   4,   3,   NUL, 10,  11 },
    { "smallmoney",        3,   3, 10,          "$",   NULL,   NULL,               0, 2, 0,   1, 0,   4,   4,   3,   NUL, 10,  21 },
    { "int",               4,   4, 10,          NULL,  NULL,   NULL,               0, 2, 0,   0, 0,   0,   0,   4,   NUL, 10,  7 },
    { "smallint",          5,   5, 5,           NULL,  NULL,   NULL,               0, 2, 0,   0, 0,   0,   0,   5,   NUL, 10,  6 },
    { "float",             6,   6, 53,          NULL,  NULL,   NULL,               0, 2, 0,   0, 0,   NUL, NUL, 6,   NUL, 2,   8 },
    { "real",              7,   7, 24,          NULL,  NULL,   NULL,               0, 2, 0,   0, 0,   NUL, NUL, 7,   NUL, 2,   23 },
    { "varchar",          12,  12, 8000,        "'",   "'",    "max length",       0, 3, NUL, 0, NUL, NUL, NUL, 12,  NUL, NUL, 2 },
    { "date",             91,   9, 10,          "'",   "'",    NULL,               0, 3, NUL, 0, NUL, NUL, NUL, 9,   1,   NUL, 0 },
    { "time",             92,  10, 16,          "'",   "'",    "scale",            0, 3, NUL, 0, NUL, 0,   7,   9,   2,   NUL, 0 },
    { "datetime",         93,  11, 23,          "'",   "'",    NULL,               0, 3, NUL, 0, NUL, 3,   3,   9,   3,   NUL, 12 },
    { "datetime2",        93,  11, 27,          "'",   "'",    "scale",            0, 3, NUL, 0, NUL, 0,   7,   9,   3,   NUL, 0 },
};

/* Appends to a bounded buffer; *o past the end marks overflow. */
static void put(char *buf, size_t cap, size_t *o, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void put(char *buf, size_t cap, size_t *o, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    if (*o < cap) {
        int n = vsnprintf(buf + *o, cap - *o, fmt, ap);
        *o += n > 0 ? (size_t)n : 0;
    }
    va_end(ap);
}

static void put_int(char *buf, size_t cap, size_t *o, const char *col, const char *type, long v)
{
    if (v == NUL)
        put(buf, cap, o, ", CAST(NULL AS %s) AS [%s]", type, col);
    else
        put(buf, cap, o, ", CAST(%ld AS %s) AS [%s]", v, type, col);
}

static void put_str(char *buf, size_t cap, size_t *o, const char *col, const char *v)
{
    if (!v)
        put(buf, cap, o, ", CAST(NULL AS varchar(32)) AS [%s]", col);
    else   /* the values hold at most one quote */
        put(buf, cap, o, ", CAST('%s%s' AS varchar(32)) AS [%s]", v, strchr(v, '\'') ? "'" : "", col);
}

static void put_row(char *buf, size_t cap, size_t *o, const type_row *t, bool odbc3)
{
    put(buf, cap, o, "SELECT CAST(N'%s' AS sysname) AS [TYPE_NAME]", t->name);
    put_int(buf, cap, o, "DATA_TYPE", "smallint", odbc3 ? t->type3 : t->type2);
    put_int(buf, cap, o, "PRECISION", "int", t->precision);
    put_str(buf, cap, o, "LITERAL_PREFIX", t->prefix);
    put_str(buf, cap, o, "LITERAL_SUFFIX", t->suffix);
    put_str(buf, cap, o, "CREATE_PARAMS", t->create);
    put_int(buf, cap, o, "NULLABLE", "smallint", 1);
    put_int(buf, cap, o, "CASE_SENSITIVE", "smallint", t->case_sensitive);
    put_int(buf, cap, o, "SEARCHABLE", "smallint", t->searchable);
    put_int(buf, cap, o, "UNSIGNED_ATTRIBUTE", "smallint", t->unsigned_attr);
    put_int(buf, cap, o, "MONEY", "smallint", t->money);
    put_int(buf, cap, o, "AUTO_INCREMENT", "smallint", t->auto_inc);
    put(buf, cap, o, ", CAST(N'%s' AS sysname) AS [LOCAL_TYPE_NAME]", t->name);
    put_int(buf, cap, o, "MINIMUM_SCALE", "smallint", t->min_scale);
    put_int(buf, cap, o, "MAXIMUM_SCALE", "smallint", t->max_scale);
    put_int(buf, cap, o, "SQL_DATA_TYPE", "smallint", t->sql_type);
    put_int(buf, cap, o, "SQL_DATETIME_SUB", "smallint", t->dt_sub);
    put_int(buf, cap, o, "NUM_PREC_RADIX", "int", t->radix);
    put_int(buf, cap, o, "INTERVAL_PRECISION", "smallint", NUL);
    put_int(buf, cap, o, "USERTYPE", "smallint", t->usertype);
}

/* @data_type (0 = all) and @ODBCVer (2 unless 3), by name or by position. */
static int int_arg(const sql_rpc_param *params, int n, int pos, const char *name, int dflt)
{
    const sql_rpc_param *p = NULL;
    for (int i = 0; i < n; i++)
        if (params[i].name && !strcasecmp(params[i].name, name))
            p = &params[i];
    if (!p && pos < n && !params[pos].name)
        p = &params[pos];
    if (!p || p->is_default || p->value.is_null || !(p->type.id >= SQL_TINYINT && p->type.id <= SQL_BIGINT))
        return dflt;
    return (int)p->value.u.i;
}

bool sysproc_is_datatype_info(const char *name)
{
    return !strcasecmp(name, "sp_datatype_info") || !strcasecmp(name, "sp_datatype_info_90") ||
           !strcasecmp(name, "sp_datatype_info_100");
}

int sysproc_datatype_info(sql_session *s, const sql_rpc_param *params, int n)
{
    int want = int_arg(params, n, 0, "@data_type", 0);
    bool odbc3 = int_arg(params, n, 1, "@ODBCVer", 2) >= 3;
    char buf[32 * 1024];
    size_t o = 0, cap = sizeof buf;
    int rows = 0;
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
        const type_row *t = &types[i];
        if (want != 0 && want != (odbc3 ? t->type3 : t->type2))
            continue;
        if (rows++)
            put(buf, cap, &o, " UNION ALL ");
        put_row(buf, cap, &o, t, odbc3);
    }
    if (!rows) {   /* no such type: the columns, no rows */
        put_row(buf, cap, &o, &types[0], odbc3);
        put(buf, cap, &o, " WHERE 1 = 0");
    }
    if (o >= cap)
        return ex_failf(s, 701, 19, 1, "There is insufficient system memory to run this query.");
    return ex_run_nested(s, buf, o, NULL, 0, NULL, NULL);
}

/* ---- sp_addumpdevice / sp_dropdevice ---------------------------------------
 * sp_addumpdevice [@devtype =] 'disk', [@logicalname =] 'name',
 *                 [@physicalname =] 'path' [, @cntrltype, @devstatus]
 * sp_dropdevice [@logicalname =] 'name' [, [@delfile =] 'delfile']
 * Storage and paths: exec_backup_dev.c. */

const char *sysproc_text_arg(sql_session *s, const sql_rpc_param *params, int n, int pos, const char *name)
{
    const sql_rpc_param *p = NULL;
    for (int i = 0; i < n; i++)
        if (params[i].name && !strcasecmp(params[i].name, name))
            p = &params[i];
    if (!p && pos < n && !params[pos].name)
        p = &params[pos];
    if (!p || p->is_default || p->value.is_null)
        return NULL;
    return cv_utf8(&s->stmt_arena, &p->value, &p->type);
}

bool sysproc_is_device_proc(const char *name)
{
    return !strcasecmp(name, "sp_addumpdevice") || !strcasecmp(name, "sp_dropdevice");
}

int sysproc_device(sql_session *s, const char *name, const sql_rpc_param *params, int n)
{
    if (strcasecmp(s->login, "sa") != 0)
        return ex_failf(s, 15247, 16, 1, "User does not have permission to perform this action.");
    if (!strcasecmp(name, "sp_addumpdevice"))
        return bkdev_add(s, sysproc_text_arg(s, params, n, 0, "@devtype"),
                         sysproc_text_arg(s, params, n, 1, "@logicalname"),
                         sysproc_text_arg(s, params, n, 2, "@physicalname"));
    const char *del = sysproc_text_arg(s, params, n, 1, "@delfile");
    return bkdev_drop(s, sysproc_text_arg(s, params, n, 0, "@logicalname"), del && !strcasecmp(del, "delfile"));
}
