/* Unit tests: response tokens — ENVCHANGE, INFO/ERROR, LOGINACK,
 * RETURNSTATUS/RETURNVALUE, COLMETADATA + ROW/NBCROW for every type, and the
 * down-level encodings for 7.1/7.2 sessions. */
#include "tds_test.h"

#include <stdlib.h>

#define COLL "09 04 D0 00 34"

static tds_conn *session(uint32_t version)
{
    tds_conn *c = tds_conn_new_mem(NULL, 0, 1);
    tds_conn_login_ok(c, version, 4096);
    return c;
}

/* Ends the response and returns its payload (one message expected). */
static size_t payload(tds_conn *c, uint8_t *out)
{
    hdb_err e;
    assert_int_equal(tds_end_response(c, &e), 0);
    size_t olen;
    const uint8_t *o = tds_conn_mem_output(c, &olen);
    int nm;
    size_t n = unframe(o, olen, out, &nm);
    assert_int_equal(nm, 1);
    tds_conn_mem_clear_output(c);
    return n;
}

static void expect(tds_conn *c, const char *hex)
{
    static uint8_t got[1 << 16], exp[1 << 16];
    size_t n = payload(c, got);
    size_t m = hexbytes(hex, exp);
    if (n != m || memcmp(got, exp, n) != 0) {
        fprintf(stderr, "expected:");
        for (size_t i = 0; i < m; i++) fprintf(stderr, " %02X", exp[i]);
        fprintf(stderr, "\n     got:");
        for (size_t i = 0; i < n; i++) fprintf(stderr, " %02X", got[i]);
        fprintf(stderr, "\n");
        fail();
    }
}

static void envchange_examples(void **state)
{
    (void)state;
    tds_conn *c = session(TDS_VER_74);
    tds_put_env_collation(c, tds_default_collation, NULL);
    expect(c, "E3 08 00 07 05 09 04 D0 00 34 00");
    tds_put_env_begin_tran(c, 1);
    expect(c, "E3 0B 00 08 08 01 00 00 00 00 00 00 00 00");
    tds_put_env_commit_tran(c, 1);
    expect(c, "E3 0B 00 09 00 08 01 00 00 00 00 00 00 00");
    tds_put_env_rollback_tran(c, 1);
    expect(c, "E3 0B 00 0A 00 08 01 00 00 00 00 00 00 00");
    tds_put_env_reset_ack(c);
    expect(c, "E3 03 00 12 00 00");
    tds_put_env_packet_size(c, 4096, 4096);
    expect(c, "E3 13 00 04 04 34 00 30 00 39 00 36 00 04 34 00 30 00 39 00 36 00");
    tds_put_env_tran_ended(c, 0x0102030405060708ull);
    expect(c, "E3 0B 00 11 00 08 08 07 06 05 04 03 02 01");
    tds_put_env_mirror_partner(c, "P");
    expect(c, "E3 05 00 0D 01 50 00 00");
    tds_put_env_database(c, "db", "master");
    expect(c, "E3 13 00 01 02 64 00 62 00 06 6D 00 61 00 73 00 74 00 65 00 72 00");
    tds_put_env_language(c, "x", "");
    expect(c, "E3 05 00 02 01 78 00 00");
    /* commit-and-begin: 9 strictly before 8 */
    tds_put_env_commit_tran(c, 1);
    tds_put_env_begin_tran(c, 2);
    expect(c, "E3 0B 00 09 00 08 01 00 00 00 00 00 00 00"
              "E3 0B 00 08 08 02 00 00 00 00 00 00 00 00");
    tds_conn_free(c);
}

static void transaction_envchanges_skipped_for_71(void **state)
{
    (void)state;
    tds_conn *c = session(TDS_VER_71);
    tds_put_env_begin_tran(c, 1);
    tds_put_env_commit_tran(c, 1);
    tds_put_env_reset_ack(c);
    tds_put_done(c, TDS_TOKEN_DONE, 0, 0, 0);
    expect(c, "FD 00 00 00 00 00 00 00 00");
    tds_conn_free(c);
}

static void info_and_error_tokens(void **state)
{
    (void)state;
    tds_conn *c = session(TDS_VER_74);
    tds_put_message(c, 5701, 2, 0, "ab", "S", "", 1);
    expect(c, "AB 14 00 45 16 00 00 02 00 02 00 61 00 62 00 01 53 00 00 01 00 00 00");
    hdb_err e;
    hdb_raise_text(&e, 208, 16, 1, "x");
    tds_put_error(c, &e, "", "p", 7);
    expect(c, "AA 12 00 D0 00 00 00 01 10 01 00 78 00 00 01 70 00 07 00 00 00");
    tds_conn_free(c);
    c = session(TDS_VER_71);                       /* 2-byte line number */
    tds_put_message(c, 50000, 1, 16, "", "", "", 3);
    expect(c, "AA 0C 00 50 C3 00 00 01 10 00 00 00 00 03 00");
    tds_conn_free(c);
}

static void loginack_and_returnstatus(void **state)
{
    (void)state;
    tds_conn *c = session(TDS_VER_72);
    static const uint8_t ver[4] = { 15, 0, 0x10, 0x00 };
    tds_put_loginack(c, 1, TDS_VER_72, "X", ver);
    tds_put_returnstatus(c, -1);
    expect(c, "AD 0C 00 01 72 09 00 02 01 58 00 0F 00 10 00  79 FF FF FF FF");
    tds_conn_free(c);
}

/* tds.md 7.5: "int handle 1, unnamed", as captured live. */
static void returnvalue_example(void **state)
{
    (void)state;
    tds_conn *c = session(TDS_VER_74);
    sql_type t = value_type(SQL_INT, 0, 0, 0);
    sql_value v = value_int(SQL_INT, 1);
    hdb_err e;
    assert_int_equal(tds_put_returnvalue(c, 0, "", 1, &t, &v, &e), 0);
    expect(c, "AC 00 00 00 01 00 00 00 00 00 00 26 04 04 01 00 00 00");
    sql_value nv = value_null(SQL_NVARCHAR);
    sql_type nt = value_type(SQL_NVARCHAR, VALUE_LEN_MAX, 0, 0);
    tds_put_returnvalue(c, 2, "@o", 1, &nt, &nv, &e);
    expect(c, "AC 02 00 02 40 00 6F 00 01 00 00 00 00 00 00 E7 FF FF " COLL
              " FF FF FF FF FF FF FF FF");
    tds_conn_free(c);
}

/* One single-column result set: COLMETADATA with column "c" then one ROW. */
static void one(uint32_t version, sql_type t, sql_value v, const char *typeinfo, const char *value)
{
    tds_conn *c = session(version);
    tds_column col = { t, "c", TDS_COL_NULLABLE };
    hdb_err e;
    assert_int_equal(tds_put_colmetadata(c, &col, 1, &e), 0);
    assert_int_equal(tds_put_row(c, &v, 1, &e), 0);
    char hex[4096];
    int v72 = version >= TDS_VER_72;
    /* a NULL goes out as NBCROW from 7.3.B on; check the ROW form on 7.3.A */
    int nbc = v.is_null && version >= TDS_VER_73B;
    snprintf(hex, sizeof hex, "81 01 00 %s 01 00 %s 01 63 00 %s",
             v72 ? "00 00 00 00" : "00 00", typeinfo, nbc ? "D2 01" : "D1");
    if (!nbc)
        snprintf(hex + strlen(hex), sizeof hex - strlen(hex), " %s", value);
    expect(c, hex);
    tds_conn_free(c);
    if (nbc)
        one(TDS_VER_73A, t, v, typeinfo, value);
}

static sql_value str(uint8_t type, const char *s, size_t n) { return value_bytes(type, s, (uint32_t)n); }

static void column_encodings_74(void **state)
{
    (void)state;
    uint32_t V = TDS_VER_74;
    one(V, value_type(SQL_TINYINT, 0, 0, 0), value_int(SQL_TINYINT, 200), "26 01", "01 C8");
    one(V, value_type(SQL_SMALLINT, 0, 0, 0), value_int(SQL_SMALLINT, -2), "26 02", "02 FE FF");
    one(V, value_type(SQL_INT, 0, 0, 0), value_int(SQL_INT, 0x01020304), "26 04", "04 04 03 02 01");
    one(V, value_type(SQL_BIGINT, 0, 0, 0), value_int(SQL_BIGINT, -1), "26 08",
        "08 FF FF FF FF FF FF FF FF");
    one(V, value_type(SQL_INT, 0, 0, 0), value_null(SQL_INT), "26 04", "00");
    one(V, value_type(SQL_BIT, 0, 0, 0), value_int(SQL_BIT, 1), "68 01", "01 01");
    sql_value d = value_decimal(12345);
    one(V, value_type(SQL_DECIMAL, 0, 10, 2), d, "6A 09 0A 02", "09 01 39 30 00 00 00 00 00 00");
    one(V, value_type(SQL_DECIMAL, 0, 5, 2), d, "6A 05 05 02", "05 01 39 30 00 00");
    d = value_decimal(-1);
    d.type = SQL_NUMERIC;
    one(V, value_type(SQL_NUMERIC, 0, 0, 0), d, "6C 11 26 00",
        "11 00 01 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00");
    one(V, value_type(SQL_DECIMAL, 0, 28, 4), value_decimal(1), "6A 0D 1C 04",
        "0D 01 01 00 00 00 00 00 00 00 00 00 00 00");
    one(V, value_type(SQL_MONEY, 0, 0, 0), value_int(SQL_MONEY, 10000), "6E 08",
        "08 00 00 00 00 10 27 00 00");
    one(V, value_type(SQL_MONEY, 0, 0, 0), value_int(SQL_MONEY, 0x0000000100000002LL), "6E 08",
        "08 01 00 00 00 02 00 00 00");
    one(V, value_type(SQL_SMALLMONEY, 0, 0, 0), value_int(SQL_SMALLMONEY, -10000), "6E 04",
        "04 F0 D8 FF FF");
    one(V, value_type(SQL_FLOAT, 0, 0, 0), value_float(SQL_FLOAT, 1.5), "6D 08",
        "08 00 00 00 00 00 00 F8 3F");
    one(V, value_type(SQL_REAL, 0, 0, 0), value_float(SQL_REAL, 1.5), "6D 04", "04 00 00 C0 3F");
    one(V, value_type(SQL_VARCHAR, 10, 0, 0), str(SQL_VARCHAR, "abc", 3), "A7 0A 00 " COLL,
        "03 00 61 62 63");
    one(V, value_type(SQL_CHAR, 5, 0, 0), str(SQL_CHAR, "ab", 2), "AF 05 00 " COLL,
        "05 00 61 62 20 20 20");
    one(V, value_type(SQL_NVARCHAR, 4, 0, 0), str(SQL_NVARCHAR, "a\0b\0", 4), "E7 08 00 " COLL,
        "04 00 61 00 62 00");
    one(V, value_type(SQL_NCHAR, 3, 0, 0), str(SQL_NCHAR, "a\0", 2), "EF 06 00 " COLL,
        "06 00 61 00 20 00 20 00");
    one(V, value_type(SQL_NVARCHAR, 4, 0, 0), value_null(SQL_NVARCHAR), "E7 08 00 " COLL, "FF FF");
    one(V, value_type(SQL_VARBINARY, 4, 0, 0), str(SQL_VARBINARY, "\1\2", 2), "A5 04 00",
        "02 00 01 02");
    one(V, value_type(SQL_BINARY, 3, 0, 0), str(SQL_BINARY, "\1", 1), "AD 03 00", "03 00 01 00 00");
    one(V, value_type(SQL_VARCHAR, VALUE_LEN_MAX, 0, 0), str(SQL_VARCHAR, "hi", 2),
        "A7 FF FF " COLL, "02 00 00 00 00 00 00 00 02 00 00 00 68 69 00 00 00 00");
    one(V, value_type(SQL_NVARCHAR, VALUE_LEN_MAX, 0, 0), str(SQL_NVARCHAR, "", 0),
        "E7 FF FF " COLL, "00 00 00 00 00 00 00 00 00 00 00 00");
    one(V, value_type(SQL_VARBINARY, VALUE_LEN_MAX, 0, 0), value_null(SQL_VARBINARY),
        "A5 FF FF", "FF FF FF FF FF FF FF FF");
    one(V, value_type(SQL_DATE, 0, 0, 0), value_date(738886), "28", "03 46 46 0B");
    one(V, value_type(SQL_TIME, 0, 7, 0), value_time(452961234567LL), "29 07", "05 87 EE 97 76 69");
    one(V, value_type(SQL_TIME, 0, 0, 0), value_time(452960000000LL), "29 00", "03 F0 B0 00");
    one(V, value_type(SQL_DATETIME2, 0, 3, 0), value_datetime2(738886, 15000000), "2A 03",
        "07 DC 05 00 00 46 46 0B");
    one(V, value_type(SQL_DATETIME, 0, 0, 0), value_datetime(1, 300), "6F 08",
        "08 01 00 00 00 2C 01 00 00");
    one(V, value_type(SQL_DATETIME, 0, 0, 0), value_datetime(-53690, 0), "6F 08",
        "08 46 2E FF FF 00 00 00 00");
    uint8_t g[16];
    hexbytes("04 03 02 01 06 05 08 07 09 0A 0B 0C 0D 0E 0F 10", g);
    one(V, value_type(SQL_UNIQUEIDENTIFIER, 0, 0, 0), value_guid(g), "24 10",
        "10 04 03 02 01 06 05 08 07 09 0A 0B 0C 0D 0E 0F 10");
}

static void column_encodings_down_level(void **state)
{
    (void)state;
    /* 7.2: date/time types as NVARCHAR text */
    char v[512];
    one(TDS_VER_72, value_type(SQL_DATE, 0, 0, 0), value_date(738886), "E7 14 00 " COLL,
        "14 00 32 00 30 00 32 00 34 00 2D 00 30 00 31 00 2D 00 30 00 32 00");
    snprintf(v, sizeof v, "18 00 31 00 32 00 3A 00 33 00 34 00 3A 00 35 00 36 00 2E 00 "
             "31 00 32 00 33 00");
    one(TDS_VER_72, value_type(SQL_TIME, 0, 3, 0), value_time(452961234567LL), "E7 18 00 " COLL, v);
    /* 7.2: (max) is PLP already */
    one(TDS_VER_72, value_type(SQL_VARBINARY, VALUE_LEN_MAX, 0, 0), str(SQL_VARBINARY, "\7", 1),
        "A5 FF FF", "01 00 00 00 00 00 00 00 01 00 00 00 07 00 00 00 00");
    /* 7.1: (max) as NTEXT/TEXT/IMAGE with a textptr and TableName */
    tds_conn *c = session(TDS_VER_71);
    tds_column cols[3] = {
        { value_type(SQL_NVARCHAR, VALUE_LEN_MAX, 0, 0), "n", 1 },
        { value_type(SQL_VARCHAR, VALUE_LEN_MAX, 0, 0), "t", 1 },
        { value_type(SQL_VARBINARY, VALUE_LEN_MAX, 0, 0), "i", 1 },
    };
    hdb_err e;
    assert_int_equal(tds_put_colmetadata(c, cols, 3, &e), 0);
    sql_value vals[3] = { str(SQL_NVARCHAR, "a\0", 2), value_null(SQL_VARCHAR),
                          str(SQL_VARBINARY, "\xFF", 1) };
    assert_int_equal(tds_put_row(c, vals, 3, &e), 0);
    expect(c, "81 03 00"
              " 00 00 01 00 63 FE FF FF 7F " COLL " 00 00 01 6E 00"
              " 00 00 01 00 23 FF FF FF 7F " COLL " 00 00 01 74 00"
              " 00 00 01 00 22 FF FF FF 7F 00 00 01 69 00"
              " D1 10 01 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00"
              " 02 00 00 00 61 00"
              " 00"
              " 10 01 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00"
              " 01 00 00 00 FF");
    tds_conn_free(c);
}

static void nbcrow_when_nulls_and_version_allows(void **state)
{
    (void)state;
    tds_column cols[3] = {
        { value_type(SQL_INT, 0, 0, 0), "", 1 },
        { value_type(SQL_INT, 0, 0, 0), "", 1 },
        { value_type(SQL_NVARCHAR, 2, 0, 0), "", 1 },
    };
    sql_value vals[3] = { value_int(SQL_INT, 7), value_null(SQL_INT), str(SQL_NVARCHAR, "z\0", 2) };
    hdb_err e;
    tds_conn *c = session(TDS_VER_74);
    tds_put_colmetadata(c, cols, 3, &e);
    tds_conn_mem_clear_output(c);
    tds_end_response(c, &e);
    tds_conn_mem_clear_output(c);
    assert_int_equal(tds_put_row(c, vals, 3, &e), 0);
    vals[1] = value_int(SQL_INT, 8);
    tds_put_row(c, vals, 3, &e);                     /* no NULL: plain ROW */
    expect(c, "D2 02 04 07 00 00 00 02 00 7A 00  D1 04 07 00 00 00 04 08 00 00 00 02 00 7A 00");
    tds_conn_free(c);
    c = session(TDS_VER_73A);                        /* 7.3.A: no NBCROW */
    tds_put_colmetadata(c, cols, 3, &e);
    tds_end_response(c, &e);
    tds_conn_mem_clear_output(c);
    vals[1] = value_null(SQL_INT);
    tds_put_row(c, vals, 3, &e);
    expect(c, "D1 04 07 00 00 00 00 02 00 7A 00");
    tds_conn_free(c);
    /* wide rows: bitmap of ceil(n/8) bytes */
    c = session(TDS_VER_74);
    tds_column many[20];
    sql_value mv[20];
    for (int i = 0; i < 20; i++) {
        many[i] = (tds_column){ value_type(SQL_TINYINT, 0, 0, 0), "", 1 };
        mv[i] = (i % 3 == 0) ? value_null(SQL_TINYINT) : value_int(SQL_TINYINT, i);
    }
    tds_put_colmetadata(c, many, 20, &e);
    tds_end_response(c, &e);
    tds_conn_mem_clear_output(c);
    tds_put_row(c, mv, 20, &e);
    expect(c, "D2 49 92 04 01 01 01 02 01 04 01 05 01 07 01 08 01 0A 01 0B 01 0D 01 0E 01 10 01 11 01 13");
    tds_conn_free(c);
}

static void bad_rows_write_nothing(void **state)
{
    (void)state;
    tds_conn *c = session(TDS_VER_74);
    tds_column col = { value_type(SQL_VARCHAR, 2, 0, 0), "", 1 };
    hdb_err e;
    tds_put_colmetadata(c, &col, 1, &e);
    tds_end_response(c, &e);
    tds_conn_mem_clear_output(c);
    sql_value v = str(SQL_VARCHAR, "abc", 3);
    assert_int_equal(tds_put_row(c, &v, 1, &e), -1);
    assert_int_equal(e.number, 8152);
    v = value_offrow(SQL_VARCHAR, 5, 100);
    assert_int_equal(tds_put_row(c, &v, 1, &e), -1);
    assert_int_equal(tds_put_row(c, &v, 2, &e), -1);  /* wrong column count */
    size_t olen;
    tds_conn_mem_output(c, &olen);
    assert_int_equal(olen, 0);
    assert_false(c->out_open);
    /* bad types for COLMETADATA */
    tds_column bad = { value_type(SQL_VARCHAR, 9000, 0, 0), "", 1 };
    assert_int_equal(tds_put_colmetadata(c, &bad, 1, &e), -1);
    bad.type = value_type(SQL_DECIMAL, 0, 5, 9);
    assert_int_equal(tds_put_colmetadata(c, &bad, 1, &e), -1);
    bad.type = value_type(SQL_CHAR, VALUE_LEN_MAX, 0, 0);
    assert_int_equal(tds_put_colmetadata(c, &bad, 1, &e), -1);
    sql_value nv = str(SQL_NVARCHAR, "abc", 3);          /* odd UTF-16 length */
    sql_type nt = value_type(SQL_NVARCHAR, 10, 0, 0);
    assert_int_equal(tds_put_returnvalue(c, 0, "", 1, &nt, &nv, &e), -1);
    sql_value dv = value_decimal(100000);
    sql_type dt = value_type(SQL_DECIMAL, 0, 5, 0);
    assert_int_equal(tds_put_returnvalue(c, 0, "", 1, &dt, &dv, &e), -1);
    tds_conn_mem_output(c, &olen);
    assert_int_equal(olen, 0);
    tds_conn_free(c);
}

static void long_messages_and_names_are_cut(void **state)
{
    (void)state;
    tds_conn *c = session(TDS_VER_74);
    char *big = malloc(40001);
    memset(big, 'x', 40000);
    big[40000] = 0;
    tds_put_message(c, 1, 1, 16, big, big, big, 1);
    tds_column col = { value_type(SQL_INT, 0, 0, 0), big, 1 };
    hdb_err e;
    tds_put_colmetadata(c, &col, 1, &e);
    static uint8_t out[1 << 17];
    size_t n = payload(c, out);
    assert_int_equal(out[0], 0xAA);
    size_t tl = get_u16le(out + 1);
    assert_int_equal(out[3 + tl], 0x81);
    assert_int_equal(out[3 + tl + 3 + 4 + 2 + 2], 255);   /* column name cut to 255 */
    assert_true(n > tl);
    free(big);
    tds_conn_free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(envchange_examples),
        cmocka_unit_test(transaction_envchanges_skipped_for_71),
        cmocka_unit_test(info_and_error_tokens),
        cmocka_unit_test(loginack_and_returnstatus),
        cmocka_unit_test(returnvalue_example),
        cmocka_unit_test(column_encodings_74),
        cmocka_unit_test(column_encodings_down_level),
        cmocka_unit_test(nbcrow_when_nulls_and_version_allows),
        cmocka_unit_test(bad_rows_write_nothing),
        cmocka_unit_test(long_messages_and_names_are_cut),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
