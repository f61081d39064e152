"""Retention (issue 12.4) and the CX_HASH_KEY policy: old comments and stories go, their weekly counts stay, and
stats and the pattern report say the same before and after."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError
from sqlalchemy import func, insert, select

from bot.app import App
from bot.cli import main
from bot.scheduler import apply_retention
from bot.settings import Settings
from storage.models import Comment, Reaction, Route, Story, StoryMessage, WeeklyFigures
from storage.patterns import SqlPatternStories
from storage.retention import SqlRetention
from stories.patterns import build_report
from stories.retention import week_of, weeks_within
from stories.stats import PeriodFigures, build_stats
from tests.scheduling.world import CONFIG, add_story, make_app

NOW = datetime.now(UTC)
OLD = NOW - timedelta(days=400)
OLD_WEEK = datetime.combine(week_of(OLD), datetime.min.time(), UTC)
WINDOW = (OLD_WEEK - timedelta(seconds=1), OLD_WEEK + timedelta(days=14))  # two whole weeks from OLD's Monday


def count(app: App, model: type) -> int:
    with app.engine.connect() as conn:
        return int(conn.scalar(select(func.count()).select_from(model)) or 0)


def figures(app: App, department: str | None) -> PeriodFigures:
    got = app.followups.period_figures(department=department, since=WINDOW[0], until=WINDOW[1])
    return PeriodFigures(
        tuple(sorted(got.nps_scores)),
        tuple(sorted(got.csat_scores)),
        got.stories_delivered,
        got.reactions,
        got.commitments_opened,
        got.commitments_closed,
        got.days_to_close,
    )


def seed(app: App) -> tuple[list[int], list[int]]:
    """Three stories 400 days ago (two about invoices: Finance), posted and reacted to; two from this week."""
    old = [
        add_story(app, "The invoice was wrong twice", at=OLD + timedelta(hours=1), key="o1", nps=2),
        add_story(app, "A refund took a month", at=OLD + timedelta(hours=2), key="o2", nps=9),
        add_story(app, "The parcel came late", at=OLD + timedelta(days=8), key="o3", nps=10),
    ]
    recent = [
        add_story(app, "The parcel came late again, courier lost", at=NOW - timedelta(days=2), key="r1", nps=3),
        add_story(app, "Late parcel again, the courier never came", at=NOW - timedelta(days=1), key="r2", nps=4),
    ]
    with app.engine.begin() as conn:
        finance = app.departments.id_of("Finance")
        conn.execute(
            insert(StoryMessage),
            [
                {
                    "story_id": old[0],
                    "department_id": finance,
                    "platform": "slack",
                    "channel": "C0FINANCE1",
                    "message_id": "1.1",
                    "created_at": OLD + timedelta(hours=3),
                },
                {
                    "story_id": old[2],
                    "department_id": app.departments.id_of("Ops"),
                    "platform": "slack",
                    "channel": "C0OPS00001",
                    "message_id": "1.2",
                    "created_at": OLD + timedelta(days=8, hours=1),
                },
            ],
        )
    for user in ("U1", "U2"):
        app.followups.set_reaction(
            story_id=old[0], platform="slack", user_id=user, emoji="eyes", added=True, now=OLD + timedelta(hours=4)
        )
    return old, recent


def test_retention_deletes_old_comments_and_keeps_what_stats_and_patterns_read(database_url: str) -> None:
    app = make_app(database_url)
    try:
        old, recent = seed(app)
        before = {d: figures(app, d) for d in ("Finance", "Ops", None)}
        assert before["Finance"].nps_scores == (2, 9) and before["Finance"].reactions == 2
        assert before[None].nps_scores == (2, 9, 10) and before[None].stories_delivered == 2
        ops = CONFIG.departments[0]
        patterns = SqlPatternStories(app.engine)
        report_before = build_report(
            department=ops, since=NOW - timedelta(days=7), until=NOW, stories=patterns, stats=app.followups
        )
        stats_before = build_stats(reader=app.followups, department=None, now=NOW)

        removed = SqlRetention(app.engine, app.departments).apply(before=NOW - timedelta(days=365))

        assert removed["comments"] == 3 and removed["stories"] == 3
        with app.engine.connect() as conn:
            assert sorted(conn.scalars(select(Story.id))) == sorted(recent)
            assert conn.scalar(select(func.count()).select_from(Reaction)) == 0
            assert conn.scalar(select(func.count()).select_from(Route).where(Route.story_id.in_(old))) == 0
            assert conn.scalar(select(func.count()).select_from(StoryMessage)) == 0
            kept = conn.execute(select(WeeklyFigures).where(WeeklyFigures.department == "Finance")).one()
        assert (kept.week_start, kept.stories, kept.nps, kept.reactions) == (week_of(OLD), 2, {"2": 1, "9": 1}, 2)
        assert count(app, Comment) == 2
        assert {d: figures(app, d) for d in ("Finance", "Ops", None)} == before  # counted from the kept weeks
        report_after = build_report(
            department=ops, since=NOW - timedelta(days=7), until=NOW, stories=patterns, stats=app.followups
        )
        assert report_after == report_before and report_after.stories == 2
        assert build_stats(reader=app.followups, department=None, now=NOW) == stats_before

        again = SqlRetention(app.engine, app.departments).apply(before=NOW - timedelta(days=365))
        assert again.get("comments", 0) == 0
        assert {d: figures(app, d) for d in ("Finance", "Ops", None)} == before  # not counted twice
    finally:
        app.close()


async def test_the_nightly_job_uses_the_setting_and_zero_keeps_everything(database_url: str) -> None:
    app = make_app(database_url)
    try:
        seed(app)
        app.settings = Settings(database_url=database_url, cx_retention_days=0)
        assert await apply_retention(app) == {}
        assert count(app, Comment) == 5
        app.settings = Settings(database_url=database_url, cx_retention_days=365)
        assert (await apply_retention(app))["comments"] == 3
        assert count(app, Comment) == 2
    finally:
        app.close()


def test_a_period_takes_the_whole_weeks_that_start_inside_it() -> None:
    monday = datetime(2026, 11, 30, tzinfo=UTC)
    assert weeks_within(monday, monday + timedelta(days=13)) == (monday.date(), (monday + timedelta(days=7)).date())
    assert (
        weeks_within(monday + timedelta(hours=1), monday + timedelta(days=6))[0] == (monday + timedelta(days=7)).date()
    )


def test_retention_and_hash_key_settings_name_the_variable_and_the_fix() -> None:
    assert Settings().cx_retention_days == 365
    with pytest.raises(ValidationError, match="CX_RETENTION_DAYS must be 0"):
        Settings(cx_retention_days=30)
    assert Settings(cx_retention_days=0).cx_retention_days == 0
    with pytest.raises(ValidationError, match="CX_HASH_KEY must be at least 16 bytes"):
        Settings(cx_hash_key="short")
    problem = Settings(database_url="postgresql://db/cx").hash_key_problem()
    assert problem is not None and problem[0] == "error" and "secrets.token_urlsafe" in problem[1]
    problem = Settings(database_url="sqlite:///x.db").hash_key_problem()
    assert problem is not None and problem[0] == "warning"
    assert Settings(database_url="postgresql://db/cx", cx_hash_key="k" * 32).hash_key_problem() is None


@pytest.mark.parametrize("command", [["serve"], ["forget", "jane@example.com"], ["import", "x.csv"]])
def test_production_commands_refuse_to_start_on_postgresql_without_the_key(
    command: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://nobody@127.0.0.1:1/none")  # never reached
    with pytest.raises(SystemExit, match="CX_HASH_KEY is not set; it is required with a PostgreSQL database"):
        main(command)
