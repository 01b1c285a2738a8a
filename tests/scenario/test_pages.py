#!/usr/bin/python3
"""Finding and damaging one page, as a DBA would (issue 7: detection and
finding pages):

- sys.fn_PhysLocFormatter(%%physloc%%) names the page holding a row; DBCC IND
  lists that page as a data page of the table; DBCC PAGE shows the row in it;
  the page's own header on disk, at byte offset page * 8192, names it.
- With the server stopped, one byte of the row is changed on disk. After the
  restart, reading the row fails with 824 (incorrect checksum) naming the
  file:page; msdb.dbo.suspect_pages gets the page with event_type 2 and its
  error_count grows with each failed read; other rows and tables read fine;
  the error log names the page.
- PAGE_VERIFY NONE (persisted across restarts, shown by sys.databases): the
  same damage goes unnoticed, but a page at the wrong place (wrong page id)
  is still caught (824, event_type 1). A page written while the option was
  NONE carries no checksum, so its damage stays unnoticed after the option
  is back to CHECKSUM until the page is written again: SQL Server's rule.
- TORN_PAGE_DETECTION: a page whose second half did not reach the disk is a
  torn page (824, event_type 3).
- DROP DATABASE deletes the database's suspect_pages rows.

pymssql raises informational messages (severity 10, e.g. DBCC's 2528) as
errors when they come first; run() treats those numbers as success."""
import re, struct, sys, time

import pymssql

from hadr import Server

INFO = {2528}
PAGE = 8192


def main():
    srv = Server().start()
    results = []

    def check(name, cond, detail=""):
        results.append(bool(cond))
        print("%-72s %s%s" % (name, "ok" if cond else "FAILED", "" if cond else "  " + str(detail)))

    state = {}

    def connect():
        state["conn"] = srv.connect()
        state["cur"] = state["conn"].cursor()

    def run(sql):
        """(error number or 0, message text, result sets)."""
        cur = state["cur"]
        try:
            cur.execute(sql)
            sets = []
            while True:
                if cur.description:
                    sets.append(([d[0] for d in cur.description], cur.fetchall()))
                if not cur.nextset():
                    break
            return 0, "", sets
        except pymssql.Error as e:
            num = e.args[0] if e.args and isinstance(e.args[0], int) else -1
            text = e.args[1].decode(errors="replace") if len(e.args) > 1 and isinstance(e.args[1], bytes) else str(e)
            if num in INFO:
                return 0, text, []
            if num in (823, 824, 20017, 20047):
                connect()   # severity 24 ends the connection, as in SQL Server
            return num, text, []

    def one(sql):
        err, text, sets = run(sql)
        if err:
            raise RuntimeError("%s -> %d %s" % (sql, err, text))
        return sets[0][1] if sets else []

    def val(sql):
        return one(sql)[0][0]

    def restart():
        state["conn"].close()
        srv.stop()
        srv.start()
        connect()

    def suspect_row(dbid, f, p, want_count, timeout=15):
        """The page's suspect_pages row once error_count reaches want_count
        (the table is written by a background thread right after the error)."""
        deadline = time.time() + timeout
        row = None
        while time.time() < deadline:
            rows = one("SELECT event_type, error_count, last_update_date FROM msdb.dbo.suspect_pages "
                       "WHERE database_id = %d AND file_id = %d AND page_id = %d" % (dbid, f, p))
            row = rows[0] if rows else None
            if row and row[1] >= want_count:
                return row
            time.sleep(0.1)
        return row

    def read_page(path, p):
        with open(path, "rb") as fh:
            fh.seek(p * PAGE)
            return bytearray(fh.read(PAGE))

    def write_page(path, p, data):
        with open(path, "r+b") as fh:
            fh.seek(p * PAGE)
            fh.write(bytes(data))

    try:
        connect()
        # ---- a table spread over many pages, and another table ----
        one("CREATE DATABASE pages")
        one("CREATE TABLE pages.dbo.t (id int PRIMARY KEY, v varchar(200))")
        one("CREATE TABLE pages.dbo.other (id int PRIMARY KEY, v varchar(20))")
        one("SET NOCOUNT ON; DECLARE @i int = 1; WHILE @i <= 600 BEGIN "
            "INSERT INTO pages.dbo.t VALUES (@i, 'row ' + CAST(@i AS varchar(10)) + ' ' + REPLICATE('x', 140)); "
            "SET @i += 1; END")
        one("INSERT INTO pages.dbo.other VALUES (1, 'a'), (2, 'b')")
        dbid = val("SELECT DB_ID('pages')")
        path = val("SELECT physical_name FROM sys.master_files WHERE database_id = DB_ID('pages') AND file_id = 1")
        check("sys.databases: a new database verifies pages with CHECKSUM",
              one("SELECT page_verify_option, page_verify_option_desc FROM sys.databases WHERE name = 'pages'")
              == [(2, "CHECKSUM")])

        # ---- finding the page that holds row 300 ----
        loc, raw = one("SELECT sys.fn_PhysLocFormatter(%%physloc%%), %%physloc%% FROM pages.dbo.t WHERE id = 300")[0]
        m = re.fullmatch(r"\((\d+):(\d+):(\d+)\)", loc)
        check("fn_PhysLocFormatter(%%physloc%%) gives '(file:page:slot)'", m is not None, loc)
        f, p, slot = int(m.group(1)), int(m.group(2)), int(m.group(3))
        check("%%physloc%% is binary(8): page, file, slot little-endian",
              len(raw) == 8 and struct.unpack("<IHH", raw) == (p, f, slot), (raw, loc))
        check("t.%%physloc%% and [%%physloc%%] name the same place",
              one("SELECT sys.fn_PhysLocFormatter(x.%%physloc%%), sys.fn_PhysLocFormatter([%%physloc%%]) "
                  "FROM pages.dbo.t x WHERE id = 300") == [(loc, loc)])
        check("SELECT * does not show %%physloc%%",
              len(one("SELECT %%physloc%%, * FROM pages.dbo.t WHERE id = 1")[0]) == 3)
        placed = one("SELECT sys.fn_PhysLocFormatter(%%physloc%%), id FROM pages.dbo.t ORDER BY id")
        pages_of_rows = {tuple(int(x) for x in re.findall(r"\d+", l)[:2]) for l, _ in placed}
        check("the rows are spread over several pages", len(pages_of_rows) > 5, len(pages_of_rows))

        err, text, sets = run("DBCC IND ('pages', 't', -1)")
        cols, rows = sets[0] if sets else ([], [])
        ind = [dict(zip(cols, r)) for r in rows]
        check("DBCC IND: SQL Server's columns",
              cols == ["PageFID", "PagePID", "IAMFID", "IAMPID", "ObjectID", "IndexID", "PartitionNumber",
                       "PartitionID", "iam_chain_type", "PageType", "IndexLevel", "NextPageFID", "NextPagePID",
                       "PrevPageFID", "PrevPagePID"], (err, text, cols))
        data = {(r["PageFID"], r["PagePID"]) for r in ind if r["PageType"] == 1 and r["IndexLevel"] == 0}
        check("DBCC IND lists the row's page as a data page of index 1",
              any(r["PageFID"] == f and r["PagePID"] == p and r["PageType"] == 1 and r["IndexID"] == 1 and
                  r["ObjectID"] == val("SELECT OBJECT_ID('pages.dbo.t')") for r in ind), ind[:3])
        check("DBCC IND: every row's page is one of the table's data pages", pages_of_rows <= data,
              (pages_of_rows - data))
        check("DBCC IND: an index page above the leaves",
              any(r["PageType"] == 2 and r["IndexLevel"] >= 1 for r in ind))
        leaf = {(r["PageFID"], r["PagePID"]): r for r in ind if r["IndexLevel"] == 0}
        check("DBCC IND: the leaves' next / prev links agree",
              all((r["NextPagePID"] == 0 or leaf[(r["NextPageFID"], r["NextPagePID"])]["PrevPagePID"] == k[1])
                  for k, r in leaf.items()))
        check("DBCC IND of the other table lists other pages",
              not ({(r[0], r[1]) for r in one("DBCC IND ('pages', 'dbo.other', -1)")} & data))

        one("USE pages; CHECKPOINT; USE master")   # the page on disk too (m_flagBits describes the disk's copy)
        err, text, sets = run("DBCC PAGE ('pages', %d, %d, 3) WITH TABLERESULTS, NO_INFOMSGS" % (f, p))
        dump = sets[0][1] if sets else []
        fields = {(r[2], r[3]) for r in dump}
        check("DBCC PAGE WITH TABLERESULTS: ParentObject, Object, Field, VALUE",
              sets and sets[0][0] == ["ParentObject", "Object", "Field", "VALUE"], (err, text))
        check("DBCC PAGE: header of the page (m_pageId, data page, index 1)",
              ("m_pageId", "(%d:%d)" % (f, p)) in fields and ("m_type", "1") in fields and
              ("Metadata: IndexId", "1") in fields and ("m_flagBits", "0x200") in fields,
              sorted(x for x in fields if x[0].startswith("m") and not x[0].startswith("Memory")))
        check("DBCC PAGE 3: the row's columns", ("id", "300") in fields and
              any(k == "v" and v.startswith("row 300 ") for k, v in fields))
        slot_parent = [r[0] for r in dump if r[2] == "id" and r[3] == "300"][0]
        sm = re.match(r"Slot (\d+) Offset 0x([0-9a-f]+) Length (\d+)", slot_parent)
        check("DBCC PAGE: the row is in the slot %%physloc%% names", sm and int(sm.group(1)) == slot, slot_parent)
        rec_off, rec_len = int(sm.group(2), 16), int(sm.group(3))

        msgs = []
        state["conn"]._conn.set_msghandler(lambda *a: msgs.append(a[-1]))
        run("DBCC TRACEON (3604)")
        run("DBCC PAGE (%d, %d, %d, 1)" % (dbid, f, p))
        state["conn"]._conn.set_msghandler(None)
        text = "\n".join(m.decode(errors="replace") if isinstance(m, bytes) else str(m) for m in msgs)
        check("DBCC PAGE as messages (after DBCC TRACEON (3604)): header, slots, 2528",
              "PAGE: (%d:%d)" % (f, p) in text and "m_pageId = (%d:%d)" % (f, p) in text and
              "Slot %d, Offset" % slot in text and "Memory Dump" in text and "DBCC execution completed" in text,
              text[:400])

        # ---- the file layout: page n at byte n * 8192 ----
        state["conn"].close()
        srv.stop()
        img = read_page(path, p)
        check("on disk: the page's header at offset page * 8192 names (file:page)",
              struct.unpack_from("<Q", img, 8)[0] == (f << 32 | p))
        check("on disk: the row's bytes are in that page", b"row 300 " in img[rec_off:rec_off + rec_len])

        # ---- damage one byte of row 300 ----
        bad = bytearray(img)
        pos = rec_off + rec_len - 1                   # the last 'x' of the value
        bad[pos] = ord("y")
        write_page(path, p, bad)
        srv.start()
        connect()
        err, text, _ = run("SELECT v FROM pages.dbo.t WHERE id = 300")
        check("reading the damaged row: 824, incorrect checksum, naming (file:page)",
              err == 824 and "incorrect checksum" in text and "page (%d:%d)" % (f, p) in text and
              "database ID %d" % dbid in text and path in text, (err, text[:300]))
        row = suspect_row(dbid, f, p, 1)
        check("msdb.dbo.suspect_pages: the page, event_type 2, error_count 1", row and row[0] == 2 and row[1] == 1,
              row)
        err, _, _ = run("SELECT v FROM pages.dbo.t WHERE id = 300")
        row2 = suspect_row(dbid, f, p, 2)
        check("a second failed read: 824, error_count 2", err == 824 and row2 and row2[0] == 2 and row2[1] == 2,
              (err, row2))
        check("suspect_pages: last_update_date moves on", row2 and row2[2] >= row[2], (row, row2))
        check("other rows of the table read fine (pages not touched)",
              val("SELECT id FROM pages.dbo.t WHERE id = 1") == 1 and
              val("SELECT id FROM pages.dbo.t WHERE id = 600") == 600)
        first_on_p = min(i for l, i in placed if tuple(int(x) for x in re.findall(r"\d+", l)[:2]) == (f, p))
        # (a range scan reads one record past its end: stop one row before the page)
        check("a range below the damaged page reads fine",
              val("SELECT COUNT(*) FROM pages.dbo.t WHERE id < %d" % (first_on_p - 1)) == first_on_p - 2)
        check("another table reads fine", val("SELECT COUNT(*) FROM pages.dbo.other") == 2)
        check("the error log names the page",
              "Page (%d:%d) in database ID %d is suspect" % (f, p, dbid) in srv.errorlog())
        err, text, sets = run("DBCC PAGE ('pages', %d, %d, 0) WITH TABLERESULTS, NO_INFOMSGS" % (f, p))
        check("DBCC PAGE still shows the damaged page, with the read error",
              sets and any(r[2] == "Read error" and "incorrect checksum" in r[3] for r in sets[0][1]),
              (err, text))
        row3 = suspect_row(dbid, f, p, 3)
        check("DBCC PAGE's failed read is recorded too", row3 and row3[1] == 3, row3)

        # ---- PAGE_VERIFY NONE ----
        one("ALTER DATABASE pages SET PAGE_VERIFY NONE")
        check("sys.databases: NONE", one("SELECT page_verify_option, page_verify_option_desc FROM sys.databases "
                                         "WHERE name = 'pages'") == [(0, "NONE")])
        err, text, sets = run("SELECT v FROM pages.dbo.t WHERE id = 300")
        check("PAGE_VERIFY NONE: the checksum damage goes unnoticed (the damaged value is returned)",
              err == 0 and sets and sets[0][1][0][0].endswith("y"), (err, text))
        restart()
        check("PAGE_VERIFY NONE survives a restart",
              one("SELECT page_verify_option_desc FROM sys.databases WHERE name = 'pages'") == [("NONE",)])
        state["conn"].close()
        srv.stop()
        q = max(pg for fi, pg in data if fi == f and pg != p)
        write_page(path, p, read_page(path, q))      # another page's image at p's place
        srv.start()
        connect()
        err, text, _ = run("SELECT v FROM pages.dbo.t WHERE id = 300")
        check("PAGE_VERIFY NONE: a wrong page id is still caught (824)",
              err == 824 and "incorrect pageid (expected %d:%d; actual %d:%d)" % (f, p, f, q) in text, (err, text))
        row4 = suspect_row(dbid, f, p, 4)
        check("suspect_pages: event_type 1 (other 824), error_count 4", row4 and row4[0] == 1 and row4[1] == 4, row4)

        # a page written under NONE has no checksum: still unnoticed after CHECKSUM is back
        state["conn"].close()
        srv.stop()
        write_page(path, p, bad)
        srv.start()
        connect()
        one("UPDATE pages.dbo.t SET v = 'written under NONE' WHERE id = 300")
        one("USE pages; CHECKPOINT; USE master")
        one("ALTER DATABASE pages SET PAGE_VERIFY CHECKSUM")
        state["conn"].close()
        srv.stop()
        img = read_page(path, p)
        i = bytes(img).find(b"written under NONE")
        img[i] = ord("W")
        write_page(path, p, img)
        srv.start()
        connect()
        err, text, sets = run("SELECT v FROM pages.dbo.t WHERE id = 300")
        check("a page written under NONE carries no checksum: damage unnoticed under CHECKSUM",
              err == 0 and sets and sets[0][1][0][0] == "Written under NONE", (err, text, sets))
        one("UPDATE pages.dbo.t SET v = 'written under CHECKSUM' WHERE id = 300")
        one("USE pages; CHECKPOINT; USE master")
        state["conn"].close()
        srv.stop()
        img = read_page(path, p)
        i = bytes(img).find(b"written under CHECKSUM")
        img[i] = ord("W")
        write_page(path, p, img)
        srv.start()
        connect()
        err, text, _ = run("SELECT v FROM pages.dbo.t WHERE id = 300")
        check("once written again under CHECKSUM, the damage is caught (824)",
              err == 824 and "incorrect checksum" in text, (err, text))

        # ---- TORN_PAGE_DETECTION ----
        state["conn"].close()
        srv.stop()
        img[i] = ord("w")
        write_page(path, p, img)                    # the good image back
        srv.start()
        connect()
        one("ALTER DATABASE pages SET PAGE_VERIFY TORN_PAGE_DETECTION")
        check("sys.databases: TORN_PAGE_DETECTION",
              one("SELECT page_verify_option, page_verify_option_desc FROM sys.databases WHERE name = 'pages'")
              == [(1, "TORN_PAGE_DETECTION")])
        one("UPDATE pages.dbo.t SET v = 'written with torn bits' WHERE id = 300")
        one("USE pages; CHECKPOINT; USE master")
        state["conn"].close()
        srv.stop()
        img = read_page(path, p)
        torn = img[:PAGE // 2] + bytes(PAGE // 2)   # the second half never reached the disk
        write_page(path, p, torn)
        srv.start()
        connect()
        err, text, _ = run("SELECT v FROM pages.dbo.t WHERE id = 300")
        check("a torn write: 824 torn page", err == 824 and "torn page" in text, (err, text[:200]))
        row5 = suspect_row(dbid, f, p, row4[1] + 2 if row4 else 6)
        check("suspect_pages: event_type 3 (torn page)", row5 and row5[0] == 3, row5)
        state["conn"].close()
        srv.stop()
        write_page(path, p, img)
        srv.start()
        connect()
        check("the whole torn-protected page reads back",
              val("SELECT v FROM pages.dbo.t WHERE id = 300") == "written with torn bits")
        check("the table still has all its rows", val("SELECT COUNT(*) FROM pages.dbo.t") == 600)

        # ---- DROP DATABASE deletes its suspect_pages rows, as SQL Server ----
        one("DROP DATABASE pages")
        deadline = time.time() + 15
        while time.time() < deadline and val("SELECT COUNT(*) FROM msdb.dbo.suspect_pages WHERE database_id = %d"
                                             % dbid):
            time.sleep(0.1)
        check("DROP DATABASE: its suspect_pages rows are gone",
              val("SELECT COUNT(*) FROM msdb.dbo.suspect_pages WHERE database_id = %d" % dbid) == 0)
    except Exception as e:
        check("unexpected exception", False, repr(e))
    finally:
        srv.cleanup()
    failed = sum(1 for r in results if not r)
    print("%d checks, %d failed" % (len(results), failed))
    return failed


if __name__ == "__main__":
    sys.exit(1 if main() else 0)
