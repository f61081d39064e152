"""The inbox write before a Slack ack, awaited on the event loop instead of a thread.

Through the SQLAlchemy engine in a thread an ack waited for a thread hop, a pooled connection's pre-ping, BEGIN,
two INSERTs and COMMIT: 11 ms on PostgreSQL, and under a burst the acks queued behind each other's threads
(bench/slack_ack.py). Here:

- PostgreSQL: one statement (a CTE that claims the keys in ``processed_events`` and inserts the sealed rows for
  the keys it claimed) in autocommit on a psycopg ``AsyncConnection`` of its own, kept open; a connection that
  fails is closed and the write tried once more on a new one. One statement is one transaction: a crash
  leaves both tables written or neither.
- SQLite: every write, a lone request or a burst gathered for one commit, is made on the loop on a sqlite3
  connection of its own that never waits for a lock (busy_timeout 0): ``BEGIN IMMEDIATE``, one claim per key,
  one executemany of the sealed rows, ``COMMIT``. A burst of 14 takes 0.4 ms there; through SQLAlchemy in a
  thread it took 1 ms alone and 4-5 ms under load, as the thread and the loop passed the GIL back and forth at
  each statement (bench/slack_ack.py, batch sizes and write times logged during a run). When another writer
  holds the database, the write goes to a thread that waits as every other writer does.

Anything else (or SQLite in memory, which a second engine would not share) writes through
:meth:`SqlEventInbox.accept_many` in a thread, as before.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import threading
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

import psycopg
from sqlalchemy import Engine

from storage.inbox import SqlEventInbox
from storage.models import InboxEvent
from storage.processed import KEY_LENGTH

log = logging.getLogger(__name__)

CLAIM_AND_KEEP = """
WITH claimed AS (
    INSERT INTO processed_events (key, received_at)
    SELECT k, %(now)s FROM unnest(%(keys)s::varchar[]) AS k
    ON CONFLICT DO NOTHING
    RETURNING key
)
INSERT INTO event_inbox (key, kind, sealed, state, attempts, received_at, lease_until)
SELECT e.key, e.kind, e.sealed, 'pending', 1, %(now)s, %(lease_until)s
FROM unnest(%(keys)s::varchar[], %(kinds)s::varchar[], %(sealed)s::bytea[]) AS e(key, kind, sealed)
JOIN claimed ON claimed.key = e.key
ON CONFLICT DO NOTHING
RETURNING key
"""
SQLITE_CLAIM = "INSERT INTO processed_events (key, received_at) VALUES (?, ?) ON CONFLICT DO NOTHING"
SQLITE_CLAIMED = "ON CONFLICT DO NOTHING RETURNING key"
SQLITE_CLAIMS_AT_ONCE = 400  # keys per claiming statement: 800 parameters, well inside SQLite's 32,766
SQLITE_KEEP = (
    "INSERT INTO event_inbox (key, kind, sealed, state, attempts, received_at, lease_until)"
    " VALUES (?, ?, ?, 'pending', 1, ?, ?) ON CONFLICT DO NOTHING"
)


class LoopEventInbox(SqlEventInbox):
    """:class:`SqlEventInbox` whose :meth:`accept_async` writes without leaving the event loop where it can."""

    def __init__(self, engine: Engine, *, secret: bytes) -> None:
        super().__init__(engine, secret=secret)
        self._pg: psycopg.AsyncConnection[Any] | None = None
        self._pg_loop: asyncio.AbstractEventLoop | None = None
        self._sqlite: sqlite3.Connection | None = None
        self._sqlite_path: str | None = None
        self._sqlite_time: Any = None
        self._sqlite_lock = threading.Lock()  # two loops in two threads never share the connection at once
        url = engine.url
        if self._dialect == "sqlite" and url.database and url.database != ":memory:" and "mode=memory" not in str(url):
            self._sqlite_path = url.database
            # Times as the engine writes them (replays compare them as text): the column type's own conversion.
            self._sqlite_time = InboxEvent.__table__.c.received_at.type._cached_bind_processor(engine.dialect)

    async def accept_async(
        self, events: Sequence[tuple[str, str, Mapping[str, Any]]], *, now: datetime, lease: timedelta
    ) -> list[bool]:
        """:meth:`SqlEventInbox.accept_many`, awaited on the loop (see the module's docstring)."""
        if self._dialect == "postgresql":
            return await self._accept_pg(events, now=now, lease=lease)
        if self._sqlite_path is not None and self._sqlite_lock.acquire(blocking=False):
            try:
                return self._accept_sqlite(events, now=now, lease=lease)
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) and "busy" not in str(exc):
                    raise
                log.debug("inbox: SQLite busy; writing from a thread")
            finally:
                self._sqlite_lock.release()
        return await super().accept_async(events, now=now, lease=lease)

    def _accept_sqlite(
        self, events: Sequence[tuple[str, str, Mapping[str, Any]]], *, now: datetime, lease: timedelta
    ) -> list[bool]:
        """The claims and rows in one transaction on the loop's own connection; raises "database is locked" at
        once when another writer holds the database (nothing written)."""
        sealed = [self.seal(body, key=key) for key, _, body in events]  # before the transaction: it holds the lock
        convert = self._sqlite_time
        at, until = (convert(now), convert(now + lease)) if convert else (now, now + lease)
        keys = [key[:KEY_LENGTH] for key, _, _ in events]
        connection = self._sqlite_connection()
        connection.execute("BEGIN IMMEDIATE")
        try:
            claimed = self._claim_sqlite(connection, list(dict.fromkeys(keys)), at=at)
            accepted, rows = [], []
            for key, (_, kind, _), body in zip(keys, events, sealed, strict=True):
                first = key in claimed  # a key twice among them: the first only
                claimed.discard(key)
                accepted.append(first)
                if first:
                    rows.append((key, kind, body, at, until))
            connection.executemany(SQLITE_KEEP, rows)
            connection.execute("COMMIT")
        except BaseException:
            connection.rollback()
            raise
        return accepted

    @staticmethod
    def _claim_sqlite(connection: sqlite3.Connection, keys: list[str], *, at: Any) -> set[str]:
        """The keys claimed now: one ``INSERT ... RETURNING`` per 400 keys (SQLite 3.35+), a statement per key on an
        older SQLite. One statement for a burst of 14 saves 13 round trips into SQLite on the loop."""
        if sqlite3.sqlite_version_info < (3, 35):
            return {key for key in keys if connection.execute(SQLITE_CLAIM, (key, at)).rowcount == 1}
        claimed: set[str] = set()
        for start in range(0, len(keys), SQLITE_CLAIMS_AT_ONCE):
            part = keys[start : start + SQLITE_CLAIMS_AT_ONCE]
            values = ", ".join(["(?, ?)"] * len(part))
            statement = f"INSERT INTO processed_events (key, received_at) VALUES {values} {SQLITE_CLAIMED}"  # noqa: S608 (placeholders only)
            claimed.update(row[0] for row in connection.execute(statement, [v for key in part for v in (key, at)]))
        return claimed

    def _sqlite_connection(self) -> sqlite3.Connection:
        if self._sqlite is None:
            assert self._sqlite_path is not None
            # Autocommit (transactions begun and committed above); used by one thread at a time (the lock), not
            # always the one that opened it (a loop of its own in another thread).
            connection = sqlite3.connect(self._sqlite_path, isolation_level=None, check_same_thread=False)
            # On the event loop a locked database must not be waited for (that would stop every ack): fail at
            # once. Durable as the engine's own commits (storage/db.py: WAL, synchronous NORMAL).
            connection.execute("PRAGMA busy_timeout = 0")
            connection.execute("PRAGMA synchronous = NORMAL")
            # Never checkpoint the WAL here: a checkpoint copies pages into the database file and syncs it, and on
            # the loop that stopped every ack for up to 25 ms (bench/slack_ack.py, callbacks over 2 ms timed during
            # the load). The engine's connections, in threads, checkpoint as usual (SQLite's 1,000 pages): the
            # work behind each ack writes through them and deletes its inbox row there.
            connection.execute("PRAGMA wal_autocheckpoint = 0")
            self._sqlite = connection
        return self._sqlite

    async def _accept_pg(
        self, events: Sequence[tuple[str, str, Mapping[str, Any]]], *, now: datetime, lease: timedelta
    ) -> list[bool]:
        keys = [key[:KEY_LENGTH] for key, _, _ in events]
        first: dict[str, tuple[str, bytes]] = {}
        for key, (_, kind, body) in zip(keys, events, strict=True):
            if key not in first:
                first[key] = (kind, self.seal(body, key=key))
        params = {
            "now": now,
            "lease_until": now + lease,
            "keys": list(first),
            "kinds": [kind for kind, _ in first.values()],
            "sealed": [sealed for _, sealed in first.values()],
        }
        for attempt in (1, 2):
            connection = await self._connection()
            try:
                cursor = await connection.execute(CLAIM_AND_KEEP, params, prepare=True)
                kept = {row[0] for row in await cursor.fetchall()}
                break
            except (psycopg.OperationalError, psycopg.InterfaceError):
                await self._drop()
                if attempt == 2:
                    raise
                log.info("inbox: the connection for acks failed; reconnecting")
        accepted = []
        for key in keys:  # a key twice among them: the first only
            accepted.append(key in kept)
            kept.discard(key)
        return accepted

    async def _connection(self) -> psycopg.AsyncConnection[Any]:
        loop = asyncio.get_running_loop()
        if self._pg is not None and (self._pg.closed or self._pg_loop is not loop):
            await self._drop()
        if self._pg is None:
            conninfo = self._engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
            self._pg = await psycopg.AsyncConnection.connect(conninfo, autocommit=True, application_name="cxbot-inbox")
            self._pg_loop = loop
        return self._pg

    async def _drop(self) -> None:
        connection, self._pg, self._pg_loop = self._pg, None, None
        if connection is not None and not connection.closed:
            try:
                await connection.close()
            except Exception:  # closing a broken connection may fail too; it is dropped either way
                log.debug("inbox: closing the acks' connection failed", exc_info=True)

    async def aclose(self) -> None:
        """Close the connections of the loop's writes (the server is stopping)."""
        await self._drop()
        if self._sqlite is not None:
            self._sqlite.close()
            self._sqlite = None
