"""Did the fix work, end to end on Slack: stories in the database, a commitment closed as done, the weekly report's
"so far" line and, four weeks after the close, the verdict in the story's thread, once (over HTTP to the fake)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select, update

from bot.dispatch import connect_notifiers
from bot.pacing import unpaced
from storage.models import Comment, Delivery, Story
from stories.config import CxConfig, Department, Rule
from stories.followup import NewCommitment
from tests.fakes.slack_api import FakeSlackApi
from tests.scheduling.world import add_story, make_app

CLOSED = datetime(2026, 6, 10, 15, 0, tzinfo=UTC)  # a Wednesday
REPORT = datetime(2026, 6, 22, 12, 5, tzinfo=UTC)  # Monday 08:05 in New York: Finance's weekly report
CONFIG = CxConfig(
    default_department="Ops",
    departments=(
        Department(name="Ops", slack_channel="C0OPS00001", timezone="Europe/Berlin"),
        Department(name="Finance", slack_channel="C0FINANCE1", delivery="immediate", timezone="America/New_York"),
    ),
    rules=(Rule(id="money", department="Finance", keywords=("invoice", "refund"), theme="billing"),),
)


@pytest.fixture
async def slack() -> AsyncIterator[FakeSlackApi]:
    async with FakeSlackApi() as fake:
        yield fake


def _fixproofs(app) -> list[str]:  # type: ignore[no-untyped-def]
    with app.engine.connect() as conn:
        return list(conn.scalars(select(Delivery.key).where(Delivery.key.like("fixproof:%")).order_by(Delivery.key)))


async def test_a_fix_that_worked_is_told_in_the_weekly_report_so_far_and_in_its_thread_at_four_weeks(
    database_url: str, slack: FakeSlackApi
) -> None:
    app = make_app(database_url, slack_url=slack.base_url, config=CONFIG)
    try:
        connect_notifiers(app)
        app.dispatcher.pacer = unpaced()  # Slack's 1 post/s per channel is the pacer's tests' business
        story = add_story(app, "The invoice template shows the wrong total", at=CLOSED - timedelta(days=1), key="s")
        await app.dispatcher.drain()
        (card,) = [c for c in slack.calls_to("chat.postMessage", ok_only=True) if c.params["channel"] == "C0FINANCE1"]
        item = app.followups.add_commitment(
            NewCommitment(
                key="c1",
                story_id=story,
                department="Finance",
                owner="U0DANA0001",
                owner_name="Dana",
                created_by="U0DANA0001",
                platform="slack",
                what="fix the invoice template",
                due=None,
                created_at=CLOSED - timedelta(days=1),
            ),
            today=date(2026, 6, 9),
        )
        app.followups.close_commitment(commitment_id=item.id, state="done", by="U0DANA0001", now=CLOSED)
        for n in range(24):  # six invoice comments a week in the four weeks before
            add_story(
                app, f"Invoice {n} wrong again", at=CLOSED - timedelta(days=28) + timedelta(hours=28 * n), key=f"b{n}"
            )
        for n in range(4):  # one a week since
            add_story(app, f"Refund on invoice {n} late", at=CLOSED + timedelta(days=3.5 + 7 * n), key=f"a{n}")
        # unlike its words, but it carries the story's theme (billing): counted too
        add_story(app, "Refund on a parcel", at=CLOSED + timedelta(days=2), key="other")
        await app.dispatcher.drain()

        app.planner.queue(REPORT, departments=["Finance"])
        await app.dispatcher.drain()
        early = _fixproofs(app)
        reports = [c for c in slack.calls_to("chat.postMessage", ok_only=True) if "Weekly patterns" in c.payload_text()]

        verdict_at = CLOSED + timedelta(days=28, hours=1)
        app.planner.queue(verdict_at)
        app.planner.queue(verdict_at + timedelta(minutes=5))  # the next sweep: nothing twice
        await app.dispatcher.drain()
        keys = _fixproofs(app)
    finally:
        app.close()
    assert early == []  # no verdict before four weeks
    (report,) = reports
    (section,) = [b for b in report.blocks if b["type"] == "section" and "Did the fixes work?" in b["text"]["text"]]
    assert (
        "Since Dana closed “fix the invoice template” (10 Jun), billing comments fell so far from 6 to "
        in (section["text"]["text"])
    )
    assert keys == ["fixproof:1:slack:C0FINANCE1"]
    replies = [c for c in slack.calls_to("chat.postMessage", ok_only=True) if c.params.get("thread_ts")]
    (reply,) = [r for r in replies if "Since Dana" in r.payload_text()]
    assert reply.params["channel"] == "C0FINANCE1" and reply.params["thread_ts"] == card.response["ts"]
    assert reply.params["text"] == (
        "Since Dana closed “fix the invoice template” (10 Jun), billing comments fell from 6 to 1.2 a week."
    )


def test_a_comment_is_followed_on_the_day_it_was_written(database_url: str) -> None:
    app = make_app(database_url, config=CONFIG)
    try:
        written = add_story(app, "Invoice wrong", at=CLOSED + timedelta(days=1), key="w")
        with app.engine.begin() as conn:  # an export taken in after the close, written before it
            comment_id = conn.scalar(select(Story.comment_id).where(Story.id == written))
            conn.execute(update(Comment).where(Comment.id == comment_id).values(original_at=CLOSED - timedelta(days=2)))
        arrived = add_story(app, "Refund missing", at=CLOSED + timedelta(days=2), key="a")
        before = app.followups.followed_comments(department="Finance", since=CLOSED - timedelta(days=28), until=CLOSED)
        after = app.followups.followed_comments(department="Finance", since=CLOSED, until=CLOSED + timedelta(days=28))
    finally:
        app.close()
    assert [(c.story_id, c.written_at, c.themes) for c in before] == [
        (written, CLOSED - timedelta(days=2), ("billing",))
    ]
    assert [c.story_id for c in after] == [arrived]
