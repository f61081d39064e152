"""/cx over HTTP: help, actions with Mark done / Drop and pages, kudos (CX team only), stats, story."""

from __future__ import annotations

import json
import logging
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from storage.command_store import SqlCommandStore
from storage.models import Comment, Commitment, Kudos, ProcessedEvent
from stories.commands import COMMANDS
from stories.followup import commit
from tests.fakes.slack_api import Call
from tests.slack.conftest import SlackServer, command_fields, payload


async def _run(slack: SlackServer, text: str, *, user: str = "U0MANAGER1", trigger: str | None = None) -> Call:
    fields = command_fields(text=text, user_id=user)
    if trigger:
        fields["trigger_id"] = trigger
    before = len(slack.api.calls_to("response_url"))
    status, answer, seconds = await slack.command(fields)
    assert status == 200 and answer == b"" and seconds < 1.0  # acked empty, answered at the response_url
    await slack.settle()
    calls = slack.api.calls_to("response_url")
    assert len(calls) == before + 1
    assert calls[-1].params["response_type"] == "ephemeral"
    return calls[-1]


async def _story(slack: SlackServer) -> tuple[int, str]:
    await slack.event(payload("event_message_channels.json"))
    await slack.settle()
    post = slack.api.calls_to("chat.postMessage", ok_only=True)[0]
    return int(post.blocks[-1]["elements"][0]["value"]), str(post.response["ts"])


def _commit(slack: SlackServer, story_id: int, *, what: str, owner: str = "U0DANA0001", due: date | None = None) -> int:
    now = datetime.now(UTC)
    item = commit(
        store=SqlCommandStore(slack.app.engine, slack.app.departments),
        outbox=slack.app.outbox,
        key=f"test:{what}",
        story_id=story_id,
        department="Finance",
        owner=owner,
        owner_name="Dana",
        created_by=owner,
        platform="slack",
        what=what,
        due=due,
        now=now - timedelta(days=3),
        redactor=slack.app.pipeline.redactor,
        today=(now - timedelta(days=3)).date(),
    )
    return item.id


async def test_help_lists_the_slack_commands(slack: SlackServer) -> None:
    answer = await _run(slack, "help")
    text = answer.payload_text()
    for spec in COMMANDS:
        assert (f"/cx {spec.name}" in text) is ("slack" in spec.platforms)


async def test_unknown_subcommand_gets_help_not_an_error(slack: SlackServer) -> None:
    answer = await _run(slack, "frobnicate <!channel>")
    text = answer.payload_text()
    assert "/cx actions" in text and "frobnicate" in text
    assert "<!channel>" not in text


async def test_a_command_whose_text_says_payload_is_answered(slack: SlackServer) -> None:
    """bolt reads any form containing "payload" as an interactive payload, and this command came out empty."""
    answer = await _run(slack, "frobnicate the payload")
    assert "/cx actions" in answer.payload_text() and "frobnicate" in answer.payload_text()


async def test_manager_sees_department_actions_with_buttons_and_story_links(slack: SlackServer) -> None:
    story_id, ts = await _story(slack)
    overdue = _commit(slack, story_id, what="Call the customer", due=date.today() - timedelta(days=1))
    later = _commit(slack, story_id, what="Refund the fee", due=date.today() + timedelta(days=5))
    await slack.settle()
    answer = await _run(slack, "actions")
    blocks = answer.params["blocks"]
    buttons = [e for b in blocks if b["type"] == "actions" for e in b["elements"]]
    done = [json.loads(e["value"])["id"] for e in buttons if e["action_id"] == "commitment_done"]
    assert done == [overdue, later]  # overdue first
    assert {e["action_id"] for e in buttons} == {"commitment_done", "commitment_drop"}
    assert f"p{ts.replace('.', '')}" in answer.payload_text()  # linked to the story's message
    assert "<@U0DANA0001>" in answer.payload_text()


def _click(answer: Call, action_id: str, index: int = 0, *, action_ts: str = "1764271300.001600") -> dict[str, Any]:
    button = [
        e
        for b in answer.params["blocks"]
        if b["type"] == "actions"
        for e in b["elements"]
        if e["action_id"] == action_id
    ][index]
    body = payload("block_actions_commitment_done.json")
    body["user"]["id"] = "U0MANAGER1"
    body["actions"][0].update(action_id=action_id, value=button["value"], action_ts=action_ts)
    return body


async def test_mark_done_closes_the_loop_once_and_refreshes_the_list(slack: SlackServer) -> None:
    story_id, ts = await _story(slack)
    commitment = _commit(slack, story_id, what="Call the customer")
    await slack.settle()
    answer = await _run(slack, "actions")
    click = _click(answer, "commitment_done")
    status, _, seconds = await slack.interact(click)
    assert status == 200 and seconds < 1.0
    await slack.interact(_click(answer, "commitment_done", action_ts="1764271300.201600"))  # double click
    await slack.settle()
    with slack.app.engine.connect() as conn:
        assert conn.execute(select(Commitment.state).where(Commitment.id == commitment)).scalar_one() == "done"
    closed = [c for c in slack.api.calls_to("chat.postMessage", ok_only=True) if "Closed the loop" in c.params["text"]]
    assert len(closed) == 1 and closed[0].params["thread_ts"] == ts
    refreshed = slack.api.calls_to("response_url")[-1]
    assert refreshed.params["replace_original"] is True
    assert "Nothing open" in refreshed.payload_text()


async def test_drop_closes_quietly(slack: SlackServer) -> None:
    """Nothing in the story's thread; only the CX team hears, since nobody follows the comment up now
    (stories.loop)."""
    story_id, _ = await _story(slack)
    commitment = _commit(slack, story_id, what="Call the customer")
    await slack.settle()
    posts_before = len(slack.api.calls_to("chat.postMessage"))
    await slack.interact(_click(await _run(slack, "actions"), "commitment_drop"))
    await slack.settle()
    with slack.app.engine.connect() as conn:
        assert conn.execute(select(Commitment.state).where(Commitment.id == commitment)).scalar_one() == "dropped"
    [line] = slack.api.calls_to("chat.postMessage")[posts_before:]
    assert line.params["channel"] == "C0SUPPORT1" and "thread_ts" not in line.params  # the CX team's channel
    assert "dropped their follow-up" in line.params["text"] and "Nobody is following" in line.params["text"]


async def test_long_lists_page_with_buttons(slack: SlackServer) -> None:
    story_id, _ = await _story(slack)
    for n in range(12):
        _commit(slack, story_id, what=f"Follow-up number {n}")
    await slack.settle()
    first = await _run(slack, "actions finance")
    assert "Page 1 of 2" in first.payload_text()
    next_button = [
        e
        for b in first.params["blocks"]
        if b["type"] == "actions"
        for e in b["elements"]
        if e["action_id"] == "actions_page"
    ]
    body = payload("block_actions_commitment_done.json")
    body["user"]["id"] = "U0MANAGER1"
    body["actions"][0].update(action_id="actions_page", value=next_button[0]["value"], action_ts="1764271400.000001")
    await slack.interact(body)
    await slack.settle()
    second = slack.api.calls_to("response_url")[-1]
    assert "Page 2 of 2" in second.payload_text() and second.params["replace_original"] is True
    assert sum(1 for b in second.params["blocks"] if b.get("block_id", "").startswith("commitment:")) == 2


async def test_kudos_from_outside_the_cx_team_is_politely_refused(slack: SlackServer) -> None:
    answer = await _run(slack, "kudos <@U0DANA0001|dana> for calling back the same day", user="U0DANA0002")
    assert "CX team" in answer.payload_text()
    await slack.settle()
    assert slack.count(Kudos) == 0
    assert not [c for c in slack.api.calls_to("chat.postMessage") if c.params["channel"] == "C0KUDOS001"]


async def test_kudos_from_the_cx_team_posts_and_dms_once(slack: SlackServer) -> None:
    text = "kudos <@U0DANA0001|dana> for calling back the same day"
    answer = await _run(slack, text, user="U0CXAGENT1", trigger="1764271500.42.kudos")
    assert "Kudos" in answer.payload_text()
    await slack.command(command_fields(text=text, user_id="U0CXAGENT1", trigger_id="1764271500.42.kudos"))  # resent
    await slack.settle()
    assert slack.count(Kudos) == 1
    posts = slack.api.calls_to("chat.postMessage", ok_only=True)
    [public] = [c.params["text"] for c in posts if c.params["channel"] == "C0KUDOS001"]
    [direct] = [c.params["text"] for c in posts if c.params["channel"] == "U0DANA0001"]
    assert public == "Kudos to dana from User U0CXAGENT1: for calling back the same day"
    assert direct == "Kudos to you from User U0CXAGENT1: for calling back the same day"


async def test_stats_for_a_department(slack: SlackServer) -> None:
    await _story(slack)
    answer = await _run(slack, "stats finance")
    assert answer.params["blocks"][0]["text"]["text"] == "Finance: last 30 days"
    facts = dict(f["text"].split("\n") for f in answer.params["blocks"][1]["fields"])
    assert facts["*Stories delivered*"] == "1"  # the story posted to Finance above
    assert facts["*Follow-ups opened*"] == "0" and facts["*NPS*"] == "– (0 responses)"


async def test_story_by_hand_says_where_it_went(slack: SlackServer) -> None:
    answer = await _run(slack, "story The parcel was late and the refund form is broken", user="U0DANA0001")
    assert "Sent to" in answer.payload_text()
    await slack.settle()
    with slack.app.engine.connect() as conn:
        assert conn.execute(select(Comment.source)).scalars().all() == ["slack:manual"]


async def test_a_resent_story_command_leaves_the_customers_words_in_no_key_and_no_info_log(
    slack: SlackServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    words = "Zebra-unique complaint: the courier threw my parcel"
    fields = command_fields(text=f"story {words}", user_id="U0DANA0001", trigger_id="1764271600.77.story")
    await slack.command(fields)
    await slack.command(fields)  # Slack resending the same command: handled once, and the skip is logged
    await slack.settle()
    assert slack.count(Comment) == 1
    with slack.app.engine.connect() as conn:
        keys = conn.execute(select(ProcessedEvent.key)).scalars().all()
        raw = conn.execute(select(Comment.raw_text)).scalar_one()
    assert "slack:command:1764271600.77.story" in keys
    assert raw is None and not [k for k in keys if "Zebra" in k]
    assert "slack: slack:command:1764271600.77.story already handled" in caplog.text
    assert not [r for r in caplog.records if r.levelno >= logging.INFO and "Zebra" in r.getMessage()]
