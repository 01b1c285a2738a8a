/*
 * standby.h — RESTORE ... WITH STANDBY: the undo file, and taking the undo
 * back before the next restore (see backup/README.md, "STANDBY").
 *
 * After redo, undo runs as for RECOVERY, but before undo first changes a
 * page its image as of the end of redo is appended to the undo file (and
 * made durable, so no undone page can reach the disk before its image). The
 * next restore writes those images back over the pages and cuts the log back
 * to the end of redo, which leaves the database exactly as NORECOVERY would
 * have, and goes on from there.
 *
 * A pointer file "<log>.standby" names the undo file while there is undo to
 * take back; it is created before undo starts and removed once the images
 * are back and the log is cut. Errors: 3441 (the undo file is missing,
 * damaged or of another database / point of the restore).
 */
#ifndef HDB_BACKUP_STANDBY_H
#define HDB_BACKUP_STANDBY_H

#include "engine/instance.h"

typedef struct standby_capture standby_capture;

/* Before undo: the undo file (header "in progress", redo_lsn = the end of
 * redo), the pointer next to the log, and a watch on the log's page changes. */
standby_capture *standby_begin(database *db, const char *undo_path, lsn_t redo_lsn, hdb_err *err);
/* After undo, its pages flushed: the header "complete", fsync; unwatch, free. */
int standby_finish(standby_capture *c, hdb_err *err);
/* Unwatch and free (the files stay: the next restore takes the undo back). */
void standby_abort(standby_capture *c);

/* 1 if db has undo to take back (the pointer next to its log exists). */
int standby_pending(const database *db);
/* Check the undo file (header, every image) without changing anything. */
int standby_check(database *db, hdb_err *err);
/* Take the undo back: images over the pages, log cut at the end of redo.
 * db is closed and reopened RESTORING; returns it, or NULL (err). */
database *standby_revert(instance *in, database *db, hdb_err *err);
/* RECOVERY after STANDBY (the undo stays): the pointer and undo file go. */
void standby_forget(const char *log_path);

#endif
