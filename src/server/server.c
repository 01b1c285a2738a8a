/* server.c — process lifecycle, listening socket, connection threads (see server.h). */
#include "server/server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "os/sockread.h"
#include "server/conn.h"
#include "server/logins.h"
#include "server/tls.h"

static int listen_on(const char *addr, int port, hdb_err *err)
{
    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
    if (inet_pton(AF_INET, addr, &sa.sin_addr) != 1) {
        char msg[128];
        snprintf(msg, sizeof msg, "The listen address '%s' is not an IPv4 address.", addr);
        return hdb_raise_text(err, 17182, 16, 1, msg);
    }
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0 ||
        bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(fd, 512) < 0) {
        char msg[256];
        snprintf(msg, sizeof msg, "Server TCP provider failed to listen on ['%s' <ipv4> %d]. Tcp port is already in use or not available: %s.",
                 addr, port, strerror(errno));
        if (fd >= 0)
            close(fd);
        return hdb_raise_text(err, 26023, 16, 1, msg);
    }
    return fd;
}

/* The T-SQL SHUTDOWN and KILL hooks take no context: they act on the one
 * server of the process. */
static server *hooked_server;

static void shutdown_hook(int nowait)
{
    if (hooked_server)
        srv_stop(hooked_server, nowait);
}

static int kill_hook(int spid)
{
    return hooked_server ? srv_kill(hooked_server, spid) : -1;
}

int srv_kill(server *s, int spid)
{
    int found = -1;
    pthread_mutex_lock(&s->mu);   /* conns cannot be freed while we hold it */
    for (conn *c = s->conns; c; c = c->next) {
        if (c->spid == spid) {
            conn_interrupt(c);    /* an idle session wakes from its read and ends */
            found = 0;
            break;
        }
    }
    pthread_mutex_unlock(&s->mu);
    return found;
}

server *srv_start(const srv_options *opt, hdb_err *err)
{
    server *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->opt = *opt;
    s->listen_fd = -1;
    s->wake[0] = s->wake[1] = -1;
    s->next_spid = SRV_FIRST_SPID;
    pthread_mutex_init(&s->mu, NULL);
    pthread_cond_init(&s->idle, NULL);
    inst_options io = { .datadir = opt->datadir, .buffer_pool_mb = (size_t)opt->buffer_pool_mb,
                        .checkpoint_interval_s = opt->checkpoint_s };
    s->in = inst_open(&io, err);
    if (!s->in || logins_init(s->in, opt->datadir, err) < 0 || sql_msdb_prepare(s->in, err) < 0 ||
        sql_suspect_pages_start(s->in, err) < 0)
        goto fail;
    txn_mgr_set_crash_point(s->in->txns, opt->crash_point);
    sockread_set_spin_us(opt->read_spin_us);
    txn_mgr_set_early_lock_release(s->in->txns, opt->early_lock_release);
    s->tls = tls_server_start(s->in, opt->datadir);   /* NULL: no TLS, logged */
    if (pipe2(s->wake, O_CLOEXEC | O_NONBLOCK) < 0) {
        hdb_raise_text(err, 17120, 16, 1, "Could not create the server's wake-up pipe.");
        goto fail;
    }
    s->listen_fd = listen_on(opt->listen_addr, opt->port, err);
    if (s->listen_fd < 0)
        goto fail;
    hooked_server = s;
    sql_set_server_name(opt->instance_name);
    sql_set_shutdown_hook(shutdown_hook);
    sql_set_kill_hook(kill_hook);
    inst_log(s->in, "Server is listening on [ '%s' <ipv4> %d].", opt->listen_addr, opt->port);
    inst_log(s->in, "hadrdb instance '%s' is ready for connections.", opt->instance_name);
    return s;
fail:
    srv_close(s);
    return NULL;
}

int srv_add_conn(server *s, conn *c)
{
    pthread_mutex_lock(&s->mu);
    if (s->nconns >= SRV_MAX_SESSIONS) {
        pthread_mutex_unlock(&s->mu);
        return -1;
    }
    /* the next free spid at or after the cursor */
    for (;;) {
        int spid = s->next_spid++;
        if (s->next_spid > SRV_MAX_SESSIONS + SRV_FIRST_SPID)
            s->next_spid = SRV_FIRST_SPID;
        int used = 0;
        for (conn *o = s->conns; o && !used; o = o->next)
            used = o->spid == spid;
        if (!used) {
            c->spid = spid;
            break;
        }
    }
    c->next = s->conns;
    c->prev = NULL;
    if (s->conns)
        s->conns->prev = c;
    s->conns = c;
    s->nconns++;
    pthread_mutex_unlock(&s->mu);
    return 0;
}

void srv_remove_conn(server *s, conn *c)
{
    pthread_mutex_lock(&s->mu);
    if (c->prev)
        c->prev->next = c->next;
    else
        s->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    s->nconns--;
    pthread_cond_broadcast(&s->idle);
    pthread_mutex_unlock(&s->mu);
}

int srv_run(server *s)
{
    struct pollfd p[2] = { { .fd = s->listen_fd, .events = POLLIN }, { .fd = s->wake[0], .events = POLLIN } };
    while (!s->stopping) {
        if (poll(p, 2, -1) < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        if (p[1].revents)
            break;
        if (!(p[0].revents & POLLIN))
            continue;
        int fd = accept4(s->listen_fd, NULL, NULL, SOCK_CLOEXEC);
        if (fd < 0)
            continue;
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        conn *c = calloc(1, sizeof *c);
        if (!c || srv_add_conn(s, c) < 0) {
            free(c);
            close(fd);
            continue;
        }
        c->srv = s;
        c->fd = fd;
        pthread_mutex_init(&c->sess_mu, NULL);
        pthread_attr_t attr;
        pthread_attr_init(&attr);
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        /* deep expressions recurse (parser and executor cap nesting); stack
         * pages count toward RSS only once touched, so an idle session stays small */
        pthread_attr_setstacksize(&attr, 4u << 20);
        if (pthread_create(&c->thread, &attr, conn_main, c) != 0) {
            srv_remove_conn(s, c);
            close(fd);
            pthread_mutex_destroy(&c->sess_mu);
            free(c);
        }
        pthread_attr_destroy(&attr);
    }
    return 0;
}

void srv_stop(server *s, int nowait)
{
    if (nowait)
        s->nowait = 1;
    s->stopping = 1;
    if (s->wake[1] >= 0 && write(s->wake[1], "x", 1) < 0) {
        /* the pipe is non-blocking; a full pipe already wakes the loop */
    }
}

void srv_close(server *s)
{
    if (!s)
        return;
    if (hooked_server == s) {
        sql_set_shutdown_hook(NULL);
        sql_set_kill_hook(NULL);
        hooked_server = NULL;
    }
    if (s->listen_fd >= 0)
        close(s->listen_fd);
    /* end every session: interrupt, then wait for their threads to finish */
    pthread_mutex_lock(&s->mu);
    for (conn *c = s->conns; c; c = c->next)
        conn_interrupt(c);
    while (s->nconns > 0)
        pthread_cond_wait(&s->idle, &s->mu);
    pthread_mutex_unlock(&s->mu);
    if (s->in) {
        int clean = !s->nowait;
        /* events noted so far become rows, unless this is SHUTDOWN WITH NOWAIT */
        sql_suspect_pages_stop(s->in, clean);
        if (clean)
            inst_log(s->in, "SQL Server is terminating because of a system shutdown. This is an informational message only. No user action is required.");
        inst_close(s->in, clean);
    }
    tls_server_free(s->tls);
    if (s->wake[0] >= 0)
        close(s->wake[0]);
    if (s->wake[1] >= 0)
        close(s->wake[1]);
    pthread_mutex_destroy(&s->mu);
    pthread_cond_destroy(&s->idle);
    free(s);
}
