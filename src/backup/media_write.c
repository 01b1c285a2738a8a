/*
 * media_write.c — appending one backup set to a media file.
 *
 * The order of writes is what makes a set either valid or recognisably
 * unfinished, never something in between:
 *
 *   begin   cut the file where the set starts (INIT: after the media header,
 *           FORMAT: to nothing, then a new media header), write the set
 *           header marked IN PROGRESS, fdatasync
 *   stream  blocks of up to 1 MiB, each checksummed (and compressed), written
 *           one after another with one pwrite each
 *   finish  zero padding + trailer, fdatasync; the final header (COMPLETE,
 *           length, counts, checksum) over the first one, fdatasync
 *
 * A crash before the last write leaves an intact IN PROGRESS header: readers
 * report 3256 and the next NOINIT starts over at the same place. A crash
 * during that write leaves a header whose checksum fails: 3189, never valid.
 * Earlier sets are never written to.
 */
#include "backup/media_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <zstd.h>

#include "util/crc32c.h"

#define NO_RUN SIZE_MAX

struct media_writer {
    fio_file        *f;
    int              created;        /* new file: its directory entry is synced at finish */
    media_header     mh;
    media_set_header h;
    media_set_meta   m;
    media_file_entry *files;
    size_t           nfiles;
    uint64_t         start;          /* the set's first byte; abort cuts back to it */
    uint64_t         off;            /* where the next block goes */
    int              sec;            /* current section, -1 before the first */
    int              failed;         /* a write failed: only abort is allowed */
    uint8_t         *blk;            /* block header + raw payload being filled */
    size_t           used;           /* payload bytes in blk */
    uint32_t         count;          /* records in blk */
    size_t           run;            /* payload offset of the open log run, or NO_RUN */
    int              log_started;
    lsn_t            log_end;
    size_t           last_file;      /* file entry of the previous page (cache) */
    ZSTD_CCtx       *zc;
    int              level;
    uint8_t         *zbuf;
    size_t           zcap;
};

static int64_t now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void random_bytes(void *out, size_t n)
{
    if (getrandom(out, n, 0) == (ssize_t)n)
        return;
    /* no entropy source: unique enough for identities, never for secrets */
    static _Atomic uint64_t ctr;
    uint64_t x = (uint64_t)now_us() ^ ((uint64_t)++ctr << 48);
    for (size_t i = 0; i < n; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        ((uint8_t *)out)[i] = (uint8_t)x;
    }
}

static int is_zero(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i])
            return 0;
    return 1;
}

static int misuse(hdb_err *err, int state)
{
    hdb_raise(err, 3270);
    if (err)
        err->state = state;
    return -1;
}

static void writer_free(media_writer *w)
{
    if (!w)
        return;
    fio_close(w->f);
    ZSTD_freeCCtx(w->zc);
    free(w->zbuf);
    free(w->blk);
    free(w->files);
    free(w);
}

/* Cut the file back to where the set began and make that durable. */
static int cut_back(media_writer *w, hdb_err *err)
{
    if (fio_resize(w->f, w->start, err) < 0)
        return -1;
    return fio_sync(w->f, err);  /* a given-up set must not reappear after a crash */
}

/* ---- begin ------------------------------------------------------------------ */

static fio_file *open_media(const char *path, int *created, hdb_err *err)
{
    hdb_err e = {0};
    fio_file *f = fio_open(path, 0, &e);
    *created = 0;
    if (f)
        return f;
    if (fio_last_errno() != ENOENT) {
        if (err)
            *err = e;
        return NULL;
    }
    *created = 1;
    return fio_open(path, FIO_CREATE | FIO_EXCL, err);
}

static void new_media_header(media_header *mh, const media_write_opts *o)
{
    memset(mh, 0, sizeof *mh);
    mh->version = MEDIA_VERSION;
    random_bytes(mh->media_set_guid, 16);
    random_bytes(mh->media_family_guid, 16);
    mh->family_count = mh->family_sequence = mh->media_sequence = mh->mirror_count = 1;
    mh->media_date = now_us();
    mh->software_vendor_id = o->software_vendor_id;
    mh->software_major = o->software_major;
    mh->software_minor = o->software_minor;
    mh->software_build = o->software_build;
    snprintf(mh->name, sizeof mh->name, "%s", o->media_name ? o->media_name : "");
    snprintf(mh->description, sizeof mh->description, "%s",
             o->media_description ? o->media_description : "");
    snprintf(mh->software_name, sizeof mh->software_name, "%s",
             o->software_name ? o->software_name : "hadrdb");
}

/* Decide where the set goes: fills w->mh, w->start, w->h.position, and
 * *fresh when a new media header must be written first. */
static int place_set(media_writer *w, const media_write_opts *o, int *fresh, hdb_err *err)
{
    int64_t size = fio_size(w->f);
    *fresh = o->mode == MEDIA_FORMAT || size == 0;
    w->start = MEDIA_ALIGN;
    w->h.position = 1;
    if (*fresh) {
        new_media_header(&w->mh, o);
        return 0;
    }
    if (media_read_header(w->f, &w->mh, err) < 0)
        return -1;
    if (o->mode == MEDIA_INIT)
        return 0;
    media_chain ch;
    if (media_scan(w->f, &w->mh, &ch, err) < 0)
        return -1;
    /* an unfinished set was never valid, so NOINIT may take its place; damage
     * is left for a person to look at (HEADERONLY, VERIFYONLY, then FORMAT) */
    int bad = ch.tail == MEDIA_TAIL_BAD;
    w->start = ch.end;
    w->h.position = (uint16_t)(ch.count + 1);
    media_chain_free(&ch);
    if (bad)
        return media_fail(err, 3266, 1, fio_path(w->f));
    if (w->h.position == 0)  /* 65535 sets: positions are smallint */
        return misuse(err, 2);
    return 0;
}

media_writer *media_write_begin(const char *path, const media_write_opts *o,
                                const media_set_header *header,
                                const media_file_entry *files, size_t nfiles, hdb_err *err)
{
    if (!path || !o || !header || (nfiles && !files) || nfiles > MEDIA_MAX_FILES ||
        o->mode < MEDIA_NOINIT || o->mode > MEDIA_FORMAT ||
        (o->compression != MEDIA_COMPRESS_NONE && o->compression != MEDIA_COMPRESS_ZSTD)) {
        misuse(err, 1);
        return NULL;
    }
    media_writer *w = calloc(1, sizeof *w);
    if (!w || !(w->blk = malloc(MEDIA_BLOCK_HDR + MEDIA_BLOCK_RAW)) ||
        (nfiles && !(w->files = malloc(nfiles * sizeof *files)))) {
        writer_free(w);
        hdb_raise(err, 701, "default");
        return NULL;
    }
    w->h = *header;
    /* what the writer counts starts from nothing, whatever the caller passed */
    w->h.backup_size = w->h.compressed_backup_size = w->h.page_count = w->h.log_bytes = 0;
    w->h.log_stream_first = w->h.log_stream_end = w->h.mark_count = w->h.commit_count = 0;
    if (nfiles)
        memcpy(w->files, files, nfiles * sizeof *files);
    w->nfiles = nfiles;
    for (size_t i = 0; i < nfiles; i++)
        w->files[i].backup_size = 0;
    w->sec = -1;
    w->run = NO_RUN;
    if (o->compression == MEDIA_COMPRESS_ZSTD) {
        w->zcap = MEDIA_BLOCK_HDR + ZSTD_compressBound(MEDIA_BLOCK_RAW);
        w->zc = ZSTD_createCCtx();
        w->zbuf = malloc(w->zcap);
        w->level = o->compression_level ? o->compression_level : 1;
        if (!w->zc || !w->zbuf) {
            writer_free(w);
            hdb_raise(err, 701, "default");
            return NULL;
        }
    }
    w->f = open_media(path, &w->created, err);
    if (!w->f) {
        writer_free(w);
        return NULL;
    }
    int fresh;
    if (place_set(w, o, &fresh, err) < 0) {
        writer_free(w);
        return NULL;
    }

    w->h.compression = (uint8_t)o->compression;
    if (is_zero(w->h.backup_set_guid, 16))
        random_bytes(w->h.backup_set_guid, 16);
    if (!w->h.backup_start_date)
        w->h.backup_start_date = now_us();
    w->m.state = MEDIA_SET_IN_PROGRESS;
    w->m.header_len = media_set_header_len(w->files, nfiles);
    memcpy(w->m.media_set_guid, w->mh.media_set_guid, 16);
    random_bytes(&w->m.salt, sizeof w->m.salt);

    uint32_t H = w->m.header_len;
    uint8_t *buf = malloc(H > MEDIA_ALIGN ? H : MEDIA_ALIGN);
    int rc = buf ? 0 : hdb_raise(err, 701, "default");
    if (!rc && media_encode_set(buf, H, w->h.position, &w->h, &w->m, w->files, nfiles) < 0)
        rc = misuse(err, 3);
    if (!rc && fresh) {
        media_header mh = w->mh;
        rc = fio_resize(w->f, 0, err);
        if (!rc) {
            uint8_t *mb = malloc(MEDIA_ALIGN);
            rc = mb ? 0 : hdb_raise(err, 701, "default");
            if (mb) {
                media_encode_header(mb, &mh);
                rc = fio_pwrite(w->f, mb, MEDIA_ALIGN, 0, err);
                free(mb);
            }
        }
    }
    if (!rc && !fresh)
        rc = fio_resize(w->f, w->start, err);
    if (!rc)
        rc = fio_pwrite(w->f, buf, H, w->start, err);
    /* The cut and the IN PROGRESS header are durable before any block: from
     * here on a crash leaves a set readers call unfinished, never garbage. */
    if (!rc)
        rc = fio_sync(w->f, err);
    free(buf);
    if (rc) {
        hdb_err ignore;
        cut_back(w, &ignore);
        writer_free(w);
        return NULL;
    }
    w->off = w->start + H;
    return w;
}

media_set_header *media_writer_header(media_writer *w) { return &w->h; }

uint64_t media_writer_bytes(const media_writer *w) { return w->off - w->start; }

/* ---- blocks ----------------------------------------------------------------- */

static int flush_block(media_writer *w, hdb_err *err)
{
    if (!w->used)
        return 0;
    uint8_t *out = w->blk;
    size_t stored = w->used;
    uint8_t flags = 0;
    if (w->zc) {
        size_t z = ZSTD_compressCCtx(w->zc, w->zbuf + MEDIA_BLOCK_HDR, w->zcap - MEDIA_BLOCK_HDR,
                                     w->blk + MEDIA_BLOCK_HDR, w->used, w->level);
        /* keep a block raw when it does not shrink (already compressed data) */
        if (!ZSTD_isError(z) && z < w->used) {
            out = w->zbuf;
            stored = z;
            flags = MEDIA_BLOCK_ZSTD;
        }
    }
    media_block_hdr b = { .kind = (uint8_t)(w->sec + 1), .flags = flags, .seq = w->m.block_count,
                          .stored_len = (uint32_t)stored, .raw_len = (uint32_t)w->used,
                          .count = w->count };
    media_encode_block_hdr(out, &b);
    media_put32(out, media_block_crc(out, out + MEDIA_BLOCK_HDR, stored, w->m.salt));
    if (fio_pwrite(w->f, out, MEDIA_BLOCK_HDR + stored, w->off, err) < 0) {
        w->failed = 1;
        return -1;
    }
    /* the whole-set checksum chains the block headers, each holding the
     * checksum of its payload: every byte covered, no second pass over it */
    w->m.checksum = crc32c(w->m.checksum, out, MEDIA_BLOCK_HDR);
    media_section *s = &w->m.sec[w->sec];
    if (!s->blocks)
        s->offset = w->off - w->start;
    s->blocks++;
    s->items += w->count;
    s->raw_bytes += w->used;
    s->stored_bytes += stored;
    w->m.block_count++;
    w->off += MEDIA_BLOCK_HDR + stored;
    w->used = 0;
    w->count = 0;
    w->run = NO_RUN;
    return 0;
}

/* Sections come in a fixed order so each can be read on its own. */
static int enter_section(media_writer *w, int sec, hdb_err *err)
{
    if (w->failed)
        return misuse(err, 4);
    if (sec < w->sec)
        return misuse(err, 5);
    if (sec > w->sec) {
        if (flush_block(w, err) < 0)
            return -1;
        w->sec = sec;
    }
    return 0;
}

static int make_room(media_writer *w, size_t need, hdb_err *err)
{
    return w->used + need > MEDIA_BLOCK_RAW ? flush_block(w, err) : 0;
}

int media_write_page(media_writer *w, uint32_t file_id, uint32_t page_no, const void *image,
                     hdb_err *err)
{
    if (enter_section(w, SEC_PAGES, err) < 0 || make_room(w, MEDIA_PAGE_REC, err) < 0)
        return -1;
    uint8_t *p = w->blk + MEDIA_BLOCK_HDR + w->used;
    media_put32(p, file_id);
    media_put32(p + 4, page_no);
    memcpy(p + 8, image, PAGE_SIZE);
    w->used += MEDIA_PAGE_REC;
    w->count++;
    w->h.page_count++;
    size_t i = w->last_file;
    if (i >= w->nfiles || w->files[i].file_id != file_id || w->files[i].type != 'D')
        for (i = 0; i < w->nfiles; i++)
            if (w->files[i].file_id == file_id && w->files[i].type == 'D')
                break;
    if (i < w->nfiles) {
        w->files[i].backup_size += PAGE_SIZE;
        w->last_file = i;
    }
    return 0;
}

int media_write_log(media_writer *w, lsn_t lsn, const void *bytes, size_t n, hdb_err *err)
{
    if (w->log_started && lsn < w->log_end)
        return misuse(err, 6);
    if (enter_section(w, SEC_LOG, err) < 0)
        return -1;
    const uint8_t *src = bytes;
    while (n) {
        if (w->run == NO_RUN || lsn != w->log_end) {
            if (make_room(w, MEDIA_LOG_REC + 1, err) < 0)
                return -1;
            uint8_t *p = w->blk + MEDIA_BLOCK_HDR + w->used;
            media_put64(p, lsn);
            media_put64(p + 8, 0);
            w->run = w->used;
            w->used += MEDIA_LOG_REC;
            w->count++;
            if (!w->log_started)
                w->h.log_stream_first = lsn;
            w->log_started = 1;
            w->log_end = lsn;
        }
        size_t k = MEDIA_BLOCK_RAW - w->used;
        if (k > n)
            k = n;
        memcpy(w->blk + MEDIA_BLOCK_HDR + w->used, src, k);
        uint8_t *len = w->blk + MEDIA_BLOCK_HDR + w->run + 8;
        media_put32(len, media_get32(len) + (uint32_t)k);
        w->used += k;
        src += k;
        n -= k;
        lsn += k;
        w->log_end = lsn;
        w->h.log_bytes += k;
        w->h.log_stream_end = lsn;
        if (w->used == MEDIA_BLOCK_RAW && flush_block(w, err) < 0)
            return -1;
    }
    return 0;
}

int media_write_mark(media_writer *w, const media_mark *m, hdb_err *err)
{
    if (enter_section(w, SEC_MARKS, err) < 0)
        return -1;
    for (int tries = 0; tries < 2; tries++) {
        size_t k = media_encode_mark(w->blk + MEDIA_BLOCK_HDR + w->used,
                                     MEDIA_BLOCK_RAW - w->used, m);
        if (k) {
            w->used += k;
            w->count++;
            w->h.mark_count++;
            return 0;
        }
        if (flush_block(w, err) < 0)
            return -1;
    }
    return misuse(err, 7);
}

int media_write_commit(media_writer *w, lsn_t lsn, int64_t time, hdb_err *err)
{
    if (enter_section(w, SEC_COMMITS, err) < 0 || make_room(w, MEDIA_COMMIT_REC, err) < 0)
        return -1;
    uint8_t *p = w->blk + MEDIA_BLOCK_HDR + w->used;
    media_put64(p, lsn);
    media_put64(p + 8, (uint64_t)time);
    w->used += MEDIA_COMMIT_REC;
    w->count++;
    w->h.commit_count++;
    return 0;
}

/* ---- finish / abort --------------------------------------------------------- */

static int finish(media_writer *w, hdb_err *err)
{
    if (w->failed)
        return misuse(err, 4);
    if (flush_block(w, err) < 0)
        return -1;
    uint64_t data_end = w->off;
    uint64_t L = (data_end - w->start + MEDIA_TRAILER + MEDIA_ALIGN - 1) / MEDIA_ALIGN * MEDIA_ALIGN;
    w->m.state = MEDIA_SET_COMPLETE;
    w->m.set_len = L;

    uint64_t raw = 0, stored = 0;
    for (int s = 0; s < SEC_COUNT; s++) {
        raw += w->m.sec[s].raw_bytes;
        stored += w->m.sec[s].stored_bytes;
    }
    media_set_header *h = &w->h;
    h->compression = w->zc ? MEDIA_COMPRESS_ZSTD : MEDIA_COMPRESS_NONE;
    h->compressed_backup_size = L;
    h->backup_size = L - stored + raw;
    h->page_count = w->m.sec[SEC_PAGES].items;
    h->mark_count = w->m.sec[SEC_MARKS].items;
    h->commit_count = w->m.sec[SEC_COMMITS].items;
    if (!w->log_started)
        h->log_stream_first = h->log_stream_end = 0;
    if (!h->backup_finish_date)
        h->backup_finish_date = now_us();
    for (size_t i = 0; i < w->nfiles; i++)
        if (w->files[i].type == 'L') {
            w->files[i].backup_size = h->log_bytes;
            break;
        }

    size_t tail = (size_t)(w->start + L - data_end);
    uint32_t H = w->m.header_len;
    uint8_t *buf = calloc(1, tail > H ? tail : H);
    if (!buf)
        return hdb_raise(err, 701, "default");
    media_trailer t = { .position = h->position, .salt = w->m.salt, .set_len = L,
                        .block_count = w->m.block_count, .checksum = w->m.checksum,
                        .header_len = H };
    memcpy(t.backup_set_guid, h->backup_set_guid, 16);
    media_encode_trailer(buf + tail - MEDIA_TRAILER, &t);
    int rc = fio_pwrite(w->f, buf, tail, data_end, err);
    /* Every block and the trailer are on disk before the header says so. */
    if (!rc)
        rc = fio_sync(w->f, err);
    if (!rc && media_encode_set(buf, H, h->position, h, &w->m, w->files, w->nfiles) < 0)
        rc = misuse(err, 3);
    if (!rc)
        rc = fio_pwrite(w->f, buf, H, w->start, err);
    /* The durability point of BACKUP: from here the set is valid. */
    if (!rc)
        rc = fio_sync(w->f, err);
    free(buf);
    if (!rc && w->created) {
        /* a new media file must also survive as a directory entry */
        rc = fio_sync_parent(fio_path(w->f), err);
    }
    return rc;
}

int media_write_finish(media_writer *w, hdb_err *err)
{
    int rc = finish(w, err);
    if (rc < 0) {
        hdb_err ignore;
        cut_back(w, &ignore);
    }
    writer_free(w);
    return rc;
}

int media_write_abort(media_writer *w, hdb_err *err)
{
    if (!w)
        return 0;
    int rc = cut_back(w, err);
    writer_free(w);
    return rc;
}
