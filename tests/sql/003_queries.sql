-- queries: joins, grouping, ordering, TOP, DISTINCT, subqueries, set operations
CREATE DATABASE q
GO
USE q
GO
CREATE TABLE dept (id int PRIMARY KEY, name nvarchar(30) NOT NULL)
CREATE TABLE emp (id int IDENTITY(1,1) PRIMARY KEY, name nvarchar(30) NOT NULL, dept_id int NULL,
                  salary decimal(9,2) NOT NULL DEFAULT 1000, hired date NULL)
GO
INSERT INTO dept VALUES (1, N'Sales'), (2, N'Ops'), (3, N'Empty')
INSERT INTO emp (name, dept_id, salary, hired) VALUES
  (N'Ann', 1, 5000, '2020-01-15'), (N'Bob', 1, 4000, '2021-03-01'), (N'Cid', 2, 3500, '2019-07-30'),
  (N'Dee', 2, 3500, NULL), (N'Eve', NULL, 2500, '2022-11-11')
INSERT INTO emp (name, dept_id) VALUES (N'Fay', 2)
GO
SELECT @@IDENTITY AS ident, SCOPE_IDENTITY() AS scope, IDENT_CURRENT('emp') AS cur
GO
SELECT e.name, d.name AS dept FROM emp e INNER JOIN dept d ON d.id = e.dept_id ORDER BY e.id
GO
SELECT e.name, d.name AS dept FROM emp e LEFT JOIN dept d ON d.id = e.dept_id WHERE d.id IS NULL
GO
-- with ANSI_WARNINGS on (pymssql's default) the 8153 warning (severity 10)
-- is an error to pymssql, as against SQL Server
SELECT MIN(hired) AS first_hired FROM emp
GO
SET ANSI_WARNINGS OFF
SELECT d.name, COUNT(e.id) AS n, SUM(e.salary) AS total, AVG(e.salary) AS avg_sal, MIN(e.hired) AS first_hired
FROM dept d LEFT JOIN emp e ON e.dept_id = d.id GROUP BY d.name ORDER BY d.name
GO
SELECT dept_id, COUNT(*) AS n FROM emp GROUP BY dept_id HAVING COUNT(*) > 1 ORDER BY dept_id
GO
SELECT TOP 2 name, salary FROM emp ORDER BY salary DESC, name
GO
SELECT TOP (50) PERCENT name FROM emp ORDER BY id
GO
SELECT DISTINCT salary FROM emp ORDER BY salary
GO
SELECT COUNT(DISTINCT salary) AS n_distinct, COUNT(hired) AS n_hired, COUNT(*) AS n_all FROM emp
SET ANSI_WARNINGS ON
GO
SELECT name FROM emp WHERE dept_id IN (SELECT id FROM dept WHERE name LIKE 'S%') ORDER BY name
GO
SELECT name FROM emp e WHERE EXISTS (SELECT 1 FROM dept d WHERE d.id = e.dept_id AND d.name = N'Ops') ORDER BY name
GO
SELECT name, (SELECT name FROM dept WHERE id = emp.dept_id) AS dept FROM emp WHERE salary > 3000 ORDER BY name
GO
SELECT name FROM emp WHERE salary BETWEEN 3000 AND 4000 AND name NOT LIKE '%e%' ORDER BY name
GO
SELECT id FROM dept UNION SELECT dept_id FROM emp WHERE dept_id IS NOT NULL ORDER BY id
GO
SELECT id FROM dept UNION ALL SELECT 1 ORDER BY id
GO
SELECT name, CASE WHEN salary >= 4000 THEN 'high' WHEN salary >= 3000 THEN 'mid' ELSE 'low' END AS band
FROM emp ORDER BY id
GO
SELECT x.dept_id, x.total FROM (SELECT dept_id, SUM(salary) AS total FROM emp GROUP BY dept_id) AS x
WHERE x.total > 5000 ORDER BY x.total DESC
GO
WITH s AS (SELECT dept_id, MAX(salary) AS top_sal FROM emp GROUP BY dept_id)
SELECT e.name FROM emp e JOIN s ON s.dept_id = e.dept_id AND s.top_sal = e.salary ORDER BY e.name
GO
SELECT name, ROW_NUMBER() OVER (ORDER BY salary DESC, name) AS rn FROM emp ORDER BY rn
GO
SELECT v.code, v.label FROM (VALUES (2, N'two'), (1, N'one'), (3, NULL)) AS v (code, label) ORDER BY v.code
GO
SELECT NULL AS untyped UNION ALL SELECT N'typed by the other side'
GO
SELECT * FROM emp WHERE 1 = 0
GO
SELECT nosuchcol FROM emp
GO
SELECT name FROM emp GROUP BY dept_id
GO
SELECT e.name FROM emp e JOIN dept e ON 1 = 1
GO
SELECT * FROM emp, dept, emp
GO
SELECT a.id FROM emp a JOIN emp b ON a.id = b.id + 5
GO
USE master
GO
DROP DATABASE q
GO
