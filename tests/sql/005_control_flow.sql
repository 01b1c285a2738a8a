-- variables, control flow, TRY/CATCH, THROW, RAISERROR, batch-abort rules
DECLARE @i int = 0, @s varchar(50) = ''
WHILE @i < 5
BEGIN
  SET @i += 1
  IF @i = 2 CONTINUE
  IF @i = 4 BREAK
  SET @s = @s + CAST(@i AS varchar(5)) + ','
END
SELECT @i AS i, @s AS s
GO
DECLARE @n int
SELECT @n = COUNT(*) FROM sys.databases
IF @n >= 2 SELECT 'at least master and msdb' AS ok ELSE SELECT 'missing system databases' AS ok
GO
BEGIN TRY
  SELECT 1 / 0 AS never
END TRY
BEGIN CATCH
  SELECT ERROR_NUMBER() AS num, ERROR_SEVERITY() AS sev, ERROR_STATE() AS st, ERROR_LINE() AS line, ERROR_MESSAGE() AS msg
END CATCH
GO
BEGIN TRY
  THROW 50001, 'custom failure', 3
END TRY
BEGIN CATCH
  SELECT ERROR_NUMBER() AS num, ERROR_STATE() AS st, ERROR_MESSAGE() AS msg
END CATCH
GO
BEGIN TRY
  RAISERROR('value %d of %s', 16, 2, 7, 'seven')
END TRY
BEGIN CATCH
  SELECT ERROR_NUMBER() AS num, ERROR_SEVERITY() AS sev, ERROR_MESSAGE() AS msg
END CATCH
GO
BEGIN TRY
  BEGIN TRY
    SELECT CAST('x' AS int)
  END TRY
  BEGIN CATCH
    THROW
  END CATCH
END TRY
BEGIN CATCH
  SELECT 'rethrown' AS what, ERROR_NUMBER() AS num
END CATCH
GO
SELECT ERROR_NUMBER() AS outside_catch
GO
THROW 50002, 'thrown to the client', 1
GO
RAISERROR('sev 16 to the client', 16, 1)
GO
-- a statement-level error lets the batch go on; the rows after it appear
CREATE TABLE #t (id int PRIMARY KEY)
INSERT INTO #t VALUES (1)
INSERT INTO #t VALUES (1)
SELECT COUNT(*) AS after_dup FROM #t
GO
SELECT COUNT(*) AS still_one FROM #t
GO
-- a conversion error aborts the batch: the SELECT after it never runs
DECLARE @x int = CAST('nope' AS int)
SELECT 'not reached' AS r
GO
-- XACT_ABORT ON turns a statement error into a batch abort with rollback
SET XACT_ABORT ON
BEGIN TRAN
INSERT INTO #t VALUES (2)
INSERT INTO #t VALUES (2)
SELECT 'not reached' AS r
GO
SELECT @@TRANCOUNT AS tc, COUNT(*) AS rows_left FROM #t
SET XACT_ABORT OFF
GO
DECLARE @v nvarchar(10) = N'abc'
SELECT @v AS v, @@ROWCOUNT AS rc
SELECT @@ROWCOUNT AS rc_after
GO
SELECT @undeclared
GO
DECLARE @d int
DECLARE @d int
GO
IF 1 = 1
  PRINT 'printed'
ELSE
  SELECT 'else' AS e
SELECT @@ERROR AS err
GO
DROP TABLE #t
GO
