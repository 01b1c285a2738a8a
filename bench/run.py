#!/usr/bin/python3
"""Client/server benchmarks: hadrdb against PostgreSQL 15 on the same machine,
in the same run, interleaved. See bench/README.md for the method.

    bench/run.py tpcb|select|recovery|server|all|summary|charts

Each benchmark writes bench/results/<name>.json and <name>.png and prints a
table; `summary` prints the tables of the JSON files already there (with
bench/backup_bench.py's and bench/marks_bench.py's), `charts` also redraws
their PNGs.

Environment: BENCH_SECONDS (per point, default 15), BENCH_SCALE (10),
BENCH_CLIENTS (1,8,32), BENCH_RECOVERY_SECONDS (20), BENCH_POOL_MB (256:
hadrdb's buffer pool and PostgreSQL's shared_buffers), BENCH_DIR (scratch,
default build/bench-srv), BENCH_OUT (default bench/results).
"""
import json, os, platform, pwd, re, resource, shutil, signal, socket, subprocess, sys, time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD = os.path.join(ROOT, "build")
SECONDS = int(os.environ.get("BENCH_SECONDS", "15"))   # pgbench -T takes whole seconds
SCALE = int(os.environ.get("BENCH_SCALE", "10"))
CLIENTS = [int(x) for x in os.environ.get("BENCH_CLIENTS", "1,8,32").split(",")]
REC_SECONDS = int(os.environ.get("BENCH_RECOVERY_SECONDS", "20"))
POOL_MB = int(os.environ.get("BENCH_POOL_MB", "256"))
WORK = os.path.abspath(os.environ.get("BENCH_DIR", os.path.join(BUILD, "bench-srv")))
OUT = os.path.abspath(os.environ.get("BENCH_OUT", os.path.join(ROOT, "bench", "results")))
PGBIN = "/usr/lib/postgresql/15/bin"
PASSWORD = "Bench-sa-pw1"
IDLE_CONNS = 100
# Same checkpoint spacing for both servers (PostgreSQL's default), and an
# explicit CHECKPOINT on both before every timed run: neither pays for the
# other's dirty pages, and bench-recovery replays exactly its own load.
CHECKPOINT_S = 300


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def die(msg):
    log("bench: " + msg)
    sys.exit(1)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# ---- machine and CPU accounting ----------------------------------------------

def machine():
    cpu = ""
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    with open("/proc/meminfo") as f:
        mem_kb = int(f.readline().split()[1])
    return {"nproc": os.cpu_count(), "cpu_model": cpu, "mem_gb": round(mem_kb / 2**20, 1),
            "kernel": platform.release(), "date_utc": time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime()),
            "loadavg_at_start": open("/proc/loadavg").read().split()[0]}


HZ = os.sysconf("SC_CLK_TCK")


def proc_stat(pid):
    """(ppid, cpu seconds of the process itself, of its reaped children)."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            v = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return int(v[1]), (int(v[11]) + int(v[12])) / HZ, (int(v[13]) + int(v[14])) / HZ


def alive(pid):
    """True while pid runs (a zombie has exited)."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def children(pid):
    out = []
    for d in os.listdir("/proc"):
        if d.isdigit():
            st = proc_stat(int(d))
            if st and st[0] == pid:
                out.append(int(d))
    return out


def tree_cpu(pid):
    """CPU of a server: the process, its live children and the reaped ones
    (PostgreSQL's backends exit with their connections)."""
    st = proc_stat(pid)
    if not st:
        return 0.0
    total = st[1] + st[2]
    for c in children(pid):
        cs = proc_stat(c)
        if cs:
            total += cs[1]
    return total


def sys_cpu():
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:9]]
    busy = v[0] + v[1] + v[2] + v[5] + v[6] + v[7]
    return busy / HZ, (busy + v[3] + v[4]) / HZ


def children_cpu():
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def fsync_rate():
    out = subprocess.run([os.path.join(BUILD, "fsync_probe"), WORK, "2"], capture_output=True, text=True)
    if out.returncode != 0:
        die("fsync_probe failed: " + out.stderr)
    return json.loads(out.stdout)["fsync_per_s"]


def pct(sorted_v, p):
    return sorted_v[int(p * (len(sorted_v) - 1) + 0.5)] if sorted_v else 0.0


def mem_kb(pid):
    """RSS and PSS of one process, and the RSS of hadrdb's buffer pool (its
    one anonymous mapping of the pool's size)."""
    rss = pss = pool = 0
    size = 0
    try:
        with open("/proc/%d/smaps" % pid) as f:
            for line in f:
                k = line.split()
                if not k:
                    continue
                if k[0] == "Size:":
                    size = int(k[1])
                elif k[0] == "Rss:":
                    rss += int(k[1])
                    if POOL_MB * 1024 <= size <= POOL_MB * 1024 + 8192:
                        pool += int(k[1])
                elif k[0] == "Pss:":
                    pss += int(k[1])
    except OSError:
        pass
    return rss, pss, pool


# ---- the two servers ----------------------------------------------------------

class Hadrdb:
    name = "hadrdb"

    def __init__(self, tag):
        self.dir = os.path.join(WORK, tag + "-" + self.name)
        self.proc = None
        self.port = free_port()

    def fresh(self):
        shutil.rmtree(self.dir, ignore_errors=True)
        os.makedirs(self.dir)

    def start(self):
        env = dict(os.environ, HADRD_SA_PASSWORD=PASSWORD, HADRD_BUFFER_POOL_MB=str(POOL_MB),
                   HADRD_CHECKPOINT_S=str(CHECKPOINT_S))
        self.log = os.path.join(self.dir, "stderr.log")
        t0 = time.monotonic()
        with open(self.log, "a") as lf:
            lf.write("==== start %s\n" % time.ctime())
            lf.flush()
            start_at = lf.tell()
            self.proc = subprocess.Popen([os.path.join(BUILD, "hadrd"), "-D", os.path.join(self.dir, "data"),
                                          "-p", str(self.port)], stdout=lf, stderr=subprocess.STDOUT, env=env)
        self._since = start_at
        wait_for_line_from(self.log, start_at, "ready for connections", self.proc, 600)
        return time.monotonic() - t0

    def startup_log(self):
        with open(self.log, errors="replace") as f:
            f.seek(self._since)
            return f.read()

    def pid(self):
        return self.proc.pid

    def cpu(self):
        return tree_cpu(self.proc.pid)

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(120)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def kill(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def loadgen(self, *args, db="bench", check=True, **kw):
        cmd = [os.path.join(BUILD, "loadgen"), "-H", "127.0.0.1", "-p", str(self.port), "-U", "sa",
               "-P", PASSWORD, "-d", db] + [str(a) for a in args]
        return run_json(cmd, check=check, **kw)

    def sql(self, stmt, db="bench"):
        import pymssql   # installed with the build dependencies
        c = pymssql.connect(server="127.0.0.1", port=self.port, user="sa", password=PASSWORD, database=db,
                            autocommit=True, login_timeout=30, timeout=600)
        try:
            cur = c.cursor()
            cur.execute(stmt)
            try:
                return cur.fetchall()
            except pymssql.Error:
                return None
        finally:
            c.close()

    def load(self):
        r = self.loadgen("-m", "init", "-s", SCALE)
        self.checkpoint()
        return r["load_s"]

    def checkpoint(self):
        self.sql("CHECKPOINT")

    def prepare_run(self, kind):
        self.checkpoint()

    def run(self, kind, clients, seconds):
        # tpcb1: the same transaction sent as one T-SQL batch (loadgen -b)
        mode = ["-m", "tpcb", "-b"] if kind == "tpcb1" else ["-m", kind]
        r = self.loadgen(*mode, "-c", clients, "-T", seconds, "-s", SCALE)
        return {"tps": r["tps"], "p50_ms": r["p50_ms"], "p99_ms": r["p99_ms"], "max_ms": r["max_ms"],
                "txns": r["txns"], "retries": r["deadlocks"], "errors": r["errors"],
                "client_cpu_s": r["loadgen_cpu_s"], "last_error": r["last_error"]}

    def check(self):
        r = self.loadgen("-m", "check", "-s", SCALE, check=False)
        return r

    def recovery_stats(self):
        m = re.search(r"Recovery: (\d+) log records analyzed, (\d+) redone \((\d+) pages, ([\d.]+) MB\) in ([\d.]+) s;"
                      r" (\d+) transactions rolled back", self.startup_log())
        if not m:
            return {}
        return {"records_analyzed": int(m.group(1)), "records_redone": int(m.group(2)),
                "pages_redone": int(m.group(3)), "log_mb": float(m.group(4)), "redo_s": float(m.group(5)),
                "txns_rolled_back": int(m.group(6))}


class Floor(Hadrdb):
    """bench/tds_floor.c: hadrd's protocol code and thread per session, no
    database work and no spinning read. The same load generator against it
    shows what the round trips alone cost, client and server, on this
    machine at that moment. The durable floor adds a group-committed
    fdatasync of FLOOR_LOG_BYTES per COMMIT: the round trips and a durable
    commit, still no database work."""
    name = "floor"
    kinds = ("tpcb", "tpcb1", "select")
    title = ("floor (bench/tds_floor.c: the same client against hadrd's protocol code doing no database work, "
             "blocking reads, no spinning):")

    def start(self):
        self.log = os.path.join(self.dir, "stderr.log")
        with open(self.log, "a") as lf:
            start_at = lf.tell()
            self.proc = subprocess.Popen([os.path.join(BUILD, "tds_floor"), str(self.port)] + self.log_args(),
                                         stdout=lf, stderr=subprocess.STDOUT)
        wait_for_line_from(self.log, start_at, "listening", self.proc, 60)

    def log_args(self):
        return []

    def checkpoint(self):
        pass

    prepare_run = checkpoint


# about what hadrd logs per TPC-B transaction (bench-recovery: 187 MB for
# 62,934 transactions, 2.97 KB each)
FLOOR_LOG_BYTES = 3000


class DurableFloor(Floor):
    name = "floor_durable"
    kinds = ("tpcb", "tpcb1")   # a point select commits nothing
    title = ("durable floor (the same, and each COMMIT waits for a group-committed fdatasync of %s bytes):" %
             "{:,}".format(FLOOR_LOG_BYTES))

    def log_args(self):
        return [os.path.join(self.dir, "log"), str(FLOOR_LOG_BYTES)]


def wait_for_line_from(path, offset, text, proc, timeout):
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        with open(path, errors="replace") as f:
            f.seek(offset)
            if text in f.read():
                return time.monotonic() - t0
        if proc.poll() is not None:
            break
        time.sleep(0.005)
    with open(path, errors="replace") as f:
        f.seek(offset)
        die("%s did not become ready:\n%s" % (proc.args[0], f.read()[-3000:]))


def as_postgres():
    """initdb and postgres refuse to run as root: run them as 'postgres'."""
    if os.getuid() != 0:
        return {}
    pw = pwd.getpwnam("postgres")
    return {"user": pw.pw_uid, "group": pw.pw_gid, "extra_groups": []}


class Postgres:
    name = "postgres"

    def __init__(self, tag):
        self.dir = os.path.join(WORK, tag + "-postgres")
        self.data = os.path.join(self.dir, "data")
        self.proc = None
        self.port = free_port()

    def fresh(self):
        """initdb into an empty directory; returns its time."""
        shutil.rmtree(self.dir, ignore_errors=True)
        os.makedirs(self.dir)
        if os.getuid() == 0:
            shutil.chown(self.dir, "postgres", "postgres")
        t0 = time.monotonic()
        r = subprocess.run([os.path.join(PGBIN, "initdb"), "-D", self.data, "-U", "postgres", "--auth=trust",
                            "-E", "UTF8", "--locale=C"], capture_output=True, text=True, **as_postgres())
        if r.returncode != 0:
            die("initdb failed: " + r.stderr)
        t = time.monotonic() - t0
        with open(os.path.join(self.data, "postgresql.conf"), "a") as f:
            f.write("\n# bench/run.py\nlisten_addresses = '127.0.0.1'\nport = %d\n"
                    "unix_socket_directories = '%s'\nshared_buffers = %dMB\nmax_connections = %d\n"
                    "fsync = on\nsynchronous_commit = on\nfull_page_writes = on\n"
                    "checkpoint_timeout = %ds\nlogging_collector = off\n"
                    % (self.port, self.data, POOL_MB, IDLE_CONNS + 50, CHECKPOINT_S))
        return t

    def start(self):
        self.log = os.path.join(self.dir, "server.log")
        t0 = time.monotonic()
        with open(self.log, "a") as lf:
            lf.write("==== start %s\n" % time.ctime())
            lf.flush()
            start_at = lf.tell()
            self.proc = subprocess.Popen([os.path.join(PGBIN, "postgres"), "-D", self.data], stdout=lf,
                                         stderr=subprocess.STDOUT, **as_postgres())
        self._since = start_at
        wait_for_line_from(self.log, start_at, "database system is ready to accept connections", self.proc, 600)
        return time.monotonic() - t0

    def startup_log(self):
        with open(self.log, errors="replace") as f:
            f.seek(self._since)
            return f.read()

    def pid(self):
        return self.proc.pid

    def cpu(self):
        return tree_cpu(self.proc.pid)

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)   # fast shutdown, with a checkpoint
            try:
                self.proc.wait(120)
            except subprocess.TimeoutExpired:
                self.kill()

    def kill(self):
        # a crash of the whole server: the postmaster and every child at once
        pids = [self.proc.pid] + children(self.proc.pid)
        for p in pids:
            try:
                os.kill(p, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.proc.wait()
        deadline = time.monotonic() + 30
        for p in pids[1:]:
            while alive(p) and time.monotonic() < deadline:
                time.sleep(0.005)

    def psql(self, stmt, db="bench"):
        r = subprocess.run([os.path.join(PGBIN, "psql"), "-X", "-q", "-A", "-t", "-h", "127.0.0.1",
                            "-p", str(self.port), "-U", "postgres", "-d", db, "-v", "ON_ERROR_STOP=1", "-c", stmt],
                           capture_output=True, text=True)
        if r.returncode != 0:
            die("psql %r: %s" % (stmt, r.stderr))
        return r.stdout.strip()

    def pgbench(self, *args, check=True):
        cmd = [os.path.join(PGBIN, "pgbench"), "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres"] + \
              [str(a) for a in args] + ["bench"]
        return subprocess.run(cmd, capture_output=True, text=True, cwd=self.dir)

    def one_round_trip_script(self):
        """pgbench's tpcb-like script with its statements joined by \\; into
        one compound command: one Query message, one round trip."""
        path = os.path.join(self.dir, "tpcb1.sql")
        with open(path, "w") as f:
            f.write("\\set aid random(1, 100000 * :scale)\n\\set bid random(1, 1 * :scale)\n"
                    "\\set tid random(1, 10 * :scale)\n\\set delta random(-5000, 5000)\n"
                    "BEGIN \\; "
                    "UPDATE pgbench_accounts SET abalance = abalance + :delta WHERE aid = :aid \\; "
                    "SELECT abalance FROM pgbench_accounts WHERE aid = :aid \\; "
                    "UPDATE pgbench_tellers SET tbalance = tbalance + :delta WHERE tid = :tid \\; "
                    "UPDATE pgbench_branches SET bbalance = bbalance + :delta WHERE bid = :bid \\; "
                    "INSERT INTO pgbench_history (tid, bid, aid, delta, mtime) "
                    "VALUES (:tid, :bid, :aid, :delta, CURRENT_TIMESTAMP) \\; "
                    "END;\n")
        return path

    def load(self):
        self.psql("CREATE DATABASE bench", db="postgres")
        t0 = time.monotonic()
        r = self.pgbench("-i", "-q", "-s", SCALE)
        if r.returncode != 0:
            die("pgbench -i failed: " + r.stderr)
        t = time.monotonic() - t0
        self.checkpoint()
        return t

    def checkpoint(self):
        self.psql("CHECKPOINT")

    def prepare_run(self, kind):
        # what pgbench does before a run unless told -n (it truncates
        # pgbench_history too; we keep it, so the sums can be checked)
        if kind in ("tpcb", "tpcb1"):
            self.psql("VACUUM pgbench_branches")
            self.psql("VACUUM pgbench_tellers")
        self.checkpoint()

    def run(self, kind, clients, seconds):
        logdir = os.path.join(self.dir, "txlog")
        shutil.rmtree(logdir, ignore_errors=True)
        os.makedirs(logdir)
        c0 = children_cpu()
        args = ["-n", "-c", clients, "-j", clients, "-T", seconds, "-l", "--log-prefix", os.path.join(logdir, "tx")]
        if kind == "select":
            args.insert(0, "-S")
        if kind == "tpcb1":   # a custom script learns the scale from -s
            args[:0] = ["-f", self.one_round_trip_script(), "-s", SCALE]
        r = self.pgbench(*args)
        cpu = children_cpu() - c0
        if r.returncode != 0:
            die("pgbench failed: " + r.stderr[-2000:])
        lat = []
        for fn in os.listdir(logdir):
            with open(os.path.join(logdir, fn)) as f:
                for line in f:
                    v = line.split()
                    if len(v) >= 3:
                        lat.append(int(v[2]) / 1000.0)
        shutil.rmtree(logdir, ignore_errors=True)
        lat.sort()
        tps = float(re.search(r"tps = ([\d.]+)", r.stdout).group(1))
        n = int(re.search(r"number of transactions actually processed: (\d+)", r.stdout).group(1))
        failed = re.search(r"number of failed transactions: (\d+)", r.stdout)
        return {"tps": tps, "p50_ms": pct(lat, 0.5), "p99_ms": pct(lat, 0.99), "max_ms": lat[-1] if lat else 0,
                "txns": n, "retries": 0, "errors": int(failed.group(1)) if failed else 0, "client_cpu_s": cpu}

    def check(self):
        q = ("SELECT (SELECT sum(abalance) FROM pgbench_accounts), (SELECT sum(tbalance) FROM pgbench_tellers), "
             "(SELECT sum(bbalance) FROM pgbench_branches), (SELECT coalesce(sum(delta), 0) FROM pgbench_history), "
             "(SELECT count(*) FROM pgbench_accounts)")
        v = [int(x) for x in self.psql(q).split("|")]
        return {"ok": v[0] == v[1] == v[2] == v[3] and v[4] == 100000 * SCALE, "sum_abalance": v[0],
                "sum_tbalance": v[1], "sum_bbalance": v[2], "sum_delta": v[3], "accounts": v[4]}

    def recovery_stats(self):
        text = self.startup_log()
        a = re.search(r"redo starts at ([0-9A-F]+)/([0-9A-F]+)", text)
        b = re.search(r"redo done at ([0-9A-F]+)/([0-9A-F]+).*?elapsed: ([\d.]+) s", text)
        if not (a and b):
            return {}
        start = (int(a.group(1), 16) << 32) + int(a.group(2), 16)
        end = (int(b.group(1), 16) << 32) + int(b.group(2), 16)
        return {"log_mb": (end - start) / 1e6, "redo_s": float(b.group(3))}


def run_json(cmd, check=True, **kw):
    r = subprocess.run(cmd, capture_output=True, text=True, **kw)
    if r.returncode != 0 and check:
        die("%s failed (%d): %s%s" % (" ".join(cmd[:3]), r.returncode, r.stdout[-1000:], r.stderr[-2000:]))
    lines = [l for l in r.stdout.splitlines() if l.startswith("{")]
    if not lines:
        die("%s printed no result: %s" % (" ".join(cmd[:3]), r.stderr[-2000:]))
    return json.loads(lines[-1])


def measured(server, fn):
    """Runs fn() and adds the server's CPU per transaction and the share of
    the machine that neither server nor client used (other tenants)."""
    s0, (b0, t0), w0 = server.cpu(), sys_cpu(), time.monotonic()
    cc0 = children_cpu()
    kids = len(children(server.pid()))
    r = fn()
    (b1, t1), w1 = sys_cpu(), time.monotonic()
    client = children_cpu() - cc0
    # PostgreSQL's backends exit with their connections: wait (up to 2 s)
    # until the postmaster has reaped them, or their CPU is in neither its
    # children's nor its own figures yet (the 1-client run lost it so)
    settle = time.monotonic() + 2
    while len(children(server.pid())) > kids and time.monotonic() < settle:
        time.sleep(0.02)
    s1 = server.cpu()
    srv = s1 - s0
    r["server_cpu_s"] = round(srv, 3)
    r["server_us_per_txn"] = round(1e6 * srv / r["txns"], 1) if r["txns"] else None
    r["client_cpu_pct"] = round(100 * r["client_cpu_s"] / (w1 - w0), 1)
    r["client_us_per_txn"] = round(1e6 * r["client_cpu_s"] / r["txns"], 1) if r["txns"] else None
    r["other_cpu"] = round(max(0.0, (b1 - b0) - srv - client) / (t1 - t0), 3) if t1 > t0 else 0
    return r


# ---- throughput: tpcb and select ----------------------------------------------

# tpcb1 (the TPC-B transaction in one round trip) has no target: it shows
# the engines without the seven round trips' kernel work on both sides
TARGETS = {"tpcb": {1: 1.3, "many": 3.0}, "select": {1: 1.5, "many": 1.5}}
ROUND_TRIPS = {"tpcb": 7, "tpcb1": 1, "select": 1}


def target_for(kind, clients):
    t = TARGETS.get(kind)
    return None if t is None else t[1] if clients == 1 else t["many"]


def throughput(kind, pair, loads, mach, floors=()):
    rounds, probes = [], []
    for i, n in enumerate(CLIENTS):
        probes.append(fsync_rate())
        order = pair if i % 2 == 0 else pair[::-1]
        res = {}
        for s in order:
            for o in pair:
                if o is not s:
                    o.checkpoint()
            s.prepare_run(kind)
            res[s.name] = measured(s, lambda s=s: s.run(kind, n, SECONDS))
            r = res[s.name]
            log("%-6s %-8s %2d clients: %8.0f tps  p50 %7.2f ms  p99 %7.2f ms  server %6.1f us/txn  client cpu %5.1f%%"
                "  other cpu %4.1f%%%s" % (kind, s.name, n, r["tps"], r["p50_ms"], r["p99_ms"],
                                          r["server_us_per_txn"] or 0, r["client_cpu_pct"], 100 * r["other_cpu"],
                                          "  retries %d" % r["retries"] if r["retries"] else ""))
            if r["errors"]:
                log("  %d errors, last: %s" % (r["errors"], r.get("last_error", "")))
        ratio = res["hadrdb"]["tps"] / res["postgres"]["tps"] if res["postgres"]["tps"] else None
        rnd = {"clients": n, "order": [s.name for s in order], "hadrdb": res["hadrdb"],
               "postgres": res["postgres"], "ratio": round(ratio, 3) if ratio else None,
               "target": target_for(kind, n)}
        for fl in floors:
            if kind not in fl.kinds:
                continue
            f = rnd[fl.name] = measured(fl, lambda: fl.run(kind, n, SECONDS))
            ratio = rnd[fl.name + "_ratio"] = round(f["tps"] / res["postgres"]["tps"], 3) if res["postgres"]["tps"] else None
            log("%-6s %-8s %2d clients: %8.0f tps  server %6.1f us/txn  client %6.1f us/txn  (%.2fx PostgreSQL)" %
                (kind, fl.name, n, f["tps"], f["server_us_per_txn"] or 0, f["client_us_per_txn"] or 0, ratio or 0))
        rounds.append(rnd)
    probes.append(fsync_rate())
    checks = {s.name: s.check() for s in pair}
    for name, c in checks.items():
        if not c.get("ok"):
            log("CORRECTNESS ERROR: %s: TPC-B sums differ: %s" % (name, c))
    return {"benchmark": kind, "machine": mach,
            "config": {"seconds": SECONDS, "scale": SCALE, "clients": CLIENTS, "pool_mb": POOL_MB,
                       "round_trips_per_txn": ROUND_TRIPS[kind], "checkpoint_s": CHECKPOINT_S},
            "load_s": loads, "fsync_probes": probes, "fsync_per_s": round(sorted(probes)[len(probes) // 2], 1),
            "rounds": rounds, "checks": checks}


# ---- recovery --------------------------------------------------------------------

def recovery(pair, mach):
    res = {}
    for s in pair:
        s.checkpoint()
    for s in pair:
        for o in pair:
            o.checkpoint()
        clients = 8
        if isinstance(s, Hadrdb):
            cmd = [os.path.join(BUILD, "loadgen"), "-H", "127.0.0.1", "-p", str(s.port), "-U", "sa", "-P", PASSWORD,
                   "-d", "bench", "-m", "tpcb", "-c", str(clients), "-T", str(REC_SECONDS + 120), "-s", str(SCALE)]
        else:
            cmd = [os.path.join(PGBIN, "pgbench"), "-h", "127.0.0.1", "-p", str(s.port), "-U", "postgres", "-n",
                   "-c", str(clients), "-j", str(clients), "-T", str(REC_SECONDS + 120), "bench"]
        load = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        time.sleep(REC_SECONDS)
        s.kill()
        killed_at = time.monotonic()
        out, _ = load.communicate(timeout=120)
        txns = None
        m = re.search(r'"txns": (\d+)', out) or re.search(r"actually processed: (\d+)", out)
        if m:
            txns = int(m.group(1))
        t = s.start()
        st = s.recovery_stats()
        r = {"load_seconds": REC_SECONDS, "clients": clients, "txns_before_kill": txns,
             "restart_s": round(t, 3), "kill_to_ready_s": round(time.monotonic() - killed_at, 3), **st}
        if st.get("redo_s"):
            r["redo_mb_per_s"] = round(st["log_mb"] / st["redo_s"], 1) if st["redo_s"] > 0 else None
        r["check"] = s.check()
        if not r["check"].get("ok"):
            log("CORRECTNESS ERROR: %s after recovery: %s" % (s.name, r["check"]))
        log("recovery %-8s: %d txns in %.0f s, SIGKILL, restart %.3f s; log %.1f MB redone in %.3f s" %
            (s.name, txns or 0, REC_SECONDS, t, st.get("log_mb", 0), st.get("redo_s", 0)))
        res[s.name] = r
    h, p = res["hadrdb"], res["postgres"]
    return {"benchmark": "recovery", "machine": mach,
            "config": {"load_seconds": REC_SECONDS, "scale": SCALE, "clients": 8, "pool_mb": POOL_MB,
                       "checkpoint_s": CHECKPOINT_S},
            "hadrdb": h, "postgres": p,
            "restart_ratio": round(p["restart_s"] / h["restart_s"], 3) if h["restart_s"] else None,
            "targets": {"restart_faster_than_postgres": True, "redo_mb_per_s": 300}}


# ---- server footprint --------------------------------------------------------------

def server_bench(mach):
    out = {"benchmark": "server", "machine": mach, "config": {"pool_mb": POOL_MB, "idle_connections": IDLE_CONNS},
           "targets": {"idle_rss_beyond_pool_mb": 64, "kb_per_idle_connection": 256}}
    for cls in (Hadrdb, Postgres):
        s = cls("server")
        r = {}
        if cls is Hadrdb:
            s.fresh()
            r["first_start_s"] = round(s.start(), 3)   # initializes master and msdb
            s.sql("CREATE DATABASE bench", db="master")
        else:
            r["initdb_s"] = round(s.fresh(), 3)
            s.start()
            s.psql("CREATE DATABASE bench", db="postgres")
        s.stop()
        r["start_s"] = round(s.start(), 3)
        time.sleep(2)
        pids = lambda: [s.pid()] + children(s.pid())
        idle = [mem_kb(p) for p in pids()]
        r["idle_rss_kb"] = sum(m[0] for m in idle)
        r["idle_pss_kb"] = sum(m[1] for m in idle)
        if cls is Hadrdb:
            r["pool_rss_kb"] = idle[0][2]
            r["idle_rss_beyond_pool_kb"] = r["idle_rss_kb"] - r["pool_rss_kb"]
            holder = subprocess.Popen([os.path.join(BUILD, "loadgen"), "-H", "127.0.0.1", "-p", str(s.port), "-U",
                                       "sa", "-P", PASSWORD, "-d", "bench", "-m", "idle", "-c", str(IDLE_CONNS)],
                                      stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
            line = holder.stdout.readline()
            if '"connected"' not in line:
                die("loadgen idle failed")
        else:
            # pgbench clients that only sleep: IDLE_CONNS logged-in, idle backends
            script = os.path.join(s.dir, "idle.sql")
            with open(script, "w") as f:
                f.write("\\sleep 600 s\n")
            holder = subprocess.Popen([os.path.join(PGBIN, "pgbench"), "-h", "127.0.0.1", "-p", str(s.port), "-U",
                                       "postgres", "-n", "-c", str(IDLE_CONNS), "-j", "4", "-T", "600", "-f", script,
                                       "bench"], stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                                      stderr=subprocess.DEVNULL)
            t0 = time.monotonic()
            while len(children(s.pid())) < IDLE_CONNS + 5 and time.monotonic() - t0 < 60:
                time.sleep(0.1)
        time.sleep(2)
        conn = [mem_kb(p) for p in pids()]
        r["conn_rss_kb"] = sum(m[0] for m in conn)
        r["conn_pss_kb"] = sum(m[1] for m in conn)
        # PSS for PostgreSQL: its backends share shared_buffers and the
        # binary, which RSS would count once per process
        key = "rss" if cls is Hadrdb else "pss"
        r["kb_per_connection"] = round((r["conn_%s_kb" % key] - r["idle_%s_kb" % key]) / IDLE_CONNS, 1)
        if cls is Hadrdb:
            holder.stdin.close()
            holder.wait(60)
        else:
            holder.kill()
            holder.wait()
        s.stop()
        out[s.name] = r
        log("server %-8s: start %.3f s, idle %s MB, %d connections +%.0f KB each" %
            (s.name, r["start_s"], round(r["idle_%s_kb" % key] / 1024, 1), IDLE_CONNS, r["kb_per_connection"]))
    return out


# ---- output: JSON, tables, charts ----------------------------------------------------

def write_json(name, data):
    os.makedirs(OUT, exist_ok=True)
    with open(os.path.join(OUT, name + ".json"), "w") as f:
        json.dump(data, f, indent=1)
        f.write("\n")


def fmt(x, nd=0):
    if x is None:
        return "-"
    return ("{:,.%df}" % nd).format(x)


def met(ok):
    return "met" if ok else "MISSED"


def table_throughput(d):
    kind = d["benchmark"]
    title = {"tpcb": "TPC-B (pgbench's transaction, 7 round trips)",
             "tpcb1": "TPC-B in one round trip (a T-SQL batch; pgbench's statements as one \\; compound command)",
             "select": "point selects (pgbench -S)"}[kind]
    lines = ["%s, scale %d, %g s per point; fsync rate %s/s; load: hadrdb %.1f s, PostgreSQL %.1f s" %
             (title, d["config"]["scale"], d["config"]["seconds"], fmt(d["fsync_per_s"]), d["load_s"]["hadrdb"],
              d["load_s"]["postgres"]),
             "clients | hadrdb tps | p50 ms | p99 ms | PG tps | p50 ms | p99 ms | ratio | target | server us/txn H/PG "
             "| client cpu H/PG"]
    for r in d["rounds"]:
        h, p = r["hadrdb"], r["postgres"]
        lines.append("%7d | %10s | %6.2f | %6.2f | %6s | %6.2f | %6.2f | %5s | %s %-6s | %7s / %-7s | %3.0f%% / %3.0f%%" %
                     (r["clients"], fmt(h["tps"]), h["p50_ms"], h["p99_ms"], fmt(p["tps"]), p["p50_ms"], p["p99_ms"],
                      fmt(r["ratio"], 2), ">=%.1f" % r["target"] if r["target"] else "    ",
                      met(r["ratio"] and r["ratio"] >= r["target"]) if r["target"] else "-",
                      fmt(h["server_us_per_txn"], 1), fmt(p["server_us_per_txn"], 1), h["client_cpu_pct"],
                      p["client_cpu_pct"]))
    for fl in (Floor, DurableFloor):
        name = fl.name
        floors = [r for r in d["rounds"] if r.get(name)]
        if floors:
            lines.append(fl.title)
            lines.append("  " + "; ".join("%d clients %s tps = %sx PG, server %s + client %s us/txn" %
                                          (r["clients"], fmt(r[name]["tps"]), fmt(r[name + "_ratio"], 2),
                                           fmt(r[name]["server_us_per_txn"], 0), fmt(r[name]["client_us_per_txn"], 0))
                                          for r in floors))
    if kind == "tpcb" and d["rounds"] and d["rounds"][0]["clients"] == 1:
        h1 = d["rounds"][0]["hadrdb"]["tps"]
        lines.append("1-client hadrdb tps / fsync rate = %.2f" % (h1 / d["fsync_per_s"]))
    other = [r[k]["other_cpu"] for r in d["rounds"] for k in ("hadrdb", "postgres")]
    if other:
        lines.append("other processes used %.0f-%.0f%% of the machine during the runs%s" %
                     (100 * min(other), 100 * max(other), " (noisy: compare ratios, rerun when quiet)"
                      if max(other) > 0.15 else ""))
    bad = [n for n, c in d["checks"].items() if not c.get("ok")]
    lines.append("TPC-B invariants (four sums equal): " + ("CORRECTNESS ERROR in " + ", ".join(bad) if bad else "ok"))
    return "\n".join(lines)


def table_recovery(d):
    h, p = d["hadrdb"], d["postgres"]
    lines = ["recovery: TPC-B, %d clients, %g s, SIGKILL, restart (scale %d)" %
             (d["config"]["clients"], d["config"]["load_seconds"], d["config"]["scale"]),
             "server   | txns before kill | restart s | s per 10k txns | log replayed MB | redo s | redo MB/s | sums after"]
    for name, r in (("hadrdb", h), ("postgres", p)):
        n = r.get("txns_before_kill")
        # the faster server did more work in the same time: per 10k txns compares like with like
        per = 1e4 * r["restart_s"] / n if n else None
        lines.append("%-8s | %16s | %9.3f | %14s | %15s | %6s | %9s | %s" %
                     (name, fmt(n), r["restart_s"], fmt(per, 3), fmt(r.get("log_mb"), 1),
                      fmt(r.get("redo_s"), 3), fmt(r.get("redo_mb_per_s"), 1), "ok" if r["check"].get("ok") else "ERROR"))
    lines.append("restart: PostgreSQL/hadrdb = %s (target > 1: %s); hadrdb redo %s MB/s (target >= 300: %s)" %
                 (fmt(d["restart_ratio"], 2), met((d["restart_ratio"] or 0) > 1), fmt(h.get("redo_mb_per_s"), 1),
                  met((h.get("redo_mb_per_s") or 0) >= 300)))
    return "\n".join(lines)


def table_server(d):
    h, p = d["hadrdb"], d["postgres"]
    per = h["kb_per_connection"]
    beyond = h["idle_rss_beyond_pool_kb"] / 1024
    return "\n".join([
        "server footprint (buffer pool / shared_buffers %d MB, %d idle connections)" % (d["config"]["pool_mb"],
                                                                                          d["config"]["idle_connections"]),
        "hadrdb:     first start %.3f s, start %.3f s; idle RSS %.1f MB (pool resident %.1f MB, beyond the pool "
        "%.1f MB: target < 64 %s); +%.0f KB per idle connection (target < 256: %s)" %
        (h["first_start_s"], h["start_s"], h["idle_rss_kb"] / 1024, h["pool_rss_kb"] / 1024, beyond,
         met(beyond < 64), per, met(per < 256)),
        "PostgreSQL: initdb %.3f s, start %.3f s; idle PSS %.1f MB (all processes); +%.0f KB PSS per idle connection" %
        (p["initdb_s"], p["start_s"], p["idle_pss_kb"] / 1024, p["kb_per_connection"])])


def gnuplot(name, script):
    if not shutil.which("gnuplot"):
        log("gnuplot not installed: no chart (apt-get install gnuplot-nox)")
        return
    path = os.path.join(OUT, name + ".png")
    head = ("set terminal pngcairo size 760,420 font 'sans,10'\nset output '%s'\nset style data histograms\n"
            "set style histogram clustered gap 1\nset style fill solid 0.85 border -1\nset boxwidth 0.9\n"
            "set grid ytics\nset key outside bottom center horizontal\nset yrange [0:*]\n" % path)
    r = subprocess.run(["gnuplot"], input=head + script, capture_output=True, text=True)
    if r.returncode != 0:
        log("gnuplot failed (%s): no chart" % r.stderr.strip()[-300:])


def chart_throughput(d):
    kind = d["benchmark"]
    nan = float("nan")
    rows = "\n".join("%d %.1f %.1f %.1f %.1f" % (r["clients"], r["hadrdb"]["tps"], r["postgres"]["tps"],
                                                 r["floor"]["tps"] if r.get("floor") else nan,
                                                 r["floor_durable"]["tps"] if r.get("floor_durable") else nan)
                      for r in d["rounds"])
    title = {"tpcb": "TPC-B (pgbench transaction), scale %d" % d["config"]["scale"],
             "tpcb1": "TPC-B in one round trip, scale %d" % d["config"]["scale"],
             "select": "point selects (pgbench -S), scale %d" % d["config"]["scale"]}[kind]
    floor = ""
    # drawn where it is the point (seven round trips); in one-trip TPC-B
    # and selects its bars would dwarf the two servers'
    if kind == "tpcb" and any(r.get("floor") for r in d["rounds"]):
        floor = ", '' using 4 title 'floor: protocol only, no database work' lc rgb '#dddddd'"
        if any(r.get("floor_durable") for r in d["rounds"]):
            floor += ", '' using 5 title 'durable floor: protocol and fdatasync' lc rgb '#b7cce0'"
    extra = ""
    if kind in ("tpcb", "tpcb1"):
        extra = ", %f with lines dt 2 lw 2 lc rgb '#888888' title 'fsync rate (one commit per flush)'" % d["fsync_per_s"]
    gnuplot(kind, "set title '%s, %s'\nset xlabel 'clients'\nset ylabel 'transactions/s'\n$d << EOD\n%s\nEOD\n"
            "plot $d using 2:xtic(1) title 'hadrdb' lc rgb '#2b6cb0', '' using 3 title 'PostgreSQL 15' lc rgb '#999999'%s%s\n"
            % (title, d["machine"]["date_utc"][:10], rows, floor, extra))


def chart_recovery(d):
    gnuplot("recovery", "set title 'restart after SIGKILL under TPC-B load (%g s of load)'\nset ylabel 'seconds'\n"
            "set style histogram clustered gap 2\n$d << EOD\nrestart %.3f %.3f\n\"redo (hadrdb: analysis + redo)\" %.3f %.3f\nEOD\n"
            "plot $d using 2:xtic(1) title 'hadrdb' lc rgb '#2b6cb0', '' using 3 title 'PostgreSQL 15' lc rgb '#999999'\n"
            % (d["config"]["load_seconds"], d["hadrdb"]["restart_s"], d["postgres"]["restart_s"],
               d["hadrdb"].get("redo_s") or 0, d["postgres"].get("redo_s") or 0))


def chart_server(d):
    h, p = d["hadrdb"], d["postgres"]
    gnuplot("server", "set title 'memory: idle, and with %d idle connections (MB; PostgreSQL: PSS of all processes)'\n"
            "set ylabel 'MB'\n$d << EOD\nidle %.1f %.1f\n\"%d connections\" %.1f %.1f\nEOD\n"
            "plot $d using 2:xtic(1) title 'hadrdb' lc rgb '#2b6cb0', '' using 3 title 'PostgreSQL 15' lc rgb '#999999'\n"
            % (IDLE_CONNS, h["idle_rss_kb"] / 1024, p["idle_pss_kb"] / 1024, IDLE_CONNS, h["conn_rss_kb"] / 1024,
               p["conn_pss_kb"] / 1024))


TABLES = {"tpcb": table_throughput, "tpcb1": table_throughput, "select": table_throughput,
          "recovery": table_recovery, "server": table_server}
CHARTS = {"tpcb": chart_throughput, "tpcb1": chart_throughput, "select": chart_throughput,
          "recovery": chart_recovery, "server": chart_server}


def finish(name, data):
    write_json(name, data)
    CHARTS[name](data)
    print("\n" + TABLES[name](data), flush=True)


def summary(names, charts=False, others=False):
    for n in names:
        path = os.path.join(OUT, n + ".json")
        if os.path.exists(path):
            with open(path) as f:
                d = json.load(f)
            if charts:
                CHARTS[n](d)
            print("\n" + TABLES[n](d))
    # the benchmarks with their own scripts (not after `all`, which does not run them)
    if others:
        sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
        for mod in ("backup_bench", "marks_bench"):
            m = __import__(mod)
            path = os.path.join(OUT, mod.split("_")[0] + ".json")
            if os.path.exists(path):
                with open(path) as f:
                    d = json.load(f)
                if charts:
                    m.chart(d)
                print("\n" + m.table(d))


# ---- main ------------------------------------------------------------------------------

def main():
    what = sys.argv[1] if len(sys.argv) > 1 else "all"
    names = ["tpcb", "tpcb1", "select", "recovery", "server"]
    if what in ("summary", "charts"):
        summary(names, charts=what == "charts", others=True)
        return
    if what not in names + ["all"]:
        die("usage: bench/run.py tpcb|tpcb1|select|recovery|server|all|summary|charts")
    for b in ("hadrd", "loadgen", "fsync_probe", "tds_floor"):
        if not os.path.exists(os.path.join(BUILD, b)):
            die("build/%s is missing: run make bench-%s" % (b, what))
    if not os.path.exists(os.path.join(PGBIN, "pgbench")):
        die("PostgreSQL 15 is missing: scripts/install-deps bench")
    os.makedirs(WORK, exist_ok=True)
    # FreeTDS reads this: no TLS (PostgreSQL's initdb leaves ssl off too)
    conf = os.path.join(WORK, "freetds.conf")
    with open(conf, "w") as f:
        f.write("[global]\n\ttds version = 7.4\n\tencryption = off\n")
    os.environ["FREETDSCONF"] = conf
    mach = machine()
    log("bench: %s, %d CPUs, %s; %g s per point, scale %d, clients %s" %
        (mach["cpu_model"], mach["nproc"], mach["kernel"], SECONDS, SCALE, CLIENTS))
    if what in ("tpcb", "tpcb1", "select", "recovery", "all"):
        pair = [Hadrdb(what), Postgres(what)]
        floors = [Floor(what), DurableFloor(what)]
        try:
            loads = {}
            for s in pair:
                s.fresh()
                s.start()
                loads[s.name] = round(s.load(), 2)
                log("loaded scale %d into %s in %.1f s" % (SCALE, s.name, loads[s.name]))
            if what != "recovery":
                for f in floors:
                    f.fresh()
                    f.start()
            for kind in ("tpcb", "tpcb1", "select"):
                if what in (kind, "all"):
                    finish(kind, throughput(kind, pair, loads, mach, floors))
            if what in ("recovery", "all"):
                finish("recovery", recovery(pair, mach))
        finally:
            for s in pair + floors:
                s.stop()
    if what in ("server", "all"):
        finish("server", server_bench(mach))
    if what == "all":
        print("\n==== summary")
        summary(names)


if __name__ == "__main__":
    main()
