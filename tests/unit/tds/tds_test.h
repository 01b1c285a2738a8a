/* tds_test.h — helpers shared by the TDS unit tests: hex literals, UTF-16
 * strings, packet framing of hand-built payloads. */
#ifndef TDS_TEST_H
#define TDS_TEST_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "tds/tds.h"
#include "tds/tds_int.h"

/* "E3 08 00" -> bytes; returns the count. */
static inline size_t hexbytes(const char *s, uint8_t *out)
{
    size_t n = 0;
    while (*s) {
        while (*s == ' ' || *s == '\n')
            s++;
        if (!*s)
            break;
        unsigned v;
        sscanf(s, "%2x", &v);
        out[n++] = (uint8_t)v;
        s += 2;
    }
    return n;
}

/* Appends ASCII text as UTF-16LE. */
static inline void buf_ascii16(tds_buf *b, const char *s)
{
    for (; *s; s++) {
        buf_u8(b, (uint8_t)*s);
        buf_u8(b, 0);
    }
}

/* Frames payload as a message of packets of at most `size` bytes. */
static inline void frame(tds_buf *out, uint8_t type, const uint8_t *p, size_t len,
                         size_t size, uint8_t extra_status)
{
    size_t room = size - 8, off = 0;
    do {
        size_t n = len - off < room ? len - off : room;
        int last = off + n == len;
        buf_u8(out, type);
        buf_u8(out, (uint8_t)((last ? TDS_STATUS_EOM : 0) | extra_status));
        buf_u16be(out, (uint16_t)(n + 8));
        buf_u16be(out, 0);
        buf_u8(out, 1);
        buf_u8(out, 0);
        buf_put(out, p + off, n);
        off += n;
    } while (off < len);
}

/* The standard 22-byte ALL_HEADERS with a transaction descriptor. */
static inline void buf_all_headers(tds_buf *b, uint64_t desc)
{
    buf_u32le(b, 22);
    buf_u32le(b, 18);
    buf_u16le(b, 2);
    buf_u64le(b, desc);
    buf_u32le(b, 1);
}

/* Strips packet headers from captured output (all packets of all messages),
 * checking each header's length; returns the concatenated payloads. */
static inline size_t unframe(const uint8_t *p, size_t len, uint8_t *out, int *nmsgs)
{
    size_t at = 0, n = 0;
    *nmsgs = 0;
    while (at < len) {
        assert_true(len - at >= 8);
        size_t plen = (size_t)p[at + 2] << 8 | p[at + 3];
        assert_true(plen >= 8 && at + plen <= len);
        memcpy(out + n, p + at + 8, plen - 8);
        n += plen - 8;
        if (p[at + 1] & TDS_STATUS_EOM)
            (*nmsgs)++;
        at += plen;
    }
    return n;
}

#endif
