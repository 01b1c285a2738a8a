/*
 * pageop.h — physical page operations: the redo half of every log record.
 *
 * Anything that changes a page is first encoded as a page operation, logged, and
 * then applied with pageop_apply() — the same function redo calls during crash
 * recovery, log restore and mirroring. So a page's history is exactly its log.
 *
 * Encoding (little-endian), one operation:
 *   u8 op, then
 *   PO_FORMAT   u8 type, u32 owner, u16 level       (page_format)
 *   PO_INSERT   u16 slot, u16 len, bytes             (page_insert)
 *   PO_DELETE   u16 slot                              (page_delete)
 *   PO_REPLACE  u16 slot, u16 len, bytes             (page_replace)
 *   PO_TRUNCATE u16 from                              (page_truncate)
 *   PO_SETBYTES u16 offset, u16 len, bytes           (raw bytes: header links,
 *                                                      allocation bits)
 *   PO_IMAGE    8192 bytes                            (whole page; lsn and
 *                                                      checksum fields ignored)
 * A log record may carry several (page id, operation) pairs; see log/README.md.
 */
#ifndef HDB_STORAGE_PAGEOP_H
#define HDB_STORAGE_PAGEOP_H

#include <stddef.h>
#include <stdint.h>

#include "storage/page.h"

enum pageop_kind {
    PO_FORMAT = 1,
    PO_INSERT,
    PO_DELETE,
    PO_REPLACE,
    PO_TRUNCATE,
    PO_SETBYTES,
    PO_IMAGE,
};

/* Encoders write into out (cap bytes) and return the encoded length (0 if too small). */
size_t pageop_format(uint8_t *out, size_t cap, enum page_type type, uint32_t owner, uint16_t level);
size_t pageop_insert(uint8_t *out, size_t cap, int slot, const void *rec, uint16_t len);
size_t pageop_delete(uint8_t *out, size_t cap, int slot);
size_t pageop_replace(uint8_t *out, size_t cap, int slot, const void *rec, uint16_t len);
size_t pageop_truncate(uint8_t *out, size_t cap, int from);
size_t pageop_setbytes(uint8_t *out, size_t cap, uint16_t offset, const void *bytes, uint16_t len);
size_t pageop_image(uint8_t *out, size_t cap, const void *page);

/* Upper bound of an encoded op carrying `len` record bytes. */
#define PAGEOP_MAX(len) ((size_t)(len) + 8)
#define PAGEOP_IMAGE_SIZE (PAGE_SIZE + 1)

/* Apply one encoded operation to `page` (id `id`), then set its pageLSN to `lsn`.
 * Returns the number of bytes consumed, or 0 if the operation is malformed or
 * cannot apply (which redo reports as error 3313). */
size_t pageop_apply(void *page, pgid_t id, const uint8_t *op, size_t len, lsn_t lsn);

#endif
