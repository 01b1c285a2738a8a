/* utf16.c — UTF-8 <-> UTF-16LE, replacing malformed input with U+FFFD. */
#include "util/utf16.h"

#include <stdlib.h>

#define REPLACEMENT 0xFFFDu

/* Decodes one code point from UTF-16LE at src[*i]; advances *i. */
static uint32_t next_utf16(const uint8_t *src, size_t nbytes, size_t *i)
{
    if (*i + 1 >= nbytes) {            /* odd trailing byte */
        *i = nbytes;
        return REPLACEMENT;
    }
    uint32_t u = (uint32_t)src[*i] | (uint32_t)src[*i + 1] << 8;
    *i += 2;
    if (u < 0xD800 || u > 0xDFFF)
        return u;
    if (u >= 0xDC00)                   /* low surrogate without a high one */
        return REPLACEMENT;
    if (*i + 1 >= nbytes)
        return REPLACEMENT;
    uint32_t lo = (uint32_t)src[*i] | (uint32_t)src[*i + 1] << 8;
    if (lo < 0xDC00 || lo > 0xDFFF)    /* leave the next unit for the next call */
        return REPLACEMENT;
    *i += 2;
    return 0x10000 + ((u - 0xD800) << 10) + (lo - 0xDC00);
}

/* Decodes one code point from UTF-8 at src[*i]; advances *i past what it used
 * (at least one byte), rejecting overlong forms, surrogates and > U+10FFFF. */
static uint32_t next_utf8(const char *s, size_t len, size_t *i)
{
    const uint8_t *src = (const uint8_t *)s;
    uint8_t b = src[(*i)++];
    if (b < 0x80)
        return b;
    int extra;
    uint32_t cp, min;
    if (b >= 0xC2 && b <= 0xDF) { extra = 1; cp = b & 0x1F; min = 0x80; }
    else if (b >= 0xE0 && b <= 0xEF) { extra = 2; cp = b & 0x0F; min = 0x800; }
    else if (b >= 0xF0 && b <= 0xF4) { extra = 3; cp = b & 0x07; min = 0x10000; }
    else return REPLACEMENT;
    for (int k = 0; k < extra; k++) {
        if (*i >= len || (src[*i] & 0xC0) != 0x80)
            return REPLACEMENT;        /* consumed bytes so far are dropped */
        cp = cp << 6 | (src[(*i)++] & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        return REPLACEMENT;
    return cp;
}

static int utf8_width(uint32_t cp)
{
    return cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
}

static void put_utf8(char *dst, uint32_t cp, int w)
{
    uint8_t *d = (uint8_t *)dst;
    switch (w) {
    case 1: d[0] = (uint8_t)cp; break;
    case 2: d[0] = (uint8_t)(0xC0 | cp >> 6); d[1] = (uint8_t)(0x80 | (cp & 0x3F)); break;
    case 3: d[0] = (uint8_t)(0xE0 | cp >> 12); d[1] = (uint8_t)(0x80 | (cp >> 6 & 0x3F));
            d[2] = (uint8_t)(0x80 | (cp & 0x3F)); break;
    default: d[0] = (uint8_t)(0xF0 | cp >> 18); d[1] = (uint8_t)(0x80 | (cp >> 12 & 0x3F));
             d[2] = (uint8_t)(0x80 | (cp >> 6 & 0x3F)); d[3] = (uint8_t)(0x80 | (cp & 0x3F));
    }
}

size_t utf16le_to_utf8(const uint8_t *src, size_t nbytes, char *dst, size_t cap)
{
    size_t need = 0, i = 0, written = 0;
    int full = 0;                      /* a character did not fit: write no more */
    while (i < nbytes) {
        uint32_t cp = next_utf16(src, nbytes, &i);
        int w = utf8_width(cp);
        if (!full && need + (size_t)w < cap) {
            put_utf8(dst + need, cp, w);
            written = need + (size_t)w;
        } else {
            full = 1;
        }
        need += (size_t)w;
    }
    if (cap > 0)
        dst[written] = 0;
    return need;
}

size_t utf8_to_utf16le(const char *src, size_t len, uint8_t *dst, size_t cap)
{
    size_t need = 0, i = 0;
    while (i < len) {
        uint32_t cp = next_utf8(src, len, &i);
        if (cp >= 0x10000) {
            uint32_t v = cp - 0x10000;
            uint16_t hi = (uint16_t)(0xD800 + (v >> 10)), lo = (uint16_t)(0xDC00 + (v & 0x3FF));
            if (need + 4 <= cap) {
                dst[need] = (uint8_t)hi; dst[need + 1] = (uint8_t)(hi >> 8);
                dst[need + 2] = (uint8_t)lo; dst[need + 3] = (uint8_t)(lo >> 8);
            }
            need += 4;
        } else {
            if (need + 2 <= cap) {
                dst[need] = (uint8_t)cp; dst[need + 1] = (uint8_t)(cp >> 8);
            }
            need += 2;
        }
    }
    return need;
}

size_t utf8_utf16_units(const char *src, size_t len)
{
    return utf8_to_utf16le(src, len, NULL, 0) / 2;
}

char *utf16le_to_utf8_alloc(const uint8_t *src, size_t nbytes, size_t *outlen)
{
    /* ASCII (nearly every SQL batch) is one byte per code unit: one pass,
     * instead of measuring and then converting character by character */
    if (!(nbytes & 1)) {
        size_t units = nbytes / 2, k = 0;
        char *p = malloc(units + 1);
        if (!p)
            return NULL;
        while (k < units && src[2 * k + 1] == 0 && src[2 * k] < 0x80) {
            p[k] = (char)src[2 * k];
            k++;
        }
        if (k == units) {
            p[k] = 0;
            if (outlen)
                *outlen = k;
            return p;
        }
        free(p);
    }
    size_t n = utf16le_to_utf8(src, nbytes, NULL, 0);
    char *p = malloc(n + 1);
    if (!p)
        return NULL;
    utf16le_to_utf8(src, nbytes, p, n + 1);
    if (outlen)
        *outlen = n;
    return p;
}

uint8_t *utf8_to_utf16le_alloc(const char *src, size_t len, size_t *outlen)
{
    size_t n = utf8_to_utf16le(src, len, NULL, 0);
    uint8_t *p = malloc(n ? n : 1);
    if (!p)
        return NULL;
    utf8_to_utf16le(src, len, p, n);
    if (outlen)
        *outlen = n;
    return p;
}
