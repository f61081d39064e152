"""What `cxbot serve` says at start: each platform and route on or off, and why; scheduler chatter at DEBUG."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from bot.logs import configure
from bot.settings import Settings
from bot.startup import startup_lines


@pytest.fixture
def scheduler_logger() -> Iterator[logging.Logger]:
    logger = logging.getLogger("apscheduler")
    level = logger.level
    yield logger
    logger.setLevel(level)


def test_nothing_configured_says_what_is_off_and_which_setting_turns_it_on() -> None:
    lines = startup_lines(Settings())
    assert len(lines) <= 6
    slack, teams, ingest = lines[0], lines[1], lines[2]
    assert slack.startswith("slack: off (set SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET") and "404" in slack
    assert teams.startswith("teams: off (set MICROSOFT_APP_ID") and "CX_TEAMS_EMULATOR=true" in teams
    emulator = startup_lines(Settings(cx_teams_emulator=True))[1]
    assert emulator.startswith("teams: on without authentication (CX_TEAMS_EMULATOR")
    assert ingest == "ingest: off (set CX_INGEST_TOKEN)"


def test_configured_platforms_say_how_they_are_on_and_name_no_secret() -> None:
    settings = Settings(
        slack_bot_token="xoxb-secret-1",
        slack_signing_secret="shh-secret-2",
        cx_ingest_token="secret-3",
        microsoft_app_id="00000000-0000-0000-0000-000000000001",
        microsoft_app_password="secret-4",
    )
    lines = startup_lines(settings)
    assert lines[0] == "slack: on, one workspace (POST /slack/events)"
    assert lines[1].startswith("teams: on (POST /api/messages, Bot Framework authentication")
    assert lines[2] == "ingest: on (POST /ingest, bearer token)"
    assert "secret" not in "\n".join(lines)
    oauth = startup_lines(Settings(slack_client_id="1.2", slack_client_secret="s", slack_signing_secret="x"))
    assert oauth[0].startswith("slack: on, several workspaces through OAuth")


def test_scheduler_chatter_is_debug_only(scheduler_logger: logging.Logger) -> None:
    configure("INFO")
    assert not logging.getLogger("apscheduler.scheduler").isEnabledFor(logging.INFO)
    assert logging.getLogger("apscheduler.scheduler").isEnabledFor(logging.WARNING)
    scheduler_logger.setLevel(logging.NOTSET)
    configure("DEBUG")
    assert scheduler_logger.level == logging.NOTSET  # DEBUG keeps everything
