/* conn.c — serving one client connection over TDS (see conn.h). */
#include "server/conn.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "os/sockread.h"
#include "server/logins.h"
#include "server/tls.h"

/* ---- the result sink: SQL layer callbacks -> TDS tokens ------------------- */

static int sink_columns(void *ctx, const sql_column *cols, int n)
{
    conn *c = ctx;
    tds_column tc[n > 0 ? n : 1];
    for (int i = 0; i < n; i++) {
        tc[i].type = cols[i].type;
        tc[i].name = cols[i].name ? cols[i].name : "";
        tc[i].flags = (uint16_t)((cols[i].nullable ? TDS_COL_NULLABLE : 0) | (cols[i].identity ? TDS_COL_IDENTITY : 0));
    }
    hdb_err e;
    return tds_put_colmetadata(c->tds, tc, n, &e);
}

static int sink_row(void *ctx, const sql_value *vals, int n)
{
    conn *c = ctx;
    hdb_err e;
    return tds_put_row(c->tds, vals, n, &e);
}

static int sink_done(void *ctx, int kind, unsigned status, unsigned curcmd, uint64_t rowcount)
{
    conn *c = ctx;
    return tds_put_done(c->tds, (uint8_t)kind, (uint16_t)(status & ~SQL_DONE_MORE), (uint16_t)curcmd, rowcount);
}

static int sink_message(void *ctx, const hdb_err *e, int is_error, const char *proc, int line)
{
    conn *c = ctx;
    /* INFO carries severity <= 10, ERROR above: the token follows severity */
    uint8_t sev = (uint8_t)(is_error ? (e->severity > 10 ? e->severity : 16) : (e->severity > 10 ? 0 : e->severity));
    return tds_put_message(c->tds, e->number, (uint8_t)(e->state ? e->state : 1), sev, e->msg,
                           c->srv->opt.instance_name, proc, (uint32_t)(line > 0 ? line : 1));
}

static int sink_env_database(void *ctx, const char *new_db, const char *old_db)
{
    conn *c = ctx;
    return tds_put_env_database(c->tds, new_db, old_db);
}

static int sink_env_transaction(void *ctx, int what, uint64_t descriptor)
{
    conn *c = ctx;
    switch (what) {
    case SQL_ENV_BEGIN_TRAN:
        return tds_put_env_begin_tran(c->tds, descriptor);
    case SQL_ENV_COMMIT_TRAN:
        return tds_put_env_commit_tran(c->tds, descriptor);
    case SQL_ENV_ROLLBACK_TRAN:
        return tds_put_env_rollback_tran(c->tds, descriptor);
    case SQL_ENV_TRAN_ENDED:
        return tds_put_env_tran_ended(c->tds, descriptor);
    }
    return 0;
}

static int sink_return_status(void *ctx, int32_t status)
{
    conn *c = ctx;
    return tds_put_returnstatus(c->tds, status);
}

static int sink_return_value(void *ctx, int ordinal, const char *name, const sql_type *type, const sql_value *v)
{
    conn *c = ctx;
    hdb_err e;
    return tds_put_returnvalue(c->tds, (uint16_t)ordinal, name, TDS_PARAM_BYREF, type, v, &e);
}

/* Polling the socket for a cancel is a system call, and the SQL layer asks
 * before every statement: that was a third of a point select's system calls.
 * A client cannot tell a cancel seen in the request's first millisecond from
 * one answered right after the response (the ack follows the response either
 * way), so the socket is polled only once the request has run that long, and
 * then at most once a millisecond. Bytes already read are always looked at. */
#define ATTN_POLL_NS 1000000

static int64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);   /* vDSO: no system call */
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int sink_cancelled(void *ctx)
{
    conn *c = ctx;
    if (c->srv->stopping || tds_attention_pending(c->tds))
        return 1;
    int64_t now = mono_ns();
    if (now < c->attn_poll_at)
        return 0;
    c->attn_poll_at = now + ATTN_POLL_NS;
    return tds_check_attention(c->tds);
}

static sql_sink make_sink(conn *c)
{
    sql_sink s = { .ctx = c, .columns = sink_columns, .row = sink_row, .done = sink_done,
                   .message = sink_message, .env_database = sink_env_database,
                   .env_transaction = sink_env_transaction, .return_status = sink_return_status,
                   .return_value = sink_return_value, .cancelled = sink_cancelled };
    return s;
}

/* ---- handshake --------------------------------------------------------------- */

static int login_failed(conn *c, const hdb_err *errs, int n)
{
    hdb_err e;
    tds_send_login_error(c->tds, errs, n, c->srv->opt.instance_name, &e);
    return -1;
}

/* Dotted address and port of either end of the socket ("" when unknown). */
static void sock_address(int fd, int peer, char *addr, size_t cap, int *port)
{
    struct sockaddr_in sa;
    socklen_t len = sizeof sa;
    addr[0] = 0;
    *port = 0;
    int rc = peer ? getpeername(fd, (struct sockaddr *)&sa, &len) : getsockname(fd, (struct sockaddr *)&sa, &len);
    if (rc == 0 && sa.sin_family == AF_INET && inet_ntop(AF_INET, &sa.sin_addr, addr, (socklen_t)cap))
        *port = ntohs(sa.sin_port);
}

/* PRELOGIN's ENCRYPTION decides: a client that asks for encryption (ON, or
 * REQ which some drivers send) gets ENCRYPT_ON and TLS for the whole
 * connection; OFF and NOT_SUP get NOT_SUP and plain text. (Answering OFF
 * would mean encrypting the login packet only, which FreeTDS alone does.) */
static int negotiate_encryption(conn *c, const tds_prelogin *pl, tds_prelogin_reply *reply,
                                const char *client)
{
    /* the 0x80 client-certificate flag is not supported: read the mode only */
    uint8_t asked = pl->has_encryption ? (uint8_t)(pl->encryption & 0x03) : TDS_ENCRYPT_NOT_SUP;
    int wants = asked == TDS_ENCRYPT_ON || asked == TDS_ENCRYPT_REQ;
    hdb_err e;
    reply->encryption = wants && c->srv->tls ? TDS_ENCRYPT_ON : TDS_ENCRYPT_NOT_SUP;
    if (tds_send_prelogin_response(c->tds, reply, &e) < 0)
        return -1;
    if (reply->encryption != TDS_ENCRYPT_ON)
        /* no certificate: a client that insists gets nowhere, as before */
        return wants && asked == TDS_ENCRYPT_REQ ? -1 : 0;
    c->tls = tls_accept(c->srv->tls, c->tds, c->fd, &e);
    if (!c->tls) {
        inst_log(c->srv->in, "Error: %d, Severity: %d, State: %d. %s [CLIENT: %s]", e.number, e.severity,
                 e.state, e.msg, client);
        return -1;
    }
    return 0;
}

static int handshake(conn *c)
{
    hdb_err e;
    tds_message m;
    sql_conn_info ci = { 0 };
    struct timeval tv;
    gettimeofday(&tv, NULL);
    ci.connect_time_us = (int64_t)tv.tv_sec * 1000000 + tv.tv_usec;
    sock_address(c->fd, 1, ci.client_addr, sizeof ci.client_addr, &ci.client_port);
    sock_address(c->fd, 0, ci.local_addr, sizeof ci.local_addr, &ci.local_port);
    int type = tds_read_message(c->tds, &m, &e);
    if (type != TDS_PKT_PRELOGIN) {
        if (type > 0)
            tds_message_free(&m);
        return -1;
    }
    tds_prelogin pl;
    int rc = tds_prelogin_parse(m.data, m.len, &pl, &e);
    tds_message_free(&m);
    if (rc < 0)
        return -1;
    tds_prelogin_reply reply;
    tds_prelogin_default_reply(&reply);
    reply.instance_ok = (uint8_t)tds_prelogin_instance_matches(&pl, c->srv->opt.instance_name);
    if (negotiate_encryption(c, &pl, &reply, ci.client_addr[0] ? ci.client_addr : "unknown") < 0)
        return -1;
    ci.encrypted = c->tls != NULL;

    type = tds_read_message(c->tds, &m, &e);
    if (type != TDS_PKT_LOGIN7) {
        if (type > 0)
            tds_message_free(&m);
        return -1;
    }
    tds_login7 *lg = malloc(sizeof *lg);
    if (!lg || tds_login7_parse(m.data, m.len, lg, &e) < 0) {
        free(lg);
        tds_message_free(&m);
        return -1;
    }
    tds_message_free(&m);
    uint32_t ver = tds_negotiate_version(lg->tds_version);
    tds_conn_set_version(c->tds, ver ? ver : TDS_VER_71);
    hdb_err fail;
    char msg[512];
    if (!ver || (lg->flags2 & TDS_LF2_INTEGRATED) || !logins_check(c->srv->in, lg->username, lg->password)) {
        snprintf(msg, sizeof msg, "Login failed for user '%s'.", lg->username);
        hdb_raise_text(&fail, 18456, 14, 1, msg);
        inst_log(c->srv->in, "Login failed for user '%s'. Reason: Password did not match that for the login provided. [CLIENT: %s]",
                 lg->username, lg->hostname);
        free(lg);
        return login_failed(c, &fail, 1);
    }
    sql_login_info li = { .spid = c->spid, .login = lg->username, .database = lg->database,
                          .host = lg->hostname, .app = lg->appname,
                          .ansi_defaults = (lg->flags2 & TDS_LF2_ODBC) != 0, .conn = ci };
    li.quoted_identifier = li.ansi_defaults;
    li.conn.tds_version = ver;
    li.conn.packet_size = (int)tds_negotiate_packet_size(lg->packet_size);
    hdb_err oe;
    hdb_err_clear(&oe);
    sql_session *sess = sql_session_open(c->srv->in, &li, &oe);
    if (!sess) {
        hdb_err errs[2];
        errs[0] = oe;
        snprintf(msg, sizeof msg, "Login failed for user '%s'.", lg->username);
        hdb_raise_text(&errs[1], 18456, 14, 1, msg);
        free(lg);
        return login_failed(c, errs, 2);
    }
    pthread_mutex_lock(&c->sess_mu);
    c->sess = sess;
    pthread_mutex_unlock(&c->sess_mu);
    tds_conn_login_ok(c->tds, ver, tds_negotiate_packet_size(lg->packet_size));
    tds_login_response lr = { .database = sql_session_database(sess), .server_name = c->srv->opt.instance_name,
                              .info_database = 1, .info_language = 1,
                              .ack_utf8 = lg->utf8_requested && (lg->features & (1ull << TDS_FEATURE_UTF8)) };
    free(lg);
    if (tds_put_login_response(c->tds, &lr) < 0 || tds_end_response(c->tds, &e) < 0)
        return -1;
    return 0;
}

/* ---- requests ---------------------------------------------------------------- */

/* RPC parameters as the SQL layer takes them. */
static int run_rpc(conn *c, tds_rpc_request *req, const sql_sink *sink)
{
    for (int i = 0; i < req->ncalls; i++) {
        tds_rpc *r = &req->calls[i];
        sql_rpc_param *ps = calloc((size_t)(r->nparams ? r->nparams : 1), sizeof *ps);
        if (!ps)
            return -1;
        for (int k = 0; k < r->nparams; k++) {
            ps[k].name = r->params[k].name && r->params[k].name[0] ? r->params[k].name : NULL;
            ps[k].type = r->params[k].type;
            ps[k].value = r->params[k].value;
            ps[k].output = (r->params[k].status & TDS_PARAM_BYREF) != 0;
            ps[k].is_default = (r->params[k].status & TDS_PARAM_DEFAULT) != 0;
        }
        const char *name = r->proc_name ? r->proc_name : (tds_proc_name(r->proc_id) ? tds_proc_name(r->proc_id) : "");
        int rc = sql_execute_rpc(c->sess, name, ps, r->nparams, req->headers.transaction, sink);
        free(ps);
        if (rc < 0)
            return -1;
    }
    return 0;
}

static int serve(conn *c)
{
    sql_sink sink = make_sink(c);
    for (;;) {
        hdb_err e;
        tds_message m;
        sockread_may_spin(!c->sess || !sql_session_in_transaction(c->sess));
        int type = tds_read_message(c->tds, &m, &e);
        if (type <= 0)
            return type;   /* 0: the client closed; -1: malformed or I/O error */
        c->attn_poll_at = mono_ns() + ATTN_POLL_NS;
        if (m.reset) {
            sql_session_reset(c->sess);
            tds_put_env_reset_ack(c->tds);
        }
        int rc = 0;
        switch (type) {
        case TDS_PKT_SQLBATCH: {
            tds_batch b;
            if (tds_batch_parse(tds_conn_version(c->tds), m.data, m.len, &b, &e) < 0) {
                rc = -1;
                break;
            }
            rc = sql_execute_batch(c->sess, b.sql, b.sql_len, b.headers.transaction, &sink);
            tds_batch_free(&b);
            break;
        }
        case TDS_PKT_RPC: {
            tds_rpc_request r;
            if (tds_rpc_parse(tds_conn_version(c->tds), m.data, m.len, &r, &e) < 0) {
                /* a bad parameter is the request's error, not the connection's */
                sink_message(c, &e, 1, NULL, 1);
                tds_put_done(c->tds, SQL_DONEPROC, TDS_DONE_ERROR, 0, 0);
                break;
            }
            rc = run_rpc(c, &r, &sink);
            tds_rpc_free(&r);
            break;
        }
        case TDS_PKT_TM: {
            tds_tm_request tm;
            if (tds_tm_parse(tds_conn_version(c->tds), m.data, m.len, &tm, &e) < 0) {
                sink_message(c, &e, 1, NULL, 1);
                tds_put_done(c->tds, SQL_DONE, TDS_DONE_ERROR, 0, 0);
                break;
            }
            const char *name = tm.type == TDS_TM_BEGIN_XACT ? tm.name : tm.name;
            rc = sql_execute_tm(c->sess, tm.type, name, tm.isolation, tm.begin_new, &sink);
            break;
        }
        case TDS_PKT_ATTENTION:
            /* nothing was running: acknowledge the cancel */
            tds_message_free(&m);
            if (tds_send_attention_ack(c->tds, &e) < 0)
                return -1;
            continue;
        default: {
            hdb_err bad;
            hdb_raise_text(&bad, 4001, 16, 1, "The request type is not supported by this server.");
            sink_message(c, &bad, 1, NULL, 1);
            tds_put_done(c->tds, SQL_DONE, TDS_DONE_ERROR, 0, 0);
            break;
        }
        }
        tds_message_free(&m);
        if (rc < 0) {
            /* what was answered so far (a severity >= 20 error such as 824,
             * whose batch ends the connection) reaches the client before the
             * connection closes, as with SQL Server */
            tds_end_response(c->tds, &e);
            return -1;
        }
        /* a cancel still in the socket is read, and acknowledged, as the
         * next message: the client sees the same response, then the ack */
        int attn = tds_attention_pending(c->tds);
        if (tds_end_response(c->tds, &e) < 0)
            return -1;
        if (attn && tds_send_attention_ack(c->tds, &e) < 0)
            return -1;
    }
}

void conn_interrupt(conn *c)
{
    pthread_mutex_lock(&c->sess_mu);
    if (c->sess)
        sql_session_interrupt(c->sess);
    pthread_mutex_unlock(&c->sess_mu);
    shutdown(c->fd, SHUT_RD);   /* a session blocked reading its socket wakes */
}

void *conn_main(void *arg)
{
    conn *c = arg;
    sockread_session_begin();
    c->tds = tds_conn_new_fd(c->fd, (uint16_t)c->spid);
    if (c->tds && handshake(c) == 0)
        serve(c);
    pthread_mutex_lock(&c->sess_mu);
    sql_session *sess = c->sess;
    c->sess = NULL;
    pthread_mutex_unlock(&c->sess_mu);
    if (sess)
        sql_session_close(sess);   /* rolls back an open transaction */
    tds_conn_free(c->tds);
    tls_session_close(c->tls);
    srv_remove_conn(c->srv, c);
    close(c->fd);
    pthread_mutex_destroy(&c->sess_mu);
    free(c);
    sockread_session_end();
    return NULL;
}
