/*
 * exec_restore_info.c — RESTORE HEADERONLY / FILELISTONLY / LABELONLY /
 * VERIFYONLY: what a backup media holds, read through backup/media.h with
 * SQL Server's column names and types, and the helpers BACKUP and RESTORE
 * share for their messages (exec_backup.c).
 *
 * LSNs are shown as numeric(25,0) (hadrdb's byte LSNs, in decimal), times as
 * local datetime, GUIDs as uniqueidentifier; an LSN or GUID of 0 is NULL,
 * as the media layer stores "none".
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "backup/media.h"
#include "sql/exec_int.h"

/* ------------------------------------------------------------ shared helpers */

int bk_terminate(sql_session *s, const char *what)
{
    if (s->err.number && s->err.number != 3013)
        ex_report(s, &s->err, s->cur_line);
    return hdb_raise(&s->err, 3013, what), EX_ERROR;
}

int bk_fail_err(sql_session *s, const hdb_err *e, const char *what)
{
    s->err = *e;
    return bk_terminate(s, what);
}

bool bk_is_sysadmin(const sql_session *s)
{
    return strcasecmp(s->login, "sa") == 0;
}

/* µs since 1970 UTC -> local datetime value. */
sql_value bk_datetime(int64_t us_utc)
{
    if (!us_utc)
        return value_null(SQL_DATETIME);
    int64_t l, u;
    cv_now(&l, &u);
    int64_t us = us_utc + (l - u);
    int64_t days = us / 86400000000LL, rem = us % 86400000000LL;
    if (rem < 0) {
        rem += 86400000000LL;
        days--;
    }
    int32_t d1900 = (int32_t)(days + value_days_from_ymd(1970, 1, 1) - VALUE_DAYS_1900);
    return value_datetime(d1900, (uint32_t)(rem * 3 / 10000));
}

static sql_value lsn_val(lsn_t l)
{
    if (!l)
        return value_null(SQL_NUMERIC);
    sql_value v = value_decimal((__int128)l);
    v.type = SQL_NUMERIC;
    return v;
}

static sql_value num_val(uint64_t n)
{
    sql_value v = value_decimal((__int128)n);
    v.type = SQL_NUMERIC;
    return v;
}

static bool guid_zero(const uint8_t g[16])
{
    for (int i = 0; i < 16; i++)
        if (g[i])
            return false;
    return true;
}

static sql_value guid_val(const uint8_t g[16])
{
    return guid_zero(g) ? value_null(SQL_UNIQUEIDENTIFIER) : value_guid(g);
}

const char *bk_type_desc(int backup_type)
{
    switch (backup_type) {
    case MEDIA_TYPE_DATABASE: return "Database";
    case MEDIA_TYPE_LOG: return "Transaction Log";
    case MEDIA_TYPE_FILE: return "File or filegroup";
    case MEDIA_TYPE_DIFF_DATABASE: return "Database Differential";
    case MEDIA_TYPE_DIFF_FILE: return "File Differential";
    case MEDIA_TYPE_PARTIAL: return "Partial";
    case MEDIA_TYPE_DIFF_PARTIAL: return "Partial Differential";
    default: return "Unknown";
    }
}

const char *bk_model_desc(int model, bool dash)
{
    return model == 3 ? "SIMPLE" : model == 2 ? (dash ? "BULK-LOGGED" : "BULK_LOGGED") : "FULL";
}

/* The media at dev->path, opened for reading. 3201 when the file cannot be
 * opened at all, the media layer's errors (3241, 3254 ...) otherwise. */
media_reader *bk_open_media(sql_session *s, const bk_device *dev)
{
    if (access(dev->path, R_OK) != 0) {
        int e = errno;
        hdb_raise(&s->err, 3201, dev->given, e, strerror(e));
        return NULL;
    }
    return media_open(dev->path, &s->err);
}

/* ------------------------------------------------------------ result sets */

typedef struct colspec { const char *name; uint8_t id; int32_t len; uint8_t prec, nullable; } colspec;

#define NVC(n) SQL_NVARCHAR, (n) * 2
#define LSN_COL SQL_NUMERIC, 0, 25
#define NUM20 SQL_NUMERIC, 0, 20

static const colspec header_cols[] = {
    { "BackupName", NVC(128), 0, 1 }, { "BackupDescription", NVC(255), 0, 1 },
    { "BackupType", SQL_SMALLINT, 0, 0, 1 }, { "ExpirationDate", SQL_DATETIME, 0, 0, 1 },
    { "Compressed", SQL_BIT, 0, 0, 1 }, { "Position", SQL_SMALLINT, 0, 0, 1 },
    { "DeviceType", SQL_TINYINT, 0, 0, 1 }, { "UserName", NVC(128), 0, 1 },
    { "ServerName", NVC(128), 0, 1 }, { "DatabaseName", NVC(128), 0, 1 },
    { "DatabaseVersion", SQL_INT, 0, 0, 1 }, { "DatabaseCreationDate", SQL_DATETIME, 0, 0, 1 },
    { "BackupSize", NUM20, 1 }, { "FirstLSN", LSN_COL, 1 }, { "LastLSN", LSN_COL, 1 },
    { "CheckpointLSN", LSN_COL, 1 }, { "DatabaseBackupLSN", LSN_COL, 1 },
    { "BackupStartDate", SQL_DATETIME, 0, 0, 1 }, { "BackupFinishDate", SQL_DATETIME, 0, 0, 1 },
    { "SortOrder", SQL_SMALLINT, 0, 0, 1 }, { "CodePage", SQL_SMALLINT, 0, 0, 1 },
    { "UnicodeLocaleId", SQL_INT, 0, 0, 1 }, { "UnicodeComparisonStyle", SQL_INT, 0, 0, 1 },
    { "CompatibilityLevel", SQL_TINYINT, 0, 0, 1 }, { "SoftwareVendorId", SQL_INT, 0, 0, 1 },
    { "SoftwareVersionMajor", SQL_INT, 0, 0, 1 }, { "SoftwareVersionMinor", SQL_INT, 0, 0, 1 },
    { "SoftwareVersionBuild", SQL_INT, 0, 0, 1 }, { "MachineName", NVC(128), 0, 1 },
    { "Flags", SQL_INT, 0, 0, 1 }, { "BindingID", SQL_UNIQUEIDENTIFIER, 0, 0, 1 },
    { "RecoveryForkID", SQL_UNIQUEIDENTIFIER, 0, 0, 1 }, { "Collation", NVC(128), 0, 1 },
    { "FamilyGUID", SQL_UNIQUEIDENTIFIER, 0, 0, 1 }, { "HasBulkLoggedData", SQL_BIT, 0, 0, 1 },
    { "IsSnapshot", SQL_BIT, 0, 0, 1 }, { "IsReadOnly", SQL_BIT, 0, 0, 1 },
    { "IsSingleUser", SQL_BIT, 0, 0, 1 }, { "HasBackupChecksums", SQL_BIT, 0, 0, 1 },
    { "IsDamaged", SQL_BIT, 0, 0, 1 }, { "BeginsLogChain", SQL_BIT, 0, 0, 1 },
    { "HasIncompleteMetaData", SQL_BIT, 0, 0, 1 }, { "IsForceOffline", SQL_BIT, 0, 0, 1 },
    { "IsCopyOnly", SQL_BIT, 0, 0, 1 }, { "FirstRecoveryForkID", SQL_UNIQUEIDENTIFIER, 0, 0, 1 },
    { "ForkPointLSN", LSN_COL, 1 }, { "RecoveryModel", NVC(60), 0, 1 },
    { "DifferentialBaseLSN", LSN_COL, 1 }, { "DifferentialBaseGUID", SQL_UNIQUEIDENTIFIER, 0, 0, 1 },
    { "BackupTypeDescription", NVC(60), 0, 1 }, { "BackupSetGUID", SQL_UNIQUEIDENTIFIER, 0, 0, 1 },
    { "CompressedBackupSize", SQL_BIGINT, 0, 0, 1 }, { "containment", SQL_TINYINT, 0, 0, 1 },
    { "KeyAlgorithm", NVC(32), 0, 1 }, { "EncryptorThumbprint", SQL_VARBINARY, 20, 0, 1 },
    { "EncryptorType", NVC(32), 0, 1 },
};

static const colspec filelist_cols[] = {
    { "LogicalName", NVC(128), 0, 0 }, { "PhysicalName", NVC(260), 0, 0 }, { "Type", SQL_CHAR, 1, 0, 0 },
    { "FileGroupName", NVC(128), 0, 1 }, { "Size", NUM20, 0 }, { "MaxSize", NUM20, 0 },
    { "FileID", SQL_BIGINT, 0, 0, 0 }, { "CreateLSN", LSN_COL, 0 }, { "DropLSN", LSN_COL, 1 },
    { "UniqueID", SQL_UNIQUEIDENTIFIER, 0, 0, 0 }, { "ReadOnlyLSN", LSN_COL, 1 },
    { "ReadWriteLSN", LSN_COL, 1 }, { "BackupSizeInBytes", SQL_BIGINT, 0, 0, 0 },
    { "SourceBlockSize", SQL_INT, 0, 0, 0 }, { "FileGroupID", SQL_INT, 0, 0, 0 },
    { "LogGroupGUID", SQL_UNIQUEIDENTIFIER, 0, 0, 1 }, { "DifferentialBaseLSN", LSN_COL, 1 },
    { "DifferentialBaseGUID", SQL_UNIQUEIDENTIFIER, 0, 0, 1 }, { "IsReadOnly", SQL_BIT, 0, 0, 0 },
    { "IsPresent", SQL_BIT, 0, 0, 0 }, { "TDEThumbprint", SQL_VARBINARY, 32, 0, 1 },
    { "SnapshotURL", NVC(360), 0, 1 },
};

static const colspec label_cols[] = {
    { "MediaName", NVC(128), 0, 1 }, { "MediaSetId", SQL_UNIQUEIDENTIFIER, 0, 0, 1 },
    { "FamilyCount", SQL_INT, 0, 0, 1 }, { "FamilySequenceNumber", SQL_INT, 0, 0, 1 },
    { "MediaFamilyId", SQL_UNIQUEIDENTIFIER, 0, 0, 1 }, { "MediaSequenceNumber", SQL_INT, 0, 0, 1 },
    { "MediaLabelPresent", SQL_TINYINT, 0, 0, 1 }, { "MediaDescription", NVC(255), 0, 1 },
    { "SoftwareName", NVC(128), 0, 1 }, { "SoftwareVendorId", SQL_INT, 0, 0, 1 },
    { "MediaDate", SQL_DATETIME, 0, 0, 1 }, { "Mirror_Count", SQL_INT, 0, 0, 1 },
    { "IsCompressed", SQL_BIT, 0, 0, 1 },
};

#define NCOLS(a) ((int)(sizeof(a) / sizeof((a)[0])))

typedef struct rs {
    sql_session *s;
    sql_column  *cols;
    int          ncols;
    sql_value   *row;
    int          col;
    uint64_t     rows;
} rs;

static int rs_begin(rs *r, sql_session *s, const colspec *spec, int n)
{
    memset(r, 0, sizeof *r);
    r->s = s;
    r->ncols = n;
    r->cols = arena_calloc(&s->stmt_arena, sizeof *r->cols * (size_t)n);
    r->row = arena_calloc(&s->stmt_arena, sizeof *r->row * (size_t)n);
    if (!r->cols || !r->row)
        return ex_failf(s, 701, 19, 1, "There is insufficient system memory to run this query.");
    for (int i = 0; i < n; i++) {
        r->cols[i].name = spec[i].name;
        r->cols[i].type = value_type(spec[i].id, spec[i].len, spec[i].prec, 0);
        r->cols[i].nullable = spec[i].nullable;
    }
    if (s->sink && s->sink->columns && s->sink->columns(s->sink->ctx, r->cols, n) < 0) {
        s->sink_failed = true;
        return EX_FATAL;
    }
    return EX_OK;
}

static void put(rs *r, sql_value v)
{
    if (r->col < r->ncols)
        r->row[r->col++] = v;
}
static void put_s(rs *r, const char *utf8)
{
    put(r, utf8 ? cv_str(&r->s->row_arena, utf8, r->cols[r->col].type.id != SQL_CHAR) : value_null(SQL_NVARCHAR));
}
static void put_sn(rs *r, const char *utf8)   /* "" = NULL */
{
    put_s(r, utf8 && utf8[0] ? utf8 : NULL);
}
static void put_i(rs *r, int64_t v)
{
    put(r, value_int(r->cols[r->col < r->ncols ? r->col : 0].type.id, v));
}
static void put_null(rs *r)
{
    put(r, value_null(r->cols[r->col < r->ncols ? r->col : 0].type.id));
}

static int rs_row(rs *r)
{
    sql_session *s = r->s;
    while (r->col < r->ncols)
        put_null(r);
    int rc = ex_send_built_row(s, r->cols, r->ncols, r->row);
    if (rc != EX_OK)
        return rc;
    r->col = 0;
    r->rows++;
    return EX_OK;
}

static int rs_end(rs *r)
{
    r->s->rowcount = (int64_t)r->rows;
    return ex_done(r->s, 0, CMD_SELECT, r->rows, true);
}

/* ------------------------------------------------------------ the statements */

static int header_row(rs *r, const media_set_header *h)
{
    uint32_t f = h->flags;
    put_sn(r, h->name);
    put_sn(r, h->description);
    put_i(r, h->backup_type);
    put(r, bk_datetime(h->expiration_date));
    put_i(r, h->compression != MEDIA_COMPRESS_NONE);
    put_i(r, h->position);
    put_i(r, h->device_type ? h->device_type : 2);
    put_s(r, h->user_name);
    put_s(r, h->server_name);
    put_s(r, h->database_name);
    put_i(r, h->database_version);
    put(r, bk_datetime(h->database_creation_date));
    put(r, num_val(h->backup_size));
    put(r, lsn_val(h->first_lsn));
    put(r, lsn_val(h->last_lsn));
    put(r, lsn_val(h->checkpoint_lsn));
    put(r, lsn_val(h->database_backup_lsn));
    put(r, bk_datetime(h->backup_start_date));
    put(r, bk_datetime(h->backup_finish_date));
    put_i(r, h->sort_order);
    put_i(r, h->code_page);
    put_i(r, h->unicode_locale_id);
    put_i(r, h->unicode_comparison_style);
    put_i(r, h->compatibility_level);
    put_i(r, h->software_vendor_id);
    put_i(r, h->software_major);
    put_i(r, h->software_minor);
    put_i(r, h->software_build);
    put_s(r, h->machine_name);
    put_i(r, f & MEDIA_FLAG_SQL_MASK);
    put(r, guid_val(h->binding_id));
    put(r, guid_val(h->recovery_fork_id));
    put_sn(r, h->collation);
    put(r, guid_val(h->family_guid));
    put_i(r, !!(f & MEDIA_FLAG_BULK_LOGGED));
    put_i(r, !!(f & MEDIA_FLAG_SNAPSHOT));
    put_i(r, !!(f & MEDIA_FLAG_READ_ONLY));
    put_i(r, !!(f & MEDIA_FLAG_SINGLE_USER));
    put_i(r, !!(f & MEDIA_FLAG_CHECKSUMS));
    put_i(r, !!(f & MEDIA_FLAG_DAMAGED));
    put_i(r, !!(f & MEDIA_FLAG_BEGINS_LOG_CHAIN));
    put_i(r, !!(f & MEDIA_FLAG_INCOMPLETE_METADATA));
    put_i(r, !!(f & MEDIA_FLAG_FORCE_OFFLINE));
    put_i(r, !!(f & MEDIA_FLAG_COPY_ONLY));
    put(r, guid_val(h->first_recovery_fork_id));
    put(r, lsn_val(h->fork_point_lsn));
    put_s(r, bk_model_desc(h->recovery_model, true));
    put(r, lsn_val(h->differential_base_lsn));
    put(r, guid_val(h->differential_base_guid));
    put_s(r, bk_type_desc(h->backup_type));
    put(r, guid_val(h->backup_set_guid));
    put_i(r, (int64_t)h->compressed_backup_size);
    put_i(r, h->containment);
    return rs_row(r);   /* KeyAlgorithm, EncryptorThumbprint, EncryptorType: NULL */
}

static int file_row(rs *r, const media_file_entry *f)
{
    put_s(r, f->logical_name);
    put_s(r, f->physical_name);
    char t[2] = { f->type, 0 };
    put_s(r, t);
    put_sn(r, f->filegroup_name);
    put(r, num_val(f->size));
    put(r, num_val(f->max_size));
    put_i(r, f->file_id);
    sql_value cl = lsn_val(f->create_lsn);
    put(r, cl.is_null ? num_val(0) : cl);
    put(r, lsn_val(f->drop_lsn));
    put(r, value_guid(f->unique_id));
    put(r, lsn_val(f->read_only_lsn));
    put(r, lsn_val(f->read_write_lsn));
    put_i(r, (int64_t)f->backup_size);
    put_i(r, f->source_block_size);
    put_i(r, f->filegroup_id);
    put_null(r);
    put(r, lsn_val(f->differential_base_lsn));
    put(r, guid_val(f->differential_base_guid));
    put_i(r, f->is_read_only);
    put_i(r, f->is_present);
    return rs_row(r);
}

static int file_option(sql_session *s, const ast_option_list *with, int *file)
{
    const ast_option *o = ast_option_find(with, "FILE");
    *file = 0;
    if (!o || !o->value)
        return EX_OK;
    sql_value v;
    sql_type t;
    if (ex_eval_scalar(s, o->value, &v, &t) < 0)
        return EX_ERROR;
    if (v.is_null || !ty_int(t.id) || v.u.i < 1 || v.u.i > 65535)
        return ex_failf(s, 3250, 16, 1, "The value '%s' is not within range for the FILE parameter.",
                        v.is_null ? "NULL" : cv_utf8(&s->stmt_arena, &v, &t));
    *file = (int)v.u.i;
    return EX_OK;
}

int ex_restore_info(sql_session *s, ast_stmt *st)
{
    ast_restore *rq = &st->u.restore;
    static const char *const what[] = { [RESTORE_HEADERONLY] = "RESTORE HEADERONLY",
        [RESTORE_FILELISTONLY] = "RESTORE FILELISTONLY", [RESTORE_VERIFYONLY] = "VERIFY DATABASE",
        [RESTORE_LABELONLY] = "RESTORE LABELONLY", [RESTORE_REWINDONLY] = "RESTORE REWINDONLY" };
    const char *name = what[rq->kind] ? what[rq->kind] : "RESTORE";
    if (rq->kind == RESTORE_REWINDONLY)
        return ex_failf(s, 40027, 16, 1, "RESTORE REWINDONLY is not supported (tape only).");
    if (!bk_is_sysadmin(s))
        return ex_failf(s, 262, 14, 1, "CREATE DATABASE permission denied in database 'master'.");
    if (rq->from.n != 1)
        return ex_failf(s, 40027, 16, 1, "%s from %d devices is not supported yet: one media family per backup.",
                        name, rq->from.n);
    bk_device devbuf, *dev = &devbuf;
    if (bk_resolve_device(s, rq->from.v[0], dev) != EX_OK)
        return bk_terminate(s, name);
    int file;
    if (file_option(s, &rq->with, &file) != EX_OK)
        return bk_terminate(s, name);
    static const char *const unsupported[] = { "PASSWORD", "MEDIAPASSWORD", "MOVE", "LOADHISTORY", "CREDENTIAL" };
    for (size_t i = 0; i < sizeof unsupported / sizeof *unsupported; i++)
        if (ast_option_find(&rq->with, unsupported[i]))
            return ex_failf(s, 40027, 16, 1, "%s WITH %s is not supported yet.", name, unsupported[i]);
    media_reader *m = bk_open_media(s, dev);
    if (!m)
        return bk_terminate(s, name);
    const ast_option *mn = ast_option_find(&rq->with, "MEDIANAME");
    if (mn && mn->value) {
        sql_value v;
        sql_type t;
        if (ex_eval_scalar(s, mn->value, &v, &t) < 0) {
            media_close(m);
            return EX_ERROR;
        }
        const char *want = v.is_null ? "" : cv_utf8(&s->stmt_arena, &v, &t);
        if (strcmp(want, media_label(m)->name) != 0) {
            char msg[HDB_ERR_MSG_MAX];
            snprintf(msg, sizeof msg, "The user-specified MEDIANAME \"%.200s\" does not match the MEDIANAME \"%.200s\" of the device \"%.400s\".",
                     want, media_label(m)->name, dev->given);
            hdb_raise_text(&s->err, 4037, 16, 1, msg);
            media_close(m);
            return bk_terminate(s, name);
        }
    }
    int n = media_set_count(m);
    int rc = EX_OK;
    rs r;
    switch (rq->kind) {
    case RESTORE_HEADERONLY:
        if (n == 0 && media_tail_error(m, &s->err) < 0) {
            rc = bk_terminate(s, name);
            break;
        }
        if (file && file > n) {
            hdb_raise(&s->err, 4038, file, dev->given);
            rc = bk_terminate(s, name);
            break;
        }
        if ((rc = rs_begin(&r, s, header_cols, NCOLS(header_cols))) != EX_OK)
            break;
        for (int i = 1; i <= n && rc == EX_OK; i++)
            if (!file || i == file)
                rc = header_row(&r, media_set_at(m, i));
        if (rc == EX_OK)
            rc = rs_end(&r);
        break;
    case RESTORE_FILELISTONLY: {
        int pos = file ? file : 1;
        if (pos > n) {
            if (pos != n + 1 || media_tail_error(m, &s->err) == 0)
                hdb_raise(&s->err, 4038, pos, dev->given);
            rc = bk_terminate(s, name);
            break;
        }
        size_t nf = 0;
        const media_file_entry *fe = media_set_files(m, pos, &nf);
        if ((rc = rs_begin(&r, s, filelist_cols, NCOLS(filelist_cols))) != EX_OK)
            break;
        for (size_t i = 0; i < nf && rc == EX_OK; i++)
            rc = file_row(&r, &fe[i]);
        if (rc == EX_OK)
            rc = rs_end(&r);
        break;
    }
    case RESTORE_LABELONLY: {
        const media_header *h = media_label(m);
        bool compressed = false;
        for (int i = 1; i <= n; i++)
            compressed = compressed || media_set_at(m, i)->compression != MEDIA_COMPRESS_NONE;
        if ((rc = rs_begin(&r, s, label_cols, NCOLS(label_cols))) != EX_OK)
            break;
        put_sn(&r, h->name);
        put(&r, guid_val(h->media_set_guid));
        put_i(&r, h->family_count);
        put_i(&r, h->family_sequence);
        put(&r, guid_val(h->media_family_guid));
        put_i(&r, h->media_sequence);
        put_i(&r, 1);
        put_sn(&r, h->description);
        put_s(&r, h->software_name);
        put_i(&r, h->software_vendor_id);
        put(&r, bk_datetime(h->media_date));
        put_i(&r, h->mirror_count);
        put_i(&r, compressed);
        if ((rc = rs_row(&r)) == EX_OK)
            rc = rs_end(&r);
        break;
    }
    case RESTORE_VERIFYONLY: {
        int pos = file ? file : 1;
        const media_set_header *h = media_set_at(m, pos);
        if (!h) {
            if (pos != n + 1 || media_tail_error(m, &s->err) == 0)
                hdb_raise(&s->err, 4038, pos, dev->given);
            rc = bk_terminate(s, name);
            break;
        }
        if (ast_option_find(&rq->with, "CHECKSUM") && !(h->flags & MEDIA_FLAG_CHECKSUMS)) {
            hdb_raise(&s->err, 3187);
            rc = bk_terminate(s, name);
            break;
        }
        if (media_verify(m, pos, bk_verify_page, (void *)h, &s->err) < 0) {
            rc = bk_terminate(s, name);
            break;
        }
        char msg[100];
        snprintf(msg, sizeof msg, "The backup set on file %d is valid.", pos);
        ex_info(s, 3262, 10, 1, msg);
        rc = ex_done(s, 0, CMD_NONE, 0, false);
        break;
    }
    default:
        rc = ex_failf(s, 40027, 16, 1, "%s is not supported yet.", name);
    }
    media_close(m);
    return rc;
}

/* VERIFYONLY's page check: each page's checksum and self id (3183), when the
 * set says its pages were verified while read (HasBackupChecksums). */
int bk_verify_page(void *ctx, const media_page *pg, hdb_err *err)
{
    const media_set_header *h = ctx;
    if (!h || !(h->flags & MEDIA_FLAG_CHECKSUMS) || page_is_zero(pg->image))
        return 0;
    uint32_t want, got;
    pgid_t found;
    if (page_verify(pg->image, PGID(pg->file_id, pg->page_no), &want, &got, &found) == 0)
        return 0;
    char msg[700];
    snprintf(msg, sizeof msg, "RESTORE detected an error on page (%u:%u) in database \"%.300s\" as read from the backup set.",
             pg->file_id, pg->page_no, h->database_name);
    return hdb_raise_text(err, 3183, 16, 1, msg);
}
