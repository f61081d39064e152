"""Kudos people trust on Slack, over the fake Web API: the weekly praise push with its person picker and
"Give kudos" button (posted once a week; a click gives kudos linked to the story), `/cx kudos top`, opt-out
and the monthly limit. The rules themselves are tested once in tests/test_kudos_trust.py."""

from __future__ import annotations

import asyncio
import copy
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from bot.settings import Settings
from storage.models import Delivery, Kudos
from tests.fakes.slack_api import FakeSlackApi
from tests.slack.conftest import CONFIG, SlackServer, command_fields, payload, running

KUDOS_CONFIG: dict[str, Any] = {
    **CONFIG,
    "kudos": {"monthly_limit": 2, "praise_slack_channel": "C0CXPRAISE", "praise_hour": 0},
}
PRAISE = "Maria at the front desk was wonderful and sorted my refund in minutes, thank you!"


@pytest.fixture
async def slack(slack_api: FakeSlackApi, slack_settings: Callable[..., Settings]) -> AsyncIterator[SlackServer]:
    async with running(slack_settings(), slack_api, KUDOS_CONFIG) as server:
        yield server


async def _run(slack: SlackServer, text: str, *, user: str, trigger: str) -> dict[str, Any]:
    before = len(slack.api.calls_to("response_url"))
    await slack.command(command_fields(text=text, user_id=user, trigger_id=trigger))
    await slack.settle()
    calls = slack.api.calls_to("response_url")
    assert len(calls) == before + 1
    return dict(calls[-1].params)


def _text(message: dict[str, Any]) -> str:
    return " ".join(
        str(b.get("text", {}).get("text", "")) for b in message["blocks"] if isinstance(b.get("text"), dict)
    )


def _next_monday() -> datetime:
    today = datetime.now(UTC)
    return (today + timedelta(days=7 - today.weekday())).replace(hour=10, minute=0, second=0, microsecond=0)


def _click(story_id: int, name: str, *, picked: str | None, ts: str, action_ts: str) -> dict[str, Any]:
    body = copy.deepcopy(payload("block_actions_follow_up.json"))
    body["user"] = {"id": "U0CXAGENT1", "username": "carla", "name": "carla", "team_id": "T0FAKE0001"}
    body["container"].update(message_ts=ts, channel_id="C0CXPRAISE")
    body["channel"] = {"id": "C0CXPRAISE", "name": "cx-praise"}
    body["message"]["ts"] = ts
    selected = {"type": "users_select", "selected_user": picked} if picked else {"type": "users_select"}
    body["state"] = {"values": {f"praise:{story_id}": {"praise_pick_person": selected}}}
    body["actions"] = [
        {
            "action_id": "praise_give_kudos",
            "block_id": f"praise:{story_id}",
            "text": {"type": "plain_text", "text": "Give kudos"},
            "value": f"{story_id}:{name}",
            "type": "button",
            "action_ts": action_ts,
        }
    ]
    return body


async def test_the_weekly_praise_push_has_a_give_kudos_button_that_thanks_the_picked_person_once(
    slack: SlackServer,
) -> None:
    routed = await _run(slack, f"story {PRAISE}", user="U0DANA0001", trigger="1764271500.1.story")
    story_id = int(_text(routed).split("story #")[1].split(":")[0])
    await slack.settle()

    monday = _next_monday()  # the sweep's plan that Monday, and again two hours later: one push
    for at in (monday, monday + timedelta(hours=2)):
        plan = await asyncio.to_thread(slack.app.planner.plan, at)
        await asyncio.to_thread(slack.app.outbox.enqueue, plan.praise)
        await slack.settle()
    [push] = [c for c in slack.api.calls_to("chat.postMessage", ok_only=True) if c.params["channel"] == "C0CXPRAISE"]
    assert slack.count(Delivery, Delivery.kind == "praise") == 1
    blocks = push.blocks
    assert blocks[0]["text"]["text"] == "Praise from customers in the last 7 days"
    assert "Maria at the front desk was wonderful" in blocks[2]["text"]["text"]
    [actions] = [b for b in blocks if b["type"] == "actions"]
    assert actions["block_id"] == f"praise:{story_id}"
    picker, button = actions["elements"]
    assert (picker["type"], picker["action_id"], picker["placeholder"]["text"]) == (
        "users_select",
        "praise_pick_person",
        "Who is Maria?",
    )
    assert (button["action_id"], button["value"], button["text"]["text"]) == (
        "praise_give_kudos",
        f"{story_id}:Maria",
        "Give kudos",
    )
    ts = str(push.response["ts"])

    # Clicking without picking says what to do; picking then clicking (twice) thanks Dana once.
    await slack.interact(_click(story_id, "Maria", picked=None, ts=ts, action_ts="1764271600.000001"))
    await slack.settle()
    assert "First pick who Maria is" in slack.api.calls_to("chat.postEphemeral")[-1].payload_text()
    assert slack.count(Kudos) == 0
    for n in (2, 3):
        await slack.interact(_click(story_id, "Maria", picked="U0DANA0001", ts=ts, action_ts=f"1764271600.00000{n}"))
        await slack.settle()

    with slack.app.engine.connect() as conn:
        rows = conn.execute(select(Kudos.giver, Kudos.receiver, Kudos.story_id, Kudos.source, Kudos.department)).all()
    assert [tuple(r) for r in rows] == [("U0CXAGENT1", "U0DANA0001", story_id, "customer_praise", "Finance")]
    answer = slack.api.calls_to("chat.postEphemeral")[-1]
    assert answer.params["channel"] == "C0CXPRAISE" and answer.params["user"] == "U0CXAGENT1"
    assert f"From story #{story_id}" in answer.payload_text()
    posts = slack.api.calls_to("chat.postMessage", ok_only=True)
    [public] = [c.params["text"] for c in posts if c.params["channel"] == "C0KUDOS001"]
    [direct] = [c.params["text"] for c in posts if c.params["channel"] == "U0DANA0001"]
    reference = f"(from story #{story_id} “"
    assert public.startswith("Kudos to ") and "from a customer, passed on by" in public
    assert reference in public and reference in direct


async def test_kudos_top_optout_and_the_monthly_limit_over_slack(slack: SlackServer) -> None:
    give = "kudos <@U0DANA0001|dana> for calling back the same day"
    await _run(slack, give, user="U0CXAGENT1", trigger="1764271500.1.kudos")
    await _run(slack, "kudos <@U0MANAGER1|fiona> for the refund fix", user="U0CXAGENT1", trigger="1764271500.2.k")

    board = await _run(slack, "kudos top", user="U0DANA0002", trigger="1764271500.4.top")
    assert board["blocks"][0]["text"]["text"].startswith("Kudos, ")
    assert board["blocks"][1]["text"]["text"] == (
        "1. <@U0DANA0001>: thanked by 1 person\n2. <@U0MANAGER1>: thanked by 1 person"
    )

    out = await _run(slack, "kudos optout", user="U0DANA0001", trigger="1764271500.5.out")
    assert "you will not receive public kudos" in _text(out)
    board = await _run(slack, "kudos top", user="U0DANA0002", trigger="1764271500.6.top")
    assert board["blocks"][1]["text"]["text"] == "1. <@U0MANAGER1>: thanked by 1 person"

    refused = await _run(slack, give.replace("same", "next"), user="U0CXAGENT1", trigger="1764271500.7.k")
    assert "dana has asked not to receive public kudos, so nothing was posted" in _text(refused)
    over = await _run(slack, "kudos <@U0SUPPORTL|sam> for the rota", user="U0CXAGENT1", trigger="1764271500.3.k")
    assert "You have given your 2 kudos for" in _text(over)
    with slack.app.engine.connect() as conn:
        assert conn.execute(select(Kudos.receiver).order_by(Kudos.id)).scalars().all() == ["U0DANA0001", "U0MANAGER1"]
    posts = [c.params["channel"] for c in slack.api.calls_to("chat.postMessage", ok_only=True)]
    assert posts.count("U0DANA0001") == 1 and "U0SUPPORTL" not in posts  # one DM to Dana, before she opted out
