/*
 * tds_int.h — what the files of src/tds share and nobody else should use
 * (tests and the fuzz target include it to reach the encoders directly).
 *
 * Three small tools carry the whole module:
 *   tds_rd    a bounds-checked cursor over received bytes: every read says
 *             whether the bytes were there, so decoders cannot over-read;
 *   tds_buf   a growable byte buffer for building tokens whose length prefix
 *             must be known before they are appended to the message;
 *   tds_sink  where encoded values go: the connection's packet stream (rows
 *             of any size stream out) or a tds_buf (tests, small tokens).
 */
#ifndef HDB_TDS_INT_H
#define HDB_TDS_INT_H

#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tds/tds.h"

/* ------------------------------------------------------------ errors */

#define TDS_ERR_PROTOCOL   4002    /* malformed stream */
#define TDS_ERR_NETWORK    4014    /* read/write failure, peer gone */
#define TDS_ERR_LOGIN      17832   /* structurally invalid LOGIN7 */
#define TDS_ERR_RPC_TYPE   8009    /* unknown parameter data type */
#define TDS_ERR_RPC_LEN    8016    /* bad data/metadata length */
#define TDS_ERR_RPC_VALUE  8023    /* invalid value */
#define TDS_ERR_RPC_NPARAM 8003    /* too many parameters */

/* Fills *err with number/severity and a printf-formatted text; returns -1. */
int tds_fail(hdb_err *err, int number, int severity, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* ------------------------------------------------------------ reading cursor */

static inline uint16_t get_u16le(const uint8_t *b) { return (uint16_t)(b[0] | b[1] << 8); }
static inline uint32_t get_u32le(const uint8_t *b)
{ return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24; }

typedef struct tds_rd {
    const uint8_t *p;
    size_t len;
    size_t pos;
} tds_rd;

static inline void rd_init(tds_rd *r, const uint8_t *p, size_t len)
{ r->p = p; r->len = len; r->pos = 0; }
static inline size_t rd_left(const tds_rd *r) { return r->len - r->pos; }
static inline int rd_skip(tds_rd *r, size_t n)
{ if (rd_left(r) < n) return -1; r->pos += n; return 0; }
static inline int rd_bytes(tds_rd *r, size_t n, const uint8_t **out)
{ if (rd_left(r) < n) return -1; *out = r->p + r->pos; r->pos += n; return 0; }
static inline int rd_u8(tds_rd *r, uint8_t *v)
{ if (rd_left(r) < 1) return -1; *v = r->p[r->pos++]; return 0; }
static inline int rd_u16le(tds_rd *r, uint16_t *v)
{ if (rd_left(r) < 2) return -1; const uint8_t *b = r->p + r->pos;
  *v = (uint16_t)(b[0] | b[1] << 8); r->pos += 2; return 0; }
static inline int rd_u16be(tds_rd *r, uint16_t *v)
{ if (rd_left(r) < 2) return -1; const uint8_t *b = r->p + r->pos;
  *v = (uint16_t)(b[0] << 8 | b[1]); r->pos += 2; return 0; }
static inline int rd_u32le(tds_rd *r, uint32_t *v)
{ if (rd_left(r) < 4) return -1; const uint8_t *b = r->p + r->pos;
  *v = (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
  r->pos += 4; return 0; }
static inline int rd_u64le(tds_rd *r, uint64_t *v)
{ if (rd_left(r) < 8) return -1; const uint8_t *b = r->p + r->pos;
  *v = (uint64_t)get_u32le(b + 4) << 32 | get_u32le(b); r->pos += 8; return 0; }


/* ------------------------------------------------------------ build buffer */

typedef struct tds_buf {
    uint8_t *p;
    size_t len, cap;
    int oom;                /* an allocation failed: contents are incomplete */
} tds_buf;

void buf_init(tds_buf *b);
void buf_free(tds_buf *b);
void buf_put(tds_buf *b, const void *p, size_t n);
static inline void buf_u8(tds_buf *b, uint8_t v) { buf_put(b, &v, 1); }
static inline void buf_u16le(tds_buf *b, uint16_t v)
{ uint8_t t[2] = { (uint8_t)v, (uint8_t)(v >> 8) }; buf_put(b, t, 2); }
static inline void buf_u16be(tds_buf *b, uint16_t v)
{ uint8_t t[2] = { (uint8_t)(v >> 8), (uint8_t)v }; buf_put(b, t, 2); }
static inline void buf_u32le(tds_buf *b, uint32_t v)
{ uint8_t t[4] = { (uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24) };
  buf_put(b, t, 4); }
static inline void buf_u32be(tds_buf *b, uint32_t v)
{ uint8_t t[4] = { (uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v };
  buf_put(b, t, 4); }
static inline void buf_u64le(tds_buf *b, uint64_t v)
{ buf_u32le(b, (uint32_t)v); buf_u32le(b, (uint32_t)(v >> 32)); }
/* Patches a 2-byte LE value at offset off (for length fields). */
static inline void buf_patch_u16le(tds_buf *b, size_t off, uint16_t v)
{ if (!b->oom && off + 2 <= b->len) { b->p[off] = (uint8_t)v; b->p[off + 1] = (uint8_t)(v >> 8); } }
/* UTF-8 text as UTF-16LE with a 1-byte (B_VARCHAR) or 2-byte (US_VARCHAR)
 * character count; text longer than the prefix allows is cut. */
void buf_bvarchar(tds_buf *b, const char *utf8);
void buf_usvarchar(tds_buf *b, const char *utf8);

/* ------------------------------------------------------------ value sink */

typedef struct tds_sink {
    void (*put)(void *ctx, const void *p, size_t n);
    void *ctx;
} tds_sink;

tds_sink tds_sink_buf(tds_buf *b);
tds_sink tds_sink_conn(tds_conn *c);

/* ------------------------------------------------------------ connection */

#define TDS_RBUF_SIZE 16384

struct tds_conn {
    tds_io   io;
    int      fd;                     /* -1 unless made by tds_conn_new_fd */
    /* memory transport (tds_conn_new_mem) */
    uint8_t *mem_in;
    size_t   mem_in_len, mem_in_pos;
    tds_buf  mem_out;

    uint16_t spid;
    uint32_t version;                /* LOGINACK value; 0 before login */
    uint32_t packet_size;            /* output packet size in effect */
    uint32_t next_packet_size;       /* applied when the current response ends */
    int      logged_in;
    size_t   max_message;
    uint8_t  collation[5];
    int      broken;                 /* a write failed */
    int      io_errno;

    /* input: raw bytes read ahead of parsing */
    uint8_t  rbuf[TDS_RBUF_SIZE];
    size_t   rpos, rlen;
    int      attention;              /* ATTENTION received while busy */

    /* output: the packet being filled; header space at wbuf[0..7] */
    uint8_t  wbuf[TDS_MAX_PACKET_SIZE];
    size_t   wlen;
    uint8_t  out_type, out_pktid;
    int      out_open;

    /* a done-token held back until we know whether anything follows */
    int      done_pending;
    uint8_t  done_token;
    uint16_t done_status, done_cmd;
    uint64_t done_rows;

    /* wire layout of the current result set's columns */
    struct tds_wcol *cols;
    int      ncols, cols_cap;
};

/* Appends bytes to the open response (opening it if needed), sending each
 * packet once it is full and more bytes follow. */
void tds_out_bytes(tds_conn *c, const void *p, size_t n);
/* Called at the start of every token: opens the message, emits a pending
 * done-token with DONE_MORE set. */
void tds_out_token_start(tds_conn *c);
static inline int tds_is72(uint32_t v) { return v == 0 || v >= TDS_VER_72; }

/* ------------------------------------------------------------ types */

/* How one column/parameter goes on the wire. */
enum tds_form {
    TDS_FORM_BYTELEN = 1,    /* 1-byte length + value (N types, date/time, guid) */
    TDS_FORM_USHORT,         /* 2-byte length (BIG* / N* char and binary) */
    TDS_FORM_PLP,            /* (max): partially length-prefixed */
    TDS_FORM_TEXT,           /* 7.1 (max): TEXT/NTEXT/IMAGE with textptr */
    TDS_FORM_DATETEXT,       /* 7.1/7.2 date/time: NVARCHAR text */
};

struct tds_wcol {
    sql_type t;              /* engine type */
    uint8_t  code;           /* TDS type code */
    uint8_t  form;           /* enum tds_form */
    uint8_t  size;           /* BYTELEN: value size; DECIMALN 5/9/13/17 */
    uint8_t  scale;          /* time scale / decimal scale */
    uint8_t  prec;           /* decimal precision */
    uint8_t  has_coll;
    uint16_t maxlen;         /* USHORT/DATETEXT: bytes; PLP 0xFFFF */
};

/* Type codes. */
enum {
    TDS_NULLTYPE = 0x1F, TDS_INT1 = 0x30, TDS_BIT = 0x32, TDS_INT2 = 0x34,
    TDS_INT4 = 0x38, TDS_DATETIM4 = 0x3A, TDS_FLT4 = 0x3B, TDS_MONEY = 0x3C,
    TDS_DATETIME = 0x3D, TDS_FLT8 = 0x3E, TDS_MONEY4 = 0x7A, TDS_INT8 = 0x7F,
    TDS_GUID = 0x24, TDS_INTN = 0x26, TDS_DECIMAL = 0x37, TDS_NUMERIC = 0x3F,
    TDS_BITN = 0x68, TDS_DECIMALN = 0x6A, TDS_NUMERICN = 0x6C, TDS_FLTN = 0x6D,
    TDS_MONEYN = 0x6E, TDS_DATETIMN = 0x6F, TDS_DATEN = 0x28, TDS_TIMEN = 0x29,
    TDS_DATETIME2N = 0x2A, TDS_DATETIMEOFFSETN = 0x2B,
    TDS_CHAR = 0x2F, TDS_VARCHAR = 0x27, TDS_BINARY = 0x2D, TDS_VARBINARY = 0x25,
    TDS_SYBNVARCHAR = 0x67,
    TDS_BIGVARBINARY = 0xA5, TDS_BIGVARCHAR = 0xA7, TDS_BIGBINARY = 0xAD,
    TDS_BIGCHAR = 0xAF, TDS_NVARCHAR = 0xE7, TDS_NCHAR = 0xEF, TDS_XML = 0xF1,
    TDS_UDT = 0xF0, TDS_TVP = 0xF3, TDS_TEXT = 0x23, TDS_IMAGE = 0x22,
    TDS_NTEXT = 0x63, TDS_SSVARIANT = 0x62,
};

/* Chooses the wire layout of an engine type for a session of `version`. */
int tds_wcol_from_type(uint32_t version, const sql_type *t, struct tds_wcol *w, hdb_err *err);
/* TYPE_INFO bytes (without TEXT's TableName). */
void tds_typeinfo_put(tds_buf *b, const struct tds_wcol *w, const uint8_t coll[5]);
/* Checks that v can be encoded in column w (nothing is written). */
int tds_value_check(const struct tds_wcol *w, const sql_value *v, hdb_err *err);
/* Encodes a checked value (TYPE_VARBYTE / PLP / textptr form). */
void tds_value_put(tds_sink s, const struct tds_wcol *w, const sql_value *v);
/* Encodes a value in RPC-parameter form (differs from ROW form only for
 * TEXT/NTEXT/IMAGE: no textptr, LONGLEN 0xFFFFFFFF for NULL). */
void tds_param_value_put(tds_sink s, const struct tds_wcol *w, const sql_value *v);

/* Memory owned by a parsed request. */
struct tds_mem;
void *tds_mem_alloc(struct tds_mem **m, size_t n);
void tds_mem_free(struct tds_mem **m);

/* Decodes one RPC parameter's TYPE_INFO and value at r (the name and status
 * byte already read into p). `ordinal` is 1-based, for error texts. */
int tds_param_decode(tds_rd *r, uint32_t version, tds_param *p, int ordinal,
                     struct tds_mem **mem, hdb_err *err);

/* ALL_HEADERS (7.2+; nothing is read for older versions). */
int tds_headers_parse(uint32_t version, tds_rd *r, tds_headers *h, hdb_err *err);

#endif
