/*
 * backup_int.h — internal to src/backup (backup*.c, restore*.c): how a log
 * record travels through a backup set, and the page/log copy steps.
 *
 * A set's LOG section holds log records exactly as framed in the log
 * (log/README.md: u32 len, u32 crc, u64 lsn, u64 prev_lsn, u64 txn_id, u8 kind,
 * u8 flags, u16 0, u32 body_len, body, zero padding to len), at their own
 * LSNs. The record CRC is salted with the source VLF's salt, so restore does
 * not check it; the media's block checksums cover these bytes instead, and
 * log_append_restored re-frames each record for the new log.
 */
#ifndef HDB_BACKUP_BACKUP_INT_H
#define HDB_BACKUP_BACKUP_INT_H

#include <stdint.h>
#include <string.h>

#include "backup/backup.h"
#include "backup/restore.h"
#include "log/logrec.h"

#define BK_REC_HEADER LOG_REC_HEADER

static inline void bk_put32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }
static inline void bk_put64(uint8_t *p, uint64_t v) { memcpy(p, &v, 8); }
static inline uint32_t bk_get32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return v; }
static inline uint64_t bk_get64(const uint8_t *p) { uint64_t v; memcpy(&v, p, 8); return v; }

/* Frame header of `r` into out[BK_REC_HEADER]. */
static inline void bk_rec_header(uint8_t *out, const log_rec *r)
{
    bk_put32(out, r->len);
    bk_put32(out + 4, r->crc);
    bk_put64(out + 8, r->lsn);
    bk_put64(out + 16, r->prev_lsn);
    bk_put64(out + 24, r->txn_id);
    out[32] = r->kind;
    out[33] = r->flags;
    out[34] = out[35] = 0;
    bk_put32(out + 36, r->body_len);
}

/* Decode a framed record at p (n bytes available). 0 = complete record,
 * 1 = need more bytes, -1 = malformed. */
static inline int bk_rec_decode(const uint8_t *p, size_t n, log_rec *r)
{
    if (n < BK_REC_HEADER)
        return 1;
    r->len = bk_get32(p);
    r->crc = bk_get32(p + 4);
    r->lsn = bk_get64(p + 8);
    r->prev_lsn = bk_get64(p + 16);
    r->txn_id = bk_get64(p + 24);
    r->kind = p[32];
    r->flags = p[33];
    r->rsvd = 0;
    r->body_len = bk_get32(p + 36);
    if (r->len < BK_REC_HEADER || r->len % 8 || r->body_len > r->len - BK_REC_HEADER ||
        r->len - BK_REC_HEADER - r->body_len >= 8)
        return -1;
    if (n < r->len)
        return 1;
    r->body = p + BK_REC_HEADER;
    return 0;
}

/* ---- backup_pages.c ------------------------------------------------------ */

typedef struct bk_progress {
    int      step;               /* STATS percent step, 0 = off */
    int      next;               /* next percentage to report */
    uint64_t total, done;
    void   (*fn)(void *ctx, int percent);
    void    *ctx;
} bk_progress;

void bk_progress_add(bk_progress *p, uint64_t n);

/* Copy every allocated page of every data file of db into w; for a
 * differential (diff_base != 0) only pages in the extents `changed` marks
 * (a private copy of the changed-extent map, storage/dcm.h) whose pageLSN
 * is >= diff_base. pages_per_file[i] counts the pages written of file ids[i];
 * *pages_read (added to) the pages read from the files. Pages are read
 * straight from the files, one read per group of wanted pages (up to 1 MiB);
 * one that fails its checksum (a write raced the read) is read again through
 * the buffer pool under its latch; a page bad there too is 3043. */
int bk_copy_pages(database *db, media_writer *w, lsn_t diff_base, const dcm *changed, bk_progress *prog,
                  uint16_t *ids, uint64_t *pages_per_file, int *nfiles, uint64_t *pages_read, hdb_err *err);
/* Allocated pages of all data files (for progress); with `changed`, only
 * those of the extents it marks. */
uint64_t bk_count_pages(database *db, const dcm *changed);

/* ---- backup_log.c -------------------------------------------------------- */

typedef struct bk_log_out {
    lsn_t    end;                /* LSN after the last record written (may be cut back) */
    uint64_t bytes, records;
} bk_log_out;

/* Copy the durable log records [from, to) of `log` into w, then the marks
 * (each at its COMMIT's LSN and time) and the commit-time index. cut_marks:
 * a marked transaction whose COMMIT is not in the range ends the range at its
 * MARK record, so the next log backup holds mark and commit together. */
int bk_copy_log(logmgr *log, media_writer *w, lsn_t from, lsn_t to, int cut_marks,
                bk_progress *prog, bk_log_out *out, hdb_err *err);

/* ---- restore_log.c ------------------------------------------------------- */

/* Every log record of set `pos`, reassembled across the media's blocks and
 * checked (3189 if the stream is broken), to fn in LSN order; a nonzero
 * return from fn stops the walk with that value. */
typedef int (*rs_record_fn)(void *ctx, const log_rec *r, hdb_err *err);
int rs_for_each_record(media_reader *mr, int pos, rs_record_fn fn, void *ctx, hdb_err *err);

/* Feed the log section of set `pos` into `log`: every record with
 * skip_below <= lsn < stop (stop 0 = no limit) is appended at its own LSN.
 * *bytes counts what was installed. */
int rs_install_log(media_reader *mr, int pos, logmgr *log, lsn_t skip_below, lsn_t stop,
                   uint64_t *bytes, hdb_err *err);

/* The exclusive LSN where redo must stop for o's STOPAT / STOPATMARK /
 * STOPBEFOREMARK within set `pos`: 0 = no stop requested, UINT64_MAX = the
 * target lies beyond this set. 4334 if a named mark / lsn cannot be found. */
int rs_stop_lsn(media_reader *mr, int pos, const restore_opts *o, lsn_t *stop, hdb_err *err);

/* ---- restore_files.c ----------------------------------------------------- */

/* Data files added (FILE_OP) inside the log range a restore step installs,
 * each with the path it will have (MOVE by logical name, else the record's). */
typedef struct rs_new_files {
    df_file_desc *v;
    int           n;
} rs_new_files;

/* Scan set `pos`'s log records [from, stop) (stop 0: to the end) for files
 * not in `have`, each placed where MOVE names it. Nothing is written;
 * rs_new_files_free() after. */
int rs_scan_new_files(media_reader *mr, int pos, lsn_t from, lsn_t stop, const restore_opts *o,
                      const uint16_t *have, int nhave, rs_new_files *nf, hdb_err *err);
/* Their paths against other databases (1834), `taken` (3176: the step's
 * other files) and existing files (3142 without REPLACE; files of `self`,
 * the database being replaced or restored into, and those this restore
 * registered for `db_id` in an attempt that did not finish, do not count). */
int rs_check_new_files(instance *in, uint32_t db_id, database *self, const restore_opts *o,
                       const char *const *taken, int ntaken, const rs_new_files *nf, hdb_err *err);
/* Before redo: create each planned file (empty, sized) in db and register
 * its path in master. */
int rs_create_new_files(instance *in, database *db, const rs_new_files *nf, hdb_err *err);
/* Whether every MOVE names a file of the set or a planned new file (else
 * *unknown, for 3234). */
int rs_moves_known(const restore_opts *o, const media_file_entry *fl, size_t n, const rs_new_files *nf,
                   const char **unknown);
void rs_new_files_free(rs_new_files *nf);

/* ---- bk_common.c ----------------------------------------------------------- */

/* Monotonic seconds (durations in messages and history). */
double bk_now_s(void);
/* Raise `number` at severity 16 with a formatted text; returns -1. */
int bk_failf(hdb_err *err, int number, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif
