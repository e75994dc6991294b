"""asyncpg: extended protocol with typed binary parameters, prepared statements, COPY, pools."""

import asyncio
import datetime
import decimal
import functools
import io

import asyncpg

from common import HOST, PORT, DB, eq, raises_sqlstate, run, test


def connect(user="admin", password=None):
    return asyncpg.connect(host=HOST, port=PORT, database=DB, user=user,
                           password=user if password is None else password)


def async_test(fn):
    """Registers an async test function, run on its own event loop."""
    @functools.wraps(fn)
    def wrapper():
        asyncio.run(asyncio.wait_for(fn(), 60))
    return test(wrapper)


@async_test
async def wrong_password_28p01():
    with raises_sqlstate("28P01"):
        await connect("analyst", password="wrong")


@async_test
async def fetch_typed_params():
    conn = await connect()
    try:
        since = datetime.datetime(2000, 1, 1, tzinfo=datetime.timezone.utc)
        n = await conn.fetchval(
            "SELECT count(*) FROM cdrs WHERE tenant = $1 AND duration_s >= $2 AND start_time >= $3",
            "cruise", 0, since)
        n_lit = await conn.fetchval("SELECT count(*) FROM cdrs WHERE tenant = 'cruise'")
        eq(n, n_lit, "typed params vs literal")
        row = await conn.fetchrow(
            "SELECT call_id, start_time, duration_s, charge FROM cdrs"
            " WHERE charge IS NOT NULL AND tenant = $1 ORDER BY call_id LIMIT 1", "cruise")
        assert isinstance(row["start_time"], datetime.datetime) and row["start_time"].tzinfo, row
        assert isinstance(row["charge"], decimal.Decimal) and isinstance(row["duration_s"], int), row
        same = await conn.fetchval("SELECT count(*) FROM cdrs WHERE call_id = $1 AND tenant = $2",
                                   row["call_id"], "cruise")
        eq(same, 1, "look-up by bound call_id")
        got = await conn.fetchrow("SELECT $1::int8 AS a, $2::numeric AS b, $3::bool AS c, $4::text AS d",
                                  2**40, decimal.Decimal("12.345678"), False, None)
        eq(tuple(got), (2**40, decimal.Decimal("12.345678"), False, None), "round-trip")
    finally:
        await conn.close()


@async_test
async def prepared_statement_reuse():
    conn = await connect()
    try:
        stmt = await conn.prepare("SELECT count(*) AS n FROM cdrs WHERE tenant = $1")
        eq([a.name for a in stmt.get_attributes()], ["n"], "result column name")
        eq([p.name for p in stmt.get_parameters()], ["text"], "parameter type")
        total = 0
        for tenant in ("cruise", "pbx", "tracking", "contact", "carrier") * 2:
            total += await stmt.fetchval(tenant)
        eq(total, 2 * await conn.fetchval("SELECT count(*) FROM cdrs"), "sum of per-tenant counts")
    finally:
        await conn.close()


@async_test
async def prepared_statement_reuse_unnamed_count():
    # Same as above without naming the column: PostgreSQL calls count(*) "count".
    conn = await connect()
    try:
        stmt = await conn.prepare("SELECT count(*) FROM cdrs")
        eq([a.name for a in stmt.get_attributes()], ["count"], "count(*) column name")
    finally:
        await conn.close()


@async_test
async def array_result():
    # int8[] and text[] are not among asyncpg's core codecs: it introspects each type with its
    # pg_type query (INTRO_LOOKUP_TYPES: $1::oid[], a recursive CTE, ::regtype::text) first.
    conn = await connect()
    try:
        eq(await conn.fetchval("SELECT ARRAY[1, 2, 3] AS a"), [1, 2, 3], "int8[]")
        eq(await conn.fetchval("SELECT ARRAY['a', NULL, 'c'] AS a"), ["a", None, "c"], "text[]")
        rows = await conn.fetch("SELECT destination FROM cdrs WHERE tenant = 'pbx'"
                                " ORDER BY call_id LIMIT 5")
        agg = await conn.fetchval(
            "SELECT array_agg(destination ORDER BY call_id) FROM"
            " (SELECT call_id, destination FROM cdrs WHERE tenant = $1 ORDER BY call_id LIMIT 5) AS d",
            "pbx")
        eq(agg, [r["destination"] for r in rows], "array_agg of a column")
        eq(len(agg), 5, "array length")
        # The introspection rewrite assumes no domain is over another domain.
        eq(await conn.fetchval(
            "SELECT count(*) FROM pg_catalog.pg_type d JOIN pg_catalog.pg_type b"
            " ON d.typbasetype = b.oid WHERE d.typtype = 'd' AND b.typtype = 'd'"), 0,
            "domains over domains in pg_type")
    finally:
        await conn.close()


@async_test
async def numeric_zero_keeps_scale():
    # asyncpg reads results in binary: a numeric(18,6) zero is 0.000000, as PostgreSQL 15 sends
    # it (display scale 6), not 0.
    conn = await connect()
    try:
        row = await conn.fetchrow("SELECT 0::numeric(18,6) AS a, 0.00::numeric(10,2) AS b,"
                                  " -0.5::numeric(10,3) AS c")
        eq([str(v) for v in row], ["0.000000", "0.00", "-0.500"], "numeric zeros and scales")
        charge = await conn.fetchval("SELECT charge FROM cdrs WHERE charge = 0 LIMIT 1")
        eq(str(charge), "0.000000", "a stored zero charge")
    finally:
        await conn.close()


@async_test
async def introspection_describes_oid_array():
    # PostgreSQL describes $1::oid[] as oid[] (asyncpg has a core codec for it, not for int4[]).
    conn = await connect()
    try:
        stmt = await conn.prepare("SELECT typname FROM pg_catalog.pg_type"
                                  " WHERE oid = any($1::oid[]) ORDER BY typname")
        eq([p.name for p in stmt.get_parameters()], ["oid[]"], "parameter type")
        eq([r[0] for r in await stmt.fetch([23, 1016])], ["_int8", "int4"], "rows by oid")
        eq(await conn.fetchval("SELECT 1016::regtype::text"), "bigint[]", "regtype as text")
    finally:
        await conn.close()


@async_test
async def copy_from_query_csv():
    conn = await connect()
    try:
        n = await conn.fetchval("SELECT count(*) FROM cdrs WHERE tenant = 'contact'")
        buf = io.BytesIO()
        status = await conn.copy_from_query(
            "SELECT call_id, agent FROM cdrs WHERE tenant = 'contact'",
            output=buf, format="csv", header=True)
        eq(status, f"COPY {n}", "status tag")
        lines = buf.getvalue().decode().splitlines()
        eq(lines[0], "call_id,agent", "header")
        eq(len(lines) - 1, n, "rows")
    finally:
        await conn.close()


@async_test
async def copy_from_query_with_args():
    # With arguments asyncpg first asks the server to quote them: SELECT quote_literal($1).
    conn = await connect()
    try:
        n = await conn.fetchval("SELECT count(*) FROM cdrs WHERE tenant = 'contact'")
        buf = io.BytesIO()
        status = await conn.copy_from_query(
            "SELECT call_id FROM cdrs WHERE tenant = $1", "contact", output=buf, format="csv")
        eq(status, f"COPY {n}", "status tag")
        eq(len(buf.getvalue().decode().splitlines()), n, "rows")
    finally:
        await conn.close()


@async_test
async def pool_acquire_release():
    # Release runs the reset query (pg_advisory_unlock_all, CLOSE ALL, UNLISTEN *, RESET ALL).
    pool = await asyncpg.create_pool(host=HOST, port=PORT, database=DB, user="analyst",
                                     password="analyst", min_size=1, max_size=2)
    try:
        for i in range(4):
            async with pool.acquire() as conn:
                await conn.execute("SET application_name = 'pooled'")
                eq(await conn.fetchval("SELECT $1::int + 1", i), i + 1, "query on pooled connection")
        a, b = await asyncio.gather(*(pool.fetchval("SELECT count(*) FROM rates") for _ in range(2)))
        eq(a, b, "concurrent pool queries")
    finally:
        await pool.close()


if __name__ == "__main__":
    run()
