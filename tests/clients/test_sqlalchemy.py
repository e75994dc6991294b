"""SQLAlchemy 2 (psycopg2 dialect): connect (version parsing, isolation level), reflection."""

import sqlalchemy as sa

from common import eq, run, test, url

_engine = None


def engine():
    global _engine
    if _engine is None:
        _engine = sa.create_engine(url("analyst", driver="postgresql+psycopg2"))
    return _engine


@test
def connect_and_query():
    eng = engine()
    with eng.connect() as conn:  # runs version(), show standard_conforming_strings, isolation level
        eq(eng.dialect.server_version_info[0], 16, "parsed server version")
        n = conn.execute(sa.text("SELECT count(*) AS n FROM cdrs WHERE tenant = :t"), {"t": "pbx"}).scalar_one()
        m = conn.execute(sa.text("SELECT count(*) AS n FROM cdrs WHERE tenant = 'pbx'")).scalar_one()
        eq(n, m, "bound vs literal")
        assert n > 0


@test
def table_names():
    names = sa.inspect(engine()).get_table_names()
    for t in ("cdrs", "refunds", "billing_events", "rates", "ingest_rejects", "settings"):
        assert t in names, (t, names)
    assert "call_log" not in names, names


@test
def view_names():
    names = sa.inspect(engine()).get_view_names()
    for v in ("call_log", "call_records", "call_data_records", "didww_inbound", "didww_outbound"):
        assert v in names, (v, names)


@test
def columns_of_cdrs():
    cols = {c["name"]: c for c in sa.inspect(engine()).get_columns("cdrs")}
    with engine().connect() as conn:
        names = list(conn.execute(sa.text("SELECT * FROM cdrs LIMIT 0")).keys())
    eq(list(cols), names, "the columns of cdrs, in order")
    for name, typ in (("call_id", sa.Text), ("start_time", sa.DateTime), ("duration_s", sa.Integer),
                      ("charge", sa.Numeric)):
        assert isinstance(cols[name]["type"], typ), (name, cols[name]["type"])
    assert cols["start_time"]["type"].timezone, "start_time is timestamp with time zone"
    eq((cols["charge"]["type"].precision, cols["charge"]["type"].scale), (18, 6), "charge numeric(18,6)")
    eq(cols["call_id"]["nullable"], False, "call_id NOT NULL")
    eq(cols["agent"]["nullable"], True, "agent nullable")
    for c in cols.values():
        eq((c.get("identity"), c.get("collation")), (None, None), f"{c['name']}: no identity, default collation")
    # The server folds SQLAlchemy's identity and collation subqueries away on the ground that
    # no cdrlake column has an identity, a generation expression or a collation of its own.
    with engine().connect() as conn:
        seen = conn.execute(sa.text(
            "SELECT DISTINCT attidentity, attgenerated, attcollation FROM pg_catalog.pg_attribute")).all()
    eq([tuple(r) for r in seen], [("", "", 0)], "pg_attribute invariants the reflection rewrite relies on")


@test
def core_select():
    cdrs = sa.table("cdrs", sa.column("tenant"), sa.column("duration_s"))
    q = sa.select(cdrs.c.tenant, sa.func.count().label("n")).group_by(cdrs.c.tenant).order_by(cdrs.c.tenant)
    with engine().connect() as conn:
        rows = conn.execute(q).all()
        total = conn.execute(sa.text("SELECT count(*) AS n FROM cdrs")).scalar_one()
    eq([r.tenant for r in rows], ["carrier", "contact", "cruise", "pbx", "tracking"], "tenants")
    eq(sum(r.n for r in rows), total, "sum of groups")


if __name__ == "__main__":
    run()
