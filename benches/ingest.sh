#!/usr/bin/env bash
# Ingest benchmark: generates canonical CSVs of N rows and times `cdrlake ingest` on each,
# end to end (parse, validate, dedup, sort, encode, commit), in a release build.
#
#   benches/ingest.sh [ROWS...]        default: 1000000 10000000
#   CDRLAKE_BIN=/tmp/x benches/ingest.sh   times that binary instead of building one
#
# Prints rows/s, MB/s, peak RSS, files and bytes on disk, and storage as a share of the CSV.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/cdrlake-target}"
if [ -n "${CDRLAKE_BIN:-}" ]; then
  bin="$CDRLAKE_BIN"
else
  cargo build --release --locked --quiet
  bin="$CARGO_TARGET_DIR/release/cdrlake"
fi
work="${BENCH_DIR:-$(mktemp -d)}"
trap '[ -z "${BENCH_DIR:-}" ] && rm -rf "$work"' EXIT
rows_list=("${@:-1000000 10000000}")
# shellcheck disable=SC2206
rows_list=(${rows_list[@]})

printf '%-10s %10s %10s %9s %8s %10s %7s %10s %8s\n' rows seconds rows/s MB/s cpu_s peak_MB files disk_MB ratio
for rows in "${rows_list[@]}"; do
  gen="$work/gen-$rows"
  [ -f "$gen/cdrs.csv" ] || "$bin" generate --rows "$rows" --format canonical --days 30 --out "$gen" >/dev/null
  csv_bytes=$(stat -c %s "$gen/cdrs.csv")
  store="$work/store-$rows"
  rm -rf "$store"
  start=$(date +%s.%N)
  /usr/bin/time -f '%M %U %S' -o "$work/rss" "$bin" --data "$store" ingest "$gen/cdrs.csv" >/dev/null
  end=$(date +%s.%N)
  secs=$(echo "$end - $start" | bc -l)
  read -r peak_kb user_s sys_s < <(tail -n1 "$work/rss")
  files=$(find "$store/cdrs" -name '*.parquet' | wc -l)
  disk=$(du -sb "$store/cdrs" | cut -f1)
  awk -v r="$rows" -v s="$secs" -v b="$csv_bytes" -v c="$(echo "$user_s + $sys_s" | bc -l)" -v m="$peak_kb" -v f="$files" -v d="$disk" 'BEGIN {
    printf "%-10d %10.2f %10.0f %9.1f %8.1f %10.0f %7d %10.1f %8.3f\n", r, s, r/s, b/s/1e6, c, m/1024, f, d/1e6, d/b }'
  rm -rf "$store"
done
