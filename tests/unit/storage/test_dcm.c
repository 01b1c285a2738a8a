/* test_dcm.c — the changed-extent map: marking, generations (a full backup's
 * fresh map), copies, the map file (round trip, owner, damage), and marking
 * from many threads while generations change. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "storage/dcm.h"

static void marks_extents(void **state)
{
    (void)state;
    dcm *m = dcm_create();
    assert_non_null(m);
    assert_int_equal(dcm_count(m), 0);
    dcm_mark(m, PGID(1, 17));
    assert_true(dcm_changed(m, PGID(1, 16)));   /* same extent: pages 16..23 */
    assert_true(dcm_changed(m, PGID(1, 23)));
    assert_false(dcm_changed(m, PGID(1, 24)));
    assert_false(dcm_changed(m, PGID(2, 17)));   /* another file */
    dcm_mark(m, PGID(1, 20));
    dcm_mark(m, PGID(3, 4000000000u));          /* far into a big file */
    assert_true(dcm_changed(m, PGID(3, 4000000007u)));
    assert_int_equal(dcm_count(m), 2);
    dcm_mark(m, PGID(DCM_MAX_FILE + 1, 0));     /* beyond the map: everything counts */
    assert_true(dcm_is_all(m));
    assert_true(dcm_changed(m, PGID(5, 5)));
    dcm_reset(m, 77);
    assert_false(dcm_is_all(m));
    assert_int_equal(dcm_count(m), 0);
    assert_int_equal(dcm_base(m), 77);
    dcm_free(m);
}

/* A full backup's fresh generation: marks go to both while it fills; kept,
 * it replaces the map; dropped, the map is as if nothing happened. */
static void generations(void **state)
{
    (void)state;
    dcm *m = dcm_create();
    dcm_mark(m, PGID(1, 0));
    assert_int_equal(dcm_next_begin(m), 0);
    assert_int_equal(dcm_next_begin(m), -1);    /* one at a time */
    dcm_mark(m, PGID(1, 800));
    dcm *c = dcm_copy(m);                       /* a differential meanwhile: the old map */
    assert_true(dcm_changed(c, PGID(1, 0)) && dcm_changed(c, PGID(1, 800)));
    dcm_next_end(m, 1, 1234);
    assert_int_equal(dcm_base(m), 1234);
    assert_false(dcm_changed(m, PGID(1, 0)));
    assert_true(dcm_changed(m, PGID(1, 800)));
    assert_true(dcm_changed(c, PGID(1, 0)));    /* the copy is private */
    assert_int_equal(dcm_base(c), 0);
    dcm_free(c);

    assert_int_equal(dcm_next_begin(m), 0);
    dcm_mark(m, PGID(1, 1600));
    dcm_next_end(m, 0, 9999);                   /* the backup failed */
    assert_int_equal(dcm_base(m), 1234);
    assert_true(dcm_changed(m, PGID(1, 800)) && dcm_changed(m, PGID(1, 1600)));

    /* the spare generation is emptied before it is used again */
    assert_int_equal(dcm_next_begin(m), 0);
    dcm_next_end(m, 1, 5000);
    assert_int_equal(dcm_count(m), 0);

    dcm *u = dcm_create();
    dcm_mark(u, PGID(2, 9));
    dcm_merge(m, u);
    assert_true(dcm_changed(m, PGID(2, 15)));
    dcm_free(u);
    dcm_free(m);
}

static void file_round_trip(void **state)
{
    (void)state;
    char dir[] = "/tmp/hadr-dcm-XXXXXX", path[128], cmd[160];
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/db.dcm", dir);
    dcm *m = dcm_create();
    for (uint32_t p = 0; p < 300000; p += 97)
        dcm_mark(m, PGID(1, p));
    dcm_mark(m, PGID(4, 1u << 30));
    hdb_err e;
    hdb_err_clear(&e);
    assert_int_equal(dcm_save(m, path, 42, 5555, &e), 0);
    assert_int_equal(access(path, F_OK), 0);

    dcm *l = dcm_create();
    dcm_mark(l, PGID(9, 9));      /* replaced by what the file holds */
    lsn_t covered = 0;
    assert_int_equal(dcm_load(l, path, 43, &covered), -1);   /* another log's */
    assert_true(dcm_changed(l, PGID(9, 9)));
    assert_int_equal(dcm_load(l, path, 42, &covered), 0);
    assert_int_equal(covered, 5555);
    assert_int_equal(dcm_count(l), dcm_count(m));
    assert_false(dcm_changed(l, PGID(9, 9)));
    for (uint32_t p = 0; p < 300000; p += 8)
        assert_int_equal(dcm_changed(l, PGID(1, p)), dcm_changed(m, PGID(1, p)));
    assert_true(dcm_changed(l, PGID(4, 1u << 30)));

    /* "all" survives the round trip */
    dcm_mark_all(m);
    assert_int_equal(dcm_save(m, path, 42, 6000, &e), 0);
    assert_int_equal(dcm_load(l, path, 42, &covered), 0);
    assert_true(dcm_is_all(l));

    /* a flipped byte anywhere, or a cut file, is refused */
    dcm_reset(m, 3);
    dcm_mark(m, PGID(1, 64));
    assert_int_equal(dcm_save(m, path, 42, 7000, &e), 0);
    FILE *f = fopen(path, "r+b");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    for (long at = 0; at < len; at += 7) {
        fseek(f, at, SEEK_SET);
        int c = fgetc(f);
        fseek(f, at, SEEK_SET);
        fputc(c ^ 0x10, f);
        fflush(f);
        assert_int_equal(dcm_load(l, path, 42, &covered), -1);
        fseek(f, at, SEEK_SET);
        fputc(c, f);
        fflush(f);
    }
    fclose(f);
    assert_int_equal(dcm_load(l, path, 42, &covered), 0);
    assert_int_equal(dcm_base(l), 3);
    assert_int_equal(truncate(path, len - 5), 0);
    assert_int_equal(dcm_load(l, path, 42, &covered), -1);
    unlink(path);
    assert_int_equal(dcm_load(l, path, 42, &covered), -1);   /* missing */
    dcm_free(l);
    dcm_free(m);
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);
}

/* Writers mark while full backups start and end generations: a mark made
 * after a generation began is never missing from it. */
#define NTH 3
typedef struct race {
    dcm *m;
    _Atomic int stop, pause;
    _Atomic int paused[NTH];
    _Atomic uint32_t next_page;
} race;

typedef struct marker_arg {
    race *r;
    int i;
} marker_arg;

static void *marker(void *arg)
{
    marker_arg *a = arg;
    race *r = a->r;
    while (!r->stop) {
        if (r->pause) {
            r->paused[a->i] = 1;
            while (r->pause && !r->stop)
                sched_yield();
            r->paused[a->i] = 0;
            continue;
        }
        uint32_t p = atomic_fetch_add(&r->next_page, 8);
        dcm_mark(r->m, PGID(1, p % 4000000));
    }
    return NULL;
}

static void concurrent_generations(void **state)
{
    (void)state;
    race r = { .m = dcm_create() };
    pthread_t th[NTH];
    marker_arg args[NTH];
    for (int i = 0; i < NTH; i++) {
        args[i] = (marker_arg){ &r, i };
        pthread_create(&th[i], NULL, marker, &args[i]);
    }
    for (int round = 0; round < 100; round++) {
        assert_int_equal(dcm_next_begin(r.m), 0);
        /* every page fetched from here on is marked after the begin */
        uint32_t from = atomic_load(&r.next_page);
        usleep(300);
        dcm_next_end(r.m, 1, (lsn_t)round + 1);
        usleep(100);
        r.pause = 1;   /* no mark in flight while the map is checked */
        for (int i = 0; i < NTH; i++)
            while (!r.paused[i])
                sched_yield();
        uint32_t to = atomic_load(&r.next_page);
        for (uint32_t p = from; p < to && p - from < 3000000; p += 8)
            if (!dcm_changed(r.m, PGID(1, p % 4000000)))
                fail_msg("round %d: page %u marked after the generation began is missing", round, p);
        r.pause = 0;
    }
    r.stop = 1;
    for (int i = 0; i < NTH; i++)
        pthread_join(th[i], NULL);
    dcm_free(r.m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(marks_extents),
        cmocka_unit_test(generations),
        cmocka_unit_test(file_round_trip),
        cmocka_unit_test(concurrent_generations),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
