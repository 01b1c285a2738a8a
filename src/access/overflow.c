/* overflow.c — chains of overflow pages for large values (see overflow.h). */
#include "access/overflow.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "access/btree_int.h"

/* New pages per mini-transaction. Each new page is usually logged as a full
 * image (~8 KB), so this bounds one LR_PAGES record to ~50 KB, well inside the
 * smallest VLF (64 KiB) and leaving mtr slots for the bitmaps and the previous
 * batch's last page. */
#define OVF_BATCH 6

static int broken(hdb_err *err, const bt_env *env, pgid_t id, const char *what)
{
    char msg[400];
    snprintf(msg, sizeof msg,
             "The Database ID %" PRIu32 ", Page (%" PRIu32 ":%" PRIu32 "), slot 0 for LOB data type node "
             "does not exist or is damaged (%s). Run DBCC CHECKTABLE.",
             df_db_id(env->df), PGID_FILE(id), PGID_PAGE(id), what);
    return hdb_raise_text(err, 7105, 22, 1, msg);
}

pgid_t ovf_write(const bt_env *env, uint16_t fg_id, uint32_t owner, const uint8_t *data, size_t len,
                 hdb_err *err)
{
    static const uint8_t empty[1];
    space_ctx sc = { env->bp, env->df };
    pgid_t first = 0, tail = 0;   /* tail: last committed page; its next is set by the following batch */
    size_t off = 0;
    if (!data)
        data = empty;
    do {
        mtr m;
        bt_mtr_begin(&m, env);
        bp_frame *prev = NULL;
        if (tail) {
            prev = bp_fix(env->bp, env->df, tail, BP_EXCL, 0, err);
            if (!prev)
                goto fail_mtr;
            if (mtr_own(&m, prev, err) < 0) {
                bp_unfix(prev);
                goto fail_mtr;
            }
        }
        pgid_t batch_first = 0;
        for (int k = 0; k < OVF_BATCH && (off < len || (!first && !batch_first)); k++) {
            bp_frame *f = space_alloc(&sc, &m, fg_id, prev ? bp_id(prev) : 0, err);
            if (!f)
                goto fail_mtr;
            size_t n = len - off < OVF_PAGE_DATA ? len - off : OVF_PAGE_DATA;
            if (bt_op_format(&m, f, PAGE_OVERFLOW, owner, 0, err) < 0 ||
                bt_op_insert(&m, f, 0, data + off, n, err) < 0)
                goto fail_mtr;
            if (prev && (bt_op_set64(&m, prev, BT_NEXT_OFF, bp_id(f), err) < 0 ||
                         bt_op_set64(&m, f, BT_PREV_OFF, bp_id(prev), err) < 0))
                goto fail_mtr;
            if (!batch_first)
                batch_first = bp_id(f);
            prev = f;
            off += n;
        }
        pgid_t last = bp_id(prev);
        if (bt_commit_pages(&m, err) < 0)
            goto fail;   /* mtr_commit already rolled the pages back */
        if (!first)
            first = batch_first;
        tail = last;
        continue;
    fail_mtr:
        mtr_abort(&m);
        goto fail;
    } while (off < len);
    return first;

fail:
    /* earlier batches are committed and chained (the failed batch's link to
     * them was rolled back): give their pages back */
    if (first) {
        hdb_err ignore;
        ovf_free(env, first, &ignore);
    }
    return 0;
}

int ovf_read(const bt_env *env, pgid_t first, uint8_t *out, size_t len, hdb_err *err)
{
    size_t off = 0, pages = 0, max_pages = ovf_pages(len);
    pgid_t prev = 0;
    for (pgid_t id = first; id;) {
        if (++pages > max_pages)
            return broken(err, env, id, "the chain is longer than the value");
        bp_frame *f = bp_fix(env->bp, env->df, id, BP_SHARED, 0, err);
        if (!f)
            return -1;
        const void *pg = bp_page(f);
        const page_header *h = page_chdr(pg);
        if (h->type != PAGE_OVERFLOW || h->nslots != 1 || h->prev != prev) {
            bp_unfix(f);
            return broken(err, env, id, "not the next overflow page of the chain");
        }
        uint16_t n;
        const uint8_t *r = page_record(pg, 0, &n);
        if (n > len - off) {
            bp_unfix(f);
            return broken(err, env, id, "the chain holds more bytes than the value");
        }
        memcpy(out + off, r, n);
        off += n;
        prev = id;
        id = h->next;
        bp_unfix(f);
    }
    if (off != len || !first)
        return broken(err, env, first, "the chain holds fewer bytes than the value");
    return 0;
}

int ovf_free(const bt_env *env, pgid_t first, hdb_err *err)
{
    pgid_t *ids = NULL;
    size_t n = 0, cap = 0;
    int rc = 0;
    pgid_t prev = 0;
    /* Collect first: a page's next pointer must be read before it is freed.
     * Only overflow pages are freed, so a bad pointer cannot free index pages. */
    uint64_t cap_pages = bt_page_cap(env->df);
    for (pgid_t id = first; id && rc == 0;) {
        if (n >= cap_pages) {
            rc = broken(err, env, id, "the chain loops");
            break;
        }
        bp_frame *f = bp_fix(env->bp, env->df, id, BP_SHARED, 0, err);
        if (!f) {
            rc = -1;
            break;
        }
        const page_header *h = page_chdr(bp_page(f));
        int ok = h->type == PAGE_OVERFLOW && h->prev == prev;
        pgid_t next = h->next;
        bp_unfix(f);
        if (!ok) {
            rc = broken(err, env, id, "not the next overflow page of the chain");
            break;
        }
        if (n == cap) {
            size_t nc = cap ? cap * 2 : 64;
            pgid_t *p = realloc(ids, nc * sizeof *ids);
            if (!p) {
                rc = hdb_raise_text(err, 701, 19, 1, "There is insufficient system memory to run this query.");
                break;
            }
            ids = p;
            cap = nc;
        }
        ids[n++] = id;
        prev = id;
        id = next;
    }
    if (rc == 0)
        rc = bt_free_pages(env, ids, n, err);
    free(ids);
    return rc;
}
