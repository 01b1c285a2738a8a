/*
 * exec_temp.c — temporary tables. #t is private to its session, ##t global;
 * both are real tables of the tempdb database (created on first use), under
 * a session-unique name for #t. A temporary table lives until its creating
 * scope ends (the batch's session, or the sp_executesql / EXEC() that made
 * it), DROP TABLE, or a rollback of the transaction that created it.
 *
 * Table variables (DECLARE @t TABLE) are the same kind of table, named after
 * the variable and dropped when their batch ends. Unlike SQL Server's, their
 * changes do take part in (and roll back with) the user's transaction.
 *
 * tempdb starts empty in each server process: on first use, tables left by a
 * previous process (a crash skips the cleanup) are dropped.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sql/exec_int.h"

static pthread_mutex_t temp_mu = PTHREAD_MUTEX_INITIALIZER;
static instance *cleaned[16];
static int ncleaned;

typedef struct orphan_ctx { uint32_t ids[1024]; int n; } orphan_ctx;

static int collect_orphan(void *ctx, table_def *td)
{
    orphan_ctx *c = ctx;
    if (td->name[0] == '#' && c->n < 1024)
        c->ids[c->n++] = td->object_id;
    return 0;
}

static void drop_orphans(instance *in, database *db)
{
    orphan_ctx *c = calloc(1, sizeof *c);
    hdb_err e;
    if (!c || cat_foreach_table(db, collect_orphan, c, &e) < 0) {
        free(c);
        return;
    }
    for (int i = 0; i < c->n; i++) {
        table_def *td = cat_get_table(db, c->ids[i], &e);
        txn *t = td ? txn_begin(in->txns, 0, "tempdb cleanup", "sa") : NULL;
        if (!t)
            continue;
        if (cat_drop_table(t, db, td, &e) == 0)
            txn_commit(t, &e);
        else
            txn_rollback(t, &e);
        txn_free(t);
    }
    free(c);
}

database *ex_tempdb(sql_session *s, hdb_err *err)
{
    pthread_mutex_lock(&temp_mu);
    database *db = inst_find_database(s->in, "tempdb");
    if (!db) {
        db = inst_create_database(s->in, "tempdb", err);
        if (db) {
            /* nothing in tempdb is ever restored: its log need not be kept */
            pthread_mutex_lock(&db->boot_mu);
            db->boot.recovery_model = RECOVERY_SIMPLE;
            db_write_boot(db, err);
            pthread_mutex_unlock(&db->boot_mu);
        }
    }
    bool done = false;
    for (int i = 0; i < ncleaned; i++)
        if (cleaned[i] == s->in)
            done = true;
    if (db && !done) {
        drop_orphans(s->in, db);
        if (ncleaned < 16)
            cleaned[ncleaned++] = s->in;
    }
    pthread_mutex_unlock(&temp_mu);
    return db;
}

static ex_temp *find(sql_session *s, const char *name)
{
    for (int i = s->ntemps - 1; i >= 0; i--)
        if (strcasecmp(s->temps[i].name, name) == 0)
            return &s->temps[i];
    return NULL;
}

int ex_temp_find(sql_session *s, const char *name, database **dbp, table_def **tdp)
{
    database *db = inst_find_database(s->in, "tempdb");
    if (!db)
        return 0;
    hdb_err e;
    if (name[1] == '#') {
        /* global: by its own name, whoever created it */
        table_def *td = cat_find_table(db, SCHEMA_DBO, name, &e);
        if (!td)
            return 0;
        *dbp = db;
        *tdp = td;
        return 1;
    }
    ex_temp *t = find(s, name);
    if (!t)
        return 0;
    table_def *td = cat_get_table(db, t->object_id, &e);
    if (!td || td->dropped || strcmp(td->name, t->real) != 0) {
        /* its CREATE TABLE was rolled back */
        ex_temp_forget(s, name);
        return 0;
    }
    *dbp = db;
    *tdp = td;
    return 1;
}

int ex_temp_real_name(sql_session *s, const char *name, char *out, size_t cap)
{
    if (name[1] == '#') {
        snprintf(out, cap, "%s", name);
        return 0;
    }
    /* #t -> #t__<spid>_<n>: unique per session and creation */
    snprintf(out, cap, "%.100s__%d_%d", name, s->spid, ++s->temp_seq);
    return 0;
}

void ex_temp_display_names(sql_session *s, hdb_err *e)
{
    for (int i = 0; i < s->ntemps; i++) {
        const ex_temp *t = &s->temps[i];
        size_t rl = strlen(t->real), nl = strlen(t->name);
        if (rl <= nl || strcmp(t->real, t->name) == 0)
            continue;
        char *at;
        while ((at = strstr(e->msg, t->real)) != NULL) {
            /* the user's name is the shorter: replace in place */
            memmove(at + nl, at + rl, strlen(at + rl) + 1);
            memcpy(at, t->name, nl);
        }
    }
}

int ex_temp_add(sql_session *s, const char *name, const char *real, uint32_t object_id)
{
    if (s->ntemps == s->cap_temps) {
        int nc = s->cap_temps ? s->cap_temps * 2 : 8;
        ex_temp *nt = realloc(s->temps, sizeof *nt * (size_t)nc);
        if (!nt)
            return -1;
        s->temps = nt;
        s->cap_temps = nc;
    }
    ex_temp *t = &s->temps[s->ntemps++];
    snprintf(t->name, sizeof t->name, "%s", name);
    snprintf(t->real, sizeof t->real, "%s", real);
    t->object_id = object_id;
    t->depth = s->scope_depth;
    return 0;
}

void ex_temp_forget(sql_session *s, const char *name)
{
    ex_temp *t = find(s, name);
    if (!t)
        return;
    *t = s->temps[--s->ntemps];
}

static void cleanup(sql_session *s, int min_depth, bool vars_only);

void ex_temp_cleanup(sql_session *s, int min_depth) { cleanup(s, min_depth, false); }
void ex_temp_cleanup_vars(sql_session *s) { cleanup(s, s->scope_depth, true); }

static void cleanup(sql_session *s, int min_depth, bool vars_only)
{
    database *db = s->ntemps ? inst_find_database(s->in, "tempdb") : NULL;
    for (int i = s->ntemps - 1; i >= 0; i--) {
        ex_temp *tt = &s->temps[i];
        if (tt->depth < min_depth || (vars_only && tt->name[0] != '@'))
            continue;
        hdb_err e;
        table_def *td = db ? cat_get_table(db, tt->object_id, &e) : NULL;
        if (td && !td->dropped && strcmp(td->name, tt->real) == 0) {
            /* inside a user transaction the drop is part of it */
            bool own = !s->tx || s->tx_stmt;
            txn *t = own ? txn_begin(s->in->txns, s->spid, "temp cleanup", s->login) : s->tx;
            if (t) {
                int rc = cat_drop_table(t, db, td, &e);
                if (own) {
                    if (rc == 0)
                        txn_commit(t, &e);
                    else
                        txn_rollback(t, &e);
                    txn_free(t);
                }
            }
        }
        s->temps[i] = s->temps[--s->ntemps];
    }
}
