#!/usr/bin/python3
"""Durability through the server: 8 pymssql clients insert and transfer while
hadrd is SIGKILLed; after the restart every acknowledged commit is there and
the total balance is unchanged. Several rounds. Prints "scenario: N passed,
N failed"-style lines through the runner."""
import random, sys, threading, time

import pymssql

from hadr import Server

ROUNDS = 3
CLIENTS = 8
ACCOUNTS = 20


def setup(srv):
    c = srv.connect()
    cur = c.cursor()
    cur.execute("CREATE DATABASE bank")
    cur.execute("USE bank")
    cur.execute("CREATE TABLE acct (id int PRIMARY KEY, bal bigint NOT NULL)")
    cur.execute("CREATE TABLE ack (id bigint PRIMARY KEY, who int NOT NULL)")
    cur.execute("INSERT INTO acct VALUES " + ",".join("(%d, 1000)" % i for i in range(ACCOUNTS)))
    c.close()


def client(srv, rnd_no, who, stop, acked):
    rnd = random.Random(rnd_no * 100 + who)
    seq = 0
    try:
        c = srv.connect(autocommit=False, database="bank")
        cur = c.cursor()
        while not stop.is_set():
            a, b = rnd.sample(range(ACCOUNTS), 2)
            tid = rnd_no * 1_000_000_000 + who * 10_000_000 + seq
            seq += 1
            try:
                cur.execute("UPDATE acct SET bal = bal - 1 WHERE id = %d" % a)
                cur.execute("UPDATE acct SET bal = bal + 1 WHERE id = %d" % b)
                cur.execute("INSERT INTO ack VALUES (%d, %d)" % (tid, who))
                c.commit()
                acked.append(tid)   # acknowledged: commit() returned
            except pymssql.Error as e:
                if e.args and e.args[0] == 1205:
                    # deadlock victim: the server rolled the transaction back;
                    # the driver must be told before it starts the next one
                    try:
                        c.rollback()
                    except pymssql.Error:
                        pass
                    continue
                raise
    except Exception as e:
        if not stop.is_set():
            print("client %d stopped early: %r" % (who, e))
        return                      # the server went away under us


def main():
    srv = Server().start()
    failures = 0
    try:
        setup(srv)
        acked = []
        for r in range(ROUNDS):
            stop = threading.Event()
            ths = [threading.Thread(target=client, args=(srv, r, w, stop, acked)) for w in range(CLIENTS)]
            for t in ths:
                t.start()
            time.sleep(1.5 + r)
            stop.set()      # clients stop after their current transaction...
            srv.kill()      # ...which the kill interrupts mid-way
            for t in ths:
                t.join(30)
            srv.start()
            c = srv.connect(database="bank")
            cur = c.cursor()
            cur.execute("SELECT SUM(bal), COUNT(*) FROM acct")
            total, n = cur.fetchone()
            cur.execute("SELECT id FROM ack")
            present = {row[0] for row in cur.fetchall()}
            c.close()
            lost = [t for t in acked if t not in present]
            ok = total == ACCOUNTS * 1000 and n == ACCOUNTS and not lost
            print("round %d: %d acknowledged, %d present, %d lost, total %s -> %s"
                  % (r + 1, len(acked), len(present), len(lost), total, "ok" if ok else "FAILED"))
            failures += 0 if ok else 1
    finally:
        srv.cleanup()
    return failures


if __name__ == "__main__":
    sys.exit(1 if main() else 0)
