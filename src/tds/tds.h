/*
 * tds.h — the TDS 7.1-7.4 wire protocol, server side.
 *
 * This header is the whole contract between the server (sessions, T-SQL) and
 * the bytes on the socket. The server never touches a byte layout: it reads
 * whole request messages, hands their payload to a parser that returns a
 * struct, runs the request, and answers through token writers that stream
 * packets as they fill. src/tds/README.md describes the message flow and the
 * rules clients depend on; ../shared/reference/tds.md is the byte reference.
 *
 * A connection's life, as the server drives it:
 *
 *   tds_conn *c = tds_conn_new_fd(fd, spid);
 *   tds_read_message(c, &m)            -> TDS_PKT_PRELOGIN
 *   tds_prelogin_parse(m.data, m.len, &pl)
 *   tds_send_prelogin_response(c, &reply)
 *   tds_read_message(c, &m)            -> TDS_PKT_LOGIN7
 *   tds_login7_parse(m.data, m.len, &login)
 *   ... authenticate ...
 *   tds_conn_login_ok(c, tds_negotiate_version(login.tds_version),
 *                     tds_negotiate_packet_size(login.packet_size));
 *   tds_put_login_response(c, &lr); tds_end_response(c)
 *   loop: tds_read_message -> SQL batch / RPC / TM / ATTENTION
 *         parse, execute, tds_put_* tokens, tds_end_response
 *
 * Errors: every function that can fail returns -1 (or NULL) and fills an
 * hdb_err when given one. Decoders are bounds-checked against their input
 * and reject malformed bytes with an error, never by reading past the end.
 * A failure of tds_read_message (malformed packet, oversize message, I/O
 * error) leaves the connection unusable: the server closes it.
 *
 * Threading: a tds_conn belongs to one session thread and has no locks.
 * Even a cancel needs no second thread: the owning thread polls for an
 * ATTENTION packet while it works (tds_check_attention).
 */
#ifndef HDB_TDS_TDS_H
#define HDB_TDS_TDS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "access/value.h"
#include "util/err.h"

/* ------------------------------------------------------------ constants */

/* TDS versions as LOGINACK reports them (and as tds_conn stores them). */
#define TDS_VER_71   0x71000001u
#define TDS_VER_72   0x72090002u
#define TDS_VER_73A  0x730A0003u
#define TDS_VER_73B  0x730B0003u
#define TDS_VER_74   0x74000004u

/* Packet (message) types. */
enum tds_packet_type {
    TDS_PKT_SQLBATCH  = 0x01,
    TDS_PKT_LOGIN_OLD = 0x02,   /* pre-7.0 login: never accepted */
    TDS_PKT_RPC       = 0x03,
    TDS_PKT_REPLY     = 0x04,   /* every server->client message */
    TDS_PKT_ATTENTION = 0x06,
    TDS_PKT_BULK      = 0x07,
    TDS_PKT_FEDAUTH   = 0x08,
    TDS_PKT_TM        = 0x0E,
    TDS_PKT_LOGIN7    = 0x10,
    TDS_PKT_SSPI      = 0x11,
    TDS_PKT_PRELOGIN  = 0x12,   /* also carries in-band TLS handshake records */
};

/* Packet header status bits. */
#define TDS_STATUS_EOM                 0x01
#define TDS_STATUS_IGNORE              0x02
#define TDS_STATUS_RESETCONNECTION     0x08
#define TDS_STATUS_RESETCONNSKIPTRAN   0x10

#define TDS_HEADER_SIZE        8
#define TDS_MIN_PACKET_SIZE    512
#define TDS_MAX_PACKET_SIZE    32767
#define TDS_LOGIN_PACKET_SIZE  4096   /* packet size until login completes */

/* Reassembled-message caps: generous for requests of a logged-in session,
 * small before authentication so an anonymous peer cannot make us allocate. */
#define TDS_DEFAULT_MAX_MESSAGE  (64u << 20)
#define TDS_PRELOGIN_MAX_MESSAGE (128u << 10)

/* Done-token kinds and status bits. */
#define TDS_TOKEN_DONE        0xFD
#define TDS_TOKEN_DONEPROC    0xFE
#define TDS_TOKEN_DONEINPROC  0xFF

#define TDS_DONE_FINAL        0x0000
#define TDS_DONE_MORE         0x0001   /* computed by the writer, see tds_put_done */
#define TDS_DONE_ERROR        0x0002
#define TDS_DONE_INXACT       0x0004
#define TDS_DONE_COUNT        0x0010
#define TDS_DONE_ATTN         0x0020
#define TDS_DONE_RPCINBATCH   0x0080
#define TDS_DONE_SRVERROR     0x0100

/* DONE CurCmd values SQL Server uses (clients do not interpret them). */
#define TDS_CMD_SELECT    0xC1
#define TDS_CMD_INSERT    0xC3
#define TDS_CMD_DELETE    0xC4
#define TDS_CMD_UPDATE    0xC5
#define TDS_CMD_SET       0xBE
#define TDS_CMD_ROLLBACK  0xD2
#define TDS_CMD_BEGINTRAN 0xD4
#define TDS_CMD_COMMIT    0xD5
#define TDS_CMD_EXECUTE   0xE0

/* COLMETADATA column flags. */
#define TDS_COL_NULLABLE   0x0001
#define TDS_COL_CASESEN    0x0002
#define TDS_COL_UPDATEABLE 0x0008   /* "read/write" in the 2-bit field */
#define TDS_COL_IDENTITY   0x0010
#define TDS_COL_COMPUTED   0x0020

/* Default collation SQL_Latin1_General_CP1_CI_AS (code page 1252). */
extern const uint8_t tds_default_collation[5];

/* ------------------------------------------------------------ connection */

/* Transport: read returns >0 bytes, 0 at end of stream, -1 on error (errno
 * set); write returns the bytes written (>0) or -1. `readable` (optional)
 * returns 1 when a read would not block, 0 otherwise — it lets
 * tds_check_attention see a cancel without blocking. Swapping the transport
 * mid-connection (tds_conn_set_io) is how TLS slots in after the handshake. */
typedef struct tds_io {
    ssize_t (*read)(void *ctx, void *buf, size_t len);
    ssize_t (*write)(void *ctx, const void *buf, size_t len);
    int (*readable)(void *ctx);
    void *ctx;
} tds_io;

typedef struct tds_conn tds_conn;

/* A connection over a socket (not owned: the caller closes fd). spid goes
 * into the header of every packet sent; clients take it from the login
 * response, so it must be non-zero. NULL only when out of memory. */
tds_conn *tds_conn_new_fd(int fd, uint16_t spid);
/* A connection over caller-supplied transport callbacks. */
tds_conn *tds_conn_new_io(const tds_io *io, uint16_t spid);
/* A connection reading from a memory buffer (copied) and writing into a
 * growing memory buffer: tests and fuzzing. */
tds_conn *tds_conn_new_mem(const void *input, size_t len, uint16_t spid);
/* Output captured by a memory connection so far (all packets, headers
 * included); valid until the next write or tds_conn_free. */
const uint8_t *tds_conn_mem_output(const tds_conn *c, size_t *len);
void tds_conn_mem_clear_output(tds_conn *c);
void tds_conn_free(tds_conn *c);

void tds_conn_set_io(tds_conn *c, const tds_io *io);
/* Bytes read from the transport but not yet consumed. TDS is lock-step, so
 * this is 0 at every handshake boundary; a transport swap (TLS) should
 * check it rather than assume. */
size_t tds_conn_pending_input(const tds_conn *c);

/* Negotiated state. tds_conn_login_ok records the version answered in
 * LOGINACK (token layouts depend on it, so call it before writing the login
 * response), marks the session authenticated (raising the message cap) and
 * schedules the packet size: the login response itself still goes out in
 * 4096-byte packets, the new size applies from the next message on. */
void tds_conn_login_ok(tds_conn *c, uint32_t tds_version, uint32_t packet_size);
/* Sets the version alone (token layouts) without marking the login done:
 * for a login-failure response, which clients parse with the version they
 * asked for (use tds_negotiate_version of it). */
void tds_conn_set_version(tds_conn *c, uint32_t tds_version);
uint32_t tds_conn_version(const tds_conn *c);     /* 0 before login */
uint32_t tds_conn_packet_size(const tds_conn *c); /* size in effect for output */
uint16_t tds_conn_spid(const tds_conn *c);
int tds_conn_logged_in(const tds_conn *c);
/* Collation sent in ENVCHANGE 7 and in every char/varchar/nchar/nvarchar
 * TYPE_INFO (defaults to tds_default_collation). */
void tds_conn_set_collation(tds_conn *c, const uint8_t collation[5]);
const uint8_t *tds_conn_collation(const tds_conn *c);
/* Cap on one reassembled request after login (default 64 MiB). */
void tds_conn_set_max_message(tds_conn *c, size_t bytes);
/* Non-zero once a write failed: later writes are dropped, tds_end_response
 * reports the error, and the server should close the connection. */
int tds_conn_broken(const tds_conn *c);

/* ------------------------------------------------------------ reading */

typedef struct tds_message {
    uint8_t  type;        /* enum tds_packet_type */
    uint8_t  status;      /* status byte of the first packet */
    uint8_t  reset;       /* 0, TDS_STATUS_RESETCONNECTION or ..SKIPTRAN */
    uint8_t *data;        /* reassembled payload (malloc'ed, owned) */
    size_t   len;
} tds_message;

/* Reads one complete request message (packets concatenated until EOM).
 * Returns its type (> 0), 0 when the peer closed the connection cleanly
 * between messages, or -1 with *err filled (the connection is then unusable).
 *
 * Enforced: header length 8..32767, all packets of a message of the same
 * type, the size cap, and the packet types legal in the connection's state
 * (before login: PRELOGIN, LOGIN7, SSPI, FEDAUTH; after: SQL batch, RPC,
 * ATTENTION, BULK, TM). A message whose last packet carries IGNORE is
 * answered here with DONE(ERROR) as clients expect and then skipped. An
 * ATTENTION is returned as a message with an empty payload (answer it with
 * tds_send_attention_ack). Free out->data with tds_message_free. */
int tds_read_message(tds_conn *c, tds_message *out, hdb_err *err);
void tds_message_free(tds_message *m);

/* Attention (cancel) while a request runs: polls the transport without
 * blocking and returns 1 once an ATTENTION packet has been received for the
 * current request (then stop, end the response message and call
 * tds_send_attention_ack). Bytes of anything else stay buffered for
 * tds_read_message. Cheap enough to call once per row; the response writer
 * also polls whenever it flushes a full packet. */
int tds_check_attention(tds_conn *c);
/* The same answer from what has already been read, without asking the
 * transport: no system call, for callers that poll the socket less often. */
int tds_attention_pending(tds_conn *c);
/* Forget a seen attention (tds_send_attention_ack does this). */
void tds_clear_attention(tds_conn *c);

/* ------------------------------------------------------------ PRELOGIN */

typedef struct tds_prelogin {
    uint8_t  version[6];       /* major, minor, build BE, subbuild */
    int      has_encryption;
    uint8_t  encryption;       /* TDS_ENCRYPT_* as sent */
    char     instance[256];    /* INSTOPT, NUL-terminated MBCS as sent */
    uint32_t thread_id;
    int      has_mars;
    uint8_t  mars;
    int      has_traceid;
    uint8_t  traceid[36];
    int      has_fedauth;
    uint8_t  fedauth_required;
} tds_prelogin;

enum { TDS_ENCRYPT_OFF = 0, TDS_ENCRYPT_ON = 1, TDS_ENCRYPT_NOT_SUP = 2, TDS_ENCRYPT_REQ = 3 };

int tds_prelogin_parse(const uint8_t *p, size_t len, tds_prelogin *out, hdb_err *err);

typedef struct tds_prelogin_reply {
    uint8_t version[6];       /* product version: e.g. 16 0 (2000 BE) 0 */
    uint8_t encryption;       /* TDS_ENCRYPT_* */
    uint8_t instance_ok;      /* 1 -> INSTOPT 0x00 (match); 0 -> 0x01 */
} tds_prelogin_reply;

/* Default reply: version 16.0.2000, ENCRYPT_NOT_SUP, instance ok. */
void tds_prelogin_default_reply(tds_prelogin_reply *r);
/* Instance names the server answers "match" for: empty, MSSQLServer or
 * `our_instance` (case-insensitive). */
int tds_prelogin_instance_matches(const tds_prelogin *pl, const char *our_instance);
/* Sends the PRELOGIN response message (type 0x04): VERSION, ENCRYPTION,
 * INSTOPT, THREADID (empty), MARS (0). */
int tds_send_prelogin_response(tds_conn *c, const tds_prelogin_reply *r, hdb_err *err);

/* ------------------------------------------------------------ LOGIN7 */

#define TDS_NAME_CHARS    128                  /* limit for names in LOGIN7 */
#define TDS_NAME_UTF8     (3 * TDS_NAME_CHARS + 1)
#define TDS_PATH_UTF8     (3 * 260 + 1)

/* OptionFlags1..3 / TypeFlags bits the server may care about. */
#define TDS_LF1_USE_DB       0x20
#define TDS_LF1_INIT_DB_FATAL 0x40
#define TDS_LF1_SET_LANG     0x80
#define TDS_LF2_INIT_LANG_FATAL 0x01
#define TDS_LF2_ODBC         0x02
#define TDS_LF2_INTEGRATED   0x80
#define TDS_LFT_READONLY     0x20
#define TDS_LF3_CHANGE_PASSWORD 0x01
#define TDS_LF3_EXTENSION    0x10

/* FeatureExt ids. */
#define TDS_FEATURE_SESSIONRECOVERY 0x01
#define TDS_FEATURE_FEDAUTH         0x02
#define TDS_FEATURE_COLUMNENCRYPTION 0x04
#define TDS_FEATURE_UTF8            0x0A

typedef struct tds_login7 {
    uint32_t tds_version;       /* as sent (LE DWORD value) */
    uint32_t packet_size;       /* requested; 0 = server default */
    uint32_t client_prog_ver;
    uint32_t client_pid;
    uint32_t connection_id;
    uint8_t  flags1, flags2, type_flags, flags3;
    int32_t  client_timezone;
    uint32_t client_lcid;
    uint8_t  client_id[6];
    /* strings, converted to UTF-8 */
    char hostname[TDS_NAME_UTF8];
    char username[TDS_NAME_UTF8];
    char password[TDS_NAME_UTF8];       /* de-obfuscated */
    char appname[TDS_NAME_UTF8];
    char servername[TDS_NAME_UTF8];
    char library[TDS_NAME_UTF8];
    char language[TDS_NAME_UTF8];
    char database[TDS_NAME_UTF8];
    char attach_db_file[TDS_PATH_UTF8];
    char new_password[TDS_NAME_UTF8];   /* change-password request (7.2+) */
    /* integrated authentication blob: points into the parsed payload */
    const uint8_t *sspi;
    uint32_t sspi_len;
    /* FeatureExt (7.4 with fExtension): bit n set when feature id n was sent */
    uint64_t features;
    uint8_t  utf8_requested;            /* UTF8_SUPPORT with value 1 */
} tds_login7;

/* Parses a LOGIN7 payload (fixed part of 86 bytes for 7.0/7.1, 94 for
 * 7.2+). Every offset/length pair must lie inside the record; names are
 * limited to 128 characters; the password is de-obfuscated. Malformed ->
 * -1 with error 17832 (the caller closes without a reply). */
int tds_login7_parse(const uint8_t *p, size_t len, tds_login7 *out, hdb_err *err);

/* Version to answer in LOGINACK for what the client sent: the client's own
 * 7.1..7.4 value (never negotiating down), 7.4 for anything newer, 0 when
 * the client is older than 7.1 (refuse the login). */
uint32_t tds_negotiate_version(uint32_t client_version);
/* Packet size to grant: 0 -> 4096, otherwise clamped to 512..32767. */
uint32_t tds_negotiate_packet_size(uint32_t requested);

/* The token sequence of a successful login, in the order every client
 * accepts (tds.md 5.1): ENVCHANGE database, [INFO 5701], [ENVCHANGE
 * mirroring partner], ENVCHANGE collation, ENVCHANGE language, [INFO 5703],
 * LOGINACK, ENVCHANGE packet size, [FEATUREEXTACK UTF-8], DONE.
 * Call tds_conn_login_ok first, tds_end_response after. */
typedef struct tds_login_response {
    const char *database;        /* current database after login */
    const char *old_database;    /* NULL -> "master" */
    const char *language;        /* NULL -> "us_english" */
    const char *server_name;     /* shown in INFO tokens */
    const char *mirror_partner;  /* NULL: no ENVCHANGE 13 */
    int info_database;           /* send INFO 5701 */
    int info_language;           /* send INFO 5703 */
    int ack_utf8;                /* send FEATUREEXTACK for UTF8_SUPPORT */
    const char *prog_name;       /* NULL -> "Microsoft SQL Server" */
    uint8_t prog_version[4];     /* all zero -> 16.0.2000 (10 00 07 D0) */
} tds_login_response;

int tds_put_login_response(tds_conn *c, const tds_login_response *r);

/* A failed login: the ERROR tokens (e.g. 4060 then 18456), DONE(ERROR),
 * message ended. The caller then closes the socket. */
int tds_send_login_error(tds_conn *c, const hdb_err *errs, int nerrs,
                         const char *server_name, hdb_err *err);

/* ------------------------------------------------------------ ALL_HEADERS */

typedef struct tds_headers {
    int      present;             /* ALL_HEADERS was there (7.2+) */
    uint64_t transaction;         /* descriptor the client echoes */
    uint32_t outstanding;         /* outstanding request count */
    int      has_notification;    /* query-notification header seen */
} tds_headers;

/* ------------------------------------------------------------ SQL batch */

typedef struct tds_batch {
    tds_headers headers;
    char  *sql;                   /* UTF-8, NUL-terminated, malloc'ed */
    size_t sql_len;
} tds_batch;

/* `tds_version` decides whether ALL_HEADERS is present (7.2+). */
int tds_batch_parse(uint32_t tds_version, const uint8_t *p, size_t len,
                    tds_batch *out, hdb_err *err);
void tds_batch_free(tds_batch *b);

/* ------------------------------------------------------------ RPC */

/* Well-known ProcIDs. */
enum tds_proc_id {
    TDS_SP_CURSOR = 1, TDS_SP_CURSOROPEN = 2, TDS_SP_CURSORPREPARE = 3,
    TDS_SP_CURSOREXECUTE = 4, TDS_SP_CURSORPREPEXEC = 5, TDS_SP_CURSORUNPREPARE = 6,
    TDS_SP_CURSORFETCH = 7, TDS_SP_CURSOROPTION = 8, TDS_SP_CURSORCLOSE = 9,
    TDS_SP_EXECUTESQL = 10, TDS_SP_PREPARE = 11, TDS_SP_EXECUTE = 12,
    TDS_SP_PREPEXEC = 13, TDS_SP_PREPEXECRPC = 14, TDS_SP_UNPREPARE = 15,
};
/* "sp_executesql" for 10 etc.; NULL for unknown ids. */
const char *tds_proc_name(int proc_id);
/* The id of a well-known procedure named by text ("sp_execute",
 * "sys.sp_execute", "[sp_execute]", any case), 0 otherwise. */
int tds_proc_id_from_name(const char *name);

#define TDS_PARAM_BYREF    0x01   /* OUTPUT parameter */
#define TDS_PARAM_DEFAULT  0x02   /* use the declared default */
#define TDS_PARAM_ENCRYPTED 0x08

#define TDS_RPC_WITH_RECOMPILE 0x0001
#define TDS_RPC_NO_METADATA    0x0002
#define TDS_RPC_REUSE_METADATA 0x0004

#define TDS_MAX_PARAMS 2100

typedef struct tds_param {
    const char *name;        /* UTF-8 with the '@' if sent; "" when unnamed */
    uint8_t  status;         /* TDS_PARAM_* */
    uint8_t  wire_type;      /* TDS type code the client used */
    sql_type type;           /* declared type mapped to an engine type */
    sql_value value;         /* decoded value (bytes point into the message
                              * payload or into the request's own memory) */
    uint8_t  collation[5];   /* for character types, as sent */
    int16_t  tz_offset;      /* minutes, datetimeoffset params only */
    uint8_t  has_tz;         /* value came as datetimeoffset (converted to the
                              * local datetime2 it denotes) */
} tds_param;

typedef struct tds_rpc {
    int         proc_id;     /* TDS_SP_* when by id or a well-known name; 0 otherwise */
    int         by_id;       /* sent as ProcID (not name) */
    const char *proc_name;   /* UTF-8; the well-known name when sent by id */
    uint16_t    options;     /* TDS_RPC_* */
    int         no_exec;     /* followed by the NoExec separator (0xFE) */
    int         nparams;
    tds_param  *params;
} tds_rpc;

typedef struct tds_rpc_request {
    tds_headers headers;
    int         ncalls;      /* >= 1: several RPCs may share a message */
    tds_rpc    *calls;
    struct tds_mem *mem;     /* allocations of this request */
} tds_rpc_request;

/* Parses an RPC message. The result points into `p` (zero-copy for most
 * values), so keep the message alive until tds_rpc_free. Errors use SQL
 * Server's numbers: 8009 unknown type, 8016 bad length, 8023 invalid value,
 * 8003 too many parameters, 4002 truncated stream. */
int tds_rpc_parse(uint32_t tds_version, const uint8_t *p, size_t len,
                  tds_rpc_request *out, hdb_err *err);
void tds_rpc_free(tds_rpc_request *r);

/* ------------------------------------------------------------ TM request */

enum tds_tm_type {
    TDS_TM_GET_DTC_ADDRESS = 0, TDS_TM_PROPAGATE_XACT = 1,
    TDS_TM_BEGIN_XACT = 5, TDS_TM_PROMOTE_XACT = 6,
    TDS_TM_COMMIT_XACT = 7, TDS_TM_ROLLBACK_XACT = 8, TDS_TM_SAVE_XACT = 9,
};

/* Isolation byte: 0 no change, 1 READ UNCOMMITTED, 2 READ COMMITTED,
 * 3 REPEATABLE READ, 4 SERIALIZABLE, 5 SNAPSHOT. */
typedef struct tds_tm_request {
    tds_headers headers;
    uint16_t type;               /* enum tds_tm_type */
    uint8_t  isolation;          /* BEGIN */
    char     name[TDS_NAME_UTF8];        /* BEGIN / COMMIT / ROLLBACK / SAVE */
    int      begin_new;          /* COMMIT/ROLLBACK with fBeginXact */
    uint8_t  new_isolation;
    char     new_name[TDS_NAME_UTF8];
    const uint8_t *cookie;       /* PROPAGATE: DTC cookie (points into p) */
    uint16_t cookie_len;
} tds_tm_request;

int tds_tm_parse(uint32_t tds_version, const uint8_t *p, size_t len,
                 tds_tm_request *out, hdb_err *err);

/* ------------------------------------------------------------ responses */

/* Every tds_put_* appends one token to the response message being built,
 * opening it (type 0x04, PacketID 1) on first use and sending a packet each
 * time the negotiated size fills, so large result sets stream. Functions
 * that validate data (rows, return values) write nothing on failure and
 * return -1 with *err; otherwise -1 only means the connection is broken.
 *
 * Done tokens are held back until the next token (or the end of the
 * message) is known: DONE_MORE is set on every done-token that something
 * follows and cleared on the last one, which is how clients know the
 * response is complete. Do not pass TDS_DONE_MORE yourself. */

int tds_end_response(tds_conn *c, hdb_err *err);  /* flush with EOM */
/* The attention acknowledgement: one message holding DONE(ATTN) only. End
 * the current response first. Also forgets the seen attention. */
int tds_send_attention_ack(tds_conn *c, hdb_err *err);
/* A whole message of raw bytes (e.g. TLS handshake records, type 0x12),
 * split at the current packet size. */
int tds_send_message(tds_conn *c, uint8_t type, const void *data, size_t len, hdb_err *err);

int tds_put_done(tds_conn *c, uint8_t token, uint16_t status, uint16_t curcmd, uint64_t rowcount);

/* INFO (severity <= 10) or ERROR token. Message text UTF-8. */
int tds_put_message(tds_conn *c, int32_t number, uint8_t state, uint8_t severity,
                    const char *msg, const char *server, const char *proc, uint32_t line);
/* Same from an hdb_err. */
int tds_put_error(tds_conn *c, const hdb_err *e, const char *server,
                  const char *proc, uint32_t line);

int tds_put_loginack(tds_conn *c, uint8_t interface, uint32_t tds_version,
                     const char *prog_name, const uint8_t prog_version[4]);
/* FEATUREEXTACK acknowledging UTF8_SUPPORT (7.4 only). */
int tds_put_featureextack_utf8(tds_conn *c);

/* ENVCHANGE. Names are UTF-8. The transaction ones (8, 9, 10, 17, 18) exist
 * from TDS 7.2 on; for 7.1 sessions they write nothing (return 0). */
int tds_put_env_database(tds_conn *c, const char *new_db, const char *old_db);
int tds_put_env_language(tds_conn *c, const char *new_lang, const char *old_lang);
int tds_put_env_packet_size(tds_conn *c, uint32_t new_size, uint32_t old_size);
int tds_put_env_collation(tds_conn *c, const uint8_t new_coll[5], const uint8_t *old_coll5);
int tds_put_env_begin_tran(tds_conn *c, uint64_t descriptor);
int tds_put_env_commit_tran(tds_conn *c, uint64_t old_descriptor);
int tds_put_env_rollback_tran(tds_conn *c, uint64_t old_descriptor);
int tds_put_env_tran_ended(tds_conn *c, uint64_t old_descriptor);   /* type 17 */
int tds_put_env_mirror_partner(tds_conn *c, const char *partner);    /* type 13 */
int tds_put_env_reset_ack(tds_conn *c);                              /* type 18 */

int tds_put_returnstatus(tds_conn *c, int32_t status);

/* Result sets. A column: its engine type, UTF-8 name and TDS_COL_* flags.
 * COLMETADATA remembers the column types so rows need only the values.
 * Types are sent as SQL Server sends them (INTN, BITN, DECIMALN/NUMERICN,
 * MONEYN, FLTN, BIGCHAR/BIGVARCHAR, NCHAR/NVARCHAR, BIGBINARY/BIGVARBINARY,
 * (max) as PLP, DATE/TIME/DATETIME2, DATETIMN, GUID), with the downgrades
 * older clients need: 7.1 gets (max) as TEXT/NTEXT/IMAGE, 7.1/7.2 get
 * date/time/datetime2 as NVARCHAR text. */
typedef struct tds_column {
    sql_type    type;
    const char *name;
    uint16_t    flags;
} tds_column;

int tds_put_colmetadata(tds_conn *c, const tds_column *cols, int ncols, hdb_err *err);
/* One row of the current result set: ncols values, as ROW, or NBCROW when
 * the session is 7.3.B+ and a value is NULL. Values must be materialised
 * (not VALUE_F_OFFROW), fit their column (char/binary are padded), and
 * UTF-16 values have an even length. */
int tds_put_row(tds_conn *c, const sql_value *vals, int ncols, hdb_err *err);

/* RETURNVALUE for an OUTPUT parameter (status 0x01) or UDF result (0x02). */
int tds_put_returnvalue(tds_conn *c, uint16_t ordinal, const char *name, uint8_t status,
                        const sql_type *type, const sql_value *value, hdb_err *err);

#endif
