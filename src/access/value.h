/*
 * value.h — typed SQL values: the SQL Server types the engine stores, how one
 * value is held in memory, and comparison with SQL Server's semantics.
 *
 * A sql_type describes a column (or expression) type; a sql_value holds one value
 * of such a type. Fixed-size data lives inside the value; variable data (strings,
 * binary) is pointed to by `bytes`/`len` and is NOT owned by the value — it points
 * into a row buffer, a page, or a buffer the caller keeps alive.
 *
 * In-memory representation per type (the `u` fields named below):
 *   tinyint/smallint/int/bigint  i     plain integer (tinyint 0..255)
 *   bit                          i     0 or 1
 *   money/smallmoney             i     amount * 10^4 (smallmoney fits int32)
 *   decimal/numeric(p,s)         dec   signed 128-bit, value = dec / 10^s, |dec| < 10^p
 *   float/real                   f     double; real values are compared and stored
 *                                      as float (rounded), never NaN or infinite
 *   char/varchar                 bytes single-byte text (Latin-1 for collation)
 *   nchar/nvarchar               bytes UTF-16LE, len is in BYTES (even)
 *   binary/varbinary             bytes raw bytes
 *   date                         date  days since 0001-01-01 (0..3652058)
 *   time(p)                      time  100ns ticks since midnight (0..863999999999)
 *   datetime                     dt    days since 1900-01-01 (may be negative, down
 *                                      to 1753-01-01) + ticks of 1/300 s (0..25919999)
 *   datetime2(p)                 dt2   days since 0001-01-01 + 100ns ticks
 *   uniqueidentifier             guid  16 bytes in SQL Server's storage order (the
 *                                      first three groups little-endian, as .NET's
 *                                      Guid.ToByteArray)
 *
 * A value marked VALUE_F_OFFROW (only variable-length types) carries a pointer to
 * overflow pages instead of its data: `offrow.first_page` / `offrow.total_len`.
 * The B+tree sets it when moving a large value out of the row (see row.h).
 *
 * Strings compare with the column collation. The default (collation_flags == 0)
 * behaves like SQL Server's Latin1_General_CI_AS for ASCII and Latin-1:
 * case-insensitive, accent-sensitive, trailing spaces ignored. varbinary compares
 * bytes but, as SQL Server does, ignores trailing 0x00 bytes (0x01 = 0x0100).
 */
#ifndef HDB_ACCESS_VALUE_H
#define HDB_ACCESS_VALUE_H

#include <stddef.h>
#include <stdint.h>

#include "util/err.h"

enum sql_type_id {
    SQL_TYPE_NONE = 0,
    SQL_TINYINT = 1,
    SQL_SMALLINT,
    SQL_INT,
    SQL_BIGINT,
    SQL_BIT,
    SQL_DECIMAL,
    SQL_NUMERIC,          /* identical to decimal in every respect */
    SQL_MONEY,
    SQL_SMALLMONEY,
    SQL_FLOAT,            /* float(53) */
    SQL_REAL,             /* float(24) */
    SQL_CHAR,
    SQL_VARCHAR,
    SQL_NCHAR,
    SQL_NVARCHAR,
    SQL_BINARY,
    SQL_VARBINARY,
    SQL_DATE,
    SQL_TIME,
    SQL_DATETIME,
    SQL_DATETIME2,
    SQL_UNIQUEIDENTIFIER,
    SQL_TYPE_COUNT
};

/* collation_flags: 0 is the server default (CI_AS). */
#define VALUE_COLL_CS   0x0001  /* case-sensitive: 'a' < 'A' < 'b' */
#define VALUE_COLL_AI   0x0002  /* accent-insensitive (Latin-1 letters only) */
#define VALUE_COLL_BIN  0x0004  /* binary: code-unit order, still trailing-space blind */

#define VALUE_LEN_MAX   (-1)    /* max_len of varchar(max)/nvarchar(max)/varbinary(max) */

typedef struct sql_type {
    uint8_t  id;              /* enum sql_type_id */
    int32_t  max_len;         /* declared n as written in DDL: bytes for char/varchar/
                               * binary/varbinary, characters (2-byte units) for
                               * nchar/nvarchar; VALUE_LEN_MAX for (max); unused for
                               * other types */
    uint8_t  precision;       /* decimal p (1..38, 0 means 38); time/datetime2 p (0..7) */
    uint8_t  scale;           /* decimal s */
    uint16_t collation_flags; /* VALUE_COLL_*; 0 = case-insensitive, accent-sensitive */
} sql_type;

#define VALUE_F_OFFROW  0x01    /* variable data lives in overflow pages (row.h) */

typedef struct sql_value {
    uint8_t type;     /* enum sql_type_id; 0 = take it from the sql_type */
    uint8_t is_null;
    uint8_t flags;    /* VALUE_F_* */
    union {
        int64_t  i;
        __int128 dec;
        double   f;
        int32_t  date;
        int64_t  time;
        struct { int32_t days; uint32_t ticks; } dt;
        struct { int32_t days; int64_t ticks; } dt2;
        uint8_t  guid[16];
        struct { uint64_t first_page; uint64_t total_len; } offrow;
    } u;
    const uint8_t *bytes; /* variable data, not owned */
    uint32_t len;         /* bytes of variable data */
} sql_value;

/* Calendar constants. */
#define VALUE_DATE_MAX          3652058           /* 9999-12-31 in days since 0001-01-01 */
#define VALUE_DAYS_1900         693595            /* 1900-01-01 in days since 0001-01-01 */
#define VALUE_DATETIME_MIN_DAYS (-53690)          /* 1753-01-01 in datetime days */
#define VALUE_DATETIME_MAX_DAYS 2958463           /* 9999-12-31 in datetime days */
#define VALUE_TICKS_PER_DAY     864000000000LL    /* 100ns ticks */
#define VALUE_DT_TICKS_PER_DAY  25920000u         /* datetime 1/300 s ticks */

/* ---- constructors (the type field is filled; pass types[] alongside anyway) ---- */
static inline sql_value value_null(uint8_t type)
{ sql_value v = {0}; v.type = type; v.is_null = 1; return v; }
static inline sql_value value_int(uint8_t type, int64_t i)
{ sql_value v = {0}; v.type = type; v.u.i = i; return v; }
static inline sql_value value_decimal(__int128 scaled)
{ sql_value v = {0}; v.type = SQL_DECIMAL; v.u.dec = scaled; return v; }
static inline sql_value value_float(uint8_t type, double f)
{ sql_value v = {0}; v.type = type; v.u.f = f; return v; }
static inline sql_value value_bytes(uint8_t type, const void *p, uint32_t len)
{ sql_value v = {0}; v.type = type; v.bytes = (const uint8_t *)p; v.len = len; return v; }
static inline sql_value value_date(int32_t days)
{ sql_value v = {0}; v.type = SQL_DATE; v.u.date = days; return v; }
static inline sql_value value_time(int64_t ticks)
{ sql_value v = {0}; v.type = SQL_TIME; v.u.time = ticks; return v; }
static inline sql_value value_datetime(int32_t days1900, uint32_t ticks300)
{ sql_value v = {0}; v.type = SQL_DATETIME; v.u.dt.days = days1900; v.u.dt.ticks = ticks300; return v; }
static inline sql_value value_datetime2(int32_t days, int64_t ticks)
{ sql_value v = {0}; v.type = SQL_DATETIME2; v.u.dt2.days = days; v.u.dt2.ticks = ticks; return v; }
static inline sql_value value_guid(const uint8_t g[16])
{
    sql_value v = {0};
    v.type = SQL_UNIQUEIDENTIFIER;
    for (int k = 0; k < 16; k++)
        v.u.guid[k] = g[k];
    return v;
}
/* A variable-length value that lives in overflow pages. */
static inline sql_value value_offrow(uint8_t type, uint64_t first_page, uint64_t total_len)
{ sql_value v = {0}; v.type = type; v.flags = VALUE_F_OFFROW;
  v.u.offrow.first_page = first_page; v.u.offrow.total_len = total_len; return v; }

static inline sql_type value_type(uint8_t id, int32_t max_len, uint8_t precision, uint8_t scale)
{ sql_type t = {0}; t.id = id; t.max_len = max_len; t.precision = precision; t.scale = scale;
  return t; }

/* ---- type properties ---- */
const char *value_type_name(uint8_t id);          /* "int", "nvarchar", ... */
int value_type_is_string(uint8_t id);             /* char/varchar/nchar/nvarchar */
int value_type_is_unicode(uint8_t id);            /* nchar/nvarchar */
int value_type_is_binary(uint8_t id);             /* binary/varbinary */
int value_type_is_variable(uint8_t id);           /* varchar/nvarchar/varbinary */
/* Byte capacity of a string/binary type: n, or 2n for n-types; -1 for (max). */
int64_t value_type_max_bytes(const sql_type *t);
/* Storage width of a decimal of precision p: 4 (p<=9), 8 (p<=18) or 16 bytes. */
int value_decimal_width(uint8_t precision);

/* Checks that v is a valid value of type t (range, length, finite float, NaN,
 * off-row only on variable types). 0, or -1 with 8115 (overflow), 8152
 * (truncation) or 40000 (malformed value). NULL is always valid here. */
int value_check(const sql_value *v, const sql_type *t, hdb_err *err);

/* SQL ordering of two values of type t (t NULL: a->type, default collation).
 * NULL sorts lowest and equals NULL (ORDER BY / index semantics, not `=`).
 * Returns <0, 0, >0. Off-row values must be read back (materialised) first. */
int value_compare(const sql_value *a, const sql_value *b, const sql_type *t);

/* ---- collation primitives (shared with keyenc so both agree exactly) ---- */
/* Number of character units of a string after dropping trailing spaces
 * (U+0020 / 0x20 only, as SQL Server pads with spaces when comparing). */
size_t value_str_trimmed_units(const uint8_t *bytes, uint32_t len, int unicode);
/* Sort weight of one unit (Latin-1 byte, or UTF-16 code unit when unicode).
 * Byte strings get weights < 256; space has the lowest weight of all, so
 * "trim then shorter-is-smaller" equals SQL Server's "pad with spaces". */
uint16_t value_coll_weight(uint16_t unit, int unicode, uint16_t collation_flags);

/* ---- calendar helpers ---- */
int32_t value_days_from_ymd(int y, int m, int d);       /* days since 0001-01-01 */
void value_ymd_from_days(int32_t days, int *y, int *m, int *d);

/* Renders v as text (UTF-8) the way SQL Server shows it in messages: numbers
 * plainly, strings unquoted, binary as 0x.., dates as yyyy-mm-dd[ hh:mm:ss[.f]],
 * NULL as <NULL>. snprintf contract: returns the full length, writes at most
 * cap-1 chars plus NUL. */
size_t value_format(const sql_value *v, const sql_type *t, char *buf, size_t cap);

#endif
