/*
 * media.h — backup media: one file holding a media header and the backup
 * sets appended to it, written and read as streams of checksummed blocks.
 *
 * This module stores and returns what BACKUP gives it; it knows nothing about
 * databases. The caller supplies the set's header fields (what RESTORE
 * HEADERONLY shows), its file list (FILELISTONLY), the page images, the raw
 * log bytes, the marks and the commit-time index; RESTORE reads them back by
 * position (WITH FILE = n). The byte layout and the invariants are described
 * in backup/README.md.
 *
 * Writer, one set per call sequence:
 *
 *   w = media_write_begin(path, &opts, &header, files, nfiles, err)
 *   media_write_page(w, ...)*        data pages, any order        \  sections in
 *   media_write_log(w, lsn, ...)*    raw log, increasing LSNs      |  this order;
 *   media_write_mark(w, ...)*        marks inside the log range    |  each may be
 *   media_write_commit(w, ...)*      (commit LSN, commit time)     /  empty
 *   media_writer_header(w)->last_lsn = ...   final fields, if known only now
 *   media_write_finish(w, err)   or   media_write_abort(w)
 *
 * After any failed media_write_* call the writer must be ended with
 * media_write_abort. Both finish and abort free the writer; a failed finish
 * aborts by itself. Abort (and a failed finish) cut the file back to where this
 * set began: with NOINIT the media is byte for byte what it was before.
 * INIT and FORMAT gave up the old sets when the set began, as SQL Server does;
 * after their abort the media holds its header and no set.
 *
 * Reader:
 *
 *   r = media_open(path, err)              media header checked (3241 if bad)
 *   media_set_count(r), media_set_at(r, n), media_set_files(r, n, &k)
 *   media_tail_error(r, err)               why the sets stop before the end
 *   media_verify(r, n, page_fn, ctx, err)  VERIFYONLY: every byte of set n
 *   c = media_cursor_open(r, n, err)       4038 if there is no set n
 *   media_next_page(c, &pg, err)  media_next_log(c, &chunk, err)
 *   media_read_marks(c, ...)      media_read_commits(c, ...)
 *   media_cursor_close(c); media_close(r)
 *
 * Errors carry SQL Server's numbers (hdb_err.state tells the detection site,
 * see README): 3241 bad media header, 3254 empty file, 3189 damage inside a
 * set, 3256 a set that never finished (crash during BACKUP), 3266 NOINIT onto
 * a damaged end, 4038 no such set, 3270 API misuse. I/O errors are fio's
 * (823, fio_last_errno() tells ENOSPC); the SQL layer wraps them in
 * 3201/3202/3203 and 3013.
 *
 * One writer at a time per file (the caller serialises BACKUPs to a device).
 * A reader never sees the set being written as valid.
 */
#ifndef HDB_BACKUP_MEDIA_H
#define HDB_BACKUP_MEDIA_H

#include <stddef.h>
#include <stdint.h>

#include "storage/page.h"
#include "util/err.h"

/* String limits in bytes of UTF-8: NAME/DESCRIPTION are nvarchar(128)/(255)
 * and paths nvarchar(260) in SQL Server, at up to 3 bytes a UTF-16 unit. */
#define MEDIA_NAME_MAX 512
#define MEDIA_DESC_MAX 1024
#define MEDIA_PATH_MAX 1024
#define MEDIA_MAX_FILES 256

/* BackupType, SQL Server's codes. */
enum {
    MEDIA_TYPE_DATABASE = 1,
    MEDIA_TYPE_LOG = 2,
    MEDIA_TYPE_FILE = 4,
    MEDIA_TYPE_DIFF_DATABASE = 5,
    MEDIA_TYPE_DIFF_FILE = 6,
    MEDIA_TYPE_PARTIAL = 7,
    MEDIA_TYPE_DIFF_PARTIAL = 8,
};

enum { MEDIA_COMPRESS_NONE = 0, MEDIA_COMPRESS_ZSTD = 1 };

/* media_set_header.flags. The low nine bits are SQL Server's HEADERONLY
 * Flags column as is; the rest are the other bit columns. */
enum {
    MEDIA_FLAG_BULK_LOGGED = 1,          /* HasBulkLoggedData */
    MEDIA_FLAG_SNAPSHOT = 2,             /* IsSnapshot */
    MEDIA_FLAG_READ_ONLY = 4,            /* IsReadOnly */
    MEDIA_FLAG_SINGLE_USER = 8,          /* IsSingleUser */
    MEDIA_FLAG_CHECKSUMS = 16,           /* HasBackupChecksums: pages verified while read */
    MEDIA_FLAG_DAMAGED = 32,             /* IsDamaged (CONTINUE_AFTER_ERROR) */
    MEDIA_FLAG_TAIL_LOG = 64,
    MEDIA_FLAG_INCOMPLETE_METADATA = 128, /* HasIncompleteMetaData */
    MEDIA_FLAG_FORCE_OFFLINE = 256,      /* IsForceOffline: BACKUP LOG WITH NORECOVERY */
    MEDIA_FLAG_SQL_MASK = 511,
    MEDIA_FLAG_BEGINS_LOG_CHAIN = 1 << 16,
    MEDIA_FLAG_COPY_ONLY = 1 << 17,
};

/* The media header: what RESTORE LABELONLY shows. */
typedef struct media_header {
    uint16_t version;                 /* format version the media was written in */
    uint8_t  media_set_guid[16];      /* MediaSetId */
    uint8_t  media_family_guid[16];   /* MediaFamilyId */
    uint32_t family_count;            /* 1: one file, one family */
    uint32_t family_sequence;         /* 1 */
    uint32_t media_sequence;          /* 1 */
    uint32_t mirror_count;            /* 1 */
    int64_t  media_date;              /* µs since 1970-01-01 UTC */
    uint32_t software_vendor_id;
    uint16_t software_major, software_minor;
    uint32_t software_build;
    char     name[MEDIA_NAME_MAX + 1];            /* MEDIANAME */
    char     description[MEDIA_DESC_MAX + 1];     /* MEDIADESCRIPTION */
    char     software_name[MEDIA_NAME_MAX + 1];
} media_header;

/* One backup set's header: a row of RESTORE HEADERONLY. Times are µs since
 * 1970-01-01 UTC (0 = none), LSNs hadrdb's byte LSNs (0 = NULL), GUIDs 16
 * raw bytes (all zero = NULL). */
typedef struct media_set_header {
    char     name[MEDIA_NAME_MAX + 1];          /* BackupName */
    char     description[MEDIA_DESC_MAX + 1];   /* BackupDescription */
    uint8_t  backup_type;             /* MEDIA_TYPE_* */
    uint8_t  device_type;             /* DeviceType: 2 disk, 102 logical disk device */
    uint8_t  recovery_model;          /* 1 FULL, 2 BULK_LOGGED, 3 SIMPLE (engine's codes) */
    uint8_t  compatibility_level;
    uint8_t  containment;
    uint32_t flags;                   /* MEDIA_FLAG_* */
    int64_t  expiration_date;
    char     user_name[MEDIA_NAME_MAX + 1];
    char     server_name[MEDIA_NAME_MAX + 1];
    char     database_name[MEDIA_NAME_MAX + 1];
    char     machine_name[MEDIA_NAME_MAX + 1];
    char     collation[MEDIA_NAME_MAX + 1];
    uint32_t database_version;
    int64_t  database_creation_date;
    int64_t  backup_start_date;       /* 0: the writer uses the time of begin */
    int64_t  backup_finish_date;      /* 0: the writer uses the time of finish */
    uint16_t sort_order, code_page;
    uint32_t unicode_locale_id, unicode_comparison_style;
    uint32_t software_vendor_id;
    uint16_t software_major, software_minor;
    uint32_t software_build;
    lsn_t    first_lsn;
    lsn_t    last_lsn;                /* the next LSN after the set (exclusive) */
    lsn_t    checkpoint_lsn;
    lsn_t    database_backup_lsn;
    lsn_t    differential_base_lsn;
    lsn_t    fork_point_lsn;
    uint8_t  backup_set_guid[16];     /* all zero: the writer makes one */
    uint8_t  binding_id[16];
    uint8_t  family_guid[16];
    uint8_t  recovery_fork_id[16];
    uint8_t  first_recovery_fork_id[16];
    uint8_t  differential_base_guid[16];

    /* Filled in by the writer; ignored on input. */
    uint16_t position;                /* Position: what FILE = n selects */
    uint8_t  compression;             /* MEDIA_COMPRESS_* (Compressed = != 0) */
    uint64_t backup_size;             /* BackupSize: bytes the set takes uncompressed */
    uint64_t compressed_backup_size;  /* CompressedBackupSize: bytes on the media */
    uint64_t page_count;              /* page records */
    uint64_t log_bytes;               /* bytes of raw log */
    lsn_t    log_stream_first;        /* LSN of the first log byte stored (0: none) */
    lsn_t    log_stream_end;          /* LSN just past the last log byte stored */
    uint64_t mark_count;
    uint64_t commit_count;
} media_set_header;

/* One file of the backed-up database: a row of RESTORE FILELISTONLY. */
typedef struct media_file_entry {
    char     logical_name[MEDIA_NAME_MAX + 1];
    char     physical_name[MEDIA_PATH_MAX + 1];
    char     filegroup_name[MEDIA_NAME_MAX + 1];  /* "" for the log (NULL) */
    char     type;                    /* 'D' data, 'L' log */
    uint8_t  is_read_only, is_present;
    uint32_t file_id;
    uint32_t filegroup_id;            /* 0 for the log */
    uint32_t source_block_size;
    uint64_t size, max_size;          /* bytes */
    lsn_t    create_lsn, drop_lsn, read_only_lsn, read_write_lsn, differential_base_lsn;
    uint8_t  unique_id[16];
    uint8_t  differential_base_guid[16];
    /* Filled in by the writer: 8192 per page record of a 'D' file, the log
     * bytes for the first 'L' file (BackupSizeInBytes). */
    uint64_t backup_size;
} media_file_entry;

/* A marked transaction inside a log backup (STOPATMARK / STOPBEFOREMARK). */
typedef struct media_mark {
    lsn_t    lsn;                     /* the mark's log record */
    int64_t  time;                    /* its commit time, µs since 1970 UTC */
    char     name[MEDIA_NAME_MAX + 1];
    char     description[MEDIA_DESC_MAX + 1];
    char     user_name[MEDIA_NAME_MAX + 1];
} media_mark;

/* One commit in a log backup, for locating STOPAT times without a scan. */
typedef struct media_commit {
    lsn_t   lsn;
    int64_t time;
} media_commit;

/* A page record as read back. `image` points into the cursor's buffer and
 * stays valid until the next call on the cursor. */
typedef struct media_page {
    uint32_t file_id, page_no;
    const uint8_t *image;             /* PAGE_SIZE bytes */
} media_page;

/* A run of log bytes starting at `lsn`; `data` as for media_page. */
typedef struct media_log_chunk {
    lsn_t    lsn;
    const uint8_t *data;
    size_t   len;
} media_log_chunk;

/* ---- writer ---------------------------------------------------------------- */

typedef enum { MEDIA_NOINIT = 0, MEDIA_INIT = 1, MEDIA_FORMAT = 2 } media_mode;

typedef struct media_write_opts {
    media_mode  mode;         /* NOINIT appends; INIT keeps the media header and
                                 replaces every set; FORMAT writes a new header.
                                 A missing or empty file gets a header anyway. */
    int         compression;  /* MEDIA_COMPRESS_*; recorded in the set header */
    int         compression_level;  /* zstd level, 0 = 1 (fast: backups are I/O bound) */
    /* Used only when a new media header is written: */
    const char *media_name;
    const char *media_description;
    const char *software_name;      /* NULL = "hadrdb" */
    uint32_t    software_vendor_id;
    uint16_t    software_major, software_minor;
    uint32_t    software_build;
} media_write_opts;

typedef struct media_writer media_writer;

/* Open or create the media at `path` and start a new backup set described by
 * `header` and `files` (both copied). Errors: fio's open/write errors, 3241
 * (existing file is not valid media and mode is not FORMAT), 3266 (NOINIT and
 * the media ends in a damaged set), 3270 (bad arguments). An unfinished set
 * left at the end by a crash is replaced by NOINIT: it was never valid. */
media_writer *media_write_begin(const char *path, const media_write_opts *opts,
                                const media_set_header *header,
                                const media_file_entry *files, size_t nfiles, hdb_err *err);

/* The set's header, as it will be written at finish. The caller may change any
 * field before finishing (last LSN, finish date, flags, ...); the fields the
 * writer fills (position, sizes, counts) are overwritten at finish. */
media_set_header *media_writer_header(media_writer *w);

/* Bytes written to the media so far for this set (for STATS progress). */
uint64_t media_writer_bytes(const media_writer *w);

/* One page image (PAGE_SIZE bytes). */
int media_write_page(media_writer *w, uint32_t file_id, uint32_t page_no, const void *image,
                     hdb_err *err);

/* `n` bytes of raw log starting at `lsn`. Calls must not go backwards: `lsn`
 * is at or after the end of the previous call (a gap starts a new run). */
int media_write_log(media_writer *w, lsn_t lsn, const void *bytes, size_t n, hdb_err *err);

int media_write_mark(media_writer *w, const media_mark *m, hdb_err *err);
int media_write_commit(media_writer *w, lsn_t lsn, int64_t time, hdb_err *err);

/* Write the trailer and the final header, fdatasync; the set is valid once
 * this returns 0. Frees w. On failure the set is aborted (see above). */
int media_write_finish(media_writer *w, hdb_err *err);

/* Give the set up: cut the file back to where it began. Frees w. Returns -1
 * (err filled) if the file could not be cut back; the set left behind is then
 * an unfinished one, which readers report as 3256 and NOINIT replaces. */
int media_write_abort(media_writer *w, hdb_err *err);

/* ---- reader ---------------------------------------------------------------- */

typedef struct media_reader media_reader;
typedef struct media_cursor media_cursor;

/* Open media read-only and list its sets (headers only; no payload is read).
 * Errors: fio's, 3254 (empty file), 3241 (no valid media header). */
media_reader *media_open(const char *path, hdb_err *err);
void media_close(media_reader *r);

const media_header *media_label(const media_reader *r);

/* Number of valid sets: positions 1..count. */
int media_set_count(const media_reader *r);

/* Header and file list of set `position`; NULL if there is no such valid set. */
const media_set_header *media_set_at(const media_reader *r, int position);
const media_file_entry *media_set_files(const media_reader *r, int position, size_t *n);

/* BACKUP ... WITH INIT, NOSKIP: the position of the first set whose
 * ExpirationDate (EXPIREDATE / RETAINDAYS) is later than `now` (µs since 1970
 * UTC), or 0 if every set may be overwritten. Sets with no date never block. */
int media_first_unexpired(const media_reader *r, int64_t now);

/* 0 if the valid sets end exactly at the end of the file. Otherwise -1 with
 * why set count+1 is not valid: 3256 (never finished: a crash during BACKUP),
 * 3189 (damaged or truncated), 3241 (bytes that are not a backup set). */
int media_tail_error(const media_reader *r, hdb_err *err);

/* RESTORE VERIFYONLY: read every block of set `position`, check every
 * checksum, length, count and the whole-set checksum. If page_fn is not NULL
 * it sees every page record (to check page checksums and ids); its -1 stops
 * the verification with its error. 0 = the set is valid. */
typedef int (*media_page_fn)(void *ctx, const media_page *pg, hdb_err *err);
int media_verify(media_reader *r, int position, media_page_fn page_fn, void *ctx, hdb_err *err);

/* A cursor over one set's streams. 4038 if `position` is not a valid set
 * (the tail error instead when it names the unfinished or damaged set). */
media_cursor *media_cursor_open(media_reader *r, int position, hdb_err *err);
void media_cursor_close(media_cursor *c);

/* Next page record / log run: 1 and *out filled, 0 at the end of the stream,
 * -1 on error (3189 for damage, fio's for I/O). Each stream can be read on
 * its own; switching streams restarts the other one from its beginning. */
int media_next_page(media_cursor *c, media_page *out, hdb_err *err);
int media_next_log(media_cursor *c, media_log_chunk *out, hdb_err *err);

/* The whole marks table / commit-time index, in the order written; the
 * arrays are malloc'd (free() them), NULL when empty. */
int media_read_marks(media_cursor *c, media_mark **out, size_t *n, hdb_err *err);
int media_read_commits(media_cursor *c, media_commit **out, size_t *n, hdb_err *err);

#endif
