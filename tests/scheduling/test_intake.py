"""What goes out at once: immediate departments outside quiet hours, urgent stories to their departments and
the CX team, through the real pipeline and outbox on both databases."""

from __future__ import annotations

from datetime import UTC, datetime, time

from sqlalchemy import select

from bot.app import build
from bot.settings import Settings
from storage.models import Delivery
from stories.config import CxConfig, Department, QuietHours, Rule, Urgent
from stories.intake import immediate_deliveries, urgent_reasons
from stories.models import IncomingComment
from stories.pipeline import CreatedStory
from stories.routing import Router

CONFIG = CxConfig(
    default_department="CX Team",
    departments=(
        Department(name="CX Team", slack_channel="C0CX"),
        Department(name="Finance", slack_channel="C0FIN", timezone="Europe/London"),  # digest
        Department(
            name="Service",
            slack_channel="C0SVC",
            delivery="immediate",
            timezone="Europe/London",
            quiet_hours=QuietHours(start=time(20), end=time(7, 30)),
        ),
    ),
    rules=(
        Rule(id="money", department="Finance", keywords=("invoice", "refund")),
        Rule(id="help", department="Service", keywords=("return", "exchange")),
    ),
    urgent=Urgent(nps_max=2, keywords=("lawyer", "legal action")),
)
CHANNELS = {(d.name, "slack"): d.slack_channel for d in CONFIG.departments if d.slack_channel}
NOON = datetime(2026, 6, 3, 12, tzinfo=UTC)
NIGHT = datetime(2026, 6, 3, 22, tzinfo=UTC)  # 23:00 in London: Service is quiet


def created(story_id: int, *departments: str) -> CreatedStory:
    return CreatedStory(story_id=story_id, external_id=None, departments=departments, reasons=())


def test_urgent_by_low_score_or_keyword_with_the_reason() -> None:
    facts = [
        (1, "Refund took a month", 1),
        (2, "My lawyer will hear about this invoice", 7),
        (3, "Thinking of legal   action", None),
        (4, "Refund was quick", 9),
        (5, "Lawyers are expensive", 3),  # simple plurals match, as rule keywords do
    ]
    reasons = urgent_reasons(facts, router=Router(CONFIG))
    assert reasons == {
        1: "NPS 1 <= 2",
        2: "urgent keyword 'lawyer'",
        3: "urgent keyword 'legal action'",
        5: "urgent keyword 'lawyer'",
    }


def test_immediate_department_gets_the_story_at_once_outside_quiet_hours_only() -> None:
    by_day = immediate_deliveries([created(1, "Service", "Finance")], config=CONFIG, channels=CHANNELS, now=NOON)
    at_night = immediate_deliveries([created(1, "Service", "Finance")], config=CONFIG, channels=CHANNELS, now=NIGHT)
    assert [(o.key, o.channel) for o in by_day] == [("story:1:Service:slack:C0SVC", "C0SVC")]
    assert at_night == []  # held for the catch-up digest at Service's schedule


def test_urgent_story_goes_to_its_departments_and_the_cx_team_at_once_even_in_quiet_hours() -> None:
    items = immediate_deliveries(
        [created(7, "Finance", "Service")], config=CONFIG, channels=CHANNELS, now=NIGHT, urgent={7: "NPS 0 <= 2"}
    )
    assert [(o.department, o.channel) for o in items] == [
        ("Finance", "C0FIN"),
        ("Service", "C0SVC"),
        ("CX Team", "C0CX"),
    ]
    assert all(o.not_before is None and o.kind == "story" for o in items)


def test_urgent_story_for_an_immediate_department_is_posted_there_once() -> None:
    items = immediate_deliveries(
        [created(8, "Service", "CX Team")], config=CONFIG, channels=CHANNELS, now=NOON, urgent={8: "NPS 1 <= 2"}
    )
    assert sorted(o.key for o in items) == ["story:8:CX Team:slack:C0CX", "story:8:Service:slack:C0SVC"]


def test_take_in_queues_urgent_stories_for_the_platforms_configured(database_url: str) -> None:
    settings = Settings(database_url=database_url, slack_bot_token="xoxb-1", slack_signing_secret="s")
    app = build(settings, config=CONFIG)
    try:
        report = app.take_in(
            [
                IncomingComment(text="The invoice is wrong, my lawyer is involved", source="csv", external_id="a"),
                IncomingComment(text="The invoice was fine", source="csv", external_id="b", nps=8),
            ]
        )
        again = app.take_in([IncomingComment(text="The invoice was fine", source="csv", external_id="b", nps=8)])
        with app.engine.connect() as conn:
            queued = conn.execute(select(Delivery.key, Delivery.channel).order_by(Delivery.key)).all()
    finally:
        app.close()
    urgent_id = report.created[0].story_id
    assert again.duplicates == 1
    assert [tuple(row) for row in queued] == [
        (f"story:{urgent_id}:CX Team:slack:C0CX", "C0CX"),
        (f"story:{urgent_id}:Finance:slack:C0FIN", "C0FIN"),
    ]


def test_every_source_reaches_the_pipeline_through_the_intake_only() -> None:
    """CSV import, the demo, /ingest, chat intake and `/cx story` all call App.take_in / Intake.take_in; a new way
    in that calls the pipeline directly would skip what goes out at once (issue 13.1)."""
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    callers = sorted(
        str(path.relative_to(root))
        for folder in ("bot", "handlers", "stories")
        for path in (root / folder).rglob("*.py")
        if "pipeline.ingest(" in path.read_text(encoding="utf-8")
    )
    assert callers == ["stories/intake.py"]


def test_the_intake_wakes_the_dispatcher_only_when_something_new_goes_out_at_once(database_url: str) -> None:
    from storage.departments import channel_map
    from storage.story_facts import comment_facts
    from stories.intake import Intake

    settings = Settings(database_url=database_url, slack_bot_token="xoxb-1", slack_signing_secret="s")
    app = build(settings, config=CONFIG)
    woken: list[int] = []
    intake = Intake(
        pipeline=app.pipeline,
        config=CONFIG,
        router=app.router,
        outbox=app.outbox,
        channels=lambda: channel_map(app.engine, platforms=("slack",)),
        facts=lambda ids: comment_facts(app.engine, ids),
        wake=lambda: woken.append(1),
        clock=lambda: NOON,
    )
    try:
        old = datetime(2019, 3, 14, tzinfo=UTC)
        intake.take_in([IncomingComment(text="Exchange please", source="csv", external_id="s1")])  # Service: now
        intake.take_in([IncomingComment(text="Exchange please", source="csv", external_id="s1")])  # a retry
        intake.take_in([IncomingComment(text="Invoice fine", source="csv", external_id="f1", nps=9)])  # a digest
        intake.take_in([IncomingComment(text="Return it", source="csv", external_id="o1", original_at=old)])
        assert len(woken) == 1
        intake.take_in(
            [IncomingComment(text="Return it", source="csv", external_id="o2", original_at=old)], post_old=True
        )
        assert len(woken) == 2
        with app.engine.connect() as conn:
            channels = conn.scalars(select(Delivery.channel)).all()
    finally:
        app.close()
    assert channels == ["C0SVC", "C0SVC"]
