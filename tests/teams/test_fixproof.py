"""Did the fix work, on Teams: the weekly report card's "so far" line and, four weeks after the close, the verdict
as a reply in the story card's thread, once (over HTTP to the fake Bot Framework connector)."""

from __future__ import annotations

import asyncio
from datetime import date, timedelta

from sqlalchemy import select, update

from bot.pacing import unpaced
from storage.models import Comment, Story
from stories.followup import NewCommitment
from stories.models import IncomingComment
from tests.fakes.bf_connector import FakeConnector
from tests.teams.world import FINANCE, FIONA, NOW, Server, World, posted_story

CLOSED = NOW + timedelta(hours=1)  # Monday 2 March 2026, 11:00 UTC
REPORT = NOW + timedelta(days=14, hours=-1, minutes=-55)  # Monday 16 March, 08:05 in London: the weekly report


def _comment(cx: Server, text: str, *, at, key: str) -> None:  # type: ignore[no-untyped-def]
    report = cx.app.take_in([IncomingComment(text=text, source="test", external_id=key)])
    story_id = report.created[0].story_id
    with cx.app.engine.begin() as conn:
        conn.execute(update(Story).where(Story.id == story_id).values(created_at=at))
        comment_id = conn.scalar(select(Story.comment_id).where(Story.id == story_id))
        conn.execute(update(Comment).where(Comment.id == comment_id).values(received_at=at))


async def test_the_report_card_and_the_story_thread_on_teams_say_whether_the_fix_worked(
    cx: Server, world: World, connector: FakeConnector
) -> None:
    cx.app.dispatcher.pacer = unpaced()
    story_id, card_id = await posted_story(world, cx)  # "I was charged twice on invoice 4711; refund me."
    item = cx.app.followups.add_commitment(
        NewCommitment(
            key="c1",
            story_id=story_id,
            department="Finance & Billing",
            owner=FIONA,
            owner_name="Fiona Walsh",
            created_by=FIONA,
            platform="teams",
            what="stop the double charge",
            due=None,
            created_at=NOW,
        ),
        today=date(2026, 3, 2),
    )
    cx.app.followups.close_commitment(commitment_id=item.id, state="done", by=FIONA, now=CLOSED)

    def stream() -> None:  # no theme on Teams' rules here: similar comments are what is followed
        for n in range(20):  # five a week before
            at = CLOSED - timedelta(days=28) + timedelta(hours=33 * n + 1)
            _comment(cx, f"Charged twice on my invoice again, refund please ({n})", at=at, key=f"b{n}")
        for n in range(4):
            at = CLOSED + timedelta(days=3.5 + 7 * n)
            _comment(cx, f"Invoice charged twice, I need a refund ({n})", at=at, key=f"a{n}")

    await asyncio.to_thread(stream)
    await cx.deliver()
    await asyncio.to_thread(cx.app.planner.queue, REPORT, departments=["Finance & Billing"])
    before_report = len(connector.posts())
    await cx.deliver()
    report_cards = [c.cards[0] for c in connector.posts()[before_report:] if "Weekly patterns" in c.payload_text()]
    verdict_at = CLOSED + timedelta(days=28, hours=1)
    await asyncio.to_thread(cx.app.planner.queue, verdict_at)
    await asyncio.to_thread(cx.app.planner.queue, verdict_at + timedelta(minutes=5))
    before_verdict = len(connector.posts())
    await cx.deliver()
    await cx.deliver()
    later = connector.posts()[before_verdict:]
    verdicts = [
        c for c in later if "Since Fiona Walsh" in c.payload_text() and "Weekly patterns" not in c.payload_text()
    ]
    # 30 March is a Monday too: that week's report (up to Sunday midnight, 27.5 days after the close) says so far
    reported = [c for c in later if "Weekly patterns" in c.payload_text()]

    (card,) = report_cards
    runs = [i["text"] for e in card["body"] if e["type"] == "RichTextBlock" for i in e["inlines"]]
    heading = [e for e in card["body"] if e["type"] == "TextBlock" and e["text"] == "Did the fixes work?"]
    assert heading
    (line,) = [r for r in runs if r.startswith("Since Fiona Walsh")]
    assert line.startswith(
        "Since Fiona Walsh closed “stop the double charge” (2 Mar), comments like its story fell so far from 5 to "
    )
    (reply,) = verdicts
    (final_report,) = reported
    assert "comments like its story fell so far from 5 to" in final_report.payload_text()
    assert (reply.channel, reply.thread) == (FINANCE, card_id)
    shown = [i["text"] for e in reply.cards[0]["body"] if e["type"] == "RichTextBlock" for i in e["inlines"]]
    assert shown == [
        "Since Fiona Walsh closed “stop the double charge” (2 Mar), comments like its story fell from 5 to 1 a week."
    ]
