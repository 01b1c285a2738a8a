/* main.c — hadrd: parse the contract's flags, start, serve, stop (SPEC §2). */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "server/server.h"

static server *the_server;

static void on_signal(int sig)
{
    if (the_server)
        srv_stop(the_server, 0);   /* SIGTERM / SIGINT: clean stop, checkpoint everything */
    (void)sig;
}

int main(int argc, char **argv)
{
    srv_options opt;
    char msg[256];
    if (srv_parse_options(argc, argv, &opt, msg, sizeof msg) < 0) {
        fprintf(stderr, "hadrd: %s\nusage: hadrd -D DATADIR [-p PORT] [-l LISTEN_ADDR] [-n INSTANCE_NAME]\n", msg);
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    hdb_err e;
    hdb_err_clear(&e);
    the_server = srv_start(&opt, &e);
    if (!the_server) {
        fprintf(stderr, "hadrd: cannot start: %s (error %d)\n", e.msg, e.number);
        return 1;
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    srv_run(the_server);
    srv_close(the_server);
    return 0;
}
