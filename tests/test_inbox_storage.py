"""storage/inbox.py and storage/inbox_write.py: the event inbox's claims and sealing, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, select, text, update

from storage.inbox import MAX_ATTEMPTS, SqlEventInbox, opener
from storage.inbox_write import LoopEventInbox
from storage.models import InboxEvent, ProcessedEvent

SECRET = b"a-test-key-of-32-bytes-at-least!"
LEASE = timedelta(minutes=10)


def _accept_expired(inbox: SqlEventInbox, count: int) -> list[str]:
    long_ago = datetime.now(UTC) - timedelta(hours=1)
    keys = [f"slack:event:Ev{n:04d}" for n in range(count)]
    for key in keys:
        body = {"event": {"type": "message", "text": f"my card 4111 1111 1111 1111, ticket {key}"}}
        assert inbox.accept(key=key, kind="message", body=body, now=long_ago, lease=LEASE)
    return keys


def test_two_replicas_replaying_at_once_claim_each_event_once(engine: Engine) -> None:
    keys = _accept_expired(SqlEventInbox(engine, secret=SECRET), 40)
    replicas = [SqlEventInbox(engine, secret=SECRET) for _ in range(2)]
    claimed: list[list[str]] = [[], []]
    start = threading.Barrier(2)

    def replay(n: int) -> None:
        start.wait()
        while batch := replicas[n].due(now=datetime.now(UTC), lease=LEASE, limit=5):
            claimed[n] += [item.key for item in batch]

    threads = [threading.Thread(target=replay, args=(n,)) for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(claimed[0] + claimed[1]) == keys  # every one, none twice
    assert replicas[0].due(now=datetime.now(UTC), lease=LEASE) == []  # claimed for another lease


def test_an_event_is_accepted_once_and_stored_encrypted_until_done(engine: Engine) -> None:
    inbox = SqlEventInbox(engine, secret=SECRET)
    now = datetime.now(UTC)
    body = {"event": {"text": "call me on +44 20 7946 0958"}}
    assert inbox.accept(key="k1", kind="message", body=body, now=now, lease=LEASE)
    assert not inbox.accept(key="k1", kind="message", body=body, now=now, lease=LEASE)  # a retry
    with engine.connect() as conn:
        sealed = conn.scalar(select(InboxEvent.sealed))
        assert conn.scalar(select(ProcessedEvent.key)) == "k1"  # the de-duplication key, in the same transaction
    assert sealed is not None and b"7946" not in sealed
    [item] = inbox.due(now=now + LEASE + timedelta(seconds=1), lease=LEASE)
    assert item.body == body and item.attempts == 2
    inbox.done("k1")
    assert inbox.count() == {}


def test_an_event_sealed_under_another_key_is_given_up_not_replayed_as_garbage(engine: Engine) -> None:
    _accept_expired(SqlEventInbox(engine, secret=SECRET), 1)
    other = SqlEventInbox(engine, secret=b"another-key-of-32-bytes-at-least")
    assert other.due(now=datetime.now(UTC), lease=LEASE) == []
    with engine.connect() as conn:
        error = conn.scalar(select(InboxEvent.last_error))
    assert error is not None and "CX_HASH_KEY changed" in error


def test_a_row_sealed_with_fernet_by_an_earlier_version_is_replayed_after_the_upgrade(engine: Engine) -> None:
    inbox = SqlEventInbox(engine, secret=SECRET)
    long_ago = datetime.now(UTC) - timedelta(hours=1)
    body = {"event": {"type": "message", "text": "left behind by the last version"}}
    assert inbox.accept(key="k-old", kind="message", body=body, now=long_ago, lease=LEASE)
    # as versions before AES-GCM sealed it: Fernet under the v1 key
    token = opener(SECRET).encrypt(json.dumps(body, separators=(",", ":")).encode())
    assert token[:1] == b"g"
    with engine.begin() as conn:
        conn.execute(update(InboxEvent).where(InboxEvent.key == "k-old").values(sealed=token))
    [item] = inbox.due(now=datetime.now(UTC), lease=LEASE)
    assert item.key == "k-old" and item.body == body


def test_a_sealed_body_copied_into_another_row_does_not_open(engine: Engine) -> None:
    inbox = SqlEventInbox(engine, secret=SECRET)
    long_ago = datetime.now(UTC) - timedelta(hours=1)
    assert inbox.accept(key="k-a", kind="message", body={"event": {"text": "a"}}, now=long_ago, lease=LEASE)
    assert inbox.accept(key="k-b", kind="message", body={"event": {"text": "b"}}, now=long_ago, lease=LEASE)
    with engine.begin() as conn:
        sealed_a = conn.scalar(select(InboxEvent.sealed).where(InboxEvent.key == "k-a"))
        conn.execute(update(InboxEvent).where(InboxEvent.key == "k-b").values(sealed=sealed_a))
    assert [item.key for item in inbox.due(now=datetime.now(UTC), lease=LEASE)] == ["k-a"]
    with engine.connect() as conn:
        error = conn.scalar(select(InboxEvent.last_error).where(InboxEvent.key == "k-b"))
    assert error is not None and "cannot decrypt" in error


def test_work_failing_every_time_is_given_up_after_its_attempts(engine: Engine) -> None:
    inbox = SqlEventInbox(engine, secret=SECRET)
    [key] = _accept_expired(inbox, 1)
    now = datetime.now(UTC)
    for _ in range(MAX_ATTEMPTS + 2):
        now += timedelta(hours=1)
        for item in inbox.due(now=now, lease=LEASE):
            inbox.failed(item.key, error="RuntimeError", now=now)
    assert inbox.count() == {"failed": 1}
    assert inbox.prune(before=now) == 1 and inbox.count() == {}
    assert key


def test_a_burst_is_accepted_in_one_transaction_each_key_once(engine: Engine) -> None:
    inbox = SqlEventInbox(engine, secret=SECRET)
    now = datetime.now(UTC)
    assert inbox.accept(key="old", kind="message", body={}, now=now, lease=LEASE)
    burst = [("a", "message", {"n": 1}), ("old", "message", {}), ("b", "reaction_added", {}), ("a", "message", {})]
    assert inbox.accept_many(burst, now=now, lease=LEASE) == [True, False, True, False]
    assert inbox.count() == {"pending": 3}


# --- storage/inbox_write.py: the write before an ack, awaited on the event loop -----------------------------------


async def test_the_loop_write_claims_and_keeps_once_in_one_statement(engine: Engine) -> None:
    inbox = LoopEventInbox(engine, secret=SECRET)
    now = datetime.now(UTC)
    body = {"event": {"text": "call me on +44 20 7946 0958"}}
    events = [("k1", "message", body), ("k2", "command", {"text": "x"}), ("k1", "message", body)]
    try:
        assert await inbox.accept_async(events, now=now, lease=LEASE) == [True, True, False]
        assert await inbox.accept_async(events[:1], now=now, lease=LEASE) == [False]  # a retry
    finally:
        await inbox.aclose()
    with engine.connect() as conn:
        assert sorted(conn.scalars(select(ProcessedEvent.key))) == ["k1", "k2"]
        rows = conn.execute(select(InboxEvent.key, InboxEvent.kind, InboxEvent.state, InboxEvent.sealed)).all()
    assert sorted((key, kind, state) for key, kind, state, _ in rows) == [
        ("k1", "message", "pending"),
        ("k2", "command", "pending"),
    ]
    assert not [sealed for *_, sealed in rows if b"7946" in sealed]
    [first, _] = inbox.due(now=now + LEASE + timedelta(seconds=1), lease=LEASE)
    assert first.key == "k1" and first.body == body  # readable by the engine's side (replays)


async def test_the_loop_write_reconnects_when_its_connection_is_dropped(engine: Engine) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL only: SQLite has no server connection to lose")
    inbox = LoopEventInbox(engine, secret=SECRET)
    now = datetime.now(UTC)
    try:
        assert await inbox.accept_async([("k1", "message", {})], now=now, lease=LEASE) == [True]
        assert inbox._pg is not None
        pid = inbox._pg.info.backend_pid
        with engine.begin() as conn:  # a server restart, an idle timeout in a proxy
            conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        assert await inbox.accept_async([("k2", "message", {})], now=now, lease=LEASE) == [True]
        assert inbox._pg.info.backend_pid != pid
    finally:
        await inbox.aclose()


async def test_a_locked_sqlite_database_is_waited_for_in_a_thread_not_on_the_loop(engine: Engine) -> None:
    if engine.dialect.name != "sqlite":
        pytest.skip("SQLite only")
    inbox = LoopEventInbox(engine, secret=SECRET)
    holder = engine.raw_connection()
    try:
        holder.execute("BEGIN IMMEDIATE")  # another writer holds the database
        writing = asyncio.create_task(inbox.accept_async([("k1", "message", {})], now=datetime.now(UTC), lease=LEASE))
        started = time.monotonic()
        for _ in range(10):  # the loop keeps running meanwhile (acks are answered)
            await asyncio.sleep(0.02)
        assert time.monotonic() - started < 1.0 and not writing.done()
        holder.rollback()
        assert await writing == [True]
    finally:
        holder.close()
        await inbox.aclose()


async def test_a_sqlite_burst_is_written_on_the_loop_with_the_engines_times(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    if engine.dialect.name != "sqlite":
        pytest.skip("SQLite only")
    inbox = LoopEventInbox(engine, secret=SECRET)

    def in_a_thread(*_args: object, **_kwargs: object) -> list[bool]:
        raise AssertionError("written through the engine in a thread, not on the loop")

    monkeypatch.setattr(SqlEventInbox, "accept_many", in_a_thread)
    now = datetime.now(UTC)
    events = [(f"k{n}", "message", {"event": {"text": f"card 4111 1111 1111 111{n}"}}) for n in range(3)]
    try:
        assert await inbox.accept_async([*events, events[0]], now=now, lease=LEASE) == [True, True, True, False]
    finally:
        await inbox.aclose()
    assert inbox.due(now=now + LEASE - timedelta(seconds=1), lease=LEASE) == []  # the lease compared as stored
    replayed = inbox.due(now=now + LEASE + timedelta(seconds=1), lease=LEASE)
    assert [(item.key, item.body) for item in replayed] == [(key, body) for key, _, body in events]


async def test_a_burst_larger_than_one_claiming_statement_claims_each_key_once(engine: Engine) -> None:
    inbox = LoopEventInbox(engine, secret=SECRET)
    now = datetime.now(UTC)
    assert await inbox.accept_async([("k7", "message", {})], now=now, lease=LEASE) == [True]
    events = [(f"k{n}", "message", {"n": n}) for n in range(900)]  # three claiming statements on SQLite
    try:
        accepted = await inbox.accept_async([*events, events[450]], now=now, lease=LEASE)
    finally:
        await inbox.aclose()
    assert accepted == [n != 7 for n in range(900)] + [False]  # k7 kept before; the second k450 is a repeat
    assert inbox.count() == {"pending": 900}
