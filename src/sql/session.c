/*
 * session.c — sessions (session.h): open/close/reset, the registry behind
 * sys.dm_exec_sessions and KILL, the entry points the server calls
 * (batches, RPCs, transaction-manager requests), interruption, and the
 * instance-level hooks.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <strings.h>

#include "engine/dbstate.h"
#include "sql/exec_int.h"

/* ------------------------------------------------------------ hooks */

static void (*shutdown_hook)(int nowait);
static int (*kill_hook)(int spid);
static char server_name[256];

void sql_set_shutdown_hook(void (*fn)(int nowait)) { shutdown_hook = fn; }
void sql_set_kill_hook(int (*fn)(int spid)) { kill_hook = fn; }
void sql_set_server_name(const char *name) { snprintf(server_name, sizeof server_name, "%s", name ? name : ""); }

const char *ex_server_name(void)
{
    if (!server_name[0] && gethostname(server_name, sizeof server_name - 1) != 0)
        snprintf(server_name, sizeof server_name, "hadrdb");
    return server_name;
}

void (*ex_shutdown_hook(void))(int) { return shutdown_hook; }
int (*ex_kill_hook(void))(int) { return kill_hook; }

/* ------------------------------------------------------------ registry */

static pthread_mutex_t reg_mu = PTHREAD_MUTEX_INITIALIZER;
static sql_session *reg_head;

void ex_session_register(sql_session *s)
{
    pthread_mutex_lock(&reg_mu);
    s->next_sess = reg_head;
    s->prev_sess = NULL;
    if (reg_head)
        reg_head->prev_sess = s;
    reg_head = s;
    pthread_mutex_unlock(&reg_mu);
}

void ex_session_unregister(sql_session *s)
{
    pthread_mutex_lock(&reg_mu);
    if (s->prev_sess)
        s->prev_sess->next_sess = s->next_sess;
    else if (reg_head == s)
        reg_head = s->next_sess;
    if (s->next_sess)
        s->next_sess->prev_sess = s->prev_sess;
    s->next_sess = s->prev_sess = NULL;
    pthread_mutex_unlock(&reg_mu);
}

void ex_foreach_session(instance *in, void (*fn)(void *ctx, const sql_session *s), void *ctx)
{
    pthread_mutex_lock(&reg_mu);
    for (sql_session *s = reg_head; s; s = s->next_sess)
        if (s->in == in)
            fn(ctx, s);
    pthread_mutex_unlock(&reg_mu);
}

/* KILL: interrupt the session with that spid (under the registry mutex, so
 * it cannot be freed meanwhile). 1 found, 0 not. */
int ex_kill_session(instance *in, int spid)
{
    int found = 0;
    pthread_mutex_lock(&reg_mu);
    for (sql_session *s = reg_head; s; s = s->next_sess) {
        if (s->in == in && s->spid == spid) {
            s->killed = 1;
            sql_session_interrupt(s);
            found = 1;
            break;
        }
    }
    pthread_mutex_unlock(&reg_mu);
    return found;
}

/* ------------------------------------------------------------ options */

static void login_options(sql_session *s, const sql_login_info *li)
{
    ex_opts *o = &s->login_opt;
    memset(o, 0, sizeof *o);
    bool ansi = li ? li->ansi_defaults : false;
    o->ansi_nulls = ansi;
    o->ansi_warnings = ansi;
    o->ansi_padding = ansi;
    o->concat_null = ansi;
    o->ansi_null_dflt_on = ansi;
    o->quoted_identifier = li ? (li->quoted_identifier || ansi) : false;
    o->arithabort = false;   /* as SQL Server's default user options: @@OPTIONS 5432 for ODBC logins */
    o->lock_timeout = -1;
    o->iso = ISO_READ_COMMITTED;
    o->datefirst = 7;
    o->textsize = 2147483647;
    o->deadlock_priority = 0;
    snprintf(o->dateformat, sizeof o->dateformat, "mdy");
    snprintf(o->language, sizeof o->language, "us_english");
}

void ex_reset_options(sql_session *s) { s->opt = s->login_opt; }

/* ------------------------------------------------------------ open/close */

static int db_openable(const char *name, const char *login, database *db, hdb_err *err)
{
    char m[400];
    if (!db) {
        snprintf(m, sizeof m, "Cannot open database \"%s\" requested by the login. The login failed.", name);
        return hdb_raise_text(err, 4060, 11, 1, m);
    }
    /* its state and user access, as exec_dbstate.c's ex_db_usable: any
     * refusal is the login's 4060 */
    int sysadmin = login && strcasecmp(login, "sa") == 0;
    int access = dbst_user_access(db);
    if ((db->state != DB_ONLINE && !(db->state == DB_EMERGENCY && sysadmin)) ||
        (access == DB_SINGLE_USER && db->users > 0) || (access == DB_RESTRICTED_USER && !sysadmin)) {
        snprintf(m, sizeof m, "Cannot open database \"%s\" requested by the login. The login failed.", name);
        return hdb_raise_text(err, 4060, 11, 1, m);
    }
    return 0;
}

sql_session *sql_session_open(instance *in, const sql_login_info *li, hdb_err *err)
{
    const char *dbname = li && li->database && li->database[0] ? li->database : "master";
    database *db = inst_find_database(in, dbname);
    if (db_openable(dbname, li && li->login ? li->login : "sa", db, err) < 0)
        return NULL;
    sql_session *s = calloc(1, sizeof *s);
    if (!s) {
        hdb_raise_text(err, 701, 19, 1, "There is insufficient system memory to run this query.");
        return NULL;
    }
    s->in = in;
    s->spid = li ? li->spid : 0;
    snprintf(s->login, sizeof s->login, "%s", li && li->login ? li->login : "sa");
    snprintf(s->host, sizeof s->host, "%s", li && li->host ? li->host : "");
    snprintf(s->app, sizeof s->app, "%s", li && li->app ? li->app : "");
    snprintf(s->login_db, sizeof s->login_db, "%s", db->tdb.name);
    s->db = db;
    db->users++;
    login_options(s, li);
    ex_reset_options(s);
    cv_now(NULL, &s->login_time_us);
    s->last_batch_us = s->login_time_us;
    if (li)
        s->conn = li->conn;
    if (!s->conn.connect_time_us)
        s->conn.connect_time_us = s->login_time_us;
    s->next_handle = 1;
    pthread_mutex_init(&s->live_mu, NULL);
    arena_init(&s->batch_arena, 0);
    arena_init(&s->stmt_arena, 0);
    arena_init(&s->row_arena, 0);
    ex_session_register(s);
    return s;
}

static void free_vars(sql_session *s)
{
    ex_vars_pop(s, 0);
    free(s->vars);
    s->vars = NULL;
    s->cap_vars = 0;
}

void sql_session_close(sql_session *s)
{
    if (!s)
        return;
    ex_session_unregister(s);
    s->sink = NULL;
    ex_tran_abort(s);
    ex_temp_cleanup(s, 0);
    free(s->temps);
    if (s->db)
        s->db->users--;
    free_vars(s);
    free(s->catch_stack);
    rpc_free_prepared(s);
    arena_destroy(&s->batch_arena);
    arena_destroy(&s->stmt_arena);
    arena_destroy(&s->row_arena);
    pthread_mutex_destroy(&s->live_mu);
    free(s);
}

void sql_session_reset(sql_session *s)
{
    const sql_sink *saved = s->sink;
    s->sink = NULL;           /* a reset sends no ENVCHANGE for the rollback */
    ex_tran_abort(s);
    ex_temp_cleanup(s, 0);
    s->sink = saved;
    ex_reset_options(s);
    database *db = inst_find_database(s->in, s->login_db);
    if (db && db != s->db) {
        s->db->users--;
        s->db = db;
        db->users++;
    }
    rpc_free_prepared(s);
    s->last_error = 0;
    s->rowcount = 0;
    s->has_identity = s->has_scope_identity = false;
}

const char *sql_session_database(const sql_session *s) { return s->db->tdb.name; }
int sql_session_spid(const sql_session *s) { return s->spid; }
int sql_session_in_transaction(const sql_session *s) { return s->trancount > 0; }

void sql_session_interrupt(sql_session *s)
{
    s->interrupted = 1;
    pthread_mutex_lock(&s->live_mu);
    if (s->tx)
        lock_cancel_wait(txn_mgr_locks(s->in->txns), &s->tx->lo);
    pthread_mutex_unlock(&s->live_mu);
}

/* ------------------------------------------------------------ requests */

static void request_start(sql_session *s, const sql_sink *sink, int done_kind)
{
    s->sink = sink;
    s->done_kind = done_kind;
    s->dones_sent = 0;
    s->rpc_error = false;
    s->sink_failed = false;
    s->interrupted = 0;
    s->in_request = 1;
    cv_now(NULL, &s->last_batch_us);
    /* a deleted / taken-offline current database: fall back to master */
    if (s->db->state != DB_ONLINE && s->db->state != DB_EMERGENCY) {
        database *m = inst_database(s->in, DBID_MASTER);
        if (m && m != s->db) {
            s->db->users--;
            s->db = m;
            m->users++;
        }
    }
}

static int request_end(sql_session *s, int rc)
{
    s->in_request = 0;
    arena_reset(&s->stmt_arena);
    arena_reset(&s->row_arena);
    if (s->killed || s->sink_failed || rc == EX_FATAL)
        return -1;
    return 0;
}

int sql_execute_batch(sql_session *s, const char *text, size_t len, uint64_t txn_descriptor,
                      const sql_sink *sink)
{
    (void)txn_descriptor;
    if (s->killed)
        return -1;
    request_start(s, sink, SQL_DONE);
    s->scope_depth = 0;
    s->var_base = 0;
    int rc = ex_run_text(s, text, len, NULL, 0);
    if (rc != EX_FATAL && !s->sink_failed)
        ex_end_of_batch(s);
    if (rc != EX_FATAL && !s->sink_failed && s->dones_sent == 0 && !s->interrupted)
        ex_done(s, 0, CMD_NONE, 0, false);
    if (s->interrupted && !s->killed && rc != EX_FATAL && s->dones_sent == 0)
        ex_done(s, SQL_DONE_ERROR, CMD_NONE, 0, false);
    ex_temp_cleanup_vars(s);
    ex_vars_pop(s, 0);
    return request_end(s, rc);
}

int sql_execute_rpc(sql_session *s, const char *proc, const sql_rpc_param *params, int nparams,
                    uint64_t txn_descriptor, const sql_sink *sink)
{
    (void)txn_descriptor;
    if (s->killed)
        return -1;
    request_start(s, sink, SQL_DONEINPROC);
    int rc = rpc_execute(s, proc, params, nparams);
    if (rc != EX_FATAL && !s->sink_failed)
        ex_end_of_batch(s);
    ex_vars_pop(s, 0);
    return request_end(s, rc);
}

int sql_execute_tm(sql_session *s, int request, const char *name, int isolation, int begin_new,
                   const sql_sink *sink)
{
    if (s->killed)
        return -1;
    request_start(s, sink, SQL_DONE);
    static const int iso_map[6] = { 0, ISO_READ_UNCOMMITTED, ISO_READ_COMMITTED, ISO_REPEATABLE_READ,
                                    ISO_SERIALIZABLE, ISO_SNAPSHOT };
    if (isolation > 0 && isolation < 6)
        s->opt.iso = iso_map[isolation];
    hdb_err_clear(&s->err);
    int rc = 0;
    unsigned cmd = CMD_NONE;
    const char *nm = name && name[0] ? name : NULL;
    switch (request) {
    case SQL_TM_BEGIN:
        cmd = CMD_BEGIN_TRAN;
        rc = ex_begin_user(s, nm, &s->err);
        break;
    case SQL_TM_COMMIT:
        cmd = CMD_COMMIT;
        if (s->trancount == 0)
            rc = hdb_raise(&s->err, 3902);
        else {
            /* TM commit ends the whole transaction, whatever the nesting */
            s->trancount = 1;
            rc = ex_commit_user(s, &s->err);
        }
        if (rc == 0 && begin_new)
            rc = ex_begin_user(s, NULL, &s->err);
        break;
    case SQL_TM_ROLLBACK:
        cmd = CMD_ROLLBACK;
        if (s->trancount == 0) {
            rc = hdb_raise(&s->err, 3903);
        } else if (nm && s->tx && strcmp(nm, s->tx_name) != 0) {
            if (s->tx_ddl)
                ex_tmeta_forget_all();
            rc = txn_rollback_to(s->tx, nm, &s->err);
            break;                     /* to a savepoint: no new transaction */
        } else {
            rc = ex_rollback_all(s, &s->err);
        }
        if (rc == 0 && begin_new)
            rc = ex_begin_user(s, NULL, &s->err);
        break;
    case SQL_TM_SAVE:
        if (s->trancount == 0)
            rc = hdb_raise_text(&s->err, 628, 16, 1, "Cannot issue SAVE TRANSACTION when there is no active transaction.");
        else
            rc = txn_save(s->tx, nm ? nm : "", &s->err);
        break;
    default:
        rc = hdb_raise_text(&s->err, 40003, 16, 1, "This transaction manager request is not supported yet.");
        break;
    }
    if (rc < 0) {
        ex_report(s, &s->err, 1);
        ex_done(s, SQL_DONE_ERROR, cmd, 0, false);
    } else {
        ex_done(s, 0, cmd, 0, false);
    }
    return request_end(s, EX_OK);
}
