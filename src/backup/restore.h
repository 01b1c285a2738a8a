/*
 * restore.h — RESTORE DATABASE / RESTORE LOG: the restore sequence.
 *
 * A restore puts a backup set's pages into the database's files, installs
 * the set's log at its original LSNs in the database's own log, and then runs
 * the same analysis / redo / undo as crash recovery (engine/recovery.h):
 *
 *   full          new files (MOVE, REPLACE rules), pages, log [FirstLSN, LastLSN),
 *                 redo; RECOVERY: undo, ONLINE; NORECOVERY: RESTORING
 *   differential  onto a RESTORING database restored from its base: changed
 *                 pages, the differential's log, redo
 *   log           onto a RESTORING database whose roll-forward point R lies
 *                 in [FirstLSN, LastLSN): the records from R on, redo up to
 *                 the end or the STOPAT / STOPATMARK / STOPBEFOREMARK point
 *   STANDBY       as NORECOVERY, then undo with the changed pages' images
 *                 saved in the undo file: ONLINE, read-only; the next restore
 *                 takes the undo back first (backup/standby.h)
 *
 * Everything that can refuse a restore is checked before anything is written:
 * the whole set is verified (media_verify, page checksums and ids), then the
 * sequence rules. A new database is built under temporary file names and
 * swapped in at the end, so a refused, failed or crashed restore leaves the
 * existing database as it was. Protocol and rules: backup/README.md.
 *
 * Errors (SQL Server's numbers): 3154 backup of another database, 3159 tail of
 * the log not backed up, 3101 database in use, 3117 log/differential onto a
 * database not RESTORING, 3118 database does not exist (log/differential),
 * 4326 log too early, 4305 log too recent (gap), 3136 differential of another
 * base, 3142/1834 file in the way, 4353/3176 MOVE conflicts, 4334 mark not
 * found, 4338 STOPAT before the data backup, 3153 nothing to recover, 3441
 * the standby undo file is missing or damaged,
 * 3241/3189/3183 bad media; fio's I/O errors. The caller adds 3013.
 */
#ifndef HDB_BACKUP_RESTORE_H
#define HDB_BACKUP_RESTORE_H

#include <stdint.h>

#include "backup/media.h"
#include "engine/instance.h"

enum { RESTORE_RECOVERY = 0, RESTORE_NORECOVERY = 1, RESTORE_STANDBY = 2 };

typedef void (*restore_progress_fn)(void *ctx, int percent);

typedef struct restore_move {
    const char *logical_name;    /* MOVE 'logical' */
    const char *path;            /* TO 'path' */
} restore_move;

typedef struct restore_opts {
    int         is_log;          /* RESTORE LOG (else RESTORE DATABASE: full or differential) */
    const char *db_name;         /* target database */
    const char *device_path;     /* resolved physical path of the device */
    int         file;            /* FILE = n (0 = 1) */
    int         recovery;        /* RESTORE_RECOVERY (default), _NORECOVERY, _STANDBY */
    const char *standby_file;    /* STANDBY = 'undo file' */
    int         replace;         /* WITH REPLACE */
    const restore_move *moves;
    int         nmoves;
    int64_t     stop_at;         /* STOPAT, µs since 1970 UTC (0 = none) */
    const char *stop_mark;       /* STOPATMARK / STOPBEFOREMARK = 'name' (NULL = none) */
    lsn_t       stop_mark_lsn;   /* ... = 'lsn:N' (0 = none) */
    int         stop_before;     /* 1: STOPBEFOREMARK */
    int64_t     stop_after;      /* AFTER 'datetime' (0 = none) */
    int         checksum;        /* WITH CHECKSUM: 3187 if the set has no checksums */
    int         partial;         /* WITH PARTIAL: only PRIMARY and `filegroups` are restored;
                                    the other data files are registered OFFLINE (a piecemeal
                                    restore's first step) */
    const char *const *filegroups;
    int         nfilegroups;
    int         stats_percent;
    restore_progress_fn progress;
    void       *progress_ctx;
} restore_opts;

typedef struct restore_result {
    uint64_t pages;              /* page images written */
    uint64_t log_bytes;          /* log bytes installed */
    double   seconds;
    int      state;              /* enum db_state after the restore */
    int      info;               /* informational message to send, 0 = none: 4322
                                    (STOPAT beyond this set: left RESTORING), 4329
                                    (mark beyond this set) */
    lsn_t    redo_point;         /* roll-forward point R after the restore */
    lsn_t    stop_lsn;           /* where redo stopped (0 = end of the set) */
    int      restore_type;       /* restorehistory.restore_type: 'D', 'I', 'L' */
    media_set_header set;        /* HEADERONLY row of the restored set */
    int      position;
} restore_result;

/* RESTORE DATABASE | LOG ... FROM device WITH ... */
int restore_run(instance *in, const restore_opts *o, restore_result *r, hdb_err *err);

/* RESTORE DATABASE db WITH RECOVERY | NORECOVERY | STANDBY = 'undo' (no
 * FROM), on a RESTORING or standby database; o->db_name, o->recovery and
 * o->standby_file are used. RECOVERY: undo, ONLINE (a standby only becomes
 * writable: its undo is done). NORECOVERY: a standby's undo is taken back,
 * RESTORING. STANDBY: that, then undo into the (new) undo file: read-only,
 * ONLINE, as if the last restore step had said STANDBY. 3153 if the database
 * is neither (already recovered), 3101 if a session uses it. */
int restore_recover_only(instance *in, const restore_opts *o, restore_result *r, hdb_err *err);
/* restore_recover_only WITH RECOVERY. */
int restore_with_recovery_only(instance *in, const char *db_name, restore_result *r, hdb_err *err);

/* RESTORE VERIFYONLY: every checksum of set `file`, and each page's checksum
 * and self id. 0 = valid (3262 is the caller's message). */
int restore_verify_only(const char *device_path, int file, hdb_err *err);

#endif
