/* Unit tests: CRC-32C and the error/message table. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdint.h>
#include <string.h>

#include "util/crc32c.h"
#include "util/err.h"

static void crc_known_vectors(void **state)
{
    (void)state;
    assert_int_equal(crc32c(0, "123456789", 9), 0xE3069283u);
    uint8_t zeros[32] = { 0 };
    assert_int_equal(crc32c(0, zeros, 32), 0x8A9136AAu);
    assert_int_equal(crc32c(0, "", 0), 0u);
}

static void crc_incremental_equals_whole(void **state)
{
    (void)state;
    uint8_t buf[1000];
    for (int i = 0; i < 1000; i++)
        buf[i] = (uint8_t)(i * 7 + 3);
    uint32_t whole = crc32c(0, buf, sizeof buf);
    for (size_t cut = 0; cut <= sizeof buf; cut += 37)
        assert_int_equal(crc32c(crc32c(0, buf, cut), buf + cut, sizeof buf - cut), whole);
}

static void raise_formats_from_table(void **state)
{
    (void)state;
    hdb_err e;
    hdb_err_clear(&e);
    assert_int_equal(hdb_raise(&e, 1205, 57), -1);
    assert_int_equal(e.number, 1205);
    assert_int_equal(e.severity, 13);
    assert_non_null(strstr(e.msg, "Process ID 57"));
    assert_non_null(strstr(e.msg, "deadlock victim"));
    hdb_raise(&e, 208, "dbo.nothing");
    assert_string_equal(e.msg, "Invalid object name 'dbo.nothing'.");
    assert_int_equal(e.severity, 16);
    /* unknown numbers still produce a message, and NULL records are allowed */
    hdb_raise(&e, 987654, 1);
    assert_int_equal(e.number, 987654);
    assert_int_equal(hdb_raise(NULL, 208, "x"), -1);
    hdb_err_clear(&e);
    assert_false(hdb_err_is_set(&e));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(crc_known_vectors),
        cmocka_unit_test(crc_incremental_equals_whole),
        cmocka_unit_test(raise_formats_from_table),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
