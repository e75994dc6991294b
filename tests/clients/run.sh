#!/usr/bin/env bash
# Client compatibility suite: starts a demo cdrlake server and drives it with the real drivers
# BI tools are built on (psycopg 3, psycopg2, asyncpg, SQLAlchemy, ADBC, pgjdbc, node-postgres, psql),
# comparing COPY output with a real PostgreSQL 15. Installs what it needs itself (idempotent).
#
#   tests/clients/run.sh [CLIENT...]     CLIENT: psycopg psycopg2 asyncpg sqlalchemy bi_catalog tenant psql pg_compare differential adbc java node
#
# CDRLAKE_BIN: the server binary (default: cargo build, then target/debug/cdrlake).
# CDRLAKE_DEMO_ROWS: CDRs the demo server generates (default 20000).
set -euo pipefail

HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
CACHE="$HOME/.cache/cdrlake-clients"
VENV="$CACHE/venv"
JDBC_JAR=/usr/share/java/postgresql.jar
PG_BIN=/usr/lib/postgresql/15/bin
ALL_CLIENTS=(psycopg psycopg2 asyncpg sqlalchemy bi_catalog tenant psql pg_compare differential adbc java node)

say() { echo "clients: $*" >&2; }

source "$HERE/../support/setup.sh"

install_debian() {
    local missing=()
    [[ -f $JDBC_JAR ]] || missing+=(libpostgresql-jdbc-java)
    [[ -x $PG_BIN/postgres ]] || missing+=(postgresql-15)
    command -v psql >/dev/null || missing+=(postgresql-client-15)
    apt_install "${missing[@]}"
}

install_python() { venv_install "$VENV" "$HERE/requirements.txt"; }

install_node() {
    local stamp="$HERE/node/node_modules/.cdrlake-lock"
    if cmp -s "$HERE/node/package-lock.json" "$stamp"; then return; fi
    say "npm ci in tests/clients/node"
    (cd "$HERE/node" && npm ci --no-audit --no-fund --loglevel=error)
    cp "$HERE/node/package-lock.json" "$stamp"
}

# Names without "cdrlake" in them: a neighbour's `pkill -f cdrlake` on a shared machine must not
# take this suite's server down.
WORK="$(mktemp -d "${TMPDIR:-/tmp}/client-tests.XXXXXX")"
SERVER_PID=""
REF_DIR=""

cleanup() {
    if [[ -n $SERVER_PID ]]; then kill "$SERVER_PID" 2>/dev/null && wait "$SERVER_PID" 2>/dev/null || true; fi
    if [[ -n $REF_DIR ]]; then as_pg "$PG_BIN/pg_ctl" -D "$REF_DIR/data" -m immediate stop >/dev/null 2>&1 || true; fi
    rm -rf "$WORK" ${REF_DIR:+"$REF_DIR"}
}
trap cleanup EXIT

start_server() {
    local bin="${CDRLAKE_BIN:-}"
    if [[ -z $bin ]]; then
        bin="$(cd "$ROOT" && cargo build --locked --quiet --message-format=json-render-diagnostics |
            python3 -c 'import json, sys
for m in map(json.loads, sys.stdin):
    if m.get("reason") == "compiler-artifact" and m["target"]["name"] == "cdrlake" and m.get("executable"):
        print(m["executable"])' | tail -1)"
    fi
    cp "$bin" "$WORK/pgserver" # a private copy: a shared target dir may be rebuilt meanwhile
    export CDRLAKE_SERVER_BIN="$WORK/pgserver" # for tests that start a server of their own
    CDRLAKE_PORT="$(free_port)"
    "$WORK/pgserver" --data "$WORK/data" serve --listen "127.0.0.1:$CDRLAKE_PORT" \
        --demo-rows "${CDRLAKE_DEMO_ROWS:-20000}" --demo 2>"$WORK/server.log" &
    SERVER_PID=$!
    for _ in $(seq 1 600); do
        grep -q "on 127.0.0.1:$CDRLAKE_PORT" "$WORK/server.log" && return 0
        kill -0 "$SERVER_PID" 2>/dev/null || break
        sleep 0.5
    done
    say "server did not start:"; cat "$WORK/server.log" >&2
    return 1
}

start_reference() {
    REF_DIR="$(mktemp -d "${TMPDIR:-/tmp}/client-tests-pg15.XXXXXX")"
    if [[ $EUID -eq 0 ]]; then chown postgres: "$REF_DIR"; fi
    PGREF_PORT="$(free_port)"
    as_pg "$PG_BIN/initdb" -D "$REF_DIR/data" -A trust -U postgres -E UTF8 --locale=C.UTF-8 --no-sync >/dev/null
    as_pg "$PG_BIN/pg_ctl" -D "$REF_DIR/data" -l "$REF_DIR/log" -w -t 60 start -o \
        "-p $PGREF_PORT -k $REF_DIR -c listen_addresses=127.0.0.1 -c fsync=off -c TimeZone=UTC" >/dev/null
}

client_cmd() {
    case $1 in
        psycopg | psycopg2 | asyncpg | sqlalchemy | bi_catalog | tenant | psql | pg_compare | differential | adbc) echo "$VENV/bin/python $HERE/test_$1.py" ;;
        java) echo "java -cp $JDBC_JAR $HERE/java/ClientTest.java" ;;
        node) echo "node $HERE/node/test.js" ;;
        *) say "unknown client $1 (one of: ${ALL_CLIENTS[*]})"; return 1 ;;
    esac
}

clients=("$@")
((${#clients[@]})) || clients=("${ALL_CLIENTS[@]}")
for c in "${clients[@]}"; do client_cmd "$c" >/dev/null; done

install_debian
install_python
install_node
start_reference
start_server
export CDRLAKE_HOST=127.0.0.1 CDRLAKE_PORT CDRLAKE_DB=cdr PGREF_PORT PGREF_USER=postgres PYTHONDONTWRITEBYTECODE=1
say "server on port $CDRLAKE_PORT, reference PostgreSQL 15 on port $PGREF_PORT"

passed=0 failed=0 skipped=0 bad=()
for c in "${clients[@]}"; do
    say "== $c"
    out="$WORK/$c.out"
    status=0
    (cd "$HERE" && timeout 900 $(client_cmd "$c")) >"$out" 2>&1 || status=$?
    cat "$out"
    summary="$(grep -E '^[0-9]+ passed, [0-9]+ failed, [0-9]+ skipped$' "$out" | tail -1 || true)"
    if [[ -z $summary ]]; then
        bad+=("$c (exit $status, no summary)"); failed=$((failed + 1)); continue
    fi
    read -r p _ f _ s _ <<<"${summary//,/}"
    passed=$((passed + p)) failed=$((failed + f)) skipped=$((skipped + s))
    if ((status != 0 || f > 0)); then bad+=("$c"); fi
done

kill -0 "$SERVER_PID" 2>/dev/null || { say "the server died during the tests:"; tail -20 "$WORK/server.log" >&2; bad+=(server); }
grep -h '^SKIP ' "$WORK"/*.out | sed 's/^/clients: /' >&2 || true
if ((${#bad[@]})); then say "FAILED: ${bad[*]}"; fi
echo "clients: $passed passed, $failed failed, $skipped skipped"
((${#bad[@]} == 0))
