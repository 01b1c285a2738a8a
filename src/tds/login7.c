/*
 * login7.c — LOGIN7 parsing, version/packet-size negotiation, and the login
 * response.
 *
 * LOGIN7 is a fixed part (86 bytes for 7.0/7.1, 94 for 7.2+) followed by
 * variable data that the fixed part addresses with {offset:2, count:2}
 * pairs, offsets relative to the start of the record. Counts are UTF-16
 * characters for strings and bytes for SSPI. Every pair is checked against
 * the record's own Length before a byte is read; the record must not claim
 * more bytes than the message holds. The password (and change-password) is
 * obfuscated per byte: nibbles swapped, then XOR 0xA5 — undone here.
 *
 * With TDS 7.4 and fExtension, ibExtension points to a DWORD holding the
 * offset of the FeatureExt block: {id:1, len:4, data}* ended by 0xFF. We
 * record which features were asked for (only UTF8_SUPPORT matters to us)
 * and skip the rest.
 */
#include "tds/tds_int.h"

#include <stdio.h>

#include "util/utf16.h"

static int bad(hdb_err *err, const char *why)
{
    return tds_fail(err, TDS_ERR_LOGIN, 20, "The login packet used to open the connection is "
                    "structurally invalid; the connection has been closed. Please contact the "
                    "vendor of the client library. (%s)", why);
}

/* Reads the {offset, count} pair at `at` and converts the string it
 * addresses into dst. `obfuscated`: password de-obfuscation. */
static int get_string(const uint8_t *p, size_t reclen, size_t at, size_t max_chars,
                      int obfuscated, char *dst, size_t cap, const char *what, hdb_err *err)
{
    uint16_t ib = get_u16le(p + at), cch = get_u16le(p + at + 2);
    dst[0] = 0;
    if (cch == 0)
        return 0;
    char why[64];
    if (cch > max_chars) {
        snprintf(why, sizeof why, "%s longer than %zu characters", what, max_chars);
        return bad(err, why);
    }
    if ((size_t)ib + 2u * cch > reclen) {
        snprintf(why, sizeof why, "%s outside the login record", what);
        return bad(err, why);
    }
    const uint8_t *s = p + ib;
    uint8_t tmp[2 * 260];
    if (obfuscated) {
        for (size_t k = 0; k < 2u * cch; k++) {
            uint8_t b = s[k] ^ 0xA5;
            tmp[k] = (uint8_t)(b << 4 | b >> 4);
        }
        s = tmp;
    }
    utf16le_to_utf8(s, 2u * cch, dst, cap);
    if (obfuscated)
        memset(tmp, 0, sizeof tmp);   /* do not leave the password on the stack */
    return 0;
}

static int parse_features(const uint8_t *p, size_t reclen, tds_login7 *out, hdb_err *err)
{
    uint16_t ib = get_u16le(p + 56), cb = get_u16le(p + 58);
    if (cb < 4)
        return 0;
    if ((size_t)ib + 4 > reclen)
        return bad(err, "extension offset outside the login record");
    uint32_t fe = get_u32le(p + ib);
    if (fe >= reclen)
        return bad(err, "FeatureExt outside the login record");
    tds_rd r;
    rd_init(&r, p + fe, reclen - fe);
    for (;;) {
        uint8_t id;
        uint32_t flen;
        const uint8_t *data;
        if (rd_u8(&r, &id) < 0)
            return bad(err, "FeatureExt without terminator");
        if (id == 0xFF)
            return 0;
        if (rd_u32le(&r, &flen) < 0 || rd_bytes(&r, flen, &data) < 0)
            return bad(err, "truncated FeatureExt");
        if (id < 64)
            out->features |= (uint64_t)1 << id;
        if (id == TDS_FEATURE_UTF8 && flen >= 1 && data[0] == 1)
            out->utf8_requested = 1;
    }
}

int tds_login7_parse(const uint8_t *p, size_t len, tds_login7 *out, hdb_err *err)
{
    memset(out, 0, sizeof *out);
    if (len < 8)
        return bad(err, "record shorter than its header");
    size_t reclen = get_u32le(p);
    if (reclen > len)
        return bad(err, "record length beyond the message");
    out->tds_version = get_u32le(p + 4);
    /* 7.2 added ChangePassword and cbSSPILong; TDS 8.0 (0x08000000) has them too */
    uint8_t major = (uint8_t)(out->tds_version >> 24);
    size_t fixed = (major >= 0x72 || out->tds_version == 0x08000000u) ? 94 : 86;
    if (reclen < fixed)
        return bad(err, "record shorter than the fixed part");
    out->packet_size = get_u32le(p + 8);
    out->client_prog_ver = get_u32le(p + 12);
    out->client_pid = get_u32le(p + 16);
    out->connection_id = get_u32le(p + 20);
    out->flags1 = p[24];
    out->flags2 = p[25];
    out->type_flags = p[26];
    out->flags3 = p[27];
    out->client_timezone = (int32_t)get_u32le(p + 28);
    out->client_lcid = get_u32le(p + 32);
    memcpy(out->client_id, p + 72, 6);

    if (get_string(p, reclen, 36, TDS_NAME_CHARS, 0, out->hostname, sizeof out->hostname, "host name", err) ||
        get_string(p, reclen, 40, TDS_NAME_CHARS, 0, out->username, sizeof out->username, "user name", err) ||
        get_string(p, reclen, 44, TDS_NAME_CHARS, 1, out->password, sizeof out->password, "password", err) ||
        get_string(p, reclen, 48, TDS_NAME_CHARS, 0, out->appname, sizeof out->appname, "application name", err) ||
        get_string(p, reclen, 52, TDS_NAME_CHARS, 0, out->servername, sizeof out->servername, "server name", err) ||
        get_string(p, reclen, 60, TDS_NAME_CHARS, 0, out->library, sizeof out->library, "library name", err) ||
        get_string(p, reclen, 64, TDS_NAME_CHARS, 0, out->language, sizeof out->language, "language", err) ||
        get_string(p, reclen, 68, TDS_NAME_CHARS, 0, out->database, sizeof out->database, "database", err) ||
        get_string(p, reclen, 82, 260, 0, out->attach_db_file, sizeof out->attach_db_file, "attach file", err))
        return -1;
    if (fixed == 94 &&
        get_string(p, reclen, 86, TDS_NAME_CHARS, 1, out->new_password, sizeof out->new_password,
                   "new password", err))
        return -1;

    size_t ib_sspi = get_u16le(p + 78), cb_sspi = get_u16le(p + 80);
    if (cb_sspi == 0xFFFF && fixed == 94)
        cb_sspi = get_u32le(p + 90);
    if (cb_sspi) {
        if (ib_sspi + cb_sspi > reclen)
            return bad(err, "SSPI data outside the login record");
        out->sspi = p + ib_sspi;
        out->sspi_len = (uint32_t)cb_sspi;
    }
    if ((out->flags3 & TDS_LF3_EXTENSION) && fixed == 94 && parse_features(p, reclen, out, err))
        return -1;
    return 0;
}

uint32_t tds_negotiate_version(uint32_t v)
{
    uint8_t major = (uint8_t)(v >> 24);
    if (v == 0x08000000u)             /* TDS 8.0 login: 7.4 token rules apply */
        return TDS_VER_74;
    if (major >= 0x74)
        return TDS_VER_74;
    if (major == 0x73)
        return v >= 0x730B0000u ? TDS_VER_73B : TDS_VER_73A;
    if (major == 0x72)
        return TDS_VER_72;
    if (major == 0x71)
        return TDS_VER_71;            /* also for 7.1 rev0, which tedious cannot parse back */
    return 0;
}

uint32_t tds_negotiate_packet_size(uint32_t requested)
{
    if (requested == 0)
        return TDS_LOGIN_PACKET_SIZE;
    if (requested < TDS_MIN_PACKET_SIZE)
        return TDS_MIN_PACKET_SIZE;
    if (requested > TDS_MAX_PACKET_SIZE)
        return TDS_MAX_PACKET_SIZE;
    return requested;
}

int tds_put_login_response(tds_conn *c, const tds_login_response *r)
{
    static const uint8_t default_ver[4] = { 0x10, 0x00, 0x07, 0xD0 };   /* 16.0.2000 */
    const char *db = r->database ? r->database : "master";
    const char *lang = r->language ? r->language : "us_english";
    char text[512];
    int rc = 0;

    rc |= tds_put_env_database(c, db, r->old_database ? r->old_database : "master");
    if (r->info_database) {
        snprintf(text, sizeof text, "Changed database context to '%s'.", db);
        rc |= tds_put_message(c, 5701, 2, 0, text, r->server_name, "", 1);
    }
    if (r->mirror_partner)
        rc |= tds_put_env_mirror_partner(c, r->mirror_partner);
    rc |= tds_put_env_collation(c, c->collation, NULL);
    rc |= tds_put_env_language(c, lang, "");
    if (r->info_language) {
        snprintf(text, sizeof text, "Changed language setting to %s.", lang);
        rc |= tds_put_message(c, 5703, 1, 0, text, r->server_name, "", 1);
    }
    const uint8_t *pv = r->prog_version;
    if (!pv[0] && !pv[1] && !pv[2] && !pv[3])
        pv = default_ver;
    /* Interface 1 = T-SQL: FreeTDS refuses 0 */
    rc |= tds_put_loginack(c, 1, c->version ? c->version : TDS_VER_74,
                           r->prog_name ? r->prog_name : "Microsoft SQL Server", pv);
    uint32_t size = c->next_packet_size ? c->next_packet_size : c->packet_size;
    rc |= tds_put_env_packet_size(c, size, TDS_LOGIN_PACKET_SIZE);
    if (r->ack_utf8 && c->version >= TDS_VER_74)
        rc |= tds_put_featureextack_utf8(c);
    rc |= tds_put_done(c, TDS_TOKEN_DONE, TDS_DONE_FINAL, 0, 0);
    return rc ? -1 : 0;
}

int tds_send_login_error(tds_conn *c, const hdb_err *errs, int nerrs,
                         const char *server_name, hdb_err *err)
{
    for (int i = 0; i < nerrs; i++)
        tds_put_error(c, &errs[i], server_name, "", 1);
    tds_put_done(c, TDS_TOKEN_DONE, TDS_DONE_ERROR, 0, 0);
    return tds_end_response(c, err);
}
