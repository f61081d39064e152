"""User groups (CX team, managers) and profiles from Slack, cached for a few minutes, never over-trusted."""

from __future__ import annotations

from handlers.slack.client import web_client
from handlers.slack.people import FAILED_TTL, TTL, People
from tests.fakes.slack_api import DEFAULT_TOKEN, FakeSlackApi


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def test_groups_are_cached_for_the_ttl_then_asked_again(slack_api: FakeSlackApi) -> None:
    clock = Clock()
    people = People(groups=["S0CXTEAM01", "S0SUPPORTM"], clock=clock)
    client = web_client(base_url=slack_api.base_url, token=DEFAULT_TOKEN)
    assert await people.groups_of(client, "U0CXAGENT1") == {"S0CXTEAM01"}
    assert await people.groups_of(client, "U0SUPPORTL") == {"S0SUPPORTM"}
    assert len(slack_api.calls_to("usergroups.users.list")) == 2  # once per group
    slack_api.usergroups["S0CXTEAM01"] = ["U0SOMEONE1"]  # membership changes in Slack
    assert await people.groups_of(client, "U0CXAGENT1") == {"S0CXTEAM01"}  # still cached
    clock.now += TTL + 1
    assert await people.groups_of(client, "U0CXAGENT1") == frozenset()
    assert len(slack_api.calls_to("usergroups.users.list")) == 4


async def test_a_failing_lookup_grants_nothing_and_is_retried_soon(slack_api: FakeSlackApi) -> None:
    clock = Clock()
    people = People(groups=["S0CXTEAM01"], clock=clock)
    client = web_client(base_url=slack_api.base_url, token=DEFAULT_TOKEN)
    slack_api.queue("usergroups.users.list", error="missing_scope")
    assert await people.groups_of(client, "U0CXAGENT1") == frozenset()
    clock.now += FAILED_TTL + 1
    assert await people.groups_of(client, "U0CXAGENT1") == {"S0CXTEAM01"}


async def test_actor_has_name_timezone_and_groups(slack_api: FakeSlackApi) -> None:
    slack_api.users["U0CXAGENT1"] = {
        "id": "U0CXAGENT1",
        "tz": "America/New_York",
        "is_admin": True,
        "profile": {"display_name": "Cam", "real_name": "Cam Smith"},
    }
    people = People(groups=["S0CXTEAM01"])
    actor = await people.actor(web_client(base_url=slack_api.base_url, token=DEFAULT_TOKEN), "U0CXAGENT1")
    assert (actor.platform, actor.name, actor.timezone, actor.admin) == ("slack", "Cam", "America/New_York", True)
    assert actor.groups == {"S0CXTEAM01"}
