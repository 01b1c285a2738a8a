/*
 * exec_dbcc_check.c — DBCC CHECKDB / CHECKTABLE / CHECKALLOC (engine/dbcc.h
 * does the work):
 *
 *   DBCC CHECKDB [ ( db | db_id | 0 [ , NOINDEX | REPAIR_ALLOW_DATA_LOSS | REPAIR_REBUILD | REPAIR_FAST ] ) ]
 *   DBCC CHECKALLOC [ ( same ) ]
 *   DBCC CHECKTABLE ( table [ , NOINDEX | index_id | REPAIR_... ] )
 *     [ WITH NO_INFOMSGS, ALL_ERRORMSGS, TABLERESULTS, PHYSICAL_ONLY, TABLOCK, DATA_PURITY,
 *            EXTENDED_LOGICAL_CHECKS, MAXDOP = n ]
 *
 * Messages go out as SQL Server sends them: informational lines (severity
 * 10) as INFO, each inconsistency as an ERROR of severity 16 without ending
 * the batch; WITH TABLERESULTS turns them all into rows of one result set
 * (Error, Level, State, MessageText, RepairLevel, ..., Allocation). Repair
 * needs SINGLE_USER (7919); in EMERGENCY only REPAIR_ALLOW_DATA_LOSS (7901),
 * and the database is restarted afterwards (ONLINE on success).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "engine/dbcc.h"
#include "engine/dbstate.h"
#include "sql/exec_int.h"

/* ------------------------------------------------------------ output */

typedef struct out {
    sql_session *s;
    bool         table;      /* WITH TABLERESULTS */
    bool         started;    /* its columns were sent */
    bool         errors;     /* an error message went out */
    uint32_t     db_id;
    uint64_t     rows;
} out;

#define NCOLS 23
static const char *const col_names[NCOLS] = {
    "Error", "Level", "State", "MessageText", "RepairLevel", "Status", "DbId", "DbFragId", "ObjectId", "IndexId",
    "PartitionId", "AllocUnitId", "RidDbId", "RidPruId", "File", "Page", "Slot", "RefDbId", "RefPruId", "RefFile",
    "RefPage", "RefSlot", "Allocation",
};

static int start_table(out *o)
{
    sql_session *s = o->s;
    sql_column *cols = arena_calloc(&s->stmt_arena, sizeof *cols * NCOLS);
    if (!cols)
        return -1;
    for (int i = 0; i < NCOLS; i++) {
        cols[i].name = col_names[i];
        cols[i].type = i == 3 ? value_type(SQL_NVARCHAR, 2048, 0, 0)
                     : i == 4 ? value_type(SQL_NVARCHAR, 22, 0, 0)
                     : i == 10 || i == 11 ? value_type(SQL_BIGINT, 0, 0, 0) : value_type(SQL_INT, 0, 0, 0);
        cols[i].nullable = i == 4;
    }
    o->started = true;
    if (s->sink && s->sink->columns && s->sink->columns(s->sink->ctx, cols, NCOLS) < 0) {
        s->sink_failed = true;
        return -1;
    }
    return 0;
}

static void emit(void *ctx, const dbcc_msg *m)
{
    out *o = ctx;
    sql_session *s = o->s;
    if (s->sink_failed)
        return;
    if (m->severity > 10)
        o->errors = true;
    if (!o->table) {
        hdb_err e;
        hdb_raise_text(&e, m->number, m->severity, m->state, m->text);
        ex_report(s, &e, s->cur_line);
        if (m->severity > 10)
            s->last_error = m->number;
        return;
    }
    if (!o->started && start_table(o) < 0)
        return;
    sql_value v[NCOLS];
    arena *a = &s->row_arena;
    v[0] = value_int(SQL_INT, m->number);
    v[1] = value_int(SQL_INT, m->severity);
    v[2] = value_int(SQL_INT, m->state);
    v[3] = cv_str(a, m->text, true);
    v[4] = m->repair_level ? cv_str(a, m->repair_level == DBCC_REPAIR_ALLOW_DATA_LOSS ? "repair_allow_data_loss"
                                                                                     : "repair_rebuild", true)
                           : value_null(SQL_NVARCHAR);
    v[5] = value_int(SQL_INT, 0);
    v[6] = value_int(SQL_INT, o->db_id);
    v[7] = value_int(SQL_INT, 1);
    v[8] = value_int(SQL_INT, m->object_id);
    v[9] = value_int(SQL_INT, m->index_id);
    v[10] = value_int(SQL_BIGINT, (int64_t)m->partition_id);
    v[11] = value_int(SQL_BIGINT, (int64_t)m->partition_id);
    v[12] = value_int(SQL_INT, 0);
    v[13] = value_int(SQL_INT, 0);
    v[14] = value_int(SQL_INT, PGID_FILE(m->page));
    v[15] = value_int(SQL_INT, PGID_PAGE(m->page));
    v[16] = value_int(SQL_INT, m->slot);
    v[17] = value_int(SQL_INT, 0);
    v[18] = value_int(SQL_INT, 0);
    v[19] = value_int(SQL_INT, PGID_FILE(m->ref_page));
    v[20] = value_int(SQL_INT, PGID_PAGE(m->ref_page));
    v[21] = value_int(SQL_INT, m->ref_slot);
    v[22] = value_int(SQL_INT, m->allocation ? 1 : 2);
    if (s->sink && s->sink->row && s->sink->row(s->sink->ctx, v, NCOLS) < 0)
        s->sink_failed = true;
    arena_reset(a);
    o->rows++;
}

/* ------------------------------------------------------------ arguments */

/* The text of a bare name, a string or a number argument. 1 = text, 2 = number. */
static int arg_of(sql_session *s, ast_expr *e, char *buf, size_t cap, int64_t *num)
{
    if (e->kind == EXPR_COLUMN) {
        const ast_objname *q = &e->u.col.qual;
        const char *parts[4] = { q->server, q->database, q->schema, q->object };
        size_t n = 0;
        buf[0] = 0;
        for (int i = 0; i < 4; i++)
            if (parts[i])
                n += (size_t)snprintf(buf + n, n < cap ? cap - n : 0, "%s.", parts[i]);
        snprintf(buf + (n < cap ? n : cap - 1), n < cap ? cap - n : 1, "%s", e->u.col.name);
        return 1;
    }
    sql_value v;
    sql_type t;
    if (ex_eval_scalar(s, e, &v, &t) != EX_OK)
        return -1;
    if (v.is_null)
        return 0;
    if (ty_int(t.id)) {
        *num = (int64_t)v.u.i;
        return 2;
    }
    char *txt = cv_utf8(&s->stmt_arena, &v, &t);
    snprintf(buf, cap, "%s", txt ? txt : "");
    return 1;
}

static int bad_syntax(sql_session *s)
{
    return ex_failf(s, 2526, 16, 3, "Incorrect DBCC statement. Check the documentation for the correct DBCC "
                                    "syntax and options.");
}

/* "db.schema.t" / "[a].b" -> an object name */
static int split_name(sql_session *s, const char *text, ast_objname *n)
{
    char *parts[4];
    int k = 0;
    char *copy = arena_alloc(&s->stmt_arena, strlen(text) + 1);
    if (!copy)
        return -1;
    strcpy(copy, text);
    char *p = copy;
    while (k < 4) {
        char *start = p;
        if (*p == '[') {
            start = ++p;
            while (*p && *p != ']')
                p++;
            if (*p)
                *p++ = 0;
        } else {
            while (*p && *p != '.')
                p++;
        }
        parts[k++] = start;
        if (*p != '.')
            break;
        *p++ = 0;
    }
    memset(n, 0, sizeof *n);
    n->nparts = k;
    n->line = s->cur_line;
    n->object = parts[k - 1];
    if (k >= 2 && parts[k - 2][0])
        n->schema = parts[k - 2];
    if (k >= 3 && parts[k - 3][0])
        n->database = parts[k - 3];
    if (k >= 4)
        n->server = parts[0];
    return 0;
}

static int repair_word(const char *w)
{
    if (!strcasecmp(w, "REPAIR_ALLOW_DATA_LOSS"))
        return DBCC_REPAIR_ALLOW_DATA_LOSS;
    if (!strcasecmp(w, "REPAIR_REBUILD"))
        return DBCC_REPAIR_REBUILD;
    if (!strcasecmp(w, "REPAIR_FAST"))
        return -1;   /* accepted, does nothing (SQL Server's too) */
    return 0;
}

/* ------------------------------------------------------------ the commands */

static int check_cmd(sql_session *s, ast_stmt *st, int what)
{
    ast_dbcc *d = &st->u.dbcc;
    dbcc_opts o = { .what = what, .infomsgs = 1, .lock_timeout_ms = s->opt.lock_timeout };
    bool tableresults = false;
    for (int i = 0; i < d->with.n; i++) {
        const char *w = d->with.v[i]->name;
        if (!strcasecmp(w, "NO_INFOMSGS"))
            o.infomsgs = 0;
        else if (!strcasecmp(w, "ALL_ERRORMSGS"))
            o.all_errormsgs = 1;
        else if (!strcasecmp(w, "TABLERESULTS"))
            tableresults = true;
        else if (!strcasecmp(w, "PHYSICAL_ONLY"))
            o.infomsgs = 0, o.noindex = 1;   /* no logical checks; implies NO_INFOMSGS */
        else if (!strcasecmp(w, "TABLOCK") || !strcasecmp(w, "DATA_PURITY") || !strcasecmp(w, "MAXDOP") ||
                 !strcasecmp(w, "EXTENDED_LOGICAL_CHECKS") || !strcasecmp(w, "COUNT_ROWS"))
            ;   /* what we do anyway, or nothing to do */
        else if (!strcasecmp(w, "ESTIMATEONLY"))
            return ex_failf(s, 40001, 16, 1, "DBCC %s WITH ESTIMATEONLY is not supported yet.", d->name);
        else
            return bad_syntax(s);
    }
    if (d->args.n > 2 || (what == DBCC_CHECKTABLE && d->args.n < 1))
        return bad_syntax(s);
    int denied = ex_dbcc_need_sysadmin(s, d->name);
    if (denied != EX_OK)
        return denied;

    /* the database (or table) */
    database *db = s->db;
    char text[600];
    int64_t num = 0;
    int k = d->args.n ? arg_of(s, d->args.v[0], text, sizeof text, &num) : 0;
    if (k < 0)
        return EX_ERROR;
    if (what == DBCC_CHECKTABLE) {
        if (k != 1)
            return bad_syntax(s);
        ast_objname n;
        table_def *td = NULL;
        int view = 0;
        if (split_name(s, text, &n) < 0)
            return ex_failf(s, 701, 19, 1, "There is insufficient system memory to run this query.");
        if (q_resolve_table(s, &n, &db, &td, &view) < 0 || !td) {
            if (s->err.number == 208 || view)
                return ex_failf(s, 2501, 16, 45, "Cannot find a table or object with the name '%s'. Check the system "
                                "catalog.", text);
            return EX_ERROR;
        }
        o.object_id = td->object_id;
    } else if (k == 1) {
        db = inst_find_database(s->in, text);
        if (!db)
            return ex_failf(s, 2520, 16, 1, "Could not find database '%s'. The database either does not exist, or "
                            "was dropped before a statement tried to use it. Verify if the database exists by "
                            "querying the sys.databases catalog view.", text);
    } else if (k == 2 && num != 0) {
        db = num > 0 && num < INST_MAX_DBS ? inst_database(s->in, (uint32_t)num) : NULL;
        if (!db)
            return ex_failf(s, 2520, 16, 1, "Could not find database ID %lld. The database ID either does not "
                            "exist, or the database was dropped before a statement tried to use it. Verify if the "
                            "database ID exists by querying the sys.databases catalog view.", (long long)num);
    }
    if (ex_db_usable(s, db, &s->err) < 0)
        return EX_ERROR;

    /* NOINDEX | index id | repair */
    if (d->args.n == 2) {
        int64_t n2 = 0;
        int k2 = arg_of(s, d->args.v[1], text, sizeof text, &n2);
        if (k2 < 0)
            return EX_ERROR;
        if (k2 == 1 && !strcasecmp(text, "NOINDEX"))
            o.noindex = 1;
        else if (k2 == 1 && repair_word(text))
            o.repair = repair_word(text);
        else if (!(k2 == 2 && what == DBCC_CHECKTABLE))
            return bad_syntax(s);
    }
    bool emergency = db->state == DB_EMERGENCY;
    if (o.repair) {
        if (dbst_user_access(db) != DB_SINGLE_USER)
            return ex_failf(s, 7919, 16, 1, "Repair statement not processed. Database needs to be in single user "
                            "mode.");
        if (emergency && o.repair != DBCC_REPAIR_ALLOW_DATA_LOSS)
            return ex_failf(s, 7901, 16, 1, "Repair statement not processed. REPAIR_ALLOW_DATA_LOSS is the only "
                            "repair option supported in emergency mode.");
        if (s->trancount > 0)
            return ex_failf(s, 40001, 16, 1, "DBCC %s with a repair option inside a user transaction is not "
                            "supported yet.", d->name);
        if (o.repair < 0)
            o.repair = DBCC_REPAIR_NONE;
    }
    /* inside a user transaction its locks are ours: no waiting for ourselves */
    if (s->trancount > 0 && s->tx)
        o.txn = s->tx;
    out ot = { .s = s, .table = tableresults, .db_id = db->tdb.id };
    o.emit = emit;
    o.ctx = &ot;
    dbcc_result res;
    hdb_err e;
    hdb_err_clear(&e);
    int rc = dbcc_run(db, &o, &res, &e);
    if (emergency && o.repair) {
        /* emergency-mode repair: the database starts again from the rebuilt log */
        database *now;
        if (rc == 0 && ex_db_restart(s, db, &now) < 0) {
            e = s->err;
            rc = -1;
        }
        if (rc < 0) {
            ex_report(s, &e, s->cur_line);
            return ex_failf(s, 7909, 16, 1, "The emergency-mode repair failed.You must restore from backup.");
        }
    }
    if (s->sink_failed)
        return EX_FATAL;
    if (rc < 0) {
        s->err = e;
        return EX_ERROR;
    }
    if (ot.table) {
        s->rowcount = (int64_t)ot.rows;
        if (ot.started)
            return ex_done(s, 0, CMD_SELECT, ot.rows, true);
    }
    return ex_done(s, ot.errors ? SQL_DONE_ERROR : 0, CMD_NONE, 0, false);
}

int ex_dbcc_checkdb(sql_session *s, ast_stmt *st) { return check_cmd(s, st, DBCC_CHECKDB); }
int ex_dbcc_checktable(sql_session *s, ast_stmt *st) { return check_cmd(s, st, DBCC_CHECKTABLE); }
int ex_dbcc_checkalloc(sql_session *s, ast_stmt *st) { return check_cmd(s, st, DBCC_CHECKALLOC); }
