/*
 * sysviews.c — catalog views and DMVs computed on demand: sys.databases,
 * sys.tables, sys.objects, sys.columns, sys.schemas, sys.indexes, sys.types,
 * sys.backup_devices (sp_addumpdevice's, exec_backup_dev.c),
 * sys.dm_exec_sessions, sys.dm_exec_connections, sys.dm_exec_requests (lock waits and blockers from
 * the lock manager), sys.dm_tran_active_transactions, sys.dm_exec_cached_plans (plancache.h),
 * INFORMATION_SCHEMA.TABLES / COLUMNS. A view is a column list and a row
 * generator; queries read it like any other source (exec_query.c, SRC_ROWS),
 * so WHERE, joins, ORDER BY and aggregates work on it unchanged.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/dbstate.h"
#include "sql/exec_int.h"
#include "os/sockread.h"

enum { V_DATABASES = 1, V_TABLES, V_OBJECTS, V_COLUMNS, V_SCHEMAS, V_INDEXES, V_TYPES, V_SESSIONS,
       V_TRAN_ACTIVE, V_IS_TABLES, V_IS_COLUMNS, V_MASTER_FILES, V_DATABASE_FILES, V_FILEGROUPS,
       V_REQUESTS, V_TRAN_DB, V_LOG_INFO, V_CONNECTIONS, V_BACKUP_DEVICES, V_PERF_COUNTERS,
       V_CACHED_PLANS, V_COUNT };

typedef struct vcol { const char *name; uint8_t id; int32_t len; uint8_t nullable; uint8_t prec, scale; } vcol;

#define NV(n) SQL_NVARCHAR, n
#define VC(n) SQL_VARCHAR, n

static const vcol c_databases[] = {
    { "name", NV(128), 0, 0, 0 }, { "database_id", SQL_INT, 0, 0, 0, 0 }, { "source_database_id", SQL_INT, 0, 1, 0, 0 },
    { "owner_sid", SQL_VARBINARY, 85, 1, 0, 0 }, { "create_date", SQL_DATETIME, 0, 0, 0, 0 },
    { "compatibility_level", SQL_TINYINT, 0, 0, 0, 0 }, { "collation_name", NV(128), 1, 0, 0 },
    { "user_access", SQL_TINYINT, 0, 1, 0, 0 }, { "user_access_desc", NV(60), 1, 0, 0 },
    { "is_read_only", SQL_BIT, 0, 1, 0, 0 }, { "is_auto_close_on", SQL_BIT, 0, 0, 0, 0 },
    { "state", SQL_TINYINT, 0, 1, 0, 0 }, { "state_desc", NV(60), 1, 0, 0 },
    { "is_in_standby", SQL_BIT, 0, 1, 0, 0 }, { "recovery_model", SQL_TINYINT, 0, 1, 0, 0 },
    { "recovery_model_desc", NV(60), 1, 0, 0 }, { "page_verify_option", SQL_TINYINT, 0, 1, 0, 0 },
    { "page_verify_option_desc", NV(60), 1, 0, 0 }, { "log_reuse_wait", SQL_TINYINT, 0, 1, 0, 0 },
    { "log_reuse_wait_desc", NV(60), 1, 0, 0 }, { "is_broker_enabled", SQL_BIT, 0, 0, 0, 0 },
    { NULL, 0, 0, 0, 0, 0 }
};
static const vcol c_objects[] = {
    { "name", NV(128), 0, 0, 0 }, { "object_id", SQL_INT, 0, 0, 0, 0 }, { "principal_id", SQL_INT, 0, 1, 0, 0 },
    { "schema_id", SQL_INT, 0, 0, 0, 0 }, { "parent_object_id", SQL_INT, 0, 0, 0, 0 },
    { "type", SQL_CHAR, 2, 1, 0, 0 }, { "type_desc", NV(60), 1, 0, 0 },
    { "create_date", SQL_DATETIME, 0, 0, 0, 0 }, { "modify_date", SQL_DATETIME, 0, 0, 0, 0 },
    { "is_ms_shipped", SQL_BIT, 0, 0, 0, 0 }, { "is_published", SQL_BIT, 0, 0, 0, 0 },
    { "is_schema_published", SQL_BIT, 0, 0, 0, 0 }, { NULL, 0, 0, 0, 0, 0 }
};
static const vcol c_columns[] = {
    { "object_id", SQL_INT, 0, 0, 0, 0 }, { "name", NV(128), 1, 0, 0 }, { "column_id", SQL_INT, 0, 0, 0, 0 },
    { "system_type_id", SQL_TINYINT, 0, 0, 0, 0 }, { "user_type_id", SQL_INT, 0, 0, 0, 0 },
    { "max_length", SQL_SMALLINT, 0, 0, 0, 0 }, { "precision", SQL_TINYINT, 0, 0, 0, 0 },
    { "scale", SQL_TINYINT, 0, 0, 0, 0 }, { "collation_name", NV(128), 1, 0, 0 },
    { "is_nullable", SQL_BIT, 0, 1, 0, 0 }, { "is_ansi_padded", SQL_BIT, 0, 0, 0, 0 },
    { "is_identity", SQL_BIT, 0, 0, 0, 0 }, { "is_computed", SQL_BIT, 0, 0, 0, 0 },
    { "default_object_id", SQL_INT, 0, 0, 0, 0 }, { NULL, 0, 0, 0, 0, 0 }
};
static const vcol c_schemas[] = {
    { "name", NV(128), 0, 0, 0 }, { "schema_id", SQL_INT, 0, 0, 0, 0 }, { "principal_id", SQL_INT, 0, 1, 0, 0 },
    { NULL, 0, 0, 0, 0, 0 }
};
static const vcol c_indexes[] = {
    { "object_id", SQL_INT, 0, 0, 0, 0 }, { "name", NV(128), 1, 0, 0 }, { "index_id", SQL_INT, 0, 0, 0, 0 },
    { "type", SQL_TINYINT, 0, 0, 0, 0 }, { "type_desc", NV(60), 1, 0, 0 }, { "is_unique", SQL_BIT, 0, 1, 0, 0 },
    { "data_space_id", SQL_INT, 0, 1, 0, 0 }, { "is_primary_key", SQL_BIT, 0, 1, 0, 0 },
    { "is_unique_constraint", SQL_BIT, 0, 1, 0, 0 }, { NULL, 0, 0, 0, 0, 0 }
};
static const vcol c_types[] = {
    { "name", NV(128), 0, 0, 0 }, { "system_type_id", SQL_TINYINT, 0, 0, 0, 0 }, { "user_type_id", SQL_INT, 0, 0, 0, 0 },
    { "schema_id", SQL_INT, 0, 0, 0, 0 }, { "max_length", SQL_SMALLINT, 0, 0, 0, 0 },
    { "precision", SQL_TINYINT, 0, 0, 0, 0 }, { "scale", SQL_TINYINT, 0, 0, 0, 0 },
    { "is_nullable", SQL_BIT, 0, 1, 0, 0 }, { "is_user_defined", SQL_BIT, 0, 0, 0, 0 },
    { NULL, 0, 0, 0, 0, 0 }
};
static const vcol c_sessions[] = {
    { "session_id", SQL_SMALLINT, 0, 0, 0, 0 }, { "login_time", SQL_DATETIME, 0, 0, 0, 0 },
    { "host_name", NV(128), 1, 0, 0 }, { "program_name", NV(128), 1, 0, 0 }, { "login_name", NV(128), 0, 0, 0 },
    { "status", NV(30), 0, 0, 0 }, { "last_request_start_time", SQL_DATETIME, 0, 0, 0, 0 },
    { "is_user_process", SQL_BIT, 0, 0, 0, 0 }, { "transaction_isolation_level", SQL_SMALLINT, 0, 0, 0, 0 },
    { "lock_timeout", SQL_INT, 0, 0, 0, 0 }, { "deadlock_priority", SQL_INT, 0, 0, 0, 0 },
    { "database_id", SQL_SMALLINT, 0, 0, 0, 0 }, { "open_transaction_count", SQL_INT, 0, 0, 0, 0 },
    { NULL, 0, 0, 0, 0, 0 }
};
static const vcol c_perf_counters[] = {
    { "object_name", NV(128), 0, 0, 0 }, { "counter_name", NV(128), 0, 0, 0 },
    { "instance_name", NV(128), 1, 0, 0 }, { "cntr_value", SQL_BIGINT, 0, 0, 0, 0 },
    { "cntr_type", SQL_INT, 0, 0, 0, 0 }, { NULL, 0, 0, 0, 0, 0 }
};
static const vcol c_cached_plans[] = {
    { "bucketid", SQL_INT, 0, 0, 0, 0 }, { "refcounts", SQL_INT, 0, 0, 0, 0 },
    { "usecounts", SQL_INT, 0, 0, 0, 0 }, { "size_in_bytes", SQL_INT, 0, 0, 0, 0 },
    { "memory_object_address", SQL_VARBINARY, 8, 0, 0, 0 }, { "cacheobjtype", NV(50), 0, 0, 0 },
    { "objtype", NV(20), 0, 0, 0 }, { "plan_handle", SQL_VARBINARY, 64, 0, 0, 0 },
    { "pool_id", SQL_INT, 0, 0, 0, 0 }, { "parent_plan_handle", SQL_VARBINARY, 64, 1, 0, 0 },
    { NULL, 0, 0, 0, 0, 0 }
};
static const vcol c_connections[] = {
    { "session_id", SQL_INT, 0, 1, 0, 0 }, { "most_recent_session_id", SQL_INT, 0, 1, 0, 0 },
    { "connect_time", SQL_DATETIME, 0, 0, 0, 0 }, { "net_transport", NV(40), 0, 0, 0 },
    { "protocol_type", NV(40), 1, 0, 0 }, { "protocol_version", SQL_INT, 0, 1, 0, 0 },
    { "encrypt_option", NV(40), 0, 0, 0 }, { "auth_scheme", NV(40), 0, 0, 0 },
    { "net_packet_size", SQL_INT, 0, 1, 0, 0 }, { "client_net_address", VC(48), 1, 0, 0 },
    { "client_tcp_port", SQL_INT, 0, 1, 0, 0 }, { "local_net_address", VC(48), 1, 0, 0 },
    { "local_tcp_port", SQL_INT, 0, 1, 0, 0 }, { NULL, 0, 0, 0, 0, 0 }
};
static const vcol c_tran_active[] = {
    { "transaction_id", SQL_BIGINT, 0, 0, 0, 0 }, { "name", NV(32), 0, 0, 0 },
    { "transaction_begin_time", SQL_DATETIME, 0, 0, 0, 0 }, { "transaction_type", SQL_INT, 0, 0, 0, 0 },
    { "transaction_state", SQL_INT, 0, 0, 0, 0 }, { "session_id", SQL_INT, 0, 1, 0, 0 },
    { NULL, 0, 0, 0, 0, 0 }
};
static const vcol c_is_tables[] = {
    { "TABLE_CATALOG", NV(128), 1, 0, 0 }, { "TABLE_SCHEMA", NV(128), 1, 0, 0 },
    { "TABLE_NAME", NV(128), 0, 0, 0 }, { "TABLE_TYPE", VC(10), 1, 0, 0 }, { NULL, 0, 0, 0, 0, 0 }
};
static const vcol c_is_columns[] = {
    { "TABLE_CATALOG", NV(128), 1, 0, 0 }, { "TABLE_SCHEMA", NV(128), 1, 0, 0 },
    { "TABLE_NAME", NV(128), 0, 0, 0 }, { "COLUMN_NAME", NV(128), 1, 0, 0 },
    { "ORDINAL_POSITION", SQL_INT, 0, 1, 0, 0 }, { "COLUMN_DEFAULT", NV(4000), 1, 0, 0 },
    { "IS_NULLABLE", VC(3), 1, 0, 0 }, { "DATA_TYPE", NV(128), 1, 0, 0 },
    { "CHARACTER_MAXIMUM_LENGTH", SQL_INT, 0, 1, 0, 0 }, { "CHARACTER_OCTET_LENGTH", SQL_INT, 0, 1, 0, 0 },
    { "NUMERIC_PRECISION", SQL_TINYINT, 0, 1, 0, 0 }, { "NUMERIC_PRECISION_RADIX", SQL_SMALLINT, 0, 1, 0, 0 },
    { "NUMERIC_SCALE", SQL_INT, 0, 1, 0, 0 }, { "DATETIME_PRECISION", SQL_SMALLINT, 0, 1, 0, 0 },
    { "COLLATION_NAME", NV(128), 1, 0, 0 }, { NULL, 0, 0, 0, 0, 0 }
};

static const vcol c_files[] = {
    { "database_id", SQL_INT, 0, 0, 0, 0 }, { "file_id", SQL_INT, 0, 0, 0, 0 },
    { "type", SQL_TINYINT, 0, 0, 0, 0 }, { "type_desc", NV(60), 1, 0, 0 },
    { "data_space_id", SQL_INT, 0, 0, 0, 0 }, { "name", NV(128), 0, 0, 0 },
    { "physical_name", NV(260), 0, 0, 0 }, { "state", SQL_TINYINT, 0, 1, 0, 0 },
    { "state_desc", NV(60), 1, 0, 0 }, { "size", SQL_INT, 0, 0, 0, 0 }, { "max_size", SQL_INT, 0, 0, 0, 0 },
    { "growth", SQL_INT, 0, 0, 0, 0 }, { "is_percent_growth", SQL_BIT, 0, 0, 0, 0 },
    { "is_read_only", SQL_BIT, 0, 0, 0, 0 }, { NULL, 0, 0, 0, 0, 0 }
};
static const vcol c_filegroups[] = {
    { "name", NV(128), 0, 0, 0 }, { "data_space_id", SQL_INT, 0, 0, 0, 0 }, { "type", SQL_CHAR, 2, 0, 0, 0 },
    { "type_desc", NV(60), 1, 0, 0 }, { "is_default", SQL_BIT, 0, 1, 0, 0 },
    { "is_system", SQL_BIT, 0, 1, 0, 0 }, { "is_read_only", SQL_BIT, 0, 0, 0, 0 }, { NULL, 0, 0, 0, 0, 0 }
};
static const vcol c_requests[] = {
    { "session_id", SQL_SMALLINT, 0, 0, 0, 0 }, { "request_id", SQL_INT, 0, 0, 0, 0 },
    { "start_time", SQL_DATETIME, 0, 0, 0, 0 }, { "status", NV(30), 0, 0, 0 }, { "command", NV(32), 0, 0, 0 },
    { "database_id", SQL_SMALLINT, 0, 0, 0, 0 }, { "blocking_session_id", SQL_SMALLINT, 0, 1, 0, 0 },
    { "wait_type", NV(60), 1, 0, 0 }, { "percent_complete", SQL_REAL, 0, 0, 0, 0 },
    { "transaction_id", SQL_BIGINT, 0, 0, 0, 0 }, { "open_transaction_count", SQL_INT, 0, 0, 0, 0 },
    { "transaction_isolation_level", SQL_SMALLINT, 0, 0, 0, 0 }, { "lock_timeout", SQL_INT, 0, 0, 0, 0 },
    { NULL, 0, 0, 0, 0, 0 }
};
static const vcol c_tran_db[] = {
    { "transaction_id", SQL_BIGINT, 0, 0, 0, 0 }, { "database_id", SQL_INT, 0, 0, 0, 0 },
    { "database_transaction_begin_time", SQL_DATETIME, 0, 1, 0, 0 },
    { "database_transaction_type", SQL_INT, 0, 0, 0, 0 }, { "database_transaction_state", SQL_INT, 0, 0, 0, 0 },
    { "database_transaction_begin_lsn", SQL_NUMERIC, 0, 1, 25, 0 },
    { "database_transaction_last_lsn", SQL_NUMERIC, 0, 1, 25, 0 }, { NULL, 0, 0, 0, 0, 0 }
};
static const vcol c_log_info[] = {
    { "database_id", SQL_INT, 0, 0, 0, 0 }, { "file_id", SQL_INT, 0, 0, 0, 0 },
    { "vlf_begin_offset", SQL_BIGINT, 0, 0, 0, 0 }, { "vlf_size_mb", SQL_FLOAT, 0, 0, 53, 0 },
    { "vlf_sequence_number", SQL_BIGINT, 0, 0, 0, 0 }, { "vlf_active", SQL_BIT, 0, 0, 0, 0 },
    { "vlf_status", SQL_INT, 0, 0, 0, 0 }, { "vlf_first_lsn", NV(24), 1, 0, 0 }, { NULL, 0, 0, 0, 0, 0 }
};

static const vcol c_backup_devices[] = {
    { "name", NV(128), 0, 0, 0 }, { "type", SQL_TINYINT, 0, 1, 0, 0 }, { "type_desc", NV(60), 1, 0, 0 },
    { "physical_name", NV(260), 1, 0, 0 }, { NULL, 0, 0, 0, 0, 0 }
};

static const struct vdef {
    const char *schema, *name;
    int id;
    const vcol *cols;
} views[] = {
    { "sys", "databases", V_DATABASES, c_databases }, { "sys", "tables", V_TABLES, c_objects },
    { "sys", "objects", V_OBJECTS, c_objects }, { "sys", "columns", V_COLUMNS, c_columns },
    { "sys", "schemas", V_SCHEMAS, c_schemas }, { "sys", "indexes", V_INDEXES, c_indexes },
    { "sys", "types", V_TYPES, c_types }, { "sys", "dm_exec_sessions", V_SESSIONS, c_sessions },
    { "sys", "dm_tran_active_transactions", V_TRAN_ACTIVE, c_tran_active },
    { "sys", "master_files", V_MASTER_FILES, c_files },
    { "sys", "database_files", V_DATABASE_FILES, c_files },
    { "sys", "filegroups", V_FILEGROUPS, c_filegroups },
    { "sys", "dm_exec_requests", V_REQUESTS, c_requests },
    { "sys", "dm_exec_connections", V_CONNECTIONS, c_connections },
    { "sys", "dm_tran_database_transactions", V_TRAN_DB, c_tran_db },
    { "sys", "dm_db_log_info", V_LOG_INFO, c_log_info },
    { "sys", "backup_devices", V_BACKUP_DEVICES, c_backup_devices },
    { "sys", "dm_os_performance_counters", V_PERF_COUNTERS, c_perf_counters },
    { "sys", "dm_exec_cached_plans", V_CACHED_PLANS, c_cached_plans },
    { "INFORMATION_SCHEMA", "TABLES", V_IS_TABLES, c_is_tables },
    { "INFORMATION_SCHEMA", "COLUMNS", V_IS_COLUMNS, c_is_columns },
    { NULL, NULL, 0, NULL }
};

int sv_view_lookup(const char *schema, const char *name)
{
    /* every table name is looked up here first: most are in neither schema */
    if (!schema || !name || (strcasecmp(schema, "sys") != 0 && strcasecmp(schema, "INFORMATION_SCHEMA") != 0))
        return 0;
    for (const struct vdef *v = views; v->name; v++)
        if (strcasecmp(v->schema, schema) == 0 && strcasecmp(v->name, name) == 0)
            return v->id;
    return 0;
}

static const struct vdef *vfind(int id)
{
    for (const struct vdef *v = views; v->name; v++)
        if (v->id == id)
            return v;
    return NULL;
}

int sv_view_columns(int view, int *ncols, const char ***names, sql_type **types, uint8_t **nullable)
{
    const struct vdef *v = vfind(view);
    if (!v)
        return -1;
    static const char **cache_n[V_COUNT];
    static sql_type *cache_t[V_COUNT];
    static uint8_t *cache_u[V_COUNT];
    static int cache_c[V_COUNT];
    static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
    pthread_mutex_lock(&mu);
    if (!cache_n[view]) {
        int n = 0;
        while (v->cols[n].name)
            n++;
        const char **nn = calloc((size_t)n, sizeof *nn);
        sql_type *tt = calloc((size_t)n, sizeof *tt);
        uint8_t *uu = calloc((size_t)n, 1);
        if (!nn || !tt || !uu) {
            free(nn);
            free(tt);
            free(uu);
            pthread_mutex_unlock(&mu);
            return -1;
        }
        for (int i = 0; i < n; i++) {
            nn[i] = v->cols[i].name;
            tt[i] = value_type(v->cols[i].id, v->cols[i].len, v->cols[i].prec, v->cols[i].scale);
            uu[i] = v->cols[i].nullable;
        }
        cache_n[view] = nn;
        cache_t[view] = tt;
        cache_u[view] = uu;
        cache_c[view] = n;
    }
    *ncols = cache_c[view];
    *names = cache_n[view];
    *types = cache_t[view];
    *nullable = cache_u[view];
    pthread_mutex_unlock(&mu);
    return 0;
}

/* ------------------------------------------------------------ row building */

typedef struct rb {
    arena *a;
    sql_value **rows;
    int n, cap, ncols, col;
    sql_value *cur;
} rb;

static int rb_row(rb *b)
{
    if (b->n == b->cap) {
        int nc = b->cap ? b->cap * 2 : 32;
        sql_value **nr = arena_alloc(b->a, sizeof *nr * (size_t)nc);
        if (!nr)
            return -1;
        if (b->n)
            ex_mcpy(nr, b->rows, sizeof *nr * (size_t)b->n);
        b->rows = nr;
        b->cap = nc;
    }
    b->cur = arena_alloc(b->a, sizeof *b->cur * (size_t)b->ncols);
    if (!b->cur)
        return -1;
    for (int i = 0; i < b->ncols; i++)
        b->cur[i] = value_null(SQL_INT);
    b->rows[b->n++] = b->cur;
    b->col = 0;
    return 0;
}

static void rb_s(rb *b, const char *s)
{
    if (b->col < b->ncols)
        b->cur[b->col++] = s ? cv_str(b->a, s, true) : value_null(SQL_NVARCHAR);
}
static void rb_vs(rb *b, const char *s)
{
    if (b->col < b->ncols)
        b->cur[b->col++] = s ? cv_str(b->a, s, false) : value_null(SQL_VARCHAR);
}
static void rb_i(rb *b, uint8_t type, int64_t v)
{
    if (b->col < b->ncols)
        b->cur[b->col++] = value_int(type, v);
}
static void rb_null(rb *b)
{
    if (b->col < b->ncols)
        b->col++;
}
static void rb_dt(rb *b, int64_t us_utc)
{
    int64_t loc_off = 0;
    int64_t l, u;
    cv_now(&l, &u);
    loc_off = l - u;
    int64_t us = us_utc + loc_off;
    int64_t days = us / 86400000000LL, rem = us % 86400000000LL;
    int32_t d1900 = (int32_t)(days + value_days_from_ymd(1970, 1, 1) - VALUE_DAYS_1900);
    if (b->col < b->ncols)
        b->cur[b->col++] = value_datetime(d1900, (uint32_t)(rem * 3 / 10000));
}

/* One row of sys.dm_os_performance_counters; 272696576 is
 * PERF_COUNTER_BULK_COUNT: a cumulative count, as SQL Server's /sec counters. */
static int perf_counter_row(rb *b, const char *object, const char *name, const char *instance,
                            uint64_t v)
{
    if (rb_row(b) < 0)
        return -1;
    rb_s(b, object);
    rb_s(b, name);
    rb_s(b, instance);
    rb_i(b, SQL_BIGINT, (int64_t)v);
    rb_i(b, SQL_INT, 272696576);
    return 0;
}

/* ------------------------------------------------------------ type facts */

static int sys_type_id(uint8_t id)
{
    static const int ids[SQL_TYPE_COUNT] = { [SQL_TINYINT] = 48, [SQL_SMALLINT] = 52, [SQL_INT] = 56,
        [SQL_BIGINT] = 127, [SQL_BIT] = 104, [SQL_DECIMAL] = 106, [SQL_NUMERIC] = 108, [SQL_MONEY] = 60,
        [SQL_SMALLMONEY] = 122, [SQL_FLOAT] = 62, [SQL_REAL] = 59, [SQL_CHAR] = 175, [SQL_VARCHAR] = 167,
        [SQL_NCHAR] = 239, [SQL_NVARCHAR] = 231, [SQL_BINARY] = 173, [SQL_VARBINARY] = 165, [SQL_DATE] = 40,
        [SQL_TIME] = 41, [SQL_DATETIME] = 61, [SQL_DATETIME2] = 42, [SQL_UNIQUEIDENTIFIER] = 36 };
    return id < SQL_TYPE_COUNT ? ids[id] : 0;
}

const char *sv_type_name(int32_t system_type_id)
{
    for (uint8_t id = SQL_TINYINT; id < SQL_TYPE_COUNT; id++)
        if (sys_type_id(id) == system_type_id && system_type_id != 0)
            return value_type_name(id);
    return NULL;
}

int32_t sv_type_id(const char *name)
{
    for (uint8_t id = SQL_TINYINT; id < SQL_TYPE_COUNT; id++)
        if (sys_type_id(id) && !strcasecmp(value_type_name(id), name))
            return sys_type_id(id);
    return 0;
}

static void type_facts(const sql_type *t, int *max_len, int *prec, int *scale)
{
    static const int len[SQL_TYPE_COUNT] = { [SQL_TINYINT] = 1, [SQL_SMALLINT] = 2, [SQL_INT] = 4, [SQL_BIGINT] = 8,
        [SQL_BIT] = 1, [SQL_MONEY] = 8, [SQL_SMALLMONEY] = 4, [SQL_FLOAT] = 8, [SQL_REAL] = 4, [SQL_DATE] = 3,
        [SQL_DATETIME] = 8, [SQL_UNIQUEIDENTIFIER] = 16 };
    static const int pr[SQL_TYPE_COUNT] = { [SQL_TINYINT] = 3, [SQL_SMALLINT] = 5, [SQL_INT] = 10, [SQL_BIGINT] = 19,
        [SQL_BIT] = 1, [SQL_MONEY] = 19, [SQL_SMALLMONEY] = 10, [SQL_FLOAT] = 53, [SQL_REAL] = 24, [SQL_DATE] = 10,
        [SQL_DATETIME] = 23 };
    *max_len = t->id < SQL_TYPE_COUNT ? len[t->id] : 0;
    *prec = t->id < SQL_TYPE_COUNT ? pr[t->id] : 0;
    *scale = 0;
    switch (t->id) {
    case SQL_DECIMAL: case SQL_NUMERIC:
        *prec = t->precision ? t->precision : 38;
        *scale = t->scale;
        *max_len = value_decimal_width((uint8_t)*prec) + 1;
        break;
    case SQL_MONEY: case SQL_SMALLMONEY: *scale = 4; break;
    case SQL_DATETIME: *scale = 3; break;
    case SQL_TIME: case SQL_DATETIME2: {
        int p = t->precision > 7 ? 7 : t->precision;
        *scale = p;
        *prec = (t->id == SQL_TIME ? 8 : 19) + (p ? p + 1 : 0);
        *max_len = (p <= 2 ? 3 : p <= 4 ? 4 : 5) + (t->id == SQL_DATETIME2 ? 3 : 0);
        break;
    }
    case SQL_CHAR: case SQL_VARCHAR: case SQL_BINARY: case SQL_VARBINARY:
        *max_len = t->max_len == VALUE_LEN_MAX ? -1 : t->max_len;
        break;
    case SQL_NCHAR: case SQL_NVARCHAR:
        *max_len = t->max_len == VALUE_LEN_MAX ? -1 : t->max_len * 2;
        break;
    default: break;
    }
}

/* ------------------------------------------------------------ generators */

typedef struct tctx {
    rb *b;
    database *db;
    int view;
    sql_session *s;
} tctx;

static bool visible_table(const table_def *td)
{
    return td->schema_id != SCHEMA_SYS && !td->dropped;
}

static int per_table(void *ctx, table_def *td)
{
    tctx *c = ctx;
    rb *b = c->b;
    if (!visible_table(td))
        return 0;
    char sbuf[130];
    const char *schema = ex_schema_name(c->db, td->schema_id, sbuf);
    switch (c->view) {
    case V_TABLES: case V_OBJECTS:
        if (rb_row(b) < 0)
            return 1;
        rb_s(b, td->name);
        rb_i(b, SQL_INT, td->object_id);
        rb_null(b);
        rb_i(b, SQL_INT, td->schema_id);
        rb_i(b, SQL_INT, 0);
        b->cur[b->col++] = value_bytes(SQL_CHAR, "U ", 2);
        rb_s(b, "USER_TABLE");
        rb_dt(b, (int64_t)c->db->boot.create_time_us);
        rb_dt(b, (int64_t)c->db->boot.create_time_us);
        rb_i(b, SQL_BIT, 0);
        rb_i(b, SQL_BIT, 0);
        rb_i(b, SQL_BIT, 0);
        break;
    case V_COLUMNS: case V_IS_COLUMNS: {
        tmeta *m = c->view == V_IS_COLUMNS ? ex_tmeta(c->s, c->db, td) : NULL;
        for (int i = 0; i < td->ncols; i++) {
            const tbl_column *col = &td->cols[i];
            int ml, pr, sc;
            type_facts(&col->type, &ml, &pr, &sc);
            if (rb_row(b) < 0)
                return 1;
            if (c->view == V_COLUMNS) {
                rb_i(b, SQL_INT, td->object_id);
                rb_s(b, col->name);
                rb_i(b, SQL_INT, i + 1);
                rb_i(b, SQL_TINYINT, sys_type_id(col->type.id));
                rb_i(b, SQL_INT, sys_type_id(col->type.id));
                rb_i(b, SQL_SMALLINT, ml);
                rb_i(b, SQL_TINYINT, pr);
                rb_i(b, SQL_TINYINT, sc);
                if (value_type_is_string(col->type.id))
                    rb_s(b, "SQL_Latin1_General_CP1_CI_AS");
                else
                    rb_null(b);
                rb_i(b, SQL_BIT, col->nullable);
                rb_i(b, SQL_BIT, 1);
                rb_i(b, SQL_BIT, col->identity);
                rb_i(b, SQL_BIT, 0);
                rb_i(b, SQL_INT, 0);
            } else {
                rb_s(b, c->db->tdb.name);
                rb_s(b, schema);
                rb_s(b, td->name);
                rb_s(b, col->name);
                rb_i(b, SQL_INT, i + 1);
                if (m && m->default_text && m->default_text[i]) {
                    char buf[4100];
                    snprintf(buf, sizeof buf, "(%s)", m->default_text[i]);
                    rb_s(b, buf);
                } else {
                    rb_null(b);
                }
                rb_vs(b, col->nullable ? "YES" : "NO");
                rb_s(b, col->type.id == SQL_DECIMAL ? "decimal" : value_type_name(col->type.id));
                bool str = value_type_is_string(col->type.id) || value_type_is_binary(col->type.id);
                if (str) {
                    int chars = col->type.max_len == VALUE_LEN_MAX ? -1 : col->type.max_len;
                    rb_i(b, SQL_INT, chars);
                    rb_i(b, SQL_INT, ml);
                } else {
                    rb_null(b);
                    rb_null(b);
                }
                bool num = col->type.id >= SQL_TINYINT && col->type.id <= SQL_REAL && col->type.id != SQL_BIT;
                if (num) {
                    rb_i(b, SQL_TINYINT, pr);
                    rb_i(b, SQL_SMALLINT, col->type.id == SQL_FLOAT || col->type.id == SQL_REAL ? 2 : 10);
                    if (col->type.id == SQL_FLOAT || col->type.id == SQL_REAL)
                        rb_null(b);
                    else
                        rb_i(b, SQL_INT, sc);
                } else {
                    rb_null(b);
                    rb_null(b);
                    rb_null(b);
                }
                if (col->type.id == SQL_DATETIME || col->type.id == SQL_DATETIME2 || col->type.id == SQL_TIME ||
                    col->type.id == SQL_DATE)
                    rb_i(b, SQL_SMALLINT, col->type.id == SQL_DATE ? 0 : sc);
                else
                    rb_null(b);
                if (value_type_is_string(col->type.id))
                    rb_s(b, "SQL_Latin1_General_CP1_CI_AS");
                else
                    rb_null(b);
            }
        }
        break;
    }
    case V_INDEXES:
        for (int i = 0; i < td->nidx; i++) {
            const tbl_index *x = &td->idx[i];
            if (rb_row(b) < 0)
                return 1;
            rb_i(b, SQL_INT, td->object_id);
            if (x->hidden_key)
                rb_null(b);
            else
                rb_s(b, x->name);
            rb_i(b, SQL_INT, x->hidden_key ? 0 : x->index_id);
            rb_i(b, SQL_TINYINT, x->hidden_key ? 0 : x->index_id == 1 ? 1 : 2);
            rb_s(b, x->hidden_key ? "HEAP" : x->index_id == 1 ? "CLUSTERED" : "NONCLUSTERED");
            rb_i(b, SQL_BIT, x->hidden_key ? 0 : x->unique);
            rb_i(b, SQL_INT, x->fg_id);
            rb_i(b, SQL_BIT, x->primary_key);
            rb_i(b, SQL_BIT, x->unique && !x->primary_key && x->index_id > 1 && strncmp(x->name, "UQ__", 4) == 0);
        }
        break;
    case V_IS_TABLES:
        if (rb_row(b) < 0)
            return 1;
        rb_s(b, c->db->tdb.name);
        rb_s(b, schema);
        rb_s(b, td->name);
        rb_vs(b, "BASE TABLE");
        break;
    }
    return 0;
}

typedef struct sess_ctx {
    rb *b;
    int failed;
} sess_ctx;

/* A row of sys.dm_exec_cached_plans: what hadrdb caches is the parse of a
 * batch (plancache.h), so its cacheobjtype is SQL Server's 'Parse Tree'; a
 * batch whose constants became parameters (or that had declared ones) is
 * 'Prepared', else 'Adhoc'. The handle is 0x06 and the entry's number. */
static void per_cached_plan(void *ctx, const plancache_entry_info *e)
{
    sess_ctx *c = ctx;
    rb *b = c->b;
    uint8_t *h = arena_calloc(b->a, 16);
    if (!h || rb_row(b) < 0) {
        c->failed = 1;
        return;
    }
    h[0] = 0x06;
    for (int i = 0; i < 8; i++)
        h[8 + i] = (uint8_t)(e->handle >> (56 - 8 * i));
    rb_i(b, SQL_INT, e->bucket);
    rb_i(b, SQL_INT, e->refs + 1);   /* the cache's own reference, as SQL Server counts */
    rb_i(b, SQL_INT, (int64_t)(e->uses > INT32_MAX ? INT32_MAX : e->uses));
    rb_i(b, SQL_INT, (int64_t)(e->bytes > INT32_MAX ? INT32_MAX : e->bytes));
    b->cur[b->col++] = value_bytes(SQL_VARBINARY, h + 8, 8);
    rb_s(b, "Parse Tree");
    rb_s(b, e->parameterized ? "Prepared" : "Adhoc");
    b->cur[b->col++] = value_bytes(SQL_VARBINARY, h, 16);
    rb_i(b, SQL_INT, 2);             /* the default resource pool */
    rb_null(b);
}

static void per_session(void *ctx, const sql_session *s)
{
    sess_ctx *c = ctx;
    rb *b = c->b;
    if (rb_row(b) < 0) {
        c->failed = 1;
        return;
    }
    rb_i(b, SQL_SMALLINT, s->spid);
    rb_dt(b, s->login_time_us);
    rb_s(b, s->host);
    rb_s(b, s->app);
    rb_s(b, s->login);
    rb_s(b, s->in_request ? "running" : "sleeping");
    rb_dt(b, s->last_batch_us);
    rb_i(b, SQL_BIT, 1);
    int iso = s->opt.iso == ISO_READ_UNCOMMITTED ? 1 : s->opt.iso == ISO_READ_COMMITTED ? 2 :
              s->opt.iso == ISO_REPEATABLE_READ ? 3 : s->opt.iso == ISO_SERIALIZABLE ? 4 : 5;
    rb_i(b, SQL_SMALLINT, iso);
    rb_i(b, SQL_INT, s->opt.lock_timeout);
    rb_i(b, SQL_INT, s->opt.deadlock_priority);
    rb_i(b, SQL_SMALLINT, s->db ? s->db->tdb.id : 1);
    rb_i(b, SQL_INT, s->trancount);
}

/* One row per client connection: every session here has one. */
static void per_connection(void *ctx, const sql_session *s)
{
    sess_ctx *c = ctx;
    rb *b = c->b;
    const sql_conn_info *ci = &s->conn;
    if (rb_row(b) < 0) {
        c->failed = 1;
        return;
    }
    rb_i(b, SQL_INT, s->spid);
    rb_i(b, SQL_INT, s->spid);
    rb_dt(b, ci->connect_time_us);
    rb_s(b, "TCP");
    rb_s(b, "TSQL");
    if (ci->tds_version)
        rb_i(b, SQL_INT, (int32_t)ci->tds_version);
    else
        rb_null(b);
    rb_s(b, ci->encrypted ? "TRUE" : "FALSE");
    rb_s(b, "SQL");
    if (ci->packet_size)
        rb_i(b, SQL_INT, ci->packet_size);
    else
        rb_null(b);
    rb_vs(b, ci->client_addr[0] ? ci->client_addr : NULL);
    if (ci->client_addr[0])
        rb_i(b, SQL_INT, ci->client_port);
    else
        rb_null(b);
    rb_vs(b, ci->local_addr[0] ? ci->local_addr : NULL);
    if (ci->local_addr[0])
        rb_i(b, SQL_INT, ci->local_port);
    else
        rb_null(b);
}

static void per_txn(void *ctx, const txn *t)
{
    sess_ctx *c = ctx;
    rb *b = c->b;
    if (rb_row(b) < 0) {
        c->failed = 1;
        return;
    }
    rb_i(b, SQL_BIGINT, (int64_t)t->id);
    rb_s(b, t->name);
    rb_dt(b, t->begin_time_us);
    rb_i(b, SQL_INT, t->recovering ? 3 : 1);
    rb_i(b, SQL_INT, t->state == TXN_PREPARED ? 5 : t->state == TXN_COMMITTED ? 6 : t->state == TXN_ABORTED ? 8 : 2);
    if (t->session_id > 0)
        rb_i(b, SQL_INT, t->session_id);
    else
        rb_null(b);
}

static const char *cmd_text(int cmd)
{
    switch (cmd) {
    case CMD_SELECT: return "SELECT";
    case CMD_INSERT: return "INSERT";
    case CMD_UPDATE: return "UPDATE";
    case CMD_DELETE: return "DELETE";
    case CMD_SET: return "SET OPTION ON";
    case CMD_BEGIN_TRAN: return "BEGIN TRANSACTION";
    case CMD_COMMIT: return "COMMIT TRANSACTION";
    case CMD_ROLLBACK: return "ROLLBACK TRANSACTION";
    case CMD_EXECUTE: return "EXECUTE";
    default: return "UNKNOWN";
    }
}

/* Who waits for a lock, in which mode, behind whom: read from the lock
 * manager once per query of sys.dm_exec_requests. */
typedef struct lock_wait { int spid, blocker; lock_mode mode; } lock_wait;
typedef struct wait_scan {
    lock_res cur;                   /* resource of the rows seen last */
    struct { int spid; lock_mode mode; } granted[32];
    int ngranted;
    lock_wait *waits;
    int nwaits, cap, failed;
} wait_scan;

static void scan_lock_row(void *ctx, const lock_res *res, lock_mode mode, int granted, const lock_owner *o)
{
    wait_scan *w = ctx;
    if (w->ngranted < 0 || !lock_res_equal(&w->cur, res)) {
        w->cur = *res;
        w->ngranted = 0;
    }
    int spid = lock_owner_session_id(o);
    if (granted) {
        if (w->ngranted < (int)(sizeof w->granted / sizeof w->granted[0])) {
            w->granted[w->ngranted].spid = spid;
            w->granted[w->ngranted].mode = mode;
            w->ngranted++;
        }
        return;
    }
    if (w->nwaits == w->cap) {
        int cap = w->cap ? w->cap * 2 : 16;
        lock_wait *n = realloc(w->waits, (size_t)cap * sizeof *n);
        if (!n) {
            w->failed = 1;
            return;
        }
        w->waits = n;
        w->cap = cap;
    }
    /* the first holder whose mode keeps this request waiting */
    int blocker = 0;
    for (int i = 0; i < w->ngranted && !blocker; i++)
        if (w->granted[i].spid != spid && !lock_mode_compatible(w->granted[i].mode, mode))
            blocker = w->granted[i].spid;
    w->waits[w->nwaits++] = (lock_wait){ spid, blocker, mode };
}

typedef struct req_ctx {
    rb *b;
    int failed;
    const wait_scan *waits;
} req_ctx;

static void per_request(void *ctx, const sql_session *s)
{
    req_ctx *c = ctx;
    rb *b = c->b;
    if (!s->in_request)
        return;
    const lock_wait *w = NULL;
    for (int i = 0; i < c->waits->nwaits && !w; i++)
        if (c->waits->waits[i].spid == s->spid)
            w = &c->waits->waits[i];
    if (rb_row(b) < 0) {
        c->failed = 1;
        return;
    }
    rb_i(b, SQL_SMALLINT, s->spid);
    rb_i(b, SQL_INT, 0);
    rb_dt(b, s->last_batch_us);
    rb_s(b, w ? "suspended" : "running");
    rb_s(b, cmd_text(s->stmt_cmd));
    rb_i(b, SQL_SMALLINT, s->db ? s->db->tdb.id : 1);
    rb_i(b, SQL_SMALLINT, w ? w->blocker : 0);
    if (w) {
        char wt[16];
        snprintf(wt, sizeof wt, "LCK_M_%s", lock_mode_wait_name(w->mode));
        rb_s(b, wt);
    } else {
        rb_null(b);
    }
    b->cur[b->col++] = value_float(SQL_REAL, 0);
    rb_i(b, SQL_BIGINT, s->tx ? (int64_t)s->tx->id : 0);
    rb_i(b, SQL_INT, s->trancount);
    int iso = s->opt.iso == ISO_READ_UNCOMMITTED ? 1 : s->opt.iso == ISO_READ_COMMITTED ? 2 :
              s->opt.iso == ISO_REPEATABLE_READ ? 3 : s->opt.iso == ISO_SERIALIZABLE ? 4 : 5;
    rb_i(b, SQL_SMALLINT, iso);
    rb_i(b, SQL_INT, s->opt.lock_timeout);
}

static void per_txn_db(void *ctx, const txn *t)
{
    sess_ctx *c = ctx;
    rb *b = c->b;
    for (int i = 0; i < t->nparts; i++) {
        if (!t->parts[i].state)
            continue;   /* a deferred transaction's part already rolled back */
        if (rb_row(b) < 0) {
            c->failed = 1;
            return;
        }
        rb_i(b, SQL_BIGINT, (int64_t)t->id);
        rb_i(b, SQL_INT, t->parts[i].db->id);
        rb_dt(b, t->begin_time_us);
        rb_i(b, SQL_INT, 1);
        rb_i(b, SQL_INT, t->state == TXN_PREPARED ? 5 : t->state == TXN_COMMITTED ? 6 : t->state == TXN_ABORTED ? 8 : 4);
        b->cur[b->col++] = value_decimal((__int128)t->parts[i].first_lsn);
        b->cur[b->col - 1].type = SQL_NUMERIC;
        b->cur[b->col++] = value_decimal((__int128)t->parts[i].last_lsn);
        b->cur[b->col - 1].type = SQL_NUMERIC;
    }
}

/* sys.master_files / sys.database_files rows of one database */
static int files_of(rb *b, database *d, bool with_db)
{
    boot_files bf;
    pthread_mutex_lock(&d->boot_mu);
    bf = d->files;
    pthread_mutex_unlock(&d->boot_mu);
    bool two_used = false;
    int maxid = 0;
    for (int i = 0; i < BOOT_MAX_FILES; i++) {
        const boot_file *f = &bf.files[i];
        if (!f->file_id)
            continue;
        if (f->file_id == 2)
            two_used = true;
        if (f->file_id > maxid)
            maxid = f->file_id;
        if (rb_row(b) < 0)
            return -1;
        rb_i(b, SQL_INT, with_db ? d->tdb.id : 0);
        rb_i(b, SQL_INT, f->file_id);
        rb_i(b, SQL_TINYINT, 0);
        rb_s(b, "ROWS");
        rb_i(b, SQL_INT, f->fg_id);
        rb_s(b, f->logical);
        /* where the file is open: master's registry decides (RESTORE ...
         * MOVE), not an older image of the boot page */
        const df_file_desc *open_as = df_file(d->df, f->file_id);
        rb_s(b, open_as ? open_as->path : f->path);
        /* enum df_state -> SQL Server's state numbers */
        static const char *const st[] = { "ONLINE", "OFFLINE", "DEFUNCT", "RESTORING" };
        static const int num[] = { 0, 6, 7, 1 };
        int k = f->state < 4 ? f->state : 0;
        rb_i(b, SQL_TINYINT, num[k]);
        rb_s(b, st[k]);
        rb_i(b, SQL_INT, df_file_pages(d->df, f->file_id));
        rb_i(b, SQL_INT, f->max_pages ? (int64_t)f->max_pages : -1);
        rb_i(b, SQL_INT, f->growth_pages);
        rb_i(b, SQL_BIT, 0);
        rb_i(b, SQL_BIT, 0);
    }
    /* the log: file 2 by SQL Server's convention, unless a data file has it */
    if (rb_row(b) < 0)
        return -1;
    rb_i(b, SQL_INT, with_db ? d->tdb.id : 0);
    rb_i(b, SQL_INT, two_used ? maxid + 1 : 2);
    rb_i(b, SQL_TINYINT, 1);
    rb_s(b, "LOG");
    rb_i(b, SQL_INT, 0);
    char lname[160];
    db_log_name(d, lname, sizeof lname);
    rb_s(b, lname);
    rb_s(b, d->log_path);
    rb_i(b, SQL_TINYINT, 0);
    rb_s(b, "ONLINE");
    /* a database whose files are not open (OFFLINE) may have no log open */
    rb_i(b, SQL_INT, d->tdb.log ? (int64_t)(log_file_size(d->tdb.log) / 8192) : 0);
    rb_i(b, SQL_INT, d->boot.log_max_pages ? (int64_t)d->boot.log_max_pages : -1);   /* LOG ON (MAXSIZE) */
    rb_i(b, SQL_INT, d->tdb.log ? (int64_t)(log_vlf_size(d->tdb.log) / 8192) : 0);
    rb_i(b, SQL_BIT, 0);
    rb_i(b, SQL_BIT, 0);
    return 0;
}

typedef struct dev_ctx { rb *b; int failed; } dev_ctx;

static void per_device(void *ctx, const char *name, int type, const char *path)
{
    dev_ctx *c = ctx;
    if (rb_row(c->b) < 0) {
        c->failed = 1;
        return;
    }
    rb_s(c->b, name);
    rb_i(c->b, SQL_TINYINT, type);
    rb_s(c->b, type == 2 ? "DISK" : "TAPE");
    rb_s(c->b, path);
}

static const char *recovery_desc(int m)
{
    return m == RECOVERY_SIMPLE ? "SIMPLE" : m == RECOVERY_BULK_LOGGED ? "BULK_LOGGED" : "FULL";
}

int sv_view_rows(sql_session *s, database *db, int view, arena *a, sql_value ***rows, int *nrows, hdb_err *err)
{
    const struct vdef *v = vfind(view);
    if (!v)
        return hdb_raise(err, 208, "(view)");
    int n = 0;
    while (v->cols[n].name)
        n++;
    rb b = { .a = a, .ncols = n };
    switch (view) {
    case V_DATABASES:
        for (uint32_t id = 1; id < INST_MAX_DBS; id++) {
            database *d = inst_database(s->in, id);
            if (!d)
                continue;
            if (rb_row(&b) < 0)
                goto oom;
            rb_s(&b, d->tdb.name);
            rb_i(&b, SQL_INT, id);
            rb_null(&b);
            b.cur[b.col++] = value_bytes(SQL_VARBINARY, "\x01", 1);
            rb_dt(&b, (int64_t)d->boot.create_time_us);
            rb_i(&b, SQL_TINYINT, 160);
            rb_s(&b, "SQL_Latin1_General_CP1_CI_AS");
            rb_i(&b, SQL_TINYINT, dbst_user_access(d));
            rb_s(&b, db_user_access_desc(dbst_user_access(d)));
            rb_i(&b, SQL_BIT, d->tdb.read_only_log != 0);
            rb_i(&b, SQL_BIT, 0);
            rb_i(&b, SQL_TINYINT, d->state);
            rb_s(&b, db_state_desc(d->state));
            /* a standby between restores: ONLINE, read-only (backup/standby.c) */
            rb_i(&b, SQL_BIT, d->state == DB_ONLINE && log_restore_state(d->tdb.log, NULL) == DB_RESTORE_STANDBY);
            rb_i(&b, SQL_TINYINT, d->boot.recovery_model ? d->boot.recovery_model : RECOVERY_FULL);
            rb_s(&b, recovery_desc(d->boot.recovery_model));
            rb_i(&b, SQL_TINYINT, ex_page_verify_option(d->boot.page_verify));
            rb_s(&b, ex_page_verify_desc(d->boot.page_verify));
            int reuse = dbst_is_shell(d) ? DB_REUSE_NOTHING : db_log_reuse_wait(d);   /* files not open */
            rb_i(&b, SQL_TINYINT, reuse);
            rb_s(&b, db_log_reuse_wait_desc(reuse));
            rb_i(&b, SQL_BIT, 0);
        }
        break;
    case V_SCHEMAS: {
        uint32_t *ids = arena_alloc(a, sizeof *ids * 1024);
        char (*names)[130] = arena_alloc(a, sizeof *names * 1024);
        if (!names || !ids)
            goto oom;
        int ns = ex_schema_list(db, ids, names, 1024);
        for (int i = 0; i < ns; i++) {
            if (rb_row(&b) < 0)
                goto oom;
            rb_s(&b, names[i]);
            rb_i(&b, SQL_INT, ids[i]);
            rb_i(&b, SQL_INT, ids[i] <= 4 ? ids[i] : 1);
        }
        break;
    }
    case V_TYPES:
        for (uint8_t id = SQL_TINYINT; id < SQL_TYPE_COUNT; id++) {
            sql_type t = value_type(id, id == SQL_NVARCHAR || id == SQL_NCHAR ? 4000 : 8000, id == SQL_DECIMAL || id == SQL_NUMERIC ? 18 : 7, 0);
            int ml, pr, sc;
            type_facts(&t, &ml, &pr, &sc);
            if (rb_row(&b) < 0)
                goto oom;
            rb_s(&b, value_type_name(id));
            rb_i(&b, SQL_TINYINT, sys_type_id(id));
            rb_i(&b, SQL_INT, sys_type_id(id));
            rb_i(&b, SQL_INT, 4);
            rb_i(&b, SQL_SMALLINT, ml);
            rb_i(&b, SQL_TINYINT, pr);
            rb_i(&b, SQL_TINYINT, sc);
            rb_i(&b, SQL_BIT, 1);
            rb_i(&b, SQL_BIT, 0);
        }
        break;
    case V_MASTER_FILES:
        for (uint32_t id = 1; id < INST_MAX_DBS; id++) {
            database *d = inst_database(s->in, id);
            if (d && files_of(&b, d, true) < 0)
                goto oom;
        }
        break;
    case V_DATABASE_FILES:
        if (files_of(&b, db, false) < 0)
            goto oom;
        for (int i = 0; i < b.n; i++)      /* sys.database_files has no database_id: keep it 0 */
            b.rows[i][0] = value_int(SQL_INT, 0);
        break;
    case V_FILEGROUPS: {
        boot_files bf;
        pthread_mutex_lock(&db->boot_mu);
        bf = db->files;
        pthread_mutex_unlock(&db->boot_mu);
        bool any = false;
        for (int i = 0; i < BOOT_MAX_FGS; i++) {
            if (!bf.fgs[i].fg_id)
                continue;
            any = true;
            if (rb_row(&b) < 0)
                goto oom;
            rb_s(&b, bf.fgs[i].name);
            rb_i(&b, SQL_INT, bf.fgs[i].fg_id);
            b.cur[b.col++] = value_bytes(SQL_CHAR, "FG", 2);
            rb_s(&b, "ROWS_FILEGROUP");
            rb_i(&b, SQL_BIT, bf.fgs[i].fg_id == 1);
            rb_i(&b, SQL_BIT, 0);
            rb_i(&b, SQL_BIT, 0);
        }
        if (!any) {
            if (rb_row(&b) < 0)
                goto oom;
            rb_s(&b, "PRIMARY");
            rb_i(&b, SQL_INT, 1);
            b.cur[b.col++] = value_bytes(SQL_CHAR, "FG", 2);
            rb_s(&b, "ROWS_FILEGROUP");
            rb_i(&b, SQL_BIT, 1);
            rb_i(&b, SQL_BIT, 0);
            rb_i(&b, SQL_BIT, 0);
        }
        break;
    }
    case V_REQUESTS: {
        wait_scan ws = { .ngranted = -1 };
        lock_mgr_foreach(s->in->locks, scan_lock_row, &ws);
        req_ctx c = { &b, ws.failed, &ws };
        if (!c.failed)
            ex_foreach_session(s->in, per_request, &c);
        free(ws.waits);
        if (c.failed)
            goto oom;
        break;
    }
    case V_TRAN_DB: {
        sess_ctx c = { &b, 0 };
        txn_mgr_foreach(s->in->txns, per_txn_db, &c);
        if (c.failed)
            goto oom;
        break;
    }
    case V_LOG_INFO: {
        if (!db->tdb.log)   /* OFFLINE: nothing is open */
            break;
        int n = log_vlfs(db->tdb.log, NULL, 0);
        log_vlf_info *vi = arena_alloc(a, sizeof *vi * (size_t)(n > 0 ? n : 1));
        if (!vi)
            goto oom;
        int got = log_vlfs(db->tdb.log, vi, n);
        if (got < n)
            n = got;
        uint64_t vs = log_vlf_size(db->tdb.log);
        for (int i = 0; i < n; i++) {
            if (rb_row(&b) < 0)
                goto oom;
            rb_i(&b, SQL_INT, db->tdb.id);
            rb_i(&b, SQL_INT, 2);
            rb_i(&b, SQL_BIGINT, (int64_t)vi[i].file_offset);
            b.cur[b.col++] = value_float(SQL_FLOAT, (double)(vi[i].size ? vi[i].size : vs) / 1048576.0);
            rb_i(&b, SQL_BIGINT, (int64_t)vi[i].seq);
            rb_i(&b, SQL_BIT, vi[i].active);
            rb_i(&b, SQL_INT, vi[i].active ? 2 : 0);
            char lsn[32];
            snprintf(lsn, sizeof lsn, "%llu", (unsigned long long)vi[i].first_lsn);
            rb_s(&b, vi[i].first_lsn ? lsn : NULL);
        }
        break;
    }
    case V_PERF_COUNTERS: {
        /* hadrdb's own counters, in SQL Server's view: what marked commits
         * cost (the marked-commit gate, txn/commit_gate.h); locks released
         * early at commit (txn/README.md); how sessions wait for their
         * clients (os/sockread.h); parsed batches reused (sql/plancache.h);
         * bulk counts */
        uint64_t marks, blocked, max_blocked;
        txn_mgr_mark_stats(s->in->txns, &marks, &blocked, &max_blocked);
        sockread_stats rs;
        sockread_get_stats(&rs);
        plancache_stats ps;
        plancache_get_stats(&ps);
        const struct { const char *object, *name; uint64_t v; } pc[] = {
            { "hadrdb:Transactions", "Marked commits", marks },
            { "hadrdb:Transactions", "Marked commit block time (us)", blocked },
            { "hadrdb:Transactions", "Marked commit block time max (us)", max_blocked },
            { "hadrdb:Locks", "Locks handed over at commit", txn_mgr_locks_handed_over(s->in->txns) },
            { "hadrdb:Network", "Reads caught spinning", rs.caught },
            { "hadrdb:Network", "Reads that slept", rs.slept },
            { "hadrdb:Network", "Read spin time (us)", rs.spin_us },
            { "hadrdb:Plan Cache", "Cache hits", ps.hits },
            { "hadrdb:Plan Cache", "Cache misses", ps.misses },
            { "hadrdb:Plan Cache", "Cached batches", ps.entries },
            { "hadrdb:Plan Cache", "Cache bytes", ps.bytes },
            { "hadrdb:Plan Cache", "Cache evictions", ps.evictions },
        };
        for (size_t i = 0; i < sizeof pc / sizeof pc[0]; i++)
            if (perf_counter_row(&b, pc[i].object, pc[i].name, "", pc[i].v) < 0)
                goto oom;
        /* each open database's group commit (log/logmgr.h), under SQL
         * Server's names: like its /sec counters, raw cumulative counts */
        for (uint32_t id = 1; id < INST_MAX_DBS; id++) {
            database *d = inst_database(s->in, id);
            if (!d || dbst_is_shell(d) || !d->tdb.log)
                continue;
            log_stats ls;
            log_get_stats(d->tdb.log, &ls);
            if (perf_counter_row(&b, "hadrdb:Databases", "Log Flushes/sec", d->tdb.name, ls.syncs) < 0 ||
                perf_counter_row(&b, "hadrdb:Databases", "Log Flush Waits/sec", d->tdb.name, ls.flush_waits) < 0 ||
                perf_counter_row(&b, "hadrdb:Databases", "Log Bytes Flushed/sec", d->tdb.name, ls.bytes_written) < 0)
                goto oom;
        }
        break;
    }
    case V_CACHED_PLANS: {
        sess_ctx c = { &b, 0 };
        plancache_foreach(per_cached_plan, &c);
        if (c.failed)
            goto oom;
        break;
    }
    case V_BACKUP_DEVICES: {
        dev_ctx c = { &b, 0 };
        if (bkdev_foreach(s->in, per_device, &c) < 0 || c.failed)
            goto oom;
        break;
    }
    case V_SESSIONS: {
        sess_ctx c = { &b, 0 };
        ex_foreach_session(s->in, per_session, &c);
        if (c.failed)
            goto oom;
        break;
    }
    case V_CONNECTIONS: {
        sess_ctx c = { &b, 0 };
        ex_foreach_session(s->in, per_connection, &c);
        if (c.failed)
            goto oom;
        break;
    }
    case V_TRAN_ACTIVE: {
        sess_ctx c = { &b, 0 };
        txn_mgr_foreach(s->in->txns, per_txn, &c);
        if (c.failed)
            goto oom;
        break;
    }
    default: {
        tctx c = { &b, db, view, s };
        if (cat_foreach_table(db, per_table, &c, err) < 0)
            return -1;
        break;
    }
    }
    *rows = b.rows;
    *nrows = b.n;
    return 0;
oom:
    return hdb_raise_text(err, 701, 19, 1, "There is insufficient system memory to run this query.");
}
