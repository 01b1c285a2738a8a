/*
 * logfile.h — internal to src/log: byte layout of the log file (master block,
 * VLF headers, record framing) and the open-time scan. logmgr.c owns the
 * runtime (buffer, writer, readers); this part only knows the file.
 *
 * All integers little-endian. See logmgr.h and src/log/README.md.
 *
 * Master block copy (2048 bytes, at 0 and at 2048):
 *    0 u32 magic LF_MAGIC_MASTER   4 u32 version   8 u64 vlf_size
 *   16 u64 checkpoint LSN         24 u64 truncation LSN
 *   32 u64 generation (+1 per rewrite)   40 u64 log id (random, per log file)
 *   48 u64 restore LSN   56 u32 restore state (0 = not being restored; see
 *   log_set_restore_state)   60 u32 CRC-32C of bytes 0..60;  rest zero
 *
 * VLF header (first LOG_VLF_HEADER bytes of a slot):
 *    0 u32 magic LF_MAGIC_VLF      4 u32 version   8 u64 seq
 *   16 u64 prev_end: LSN where the log left VLF seq-1 (0 for the first VLF)
 *   24 u64 log id   32 u64 vlf_size   40 u32 salt (random per VLF use)
 *   44..60 zero   60 u32 CRC-32C of bytes 0..60;  rest zero
 *
 * Record CRC: CRC-32C over record bytes [16, len), then [8, 16) (the LSN), then
 * the 4 little-endian bytes of the VLF's salt. (Body first so appenders can
 * checksum outside the log mutex; the salt makes a record left in a slot by an
 * earlier use of it fail even when its LSN happens to match.)
 */
#ifndef HDB_LOG_LOGFILE_H
#define HDB_LOG_LOGFILE_H

#include <stdint.h>

#include "log/logmgr.h"
#include "os/fio.h"

#define LF_MAGIC_MASTER 0x4C4D4448u   /* "HDML" */
#define LF_MAGIC_VLF    0x464C5648u   /* "HVLF" */
#define LF_VERSION      1u
#define LF_MASTER_COPY  2048u
#define LF_MIN_VLF      (64u * 1024)

typedef struct lf_master {
    uint64_t vlf_size, ckpt_lsn, trunc_lsn, gen, log_id;
    uint64_t restore_lsn;
    uint32_t restore_state;
} lf_master;

typedef struct lf_vlf {
    uint64_t seq, prev_end, log_id, vlf_size;
    uint32_t salt;
} lf_vlf;

/* In-memory view of one slot: seq 0 = unused/invalid header. */
typedef struct lf_slot {
    uint64_t seq;
    uint32_t salt;
} lf_slot;

static inline uint64_t lf_slot_off(unsigned slot, uint64_t vlf_size)
{
    return LOG_MASTER_SIZE + (uint64_t)slot * vlf_size;
}
static inline uint64_t lf_align8(uint64_t n) { return (n + 7) & ~(uint64_t)7; }

void lf_put32(uint8_t *p, uint32_t v);
void lf_put64(uint8_t *p, uint64_t v);
uint32_t lf_get32(const uint8_t *p);
uint64_t lf_get64(const uint8_t *p);

void lf_encode_vlf(uint8_t out[LOG_VLF_HEADER], const lf_vlf *h);
/* 0 if `in` is a valid header of this log (magic, version, CRC, id, size). */
int lf_decode_vlf(const uint8_t *in, uint64_t log_id, uint64_t vlf_size, lf_vlf *h);

/* Record header <-> log_rec (body pointer untouched). */
void lf_encode_rechdr(uint8_t out[LOG_REC_HEADER], const log_rec *r);
void lf_decode_rechdr(const uint8_t *in, log_rec *r);
/* CRC of a whole framed record in the order described above. */
uint32_t lf_rec_crc(const uint8_t *rec, uint32_t len, uint32_t salt);
/* Framing checks of the header at `hdr` for position `pos` with `room` bytes
 * left in its VLF (no CRC). Returns the record length or 0 if invalid. */
uint32_t lf_rec_frame_ok(const uint8_t *hdr, lsn_t pos, uint64_t room);

/* Write both master copies, each followed by fdatasync, so a torn write can
 * damage only the copy being written while the other still holds a whole
 * (old or new) state. */
int lf_write_master(fio_file *f, const lf_master *m, hdb_err *err);
/* Read the master block; returns the number of valid copies (0 = error set). */
int lf_read_master(fio_file *f, lf_master *m, const char *name, hdb_err *err);

/* Create the file layout: master + nslots slots, slot 0 = VLF first_seq
 * (1 for a new log; a restored log starts where its backup's log began). */
int lf_format(fio_file *f, const lf_master *m, unsigned nslots, uint32_t salt, uint64_t first_seq,
              hdb_err *err);

/* Result of the open-time scan. */
typedef struct lf_scan_out {
    lsn_t    end;        /* first LSN after the last valid record */
    uint64_t cur_seq;    /* VLF holding end (end may equal (cur_seq+1)*V) */
    unsigned cur_slot;
    int      repaired;   /* bytes were zeroed/invalidated (already synced) */
} lf_scan_out;

/* Read every slot header into slots[0..nslots), then follow the VLF chain from
 * the truncation LSN's VLF to the first record that fails its checks; zero the
 * rest of that VLF and invalidate headers of slots beyond the end, so stale
 * bytes can never be mistaken for records later. */
int lf_scan(fio_file *f, const lf_master *m, unsigned nslots, lf_slot *slots,
            lf_scan_out *out, const char *name, hdb_err *err);

/* Write n zero bytes at off. */
int lf_zero(fio_file *f, uint64_t off, uint64_t n, hdb_err *err);

#endif
