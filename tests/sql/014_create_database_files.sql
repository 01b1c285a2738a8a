-- CREATE DATABASE with file clauses, FOR ATTACH, sp_detach_db / sp_attach_db (engine/attach.h, sql/exec_createdb.c)
CREATE DATABASE cf ON PRIMARY
  (NAME = cf_data, FILENAME = 'cf.mdf', SIZE = 8MB, MAXSIZE = 64MB, FILEGROWTH = 1MB),
  (NAME = cf_data2, FILENAME = 'cf_2.ndf', SIZE = 1MB),
  FILEGROUP fg1 (NAME = cf_f1, FILENAME = 'cf_f1.ndf', SIZE = 1MB, FILEGROWTH = 10%),
  (NAME = cf_f1b, FILENAME = 'cf_f1b.ndf', SIZE = 512KB),
  FILEGROUP fg2 (NAME = cf_f2, FILENAME = 'cf_f2.ndf', SIZE = 1MB, MAXSIZE = UNLIMITED, FILEGROWTH = 0)
LOG ON (NAME = cf_log, FILENAME = 'cf.ldf', SIZE = 2MB, FILEGROWTH = 1MB)
GO
SELECT file_id, type_desc, data_space_id, name, RIGHT(physical_name, CHARINDEX('/', REVERSE(physical_name)) - 1) AS file_name,
       state_desc, max_size, growth
FROM sys.master_files WHERE database_id = DB_ID('cf') ORDER BY file_id
GO
USE cf
SELECT name, data_space_id, type_desc, is_default FROM sys.filegroups ORDER BY data_space_id
SELECT file_id, name, type_desc FROM sys.database_files ORDER BY file_id
GO
CREATE TABLE t (id int PRIMARY KEY, v varchar(50)) ON fg1
INSERT INTO t VALUES (1, 'one'), (2, 'two')
SELECT id, v, sys.fn_PhysLocFormatter(%%physloc%%) AS loc FROM t
GO
CREATE TABLE t2 (id int) ON fg2
INSERT INTO t2 VALUES (42)
SELECT id, sys.fn_PhysLocFormatter(%%physloc%%) AS loc FROM t2
GO
USE master
GO
-- refused: nothing is made, nothing registered
CREATE DATABASE e1 ON (NAME = same, FILENAME = 'e1.mdf'), (NAME = SAME, FILENAME = 'e1b.ndf')
GO
CREATE DATABASE e1 ON (NAME = e1, FILENAME = 'e1.mdf') LOG ON (NAME = E1, FILENAME = 'e1.ldf')
GO
CREATE DATABASE e1 ON (NAME = e1, FILENAME = 'e1.mdf'), (NAME = e1b, FILENAME = '/etc/passwd')
GO
CREATE DATABASE e1 ON (NAME = e1, FILENAME = 'e1.mdf') LOG ON (NAME = e1_log, FILENAME = '/nonexistent-dir/e1.ldf')
GO
CREATE DATABASE e1 ON (NAME = e1, FILENAME = 'e1.mdf', SIZE = 10MB, MAXSIZE = 5MB)
GO
CREATE DATABASE e1 ON (NAME = e1, FILENAME = 'e1.mdf') LOG ON (NAME = l1, FILENAME = 'e1.ldf'), (NAME = l2, FILENAME = 'e1b.ldf')
GO
CREATE DATABASE e1 ON (NAME = e1, FILENAME = 'e1.mdf'), FILEGROUP g (NAME = e1g, FILENAME = 'e1g.ndf'),
  FILEGROUP G (NAME = e1g2, FILENAME = 'e1g2.ndf')
GO
CREATE DATABASE e1 ON (NAME = e1, FILENAME = 'e1.mdf'), FILEGROUP g DEFAULT (NAME = e1g, FILENAME = 'e1g.ndf')
GO
CREATE DATABASE e1 ON (FILENAME = 'e1.mdf')
GO
CREATE DATABASE cf ON (NAME = x, FILENAME = 'x.mdf')
GO
CREATE DATABASE e1 AS SNAPSHOT OF cf
GO
CREATE DATABASE e1 ON (FILENAME = 'e1.mdf') FOR ATTACH_REBUILD_LOG
GO
BEGIN TRAN
CREATE DATABASE e1 ON (NAME = e1, FILENAME = 'e1.mdf')
GO
ROLLBACK
GO
SELECT COUNT(*) AS e1_databases FROM sys.databases WHERE name = 'e1'
GO
-- the same names and files work now: nothing was left behind
CREATE DATABASE e1 ON (NAME = e1, FILENAME = 'e1.mdf'), (NAME = e1b, FILENAME = 'e1b.ndf')
  LOG ON (NAME = E1_log, FILENAME = 'e1.ldf', SIZE = 1MB, MAXSIZE = 2MB)
SELECT file_id, name, type_desc, max_size FROM sys.master_files WHERE database_id = DB_ID('e1') ORDER BY file_id
DROP DATABASE e1
GO
-- detach
EXEC sp_detach_db 'master'
GO
EXEC sp_detach_db 'nosuch'
GO
USE cf
EXEC sp_detach_db 'cf'
GO
USE master
EXEC sp_detach_db @dbname = 'cf'
SELECT COUNT(*) AS cf_databases FROM sys.databases WHERE name = 'cf'
GO
-- attach under another name: the secondary files come from the primary's file list
CREATE DATABASE cf2 ON (FILENAME = 'cf.mdf'), (FILENAME = 'cf.ldf') FOR ATTACH
SELECT id, v FROM cf2.dbo.t
SELECT id FROM cf2.dbo.t2
SELECT file_id, name, RIGHT(physical_name, CHARINDEX('/', REVERSE(physical_name)) - 1) AS file_name
FROM sys.master_files WHERE database_id = DB_ID('cf2') ORDER BY file_id
GO
-- files in use (5120, the path in it), then 1813
BEGIN TRY
  CREATE DATABASE cf3 ON (FILENAME = 'cf.mdf'), (FILENAME = 'cf.ldf') FOR ATTACH
END TRY
BEGIN CATCH
  SELECT ERROR_NUMBER() AS err, ERROR_MESSAGE() AS msg
END CATCH
GO
CREATE DATABASE cf2 ON (FILENAME = 'cf.mdf'), (FILENAME = 'cf.ldf') FOR ATTACH
GO
CREATE DATABASE cf3 ON (FILENAME = '/nonexistent-dir/cf3.mdf') FOR ATTACH
GO
CREATE DATABASE cf3 FOR ATTACH
GO
EXEC sp_detach_db 'cf2'
GO
BEGIN TRY
  CREATE DATABASE cf3 ON (FILENAME = 'cf.ldf') FOR ATTACH
END TRY
BEGIN CATCH
  SELECT ERROR_NUMBER() AS err   -- 5171: not a primary file
END CATCH
GO
CREATE DATABASE cf3 ON (FILENAME = 'cf.mdf') FOR ATTACH
GO
EXEC sp_attach_db @dbname = N'cf', @filename1 = N'cf.mdf', @filename2 = N'cf.ldf'
INSERT INTO cf.dbo.t VALUES (3, 'three')
SELECT id, v FROM cf.dbo.t
GO
DROP DATABASE cf
GO
