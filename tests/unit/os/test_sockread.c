/* Unit tests: a session's socket read spins only while it is alone at work. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <pthread.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "os/sockread.h"

typedef struct {
    int fd;
    int delay_ms;
    const char *bytes;    /* NULL: shut the socket down instead */
} late_writer;

static void *write_late(void *arg)
{
    late_writer *w = arg;
    struct timespec ts = { 0, (long)w->delay_ms * 1000000L };
    nanosleep(&ts, NULL);
    if (w->bytes)
        assert_int_equal(write(w->fd, w->bytes, strlen(w->bytes)), (ssize_t)strlen(w->bytes));
    else
        shutdown(w->fd, SHUT_WR);
    return NULL;
}

/* Reads `bytes` from sv[0] after the peer sends them `delay_ms` late (NULL:
 * the peer shuts its side down; the read returns 0). */
static void read_late(int sv[2], int delay_ms, const char *bytes)
{
    late_writer w = { sv[1], delay_ms, bytes };
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, write_late, &w), 0);
    char buf[64];
    ssize_t n = sockread_recv(sv[0], buf, sizeof buf);
    pthread_join(th, NULL);
    if (bytes) {
        assert_int_equal(n, (ssize_t)strlen(bytes));
        assert_memory_equal(buf, bytes, (size_t)n);
    } else {
        assert_int_equal(n, 0);
    }
}

/* read_late, and what the counters say it did (the growth over it). */
static sockread_stats counted_read(int sv[2], int delay_ms, const char *bytes)
{
    sockread_stats a, b;
    sockread_get_stats(&a);
    read_late(sv, delay_ms, bytes);
    sockread_get_stats(&b);
    return (sockread_stats){ b.caught - a.caught, b.slept - a.slept, b.spin_us - a.spin_us };
}

/* Reads that find data at once: they make this session "alone" for a while. */
static void warm_up(int sv[2])
{
    for (int i = 0; i < 10; i++) {
        assert_int_equal(write(sv[1], "x", 1), 1);
        char c;
        assert_int_equal(sockread_recv(sv[0], &c, 1), 1);
    }
}

/* A session with its socket pair, spin limit spin_us, alone for a while. */
static void alone_session(int sv[2], int spin_us)
{
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    sockread_set_spin_us(spin_us);
    sockread_session_begin();
    warm_up(sv);
}

static void end_session(int sv[2])
{
    sockread_session_end();
    sockread_set_spin_us(SOCKREAD_DEFAULT_SPIN_US);
    close(sv[0]);
    close(sv[1]);
}

static void test_alone_session_catches_the_next_request_spinning(void **state)
{
    (void)state;
    int sv[2];
    alone_session(sv, 2000000);         /* longer than the writer's delay */
    sockread_stats d = counted_read(sv, 20, "next request");
    assert_int_equal(d.caught, 1);
    assert_int_equal(d.slept, 0);
    assert_true(d.spin_us >= 10000);   /* it did wait, spinning */
    /* the end of the stream is caught the same way */
    read_late(sv, 5, NULL);
    end_session(sv);
}

static void test_a_busy_session_elsewhere_stops_the_spin(void **state)
{
    (void)state;
    int sv[2];
    alone_session(sv, 2000000);
    sockread_session_begin();           /* another session, running a request */
    sockread_stats d = counted_read(sv, 20, "req");
    assert_int_equal(d.caught, 0);
    assert_int_equal(d.slept, 1);
    sockread_session_end();
    end_session(sv);
}

/* Another session's thread: one read of one byte, as a request. */
static void *read_one_byte(void *arg)
{
    sockread_session_begin();
    char c;
    assert_int_equal(sockread_recv(*(int *)arg, &c, 1), 1);
    sockread_session_end();
    return NULL;
}

static void test_other_sessions_reading_stop_the_spin(void **state)
{
    (void)state;
    int sv[2], other[2];
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, other), 0);
    alone_session(sv, 2000000);
    /* another session's read between two of ours: its client is active, so
     * this one is no longer alone and sleeps in the kernel */
    assert_int_equal(write(other[1], "y", 1), 1);
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, read_one_byte, &other[0]), 0);
    pthread_join(th, NULL);
    sockread_stats d = counted_read(sv, 20, "req");
    assert_int_equal(d.caught, 0);
    assert_int_equal(d.slept, 1);
    end_session(sv);
    close(other[0]);
    close(other[1]);
}

static void test_no_spin_when_turned_off(void **state)
{
    (void)state;
    int sv[2];
    alone_session(sv, 0);
    sockread_stats d = counted_read(sv, 10, "req");
    assert_int_equal(d.caught, 0);
    assert_int_equal(d.slept, 1);
    assert_int_equal(d.spin_us, 0);
    end_session(sv);
}

static void test_no_spin_when_the_session_says_so(void **state)
{
    (void)state;
    int sv[2];
    alone_session(sv, 2000000);
    sockread_may_spin(0);               /* its user transaction is open */
    sockread_stats d = counted_read(sv, 10, "req");
    assert_int_equal(d.caught, 0);
    assert_int_equal(d.slept, 1);
    sockread_may_spin(1);
    d = counted_read(sv, 10, "req");
    assert_int_equal(d.caught, 1);
    end_session(sv);
}

static void test_a_pipe_is_read_without_spinning(void **state)
{
    (void)state;
    int p[2];
    assert_int_equal(pipe(p), 0);
    sockread_set_spin_us(2000000);
    sockread_session_begin();
    for (int i = 0; i < 12; i++)
        read_late(p, i == 11 ? 20 : 0, "pipe bytes");
    sockread_session_end();
    close(p[0]);
    close(p[1]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_alone_session_catches_the_next_request_spinning),
        cmocka_unit_test(test_a_busy_session_elsewhere_stops_the_spin),
        cmocka_unit_test(test_other_sessions_reading_stop_the_spin),
        cmocka_unit_test(test_no_spin_when_turned_off),
        cmocka_unit_test(test_no_spin_when_the_session_says_so),
        cmocka_unit_test(test_a_pipe_is_read_without_spinning),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
