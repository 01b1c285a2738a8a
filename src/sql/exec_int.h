/*
 * exec_int.h — what the execution files of the SQL layer share (session.c,
 * exec_*.c, expr*.c, sysviews.c, rpc.c). Not for other layers: they use
 * session.h.
 *
 * Shape of execution
 *   A batch is parsed whole (parser.h), then run statement by statement
 *   (exec_batch.c). Each statement that reads or writes tables runs in the
 *   session's transaction: the user's (BEGIN TRAN or IMPLICIT_TRANSACTIONS) or
 *   a per-statement autocommit one (exec_tran.c). Expressions are bound once
 *   per statement (names resolved, types computed: expr.c) into `bx` trees and
 *   then evaluated per row against an `ex_env`. Queries are bound into a
 *   `q_plan` and run by exec_select.c, which pushes result rows to a callback
 *   (the client sink, a collector for subqueries / INSERT..SELECT, ...).
 *
 * Memory
 *   batch arena   the AST and everything bound from it (plans, bx trees);
 *                 released when the batch ends.
 *   stmt arena    rows a statement keeps (sort buffers, join inputs, groups);
 *                 released after each statement.
 *   row arena     temporaries of one row's evaluation; reset between rows when
 *                 nothing of the row is kept.
 *   Variables own malloc'd buffers (a WHILE loop appending to a string must
 *   not grow an arena without bound).
 */
#ifndef HDB_SQL_EXEC_INT_H
#define HDB_SQL_EXEC_INT_H

#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

/* ast.h and engine/table.h both declare enumerators named ISO_READ_COMMITTED
 * etc. (the AST's isolation names vs the engine's read modes). Give the AST's
 * an AST_ prefix inside the SQL layer so both headers can be used together. */
#define ISO_READ_UNCOMMITTED AST_ISO_READ_UNCOMMITTED
#define ISO_READ_COMMITTED   AST_ISO_READ_COMMITTED
#define ISO_REPEATABLE_READ  AST_ISO_REPEATABLE_READ
#define ISO_SNAPSHOT         AST_ISO_SNAPSHOT
#define ISO_SERIALIZABLE     AST_ISO_SERIALIZABLE
#include "sql/ast.h"
#undef ISO_READ_UNCOMMITTED
#undef ISO_READ_COMMITTED
#undef ISO_REPEATABLE_READ
#undef ISO_SNAPSHOT
#undef ISO_SERIALIZABLE

#include "engine/instance.h"
#include "engine/table.h"
#include "sql/parser.h"
#include "sql/plancache.h"
#include "sql/session.h"
#include "util/arena.h"

/* ------------------------------------------------------------ statuses */

/* What executing a statement returns to its caller (statement lists, IF,
 * WHILE, TRY). Errors travel in s->err until the batch loop decides what
 * they do (exec_batch.c: ex_handle_error). */
enum {
    EX_OK = 0,
    EX_ERROR = -1,      /* s->err holds the error, not yet reported */
    EX_BREAK = 1,
    EX_CONTINUE = 2,
    EX_RETURN = 3,
    EX_ABORT = 4,       /* the batch is aborted (error already reported) */
    EX_FATAL = 5,       /* the connection must close */
    EX_GOTO = 6,        /* s->goto_label: jump to a label of an enclosing list */
    EX_CATCH = 7,       /* an error inside TRY: unwind to its CATCH */
    EX_CANCEL = 8,      /* attention / KILL: stop quietly */
    EX_ABORT_SCOPE = 9, /* a compile error ended the current scope's batch
                         * (reported); a caller's batch goes on */
};

/* TDS CurCmd values for DONE tokens */
enum {
    CMD_NONE = 0, CMD_SELECT = 0xC1, CMD_INSERT = 0xC3, CMD_DELETE = 0xC4, CMD_UPDATE = 0xC5,
    CMD_SET = 0xBE, CMD_BEGIN_TRAN = 0xD4, CMD_COMMIT = 0xD5, CMD_ROLLBACK = 0xD2,
    CMD_EXECUTE = 0xE0, CMD_PRINT = 0xF7, CMD_CREATE = 0xC6, CMD_DROP = 0xC7,
};

/* ----------------------------------------------------------- variables */

typedef struct sql_var {
    char      name[132];          /* "@x" as declared */
    sql_type  type;
    sql_value v;                  /* bytes point into buf */
    uint8_t  *buf;                /* malloc'd, owned */
    size_t    cap;
    int       depth;              /* scope depth (sp_executesql nesting) */
} sql_var;

/* Error details kept for ERROR_NUMBER() & co. inside CATCH. */
typedef struct ex_errinfo {
    int  number, severity, state, line;
    char proc[132];
    char msg[HDB_ERR_MSG_MAX];
} ex_errinfo;

/* A prepared statement (sp_prepare): its text and parameter declarations. */
typedef struct ex_prepared {
    int   handle;
    char *params;                 /* UTF-8 declaration string, may be NULL */
    char *stmt;                   /* UTF-8 statement text */
} ex_prepared;

/* A temporary table (#t, ##t) of the session: a real table in tempdb. */
typedef struct ex_temp {
    char     name[130];           /* as the user writes it: "#t" */
    char     real[140];           /* its name in tempdb */
    uint32_t object_id;
    int      depth;               /* scope that created it (dropped when it ends) */
} ex_temp;

/* SET options of a session. */
typedef struct ex_opts {
    bool nocount, xact_abort, implicit_tx, ansi_nulls, ansi_warnings, ansi_padding;
    bool concat_null, quoted_identifier, arithabort, ansi_null_dflt_on;
    bool fmtonly, noexec, parseonly, cursor_close_on_commit, numeric_roundabort;
    int  lock_timeout;            /* -1 forever */
    int  iso;                     /* engine ISO_* */
    int  datefirst;               /* 1..7, 7 = Sunday (us_english) */
    int  textsize;
    int64_t rowcount;             /* SET ROWCOUNT n (0 = no limit) */
    char dateformat[4];           /* "mdy" */
    int  deadlock_priority;
    char language[32];
} ex_opts;

struct sql_session {
    instance       *in;
    int             spid;
    char            login[129], host[129], app[129];
    char            login_db[129];
    database       *db;           /* current database (db->users counts us) */
    ex_opts         opt, login_opt;
    int64_t         login_time_us;
    int64_t         last_batch_us;
    sql_conn_info   conn;         /* sys.dm_exec_connections */

    /* transaction */
    txn            *tx;           /* open transaction (user or statement) */
    int             trancount;    /* @@TRANCOUNT: 0 when tx is a statement txn */
    bool            tx_stmt;      /* tx is the current statement's autocommit txn */
    bool            doomed;       /* XACT_STATE() = -1 */
    bool            tx_ddl;       /* the transaction changed table metadata */
    uint64_t        tx_desc;      /* descriptor sent in ENVCHANGE 8 */
    char            tx_name[TXN_NAME_MAX + 1];
    int             stmt_save;    /* depth of the statement savepoint, 0 = none */

    /* @@functions */
    int64_t         rowcount;     /* @@ROWCOUNT */
    int             last_error;   /* @@ERROR */
    bool            has_identity;
    __int128        identity;     /* @@IDENTITY */
    bool            has_scope_identity;
    __int128        scope_identity;
    int             return_status;

    /* variables of the running batch (and its sp_executesql scopes) */
    sql_var        *vars;
    int             nvars, cap_vars;
    int             scope_depth;
    int             var_base;     /* first variable visible in the current scope */

    /* TRY/CATCH */
    int             try_depth;
    ex_errinfo     *catch_stack;  /* errors of the CATCH blocks being run */
    int             ncatch, cap_catch;

    /* prepared statements */
    ex_prepared    *preps;
    int             nprep, cap_prep, next_handle;

    /* the running request */
    const sql_sink *sink;
    int             done_kind;    /* SQL_DONE for batches, SQL_DONEINPROC in RPCs */
    int             dones_sent;
    bool            rpc_error;    /* an error was reported during this RPC */
    hdb_err         err;          /* the pending error (EX_ERROR) */
    int             err_line;
    bool            err_batch;    /* pending error aborts the batch (binding errors) */
    const char     *goto_label;
    int             cur_line;     /* line of the running statement */
    _Atomic int     interrupted;
    _Atomic int     in_request;
    pthread_mutex_t live_mu;      /* s->tx against sql_session_interrupt's lock cancel */
    _Atomic int     killed;       /* KILL: end the connection at the next chance */
    bool            sink_failed;  /* the client connection broke */
    bool            err_abort;    /* pending error aborts the batch (catchable) */
    bool            err_raiserror;/* pending error comes from RAISERROR (no XACT_ABORT) */
    int             stmt_cmd;     /* curcmd of the running statement */
    int             scope_try_base; /* try_depth when the current scope began */
    uint32_t        ident_ins_db, ident_ins_obj;  /* SET IDENTITY_INSERT ... ON */
    ast_cte_list   *ctes;         /* WITH ... of the statement being bound */
    int             bind_depth;   /* expression nesting while binding */
    ex_temp        *temps;        /* temporary tables */
    int             ntemps, cap_temps;
    int             temp_seq;

    arena           batch_arena, stmt_arena, row_arena;
    const char     *batch_src;    /* text of the running batch */
    const plan_lit *lits;         /* its parameter values when its tree is cached */

    struct sql_session *next_sess, *prev_sess;   /* registry (sys.dm_exec_sessions) */
};

/* ------------------------------------------------------ bound expressions */

typedef enum bx_kind {
    BX_CONST, BX_COL, BX_VAR, BX_SYSVAR, BX_UNARY, BX_ARITH, BX_CONCAT, BX_CMP,
    BX_AND, BX_OR, BX_NOT, BX_ISNULL, BX_LIKE, BX_IN, BX_EXISTS, BX_SUBQ,
    BX_QUANT, BX_CASE, BX_CAST, BX_FUNC, BX_AGG, BX_DEFAULT, BX_WIN
} bx_kind;

struct q_plan;
struct ex_env;

typedef struct bx bx;
struct bx {
    uint8_t   kind;        /* bx_kind */
    uint8_t   op;          /* ast_op for UNARY/ARITH/CMP; function id for FUNC */
    bool      pred;        /* a search condition (three-valued), not a value */
    bool      negated;     /* NOT LIKE / NOT IN / IS NOT NULL / NOT BETWEEN */
    bool      is_try;      /* TRY_CAST / TRY_CONVERT */
    bool      nullable;
    bool      null_lit;    /* a bare NULL: takes the other operand's type */
    int       line;
    sql_type  t;           /* result type (SQL_BIT for predicates) */
    sql_type  ct;          /* comparison / operand type (CMP, IN, LIKE, CASE operand) */
    int       nargs;
    bx      **args;
    union {
        sql_value k;                                  /* CONST */
        struct { int depth, src, col; } col;          /* COL: depth 0 = this query */
        int var;                                      /* VAR: index in s->vars */
        int sysvar;                                   /* SYSVAR: SV_* */
        struct { struct q_plan *plan; bool all; } subq; /* SUBQ, EXISTS, IN, QUANT */
        int agg;                                      /* AGG / WIN: index in the plan's aggs / wins */
        int style;                                    /* CAST: CONVERT style, -1 none */
        bool has_else;                                /* CASE: last arg is ELSE */
    } u;
    void     *cache;       /* uncorrelated subquery: its rows, computed once */
    int       ncache;
};

/* Aggregate functions */
enum { AGG_COUNT_STAR = 1, AGG_COUNT, AGG_COUNT_BIG_STAR, AGG_COUNT_BIG, AGG_SUM, AGG_AVG,
       AGG_MIN, AGG_MAX, AGG_STDEV, AGG_VAR };

typedef struct q_agg {
    int      fn;           /* AGG_* */
    bool     distinct;
    bx      *arg;          /* NULL for COUNT(*) */
    sql_type t;            /* result type */
    int      line;
} q_agg;

/* Window functions: f(...) OVER ([PARTITION BY ...] [ORDER BY ...]) */
enum { WIN_ROW_NUMBER = 1, WIN_RANK, WIN_DENSE_RANK, WIN_NTILE, WIN_LAG, WIN_LEAD, WIN_AGG };

typedef struct q_win {
    int      fn;           /* WIN_* */
    int      agg;          /* WIN_AGG: AGG_* */
    bx      *arg;          /* argument (aggregates, NTILE, LAG/LEAD value) */
    bx      *arg2, *arg3;  /* LAG/LEAD offset and default */
    int      npart, nord;
    bx     **part, **ord;
    bool    *desc;
    sql_type t;
    int      line;
} q_win;

/* ------------------------------------------------------------- sources */

enum { SRC_TABLE = 1, SRC_ROWS, SRC_DERIVED };

typedef struct ex_src {
    int          kind;           /* SRC_* */
    const char  *alias;          /* alias as written, or NULL */
    const char  *table;          /* table / view name (for t.col without alias) */
    const char  *schema;
    const char  *dbname;
    int          ncols;
    const char **colnames;
    sql_type    *types;
    uint8_t     *nullable;
    database    *db;             /* SRC_TABLE */
    table_def   *td;
    int          iso;            /* read mode from hints (0 = session's) */
    int          view;           /* SRC_ROWS: sysview id */
    bx          *view_arg;       /* SRC_ROWS of a function (dm_db_log_info(db_id)) */
    struct q_plan *derived;      /* SRC_DERIVED */
    bool         outer_null;     /* may be NULL-extended by an outer join */
    bool         want_rowid;     /* heap target of UPDATE/DELETE: report row ids */
    bool         physloc_ok;     /* a base table a query scans: %%physloc%% may be asked for */
    int          physloc_col;    /* > 0: its rows carry %%physloc%% as this extra column
                                  * (= td->ncols; physloc.c) */
} ex_src;

/* The FROM tree: leaves are sources, inner nodes joins. */
typedef struct q_from {
    bool           leaf;
    int            src;          /* leaf */
    int            join;         /* ast_join_kind */
    struct q_from *l, *r;
    bx            *on;
    int            lo, hi;       /* sources [lo, hi) under this node */
    /* equality conjuncts of ON between the two sides: a hash join on them */
    int            nkeys;
    bx           **lkeys, **rkeys;
    sql_type      *ktypes;
} q_from;

/* A bound query. */
typedef struct q_plan {
    int          kind;           /* ast_query_kind */
    struct q_plan *left, *right; /* set operations */

    int          nsrc;
    ex_src      *srcs;
    q_from      *from;           /* NULL: no FROM */
    bx          *where;
    int          ngroup;
    bx         **group;
    bx          *having;
    bool         grouped;        /* GROUP BY or aggregates */
    int          nagg;
    q_agg       *aggs;
    int          nwin;
    q_win       *wins;

    int          nitems;         /* visible columns */
    bx         **items;
    sql_column  *cols;
    uint8_t     *untyped;        /* per item: a bare NULL in every branch, which
                                  * takes its type from the other side of a UNION */
    int         *assign_var;     /* SELECT @v = ...: variable per item, else NULL */
    uint8_t     *assign_op;

    int          norder;
    bx         **order;          /* evaluated per row as hidden columns */
    int         *order_item;     /* >= 0: sort by that item instead */
    bool        *order_desc;

    bool         distinct;
    bx          *top;
    bool         top_percent, with_ties;
    bx          *offset, *fetch;

    /* per source: pushed-down WHERE conjuncts, and for base tables whose
     * clustered key they pin, the key expressions (point lookup) */
    bx         **src_filter;
    bx        ***src_pk;
    bool         has_where;      /* WHERE / ON given (for messages only) */

    bool         correlated;     /* references columns of an enclosing query */
    int          depth;          /* nesting (outer references) */
    struct q_plan *outer;        /* enclosing query for correlated subqueries */
} q_plan;

/* Binding scope: the sources visible to a name, and where aggregates go. */
typedef struct bscope {
    struct bscope *parent;
    q_plan        *plan;         /* its srcs are visible; NULL = none */
    bool           allow_agg;    /* select list / HAVING / ORDER BY of a grouped query */
    bool           in_agg;       /* binding an aggregate's argument */
    bool           allow_win;    /* select list / ORDER BY: window functions allowed */
    bool           no_columns;   /* VALUES, DEFAULT: no column references */
} bscope;

/* Evaluation environment: the current row of every source of each query
 * level, aggregates of the current group, and where temporaries go. */
typedef struct ex_env {
    sql_session    *s;
    arena          *a;           /* temporaries */
    sql_value     **rows;        /* rows[src] -> values of that source's current row */
    sql_value      *aggs;        /* current group's aggregate results */
    sql_value      *wins;        /* current row's window function results */
    struct ex_env  *outer;       /* enclosing query's environment */
    hdb_err        *err;
    bool            reset_rows;  /* top-level query: may reset the row arena per row */
    int64_t        *rowids;      /* per source: heap row id of the current row
                                  * (filled for sources with want_rowid) */
} ex_env;

/* type classes */
/* memcpy that accepts (NULL, 0): empty values and not-yet-grown arrays have
 * NULL pointers, which memcpy's contract forbids even for zero bytes. */
static inline void ex_mcpy(void *dst, const void *src, size_t n)
{
    if (n)
        memcpy(dst, src, n);
}
static inline bool ty_int(uint8_t id) { return id >= SQL_TINYINT && id <= SQL_BIGINT; }
static inline bool ty_dec(uint8_t id) { return id == SQL_DECIMAL || id == SQL_NUMERIC; }
static inline bool ty_num(uint8_t id) { return id >= SQL_TINYINT && id <= SQL_REAL; }

/* ------------------------------------------------------------------ API */

/* session.c */
void ex_session_register(sql_session *s);
void ex_session_unregister(sql_session *s);
/* Iterate sessions (sys.dm_exec_sessions) under the registry mutex. */
void ex_foreach_session(instance *in, void (*fn)(void *ctx, const sql_session *s), void *ctx);
void ex_reset_options(sql_session *s);

/* exec_batch.c */
int  ex_run_text(sql_session *s, const char *text, size_t len, const char *const *declared, int ndeclared);
int  ex_run_batch(sql_session *s, ast_batch *b);
int  ex_run_list(sql_session *s, ast_stmt_list *l);
int  ex_run_stmt(sql_session *s, ast_stmt *st);
int  ex_done(sql_session *s, unsigned status, unsigned curcmd, uint64_t rowcount, bool count);
int  ex_report(sql_session *s, const hdb_err *e, int line);   /* message to the client */
/* Early lock release (txn/README.md): before the session sends its client
 * anything it may have read (rows, messages, output parameters, return
 * status), every commit it was handed locks by must be durable. 0, or -1
 * with 9001 in *err when a log failed. */
static inline int ex_reads_durable(sql_session *s, hdb_err *err)
{
    return s->tx && s->tx->lo.ndeps ? txn_wait_handed_commits(s->tx, err) : 0;
}
int  ex_info(sql_session *s, int number, int severity, int state, const char *text);
int  ex_fail(sql_session *s, int line);          /* EX_ERROR with line noted */
int  ex_failf(sql_session *s, int number, int severity, int state, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
int  ex_bind_fail(sql_session *s);                /* binding error: aborts the batch */
int  ex_var_find(sql_session *s, const char *name);
int  ex_var_declare(sql_session *s, const char *name, const sql_type *t);
int  ex_var_set(sql_session *s, int idx, const sql_value *v, hdb_err *err);
int  ex_var_assign(ex_env *env, int idx, const sql_value *v, const sql_type *from);
void ex_env_init(ex_env *env, sql_session *s);
void ex_vars_pop(sql_session *s, int to);
bool ex_cancelled(sql_session *s);
int  ex_handle_error(sql_session *s, ast_stmt *st);

/* exec_stmt.c */
int  ex_eval_scalar(sql_session *s, ast_expr *e, sql_value *out, sql_type *t);
int  ex_print(sql_session *s, ast_stmt *st);
int  ex_raiserror(sql_session *s, ast_stmt *st);
int  ex_throw(sql_session *s, ast_stmt *st);
int  ex_declare(sql_session *s, ast_stmt *st);
int  ex_set_var(sql_session *s, ast_stmt *st);
int  ex_set_option(sql_session *s, ast_stmt *st);
int  ex_waitfor(sql_session *s, ast_stmt *st);
int  ex_kill(sql_session *s, ast_stmt *st);
int  ex_shutdown(sql_session *s, ast_stmt *st);
int  ex_checkpoint(sql_session *s, ast_stmt *st);
int  ex_unsupported(sql_session *s, const char *what);

/* exec_tran.c */
txn *ex_txn(sql_session *s, bool implicit_starts, hdb_err *err);  /* current or autocommit txn */
int  ex_stmt_begin(sql_session *s, bool writes);
int  ex_stmt_end(sql_session *s, int rc);
int  ex_tran_stmt(sql_session *s, ast_stmt *st);
int  ex_begin_user(sql_session *s, const char *name, hdb_err *err);
int  ex_commit_user(sql_session *s, hdb_err *err);
int  ex_rollback_all(sql_session *s, hdb_err *err);
void ex_tran_abort(sql_session *s);                  /* roll back everything, quietly */
int  ex_iso_of(sql_session *s, int hint);
int  ex_end_of_batch(sql_session *s);

/* expr.c: binding */
bx  *bx_bind(sql_session *s, bscope *sc, ast_expr *e);
bx  *bx_bind_pred(sql_session *s, bscope *sc, ast_expr *e);
bx  *bx_const(sql_session *s, const sql_value *v, const sql_type *t, int line);
bx  *bx_cast_to(sql_session *s, bx *e, const sql_type *t);   /* implicit conversion node */
bool bx_is_const(const bx *e);
int  bx_common_type(sql_session *s, const sql_type *a, const sql_type *b, sql_type *out, int line);
void bx_type_text(const sql_type *t, char *buf, size_t cap);   /* "varchar(10)" */
int  bx_prec(uint8_t id);                                      /* type precedence */
bool bx_uses_scope(const bx *e, int depth);                    /* references columns of that level */
/* expr_type.c */
void bx_dec_of(const sql_type *t, int *p, int *sc);            /* decimal(p,s) of an exact type */
int  bx_clash(sql_session *s, const sql_type *a, const sql_type *b, int line);   /* 206 */
int  bx_arith_type(sql_session *s, int op, bx *l, bx *r, sql_type *out, int *concat, int line);
bool bx_has_agg(const bx *e);

/* expr.c: evaluation */
int  ex_eval(ex_env *env, const bx *e, sql_value *out);
int  ex_truth(ex_env *env, const bx *e, int *truth);           /* 1, 0, -1 unknown */
int  ex_compare(ex_env *env, const sql_value *a, const sql_value *b, const sql_type *t, int *cmp);

/* built-in function ids (BX_FUNC's op) */
enum fn_id {
    F_NONE = 0,
    /* strings */
    F_LEN, F_DATALENGTH, F_UPPER, F_LOWER, F_SUBSTRING, F_LTRIM, F_RTRIM, F_TRIM, F_REPLACE,
    F_CHARINDEX, F_LEFT, F_RIGHT, F_REPLICATE, F_REVERSE, F_SPACE, F_STUFF, F_CONCAT, F_CONCAT_WS,
    F_ASCII, F_CHAR, F_NCHAR, F_UNICODE, F_QUOTENAME, F_STR, F_PATINDEX,
    /* nulls */
    F_ISNULL, F_COALESCE, F_NULLIF, F_IIF, F_CHOOSE,
    /* dates */
    F_GETDATE, F_SYSDATETIME, F_GETUTCDATE, F_SYSUTCDATETIME, F_CURRENT_TIMESTAMP, F_DATEADD,
    F_DATEDIFF, F_DATEDIFF_BIG, F_DATEPART, F_DATENAME, F_YEAR, F_MONTH, F_DAY, F_EOMONTH,
    F_DATEFROMPARTS, F_ISDATE,
    /* math */
    F_ABS, F_ROUND, F_FLOOR, F_CEILING, F_POWER, F_SQRT, F_SIGN, F_RAND, F_PI, F_EXP, F_LOG,
    F_LOG10, F_SQUARE, F_SIN, F_COS, F_TAN, F_ATAN, F_ISNUMERIC,
    /* system */
    F_NEWID, F_DB_NAME, F_DB_ID, F_SUSER_SNAME, F_SUSER_NAME, F_USER_NAME, F_CURRENT_USER,
    F_SYSTEM_USER, F_HOST_NAME, F_APP_NAME, F_OBJECT_ID, F_OBJECT_NAME, F_SCHEMA_NAME, F_SCHEMA_ID,
    F_SERVERPROPERTY, F_SESSIONPROPERTY, F_TYPE_NAME, F_TYPE_ID, F_DATABASEPROPERTYEX, F_SCOPE_IDENTITY, F_IDENT_CURRENT, F_ERROR_NUMBER,
    F_ERROR_MESSAGE, F_ERROR_SEVERITY, F_ERROR_STATE, F_ERROR_LINE, F_ERROR_PROCEDURE,
    F_XACT_STATE, F_ORIGINAL_LOGIN, F_IS_SRVROLEMEMBER, F_HAS_DBACCESS,
    F_PHYSLOC_FORMATTER,          /* sys.fn_PhysLocFormatter (physloc.c) */
};

/* expr_func.c */
int  fn_lookup(const char *name, int nargs, int *id, hdb_err *err);
int  fn_bind(sql_session *s, bx *e, hdb_err *err);             /* result type of FUNC node */
int  fn_eval(ex_env *env, const bx *e, sql_value *out);
int  sv_lookup(const char *name);                              /* @@name -> SV_*, -1 */
int  sv_type(int sv, sql_type *t);
int  sv_eval(ex_env *env, int sv, sql_value *out);
int  fn_agg_lookup(const char *name);                          /* AGG_* or 0 */
/* expr_date.c / expr_sys.c: evaluation of their functions (arguments in v) */
bool fn_is_date(int id);
int  fn_eval_date(ex_env *env, const bx *e, const sql_value *v, sql_value *out);
bool fn_is_sys(int id);
int  fn_eval_sys(ex_env *env, const bx *e, const sql_value *v, sql_value *out);
sql_value fn_nstr(ex_env *env, const char *utf8);               /* nvarchar or NULL */
void fn_new_guid(uint8_t g[16]);                                /* NEWID() */

/* expr_conv.c */
int  cv_convert(ex_env *env, const sql_value *in, const sql_type *from, const sql_type *to,
                int style, bool assign, sql_value *out);
bool cv_allowed(uint8_t from, uint8_t to, bool explicit_);
int  cv_to_text(arena *a, const sql_value *v, const sql_type *t, int style, char **out, size_t *len);
char *cv_utf8(arena *a, const sql_value *v, const sql_type *t);   /* for messages */
sql_value cv_str(arena *a, const char *utf8, bool unicode);       /* UTF-8 -> (n)varchar value */
sql_value cv_strn(arena *a, const char *utf8, size_t n, bool unicode);
int  cv_copy(arena *a, const sql_value *in, sql_value *out);       /* deep copy bytes */
int  cv_parse_datetime(const char *s, size_t n, int *y, int *mo, int *d, int64_t *ticks, int *has_date, int *has_time);
__int128 cv_pow10(int n);
int  cv_hexval(int c);                                            /* -1 if not a hex digit */
int  cv_guid_parse(const char *s, size_t n, uint8_t g[16]);       /* expr_text.c */
int  cv_dec_rescale(__int128 v, int from_scale, int to_scale, __int128 *out);   /* rounds half away */
int  cv_overflow(hdb_err *err, const sql_type *t);
void cv_now(int64_t *us_local, int64_t *us_utc);

/* exec_select.c */
q_plan *q_bind(sql_session *s, bscope *parent, ast_query *q, bool top_level);
void *q_salloc(sql_session *s, size_t n);            /* statement arena, 701 on failure */
int  q_bfail(sql_session *s, int line, int number, int sev, int state, const char *fmt, const char *arg);
typedef int (*q_emit_fn)(void *ctx, sql_value *row, int ncols);
int  q_run(ex_env *env, q_plan *p, q_emit_fn emit, void *ctx);
int  ex_select(sql_session *s, ast_stmt *st);
/* FROM binding shared with UPDATE/DELETE (exec_from.c) */
int  q_bind_from(sql_session *s, bscope *sc, q_plan *p, ast_tableref_list *from);
int  q_bind_tref(sql_session *s, bscope *sc, q_plan *p, ast_tableref *t, q_from **out);
int  q_add_src(sql_session *s, q_plan *p, ex_src **out);
int  q_resolve_table(sql_session *s, const ast_objname *n, database **db, table_def **td, int *view);
/* Are the table's nonclustered indexes all in online filegroups? A write
 * must maintain them (8607); a query reads only the clustered index (8653
 * from q_resolve_table when that is offline). */
bool ex_secondary_indexes_online(database *db, const table_def *td);
typedef int (*q_row_fn)(void *ctx, ex_env *env);
int  q_iterate(ex_env *env, q_plan *p, q_row_fn fn, void *ctx);   /* FROM + WHERE */
int  q_collect(ex_env *env, q_plan *p, sql_value ***rows, int *nrows);
int  q_fit_row(ex_env *env, const sql_column *cols, int n, sql_value *row);
/* Fit a row built in the session's row arena to its columns and send it;
 * the arena is reset after. EX_OK, EX_ERROR (does not fit) or EX_FATAL (the
 * client is gone). For statements that build their result by hand. */
int  ex_send_built_row(sql_session *s, const sql_column *cols, int n, sql_value *row);
sql_value *q_copy_row(ex_env *env, const sql_value *vals, int n);   /* into the statement arena */
sql_value *q_null_row(ex_env *env, const ex_src *src);
q_plan *q_table_plan(sql_session *s, database *db, table_def *td, const char *alias, int ncopies,
                     const char *const *aliases);
q_plan *q_bind_dml(sql_session *s, ast_tableref *target, ast_tableref_list *from, ast_expr *where, int *tsrc);
q_plan *q_bind_output(sql_session *s, ast_output *o, database *db, table_def *td);
uint64_t q_row_hash(const sql_value *vals, const sql_type *types, int n);
/* CTEs visible while binding the current statement (exec_select.c) */
void q_set_ctes(sql_session *s, ast_cte_list *ctes);
/* The conjuncts of a filter (its AND chains flattened), at most cap. */
int  q_conjuncts(bx *filter, bx **out, int cap);

int  rpc_exec_stmt(sql_session *s, ast_stmt *st);
/* sysprocs.c: catalog procedures drivers call (sp_datatype_info*) */
bool sysproc_is_datatype_info(const char *name);
int  sysproc_datatype_info(sql_session *s, const sql_rpc_param *params, int n);
int  ex_run_nested(sql_session *s, const char *text, size_t len, const char *const *declared,
                   int ndeclared, int (*declare)(sql_session *s, void *ctx), void *ctx);

/* exec_dml.c */
int  ex_insert(sql_session *s, ast_stmt *st);
int  ex_update(sql_session *s, ast_stmt *st);
int  ex_delete(sql_session *s, ast_stmt *st);
int  ex_truncate(sql_session *s, ast_stmt *st);

/* exec_ddl.c */
int  ex_ddl(sql_session *s, ast_stmt *st);
int  ex_use(sql_session *s, const char *name, bool report);
int  ex_declare_table(sql_session *s, ast_declare_var *d);
int  ex_create_table_for(sql_session *s, const ast_objname *n, const sql_column *cols, int ncols,
                         database **db, table_def **td);
database *ex_find_db(sql_session *s, const char *name, hdb_err *err);

/* table metadata the engine does not keep: identity seed/increment, defaults,
 * CHECK constraints (exec_ddl.c) */
typedef struct tmeta_check {
    char     *name;
    char     *text;
    ast_expr *expr;
    int       col;                /* column constraint: its column, else -1 */
} tmeta_check;
typedef struct tmeta_fk {
    char     *name;
    uint32_t  child_obj, parent_obj;
    int       ncols;
    int       ccols[TBL_MAX_KEYCOLS], pcols[TBL_MAX_KEYCOLS];
} tmeta_fk;
typedef struct tmeta {
    uint32_t   object_id;
    int        ident_col;         /* -1 none */
    int64_t    seed, incr;
    bool       ident_loaded;
    __int128   ident_last;        /* last value handed out */
    bool       ident_used;
    int        ncols;
    ast_expr **defaults;          /* per column, NULL = none */
    char     **default_text;
    char     **default_name;
    int        nchecks;
    tmeta_check *checks;
    int        nfks, nrefs;
    tmeta_fk  *fks;               /* its foreign keys */
    tmeta_fk  *refs;              /* foreign keys of other tables referencing it */
    arena      a;
} tmeta;
tmeta *ex_tmeta(sql_session *s, database *db, table_def *td);
#define META_TABLE "hdb_column_meta"
enum { META_IDENTITY = 1, META_DEFAULT = 2, META_CHECK = 3, META_FK = 4 };
table_def *ex_meta_table(database *db);                              /* NULL if none yet */
int  ex_meta_ensure(sql_session *s, database *db, txn *t, table_def **out);
int  ex_meta_put(sql_session *s, database *db, txn *t, table_def *mt, uint32_t obj, int col, int kind,
                 int64_t seed, int64_t incr, bool has_nums, const char *name, const char *def);
int  ex_identity_next(sql_session *s, database *db, table_def *td, tmeta *m, __int128 *out, hdb_err *err);
void ex_identity_seen(tmeta *m, __int128 v);
void ex_tmeta_forget(database *db, uint32_t object_id);
void ex_tmeta_forget_all(void);                       /* after DDL was rolled back */
int  ex_alter_table(sql_session *s, ast_stmt *st);    /* exec_alter.c */
/* exec_fk.c */
int  ex_fk_define(sql_session *s, database *db, txn *t, table_def *child, ast_constraint *c, int colcol,
                  int ordinal, bool verify);
int  ex_fk_parent_exists(sql_session *s, ex_env *env, database *db, txn *t, const tmeta_fk *fk,
                         const sql_value *row, const char *verb);
int  ex_fk_no_children(sql_session *s, database *db, txn *t, table_def *ptd, tmeta *pm, const sql_value *old,
                       const sql_value *newv, const char *verb);
int  ex_fk_referenced(sql_session *s, database *db, table_def *td, bool truncate);

/* exec_temp.c: temporary tables */
database *ex_tempdb(sql_session *s, hdb_err *err);
int  ex_temp_find(sql_session *s, const char *name, database **db, table_def **td);   /* 1 found */
int  ex_temp_real_name(sql_session *s, const char *name, char *out, size_t cap);
int  ex_temp_add(sql_session *s, const char *name, const char *real, uint32_t object_id);
void ex_temp_forget(sql_session *s, const char *name);
void ex_temp_cleanup(sql_session *s, int min_depth);   /* drop those of scopes >= min_depth */
void ex_temp_cleanup_vars(sql_session *s);             /* table variables of the ending batch */
/* A message names temp tables as the user wrote them ("#t", not its name in tempdb). */
void ex_temp_display_names(sql_session *s, hdb_err *e);

/* sysviews.c */
enum { VIEW_NONE = 0 };
int  sv_view_lookup(const char *schema, const char *name);      /* view id or 0 */
/* sys.types: the name of a system type id (56 -> "int"), NULL if none; and back (0 if none) */
const char *sv_type_name(int32_t system_type_id);
int32_t     sv_type_id(const char *name);
int  sv_view_columns(int view, int *ncols, const char ***names, sql_type **types, uint8_t **nullable);
int  sv_view_rows(sql_session *s, database *db, int view, arena *a, sql_value ***rows, int *nrows, hdb_err *err);

/* rpc.c */
int  rpc_execute(sql_session *s, const char *proc, const sql_rpc_param *params, int nparams);
void rpc_free_prepared(sql_session *s);
int  rpc_parse_params(sql_session *s, const char *decl, ast_declare_list *out, hdb_err *err);

/* exec_backup_dev.c: backup devices (sp_addumpdevice) and device paths */
typedef struct bk_device {
    char given[2100];             /* DISK = '...' or the device's physical name, as written */
    char path[PATH_MAX];          /* resolved: relative paths under DATADIR/backup/ */
    char logical[132];            /* logical device name, "" for DISK = */
    int  device_type;             /* 2 disk, 102 logical disk device */
} bk_device;
int  bk_resolve_device(sql_session *s, const ast_device *d, bk_device *out);
int  bk_physical_path(instance *in, const char *given, char *out, size_t cap);
int  bkdev_add(sql_session *s, const char *type, const char *name, const char *path);
int  bkdev_drop(sql_session *s, const char *name, bool delfile);
int  bkdev_lookup(instance *in, const char *name, char *path, size_t cap);   /* 1 found, 0 not, -1 */
int  bkdev_foreach(instance *in, void (*fn)(void *ctx, const char *name, int type, const char *path), void *ctx);
const char *ex_server_name(void);                      /* @@SERVERNAME (expr_sys.c) */
/* exec_backup.c / exec_restore_info.c: BACKUP, RESTORE statements */
int  ex_backup(sql_session *s, ast_stmt *st);
int  ex_restore(sql_session *s, ast_stmt *st);
int  ex_restore_info(sql_session *s, ast_stmt *st);   /* HEADERONLY, FILELISTONLY, LABELONLY, VERIFYONLY */
struct media_reader;
struct media_page;
int  bk_terminate(sql_session *s, const char *what);   /* report s->err, then 3013 "<what> is terminating abnormally." */
int  bk_fail_err(sql_session *s, const hdb_err *e, const char *what);
bool bk_is_sysadmin(const sql_session *s);
sql_value bk_datetime(int64_t us_utc);                 /* µs since 1970 UTC -> local datetime (0: NULL) */
const char *bk_type_desc(int backup_type);             /* 'Database', 'Transaction Log', ... */
const char *bk_model_desc(int model, bool dash);       /* FULL, BULK-LOGGED / BULK_LOGGED, SIMPLE */
struct media_reader *bk_open_media(sql_session *s, const bk_device *dev);   /* 3201 if unreadable */
int  bk_verify_page(void *ctx, const struct media_page *pg, hdb_err *err);  /* ctx: the set's header */
/* msdb_history.c: msdb.dbo.backupset & co. after a BACKUP / RESTORE (3009 warning on failure) */
struct backup_result;
struct restore_result;
struct restore_opts;
void bk_history_backup(sql_session *s, const struct backup_result *r, const bk_device *dev);
void bk_history_mark(sql_session *s, const txn *t);
/* DBCC (exec_dbcc.c: the command table); the "DBCC execution completed"
 * message (2528, unless WITH NO_INFOMSGS) and DONE every command ends with;
 * 2571 unless s is sysadmin. */
int ex_dbcc(sql_session *s, ast_stmt *st);
int ex_dbcc_done(sql_session *s, ast_stmt *st);
int ex_dbcc_need_sysadmin(sql_session *s, const char *what);
/* exec_dbstate.c: database states and user access (ALTER DATABASE SET ONLINE |
 * OFFLINE | EMERGENCY | SINGLE_USER | RESTRICTED_USER | MULTI_USER), and
 * whether s may use db now (942, 926, 945, 927, 922, 924, 923) */
int  ex_db_usable(sql_session *s, database *db, hdb_err *err);
bool ex_is_dbstate_option(const ast_alter_database *ad);
int  ex_alter_db_state(sql_session *s, ast_alter_database *ad, database *db);
/* Restart db (SET ONLINE's autorestart), s's current database following it:
 * 0, or -1 with s->err; *now is what is registered under its name after. */
int  ex_db_restart(sql_session *s, database *db, database **now);
/* Wait until nobody else uses db, as ad's termination clause says (5061,
 * 5070, killing with ROLLBACK IMMEDIATE): EX_OK or an error already sent. */
int  ex_db_exclusive(sql_session *s, database *db, const ast_alter_database *ad);
/* exec_dbfiles.c: ALTER DATABASE ... MODIFY FILE (NAME = x, OFFLINE) and
 * REMOVE FILE x */
int  ex_alter_db_file(sql_session *s, ast_alter_database *ad, database *db);
/* exec_dbcc_check.c: DBCC CHECKDB / CHECKTABLE / CHECKALLOC */
int  ex_dbcc_checkdb(sql_session *s, ast_stmt *st);
int  ex_dbcc_checktable(sql_session *s, ast_stmt *st);
int  ex_dbcc_checkalloc(sql_session *s, ast_stmt *st);
void bk_history_restore(sql_session *s, const struct restore_result *r, const struct restore_opts *o,
                        const bk_device *dev);
/* sysprocs.c: sp_addumpdevice / sp_dropdevice */
bool sysproc_is_device_proc(const char *name);
int  sysproc_device(sql_session *s, const char *name, const sql_rpc_param *params, int n);
/* A procedure's text argument, by name or by position (NULL if absent, NULL or DEFAULT). */
const char *sysproc_text_arg(sql_session *s, const sql_rpc_param *params, int n, int pos, const char *name);
/* exec_createdb.c: CREATE DATABASE (files, FOR ATTACH), sp_detach_db / sp_attach_db,
 * and the file spec conversion ALTER DATABASE ADD FILE shares: NAME, FILENAME
 * (relative: under DATADIR/data), SIZE (default_pages when not given), MAXSIZE
 * (1545 when below SIZE), FILEGROWTH in pages */
int  ex_create_database(sql_session *s, ast_stmt *st);
void ex_file_path(sql_session *s, const char *filename, char *out, size_t cap);
int  ex_file_spec(sql_session *s, const ast_filespec *f, uint32_t default_pages, db_file_spec *spec);
bool sysproc_is_attach_proc(const char *name);
int  sysproc_attach(sql_session *s, const char *name, const sql_rpc_param *params, int n);

/* exec_pageverify.c: ALTER DATABASE SET PAGE_VERIFY | TORN_PAGE_DETECTION,
 * and the option as sys.databases shows it (0 NONE, 1 TORN_PAGE_DETECTION,
 * 2 CHECKSUM) from the boot page's enum page_verify_mode */
int  ex_set_page_verify(sql_session *s, database *db, const ast_alter_database *ad, const ast_option *o);
int  ex_page_verify_option(int mode);
const char *ex_page_verify_desc(int mode);
/* physloc.c: the %%physloc%% virtual column and sys.fn_PhysLocFormatter */
bool ex_is_physloc_name(const char *name);
bx  *bx_bind_physloc(sql_session *s, bscope *sc, ast_expr *ae);
void ex_physloc_encode(uint8_t out[8], pgid_t page, int slot);
int  ex_physloc_text(const uint8_t *b, size_t len, char *out, size_t cap);   /* "(f:p:s)" */
sql_value *ex_physloc_rowbuf(ex_env *env, const ex_src *src);   /* a row of src plus its place */
void ex_physloc_fill(sql_value *buf, const ex_src *src, const table_row *row, pgid_t page, int slot);
int  ex_physloc_format_fn(ex_env *env, const bx *e, const sql_value *v, sql_value *out);
/* expr_bind.c: whether a column qualifier names this source */
bool ex_src_matches(const ex_src *src, const ast_objname *q);
/* exec_dbcc_page.c: DBCC IND, DBCC PAGE, DBCC TRACEON / TRACEOFF */
int  ex_dbcc_ind(sql_session *s, ast_stmt *st);
int  ex_dbcc_page(sql_session *s, ast_stmt *st);
int  ex_dbcc_traceon(sql_session *s, ast_stmt *st);
int  ex_dbcc_traceoff(sql_session *s, ast_stmt *st);

/* names */
bool ex_name_eq(const char *a, const char *b);
/* schemas: the four every database has, and CREATE SCHEMA's (exec_ddl.c) */
uint32_t ex_schema_id(database *db, const char *name);          /* 0 = unknown */
const char *ex_schema_name(database *db, uint32_t id, char buf[130]);   /* NULL = unknown */
int ex_schema_list(database *db, uint32_t *ids, char (*names)[130], int cap);

/* A literal's value and type in the running batch: a cached tree's
 * parameters take the values of the text being run (plancache.h). */
static inline void ex_literal(const sql_session *s, const ast_expr *e, const sql_value **v, const sql_type **t)
{
    if (e->u.lit.slot && s->lits) {
        *v = &s->lits[e->u.lit.slot - 1].v;
        *t = &s->lits[e->u.lit.slot - 1].type;
    } else {
        *v = &e->u.lit.v;
        *t = &e->u.lit.type;
    }
}

#endif
