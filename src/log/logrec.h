/*
 * logrec.h — the kinds of log records and the layout of their bodies.
 *
 * The log manager frames records (header: len, crc, lsn, prev_lsn, txn_id, kind,
 * flags); this file defines what the body of each kind holds. All integers are
 * little-endian. Strings are u16 length + bytes (UTF-8). Times are microseconds
 * since the Unix epoch (UTC).
 *
 *  kind          txn  body
 *  LR_BEGIN      yes  u64 time, str name, str user, u32 session, u8 flags
 *  LR_COMMIT     yes  u64 time
 *  LR_ABORT      yes  u64 time                     (end of a complete rollback)
 *  LR_PREPARE    yes  u64 time, 16-byte global id, u32 coordinator db id,
 *                     u16 n, n x u32 participant db ids
 *  LR_MARK       yes  u64 time, str name, str description, str user, str db name
 *                     (written just before the COMMIT it marks, in every
 *                     database the marked transaction changed)
 *  LR_ROW        yes  u32 undo_len, undo bytes (logical undo, see below), then
 *                     a page-op list (the redo)
 *  LR_CLR        yes  u64 undo_next_lsn, then a page-op list (redo only)
 *  LR_PAGES      no   page-op list: a structure change (split, merge, new
 *                     root, allocation, formatting) — redo only, never undone
 *  LR_CKPT_BEGIN no   u64 time
 *  LR_CKPT_END   no   u64 begin_lsn, u64 next_txn_id, u32 natt, natt x att entry,
 *                     u32 ndpt, ndpt x {u64 page id, u64 rec_lsn}
 *  LR_FILE       no   u8 op (1 = add file, 2 = remove file), u16 file id,
 *                     u16 filegroup id, str logical name, str path, u32 pages
 *
 *  page-op list:  u16 n, n x { u64 page id, u32 len, len bytes of pageop }
 *  att entry:     u64 txn id, u8 state, u64 first_lsn, u64 last_lsn,
 *                 u64 undo_next_lsn
 *  logical undo:  u8 op (UNDO_INSERT, UNDO_DELETE, UNDO_UPDATE), u32 object id,
 *                 u16 index id, u32 key_len, key, u32 row_len, row (old row for
 *                 delete/update; empty for insert). The access layer owns its
 *                 meaning; recovery hands it back to access for rollback.
 */
#ifndef HDB_LOG_LOGREC_H
#define HDB_LOG_LOGREC_H

#include <stddef.h>
#include <stdint.h>

#include "storage/page.h"
#include "util/err.h"

enum log_kind {
    LR_BEGIN = 1,
    LR_COMMIT,
    LR_ABORT,
    LR_PREPARE,
    LR_MARK,
    LR_ROW,
    LR_CLR,
    LR_PAGES,
    LR_CKPT_BEGIN,
    LR_CKPT_END,
    LR_FILE,
    LR_KIND_MAX
};

const char *logrec_kind_name(int kind);
/* Does this kind carry a page-op list, and at which body offset does it start? */
int logrec_pageops_offset(int kind, const uint8_t *body, size_t len, size_t *off);

/* ---- a small growable byte buffer for building bodies --------------------- */
typedef struct lbuf {
    uint8_t *p;
    size_t   len, cap;
    int      oom;
} lbuf;

void lbuf_init(lbuf *b);
void lbuf_free(lbuf *b);
void lbuf_reset(lbuf *b);
void lbuf_put(lbuf *b, const void *data, size_t n);
void lbuf_u8(lbuf *b, uint8_t v);
void lbuf_u16(lbuf *b, uint16_t v);
void lbuf_u32(lbuf *b, uint32_t v);
void lbuf_u64(lbuf *b, uint64_t v);
void lbuf_str(lbuf *b, const char *s);
/* Reserve n bytes and return where they start (valid until the next put). */
uint8_t *lbuf_grow(lbuf *b, size_t n);

/* ---- a bounds-checked reader over a body -------------------------------- */
typedef struct lread {
    const uint8_t *p;
    size_t len, pos;
    int bad;            /* set when a read ran past the end */
} lread;

void lread_init(lread *r, const void *p, size_t len);
uint8_t  lread_u8(lread *r);
uint16_t lread_u16(lread *r);
uint32_t lread_u32(lread *r);
uint64_t lread_u64(lread *r);
const uint8_t *lread_bytes(lread *r, size_t n);
/* Copies a string into out (truncated to cap-1) and NUL-terminates. */
void lread_str(lread *r, char *out, size_t cap);

/* ---- page-op lists ------------------------------------------------------- */
typedef struct pageop_iter {
    lread r;
    uint16_t n, i;
} pageop_iter;

int  pageop_iter_init(pageop_iter *it, const uint8_t *list, size_t len);
/* 1 = an op (id, op, oplen), 0 = done, -1 = malformed. */
int  pageop_iter_next(pageop_iter *it, pgid_t *id, const uint8_t **op, size_t *oplen);

/* Checkpoint active-transaction-table entry states. */
enum att_state { ATT_ACTIVE = 1, ATT_PREPARED = 2, ATT_COMMITTED = 3, ATT_ABORTING = 4 };

#endif
