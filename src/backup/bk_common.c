/* bk_common.c — small helpers every backup and restore file uses (backup_int.h). */
#include "backup/backup_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <time.h>

double bk_now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

int bk_failf(hdb_err *err, int number, const char *fmt, ...)
{
    char msg[HDB_ERR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return hdb_raise_text(err, number, 16, 1, msg);
}
