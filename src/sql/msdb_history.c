/*
 * msdb_history.c — msdb's backup and restore history: msdb.dbo.backupset,
 * backupmediaset, backupmediafamily, backupfile, restorehistory, restorefile,
 * restorefilegroup, and the marks of committed marked transactions,
 * msdb.dbo.logmarkhistory, with SQL Server's column names and types (the
 * columns DBAs query; encryption and tape-only columns stay NULL).
 *
 * They are ordinary user tables of msdb, created at server start when
 * missing (a new data directory, or one from before they existed), so DBAs
 * can query, join and purge them as on SQL Server. Rows are written by
 * T-SQL run in a private session (its own transaction, no client): a
 * finished BACKUP or RESTORE inserts them; if that fails the operation still
 * stands and the user gets a warning (SQL Server's 3009).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "backup/backup.h"
#include "backup/restore.h"
#include "sql/exec_int.h"

static const struct { const char *name; const char *ddl; } tables[] = {
    { "backupmediaset",
      "CREATE TABLE dbo.backupmediaset (media_set_id int IDENTITY(1,1) NOT NULL PRIMARY KEY, "
      "media_uuid uniqueidentifier NULL, media_family_count tinyint NULL, name nvarchar(128) NULL, "
      "description nvarchar(255) NULL, software_name nvarchar(128) NULL, software_vendor_id int NULL, "
      "MTF_major_version tinyint NULL, mirror_count tinyint NULL, is_password_protected bit NULL, "
      "is_compressed bit NULL, is_encrypted bit NULL)" },
    { "backupmediafamily",
      "CREATE TABLE dbo.backupmediafamily (media_set_id int NOT NULL, family_sequence_number tinyint NOT NULL, "
      "media_family_id uniqueidentifier NULL, media_count int NULL, logical_device_name nvarchar(128) NULL, "
      "physical_device_name nvarchar(260) NULL, device_type tinyint NULL, physical_block_size int NULL, "
      "mirror tinyint NOT NULL, PRIMARY KEY (media_set_id, family_sequence_number, mirror))" },
    { "backupset",
      "CREATE TABLE dbo.backupset (backup_set_id int IDENTITY(1,1) NOT NULL PRIMARY KEY, "
      "backup_set_uuid uniqueidentifier NOT NULL, media_set_id int NOT NULL, first_family_number tinyint NULL, "
      "first_media_number smallint NULL, last_family_number tinyint NULL, last_media_number smallint NULL, "
      "catalog_family_number tinyint NULL, catalog_media_number smallint NULL, position int NULL, "
      "expiration_date datetime NULL, software_vendor_id int NULL, name nvarchar(128) NULL, "
      "description nvarchar(255) NULL, user_name nvarchar(128) NULL, software_major_version tinyint NULL, "
      "software_minor_version tinyint NULL, software_build_version smallint NULL, time_zone smallint NULL, "
      "mtf_minor_version tinyint NULL, first_lsn numeric(25,0) NULL, last_lsn numeric(25,0) NULL, "
      "checkpoint_lsn numeric(25,0) NULL, database_backup_lsn numeric(25,0) NULL, "
      "database_creation_date datetime NULL, backup_start_date datetime NULL, backup_finish_date datetime NULL, "
      "type char(1) NULL, sort_order smallint NULL, code_page smallint NULL, compatibility_level tinyint NULL, "
      "database_version int NULL, backup_size numeric(20,0) NULL, database_name nvarchar(128) NULL, "
      "server_name nvarchar(128) NULL, machine_name nvarchar(128) NULL, flags int NULL, "
      "unicode_locale int NULL, unicode_compare_style int NULL, collation_name nvarchar(128) NULL, "
      "is_password_protected bit NULL, recovery_model nvarchar(60) NULL, has_bulk_logged_data bit NULL, "
      "is_snapshot bit NULL, is_readonly bit NULL, is_single_user bit NULL, has_backup_checksums bit NULL, "
      "is_damaged bit NULL, begins_log_chain bit NULL, has_incomplete_metadata bit NULL, "
      "is_force_offline bit NULL, is_copy_only bit NULL, first_recovery_fork_guid uniqueidentifier NULL, "
      "last_recovery_fork_guid uniqueidentifier NULL, fork_point_lsn numeric(25,0) NULL, "
      "database_guid uniqueidentifier NULL, family_guid uniqueidentifier NULL, "
      "differential_base_lsn numeric(25,0) NULL, differential_base_guid uniqueidentifier NULL, "
      "compressed_backup_size numeric(20,0) NULL, key_algorithm nvarchar(32) NULL, "
      "encryptor_thumbprint varbinary(20) NULL, encryptor_type nvarchar(32) NULL, "
      "last_valid_restore_time datetime NULL, compression_algorithm nvarchar(32) NULL)" },
    { "backupfile",
      "CREATE TABLE dbo.backupfile (backup_set_id int NOT NULL, first_family_number tinyint NULL, "
      "first_media_number smallint NULL, filegroup_name nvarchar(128) NULL, page_size int NULL, "
      "file_number numeric(10,0) NOT NULL, backed_up_page_count numeric(10,0) NULL, file_type char(1) NULL, "
      "source_file_block_size numeric(10,0) NULL, file_size numeric(20,0) NULL, logical_name nvarchar(128) NULL, "
      "physical_drive nvarchar(260) NULL, physical_name nvarchar(260) NULL, state tinyint NULL, "
      "state_desc nvarchar(64) NULL, create_lsn numeric(25,0) NULL, drop_lsn numeric(25,0) NULL, "
      "file_guid uniqueidentifier NULL, read_only_lsn numeric(25,0) NULL, read_write_lsn numeric(25,0) NULL, "
      "differential_base_lsn numeric(25,0) NULL, differential_base_guid uniqueidentifier NULL, "
      "backup_size numeric(20,0) NULL, filegroup_guid uniqueidentifier NULL, is_readonly bit NULL, "
      "is_present bit NULL, PRIMARY KEY (backup_set_id, file_number))" },
    { "restorehistory",
      "CREATE TABLE dbo.restorehistory (restore_history_id int IDENTITY(1,1) NOT NULL PRIMARY KEY, "
      "restore_date datetime NULL, destination_database_name nvarchar(128) NULL, user_name nvarchar(128) NULL, "
      "backup_set_id int NOT NULL, restore_type char(1) NULL, replace bit NULL, recovery bit NULL, "
      "restart bit NULL, stop_at datetime NULL, device_count tinyint NULL, stop_at_mark_name nvarchar(128) NULL, "
      "stop_before bit NULL)" },
    { "restorefile",
      "CREATE TABLE dbo.restorefile (restore_history_id int NOT NULL, file_number numeric(10,0) NOT NULL, "
      "destination_phys_drive nvarchar(260) NULL, destination_phys_name nvarchar(260) NULL, "
      "PRIMARY KEY (restore_history_id, file_number))" },
    { "restorefilegroup",
      "CREATE TABLE dbo.restorefilegroup (restore_history_id int NOT NULL, filegroup_name nvarchar(128) NOT NULL, "
      "PRIMARY KEY (restore_history_id, filegroup_name))" },
    { "logmarkhistory",
      "CREATE TABLE dbo.logmarkhistory (database_name nvarchar(128) NOT NULL, mark_name nvarchar(128) NOT NULL, "
      "description nvarchar(255) NULL, user_name nvarchar(128) NULL, lsn numeric(25,0) NOT NULL, "
      "mark_time datetime NOT NULL)" },
};

/* ------------------------------------------------------------ a private session */

typedef struct quiet_sink {
    hdb_err first;          /* first error the batch raised */
} quiet_sink;

static int q_message(void *ctx, const hdb_err *e, int is_error, const char *proc, int line)
{
    quiet_sink *q = ctx;
    if (is_error && !q->first.number)
        q->first = *e;
    return 0;
}

/* Run `sql` in msdb as sa, outside any user's transaction. */
static int run_in_msdb(instance *in, const char *sql, hdb_err *err)
{
    sql_login_info li = { .spid = 0, .login = "sa", .database = "msdb", .app = "hadrdb history" };
    sql_session *s = sql_session_open(in, &li, err);
    if (!s)
        return -1;
    quiet_sink q = { { 0 } };
    sql_sink sink = { .ctx = &q, .message = q_message };
    int rc = sql_execute_batch(s, sql, strlen(sql), 0, &sink);
    sql_session_close(s);
    if (rc < 0 || q.first.number) {
        if (err)
            *err = q.first.number ? q.first : (hdb_err){ 3009, 16, 1, "Could not write msdb history." };
        return -1;
    }
    return 0;
}

int sql_msdb_prepare(instance *in, hdb_err *err)
{
    database *msdb = inst_database(in, DBID_MSDB);
    if (!msdb || msdb->state != DB_ONLINE)
        return 0;
    for (size_t i = 0; i < sizeof tables / sizeof tables[0]; i++) {
        hdb_err e;
        if (cat_find_table(msdb, SCHEMA_DBO, tables[i].name, &e))
            continue;
        if (run_in_msdb(in, tables[i].ddl, err) < 0)
            return -1;
    }
    return 0;
}

/* ------------------------------------------------------------ T-SQL text */

typedef struct sbuf {
    char  *p;
    size_t len, cap;
    bool   oom;
} sbuf;

static void sb_add(sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb_add(sbuf *b, const char *fmt, ...)
{
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(b->p ? b->p + b->len : NULL, b->p ? b->cap - b->len : 0, fmt, ap);
        va_end(ap);
        if (n < 0) {
            b->oom = true;
            return;
        }
        if (b->p && b->len + (size_t)n < b->cap) {
            b->len += (size_t)n;
            return;
        }
        size_t nc = (b->cap ? b->cap * 2 : 4096) + (size_t)n;
        char *np = realloc(b->p, nc);
        if (!np) {
            b->oom = true;
            return;
        }
        b->p = np;
        b->cap = nc;
    }
}

/* N'text' with quotes doubled, or NULL. */
static void sb_str(sbuf *b, const char *s)
{
    if (!s) {
        sb_add(b, "NULL");
        return;
    }
    sb_add(b, "N'");
    for (const char *p = s; *p; p++)
        sb_add(b, *p == '\'' ? "''" : "%c", *p);
    sb_add(b, "'");
}

static void sb_strn(sbuf *b, const char *s)   /* "" = NULL */
{
    sb_str(b, s && s[0] ? s : NULL);
}

static void sb_lsn(sbuf *b, lsn_t l)
{
    if (l)
        sb_add(b, "%llu", (unsigned long long)l);
    else
        sb_add(b, "NULL");
}

static void sb_guid(sbuf *b, const uint8_t g[16])
{
    int zero = 1;
    for (int i = 0; i < 16; i++)
        zero &= !g[i];
    if (zero) {
        sb_add(b, "NULL");
        return;
    }
    /* SQL Server's text form: the first three groups little-endian */
    sb_add(b, "'%02X%02X%02X%02X-%02X%02X-%02X%02X-%02X%02X-%02X%02X%02X%02X%02X%02X'", g[3], g[2], g[1], g[0],
           g[5], g[4], g[7], g[6], g[8], g[9], g[10], g[11], g[12], g[13], g[14], g[15]);
}

/* Local datetime literal of µs since 1970 UTC, or NULL. */
static void sb_time(sbuf *b, int64_t us)
{
    if (!us) {
        sb_add(b, "NULL");
        return;
    }
    time_t t = (time_t)(us / 1000000);
    struct tm tm;
    localtime_r(&t, &tm);
    sb_add(b, "'%04d-%02d-%02dT%02d:%02d:%02d.%03d'", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
           tm.tm_min, tm.tm_sec, (int)(us / 1000 % 1000));
}

static char type_letter(int backup_type)
{
    switch (backup_type) {
    case MEDIA_TYPE_DATABASE: return 'D';
    case MEDIA_TYPE_DIFF_DATABASE: return 'I';
    case MEDIA_TYPE_LOG: return 'L';
    case MEDIA_TYPE_FILE: return 'F';
    case MEDIA_TYPE_DIFF_FILE: return 'G';
    case MEDIA_TYPE_PARTIAL: return 'P';
    case MEDIA_TYPE_DIFF_PARTIAL: return 'Q';
    default: return 'D';
    }
}

/* The media set (found by its GUID or added with its family), then the
 * backup set; leaves @bs = its backup_set_id. */
static void sb_backupset(sbuf *b, const media_header *mh, const media_set_header *h, const bk_device *dev,
                         const media_file_entry *files, size_t nfiles)
{
    uint32_t f = h->flags;
    sb_add(b, "DECLARE @ms int, @bs int;\n");
    sb_add(b, "SELECT @bs = backup_set_id FROM dbo.backupset WHERE backup_set_uuid = ");
    sb_guid(b, h->backup_set_guid);
    sb_add(b, ";\nIF @bs IS NULL BEGIN\n");
    sb_add(b, "SELECT @ms = media_set_id FROM dbo.backupmediaset WHERE media_uuid = ");
    sb_guid(b, mh->media_set_guid);
    sb_add(b, ";\nIF @ms IS NULL BEGIN\n"
              "INSERT INTO dbo.backupmediaset (media_uuid, media_family_count, name, description, software_name, "
              "software_vendor_id, MTF_major_version, mirror_count, is_password_protected, is_compressed, is_encrypted) "
              "VALUES (");
    sb_guid(b, mh->media_set_guid);
    sb_add(b, ", %u, ", mh->family_count);
    sb_strn(b, mh->name);
    sb_add(b, ", ");
    sb_strn(b, mh->description);
    sb_add(b, ", ");
    sb_strn(b, mh->software_name);
    sb_add(b, ", %u, 1, %u, 0, %d, 0);\nSET @ms = SCOPE_IDENTITY();\n", mh->software_vendor_id, mh->mirror_count,
           h->compression != MEDIA_COMPRESS_NONE);
    sb_add(b, "INSERT INTO dbo.backupmediafamily (media_set_id, family_sequence_number, media_family_id, media_count, "
              "logical_device_name, physical_device_name, device_type, physical_block_size, mirror) VALUES (@ms, %u, ",
           mh->family_sequence);
    sb_guid(b, mh->media_family_guid);
    sb_add(b, ", %u, ", mh->media_sequence);
    sb_strn(b, dev ? dev->logical : NULL);
    sb_add(b, ", ");
    sb_str(b, dev ? dev->path : "");
    sb_add(b, ", %d, 4096, 0);\nEND\n", dev && dev->logical[0] ? 105 : 2);

    sb_add(b, "INSERT INTO dbo.backupset (backup_set_uuid, media_set_id, first_family_number, first_media_number, "
              "last_family_number, last_media_number, catalog_family_number, catalog_media_number, position, "
              "expiration_date, software_vendor_id, name, description, user_name, software_major_version, "
              "software_minor_version, software_build_version, time_zone, mtf_minor_version, first_lsn, last_lsn, "
              "checkpoint_lsn, database_backup_lsn, database_creation_date, backup_start_date, backup_finish_date, "
              "type, sort_order, code_page, compatibility_level, database_version, backup_size, database_name, "
              "server_name, machine_name, flags, unicode_locale, unicode_compare_style, collation_name, "
              "is_password_protected, recovery_model, has_bulk_logged_data, is_snapshot, is_readonly, is_single_user, "
              "has_backup_checksums, is_damaged, begins_log_chain, has_incomplete_metadata, is_force_offline, "
              "is_copy_only, first_recovery_fork_guid, last_recovery_fork_guid, fork_point_lsn, database_guid, "
              "family_guid, differential_base_lsn, differential_base_guid, compressed_backup_size, "
              "compression_algorithm) VALUES (");
    sb_guid(b, h->backup_set_guid);
    sb_add(b, ", @ms, 1, 1, 1, 1, 1, 1, %u, ", h->position);
    sb_time(b, h->expiration_date);
    sb_add(b, ", %u, ", h->software_vendor_id);
    sb_strn(b, h->name);
    sb_add(b, ", ");
    sb_strn(b, h->description);
    sb_add(b, ", ");
    sb_str(b, h->user_name);
    sb_add(b, ", %u, %u, %u, ", h->software_major & 255, h->software_minor & 255, h->software_build & 32767);
    struct tm tm;
    time_t now = time(NULL);
    localtime_r(&now, &tm);
    sb_add(b, "%ld, 0, ", tm.tm_gmtoff / 900);
    sb_lsn(b, h->first_lsn);
    sb_add(b, ", ");
    sb_lsn(b, h->last_lsn);
    sb_add(b, ", ");
    sb_lsn(b, h->checkpoint_lsn);
    sb_add(b, ", ");
    sb_lsn(b, h->database_backup_lsn);
    sb_add(b, ", ");
    sb_time(b, h->database_creation_date);
    sb_add(b, ", ");
    sb_time(b, h->backup_start_date);
    sb_add(b, ", ");
    sb_time(b, h->backup_finish_date);
    sb_add(b, ", '%c', %u, %u, %u, %u, %llu, ", type_letter(h->backup_type), h->sort_order, h->code_page,
           h->compatibility_level, h->database_version, (unsigned long long)h->backup_size);
    sb_str(b, h->database_name);
    sb_add(b, ", ");
    sb_str(b, h->server_name);
    sb_add(b, ", ");
    sb_str(b, h->machine_name);
    sb_add(b, ", %u, %u, %u, ", f & MEDIA_FLAG_SQL_MASK, h->unicode_locale_id, h->unicode_comparison_style);
    sb_strn(b, h->collation);
    sb_add(b, ", 0, N'%s', %d, %d, %d, %d, %d, %d, %d, %d, %d, %d, ", bk_model_desc(h->recovery_model, false),
           !!(f & MEDIA_FLAG_BULK_LOGGED), !!(f & MEDIA_FLAG_SNAPSHOT), !!(f & MEDIA_FLAG_READ_ONLY),
           !!(f & MEDIA_FLAG_SINGLE_USER), !!(f & MEDIA_FLAG_CHECKSUMS), !!(f & MEDIA_FLAG_DAMAGED),
           !!(f & MEDIA_FLAG_BEGINS_LOG_CHAIN), !!(f & MEDIA_FLAG_INCOMPLETE_METADATA),
           !!(f & MEDIA_FLAG_FORCE_OFFLINE), !!(f & MEDIA_FLAG_COPY_ONLY));
    sb_guid(b, h->first_recovery_fork_id);
    sb_add(b, ", ");
    sb_guid(b, h->recovery_fork_id);
    sb_add(b, ", ");
    sb_lsn(b, h->fork_point_lsn);
    sb_add(b, ", ");
    sb_guid(b, h->binding_id);
    sb_add(b, ", ");
    sb_guid(b, h->family_guid);
    sb_add(b, ", ");
    sb_lsn(b, h->differential_base_lsn);
    sb_add(b, ", ");
    sb_guid(b, h->differential_base_guid);
    sb_add(b, ", %llu, %s);\nSET @bs = SCOPE_IDENTITY();\n", (unsigned long long)h->compressed_backup_size,
           h->compression != MEDIA_COMPRESS_NONE ? "N'ZSTD'" : "NULL");

    for (size_t i = 0; i < nfiles; i++) {
        const media_file_entry *fe = &files[i];
        sb_add(b, "INSERT INTO dbo.backupfile (backup_set_id, first_family_number, first_media_number, filegroup_name, "
                  "page_size, file_number, backed_up_page_count, file_type, source_file_block_size, file_size, "
                  "logical_name, physical_drive, physical_name, state, state_desc, create_lsn, drop_lsn, file_guid, "
                  "read_only_lsn, read_write_lsn, differential_base_lsn, differential_base_guid, backup_size, "
                  "is_readonly, is_present) VALUES (@bs, 1, 1, ");
        sb_strn(b, fe->filegroup_name);
        sb_add(b, ", 8192, %u, %llu, '%c', %u, %llu, ", fe->file_id,
               (unsigned long long)((fe->backup_size + 8191) / 8192), fe->type == 'L' ? 'L' : 'D',
               fe->source_block_size, (unsigned long long)fe->size);
        sb_str(b, fe->logical_name);
        sb_add(b, ", N'/', ");
        sb_str(b, fe->physical_name);
        sb_add(b, ", 0, N'ONLINE', ");
        sb_lsn(b, fe->create_lsn);
        sb_add(b, ", ");
        sb_lsn(b, fe->drop_lsn);
        sb_add(b, ", ");
        sb_guid(b, fe->unique_id);
        sb_add(b, ", ");
        sb_lsn(b, fe->read_only_lsn);
        sb_add(b, ", ");
        sb_lsn(b, fe->read_write_lsn);
        sb_add(b, ", ");
        sb_lsn(b, fe->differential_base_lsn);
        sb_add(b, ", ");
        sb_guid(b, fe->differential_base_guid);
        sb_add(b, ", %llu, %d, %d);\n", (unsigned long long)fe->backup_size, fe->is_read_only, fe->is_present);
    }
    sb_add(b, "END\n");
}

static void warn_3009(sql_session *s, const hdb_err *e)
{
    char msg[HDB_ERR_MSG_MAX];
    snprintf(msg, sizeof msg, "Could not insert a backup or restore history/detail record in the msdb database. "
                              "This may indicate a problem with the msdb database. The backup/restore operation "
                              "was still successful. (%.600s)", e->msg);
    ex_info(s, 3009, 10, 1, msg);
}

static void run_history(sql_session *s, sbuf *b)
{
    hdb_err e = { 0 };
    if (b->oom)
        hdb_raise_text(&e, 701, 19, 1, "There is insufficient system memory to run this query.");
    else if (sql_msdb_prepare(s->in, &e) == 0 && run_in_msdb(s->in, b->p, &e) == 0) {
        free(b->p);
        return;
    }
    warn_3009(s, &e);
    free(b->p);
}

/* One row per database the committed marked transaction t changed, with the
 * LSN of its COMMIT there (the 'lsn:N' a restore can stop at). */
void bk_history_mark(sql_session *s, const txn *t)
{
    sbuf b = { 0 };
    for (int i = 0; i < t->nparts; i++) {
        sb_add(&b, "INSERT INTO dbo.logmarkhistory VALUES (");
        sb_str(&b, t->parts[i].db->name);
        sb_add(&b, ", ");
        sb_str(&b, t->name);
        sb_add(&b, ", ");
        sb_strn(&b, t->mark_desc);
        sb_add(&b, ", ");
        sb_strn(&b, t->user);
        sb_add(&b, ", ");
        sb_lsn(&b, t->parts[i].commit_lsn);
        sb_add(&b, ", ");
        sb_time(&b, t->commit_time_us);
        sb_add(&b, ");\n");
    }
    run_history(s, &b);
}

void bk_history_backup(sql_session *s, const backup_result *r, const bk_device *dev)
{
    sbuf b = { 0 };
    /* the file list as the new set recorded it */
    hdb_err e;
    media_reader *m = media_open(dev->path, &e);
    size_t nf = 0;
    const media_file_entry *files = m ? media_set_files(m, r->position, &nf) : NULL;
    sb_backupset(&b, &r->media, &r->set, dev, files, files ? nf : 0);
    if (m)
        media_close(m);
    run_history(s, &b);
}

void bk_history_restore(sql_session *s, const restore_result *r, const restore_opts *o, const bk_device *dev)
{
    sbuf b = { 0 };
    hdb_err e;
    media_reader *m = media_open(dev->path, &e);
    if (!m) {
        warn_3009(s, &e);
        return;
    }
    size_t nf = 0;
    const media_file_entry *files = media_set_files(m, r->position, &nf);
    sb_backupset(&b, media_label(m), &r->set, dev, files, files ? nf : 0);
    sb_add(&b, "IF @bs IS NULL SELECT @bs = backup_set_id FROM dbo.backupset WHERE backup_set_uuid = ");
    sb_guid(&b, r->set.backup_set_guid);
    int64_t now_us = (int64_t)time(NULL) * 1000000;
    sb_add(&b, ";\nINSERT INTO dbo.restorehistory (restore_date, destination_database_name, user_name, backup_set_id, "
               "restore_type, replace, recovery, restart, stop_at, device_count, stop_at_mark_name, stop_before) VALUES (");
    sb_time(&b, now_us);
    sb_add(&b, ", ");
    sb_str(&b, o->db_name);
    sb_add(&b, ", ");
    sb_str(&b, s->login);
    sb_add(&b, ", @bs, '%c', %d, %d, 0, ", r->restore_type ? r->restore_type : 'D', !!o->replace,
           o->recovery == RESTORE_RECOVERY);
    sb_time(&b, o->stop_at);
    sb_add(&b, ", 1, ");
    sb_strn(&b, o->stop_mark);
    if (o->stop_mark || o->stop_mark_lsn)
        sb_add(&b, ", %d);\n", o->stop_before ? 0 : 1);
    else
        sb_add(&b, ", NULL);\n");
    sb_add(&b, "DECLARE @rh int = SCOPE_IDENTITY();\n");
    for (size_t i = 0; files && i < nf; i++) {
        const char *dest = files[i].physical_name;
        for (int k = 0; k < o->nmoves; k++)
            if (!strcasecmp(o->moves[k].logical_name, files[i].logical_name))
                dest = o->moves[k].path;
        sb_add(&b, "INSERT INTO dbo.restorefile (restore_history_id, file_number, destination_phys_drive, "
                   "destination_phys_name) VALUES (@rh, %u, N'/', ", files[i].file_id);
        sb_str(&b, dest);
        sb_add(&b, ");\n");
        if (files[i].type == 'D' && files[i].filegroup_name[0]) {
            sb_add(&b, "IF NOT EXISTS (SELECT 1 FROM dbo.restorefilegroup WHERE restore_history_id = @rh AND filegroup_name = ");
            sb_str(&b, files[i].filegroup_name);
            sb_add(&b, ") INSERT INTO dbo.restorefilegroup (restore_history_id, filegroup_name) VALUES (@rh, ");
            sb_str(&b, files[i].filegroup_name);
            sb_add(&b, ");\n");
        }
    }
    media_close(m);   /* files point into the reader */
    run_history(s, &b);
}
