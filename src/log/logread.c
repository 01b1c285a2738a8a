/*
 * logread.c — log readers (sequential and at one LSN) and the VLF listing.
 *
 * A record below written_lsn is read from the file (through a small read-ahead
 * buffer); one at or above it is copied out of the ring under the mutex, where
 * it is complete since end_lsn moves past a record only after it is copied in.
 * Every record is verified (framing, own LSN, CRC with the VLF's salt), so a
 * reader overtaken by truncation and slot reuse gets 9004, never wrong data.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log/logmgr_int.h"
#include "os/fio.h"

#define READAHEAD (64u * 1024)

struct log_reader {
    logmgr *lm;
    lsn_t pos;
    int durable_only;
    uint8_t *buf;          /* current record */
    size_t cap;
    uint8_t *ra;           /* read-ahead of file bytes [ra_lsn, ra_lsn + ra_len) */
    lsn_t ra_lsn;
    size_t ra_len;
};

static int grow_buf(uint8_t **buf, size_t *cap, size_t need)
{
    if (*cap >= need)
        return 0;
    size_t c = *cap ? *cap : 256;
    while (c < need)
        c *= 2;
    uint8_t *p = realloc(*buf, c);
    if (!p)
        return -1;
    *buf = p;
    *cap = c;
    return 0;
}

static int raise_read(logmgr *lm, hdb_err *err)
{
    return hdb_raise(err, 9004, lm->name);
}

/* Bytes [pos, pos+n) of VLF `seq` from the file, through the read-ahead
 * buffer when there is one. `wlim` bounds what the file holds for sure. */
static int file_bytes(logmgr *lm, log_reader *r, unsigned slot, uint64_t seq, lsn_t pos,
                      size_t n, lsn_t wlim, uint8_t *dst, hdb_err *err)
{
    uint64_t foff = lf_slot_off(slot, lm->V) + (pos - seq * lm->V);
    if (!r || n > READAHEAD)
        return fio_pread(lm->f, dst, n, foff, err);
    if (!(pos >= r->ra_lsn && pos + n <= r->ra_lsn + r->ra_len)) {
        lsn_t vend = (seq + 1) * lm->V, lim = wlim < vend ? wlim : vend;
        size_t len = READAHEAD;
        if (lim - pos < len)
            len = (size_t)(lim - pos);
        if (len < n)
            len = n;
        r->ra_len = 0;
        if (fio_pread(lm->f, r->ra, len, foff, err) < 0)
            return -1;
        r->ra_lsn = pos;
        r->ra_len = len;
    }
    memcpy(dst, r->ra + (pos - r->ra_lsn), n);
    return 0;
}

/* The framed record at pos into *buf. 1 = record, 0 = no record here (rest of
 * the VLF unused), -1 = error. pos must be below the end of the log. */
static int fetch(logmgr *lm, log_reader *r, lsn_t pos, log_rec *rec, uint8_t **buf,
                 size_t *cap, hdb_err *err)
{
    uint64_t seq = pos / lm->V, room = (seq + 1) * lm->V - pos;
    uint8_t h[LOG_REC_HEADER];
    pthread_mutex_lock(&lm->mu);
    int k = lm_slot_of(lm, seq);
    if (k < 0 || pos < lm->trunc_seq * lm->V) {
        pthread_mutex_unlock(&lm->mu);
        return raise_read(lm, err);   /* truncated and reused meanwhile */
    }
    uint32_t salt = lm->slots[k].salt;
    if (pos >= lm->written_lsn) {
        /* still only in the buffer; complete, since end_lsn is past it */
        lm_ring_get(lm, pos, h, sizeof h);
        uint32_t len = lf_get32(h);
        if (len == 0) {
            pthread_mutex_unlock(&lm->mu);
            return 0;
        }
        len = lf_rec_frame_ok(h, pos, room);
        if (!len || pos + len > lm->end_lsn || grow_buf(buf, cap, len) < 0) {
            pthread_mutex_unlock(&lm->mu);
            return raise_read(lm, err);
        }
        lm_ring_get(lm, pos, *buf, len);
        pthread_mutex_unlock(&lm->mu);
    } else {
        lsn_t wlim = lm->written_lsn;
        pthread_mutex_unlock(&lm->mu);
        if (file_bytes(lm, r, (unsigned)k, seq, pos, sizeof h, wlim, h, err) < 0)
            return -1;
        uint32_t len = lf_get32(h);
        if (len == 0)
            return 0;
        len = lf_rec_frame_ok(h, pos, room);
        if (!len || grow_buf(buf, cap, len) < 0)
            return raise_read(lm, err);
        if (file_bytes(lm, r, (unsigned)k, seq, pos, len, wlim, *buf, err) < 0)
            return -1;
    }
    if (lf_get32(*buf + 4) != lf_rec_crc(*buf, lf_get32(*buf), salt))
        return raise_read(lm, err);
    lf_decode_rechdr(*buf, rec);
    rec->body = *buf + LOG_REC_HEADER;
    return 1;
}

log_reader *log_reader_open(logmgr *lm, lsn_t from, int durable_only, hdb_err *err)
{
    pthread_mutex_lock(&lm->mu);
    lsn_t lo = lm->trunc_seq * lm->V, hi = lm->end_lsn;
    pthread_mutex_unlock(&lm->mu);
    if (from < lo || from > hi) {
        char t[160];
        snprintf(t, sizeof t, "Log position %" PRIu64 " is outside the log (%" PRIu64
                 " to %" PRIu64 ").", from, lo, hi);
        hdb_raise(err, 40000, t);
        return NULL;
    }
    log_reader *r = calloc(1, sizeof *r);
    if (r)
        r->ra = malloc(READAHEAD);
    if (!r || !r->ra) {
        free(r);
        hdb_raise_text(err, 701, 19, 1, "There is insufficient system memory to run this query.");
        return NULL;
    }
    r->lm = lm;
    r->pos = from;
    r->durable_only = durable_only;
    return r;
}

int log_reader_next(log_reader *r, log_rec *rec, hdb_err *err)
{
    logmgr *lm = r->lm;
    for (;;) {
        pthread_mutex_lock(&lm->mu);
        lsn_t limit = r->durable_only ? lm->durable_lsn : lm->end_lsn;
        pthread_mutex_unlock(&lm->mu);
        if (r->pos >= limit)
            return 0;
        uint64_t off = r->pos % lm->V;
        if (off < LOG_VLF_HEADER) {               /* VLF start: skip its header */
            r->pos += LOG_VLF_HEADER - off;
            continue;
        }
        if (lm->V - off < LOG_REC_HEADER) {        /* no room for a record */
            r->pos += lm->V - off;
            continue;
        }
        int rc = fetch(lm, r, r->pos, rec, &r->buf, &r->cap, err);
        if (rc < 0)
            return -1;
        if (rc == 0) {                             /* unused rest of the VLF */
            if (limit <= r->pos - off + lm->V)      /* ...but the log ends in this VLF */
                return raise_read(lm, err);
            r->pos += lm->V - off;
            continue;
        }
        r->pos += rec->len;
        return 1;
    }
}

lsn_t log_reader_pos(log_reader *r)
{
    return r->pos;
}

void log_reader_close(log_reader *r)
{
    if (!r)
        return;
    free(r->buf);
    free(r->ra);
    free(r);
}

int log_read_at(logmgr *lm, lsn_t lsn, log_rec *rec, uint8_t **buf, size_t *cap, hdb_err *err)
{
    uint64_t off = lsn % lm->V;
    pthread_mutex_lock(&lm->mu);
    lsn_t end = lm->end_lsn;
    pthread_mutex_unlock(&lm->mu);
    if (lsn >= end || off < LOG_VLF_HEADER || lm->V - off < LOG_REC_HEADER) {
        char t[120];
        snprintf(t, sizeof t, "There is no log record at LSN %" PRIu64 ".", lsn);
        return hdb_raise(err, 40000, t);
    }
    int rc = fetch(lm, NULL, lsn, rec, buf, cap, err);
    if (rc == 0)
        return raise_read(lm, err);
    if (rc < 0)
        return -1;
    /* the body goes to the start of *buf, as callers expect */
    memmove(*buf, *buf + LOG_REC_HEADER, rec->body_len);
    rec->body = *buf;
    return 0;
}

/* ---- sys.dm_db_log_info -------------------------------------------------- */

int log_vlfs(logmgr *lm, log_vlf_info *out, int cap)
{
    pthread_mutex_lock(&lm->mu);
    int n = (int)lm->nslots;
    for (int k = 0; k < n && k < cap; k++) {
        uint64_t seq = lm->slots[k].seq;
        out[k] = (log_vlf_info){
            .seq = seq,
            .file_offset = lf_slot_off((unsigned)k, lm->V),
            .size = lm->V,
            .active = seq && seq >= lm->trunc_seq && seq <= lm->cur_seq,
            .first_lsn = seq ? seq * lm->V + LOG_VLF_HEADER : 0,
        };
    }
    pthread_mutex_unlock(&lm->mu);
    return n;
}

uint64_t log_file_size(logmgr *lm)
{
    pthread_mutex_lock(&lm->mu);
    uint64_t v = lf_slot_off(lm->nslots, lm->V);
    pthread_mutex_unlock(&lm->mu);
    return v;
}

uint64_t log_used_bytes(logmgr *lm)
{
    pthread_mutex_lock(&lm->mu);
    uint64_t v = (lm->cur_seq - lm->trunc_seq + 1) * lm->V;
    pthread_mutex_unlock(&lm->mu);
    return v;
}

uint64_t log_vlf_size(logmgr *lm)
{
    return lm->V;
}

uint64_t log_identity(logmgr *lm)
{
    return lm->log_id;
}
