"""Issue 15 point 5 on Teams, over HTTP to the fake Bot Framework connector: `cx opener`, `cx pulse`,
`cx ambassador`, through the same core as Slack."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select, update

from storage.models import Base, Comment, Story
from stories.models import IncomingComment
from stories.schedule import Schedule
from tests.fakes.bf_connector import Call, FakeConnector
from tests.teams.world import DANA, DANA_BF, LOGISTICS, NOW, Server, World

VIVID = (
    "The courier left my parcel in the rain and it took three weeks to replace, so I had to cancel the party I "
    "bought it for. Terrible, awful service; I am furious."
)
DANA_FROM = {"id": DANA_BF, "name": "Dana Scully", "aadObjectId": DANA}
DANA_CHAT = "a:1Qw3rTy_personal-chat-with-dana"


def in_logistics(world: World, text: str, *, activity_id: str, **changes: Any) -> dict[str, Any]:
    """``cx <text>`` typed by Carla (CX team) in the Logistics channel, mentioning the bot."""
    activity = world.load("message_cx_kudos", id=activity_id, **changes)
    activity["conversation"]["id"] = f"{LOGISTICS};messageid={activity_id}"
    activity["channelData"]["channel"]["id"] = activity["channelData"]["teamsChannelId"] = LOGISTICS
    activity["text"] = f"<at>cxbot</at> cx {text}"
    activity["entities"] = [e for e in activity["entities"] if "Dana" not in e.get("text", "")]
    activity.pop("attachments", None)
    return activity


def personal(world: World, text: str, *, activity_id: str) -> dict[str, Any]:
    """``text`` typed by Dana in her personal chat with the bot."""
    return world.load(
        "message_cx_stats_personal",
        id=activity_id,
        text=text,
        **{"from": DANA_FROM, "conversation__id": DANA_CHAT},
    )


async def story_yesterday(cx: Server, external_id: str) -> int:
    """A vivid comment taken in; the world's clock is fixed (NOW), so its story is dated the day before."""
    report = await asyncio.to_thread(
        cx.app.take_in, [IncomingComment(text=VIVID, source="webhook", external_id=external_id)]
    )
    [created] = report.created
    with cx.app.engine.begin() as conn:
        conn.execute(update(Story).where(Story.id == created.story_id).values(created_at=NOW - timedelta(days=1)))
        conn.execute(update(Comment).values(received_at=NOW - timedelta(days=1)))
    return created.story_id


def answer_text(connector: FakeConnector) -> str:
    return connector.posts()[-1].payload_text()


async def test_cx_opener_posts_a_vivid_story_card_in_the_channel_once_per_30_days(
    cx: Server, world: World, connector: FakeConnector
) -> None:
    story_id = await story_yesterday(cx, "vivid-1")
    assert (await cx.post(in_logistics(world, "opener", activity_id="1700000000500")))[0] == 200
    assert f"(story #{story_id})" in answer_text(connector)
    await cx.deliver()
    cards = [c for c in connector.posts() if c.kind == "send" and c.conversation_id.startswith(LOGISTICS)]
    assert any("three weeks" in c.payload_text() for c in cards[-1:])  # the opener's story card, in the channel

    assert (await cx.post(in_logistics(world, "opener", activity_id="1700000000501")))[0] == 200
    assert "No vivid story for Logistics & Delivery" in answer_text(connector)


# Where Teams keeps how to reach a person (refreshed by any message they send): it never holds what they said.
REACH = {"conversation_refs", "teams_members"}


def _rows_with(cx: Server, needle: str, *, skip: frozenset[str] = frozenset()) -> set[str]:
    found = set()
    with cx.app.engine.connect() as conn:
        for table in Base.metadata.sorted_tables:
            if table.name in skip:
                continue
            for row in conn.execute(select(table)):
                if needle.casefold() in repr(tuple(row)).casefold():
                    found.add(f"{table.name}: {tuple(row)!r}")
    return found


async def test_cx_pulse_dms_the_sample_and_counts_an_answer_without_keeping_who_or_what(
    cx: Server, world: World, connector: FakeConnector, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    connector.add_member(id=DANA_BF, name="Dana Scully", aad_object_id=DANA)
    assert (await cx.post(world.load("conversation_update_personal_install")))[0] == 200
    add = in_logistics(world, "pulse add <at>Dana Scully</at> logistics", activity_id="1700000000600")
    add["entities"].append(
        {"type": "mention", "text": "<at>Dana Scully</at>", "mentioned": {"id": DANA_BF, "name": "Dana Scully"}}
    )
    assert (await cx.post(add))[0] == 200
    assert "In the pulse sample: Dana Scully (Logistics & Delivery)." in answer_text(connector)

    for _ in range(2):
        await asyncio.to_thread(cx.app.rituals.queue, NOW)
        await cx.deliver()
    questions = [c for c in connector.posts() if "Who is your work for?" in c.payload_text()]
    assert len(questions) == 1 and "Answer with a reply here (or cx pulse answer" in questions[0].payload_text()

    before = _rows_with(cx, DANA, skip=frozenset(REACH))
    # A plain reply in her chat with the bot is the answer: the question went to her this month.
    assert (await cx.post(personal(world, "The guests at our hotels", activity_id="1700000000601")))[0] == 200
    assert "your words are not kept" in answer_text(connector)
    assert _rows_with(cx, DANA, skip=frozenset(REACH)) == before and not _rows_with(cx, "guests at our hotels")
    assert "POST /api/messages" in caplog.text  # the requests were logged, at every level: her words were not
    assert "guests at our hotels" not in caplog.text.casefold()
    # Answered: her next plain message is not counted again (help), nor is a typed answer.
    assert (await cx.post(personal(world, "and the conference guests", activity_id="1700000000603")))[0] == 200
    assert "Start a command with" in answer_text(connector)
    assert (await cx.post(personal(world, "cx pulse answer my manager", activity_id="1700000000604")))[0] == 200
    assert "already answered" in answer_text(connector)
    [count] = await asyncio.to_thread(cx.app.rituals.store.pulse_counts, since_month=f"{NOW:%Y-%m}")
    assert (count.department, count.answers, count.customers) == ("Logistics & Delivery", 1, 1)

    assert (await cx.post(personal(world, "cx pulse", activity_id="1700000000602")))[0] == 200
    assert f"Logistics & Delivery: {NOW:%Y-%m} fewer than 3 answers" in answer_text(connector)


async def test_cx_ambassador_add_sends_the_departments_stories_by_dm(
    cx: Server, world: World, connector: FakeConnector
) -> None:
    connector.add_member(id=DANA_BF, name="Dana Scully", aad_object_id=DANA)
    assert (await cx.post(world.load("conversation_update_personal_install")))[0] == 200
    add = in_logistics(world, "ambassador add <at>Dana Scully</at> logistics", activity_id="1700000000700")
    add["entities"].append(
        {"type": "mention", "text": "<at>Dana Scully</at>", "mentioned": {"id": DANA_BF, "name": "Dana Scully"}}
    )
    assert (await cx.post(add))[0] == 200
    assert "Dana Scully now gets Logistics & Delivery's stories by DM" in answer_text(connector)

    dana_asks = personal(world, "cx ambassador list", activity_id="1700000000701")
    assert (await cx.post(dana_asks))[0] == 200
    assert "for the CX team only" in answer_text(connector)

    story_id = await story_yesterday(cx, "vivid-2")
    slot = Schedule("0 9 * * mon-fri", "UTC").next_slot(NOW - timedelta(hours=2))  # Monday 09:00, after the story
    assert slot is not None
    for _ in range(2):
        await asyncio.to_thread(cx.app.rituals.queue, slot.at + timedelta(minutes=1))
        await cx.deliver()
    dms: list[Call] = [c for c in connector.posts() if "New customer stories for Logistics" in c.payload_text()]
    assert len(dms) == 1 and f"#{story_id} " in dms[0].payload_text() and "three weeks" in dms[0].payload_text()
