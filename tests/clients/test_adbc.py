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


if __name__ == "__main__":
    run()
