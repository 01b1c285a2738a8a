/*
 * packet.c — the TDS packet layer: connections, message reassembly, the
 * outgoing packet stream, attention detection.
 *
 * Packet header (8 bytes):  type:1  status:1  length:2 BE (header included,
 * 8..32767)  spid:2 BE  packet_id:1  window:1.  A message is the payloads of
 * one or more packets of the same type, the last with status EOM.
 *
 * Input. Bytes are read ahead into rbuf; tds_read_message parses headers
 * from it and copies payloads into a growing message buffer, capped (small
 * before login so an unauthenticated peer cannot make us allocate much).
 * PacketID and Window are ignored: FreeTDS sends 0 during login and 1
 * afterwards on every packet, tedious counts — neither can be validated.
 * The reset bits are taken from the first packet only (tedious repeats them
 * on every packet). IGNORE on the last packet means "discard this request":
 * the reply clients wait for is a message holding DONE(ERROR) and nothing
 * else, which we send here so the server never sees such a message.
 *
 * Output. The packet being filled lives in wbuf; header space is reserved
 * at its start. A full packet is sent only when more bytes arrive, so the
 * final packet is always still in hand when tds_end_response sets EOM. The
 * SPID goes into every header (FreeTDS reads it from the last packet of
 * the login response); PacketID counts 1, 2, ... per message, mod 256.
 *
 * Attention. While the owning thread executes a request the client may send
 * an ATTENTION packet (header only). tds_check_attention looks at read-ahead
 * bytes and, when the transport says a read would not block, reads more;
 * an ATTENTION header at the front is consumed and remembered. Anything
 * else stays buffered for the next tds_read_message.
 */
#include "tds/tds_int.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <sys/socket.h>
#include <unistd.h>

#include "os/sockread.h"
#include "util/utf16.h"

const uint8_t tds_default_collation[5] = { 0x09, 0x04, 0xD0, 0x00, 0x34 };

/* ------------------------------------------------------------ shared tools */

int tds_fail(hdb_err *err, int number, int severity, const char *fmt, ...)
{
    char text[HDB_ERR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    return hdb_raise_text(err, number, severity, 1, text);
}

void buf_init(tds_buf *b) { memset(b, 0, sizeof *b); }
void buf_free(tds_buf *b) { free(b->p); memset(b, 0, sizeof *b); }

void buf_put(tds_buf *b, const void *p, size_t n)
{
    if (b->oom || n == 0)
        return;
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->len + n)
            cap *= 2;
        uint8_t *q = realloc(b->p, cap);
        if (!q) {
            b->oom = 1;
            return;
        }
        b->p = q;
        b->cap = cap;
    }
    memcpy(b->p + b->len, p, n);
    b->len += n;
}

/* Writes the UTF-16 form of utf8 cut to at most max_units code units
 * (never splitting a surrogate pair); returns the units written. */
static size_t buf_utf16_limited(tds_buf *b, const char *utf8, size_t max_units, int prefix_bytes)
{
    size_t slen = utf8 ? strlen(utf8) : 0;
    uint8_t stack[512];
    size_t need = utf8_to_utf16le(utf8 ? utf8 : "", slen, NULL, 0);
    uint8_t *u = need <= sizeof stack ? stack : malloc(need);
    if (!u) {
        b->oom = 1;
        return 0;
    }
    utf8_to_utf16le(utf8 ? utf8 : "", slen, u, need);
    size_t units = need / 2;
    if (units > max_units && max_units > 0) {
        units = max_units;
        uint16_t last = get_u16le(u + 2 * (units - 1));
        if (last >= 0xD800 && last <= 0xDBFF)
            units--;
    }
    if (prefix_bytes == 1)
        buf_u8(b, (uint8_t)units);
    else
        buf_u16le(b, (uint16_t)units);
    buf_put(b, u, units * 2);
    if (u != stack)
        free(u);
    return units;
}

void buf_bvarchar(tds_buf *b, const char *utf8) { buf_utf16_limited(b, utf8, 255, 1); }
void buf_usvarchar(tds_buf *b, const char *utf8) { buf_utf16_limited(b, utf8, 65535, 2); }

static void sink_buf_put(void *ctx, const void *p, size_t n) { buf_put(ctx, p, n); }
static void sink_conn_put(void *ctx, const void *p, size_t n) { tds_out_bytes(ctx, p, n); }
tds_sink tds_sink_buf(tds_buf *b) { tds_sink s = { sink_buf_put, b }; return s; }
tds_sink tds_sink_conn(tds_conn *c) { tds_sink s = { sink_conn_put, c }; return s; }

/* ------------------------------------------------------------ transports */

static ssize_t fd_read(void *ctx, void *buf, size_t len)
{
    return sockread_recv((int)(intptr_t)ctx, buf, len);
}

static ssize_t fd_write(void *ctx, const void *buf, size_t len)
{
    int fd = (int)(intptr_t)ctx;
    for (;;) {
        /* MSG_NOSIGNAL: a client that hung up must not kill the server */
        ssize_t n = send(fd, buf, len, MSG_NOSIGNAL);
        if (n < 0 && errno == ENOTSOCK)
            n = write(fd, buf, len);
        if (n >= 0 || errno != EINTR)
            return n;
    }
}

static int fd_readable(void *ctx)
{
    struct pollfd p = { .fd = (int)(intptr_t)ctx, .events = POLLIN };
    return poll(&p, 1, 0) > 0 && (p.revents & (POLLIN | POLLHUP | POLLERR));
}

static ssize_t mem_read(void *ctx, void *buf, size_t len)
{
    tds_conn *c = ctx;
    size_t n = c->mem_in_len - c->mem_in_pos;
    if (n > len)
        n = len;
    memcpy(buf, c->mem_in + c->mem_in_pos, n);
    c->mem_in_pos += n;
    return (ssize_t)n;
}

static ssize_t mem_write(void *ctx, const void *buf, size_t len)
{
    tds_conn *c = ctx;
    buf_put(&c->mem_out, buf, len);
    if (c->mem_out.oom) {
        errno = ENOMEM;
        return -1;
    }
    return (ssize_t)len;
}

static int mem_readable(void *ctx)
{
    tds_conn *c = ctx;
    return c->mem_in_pos < c->mem_in_len;
}

static tds_conn *conn_alloc(uint16_t spid)
{
    tds_conn *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->fd = -1;
    c->spid = spid;
    c->packet_size = TDS_LOGIN_PACKET_SIZE;
    c->max_message = TDS_DEFAULT_MAX_MESSAGE;
    memcpy(c->collation, tds_default_collation, 5);
    return c;
}

tds_conn *tds_conn_new_fd(int fd, uint16_t spid)
{
    tds_conn *c = conn_alloc(spid);
    if (!c)
        return NULL;
    c->fd = fd;
    tds_io io = { fd_read, fd_write, fd_readable, (void *)(intptr_t)fd };
    c->io = io;
    return c;
}

tds_conn *tds_conn_new_io(const tds_io *io, uint16_t spid)
{
    tds_conn *c = conn_alloc(spid);
    if (c)
        c->io = *io;
    return c;
}

tds_conn *tds_conn_new_mem(const void *input, size_t len, uint16_t spid)
{
    tds_conn *c = conn_alloc(spid);
    if (!c)
        return NULL;
    c->mem_in = malloc(len ? len : 1);
    if (!c->mem_in) {
        free(c);
        return NULL;
    }
    if (len)
        memcpy(c->mem_in, input, len);
    c->mem_in_len = len;
    tds_io io = { mem_read, mem_write, mem_readable, c };
    c->io = io;
    return c;
}

const uint8_t *tds_conn_mem_output(const tds_conn *c, size_t *len)
{
    *len = c->mem_out.len;
    return c->mem_out.p;
}

void tds_conn_mem_clear_output(tds_conn *c) { c->mem_out.len = 0; }

void tds_conn_free(tds_conn *c)
{
    if (!c)
        return;
    free(c->mem_in);
    buf_free(&c->mem_out);
    free(c->cols);
    free(c);
}

void tds_conn_set_io(tds_conn *c, const tds_io *io) { c->io = *io; }
size_t tds_conn_pending_input(const tds_conn *c) { return c->rlen - c->rpos; }

void tds_conn_login_ok(tds_conn *c, uint32_t tds_version, uint32_t packet_size)
{
    c->version = tds_version;
    c->logged_in = 1;
    /* the login response still goes out at 4096; tds_end_response switches */
    c->next_packet_size = tds_negotiate_packet_size(packet_size);
}

void tds_conn_set_version(tds_conn *c, uint32_t tds_version) { c->version = tds_version; }

uint32_t tds_conn_version(const tds_conn *c) { return c->version; }
uint32_t tds_conn_packet_size(const tds_conn *c) { return c->packet_size; }
uint16_t tds_conn_spid(const tds_conn *c) { return c->spid; }
int tds_conn_logged_in(const tds_conn *c) { return c->logged_in; }
void tds_conn_set_collation(tds_conn *c, const uint8_t collation[5]) { memcpy(c->collation, collation, 5); }
const uint8_t *tds_conn_collation(const tds_conn *c) { return c->collation; }
void tds_conn_set_max_message(tds_conn *c, size_t bytes) { c->max_message = bytes; }
int tds_conn_broken(const tds_conn *c) { return c->broken; }

/* ------------------------------------------------------------ input */

/* Ensures at least `need` (<= TDS_RBUF_SIZE) unread bytes in rbuf.
 * Returns 1, 0 at end of stream before `need` bytes, -1 on error. */
static int in_fill(tds_conn *c, size_t need)
{
    if (c->rlen - c->rpos >= need)
        return 1;
    if (c->rpos > 0) {
        memmove(c->rbuf, c->rbuf + c->rpos, c->rlen - c->rpos);
        c->rlen -= c->rpos;
        c->rpos = 0;
    }
    while (c->rlen < need) {
        ssize_t n = c->io.read(c->io.ctx, c->rbuf + c->rlen, TDS_RBUF_SIZE - c->rlen);
        if (n < 0) {
            c->io_errno = errno;
            return -1;
        }
        if (n == 0)
            return 0;
        c->rlen += (size_t)n;
    }
    return 1;
}

static int legal_type(const tds_conn *c, uint8_t type)
{
    if (!c->logged_in)
        return type == TDS_PKT_PRELOGIN || type == TDS_PKT_LOGIN7 ||
               type == TDS_PKT_SSPI || type == TDS_PKT_FEDAUTH;
    return type == TDS_PKT_SQLBATCH || type == TDS_PKT_RPC || type == TDS_PKT_ATTENTION ||
           type == TDS_PKT_BULK || type == TDS_PKT_TM;
}

static int grow(uint8_t **data, size_t *cap, size_t need)
{
    if (need <= *cap)
        return 0;
    size_t n = *cap ? *cap : 4096;
    while (n < need)
        n *= 2;
    uint8_t *p = realloc(*data, n);
    if (!p)
        return -1;
    *data = p;
    *cap = n;
    return 0;
}

void tds_message_free(tds_message *m)
{
    if (m) {
        free(m->data);
        m->data = NULL;
        m->len = 0;
    }
}

static int read_one(tds_conn *c, tds_message *out, hdb_err *err)
{
    size_t cap = 0, limit = c->logged_in ? c->max_message : TDS_PRELOGIN_MAX_MESSAGE;
    int first = 1;
    for (;;) {
        int r = in_fill(c, TDS_HEADER_SIZE);
        if (r < 0)
            return tds_fail(err, TDS_ERR_NETWORK, 20, "A fatal error occurred while reading "
                            "the input stream from the network. The session will be "
                            "terminated (input error: %d, output error: 0).", c->io_errno);
        if (r == 0) {
            if (first && c->rlen == c->rpos)
                return 0;                     /* clean close between messages */
            return tds_fail(err, TDS_ERR_NETWORK, 20, "The client closed the connection in "
                            "the middle of a TDS packet.");
        }
        const uint8_t *h = c->rbuf + c->rpos;
        uint8_t type = h[0], status = h[1];
        size_t plen = (size_t)h[2] << 8 | h[3];
        if (plen < TDS_HEADER_SIZE)
            return tds_fail(err, TDS_ERR_PROTOCOL, 20, "The incoming tabular data stream "
                            "(TDS) protocol stream is incorrect. Packet length %zu is "
                            "shorter than the header.", plen);
        if (first) {
            if (type == TDS_PKT_LOGIN_OLD)
                return tds_fail(err, TDS_ERR_PROTOCOL, 20, "The client asked for a TDS "
                                "version before 7.1 (TDS 4.2/5.0 login), which this server "
                                "does not support.");
            if (!legal_type(c, type))
                return tds_fail(err, TDS_ERR_PROTOCOL, 20, "The incoming tabular data "
                                "stream (TDS) protocol stream is incorrect. Unexpected "
                                "packet type 0x%02X %s login.", type,
                                c->logged_in ? "after" : "before");
            out->type = type;
            out->status = status;
            out->reset = status & (TDS_STATUS_RESETCONNECTION | TDS_STATUS_RESETCONNSKIPTRAN);
        } else if (type != out->type) {
            return tds_fail(err, TDS_ERR_PROTOCOL, 20, "The incoming tabular data stream "
                            "(TDS) protocol stream is incorrect. Packet type changed from "
                            "0x%02X to 0x%02X inside one message.", out->type, type);
        }
        c->rpos += TDS_HEADER_SIZE;
        size_t n = plen - TDS_HEADER_SIZE;
        if (out->len + n > limit)
            return tds_fail(err, TDS_ERR_PROTOCOL, 20, "The incoming tabular data stream "
                            "(TDS) protocol stream is incorrect. The request is larger than "
                            "the %zu bytes this connection accepts.", limit);
        if (grow(&out->data, &cap, out->len + n + 1) < 0)
            return hdb_raise_text(err, 701, 17, 1, "There is insufficient system memory to "
                                  "run this query.");
        while (n > 0) {
            r = in_fill(c, 1);
            if (r <= 0)
                return tds_fail(err, TDS_ERR_NETWORK, 20, "The client closed the "
                                "connection in the middle of a TDS packet.");
            size_t have = c->rlen - c->rpos;
            size_t take = have < n ? have : n;
            memcpy(out->data + out->len, c->rbuf + c->rpos, take);
            out->len += take;
            c->rpos += take;
            n -= take;
        }
        first = 0;
        if (status & TDS_STATUS_EOM) {
            out->status |= status & TDS_STATUS_IGNORE;
            return out->type;
        }
    }
}

int tds_read_message(tds_conn *c, tds_message *out, hdb_err *err)
{
    memset(out, 0, sizeof *out);
    if (c->attention) {
        /* a poll consumed an ATTENTION the server did not act on: report it
         * now, or the client waits for its ack forever */
        c->attention = 0;
        out->type = TDS_PKT_ATTENTION;
        out->status = TDS_STATUS_EOM;
        out->data = malloc(1);
        if (!out->data)
            return hdb_raise_text(err, 701, 17, 1, "There is insufficient system memory "
                                  "to run this query.");
        return TDS_PKT_ATTENTION;
    }
    for (;;) {
        int t = read_one(c, out, err);
        if (t <= 0) {
            tds_message_free(out);
            return t;
        }
        if (!(out->status & TDS_STATUS_IGNORE) || t == TDS_PKT_ATTENTION) {
            if (t == TDS_PKT_ATTENTION)
                c->attention = 0;     /* the server handles it from here */
            if (out->data == NULL) {
                /* keep the promise that data is a valid pointer */
                out->data = malloc(1);
                if (!out->data)
                    return hdb_raise_text(err, 701, 17, 1, "There is insufficient system "
                                          "memory to run this query.");
            }
            return t;
        }
        /* the client abandoned this request: acknowledge, then read on */
        tds_message_free(out);
        memset(out, 0, sizeof *out);
        tds_put_done(c, TDS_TOKEN_DONE, TDS_DONE_ERROR, 0, 0);
        if (tds_end_response(c, err) < 0)
            return -1;
    }
}

/* 1: an ATTENTION was seen (consumed from the front of the read-ahead now,
 * or earlier); 0: something else is buffered; -1: too little is buffered. */
static int attention_buffered(tds_conn *c)
{
    if (c->attention)
        return 1;
    if (c->rlen - c->rpos < TDS_HEADER_SIZE)
        return -1;
    const uint8_t *h = c->rbuf + c->rpos;
    if (h[0] == TDS_PKT_ATTENTION && ((size_t)h[2] << 8 | h[3]) == TDS_HEADER_SIZE) {
        c->rpos += TDS_HEADER_SIZE;
        c->attention = 1;
        return 1;
    }
    return 0;                         /* something else: leave it for read_message */
}

int tds_attention_pending(tds_conn *c)
{
    return attention_buffered(c) == 1;
}

int tds_check_attention(tds_conn *c)
{
    for (int round = 0; round < 2; round++) {
        int seen = attention_buffered(c);
        if (seen >= 0)
            return seen;
        if (round == 1 || !c->io.readable || !c->io.readable(c->io.ctx))
            return 0;
        if (c->rpos > 0) {
            memmove(c->rbuf, c->rbuf + c->rpos, c->rlen - c->rpos);
            c->rlen -= c->rpos;
            c->rpos = 0;
        }
        ssize_t n = c->io.read(c->io.ctx, c->rbuf + c->rlen, TDS_RBUF_SIZE - c->rlen);
        if (n <= 0)
            return 0;                 /* EOF/error surfaces at the next read_message */
        c->rlen += (size_t)n;
    }
    return 0;
}

void tds_clear_attention(tds_conn *c) { c->attention = 0; }

/* ------------------------------------------------------------ output */

static void write_all(tds_conn *c, const uint8_t *p, size_t n)
{
    while (n > 0 && !c->broken) {
        ssize_t w = c->io.write(c->io.ctx, p, n);
        if (w <= 0) {
            c->broken = 1;
            c->io_errno = w < 0 ? errno : EPIPE;
            return;
        }
        p += w;
        n -= (size_t)w;
    }
}

static void flush_packet(tds_conn *c, int eom)
{
    uint8_t *h = c->wbuf;
    h[0] = c->out_type;
    h[1] = eom ? TDS_STATUS_EOM : 0;
    h[2] = (uint8_t)(c->wlen >> 8);
    h[3] = (uint8_t)c->wlen;
    h[4] = (uint8_t)(c->spid >> 8);
    h[5] = (uint8_t)c->spid;
    h[6] = c->out_pktid;
    h[7] = 0;
    write_all(c, c->wbuf, c->wlen);
    c->out_pktid++;
    c->wlen = TDS_HEADER_SIZE;
    if (!eom)
        tds_check_attention(c);       /* the client may be trying to cancel */
}

static void out_open(tds_conn *c, uint8_t type)
{
    if (c->out_open)
        return;
    c->out_open = 1;
    c->out_type = type;
    c->out_pktid = 1;
    c->wlen = TDS_HEADER_SIZE;
}

void tds_out_bytes(tds_conn *c, const void *p, size_t n)
{
    const uint8_t *s = p;
    out_open(c, TDS_PKT_REPLY);
    while (n > 0) {
        if (c->wlen == c->packet_size)
            flush_packet(c, 0);
        size_t room = c->packet_size - c->wlen;
        size_t take = room < n ? room : n;
        memcpy(c->wbuf + c->wlen, s, take);
        c->wlen += take;
        s += take;
        n -= take;
    }
}

static void put_done_now(tds_conn *c, uint8_t token, uint16_t status, uint16_t cmd, uint64_t rows)
{
    uint8_t t[13];
    size_t n = 0;
    t[n++] = token;
    t[n++] = (uint8_t)status; t[n++] = (uint8_t)(status >> 8);
    t[n++] = (uint8_t)cmd; t[n++] = (uint8_t)(cmd >> 8);
    int wide = tds_is72(c->version);   /* 7.1: 4-byte row count */
    for (int k = 0; k < (wide ? 8 : 4); k++)
        t[n++] = (uint8_t)(rows >> (8 * k));
    tds_out_bytes(c, t, n);
}

void tds_out_token_start(tds_conn *c)
{
    out_open(c, TDS_PKT_REPLY);
    if (c->done_pending) {
        c->done_pending = 0;
        put_done_now(c, c->done_token, c->done_status | TDS_DONE_MORE, c->done_cmd, c->done_rows);
    }
}

int tds_put_done(tds_conn *c, uint8_t token, uint16_t status, uint16_t curcmd, uint64_t rowcount)
{
    tds_out_token_start(c);
    c->done_pending = 1;
    c->done_token = token;
    c->done_status = status & (uint16_t)~TDS_DONE_MORE;
    c->done_cmd = curcmd;
    c->done_rows = rowcount;
    return c->broken ? -1 : 0;
}

static int broken_error(tds_conn *c, hdb_err *err)
{
    return tds_fail(err, TDS_ERR_NETWORK, 20, "A fatal error occurred while sending to the "
                    "network. The session will be terminated (input error: 0, output "
                    "error: %d).", c->io_errno);
}

int tds_end_response(tds_conn *c, hdb_err *err)
{
    if (c->done_pending) {
        c->done_pending = 0;
        put_done_now(c, c->done_token, c->done_status, c->done_cmd, c->done_rows);
    }
    if (c->out_open) {
        flush_packet(c, 1);
        c->out_open = 0;
    }
    if (c->next_packet_size) {
        c->packet_size = c->next_packet_size;
        c->next_packet_size = 0;
    }
    return c->broken ? broken_error(c, err) : 0;
}

int tds_send_attention_ack(tds_conn *c, hdb_err *err)
{
    if (c->out_open && tds_end_response(c, err) < 0)
        return -1;
    c->attention = 0;
    put_done_now(c, TDS_TOKEN_DONE, TDS_DONE_ATTN, 0, 0);
    return tds_end_response(c, err);
}

int tds_send_message(tds_conn *c, uint8_t type, const void *data, size_t len, hdb_err *err)
{
    if (c->out_open && tds_end_response(c, err) < 0)
        return -1;
    out_open(c, type);
    tds_out_bytes(c, data, len);
    flush_packet(c, 1);
    c->out_open = 0;
    return c->broken ? broken_error(c, err) : 0;
}
