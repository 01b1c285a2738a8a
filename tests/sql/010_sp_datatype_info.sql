-- sp_datatype_info*: what ODBC drivers ask at connect time (SQLGetTypeInfo);
-- pyodbc keeps COLUMN_SIZE of the first row per type
EXEC sp_datatype_info_100 12, 3
GO
EXEC sp_datatype_info_100 @data_type = -9, @ODBCVer = 3
GO
sp_datatype_info_100 -3,3
GO
sp_datatype_info_90 93, 3
GO
EXEC sp_datatype_info 11
GO
EXEC sp_datatype_info_100 -155, 3
GO
EXEC sp_datatype_info_100 0, 3
GO
