#!/usr/bin/env bash
# Object-store suite: runs cdrlake against a real S3-compatible server (moto's, from PyPI) on
# loopback, with `--data s3://bucket/prefix` and the usual AWS_* environment, and compares
# every result with the same data in a local store. Installs what it needs itself (idempotent).
# Fails, never skips, when the S3 server cannot be started.
#
#   tests/s3/run.sh [TEST...]        TEST: a test function name of test_s3.py
#
# CDRLAKE_BIN: the binary (default: cargo build, then target/debug/cdrlake).
set -euo pipefail

HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
VENV="$HOME/.cache/cdrlake-s3/venv"

say() { echo "s3: $*" >&2; }

source "$HERE/../support/setup.sh"

WORK="$(mktemp -d "${TMPDIR:-/tmp}/s3-tests.XXXXXX")"
S3_PID=""
cleanup() {
    if [[ -n $S3_PID ]]; then kill "$S3_PID" 2>/dev/null && wait "$S3_PID" 2>/dev/null || true; fi
    rm -rf "$WORK"
}
trap cleanup EXIT

command -v psql >/dev/null || apt_install postgresql-client-15
venv_install "$VENV" "$HERE/requirements.txt"

bin="${CDRLAKE_BIN:-}"
if [[ -z $bin ]]; then
    (cd "$ROOT" && cargo build --locked --quiet)
    bin="${CARGO_TARGET_DIR:-$ROOT/target}/debug/cdrlake"
fi
# A private copy, under a name without "cdrlake" in it: a shared target dir may be rebuilt
# meanwhile, and a neighbour's `pkill -f cdrlake` must not take this suite's processes down.
cp "$bin" "$WORK/lakebin"

"$VENV/bin/python" "$HERE/s3_server.py" "$WORK/s3.port" 2>"$WORK/s3.log" &
S3_PID=$!
for _ in $(seq 1 600); do
    [[ -s $WORK/s3.port ]] && break
    kill -0 "$S3_PID" 2>/dev/null || break
    sleep 0.1
done
if [[ ! -s $WORK/s3.port ]]; then
    say "FAILED: the S3 server did not start:"; cat "$WORK/s3.log" >&2
    exit 1
fi
say "S3 server (moto) on 127.0.0.1:$(cat "$WORK/s3.port")"

export AWS_ENDPOINT_URL="http://127.0.0.1:$(cat "$WORK/s3.port")"
export AWS_ACCESS_KEY_ID=cdrlake-test AWS_SECRET_ACCESS_KEY=cdrlake-test AWS_REGION=us-east-1
export AWS_ALLOW_HTTP=true NO_COLOR=1 PYTHONDONTWRITEBYTECODE=1
export CDRLAKE_BIN="$WORK/lakebin" S3_WORK="$WORK"
(cd "$HERE" && timeout 600 "$VENV/bin/python" test_s3.py "$@")
