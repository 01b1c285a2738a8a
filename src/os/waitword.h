/*
 * waitword.h — threads sleep until a 32-bit word changes (Linux futex).
 *
 * For a broadcast whose waiters need no mutex afterwards: a condition
 * variable wakes every waiter only to have each take the mutex again, one
 * after another, and those that find it held sleep a second time. A waiter
 * here reads the word (typically under the mutex that guards what it waits
 * for), drops the mutex, and sleeps while the word still holds that value;
 * the waker changes the word and wakes all. A change between the read and
 * the sleep is not missed: the kernel compares the word before sleeping.
 */
#ifndef HDB_OS_WAITWORD_H
#define HDB_OS_WAITWORD_H

#include <stdatomic.h>
#include <stdint.h>

typedef struct waitword {
    _Atomic uint32_t word;
    _Atomic uint32_t sleepers;   /* lets a waker skip the system call */
} waitword;

/* The current value, to pass to waitword_sleep. */
uint32_t waitword_value(waitword *w);
/* Sleeps while the word equals `seen`; may return early (a signal). */
void waitword_sleep(waitword *w, uint32_t seen);
/* Changes the word and wakes every sleeper. */
void waitword_bump(waitword *w);

#endif
