"""The one Slack user-id pattern the core and the Slack connector share (stories/actors.py), and the mention
markup built on it (handlers/slack/mrkdwn.py)."""

from __future__ import annotations

import pytest

from handlers.slack.mrkdwn import MENTION
from stories.actors import is_slack_user
from stories.nudges import user_platform


@pytest.mark.parametrize(
    ("value", "slack"),
    [
        ("U0123ABCD", True),
        ("W0123ABCD", True),  # Enterprise Grid
        ("C0123ABCD", False),  # a channel
        ("S0CXTEAM01", False),  # a user group
        ("u0123abcd", False),
        ("U0123ABCD ", False),
        ("29:1a2b3c", False),  # Teams
        ("8d1c0c3e-6b1f-4c57-9a0e-3b6f1f0a2b7c", False),  # an AAD object id
        ("U" + "A" * 30, False),
    ],
)
def test_slack_user_ids(value: str, slack: bool) -> None:
    assert is_slack_user(value) is slack
    assert user_platform(value) == ("slack" if slack else "teams")


def test_mentions_with_and_without_a_label() -> None:
    found = [m.groups() for m in MENTION.finditer("ask <@U0123ABCD> or <@W0999ZZZ|ana>, not <!channel>")]
    assert found == [("U0123ABCD", None), ("W0999ZZZ", "ana")]
