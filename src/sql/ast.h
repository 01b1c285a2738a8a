/*
 * ast.h — the syntax tree of a T-SQL batch, as the parser hands it to the
 * binder/executor.
 *
 * Ownership: every node, string and list of a batch lives in the arena given
 * to parse_batch (parser.h); releasing the arena releases the tree. Nothing
 * here is ever freed on its own.
 *
 * Conventions
 *   - Names (identifiers) are NUL-terminated UTF-8 with brackets/quotes
 *     removed, as written otherwise; compare them case-insensitively.
 *     Variables keep their '@' ("@x"); @@functions are upper-cased ("@@ERROR").
 *   - Option names (BACKUP ... WITH, ALTER DATABASE SET, DBCC WITH, table
 *     hints, SET options) are upper-cased so consumers can strcmp them.
 *   - Lists are arrays of pointers: `list.v[0 .. list.n-1]`; cap_ is the
 *     parser's and means nothing to consumers.
 *   - Literals are engine values (access/value.h) whose variable data points
 *     into the arena: 'x' is varchar (bytes in Latin-1), N'x' nvarchar
 *     (UTF-16LE), 123 int (or decimal(p,0) beyond int, float beyond 38
 *     digits), 1.5 decimal(p,s), 1e3 float, $1.5 money, 0xAB varbinary,
 *     NULL is a null int (SQL Server's type for a bare NULL).
 *   - `line` fields are 1-based lines of the batch text, for messages.
 *
 * Statements the grammar recognises but hadrdb does not implement come back as
 * STMT_UNSUPPORTED (never silently dropped): the executor must reject the
 * whole batch with a "not supported" error before running any of it, because
 * the parser could only guess where such a statement ends.
 */
#ifndef HDB_SQL_AST_H
#define HDB_SQL_AST_H

#include <stdbool.h>
#include <stdint.h>

#include "access/value.h"
#include "util/arena.h"

#define AST_LIST_OF(T) struct { T **v; int n; int cap_; }

typedef struct ast_expr ast_expr;
typedef struct ast_query ast_query;
typedef struct ast_stmt ast_stmt;
typedef struct ast_tableref ast_tableref;
typedef struct ast_option ast_option;

typedef AST_LIST_OF(ast_expr) ast_expr_list;
typedef AST_LIST_OF(const char) ast_name_list;
typedef AST_LIST_OF(ast_stmt) ast_stmt_list;
typedef AST_LIST_OF(ast_option) ast_option_list;
typedef AST_LIST_OF(ast_tableref) ast_tableref_list;

/* ------------------------------------------------------------------ names */

/* An object name of 1 to 4 parts: [server.][database.][schema.]object.
 * Absent parts are NULL ("db..t" has database and object, schema NULL). */
typedef struct ast_objname {
    const char *server, *database, *schema, *object;
    int nparts;            /* parts written, dots included: "db..t" is 3; 0 = none */
    int line;
} ast_objname;

/* ------------------------------------------------------------------ types */

#define AST_TYPE_MAX (-1)  /* argument "max" in varchar(max) etc. */

/* A data type as written plus its engine mapping. t.id is SQL_TYPE_NONE for
 * names the engine has no type for (text, xml, user types, ...): the binder
 * rejects those. Defaults are applied: varchar = varchar(1), or varchar(30)
 * inside CAST/CONVERT; decimal = decimal(18,0); datetime2/time = (7). sysname
 * maps to nvarchar(128); integer, dec, double precision, character varying,
 * national character varying ... map to their standard equivalents. */
typedef struct ast_type {
    sql_type t;
    const char *name;      /* lower-case builtin name ("nvarchar"), else as written */
    const char *schema;    /* schema of a user type, or NULL */
    int nargs;             /* arguments written: 0, 1 or 2 */
    int64_t args[2];       /* as written; AST_TYPE_MAX for max */
} ast_type;

/* ------------------------------------------------------------ expressions */

typedef enum ast_op {
    AST_OP_NONE = 0,
    /* arithmetic / string / bitwise (binary) */
    AST_OP_ADD, AST_OP_SUB, AST_OP_MUL, AST_OP_DIV, AST_OP_MOD,
    AST_OP_BITAND, AST_OP_BITOR, AST_OP_BITXOR,
    /* comparison (binary; !< is GE and !> is LE) */
    AST_OP_EQ, AST_OP_NE, AST_OP_LT, AST_OP_LE, AST_OP_GT, AST_OP_GE,
    /* logical (binary) */
    AST_OP_AND, AST_OP_OR,
    /* unary */
    AST_OP_NEG, AST_OP_POS, AST_OP_BITNOT, AST_OP_NOT
} ast_op;

typedef enum ast_expr_kind {
    EXPR_LITERAL,     /* u.lit */
    EXPR_COLUMN,      /* u.col: [qualifier.]name; also a bare name where the
                       * grammar allows one (DBCC args, hints, datepart) */
    EXPR_STAR,        /* u.star: * or qualifier.* (select list, COUNT(*)) */
    EXPR_VARIABLE,    /* u.name: "@x" */
    EXPR_SYSVAR,      /* u.name: "@@TRANCOUNT" */
    EXPR_UNARY,       /* u.unary: - + ~ NOT */
    EXPR_BINARY,      /* u.binary: arithmetic, comparison, AND, OR */
    EXPR_IS_NULL,     /* u.is_null */
    EXPR_BETWEEN,     /* u.between */
    EXPR_LIKE,        /* u.like */
    EXPR_IN,          /* u.in: list or subquery */
    EXPR_EXISTS,      /* u.subquery */
    EXPR_SUBQUERY,    /* u.subquery: scalar (SELECT ...) */
    EXPR_QUANTIFIED,  /* u.quantified: x op ALL|ANY|SOME (SELECT ...) */
    EXPR_CASE,        /* u.case_ */
    EXPR_CAST,        /* u.cast: CAST, CONVERT, TRY_CAST, TRY_CONVERT */
    EXPR_FUNCTION,    /* u.func: any other call, incl. aggregates */
    EXPR_COLLATE,     /* u.collate: x COLLATE name */
    EXPR_DEFAULT      /* DEFAULT in VALUES / SET col = DEFAULT */
} ast_expr_kind;

typedef struct ast_when {
    ast_expr *when;        /* value (simple CASE) or predicate (searched CASE) */
    ast_expr *then;
} ast_when;
typedef AST_LIST_OF(ast_when) ast_when_list;

typedef struct ast_order_item {
    ast_expr *expr;
    bool desc;
} ast_order_item;
typedef AST_LIST_OF(ast_order_item) ast_order_list;

typedef struct ast_window {            /* OVER ( [PARTITION BY ...] [ORDER BY ...] ) */
    ast_expr_list partition_by;
    ast_order_list order_by;
} ast_window;

/* Trees are bounded: no expression, query or table source is higher than
 * AST_MAX_HEIGHT (the parser refuses the batch with error 191), so code that
 * walks them recursively needs at most that many frames (plus one per
 * nested statement, at most 128). */
#define AST_MAX_HEIGHT 2000

struct ast_expr {
    ast_expr_kind kind;
    int line;
    uint32_t height;          /* 1 for a leaf; see AST_MAX_HEIGHT */
    union {
        /* slot: 0, or this literal's 1-based parameter number when the
         * batch is in the plan cache (each execution brings its values) */
        struct { sql_value v; sql_type type; int slot; } lit;
        struct { ast_objname qual; const char *name; } col;   /* qual.nparts 0 = unqualified */
        struct { ast_objname qual; } star;
        const char *name;
        struct { ast_op op; ast_expr *left, *right; } binary;
        struct { ast_op op; ast_expr *operand; } unary;
        struct { ast_expr *operand; bool negated; } is_null;
        struct { ast_expr *operand, *low, *high; bool negated; } between;
        struct { ast_expr *operand, *pattern, *escape; bool negated; } like;
        struct { ast_expr *operand; ast_expr_list list; ast_query *subquery; bool negated; } in;
        struct { ast_query *query; } subquery;
        struct { ast_expr *operand; ast_op op; bool all; ast_query *query; } quantified;
        struct { ast_expr *operand; ast_when_list whens; ast_expr *else_; } case_;
        struct { ast_expr *operand; ast_type type; ast_expr *style; bool is_try, is_convert; } cast;
        struct {
            ast_objname name;      /* function name; schema etc. for user functions */
            ast_expr_list args;    /* for IIF, args.v[0] is a predicate */
            bool distinct;         /* COUNT(DISTINCT x) */
            bool star;             /* COUNT(*): args empty */
            bool no_parens;        /* CURRENT_TIMESTAMP, USER, ... */
            ast_window *over;      /* window functions, else NULL */
        } func;
        struct { ast_expr *operand; const char *collation; } collate;
    } u;
};

/* Whether e is a predicate (search condition) rather than a value. */
bool ast_expr_is_predicate(const ast_expr *e);

/* ---------------------------------------------------------------- options */

/* The generic option of admin statements: NAME, NAME = value, NAME value,
 * NAME (args | sub-options). Which fields are set depends on the option. */
struct ast_option {
    const char *name;         /* upper-cased; words joined by one space */
    ast_expr *value;          /* literal or variable value (also signed numbers) */
    const char *word;         /* identifier/keyword value as written (FULL, ON, fg1) */
    const char *unit;         /* upper-cased unit after a number: KB MB GB TB % SECONDS */
    ast_expr *value2;         /* MOVE 'a' TO 'b': 'b';  STOPATMARK = 'm' AFTER 'd': 'd' */
    ast_expr_list args;       /* NAME (a, b) with plain values: INDEX (ix1, ix2) */
    ast_option_list sub;      /* NAME (opt, opt = v): ENCRYPTION (ALGORITHM = AES_256, ...) */
    bool equals;              /* written with '=' (matters only when printing) */
    bool word_in_parens;      /* word is raw text from "= (...)": LISTENER_IP = (10.0.0.1) */
    bool word_quoted;         /* word was a [quoted] name: printed quoted again */
    int line;
};

/* First option called `name` (upper-case), or NULL. */
const ast_option *ast_option_find(const ast_option_list *l, const char *name);
/* Whether the option's word equals `w` (case-insensitive). */
bool ast_option_word_is(const ast_option *o, const char *w);

/* --------------------------------------------------------------- queries */

typedef enum ast_selitem_kind {
    SELITEM_EXPR,             /* expr [AS alias] / alias = expr / expr 'alias' */
    SELITEM_ASSIGN            /* @var = expr, @var += expr ... */
} ast_selitem_kind;

typedef struct ast_select_item {
    ast_selitem_kind kind;
    ast_expr *expr;
    const char *alias;        /* SELITEM_EXPR: column alias or NULL */
    const char *var;          /* SELITEM_ASSIGN: "@v" */
    ast_op assign_op;         /* SELITEM_ASSIGN: NONE for '=', ADD for '+=', ... */
} ast_select_item;
typedef AST_LIST_OF(ast_select_item) ast_select_item_list;

/* One query specification: SELECT ... FROM ... WHERE ... GROUP BY ... HAVING. */
typedef struct ast_select {
    bool distinct;
    ast_expr *top;            /* TOP (n) / TOP n, else NULL */
    bool top_percent, top_with_ties;
    ast_select_item_list items;
    ast_objname *into;        /* SELECT ... INTO table */
    ast_tableref_list from;   /* comma-separated sources (cross product) */
    ast_expr *where;
    ast_expr_list group_by;
    ast_expr *having;
} ast_select;

typedef struct ast_cte {
    const char *name;
    ast_name_list columns;
    ast_query *query;
} ast_cte;
typedef AST_LIST_OF(ast_cte) ast_cte_list;

typedef enum ast_query_kind {
    QUERY_SELECT,             /* u: select */
    QUERY_UNION, QUERY_UNION_ALL, QUERY_EXCEPT, QUERY_INTERSECT   /* left, right */
} ast_query_kind;

/* A query expression: a SELECT or a set operation, with the ORDER BY /
 * OFFSET-FETCH / OPTION that apply to the whole of it. */
struct ast_query {
    ast_query_kind kind;
    ast_select *select;
    ast_query *left, *right;
    ast_order_list order_by;
    ast_expr *offset;         /* OFFSET n ROWS */
    ast_expr *fetch;          /* FETCH NEXT n ROWS ONLY (needs offset) */
    ast_option_list hints;    /* OPTION (RECOMPILE, MAXDOP 1, ...) */
    ast_cte_list ctes;        /* WITH name AS (...) before a SELECT statement */
    bool parens;              /* written in parentheses (printing only) */
    uint32_t height;          /* see AST_MAX_HEIGHT */
};

typedef enum ast_tref_kind {
    TREF_TABLE,               /* name [alias] [WITH (hints)] */
    TREF_VARIABLE,            /* @t [alias] */
    TREF_DERIVED,             /* (query) AS alias [(columns)] */
    TREF_FUNCTION,            /* name(args) [alias]: table-valued function */
    TREF_JOIN                 /* left join right [ON cond] */
} ast_tref_kind;

typedef enum ast_join_kind {
    JOIN_INNER, JOIN_LEFT, JOIN_RIGHT, JOIN_FULL, JOIN_CROSS,
    JOIN_CROSS_APPLY, JOIN_OUTER_APPLY
} ast_join_kind;

struct ast_tableref {
    ast_tref_kind kind;
    ast_objname name;         /* TABLE, FUNCTION */
    const char *var;          /* VARIABLE */
    ast_query *query;         /* DERIVED */
    ast_expr_list args;       /* FUNCTION */
    const char *alias;
    ast_name_list col_aliases;/* DERIVED: AS d (a, b) */
    ast_option_list hints;    /* WITH (NOLOCK, INDEX(ix), ...): upper-cased names */
    ast_join_kind join;       /* JOIN */
    ast_tableref *left, *right;
    ast_expr *on;             /* NULL for CROSS JOIN / APPLY */
    int line;
    uint32_t height;          /* see AST_MAX_HEIGHT */
};

/* ------------------------------------------------------------------- DML */

typedef struct ast_output {                 /* OUTPUT items [INTO target [(cols)]] */
    ast_select_item_list items;             /* inserted.x, deleted.*, ... */
    ast_tableref *into;                     /* TABLE or VARIABLE, or NULL */
    ast_name_list into_columns;
} ast_output;

typedef enum ast_insert_source {
    INSERT_VALUES, INSERT_QUERY, INSERT_DEFAULT_VALUES, INSERT_EXEC
} ast_insert_source;

typedef AST_LIST_OF(ast_expr_list) ast_row_list;

typedef struct ast_insert {
    ast_cte_list ctes;
    ast_expr *top;
    bool top_percent;
    ast_tableref *target;                   /* TABLE (with hints) or VARIABLE */
    ast_name_list columns;                  /* empty = all */
    ast_output *output;
    ast_insert_source source;
    ast_row_list rows;                      /* VALUES: each row's expressions */
    ast_query *query;                       /* INSERT ... SELECT */
    ast_stmt *exec;                         /* INSERT ... EXEC (STMT_EXEC) */
} ast_insert;

typedef struct ast_set_item {               /* UPDATE ... SET item */
    ast_expr *column;                       /* EXPR_COLUMN, or NULL for @v = expr */
    const char *var;                        /* @v = expr, or @v = col = expr */
    ast_op op;                              /* NONE for '=', ADD for '+=', ... */
    ast_expr *value;                        /* EXPR_DEFAULT for DEFAULT */
} ast_set_item;
typedef AST_LIST_OF(ast_set_item) ast_set_item_list;

typedef struct ast_update {
    ast_cte_list ctes;
    ast_expr *top;
    bool top_percent;
    ast_tableref *target;                   /* TABLE (name may be a FROM alias) or VARIABLE */
    ast_set_item_list set;
    ast_output *output;
    ast_tableref_list from;
    ast_expr *where;
    ast_option_list hints;                  /* OPTION (...) */
} ast_update;

typedef struct ast_delete {
    ast_cte_list ctes;
    ast_expr *top;
    bool top_percent;
    ast_tableref *target;
    ast_output *output;
    ast_tableref_list from;
    ast_expr *where;
    ast_option_list hints;
} ast_delete;

/* ------------------------------------------------------------------- DDL */

#define AST_SIZE_UNSET     (-1)
#define AST_SIZE_UNLIMITED (-2)

/* ( NAME = x, FILENAME = 'p', SIZE = n, MAXSIZE = n|UNLIMITED, FILEGROWTH = n[%] ) */
typedef struct ast_filespec {
    const char *name;         /* logical name, or NULL */
    const char *newname;      /* MODIFY FILE (NEWNAME = ) */
    const char *filename;     /* physical path, or NULL */
    int64_t size_kb;          /* AST_SIZE_UNSET when not given (default unit MB) */
    int64_t maxsize_kb;       /* AST_SIZE_UNSET / AST_SIZE_UNLIMITED / KB */
    int64_t growth;           /* AST_SIZE_UNSET, KB, or percent when growth_percent */
    bool growth_percent;
    bool offline;             /* MODIFY FILE (NAME = x, OFFLINE) */
    int line;
} ast_filespec;
typedef AST_LIST_OF(ast_filespec) ast_filespec_list;

typedef struct ast_filegroup {
    const char *name;         /* "PRIMARY" for the primary filegroup */
    bool is_default;
    bool contains_filestream;
    ast_filespec_list files;
} ast_filegroup;
typedef AST_LIST_OF(ast_filegroup) ast_filegroup_list;

typedef enum ast_attach { ATTACH_NONE, ATTACH, ATTACH_REBUILD_LOG } ast_attach;

typedef struct ast_create_database {
    const char *name;
    ast_filegroup_list filegroups;   /* ON ...: [0] is PRIMARY when ON was written */
    ast_filespec_list log_files;     /* LOG ON ... */
    const char *collation;
    ast_option_list with;            /* CONTAINMENT = NONE and WITH options */
    ast_attach attach;               /* FOR ATTACH [_REBUILD_LOG] */
    const char *snapshot_of;         /* AS SNAPSHOT OF db */
} ast_create_database;

typedef AST_LIST_OF(ast_objname) ast_objname_list;

typedef struct ast_drop {                   /* DROP DATABASE|TABLE|SCHEMA|PROCEDURE */
    bool if_exists;
    ast_objname_list names;
} ast_drop;

typedef enum ast_clustered { IDX_DEFAULT, IDX_CLUSTERED, IDX_NONCLUSTERED } ast_clustered;

typedef struct ast_index_col {
    const char *name;
    bool desc;
} ast_index_col;
typedef AST_LIST_OF(ast_index_col) ast_index_col_list;

typedef enum ast_constraint_kind {
    CONSTR_PRIMARY_KEY, CONSTR_UNIQUE, CONSTR_CHECK, CONSTR_FOREIGN_KEY, CONSTR_DEFAULT
} ast_constraint_kind;

typedef enum ast_ref_action {
    REF_NO_ACTION, REF_CASCADE, REF_SET_NULL, REF_SET_DEFAULT
} ast_ref_action;

typedef struct ast_constraint {
    ast_constraint_kind kind;
    const char *name;                 /* CONSTRAINT name, or NULL */
    ast_clustered clustered;          /* PRIMARY KEY / UNIQUE */
    ast_index_col_list columns;       /* key columns; for a column constraint: that column */
    ast_expr *check;                  /* CHECK (predicate) */
    ast_expr *default_value;          /* DEFAULT (ALTER TABLE ADD CONSTRAINT ... DEFAULT x FOR c) */
    ast_objname ref_table;            /* FOREIGN KEY ... REFERENCES */
    ast_name_list ref_columns;
    ast_ref_action on_delete, on_update;
    const char *on_filegroup;         /* ON fg for the index */
    ast_option_list with;             /* WITH (FILLFACTOR = 80, ...) */
    int line;
} ast_constraint;
typedef AST_LIST_OF(ast_constraint) ast_constraint_list;

typedef enum ast_nullability { NULLABILITY_DEFAULT, NULLABILITY_NULL, NULLABILITY_NOT_NULL } ast_nullability;

typedef struct ast_coldef {
    const char *name;
    ast_type type;                    /* t.id NONE with name NULL for computed columns */
    const char *collation;
    ast_nullability nullability;
    bool identity;
    int64_t identity_seed, identity_increment;    /* 1, 1 when not written */
    ast_expr *default_value;
    const char *default_name;         /* CONSTRAINT name DEFAULT ... */
    ast_expr *computed;               /* name AS expr */
    bool persisted;
    bool rowguidcol, sparse;
    ast_constraint_list constraints;  /* column-level PK / UNIQUE / CHECK / FK */
    int line;
} ast_coldef;
typedef AST_LIST_OF(ast_coldef) ast_coldef_list;

typedef struct ast_table_def {              /* the parenthesised part of CREATE TABLE */
    ast_coldef_list columns;
    ast_constraint_list constraints;        /* table-level */
} ast_table_def;

typedef struct ast_create_table {
    ast_objname name;
    ast_table_def def;
    const char *on_filegroup;               /* ON fg ("default" allowed) */
    const char *textimage_on;
    ast_option_list with;
} ast_create_table;

typedef enum ast_alter_table_action {
    ALTER_TABLE_ADD,                 /* def.columns / def.constraints */
    ALTER_TABLE_ALTER_COLUMN,        /* def.columns.v[0] */
    ALTER_TABLE_DROP_COLUMN,         /* names */
    ALTER_TABLE_DROP_CONSTRAINT      /* names */
} ast_alter_table_action;

typedef struct ast_alter_table {
    ast_objname name;
    ast_alter_table_action action;
    ast_table_def def;
    ast_name_list names;
    bool if_exists;                  /* DROP COLUMN|CONSTRAINT IF EXISTS */
    bool with_check, with_nocheck;   /* WITH [NO]CHECK ADD CONSTRAINT */
} ast_alter_table;

typedef struct ast_create_index {
    bool unique;
    ast_clustered clustered;
    const char *name;
    ast_objname table;
    ast_index_col_list columns;
    ast_name_list include;
    ast_expr *where;                 /* filtered index */
    ast_option_list with;
    const char *on_filegroup;
} ast_create_index;

typedef struct ast_index_ref {              /* one DROP INDEX target */
    const char *name;
    ast_objname table;                      /* ON table, or the t of t.ix */
} ast_index_ref;

typedef struct ast_drop_index {
    bool if_exists;
    AST_LIST_OF(ast_index_ref) indexes;
} ast_drop_index;

typedef struct ast_create_schema {
    const char *name;
    const char *authorization;
    ast_stmt_list elements;                 /* CREATE TABLE statements that follow */
} ast_create_schema;

typedef struct ast_param {                  /* procedure parameter */
    const char *name;                       /* "@p" */
    ast_type type;
    ast_expr *default_value;
    bool output, readonly;
    int line;
} ast_param;
typedef AST_LIST_OF(ast_param) ast_param_list;

typedef struct ast_create_proc {            /* CREATE [OR ALTER] | ALTER PROCEDURE */
    bool or_alter, alter;
    ast_objname name;
    ast_param_list params;
    ast_option_list with;                   /* RECOMPILE, EXECUTE AS ... */
    ast_stmt_list body;                     /* to the end of the batch */
    uint32_t body_offset;                   /* source of the body (for sys.sql_modules) */
} ast_create_proc;

/* --------------------------------------------------- variables, control */

typedef struct ast_declare_var {
    const char *name;                       /* "@v" */
    ast_type type;                          /* unset when is_table / is_cursor */
    ast_expr *init;                         /* = expr, or NULL */
    bool is_table;                          /* DECLARE @t TABLE (...) */
    ast_table_def table;
    int line;
} ast_declare_var;
typedef AST_LIST_OF(ast_declare_var) ast_declare_list;

typedef enum ast_isolation {
    ISO_READ_UNCOMMITTED, ISO_READ_COMMITTED, ISO_REPEATABLE_READ,
    ISO_SNAPSHOT, ISO_SERIALIZABLE
} ast_isolation;

typedef enum ast_setval {
    SETVAL_ON, SETVAL_OFF,
    SETVAL_VALUE,        /* value: number, string, binary or variable */
    SETVAL_WORD,         /* word: DEADLOCK_PRIORITY LOW, DATEFORMAT dmy, LANGUAGE x */
    SETVAL_ISOLATION     /* isolation */
} ast_setval;

typedef struct ast_set_option {
    ast_name_list names;            /* upper-cased: ANSI_NULLS, STATISTICS IO,
                                     * TRANSACTION ISOLATION LEVEL, ... (several
                                     * only for ON/OFF options) */
    ast_setval kind;
    ast_expr *value;
    const char *word;
    ast_isolation isolation;
    ast_objname table;              /* IDENTITY_INSERT table */
} ast_set_option;

typedef enum ast_raiserror_flag {
    RAISERROR_LOG = 1, RAISERROR_NOWAIT = 2, RAISERROR_SETERROR = 4
} ast_raiserror_flag;

/* ----------------------------------------------------------- transactions */

typedef struct ast_tran {
    const char *name;               /* transaction / savepoint name or "@var", or NULL */
    bool name_is_var;
    bool distributed;               /* BEGIN DISTRIBUTED TRAN */
    bool with_mark;                 /* BEGIN TRAN name WITH MARK ['desc'] */
    ast_expr *mark_desc;            /* string literal or NULL */
    ast_option_list with;           /* COMMIT ... WITH (DELAYED_DURABILITY = ON) */
} ast_tran;

/* ----------------------------------------------------------------- EXEC */

typedef struct ast_exec_arg {
    const char *param;              /* "@p" of @p = value, or NULL (positional) */
    ast_expr *value;                /* literal or variable; NULL when is_default;
                                     * a bare identifier arrives as an nvarchar literal */
    bool is_default;
    bool output;                    /* OUTPUT / OUT */
    int line;
} ast_exec_arg;
typedef AST_LIST_OF(ast_exec_arg) ast_exec_arg_list;

typedef struct ast_exec {
    const char *return_var;         /* EXEC @rc = proc */
    ast_objname proc;               /* procedure (1-4 parts), or */
    const char *proc_var;           /* EXEC @name_in_variable */
    ast_exec_arg_list args;
    ast_option_list with;           /* WITH RECOMPILE */
    bool is_string;                 /* EXEC ('...' + @x) [AT server] */
    ast_expr_list strings;          /* concatenated parts */
    const char *at_server;
} ast_exec;

/* -------------------------------------------------------- admin statements */

typedef enum ast_device_kind {
    DEV_LOGICAL,                    /* logical device name (name) or @var (value) */
    DEV_DISK, DEV_TAPE, DEV_URL,    /* DISK = 'path' | @var (value) */
    DEV_DATABASE_SNAPSHOT           /* RESTORE ... FROM DATABASE_SNAPSHOT = name */
} ast_device_kind;

typedef struct ast_device {
    ast_device_kind kind;
    const char *name;
    ast_expr *value;
    int line;
} ast_device;
typedef AST_LIST_OF(ast_device) ast_device_list;
typedef AST_LIST_OF(ast_device_list) ast_device_lists;

typedef struct ast_dbref {          /* database named directly or through a variable */
    const char *name;
    const char *var;
} ast_dbref;

typedef struct ast_backup {
    bool log;                       /* BACKUP LOG, else BACKUP DATABASE */
    ast_dbref db;
    ast_option_list files;          /* FILE = x, FILEGROUP = y, READ_WRITE_FILEGROUPS */
    ast_device_list to;
    ast_device_lists mirror_to;     /* each MIRROR TO clause */
    ast_option_list with;           /* INIT, NAME = 'x', STATS = 10, COMPRESSION ... */
} ast_backup;

typedef enum ast_restore_kind {
    RESTORE_DATABASE, RESTORE_LOG, RESTORE_HEADERONLY, RESTORE_FILELISTONLY,
    RESTORE_VERIFYONLY, RESTORE_LABELONLY, RESTORE_REWINDONLY
} ast_restore_kind;

typedef struct ast_restore {
    ast_restore_kind kind;
    ast_dbref db;                   /* DATABASE / LOG only */
    ast_option_list files;          /* FILE =, FILEGROUP =, PAGE = '1:57, 1:202', READ_WRITE_FILEGROUPS */
    ast_device_list from;           /* empty: RESTORE DATABASE db WITH RECOVERY */
    ast_option_list with;           /* FILE = n, NORECOVERY, MOVE 'a' TO 'b', STOPATMARK = 'm' AFTER 'd' ... */
} ast_restore;

typedef enum ast_alterdb_action {
    ALTERDB_SET,                    /* options (+ termination) */
    ALTERDB_PARTNER,                /* SET PARTNER ...: mirror, mirror_value */
    ALTERDB_WITNESS,                /* SET WITNESS = 'addr' | OFF */
    ALTERDB_ADD_FILE,               /* files [TO FILEGROUP target] */
    ALTERDB_ADD_LOG_FILE,           /* files */
    ALTERDB_REMOVE_FILE,            /* target */
    ALTERDB_MODIFY_FILE,            /* files.v[0] */
    ALTERDB_ADD_FILEGROUP,          /* target, options (CONTAINS FILESTREAM) */
    ALTERDB_REMOVE_FILEGROUP,       /* target */
    ALTERDB_MODIFY_FILEGROUP,       /* target, options (READ_ONLY, DEFAULT, NAME = x) */
    ALTERDB_MODIFY_NAME,            /* target = new name */
    ALTERDB_COLLATE                 /* target = collation */
} ast_alterdb_action;

typedef enum ast_mirror_action {
    MIRROR_ADDRESS,                 /* PARTNER|WITNESS = 'TCP://host:port' (mirror_value) */
    MIRROR_FAILOVER, MIRROR_FORCE_SERVICE, MIRROR_OFF, MIRROR_RESUME, MIRROR_SUSPEND,
    MIRROR_SAFETY_FULL, MIRROR_SAFETY_OFF,
    MIRROR_TIMEOUT                  /* mirror_value: seconds */
} ast_mirror_action;

typedef enum ast_termination {
    TERM_NONE, TERM_ROLLBACK_IMMEDIATE, TERM_ROLLBACK_AFTER, TERM_NO_WAIT
} ast_termination;

typedef struct ast_alter_database {
    const char *name;               /* NULL when CURRENT */
    bool current;
    ast_alterdb_action action;
    ast_option_list options;        /* SET options: RECOVERY FULL -> {RECOVERY, word FULL};
                                     * SINGLE_USER -> {SINGLE_USER}; ONLINE; EMERGENCY;
                                     * PAGE_VERIFY CHECKSUM; COMPATIBILITY_LEVEL = 150 ... */
    ast_mirror_action mirror;
    ast_expr *mirror_value;
    ast_filespec_list files;
    const char *target;
    ast_termination termination;
    int rollback_after;             /* seconds, for TERM_ROLLBACK_AFTER */
} ast_alter_database;

typedef struct ast_dbcc {
    const char *name;               /* upper-cased: CHECKDB, CHECKTABLE, OPENTRAN ... */
    ast_expr_list args;             /* bare names arrive as EXPR_COLUMN */
    ast_option_list with;           /* NO_INFOMSGS, ALL_ERRORMSGS, TABLERESULTS ... */
} ast_dbcc;

typedef enum ast_kill_with {
    KILL_PLAIN, KILL_STATUSONLY, KILL_COMMIT, KILL_ROLLBACK
} ast_kill_with;

/* CREATE | ALTER ENDPOINT name [AUTHORIZATION l] [STATE = s]
 *   AS TCP (LISTENER_PORT = n, ...) FOR DATABASE_MIRRORING (ROLE = ..., ...) */
typedef struct ast_endpoint {
    bool alter;
    const char *name;
    const char *authorization;
    const char *state;              /* STARTED | STOPPED | DISABLED as written, or NULL */
    const char *protocol;           /* "TCP" (upper-cased) or NULL */
    ast_option_list protocol_options;
    const char *payload;            /* "DATABASE_MIRRORING" (upper-cased) or NULL */
    ast_option_list payload_options;
} ast_endpoint;

/* ------------------------------------------------------------- statements */

typedef enum ast_stmt_kind {
    STMT_SELECT,              /* u.query */
    STMT_INSERT,              /* u.insert */
    STMT_UPDATE,              /* u.update */
    STMT_DELETE,              /* u.delete_ */
    STMT_CREATE_DATABASE,     /* u.create_db */
    STMT_DROP_DATABASE,       /* u.drop */
    STMT_CREATE_SCHEMA,       /* u.create_schema */
    STMT_DROP_SCHEMA,         /* u.drop */
    STMT_CREATE_TABLE,        /* u.create_table */
    STMT_ALTER_TABLE,         /* u.alter_table */
    STMT_DROP_TABLE,          /* u.drop */
    STMT_TRUNCATE_TABLE,      /* u.drop (one name) */
    STMT_CREATE_INDEX,        /* u.create_index */
    STMT_DROP_INDEX,          /* u.drop_index */
    STMT_CREATE_PROCEDURE,    /* u.create_proc (also CREATE OR ALTER / ALTER) */
    STMT_DROP_PROCEDURE,      /* u.drop */
    STMT_USE,                 /* u.name */
    STMT_DECLARE,             /* u.declare */
    STMT_SET_VAR,             /* u.set_var */
    STMT_SET_OPTION,          /* u.set_option */
    STMT_IF,                  /* u.if_ */
    STMT_WHILE,               /* u.while_ */
    STMT_BREAK, STMT_CONTINUE,
    STMT_BLOCK,               /* u.block: BEGIN ... END */
    STMT_TRY,                 /* u.try_ */
    STMT_THROW,               /* u.throw_ (all NULL: rethrow) */
    STMT_RAISERROR,           /* u.raiserror */
    STMT_PRINT,               /* u.expr */
    STMT_RETURN,              /* u.expr (may be NULL) */
    STMT_GOTO, STMT_LABEL,    /* u.name */
    STMT_WAITFOR,             /* u.waitfor */
    STMT_BEGIN_TRAN,          /* u.tran */
    STMT_COMMIT,              /* u.tran */
    STMT_ROLLBACK,            /* u.tran */
    STMT_SAVE_TRAN,           /* u.tran */
    STMT_EXEC,                /* u.exec */
    STMT_KILL,                /* u.kill */
    STMT_SHUTDOWN,            /* u.nowait */
    STMT_CHECKPOINT,          /* u.expr: duration or NULL */
    STMT_RECONFIGURE,         /* u.nowait: WITH OVERRIDE */
    STMT_BACKUP,              /* u.backup */
    STMT_RESTORE,             /* u.restore */
    STMT_ALTER_DATABASE,      /* u.alter_db */
    STMT_DBCC,                /* u.dbcc */
    STMT_ENDPOINT,            /* u.endpoint: CREATE / ALTER ENDPOINT */
    STMT_DROP_ENDPOINT,       /* u.drop */
    STMT_UNSUPPORTED,         /* u.unsupported: recognised, not implemented */
    STMT_KIND_COUNT_
} ast_stmt_kind;

struct ast_stmt {
    ast_stmt_kind kind;
    int line;                 /* line of the first token */
    uint32_t offset, len;     /* source span (without a trailing ';') */
    union {
        ast_query *query;
        ast_insert insert;
        ast_update update;
        ast_delete delete_;
        ast_create_database create_db;
        ast_drop drop;
        ast_create_schema create_schema;
        ast_create_table create_table;
        ast_alter_table alter_table;
        ast_create_index create_index;
        ast_drop_index drop_index;
        ast_create_proc create_proc;
        const char *name;
        ast_declare_list declare;
        struct { const char *var; ast_op op; ast_expr *value; } set_var;
        ast_set_option set_option;
        struct { ast_expr *cond; ast_stmt *then, *else_; } if_;
        struct { ast_expr *cond; ast_stmt *body; } while_;
        ast_stmt_list block;
        struct { ast_stmt_list try_body, catch_body; } try_;
        struct { ast_expr *number, *message, *state; } throw_;
        struct {
            ast_expr *msg, *severity, *state;   /* msg: id, string or variable */
            ast_expr_list args;
            int flags;                          /* ast_raiserror_flag bits */
        } raiserror;
        ast_expr *expr;
        struct { bool delay; ast_expr *value; } waitfor;  /* DELAY or TIME */
        ast_tran tran;
        ast_exec exec;
        struct { ast_expr *target; ast_kill_with with; } kill;   /* spid or 'uow' */
        bool nowait;
        ast_backup backup;
        ast_restore restore;
        ast_alter_database alter_db;
        ast_dbcc dbcc;
        ast_endpoint endpoint;
        struct {
            const char *what;      /* "CREATE VIEW", "MERGE", ... */
            const char *text;      /* the statement's source text */
        } unsupported;
    } u;
};

/* A literal's value for one execution of a cached tree (sql/plancache.h). */
typedef struct ast_lit_value {
    sql_value v;
    sql_type type;
} ast_lit_value;

/* A literal the parser made from one token of the text, so the plan cache
 * (sql/plancache.h) can tell the constants of a batch from its shape. */
typedef struct ast_lit_use {
    uint32_t offset, len;     /* the token's span in the text */
    ast_expr *e;              /* its EXPR_LITERAL */
    bool negate;              /* a '-' before the token was folded into it */
    bool pinned;              /* the parser looked at the value: not a parameter */
} ast_lit_use;
typedef AST_LIST_OF(ast_lit_use) ast_lit_use_list;

typedef struct ast_batch {
    ast_stmt_list stmts;
    ast_lit_use_list lits;    /* in the order the parser made them */
    const char *src;          /* the text parsed (not copied: keep it alive) */
    size_t src_len;
} ast_batch;

/* ------------------------------------------------------------- utilities */

/* "SELECT", "BACKUP", "CREATE TABLE" ... for messages. */
const char *ast_stmt_kind_name(ast_stmt_kind k);

/* Canonical T-SQL for a statement / expression / batch: keywords upper-case,
 * every name bracketed, every compound expression parenthesised. Parsing the
 * output yields the same tree (the unit tests check the round trip). The
 * string lives in `a`; NULL only when the arena is out of memory. */
char *ast_stmt_to_sql(arena *a, const ast_stmt *s);
char *ast_expr_to_sql(arena *a, const ast_expr *e);
/* The same with the parameter values of a cached tree's execution (lits[k-1]
 * for a literal of slot k; NULL: the tree's own values). */
char *ast_expr_to_sql_with(arena *a, const ast_expr *e, const ast_lit_value *lits);
char *ast_batch_to_sql_with(arena *a, const ast_batch *batch, const ast_lit_value *lits);
char *ast_batch_to_sql(arena *a, const ast_batch *b);

#endif
