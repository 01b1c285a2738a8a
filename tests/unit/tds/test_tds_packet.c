/* Unit tests: TDS packet layer — reassembly, splitting, status bits,
 * attention, pending DONE, packet-size switch, malformed framing. */
#include "tds_test.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

static uint8_t *pattern(size_t n)
{
    uint8_t *p = malloc(n ? n : 1);
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)(i * 31 + 7);
    return p;
}

static tds_conn *logged_in_mem(const void *in, size_t len)
{
    tds_conn *c = tds_conn_new_mem(in, len, 55);
    assert_non_null(c);
    tds_conn_login_ok(c, TDS_VER_74, 4096);
    return c;
}

/* Client-side framing at many packet sizes reassembles to the same payload. */
static void reassembly_at_all_sizes(void **state)
{
    (void)state;
    static const size_t sizes[] = { 512, 513, 1000, 4096, 8000, 16384, 32767 };
    static const size_t lens[] = { 0, 1, 503, 504, 505, 4088, 4089, 70000 };
    for (size_t si = 0; si < sizeof sizes / sizeof sizes[0]; si++)
        for (size_t li = 0; li < sizeof lens / sizeof lens[0]; li++) {
            uint8_t *p = pattern(lens[li]);
            tds_buf in;
            buf_init(&in);
            frame(&in, TDS_PKT_SQLBATCH, p, lens[li], sizes[si], 0);
            frame(&in, TDS_PKT_RPC, p, lens[li] / 2, sizes[si], 0);
            tds_conn *c = logged_in_mem(in.p, in.len);
            tds_message m;
            hdb_err e;
            assert_int_equal(tds_read_message(c, &m, &e), TDS_PKT_SQLBATCH);
            assert_int_equal(m.len, lens[li]);
            assert_memory_equal(m.data, p, lens[li]);
            assert_non_null(m.data);
            tds_message_free(&m);
            assert_int_equal(tds_read_message(c, &m, &e), TDS_PKT_RPC);
            assert_int_equal(m.len, lens[li] / 2);
            tds_message_free(&m);
            assert_int_equal(tds_read_message(c, &m, &e), 0);    /* clean end */
            tds_conn_free(c);
            buf_free(&in);
            free(p);
        }
}

/* Server-side splitting: every packet but the last is exactly the
 * negotiated size, EOM only on the last, SPID and PacketID 1..n. */
static void splitting_at_all_sizes(void **state)
{
    (void)state;
    static const size_t sizes[] = { 512, 777, 4096, 8192, 32767 };
    static const size_t lens[] = { 0, 1, 504, 505, 1008, 100000 };
    for (size_t si = 0; si < sizeof sizes / sizeof sizes[0]; si++)
        for (size_t li = 0; li < sizeof lens / sizeof lens[0]; li++) {
            tds_conn *c = tds_conn_new_mem(NULL, 0, 0x1234);
            tds_conn_login_ok(c, TDS_VER_74, (uint32_t)sizes[si]);
            hdb_err e;
            assert_int_equal(tds_end_response(c, &e), 0);        /* applies the size */
            assert_int_equal(tds_conn_packet_size(c), sizes[si]);
            uint8_t *p = pattern(lens[li]);
            assert_int_equal(tds_send_message(c, TDS_PKT_REPLY, p, lens[li], &e), 0);
            size_t olen;
            const uint8_t *o = tds_conn_mem_output(c, &olen);
            size_t at = 0, got = 0;
            int id = 1;
            uint8_t *back = malloc(lens[li] + 1);
            while (at < olen) {
                size_t plen = (size_t)o[at + 2] << 8 | o[at + 3];
                int last = at + plen == olen;
                assert_int_equal(o[at], TDS_PKT_REPLY);
                assert_int_equal(o[at + 1], last ? 1 : 0);
                assert_int_equal(o[at + 4], 0x12);
                assert_int_equal(o[at + 5], 0x34);
                assert_int_equal(o[at + 6], (uint8_t)id++);
                if (!last)
                    assert_int_equal(plen, sizes[si]);
                else
                    assert_true(plen <= sizes[si]);
                memcpy(back + got, o + at + 8, plen - 8);
                got += plen - 8;
                at += plen;
            }
            assert_int_equal(got, lens[li]);
            assert_memory_equal(back, p, lens[li]);
            free(back);
            free(p);
            tds_conn_free(c);
        }
}

/* Result rows stream: packets leave before the response ends. */
static void rows_stream_before_end(void **state)
{
    (void)state;
    tds_conn *c = tds_conn_new_mem(NULL, 0, 9);
    tds_conn_login_ok(c, TDS_VER_74, 512);
    hdb_err e;
    tds_end_response(c, &e);
    tds_column col = { value_type(SQL_INT, 0, 0, 0), "n", TDS_COL_NULLABLE };
    assert_int_equal(tds_put_colmetadata(c, &col, 1, &e), 0);
    for (int i = 0; i < 1000; i++) {
        sql_value v = value_int(SQL_INT, i);
        assert_int_equal(tds_put_row(c, &v, 1, &e), 0);
    }
    size_t before;
    tds_conn_mem_output(c, &before);
    assert_true(before >= 512 * 8);           /* several packets already sent */
    tds_put_done(c, TDS_TOKEN_DONE, TDS_DONE_COUNT, TDS_CMD_SELECT, 1000);
    assert_int_equal(tds_end_response(c, &e), 0);
    size_t olen;
    const uint8_t *o = tds_conn_mem_output(c, &olen);
    uint8_t *pl = malloc(olen);
    int nmsgs;
    size_t n = unframe(o, olen, pl, &nmsgs);
    assert_int_equal(nmsgs, 1);
    /* COLMETADATA(1 col) + 1000 rows * 6 bytes + DONE */
    size_t cm = 1 + 2 + 4 + 2 + 2 + 1 + 2;
    assert_int_equal(n, cm + 1000 * 6 + 13);
    assert_int_equal(pl[n - 13], 0xFD);
    assert_int_equal(pl[n - 12], 0x10);       /* COUNT, no MORE */
    assert_int_equal(pl[n - 9], 0x00);
    assert_int_equal(pl[n - 5], 0x00);
    assert_int_equal(pl[n - 8] | pl[n - 7] << 8, 1000);
    free(pl);
    tds_conn_free(c);
}

/* DONE_MORE is set exactly on done-tokens that something follows. */
static void pending_done_gets_more_bit(void **state)
{
    (void)state;
    tds_conn *c = tds_conn_new_mem(NULL, 0, 1);
    tds_conn_login_ok(c, TDS_VER_74, 4096);
    hdb_err e;
    tds_put_done(c, TDS_TOKEN_DONE, TDS_DONE_MORE, TDS_CMD_SET, 0);   /* MORE is ignored */
    tds_put_done(c, TDS_TOKEN_DONEINPROC, TDS_DONE_COUNT, TDS_CMD_SELECT, 1);
    tds_put_returnstatus(c, 0);
    tds_put_done(c, TDS_TOKEN_DONEPROC, 0, TDS_CMD_EXECUTE, 0);
    assert_int_equal(tds_end_response(c, &e), 0);
    size_t olen;
    const uint8_t *o = tds_conn_mem_output(c, &olen);
    uint8_t exp[64];
    size_t n = hexbytes("FD 01 00 BE 00 00 00 00 00 00 00 00 00"
                        "FF 11 00 C1 00 01 00 00 00 00 00 00 00"
                        "79 00 00 00 00"
                        "FE 00 00 E0 00 00 00 00 00 00 00 00 00", exp);
    assert_int_equal(olen, 8 + n);
    assert_memory_equal(o + 8, exp, n);
    assert_int_equal(o[1], TDS_STATUS_EOM);
    tds_conn_free(c);
}

static void seven_one_done_has_four_byte_count(void **state)
{
    (void)state;
    tds_conn *c = tds_conn_new_mem(NULL, 0, 1);
    tds_conn_login_ok(c, TDS_VER_71, 4096);
    hdb_err e;
    tds_put_done(c, TDS_TOKEN_DONE, TDS_DONE_COUNT, TDS_CMD_INSERT, 3);
    tds_end_response(c, &e);
    size_t olen;
    const uint8_t *o = tds_conn_mem_output(c, &olen);
    uint8_t exp[16];
    size_t n = hexbytes("FD 10 00 C3 00 03 00 00 00", exp);
    assert_int_equal(olen, 8 + n);
    assert_memory_equal(o + 8, exp, n);
    tds_conn_free(c);
}

/* The login response goes out in 4096-byte packets; the next message uses
 * the negotiated size. */
static void packet_size_switches_after_login_response(void **state)
{
    (void)state;
    tds_conn *c = tds_conn_new_mem(NULL, 0, 1);
    tds_conn_login_ok(c, TDS_VER_74, 8192);
    assert_int_equal(tds_conn_packet_size(c), 4096);
    hdb_err e;
    uint8_t *big = pattern(10000);
    tds_out_token_start(c);
    tds_out_bytes(c, big, 10000);
    tds_end_response(c, &e);
    size_t olen;
    const uint8_t *o = tds_conn_mem_output(c, &olen);
    assert_int_equal((size_t)o[2] << 8 | o[3], 4096);
    assert_int_equal(tds_conn_packet_size(c), 8192);
    tds_conn_mem_clear_output(c);
    tds_out_token_start(c);
    tds_out_bytes(c, big, 10000);
    tds_end_response(c, &e);
    o = tds_conn_mem_output(c, &olen);
    assert_int_equal((size_t)o[2] << 8 | o[3], 8192);
    free(big);
    tds_conn_free(c);
}

static void reset_bits_come_from_first_packet(void **state)
{
    (void)state;
    uint8_t *p = pattern(3000);
    tds_buf in;
    buf_init(&in);
    frame(&in, TDS_PKT_SQLBATCH, p, 3000, 1000, TDS_STATUS_RESETCONNECTION);
    tds_conn *c = logged_in_mem(in.p, in.len);
    tds_message m;
    hdb_err e;
    assert_int_equal(tds_read_message(c, &m, &e), TDS_PKT_SQLBATCH);
    assert_int_equal(m.reset, TDS_STATUS_RESETCONNECTION);
    tds_message_free(&m);
    tds_conn_free(c);
    buf_free(&in);
    free(p);
}

/* IGNORE: the request is dropped, DONE(ERROR) answered, the next one read. */
static void ignore_bit_is_answered_and_skipped(void **state)
{
    (void)state;
    uint8_t *p = pattern(2000);
    tds_buf in;
    buf_init(&in);
    frame(&in, TDS_PKT_RPC, p, 600, 512, 0);
    in.p[in.len - (600 - 504 + 8) + 1] |= TDS_STATUS_IGNORE;   /* last packet of it */
    frame(&in, TDS_PKT_SQLBATCH, p, 10, 512, 0);
    tds_conn *c = logged_in_mem(in.p, in.len);
    tds_message m;
    hdb_err e;
    assert_int_equal(tds_read_message(c, &m, &e), TDS_PKT_SQLBATCH);
    assert_int_equal(m.len, 10);
    tds_message_free(&m);
    size_t olen;
    const uint8_t *o = tds_conn_mem_output(c, &olen);
    uint8_t exp[32];
    size_t n = hexbytes("04 01 00 15 00 37 01 00 FD 02 00 00 00 00 00 00 00 00 00 00 00", exp);
    assert_int_equal(olen, n);
    assert_memory_equal(o, exp, n);
    tds_conn_free(c);
    buf_free(&in);
    free(p);
}

static void attention_when_idle_and_ack_bytes(void **state)
{
    (void)state;
    uint8_t att[8];
    hexbytes("06 01 00 08 00 00 01 00", att);
    tds_conn *c = logged_in_mem(att, 8);
    tds_message m;
    hdb_err e;
    assert_int_equal(tds_read_message(c, &m, &e), TDS_PKT_ATTENTION);
    assert_int_equal(m.len, 0);
    tds_message_free(&m);
    assert_int_equal(tds_send_attention_ack(c, &e), 0);
    size_t olen;
    const uint8_t *o = tds_conn_mem_output(c, &olen);
    uint8_t exp[32];
    size_t n = hexbytes("04 01 00 15 00 37 01 00 FD 20 00 00 00 00 00 00 00 00 00 00 00", exp);
    assert_int_equal(olen, n);
    assert_memory_equal(o, exp, n);
    tds_conn_free(c);
}

/* An ATTENTION arriving while rows stream out is seen by the writer's poll
 * and by tds_check_attention; nothing else is consumed. */
static void attention_while_busy(void **state)
{
    (void)state;
    tds_buf in;
    buf_init(&in);
    uint8_t att[8];
    hexbytes("06 01 00 08 00 00 01 00", att);
    buf_put(&in, att, 8);
    uint8_t q[4] = { 'x', 0, 'y', 0 };
    frame(&in, TDS_PKT_SQLBATCH, q, 4, 4096, 0);
    tds_conn *c = tds_conn_new_mem(in.p, in.len, 3);
    tds_conn_login_ok(c, TDS_VER_71, 512);   /* 7.1: no ALL_HEADERS below */
    hdb_err e;
    tds_end_response(c, &e);
    tds_column col = { value_type(SQL_BIGINT, 0, 0, 0), "n", 0 };
    tds_put_colmetadata(c, &col, 1, &e);
    int rows = 0;
    while (!tds_check_attention(c) && rows < 100000) {
        sql_value v = value_int(SQL_BIGINT, rows++);
        tds_put_row(c, &v, 1, &e);
    }
    assert_true(rows < 100000);
    assert_int_equal(tds_end_response(c, &e), 0);
    assert_int_equal(tds_send_attention_ack(c, &e), 0);
    assert_int_equal(tds_check_attention(c), 0);
    tds_message m;
    assert_int_equal(tds_read_message(c, &m, &e), TDS_PKT_SQLBATCH);
    tds_batch b;
    assert_int_equal(tds_batch_parse(tds_conn_version(c), m.data, m.len, &b, &e), 0);
    assert_string_equal(b.sql, "xy");
    tds_batch_free(&b);
    tds_message_free(&m);
    tds_conn_free(c);
    buf_free(&in);
}

/* An attention consumed by a poll the server never looked at still gets
 * reported by the next read, so the client's wait for the ack ends. */
static void unnoticed_attention_is_returned_by_read(void **state)
{
    (void)state;
    uint8_t att[8];
    hexbytes("06 01 00 08 00 00 01 00", att);
    tds_conn *c = logged_in_mem(att, 8);
    assert_int_equal(tds_conn_pending_input(c), 0);
    assert_int_equal(tds_check_attention(c), 1);
    assert_int_equal(tds_conn_pending_input(c), 0);
    tds_message m;
    hdb_err e;
    assert_int_equal(tds_read_message(c, &m, &e), TDS_PKT_ATTENTION);
    tds_message_free(&m);
    assert_int_equal(tds_read_message(c, &m, &e), 0);
    tds_conn_free(c);
}

static void expect_read_error(const uint8_t *in, size_t len, int logged_in, int number)
{
    tds_conn *c = tds_conn_new_mem(in, len, 1);
    if (logged_in)
        tds_conn_login_ok(c, TDS_VER_74, 4096);
    tds_message m;
    hdb_err e;
    hdb_err_clear(&e);
    assert_int_equal(tds_read_message(c, &m, &e), -1);
    assert_int_equal(e.number, number);
    assert_null(m.data);
    tds_conn_free(c);
}

static void malformed_framing_is_rejected(void **state)
{
    (void)state;
    uint8_t b[64];
    size_t n;
    n = hexbytes("01 01 00 07 00 00 01 00", b);              /* length < header */
    expect_read_error(b, n, 1, TDS_ERR_PROTOCOL);
    n = hexbytes("01 01 00 20 00 00 01 00 41 00", b);        /* truncated payload */
    expect_read_error(b, n, 1, TDS_ERR_NETWORK);
    n = hexbytes("01 01 00", b);                            /* truncated header */
    expect_read_error(b, n, 1, TDS_ERR_NETWORK);
    n = hexbytes("01 00 00 0A 00 00 01 00 41 00 03 01 00 0A 00 00 01 00 41 00", b);
    expect_read_error(b, n, 1, TDS_ERR_PROTOCOL);           /* type changes mid-message */
    n = hexbytes("01 01 00 0A 00 00 01 00 41 00", b);        /* batch before login */
    expect_read_error(b, n, 0, TDS_ERR_PROTOCOL);
    n = hexbytes("10 01 00 0A 00 00 01 00 41 00", b);        /* LOGIN7 after login */
    expect_read_error(b, n, 1, TDS_ERR_PROTOCOL);
    n = hexbytes("02 01 00 0A 00 00 01 00 41 00", b);        /* TDS 4.2/5.0 login */
    expect_read_error(b, n, 0, TDS_ERR_PROTOCOL);
    n = hexbytes("04 01 00 0A 00 00 01 00 41 00", b);        /* server type from client */
    expect_read_error(b, n, 1, TDS_ERR_PROTOCOL);
    n = hexbytes("01 00 00 0A 00 00 01 00 41 00", b);        /* EOF without EOM */
    expect_read_error(b, n, 1, TDS_ERR_NETWORK);
}

static void oversize_messages_are_rejected(void **state)
{
    (void)state;
    /* before login the cap is 128 KiB */
    uint8_t *p = pattern(200000);
    tds_buf in;
    buf_init(&in);
    frame(&in, TDS_PKT_LOGIN7, p, 200000, 32767, 0);
    expect_read_error(in.p, in.len, 0, TDS_ERR_PROTOCOL);
    buf_free(&in);
    /* after login, the configurable cap */
    buf_init(&in);
    frame(&in, TDS_PKT_SQLBATCH, p, 200000, 32767, 0);
    tds_conn *c = logged_in_mem(in.p, in.len);
    tds_conn_set_max_message(c, 100000);
    tds_message m;
    hdb_err e;
    assert_int_equal(tds_read_message(c, &m, &e), -1);
    assert_int_equal(e.number, TDS_ERR_PROTOCOL);
    tds_conn_free(c);
    buf_free(&in);
    free(p);
}

static ssize_t fail_write(void *ctx, const void *buf, size_t len)
{
    (void)ctx; (void)buf; (void)len;
    errno = EPIPE;
    return -1;
}
static ssize_t eof_read(void *ctx, void *buf, size_t len) { (void)ctx; (void)buf; (void)len; return 0; }

static void write_failure_breaks_connection(void **state)
{
    (void)state;
    tds_io io = { eof_read, fail_write, NULL, NULL };
    tds_conn *c = tds_conn_new_io(&io, 1);
    tds_conn_login_ok(c, TDS_VER_74, 4096);
    hdb_err e;
    tds_put_done(c, TDS_TOKEN_DONE, 0, 0, 0);
    assert_int_equal(tds_end_response(c, &e), -1);
    assert_int_equal(e.number, TDS_ERR_NETWORK);
    assert_true(tds_conn_broken(c));
    tds_message m;
    assert_int_equal(tds_read_message(c, &m, &e), 0);
    tds_conn_free(c);
}

/* The real socket transport, over a socketpair. */
static void fd_transport_round_trip(void **state)
{
    (void)state;
    int sv[2];
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    uint8_t q[6] = { 'a', 0, 'b', 0, 'c', 0 };
    tds_buf in;
    buf_init(&in);
    frame(&in, TDS_PKT_SQLBATCH, q, 6, 4096, 0);
    assert_int_equal(write(sv[1], in.p, in.len), (ssize_t)in.len);
    tds_conn *c = tds_conn_new_fd(sv[0], 77);
    tds_conn_login_ok(c, TDS_VER_71, 4096);
    assert_int_equal(tds_check_attention(c), 0);
    tds_message m;
    hdb_err e;
    assert_int_equal(tds_read_message(c, &m, &e), TDS_PKT_SQLBATCH);
    assert_int_equal(m.len, 6);
    tds_message_free(&m);
    tds_put_done(c, TDS_TOKEN_DONE, 0, 0, 0);
    assert_int_equal(tds_end_response(c, &e), 0);
    uint8_t back[64];
    assert_int_equal(read(sv[1], back, sizeof back), 8 + 9);
    assert_int_equal(back[5], 77);
    close(sv[1]);
    assert_int_equal(tds_read_message(c, &m, &e), 0);
    tds_conn_free(c);
    close(sv[0]);
    buf_free(&in);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(reassembly_at_all_sizes),
        cmocka_unit_test(splitting_at_all_sizes),
        cmocka_unit_test(rows_stream_before_end),
        cmocka_unit_test(pending_done_gets_more_bit),
        cmocka_unit_test(seven_one_done_has_four_byte_count),
        cmocka_unit_test(packet_size_switches_after_login_response),
        cmocka_unit_test(reset_bits_come_from_first_packet),
        cmocka_unit_test(ignore_bit_is_answered_and_skipped),
        cmocka_unit_test(attention_when_idle_and_ack_bytes),
        cmocka_unit_test(attention_while_busy),
        cmocka_unit_test(unnoticed_attention_is_returned_by_read),
        cmocka_unit_test(malformed_framing_is_rejected),
        cmocka_unit_test(oversize_messages_are_rejected),
        cmocka_unit_test(write_failure_breaks_connection),
        cmocka_unit_test(fd_transport_round_trip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
