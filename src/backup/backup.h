/*
 * backup.h — BACKUP DATABASE (full, DIFFERENTIAL, COPY_ONLY) and BACKUP LOG
 * (incl. tail-log NO_TRUNCATE / NORECOVERY): what goes into a backup set.
 *
 * The media format is backup/media.h; this module decides what to write:
 *
 *   full          checkpoint (its BEGIN_CKPT is CheckpointLSN), then every
 *                 allocated page of every data file, read while writers go
 *                 on, then the log from the first LSN recovery of those pages
 *                 needs (the checkpoint's redo point, or the oldest active
 *                 transaction's first record if earlier) to the durable end
 *                 noted after the last page: [FirstLSN, LastLSN).
 *   differential  the same, but only pages changed since the differential
 *                 base (the last full that was not COPY_ONLY): it reads only
 *                 the extents the changed-extent map marks (storage/dcm.h),
 *                 which such a full backup starts afresh.
 *   log           the log from the end of the previous log backup (or the
 *                 chain's base) to the durable end, plus the marks and commit
 *                 times found in it (STOPAT / STOPATMARK without a scan).
 *
 * Restoring a set is restore.h. The protocol, the LSN rules and what is
 * persisted where: backup/README.md.
 *
 * Errors (SQL Server's numbers): 4214 BACKUP LOG without a current database
 * backup, 4208 BACKUP LOG under SIMPLE, 3035 DIFFERENTIAL without a base,
 * 3043 a page that fails its checksum, 3147/3024/4212 system databases,
 * 927-like state errors, the media layer's (3241, 3266, ...), fio's I/O errors.
 * The caller wraps a failure in 3013 (BACKUP ... is terminating abnormally).
 */
#ifndef HDB_BACKUP_BACKUP_H
#define HDB_BACKUP_BACKUP_H

#include <stdint.h>

#include "backup/media.h"
#include "engine/instance.h"

#define BACKUP_MAX_FILES (BOOT_MAX_FILES + 1)   /* data files + the log */

/* STATS progress: called with a percentage each time another `stats_percent`
 * of the work is done (SQL Server's 3211 "n percent processed."). */
typedef void (*backup_progress_fn)(void *ctx, int percent);

typedef struct backup_opts {
    int         type;            /* MEDIA_TYPE_DATABASE (1), MEDIA_TYPE_DIFF_DATABASE (5),
                                    MEDIA_TYPE_LOG (2) */
    int         copy_only;       /* full: not a differential base; log: no truncation,
                                    does not move the chain (ignored with DIFFERENTIAL) */
    int         no_truncate;     /* BACKUP LOG ... NO_TRUNCATE: works on a damaged
                                    (SUSPECT) database, reads the log file only */
    int         norecovery;      /* BACKUP LOG ... NORECOVERY: tail-log backup, the
                                    database is RESTORING afterwards */
    media_mode  init_mode;       /* NOINIT / INIT / FORMAT (media.h) */
    const char *device_path;     /* resolved physical path of the device */
    int         device_type;     /* HEADERONLY DeviceType: 2 disk, 102 logical device; 0 = 2 */
    const char *name;            /* NAME (NULL = "") */
    const char *description;     /* DESCRIPTION */
    const char *media_name;      /* MEDIANAME (new media header only) */
    const char *media_description;
    int         checksum;        /* WITH CHECKSUM: flag HasBackupChecksums (pages are
                                    always verified while read) */
    int         compression;     /* WITH COMPRESSION: zstd blocks */
    int64_t     expiration_date; /* µs since 1970 UTC, 0 = none */
    int         stats_percent;   /* 0 = no progress calls */
    backup_progress_fn progress;
    void       *progress_ctx;
    const char *user_name;       /* UserName column */
    const char *server_name;     /* ServerName column */
    const char *machine_name;    /* NULL = the host name */
} backup_opts;

/* Pages per data file, for 4035 ("Processed n pages for database 'db', file
 * 'logical' on file k."). The log is the last entry (type 'L', pages = the
 * log bytes / 8192 rounded up, as SQL Server counts them). */
typedef struct backup_file_count {
    char     logical_name[DF_NAME_MAX + 1];
    char     type;               /* 'D' or 'L' */
    uint64_t pages;
} backup_file_count;

typedef struct backup_result {
    int      position;           /* FILE = n of the new set */
    uint64_t pages;              /* page images written (3014's n, with log pages) */
    uint64_t pages_read;         /* data pages read from the files (a differential reads
                                    only the extents changed since its base) */
    uint64_t log_bytes;
    uint64_t total_bytes;        /* bytes written to the media for this set */
    double   seconds;
    lsn_t    first_lsn, last_lsn, checkpoint_lsn, database_backup_lsn, differential_base_lsn;
    uint8_t  backup_set_guid[16];
    int64_t  start_date, finish_date;   /* µs since 1970 UTC */
    int      nfiles;
    backup_file_count files[BACKUP_MAX_FILES];
    media_header     media;      /* LABELONLY of the device after the backup */
    media_set_header set;        /* HEADERONLY row of the new set (msdb.backupset) */
} backup_result;

/* BACKUP DATABASE / BACKUP LOG of `db`. The database stays usable throughout:
 * writers are held up only by the checkpoint's brief steps. On success the
 * set is durable on the media and db_note_backup() has been told (which lets
 * the log be truncated after a log backup). NO_TRUNCATE accepts a SUSPECT or
 * RECOVERY_PENDING database (log only); NORECOVERY leaves it RESTORING. */
int backup_database(instance *in, database *db, const backup_opts *o, backup_result *r, hdb_err *err);

/* BACKUP LOG ... WITH NO_TRUNCATE of a database the instance could not open at
 * all (its files are registered but db_open failed): reads the log file at
 * `log_path` directly, from its truncation LSN to its end. */
int backup_tail_log(instance *in, const char *db_name, const char *log_path, const backup_opts *o,
                    backup_result *r, hdb_err *err);

#endif
