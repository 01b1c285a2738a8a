/*
 * backup_log.c — copying a range of the log into a backup set, with the mark
 * table and the commit-time index that STOPAT / STOPATMARK search.
 *
 * The log is read with the log manager's ordinary reader (durable records
 * only, each one verified), the same reader recovery uses. Each record goes
 * to the media as framed, at its LSN.
 *
 * A mark is recorded at its transaction's COMMIT (LSN and time), as SQL
 * Server's logmarkhistory does. LR_MARK is written just before that COMMIT,
 * but the durable end may fall between the two. Then, when cut_marks is set,
 * the range ends at the MARK record instead, so the next log backup holds
 * both: records after a pending MARK are held in memory (a handful: the
 * COMMIT follows at once) until its transaction ends.
 */
#include "backup/backup_int.h"

#include <stdlib.h>

typedef struct pend {
    uint64_t txn;
    media_mark m;
} pend;

typedef struct lcopy {
    media_writer *w;
    media_commit *commits;
    size_t ncommits, ccap;
    media_mark   *marks;
    size_t nmarks, mcap;
    pend  *pending;              /* marks whose COMMIT has not been seen */
    size_t npend, pcap;
    uint8_t *held;               /* framed records held back behind a pending mark */
    size_t nheld, hcap;
    lsn_t  held_from;
    uint64_t bytes, records;
    lsn_t  end;
} lcopy;

static int oom(hdb_err *err)
{
    return hdb_raise_text(err, 701, 19, 1, "There is insufficient system memory to run this query.");
}

static int grow(void **p, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap)
        return 0;
    size_t c = *cap ? *cap * 2 : 64;
    while (c < need)
        c *= 2;
    void *n = realloc(*p, c * elem);
    if (!n)
        return -1;
    *p = n;
    *cap = c;
    return 0;
}

static int emit(lcopy *c, lsn_t lsn, const uint8_t *bytes, size_t n, hdb_err *err)
{
    if (media_write_log(c->w, lsn, bytes, n, err) < 0)
        return -1;
    c->bytes += n;
    c->records++;
    c->end = lsn + n;
    return 0;
}

/* Write out what was held behind marks that are now resolved. */
static int release(lcopy *c, hdb_err *err)
{
    size_t off = 0;
    while (off < c->nheld) {
        log_rec r;
        memset(&r, 0, sizeof r);
        if (bk_rec_decode(c->held + off, c->nheld - off, &r) != 0)
            return hdb_raise(err, 3270);
        if (emit(c, r.lsn, c->held + off, r.len, err) < 0)
            return -1;
        off += r.len;
    }
    c->nheld = 0;
    return 0;
}

static int on_record(lcopy *c, const log_rec *r, hdb_err *err)
{
    if (r->kind == LR_MARK) {
        if (grow((void **)&c->pending, &c->pcap, c->npend + 1, sizeof *c->pending) < 0)
            return oom(err);
        pend *p = &c->pending[c->npend++];
        memset(p, 0, sizeof *p);
        p->txn = r->txn_id;
        lread rd;
        lread_init(&rd, r->body, r->body_len);
        lread_u64(&rd);
        lread_str(&rd, p->m.name, sizeof p->m.name);
        lread_str(&rd, p->m.description, sizeof p->m.description);
        lread_str(&rd, p->m.user_name, sizeof p->m.user_name);
        if (c->npend == 1)
            c->held_from = r->lsn;
    } else if (r->kind == LR_COMMIT || r->kind == LR_ABORT) {
        int64_t t = 0;
        if (r->body_len >= 8)
            memcpy(&t, r->body, 8);
        if (r->kind == LR_COMMIT) {
            if (grow((void **)&c->commits, &c->ccap, c->ncommits + 1, sizeof *c->commits) < 0)
                return oom(err);
            c->commits[c->ncommits++] = (media_commit){ r->lsn, t };
        }
        for (size_t i = 0; i < c->npend; i++) {
            if (c->pending[i].txn != r->txn_id)
                continue;
            if (r->kind == LR_COMMIT) {
                if (grow((void **)&c->marks, &c->mcap, c->nmarks + 1, sizeof *c->marks) < 0)
                    return oom(err);
                c->pending[i].m.lsn = r->lsn;
                c->pending[i].m.time = t;
                c->marks[c->nmarks++] = c->pending[i].m;
            }
            c->pending[i] = c->pending[--c->npend];
            break;
        }
    }
    return 0;
}

int bk_copy_log(logmgr *log, media_writer *w, lsn_t from, lsn_t to, int cut_marks,
                bk_progress *prog, bk_log_out *out, hdb_err *err)
{
    lcopy c;
    memset(&c, 0, sizeof c);
    c.w = w;
    c.end = from;
    int rc = -1;
    uint8_t *frame = NULL;
    size_t fcap = 0;
    log_reader *rd = log_reader_open(log, from, 1, err);
    if (!rd)
        return -1;
    log_rec r;
    int k;
    while ((k = log_reader_next(rd, &r, err)) == 1 && r.lsn < to) {
        if (grow((void **)&frame, &fcap, r.len, 1) < 0) {
            oom(err);
            goto out;
        }
        bk_rec_header(frame, &r);
        memcpy(frame + BK_REC_HEADER, r.body, r.body_len);
        memset(frame + BK_REC_HEADER + r.body_len, 0, r.len - BK_REC_HEADER - r.body_len);
        int held_before = c.npend > 0;
        if (on_record(&c, &r, err) < 0)
            goto out;
        if (held_before || c.npend > 0) {
            if (grow((void **)&c.held, &c.hcap, c.nheld + r.len, 1) < 0) {
                oom(err);
                goto out;
            }
            memcpy(c.held + c.nheld, frame, r.len);
            c.nheld += r.len;
            if (c.npend == 0 && release(&c, err) < 0)
                goto out;
        } else if (emit(&c, r.lsn, frame, r.len, err) < 0) {
            goto out;
        }
        if (prog)
            bk_progress_add(prog, r.len);
    }
    if (k < 0)
        goto out;
    if (c.nheld) {
        if (cut_marks)
            c.end = c.held_from;    /* the next log backup starts at the MARK */
        else if (release(&c, err) < 0)
            goto out;
    }
    for (size_t i = 0; i < c.nmarks; i++)
        if (media_write_mark(w, &c.marks[i], err) < 0)
            goto out;
    for (size_t i = 0; i < c.ncommits; i++)
        if (c.commits[i].lsn < c.end && media_write_commit(w, c.commits[i].lsn, c.commits[i].time, err) < 0)
            goto out;
    out->end = c.end;
    out->bytes = c.bytes;
    out->records = c.records;
    rc = 0;
out:
    log_reader_close(rd);
    free(frame);
    free(c.commits);
    free(c.marks);
    free(c.pending);
    free(c.held);
    return rc;
}
