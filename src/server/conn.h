/*
 * conn.h — one client connection, served by its own thread.
 *
 *   PRELOGIN -> reply (encryption not supported yet: a client that requires
 *               it is refused)
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
    sql_session   *sess;        /* after login */
    pthread_mutex_t sess_mu;    /* sess pointer vs. interrupts from others */
    struct conn   *next, *prev;
} conn;

/* Thread body: serves the connection, then frees it. */
void *conn_main(void *arg);
/* Another thread: stop what the connection is running (KILL, shutdown). */
void conn_interrupt(conn *c);

#endif
