/*
 * row.h — the stored row format (after SQL Server's FixedVar format).
 *
 * All integers little-endian. Offsets are from the start of the row.
 *
 *   off  size            field
 *     0  1               version     ROW_FORMAT_VERSION
 *     1  1               flags       0 (reserved)
 *     2  2               ncols       columns stored in this row
 *     4  2               var_off     offset of the variable section (= end of the
 *                                    fixed area); lets a reader that knows fewer
 *                                    columns than the row has find it
 *     6  ceil(ncols/8)   null bitmap bit i (byte i/8, bit i%8) set = column i NULL
 *        sum(fixed)      fixed area  every fixed-length column in column order,
 *                                    at its full width, zeroed when NULL
 *   var_off  2           nvar        variable columns with an offset entry; trailing
 *                                    NULL variable columns are left out
 *        2*nvar          offsets     per variable column (column order): bits 0..14 =
 *                                    end offset of its data, bit 15 = stored off-row
 *        ...             var data    data of variable columns back to back; an off-row
 *                                    column holds a 16-byte pointer instead:
 *                                    u64 first overflow page id, u64 total length
 *
 * Fixed widths: tinyint/bit 1, smallint 2, int/smallmoney/real 4, bigint/money/
 * float 8, decimal 4/8/16 by precision (<=9, <=18, <=38), date 3, time 5,
 * datetime 8 (i32 days since 1900 + u32 ticks), datetime2 8 (3 days + 5 ticks),
 * uniqueidentifier 16, char(n)/binary(n) n bytes and nchar(n) 2n bytes, padded
 * with spaces / 0x00 as SQL Server does (so they decode padded).
 * Variable: varchar, nvarchar, varbinary (including (max)).
 *
 * Schema evolution: columns are only ever appended. A row stored with fewer
 * columns than the schema decodes the missing trailing columns as NULL (the
 * caller substitutes a default if the column has one); a row with more columns
 * than the caller asks for decodes just the first ncols.
 *
 * Size: the in-row size may not exceed ROW_MAX_INROW (8060, SQL Server's limit;
 * error 511). The caller (B+tree) decides which variable columns go off-row —
 * row_inrow_size tells it the size, value_offrow() marks a column as a pointer.
 */
#ifndef HDB_ACCESS_ROW_H
#define HDB_ACCESS_ROW_H

#include <stddef.h>
#include <stdint.h>

#include "access/value.h"
#include "util/err.h"

#define ROW_FORMAT_VERSION  1
#define ROW_HEADER_SIZE     6
#define ROW_MAX_INROW       8060
#define ROW_OFFROW_PTR_SIZE 16
#define ROW_MAX_COLUMNS     1024
#define ROW_VAR_OFFROW_BIT  0x8000u

/* Bytes a fixed-length column takes in the fixed area; 0 for variable types. */
size_t row_type_fixed_size(const sql_type *t);

/* Size of the encoded row (off-row values count as their 16-byte pointer). */
size_t row_inrow_size(const sql_value *vals, const sql_type *types, int ncols);

/* Encodes ncols values (types[i] is column i's type) into out[0..cap).
 * Values are checked (value_check: 8115/8152); values flagged VALUE_F_OFFROW are
 * stored as pointers. Fails with 511 when the row would exceed ROW_MAX_INROW,
 * 40000 when cap is too small. Returns 0 and sets *len. */
int row_encode(const sql_value *vals, const sql_type *types, int ncols,
               uint8_t *out, size_t cap, size_t *len, hdb_err *err);

/* Decodes columns 0..ncols-1. Values point into `row` (keep it alive); string,
 * binary and char(n) values get bytes/len, off-row columns come back with
 * VALUE_F_OFFROW set, u.offrow filled and bytes/len covering the 16-byte pointer.
 * Returns 0, or -1 if the row is malformed (bad version or offsets). */
int row_decode(const uint8_t *row, size_t len, const sql_type *types, int ncols,
               sql_value *out_vals);

/* Decodes one column (types[0..col] are needed to locate it). 0 or -1. */
int row_get_column(const uint8_t *row, size_t len, const sql_type *types, int col,
                   sql_value *out);

/* 1 if variable column `col` is stored off-row, 0 if not (or not variable,
 * NULL, or absent), -1 if the row is malformed. */
int row_var_column_is_offrow(const uint8_t *row, size_t len, const sql_type *types, int col);

/* Number of columns physically stored in the row, or -1 if malformed. */
int row_column_count(const uint8_t *row, size_t len);

#endif
