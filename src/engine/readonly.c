/*
 * readonly.c — a read-only database (a standby between restores): no change
 * may reach its log, which must stay exactly the restored backups' log.
 *
 * Three doors are closed: a transaction joining the database to write
 * (txn_join checks tdb.read_only_log: 3906), any page change however it
 * comes (an mtr watch on the log refuses it: 3906), and checkpoints
 * (db_checkpoint does nothing for it).
 */
#include "engine/database.h"

#include "log/mtr.h"

static int refuse(void *ctx, pgid_t id, const void *before, hdb_err *err)
{
    (void)id;
    (void)before;
    database *db = ctx;
    return hdb_raise(err, 3906, db->tdb.name);
}

int db_set_read_only(database *db, int on, hdb_err *err)
{
    if (on) {
        mtr_unwatch(db->tdb.log);   /* at most one watch per log */
        if (mtr_watch(db->tdb.log, refuse, db) < 0)
            return hdb_raise_text(err, 40000, 16, 1, "Too many read-only databases.");
        db->tdb.read_only_log = 1;
    } else {
        db->tdb.read_only_log = 0;
        mtr_unwatch(db->tdb.log);
    }
    return 0;
}

int db_open_standby(database *db, hdb_err *err)
{
    if (db_load_boot(db, err) < 0 || db_set_read_only(db, 1, err) < 0) {
        db->state = DB_RESTORING;
        return -1;
    }
    db->state = DB_ONLINE;
    return 0;
}
