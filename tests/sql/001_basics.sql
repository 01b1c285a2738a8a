-- expressions, DDL, DML and the errors a client sees for them
SELECT 1 AS one, 'abc' AS s, 2 + 3 * 4 AS n, NULL AS nothing
GO
CREATE DATABASE sqltest
GO
USE sqltest
GO
CREATE TABLE dbo.items (id int PRIMARY KEY, name varchar(40) NOT NULL, price decimal(10,2) NULL)
GO
INSERT INTO items VALUES (1, 'apple', 1.50), (2, 'pear', 2.25), (3, 'plum', NULL)
GO
SELECT id, name, price FROM items WHERE price IS NOT NULL ORDER BY price DESC
GO
UPDATE items SET price = 3.00 WHERE id = 3
GO
DELETE FROM items WHERE name = 'pear'
GO
SELECT COUNT(*) AS n, SUM(price) AS total FROM items
GO
INSERT INTO items VALUES (1, 'again', 0)
GO
INSERT INTO items (id, name) VALUES (9, NULL)
GO
SELECT * FROM nosuchtable
GO
SELECT 1 / 0
GO
SELEC 1
GO
SELECT * FROM WHERE
GO
SELECT name FROM items ORDER BY id
GO
USE master
GO
DROP DATABASE sqltest
GO
