/*
 * conn.h — one client connection, served by its own thread.
 *
 *   PRELOGIN -> reply: ENCRYPT_ON when the client asks for encryption (ON or
 *               REQ) and the server has a certificate, then the TLS handshake
 *               in PRELOGIN messages and TLS for the rest of the connection
 *               (tls.h); NOT_SUP otherwise (plain text)
 *   LOGIN7   -> SQL authentication (18456 on failure), session opened in the
 *               login's database (4060 if it cannot be), login response
 *   loop     -> SQL batch / RPC / transaction-manager request / ATTENTION,
 *               each executed by the SQL layer, whose results come back
 *               through a sink that writes TDS tokens
 * A malformed message, a peer that goes away or a fatal error ends the
 * connection; the session's open transaction is rolled back (sql layer).
 */
#ifndef HDB_SERVER_CONN_H
#define HDB_SERVER_CONN_H

#include <pthread.h>

#include "server/server.h"
#include "sql/session.h"
#include "tds/tds.h"

typedef struct conn {
    server        *srv;
    int            fd;
    int            spid;
    pthread_t      thread;
    tds_conn      *tds;
    struct tls_session *tls;    /* NULL: plain text */
    sql_session   *sess;        /* after login */
    pthread_mutex_t sess_mu;    /* sess pointer vs. interrupts from others */
    int64_t        attn_poll_at; /* CLOCK_MONOTONIC ns: next socket poll for a cancel */
    struct conn   *next, *prev;
} conn;

/* Thread body: serves the connection, then frees it. */
void *conn_main(void *arg);
/* Another thread: stop what the connection is running (KILL, shutdown). */
void conn_interrupt(conn *c);

#endif
