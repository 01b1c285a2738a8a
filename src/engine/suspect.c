/*
 * suspect.c — the in-memory queue of suspect page events (see suspect.h).
 *
 * One queue for the process, entries tagged with their instance (tests run
 * several instances in one process). A fixed array under one mutex: the
 * noting side runs in I/O paths, so it never allocates and never waits for
 * anything but this leaf mutex; the queue is short (events are rare, and
 * repeats of a pending page merge into its entry).
 */
#include "engine/suspect.h"

#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <time.h>

typedef struct entry {
    struct instance *in;
    suspect_event    ev;
} entry;

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t  cv = PTHREAD_COND_INITIALIZER;
static entry           q[SUSPECT_QUEUE_MAX];
static int             nq;
static unsigned        wakes;             /* suspect_wake generations */
static _Atomic uint64_t dropped;

static int64_t now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int known_type(int t)
{
    return (t >= SUSPECT_IO_ERROR && t <= SUSPECT_REPAIRED) || t == SUSPECT_DEALLOCATED;
}

/* Caller holds mu. */
static void push(struct instance *in, const suspect_event *ev)
{
    if (ev->kind == SUSPECT_EV_PAGE) {
        /* a repeat of a pending event counts up, unless a FORGET of its
         * database came in between (it must stay after the FORGET) */
        for (int i = nq - 1; i >= 0; i--) {
            suspect_event *o = &q[i].ev;
            if (q[i].in != in || o->db_id != ev->db_id)
                continue;
            if (o->kind == SUSPECT_EV_FORGET)
                break;
            if (o->file_id == ev->file_id && o->page_no == ev->page_no && o->event_type == ev->event_type) {
                o->count += ev->count;
                o->time_us = ev->time_us;
                pthread_cond_broadcast(&cv);
                return;
            }
        }
    }
    if (nq == SUSPECT_QUEUE_MAX) {
        atomic_fetch_add(&dropped, 1);
        return;
    }
    q[nq].in = in;
    q[nq].ev = *ev;
    nq++;
    pthread_cond_broadcast(&cv);
}

void suspect_page_note(struct instance *in, uint32_t db_id, pgid_t page, int event_type)
{
    if (!known_type(event_type) || PGID_FILE(page) == 0 || PGID_FILE(page) > UINT16_MAX)
        return;
    suspect_event ev = { .kind = SUSPECT_EV_PAGE, .db_id = db_id, .file_id = (uint16_t)PGID_FILE(page),
                         .page_no = PGID_PAGE(page), .event_type = event_type, .count = 1, .time_us = now_us() };
    pthread_mutex_lock(&mu);
    push(in, &ev);
    pthread_mutex_unlock(&mu);
}

void suspect_forget(struct instance *in, uint32_t db_id, uint16_t file_id)
{
    suspect_event ev = { .kind = SUSPECT_EV_FORGET, .db_id = db_id, .file_id = file_id, .count = 1,
                         .time_us = now_us() };
    pthread_mutex_lock(&mu);
    push(in, &ev);
    pthread_mutex_unlock(&mu);
}

void suspect_df_hook(void *ctx, uint32_t db_id, pgid_t id, int event_type)
{
    suspect_page_note(ctx, db_id, id, event_type);
}

/* Caller holds mu: move in's first cap entries to out, keep the rest in order. */
static int take_locked(struct instance *in, suspect_event *out, int cap)
{
    int n = 0, k = 0;
    for (int i = 0; i < nq; i++) {
        if (q[i].in == in && n < cap)
            out[n++] = q[i].ev;
        else
            q[k++] = q[i];
    }
    nq = k;
    return n;
}

static int has_events(struct instance *in)
{
    for (int i = 0; i < nq; i++)
        if (q[i].in == in)
            return 1;
    return 0;
}

int suspect_wait(struct instance *in, int wait_ms)
{
    pthread_mutex_lock(&mu);
    if (wait_ms > 0 && !has_events(in)) {
        struct timespec dl;
        clock_gettime(CLOCK_REALTIME, &dl);
        dl.tv_sec += wait_ms / 1000;
        dl.tv_nsec += (long)(wait_ms % 1000) * 1000000L;
        if (dl.tv_nsec >= 1000000000L) {
            dl.tv_sec++;
            dl.tv_nsec -= 1000000000L;
        }
        unsigned gen = wakes;
        while (!has_events(in) && gen == wakes)
            if (pthread_cond_timedwait(&cv, &mu, &dl) != 0)
                break;
    }
    int any = has_events(in);
    pthread_mutex_unlock(&mu);
    return any;
}

int suspect_take(struct instance *in, suspect_event *out, int cap)
{
    pthread_mutex_lock(&mu);
    int n = take_locked(in, out, cap);
    pthread_mutex_unlock(&mu);
    return n;
}

void suspect_wake(void)
{
    pthread_mutex_lock(&mu);
    wakes++;
    pthread_cond_broadcast(&cv);
    pthread_mutex_unlock(&mu);
}

uint64_t suspect_dropped(void) { return atomic_load(&dropped); }

int suspect_pending(struct instance *in)
{
    pthread_mutex_lock(&mu);
    int n = 0;
    for (int i = 0; i < nq; i++)
        n += q[i].in == in;
    pthread_mutex_unlock(&mu);
    return n;
}

void suspect_discard(struct instance *in)
{
    pthread_mutex_lock(&mu);
    int k = 0;
    for (int i = 0; i < nq; i++)
        if (q[i].in != in)
            q[k++] = q[i];
    nq = k;
    pthread_mutex_unlock(&mu);
}
