/*
 * err.h — the error record every layer fills instead of printing or exiting.
 *
 * A failing function returns -1 (or NULL) and, when its caller passed a non-NULL
 * hdb_err, fills it with SQL Server's error number, severity, state and the
 * formatted message text. The TDS layer later turns it into an ERROR token.
 *
 * Message texts live in one table (util/msgtab.c), keyed by error number, so that
 * every layer — even the lowest — raises errors with the words a DBA knows.
 * (DESIGN.md puts the table in sql/; it sits in util/ because layers only call
 * downward and storage/log raise 823/824 themselves.)
 */
#ifndef HDB_UTIL_ERR_H
#define HDB_UTIL_ERR_H

#include <stdarg.h>

#define HDB_ERR_MSG_MAX 1024

typedef struct hdb_err {
    int  number;    /* SQL Server error number, 0 = no error */
    int  severity;  /* 0..25 */
    int  state;     /* 1 unless a message says otherwise */
    char msg[HDB_ERR_MSG_MAX];
} hdb_err;

/* Fill *e (if non-NULL) with error `number`, its severity from the message table
 * and its message text formatted printf-style from the table's format with the
 * given arguments. Always returns -1 so callers can `return hdb_raise(...)`. */
int hdb_raise(hdb_err *e, int number, ...);
int hdb_vraise(hdb_err *e, int number, va_list ap);

/* Same with an explicit severity/state and a literal, already formatted text. */
int hdb_raise_text(hdb_err *e, int number, int severity, int state, const char *text);

void hdb_err_clear(hdb_err *e);
static inline int hdb_err_is_set(const hdb_err *e) { return e && e->number != 0; }

/* Message table lookup: printf format and default severity of `number`, or NULL. */
const char *hdb_msg_format(int number, int *severity);

#endif
