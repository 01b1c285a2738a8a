/*
 * utf16.h — UTF-8 <-> UTF-16LE conversion.
 *
 * TDS carries every name and all text as UTF-16LE ("UCS-2" in old documents,
 * but clients do send surrogate pairs); the rest of hadrdb works in UTF-8.
 * The converters never fail: malformed input (a lone surrogate, a truncated or
 * overlong UTF-8 sequence, an odd trailing byte) becomes U+FFFD, so a hostile
 * client can make text ugly but never make the server read out of bounds.
 *
 * Both converters follow the snprintf contract: they return the number of
 * bytes the complete output needs (without a terminator) and write at most
 * `cap` bytes. utf16le_to_utf8 additionally NUL-terminates when cap > 0 (the
 * terminator is not counted, and the text is cut at a character boundary
 * if it does not fit). utf8_to_utf16le never writes a terminator.
 */
#ifndef HDB_UTIL_UTF16_H
#define HDB_UTIL_UTF16_H

#include <stddef.h>
#include <stdint.h>

/* UTF-16LE (nbytes bytes; an odd last byte is replaced) -> UTF-8. */
size_t utf16le_to_utf8(const uint8_t *src, size_t nbytes, char *dst, size_t cap);

/* UTF-8 (len bytes, need not be terminated) -> UTF-16LE. */
size_t utf8_to_utf16le(const char *src, size_t len, uint8_t *dst, size_t cap);

/* Number of UTF-16 code units the UTF-8 text converts to. */
size_t utf8_utf16_units(const char *src, size_t len);

/* malloc'ed conversions (NULL only when out of memory). The UTF-8 result is
 * NUL-terminated; *outlen (if non-NULL) gets the length without terminator. */
char *utf16le_to_utf8_alloc(const uint8_t *src, size_t nbytes, size_t *outlen);
uint8_t *utf8_to_utf16le_alloc(const char *src, size_t len, size_t *outlen);

#endif
