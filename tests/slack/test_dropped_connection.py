"""A dropped database connection costs no request its data. The app's own sessions are ended on the server with
``pg_terminate_backend`` (found by their application_name, DB_APPLICATION_NAME; the shared server keeps running),
then ``POST /ingest`` and a Slack event arrive: both are answered and stored, since the pool tests a connection
before lending it out (DB_POOL_PRE_PING). Without that, the first request after the drop fails."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import text

from bot.settings import Settings
from storage.db import make_engine
from storage.models import Comment, InboxEvent
from tests.conftest import PG_URL
from tests.fakes.slack_api import FakeSlackApi
from tests.slack.conftest import SlackServer, fresh_event, running

pytestmark = pytest.mark.postgres

TOKEN = "ingest-token"


@pytest.fixture
def pg_settings(database_url: str, slack_settings: Callable[..., Settings]) -> Callable[..., Settings]:
    if not database_url.startswith("postgresql"):
        pytest.skip("pg_terminate_backend is PostgreSQL's")

    def make(**overrides: Any) -> Settings:
        name = f"cxtest-{uuid.uuid4().hex[:8]}"
        return slack_settings(db_application_name=name, cx_ingest_token=TOKEN, **overrides)

    return make


def terminate_our_sessions(application_name: str) -> int:
    """End every server session of the app under test (and only those), waiting until they are gone (the 5 s
    timeout; PostgreSQL 14+), as they are by the next request after a restart or failover; returns how many."""
    assert PG_URL
    admin = make_engine(PG_URL)
    try:
        with admin.begin() as conn:
            ended = conn.execute(
                text(
                    "SELECT count(pg_terminate_backend(pid, 5000)) FROM pg_stat_activity "
                    "WHERE application_name = :name AND pid <> pg_backend_pid()"
                ),
                {"name": application_name},
            ).scalar_one()
    finally:
        admin.dispose()
    return int(ended)


async def ingest(server: SlackServer, item: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    async with server.session.post(
        f"{server.url}/ingest", json=item, headers={"Authorization": f"Bearer {TOKEN}"}
    ) as response:
        return response.status, await response.json()


async def test_ingest_and_a_slack_event_right_after_the_connections_are_dropped_are_stored(
    pg_settings: Callable[..., Settings], slack_api: FakeSlackApi
) -> None:
    settings = pg_settings()
    async with running(settings, slack_api) as server:
        status, _ = await ingest(server, {"text": "The parcel came late", "id": "before"})
        assert status == 200
        await server.settle()
        assert terminate_our_sessions(settings.db_application_name) >= 1

        status, answer = await ingest(server, {"text": "My invoice is wrong", "id": "after"})
        assert status == 200 and [c["id"] for c in answer["created"]] == ["after"]

        assert terminate_our_sessions(settings.db_application_name) >= 1
        status, _, _ = await server.event(fresh_event("event_message_channels.json"))
        assert status == 200
        await server.settle()
        assert server.count(Comment, Comment.external_id == "after") == 1
        assert server.count(Comment, Comment.source == "slack") == 1
        assert server.count(InboxEvent) == 0  # handled, not left for a replay


async def test_without_pre_ping_the_first_request_after_a_drop_fails(
    pg_settings: Callable[..., Settings], slack_api: FakeSlackApi
) -> None:
    """The check that the setting is what keeps the requests above: off, a dropped connection is lent out."""
    settings = pg_settings(db_pool_pre_ping=False)
    async with running(settings, slack_api) as server:
        assert (await ingest(server, {"text": "The parcel came late", "id": "before"}))[0] == 200
        await server.settle()
        assert terminate_our_sessions(settings.db_application_name) >= 1
        status, answer = await ingest(server, {"text": "My invoice is wrong", "id": "after"})
        assert status == 503 and "retry" in answer["error"]
        assert (await ingest(server, {"text": "My invoice is wrong", "id": "after"}))[0] == 200  # the retry
