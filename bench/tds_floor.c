/*
 * tds_floor.c — a TDS server that does no database work: the floor under
 * what any thread-per-session server costs with a given client on this
 * machine. It speaks the same protocol code as hadrd (src/tds), one blocking
 * thread per connection as hadrd has, and answers each SQL batch with the
 * tokens hadrd sends for its shape, statement by statement: a SELECT gets
 * one int row, BEGIN/COMMIT TRANSACTION their ENVCHANGE, anything else a DONE
 * with a count of 1. No parsing, no locks, no log, no fdatasync.
 *
 * Given a log file it is the durable floor: each COMMIT first appends
 * BYTES_PER_COMMIT to that file and waits until a group-commit round (one
 * pwrite and one fdatasync for every commit appended so far, led by the
 * first waiter, as hadrd's log manager does) has made them durable.
 *
 * bench/run.py drives both with the TPC-B load generator: their throughput
 * is the most any server could reach with that client here, without and
 * with a durable commit, and their CPU per transaction is what the round
 * trips alone cost (kernel socket work, wake-ups, TDS framing), and the
 * commit's fdatasync on top.
 *
 *   tds_floor PORT [LOGFILE BYTES_PER_COMMIT]   listens on 127.0.0.1:PORT until killed
 */
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tds/tds.h"

/* The next message into *m when it is of type `want` (0); anything else
 * (another type, end of stream, an error) is freed and ends the session. */
static int read_as(tds_conn *c, tds_message *m, int want)
{
    hdb_err e;
    int type = tds_read_message(c, m, &e);
    if (type == want)
        return 0;
    if (type > 0)
        tds_message_free(m);
    return -1;
}

static int handshake(tds_conn *c)
{
    hdb_err e;
    tds_message m;
    if (read_as(c, &m, TDS_PKT_PRELOGIN) < 0)
        return -1;
    tds_prelogin pl;
    int rc = tds_prelogin_parse(m.data, m.len, &pl, &e);
    tds_message_free(&m);
    tds_prelogin_reply reply;
    tds_prelogin_default_reply(&reply);
    if (rc < 0 || tds_send_prelogin_response(c, &reply, &e) < 0)
        return -1;
    if (read_as(c, &m, TDS_PKT_LOGIN7) < 0)
        return -1;
    tds_login7 lg;
    rc = tds_login7_parse(m.data, m.len, &lg, &e);
    tds_message_free(&m);
    uint32_t ver = rc < 0 ? 0 : tds_negotiate_version(lg.tds_version);
    if (!ver)
        return -1;
    tds_conn_login_ok(c, ver, tds_negotiate_packet_size(lg.packet_size));
    tds_login_response lr = { .database = lg.database[0] ? lg.database : "master", .server_name = "tds_floor" };
    return tds_put_login_response(c, &lr) < 0 || tds_end_response(c, &e) < 0 ? -1 : 0;
}

/* The durable floor's log: zero-filled up front and written round and round,
 * so no fdatasync has file size or extent changes to write. Only how many
 * bytes were appended matters, not what they are: every write is zeros. */
enum { LOG_SIZE = 64 << 20, CHUNK = 1 << 16 };
static const char zeros[CHUNK];
static struct {
    pthread_mutex_t mu;
    pthread_cond_t round_end;
    int fd;                       /* -1: no log, COMMIT answers at once */
    size_t rec;                   /* bytes appended per COMMIT */
    uint64_t appended, durable;   /* bytes: appended so far, made durable */
    int flushing;
} lg = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, -1, 0, 0, 0, 0 };

/* Write [from, to) of the endless log at its place in the circular file. */
static int log_write(uint64_t from, uint64_t to)
{
    while (from < to) {
        uint64_t at = from % LOG_SIZE, n = to - from;
        if (n > LOG_SIZE - at)
            n = LOG_SIZE - at;
        if (n > CHUNK)
            n = CHUNK;
        if (pwrite(lg.fd, zeros, n, (off_t)at) != (ssize_t)n)
            return -1;
        from += n;
    }
    return 0;
}

static int log_open(const char *path, size_t rec)
{
    lg.fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
    lg.rec = rec;
    if (lg.fd < 0 || rec == 0 || rec > CHUNK)
        return -1;
    return log_write(0, LOG_SIZE) < 0 ? -1 : fsync(lg.fd);
}

static int commit_durably(void)
{
    int rc = 0;
    pthread_mutex_lock(&lg.mu);
    uint64_t mine = lg.appended += lg.rec;
    while (rc == 0 && lg.durable < mine) {
        if (lg.flushing) {
            pthread_cond_wait(&lg.round_end, &lg.mu);
            continue;
        }
        uint64_t from = lg.durable, to = lg.appended;
        lg.flushing = 1;
        pthread_mutex_unlock(&lg.mu);
        rc = log_write(from, to) < 0 || fdatasync(lg.fd) < 0 ? -1 : 0;
        pthread_mutex_lock(&lg.mu);
        lg.flushing = 0;
        if (rc == 0)
            lg.durable = to;
        pthread_cond_broadcast(&lg.round_end);
    }
    pthread_mutex_unlock(&lg.mu);
    return rc;
}

static int starts_with(const char *s, const char *word)
{
    return strncasecmp(s, word, strlen(word)) == 0;
}

static int answer(tds_conn *c, const char *sql)
{
    const uint64_t descriptor = 1;   /* one transaction at a time per session */
    hdb_err e;
    if (starts_with(sql, "SELECT")) {
        tds_column col = { .type = { .id = SQL_INT }, .name = "abalance", .flags = TDS_COL_NULLABLE };
        sql_value v = value_int(SQL_INT, 0);
        if (tds_put_colmetadata(c, &col, 1, &e) < 0 || tds_put_row(c, &v, 1, &e) < 0)
            return -1;
        return tds_put_done(c, TDS_TOKEN_DONE, TDS_DONE_COUNT, TDS_CMD_SELECT, 1);
    }
    if (starts_with(sql, "BEGIN"))
        return tds_put_env_begin_tran(c, descriptor) < 0 ? -1
             : tds_put_done(c, TDS_TOKEN_DONE, TDS_DONE_FINAL, TDS_CMD_BEGINTRAN, 0);
    if (starts_with(sql, "COMMIT"))
        return (lg.fd >= 0 && commit_durably() < 0) || tds_put_env_commit_tran(c, descriptor) < 0 ? -1
             : tds_put_done(c, TDS_TOKEN_DONE, TDS_DONE_FINAL, TDS_CMD_COMMIT, 0);
    if (starts_with(sql, "IF") || starts_with(sql, "SET") || starts_with(sql, "USE"))
        return tds_put_done(c, TDS_TOKEN_DONE, TDS_DONE_FINAL, 0, 0);
    return tds_put_done(c, TDS_TOKEN_DONE, TDS_DONE_COUNT, TDS_CMD_UPDATE, 1);
}

static void *session(void *arg)
{
    int fd = (int)(intptr_t)arg;
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    tds_conn *c = tds_conn_new_fd(fd, (uint16_t)(51 + fd % 30000));
    if (c && handshake(c) == 0) {
        for (;;) {
            hdb_err e;
            tds_message m;
            if (read_as(c, &m, TDS_PKT_SQLBATCH) < 0)
                break;
            tds_batch b;
            int rc = tds_batch_parse(tds_conn_version(c), m.data, m.len, &b, &e);
            tds_message_free(&m);
            if (rc < 0)
                break;
            /* a batch of several statements (tpcb1) gets each one's tokens;
             * the load generator puts no ';' inside its literals */
            for (char *stmt = b.sql, *end; rc == 0 && stmt; stmt = end ? end + 1 : NULL) {
                end = strchr(stmt, ';');
                if (end)
                    *end = '\0';
                while (*stmt == ' ')
                    stmt++;
                if (*stmt)
                    rc = answer(c, stmt);
            }
            tds_batch_free(&b);
            if (rc < 0 || tds_end_response(c, &e) < 0)
                break;
        }
    }
    if (c)
        tds_conn_free(c);
    close(fd);
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc != 2 && argc != 4) {
        fprintf(stderr, "usage: tds_floor PORT [LOGFILE BYTES_PER_COMMIT]\n");
        return 1;
    }
    if (argc == 4 && log_open(argv[2], (size_t)atol(argv[3])) < 0) {
        perror(argv[2]);
        return 1;
    }
    int ls = socket(AF_INET, SOCK_STREAM, 0), one = 1;
    setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(argv[1])),
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    if (ls < 0 || bind(ls, (struct sockaddr *)&a, sizeof a) < 0 || listen(ls, 256) < 0) {
        perror("tds_floor");
        return 1;
    }
    printf("tds_floor listening on 127.0.0.1:%s\n", argv[1]);
    fflush(stdout);
    for (;;) {
        int fd = accept(ls, NULL, NULL);
        if (fd < 0)
            continue;
        pthread_t t;
        pthread_attr_t at;
        pthread_attr_init(&at);
        pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
        if (pthread_create(&t, &at, session, (void *)(intptr_t)fd) != 0)
            close(fd);
        pthread_attr_destroy(&at);
    }
}
