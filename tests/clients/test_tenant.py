"""Tenant isolation: user `cruise` (analyst bound to tenant cruise) reaches no other tenant's rows
by any path, checked through two drivers: psycopg 3 (extended protocol, server-side parameters)
and psycopg2 (simple protocol). Expected numbers come from `admin` on the same server."""

import io

import psycopg
import psycopg2

from common import TENANTS, eq, params, run, test

OTHERS = [t for t in TENANTS if t != "cruise"]

# Each view's rows for tenant cruise, counted by admin with the view's own filter.
VIEWS = {
    "call_log": "SELECT count(*) FROM cdrs WHERE tenant = 'cruise'",
    "call_records": "SELECT count(*) FROM cdrs WHERE tenant = 'cruise'",
    "call_data_records": "SELECT count(*) FROM call_data_records c WHERE EXISTS (SELECT 1 FROM cdrs"
    " x WHERE x.tenant = 'cruise' AND x.source = c.source AND x.destination = c.destination"
    " AND x.duration_s = c.duration AND x.direction = c.direction)",
    "didww_inbound": "SELECT count(*) FROM cdrs WHERE tenant = 'cruise' AND direction = 'inbound'",
    "didww_outbound": "SELECT count(*) FROM cdrs WHERE tenant = 'cruise' AND direction = 'outbound'",
}


class Psycopg3:
    name = "psycopg3"

    def __init__(self, user):
        self.conn = psycopg.connect(**params(user), autocommit=True)

    def rows(self, sql, args=None):
        return self.conn.execute(sql, args).fetchall()

    def copy(self, sql):
        data = bytearray()
        with self.conn.cursor() as cur, cur.copy(sql) as copy:
            for chunk in copy:
                data += chunk
        return bytes(data).decode()


class Psycopg2:
    name = "psycopg2"

    def __init__(self, user):
        self.conn = psycopg2.connect(**params(user))
        self.conn.autocommit = True

    def rows(self, sql, args=None):
        with self.conn.cursor() as cur:
            cur.execute(sql, args)
            return cur.fetchall()

    def copy(self, sql):
        buf = io.StringIO()
        with self.conn.cursor() as cur:
            cur.copy_expert(sql, buf)
        return buf.getvalue()


_admin = None


def admin():
    global _admin
    if _admin is None:
        _admin = Psycopg3("admin")
    return _admin


def scalar(db, sql, args=None):
    return db.rows(sql, args)[0][0]


def for_each_driver(fn):
    """Registers fn(db) once per driver, as test <fn>_<driver>."""
    for cls in (Psycopg3, Psycopg2):
        def t(cls=cls):
            db = cls("cruise")
            try:
                fn(db)
            finally:
                db.conn.close()
        t.__name__ = f"{fn.__name__}_{cls.name}"
        test(t)
    return fn


def cruise_count():
    n = scalar(admin(), "SELECT count(*) FROM cdrs WHERE tenant = 'cruise'")
    assert 0 < n < scalar(admin(), "SELECT count(*) FROM cdrs"), "demo data has several tenants"
    return n


@for_each_driver
def tables(db):
    n = cruise_count()
    eq(scalar(db, "SELECT count(*) FROM cdrs"), n, "count(*) FROM cdrs")
    eq(scalar(db, "SELECT count(*) FROM public.cdrs AS x"), n, "qualified, aliased")
    for table in ("cdrs", "billing_events", "refunds", "rates", "settings", "ingest_rejects"):
        got = sorted(r[0] for r in db.rows(f"SELECT DISTINCT tenant FROM {table}"))
        assert set(got) <= {"cruise"}, (table, got)
    eq(scalar(db, "SELECT count(*) FROM billing_events"),
       scalar(admin(), "SELECT count(*) FROM billing_events WHERE tenant = 'cruise'"), "billing_events")


@for_each_driver
def filters_on_other_tenants(db):
    for t in OTHERS:
        eq(scalar(db, f"SELECT count(*) FROM cdrs WHERE tenant = '{t}'"), 0, f"literal {t}")
        eq(scalar(db, "SELECT count(*) FROM cdrs WHERE tenant = %s", (t,)), 0, f"parameter {t}")
    eq(scalar(db, "SELECT count(*) FROM cdrs WHERE tenant <> 'cruise' OR tenant IS NULL"), 0, "<>")


@for_each_driver
def views(db):
    for view, expected_sql in VIEWS.items():
        expected = scalar(admin(), expected_sql)
        eq(scalar(db, f"SELECT count(*) FROM {view}"), expected, f"view {view}")
        assert expected < scalar(admin(), f"SELECT count(*) FROM {view}"), f"{view} hides nothing?"
    eq(sorted(r[0] for r in db.rows("SELECT DISTINCT tenant FROM call_log")), ["cruise"], "call_log tenants")
    cruise_ids = sorted(r[0] for r in admin().rows("SELECT call_id FROM cdrs WHERE tenant = 'cruise'"))
    eq(sorted(r[0] for r in db.rows("SELECT call_id FROM call_records")), cruise_ids, "call_records ids")


@for_each_driver
def subqueries_and_joins(db):
    pbx = "SELECT call_id FROM cdrs WHERE tenant = 'pbx'"
    eq(scalar(db, f"SELECT count(*) FROM cdrs WHERE call_id IN ({pbx})"), 0, "IN subquery")
    eq(scalar(db, f"SELECT count(*) FROM ({pbx}) s"), 0, "derived table")
    eq(scalar(db, f"WITH p AS ({pbx}) SELECT count(*) FROM p"), 0, "CTE")
    eq(scalar(db, "SELECT count(*) FROM cdrs c WHERE EXISTS (SELECT 1 FROM cdrs o WHERE o.tenant = 'pbx')"),
       0, "EXISTS on another tenant")
    eq(scalar(db, "SELECT (SELECT count(*) FROM cdrs WHERE tenant = 'carrier')"), 0, "scalar subquery")
    rows = db.rows("SELECT DISTINCT b.tenant, c.tenant FROM billing_events b"
                   " FULL OUTER JOIN cdrs c ON b.call_id = c.call_id")
    assert {x for r in rows for x in r} <= {"cruise", None}, rows
    eq(scalar(db, "SELECT count(*) FROM cdrs a JOIN cdrs b ON a.call_id = b.call_id"), cruise_count(),
       "self join")
    eq(scalar(db, "SELECT count(*) FROM (SELECT tenant FROM cdrs UNION ALL SELECT tenant FROM call_log)"
                  " u WHERE tenant <> 'cruise'"), 0, "union")


@for_each_driver
def copy_out(db):
    n = cruise_count()
    text = db.copy("COPY (SELECT tenant, call_id FROM cdrs) TO STDOUT WITH (FORMAT csv, HEADER)")
    lines = text.splitlines()
    eq(len(lines) - 1, n, "COPY (query) rows")
    eq({line.split(",")[0] for line in lines[1:]}, {"cruise"}, "COPY (query) tenants")
    text = db.copy("COPY (SELECT * FROM cdrs WHERE tenant = 'pbx') TO STDOUT")
    eq(text, "", "COPY (query on pbx)")
    text = db.copy("COPY cdrs TO STDOUT WITH (FORMAT csv, HEADER)")
    lines = text.splitlines()
    col = lines[0].split(",").index("tenant")
    eq(len(lines) - 1, n, "COPY cdrs rows")
    eq({line.split(",")[col] for line in lines[1:]}, {"cruise"}, "COPY cdrs tenants")
    text = db.copy("COPY call_log TO STDOUT")
    eq(len(text.splitlines()), n, "COPY call_log rows")


@test
def binary_copy_out():
    """The binary layout goes through the same tenant filter (psycopg reads its rows)."""
    conn = psycopg.connect(**params("cruise"), autocommit=True)
    with conn, conn.cursor() as cur, cur.copy(
            "COPY (SELECT tenant, call_id FROM cdrs) TO STDOUT (FORMAT binary)") as copy:
        copy.set_types(["text", "text"])
        rows = list(copy.rows())
    eq(len(rows), cruise_count(), "binary COPY rows")
    eq({tenant for tenant, _ in rows}, {"cruise"}, "binary COPY tenants")


if __name__ == "__main__":
    run()
