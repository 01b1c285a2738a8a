/*
 * restore_page.h — online page restore: a few damaged pages of an ONLINE
 * database are rebuilt from a full backup and the log backups after it,
 * while everything else stays readable and writable.
 *
 *   RESTORE DATABASE db PAGE = '1:57, 1:202' FROM full WITH NORECOVERY
 *       restore_page_begin: the pages' images from the full backup, its log
 *       applied to them; the pages become restore-pending (829 for readers);
 *       redo target T = the end of the database's log at that moment
 *   RESTORE LOG db FROM log WITH NORECOVERY                 (zero or more)
 *       restore_page_log: each record's page operations applied to those
 *       images only (pageLSN test, as redo); R = the set's LastLSN
 *   BACKUP LOG db TO tail                                   (ordinary)
 *   RESTORE LOG db FROM tail WITH RECOVERY
 *       the same, then, once R >= T, restore_page_finish: the images are
 *       written over the pages, the pages readable again, suspect_pages
 *       event_type 4, deferred transactions retried
 *
 * The images live in memory with the sequence; nothing reaches the data file
 * before the final step, so a restart in the middle forgets the sequence (the
 * damaged page stays on disk and keeps failing with 824). The protocol and
 * its invariants: backup/README.md, "Page restore".
 *
 * Errors (SQL Server's numbers): 4346 SIMPLE recovery model; 3111 a control
 * page (page 0 of a file, an allocation bitmap, the boot page 1:2); 3194
 * beyond the end of the file; 3105 more than RESTORE_PAGE_MAX pages; 4310 the
 * file is not online; 3154 a backup of another database; 4326 / 4305 a log
 * backup too early / too recent for the sequence, and 4326 naming T for a
 * RECOVERY that would not reach it (the pages stay pending); 3250 a page list
 * that does not parse; 4344 a read-only database; 3032 an option a page
 * restore does not take (STANDBY, STOPAT, marks, MOVE); 3013 a sequence
 * already running, a transaction still open that changed one of the pages,
 * a database that is not ONLINE, a backup set of the wrong kind. Media
 * errors as restore.h (3183 a damaged page image in the set). The caller
 * adds 3013 "... is terminating abnormally".
 */
#ifndef HDB_BACKUP_RESTORE_PAGE_H
#define HDB_BACKUP_RESTORE_PAGE_H

#include <stdint.h>

#include "backup/restore.h"

#define RESTORE_PAGE_MAX 1000   /* pages in one sequence (SQL Server: 3105) */

typedef struct restore_page_file {
    uint16_t file_id;
    char     logical_name[DF_NAME_MAX + 1];
    uint32_t pages;              /* pages of this file restored by the step */
} restore_page_file;

typedef struct restore_page_result {
    restore_result r;            /* pages, log_bytes, seconds, set, position, restore_type, state */
    int      nfiles;             /* begin: the files the pages lie in (4035) */
    restore_page_file files[DF_MAX_FILES];
    lsn_t    redo_target;        /* T */
    lsn_t    applied_to;         /* R after the step */
    int      finished;           /* the pages are usable again */
    int      deferred_left;      /* deferred transactions still deferred (3192) */
} restore_page_result;

/* Parse 'file:page [, file:page ...]' into ids (duplicates dropped, in the
 * order given). 3250 if it does not parse, 3105 past `cap` pages. */
int restore_page_parse(const char *list, pgid_t *ids, int cap, int *n, hdb_err *err);

/* RESTORE DATABASE o->db_name PAGE = `pages` FROM o->device_path (FILE =
 * o->file): a full backup of this database. o->recovery RECOVERY (the
 * default) cannot finish here, since no log after the backup is applied
 * yet: the pages are left pending and r->r.info is 4339. */
int restore_page_begin(instance *in, const restore_opts *o, const char *pages, restore_page_result *r,
                       hdb_err *err);
/* RESTORE DATABASE o->db_name FILE = 'f' | FILEGROUP = 'fg' [, ...] FROM a
 * full backup, the database ONLINE (SQL Server's online file restore): each
 * file named must be an OFFLINE secondary file (MODIFY FILE ... OFFLINE, or
 * left out by a PARTIAL restore). It is made anew from the backup and rolled
 * forward through the backup's log; the log steps and the RECOVERY that
 * follow are the page restore's, and at RECOVERY the files come back ONLINE
 * (boot page, master) and deferred transactions are retried. Until then they
 * stay closed to the database, so a restart in the middle leaves them
 * OFFLINE and the sequence can start again. 3234 no such file or filegroup,
 * 3013 the PRIMARY filegroup, a file ONLINE or DEFUNCT, SIMPLE recovery. */
typedef struct restore_file_name { const char *name; int is_filegroup; } restore_file_name;
int restore_file_begin(instance *in, const restore_opts *o, const restore_file_name *names, int n,
                       restore_page_result *r, hdb_err *err);
/* Whether the database named has a page restore sequence in progress: its
 * RESTORE LOG and RESTORE DATABASE ... WITH RECOVERY steps go here. */
int restore_page_active(instance *in, const char *db_name);
/* RESTORE LOG during the sequence; with RECOVERY, finish it. */
int restore_page_log(instance *in, const restore_opts *o, restore_page_result *r, hdb_err *err);
/* RESTORE DATABASE db WITH RECOVERY (no FROM) during the sequence. */
int restore_page_recover(instance *in, const char *db_name, restore_page_result *r, hdb_err *err);

#endif
