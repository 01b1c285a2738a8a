/*
 * keyenc.h — order-preserving encoding of index keys.
 *
 * A key is a tuple of values (composite key), each with its type and an ASC/DESC
 * flag. keyenc_encode turns it into bytes whose memcmp order (shorter-is-smaller
 * on a common prefix) equals SQL Server's ORDER BY order of the tuple, so the
 * B+tree compares keys with memcmp alone. Equal SQL values encode to identical
 * bytes: 'abc' and 'ABC ' under the default case-insensitive collation encode the
 * same, which is how a PRIMARY KEY/UNIQUE index detects duplicates (2627/2601).
 *
 * Each column's encoding is self-delimiting (no column encoding is a proper prefix
 * of another), so columns concatenate safely and encoding the first k columns
 * gives a byte prefix of the full key — usable as a seek prefix.
 *
 * Per column: one marker byte, 0x00 for NULL (SQL Server sorts NULL lowest),
 * 0x01 followed by the value otherwise. DESC inverts every byte of the column,
 * marker included (NULLs then sort last, as in SQL Server's ORDER BY ... DESC).
 *
 *   tinyint, bit                    1 byte
 *   smallint/int/bigint, money (8), smallmoney (4)
 *                                   big-endian two's complement, sign bit flipped
 *   decimal/numeric(p,s)            4/8/16 bytes by p (<=9, <=18, <=38), same trick on
 *                                   the scaled integer (same column = same scale)
 *   float (8), real (4)             IEEE bits: negative -> all bits inverted,
 *                                   positive -> sign bit set; -0.0 encodes as 0.0;
 *                                   NaN and infinities are rejected
 *   date                            3 bytes big-endian days
 *   time                            5 bytes big-endian 100ns ticks
 *   datetime                        4 bytes days (sign flipped) + 4 bytes ticks
 *   datetime2                       3 bytes days + 5 bytes ticks
 *   uniqueidentifier                16 bytes in SQL Server's comparison order: storage
 *                                   bytes 10..15, 8, 9, 6, 7, 4, 5, 0..3 (SqlGuid order)
 *   char/varchar/nchar/nvarchar     collation weight of each character of the
 *                                   trailing-space-trimmed text (value_coll_weight),
 *                                   each as a 1-3 byte "weight code" whose first byte
 *                                   is never 0x00 (1 byte for every Latin-1 character
 *                                   under the default collation), then one 0x00
 *                                   terminator, so a prefix sorts first. (Escaping
 *                                   UTF-16 weights instead would cost 3 bytes per
 *                                   Latin character against the 900-byte key limit.)
 *   binary/varbinary                bytes with trailing 0x00 removed (SQL Server treats
 *                                   0x01 and 0x0100 as equal), escaped 0x00 -> 0x00 0xFF,
 *                                   then terminator 0x00 0x00, so a prefix sorts first.
 *
 * Keys are never decoded — rows carry the values. keyenc_describe renders the
 * values for messages.
 */
#ifndef HDB_ACCESS_KEYENC_H
#define HDB_ACCESS_KEYENC_H

#include <stddef.h>
#include <stdint.h>

#include "access/value.h"
#include "util/err.h"

#define KEYENC_ASC  0
#define KEYENC_DESC 1

/* Upper bound of the encoded size of these values (exact for most types). */
size_t keyenc_size_bound(const sql_value *vals, const sql_type *types, int ncols);

/* Encodes ncols values into out[0..cap). desc[i] != 0 makes column i descending;
 * desc may be NULL (all ascending). Validates each value (value_check); off-row
 * values cannot be keys. Returns 0 and sets *out_len, or -1 with err filled
 * (8115/8152 invalid value, 40000 buffer too small or bad input). */
int keyenc_encode(const sql_value *vals, const sql_type *types, const uint8_t *desc,
                  int ncols, uint8_t *out, size_t cap, size_t *out_len, hdb_err *err);

/* Renders "(v1, v2, ...)" as SQL Server prints key values in 2627/2601 messages
 * (strings unquoted, NULL as <NULL>). snprintf contract: returns the full length. */
size_t keyenc_describe(const sql_value *vals, const sql_type *types, int ncols,
                       char *buf, size_t cap);

/* memcmp order of two encoded keys, shorter first on a common prefix. */
int keyenc_compare(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen);

#endif
