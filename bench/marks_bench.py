#!/usr/bin/python3
"""Marked transactions: what a mark every second costs a cross-database write
workload on hadrdb. See bench/README.md ("bench-marks").

    bench/marks_bench.py            run, write bench/results/marks.json + .png, print the table
    bench/marks_bench.py summary    print the table of the JSON already there (charts: redraw too)

Two phases of BENCH_SECONDS each on one server, with BENCH_MARK_CLIENTS
clients running cross-database transactions over BENCH_MARK_DBS databases
(2 or 3, FULL recovery, a full backup taken first), and one more connection
running a transaction over every database each BENCH_MARK_PERIOD_MS: in
phase 1 an ordinary one (the control), in phase 2 a marked one (BEGIN TRAN
mN WITH MARK). The load generator (build/loadgen -m marks) measures
throughput, commit latencies and, per mark, the stall: the longest COMMIT
round trip of the ordinary transactions whose COMMIT overlapped the mark's,
less the phase-1 median COMMIT.

Environment: BENCH_SECONDS (per phase, default 15), BENCH_MARK_CLIENTS (8),
BENCH_MARK_DBS (2), BENCH_MARK_PERIOD_MS (1000), and bench/run.py's
BENCH_DIR, BENCH_OUT, BENCH_POOL_MB.
"""
import json, os, subprocess, sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run   # noqa: E402  (bench/run.py: the server, machine info, CPU accounting, JSON and chart helpers)
from run import log, die, fmt, met   # noqa: E402

CLIENTS = int(os.environ.get("BENCH_MARK_CLIENTS", "8"))
DBS = int(os.environ.get("BENCH_MARK_DBS", "2"))
PERIOD_MS = int(os.environ.get("BENCH_MARK_PERIOD_MS", "1000"))
TARGET_STALL_P99_MS = 5.0
PHASES = [("plain", "without marks (an unmarked probe each period)"), ("marked", "with a mark each period")]


def checkpoint(h):
    # CHECKPOINT is per database: each of ours, so no phase pays for the other's dirty pages
    for d in range(1, DBS + 1):
        h.sql("CHECKPOINT", db="marks%d" % d)


def phase(h, marked, baseline_ms):
    args = ["-m", "marks", "-n", DBS, "-c", CLIENTS, "-T", run.SECONDS, "-k", PERIOD_MS]
    if not marked:
        args.append("-x")
    if baseline_ms is not None:
        args += ["-B", "%.3f" % baseline_ms]
    checkpoint(h)

    def go():
        try:
            r = h.loadgen(*args, db="marks1", timeout=run.SECONDS + 120)
        except subprocess.TimeoutExpired:
            die("loadgen -m marks did not finish within %d s of its window: the server hangs? (log: %s)" %
                (120, h.log))
        r["client_cpu_s"] = r["loadgen_cpu_s"]
        return r
    r = run.measured(h, go)
    log("%-6s %d clients, %d dbs: %7.0f tps  commit p50 %6.2f p99 %6.2f ms  %s commit p50 %6.2f p99 %6.2f ms  "
        "stall p50 %6.2f p99 %6.2f ms (%d; shadow p99 %.2f)  server %5.0f us/txn  client cpu %4.1f%%  "
        "other cpu %4.1f%%" %
        ("marked" if marked else "plain", CLIENTS, DBS, r["tps"], r["commit_p50_ms"], r["commit_p99_ms"],
         "mark" if marked else "probe", r["mark_commit_p50_ms"], r["mark_commit_p99_ms"], r["stall_p50_ms"],
         r["stall_p99_ms"], r["marks"], r["shadow_stall_p99_ms"], r["server_us_per_txn"] or 0, r["client_cpu_pct"],
         100 * r["other_cpu"]))
    if r["errors"] or r["mark_errors"] or r["lost_connections"] or r["mark_lost_connection"]:
        log("  errors: %d (marker %d), lost connections %d (marker %d), last: %s" %
            (r["errors"], r["mark_errors"], r["lost_connections"], r["mark_lost_connection"], r["last_error"]))
    return r


def bench(mach):
    for b in ("hadrd", "loadgen", "fsync_probe"):
        if not os.path.exists(os.path.join(run.BUILD, b)):
            die("build/%s is missing: run make bench-marks" % b)
    if not 2 <= DBS <= 3:
        die("BENCH_MARK_DBS must be 2 or 3")
    os.makedirs(run.WORK, exist_ok=True)
    conf = os.path.join(run.WORK, "freetds.conf")
    with open(conf, "w") as f:
        f.write("[global]\n\ttds version = 7.4\n\tencryption = off\n")
    os.environ["FREETDSCONF"] = conf
    h = run.Hadrdb("marks")
    out = {"benchmark": "marks", "machine": mach,
           "config": {"seconds": run.SECONDS, "clients": CLIENTS, "dbs": DBS, "period_ms": PERIOD_MS,
                      "pool_mb": run.POOL_MB, "checkpoint_s": run.CHECKPOINT_S, "recovery_model": "FULL"},
           "targets": {"stall_p99_ms": TARGET_STALL_P99_MS}}
    try:
        h.fresh()
        h.start()
        init = h.loadgen("-m", "marks-init", "-n", DBS, "-o", h.dir, db="master")
        out["load_s"] = init["load_s"]
        out["accounts"] = init["accounts"]
        log("marks: %d databases in FULL recovery, %d accounts, backed up, in %.1f s" %
            (DBS, init["accounts"], init["load_s"]))
        probes = [run.fsync_rate()]
        plain = phase(h, False, None)
        marked = phase(h, True, plain["commit_p50_ms"])
        probes.append(run.fsync_rate())
        check = h.loadgen("-m", "marks-check", "-n", DBS, db="master", check=False)
    finally:
        h.stop()
    out["fsync_probes"] = probes
    out["fsync_per_s"] = round(sorted(probes)[len(probes) // 2], 1)
    out["plain"], out["marked"] = plain, marked
    out["tps_ratio"] = round(marked["tps"] / plain["tps"], 3) if plain["tps"] else None
    out["check"] = check
    if not check.get("ok"):
        log("CORRECTNESS ERROR: the databases disagree: %s" % check)
    return out


def failed(d):
    bad = [k for k in ("plain", "marked") if d[k]["errors"] or d[k]["mark_errors"] or d[k]["lost_connections"]
           or d[k]["mark_lost_connection"] or not d[k]["marks"]]
    return bad + ([] if d["check"].get("ok") else ["check"])


def table(d):
    c = d["config"]
    p, m = d["plain"], d["marked"]
    lines = ["marked transactions: %d clients of cross-database transactions (%d databases, FULL recovery, %d round "
             "trips), %g s per phase, one transaction over every database each %d ms on one more connection; "
             "fsync rate %s/s" % (c["clients"], c["dbs"], p["round_trips_per_txn"], c["seconds"], c["period_ms"],
                                  fmt(d["fsync_per_s"])),
             "%-46s |   tps | commit p50 ms |  p99 | txn p50 ms |  p99 | server us/txn | client cpu | other cpu" %
             "phase"]
    for k, name in PHASES:
        r = d[k]
        lines.append("%-46s | %5s | %13.2f | %4.1f | %10.2f | %4.1f | %13s | %9.0f%% | %8.0f%%" %
                     (name, fmt(r["tps"]), r["commit_p50_ms"], r["commit_p99_ms"], r["txn_p50_ms"], r["txn_p99_ms"],
                      fmt(r["server_us_per_txn"], 1), r["client_cpu_pct"], 100 * r["other_cpu"]))
    lines.append("%-46s |  n | its commit p50 |   p99 | overlapping commits p50 |   p99 | stall p50 |   p99 |   max "
                 "| shadow stall p50 |   p99" % "per mark (phase 1: per unmarked probe), ms")
    for k, name in (("plain", "unmarked probe (phase 1)"), ("marked", "mark (phase 2)")):
        r = d[k]
        lines.append("%-46s | %2d | %14.2f | %5.2f | %23.2f | %5.2f | %9.2f | %5.2f | %5.2f | %16.2f | %5.2f" %
                     (name, r["marks"], r["mark_commit_p50_ms"], r["mark_commit_p99_ms"], r["overlap_commit_p50_ms"],
                      r["overlap_commit_p99_ms"], r["stall_p50_ms"], r["stall_p99_ms"], r["stall_max_ms"],
                      r["shadow_stall_p50_ms"], r["shadow_stall_p99_ms"]))
    lines.append("stall = the longest COMMIT among the ordinary transactions whose COMMIT overlapped the mark's, less "
                 "the phase-1 median COMMIT (%.2f ms); %.1f overlapped per mark; shadow = the same half a period later, "
                 "where there is no mark: the machine's own jitter" % (m["baseline_commit_ms"], m["overlapped_per_mark"]))
    if m.get("gate_marks"):
        # what the target is about, measured where it happens: how long each
        # mark kept cross-database commits from starting (the server's
        # marked-commit gate, sys.dm_os_performance_counters)
        lines.append("commits blocked per mark, server side (the marked-commit gate's closed time, %d marks): "
                     "p50 %.2f ms, p99 %.2f ms, max %.2f ms (target p99 < %g ms: %s)" %
                     (m["gate_marks"], m["gate_block_p50_ms"], m["gate_block_p99_ms"], m["gate_block_max_ms"],
                      d["targets"]["stall_p99_ms"], met(m["gate_block_p99_ms"] < d["targets"]["stall_p99_ms"])))
    lines.append("throughput with marks / without = %s; client-side mark stall p99 %.2f ms; shadow p99 %.2f ms, "
                 "unmarked probe's stall p99 %.2f ms (the client-side stall includes the machine's jitter)" %
                 (fmt(d["tps_ratio"], 3), m["stall_p99_ms"], m["shadow_stall_p99_ms"], p["stall_p99_ms"]))
    other = [d[k]["other_cpu"] for k, _ in PHASES]
    if max(other) > 0.15:
        lines.append("other processes used %.0f-%.0f%% of the machine: noisy, rerun when quiet" %
                     (100 * min(other), 100 * max(other)))
    ck = d["check"]
    lines.append("cross-database sums (acct = every journal, marker rows equal): " +
                 ("ok" if ck.get("ok") else "CORRECTNESS ERROR %s" % ck))
    bad = failed(d)
    if bad:
        lines.append("FAILED: %s (errors: %s)" % (", ".join(bad), d["marked"]["last_error"] or d["plain"]["last_error"]))
    return "\n".join(lines)


def chart(d):
    """Left: throughput of the two phases. Right: the latencies (ms) of both
    phases side by side, with the stall target as a line."""
    p, m = d["plain"], d["marked"]
    rows = "\n".join("\"%s\" %.3f %.3f" % (label, p[k], m[k]) for label, k in
                     (("commit p50", "commit_p50_ms"), ("commit p99", "commit_p99_ms"),
                      ("mark commit p50", "mark_commit_p50_ms"),
                      ("mark commit p99", "mark_commit_p99_ms"),
                      ("stall p50", "stall_p50_ms"), ("stall p99", "stall_p99_ms"),
                      ("shadow stall p99", "shadow_stall_p99_ms")))
    keys = ("commit_p99_ms", "mark_commit_p99_ms", "stall_p99_ms", "shadow_stall_p99_ms")
    top = max([p[k] for k in keys] + [m[k] for k in keys] + [d["targets"]["stall_p99_ms"]])
    run.gnuplot("marks", "set termoption noenhanced\nset multiplot layout 1,2 title "
                "'cross-database transactions, %d clients, %d databases: a mark every %d ms (%s)'\n"
                "set xtics rotate by 30 right\n"
                "set title 'transactions/s'\nset key off\n$t << EOD\n\"without marks\" %.1f\n\"with marks\" %.1f\nEOD\n"
                "plot $t using 2:xtic(1) lc rgb '#2b6cb0'\n"
                "set title 'ms'\nset key inside top left vertical Left reverse samplen 2\nset yrange [0:%f]\n$d << EOD\n%s\nEOD\n"
                "plot $d using 2:xtic(1) title 'phase 1: no marks (probe unmarked)' lc rgb '#999999', "
                "'' using 3 title 'phase 2: marks' lc rgb '#2b6cb0', "
                "%f with lines dt 2 lw 2 lc rgb '#c53030' title 'stall p99 target'\n"
                "unset multiplot\n"
                % (d["config"]["clients"], d["config"]["dbs"], d["config"]["period_ms"], d["machine"]["date_utc"][:10],
                   p["tps"], m["tps"], 1.5 * top, rows, d["targets"]["stall_p99_ms"]))


def main():
    what = sys.argv[1] if len(sys.argv) > 1 else "run"
    if what in ("summary", "charts"):
        path = os.path.join(run.OUT, "marks.json")
        if os.path.exists(path):
            with open(path) as f:
                d = json.load(f)
            if what == "charts":
                chart(d)
            print("\n" + table(d))
        return
    if what != "run":
        die("usage: bench/marks_bench.py [run|summary|charts]")
    mach = run.machine()
    log("bench-marks: %s, %d CPUs, %s; %g s per phase, %d clients, %d databases, a mark every %d ms" %
        (mach["cpu_model"], mach["nproc"], mach["kernel"], run.SECONDS, CLIENTS, DBS, PERIOD_MS))
    d = bench(mach)
    run.write_json("marks", d)
    chart(d)
    print("\n" + table(d), flush=True)
    if failed(d):
        sys.exit(1)


if __name__ == "__main__":
    main()
