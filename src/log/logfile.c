/*
 * logfile.c — the log file's byte layout: master block, VLF headers, record
 * framing, creation and the open-time end-of-log scan (see logfile.h).
 */
#include "log/logfile.h"

#include <stdlib.h>
#include <string.h>

#include "util/crc32c.h"

void lf_put32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

void lf_put64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

uint32_t lf_get32(const uint8_t *p)
{
    uint32_t v = 0;
    for (int i = 3; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

uint64_t lf_get64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

/* ---- master block -------------------------------------------------------- */

static void encode_master(uint8_t out[LF_MASTER_COPY], const lf_master *m)
{
    memset(out, 0, LF_MASTER_COPY);
    lf_put32(out + 0, LF_MAGIC_MASTER);
    lf_put32(out + 4, LF_VERSION);
    lf_put64(out + 8, m->vlf_size);
    lf_put64(out + 16, m->ckpt_lsn);
    lf_put64(out + 24, m->trunc_lsn);
    lf_put64(out + 32, m->gen);
    lf_put64(out + 40, m->log_id);
    lf_put64(out + 48, m->restore_lsn);
    lf_put32(out + 56, m->restore_state);
    lf_put32(out + 60, crc32c(0, out, 60));
}

static int decode_master(const uint8_t *in, lf_master *m)
{
    if (lf_get32(in) != LF_MAGIC_MASTER || lf_get32(in + 4) != LF_VERSION)
        return -1;
    if (lf_get32(in + 60) != crc32c(0, in, 60))
        return -1;
    m->vlf_size = lf_get64(in + 8);
    m->ckpt_lsn = lf_get64(in + 16);
    m->trunc_lsn = lf_get64(in + 24);
    m->gen = lf_get64(in + 32);
    m->log_id = lf_get64(in + 40);
    m->restore_lsn = lf_get64(in + 48);
    m->restore_state = lf_get32(in + 56);
    if (m->vlf_size < LF_MIN_VLF || m->vlf_size % 4096 || m->trunc_lsn < m->vlf_size)
        return -1;
    return 0;
}

int lf_write_master(fio_file *f, const lf_master *m, hdb_err *err)
{
    uint8_t buf[LF_MASTER_COPY];
    encode_master(buf, m);
    for (int copy = 0; copy < 2; copy++) {
        /* sync between the copies: never both in flight at once */
        if (fio_pwrite(f, buf, sizeof buf, (uint64_t)copy * LF_MASTER_COPY, err) < 0 ||
            fio_sync(f, err) < 0)
            return -1;
    }
    return 0;
}

int lf_read_master(fio_file *f, lf_master *m, const char *name, hdb_err *err)
{
    uint8_t buf[LOG_MASTER_SIZE];
    if (fio_pread(f, buf, sizeof buf, 0, err) < 0)
        return 0;
    lf_master a, b;
    int ga = decode_master(buf, &a) == 0;
    int gb = decode_master(buf + LF_MASTER_COPY, &b) == 0;
    if (!ga && !gb) {
        hdb_raise(err, 9004, name);
        return 0;
    }
    if (ga && gb)
        *m = a.gen >= b.gen ? a : b;   /* a torn rewrite leaves the newer one */
    else
        *m = ga ? a : b;
    return ga + gb;
}

/* ---- VLF header ---------------------------------------------------------- */

void lf_encode_vlf(uint8_t out[LOG_VLF_HEADER], const lf_vlf *h)
{
    memset(out, 0, LOG_VLF_HEADER);
    lf_put32(out + 0, LF_MAGIC_VLF);
    lf_put32(out + 4, LF_VERSION);
    lf_put64(out + 8, h->seq);
    lf_put64(out + 16, h->prev_end);
    lf_put64(out + 24, h->log_id);
    lf_put64(out + 32, h->vlf_size);
    lf_put32(out + 40, h->salt);
    lf_put32(out + 60, crc32c(0, out, 60));
}

int lf_decode_vlf(const uint8_t *in, uint64_t log_id, uint64_t vlf_size, lf_vlf *h)
{
    if (lf_get32(in) != LF_MAGIC_VLF || lf_get32(in + 4) != LF_VERSION)
        return -1;
    if (lf_get32(in + 60) != crc32c(0, in, 60))
        return -1;
    h->seq = lf_get64(in + 8);
    h->prev_end = lf_get64(in + 16);
    h->log_id = lf_get64(in + 24);
    h->vlf_size = lf_get64(in + 32);
    h->salt = lf_get32(in + 40);
    if (h->log_id != log_id || h->vlf_size != vlf_size || h->seq == 0)
        return -1;
    return 0;
}

/* ---- records ------------------------------------------------------------- */

void lf_encode_rechdr(uint8_t out[LOG_REC_HEADER], const log_rec *r)
{
    lf_put32(out + 0, r->len);
    lf_put32(out + 4, r->crc);
    lf_put64(out + 8, r->lsn);
    lf_put64(out + 16, r->prev_lsn);
    lf_put64(out + 24, r->txn_id);
    out[32] = r->kind;
    out[33] = r->flags;
    out[34] = (uint8_t)r->rsvd;
    out[35] = (uint8_t)(r->rsvd >> 8);
    lf_put32(out + 36, r->body_len);
}

void lf_decode_rechdr(const uint8_t *in, log_rec *r)
{
    r->len = lf_get32(in);
    r->crc = lf_get32(in + 4);
    r->lsn = lf_get64(in + 8);
    r->prev_lsn = lf_get64(in + 16);
    r->txn_id = lf_get64(in + 24);
    r->kind = in[32];
    r->flags = in[33];
    r->rsvd = (uint16_t)(in[34] | (in[35] << 8));
    r->body_len = lf_get32(in + 36);
}

uint32_t lf_rec_crc(const uint8_t *rec, uint32_t len, uint32_t salt)
{
    uint8_t s[4];
    lf_put32(s, salt);
    uint32_t c = crc32c(0, rec + 16, len - 16);
    c = crc32c(c, rec + 8, 8);
    return crc32c(c, s, 4);
}

uint32_t lf_rec_frame_ok(const uint8_t *hdr, lsn_t pos, uint64_t room)
{
    uint32_t len = lf_get32(hdr);
    uint32_t body = lf_get32(hdr + 36);
    if (len < LOG_REC_HEADER || len % 8 || len > room)
        return 0;
    if (lf_get64(hdr + 8) != pos)   /* left over from another use of the slot */
        return 0;
    if (body > len - LOG_REC_HEADER || lf_align8(LOG_REC_HEADER + (uint64_t)body) != len)
        return 0;
    return len;
}

/* ---- creation ------------------------------------------------------------ */

int lf_zero(fio_file *f, uint64_t off, uint64_t n, hdb_err *err)
{
    static const uint8_t zeros[16384];
    while (n > 0) {
        size_t k = n < sizeof zeros ? (size_t)n : sizeof zeros;
        if (fio_pwrite(f, zeros, k, off, err) < 0)
            return -1;
        off += k;
        n -= k;
    }
    return 0;
}

int lf_format(fio_file *f, const lf_master *m, unsigned nslots, uint32_t salt, uint64_t first_seq,
              hdb_err *err)
{
    if (fio_resize_zeroed(f, lf_slot_off(nslots, m->vlf_size), err) < 0)
        return -1;
    uint8_t hdr[LOG_VLF_HEADER];
    lf_vlf h = { .seq = first_seq, .prev_end = 0, .log_id = m->log_id, .vlf_size = m->vlf_size,
                 .salt = salt };
    lf_encode_vlf(hdr, &h);
    if (fio_pwrite(f, hdr, sizeof hdr, lf_slot_off(0, m->vlf_size), err) < 0)
        return -1;
    uint8_t mb[LF_MASTER_COPY];
    encode_master(mb, m);
    if (fio_pwrite(f, mb, sizeof mb, 0, err) < 0 ||
        fio_pwrite(f, mb, sizeof mb, LF_MASTER_COPY, err) < 0)
        return -1;
    return fio_sync(f, err);
}

/* ---- open-time scan ------------------------------------------------------ */

static int find_slot(const lf_slot *slots, unsigned nslots, uint64_t seq)
{
    for (unsigned k = 0; k < nslots; k++)
        if (slots[k].seq == seq)
            return (int)k;
    return -1;
}

int lf_scan(fio_file *f, const lf_master *m, unsigned nslots, lf_slot *slots,
            lf_scan_out *out, const char *name, hdb_err *err)
{
    const uint64_t V = m->vlf_size;
    uint64_t *prev_end = calloc(nslots ? nslots : 1, sizeof *prev_end);
    uint8_t *buf = malloc(V);
    uint8_t *chain = calloc(nslots ? nslots : 1, 1);
    int rc = -1;
    if (!prev_end || !buf || !chain) {
        hdb_raise(err, 9004, name);
        goto out;
    }

    /* 1. which sequence each slot holds */
    for (unsigned k = 0; k < nslots; k++) {
        uint8_t hb[LOG_VLF_HEADER];
        lf_vlf h;
        if (fio_pread(f, hb, sizeof hb, lf_slot_off(k, V), err) < 0)
            goto out;
        if (lf_decode_vlf(hb, m->log_id, V, &h) == 0) {
            slots[k].seq = h.seq;
            slots[k].salt = h.salt;
            prev_end[k] = h.prev_end;
        } else {
            slots[k].seq = 0;
            slots[k].salt = 0;
        }
    }

    /* 2. follow the chain from the truncation LSN's VLF */
    uint64_t s = m->trunc_lsn / V;
    int k = find_slot(slots, nslots, s);
    if (k < 0) {
        hdb_raise(err, 9004, name);
        goto out;
    }
    lsn_t pos;
    uint64_t off;
    for (;;) {
        chain[k] = 1;
        if (fio_pread(f, buf, V, lf_slot_off((unsigned)k, V), err) < 0)
            goto out;
        off = LOG_VLF_HEADER;
        while (off + LOG_REC_HEADER <= V) {
            uint32_t len = lf_rec_frame_ok(buf + off, s * V + off, V - off);
            if (!len || lf_get32(buf + off + 4) != lf_rec_crc(buf + off, len, slots[k].salt))
                break;
            off += len;
        }
        pos = s * V + off;
        /* The log went on to VLF s+1 only if that VLF's header says it left
         * VLF s exactly here; otherwise a lost write ended the log at pos and
         * anything after it is a torn tail. */
        int nk = -1;
        for (unsigned j = 0; j < nslots; j++)
            if (slots[j].seq == s + 1 && prev_end[j] == pos && !chain[j])
                nk = (int)j;
        if (nk < 0)
            break;
        s++;
        k = nk;
    }

    /* 3. make the tail unambiguous: zero the rest of the end VLF (appends
     * continue there) and invalidate slots claiming sequences beyond it */
    out->repaired = 0;
    for (uint64_t i = off; i < V; i++) {
        if (buf[i]) {
            if (lf_zero(f, lf_slot_off((unsigned)k, V) + off, V - off, err) < 0)
                goto out;
            out->repaired = 1;
            break;
        }
    }
    for (unsigned j = 0; j < nslots; j++) {
        if (slots[j].seq >= m->trunc_lsn / V && !chain[j]) {
            if (lf_zero(f, lf_slot_off(j, V), LOG_VLF_HEADER, err) < 0)
                goto out;
            slots[j].seq = 0;
            out->repaired = 1;
        }
    }
    if (out->repaired && fio_sync(f, err) < 0)
        goto out;
    out->end = pos;
    out->cur_seq = s;
    out->cur_slot = (unsigned)k;
    rc = 0;
out:
    free(prev_end);
    free(buf);
    free(chain);
    return rc;
}
