-- marked transactions: naming rules, nesting, repeated marks, logmarkhistory
CREATE DATABASE mk1
GO
CREATE DATABASE mk2
GO
CREATE TABLE mk1.dbo.t (id int PRIMARY KEY)
CREATE TABLE mk2.dbo.t (id int PRIMARY KEY)
GO
-- a name longer than 32 characters is refused; LSN: is reserved
BEGIN TRAN abcdefghij_abcdefghij_abcdefghij_x WITH MARK
GO
BEGIN TRAN [LSN:12] WITH MARK
GO
SELECT @@TRANCOUNT AS none_open
GO
-- a mark nested in an unmarked transaction names the mark; a second WITH MARK is ignored (3920, INFO)
BEGIN TRAN outer_name
INSERT INTO mk1.dbo.t VALUES (1)
BEGIN TRAN inner_mark WITH MARK 'nested mark'
SELECT name FROM sys.dm_tran_active_transactions WHERE name IN ('inner_mark', 'outer_name')
GO
BEGIN TRAN another WITH MARK 'ignored'
GO
INSERT INTO mk2.dbo.t VALUES (1)
COMMIT
COMMIT
COMMIT
SELECT @@TRANCOUNT AS closed
GO
-- a variable's name is cut to 32 characters; the description to 128
DECLARE @n nvarchar(100) = N'm_' + REPLICATE(N'x', 60)
BEGIN TRAN @n WITH MARK '0123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789 cut'
INSERT INTO mk1.dbo.t VALUES (2)
COMMIT
GO
-- the same name again: marks need not be unique
BEGIN TRAN inner_mark WITH MARK
INSERT INTO mk1.dbo.t VALUES (3)
COMMIT TRAN inner_mark
GO
-- rolled back, or changing nothing: no mark
BEGIN TRAN gone WITH MARK 'rolled back'
INSERT INTO mk1.dbo.t VALUES (4)
ROLLBACK
GO
BEGIN TRAN readonly_mark WITH MARK
SELECT COUNT(*) AS n FROM mk1.dbo.t
COMMIT
GO
SELECT database_name, mark_name, LEFT(description, 20) AS description, LEN(description) AS len, user_name, CASE WHEN lsn > 0 THEN 'yes' END AS has_lsn,
       CASE WHEN mark_time > DATEADD(hour, -1, GETDATE()) THEN 'yes' END AS recent
FROM msdb.dbo.logmarkhistory WHERE database_name IN ('mk1', 'mk2') ORDER BY lsn, database_name
GO
-- one mark in two databases: the same mark, one LSN per database
SELECT COUNT(DISTINCT database_name) AS dbs FROM msdb.dbo.logmarkhistory
WHERE mark_name = 'inner_mark' AND description = 'nested mark'
GO
-- what the marks cost: hadrdb's counters in sys.dm_os_performance_counters
SELECT counter_name, CASE WHEN cntr_value > 0 THEN 'counted' ELSE 'zero' END AS v
FROM sys.dm_os_performance_counters WHERE object_name = 'hadrdb:Transactions' ORDER BY counter_name
GO
DROP DATABASE mk1
DROP DATABASE mk2
GO
