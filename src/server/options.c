/* options.c — hadrd's flags and environment (see options.h). */
#include "server/options.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "os/sockread.h"
#include "txn/txn.h"

static int env_int(const char *name, int dflt, int lo, int hi)
{
    const char *v = getenv(name);
    if (!v || !*v)
        return dflt;
    char *end;
    long n = strtol(v, &end, 10);
    return (*end || n < lo || n > hi) ? dflt : (int)n;
}

int srv_parse_options(int argc, char **argv, srv_options *o, char *msg, int msgcap)
{
    memset(o, 0, sizeof *o);
    snprintf(o->datadir, sizeof o->datadir, "./data");
    o->port = 1433;
    snprintf(o->listen_addr, sizeof o->listen_addr, "127.0.0.1");
    if (gethostname(o->instance_name, sizeof o->instance_name - 1) != 0 || !o->instance_name[0])
        snprintf(o->instance_name, sizeof o->instance_name, "hadrdb");
    o->buffer_pool_mb = env_int("HADRD_BUFFER_POOL_MB", 256, 4, 1 << 20);
    o->checkpoint_s = env_int("HADRD_CHECKPOINT_S", 60, 0, 86400);
    o->read_spin_us = env_int("HADRD_READ_SPIN_US", SOCKREAD_DEFAULT_SPIN_US, 0, 100000);
    o->early_lock_release = env_int("HADRD_EARLY_LOCK_RELEASE", 1, 0, 1);
    const char *crash = getenv("HADRD_CRASH_AT");
    if (crash && strcmp(crash, "prepared") == 0)
        o->crash_point = TXN_CRASH_PREPARED;
    else if (crash && strcmp(crash, "decided") == 0)
        o->crash_point = TXN_CRASH_DECIDED;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strlen(a) != 2 || a[0] != '-' || !strchr("Dpln", a[1])) {
            snprintf(msg, (size_t)msgcap, "unknown option '%s'", a);
            return -1;
        }
        if (i + 1 >= argc) {
            snprintf(msg, (size_t)msgcap, "option %s needs a value", a);
            return -1;
        }
        const char *v = argv[++i];
        switch (a[1]) {
        case 'D':
            if (strlen(v) >= sizeof o->datadir) {
                snprintf(msg, (size_t)msgcap, "data directory path too long");
                return -1;
            }
            snprintf(o->datadir, sizeof o->datadir, "%s", v);
            break;
        case 'p': {
            char *end;
            long p = strtol(v, &end, 10);
            if (*end || p < 1 || p > 65535) {
                snprintf(msg, (size_t)msgcap, "bad port '%s'", v);
                return -1;
            }
            o->port = (int)p;
            break;
        }
        case 'l':
            snprintf(o->listen_addr, sizeof o->listen_addr, "%s", v);
            break;
        case 'n':
            snprintf(o->instance_name, sizeof o->instance_name, "%s", v);
            break;
        }
    }
    return 0;
}
