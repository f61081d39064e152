"""Issue 15 point 5 on Slack, over HTTP: `/cx opener`, `/cx pulse` (and its anonymity), `/cx ambassador`."""

from __future__ import annotations

import asyncio
import itertools
import logging
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from storage.models import Base, Delivery
from stories.models import IncomingComment
from stories.schedule import Schedule
from tests.fakes.slack_api import Call
from tests.slack.conftest import SlackServer, command_fields

_TRIGGERS = itertools.count(1)

VIVID_BAD = (
    "The invoice charged me twice and nobody answered for three weeks, so I had to cancel my direct debit and pay "
    "a late fee at my own bank. Terrible, awful service; I am furious."
)
VIVID_GOOD = (
    "Your refund team was wonderful: the invoice was sorted in a day, which meant I could pay my rent on time. "
    "Brilliant, thank you so much, truly excellent."
)
MILD = "Invoice was fine."
CX = "U0CXAGENT1"  # in the CX team's user group (conftest)


async def run(slack: SlackServer, text: str, *, user: str, channel: str = "C0FINANCE1") -> Call:
    """`/cx <text>` as ``user`` in ``channel`` (a new trigger id each time: a new request); the ephemeral answer."""
    fields = command_fields(text=text, user_id=user, channel_id=channel, trigger_id=f"9{next(_TRIGGERS)}.1.rituals")
    before = len(slack.api.calls_to("response_url"))
    status, _, _ = await slack.command(fields)
    assert status == 200
    await slack.settle()
    calls = slack.api.calls_to("response_url")
    assert len(calls) == before + 1
    return calls[-1]


async def take_in(slack: SlackServer, *texts: str) -> list[int]:
    report = await asyncio.to_thread(
        slack.app.take_in,
        [IncomingComment(text=t, source="webhook", external_id=f"r-{i}-{abs(hash(t))}") for i, t in enumerate(texts)],
    )
    await slack.settle()
    return [c.story_id for c in report.created]


def posts_to(slack: SlackServer, channel: str) -> list[Call]:
    return [c for c in slack.api.calls_to("chat.postMessage", ok_only=True) if c.params["channel"] == channel]


def opener_story_ids(slack: SlackServer) -> list[int]:
    with slack.app.engine.connect() as conn:
        rows = conn.execute(select(Delivery.story_id).where(Delivery.key.like("opener:%")).order_by(Delivery.id))
        return [int(r[0]) for r in rows]


async def test_opener_posts_the_most_vivid_story_in_the_channel_and_not_again_there_within_30_days(
    slack: SlackServer,
) -> None:
    bad, good, _mild = await take_in(slack, VIVID_BAD, VIVID_GOOD, MILD)
    before = len(posts_to(slack, "C0FINANCE1"))

    first = await run(slack, "opener", user="U0DANA0001")  # Finance's channel: Finance's stories
    assert "posted here" in first.payload_text() and f"#{bad}" in first.payload_text()
    [card] = posts_to(slack, "C0FINANCE1")[before:]
    assert "three weeks" in card.payload_text()  # the story card itself, visible to the meeting

    await run(slack, "opener", user="U0DANA0001")
    assert opener_story_ids(slack) == [bad, good]  # the most vivid first, then the next: never the same twice
    third = await run(slack, "opener", user="U0DANA0001")
    assert "No vivid story for Finance" in third.payload_text()  # "Invoice was fine." is not vivid
    assert opener_story_ids(slack) == [bad, good]

    # Another channel may open with the same story; a department can be named.
    await run(slack, "opener finance", user="U0DANA0001", channel="C0SUPPORT1")
    assert opener_story_ids(slack) == [bad, good, bad]
    assert "three weeks" in posts_to(slack, "C0SUPPORT1")[-1].payload_text()


async def test_a_retried_opener_request_posts_one_story(slack: SlackServer) -> None:
    await take_in(slack, VIVID_BAD, VIVID_GOOD)
    fields = command_fields(text="opener", user_id="U0DANA0001", channel_id="C0FINANCE1", trigger_id="77.1.retry")
    for _ in range(2):
        assert (await slack.command(fields))[0] == 200
        await slack.settle()
    assert len(opener_story_ids(slack)) == 1


def _rows_with(slack: SlackServer, needle: str) -> set[tuple[str, str]]:
    """Every row of every table that contains ``needle`` anywhere: (table, row as text)."""
    found = set()
    with slack.app.engine.connect() as conn:
        for table in Base.metadata.sorted_tables:
            for row in conn.execute(select(table)):
                text = repr(tuple(row))
                if needle.casefold() in text.casefold():
                    found.add((table.name, text))
    return found


async def test_pulse_asks_the_sample_once_a_month_and_keeps_only_anonymous_counts(
    slack: SlackServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    refused = await run(slack, "pulse add <@U0DANA0001|dana> finance", user="U0DANA0002")
    assert "CX team" in refused.payload_text()
    added = await run(
        slack, "pulse add <@U0DANA0001|dana> <@U0PULSE002|bo> <@U0PULSE003|cy> finance", user=CX, channel="C0CX"
    )
    assert "In the pulse sample: dana (Finance), bo (Finance), cy (Finance)." in added.payload_text()
    listed = await run(slack, "pulse list", user=CX)
    assert "Finance: U0DANA0001, U0PULSE002, U0PULSE003" in listed.payload_text()

    now = datetime.now(UTC)
    for _ in range(2):  # the scheduler's job, twice (a second replica, a restart): one DM each
        await asyncio.to_thread(slack.app.rituals.queue, now)
        await slack.settle()
    [question] = posts_to(slack, "U0DANA0001")
    assert question.params["text"].startswith("Once a month, one question, anonymous: Who is your work for?")
    assert "/cx pulse answer" in question.params["text"]
    assert len(posts_to(slack, "U0PULSE002")) == 1

    answer = "Honestly the small shop owners who are our customers"
    before = _rows_with(slack, "U0DANA0001")
    thanks = await run(slack, f"pulse answer {answer}", user="U0DANA0001", channel="D0DANA0001")
    assert "your words are not kept" in thanks.payload_text()
    again = await run(slack, "pulse answer my manager", user="U0DANA0001", channel="D0DANA0001")
    assert "already answered" in again.payload_text()
    # Anonymity: answering added nothing that names Dana, and her words are nowhere.
    assert _rows_with(slack, "U0DANA0001") == before
    assert not _rows_with(slack, "small shop owners")
    assert not _rows_with(slack, "my manager")
    assert "POST /slack/events" in caplog.text  # requests were logged, at every level: the answers were not
    assert "small shop owners" not in caplog.text and "my manager" not in caplog.text

    early = await run(slack, "pulse", user="U0DANA0002")
    assert "Finance: " in early.payload_text() and "fewer than 3 answers" in early.payload_text()
    await run(slack, "pulse answer my team lead", user="U0PULSE002")
    await run(slack, "pulse answer the patients", user="U0PULSE003")
    trend = await run(slack, "pulse", user="U0DANA0002")
    assert f"Finance: {now:%Y-%m} 67% of 3" in trend.payload_text()

    outsider = await run(slack, "pulse answer customers", user="U0NOTASKED")
    assert "people the CX team asked" in outsider.payload_text()
    removed = await run(slack, "pulse remove <@U0PULSE003|cy>", user=CX)
    assert "Removed from the pulse sample: cy." in removed.payload_text()


async def test_ambassadors_get_their_departments_stories_by_dm_and_a_monthly_summary(slack: SlackServer) -> None:
    refused = await run(slack, "ambassador add <@U0AMB00001|amy> finance", user="U0DANA0002")
    assert "CX team only" in refused.payload_text()
    added = await run(slack, "ambassador add <@U0AMB00001|amy> finance", user=CX)
    assert "amy now gets Finance's stories by DM" in added.payload_text()
    listed = await run(slack, "ambassador list", user=CX)
    assert "Finance: U0AMB00001" in listed.payload_text()

    [story_id] = await take_in(slack, VIVID_BAD)
    slot = Schedule("0 9 * * mon-fri", "UTC").next_slot(datetime.now(UTC))
    assert slot is not None
    for _ in range(2):
        await asyncio.to_thread(slack.app.rituals.queue, slot.at + timedelta(minutes=5))
        await slack.settle()
    [text] = [c.params["text"] for c in posts_to(slack, "U0AMB00001") if c.params["text"].startswith("New customer")]
    assert text.startswith("New customer stories for Finance (1), for you as its customer ambassador:")
    assert f"#{story_id} " in text and "three weeks" in text

    first = (slot.at.replace(day=1) + timedelta(days=32)).replace(day=1, hour=10, minute=0)
    await asyncio.to_thread(slack.app.rituals.queue, first)
    await slack.settle()
    summary: dict[str, Any] = posts_to(slack, "U0AMB00001")[-1].params
    last_month = (first - timedelta(days=1)).strftime("%B %Y")
    assert summary["text"].startswith(f"Finance in {last_month}, for you as its customer ambassador:")
    assert "follow-ups committed" in summary["text"]

    removed = await run(slack, "ambassador remove <@U0AMB00001|amy>", user=CX)
    assert "amy is no longer an ambassador" in removed.payload_text()
    assert "U0AMB00001" not in (await run(slack, "ambassador", user=CX)).payload_text()
