SELECT sys.fn_PhysLocFormatter(%%physloc%%), t.%%physloc%%, * FROM t WHERE [%%physloc%%] = 0x01 % 2
DBCC IND (db, 'dbo.t', -1); DBCC PAGE (0, 1, 153, 3) WITH TABLERESULTS
ALTER DATABASE db SET PAGE_VERIFY TORN_PAGE_DETECTION
