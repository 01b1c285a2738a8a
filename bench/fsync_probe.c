/*
 * fsync_probe.c — how many 4 KiB write + fdatasync pairs per second the disk
 * under DIR does: the ceiling for one client that waits for one flush per
 * commit, which is what a 1-client TPC-B run is. The file is preallocated and
 * overwritten in place (as a log reuses its files), so no sync changes the
 * file's size.
 *
 *   fsync_probe DIR [SECONDS]     prints {"fsync_per_s": N, ...}
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: fsync_probe DIR [SECONDS]\n");
        return 1;
    }
    double seconds = argc > 2 ? atof(argv[2]) : 2;
    char path[4096];
    snprintf(path, sizeof path, "%.4000s/fsync-probe.dat", argv[1]);
    int fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        fprintf(stderr, "fsync_probe: open %s: %s\n", path, strerror(errno));
        return 1;
    }
    static char block[4096];
    const long nblocks = 1024;
    for (long i = 0; i < nblocks; i++)
        if (pwrite(fd, block, sizeof block, i * 4096) != (ssize_t)sizeof block)
            goto fail;
    if (fsync(fd) < 0)
        goto fail;
    int64_t t0 = now_ns(), end = t0 + (int64_t)(seconds * 1e9), t = t0;
    long n = 0;
    for (; t < end; n++, t = now_ns()) {
        block[0] = (char)n;
        if (pwrite(fd, block, sizeof block, (n % nblocks) * 4096) != (ssize_t)sizeof block || fdatasync(fd) < 0)
            goto fail;
    }
    close(fd);
    unlink(path);
    printf("{\"fsync_per_s\": %.1f, \"syncs\": %ld, \"seconds\": %.3f}\n", (double)n / ((double)(t - t0) / 1e9), n,
           (double)(t - t0) / 1e9);
    return 0;
fail:
    fprintf(stderr, "fsync_probe: %s: %s\n", path, strerror(errno));
    unlink(path);
    return 1;
}
