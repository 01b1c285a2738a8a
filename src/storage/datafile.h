/*
 * datafile.h — a database's data files and filegroups.
 *
 * A database owns one `dbfiles`: its data files (file id >= 1, file 1 is the
 * primary file, in filegroup 1 = PRIMARY), each in one filegroup. Pages are
 * addressed by pgid_t (file id, page number). Reads verify the page (checksum
 * and self id) unless page verification is NONE; writes stamp the checksum.
 * Files grow on demand (df_ensure_pages) by their growth increment up to their
 * maximum size; a file that cannot grow raises 1105.
 *
 * The WAL rule is enforced by the buffer pool through the hook set with
 * df_set_wal_hook(): before a page is written, the log is made durable through
 * the page's pageLSN.
 */
#ifndef HDB_STORAGE_DATAFILE_H
#define HDB_STORAGE_DATAFILE_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>

#include "storage/dcm.h"
#include "storage/page.h"
#include "storage/pageprot.h"
#include "util/err.h"

#define DF_MAX_FILES 64
#define DF_NAME_MAX  128

typedef struct dbfiles dbfiles;

enum df_state { DF_ONLINE = 0, DF_OFFLINE = 1, DF_DEFUNCT = 2, DF_RESTORING = 3 };

typedef struct df_file_desc {
    uint16_t file_id;                  /* 1.. */
    uint16_t fg_id;                    /* 1 = PRIMARY */
    char     logical_name[DF_NAME_MAX + 1];
    char     path[PATH_MAX];
    uint32_t size_pages;               /* initial size (create) */
    uint32_t growth_pages;             /* 0 = no autogrow */
    uint32_t max_pages;                /* 0 = unlimited */
} df_file_desc;

dbfiles *df_create(uint32_t db_id, const char *db_name);
/* Close all files and free. */
void df_destroy(dbfiles *df);
uint32_t df_db_id(const dbfiles *df);
/* The database's changed-extent map (dcm.h), made with df and freed with it.
 * The buffer pool marks it whenever a page is dirtied (bp_dirty). */
dcm *df_dcm(const dbfiles *df);
const char *df_db_name(const dbfiles *df);

/* Open (create=0) or create (create=1: must not exist; sized to size_pages) a file.
 * 5120 when the OS refuses, 1105-like ENOSPC when it cannot be sized. */
int df_add_file(dbfiles *df, const df_file_desc *desc, int create, hdb_err *err);
/* List a file without opening it, in state st (DF_OFFLINE or DF_DEFUNCT):
 * an offline file need not exist on disk. Its pages read and write as an
 * offline file's (824); only a restore brings it back (remove it, add it
 * again). */
int df_add_closed_file(dbfiles *df, const df_file_desc *desc, enum df_state st, hdb_err *err);
/* Forget a file (closing it); its pages can no longer be read. */
void df_remove_file(dbfiles *df, uint16_t file_id);
/* Describe file `file_id` (returns NULL if unknown). The pointer stays valid
 * until the file is removed; size_pages is the size at creation, the current
 * size is df_file_pages(). */
const df_file_desc *df_file(const dbfiles *df, uint16_t file_id);
/* Iterate: file ids in ascending order; returns count written to ids. */
int df_file_ids(const dbfiles *df, uint16_t *ids, int cap);
uint32_t df_file_pages(dbfiles *df, uint16_t file_id);  /* current size in pages */
/* OFFLINE and DEFUNCT files can be neither read nor written. RESTORING files
 * can (restore and its redo write and read them); keeping user sessions away
 * from them is the engine's job. An unknown file reports DF_DEFUNCT. */
void df_set_state(dbfiles *df, uint16_t file_id, enum df_state st);
enum df_state df_get_state(const dbfiles *df, uint16_t file_id);
/* No file in another state than ONLINE (one atomic load: the common case). */
int df_all_online(const dbfiles *df);

/* Filegroup names, used in 1105 ("... because the 'NAME' filegroup is full").
 * Filegroup 1 is "PRIMARY" from the start; an unnamed one reads as "FG<id>".
 * set returns -1 when the name table (DF_MAX_FILES entries) is full. */
int df_set_filegroup_name(dbfiles *df, uint16_t fg_id, const char *name);
const char *df_filegroup_name(const dbfiles *df, uint16_t fg_id, char *out, size_t cap);

/* Make sure file `file_id` has at least `pages` pages, growing it by
 * max(growth increment, shortfall), capped at max_pages. 1105 (object '?', the
 * database, the file's filegroup) if it may not grow (growth 0), would pass
 * max_pages, or the OS refuses the space. Concurrent callers grow it once. */
int df_ensure_pages(dbfiles *df, uint16_t file_id, uint32_t pages, hdb_err *err);

/* Read one page into buf (PAGE_SIZE). Checks the protection the page was
 * written with (storage/pageprot.h: checksum or torn bits) unless page
 * verification is NONE, and always the page's self id: 824 naming the
 * problem, database id, file, page and offset. Reading a page of an
 * unknown or offline file is an error too (824-family text "read from an
 * offline file"; no suspect hook: the page is not damaged). 823 for OS errors.
 * A failed read (823 or 824) is retried up to 4 more times before the error is
 * raised, as SQL Server does; the suspect hook is called once per failed call.
 * A page past the end of the file reads as zeros (unformatted). */
int df_read_page(dbfiles *df, pgid_t id, void *buf, hdb_err *err);
/* The bytes at page id's place on disk, unverified: no retry, no suspect
 * hook (DBCC PAGE shows a damaged page too). 823, or 824 for an offline file. */
int df_read_page_raw(dbfiles *df, pgid_t id, void *buf, hdb_err *err);
/* Write one page: seals buf in place first with the current PAGE_VERIFY
 * (pageprot_seal: the checksum, or torn bits in every sector, or the NONE
 * mark), so pass a copy; an all-zero page stays all zero ("unformatted").
 * 823 on OS error; 824-family text
 * "write to an offline file" for an offline/defunct/unknown file. A write past
 * the end extends the file. */
int df_write_page(dbfiles *df, pgid_t id, void *buf, hdb_err *err);
/* fdatasync every data file (checkpoint durability point). */
int df_sync(dbfiles *df, hdb_err *err);

/* PAGE_VERIFY: enum page_verify_mode (pageprot.h): NONE 0, CHECKSUM 1
 * (default), TORN_PAGE_DETECTION 2. Pages written from now on get it; pages
 * already on disk keep what they were written with. */
void df_set_page_verify(dbfiles *df, int mode);
int df_page_verify(const dbfiles *df);

/* WAL hook: called with a page's pageLSN before the page is written. */
typedef int (*df_wal_fn)(void *ctx, lsn_t lsn, hdb_err *err);
void df_set_wal_hook(dbfiles *df, df_wal_fn fn, void *ctx);
int df_wal_flush(dbfiles *df, lsn_t lsn, hdb_err *err);

/* Called once per failed df_read_page (after its retries) with (db id, pgid,
 * event type: 1 = 823 or wrong page id, 2 = bad checksum, 3 = torn page) so
 * the engine can record msdb.dbo.suspect_pages later. It runs in the I/O
 * path, possibly under page latches: it must only note the event and return
 * (engine/suspect.h). Not called for offline files (no page is damaged). */
typedef void (*df_suspect_fn)(void *ctx, uint32_t db_id, pgid_t id, int event_type);
void df_set_suspect_hook(dbfiles *df, df_suspect_fn fn, void *ctx);

/* How many reads succeeded only on a retry (what SQL Server logs as 825). */
uint64_t df_read_retries(const dbfiles *df);

/* ---- restore-pending pages (online page restore, backup/restore_page.h) ---
 * While a page is in the set nobody may read or change it: df_read_page
 * answers 829 ("... is marked RestorePending ...") before touching the disk,
 * and the buffer pool answers the same for a copy it has cached (bp_fix) or
 * would create (BP_NOREAD). No suspect hook: the page is being repaired, not
 * found damaged again. Writes are not stopped: the pool may still write a
 * dirty copy it had before the page became pending (that image is valid and
 * the checkpoint counts on it). One set per database at a time. `owner` is
 * the restore sequence's state; df_destroy frees it with free_owner, so a
 * database that closes (a restart, OFFLINE, a full restore over it) forgets
 * the sequence. */
/* -1 if a set (or an owner) is already there, or no memory. n may be 0: a
 * file restore keeps its sequence here with no page pending (its files are
 * closed to everyone anyway). */
int df_set_restore_pending(dbfiles *df, const pgid_t *ids, int n, void *owner, void (*free_owner)(void *));
void *df_restore_owner(dbfiles *df);
/* Empty the set; returns the owner, now the caller's to free. */
void *df_clear_restore_pending(dbfiles *df);
/* 1 (with 829 in err) if page id is pending, else 0; one atomic load when
 * nothing is pending. */
int df_page_restore_pending(dbfiles *df, pgid_t id, hdb_err *err);

#endif
