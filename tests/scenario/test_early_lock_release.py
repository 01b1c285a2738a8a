"""Early lock release at commit (txn/README.md): clients incrementing the
same rows hand the row locks to each other while each commit is flushed;
nothing is lost, every client reads back a consistent total, and a restart
after SIGKILL keeps every acknowledged commit. The locks released that way
are counted in sys.dm_os_performance_counters ('hadrdb:Locks');
HADRD_EARLY_LOCK_RELEASE=0 keeps them until the flush (the counter stays 0).
"""
import os, sys, threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from hadr import Checks, Server, err_number, one

CLIENTS = 6
ROUNDS = 150
import pymssql


def handed_over(cur):
    return one(cur, "SELECT cntr_value FROM sys.dm_os_performance_counters "
                    "WHERE object_name = 'hadrdb:Locks' AND counter_name = 'Locks handed over at commit'")[0][0]


def hammer(srv):
    """CLIENTS threads: ROUNDS transactions each adding 1 to both rows and
    reading them; returns (acknowledged commits, reads that saw the rows
    disagree, errors other than deadlocks)."""
    acked, torn, errors = [0], [0], []
    lock = threading.Lock()

    def client():
        c = srv.connect()
        cur = c.cursor()
        for _ in range(ROUNDS):
            try:
                cur.execute("BEGIN TRAN; UPDATE elr.dbo.hot SET n = n + 1 WHERE id = 1; "
                            "UPDATE elr.dbo.hot SET n = n + 1 WHERE id = 2; "
                            "SELECT SUM(CASE WHEN id = 1 THEN n ELSE -n END) FROM elr.dbo.hot; COMMIT")
                diff = cur.fetchall()[0][0]
                with lock:
                    acked[0] += 1
                    torn[0] += diff != 0
            except pymssql.Error as e:
                if err_number(e) != 1205:
                    with lock:
                        errors.append(err_number(e))
                try:
                    cur.execute("IF @@TRANCOUNT > 0 ROLLBACK")
                except pymssql.Error:
                    pass
        c.close()

    ths = [threading.Thread(target=client) for _ in range(CLIENTS)]
    for t in ths:
        t.start()
    for t in ths:
        t.join()
    return acked[0], torn[0], errors


def run(check, label, env):
    srv = Server(env=env).start()
    try:
        c = srv.connect()
        cur = c.cursor()
        for sql in ["CREATE DATABASE elr", "CREATE TABLE elr.dbo.hot (id int PRIMARY KEY, n int NOT NULL)",
                    "INSERT INTO elr.dbo.hot VALUES (1, 0), (2, 0)"]:
            cur.execute(sql)
        before = handed_over(cur)
        acked, torn, errors = hammer(srv)
        rows = one(cur, "SELECT n FROM elr.dbo.hot ORDER BY id")
        check("%s: no errors but deadlock victims" % label, not errors, errors)
        check("%s: every acknowledged commit counted" % label, rows == [(acked,), (acked,)], (rows, acked))
        check("%s: every read saw both rows alike" % label, torn == 0, torn)
        moved = handed_over(cur) - before
        c.close()
        srv.kill()
        srv.start()
        rows = one(srv.connect().cursor(), "SELECT n FROM elr.dbo.hot ORDER BY id")
        check("%s: after SIGKILL every acknowledged commit is there" % label,
              rows == [(acked,), (acked,)], (rows, acked))
        return moved
    finally:
        srv.cleanup()


def main():
    check = Checks()
    moved = run(check, "early release", {})
    check("early release: locks handed over at commit", moved > 0, moved)
    moved = run(check, "off", {"HADRD_EARLY_LOCK_RELEASE": "0"})
    check("off: no lock handed over", moved == 0, moved)
    print("early lock release: %s" % ("ok" if check.ok else "FAILED"))
    return 0 if check.ok else 1


if __name__ == "__main__":
    sys.exit(main())
