/*
 * media_read.c — RESTORE's side: listing the sets of a media, reading one
 * set's streams block by block, and verifying a set without applying it.
 *
 * Every block is checked before any of its bytes is handed out: header
 * fields, its place (the block number and section the set header promises),
 * its checksum, then decompression to exactly the recorded length, then the
 * framing of each record. At the end of a stream the number of records must
 * match the set header. So a reader either gets the bytes BACKUP wrote or an
 * error — 3189 for damage, fio's for I/O — and never a partial set: sets that
 * did not finish are not listed at all (media_scan.c).
 */
#include "backup/media_int.h"

#include <stdlib.h>
#include <string.h>
#include <zstd.h>

#include "util/crc32c.h"

struct media_reader {
    fio_file     *f;
    media_header  mh;
    media_chain   ch;
};

struct media_cursor {
    media_reader          *r;
    const media_set_entry *e;
    int            sec;           /* stream being read, -1 none */
    uint64_t       off;           /* file offset of the next block */
    uint32_t       seq;           /* its expected block number */
    uint32_t       left;          /* blocks left in the stream */
    uint64_t       items;         /* records handed out in the stream */
    uint32_t       chain;         /* checksum chained over the block headers read */
    uint8_t       *stored;        /* payload as read */
    uint8_t       *raw;           /* payload decompressed */
    const uint8_t *pay;           /* the current block's payload */
    size_t         len, at;       /* its length, the next record's offset */
    uint32_t       records;       /* records left in the current block */
    ZSTD_DCtx     *zd;
};

static int damaged(hdb_err *err, int state) { return media_fail(err, 3189, state, NULL); }

/* ---- the media -------------------------------------------------------------- */

media_reader *media_open(const char *path, hdb_err *err)
{
    media_reader *r = calloc(1, sizeof *r);
    if (!r) {
        hdb_raise(err, 701, "default");
        return NULL;
    }
    r->f = fio_open(path, FIO_RDONLY, err);
    if (!r->f || media_read_header(r->f, &r->mh, err) < 0 ||
        media_scan(r->f, &r->mh, &r->ch, err) < 0) {
        fio_close(r->f);
        free(r);
        return NULL;
    }
    return r;
}

void media_close(media_reader *r)
{
    if (!r)
        return;
    media_chain_free(&r->ch);
    fio_close(r->f);
    free(r);
}

const media_header *media_label(const media_reader *r) { return &r->mh; }

int media_set_count(const media_reader *r) { return r->ch.count; }

static const media_set_entry *entry(const media_reader *r, int position)
{
    return position >= 1 && position <= r->ch.count ? &r->ch.sets[position - 1] : NULL;
}

const media_set_header *media_set_at(const media_reader *r, int position)
{
    const media_set_entry *e = entry(r, position);
    return e ? &e->h : NULL;
}

const media_file_entry *media_set_files(const media_reader *r, int position, size_t *n)
{
    const media_set_entry *e = entry(r, position);
    *n = e ? e->nfiles : 0;
    return e ? e->files : NULL;
}

int media_first_unexpired(const media_reader *r, int64_t now)
{
    for (int i = 0; i < r->ch.count; i++)
        if (r->ch.sets[i].h.expiration_date > now)
            return i + 1;
    return 0;
}

int media_tail_error(const media_reader *r, hdb_err *err)
{
    if (r->ch.tail == MEDIA_TAIL_CLEAN)
        return 0;
    if (err)
        *err = r->ch.tail_err;
    return -1;
}

/* The set at `position`, or the reason there is none. */
static const media_set_entry *find_set(const media_reader *r, int position, hdb_err *err)
{
    const media_set_entry *e = entry(r, position);
    if (e)
        return e;
    if (position == r->ch.count + 1 && r->ch.tail != MEDIA_TAIL_CLEAN) {
        if (err)
            *err = r->ch.tail_err;
        return NULL;
    }
    hdb_raise(err, 4038, position, fio_path(r->f));
    return NULL;
}

/* ---- cursors ---------------------------------------------------------------- */

media_cursor *media_cursor_open(media_reader *r, int position, hdb_err *err)
{
    const media_set_entry *e = find_set(r, position, err);
    if (!e)
        return NULL;
    media_cursor *c = calloc(1, sizeof *c);
    if (c) {
        c->r = r;
        c->e = e;
        c->sec = -1;
        c->stored = malloc(MEDIA_BLOCK_RAW);
        c->raw = malloc(MEDIA_BLOCK_RAW);
        c->zd = ZSTD_createDCtx();
    }
    if (!c || !c->stored || !c->raw || !c->zd) {
        media_cursor_close(c);
        hdb_raise(err, 701, "default");
        return NULL;
    }
    return c;
}

void media_cursor_close(media_cursor *c)
{
    if (!c)
        return;
    ZSTD_freeDCtx(c->zd);
    free(c->stored);
    free(c->raw);
    free(c);
}

static void seek_section(media_cursor *c, int sec)
{
    const media_set_meta *m = &c->e->m;
    uint32_t first = 0;
    for (int s = 0; s < sec; s++)
        first += m->sec[s].blocks;
    c->sec = sec;
    c->off = c->e->start + m->sec[sec].offset;
    c->seq = first;
    c->left = m->sec[sec].blocks;
    c->items = 0;
    c->len = c->at = 0;
    c->records = 0;
}

/* Read, check and decompress the next block of the current section. */
static int load_block(media_cursor *c, hdb_err *err)
{
    const media_set_entry *e = c->e;
    uint64_t data_end = e->start + e->m.set_len - MEDIA_TRAILER;
    uint8_t hb[MEDIA_BLOCK_HDR];
    media_block_hdr b;
    if (c->off < e->start + e->m.header_len || c->off + MEDIA_BLOCK_HDR > data_end)
        return damaged(err, ST_BLOCK_HEADER);
    if (fio_pread(c->r->f, hb, sizeof hb, c->off, err) < 0)
        return -1;
    if (media_decode_block_hdr(hb, &b) || b.kind != c->sec + 1 || b.seq != c->seq ||
        c->off + MEDIA_BLOCK_HDR + b.stored_len > data_end)
        return damaged(err, ST_BLOCK_HEADER);
    if (fio_pread(c->r->f, c->stored, b.stored_len, c->off + MEDIA_BLOCK_HDR, err) < 0)
        return -1;
    if (media_block_crc(hb, c->stored, b.stored_len, e->m.salt) != b.crc)
        return damaged(err, ST_BLOCK_CRC);
    c->pay = c->stored;
    if (b.flags & MEDIA_BLOCK_ZSTD) {
        size_t n = ZSTD_decompressDCtx(c->zd, c->raw, MEDIA_BLOCK_RAW, c->stored, b.stored_len);
        if (ZSTD_isError(n) || n != b.raw_len)
            return damaged(err, ST_BLOCK_DECOMPRESS);
        c->pay = c->raw;
    }
    c->chain = crc32c(c->chain, hb, sizeof hb);
    c->off += MEDIA_BLOCK_HDR + b.stored_len;
    c->seq++;
    c->left--;
    c->len = b.raw_len;
    c->at = 0;
    c->records = b.count;
    return 0;
}

/* 1: a record of section `sec` starts at c->pay + c->at; 0: end of stream. */
static int next_record(media_cursor *c, int sec, hdb_err *err)
{
    if (c->sec != sec)
        seek_section(c, sec);
    while (c->records == 0) {
        if (c->at != c->len)
            return damaged(err, ST_BLOCK_RECORDS);
        if (c->left == 0) {
            if (c->items != c->e->m.sec[sec].items)
                return damaged(err, ST_SET_COUNTS);
            return 0;
        }
        if (load_block(c, err) < 0)
            return -1;
    }
    c->records--;
    c->items++;
    return 1;
}

int media_next_page(media_cursor *c, media_page *out, hdb_err *err)
{
    int rc = next_record(c, SEC_PAGES, err);
    if (rc <= 0)
        return rc;
    if (c->len - c->at < MEDIA_PAGE_REC)
        return damaged(err, ST_BLOCK_RECORDS);
    out->file_id = media_get32(c->pay + c->at);
    out->page_no = media_get32(c->pay + c->at + 4);
    out->image = c->pay + c->at + 8;
    c->at += MEDIA_PAGE_REC;
    return 1;
}

int media_next_log(media_cursor *c, media_log_chunk *out, hdb_err *err)
{
    int rc = next_record(c, SEC_LOG, err);
    if (rc <= 0)
        return rc;
    if (c->len - c->at < MEDIA_LOG_REC)
        return damaged(err, ST_BLOCK_RECORDS);
    size_t n = media_get32(c->pay + c->at + 8);
    if (n == 0 || n > c->len - c->at - MEDIA_LOG_REC)
        return damaged(err, ST_BLOCK_RECORDS);
    out->lsn = media_get64(c->pay + c->at);
    out->data = c->pay + c->at + MEDIA_LOG_REC;
    out->len = n;
    c->at += MEDIA_LOG_REC + n;
    return 1;
}

static int next_mark(media_cursor *c, media_mark *m, hdb_err *err)
{
    int rc = next_record(c, SEC_MARKS, err);
    if (rc <= 0)
        return rc;
    if (media_decode_mark(c->pay, c->len, &c->at, m) < 0)
        return damaged(err, ST_BLOCK_RECORDS);
    return 1;
}

static int next_commit(media_cursor *c, media_commit *x, hdb_err *err)
{
    int rc = next_record(c, SEC_COMMITS, err);
    if (rc <= 0)
        return rc;
    if (c->len - c->at < MEDIA_COMMIT_REC)
        return damaged(err, ST_BLOCK_RECORDS);
    x->lsn = media_get64(c->pay + c->at);
    x->time = (int64_t)media_get64(c->pay + c->at + 8);
    c->at += MEDIA_COMMIT_REC;
    return 1;
}

/* Grow *arr to hold one more element of `size` bytes. */
static int grow(void **arr, size_t *cap, size_t n, size_t size, hdb_err *err)
{
    if (n < *cap)
        return 0;
    size_t nc = *cap ? *cap * 2 : 16;
    void *na = realloc(*arr, nc * size);
    if (!na)
        return hdb_raise(err, 701, "default");
    *arr = na;
    *cap = nc;
    return 0;
}

int media_read_marks(media_cursor *c, media_mark **out, size_t *n, hdb_err *err)
{
    media_mark *arr = NULL, m;
    size_t cnt = 0, cap = 0;
    int rc;
    seek_section(c, SEC_MARKS);
    while ((rc = next_mark(c, &m, err)) > 0) {
        if (grow((void **)&arr, &cap, cnt, sizeof *arr, err) < 0) {
            rc = -1;
            break;
        }
        arr[cnt++] = m;
    }
    if (rc < 0) {
        free(arr);
        arr = NULL;
        cnt = 0;
    }
    *out = arr;
    *n = cnt;
    return rc;
}

int media_read_commits(media_cursor *c, media_commit **out, size_t *n, hdb_err *err)
{
    media_commit *arr = NULL, x;
    size_t cnt = 0, cap = 0;
    int rc;
    seek_section(c, SEC_COMMITS);
    while ((rc = next_commit(c, &x, err)) > 0) {
        if (grow((void **)&arr, &cap, cnt, sizeof *arr, err) < 0) {
            rc = -1;
            break;
        }
        arr[cnt++] = x;
    }
    if (rc < 0) {
        free(arr);
        arr = NULL;
        cnt = 0;
    }
    *out = arr;
    *n = cnt;
    return rc;
}

/* ---- VERIFYONLY ------------------------------------------------------------- */

/* Every record of one section, with the page callback for pages. */
static int verify_section(media_cursor *c, int sec, media_page_fn fn, void *ctx,
                          uint64_t *log_bytes, hdb_err *err)
{
    int rc;
    seek_section(c, sec);
    for (;;) {
        if (sec == SEC_PAGES) {
            media_page pg;
            rc = media_next_page(c, &pg, err);
            if (rc > 0 && fn && fn(ctx, &pg, err) < 0)
                return -1;
        } else if (sec == SEC_LOG) {
            media_log_chunk ch;
            rc = media_next_log(c, &ch, err);
            if (rc > 0)
                *log_bytes += ch.len;
        } else if (sec == SEC_MARKS) {
            media_mark m;
            rc = next_mark(c, &m, err);
        } else {
            media_commit x;
            rc = next_commit(c, &x, err);
        }
        if (rc <= 0)
            return rc;
    }
}

int media_verify(media_reader *r, int position, media_page_fn fn, void *ctx, hdb_err *err)
{
    media_cursor *c = media_cursor_open(r, position, err);
    if (!c)
        return -1;
    const media_set_entry *e = c->e;
    /* sections follow each other without gaps, right after the header */
    uint64_t expect = e->start + e->m.header_len, log_bytes = 0;
    uint32_t blocks = 0;
    int rc = 0;
    for (int s = 0; s < SEC_COUNT && !rc; s++) {
        if (!e->m.sec[s].blocks)
            continue;
        if (e->start + e->m.sec[s].offset != expect) {
            rc = damaged(err, ST_SET_COUNTS);
            break;
        }
        rc = verify_section(c, s, fn, ctx, &log_bytes, err);
        expect = c->off;
        blocks += e->m.sec[s].blocks;
    }
    if (!rc && (blocks != e->m.block_count || log_bytes != e->h.log_bytes))
        rc = damaged(err, ST_SET_COUNTS);
    if (!rc && c->chain != e->m.checksum)
        rc = damaged(err, ST_SET_CHECKSUM);
    if (!rc) {
        /* between the last block and the trailer: zeros only */
        uint64_t end = e->start + e->m.set_len - MEDIA_TRAILER;
        size_t pad = (size_t)(end - expect);
        if (end < expect || pad > MEDIA_ALIGN)
            rc = damaged(err, ST_SET_COUNTS);
        else if (pad && (rc = fio_pread(r->f, c->stored, pad, expect, err)) == 0)
            for (size_t i = 0; i < pad && !rc; i++)
                if (c->stored[i])
                    rc = damaged(err, ST_SET_COUNTS);
    }
    media_cursor_close(c);
    return rc;
}
