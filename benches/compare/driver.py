#!/usr/bin/env python3
"""Timing driver for benches/compare/run.sh (see there). Subcommands:

  duck-load CSV DIR          CSV -> Hive-partitioned Parquet (sorted by tenant, start_time);
                             prints the seconds it took
  queries --work ...         the query set and the COPY export on all three engines: one
                             warm-up round (whose results are compared across engines), then
                             --runs timed rounds, engines interleaved within each round;
                             prints metrics (ENGINE<TAB>METRIC<TAB>VALUE)
  pgbench-stats ENGINE DIR   TPS and latency percentiles per script from pgbench's logs
  sample-pss OUT NAME=PID..  samples the summed PSS of each process tree until killed
  pss-peaks FILE             the peak of each sampled tree, as metrics
  table METRICS              the markdown results table

cdrlake and PostgreSQL are driven through psql (one session per engine and round, `\\timing`
on, results to /dev/null); DuckDB in-process through its Python API.
"""

import argparse
import collections
import decimal
import glob
import json
import os
import re
import signal
import statistics
import subprocess
import sys
import time

ENGINES = ("cdrlake", "postgresql", "duckdb")
MONTH = ("2026-11-01T00:00:00Z", "2026-12-01T00:00:00Z")  # generate's default 30 days
DAY0 = 1  # first day of the export range (November 2026)
NUMERIC = {"duration_s": "INTEGER", "billed_s": "INTEGER", "sip_code": "INTEGER"}
TIMES = ("start_time", "connect_time", "end_time")
MONEY = ("rate_per_min", "charge", "toll_free_amount", "termination_amount", "metered_channels_amount")


def duck_connect():
    import duckdb

    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    return con


def duck_load(csv, out):
    header = open(csv).readline().strip().split(",")
    types = {c: NUMERIC.get(c, "TIMESTAMPTZ" if c in TIMES else "DECIMAL(18,6)" if c in MONEY else "VARCHAR") for c in header}
    con = duck_connect()
    t0 = time.perf_counter()
    con.execute(
        f"""COPY (SELECT *, CAST(start_time AS DATE) AS call_date
                  FROM read_csv('{csv}', header = true, columns = {types!r})
                  ORDER BY tenant, start_time)
            TO '{out}' (FORMAT parquet, PARTITION_BY (call_date))"""
    )
    print(f"{time.perf_counter() - t0:.3f}")


# ------------------------------------------------------------------ the query set

STATUS_CASE = """CASE
    WHEN hangup_cause = 'forbidden_destination' THEN 'Forbidden destination'
    WHEN hangup_cause = 'routing_failed' THEN 'Call forwarding scheme did not work'
    WHEN hangup_cause = 'wrong_extension' THEN 'Wrong extension'
    WHEN hangup_cause = 'no_extension' THEN 'No extension'
    WHEN hangup_cause = 'callback_no_answer' THEN 'No answer from a customer (Callback)'
    WHEN hangup_cause = 'voicemail' THEN 'Voicemail'
    WHEN hangup_cause IN ('abandoned_in_ivr', 'abandoned_in_queue', 'abandoned_while_ringing',
                          'queue_timeout', 'queue_overflow', 'navigation_abandoned') THEN 'No answer'
    WHEN hangup_cause IN ('ivr_error', 'transfer_to_agent_failed') THEN 'Failed'
    WHEN connect_time IS NOT NULL THEN 'Answered'
    WHEN sip_code IN (486, 600) THEN 'Busy'
    WHEN sip_code IN (403, 404, 407, 410, 484, 488) OR sip_code BETWEEN 500 AND 599 THEN 'Failed'
    ELSE 'No answer'
  END"""

# call_log's call_status for the peers: the same rules and target logic (default settings:
# target_call_s 30, one-day sales cycles in Europe/Amsterdam). Sales cycles are local days, so
# the window input is the month widened by a day on each side.
PEER_STATUS = f"""WITH base AS (
  SELECT tenant, source, call_id, start_time, duration_s, {STATUS_CASE} AS base_status,
         CAST(start_time AT TIME ZONE 'Europe/Amsterdam' AS DATE) AS cycle
  FROM cdrs
  WHERE start_time >= TIMESTAMPTZ '{{m0}}' - INTERVAL '1 day' AND start_time < TIMESTAMPTZ '{{m1}}' + INTERVAL '1 day'
), t AS (
  SELECT *, base_status = 'Answered' AND duration_s >= 30 AS is_target FROM base
), f AS (
  SELECT *, min(CASE WHEN is_target THEN start_time END) OVER (PARTITION BY tenant, source, cycle) AS target_at FROM t
), g AS (
  SELECT *, min(CASE WHEN is_target AND start_time = target_at THEN call_id END)
              OVER (PARTITION BY tenant, source, cycle) AS target_id FROM f
)
SELECT CASE
    WHEN base_status <> 'Answered' THEN base_status
    WHEN call_id = target_id THEN 'Proper'
    WHEN start_time > target_at OR (start_time = target_at AND call_id > target_id) THEN 'Repeat call'
    ELSE 'Answered'
  END AS call_status, count(*) AS calls
FROM g WHERE start_time >= '{{m0}}' AND start_time < '{{m1}}'
GROUP BY 1 ORDER BY 1"""

# name -> (SQL for all, SQL for the peers or None, compare values (else row counts only))
QUERIES = {
    "lookup_id": ("SELECT * FROM cdrs WHERE call_id = '{cid}'", None, False),
    "lookup_tenant_id": ("SELECT * FROM cdrs WHERE tenant = '{tenant}' AND call_id = '{cid}'", None, False),
    "caller_7d": (
        "SELECT call_id, start_time, destination, duration_s, charge FROM cdrs "
        "WHERE source = '{source}' AND start_time >= '2026-11-08T00:00:00Z' AND start_time < '2026-11-15T00:00:00Z' "
        "ORDER BY start_time, call_id",
        None,
        False,
    ),
    "monthly_account": (
        "SELECT tenant, billing_account, count(*) AS calls, sum(duration_s) AS duration_s, sum(charge) AS charge "
        "FROM cdrs WHERE start_time >= '{m0}' AND start_time < '{m1}' AND billing_account IS NOT NULL "
        "GROUP BY tenant, billing_account ORDER BY tenant, billing_account",
        None,
        True,
    ),
    "status_month": (
        "SELECT call_status, count(*) AS calls FROM call_log "
        "WHERE start_time >= '{m0}' AND start_time < '{m1}' GROUP BY 1 ORDER BY 1",
        PEER_STATUS,
        True,
    ),
    "top_dest_day": (
        "SELECT call_date, destination, charge FROM ("
        " SELECT call_date, destination, charge,"
        "  row_number() OVER (PARTITION BY call_date ORDER BY charge DESC, destination) AS rn"
        " FROM (SELECT call_date, destination, sum(charge) AS charge FROM cdrs"
        "  WHERE charge IS NOT NULL GROUP BY call_date, destination) d) r "
        "WHERE rn <= 10 ORDER BY call_date, rn",
        None,
        True,
    ),
    "first_30s_per_caller_day": (
        "SELECT count(*) AS caller_days, sum(duration_s) AS duration_s FROM ("
        " SELECT duration_s,"
        "  row_number() OVER (PARTITION BY tenant, source, call_date ORDER BY start_time, call_id) AS rn"
        " FROM cdrs WHERE duration_s >= 30) t WHERE rn = 1",
        None,
        True,
    ),
    "select_1": ("SELECT 1", None, True),  # the client floor: a round trip with no work
}
EXPORT_SQL = "SELECT * FROM cdrs WHERE call_date >= '{d0}' AND call_date < '{d1}'"


def one_line(sql):
    return " ".join(sql.split())


def pick_params(csv, rows):
    """Query parameters from the data: an id, its tenant and a busy caller from the middle."""
    with open(csv, "rb") as f:
        header = f.readline().decode().strip().split(",")
        first = dict(zip(header, f.readline().decode().strip().split(",")))
        f.seek(os.path.getsize(csv) // 2)
        f.readline()
        window = [dict(zip(header, f.readline().decode().rstrip("\n").split(","))) for _ in range(min(20000, rows // 4))]
        window = [r for r in window if "call_id" in r and r.get("source")]
    mid = window[len(window) // 2]
    sources = collections.Counter(r["source"] for r in window)
    with open(csv) as f:
        tenants = sorted({line.split(",")[header.index("tenant")] for _, line in zip(range(20000), f)} - {"tenant"})
    days = 30
    export_days = max(1, days // 10)
    return {
        "cid": mid["call_id"],
        "tenant": mid["tenant"],
        "source": sources.most_common(1)[0][0],
        "m0": MONTH[0],
        "m1": MONTH[1],
        "d0": f"2026-11-{DAY0:02d}",
        "d1": f"2026-11-{DAY0 + export_days:02d}",
        "id_hash": first["call_id"].rsplit("-", 2)[1],
        "tenants": tenants,
    }


def sql_for(engine, name, p):
    common, peers, _ = QUERIES[name]
    sql = peers if (peers and engine != "cdrlake") else common
    return one_line(sql.format(**p))


# ------------------------------------------------------------------ runners


class Psql:
    """One psql session per round: \\timing on, each query once, results to /dev/null (or to
    files in the warm-up round)."""

    def __init__(self, engine, port, user, work):
        self.engine, self.port, self.user, self.work = engine, port, user, work

    def base(self):
        return ["psql", "-X", "-q", "-h", "127.0.0.1", "-p", str(self.port), "-U", self.user, "-d", "cdr"]

    def round(self, names, p, outdir=None):
        script = os.path.join(self.work, f"round-{self.engine}.sql")
        lines = ["\\pset pager off", "\\pset format unaligned", "\\pset tuples_only on", "\\timing on"]
        line_of = {}
        for name in names:
            lines.append(f"\\o {os.path.join(outdir, f'{self.engine}.{name}.txt') if outdir else '/dev/null'}")
            lines.append(f"\\echo @@Q {name}")
            lines.append(sql_for(self.engine, name, p) + ";")
            line_of[len(lines)] = name
        with open(script, "w") as f:
            f.write("\n".join(lines) + "\n")
        r = subprocess.run(self.base() + ["-f", script], capture_output=True, text=True)
        times, current = {}, None
        for line in r.stdout.splitlines():
            if line.startswith("@@Q "):
                current = line[4:]
            m = re.match(r"Time: ([0-9.]+) ms", line)
            if m and current:
                times[current] = float(m.group(1))
        errors = {}
        for line in r.stderr.splitlines():
            m = re.match(rf"psql:{re.escape(script)}:(\d+): (.*)", line)
            if m and int(m.group(1)) in line_of:
                errors.setdefault(line_of[int(m.group(1))], m.group(2))
            elif line.strip() and not m:
                errors.setdefault("(session)", line)
        return {n: ("error", errors[n]) if n in errors or n not in times else times[n] for n in names}, errors

    def export(self, p, out):
        sql = f"COPY ({one_line(EXPORT_SQL.format(**p))}) TO STDOUT WITH (FORMAT csv, HEADER)"
        t0 = time.perf_counter()
        with open(out, "wb") as f:
            r = subprocess.run(self.base() + ["-c", sql], stdout=f, stderr=subprocess.PIPE, text=True)
        secs = time.perf_counter() - t0
        return (secs, os.path.getsize(out)) if r.returncode == 0 and os.path.getsize(out) > 0 else ("error", sql + ": " + r.stderr.strip())


class Duck:
    engine = "duckdb"

    def __init__(self, duck_dir, work):
        self.con = duck_connect()
        self.con.execute(f"CREATE VIEW cdrs AS SELECT * FROM read_parquet('{duck_dir}/**/*.parquet', hive_partitioning = true)")
        self.work = work

    def round(self, names, p, outdir=None):
        times, errors = {}, {}
        for name in names:
            sql = sql_for("duckdb", name, p)
            try:
                t0 = time.perf_counter()
                rows = self.con.execute(sql).fetchall()
                times[name] = (time.perf_counter() - t0) * 1000
            except Exception as e:  # noqa: BLE001 -- a failed query is a result
                times[name] = ("error", str(e))
                errors[name] = str(e)
                continue
            if outdir:
                with open(os.path.join(outdir, f"duckdb.{name}.txt"), "w") as f:
                    for row in rows:
                        f.write("|".join("" if v is None else str(v) for v in row) + "\n")
        return times, errors

    def export(self, p, out):
        t0 = time.perf_counter()
        try:
            self.con.execute(f"COPY ({one_line(EXPORT_SQL.format(**p))}) TO '{out}' (FORMAT csv, HEADER)")
        except Exception as e:  # noqa: BLE001
            return "error", str(e)
        return time.perf_counter() - t0, os.path.getsize(out)


def normalise(cell):
    try:
        return str(decimal.Decimal(cell).quantize(decimal.Decimal("0.01")))
    except (decimal.InvalidOperation, ValueError):
        return cell


def compare_results(outdir, names):
    """Warm-up results of cdrlake and DuckDB against PostgreSQL's: values or row counts."""
    problems = []
    for name in names:
        exact = QUERIES[name][2]
        got = {}
        for engine in ENGINES:
            path = os.path.join(outdir, f"{engine}.{name}.txt")
            if os.path.exists(path):
                lines = [ln for ln in open(path).read().splitlines() if ln]
                got[engine] = sorted("|".join(map(normalise, ln.split("|"))) for ln in lines) if exact else len(lines)
        ref = got.get("postgresql")
        for engine in ("cdrlake", "duckdb"):
            if engine in got and ref is not None and got[engine] != ref:
                what = "values" if exact else f"row counts {got[engine]} vs {ref}"
                problems.append(f"{name}: {engine} and postgresql differ ({what}; see {outdir})")
    return problems


def write_pgbench_scripts(work, p, rows):
    """lookup.sql: a Call-ID point look-up with tenant (the id's tenant is not known in advance, so
    one OR branch per tenant; one row matches). report.sql: one tenant's day by direction, as a
    start_time range (which PostgreSQL's start_time index serves)."""
    digits = len(str(rows - 1))
    lo, hi = (10 ** (digits - 1) if digits > 1 else 0), rows - 1
    pad = "0" * (8 - digits)
    d = os.path.join(work, "pgbench")
    os.makedirs(d, exist_ok=True)
    branches = " OR ".join(f"(tenant = '{t}' AND call_id = '{t}-{p['id_hash']}-{pad}:n')" for t in p["tenants"])
    with open(os.path.join(d, "lookup.sql"), "w") as f:
        f.write(f"\\set n random({lo}, {hi})\nSELECT * FROM cdrs WHERE {branches};\n")
    tenant_case = " ".join(f"WHEN {i + 1} THEN '{t}'" for i, t in enumerate(p["tenants"]))
    with open(os.path.join(d, "report.sql"), "w") as f:
        f.write(
            f"\\set t random(1, {len(p['tenants'])})\n\\set d random(10, 28)\n\\set e :d + 1\n"
            "SELECT direction, count(*) AS calls, sum(duration_s) AS duration_s, sum(charge) AS charge "
            f"FROM cdrs WHERE tenant = CASE :t {tenant_case} END "
            "AND start_time >= '2026-11-:d 00:00:00Z' AND start_time < '2026-11-:e 00:00:00Z' "
            "GROUP BY direction ORDER BY direction;\n"
        )


def queries(a):
    p = pick_params(a.csv, a.rows)
    names = [n for n in QUERIES]
    write_pgbench_scripts(a.work, p, a.rows)
    with open(os.path.join(a.work, "lookup_id.sql"), "w") as f:
        f.write(sql_for("cdrlake", "lookup_id", p) + "\n")
    runners = [Psql("cdrlake", a.cdrlake_port, "bench", a.work), Psql("postgresql", a.pg_port, "postgres", a.work), Duck(a.duck_dir, a.work)]
    samples = {r.engine: collections.defaultdict(list) for r in runners}
    errors = {}
    outdir = os.path.join(a.work, "results")
    os.makedirs(outdir, exist_ok=True)
    for rnd in range(a.runs + 1):
        warm = rnd == 0
        order = runners if rnd % 2 == 0 else runners[::-1]  # interleave, alternating who goes first
        for r in order:
            times, errs = r.round(names, p, outdir if warm else None)
            for n, msg in errs.items():
                errors.setdefault((r.engine, n), (sql_for(r.engine, n, p) if n in QUERIES else "", msg))
            out = os.path.join(a.work, f"export-{r.engine}.csv")
            exp = r.export(p, out)
            if exp[0] == "error":
                errors.setdefault((r.engine, "export"), ("", exp[1]))
            if warm:
                if exp[0] != "error":
                    samples[r.engine]["export_rows"].append(sum(1 for _ in open(out, "rb")) - 1)
            else:
                for n, t in times.items():
                    samples[r.engine][n].append(t)
                samples[r.engine]["export"].append(exp)
            if os.path.exists(out):
                os.remove(out)
            print(f"bench: round {rnd}{' (warm-up)' if warm else ''} {r.engine} done", file=sys.stderr)
    problems = compare_results(outdir, names)
    for pr in problems:
        print(f"bench: RESULT MISMATCH {pr}", file=sys.stderr)
    with open(os.path.join(a.work, "errors.txt"), "w") as f:
        for (engine, n), (sql, msg) in sorted(errors.items()):
            f.write(f"{engine} {n}: {msg}\n    SQL: {sql}\n")
    with open(os.path.join(a.work, "timings.json"), "w") as f:
        json.dump({"params": p, "samples": samples, "mismatches": problems}, f, indent=1, default=str)
    for engine, s in samples.items():
        for n in names:
            vals = s[n]
            ok = vals and all(not isinstance(v, tuple) for v in vals)
            emit(engine, f"q_{n}_ms", f"{statistics.median(vals):.2f}" if ok else "error")
        exports = s["export"]
        if exports and all(e[0] != "error" for e in exports):
            secs = statistics.median(e[0] for e in exports)
            emit(engine, "export_s", f"{secs:.3f}")
            emit(engine, "export_mb_s", f"{exports[0][1] / secs / 1e6:.1f}")
            emit(engine, "export_bytes", exports[0][1])
        else:
            emit(engine, "export_mb_s", "error")
        if s["export_rows"]:
            emit(engine, "export_rows", s["export_rows"][0])
    emit("check", "mismatches", len(problems))


def emit(engine, metric, value):
    print(f"{engine}\t{metric}\t{value}", flush=True)


# ------------------------------------------------------------------ pgbench, memory


def pgbench_stats(engine, d):
    summary = open(os.path.join(d, "summary.txt")).read()
    m = re.search(r"tps = ([0-9.]+) \(without initial connection time\)", summary)
    emit(engine, "pgbench_tps", m.group(1) if m else "error")
    lat = collections.defaultdict(list)
    for path in glob.glob(os.path.join(d, "tx.*")):
        for line in open(path):
            f = line.split()
            if len(f) >= 6 and f[2].isdigit():
                lat[int(f[3])].append(int(f[2]) / 1000)
    for script, name in ((0, "lookup"), (1, "report")):
        v = sorted(lat.get(script, []))
        if not v:
            emit(engine, f"pgbench_{name}_tps", "error")
            continue
        m = re.search(rf"SQL script {script + 1}: .*?tps = ([0-9.]+)\)", summary, re.S)
        if m:
            emit(engine, f"pgbench_{name}_tps", m.group(1))
        for q in (50, 95, 99):
            emit(engine, f"pgbench_{name}_p{q}_ms", f"{v[min(len(v) - 1, len(v) * q // 100)]:.1f}")
    aborted = sum(1 for ln in open(os.path.join(d, "stderr.txt")) if "aborted" in ln)
    emit(engine, "pgbench_aborted_clients", aborted)


def tree(root):
    children = collections.defaultdict(list)
    for stat in glob.glob("/proc/[0-9]*/stat"):
        try:
            fields = open(stat).read().rsplit(")", 1)[1].split()
            children[int(fields[1])].append(int(stat.split("/")[2]))
        except (OSError, IndexError):
            pass
    out, todo = [], [root]
    while todo:
        pid = todo.pop()
        out.append(pid)
        todo.extend(children.get(pid, []))
    return out


def pss_kb(pid):
    try:
        for line in open(f"/proc/{pid}/smaps_rollup"):
            if line.startswith("Pss:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def sample_pss(out, targets):
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    roots = [t.split("=") for t in targets]
    with open(out, "a") as f:
        while True:
            for name, pid in roots:
                f.write(f"{name}\t{sum(pss_kb(p) for p in tree(int(pid)))}\n")
            f.flush()
            time.sleep(0.5)


def pss_peaks(path):
    peak = collections.Counter()
    for line in open(path):
        name, kb = line.split()
        peak[name] = max(peak[name], int(kb))
    for name, kb in peak.items():
        emit(name, "server_peak_pss_kb", kb)


# ------------------------------------------------------------------ the table


def table(path):
    m = collections.defaultdict(dict)
    for line in open(path):
        engine, metric, value = line.rstrip("\n").split("\t")
        m[engine][metric] = value

    def num(engine, metric):
        try:
            return float(m[engine][metric])
        except (KeyError, ValueError):
            return None

    rows = int(m["run"]["rows"])
    for e in ("cdrlake", "postgresql", "duckdb"):
        if num(e, "load_s"):
            m[e]["load_rows_s"] = rows / num(e, "load_s")
    if num("cdrlake", "wire_load_s"):
        m["cdrlake"]["wire_load_rows_s"] = rows / num("cdrlake", "wire_load_s")
    for e in ("cdrlake", "postgresql", "duckdb"):
        for k in ("disk_bytes", "materialized_bytes", "server_peak_rss_kb", "server_peak_pss_kb"):
            if num(e, k) is not None:
                m[e][k.replace("_kb", "_mb").replace("_bytes", "_mb")] = num(e, k) / (1024 if k.endswith("kb") else 1e6)

    lines = [
        f"Rows: {rows:,}; runs per query: {m['run']['runs']} after a warm-up (median); pgbench -c 16 -j 2 -T {m['run']['pgbench_seconds']}",
        f"Machine: {m['machine']['description']}; load average before {m['machine']['load_before']}, after loads "
        f"{m['machine'].get('load_after_load', '?')}, after queries {m['machine'].get('load_after_queries', '?')}, "
        f"after pgbench {m['machine'].get('load_after_pgbench', '?')}",
        "",
        "| metric | cdrlake | PostgreSQL | DuckDB | cdrlake/PG | cdrlake/DuckDB |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    spec = [
        ("load rows/s ↑ (cdrlake: CLI ingest)", "load_rows_s", ("{:,.0f}")),
        ("load rows/s ↑ (cdrlake: \\copy over the wire)", "wire_load_rows_s", "{:,.0f}"),
        ("bytes on disk, MB ↓", "disk_mb", "{:,.0f}"),
        ("cdrlake compact after the load (stores call_log, call_reports), s", "materialize_s", "{:,.1f}"),
        ("stored views on disk, MB", "materialized_mb", "{:,.0f}"),
    ]
    spec += [(f"{n} ms ↓", f"q_{n}_ms", "{:,.1f}") for n in QUERIES]
    spec += [
        ("export COPY … TO STDOUT csv, MB/s ↑", "export_mb_s", "{:,.1f}"),
        ("export rows", "export_rows", "{:,.0f}"),
        ("pgbench TPS ↑ (all)", "pgbench_tps", "{:,.1f}"),
        ("pgbench lookup TPS ↑", "pgbench_lookup_tps", "{:,.1f}"),
        ("pgbench lookup p50/p95/p99 ms ↓", "pgbench_lookup_p", None),
        ("pgbench report TPS ↑", "pgbench_report_tps", "{:,.1f}"),
        ("pgbench report p50/p95/p99 ms ↓", "pgbench_report_p", None),
        ("pgbench aborted clients", "pgbench_aborted_clients", "{:,.0f}"),
        ("server peak RSS (VmHWM), MB ↓", "server_peak_rss_mb", "{:,.0f}"),
        ("server peak PSS (process tree, sampled), MB ↓", "server_peak_pss_mb", "{:,.0f}"),
    ]
    engines = ("cdrlake", "postgresql", "duckdb")
    for label, key, fmt in spec:
        cells = []
        for e in engines:
            if fmt is None:
                ps = [m[e].get(f"{key}{q}_ms") for q in (50, 95, 99)]
                cells.append("/".join(ps) if all(ps) else "")
                continue
            v = m[e].get(key)
            if v is None:
                cells.append("")
            elif v == "error":
                cells.append("error")
            else:
                cells.append(fmt.format(float(v)))
        ratios = []
        for peer in ("postgresql", "duckdb"):
            a, b = num("cdrlake", key), num(peer, key)
            ratios.append(f"{a / b:.2f}" if fmt and a is not None and b else "")
        if any(cells):
            lines.append(f"| {label} | " + " | ".join(cells + ratios) + " |")
    if m["check"].get("mismatches", "0") != "0":
        lines.append(f"\nResult mismatches between engines: {m['check']['mismatches']} (see the run's log)")
    print("\n".join(lines))


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("duck-load")
    s.add_argument("csv")
    s.add_argument("out")
    s = sub.add_parser("queries")
    for k in ("work", "csv", "duck-dir"):
        s.add_argument(f"--{k}", required=True)
    for k in ("runs", "rows", "cdrlake-port", "pg-port"):
        s.add_argument(f"--{k}", type=int, required=True)
    s = sub.add_parser("pgbench-stats")
    s.add_argument("engine")
    s.add_argument("dir")
    s = sub.add_parser("sample-pss")
    s.add_argument("out")
    s.add_argument("targets", nargs="+")
    s = sub.add_parser("pss-peaks")
    s.add_argument("file")
    s = sub.add_parser("table")
    s.add_argument("metrics")
    a = ap.parse_args()
    if a.cmd == "duck-load":
        duck_load(a.csv, a.out)
    elif a.cmd == "queries":
        queries(a)
    elif a.cmd == "pgbench-stats":
        pgbench_stats(a.engine, a.dir)
    elif a.cmd == "sample-pss":
        sample_pss(a.out, a.targets)
    elif a.cmd == "pss-peaks":
        pss_peaks(a.file)
    else:
        table(a.metrics)


if __name__ == "__main__":
    main()
