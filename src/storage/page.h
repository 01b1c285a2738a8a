/*
 * page.h — the 8 KiB page: on-disk header, checksum, slotted-record layout.
 *
 * Every page of every data file starts with this 96-byte header (little-endian):
 *
 *   off size field
 *     0   4  checksum     CRC-32C of bytes 4..8191, stamped when the page is written
 *                         (or torn bits / the NONE mark: storage/pageprot.h)
 *     4   2  format       PAGE_FORMAT (1)
 *     6   1  type         enum page_type
 *     7   1  flags        on disk: the page's protection (pageprot.h)
 *     8   8  id           the page's own id (file << 32 | page number): a page read
 *                         from the wrong place is caught ("wrong page id", 824)
 *    16   8  lsn          pageLSN: LSN of the last log record applied to this page
 *    24   4  owner        object (index) id the page belongs to, 0 for system pages
 *    28   2  level        B+tree level (0 = leaf)
 *    30   2  nslots       number of slots in the slot array
 *    32   2  free_lo      end of the slot array (first free byte)
 *    34   2  free_hi      start of the record area (records grow down from 8192)
 *    36   2  frag         bytes inside the record area freed by deletes (compactable)
 *    38   2  reserved
 *    40   8  prev         previous page at the same level (B+tree), 0 = none
 *    48   8  next         next page at the same level, 0 = none
 *    56  40  special      type-specific (B+tree internal: leftmost child)
 *    96      slot array: nslots x { u16 offset, u16 length }, then free space,
 *            then records, packed toward the end of the page.
 *
 * A page that was never written reads as all zeros; such a page is "unformatted"
 * (type PAGE_UNUSED, checksum 0) and passes verification.
 *
 * Invariant: a page's bytes change only through page_apply() of a logged page
 * operation (pageop.h) or while it is being formatted by a logged operation, so
 * redo — crash recovery, restore, mirroring — reproduces every page exactly.
 */
#ifndef HDB_STORAGE_PAGE_H
#define HDB_STORAGE_PAGE_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define PAGE_SIZE        8192
#define PAGE_HEADER_SIZE 96
#define PAGE_FORMAT      1
#define PAGE_SLOT_SIZE   4

typedef uint64_t pgid_t;  /* file id << 32 | page number; 0 = no page */
#define PGID(file, page)  (((uint64_t)(uint32_t)(file) << 32) | (uint32_t)(page))
#define PGID_FILE(id)     ((uint32_t)((id) >> 32))
#define PGID_PAGE(id)     ((uint32_t)(id))

typedef uint64_t lsn_t;   /* log sequence number: byte position in the database's log */

enum page_type {
    PAGE_UNUSED = 0,
    PAGE_FILE_HEADER = 1, /* page 0 of every data file */
    PAGE_ALLOC = 2,       /* allocation bitmap: one bit per page of its interval */
    PAGE_BOOT = 3,        /* page 2 of file 1: database identity, catalog roots */
    PAGE_BTREE_LEAF = 4,
    PAGE_BTREE_INTERNAL = 5,
    PAGE_OVERFLOW = 6,    /* part of a value larger than fits in a row */
    PAGE_DIFFMAP = 7,     /* changed-extent map for differential backups */
};

typedef struct page_header {
    uint32_t checksum;
    uint16_t format;
    uint8_t  type;
    uint8_t  flags;
    uint64_t id;
    uint64_t lsn;
    uint32_t owner;
    uint16_t level;
    uint16_t nslots;
    uint16_t free_lo;
    uint16_t free_hi;
    uint16_t frag;
    uint16_t reserved;
    uint64_t prev;
    uint64_t next;
    uint8_t  special[40];
} page_header;

_Static_assert(sizeof(page_header) == PAGE_HEADER_SIZE, "page header is 96 bytes");

static inline page_header *page_hdr(void *page) { return (page_header *)page; }
static inline const page_header *page_chdr(const void *page) { return (const page_header *)page; }
static inline lsn_t page_lsn(const void *page) { return page_chdr(page)->lsn; }

/* Format `page` as an empty page of `type` with id `id` (all other bytes zeroed). */
void page_format(void *page, pgid_t id, enum page_type type, uint32_t owner, uint16_t level);

/* Checksum over bytes 4..PAGE_SIZE. page_stamp stores it; page_verify checks
 * it and the self id. Returns 0 if good, else sets *expected and *actual and returns
 * 1 = bad checksum, 2 = wrong page id (fills *found_id). */
uint32_t page_checksum(const void *page);
void page_stamp(void *page);
int page_verify(const void *page, pgid_t id, uint32_t *expected, uint32_t *actual, pgid_t *found_id);
int page_is_zero(const void *page);

/* ---- slotted records ---------------------------------------------------- */

/* Bytes a new record of `len` needs (record plus its slot). */
static inline size_t page_need(size_t len) { return len + PAGE_SLOT_SIZE; }
/* Free bytes available for records+slots after compaction. */
size_t page_free_space(const void *page);
/* Contiguous free bytes without compaction. */
size_t page_contig_space(const void *page);

const uint8_t *page_record(const void *page, int slot, uint16_t *len);
/* Insert a record as slot `slot` (0..nslots), shifting later slots up.
 * Compacts if needed. Returns -1 if it does not fit. */
int page_insert(void *page, int slot, const void *rec, uint16_t len);
void page_delete(void *page, int slot);
/* Replace slot's record (may change length). -1 if it does not fit. */
int page_replace(void *page, int slot, const void *rec, uint16_t len);
/* Repack records toward the end of the page, dropping fragmentation. */
void page_compact(void *page);
/* Remove slots [from, nslots). */
void page_truncate(void *page, int from);

#endif
