"""Follow-through as a shared number (stories/followthrough.py): the ranking rule, the lines, the opt-in and the
monthly post's plan, over in-memory figures."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from stories.config import CxConfig, Department, Stats
from stories.followthrough import (
    DepartmentFigures,
    all_departments,
    plan_monthly,
    rank,
    row_line,
    view_text,
)
from stories.views import FollowThroughView, Notice

NAMES = ("CX", "Finance", "Logistics", "Legal", "Product")
CONFIG = CxConfig(
    default_department="CX",
    departments=tuple(Department(name=n, timezone="Europe/Berlin") for n in NAMES),
    stats=Stats(all_departments_view=True),
)


class Figures:
    def __init__(self, *figures: DepartmentFigures) -> None:
        self.figures = list(figures)
        self.asked: list[tuple[datetime, datetime, date]] = []

    def follow_through(self, *, since: datetime, until: datetime, today: date) -> list[DepartmentFigures]:
        self.asked.append((since, until, today))
        return self.figures


FINANCE = DepartmentFigures("Finance", received=40, read=30, commitments=10, closed=6, days_to_close=(1, 3, 9))
LOGISTICS = DepartmentFigures("Logistics", received=10, read=10, commitments=2, closed=2, days_to_close=(2, 4))
LEGAL = DepartmentFigures("Legal", received=20, read=5, commitments=4, closed=4, overdue=3)
PRODUCT = DepartmentFigures("Product", received=20, read=15, commitments=4, closed=4, overdue=0)


def test_departments_rank_by_loops_closed_per_10_stories_then_fewer_overdue_and_idle_ones_last() -> None:
    rows = rank([FINANCE, LOGISTICS, LEGAL, PRODUCT], departments=NAMES)
    # Logistics 2.0 closed per 10; Product and Legal 2.0 too but Legal has overdue ones; Finance 1.5; CX none
    assert [(r.rank, r.department) for r in rows] == [
        (1, "Logistics"),
        (2, "Product"),
        (3, "Legal"),
        (4, "Finance"),
        (None, "CX"),
    ]


def test_a_department_line_says_every_number() -> None:
    (finance,) = [r for r in rank([FINANCE], departments=NAMES) if r.department == "Finance"]
    assert row_line(finance) == (
        "1. Finance: 40 stories, 30 read (75%) · 2.5 commitments and 1.5 closed per 10 stories · "
        "median 3 days to close · 0 overdue"
    )
    idle = rank([], departments=("CX",))[0]
    assert row_line(idle) == "– CX: no stories received · 0 overdue"


def test_the_all_departments_view_is_off_until_the_cx_team_turns_it_on() -> None:
    off = CONFIG.model_copy(update={"stats": Stats()})
    now = datetime(2026, 12, 2, 12, tzinfo=UTC)
    answer = all_departments(config=off, reader=Figures(FINANCE), now=now, today=now.date())
    assert isinstance(answer, Notice) and "stats: all_departments_view: true" in answer.text
    reader = Figures(FINANCE)
    view = all_departments(config=CONFIG, reader=reader, now=now, today=now.date())
    assert isinstance(view, FollowThroughView)
    assert view.heading == "Follow-through, all departments: last 30 days"
    assert reader.asked == [(now - timedelta(days=30), now, now.date())]
    assert "Scores (NPS, CSAT) are not used" in view.rule


def test_the_monthly_post_covers_last_month_once_per_month_and_platform() -> None:
    reader = Figures(FINANCE, LEGAL)
    channels = {"slack": "C0CX", "teams": "19:cx"}
    queued: set[str] = set()
    slot = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)  # 09:00 in Berlin

    def plan(now: datetime) -> list:  # type: ignore[type-arg]
        items = plan_monthly(config=CONFIG, reader=reader, channels=channels, now=now, queued=lambda k: queued & set(k))
        queued.update(i.key for i in items)
        return items

    first = plan(slot + timedelta(minutes=5))
    assert plan(slot + timedelta(minutes=10)) == []
    assert sorted((i.key, i.kind, i.channel) for i in first) == [
        ("followthrough:2026-11:slack:C0CX", "text", "C0CX"),
        ("followthrough:2026-11:teams:19:cx", "text", "19:cx"),
    ]
    since, until, today = reader.asked[0]
    assert (since, until, today) == (
        datetime(2026, 10, 31, 23, 0, tzinfo=UTC),  # 1 November, midnight in Berlin
        datetime(2026, 11, 30, 23, 0, tzinfo=UTC),
        date(2026, 12, 1),
    )
    text = first[0].payload["text"]
    assert text.splitlines()[0] == "Follow-through, November 2026"
    assert text.splitlines()[1].startswith("1. Legal: 20 stories") and text.splitlines()[2].startswith("2. Finance")


def test_a_monthly_post_is_not_made_for_an_empty_month_nor_long_after_its_day() -> None:
    slot = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
    empty = plan_monthly(config=CONFIG, reader=Figures(), channels={"slack": "C0CX"}, now=slot, queued=lambda k: ())
    late = plan_monthly(
        config=CONFIG,
        reader=Figures(FINANCE),
        channels={"slack": "C0CX"},
        now=slot + timedelta(days=4),
        queued=lambda k: (),
    )
    assert empty == late == []


def test_the_view_as_text_ends_with_the_ranking_rule() -> None:
    view = FollowThroughView(heading="H", rows=rank([FINANCE], departments=("Finance",)), rule="R")
    assert view_text(view).splitlines() == ["H", row_line(view.rows[0]), "R"]
