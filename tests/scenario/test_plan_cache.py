"""The plan cache through a real client (sql/plancache.h): four connections
run statements of a few shapes, each with its own constants (integers,
negative numbers, decimals, strings of every length, an ORDER BY position),
and every answer must be the one the constants ask for. The same load runs
on a server with HADRD_PLAN_CACHE=0, and both end with the same rows. The
counters in sys.dm_os_performance_counters ('hadrdb:Plan Cache') show the
reuse, and DBCC FREEPROCCACHE empties the cache.
"""
import os, random, sys, threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from hadr import Checks, Server, one, perf_counters

THREADS = 4
IDS_PER_THREAD = 40
ROUNDS = 150


def counters(cur):
    return perf_counters(cur, "hadrdb:Plan Cache")


def setup(srv):
    c = srv.connect()
    cur = c.cursor()
    cur.execute("CREATE TABLE acct (id int PRIMARY KEY, bal int NOT NULL, rate decimal(9, 3) NOT NULL, name nvarchar(40) NOT NULL)")
    for i in range(THREADS * IDS_PER_THREAD):
        cur.execute("INSERT INTO acct VALUES (%d, %d, %d.%03d, N'n%d')" % (i, i * 10, i % 7, i % 1000, i))
    c.close()


def worker(srv, t, seed, wrong):
    """Changes its own rows with random constants, checking each answer."""
    rnd = random.Random(seed)
    c = srv.connect()
    cur = c.cursor()
    ids = range(t * IDS_PER_THREAD, (t + 1) * IDS_PER_THREAD)
    bal = {i: i * 10 for i in ids}
    for _ in range(ROUNDS):
        i = rnd.choice(ids)
        delta = rnd.randint(-99999, 99999)
        cur.execute("UPDATE acct SET bal = bal + %d WHERE id = %d" % (delta, i))
        bal[i] += delta
        got = one(cur, "SELECT bal, name FROM acct WHERE id = %d" % i)
        if got != [(bal[i], "n%d" % i)]:
            wrong.append(("select", i, got, bal[i]))
        suffix = "x" * rnd.randint(0, 12) + "'"
        got = one(cur, "SELECT name + N'%s' FROM acct WHERE id = %d" % (suffix.replace("'", "''"), i))
        if got != [("n%d%s" % (i, suffix),)]:
            wrong.append(("string", i, got, suffix))
        k = rnd.randint(1, 99)
        got = one(cur, "SELECT CAST(rate * %d.5 AS decimal(12, 4)) FROM acct WHERE id = %d" % (k, i))
        want = one(cur, "SELECT CAST(rate * CAST('%d.5' AS decimal(4, 1)) AS decimal(12, 4)) FROM acct WHERE id = %d" % (k, i))
        if got != want:
            wrong.append(("decimal", i, got, want))
        col = rnd.choice((1, 2))
        got = one(cur, "SELECT TOP 2 id, bal FROM acct WHERE id BETWEEN %d AND %d ORDER BY %d DESC"
                  % (ids[0], ids[-1], col))
        want = sorted(bal.items(), key=lambda kv: kv[col - 1], reverse=True)[:2]
        if col == 1 and got != want:
            wrong.append(("order by", col, got, want))
        if col == 2 and [b for _, b in got] != [b for _, b in want]:
            wrong.append(("order by", col, got, want))
    c.close()
    return bal


def load(srv):
    """Runs the threads; (wrong answers, expected balances)."""
    wrong, bals = [], {}
    def run(t):
        bals.update(worker(srv, t, 1000 + t, wrong))
    ths = [threading.Thread(target=run, args=(t,)) for t in range(THREADS)]
    for th in ths:
        th.start()
    for th in ths:
        th.join()
    return wrong, bals


def main():
    check = Checks()
    on = Server().start()
    off = Server(env={"HADRD_PLAN_CACHE": "0"}).start()
    try:
        for srv in (on, off):
            setup(srv)
        cur = on.connect().cursor()
        names = sorted(counters(cur))
        check("hadrdb:Plan Cache counters listed",
              names == ["Cache bytes", "Cache evictions", "Cache hits", "Cache misses", "Cached batches"], names)
        before = counters(cur)
        wrong, bals = load(on)
        after = counters(cur)
        check("cache on: every answer right", not wrong, wrong[:3])
        rows = one(cur, "SELECT id, bal FROM acct ORDER BY id")
        check("cache on: every balance right", rows == sorted(bals.items()), len(rows))
        hits = after["Cache hits"] - before["Cache hits"]
        # 5 statements per round, each shape parsed once (per thread at most)
        check("cache on: the shapes were reused", hits >= THREADS * ROUNDS * 5 - 40, after)
        check("cache on: one entry per shape, not per text", after["Cached batches"] < 60, after)

        off_cur = off.connect().cursor()
        wrong_off, bals_off = load(off)
        check("cache off: every answer right", not wrong_off, wrong_off[:3])
        check("cache off: same balances as with it", bals_off == bals)
        check("cache off: nothing counted", counters(off_cur) == {k: 0 for k in names}, counters(off_cur))

        cur.execute("DBCC FREEPROCCACHE WITH NO_INFOMSGS")
        left = counters(cur)["Cached batches"]
        check("DBCC FREEPROCCACHE empties the cache", left <= 2, left)
        cur.execute("SELECT bal FROM acct WHERE id = 3")
        cur.fetchall()
        cur.execute("SELECT bal FROM acct WHERE id = 4")
        check("after it, shapes are cached again", cur.fetchall() == [(bals[4],)] and counters(cur)["Cached batches"] > left)
    finally:
        on.cleanup()
        off.cleanup()
    print("plan cache: %s" % ("ok" if check.ok else "FAILED"))
    return 0 if check.ok else 1


if __name__ == "__main__":
    sys.exit(main())
