"""Differential: analysts' queries over the demo data, answered by cdrlake and by PostgreSQL 15.

The demo server's cdrs, refunds and rates are copied (COPY TO STDOUT, COPY FROM STDIN) into a
schema of the reference PostgreSQL, and each query below runs on both, in UTC and in the
session zone Europe/Amsterdam where marked; the rows must be equal (numbers to 6 decimals: the
engines add floats in different orders). Grouping, windows, joins, set operations, dates in
a session zone, percentiles, subqueries: the SQL of the seeds' questions and of BI tools.
"""

import decimal

import psycopg

from common import REF_PORT, Skip, eq, params, ref_params, run, test

TABLES = ["cdrs", "refunds", "rates"]
SCHEMA = "differential"
AMSTERDAM = "SET TimeZone = 'Europe/Amsterdam'"
UTC = "SET TimeZone = 'UTC'"

# (session zone statement, query); every query orders its rows completely.
QUERIES = [
    (UTC, "SELECT tenant, direction, count(*), sum(duration_s), round(avg(duration_s), 4),"
          " max(duration_s), min(start_time), max(end_time) FROM cdrs GROUP BY 1, 2 ORDER BY 1, 2"),
    (UTC, "SELECT date_trunc('day', start_time) AS d, count(*) FROM cdrs GROUP BY 1 ORDER BY 1"),
    (AMSTERDAM, "SELECT date_trunc('day', start_time) AS d, count(*) FROM cdrs GROUP BY 1 ORDER BY 1"),
    (AMSTERDAM, "SELECT start_time::date AS d, count(*) FROM cdrs GROUP BY 1 ORDER BY 1"),
    (AMSTERDAM, "SELECT extract(hour FROM start_time) AS h, count(*) FROM cdrs GROUP BY 1 ORDER BY 1"),
    (AMSTERDAM, "SELECT to_char(start_time, 'YYYY-MM-DD HH24') AS h, count(*) FROM cdrs"
                " GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 10"),
    (AMSTERDAM, "SELECT count(*) FROM cdrs WHERE start_time >= '2026-11-01' AND start_time < '2026-11-02'"),
    (UTC, "SELECT extract(dow FROM start_time) AS d, count(*), round(avg(duration_s), 2) FROM cdrs"
          " GROUP BY 1 ORDER BY 1"),
    (UTC, "SELECT date_trunc('week', start_time) AS w, count(*) FROM cdrs GROUP BY 1 ORDER BY 1"),
    (UTC, "SELECT hangup_cause, count(*) FROM cdrs GROUP BY 1 ORDER BY 2 DESC, 1 NULLS FIRST"),
    (UTC, "SELECT tenant, percentile_cont(0.5) WITHIN GROUP (ORDER BY duration_s),"
          " percentile_cont(0.95) WITHIN GROUP (ORDER BY duration_s),"
          " percentile_disc(0.9) WITHIN GROUP (ORDER BY duration_s) FROM cdrs GROUP BY 1 ORDER BY 1"),
    (UTC, "SELECT tenant, count(DISTINCT source), count(DISTINCT destination) FROM cdrs"
          " GROUP BY 1 ORDER BY 1"),
    (UTC, "SELECT tenant, sum(charge), round(avg(charge), 6),"
          " sum(charge) FILTER (WHERE direction = 'outbound') FROM cdrs GROUP BY 1 ORDER BY 1"),
    (UTC, "SELECT width_bucket(duration_s, 0, 600, 10) AS b, count(*) FROM cdrs GROUP BY 1 ORDER BY 1"),
    (UTC, "SELECT source, count(*) AS n FROM cdrs GROUP BY 1 HAVING count(*) > 5"
          " ORDER BY 2 DESC, 1 LIMIT 10"),
    (UTC, "SELECT call_id, start_time - lag(start_time) OVER (PARTITION BY source"
          " ORDER BY start_time, call_id) AS gap FROM cdrs ORDER BY call_id LIMIT 50"),
    (UTC, "SELECT DISTINCT ON (tenant) tenant, call_id, duration_s FROM cdrs"
          " ORDER BY tenant, duration_s DESC, call_id"),
    (UTC, "SELECT tenant, round(100.0 * count(*) FILTER (WHERE connect_time IS NOT NULL)"
          " / count(*), 2) AS asr, round(sum(duration_s)::numeric / nullif(count(*) FILTER"
          " (WHERE connect_time IS NOT NULL), 0), 2) AS acd FROM cdrs GROUP BY 1 ORDER BY 1"),
    # (The average to the millisecond: PostgreSQL rounds it to the microsecond, DataFusion
    # truncates.)
    (UTC, "SELECT sum(end_time - start_time), round(extract(epoch FROM avg(end_time - start_time)), 3),"
          " sum(extract(epoch FROM end_time - start_time))::bigint FROM cdrs"),
    (UTC, "SELECT call_id, (end_time - start_time) * 2, (end_time - start_time) / 4 FROM cdrs"
          " ORDER BY call_id LIMIT 20"),
    (UTC, "SELECT c.tenant, count(r.*), count(r.call_id), sum(r.amount) FROM cdrs c"
          " LEFT JOIN refunds r ON r.call_id = c.call_id GROUP BY 1 ORDER BY 1"),
    (UTC, "SELECT count(*) FROM cdrs c WHERE EXISTS (SELECT 1 FROM refunds r WHERE r.call_id = c.call_id)"),
    (UTC, "SELECT count(*) FROM cdrs WHERE call_id NOT IN (SELECT call_id FROM refunds"
          " WHERE call_id IS NOT NULL)"),
    (UTC, "SELECT t.tenant, (SELECT count(*) FROM cdrs c WHERE c.tenant = t.tenant) FROM"
          " (SELECT DISTINCT tenant FROM cdrs) t ORDER BY 1"),
    (UTC, "SELECT tenant, to_char(sum(duration_s) * interval '1 second', 'HH24:MI:SS'),"
          " justify_hours(sum(duration_s) * interval '1 second') FROM cdrs GROUP BY 1 ORDER BY 1"),
    (UTC, "SELECT tenant, direction, count(*) FROM cdrs GROUP BY ROLLUP (tenant, direction)"
          " ORDER BY 1 NULLS LAST, 2 NULLS LAST"),
    (UTC, "SELECT * FROM (SELECT tenant, call_id, row_number() OVER (PARTITION BY tenant"
          " ORDER BY duration_s DESC, call_id) AS rn FROM cdrs) q WHERE rn <= 2 ORDER BY 1, 3"),
    (UTC, "WITH daily AS (SELECT start_time::date AS d, count(*) AS n FROM cdrs GROUP BY 1)"
          " SELECT d, n, n - lag(n) OVER (ORDER BY d) FROM daily ORDER BY d"),
    (UTC, "WITH t AS (SELECT tenant, sum(duration_s) AS s FROM cdrs GROUP BY 1)"
          " SELECT tenant, round(100.0 * s / sum(s) OVER (), 3) FROM t ORDER BY 1"),
    (UTC, "SELECT tenant FROM cdrs INTERSECT SELECT tenant FROM cdrs WHERE direction = 'inbound'"
          " ORDER BY 1"),
    (UTC, "SELECT left(destination, 3) AS p, count(*) FROM cdrs GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 10"),
    (UTC, "SELECT count(*) FROM cdrs WHERE destination LIKE '+31%' OR destination ~ '^0031'"),
    (UTC, "SELECT CASE WHEN duration_s < 60 THEN 'short' WHEN duration_s < 300 THEN 'medium'"
          " ELSE 'long' END AS b, count(*) FROM cdrs GROUP BY 1 ORDER BY 1"),
    (UTC, "SELECT tenant, round(stddev(duration_s), 4), round(variance(duration_s), 4) FROM cdrs"
          " GROUP BY 1 ORDER BY 1"),
    (UTC, "SELECT count(*) FROM cdrs c, rates r WHERE c.destination LIKE '+' || r.prefix || '%'"),
    (AMSTERDAM, "SELECT call_id, start_time::text, start_time::timestamp, start_time::time,"
                " to_char(start_time, 'Dy DD Mon YYYY HH24:MI:SS') FROM cdrs ORDER BY call_id LIMIT 20"),
    (UTC, "SELECT call_id, round(charge, 2), trunc(charge, 1), charge * duration_s, charge / 3,"
          " sum(charge) OVER (PARTITION BY tenant) / count(*) OVER (PARTITION BY tenant)"
          " FROM cdrs WHERE charge IS NOT NULL ORDER BY call_id LIMIT 20"),
    (UTC, "SELECT tenant, avg(charge), sum(duration_s)::numeric / count(*) FROM cdrs GROUP BY 1"
          " ORDER BY 1"),
    (UTC, "SELECT call_id, substring(destination FROM 2 FOR 4), split_part(call_id, '-', 2),"
          " position('0' IN call_id), regexp_replace(destination, '^\\+31', '0'),"
          " lpad(duration_s::text, 6, '0'), concat_ws('|', tenant, direction, agent)"
          " FROM cdrs ORDER BY call_id LIMIT 20"),
    (UTC, "SELECT call_id, count(*) OVER (PARTITION BY source ORDER BY start_time RANGE BETWEEN"
          " interval '1 day' PRECEDING AND CURRENT ROW) FROM cdrs ORDER BY call_id LIMIT 50"),
    (UTC, "SELECT date_trunc('hour', start_time) + interval '15 min' * floor(extract(minute FROM"
          " start_time) / 15) AS slot, count(*) FROM cdrs GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 10"),
    (UTC, "SELECT tenant, count(*) FROM cdrs WHERE start_time > (SELECT max(start_time) FROM cdrs)"
          " - interval '7 days' GROUP BY 1 ORDER BY 1"),
    (UTC, "SELECT count(*), count(agent), count(DISTINCT agent), count(DISTINCT (tenant, agent)) FROM cdrs"),
    (UTC, "SELECT tenant, bool_and(duration_s >= 0), bool_or(connect_time IS NULL),"
          " array_agg(DISTINCT direction ORDER BY direction) FROM cdrs GROUP BY 1 ORDER BY 1"),
    (UTC, "SELECT direction, count(*) FROM (SELECT direction FROM cdrs INTERSECT ALL"
          " SELECT direction FROM cdrs WHERE duration_s > 30) q GROUP BY 1 ORDER BY 1"),
    (UTC, "SELECT tenant, direction, count(*) FROM (SELECT tenant, direction FROM cdrs EXCEPT ALL"
          " SELECT tenant, direction FROM cdrs WHERE duration_s > 0) q GROUP BY 1, 2 ORDER BY 1, 2"),
    (UTC, "SELECT tenant, unnest(array_agg(DISTINCT direction)) AS d FROM cdrs GROUP BY 1"
          " ORDER BY 1, 2"),
    (UTC, "SELECT c.call_id, c.charge - coalesce(sum(r.amount), 0) FROM cdrs c LEFT JOIN refunds r"
          " ON r.call_id = c.call_id WHERE c.charge > 0 GROUP BY 1, c.charge ORDER BY 2, 1 LIMIT 20"),
    (UTC, "SELECT call_id, CASE WHEN duration_s > 60 THEN duration_s ELSE 0.5 END FROM cdrs"
          " ORDER BY call_id LIMIT 20"),
    (UTC, "SELECT tenant, count(DISTINCT (source, destination)), count(DISTINCT (agent, start_time))"
          " FROM cdrs GROUP BY 1 ORDER BY 1"),
    (UTC, "SELECT tenant, count(*) FROM cdrs WHERE duration_s > 60 AND (tenant, direction) IN"
          " (SELECT tenant, direction FROM cdrs WHERE duration_s > 3500) GROUP BY 1 ORDER BY 1"),
    # A zero-filled series of days (Grafana's), its end and step written as texts.
    (UTC, "SELECT g::date, count(c.call_id) FROM generate_series('2026-10-01'::timestamptz,"
          " '2026-10-07', '1 day') g LEFT JOIN cdrs c ON date_trunc('day', c.start_time) = g"
          " GROUP BY 1 ORDER BY 1"),
    (UTC, "SELECT g FROM generate_series('2026-10-01T00:00:00Z'::timestamptz,"
          " '2026-10-01 03:00', '01:00:00') g ORDER BY 1"),
    # Wall-clock times the change from summer time repeats, and the change to it skips.
    (AMSTERDAM, "SELECT count(*) FROM cdrs WHERE start_time BETWEEN '2026-10-25 02:00'"
                " AND '2026-10-25 03:00'"),
    (AMSTERDAM, "SELECT '2026-10-25 02:30'::timestamptz, '2026-03-29 02:30'::timestamptz,"
                " '2026-10-25 02:30:00.5'::timestamptz, '2026-10-25 02:30+02'::timestamptz,"
                " '2026-10-25 02:30'::timestamp AT TIME ZONE 'Europe/Amsterdam'"),
    # Compared with a subquery of the same table, its column named as the outer one.
    (UTC, "SELECT count(*) FROM cdrs WHERE duration_s > ANY (SELECT duration_s FROM cdrs"
          " WHERE tenant = 'pbx' AND duration_s BETWEEN 55 AND 60)"),
    (UTC, "SELECT count(*) FROM cdrs WHERE duration_s = ANY (SELECT duration_s FROM cdrs"
          " WHERE tenant = 'pbx' AND duration_s < 100)"),
    (UTC, "SELECT tenant, count(*) FROM cdrs WHERE duration_s > ALL (SELECT duration_s FROM cdrs"
          " WHERE tenant = 'pbx' AND duration_s BETWEEN 55 AND 60) GROUP BY 1 ORDER BY 1"),
    (UTC, "SELECT count(*) FROM cdrs WHERE duration_s <> ALL (SELECT duration_s FROM cdrs"
          " WHERE tenant = 'pbx' AND duration_s BETWEEN 55 AND 60)"),
]


def rounded(v):
    if isinstance(v, (float, decimal.Decimal)):
        return round(float(v), 6)
    return v


def rows(conn, zone, sql):
    conn.execute(zone)
    return [tuple(rounded(v) for v in r) for r in conn.execute(sql).fetchall()]


@test
def analysts_queries_answer_as_postgresql():
    if not REF_PORT:
        raise Skip("PGREF_PORT is not set: run through tests/clients/run.sh")
    ours = psycopg.connect(**params(), autocommit=True)
    ref = psycopg.connect(**ref_params(), autocommit=True)
    with ours, ref:
        ref.execute(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE; CREATE SCHEMA {SCHEMA}")
        for table in TABLES:
            columns = ours.execute(
                "SELECT column_name, data_type FROM information_schema.columns"
                " WHERE table_name = %s ORDER BY ordinal_position", (table,)).fetchall()
            ddl = ", ".join(f'"{c}" {"text[]" if t == "ARRAY" else t}' for c, t in columns)
            ref.execute(f"CREATE TABLE {SCHEMA}.{table} ({ddl})")
            with ours.cursor().copy(f"COPY (SELECT * FROM {table}) TO STDOUT") as src, \
                    ref.cursor().copy(f"COPY {SCHEMA}.{table} FROM STDIN") as dst:
                for block in src:
                    dst.write(block)
            count = f"SELECT count(*) FROM {table}"
            eq(ref.execute(count.replace(table, f"{SCHEMA}.{table}")).fetchone(),
               ours.execute(count).fetchone(), f"{table} copied")
        ref.execute(f"SET search_path = {SCHEMA}")
        for zone, sql in QUERIES:
            eq(rows(ours, zone, sql), rows(ref, zone, sql), f"{zone}; {sql}")


if __name__ == "__main__":
    run()
