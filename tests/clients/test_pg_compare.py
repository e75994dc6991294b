"""The same SQL on cdrlake and on a real PostgreSQL 15 (PGREF_PORT), compared through psycopg 3
(extended protocol, text and binary results) and psycopg2 (simple protocol): result column
names, numeric scales, casts to numeric, arrays, format_type, pg_get_viewdef and time zones.

The reference gets a schema `compat` holding a `cdrs` table with the columns these queries
use, so each query runs unchanged on both servers."""

import datetime
import decimal
import zoneinfo

import psycopg
import psycopg2

from common import eq, params, ref_params, run, test

REF_DDL = """
CREATE SCHEMA IF NOT EXISTS compat;
DROP TABLE IF EXISTS compat.cdrs CASCADE;
CREATE TABLE compat.cdrs (call_id text, tenant text, duration_s integer, charge numeric(18,6),
                          start_time timestamptz);
INSERT INTO compat.cdrs VALUES ('c-1', 'pbx', 60, 0.000000, '2026-10-02 08:00:00+00');
CREATE OR REPLACE VIEW compat.compat_view AS SELECT call_id FROM compat.cdrs;
"""


def ref_connect():
    conn = psycopg.connect(**ref_params(), autocommit=True)
    conn.execute(REF_DDL)
    conn.execute("SET search_path = compat, public")
    return conn


def both():
    """(cdrlake, reference) psycopg 3 connections."""
    return psycopg.connect(**params(), autocommit=True), ref_connect()


def described(conn, sql, binary=False):
    cur = conn.cursor(binary=binary)
    cur.execute(sql)
    rows = cur.fetchall()
    return [d.name for d in cur.description], rows


# Unaliased expressions, one per query, as BI tools send them.
NAMED = [
    "SELECT 1+1",
    "SELECT 'a'",
    "SELECT ARRAY[1,2]",
    "SELECT ARRAY[1]::text, CASE WHEN true THEN 1 END::text, (SELECT 1)::text",
    "SELECT count(*) FROM cdrs",
    "SELECT call_id::text FROM cdrs LIMIT 1",
    "SELECT sum(duration_s) FROM cdrs",
    "SELECT CAST(call_id AS text) FROM cdrs LIMIT 1",
    "SELECT now()",
    "SELECT CASE WHEN duration_s > 0 THEN 1 END FROM cdrs LIMIT 1",
    "SELECT CASE WHEN duration_s > 0 THEN 1 ELSE duration_s END FROM cdrs LIMIT 1",
    "SELECT coalesce(charge, 0) FROM cdrs LIMIT 1",
    "SELECT 1, 2, count(*), count(call_id) FROM cdrs",
    "SELECT 'x'::text, 1::bigint, 1.5::numeric",
    "SELECT tenant, count(*), max(start_time) FROM cdrs GROUP BY tenant ORDER BY tenant",
    "SELECT * FROM (SELECT count(*) FROM cdrs) q",
    "SELECT (SELECT max(duration_s) FROM cdrs)",
    "SELECT duration_s IS NULL, NOT true, -duration_s FROM cdrs LIMIT 1",
    "SELECT ARRAY(SELECT 1 WHERE false)",
    "SELECT upper(tenant), length(call_id) FROM cdrs LIMIT 1",
    "SELECT row_number() OVER (ORDER BY call_id) FROM cdrs LIMIT 1",
    "SELECT 1 UNION ALL SELECT 2",
    "SELECT EXISTS (SELECT 1), NOT EXISTS (SELECT 1 FROM cdrs)",
    "SELECT extract(year FROM start_time), extract(hour FROM start_time),"
    " date_part('month', start_time) FROM cdrs LIMIT 1",
    "SELECT position('1' IN call_id), strpos(call_id, '1'), substring(call_id FROM 2),"
    " substring(call_id, 2, 3), substr(call_id, 2) FROM cdrs LIMIT 1",
    "SELECT interval '90 minutes', interval '1 day' * 2, interval '1 hour'::text",
]


@test
def unaliased_columns_named_as_postgres():
    ours, ref = both()
    simple = psycopg2.connect(**params())
    simple.autocommit = True
    with ours, ref, simple:
        for sql in NAMED:
            expected, _ = described(ref, sql)
            eq(described(ours, sql)[0], expected, f"psycopg (extended, text) {sql}")
            eq(described(ours, sql, binary=True)[0], expected, f"psycopg (binary) {sql}")
            cur = simple.cursor()
            cur.execute(sql)
            eq([d.name for d in cur.description], expected, f"psycopg2 (simple) {sql}")


# EXISTS as a value (select list, CASE), correlated by equality and not, on inline
# data so that both servers hold the same rows. (A correlation by inequality, or a correlated
# EXISTS in ORDER BY, still fails, as DataFusion's own scalar subqueries of those shapes do;
# inline VALUES with column aliases are avoided: DataFusion loses the aliases when it
# decorrelates them.)
INLINE = "(SELECT 1 AS y UNION ALL SELECT 2 UNION ALL SELECT 3)"
EXISTS = [
    f"SELECT EXISTS (SELECT 1 FROM {INLINE} w WHERE y > 1) AS a,"
    " EXISTS (SELECT 1 WHERE false) AS b, NOT EXISTS (SELECT 1 WHERE false) AS c",
    f"SELECT x, EXISTS (SELECT 1 FROM {INLINE} w WHERE w.y = v.x) AS known,"
    f" NOT EXISTS (SELECT 1 FROM {INLINE} w WHERE w.y = v.x + 1) AS last"
    " FROM (SELECT 1 AS x UNION ALL SELECT 3 UNION ALL SELECT 4 UNION ALL SELECT NULL) v"
    " ORDER BY x",
    f"SELECT x, CASE WHEN EXISTS (SELECT 1 FROM {INLINE} w WHERE w.y = v.x) THEN 'in'"
    " ELSE 'out' END AS side FROM (SELECT 1 AS x UNION ALL SELECT 5) v ORDER BY x",
    "SELECT count(*) AS n, EXISTS (SELECT 1 FROM cdrs WHERE duration_s < 0) AS negative FROM cdrs",
]


@test
def exists_as_a_value():
    ours, ref = both()
    with ours, ref:
        for sql in EXISTS:
            names, expected = described(ref, sql)
            if "FROM cdrs" in sql:  # different rows: compare the EXISTS only
                eq(described(ours, sql)[1][0][1], expected[0][1], sql)
                continue
            eq(described(ours, sql), (names, expected), sql)
            eq(described(ours, sql, binary=True), (names, expected), f"binary: {sql}")


@test
def ranking_functions_are_bigint():
    sql = ("SELECT x, row_number() OVER (ORDER BY x) AS rn, rank() OVER (ORDER BY x) AS rk,"
           " dense_rank() OVER (ORDER BY x) AS dr FROM (VALUES (1), (1), (2)) v(x) ORDER BY rn")
    ours, ref = both()
    with ours, ref:
        for binary in (False, True):
            names, expected = described(ref, sql, binary)
            got = described(ours, sql, binary)
            eq(got, (names, expected), f"binary={binary}")
            eq([[type(v).__name__ for v in row] for row in got[1]],
               [[type(v).__name__ for v in row] for row in expected],
               f"Python types, binary={binary}")
            cur = ours.cursor(binary=binary)
            cur.execute(sql)
            eq([d.type_code for d in cur.description][1:], [20, 20, 20], "int8 OIDs")


@test
def copy_header_names_as_postgres():
    sql = ("COPY (SELECT count(*), 1+1, call_id::text, sum(duration_s) FROM cdrs GROUP BY call_id"
           " LIMIT 1) TO STDOUT WITH (FORMAT csv, HEADER)")
    ours, ref = both()
    with ours, ref:
        headers = []
        for conn in (ours, ref):
            data = bytearray()
            with conn.cursor().copy(sql) as copy:
                for chunk in copy:
                    data += chunk
            headers.append(bytes(data).decode().splitlines()[0])
        eq(headers[0], headers[1], "COPY header")


@test
def binary_numeric_zero_keeps_the_column_scale():
    sql = ("SELECT 0::numeric(18,6) AS a, 0.00::numeric(10,2) AS b, -0.5::numeric(10,3) AS c,"
           " 100::numeric(10,2) AS d, 123456789012.345678::numeric(18,6) AS e,"
           " 0.0001::numeric(20,8) AS f")
    ours, ref = both()
    with ours, ref:
        for binary in (False, True):
            _, expected = described(ref, sql, binary)
            _, got = described(ours, sql, binary)
            eq([str(v) for v in got[0]], [str(v) for v in expected[0]], f"values, binary={binary}")
            eq([v.as_tuple() for v in got[0]], [v.as_tuple() for v in expected[0]],
               f"digits and exponents, binary={binary}")
        # A zero charge stored in the numeric(18,6) column.
        (charge,) = ours.cursor(binary=True).execute(
            "SELECT charge FROM cdrs WHERE charge = 0 LIMIT 1").fetchone()
        (ref_charge,) = ref.cursor(binary=True).execute(
            "SELECT charge FROM cdrs WHERE charge = 0 LIMIT 1").fetchone()
        eq(str(charge), str(ref_charge), "stored zero charge")
        eq(str(charge), "0.000000", "stored zero charge")


@test
def casts_to_unconstrained_numeric_keep_the_value_scale():
    sql = ("SELECT 1.5::float8::numeric AS a, '2.50'::numeric AS b, (1::float8/3)::numeric AS c,"
           " 0.1::float4::numeric AS d, 12345::float8::numeric AS e, (0.1 + 0.2)::float8::numeric AS f,"
           " '-0.000'::numeric AS g, 5::numeric AS h")
    ours, ref = both()
    with ours, ref:
        for binary in (False, True):
            _, expected = described(ref, sql, binary)
            _, got = described(ours, sql, binary)
            eq([str(v) for v in got[0]], [str(v) for v in expected[0]], f"binary={binary}")
            assert all(isinstance(v, decimal.Decimal) for v in got[0]), got


@test
def empty_array_subquery_is_an_empty_array():
    sql = "SELECT ARRAY(SELECT 1 WHERE false) AS a, ARRAY(SELECT 1) AS b, ARRAY[1,2] AS c, ARRAY['x','y z'] AS d"
    ours, ref = both()
    simple = psycopg2.connect(**params())
    ref_simple = psycopg2.connect(**ref_params())
    with ours, ref:
        for binary in (False, True):
            eq(described(ours, sql, binary), described(ref, sql, binary), f"binary={binary}")
        # The text of arrays, as psql shows it.
        cast = "SELECT ARRAY(SELECT 1 WHERE false)::text, ARRAY['x','y z', NULL]::text, ARRAY[1,2]::text"
        eq(described(ours, cast), described(ref, cast), "arrays as text")
    for conn in (simple, ref_simple):
        conn.autocommit = True
    cur, ref_cur = simple.cursor(), ref_simple.cursor()
    cur.execute(sql)
    ref_cur.execute(sql)
    eq(cur.fetchall(), ref_cur.fetchall(), "simple protocol")
    simple.close()
    ref_simple.close()


# (oid, typmod) pairs: the common types, with and without typmods, arrays, 0 and an unknown OID.
NUMERIC_18_6 = ((18 << 16) | 6) + 4
FORMAT_TYPE = [
    (1700, NUMERIC_18_6), (1700, -1), (1700, None), (1043, 14), (1043, -1), (1043, None),
    (1184, 3), (1184, -1), (1114, 3), (1114, None), (1083, 3), (1266, 2), (1042, 5), (1042, -1),
    (1042, None), (25, None), (23, -1), (20, None), (21, None), (16, None), (700, None),
    (701, None), (1082, None), (17, None), (26, None), (19, None), (18, None), (2205, None),
    (114, None), (3802, None), (2950, None), (1186, None), (1560, 4), (1560, None), (1562, 8),
    (1007, None), (1231, NUMERIC_18_6), (1015, 14), (1009, None), (1185, 3), (99999, -1),
    (99999, None), (0, -1), (0, None), (None, 5),
]


@test
def format_type_as_postgres():
    ours, ref = both()
    with ours, ref:
        for oid, typmod in FORMAT_TYPE:
            sql = f"SELECT format_type({'NULL' if oid is None else oid}, {'NULL' if typmod is None else typmod})"
            eq(described(ours, sql)[1], described(ref, sql)[1], sql)


@test
def pg_get_viewdef_in_every_form():
    forms = [
        "pg_get_viewdef('{v}')",
        "pg_get_viewdef('{v}'::regclass)",
        "pg_get_viewdef((SELECT oid FROM pg_class WHERE relname = '{v}'))",
        "pg_get_viewdef((SELECT oid FROM pg_class WHERE relname = '{v}'), true)",
        "pg_get_viewdef('{v}', true)",
    ]
    ours, ref = both()
    with ours, ref:
        for conn, view in ((ours, "call_log"), (ref, "compat_view")):
            (definition,) = conn.execute(
                "SELECT definition FROM pg_views WHERE viewname = %s", [view]).fetchone()
            assert definition and "SELECT" in definition.upper(), (view, definition)
            for form in forms:
                sql = "SELECT " + form.format(v=view)
                (got,) = conn.execute(sql).fetchone()
                assert got is not None, f"{sql}: NULL"
                eq(got.strip().rstrip(";"), definition.strip().rstrip(";"), sql)
        # A table is no view: NULL, on both.
        for conn in (ours, ref):
            (got,) = conn.execute("SELECT pg_get_viewdef('cdrs')").fetchone()
            eq(got, None, "pg_get_viewdef of a table")


# Instants and wall-clock times around midnight and both DST changes of 2026 in Amsterdam, read
# in a session set to Amsterdam: AT TIME ZONE and timezone() both ways, the calendar of an
# instant (date_trunc, extract, casts) in the session's zone, and text and date bounds.
AMSTERDAM = "SET TimeZone = 'Europe/Amsterdam'"
LATE = "TIMESTAMPTZ '2026-11-02 23:30:00+00'"
ZONED = [
    f"SELECT {LATE} AT TIME ZONE 'Europe/Amsterdam' AS local, {LATE} AT TIME ZONE 'UTC' AS utc",
    f"SELECT timezone('America/New_York', {LATE}) AS ny, timezone('europe/amsterdam', {LATE}) AS ams",
    "SELECT TIMESTAMP '2026-11-03 00:30:00' AT TIME ZONE 'Europe/Amsterdam' AS instant,"
    " TIMESTAMP '2026-03-29 02:30:00' AT TIME ZONE 'Europe/Amsterdam' AS skipped,"
    " TIMESTAMP '2026-10-25 02:30:00' AT TIME ZONE 'Europe/Amsterdam' AS repeated",
    "SELECT DATE '2026-11-03' AT TIME ZONE 'America/New_York' AS ny_wall,"
    " '2026-11-03 00:30:00' AT TIME ZONE 'UTC' AS text_wall",
    f"SELECT date_trunc('day', {LATE}) AS day, CAST({LATE} AS DATE) AS date,"
    f" CAST(extract(hour FROM {LATE}) AS INT) AS hour, CAST({LATE} AS TIMESTAMP) AS wall",
    f"SELECT date_trunc('day', {LATE}, 'America/New_York') AS ny_day,"
    f" date_trunc('month', TIMESTAMPTZ '2026-10-31 23:30:00+00') AS month",
    f"SELECT {LATE} >= '2026-11-03' AS after_local_midnight, {LATE} >= DATE '2026-11-03' AS after_date,"
    f" {LATE} < TIMESTAMP '2026-11-03 00:00:00' AS before_wall_midnight",
]


@test
def time_zones_as_postgres():
    ours, ref = both()
    simple = psycopg2.connect(**params())
    ref_simple = psycopg2.connect(**ref_params())
    with ours, ref:
        for conn in (ours, ref):
            conn.execute(AMSTERDAM)
        for sql in ZONED:
            expected = described(ref, sql)
            eq(described(ours, sql), expected, f"psycopg (extended) {sql}")
            eq(described(ours, sql, binary=True), described(ref, sql, binary=True), f"binary: {sql}")
    for conn in (simple, ref_simple):
        conn.autocommit = True
        conn.cursor().execute(AMSTERDAM)
    for sql in ZONED:
        cur, ref_cur = simple.cursor(), ref_simple.cursor()
        cur.execute(sql)
        ref_cur.execute(sql)
        eq(cur.fetchall(), ref_cur.fetchall(), f"psycopg2 (simple) {sql}")
    simple.close()
    ref_simple.close()


@test
def stored_instants_are_read_in_the_session_zone():
    """A local day of the demo's CDRs, counted through the session's calendar (a cast, text
    bounds, date_trunc) and through UTC bounds worked out here: the same calls."""
    zone = zoneinfo.ZoneInfo("Europe/Amsterdam")
    with psycopg.connect(**params(), autocommit=True) as conn:
        conn.execute("SET TimeZone = 'europe/amsterdam'")  # any case, as PostgreSQL takes it
        (first,) = conn.execute("SELECT min(start_time) FROM cdrs").fetchone()
        day = first.astimezone(zone).date() + datetime.timedelta(days=1)
        start = datetime.datetime.combine(day, datetime.time(), zone)
        end = datetime.datetime.combine(day + datetime.timedelta(days=1), datetime.time(), zone)
        (expected,) = conn.execute(
            "SELECT count(*) FROM cdrs WHERE start_time >= %s AND start_time < %s",
            [start, end]).fetchone()
        assert expected > 0, f"no calls on {day}"
        text, after = day.isoformat(), (day + datetime.timedelta(days=1)).isoformat()
        for what, sql in [
            ("cast", f"SELECT count(*) FROM cdrs WHERE start_time::date = '{text}'"),
            ("text bounds", f"SELECT count(*) FROM cdrs WHERE start_time >= '{text}'"
                            f" AND start_time < '{after}'"),
            ("date_trunc", "SELECT count(*) FROM cdrs WHERE date_trunc('day', start_time)"
                           f" = '{text} 00:00:00'"),
            ("AT TIME ZONE", "SELECT count(*) FROM cdrs WHERE CAST(start_time AT TIME ZONE"
                             f" 'Europe/Amsterdam' AS DATE) = '{text}'"),
        ]:
            (got,) = conn.execute(sql).fetchone()
            eq(got, expected, f"{what}: {sql}")


# to_char with PostgreSQL's patterns: every keyword family, fill mode, ordinals, quoted text,
# over instants (written in the session's zone, DST included), wall-clock times and dates.
TO_CHAR_PATTERNS = [
    "YYYY-MM-DD HH24:MI:SS", "YYYY-MM", "Dy DD Mon YYYY HH24:MI", "Day", "FMDay", "Month",
    "FMMonth", "MONTH month Mon mon MON", "DAY day DY dy", 'IYYY-"W"IW-ID',
    "DDD IDDD D W WW Q CC J", "HH HH12 HH24 AM am PM pm A.M. p.m.",
    "MS US FF1 FF3 FF6 SSSS SSSSS", "Y,YYY YYY YY Y", "DDth DDTH FMDDth", "RM rm FMRM",
    "TZ tz TZH:TZM OF", "AD BC a.d. b.c.", '"Week" WW "of" YYYY', "yyyy-mm-dd hh24:mi",
    "FMHH12:MI am", 'Q"Q"YY',
]
TO_CHAR_VALUES = [
    "TIMESTAMPTZ '2026-11-02 23:30:05.123456+00'", "TIMESTAMPTZ '2026-03-29 01:30:00+00'",
    "TIMESTAMPTZ '2026-01-01 00:00:00+00'", "TIMESTAMPTZ '2025-12-29 11:00:00+00'",
    "TIMESTAMP '2026-07-21 12:05:09.5'", "TIMESTAMP '2026-05-03 00:00:00'", "DATE '2026-12-31'",
]


@test
def to_char_patterns_as_postgres():
    ours, ref = both()
    with ours, ref:
        for conn in (ours, ref):
            conn.execute(AMSTERDAM)
        for value in TO_CHAR_VALUES:
            for pattern in TO_CHAR_PATTERNS:
                sql = f"SELECT to_char({value}, '{pattern}') AS text"
                eq(described(ours, sql), described(ref, sql), sql)


# PostgreSQL syntax and functions analysts write, which DataFusion's planner lacks: interval
# arithmetic with numbers, width_bucket, variance, every, FETCH FIRST, LOCALTIMESTAMP,
# generate_series in the select list, age, justify_*, to_timestamp/to_date with PostgreSQL's
# patterns, and output columns that share a name (a cast is named after its column). Same names and values.
ANALYST = [
    "SELECT interval '1 month' / 7, interval '1 month' * 1.5, interval '1 day' * 1.5",
    "SELECT 90 * interval '1 second', 2.5 * interval '3 days 4 hours',"
    " interval '1 mon 1 day 1 hour' * 0.3, interval '1 mon' * 0.1234567",
    "SELECT interval '1 hour' / 3, interval '-1 day 2 hours' * 2, interval '1 day' / 1.5,"
    " CAST(NULL AS INTEGER) * interval '1 second'",
    "SELECT g * interval '1 minute' AS m, interval '1 hour' * g FROM (VALUES (1), (0), (-3)) AS v(g)"
    " ORDER BY g",
    "SELECT width_bucket(125, 0, 600, 10), width_bucket(-1, 0, 600, 10),"
    " width_bucket(600, 0, 600, 10), width_bucket(5.35, 10, 0, 5), width_bucket(NULL, 0, 1, 2)",
    "SELECT width_bucket(x, 0, 600, 10) AS b, count(*) FROM (VALUES (0), (59), (60), (601)) AS v(x)"
    " GROUP BY 1 ORDER BY 1",
    # variance of float8 (of integers PostgreSQL's is numeric, DataFusion's float8).
    "SELECT variance(x), every(x > 0), every(x > 2)"
    " FROM (VALUES (CAST(2 AS DOUBLE PRECISION)), (4), (6)) AS v(x)",
    "SELECT x FROM (VALUES (3), (1), (2)) AS v(x) ORDER BY x FETCH FIRST 2 ROWS ONLY",
    "SELECT x FROM (VALUES (3), (1), (2)) AS v(x) ORDER BY x OFFSET 1 ROWS FETCH NEXT 1 ROW ONLY",
    "SELECT localtimestamp - CAST(now() AS TIMESTAMP) < interval '1 second' AS close",
    "SELECT 1, 1, 'a', 'a', interval '90 minutes' * 1, interval '1.5 hours' * 1",
    "SELECT generate_series(1, 3)",
    "SELECT 'x' AS x, generate_series(10, 1, -4) AS n",
    "SELECT d::date, d, d::text FROM (VALUES (TIMESTAMPTZ '2026-11-02 23:30:00+00')) AS v(d)",
    "SELECT d::date FROM (VALUES (TIMESTAMPTZ '2026-11-02 23:30:00+00'), (TIMESTAMPTZ"
    " '2026-11-01 10:00:00+00')) AS v(d) ORDER BY d",
    "SELECT * FROM (SELECT d::date, d FROM (VALUES (DATE '2026-11-02')) AS v(d)) s",
    "SELECT start_time::date, start_time, CAST(start_time AS TEXT), cdrs.start_time FROM cdrs"
    " WHERE false",
    "SELECT tenant, tenant, count(*), count(*) FROM cdrs WHERE false GROUP BY tenant",
    "SELECT c.*, c.start_time::date FROM (SELECT call_id, start_time FROM cdrs) c WHERE false",
    "SELECT justify_hours(interval '27 hours'), justify_days(interval '35 days'),"
    " justify_interval(interval '1 mon -1 hour'), justify_hours(interval '1 day -1 hour'),"
    " justify_days(interval '-35 days'), justify_interval(interval '-27 hours')",
    "SELECT age(TIMESTAMPTZ '2026-11-23 10:00:00+00', TIMESTAMPTZ '2026-09-20 06:00:00+00'),"
    " age(TIMESTAMP '2026-03-31 00:00:00', TIMESTAMP '2026-02-28 12:00:00'),"
    " age(TIMESTAMP '2026-01-31 00:00:00', TIMESTAMP '2026-03-01 00:00:00'),"
    " age(DATE '2026-11-23', DATE '2020-02-29'), age(CAST(now() AS DATE)) AS zero",
    "SELECT to_timestamp('2026-11-23 14:05:09', 'YYYY-MM-DD HH24:MI:SS'),"
    " to_date('23.11.2026', 'DD.MM.YYYY'), to_date('2026/11/23', 'YYYY-MM-DD'),"
    " to_date('20261123', 'YYYYMMDD'), to_date('95-11-23', 'YY-MM-DD')",
    "SELECT to_timestamp('23 nov 2026 2:05 pm', 'DD Mon YYYY HH12:MI AM'),"
    " to_timestamp('2026-11-23 14:05 +05:30', 'YYYY-MM-DD HH24:MI TZH:TZM'),"
    " to_timestamp('2026-11-23 14:05:09.5', 'YYYY-MM-DD HH24:MI:SS.MS'),"
    " to_date('Monday, 23 November 2026', 'Day, DD Month YYYY'), to_date('  2026 -  11-23x', 'YYYY-MM-DD')",
    # format and quoting (schema browsers name tables with format('%I.%I', …)).
    "SELECT format('%I.%I', 'public', 'cdrs'), format('%I', 'Call Log'), format('%s|%L|%L', NULL,"
    " 'it''s', NULL), format('100%%'), format('%2$s %1$s %s', 'a', 'b'), format('[%5s][%-5s]',"
    " 'ab', 'cd'), format('[%*s][%-*s][%*s]', 4, 'x', 4, 'y', -3, 'z'), format('[%1$*2$s]', 'x', 3),"
    " format(NULL, 'a'), format('%s', CAST(NULL AS TEXT)), format('[%3s]', CAST(NULL AS TEXT))",
    "SELECT format('%s %s %s %s %L', 1.50, true, DATE '2026-11-24', TIMESTAMPTZ '2026-11-24"
    " 10:00:00+00', 42), format('%s', interval '90 minutes')",
    "SELECT quote_ident('cdrs'), quote_ident('Call Log'), quote_ident('user'), quote_ident('name'),"
    " quote_ident('say \"hi\"'), quote_ident('1st'), quote_literal('it''s'), quote_literal(E'a\\\\b'),"
    " quote_literal(42), quote_nullable(CAST(NULL AS TEXT)), quote_nullable('x'),"
    " quote_literal(CAST(NULL AS TEXT))",
    # to_char of intervals: talk time as HH24:MI:SS, hours past 24, negative spans.
    "SELECT to_char(interval '90 minutes', 'HH24:MI'), to_char(interval '30 hours 1 minute"
    " 1 second', 'HH24:MI:SS'), to_char(interval '13 hours', 'HH12 AM'), to_char(interval '0',"
    " 'HH:MI'), to_char(interval '1 year 2 months 3 days 2 hours', 'YYYY-MM-DD HH24'),"
    " to_char(interval '-90 minutes', 'HH24:MI'), to_char(interval '3725 seconds',"
    " 'FMHH24:MI:SS'), to_char(interval '3725 seconds', 'SSSS'), to_char(interval '1.5 seconds',"
    " 'SS.MS US FF2'), to_char(interval '5 months', 'Q DDD CC'), to_char(interval '-14 months"
    " -3 days', 'YYYY MM DD'), to_char(interval '2 hours', 'HH24th')",
    "SELECT to_char(x * interval '1 second', 'HH24:MI:SS') AS talk FROM (VALUES (59), (3600),"
    " (NULL), (100000)) AS v(x)",
    # A date and an interval make a timestamp; float is double precision.
    # (A literal of whole days or months keeps a date here, for partition pruning.)
    "SELECT DATE '2026-11-22' + interval '1 hour', DATE '2026-11-22' - interval '30 minutes',"
    " interval '1 day 2 hours' + DATE '2026-11-22', DATE '2026-11-22' + interval '1 month 1 second',"
    " d + interval '90 minutes', DATE '2026-11-22' + 7, DATE '2026-11-30' - 1"
    " FROM (VALUES (DATE '2026-03-29')) AS v(d)",
    "SELECT count(*)::float / 3, CAST(2 AS FLOAT) / 3, 1::float(53) / 3 FROM (VALUES (1)) AS v(x)",
    "SELECT generate_series(DATE '2026-11-01', DATE '2026-11-03', interval '1 day')::date",
    "SELECT generate_series(1, 3)::text AS n",
    # A number with a fraction cast to an integer is rounded (Arrow truncated: 1.5::int was 1).
    "SELECT CAST(1.5 AS INTEGER), CAST(2.5 AS INTEGER), CAST(-1.5 AS INTEGER), 1.4::int,"
    " 2.5::bigint, (-2.5)::smallint, 7.5::numeric(10,1)::int, 3.7::float8::int, (-3.7)::float8::int",
    "SELECT avg(x)::int AS a, sum(y)::int AS s FROM (VALUES (1, 1.25), (2, 1.25)) AS v(x, y)",
    "SELECT x::int AS i FROM (VALUES (0.5), (1.49), (-0.5), (NULL)) AS v(x)",
    # Intervals compare by length (Arrow compared months, then days, then time).
    "SELECT (TIMESTAMP '2026-11-22 10:00' - TIMESTAMP '2026-11-20 08:30') > interval '1 day',"
    " interval '25 hours' > interval '1 day', interval '1 month' > interval '29 days',"
    " interval '1 day' = interval '24 hours', interval '1 month' = interval '30 days',"
    " interval '36 hours' BETWEEN interval '1 day' AND interval '2 days',"
    " interval '1 day' IS DISTINCT FROM interval '24 hours', CAST(NULL AS interval) > interval '1 day'",
    "SELECT count(*) FROM (VALUES (TIMESTAMPTZ '2026-11-20 00:00:00+00'), (TIMESTAMPTZ"
    " '2026-11-23 23:00:00+00')) AS v(t) WHERE TIMESTAMPTZ '2026-11-24 00:00:00+00' - t > interval '1 day'",
    # LIKE ANY / ALL of a pattern list (numbers by prefix).
    "SELECT 'abc' LIKE ANY (ARRAY['a%', 'z%']), 'abc' ILIKE ALL (ARRAY['A%', '%C']),"
    " 'abc' NOT LIKE ANY (ARRAY['a%', 'z%']), 'abc' LIKE ALL (ARRAY['a%', 'z%']),"
    " 'abc' LIKE ANY (ARRAY['z%', NULL]), 'abc' LIKE ANY (ARRAY['a%', NULL])",
    "SELECT x FROM (VALUES ('+31201'), ('+44207'), ('+32475'), (NULL)) AS v(x)"
    " WHERE x LIKE ANY (ARRAY['+31%', '+32%']) ORDER BY 1",
    # make_interval with named arguments (talk time as an interval).
    "SELECT make_interval(days => 3, hours => 2), make_interval(secs => 5400),"
    " make_interval(1, 2, 1, 3, 4, 5, 6.5), make_interval(), make_interval(secs => 1.0000005),"
    " make_interval(mins => -90), make_interval(years => 1, days => 1)",
    "SELECT make_interval(secs => x) AS talk FROM (VALUES (59), (NULL), (100000)) AS v(x)",
    # Ordered-set aggregates: the most frequent value, a value at a fraction.
    "SELECT mode() WITHIN GROUP (ORDER BY x), mode() WITHIN GROUP (ORDER BY x DESC),"
    " percentile_disc(0.5) WITHIN GROUP (ORDER BY x), percentile_disc(0) WITHIN GROUP (ORDER BY x),"
    " percentile_disc(1) WITHIN GROUP (ORDER BY x), percentile_disc(0.25) WITHIN GROUP (ORDER BY"
    " x DESC) FROM (VALUES (1), (2), (2), (3), (3), (NULL)) AS v(x)",
    "SELECT g, mode() WITHIN GROUP (ORDER BY x) AS m, percentile_disc(0.9) WITHIN GROUP (ORDER BY"
    " d) AS p FROM (VALUES (1, 'a', DATE '2026-11-01'), (1, 'b', DATE '2026-11-03'), (1, 'b', NULL),"
    " (2, 'c', NULL), (3, NULL, NULL)) AS v(g, x, d) GROUP BY g ORDER BY g",
    "SELECT mode() WITHIN GROUP (ORDER BY x) FROM (VALUES (1)) AS v(x) WHERE false",
    # percentile_cont interpolated in double precision (DataFusion's truncated to millionths).
    "SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY x), percentile_cont(0.3) WITHIN GROUP"
    " (ORDER BY x), percentile_cont(0.95) WITHIN GROUP (ORDER BY x DESC), percentile_cont(0)"
    " WITHIN GROUP (ORDER BY x), percentile_cont(1) WITHIN GROUP (ORDER BY x)"
    " FROM (VALUES (1), (2), (4), (7), (NULL)) AS v(x)",
    "SELECT g, percentile_cont(0.25) WITHIN GROUP (ORDER BY x) FROM (VALUES (1, 1.5), (1, 2.5),"
    " (2, 3.0), (3, NULL)) AS v(g, x) GROUP BY g ORDER BY g",
    # SIMILAR TO: the SQL pattern against the whole text (DataFusion read it as a regex).
    "SELECT 'abc' SIMILAR TO 'a%', 'xabcx' SIMILAR TO 'abc', '1.5' SIMILAR TO '1.5',"
    " '105' SIMILAR TO '1.5', 'ab' NOT SIMILAR TO '(a|b)+', '100%' SIMILAR TO '100#%' ESCAPE '#',"
    " CAST(NULL AS TEXT) SIMILAR TO 'a', '0031' SIMILAR TO '(0|00)3_'",
    # substring(text FROM pattern): the match, or its first group.
    "SELECT substring('+31201234567' FROM '^\\+(\\d{2})'), substring('abc123' FROM '\\d+'),"
    " substring('abc' FROM 'z'), substring(CAST(NULL AS TEXT) FROM 'a'), substring('a-b' FROM '(x)?-')",
    "SELECT substring(x FROM '\\d+') AS d FROM (VALUES ('a1'), (NULL), ('b22')) AS v(x) ORDER BY 1",
    "SELECT sign(-2.5), sign(3), sign(0)",
    "SELECT mod(7, 3), mod(-7, 3), mod(7.5, 2), mod(x, 4) FROM (VALUES (10), (NULL)) AS v(x)",
    "SELECT num_nulls(1, NULL, 'a'), num_nonnulls(1, NULL, 'a'), num_nulls(NULL)",
    "SELECT isfinite(DATE '2024-01-01'), isfinite(TIMESTAMP '2024-01-01 10:00'),"
    " isfinite(interval '1 day'), isfinite(CAST(NULL AS DATE))",
    "SELECT length(CAST(gen_random_uuid() AS TEXT)), gen_random_uuid() = gen_random_uuid()",
    "SELECT make_timestamp(2024, 1, 2, 3, 4, 5.5), make_timestamp(2024, 2, 29, 23, 59, 60),"
    " make_timestamp(2023, 1, 1, 24, 0, 0), make_timestamp(NULL, 1, 1, 0, 0, 0)",
    # A skipped and a repeated wall-clock time: the instant PostgreSQL picks.
    "SELECT make_timestamptz(2024, 3, 31, 2, 30, 0, 'Europe/Amsterdam'),"
    " make_timestamptz(2024, 10, 27, 2, 30, 0, 'europe/amsterdam'), make_timestamptz(2024, 5, 8, 10, 0, 0)",
    # regexp_split_to_array: empty matches, no match, flags.
    "SELECT regexp_split_to_array('a,b,,c', ','), regexp_split_to_array('hello', ''),"
    " regexp_split_to_array('abc', 'x*'), regexp_split_to_array(',a,', ','),"
    " regexp_split_to_array('', ','), regexp_split_to_array('aXbxc', 'x', 'i'),"
    " regexp_split_to_array(NULL, ','), (regexp_split_to_array('sip:100@pbx', '[:@]'))[2]",
    "SELECT regexp_split_to_array(E'a\\nb', 'a.b', 'n'), regexp_split_to_array(E'a\\nb', '^b', 'w'),"
    " regexp_split_to_array(E'a\\nb', 'a.b', 's'), regexp_split_to_array(E'a\\nb', '^b', 'p')",
    # Casts to varchar(n) cut the text.
    "SELECT x::varchar(3), 'abcdef'::varchar(2), CAST(x AS character varying(4)),"
    " CAST(12345 AS varchar(2)), 'héllo'::varchar(2) FROM (VALUES ('abcdef'), (NULL)) AS v(x)",
    # Interval texts in PostgreSQL's forms: clock times, days and a clock, years-months,
    # ISO 8601, abbreviations, @ … ago; literals and casts. Printed as PostgreSQL prints them
    # (a positive part after a negative one signed).
    "SELECT CAST(x AS TEXT), x::interval FROM (VALUES ('01:30:00'), ('-01:00'), ('1:30.5'),"
    " ('1 day 02:03:04'), ('1 02:03:04'), ('1-2'), ('P1Y2M3DT4H5M6.5S'), ('PT90S'), ('1h30m'),"
    " ('5 mins'), ('30'), ('@ 1 hour ago'), ('-1 day 02:00'), ('-1 day -02:00'),"
    " ('1 mon -1 day'), ('-1 year 2 mons')) AS v(x) ORDER BY 1",
    "SELECT interval '00:05:00', interval '1 day 02:03:04', interval 'P1DT2H',"
    " CAST('2 hrs' AS interval), interval '00:00:30' * 2, interval '-1 day 02:00'",
    # Scalar subqueries in the select list, correlated (they were NULL) and not.
    "SELECT a.x, (SELECT count(*) FROM (VALUES (1, 'one'), (1, 'uno'), (2, 'two')) AS b(x, y)"
    " WHERE b.x = a.x) AS n, (SELECT max(y) FROM (VALUES (1, 'one'), (2, 'two')) AS b(x, y)"
    " WHERE b.x = a.x), (SELECT 7) FROM (VALUES (1), (2), (3)) AS a(x) ORDER BY 1",
    "SELECT (SELECT count(*) FROM cdrs c WHERE c.call_id = t.call_id) AS n FROM cdrs t"
    " ORDER BY t.call_id LIMIT 1",
    # Not aggregated: the one row's value, NULL without one (DataFusion refused the first and
    # failed the second on a column that cannot be NULL).
    "SELECT a.x, (SELECT b.y FROM (VALUES (1, 'one'), (2, 'two')) AS b(x, y) WHERE b.x = a.x)"
    " FROM (VALUES (1), (2), (3)) AS a(x) ORDER BY 1",
    "SELECT (SELECT c.call_id FROM cdrs c WHERE c.call_id = t.call_id) = t.call_id FROM cdrs t LIMIT 1",
    "SELECT (SELECT call_id FROM cdrs WHERE false), (SELECT call_id FROM cdrs WHERE false) IS NULL",
    # count(r.*) and count(r) of a left-joined r count its matched rows (were every row).
    "SELECT a.x, count(b.*), count(b), count(*) FROM (VALUES (1), (2)) AS a(x) LEFT JOIN"
    " (VALUES (1, 'p'), (1, 'q')) AS b(x, y) ON b.x = a.x GROUP BY 1 HAVING count(b.*) >= 0"
    " ORDER BY 1",
    # ANY and ALL over subqueries, arrays and array texts.
    "SELECT x FROM (VALUES (1), (2), (3)) AS t(x) WHERE x = ANY(SELECT 2 UNION ALL SELECT 3)"
    " AND x <> ALL(ARRAY[3]) ORDER BY 1",
    "SELECT x FROM (VALUES ('a'), ('b')) AS t(x) WHERE x = ANY('{a,c}')",
    "SELECT 1 <> ALL(ARRAY[2, NULL]) AS a, 5 > ANY(ARRAY[1, 9]) AS b, 5 >= ALL(ARRAY[1, 5]) AS c,"
    " 2 = ANY(ARRAY[2, NULL]) AS d",
    # Numeric division to 16 decimals (Arrow kept the dividend's scale plus 4: 0.3333).
    "SELECT 10::numeric / 4, 7.0 / 2, 7::numeric / 0.5, round(100.0 * 2 / 3, 12),"
    " round(1::numeric / 3, 12), round(count(*) * 1.0 / 7, 12) FROM (VALUES (1), (2)) AS v(x)",
    # avg of a decimal to 16 decimals too (was the argument's scale plus 4), as a window too.
    "SELECT avg(x), round(avg(x), 14), round(avg(x) OVER (), 14) FROM (VALUES (1.5), (2.25),"
    " (3.0), (0.01)) AS v(x) GROUP BY x ORDER BY x LIMIT 1",
    "SELECT round(avg(x), 14) FROM (VALUES (0.1), (0.2), (0.25)) AS v(x)",
    # A difference of timestamps scaled as an interval (DataFusion refused a duration * n).
    "SELECT (TIMESTAMP '2024-01-01 00:01:57' - TIMESTAMP '2024-01-01 00:00:00') * 2,"
    " 1.5 * (TIMESTAMP '2024-01-01 00:01:00' - TIMESTAMP '2024-01-01 00:00:00'),"
    " (TIMESTAMP '2024-01-01 00:02:21' - TIMESTAMP '2024-01-01 00:00:00') / 4",
    # The epoch of a duration with its fraction (DataFusion dropped it).
    "SELECT extract(epoch FROM (TIMESTAMP '2024-01-01 00:00:03.25' - TIMESTAMP '2024-01-01 00:00:00')),"
    " date_part('epoch', TIMESTAMP '2024-01-01 00:10:00.5' - TIMESTAMP '2024-01-01 00:00:00'),"
    " extract(epoch FROM interval '1.5 seconds')",
    # century, decade and millennium, which DataFusion's date_part refuses.
    "SELECT extract(century FROM DATE '2024-01-01'), extract(decade FROM DATE '2024-01-01'),"
    " extract(millennium FROM DATE '2000-12-31'), date_part('century', TIMESTAMP '2001-01-01 00:00'),"
    " extract(CENTURY FROM TIMESTAMP '2100-12-31 23:59'), extract(century FROM interval '250 years')",
    "SELECT extract(decade FROM x) AS d, count(*) FROM (VALUES (DATE '2019-05-01'),"
    " (DATE '2020-01-01'), (NULL)) AS v(x) GROUP BY 1 ORDER BY 1",
    "SELECT x, count(*) FROM (VALUES ('a'), ('b'), ('a')) AS v(x) GROUP BY ROLLUP (x)"
    " ORDER BY x NULLS LAST",
    "SELECT x, y, count(*), sum(y) FROM (VALUES ('a', 1), ('b', 2)) AS v(x, y)"
    " GROUP BY GROUPING SETS ((x), (y), ()) ORDER BY 1, 2",
    # regclass of PostgreSQL's catalog tables: their fixed OIDs (pg_description's classoid).
    # (Aliased: an oid is an int4 here, and a cast to it is named so.)
    "SELECT 'pg_class'::regclass::oid AS a, 'pg_catalog.pg_proc'::regclass::oid AS b,"
    " CAST(CAST('pg_type' AS TEXT) AS regclass)::oid AS c, CAST(format('%I.%I', 'pg_catalog',"
    " 'pg_namespace') AS regclass)::oid, 'pg_class'::regclass = 1259 AS d",
    # INTERSECT ALL and EXCEPT ALL keep min(m, n) and max(m - n, 0) copies of a row; the
    # distinct forms one; NULLs are equal.
    "SELECT * FROM (VALUES (1), (1), (1), (2), (NULL), (NULL)) AS a(x) INTERSECT ALL"
    " SELECT * FROM (VALUES (1), (1), (NULL), (3)) AS b(x) ORDER BY 1",
    "SELECT * FROM (VALUES (1), (1), (1), (2), (NULL), (NULL)) AS a(x) EXCEPT ALL"
    " SELECT * FROM (VALUES (1), (1), (NULL), (3)) AS b(x) ORDER BY 1",
    "SELECT * FROM (VALUES (1, 'a'), (1, 'a'), (1, 'b')) AS a(x, y) EXCEPT ALL SELECT 1, 'a'"
    " ORDER BY 1, 2",
    "SELECT * FROM (VALUES (1), (1), (2)) AS a(x) EXCEPT SELECT 2 ORDER BY 1",
    "SELECT * FROM (VALUES (1), (1), (2)) AS a(x) INTERSECT SELECT 1 ORDER BY 1",
    # Integers and decimals in one column are decimals, as described and as sent.
    "SELECT 1 AS x UNION SELECT 2.5 ORDER BY 1",
    "SELECT 3 AS x UNION SELECT 2.5::numeric ORDER BY 1",
    "SELECT CASE WHEN x > 1 THEN x ELSE 0.5 END AS y FROM (VALUES (1), (2)) AS v(x) ORDER BY 1",
    # Sorted by the position of a computed column above a grouping.
    "SELECT x, sum(y) - 1, max(y) * 2 FROM (VALUES ('a', 1), ('a', 5), ('b', 2)) AS v(x, y)"
    " GROUP BY 1 ORDER BY 2 DESC, 3",
    # Distinct rows of values: NULLs, quotes and commas inside the values.
    "SELECT count(DISTINCT (x, y)) FROM (VALUES ('1', NULL), ('1', NULL), (NULL, NULL),"
    " (NULL, NULL), ('a''b', 'c'), ('a', '''b,c'), ('a,', 'b'), ('a', ',b')) AS v(x, y)",
    # An aggregate beside a window over aggregates keeps its name.
    "SELECT x, count(*), rank() OVER (ORDER BY count(*) DESC), max(y) FROM (VALUES ('a', 1),"
    " ('a', 2), ('b', 3)) AS v(x, y) GROUP BY 1 ORDER BY 1",
    # Unnested rows sorted by both keys (the grouping key is not unique after the unnest).
    "SELECT x, unnest(array_agg(y)) AS u FROM (VALUES ('a', 3), ('a', 1), ('b', 2), ('a', 2))"
    " AS v(x, y) GROUP BY 1 ORDER BY 1, 2",
]


# Statements PostgreSQL refuses, refused with its SQLSTATE.
ANALYST_ERRORS = [
    "SELECT make_timestamp(2023, 2, 29, 0, 0, 0)",
    "SELECT make_timestamp(2024, 1, 1, 24, 0, 1)",
    "SELECT make_timestamp(2024, 1, 1, 0, 0, 61)",
    "SELECT make_timestamptz(2024, 5, 8, 10, 0, 0, 'Mars/Base')",
    "SELECT mod(1, 0)",
    "SELECT regexp_split_to_array('a,b', ',', 'g')",
    "SELECT (SELECT x FROM (VALUES (1), (2)) AS v(x))",
    "SELECT a.x, (SELECT b.y FROM (VALUES (1, 'one'), (1, 'uno')) AS b(x, y) WHERE b.x = a.x)"
    " FROM (VALUES (1)) AS a(x)",
    "SELECT call_id FROM cdrs, (SELECT 'x' AS call_id) AS other",
    "SELECT tenant, count(*) FROM cdrs",
    "SELECT CAST(99999 AS numeric(3, 0))",
]


@test
def analyst_sql_as_postgres():
    ours, ref = both()
    with ours, ref:
        for sql in ANALYST:
            eq(described(ours, sql), described(ref, sql), sql)
            eq(described(ours, sql, binary=True), described(ref, sql, binary=True), sql)
        for sql in ANALYST_ERRORS:
            codes = []
            for conn in (ours, ref):
                try:
                    conn.execute(sql)
                    codes.append(None)
                except psycopg.Error as e:
                    codes.append(e.sqlstate)
            eq(codes[0], codes[1], sql)
        # A parameter inside a select-list subquery (it was NULL).
        sql = "SELECT (SELECT count(*) > 0 FROM cdrs c WHERE c.tenant = %s) AS any_calls"
        got = [c.execute(sql, ("pbx",)).fetchall() for c in (ours, ref)]
        eq(got[0], got[1], sql)
        # age reads instants on the session's calendar: across the end of summer time in
        # Amsterdam two local midnights are 2 days apart (in UTC, 2 days and an hour).
        for conn in (ours, ref):
            conn.execute(AMSTERDAM)
        sql = "SELECT age(TIMESTAMPTZ '2026-10-26 00:00:00+01', TIMESTAMPTZ '2026-10-24 00:00:00+02')"
        eq(described(ours, sql), described(ref, sql), sql)
        # to_timestamp reads a wall-clock time in the session's zone, DST gaps and repeats
        # as PostgreSQL does.
        sql = "SELECT to_timestamp('2026-03-29 02:30', 'YYYY-MM-DD HH24:MI'),"
        sql += " to_timestamp('2026-10-25 02:30', 'YYYY-MM-DD HH24:MI'),"
        sql += " to_timestamp('2026-11-23 00:30', 'YYYY-MM-DD HH24:MI')"
        eq(described(ours, sql), described(ref, sql), sql)
        # pg_typeof is a regtype, which has no binary form in psycopg: text only.
        sql = "SELECT pg_typeof(duration_s), pg_typeof(start_time), pg_typeof(call_id),"
        sql += " pg_typeof(charge), pg_typeof(start_time::date) FROM cdrs LIMIT 1"
        eq(described(ours, sql), described(ref, sql), sql)


# to_char of numbers by PostgreSQL's number patterns (money in reports and exports).
NUMBER_PATTERNS = [
    "9999", "0000", "9999.99", "FM9999.99", "FM9999.00", "9,999.99", "FM999G999G990D00",
    "999G999D99", "S9999", "9999S", "9999MI", "MI9999", "PL9999", "SG9999.9", "9999PR",
    "FM9999PR", "0.99", "FM0.00", "99", "FMS9999.9", ".99", "fm9g999d00", "FM0000.0000",
    '"EUR" FM999.00', "9 9 9", "9999.", "9999999999999999999999.9999",
]
NUMBER_VALUES = [
    "CAST(0 AS NUMERIC)", "5", "-5", "1234.5", "-1234.567", "0.5", "-0.004", "123456789",
    "12.345", "CAST(12.345 AS NUMERIC(10,3))", "CAST(-7 AS INTEGER)", "CAST(NULL AS NUMERIC)",
    "CAST(2.5 AS DOUBLE PRECISION)", "CAST(-0.125 AS DOUBLE PRECISION)",
    "CAST(1e20 AS DOUBLE PRECISION)", "CAST(1234.5678 AS REAL)", "CAST(99999999999999999999 AS NUMERIC)",
]


@test
def to_char_numbers_as_postgres():
    ours, ref = both()
    with ours, ref:
        for value in NUMBER_VALUES:
            texts = ", ".join(f"to_char({value}, '{p}')" for p in NUMBER_PATTERNS)
            sql = f"SELECT {texts}"
            eq(described(ours, sql), described(ref, sql), sql)
        # Stored charges (numeric(18,6)) as money: rounded half up to cents, grouped by 3.
        sql = "SELECT charge, to_char(charge, 'FM999G990D00') FROM cdrs"
        sql += " WHERE charge IS NOT NULL ORDER BY charge DESC LIMIT 300"
        rows = ours.execute(sql).fetchall()
        cents = decimal.Decimal("0.01")
        expected = [(c, f"{c.quantize(cents, decimal.ROUND_HALF_UP):,.2f}") for c, _ in rows]
        eq(rows, expected, sql)
        eq(len(rows), 300, "stored charges")


# COPY in the binary layout (ADBC, Polars and DuckDB's scanner read results so): byte for byte
# PostgreSQL's file for the same values, NULLs, numeric scales and an empty result included.
BINARY_COPY = [
    "SELECT CAST(1 AS INT) AS a, CAST(g AS TEXT) AS b FROM (SELECT 1 AS g WHERE false) e",
    "SELECT CAST(1 AS INT) AS i, CAST(2 AS BIGINT) AS b, 'héllo' AS t, true AS f,"
    " CAST(NULL AS TEXT) AS n, CAST(1.5 AS DOUBLE PRECISION) AS d",
    "SELECT CAST(12.340000 AS NUMERIC(18,6)) AS m, CAST(0 AS NUMERIC(18,6)) AS z,"
    " CAST(-0.5 AS NUMERIC(10,3)) AS neg",
    "SELECT TIMESTAMPTZ '2026-11-02 23:30:05.123456+00' AS ts, DATE '2026-11-03' AS d,"
    " TIMESTAMP '2026-11-03 00:30:00' AS naive",
]


def copy_bytes(conn, sql):
    data = bytearray()
    with conn.cursor().copy(sql) as copy:
        for chunk in copy:
            data += chunk
    return bytes(data)


@test
def binary_copy_as_postgres():
    ours, ref = both()
    with ours, ref:
        for sql in BINARY_COPY:
            copy = f"COPY ({sql}) TO STDOUT (FORMAT binary)"
            eq(copy_bytes(ours, copy), copy_bytes(ref, copy), copy)
        # Stored rows read back through psycopg's binary COPY reader, as the query gives them.
        sql = "SELECT call_id, duration_s, start_time, charge FROM cdrs ORDER BY call_id LIMIT 50"
        with ours.cursor().copy(f"COPY ({sql}) TO STDOUT (FORMAT binary)") as copy:
            copy.set_types(["text", "int4", "timestamptz", "numeric"])
            rows = list(copy.rows())
        eq(rows, ours.execute(sql).fetchall(), "binary COPY of stored rows")
        eq(len(rows), 50, "rows")


if __name__ == "__main__":
    run()
