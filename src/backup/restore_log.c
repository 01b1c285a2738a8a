/*
 * restore_log.c — reading a set's log back into a database's log, and
 * finding where a point-in-time restore stops.
 *
 * The media hands out runs of log bytes in blocks of up to 1 MiB, so a log
 * record may be split across two runs; records are reassembled here
 * (rs_for_each_record) and appended at their own LSNs (log_append_restored). A run starting at a new
 * LSN (the next VLF) must find nothing half-assembled.
 *
 * Stop points (all exclusive bounds on LSN; redo and undo never see what lies
 * at or beyond them, because it is never installed):
 *   STOPAT t            the first COMMIT later than t (commit-time index)
 *   STOPATMARK m        just after the COMMIT of the marked transaction
 *   STOPBEFOREMARK m    that COMMIT itself: the transaction is a loser
 *   'lsn:N'             after / at the record N
 *   AFTER t             only marks committed at or after t count
 * Mark names compare case-sensitively, as transaction names always do.
 */
#include "backup/backup_int.h"

#include <stdint.h>
#include <stdlib.h>

int rs_for_each_record(media_reader *mr, int pos, rs_record_fn fn, void *ctx, hdb_err *err)
{
    media_cursor *c = media_cursor_open(mr, pos, err);
    if (!c)
        return -1;
    uint8_t *acc = NULL;
    size_t nacc = 0, cap = 0;
    lsn_t acc_lsn = 0;
    int rc = 0, k;
    media_log_chunk ch;
    while (rc == 0 && (k = media_next_log(c, &ch, err)) == 1) {
        if (nacc && ch.lsn != acc_lsn + nacc) {
            rc = hdb_raise(err, 3189);
            break;
        }
        if (!nacc)
            acc_lsn = ch.lsn;
        if (nacc + ch.len > cap) {
            size_t nc = cap ? cap : 1 << 16;
            while (nc < nacc + ch.len)
                nc *= 2;
            uint8_t *n = realloc(acc, nc);
            if (!n) {
                rc = hdb_raise_text(err, 701, 19, 1, "There is insufficient system memory to run this query.");
                break;
            }
            acc = n;
            cap = nc;
        }
        memcpy(acc + nacc, ch.data, ch.len);
        nacc += ch.len;
        size_t off = 0;
        while (rc == 0) {
            log_rec r;
            int d = bk_rec_decode(acc + off, nacc - off, &r);
            if (d == 1)
                break;
            if (d < 0 || r.lsn != acc_lsn + off) {
                rc = hdb_raise(err, 3189);
                break;
            }
            off += r.len;
            rc = fn(ctx, &r, err);
        }
        memmove(acc, acc + off, nacc - off);
        nacc -= off;
        acc_lsn += off;
    }
    if (rc == 0 && k < 0)
        rc = -1;
    if (rc == 0 && nacc)
        rc = hdb_raise(err, 3189);   /* a record cut short */
    free(acc);
    media_cursor_close(c);
    return rc;
}

typedef struct install_ctx {
    logmgr  *log;
    lsn_t    skip_below, stop;
    uint64_t bytes;
} install_ctx;

static int install_one(void *ctx, const log_rec *r, hdb_err *err)
{
    install_ctx *x = ctx;
    if (r->lsn < x->skip_below || (x->stop && r->lsn >= x->stop))
        return 0;
    if (!log_append_restored(x->log, r, err))
        return -1;
    x->bytes += r->len;
    return 0;
}

int rs_install_log(media_reader *mr, int pos, logmgr *log, lsn_t skip_below, lsn_t stop,
                   uint64_t *bytes, hdb_err *err)
{
    install_ctx x = { log, skip_below, stop, 0 };
    int rc = rs_for_each_record(mr, pos, install_one, &x, err);
    *bytes = x.bytes;
    return rc;
}

int rs_stop_lsn(media_reader *mr, int pos, const restore_opts *o, lsn_t *stop, hdb_err *err)
{
    *stop = 0;
    if (!o->stop_at && !o->stop_mark && !o->stop_mark_lsn)
        return 0;
    const media_set_header *h = media_set_at(mr, pos);
    if (o->stop_mark_lsn) {
        lsn_t n = o->stop_mark_lsn;
        if (n < h->first_lsn)
            return hdb_raise_text(err, 4334, 16, 1, "The named mark does not identify a valid LSN.");
        *stop = n >= h->last_lsn ? UINT64_MAX : (o->stop_before ? n : n + 1);
        return 0;
    }
    media_cursor *c = media_cursor_open(mr, pos, err);
    if (!c)
        return -1;
    int rc = 0;
    *stop = UINT64_MAX;
    if (o->stop_mark) {
        media_mark *m = NULL;
        size_t n = 0;
        rc = media_read_marks(c, &m, &n, err);
        for (size_t i = 0; rc == 0 && i < n; i++) {
            if (strcmp(m[i].name, o->stop_mark) != 0 || (o->stop_after && m[i].time < o->stop_after))
                continue;
            *stop = o->stop_before ? m[i].lsn : m[i].lsn + 1;
            break;
        }
        free(m);
    } else {
        media_commit *cm = NULL;
        size_t n = 0;
        rc = media_read_commits(c, &cm, &n, err);
        for (size_t i = 0; rc == 0 && i < n; i++)
            if (cm[i].time > o->stop_at) {
                *stop = cm[i].lsn;
                break;
            }
        free(cm);
    }
    media_cursor_close(c);
    return rc;
}
