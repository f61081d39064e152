"""Slack not reachable (a wrong SLACK_API_URL, no route out, a proxy in the way): the commands an admin runs first
say so in a line with the fix, and `cxbot serve` still starts (the look-up of channel names is tried again in the
background until Slack answers).

Found by trying cxbot as a new admin: `cxbot doctor` printed a traceback and no checks at all, `cxbot serve` died
at start-up, and `cxbot slack-app create` printed urllib's traceback. slack_sdk raises aiohttp's and urllib's
connection errors as they are, not as SlackClientError.
"""

from __future__ import annotations

import asyncio
import copy
import logging
import socket
import time
from collections.abc import Callable

import pytest
from slack_sdk.web.async_client import AsyncWebClient

from bot.app import App
from bot.settings import Settings
from handlers.slack.app_manifest import AppManifestError, create_app, filled_manifest
from handlers.slack.channels import ChannelDirectory
from handlers.slack.doctor import slack_checks
from storage.models import Comment
from stories.config import CxConfig
from tests.fakes.slack_api import FakeSlackApi
from tests.slack.conftest import CONFIG, fresh_event, running
from tests.timing import GENEROUS


@pytest.fixture
def nowhere() -> str:
    """A Web API address where nothing listens (connection refused, at once)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/api/"


def _config() -> CxConfig:
    config = copy.deepcopy(CONFIG)
    config["departments"][0]["slack_channel"] = "#cx-finance"
    return CxConfig.model_validate(config)


async def test_doctor_says_slack_cannot_be_reached_with_the_fix(nowhere: str) -> None:
    checks = await slack_checks(client=AsyncWebClient(token="xoxb-1", base_url=nowhere), config=_config())
    [check] = checks
    assert check.status == "FAIL" and f"cannot reach Slack at {nowhere}" in check.detail
    assert "SLACK_API_URL" in check.fix


async def test_looking_up_channel_names_without_slack_logs_a_warning_and_carries_on(
    nowhere: str, caplog: pytest.LogCaptureFixture
) -> None:
    directory = ChannelDirectory(_config())
    with caplog.at_level(logging.WARNING):
        await directory.resolve(AsyncWebClient(token="xoxb-1", base_url=nowhere), token=_no_token)
    assert directory.id_of("#cx-finance") == "#cx-finance"  # not found yet; posts look again later
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and f"cannot reach Slack at {nowhere}" in warnings[0], warnings


async def _no_token(_workspace: object) -> None:
    return None


def test_slack_app_create_says_slack_cannot_be_reached(nowhere: str) -> None:
    with pytest.raises(AppManifestError, match=f"cannot reach Slack at SLACK_API_URL={nowhere}"):
        create_app(manifest=filled_manifest(url="https://cx.example.org"), token="xoxe.xoxp-1", api_url=nowhere)


async def test_an_intake_channel_named_while_slack_was_unreachable_turns_on_once_slack_answers(
    slack_settings: Callable[..., Settings], caplog: pytest.LogCaptureFixture
) -> None:
    """Slack down at start: the name is looked up again in the background (not only when a post needs it), so
    the intake channel turns on by itself, with no post and no restart."""
    config = copy.deepcopy(CONFIG)
    config["intake"]["slack_channels"] = ["#customer-voice"]
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))  # bound, not listening: connections are refused until the fake listens on it
        address = f"http://127.0.0.1:{sock.getsockname()[1]}/api/"
        fake = FakeSlackApi()
        fake.channels["C0INTAKE01"] = "customer-voice"

        def quick(app: App) -> None:
            assert app.slack is not None
            app.slack.context.channels.retry = (0.05, 0.2)  # the back-off, shortened to test it

        with caplog.at_level(logging.INFO):
            async with running(slack_settings(slack_api_url=address), fake, config, prepare=quick) as slack:
                await asyncio.sleep(0.3)  # a few look-ups fail while Slack cannot be reached
                assert slack.app.slack is not None and slack.app.slack.context.channels.intake == frozenset()
                await fake.start(sock=sock)
                try:
                    await fake.wait_for("conversations.list")
                    deadline = time.monotonic() + GENEROUS
                    while slack.count(Comment) == 0:  # the message an admin sends to see intake work
                        assert time.monotonic() < deadline, "the intake channel never turned on"
                        await slack.event(fresh_event("event_message_channels.json"))
                        await slack.settle()
                        await asyncio.sleep(0.05)
                finally:
                    await fake.close()
    assert [c.params["channel"] for c in fake.calls_to("chat.postEphemeral")] == ["C0INTAKE01"]
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len([w for w in warnings if "cannot reach Slack" in w]) == 1, warnings  # said once, not per look-up
    assert any("reached Slack at" in r.getMessage() for r in caplog.records)
