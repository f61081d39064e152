"""Follow-through figures from the database (storage/followthrough.py) and the CX team's monthly post over the
Slack fake, once per month."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select, update

from bot.dispatch import connect_notifiers
from storage.models import Delivery, Story
from stories.followup import NewCommitment
from tests.fakes.slack_api import FakeSlackApi
from tests.scheduling.world import add_story, make_app

JUNE = datetime(2026, 6, 1, tzinfo=UTC)
MONTHLY = datetime(2026, 7, 1, 7, 5, tzinfo=UTC)  # 1 July, 09:05 in Berlin (Ops, the CX team's department)


@pytest.fixture
async def slack() -> AsyncIterator[FakeSlackApi]:
    async with FakeSlackApi() as fake:
        yield fake


def _commitment(app, story_id: int, *, key: str, made: datetime, due: date | None = None) -> int:  # type: ignore[no-untyped-def]
    item = app.followups.add_commitment(
        NewCommitment(
            key=key,
            story_id=story_id,
            department="Finance",
            owner="U0DANA0001",
            owner_name="Dana",
            created_by="U0DANA0001",
            platform="slack",
            what="call back",
            due=due,
            created_at=made,
        ),
        today=made.date(),
    )
    return item.id


def _june(app) -> dict[str, int]:  # type: ignore[no-untyped-def]
    """Finance: 4 stories in June (one read twice, one read once), one backfilled and one in May (not counted);
    3 commitments made in June, 2 closed as done after 2 and 4 days, 1 open and overdue."""
    ids = {}
    for n in range(4):
        ids[f"s{n}"] = add_story(app, f"Invoice {n} wrong", at=JUNE + timedelta(days=3 + n), key=f"s{n}")
    ids["old"] = add_story(app, "Invoice from May wrong", at=JUNE - timedelta(days=3), key="old")
    ids["back"] = add_story(app, "Invoice from 2020 wrong", at=JUNE + timedelta(days=5), key="back")
    with app.engine.begin() as conn:
        conn.execute(update(Story).where(Story.id == ids["back"]).values(backfill=True))
    for user in ("U1", "U2"):
        app.followups.set_reaction(
            story_id=ids["s0"], platform="slack", user_id=user, emoji="eyes", added=True, now=JUNE + timedelta(days=4)
        )
    app.followups.set_reaction(
        story_id=ids["s1"], platform="slack", user_id="U1", emoji="+1", added=True, now=JUNE + timedelta(days=5)
    )
    for n, days in enumerate((2, 4)):
        made = JUNE + timedelta(days=10)
        cid = _commitment(app, ids[f"s{n}"], key=f"c{n}", made=made)
        app.followups.close_commitment(
            commitment_id=cid, state="done", by="U0DANA0001", now=made + timedelta(days=days)
        )
    _commitment(app, ids["s2"], key="late", made=JUNE + timedelta(days=12), due=date(2026, 6, 20))
    return ids


def test_follow_through_is_counted_per_department_from_the_database(database_url: str) -> None:
    app = make_app(database_url)
    try:
        _june(app)
        figures = app.followups.follow_through(
            since=JUNE, until=datetime(2026, 7, 1, tzinfo=UTC), today=date(2026, 7, 1)
        )
    finally:
        app.close()
    (finance,) = [f for f in figures if f.department == "Finance"]
    assert (finance.received, finance.read, finance.commitments, finance.closed, finance.overdue) == (4, 2, 3, 2, 1)
    assert sorted(finance.days_to_close) == [2.0, 4.0]


async def test_the_cx_team_gets_last_months_follow_through_once(database_url: str, slack: FakeSlackApi) -> None:
    app = make_app(database_url, slack_url=slack.base_url)
    try:
        _june(app)
        connect_notifiers(app)
        app.planner.queue(MONTHLY)
        app.planner.queue(MONTHLY + timedelta(minutes=5))  # the next sweep
        app.planner.queue(MONTHLY + timedelta(minutes=5), departments=["Ops"])  # the department's own job
        await app.dispatcher.drain()
        with app.engine.connect() as conn:
            keys = list(conn.scalars(select(Delivery.key).where(Delivery.key.like("followthrough:%"))))
    finally:
        app.close()
    assert keys == ["followthrough:2026-06:slack:C0OPS00001"]
    (post,) = [c for c in slack.calls_to("chat.postMessage", ok_only=True) if "Follow-through" in c.payload_text()]
    assert post.params["channel"] == "C0OPS00001"
    lines = post.params["text"].splitlines()
    assert lines[0] == "Follow-through, June 2026"
    assert lines[1] == (
        "1. Finance: 4 stories, 2 read (50%) · 7.5 commitments and 5 closed per 10 stories · "
        "median 3 days to close · 1 overdue"
    )
    assert lines[2] == "– Ops: no stories received · 0 overdue"
    assert lines[-1].startswith("Ranked by commitments closed per 10 stories received")
