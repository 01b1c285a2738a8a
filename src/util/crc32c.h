/* crc32c.h — CRC-32C (Castagnoli), used for page, log record and media checksums. */
#ifndef HDB_UTIL_CRC32C_H
#define HDB_UTIL_CRC32C_H
#include <stddef.h>
#include <stdint.h>

/* Extend `crc` (0 to start) over `n` bytes. crc32c(0, "123456789", 9) == 0xE3069283. */
uint32_t crc32c(uint32_t crc, const void *data, size_t n);

#endif
