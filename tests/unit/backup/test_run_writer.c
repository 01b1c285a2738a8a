/*
 * test_run_writer.c — RESTORE's second writing thread: every run lands where
 * it was sent, in either buffer; a failed write is reported by the next
 * hand-over and by the finish, and nothing after it is written.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backup/run_writer.h"

#define RUN 8192
#define RUNS 64

static char dir[64], path[128];

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/hadr-rw-XXXXXX");
    if (!mkdtemp(dir))
        return -1;
    snprintf(path, sizeof path, "%s/f", dir);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    fault_clear();
    unlink(path);
    rmdir(dir);
    return 0;
}

/* Runs written out of order (every other run first), each filled with its number. */
static void runs_land_in_place(void **state)
{
    (void)state;
    hdb_err e = { 0 };
    fio_file *f = fio_open(path, FIO_CREATE, &e);
    assert_non_null(f);
    run_writer *w = rw_start(RUN, &e);
    assert_non_null(w);
    for (int pass = 0; pass < 2; pass++)
        for (int r = pass; r < RUNS; r += 2) {
            uint8_t *b = rw_buffer(w);
            memset(b, r + 1, RUN);
            assert_int_equal(rw_submit(w, f, RUN, (uint64_t)r * RUN, &e), 0);
        }
    assert_int_equal(rw_finish(w, &e), 0);
    uint8_t *got = malloc(RUN);
    for (int r = 0; r < RUNS; r++) {
        assert_int_equal(fio_pread(f, got, RUN, (uint64_t)r * RUN, &e), 0);
        for (int i = 0; i < RUN; i++)
            if (got[i] != r + 1)
                fail_msg("run %d byte %d: %d", r, i, got[i]);
    }
    free(got);
    fio_close(f);
}

/* The 5th write fails: a later hand-over or the finish says so, with the
 * write's error, and no run after it reaches the file. */
static void a_failed_write_is_reported(void **state)
{
    (void)state;
    hdb_err e = { 0 };
    fio_file *f = fio_open(path, FIO_CREATE, &e);
    assert_non_null(f);
    fault_rule fr = { .path_contains = dir, .ops = FIO_OP_WRITE, .nth = 5, .action = FAULT_ENOSPC };
    int id = fault_add(&fr);
    run_writer *w = rw_start(RUN, &e);
    assert_non_null(w);
    int failed_at = -1;
    for (int r = 0; r < 20 && failed_at < 0; r++) {
        memset(rw_buffer(w), 0x5a, RUN);
        if (rw_submit(w, f, RUN, (uint64_t)r * RUN, &e) < 0)
            failed_at = r;
    }
    hdb_err fin = { 0 };
    int rc = rw_finish(w, &fin);
    assert_int_equal(fault_fired(id), 1);
    /* the failure of run 4 shows at the latest at the hand-over of run 6 */
    assert_true(failed_at >= 5 && failed_at <= 6);
    assert_true(e.number != 0);
    assert_int_equal(rc, -1);
    assert_int_equal(fin.number, e.number);
    /* runs 0-3 written, 4 failed; whatever was handed over after it was not written */
    uint8_t b = 0;
    assert_int_equal(fio_pread(f, &b, 1, 3 * RUN, &e), 0);
    assert_int_equal(b, 0x5a);
    fio_close(f);
    FILE *fp = fopen(path, "rb");
    fseek(fp, 0, SEEK_END);
    long size = ftell(fp);
    fclose(fp);
    assert_true(size <= 4 * RUN);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(runs_land_in_place, setup, teardown),
        cmocka_unit_test_setup_teardown(a_failed_write_is_reported, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
