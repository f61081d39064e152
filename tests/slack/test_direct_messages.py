"""A plain reply in the bot's direct messages (``message.im``) answers the open pulse, through the same core call
as Teams; otherwise it gets a short help line. Over HTTP to cxbot and the fake Slack Web API."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import pytest

from handlers.slack.direct import HELP
from stories.pulse import MonthCount
from tests.fakes.slack_api import Call
from tests.slack.conftest import SlackServer, fresh_event
from tests.slack.test_rituals import CX, run

DANA, DANA_DM = "U0DANA0001", "D0DANA0001"
ANSWER = "Honestly the small shop owners who are our customers"


def dm(text: str = ANSWER, *, user: str = DANA, channel: str = DANA_DM, **changes: Any) -> dict[str, Any]:
    return fresh_event("event_message_im.json", text=text, user=user, channel=channel, **changes)


def replies_in(slack: SlackServer, channel: str) -> list[Call]:
    return [c for c in slack.api.calls_to("chat.postMessage", ok_only=True) if c.params["channel"] == channel]


def counts(slack: SlackServer) -> list[MonthCount]:
    return slack.app.rituals.store.pulse_counts(since_month="2000-01")


async def asked_the_pulse(slack: SlackServer) -> None:
    await run(slack, f"pulse add <@{DANA}|dana> finance", user=CX, channel="C0CX")
    await asyncio.to_thread(slack.app.rituals.queue, datetime.now(UTC))
    await slack.settle()
    [question] = replies_in(slack, DANA)
    assert "a reply here" in question.params["text"]


async def test_a_plain_reply_in_the_dm_is_recorded_as_the_pulse_answer_once(
    slack: SlackServer, caplog: pytest.LogCaptureFixture
) -> None:
    await asked_the_pulse(slack)
    body = dm()
    assert (await slack.event(body))[0] == 200
    await slack.settle()
    [thanks] = replies_in(slack, DANA_DM)
    assert "your words are not kept" in thanks.payload_text()
    [count] = counts(slack)
    assert (count.department, count.answers, count.customers) == ("Finance", 1, 1)

    retried = await slack.event(body, headers={"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "timeout"})
    assert retried[0] == 200
    await slack.settle()
    assert len(replies_in(slack, DANA_DM)) == 1 and counts(slack)[0].answers == 1  # the same event id: nothing
    assert ANSWER not in caplog.text

    assert (await slack.event(dm("my manager")))[0] == 200  # answered already: not counted again
    await slack.settle()
    assert replies_in(slack, DANA_DM)[-1].params["text"] == HELP
    assert counts(slack)[0].answers == 1


async def test_a_dm_when_no_pulse_is_open_gets_a_short_help_reply(slack: SlackServer) -> None:
    assert (await slack.event(dm("hello, where are the stories?", user="U0NOTASKED", channel="D0NOTASKED")))[0] == 200
    await slack.settle()
    [reply] = replies_in(slack, "D0NOTASKED")
    assert reply.params["text"] == HELP and "/cx help" in HELP
    assert counts(slack) == []


async def test_the_bots_own_messages_and_edits_in_the_dm_are_ignored(slack: SlackServer) -> None:
    await asked_the_pulse(slack)
    own = dm("Thanks: your words are not kept.", bot_id="B0FAKEBOT1", subtype="bot_message")
    edited = dm(subtype="message_changed")
    for body in (own, edited):
        assert (await slack.event(body))[0] == 200
    await slack.settle()
    assert replies_in(slack, DANA_DM) == [] and counts(slack) == []
