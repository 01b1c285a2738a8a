/*
 * msgtab.c — the one table of message texts, keyed by SQL Server error number.
 * Formats are printf-style; arguments are documented next to each entry.
 * Texts follow SQL Server's wording (sys.messages) so DBAs recognise them.
 */
#include "util/err.h"

#include <stddef.h>

struct msg { int number; int severity; const char *fmt; };

static const struct msg msgs[] = {
    /* (os error text, "read"/"write", offset, file) */
    { 823, 24, "The operating system returned error %s to SQL Server during a %s at offset "
               "%#016llx in file '%s'. Additional messages in the SQL Server error log and "
               "system event log may provide more detail. This is a severe system-level error "
               "condition that threatens database integrity and must be corrected immediately. "
               "Complete a full database consistency check (DBCC CHECKDB)." },
    /* (detail, "read"/"write", file id, page no, database id, offset, file) */
    { 824, 24, "SQL Server detected a logical consistency-based I/O error: %s. It occurred "
               "during a %s of page (%u:%u) in database ID %d at offset %#016llx in file '%s'.  "
               "Additional messages in the SQL Server error log or system event log may provide "
               "more detail. This is a severe error condition that threatens database integrity "
               "and must be corrected immediately. Complete a full database consistency check "
               "(DBCC CHECKDB)." },
    /* (database id, file id, page no). SQL Server gives it severity 21, which
     * here would end the connection (ex_handle_error); a page being restored
     * is not a damaged session, so the statement fails and the connection
     * stays, as the page restore's readers need. */
    { 829, 16, "Database ID %d, Page (%u:%u) is marked RestorePending, which may indicate disk "
               "corruption. To recover from this state, perform a restore." },
    /* (object, database, filegroup) */
    { 1105, 17, "Could not allocate space for object '%s' in database '%s' because the '%s' "
                "filegroup is full. Create disk space by deleting unneeded files, dropping "
                "objects in the filegroup, adding additional files to the filegroup, or setting "
                "autogrowth on for existing files in the filegroup." },
    { 802, 17, "There is insufficient memory available in the buffer pool." },
    /* (logical file name) */
    { 1828, 16, "The logical file name \"%s\" is already in use. Choose a different name." },
    /* (session id) */
    { 1205, 13, "Transaction (Process ID %d) was deadlocked on lock resources with another "
                "process and has been chosen as the deadlock victim. Rerun the transaction." },
    { 1222, 16, "Lock request time out period exceeded." },
    /* (key value text, object name) */
    { 2627, 14, "Violation of PRIMARY KEY constraint '%s'. Cannot insert duplicate key in "
                "object '%s'. The duplicate key value is %s." },
    /* (index name, object name, key text) */
    { 2601, 14, "Cannot insert duplicate key row in object '%s' with unique index '%s'. "
                "The duplicate key value is %s." },
    /* (object name) */
    { 208, 16, "Invalid object name '%s'." },
    /* (object name) */
    { 2714, 16, "There is already an object named '%s' in the database." },
    /* (database name) */
    { 1801, 16, "Database '%s' already exists. Choose a different database name." },
    /* (database name) */
    { 911, 16, "Database '%s' does not exist. Make sure that the name is entered correctly." },
    /* (database name, reason) */
    { 9002, 17, "The transaction log for database '%s' is full due to '%s'." },
    /* (database name) */
    { 9001, 21, "The log for database '%s' is not available. Check the operating system "
                "error log for related error messages. Resolve any errors and restart the "
                "database." },
    /* (database name) */
    { 9004, 21, "An error occurred while processing the log for database '%s'. If possible, "
                "restore from backup. If a backup is not available, it might be necessary to "
                "rebuild the log." },
    { 3902, 16, "The COMMIT TRANSACTION request has no corresponding BEGIN TRANSACTION." },
    { 3903, 16, "The ROLLBACK TRANSACTION request has no corresponding BEGIN TRANSACTION." },
    /* (savepoint name) */
    { 6401, 16, "Cannot roll back %s. No transaction or savepoint of that name was found." },
    /* (database name, detail) */
    { 3314, 21, "During undoing of a logged operation in database '%s', an error occurred at "
                "log record ID %s. Typically, the specific failure is logged previously as an "
                "error in the Windows Event Log service. Restore the database or file from a "
                "backup, or repair the database." },
    /* (log record id, database name) */
    { 3313, 21, "During redoing of a logged operation in database '%s', an error occurred at "
                "log record ID %s. Typically, the specific failure is previously logged as an "
                "error in the Windows Event Log service. Restore the database from a full "
                "backup, or repair the database." },
    /* (database name) */
    { 3930, 16, "The current transaction cannot be committed and cannot support operations "
                "that write to the log file. Roll back the transaction." },
    /* (what) */
    { 5120, 16, "Unable to open the physical file \"%s\". Operating system error %d: \"%s\"." },
    /* (size, max) */
    { 511, 16, "Cannot create a row of size %d which is greater than the allowable maximum "
               "row size of %d." },
    /* (detail) */
    { 40000, 16, "%s" },

    /* ---- CREATE DATABASE with files, FOR ATTACH, sp_detach_db (engine/attach.c) ---- */
    /* (database) */
    { 1813, 16, "Could not open new database '%s'. CREATE DATABASE is aborted." },
    { 1802, 16, "CREATE DATABASE failed. Some file names listed could not be created. Check related errors." },
    /* (path) */
    { 5170, 16, "Cannot create file '%s' because it already exists. Change the file path or the file name, "
                "and retry the operation." },
    /* (path, OS errno, OS error text) */
    { 5133, 16, "Directory lookup for the file \"%s\" failed with the operating system error %d(%s)." },
    /* (OS errno, OS error text, path) */
    { 5123, 16, "CREATE FILE encountered operating system error %d(%s) while attempting to open or create "
                "the physical file '%s'." },
    /* (logical file name) */
    { 1545, 16, "MAXSIZE cannot be less than SIZE for file '%s'." },
    /* (path) */
    { 5171, 16, "%s is not a primary database file." },
    { 5173, 16, "One or more files do not match the primary file of the database. If you are attempting to "
                "attach a database, retry the operation with the correct files.  If this is an existing "
                "database, the file may be corrupted and should be restored from a backup." },
    /* (path) */
    { 5172, 16, "The header for file '%s' is not a valid database file header." },
    /* (database) */
    { 3703, 16, "Cannot detach the database '%s' because it is currently in use." },
    { 3707, 16, "Cannot detach a suspect or recovery pending database. It must be repaired or dropped." },
    { 7940, 16, "System databases master, model, msdb, and tempdb cannot be detached." },
    /* (database) */
    { 15010, 16, "The database '%s' does not exist. Supply a valid database name. To see available "
                 "databases, use sys.databases." },

    /* ---- backup media (backup/media*.c) ---- */
    /* (device) */
    { 3241, 16, "The media family on device '%s' is incorrectly formed. SQL Server cannot "
                "process this media family." },
    /* (device) */
    { 3254, 16, "The volume on device '%s' is empty." },
    { 3189, 16, "Damage to the backup set was detected." },
    /* (device) */
    { 3256, 16, "The backup set on device '%s' was terminated while it was being created and "
                "is incomplete. RESTORE sequence is terminated abnormally." },
    /* (device) */
    { 3266, 16, "The backup data at the end of \"%s\" is incorrectly formatted. Backup sets on "
                "the media might be damaged and unusable. To determine the backup sets on the "
                "media, use RESTORE HEADERONLY. To determine the usability of the backup sets, "
                "run RESTORE VERIFYONLY. If all of the backup sets are incomplete, reformat the "
                "media using BACKUP WITH FORMAT, which destroys all the backup sets." },
    /* (backup set position, device) */
    { 4038, 16, "Cannot find file ID %d on device '%s'." },
    { 3270, 16, "An internal consistency error has occurred. This error is similar to an "
                "assert. Contact technical support for assistance." },

    /* ---- BACKUP / RESTORE statements, recovery models (sql/exec_backup*.c) ---- */
    /* ("BACKUP DATABASE", "RESTORE LOG", ...) */
    { 3013, 16, "%s is terminating abnormally." },
    /* (database) a standby between restores (engine/readonly.c) */
    { 3906, 16, "Failed to update database \"%s\" because the database is read-only." },
    /* (statement, pages, seconds, MB/sec) */
    { 3014, 10, "%s successfully processed %llu pages in %.3f seconds (%.3f MB/sec)." },
    /* (pages, database, logical file, backup set position) */
    { 4035, 10, "Processed %llu pages for database '%s', file '%s' on file %d." },
    /* (percent) */
    { 3211, 10, "%d percent processed." },
    /* (backup set position) */
    { 3262, 10, "The backup set on file %d is valid." },
    /* (device, OS errno, OS error text) */
    { 3201, 16, "Cannot open backup device '%s'. Operating system error %d(%s)." },
    /* (device, expiration date as 'Mon dd yyyy hh:mi:ss:mmmAM') BACKUP WITH INIT, NOSKIP */
    { 4030, 16, "The medium on device '%s' expires on %s and cannot be overwritten." },
    /* (device name) */
    { 3206, 16, "No entry in sysdevices for backup device '%s'. Update sysdevices and rerun statement." },
    { 3021, 16, "Cannot perform a backup or restore operation within a transaction." },
    { 3147, 16, "Backup and restore operations are not allowed on database tempdb." },
    { 4208, 16, "The statement BACKUP LOG is not allowed while the recovery model is SIMPLE. "
                "Use BACKUP DATABASE or change the recovery model using ALTER DATABASE." },
    { 4212, 16, "Cannot back up the log of the master database. Use BACKUP DATABASE instead." },
    { 4214, 16, "BACKUP LOG cannot be performed because there is no current database backup." },
    /* (database) */
    { 927, 14, "Database '%s' cannot be opened. It is in the middle of a restore." },
    /* (database) */
    { 262, 14, "BACKUP DATABASE permission denied in database '%s'." },
    /* (database) */
    { 3110, 14, "User does not have permission to RESTORE database '%s'." },
    { 3187, 16, "RESTORE WITH CHECKSUM cannot be specified because the backup set does not "
                "contain checksum information." },
    /* (device name) */
    { 15026, 16, "Logical device '%s' already exists." },
    /* (device name) */
    { 15012, 16, "The device '%s' does not exist. Use sp_helpdevice to show available devices." },
    /* (device type) */
    { 15044, 16, "'%s' is an unknown device type. Use 'disk', 'tape', or 'virtual_device'." },

    /* ---- T-SQL parse errors (sql/parser*.c); severity 15 like SQL Server's ---- */
    /* (token text as written; strings and [names] without their quotes) */
    { 102, 15, "Incorrect syntax near '%s'." },
    /* (keyword as written) */
    { 156, 15, "Incorrect syntax near the keyword '%s'." },
    /* (text after the opening quote) */
    { 105, 15, "Unclosed quotation mark after the character string '%s'." },
    { 113, 15, "Missing end comment mark '*/'." },
    /* ("identifier", length of the prefix shown, text, maximum) */
    { 103, 15, "The %s that starts with '%.*s' is too long. Maximum length is %d." },
    { 1038, 15, "An object or column name is missing or empty. For SELECT INTO statements, "
                "verify each column has a name. For other statements, look for empty alias "
                "names. Aliases defined as \"\" or [] are not allowed. Change the alias to a "
                "valid name." },
    /* (token after the expression) */
    { 4145, 15, "An expression of non-boolean type specified in a context where a condition "
                "is expected, near '%s'." },
    /* ("CREATE SCHEMA", "CREATE/ALTER PROCEDURE", ...) */
    { 111, 15, "'%s' must be the first statement in a query batch." },
    /* ("object", length, name as written, maximum prefixes) */
    { 117, 15, "The %s name '%.*s' contains more than the maximum number of prefixes. "
               "The maximum is %d." },
    /* (size, "type", type name, maximum) */
    { 131, 15, "The size (%d) given to the %s '%s' exceeds the maximum allowed for any "
               "data type (%d)." },
    /* (line, length) */
    { 1001, 15, "Line %d: Length or precision specification %d is invalid." },
    /* (line, scale) */
    { 1002, 15, "Line %d: Specified scale %d is invalid." },
    /* (ordinal, precision, maximum) */
    { 2750, 16, "Column or parameter #%d: Specified column precision %d is greater than the "
                "maximum precision of %d." },
    /* (ordinal, scale, precision) */
    { 2751, 16, "Column or parameter #%d: Specified column scale %d is greater than the "
                "specified precision of %d." },
    /* (ordinal, type name) */
    { 2716, 16, "Column, parameter, or variable #%d: Cannot specify a column width on data "
                "type %s." },
    /* (number as written) */
    { 1007, 15, "The number '%s' is out of the range for numeric representation (maximum "
                "precision 38)." },
    /* (type name) */
    { 8115, 16, "Arithmetic overflow error converting expression to data type %s." },
    /* (option as written, statement: "BACKUP", "RESTORE", ...) */
    { 155, 15, "'%s' is not a recognized %s option." },
    /* (option as written) */
    { 195, 15, "'%s' is not a recognized SET option." },
    /* (hint as written) */
    { 321, 15, "%s is not a recognized table hints option. If it is intended as a parameter "
               "to a table-valued function or to the CHANGETABLE function, ensure that your "
               "database compatibility mode is set to 90." },
    { 319, 15, "Incorrect syntax near the keyword 'with'. If this statement is a common table "
               "expression, an xmlnamespaces clause or a change tracking context clause, the "
               "previous statement must be terminated with a semicolon." },
    { 10704, 15, "To rethrow an error, a THROW statement must be used inside a CATCH block. "
                 "Insert the THROW statement inside a CATCH block, or add error parameters to "
                 "the THROW statement." },
    { 10738, 15, "The number of row value expressions in the INSERT statement exceeds the "
                 "maximum allowed number of 1000 row values." },
    { 10741, 15, "A TOP can not be used in the same query or sub-query as a OFFSET." },
    { 10709, 15, "The number of columns for each row in a table value constructor must be the same." },
    { 191, 15, "Some part of your SQL statement is nested too deeply. Rewrite the query or "
               "break it up into smaller queries." },
    /* (variable) */
    { 137, 15, "Must declare the scalar variable \"%s\"." },
    /* (variable) */
    { 1087, 15, "Must declare the table variable \"%s\"." },
    /* (variable) */
    { 134, 15, "The variable name '%s' has already been declared. Variable names must be "
               "unique within a query batch or stored procedure." },
    /* (label) */
    { 132, 15, "The label '%s' has already been declared. Label names must be unique within "
               "a query batch or stored procedure." },
    /* (label) */
    { 133, 15, "A GOTO statement references the label '%s' but the label has not been "
               "declared." },
    { 135, 15, "Cannot use a BREAK statement outside the scope of a WHILE statement." },
    { 136, 15, "Cannot use a CONTINUE statement outside the scope of a WHILE statement." },
    { 3901, 16, "WITH MARK option only applies to named transactions." },
    /* (resource pool) */
    { 701, 17, "There is insufficient system memory in resource pool '%s' to run this query." },

    /* ---- database states (engine/dbstate.h, sql/exec_dbstate.c); each (database) */
    { 942, 14, "Database '%s' cannot be opened because it is offline." },
    { 926, 14, "Database '%s' cannot be opened. It has been marked SUSPECT by recovery. See the SQL "
               "Server errorlog for more information." },
    { 945, 14, "Database '%s' cannot be opened due to inaccessible files or insufficient memory or "
               "disk space.  See the SQL Server errorlog for details." },
    { 924, 14, "Database '%s' is already open and can only have one user at a time." },
    { 923, 14, "Database '%s' is in restricted mode. Only the database owner and members of the "
               "dbcreator and sysadmin roles can access it." },
    { 922, 14, "Database '%s' is being recovered. Waiting until recovery is finished." },
    { 5070, 16, "Database state cannot be changed while other users are using the database '%s'" },
    { 5061, 16, "ALTER DATABASE failed because a lock could not be placed on database '%s'. Try "
                "again later." },

    /* ---- DBCC CHECKDB / CHECKTABLE / CHECKALLOC (engine/dbcc_check.c). "(obj)" is
     * "Object ID o, index ID i, partition ID p, alloc unit ID a (type In-row data)";
     * pages are (file, page) pairs of %u. */
    /* (object or database name) */
    { 2536, 10, "DBCC results for '%s'." },
    /* (rows, pages, object name) */
    { 2593, 10, "There are %llu rows in %llu pages for object \"%s\"." },
    /* (command, allocation errors, consistency errors, database) */
    { 8989, 10, "%s found %d allocation errors and %d consistency errors in database '%s'." },
    /* (command, allocation errors, consistency errors, table, object id) */
    { 8990, 10, "%s found %d allocation errors and %d consistency errors in table '%s' (object ID %u)." },
    /* (command, allocation errors, consistency errors) */
    { 8954, 10, "%s found %d allocation errors and %d consistency errors not associated with any single "
                "object." },
    /* (repair level, command, target) */
    { 8958, 10, "%s is the minimum repair level for the errors found by DBCC %s (%s)." },
    { 2528, 10, "DBCC execution completed. If DBCC printed error messages, contact your system "
                "administrator." },
    /* (obj, page) */
    { 8928, 16, "%s: Page (%u:%u) could not be processed.  See other errors for details." },
    /* (obj, page, test, value, value) */
    { 8939, 16, "Table error: %s, page (%u:%u). Test (%s) failed. Values are %lld and %lld." },
    /* (obj, page, row, test, value, value) */
    { 8944, 16, "Table error: %s, page (%u:%u), row %d. Test (%s) failed. Values are %lld and %lld." },
    /* (obj, page, page found in its header) */
    { 8909, 16, "Table error: %s, page ID (%u:%u) contains an incorrect page ID in its page header. The "
                "PageId in the page header = (%u:%u)." },
    /* (obj, page, parent, previous) */
    { 8976, 16, "Table error: %s. Page (%u:%u) was not seen in the scan although its parent (%u:%u) and "
                "previous (%u:%u) refer to it. Check any previous errors." },
    /* (obj, page, previous) */
    { 8978, 16, "Table error: %s. Page (%u:%u) is missing a reference from previous page (%u:%u). Possible "
                "chain linkage problem." },
    /* (obj, prev link, page, expected previous, parent, slot) */
    { 8935, 16, "Table error: %s. The previous link (%u:%u) on page (%u:%u) does not match the previous "
                "page (%u:%u) that the parent (%u:%u), slot %d expects for this page." },
    /* (obj, page, next, next) */
    { 8981, 16, "Table error: %s. The next pointer of (%u:%u) refers to page (%u:%u). Neither (%u:%u) nor "
                "its parent were encountered. Possible bad chain linkage." },
    /* (obj, page, slot, slot) */
    { 2511, 16, "Table error: %s. Keys out of order on page (%u:%u), slots %d and %d." },
    /* (obj, page, level, parent, slot) */
    { 8933, 16, "Table error: %s. The low key value on page (%u:%u) (level %d) is not >= the key value in "
                "the parent (%u:%u) slot %d." },
    /* (obj, page, level, parent, slot, next page) */
    { 8934, 16, "Table error: %s. The high key value on page (%u:%u) (level %d) is not less than the low "
                "key value in the parent (%u:%u), slot %d of the next page (%u:%u)." },
    /* (obj, page, parent, slot) */
    { 8937, 16, "Table error: %s. B-tree page (%u:%u) has two parent nodes; the second is (%u:%u), slot %d." },
    /* (page, object id, index id, partition id, partition id) */
    { 2533, 16, "Table error: page (%u:%u) allocated to object ID %u, index ID %d, partition ID %llu, alloc "
                "unit ID %llu (type In-row data) was not seen. The page may be invalid or may have an "
                "incorrect alloc unit ID in its header." },
    /* (page, database id, allocation page, page type) */
    { 8906, 16, "Page (%u:%u) in database ID %u is allocated in the allocation map (%u:%u), but was not "
                "allocated to any object. Page type %d." },
    /* (allocation page, kind, type) */
    { 8946, 16, "Table error: Allocation page (%u:%u) has invalid %s page header values. Type is %d. Check "
                "type, alloc unit ID and page ID on the page." },
    /* (database id, first page, last page) */
    { 8998, 16, "Page errors on the allocation map pages prevent allocation integrity checks in database ID "
                "%u pages from (%u:%u) to (%u:%u). See other errors for cause." },
    /* (obj, page, text id) */
    { 8964, 16, "Table error: %s. The off-row data node at page (%u:%u), slot 0, text ID %llu is not "
                "referenced." },
    /* (obj, page, text id, referencing page, slot) */
    { 8965, 16, "Table error: %s. The off-row data node at page (%u:%u), slot 0, text ID %llu is referenced "
                "by page (%u:%u), slot %d, but was not seen in the scan." },
    /* (obj, text id, page, slot) */
    { 8929, 16, "%s: Errors found in off-row data with ID %llu owned by data record identified by RID = "
                "(%u:%u:%d)" },
    /* (table, object id, index, index id) */
    { 8951, 16, "Table error: table '%s' (ID %u). Data row does not have a matching index row in the index "
                "'%s' (ID %d). Possible missing or invalid keys for the index row matching:" },
    /* (page, slot, row identity, index values) */
    { 8955, 16, "Data row (%u:%u:%d) identified by (%s) with index values '%s'." },
    /* (table, object id, index, index id) */
    { 8952, 16, "Table error: table '%s' (ID %u). Index row in index '%s' (ID %d) does not match any data "
                "row. Possible extra or invalid keys for:" },
    /* (page, slot, index values, row identity) */
    { 8956, 16, "Index row (%u:%u:%d) with values (%s) pointing to the data row identified by (%s)." },
    { 7919, 16, "Repair statement not processed. Database needs to be in single user mode." },
    { 7929, 16, "Check statement aborted. Database contains deferred transactions." },
    /* (database) */
    { 2520, 16, "Could not find database '%s'. The database either does not exist, or was dropped before a "
                "statement tried to use it. Verify if the database exists by querying the sys.databases "
                "catalog view." },
    /* (object) */
    { 2501, 16, "Cannot find a table or object with the name '%s'. Check the system catalog." },
    /* repairs: (page, obj) */
    { 7910, 10, "Repair: Page (%u:%u) has been allocated to %s." },
    { 7911, 10, "Repair: Page (%u:%u) has been deallocated from %s." },
    /* (obj) */
    { 8945, 16, "Table error: %s will be rebuilt." },
    /* (index kind, object, database) */
    { 7912, 10, "Repair: The %s index successfully rebuilt for the object \"%s\" in database \"%s\"." },
    /* (rows, object, object id) */
    { 7913, 10, "Repair: %llu rows of object \"%s\" (object ID %u) were lost." },
    /* (command, allocation errors, consistency errors, table, object id) */
    { 8949, 10, "%s fixed %d allocation errors and %d consistency errors in table '%s' (object ID %u)." },
    /* (command, allocation errors, consistency errors) */
    { 8950, 10, "%s fixed %d allocation errors and %d consistency errors not associated with any single "
                "object." },
    /* (command, allocation errors, consistency errors, database) */
    { 8912, 10, "%s fixed %d allocation errors and %d consistency errors in database '%s'." },
    { 7909, 16, "The emergency-mode repair failed.You must restore from backup." },
};

const char *hdb_msg_format(int number, int *severity)
{
    for (size_t i = 0; i < sizeof msgs / sizeof msgs[0]; i++) {
        if (msgs[i].number == number) {
            if (severity)
                *severity = msgs[i].severity;
            return msgs[i].fmt;
        }
    }
    return NULL;
}
