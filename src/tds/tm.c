/*
 * tm.c — transaction-manager requests (packet type 0x0E, TDS 7.2+).
 *
 * ALL_HEADERS, RequestType:2, then per type:
 *   BEGIN (5)            isolation:1, name B_VARBYTE
 *   COMMIT (7)/ROLLBACK (8)  name B_VARBYTE, flags:1 (bit 0: begin a new
 *                        transaction), then if set: isolation:1, name B_VARBYTE
 *   SAVE (9)             name B_VARBYTE
 *   PROPAGATE (1)        DTC cookie US_VARBYTE;  GET_DTC_ADDRESS (0),
 *                        PROMOTE (6): nothing we need
 * B_VARBYTE names count bytes of UTF-16 text (tedious writes 2*chars). The
 * trailing flags of COMMIT/ROLLBACK are optional here: tedious always sends
 * them, but a missing byte means "no new transaction" anyway.
 */
#include "tds/tds_int.h"

#include "util/utf16.h"

static int bad(hdb_err *err, const char *why)
{
    return tds_fail(err, TDS_ERR_PROTOCOL, 16, "The incoming tabular data stream (TDS) "
                    "protocol stream is incorrect. Invalid transaction manager request: %s.",
                    why);
}

static int read_name(tds_rd *r, char *dst, size_t cap, hdb_err *err)
{
    uint8_t n;
    const uint8_t *s;
    if (rd_u8(r, &n) < 0 || rd_bytes(r, n, &s) < 0)
        return bad(err, "truncated name");
    if (n & 1)
        return bad(err, "name with an odd byte count");
    utf16le_to_utf8(s, n, dst, cap);
    return 0;
}

static int read_isolation(tds_rd *r, uint8_t *iso, hdb_err *err)
{
    if (rd_u8(r, iso) < 0)
        return bad(err, "truncated isolation level");
    if (*iso > 5)
        return bad(err, "unknown isolation level");
    return 0;
}

int tds_tm_parse(uint32_t tds_version, const uint8_t *p, size_t len,
                 tds_tm_request *out, hdb_err *err)
{
    memset(out, 0, sizeof *out);
    tds_rd r;
    rd_init(&r, p, len);
    if (tds_headers_parse(tds_version, &r, &out->headers, err) < 0)
        return -1;
    if (rd_u16le(&r, &out->type) < 0)
        return bad(err, "missing request type");
    switch (out->type) {
    case TDS_TM_GET_DTC_ADDRESS:
    case TDS_TM_PROMOTE_XACT:
        return 0;
    case TDS_TM_PROPAGATE_XACT:
        if (rd_u16le(&r, &out->cookie_len) < 0 || rd_bytes(&r, out->cookie_len, &out->cookie) < 0)
            return bad(err, "truncated DTC cookie");
        return 0;
    case TDS_TM_BEGIN_XACT:
        if (read_isolation(&r, &out->isolation, err) < 0)
            return -1;
        return rd_left(&r) ? read_name(&r, out->name, sizeof out->name, err) : 0;
    case TDS_TM_COMMIT_XACT:
    case TDS_TM_ROLLBACK_XACT: {
        if (read_name(&r, out->name, sizeof out->name, err) < 0)
            return -1;
        uint8_t flags;
        if (rd_u8(&r, &flags) < 0)
            return 0;
        out->begin_new = flags & 1;
        if (out->begin_new && rd_left(&r)) {
            if (read_isolation(&r, &out->new_isolation, err) < 0)
                return -1;
            if (rd_left(&r) && read_name(&r, out->new_name, sizeof out->new_name, err) < 0)
                return -1;
        }
        return 0;
    }
    case TDS_TM_SAVE_XACT:
        return read_name(&r, out->name, sizeof out->name, err);
    default:
        return bad(err, "unknown request type");
    }
}
