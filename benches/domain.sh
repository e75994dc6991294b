#!/usr/bin/env bash
# Cost of the domain logic (issue 3): each domain query next to its plain-scan equivalent (the
# same aggregation straight over `cdrs`, without the view or function logic), on N generated
# CDRs, in a release build. Each query runs once as a warm-up, then RUNS times; the table shows
# the medians of the wall clock of `cdrlake query` and their ratio (domain ÷ plain).
#
#   benches/domain.sh [ROWS]           default 1000000; RUNS=5 by default
#   CDRLAKE_BIN=/path/to/cdrlake benches/domain.sh 1000000   (default: cargo build --release)
#   BENCH_DIR=dir benches/domain.sh    keep the generated data and store in dir (re-used)
#   ONLY=status_distribution,month_per_account benches/domain.sh   a subset of the queries
#
# Every run starts a process and builds a session; `SELECT 1` measures that floor, and the
# ratio is also given with the floor taken off both sides.
set -euo pipefail
cd "$(dirname "$0")/.."
rows="${1:-1000000}"
runs="${RUNS:-5}"
if [ -z "${CDRLAKE_BIN:-}" ]; then
  export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/cdrlake-target}"
  cargo build --release --locked --quiet --bin cdrlake
  CDRLAKE_BIN="$CARGO_TARGET_DIR/release/cdrlake"
fi
work="${BENCH_DIR:-$(mktemp -d)}"
[ -z "${BENCH_DIR:-}" ] && trap 'rm -rf "$work"' EXIT
mkdir -p "$work"
# A private copy: worktrees sharing a target directory overwrite each other's binary.
bin="$work/cdrlake"
cp "$CDRLAKE_BIN" "$bin"
gen="$work/gen-$rows"
store="$work/store-$rows"
if [ ! -d "$store" ]; then
  "$bin" generate --rows "$rows" --days 30 --out "$gen" >/dev/null
  "$bin" --data "$store" ingest "$gen/cdrs.csv" "$gen/rates.csv" >/dev/null
fi

month="start_time >= TIMESTAMP '2026-11-01T00:00:00Z' AND start_time < TIMESTAMP '2026-12-01T00:00:00Z'"
# name | domain query | plain-scan equivalent
queries=(
  "status_distribution|SELECT call_status, count(*) FROM call_log GROUP BY 1|SELECT hangup_cause, count(*) FROM cdrs GROUP BY 1"
  "month_per_account|SELECT tenant, billing_account, count(*), sum(charge) FROM call_reports WHERE record_type = 'charge' AND $month GROUP BY 1, 2|SELECT tenant, billing_account, count(*), sum(charge) FROM cdrs WHERE $month GROUP BY 1, 2"
  "rate_unrated|SELECT count(*), sum(call_charge(billable_seconds(duration_s, r['min_s'], r['increment_s']), r['rate_per_min'], r['connect_fee'])) FROM (SELECT duration_s, rate_lookup(tenant, coalesce(e164(destination, default_country(tenant)), destination), start_time) AS r FROM cdrs WHERE charge IS NULL AND direction = 'outbound')|SELECT count(*), sum(duration_s) FROM cdrs WHERE charge IS NULL AND direction = 'outbound'"
)

# Median wall-clock milliseconds of RUNS runs of a query, after one warm-up.
median_ms() {
  local sql="$1" times=() i start end
  "$bin" --data "$store" query --csv "$sql" >/dev/null
  for ((i = 0; i < runs; i++)); do
    start=$(date +%s%N)
    "$bin" --data "$store" query --csv "$sql" >/dev/null
    end=$(date +%s%N)
    times+=($(((end - start) / 1000000)))
  done
  printf '%s\n' "${times[@]}" | sort -n | awk '{ t[NR] = $1 } END { print t[int((NR + 1) / 2)] }'
}

echo "rows $rows, runs $runs (median after a warm-up); nproc $(nproc); load $(cut -d' ' -f1-3 /proc/loadavg)"
floor=$(median_ms "SELECT 1")
echo "floor (SELECT 1: process start + session): $floor ms"
printf '%-20s %12s %12s %8s %16s\n' query domain_ms plain_ms ratio ratio_minus_floor
for entry in "${queries[@]}"; do
  IFS='|' read -r name domain plain <<<"$entry"
  [ -n "${ONLY:-}" ] && [[ ",$ONLY," != *",$name,"* ]] && continue
  d=$(median_ms "$domain")
  p=$(median_ms "$plain")
  awk -v n="$name" -v d="$d" -v p="$p" -v f="$floor" 'BEGIN {
    r2 = (p - f > 0) ? (d - f) / (p - f) : 0
    printf "%-20s %12d %12d %8.2f %16.2f\n", n, d, p, d / p, r2 }'
done
echo "load after $(cut -d' ' -f1-3 /proc/loadavg)"
