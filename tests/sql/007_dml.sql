-- INSERT..SELECT, UPDATE/DELETE with joins and TOP, OUTPUT, constraints, IDENTITY_INSERT, large values
CREATE DATABASE dml
GO
USE dml
GO
CREATE TABLE src (id int PRIMARY KEY, v nvarchar(20) NOT NULL, qty int NOT NULL CHECK (qty >= 0))
CREATE TABLE dst (id int IDENTITY(10, 5) PRIMARY KEY, src_id int NOT NULL, v nvarchar(20) NULL, made datetime NOT NULL DEFAULT GETDATE())
CREATE TABLE parent (code char(2) PRIMARY KEY)
CREATE TABLE child (id int PRIMARY KEY, code char(2) NOT NULL REFERENCES parent (code))
GO
INSERT INTO src VALUES (1, N'один', 5), (2, N'two', 0), (3, N'three', 7)
INSERT INTO dst (src_id, v) SELECT id, v FROM src WHERE qty > 0 ORDER BY id
SELECT id, src_id, v, CASE WHEN made <= GETDATE() THEN 'default set' END AS made FROM dst ORDER BY id
GO
UPDATE d SET v = UPPER(s.v) + N'!' FROM dst d JOIN src s ON s.id = d.src_id WHERE s.qty > 6
SELECT id, v FROM dst ORDER BY id
GO
UPDATE src SET qty = qty - 10 WHERE id = 1
GO
INSERT INTO src VALUES (4, N'four', -1)
GO
INSERT INTO child VALUES (1, 'XX')
GO
INSERT INTO parent VALUES ('AA')
INSERT INTO child VALUES (1, 'AA')
DELETE FROM parent WHERE code = 'AA'
GO
DELETE TOP (1) FROM src WHERE qty >= 0
SELECT COUNT(*) AS left_rows FROM src
GO
INSERT INTO src OUTPUT inserted.id, inserted.v VALUES (10, N'ten', 1)
GO
UPDATE src SET qty = qty + 1 OUTPUT deleted.qty AS before, inserted.qty AS after WHERE id = 10
GO
DELETE FROM src OUTPUT deleted.id WHERE id = 10
GO
INSERT INTO dst (id, src_id) VALUES (99, 1)
GO
SET IDENTITY_INSERT dst ON
INSERT INTO dst (id, src_id) VALUES (99, 1)
SET IDENTITY_INSERT dst OFF
INSERT INTO dst (src_id) VALUES (2)
SELECT id, src_id FROM dst ORDER BY id
GO
CREATE TABLE big (id int PRIMARY KEY, s varchar(max), n nvarchar(max), b varbinary(max))
INSERT INTO big VALUES (1, REPLICATE(CAST('x' AS varchar(max)), 20000), REPLICATE(CAST(N'ж' AS nvarchar(max)), 9000),
                        CAST(REPLICATE(CAST('ab' AS varchar(max)), 6000) AS varbinary(max)))
SELECT LEN(s) AS ls, LEN(n) AS ln, DATALENGTH(n) AS dn, DATALENGTH(b) AS db, SUBSTRING(s, 19999, 5) AS tail FROM big
GO
UPDATE big SET s = s + 'END' WHERE id = 1
SELECT LEN(s) AS ls, RIGHT(s, 4) AS r FROM big
GO
TRUNCATE TABLE dst
SELECT COUNT(*) AS after_truncate FROM dst
GO
INSERT INTO src (id, v) VALUES (20, N'no qty')
GO
INSERT INTO src VALUES (21, N'too many', 1, 2)
GO
INSERT INTO src (id, nosuch) VALUES (22, 1)
GO
UPDATE nosuchtable SET a = 1
GO
USE master
GO
DROP DATABASE dml
GO
