/*
 * media_scan.c — reading the media header and following the chain of sets.
 *
 * Set n+1 starts where set n ends (its start plus the length in its final
 * header). A set counts only when its header is complete and its trailer,
 * at the end of that length, agrees with it; the walk stops at the first set
 * that does not, and says why, so that readers can report it and the writer
 * knows whether NOINIT may replace it. Only payload blocks are never read
 * here: listing a media costs two small reads per set.
 */
#include "backup/media_int.h"

#include <stdlib.h>
#include <string.h>

int media_fail(hdb_err *err, int number, int state, const char *path)
{
    hdb_raise(err, number, path);
    if (err)
        err->state = state;
    return -1;
}

int media_read_header(fio_file *f, media_header *out, hdb_err *err)
{
    int64_t size = fio_size(f);
    if (size == 0)
        return media_fail(err, 3254, 1, fio_path(f));
    if (size < (int64_t)MEDIA_ALIGN)
        return media_fail(err, 3241, ST_MEDIA_SHORT, fio_path(f));
    uint8_t *buf = malloc(MEDIA_ALIGN);
    if (!buf)
        return hdb_raise(err, 701, "default");
    int rc = fio_pread(f, buf, MEDIA_ALIGN, 0, err);
    if (rc == 0) {
        int st = media_decode_header(buf, out);
        if (st)
            rc = media_fail(err, 3241, st, fio_path(f));
    }
    free(buf);
    return rc;
}

void media_chain_free(media_chain *ch)
{
    for (int i = 0; i < ch->count; i++)
        free(ch->sets[i].files);
    free(ch->sets);
    memset(ch, 0, sizeof *ch);
}

/* The chain ends at ch->end with set count+1 in the state described. */
static void stop(media_chain *ch, int tail, int number, int state, const char *path)
{
    ch->tail = tail;
    media_fail(&ch->tail_err, number, state, path);
}

/* Check the trailer of a set whose final header says it spans [off, off+L). */
static int trailer_agrees(fio_file *f, uint64_t off, const media_set_entry *e, hdb_err *err,
                          int *ok)
{
    uint8_t t[MEDIA_TRAILER];
    media_trailer tr;
    *ok = 0;
    if (fio_pread(f, t, sizeof t, off + e->m.set_len - MEDIA_TRAILER, err) < 0)
        return -1;
    if (media_decode_trailer(t, &tr))
        return 0;
    *ok = tr.position == e->h.position && tr.salt == e->m.salt &&
          !memcmp(tr.backup_set_guid, e->h.backup_set_guid, 16) && tr.set_len == e->m.set_len &&
          tr.block_count == e->m.block_count && tr.checksum == e->m.checksum &&
          tr.header_len == e->m.header_len;
    return 0;
}

int media_scan(fio_file *f, const media_header *mh, media_chain *ch, hdb_err *err)
{
    memset(ch, 0, sizeof *ch);
    const char *path = fio_path(f);
    int64_t sz = fio_size(f);
    uint64_t size = sz > 0 ? (uint64_t)sz : 0;
    ch->file_size = size;
    uint64_t off = MEDIA_ALIGN;
    uint8_t *buf = malloc(MEDIA_ALIGN);
    size_t cap = MEDIA_ALIGN;
    int cap_sets = 0;
    if (!buf)
        return hdb_raise(err, 701, "default");
    for (;;) {
        ch->end = off;
        if (off >= size) {
            ch->tail = MEDIA_TAIL_CLEAN;
            break;
        }
        size_t first = size - off < MEDIA_ALIGN ? (size_t)(size - off) : MEDIA_ALIGN;
        if (fio_pread(f, buf, MEDIA_ALIGN, off, err) < 0)
            goto io_error;
        uint32_t H = media_peek_set_len(buf, first);
        if (!H) {
            stop(ch, MEDIA_TAIL_BAD, 3241, ST_TAIL_NOT_SET, path);
            break;
        }
        if (H < MEDIA_ALIGN || H % MEDIA_ALIGN || H > MEDIA_SET_HDR_MAX) {
            stop(ch, MEDIA_TAIL_BAD, 3189, ST_SET_FIELDS, path);
            break;
        }
        if (off + H > size) {
            stop(ch, MEDIA_TAIL_BAD, 3189, ST_SET_TRUNCATED, path);
            break;
        }
        if (H > cap) {
            uint8_t *nb = realloc(buf, H);
            if (!nb) {
                hdb_raise(err, 701, "default");
                goto io_error;
            }
            buf = nb;
            cap = H;
        }
        if (H > MEDIA_ALIGN &&
            fio_pread(f, buf + MEDIA_ALIGN, H - MEDIA_ALIGN, off + MEDIA_ALIGN, err) < 0)
            goto io_error;
        media_set_entry e = { .start = off };
        int st = media_decode_set(buf, H, &e.h, &e.m, &e.files, &e.nfiles);
        if (st < 0) {
            hdb_raise(err, 701, "default");
            goto io_error;
        }
        if (st) {
            stop(ch, MEDIA_TAIL_BAD, 3189, st, path);
            break;
        }
        if (e.h.position != ch->count + 1 || memcmp(e.m.media_set_guid, mh->media_set_guid, 16)) {
            free(e.files);
            stop(ch, MEDIA_TAIL_BAD, 3189, ST_SET_FIELDS, path);
            break;
        }
        /* A set is begun only at the end of the file, after cutting it there,
         * and its first header is durable before any block: an intact header
         * still in progress is the last thing on the media, never finished. */
        if (e.m.state == MEDIA_SET_IN_PROGRESS) {
            free(e.files);
            stop(ch, MEDIA_TAIL_UNFINISHED, 3256, 1, path);
            break;
        }
        if (e.m.state != MEDIA_SET_COMPLETE || e.m.set_len % MEDIA_ALIGN ||
            e.m.set_len < (uint64_t)H + MEDIA_TRAILER) {
            free(e.files);
            stop(ch, MEDIA_TAIL_BAD, 3189, ST_SET_FIELDS, path);
            break;
        }
        if (off + e.m.set_len > size) {
            free(e.files);
            stop(ch, MEDIA_TAIL_BAD, 3189, ST_SET_TRUNCATED, path);
            break;
        }
        int ok;
        if (trailer_agrees(f, off, &e, err, &ok) < 0) {
            free(e.files);
            goto io_error;
        }
        if (!ok) {
            free(e.files);
            stop(ch, MEDIA_TAIL_BAD, 3189, ST_SET_TRAILER, path);
            break;
        }
        if (ch->count == cap_sets) {
            int n = cap_sets ? cap_sets * 2 : 8;
            media_set_entry *ns = realloc(ch->sets, (size_t)n * sizeof *ns);
            if (!ns) {
                free(e.files);
                hdb_raise(err, 701, "default");
                goto io_error;
            }
            ch->sets = ns;
            cap_sets = n;
        }
        ch->sets[ch->count++] = e;
        off += e.m.set_len;
    }
    free(buf);
    return 0;

io_error:
    free(buf);
    media_chain_free(ch);
    return -1;
}
