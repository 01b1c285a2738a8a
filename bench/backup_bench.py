#!/usr/bin/python3
"""Full backup and restore of a database of at least 1 GB: hadrdb's BACKUP
DATABASE / RESTORE DATABASE against the disk's sequential bandwidth (dd, in
the same directory, in the same run) and against pg_basebackup of a
PostgreSQL 15 database of the same size. See bench/README.md ("bench-backup").

    bench/backup_bench.py            run, write bench/results/backup.json + .png, print the table
    bench/backup_bench.py summary    print the table of the JSON already there (charts: redraw too)

Environment: BENCH_BACKUP_MB (size of the table to build, default 1024),
BENCH_BACKUP_ROUNDS (rounds of the four timed operations, default 3), and
bench/run.py's BENCH_DIR, BENCH_OUT, BENCH_POOL_MB.

MB is 2^20 bytes throughout, as in SQL Server's "(r MB/sec)".
"""
import json, os, random, shutil, subprocess, sys, time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run   # noqa: E402  (bench/run.py: the two servers, machine info, JSON and chart helpers)
from run import log, die, fmt, met   # noqa: E402

MB = 1 << 20
SIZE_MB = int(os.environ.get("BENCH_BACKUP_MB", "1024"))
ROUNDS = int(os.environ.get("BENCH_BACKUP_ROUNDS", "3"))
SEED_ROWS = 1000
ROW_BYTES = 8192 / 7        # char(1000) rows: 7 to a page on both servers
TARGET_DISK_RATIO = 0.6
# severity-10 messages that pymssql raises as errors: BACKUP/RESTORE's progress and result
INFO = {3211, 4035, 3014}
DB, COPY = "bb", "bb_copy"


# ---- the disk ---------------------------------------------------------------------

def evict(*paths):
    """Drop these files' pages from the page cache (written back first), so
    the next read comes from the disk. Only our files: other tenants' cache
    is left alone (and /proc/sys/vm/drop_caches needs privileges anyway)."""
    for top in paths:
        if not os.path.exists(top):
            continue
        files = [top] if os.path.isfile(top) else \
            [os.path.join(d, f) for d, _, fs in os.walk(top) for f in fs]
        for p in files:
            try:
                fd = os.open(p, os.O_RDONLY)
            except OSError:
                continue
            try:
                os.fdatasync(fd)
                os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
            except OSError:
                pass
            finally:
                os.close(fd)


def timed(cmd, **kw):
    t0 = time.monotonic()
    r = subprocess.run(cmd, capture_output=True, text=True, **kw)
    t = time.monotonic() - t0
    if r.returncode != 0:
        die("%s failed: %s" % (" ".join(cmd), r.stderr[-2000:]))
    return t


def disk_probe(mb):
    """Sequential bandwidth of the disk under BENCH_DIR, with dd, 1 MiB blocks:
    write = dd from /dev/zero with conv=fdatasync (buffered writes, then one
    flush: how BACKUP and RESTORE write); read = the same file with
    iflag=direct, and buffered after evicting it from the page cache (with
    the kernel's read-ahead, as the servers read). MB/s from our own clock."""
    path = os.path.join(run.WORK, "disk-probe")
    try:
        w = timed(["dd", "if=/dev/zero", "of=" + path, "bs=1M", "count=%d" % mb, "conv=fdatasync"])
        evict(path)
        rd = timed(["dd", "if=" + path, "of=/dev/null", "bs=1M", "iflag=direct"])
        evict(path)
        rb = timed(["dd", "if=" + path, "of=/dev/null", "bs=1M"])
    finally:
        if os.path.exists(path):
            os.unlink(path)
    p = {"mb": mb, "write_mb_s": round(mb / w, 1), "read_direct_mb_s": round(mb / rd, 1),
         "read_cold_mb_s": round(mb / rb, 1)}
    p["read_mb_s"] = max(p["read_direct_mb_s"], p["read_cold_mb_s"])
    log("disk: write %.0f MB/s (conv=fdatasync), read %.0f MB/s (iflag=direct) / %.0f MB/s (buffered, evicted)"
        " over %d MB" % (p["write_mb_s"], p["read_direct_mb_s"], p["read_cold_mb_s"], mb))
    return p


def du_bytes(top):
    if os.path.isfile(top):
        return os.path.getsize(top)
    return sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(top) for f in fs)


def cpu_mark(server):
    return server.cpu(), run.children_cpu(), run.sys_cpu()


def cpu_since(server, mark, wall):
    """Server CPU, our children's CPU (dd, pg_basebackup) and the share of
    the machine that neither used (other tenants), since mark."""
    s0, c0, (b0, t0) = mark
    s1, c1, (b1, t1) = cpu_mark(server)
    srv, cli = s1 - s0, c1 - c0
    return {"server_cpu_s": round(srv, 2), "client_cpu_s": round(cli, 2),
            "other_cpu": round(max(0.0, (b1 - b0) - srv - cli) / (t1 - t0), 3) if t1 > t0 else 0}


# ---- hadrdb ------------------------------------------------------------------------

class Tds:
    """One session on hadrd through pymssql's _mssql, keeping every message
    (pymssql raises the first severity-10 message of a batch as an error)."""

    def __init__(self, h):
        from pymssql import _mssql
        self.m = _mssql
        self.msgs = []
        self.c = _mssql.connect(server="127.0.0.1", port=h.port, user="sa", password=run.PASSWORD,
                                database="master")
        self.c.query_timeout = 3600
        self.c.set_msghandler(lambda state, sev, srv, proc, line, text: self.msgs.append((sev, text)))

    def exec(self, sql):
        """Runs a batch; returns its informational messages' texts."""
        self.msgs = []
        try:
            self.c.execute_non_query(sql)
        except self.m.MSSQLDatabaseException as e:
            if e.number not in INFO:
                die("%s...: %d %s" % (sql[:80], e.number, e.message))
        bad = [t for sev, t in self.msgs if sev > 10]
        if bad:
            die("%s...: %s" % (sql[:80], bad[0]))
        return [t.decode(errors="replace") if isinstance(t, bytes) else t for _, t in self.msgs]

    def one(self, sql):
        self.c.execute_query(sql)
        rows = [(r[0], r[1]) for r in self.c]
        return rows[0] if rows else None


def processed(msgs, what):
    """(pages, seconds) from "<what> successfully processed n pages in s seconds"."""
    import re
    for t in msgs:
        m = re.search(r"%s successfully processed (\d+) pages in ([\d.]+) seconds" % what, t)
        if m:
            return int(m.group(1)), float(m.group(2))
    die("%s: no 3014 message in %s" % (what, msgs))


def seed_fillers():
    """1,000 distinct 1,000-character strings of random letters and digits
    (about 6 bits of information per byte), the same on both servers."""
    rnd = random.Random(20261124)
    alpha = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
    return ["".join(rnd.choice(alpha) for _ in range(1000)) for _ in range(SEED_ROWS)]


def doublings():
    n, rows = 0, SEED_ROWS
    while rows * ROW_BYTES < SIZE_MB * MB:
        rows *= 2
        n += 1
    return n, rows


def load_hadrdb(h, t, fillers):
    """CREATE DATABASE (SIMPLE), a table of char(1000) rows, 1,000 seed rows
    in multi-row INSERTs, then INSERT ... SELECT doubling it; CHECKPOINT."""
    n, rows = doublings()
    t0 = time.monotonic()
    t.exec("CREATE DATABASE %s" % DB)
    t.exec("ALTER DATABASE %s SET RECOVERY SIMPLE" % DB)
    t.exec("CREATE TABLE %s.dbo.t (id int NOT NULL PRIMARY KEY, filler char(1000) NOT NULL)" % DB)
    for i in range(0, SEED_ROWS, 100):
        t.exec("INSERT INTO %s.dbo.t VALUES " % DB +
               ",".join("(%d, '%s')" % (k + 1, fillers[k]) for k in range(i, i + 100)))
    have = SEED_ROWS
    for _ in range(n):
        t.exec("INSERT INTO %s.dbo.t SELECT id + %d, filler FROM %s.dbo.t" % (DB, have, DB))
        have *= 2
    t.exec("CHECKPOINT")
    return time.monotonic() - t0, rows


def hadrdb_data_bytes(h):
    return os.path.getsize(os.path.join(h.dir, "data", "data", DB + ".mdf"))


def hadrdb_backup(h, t, media, compress):
    evict(h.dir)
    opts = "INIT, FORMAT" + (", COMPRESSION" if compress else "")
    mark, t0 = cpu_mark(h), time.monotonic()
    msgs = t.exec("BACKUP DATABASE %s TO DISK = '%s' WITH %s" % (DB, media, opts))
    wall = time.monotonic() - t0
    pages, srv_s = processed(msgs, "BACKUP DATABASE")
    r = {"pages": pages, "mb": round(pages * 8192 / MB, 1), "seconds": round(wall, 3), "server_seconds": srv_s,
         "mb_s": round(pages * 8192 / MB / wall, 1), "media_mb": round(os.path.getsize(media) / MB, 1),
         **cpu_since(h, mark, wall)}
    return r


def hadrdb_restore(h, t, media, rows):
    evict(media)
    d = os.path.join(h.dir, "restored")
    os.makedirs(d, exist_ok=True)
    mark, t0 = cpu_mark(h), time.monotonic()
    msgs = t.exec("RESTORE DATABASE %s FROM DISK = '%s' WITH MOVE '%s' TO '%s/%s.mdf', MOVE '%s_log' TO '%s/%s_log.ldf'"
                  % (COPY, media, DB, d, COPY, DB, d, COPY))
    wall = time.monotonic() - t0
    pages, srv_s = processed(msgs, "RESTORE DATABASE")
    r = {"pages": pages, "mb": round(pages * 8192 / MB, 1), "seconds": round(wall, 3), "server_seconds": srv_s,
         "mb_s": round(pages * 8192 / MB / wall, 1), **cpu_since(h, mark, wall)}
    got = t.one("SELECT count(*), sum(CAST(id AS bigint)) FROM %s.dbo.t" % COPY)
    r["check_ok"] = got is not None and int(got[0]) == rows and int(got[1]) == rows * (rows + 1) // 2
    if not r["check_ok"]:
        log("CORRECTNESS ERROR: the restored copy has %s rows (sum of ids %s), expected %d" %
            (got and got[0], got and got[1], rows))
    t.exec("DROP DATABASE %s" % COPY)
    return r


# ---- PostgreSQL -----------------------------------------------------------------------

def psql_input(p, sql, db="bench"):
    r = subprocess.run([os.path.join(run.PGBIN, "psql"), "-X", "-q", "-h", "127.0.0.1", "-p", str(p.port), "-U",
                        "postgres", "-d", db, "-v", "ON_ERROR_STOP=1"], input=sql, capture_output=True, text=True)
    if r.returncode != 0:
        die("psql: " + r.stderr[-2000:])


def load_postgres(p, fillers):
    """The same table and rows: seed INSERTs, INSERT ... SELECT doubling,
    then VACUUM (hint bits, visibility map) and CHECKPOINT."""
    n, rows = doublings()
    t0 = time.monotonic()
    p.psql("CREATE DATABASE bench", db="postgres")
    sql = ["CREATE TABLE t (id int NOT NULL PRIMARY KEY, filler char(1000) NOT NULL);"]
    for i in range(0, SEED_ROWS, 100):
        sql.append("INSERT INTO t VALUES " + ",".join("(%d, '%s')" % (k + 1, fillers[k]) for k in range(i, i + 100))
                   + ";")
    have = SEED_ROWS
    for _ in range(n):
        sql.append("INSERT INTO t SELECT id + %d, filler FROM t;" % have)
        have *= 2
    sql.append("VACUUM t;")
    psql_input(p, "\n".join(sql))
    p.checkpoint()
    return time.monotonic() - t0, rows


def pg_basebackup(p, dest):
    shutil.rmtree(dest, ignore_errors=True)
    p.checkpoint()
    evict(p.dir)
    mark, t0 = cpu_mark(p), time.monotonic()
    timed([os.path.join(run.PGBIN, "pg_basebackup"), "-h", "127.0.0.1", "-p", str(p.port), "-U", "postgres",
           "-D", dest, "-Fp", "-X", "stream", "-c", "fast"])
    wall = time.monotonic() - t0
    size = du_bytes(dest)
    r = {"mb": round(size / MB, 1), "seconds": round(wall, 3), "mb_s": round(size / MB / wall, 1),
         **cpu_since(p, mark, wall)}
    shutil.rmtree(dest, ignore_errors=True)
    return r


# ---- the run ------------------------------------------------------------------------------

def median(v):
    v = sorted(x for x in v if x is not None)
    if not v:
        return None
    return v[len(v) // 2] if len(v) % 2 else (v[len(v) // 2 - 1] + v[len(v) // 2]) / 2


OPS = [("backup", "hadrdb BACKUP DATABASE"), ("restore", "hadrdb RESTORE DATABASE ... WITH MOVE"),
       ("backup_compressed", "hadrdb BACKUP ... WITH COMPRESSION"), ("pg_basebackup", "pg_basebackup -Fp -X stream")]


def bench(mach):
    for b in ("hadrd",):
        if not os.path.exists(os.path.join(run.BUILD, b)):
            die("build/%s is missing: run make bench-backup" % b)
    if not os.path.exists(os.path.join(run.PGBIN, "pg_basebackup")):
        die("PostgreSQL 15 is missing: scripts/install-deps bench")
    os.makedirs(run.WORK, exist_ok=True)
    conf = os.path.join(run.WORK, "freetds.conf")
    with open(conf, "w") as f:
        f.write("[global]\n\ttds version = 7.4\n\tencryption = off\n")
    os.environ["FREETDSCONF"] = conf
    h, p = run.Hadrdb("backup"), run.Postgres("backup")
    media_dir = os.path.join(run.WORK, "backup-media")
    base_dir = os.path.join(run.WORK, "backup-pgbase")
    out = {"benchmark": "backup", "machine": mach,
           "config": {"target_mb": SIZE_MB, "rounds": ROUNDS, "pool_mb": run.POOL_MB, "row": "int + char(1000)",
                      "dir": run.WORK, "mb": "2^20 bytes"},
           "targets": {"disk_ratio": TARGET_DISK_RATIO, "faster_than_pg_basebackup": True}}
    try:
        fillers = seed_fillers()
        for s in (h, p):
            s.fresh()
            s.start()
        t = Tds(h)
        lh, rows = load_hadrdb(h, t, fillers)
        log("hadrdb: %d rows loaded in %.1f s, data file %.0f MB" % (rows, lh, hadrdb_data_bytes(h) / MB))
        lp, _ = load_postgres(p, fillers)
        pg_db = int(p.psql("SELECT pg_database_size('bench')"))
        log("postgres: %d rows loaded in %.1f s, database %.0f MB" % (rows, lp, pg_db / MB))
        out["rows"] = rows
        out["load_s"] = {"hadrdb": round(lh, 1), "postgres": round(lp, 1)}
        out["db_mb"] = {"hadrdb_data_file": round(hadrdb_data_bytes(h) / MB, 1), "postgres_database": round(pg_db / MB, 1)}
        probe_mb = max(1024, int(hadrdb_data_bytes(h) / MB))
        os.makedirs(media_dir, exist_ok=True)
        probes, rounds = [], []
        for i in range(ROUNDS):
            probes.append(disk_probe(probe_mb))
            r = {}
            order = ["hadrdb", "postgres"] if i % 2 == 0 else ["postgres", "hadrdb"]
            for who in order:
                if who == "hadrdb":
                    media = os.path.join(media_dir, "bb.bak")
                    r["backup"] = hadrdb_backup(h, t, media, False)
                    r["restore"] = hadrdb_restore(h, t, media, rows)
                    os.unlink(media)
                    media = os.path.join(media_dir, "bb_compressed.bak")
                    r["backup_compressed"] = hadrdb_backup(h, t, media, True)
                    os.unlink(media)
                else:
                    r["pg_basebackup"] = pg_basebackup(p, base_dir)
            for k, name in OPS:
                x = r[k]
                log("round %d: %-38s %7.1f MB in %6.2f s = %6.1f MB/s  server cpu %5.2f s  other cpu %4.1f%%" %
                    (i + 1, name, x["mb"], x["seconds"], x["mb_s"], x["server_cpu_s"], 100 * x["other_cpu"]))
            rounds.append({"order": order, **r})
        probes.append(disk_probe(probe_mb))
    finally:
        for s in (h, p):
            s.stop()
        # the data is large: nothing stays behind but the servers' logs
        for d in (os.path.join(h.dir, "data", "data"), os.path.join(h.dir, "restored"), p.data, media_dir, base_dir):
            shutil.rmtree(d, ignore_errors=True)
    out["disk_probes"] = probes
    out["disk"] = {"write_mb_s": median(x["write_mb_s"] for x in probes),
                   "read_mb_s": median(x["read_mb_s"] for x in probes)}
    out["rounds"] = rounds
    summ = {}
    for k, _ in OPS:
        summ[k] = {"mb_s": median(r[k]["mb_s"] for r in rounds), "seconds": median(r[k]["seconds"] for r in rounds),
                   "mb": rounds[-1][k]["mb"]}
    summ["backup_compressed"]["media_mb"] = rounds[-1]["backup_compressed"]["media_mb"]
    out["median"] = summ
    out["checks_ok"] = all(r["restore"]["check_ok"] for r in rounds)
    return out


def table(d):
    disk, m = d["disk"], d["median"]
    bw = min(disk["write_mb_s"], disk["read_mb_s"])
    pg = m["pg_basebackup"]["mb_s"]
    lines = ["backup and restore, %s rows of int + char(1000) (hadrdb data file %s MB, PostgreSQL database %s MB); "
             "load: hadrdb %.1f s, PostgreSQL %.1f s; median of %d rounds; MB = 2^20 bytes" %
             (fmt(d["rows"]), fmt(d["db_mb"]["hadrdb_data_file"]), fmt(d["db_mb"]["postgres_database"]),
              d["load_s"]["hadrdb"], d["load_s"]["postgres"], len(d["rounds"])),
             "disk (dd, 1 MiB blocks, %d MB, median of %d probes): write %s MB/s (conv=fdatasync), read %s MB/s "
             "(best of iflag=direct and buffered after evicting the file); target base = the lower, %s MB/s" %
             (d["disk_probes"][0]["mb"], len(d["disk_probes"]), fmt(disk["write_mb_s"]), fmt(disk["read_mb_s"]),
              fmt(bw)),
             "%-40s | %8s | %7s | %6s | %7s | %7s | %8s | %s" %
             ("operation", "MB", "s", "MB/s", "/ read", "/ write", "/ pg_bb", "targets")]
    for k, name in OPS:
        x = m[k]
        tgt = ""
        if k in ("backup", "restore"):
            tgt = ">= %.0f%% of disk: %s; > pg_basebackup: %s" % (100 * TARGET_DISK_RATIO,
                                                                 met(x["mb_s"] >= TARGET_DISK_RATIO * bw),
                                                                 met(x["mb_s"] > pg))
        elif k == "backup_compressed":
            tgt = "media %s MB (%.2f of the uncompressed)" % (fmt(x["media_mb"]), x["media_mb"] / x["mb"])
        lines.append("%-40s | %8s | %7.2f | %6s | %7.2f | %7.2f | %8.2f | %s" %
                     (name, fmt(x["mb"], 1), x["seconds"], fmt(x["mb_s"]), x["mb_s"] / disk["read_mb_s"],
                      x["mb_s"] / disk["write_mb_s"], x["mb_s"] / pg, tgt))
    w = [x["write_mb_s"] for x in d["disk_probes"]]
    lines.append("disk write probes %s MB/s; read probes %s MB/s" %
                 (", ".join(fmt(x) for x in w), ", ".join(fmt(x["read_mb_s"]) for x in d["disk_probes"])))
    other = [r[k]["other_cpu"] for r in d["rounds"] for k, _ in OPS]
    lines.append("other processes used %.0f-%.0f%% of the machine during the timed operations" %
                 (100 * min(other), 100 * max(other)))
    lines.append("restored copy (row count and sum of ids): " + ("ok" if d["checks_ok"] else "CORRECTNESS ERROR"))
    return "\n".join(lines)


def chart(d):
    """Bars of MB/s; the disk's write bandwidth and 60 % of it as lines. The
    read figure is left out: on this VM it is the host's cache (see the table)."""
    m, disk = d["median"], d["disk"]
    rows = "\n".join("\"%s\" %.1f" % (label, m[k]["mb_s"]) for k, label in
                     (("backup", "hadrdb BACKUP"), ("restore", "hadrdb RESTORE"),
                      ("backup_compressed", "BACKUP compressed"), ("pg_basebackup", "pg_basebackup")))
    run.gnuplot("backup", "set termoption noenhanced\n"
                "set title 'full backup / restore of a %s MB database (MB/s, median of %d rounds), %s'\n"
                "set ylabel 'MB/s'\nset style histogram clustered gap 1\nset key inside top right vertical\n"
                "set yrange [0:%f]\n$d << EOD\n%s\nEOD\n"
                "plot $d using 2:xtic(1) title 'MB/s' lc rgb '#2b6cb0', "
                "%f with lines dt 2 lw 2 lc rgb '#444444' title 'disk write (dd conv=fdatasync)', "
                "%f with lines dt 3 lw 2 lc rgb '#999999' title '60%% of it (target)'\n"
                % (fmt(d["db_mb"]["hadrdb_data_file"]), len(d["rounds"]), d["machine"]["date_utc"][:10],
                   1.45 * max([disk["write_mb_s"]] + [m[k]["mb_s"] for k, _ in OPS]), rows,
                   disk["write_mb_s"], TARGET_DISK_RATIO * disk["write_mb_s"]))


def main():
    what = sys.argv[1] if len(sys.argv) > 1 else "run"
    if what in ("summary", "charts"):
        path = os.path.join(run.OUT, "backup.json")
        if os.path.exists(path):
            with open(path) as f:
                d = json.load(f)
            if what == "charts":
                chart(d)
            print("\n" + table(d))
        return
    if what != "run":
        die("usage: bench/backup_bench.py [run|summary|charts]")
    mach = run.machine()
    log("bench-backup: %s, %d CPUs, %s; %d MB, %d rounds, in %s" %
        (mach["cpu_model"], mach["nproc"], mach["kernel"], SIZE_MB, ROUNDS, run.WORK))
    d = bench(mach)
    run.write_json("backup", d)
    chart(d)
    print("\n" + table(d), flush=True)
    if not d["checks_ok"]:
        sys.exit(1)


if __name__ == "__main__":
    main()
