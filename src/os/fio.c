/*
 * fio.c — file I/O and the fault-injection layer (see fio.h).
 *
 * Fault rules are kept in a small fixed array guarded by a mutex; the fast path
 * checks an atomic rule count first, so with injection off the cost is one load.
 */
#include "os/fio.h"

#include <errno.h>
#include <limits.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

struct fio_file {
    int  fd;
    char path[];
};

static __thread int last_errno;

int fio_last_errno(void) { return last_errno; }

fio_file *fio_open(const char *path, int flags, hdb_err *err)
{
    int of = (flags & FIO_RDONLY) ? O_RDONLY : O_RDWR;
    if (flags & FIO_CREATE)
        of |= O_CREAT;
    if (flags & FIO_EXCL)
        of |= O_EXCL;
    int fd = open(path, of | O_CLOEXEC, 0644);
    if (fd < 0) {
        last_errno = errno;
        hdb_raise(err, 5120, path, errno, strerror(errno));
        return NULL;
    }
    size_t n = strlen(path) + 1;
    fio_file *f = malloc(sizeof *f + n);
    if (!f) {
        close(fd);
        hdb_raise(err, 5120, path, ENOMEM, strerror(ENOMEM));
        return NULL;
    }
    f->fd = fd;
    memcpy(f->path, path, n);
    return f;
}

void fio_close(fio_file *f)
{
    if (!f)
        return;
    close(f->fd);
    free(f);
}

const char *fio_path(const fio_file *f) { return f->path; }
int fio_fd(const fio_file *f) { return f->fd; }

/* ---- fault rules --------------------------------------------------------- */

#define MAX_RULES 32

struct rule {
    int         id;
    char        path[256];
    int         any_path;
    fault_rule  r;
    uint64_t    seen, fired;
};

static pthread_mutex_t rules_mu = PTHREAD_MUTEX_INITIALIZER;
static struct rule rules[MAX_RULES];
static int nrules;
static int next_id = 1;
static atomic_int active_rules;
static uint64_t fired_by_id[1024];

int fault_add(const fault_rule *r)
{
    pthread_mutex_lock(&rules_mu);
    if (nrules == MAX_RULES) {
        pthread_mutex_unlock(&rules_mu);
        return -1;
    }
    struct rule *x = &rules[nrules++];
    memset(x, 0, sizeof *x);
    x->id = next_id++;
    x->r = *r;
    x->any_path = r->path_contains == NULL;
    if (r->path_contains)
        snprintf(x->path, sizeof x->path, "%s", r->path_contains);
    x->r.path_contains = NULL;
    atomic_store(&active_rules, nrules);
    int id = x->id;
    if (id < 1024)
        fired_by_id[id] = 0;
    pthread_mutex_unlock(&rules_mu);
    return id;
}

void fault_remove(int id)
{
    pthread_mutex_lock(&rules_mu);
    for (int i = 0; i < nrules; i++) {
        if (rules[i].id == id) {
            memmove(&rules[i], &rules[i + 1], (size_t)(nrules - i - 1) * sizeof rules[0]);
            nrules--;
            break;
        }
    }
    atomic_store(&active_rules, nrules);
    pthread_mutex_unlock(&rules_mu);
}

void fault_clear(void)
{
    pthread_mutex_lock(&rules_mu);
    nrules = 0;
    atomic_store(&active_rules, 0);
    pthread_mutex_unlock(&rules_mu);
}

uint64_t fault_fired(int id)
{
    pthread_mutex_lock(&rules_mu);
    uint64_t n = (id > 0 && id < 1024) ? fired_by_id[id] : 0;
    pthread_mutex_unlock(&rules_mu);
    return n;
}

/* Which action (0 = none) applies to this operation. FAULT_SLOW sleeps
 * here and answers 0. */
static fault_action check_faults(const fio_file *f, fio_op op, uint64_t off, size_t n)
{
    if (atomic_load_explicit(&active_rules, memory_order_relaxed) == 0)
        return 0;
    fault_action act = 0;
    unsigned delay_ms = 0;
    pthread_mutex_lock(&rules_mu);
    for (int i = 0; i < nrules && !act; i++) {
        struct rule *x = &rules[i];
        if (!(x->r.ops & op))
            continue;
        if (!x->any_path && !strstr(f->path, x->path))
            continue;
        if (x->r.offset_hi && (off >= x->r.offset_hi || off + n <= x->r.offset_lo))
            continue;
        x->seen++;
        int fire;
        if (x->r.nth == 0)
            fire = 1;
        else
            fire = x->seen >= x->r.nth && x->seen <= x->r.nth + x->r.count;
        if (fire) {
            x->fired++;
            if (x->id < 1024)
                fired_by_id[x->id]++;
            act = x->r.action;
            delay_ms = x->r.delay_ms;
        }
    }
    pthread_mutex_unlock(&rules_mu);
    if (act == FAULT_SLOW) {
        struct timespec ts = { delay_ms / 1000, (long)(delay_ms % 1000) * 1000000L };
        while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
            ;
        act = 0;
    }
    return act;
}

static int os_error(hdb_err *err, int e, const char *what, uint64_t off, const fio_file *f)
{
    last_errno = e;
    char txt[64];
    snprintf(txt, sizeof txt, "%d(%s)", e, strerror(e));
    return hdb_raise(err, 823, txt, what, (unsigned long long)off, f->path);
}

int fio_pread(fio_file *f, void *buf, size_t n, uint64_t off, hdb_err *err)
{
    fault_action act = check_faults(f, FIO_OP_READ, off, n);
    if (act == FAULT_EIO || act == FAULT_ENOSPC)
        return os_error(err, EIO, "read", off, f);
    size_t done = 0;
    while (done < n) {
        ssize_t r = pread(f->fd, (uint8_t *)buf + done, n - done, (off_t)(off + done));
        if (r < 0) {
            if (errno == EINTR)
                continue;
            return os_error(err, errno, "read", off, f);
        }
        if (r == 0) {  /* past end of file: zeros */
            memset((uint8_t *)buf + done, 0, n - done);
            break;
        }
        done += (size_t)r;
    }
    if (act == FAULT_CORRUPT && n > 0)
        ((uint8_t *)buf)[n / 2 + 17 < n ? n / 2 + 17 : 0] ^= 0x5a;
    return 0;
}

int fio_pwrite(fio_file *f, const void *buf, size_t n, uint64_t off, hdb_err *err)
{
    fault_action act = check_faults(f, FIO_OP_WRITE, off, n);
    if (act == FAULT_EIO)
        return os_error(err, EIO, "write", off, f);
    if (act == FAULT_ENOSPC)
        return os_error(err, ENOSPC, "write", off, f);
    if (act == FAULT_TORN)
        n /= 2;  /* the first half reaches the disk; the caller believes all did */
    size_t done = 0;
    while (done < n) {
        ssize_t w = pwrite(f->fd, (const uint8_t *)buf + done, n - done, (off_t)(off + done));
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return os_error(err, errno, "write", off, f);
        }
        done += (size_t)w;
    }
    return 0;
}

int fio_sync(fio_file *f, hdb_err *err)
{
    if (check_faults(f, FIO_OP_SYNC, 0, 0))
        return os_error(err, EIO, "sync", 0, f);
    if (fdatasync(f->fd) < 0)
        return os_error(err, errno, "sync", 0, f);
    return 0;
}

int fio_resize(fio_file *f, uint64_t size, hdb_err *err)
{
    fault_action act = check_faults(f, FIO_OP_RESIZE, size, 0);
    if (act)
        return os_error(err, act == FAULT_ENOSPC ? ENOSPC : EIO, "resize", size, f);
    struct stat st;
    if (fstat(f->fd, &st) < 0)
        return os_error(err, errno, "resize", size, f);
    if ((uint64_t)st.st_size < size) {
        /* allocate the blocks now so a full disk is reported here, not at a page write */
        int rc = posix_fallocate(f->fd, st.st_size, (off_t)(size - (uint64_t)st.st_size));
        if (rc == EOPNOTSUPP || rc == EINVAL)
            rc = ftruncate(f->fd, (off_t)size) < 0 ? errno : 0;
        if (rc)
            return os_error(err, rc, "resize", size, f);
    } else if ((uint64_t)st.st_size > size) {
        if (ftruncate(f->fd, (off_t)size) < 0)
            return os_error(err, errno, "resize", size, f);
    }
    return 0;
}

int fio_resize_zeroed(fio_file *f, uint64_t size, hdb_err *err)
{
    fault_action act = check_faults(f, FIO_OP_RESIZE, size, 0);
    if (act)
        return os_error(err, act == FAULT_ENOSPC ? ENOSPC : EIO, "resize", size, f);
    struct stat st;
    if (fstat(f->fd, &st) < 0)
        return os_error(err, errno, "resize", size, f);
    static const uint8_t zeros[1 << 16];
    for (uint64_t at = (uint64_t)st.st_size; at < size;) {
        size_t n = size - at < sizeof zeros ? (size_t)(size - at) : sizeof zeros;
        ssize_t w = pwrite(f->fd, zeros, n, (off_t)at);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            int e = errno;
            /* give back what was added: a half-grown file is no use */
            if (ftruncate(f->fd, st.st_size) < 0) {
            }
            return os_error(err, e, "resize", at, f);
        }
        at += (uint64_t)w;
    }
    return 0;
}

int64_t fio_size(fio_file *f)
{
    struct stat st;
    if (fstat(f->fd, &st) < 0)
        return -1;
    return st.st_size;
}

int fio_sync_parent(const char *path, hdb_err *err)
{
    char d[PATH_MAX];
    snprintf(d, sizeof d, "%s", path);
    char *s = strrchr(d, '/');
    if (!s)
        snprintf(d, sizeof d, ".");
    else if (s == d)
        d[1] = 0;
    else
        *s = 0;
    return fio_sync_dir(d, err);
}

int fio_sync_dir(const char *dir, hdb_err *err)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) {
        last_errno = errno;
        return hdb_raise(err, 5120, dir, errno, strerror(errno));
    }
    int rc = fsync(fd);
    int e = errno;
    close(fd);
    if (rc < 0) {
        last_errno = e;
        return hdb_raise(err, 5120, dir, e, strerror(e));
    }
    return 0;
}
