/* Unit tests: server TLS — certificate generation and loading, the TLS
 * handshake carried in PRELOGIN messages, and the TLS transport of a TDS
 * connection (large messages across records, attention with a record that
 * arrives in pieces, peer close). The client is OpenSSL with memory BIOs in
 * this process, over a socketpair, framing its flights as FreeTDS and
 * tedious do: one PRELOGIN message per flight. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "server/tls.h"

/* ------------------------------------------------------------ plumbing */

static void write_full(int fd, const void *p, size_t n)
{
    const uint8_t *b = p;
    while (n > 0) {
        ssize_t w = send(fd, b, n, MSG_NOSIGNAL);
        assert_true(w > 0);
        b += w;
        n -= (size_t)w;
    }
}

static int read_full(int fd, void *p, size_t n)
{
    uint8_t *b = p;
    while (n > 0) {
        ssize_t r = recv(fd, b, n, 0);
        if (r <= 0)
            return -1;
        b += r;
        n -= (size_t)r;
    }
    return 0;
}

/* Frames payload as TDS packets of at most `size` bytes into out (grown). */
static size_t frame(uint8_t **out, size_t *cap, size_t len0, uint8_t type, const uint8_t *p, size_t n,
                    size_t size)
{
    size_t room = size - 8, off = 0, len = len0;
    do {
        size_t k = n - off < room ? n - off : room;
        if (len + k + 8 > *cap) {
            *cap = (len + k + 8) * 2;
            *out = realloc(*out, *cap);
            assert_non_null(*out);
        }
        uint8_t *h = *out + len;
        h[0] = type;
        h[1] = off + k == n ? 0x01 : 0x00;
        h[2] = (uint8_t)((k + 8) >> 8);
        h[3] = (uint8_t)(k + 8);
        h[4] = h[5] = 0;
        h[6] = 1;
        h[7] = 0;
        if (k)
            memcpy(h + 8, p + off, k);
        len += k + 8;
        off += k;
    } while (off < n);
    return len;
}

/* One TDS message in plain text from fd: its payload, type of every packet
 * checked, each packet no longer than `maxpkt`. NULL at end of stream. */
static uint8_t *read_plain_message(int fd, uint8_t want_type, size_t maxpkt, size_t *len)
{
    uint8_t *buf = NULL;
    size_t n = 0;
    for (;;) {
        uint8_t h[8];
        if (read_full(fd, h, 8) < 0) {
            free(buf);
            return NULL;
        }
        size_t plen = (size_t)h[2] << 8 | h[3];
        assert_int_equal(h[0], want_type);
        assert_true(plen >= 8 && plen <= maxpkt);
        buf = realloc(buf, n + plen);
        assert_non_null(buf);
        assert_int_equal(read_full(fd, buf + n, plen - 8), 0);
        n += plen - 8;
        if (h[1] & 0x01)
            break;
    }
    *len = n;
    return buf;
}

/* ------------------------------------------------------------ the client */

typedef struct client {
    SSL_CTX *ctx;
    SSL *ssl;
    BIO *rbio, *wbio;
    int fd;
    uint8_t *plain;            /* decrypted bytes not yet consumed */
    size_t plen, pcap;
} client;

static void client_init(client *cl, int fd)
{
    memset(cl, 0, sizeof *cl);
    cl->fd = fd;
    cl->ctx = SSL_CTX_new(TLS_client_method());
    assert_non_null(cl->ctx);
    SSL_CTX_set_verify(cl->ctx, SSL_VERIFY_NONE, NULL);
    cl->ssl = SSL_new(cl->ctx);
    cl->rbio = BIO_new(BIO_s_mem());
    cl->wbio = BIO_new(BIO_s_mem());
    BIO_set_mem_eof_return(cl->rbio, -1);
    SSL_set_bio(cl->ssl, cl->rbio, cl->wbio);
    SSL_set_connect_state(cl->ssl);
}

static void client_free(client *cl)
{
    SSL_free(cl->ssl);
    SSL_CTX_free(cl->ctx);
    free(cl->plain);
}

/* Everything the client's SSL has written, framed as one PRELOGIN message
 * (handshake) or sent raw (after it). */
static void client_flush(client *cl, int wrap)
{
    char *p;
    long n = BIO_get_mem_data(cl->wbio, &p);
    if (n <= 0)
        return;
    if (wrap) {
        uint8_t *out = NULL;
        size_t cap = 0, len = frame(&out, &cap, 0, 0x12, (const uint8_t *)p, (size_t)n, 4096);
        write_full(cl->fd, out, len);
        free(out);
    } else {
        write_full(cl->fd, p, (size_t)n);
    }
    (void)BIO_reset(cl->wbio);
}

/* The in-band handshake. Strict like tedious: every server message must
 * hold a whole flight, so after feeding one the client either answers or
 * is done. Returns 0 on success. */
static int client_handshake(client *cl)
{
    int fed = 0;
    for (;;) {
        int r = SSL_do_handshake(cl->ssl);
        int e = r == 1 ? SSL_ERROR_NONE : SSL_get_error(cl->ssl, r);
        int wrote = BIO_ctrl_pending(cl->wbio) > 0;
        client_flush(cl, 1);
        if (e == SSL_ERROR_NONE)
            return 0;
        if (e != SSL_ERROR_WANT_READ)
            return -1;
        if (fed && !wrote)      /* waiting again without answering: a flight came split */
            fail_msg("server flight spread over more than one TDS message");
        fed = 1;
        size_t n;
        uint8_t *m = read_plain_message(cl->fd, 0x12, 4096, &n);
        if (!m)
            return -1;
        assert_int_equal(BIO_write(cl->rbio, m, (int)n), (int)n);
        free(m);
    }
}

/* Encrypts bytes and returns the ciphertext (caller frees). */
static uint8_t *client_seal(client *cl, const void *p, size_t n, size_t *outlen)
{
    assert_int_equal(SSL_write(cl->ssl, p, (int)n), (int)n);
    char *q;
    long k = BIO_get_mem_data(cl->wbio, &q);
    uint8_t *out = malloc((size_t)k);
    assert_non_null(out);
    memcpy(out, q, (size_t)k);
    (void)BIO_reset(cl->wbio);
    *outlen = (size_t)k;
    return out;
}

/* Decrypts until at least `need` plain bytes are buffered. */
static int client_fill(client *cl, size_t need)
{
    while (cl->plen < need) {
        if (cl->pcap < cl->plen + 16384) {
            cl->pcap = (cl->plen + 16384) * 2;
            cl->plain = realloc(cl->plain, cl->pcap);
        }
        int r = SSL_read(cl->ssl, cl->plain + cl->plen, 16384);
        if (r > 0) {
            cl->plen += (size_t)r;
            continue;
        }
        if (SSL_get_error(cl->ssl, r) != SSL_ERROR_WANT_READ)
            return -1;
        uint8_t net[8192];
        ssize_t k = recv(cl->fd, net, sizeof net, 0);
        if (k <= 0)
            return -1;
        BIO_write(cl->rbio, net, (int)k);
    }
    return 0;
}

/* One decrypted TDS message: payload and type of its first packet. */
static uint8_t *client_read_message(client *cl, uint8_t *type, size_t *len)
{
    uint8_t *buf = NULL;
    size_t n = 0;
    for (;;) {
        if (client_fill(cl, 8) < 0) {
            free(buf);
            return NULL;
        }
        size_t plen = (size_t)cl->plain[2] << 8 | cl->plain[3];
        uint8_t st = cl->plain[1];
        *type = cl->plain[0];
        assert_int_equal(client_fill(cl, plen), 0);
        buf = realloc(buf, n + plen);
        memcpy(buf + n, cl->plain + 8, plen - 8);
        n += plen - 8;
        memmove(cl->plain, cl->plain + plen, cl->plen - plen);
        cl->plen -= plen;
        if (st & 0x01)
            break;
    }
    *len = n;
    return buf;
}

/* ------------------------------------------------------------ fixtures */

static char tmpdir[64];

static int make_dir(void **state)
{
    (void)state;
    snprintf(tmpdir, sizeof tmpdir, "/tmp/hadr-tls-XXXXXX");
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int remove_dir(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

static tls_server *open_server(void)
{
    hdb_err e;
    char note[512];
    tls_server *t = tls_server_open(tmpdir, "dbhost.example", note, sizeof note, &e);
    if (!t)
        fail_msg("tls_server_open: %s", e.msg);
    return t;
}

typedef struct accept_job {
    tls_server *t;
    tds_conn *c;
    int fd;
    tls_session *s;
    hdb_err err;
} accept_job;

static void *accept_thread(void *arg)
{
    accept_job *j = arg;
    j->s = tls_accept(j->t, j->c, j->fd, &j->err);
    return NULL;
}

/* ------------------------------------------------------------ tests */

/* First open generates a key (mode 0600) and a certificate; the next open
 * loads the same pair; a missing file makes a new pair; a damaged one is an
 * error (26014), never silently replaced. */
static void certificate_lifecycle(void **state)
{
    (void)state;
    tls_server *t = open_server();
    char thumb[41];
    snprintf(thumb, sizeof thumb, "%s", tls_server_thumbprint(t));
    assert_int_equal(strlen(thumb), 40);
    tls_server_free(t);

    char key[256], crt[256];
    snprintf(key, sizeof key, "%s/tls/server.key", tmpdir);
    snprintf(crt, sizeof crt, "%s/tls/server.crt", tmpdir);
    struct stat st;
    assert_int_equal(stat(key, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    assert_int_equal(stat(crt, &st), 0);

    t = open_server();
    assert_string_equal(tls_server_thumbprint(t), thumb);
    tls_server_free(t);

    unlink(key);
    t = open_server();
    assert_string_not_equal(tls_server_thumbprint(t), thumb);
    tls_server_free(t);

    FILE *f = fopen(crt, "w");
    assert_non_null(f);
    fputs("-----BEGIN CERTIFICATE-----\nnot a certificate\n-----END CERTIFICATE-----\n", f);
    fclose(f);
    hdb_err e;
    assert_null(tls_server_open(tmpdir, "dbhost.example", NULL, 0, &e));
    assert_int_equal(e.number, 26014);
    unlink(crt);
    unlink(key);
}

/* Handshake in PRELOGIN messages, then a TDS conversation over TLS. */
static void handshake_and_transport(void **state)
{
    (void)state;
    tls_server *t = open_server();
    int sv[2];
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    accept_job j = { .t = t, .c = tds_conn_new_fd(sv[0], 60), .fd = sv[0] };
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, accept_thread, &j), 0);
    client cl;
    client_init(&cl, sv[1]);
    assert_int_equal(client_handshake(&cl), 0);
    pthread_join(th, NULL);
    assert_non_null(j.s);
    assert_string_equal(SSL_get_version(cl.ssl), "TLSv1.2");
    X509 *peer = SSL_get1_peer_certificate(cl.ssl);
    assert_non_null(peer);
    char cn[128];
    X509_NAME_get_text_by_NID(X509_get_subject_name(peer), NID_commonName, cn, sizeof cn);
    assert_string_equal(cn, "dbhost.example");
    X509_free(peer);
    tds_conn *c = j.c;
    tds_conn_login_ok(c, TDS_VER_74, 4096);
    hdb_err e;
    assert_int_equal(tds_end_response(c, &e), 0);   /* applies the packet size */

    /* a 40 KB batch: packets cut across TLS records and records across packets */
    size_t blen = 40000;
    uint8_t *batch = malloc(blen);
    for (size_t i = 0; i < blen; i++)
        batch[i] = (uint8_t)(i * 7 + 3);
    uint8_t *pk = NULL;
    size_t cap = 0, pklen = frame(&pk, &cap, 0, 0x01, batch, blen, 4096);
    size_t ctlen;
    uint8_t *ct = client_seal(&cl, pk, pklen, &ctlen);
    write_full(sv[1], ct, ctlen);
    free(ct);
    free(pk);
    tds_message m;
    assert_int_equal(tds_read_message(c, &m, &e), TDS_PKT_SQLBATCH);
    assert_int_equal(m.len, blen);
    assert_memory_equal(m.data, batch, blen);
    tds_message_free(&m);

    /* a 25 KB reply comes back as one message of 4096-byte packets */
    assert_int_equal(tds_send_message(c, TDS_PKT_REPLY, batch, 25000, &e), 0);
    uint8_t type;
    size_t rlen;
    uint8_t *reply = client_read_message(&cl, &type, &rlen);
    assert_non_null(reply);
    assert_int_equal(type, TDS_PKT_REPLY);
    assert_int_equal(rlen, 25000);
    assert_memory_equal(reply, batch, 25000);
    free(reply);

    /* attention: half a record is not a cancel, and the poll does not block */
    static const uint8_t attn[8] = { 0x06, 0x01, 0x00, 0x08, 0x00, 0x00, 0x01, 0x00 };
    ct = client_seal(&cl, attn, sizeof attn, &ctlen);
    write_full(sv[1], ct, 10);
    assert_int_equal(tds_check_attention(c), 0);
    write_full(sv[1], ct + 10, ctlen - 10);
    assert_int_equal(tds_check_attention(c), 1);
    free(ct);
    assert_int_equal(tds_send_attention_ack(c, &e), 0);
    reply = client_read_message(&cl, &type, &rlen);
    assert_non_null(reply);
    assert_int_equal(rlen, 13);
    assert_int_equal(reply[0], 0xFD);
    assert_int_equal(reply[1], 0x20);
    free(reply);

    /* anything else polled stays for the next read */
    pk = NULL;
    cap = 0;
    pklen = frame(&pk, &cap, 0, 0x01, batch, 100, 4096);
    ct = client_seal(&cl, pk, pklen, &ctlen);
    write_full(sv[1], ct, ctlen);
    assert_int_equal(tds_check_attention(c), 0);
    assert_int_equal(tds_read_message(c, &m, &e), TDS_PKT_SQLBATCH);
    assert_int_equal(m.len, 100);
    tds_message_free(&m);
    free(ct);
    free(pk);

    /* the client says goodbye: a clean end between messages */
    SSL_shutdown(cl.ssl);
    client_flush(&cl, 0);
    assert_int_equal(tds_read_message(c, &m, &e), 0);

    tds_conn_free(c);
    tls_session_close(j.s);
    close(sv[0]);
    close(sv[1]);
    client_free(&cl);
    free(batch);
    tls_server_free(t);
}

/* A peer that vanishes without close_notify is also an end of stream, and
 * a poll sees it without blocking. */
static void peer_vanishes(void **state)
{
    (void)state;
    tls_server *t = open_server();
    int sv[2];
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    accept_job j = { .t = t, .c = tds_conn_new_fd(sv[0], 60), .fd = sv[0] };
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, accept_thread, &j), 0);
    client cl;
    client_init(&cl, sv[1]);
    assert_int_equal(client_handshake(&cl), 0);
    pthread_join(th, NULL);
    assert_non_null(j.s);
    tds_conn_login_ok(j.c, TDS_VER_74, 4096);
    close(sv[1]);
    assert_int_equal(tds_check_attention(j.c), 0);
    tds_message m;
    hdb_err e;
    assert_int_equal(tds_read_message(j.c, &m, &e), 0);
    tds_conn_free(j.c);
    tls_session_close(j.s);
    close(sv[0]);
    client_free(&cl);
    tls_server_free(t);
}

/* Garbage instead of a ClientHello, a hang-up in the middle of the
 * handshake, and a non-PRELOGIN message: each fails with 17830. */
static void handshake_failures(void **state)
{
    (void)state;
    tls_server *t = open_server();
    for (int kind = 0; kind < 3; kind++) {
        int sv[2];
        assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
        accept_job j = { .t = t, .c = tds_conn_new_fd(sv[0], 60), .fd = sv[0] };
        pthread_t th;
        assert_int_equal(pthread_create(&th, NULL, accept_thread, &j), 0);
        uint8_t junk[300];
        for (size_t i = 0; i < sizeof junk; i++)
            junk[i] = (uint8_t)(i * 13 + 5);
        uint8_t *pk = NULL;
        size_t cap = 0, n;
        if (kind == 0) {
            n = frame(&pk, &cap, 0, 0x12, junk, sizeof junk, 4096);
            write_full(sv[1], pk, n);
        } else if (kind == 1) {
            client cl;
            client_init(&cl, sv[1]);
            SSL_do_handshake(cl.ssl);
            client_flush(&cl, 1);         /* ClientHello only */
            size_t len;
            free(read_plain_message(sv[1], 0x12, 4096, &len));
            client_free(&cl);
        } else {
            n = frame(&pk, &cap, 0, 0x10, junk, sizeof junk, 4096);
            write_full(sv[1], pk, n);
        }
        shutdown(sv[1], SHUT_WR);
        pthread_join(th, NULL);
        assert_null(j.s);
        assert_int_equal(j.err.number, 17830);
        assert_non_null(strstr(j.err.msg, "TLS handshake failed"));
        tds_conn_free(j.c);
        close(sv[0]);
        close(sv[1]);
        free(pk);
    }
    tls_server_free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(certificate_lifecycle),
        cmocka_unit_test(handshake_and_transport),
        cmocka_unit_test(peer_vanishes),
        cmocka_unit_test(handshake_failures),
    };
    return cmocka_run_group_tests(tests, make_dir, remove_dir);
}
