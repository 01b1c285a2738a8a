/* test_media.c — backup media: sets appended and read back by position,
 * INIT/NOINIT/FORMAT, compression, damage of every kind, unfinished sets,
 * abort, injected I/O faults, and a large stream. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "backup/media.h"
#include "backup/media_int.h"
#include "os/fio.h"

static char tdir[64];
static int file_no;

static int setup(void **state)
{
    (void)state;
    snprintf(tdir, sizeof tdir, "/tmp/hadr-media-XXXXXX");
    return mkdtemp(tdir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    fault_clear();
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", tdir);
    return system(cmd) == 0 ? 0 : -1;
}

static void newpath(char *out, size_t n, const char *tag)
{
    snprintf(out, n, "%s/%s%d.bak", tdir, tag, ++file_no);
}

/* ---- raw file helpers (the test plays the disk, so plain POSIX here) ------- */

static uint8_t *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *b = malloc((size_t)n + 1);
    assert_int_equal(fread(b, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    *len = (size_t)n;
    return b;
}

static void spit(const char *path, const void *b, size_t n)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(b, 1, n, f), n);
    fclose(f);
}

static void flip(const char *path, uint64_t off)
{
    int fd = open(path, O_RDWR);
    assert_true(fd >= 0);
    uint8_t c;
    assert_int_equal(pread(fd, &c, 1, (off_t)off), 1);
    c ^= 0x40;
    assert_int_equal(pwrite(fd, &c, 1, (off_t)off), 1);
    close(fd);
}

static void cut(const char *path, uint64_t size) { assert_int_equal(truncate(path, (off_t)size), 0); }

static uint64_t fsize(const char *path)
{
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    return (uint64_t)st.st_size;
}

static void copy_file(const char *from, const char *to)
{
    size_t n;
    uint8_t *b = slurp(from, &n);
    spit(to, b, n);
    free(b);
}

static void assert_same_file(const char *path, const uint8_t *bytes, size_t n)
{
    size_t m;
    uint8_t *b = slurp(path, &m);
    assert_int_equal(m, n);
    assert_memory_equal(b, bytes, n);
    free(b);
}

/* ---- content ---------------------------------------------------------------- */

static void gen_page(uint8_t *p, uint32_t file, uint32_t page, uint32_t seed)
{
    uint64_t x = (((uint64_t)file << 32) | page) * 0x9E3779B97F4A7C15ull ^
                 (uint64_t)(seed + 1) * 0xD1B54A32D192ED03ull;
    if (!x)
        x = 1;
    for (size_t i = 0; i < PAGE_SIZE; i += 8) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        memcpy(p + i, &x, 8);
    }
}

/* Mostly zeros and repeated text, like a lightly filled data page. */
static void gen_sparse_page(uint8_t *p, uint32_t file, uint32_t page, uint32_t seed)
{
    memset(p, 0, PAGE_SIZE);
    memcpy(p, &file, 4);
    memcpy(p + 4, &page, 4);
    memcpy(p + 8, &seed, 4);
    for (int i = 0; i < 40; i++)
        snprintf((char *)p + 96 + i * 48, 48, "row %05u customer name %08u", i, page);
}

static uint8_t log_byte(lsn_t lsn) { return (uint8_t)(lsn * 31 + (lsn >> 11)); }

static void make_files(media_file_entry f[3])
{
    memset(f, 0, 3 * sizeof f[0]);
    snprintf(f[0].logical_name, sizeof f[0].logical_name, "sales");
    snprintf(f[0].physical_name, sizeof f[0].physical_name, "/data/sales.mdf");
    snprintf(f[0].filegroup_name, sizeof f[0].filegroup_name, "PRIMARY");
    f[0].type = 'D';
    f[0].file_id = 1;
    f[0].filegroup_id = 1;
    f[0].size = 8u << 20;
    f[0].max_size = 1u << 30;
    f[0].create_lsn = 0;
    f[0].unique_id[0] = 0x11;
    f[0].is_present = 1;
    f[0].source_block_size = 4096;
    snprintf(f[1].logical_name, sizeof f[1].logical_name, "sales_data2");
    snprintf(f[1].physical_name, sizeof f[1].physical_name, "/data/sales2.ndf");
    snprintf(f[1].filegroup_name, sizeof f[1].filegroup_name, "SECONDARY");
    f[1].type = 'D';
    f[1].file_id = 3;
    f[1].filegroup_id = 2;
    f[1].size = 4u << 20;
    f[1].create_lsn = 70000;
    f[1].is_present = 1;
    snprintf(f[2].logical_name, sizeof f[2].logical_name, "sales_log");
    snprintf(f[2].physical_name, sizeof f[2].physical_name, "/data/sales_log.ldf");
    f[2].type = 'L';
    f[2].file_id = 2;
    f[2].size = 2u << 20;
    f[2].is_present = 1;
}

static int64_t next_expiration;   /* ExpirationDate of the sets written next */

static media_set_header make_hdr(int type, const char *name)
{
    media_set_header h;
    memset(&h, 0, sizeof h);
    snprintf(h.name, sizeof h.name, "%s", name);
    snprintf(h.description, sizeof h.description, "description of %s", name);
    h.backup_type = (uint8_t)type;
    h.device_type = 2;
    h.recovery_model = 1;
    h.compatibility_level = 160;
    h.flags = MEDIA_FLAG_CHECKSUMS | (type == MEDIA_TYPE_DATABASE ? MEDIA_FLAG_BEGINS_LOG_CHAIN : 0);
    h.expiration_date = next_expiration;
    snprintf(h.user_name, sizeof h.user_name, "sa");
    snprintf(h.server_name, sizeof h.server_name, "srv1");
    snprintf(h.database_name, sizeof h.database_name, "sales");
    snprintf(h.machine_name, sizeof h.machine_name, "host1");
    snprintf(h.collation, sizeof h.collation, "SQL_Latin1_General_CP1_CI_AS");
    h.database_version = 957;
    h.database_creation_date = 1700000000000000;
    h.sort_order = 52;
    h.code_page = 1252;
    h.unicode_locale_id = 1033;
    h.unicode_comparison_style = 196609;
    h.software_vendor_id = 4608;
    h.software_major = 16;
    h.software_build = 1000;
    h.first_lsn = 100000u * (unsigned)type;
    h.last_lsn = h.first_lsn + 5000;
    h.checkpoint_lsn = h.first_lsn + 100;
    h.database_backup_lsn = 4242;
    h.differential_base_lsn = type == MEDIA_TYPE_DIFF_DATABASE ? 4242 : 0;
    memset(h.binding_id, 0xB1, 16);
    memset(h.family_guid, 0xF1, 16);
    memset(h.recovery_fork_id, 0xC1, 16);
    memset(h.first_recovery_fork_id, 0xC1, 16);
    return h;
}

typedef struct set_spec {
    int      pages;
    uint32_t first_page;
    uint32_t seed;
    int      sparse;           /* compressible pages */
    lsn_t    log_lsn;          /* 0: no log */
    size_t   log_len;
    size_t   log_chunk;
    size_t   log_gap_at;       /* a gap of 4096 LSNs after this many bytes (0: none) */
    int      marks;
    int      commits;
} set_spec;

static void page_for(const set_spec *s, int i, uint8_t *p, uint32_t *file, uint32_t *page)
{
    *file = i % 2 ? 3 : 1;
    *page = s->first_page + (uint32_t)i;
    if (s->sparse)
        gen_sparse_page(p, *file, *page, s->seed);
    else
        gen_page(p, *file, *page, s->seed);
}

static media_mark mark_for(const set_spec *s, int i)
{
    media_mark m;
    memset(&m, 0, sizeof m);
    m.lsn = s->log_lsn + 100u * (unsigned)i + 8;
    m.time = 1700000000000000 + i * 1000;
    snprintf(m.name, sizeof m.name, "mark%d", i);
    snprintf(m.description, sizeof m.description, "end of batch %d", i);
    snprintf(m.user_name, sizeof m.user_name, "etl_user");
    return m;
}

/* Stream one set as BACKUP would; returns the writer's position or -1. */
static int write_set_opts(const char *path, const media_write_opts *o, int type, const char *name,
                          const set_spec *s, hdb_err *e)
{
    media_file_entry files[3];
    make_files(files);
    media_set_header h = make_hdr(type, name);
    media_writer *w = media_write_begin(path, o, &h, files, 3, e);
    if (!w)
        return -1;
    int pos = media_writer_header(w)->position;
    uint8_t *page = malloc(PAGE_SIZE);
    for (int i = 0; i < s->pages; i++) {
        uint32_t f, p;
        page_for(s, i, page, &f, &p);
        if (media_write_page(w, f, p, page, e) < 0)
            goto fail;
    }
    if (s->log_lsn) {
        size_t chunk = s->log_chunk ? s->log_chunk : 65536;
        uint8_t *buf = malloc(chunk);
        lsn_t lsn = s->log_lsn;
        for (size_t done = 0; done < s->log_len;) {
            size_t k = s->log_len - done < chunk ? s->log_len - done : chunk;
            if (s->log_gap_at && done < s->log_gap_at && done + k > s->log_gap_at)
                k = s->log_gap_at - done;
            for (size_t j = 0; j < k; j++)
                buf[j] = log_byte(lsn + j);
            if (media_write_log(w, lsn, buf, k, e) < 0) {
                free(buf);
                goto fail;
            }
            done += k;
            lsn += k;
            if (s->log_gap_at && done == s->log_gap_at)
                lsn += 4096;
        }
        free(buf);
    }
    for (int i = 0; i < s->marks; i++) {
        media_mark m = mark_for(s, i);
        if (media_write_mark(w, &m, e) < 0)
            goto fail;
    }
    for (int i = 0; i < s->commits; i++)
        if (media_write_commit(w, s->log_lsn + 16u * (unsigned)i, 1700000000000000 + i, e) < 0)
            goto fail;
    media_writer_header(w)->last_lsn = s->log_lsn + s->log_len + 1;
    free(page);
    return media_write_finish(w, e) < 0 ? -1 : pos;
fail:
    free(page);
    media_write_abort(w, NULL);
    return -1;
}

static int write_set(const char *path, media_mode mode, int compression, int type,
                     const char *name, const set_spec *s, hdb_err *e)
{
    media_write_opts o = { .mode = mode, .compression = compression, .media_name = "nightly",
                           .media_description = "nightly backups", .software_vendor_id = 4608,
                           .software_major = 16 };
    return write_set_opts(path, &o, type, name, s, e);
}

static int write_ok(const char *path, media_mode mode, int compression, int type,
                    const char *name, const set_spec *s)
{
    hdb_err e = {0};
    int pos = write_set(path, mode, compression, type, name, s, &e);
    if (pos < 0)
        fail_msg("write_set %s: %d (%d) %s", name, e.number, e.state, e.msg);
    return pos;
}

/* Read set `pos` back completely and compare with what `s` generates. */
static void check_set(media_reader *r, int pos, const set_spec *s)
{
    hdb_err e = {0};
    media_cursor *c = media_cursor_open(r, pos, &e);
    assert_non_null(c);
    uint8_t *want = malloc(PAGE_SIZE);
    media_page pg;
    int i = 0, rc;
    while ((rc = media_next_page(c, &pg, &e)) > 0) {
        uint32_t f, p;
        page_for(s, i++, want, &f, &p);
        assert_int_equal(pg.file_id, f);
        assert_int_equal(pg.page_no, p);
        assert_memory_equal(pg.image, want, PAGE_SIZE);
    }
    assert_int_equal(rc, 0);
    assert_int_equal(i, s->pages);
    free(want);

    media_log_chunk ch;
    size_t total = 0;
    lsn_t expect = s->log_lsn;
    while ((rc = media_next_log(c, &ch, &e)) > 0) {
        if (s->log_gap_at && total == s->log_gap_at)
            expect += 4096;
        assert_int_equal(ch.lsn, expect);
        for (size_t j = 0; j < ch.len; j++)
            if (ch.data[j] != log_byte(ch.lsn + j))
                fail_msg("log byte at lsn %llu", (unsigned long long)(ch.lsn + j));
        expect += ch.len;
        total += ch.len;
    }
    assert_int_equal(rc, 0);
    assert_int_equal(total, s->log_lsn ? s->log_len : 0);

    media_mark *marks;
    size_t nm;
    assert_int_equal(media_read_marks(c, &marks, &nm, &e), 0);
    assert_int_equal(nm, (size_t)s->marks);
    for (size_t k = 0; k < nm; k++) {
        media_mark m = mark_for(s, (int)k);
        assert_int_equal(marks[k].lsn, m.lsn);
        assert_int_equal(marks[k].time, m.time);
        assert_string_equal(marks[k].name, m.name);
        assert_string_equal(marks[k].description, m.description);
        assert_string_equal(marks[k].user_name, m.user_name);
    }
    free(marks);
    media_commit *cm;
    size_t nc;
    assert_int_equal(media_read_commits(c, &cm, &nc, &e), 0);
    assert_int_equal(nc, (size_t)s->commits);
    for (size_t k = 0; k < nc; k++) {
        assert_int_equal(cm[k].lsn, s->log_lsn + 16 * k);
        assert_int_equal(cm[k].time, 1700000000000000 + (int64_t)k);
    }
    free(cm);
    media_cursor_close(c);
    assert_int_equal(media_verify(r, pos, NULL, NULL, &e), 0);
}

static media_reader *open_ok(const char *path)
{
    hdb_err e = {0};
    media_reader *r = media_open(path, &e);
    if (!r)
        fail_msg("media_open: %d (%d) %s", e.number, e.state, e.msg);
    return r;
}

static int count_pages(void *ctx, const media_page *pg, hdb_err *err)
{
    (void)pg;
    (void)err;
    (*(int *)ctx)++;
    return 0;
}

static const set_spec FULL = { .pages = 300, .first_page = 10, .seed = 1, .log_lsn = 81920,
                               .log_len = 200000, .log_chunk = 7000 };
static const set_spec DIFF = { .pages = 12, .first_page = 40, .seed = 2, .log_lsn = 300000,
                               .log_len = 5000 };
static const set_spec LOG = { .log_lsn = 281920, .log_len = 1500000, .log_chunk = 60000,
                              .log_gap_at = 700000, .marks = 3, .commits = 5000 };

/* Three sets of every kind on one file, each read back by position. */
static void round_trip_three_sets(void **state)
{
    (void)state;
    char path[128];
    newpath(path, sizeof path, "rt");
    assert_int_equal(write_ok(path, MEDIA_FORMAT, 0, MEDIA_TYPE_DATABASE, "full", &FULL), 1);
    assert_int_equal(write_ok(path, MEDIA_NOINIT, 0, MEDIA_TYPE_DIFF_DATABASE, "diff", &DIFF), 2);
    assert_int_equal(write_ok(path, MEDIA_NOINIT, 0, MEDIA_TYPE_LOG, "log", &LOG), 3);

    media_reader *r = open_ok(path);
    hdb_err e = {0};
    assert_int_equal(media_set_count(r), 3);
    assert_int_equal(media_tail_error(r, &e), 0);
    const media_header *mh = media_label(r);
    assert_string_equal(mh->name, "nightly");
    assert_string_equal(mh->description, "nightly backups");
    assert_string_equal(mh->software_name, "hadrdb");
    assert_int_equal(mh->family_count, 1);
    assert_int_equal(mh->software_vendor_id, 4608);
    assert_true(mh->media_date > 0);

    const char *names[] = { "full", "diff", "log" };
    const int types[] = { MEDIA_TYPE_DATABASE, MEDIA_TYPE_DIFF_DATABASE, MEDIA_TYPE_LOG };
    const set_spec *specs[] = { &FULL, &DIFF, &LOG };
    uint64_t off = MEDIA_ALIGN;
    for (int i = 0; i < 3; i++) {
        const media_set_header *h = media_set_at(r, i + 1);
        assert_non_null(h);
        media_set_header want = make_hdr(types[i], names[i]);
        assert_int_equal(h->position, i + 1);
        assert_string_equal(h->name, names[i]);
        assert_string_equal(h->description, want.description);
        assert_int_equal(h->backup_type, types[i]);
        assert_int_equal(h->device_type, 2);
        assert_int_equal(h->recovery_model, 1);
        assert_int_equal(h->compatibility_level, 160);
        assert_int_equal(h->flags, want.flags);
        assert_string_equal(h->user_name, "sa");
        assert_string_equal(h->server_name, "srv1");
        assert_string_equal(h->database_name, "sales");
        assert_string_equal(h->machine_name, "host1");
        assert_string_equal(h->collation, "SQL_Latin1_General_CP1_CI_AS");
        assert_int_equal(h->database_version, 957);
        assert_int_equal(h->database_creation_date, 1700000000000000);
        assert_int_equal(h->sort_order, 52);
        assert_int_equal(h->code_page, 1252);
        assert_int_equal(h->unicode_locale_id, 1033);
        assert_int_equal(h->unicode_comparison_style, 196609);
        assert_int_equal(h->software_vendor_id, 4608);
        assert_int_equal(h->software_major, 16);
        assert_int_equal(h->software_build, 1000);
        assert_int_equal(h->first_lsn, want.first_lsn);
        assert_int_equal(h->last_lsn, specs[i]->log_lsn + specs[i]->log_len + 1);
        assert_int_equal(h->checkpoint_lsn, want.checkpoint_lsn);
        assert_int_equal(h->database_backup_lsn, 4242);
        assert_int_equal(h->differential_base_lsn, want.differential_base_lsn);
        assert_memory_equal(h->binding_id, want.binding_id, 16);
        assert_memory_equal(h->family_guid, want.family_guid, 16);
        assert_memory_equal(h->recovery_fork_id, want.recovery_fork_id, 16);
        assert_false(h->backup_set_guid[0] == 0 && !memcmp(h->backup_set_guid, h->backup_set_guid + 1, 15));
        assert_true(h->backup_start_date > 0 && h->backup_finish_date >= h->backup_start_date);
        assert_int_equal(h->compression, 0);
        assert_int_equal(h->page_count, (uint64_t)specs[i]->pages);
        assert_int_equal(h->log_bytes, specs[i]->log_len);
        assert_int_equal(h->mark_count, (uint64_t)specs[i]->marks);
        assert_int_equal(h->commit_count, (uint64_t)specs[i]->commits);
        assert_int_equal(h->log_stream_first, specs[i]->log_lsn);
        assert_int_equal(h->log_stream_end, specs[i]->log_lsn + specs[i]->log_len +
                                                (specs[i]->log_gap_at ? 4096 : 0));
        assert_int_equal(h->compressed_backup_size % MEDIA_ALIGN, 0);
        assert_int_equal(h->backup_size, h->compressed_backup_size);  /* uncompressed */
        off += h->compressed_backup_size;

        size_t n;
        const media_file_entry *f = media_set_files(r, i + 1, &n);
        assert_int_equal(n, 3);
        assert_string_equal(f[0].logical_name, "sales");
        assert_string_equal(f[0].physical_name, "/data/sales.mdf");
        assert_string_equal(f[0].filegroup_name, "PRIMARY");
        assert_int_equal(f[0].type, 'D');
        assert_int_equal(f[0].file_id, 1);
        assert_int_equal(f[0].filegroup_id, 1);
        assert_int_equal(f[0].size, 8u << 20);
        assert_int_equal(f[0].max_size, 1u << 30);
        assert_int_equal(f[0].unique_id[0], 0x11);
        assert_int_equal(f[0].source_block_size, 4096);
        assert_int_equal(f[1].create_lsn, 70000);
        assert_string_equal(f[2].filegroup_name, "");
        assert_int_equal(f[2].type, 'L');
        /* BackupSizeInBytes: pages alternate between files 1 and 3 */
        assert_int_equal(f[0].backup_size, (uint64_t)((specs[i]->pages + 1) / 2) * PAGE_SIZE);
        assert_int_equal(f[1].backup_size, (uint64_t)(specs[i]->pages / 2) * PAGE_SIZE);
        assert_int_equal(f[2].backup_size, specs[i]->log_len);
    }
    assert_int_equal(off, fsize(path));

    for (int i = 0; i < 3; i++)
        check_set(r, i + 1, specs[i]);
    int pages = 0;
    assert_int_equal(media_verify(r, 1, count_pages, &pages, &e), 0);
    assert_int_equal(pages, FULL.pages);

    /* FILE = n that does not exist */
    assert_null(media_set_at(r, 4));
    assert_null(media_set_at(r, 0));
    assert_null(media_cursor_open(r, 4, &e));
    assert_int_equal(e.number, 4038);
    assert_non_null(strstr(e.msg, "Cannot find file ID 4 on device"));
    assert_null(media_cursor_open(r, 0, &e));
    assert_int_equal(e.number, 4038);
    assert_int_equal(media_verify(r, 7, NULL, NULL, &e), -1);
    assert_int_equal(e.number, 4038);

    /* streams of one cursor can be read in any order, each from its start */
    media_cursor *c = media_cursor_open(r, 3, &e);
    media_commit *cm;
    size_t nc;
    assert_int_equal(media_read_commits(c, &cm, &nc, &e), 0);
    free(cm);
    media_log_chunk ch;
    assert_int_equal(media_next_log(c, &ch, &e), 1);
    assert_int_equal(ch.lsn, LOG.log_lsn);
    media_page pg;
    assert_int_equal(media_next_page(c, &pg, &e), 0);  /* a log backup has no pages */
    media_cursor_close(c);
    media_close(r);
}

/* NOINIT appends, INIT keeps the media header, FORMAT writes a new one. */
static void init_noinit_format(void **state)
{
    (void)state;
    char path[128];
    newpath(path, sizeof path, "modes");
    set_spec small = { .pages = 3, .seed = 9, .log_lsn = 8192, .log_len = 1000 };
    /* a missing file gets a media header even with NOINIT */
    assert_int_equal(write_ok(path, MEDIA_NOINIT, 0, MEDIA_TYPE_DATABASE, "a", &small), 1);
    assert_int_equal(write_ok(path, MEDIA_NOINIT, 0, MEDIA_TYPE_LOG, "b", &small), 2);
    assert_int_equal(write_ok(path, MEDIA_NOINIT, 0, MEDIA_TYPE_LOG, "c", &small), 3);
    media_reader *r = open_ok(path);
    media_header first = *media_label(r);
    assert_int_equal(media_set_count(r), 3);
    assert_string_equal(media_set_at(r, 2)->name, "b");
    media_close(r);
    uint64_t three = fsize(path);

    /* INIT: every set replaced, media header kept (even if opts name another) */
    media_write_opts o = { .mode = MEDIA_INIT, .media_name = "ignored" };
    hdb_err e = {0};
    assert_int_equal(write_set_opts(path, &o, MEDIA_TYPE_DATABASE, "d", &small, &e), 1);
    r = open_ok(path);
    assert_int_equal(media_set_count(r), 1);
    assert_int_equal(media_tail_error(r, &e), 0);
    assert_string_equal(media_set_at(r, 1)->name, "d");
    assert_memory_equal(media_label(r)->media_set_guid, first.media_set_guid, 16);
    assert_string_equal(media_label(r)->name, "nightly");
    assert_int_equal(media_label(r)->media_date, first.media_date);
    check_set(r, 1, &small);
    media_close(r);
    assert_true(fsize(path) < three);

    /* FORMAT: a new media set */
    o = (media_write_opts){ .mode = MEDIA_FORMAT, .media_name = "weekly",
                            .media_description = "weekly media" };
    assert_int_equal(write_set_opts(path, &o, MEDIA_TYPE_DATABASE, "e", &small, &e), 1);
    assert_int_equal(write_ok(path, MEDIA_NOINIT, 0, MEDIA_TYPE_LOG, "f", &small), 2);
    r = open_ok(path);
    assert_int_equal(media_set_count(r), 2);
    assert_string_equal(media_label(r)->name, "weekly");
    assert_string_equal(media_label(r)->description, "weekly media");
    assert_memory_not_equal(media_label(r)->media_set_guid, first.media_set_guid, 16);
    assert_string_equal(media_set_at(r, 1)->name, "e");
    assert_string_equal(media_set_at(r, 2)->name, "f");
    media_close(r);

    /* not media at all: NOINIT and INIT refuse, FORMAT takes it over */
    char junk[128];
    newpath(junk, sizeof junk, "junk");
    uint8_t noise[10000];
    for (size_t i = 0; i < sizeof noise; i++)
        noise[i] = (uint8_t)(i * 7 + 3);
    spit(junk, noise, sizeof noise);
    assert_int_equal(write_set(junk, MEDIA_NOINIT, 0, MEDIA_TYPE_DATABASE, "x", &small, &e), -1);
    assert_int_equal(e.number, 3241);
    assert_int_equal(write_set(junk, MEDIA_INIT, 0, MEDIA_TYPE_DATABASE, "x", &small, &e), -1);
    assert_int_equal(e.number, 3241);
    assert_same_file(junk, noise, sizeof noise);
    assert_int_equal(write_ok(junk, MEDIA_FORMAT, 0, MEDIA_TYPE_DATABASE, "x", &small), 1);
    r = open_ok(junk);
    assert_int_equal(media_set_count(r), 1);
    assert_int_equal(media_tail_error(r, &e), 0);
    media_close(r);

    /* an empty file gets a header */
    char empty[128];
    newpath(empty, sizeof empty, "empty");
    spit(empty, "", 0);
    assert_int_equal(write_ok(empty, MEDIA_NOINIT, 0, MEDIA_TYPE_DATABASE, "y", &small), 1);
}

/* COMPRESSION: smaller on the media, same bytes back. */
static void compression_round_trip(void **state)
{
    (void)state;
    char path[128];
    newpath(path, sizeof path, "zstd");
    set_spec sparse = { .pages = 400, .seed = 5, .sparse = 1, .log_lsn = 8192,
                        .log_len = 300000, .marks = 2, .commits = 100 };
    set_spec dense = { .pages = 200, .seed = 6 };
    assert_int_equal(write_ok(path, MEDIA_FORMAT, MEDIA_COMPRESS_NONE, MEDIA_TYPE_DATABASE, "plain",
                              &sparse), 1);
    assert_int_equal(write_ok(path, MEDIA_NOINIT, MEDIA_COMPRESS_ZSTD, MEDIA_TYPE_DATABASE, "packed",
                              &sparse), 2);
    assert_int_equal(write_ok(path, MEDIA_NOINIT, MEDIA_COMPRESS_ZSTD, MEDIA_TYPE_DATABASE, "random",
                              &dense), 3);
    media_reader *r = open_ok(path);
    const media_set_header *plain = media_set_at(r, 1), *packed = media_set_at(r, 2),
                           *rnd = media_set_at(r, 3);
    assert_int_equal(plain->compression, MEDIA_COMPRESS_NONE);
    assert_int_equal(packed->compression, MEDIA_COMPRESS_ZSTD);
    assert_true(packed->compressed_backup_size * 4 < plain->compressed_backup_size);
    assert_true(packed->compressed_backup_size < packed->backup_size);
    /* BackupSize is the uncompressed size: equal but for the padding */
    assert_true(packed->backup_size + MEDIA_ALIGN > plain->backup_size &&
                packed->backup_size < plain->backup_size + MEDIA_ALIGN);
    /* random pages do not shrink: stored as they are, never larger */
    assert_true(rnd->compressed_backup_size <= rnd->backup_size);
    assert_true(rnd->compressed_backup_size > (uint64_t)dense.pages * PAGE_SIZE);
    check_set(r, 1, &sparse);
    check_set(r, 2, &sparse);
    check_set(r, 3, &dense);
    uint64_t start2 = MEDIA_ALIGN + plain->compressed_backup_size;
    media_close(r);

    /* damage inside a compressed block */
    media_file_entry files[3];
    make_files(files);
    uint64_t block = start2 + media_set_header_len(files, 3);
    flip(path, block + MEDIA_BLOCK_HDR + 500);
    r = open_ok(path);
    hdb_err e = {0};
    assert_int_equal(media_set_count(r), 3);
    assert_int_equal(media_verify(r, 2, NULL, NULL, &e), -1);
    assert_int_equal(e.number, 3189);
    assert_int_equal(e.state, ST_BLOCK_CRC);
    media_cursor *c = media_cursor_open(r, 2, &e);
    media_page pg;
    assert_int_equal(media_next_page(c, &pg, &e), -1);
    assert_int_equal(e.number, 3189);
    media_cursor_close(c);
    assert_int_equal(media_verify(r, 1, NULL, NULL, &e), 0);
    assert_int_equal(media_verify(r, 3, NULL, NULL, &e), 0);
    media_close(r);
}

/* Builds full + diff + log on `path`; returns the three sets' start offsets. */
static void three_sets(const char *path, uint64_t start[4])
{
    write_ok(path, MEDIA_FORMAT, 0, MEDIA_TYPE_DATABASE, "full", &FULL);
    write_ok(path, MEDIA_NOINIT, 0, MEDIA_TYPE_DIFF_DATABASE, "diff", &DIFF);
    write_ok(path, MEDIA_NOINIT, 0, MEDIA_TYPE_LOG, "log", &LOG);
    media_reader *r = open_ok(path);
    start[0] = MEDIA_ALIGN;
    for (int i = 0; i < 3; i++)
        start[i + 1] = start[i] + media_set_at(r, i + 1)->compressed_backup_size;
    media_close(r);
}

static void expect_open_error(const char *path, int number, int state)
{
    hdb_err e = {0};
    media_reader *r = media_open(path, &e);
    assert_null(r);
    assert_int_equal(e.number, number);
    if (state)
        assert_int_equal(e.state, state);
}

/* After damage: `valid` sets listed, then the tail error; earlier sets fine. */
static void expect_tail(const char *path, int valid, int number, int state)
{
    media_reader *r = open_ok(path);
    hdb_err e = {0};
    assert_int_equal(media_set_count(r), valid);
    assert_int_equal(media_tail_error(r, &e), -1);
    assert_int_equal(e.number, number);
    assert_int_equal(e.state, state);
    assert_null(media_cursor_open(r, valid + 1, &e));
    assert_int_equal(e.number, number);
    assert_null(media_cursor_open(r, valid + 2, &e));
    assert_int_equal(e.number, 4038);
    if (valid >= 1)
        check_set(r, 1, &FULL);
    if (valid >= 2)
        check_set(r, 2, &DIFF);
    media_close(r);
}

/* Every kind of damage is caught, with the error that names it. */
static void corruption_detected(void **state)
{
    (void)state;
    char base[128], p[128];
    uint64_t start[4];
    newpath(base, sizeof base, "base");
    three_sets(base, start);
    media_file_entry files[3];
    make_files(files);
    uint32_t H = media_set_header_len(files, 3);
    hdb_err e = {0};

    /* media header: a flipped byte, a newer version, a different magic */
    newpath(p, sizeof p, "c");
    copy_file(base, p);
    flip(p, 100);
    expect_open_error(p, 3241, ST_MEDIA_CRC);
    copy_file(base, p);
    flip(p, 4);
    expect_open_error(p, 3241, ST_MEDIA_VERSION);
    copy_file(base, p);
    flip(p, 0);
    expect_open_error(p, 3241, ST_MEDIA_MAGIC);

    /* a page inside set 1: listing is fine, reading or verifying set 1 is not */
    copy_file(base, p);
    flip(p, start[0] + H + MEDIA_BLOCK_HDR + 3 * MEDIA_PAGE_REC + 77);
    media_reader *r = open_ok(p);
    assert_int_equal(media_set_count(r), 3);
    assert_int_equal(media_tail_error(r, &e), 0);
    assert_int_equal(media_verify(r, 1, NULL, NULL, &e), -1);
    assert_int_equal(e.number, 3189);
    assert_int_equal(e.state, ST_BLOCK_CRC);
    assert_string_equal(e.msg, "Damage to the backup set was detected.");
    media_cursor *c = media_cursor_open(r, 1, &e);
    media_page pg;
    assert_int_equal(media_next_page(c, &pg, &e), -1);
    assert_int_equal(e.number, 3189);
    media_cursor_close(c);
    check_set(r, 2, &DIFF);
    check_set(r, 3, &LOG);
    media_close(r);

    /* a block header (its block number) */
    copy_file(base, p);
    flip(p, start[0] + H + 12);
    r = open_ok(p);
    assert_int_equal(media_verify(r, 1, NULL, NULL, &e), -1);
    assert_int_equal(e.number, 3189);
    assert_int_equal(e.state, ST_BLOCK_HEADER);
    media_close(r);

    /* set 3's log stream: its marks and commits are in other blocks */
    copy_file(base, p);
    flip(p, start[2] + H + MEDIA_BLOCK_HDR + 5000);
    r = open_ok(p);
    assert_int_equal(media_verify(r, 3, NULL, NULL, &e), -1);
    assert_int_equal(e.number, 3189);
    c = media_cursor_open(r, 3, &e);
    media_mark *marks;
    size_t nm;
    assert_int_equal(media_read_marks(c, &marks, &nm, &e), 0);
    assert_int_equal(nm, 3);
    free(marks);
    media_cursor_close(c);
    media_close(r);

    /* set 2's header: set 1 stays, 2 and what follows are out of reach */
    copy_file(base, p);
    flip(p, start[1] + 150);
    expect_tail(p, 1, 3189, ST_SET_CRC);

    /* set 3's trailer */
    copy_file(base, p);
    flip(p, start[3] - MEDIA_TRAILER + 20);
    expect_tail(p, 2, 3189, ST_SET_TRAILER);

    /* the file cut in the middle of set 3, of set 2's header, of set 1 */
    copy_file(base, p);
    cut(p, start[2] + H + 5000);
    expect_tail(p, 2, 3189, ST_SET_TRUNCATED);
    copy_file(base, p);
    cut(p, start[1] + 100);
    expect_tail(p, 1, 3189, ST_SET_TRUNCATED);
    copy_file(base, p);
    cut(p, start[0] + H + 100000);
    expect_tail(p, 0, 3189, ST_SET_TRUNCATED);
    /* ... and NOINIT will not write after damage */
    assert_int_equal(write_set(p, MEDIA_NOINIT, 0, MEDIA_TYPE_LOG, "z", &DIFF, &e), -1);
    assert_int_equal(e.number, 3266);
    assert_int_equal(fsize(p), start[0] + H + 100000);

    /* garbage after the last set */
    copy_file(base, p);
    {
        FILE *f = fopen(p, "ab");
        fputs("this is not a backup set", f);
        fclose(f);
    }
    expect_tail(p, 3, 3241, ST_TAIL_NOT_SET);

    /* not media at all: random bytes, too short, empty */
    uint8_t noise[20000];
    for (size_t i = 0; i < sizeof noise; i++)
        noise[i] = (uint8_t)(i * 131 + (i >> 5));
    spit(p, noise, sizeof noise);
    expect_open_error(p, 3241, ST_MEDIA_MAGIC);
    spit(p, noise, 100);
    expect_open_error(p, 3241, ST_MEDIA_SHORT);
    hdb_err e2 = {0};
    assert_null(media_open(p, &e2));
    assert_non_null(strstr(e2.msg, p));
    assert_non_null(strstr(e2.msg, "is incorrectly formed"));
    spit(p, noise, 0);
    expect_open_error(p, 3254, 0);
    expect_open_error("/nonexistent/dir/x.bak", 5120, 0);
}

/* A crash during BACKUP leaves a set that is reported unfinished, never valid;
 * the next NOINIT takes its place. */
static void unfinished_set(void **state)
{
    (void)state;
    char path[128], crash[128];
    newpath(path, sizeof path, "crash");
    newpath(crash, sizeof crash, "crashed");
    write_ok(path, MEDIA_FORMAT, 0, MEDIA_TYPE_DATABASE, "full", &FULL);
    write_ok(path, MEDIA_NOINIT, 0, MEDIA_TYPE_DIFF_DATABASE, "diff", &DIFF);

    /* the file as a crash would leave it: header IN PROGRESS, some blocks */
    hdb_err e = {0};
    media_file_entry files[3];
    make_files(files);
    media_set_header h = make_hdr(MEDIA_TYPE_LOG, "never finished");
    media_write_opts o = { .mode = MEDIA_NOINIT };
    media_writer *w = media_write_begin(path, &o, &h, files, 3, &e);
    assert_non_null(w);
    uint8_t page[PAGE_SIZE];
    for (uint32_t i = 0; i < 400; i++) {
        gen_page(page, 1, i, 3);
        assert_int_equal(media_write_page(w, 1, i, page, &e), 0);
    }
    assert_true(media_writer_bytes(w) > 2 * MEDIA_BLOCK_RAW);
    copy_file(path, crash);
    assert_int_equal(media_write_abort(w, &e), 0);

    media_reader *r = open_ok(crash);
    assert_int_equal(media_set_count(r), 2);
    assert_int_equal(media_tail_error(r, &e), -1);
    assert_int_equal(e.number, 3256);
    assert_non_null(strstr(e.msg, "terminated while it was being created"));
    assert_null(media_set_at(r, 3));
    assert_null(media_cursor_open(r, 3, &e));
    assert_int_equal(e.number, 3256);
    assert_int_equal(media_verify(r, 3, NULL, NULL, &e), -1);
    assert_int_equal(e.number, 3256);
    check_set(r, 1, &FULL);
    check_set(r, 2, &DIFF);
    media_close(r);

    assert_int_equal(write_ok(crash, MEDIA_NOINIT, 0, MEDIA_TYPE_LOG, "log", &LOG), 3);
    r = open_ok(crash);
    assert_int_equal(media_set_count(r), 3);
    assert_int_equal(media_tail_error(r, &e), 0);
    check_set(r, 3, &LOG);
    media_close(r);

    /* a crash during the final header write: torn, so its checksum fails */
    uint64_t start3 = fsize(path);
    fault_rule tr = { .path_contains = path, .ops = FIO_OP_WRITE, .offset_lo = start3,
                      .offset_hi = start3 + 1, .nth = 2, .action = FAULT_TORN };
    int id = fault_add(&tr);
    assert_int_equal(write_ok(path, MEDIA_NOINIT, 0, MEDIA_TYPE_LOG, "torn", &LOG), 3);
    assert_int_equal(fault_fired(id), 1);
    fault_remove(id);
    expect_tail(path, 2, 3189, ST_SET_CRC);
    assert_int_equal(write_set(path, MEDIA_NOINIT, 0, MEDIA_TYPE_LOG, "after", &DIFF, &e), -1);
    assert_int_equal(e.number, 3266);
    assert_non_null(strstr(e.msg, "incorrectly formatted"));
    assert_int_equal(write_ok(path, MEDIA_INIT, 0, MEDIA_TYPE_DATABASE, "fresh", &DIFF), 1);
}

/* Abort (and a failed finish) leave the media as it was. */
static void abort_restores_media(void **state)
{
    (void)state;
    char path[128];
    newpath(path, sizeof path, "abort");
    write_ok(path, MEDIA_FORMAT, 0, MEDIA_TYPE_DATABASE, "full", &FULL);
    write_ok(path, MEDIA_NOINIT, 0, MEDIA_TYPE_LOG, "log", &LOG);
    size_t n;
    uint8_t *before = slurp(path, &n);

    hdb_err e = {0};
    media_file_entry files[3];
    make_files(files);
    media_set_header h = make_hdr(MEDIA_TYPE_DATABASE, "given up");
    media_write_opts o = { .mode = MEDIA_NOINIT, .compression = MEDIA_COMPRESS_ZSTD };
    media_writer *w = media_write_begin(path, &o, &h, files, 3, &e);
    assert_non_null(w);
    assert_int_equal(media_writer_header(w)->position, 3);
    uint8_t page[PAGE_SIZE];
    for (uint32_t i = 0; i < 500; i++) {
        gen_page(page, 1, i, 4);
        assert_int_equal(media_write_page(w, 1, i, page, &e), 0);
    }
    assert_true(fsize(path) > n);
    assert_int_equal(media_write_abort(w, &e), 0);
    assert_same_file(path, before, n);

    w = media_write_begin(path, &o, &h, files, 3, &e);
    assert_non_null(w);
    assert_int_equal(media_write_abort(w, &e), 0);
    assert_same_file(path, before, n);

    /* INIT gave the old sets up when it began: the header stays, no set */
    media_reader *r = open_ok(path);
    media_header label = *media_label(r);
    media_close(r);
    o.mode = MEDIA_INIT;
    w = media_write_begin(path, &o, &h, files, 3, &e);
    assert_non_null(w);
    assert_int_equal(media_write_abort(w, &e), 0);
    r = open_ok(path);
    assert_int_equal(media_set_count(r), 0);
    assert_int_equal(media_tail_error(r, &e), 0);
    assert_memory_equal(media_label(r)->media_set_guid, label.media_set_guid, 16);
    media_close(r);
    assert_int_equal(fsize(path), MEDIA_ALIGN);
    free(before);
}

/* Disk full and I/O errors come back as fio's errors and change nothing. */
static void injected_faults(void **state)
{
    (void)state;
    char path[128];
    newpath(path, sizeof path, "faults");
    write_ok(path, MEDIA_FORMAT, 0, MEDIA_TYPE_DATABASE, "full", &FULL);
    size_t n;
    uint8_t *before = slurp(path, &n);
    hdb_err e = {0};

    /* ENOSPC on the 4th block */
    fault_rule full = { .path_contains = path, .ops = FIO_OP_WRITE, .nth = 5,
                        .action = FAULT_ENOSPC };
    int id = fault_add(&full);
    media_file_entry files[3];
    make_files(files);
    media_set_header h = make_hdr(MEDIA_TYPE_DATABASE, "disk full");
    media_write_opts o = { .mode = MEDIA_NOINIT };
    media_writer *w = media_write_begin(path, &o, &h, files, 3, &e);
    assert_non_null(w);
    uint8_t page[PAGE_SIZE];
    int rc = 0;
    for (uint32_t i = 0; i < 1000 && rc == 0; i++) {
        gen_page(page, 1, i, 7);
        rc = media_write_page(w, 1, i, page, &e);
    }
    assert_int_equal(rc, -1);
    assert_int_equal(e.number, 823);
    assert_int_equal(fio_last_errno(), ENOSPC);
    assert_int_equal(fault_fired(id), 1);
    fault_remove(id);
    gen_page(page, 1, 0, 7);
    assert_int_equal(media_write_page(w, 1, 0, page, &e), -1);  /* only abort now */
    assert_int_equal(e.number, 3270);
    assert_int_equal(media_write_abort(w, &e), 0);
    assert_same_file(path, before, n);

    /* ENOSPC on the very first write (the set header) */
    full.nth = 1;
    id = fault_add(&full);
    assert_int_equal(write_set(path, MEDIA_NOINIT, 0, MEDIA_TYPE_LOG, "x", &DIFF, &e), -1);
    assert_int_equal(e.number, 823);
    fault_remove(id);
    assert_same_file(path, before, n);

    /* fdatasync fails in finish: the set is withdrawn */
    fault_rule sync = { .path_contains = path, .ops = FIO_OP_SYNC, .nth = 2, .action = FAULT_EIO };
    id = fault_add(&sync);
    assert_int_equal(write_set(path, MEDIA_NOINIT, 0, MEDIA_TYPE_LOG, "x", &DIFF, &e), -1);
    assert_int_equal(e.number, 823);
    assert_int_equal(fault_fired(id), 1);
    fault_remove(id);
    assert_same_file(path, before, n);

    /* EIO while reading a block */
    media_reader *r = open_ok(path);
    fault_rule eio = { .path_contains = path, .ops = FIO_OP_READ, .action = FAULT_EIO };
    id = fault_add(&eio);
    media_cursor *c = media_cursor_open(r, 1, &e);
    assert_non_null(c);
    media_page pg;
    assert_int_equal(media_next_page(c, &pg, &e), -1);
    assert_int_equal(e.number, 823);
    assert_int_equal(fio_last_errno(), EIO);
    media_cursor_close(c);
    fault_remove(id);

    /* a bit flipped on the way from the disk */
    fault_rule bad = { .path_contains = path, .ops = FIO_OP_READ, .offset_lo = MEDIA_ALIGN * 4,
                       .offset_hi = MEDIA_ALIGN * 1000, .action = FAULT_CORRUPT };
    id = fault_add(&bad);
    assert_int_equal(media_verify(r, 1, NULL, NULL, &e), -1);
    assert_int_equal(e.number, 3189);
    fault_remove(id);
    assert_int_equal(media_verify(r, 1, NULL, NULL, &e), 0);
    media_close(r);

    /* EIO reading the media header */
    id = fault_add(&eio);
    expect_open_error(path, 823, 0);
    fault_remove(id);
    free(before);
}

/* Calls out of order are refused (3270), so the sections stay readable. */
static void api_misuse(void **state)
{
    (void)state;
    char path[128];
    newpath(path, sizeof path, "misuse");
    hdb_err e = {0};
    media_set_header h = make_hdr(MEDIA_TYPE_LOG, "order");
    media_write_opts o = { .mode = MEDIA_FORMAT };
    media_writer *w = media_write_begin(path, &o, &h, NULL, 0, &e);
    assert_non_null(w);
    uint8_t bytes[100] = {1};
    uint8_t page[PAGE_SIZE] = {0};
    assert_int_equal(media_write_log(w, 1000, bytes, sizeof bytes, &e), 0);
    assert_int_equal(media_write_log(w, 1050, bytes, sizeof bytes, &e), -1);  /* backwards */
    assert_int_equal(e.number, 3270);
    assert_int_equal(media_write_log(w, 1100, bytes, sizeof bytes, &e), 0);  /* continues */
    assert_int_equal(media_write_log(w, 1300, bytes, sizeof bytes, &e), 0);  /* a gap */
    assert_int_equal(media_write_commit(w, 1100, 5, &e), 0);
    assert_int_equal(media_write_log(w, 2000, bytes, sizeof bytes, &e), -1);
    assert_int_equal(e.number, 3270);
    assert_int_equal(media_write_page(w, 1, 1, page, &e), -1);
    assert_int_equal(media_write_finish(w, &e), 0);

    media_reader *r = open_ok(path);
    assert_int_equal(media_set_count(r), 1);
    size_t nf;
    assert_null(media_set_files(r, 1, &nf));
    assert_int_equal(nf, 0);
    media_cursor *c = media_cursor_open(r, 1, &e);
    media_log_chunk ch;
    assert_int_equal(media_next_log(c, &ch, &e), 1);
    assert_int_equal(ch.lsn, 1000);
    assert_int_equal(ch.len, 200);
    assert_int_equal(media_next_log(c, &ch, &e), 1);
    assert_int_equal(ch.lsn, 1300);
    assert_int_equal(ch.len, 100);
    assert_int_equal(media_next_log(c, &ch, &e), 0);
    media_cursor_close(c);
    assert_int_equal(media_verify(r, 1, NULL, NULL, &e), 0);
    media_close(r);

    o.compression = 7;
    assert_null(media_write_begin(path, &o, &h, NULL, 0, &e));
    assert_int_equal(e.number, 3270);
    o.compression = 0;
    o.mode = (media_mode)9;
    assert_null(media_write_begin(path, &o, &h, NULL, 0, &e));
    assert_int_equal(e.number, 3270);
}

/* 64 MiB of pages streamed through 1 MiB blocks and read back. */
static void large_stream(void **state)
{
    (void)state;
    char path[128];
    newpath(path, sizeof path, "large");
    enum { PAGES = 8192 };
    hdb_err e = {0};
    media_file_entry files[3];
    make_files(files);
    media_set_header h = make_hdr(MEDIA_TYPE_DATABASE, "large");
    media_write_opts o = { .mode = MEDIA_FORMAT };
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    media_writer *w = media_write_begin(path, &o, &h, files, 3, &e);
    assert_non_null(w);
    uint8_t *page = malloc(PAGE_SIZE);
    for (uint32_t i = 0; i < PAGES; i++) {
        gen_page(page, 1, i, 11);
        assert_int_equal(media_write_page(w, 1, i, page, &e), 0);
    }
    assert_int_equal(media_write_finish(w, &e), 0);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    uint64_t size = fsize(path);
    assert_true(size > (uint64_t)PAGES * PAGE_SIZE);
    assert_true(size < (uint64_t)PAGES * PAGE_SIZE + (1u << 20));
    printf("      large stream: %.0f MiB written and synced in %.2f s (%.0f MiB/s, page generation included)\n",
           (double)size / (1 << 20), secs, (double)size / (1 << 20) / secs);

    media_reader *r = open_ok(path);
    assert_int_equal(media_set_at(r, 1)->page_count, PAGES);
    media_cursor *c = media_cursor_open(r, 1, &e);
    media_page pg;
    uint32_t i = 0;
    int rc;
    while ((rc = media_next_page(c, &pg, &e)) > 0) {
        gen_page(page, 1, i, 11);
        assert_int_equal(pg.page_no, i);
        assert_memory_equal(pg.image, page, PAGE_SIZE);
        i++;
    }
    assert_int_equal(rc, 0);
    assert_int_equal(i, PAGES);
    media_cursor_close(c);
    int pages = 0;
    assert_int_equal(media_verify(r, 1, count_pages, &pages, &e), 0);
    assert_int_equal(pages, PAGES);
    media_close(r);
    free(page);
}

/* A page callback that refuses stops VERIFYONLY with its own error. */
static int refuse_page(void *ctx, const media_page *pg, hdb_err *err)
{
    (void)ctx;
    if (pg->page_no == 13)
        return hdb_raise_text(err, 3183, 16, 1, "RESTORE detected an error on page (3:13)");
    return 0;
}

static void verify_page_callback(void **state)
{
    (void)state;
    char path[128];
    newpath(path, sizeof path, "cb");
    write_ok(path, MEDIA_FORMAT, 0, MEDIA_TYPE_DATABASE, "full", &FULL);
    media_reader *r = open_ok(path);
    hdb_err e = {0};
    assert_int_equal(media_verify(r, 1, refuse_page, NULL, &e), -1);
    assert_int_equal(e.number, 3183);
    media_close(r);
}

/* Every byte of a media is under some check: flip any one and opening,
 * listing or verifying the sets notices. */
static void every_byte_is_checked(void **state)
{
    (void)state;
    char path[128];
    newpath(path, sizeof path, "sweep");
    set_spec a = { .pages = 5, .seed = 21, .log_lsn = 8192, .log_len = 3000, .marks = 2,
                   .commits = 7 };
    set_spec b = { .pages = 9, .seed = 22, .sparse = 1, .log_lsn = 20000, .log_len = 900 };
    write_ok(path, MEDIA_FORMAT, 0, MEDIA_TYPE_DATABASE, "a", &a);
    write_ok(path, MEDIA_NOINIT, MEDIA_COMPRESS_ZSTD, MEDIA_TYPE_DATABASE, "b", &b);
    uint64_t size = fsize(path);
    int missed = 0, tried = 0;
    for (uint64_t off = 0; off < size; off += off < 16384 ? 37 : 211) {
        flip(path, off);
        hdb_err e = {0};
        media_reader *r = media_open(path, &e);
        int intact = r && media_set_count(r) == 2 && media_tail_error(r, &e) == 0 &&
                     media_verify(r, 1, NULL, NULL, &e) == 0 &&
                     media_verify(r, 2, NULL, NULL, &e) == 0;
        media_close(r);
        if (intact) {
            printf("      flipped byte at %llu went unnoticed\n", (unsigned long long)off);
            missed++;
        }
        tried++;
        flip(path, off);  /* put it back */
    }
    assert_true(tried > 400);
    assert_int_equal(missed, 0);
    media_reader *r = open_ok(path);
    check_set(r, 1, &a);
    check_set(r, 2, &b);
    media_close(r);
}

/* ExpirationDate travels in the set header, and INIT's NOSKIP check finds
 * the first set not yet expired (sets without a date never block). */
static void expiration_dates(void **state)
{
    (void)state;
    char path[128];
    newpath(path, sizeof path, "expiry");
    set_spec small = { .pages = 2, .seed = 4, .log_lsn = 8192, .log_len = 500 };
    const int64_t now = 1700000000000000, later = now + 7 * 86400000000LL;
    next_expiration = 0;
    assert_int_equal(write_ok(path, MEDIA_NOINIT, 0, MEDIA_TYPE_DATABASE, "none", &small), 1);
    next_expiration = now - 1;
    assert_int_equal(write_ok(path, MEDIA_NOINIT, 0, MEDIA_TYPE_LOG, "past", &small), 2);
    media_reader *r = open_ok(path);
    assert_int_equal(media_set_at(r, 1)->expiration_date, 0);
    assert_int_equal(media_set_at(r, 2)->expiration_date, now - 1);
    assert_int_equal(media_first_unexpired(r, now), 0);
    media_close(r);
    next_expiration = later;
    assert_int_equal(write_ok(path, MEDIA_NOINIT, 0, MEDIA_TYPE_LOG, "week", &small), 3);
    next_expiration = later + 1;
    assert_int_equal(write_ok(path, MEDIA_NOINIT, 0, MEDIA_TYPE_LOG, "week+", &small), 4);
    next_expiration = 0;
    r = open_ok(path);
    assert_int_equal(media_set_at(r, 3)->expiration_date, later);
    assert_int_equal(media_first_unexpired(r, now), 3);
    assert_int_equal(media_first_unexpired(r, later - 1), 3);
    assert_int_equal(media_first_unexpired(r, later), 4);      /* expired at its date */
    assert_int_equal(media_first_unexpired(r, later + 1), 0);
    media_close(r);
    /* INIT itself does not look (the caller decides): the sets are replaced */
    assert_int_equal(write_ok(path, MEDIA_INIT, 0, MEDIA_TYPE_DATABASE, "new", &small), 1);
    r = open_ok(path);
    assert_int_equal(media_set_count(r), 1);
    assert_int_equal(media_first_unexpired(r, now), 0);
    media_close(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(round_trip_three_sets),
        cmocka_unit_test(init_noinit_format),
        cmocka_unit_test(expiration_dates),
        cmocka_unit_test(compression_round_trip),
        cmocka_unit_test(corruption_detected),
        cmocka_unit_test(unfinished_set),
        cmocka_unit_test(abort_restores_media),
        cmocka_unit_test(injected_faults),
        cmocka_unit_test(api_misuse),
        cmocka_unit_test(large_stream),
        cmocka_unit_test(verify_page_callback),
        cmocka_unit_test(every_byte_is_checked),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
