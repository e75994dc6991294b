"""psql 15: meta-commands, and \\copy output byte-compared with a real PostgreSQL 15 (PGREF_PORT)."""

import os
import subprocess
import tempfile

from common import DB, HOST, PORT, REF_PORT, REF_USER, Skip, eq, known_defect, run, test

PSQL = os.environ.get("PSQL", "psql")


def psql(*commands, user="admin", port=None, db=None, check=True, quiet=True, flags=()):
    """Runs psql -X with each command as a -c; returns stdout (stderr included on failure)."""
    args = [PSQL, "-X", *(["-q"] if quiet else []), *flags, "-v", "ON_ERROR_STOP=1", "-h", HOST, "-p", str(port or PORT),
            "-U", user, "-d", db or DB]
    for c in commands:
        args += ["-c", c]
    env = dict(os.environ, PGPASSWORD=user, PGCLIENTENCODING="UTF8")
    p = subprocess.run(args, capture_output=True, text=True, env=env, timeout=120)
    if check and p.returncode != 0:
        raise AssertionError(f"psql {commands!r} exited {p.returncode}: {p.stderr.strip()}")
    return p.stdout


def table_rows(out):
    """The data lines of psql's aligned output, as lists of stripped cells."""
    lines = out.splitlines()
    sep = next(i for i, line in enumerate(lines) if line.startswith("---"))
    return [[c.strip() for c in line.split("|")] for line in lines[sep + 1:] if "|" in line]


@test
def dt_lists_tables():
    rows = table_rows(psql("\\dt"))
    eq(sorted(r[1] for r in rows),
       ["billing_events", "cdrs", "ingest_rejects", "rates", "refunds", "settings"], "\\dt names")
    assert all(r[0] == "public" and r[2] == "table" for r in rows), rows


@test
def dv_lists_views():
    rows = table_rows(psql("\\dv"))
    eq(sorted(r[1] for r in rows),
       ["call_data_records", "call_log", "call_records", "call_reports", "cdr_anomalies",
        "didww_inbound", "didww_outbound"], "\\dv")
    assert all(r[2] == "view" for r in rows), rows


@test
def d_cdrs_columns():
    cols = {r[0]: r for r in table_rows(psql("\\d cdrs"))}
    eq(cols["call_id"][1], "text", "call_id type")
    eq(cols["call_id"][3], "not null", "call_id nullable")
    eq(cols["start_time"][1], "timestamp with time zone", "start_time type")
    eq(cols["duration_s"][1], "integer", "duration_s type")
    eq(cols["agent"][3], "", "agent nullable")
    assert cols["charge"][1].startswith("numeric"), cols["charge"]


@test
def d_cdrs_numeric_typmod():
    cols = {r[0]: r for r in table_rows(psql("\\d cdrs"))}
    eq(cols["charge"][1], "numeric(18,6)", "charge type")


def cdrs_ddl():
    """CREATE TABLE cdrs for PostgreSQL, from the table definition in schemas/tables/cdrs.toml."""
    import tomllib
    root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
    with open(os.path.join(root, "schemas", "tables", "cdrs.toml"), "rb") as f:
        table = tomllib.load(f)
    types = {"text": "text", "timestamptz": "timestamptz", "int": "integer", "date": "date",
             "decimal": "numeric(18,6)"}  # decimal: DECIMAL(18,6), src/schema.rs
    cols = [f'{c["name"]} {types[c["type"]]}{"" if c.get("nullable", True) else " NOT NULL"}'
            for c in table["columns"]]
    return f"DROP TABLE IF EXISTS cdrs CASCADE; CREATE TABLE cdrs ({', '.join(cols)})"


@test
def d_cdrs_like_postgres():
    # Column, Type and Nullable of \d cdrs as PostgreSQL 15 prints them for the same table.
    if not REF_PORT:
        raise Skip("no reference PostgreSQL (PGREF_PORT unset)")
    psql(cdrs_ddl(), user=REF_USER, port=REF_PORT, db="postgres")
    ours = [(r[0], r[1], r[3]) for r in table_rows(psql("\\d cdrs"))]
    ref = [(r[0], r[1], r[3]) for r in table_rows(psql("\\d cdrs", user=REF_USER, port=REF_PORT, db="postgres"))]
    eq(ours, ref, "\\d cdrs")


@test
def d_plus_cdrs():
    out = psql("\\d+ cdrs")
    cols = {r[0]: r for r in table_rows(out)}
    eq(cols["charge"][1], "numeric(18,6)", "charge type")
    # The Description column carries each column's documentation from schemas/tables/cdrs.toml.
    assert cols["call_id"][-1].startswith("Unique id of the call"), cols["call_id"]


@test
def d_plus_view_shows_definition():
    out = psql("\\d+ call_log")
    assert 'View "public.call_log"' in out, out[:200]
    assert "View definition:" in out and "FROM cdrs" in out, out[-400:]
    cols = {r[0]: r for r in table_rows(out)}
    eq(cols["call_status"][1], "text", "call_status type")


@test
def pg_get_viewdef_is_the_query():
    # PostgreSQL gives a view's query, not the comment block that opens schemas/views/call_log.sql.
    for sql in ("SELECT pg_get_viewdef('call_log'::regclass)", "SELECT pg_get_viewdef('call_log'::regclass, true)",
                "SELECT definition FROM pg_views WHERE viewname = 'call_log'"):
        out = psql(sql, flags=("-At",)).strip()
        eq(out.split(None, 1)[0].upper() in ("SELECT", "WITH"), True, f"{sql} starts with the query: {out[:80]!r}")
        assert "FROM cdrs" in out and "\n--" not in out.split("SELECT", 1)[0], out[:200]


@test
def df_lists_functions():
    rows = {r[1]: r for r in table_rows(psql("\\df"))}
    for f in ("billable_seconds", "call_status", "sip_reason", "call_charge", "tenant_local_time"):
        assert f in rows, (f, sorted(rows))
    eq(rows["call_charge"][2:4], ["numeric", "billed_s bigint, rate_per_min numeric, connect_fee numeric"],
       "call_charge result and arguments")
    eq(rows["sip_reason"][0], "public", "schema")


@test
def df_call_status_has_spec_argument_types():
    # SPEC 3: call_status(direction, call_type, connect_time, sip_code, hangup_cause), connect_time
    # being the cdrs column (a timestamptz), not anyelement.
    rows = table_rows(psql("\\df call_status"))
    eq(len(rows), 1, "one call_status")
    eq(rows[0][2:4], ["text", "direction text, call_type text, connect_time timestamp with time zone,"
                              " sip_code bigint, hangup_cause text"], "result and argument types")


@test
def df_plus_shows_documentation():
    rows = table_rows(psql("\\df+ call_status"))
    eq(len(rows), 1, "one call_status")
    assert rows[0][-1].startswith("Call-log status"), rows[0][-1]
    doc = psql("SELECT obj_description(p.oid, 'pg_proc') FROM pg_proc p WHERE p.proname = 'sip_reason'",
               flags=("-At",)).strip()
    assert doc and "SIP" in doc, doc


@test
def dt_dv_dn_l_work():
    out = psql("\\dt+", "\\dv+", "\\dn+", "\\l+")
    for word in ("cdrs", "call_log", "public", "cdr"):
        assert word in out, word


@test
def copy_count_matches_select():
    n = psql("SELECT count(*) FROM cdrs WHERE tenant = 'tracking'").split()[-3]
    with tempfile.TemporaryDirectory() as d:
        out = psql(f"\\copy (SELECT call_id, start_time FROM cdrs WHERE tenant = 'tracking') "
                   f"to '{d}/t.csv' with (format csv, header)", quiet=False)
        eq(out.strip(), f"COPY {n}", "psql's COPY n")
        with open(f"{d}/t.csv", "rb") as f:
            lines = f.read().split(b"\n")
    eq(lines[0], b"call_id,start_time", "header")
    eq(len(lines) - 2, int(n), "rows (plus header and final newline)")
    assert lines[1].endswith(b"+00"), lines[1]  # timestamptz in the session's zone (UTC)


# Values whose spelling PostgreSQL pins down: NULL vs '', quoting, t/f, numeric scale, floats.
VALUES = ("(VALUES (1, 'a,b', NULL::text, ''::text, true, 1.50::numeric(10,2), {ts}, 0.1::float8,"
          " 1e16::float8, 'say \"hi\"', 'back\\slash', -0.5::float8, DATE '2026-01-31')) "
          "t(a,b,c,d,e,f,g,h,i,j,k,l,m)")
TS_PLAIN = "'2026-11-01 10:00:00.25'::timestamp"
TS_TZ = "'2026-11-01 10:00:00+00'::timestamptz"


def copy_both(query, options):
    """\\copy (query) to a file via cdrlake and via PostgreSQL 15; returns both files' bytes."""
    if not REF_PORT:
        raise Skip("no reference PostgreSQL (PGREF_PORT unset)")
    out = []
    with tempfile.TemporaryDirectory() as d:
        for name, port, user, db in (("cdrlake", PORT, "admin", DB), ("pg15", REF_PORT, REF_USER, "postgres")):
            psql(f"\\copy (SELECT * FROM {query}) to '{d}/{name}' with ({options})", user=user, port=port, db=db)
            with open(f"{d}/{name}", "rb") as f:
                out.append(f.read())
    return out


@test
def copy_csv_bytes_like_postgres():
    ours, ref = copy_both(VALUES.format(ts=TS_PLAIN), "format csv, header")
    eq(ours, ref, "CSV bytes")


@test
def copy_text_bytes_like_postgres():
    ours, ref = copy_both(VALUES.format(ts=TS_PLAIN), "format text")
    eq(ours, ref, "text bytes")


@test
def copy_csv_options_like_postgres():
    ours, ref = copy_both(VALUES.format(ts=TS_PLAIN), "format csv, header, delimiter ';', null 'NULL'")
    eq(ours, ref, "CSV with DELIMITER and NULL")


@test
def copy_timestamptz_literal_like_postgres():
    ours, ref = copy_both(VALUES.format(ts=TS_TZ), "format csv, header")
    eq(ours, ref, "CSV bytes with a timestamptz literal")


def select_both(*commands):
    """The same commands through psql -At against cdrlake and PostgreSQL 15."""
    if not REF_PORT:
        raise Skip("no reference PostgreSQL (PGREF_PORT unset)")
    return (psql(*commands, port=PORT, db=DB, flags=("-At",)),
            psql(*commands, user=REF_USER, port=REF_PORT, db="postgres", flags=("-At",)))


@test
def select_numbers_like_postgres():
    ours, ref = select_both("SELECT 1.50::numeric(10,2) AS a, 0.1::float8 AS b, 42::int8 AS c, true AS d,"
                            " DATE '2026-01-31' AS e, ''::text AS f, NULL::text AS g")
    eq(ours, ref, "text results")


@test
def select_floats_like_postgres():
    ours, ref = select_both("SELECT 'Infinity'::float8 AS a, 1e16::float8 AS b, '-Infinity'::float8 AS c,"
                            " 'NaN'::float8 AS d, 0.1::float4 AS e")
    eq(ours, ref, "float text results")
    # ::text goes through the same spelling as a text result.
    ours, ref = select_both("SELECT 'Infinity'::float8::text AS a, 1e16::float8::text AS b,"
                            " '-Infinity'::float8::text AS c, 'NaN'::float8::text AS d, 2.5::float8::text AS e")
    eq(ours, ref, "float ::text")


@test
def select_timestamptz_like_postgres():
    sql = ("SELECT x AS a, x::text AS b FROM (SELECT TIMESTAMPTZ '2026-10-02 00:56:32+00' AS x) t")
    ours, ref = select_both("SET TimeZone = 'Europe/Berlin'", sql)
    eq(ours, ref, "timestamptz text results in Europe/Berlin")
    ours, ref = select_both(sql.replace("32+00", "32.25+00"))
    eq(ours, ref, "timestamptz with a fraction in UTC (no trailing zeros)")


@test
def copy_honours_timezone():
    # COPY output follows the session TimeZone, as in PostgreSQL (start_time is a real timestamptz).
    sql = "SELECT start_time FROM cdrs ORDER BY call_id LIMIT 1"
    utc = psql(f"COPY ({sql}) TO STDOUT").strip()
    berlin = psql("SET TimeZone = 'Europe/Berlin'", f"COPY ({sql}) TO STDOUT").strip()
    assert utc.endswith("+00") and berlin[-3:] in ("+01", "+02"), (utc, berlin)
    eq(ref_shift(utc, berlin), True, "same instant")


@test
def select_column_like_copy():
    # A stored timestamptz in a text result must read as COPY writes it (which matches PostgreSQL).
    sql = "SELECT start_time FROM cdrs ORDER BY call_id LIMIT 1"
    for tz in ("UTC", "Europe/Berlin"):
        copied = psql(f"SET TimeZone = '{tz}'", f"COPY ({sql}) TO STDOUT").strip()
        selected = psql(f"SET TimeZone = '{tz}'", sql, flags=("-At",)).strip()
        eq(selected, copied, f"SELECT vs COPY in {tz}")
        as_text = psql(f"SET TimeZone = '{tz}'", sql.replace("start_time", "start_time::text"),
                       flags=("-At",)).strip()
        eq(as_text, copied, f"::text vs COPY in {tz}")


def ref_shift(utc, local):
    import datetime
    parse = lambda s: datetime.datetime.strptime(s + "00", "%Y-%m-%d %H:%M:%S%z")
    return parse(utc) == parse(local)


@test
def show_timezone():
    eq(psql("SHOW TimeZone").split()[-3:], ["UTC", "(1", "row)"], "SHOW TimeZone")


if __name__ == "__main__":
    run()
