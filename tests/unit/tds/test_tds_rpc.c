/* Unit tests: RPC requests (ids, names, batching), SQL batches with
 * ALL_HEADERS, transaction-manager requests. */
#include "tds_test.h"

#include <stdlib.h>

#define COLL "09 04 D0 00 34"

/* MS-TDS 4.8, "RPC Client Request": proc foo3, one unnamed default INTN. */
static void spec_rpc_example(void **state)
{
    (void)state;
    uint8_t pkt[64];
    size_t n = hexbytes("03 01 00 2F 00 00 01 00 16 00 00 00 12 00 00 00"
                        "02 00 00 00 00 00 00 00 00 01 00 00 00 00 04 00"
                        "66 00 6F 00 6F 00 33 00 00 00 00 02 26 02 00", pkt);
    tds_conn *c = tds_conn_new_mem(pkt, n, 1);
    tds_conn_login_ok(c, TDS_VER_74, 4096);
    tds_message m;
    hdb_err e;
    assert_int_equal(tds_read_message(c, &m, &e), TDS_PKT_RPC);
    tds_rpc_request r;
    assert_int_equal(tds_rpc_parse(TDS_VER_74, m.data, m.len, &r, &e), 0);
    assert_true(r.headers.present);
    assert_true(r.headers.transaction == 0x0100000000000000ull);
    assert_int_equal(r.headers.outstanding, 0);
    assert_int_equal(r.ncalls, 1);
    assert_string_equal(r.calls[0].proc_name, "foo3");
    assert_int_equal(r.calls[0].proc_id, 0);
    assert_false(r.calls[0].by_id);
    assert_int_equal(r.calls[0].nparams, 1);
    const tds_param *p = &r.calls[0].params[0];
    assert_string_equal(p->name, "");
    assert_int_equal(p->status, TDS_PARAM_DEFAULT);
    assert_int_equal(p->type.id, SQL_SMALLINT);
    assert_true(p->value.is_null);
    tds_rpc_free(&r);
    tds_message_free(&m);
    tds_conn_free(c);
}

/* tdsodbc's SQLPrepare+SQLExecute: sp_prepexec by id 13, @handle OUT NULL,
 * @params and @stmt as NTEXT, then unnamed values. */
static void tdsodbc_prepexec(void **state)
{
    (void)state;
    tds_buf b;
    buf_init(&b);
    buf_all_headers(&b, 0x42);
    buf_u16le(&b, 0xFFFF);
    buf_u16le(&b, 13);
    buf_u16le(&b, 0);
    uint8_t t[64];
    size_t n;
    /* @handle int OUTPUT = NULL (FreeTDS leaves the name empty) */
    n = hexbytes("00 01 26 04 00", t); buf_put(&b, t, n);
    const char *decl = "@P1 INT,@P2 NVARCHAR(2)", *stmt = "select @P1, @P2";
    buf_u8(&b, 0); buf_u8(&b, 0);
    n = hexbytes("63 FF FF FF 7F " COLL, t); buf_put(&b, t, n);
    buf_u32le(&b, (uint32_t)(2 * strlen(decl))); buf_ascii16(&b, decl);
    buf_u8(&b, 0); buf_u8(&b, 0);
    n = hexbytes("63 FF FF FF 7F " COLL, t); buf_put(&b, t, n);
    buf_u32le(&b, (uint32_t)(2 * strlen(stmt))); buf_ascii16(&b, stmt);
    n = hexbytes("00 00 26 04 04 01 00 00 00", t); buf_put(&b, t, n);
    n = hexbytes("00 00 E7 04 00 " COLL " 02 00 78 00", t); buf_put(&b, t, n);

    tds_rpc_request r;
    hdb_err e;
    assert_int_equal(tds_rpc_parse(TDS_VER_74, b.p, b.len, &r, &e), 0);
    assert_true(r.headers.transaction == 0x42);
    assert_int_equal(r.headers.outstanding, 1);
    tds_rpc *call = &r.calls[0];
    assert_int_equal(call->proc_id, TDS_SP_PREPEXEC);
    assert_true(call->by_id);
    assert_string_equal(call->proc_name, "sp_prepexec");
    assert_int_equal(call->nparams, 5);
    assert_int_equal(call->params[0].status, TDS_PARAM_BYREF);
    assert_true(call->params[0].value.is_null);
    assert_int_equal(call->params[1].value.len, 2 * strlen(decl));
    assert_memory_equal(call->params[2].value.bytes, "s\0e\0l\0", 6);
    assert_int_equal(call->params[3].value.u.i, 1);
    assert_int_equal(call->params[4].type.id, SQL_NVARCHAR);
    assert_int_equal(call->params[4].value.len, 2);
    tds_rpc_free(&r);
    buf_free(&b);
}

/* tedious execSql: sp_executesql by id with NVARCHAR @statement/@params and
 * named values; mssql's PreparedStatement: sp_prepare by name. */
static void named_calls_and_batched_rpcs(void **state)
{
    (void)state;
    tds_buf b;
    buf_init(&b);
    buf_all_headers(&b, 0);
    uint8_t t[64];
    size_t n;
    /* 1: sp_prepare by name, then separator 0xFF */
    buf_u16le(&b, 10); buf_ascii16(&b, "sp_prepare");
    buf_u16le(&b, 0);
    buf_u8(&b, 7); buf_ascii16(&b, "@handle"); buf_u8(&b, 1);
    n = hexbytes("26 04 00", t); buf_put(&b, t, n);
    buf_u8(&b, 0xFF);
    /* 2: sp_execute by id, handle + named value, then NoExec 0xFE */
    buf_u16le(&b, 0xFFFF); buf_u16le(&b, 12); buf_u16le(&b, TDS_RPC_NO_METADATA);
    n = hexbytes("00 00 26 04 04 05 00 00 00", t); buf_put(&b, t, n);
    buf_u8(&b, 3); buf_ascii16(&b, "@id"); buf_u8(&b, 0);
    n = hexbytes("26 08 08 07 00 00 00 00 00 00 00", t); buf_put(&b, t, n);
    buf_u8(&b, 0xFE);
    /* 3: a user procedure with a qualified name and no parameters */
    buf_u16le(&b, 12); buf_ascii16(&b, "dbo.[MyProc]");
    buf_u16le(&b, 0);

    tds_rpc_request r;
    hdb_err e;
    assert_int_equal(tds_rpc_parse(TDS_VER_74, b.p, b.len, &r, &e), 0);
    assert_int_equal(r.ncalls, 3);
    assert_int_equal(r.calls[0].proc_id, TDS_SP_PREPARE);
    assert_false(r.calls[0].by_id);
    assert_string_equal(r.calls[0].params[0].name, "@handle");
    assert_false(r.calls[0].no_exec);
    assert_int_equal(r.calls[1].proc_id, TDS_SP_EXECUTE);
    assert_int_equal(r.calls[1].options, TDS_RPC_NO_METADATA);
    assert_int_equal(r.calls[1].nparams, 2);
    assert_string_equal(r.calls[1].params[1].name, "@id");
    assert_int_equal(r.calls[1].params[1].value.u.i, 7);
    assert_true(r.calls[1].no_exec);
    assert_string_equal(r.calls[2].proc_name, "dbo.[MyProc]");
    assert_int_equal(r.calls[2].proc_id, 0);
    assert_int_equal(r.calls[2].nparams, 0);
    tds_rpc_free(&r);

    /* a trailing separator does not make an empty call */
    buf_u8(&b, 0xFF);
    assert_int_equal(tds_rpc_parse(TDS_VER_74, b.p, b.len, &r, &e), 0);
    assert_int_equal(r.ncalls, 3);
    tds_rpc_free(&r);
    buf_free(&b);
}

static void seven_one_rpc(void **state)
{
    (void)state;
    tds_buf b;
    buf_init(&b);
    uint8_t t[32];
    size_t n;
    buf_u16le(&b, 0xFFFF); buf_u16le(&b, 15); buf_u16le(&b, 0);
    n = hexbytes("00 00 26 04 04 05 00 00 00", t); buf_put(&b, t, n);
    buf_u8(&b, 0x80);                                /* 7.1 batch flag */
    buf_u16le(&b, 0xFFFF); buf_u16le(&b, 15); buf_u16le(&b, 0);
    n = hexbytes("00 00 26 04 04 06 00 00 00", t); buf_put(&b, t, n);
    tds_rpc_request r;
    hdb_err e;
    assert_int_equal(tds_rpc_parse(TDS_VER_71, b.p, b.len, &r, &e), 0);
    assert_false(r.headers.present);
    assert_int_equal(r.ncalls, 2);
    assert_int_equal(r.calls[1].params[0].value.u.i, 6);
    tds_rpc_free(&r);
    buf_free(&b);

    /* on 7.2+ a name of 128 characters starts with the byte 0x80 */
    buf_init(&b);
    buf_all_headers(&b, 0);
    buf_u16le(&b, 1); buf_ascii16(&b, "p"); buf_u16le(&b, 0);
    buf_u8(&b, 128);
    for (int i = 0; i < 128; i++)
        buf_ascii16(&b, "n");
    buf_u8(&b, 0);
    n = hexbytes("26 01 01 09", t); buf_put(&b, t, n);
    assert_int_equal(tds_rpc_parse(TDS_VER_74, b.p, b.len, &r, &e), 0);
    assert_int_equal(strlen(r.calls[0].params[0].name), 128);
    tds_rpc_free(&r);
    buf_free(&b);
}

static void proc_names_and_ids(void **state)
{
    (void)state;
    assert_string_equal(tds_proc_name(10), "sp_executesql");
    assert_string_equal(tds_proc_name(15), "sp_unprepare");
    assert_string_equal(tds_proc_name(1), "sp_cursor");
    assert_null(tds_proc_name(0));
    assert_null(tds_proc_name(16));
    assert_int_equal(tds_proc_id_from_name("sp_executesql"), 10);
    assert_int_equal(tds_proc_id_from_name("SP_EXECUTE"), 12);
    assert_int_equal(tds_proc_id_from_name("sys.sp_prepexec"), 13);
    assert_int_equal(tds_proc_id_from_name("master.sys.[sp_unprepare]"), 15);
    assert_int_equal(tds_proc_id_from_name("[sp_prepare]"), 11);
    assert_int_equal(tds_proc_id_from_name("sp_executesqlx"), 0);
    assert_int_equal(tds_proc_id_from_name("myproc"), 0);
    assert_int_equal(tds_proc_id_from_name(""), 0);
    assert_int_equal(tds_proc_id_from_name("[]"), 0);
    assert_int_equal(tds_proc_id_from_name(NULL), 0);
}

static void malformed_rpcs(void **state)
{
    (void)state;
    tds_rpc_request r;
    hdb_err e;
    uint8_t t[64];
    size_t n;
    n = hexbytes("16 00 00 00 12 00 00 00 02 00 00 00 00 00 00 00 00 00 01 00 00 00", t);
    assert_int_equal(tds_rpc_parse(TDS_VER_74, t, n, &r, &e), -1);      /* no call */
    n = hexbytes("16 00 00 00 12 00 00 00 02 00 00 00 00 00 00 00 00 00 01 00 00 00 00 00 00 00", t);
    assert_int_equal(tds_rpc_parse(TDS_VER_74, t, n, &r, &e), -1);      /* empty name */
    n = hexbytes("16 00 00 00 12 00 00 00 02 00 00 00 00 00 00 00 00 00 01 00 00 00 05 00 61 00", t);
    assert_int_equal(tds_rpc_parse(TDS_VER_74, t, n, &r, &e), -1);      /* truncated name */
    n = hexbytes("16 00 00 00 12 00 00 00 02 00 00 00 00 00 00 00 00 00 01 00 00 00 FF FF 0A", t);
    assert_int_equal(tds_rpc_parse(TDS_VER_74, t, n, &r, &e), -1);      /* truncated id */
    n = hexbytes("16 00 00 00 12 00 00 00 02 00 00 00 00 00 00 00 00 00 01 00 00 00 FF FF 0A 00", t);
    assert_int_equal(tds_rpc_parse(TDS_VER_74, t, n, &r, &e), -1);      /* no options */
    n = hexbytes("FF FF 0A 00 00 00", t);                                /* no ALL_HEADERS on 7.4 */
    assert_int_equal(tds_rpc_parse(TDS_VER_74, t, n, &r, &e), -1);
    assert_int_equal(tds_rpc_parse(TDS_VER_71, t, n, &r, &e), 0);
    tds_rpc_free(&r);
    n = hexbytes("FF FF 0A 00 00 00 05 40 00", t);                        /* truncated param */
    assert_int_equal(tds_rpc_parse(TDS_VER_71, t, n, &r, &e), -1);
    assert_int_equal(tds_rpc_parse(TDS_VER_71, t, 0, &r, &e), -1);
}

/* MS-TDS 4.6, "SQL Batch Client Request". */
static void spec_batch_example(void **state)
{
    (void)state;
    uint8_t pkt[128];
    size_t n = hexbytes("01 01 00 5C 00 00 01 00 16 00 00 00 12 00 00 00"
                        "02 00 00 00 00 00 00 00 00 01 00 00 00 00 0A 00"
                        "73 00 65 00 6C 00 65 00 63 00 74 00 20 00 27 00"
                        "66 00 6F 00 6F 00 27 00 20 00 61 00 73 00 20 00"
                        "27 00 62 00 61 00 72 00 27 00 0A 00 20 00 20 00"
                        "20 00 20 00 20 00 20 00 20 00 20 00", pkt);
    tds_conn *c = tds_conn_new_mem(pkt, n, 1);
    tds_conn_login_ok(c, TDS_VER_74, 4096);
    tds_message m;
    hdb_err e;
    assert_int_equal(tds_read_message(c, &m, &e), TDS_PKT_SQLBATCH);
    tds_batch b;
    assert_int_equal(tds_batch_parse(TDS_VER_74, m.data, m.len, &b, &e), 0);
    assert_string_equal(b.sql, "\nselect 'foo' as 'bar'\n        ");
    assert_int_equal(b.sql_len, strlen(b.sql));
    assert_true(b.headers.transaction == 0x0100000000000000ull);
    tds_batch_free(&b);
    tds_message_free(&m);
    tds_conn_free(c);
}

static void batches(void **state)
{
    (void)state;
    tds_batch b;
    hdb_err e;
    tds_buf x;
    buf_init(&x);
    /* notification header + descriptor header, non-ASCII text */
    buf_u32le(&x, 4 + 10 + 18);
    buf_u32le(&x, 10); buf_u16le(&x, 1); buf_u16le(&x, 0); buf_u16le(&x, 0);
    buf_u32le(&x, 18); buf_u16le(&x, 2); buf_u64le(&x, 9); buf_u32le(&x, 1);
    uint8_t txt[] = { 'N', 0, '\'', 0, 0xE9, 0, 0x3D, 0xD8, 0x00, 0xDE, '\'', 0 };
    buf_put(&x, txt, sizeof txt);
    assert_int_equal(tds_batch_parse(TDS_VER_74, x.p, x.len, &b, &e), 0);
    assert_true(b.headers.has_notification);
    assert_true(b.headers.transaction == 9);
    assert_string_equal(b.sql, "N'\xC3\xA9\xF0\x9F\x98\x80'");
    tds_batch_free(&b);
    /* 7.1: the whole payload is text */
    assert_int_equal(tds_batch_parse(TDS_VER_71, txt, sizeof txt, &b, &e), 0);
    assert_int_equal(b.sql_len, 9);
    assert_false(b.headers.present);
    tds_batch_free(&b);
    /* empty batch */
    assert_int_equal(tds_batch_parse(TDS_VER_71, txt, 0, &b, &e), 0);
    assert_string_equal(b.sql, "");
    tds_batch_free(&b);
    /* odd text length */
    assert_int_equal(tds_batch_parse(TDS_VER_71, txt, 3, &b, &e), -1);
    assert_int_equal(e.number, TDS_ERR_PROTOCOL);
    assert_null(b.sql);
    /* broken ALL_HEADERS: total too large, header too short, descriptor short */
    uint8_t h[64];
    size_t n = hexbytes("FF 00 00 00 12 00 00 00", h);
    assert_int_equal(tds_batch_parse(TDS_VER_74, h, n, &b, &e), -1);
    n = hexbytes("08 00 00 00 04 00 00 00", h);
    assert_int_equal(tds_batch_parse(TDS_VER_74, h, n, &b, &e), -1);
    n = hexbytes("0E 00 00 00 0A 00 00 00 02 00 00 00 00 00", h);
    assert_int_equal(tds_batch_parse(TDS_VER_74, h, n, &b, &e), -1);
    n = hexbytes("0E 00 00 00 0B 00 00 00 03 00 00 00 00 00", h);
    assert_int_equal(tds_batch_parse(TDS_VER_74, h, n, &b, &e), -1);
    n = hexbytes("03 00 00", h);
    assert_int_equal(tds_batch_parse(TDS_VER_74, h, n, &b, &e), -1);
    n = hexbytes("04 00 00 00 61 00", h);                    /* empty ALL_HEADERS */
    assert_int_equal(tds_batch_parse(TDS_VER_74, h, n, &b, &e), 0);
    assert_string_equal(b.sql, "a");
    tds_batch_free(&b);
    buf_free(&x);
}

static int tm(const char *hex, tds_tm_request *t)
{
    static tds_buf b;              /* the cookie points into it: keep until next call */
    buf_free(&b);
    buf_all_headers(&b, 5);
    uint8_t p[64];
    size_t n = hexbytes(hex, p);
    buf_put(&b, p, n);
    hdb_err e;
    return tds_tm_parse(TDS_VER_74, b.p, b.len, t, &e);
}

static void tm_requests(void **state)
{
    (void)state;
    tds_tm_request t;
    assert_int_equal(tm("05 00 00 00", &t), 0);              /* tdsodbc begin */
    assert_int_equal(t.type, TDS_TM_BEGIN_XACT);
    assert_int_equal(t.isolation, 0);
    assert_string_equal(t.name, "");
    assert_true(t.headers.transaction == 5);
    assert_int_equal(tm("07 00 00 01 00 00", &t), 0);        /* tdsodbc commit + begin */
    assert_int_equal(t.type, TDS_TM_COMMIT_XACT);
    assert_true(t.begin_new);
    assert_int_equal(tm("08 00 00 01 00 00", &t), 0);
    assert_int_equal(t.type, TDS_TM_ROLLBACK_XACT);
    assert_true(t.begin_new);
    assert_int_equal(tm("05 00 02 04 74 00 31 00", &t), 0);  /* tedious, named, READ COMMITTED */
    assert_int_equal(t.isolation, 2);
    assert_string_equal(t.name, "t1");
    assert_int_equal(tm("05 00 02 00", &t), 0);
    assert_int_equal(tm("07 00 04 74 00 31 00 00", &t), 0);
    assert_string_equal(t.name, "t1");
    assert_false(t.begin_new);
    assert_int_equal(tm("08 00 04 74 00 31 00 01 04 04 75 00 32 00", &t), 0);
    assert_true(t.begin_new);
    assert_int_equal(t.new_isolation, 4);
    assert_string_equal(t.new_name, "u2");
    assert_int_equal(tm("08 00 00", &t), 0);                  /* flags omitted */
    assert_false(t.begin_new);
    assert_int_equal(tm("09 00 04 73 00 70 00", &t), 0);
    assert_int_equal(t.type, TDS_TM_SAVE_XACT);
    assert_string_equal(t.name, "sp");
    assert_int_equal(tm("01 00 03 00 AA BB CC", &t), 0);
    assert_int_equal(t.type, TDS_TM_PROPAGATE_XACT);
    assert_int_equal(t.cookie_len, 3);
    assert_int_equal(t.cookie[2], 0xCC);
    assert_int_equal(tm("00 00 00 00", &t), 0);
    assert_int_equal(tm("06 00", &t), 0);
    /* malformed */
    assert_int_equal(tm("", &t), -1);
    assert_int_equal(tm("05", &t), -1);
    assert_int_equal(tm("02 00", &t), -1);
    assert_int_equal(tm("05 00", &t), -1);
    assert_int_equal(tm("05 00 06 00", &t), -1);
    assert_int_equal(tm("05 00 00 03 74 00 31", &t), -1);
    assert_int_equal(tm("05 00 00 04 74 00", &t), -1);
    assert_int_equal(tm("09 00", &t), -1);
    assert_int_equal(tm("07 00 00 01 09", &t), -1);
    assert_int_equal(tm("01 00 05 00 AA", &t), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(spec_rpc_example),
        cmocka_unit_test(tdsodbc_prepexec),
        cmocka_unit_test(named_calls_and_batched_rpcs),
        cmocka_unit_test(seven_one_rpc),
        cmocka_unit_test(proc_names_and_ids),
        cmocka_unit_test(malformed_rpcs),
        cmocka_unit_test(spec_batch_example),
        cmocka_unit_test(batches),
        cmocka_unit_test(tm_requests),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
