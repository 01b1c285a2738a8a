/*
 * logmgr.h — one write-ahead log per database: file of VLFs, append, group
 * commit, readers, truncation.
 *
 * LSN: a 64-bit logical byte position. The log is a sequence of virtual log
 * files (VLFs) of equal size V (chosen at creation). The VLF with sequence
 * number s holds LSNs [s*V, (s+1)*V); its first LOG_VLF_HEADER bytes hold the
 * VLF header, so the first record of VLF s is at s*V + LOG_VLF_HEADER. A record
 * never spans two VLFs: when it does not fit in what is left of the current VLF,
 * the rest is skipped and the record starts the next one. LSNs therefore grow
 * strictly but are not dense. Users see LSNs as decimal numbers.
 *
 * Physical layout of the log file:
 *   [0, 4096)          master block: magic, version, V, checkpoint LSN,
 *                      truncation LSN (first LSN still needed), CRC; written
 *                      twice (two 2048-byte copies, each written then fdatasync'd
 *                      in turn) so a torn write leaves one good
 *   [4096 + k*V, ...)  VLF slot k. The VLF header (magic, seq, CRC) says which
 *                      sequence the slot currently holds; slots whose seq is
 *                      below the truncation LSN's VLF are inactive and reusable.
 *                      When no slot is free the file grows by LOG_GROW_VLFS slots
 *                      (or fewer, as far as max_size allows).
 *                      The header also holds prev_end (the LSN where the log left
 *                      VLF seq-1: the open-time scan follows a VLF only if it
 *                      continues exactly where the previous one stopped) and a
 *                      random salt chosen each time a slot is (re)used.
 * Byte-level layout of both headers: log/logfile.h.
 *
 * Record framing (every record, 8-byte aligned):
 *   u32 len (total, incl. header, multiple of 8), u32 crc (CRC-32C of bytes
 *   16..len, then of bytes 8..16, then of the VLF's 4-byte salt — so the body is
 *   checksummed before the LSN is known, and a record left in a slot by an
 *   earlier use never checks), u64 lsn (its own LSN: a record left over from a
 *   previous use of the slot never matches), u64 prev_lsn, u64 txn_id, u8 kind,
 *   u8 flags, u16 rsvd (written as 0), u32 body_len; then body, zero-padded to
 *   len. The end of the log is the first position whose record fails these
 *   checks. Opening zeroes the rest of the end VLF and invalidates slots that
 *   claim sequences past the end, so garbage can never later pass for records.
 *
 * Group commit: appenders copy records into the in-memory log buffer under a
 * short mutex; a dedicated log-writer thread writes everything appended so far
 * and fdatasyncs once, then wakes every waiter whose LSN is now durable. A
 * commit calls log_flush_to(commit_lsn) and returns only when it is durable.
 *
 * A write or sync failure (real or injected) makes the log "failed": the waiter
 * gets error 9001-style (the log is unavailable), no later append succeeds,
 * nothing is acknowledged that was not durable. Reopening reruns the end-of-log
 * scan. The original OS error (823 text) goes to stderr and to log_failed().
 *
 * Threads: every function may be called from any thread, except that
 * log_close/log_close_abandon must not race with other calls, and one
 * log_reader is used by one thread at a time.
 */
#ifndef HDB_LOG_LOGMGR_H
#define HDB_LOG_LOGMGR_H

#include <stddef.h>
#include <stdint.h>

#include "storage/page.h"   /* lsn_t */
#include "util/err.h"

#define LOG_VLF_HEADER   512
#define LOG_REC_HEADER   40
#define LOG_MASTER_SIZE  4096
#define LOG_GROW_VLFS    4

typedef struct logmgr logmgr;

typedef struct log_rec {
    uint32_t len;        /* total framed length */
    uint32_t crc;
    lsn_t    lsn;
    lsn_t    prev_lsn;   /* previous record of the same transaction, 0 = none */
    uint64_t txn_id;     /* 0 = not part of a user transaction */
    uint8_t  kind;       /* meaning defined by the layers above (log/logrec.h) */
    uint8_t  flags;
    uint16_t rsvd;
    uint32_t body_len;
    const uint8_t *body; /* points into reader/caller memory (not on disk) */
} log_rec;

typedef struct log_options {
    uint64_t vlf_size;        /* bytes per VLF, multiple of 4096, >= 64 KiB */
    unsigned initial_vlfs;    /* VLFs at creation (>= 2) */
    uint64_t max_size;        /* file may grow to this many bytes; 0 = unlimited */
    size_t   buffer_size;     /* in-memory log buffer bytes (default 8 MiB;
                                 raised to at least 2 * vlf_size) */
} log_options;
/* Defaults when opt is NULL or a field is 0: vlf_size 1 MiB, initial_vlfs 2,
 * no max_size, 8 MiB buffer. log_open takes vlf_size from the file and
 * ignores opt->vlf_size / initial_vlfs. */

/* Create a new log file (must not exist). */
logmgr *log_create(const char *path, const log_options *opt, hdb_err *err);
/* Open an existing log: reads the master block, maps VLF slots, scans forward
 * from the truncation LSN to find the end of the log (first invalid record). */
logmgr *log_open(const char *path, const log_options *opt, hdb_err *err);
/* Flush everything appended, stop the writer, close. */
void log_close(logmgr *lm);
/* Simulate a crash: stop the writer and close WITHOUT flushing what is buffered. */
void log_close_abandon(logmgr *lm);

/* Append one record. Fills rec->lsn/len/crc; the caller sets kind, flags,
 * txn_id, prev_lsn, body, body_len. Returns the LSN or 0 with error (9002 when
 * the log is full and cannot grow, naming the database passed at open via
 * log_set_name; 9001 when the log has failed; 40000 when the record is larger
 * than vlf_size - LOG_VLF_HEADER). Waits while the buffer is full. */
lsn_t log_append(logmgr *lm, log_rec *rec, hdb_err *err);
/* Same, with the body gathered from several pieces (no extra copy). */
lsn_t log_appendv(logmgr *lm, log_rec *rec, const void *const *parts, const size_t *lens, int nparts, hdb_err *err);
/* Full-page writes. A checkpoint takes the redo point (the LSN where its
 * recovery will start) with log_set_redo_point; the first change to a page
 * whose pageLSN is older than the redo point must log the whole page. A
 * mini-transaction decides that against log_redo_point() and appends with
 * log_append_fpw(): if a checkpoint moved the redo point meanwhile, nothing is
 * appended, *stale is set, and the caller re-decides and retries. Deciding and
 * appending under one mutex is what closes the race. */
lsn_t log_set_redo_point(logmgr *lm);
lsn_t log_redo_point(logmgr *lm);
/* A mini-transaction's commit appends its record and then marks its pages
 * dirty; a checkpoint that took its redo point in between would neither
 * flush those pages nor list them as dirty, and redo after a crash would
 * start past the record. So a commit is bracketed by log_mtr_enter/leave
 * (two atomic adds), and a checkpoint calls log_mtr_drain after
 * log_set_redo_point: it waits for every commit that entered before. */
int log_mtr_enter(logmgr *lm);
void log_mtr_leave(logmgr *lm, int ticket);
void log_mtr_drain(logmgr *lm);
lsn_t log_append_fpw(logmgr *lm, log_rec *rec, lsn_t fpw_seen, int *stale, hdb_err *err);

/* Wait until the record at `lsn` is durable (group commit). */
int log_flush_to(logmgr *lm, lsn_t lsn, hdb_err *err);
/* Everything appended so far durable. */
int log_flush_all(logmgr *lm, hdb_err *err);
lsn_t log_end_lsn(logmgr *lm);       /* LSN the next record would get (upper bound) */
lsn_t log_durable_lsn(logmgr *lm);   /* every record starting below this is durable */
void log_set_name(logmgr *lm, const char *db_name);   /* default: file name sans extension */
/* The reason 9002 names (log_reuse_wait_desc: 'LOG_BACKUP', 'ACTIVE_TRANSACTION',
 * ...); default 'CHECKPOINT'. Set by whoever holds truncation back. */
void log_set_reuse_wait(logmgr *lm, const char *desc);
/* 1 if the log has failed; *detail (if non-NULL) gets the original OS error. */
int log_failed(logmgr *lm, hdb_err *detail);
uint64_t log_vlf_size(logmgr *lm);
/* The log's random id, chosen when the file is created (a restore creates a
 * new log, so a new id): what ties a side file, like the changed-extent map,
 * to this log's LSNs. */
uint64_t log_identity(logmgr *lm);

/* Counters (for tests and monitoring). */
typedef struct log_stats {
    uint64_t appends, append_bytes; /* records and framed bytes appended */
    uint64_t flush_waits;   /* log_flush_to/flush_all calls that had to wait */
    uint64_t rounds;        /* writer rounds (one pwrite batch each) */
    uint64_t writes;        /* pwrite calls by the writer */
    uint64_t syncs;         /* fdatasync calls by the writer (one per round) */
    uint64_t bytes_written;
    uint64_t vlf_switches, grows, space_waits;
    uint64_t master_writes; /* master-block rewrites (2 fdatasyncs each) */
} log_stats;
void log_get_stats(logmgr *lm, log_stats *st);

/* Master record: the checkpoint LSN recovery starts from. Durably written
 * (fdatasync) before returning; the record at ckpt_lsn is flushed first.
 * Fails if ckpt_lsn is below the truncation LSN. */
int log_set_checkpoint(logmgr *lm, lsn_t ckpt_lsn, hdb_err *err);
lsn_t log_checkpoint_lsn(logmgr *lm);

/* Truncation: VLFs wholly below `lsn` become inactive (reusable). Durable via
 * the master record. Never moves backward, never past the durable end, never
 * past the checkpoint LSN (when one is set); when the durable end lies exactly
 * on a VLF boundary the VLF before it is kept. */
int log_truncate_before(logmgr *lm, lsn_t lsn, hdb_err *err);
lsn_t log_truncation_lsn(logmgr *lm);  /* first LSN still kept */

/* Readers: scan forward from `from` (a record LSN, or a VLF start) through the
 * end of the log as known at each call. Thread-safe alongside appends; reads
 * records still only in the buffer too (they are not durable yet — pass
 * durable_only to stop at the durable end, as backup and mirroring must). */
/* `from` may be anything from the start of the truncation LSN's VLF to
 * log_end_lsn(). A reader whose VLF is truncated and reused under it gets
 * 9004 (records are verified: LSN, length, CRC). */
typedef struct log_reader log_reader;
log_reader *log_reader_open(logmgr *lm, lsn_t from, int durable_only, hdb_err *err);
/* 1 = a record (rec->body valid until the next call), 0 = end, -1 = error. */
int log_reader_next(log_reader *r, log_rec *rec, hdb_err *err);
lsn_t log_reader_pos(log_reader *r);   /* where the next record is looked for */
void log_reader_close(log_reader *r);
/* Read the single record at `lsn` (for undo), body copied into *buf (realloc'd),
 * rec->body == *buf. */
int log_read_at(logmgr *lm, lsn_t lsn, log_rec *rec, uint8_t **buf, size_t *cap, hdb_err *err);

/* ---- restore (backup/restore.c) -------------------------------------------
 * A restored database gets a log whose records sit at the LSNs they had in
 * the source database, so page LSNs, undo chains and later log backups all
 * line up; then the ordinary recovery reads it.
 *
 *   lm = log_create_at(path, opt, first_lsn)   empty log starting at the VLF
 *                                              of first_lsn (its first record)
 *   log_append_restored(lm, rec)*             each record at its own rec->lsn
 *   log_set_restore_state(lm, state, lsn)     persisted in the master block
 */
logmgr *log_create_at(const char *path, const log_options *opt, lsn_t first_lsn, hdb_err *err);
/* Append a record copied from a backup: kind, flags, txn id, prev LSN and body
 * as given; it must land exactly at rec->lsn (the log's end, or the first
 * record of the next VLF when it does not fit in this one), else 40000 and
 * nothing is appended. */
lsn_t log_append_restored(logmgr *lm, const log_rec *rec, hdb_err *err);
/* The restore state kept in the master block (fdatasync'd): a database whose
 * log says RESTORING is not recovered at start-up and takes further restores;
 * `lsn` is the point through which its data pages are known to be redone.
 * The low 16 bits of `state` are the state; the caller may keep flags in the
 * high 16 (log_restore_flags returns them shifted down). */
int log_set_restore_state(logmgr *lm, uint32_t state, lsn_t lsn, hdb_err *err);
uint32_t log_restore_state(logmgr *lm, lsn_t *lsn);
uint32_t log_restore_flags(logmgr *lm);

/* VLF listing for sys.dm_db_log_info. */
typedef struct log_vlf_info {
    uint64_t seq;         /* VLF sequence number (0 if never used) */
    uint64_t file_offset;
    uint64_t size;
    int      active;      /* holds LSNs >= the truncation LSN */
    lsn_t    first_lsn;   /* seq * V + LOG_VLF_HEADER, 0 if unused */
} log_vlf_info;
int log_vlfs(logmgr *lm, log_vlf_info *out, int cap);   /* returns count (may exceed cap) */
uint64_t log_file_size(logmgr *lm);
uint64_t log_used_bytes(logmgr *lm);                   /* active VLFs * V */

#endif
