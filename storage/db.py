"""Engines, sessions and schema version checks.

``DATABASE_URL`` takes any SQLAlchemy URL; ``postgresql://`` is read as psycopg 3. Alembic is the only
schema source: :func:`upgrade` migrates, :func:`require_current` refuses a database that is behind.
"""

from __future__ import annotations

import select
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event, exc
from sqlalchemy.engine import Connection, make_url

MIGRATIONS = Path(__file__).parent / "migrations"
T = TypeVar("T")


class SchemaBehind(RuntimeError):
    """The database schema is older than the code; the message says which command fixes it."""


def normalise_url(url: str) -> str:
    """Read plain ``postgresql://`` (and ``postgres://``) URLs as psycopg 3."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


@dataclass(frozen=True, slots=True)
class PoolOptions:
    """The connection pool of a server database (PostgreSQL); SQLite ignores it.

    Each replica holds at most ``size + overflow`` connections: with N replicas that times N must stay under the
    server's ``max_connections``. ``pre_ping`` tests a connection before lending it out, so one the server dropped
    (a restart, ``pg_terminate_backend``, an idle timeout in a proxy) is replaced instead of failing a request
    (on PostgreSQL without a query: :func:`alive_without_a_query`);
    ``recycle`` replaces connections older than that many seconds before a proxy or firewall drops them silently.
    """

    size: int = 5
    overflow: int = 10
    timeout: float = 30.0  # seconds a request waits for a free connection before failing
    recycle: int = 1800  # seconds; -1 never
    pre_ping: bool = True
    application_name: str = "cxbot"  # pg_stat_activity shows it: an operator finds (and can end) our sessions


def make_engine(url: str, *, pool: PoolOptions | None = None, **kwargs: object) -> Engine:
    """An engine for ``url``. Its errors never quote the statement's parameters (``hide_parameters``): those are
    comment texts, names and ids, and a failed write is logged with its traceback at ERROR."""
    url = normalise_url(url)
    kwargs.setdefault("hide_parameters", True)
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30}, **kwargs)  # type: ignore[arg-type]

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection, _record):  # type: ignore[no-untyped-def]
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            if ":memory:" not in url:
                cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()

        return engine
    pool = pool or PoolOptions()
    connect_args: dict[str, object] = {}
    psycopg = url.startswith("postgresql+psycopg")
    if url.startswith("postgresql"):
        connect_args["application_name"] = pool.application_name
    pooled: Engine = create_engine(  # type: ignore[call-overload]
        url,
        pool_size=pool.size,
        max_overflow=pool.overflow,
        pool_timeout=pool.timeout,
        pool_recycle=pool.recycle,
        pool_pre_ping=pool.pre_ping and not psycopg,  # psycopg: the same test without its round trip, below
        connect_args=connect_args,
        **kwargs,
    )
    if pool.pre_ping and psycopg:
        event.listen(pooled, "checkout", refuse_dead_connection)
    return pooled


def alive_without_a_query(dbapi_connection: Any) -> bool:
    """Whether a pooled psycopg connection is still usable, asked of the client alone.

    SQLAlchemy's ``pool_pre_ping`` sends ``SELECT 1`` at every checkout: a round trip that cost the cheapest
    `/cx actions` page a third of its time (bench/actions.py). A server that ends a session (``pg_terminate_backend``,
    a shutdown, a failover) sends its last error and closes the socket; a pooled connection is idle, with no query
    pending, so a socket that has anything to read (or has hung up) means the server is gone. A peer that vanished
    without a word (a cut cable) is not seen here: :func:`read_retrying` covers reads; a write fails as before.
    """
    if dbapi_connection.closed or dbapi_connection.broken:
        return False
    try:
        fd = dbapi_connection.fileno()
    except Exception:
        return False
    poller = select.poll()
    poller.register(fd, select.POLLIN | select.POLLPRI | select.POLLERR | select.POLLHUP)
    return not poller.poll(0)


def refuse_dead_connection(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
    """Pool ``checkout`` hook: a dead connection is discarded and the pool lends a fresh one (DisconnectionError
    is SQLAlchemy's way to say so)."""
    if not alive_without_a_query(dbapi_connection):
        raise exc.DisconnectionError("the server closed this pooled connection")


def read_retrying(engine: Engine, read: Callable[[Connection], T]) -> T:
    """``read(connection)``, tried once more on a fresh connection if the first one turns out to be dead.

    Only for reads (no write is ever repeated behind the caller's back: a failed write stays a 503 the client
    retries). SQLAlchemy throws a dead connection away and marks the pool's older ones stale; the pool's liveness
    check catches the rest.
    """
    try:
        with engine.connect() as conn:
            return read(conn)
    except exc.DBAPIError as error:
        if not error.connection_invalidated:
            raise
    with engine.connect() as conn:
        return read(conn)


def alembic_config(engine: Engine) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["engine"] = engine
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    command.upgrade(alembic_config(engine), revision)


def head_revision(engine: Engine) -> str | None:
    return ScriptDirectory.from_config(alembic_config(engine)).get_current_head()


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def require_current(engine: Engine) -> None:
    """Raise :class:`SchemaBehind` unless the database is at the newest migration."""
    if _missing_sqlite_file(engine):  # connecting would create an empty file, left behind by the refusal
        current, head = None, head_revision(engine)
    else:
        current, head = current_revision(engine), head_revision(engine)
    if current != head:
        where = engine.url.render_as_string(hide_password=True)
        state = "has no cxbot tables" if current is None else f"is at revision {current}"
        raise SchemaBehind(
            f"the database {where} {state}, the code needs {head}; run `cxbot db upgrade` and start again"
        )


def _missing_sqlite_file(engine: Engine) -> bool:
    database = engine.url.database
    if engine.dialect.name != "sqlite" or not database or database == ":memory:":
        return False
    return not Path(database).exists()
