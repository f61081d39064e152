"""`/cx stats all` over HTTP on Slack: every department ranked by follow-through when the CX team turned the view
on, a clear answer when it is off, and help lists the form."""

from __future__ import annotations

import copy
from collections.abc import Callable

from bot.settings import Settings
from tests.fakes.slack_api import FakeSlackApi
from tests.slack.conftest import CONFIG, SlackServer, command_fields, payload, running


async def _ask(slack: SlackServer, text: str) -> dict:  # type: ignore[type-arg]
    status, _, _ = await slack.command(command_fields(text=text, user_id="U0MANAGER1"))
    assert status == 200
    await slack.settle()
    return slack.api.calls_to("response_url")[-1].params


async def test_stats_all_ranks_every_department_by_follow_through_when_turned_on(
    slack_api: FakeSlackApi, slack_settings: Callable[..., Settings]
) -> None:
    config = copy.deepcopy(CONFIG)
    config["stats"] = {"all_departments_view": True}
    async with running(slack_settings(), slack_api, config) as slack:
        await slack.event(payload("event_message_channels.json"))  # a story for Finance
        await slack.settle()
        answer = await _ask(slack, "stats all")
    blocks = answer["blocks"]
    assert blocks[0]["text"]["text"] == "Follow-through, all departments: last 30 days"
    lines = blocks[1]["text"]["text"].splitlines()
    assert lines[0].startswith("1. Finance: 1 story, 0 read (0%) · 0 commitments and 0 closed per 10 stories")
    assert lines[1:] == ["– Product: no stories received · 0 overdue", "– Support: no stories received · 0 overdue"]
    assert "Scores (NPS, CSAT) are not used" in blocks[-1]["elements"][0]["text"]


async def test_stats_all_says_how_to_turn_it_on_when_it_is_off(slack: SlackServer) -> None:
    answer = await _ask(slack, "stats all")
    assert "The all-departments view is off" in answer["text"]
    assert "Follow-through" not in str(answer["blocks"])


async def test_help_lists_stats_all_on_slack(slack: SlackServer) -> None:
    answer = await _ask(slack, "help")
    assert "/cx stats [department | all]" in answer["blocks"][0]["text"]["text"]
