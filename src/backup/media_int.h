/*
 * media_int.h — what the media writer, scanner and reader share: the layout
 * constants, the encoders/decoders of every on-disk structure (media_format.c)
 * and the walk over a media's chain of sets (media_scan.c). Not an API.
 * The layout itself is described byte by byte in backup/README.md.
 */
#ifndef HDB_BACKUP_MEDIA_INT_H
#define HDB_BACKUP_MEDIA_INT_H

#include <stddef.h>
#include <stdint.h>

#include "backup/media.h"
#include "os/fio.h"

#define MEDIA_VERSION       1
#define MEDIA_ALIGN         4096u          /* media header size; sets start and end on it */
#define MEDIA_BLOCK_HDR     32u
#define MEDIA_BLOCK_RAW     (1u << 20)     /* payload of one block before compression */
#define MEDIA_TRAILER       64u
#define MEDIA_SET_FIXED     472u           /* set header bytes before its strings */
#define MEDIA_FILE_FIXED    112u           /* file entry bytes before its strings */
#define MEDIA_SET_HDR_MAX   (1u << 20)
#define MEDIA_PAGE_REC      (8u + PAGE_SIZE)
#define MEDIA_LOG_REC       16u            /* log run header: u64 lsn, u32 len, u32 0 */
#define MEDIA_COMMIT_REC    16u

#define MEDIA_MAGIC_MEDIA   0x4D424448u    /* "HDBM" */
#define MEDIA_MAGIC_SET     0x53424448u    /* "HDBS" */
#define MEDIA_MAGIC_BLOCK   0x4B424448u    /* "HDBK" */
#define MEDIA_MAGIC_TRAILER 0x54424448u    /* "HDBT" */

enum { MEDIA_SET_IN_PROGRESS = 1, MEDIA_SET_COMPLETE = 2 };

/* Sections of a set, in the order they are written. Block kind = section + 1. */
enum { SEC_PAGES = 0, SEC_LOG = 1, SEC_MARKS = 2, SEC_COMMITS = 3, SEC_COUNT = 4 };

enum { MEDIA_BLOCK_ZSTD = 1 };

/* hdb_err.state of each detection site (README, "Errors"). */
enum {
    ST_MEDIA_SHORT = 1, ST_MEDIA_MAGIC = 2, ST_MEDIA_VERSION = 3, ST_MEDIA_CRC = 4,
    ST_MEDIA_FIELDS = 5, ST_TAIL_NOT_SET = 6,
    ST_SET_CRC = 1, ST_SET_FIELDS = 2, ST_SET_TRAILER = 3, ST_SET_TRUNCATED = 4,
    ST_BLOCK_HEADER = 5, ST_BLOCK_CRC = 6, ST_BLOCK_DECOMPRESS = 7, ST_BLOCK_RECORDS = 8,
    ST_SET_CHECKSUM = 9, ST_SET_COUNTS = 10,
};

typedef struct media_section {
    uint64_t offset;          /* first block, from the set's start; 0 if none */
    uint32_t blocks;
    uint64_t items;           /* page records, log runs, marks, commits */
    uint64_t raw_bytes;       /* payload before compression */
    uint64_t stored_bytes;    /* payload as stored */
} media_section;

/* The parts of a set header that are not HEADERONLY columns. */
typedef struct media_set_meta {
    uint8_t  state;           /* MEDIA_SET_* */
    uint32_t header_len;      /* H: multiple of MEDIA_ALIGN */
    uint64_t set_len;         /* L: header, blocks, padding, trailer; 0 in progress */
    uint32_t salt;            /* random per set, in every block checksum */
    uint32_t block_count;
    uint32_t checksum;        /* chained over the block headers */
    uint8_t  media_set_guid[16];
    media_section sec[SEC_COUNT];
} media_set_meta;

typedef struct media_trailer {
    uint32_t position, salt;
    uint8_t  backup_set_guid[16];
    uint64_t set_len;
    uint32_t block_count, checksum, header_len;
} media_trailer;

typedef struct media_block_hdr {
    uint32_t crc;
    uint8_t  kind, flags;
    uint32_t seq, stored_len, raw_len, count;
} media_block_hdr;

/* ---- little-endian fields ---- */

static inline void media_put16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); }
static inline void media_put32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}
static inline void media_put64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}
static inline uint16_t media_get16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static inline uint32_t media_get32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static inline uint64_t media_get64(const uint8_t *p)
{
    return (uint64_t)media_get32(p) | (uint64_t)media_get32(p + 4) << 32;
}

/* ---- media_format.c: encoders return bytes used; decoders 0 or an ST_* ---- */

void media_encode_header(uint8_t out[MEDIA_ALIGN], const media_header *h);
int  media_decode_header(const uint8_t in[MEDIA_ALIGN], media_header *h);

/* H for a set with these files: room for the largest strings the header
 * fields can hold, so the final header always fits where the first one was. */
uint32_t media_set_header_len(const media_file_entry *files, size_t n);
/* Encode into out[0, H) including the CRC; -1 if it does not fit. */
int  media_encode_set(uint8_t *out, uint32_t H, uint16_t position, const media_set_header *h,
                      const media_set_meta *m, const media_file_entry *files, size_t n);
/* The header length a set region claims (0 if the first bytes are not a set). */
uint32_t media_peek_set_len(const uint8_t *in, size_t n);
/* Decode a whole region of H bytes; *files is malloc'd. */
int  media_decode_set(const uint8_t *in, uint32_t H, media_set_header *h, media_set_meta *m,
                      media_file_entry **files, size_t *nfiles);

void media_encode_trailer(uint8_t out[MEDIA_TRAILER], const media_trailer *t);
int  media_decode_trailer(const uint8_t in[MEDIA_TRAILER], media_trailer *t);

void media_encode_block_hdr(uint8_t out[MEDIA_BLOCK_HDR], const media_block_hdr *b);
int  media_decode_block_hdr(const uint8_t in[MEDIA_BLOCK_HDR], media_block_hdr *b);
/* CRC-32C of header bytes [4, 32), then the stored payload, then the salt. */
uint32_t media_block_crc(const uint8_t hdr[MEDIA_BLOCK_HDR], const void *payload, size_t n,
                         uint32_t salt);

/* A mark record; encode returns 0 if it does not fit in cap. */
size_t media_encode_mark(uint8_t *out, size_t cap, const media_mark *m);
/* Decode the mark at in[*at]; advances *at; -1 if malformed. */
int    media_decode_mark(const uint8_t *in, size_t n, size_t *at, media_mark *m);

/* ---- media_scan.c: the chain of sets ---- */

typedef struct media_set_entry {
    uint64_t start;                    /* file offset of the set's header */
    media_set_header h;
    media_set_meta   m;
    media_file_entry *files;
    size_t           nfiles;
} media_set_entry;

enum { MEDIA_TAIL_CLEAN = 0, MEDIA_TAIL_UNFINISHED = 1, MEDIA_TAIL_BAD = 2 };

typedef struct media_chain {
    media_set_entry *sets;             /* the valid sets, position i+1 at [i] */
    int      count;
    uint64_t end;                      /* where the valid sets end */
    uint64_t file_size;
    int      tail;                     /* MEDIA_TAIL_*: what follows `end` */
    hdb_err  tail_err;                 /* why set count+1 is not valid */
} media_chain;

/* Read and check the media header. */
int  media_read_header(fio_file *f, media_header *out, hdb_err *err);
/* Follow the sets from the media header on. -1 only for I/O or memory
 * errors; damage ends the chain and is described in ch->tail/tail_err. */
int  media_scan(fio_file *f, const media_header *mh, media_chain *ch, hdb_err *err);
void media_chain_free(media_chain *ch);

/* 3189/3241/... with a detection-site state. */
int media_fail(hdb_err *err, int number, int state, const char *path);

#endif
