/*
 * standby.c — the STANDBY undo file (see standby.h, backup/README.md).
 *
 * Undo file (little-endian):
 *   [0, 4096)    header: "HDBU", u16 version 1, u8 state (1 in progress,
 *                2 complete), u8 0, database GUID[16], u64 redo LSN (the end
 *                of redo = the pointer's restore floor), u64 image count,
 *                u32 database id, name[132]; zeros; u32 CRC-32C of [0, 4092)
 *   then images: u64 page id, u32 index, u32 CRC-32C of (those 12 bytes and
 *                the page), the 8192-byte page as it was at the end of redo
 *
 * Each image is written and fdatasync'd before undo's change to that page is
 * logged, so a page the buffer pool writes back always has its image on disk
 * first. "In progress" is only ever seen after a crash during undo; then the
 * intact images are exactly the pages undo may have changed.
 */
#include "backup/standby.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log/mtr.h"
#include "os/fio.h"
#include "util/crc32c.h"

#define U_MAGIC 0x55424448u   /* "HDBU" */
#define U_VERSION 1
#define U_HDR 4096
#define U_REC_HDR 16
#define U_REC (U_REC_HDR + PAGE_SIZE)
enum { U_IN_PROGRESS = 1, U_COMPLETE = 2 };

struct standby_capture {
    database *db;
    fio_file *f;
    char      path[PATH_MAX];
    lsn_t     redo;
    uint64_t  count;
    pgid_t   *seen;            /* open addressing; 0 = empty (page 0:0 is never a data page id) */
    size_t    cap;
    uint8_t   rec[U_REC];
};

static int fail_undo(hdb_err *err, const char *db, const char *path, const char *why)
{
    char msg[HDB_ERR_MSG_MAX];
    snprintf(msg, sizeof msg, "The standby undo file '%.300s' of database '%.128s' cannot be used: %s. The "
             "database was left as it was; restore the undo file, or restore the sequence again from its full "
             "backup.", path, db, why);
    return hdb_raise_text(err, 3441, 16, 1, msg);
}

#define PTR_MAX (PATH_MAX + 16)

static void pointer_path(char *out, const char *log_path)
{
    snprintf(out, PTR_MAX, "%s.standby", log_path);
}

static void put_header(uint8_t *h, const database *db, lsn_t redo, uint64_t count, int state)
{
    memset(h, 0, U_HDR);
    uint32_t magic = U_MAGIC, id = db->tdb.id;
    uint16_t ver = U_VERSION;
    memcpy(h, &magic, 4);
    memcpy(h + 4, &ver, 2);
    h[6] = (uint8_t)state;
    memcpy(h + 8, db->boot.guid, 16);
    memcpy(h + 24, &redo, 8);
    memcpy(h + 32, &count, 8);
    memcpy(h + 40, &id, 4);
    snprintf((char *)h + 44, 132, "%s", db->tdb.name);
    uint32_t c = crc32c(0, h, U_HDR - 4);
    memcpy(h + U_HDR - 4, &c, 4);
}

static uint32_t rec_crc(const uint8_t *rec)
{
    return crc32c(crc32c(0, rec, 12), rec + U_REC_HDR, PAGE_SIZE);
}

/* ---- capture ------------------------------------------------------------------ */

static int seen_add(standby_capture *c, pgid_t id)   /* 1 new, 0 seen, -1 no memory */
{
    if ((c->count + 1) * 2 > c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 256;
        pgid_t *n = calloc(cap, sizeof *n);
        if (!n)
            return -1;
        for (size_t i = 0; i < c->cap; i++)
            if (c->seen[i])
                for (size_t h = (size_t)(c->seen[i] * 0x9E3779B97F4A7C15ull >> 20) & (cap - 1);; h = (h + 1) & (cap - 1))
                    if (!n[h]) {
                        n[h] = c->seen[i];
                        break;
                    }
        free(c->seen);
        c->seen = n;
        c->cap = cap;
    }
    size_t h = (size_t)(id * 0x9E3779B97F4A7C15ull >> 20) & (c->cap - 1);
    for (; c->seen[h]; h = (h + 1) & (c->cap - 1))
        if (c->seen[h] == id)
            return 0;
    c->seen[h] = id;
    return 1;
}

/* The mtr watch: the first time undo changes a page, its image goes first. */
static int save_image(void *ctx, pgid_t id, const void *before, hdb_err *err)
{
    standby_capture *c = ctx;
    size_t h = c->cap ? (size_t)(id * 0x9E3779B97F4A7C15ull >> 20) & (c->cap - 1) : 0;
    for (; c->cap && c->seen[h]; h = (h + 1) & (c->cap - 1))
        if (c->seen[h] == id)
            return 0;
    uint32_t idx = (uint32_t)c->count;
    memcpy(c->rec, &id, 8);
    memcpy(c->rec + 8, &idx, 4);
    memcpy(c->rec + U_REC_HDR, before, PAGE_SIZE);
    uint32_t crc = rec_crc(c->rec);
    memcpy(c->rec + 12, &crc, 4);
    if (fio_pwrite(c->f, c->rec, U_REC, U_HDR + c->count * U_REC, err) < 0 || fio_sync(c->f, err) < 0)
        return -1;
    if (seen_add(c, id) < 0)
        return hdb_raise_text(err, 701, 19, 1, "There is insufficient system memory to run this query.");
    c->count++;
    return 0;
}

static int write_pointer(const char *log_path, const char *undo_path, hdb_err *err)
{
    char p[PTR_MAX], tmp[PTR_MAX + 8];
    pointer_path(p, log_path);
    snprintf(tmp, sizeof tmp, "%s.tmp", p);
    unlink(tmp);
    fio_file *f = fio_open(tmp, FIO_CREATE | FIO_EXCL, err);
    if (!f)
        return -1;
    int rc = fio_pwrite(f, undo_path, strlen(undo_path), 0, err);
    if (rc == 0)
        rc = fio_sync(f, err);
    fio_close(f);
    if (rc == 0 && rename(tmp, p) < 0)
        rc = hdb_raise_text(err, 3634, 16, 1, "The operating system could not rename the standby pointer file.");
    return rc < 0 ? rc : fio_sync_parent(p, err);
}

standby_capture *standby_begin(database *db, const char *undo_path, lsn_t redo_lsn, hdb_err *err)
{
    if (!undo_path || !undo_path[0] || strlen(undo_path) >= PATH_MAX - 16) {
        fail_undo(err, db->tdb.name, undo_path ? undo_path : "", "no usable file name was given");
        return NULL;
    }
    standby_capture *c = calloc(1, sizeof *c);
    if (!c) {
        hdb_raise_text(err, 701, 19, 1, "There is insufficient system memory to run this query.");
        return NULL;
    }
    c->db = db;
    c->redo = redo_lsn;
    snprintf(c->path, sizeof c->path, "%s", undo_path);
    unlink(undo_path);   /* SQL Server overwrites it too */
    if (!(c->f = fio_open(undo_path, FIO_CREATE | FIO_EXCL, err)))
        goto fail;
    put_header(c->rec, db, redo_lsn, 0, U_IN_PROGRESS);
    if (fio_pwrite(c->f, c->rec, U_HDR, 0, err) < 0 || fio_sync(c->f, err) < 0 || fio_sync_parent(undo_path, err) < 0 ||
        write_pointer(db->log_path, undo_path, err) < 0)
        goto fail;
    if (mtr_watch(db->tdb.log, save_image, c) < 0) {
        hdb_raise_text(err, 40000, 16, 1, "Too many databases being restored WITH STANDBY at once.");
        goto fail;
    }
    return c;
fail:
    if (c->f)
        fio_close(c->f);
    free(c);
    return NULL;
}

void standby_abort(standby_capture *c)
{
    if (!c)
        return;
    mtr_unwatch(c->db->tdb.log);
    fio_close(c->f);
    free(c->seen);
    free(c);
}

int standby_finish(standby_capture *c, hdb_err *err)
{
    mtr_unwatch(c->db->tdb.log);
    put_header(c->rec, c->db, c->redo, c->count, U_COMPLETE);
    int rc = fio_pwrite(c->f, c->rec, U_HDR, 0, err);
    if (rc == 0)
        rc = fio_sync(c->f, err);
    fio_close(c->f);
    c->f = NULL;
    free(c->seen);
    free(c);
    return rc;
}

/* ---- reading it back ---------------------------------------------------------- */

typedef struct undo_file {
    char      path[PATH_MAX];
    fio_file *f;
    lsn_t     redo;
    uint64_t  count;             /* intact images */
} undo_file;

static int read_pointer(const char *log_path, char *out, hdb_err *err)
{
    char p[PTR_MAX];
    pointer_path(p, log_path);
    FILE *fp = fopen(p, "rb");
    if (!fp)
        return hdb_raise_text(err, 3441, 16, 1, "The standby pointer file cannot be read.");
    size_t n = fread(out, 1, PATH_MAX - 1, fp);
    fclose(fp);
    out[n] = 0;
    return 0;
}

/* Open and check the whole undo file; nothing is written. */
static int open_undo(database *db, undo_file *u, hdb_err *err)
{
    memset(u, 0, sizeof *u);
    if (read_pointer(db->log_path, u->path, err) < 0)
        return -1;
    const char *name = db->tdb.name;
    hdb_err e;
    if (!(u->f = fio_open(u->path, FIO_RDONLY, &e)))
        return fail_undo(err, name, u->path, "it cannot be opened");
    uint8_t *buf = malloc(U_REC);
    if (!buf) {
        fio_close(u->f);
        return hdb_raise_text(err, 701, 19, 1, "There is insufficient system memory to run this query.");
    }
    const char *why = NULL;
    int64_t size = fio_size(u->f);
    lsn_t floor = 0;
    uint32_t state = log_restore_state(db->tdb.log, &floor);
    uint32_t magic, crc;
    uint16_t ver;
    uint64_t count;
    if (size < U_HDR || fio_pread(u->f, buf, U_HDR, 0, &e) < 0) {
        why = "its header cannot be read";
        goto out;
    }
    memcpy(&magic, buf, 4);
    memcpy(&ver, buf + 4, 2);
    memcpy(&crc, buf + U_HDR - 4, 4);
    memcpy(&u->redo, buf + 24, 8);
    memcpy(&count, buf + 32, 8);
    if (magic != U_MAGIC || ver != U_VERSION || crc != crc32c(0, buf, U_HDR - 4)) {
        why = "its header is damaged (not an undo file, or a checksum failure)";
        goto out;
    }
    if (memcmp(buf + 8, db->boot.guid, 16) != 0) {
        why = "it belongs to another database";
        goto out;
    }
    if (u->redo != floor) {
        why = "it was written at another point of the restore sequence";
        goto out;
    }
    int complete = buf[6] == U_COMPLETE;
    if (!complete && (buf[6] != U_IN_PROGRESS || state != DB_RESTORE_RESTORING)) {
        why = "it was never completed";
        goto out;
    }
    if (complete && (uint64_t)size != U_HDR + count * (uint64_t)U_REC) {
        why = "its length does not match its header";
        goto out;
    }
    /* a complete file: every image intact; an unfinished one (a crash during
     * undo): the intact prefix, which holds every page undo may have changed */
    uint64_t limit = complete ? count : ((uint64_t)size - U_HDR) / U_REC;
    for (uint64_t i = 0; i < limit; i++) {
        uint32_t idx, c;
        if (fio_pread(u->f, buf, U_REC, U_HDR + i * U_REC, &e) < 0) {
            why = "an image cannot be read";
            goto out;
        }
        memcpy(&idx, buf + 8, 4);
        memcpy(&c, buf + 12, 4);
        if (idx != i || c != rec_crc(buf)) {
            if (!complete)
                break;
            why = "a page image is damaged (checksum failure)";
            goto out;
        }
        u->count = i + 1;
    }
out:
    free(buf);
    if (why) {
        fio_close(u->f);
        u->f = NULL;
        return fail_undo(err, name, u->path, why);
    }
    return 0;
}

int standby_pending(const database *db)
{
    char p[PTR_MAX];
    pointer_path(p, db->log_path);
    return access(p, F_OK) == 0;
}

int standby_check(database *db, hdb_err *err)
{
    undo_file u;
    if (open_undo(db, &u, err) < 0)
        return -1;
    fio_close(u.f);
    return 0;
}

void standby_forget(const char *log_path)
{
    char p[PTR_MAX], undo[PATH_MAX];
    pointer_path(p, log_path);
    hdb_err e;
    if (access(p, F_OK) != 0)
        return;
    if (read_pointer(log_path, undo, &e) == 0 && undo[0])
        unlink(undo);
    unlink(p);
    fio_sync_parent(p, &e);
}

/* The log as it was at the end of redo: the records before `end` copied into
 * a new log (same LSNs, checkpoint, RESTORING at `end`) renamed over it. The
 * log layer has no way to drop its tail, and this costs what analysis
 * already costs at every step: one read of the restored log. */
static int cut_log(const char *log_path, lsn_t end, hdb_err *err)
{
    logmgr *old = log_open(log_path, NULL, err);
    if (!old)
        return -1;
    if (log_end_lsn(old) <= end) {
        int rc = log_set_restore_state(old, DB_RESTORE_RESTORING, end, err);
        log_close(old);
        return rc;
    }
    uint64_t V = log_vlf_size(old);
    lsn_t first = log_truncation_lsn(old) / V * V + LOG_VLF_HEADER;
    lsn_t ckpt = log_checkpoint_lsn(old);
    char tmp[PATH_MAX + 8];
    snprintf(tmp, sizeof tmp, "%s.cut", log_path);
    unlink(tmp);
    log_options lo = { .vlf_size = V, .initial_vlfs = 2 };
    logmgr *lm = log_create_at(tmp, &lo, first, err);
    log_reader *rd = lm ? log_reader_open(old, first, 0, err) : NULL;
    int rc = rd ? 0 : -1, k = 0;
    log_rec r;
    while (rc == 0 && (k = log_reader_next(rd, &r, err)) == 1 && r.lsn < end)
        if (!log_append_restored(lm, &r, err))
            rc = -1;
    if (k < 0)
        rc = -1;
    if (rd)
        log_reader_close(rd);
    if (rc == 0)
        rc = log_flush_all(lm, err);
    if (rc == 0 && ckpt)
        rc = log_set_checkpoint(lm, ckpt, err);
    if (rc == 0)
        rc = log_set_restore_state(lm, DB_RESTORE_RESTORING, end, err);
    if (lm)
        log_close(lm);
    log_close(old);
    if (rc == 0 && rename(tmp, log_path) < 0)
        rc = hdb_raise_text(err, 3634, 16, 1, "The operating system could not rename the cut log file.");
    if (rc < 0) {
        unlink(tmp);
        return -1;
    }
    return fio_sync_parent(log_path, err);
}

database *standby_revert(instance *in, database *db, hdb_err *err)
{
    undo_file u;
    if (open_undo(db, &u, err) < 0)
        return NULL;
    uint32_t id = db->tdb.id;
    char name[132], data[PATH_MAX], logp[PATH_MAX];
    snprintf(name, sizeof name, "%s", db->tdb.name);
    snprintf(data, sizeof data, "%s", df_file(db->df, 1)->path);
    snprintf(logp, sizeof logp, "%s", db->log_path);
    uint16_t ids[DF_MAX_FILES];
    int nf = df_file_ids(db->df, ids, DF_MAX_FILES);
    char (*paths)[PATH_MAX] = calloc((size_t)(nf > 0 ? nf : 1), PATH_MAX);
    fio_file **fs = calloc((size_t)(nf > 0 ? nf : 1), sizeof *fs);
    uint8_t *buf = malloc(U_REC);
    int rc = paths && fs && buf ? 0 : hdb_raise_text(err, 701, 19, 1, "There is insufficient system memory to run this query.");
    for (int i = 0; rc == 0 && i < nf; i++)
        snprintf(paths[i], PATH_MAX, "%s", df_file(db->df, ids[i])->path);
    /* from here a crash leaves it RESTORING: this revert runs again */
    if (rc == 0)
        rc = log_set_restore_state(db->tdb.log, DB_RESTORE_RESTORING, u.redo, err);
    if (rc < 0)
        goto out;
    inst_detach(in, db);
    db_close(db, 0);   /* its pages are durable; the pool's copies go */
    db = NULL;
    for (uint64_t i = 0; rc == 0 && i < u.count; i++) {
        if ((rc = fio_pread(u.f, buf, U_REC, U_HDR + i * U_REC, err)) < 0)
            break;
        pgid_t pg;
        memcpy(&pg, buf, 8);
        int k = -1;
        for (int j = 0; j < nf && k < 0; j++)
            if (ids[j] == PGID_FILE(pg))
                k = j;
        if (k < 0) {
            rc = fail_undo(err, name, u.path, "an image names a file the database does not have");
            break;
        }
        if (!fs[k] && !(fs[k] = fio_open(paths[k], 0, err)))
            rc = -1;
        else
            rc = fio_pwrite(fs[k], buf + U_REC_HDR, PAGE_SIZE, (uint64_t)PGID_PAGE(pg) * PAGE_SIZE, err);
    }
    for (int j = 0; j < nf; j++)
        if (fs[j]) {
            if (rc == 0)
                rc = fio_sync(fs[j], err);
            fio_close(fs[j]);
        }
    if (rc == 0)
        rc = cut_log(logp, u.redo, err);
    if (rc == 0) {
        char p[PTR_MAX];
        pointer_path(p, logp);
        unlink(p);
        rc = fio_sync_parent(p, err);
        unlink(u.path);
    }
    /* back in the instance either way: RESTORING, to be restored again */
    hdb_err e;
    db = inst_attach(in, id, name, data, logp, rc < 0 ? &e : err);
    if (rc < 0)
        db = NULL;
out:
    fio_close(u.f);
    free(paths);
    free(fs);
    free(buf);
    return db;
}
