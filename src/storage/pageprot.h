/*
 * pageprot.h — how a page is protected on disk: PAGE_VERIFY CHECKSUM,
 * TORN_PAGE_DETECTION or NONE, as SQL Server does it.
 *
 * The protection is chosen when a page is written (the database's option at
 * that moment) and recorded in the page itself, so a page keeps what it was
 * written with until it is written again. A read checks whatever the page
 * carries (unless the database is now NONE: then nothing but the page's self
 * id is checked), exactly SQL Server's rule: "a page gets a checksum only when
 * it is next written after the change".
 *
 * On disk (header fields of page.h; in memory these bits are never set by
 * anything but a read, and every write redoes them):
 *
 *   flags & PAGE_FLAG_PROT    meaning                 checksum field (bytes 0..3)
 *   0                         CHECKSUM                CRC-32C of bytes 4..8191
 *   PAGE_FLAG_NO_CHECKSUM     written under NONE      PAGEPROT_NONE_MAGIC
 *   PAGE_FLAG_TORN_BITS       TORN_PAGE_DETECTION     torn bits, see below
 *
 * "No protection" needs both the flag and the magic word, so damage that
 * flips or zeroes bytes 0..7 still leaves a checksum to fail (zeroed bytes
 * mean "checksum 0", which is wrong). Pages written before this encoding
 * existed carry flags 0 and a CRC: they read as CHECKSUM pages.
 *
 * Torn bits. A page is 16 sectors of 512 bytes; a torn write is one where
 * only some sectors reached the disk. When sealing, a 2-bit pattern p (1..3,
 * chosen from the pageLSN) replaces the low 2 bits of the last byte of
 * sectors 1..15, whose original bits are saved in the checksum field (bits
 * 2(s-1), 2(s-1)+1 for sector s) and p goes to its bits 30..31 (sector 0
 * holds the header, so it carries p itself). A read that finds any sector's
 * bits different from p reports a torn page; otherwise the bits are put back.
 * SQL Server flips the pattern on every write, which catches every torn
 * write; we do not know the pattern already on disk without reading it, so
 * a write torn between two versions of the page whose patterns happen to be
 * equal (1 in 3) goes unnoticed. A tear over a never-written (zero) page is
 * always caught (p is never 0). Torn bits are a weaker check than a
 * checksum, as in SQL Server, where TORN_PAGE_DETECTION is deprecated.
 *
 * Zero pages (never written) stay all zero whatever the mode and pass every
 * check ("unformatted").
 */
#ifndef HDB_STORAGE_PAGEPROT_H
#define HDB_STORAGE_PAGEPROT_H

#include <stdint.h>

#include "storage/page.h"

/* The database option (boot page; sys.databases shows SQL Server's numbers:
 * 0 NONE, 1 TORN_PAGE_DETECTION, 2 CHECKSUM). */
enum page_verify_mode { PAGE_VERIFY_NONE = 0, PAGE_VERIFY_CHECKSUM = 1, PAGE_VERIFY_TORN = 2 };

#define PAGE_FLAG_NO_CHECKSUM 0x01u
#define PAGE_FLAG_TORN_BITS   0x02u
#define PAGE_FLAG_PROT        (PAGE_FLAG_NO_CHECKSUM | PAGE_FLAG_TORN_BITS)
#define PAGEPROT_NONE_MAGIC   0x454e4f4eu      /* "NONE" */
#define PAGEPROT_SECTOR       512

/* What a read found (pageprot_open). */
enum {
    PAGEPROT_OK = 0,
    PAGEPROT_BAD_CHECKSUM = 1,  /* suspect_pages event 2 */
    PAGEPROT_WRONG_ID = 2,      /* event 1 */
    PAGEPROT_TORN = 3,          /* event 3 */
};

typedef struct pageprot_result {
    uint32_t expected, actual;  /* checksum, or torn signature (p in every sector) */
    pgid_t   found_id;          /* WRONG_ID: the id the page carries */
} pageprot_result;

/* Protect a page image for writing under `mode`, in place: clears the
 * protection bits, then stamps the checksum, or sets the torn bits, or the
 * NONE marker. An all-zero page (checksum field and flags aside) stays all
 * zero. */
void pageprot_seal(void *page, int mode);

/* Check and unseal an image just read for page `id` under the database's
 * current `mode`: torn bits are put back (whatever the mode, or the data
 * would be wrong), the page's own protection is checked unless mode is NONE,
 * and its self id always. On success a page that had torn bits leaves with a
 * fresh checksum and no protection flags, so the image in memory is a valid
 * CHECKSUM page if someone writes it out verbatim. Returns PAGEPROT_*; r may
 * be NULL. */
int pageprot_open(void *page, pgid_t id, int mode, pageprot_result *r);

/* The protection an on-disk image carries, as SQL Server's m_flagBits shows
 * it: 0x200 checksum, 0x100 torn bits, 0 none (or a zero page). */
unsigned pageprot_flag_bits(const void *page);

/* The 2-bit torn pattern for a page with this pageLSN (1..3). */
unsigned pageprot_torn_pattern(lsn_t lsn);

#endif
