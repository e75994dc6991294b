#!/usr/bin/env bash
# Object-store suite: runs every cdrlake command against real object-store servers on loopback,
# `--data s3://…` on moto's S3 server (PyPI) and `--data az://…` on Azurite (npm), and compares
# every result with the same data in a local store (test_object_store.py, one pytest module run
# once per backend). Installs what it needs itself (idempotent). Fails, never skips, when a
# server cannot be started.
#
#   tests/object_store/run.sh [PYTEST ARGS...]     e.g. -k killed, -x
#
# OBJECT_STORE_BACKENDS: which backends, comma-separated (default: s3,azure).
# CDRLAKE_BIN: the binary (default: cargo build, then target/debug/cdrlake).
set -euo pipefail

HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
CACHE="$HOME/.cache/cdrlake-object-store"
VENV="$CACHE/venv"
AZURITE="$CACHE/azurite"

say() { echo "object-store: $*" >&2; }

source "$HERE/../support/setup.sh"

# Azurite from npm, into the cache: npm ci on the committed package-lock.json, redone only
# when it changed.
install_azurite() {
    local stamp="$AZURITE/node_modules/.cdrlake-lock"
    if cmp -s "$HERE/azurite/package-lock.json" "$stamp"; then return; fi
    say "npm ci azurite into $AZURITE"
    mkdir -p "$AZURITE"
    cp "$HERE/azurite/package.json" "$HERE/azurite/package-lock.json" "$AZURITE/"
    (cd "$AZURITE" && npm ci --no-audit --no-fund --loglevel=error)
    cp "$HERE/azurite/package-lock.json" "$stamp"
}

# A name without "cdrlake" in it: a neighbour's `pkill -f cdrlake` must not take this suite's
# processes down.
WORK="$(mktemp -d "${TMPDIR:-/tmp}/objstore-tests.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT

command -v psql >/dev/null || apt_install postgresql-client-15
command -v npm >/dev/null || apt_install npm
venv_install "$VENV" "$HERE/requirements.txt"
install_azurite

bin="${CDRLAKE_BIN:-}"
if [[ -z $bin ]]; then
    (cd "$ROOT" && cargo build --locked --quiet)
    bin="${CARGO_TARGET_DIR:-$ROOT/target}/debug/cdrlake"
fi
# A private copy: a shared target dir may be rebuilt meanwhile.
cp "$bin" "$WORK/lakebin"

export CDRLAKE_BIN="$WORK/lakebin" OBJECT_STORE_WORK="$WORK" AZURITE_BLOB="$AZURITE/node_modules/.bin/azurite-blob"
export NO_COLOR=1 PYTHONDONTWRITEBYTECODE=1
cd "$HERE"
timeout 1200 "$VENV/bin/python" -m pytest -p no:cacheprovider -q -rfE test_object_store.py "$@"
