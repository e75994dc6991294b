"""Running cdrlake against one backend's store and a local store side by side.

A `Lake` knows the backend (its `--data` URLs, its environment, its listing client) and a
scratch directory holding the local store, the generated input and the processes' output.
"""

import csv
import io
import os
import signal
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "clients"))
from common import eq  # noqa: E402

BIN = os.environ["CDRLAKE_BIN"]
ROWS = 4000

# Result checksums compared between the remote store and the local one.
CHECKS = [
    "SELECT count(*), count(DISTINCT call_id), sum(charge), min(start_time), max(start_time) FROM cdrs",
    "SELECT tenant, call_date, count(*), sum(duration_s), sum(charge) FROM cdrs GROUP BY 1, 2 ORDER BY 1, 2",
    "SELECT call_status, count(*), sum(talk_time) FROM call_log GROUP BY 1 ORDER BY 1",
    "SELECT count(*), count(DISTINCT prefix) FROM rates",
    "SELECT count(*), max(stored_seq) FROM billing_events",
]


def wait_for(predicate, what, seconds=60):
    deadline = time.time() + seconds
    while time.time() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


class Lake:
    """cdrlake on `backend`: the main store is `remote`, its local twin `local`."""

    def __init__(self, backend, work):
        self.backend = backend
        self.work = work
        self.remote = backend.url("lake")
        self.local = os.path.join(work, "local")
        self.gen = os.path.join(work, "gen")
        self.more = os.path.join(work, "more")
        self.config = os.path.join(work, "cdrlake.toml")
        self.env = dict(os.environ, **backend.env)
        self.state = {}

    def url(self, prefix):
        return self.backend.url(prefix)

    def objects(self, prefix):
        """Keys under prefix in the bucket, as the service's own client lists them."""
        return self.backend.keys(prefix)

    def path(self, name):
        return os.path.join(self.work, name)

    def run(self, data, *args, check=True, stdin=None, timeout=300):
        """Runs `cdrlake --data DATA --config CONFIG ARGS…`; returns the finished process."""
        p = subprocess.run([BIN, "--data", data, "--config", self.config, *args], capture_output=True,
                           text=True, stdin=stdin, timeout=timeout, env=self.env, cwd=self.work)
        if check and p.returncode != 0:
            raise AssertionError(f"cdrlake --data {data} {' '.join(args)} exited {p.returncode}:\n{p.stderr}")
        return p

    def spawn(self, data, *args, name, config=None, env=None):
        """Starts `cdrlake --data DATA ARGS…` in the background, output to WORK/name.{out,err};
        with another configuration file and more environment variables when given."""
        out = open(self.path(f"{name}.out"), "w")
        err = open(self.path(f"{name}.err"), "w")
        return subprocess.Popen([BIN, "--data", data, "--config", config or self.config, *args], stdout=out,
                                stderr=err, env=dict(self.env, **(env or {})), cwd=self.work)

    def output(self, name, stream):
        with open(self.path(f"{name}.{stream}")) as f:
            return f.read()

    def rows(self, data, sql):
        """The result of SQL (header excluded) as lists of strings."""
        return list(csv.reader(io.StringIO(self.run(data, "query", "--csv", sql).stdout)))[1:]

    def same(self, sql):
        """Runs SQL on both stores, insists on equal, non-empty results; returns them."""
        remote, local = self.rows(self.remote, sql), self.rows(self.local, sql)
        assert local, f"{sql}: no rows in the local store"
        eq(remote, local, f"{self.backend.name} vs local: {sql}")
        return remote

    def all_same(self):
        return [self.same(sql) for sql in CHECKS]

    def count(self, data, table="cdrs"):
        return int(self.rows(data, f"SELECT count(*) FROM {table}")[0][0])

    def split(self, first, last, name):
        """Lines first..last (1-based, header excluded) of the generated cdrs.csv, with the header."""
        with open(os.path.join(self.gen, "cdrs.csv")) as f:
            lines = f.readlines()
        path = self.path(name)
        with open(path, "w") as f:
            f.writelines([lines[0], *lines[first:last + 1]])
        return path

    def exactly_once(self, data, expected):
        got = self.rows(data, "SELECT count(*), count(DISTINCT call_id) FROM cdrs")[0]
        eq(got, [str(expected), str(expected)], f"{data}: rows and distinct calls")

    def history(self, data):
        """(operation, rows_added, rows_deleted) of each commit of cdrs, oldest first."""
        out = self.run(data, "history", "cdrs").stdout
        return [(r["operation"], r["rows_added"], r["rows_deleted"]) for r in csv.DictReader(io.StringIO(out))]

    def serve(self, data, name, config=None, env=None):
        return Server(self, data, name, config, env)


class Server:
    """`cdrlake serve` on a free loopback port; no users configured: loopback admin."""

    def __init__(self, lake, data, name, config=None, env=None):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        self.port = s.getsockname()[1]
        s.close()
        self.lake = lake
        self.name = name
        self.proc = lake.spawn(data, "serve", "--listen", f"127.0.0.1:{self.port}", name=name, config=config,
                               env=env)
        wait_for(lambda: f"on 127.0.0.1:{self.port}" in lake.output(name, "err") or self.proc.poll() is not None,
                 f"server {name}")
        assert self.proc.poll() is None, lake.output(name, "err")

    def psql(self, *commands, stdin=None, quiet=False):
        """psql's output of COMMANDS: rows unaligned without headers, command tags unless quiet."""
        args = ["psql", "-X", "-A", "-t", *(["-q"] if quiet else []), "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1",
                "-p", str(self.port), "-U", "admin", "-d", "cdr"]
        for c in commands:
            args += ["-c", c]
        env = dict(os.environ, PGPASSWORD="admin", PGCLIENTENCODING="UTF8")
        p = subprocess.run(args, capture_output=True, text=True, env=env, stdin=stdin, timeout=120)
        if p.returncode != 0:
            raise AssertionError(f"psql {commands!r}: {p.stderr}\nserver log:\n{self.lake.output(self.name, 'err')}")
        return p.stdout

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(timeout=60)
