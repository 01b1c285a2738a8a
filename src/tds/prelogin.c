/*
 * prelogin.c — the PRELOGIN exchange (packet type 0x12 in, 0x04 out).
 *
 * Layout, both directions: an option table of {token:1, offset:2 BE,
 * length:2 BE} entries ended by 0xFF, then the option data; offsets count
 * from the start of the payload. We read every option the clients send and
 * answer with exactly VERSION, ENCRYPTION, INSTOPT, THREADID (empty) and
 * MARS — every option we include has a real payload because tedious reads
 * INSTOPT/MARS with a fixed one-byte read.
 */
#include "tds/tds_int.h"

#include <strings.h>

enum { PL_VERSION = 0, PL_ENCRYPTION = 1, PL_INSTOPT = 2, PL_THREADID = 3, PL_MARS = 4,
       PL_TRACEID = 5, PL_FEDAUTHREQUIRED = 6, PL_NONCE = 7, PL_TERMINATOR = 0xFF };

static int bad(hdb_err *err, const char *why)
{
    return tds_fail(err, TDS_ERR_PROTOCOL, 20, "The incoming tabular data stream (TDS) "
                    "protocol stream is incorrect. Invalid PRELOGIN message: %s.", why);
}

int tds_prelogin_parse(const uint8_t *p, size_t len, tds_prelogin *out, hdb_err *err)
{
    memset(out, 0, sizeof *out);
    tds_rd r;
    rd_init(&r, p, len);
    for (int n = 0;; n++) {
        uint8_t token;
        uint16_t off, olen;
        if (rd_u8(&r, &token) < 0)
            return bad(err, "option table without terminator");
        if (token == PL_TERMINATOR)
            break;
        if (n > 64)
            return bad(err, "too many options");
        if (rd_u16be(&r, &off) < 0 || rd_u16be(&r, &olen) < 0)
            return bad(err, "truncated option table");
        if ((size_t)off + olen > len)
            return bad(err, "option data outside the message");
        const uint8_t *d = p + off;
        switch (token) {
        case PL_VERSION:
            if (olen < 6)
                return bad(err, "short VERSION");
            memcpy(out->version, d, 6);
            break;
        case PL_ENCRYPTION:
            if (olen < 1)
                return bad(err, "short ENCRYPTION");
            out->has_encryption = 1;
            out->encryption = d[0];
            break;
        case PL_INSTOPT: {
            size_t k = 0;
            while (k < olen && k < sizeof out->instance - 1 && d[k])
                out->instance[k] = (char)d[k], k++;
            out->instance[k] = 0;
            break;
        }
        case PL_THREADID:
            if (olen >= 4)
                out->thread_id = get_u32le(d);
            break;
        case PL_MARS:
            if (olen >= 1) {
                out->has_mars = 1;
                out->mars = d[0];
            }
            break;
        case PL_TRACEID:
            if (olen >= 36) {
                out->has_traceid = 1;
                memcpy(out->traceid, d, 36);
            }
            break;
        case PL_FEDAUTHREQUIRED:
            if (olen >= 1) {
                out->has_fedauth = 1;
                out->fedauth_required = d[0];
            }
            break;
        default:
            break;                    /* NONCE and future options: ignore */
        }
    }
    return 0;
}

void tds_prelogin_default_reply(tds_prelogin_reply *r)
{
    static const uint8_t v[6] = { 16, 0, 0x07, 0xD0, 0, 0 };   /* 16.0.2000 */
    memcpy(r->version, v, 6);
    r->encryption = TDS_ENCRYPT_NOT_SUP;
    r->instance_ok = 1;
}

int tds_prelogin_instance_matches(const tds_prelogin *pl, const char *our_instance)
{
    return pl->instance[0] == 0 || strcasecmp(pl->instance, "MSSQLServer") == 0 ||
           (our_instance && strcasecmp(pl->instance, our_instance) == 0);
}

int tds_send_prelogin_response(tds_conn *c, const tds_prelogin_reply *r, hdb_err *err)
{
    /* 5 table entries of 5 bytes + terminator: data starts at 26 (0x1A) */
    static const struct { uint8_t token, len; } opts[] = {
        { PL_VERSION, 6 }, { PL_ENCRYPTION, 1 }, { PL_INSTOPT, 1 },
        { PL_THREADID, 0 }, { PL_MARS, 1 },
    };
    uint8_t msg[64];
    size_t n = 0;
    uint16_t off = 5 * 5 + 1;
    for (size_t i = 0; i < sizeof opts / sizeof opts[0]; i++) {
        msg[n++] = opts[i].token;
        msg[n++] = (uint8_t)(off >> 8);
        msg[n++] = (uint8_t)off;
        msg[n++] = 0;
        msg[n++] = opts[i].len;
        off = (uint16_t)(off + opts[i].len);
    }
    msg[n++] = PL_TERMINATOR;
    memcpy(msg + n, r->version, 6);
    n += 6;
    msg[n++] = r->encryption;
    msg[n++] = r->instance_ok ? 0 : 1;
    msg[n++] = 0;                     /* MARS off: we do not multiplex */
    return tds_send_message(c, TDS_PKT_REPLY, msg, n, err);
}
