#!/usr/bin/python3
"""32 pymssql clients transfer money at once, each a fixed number of times,
in explicit transactions. Clients come in pairs working on the same two
accounts in opposite directions, with a short pause between the two UPDATEs,
so the pair deadlocks often (every third transfer goes between any two
accounts, which makes longer cycles across pairs): the server picks a victim (error 1205) and rolls
its transaction back; the victim calls rollback() and retries the same
transfer until it commits.

Checks: every transfer committed exactly once (the journal table holds
exactly what clients counted), each balance equals what the journal says,
the total is unchanged, at least one 1205 was seen and no other error, and
the server still answers afterwards."""
import random, sys, threading, time

import pymssql

from hadr import Server

CLIENTS = 32
TRANSFERS = 30          # per client
ACCOUNTS = CLIENTS      # two per pair of clients
START = 1000
PAUSE = 0.02            # between the two UPDATEs: widens the deadlock window
DEADLINE = 120          # seconds for the whole workload


def setup(srv):
    c = srv.connect()
    cur = c.cursor()
    cur.execute("CREATE DATABASE bank")
    cur.execute("USE bank")
    cur.execute("CREATE TABLE acct (id int PRIMARY KEY, bal bigint NOT NULL)")
    cur.execute("CREATE TABLE journal (client int NOT NULL, seq int NOT NULL, src int NOT NULL, dst int NOT NULL, "
                "amt int NOT NULL, tries int NOT NULL, PRIMARY KEY (client, seq))")
    cur.execute("INSERT INTO acct VALUES " + ",".join("(%d, %d)" % (i, START) for i in range(ACCOUNTS)))
    c.close()


class Client(threading.Thread):
    def __init__(self, srv, who, start_gate):
        super().__init__()
        self.srv, self.who, self.gate = srv, who, start_gate
        self.committed = self.deadlocks = 0
        self.message = None      # text of a 1205
        self.error = None
        pair = who // 2
        a, b = 2 * pair, 2 * pair + 1
        self.src, self.dst = (a, b) if who % 2 == 0 else (b, a)   # the partner goes the other way

    def run(self):
        rnd = random.Random(self.who)
        try:
            c = self.srv.connect(autocommit=False, database="bank")
            cur = c.cursor()
            self.gate.wait()
            for seq in range(TRANSFERS):
                amt = rnd.randint(1, 10)
                src, dst = self.src, self.dst
                if seq % 3 == 2:   # now and then any two accounts: longer cycles across pairs
                    src, dst = rnd.sample(range(ACCOUNTS), 2)
                tries = 0
                while True:
                    tries += 1
                    try:
                        cur.execute("UPDATE acct SET bal = bal - %d WHERE id = %d" % (amt, src))
                        time.sleep(PAUSE * rnd.random())
                        cur.execute("UPDATE acct SET bal = bal + %d WHERE id = %d" % (amt, dst))
                        cur.execute("INSERT INTO journal VALUES (%d, %d, %d, %d, %d, %d)"
                                    % (self.who, seq, src, dst, amt, tries))
                        c.commit()
                        self.committed += 1
                        break
                    except pymssql.Error as e:
                        if not (e.args and e.args[0] == 1205):
                            raise
                        # deadlock victim: the server already rolled back;
                        # the driver must be told before the next attempt
                        self.deadlocks += 1
                        self.message = e.args[1] if len(e.args) > 1 else None
                        c.rollback()
                        if tries > 200:
                            raise RuntimeError("transfer %d of client %d never committed" % (seq, self.who))
            c.close()
        except Exception as e:   # reported by main
            self.error = e


def main():
    srv = Server().start()
    failures = []

    def check(cond, what):
        print(("ok   " if cond else "FAIL ") + what)
        if not cond:
            failures.append(what)

    try:
        setup(srv)
        gate = threading.Barrier(CLIENTS)
        clients = [Client(srv, w, gate) for w in range(CLIENTS)]
        t0 = time.time()
        for t in clients:
            t.start()
        for t in clients:
            t.join(max(1, DEADLINE - (time.time() - t0)))
        took = time.time() - t0
        stuck = [t.who for t in clients if t.is_alive()]
        check(not stuck, "all %d clients finished within %d s (took %.1f s; stuck: %s)"
              % (CLIENTS, DEADLINE, took, stuck))
        errs = [(t.who, repr(t.error)) for t in clients if t.error]
        check(not errs, "no client error other than 1205: %s" % errs[:3])
        committed = sum(t.committed for t in clients)
        deadlocks = sum(t.deadlocks for t in clients)
        check(committed == CLIENTS * TRANSFERS, "clients counted %d commits, want %d" % (committed, CLIENTS * TRANSFERS))
        check(deadlocks >= 1, "deadlock victims (1205) seen: %d" % deadlocks)
        msg = next((t.message for t in clients if t.message), b"")
        msg = msg.decode("utf-8", "replace") if isinstance(msg, bytes) else str(msg)
        check("chosen as the deadlock victim" in msg, "1205 message: %s" % msg.split("DB-Lib")[0].strip())

        c = srv.connect(database="bank")
        cur = c.cursor()
        cur.execute("SELECT SUM(bal), COUNT(*) FROM acct")
        total, n = cur.fetchone()
        check(total == ACCOUNTS * START and n == ACCOUNTS, "total balance %s over %s accounts, want %d"
              % (total, n, ACCOUNTS * START))
        cur.execute("SELECT client, seq, src, dst, amt FROM journal")
        journal = cur.fetchall()
        check(len(journal) == committed, "journal holds %d transfers, clients counted %d" % (len(journal), committed))
        check(len({(r[0], r[1]) for r in journal}) == len(journal), "each transfer journaled once")
        want = {i: START for i in range(ACCOUNTS)}
        for _, _, src, dst, amt in journal:
            want[src] -= amt
            want[dst] += amt
        cur.execute("SELECT id, bal FROM acct ORDER BY id")
        got = dict(cur.fetchall())
        bad = [i for i in range(ACCOUNTS) if got.get(i) != want[i]]
        check(not bad, "every balance matches the journal (mismatched accounts: %s)" % bad[:5])
        c.close()

        # the server still serves new sessions, and none of ours is left in a transaction
        c = srv.connect()
        cur = c.cursor()
        cur.execute("SELECT 42")
        check(cur.fetchone()[0] == 42, "server answers after the workload")
        c.close()
        check(srv.alive(), "server process alive")
    finally:
        srv.cleanup()
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
