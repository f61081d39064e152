"""Starting with SLACK_BOT_TOKEN in the environment (Docker compose passes .env as the environment) logs no
WARNING from bolt: it reads that variable by itself and warned, on every start, that our client wins over it."""

from __future__ import annotations

import logging
from collections.abc import Callable

import pytest

from bot.settings import Settings
from tests.fakes.slack_api import DEFAULT_TOKEN, FakeSlackApi
from tests.slack.conftest import running


async def test_a_token_in_the_environment_starts_without_a_bolt_warning(
    slack_api: FakeSlackApi,
    slack_settings: Callable[..., Settings],
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SLACK_BOT_TOKEN", DEFAULT_TOKEN)
    with caplog.at_level(logging.WARNING):
        async with running(slack_settings(), slack_api):
            pass
    assert [r.getMessage() for r in caplog.records if r.name.startswith("slack_bolt")] == []
