-- catalog views and DMVs a DBA reaches for
CREATE DATABASE cat1
GO
USE cat1
GO
CREATE SCHEMA sales
GO
CREATE TABLE sales.orders (id int IDENTITY PRIMARY KEY, customer nvarchar(50) NOT NULL, amount money NULL,
                           placed datetime2(3) NOT NULL DEFAULT SYSDATETIME(), note varchar(max) NULL)
CREATE INDEX ix_orders_customer ON sales.orders (customer)
CREATE TABLE dbo.plain (a int NOT NULL, b char(3) NULL)
GO
SELECT name, state_desc, recovery_model_desc, log_reuse_wait_desc, is_read_only FROM sys.databases
WHERE name IN ('master', 'msdb', 'cat1') ORDER BY database_id
GO
SELECT s.name AS sch, t.name AS tbl, t.type, t.type_desc FROM sys.tables t JOIN sys.schemas s ON s.schema_id = t.schema_id
ORDER BY s.name, t.name
GO
SELECT c.column_id, c.name, TYPE_NAME(c.user_type_id) AS type, c.max_length, c.precision, c.scale, c.is_nullable, c.is_identity
FROM sys.columns c WHERE c.object_id = OBJECT_ID('sales.orders') ORDER BY c.column_id
GO
SELECT name, type_desc, is_primary_key, is_unique FROM sys.indexes WHERE object_id = OBJECT_ID('sales.orders') ORDER BY index_id
GO
SELECT name, type, type_desc FROM sys.objects WHERE schema_id = SCHEMA_ID('sales') AND type IN ('U', 'PK') ORDER BY type DESC
GO
SELECT TABLE_CATALOG, TABLE_SCHEMA, TABLE_NAME, TABLE_TYPE FROM INFORMATION_SCHEMA.TABLES ORDER BY TABLE_SCHEMA, TABLE_NAME
GO
SELECT COLUMN_NAME, ORDINAL_POSITION, IS_NULLABLE, DATA_TYPE, CHARACTER_MAXIMUM_LENGTH, NUMERIC_PRECISION
FROM INFORMATION_SCHEMA.COLUMNS WHERE TABLE_NAME = 'orders' ORDER BY ORDINAL_POSITION
GO
SELECT name, type_desc, CASE WHEN physical_name LIKE '%cat1%' THEN 1 ELSE 0 END AS in_datadir, state_desc FROM sys.master_files
WHERE database_id = DB_ID('cat1') ORDER BY file_id
GO
SELECT COUNT(*) AS vlfs_listed, SUM(CASE WHEN vlf_active = 1 THEN 1 ELSE 0 END) AS active_vlfs_nonzero
FROM sys.dm_db_log_info(DB_ID('cat1'))
GO
SELECT COUNT(*) AS my_session FROM sys.dm_exec_sessions WHERE session_id = @@SPID
GO
BEGIN TRAN
INSERT INTO dbo.plain VALUES (1, 'abc')
SELECT COUNT(*) AS open_tx FROM sys.dm_tran_active_transactions
SELECT DB_NAME(database_id) AS db FROM sys.dm_tran_database_transactions WHERE database_id = DB_ID()
ROLLBACK
GO
SELECT TYPE_NAME(56) AS t56, TYPE_ID('nvarchar') AS nv, TYPE_NAME(9999) AS none
GO
SELECT * FROM sys.nosuchview
GO
USE master
GO
DROP DATABASE cat1
GO
SELECT name FROM sys.databases WHERE name = 'cat1'
GO
