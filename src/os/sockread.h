/*
 * sockread.h — a session's blocking read of its socket, which first spins
 * briefly when the server has nothing else to do.
 *
 * A session thread that has answered a request sleeps in recv until the
 * client's next one arrives; waking it costs a context switch on both sides
 * (on a virtual machine, an inter-processor interrupt through the
 * hypervisor), and for a short request that is most of a round trip. So
 * when no other session is running a request and nobody else is spinning,
 * the reader polls the socket with non-blocking recv for up to `spin_us`
 * microseconds before it sleeps: a client that answers quickly (a driver in
 * a loop, a transaction's next statement) finds the server awake. As soon as
 * another session starts a request the spinner stops and sleeps, so spinning
 * only ever uses a CPU that would otherwise be idle on the server's side.
 *
 * Sessions count as busy from sockread_session_begin until they are inside
 * sockread_recv; the accounting is process-wide.
 */
#ifndef HDB_OS_SOCKREAD_H
#define HDB_OS_SOCKREAD_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Longest spin before sleeping, in microseconds (0: never spin). The
 * server sets it once at start (HADRD_READ_SPIN_US, default
 * SOCKREAD_DEFAULT_SPIN_US). */
#define SOCKREAD_DEFAULT_SPIN_US 50
void sockread_set_spin_us(int us);

/* A session thread starts / ends: it counts as busy while not reading. */
void sockread_session_begin(void);
void sockread_session_end(void);

/* Whether this thread's next reads may spin (default yes): a session turns
 * it off while a user transaction is open, whose COMMIT will wait for a log
 * flush that needs a CPU too (1-client TPC-B: 17 % slower when spinning). */
void sockread_may_spin(int yes);

/* recv(fd, buf, len, 0) with EINTR retried, spinning first as above.
 * Returns what recv returns (errno set on -1). */
ssize_t sockread_recv(int fd, void *buf, size_t len);

typedef struct {
    uint64_t caught;   /* reads whose data arrived while spinning */
    uint64_t slept;    /* reads that slept in the kernel (after a spin or not) */
    uint64_t spin_us;  /* microseconds spent spinning, in all */
} sockread_stats;
void sockread_get_stats(sockread_stats *out);

#endif
