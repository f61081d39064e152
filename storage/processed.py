"""Inbound de-duplication: a platform delivering the same event twice (retries, replicas) is handled once.

One ``INSERT ... ON CONFLICT DO NOTHING`` on ``processed_events``: whoever inserts the key handles the event.
If handling then fails, :meth:`SqlProcessedEvents.forget` releases the key so the platform's retry is not
mistaken for a duplicate.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Engine, delete

from storage.models import ProcessedEvent
from storage.upsert import insert_ignore

KEY_LENGTH = 300


class SqlProcessedEvents:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._dialect = engine.dialect.name

    def first_time(self, key: str, *, now: datetime) -> bool:
        """Claim ``key``; True only for the first caller, ever (until :meth:`forget`)."""
        with self._engine.begin() as conn:
            inserted = conn.execute(
                insert_ignore(ProcessedEvent, self._dialect).returning(ProcessedEvent.key),
                [{"key": key[:KEY_LENGTH], "received_at": now}],
            ).all()
        return bool(inserted)

    def prune(self, *, before: datetime) -> int:
        """Forget keys received before ``before``; platforms stop retrying within minutes, so old keys only grow
        the table. Returns how many were removed."""
        with self._engine.begin() as conn:
            return conn.execute(delete(ProcessedEvent).where(ProcessedEvent.received_at < before)).rowcount

    def forget(self, key: str) -> None:
        """Release a claimed key (handling failed; the next delivery should be handled)."""
        with self._engine.begin() as conn:
            conn.execute(delete(ProcessedEvent).where(ProcessedEvent.key == key[:KEY_LENGTH]))
