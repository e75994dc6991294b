"""The object-store suite (run by run.sh): every command against `--data s3://…` and
`--data az://…` on real servers (conftest.py starts one per backend), its results compared
with the same data in a local store.

The tests run in order and build on each other, once per backend: the first ones fill the
remote store and a local store alike; later ones change both the same way (COPY, compaction,
retention) and compare. The writer tests at the end use stores of their own.
"""

import datetime
import os
import re
import signal
import subprocess
import time

from lake import BIN, ROWS, eq, wait_for

# Every row of the materialized views, computed before compaction stores them.
VIEWS = [
    "SELECT * FROM call_log ORDER BY tenant, call_id",
    "SELECT * FROM call_reports ORDER BY tenant, call_id, record_type, start_time, refund_reason, charge",
]


def test_bucket_created_with_a_real_client(store):
    with open(store.config, "w") as f:
        f.write('[tenants."*"]\nretention_days = 2\n')
    assert "cdrlake-test" in store.backend.buckets()
    store.run(store.local, "generate", "--rows", str(ROWS), "--start-date", "2026-11-01", "--days", "4",
              "--seed", "7", "--out", store.gen)
    store.run(store.local, "generate", "--rows", "300", "--start-date", "2026-11-04", "--days", "1",
              "--seed", "8", "--out", store.more)


def test_ingest_stores_what_a_local_store_does(store):
    files = [os.path.join(store.gen, f) for f in ("cdrs.csv", "rates.csv", "billing_events.csv")]
    # Small batches: several files per partition, for compaction to merge later.
    remote = store.run(store.remote, "ingest", "--batch-rows", "500", *files).stdout
    local = store.run(store.local, "ingest", "--batch-rows", "500", *files).stdout
    total = [line for line in remote.splitlines() if line.startswith("total:")]
    eq(total, [line for line in local.splitlines() if line.startswith("total:")], "ingest totals")
    assert f"stored {ROWS}," in remote, remote
    store.all_same()
    eq(store.count(store.remote), ROWS, "rows in the remote store")
    store.state["charge"] = store.rows(store.remote, "SELECT sum(charge) FROM cdrs")
    # The data really is in the bucket: the marker, Delta logs and Parquet files.
    keys = store.objects("lake/")
    assert "lake/cdrlake.json" in keys, keys[:20]
    assert any(k.startswith("lake/cdrs/_delta_log/") for k in keys), keys[:20]
    assert any(k.startswith("lake/cdrs/call_date=") and k.endswith(".parquet") for k in keys), keys[:20]
    assert not os.path.exists(os.path.join(store.work, f"{store.backend.scheme}:")), "a local directory named after the URL"


def test_ingest_again_skips_every_stored_call(store):
    out = store.run(store.remote, "ingest", os.path.join(store.gen, "cdrs.csv")).stdout
    assert f"stored 0, duplicates {ROWS}, rejected 0" in out, out
    eq(store.count(store.remote), ROWS, "rows after re-ingest")


def test_query_and_csv_export_equal_local(store):
    sql = "SELECT * FROM cdrs ORDER BY tenant, call_id"
    remote = store.run(store.remote, "query", "--csv", sql).stdout
    local = store.run(store.local, "query", "--csv", sql).stdout
    eq(remote.count("\n"), ROWS + 1, "query lines")
    assert remote == local, "query --csv output differs between the remote store and local"
    for data, name in ((store.remote, "remote.csv"), (store.local, "local.csv")):
        store.run(data, "export", "--format", "csv", "--output", store.path(name),
                  "SELECT * FROM call_log ORDER BY tenant, call_id")
    with open(store.path("remote.csv"), "rb") as a, open(store.path("local.csv"), "rb") as b:
        ours, theirs = a.read(), b.read()
    assert len(ours) > 1000 and ours == theirs, f"export differs: {len(ours)} vs {len(theirs)} bytes"


def test_server_copies_out_copies_in_and_travels_in_time(store):
    remote, local = store.serve(store.remote, "serve-remote"), store.serve(store.local, "serve-local")
    try:
        copy_out = "COPY (SELECT * FROM cdrs ORDER BY tenant, call_id) TO STDOUT WITH (FORMAT csv, HEADER)"
        ours, theirs = remote.psql(copy_out, quiet=True), local.psql(copy_out, quiet=True)
        eq(ours.count("\n"), ROWS + 1, "COPY TO STDOUT lines")
        assert ours == theirs, "COPY TO STDOUT differs between the remote store and local"
        before = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        time.sleep(1)
        copy_in = "COPY cdrs FROM STDIN WITH (FORMAT csv, HEADER)"
        for server in (remote, local):
            with open(os.path.join(store.more, "cdrs.csv")) as f:
                eq(server.psql(copy_in, stdin=f).strip(), "COPY 300", "COPY FROM STDIN")
        eq(store.count(store.remote), ROWS + 300, "rows after COPY FROM STDIN")
        store.all_same()
        # Time travel: the session reads the tables as they were before the COPY.
        as_of = remote.psql(f"SET cdrlake.as_of = '{before}'", "SELECT count(*) FROM cdrs")
        eq(as_of.split(), ["SET", str(ROWS)], "count as of before the COPY")
        eq(remote.psql("SELECT count(*) FROM cdrs").split(), [str(ROWS + 300)], "count now")
    finally:
        remote.stop()
        local.stop()


def test_history_lists_the_same_commits(store):
    commits = store.history(store.remote)
    eq(commits, store.history(store.local), "history of cdrs")
    assert len(commits) >= 10, commits


def test_compaction_merges_files_and_keeps_every_result(store):
    results = store.all_same()
    parquet = lambda: [k for k in store.objects("lake/cdrs/") if k.endswith(".parquet")]  # noqa: E731
    files_before = len(parquet())
    computed = [store.same(sql) for sql in VIEWS]
    for data in (store.remote, store.local):
        out = store.run(data, "compact", "--grace-minutes", "0").stdout
        assert "call_log: stored " in out and "call_reports: stored " in out, out
    eq(store.all_same(), results, "results after compaction")
    # The views' rows are stored in the bucket and read from there, with the same answers.
    keys = store.objects("lake/_materialized/")
    for view in ("call_log", "call_reports"):
        assert f"lake/_materialized/{view}.json" in keys, keys[:20]
        assert any(k.startswith(f"lake/_materialized/{view}/") and k.endswith(".parquet") for k in keys), keys[:20]
    for sql in VIEWS:
        plan = store.run(store.remote, "query", "--csv", f"EXPLAIN {sql}").stdout
        assert "_materialized/" in plan, plan
    eq([store.same(sql) for sql in VIEWS], computed, "the views' stored rows")
    assert "COMPACT" in [op for op, _, _ in store.history(store.remote)], store.history(store.remote)[-4:]
    eq(store.history(store.remote), store.history(store.local), "history after compaction")
    files_after = len(parquet())
    assert files_after < files_before, f"{files_before} Parquet objects before, {files_after} after"


def test_a_server_adds_appended_calls_to_the_stored_views(store):
    """Calls appended while a server runs are added to the views' rows stored in the bucket (the
    appended Delta files read by path), which then answer as the local store computes them."""
    later = store.path("later")
    store.run(store.local, "generate", "--rows", "200", "--start-date", "2026-11-06", "--days", "1",
              "--seed", "9", "--out", later)
    config = store.path("appends.toml")
    with open(config, "w") as f:
        f.write('[tenants."*"]\nretention_days = 2\n\n[server]\nmaterialize_quiet_s = 2\n')
    server = store.serve(store.remote, "serve-appends", config=config, env={"CDRLAKE_LOG": "cdrlake=info"})
    try:
        log = lambda: store.output("serve-appends", "err")  # noqa: E731
        for data in (store.remote, store.local):
            store.run(data, "ingest", os.path.join(later, "cdrs.csv"))
        for view in ("call_log", "call_reports"):
            appended = re.compile(f"{view}: stored [0-9]+ rows, the new calls' added")
            try:
                wait_for(lambda: appended.search(log()), f"{view}'s new rows appended")
            except AssertionError as e:
                lines = [line for line in log().splitlines() if "cdrlake" in line]
                raise AssertionError(f"{e}; the server's log:\n" + "\n".join(lines[-30:])) from None
    finally:
        server.stop()
    for sql in VIEWS:
        plan = store.run(store.remote, "query", "--csv", f"EXPLAIN {sql}").stdout
        assert "_materialized/" in plan, plan
        store.same(sql)
    eq(store.count(store.remote), ROWS + 500, "rows after the later calls")


def test_retention_removes_what_it_removes_locally(store):
    removed = [store.run(data, "retention", "--today", "2026-11-05").stdout for data in (store.remote, store.local)]
    eq(removed[0], removed[1], "retention reports")
    remaining = store.count(store.remote)
    assert 0 < remaining < ROWS + 300, f"{remaining} rows left"
    eq(store.rows(store.remote, "SELECT min(call_date) FROM cdrs"), [["2026-11-03"]], "oldest day kept")
    store.all_same()


def test_a_store_moved_into_the_bucket_answers_as_before_and_as_of_its_past(store):
    """A local store uploaded with the service's own client (every object newly written) is a
    store there: same results, same history, and time travel still finds each commit by the
    time it was made, not by when its log file was uploaded."""
    local = store.path("to-move")
    first, second = store.split(1, 1500, "move-a.csv"), store.split(1501, ROWS, "move-b.csv")
    store.run(local, "ingest", first)
    time.sleep(1)
    between = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    time.sleep(1)
    store.run(local, "ingest", second)
    store.backend.upload(local, "moved")
    moved = store.url("moved")
    sql = "SELECT count(*), sum(charge) FROM cdrs"
    eq(store.rows(moved, sql), store.rows(local, sql), "moved store vs local")
    eq(store.count(moved), ROWS, "rows in the moved store")
    eq(store.history(moved), store.history(local), "history of the moved store")
    then = f"SET cdrlake.as_of = '{between}'; {sql}"
    eq(store.rows(moved, then), store.rows(local, then), "as of between the two ingests")
    eq(store.rows(moved, then)[0][0], "1500", "rows as of between the two ingests")


def test_concurrent_ingests_of_overlapping_files_store_each_call_once(store):
    data = store.url("race")
    a, b = store.split(1, 2500, "race-a.csv"), store.split(1500, ROWS, "race-b.csv")
    writers = [store.spawn(data, "ingest", "--batch-rows", "250", f, name=f"race-{i}") for i, f in enumerate((a, b))]
    for i, w in enumerate(writers):
        assert w.wait(timeout=240) == 0, store.output(f"race-{i}", "err")
    store.exactly_once(data, ROWS)
    eq(store.rows(data, "SELECT sum(charge) FROM cdrs"), store.state["charge"], "charge of all calls")


def test_a_killed_writer_does_not_lock_the_store_for_ever(store):
    data = store.url("killed")
    whole = os.path.join(store.gen, "cdrs.csv")
    killed = store.spawn(data, "ingest", "--batch-rows", "200", whole, name="killed")
    wait_for(lambda: "batch 1 committed" in store.output("killed", "out"), "the first commit")
    killed.send_signal(signal.SIGKILL)
    killed.wait()
    # Within the lease the lock still looks held: a short wait gives up, naming the holder.
    refused = store.run(data, "--lock-timeout", "1", "ingest", whole, check=False)
    assert refused.returncode != 0, refused.stdout
    assert "locked by another writer" in refused.stderr and f"pid {killed.pid}" in refused.stderr, refused.stderr
    # A writer that waits takes the lock over once the lease has lapsed.
    took = store.run(data, "--lock-timeout", "120", "ingest", whole)
    assert "waiting for the writer lock held by" in took.stderr, took.stderr
    assert "took over the writer lock" in took.stderr, took.stderr
    store.exactly_once(data, ROWS)


def test_a_frozen_writer_that_lost_its_lease_stores_nothing_twice(store):
    data = store.url("frozen")
    # The second writer loads everything, including the batch the first was committing.
    a, b = store.split(1, 3000, "frozen-a.csv"), os.path.join(store.gen, "cdrs.csv")
    frozen = store.spawn(data, "ingest", "--batch-rows", "300", a, name="frozen")
    wait_for(lambda: "batch 1 committed" in store.output("frozen", "out"), "the first commit")
    frozen.send_signal(signal.SIGSTOP)
    try:
        # The frozen writer stops renewing its lease; this one takes the lock over and stores
        # the calls the frozen one was about to commit.
        store.run(data, "--lock-timeout", "120", "ingest", "--batch-rows", "300", b)
    finally:
        frozen.send_signal(signal.SIGCONT)
    # Woken, the first writer's commits conflict with what was stored meanwhile: it reads
    # again and deduplicates instead of storing the same calls a second time.
    assert frozen.wait(timeout=240) == 0, store.output("frozen", "err")
    store.exactly_once(data, ROWS)


def test_gs_is_refused_before_anything_is_touched(tmp_path):
    """No GCS emulator installable here serves object_store's GCS client (README.md), so
    gs:// is refused up front, for readers and writers alike, with the reason."""
    for args in (["ingest", os.devnull], ["query", "SELECT 1"]):
        p = subprocess.run([BIN, "--data", "gs://bucket/lake", *args], capture_output=True, text=True,
                           timeout=60, cwd=tmp_path)
        assert p.returncode != 0, p.stdout
        assert "gs:// (Google Cloud Storage) is not supported yet" in p.stderr, p.stderr
        assert list(tmp_path.iterdir()) == [], "nothing is written locally"
