/* err.c — filling hdb_err records from the message table. */
#include "util/err.h"

#include <stdio.h>
#include <string.h>

int hdb_vraise(hdb_err *e, int number, va_list ap)
{
    if (!e)
        return -1;
    int sev = 16;
    const char *fmt = hdb_msg_format(number, &sev);
    e->number = number;
    e->severity = sev;
    e->state = 1;
    if (fmt)
        vsnprintf(e->msg, sizeof e->msg, fmt, ap);
    else
        snprintf(e->msg, sizeof e->msg, "Error %d.", number);
    return -1;
}

int hdb_raise(hdb_err *e, int number, ...)
{
    va_list ap;
    va_start(ap, number);
    hdb_vraise(e, number, ap);
    va_end(ap);
    return -1;
}

int hdb_raise_text(hdb_err *e, int number, int severity, int state, const char *text)
{
    if (!e)
        return -1;
    e->number = number;
    e->severity = severity;
    e->state = state;
    snprintf(e->msg, sizeof e->msg, "%s", text);
    return -1;
}

void hdb_err_clear(hdb_err *e)
{
    /* several per statement: the message is a string, so clearing its first
     * byte is enough (zeroing the whole 1 KB showed in statement profiles) */
    if (e) {
        e->number = 0;
        e->severity = 0;
        e->state = 0;
        e->msg[0] = 0;
    }
}
