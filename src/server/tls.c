/*
 * tls.c — TLS for TDS client connections (see tls.h, README.md).
 *
 * Certificate. DATADIR/tls/server.crt (PEM) and server.key (PEM, mode 0600,
 * unencrypted). When either is missing both are generated: RSA-2048, SHA-256
 * signature, self-signed, CN and subjectAltName = the host name (plus
 * localhost and 127.0.0.1), extended key usage serverAuth (SQL Server's own
 * requirement for an encryption certificate), valid ten years. An operator
 * replaces the pair with a CA-issued one by overwriting both files.
 *
 * Handshake (TDS 7.x): the client's flights arrive as PRELOGIN messages;
 * each is written into the read BIO, SSL_do_handshake runs, and whatever it
 * produced goes back as exactly one PRELOGIN message (tedious reads one
 * message per flight and would hang on two). TLS 1.2 at most: tedious caps
 * itself there, and FreeTDS only flushes its wrapped output before a read,
 * which TLS 1.3's last client flight is not followed by.
 *
 * Afterwards the socket carries bare TLS records. Reads decrypt straight
 * into the TDS layer's buffer; writes encrypt one TDS packet into the write
 * BIO and send it from the BIO's own memory. `readable` (the attention
 * poll) pulls whatever ciphertext has arrived without blocking and reports
 * a read possible only once a whole record decrypts: a cancel must never
 * stall on a record the client has half sent.
 */
#include "server/tls.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "os/sockread.h"

/* SQL Server's number for a connection that failed before login. */
#define TLS_ERR_CONNECT 17830
/* Windows codes SQL Server prints in 17830, which DBAs recognise. */
#define NET_ERR_RESET   0x2746u       /* WSAECONNRESET: the client went away */
#define NET_ERR_TLS     0x80090326u   /* SEC_E_ILLEGAL_MESSAGE: bad handshake */

struct tls_server {
    SSL_CTX *ctx;
    char     thumbprint[41];
};

struct tls_session {
    SSL     *ssl;
    BIO     *rbio, *wbio;       /* owned by ssl */
    int      fd;
    int      eof;               /* the peer closed its side */
    uint8_t  net[16384];        /* ciphertext on its way from the socket to rbio */
};

/* ------------------------------------------------------------ helpers */

static void ssl_reason(char *buf, size_t cap)
{
    unsigned long e = ERR_peek_last_error();
    if (!e) {
        snprintf(buf, cap, "unknown TLS error");
        return;
    }
    const char *r = ERR_reason_error_string(e);
    if (r)
        snprintf(buf, cap, "%s", r);
    else
        ERR_error_string_n(e, buf, cap);
    ERR_clear_error();
}

static int path_join(char *out, size_t cap, const char *a, const char *b, const char *c)
{
    int n = snprintf(out, cap, "%s/%s%s%s", a, b, c ? "/" : "", c ? c : "");
    return n > 0 && (size_t)n < cap ? 0 : -1;
}

/* ------------------------------------------------------------ certificate */

static int add_ext(X509 *x, int nid, const char *value)
{
    X509V3_CTX v3;
    X509V3_set_ctx_nodb(&v3);
    X509V3_set_ctx(&v3, x, x, NULL, NULL, 0);
    X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, &v3, nid, value);
    if (!ext)
        return -1;
    int ok = X509_add_ext(x, ext, -1);
    X509_EXTENSION_free(ext);
    return ok ? 0 : -1;
}

/* A DNS name can go into subjectAltName only if it is made of the usual
 * characters (a comma would start a new entry in the config syntax). */
static int dns_safe(const char *s)
{
    if (!*s)
        return 0;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
              *s == '-' || *s == '.'))
            return 0;
    return 1;
}

static X509 *make_cert(EVP_PKEY *key, const char *cn)
{
    X509 *x = X509_new();
    BIGNUM *serial = BN_new();
    if (!x || !serial)
        goto fail;
    if (!X509_set_version(x, 2) || !BN_rand(serial, 63, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY) ||
        !BN_to_ASN1_INTEGER(serial, X509_get_serialNumber(x)))
        goto fail;
    /* an hour back: clients with a slightly late clock still accept it */
    if (!X509_gmtime_adj(X509_getm_notBefore(x), -3600) ||
        !X509_gmtime_adj(X509_getm_notAfter(x), (long)TLS_CERT_DAYS * 86400))
        goto fail;
    if (!X509_set_pubkey(x, key))
        goto fail;
    X509_NAME *name = X509_get_subject_name(x);
    if (!X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, (const unsigned char *)cn, -1, -1, 0) ||
        !X509_set_issuer_name(x, name))
        goto fail;
    char san[600];
    if (dns_safe(cn) && strcasecmp(cn, "localhost") != 0)
        snprintf(san, sizeof san, "DNS:%s,DNS:localhost,IP:127.0.0.1", cn);
    else
        snprintf(san, sizeof san, "DNS:localhost,IP:127.0.0.1");
    if (add_ext(x, NID_subject_alt_name, san) < 0 || add_ext(x, NID_ext_key_usage, "serverAuth") < 0 ||
        add_ext(x, NID_subject_key_identifier, "hash") < 0)
        goto fail;
    if (!X509_sign(x, key, EVP_sha256()))
        goto fail;
    BN_free(serial);
    return x;
fail:
    BN_free(serial);
    X509_free(x);
    return NULL;
}

/* Writes PEM via `put` into path.tmp (mode `mode`), fsyncs and renames. */
static int write_pem(const char *path, mode_t mode, int (*put)(FILE *, void *), void *obj)
{
    char tmp[PATH_MAX];
    if (snprintf(tmp, sizeof tmp, "%s.tmp", path) >= (int)sizeof tmp)
        return -1;
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
    if (fd < 0)
        return -1;
    if (fchmod(fd, mode) < 0) {
        close(fd);
        unlink(tmp);
        return -1;
    }
    FILE *f = fdopen(fd, "w");
    if (!f) {
        close(fd);
        unlink(tmp);
        return -1;
    }
    int ok = put(f, obj) && fflush(f) == 0;
    /* fsync so a crash cannot leave an empty file that later starts would
     * take for a (broken) operator-supplied certificate */
    ok = ok && fsync(fileno(f)) == 0;
    ok = (fclose(f) == 0) && ok;
    if (!ok || rename(tmp, path) < 0) {
        unlink(tmp);
        return -1;
    }
    return 0;
}

static int put_key(FILE *f, void *k) { return PEM_write_PrivateKey(f, k, NULL, NULL, 0, NULL, NULL); }
static int put_cert(FILE *f, void *x) { return PEM_write_X509(f, x); }

static int generate(const char *dir, const char *crt, const char *key, const char *cn, hdb_err *err)
{
    char why[HDB_ERR_MSG_MAX];
    if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
        snprintf(why, sizeof why, "Cannot create the directory '%.600s' for the certificate: %.200s.", dir,
                 strerror(errno));
        return hdb_raise_text(err, 26014, 16, 1, why);
    }
    EVP_PKEY *pk = EVP_RSA_gen(2048);
    X509 *x = pk ? make_cert(pk, cn) : NULL;
    int rc = 0;
    if (!x) {
        char r[160];
        ssl_reason(r, sizeof r);
        snprintf(why, sizeof why, "Cannot generate a self-signed certificate: %.160s.", r);
        rc = hdb_raise_text(err, 26014, 16, 1, why);
    } else if (write_pem(key, 0600, put_key, pk) < 0 || write_pem(crt, 0644, put_cert, x) < 0) {
        snprintf(why, sizeof why, "Cannot write the generated certificate and key under '%.600s': %.200s.",
                 dir, strerror(errno));
        rc = hdb_raise_text(err, 26014, 16, 1, why);
    }
    X509_free(x);
    EVP_PKEY_free(pk);
    return rc;
}

/* ------------------------------------------------------------ server context */

tls_server *tls_server_open(const char *datadir, const char *cn, char *note, size_t notecap,
                            hdb_err *err)
{
    char dir[PATH_MAX], crt[PATH_MAX], key[PATH_MAX], why[HDB_ERR_MSG_MAX];
    if (path_join(dir, sizeof dir, datadir, TLS_DIR, NULL) < 0 ||
        path_join(crt, sizeof crt, datadir, TLS_DIR, TLS_CERT_FILE) < 0 ||
        path_join(key, sizeof key, datadir, TLS_DIR, TLS_KEY_FILE) < 0) {
        hdb_raise_text(err, 26014, 16, 1, "The certificate path is too long.");
        return NULL;
    }
    int generated = 0;
    if (access(crt, F_OK) != 0 || access(key, F_OK) != 0) {
        if (generate(dir, crt, key, cn, err) < 0)
            return NULL;
        generated = 1;
    }
    tls_server *t = calloc(1, sizeof *t);
    if (!t) {
        hdb_raise_text(err, 701, 19, 1, "There is insufficient system memory to run this query.");
        return NULL;
    }
    ERR_clear_error();
    t->ctx = SSL_CTX_new(TLS_server_method());
    if (!t->ctx || !SSL_CTX_set_max_proto_version(t->ctx, TLS1_2_VERSION) ||
        SSL_CTX_use_certificate_chain_file(t->ctx, crt) != 1 ||
        SSL_CTX_use_PrivateKey_file(t->ctx, key, SSL_FILETYPE_PEM) != 1 ||
        SSL_CTX_check_private_key(t->ctx) != 1) {
        char r[160];
        ssl_reason(r, sizeof r);
        snprintf(why, sizeof why, "Unable to load the certificate '%.400s' and key '%.400s' for "
                 "encryption: %.150s.", crt, key, r);
        hdb_raise_text(err, 26014, 16, 1, why);
        tls_server_free(t);
        return NULL;
    }
    /* no tickets, cache or renegotiation: one full handshake per connection,
     * and nothing but application data once it is done */
    SSL_CTX_set_options(t->ctx, SSL_OP_NO_TICKET | SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION |
                                SSL_OP_CIPHER_SERVER_PREFERENCE);
    SSL_CTX_set_session_cache_mode(t->ctx, SSL_SESS_CACHE_OFF);
    /* idle sessions give their record buffers back */
    SSL_CTX_set_mode(t->ctx, SSL_MODE_RELEASE_BUFFERS);

    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned mdlen = 0;
    X509 *x = SSL_CTX_get0_certificate(t->ctx);
    if (x && X509_digest(x, EVP_sha1(), md, &mdlen) && mdlen == 20)
        for (unsigned i = 0; i < mdlen; i++)
            snprintf(t->thumbprint + 2 * i, 3, "%02X", md[i]);
    if (note)
        snprintf(note, notecap, "%sThe certificate [Cert Hash(sha1) \"%s\"] was successfully loaded for "
                 "encryption.", generated ? "A self-generated certificate was written to the data "
                 "directory (" TLS_DIR "/" TLS_CERT_FILE "). " : "", t->thumbprint);
    return t;
}

tls_server *tls_server_start(instance *in, const char *datadir)
{
    char host[256] = "";
    if (gethostname(host, sizeof host - 1) != 0 || !host[0])
        snprintf(host, sizeof host, "localhost");
    char note[512];
    hdb_err e;
    hdb_err_clear(&e);
    tls_server *t = tls_server_open(datadir, host, note, sizeof note, &e);
    if (t)
        inst_log(in, "%s", note);
    else
        inst_log(in, "Error: %d, Severity: %d, State: %d. %s Clients that require encryption will be "
                 "refused.", e.number, e.severity, e.state, e.msg);
    return t;
}

void tls_server_free(tls_server *t)
{
    if (!t)
        return;
    SSL_CTX_free(t->ctx);
    free(t);
}

const char *tls_server_thumbprint(const tls_server *t) { return t->thumbprint; }

/* ------------------------------------------------------------ transport */

/* Sends everything OpenSSL has written, straight from the BIO's memory. */
static int flush_out(tls_session *s, int flags)
{
    char *p;
    long n = BIO_get_mem_data(s->wbio, &p);
    while (n > 0) {
        ssize_t w = send(s->fd, p, (size_t)n, MSG_NOSIGNAL | flags);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            (void)BIO_reset(s->wbio);
            if (w == 0)
                errno = EPIPE;
            return -1;
        }
        p += w;
        n -= w;
    }
    (void)BIO_reset(s->wbio);
    return 0;
}

/* Moves ciphertext from the socket into the read BIO: >0 bytes, 0 at end
 * of stream, -1 with errno (EAGAIN when non-blocking and nothing came). */
static ssize_t pull(tls_session *s, int flags)
{
    for (;;) {
        ssize_t k = flags ? recv(s->fd, s->net, sizeof s->net, flags)
                          : sockread_recv(s->fd, s->net, sizeof s->net);
        if (k < 0 && errno == EINTR)
            continue;
        if (k > 0 && BIO_write(s->rbio, s->net, (int)k) != (int)k) {
            errno = ENOMEM;
            return -1;
        }
        if (k == 0)
            s->eof = 1;
        return k;
    }
}

static ssize_t tls_read(void *ctx, void *buf, size_t len)
{
    tls_session *s = ctx;
    if (len == 0)
        return 0;
    int want = len > INT_MAX ? INT_MAX : (int)len;
    for (;;) {
        ERR_clear_error();
        int n = SSL_read(s->ssl, buf, want);
        if (n > 0)
            return n;
        int e = SSL_get_error(s->ssl, n);
        if (BIO_ctrl_pending(s->wbio) > 0)
            flush_out(s, 0);               /* an alert for the peer */
        if (e == SSL_ERROR_ZERO_RETURN)
            return 0;                      /* close_notify */
        if (e != SSL_ERROR_WANT_READ) {
            ERR_clear_error();
            errno = EPROTO;
            return -1;
        }
        if (s->eof)
            return 0;
        ssize_t k = pull(s, 0);
        if (k <= 0)
            return k;
    }
}

static ssize_t tls_write(void *ctx, const void *buf, size_t len)
{
    tls_session *s = ctx;
    int n = SSL_write(s->ssl, buf, len > INT_MAX ? INT_MAX : (int)len);
    if (n <= 0) {
        ERR_clear_error();
        errno = EPROTO;
        return -1;
    }
    return flush_out(s, 0) < 0 ? -1 : n;
}

static int tls_readable(void *ctx)
{
    tls_session *s = ctx;
    if (s->eof || SSL_pending(s->ssl) > 0)
        return 1;
    for (;;) {
        unsigned char b;
        ERR_clear_error();
        int n = SSL_peek(s->ssl, &b, 1);
        if (n > 0)
            return 1;
        if (SSL_get_error(s->ssl, n) != SSL_ERROR_WANT_READ) {
            ERR_clear_error();
            return 1;                      /* closed or broken: tls_read says so */
        }
        ssize_t k = pull(s, MSG_DONTWAIT);
        if (k < 0)
            return errno != EAGAIN && errno != EWOULDBLOCK;
        if (k == 0)
            return 1;
    }
}

/* ------------------------------------------------------------ handshake */

static tls_session *accept_fail(tls_session *s, hdb_err *err, unsigned code, struct timespec t0,
                                const char *what)
{
    struct timespec t1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    long ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
    char msg[HDB_ERR_MSG_MAX];
    size_t n = strlen(what);
    snprintf(msg, sizeof msg, "Network error code 0x%x occurred while establishing a connection; the "
             "connection has been closed. Time spent during login: establishing SSL %ld ms. The TLS "
             "handshake failed: %s%s", code, ms, what, n && what[n - 1] == '.' ? "" : ".");
    hdb_raise_text(err, TLS_ERR_CONNECT, 20, 11, msg);
    if (s) {
        SSL_free(s->ssl);
        free(s);
    }
    return NULL;
}

tls_session *tls_accept(tls_server *t, tds_conn *c, int fd, hdb_err *err)
{
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    if (tds_conn_pending_input(c) != 0)
        return accept_fail(NULL, err, NET_ERR_TLS, t0, "the client sent data before the handshake.");
    tls_session *s = calloc(1, sizeof *s);
    if (!s)
        return accept_fail(NULL, err, NET_ERR_TLS, t0, "out of memory.");
    s->fd = fd;
    s->ssl = SSL_new(t->ctx);
    s->rbio = BIO_new(BIO_s_mem());
    s->wbio = BIO_new(BIO_s_mem());
    if (!s->ssl || !s->rbio || !s->wbio) {
        BIO_free(s->rbio);
        BIO_free(s->wbio);
        return accept_fail(s, err, NET_ERR_TLS, t0, "out of memory.");
    }
    /* an empty read BIO means "not yet", never end of stream */
    BIO_set_mem_eof_return(s->rbio, -1);
    SSL_set_bio(s->ssl, s->rbio, s->wbio);
    SSL_set_accept_state(s->ssl);
    char why[HDB_ERR_MSG_MAX - 300];
    for (;;) {
        ERR_clear_error();
        int r = SSL_do_handshake(s->ssl);
        int e = r == 1 ? SSL_ERROR_NONE : SSL_get_error(s->ssl, r);
        if (e != SSL_ERROR_NONE && e != SSL_ERROR_WANT_READ)
            ssl_reason(why, sizeof why);
        /* our flight, or the alert that explains a failure: one message */
        char *p;
        long n = BIO_get_mem_data(s->wbio, &p);
        if (n > 0) {
            hdb_err se;
            int rc = tds_send_message(c, TDS_PKT_PRELOGIN, p, (size_t)n, &se);
            (void)BIO_reset(s->wbio);
            if (rc < 0 && (e == SSL_ERROR_NONE || e == SSL_ERROR_WANT_READ))
                return accept_fail(s, err, NET_ERR_RESET, t0, "the client went away.");
        }
        if (e == SSL_ERROR_NONE)
            break;
        if (e != SSL_ERROR_WANT_READ)
            return accept_fail(s, err, NET_ERR_TLS, t0, why);
        tds_message m;
        hdb_err re;
        int type = tds_read_message(c, &m, &re);
        if (type == 0)
            return accept_fail(s, err, NET_ERR_RESET, t0, "the client closed the connection.");
        if (type < 0)
            return accept_fail(s, err, NET_ERR_RESET, t0, re.msg);
        if (type != TDS_PKT_PRELOGIN) {
            tds_message_free(&m);
            snprintf(why, sizeof why, "the client sent a message of type 0x%02X instead of "
                     "handshake data.", type);
            return accept_fail(s, err, NET_ERR_TLS, t0, why);
        }
        int len = (int)m.len;      /* at most the 128 KiB pre-login cap */
        int w = len ? BIO_write(s->rbio, m.data, len) : 0;
        tds_message_free(&m);
        if (w != len)
            return accept_fail(s, err, NET_ERR_TLS, t0, "out of memory.");
    }
    /* lock-step: the client waits for our last flight before it sends more,
     * so nothing can be sitting in the TDS layer's plain read-ahead */
    if (tds_conn_pending_input(c) != 0)
        return accept_fail(s, err, NET_ERR_TLS, t0, "the client sent data before the handshake ended.");
    tds_io io = { tls_read, tls_write, tls_readable, s };
    tds_conn_set_io(c, &io);
    return s;
}

void tls_session_close(tls_session *s)
{
    if (!s)
        return;
    if (!s->eof) {
        /* never block on a client that stopped reading */
        ERR_clear_error();
        if (SSL_shutdown(s->ssl) >= 0)
            flush_out(s, MSG_DONTWAIT);
        ERR_clear_error();
    }
    SSL_free(s->ssl);
    free(s);
}

const char *tls_session_describe(const tls_session *s, char *buf, size_t cap)
{
    snprintf(buf, cap, "%s %s", SSL_get_version(s->ssl), SSL_get_cipher_name(s->ssl));
    return buf;
}
