/*
 * run_writer.h — page runs written by a second thread, so that RESTORE reads
 * and checks the next run of pages while the previous one is written.
 *
 * A restore is one CPU-bound thread otherwise: copying the pages into the
 * page cache (pwrite) and checking them (CRCs, reads of the media) each take
 * about half of it. Two buffers: the caller fills one (rw_buffer) while the
 * writer thread writes the other; rw_submit hands the filled one over and
 * returns the other once its write is done. A write error is kept and
 * returned by the next rw_submit or by rw_finish, so nothing after a failed
 * write is reported as written.
 */
#ifndef HDB_BACKUP_RUN_WRITER_H
#define HDB_BACKUP_RUN_WRITER_H

#include <stddef.h>
#include <stdint.h>

#include "os/fio.h"
#include "util/err.h"

typedef struct run_writer run_writer;

/* Two buffers of buf_bytes each and the writer thread; NULL (701 in err) if
 * any could not be had. */
run_writer *rw_start(size_t buf_bytes, hdb_err *err);

/* The buffer to fill now. */
uint8_t *rw_buffer(run_writer *w);

/* Writes the first n bytes of the current buffer to f at off, in the
 * writer thread; the next rw_buffer is the other one. 0, or -1 with err
 * from an earlier write that failed. */
int rw_submit(run_writer *w, fio_file *f, size_t n, uint64_t off, hdb_err *err);

/* Waits for the last write, stops the thread, frees everything: 0, or -1
 * with the first write error. Safe on NULL. */
int rw_finish(run_writer *w, hdb_err *err);

#endif
