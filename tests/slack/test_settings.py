"""Missing or contradictory Slack settings stop start-up with a message that names the variable."""

from __future__ import annotations

import pytest

from bot.cli import main


@pytest.mark.parametrize(
    ("environment", "named"),
    [
        ({"SLACK_BOT_TOKEN": "xoxb-1"}, "SLACK_SIGNING_SECRET"),
        ({"SLACK_CLIENT_ID": "1.2", "SLACK_SIGNING_SECRET": "s"}, "SLACK_CLIENT_SECRET"),
        (
            {
                "SLACK_BOT_TOKEN": "xoxb-1",
                "SLACK_CLIENT_ID": "1.2",
                "SLACK_CLIENT_SECRET": "c",
                "SLACK_SIGNING_SECRET": "s",
            },
            "SLACK_CLIENT_ID",
        ),
        ({"SLACK_APP_TOKEN": "xapp-1-A-1-x"}, "SLACK_BOT_TOKEN"),
        ({"SLACK_APP_TOKEN": "xoxb-not-an-app-token", "SLACK_BOT_TOKEN": "xoxb-1"}, "SLACK_APP_TOKEN"),
    ],
)
def test_serve_refuses_slack_settings_that_cannot_work(
    monkeypatch: pytest.MonkeyPatch, environment: dict[str, str], named: str
) -> None:
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(SystemExit) as stopped:
        main(["serve", "--port", "1"])
    assert "invalid environment settings" in str(stopped.value)
    assert named in str(stopped.value)


def test_a_missing_signing_secret_is_one_line_naming_it_and_where_to_find_it(monkeypatch: pytest.MonkeyPatch) -> None:
    """It read "settings: Value error, SLACK_SIGNING_SECRET is required ..." (pydantic's words, no fix)."""
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-1")
    with pytest.raises(SystemExit) as stopped:
        main(["doctor"])
    assert str(stopped.value) == (
        "cxbot: invalid environment settings:\n  SLACK_SIGNING_SECRET is required with SLACK_BOT_TOKEN or "
        "SLACK_CLIENT_ID: copy it from the app's Basic Information page (`cxbot slack-app create` prints it), or "
        "set SLACK_APP_TOKEN for Socket Mode"
    )
