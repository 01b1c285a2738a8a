/* Unit tests: PRELOGIN, LOGIN7, negotiation and the login response,
 * byte-exact against tds.md 3.1 and 5.8. */
#include "tds_test.h"

#include <stdlib.h>

/* ------------------------------------------------------------ PRELOGIN */

static void prelogin_parse_freetds_74(void **state)
{
    (void)state;
    tds_buf b;
    buf_init(&b);
    uint8_t t[64];
    size_t n = hexbytes("00 00 1A 00 06  01 00 20 00 01  02 00 21 00 0C  03 00 2D 00 04"
                        "04 00 31 00 01  FF", t);
    buf_put(&b, t, n);
    n = hexbytes("09 00 00 00 00 00  00", t);
    buf_put(&b, t, n);
    buf_put(&b, "MSSQLServer", 12);
    buf_u32le(&b, 4242);
    buf_u8(&b, 0);
    assert_int_equal(b.len + 8, 58);           /* as observed from tsql */
    tds_prelogin pl;
    hdb_err e;
    assert_int_equal(tds_prelogin_parse(b.p, b.len, &pl, &e), 0);
    assert_int_equal(pl.version[0], 9);
    assert_true(pl.has_encryption);
    assert_int_equal(pl.encryption, TDS_ENCRYPT_OFF);
    assert_string_equal(pl.instance, "MSSQLServer");
    assert_int_equal(pl.thread_id, 4242);
    assert_true(pl.has_mars);
    assert_int_equal(pl.mars, 0);
    assert_false(pl.has_traceid);
    assert_true(tds_prelogin_instance_matches(&pl, "other"));
    strcpy(pl.instance, "HADR2");
    assert_true(tds_prelogin_instance_matches(&pl, "hadr2"));
    assert_false(tds_prelogin_instance_matches(&pl, "hadr1"));
    buf_free(&b);
}

static void prelogin_parse_rejects_garbage(void **state)
{
    (void)state;
    uint8_t t[64];
    tds_prelogin pl;
    hdb_err e;
    size_t n = hexbytes("00 00 06 00 06", t);                  /* no terminator */
    assert_int_equal(tds_prelogin_parse(t, n, &pl, &e), -1);
    n = hexbytes("00 00 06 00 06 FF 01 02", t);                 /* data outside */
    assert_int_equal(tds_prelogin_parse(t, n, &pl, &e), -1);
    n = hexbytes("00 00 06 00 02 FF 01 02", t);                 /* short VERSION */
    assert_int_equal(tds_prelogin_parse(t, n, &pl, &e), -1);
    n = hexbytes("00 00", t);                                   /* truncated table */
    assert_int_equal(tds_prelogin_parse(t, n, &pl, &e), -1);
    assert_int_equal(tds_prelogin_parse(t, 0, &pl, &e), -1);
    n = hexbytes("FF", t);                                      /* empty is fine */
    assert_int_equal(tds_prelogin_parse(t, n, &pl, &e), 0);
}

static void prelogin_response_is_canonical(void **state)
{
    (void)state;
    tds_conn *c = tds_conn_new_mem(NULL, 0, 0x37);
    tds_prelogin_reply r;
    tds_prelogin_default_reply(&r);
    hdb_err e;
    assert_int_equal(tds_send_prelogin_response(c, &r, &e), 0);
    uint8_t exp[64];
    size_t n = hexbytes("04 01 00 2B 00 37 01 00"
                        "00 00 1A 00 06 01 00 20 00 01 02 00 21 00 01 03 00 22 00 00"
                        "04 00 22 00 01 FF"
                        "10 00 07 D0 00 00 02 00 00", exp);
    size_t olen;
    const uint8_t *o = tds_conn_mem_output(c, &olen);
    assert_int_equal(olen, n);
    assert_memory_equal(o, exp, n);
    tds_conn_free(c);
}

/* ------------------------------------------------------------ LOGIN7 */

struct lfield { const char *s; int obf; };

static void put_obfuscated(tds_buf *b, const char *s)
{
    for (; *s; s++) {
        uint8_t u[2] = { (uint8_t)*s, 0 };
        for (int k = 0; k < 2; k++)
            buf_u8(b, (uint8_t)(((u[k] << 4) | (u[k] >> 4)) ^ 0xA5));
    }
}

/* Builds a LOGIN7 the way tsql 7.4 does: fixed part, strings in field order,
 * extension DWORD, FeatureExt block (UTF-8) at the very end. */
static void build_login(tds_buf *b, uint32_t version, const char *host, const char *user,
                        const char *pass, const char *app, const char *server,
                        const char *lib, const char *lang, const char *db, int features)
{
    int v72 = (version >> 24) >= 0x72;
    size_t fixed = v72 ? 94 : 86;
    const char *strs[9] = { host, user, pass, app, server, NULL, lib, lang, db };
    static const size_t at[9] = { 36, 40, 44, 48, 52, 56, 60, 64, 68 };
    uint8_t fx[94] = { 0 };
    tds_buf var;
    buf_init(&var);
    for (int i = 0; i < 9; i++) {
        size_t off = fixed + var.len;
        if (i == 5) {                              /* extension slot */
            if (features) {
                fx[at[i]] = (uint8_t)off; fx[at[i] + 1] = (uint8_t)(off >> 8);
                fx[at[i] + 2] = 4;
                buf_u32le(&var, 0);                /* patched below */
            } else {
                fx[at[i]] = (uint8_t)off; fx[at[i] + 1] = (uint8_t)(off >> 8);
            }
            continue;
        }
        size_t len = strlen(strs[i]);
        fx[at[i]] = (uint8_t)off; fx[at[i] + 1] = (uint8_t)(off >> 8);
        fx[at[i] + 2] = (uint8_t)len; fx[at[i] + 3] = (uint8_t)(len >> 8);
        if (i == 2)
            put_obfuscated(&var, strs[i]);
        else
            buf_ascii16(&var, strs[i]);
    }
    size_t end = fixed + var.len;
    for (size_t k = 78; k < fixed; k += 4) {       /* SSPI, attach, change pw: empty */
        fx[k] = (uint8_t)end; fx[k + 1] = (uint8_t)(end >> 8);
    }
    if (v72)
        memset(fx + 90, 0, 4);
    if (features) {
        size_t ext_dword = fixed + 2u * (strlen(host) + strlen(user) + strlen(pass) +
                                         strlen(app) + strlen(server));
        uint32_t fe = (uint32_t)end;
        var.p[ext_dword - fixed] = (uint8_t)fe;
        var.p[ext_dword - fixed + 1] = (uint8_t)(fe >> 8);
        uint8_t feat[7] = { 0x0A, 1, 0, 0, 0, 1, 0xFF };
        buf_put(&var, feat, 7);
    }
    uint32_t total = (uint32_t)(fixed + var.len);
    fx[0] = (uint8_t)total; fx[1] = (uint8_t)(total >> 8);
    fx[4] = (uint8_t)version; fx[5] = (uint8_t)(version >> 8);
    fx[6] = (uint8_t)(version >> 16); fx[7] = (uint8_t)(version >> 24);
    fx[8] = 0x00; fx[9] = 0x10;                    /* packet size 4096 */
    fx[12] = 0x06; fx[13] = 0x83; fx[14] = 0xF2; fx[15] = 0xF8;
    fx[16] = 0x39; fx[17] = 0x30;                  /* pid 12345 */
    fx[24] = 0xE0; fx[25] = 0x03; fx[26] = 0x00; fx[27] = features ? 0x18 : 0x00;
    fx[28] = 0x88; fx[29] = 0xFF; fx[30] = 0xFF; fx[31] = 0xFF;   /* -120 */
    fx[32] = 0x36; fx[33] = 0x04;
    memcpy(fx + 72, "\x01\x02\x03\x04\x05\x06", 6);
    buf_put(b, fx, fixed);
    buf_put(b, var.p, var.len);
    buf_free(&var);
}

static void obfuscation_matches_the_wire(void **state)
{
    (void)state;
    tds_buf b;
    buf_init(&b);
    put_obfuscated(&b, "ab");
    uint8_t exp[4];
    hexbytes("B3 A5 83 A5", exp);
    assert_memory_equal(b.p, exp, 4);
    buf_free(&b);
}

static void login7_tsql_74(void **state)
{
    (void)state;
    tds_buf b;
    buf_init(&b);
    build_login(&b, 0x74000004, "myhost", "sa", "Secret#1!", "TSQL", "127.0.0.1",
                "TDS-Library", "us_english", "testdb", 1);
    tds_login7 l;
    hdb_err e;
    assert_int_equal(tds_login7_parse(b.p, b.len, &l, &e), 0);
    assert_int_equal(l.tds_version, 0x74000004);
    assert_int_equal(l.packet_size, 4096);
    assert_int_equal(l.client_prog_ver, 0xF8F28306u);
    assert_int_equal(l.client_pid, 12345);
    assert_int_equal(l.flags1, 0xE0);
    assert_int_equal(l.flags2, 0x03);
    assert_int_equal(l.flags3, 0x18);
    assert_int_equal(l.client_timezone, -120);
    assert_int_equal(l.client_lcid, 0x436);
    assert_string_equal(l.hostname, "myhost");
    assert_string_equal(l.username, "sa");
    assert_string_equal(l.password, "Secret#1!");
    assert_string_equal(l.appname, "TSQL");
    assert_string_equal(l.servername, "127.0.0.1");
    assert_string_equal(l.library, "TDS-Library");
    assert_string_equal(l.language, "us_english");
    assert_string_equal(l.database, "testdb");
    assert_string_equal(l.new_password, "");
    assert_int_equal(l.client_id[5], 6);
    assert_true(l.utf8_requested);
    assert_true(l.features & (1u << TDS_FEATURE_UTF8));
    assert_null(l.sspi);
    /* a payload longer than the record (trailing bytes) is fine */
    buf_u8(&b, 0xEE);
    assert_int_equal(tds_login7_parse(b.p, b.len, &l, &e), 0);
    buf_free(&b);
}

static void login7_71_layout(void **state)
{
    (void)state;
    tds_buf b;
    buf_init(&b);
    build_login(&b, 0x71000001, "h", "user", "pw", "pymssql=2.2.2", "srv", "DB-Library",
                "us_english", "", 0);
    assert_int_equal(get_u16le(b.p + 36), 86);     /* variable data right after 86 bytes */
    tds_login7 l;
    hdb_err e;
    assert_int_equal(tds_login7_parse(b.p, b.len, &l, &e), 0);
    assert_string_equal(l.username, "user");
    assert_string_equal(l.password, "pw");
    assert_string_equal(l.appname, "pymssql=2.2.2");
    assert_string_equal(l.database, "");
    assert_false(l.utf8_requested);
    buf_free(&b);
}

static void login7_unicode_names(void **state)
{
    (void)state;
    /* user name "Zoë" with a non-ASCII character and a surrogate pair */
    tds_buf b;
    buf_init(&b);
    build_login(&b, 0x74000004, "h", "XXXX", "p", "a", "s", "l", "us_english", "d", 0);
    /* overwrite the four UTF-16 units of "XXXX": Z, o, U+00EB, then U+1F600 needs two */
    size_t off = get_u16le(b.p + 40);
    uint8_t u[8] = { 'Z', 0, 0xEB, 0x00, 0x3D, 0xD8, 0x00, 0xDE };
    memcpy(b.p + off, u, 8);
    tds_login7 l;
    hdb_err e;
    assert_int_equal(tds_login7_parse(b.p, b.len, &l, &e), 0);
    assert_string_equal(l.username, "Z\xC3\xAB\xF0\x9F\x98\x80");
    buf_free(&b);
}

static void login7_malformed(void **state)
{
    (void)state;
    tds_login7 l;
    hdb_err e;
    tds_buf b;
    buf_init(&b);
    build_login(&b, 0x74000004, "myhost", "sa", "pw", "app", "srv", "lib", "us_english",
                "db", 1);
    uint8_t *p = malloc(b.len);
    /* record longer than the message */
    assert_int_equal(tds_login7_parse(b.p, b.len - 1, &l, &e), -1);
    assert_int_equal(e.number, TDS_ERR_LOGIN);
    /* shorter than its fixed part */
    memcpy(p, b.p, b.len);
    p[0] = 80; p[1] = 0;
    assert_int_equal(tds_login7_parse(p, b.len, &l, &e), -1);
    assert_int_equal(tds_login7_parse(p, 7, &l, &e), -1);
    /* a string pointing past the record */
    memcpy(p, b.p, b.len);
    p[40] = 0xF0; p[41] = 0xFF;
    assert_int_equal(tds_login7_parse(p, b.len, &l, &e), -1);
    /* a name longer than 128 characters */
    memcpy(p, b.p, b.len);
    p[42] = 200;
    assert_int_equal(tds_login7_parse(p, b.len, &l, &e), -1);
    /* FeatureExt offset outside the record */
    memcpy(p, b.p, b.len);
    size_t ext = get_u16le(p + 56);
    p[ext] = 0xFF; p[ext + 1] = 0xFF;
    assert_int_equal(tds_login7_parse(p, b.len, &l, &e), -1);
    /* FeatureExt without terminator */
    memcpy(p, b.p, b.len);
    p[b.len - 1] = 0x0B;
    assert_int_equal(tds_login7_parse(p, b.len, &l, &e), -1);
    /* SSPI length past the end via cbSSPILong */
    memcpy(p, b.p, b.len);
    p[80] = 0xFF; p[81] = 0xFF; p[90] = 0xFF; p[91] = 0xFF;
    assert_int_equal(tds_login7_parse(p, b.len, &l, &e), -1);
    free(p);
    buf_free(&b);
}

static void negotiation(void **state)
{
    (void)state;
    assert_int_equal(tds_negotiate_version(0x74000004), TDS_VER_74);
    assert_int_equal(tds_negotiate_version(0x75000000), TDS_VER_74);
    assert_int_equal(tds_negotiate_version(0x08000000), TDS_VER_74);
    assert_int_equal(tds_negotiate_version(0x730B0003), TDS_VER_73B);
    assert_int_equal(tds_negotiate_version(0x730A0003), TDS_VER_73A);
    assert_int_equal(tds_negotiate_version(0x72090002), TDS_VER_72);
    assert_int_equal(tds_negotiate_version(0x71000001), TDS_VER_71);
    assert_int_equal(tds_negotiate_version(0x71000000), TDS_VER_71);
    assert_int_equal(tds_negotiate_version(0x70000000), 0);
    assert_int_equal(tds_negotiate_packet_size(0), 4096);
    assert_int_equal(tds_negotiate_packet_size(100), 512);
    assert_int_equal(tds_negotiate_packet_size(8192), 8192);
    assert_int_equal(tds_negotiate_packet_size(65535), 32767);
}

/* tds.md 5.8: the exact minimal login response that tsql, pymssql and pyodbc
 * accepted. */
static void login_response_matches_reference(void **state)
{
    (void)state;
    tds_conn *c = tds_conn_new_mem(NULL, 0, 0x33);
    tds_conn_login_ok(c, TDS_VER_74, 4096);
    tds_login_response r = { .database = "master", .server_name = "HADR1",
                             .info_database = 1 };
    assert_int_equal(tds_put_login_response(c, &r), 0);
    hdb_err e;
    assert_int_equal(tds_end_response(c, &e), 0);

    tds_buf x;
    buf_init(&x);
    uint8_t t[64];
    size_t n;
    n = hexbytes("E3 1B 00 01 06", t); buf_put(&x, t, n);
    buf_ascii16(&x, "master"); buf_u8(&x, 6); buf_ascii16(&x, "master");
    const char *msg = "Changed database context to 'master'.";
    n = hexbytes("AB 62 00 45 16 00 00 02 00", t); buf_put(&x, t, n);
    buf_u16le(&x, (uint16_t)strlen(msg)); buf_ascii16(&x, msg);
    buf_u8(&x, 5); buf_ascii16(&x, "HADR1");
    n = hexbytes("00 01 00 00 00", t); buf_put(&x, t, n);
    n = hexbytes("E3 08 00 07 05 09 04 D0 00 34 00", t); buf_put(&x, t, n);
    n = hexbytes("E3 17 00 02 0A", t); buf_put(&x, t, n);
    buf_ascii16(&x, "us_english"); buf_u8(&x, 0);
    n = hexbytes("AD 32 00 01 74 00 00 04 14", t); buf_put(&x, t, n);
    buf_ascii16(&x, "Microsoft SQL Server");
    n = hexbytes("10 00 07 D0", t); buf_put(&x, t, n);
    n = hexbytes("E3 13 00 04 04", t); buf_put(&x, t, n);
    buf_ascii16(&x, "4096"); buf_u8(&x, 4); buf_ascii16(&x, "4096");
    n = hexbytes("FD 00 00 00 00 00 00 00 00 00 00 00 00", t); buf_put(&x, t, n);

    size_t olen;
    const uint8_t *o = tds_conn_mem_output(c, &olen);
    assert_int_equal(olen, 8 + x.len);
    assert_int_equal(o[0], 0x04);
    assert_int_equal(o[1], 0x01);
    assert_int_equal((size_t)o[2] << 8 | o[3], olen);
    assert_int_equal(o[4], 0x00);
    assert_int_equal(o[5], 0x33);                  /* the SPID FreeTDS takes */
    assert_memory_equal(o + 8, x.p, x.len);
    buf_free(&x);
    tds_conn_free(c);
}

static void login_response_options(void **state)
{
    (void)state;
    tds_conn *c = tds_conn_new_mem(NULL, 0, 1);
    tds_conn_login_ok(c, TDS_VER_74, 16384);
    tds_login_response r = { .database = "sales", .old_database = "master",
                             .mirror_partner = "PARTNER", .info_language = 1,
                             .ack_utf8 = 1, .server_name = "S" };
    tds_put_login_response(c, &r);
    hdb_err e;
    tds_end_response(c, &e);
    size_t olen;
    const uint8_t *o = tds_conn_mem_output(c, &olen);
    uint8_t *pl = malloc(olen);
    int nm;
    size_t n = unframe(o, olen, pl, &nm);
    /* order: ENV db, ENV 13, ENV 7, ENV 2, INFO 5703, LOGINACK, ENV 4, FEATUREEXTACK, DONE */
    size_t at = 0;
    assert_int_equal(pl[at], 0xE3); assert_int_equal(pl[at + 3], 1);
    at += 3 + get_u16le(pl + at + 1);
    assert_int_equal(pl[at], 0xE3); assert_int_equal(pl[at + 3], 13);
    assert_int_equal(pl[at + 4], 7);               /* "PARTNER" */
    at += 3 + get_u16le(pl + at + 1);
    assert_int_equal(pl[at + 3], 7);
    at += 3 + get_u16le(pl + at + 1);
    assert_int_equal(pl[at + 3], 2);
    at += 3 + get_u16le(pl + at + 1);
    assert_int_equal(pl[at], 0xAB);
    assert_int_equal(get_u32le(pl + at + 3), 5703);
    at += 3 + get_u16le(pl + at + 1);
    assert_int_equal(pl[at], 0xAD);
    at += 3 + get_u16le(pl + at + 1);
    assert_int_equal(pl[at], 0xE3); assert_int_equal(pl[at + 3], 4);
    assert_int_equal(pl[at + 4], 5);               /* "16384" */
    at += 3 + get_u16le(pl + at + 1);
    uint8_t fea[8];
    hexbytes("AE 0A 01 00 00 00 01 FF", fea);
    assert_memory_equal(pl + at, fea, 8);
    at += 8;
    assert_int_equal(pl[at], 0xFD);
    assert_int_equal(at + 13, n);
    free(pl);
    tds_conn_free(c);
}

static void login_error_response(void **state)
{
    (void)state;
    tds_conn *c = tds_conn_new_mem(NULL, 0, 1);
    tds_conn_set_version(c, TDS_VER_71);
    hdb_err errs[2], e;
    hdb_raise_text(&errs[0], 4060, 11, 1, "Cannot open database \"x\" requested by the login. "
                   "The login failed.");
    hdb_raise_text(&errs[1], 18456, 14, 1, "Login failed for user 'sa'.");
    assert_int_equal(tds_send_login_error(c, errs, 2, "S", &e), 0);
    size_t olen;
    const uint8_t *o = tds_conn_mem_output(c, &olen);
    const uint8_t *p = o + 8;
    assert_int_equal(p[0], 0xAA);
    assert_int_equal(get_u32le(p + 3), 4060);
    assert_int_equal(p[8], 11);
    p += 3 + get_u16le(p + 1);
    assert_int_equal(p[0], 0xAA);
    assert_int_equal(get_u32le(p + 3), 18456);
    size_t l2 = get_u16le(p + 1);
    /* 7.1: 2-byte line number at the end of the token */
    assert_int_equal(p[3 + l2 - 2], 1);
    assert_int_equal(p[3 + l2 - 1], 0);
    p += 3 + l2;
    uint8_t done[9];
    hexbytes("FD 02 00 00 00 00 00 00 00", done);
    assert_memory_equal(p, done, 9);
    assert_int_equal((size_t)(p + 9 - o), olen);
    assert_false(tds_conn_logged_in(c));
    tds_conn_free(c);
}

/* The full conversation over a memory transport, as the server drives it. */
static void whole_login_conversation(void **state)
{
    (void)state;
    tds_buf in, pl, lg;
    buf_init(&in); buf_init(&pl); buf_init(&lg);
    uint8_t t[64];
    size_t n = hexbytes("00 00 0B 00 06 01 00 11 00 01 FF 09 00 00 00 00 00 02", t);
    frame(&in, TDS_PKT_PRELOGIN, t, n, 4096, 0);
    build_login(&lg, 0x74000004, "h", "sa", "pw", "TSQL", "s", "TDS-Library",
                "us_english", "master", 1);
    frame(&in, TDS_PKT_LOGIN7, lg.p, lg.len, 4096, 0);
    buf_all_headers(&pl, 0);
    buf_ascii16(&pl, "select 1");
    frame(&in, TDS_PKT_SQLBATCH, pl.p, pl.len, 4096, 0);

    tds_conn *c = tds_conn_new_mem(in.p, in.len, 51);
    tds_message m;
    hdb_err e;
    assert_int_equal(tds_read_message(c, &m, &e), TDS_PKT_PRELOGIN);
    tds_prelogin p;
    assert_int_equal(tds_prelogin_parse(m.data, m.len, &p, &e), 0);
    assert_int_equal(p.encryption, TDS_ENCRYPT_NOT_SUP);
    tds_message_free(&m);
    tds_prelogin_reply rep;
    tds_prelogin_default_reply(&rep);
    tds_send_prelogin_response(c, &rep, &e);
    assert_int_equal(tds_read_message(c, &m, &e), TDS_PKT_LOGIN7);
    tds_login7 l;
    assert_int_equal(tds_login7_parse(m.data, m.len, &l, &e), 0);
    tds_message_free(&m);
    tds_conn_login_ok(c, tds_negotiate_version(l.tds_version),
                      tds_negotiate_packet_size(l.packet_size));
    tds_login_response r = { .database = l.database, .server_name = "s" };
    tds_put_login_response(c, &r);
    assert_int_equal(tds_end_response(c, &e), 0);
    assert_int_equal(tds_read_message(c, &m, &e), TDS_PKT_SQLBATCH);
    tds_batch b;
    assert_int_equal(tds_batch_parse(tds_conn_version(c), m.data, m.len, &b, &e), 0);
    assert_string_equal(b.sql, "select 1");
    tds_batch_free(&b);
    tds_message_free(&m);
    assert_int_equal(tds_read_message(c, &m, &e), 0);
    tds_conn_free(c);
    buf_free(&in); buf_free(&pl); buf_free(&lg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(prelogin_parse_freetds_74),
        cmocka_unit_test(prelogin_parse_rejects_garbage),
        cmocka_unit_test(prelogin_response_is_canonical),
        cmocka_unit_test(obfuscation_matches_the_wire),
        cmocka_unit_test(login7_tsql_74),
        cmocka_unit_test(login7_71_layout),
        cmocka_unit_test(login7_unicode_names),
        cmocka_unit_test(login7_malformed),
        cmocka_unit_test(negotiation),
        cmocka_unit_test(login_response_matches_reference),
        cmocka_unit_test(login_response_options),
        cmocka_unit_test(login_error_response),
        cmocka_unit_test(whole_login_conversation),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
