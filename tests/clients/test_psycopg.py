"""psycopg 3: SCRAM, server-side binding, binary results, COPY TO STDOUT, SQLSTATEs, cancel."""

import datetime
import os
import decimal
import subprocess
import tempfile
import threading
import time

import psycopg

from common import HOST, REF_PORT, REF_USER, Skip, eq, params, raises_sqlstate, run, test

# A query that runs for seconds on the demo data (a cross join aggregated), for cancel/timeout.
HEAVY = "SELECT count(*) FROM cdrs a, cdrs b WHERE a.duration_s + b.duration_s = 12345"


def connect(user="admin", **kw):
    return psycopg.connect(**params(user, **kw), autocommit=True)


@test
def scram_connect_and_version():
    with connect() as conn:
        # psycopg 3 negotiates SCRAM-SHA-256 with a password; check what the server says it is.
        eq(conn.info.server_version // 10000, 16, "server_version major")
        (v,) = conn.execute("SELECT version()").fetchone()
        assert v.startswith("PostgreSQL 16."), v
        eq(conn.execute("SHOW server_version_num").fetchone()[0][:2], "16", "server_version_num")
        eq(conn.execute("SELECT current_database()").fetchone()[0], "cdr", "database")


@test
def parameters_server_side():
    with connect() as conn:
        (total,) = conn.execute("SELECT count(*) FROM cdrs").fetchone()
        (inb,) = conn.execute(
            "SELECT count(*) FROM cdrs WHERE direction = %s AND duration_s >= %s", ["inbound", 0]
        ).fetchone()
        (inb_lit,) = conn.execute(
            "SELECT count(*) FROM cdrs WHERE direction = 'inbound' AND duration_s >= 0"
        ).fetchone()
        eq(inb, inb_lit, "bound vs literal count")
        assert 0 < inb < total, (inb, total)
        # A NULL parameter must not shift the parameters after it.
        row = conn.execute("SELECT %s::text AS a, %s::int AS b, %s::text AS c", [None, 7, "x"]).fetchone()
        eq(row, (None, 7, "x"), "NULL before non-null")


@test
def data_queries_keep_their_names_and_subqueries():
    # A t.* beside another table's column, sorted and filtered by that column unqualified; a
    # correlated subquery with a parameter in the select list (datafusion-pg-catalog's catalog
    # rewrites once made the first fail and the second NULL). Both protocols.
    join = (
        "SELECT c.*, r.amount FROM cdrs c JOIN refunds r ON r.call_id = c.call_id"
        " WHERE amount > 0 ORDER BY amount, r.call_id LIMIT 1"
    )
    least = "SELECT min(amount) FROM refunds r JOIN cdrs c ON r.call_id = c.call_id WHERE amount > 0"
    counted = (
        "SELECT t.tenant, (SELECT count(*) FROM cdrs c WHERE c.tenant = t.tenant"
        " AND c.duration_s >= %s) FROM (SELECT DISTINCT tenant FROM cdrs) t ORDER BY 1"
    )
    grouped = "SELECT tenant, count(*) FROM cdrs WHERE duration_s >= 0 GROUP BY 1 ORDER BY 1"
    with connect() as conn:
        (expected,) = conn.execute(least).fetchone()
        assert expected is not None, "the demo data has refunds"
        eq(conn.execute(join).fetchone()[-1], expected, "extended protocol")
        eq(conn.execute(counted, (0,)).fetchall(), conn.execute(grouped).fetchall(), counted)
        raw = conn.pgconn.exec_(join.encode())
        eq(raw.get_value(0, raw.nfields - 1).decode(), str(expected), "simple protocol")


@test
def untyped_null_parameter():
    # psycopg binds None with type OID 0 (unknown); the server must still see two parameters.
    with connect() as conn:
        row = conn.execute("SELECT %s AS a, %s AS b", [None, "y"]).fetchone()
        eq(row, (None, "y"), "untyped NULL before non-null")


@test
def binary_cursor():
    with connect() as conn:
        cur = conn.cursor(binary=True)
        cur.execute(
            "SELECT call_id, start_time, duration_s, charge FROM cdrs"
            " WHERE charge IS NOT NULL ORDER BY call_id LIMIT 5"
        )
        rows = cur.fetchall()
        eq(cur.pgresult.fformat(0), 1, "binary result format")
        text_rows = conn.execute(
            "SELECT call_id, start_time, duration_s, charge FROM cdrs"
            " WHERE charge IS NOT NULL ORDER BY call_id LIMIT 5"
        ).fetchall()
        eq(len(rows), 5, "rows")
        eq(rows, text_rows, "binary == text decoding")
        cid, start, dur, charge = rows[0]
        assert isinstance(start, datetime.datetime) and start.tzinfo is not None, start
        assert isinstance(dur, int) and isinstance(charge, decimal.Decimal), rows[0]
        row = cur.execute(
            "SELECT 1::int2 AS a, 2::int4 AS b, 3::int8 AS c, 1.5::float8 AS d, true AS e, 'txt' AS f,"
            " 1.50::numeric(10,2) AS g, DATE '2026-01-31' AS h"
        ).fetchone()
        eq(
            row,
            (1, 2, 3, 1.5, True, "txt", decimal.Decimal("1.50"), datetime.date(2026, 1, 31)),
            "binary literals",
        )


@test
def numeric_keeps_scale():
    # PostgreSQL's unconstrained numeric keeps the scale of its value, in text and binary.
    with connect() as conn:
        for binary in (False, True):
            cur = conn.cursor(binary=binary)
            row = cur.execute(
                "SELECT 1.50::numeric AS a, %s::numeric AS b, 5::numeric AS c, '2.500'::numeric AS d",
                [decimal.Decimal("12.50")],
            ).fetchone()
            eq([str(v) for v in row], ["1.50", "12.50", "5", "2.500"], f"binary={binary}")
            (charge,) = cur.execute("SELECT charge FROM cdrs WHERE charge > 0 LIMIT 1").fetchone()
            eq(-charge.as_tuple().exponent, 6, f"numeric(18,6) column scale, binary={binary}")


@test
def copy_csv_header():
    with connect() as conn:
        (n,) = conn.execute("SELECT count(*) FROM cdrs WHERE tenant = 'pbx'").fetchone()
        data = bytearray()
        with conn.cursor() as cur:
            with cur.copy(
                "COPY (SELECT call_id, tenant, duration_s FROM cdrs WHERE tenant = 'pbx')"
                " TO STDOUT WITH (FORMAT csv, HEADER)"
            ) as copy:
                for chunk in copy:
                    data += chunk
            eq(cur.rowcount, n, "COPY n tag (header excluded)")
        lines = bytes(data).decode().splitlines()
        eq(lines[0], "call_id,tenant,duration_s", "header")
        eq(len(lines) - 1, n, "rows vs count(*)")
        assert all(line.split(",")[1] == "pbx" for line in lines[1:])


@test
def copy_rows_per_message():
    # psycopg's copy.rows() parses one CopyData message as one row.
    with connect() as conn, conn.cursor() as cur:
        with cur.copy("COPY (SELECT 1 AS a, 'x' AS b UNION ALL SELECT 2, NULL) TO STDOUT") as copy:
            rows = sorted(copy.rows())
        eq(rows, [("1", "x"), ("2", None)], "copy.rows()")


@test
def server_side_cursor_describe():
    # psycopg's conn.cursor(name=...) sends DECLARE, then Describe(portal) to learn the columns,
    # then FETCH FORWARD n. While the server answers that Describe with NoData, psycopg builds
    # no loaders and then crashes the Python process with SIGSEGV on the first FETCH, so this
    # checks the Describe at the libpq level instead of calling the crashing API.
    with psycopg.connect(**params()) as conn:
        pg = conn.pgconn
        eq(pg.exec_(b"BEGIN").status, psycopg.pq.ExecStatus.COMMAND_OK, "BEGIN")
        r = pg.exec_(b'DECLARE "c1" CURSOR FOR SELECT call_id, duration_s FROM cdrs LIMIT 3')
        eq(r.command_status, b"DECLARE CURSOR", "DECLARE tag")
        r = pg.exec_(b'FETCH FORWARD 2 FROM "c1"')
        eq((r.nfields, r.ntuples), (2, 2), "FETCH shape")
        r = pg.describe_portal(b"c1")
        eq(r.nfields, 2, "columns described for the cursor")
        eq([r.fname(i) for i in range(r.nfields)], [b"call_id", b"duration_s"], "column names")


@test
def named_cursor():
    # The real API on top of the Describe above: DECLARE, Describe(portal), FETCH FORWARD n.
    with psycopg.connect(**params()) as conn:
        expected = conn.execute("SELECT call_id, duration_s FROM cdrs ORDER BY call_id LIMIT 7").fetchall()
        with conn.cursor(name="calls") as cur:
            cur.itersize = 3
            cur.execute("SELECT call_id, duration_s FROM cdrs ORDER BY call_id LIMIT 7")
            eq([d.name for d in cur.description], ["call_id", "duration_s"], "description")
            first = cur.fetchmany(2)
            rest = list(cur)
        eq(first + rest, expected, "rows through the named cursor")
        assert isinstance(rest[0][1], int), rest[0]


@test
def disconnect_mid_copy():
    # A client that goes away in the middle of a large COPY must not hurt the server.
    conn = connect()
    try:
        with conn.cursor() as cur, cur.copy(
            "COPY (SELECT a.call_id FROM cdrs a CROSS JOIN (SELECT 1 FROM cdrs LIMIT 50) b) TO STDOUT"
        ) as copy:
            for i, _ in enumerate(copy):
                if i == 10:
                    os.close(conn.pgconn.socket)  # drop the TCP connection, no Terminate
    except psycopg.Error:
        pass
    with connect() as other:
        eq(other.execute("SELECT count(*) > 0 FROM cdrs").fetchone(), (True,), "server still serves")


@test
def binary_copy_from_loads_through_ingest():
    # psycopg's binary COPY writer: typed rows, NULLs, numeric scale, instants; the bad row is
    # rejected with its line (tuple number + 1 for the header), the good ones stored. The call
    # IDs sort after the demo's, which other tests read first rows of.
    cols = "call_id, tenant, direction, start_time, connect_time, end_time, duration_s,"
    cols += " source, destination, sip_code, hangup_cause, charge, currency"
    types = ["text", "text", "text", "timestamptz", "timestamptz", "timestamptz", "int4",
             "text", "text", "int4", "text", "numeric", "text"]
    t0 = datetime.datetime(2026, 11, 2, 23, 30, 5, 250000, tzinfo=datetime.timezone.utc)
    second = datetime.timedelta(seconds=1)
    rows = [
        ("zz-binary-copy-1", "pbx", "outbound", t0, t0 + 5 * second, t0 + 65 * second, 60,
         "+31201234567", "+31612345678", 200, "normal", decimal.Decimal("0.123456"), "EUR"),
        ("zz-binary-copy-2", "pbx", "inbound", t0, None, t0 + 30 * second, 0,
         "+31612345678", "+31201234567", 486, None, None, None),
        ("zz-binary-copy-3", "pbx", "sideways", t0, None, t0, 0, "1", "2", 486, None, None, None),
    ]
    with connect() as conn:
        with conn.cursor().copy(f"COPY cdrs ({cols}) FROM STDIN (FORMAT binary)") as copy:
            copy.set_types(types)
            for row in rows:
                copy.write_row(row)
        got = conn.execute(
            "SELECT call_id, start_time, connect_time, duration_s, sip_code, charge, currency"
            " FROM cdrs WHERE call_id LIKE 'zz-binary-copy-%' ORDER BY call_id").fetchall()
        eq(got, [(r[0], r[3], r[4], r[6], r[9], r[11], r[12]) for r in rows[:2]], "stored rows")
        rejected = conn.execute(
            "SELECT line, reason LIKE '%direction%' FROM ingest_rejects"
            " WHERE raw LIKE '%zz-binary-copy-3%'").fetchall()
        eq(rejected, [(4, True)], "the rejected row and its line")
        # Data that is not a binary copy file: 22P04, nothing stored.
        with raises_sqlstate("22P04"):
            with conn.cursor().copy("COPY cdrs (call_id) FROM STDIN (FORMAT binary)") as copy:
                copy.write(b"call_id\nx\n")


@test
def session_state_per_connection():
    with connect() as a, connect() as b:
        a.execute("SET TimeZone = 'Asia/Tokyo'")
        a.execute("SET application_name = 'conn_a'")
        eq(a.execute("SHOW TimeZone").fetchone()[0], "Asia/Tokyo", "a's zone")
        assert b.execute("SHOW TimeZone").fetchone()[0] != "Asia/Tokyo", "SET leaked to another connection"
        eq(b.execute("SHOW application_name").fetchone()[0] != "conn_a", True, "application_name leaked")


@test
def now_is_timestamptz():
    with connect() as conn:
        cur = conn.execute("SELECT now() AS a, '2026-11-01 10:00:00+00'::timestamptz AS b")
        eq([d.type_code for d in cur.description], [1184, 1184], "type OIDs")


@test
def wrong_password():
    # libpq reports a failed login without a PGresult, so psycopg has no SQLSTATE here:
    # test_asyncpg.py checks the 28P01 code; here the message and that nothing was admitted.
    try:
        psycopg.connect(**params("analyst", password="wrong"))
    except psycopg.OperationalError as e:
        assert "password authentication failed" in str(e).lower(), e
    else:
        raise AssertionError("a wrong password was accepted")


CANONICAL_HEADER = ("call_id,tenant,direction,start_time,connect_time,end_time,duration_s,source,"
                    "destination,sip_code,hangup_cause,cabin,charge,currency")


def serve_with_user(name, password_or_verifier, workdir):
    """A second cdrlake server over a two-call store, with one [[users]] entry; returns
    (process, port)."""
    binary = os.environ.get("CDRLAKE_SERVER_BIN")
    if not binary:
        raise Skip("CDRLAKE_SERVER_BIN unset (run through tests/clients/run.sh)")
    store = os.path.join(workdir, "store")
    calls = os.path.join(workdir, "calls.csv")
    with open(calls, "w") as f:
        f.write(CANONICAL_HEADER + "\n")
        for i in (1, 2):
            f.write(f"v-{i},acme,outbound,2026-11-02T08:0{i}:00Z,,2026-11-02T08:0{i}:30Z,30,"
                    "+31201234567,+31612345678,200,normal,,,\n")
    subprocess.run([binary, "--data", store, "ingest", calls], check=True, capture_output=True)
    config = os.path.join(workdir, "cdrlake.toml")
    with open(config, "w") as f:
        f.write(f'[[users]]\nname = "{name}"\npassword = "{password_or_verifier}"\nrole = "analyst"\n')
    proc = subprocess.Popen([binary, "--data", store, "--config", config, "serve", "--listen", f"{HOST}:0"],
                            stderr=subprocess.PIPE, text=True)
    for line in proc.stderr:
        if f" on {HOST}:" in line:
            port = int(line.split(f" on {HOST}:")[1].split()[0])
            threading.Thread(target=lambda: [None for _ in proc.stderr], daemon=True).start()
            return proc, port
    raise AssertionError(f"the server did not start (exit {proc.wait()})")


@test
def postgres15_scram_verifier_in_config():
    # A verifier made by the real PostgreSQL 15 (CREATE ROLE … PASSWORD, read back from
    # pg_authid) in [[users]] password: psycopg logs in with that password, and only with it.
    if not REF_PORT:
        raise Skip("no reference PostgreSQL (PGREF_PORT unset)")
    with psycopg.connect(host=HOST, port=REF_PORT, user=REF_USER, dbname="postgres", autocommit=True) as ref:
        ref.execute("SET password_encryption = 'scram-sha-256'")
        ref.execute("DROP ROLE IF EXISTS vera")
        ref.execute("CREATE ROLE vera LOGIN PASSWORD 'pg15 s3cret'")
        (verifier,) = ref.execute("SELECT rolpassword FROM pg_authid WHERE rolname = 'vera'").fetchone()
    assert verifier.startswith("SCRAM-SHA-256$4096:"), verifier
    with tempfile.TemporaryDirectory() as workdir:
        proc, port = serve_with_user("vera", verifier, workdir)
        try:
            login = dict(host=HOST, port=port, dbname="cdr", user="vera")
            with psycopg.connect(**login, password="pg15 s3cret") as conn:
                eq(conn.execute("SELECT count(*) FROM cdrs").fetchone(), (2,), "rows as vera")
            try:
                psycopg.connect(**login, password="pg15 secret")
            except psycopg.OperationalError as e:
                assert "password authentication failed" in str(e).lower(), e
            else:
                raise AssertionError("a wrong password was accepted")
        finally:
            proc.terminate()
            proc.wait(30)


@test
def unknown_table():
    with connect() as conn, raises_sqlstate("42P01"):
        conn.execute("SELECT * FROM no_such_table")


@test
def analyst_cannot_create():
    with connect("analyst") as conn, raises_sqlstate("42501"):
        conn.execute("CREATE TABLE t_denied (a int)")
    with connect("analyst") as conn:  # and reading still works
        assert conn.execute("SELECT count(*) FROM cdrs").fetchone()[0] > 0


@test
def temp_tables_belong_to_their_connection():
    with connect("analyst") as mine, connect("analyst") as other, connect("cruise") as cruise:
        # Tableau's set filter: a temporary table, filled, joined with the CDRs.
        mine.execute('CREATE LOCAL TEMPORARY TABLE "#Tableau_1_Filter" ("X" TEXT)'
                     " ON COMMIT PRESERVE ROWS")
        mine.execute("""INSERT INTO "#Tableau_1_Filter" ("X") VALUES ('carrier'), ('pbx')""")
        joined = mine.execute('SELECT c.tenant, count(*) FROM cdrs c JOIN "#Tableau_1_Filter" f'
                              ' ON c.tenant = f."X" GROUP BY 1 ORDER BY 1').fetchall()
        direct = mine.execute("SELECT tenant, count(*) FROM cdrs WHERE tenant IN ('carrier', 'pbx')"
                              " GROUP BY 1 ORDER BY 1").fetchall()
        eq(joined, direct, "join with a temporary table")
        assert len(joined) == 2, joined
        # Another connection does not see it.
        with raises_sqlstate("42P01"):
            other.execute('SELECT * FROM "#Tableau_1_Filter"')
        # An analyst's intermediate result, also under pg_temp, found before a stored table.
        created = mine.execute("CREATE TEMP TABLE per_tenant AS SELECT tenant, count(*) AS n"
                               " FROM cdrs GROUP BY 1")
        tenants = mine.execute("SELECT count(DISTINCT tenant) FROM cdrs").fetchone()[0]
        # PostgreSQL's tag for CREATE TABLE AS: SELECT and the rows.
        eq((created.statusmessage, created.rowcount), (f"SELECT {tenants}", tenants), "CTAS tag")
        eq(mine.execute("SELECT sum(n) FROM pg_temp.per_tenant").fetchone()[0],
           mine.execute("SELECT count(*) FROM cdrs").fetchone()[0], "CTAS rows")
        mine.execute("CREATE TEMP TABLE rates AS SELECT 1 AS shadow")
        eq(mine.execute("SELECT * FROM rates").fetchall(), [(1,)], "temporary rates first")
        eq(other.execute("SELECT count(*) > 1 FROM rates").fetchone()[0], True, "stored rates")
        mine.execute('DROP TABLE "#Tableau_1_Filter"')
        with raises_sqlstate("42P01"):
            mine.execute('SELECT * FROM "#Tableau_1_Filter"')
        # Stored tables stay out of an analyst's reach.
        with raises_sqlstate("42501"):
            mine.execute("CREATE TABLE t_denied (a int)")
        with raises_sqlstate("42501"):
            mine.execute("DROP TABLE rates_x")
        # A script's DROP TABLE IF EXISTS before its CREATE TEMP TABLE: nothing to drop is fine,
        # a stored table is not the analyst's to drop.
        mine.execute("DROP TABLE IF EXISTS nothing_here")
        with raises_sqlstate("42501"):
            mine.execute("DROP TABLE IF EXISTS billing_events")
        # DISCARD PLANS keeps them; DISCARD ALL (connection pools) drops them: the stored
        # rates are back.
        eq(mine.execute("DISCARD PLANS").statusmessage, "DISCARD PLANS", "tag")
        eq(mine.execute("SELECT * FROM rates").fetchall(), [(1,)], "after DISCARD PLANS")
        eq(mine.execute("DISCARD ALL").statusmessage, "DISCARD ALL", "tag")
        eq(mine.execute("SELECT count(*) > 1 FROM rates").fetchone()[0], True, "after DISCARD")
        with raises_sqlstate("42P01"):
            mine.execute("SELECT * FROM per_tenant")
        # A tenant-bound user fills a temporary table through its tenant filter.
        cruise.execute("CREATE TEMP TABLE mine AS SELECT tenant, count(*) AS n FROM cdrs GROUP BY 1")
        eq([t for t, _ in cruise.execute("SELECT * FROM mine").fetchall()], ["cruise"], "cruise")


@test
def statement_timeout():
    with connect() as conn:
        conn.execute("SET statement_timeout = '50ms'")
        t0 = time.monotonic()
        with raises_sqlstate("57014"):
            conn.execute(HEAVY)
        assert time.monotonic() - t0 < 10, "timeout did not stop execution promptly"
        conn.execute("SET statement_timeout = 0")
        eq(conn.execute("SELECT 1").fetchone(), (1,), "usable after timeout")


@test
def cancel_running_query():
    with connect() as conn:
        timer = threading.Timer(0.5, conn.cancel)
        timer.start()
        t0 = time.monotonic()
        try:
            with raises_sqlstate("57014"):
                conn.execute(HEAVY)
        finally:
            timer.cancel()
        assert time.monotonic() - t0 < 10, "cancel did not stop execution promptly"
        eq(conn.execute("SELECT 2").fetchone(), (2,), "usable after cancel")


if __name__ == "__main__":
    run()
