#!/usr/bin/python3
"""Sessions seen and ended from T-SQL: sys.dm_exec_sessions/requests, KILL
(idle and blocked victims; their transactions roll back), KILL's errors,
@@SERVERNAME from -n, SHUTDOWN (clean: no recovery work at the next start)
and SHUTDOWN WITH NOWAIT (the next start runs crash recovery; nothing
committed lost)."""
import re, sys, threading, time

import pymssql

from hadr import Server


def expect_error(cur, sql, number):
    try:
        cur.execute(sql)
        cur.fetchall() if cur.description else None
    except pymssql.Error as e:
        got = e.args[0] if e.args and isinstance(e.args[0], int) else None
        assert got == number, "%s: expected Msg %d, got %r" % (sql, number, e.args)
        return
    raise AssertionError("%s: expected Msg %d, got no error" % (sql, number))


def scalar(cur, sql):
    cur.execute(sql)
    return cur.fetchone()[0]


def wait_until(pred, what, timeout=20):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if pred():
            return
        time.sleep(0.05)
    raise AssertionError("timed out waiting for " + what)


def kill_idle_in_transaction(srv):
    admin = srv.connect()
    cur = admin.cursor()
    cur.execute("CREATE DATABASE k")
    cur.execute("CREATE TABLE k.dbo.t (id int PRIMARY KEY, v int)")
    cur.execute("INSERT INTO k.dbo.t VALUES (1, 10)")

    victim = srv.connect(autocommit=False, database="k")
    vcur = victim.cursor()
    vspid = scalar(vcur, "SELECT @@SPID")
    vcur.execute("UPDATE t SET v = 11 WHERE id = 1")
    vcur.execute("INSERT INTO t VALUES (2, 20)")

    cur.execute("SELECT session_id, status FROM sys.dm_exec_sessions WHERE session_id = %d" % vspid)
    assert cur.fetchall() == [(vspid, "sleeping")], "victim not listed as a sleeping session"
    cur.execute("SELECT COUNT(*) FROM sys.dm_tran_active_transactions")
    assert cur.fetchone()[0] >= 1

    expect_error(cur, "KILL %d" % scalar(cur, "SELECT @@SPID"), 6104)     # own session
    expect_error(cur, "KILL 30000", 6106)                                  # no such session
    admin.autocommit(False)
    expect_error(cur, "KILL %d" % vspid, 6115)                             # inside a transaction
    admin.rollback()
    admin.autocommit(True)

    cur.execute("KILL %d" % vspid)
    # the idle victim ends at once (not at its next request); its work is rolled back
    wait_until(lambda: scalar(cur, "SELECT COUNT(*) FROM sys.dm_exec_sessions WHERE session_id = %d" % vspid) == 0,
               "the killed session to disappear")
    cur.execute("SELECT id, v FROM k.dbo.t ORDER BY id")
    assert cur.fetchall() == [(1, 10)], "killed session's transaction was not rolled back"
    try:
        vcur.execute("SELECT 1")
        vcur.fetchall()
        raise AssertionError("killed session still answers")
    except pymssql.Error:
        pass
    admin.close()


def kill_blocked_request(srv):
    holder = srv.connect(autocommit=False, database="k")
    hcur = holder.cursor()
    hspid = scalar(hcur, "SELECT @@SPID")
    hcur.execute("UPDATE t SET v = 12 WHERE id = 1")       # holds X on the row

    victim = srv.connect(autocommit=False, database="k")
    vcur = victim.cursor()
    vspid = scalar(vcur, "SELECT @@SPID")
    outcome = {}

    def blocked():
        try:
            vcur.execute("UPDATE t SET v = 13 WHERE id = 1")
            outcome["rc"] = "completed"
        except pymssql.Error as e:
            outcome["rc"] = e.args
    th = threading.Thread(target=blocked)
    th.start()

    admin = srv.connect()
    cur = admin.cursor()
    q = ("SELECT session_id, status, command, blocking_session_id, wait_type FROM sys.dm_exec_requests "
         "WHERE session_id = %d AND status = 'suspended'" % vspid)
    wait_until(lambda: len((cur.execute(q), cur.fetchall())[1]) == 1, "the blocked request to show")
    cur.execute(q)
    row = cur.fetchone()
    assert row[2] == "UPDATE", "command of the blocked request: %r" % (row,)
    assert row[3] == hspid, "blocking_session_id: %r, holder is %d" % (row, hspid)
    assert row[4] in ("LCK_M_S", "LCK_M_U", "LCK_M_X"), "wait_type: %r" % (row,)
    cur.execute("KILL %d" % vspid)
    th.join(20)
    assert not th.is_alive(), "blocked request did not end after KILL"
    assert outcome.get("rc") != "completed", "killed request completed"
    holder.commit()
    cur.execute("SELECT v FROM k.dbo.t WHERE id = 1")
    assert cur.fetchone()[0] == 12
    assert scalar(cur, "SELECT COUNT(*) FROM sys.dm_exec_sessions WHERE session_id = %d" % hspid) == 1
    holder.close()
    admin.close()


def server_name(srv):
    c = srv.connect()
    assert scalar(c.cursor(), "SELECT @@SERVERNAME") == "scn_inst"
    assert scalar(c.cursor(), "SELECT CAST(SERVERPROPERTY('ServerName') AS nvarchar(128))") == "scn_inst"
    c.close()


def shutdown(srv, nowait):
    c = srv.connect()
    cur = c.cursor()
    cur.execute("INSERT INTO k.dbo.t VALUES (%d, 1)" % (100 + nowait))
    log_before = len(srv.errorlog())
    try:
        cur.execute("SHUTDOWN WITH NOWAIT" if nowait else "SHUTDOWN")
    except pymssql.Error:
        pass        # the connection may go before the client reads the answer
    srv.proc.wait(30)
    assert srv.proc.returncode == 0, "hadrd exit code %r" % srv.proc.returncode
    log = srv.errorlog()[log_before:]
    assert ("All databases were checkpointed and closed." in log) != bool(nowait), log
    srv.start()
    log = srv.errorlog()
    recovery = re.findall(r"Recovery: (\d+) log records analyzed, (\d+) redone", log)[-1]
    redone = int(recovery[1])
    if nowait:
        assert redone > 0, "no redo after SHUTDOWN WITH NOWAIT: %r" % (recovery,)
    else:
        assert redone == 0, "redo after a clean SHUTDOWN: %r" % (recovery,)
    c = srv.connect()
    cur = c.cursor()
    cur.execute("SELECT COUNT(*) FROM k.dbo.t WHERE id = %d" % (100 + nowait))
    assert cur.fetchone()[0] == 1, "committed row lost over SHUTDOWN"
    c.close()


def main():
    srv = Server(args=["-n", "scn_inst"]).start()
    try:
        kill_idle_in_transaction(srv)
        kill_blocked_request(srv)
        server_name(srv)
        shutdown(srv, nowait=0)
        shutdown(srv, nowait=1)
        assert srv.alive()
        print("test_kill_shutdown: ok")
    finally:
        srv.cleanup()


if __name__ == "__main__":
    sys.exit(main())
