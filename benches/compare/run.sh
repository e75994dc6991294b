#!/usr/bin/env bash
# Side-by-side benchmark: cdrlake vs PostgreSQL 15 vs DuckDB on one generated CDR data set
# (issue 5). Generates the data, loads it into all three, runs the same query set, a COPY
# export and a pgbench load, and prints a markdown table with ratios cdrlake/PostgreSQL and
# cdrlake/DuckDB. Installs what it needs itself (idempotent).
#
#   benches/compare/run.sh [--rows N] [--runs N] [--pgbench-seconds S] [--work DIR] [--keep]
#   benches/compare/run.sh --smoke        # 100k rows, 1 run each, pgbench -T 5 (CI)
#
# CDRLAKE_BIN: the cdrlake binary (default: cargo build --release, then
# $CARGO_TARGET_DIR/release/cdrlake). The script runs a private copy of it.
set -euo pipefail

HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
CACHE="$HOME/.cache/cdrlake-bench"
VENV="$CACHE/venv"
PG_BIN=/usr/lib/postgresql/15/bin
PY="$VENV/bin/python"

ROWS=10000000 RUNS=5 PGBENCH_T=60 SMOKE=0 KEEP=0 WORK=""
while (($#)); do
    case $1 in
        --rows) ROWS=$2; shift 2 ;;
        --runs) RUNS=$2; shift 2 ;;
        --pgbench-seconds) PGBENCH_T=$2; shift 2 ;;
        --work) WORK=$2; shift 2 ;;
        --keep) KEEP=1; shift ;;
        --smoke) SMOKE=1 ROWS=100000 RUNS=1 PGBENCH_T=5; shift ;;
        -h | --help) sed -n '2,12p' "$0"; exit 0 ;;
        *) echo "unknown argument $1" >&2; exit 2 ;;
    esac
done

say() { echo "bench: $(date +%T) $*" >&2; }
source "$HERE/../../tests/support/setup.sh"
now() { date +%s.%N; }
since() { echo "$(now) - $1" | bc -l; }

install_debian() {
    local missing=()
    [[ -x $PG_BIN/postgres ]] || missing+=(postgresql-15)
    command -v psql >/dev/null || missing+=(postgresql-client-15)
    command -v bc >/dev/null || missing+=(bc)
    apt_install "${missing[@]}"
}

install_python() { venv_install "$VENV" "$HERE/requirements.txt"; }

# Names without "cdrlake" in them, so that a neighbour's `pkill -f cdrlake` spares this run.
[[ -n $WORK ]] || WORK="$(mktemp -d "${TMPDIR:-/tmp}/compare-bench.XXXXXX")"
mkdir -p "$WORK"
chmod 755 "$WORK" # the PostgreSQL server (user postgres) reads the CSV with server-side COPY
METRICS="$WORK/metrics.tsv"
: >"$METRICS"
SERVER_PIDS=()
PG_DIR=""
SAMPLER_PID=""

cleanup() {
    local pid
    for pid in "${SERVER_PIDS[@]}" $SAMPLER_PID; do kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true; done
    if [[ -n $PG_DIR ]]; then as_pg "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m immediate stop >/dev/null 2>&1 || true; fi
    if ((KEEP == 0)); then rm -rf "$WORK" ${PG_DIR:+"$PG_DIR"}; else say "kept $WORK ${PG_DIR}"; fi
}
trap cleanup EXIT

metric() { printf '%s\t%s\t%s\n' "$1" "$2" "$3" >>"$METRICS"; } # ENGINE METRIC VALUE

resolve_binary() {
    local bin="${CDRLAKE_BIN:-}"
    if [[ -z $bin ]]; then
        export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/cdrlake-target}"
        say "cargo build --release"
        (cd "$ROOT" && cargo build --release --locked --quiet)
        bin="$CARGO_TARGET_DIR/release/cdrlake"
    fi
    cp "$bin" "$WORK/cdrsrv" # a private copy: a shared target dir may be rebuilt meanwhile
    BIN="$WORK/cdrsrv"
}

# ---------------------------------------------------------------- data

generate_data() {
    say "generate $ROWS rows"
    "$BIN" generate --rows "$ROWS" --format canonical --days 30 --tenants 5 --out "$WORK/gen" >/dev/null
    CSV="$WORK/gen/cdrs.csv"
    chmod 644 "$CSV"
    metric csv bytes "$(stat -c %s "$CSV")"
}

disk_bytes() { du -sb "$1" | cut -f1; }

# ---------------------------------------------------------------- cdrlake

# cdr_start STORE -> CDR_PID, CDR_PORT
cdr_start() {
    CDR_PORT="$(free_port)"
    # A 4 GB per-query limit (the default is 2 GB): the call log of 10M CDRs (status_month)
    # holds ~2.7 GB in GroupWindowExec's accounting (benches/RESULTS.md, groupwindow);
    # DuckDB's default limit is 80 % of RAM.
    printf '[server]\nquery_memory_mb = 4096\n' >"$1.cdrlake.toml"
    "$BIN" --config "$1.cdrlake.toml" --data "$1" serve --listen "127.0.0.1:$CDR_PORT" \
        2>"$1.server.log" &
    CDR_PID=$!
    SERVER_PIDS+=("$CDR_PID")
    for _ in $(seq 1 600); do
        grep -q "on 127.0.0.1:$CDR_PORT" "$1.server.log" 2>/dev/null && return 0
        kill -0 "$CDR_PID" 2>/dev/null || break
        sleep 0.2
    done
    say "cdrlake server did not start:"; cat "$1.server.log" >&2
    return 1
}

cdr_stop() { kill "$CDR_PID" && wait "$CDR_PID" 2>/dev/null || true; }

peak_rss_kb() { awk '/^VmHWM:/ {print $2}' "/proc/$1/status"; }

cdr_psql() { psql -X -q -h 127.0.0.1 -p "$1" -U bench -d cdr "${@:2}"; }

load_cdrlake_cli() {
    say "cdrlake: CLI ingest"
    local t0; t0=$(now)
    /usr/bin/time -f '%M' -o "$WORK/ingest.rss" "$BIN" --data "$WORK/store" ingest "$CSV" >"$WORK/ingest.out"
    local secs; secs=$(since "$t0")
    metric cdrlake load_s "$secs"
    metric cdrlake load_peak_rss_kb "$(tail -1 "$WORK/ingest.rss")"
    metric cdrlake disk_bytes "$(disk_bytes "$WORK/store/cdrs")"
    metric cdrlake parquet_files "$(find "$WORK/store/cdrs" -name '*.parquet' | wc -l)"
    # As the server's maintenance (or `cdrlake compact`) leaves a store: the rows of
    # call_log (read by status_month) and call_reports stored; timed apart from the load.
    t0=$(now)
    "$BIN" --data "$WORK/store" compact >"$WORK/compact.out"
    metric cdrlake materialize_s "$(since "$t0")"
    metric cdrlake materialized_bytes "$(disk_bytes "$WORK/store/_materialized")"
}

load_cdrlake_wire() {
    say "cdrlake: \\copy over the wire into a second store"
    # serve refuses a store that does not exist yet: create an empty one (not timed)
    head -1 "$CSV" >"$WORK/header.csv"
    "$BIN" --data "$WORK/store-wire" ingest "$WORK/header.csv" >/dev/null
    cdr_start "$WORK/store-wire"
    local t0; t0=$(now)
    cdr_psql "$CDR_PORT" -c "\\copy cdrs from '$CSV' csv header" >"$WORK/wire-copy.out"
    metric cdrlake wire_load_s "$(since "$t0")"
    metric cdrlake wire_load_server_peak_rss_kb "$(peak_rss_kb "$CDR_PID")"
    cdr_stop
    metric cdrlake wire_disk_bytes "$(disk_bytes "$WORK/store-wire/cdrs")"
}

# ---------------------------------------------------------------- PostgreSQL

pg_start() {
    PG_DIR="$(mktemp -d "${TMPDIR:-/tmp}/compare-bench-pg15.XXXXXX")"
    if [[ $EUID -eq 0 ]]; then chown postgres: "$PG_DIR"; fi
    PG_PORT="$(free_port)"
    as_pg "$PG_BIN/initdb" -D "$PG_DIR/data" -A trust -U postgres -E UTF8 --locale=C.UTF-8 >/dev/null
    # Durable (fsync on) like cdrlake's commits; memory sized for a 24 GB machine.
    as_pg "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/log" -w -t 120 start -o \
        "-p $PG_PORT -k $PG_DIR -c listen_addresses=127.0.0.1 -c TimeZone=UTC \
         -c shared_buffers=2GB -c effective_cache_size=12GB -c work_mem=64MB \
         -c maintenance_work_mem=1GB -c max_wal_size=16GB -c checkpoint_timeout=30min" >/dev/null
    PG_PID="$(head -1 "$PG_DIR/data/postmaster.pid")"
    pg_psql -c "CREATE DATABASE cdr" >/dev/null
}

pg_psql() { psql -X -q -h 127.0.0.1 -p "$PG_PORT" -U postgres -d "${PGDB:-postgres}" "$@"; }

load_postgres() {
    say "PostgreSQL: COPY into an indexed table, then ANALYZE"
    PGDB=cdr pg_psql -v ON_ERROR_STOP=1 -f "$HERE/postgres_schema.sql" >/dev/null
    local cols; cols="$(head -1 "$CSV")"
    local t0; t0=$(now)
    PGDB=cdr pg_psql -v ON_ERROR_STOP=1 -c "COPY cdrs ($cols) FROM '$CSV' WITH (FORMAT csv, HEADER)" \
        -c "ANALYZE cdrs" >/dev/null
    metric postgresql load_s "$(since "$t0")"
    metric postgresql disk_bytes "$(PGDB=cdr pg_psql -At -c "SELECT pg_total_relation_size('cdrs')")"
}

# ---------------------------------------------------------------- DuckDB

load_duckdb() {
    say "DuckDB: CSV -> sorted Hive-partitioned Parquet by call_date"
    local secs; secs=$("$PY" "$HERE/driver.py" duck-load "$CSV" "$WORK/duck")
    metric duckdb load_s "$secs"
    metric duckdb disk_bytes "$(disk_bytes "$WORK/duck")"
}

# ---------------------------------------------------------------- pgbench

# run_pgbench ENGINE PORT USER
run_pgbench() {
    say "pgbench $1 (-c 16 -j 2 -T $PGBENCH_T)"
    mkdir -p "$WORK/pgbench-$1"
    (cd "$WORK/pgbench-$1" &&
        "$PG_BIN/pgbench" -n -c 16 -j 2 -T "$PGBENCH_T" -l --log-prefix=tx -h 127.0.0.1 -p "$2" -U "$3" \
            -f "$WORK/pgbench/lookup.sql@1" -f "$WORK/pgbench/report.sql@1" cdr >summary.txt 2>stderr.txt) ||
        { say "pgbench $1 failed:"; tail -5 "$WORK/pgbench-$1/stderr.txt" >&2; }
    "$PY" "$HERE/driver.py" pgbench-stats "$1" "$WORK/pgbench-$1" >>"$METRICS"
}

# ---------------------------------------------------------------- main

machine() {
    echo "nproc $(nproc), $(awk '/MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
}
loadavg() { cut -d' ' -f1-3 /proc/loadavg; }

install_debian
install_python
resolve_binary
say "machine: $(machine); load $(loadavg); work dir $WORK"
metric machine description "$(machine)"
metric machine load_before "$(loadavg)"
metric run rows "$ROWS"
metric run runs "$RUNS"
metric run pgbench_seconds "$PGBENCH_T"
generate_data

pg_start
load_postgres
load_duckdb
load_cdrlake_cli
load_cdrlake_wire
metric machine load_after_load "$(loadavg)"

cdr_start "$WORK/store"
"$PY" "$HERE/driver.py" sample-pss "$WORK/pss.tsv" "cdrlake=$CDR_PID" "postgresql=$PG_PID" &
SAMPLER_PID=$!

say "query rounds: 1 warm-up (checks results agree) + $RUNS timed, interleaved"
"$PY" "$HERE/driver.py" queries --work "$WORK" --csv "$CSV" --runs "$RUNS" --rows "$ROWS" \
    --cdrlake-port "$CDR_PORT" --pg-port "$PG_PORT" --duck-dir "$WORK/duck" >>"$METRICS"
cdr_psql "$CDR_PORT" -At -c "EXPLAIN ANALYZE $(cat "$WORK/lookup_id.sql")" >"$WORK/explain_lookup_id.txt" 2>&1 || true
metric machine load_after_queries "$(loadavg)"

run_pgbench cdrlake "$CDR_PORT" bench
run_pgbench postgresql "$PG_PORT" postgres
metric machine load_after_pgbench "$(loadavg)"

metric cdrlake server_peak_rss_kb "$(peak_rss_kb "$CDR_PID")"
kill "$SAMPLER_PID" && wait "$SAMPLER_PID" 2>/dev/null || true
SAMPLER_PID=""
"$PY" "$HERE/driver.py" pss-peaks "$WORK/pss.tsv" >>"$METRICS"

"$PY" "$HERE/driver.py" table "$METRICS" | tee "$WORK/table.md"
if grep -q $'\terror\t' "$METRICS"; then say "some queries failed; see $WORK/errors.txt"; cat "$WORK/errors.txt" >&2 || true; fi
