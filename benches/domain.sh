#!/usr/bin/env bash
# Cost of the domain logic (issue 3): each domain query next to its plain-scan equivalent (the
# same aggregation straight over `cdrs`, without the view or function logic), on N generated
# CDRs, in a release build. Each query runs once as a warm-up, then RUNS times; the table shows
# the medians of the wall clock of `cdrlake query` and their ratio (domain ÷ plain).
#
# Two plain scans per query: `plain` is the issue's "same query without the view logic" in its
# narrowest form (one column grouped), `same_cols` reads every column the domain query reads
# and aggregates each trivially — the cost of the data the logic needs, without the logic.
#
#   benches/domain.sh [ROWS]           default 1000000; RUNS=5 by default
#   CDRLAKE_BIN=/path/to/cdrlake benches/domain.sh 1000000   (default: cargo build --release)
#   BENCH_DIR=dir benches/domain.sh    keep the generated data and store in dir (re-used)
#   ONLY=status_distribution,month_per_account benches/domain.sh   a subset of the queries
#   MODE=server benches/domain.sh      over psql against one `cdrlake serve` (PORT, default
#                                      55499): a warm server, as BI tools meet it
#   MATERIALIZE=0 benches/domain.sh    skip `cdrlake compact` after the load: `call_log` and
#                                      `call_reports` are then computed by every query, as
#                                      between a load and the server's next maintenance round
#                                      (default 1: their rows stored, the time printed; 0
#                                      deletes stored rows of a kept BENCH_DIR store)
#
# By default every run starts a process and builds a session; `SELECT 1` measures that floor,
# and the ratio is also given with the floor taken off both sides. In server mode the
# libphonenumber metadata is loaded once and the number memos are filled by the warm-up run;
# the floor is a round trip.
set -euo pipefail
cd "$(dirname "$0")/.."
rows="${1:-1000000}"
runs="${RUNS:-5}"
if [ -z "${CDRLAKE_BIN:-}" ]; then
  export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/cdrlake-target}"
  cargo build --release --locked --quiet --bin cdrlake
  CDRLAKE_BIN="$CARGO_TARGET_DIR/release/cdrlake"
fi
mode="${MODE:-process}"
work="${BENCH_DIR:-$(mktemp -d)}"
server=""
cleanup() {
  if [ -n "$server" ]; then kill "$server" 2>/dev/null || true; fi
  if [ -z "${BENCH_DIR:-}" ]; then rm -rf "$work"; fi
}
trap cleanup EXIT
mkdir -p "$work"
# A private copy: worktrees sharing a target directory overwrite each other's binary.
bin="$work/cdrlake"
cp "$CDRLAKE_BIN" "$bin"
gen="$work/gen-$rows"
store="$work/store-$rows"
if [ ! -d "$store" ]; then
  "$bin" generate --rows "$rows" --days 30 --out "$gen" >/dev/null
  # The PMS's refunds and billing events too: call_reports joins them.
  "$bin" --data "$store" ingest "$gen/cdrs.csv" "$gen/rates.csv" "$gen/refunds.csv" \
    "$gen/billing_events.csv" >/dev/null
fi
if [ "${MATERIALIZE:-1}" = 1 ]; then
  # As the server's maintenance leaves a store: the views' rows stored (benches/RESULTS.md).
  start=$(date +%s%N)
  "$bin" --data "$store" compact | grep -E '^(call_log|call_reports):'
  echo "compact (views stored): $((($(date +%s%N) - start) / 1000000)) ms"
else
  # Derived data: without it every query computes the views.
  rm -rf "$store/_materialized"
fi

month="start_time >= TIMESTAMP '2026-11-01T00:00:00Z' AND start_time < TIMESTAMP '2026-12-01T00:00:00Z'"
# name | domain query | plain-scan equivalent | the same columns read, without the logic
# (rate_unrated composes the public functions; rate_call rates the same calls in one pass, as
# call_reports does)
queries=(
  "status_distribution|SELECT call_status, count(*) FROM call_log GROUP BY 1|SELECT hangup_cause, count(*) FROM cdrs GROUP BY 1|SELECT hangup_cause, count(*), count(direction), count(call_type), count(connect_time), count(sip_code), count(source), count(call_id), max(start_time), sum(duration_s), count(tenant) FROM cdrs GROUP BY 1"
  "month_per_account|SELECT tenant, billing_account, count(*), sum(charge) FROM call_reports WHERE record_type = 'charge' AND $month GROUP BY 1, 2|SELECT tenant, billing_account, count(*), sum(charge) FROM cdrs WHERE $month GROUP BY 1, 2|SELECT tenant, billing_account, count(*), sum(charge), count(call_id), count(direction), count(destination), sum(duration_s), count(currency), count(billed_s) FROM cdrs WHERE $month GROUP BY 1, 2"
  "rate_unrated|SELECT count(*), sum(call_charge(billable_seconds(duration_s, r['min_s'], r['increment_s']), r['rate_per_min'], r['connect_fee'])) FROM (SELECT duration_s, rate_lookup(tenant, coalesce(e164(destination, default_country(tenant)), destination), start_time) AS r FROM cdrs WHERE charge IS NULL AND direction = 'outbound')|SELECT count(*), sum(duration_s) FROM cdrs WHERE charge IS NULL AND direction = 'outbound'|SELECT count(*), sum(duration_s), count(destination), max(start_time), count(tenant) FROM cdrs WHERE charge IS NULL AND direction = 'outbound'"
  "rate_call|SELECT count(*), sum(rate_call(tenant, destination, start_time, duration_s)['charge']) FROM cdrs WHERE charge IS NULL AND direction = 'outbound'|SELECT count(*), sum(duration_s) FROM cdrs WHERE charge IS NULL AND direction = 'outbound'|SELECT count(*), sum(duration_s), count(destination), max(start_time), count(tenant) FROM cdrs WHERE charge IS NULL AND direction = 'outbound'"
)

if [ "$mode" = server ]; then
  port="${PORT:-55499}"
  # Without materialization, no maintenance either: it would store the views at start-up.
  printf '[server]\nmaintenance_interval_s = %s\n' "$([ "${MATERIALIZE:-1}" = 1 ] && echo 3600 || echo 0)" \
    >"$work/serve.toml"
  # No users configured: loopback connections are admitted as admin.
  psql_run() { psql -X -q -h 127.0.0.1 -p "$port" -U bench -d cdr "$@"; }
  # Another server on the port would answer every query in place of ours.
  if psql_run -c 'SELECT 1' >/dev/null 2>&1; then
    echo "port $port already has a server; choose another with PORT=" >&2
    exit 1
  fi
  "$bin" --config "$work/serve.toml" --data "$store" serve --listen "127.0.0.1:$port" \
    >"$work/serve.log" 2>&1 &
  server=$!
  for _ in $(seq 300); do psql_run -c 'SELECT 1' >/dev/null 2>&1 && break; sleep 0.2; done
  if ! kill -0 "$server" 2>/dev/null; then
    echo "cdrlake serve stopped:" >&2
    cat "$work/serve.log" >&2
    exit 1
  fi
  psql_run -c 'SELECT 1' >/dev/null
fi

# Median wall-clock milliseconds of RUNS runs of a query, after one warm-up.
median_ms() {
  local sql="$1" times=() i start end
  if [ "$mode" = server ]; then
    # psql's own timing of each statement; the first is the warm-up.
    { echo '\timing on'; for ((i = 0; i <= runs; i++)); do echo "$sql;"; done; } |
      psql_run -v ON_ERROR_STOP=1 | awk '/^Time: / { if (n++) print $2 }' |
      sort -n | awk '{ t[NR] = $1 } END { print t[int((NR + 1) / 2)] }'
    return
  fi
  "$bin" --data "$store" query --csv "$sql" >/dev/null
  for ((i = 0; i < runs; i++)); do
    start=$(date +%s%N)
    "$bin" --data "$store" query --csv "$sql" >/dev/null
    end=$(date +%s%N)
    times+=($(((end - start) / 1000000)))
  done
  printf '%s\n' "${times[@]}" | sort -n | awk '{ t[NR] = $1 } END { print t[int((NR + 1) / 2)] }'
}

echo "rows $rows, runs $runs (median after a warm-up), mode $mode; nproc $(nproc); load $(cut -d' ' -f1-3 /proc/loadavg)"
floor=$(median_ms "SELECT 1")
echo "floor (SELECT 1: process start + session, or a round trip to the server): $floor ms"
printf '%-20s %10s %9s %6s %12s %13s %10s\n' query domain_ms plain_ms ratio same_cols_ms ratio_same ratio_floor
for entry in "${queries[@]}"; do
  IFS='|' read -r name domain plain same <<<"$entry"
  [ -n "${ONLY:-}" ] && [[ ",$ONLY," != *",$name,"* ]] && continue
  d=$(median_ms "$domain")
  p=$(median_ms "$plain")
  s=$(median_ms "$same")
  # ratio_floor: domain ÷ plain with the process floor taken off both.
  awk -v n="$name" -v d="$d" -v p="$p" -v s="$s" -v f="$floor" 'BEGIN {
    r2 = (p - f > 0) ? (d - f) / (p - f) : 0
    printf "%-20s %10d %9d %6.2f %12d %13.2f %10.2f\n", n, d, p, d / p, s, d / s, r2 }'
done
echo "load after $(cut -d' ' -f1-3 /proc/loadavg)"
