/*
 * exec_tran.c — transactions as a session sees them (reference §2.2):
 * BEGIN/COMMIT/ROLLBACK/SAVE and their @@TRANCOUNT rules, autocommit
 * statement transactions, IMPLICIT_TRANSACTIONS, statement atomicity inside
 * a user transaction, XACT_ABORT's doomed transactions, isolation levels.
 *
 * The session holds at most one engine transaction (s->tx):
 *   - a user transaction (s->trancount >= 1), begun by BEGIN TRAN, a TM
 *     request or an implicit transaction; it lives across batches;
 *   - or, outside one, the running statement's autocommit transaction
 *     (s->tx_stmt), committed or rolled back when the statement ends.
 * A statement that writes inside a user transaction first sets a hidden
 * savepoint, so a failing statement undoes exactly its own work and the
 * transaction goes on (SQL Server's statement-level rollback).
 */
#include <stdio.h>
#include <string.h>

#include "engine/deferred.h"
#include "sql/exec_int.h"

/* Users cannot name a savepoint with a control character. */
static const char STMT_SAVE[] = "\x01stmt";

static void set_tx(sql_session *s, txn *t)
{
    pthread_mutex_lock(&s->live_mu);
    s->tx = t;
    pthread_mutex_unlock(&s->live_mu);
}

static void free_tx(sql_session *s)
{
    txn *t = s->tx;
    set_tx(s, NULL);
    if (t)
        txn_free(t);
}

/* Roll s's transaction back. If its undo meets a page it cannot read (823,
 * 824, an offline file), the transaction is deferred in place: its locks
 * stay, the log is kept, the database's next recovery rolls it back (seed
 * 004). SQL Server restarts the database for this (ending everyone's work
 * in it), then defers it in recovery; the end state is the same. The session
 * is rid of it either way (3314, severity 16 here so the connection lives). */
static void rollback_tx(sql_session *s)
{
    hdb_err e;
    hdb_err_clear(&e);
    txn *t = s->tx;
    if (txn_rollback_or_defer(t, &e) != 1)
        return;
    txn_db *where = NULL;
    lsn_t at_lsn = 0;
    for (int i = 0; i < t->nparts && !where; i++)
        if (t->parts[i].deferred) {
            where = t->parts[i].db;
            at_lsn = t->parts[i].undo_next;
        }
    hdb_err de;
    if (!where || deferred_add(db_of(where), t, &e, &de) < 0) {
        /* cannot be kept: roll back what can be, as before deferral existed */
        inst_log(s->in, "Transaction %llu could not be rolled back or deferred: %s", (unsigned long long)t->id,
                 e.msg);
        txn_rollback(t, NULL);
        return;
    }
    set_tx(s, NULL);   /* the deferred list owns it now */
    char at[40];
    snprintf(at, sizeof at, "(%llu)", (unsigned long long)at_lsn);
    hdb_err x;
    hdb_raise(&x, 3314, where->name, at);
    x.severity = 16;
    inst_log(s->in, "%s (3314) Cause: %s (error %d). The transaction was deferred.", x.msg, e.msg, e.number);
    ex_report(s, &x, s->cur_line);
}

static txn *new_txn(sql_session *s, const char *name, hdb_err *err)
{
    txn *t = txn_begin(s->in->txns, s->spid, name, s->login);
    if (!t) {
        hdb_raise_text(err, 701, 19, 1, "There is insufficient system memory to run this query.");
        return NULL;
    }
    t->lock_timeout_ms = s->opt.lock_timeout;
    if (s->opt.deadlock_priority)
        lock_owner_set_deadlock_priority(&t->lo, s->opt.deadlock_priority);
    set_tx(s, t);
    return t;
}

static int env_tran(sql_session *s, int what, uint64_t desc)
{
    if (!s->sink || !s->sink->env_transaction)
        return 0;
    if (s->sink->env_transaction(s->sink->ctx, what, desc) < 0)
        s->sink_failed = true;
    return 0;
}

/* The txn the running statement uses; begins an autocommit one, or the
 * user transaction when IMPLICIT_TRANSACTIONS is ON and the statement is one
 * that starts it. */
txn *ex_txn(sql_session *s, bool implicit_starts, hdb_err *err)
{
    if (s->tx)
        return s->tx;
    if (s->opt.implicit_tx && implicit_starts) {
        if (ex_begin_user(s, NULL, err) < 0)
            return NULL;
        /* the statement that opened it is atomic too */
        if (txn_save(s->tx, STMT_SAVE, err) < 0)
            return NULL;
        s->stmt_save = s->tx->nsaves;
        return s->tx;
    }
    txn *t = new_txn(s, "user_transaction", err);
    if (t)
        s->tx_stmt = true;
    return t;
}

int ex_stmt_begin(sql_session *s, bool writes)
{
    s->stmt_save = 0;
    if (s->tx && !s->tx_stmt && writes) {
        if (s->doomed)
            return hdb_raise(&s->err, 3930);
        if (txn_save(s->tx, STMT_SAVE, &s->err) < 0)
            return -1;
        s->stmt_save = s->tx->nsaves;
    }
    return 0;
}

int ex_stmt_end(sql_session *s, int rc)
{
    bool deadlock = rc < 0 && s->err.number == 1205;
    if (s->tx && s->tx_stmt) {
        hdb_err e;
        hdb_err_clear(&e);
        if (rc >= 0) {
            if (txn_commit(s->tx, &e) < 0) {
                s->err = e;
                rc = -1;
            }
        } else {
            rollback_tx(s);
            if (s->tx_ddl)
                ex_tmeta_forget_all();
        }
        free_tx(s);
        s->tx_stmt = false;
        s->tx_ddl = false;
    } else if (s->tx && s->stmt_save) {
        if (rc >= 0 || deadlock) {
            /* release the statement savepoint (kept savepoints would pile up) */
            if (s->tx->nsaves == s->stmt_save && strcmp(s->tx->saves[s->stmt_save - 1].name, STMT_SAVE) == 0)
                s->tx->nsaves--;
        } else {
            hdb_err e;
            if (s->tx_ddl)
                ex_tmeta_forget_all();
            if (txn_rollback_to(s->tx, STMT_SAVE, &e) == 0) {
                if (s->tx->nsaves > 0 && strcmp(s->tx->saves[s->tx->nsaves - 1].name, STMT_SAVE) == 0)
                    s->tx->nsaves--;
            } else {
                /* the statement could not be undone: nothing of the transaction is safe */
                s->doomed = true;
            }
        }
    }
    s->stmt_save = 0;
    if (deadlock && s->tx)
        ex_tran_abort(s);   /* the deadlock victim loses its whole transaction */
    return rc;
}

int ex_begin_user(sql_session *s, const char *name, hdb_err *err)
{
    if (s->trancount > 0 || (s->tx && !s->tx_stmt)) {
        s->trancount++;
        return 0;
    }
    if (s->tx && s->tx_stmt) {
        /* BEGIN TRAN inside a statement is impossible; defensive */
        return hdb_raise_text(err, 40000, 16, 1, "A transaction is already running for this statement.");
    }
    txn *t = new_txn(s, name ? name : "user_transaction", err);
    if (!t)
        return -1;
    s->trancount = 1;
    s->tx_stmt = false;
    s->doomed = false;
    snprintf(s->tx_name, sizeof s->tx_name, "%s", name ? name : "");
    s->tx_desc = t->id ? t->id : 1;
    env_tran(s, SQL_ENV_BEGIN_TRAN, s->tx_desc);
    return 0;
}

int ex_commit_user(sql_session *s, hdb_err *err)
{
    if (s->trancount == 0)
        return hdb_raise(err, 3902);
    if (s->doomed)
        return hdb_raise(err, 3930);
    if (s->trancount > 1) {
        s->trancount--;
        return 0;
    }
    hdb_err e;
    hdb_err_clear(&e);
    int rc = txn_commit(s->tx, &e);
    if (rc == 0 && s->tx->marked && s->tx->nparts)
        bk_history_mark(s, s->tx);
    s->tx_ddl = false;
    uint64_t desc = s->tx_desc;
    free_tx(s);
    s->trancount = 0;
    s->doomed = false;
    s->tx_desc = 0;
    if (rc < 0) {
        *err = e;
        env_tran(s, SQL_ENV_ROLLBACK_TRAN, desc);
        return -1;
    }
    env_tran(s, SQL_ENV_COMMIT_TRAN, desc);
    return 0;
}

int ex_rollback_all(sql_session *s, hdb_err *err)
{
    if (s->trancount == 0)
        return hdb_raise(err, 3903);
    ex_tran_abort(s);
    return 0;
}

void ex_tran_abort(sql_session *s)
{
    if (!s->tx) {
        s->trancount = 0;
        s->doomed = false;
        return;
    }
    rollback_tx(s);
    if (s->tx_ddl)
        ex_tmeta_forget_all();
    s->tx_ddl = false;
    bool user = !s->tx_stmt;
    uint64_t desc = s->tx_desc;
    free_tx(s);
    s->trancount = 0;
    s->tx_stmt = false;
    s->doomed = false;
    s->stmt_save = 0;
    s->tx_desc = 0;
    if (user)
        env_tran(s, SQL_ENV_ROLLBACK_TRAN, desc);
}

int ex_iso_of(sql_session *s, int hint)
{
    return hint ? hint : s->opt.iso;
}

int ex_end_of_batch(sql_session *s)
{
    if (s->tx && s->doomed && s->trancount > 0) {
        hdb_err e;
        hdb_raise_text(&e, 3998, 16, 1, "Uncommittable transaction is detected at the end of the batch. "
                       "The transaction is rolled back.");
        ex_report(s, &e, s->cur_line);
        ex_tran_abort(s);
        ex_done(s, SQL_DONE_ERROR, CMD_NONE, 0, false);
    }
    return 0;
}

/* Name of a transaction statement: literal or the value of a variable. */
static int tran_name(sql_session *s, const ast_tran *tr, char *buf, size_t cap, bool *given)
{
    *given = false;
    buf[0] = 0;
    if (!tr->name)
        return 0;
    if (!tr->name_is_var) {
        if (strlen(tr->name) > 32) {
            char m[300];
            snprintf(m, sizeof m, "The identifier that starts with '%.32s' is too long. Maximum length is 32.", tr->name);
            return hdb_raise_text(&s->err, 103, 15, 4, m);
        }
        snprintf(buf, cap, "%s", tr->name);
        *given = true;
        return 0;
    }
    int idx = ex_var_find(s, tr->name);
    if (idx < 0) {
        char m[200];
        snprintf(m, sizeof m, "Must declare the scalar variable \"%s\".", tr->name);
        return hdb_raise_text(&s->err, 137, 15, 2, m);
    }
    sql_var *v = &s->vars[idx];
    if (!value_type_is_string(v->type.id))
        return hdb_raise_text(&s->err, 3914, 16, 1, "The data type of the transaction name must be char, varchar, nchar, or nvarchar.");
    if (v->v.is_null)
        return 0;
    char *u8 = cv_utf8(&s->stmt_arena, &v->v, &v->type);
    if (!u8)
        return -1;
    snprintf(buf, cap, "%.32s", u8);
    *given = true;
    return 0;
}

int ex_tran_stmt(sql_session *s, ast_stmt *st)
{
    char name[TXN_NAME_MAX + 1];
    bool given;
    const ast_tran *tr = &st->u.tran;
    s->rowcount = 0;
    switch (st->kind) {
    case STMT_BEGIN_TRAN: {
        s->stmt_cmd = CMD_BEGIN_TRAN;
        if (tran_name(s, tr, name, sizeof name, &given) < 0)
            return EX_ERROR;
        if (tr->with_mark && !given)
            return hdb_raise_text(&s->err, 3901, 16, 1, "WITH MARK option only applies to named transactions."), EX_ERROR;
        if (tr->distributed)
            return hdb_raise_text(&s->err, 40004, 16, 1, "BEGIN DISTRIBUTED TRANSACTION is not supported yet."), EX_ERROR;
        if (given && strncasecmp(name, "LSN:", 4) == 0 && tr->with_mark)
            return hdb_raise_text(&s->err, 3925, 16, 1, "Invalid transaction mark name. The 'LSN:' prefix is reserved."), EX_ERROR;
        /* IMPLICIT_TRANSACTIONS: BEGIN TRAN first opens the implicit one */
        if (s->opt.implicit_tx && s->trancount == 0 && ex_begin_user(s, NULL, &s->err) < 0)
            return EX_ERROR;
        bool outer = s->trancount == 0;
        if (ex_begin_user(s, given ? name : NULL, &s->err) < 0)
            return EX_ERROR;
        if (tr->with_mark) {
            if (s->tx->marked) {
                ex_info(s, 3920, 10, 1,
                        "WITH MARK option only applies to the first BEGIN TRAN WITH MARK statement. The option is ignored.");
            } else {
                s->tx->marked = 1;
                snprintf(s->tx->name, sizeof s->tx->name, "%s", name);
                s->tx->mark_desc[0] = 0;
                const sql_value *dv = NULL;
                const sql_type *dt = NULL;
                if (tr->mark_desc && tr->mark_desc->kind == EXPR_LITERAL)
                    ex_literal(s, tr->mark_desc, &dv, &dt);
                if (dv && !dv->is_null) {
                    char *d = cv_utf8(&s->stmt_arena, dv, dt);
                    snprintf(s->tx->mark_desc, sizeof s->tx->mark_desc, "%.128s", d ? d : "");
                }
            }
        } else if (outer && given) {
            snprintf(s->tx->name, sizeof s->tx->name, "%s", name);
        }
        return ex_done(s, 0, CMD_BEGIN_TRAN, 0, false);
    }
    case STMT_COMMIT:
        s->stmt_cmd = CMD_COMMIT;
        if (tran_name(s, tr, name, sizeof name, &given) < 0)
            return EX_ERROR;
        if (ex_commit_user(s, &s->err) < 0)
            return EX_ERROR;
        return ex_done(s, 0, CMD_COMMIT, 0, false);
    case STMT_ROLLBACK:
        s->stmt_cmd = CMD_ROLLBACK;
        if (tran_name(s, tr, name, sizeof name, &given) < 0)
            return EX_ERROR;
        if (s->trancount == 0)
            return hdb_raise(&s->err, 3903), EX_ERROR;
        if (given && strcmp(name, s->tx_name) != 0 && strcmp(name, s->tx->name) != 0) {
            /* a savepoint (names are case-sensitive) */
            int k;
            for (k = s->tx->nsaves - 1; k >= 0; k--)
                if (strcmp(s->tx->saves[k].name, name) == 0)
                    break;
            if (k < 0)
                return hdb_raise(&s->err, 6401, name), EX_ERROR;
            if (s->doomed)
                return hdb_raise_text(&s->err, 3931, 16, 1, "The current transaction cannot be committed and cannot "
                                      "be rolled back to a savepoint. Roll back the entire transaction."), EX_ERROR;
            if (s->tx_ddl)
                ex_tmeta_forget_all();
            if (txn_rollback_to(s->tx, name, &s->err) < 0)
                return EX_ERROR;
            return ex_done(s, 0, CMD_ROLLBACK, 0, false);
        }
        ex_tran_abort(s);
        return ex_done(s, 0, CMD_ROLLBACK, 0, false);
    case STMT_SAVE_TRAN:
        s->stmt_cmd = CMD_NONE;
        if (tran_name(s, tr, name, sizeof name, &given) < 0)
            return EX_ERROR;
        if (!given) {
            if (tr->name_is_var)
                return hdb_raise_text(&s->err, 3977, 16, 1, "The savepoint name cannot be NULL."), EX_ERROR;
        }
        if (s->trancount == 0)
            return hdb_raise_text(&s->err, 628, 16, 1, "Cannot issue SAVE TRANSACTION when there is no active transaction."), EX_ERROR;
        if (s->doomed)
            return hdb_raise(&s->err, 3930), EX_ERROR;
        if (txn_save(s->tx, name, &s->err) < 0)
            return EX_ERROR;
        return ex_done(s, 0, CMD_NONE, 0, false);
    default:
        break;
    }
    return hdb_raise_text(&s->err, 40000, 16, 1, "internal error: not a transaction statement"), EX_ERROR;
}
