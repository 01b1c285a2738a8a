/* logrec.c — record kind names, body builders and readers (see logrec.h). */
#include "log/logrec.h"

#include <stdlib.h>
#include <string.h>

static const char *const kind_names[LR_KIND_MAX] = {
    [LR_BEGIN] = "BEGIN_XACT",   [LR_COMMIT] = "COMMIT_XACT", [LR_ABORT] = "ABORT_XACT",
    [LR_PREPARE] = "PREP_XACT",  [LR_MARK] = "MARK_XACT",     [LR_ROW] = "MODIFY_ROW",
    [LR_CLR] = "COMPENSATION",   [LR_PAGES] = "MODIFY_PAGES", [LR_CKPT_BEGIN] = "BEGIN_CKPT",
    [LR_CKPT_END] = "END_CKPT",  [LR_FILE] = "FILE_OP",
};

const char *logrec_kind_name(int kind)
{
    if (kind <= 0 || kind >= LR_KIND_MAX || !kind_names[kind])
        return "UNKNOWN";
    return kind_names[kind];
}

int logrec_pageops_offset(int kind, const uint8_t *body, size_t len, size_t *off)
{
    switch (kind) {
    case LR_PAGES:
        *off = 0;
        return 1;
    case LR_CLR:
        *off = 8;
        return len >= 8;
    case LR_ROW: {
        if (len < 4)
            return 0;
        uint32_t ul;
        memcpy(&ul, body, 4);
        *off = 4 + (size_t)ul;
        return *off <= len;
    }
    default:
        return 0;
    }
}

void lbuf_init(lbuf *b) { memset(b, 0, sizeof *b); }
void lbuf_free(lbuf *b) { free(b->p); lbuf_init(b); }
void lbuf_reset(lbuf *b) { b->len = 0; b->oom = 0; }

uint8_t *lbuf_grow(lbuf *b, size_t n)
{
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->len + n)
            cap *= 2;
        uint8_t *p = realloc(b->p, cap);
        if (!p) {
            b->oom = 1;
            return NULL;
        }
        b->p = p;
        b->cap = cap;
    }
    if (!b->p)
        return NULL;    /* nothing asked of an empty buffer: no pointer arithmetic on NULL */
    uint8_t *at = b->p + b->len;
    b->len += n;
    return at;
}

void lbuf_put(lbuf *b, const void *data, size_t n)
{
    uint8_t *at = lbuf_grow(b, n);
    if (at && n)
        memcpy(at, data, n);
}

void lbuf_u8(lbuf *b, uint8_t v) { lbuf_put(b, &v, 1); }
void lbuf_u16(lbuf *b, uint16_t v) { lbuf_put(b, &v, 2); }
void lbuf_u32(lbuf *b, uint32_t v) { lbuf_put(b, &v, 4); }
void lbuf_u64(lbuf *b, uint64_t v) { lbuf_put(b, &v, 8); }

void lbuf_str(lbuf *b, const char *s)
{
    size_t n = s ? strlen(s) : 0;
    if (n > 65535)
        n = 65535;
    lbuf_u16(b, (uint16_t)n);
    lbuf_put(b, s, n);
}

void lread_init(lread *r, const void *p, size_t len)
{
    r->p = p;
    r->len = len;
    r->pos = 0;
    r->bad = 0;
}

const uint8_t *lread_bytes(lread *r, size_t n)
{
    if (r->bad || r->len - r->pos < n) {
        r->bad = 1;
        return NULL;
    }
    const uint8_t *at = r->p + r->pos;
    r->pos += n;
    return at;
}

#define LREAD_INT(name, type)                          \
    type name(lread *r)                                \
    {                                                  \
        type v = 0;                                    \
        const uint8_t *at = lread_bytes(r, sizeof v);  \
        if (at)                                        \
            memcpy(&v, at, sizeof v);                  \
        return v;                                      \
    }
LREAD_INT(lread_u8, uint8_t)
LREAD_INT(lread_u16, uint16_t)
LREAD_INT(lread_u32, uint32_t)
LREAD_INT(lread_u64, uint64_t)

void lread_str(lread *r, char *out, size_t cap)
{
    uint16_t n = lread_u16(r);
    const uint8_t *s = lread_bytes(r, n);
    size_t k = (s && cap) ? (n < cap - 1 ? n : cap - 1) : 0;
    if (k)
        memcpy(out, s, k);
    if (cap)
        out[k] = 0;
}

int pageop_iter_init(pageop_iter *it, const uint8_t *list, size_t len)
{
    lread_init(&it->r, list, len);
    it->n = lread_u16(&it->r);
    it->i = 0;
    return it->r.bad ? -1 : 0;
}

int pageop_iter_next(pageop_iter *it, pgid_t *id, const uint8_t **op, size_t *oplen)
{
    if (it->i >= it->n)
        return 0;
    *id = lread_u64(&it->r);
    uint32_t n = lread_u32(&it->r);
    *op = lread_bytes(&it->r, n);
    *oplen = n;
    if (it->r.bad)
        return -1;
    it->i++;
    return 1;
}
