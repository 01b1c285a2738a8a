/* mtr.c — mini-transactions (see mtr.h). */
#include "log/mtr.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "storage/pageop.h"

static const char oom_text[] = "There is insufficient system memory to run this query.";

/* Watches (see mtr.h): a slot is published by storing its log last, so a
 * committer that sees the log sees fn and ctx too. */
static struct {
    _Atomic(logmgr *) log;
    mtr_watch_fn      fn;
    void             *ctx;
} watches[MTR_MAX_WATCHES];
static atomic_int nwatches;
static pthread_mutex_t watch_mu = PTHREAD_MUTEX_INITIALIZER;

int mtr_watch(logmgr *log, mtr_watch_fn fn, void *ctx)
{
    pthread_mutex_lock(&watch_mu);
    int slot = -1;
    for (int i = 0; i < MTR_MAX_WATCHES && slot < 0; i++)
        if (!atomic_load(&watches[i].log))
            slot = i;
    if (slot >= 0) {
        watches[slot].fn = fn;
        watches[slot].ctx = ctx;
        atomic_store(&watches[slot].log, log);
        atomic_fetch_add(&nwatches, 1);
    }
    pthread_mutex_unlock(&watch_mu);
    return slot < 0 ? -1 : 0;
}

void mtr_unwatch(logmgr *log)
{
    pthread_mutex_lock(&watch_mu);
    for (int i = 0; i < MTR_MAX_WATCHES; i++)
        if (atomic_load(&watches[i].log) == log) {
            atomic_store(&watches[i].log, NULL);
            atomic_fetch_sub(&nwatches, 1);
        }
    pthread_mutex_unlock(&watch_mu);
}

static int run_watches(mtr *m, hdb_err *err)
{
    for (int w = 0; w < MTR_MAX_WATCHES; w++) {
        if (atomic_load_explicit(&watches[w].log, memory_order_acquire) != m->log)
            continue;
        for (int i = 0; i < m->npages; i++)
            if (watches[w].fn(watches[w].ctx, bp_id(m->pages[i].frame), m->pages[i].before, err) < 0)
                return -1;
    }
    return 0;
}

void mtr_begin(mtr *m, logmgr *log, lsn_t fpw_lsn)
{
    (void)fpw_lsn;   /* the log's redo point is authoritative (see mtr.h) */
    memset(m, 0, sizeof *m);
    m->log = log;
    m->fpw_lsn = log_redo_point(log);
    lbuf_init(&m->ops);
}

static void release(mtr *m)
{
    for (int i = 0; i < m->npages; i++) {
        free(m->pages[i].before);
        if (m->pages[i].owned)
            bp_unfix(m->pages[i].frame);
    }
    lbuf_free(&m->ops);
    m->npages = 0;
    m->nops = 0;
}

void mtr_abort(mtr *m)
{
    for (int i = 0; i < m->npages; i++)
        memcpy(bp_page(m->pages[i].frame), m->pages[i].before, PAGE_SIZE);
    release(m);
}

static int page_index(mtr *m, bp_frame *f, hdb_err *err)
{
    for (int i = 0; i < m->npages; i++)
        if (m->pages[i].frame == f)
            return i;
    if (m->npages == MTR_MAX_PAGES)
        return hdb_raise_text(err, 40000, 16, 1, "Internal error: too many pages in one logged change.");
    uint8_t *copy = malloc(PAGE_SIZE);
    if (!copy)
        return hdb_raise_text(err, 701, 19, 1, oom_text);
    memcpy(copy, bp_page(f), PAGE_SIZE);
    int i = m->npages++;
    memset(&m->pages[i], 0, sizeof m->pages[i]);
    m->pages[i].frame = f;
    m->pages[i].before = copy;
    /* first change since the checkpoint began: log the whole page (see mtr.h) */
    m->pages[i].image = page_lsn(copy) < m->fpw_lsn || page_chdr(copy)->type == PAGE_UNUSED;
    return i;
}

int mtr_own(mtr *m, bp_frame *f, hdb_err *err)
{
    int i = page_index(m, f, err);
    if (i < 0)
        return -1;
    m->pages[i].owned = 1;
    return 0;
}

int mtr_add(mtr *m, bp_frame *f, const uint8_t *op, size_t len, hdb_err *err)
{
    int i = page_index(m, f, err);
    if (i < 0)
        return -1;
    if (!pageop_apply(bp_page(f), bp_id(f), op, len, page_lsn(bp_page(f))))
        return hdb_raise_text(err, 40000, 16, 1, "Internal error: a page change could not be applied.");
    if (m->pages[i].image)
        return 0;   /* the image logged at commit carries this change */
    lbuf_u32(&m->ops, (uint32_t)i);
    lbuf_u32(&m->ops, (uint32_t)len);
    lbuf_put(&m->ops, op, len);
    m->nops++;
    if (m->ops.oom)
        return hdb_raise_text(err, 701, 19, 1, oom_text);
    return 0;
}

int mtr_add_image(mtr *m, bp_frame *f, hdb_err *err)
{
    int i = page_index(m, f, err);
    if (i < 0)
        return -1;
    m->pages[i].image = 1;
    return 0;
}

/* Build the record body: prefix, then per page its whole image (first change
 * since the redo point) or its ops. */
static int build_body(mtr *m, lbuf *body, const void *prefix, size_t prefix_len)
{
    lbuf_reset(body);
    lbuf_put(body, prefix, prefix_len);
    size_t count_at = body->len;
    lbuf_u16(body, 0);
    uint16_t n = 0;
    for (int i = 0; i < m->npages; i++) {
        bp_frame *f = m->pages[i].frame;
        if (!m->pages[i].image)
            continue;
        lbuf_u64(body, bp_id(f));
        lbuf_u32(body, PAGEOP_IMAGE_SIZE);
        uint8_t *at = lbuf_grow(body, PAGEOP_IMAGE_SIZE);
        if (at)
            pageop_image(at, PAGEOP_IMAGE_SIZE, bp_page(f));
        n++;
    }
    lread r;
    lread_init(&r, m->ops.p, m->ops.len);
    for (int k = 0; k < m->nops; k++) {
        uint32_t i = lread_u32(&r), len = lread_u32(&r);
        const uint8_t *op = lread_bytes(&r, len);
        if (m->pages[i].image)
            continue;   /* became an image after this op was queued */
        lbuf_u64(body, bp_id(m->pages[i].frame));
        lbuf_u32(body, len);
        lbuf_put(body, op, len);
        n++;
    }
    if (body->oom)
        return -1;
    memcpy(body->p + count_at, &n, 2);
    return 0;
}

lsn_t mtr_commit(mtr *m, log_rec *rec, const void *prefix, size_t prefix_len, hdb_err *err)
{
    if (atomic_load_explicit(&nwatches, memory_order_relaxed) && run_watches(m, err) < 0) {
        mtr_abort(m);
        return 0;
    }
    lbuf body;
    lbuf_init(&body);
    lsn_t lsn = 0;
    int ticket = log_mtr_enter(m->log);   /* until the pages are marked dirty (log_mtr_drain) */
    for (;;) {
        if (build_body(m, &body, prefix, prefix_len) < 0) {
            hdb_raise_text(err, 701, 19, 1, oom_text);
            break;
        }
        rec->body = body.p;
        rec->body_len = (uint32_t)body.len;
        int stale = 0;
        lsn = log_append_fpw(m->log, rec, m->fpw_lsn, &stale, err);
        if (lsn || !stale)
            break;
        /* a checkpoint took a new redo point: pages not imaged since must be */
        m->fpw_lsn = log_redo_point(m->log);
        for (int i = 0; i < m->npages; i++)
            if (page_lsn(m->pages[i].before) < m->fpw_lsn)
                m->pages[i].image = 1;
    }
    lbuf_free(&body);
    if (!lsn) {
        log_mtr_leave(m->log, ticket);
        mtr_abort(m);
        return 0;
    }
    for (int i = 0; i < m->npages; i++)
        bp_dirty(m->pages[i].frame, lsn);
    log_mtr_leave(m->log, ticket);
    release(m);
    return lsn;
}
