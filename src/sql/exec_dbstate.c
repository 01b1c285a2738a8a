/*
 * exec_dbstate.c — ALTER DATABASE ... SET ONLINE | OFFLINE | EMERGENCY and
 * SET SINGLE_USER | RESTRICTED_USER | MULTI_USER [WITH ROLLBACK IMMEDIATE |
 * ROLLBACK AFTER n | NO_WAIT] (engine/dbstate.h does the transitions), and
 * what using a database in each state answers (USE, three-part names):
 * 942 OFFLINE, 926 SUSPECT (and EMERGENCY for non-sysadmins), 945
 * RECOVERY_PENDING, 927 RESTORING, 922 RECOVERING, 924 SINGLE_USER in use,
 * 923 RESTRICTED_USER.
 *
 * A transition that closes or re-opens the database, or narrows who may use
 * it, first needs everyone else out: sessions whose current database it is
 * and transactions with a part in it. Without a termination clause the
 * statement waits for them (SET LOCK_TIMEOUT bounds the wait: 5061); NO_WAIT
 * fails at once (5070); ROLLBACK IMMEDIATE kills those sessions now (their
 * transactions roll back, their connections close: 5060), ROLLBACK AFTER n
 * does so after n seconds. The caller's own session, if the database is its
 * current one, stays in it when the database ends usable, else moves to
 * master.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "engine/dbstate.h"
#include "engine/deferred.h"
#include "sql/exec_int.h"

/* exec_stmt.c / session.c (KILL) */
int (*ex_kill_hook(void))(int);
int ex_kill_session(instance *in, int spid);

/* ------------------------------------------------------------ using a database */

int ex_db_usable(sql_session *s, database *db, hdb_err *err)
{
    const char *name = db->tdb.name;
    char m[400];
    int st = db->state;
    if (st == DB_EMERGENCY && !bk_is_sysadmin(s))
        st = DB_SUSPECT;   /* sysadmin only, as SQL Server */
    switch (st) {
    case DB_ONLINE: case DB_EMERGENCY:
        break;
    case DB_RESTORING:
        return hdb_raise(err, 927, name);
    case DB_OFFLINE:
        return hdb_raise(err, 942, name);
    case DB_SUSPECT:
        return hdb_raise(err, 926, name);
    case DB_RECOVERY_PENDING:
        return hdb_raise(err, 945, name);
    default:
        return hdb_raise(err, 922, name);
    }
    int access = dbst_user_access(db);
    if (access == DB_SINGLE_USER && s->db != db && db->users > 0)
        return hdb_raise(err, 924, name);
    if (access == DB_RESTRICTED_USER && !bk_is_sysadmin(s)) {
        snprintf(m, sizeof m, "%s", name);
        return hdb_raise(err, 923, m);
    }
    return 0;
}

/* ------------------------------------------------------------ who else is there */

typedef struct others {
    database          *db;
    const sql_session *self;
    bool               nonqualified;   /* RESTRICTED_USER: only non-sysadmins count */
    int                spids[512];
    int                n;
} others;

static void other_session(void *ctx, const sql_session *x)
{
    others *o = ctx;
    if (x == o->self || o->n == (int)(sizeof o->spids / sizeof o->spids[0]))
        return;
    if (o->nonqualified && bk_is_sysadmin(x))
        return;
    int uses = x->db == o->db;
    pthread_mutex_t *mu = (pthread_mutex_t *)&x->live_mu;
    pthread_mutex_lock(mu);
    if (!uses && x->tx && txn_find_part(x->tx, &o->db->tdb))
        uses = 1;
    pthread_mutex_unlock(mu);
    if (uses)
        o->spids[o->n++] = x->spid;
}

/* Transactions with a part in db, other than s's and deferred ones (those
 * are recovery's, and the close leaves them in the log). */
static int active_parts(sql_session *s, database *db)
{
    int n = 0;
    pthread_mutex_lock(&db->tdb.att_mu);
    for (txn_part *p = db->tdb.att; p; p = p->att_next)
        if (p->txn && p->txn != s->tx && p->txn->state != TXN_DEFERRED)
            n++;
    pthread_mutex_unlock(&db->tdb.att_mu);
    return n;
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int alter_failed(sql_session *s)
{
    ex_report(s, &s->err, s->cur_line);
    return ex_failf(s, 5069, 16, 1, "ALTER DATABASE statement failed.");
}

/* Wait until nobody else uses db (see the top of the file). */
static int clear_users(sql_session *s, database *db, const ast_alter_database *ad, bool nonqualified)
{
    int64_t start = now_ms(), killed_at = -1;
    int64_t kill_at = ad->termination == TERM_ROLLBACK_IMMEDIATE ? start
                    : ad->termination == TERM_ROLLBACK_AFTER ? start + (int64_t)ad->rollback_after * 1000 : -1;
    for (;;) {
        others o = { .db = db, .self = s, .nonqualified = nonqualified };
        ex_foreach_session(s->in, other_session, &o);
        int mine = s->db == db;
        int busy = o.n > 0 || (!nonqualified && (db->users > mine || active_parts(s, db) > 0));
        if (!busy)
            return EX_OK;
        int64_t now = now_ms();
        if (ad->termination == TERM_NO_WAIT) {
            hdb_raise(&s->err, 5070, db->tdb.name);
            return alter_failed(s);
        }
        if (kill_at >= 0 && now >= kill_at && o.n > 0) {
            int (*hook)(int) = ex_kill_hook();
            for (int i = 0; i < o.n; i++) {
                ex_kill_session(s->in, o.spids[i]);
                if (hook)
                    hook(o.spids[i]);
            }
            if (killed_at < 0)
                ex_info(s, 5060, 10, 1, "Nonqualified transactions are being rolled back. Estimated rollback "
                                        "completion: 100%.");
            killed_at = now;
        }
        /* the killed roll back and disconnect; waiting on them is bounded */
        bool timed_out = killed_at >= 0 ? now - killed_at > 30000
                                        : s->opt.lock_timeout >= 0 && now - start > s->opt.lock_timeout;
        if (timed_out) {
            hdb_raise(&s->err, 5061, db->tdb.name);
            return alter_failed(s);
        }
        if (ex_cancelled(s))
            return EX_CANCEL;
        usleep(20000);
    }
}

int ex_db_exclusive(sql_session *s, database *db, const ast_alter_database *ad)
{
    return clear_users(s, db, ad, false);
}

/* The caller's session leaves db for master (quietly: it may come back). */
static void step_out(sql_session *s, database *db, bool *was_in)
{
    *was_in = s->db == db;
    if (!*was_in)
        return;
    database *m = inst_database(s->in, DBID_MASTER);
    db->users--;
    m->users++;
    s->db = m;
}

/* ... and comes back to what is now registered under the name, if usable. */
static void step_back(sql_session *s, bool was_in, database *now, const char *name)
{
    if (!was_in)
        return;
    if (now && (now->state == DB_ONLINE || now->state == DB_EMERGENCY)) {
        s->db->users--;
        now->users++;
        s->db = now;
        return;
    }
    if (s->sink && s->sink->env_database && s->sink->env_database(s->sink->ctx, s->db->tdb.name, name) < 0)
        s->sink_failed = true;
}

int ex_db_restart(sql_session *s, database *db, database **now)
{
    char name[130];
    snprintf(name, sizeof name, "%s", db->tdb.name);
    bool was_in;
    step_out(s, db, &was_in);
    *now = db;
    int rc = dbst_restart(s->in, db, now, &s->err);
    step_back(s, was_in, *now, name);
    return rc;
}

/* ------------------------------------------------------------ ALTER DATABASE */

static bool is_state_word(const char *w)
{
    static const char *const words[] = { "ONLINE", "OFFLINE", "EMERGENCY", "SINGLE_USER", "RESTRICTED_USER",
                                         "MULTI_USER", NULL };
    for (int i = 0; words[i]; i++)
        if (!strcasecmp(w, words[i]))
            return true;
    return false;
}

bool ex_is_dbstate_option(const ast_alter_database *ad)
{
    for (int i = 0; i < ad->options.n; i++)
        if (is_state_word(ad->options.v[i]->name))
            return true;
    return false;
}

static int state_error(sql_session *s, database *db)
{
    if (db->state == DB_RESTORING)
        return ex_failf(s, 5052, 16, 1, "ALTER DATABASE is not permitted while a database is in the Restoring "
                                        "state.");
    ex_db_usable(s, db, &s->err);
    return alter_failed(s);
}

static int one_option(sql_session *s, const ast_alter_database *ad, database **dbp, const char *opt)
{
    database *db = *dbp;
    char name[130];
    snprintf(name, sizeof name, "%s", db->tdb.name);
    int st = db->state;
    if (st == DB_RESTORING || st == DB_RECOVERING)
        return state_error(s, db);
    if (db->tdb.id <= DBID_MSDB && strcasecmp(opt, "MULTI_USER") != 0 && strcasecmp(opt, "ONLINE") != 0)
        return ex_failf(s, 5058, 16, 1, "Option '%s' cannot be set in database '%s'.", opt, name);

    if (!strcasecmp(opt, "SINGLE_USER") || !strcasecmp(opt, "RESTRICTED_USER") || !strcasecmp(opt, "MULTI_USER")) {
        if (st != DB_ONLINE && st != DB_EMERGENCY)
            return state_error(s, db);
        int access = !strcasecmp(opt, "SINGLE_USER") ? DB_SINGLE_USER
                   : !strcasecmp(opt, "RESTRICTED_USER") ? DB_RESTRICTED_USER : DB_MULTI_USER;
        if (access != DB_MULTI_USER) {
            int rc = clear_users(s, db, ad, access == DB_RESTRICTED_USER);
            if (rc != EX_OK)
                return rc;
        }
        if (dbst_set_user_access(db, access, &s->err) < 0)
            return alter_failed(s);
        return EX_OK;
    }

    bool online = !strcasecmp(opt, "ONLINE"), emergency = !strcasecmp(opt, "EMERGENCY");
    if (online && st == DB_ONLINE)
        return EX_OK;
    if ((emergency && st == DB_EMERGENCY) || (!online && !emergency && st == DB_OFFLINE))
        return EX_OK;
    if (emergency && !bk_is_sysadmin(s))
        return ex_failf(s, 5011, 14, 5, "User does not have permission to alter database '%s', the database does "
                        "not exist, or the database is not in a state that allows access checks.", name);
    if (!dbst_is_shell(db)) {
        int rc = clear_users(s, db, ad, false);
        if (rc != EX_OK)
            return rc;
    }
    bool was_in;
    step_out(s, db, &was_in);
    database *now = db;
    int rc;
    if (online)
        rc = dbst_restart(s->in, db, &now, &s->err);
    else if (emergency)
        rc = dbst_set_emergency(s->in, db, &now, &s->err);
    else
        rc = dbst_set_offline(s->in, db, &s->err), now = inst_find_database(s->in, name);
    step_back(s, was_in, now, name);
    *dbp = now;
    if (rc < 0)
        return alter_failed(s);
    return EX_OK;
}

int ex_alter_db_state(sql_session *s, ast_alter_database *ad, database *db)
{
    if (s->trancount > 0)
        return ex_failf(s, 226, 16, 6, "ALTER DATABASE statement not allowed within multi-statement transaction.");
    for (int i = 0; i < ad->options.n; i++) {
        const ast_option *o = ad->options.v[i];
        if (!is_state_word(o->name))
            return ex_failf(s, 40001, 16, 1, "ALTER DATABASE SET %s together with a database state option is not "
                            "supported yet.", o->name);
    }
    for (int i = 0; i < ad->options.n; i++) {
        int rc = one_option(s, ad, &db, ad->options.v[i]->name);
        if (rc != EX_OK)
            return rc;
    }
    return ex_done(s, 0, CMD_NONE, 0, false);
}
