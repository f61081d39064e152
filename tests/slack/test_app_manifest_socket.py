"""`cxbot slack-app create --socket-mode`: an app for a server without a public address (SLACK_APP_TOKEN), made
through apps.manifest.create on the fake Slack Web API with no request URL in it, and the app-level token step
printed, since no API call makes that token."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

import pytest

from bot.cli import main
from tests.fakes.slack_api import FakeSlackApi
from tests.slack.test_manifest_event_scopes import problems

CONFIG_TOKEN = "xoxe.xoxp-1-fake-configuration-token"


@pytest.fixture
async def slack_api(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[FakeSlackApi]:
    async with FakeSlackApi() as fake:
        fake.config_tokens.add(CONFIG_TOKEN)
        monkeypatch.setenv("SLACK_API_URL", fake.base_url)
        yield fake


async def test_socket_mode_creates_the_app_without_request_urls_and_says_to_make_the_app_token(
    slack_api: FakeSlackApi, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["slack-app", "create", "--socket-mode", "--token", CONFIG_TOKEN]
    assert await asyncio.to_thread(main, argv) == 0
    [call] = slack_api.calls_to("apps.manifest.create", ok_only=True)
    sent = json.loads(call.params["manifest"])
    assert sent["settings"]["socket_mode_enabled"] is True
    assert "https://" not in json.dumps(sent) and "example.com" not in json.dumps(sent)
    assert sent["settings"]["interactivity"]["is_enabled"] is True  # the shortcut and buttons still work
    assert problems(sent) == []
    out = capsys.readouterr().out
    assert "connections:write" in out and "SLACK_APP_TOKEN=" in out and "SLACK_BOT_TOKEN=" in out
    assert "SLACK_SIGNING_SECRET" not in out  # Socket Mode requests are not signed HTTP requests


def test_socket_mode_with_a_url_keeps_only_the_oauth_redirect(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["slack-app", "create", "--socket-mode", "--url", "https://cx.acme.test", "--dry-run"]
    assert main(argv) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["oauth_config"]["redirect_urls"] == ["https://cx.acme.test/slack/oauth_redirect"]
    assert "request_url" not in printed["settings"]["event_subscriptions"]


def test_neither_url_nor_socket_mode_says_which_to_give(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["slack-app", "create", "--dry-run"]) == 2
    assert "give --url https://" in capsys.readouterr().err
