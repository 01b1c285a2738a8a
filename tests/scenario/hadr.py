"""Shared helpers of the scenario tests: start/stop hadrd on a free port with a
temporary (or given) data directory, connect with pymssql."""
import os, shutil, signal, socket, subprocess, tempfile, time

import pymssql

PASSWORD = "Hadr-scenario-pw1"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, hadrd=None, datadir=None, port=None, args=(), env=None):
        import sys
        if hadrd is None:
            hadrd = sys.argv[sys.argv.index("--hadrd") + 1] if "--hadrd" in sys.argv else "build/hadrd"
        hadrd = os.path.abspath(hadrd)
        self.hadrd = hadrd
        self.own_dir = datadir is None
        self.dir = datadir or tempfile.mkdtemp(prefix="hadr-scn-")
        self.port = port or free_port()
        self.proc = None
        self.args = list(args)   # further hadrd flags, e.g. ["-n", "inst1"]
        self.env = dict(env or {})   # further environment, e.g. {"HADRD_READ_SPIN_US": "0"}

    def start(self, timeout=60):
        env = dict(os.environ, HADRD_SA_PASSWORD=PASSWORD, HADRD_BUFFER_POOL_MB="32", **self.env)
        self.log = open(os.path.join(self.dir, "stderr.%d" % time.time_ns()), "w+")
        self.proc = subprocess.Popen([self.hadrd, "-D", os.path.join(self.dir, "data"), "-p", str(self.port)] + self.args,
                                     stdout=self.log, stderr=subprocess.STDOUT, env=env)
        deadline = time.time() + timeout
        while time.time() < deadline:
            self.log.seek(0)
            if "ready for connections" in self.log.read():
                return self
            if self.proc.poll() is not None:
                break
            time.sleep(0.05)
        self.log.seek(0)
        raise RuntimeError("hadrd did not become ready:\n" + self.log.read())

    def connect(self, autocommit=True, database="master"):
        return pymssql.connect(server="127.0.0.1", port=self.port, user="sa", password=PASSWORD,
                               database=database, autocommit=autocommit, login_timeout=10, timeout=60)

    def errorlog(self):
        with open(os.path.join(self.dir, "data", "log", "errorlog"), errors="replace") as f:
            return f.read()

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def kill(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def stop(self):
        if self.alive():
            self.proc.terminate()
            try:
                self.proc.wait(60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def cleanup(self):
        self.stop()
        if self.own_dir:
            shutil.rmtree(self.dir, ignore_errors=True)


# ---- helpers the scenario tests share ---------------------------------------

# Informational messages (severity 10) that pymssql raises as errors, as it
# does against SQL Server: BACKUP/RESTORE progress and outcome, 3192
# (deferred transactions remain), 4339 (more log to restore), DBCC's 8989.
INFO = {3014, 4035, 3211, 3192, 4339, 8989}


def err_number(exc):
    """The SQL Server error number of a pymssql exception (-1 if none)."""
    return exc.args[0] if exc.args and isinstance(exc.args[0], int) else -1


def err_of(cur, sql, info=INFO):
    """Run sql (every result set read); 0 on success or an informational
    message in `info`, else the error number."""
    try:
        cur.execute(sql)
        while True:
            try:
                cur.fetchall()
            except pymssql.Error:
                pass
            if not cur.nextset():
                break
        return 0
    except pymssql.Error as e:
        n = err_number(e)
        return 0 if n in info else n


def run_sets(cur, sql, info=INFO):
    """Run sql: (0, "", result sets) on success, (0, text, []) for an
    informational message in `info`, else (error number, text, [])."""
    try:
        cur.execute(sql)
        sets = []
        while True:
            if cur.description:
                sets.append(cur.fetchall())
            if not cur.nextset():
                break
        return 0, "", sets
    except pymssql.Error as e:
        num = err_number(e)
        text = e.args[1].decode(errors="replace") if len(e.args) > 1 and isinstance(e.args[1], bytes) else str(e)
        return (0, text, []) if num in info else (num, text, [])


def one(cur, sql):
    """The rows of sql's (first) result set."""
    cur.execute(sql)
    return cur.fetchall()


def perf_counters(cur, obj):
    """sys.dm_os_performance_counters of one object: {counter name: value}."""
    rows = one(cur, "SELECT counter_name, cntr_value FROM sys.dm_os_performance_counters "
                    "WHERE object_name = '%s'" % obj)
    return {name.strip(): int(v) for name, v in rows}


class Checks:
    """Named checks printed as they run; `ok` is false once one failed."""

    def __init__(self, width=66):
        self.ok = True
        self.width = width

    def __call__(self, name, good, detail=""):
        self.ok &= bool(good)
        print("%-*s %s" % (self.width, name, "ok" if good else "FAILED %s" % (detail,)))
        return bool(good)
