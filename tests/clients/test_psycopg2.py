"""psycopg2: simple protocol (client-side interpolation, BEGIN/COMMIT), copy_expert, named cursors."""

import decimal
import io

import psycopg2

from common import eq, params, raises_sqlstate, run, test


def connect(user="admin"):
    return psycopg2.connect(**params(user))


@test
def simple_protocol_in_transaction():
    # Not autocommit: psycopg2 sends BEGIN before the first statement and COMMIT at the end.
    conn = connect()
    try:
        cur = conn.cursor()
        cur.execute("SELECT count(*) FROM cdrs WHERE tenant = %s AND duration_s > %s", ("contact", 0))
        (n,) = cur.fetchone()
        cur.execute("SELECT count(*) FROM cdrs WHERE tenant = 'contact' AND duration_s > 0")
        eq(cur.fetchone()[0], n, "interpolated vs literal")
        assert n > 0
        cur.execute("SELECT %s AS a, %s AS b, %s AS c, %s AS d", (None, "it's", 1.25, True))
        eq(cur.fetchone(), (None, "it's", decimal.Decimal("1.25"), True), "interpolated literals")
        eq([d.name for d in cur.description], ["a", "b", "c", "d"], "column names")
        conn.commit()
        eq(conn.status, psycopg2.extensions.STATUS_READY, "status after commit")
    finally:
        conn.close()


@test
def error_then_rollback():
    conn = connect()
    try:
        cur = conn.cursor()
        with raises_sqlstate("42P01"):
            cur.execute("SELECT * FROM missing_table")
        try:  # in a failed transaction until ROLLBACK
            cur.execute("SELECT 1")
            raise AssertionError("a statement ran inside an aborted transaction")
        except psycopg2.Error as e:
            assert (e.pgcode or "").startswith("25P0"), e.pgcode
        conn.rollback()
        cur.execute("SELECT 1")
        eq(cur.fetchone(), (1,), "after rollback")
    finally:
        conn.close()


@test
def failed_transaction_sqlstate():
    conn = connect()
    try:
        cur = conn.cursor()
        with raises_sqlstate("42P01"):
            cur.execute("SELECT * FROM missing_table")
        with raises_sqlstate("25P02"):
            cur.execute("SELECT 1")
    finally:
        conn.close()


# The same bytes PostgreSQL 15 writes for this row (checked against a real PostgreSQL 15):
# NULL is an empty unquoted field, the empty string is "", booleans t/f, numeric keeps its scale,
# a field with the delimiter, a quote or a newline is quoted with quotes doubled.
LITERALS = (
    "SELECT 1 AS id, NULL::text AS n, '' AS e, true AS t, false AS f, 1.50::numeric(10,2) AS m,"
    " 'a,b' AS comma, 'say \"hi\"' AS quote, 'l1' || chr(10) || 'l2' AS nl"
)
EXPECTED_CSV = 'id,n,e,t,f,m,comma,quote,nl\n1,,"",t,f,1.50,"a,b","say ""hi""","l1\nl2"\n'


@test
def copy_expert_csv_literals():
    conn = connect()
    try:
        buf = io.StringIO()
        cur = conn.cursor()
        cur.copy_expert(f"COPY ({LITERALS}) TO STDOUT WITH (FORMAT csv, HEADER)", buf)
        eq(buf.getvalue(), EXPECTED_CSV, "CSV bytes")
        eq(cur.rowcount, 1, "COPY 1")
    finally:
        conn.close()


@test
def copy_expert_table_rows_match_count():
    conn = connect()
    try:
        cur = conn.cursor()
        cur.execute("SELECT count(*) FROM rates")
        (n,) = cur.fetchone()
        buf = io.StringIO()
        cur.copy_expert("COPY rates TO STDOUT WITH (FORMAT csv, HEADER)", buf)
        lines = buf.getvalue().splitlines()
        eq(len(lines) - 1, n, "COPY rates rows vs count(*)")
        assert lines[0].startswith("tenant,prefix,rate_per_min"), lines[0]
        eq(cur.rowcount, n, "COPY n")
    finally:
        conn.close()


@test
def named_cursor_fetchmany():
    conn = connect()
    try:
        plain = conn.cursor()
        plain.execute("SELECT call_id FROM cdrs WHERE tenant = 'tracking' ORDER BY call_id LIMIT 250")
        expected = [r[0] for r in plain.fetchall()]
        cur = conn.cursor(name="c_tracking")  # DECLARE … CURSOR WITHOUT HOLD, FETCH FORWARD n
        cur.itersize = 100
        cur.execute("SELECT call_id FROM cdrs WHERE tenant = 'tracking' ORDER BY call_id LIMIT 250")
        got = []
        sizes = []
        while True:
            rows = cur.fetchmany(100)
            if not rows:
                break
            sizes.append(len(rows))
            got += [r[0] for r in rows]
        eq(sizes, [100, 100, 50], "fetchmany batch sizes")
        eq(got, expected, "named cursor rows")
        cur.close()
        conn.commit()
    finally:
        conn.close()


if __name__ == "__main__":
    run()
