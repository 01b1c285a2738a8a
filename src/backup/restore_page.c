/*
 * restore_page.c — online page restore (restore_page.h; the protocol and its
 * invariants are in backup/README.md, "Page restore").
 *
 *   begin    checks (4346, 3013, 3250, 3105, 3194, 3111, 4310), the full
 *            backup (3154), its images of the pages, its log applied to them
 *            -> pending in the data files' set (829 from now on)
 *            -> bp_wait_unlatched on each: a change begun before is logged
 *            -> T = end of the log
 *   log      4326 / 4305 against R, RECOVERY short of T refused (4326 with
 *            T); records >= R applied to a scratch copy of the images,
 *            which replaces them only when the whole set went through
 *   finish   R >= T; under the checkpoint mutex: each page dropped from the
 *            buffer pool, its image written, the files synced, the pages no
 *            longer pending; suspect_pages event_type 4; deferred_retry
 *
 * Nothing is written to the database before finish, and a failed step
 * changes nothing: a refused or failed statement leaves the sequence where
 * it was. The sequence's state belongs to the database's dbfiles
 * (df_set_restore_pending), so it disappears with the database.
 */
#include "backup/restore_page.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "access/space.h"
#include "backup/backup_int.h"
#include "engine/deferred.h"
#include "engine/suspect.h"
#include "os/fio.h"
#include "storage/pageop.h"
#include "storage/pageprot.h"

/* One page restore step at a time in the process: steps are rare and short
 * next to the sequences they belong to, and this keeps a sequence's state
 * owned by one thread at a time. */
static pthread_mutex_t step_mu = PTHREAD_MUTEX_INITIALIZER;

/* A file being rebuilt by a file restore: closed to the database (OFFLINE)
 * until finish, written through its own handle. */
typedef struct pr_file {
    uint16_t  id;
    fio_file *f;
    uint32_t  pages;             /* its size in the backup */
} pr_file;

/* A sequence in progress: the pages (sorted) and their images, or whole
 * files (restore_file_begin). */
typedef struct pr_seq {
    uint8_t  guid[16];           /* the database's FamilyGUID (3154) */
    lsn_t    redo_target;        /* T: the end of the log when the pages went pending */
    lsn_t    applied_to;         /* R: every record below it is in the images */
    int      n;
    pgid_t   ids[RESTORE_PAGE_MAX];
    uint8_t *images;             /* n pages, in the order of ids */
    int      nfiles;
    pr_file  files[BOOT_MAX_FILES];
    int      verify;             /* PAGE_VERIFY the files' pages are sealed with */
} pr_seq;

static void seq_free(void *p)
{
    pr_seq *q = p;
    if (q) {
        free(q->images);
        for (int i = 0; i < q->nfiles; i++)
            fio_close(q->files[i].f);
    }
    free(q);
}

static unsigned long long ull(uint64_t v) { return (unsigned long long)v; }

static int no_memory(hdb_err *err)
{
    return hdb_raise_text(err, 701, 19, 1, "There is insufficient system memory to run this query.");
}

/* ---- the page list ------------------------------------------------------------ */

static int cmp_pgid(const void *a, const void *b)
{
    pgid_t x = *(const pgid_t *)a, y = *(const pgid_t *)b;
    return x < y ? -1 : x > y;
}

static int parse_uint(const char **p, uint32_t *out)
{
    while (isspace((unsigned char)**p))
        (*p)++;
    if (!isdigit((unsigned char)**p))
        return -1;
    uint64_t v = 0;
    while (isdigit((unsigned char)**p) && v <= UINT32_MAX)
        v = v * 10 + (uint64_t)(*(*p)++ - '0');
    while (isspace((unsigned char)**p))
        (*p)++;
    if (v > UINT32_MAX)
        return -1;
    *out = (uint32_t)v;
    return 0;
}

int restore_page_parse(const char *list, pgid_t *ids, int cap, int *n, hdb_err *err)
{
    *n = 0;
    const char *p = list ? list : "";
    for (;;) {
        uint32_t f, pg;
        if (parse_uint(&p, &f) < 0 || *p++ != ':' || parse_uint(&p, &pg) < 0 || f == 0 || f > UINT16_MAX ||
            (*p && *p != ','))
            return bk_failf(err, 3250, "The value '%.200s' is not within range for the PAGE parameter.",
                         list ? list : "NULL");
        pgid_t id = PGID(f, pg);
        int dup = 0;
        for (int i = 0; i < *n && !dup; i++)
            dup = ids[i] == id;
        if (!dup && *n == cap)
            return bk_failf(err, 3105, "RESTORE cannot restore any more pages because the maximum number of "
                         "pages (%d) are already being restored. Either complete the restore sequence for the "
                         "existing pages, or use RESTORE FILE to restore all pages in the file.", cap);
        if (!dup)
            ids[(*n)++] = id;
        if (!*p)
            return 0;
        p++;   /* the comma */
    }
}

/* Which of the listed pages may be restored alone, and whether they exist. */
static int check_page(database *db, pgid_t id, hdb_err *err)
{
    uint16_t f = (uint16_t)PGID_FILE(id);
    uint32_t p = PGID_PAGE(id);
    const df_file_desc *d = df_file(db->df, f);
    if (!d || p >= df_file_pages(db->df, f))
        return bk_failf(err, 3194, "Page (%u:%u) is beyond the end of the file. Only pages that are in the current "
                     "range of the file can be restored.", (unsigned)f, p);
    /* the file header, the allocation bitmaps and the boot page describe the
     * whole file or database: redo of one page's log cannot rebuild them */
    if (p == 0 || p % SPACE_INTERVAL == 1 || id == SPACE_BOOT_PAGE)
        return bk_failf(err, 3111, "Page %u:%u is a control page which cannot be restored in isolation. To repair "
                     "this page, the entire file must be restored.", (unsigned)f, p);
    if (df_get_state(db->df, f) != DF_ONLINE)
        return bk_failf(err, 4310, "RESTORE PAGE cannot be used because file '%s' is not online. Online page "
                     "restore needs the file online.", d->logical_name);
    return 0;
}

/* ---- applying log to the images ----------------------------------------------- */

typedef struct apply_ctx {
    const pr_seq *seq;
    uint8_t      *images;        /* the copy being rolled forward */
    const char   *db_name;
    lsn_t         from;          /* records below it are in the images already */
    uint64_t      bytes;
} apply_ctx;

static int file_index(const pr_seq *q, uint32_t file_id)
{
    for (int i = 0; i < q->nfiles; i++)
        if (q->files[i].id == file_id)
            return i;
    return -1;
}

/* One operation on a page of a file being rebuilt, read and written in
 * place (the file is nobody else's); `again`: an earlier operation of the
 * same record already passed the pageLSN test. Redo is idempotent, so a
 * step that fails half way is simply repeated. */
static int apply_on_file(const pr_file *pf, int verify, pgid_t id, const uint8_t *op, size_t oplen, lsn_t lsn,
                         int again, hdb_err *err)
{
    _Alignas(64) uint8_t page[PAGE_SIZE];
    uint64_t off = (uint64_t)PGID_PAGE(id) * PAGE_SIZE;
    int64_t size = fio_size(pf->f);
    if (size < 0)
        return -1;
    if ((uint64_t)size >= off + PAGE_SIZE) {
        if (fio_pread(pf->f, page, PAGE_SIZE, off, err) < 0)
            return -1;
        /* as the pool reads it: torn bits put back, protection checked */
        if (pageprot_open(page, id, verify, NULL) != PAGEPROT_OK)
            return hdb_raise_text(err, 3313, 21, 1, "damaged page in the file being restored");
    } else {
        memset(page, 0, PAGE_SIZE);   /* past the end: not formatted yet */
    }
    if (!again && page_lsn(page) >= lsn)
        return 0;   /* has this change already */
    if (!pageop_apply(page, id, op, oplen, lsn))
        return hdb_raise_text(err, 3313, 21, 1, "malformed page operation");
    pageprot_seal(page, verify);
    return fio_pwrite(pf->f, page, PAGE_SIZE, off, err);
}

static int page_index(const pr_seq *q, pgid_t id)
{
    const pgid_t *hit = bsearch(&id, q->ids, (size_t)q->n, sizeof id, cmp_pgid);
    return hit ? (int)(hit - q->ids) : -1;
}

static int redo_failed(hdb_err *err, const char *db_name, lsn_t lsn)
{
    return bk_failf(err, 3313, "During redoing of a logged operation in database '%s', an error occurred at log "
                 "record ID %llu. Restore the page from a full backup that holds it, or repair the database.",
                 db_name, ull(lsn));
}

/* One record's page operations on the pages of the sequence, as redo does:
 * a page takes the record only if its pageLSN is below the record's, tested
 * once per page before the record's first operation on it. */
static int apply_record(void *ctx, const log_rec *r, hdb_err *err)
{
    apply_ctx *a = ctx;
    size_t off;
    if (r->lsn < a->from || !logrec_pageops_offset(r->kind, r->body, r->body_len, &off))
        return 0;
    pageop_iter it;
    if (pageop_iter_init(&it, r->body + off, r->body_len - off) < 0)
        return redo_failed(err, a->db_name, r->lsn);
    int taken[64], ntaken = 0, nftaken = 0, k;
    pgid_t id, ftaken[64];
    const uint8_t *op;
    size_t oplen;
    while ((k = pageop_iter_next(&it, &id, &op, &oplen)) == 1) {
        int i = page_index(a->seq, id);
        int fi = i < 0 ? file_index(a->seq, PGID_FILE(id)) : -1;
        if (fi >= 0) {
            int again = 0;
            for (int j = 0; j < nftaken && !again; j++)
                again = ftaken[j] == id;
            if (!again && nftaken < 64)
                ftaken[nftaken++] = id;
            hdb_err e;
            if (apply_on_file(&a->seq->files[fi], a->seq->verify, id, op, oplen, r->lsn, again, &e) < 0) {
                if (e.number == 823) {
                    *err = e;
                    return -1;
                }
                return redo_failed(err, a->db_name, r->lsn);
            }
            continue;
        }
        if (i < 0)
            continue;
        uint8_t *img = a->images + (size_t)i * PAGE_SIZE;
        int again = 0;
        for (int j = 0; j < ntaken && !again; j++)
            again = taken[j] == i;
        if (!again && page_lsn(img) >= r->lsn)
            continue;   /* the image has this change already */
        if (!again && ntaken < 64)
            taken[ntaken++] = i;
        if (!pageop_apply(img, id, op, oplen, r->lsn))
            return redo_failed(err, a->db_name, r->lsn);
    }
    a->bytes += r->len;
    return k < 0 ? redo_failed(err, a->db_name, r->lsn) : 0;
}

/* Set `pos`'s records from `from` on, applied to the images: all or nothing. */
static int roll_images(database *db, pr_seq *q, media_reader *mr, int pos, lsn_t from, uint64_t *bytes,
                       hdb_err *err)
{
    size_t size = (size_t)q->n * PAGE_SIZE;
    uint8_t *copy = size ? malloc(size) : NULL;
    if (size && !copy)
        return no_memory(err);
    if (size)
        memcpy(copy, q->images, size);
    apply_ctx a = { .seq = q, .images = copy, .db_name = db->tdb.name, .from = from };
    if (rs_for_each_record(mr, pos, apply_record, &a, err) < 0) {
        free(copy);
        return -1;
    }
    free(q->images);
    q->images = copy;
    *bytes = a.bytes;
    return 0;
}

/* ---- steps shared ------------------------------------------------------------- */

/* The database, ONLINE, counted as used while the step runs (so it is
 * neither dropped nor taken offline under it). */
static database *use_db(instance *in, const char *name, hdb_err *err)
{
    database *db = inst_find_database(in, name ? name : "");
    if (!db) {
        hdb_raise(err, 911, name ? name : "");
        return NULL;
    }
    if (db->state != DB_ONLINE || !db->df) {
        bk_failf(err, 3013, "Database '%s' is not ONLINE (%s): an online page restore needs it online; restore "
              "the database instead.", db->tdb.name, db_state_desc(db->state));
        return NULL;
    }
    db->users++;
    return db;
}

/* Page restore redoes every change, so nothing of a point in time, no
 * relocation, no standby. */
static int check_options(const restore_opts *o, hdb_err *err)
{
    const char *bad = o->recovery == RESTORE_STANDBY ? "STANDBY" : o->stop_at ? "STOPAT"
                    : o->stop_mark || o->stop_mark_lsn ? (o->stop_before ? "STOPBEFOREMARK" : "STOPATMARK")
                    : o->nmoves ? "MOVE" : NULL;
    if (bad)
        return bk_failf(err, 3032, "One or more of the options (%s) are not supported for this statement. Review "
                     "the documentation for supported options.", bad);
    return 0;
}

/* Set `pos` of the device, of `type`, of this database's family. */
static const media_set_header *open_set(media_reader *mr, const restore_opts *o, database *db, int type,
                                        int *pos, hdb_err *err)
{
    *pos = o->file ? o->file : 1;
    const media_set_header *h = media_set_at(mr, *pos);
    if (!h) {
        media_cursor_close(media_cursor_open(mr, *pos, err));   /* for the precise error */
        return NULL;
    }
    if (h->backup_type != type) {
        bk_failf(err, 3013, "The backup set on file %d is %s; a page restore needs %s.", *pos,
              h->backup_type == MEDIA_TYPE_LOG ? "a transaction log backup"
              : h->backup_type == MEDIA_TYPE_DIFF_DATABASE ? "a differential backup" : "a database backup",
              type == MEDIA_TYPE_LOG ? "RESTORE LOG with a log backup" : "a full database backup");
        return NULL;
    }
    if (memcmp(db->boot.guid, h->family_guid, 16) != 0) {
        bk_failf(err, 3154, "The backup set holds a backup of a database other than the existing '%s' database.",
              db->tdb.name);
        return NULL;
    }
    if (o->checksum && !(h->flags & MEDIA_FLAG_CHECKSUMS)) {
        bk_failf(err, 3187, "RESTORE WITH CHECKSUM cannot be specified because the backup set does not contain "
              "checksum information.");
        return NULL;
    }
    return h;
}

static int too_early(hdb_err *err, lsn_t ends, lsn_t target)
{
    return bk_failf(err, 4326, "The log in this backup set terminates at LSN %llu, which is too early to apply to "
                 "the database. A more recent log backup that includes LSN %llu can be restored.",
                 ull(ends), ull(target));
}

/* ---- begin -------------------------------------------------------------------- */

/* The full backup's images of the listed pages (zeros for a page it lacks:
 * unallocated then, so the log formats it), checked; pages per file. */
static int load_images(media_reader *mr, int pos, pr_seq *q, restore_page_result *r, database *db,
                       hdb_err *err)
{
    media_cursor *c = media_cursor_open(mr, pos, err);
    if (!c)
        return -1;
    media_page pg;
    int k;
    while ((k = media_next_page(c, &pg, err)) == 1) {
        pgid_t id = PGID(pg.file_id, pg.page_no), found = 0;
        int i = page_index(q, id);
        if (i < 0)
            continue;
        if (page_verify(pg.image, id, NULL, NULL, &found) != 0) {
            media_cursor_close(c);
            return bk_failf(err, 3183, "RESTORE detected an error on page (%u:%u) in database \"%s\" as read from "
                         "the backup set.", pg.file_id, pg.page_no, db->tdb.name);
        }
        memcpy(q->images + (size_t)i * PAGE_SIZE, pg.image, PAGE_SIZE);
    }
    media_cursor_close(c);
    for (int i = 0; k == 0 && i < q->n; i++) {
        uint16_t f = (uint16_t)PGID_FILE(q->ids[i]);
        int j = 0;
        while (j < r->nfiles && r->files[j].file_id != f)
            j++;
        if (j == r->nfiles) {
            r->files[j].file_id = f;
            snprintf(r->files[j].logical_name, sizeof r->files[j].logical_name, "%s", df_file(db->df, f)->logical_name);
            r->nfiles++;
        }
        r->files[j].pages++;
    }
    return k < 0 ? -1 : 0;
}

static int begin_checks(database *db, const restore_opts *o, const char *pages, pr_seq *q, hdb_err *err)
{
    pthread_mutex_lock(&db->boot_mu);
    int model = db->boot.recovery_model;
    memcpy(q->guid, db->boot.guid, 16);
    pthread_mutex_unlock(&db->boot_mu);
    if (model == RECOVERY_SIMPLE)
        return bk_failf(err, 4346, "RESTORE PAGE is not allowed with databases that use the simple recovery model.");
    if (db->tdb.read_only_log)
        return bk_failf(err, 4344, "RESTORE PAGE is not allowed on read-only databases or filegroups.");
    if (df_restore_owner(db->df))
        return bk_failf(err, 3013, "A page restore sequence is already in progress for database '%s'. Finish it "
                     "(RESTORE LOG ... WITH RECOVERY) before restoring other pages.", db->tdb.name);
    if (check_options(o, err) < 0 || restore_page_parse(pages, q->ids, RESTORE_PAGE_MAX, &q->n, err) < 0)
        return -1;
    for (int i = 0; i < q->n; i++)
        if (check_page(db, q->ids[i], err) < 0)
            return -1;
    qsort(q->ids, (size_t)q->n, sizeof q->ids[0], cmp_pgid);
    return 0;
}

/* The transactions open in db (deferred ones aside: finish retries them),
 * and the oldest first LSN among them. Returns how many (malloc'd in *ids). */
static int open_txns(database *db, uint64_t **ids, lsn_t *oldest)
{
    int n = 0, cap = 0;
    *ids = NULL;
    *oldest = 0;
    pthread_mutex_lock(&db->tdb.att_mu);
    for (txn_part *p = db->tdb.att; p; p = p->att_next)
        cap++;
    if (cap && !(*ids = malloc((size_t)cap * sizeof **ids)))
        n = -1;
    for (txn_part *p = db->tdb.att; p && n >= 0; p = p->att_next) {
        if (p->deferred || !p->txn || p->txn->state == TXN_DEFERRED || !p->first_lsn)
            continue;   /* deferred: finish retries it; no first LSN: nothing logged */
        (*ids)[n++] = p->txn->id;
        if (!*oldest || p->first_lsn < *oldest)
            *oldest = p->first_lsn;
    }
    pthread_mutex_unlock(&db->tdb.att_mu);
    return n;
}

/* The first page of q an LR_ROW of one of ids[] changed, 0 if none. */
static pgid_t row_page_of(const log_rec *r, const pr_seq *q, const uint64_t *ids, int n)
{
    size_t off;
    int mine = 0;
    for (int i = 0; i < n && !mine; i++)
        mine = ids[i] == r->txn_id;
    if (!mine || r->kind != LR_ROW || !logrec_pageops_offset(r->kind, r->body, r->body_len, &off))
        return 0;
    pageop_iter it;
    pgid_t id;
    const uint8_t *op;
    size_t oplen;
    if (pageop_iter_init(&it, r->body + off, r->body_len - off) < 0)
        return 0;
    while (pageop_iter_next(&it, &id, &op, &oplen) == 1)
        if (page_index(q, id) >= 0)
            return id;
    return 0;
}

/* A transaction still open that changed one of the pages could not roll
 * back while they are pending (829: a rollback at run time cannot be
 * deferred), so such a restore is refused. Called once T is fixed: from
 * then on no one changes the pages, so the log below T tells it all. */
static int check_open_changes(database *db, const pr_seq *q, hdb_err *err)
{
    uint64_t *ids;
    lsn_t from;
    int n = open_txns(db, &ids, &from);
    if (n <= 0) {
        free(ids);
        return n < 0 ? no_memory(err) : 0;
    }
    log_reader *rd = log_reader_open(db->tdb.log, from, 0, err);
    int rc = rd ? 0 : -1, k;
    log_rec r;
    while (rc == 0 && (k = log_reader_next(rd, &r, err)) == 1 && r.lsn < q->redo_target) {
        pgid_t id = row_page_of(&r, q, ids, n);
        if (id)
            rc = bk_failf(err, 3013, "Page (%u:%u) holds changes of transaction %llu, which is still open: it could "
                       "not roll back while the page is being restored. Restore the page once it has ended.",
                       PGID_FILE(id), PGID_PAGE(id), ull(r.txn_id));
    }
    if (rd && rc == 0 && k < 0)
        rc = -1;
    if (rd)
        log_reader_close(rd);
    free(ids);
    return rc;
}

/* The pages go pending; a change someone made to one of them just before is
 * logged when bp_wait_unlatched returns, so the end of the log is then a
 * redo target no later change to them can pass. */
static int make_pending(database *db, pr_seq *q, hdb_err *err)
{
    if (df_set_restore_pending(db->df, q->ids, q->n, q, seq_free) < 0)
        return bk_failf(err, 3013, "A page restore sequence is already in progress for database '%s'.", db->tdb.name);
    for (int i = 0; i < q->n; i++)
        bp_wait_unlatched(db->bp, db->df, q->ids[i]);
    q->redo_target = log_end_lsn(db->tdb.log);
    if (check_open_changes(db, q, err) < 0) {
        df_clear_restore_pending(db->df);   /* nothing else changed: as before */
        return -1;
    }
    return 0;
}

static int begin_on(instance *in, database *db, const restore_opts *o, const char *pages, restore_page_result *r,
                    hdb_err *err)
{
    pr_seq *q = calloc(1, sizeof *q);
    if (!q)
        return no_memory(err);
    int rc = -1, pos;
    media_reader *mr = NULL;
    const media_set_header *h = NULL;
    if (begin_checks(db, o, pages, q, err) < 0 || !(mr = media_open(o->device_path, err)) ||
        !(h = open_set(mr, o, db, MEDIA_TYPE_DATABASE, &pos, err)))
        goto out;
    if (!(q->images = calloc((size_t)q->n, PAGE_SIZE))) {
        no_memory(err);
        goto out;
    }
    uint64_t bytes = 0;
    if (load_images(mr, pos, q, r, db, err) < 0 || roll_images(db, q, mr, pos, 0, &bytes, err) < 0)
        goto out;
    q->applied_to = h->last_lsn;
    r->r.set = *h;
    r->r.position = pos;
    if (make_pending(db, q, err) < 0)
        goto out;
    r->r.pages = (uint64_t)q->n;
    r->r.log_bytes = bytes;
    r->r.restore_type = 'D';
    r->r.state = db->state;
    r->redo_target = q->redo_target;
    r->applied_to = q->applied_to;
    if (o->recovery == RESTORE_RECOVERY)
        r->r.info = 4339;   /* the log after the backup is still to come */
    inst_log(in, "Page restore of database '%s' began: %d page(s) restore-pending, rolled forward to LSN %llu, "
             "redo target LSN %llu.", db->tdb.name, q->n, ull(q->applied_to), ull(q->redo_target));
    q = NULL;   /* the database's now */
    rc = 0;
out:
    if (mr)
        media_close(mr);
    seq_free(q);
    return rc;
}

/* One step of a sequence: one step at a time in the process, the database
 * ONLINE and counted as used while it runs, the step's time in r. */
typedef struct step_args {
    const restore_opts      *o;
    const char              *pages;
    const restore_file_name *names;
    int                      nnames;
} step_args;
typedef int (*step_fn)(instance *in, database *db, const step_args *a, restore_page_result *r, hdb_err *err);

static int run_step(instance *in, const char *db_name, step_fn fn, const step_args *a, restore_page_result *r,
                    hdb_err *err)
{
    double t0 = bk_now_s();
    pthread_mutex_lock(&step_mu);
    database *db = use_db(in, db_name, err);
    int rc = db ? fn(in, db, a, r, err) : -1;
    if (db)
        db->users--;
    pthread_mutex_unlock(&step_mu);
    r->r.seconds = bk_now_s() - t0;
    return rc;
}

static int page_begin_step(instance *in, database *db, const step_args *a, restore_page_result *r, hdb_err *err)
{
    return begin_on(in, db, a->o, a->pages, r, err);
}

int restore_page_begin(instance *in, const restore_opts *o, const char *pages, restore_page_result *r,
                       hdb_err *err)
{
    memset(r, 0, sizeof *r);
    if (!o->device_path)
        return bk_failf(err, 3013, "RESTORE DATABASE ... PAGE needs FROM: the full backup to take the pages from.");
    step_args a = { .o = o, .pages = pages };
    return run_step(in, o->db_name, page_begin_step, &a, r, err);
}

/* ---- whole files: RESTORE DATABASE db FILE = | FILEGROUP = ... FROM full ------- */

static int add_file(pr_seq *q, uint16_t id)
{
    for (int i = 0; i < q->nfiles; i++)
        if (q->files[i].id == id)
            return 0;
    if (q->nfiles == BOOT_MAX_FILES)
        return -1;
    q->files[q->nfiles++].id = id;
    return 0;
}

/* The files named (FILEGROUP = fg: each of its files): secondary files of
 * db that are OFFLINE. */
static int pick_files(database *db, const restore_file_name *names, int n, pr_seq *q, hdb_err *err)
{
    boot_files *bf = malloc(sizeof *bf);
    if (!bf)
        return no_memory(err);
    pthread_mutex_lock(&db->boot_mu);
    *bf = db->files;
    pthread_mutex_unlock(&db->boot_mu);
    int rc = 0;
    for (int k = 0; k < n && rc == 0; k++) {
        uint16_t fg = names[k].is_filegroup ? db_filegroup_id(db, names[k].name) : 0;
        int found = 0;
        for (int i = 0; i < BOOT_MAX_FILES && rc == 0; i++) {
            const boot_file *b = &bf->files[i];
            if (!b->file_id || (names[k].is_filegroup ? !fg || b->fg_id != fg : strcasecmp(b->logical, names[k].name)))
                continue;
            found = 1;
            enum df_state st = df_get_state(db->df, b->file_id);
            if (b->file_id == 1 || b->fg_id == 1)
                rc = bk_failf(err, 3013, "The PRIMARY filegroup cannot be restored while the database is online; "
                           "restore the whole database instead.");
            else if (st == DF_DEFUNCT)
                rc = bk_failf(err, 3013, "File '%s' is DEFUNCT (removed while offline) and can never be restored.",
                           b->logical);
            else if (st == DF_ONLINE)
                rc = bk_failf(err, 3013, "File '%s' is online. Take it offline first (ALTER DATABASE [%s] MODIFY "
                           "FILE (NAME = '%s', OFFLINE)) to restore it while the database stays online.",
                           b->logical, db->tdb.name, b->logical);
            else if (add_file(q, b->file_id) < 0)
                rc = bk_failf(err, 3013, "Too many files to restore in one sequence.");
        }
        if (rc == 0 && !found)
            rc = bk_failf(err, 3234, "Logical file '%s' is not part of database '%s'. Use RESTORE FILELISTONLY to "
                       "list the logical file names.", names[k].name, db->tdb.name);
    }
    free(bf);
    return rc;
}

/* Each file made anew at its path, at its size in the backup, with the
 * backup's pages (checked as they are read). */
static int load_files(media_reader *mr, int pos, pr_seq *q, restore_page_result *r, database *db, hdb_err *err)
{
    size_t nfl;
    const media_file_entry *fl = media_set_files(mr, pos, &nfl);
    for (int i = 0; i < q->nfiles; i++) {
        pr_file *pf = &q->files[i];
        const media_file_entry *e = NULL;
        for (size_t k = 0; k < nfl && !e; k++)
            if (fl[k].type == 'D' && fl[k].file_id == pf->id)
                e = &fl[k];
        const df_file_desc *d = df_file(db->df, pf->id);
        if (!e || !d)
            return bk_failf(err, 3013, "The backup set does not hold file %u of database '%s' (added after the "
                         "backup?).", pf->id, db->tdb.name);
        if (!(pf->f = fio_open(d->path, FIO_CREATE, err)) || fio_resize(pf->f, 0, err) < 0 ||
            fio_resize(pf->f, e->size, err) < 0)
            return -1;
        pf->pages = (uint32_t)(e->size / PAGE_SIZE);
        r->files[r->nfiles].file_id = pf->id;
        snprintf(r->files[r->nfiles].logical_name, sizeof r->files[0].logical_name, "%s", d->logical_name);
        r->nfiles++;
    }
    media_cursor *c = media_cursor_open(mr, pos, err);
    if (!c)
        return -1;
    media_page pg;
    int k;
    while ((k = media_next_page(c, &pg, err)) == 1) {
        int i = file_index(q, pg.file_id);
        if (i < 0)
            continue;
        pgid_t id = PGID(pg.file_id, pg.page_no), found = 0;
        if (page_verify(pg.image, id, NULL, NULL, &found) != 0) {
            media_cursor_close(c);
            return bk_failf(err, 3183, "RESTORE detected an error on page (%u:%u) in database \"%s\" as read from "
                         "the backup set.", pg.file_id, pg.page_no, db->tdb.name);
        }
        if (fio_pwrite(q->files[i].f, pg.image, PAGE_SIZE, (uint64_t)pg.page_no * PAGE_SIZE, err) < 0) {
            media_cursor_close(c);
            return -1;
        }
        r->files[i].pages++;
        r->r.pages++;
    }
    media_cursor_close(c);
    return k < 0 ? -1 : 0;
}

static int file_begin_on(instance *in, database *db, const restore_opts *o, const restore_file_name *names, int n,
                         restore_page_result *r, hdb_err *err)
{
    pr_seq *q = calloc(1, sizeof *q);
    if (!q)
        return no_memory(err);
    pthread_mutex_lock(&db->boot_mu);
    int model = db->boot.recovery_model;
    memcpy(q->guid, db->boot.guid, 16);
    pthread_mutex_unlock(&db->boot_mu);
    q->verify = df_page_verify(db->df);
    int rc = -1, pos;
    media_reader *mr = NULL;
    const media_set_header *h = NULL;
    uint64_t bytes = 0;
    if (model == RECOVERY_SIMPLE) {
        bk_failf(err, 3013, "An online file restore needs the full or bulk-logged recovery model: the log since the "
              "backup must be restored to the file.");
        goto out;
    }
    if (df_restore_owner(db->df)) {
        bk_failf(err, 3013, "A page or file restore sequence is already in progress for database '%s'. Finish it "
              "(RESTORE LOG ... WITH RECOVERY) first.", db->tdb.name);
        goto out;
    }
    if (check_options(o, err) < 0 || pick_files(db, names, n, q, err) < 0 ||
        !(mr = media_open(o->device_path, err)) || !(h = open_set(mr, o, db, MEDIA_TYPE_DATABASE, &pos, err)) ||
        load_files(mr, pos, q, r, db, err) < 0 || roll_images(db, q, mr, pos, 0, &bytes, err) < 0)
        goto out;
    q->applied_to = h->last_lsn;
    q->redo_target = log_end_lsn(db->tdb.log);   /* the files are closed: nothing newer reaches them */
    if (df_set_restore_pending(db->df, NULL, 0, q, seq_free) < 0) {
        bk_failf(err, 3013, "A page or file restore sequence is already in progress for database '%s'.", db->tdb.name);
        goto out;
    }
    r->r.set = *h;
    r->r.position = pos;
    r->r.log_bytes = bytes;
    r->r.restore_type = 'F';
    r->r.state = db->state;
    r->redo_target = q->redo_target;
    r->applied_to = q->applied_to;
    if (o->recovery == RESTORE_RECOVERY)
        r->r.info = 4339;
    inst_log(in, "File restore of database '%s' began: %d file(s), rolled forward to LSN %llu, redo target LSN "
             "%llu.", db->tdb.name, q->nfiles, ull(q->applied_to), ull(q->redo_target));
    q = NULL;   /* the database's now */
    rc = 0;
out:
    if (mr)
        media_close(mr);
    seq_free(q);
    return rc;
}

static int file_begin_step(instance *in, database *db, const step_args *a, restore_page_result *r, hdb_err *err)
{
    return file_begin_on(in, db, a->o, a->names, a->nnames, r, err);
}

int restore_file_begin(instance *in, const restore_opts *o, const restore_file_name *names, int n,
                       restore_page_result *r, hdb_err *err)
{
    memset(r, 0, sizeof *r);
    if (!o->device_path)
        return bk_failf(err, 3013, "RESTORE DATABASE ... FILE | FILEGROUP needs FROM: the full backup to take the "
                     "files from.");
    step_args a = { .o = o, .names = names, .nnames = n };
    return run_step(in, o->db_name, file_begin_step, &a, r, err);
}

int restore_page_active(instance *in, const char *db_name)
{
    database *db = inst_find_database(in, db_name ? db_name : "");
    return db && db->df && df_restore_owner(db->df) != NULL;
}

/* ---- finish ------------------------------------------------------------------- */

/* The images over the pages. Under the checkpoint mutex: a checkpoint
 * cannot move the redo point past a dropped dirty copy before the image
 * that replaces it is durable. The pool's copy is dropped before the write,
 * so no older copy can be written over the image afterwards. */
static int write_images(database *db, const pr_seq *q, hdb_err *err)
{
    _Alignas(64) uint8_t buf[PAGE_SIZE];
    for (int i = 0; i < q->n; i++) {
        bp_discard_page(db->bp, db->df, q->ids[i]);
        memcpy(buf, q->images + (size_t)i * PAGE_SIZE, PAGE_SIZE);   /* df_write_page seals its buffer */
        if (df_wal_flush(db->df, page_lsn(buf), err) < 0 || df_write_page(db->df, q->ids[i], buf, err) < 0)
            return -1;
        dcm_mark(df_dcm(db->df), q->ids[i]);
    }
    /* durable before anyone reads them (and before the next checkpoint) */
    return df_sync(db->df, err);
}

/* The rebuilt files join the database: synced, closed, opened as ONLINE
 * files, the state logged on the boot page and kept in master; their
 * extents marked changed (the next differential backup takes them). A file
 * already joined by an earlier, failed try is skipped. */
static int finish_files(instance *in, database *db, pr_seq *q, hdb_err *err)
{
    for (int i = 0; i < q->nfiles; i++)
        if (q->files[i].f && fio_sync(q->files[i].f, err) < 0)
            return -1;
    for (int i = 0; i < q->nfiles; i++) {
        pr_file *pf = &q->files[i];
        const df_file_desc *d = df_file(db->df, pf->id);
        if (!pf->f || !d)
            continue;
        df_file_desc desc = *d;
        fio_close(pf->f);
        pf->f = NULL;
        df_remove_file(db->df, pf->id);
        if (df_add_file(db->df, &desc, 0, err) < 0) {
            df_add_closed_file(db->df, &desc, DF_OFFLINE, NULL);   /* as it was */
            return -1;
        }
        for (uint32_t p = 0; p < pf->pages; p++)
            dcm_mark(df_dcm(db->df), PGID(pf->id, p));
        if (db_set_file_state(db, pf->id, DF_ONLINE, err) < 0 ||
            inst_set_file_state(in, db->tdb.id, pf->id, desc.path, DF_ONLINE, err) < 0)
            return -1;
        inst_log(in, "File '%s' of database '%s' is ONLINE again (file restore).", desc.logical_name,
                 db->tdb.name);
    }
    return 0;
}

static int finish(instance *in, database *db, pr_seq *q, restore_page_result *r, hdb_err *err)
{
    if (q->nfiles && finish_files(in, db, q, err) < 0)
        return -1;   /* the sequence stays: RESTORE DATABASE ... WITH RECOVERY tries again */
    pthread_mutex_lock(&db->ckpt_mu);
    int rc = write_images(db, q, err);
    if (rc == 0)
        df_clear_restore_pending(db->df);   /* returns q: ours to free below */
    pthread_mutex_unlock(&db->ckpt_mu);
    if (rc < 0)
        return -1;   /* still pending; RESTORE DATABASE ... WITH RECOVERY tries again */
    for (int i = 0; i < q->n; i++)
        suspect_page_note(in, db->tdb.id, q->ids[i], SUSPECT_RESTORED);
    hdb_err e;
    hdb_err_clear(&e);
    int left = deferred_retry(db, &e);
    if (left < 0)
        inst_log(in, "Page restore of database '%s': retrying its deferred transactions failed: %s", db->tdb.name,
                 e.msg);
    r->finished = 1;
    r->deferred_left = left > 0 ? left : 0;
    r->r.state = db->state;
    inst_log(in, "Page restore of database '%s' finished: %d page(s) restored up to LSN %llu; %d deferred "
             "transaction(s) remain.", db->tdb.name, q->n, ull(q->applied_to), r->deferred_left);
    seq_free(q);
    return 0;
}

/* ---- log steps ---------------------------------------------------------------- */

static pr_seq *seq_of(database *db, hdb_err *err)
{
    pr_seq *q = df_restore_owner(db->df);
    if (!q)
        bk_failf(err, 3117, "The log or differential backup cannot be restored because no files are ready to "
              "rollforward.");
    return q;
}

static int log_on(instance *in, database *db, const restore_opts *o, restore_page_result *r, hdb_err *err)
{
    pr_seq *q = seq_of(db, err);
    if (!q || check_options(o, err) < 0)
        return -1;
    media_reader *mr = media_open(o->device_path, err);
    if (!mr)
        return -1;
    int rc = -1, pos;
    const media_set_header *h = open_set(mr, o, db, MEDIA_TYPE_LOG, &pos, err);
    lsn_t R = q->applied_to;
    if (!h)
        goto out;
    if (h->last_lsn <= R) {
        too_early(err, h->last_lsn, R);
        goto out;
    }
    if (h->first_lsn > R || h->log_stream_first > R) {
        bk_failf(err, 4305, "The log in this backup set begins at LSN %llu, which is too recent to apply to the "
              "database. An earlier log backup that includes LSN %llu can be restored.", ull(h->first_lsn), ull(R));
        goto out;
    }
    /* RECOVERY must reach what the pages missed; refused before anything is applied */
    if (o->recovery == RESTORE_RECOVERY && h->last_lsn < q->redo_target) {
        too_early(err, h->last_lsn, q->redo_target);
        goto out;
    }
    if (roll_images(db, q, mr, pos, R, &r->r.log_bytes, err) < 0)
        goto out;
    q->applied_to = h->last_lsn;
    r->r.set = *h;
    r->r.position = pos;
    r->r.restore_type = 'L';
    r->r.state = db->state;
    r->redo_target = q->redo_target;
    r->applied_to = q->applied_to;
    rc = o->recovery == RESTORE_RECOVERY ? finish(in, db, q, r, err) : 0;
out:
    media_close(mr);
    return rc;
}

static int log_step(instance *in, database *db, const step_args *a, restore_page_result *r, hdb_err *err)
{
    return log_on(in, db, a->o, r, err);
}

int restore_page_log(instance *in, const restore_opts *o, restore_page_result *r, hdb_err *err)
{
    memset(r, 0, sizeof *r);
    step_args a = { .o = o };
    return run_step(in, o->db_name, log_step, &a, r, err);
}

static int recover_step(instance *in, database *db, const step_args *a, restore_page_result *r, hdb_err *err)
{
    (void)a;
    pr_seq *q = seq_of(db, err);
    if (!q)
        return -1;
    r->redo_target = q->redo_target;
    r->applied_to = q->applied_to;
    if (q->applied_to < q->redo_target)
        return bk_failf(err, 4326, "The pages being restored are rolled forward to LSN %llu, which is too early to "
                        "recover them. A more recent log backup that includes LSN %llu must be restored first.",
                        ull(q->applied_to), ull(q->redo_target));
    return finish(in, db, q, r, err);
}

int restore_page_recover(instance *in, const char *db_name, restore_page_result *r, hdb_err *err)
{
    memset(r, 0, sizeof *r);
    return run_step(in, db_name, recover_step, &(step_args){ 0 }, r, err);
}
