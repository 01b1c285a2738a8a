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
    def __init__(self, hadrd=None, datadir=None, port=None, args=()):
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

    def start(self, timeout=60):
        env = dict(os.environ, HADRD_SA_PASSWORD=PASSWORD, HADRD_BUFFER_POOL_MB="32")
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
