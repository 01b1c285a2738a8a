/*
 * parser_corpus.h — batches covering the grammar, shared by the parser's
 * round-trip test (test_parser.c) and the plan cache's variant test
 * (test_plancache.c).
 */
#ifndef HDB_TEST_PARSER_CORPUS_H
#define HDB_TEST_PARSER_CORPUS_H

static const char *const corpus[] = {
    "SELECT TOP (10) PERCENT WITH TIES a FROM t ORDER BY a",
    "SELECT a.x, b.y FROM a INNER JOIN b ON a.id = b.id LEFT OUTER JOIN c ON c.id = b.id CROSS JOIN d",
    "SELECT * FROM a JOIN b JOIN c ON b.x = c.x ON a.y = b.y LEFT JOIN (d CROSS JOIN e) ON 1 = 1",
    "SELECT * FROM (SELECT a FROM t) AS d (x) WHERE EXISTS (SELECT 1 FROM u WHERE u.a = d.x)",
    "SELECT a FROM t UNION ALL SELECT b FROM u UNION SELECT c FROM v EXCEPT SELECT d FROM w "
    "INTERSECT SELECT e FROM x ORDER BY 1",
    "(SELECT TOP 1 a FROM t ORDER BY a) UNION (SELECT b FROM u INTERSECT SELECT c FROM v)",
    "SELECT 1.5e-3, 1e308, $12.5, -$3, 0xABC, N'uni''code 𝄞', 'é', 2147483648, -2147483648, .5, 5., 007.50",
    "SELECT CAST(a AS varchar(10)), CONVERT(datetime2(3), b, 121), TRY_CAST('1' AS int)",
    "SELECT a - (b - c), (a - b) - c, a * (b + c), -(1), - -1, ~a, (a + b) COLLATE x FROM t",
    "SELECT CASE WHEN a = 1 OR b = 2 THEN 1 END, IIF(a = 1 AND b = 1, 1, 0) FROM t "
    "WHERE (a) + 1 > 2 AND a IS NOT NULL AND NOT (a = 1 OR b = 2)",
    "SELECT ROW_NUMBER() OVER (PARTITION BY a ORDER BY b DESC) rn, COUNT(DISTINCT x) FROM t GROUP BY a HAVING SUM(b) > 0",
    "SELECT [a]]b] = 1, 'lbl' = 2, x 'alias' FROM srv.db.dbo.t, db..u",
    "WITH c (a) AS (SELECT 1), d AS (SELECT a FROM c) SELECT * FROM d OPTION (MAXDOP 1, RECOMPILE)",
    "SELECT a FROM t ORDER BY a OFFSET 10 ROWS FETCH NEXT 5 ROWS ONLY",
    "SELECT * INTO #tmp FROM t WITH (NOLOCK, INDEX(ix1)) WHERE a LIKE 'x!%' ESCAPE '!'",
    "SELECT * FROM sys.dm_db_log_info(DB_ID()) AS li CROSS APPLY f(li.x) OUTER APPLY g(1)",
    "INSERT INTO t (a, b) VALUES (1, 'x'), (2, DEFAULT), (-3, NULL)",
    "INSERT t WITH (TABLOCK) OUTPUT inserted.id INTO #o (id) SELECT * FROM u",
    "INSERT INTO t DEFAULT VALUES",
    "INSERT INTO t EXEC dbo.p 1, @p = 'x'",
    "DECLARE @v int; UPDATE TOP (5) t SET a = a + 1, b = DEFAULT, c += 2, @v = d = 3 OUTPUT deleted.* "
    "FROM t JOIN u ON t.id = u.id WHERE u.x = 5 OPTION (RECOMPILE)",
    "DELETE FROM t WHERE a = 1; DELETE t FROM t JOIN u ON t.a = u.a; DELETE TOP (5) PERCENT t",
    "CREATE DATABASE sales CONTAINMENT = NONE ON PRIMARY (NAME = sales_dat, FILENAME = '/tmp/s.mdf', "
    "SIZE = 10MB, MAXSIZE = UNLIMITED, FILEGROWTH = 10%), FILEGROUP fg2 CONTAINS FILESTREAM DEFAULT "
    "(NAME = s2, FILENAME = 'it''s.ndf') LOG ON (NAME = l, FILENAME = 'l.ldf', SIZE = 5MB) "
    "COLLATE Latin1_General_CI_AS WITH TRUSTWORTHY ON",
    "CREATE DATABASE x ON (NAME = a, FILENAME = 'a.mdf') FOR ATTACH_REBUILD_LOG",
    "CREATE DATABASE snap ON (NAME = a, FILENAME = 'a.ss') AS SNAPSHOT OF src",
    "DROP DATABASE IF EXISTS a, b; DROP SCHEMA s; DROP TABLE x.y; TRUNCATE TABLE z",
    "CREATE TABLE dbo.t (id int IDENTITY(1, 1) NOT NULL PRIMARY KEY CLUSTERED WITH (FILLFACTOR = 90) ON fg, "
    "name nvarchar(50) NULL DEFAULT N'x', amount decimal(18, 2) CONSTRAINT df_amt DEFAULT (0) "
    "CHECK (amount >= 0), code char(3) UNIQUE REFERENCES c (code) ON DELETE SET DEFAULT, "
    "total AS amount * 2 PERSISTED, g uniqueidentifier ROWGUIDCOL, s sparse_t SPARSE NULL, "
    "CONSTRAINT uq UNIQUE NONCLUSTERED (name, code DESC), "
    "FOREIGN KEY (code) REFERENCES dbo.c (code) ON DELETE CASCADE ON UPDATE NO ACTION) "
    "ON fg2 TEXTIMAGE_ON fg3 WITH (DATA_COMPRESSION = PAGE)",
    "ALTER TABLE t WITH NOCHECK ADD CONSTRAINT fk FOREIGN KEY (a) REFERENCES u (a); "
    "ALTER TABLE t ADD c int NULL, CONSTRAINT df DEFAULT 0 FOR c; ALTER TABLE t DROP CONSTRAINT IF EXISTS df",
    "CREATE UNIQUE CLUSTERED INDEX ix ON dbo.t (a ASC, b DESC) INCLUDE (c) WHERE a > 0 "
    "WITH (FILLFACTOR = 80, ONLINE = ON) ON fg2; DROP INDEX ix ON t; DROP INDEX t.ix2",
    "CREATE SCHEMA sales AUTHORIZATION dbo CREATE TABLE t (a int) CREATE TABLE u (b int)",
    "USE master; USE [my db]",
    "SET ANSI_NULLS ON; SET QUOTED_IDENTIFIER ON; SET LOCK_TIMEOUT -1; "
    "SET TRANSACTION ISOLATION LEVEL READ UNCOMMITTED; SET DEADLOCK_PRIORITY HIGH; "
    "SET DATEFORMAT dmy; SET LANGUAGE 'us_english'; SET IDENTITY_INSERT t OFF; "
    "SET ANSI_PADDING, ANSI_WARNINGS, CONCAT_NULL_YIELDS_NULL OFF; SET STATISTICS TIME ON; "
    "SET CONTEXT_INFO 0x01",
    "DECLARE @i int = 0, @t TABLE (a int PRIMARY KEY, b nvarchar(max)), @s sysname = N'x'; "
    "WHILE @i < 10 BEGIN SET @i += 1; IF @i = 5 CONTINUE; IF @i = 8 BREAK ELSE PRINT @i END",
    "BEGIN TRY SELECT 1 / 0 END TRY BEGIN CATCH IF @@TRANCOUNT > 0 ROLLBACK; THROW; END CATCH",
    "THROW 50000, 'boom', 1",
    "RAISERROR('x %d', 16, 1, 5) WITH NOWAIT, LOG",
    "BEGIN TRAN; BEGIN TRANSACTION t1 WITH MARK 'desc'; SAVE TRAN sp1; ROLLBACK TRAN sp1; "
    "COMMIT TRAN t1; COMMIT WORK; BEGIN DISTRIBUTED TRAN; ROLLBACK",
    "COMMIT TRANSACTION WITH (DELAYED_DURABILITY = ON)",
    "DECLARE @rc int, @o int; EXEC @rc = p @x = @o OUTPUT, @y = N'z', @z = DEFAULT, @w = bare; "
    "EXEC ('SELECT ' + N'1') AT srv; EXEC sp_who",
    "KILL 53; KILL 'D5499C66-E398-45CA-BF7E-DC9C194B48CF' WITH ROLLBACK; KILL 54 WITH STATUSONLY",
    "SHUTDOWN WITH NOWAIT",
    "CHECKPOINT 5; RECONFIGURE; WAITFOR TIME '22:00'",
    "BACKUP DATABASE db FILEGROUP = 'fg2' TO DISK = 'a.bak', DISK = 'b.bak' MIRROR TO DISK = 'c.bak' "
    "WITH INIT, NAME = 'Full', STATS = 10, COMPRESSION, ENCRYPTION (ALGORITHM = AES_256, "
    "SERVER CERTIFICATE = cert1), EXPIREDATE = '2030-01-01'",
    "BACKUP LOG db TO AdvWorksLog WITH NO_TRUNCATE, NORECOVERY, STANDBY = 'u.dat'",
    "RESTORE LOG db FROM DISK = 'l.trn' WITH STOPBEFOREMARK = 'lsn:12345' AFTER '2024-01-01', "
    "MOVE 'a' TO '/x/a.mdf', REPLACE, STATS = 5, FILESTREAM (DIRECTORY_NAME = d)",
    "RESTORE DATABASE db PAGE = '1:57', FILE = f1 FROM DISK = 'x' WITH NORECOVERY; "
    "RESTORE DATABASE db WITH RECOVERY; RESTORE HEADERONLY FROM DISK = 'x' WITH FILE = 1",
    /* parentheses as an option's value keep their "=" (fuzz find) */
    "RESTORE DATABASE db PAGE = (a); BACKUP DATABASE d TO DISK = 'x' WITH ENCRYPTION = (ALGORITHM = AES_256)",
    "ALTER DATABASE db SET PARTNER = 'TCP://h:5022'; ALTER DATABASE db SET PARTNER SAFETY FULL; "
    "ALTER DATABASE db SET PARTNER TIMEOUT 10; ALTER DATABASE db SET WITNESS = 'TCP://w:5022'",
    "ALTER DATABASE db SET RECOVERY BULK_LOGGED, PAGE_VERIFY CHECKSUM WITH ROLLBACK AFTER 5; "
    "ALTER DATABASE CURRENT SET COMPATIBILITY_LEVEL = 150; ALTER DATABASE db SET CHANGE_TRACKING = ON "
    "(CHANGE_RETENTION = 2 DAYS, AUTO_CLEANUP = ON); ALTER DATABASE db SET TARGET_RECOVERY_TIME = 60 SECONDS",
    "ALTER DATABASE db ADD FILE (NAME = f3, FILENAME = '/x/f3.ndf', SIZE = 8MB, FILEGROWTH = 64MB) "
    "TO FILEGROUP fg3; ALTER DATABASE db MODIFY FILE (NAME = f3, NEWNAME = f4); "
    "ALTER DATABASE db MODIFY FILEGROUP fg3 DEFAULT; ALTER DATABASE db MODIFY FILEGROUP fg3 NAME = fg4; "
    "ALTER DATABASE db ADD FILEGROUP fs CONTAINS FILESTREAM; ALTER DATABASE db COLLATE Latin1_General_BIN",
    "DBCC CHECKDB (db, REPAIR_ALLOW_DATA_LOSS) WITH NO_INFOMSGS, ALL_ERRORMSGS, MAXDOP = 2; DBCC OPENTRAN",
    "SELECT sys.fn_PhysLocFormatter(%%physloc%%), t.%%physloc%%, * FROM t WHERE %%physloc%% = 0x01 % 2; "
    "DBCC IND ('db', 'dbo.t', -1); DBCC PAGE (db, 1, 153, 3) WITH TABLERESULTS, NO_INFOMSGS",
    "SELECT [To](x), [left](a, 1), LEFT('a', 1), USER, [USER](), COALESCE(a, b) FROM [RIGHT](1)",   /* fuzz find */
    "CREATE ENDPOINT m AUTHORIZATION sa STATE = STARTED AS TCP (LISTENER_PORT = 5022, "
    "LISTENER_IP = (10.0.0.1)) FOR DATABASE_MIRRORING (ROLE = ALL, AUTHENTICATION = WINDOWS NEGOTIATE); "
    "ALTER ENDPOINT m STATE = STOPPED; DROP ENDPOINT m",
    /* a table value constructor is kept as UNION ALL of one-row SELECTs */
    "SELECT v.a FROM (VALUES (1, N'x'), (2, N'y'), (3, NULL)) AS v (a, b)",
    /* a reserved word after a dot is a name */
    "SELECT c.precision, c.scale, s.[key] FROM sys.columns AS c, s",
    /* a bare word after LISTENER_IP prints without the parentheses of "= (...)" */
    "ALTER DATABASE db SET LISTENER_IP someWord",
    /* a [quoted] option word prints quoted again */
    "ALTER DATABASE CURRENT SET COMPATIBILIT [my db]",
    /* a [bracketed] collation name holding spaces (and COLLATE) prints bracketed */
    "SELECT a COLLATE [Latin1 COLLATE x] AS t, b COLLATE Latin1_General_CI_AS FROM t",
    "CREATE PROCEDURE dbo.p @a int, @b varchar(10) = 'x', @c int OUT, @t tt READONLY "
    "WITH EXECUTE AS OWNER, RECOMPILE AS BEGIN SET NOCOUNT ON; SELECT @a, @b; SET @c = 1; RETURN 0 END",
    "lbl: PRINT 1; IF 1 = 0 GOTO lbl",
    "IF NOT EXISTS (SELECT * FROM sys.databases WHERE name = 'x') CREATE DATABASE x ELSE PRINT 'exists'",
};

#endif
