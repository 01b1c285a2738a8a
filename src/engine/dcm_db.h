/*
 * dcm_db.h — a database's changed-extent map (storage/dcm.h) across
 * checkpoints, crashes, restarts and restores.
 *
 * The map lives in memory (the buffer pool marks it at every bp_dirty, redo
 * marks every page it meets) and in a side file next to the log,
 * "<log path without its extension>.dcm", saved at each checkpoint as
 * covering every change logged before the checkpoint's redo point. At open the
 * file is loaded and brought up to date from the log: every page named by a
 * record from that point on is marked. A file that is missing, damaged,
 * belongs to another log (a restore made a new one) or points below the
 * log's truncation leaves the map "all": the next differential reads the
 * whole database, as before the map existed. The protocol and the argument
 * that no change is missed: storage/README.md, "The changed-extent map".
 */
#ifndef HDB_ENGINE_DCM_DB_H
#define HDB_ENGINE_DCM_DB_H

#include <stddef.h>

#include "engine/database.h"
#include "storage/dcm.h"

/* The map file of the database whose log is at log_path. */
void db_dcm_path(const char *log_path, char *out, size_t cap);

/* db_open, before recovery: the saved map plus every page the log names from
 * the saved point on; else every extent counts as changed. */
void db_dcm_open(database *db);

/* Save the map as covering every change logged before `covered` that it must
 * hold: db_checkpoint, once END_CKPT is durable, with its redo point; a full
 * backup, once its fresh map is the map, with its LastLSN. A failure is only
 * reported to the error log: the file left behind is older, and the log from
 * its point on is still there or, if truncated, makes the next open count
 * everything as changed. */
void db_dcm_save(database *db, lsn_t covered);

/* A restore made the database the image of a backup (nothing writes to it):
 * the map starts empty for differential base `base`, plus the extents of
 * `changed` (the pages a differential restore wrote; NULL for a full), and is
 * saved as covering the log below `floor` (the restore's redo marks the rest). */
void db_dcm_restored(database *db, lsn_t base, lsn_t floor, const dcm *changed);

/* DROP DATABASE: the map file goes with the database. */
void db_dcm_remove(const char *log_path);

#endif
