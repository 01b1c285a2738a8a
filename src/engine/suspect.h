/*
 * suspect.h — events for msdb.dbo.suspect_pages, noted where they happen and
 * written to msdb later by sql/suspect_pages.c.
 *
 * Why two steps: a damaged page is found deep in an I/O path (df_read_page
 * under bp_fix, maybe with other pages latched, maybe in recovery before msdb
 * is even open). Running T-SQL there could deadlock on those latches or
 * recurse into the very read that failed. So the I/O path only notes the
 * event in a small in-memory queue (one mutex, no I/O, no allocation) and
 * wakes the writer; the writer, a thread of its own with nothing latched,
 * turns queued events into rows.
 *
 * Event types are SQL Server's (suspect_pages.event_type):
 *   1  823 (OS error), or an 824 other than a bad checksum or torn page (a
 *      wrong page id)
 *   2  bad checksum            3  torn page
 *   4  restored                5  repaired by DBCC       7  deallocated by DBCC
 * Types 1-3 add a row or, for a page already listed, add one to its
 * error_count and take the new type. Types 4, 5 and 7 only change the
 * event_type (and last_update_date) of a page already listed: a page that was
 * never bad is not recorded as fixed.
 *
 * For other engineers: after a restore has rewritten page p of database d,
 * call suspect_page_note(in, d, p, SUSPECT_RESTORED); after DBCC repair
 * rebuilt it, SUSPECT_REPAIRED; after it deallocated it, SUSPECT_DEALLOCATED.
 * suspect_forget(in, d, 0) on DROP DATABASE, suspect_forget(in, d, f) on
 * ALTER DATABASE ... REMOVE FILE (SQL Server deletes those rows). All of these
 * may be called from any thread in any context; none of them blocks on I/O.
 *
 * Limits: the queue holds SUSPECT_QUEUE_MAX distinct pending pages (repeats
 * of a pending page only count up); events past that are dropped and counted
 * (suspect_dropped), as the table itself stops at 1000 rows. Events noted
 * when the process dies before the writer ran are lost (SQL Server also
 * writes the table after the error).
 */
#ifndef HDB_ENGINE_SUSPECT_H
#define HDB_ENGINE_SUSPECT_H

#include <stdint.h>

#include "storage/page.h"

struct instance;

enum suspect_event_type {
    SUSPECT_IO_ERROR = 1,
    SUSPECT_BAD_CHECKSUM = 2,
    SUSPECT_TORN_PAGE = 3,
    SUSPECT_RESTORED = 4,
    SUSPECT_REPAIRED = 5,
    SUSPECT_DEALLOCATED = 7,
};

#define SUSPECT_QUEUE_MAX 1024

/* Note an event for page `page` of database `db_id`. Ignores unknown types. */
void suspect_page_note(struct instance *in, uint32_t db_id, pgid_t page, int event_type);
/* Forget the database's rows (file_id 0) or one file's rows. */
void suspect_forget(struct instance *in, uint32_t db_id, uint16_t file_id);
/* For df_set_suspect_hook (ctx = the instance). */
void suspect_df_hook(void *ctx, uint32_t db_id, pgid_t id, int event_type);

/* ---- the writer's side ------------------------------------------------- */

enum { SUSPECT_EV_PAGE = 1, SUSPECT_EV_FORGET = 2 };

typedef struct suspect_event {
    int      kind;          /* SUSPECT_EV_* */
    uint32_t db_id;
    uint16_t file_id;       /* FORGET: 0 = every file */
    uint32_t page_no;
    int      event_type;
    uint32_t count;         /* occurrences merged into this entry */
    int64_t  time_us;       /* the last occurrence, µs since 1970 UTC */
} suspect_event;

/* Wait up to wait_ms for an event of in to be pending, or for suspect_wake.
 * 1 if one is pending. */
int suspect_wait(struct instance *in, int wait_ms);
/* Take up to cap of in's pending events, oldest first. Returns how many. */
int suspect_take(struct instance *in, suspect_event *out, int cap);
/* Make a waiting suspect_wait return (the writer is stopping). */
void suspect_wake(void);
/* Events dropped because the queue was full, since the process started. */
uint64_t suspect_dropped(void);
/* Events still queued for in (tests, shutdown). */
int suspect_pending(struct instance *in);
/* Drop in's queued events (the instance is closing without its writer). */
void suspect_discard(struct instance *in);

#endif
