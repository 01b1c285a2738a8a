/* sockread.c — a session's socket read, spinning first while the server
 * is otherwise idle (see sockread.h). */
#include "os/sockread.h"

#include <errno.h>
#include <stdatomic.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define SOCKREAD_ALONE_READS 8

static atomic_int spin_limit_us = SOCKREAD_DEFAULT_SPIN_US;
static atomic_int busy;        /* sessions running (not inside sockread_recv) */
static atomic_int spinning;    /* 1 while some reader spins: one at a time */
static atomic_uint_fast64_t reads;     /* reads started, all sessions */
static __thread uint64_t reads_seen;   /* `reads` after this thread's last one */
static __thread int alone_streak;      /* this thread's last reads that were alone */
static __thread int no_spin;           /* sockread_may_spin(0) */
static atomic_uint_fast64_t n_caught, n_slept, n_spin_us;

void sockread_may_spin(int yes) { no_spin = !yes; }
void sockread_set_spin_us(int us) { atomic_store(&spin_limit_us, us < 0 ? 0 : us); }
void sockread_session_begin(void) { atomic_fetch_add(&busy, 1); }
void sockread_session_end(void) { atomic_fetch_sub(&busy, 1); }

void sockread_get_stats(sockread_stats *out)
{
    out->caught = atomic_load_explicit(&n_caught, memory_order_relaxed);
    out->slept = atomic_load_explicit(&n_slept, memory_order_relaxed);
    out->spin_us = atomic_load_explicit(&n_spin_us, memory_order_relaxed);
}

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Polls fd until data (or an error, or the end of stream) arrives, `limit_us`
 * pass, or another session gets busy. 1 with *n set when recv answered, 0
 * when the reader should sleep instead. */
static int spin(int fd, void *buf, size_t len, int limit_us, ssize_t *n)
{
    int64_t t0 = now_ns(), t = t0, end = t0 + (int64_t)limit_us * 1000;
    int got = 0;
    while (t < end && atomic_load_explicit(&busy, memory_order_relaxed) == 0) {
        ssize_t k = recv(fd, buf, len, MSG_DONTWAIT);
        if (k >= 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
            if (k < 0 && errno == ENOTSOCK)
                break;              /* a pipe (tests): read it the plain way */
            *n = k;
            got = 1;
            break;
        }
        t = now_ns();
    }
    atomic_fetch_add_explicit(&n_spin_us, (uint64_t)(now_ns() - t0) / 1000, memory_order_relaxed);
    return got;
}

ssize_t sockread_recv(int fd, void *buf, size_t len)
{
    int limit = atomic_load_explicit(&spin_limit_us, memory_order_relaxed);
    ssize_t n = 0;
    int caught = 0;
    /* Spin only when this session has been the only one at work for a
     * while: no other session started a read during its last
     * SOCKREAD_ALONE_READS requests (so no other client is sending any, and
     * whatever runs those clients needs no CPU from us), and none is
     * running a request now. */
    uint64_t r = atomic_fetch_add(&reads, 1);
    alone_streak = r == reads_seen ? alone_streak + 1 : 0;
    reads_seen = r + 1;
    if (atomic_fetch_sub(&busy, 1) == 1 && alone_streak >= SOCKREAD_ALONE_READS && limit > 0 && !no_spin) {
        int idle = 0;
        if (atomic_compare_exchange_strong(&spinning, &idle, 1)) {
            caught = spin(fd, buf, len, limit, &n);
            atomic_store(&spinning, 0);
        }
    }
    if (caught) {
        atomic_fetch_add_explicit(&n_caught, 1, memory_order_relaxed);
    } else {
        atomic_fetch_add_explicit(&n_slept, 1, memory_order_relaxed);
        do
            n = read(fd, buf, len);
        while (n < 0 && errno == EINTR);
    }
    atomic_fetch_add(&busy, 1);
    return n;
}
