/* commit_gate.c — the marked-commit block (see commit_gate.h). */
#include "txn/commit_gate.h"

#include <errno.h>
#include <time.h>

static int64_t mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

void commit_gate_init(commit_gate *g)
{
    *g = (commit_gate){ 0 };
    pthread_mutex_init(&g->mu, NULL);
    pthread_condattr_t a;
    pthread_condattr_init(&a);
    pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
    pthread_cond_init(&g->cv, &a);
    pthread_condattr_destroy(&a);
}

void commit_gate_destroy(commit_gate *g)
{
    pthread_cond_destroy(&g->cv);
    pthread_mutex_destroy(&g->mu);
}

void commit_gate_enter(commit_gate *g)
{
    pthread_mutex_lock(&g->mu);
    while (g->closed)
        pthread_cond_wait(&g->cv, &g->mu);
    g->inside++;
    pthread_mutex_unlock(&g->mu);
}

void commit_gate_leave(commit_gate *g)
{
    pthread_mutex_lock(&g->mu);
    /* a closer waits for the last one out */
    if (--g->inside == 0 && g->closed)
        pthread_cond_broadcast(&g->cv);
    pthread_mutex_unlock(&g->mu);
}

/* Wait on the gate's condition until `deadline_us` (monotonic; 0 = none). */
static int wait_until(commit_gate *g, int64_t deadline_us)
{
    if (!deadline_us)
        return pthread_cond_wait(&g->cv, &g->mu);
    struct timespec ts = { .tv_sec = deadline_us / 1000000, .tv_nsec = (deadline_us % 1000000) * 1000 };
    return pthread_cond_timedwait(&g->cv, &g->mu, &ts);
}

int commit_gate_close(commit_gate *g, int timeout_ms)
{
    int64_t deadline = timeout_ms < 0 ? 0 : mono_us() + (int64_t)timeout_ms * 1000;
    pthread_mutex_lock(&g->mu);
    while (g->closed)                      /* another marked commit first */
        if (wait_until(g, deadline) == ETIMEDOUT && g->closed) {
            pthread_mutex_unlock(&g->mu);
            return -1;
        }
    g->closed = 1;
    g->closed_at_us = mono_us();
    while (g->inside > 0)
        if (wait_until(g, deadline) == ETIMEDOUT && g->inside > 0) {
            pthread_mutex_unlock(&g->mu);
            commit_gate_open(g);
            return -1;
        }
    pthread_mutex_unlock(&g->mu);
    return 0;
}

void commit_gate_open(commit_gate *g)
{
    pthread_mutex_lock(&g->mu);
    uint64_t held = (uint64_t)(mono_us() - g->closed_at_us);
    g->closed = 0;
    g->closes++;
    g->closed_us += held;
    if (held > g->max_closed_us)
        g->max_closed_us = held;
    pthread_cond_broadcast(&g->cv);
    pthread_mutex_unlock(&g->mu);
}
