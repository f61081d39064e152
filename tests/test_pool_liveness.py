"""A pooled PostgreSQL connection the server ended is found out at checkout without a query, and a read that meets
a dead connection anyway is served on a fresh one (storage.db). The server's own view is the evidence: which
backend answered, and whether a pooled backend was sent anything."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest
from sqlalchemy import Engine, event, exc, text
from sqlalchemy.engine import Connection

from storage.db import PoolOptions, alive_without_a_query, make_engine, read_retrying, upgrade
from storage.departments import sync_departments
from storage.followup import SqlFollowUps
from stories.config import CxConfig
from stories.config import Department as ConfigDepartment
from tests.conftest import PG_URL

pytestmark = pytest.mark.postgres


@pytest.fixture
def engine() -> Iterator[Engine]:
    if not PG_URL:
        pytest.skip("pg_terminate_backend is PostgreSQL's: set CX_TEST_DATABASE_URL")
    made = make_engine(PG_URL, pool=PoolOptions(size=1, overflow=0, application_name=f"cxtest-{uuid.uuid4().hex[:8]}"))
    yield made
    made.dispose()


def backend_pid(conn: Connection) -> int:
    return int(conn.execute(text("SELECT pg_backend_pid()")).scalar_one())


def terminate(pid: int) -> None:
    """End one backend and wait until it is gone (PostgreSQL 14+), as a restart or failover has by the next
    request."""
    assert PG_URL
    admin = make_engine(PG_URL)
    try:
        with admin.begin() as conn:
            assert conn.execute(text("SELECT pg_terminate_backend(:pid, 5000)"), {"pid": pid}).scalar_one()
    finally:
        admin.dispose()


def last_activity(pid: int) -> object:
    assert PG_URL
    admin = make_engine(PG_URL)
    try:
        with admin.connect() as conn:
            return conn.execute(
                text("SELECT state_change FROM pg_stat_activity WHERE pid = :pid"), {"pid": pid}
            ).scalar_one()
    finally:
        admin.dispose()


def test_checking_out_a_live_connection_sends_the_server_nothing(engine: Engine) -> None:
    with engine.connect() as conn:
        pid = backend_pid(conn)
    before = last_activity(pid)
    for _ in range(5):
        with engine.connect() as conn:
            assert conn.connection.driver_connection is not None
            assert alive_without_a_query(conn.connection.driver_connection)
    assert last_activity(pid) == before  # no SELECT 1 (pool_pre_ping's round trip) reached the backend


def test_a_terminated_backend_is_seen_without_a_query_and_the_next_read_gets_a_new_one(engine: Engine) -> None:
    with engine.connect() as conn:
        pid = backend_pid(conn)
        pooled = conn.connection.driver_connection
    terminate(pid)
    deadline = time.monotonic() + 5  # the server's goodbye crosses loopback: at once, allowing for a busy machine
    while alive_without_a_query(pooled) and time.monotonic() < deadline:
        time.sleep(0.01)
    assert not alive_without_a_query(pooled)

    with engine.connect() as conn:  # pool of one: without the check, the dead connection would be lent out
        assert backend_pid(conn) != pid


def test_a_read_that_meets_a_dead_connection_is_served_on_a_fresh_one(engine: Engine) -> None:
    """The connection dies under the read (the liveness check had nothing to see yet): the read runs again."""
    attempts: list[int] = []

    def read(conn: Connection) -> int:
        attempts.append(backend_pid(conn))
        if len(attempts) == 1:  # the server ends this very session mid-read
            conn.execute(text("SELECT pg_terminate_backend(pg_backend_pid())"))
        return int(conn.execute(text("SELECT 41 + 1")).scalar_one())

    assert read_retrying(engine, read) == 42
    assert len(attempts) == 2 and attempts[0] != attempts[1]


def test_an_error_that_is_not_a_dead_connection_is_not_retried(engine: Engine) -> None:
    attempts: list[int] = []

    def read(conn: Connection) -> object:
        attempts.append(1)
        return conn.execute(text("SELECT 1 / 0")).scalar_one()

    with pytest.raises(Exception, match="division by zero"):
        read_retrying(engine, read)
    assert len(attempts) == 1


@pytest.fixture
def pages(engine: Engine) -> Iterator[tuple[Engine, SqlFollowUps]]:
    """A store of commitment pages in a schema of its own, on a pool of one connection."""
    assert PG_URL
    schema = f"liveness_{uuid.uuid4().hex[:8]}"
    with engine.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    scoped = make_engine(
        f"{PG_URL}{'&' if '?' in PG_URL else '?'}options=-csearch_path%3D{schema}", pool=PoolOptions(size=1, overflow=0)
    )
    try:
        upgrade(scoped)
        config = CxConfig(default_department="Finance", departments=(ConfigDepartment(name="Finance"),))
        yield scoped, SqlFollowUps(scoped, sync_departments(scoped, config))
    finally:
        scoped.dispose()
        with engine.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))


def finance_page(store: SqlFollowUps) -> tuple[int, int, int]:
    found = store.commitments_page(today=date(2026, 12, 1), departments=["Finance"], page=1, size=10)
    return found.total, found.page, found.pages


def test_a_page_is_served_after_the_server_ended_the_pools_session(pages: tuple[Engine, SqlFollowUps]) -> None:
    scoped, store = pages
    assert finance_page(store) == (0, 1, 1)
    with scoped.connect() as conn:
        pid = backend_pid(conn)
    terminate(pid)
    assert finance_page(store) == (0, 1, 1)


def test_a_page_whose_connection_dies_after_checkout_is_read_again(pages: tuple[Engine, SqlFollowUps]) -> None:
    """Pages run on the driver's own cursor: its errors still reach SQLAlchemy's handling (the read is retried)."""
    scoped, store = pages
    assert finance_page(store) == (0, 1, 1)
    ended: list[int] = []

    def end_it_once(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
        if not ended:  # after the liveness check passed: the server ends the session before the first query
            ended.append(dbapi_connection.info.backend_pid)
            terminate(ended[0])

    event.listen(scoped, "checkout", end_it_once)
    try:
        assert finance_page(store) == (0, 1, 1)
    finally:
        event.remove(scoped, "checkout", end_it_once)
    assert len(ended) == 1


def test_a_page_that_fails_otherwise_raises_sqlalchemys_error_once_without_its_parameters(
    pages: tuple[Engine, SqlFollowUps],
) -> None:
    """Callers map SQLAlchemyError to a 503 and logs hide its database text (bot.logs): a driver error must be one."""
    scoped, store = pages
    statements: list[str] = []
    event.listen(scoped, "before_cursor_execute", lambda *args: statements.append(args[2]))
    with scoped.begin() as conn:
        conn.execute(text("ALTER TABLE commitments RENAME TO commitments_gone"))
    with pytest.raises(exc.ProgrammingError) as raised:
        store.commitments_page(today=date(2026, 12, 1), owner="USECRETOWNER", page=1, size=10)
    assert "USECRETOWNER" not in str(raised.value) and raised.value.connection_invalidated is False
    assert len([s for s in statements if s.startswith("SELECT count")]) == 1  # not retried
