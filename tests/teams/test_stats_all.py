"""`cx stats all` on Teams, over HTTP through the shared command table: the ranked follow-through card when the
CX team turned it on, the same refusal as Slack when it is off, and help lists the form."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy import update

from storage.models import Story
from stories.config import Stats
from stories.models import IncomingComment
from tests.fakes.bf_connector import FakeConnector
from tests.teams import world as teams_world
from tests.teams.world import NOW, TEAM, Server, World


def _runs(card: dict) -> list[str]:  # type: ignore[type-arg]
    return [i["text"] for e in card["body"] if e["type"] == "RichTextBlock" for i in e["inlines"]]


async def test_cx_stats_all_is_a_ranked_card_when_turned_on(
    world: World, connector: FakeConnector, monkeypatch: pytest.MonkeyPatch
) -> None:
    on = teams_world.CONFIG.model_copy(update={"stats": Stats(all_departments_view=True)})
    monkeypatch.setattr(teams_world, "CONFIG", on)
    cx = await world.start()
    comment = IncomingComment(text="My parcel never came, the courier lost it", source="test", external_id="p1")
    report = await asyncio.to_thread(cx.app.take_in, [comment])
    with cx.app.engine.begin() as conn:  # arrived yesterday on the world's clock
        story_id = report.created[0].story_id
        conn.execute(update(Story).where(Story.id == story_id).values(created_at=NOW - timedelta(days=1)))
    assert (await cx.post(world.load("message_cx_stats_personal", text="cx stats all")))[0] == 200
    runs = _runs(connector.posts()[-1].cards[0])
    assert runs[0] == "Follow-through, all departments: last 30 days"
    assert runs[1].startswith("1. Logistics & Delivery: 1 story, 0 read (0%)")
    assert runs[2:4] == [
        "– CX Team: no stories received · 0 overdue",
        "– Finance & Billing: no stories received · 0 overdue",
    ]
    assert runs[4].startswith("Ranked by commitments closed per 10 stories received")


async def test_cx_stats_all_when_off_says_how_to_turn_it_on(cx: Server, world: World, connector: FakeConnector) -> None:
    assert (await cx.post(world.load("message_cx_stats_personal", text="cx stats all")))[0] == 200
    assert "The all-departments view is off" in connector.posts()[-1].payload_text()


async def test_help_lists_stats_all_on_teams(cx: Server, world: World, connector: FakeConnector) -> None:
    assert (await cx.post(world.load("message_cx_stats_personal", text="cx help")))[0] == 200
    assert '"cx stats [department | all]"' in connector.posts()[-1].payload_text()


async def test_the_monthly_follow_through_reaches_the_cx_teams_teams_channel_once(
    cx: Server, world: World, connector: FakeConnector
) -> None:
    link = world.load(
        "message_cx_link",
        text="<at>cxbot</at> cx link cx team\n",
        id="1700000000077",
        conversation__id=f"{TEAM};messageid=1700000000077",
        channelData__teamsChannelId=TEAM,
        channelData__channel={"id": TEAM},
    )
    assert (await cx.post(link))[0] == 200
    comment = IncomingComment(text="I was charged twice on my invoice", source="test", external_id="feb")
    report = await asyncio.to_thread(cx.app.take_in, [comment])
    with cx.app.engine.begin() as conn:  # arrived in February
        story_id = report.created[0].story_id
        conn.execute(update(Story).where(Story.id == story_id).values(created_at=NOW - timedelta(days=10)))
    monthly = NOW  # Monday 2 March 10:00 UTC: the day after the 1st's 09:00 slot in London, caught up
    await asyncio.to_thread(cx.app.planner.queue, monthly)
    await asyncio.to_thread(cx.app.planner.queue, monthly + timedelta(minutes=5))
    before = len(connector.posts())
    await cx.deliver()
    await cx.deliver()
    posts = [c for c in connector.posts()[before:] if "Follow-through" in c.payload_text()]
    (post,) = posts
    assert post.channel == TEAM
    runs = _runs(post.cards[0])
    assert runs[0].splitlines()[:2] == [
        "Follow-through, February 2026",
        "1. Finance & Billing: 1 story, 0 read (0%) · 0 commitments and 0 closed per 10 stories · "
        "none closed · 0 overdue",
    ]
