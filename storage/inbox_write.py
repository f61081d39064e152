"""The inbox write before a Slack ack, awaited on the event loop instead of a thread.

Through the SQLAlchemy engine in a thread an ack waited for a thread hop, a pooled connection's pre-ping, BEGIN,
two INSERTs and COMMIT: 11 ms on PostgreSQL, and under a burst the acks queued behind each other's threads
(bench/slack_ack.py). Here:

- PostgreSQL: one statement (a CTE that claims the keys in ``processed_events`` and inserts the sealed rows for
  the keys it claimed) in autocommit on a psycopg ``AsyncConnection`` of its own, kept open; a connection that
  fails is closed and the write tried once more on a new one. One statement is one transaction: a crash
  leaves both tables written or neither.
- SQLite: a lone request's two INSERTs are written on the loop directly (a local file: a quarter of a
  millisecond) on an engine whose connections never wait for a lock; when another writer holds the database, the
  write goes to a thread that waits as every other writer does. A burst (several requests gathered for one
  commit) is written from a thread too: meanwhile the loop takes the next requests, which gather for the next
  commit, where a write on the loop would hold them off (bench/slack_ack.py: p50 ~1.3x worse on the loop).

Anything else (or SQLite in memory, which a second engine would not share) writes through
:meth:`SqlEventInbox.accept_many` in a thread, as before.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

import psycopg
from sqlalchemy import Engine, event
from sqlalchemy.exc import OperationalError

from storage.db import make_engine
from storage.inbox import SqlEventInbox
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


class LoopEventInbox(SqlEventInbox):
    """:class:`SqlEventInbox` whose :meth:`accept_async` writes without leaving the event loop where it can."""

    def __init__(self, engine: Engine, *, secret: bytes) -> None:
        super().__init__(engine, secret=secret)
        self._pg: psycopg.AsyncConnection[Any] | None = None
        self._pg_loop: asyncio.AbstractEventLoop | None = None
        self._quick: SqlEventInbox | None = None
        url = engine.url
        if self._dialect == "sqlite" and url.database and url.database != ":memory:" and "mode=memory" not in str(url):
            quick = make_engine(url.render_as_string(hide_password=False))
            event.listen(quick, "connect", _never_wait)
            self._quick = SqlEventInbox(quick, secret=secret)

    async def accept_async(
        self, events: Sequence[tuple[str, str, Mapping[str, Any]]], *, now: datetime, lease: timedelta
    ) -> list[bool]:
        """:meth:`SqlEventInbox.accept_many`, awaited on the loop (see the module's docstring)."""
        if self._dialect == "postgresql":
            return await self._accept_pg(events, now=now, lease=lease)
        if self._quick is not None and len(events) == 1:
            try:
                return self._quick.accept_many(events, now=now, lease=lease)
            except OperationalError as exc:
                if "locked" not in str(exc.orig) and "busy" not in str(exc.orig):
                    raise
                log.debug("inbox: SQLite busy; writing from a thread")
        return await super().accept_async(events, now=now, lease=lease)

    async def _accept_pg(
        self, events: Sequence[tuple[str, str, Mapping[str, Any]]], *, now: datetime, lease: timedelta
    ) -> list[bool]:
        keys = [key[:KEY_LENGTH] for key, _, _ in events]
        first: dict[str, tuple[str, bytes]] = {}
        for key, (_, kind, body) in zip(keys, events, strict=True):
            if key not in first:
                first[key] = (kind, self.seal(body))
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
        if self._quick is not None:
            self._quick._engine.dispose()


def _never_wait(dbapi_connection: Any, _record: Any) -> None:
    """On the event loop a locked database must not be waited for (that would stop every ack): fail at once."""
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA busy_timeout = 0")
    cursor.close()
