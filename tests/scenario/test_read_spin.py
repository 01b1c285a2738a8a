"""A session alone at work catches its client's next request spinning
(os/sockread.h), and says so in sys.dm_os_performance_counters
('hadrdb:Network'), except while a user transaction is open;
HADRD_READ_SPIN_US=0 turns it off. Both servers answer the same statements
with the same rows.

The spin limit is raised to 20 ms here so that a Python client's time
between two requests always falls inside it.
"""
import os, sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from hadr import Checks, Server, one, perf_counters

REQUESTS = 300


def counters(cur):
    return perf_counters(cur, "hadrdb:Network")


def workload(srv, in_transaction=False):
    """REQUESTS statements on one connection while another stays idle
    (inside one open transaction, or each on its own); the counters' growth
    over them, and the sum the statements returned."""
    idle = srv.connect()
    c = srv.connect()
    cur = c.cursor()
    before = counters(cur)
    total = 0
    if in_transaction:
        cur.execute("BEGIN TRANSACTION")
    for i in range(REQUESTS):
        cur.execute("SELECT %d + 1" % i)
        total += cur.fetchall()[0][0]
    if in_transaction:
        cur.execute("COMMIT")
    after = counters(cur)
    c.close()
    idle.close()
    return {k: after[k] - before[k] for k in after}, total


def main():
    check = Checks()
    want = sum(range(1, REQUESTS + 1))
    on = Server(env={"HADRD_READ_SPIN_US": "20000"}).start()
    off = Server(env={"HADRD_READ_SPIN_US": "0"}).start()
    try:
        names = sorted(counters(on.connect().cursor()))
        check("hadrdb:Network counters listed", names == ["Read spin time (us)", "Reads caught spinning",
                                                          "Reads that slept"], names)
        d, total = workload(on)
        check("spinning: every row right", total == want, total)
        # the counter query itself is one more read; a few may still sleep
        # (the first ones, before the session has been alone for a while)
        check("spinning: the requests were caught spinning", d["Reads caught spinning"] >= REQUESTS - 20, d)
        check("spinning: few reads slept", d["Reads that slept"] <= 20, d)
        check("spinning: spin time counted", d["Read spin time (us)"] > 0, d)
        # inside a user transaction the session sleeps: its COMMIT's log
        # flush needs the CPU a spinner would hold
        d, total = workload(on, in_transaction=True)
        check("open transaction: every row right", total == want, total)
        check("open transaction: reads slept", d["Reads that slept"] >= REQUESTS - 5, d)
        d, total = workload(off)
        check("off: every row right", total == want, total)
        check("off: nothing caught spinning", d["Reads caught spinning"] == 0, d)
        check("off: every read slept", d["Reads that slept"] >= REQUESTS, d)
        check("off: no spin time", d["Read spin time (us)"] == 0, d)
    finally:
        on.cleanup()
        off.cleanup()
    print("read spin: %s" % ("ok" if check.ok else "FAILED"))
    return 0 if check.ok else 1


if __name__ == "__main__":
    sys.exit(main())
