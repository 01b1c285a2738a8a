/* instance.c — the data directory, the database registry, start-up recovery,
 * background checkpoints and the error log (see instance.h). */
#include "engine/instance.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "engine/catalog.h"
#include "engine/dcm_db.h"
#include "engine/dbstate.h"
#include "engine/recovery.h"
#include "engine/table.h"

#define REGISTRY_NAME "sysdbreg"
#define FILES_NAME "sysmasterfiles"

void inst_log(instance *in, const char *fmt, ...)
{
    char line[2048];
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    localtime_r(&ts.tv_sec, &tm);
    size_t n = strftime(line, sizeof line, "%Y-%m-%d %H:%M:%S", &tm);
    n += (size_t)snprintf(line + n, sizeof line - n, ".%02ld Server      ", ts.tv_nsec / 10000000);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line + n, sizeof line - n, fmt, ap);
    va_end(ap);
    size_t len = strlen(line);
    if (len + 1 < sizeof line) {
        line[len++] = '\n';
        line[len] = 0;
    }
    pthread_mutex_lock(&in->log_mu);
    if (in->errlog_fd >= 0 && write(in->errlog_fd, line, len) < 0) {
        /* the error log is best effort */
    }
    if (!in->opt.quiet && write(2, line, len) < 0) {
    }
    pthread_mutex_unlock(&in->log_mu);
}

static int make_dir(const char *path, hdb_err *err)
{
    if (mkdir(path, 0755) < 0 && errno != EEXIST)
        return hdb_raise(err, 5120, path, errno, strerror(errno));
    return 0;
}

static void data_paths(const instance *in, const char *name, uint32_t id, char *data, char *log)
{
    if (id == DBID_MASTER) {
        snprintf(data, PATH_MAX, "%s/data/master.mdf", in->datadir);
        snprintf(log, PATH_MAX, "%s/data/mastlog.ldf", in->datadir);
    } else if (id == DBID_MSDB) {
        snprintf(data, PATH_MAX, "%s/data/msdbdata.mdf", in->datadir);
        snprintf(log, PATH_MAX, "%s/data/msdblog.ldf", in->datadir);
    } else {
        snprintf(data, PATH_MAX, "%s/data/%.128s.mdf", in->datadir, name);
        snprintf(log, PATH_MAX, "%s/data/%.128s_log.ldf", in->datadir, name);
    }
}

database *inst_database(instance *in, uint32_t id)
{
    pthread_mutex_lock(&in->mu);
    database *db = id < INST_MAX_DBS ? in->dbs[id] : NULL;
    pthread_mutex_unlock(&in->mu);
    return db;
}

database *inst_find_database(instance *in, const char *name)
{
    pthread_mutex_lock(&in->mu);
    database *found = NULL;
    for (int i = 0; i < INST_MAX_DBS && !found; i++)
        if (in->dbs[i] && strcasecmp(in->dbs[i]->tdb.name, name) == 0)
            found = in->dbs[i];
    pthread_mutex_unlock(&in->mu);
    return found;
}

/* ---- registry (master.sys.sysdbreg) ---------------------------------------- */

static const sql_type reg_types[4] = {
    { .id = SQL_INT }, { .id = SQL_VARCHAR, .max_len = 128 },
    { .id = SQL_VARCHAR, .max_len = 1024 }, { .id = SQL_VARCHAR, .max_len = 1024 },
};

static int create_registry(database *master, txn *t, hdb_err *err)
{
    tbl_column cols[4];
    memset(cols, 0, sizeof cols);
    const char *names[4] = { "database_id", "name", "data_path", "log_path" };
    for (int i = 0; i < 4; i++) {
        snprintf(cols[i].name, sizeof cols[i].name, "%s", names[i]);
        cols[i].type = reg_types[i];
    }
    int pk = 0;
    table_spec spec = { .schema_id = SCHEMA_SYS, .name = REGISTRY_NAME, .ncols = 4, .cols = cols,
                        .npk = 1, .pk_cols = &pk };
    return cat_create_table(t, master, &spec, NULL, err);
}

/* master.sys.sysmasterfiles (database_id, file_id) -> physical_name: where
 * each secondary data file (file id >= 2) of a database is. A database's
 * boot page lists its files too, but that page is restored and redone like
 * any other, so after RESTORE ... MOVE an older image of it can name the
 * paths the backup was taken from; this table is what db_open believes. A
 * file without a row (created before this table existed, or a crash between
 * ADD FILE and its row) is opened where the boot page says. */
static const sql_type file_types[4] = {
    { .id = SQL_INT }, { .id = SQL_INT }, { .id = SQL_VARCHAR, .max_len = 1024 }, { .id = SQL_INT },
};
/* The fourth column, `state` (enum df_state), came later: a table made
 * without it lists every file ONLINE. A file set OFFLINE while its database
 * could not be opened (MODIFY FILE on a RECOVERY_PENDING database) is known
 * only here until the database opens again. */
#define FILE_COLS_WITH_STATE 4

static int create_file_registry(database *master, txn *t, hdb_err *err)
{
    tbl_column cols[4];
    memset(cols, 0, sizeof cols);
    const char *names[4] = { "database_id", "file_id", "physical_name", "state" };
    for (int i = 0; i < 4; i++) {
        snprintf(cols[i].name, sizeof cols[i].name, "%s", names[i]);
        cols[i].type = file_types[i];
    }
    int pk[2] = { 0, 1 };
    table_spec spec = { .schema_id = SCHEMA_SYS, .name = FILES_NAME, .ncols = 4, .cols = cols,
                        .npk = 2, .pk_cols = pk };
    return cat_create_table(t, master, &spec, NULL, err);
}

/* The table; `create`: made when first needed (in its own transaction, so
 * call this before beginning another). Until a database has a secondary
 * file there is nothing to keep, so master's log is not touched for it. */
static table_def *file_registry(instance *in, int create, hdb_err *err)
{
    database *master = in->dbs[DBID_MASTER];
    hdb_err e;
    table_def *td = cat_find_table(master, SCHEMA_SYS, FILES_NAME, &e);
    if (td || !create)
        return td;
    txn *t = txn_begin(in->txns, 0, "file registry", "sa");
    int rc = create_file_registry(master, t, err);
    rc = rc == 0 ? txn_commit(t, err) : (txn_rollback(t, NULL), -1);
    txn_free(t);
    return rc == 0 ? cat_find_table(master, SCHEMA_SYS, FILES_NAME, err) : NULL;
}

static int add_file_row(instance *in, txn *t, table_def *td, uint32_t id, const inst_file_path *f, hdb_err *err);

/* Inside t: the rows of database `id` become `files` (nfiles >= 0). */
static int put_file_rows(instance *in, txn *t, table_def *td, uint32_t id, const inst_file_path *files, int nfiles,
                         hdb_err *err)
{
    database *master = in->dbs[DBID_MASTER];
    int old[DF_MAX_FILES], nold = 0;
    table_scan *s = table_scan_open(t, master, td, ISO_READ_COMMITTED, err);
    if (!s)
        return -1;
    table_row row;
    int k;
    while ((k = table_scan_next(s, &row, err)) == 1)
        if ((uint32_t)row.vals[0].u.i == id && nold < DF_MAX_FILES)
            old[nold++] = (int)row.vals[1].u.i;
    table_scan_close(s);
    if (k < 0)
        return -1;
    for (int i = 0; i < nold; i++) {
        sql_value key[2] = { value_int(SQL_INT, id), value_int(SQL_INT, old[i]) };
        if (table_delete(t, master, td, key, err) < 0)
            return -1;
    }
    for (int i = 0; i < nfiles; i++)
        if (add_file_row(in, t, td, id, &files[i], err) < 0)
            return -1;
    return 0;
}

/* Inside t: one row, replacing any left by an ADD FILE that did not finish. */
static int add_file_row(instance *in, txn *t, table_def *td, uint32_t id, const inst_file_path *f, hdb_err *err)
{
    database *master = in->dbs[DBID_MASTER];
    sql_value key[2] = { value_int(SQL_INT, id), value_int(SQL_INT, f->file_id) };
    sql_value v[4] = { key[0], key[1], value_bytes(SQL_VARCHAR, f->path, (uint32_t)strlen(f->path)),
                       value_int(SQL_INT, f->state) };
    table_row row;
    int rc = table_get(t, master, td, key, ISO_READ_COMMITTED, &row, err);
    if (rc == 1) {
        table_row_free(&row);
        rc = table_update(t, master, td, key, v, err);
    } else if (rc == 0) {
        rc = table_insert(t, master, td, v, err);
    }
    return rc;
}

/* Every registered secondary file (start-up, before any user database opens;
 * read as redo left master, like the database registry). */
typedef struct file_row { uint32_t db_id; uint16_t file_id; uint8_t state; char path[PATH_MAX]; } file_row;

static int load_file_rows(instance *in, file_row **out, int *n, hdb_err *err)
{
    *out = NULL;
    *n = 0;
    database *master = in->dbs[DBID_MASTER];
    hdb_err e;
    table_def *td = cat_find_table(master, SCHEMA_SYS, FILES_NAME, &e);
    if (!td)
        return 0;   /* made before the table existed: the boot pages decide */
    txn *t = txn_begin(in->txns, 0, "startup", "sa");
    table_scan *s = table_scan_open(t, master, td, ISO_READ_UNCOMMITTED, err);
    int rc = s ? 0 : -1, cap = 0, k = 0;
    table_row row;
    while (s && (k = table_scan_next(s, &row, err)) == 1) {
        if (*n == cap) {
            cap = cap ? cap * 2 : 16;
            file_row *g = realloc(*out, sizeof *g * (size_t)cap);
            if (!g) {
                rc = hdb_raise_text(err, 701, 19, 1, "There is insufficient system memory to run this query.");
                break;
            }
            *out = g;
        }
        file_row *f = &(*out)[(*n)++];
        f->db_id = (uint32_t)row.vals[0].u.i;
        f->file_id = (uint16_t)row.vals[1].u.i;
        snprintf(f->path, sizeof f->path, "%.*s", (int)row.vals[2].len, row.vals[2].bytes);
        f->state = td->ncols >= FILE_COLS_WITH_STATE && !row.vals[3].is_null ? (uint8_t)row.vals[3].u.i : DF_ONLINE;
    }
    if (s && k < 0)
        rc = -1;
    table_scan_close(s);
    txn_free(t);
    return rc;
}

/* The rows of one database, as db_open takes them. */
static int paths_of(const file_row *rows, int n, uint32_t id, db_file_path *out)
{
    int k = 0;
    for (int i = 0; i < n && k < DF_MAX_FILES; i++)
        if (rows[i].db_id == id) {
            out[k].file_id = rows[i].file_id;
            out[k].path = rows[i].path;
            out[k].state = rows[i].state;
            k++;
        }
    return k;
}

static int register_db(instance *in, database *db, const char *data, const char *log, hdb_err *err)
{
    database *master = in->dbs[DBID_MASTER];
    table_def *td = cat_find_table(master, SCHEMA_SYS, REGISTRY_NAME, err);
    if (!td)
        return -1;
    txn *t = txn_begin(in->txns, 0, "CREATE DATABASE", "sa");
    sql_value v[4] = {
        value_int(SQL_INT, db->tdb.id),
        value_bytes(SQL_VARCHAR, db->tdb.name, (uint32_t)strlen(db->tdb.name)),
        value_bytes(SQL_VARCHAR, data, (uint32_t)strlen(data)),
        value_bytes(SQL_VARCHAR, log, (uint32_t)strlen(log)),
    };
    int rc = table_insert(t, master, td, v, err);
    if (rc == 0)
        rc = txn_commit(t, err);
    else {
        hdb_err ignore;
        txn_rollback(t, &ignore);
    }
    txn_free(t);
    return rc;
}

static database *create_db(instance *in, const char *name, uint32_t id, hdb_err *err)
{
    db_create_spec spec;
    memset(&spec, 0, sizeof spec);
    spec.name = name;
    spec.db_id = id;
    snprintf(spec.data.logical_name, sizeof spec.data.logical_name, "%s", id == DBID_MASTER ? "master" : name);
    data_paths(in, name, id, spec.data.path, spec.log.path);
    snprintf(spec.log.logical_name, sizeof spec.log.logical_name, "%s_log", name);
    spec.data.size_pages = 1024;
    spec.data.growth_pages = 1024;
    database *db = db_create(in, in->bp, &spec, err);
    if (!db)
        return NULL;
    pthread_mutex_lock(&in->mu);
    in->dbs[id] = db;
    pthread_mutex_unlock(&in->mu);
    if (id == DBID_MASTER) {
        txn *t = txn_begin(in->txns, 0, "bootstrap", "sa");
        int rc = create_registry(db, t, err);
        rc = rc == 0 ? txn_commit(t, err) : (txn_rollback(t, NULL), -1);
        txn_free(t);
        if (rc < 0)
            return NULL;
    }
    if (register_db(in, db, spec.data.path, spec.log.path, err) < 0) {
        pthread_mutex_lock(&in->mu);
        in->dbs[id] = NULL;
        pthread_mutex_unlock(&in->mu);
        db_close(db, 0);
        unlink(spec.data.path);
        unlink(spec.log.path);
        return NULL;
    }
    /* master and msdb use the SIMPLE recovery model, as on SQL Server */
    if ((id == DBID_MASTER || id == DBID_MSDB) && db_set_recovery_model(db, RECOVERY_SIMPLE, err) < 0)
        return NULL;
    return db;
}

static database *create_locked(instance *in, const char *name, hdb_err *err);
static database *lookup_db_fwd(void *ctx, uint32_t id) { return inst_database(ctx, id); }

database *inst_create_database(instance *in, const char *name, hdb_err *err)
{
    if (!name[0] || strlen(name) > CAT_NAME_MAX || strchr(name, '/'))
        return hdb_raise_text(err, 15151, 16, 1, "Invalid database name."), NULL;
    pthread_mutex_lock(&in->ddl_mu);
    database *db = create_locked(in, name, err);
    pthread_mutex_unlock(&in->ddl_mu);
    return db;
}

static database *create_locked(instance *in, const char *name, hdb_err *err)
{
    if (inst_find_database(in, name))
        return hdb_raise(err, 1801, name), NULL;
    uint32_t id = inst_free_db_id(in);
    if (!id)
        return hdb_raise_text(err, 1807, 16, 1, "Could not obtain exclusive lock on database 'model'. Too many databases."), NULL;
    database *db = create_db(in, name, id, err);
    if (db)
        inst_log(in, "Database '%s' created (database id %u).", name, id);
    return db;
}

static int drop_locked(instance *in, const char *name, hdb_err *err);

int inst_drop_database(instance *in, const char *name, hdb_err *err)
{
    pthread_mutex_lock(&in->ddl_mu);
    int rc = drop_locked(in, name, err);
    pthread_mutex_unlock(&in->ddl_mu);
    return rc;
}

static int drop_locked(instance *in, const char *name, hdb_err *err)
{
    database *db = inst_find_database(in, name);
    if (!db)
        return hdb_raise(err, 911, name);
    if (db->tdb.id <= DBID_MSDB)
        return hdb_raise_text(err, 3708, 16, 1, "Cannot drop a system database.");
    if (db->users > 0) {
        char msg[300];
        snprintf(msg, sizeof msg, "Cannot drop database \"%s\" because it is currently in use.", name);
        return hdb_raise_text(err, 3702, 16, 4, msg);
    }
    database *master = in->dbs[DBID_MASTER];
    table_def *td = cat_find_table(master, SCHEMA_SYS, REGISTRY_NAME, err);
    if (!td)
        return -1;
    table_def *fd = file_registry(in, 0, err);
    txn *t = txn_begin(in->txns, 0, "DROP DATABASE", "sa");
    sql_value key = value_int(SQL_INT, db->tdb.id);
    int rc = table_delete(t, master, td, &key, err);
    if (rc == 0 && fd)
        rc = put_file_rows(in, t, fd, db->tdb.id, NULL, 0, err);
    rc = rc == 0 ? txn_commit(t, err) : (txn_rollback(t, NULL), -1);
    txn_free(t);
    if (rc < 0)
        return -1;
    pthread_mutex_lock(&in->mu);
    in->dbs[db->tdb.id] = NULL;
    pthread_mutex_unlock(&in->mu);
    char data[PATH_MAX], log[PATH_MAX];
    snprintf(data, sizeof data, "%s", df_file(db->df, 1)->path);
    snprintf(log, sizeof log, "%s", db->log_path);
    /* the secondary data files go too */
    uint16_t ids[DF_MAX_FILES];
    int nf = df_file_ids(db->df, ids, DF_MAX_FILES);
    char (*more)[PATH_MAX] = calloc((size_t)nf + 1, PATH_MAX);
    for (int i = 0; more && i < nf; i++)
        if (ids[i] != 1)
            snprintf(more[i], PATH_MAX, "%s", df_file(db->df, ids[i])->path);
    db_close(db, 0);
    unlink(data);
    unlink(log);
    for (int i = 0; more && i < nf; i++)
        if (more[i][0])
            unlink(more[i]);
    free(more);
    db_dcm_remove(log);
    inst_log(in, "Database '%s' dropped.", name);
    return 0;
}

/* ---- restore ------------------------------------------------------------------ */

uint32_t inst_free_db_id(instance *in)
{
    uint32_t id = 0;
    pthread_mutex_lock(&in->mu);
    for (uint32_t i = 5; i < INST_MAX_DBS && !id; i++)
        if (!in->dbs[i])
            id = i;
    pthread_mutex_unlock(&in->mu);
    return id;
}

void inst_detach(instance *in, database *db)
{
    pthread_mutex_lock(&in->ddl_mu);
    pthread_mutex_lock(&in->mu);
    if (db->tdb.id < INST_MAX_DBS && in->dbs[db->tdb.id] == db)
        in->dbs[db->tdb.id] = NULL;
    pthread_mutex_unlock(&in->mu);
    pthread_mutex_unlock(&in->ddl_mu);
}

static int reregister(instance *in, uint32_t id, const char *name, const char *data, const char *log,
                      const inst_file_path *files, int nfiles, hdb_err *err)
{
    database *master = in->dbs[DBID_MASTER];
    table_def *td = cat_find_table(master, SCHEMA_SYS, REGISTRY_NAME, err);
    table_def *fd = nfiles >= 0 ? file_registry(in, nfiles > 0, err) : NULL;
    if (!td || (nfiles > 0 && !fd))
        return -1;
    txn *t = txn_begin(in->txns, 0, "RESTORE DATABASE", "sa");
    sql_value key = value_int(SQL_INT, id);
    sql_value v[4] = {
        key,
        value_bytes(SQL_VARCHAR, name, (uint32_t)strlen(name)),
        value_bytes(SQL_VARCHAR, data, (uint32_t)strlen(data)),
        value_bytes(SQL_VARCHAR, log, (uint32_t)strlen(log)),
    };
    table_row row;
    int rc = table_get(t, master, td, &key, ISO_READ_COMMITTED, &row, err);
    if (rc == 1) {
        table_row_free(&row);
        rc = table_update(t, master, td, &key, v, err);
    } else if (rc == 0) {
        rc = table_insert(t, master, td, v, err);
    }
    /* the other files' paths change in the same transaction */
    if (rc == 0 && fd)
        rc = put_file_rows(in, t, fd, id, files, nfiles, err);
    rc = rc == 0 ? txn_commit(t, err) : (txn_rollback(t, NULL), -1);
    txn_free(t);
    return rc;
}

int inst_register(instance *in, uint32_t id, const char *name, const char *data_path, const char *log_path,
                  const inst_file_path *files, int nfiles, hdb_err *err)
{
    return reregister(in, id, name, data_path, log_path, files, nfiles, err);
}

database *inst_attach(instance *in, uint32_t id, const char *name, const char *data_path,
                      const char *log_path, hdb_err *err)
{
    return inst_attach_files(in, id, name, data_path, log_path, NULL, -1, err);
}

database *inst_attach_files(instance *in, uint32_t id, const char *name, const char *data_path,
                            const char *log_path, const inst_file_path *files, int nfiles, hdb_err *err)
{
    pthread_mutex_lock(&in->ddl_mu);
    database *db = NULL;
    file_row *rows = NULL;
    int nrows = 0;
    db_file_path paths[DF_MAX_FILES];
    if (reregister(in, id, name, data_path, log_path, files, nfiles, err) < 0 ||
        load_file_rows(in, &rows, &nrows, err) < 0)
        goto out;
    db = db_open(in, in->bp, id, name, data_path, log_path, paths, paths_of(rows, nrows, id, paths), err);
    if (!db)
        goto out;
    if (log_restore_state(db->tdb.log, NULL) != DB_RESTORE_NONE) {
        db->state = DB_RESTORING;
        /* a failed standby open stays RESTORING: the next RESTORE goes on */
        if (log_restore_state(db->tdb.log, NULL) == DB_RESTORE_STANDBY && db_open_standby(db, err) < 0) {
            db_set_read_only(db, 0, NULL);
            db->state = DB_RESTORING;
        }
    } else {
        recovery *rc = recovery_begin(in->txns);
        int r = rc ? recovery_add(rc, db, err) : -1;
        if (r == 0)
            r = recovery_finish(rc, lookup_db_fwd, in, err);
        recovery_free(rc);
        if (r < 0 || db->state != DB_ONLINE) {
            db_close(db, 0);
            db = NULL;
            goto out;
        }
    }
    pthread_mutex_lock(&in->mu);
    in->dbs[id] = db;
    pthread_mutex_unlock(&in->mu);
out:
    pthread_mutex_unlock(&in->ddl_mu);
    free(rows);
    return db;
}

int inst_set_file_path(instance *in, uint32_t db_id, uint16_t file_id, const char *path, hdb_err *err)
{
    return inst_set_file_state(in, db_id, file_id, path, DF_ONLINE, err);
}

int inst_set_file_state(instance *in, uint32_t db_id, uint16_t file_id, const char *path, int state, hdb_err *err)
{
    pthread_mutex_lock(&in->ddl_mu);
    table_def *fd = file_registry(in, 1, err);
    int rc = -1;
    if (fd) {
        inst_file_path fp = { file_id, path, (uint8_t)state };
        txn *t = txn_begin(in->txns, 0, "file registry", "sa");
        rc = add_file_row(in, t, fd, db_id, &fp, err);
        rc = rc == 0 ? txn_commit(t, err) : (txn_rollback(t, NULL), -1);
        txn_free(t);
    }
    pthread_mutex_unlock(&in->ddl_mu);
    return rc;
}

int inst_registered_path(instance *in, uint32_t db_id, uint16_t file_id, char *out, size_t cap)
{
    pthread_mutex_lock(&in->ddl_mu);
    hdb_err e;
    table_def *fd = file_registry(in, 0, &e);
    int found = 0;
    if (fd) {
        txn *t = txn_begin(in->txns, 0, "file path", "sa");
        sql_value key[2] = { value_int(SQL_INT, db_id), value_int(SQL_INT, file_id) };
        table_row row;
        found = table_get(t, in->dbs[DBID_MASTER], fd, key, ISO_READ_COMMITTED, &row, &e) == 1;
        if (found) {
            snprintf(out, cap, "%.*s", (int)row.vals[2].len, row.vals[2].bytes);
            table_row_free(&row);
        }
        txn_commit(t, &e);
        txn_free(t);
    }
    pthread_mutex_unlock(&in->ddl_mu);
    return found;
}

int inst_add_file(instance *in, database *db, const char *fg_name, const db_file_spec *spec, uint16_t *file_id,
                  hdb_err *err)
{
    pthread_mutex_lock(&in->ddl_mu);
    uint16_t id = 0;
    int rc = db_add_file(db, fg_name, spec, &id, err);
    if (rc == 0) {
        /* the file exists and is on the boot page; without its row it still
         * opens from there, so a failure to write the row is only logged */
        hdb_err e;
        hdb_err_clear(&e);
        inst_file_path fp = { .file_id = id, .path = spec->path };
        table_def *fd = file_registry(in, 1, &e);
        int r = -1;
        if (fd) {
            txn *t = txn_begin(in->txns, 0, "ALTER DATABASE", "sa");
            r = add_file_row(in, t, fd, db->tdb.id, &fp, &e);
            r = r == 0 ? txn_commit(t, &e) : (txn_rollback(t, NULL), -1);
            txn_free(t);
        }
        if (r < 0)
            inst_log(in, "The path of file %u of database '%s' could not be recorded in master: %s (error %d).",
                     id, db->tdb.name, e.msg, e.number);
        if (file_id)
            *file_id = id;
    }
    pthread_mutex_unlock(&in->ddl_mu);
    return rc;
}

/* ---- start-up -------------------------------------------------------------- */

static database *lookup_db(void *ctx, uint32_t id) { return inst_database(ctx, id); }

static int open_all(instance *in, hdb_err *err)
{
    char data[PATH_MAX], log[PATH_MAX];
    data_paths(in, "master", DBID_MASTER, data, log);
    database *master = db_open(in, in->bp, DBID_MASTER, "master", data, log, NULL, 0, err);
    if (!master)
        return -1;
    in->dbs[DBID_MASTER] = master;
    recovery *rc = recovery_begin(in->txns);
    inst_log(in, "Starting up database 'master'.");
    if (recovery_add(rc, master, err) < 0) {
        recovery_free(rc);
        return -1;
    }
    /* the registry as redo left it (a row of an unfinished CREATE DATABASE
     * may be there; its files are then missing or it is undone below) */
    table_def *td = cat_find_table(master, SCHEMA_SYS, REGISTRY_NAME, err);
    if (!td) {
        recovery_free(rc);
        return -1;
    }
    file_row *rows = NULL;
    int nrows = 0;
    if (load_file_rows(in, &rows, &nrows, err) < 0) {
        recovery_free(rc);
        return -1;
    }
    txn *t = txn_begin(in->txns, 0, "startup", "sa");
    table_scan *s = table_scan_open(t, master, td, ISO_READ_UNCOMMITTED, err);
    table_row row;
    int k;
    while (s && (k = table_scan_next(s, &row, err)) == 1) {
        uint32_t id = (uint32_t)row.vals[0].u.i;
        if (id == DBID_MASTER || id >= INST_MAX_DBS)
            continue;
        char name[CAT_NAME_MAX + 1];
        snprintf(name, sizeof name, "%.*s", (int)row.vals[1].len, row.vals[1].bytes);
        snprintf(data, sizeof data, "%.*s", (int)row.vals[2].len, row.vals[2].bytes);
        snprintf(log, sizeof log, "%.*s", (int)row.vals[3].len, row.vals[3].bytes);
        if (access(data, F_OK) != 0 || access(log, F_OK) != 0) {
            dbst_pending_at_start(in, id, name, data, log, 5120,
                                  access(data, F_OK) != 0 ? "its data file is missing" : "its log file is missing");
            continue;
        }
        hdb_err e;
        hdb_err_clear(&e);
        inst_log(in, "Starting up database '%s'.", name);
        db_file_path paths[DF_MAX_FILES];
        database *db = db_open(in, in->bp, id, name, data, log, paths, paths_of(rows, nrows, id, paths), &e);
        if (!db) {
            char why[HDB_ERR_MSG_MAX + 32];
            snprintf(why, sizeof why, "%s (error %d)", e.msg, e.number);
            dbst_pending_at_start(in, id, name, data, log, e.number, why);
            continue;
        }
        in->dbs[id] = db;
        if (dbst_offline_at_start(in, db))
            continue;
        /* a restore sequence in progress: no recovery, the next RESTORE goes on */
        if (log_restore_state(db->tdb.log, NULL) != DB_RESTORE_NONE) {
            db->state = DB_RESTORING;
            if (log_restore_state(db->tdb.log, NULL) == DB_RESTORE_STANDBY) {
                /* between restores WITH STANDBY: readable, nothing to recover */
                if (db_open_standby(db, &e) == 0) {
                    inst_log(in, "Database '%s' is in STANDBY (read-only) between restores.", name);
                    continue;
                }
                inst_log(in, "Database '%s' cannot be opened in STANDBY: %s (error %d)", name, e.msg, e.number);
            }
            inst_log(in, "Database '%s' is in the middle of a restore (RESTORING).", name);
            continue;
        }
        if (recovery_add(rc, db, &e) < 0) {
            inst_log(in, "Recovery of database '%s' failed: %s (error %d). The database is marked SUSPECT.",
                     name, e.msg, e.number);
            db->state = DB_SUSPECT;
        }
    }
    table_scan_close(s);
    txn_free(t);
    free(rows);
    int r = recovery_finish(rc, lookup_db, in, err);
    recovery_stats st;
    recovery_get_stats(rc, &st);
    recovery_free(rc);
    inst_log(in, "Recovery: %llu log records analyzed, %llu redone (%llu pages, %.1f MB) in %.3f s; "
                 "%llu transactions rolled back, %llu in-doubt committed (%.3f s).",
             (unsigned long long)st.records_analyzed, (unsigned long long)st.records_redone,
             (unsigned long long)st.pages_redone, st.bytes_redone / 1e6, st.redo_s + st.analysis_s,
             (unsigned long long)st.txns_rolled_back, (unsigned long long)st.txns_committed_in_doubt, st.undo_s);
    if (r < 0)
        return -1;
    for (int i = 0; i < INST_MAX_DBS; i++) {
        database *db = in->dbs[i];
        if (db && db->state == DB_ONLINE) {
            hdb_err e;
            if (db_checkpoint(db, &e) < 0)
                inst_log(in, "Checkpoint of database '%s' after recovery failed: %s", db->tdb.name, e.msg);
        }
    }
    return 0;
}

static void *checkpoint_loop(void *arg)
{
    instance *in = arg;
    pthread_mutex_lock(&in->ckpt_mu);
    while (!in->stopping) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_sec += in->opt.checkpoint_interval_s;
        pthread_cond_timedwait(&in->ckpt_cv, &in->ckpt_mu, &ts);
        if (in->stopping)
            break;
        pthread_mutex_unlock(&in->ckpt_mu);
        for (int i = 0; i < INST_MAX_DBS; i++) {
            pthread_mutex_lock(&in->ddl_mu);
            database *db = inst_database(in, i);
            if (db && db->state == DB_ONLINE) {
                hdb_err e;
                if (db_checkpoint(db, &e) < 0)
                    inst_log(in, "Checkpoint of database '%s' failed: %s (error %d)", db->tdb.name, e.msg, e.number);
            }
            pthread_mutex_unlock(&in->ddl_mu);
        }
        pthread_mutex_lock(&in->ckpt_mu);
    }
    pthread_mutex_unlock(&in->ckpt_mu);
    return NULL;
}

instance *inst_open(const inst_options *opt, hdb_err *err)
{
    instance *in = calloc(1, sizeof *in);
    if (!in)
        return hdb_raise_text(err, 701, 19, 1, "There is insufficient system memory to run this query."), NULL;
    in->opt = *opt;
    if (!in->opt.buffer_pool_mb)
        in->opt.buffer_pool_mb = 128;
    snprintf(in->datadir, sizeof in->datadir, "%s", opt->datadir ? opt->datadir : "./data");
    in->opt.datadir = in->datadir;
    pthread_mutex_init(&in->mu, NULL);
    pthread_mutex_init(&in->ddl_mu, NULL);
    pthread_mutex_init(&in->log_mu, NULL);
    pthread_mutex_init(&in->ckpt_mu, NULL);
    pthread_cond_init(&in->ckpt_cv, NULL);
    in->errlog_fd = -1;
    char path[PATH_MAX];
    int fresh;
    snprintf(path, sizeof path, "%s/data/master.mdf", in->datadir);
    fresh = access(path, F_OK) != 0;
    if (make_dir(in->datadir, err) < 0)
        goto fail;
    snprintf(path, sizeof path, "%s/data", in->datadir);
    if (make_dir(path, err) < 0)
        goto fail;
    snprintf(path, sizeof path, "%s/log", in->datadir);
    if (make_dir(path, err) < 0)
        goto fail;
    snprintf(path, sizeof path, "%s/backup", in->datadir);
    if (make_dir(path, err) < 0)
        goto fail;
    snprintf(path, sizeof path, "%s/log/errorlog", in->datadir);
    in->errlog_fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    in->bp = bp_create(in->opt.buffer_pool_mb << 20, err);
    in->locks = lock_mgr_create();
    in->txns = in->locks ? txn_mgr_create(in->locks, table_undo, in) : NULL;
    if (!in->bp || !in->txns)
        goto fail;
    inst_log(in, "hadrdb engine starting; data directory '%s', buffer pool %zu MB.", in->datadir, in->opt.buffer_pool_mb);
    if (fresh) {
        inst_log(in, "Initializing a new data directory: creating master and msdb.");
        if (!create_db(in, "master", DBID_MASTER, err) || !create_db(in, "msdb", DBID_MSDB, err))
            goto fail;
    } else if (open_all(in, err) < 0) {
        goto fail;
    }
    if (in->opt.checkpoint_interval_s > 0 && pthread_create(&in->ckpt_thread, NULL, checkpoint_loop, in) == 0)
        in->ckpt_running = 1;
    inst_log(in, "Recovery is complete. This is an informational message only. No user action is required.");
    return in;
fail:
    inst_close(in, 0);
    return NULL;
}

void inst_close(instance *in, int clean)
{
    if (!in)
        return;
    if (in->ckpt_running) {
        pthread_mutex_lock(&in->ckpt_mu);
        in->stopping = 1;
        pthread_cond_broadcast(&in->ckpt_cv);
        pthread_mutex_unlock(&in->ckpt_mu);
        pthread_join(in->ckpt_thread, NULL);
    }
    /* master last: the others are registered in it */
    for (int i = INST_MAX_DBS - 1; i >= 0; i--) {
        if (in->dbs[i]) {
            db_close(in->dbs[i], clean);
            in->dbs[i] = NULL;
        }
    }
    if (clean)
        inst_log(in, "All databases were checkpointed and closed.");
    if (in->txns)
        txn_mgr_destroy(in->txns);
    if (in->locks)
        lock_mgr_destroy(in->locks);
    if (in->bp)
        bp_destroy(in->bp);
    if (in->errlog_fd >= 0)
        close(in->errlog_fd);
    pthread_mutex_destroy(&in->mu);
    pthread_mutex_destroy(&in->ddl_mu);
    pthread_mutex_destroy(&in->log_mu);
    pthread_mutex_destroy(&in->ckpt_mu);
    pthread_cond_destroy(&in->ckpt_cv);
    free(in);
}

int inst_checkpoint(instance *in, database *db, hdb_err *err)
{
    if (db)
        return db_checkpoint(db, err);
    for (int i = 0; i < INST_MAX_DBS; i++) {
        database *d = inst_database(in, i);
        if (d && d->state == DB_ONLINE && db_checkpoint(d, err) < 0)
            return -1;
    }
    return 0;
}

/* ---- database states (engine/dbstate.c) ------------------------------------ */

database *inst_reopen(instance *in, uint32_t id, hdb_err *err)
{
    database *master = in->dbs[DBID_MASTER];
    table_def *td = cat_find_table(master, SCHEMA_SYS, REGISTRY_NAME, err);
    if (!td)
        return NULL;
    char name[CAT_NAME_MAX + 1], data[PATH_MAX], log[PATH_MAX];
    txn *t = txn_begin(in->txns, 0, "ALTER DATABASE", "sa");
    sql_value key = value_int(SQL_INT, id);
    table_row row;
    int found = table_get(t, master, td, &key, ISO_READ_COMMITTED, &row, err);
    if (found == 1) {
        snprintf(name, sizeof name, "%.*s", (int)row.vals[1].len, row.vals[1].bytes);
        snprintf(data, sizeof data, "%.*s", (int)row.vals[2].len, row.vals[2].bytes);
        snprintf(log, sizeof log, "%.*s", (int)row.vals[3].len, row.vals[3].bytes);
        table_row_free(&row);
    }
    hdb_err e;
    txn_commit(t, &e);
    txn_free(t);
    if (found != 1) {
        if (found == 0)
            hdb_raise(err, 911, "(unregistered)");
        return NULL;
    }
    file_row *rows = NULL;
    int nrows = 0;
    if (load_file_rows(in, &rows, &nrows, err) < 0)
        return NULL;
    db_file_path paths[DF_MAX_FILES];
    database *db = db_open(in, in->bp, id, name, data, log, paths, paths_of(rows, nrows, id, paths), err);
    free(rows);
    return db;
}

int inst_registry_paths(instance *in, uint32_t id, char *data, char *log)
{
    database *master = in->dbs[DBID_MASTER];
    hdb_err e;
    table_def *td = cat_find_table(master, SCHEMA_SYS, REGISTRY_NAME, &e);
    if (!td)
        return 0;
    txn *t = txn_begin(in->txns, 0, "registry", "sa");
    sql_value key = value_int(SQL_INT, id);
    table_row row;
    int found = table_get(t, master, td, &key, ISO_READ_COMMITTED, &row, &e) == 1;
    if (found) {
        snprintf(data, PATH_MAX, "%.*s", (int)row.vals[2].len, row.vals[2].bytes);
        snprintf(log, PATH_MAX, "%.*s", (int)row.vals[3].len, row.vals[3].bytes);
        table_row_free(&row);
    }
    txn_commit(t, &e);
    txn_free(t);
    return found;
}

int inst_unregister(instance *in, uint32_t id, hdb_err *err)
{
    database *master = in->dbs[DBID_MASTER];
    table_def *td = cat_find_table(master, SCHEMA_SYS, REGISTRY_NAME, err);
    if (!td)
        return -1;
    table_def *fd = file_registry(in, 0, err);
    txn *t = txn_begin(in->txns, 0, "DROP DATABASE", "sa");
    sql_value key = value_int(SQL_INT, id);
    int rc = table_delete(t, master, td, &key, err);
    if (rc == 0 && fd)
        rc = put_file_rows(in, t, fd, id, NULL, 0, err);
    rc = rc == 0 ? txn_commit(t, err) : (txn_rollback(t, NULL), -1);
    txn_free(t);
    return rc;
}
