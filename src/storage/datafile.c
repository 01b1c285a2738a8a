/*
 * datafile.c — a database's data files and filegroups (see datafile.h).
 *
 * Locking. One rwlock per dbfiles guards the file table, the filegroup names
 * and the hooks. Page reads, writes, syncs and growth take it shared and hold
 * it across the I/O, so df_remove_file (exclusive) never closes a file under an
 * in-flight operation. Growth of one file is serialized by that file's grow_mu,
 * taken while the table lock is held shared: order is table lock -> grow_mu.
 * The rwlock prefers writers, so a steady stream of page reads cannot starve
 * add/remove; the price is that no code path may take it shared twice in one
 * thread (a queued writer would deadlock it), so internal helpers never lock.
 * Hooks are called with no lock held.
 */
#include "storage/datafile.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "os/fio.h"
#include "storage/pageprot.h"

/* SQL Server re-reads a page up to four times after a failed read (823 or 824)
 * before it gives up; a read that succeeds on a retry is logged as 825. */
#define DF_READ_RETRIES 4
#define DF_MAX_FG       DF_MAX_FILES

typedef struct df_entry {
    df_file_desc    desc;
    fio_file       *f;
    _Atomic int     state;    /* enum df_state */
    _Atomic uint32_t pages;   /* current size in pages */
    pthread_mutex_t grow_mu;  /* one growth of this file at a time */
} df_entry;

struct df_fg {
    uint16_t id;
    char     name[DF_NAME_MAX + 1];
};

struct dbfiles {
    uint32_t         db_id;
    char             name[DF_NAME_MAX + 1];
    pthread_rwlock_t lock;
    df_entry        *files[DF_MAX_FILES];  /* sorted by file id */
    int              nfiles;
    struct df_fg     fgs[DF_MAX_FG];
    int              nfg;
    _Atomic int      verify;
    df_wal_fn        wal_fn;
    void            *wal_ctx;
    df_suspect_fn    sus_fn;
    void            *sus_ctx;
    _Atomic uint64_t read_retries;
    _Atomic int      not_online;  /* files in a state other than ONLINE (recount) */
    dcm             *map;       /* changed extents (dcm.h): fixed for the life of df */
    struct df_pending {         /* restore-pending pages (df_set_restore_pending) */
        pthread_mutex_t mu;     /* a leaf lock: nothing is taken under it */
        _Atomic int     n;      /* read without mu: 0 = none pending, the hot path */
        pgid_t         *ids;    /* sorted, under mu */
        void           *owner;
        void          (*free_owner)(void *);
    } rp;
};

/* The lock is not part of the logical state: const accessors lock it too. */
static void rdlock(const dbfiles *df) { pthread_rwlock_rdlock((pthread_rwlock_t *)&df->lock); }
static void wrlock(dbfiles *df) { pthread_rwlock_wrlock(&df->lock); }
static void unlock(const dbfiles *df) { pthread_rwlock_unlock((pthread_rwlock_t *)&df->lock); }

dbfiles *df_create(uint32_t db_id, const char *db_name)
{
    dbfiles *df = calloc(1, sizeof *df);
    if (!df)
        return NULL;
    df->db_id = db_id;
    snprintf(df->name, sizeof df->name, "%s", db_name ? db_name : "");
    pthread_rwlockattr_t a;
    pthread_rwlockattr_init(&a);
    pthread_rwlockattr_setkind_np(&a, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
    pthread_rwlock_init(&df->lock, &a);
    pthread_rwlockattr_destroy(&a);
    atomic_init(&df->verify, 1);
    df->fgs[0].id = 1;
    snprintf(df->fgs[0].name, sizeof df->fgs[0].name, "PRIMARY");
    df->nfg = 1;
    pthread_mutex_init(&df->rp.mu, NULL);
    if (!(df->map = dcm_create())) {
        pthread_rwlock_destroy(&df->lock);
        free(df);
        return NULL;
    }
    return df;
}

static void entry_free(df_entry *e)
{
    fio_close(e->f);
    pthread_mutex_destroy(&e->grow_mu);
    free(e);
}

void df_destroy(dbfiles *df)
{
    if (!df)
        return;
    for (int i = 0; i < df->nfiles; i++)
        entry_free(df->files[i]);
    pthread_rwlock_destroy(&df->lock);
    dcm_free(df->map);
    /* a page restore in progress is forgotten with the database (restore_page.h) */
    if (df->rp.owner && df->rp.free_owner)
        df->rp.free_owner(df->rp.owner);
    free(df->rp.ids);
    pthread_mutex_destroy(&df->rp.mu);
    free(df);
}

dcm *df_dcm(const dbfiles *df) { return df->map; }

uint32_t df_db_id(const dbfiles *df) { return df->db_id; }
const char *df_db_name(const dbfiles *df) { return df->name; }

/* Caller holds the lock (either mode). */
static df_entry *find(const dbfiles *df, uint16_t file_id)
{
    int lo = 0, hi = df->nfiles - 1;
    while (lo <= hi) {
        int mid = (lo + hi) / 2;
        uint16_t m = df->files[mid]->desc.file_id;
        if (m == file_id)
            return df->files[mid];
        if (m < file_id)
            lo = mid + 1;
        else
            hi = mid - 1;
    }
    return NULL;
}

/* Caller holds the lock. Unnamed filegroups get a stable made-up name. */
static const char *fg_name(const dbfiles *df, uint16_t fg_id, char *tmp, size_t cap)
{
    for (int i = 0; i < df->nfg; i++)
        if (df->fgs[i].id == fg_id)
            return df->fgs[i].name;
    snprintf(tmp, cap, "FG%u", (unsigned)fg_id);
    return tmp;
}

int df_set_filegroup_name(dbfiles *df, uint16_t fg_id, const char *name)
{
    int rc = 0;
    wrlock(df);
    int i;
    for (i = 0; i < df->nfg; i++)
        if (df->fgs[i].id == fg_id)
            break;
    if (i == df->nfg) {
        if (df->nfg == DF_MAX_FG)
            rc = -1;
        else
            df->fgs[df->nfg++].id = fg_id;
    }
    if (rc == 0)
        snprintf(df->fgs[i].name, sizeof df->fgs[i].name, "%s", name ? name : "");
    unlock(df);
    return rc;
}

const char *df_filegroup_name(const dbfiles *df, uint16_t fg_id, char *out, size_t cap)
{
    char tmp[16];
    rdlock(df);
    snprintf(out, cap, "%s", fg_name(df, fg_id, tmp, sizeof tmp));
    unlock(df);
    return out;
}

static int raise_text(hdb_err *err, int number, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int raise_text(hdb_err *err, int number, const char *fmt, ...)
{
    char buf[HDB_ERR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    return hdb_raise_text(err, number, 16, 1, buf);
}

/* Make a new file's directory entry durable: a crash right after CREATE
 * DATABASE must not lose the file whose pages the log already refers to. */
static void recount(dbfiles *df);

/* open: 1 = open (or create) the file on disk; 0 = list it closed (offline
 * or defunct files, which may not exist at all). */
static int add_entry(dbfiles *df, const df_file_desc *desc, int open, int create, enum df_state st, hdb_err *err);

int df_add_file(dbfiles *df, const df_file_desc *desc, int create, hdb_err *err)
{
    return add_entry(df, desc, 1, create, DF_ONLINE, err);
}

int df_add_closed_file(dbfiles *df, const df_file_desc *desc, enum df_state st, hdb_err *err)
{
    return add_entry(df, desc, 0, 0, st, err);
}

static int add_entry(dbfiles *df, const df_file_desc *desc, int open, int create, enum df_state st, hdb_err *err)
{
    if (desc->file_id == 0)
        return raise_text(err, 40000, "Invalid file id 0 in database '%s'.", df->name);
    df_entry *e = calloc(1, sizeof *e);
    if (!e)
        return raise_text(err, 40000, "Out of memory adding file '%s'.", desc->logical_name);
    e->desc = *desc;
    pthread_mutex_init(&e->grow_mu, NULL);

    /* Check for duplicates before touching the disk, so a clash never
     * creates (or worse, truncates) a file. Checked again under the lock. */
    rdlock(df);
    int dup_id = find(df, desc->file_id) != NULL, dup_name = 0;
    for (int i = 0; i < df->nfiles; i++)
        if (strcasecmp(df->files[i]->desc.logical_name, desc->logical_name) == 0)
            dup_name = 1;
    int full = df->nfiles == DF_MAX_FILES;
    unlock(df);
    if (dup_name || dup_id || full) {
        entry_free(e);
        if (dup_name)
            return hdb_raise(err, 1828, desc->logical_name);
        if (dup_id)
            return raise_text(err, 40000, "File id %u is already in use in database '%s'.",
                              (unsigned)desc->file_id, df->name);
        return raise_text(err, 40000, "Database '%s' already has the maximum of %d files.",
                          df->name, DF_MAX_FILES);
    }

    atomic_init(&e->state, (int)st);
    if (open) {
        e->f = fio_open(desc->path, create ? FIO_CREATE | FIO_EXCL : 0, err);
        if (!e->f) {
            entry_free(e);
            return -1;
        }
    }
    if (!open) {
        atomic_store(&e->pages, desc->size_pages);
    } else if (create) {
        if (fio_resize(e->f, (uint64_t)desc->size_pages * PAGE_SIZE, err) < 0) {
            char tmp[16];
            rdlock(df);
            hdb_raise(err, 1105, "?", df->name, fg_name(df, desc->fg_id, tmp, sizeof tmp));
            unlock(df);
            entry_free(e);
            unlink(desc->path);  /* half-made file: a retry must be able to create it */
            return -1;
        }
        fio_sync_parent(desc->path, NULL);
        atomic_store(&e->pages, desc->size_pages);
    } else {
        int64_t sz = fio_size(e->f);
        atomic_store(&e->pages, sz > 0 ? (uint32_t)((uint64_t)sz / PAGE_SIZE) : 0);
    }

    wrlock(df);
    if (find(df, desc->file_id) || df->nfiles == DF_MAX_FILES) {
        unlock(df);  /* lost a race with a concurrent add of the same id */
        entry_free(e);
        if (create)
            unlink(desc->path);
        return raise_text(err, 40000, "File id %u is already in use in database '%s'.",
                          (unsigned)desc->file_id, df->name);
    }
    int i = df->nfiles;
    while (i > 0 && df->files[i - 1]->desc.file_id > desc->file_id) {
        df->files[i] = df->files[i - 1];
        i--;
    }
    df->files[i] = e;
    df->nfiles++;
    recount(df);
    unlock(df);
    return 0;
}

void df_remove_file(dbfiles *df, uint16_t file_id)
{
    df_entry *gone = NULL;
    wrlock(df);
    for (int i = 0; i < df->nfiles; i++) {
        if (df->files[i]->desc.file_id == file_id) {
            gone = df->files[i];
            memmove(&df->files[i], &df->files[i + 1], (size_t)(df->nfiles - i - 1) * sizeof df->files[0]);
            df->nfiles--;
            break;
        }
    }
    recount(df);
    unlock(df);
    /* No I/O can be using it: every I/O holds the table lock shared. */
    if (gone)
        entry_free(gone);
}

/* The descriptor lives as long as the file stays in the set. */
const df_file_desc *df_file(const dbfiles *df, uint16_t file_id)
{
    rdlock(df);
    df_entry *e = find(df, file_id);
    unlock(df);
    return e ? &e->desc : NULL;
}

int df_file_ids(const dbfiles *df, uint16_t *ids, int cap)
{
    rdlock(df);
    int n = 0;
    for (int i = 0; i < df->nfiles && n < cap; i++)
        ids[n++] = df->files[i]->desc.file_id;
    unlock(df);
    return n;
}

uint32_t df_file_pages(dbfiles *df, uint16_t file_id)
{
    rdlock(df);
    df_entry *e = find(df, file_id);
    uint32_t n = e ? atomic_load(&e->pages) : 0;
    unlock(df);
    return n;
}

/* Under the table lock (either mode). */
static void recount(dbfiles *df)
{
    int n = 0;
    for (int i = 0; i < df->nfiles; i++)
        n += atomic_load(&df->files[i]->state) != DF_ONLINE;
    atomic_store(&df->not_online, n);
}

void df_set_state(dbfiles *df, uint16_t file_id, enum df_state st)
{
    wrlock(df);
    df_entry *e = find(df, file_id);
    if (e)
        atomic_store(&e->state, (int)st);
    recount(df);
    unlock(df);
}

int df_all_online(const dbfiles *df) { return atomic_load(&df->not_online) == 0; }

enum df_state df_get_state(const dbfiles *df, uint16_t file_id)
{
    rdlock(df);
    df_entry *e = find(df, file_id);
    enum df_state st = e ? (enum df_state)atomic_load(&e->state) : DF_DEFUNCT;
    unlock(df);
    return st;
}

int df_ensure_pages(dbfiles *df, uint16_t file_id, uint32_t pages, hdb_err *err)
{
    rdlock(df);
    df_entry *e = find(df, file_id);
    if (!e) {
        unlock(df);
        return hdb_raise(err, 1105, "?", df->name, "PRIMARY");
    }
    if (atomic_load(&e->pages) >= pages) {
        unlock(df);
        return 0;
    }
    if (!e->f) {   /* offline or defunct: nothing to grow */
        hdb_raise(err, 824, "write to an offline file", "write", (unsigned)file_id, pages - 1, (int)df->db_id,
                  (unsigned long long)(pages - 1) * PAGE_SIZE, e->desc.path);
        unlock(df);
        return -1;
    }
    pthread_mutex_lock(&e->grow_mu);
    int rc = 0;
    uint32_t cur = atomic_load(&e->pages);  /* another thread may have grown it */
    if (cur < pages) {
        uint64_t need = pages - cur;
        uint64_t target = (uint64_t)cur + (e->desc.growth_pages > need ? e->desc.growth_pages : need);
        uint64_t cap = e->desc.max_pages ? e->desc.max_pages : UINT32_MAX;
        if (target > cap)
            target = cap;  /* a partial growth still serves requests up to the cap */
        hdb_err ioerr;
        if (e->desc.growth_pages == 0 || target < pages ||
            fio_resize(e->f, target * PAGE_SIZE, &ioerr) < 0) {
            char tmp[16];
            rc = hdb_raise(err, 1105, "?", df->name, fg_name(df, e->desc.fg_id, tmp, sizeof tmp));
        } else {
            atomic_store(&e->pages, (uint32_t)target);
        }
    }
    pthread_mutex_unlock(&e->grow_mu);
    unlock(df);
    return rc;
}

static int offline(int st) { return st == DF_OFFLINE || st == DF_DEFUNCT; }

/* RESTORING files stay readable and writable here: restore and its redo work
 * on them. Keeping users away from them is the engine's business. */
int df_read_page(dbfiles *df, pgid_t id, void *buf, hdb_err *err)
{
    uint32_t fno = PGID_FILE(id), pno = PGID_PAGE(id);
    uint64_t off = (uint64_t)pno * PAGE_SIZE;
    if (df_page_restore_pending(df, id, err))
        return -1;   /* 829; not damaged anew, so no suspect hook */
    rdlock(df);
    df_suspect_fn sus = df->sus_fn;
    void *sus_ctx = df->sus_ctx;
    df_entry *e = fno <= UINT16_MAX ? find(df, (uint16_t)fno) : NULL;
    if (!e || !e->f || offline(atomic_load(&e->state))) {
        /* Not a damaged page, so not a suspect page either: no hook. */
        hdb_raise(err, 824, "read from an offline file", "read", fno, pno, (int)df->db_id,
                  (unsigned long long)off, e ? e->desc.path : "");
        unlock(df);
        return -1;
    }
    int verify = atomic_load(&df->verify);
    hdb_err last;
    int event = 0;
    for (int attempt = 0; attempt <= DF_READ_RETRIES; attempt++) {
        hdb_err_clear(&last);
        if (fio_pread(e->f, buf, PAGE_SIZE, off, &last) < 0) {
            event = 1;  /* 823 */
            continue;
        }
        /* the page's own protection (pageprot.h); under PAGE_VERIFY NONE only
         * its self id is checked, as in SQL Server */
        pageprot_result pr;
        int v = pageprot_open(buf, id, verify, &pr);
        if (v == PAGEPROT_OK) {
            if (attempt > 0)
                atomic_fetch_add(&df->read_retries, 1);  /* what SQL Server logs as 825 */
            unlock(df);
            return 0;
        }
        char detail[128];
        if (v == PAGEPROT_BAD_CHECKSUM) {
            snprintf(detail, sizeof detail, "incorrect checksum (expected: 0x%08x; actual: 0x%08x)",
                     pr.expected, pr.actual);
            event = 2;
        } else if (v == PAGEPROT_TORN) {
            snprintf(detail, sizeof detail, "torn page (expected signature: 0x%08x; actual signature: 0x%08x)",
                     pr.expected, pr.actual);
            event = 3;
        } else {
            snprintf(detail, sizeof detail, "incorrect pageid (expected %u:%u; actual %u:%u)",
                     fno, pno, PGID_FILE(pr.found_id), PGID_PAGE(pr.found_id));
            event = 1;
        }
        hdb_raise(&last, 824, detail, "read", fno, pno, (int)df->db_id,
                  (unsigned long long)off, e->desc.path);
    }
    unlock(df);
    if (err)
        *err = last;
    if (sus)
        sus(sus_ctx, df->db_id, id, event);
    return -1;
}

int df_read_page_raw(dbfiles *df, pgid_t id, void *buf, hdb_err *err)
{
    uint32_t fno = PGID_FILE(id), pno = PGID_PAGE(id);
    uint64_t off = (uint64_t)pno * PAGE_SIZE;
    rdlock(df);
    df_entry *e = fno <= UINT16_MAX ? find(df, (uint16_t)fno) : NULL;
    int rc;
    if (!e || !e->f || offline(atomic_load(&e->state)))
        rc = hdb_raise(err, 824, "read from an offline file", "read", fno, pno, (int)df->db_id,
                       (unsigned long long)off, e ? e->desc.path : "");
    else
        rc = fio_pread(e->f, buf, PAGE_SIZE, off, err);
    unlock(df);
    return rc;
}

int df_write_page(dbfiles *df, pgid_t id, void *buf, hdb_err *err)
{
    uint32_t fno = PGID_FILE(id), pno = PGID_PAGE(id);
    uint64_t off = (uint64_t)pno * PAGE_SIZE;
    /* Protected as the database says now (pageprot.h). A never-formatted (all
     * zero) page stays zero so it still reads back as "unformatted" instead
     * of as a page with the wrong id. */
    pageprot_seal(buf, atomic_load(&df->verify));
    rdlock(df);
    df_entry *e = fno <= UINT16_MAX ? find(df, (uint16_t)fno) : NULL;
    if (!e || !e->f || offline(atomic_load(&e->state))) {
        hdb_raise(err, 824, "write to an offline file", "write", fno, pno, (int)df->db_id,
                  (unsigned long long)off, e ? e->desc.path : "");
        unlock(df);
        return -1;
    }
    int rc = fio_pwrite(e->f, buf, PAGE_SIZE, off, err);
    if (rc == 0) {
        /* A write past the end (restore) extends the file. */
        uint32_t cur = atomic_load(&e->pages);
        while (cur < pno + 1u && !atomic_compare_exchange_weak(&e->pages, &cur, pno + 1u))
            ;
    }
    unlock(df);
    return rc;
}

int df_sync(dbfiles *df, hdb_err *err)
{
    int rc = 0;
    rdlock(df);
    for (int i = 0; i < df->nfiles && rc == 0; i++)
        if (df->files[i]->f && !offline(atomic_load(&df->files[i]->state)))
            rc = fio_sync(df->files[i]->f, err);
    unlock(df);
    return rc;
}

void df_set_page_verify(dbfiles *df, int mode)
{
    atomic_store(&df->verify, mode == PAGE_VERIFY_NONE || mode == PAGE_VERIFY_TORN ? mode : PAGE_VERIFY_CHECKSUM);
}

int df_page_verify(const dbfiles *df) { return atomic_load(&df->verify); }

void df_set_wal_hook(dbfiles *df, df_wal_fn fn, void *ctx)
{
    wrlock(df);
    df->wal_fn = fn;
    df->wal_ctx = ctx;
    unlock(df);
}

int df_wal_flush(dbfiles *df, lsn_t lsn, hdb_err *err)
{
    rdlock(df);
    df_wal_fn fn = df->wal_fn;
    void *ctx = df->wal_ctx;
    unlock(df);
    return fn ? fn(ctx, lsn, err) : 0;
}

void df_set_suspect_hook(dbfiles *df, df_suspect_fn fn, void *ctx)
{
    wrlock(df);
    df->sus_fn = fn;
    df->sus_ctx = ctx;
    unlock(df);
}

uint64_t df_read_retries(const dbfiles *df) { return atomic_load(&df->read_retries); }

/* ---- restore-pending pages ------------------------------------------------ */

static int cmp_pgid(const void *a, const void *b)
{
    pgid_t x = *(const pgid_t *)a, y = *(const pgid_t *)b;
    return x < y ? -1 : x > y;
}

int df_set_restore_pending(dbfiles *df, const pgid_t *ids, int n, void *owner, void (*free_owner)(void *))
{
    pgid_t *v = n > 0 ? malloc((size_t)n * sizeof *v) : NULL;
    if (n > 0 && !v)
        return -1;
    if (n > 0) {
        memcpy(v, ids, (size_t)n * sizeof *v);
        qsort(v, (size_t)n, sizeof *v, cmp_pgid);
    }
    pthread_mutex_lock(&df->rp.mu);
    int busy = atomic_load(&df->rp.n) > 0 || df->rp.owner;
    if (!busy) {
        df->rp.ids = v;
        df->rp.owner = owner;
        df->rp.free_owner = free_owner;
        atomic_store(&df->rp.n, n);   /* seq_cst: readers that see 0 ran before this */
    }
    pthread_mutex_unlock(&df->rp.mu);
    if (busy)
        free(v);
    return busy ? -1 : 0;
}

void *df_restore_owner(dbfiles *df)
{
    pthread_mutex_lock(&df->rp.mu);
    void *o = df->rp.owner;
    pthread_mutex_unlock(&df->rp.mu);
    return o;
}

void *df_clear_restore_pending(dbfiles *df)
{
    pthread_mutex_lock(&df->rp.mu);
    void *o = df->rp.owner;
    atomic_store(&df->rp.n, 0);
    free(df->rp.ids);
    df->rp.ids = NULL;
    df->rp.owner = NULL;
    df->rp.free_owner = NULL;
    pthread_mutex_unlock(&df->rp.mu);
    return o;
}

int df_page_restore_pending(dbfiles *df, pgid_t id, hdb_err *err)
{
    if (atomic_load(&df->rp.n) == 0)
        return 0;
    pthread_mutex_lock(&df->rp.mu);
    int n = atomic_load(&df->rp.n);
    int hit = n > 0 && bsearch(&id, df->rp.ids, (size_t)n, sizeof id, cmp_pgid) != NULL;
    pthread_mutex_unlock(&df->rp.mu);
    if (hit)
        hdb_raise(err, 829, (int)df->db_id, PGID_FILE(id), PGID_PAGE(id));
    return hit;
}
