"""ADBC (Arrow Database Connectivity, the PostgreSQL driver Polars and pandas read Arrow through):
every result arrives as `COPY (…) TO STDOUT (FORMAT binary)`. Typed columns, compared with
the same query on PostgreSQL 15, and the tenant rule through that path.

ADBC types the columns by `pg_type.typreceive` names when it asks the server (its default
"server" mode), which cdrlake gives as OIDs (Npgsql joins on them); these tests use the
driver's own table of PostgreSQL's built-in types (`type_resolver_mode=builtin`)."""

import adbc_driver_postgresql.dbapi as dbapi

from common import DB, HOST, PORT, REF_PORT, REF_USER, eq, run, test

BUILTIN = {"adbc.postgresql.type_resolver_mode": "builtin"}


def connect(user="admin", port=None, db=None):
    port = port or PORT
    uri = f"postgresql://{user}:{user}@{HOST}:{port}/{db or DB}"
    return dbapi.connect(uri, db_kwargs=BUILTIN)


def table(conn, sql):
    cur = conn.cursor()
    cur.execute(sql)
    result = cur.fetch_arrow_table()
    cur.close()
    return result


TYPED = (
    "SELECT CAST(7 AS INT) AS i, CAST(2 AS BIGINT) AS b, 'héllo' AS t, true AS f,"
    " CAST(NULL AS TEXT) AS n, CAST(1.5 AS DOUBLE PRECISION) AS d,"
    " TIMESTAMPTZ '2026-11-02 23:30:05.123456+00' AS ts, DATE '2026-11-03' AS day,"
    " TIMESTAMP '2026-11-03 00:30:00' AS naive"
)


@test
def typed_columns_as_postgres():
    if not REF_PORT:
        raise AssertionError("PGREF_PORT is not set: run through tests/clients/run.sh")
    with connect() as ours, connect(REF_USER, REF_PORT, "postgres") as ref:
        got, expected = table(ours, TYPED), table(ref, TYPED)
        eq([str(f.type) for f in got.schema], [str(f.type) for f in expected.schema], "Arrow types")
        eq(got.to_pylist(), expected.to_pylist(), "values")


@test
def stored_rows_arrive_typed():
    with connect() as conn:
        got = table(conn, "SELECT tenant, count(*) AS calls, sum(duration_s) AS talk FROM cdrs"
                          " GROUP BY tenant ORDER BY tenant")
        eq(str(got.schema.field("calls").type), "int64", "count(*) type")
        rows = got.to_pylist()
        assert rows and all(r["calls"] > 0 for r in rows), rows
        (total,) = table(conn, "SELECT count(*) AS n FROM cdrs").to_pylist()
        eq(sum(r["calls"] for r in rows), total["n"], "calls per tenant add up")


@test
def a_tenant_bound_user_reads_its_rows_only():
    with connect("cruise") as conn:
        got = table(conn, "SELECT DISTINCT tenant FROM cdrs")
        eq(got.to_pylist(), [{"tenant": "cruise"}], "tenants seen by cruise")


@test
def bulk_ingest_appends_through_binary_copy():
    # adbc_ingest (Polars' write_database, pandas' to_sql through ADBC) sends an Arrow table as
    # COPY … FROM STDIN (FORMAT binary); the rates go through ingest and read back as sent.
    import datetime
    import decimal

    import pyarrow as pa

    valid_from = datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc)
    deck = pa.table({
        "tenant": ["adbc-ingest", "adbc-ingest"],
        "prefix": ["99990", "99991"],
        "rate_per_min": pa.array([decimal.Decimal("0.012300"), decimal.Decimal("1.500000")],
                                 pa.decimal128(18, 6)),
        "min_s": pa.array([60, 1], pa.int32()),
        "increment_s": pa.array([60, 1], pa.int32()),
        "connect_fee": pa.array([decimal.Decimal("0"), decimal.Decimal("0.5")],
                                pa.decimal128(18, 6)),
        "currency": ["EUR", "EUR"],
        "valid_from": pa.array([valid_from, valid_from], pa.timestamp("us", tz="UTC")),
    })
    with connect() as conn:
        cur = conn.cursor()
        eq(cur.adbc_ingest("rates", deck, mode="append"), 2, "rows ingested")
        cur.close()
        conn.commit()
        got = table(conn, "SELECT prefix, rate_per_min, min_s, connect_fee, valid_from FROM rates"
                          " WHERE tenant = 'adbc-ingest' ORDER BY prefix")
        # ADBC reads numeric as its text, from PostgreSQL as from cdrlake.
        eq(got.to_pylist(), [
            {"prefix": "99990", "rate_per_min": "0.012300", "min_s": 60,
             "connect_fee": "0.000000", "valid_from": valid_from},
            {"prefix": "99991", "rate_per_min": "1.500000", "min_s": 1,
             "connect_fee": "0.500000", "valid_from": valid_from},
        ], "rates read back")


if __name__ == "__main__":
    run()
