"""The object-store suite (run by run.sh): every command against `--data s3://…` on a real
S3-compatible server, its results compared with the same data in a local store.

The tests run in order and build on each other: the first ones fill an S3 store and a local
store alike; later ones change both the same way (COPY, compaction, retention) and compare.
The writer tests at the end use stores of their own.

Environment (run.sh sets it): CDRLAKE_BIN, S3_WORK (a scratch directory), AWS_ENDPOINT_URL,
AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_REGION, AWS_ALLOW_HTTP.
"""

import csv
import datetime
import io
import os
import signal
import socket
import subprocess
import sys
import time

import boto3

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "clients"))
from common import eq, run, test  # noqa: E402

BIN = os.environ["CDRLAKE_BIN"]
WORK = os.environ["S3_WORK"]
BUCKET = "cdrlake-test"
S3 = f"s3://{BUCKET}/lake"
LOCAL = os.path.join(WORK, "local")
GEN = os.path.join(WORK, "gen")
MORE = os.path.join(WORK, "more")
CONFIG = os.path.join(WORK, "cdrlake.toml")
ROWS = 4000

# Result checksums compared between the S3 store and the local one.
CHECKS = [
    "SELECT count(*), count(DISTINCT call_id), sum(charge), min(start_time), max(start_time) FROM cdrs",
    "SELECT tenant, call_date, count(*), sum(duration_s), sum(charge) FROM cdrs GROUP BY 1, 2 ORDER BY 1, 2",
    "SELECT call_status, count(*), sum(talk_time) FROM call_log GROUP BY 1 ORDER BY 1",
    "SELECT count(*), count(DISTINCT prefix) FROM rates",
    "SELECT count(*), max(stored_seq) FROM billing_events",
]

state = {}


def s3():
    return boto3.client("s3", endpoint_url=os.environ["AWS_ENDPOINT_URL"])


def lake(data, *args, check=True, stdin=None, timeout=300):
    """Runs `cdrlake --data DATA --config CONFIG ARGS…`; returns the finished process."""
    p = subprocess.run([BIN, "--data", data, "--config", CONFIG, *args], capture_output=True,
                       text=True, stdin=stdin, timeout=timeout)
    if check and p.returncode != 0:
        raise AssertionError(f"cdrlake --data {data} {' '.join(args)} exited {p.returncode}:\n{p.stderr}")
    return p


def spawn(data, *args, name):
    """Starts `cdrlake --data DATA ARGS…` in the background, output to WORK/name.{out,err}."""
    out = open(os.path.join(WORK, f"{name}.out"), "w")
    err = open(os.path.join(WORK, f"{name}.err"), "w")
    return subprocess.Popen([BIN, "--data", data, "--config", CONFIG, *args], stdout=out, stderr=err)


def output(name, stream):
    with open(os.path.join(WORK, f"{name}.{stream}")) as f:
        return f.read()


def rows(data, sql):
    """The result of SQL (header excluded) as lists of strings."""
    return list(csv.reader(io.StringIO(lake(data, "query", "--csv", sql).stdout)))[1:]


def same(sql):
    """Runs SQL on both stores, insists on equal, non-empty results; returns them."""
    remote, local = rows(S3, sql), rows(LOCAL, sql)
    assert local, f"{sql}: no rows in the local store"
    eq(remote, local, f"S3 vs local: {sql}")
    return remote


def all_same():
    return [same(sql) for sql in CHECKS]


def count(data, table="cdrs"):
    return int(rows(data, f"SELECT count(*) FROM {table}")[0][0])


def objects(prefix):
    """Keys under prefix in the bucket."""
    keys = []
    for page in s3().get_paginator("list_objects_v2").paginate(Bucket=BUCKET, Prefix=prefix):
        keys += [o["Key"] for o in page.get("Contents", [])]
    return keys


def split(first, last, name):
    """Lines first..last (1-based, header excluded) of the generated cdrs.csv, with the header."""
    with open(os.path.join(GEN, "cdrs.csv")) as f:
        lines = f.readlines()
    path = os.path.join(WORK, name)
    with open(path, "w") as f:
        f.writelines([lines[0], *lines[first:last + 1]])
    return path


def wait_for(predicate, what, seconds=60):
    deadline = time.time() + seconds
    while time.time() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def exactly_once(data, expected):
    got = rows(data, "SELECT count(*), count(DISTINCT call_id) FROM cdrs")[0]
    eq(got, [str(expected), str(expected)], f"{data}: rows and distinct calls")


class Server:
    """`cdrlake serve` on a free loopback port; no users configured: loopback admin."""

    def __init__(self, data, name):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        self.port = s.getsockname()[1]
        s.close()
        self.name = name
        self.proc = spawn(data, "serve", "--listen", f"127.0.0.1:{self.port}", name=name)
        wait_for(lambda: f"on 127.0.0.1:{self.port}" in output(name, "err") or self.proc.poll() is not None,
                 f"server {name}")
        assert self.proc.poll() is None, output(name, "err")

    def psql(self, *commands, stdin=None, quiet=False):
        """psql's output of COMMANDS: rows unaligned without headers, command tags unless quiet."""
        args = ["psql", "-X", "-A", "-t", *(["-q"] if quiet else []), "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1", "-p", str(self.port),
                "-U", "admin", "-d", "cdr"]
        for c in commands:
            args += ["-c", c]
        env = dict(os.environ, PGPASSWORD="admin", PGCLIENTENCODING="UTF8")
        p = subprocess.run(args, capture_output=True, text=True, env=env, stdin=stdin, timeout=120)
        if p.returncode != 0:
            raise AssertionError(f"psql {commands!r}: {p.stderr}\nserver log:\n{output(self.name, 'err')}")
        return p.stdout

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(timeout=60)


@test
def bucket_created_with_a_real_client():
    with open(CONFIG, "w") as f:
        f.write('[tenants."*"]\nretention_days = 2\n')
    s3().create_bucket(Bucket=BUCKET)
    assert BUCKET in [b["Name"] for b in s3().list_buckets()["Buckets"]]
    lake(LOCAL, "generate", "--rows", str(ROWS), "--start-date", "2026-11-01", "--days", "4",
         "--seed", "7", "--out", GEN)
    lake(LOCAL, "generate", "--rows", "300", "--start-date", "2026-11-04", "--days", "1",
         "--seed", "8", "--out", MORE)


@test
def ingest_on_s3_stores_what_a_local_store_does():
    files = [os.path.join(GEN, f) for f in ("cdrs.csv", "rates.csv", "billing_events.csv")]
    # Small batches: several files per partition, for compaction to merge later.
    remote = lake(S3, "ingest", "--batch-rows", "500", *files).stdout
    local = lake(LOCAL, "ingest", "--batch-rows", "500", *files).stdout
    total = [line for line in remote.splitlines() if line.startswith("total:")]
    eq(total, [line for line in local.splitlines() if line.startswith("total:")], "ingest totals")
    assert f"stored {ROWS}," in remote, remote
    all_same()
    eq(count(S3), ROWS, "rows on S3")
    state["charge"] = rows(S3, "SELECT sum(charge) FROM cdrs")
    # The data really is in the bucket: the marker, Delta logs and Parquet files.
    keys = objects("lake/")
    assert "lake/cdrlake.json" in keys, keys[:20]
    assert any(k.startswith("lake/cdrs/_delta_log/") for k in keys), keys[:20]
    assert any(k.startswith("lake/cdrs/call_date=") and k.endswith(".parquet") for k in keys), keys[:20]
    assert not os.path.exists("s3:"), "a local directory named after the URL"


@test
def ingest_again_on_s3_skips_every_stored_call():
    out = lake(S3, "ingest", os.path.join(GEN, "cdrs.csv")).stdout
    assert f"stored 0, duplicates {ROWS}, rejected 0" in out, out
    eq(count(S3), ROWS, "rows after re-ingest")


@test
def query_and_csv_export_on_s3_equal_local():
    sql = "SELECT * FROM cdrs ORDER BY tenant, call_id"
    remote, local = lake(S3, "query", "--csv", sql).stdout, lake(LOCAL, "query", "--csv", sql).stdout
    eq(remote.count("\n"), ROWS + 1, "query lines")
    assert remote == local, "query --csv output differs between S3 and local"
    for data, name in ((S3, "s3.csv"), (LOCAL, "local.csv")):
        lake(data, "export", "--format", "csv", "--output", os.path.join(WORK, name),
             "SELECT * FROM call_log ORDER BY tenant, call_id")
    with open(os.path.join(WORK, "s3.csv"), "rb") as a, open(os.path.join(WORK, "local.csv"), "rb") as b:
        ours, theirs = a.read(), b.read()
    assert len(ours) > 1000 and ours == theirs, f"export differs: {len(ours)} vs {len(theirs)} bytes"


@test
def server_on_s3_copies_out_copies_in_and_travels_in_time():
    remote, local = Server(S3, "serve-s3"), Server(LOCAL, "serve-local")
    try:
        copy_out = "COPY (SELECT * FROM cdrs ORDER BY tenant, call_id) TO STDOUT WITH (FORMAT csv, HEADER)"
        ours, theirs = remote.psql(copy_out, quiet=True), local.psql(copy_out, quiet=True)
        eq(ours.count("\n"), ROWS + 1, "COPY TO STDOUT lines")
        assert ours == theirs, "COPY TO STDOUT differs between S3 and local"
        before = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        time.sleep(1)
        copy_in = "COPY cdrs FROM STDIN WITH (FORMAT csv, HEADER)"
        for server in (remote, local):
            with open(os.path.join(MORE, "cdrs.csv")) as f:
                eq(server.psql(copy_in, stdin=f).strip(), "COPY 300", "COPY FROM STDIN")
        eq(count(S3), ROWS + 300, "rows after COPY FROM STDIN")
        all_same()
        # Time travel: the session reads the tables as they were before the COPY.
        as_of = remote.psql(f"SET cdrlake.as_of = '{before}'", "SELECT count(*) FROM cdrs")
        eq(as_of.split(), ["SET", str(ROWS)], "count as of before the COPY")
        eq(remote.psql("SELECT count(*) FROM cdrs").split(), [str(ROWS + 300)], "count now")
    finally:
        remote.stop()
        local.stop()


def history(data):
    """(operation, rows_added, rows_deleted) of each commit of cdrs, oldest first."""
    out = lake(data, "history", "cdrs").stdout
    return [(r["operation"], r["rows_added"], r["rows_deleted"]) for r in csv.DictReader(io.StringIO(out))]


@test
def history_on_s3_lists_the_same_commits():
    commits = history(S3)
    eq(commits, history(LOCAL), "history of cdrs")
    assert len(commits) >= 10, commits


@test
def compaction_on_s3_merges_files_and_keeps_every_result():
    results = all_same()
    parquet = lambda: [k for k in objects("lake/cdrs/") if k.endswith(".parquet")]  # noqa: E731
    files_before = len(parquet())
    for data in (S3, LOCAL):
        lake(data, "compact", "--grace-minutes", "0")
    eq(all_same(), results, "results after compaction")
    assert "COMPACT" in [op for op, _, _ in history(S3)], history(S3)[-4:]
    eq(history(S3), history(LOCAL), "history after compaction")
    files_after = len(parquet())
    assert files_after < files_before, f"{files_before} Parquet objects before, {files_after} after"


@test
def retention_on_s3_removes_what_it_removes_locally():
    removed = [lake(data, "retention", "--today", "2026-11-05").stdout for data in (S3, LOCAL)]
    eq(removed[0], removed[1], "retention reports")
    remaining = count(S3)
    assert 0 < remaining < ROWS + 300, f"{remaining} rows left"
    eq(rows(S3, "SELECT min(call_date) FROM cdrs"), [["2026-11-03"]], "oldest day kept")
    all_same()


@test
def concurrent_ingests_of_overlapping_files_store_each_call_once():
    data = f"s3://{BUCKET}/race"
    a, b = split(1, 2500, "race-a.csv"), split(1500, ROWS, "race-b.csv")
    writers = [spawn(data, "ingest", "--batch-rows", "250", f, name=f"race-{i}") for i, f in enumerate((a, b))]
    for i, w in enumerate(writers):
        assert w.wait(timeout=240) == 0, output(f"race-{i}", "err")
    exactly_once(data, ROWS)
    eq(rows(data, "SELECT sum(charge) FROM cdrs"), state["charge"], "charge of all calls")


@test
def a_killed_writer_does_not_lock_the_store_for_ever():
    data = f"s3://{BUCKET}/killed"
    whole = os.path.join(GEN, "cdrs.csv")
    killed = spawn(data, "ingest", "--batch-rows", "200", whole, name="killed")
    wait_for(lambda: "batch 1 committed" in output("killed", "out"), "the first commit")
    killed.send_signal(signal.SIGKILL)
    killed.wait()
    # Within the lease the lock still looks held: a short wait gives up, naming the holder.
    refused = lake(data, "--lock-timeout", "1", "ingest", whole, check=False)
    assert refused.returncode != 0, refused.stdout
    assert "locked by another writer" in refused.stderr and f"pid {killed.pid}" in refused.stderr, refused.stderr
    # A writer that waits takes the lock over once the lease has lapsed.
    took = lake(data, "--lock-timeout", "120", "ingest", whole)
    assert f"waiting for the writer lock held by" in took.stderr, took.stderr
    assert "took over the writer lock" in took.stderr, took.stderr
    exactly_once(data, ROWS)


@test
def a_frozen_writer_that_lost_its_lease_stores_nothing_twice():
    data = f"s3://{BUCKET}/frozen"
    # The second writer loads everything, including the batch the first was committing.
    a, b = split(1, 3000, "frozen-a.csv"), os.path.join(GEN, "cdrs.csv")
    frozen = spawn(data, "ingest", "--batch-rows", "300", a, name="frozen")
    wait_for(lambda: "batch 1 committed" in output("frozen", "out"), "the first commit")
    frozen.send_signal(signal.SIGSTOP)
    try:
        # The frozen writer stops renewing its lease; this one takes the lock over and stores
        # the calls the frozen one was about to commit.
        lake(data, "--lock-timeout", "120", "ingest", "--batch-rows", "300", b)
    finally:
        frozen.send_signal(signal.SIGCONT)
    # Woken, the first writer's commits conflict with what was stored meanwhile: it reads
    # again and deduplicates instead of storing the same calls a second time.
    assert frozen.wait(timeout=240) == 0, output("frozen", "err")
    exactly_once(data, ROWS)


run()
