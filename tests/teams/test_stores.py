"""The stores the Teams connector writes: conversation references (upsert) and processed activity ids."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, func, select

from storage.conversations import SqlConversationRefs
from storage.models import ConversationRef
from storage.processed import SqlProcessedEvents

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def _reference(conversation: str, service_url: str) -> dict:
    return {"serviceUrl": service_url, "conversation": {"id": conversation}, "bot": {"id": "28:bot"}}


def test_saving_a_reference_twice_keeps_one_row_with_the_newest_service_url(engine: Engine) -> None:
    refs = SqlConversationRefs(engine)
    refs.save(
        conversation_id="19:a@thread.tacv2", scope="channel", reference=_reference("19:a", "https://old/"), now=NOW
    )
    refs.save(
        conversation_id="19:a@thread.tacv2",
        scope="channel",
        reference=_reference("19:a", "https://new/"),
        now=NOW + timedelta(minutes=1),
        team_id="19:team",
    )
    with engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(ConversationRef)) == 1
    assert refs.get("19:a@thread.tacv2")["serviceUrl"] == "https://new/"
    assert refs.get("19:unknown") is None


def test_personal_reference_is_found_by_user_and_newest_wins(engine: Engine) -> None:
    refs = SqlConversationRefs(engine)
    refs.save(conversation_id="a:1", scope="personal", user_id="aad-dana", reference=_reference("a:1", "s1"), now=NOW)
    refs.save(
        conversation_id="a:2",
        scope="personal",
        user_id="aad-dana",
        reference=_reference("a:2", "s2"),
        now=NOW + timedelta(hours=1),
    )
    refs.save(conversation_id="19:c", scope="channel", reference=_reference("19:c", "s3"), now=NOW)
    assert refs.personal("aad-dana")["conversation"]["id"] == "a:2"
    assert refs.personal("aad-someone-else") is None
    assert refs.newest()["conversation"]["id"] == "a:2"


def test_an_event_key_is_claimed_once_until_forgotten(engine: Engine) -> None:
    processed = SqlProcessedEvents(engine)
    assert processed.first_time("teams:19:a:1700000000001", now=NOW) is True
    assert processed.first_time("teams:19:a:1700000000001", now=NOW) is False
    processed.forget("teams:19:a:1700000000001")
    assert processed.first_time("teams:19:a:1700000000001", now=NOW) is True


def test_old_event_keys_are_pruned_and_recent_ones_kept(engine: Engine) -> None:
    processed = SqlProcessedEvents(engine)
    processed.first_time("old", now=NOW - timedelta(days=8))
    processed.first_time("recent", now=NOW - timedelta(days=1))
    assert processed.prune(before=NOW - timedelta(days=7)) == 1
    assert processed.first_time("old", now=NOW) is True  # forgotten: a new delivery would be handled
    assert processed.first_time("recent", now=NOW) is False
