/*
 * server.h — the hadrd process: the instance, the listening socket, one thread
 * per client connection, shutdown.
 *
 *   srv_start(opts)   open the instance (crash recovery), make sure sa
 *                     exists, load or generate the TLS certificate (tls.h),
 *                     listen, log "ready for connections"
 *   srv_run(s)        accept until stopped; each connection gets a thread
 *                     running conn_main (conn.c)
 *   srv_stop(s, nowait)  from a signal or T-SQL SHUTDOWN (hooked into the
 *                     SQL layer by srv_start, as are KILL and @@SERVERNAME):
 *                     stop accepting, interrupt sessions; clean = checkpoint
 *                     every database
 *
 * Session ids (@@SPID) start at 51, as user sessions do on SQL Server.
 */
#ifndef HDB_SERVER_SERVER_H
#define HDB_SERVER_SERVER_H

#include <pthread.h>
#include <signal.h>

#include "engine/instance.h"
#include "server/options.h"

#define SRV_FIRST_SPID 51
#define SRV_MAX_SESSIONS 32767

struct conn;
struct tls_server;

typedef struct server {
    srv_options     opt;
    instance       *in;
    int             listen_fd;
    struct tls_server *tls;          /* certificate for TLS; NULL: none */
    int             wake[2];         /* self-pipe: wakes the accept loop */
    pthread_mutex_t mu;              /* conns, nconns, next_spid */
    pthread_cond_t  idle;            /* signalled when a connection ends */
    struct conn    *conns;
    int             nconns;
    int             next_spid;
    volatile sig_atomic_t stopping;
    volatile sig_atomic_t nowait;
} server;

server *srv_start(const srv_options *opt, hdb_err *err);
int srv_run(server *s);
void srv_stop(server *s, int nowait);
/* Close the instance (clean unless nowait) and free. */
void srv_close(server *s);

/* KILL spid: end that connection (its transaction rolls back). 0, or -1 if
 * no connection has that spid. */
int srv_kill(server *s, int spid);

/* For conn.c: register / unregister a connection, allocate its spid. */
int srv_add_conn(server *s, struct conn *c);
void srv_remove_conn(server *s, struct conn *c);

#endif
