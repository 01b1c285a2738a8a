/*
 * space.h — page allocation inside a database's data files.
 *
 * Layout of every data file:
 *   page 0            file header (PAGE_FILE_HEADER): file id, filegroup, names
 *   page k*I + 1      allocation bitmap for pages [k*I, (k+1)*I), I = SPACE_INTERVAL
 *                     (one bit per page: 1 = allocated). One bitmap byte is one
 *                     extent of 8 pages, so a free extent is a zero byte.
 *   page 2 of file 1  the boot page (engine/boot.h)
 * System pages are allocated in their bitmap when the file is formatted.
 *
 * Allocation policy: a page near `hint` (same extent) when one is free, else
 * the first page of a wholly free extent (so an object's pages cluster in
 * extents), else any free page; else the file grows (df_ensure_pages, which
 * raises 1105 when it cannot). Files of a filegroup are filled in turn.
 *
 * Every bitmap change is a PO_SETBYTES op in the caller's mtr, so allocation is
 * atomic with the structure change that uses the page (a split allocates its
 * new page in the same log record). The bitmap frame is owned by the mtr and
 * stays X-latched until it commits — allocations in one filegroup serialize on
 * it for that short moment.
 */
#ifndef HDB_ACCESS_SPACE_H
#define HDB_ACCESS_SPACE_H

#include <stdint.h>

#include "log/mtr.h"
#include "storage/bufpool.h"
#include "storage/datafile.h"

#define SPACE_INTERVAL ((uint32_t)((PAGE_SIZE - PAGE_HEADER_SIZE) * 8))
#define SPACE_BOOT_PAGE PGID(1, 2)

typedef struct space_ctx {
    bufpool *bp;
    dbfiles *df;
} space_ctx;

/* Format a new (empty) data file's header and first bitmap through `m`.
 * Marks pages 0, 1 (and 2 for file 1) allocated. */
int space_format_file(const space_ctx *sc, mtr *m, uint16_t file_id, uint16_t fg_id, hdb_err *err);

/* Allocate one page in filegroup fg near hint. The new page's frame is returned
 * X-latched (BP_NOREAD: contents undefined until the caller formats it through
 * the same mtr) and owned by the mtr. */
bp_frame *space_alloc(const space_ctx *sc, mtr *m, uint16_t fg_id, pgid_t hint, hdb_err *err);
/* Mark page id free (its bit cleared through m). */
int space_free(const space_ctx *sc, mtr *m, pgid_t id, hdb_err *err);
/* Set (on = 1) or clear page id's bit through m, whatever it was (DBCC
 * repair: space_free's counterpart for a page in use but marked free). */
int space_set_allocated(const space_ctx *sc, mtr *m, pgid_t id, int on, hdb_err *err);
/* 1 if allocated, 0 if free, -1 on error. */
int space_is_allocated(const space_ctx *sc, pgid_t id, hdb_err *err);
/* Allocated and total pages of a file (DBCC, sys.database_files). */
int space_usage(const space_ctx *sc, uint16_t file_id, uint64_t *used, uint64_t *total, hdb_err *err);

#endif
