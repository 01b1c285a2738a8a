/*
 * attach.h — a database's files where the user says: CREATE DATABASE with
 * file clauses, CREATE DATABASE ... FOR ATTACH, and sp_detach_db.
 *
 * Create (attach_create_database): every file of the layout is checked
 * before anything is made (logical names 1828, paths 5170 / 5133 / 5123 /
 * 5105, SIZE and MAXSIZE 1545, filegroups), then the primary file and the
 * log are made and formatted (db_create), the filegroups and other files
 * added exactly as ALTER DATABASE ADD FILEGROUP / ADD FILE add them
 * (db_add_filegroup, db_add_file), a checkpoint puts every formatted page on
 * disk, and only then is the database registered in master (one master
 * transaction: its row and its files' rows) and made visible. A failure at
 * any step — an I/O error or a full disk while formatting included — closes
 * the half-made database without writing more and removes every file it
 * made: nothing is registered, nothing is left on disk (SQL Server's
 * "create database: creation fails").
 *
 * Attach (attach_database): the files are recognised by their contents —
 * a data file by its file header (page 0 names its file id), the primary
 * by file id 1 and its boot page, whose file list names the other data files;
 * a listed data file whose header never reached the disk is matched to that
 * list by file name; the one file left over is the log. Files of the boot
 * page's list that are not given are opened where the list says. The
 * database gets the id its boot page holds when that id is free here, else
 * the first free one, and any name. It is opened and recovered on its own,
 * with deferral forbidden (recovery_forbid_deferral: seed 004, "attach →
 * attach fails"): a loser whose rollback meets an unreadable page, an I/O
 * error in redo, a missing file — each fails the attach, the files are
 * closed without another write, and nothing is registered. On success the
 * boot page is rewritten (database id, name, not OFFLINE, the file list with
 * the paths it was attached from), a checkpoint taken, and the database
 * registered. Nothing in a page header or a log record holds the database
 * id, so no page needs rewriting. Files still open in this instance (or
 * registered to a database that is offline) are refused.
 *
 * Detach (attach_detach_database): refused for system databases (7940),
 * while anyone uses the database or has a transaction in it (3703), and for
 * SUSPECT / RECOVERY_PENDING databases (3707). An ONLINE database's boot page
 * gets its file list (as it is open), a checkpoint is taken, then it is
 * unregistered and closed cleanly (another checkpoint): its files need no
 * recovery to be attached again. An OFFLINE database (closed cleanly
 * already) is only unregistered. The files stay on disk.
 *
 * All three hold the instance's ddl_mu throughout.
 */
#ifndef HDB_ENGINE_ATTACH_H
#define HDB_ENGINE_ATTACH_H

#include "engine/instance.h"

typedef struct attach_file {
    const char  *filegroup;        /* NULL or "PRIMARY": the primary filegroup */
    db_file_spec spec;             /* logical name, path, sizes in pages */
} attach_file;

typedef struct attach_layout {
    const char        *name;
    db_file_spec       data;       /* the primary file (file 1) */
    db_file_spec       log;        /* path and logical name; size_pages (0 = the
                                      instance's default), max_pages (0 = unlimited),
                                      no_growth (FILEGROWTH = 0: it never grows) */
    const char *const *filegroups; /* FILEGROUP clauses, in order */
    int                nfilegroups;
    const attach_file *files;      /* the other data files, in order (ids 2, 3, ...) */
    int                nfiles;
} attach_layout;

/* CREATE DATABASE name ON ... LOG ON ...: the database, ONLINE and
 * registered; NULL with err on failure (nothing left behind). */
database *attach_create_database(instance *in, const attach_layout *l, hdb_err *err);

/* CREATE DATABASE name ON (FILENAME = ...), ... FOR ATTACH: the files at
 * `paths` (any order; the primary data file and the log must be among them).
 * NULL with err = the cause on failure; *aborted (may be NULL) is then set
 * when the files themselves failed (opening, recovery, registration: the
 * caller adds 1813 "Could not open new database") rather than the request
 * (name taken, files not recognised). */
database *attach_database(instance *in, const char *name, const char *const *paths, int npaths, int *aborted,
                          hdb_err *err);

/* sp_detach_db name. */
int attach_detach_database(instance *in, const char *name, hdb_err *err);

#endif
