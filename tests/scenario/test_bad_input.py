#!/usr/bin/python3
"""Bad input on the wire: garbage, truncated and oversized packets, a bad
login, clients vanishing mid-packet and mid-transaction. Each gets an error or
a closed connection; the server keeps serving everyone else and loses nothing
committed."""
import os, random, socket, struct, sys, time

import pymssql

from hadr import Server


def raw(srv, payload, wait=0.5):
    s = socket.create_connection(("127.0.0.1", srv.port), timeout=5)
    try:
        s.sendall(payload)
        s.shutdown(socket.SHUT_WR)
        s.settimeout(wait)
        try:
            while s.recv(65536):
                pass
        except (socket.timeout, ConnectionResetError):
            pass
    finally:
        s.close()


def packet(ptype, body, status=1, length=None):
    return struct.pack(">BBHHBB", ptype, status, length if length is not None else 8 + len(body), 0, 1, 0) + body


def main():
    srv = Server().start()
    results = []

    def check(name, cond):
        results.append(cond)
        print("%-50s %s" % (name, "ok" if cond else "FAILED"))

    try:
        good = srv.connect()
        cur = good.cursor()
        cur.execute("CREATE TABLE keep (id int PRIMARY KEY)")
        cur.execute("INSERT INTO keep VALUES (1), (2), (3)")
        rnd = random.Random(7)
        cases = {
            "random bytes": bytes(rnd.getrandbits(8) for _ in range(3000)),
            "header only": packet(0x12, b"")[:5],
            "length below header": packet(0x12, b"abc", length=4),
            "length beyond data": packet(0x12, b"abc", length=30000),
            "oversize length field": packet(0x12, b"x" * 100, length=65535),
            "login7 garbage": packet(0x10, bytes(rnd.getrandbits(8) for _ in range(200))),
            "batch before login": packet(0x01, "SELECT 1".encode("utf-16-le")),
            "prelogin truncated option table": packet(0x12, b"\x00\x00\x10"),
        }
        for name, data in cases.items():
            raw(srv, data)
            check("malformed: " + name, srv.alive())
        # a wrong password is 18456 and the server carries on
        try:
            import hadr
            pymssql.connect(server="127.0.0.1", port=srv.port, user="sa", password="wrong", login_timeout=5)
            check("wrong password refused", False)
        except pymssql.Error as e:
            check("wrong password refused (18456)", "18456" in str(e))
        # a client that opens a transaction and vanishes: rolled back, locks freed
        c = srv.connect(autocommit=False)
        cur2 = c.cursor()
        cur2.execute("INSERT INTO keep VALUES (100)")
        c._conn.close() if hasattr(c, "_conn") else c.close()
        time.sleep(0.5)
        cur.execute("SELECT COUNT(*) FROM keep")
        check("vanished client's transaction rolled back", cur.fetchone()[0] == 3)
        # a client that dies in the middle of a packet
        s = socket.create_connection(("127.0.0.1", srv.port))
        s.sendall(packet(0x12, b"\x00" * 40)[:20])
        s.close()
        cur.execute("SELECT COUNT(*) FROM keep")
        check("server still serves after all that", cur.fetchone()[0] == 3 and srv.alive())
        good.close()
    finally:
        srv.cleanup()
    return sum(1 for r in results if not r)


if __name__ == "__main__":
    sys.exit(1 if main() else 0)
