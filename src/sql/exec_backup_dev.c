/*
 * exec_backup_dev.c — backup devices: sp_addumpdevice / sp_dropdevice's
 * storage, sys.backup_devices, and turning a BACKUP TO / RESTORE FROM device
 * into a file path.
 *
 * Logical devices live in master, in the hidden table sys.hdb_backup_devices
 * (name_key, name, type, physical_name), so they survive restarts and
 * travel with master's backups like SQL Server's sysdevices. name_key is the
 * upper-cased name: device names are case-insensitive and the key must be
 * unique (15026 on a second sp_addumpdevice of the same name). Each change
 * is its own committed transaction, as sp_addumpdevice's is in SQL Server.
 *
 * Paths: DISK = 'x.bak' and a device's relative physical name resolve under
 * DATADIR/backup/ (created if missing); absolute paths are used as given.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "sql/exec_int.h"

#define DEV_TABLE "hdb_backup_devices"
#define DEV_TYPE_DISK 2

static table_def *dev_table(instance *in)
{
    hdb_err e;
    database *master = inst_database(in, DBID_MASTER);
    return master ? cat_find_table(master, SCHEMA_SYS, DEV_TABLE, &e) : NULL;
}

static int dev_table_ensure(instance *in, txn *t, table_def **out, hdb_err *err)
{
    database *master = inst_database(in, DBID_MASTER);
    if ((*out = dev_table(in)))
        return 0;
    tbl_column c[4];
    memset(c, 0, sizeof c);
    static const char *names[4] = { "name_key", "name", "type", "physical_name" };
    sql_type types[4] = { value_type(SQL_VARBINARY, 512, 0, 0), value_type(SQL_VARBINARY, 512, 0, 0),
                          value_type(SQL_TINYINT, 0, 0, 0), value_type(SQL_VARBINARY, 2048, 0, 0) };
    for (int i = 0; i < 4; i++) {
        snprintf(c[i].name, sizeof c[i].name, "%s", names[i]);
        c[i].type = types[i];
    }
    int pk = 0;
    table_spec spec = { .schema_id = SCHEMA_SYS, .name = DEV_TABLE, .ncols = 4, .cols = c, .npk = 1,
                        .pk_cols = &pk, .pk_name = "PK_hdb_backup_devices" };
    if (cat_create_table(t, master, &spec, NULL, err) < 0)
        return -1;
    *out = dev_table(in);
    return *out ? 0 : -1;
}

static void upper_key(const char *name, char *key, size_t cap)
{
    size_t i = 0;
    for (; name[i] && i + 1 < cap; i++)
        key[i] = (char)toupper((unsigned char)name[i]);
    key[i] = 0;
}

static sql_value bin(const char *s)
{
    return value_bytes(SQL_VARBINARY, s, (uint32_t)strlen(s));
}

int bkdev_lookup(instance *in, const char *name, char *path, size_t cap)
{
    table_def *td = dev_table(in);
    if (!td)
        return 0;
    char key[520];
    upper_key(name, key, sizeof key);
    hdb_err e;
    txn *t = txn_begin(in->txns, 0, "device lookup", "sa");
    sql_value k = bin(key);
    table_row r;
    int rc = table_get(t, inst_database(in, DBID_MASTER), td, &k, ISO_READ_COMMITTED, &r, &e);
    if (rc == 1) {
        snprintf(path, cap, "%.*s", (int)r.vals[3].len, (const char *)r.vals[3].bytes);
        table_row_free(&r);
    }
    txn_commit(t, &e);
    txn_free(t);
    return rc < 0 ? -1 : rc;
}

int bkdev_foreach(instance *in, void (*fn)(void *ctx, const char *name, int type, const char *path), void *ctx)
{
    table_def *td = dev_table(in);
    if (!td)
        return 0;
    hdb_err e;
    txn *t = txn_begin(in->txns, 0, "sys.backup_devices", "sa");
    table_scan *sc = table_scan_open(t, inst_database(in, DBID_MASTER), td, ISO_READ_COMMITTED, &e);
    table_row r;
    int k = -1;
    while (sc && (k = table_scan_next(sc, &r, &e)) == 1) {
        char name[520], path[2100];
        snprintf(name, sizeof name, "%.*s", (int)r.vals[1].len, (const char *)r.vals[1].bytes);
        snprintf(path, sizeof path, "%.*s", (int)r.vals[3].len, (const char *)r.vals[3].bytes);
        fn(ctx, name, (int)r.vals[2].u.i, path);
    }
    table_scan_close(sc);
    txn_commit(t, &e);
    txn_free(t);
    return k < 0 ? -1 : 0;
}

int bkdev_add(sql_session *s, const char *type, const char *name, const char *path)
{
    if (!type || !name || !path || !name[0] || !path[0])
        return ex_failf(s, 201, 16, 4, "Procedure or function 'sp_addumpdevice' expects parameter '%s', which was not supplied.",
                        !type ? "@devtype" : !name || !name[0] ? "@logicalname" : "@physicalname");
    if (strcasecmp(type, "disk") != 0) {
        if (!strcasecmp(type, "tape") || !strcasecmp(type, "virtual_device"))
            return ex_failf(s, 40027, 16, 1, "Backup devices of type '%s' are not supported yet; use 'disk'.", type);
        return hdb_raise(&s->err, 15044, type), EX_ERROR;
    }
    if (strlen(name) > 128 || strlen(path) > 260)
        return ex_failf(s, 15250, 16, 1, "The logical or physical device name is too long.");
    char key[520];
    upper_key(name, key, sizeof key);
    txn *t = txn_begin(s->in->txns, s->spid, "sp_addumpdevice", s->login);
    table_def *td;
    int rc = dev_table_ensure(s->in, t, &td, &s->err);
    if (rc == 0) {
        sql_value v[4] = { bin(key), bin(name), value_int(SQL_TINYINT, DEV_TYPE_DISK), bin(path) };
        rc = table_insert(t, inst_database(s->in, DBID_MASTER), td, v, &s->err);
        if (rc < 0 && s->err.number == 2627)
            hdb_raise(&s->err, 15026, name);
    }
    if (rc == 0)
        rc = txn_commit(t, &s->err);
    else
        txn_rollback(t, NULL);
    txn_free(t);
    if (rc < 0) {
        cat_invalidate(inst_database(s->in, DBID_MASTER));   /* a rolled-back CREATE TABLE */
        return EX_ERROR;
    }
    return EX_OK;
}

int bkdev_drop(sql_session *s, const char *name, bool delfile)
{
    if (!name || !name[0])
        return ex_failf(s, 201, 16, 4, "Procedure or function 'sp_dropdevice' expects parameter '@logicalname', which was not supplied.");
    char path[2100];
    int found = bkdev_lookup(s->in, name, path, sizeof path);
    if (found <= 0)
        return hdb_raise(&s->err, 15012, name), EX_ERROR;
    char key[520];
    upper_key(name, key, sizeof key);
    txn *t = txn_begin(s->in->txns, s->spid, "sp_dropdevice", s->login);
    sql_value k = bin(key);
    int rc = table_delete(t, inst_database(s->in, DBID_MASTER), dev_table(s->in), &k, &s->err);
    rc = rc == 0 ? txn_commit(t, &s->err) : (txn_rollback(t, NULL), -1);
    txn_free(t);
    if (rc < 0)
        return EX_ERROR;
    if (delfile) {
        char full[PATH_MAX];
        if (bk_physical_path(s->in, path, full, sizeof full) == 0)
            remove(full);
    }
    return EX_OK;
}

int bk_physical_path(instance *in, const char *given, char *out, size_t cap)
{
    if (given[0] == '/') {
        if ((size_t)snprintf(out, cap, "%s", given) >= cap)
            return -1;
        return 0;
    }
    char dir[PATH_MAX];
    snprintf(dir, sizeof dir, "%s/backup", in->datadir);
    if (mkdir(dir, 0755) < 0 && errno != EEXIST)
        return -1;
    if ((size_t)snprintf(out, cap, "%s/%s", dir, given) >= cap)
        return -1;
    return 0;
}

int bk_resolve_device(sql_session *s, const ast_device *d, bk_device *out)
{
    memset(out, 0, sizeof *out);
    char text[2100];
    if (d->value) {   /* DISK = @v or a logical name in @v */
        sql_value v;
        sql_type t;
        if (ex_eval_scalar(s, d->value, &v, &t) < 0)
            return EX_ERROR;
        char *u = v.is_null ? NULL : cv_utf8(&s->stmt_arena, &v, &t);
        if (!u || !u[0])
            return ex_failf(s, 3206, 16, 1, "No entry in sysdevices for backup device '%s'. Update sysdevices and rerun statement.", "");
        snprintf(text, sizeof text, "%s", u);
    } else {
        snprintf(text, sizeof text, "%s", d->name ? d->name : "");
    }
    switch (d->kind) {
    case DEV_DISK:
        snprintf(out->given, sizeof out->given, "%s", text);
        out->device_type = 2;
        break;
    case DEV_LOGICAL: {
        int found = bkdev_lookup(s->in, text, out->given, sizeof out->given);
        if (found <= 0)
            return hdb_raise(&s->err, 3206, text), EX_ERROR;
        snprintf(out->logical, sizeof out->logical, "%.128s", text);
        out->device_type = 102;
        break;
    }
    case DEV_TAPE:
    case DEV_URL:
        return ex_failf(s, 40027, 16, 1, "Backup to %s is not supported yet; use DISK.", d->kind == DEV_TAPE ? "TAPE" : "URL");
    default:
        return ex_failf(s, 40027, 16, 1, "RESTORE FROM DATABASE_SNAPSHOT is not supported yet.");
    }
    if (bk_physical_path(s->in, out->given, out->path, sizeof out->path) < 0)
        return hdb_raise(&s->err, 3201, out->given, errno, strerror(errno)), EX_ERROR;
    return EX_OK;
}
