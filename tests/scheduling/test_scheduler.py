"""The scheduler inside ``cxbot serve`` and the planner it wakes: jobs per department in their timezones, the
start-up catch-up posting a due digest through the fake Slack API, nudges and weekly summaries once."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from aiohttp.test_utils import TestServer
from apscheduler.triggers.cron import CronTrigger
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.app import App
from bot.scheduler import build_scheduler, plan_due, plan_rituals
from bot.serve import server_for
from storage.models import Commitment, Delivery
from stories.outbox import Outgoing
from stories.pulse import PulseMember
from stories.schedule import Schedule
from tests.fakes.slack_api import FakeSlackApi
from tests.scheduling.world import add_commitment, add_story, make_app

BERLIN = ZoneInfo("Europe/Berlin")
MONDAY_NINE_BERLIN = datetime(2026, 6, 1, 9, 5, tzinfo=BERLIN).astimezone(UTC)


def deliveries(app: App, *condition: Any) -> list[Delivery]:
    with Session(app.engine) as session:
        return list(session.scalars(select(Delivery).where(*condition).order_by(Delivery.key)))


def dms(app: App) -> list[Delivery]:
    return deliveries(app, Delivery.kind == "dm")


async def test_every_department_has_its_jobs_with_explicit_ids_in_its_own_timezone(database_url: str) -> None:
    app = make_app(database_url)
    scheduler = build_scheduler(app)
    scheduler.start(paused=True)  # job defaults apply once started; paused: nothing runs
    try:
        jobs = {job.id: job for job in scheduler.get_jobs()}
    finally:
        scheduler.shutdown(wait=False)
        app.close()
    assert set(jobs) == {
        "sweep",
        "rituals",
        "routing",
        "prune_processed",
        "retention",
        "digest:Ops",
        "report:Ops",
        "reminders:Ops",
        "digest:Finance",
        "report:Finance",
        "reminders:Finance",
    }
    digest = jobs["digest:Finance"].trigger
    assert isinstance(digest, CronTrigger) and str(digest.timezone) == "America/New_York"
    fire = digest.get_next_fire_time(None, datetime(2026, 3, 9, 12, tzinfo=UTC))  # Monday, first day of EDT
    assert fire == datetime(2026, 3, 9, 10, tzinfo=ZoneInfo("America/New_York"))
    assert jobs["digest:Ops"].kwargs["department"] == "Ops"
    assert jobs["sweep"].coalesce and jobs["digest:Ops"].misfire_grace_time == 15 * 60


async def test_serve_catches_up_at_start_up_and_posts_the_due_digest_once(database_url: str) -> None:
    async with FakeSlackApi() as slack:
        app = make_app(database_url, slack_url=slack.base_url)
        latest = Schedule("0 9 * * mon-fri", "Europe/Berlin").latest_slot(datetime.now(UTC))
        assert latest is not None
        add_story(app, "The parcel came late and damaged", at=latest.at - timedelta(hours=2), key="s1")
        server = TestServer(server_for(app))
        await server.start_server()
        try:
            await slack.wait_for("chat.postMessage", timeout=20)
            assert await plan_due(app) == 0  # a second sweep finds it planned
            await asyncio.sleep(0.2)  # anything more the dispatcher would (wrongly) post
        finally:
            await server.close()
            app.close()
    digests = [
        c
        for c in slack.calls_to("chat.postMessage")
        if c.params["metadata"]["event_payload"]["key"].startswith("digest:")
    ]
    (post,) = digests  # one digest, posted once (on a Monday the week's pattern report goes out too)
    assert post.params["channel"] == "C0OPS00001"
    metadata = post.params["metadata"]
    assert metadata["event_payload"]["key"] == f"digest:Ops:slack:{latest.label}"
    assert "parcel came late" in post.payload_text().lower()


def test_nudges_go_once_a_day_for_due_tomorrow_and_overdue_not_at_weekends(database_url: str) -> None:
    app = make_app(database_url)
    try:
        story = add_story(app, "The parcel came late", at=MONDAY_NINE_BERLIN - timedelta(days=3), key="s1")
        tomorrow = add_commitment(
            app, story_id=story, owner="U0DANA0001", what="call back", due=date(2026, 6, 2), key="c1"
        )
        overdue = add_commitment(
            app, story_id=story, owner="U0LEO00001", what="refund", due=date(2026, 5, 28), key="c2"
        )
        add_commitment(app, story_id=story, owner="U0DANA0001", what="visit", due=date(2026, 6, 20), key="c3")
        planner = app.planner
        early = planner.queue(MONDAY_NINE_BERLIN - timedelta(minutes=10))  # 08:55 in Berlin: not yet
        first = planner.queue(MONDAY_NINE_BERLIN)
        again = planner.queue(MONDAY_NINE_BERLIN + timedelta(hours=3))
        nudges = [d for d in dms(app) if d.key.startswith("nudge:")]
        saturday = planner.plan(MONDAY_NINE_BERLIN + timedelta(days=5)).nudges.messages
        with app.engine.connect() as conn:
            marked = dict(conn.execute(select(Commitment.id, Commitment.last_nudged_on)).all())
    finally:
        app.close()
    assert (early, first, again) == (0, 4, 0)  # two nudges, and Monday's summary to the manager and ambassador
    assert sorted((d.key, d.channel) for d in nudges) == [
        (f"nudge:{tomorrow}:2026-06-01", "U0DANA0001"),
        (f"nudge:{overdue}:2026-06-01", "U0LEO00001"),
    ]
    assert "call back" in nudges[0].payload["text"] or "call back" in nudges[1].payload["text"]
    assert marked[tomorrow] == marked[overdue] == date(2026, 6, 1)
    assert saturday == []


def test_managers_and_ambassadors_get_a_weekly_summary_on_monday_once(database_url: str) -> None:
    app = make_app(database_url)
    try:
        story = add_story(app, "The parcel came late", at=MONDAY_NINE_BERLIN - timedelta(days=3), key="s1")
        add_commitment(app, story_id=story, owner="U0DANA0001", what="call back", due=date(2026, 6, 10), key="c1")
        add_commitment(app, story_id=story, owner="U0LEO00001", what="refund", due=date(2026, 5, 28), key="c2")
        planner = app.planner
        planner.queue(MONDAY_NINE_BERLIN)
        planner.queue(MONDAY_NINE_BERLIN + timedelta(minutes=5))
        tuesday = planner.plan(MONDAY_NINE_BERLIN + timedelta(days=1, hours=2)).summaries
        summaries = [d for d in dms(app) if d.key.startswith("summary:")]
    finally:
        app.close()
    assert sorted(d.channel for d in summaries) == ["U0AMBA0001", "U0BOSS0001"]
    assert {d.key.rsplit(":", 2)[0] for d in summaries} == {"summary:Ops:U0AMBA0001", "summary:Ops:U0BOSS0001"}
    text = summaries[0].payload["text"].splitlines()
    assert text[0] == "Ops: 2 open commitments, 1 overdue."
    assert "refund" in text[1] and "overdue" in text[1]  # overdue first
    assert "call back" in text[2]
    assert text[-1] == "See them all with /cx actions Ops."
    assert tuesday == []  # a summary missed on Monday is not sent on Tuesday


def test_the_sweep_after_downtime_plans_one_digest_for_the_missed_days(database_url: str) -> None:
    app = make_app(database_url, slack_url="http://127.0.0.1:9/api/")  # Slack configured; nothing is sent here
    try:
        monday_digest = Outgoing(
            key="digest:Ops:slack:2026-06-01T09:00",
            kind="digest",
            platform="slack",
            channel="C0OPS00001",
            department="Ops",
            payload={"story_ids": [], "since": "", "until": datetime(2026, 6, 1, 7, tzinfo=UTC).isoformat()},
        )
        app.outbox.enqueue([monday_digest], now=MONDAY_NINE_BERLIN)
        for day in range(3):  # stories Mon-Wed; the bot was down at 09:00 on Tuesday, Wednesday and Thursday
            at = MONDAY_NINE_BERLIN + timedelta(days=day, hours=1)
            add_story(app, f"Late parcel number {day}", at=at, key=f"d{day}")
        queued = app.planner.queue(MONDAY_NINE_BERLIN + timedelta(days=3, hours=1))  # back on Thursday at 10:05
        digests = deliveries(app, Delivery.key != monday_digest.key)
    finally:
        app.close()
    assert queued == 1
    (digest,) = digests
    assert digest.key == "digest:Ops:slack:2026-06-04T09:00"
    assert digest.payload["total"] == 3
    assert digest.payload["since"] == monday_digest.payload["until"]


async def test_the_rituals_job_queues_the_pulse_question_once(database_url: str) -> None:
    app = make_app(database_url)
    try:
        now = datetime.now(UTC)
        app.rituals.store.add_pulse_member(PulseMember("slack", "U0PULSE001", "Ops"), added_by="U0CX", now=now)
        asked = len(app.rituals.plan_pulse(now))  # 1, except on the 1st before the nudge hour
        assert await plan_rituals(app) == len(app.rituals.plan(now))  # with the ambassador's DMs due now
        assert await plan_rituals(app) == 0  # a second run, another replica: nothing new
        assert len(deliveries(app, Delivery.key.like("pulse:%"))) == asked
    finally:
        app.close()
