/* Unit tests: file I/O and the fault-injection layer. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "os/fio.h"

static char dir[64];

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/hadr-fio-XXXXXX");
    return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    fault_clear();
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    return system(cmd) == 0 ? 0 : -1;
}

static fio_file *open_file(const char *name)
{
    char path[128];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    hdb_err e;
    fio_file *f = fio_open(path, FIO_CREATE, &e);
    assert_non_null(f);
    return f;
}

static void read_write_and_zero_past_end(void **state)
{
    (void)state;
    fio_file *f = open_file("a");
    hdb_err e;
    assert_int_equal(fio_pwrite(f, "hello", 5, 10, &e), 0);
    char buf[32];
    memset(buf, 'x', sizeof buf);
    assert_int_equal(fio_pread(f, buf, sizeof buf, 0, &e), 0);
    assert_int_equal(buf[0], 0);
    assert_memory_equal(buf + 10, "hello", 5);
    assert_int_equal(buf[31], 0);   /* past the end reads as zeros */
    assert_int_equal(fio_sync(f, &e), 0);
    assert_int_equal(fio_resize(f, 8192, &e), 0);
    assert_int_equal(fio_size(f), 8192);
    fio_close(f);
}

static void open_missing_is_5120(void **state)
{
    (void)state;
    hdb_err e;
    char path[128];
    snprintf(path, sizeof path, "%s/nope/x", dir);
    assert_null(fio_open(path, 0, &e));
    assert_int_equal(e.number, 5120);
    assert_non_null(strstr(e.msg, path));
}

static void nth_write_fails_with_823(void **state)
{
    (void)state;
    fio_file *f = open_file("b.ldf");
    fault_rule r = { .path_contains = "b.ldf", .ops = FIO_OP_WRITE, .nth = 3, .action = FAULT_EIO };
    int id = fault_add(&r);
    hdb_err e;
    assert_int_equal(fio_pwrite(f, "1", 1, 0, &e), 0);
    assert_int_equal(fio_pwrite(f, "2", 1, 1, &e), 0);
    assert_int_equal(fio_pwrite(f, "3", 1, 2, &e), -1);
    assert_int_equal(e.number, 823);
    assert_int_equal(fio_last_errno(), EIO);
    assert_non_null(strstr(e.msg, "b.ldf"));
    assert_int_equal(fio_pwrite(f, "4", 1, 3, &e), 0);  /* only the 3rd */
    assert_int_equal(fault_fired(id), 1);
    fault_clear();
    fio_close(f);
}

static void enospc_corrupt_and_torn(void **state)
{
    (void)state;
    fio_file *f = open_file("c.mdf");
    hdb_err e;
    fault_rule nospace = { .path_contains = "c.mdf", .ops = FIO_OP_RESIZE | FIO_OP_WRITE, .action = FAULT_ENOSPC };
    int id = fault_add(&nospace);
    assert_int_equal(fio_resize(f, 1 << 20, &e), -1);
    assert_int_equal(fio_last_errno(), ENOSPC);
    assert_int_equal(fio_pwrite(f, "x", 1, 0, &e), -1);
    assert_int_equal(fio_last_errno(), ENOSPC);
    fault_remove(id);

    char page[8192];
    memset(page, 'A', sizeof page);
    assert_int_equal(fio_pwrite(f, page, sizeof page, 0, &e), 0);
    fault_rule corrupt = { .path_contains = "c.mdf", .ops = FIO_OP_READ, .nth = 1, .action = FAULT_CORRUPT };
    fault_add(&corrupt);
    char got[8192];
    assert_int_equal(fio_pread(f, got, sizeof got, 0, &e), 0);
    assert_memory_not_equal(got, page, sizeof page);   /* one byte flipped */
    assert_int_equal(fio_pread(f, got, sizeof got, 0, &e), 0);
    assert_memory_equal(got, page, sizeof page);       /* only once */
    fault_clear();

    char newpage[8192];
    memset(newpage, 'B', sizeof newpage);
    fault_rule torn = { .path_contains = "c.mdf", .ops = FIO_OP_WRITE, .nth = 1, .action = FAULT_TORN };
    fault_add(&torn);
    assert_int_equal(fio_pwrite(f, newpage, sizeof newpage, 0, &e), 0);   /* looks fine */
    fault_clear();
    assert_int_equal(fio_pread(f, got, sizeof got, 0, &e), 0);
    assert_int_equal(got[0], 'B');
    assert_int_equal(got[8191], 'A');   /* the second half never arrived */
    fio_close(f);
}

static void offset_ranges_select_operations(void **state)
{
    (void)state;
    fio_file *f = open_file("d.mdf");
    hdb_err e;
    fault_rule r = { .ops = FIO_OP_READ, .offset_lo = 8192, .offset_hi = 16384, .action = FAULT_EIO };
    fault_add(&r);
    char buf[8192];
    assert_int_equal(fio_pread(f, buf, sizeof buf, 0, &e), 0);
    assert_int_equal(fio_pread(f, buf, sizeof buf, 8192, &e), -1);
    assert_int_equal(fio_pread(f, buf, sizeof buf, 16384, &e), 0);
    fault_clear();
    fio_close(f);
}

static void slow_sync_waits_then_succeeds(void **state)
{
    (void)state;
    fio_file *f = open_file("slow");
    hdb_err e;
    fault_rule r = { .path_contains = "slow", .ops = FIO_OP_SYNC, .action = FAULT_SLOW, .delay_ms = 150 };
    int id = fault_add(&r);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    assert_int_equal(fio_pwrite(f, "abc", 3, 0, &e), 0);   /* only syncs are slowed */
    assert_int_equal(fio_sync(f, &e), 0);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    long ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
    assert_true(ms >= 150);
    assert_int_equal(fault_fired(id), 1);
    char buf[3];
    assert_int_equal(fio_pread(f, buf, 3, 0, &e), 0);
    assert_memory_equal(buf, "abc", 3);
    fault_clear();
    fio_close(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(read_write_and_zero_past_end),
        cmocka_unit_test(slow_sync_waits_then_succeeds),
        cmocka_unit_test(open_missing_is_5120),
        cmocka_unit_test(nth_write_fails_with_823),
        cmocka_unit_test(enospc_corrupt_and_torn),
        cmocka_unit_test(offset_ranges_select_operations),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
