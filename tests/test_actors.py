"""The one Slack user-id pattern the core and the Slack connector share (stories/actors.py), and the mention
markup built on it (handlers/slack/mrkdwn.py)."""

from __future__ import annotations

import pytest

from handlers.slack.mrkdwn import MENTION
from stories.actors import Actor, is_admin, is_cx_team, is_slack_user, managed_departments
from stories.config import CxConfig, Department, People
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


def test_the_configuration_may_name_a_person_by_an_alias_the_platform_confirmed() -> None:
    config = CxConfig(
        default_department="CX",
        departments=(Department(name="CX"), Department(name="Finance", managers=("Fiona.Walsh@Contoso.com",))),
        cx_team=People(users=("carla@contoso.com", "U0CARLA001")),
    )
    fiona = Actor(platform="teams", user_id="f10a7e5d", aliases=frozenset({"fiona.walsh@contoso.com"}))
    assert managed_departments(config, fiona) == ("Finance",) and not is_cx_team(config, fiona)
    carla = Actor(platform="teams", user_id="c33aafc4", aliases=frozenset({"carla@contoso.com"}))
    assert is_cx_team(config, carla) and is_admin(config, carla)
    unconfirmed = Actor(platform="teams", user_id="c33aafc4")  # the roster could not be asked: no aliases
    assert not is_cx_team(config, unconfirmed) and managed_departments(config, unconfirmed) == ()
    assert not is_cx_team(config, Actor(platform="teams", user_id="carla@contoso.com".upper()))  # ids are exact
    assert is_admin(config, Actor(platform="teams", user_id="x", admin=True))  # a team owner, by the roster
