-- recovery models, the log chain rules BACKUP LOG checks first, backup devices
CREATE DATABASE rm1
GO
SELECT name, recovery_model, recovery_model_desc, log_reuse_wait, log_reuse_wait_desc FROM sys.databases WHERE name = 'rm1'
GO
ALTER DATABASE rm1 SET RECOVERY BULK_LOGGED
SELECT recovery_model, recovery_model_desc, DATABASEPROPERTYEX('rm1', 'Recovery') AS prop FROM sys.databases WHERE name = 'rm1'
GO
ALTER DATABASE rm1 SET RECOVERY SIMPLE
SELECT recovery_model, recovery_model_desc, DATABASEPROPERTYEX('rm1', 'Recovery') AS prop FROM sys.databases WHERE name = 'rm1'
GO
BACKUP LOG rm1 TO DISK = 'rm1_log.bak'
GO
ALTER DATABASE rm1 SET RECOVERY FULL
GO
BACKUP LOG rm1 TO DISK = 'rm1_log.bak'
GO
ALTER DATABASE rm1 SET RECOVERY NOSUCHMODEL
GO
BACKUP LOG master TO DISK = 'master_log.bak'
GO
BACKUP DATABASE tempdb TO DISK = 'tempdb.bak'
GO
BACKUP DATABASE nosuchdb TO DISK = 'x.bak'
GO
BEGIN TRAN
BACKUP DATABASE rm1 TO DISK = 'rm1.bak'
GO
ROLLBACK
GO
BACKUP DATABASE rm1 TO DISK = 'rm1.bak' WITH PASSWORD = 'pw'
GO
BACKUP DATABASE rm1 TO DISK = 'rm1.bak' WITH DIFFERENTIAL, NO_TRUNCATE
GO
EXEC sp_addumpdevice 'disk', 'rmdev', 'rm1_dev.bak'
EXEC sp_addumpdevice 'disk', 'rmdev2', '/tmp/rm1_dev2.bak'
SELECT name, type, type_desc, physical_name FROM sys.backup_devices ORDER BY name
GO
EXEC sp_addumpdevice 'disk', 'RMDEV', 'again.bak'
GO
EXEC sp_addumpdevice 'cartridge', 'rmdev3', 'x.bak'
GO
BACKUP DATABASE rm1 TO nodevice
GO
RESTORE HEADERONLY FROM rmdev
GO
EXEC sp_dropdevice 'rmdev2'
EXEC sp_dropdevice 'rmdev'
SELECT COUNT(*) AS devices FROM sys.backup_devices
GO
EXEC sp_dropdevice 'rmdev'
GO
SELECT name FROM msdb.sys.tables WHERE name IN ('backupset', 'backupmediaset', 'backupmediafamily', 'backupfile', 'restorehistory', 'restorefile', 'restorefilegroup') ORDER BY name
GO
SELECT COUNT(*) AS sets FROM msdb.dbo.backupset WHERE database_name = 'rm1'
GO
DROP DATABASE rm1
GO
