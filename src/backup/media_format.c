/*
 * media_format.c — encoding and decoding of the media header, set header,
 * block header and trailer, and of mark records (layout: backup/README.md).
 *
 * Fixed fields sit at fixed offsets; strings follow as u16 length + UTF-8
 * bytes. Decoders never trust a length: every read is bounds-checked, so any
 * bytes at all decode to an error rather than past a buffer.
 */
#include "backup/media_int.h"

#include <stdlib.h>
#include <string.h>

#include "util/crc32c.h"

/* ---- bounded cursors ------------------------------------------------------ */

typedef struct { uint8_t *p; size_t n, at; int bad; } wcur;
typedef struct { const uint8_t *p; size_t n, at; int bad; } rcur;

static void put_str(wcur *c, const char *s, size_t cap)
{
    size_t len = strnlen(s, cap);
    if (c->bad || c->at + 2 + len > c->n) {
        c->bad = 1;
        return;
    }
    media_put16(c->p + c->at, (uint16_t)len);
    memcpy(c->p + c->at + 2, s, len);
    c->at += 2 + len;
}

static void get_str(rcur *c, char *dst, size_t cap)
{
    if (c->bad || c->at + 2 > c->n) {
        c->bad = 1;
        dst[0] = 0;
        return;
    }
    size_t len = media_get16(c->p + c->at);
    if (len > cap || c->at + 2 + len > c->n) {
        c->bad = 1;
        dst[0] = 0;
        return;
    }
    memcpy(dst, c->p + c->at + 2, len);
    dst[len] = 0;
    c->at += 2 + len;
}

/* ---- media header ---------------------------------------------------------- */

void media_encode_header(uint8_t out[MEDIA_ALIGN], const media_header *h)
{
    memset(out, 0, MEDIA_ALIGN);
    media_put32(out + 0, MEDIA_MAGIC_MEDIA);
    media_put16(out + 4, MEDIA_VERSION);
    memcpy(out + 8, h->media_set_guid, 16);
    memcpy(out + 24, h->media_family_guid, 16);
    media_put32(out + 40, h->family_count);
    media_put32(out + 44, h->family_sequence);
    media_put32(out + 48, h->media_sequence);
    media_put32(out + 52, h->mirror_count);
    media_put64(out + 56, (uint64_t)h->media_date);
    media_put32(out + 64, h->software_vendor_id);
    media_put16(out + 68, h->software_major);
    media_put16(out + 70, h->software_minor);
    media_put32(out + 72, h->software_build);
    wcur c = { out, MEDIA_ALIGN - 4, 80, 0 };
    put_str(&c, h->name, MEDIA_NAME_MAX);
    put_str(&c, h->description, MEDIA_DESC_MAX);
    put_str(&c, h->software_name, MEDIA_NAME_MAX);
    media_put32(out + MEDIA_ALIGN - 4, crc32c(0, out, MEDIA_ALIGN - 4));
}

int media_decode_header(const uint8_t in[MEDIA_ALIGN], media_header *h)
{
    memset(h, 0, sizeof *h);
    if (media_get32(in) != MEDIA_MAGIC_MEDIA)
        return ST_MEDIA_MAGIC;
    /* the version before the CRC: a later format may checksum differently */
    if (media_get16(in + 4) != MEDIA_VERSION)
        return ST_MEDIA_VERSION;
    if (media_get32(in + MEDIA_ALIGN - 4) != crc32c(0, in, MEDIA_ALIGN - 4))
        return ST_MEDIA_CRC;
    h->version = media_get16(in + 4);
    memcpy(h->media_set_guid, in + 8, 16);
    memcpy(h->media_family_guid, in + 24, 16);
    h->family_count = media_get32(in + 40);
    h->family_sequence = media_get32(in + 44);
    h->media_sequence = media_get32(in + 48);
    h->mirror_count = media_get32(in + 52);
    h->media_date = (int64_t)media_get64(in + 56);
    h->software_vendor_id = media_get32(in + 64);
    h->software_major = media_get16(in + 68);
    h->software_minor = media_get16(in + 70);
    h->software_build = media_get32(in + 72);
    rcur c = { in, MEDIA_ALIGN - 4, 80, 0 };
    get_str(&c, h->name, MEDIA_NAME_MAX);
    get_str(&c, h->description, MEDIA_DESC_MAX);
    get_str(&c, h->software_name, MEDIA_NAME_MAX);
    if (c.bad || h->family_count != 1)
        return ST_MEDIA_FIELDS;
    return 0;
}

/* ---- set header ------------------------------------------------------------ */

#define SET_STRINGS_MAX (2u * 7 + 6 * MEDIA_NAME_MAX + MEDIA_DESC_MAX)

static size_t file_entry_len(const media_file_entry *f)
{
    return MEDIA_FILE_FIXED + 6 + strnlen(f->logical_name, MEDIA_NAME_MAX) +
           strnlen(f->physical_name, MEDIA_PATH_MAX) + strnlen(f->filegroup_name, MEDIA_NAME_MAX);
}

uint32_t media_set_header_len(const media_file_entry *files, size_t n)
{
    size_t len = MEDIA_SET_FIXED + SET_STRINGS_MAX + 4;
    for (size_t i = 0; i < n; i++)
        len += file_entry_len(&files[i]);
    return (uint32_t)((len + MEDIA_ALIGN - 1) / MEDIA_ALIGN * MEDIA_ALIGN);
}

static void put_file(wcur *c, const media_file_entry *f)
{
    if (c->bad || c->at + MEDIA_FILE_FIXED > c->n) {
        c->bad = 1;
        return;
    }
    uint8_t *p = c->p + c->at;
    memset(p, 0, MEDIA_FILE_FIXED);
    media_put32(p + 0, f->file_id);
    p[4] = (uint8_t)f->type;
    p[5] = f->is_read_only;
    p[6] = f->is_present;
    media_put32(p + 8, f->filegroup_id);
    media_put32(p + 12, f->source_block_size);
    media_put64(p + 16, f->size);
    media_put64(p + 24, f->max_size);
    media_put64(p + 32, f->create_lsn);
    media_put64(p + 40, f->drop_lsn);
    media_put64(p + 48, f->read_only_lsn);
    media_put64(p + 56, f->read_write_lsn);
    media_put64(p + 64, f->differential_base_lsn);
    media_put64(p + 72, f->backup_size);
    memcpy(p + 80, f->unique_id, 16);
    memcpy(p + 96, f->differential_base_guid, 16);
    c->at += MEDIA_FILE_FIXED;
    put_str(c, f->logical_name, MEDIA_NAME_MAX);
    put_str(c, f->physical_name, MEDIA_PATH_MAX);
    put_str(c, f->filegroup_name, MEDIA_NAME_MAX);
}

static void get_file(rcur *c, media_file_entry *f)
{
    memset(f, 0, sizeof *f);
    if (c->bad || c->at + MEDIA_FILE_FIXED > c->n) {
        c->bad = 1;
        return;
    }
    const uint8_t *p = c->p + c->at;
    f->file_id = media_get32(p + 0);
    f->type = (char)p[4];
    f->is_read_only = p[5];
    f->is_present = p[6];
    f->filegroup_id = media_get32(p + 8);
    f->source_block_size = media_get32(p + 12);
    f->size = media_get64(p + 16);
    f->max_size = media_get64(p + 24);
    f->create_lsn = media_get64(p + 32);
    f->drop_lsn = media_get64(p + 40);
    f->read_only_lsn = media_get64(p + 48);
    f->read_write_lsn = media_get64(p + 56);
    f->differential_base_lsn = media_get64(p + 64);
    f->backup_size = media_get64(p + 72);
    memcpy(f->unique_id, p + 80, 16);
    memcpy(f->differential_base_guid, p + 96, 16);
    c->at += MEDIA_FILE_FIXED;
    get_str(c, f->logical_name, MEDIA_NAME_MAX);
    get_str(c, f->physical_name, MEDIA_PATH_MAX);
    get_str(c, f->filegroup_name, MEDIA_NAME_MAX);
}

int media_encode_set(uint8_t *out, uint32_t H, uint16_t position, const media_set_header *h,
                     const media_set_meta *m, const media_file_entry *files, size_t n)
{
    if (H < MEDIA_ALIGN || H % MEDIA_ALIGN || H > MEDIA_SET_HDR_MAX)
        return -1;
    memset(out, 0, H);
    media_put32(out + 0, MEDIA_MAGIC_SET);
    media_put16(out + 4, MEDIA_VERSION);
    out[6] = m->state;
    out[7] = h->compression;
    media_put32(out + 8, H);
    media_put32(out + 12, position);
    media_put64(out + 16, m->set_len);
    media_put32(out + 24, m->salt);
    media_put32(out + 28, m->block_count);
    memcpy(out + 32, m->media_set_guid, 16);
    memcpy(out + 48, h->backup_set_guid, 16);
    out[64] = h->backup_type;
    out[65] = h->recovery_model;
    out[66] = h->device_type;
    out[67] = h->compatibility_level;
    out[68] = h->containment;
    media_put32(out + 72, h->flags);
    media_put32(out + 76, h->database_version);
    media_put16(out + 80, h->sort_order);
    media_put16(out + 82, h->code_page);
    media_put32(out + 84, h->unicode_locale_id);
    media_put32(out + 88, h->unicode_comparison_style);
    media_put32(out + 92, h->software_vendor_id);
    media_put16(out + 96, h->software_major);
    media_put16(out + 98, h->software_minor);
    media_put32(out + 100, h->software_build);
    media_put32(out + 104, m->checksum);
    media_put32(out + 108, (uint32_t)n);
    media_put64(out + 112, (uint64_t)h->expiration_date);
    media_put64(out + 120, (uint64_t)h->database_creation_date);
    media_put64(out + 128, (uint64_t)h->backup_start_date);
    media_put64(out + 136, (uint64_t)h->backup_finish_date);
    media_put64(out + 144, h->first_lsn);
    media_put64(out + 152, h->last_lsn);
    media_put64(out + 160, h->checkpoint_lsn);
    media_put64(out + 168, h->database_backup_lsn);
    media_put64(out + 176, h->differential_base_lsn);
    media_put64(out + 184, h->fork_point_lsn);
    memcpy(out + 192, h->binding_id, 16);
    memcpy(out + 208, h->family_guid, 16);
    memcpy(out + 224, h->recovery_fork_id, 16);
    memcpy(out + 240, h->first_recovery_fork_id, 16);
    memcpy(out + 256, h->differential_base_guid, 16);
    media_put64(out + 272, h->backup_size);
    media_put64(out + 280, h->compressed_backup_size);
    for (int s = 0; s < SEC_COUNT; s++) {
        uint8_t *p = out + 288 + 40 * s;
        media_put64(p + 0, m->sec[s].offset);
        media_put32(p + 8, m->sec[s].blocks);
        media_put64(p + 16, m->sec[s].items);
        media_put64(p + 24, m->sec[s].raw_bytes);
        media_put64(p + 32, m->sec[s].stored_bytes);
    }
    media_put64(out + 448, h->log_stream_first);
    media_put64(out + 456, h->log_stream_end);
    media_put64(out + 464, h->log_bytes);
    wcur c = { out, H - 4, MEDIA_SET_FIXED, 0 };
    put_str(&c, h->name, MEDIA_NAME_MAX);
    put_str(&c, h->description, MEDIA_DESC_MAX);
    put_str(&c, h->user_name, MEDIA_NAME_MAX);
    put_str(&c, h->server_name, MEDIA_NAME_MAX);
    put_str(&c, h->database_name, MEDIA_NAME_MAX);
    put_str(&c, h->machine_name, MEDIA_NAME_MAX);
    put_str(&c, h->collation, MEDIA_NAME_MAX);
    for (size_t i = 0; i < n; i++)
        put_file(&c, &files[i]);
    if (c.bad)
        return -1;
    media_put32(out + H - 4, crc32c(0, out, H - 4));
    return 0;
}

uint32_t media_peek_set_len(const uint8_t *in, size_t n)
{
    if (n < 16 || media_get32(in) != MEDIA_MAGIC_SET)
        return 0;
    return media_get32(in + 8);
}

int media_decode_set(const uint8_t *in, uint32_t H, media_set_header *h, media_set_meta *m,
                     media_file_entry **files, size_t *nfiles)
{
    memset(h, 0, sizeof *h);
    memset(m, 0, sizeof *m);
    *files = NULL;
    *nfiles = 0;
    if (media_get32(in + H - 4) != crc32c(0, in, H - 4))
        return ST_SET_CRC;
    if (media_get16(in + 4) != MEDIA_VERSION || media_get32(in + 8) != H)
        return ST_SET_FIELDS;
    m->state = in[6];
    h->compression = in[7];
    m->header_len = H;
    h->position = (uint16_t)media_get32(in + 12);
    m->set_len = media_get64(in + 16);
    m->salt = media_get32(in + 24);
    m->block_count = media_get32(in + 28);
    memcpy(m->media_set_guid, in + 32, 16);
    memcpy(h->backup_set_guid, in + 48, 16);
    h->backup_type = in[64];
    h->recovery_model = in[65];
    h->device_type = in[66];
    h->compatibility_level = in[67];
    h->containment = in[68];
    h->flags = media_get32(in + 72);
    h->database_version = media_get32(in + 76);
    h->sort_order = media_get16(in + 80);
    h->code_page = media_get16(in + 82);
    h->unicode_locale_id = media_get32(in + 84);
    h->unicode_comparison_style = media_get32(in + 88);
    h->software_vendor_id = media_get32(in + 92);
    h->software_major = media_get16(in + 96);
    h->software_minor = media_get16(in + 98);
    h->software_build = media_get32(in + 100);
    m->checksum = media_get32(in + 104);
    uint32_t n = media_get32(in + 108);
    h->expiration_date = (int64_t)media_get64(in + 112);
    h->database_creation_date = (int64_t)media_get64(in + 120);
    h->backup_start_date = (int64_t)media_get64(in + 128);
    h->backup_finish_date = (int64_t)media_get64(in + 136);
    h->first_lsn = media_get64(in + 144);
    h->last_lsn = media_get64(in + 152);
    h->checkpoint_lsn = media_get64(in + 160);
    h->database_backup_lsn = media_get64(in + 168);
    h->differential_base_lsn = media_get64(in + 176);
    h->fork_point_lsn = media_get64(in + 184);
    memcpy(h->binding_id, in + 192, 16);
    memcpy(h->family_guid, in + 208, 16);
    memcpy(h->recovery_fork_id, in + 224, 16);
    memcpy(h->first_recovery_fork_id, in + 240, 16);
    memcpy(h->differential_base_guid, in + 256, 16);
    h->backup_size = media_get64(in + 272);
    h->compressed_backup_size = media_get64(in + 280);
    for (int s = 0; s < SEC_COUNT; s++) {
        const uint8_t *p = in + 288 + 40 * s;
        m->sec[s].offset = media_get64(p + 0);
        m->sec[s].blocks = media_get32(p + 8);
        m->sec[s].items = media_get64(p + 16);
        m->sec[s].raw_bytes = media_get64(p + 24);
        m->sec[s].stored_bytes = media_get64(p + 32);
    }
    h->log_stream_first = media_get64(in + 448);
    h->log_stream_end = media_get64(in + 456);
    h->log_bytes = media_get64(in + 464);
    h->page_count = m->sec[SEC_PAGES].items;
    h->mark_count = m->sec[SEC_MARKS].items;
    h->commit_count = m->sec[SEC_COMMITS].items;
    rcur c = { in, H - 4, MEDIA_SET_FIXED, 0 };
    get_str(&c, h->name, MEDIA_NAME_MAX);
    get_str(&c, h->description, MEDIA_DESC_MAX);
    get_str(&c, h->user_name, MEDIA_NAME_MAX);
    get_str(&c, h->server_name, MEDIA_NAME_MAX);
    get_str(&c, h->database_name, MEDIA_NAME_MAX);
    get_str(&c, h->machine_name, MEDIA_NAME_MAX);
    get_str(&c, h->collation, MEDIA_NAME_MAX);
    if (c.bad || n > MEDIA_MAX_FILES)
        return ST_SET_FIELDS;
    if (n) {
        *files = calloc(n, sizeof **files);
        if (!*files)
            return -1;
        for (uint32_t i = 0; i < n; i++)
            get_file(&c, &(*files)[i]);
        if (c.bad) {
            free(*files);
            *files = NULL;
            return ST_SET_FIELDS;
        }
        *nfiles = n;
    }
    return 0;
}

/* ---- trailer --------------------------------------------------------------- */

void media_encode_trailer(uint8_t out[MEDIA_TRAILER], const media_trailer *t)
{
    memset(out, 0, MEDIA_TRAILER);
    media_put32(out + 0, MEDIA_MAGIC_TRAILER);
    media_put16(out + 4, MEDIA_VERSION);
    media_put32(out + 8, t->position);
    media_put32(out + 12, t->salt);
    memcpy(out + 16, t->backup_set_guid, 16);
    media_put64(out + 32, t->set_len);
    media_put32(out + 40, t->block_count);
    media_put32(out + 44, t->checksum);
    media_put32(out + 48, t->header_len);
    media_put32(out + 60, crc32c(0, out, 60));
}

int media_decode_trailer(const uint8_t in[MEDIA_TRAILER], media_trailer *t)
{
    memset(t, 0, sizeof *t);
    if (media_get32(in) != MEDIA_MAGIC_TRAILER || media_get16(in + 4) != MEDIA_VERSION ||
        media_get32(in + 60) != crc32c(0, in, 60))
        return ST_SET_TRAILER;
    t->position = media_get32(in + 8);
    t->salt = media_get32(in + 12);
    memcpy(t->backup_set_guid, in + 16, 16);
    t->set_len = media_get64(in + 32);
    t->block_count = media_get32(in + 40);
    t->checksum = media_get32(in + 44);
    t->header_len = media_get32(in + 48);
    return 0;
}

/* ---- blocks ---------------------------------------------------------------- */

void media_encode_block_hdr(uint8_t out[MEDIA_BLOCK_HDR], const media_block_hdr *b)
{
    memset(out, 0, MEDIA_BLOCK_HDR);
    media_put32(out + 0, b->crc);
    media_put32(out + 4, MEDIA_MAGIC_BLOCK);
    out[8] = b->kind;
    out[9] = b->flags;
    media_put32(out + 12, b->seq);
    media_put32(out + 16, b->stored_len);
    media_put32(out + 20, b->raw_len);
    media_put32(out + 24, b->count);
}

int media_decode_block_hdr(const uint8_t in[MEDIA_BLOCK_HDR], media_block_hdr *b)
{
    b->crc = media_get32(in + 0);
    b->kind = in[8];
    b->flags = in[9];
    b->seq = media_get32(in + 12);
    b->stored_len = media_get32(in + 16);
    b->raw_len = media_get32(in + 20);
    b->count = media_get32(in + 24);
    if (media_get32(in + 4) != MEDIA_MAGIC_BLOCK || b->kind < 1 || b->kind > SEC_COUNT ||
        (b->flags & ~MEDIA_BLOCK_ZSTD) || b->raw_len == 0 || b->raw_len > MEDIA_BLOCK_RAW ||
        b->stored_len == 0 || b->stored_len > b->raw_len ||
        (!(b->flags & MEDIA_BLOCK_ZSTD) && b->stored_len != b->raw_len))
        return ST_BLOCK_HEADER;
    return 0;
}

uint32_t media_block_crc(const uint8_t hdr[MEDIA_BLOCK_HDR], const void *payload, size_t n,
                         uint32_t salt)
{
    uint8_t s[4];
    media_put32(s, salt);
    uint32_t c = crc32c(0, hdr + 4, MEDIA_BLOCK_HDR - 4);
    c = crc32c(c, payload, n);
    return crc32c(c, s, 4);
}

/* ---- marks ----------------------------------------------------------------- */

size_t media_encode_mark(uint8_t *out, size_t cap, const media_mark *m)
{
    if (cap < 16)
        return 0;
    media_put64(out, m->lsn);
    media_put64(out + 8, (uint64_t)m->time);
    wcur c = { out, cap, 16, 0 };
    put_str(&c, m->name, MEDIA_NAME_MAX);
    put_str(&c, m->description, MEDIA_DESC_MAX);
    put_str(&c, m->user_name, MEDIA_NAME_MAX);
    return c.bad ? 0 : c.at;
}

int media_decode_mark(const uint8_t *in, size_t n, size_t *at, media_mark *m)
{
    memset(m, 0, sizeof *m);
    if (*at + 16 > n)
        return -1;
    m->lsn = media_get64(in + *at);
    m->time = (int64_t)media_get64(in + *at + 8);
    rcur c = { in, n, *at + 16, 0 };
    get_str(&c, m->name, MEDIA_NAME_MAX);
    get_str(&c, m->description, MEDIA_DESC_MAX);
    get_str(&c, m->user_name, MEDIA_NAME_MAX);
    if (c.bad)
        return -1;
    *at = c.at;
    return 0;
}
