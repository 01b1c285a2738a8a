-- scalar functions, conversions and their errors
SELECT CAST('42' AS int) AS i, CAST(3.7 AS int) AS trunc, CONVERT(varchar(10), 12345) AS s,
       CAST('2024-02-29' AS date) AS d, CONVERT(decimal(6,2), '12.345') AS dec, CAST(1 AS bit) AS b
GO
SELECT CONVERT(varchar(10), CAST('2024-03-05' AS date), 112) AS ymd, CONVERT(varchar(20), CAST('2024-03-05 13:14:15' AS datetime), 120) AS odbc,
       CONVERT(varchar(10), CAST('2024-03-05' AS date), 101) AS us
GO
SELECT ISNULL(NULL, 'x') AS a, COALESCE(NULL, NULL, 3, 4) AS b, NULLIF(5, 5) AS c, NULLIF(5, 6) AS d
GO
SELECT LEN('abc  ') AS len_trailing, DATALENGTH('abc  ') AS bytes, DATALENGTH(N'abc') AS nbytes, LEN(N'') AS empty
GO
SELECT UPPER('MiXed') AS u, LOWER(N'ÄÖÜ') AS l, LTRIM('  x ') + '|' AS lt, RTRIM(' x  ') + '|' AS rt, TRIM('  y  ') AS t
GO
SELECT SUBSTRING('hadrdb', 2, 3) AS sub, LEFT('hadrdb', 4) AS l, RIGHT('hadrdb', 2) AS r, CHARINDEX('d', 'hadrdb') AS ci,
       CHARINDEX('d', 'hadrdb', 4) AS ci2, REPLACE('a-b-c', '-', '+') AS rep, REVERSE('abc') AS rev, REPLICATE('ab', 3) AS rpl
GO
SELECT 'a' + NULL AS concat_null, CONCAT('a', NULL, 1, 'b') AS concat_fn, STR(3.14159, 6, 2) AS str
GO
SELECT ABS(-5) AS a, ROUND(123.456, 1) AS r1, ROUND(123.456, -1) AS r2, FLOOR(-1.5) AS f, CEILING(-1.5) AS c,
       POWER(2, 10) AS p, SQRT(16.0) AS q, SIGN(-3) AS sg, 7 % 3 AS m, -7 / 2 AS idiv
GO
SELECT DATEADD(day, 1, CAST('2024-02-28' AS date)) AS d1, DATEADD(month, 1, CAST('2024-01-31' AS date)) AS d2,
       DATEDIFF(day, '2024-01-01', '2024-03-01') AS dd, DATEPART(weekday, CAST('2024-03-03' AS date)) AS wd,
       YEAR('2024-07-04') AS y, MONTH('2024-07-04') AS mo, DAY('2024-07-04') AS dy, DATENAME(month, '2024-07-04') AS mn
GO
SELECT CASE WHEN GETDATE() > '2020-01-01' THEN 'ok' END AS getdate_ok, CASE WHEN SYSDATETIME() >= GETDATE() - 1 THEN 'ok' END AS sysdatetime_ok,
       LEN(CAST(NEWID() AS varchar(36))) AS newid_len, DB_NAME() AS db, DB_ID('master') AS master_id,
       SUSER_SNAME() AS login, @@SERVERNAME AS server, @@SPID - @@SPID AS spid_zero, @@TRANCOUNT AS tc
GO
SELECT IIF(1 < 2, 'yes', 'no') AS iif, CHOOSE(2, 'a', 'b', 'c') AS choose
GO
SELECT TRY_CAST('abc' AS int) AS bad, TRY_CAST('12' AS int) AS good, TRY_CONVERT(date, '2024-13-01') AS bad_date
GO
SELECT CAST('abc' AS int)
GO
SELECT CONVERT(datetime, '2024-13-45')
GO
SELECT CAST(300 AS tinyint)
GO
SELECT CAST(123456.789 AS decimal(5,2))
GO
SELECT 2147483647 + 1
GO
SELECT 1 + 'a'
GO
SELECT CAST(N'x' AS uniqueidentifier)
GO
SELECT SUBSTRING('abc', 0, 2) AS s0, SUBSTRING('abc', 3, 10) AS s_end
GO
SELECT NOSUCHFUNCTION(1)
GO
SELECT LEN()
GO
