"""Socket Mode (SLACK_APP_TOKEN): the same listeners over Slack's WebSocket, no public URL needed."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import pytest

from bot.settings import Settings
from storage.models import Comment
from tests.fakes.slack_api import FakeSlackApi
from tests.slack.conftest import SlackServer, payload, running
from tests.timing import eventually

APP_TOKEN = "xapp-1-A0FAKEAPP1-1234567890-socketmodetoken"


@pytest.fixture
async def socket(slack_api: FakeSlackApi, slack_settings: Callable[..., Settings]) -> AsyncIterator[SlackServer]:
    slack_api.tokens.add(APP_TOKEN)
    async with running(slack_settings(slack_app_token=APP_TOKEN, slack_signing_secret=None), slack_api) as server:
        yield server


async def test_events_arrive_over_socket_mode_and_are_acknowledged(socket: SlackServer) -> None:
    opened = await socket.api.wait_for("apps.connections.open")
    assert opened[0].headers["Authorization"] == f"Bearer {APP_TOKEN}"
    envelope = await socket.api.socket_send(kind="events_api", payload=payload("event_message_channels.json"))
    await eventually(lambda: any(ack["envelope_id"] == envelope for ack in socket.api.socket_acks), what="the ack")
    assert [ack["envelope_id"] for ack in socket.api.socket_acks] == [envelope]
    assert socket.app.metrics.value("cxbot_ack_seconds_count", platform="slack") == 1  # timed as HTTP acks are
    await socket.settle()
    assert socket.count(Comment) == 1
    assert socket.api.calls_to("chat.postMessage", ok_only=True)[0].params["channel"] == "C0FINANCE1"


async def test_no_http_endpoint_in_socket_mode(socket: SlackServer) -> None:
    async with socket.session.post(f"{socket.url}/slack/events", data=b"{}") as answer:
        assert answer.status in (404, 405)
