/*
 * run_writer.c — page runs written by a second thread (run_writer.h).
 */
#include "backup/run_writer.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>

struct run_writer {
    pthread_t th;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    uint8_t *buf[2];
    int fill;                 /* the buffer the caller fills */
    /* the write handed over (mu) */
    bool pending, stop;
    fio_file *f;
    const uint8_t *src;
    size_t n;
    uint64_t off;
    /* the first failure (mu) */
    bool failed;
    hdb_err err;
};

static void *writer_main(void *arg)
{
    run_writer *w = arg;
    pthread_mutex_lock(&w->mu);
    for (;;) {
        while (!w->pending && !w->stop)
            pthread_cond_wait(&w->cv, &w->mu);
        if (!w->pending)
            break;
        fio_file *f = w->f;
        const uint8_t *src = w->src;
        size_t n = w->n;
        uint64_t off = w->off;
        bool skip = w->failed;   /* after a failure nothing more is written */
        pthread_mutex_unlock(&w->mu);
        hdb_err e = { 0 };
        int rc = skip ? 0 : fio_pwrite(f, src, n, off, &e);
        pthread_mutex_lock(&w->mu);
        if (rc < 0 && !w->failed) {
            w->failed = true;
            w->err = e;
        }
        w->pending = false;
        pthread_cond_broadcast(&w->cv);
    }
    pthread_mutex_unlock(&w->mu);
    return NULL;
}

run_writer *rw_start(size_t buf_bytes, hdb_err *err)
{
    run_writer *w = calloc(1, sizeof *w);
    if (!w)
        goto nomem;
    w->buf[0] = malloc(buf_bytes);
    w->buf[1] = malloc(buf_bytes);
    if (!w->buf[0] || !w->buf[1])
        goto nomem;
    pthread_mutex_init(&w->mu, NULL);
    pthread_cond_init(&w->cv, NULL);
    if (pthread_create(&w->th, NULL, writer_main, w) == 0)
        return w;
    pthread_mutex_destroy(&w->mu);
    pthread_cond_destroy(&w->cv);
nomem:
    if (w) {
        free(w->buf[0]);
        free(w->buf[1]);
        free(w);
    }
    hdb_raise_text(err, 701, 19, 1, "There is insufficient system memory to run this query.");
    return NULL;
}

uint8_t *rw_buffer(run_writer *w) { return w->buf[w->fill]; }

/* Waits until no write is under way (mu held); -1 with err after a failure. */
static int wait_idle(run_writer *w, hdb_err *err)
{
    while (w->pending)
        pthread_cond_wait(&w->cv, &w->mu);
    if (w->failed) {
        if (err)
            *err = w->err;
        return -1;
    }
    return 0;
}

int rw_submit(run_writer *w, fio_file *f, size_t n, uint64_t off, hdb_err *err)
{
    pthread_mutex_lock(&w->mu);
    /* the other buffer is free once its write is done */
    int rc = wait_idle(w, err);
    if (rc == 0) {
        w->f = f;
        w->src = w->buf[w->fill];
        w->n = n;
        w->off = off;
        w->pending = true;
        w->fill ^= 1;
        pthread_cond_broadcast(&w->cv);
    }
    pthread_mutex_unlock(&w->mu);
    return rc;
}

int rw_finish(run_writer *w, hdb_err *err)
{
    if (!w)
        return 0;
    pthread_mutex_lock(&w->mu);
    int rc = wait_idle(w, err);
    w->stop = true;
    pthread_cond_broadcast(&w->cv);
    pthread_mutex_unlock(&w->mu);
    pthread_join(w->th, NULL);
    pthread_mutex_destroy(&w->mu);
    pthread_cond_destroy(&w->cv);
    free(w->buf[0]);
    free(w->buf[1]);
    free(w);
    return rc;
}
