/* waitword.c — sleep until a word changes (see waitword.h). */
#include "os/waitword.h"

#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

uint32_t waitword_value(waitword *w)
{
    return atomic_load(&w->word);
}

void waitword_sleep(waitword *w, uint32_t seen)
{
    atomic_fetch_add(&w->sleepers, 1);
    /* the kernel sleeps only if the word still equals `seen` */
    syscall(SYS_futex, &w->word, FUTEX_WAIT_PRIVATE, seen, NULL, NULL, 0);
    atomic_fetch_sub(&w->sleepers, 1);
}

void waitword_bump(waitword *w)
{
    atomic_fetch_add(&w->word, 1);
    /* sleepers is raised before a sleeper's futex call, and the word after
     * it: seq_cst orders them, so a sleeper either saw the new word or is
     * counted here */
    if (atomic_load(&w->sleepers))
        syscall(SYS_futex, &w->word, FUTEX_WAKE_PRIVATE, INT32_MAX, NULL, NULL, 0);
}
