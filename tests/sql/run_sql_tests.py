#!/usr/bin/python3
"""Runs every tests/sql/*.sql script through pymssql against a hadrd started
here (free port, temporary DATADIR) and compares what the client saw with the
script's .expected file.

A script is split into batches at lines holding only GO. For each batch the
output lists every result set as a header line of column names and one line
per row (values tab-separated, NULL for nulls), the rows-affected count
"(N rows affected)" when the driver reports one, and an error that ended the
batch's execution on the client as "Msg N: text" (pymssql reports the first
error of a batch with its number; INFO messages are not visible through it).

  tests/sql/run_sql_tests.py [--hadrd build/hadrd] [--update] [script ...]

--update rewrites the .expected files from what was seen (review the diff!).
Prints "sql: N passed, N failed" last; exit 1 on any failure.
"""
import argparse, os, re, shutil, socket, subprocess, sys, tempfile, time

import pymssql

PASSWORD = "Hadr-test-pw1"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, hadrd):
        self.dir = tempfile.mkdtemp(prefix="hadr-sql-")
        self.port = free_port()
        env = dict(os.environ, HADRD_SA_PASSWORD=PASSWORD, HADRD_BUFFER_POOL_MB="32")
        self.log = open(os.path.join(self.dir, "stderr"), "w+")
        self.proc = subprocess.Popen([hadrd, "-D", os.path.join(self.dir, "data"), "-p", str(self.port),
                                      "-n", "HADRTEST"], stdout=self.log, stderr=subprocess.STDOUT, env=env)
        deadline = time.time() + 60
        while time.time() < deadline:
            self.log.seek(0)
            if "ready for connections" in self.log.read():
                return
            if self.proc.poll() is not None:
                break
            time.sleep(0.05)
        self.log.seek(0)
        raise RuntimeError("hadrd did not become ready:\n" + self.log.read())

    def connect(self):
        return pymssql.connect(server="127.0.0.1", port=self.port, user="sa", password=PASSWORD,
                               database="master", autocommit=True, login_timeout=10)

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        shutil.rmtree(self.dir, ignore_errors=True)


def fmt(v):
    if v is None:
        return "NULL"
    if isinstance(v, bytes):
        return "0x" + v.hex().upper()
    return str(v)


def run_script(srv, path):
    out = []
    conn = srv.connect()
    text = open(path, encoding="utf-8").read()
    batches = re.split(r"(?im)^\s*GO\s*$", text)
    cur = conn.cursor()
    for batch in batches:
        if not batch.strip():
            continue
        try:
            cur.execute(batch)
            while True:
                if cur.description:
                    out.append("\t".join(d[0] or "" for d in cur.description))
                    for row in cur.fetchall():
                        out.append("\t".join(fmt(v) for v in row))
                elif cur.rowcount >= 0:
                    out.append("(%d rows affected)" % cur.rowcount)
                if not cur.nextset():
                    break
        except pymssql.Error as e:
            num, msg = (e.args + (None, None))[:2]
            if isinstance(msg, bytes):
                msg = msg.decode("utf-8", "replace")
            first = (msg or "").split("DB-Lib error")[0].strip()
            out.append("Msg %s: %s" % (num, first))
    conn.close()
    return "\n".join(out) + "\n"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--hadrd", default="build/hadrd")
    ap.add_argument("--update", action="store_true")
    ap.add_argument("scripts", nargs="*")
    a = ap.parse_args()
    here = os.path.dirname(os.path.abspath(__file__))
    scripts = a.scripts or sorted(os.path.join(here, f) for f in os.listdir(here) if f.endswith(".sql"))
    srv = Server(a.hadrd)
    passed = failed = 0
    try:
        for s in scripts:
            got = run_script(srv, s)
            exp_path = s[:-4] + ".expected"
            if a.update:
                open(exp_path, "w").write(got)
            want = open(exp_path).read() if os.path.exists(exp_path) else ""
            if got == want:
                passed += 1
                print("%-40s ok" % os.path.basename(s))
            else:
                failed += 1
                print("%-40s FAILED" % os.path.basename(s))
                import difflib
                sys.stdout.writelines(difflib.unified_diff(want.splitlines(True), got.splitlines(True),
                                                           "expected", "got"))
    finally:
        srv.stop()
    print("sql: %d passed, %d failed" % (passed, failed))
    sys.exit(1 if failed or not passed else 0)


if __name__ == "__main__":
    main()
