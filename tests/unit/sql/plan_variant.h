/*
 * plan_variant.h — a batch text with each of its cacheable constants replaced
 * by another of the same kind (test_plancache.c, fuzz_sql.c): if the plan
 * cache hands out a tree for the variant, that tree with the variant's values
 * must be the variant's own parse.
 */
#ifndef HDB_TEST_PLAN_VARIANT_H
#define HDB_TEST_PLAN_VARIANT_H

#include <string.h>

#include "sql/plancache.h"

/* Writes the variant of sql (scanned as sc) into out (cap bytes); false when
 * it does not fit. */
static inline bool plan_variant(const char *sql, size_t len, const plan_scan *sc, char *out, size_t cap)
{
    size_t o = 0, at = 0;
    for (int k = 0; k <= sc->nspans; k++) {
        size_t upto = k < sc->nspans ? sc->spans[k].offset : len;
        const char *rep = "";
        if (k < sc->nspans) {
            char kind = sc->spans[k].kind;
            rep = kind == 'i' ? "7" : kind == 'I' ? "98765432109" : kind == 'd' ? "3.25" : kind == 's' ? "'zq''y'" : "N'zq'";
        }
        size_t n = upto - at, r = strlen(rep);
        if (o + n + r + 1 > cap)
            return false;
        memcpy(out + o, sql + at, n);
        memcpy(out + o + n, rep, r);
        o += n + r;
        at = k < sc->nspans ? sc->spans[k].offset + sc->spans[k].len : len;
    }
    out[o] = 0;
    return true;
}

#endif
