/*
 * options.h — hadrd's command line (SPEC §2, fixed: tests drive it exactly).
 *
 *   hadrd -D DATADIR [-p PORT] [-l LISTEN_ADDR] [-n INSTANCE_NAME]
 *
 * Defaults: -D ./data, -p 1433, -l 127.0.0.1, instance name = host name.
 * Environment: HADRD_SA_PASSWORD (first start only), HADRD_BUFFER_POOL_MB
 * (default 256), HADRD_CHECKPOINT_S (default 60), HADRD_READ_SPIN_US (how long
 * an idle server polls a session's socket before sleeping, default 50, 0 off:
 * os/sockread.h), HADRD_EARLY_LOCK_RELEASE (0 keeps a committing transaction's
 * locks until its log flush; default 1: txn/README.md); for tests of in-doubt
 * recovery only, HADRD_CRASH_AT=prepared|decided makes the process exit in the
 * middle of the first user cross-database commit (txn.h, TXN_CRASH_*).
 */
#ifndef HDB_SERVER_OPTIONS_H
#define HDB_SERVER_OPTIONS_H

#include <limits.h>

typedef struct srv_options {
    char datadir[PATH_MAX - 512];
    int  port;
    char listen_addr[64];
    char instance_name[128];
    int  buffer_pool_mb;
    int  checkpoint_s;
    int  read_spin_us;   /* os/sockread.h */
    int  early_lock_release;   /* txn/README.md */
    int  crash_point;
} srv_options;

/* 0 on success; -1 with a usage message in msg. */
int srv_parse_options(int argc, char **argv, srv_options *o, char *msg, int msgcap);

#endif
