#!/usr/bin/env bash
# A first tour: generate a month of synthetic CDRs for five tenants, ingest every format,
# and ask a few questions in SQL. Re-running it is safe: ingest skips what is stored.
#
#   examples/demo.sh [ROWS]       (default 200000; data goes to ./data, input to ./demo-input)
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/cdrlake-target}"
rows="${1:-200000}"
cargo build --release --locked --quiet
cdrlake="$CARGO_TARGET_DIR/release/cdrlake"

"$cdrlake" generate --rows "$rows" --out demo-input
"$cdrlake" ingest demo-input/cdrs.csv demo-input/rates.csv demo-input/billing_events.csv
"$cdrlake" ingest --tenant carrier demo-input/didww-inbound.csv demo-input/didww-outbound.csv

"$cdrlake" query "SELECT tenant, direction, count(*) AS calls, sum(duration_s) AS seconds
                  FROM cdrs GROUP BY tenant, direction ORDER BY tenant, direction"
"$cdrlake" query "SELECT call_date, count(*) AS calls, sum(charge) AS charged
                  FROM cdrs WHERE tenant = 'carrier' GROUP BY call_date ORDER BY call_date LIMIT 7"
"$cdrlake" query "SELECT call_status, count(*) AS calls FROM call_log WHERE tenant = 'tracking'
                  GROUP BY call_status ORDER BY calls DESC"
"$cdrlake" query "SELECT * FROM call_data_records ORDER BY date_time LIMIT 5"
"$cdrlake" query "SELECT file, line, reason FROM ingest_rejects ORDER BY rejected_at DESC LIMIT 5"
