"""Shared by the Python client tests: where the server is, who to log in as, and a tiny runner.

The server under test is given by the environment (run.sh sets it):
  CDRLAKE_HOST (127.0.0.1), CDRLAKE_PORT (5433), CDRLAKE_DB (cdr)
  PGREF_PORT   port of the reference PostgreSQL 15 (psql tests only; unset = no reference)
Demo users have password = name: admin, analyst, billing, ingest, cruise (tenant cruise only).

Each test is a function decorated with @test; run() calls them in order and prints one line
per test (PASS/FAIL/SKIP name), then 'N passed, N failed, N skipped', exiting 1 on a failure.
A test is skipped by raising Skip(reason): only for a known server defect, named in the reason.
"""

import os
import sys
import traceback

HOST = os.environ.get("CDRLAKE_HOST", "127.0.0.1")
PORT = int(os.environ.get("CDRLAKE_PORT", "5433"))
DB = os.environ.get("CDRLAKE_DB", "cdr")
REF_PORT = os.environ.get("PGREF_PORT")
REF_USER = os.environ.get("PGREF_USER", "postgres")
TENANTS = ("cruise", "pbx", "tracking", "contact", "carrier")


def params(user="admin", password=None, port=None, dbname=None):
    """Keyword connection parameters (libpq names) for psycopg, psycopg2 and asyncpg."""
    return dict(
        host=HOST,
        port=port or PORT,
        dbname=dbname or DB,
        user=user,
        password=user if password is None else password,
    )


def dsn(user="admin", password=None):
    """libpq keyword/value DSN."""
    p = params(user, password)
    return " ".join(f"{k}={v}" for k, v in p.items())


def url(user="admin", driver="postgresql", password=None):
    """URL form: postgresql://user:password@host:port/db (SQLAlchemy, asyncpg)."""
    return f"{driver}://{user}:{user if password is None else password}@{HOST}:{PORT}/{DB}"


class Skip(Exception):
    """Raised by a test that cannot run; the reason names the server defect."""


def eq(actual, expected, what=""):
    if actual != expected:
        raise AssertionError(f"{what}: expected {expected!r}, got {actual!r}")


def sqlstate_of(exc):
    """SQLSTATE of a psycopg/psycopg2/asyncpg exception, or None."""
    for attr in ("sqlstate", "pgcode"):
        code = getattr(exc, attr, None)
        if code:
            return code
    diag = getattr(exc, "diag", None)
    return getattr(diag, "sqlstate", None)


class raises_sqlstate:
    """with raises_sqlstate("42P01"): ... — the block must raise a driver error with that code."""

    def __init__(self, code):
        self.code = code
        self.error = None

    def __enter__(self):
        return self

    def __exit__(self, typ, exc, tb):
        if exc is None:
            raise AssertionError(f"expected SQLSTATE {self.code}, but no error")
        if not isinstance(exc, Exception):
            return False
        got = sqlstate_of(exc)
        if got != self.code:
            raise AssertionError(f"expected SQLSTATE {self.code}, got {got}: {exc!r}") from exc
        self.error = exc
        return True


class known_defect:
    """with known_defect("why"): a failure inside the block is a known server defect, reported
    as SKIP (with the error seen) instead of FAIL; once the server is fixed the block passes."""

    def __init__(self, reason):
        self.reason = reason

    def __enter__(self):
        return self

    def __exit__(self, typ, exc, tb):
        if isinstance(exc, Exception) and not isinstance(exc, Skip):
            raise Skip(f"known defect: {self.reason} [{type(exc).__name__}: {exc}]".replace("\n", " "))
        return False


def ref_params():
    """Connection parameters of the reference PostgreSQL 15."""
    if not REF_PORT:
        raise AssertionError("PGREF_PORT is not set: run through tests/clients/run.sh")
    return dict(host="127.0.0.1", port=int(REF_PORT), dbname="postgres", user=REF_USER)


_tests = []


def test(fn):
    _tests.append(fn)
    return fn


def run():
    """Runs the tests named on the command line (default: all), in definition order."""
    only = set(sys.argv[1:])
    passed = failed = skipped = 0
    for fn in _tests:
        if only and fn.__name__ not in only:
            continue
        try:
            fn()
        except Skip as s:
            skipped += 1
            print(f"SKIP {fn.__name__}: {s}", flush=True)
        except Exception as e:  # noqa: BLE001 - a test runner reports every failure
            failed += 1
            print(f"FAIL {fn.__name__}: {type(e).__name__}: {e}", flush=True)
            traceback.print_exc(limit=3)
        else:
            passed += 1
            print(f"PASS {fn.__name__}", flush=True)
    print(f"{passed} passed, {failed} failed, {skipped} skipped", flush=True)
    sys.exit(1 if failed else 0)
