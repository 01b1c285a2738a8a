/*
 * session.h — what the server asks of the SQL layer: a session per client
 * connection, batches and RPCs executed against it, results delivered to a
 * sink the server implements over TDS.
 *
 * The SQL layer never writes bytes to a socket: every column list, row,
 * message, DONE and environment change goes through the sql_sink callbacks, in
 * the order a SQL Server response has them. The server maps them to TDS
 * tokens (COLMETADATA, ROW, INFO/ERROR, DONE/DONEINPROC/DONEPROC, ENVCHANGE).
 *
 * Errors: sql_execute_* return 0 when the batch ran (even if statements in it
 * raised errors — those were already sent through sink->message), and -1 only
 * when the connection must be closed (sink failure, fatal severity >= 20).
 */
#ifndef HDB_SQL_SESSION_H
#define HDB_SQL_SESSION_H

#include <stddef.h>
#include <stdint.h>

#include "access/value.h"
#include "engine/instance.h"
#include "util/err.h"

typedef struct sql_session sql_session;

/* A result column as the client sees it. */
typedef struct sql_column {
    const char *name;
    sql_type    type;
    uint8_t     nullable;
    uint8_t     identity;
} sql_column;

/* DONE kinds and status bits (TDS values, so the server can pass them on). */
enum { SQL_DONE = 0xFD, SQL_DONEPROC = 0xFE, SQL_DONEINPROC = 0xFF };
enum { SQL_DONE_MORE = 0x1, SQL_DONE_ERROR = 0x2, SQL_DONE_INXACT = 0x4, SQL_DONE_COUNT = 0x10,
       SQL_DONE_ATTN = 0x20 };
/* environment changes */
enum { SQL_ENV_BEGIN_TRAN = 8, SQL_ENV_COMMIT_TRAN = 9, SQL_ENV_ROLLBACK_TRAN = 10,
       SQL_ENV_TRAN_ENDED = 17 };

typedef struct sql_sink {
    void *ctx;
    int (*columns)(void *ctx, const sql_column *cols, int ncols);
    int (*row)(void *ctx, const sql_value *vals, int ncols);
    /* kind: SQL_DONE...; curcmd: TDS command code (0xC1 SELECT, 0xC3 INSERT, ...) */
    int (*done)(void *ctx, int kind, unsigned status, unsigned curcmd, uint64_t rowcount);
    /* INFO (is_error 0) or ERROR token; proc may be NULL; line is 1-based */
    int (*message)(void *ctx, const hdb_err *e, int is_error, const char *proc, int line);
    int (*env_database)(void *ctx, const char *new_db, const char *old_db);
    /* what: SQL_ENV_*; descriptor: the transaction's 8-byte descriptor */
    int (*env_transaction)(void *ctx, int what, uint64_t descriptor);
    int (*return_status)(void *ctx, int32_t status);
    int (*return_value)(void *ctx, int ordinal, const char *name, const sql_type *type, const sql_value *v);
    /* 1 when the client sent an ATTENTION: stop at the next statement boundary */
    int (*cancelled)(void *ctx);
} sql_sink;

/* Facts about the client connection, shown by sys.dm_exec_connections.
 * The server fills them; the SQL layer only displays them. */
typedef struct sql_conn_info {
    int64_t  connect_time_us;    /* UTC microseconds since 1970; 0 = login time */
    int      encrypted;          /* TLS on the whole connection */
    char     client_addr[48], local_addr[48];   /* "" = unknown */
    int      client_port, local_port;
    uint32_t tds_version;        /* as answered in LOGINACK, e.g. 0x74000004 */
    int      packet_size;
} sql_conn_info;

/* Session options from LOGIN7 (ODBC-style logins turn the ANSI options on,
 * DB-Library logins leave QUOTED_IDENTIFIER off). */
typedef struct sql_login_info {
    int         spid;
    const char *login;          /* "sa" */
    const char *database;       /* initial database, "" = master */
    const char *host, *app;
    int         ansi_defaults;  /* ODBC/OLEDB: ANSI_NULLS, ANSI_PADDING, ANSI_WARNINGS,
                                   QUOTED_IDENTIFIER, CONCAT_NULL_YIELDS_NULL ON */
    int         quoted_identifier;
    sql_conn_info conn;
} sql_login_info;

/* NULL + 4060 ("Cannot open database ... requested by the login") if the
 * initial database does not exist or is not online. */
sql_session *sql_session_open(instance *in, const sql_login_info *li, hdb_err *err);
/* Rolls back an open transaction, frees everything. */
void sql_session_close(sql_session *s);
/* RESETCONNECTION: back to the login's state (rolls back, resets options). */
void sql_session_reset(sql_session *s);
const char *sql_session_database(const sql_session *s);
int sql_session_spid(const sql_session *s);
/* @@TRANCOUNT > 0: a user transaction is open between requests. */
int sql_session_in_transaction(const sql_session *s);

/* Execute one batch of T-SQL (UTF-8). txn_descriptor is what the client sent
 * in ALL_HEADERS (0 = none). */
int sql_execute_batch(sql_session *s, const char *text, size_t len, uint64_t txn_descriptor,
                      const sql_sink *sink);

/* An RPC: sp_executesql, sp_prepare, sp_execute, sp_prepexec, sp_unprepare or
 * a procedure by name. Parameters in order; name may be NULL (positional). */
typedef struct sql_rpc_param {
    const char *name;         /* "@p1" or NULL */
    sql_type    type;
    sql_value   value;
    int         output;       /* OUTPUT parameter: its final value is returned */
    int         is_default;
} sql_rpc_param;
int sql_execute_rpc(sql_session *s, const char *proc, const sql_rpc_param *params, int nparams,
                    uint64_t txn_descriptor, const sql_sink *sink);

/* Transaction-manager requests (TDS TM): begin / commit / rollback / save. */
enum { SQL_TM_BEGIN = 5, SQL_TM_COMMIT = 7, SQL_TM_ROLLBACK = 8, SQL_TM_SAVE = 9 };
int sql_execute_tm(sql_session *s, int request, const char *name, int isolation, int begin_new,
                   const sql_sink *sink);

/* Another thread (KILL, server shutdown): make the session's running batch
 * stop at the next statement boundary and any lock wait fail. */
void sql_session_interrupt(sql_session *s);

/* ---- instance-level hooks the server sets (all optional) ----------------
 * shutdown: T-SQL SHUTDOWN [WITH NOWAIT] calls fn(nowait) after answering;
 *   without a hook SHUTDOWN fails with an error.
 * kill: KILL spid calls fn(spid) to end that connection (the session is
 *   interrupted first); returns 0, or -1 if no such connection.
 * server name: @@SERVERNAME, SERVERPROPERTY('ServerName'); default host name. */
void sql_set_shutdown_hook(void (*fn)(int nowait));
/* At server start, after inst_open: create msdb's backup/restore history
 * tables (msdb.dbo.backupset, ...) if they are missing. */
int sql_msdb_prepare(instance *in, hdb_err *err);
/* msdb.dbo.suspect_pages (sql/suspect_pages.c): start creates the table if
 * missing and starts the thread that writes the events engine/suspect.h
 * queues; flush writes what is queued now (returns how many events); stop
 * ends the thread (flush = 1: writes what is still queued first; call it
 * before inst_close, with no session left). */
int sql_suspect_pages_prepare(instance *in, hdb_err *err);
int sql_suspect_pages_start(instance *in, hdb_err *err);
int sql_suspect_pages_flush(instance *in);
void sql_suspect_pages_stop(instance *in, int flush);
void sql_set_kill_hook(int (*fn)(int spid));
void sql_set_server_name(const char *name);

#endif
