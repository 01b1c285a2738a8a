/*
 * fuzz_tds.c — libFuzzer target for every TDS decoder.
 *
 * The first input byte picks a target, the rest is its input:
 *   0      a byte stream from a client: packets through tds_read_message
 *          (before and after login), each message handed to its parser,
 *          responses written to a memory transport
 *   1..8   one parser on a raw payload (PRELOGIN, LOGIN7, batch 7.4/7.1,
 *          RPC 7.4/7.1, TM 7.4, TM 7.2)
 * For every RPC that parses, each parameter is encoded back as a
 * RETURNVALUE and as a result row (the encoders must cope with whatever
 * the decoder produced), and a value the encoder accepts must decode again:
 * otherwise the target traps.
 *
 * With FUZZ_TDS_SEED_DIR set, a handful of well-formed inputs (tsql-like
 * PRELOGIN/LOGIN7, an sp_prepexec RPC, TM requests) are written there
 * first, so the fuzzer starts from valid messages.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tds/tds.h"
#include "tds/tds_int.h"

static void reencode(uint32_t version, const tds_param *p)
{
    struct tds_wcol w;
    hdb_err e;
    if (tds_wcol_from_type(version, &p->type, &w, &e) < 0 || tds_value_check(&w, &p->value, &e) < 0)
        return;
    tds_buf b;
    buf_init(&b);
    if (version >= TDS_VER_72) {
        static const uint8_t hdr[22] = { 22, 0, 0, 0, 18, 0, 0, 0, 2 };
        buf_put(&b, hdr, sizeof hdr);
    }
    static const uint8_t call[] = { 0xFF, 0xFF, 10, 0, 0, 0, 0, 0 };
    buf_put(&b, call, sizeof call);
    tds_typeinfo_put(&b, &w, tds_default_collation);
    tds_param_value_put(tds_sink_buf(&b), &w, &p->value);
    if (b.oom) {
        buf_free(&b);
        return;
    }
    tds_rpc_request r;
    if (tds_rpc_parse(version, b.p, b.len, &r, &e) < 0) {
        fprintf(stderr, "re-encoded parameter (wire type 0x%02X, type %d) does not decode: %s\n",
                p->wire_type, p->type.id, e.msg);
        __builtin_trap();
    }
    tds_rpc_free(&r);
    buf_free(&b);
}

static void respond_to(tds_conn *c, const tds_rpc_request *r)
{
    hdb_err e;
    uint32_t v = tds_conn_version(c);
    for (int i = 0; i < r->ncalls; i++) {
        const tds_rpc *call = &r->calls[i];
        for (int k = 0; k < call->nparams; k++) {
            const tds_param *p = &call->params[k];
            tds_put_returnvalue(c, (uint16_t)k, p->name, 1, &p->type, &p->value, &e);
            tds_column col = { p->type, p->name, TDS_COL_NULLABLE };
            if (tds_put_colmetadata(c, &col, 1, &e) == 0)
                tds_put_row(c, &p->value, 1, &e);
            reencode(v ? v : TDS_VER_74, p);
        }
        tds_put_done(c, TDS_TOKEN_DONEPROC, 0, TDS_CMD_EXECUTE, 0);
    }
}

static void parse_rpc(uint32_t version, const uint8_t *p, size_t n)
{
    tds_rpc_request r;
    hdb_err e;
    if (tds_rpc_parse(version, p, n, &r, &e) == 0) {
        tds_conn *c = tds_conn_new_mem(NULL, 0, 1);
        tds_conn_login_ok(c, version, 512);
        respond_to(c, &r);
        tds_end_response(c, &e);
        tds_conn_free(c);
        tds_rpc_free(&r);
    }
}

static void conversation(const uint8_t *p, size_t n)
{
    tds_conn *c = tds_conn_new_mem(p, n, 7);
    if (!c)
        return;
    tds_conn_set_max_message(c, 1 << 20);
    hdb_err e;
    for (int guard = 0; guard < 64; guard++) {
        tds_message m;
        int t = tds_read_message(c, &m, &e);
        if (t <= 0)
            break;
        uint32_t v = tds_conn_version(c);
        switch (t) {
        case TDS_PKT_PRELOGIN: {
            tds_prelogin pl;
            tds_prelogin_reply rep;
            tds_prelogin_default_reply(&rep);
            if (tds_prelogin_parse(m.data, m.len, &pl, &e) == 0)
                tds_send_prelogin_response(c, &rep, &e);
            break;
        }
        case TDS_PKT_LOGIN7: {
            tds_login7 l;
            if (tds_login7_parse(m.data, m.len, &l, &e) == 0 && tds_negotiate_version(l.tds_version)) {
                tds_conn_login_ok(c, tds_negotiate_version(l.tds_version),
                                  tds_negotiate_packet_size(l.packet_size));
                tds_login_response lr = { .database = l.database, .server_name = l.servername,
                                          .info_database = 1, .ack_utf8 = l.utf8_requested };
                tds_put_login_response(c, &lr);
                tds_end_response(c, &e);
            }
            break;
        }
        case TDS_PKT_SQLBATCH: {
            tds_batch b;
            if (tds_batch_parse(v, m.data, m.len, &b, &e) == 0) {
                tds_put_message(c, 0, 1, 0, b.sql, "srv", "", 1);
                tds_put_done(c, TDS_TOKEN_DONE, TDS_DONE_COUNT, TDS_CMD_SELECT, 1);
                tds_batch_free(&b);
            } else {
                tds_put_error(c, &e, "srv", "", 1);
                tds_put_done(c, TDS_TOKEN_DONE, TDS_DONE_ERROR, 0, 0);
            }
            tds_end_response(c, &e);
            break;
        }
        case TDS_PKT_RPC: {
            tds_rpc_request r;
            if (tds_rpc_parse(v, m.data, m.len, &r, &e) == 0) {
                respond_to(c, &r);
                tds_rpc_free(&r);
            }
            tds_end_response(c, &e);
            break;
        }
        case TDS_PKT_TM: {
            tds_tm_request tm;
            if (tds_tm_parse(v, m.data, m.len, &tm, &e) == 0 && tm.type == TDS_TM_BEGIN_XACT)
                tds_put_env_begin_tran(c, 1);
            tds_put_done(c, TDS_TOKEN_DONE, 0, 0, 0);
            tds_end_response(c, &e);
            break;
        }
        case TDS_PKT_ATTENTION:
            tds_send_attention_ack(c, &e);
            break;
        default:
            break;
        }
        tds_message_free(&m);
        tds_check_attention(c);
    }
    tds_conn_free(c);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    const uint8_t *p = data + 1;
    size_t n = size - 1;
    hdb_err e;
    switch (data[0] % 9) {
    case 0:
        conversation(p, n);
        break;
    case 1: {
        tds_prelogin pl;
        tds_prelogin_parse(p, n, &pl, &e);
        break;
    }
    case 2: {
        tds_login7 l;
        tds_login7_parse(p, n, &l, &e);
        break;
    }
    case 3: case 4: {
        tds_batch b;
        if (tds_batch_parse(data[0] % 9 == 3 ? TDS_VER_74 : TDS_VER_71, p, n, &b, &e) == 0)
            tds_batch_free(&b);
        break;
    }
    case 5:
        parse_rpc(TDS_VER_74, p, n);
        break;
    case 6:
        parse_rpc(TDS_VER_71, p, n);
        break;
    case 7: case 8: {
        tds_tm_request tm;
        tds_tm_parse(data[0] % 9 == 7 ? TDS_VER_74 : TDS_VER_72, p, n, &tm, &e);
        break;
    }
    }
    return 0;
}

/* ------------------------------------------------------------ seeds */

static void seed(const char *dir, const char *name, uint8_t sel, const tds_buf *b)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/seed-%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (!f)
        return;
    fputc(sel, f);
    fwrite(b->p, 1, b->len, f);
    fclose(f);
}

static void u16s(tds_buf *b, const char *s)
{
    for (; *s; s++) {
        buf_u8(b, (uint8_t)*s);
        buf_u8(b, 0);
    }
}

static void frame(tds_buf *out, uint8_t type, const tds_buf *payload)
{
    buf_u8(out, type);
    buf_u8(out, 1);
    buf_u16be(out, (uint16_t)(payload->len + 8));
    buf_u16be(out, 0);
    buf_u8(out, 1);
    buf_u8(out, 0);
    buf_put(out, payload->p, payload->len);
}

static void login7(tds_buf *b)
{
    const char *strs[] = { "host", "sa", "pw", "TSQL", "srv", "", "TDS-Library", "us_english", "db" };
    uint8_t fx[94] = { 0 };
    tds_buf var;
    buf_init(&var);
    for (int i = 0; i < 9; i++) {
        size_t off = 94 + var.len, len = strlen(strs[i]);
        fx[36 + 4 * i] = (uint8_t)off;
        if (i == 5) {
            fx[36 + 4 * i + 2] = 4;
            buf_u32le(&var, 0);
            continue;
        }
        fx[36 + 4 * i + 2] = (uint8_t)len;
        u16s(&var, strs[i]);
    }
    size_t fe = 94 + var.len;
    var.p[2 * (4 + 2 + 2 + 4 + 3)] = (uint8_t)fe;
    static const uint8_t feat[] = { 0x0A, 1, 0, 0, 0, 1, 0xFF };
    buf_put(&var, feat, sizeof feat);
    uint32_t total = (uint32_t)(94 + var.len);
    fx[0] = (uint8_t)total;
    fx[4] = 4; fx[7] = 0x74;
    fx[9] = 0x10;
    fx[24] = 0xE0; fx[25] = 3; fx[27] = 0x18;
    buf_put(b, fx, sizeof fx);
    buf_put(b, var.p, var.len);
    buf_free(&var);
}

static void write_seeds(const char *dir)
{
    static const uint8_t hdr[22] = { 22, 0, 0, 0, 18, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1 };
    static const uint8_t prelogin[] = {
        0, 0, 0x1A, 0, 6, 1, 0, 0x20, 0, 1, 2, 0, 0x21, 0, 1, 3, 0, 0x22, 0, 4,
        4, 0, 0x26, 0, 1, 0xFF, 9, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4, 0 };
    tds_buf pl, lg, rpc, batch, tm, conv;
    buf_init(&pl); buf_init(&lg); buf_init(&rpc); buf_init(&batch); buf_init(&tm); buf_init(&conv);
    buf_put(&pl, prelogin, sizeof prelogin);
    login7(&lg);
    /* sp_prepexec by id, as tdsodbc sends it */
    buf_put(&rpc, hdr, sizeof hdr);
    static const uint8_t call[] = {
        0xFF, 0xFF, 13, 0, 0, 0,
        0, 1, 0x26, 4, 0,
        0, 0, 0x63, 0xFF, 0xFF, 0xFF, 0x7F, 9, 4, 0xD0, 0, 0x34, 6, 0, 0, 0, '@', 0, 'P', 0, '1', 0,
        0, 0, 0xE7, 0xFF, 0xFF, 9, 4, 0xD0, 0, 0x34, 0xFE, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
        2, 0, 0, 0, 'x', 0, 0, 0, 0, 0,
        0, 0, 0x6A, 0x11, 10, 2, 6, 1, 0x39, 0x30, 0, 0, 0,
        0, 0, 0x2A, 7, 8, 0, 0, 0, 0, 0, 0x46, 0x46, 0x0B,
        0, 0, 0x62, 0x49, 0x1F, 0, 0, 6, 0, 0, 0, 0x38, 0, 42, 0, 0, 0,
        0xFF, 0xFF, 0xFF, 15, 0, 0, 0, 0, 0, 0x26, 4, 4, 1, 0, 0, 0 };
    buf_put(&rpc, call, sizeof call);
    buf_put(&batch, hdr, sizeof hdr);
    u16s(&batch, "select 1");
    buf_put(&tm, hdr, sizeof hdr);
    static const uint8_t begin[] = { 5, 0, 2, 4, 't', 0, '1', 0 };
    buf_put(&tm, begin, sizeof begin);
    frame(&conv, TDS_PKT_PRELOGIN, &pl);
    frame(&conv, TDS_PKT_LOGIN7, &lg);
    frame(&conv, TDS_PKT_SQLBATCH, &batch);
    frame(&conv, TDS_PKT_RPC, &rpc);
    frame(&conv, TDS_PKT_TM, &tm);
    static const uint8_t att[] = { 6, 1, 0, 8, 0, 0, 1, 0 };
    buf_put(&conv, att, sizeof att);
    seed(dir, "conversation", 0, &conv);
    seed(dir, "prelogin", 1, &pl);
    seed(dir, "login7", 2, &lg);
    seed(dir, "batch", 3, &batch);
    seed(dir, "rpc", 5, &rpc);
    seed(dir, "tm", 7, &tm);
    buf_free(&pl); buf_free(&lg); buf_free(&rpc); buf_free(&batch); buf_free(&tm); buf_free(&conv);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc; (void)argv;
    const char *dir = getenv("FUZZ_TDS_SEED_DIR");
    if (dir && *dir)
        write_seeds(dir);
    return 0;
}
