/*
 * token.c — writers for the server's response tokens.
 *
 * Tokens with a length field (ENVCHANGE, INFO/ERROR, LOGINACK) are built in
 * a small buffer first so the length is exact (FreeTDS derives LOGINACK's
 * program name from it), then appended to the message. Rows are written
 * straight into the packet stream, after every value of the row has been
 * checked, so a bad value never leaves half a row on the wire.
 *
 * Version differences handled here (tds.md 8.5): 7.1 has 2-byte UserType
 * and LineNumber, 4-byte DONE row counts (packet.c), no transaction
 * ENVCHANGEs, no NBCROW; NBCROW needs 7.3.B.
 */
#include "tds/tds_int.h"

#include <stdio.h>

/* Appends a finished token buffer; reports out-of-memory while building. */
static int emit(tds_conn *c, tds_buf *b)
{
    if (b->oom) {
        buf_free(b);
        return -1;
    }
    tds_out_token_start(c);
    tds_out_bytes(c, b->p, b->len);
    buf_free(b);
    return c->broken ? -1 : 0;
}

/* ------------------------------------------------------------ INFO / ERROR */

int tds_put_message(tds_conn *c, int32_t number, uint8_t state, uint8_t severity,
                    const char *msg, const char *server, const char *proc, uint32_t line)
{
    tds_buf b;
    buf_init(&b);
    buf_u8(&b, severity <= 10 ? 0xAB : 0xAA);
    buf_u16le(&b, 0);                          /* length, patched below */
    buf_u32le(&b, (uint32_t)number);
    buf_u8(&b, state);
    buf_u8(&b, severity);
    buf_usvarchar(&b, msg ? msg : "");
    buf_bvarchar(&b, server ? server : "");
    buf_bvarchar(&b, proc ? proc : "");
    if (tds_is72(c->version))
        buf_u32le(&b, line);
    else
        buf_u16le(&b, (uint16_t)line);
    if (!b.oom && b.len - 3 > 0xFFFF) {
        /* only a message text near 32k characters gets here: cut it */
        buf_free(&b);
        char cut[8000];
        snprintf(cut, sizeof cut, "%s", msg);
        return tds_put_message(c, number, state, severity, cut, server, proc, line);
    }
    buf_patch_u16le(&b, 1, (uint16_t)(b.len - 3));
    return emit(c, &b);
}

int tds_put_error(tds_conn *c, const hdb_err *e, const char *server, const char *proc, uint32_t line)
{
    return tds_put_message(c, e->number, (uint8_t)(e->state ? e->state : 1),
                           (uint8_t)e->severity, e->msg, server, proc, line);
}

/* ------------------------------------------------------------ LOGINACK */

int tds_put_loginack(tds_conn *c, uint8_t interface, uint32_t tds_version,
                     const char *prog_name, const uint8_t prog_version[4])
{
    tds_buf b;
    buf_init(&b);
    buf_u8(&b, 0xAD);
    buf_u16le(&b, 0);
    buf_u8(&b, interface);
    buf_u32be(&b, tds_version);                /* big-endian, unlike almost everything */
    buf_bvarchar(&b, prog_name);
    buf_put(&b, prog_version, 4);
    buf_patch_u16le(&b, 1, (uint16_t)(b.len - 3));
    return emit(c, &b);
}

int tds_put_featureextack_utf8(tds_conn *c)
{
    static const uint8_t t[] = { 0xAE, TDS_FEATURE_UTF8, 1, 0, 0, 0, 1, 0xFF };
    tds_out_token_start(c);
    tds_out_bytes(c, t, sizeof t);
    return c->broken ? -1 : 0;
}

/* ------------------------------------------------------------ ENVCHANGE */

static int env_strings(tds_conn *c, uint8_t type, const char *nv, const char *ov)
{
    tds_buf b;
    buf_init(&b);
    buf_u8(&b, 0xE3);
    buf_u16le(&b, 0);
    buf_u8(&b, type);
    buf_bvarchar(&b, nv ? nv : "");
    buf_bvarchar(&b, ov ? ov : "");
    buf_patch_u16le(&b, 1, (uint16_t)(b.len - 3));
    return emit(c, &b);
}

static int env_bytes(tds_conn *c, uint8_t type, const uint8_t *nv, uint8_t nlen,
                     const uint8_t *ov, uint8_t olen)
{
    tds_buf b;
    buf_init(&b);
    buf_u8(&b, 0xE3);
    buf_u16le(&b, (uint16_t)(1 + 1 + nlen + 1 + olen));
    buf_u8(&b, type);
    buf_u8(&b, nlen);
    buf_put(&b, nv, nlen);
    buf_u8(&b, olen);
    buf_put(&b, ov, olen);
    return emit(c, &b);
}

static void le64(uint8_t out[8], uint64_t v)
{
    for (int k = 0; k < 8; k++)
        out[k] = (uint8_t)(v >> (8 * k));
}

int tds_put_env_database(tds_conn *c, const char *new_db, const char *old_db)
{ return env_strings(c, 1, new_db, old_db); }

int tds_put_env_language(tds_conn *c, const char *new_lang, const char *old_lang)
{ return env_strings(c, 2, new_lang, old_lang); }

int tds_put_env_packet_size(tds_conn *c, uint32_t new_size, uint32_t old_size)
{
    char nv[16], ov[16];
    snprintf(nv, sizeof nv, "%u", new_size);
    snprintf(ov, sizeof ov, "%u", old_size);
    return env_strings(c, 4, nv, ov);
}

int tds_put_env_collation(tds_conn *c, const uint8_t new_coll[5], const uint8_t *old_coll5)
{ return env_bytes(c, 7, new_coll, 5, old_coll5, old_coll5 ? 5 : 0); }

int tds_put_env_mirror_partner(tds_conn *c, const char *partner)
{ return env_strings(c, 13, partner, ""); }

/* Transaction ENVCHANGEs exist from 7.2 on; 7.1 clients track transactions
 * themselves and tedious in 7.1 mode would not expect them. */
static int env_tran(tds_conn *c, uint8_t type, uint64_t desc, int in_new)
{
    if (!tds_is72(c->version))
        return 0;
    uint8_t d[8];
    le64(d, desc);
    return in_new ? env_bytes(c, type, d, 8, NULL, 0) : env_bytes(c, type, NULL, 0, d, 8);
}

int tds_put_env_begin_tran(tds_conn *c, uint64_t descriptor) { return env_tran(c, 8, descriptor, 1); }
int tds_put_env_commit_tran(tds_conn *c, uint64_t old) { return env_tran(c, 9, old, 0); }
int tds_put_env_rollback_tran(tds_conn *c, uint64_t old) { return env_tran(c, 10, old, 0); }
/* Type 17's placement of the descriptor is ambiguous in the spec; no client
 * here reads it (all skip by length), so it mirrors 9/10: old value. */
int tds_put_env_tran_ended(tds_conn *c, uint64_t old) { return env_tran(c, 17, old, 0); }

int tds_put_env_reset_ack(tds_conn *c)
{
    if (!tds_is72(c->version))
        return 0;
    return env_bytes(c, 18, NULL, 0, NULL, 0);
}

int tds_put_returnstatus(tds_conn *c, int32_t status)
{
    uint8_t t[5] = { 0x79, (uint8_t)status, (uint8_t)(status >> 8),
                     (uint8_t)(status >> 16), (uint8_t)((uint32_t)status >> 24) };
    tds_out_token_start(c);
    tds_out_bytes(c, t, sizeof t);
    return c->broken ? -1 : 0;
}

/* ------------------------------------------------------------ result sets */

int tds_put_colmetadata(tds_conn *c, const tds_column *cols, int ncols, hdb_err *err)
{
    if (ncols < 0 || ncols >= 0xFFFF)          /* 0xFFFF means "no metadata" */
        return tds_fail(err, 50000, 16, "Internal error: %d result columns.", ncols);
    if (ncols > c->cols_cap) {
        struct tds_wcol *n = realloc(c->cols, (size_t)ncols * sizeof *n);
        if (!n)
            return hdb_raise_text(err, 701, 17, 1, "There is insufficient system memory to "
                                  "run this query.");
        c->cols = n;
        c->cols_cap = ncols;
    }
    for (int i = 0; i < ncols; i++)
        if (tds_wcol_from_type(c->version, &cols[i].type, &c->cols[i], err) < 0) {
            c->ncols = 0;
            return -1;
        }
    c->ncols = ncols;

    int v72 = tds_is72(c->version);
    tds_buf b;
    buf_init(&b);
    buf_u8(&b, 0x81);
    buf_u16le(&b, (uint16_t)ncols);
    for (int i = 0; i < ncols; i++) {
        const struct tds_wcol *w = &c->cols[i];
        if (v72)
            buf_u32le(&b, 0);                  /* UserType */
        else
            buf_u16le(&b, 0);
        buf_u16le(&b, cols[i].flags);
        tds_typeinfo_put(&b, w, c->collation);
        if (w->form == TDS_FORM_TEXT) {
            /* TableName: 7.2+ NumParts (0); 7.1 one empty US_VARCHAR */
            if (v72)
                buf_u8(&b, 0);
            else
                buf_u16le(&b, 0);
        }
        buf_bvarchar(&b, cols[i].name ? cols[i].name : "");
    }
    if (emit(c, &b) < 0)
        return c->broken ? -1 : hdb_raise_text(err, 701, 17, 1, "There is insufficient "
                                               "system memory to run this query.");
    return 0;
}

int tds_put_row(tds_conn *c, const sql_value *vals, int ncols, hdb_err *err)
{
    if (ncols != c->ncols)
        return tds_fail(err, 50000, 16, "Internal error: row of %d values for %d columns.",
                        ncols, c->ncols);
    int nulls = 0;
    for (int i = 0; i < ncols; i++) {
        if (tds_value_check(&c->cols[i], &vals[i], err) < 0)
            return -1;
        nulls += vals[i].is_null != 0;
    }
    tds_out_token_start(c);
    tds_sink s = tds_sink_conn(c);
    /* NBCROW (7.3.B+) drops NULL values behind a bitmap: worth it as soon as
     * one value is NULL */
    if (nulls && (c->version == 0 || c->version >= TDS_VER_73B)) {
        uint8_t bits[64];
        size_t nb = ((size_t)ncols + 7) / 8;
        uint8_t tok = 0xD2;
        tds_out_bytes(c, &tok, 1);
        for (size_t off = 0; off < nb; off += sizeof bits) {
            size_t chunk = nb - off < sizeof bits ? nb - off : sizeof bits;
            memset(bits, 0, chunk);
            for (size_t k = 0; k < chunk * 8; k++) {
                size_t col = off * 8 + k;
                if (col < (size_t)ncols && vals[col].is_null)
                    bits[k / 8] |= (uint8_t)(1u << (k % 8));
            }
            tds_out_bytes(c, bits, chunk);
        }
        for (int i = 0; i < ncols; i++)
            if (!vals[i].is_null)
                tds_value_put(s, &c->cols[i], &vals[i]);
    } else {
        uint8_t tok = 0xD1;
        tds_out_bytes(c, &tok, 1);
        for (int i = 0; i < ncols; i++)
            tds_value_put(s, &c->cols[i], &vals[i]);
    }
    return c->broken ? tds_fail(err, TDS_ERR_NETWORK, 20, "The connection to the client "
                                "was lost while sending results.") : 0;
}

int tds_put_returnvalue(tds_conn *c, uint16_t ordinal, const char *name, uint8_t status,
                        const sql_type *type, const sql_value *value, hdb_err *err)
{
    struct tds_wcol w;
    if (tds_wcol_from_type(c->version, type, &w, err) < 0 || tds_value_check(&w, value, err) < 0)
        return -1;
    tds_buf b;
    buf_init(&b);
    buf_u8(&b, 0xAC);
    buf_u16le(&b, ordinal);
    buf_bvarchar(&b, name ? name : "");
    buf_u8(&b, status);
    if (tds_is72(c->version))
        buf_u32le(&b, 0);
    else
        buf_u16le(&b, 0);
    buf_u16le(&b, 0);                          /* Flags: SQL Server sends 0 here */
    tds_typeinfo_put(&b, &w, c->collation);
    if (emit(c, &b) < 0)
        return c->broken ? -1 : hdb_raise_text(err, 701, 17, 1, "There is insufficient "
                                               "system memory to run this query.");
    tds_value_put(tds_sink_conn(c), &w, value);
    return c->broken ? -1 : 0;
}
