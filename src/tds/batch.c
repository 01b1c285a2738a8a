/*
 * batch.c — ALL_HEADERS and the SQL batch request (packet type 0x01).
 *
 * From TDS 7.2 every batch, RPC and TM request starts with ALL_HEADERS:
 * TotalLength:4 (itself included), then headers {Length:4 (itself
 * included), Type:2, data}. The one every client sends is type 2, the
 * transaction descriptor (8 bytes, the value of the last ENVCHANGE 8, zero
 * outside a transaction) plus the outstanding request count (4 bytes). We
 * validate the lengths strictly and the values not at all: the descriptor
 * is for diagnostics, the session knows its transaction. 7.1 has no
 * ALL_HEADERS.
 *
 * A batch is then UTF-16LE text up to the end of the message, without a
 * length or terminator; we hand it to the T-SQL layer as UTF-8.
 */
#include "tds/tds_int.h"

#include "util/utf16.h"

static int bad(hdb_err *err, const char *why)
{
    return tds_fail(err, TDS_ERR_PROTOCOL, 16, "The incoming tabular data stream (TDS) "
                    "protocol stream is incorrect. %s", why);
}

int tds_headers_parse(uint32_t version, tds_rd *r, tds_headers *h, hdb_err *err)
{
    memset(h, 0, sizeof *h);
    if (!tds_is72(version))
        return 0;
    uint32_t total;
    if (rd_u32le(r, &total) < 0 || total < 4 || total - 4 > rd_left(r))
        return bad(err, "Invalid ALL_HEADERS length.");
    tds_rd hr;
    rd_init(&hr, r->p + r->pos, total - 4);
    r->pos += total - 4;
    h->present = 1;
    while (rd_left(&hr) > 0) {
        uint32_t hlen;
        uint16_t type;
        const uint8_t *data;
        if (rd_u32le(&hr, &hlen) < 0 || hlen < 6 || hlen - 4 > rd_left(&hr) ||
            rd_u16le(&hr, &type) < 0 || rd_bytes(&hr, hlen - 6, &data) < 0)
            return bad(err, "Invalid header in ALL_HEADERS.");
        switch (type) {
        case 1:
            h->has_notification = 1;
            break;
        case 2:
            if (hlen - 6 < 12)
                return bad(err, "Transaction descriptor header too short.");
            h->transaction = (uint64_t)get_u32le(data) | (uint64_t)get_u32le(data + 4) << 32;
            h->outstanding = get_u32le(data + 8);
            break;
        default:
            break;                    /* trace activity and future headers */
        }
    }
    return 0;
}

int tds_batch_parse(uint32_t tds_version, const uint8_t *p, size_t len,
                    tds_batch *out, hdb_err *err)
{
    memset(out, 0, sizeof *out);
    tds_rd r;
    rd_init(&r, p, len);
    if (tds_headers_parse(tds_version, &r, &out->headers, err) < 0)
        return -1;
    size_t n = rd_left(&r);
    if (n & 1)
        return bad(err, "The SQL batch text has an odd number of bytes.");
    out->sql = utf16le_to_utf8_alloc(p + r.pos, n, &out->sql_len);
    if (!out->sql)
        return hdb_raise_text(err, 701, 17, 1, "There is insufficient system memory to run "
                              "this query.");
    return 0;
}

void tds_batch_free(tds_batch *b)
{
    if (b) {
        free(b->sql);
        b->sql = NULL;
        b->sql_len = 0;
    }
}
