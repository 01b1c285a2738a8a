/*
 * fuzz_sql.c — libFuzzer target for the T-SQL lexer, parser and printer.
 *
 *   make fuzz-sql       (clang -fsanitize=fuzzer,address,undefined; 60 s)
 *
 * Properties checked on every input:
 *   - parse_batch never crashes, leaks or overflows the stack, whatever the
 *     bytes (the nesting and height limits must catch deep input);
 *   - a failed parse always fills the error record (number, severity,
 *     message, line >= 1);
 *   - a successful parse prints to T-SQL that parses again and prints the
 *     same (skipped when the input holds NUL bytes, which the printer's C
 *     string cannot carry);
 *   - the plan cache (sql/plancache.h): a published tree, run with the
 *     values the cache takes from the same text, prints as the parse did;
 *     and if the cache hands that tree to a variant of the text (its
 *     constants replaced by others of the same kind), the variant parses
 *     and prints exactly as the tree with the variant's values.
 * The first input byte picks the options (QUOTED_IDENTIFIER, variable
 * checks), so both lexer modes get explored.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sql/parser.h"
#include "sql/plancache.h"
#include "../unit/sql/plan_variant.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The plan cache property for a batch b parsed from sql into *a and printed
 * as p1 (plancache_insert may take *a over; everything is released here). */
static void check_plan_cache(const parse_opts *o, const char *sql, size_t len, arena *a, ast_batch *b,
                             const char *p1)
{
    plan_scan *sc = plancache_scan(a, sql, len, o->quoted_identifier, NULL, 0);
    plan_entry *pe = sc ? plancache_insert(sc, sql, a, b) : NULL;
    if (!pe)
        return;
    arena w;
    arena_init(&w, 0);
    const plan_lit *lits;
    plan_entry *hit = plancache_lookup(sc, sql, &w, &lits);
    if (!hit)
        abort();
    char *again = ast_batch_to_sql_with(&w, plancache_batch(hit), lits);
    if (again && strcmp(again, p1) != 0)
        abort();
    plancache_release(hit);

    size_t cap = len * 12 + 64;
    char *var = malloc(cap);
    if (var && plan_variant(sql, len, sc, var, cap)) {
        size_t vlen = strlen(var);
        plan_scan *vs = plancache_scan(&w, var, vlen, o->quoted_identifier, NULL, 0);
        hit = vs ? plancache_lookup(vs, var, &w, &lits) : NULL;
        if (hit) {
            char *cached = ast_batch_to_sql_with(&w, plancache_batch(hit), lits);
            ast_batch *vb = NULL;
            hdb_err e = { 0 };
            if (parse_batch(&w, var, vlen, o, &vb, &e, NULL) != 0)
                abort();
            char *own = ast_batch_to_sql(&w, vb);
            if (cached && own && strcmp(cached, own) != 0)
                abort();
            plancache_release(hit);
        }
    }
    free(var);
    plancache_release(pe);
    plancache_flush();
    arena_destroy(&w);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    parse_opts o = { 0 };
    o.quoted_identifier = !(data[0] & 1);
    o.no_variable_check = (data[0] & 2) != 0;
    const char *sql = (const char *)data + 1;
    size_t len = size - 1;

    arena a;
    arena_init(&a, 0);
    /* A hostile batch must not be able to take unbounded memory. */
    arena_set_limit(&a, 256u << 20);
    ast_batch *b = NULL;
    hdb_err e = { 0 };
    int line = 0;
    if (parse_batch(&a, sql, len, &o, &b, &e, &line) != 0) {
        if (e.number == 0 || e.severity == 0 || e.msg[0] == '\0' || line < 1)
            abort();
        arena_destroy(&a);
        return 0;
    }
    if (memchr(sql, '\0', len) == NULL) {
        char *p1 = ast_batch_to_sql(&a, b);
        if (p1) {
            /* Same session options: the printed names and strings do not
             * depend on QUOTED_IDENTIFIER, but unsupported statements are
             * echoed as written, and in-batch SET QUOTED_IDENTIFIER is
             * printed too. */
            ast_batch *b2 = NULL;
            hdb_err e2 = { 0 };
            if (parse_batch(&a, p1, strlen(p1), &o, &b2, &e2, &line) != 0)
                abort();
            char *p2 = ast_batch_to_sql(&a, b2);
            if (p2 && strcmp(p1, p2) != 0)
                abort();
            check_plan_cache(&o, sql, len, &a, b, p1);
        }
    }
    arena_destroy(&a);
    return 0;
}
