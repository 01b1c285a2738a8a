/*
 * fio.h — all file I/O of hadrdb, with the fault-injection layer underneath.
 *
 * Every read, write, sync and resize of a data file, log file or backup media goes
 * through these calls, so tests can make any of them fail at run time:
 *   - fail the Nth matching operation with EIO (-> error 823) or ENOSPC,
 *   - corrupt the bytes a read returns (-> 824 when a checksum is checked),
 *   - tear a write (only its first half reaches the file, as after a power cut),
 * switchable at any time by fault_add()/fault_clear(), compiled in always, off by
 * default (an empty rule list costs one relaxed atomic load per call).
 *
 * Errors are reported as 823 with the OS error text, offset and file name.
 * Disk full comes back as 1105-style ENOSPC: fio sets err->number = 823 but the
 * caller can tell by fio_last_errno() == ENOSPC.
 */
#ifndef HDB_OS_FIO_H
#define HDB_OS_FIO_H

#include <stddef.h>
#include <stdint.h>

#include "util/err.h"

typedef struct fio_file fio_file;

enum {
    FIO_CREATE = 1,   /* create if missing */
    FIO_EXCL   = 2,   /* fail if it exists */
    FIO_RDONLY = 4,
};

/* Open `path`. On failure fills err with 5120 and returns NULL. */
fio_file *fio_open(const char *path, int flags, hdb_err *err);
void fio_close(fio_file *f);
const char *fio_path(const fio_file *f);
int fio_fd(const fio_file *f);

/* Read exactly n bytes at off. Bytes past end of file read as zeros.
 * -1 with 823 on an I/O error (real or injected). */
int fio_pread(fio_file *f, void *buf, size_t n, uint64_t off, hdb_err *err);
/* Write exactly n bytes at off; -1 with 823 (errno kept for fio_last_errno). */
int fio_pwrite(fio_file *f, const void *buf, size_t n, uint64_t off, hdb_err *err);
/* fdatasync: the durability point every guarantee of the log and pages rests on. */
int fio_sync(fio_file *f, hdb_err *err);
/* Grow or shrink to `size` bytes (growth allocates blocks, so ENOSPC shows now). */
int fio_resize(fio_file *f, uint64_t size, hdb_err *err);
/* Grow to `size` by writing zeros (never shrinks). For the log: a block that
 * was only fallocate'd is "unwritten", so the first fdatasync after writing
 * it must also write file metadata — one more disk round trip per commit
 * until the log wraps. Written zeros cost that once, up front. */
int fio_resize_zeroed(fio_file *f, uint64_t size, hdb_err *err);
int64_t fio_size(fio_file *f);
/* errno of this thread's last failed fio call (EIO, ENOSPC, ...). */
int fio_last_errno(void);

/* fsync a directory so a created/renamed file's entry is durable. */
int fio_sync_dir(const char *dir, hdb_err *err);
/* fio_sync_dir of the directory holding `path` ("." for a bare name). */
int fio_sync_parent(const char *path, hdb_err *err);

/* ---- fault injection ---------------------------------------------------- */

typedef enum {
    FIO_OP_READ  = 1,
    FIO_OP_WRITE = 2,
    FIO_OP_SYNC  = 4,
    FIO_OP_RESIZE = 8,
} fio_op;

typedef enum {
    FAULT_EIO = 1,     /* the operation fails with EIO */
    FAULT_ENOSPC,      /* write/resize fails with ENOSPC */
    FAULT_CORRUPT,     /* read succeeds but one byte of the buffer is flipped */
    FAULT_TORN,        /* write stores only the first half of the buffer, then succeeds */
    FAULT_SLOW,        /* the operation waits delay_ms, then runs normally (a slow disk) */
} fault_action;

typedef struct fault_rule {
    const char *path_contains; /* matches files whose path contains this; NULL = all */
    unsigned    ops;           /* mask of fio_op */
    uint64_t    offset_lo, offset_hi; /* only operations touching [lo,hi); hi 0 = any */
    uint64_t    nth;           /* fire on the nth match (1-based); 0 = every match */
    uint64_t    count;         /* after firing once, fire this many more times (nth>0) */
    fault_action action;
    unsigned    delay_ms;      /* FAULT_SLOW */
} fault_rule;

/* Add a rule; returns its id (>0). Rules are checked in order of addition. */
int fault_add(const fault_rule *rule);
void fault_remove(int id);
void fault_clear(void);
/* How many times rule `id` has fired. */
uint64_t fault_fired(int id);

#endif
