/* test_suspect.c — the in-memory queue of suspect page events (engine/suspect.h):
 * repeats merge, a FORGET keeps its place, instances are kept apart, the queue
 * is bounded (drops are counted), wait / wake, and the data-file hook feeds it. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <pthread.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "engine/suspect.h"

/* Instances are only tags for the queue: any distinct addresses do. */
static int tag_a, tag_b;
#define IA ((struct instance *)&tag_a)
#define IB ((struct instance *)&tag_b)

static int drain(struct instance *in, suspect_event *ev, int cap)
{
    return suspect_take(in, ev, cap);
}

static int reset(void **state)
{
    (void)state;
    suspect_discard(IA);
    suspect_discard(IB);
    return 0;
}

static void test_repeats_merge(void **state)
{
    (void)state;
    suspect_page_note(IA, 5, PGID(1, 100), SUSPECT_BAD_CHECKSUM);
    suspect_page_note(IA, 5, PGID(1, 100), SUSPECT_BAD_CHECKSUM);
    suspect_page_note(IA, 5, PGID(1, 100), SUSPECT_BAD_CHECKSUM);
    suspect_page_note(IA, 5, PGID(1, 101), SUSPECT_BAD_CHECKSUM);
    suspect_page_note(IA, 5, PGID(1, 100), SUSPECT_TORN_PAGE);   /* another type: its own entry */
    assert_int_equal(suspect_pending(IA), 3);
    suspect_event ev[8];
    assert_int_equal(drain(IA, ev, 8), 3);
    assert_int_equal(ev[0].kind, SUSPECT_EV_PAGE);
    assert_int_equal(ev[0].db_id, 5);
    assert_int_equal(ev[0].file_id, 1);
    assert_int_equal(ev[0].page_no, 100);
    assert_int_equal(ev[0].event_type, SUSPECT_BAD_CHECKSUM);
    assert_int_equal(ev[0].count, 3);
    assert_true(ev[0].time_us > 0);
    assert_int_equal(ev[1].page_no, 101);
    assert_int_equal(ev[1].count, 1);
    assert_int_equal(ev[2].event_type, SUSPECT_TORN_PAGE);
    assert_int_equal(suspect_pending(IA), 0);
}

static void test_forget_keeps_order(void **state)
{
    (void)state;
    suspect_page_note(IA, 6, PGID(1, 7), SUSPECT_IO_ERROR);
    suspect_forget(IA, 6, 0);
    /* after the FORGET: a new entry, not merged into the one it deletes */
    suspect_page_note(IA, 6, PGID(1, 7), SUSPECT_IO_ERROR);
    suspect_page_note(IA, 6, PGID(1, 7), SUSPECT_IO_ERROR);
    suspect_event ev[8];
    assert_int_equal(drain(IA, ev, 8), 3);
    assert_int_equal(ev[0].count, 1);
    assert_int_equal(ev[1].kind, SUSPECT_EV_FORGET);
    assert_int_equal(ev[1].db_id, 6);
    assert_int_equal(ev[1].file_id, 0);
    assert_int_equal(ev[2].kind, SUSPECT_EV_PAGE);
    assert_int_equal(ev[2].count, 2);
}

static void test_instances_and_bad_input(void **state)
{
    (void)state;
    suspect_page_note(IA, 5, PGID(1, 1), SUSPECT_RESTORED);
    suspect_page_note(IB, 5, PGID(1, 1), SUSPECT_RESTORED);
    suspect_page_note(IA, 5, PGID(1, 1), 6);       /* no such type */
    suspect_page_note(IA, 5, PGID(0, 1), 2);       /* no file 0 */
    suspect_page_note(IA, 5, PGID(1, 2), SUSPECT_REPAIRED);
    suspect_page_note(IA, 5, PGID(1, 3), SUSPECT_DEALLOCATED);
    assert_int_equal(suspect_pending(IA), 3);
    assert_int_equal(suspect_pending(IB), 1);
    suspect_event ev[8];
    assert_int_equal(drain(IB, ev, 8), 1);
    assert_int_equal(suspect_pending(IA), 3);
    /* cap: the rest stays queued, in order */
    assert_int_equal(drain(IA, ev, 2), 2);
    assert_int_equal(ev[0].event_type, SUSPECT_RESTORED);
    assert_int_equal(ev[1].event_type, SUSPECT_REPAIRED);
    assert_int_equal(drain(IA, ev, 8), 1);
    assert_int_equal(ev[0].event_type, SUSPECT_DEALLOCATED);
}

static void test_bounded(void **state)
{
    (void)state;
    uint64_t before = suspect_dropped();
    for (uint32_t i = 0; i < SUSPECT_QUEUE_MAX + 10; i++)
        suspect_page_note(IA, 5, PGID(1, 1000 + i), SUSPECT_BAD_CHECKSUM);
    assert_int_equal(suspect_pending(IA), SUSPECT_QUEUE_MAX);
    assert_int_equal(suspect_dropped() - before, 10);
    /* a repeat of a queued page still counts */
    suspect_page_note(IA, 5, PGID(1, 1000), SUSPECT_BAD_CHECKSUM);
    assert_int_equal(suspect_dropped() - before, 10);
    suspect_event ev[4];
    assert_int_equal(drain(IA, ev, 1), 1);
    assert_int_equal(ev[0].count, 2);
    suspect_discard(IA);
    assert_int_equal(suspect_pending(IA), 0);
}

static void *late_note(void *arg)
{
    (void)arg;
    usleep(50 * 1000);
    suspect_df_hook(IA, 8, PGID(2, 9), SUSPECT_TORN_PAGE);
    return NULL;
}

static void *late_wake(void *arg)
{
    (void)arg;
    usleep(50 * 1000);
    suspect_wake();
    return NULL;
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void test_wait(void **state)
{
    (void)state;
    assert_int_equal(suspect_wait(IA, 0), 0);
    double t0 = now();
    assert_int_equal(suspect_wait(IA, 100), 0);                 /* times out */
    assert_true(now() - t0 >= 0.09);
    pthread_t th;
    pthread_create(&th, NULL, late_note, NULL);
    t0 = now();
    assert_int_equal(suspect_wait(IA, 5000), 1);                /* woken by the event */
    assert_true(now() - t0 < 4.0);
    pthread_join(th, NULL);
    suspect_event ev[2];
    assert_int_equal(drain(IA, ev, 2), 1);
    assert_int_equal(ev[0].db_id, 8);
    assert_int_equal(ev[0].file_id, 2);
    assert_int_equal(ev[0].event_type, SUSPECT_TORN_PAGE);
    pthread_create(&th, NULL, late_wake, NULL);
    t0 = now();
    assert_int_equal(suspect_wait(IA, 5000), 0);                /* woken by suspect_wake */
    assert_true(now() - t0 < 4.0);
    pthread_join(th, NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_repeats_merge, reset),
        cmocka_unit_test_setup(test_forget_keeps_order, reset),
        cmocka_unit_test_setup(test_instances_and_bad_input, reset),
        cmocka_unit_test_setup(test_bounded, reset),
        cmocka_unit_test_setup(test_wait, reset),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
