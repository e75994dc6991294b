#!/usr/bin/env bash
# The main job: build cdrlake, fill ./data with two months of generated CDRs for five tenants
# (first run only), and serve them over the PostgreSQL protocol on 127.0.0.1:5433 with the
# demo users of the README. Stop it with Ctrl-C.
#
#   examples/demo.sh [serve flags, e.g. --listen 127.0.0.1:6543 --demo-rows 1000000]
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/cdrlake-target}"
cargo build --release --locked --quiet
exec "$CARGO_TARGET_DIR/release/cdrlake" --data ./data serve --demo "$@"
