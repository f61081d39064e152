"""The event inbox: a chat event acknowledged is never lost to a crash.

Slack wants its ack within 3 seconds and does not send an acknowledged event again, so the work after the ack
(redacting, summarising, routing, posting) must survive the process dying. Before the ack, one transaction claims
the event's key in ``processed_events`` (the existing de-duplication, storage/processed.py) and writes the event
here; the work runs after the ack and deletes the row when done. Rows still here once their lease has passed
(the process died, or the work failed) are claimed again and replayed by any replica, at start and periodically.

Encrypted, not redacted: the handler needs the event as Slack sent it (redaction belongs to the pipeline, which
also keeps keyed hashes of the identifiers it removes so ``cxbot forget`` can find the comment later; a body
redacted here would lose them). So the body is sealed with AES-256-GCM under a key derived from CX_HASH_KEY, bound
to the row's key (a sealed body copied into another row does not open), the row lives only until the event is
handled (seconds), and a database dump or backup holds no readable customer text from it.

AES-GCM rather than Fernet, which sealed rows before: a seal happens before each ack, and Fernet (CBC, HMAC and
base64, several calls into the library) took 20 us for a command's body with its JSON, AES-GCM 7 us (README
"Slack: ack latency under load"). Rows sealed with Fernet by an earlier version still open (:func:`opener`).
"""

from __future__ import annotations

import asyncio
import base64
import functools
import json
import logging
import os
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy import Engine, and_, delete, select, update

from storage.models import InboxEvent, ProcessedEvent
from storage.processed import KEY_LENGTH
from storage.upsert import insert_ignore

log = logging.getLogger(__name__)

# Writes before an ack have threads of their own: in the core's threads an ack would wait behind the core's work
# (a long comment takes seconds to redact) and Slack would retry.
_ACK_THREADS = ThreadPoolExecutor(max_workers=2, thread_name_prefix="cxbot-inbox")
MAX_ATTEMPTS = 8  # then the row is kept as failed (its error logged) until pruned with the processed keys


def backoff(attempts: int) -> timedelta:
    """30 s, 1 min, 2 min ... capped at 30 minutes."""
    return timedelta(seconds=min(30 * 2 ** max(attempts - 1, 0), 1800))


@dataclass(frozen=True, slots=True)
class Inboxed:
    """An event claimed for replay: its key, the kind of work, the body as received, and the attempt number."""

    key: str
    kind: str
    body: dict[str, Any]
    attempts: int


GCM = b"\x02"  # the first byte of an AES-GCM seal; a Fernet token is base64 text and starts with "g"
NONCE = 12  # bytes: AES-GCM's standard nonce, random per seal


def _derive(secret: bytes, *, info: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=info).derive(secret)


def sealer(secret: bytes) -> AESGCM:
    """AES-256-GCM under a key derived from ``secret`` (CX_HASH_KEY) for this one purpose (HKDF, its own ``info``)."""
    return AESGCM(_derive(secret, info=b"cxbot event inbox v2 aes-gcm"))


def opener(secret: bytes) -> Fernet:
    """Fernet under the key that sealed rows before AES-GCM (an inbox written by an earlier version, replayed after
    the upgrade)."""
    return Fernet(base64.urlsafe_b64encode(_derive(secret, info=b"cxbot event inbox v1")))


class Unreadable(ValueError):
    """A sealed body that does not open: CX_HASH_KEY changed, or the row was altered or moved."""


class SqlEventInbox:
    """Implements :class:`handlers.ports.EventInbox`."""

    def __init__(self, engine: Engine, *, secret: bytes) -> None:
        self._engine = engine
        self._dialect = engine.dialect.name
        self._gcm = sealer(secret)
        self._fernet = opener(secret)

    def accept(self, *, key: str, kind: str, body: Mapping[str, Any], now: datetime, lease: timedelta) -> bool:
        """Claim ``key`` and keep the event, in one transaction, before the ack; False if the key was claimed
        before (a retry or another replica's delivery: nothing to do)."""
        return self.accept_many([(key, kind, body)], now=now, lease=lease)[0]

    def accept_many(
        self, events: Sequence[tuple[str, str, Mapping[str, Any]]], *, now: datetime, lease: timedelta
    ) -> list[bool]:
        """:meth:`accept` for ``(key, kind, body)`` events arriving together, in one transaction (one commit for a
        burst); for each, whether it was accepted (a key twice among them: the first only)."""
        keys = [key[:KEY_LENGTH] for key, _, _ in events]
        with self._engine.begin() as conn:
            claimed = set(
                conn.scalars(
                    insert_ignore(ProcessedEvent, self._dialect).returning(ProcessedEvent.key),
                    [{"key": key, "received_at": now} for key in dict.fromkeys(keys)],
                )
            )
            accepted = []
            rows = []
            for key, (_, kind, body) in zip(keys, events, strict=True):
                first = key in claimed
                claimed.discard(key)
                accepted.append(first)
                if first:
                    sealed = self.seal(body, key=key)
                    rows.append(
                        {
                            "key": key,
                            "kind": kind,
                            "sealed": sealed,
                            "state": "pending",
                            "attempts": 1,
                            "received_at": now,
                            "lease_until": now + lease,
                        }
                    )
            if rows:
                conn.execute(insert_ignore(InboxEvent, self._dialect), rows)
        return accepted

    async def accept_async(
        self, events: Sequence[tuple[str, str, Mapping[str, Any]]], *, now: datetime, lease: timedelta
    ) -> list[bool]:
        """:meth:`accept_many` awaited from the event loop (here from a thread; storage/inbox_write.py does
        better)."""
        store = functools.partial(self.accept_many, events, now=now, lease=lease)
        return await asyncio.get_running_loop().run_in_executor(_ACK_THREADS, store)

    def seal(self, body: Mapping[str, Any], *, key: str) -> bytes:
        """The body as stored: JSON under AES-GCM, bound to the row's ``key`` (associated data)."""
        nonce = os.urandom(NONCE)
        data = json.dumps(body, separators=(",", ":")).encode()
        return GCM + nonce + self._gcm.encrypt(nonce, data, key[:KEY_LENGTH].encode())

    def unseal(self, sealed: bytes, *, key: str) -> dict[str, Any]:
        """The body a row holds; :class:`Unreadable` when it does not open."""
        try:
            if sealed[:1] == GCM:
                nonce, box = sealed[1 : 1 + NONCE], sealed[1 + NONCE :]
                body: dict[str, Any] = json.loads(self._gcm.decrypt(nonce, box, key[:KEY_LENGTH].encode()))
            else:
                body = json.loads(self._fernet.decrypt(sealed))
        except (InvalidTag, InvalidToken) as exc:
            raise Unreadable(key) from exc
        return body

    def done(self, key: str) -> None:
        """The event was handled: its row (and the customer text in it) goes."""
        with self._engine.begin() as conn:
            conn.execute(delete(InboxEvent).where(InboxEvent.key == key[:KEY_LENGTH]))

    def failed(self, key: str, *, error: str, now: datetime) -> None:
        """The work failed: replay after a back-off, or give up after :data:`MAX_ATTEMPTS`."""
        with self._engine.begin() as conn:
            attempts = conn.scalar(select(InboxEvent.attempts).where(InboxEvent.key == key[:KEY_LENGTH]))
            if attempts is None:
                return
            conn.execute(
                update(InboxEvent)
                .where(InboxEvent.key == key[:KEY_LENGTH])
                .values(
                    state="failed" if attempts >= MAX_ATTEMPTS else "pending",
                    lease_until=now + backoff(attempts),
                    last_error=error[:500],
                )
            )
        if attempts >= MAX_ATTEMPTS:
            log.error("inbox: event %s failed %d times; given up (%s)", key, attempts, error[:200])

    def due(self, *, now: datetime, lease: timedelta, limit: int = 20) -> list[Inboxed]:
        """Claim up to ``limit`` events whose lease has passed (nobody is working on them) for ``lease`` more;
        on PostgreSQL with ``FOR UPDATE SKIP LOCKED``, so two replicas never claim the same one."""
        ready = and_(InboxEvent.state == "pending", InboxEvent.lease_until < now)
        picked = select(InboxEvent.key).where(ready).order_by(InboxEvent.received_at).limit(limit)
        if self._dialect == "postgresql":
            picked = picked.with_for_update(skip_locked=True)
        statement = (
            update(InboxEvent)
            .where(InboxEvent.key.in_(picked.scalar_subquery()), ready)
            .values(lease_until=now + lease, attempts=InboxEvent.attempts + 1)
            .returning(InboxEvent.key, InboxEvent.kind, InboxEvent.sealed, InboxEvent.attempts)
        )
        with self._engine.begin() as conn:
            rows = conn.execute(statement).all()
        claimed = []
        for key, kind, sealed, attempts in sorted(rows):
            try:
                body = self.unseal(sealed, key=key)
            except Unreadable:
                self.failed(key, error="cannot decrypt: CX_HASH_KEY changed since it was received", now=now)
                continue
            claimed.append(Inboxed(key=key, kind=kind, body=body, attempts=attempts))
        return claimed

    def prune(self, *, before: datetime) -> int:
        """Forget rows received before ``before`` (given up, or left by a connector no longer configured)."""
        with self._engine.begin() as conn:
            return conn.execute(delete(InboxEvent).where(InboxEvent.received_at < before)).rowcount

    def count(self) -> dict[str, int]:
        """Rows by state (tests, metrics)."""
        with self._engine.connect() as conn:
            rows = conn.execute(select(InboxEvent.state, InboxEvent.key)).all()
        counts: dict[str, int] = {}
        for state, _ in rows:
            counts[state] = counts.get(state, 0) + 1
        return counts
