"""storage/inbox.py: the event inbox's claims and sealing, on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, select

from storage.inbox import MAX_ATTEMPTS, SqlEventInbox
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
