"""Replays of the catalog SQL that BI tools send (Metabase, Grafana, DBeaver, Npgsql/Power BI,
Tableau), kept as data in replays/<tool>.sql, through psycopg 3 over the real socket.

Each statement in a replay file is preceded by a `-- expect: WHAT` line naming what the tool
would display from its result; the statement must succeed and show it:
  any        succeeds            none     no rows
  version    PostgreSQL 16       schemas  the public schema
  databases  the cdr database    tables   cdrs (and the other stored tables)
  views      call_log, with its definition
  columns    the cdrs columns, with PostgreSQL types (timestamptz, numeric(18,6))
  columns_described   the same, with each column's description
  tables_described    the stored tables, with their descriptions
  privileges cdrs and call_log   types    PostgreSQL's base types (int4, text, timestamptz),
                                          and (Npgsql) _int4 as an array of int4
"""

import os
import re

import psycopg

from common import known_defect, params, run, test

HERE = os.path.dirname(os.path.abspath(__file__))
REPLAYS = os.path.join(HERE, "replays")
TABLES = ("billing_events", "cdrs", "ingest_rejects", "rates", "refunds")
# Statements the server does not answer yet, by (tool, index in the file): a failure there
# is reported as SKIP with the reason; once fixed, the statement passes like the others.
KNOWN = {}


def statements(path):
    """(expectation, SQL) pairs of one replay file."""
    out, expect, sql = [], None, []
    with open(path, encoding="utf-8") as f:
        for line in f:
            m = re.match(r"--\s*expect:\s*(\w+)", line)
            if m:
                expect = m.group(1)
            elif line.startswith("--") or not line.strip():
                continue
            else:
                sql.append(line.rstrip("\n"))
                if line.rstrip().endswith(";"):
                    out.append((expect, "\n".join(sql)))
                    expect, sql = None, []
    assert not sql, f"{path}: unterminated statement {sql!r}"
    assert out and all(e for e, _ in out), f"{path}: every statement needs an expect line"
    return out


def cells(rows):
    return [str(v) for row in rows for v in row if v is not None]


def check(expect, cols, rows):
    values = cells(rows)
    if expect == "any":
        return
    if expect == "none":
        assert rows == [], rows
    elif expect == "version":
        v = values[0]
        assert v.startswith("PostgreSQL 16") or v == "1600", v  # Grafana: server_version_num/100
    elif expect == "schemas":
        assert "public" in values, values
    elif expect == "databases":
        assert "cdr" in values, values
    elif expect == "tables_described":
        check("tables", cols, rows)
        assert any("append-only" in v for v in values), values
    elif expect == "columns_described":
        check("columns", cols, rows)
        assert "Unique id of the call within its tenant (Call ID / Transaction ID)" in values, values
    elif expect in ("tables", "privileges"):
        for t in TABLES:
            assert t in values, (t, values)
        if expect == "privileges":
            assert "call_log" in values, values
    elif expect == "views":
        by_name = {r[0]: r for r in rows}
        assert "call_log" in by_name, by_name.keys()
        assert "FROM cdrs" in str(by_name["call_log"][1]), by_name["call_log"]
    elif expect == "columns":
        at = next(i for i in range(len(cols)) if any(r[i] == "call_id" for r in rows))
        by_name = {r[at]: r for r in rows if r[at] in ("call_id", "start_time", "charge")}
        assert set(by_name) == {"call_id", "start_time", "charge"}, rows[:5]
        start = cells([by_name["start_time"]])
        assert "timestamp with time zone" in start or "timestamptz" in start, start
        charge = cells([by_name["charge"]])
        assert any(c.startswith("numeric") for c in charge), charge
        if "numeric_precision" in cols:
            named = dict(zip(cols, by_name["charge"]))
            assert (named["numeric_precision"], named["numeric_scale"]) == (18, 6), named
        if "atttypmod" in cols:
            assert dict(zip(cols, by_name["charge"]))["atttypmod"] == (18 << 16 | 6) + 4
    elif expect == "types":
        names = {r[2] for r in rows}
        for t in ("int4", "int8", "text", "numeric", "timestamptz", "bool", "date"):
            assert t in names, (t, sorted(names)[:20])
        if "elemtypoid" in cols:  # Npgsql: arrays are the types received by array_recv
            named = {r[2]: dict(zip(cols, r)) for r in rows}
            assert (named["_int4"]["typtype"], named["_int4"]["elemtypoid"]) == ("a", 23), named["_int4"]
            assert (named["int4"]["typtype"], named["int4"]["elemtypoid"]) == ("b", None), named["int4"]
    else:
        raise AssertionError(f"unknown expectation {expect!r}")


def replay(tool):
    def run_replay():
        with psycopg.connect(**params("analyst"), autocommit=True) as conn:
            known = []
            for i, (expect, sql) in enumerate(statements(os.path.join(REPLAYS, f"{tool}.sql"))):
                try:
                    cur = conn.execute(sql)
                    rows = cur.fetchall() if cur.description else []
                    cols = [d.name for d in cur.description or []]
                    check(expect, cols, rows)
                except Exception as e:
                    if (tool, i) not in KNOWN:
                        raise AssertionError(f"{tool}: {sql[:160]!r}: {e}") from e
                    known.append((KNOWN[(tool, i)], e))
            for reason, e in known:
                with known_defect(reason):
                    raise e

    run_replay.__name__ = f"replay_{tool}"
    return run_replay


for _tool in sorted(f[:-4] for f in os.listdir(REPLAYS) if f.endswith(".sql")):
    test(replay(_tool))


if __name__ == "__main__":
    run()
