/*
 * tls.h — TLS on the client port (OpenSSL), for clients that ask for it.
 *
 * TDS 7.x does not start TLS on a bare socket: the client negotiates it in
 * PRELOGIN (ENCRYPTION option), then runs the TLS handshake with every
 * flight wrapped in a PRELOGIN-typed TDS message, and only after that do raw
 * TLS records travel on the socket. So OpenSSL never sees the socket: it
 * talks to two memory BIOs, and this module moves bytes between them and
 * the TDS connection (handshake) or the socket (afterwards).
 *
 *   tls_server_start(in, datadir)    at server start: load DATADIR/tls/
 *                                    server.crt + server.key, generating a
 *                                    self-signed pair first when missing;
 *                                    logs the outcome; NULL = no TLS
 *   PRELOGIN answered ENCRYPT_ON ->
 *   tls_accept(srv, c, fd, err)      handshake inside PRELOGIN messages, then
 *                                    swaps c's transport to TLS over fd
 *   ... the whole TDS conversation runs encrypted ...
 *   tls_session_close(s)             best-effort close_notify, then free
 *                                    (after tds_conn_free, before close(fd))
 *
 * src/server/README.md draws the message sequence. Threading: the
 * tls_server is shared read-only by every connection thread; a tls_session
 * belongs to one connection thread.
 */
#ifndef HDB_SERVER_TLS_H
#define HDB_SERVER_TLS_H

#include <stddef.h>

#include "engine/instance.h"
#include "tds/tds.h"
#include "util/err.h"

typedef struct tls_server tls_server;
typedef struct tls_session tls_session;

/* Certificate and key files under DATADIR, and the generated certificate. */
#define TLS_DIR       "tls"
#define TLS_CERT_FILE "server.crt"
#define TLS_KEY_FILE  "server.key"
#define TLS_CERT_DAYS 3650

/* Loads (generating when either file is missing) the certificate and key
 * under datadir/tls and prepares the TLS 1.2 server context. `cn` is the
 * certificate's common name for a generated certificate (the host name).
 * On success `note` holds the line to write to the error log. NULL with
 * *err filled when there is no usable certificate. */
tls_server *tls_server_open(const char *datadir, const char *cn, char *note, size_t notecap,
                            hdb_err *err);
/* tls_server_open with the host name as CN, logging success or failure to
 * the instance's error log. NULL: the server runs without TLS. */
tls_server *tls_server_start(instance *in, const char *datadir);
void tls_server_free(tls_server *t);
/* SHA-1 thumbprint of the loaded certificate, upper-case hex (40 chars). */
const char *tls_server_thumbprint(const tls_server *t);

/* Runs the server side of the in-band handshake on c (the PRELOGIN response
 * with ENCRYPT_ON must already be sent) and, once it completes, routes all
 * of c's further reads and writes through TLS over fd. NULL with *err
 * filled (the text names the TLS failure) when the handshake fails or the
 * client goes away: the connection is then unusable. */
tls_session *tls_accept(tls_server *t, tds_conn *c, int fd, hdb_err *err);
/* Sends close_notify without blocking, then frees. NULL is ignored. */
void tls_session_close(tls_session *s);
/* Protocol and cipher in use, e.g. "TLSv1.2 ECDHE-RSA-AES256-GCM-SHA384". */
const char *tls_session_describe(const tls_session *s, char *buf, size_t cap);

#endif
