/* Unit tests: threads sleep on a word until a bump changes it. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <pthread.h>
#include <time.h>
#include <unistd.h>

#include "os/waitword.h"

#define SLEEPERS 4

typedef struct {
    waitword *w;
    uint32_t seen;
    _Atomic int *woken;
} sleeper;

static void *sleep_once(void *arg)
{
    sleeper *s = arg;
    /* a signal could end a sleep early: sleep again until the word moved */
    while (waitword_value(s->w) == s->seen)
        waitword_sleep(s->w, s->seen);
    atomic_fetch_add(s->woken, 1);
    return NULL;
}

static void test_sleep_returns_at_once_after_a_change(void **state)
{
    (void)state;
    waitword w = {0};
    uint32_t seen = waitword_value(&w);
    waitword_bump(&w);   /* nobody asleep: no wake call needed, the word moves */
    assert_int_not_equal(waitword_value(&w), seen);
    waitword_sleep(&w, seen);   /* would hang if the stale value slept */
}

static void test_bump_wakes_every_sleeper(void **state)
{
    (void)state;
    waitword w = {0};
    _Atomic int woken = 0;
    pthread_t t[SLEEPERS];
    sleeper s = { &w, waitword_value(&w), &woken };
    for (int i = 0; i < SLEEPERS; i++)
        assert_int_equal(pthread_create(&t[i], NULL, sleep_once, &s), 0);
    /* until every one is counted asleep (or about to be) */
    while (atomic_load(&w.sleepers) < SLEEPERS)
        usleep(1000);
    usleep(20000);
    assert_int_equal(atomic_load(&woken), 0);
    waitword_bump(&w);
    for (int i = 0; i < SLEEPERS; i++)
        assert_int_equal(pthread_join(t[i], NULL), 0);
    assert_int_equal(atomic_load(&woken), SLEEPERS);
}

/* Ping-pong: one side bumps `ping` and sleeps until `pong` moves, the
 * other sleeps until `ping` moves and bumps `pong`, strictly in turn. A lost
 * wake-up leaves both asleep for good, which the bounded join reports. */
#define ROUNDS 20000

static waitword ping, pong;
static _Atomic int rounds;

static void *pinger(void *arg)
{
    (void)arg;
    for (int i = 0; i < ROUNDS; i++) {
        uint32_t seen = waitword_value(&pong);   /* read before asking */
        waitword_bump(&ping);
        while (waitword_value(&pong) == seen)
            waitword_sleep(&pong, seen);
        atomic_fetch_add(&rounds, 1);
    }
    return NULL;
}

static void *ponger(void *arg)
{
    uint32_t seen = *(uint32_t *)arg;
    for (int i = 0; i < ROUNDS; i++) {
        while (waitword_value(&ping) == seen)
            waitword_sleep(&ping, seen);
        seen = waitword_value(&ping);   /* one bump per round: the pinger waits */
        waitword_bump(&pong);
    }
    return NULL;
}

static void test_no_lost_wakeup(void **state)
{
    (void)state;
    uint32_t start = waitword_value(&ping);
    pthread_t t[2];
    assert_int_equal(pthread_create(&t[0], NULL, ponger, &start), 0);
    assert_int_equal(pthread_create(&t[1], NULL, pinger, NULL), 0);
    struct timespec limit;
    clock_gettime(CLOCK_REALTIME, &limit);
    limit.tv_sec += 60;
    for (int i = 0; i < 2; i++)
        if (pthread_timedjoin_np(t[i], NULL, &limit) != 0)
            fail_msg("a wake-up was lost after %d rounds", atomic_load(&rounds));
    assert_int_equal(atomic_load(&rounds), ROUNDS);
    assert_int_equal(atomic_load(&ping.sleepers), 0);
    assert_int_equal(atomic_load(&pong.sleepers), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sleep_returns_at_once_after_a_change),
        cmocka_unit_test(test_bump_wakes_every_sleeper),
        cmocka_unit_test(test_no_lost_wakeup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
