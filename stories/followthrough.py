"""Follow-through as a shared number: what each department did with the stories it received.

Per department, over a period ``[since, until)``:

- received: stories routed to it that arrived in the period (old comments taken in late, ``backfill``, are not
  news and are left out);
- read: those of them anyone reacted to (any emoji, any platform, in any channel showing the story);
- commitments per 10 stories: commitments made for it in the period, per 10 stories received;
- closed per 10 stories: commitments closed as done in the period, per 10 stories received (dropped ones do not
  close a loop);
- median days to close: over the commitments closed as done in the period, from made to done;
- overdue: its commitments open on ``today`` whose due date has passed.

Ranking (:func:`rank`): by closed per 10 stories received, higher first; then fewer overdue; then a larger share
read; then name. NPS and CSAT are not used: scores invite gaming, follow-through is what a department controls.
A department that received no story in the period is listed last, unranked.

``/cx stats all`` shows the last 30 days when the CX team turned the view on (``stats.all_departments_view:
true`` in the configuration; off, it says so). The CX team's channel (the default department's) gets the last
calendar month on the 1st at 09:00 in its timezone, once per month and platform (outbox key
``followthrough:<YYYY-MM>:<platform>:<channel>``), caught up for three days after downtime; a month with no story
and no commitment anywhere is not posted.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

from stories.config import CxConfig
from stories.outbox import Outgoing
from stories.schedule import Schedule, local_instant
from stories.views import FollowThroughRow, FollowThroughView, Notice

DAYS = 30
MONTHLY_SCHEDULE = "0 9 1 * *"  # crontab, in the CX team's (the default department's) timezone
CATCH_UP = timedelta(days=3)  # a monthly post missed in downtime is still made this long after its slot
RULE = (
    "Ranked by commitments closed per 10 stories received, then fewer overdue, then more stories read. "
    "Scores (NPS, CSAT) are not used."
)


@dataclass(frozen=True, slots=True)
class DepartmentFigures:
    """The raw counts of one department for a period (see the module docstring)."""

    department: str
    received: int = 0
    read: int = 0
    commitments: int = 0
    closed: int = 0
    days_to_close: tuple[float, ...] = ()
    overdue: int = 0


class FollowThroughReader(Protocol):
    def follow_through(self, *, since: datetime, until: datetime, today: date) -> list[DepartmentFigures]:
        """Every department's figures for ``[since, until)`` (overdue: open on ``today``, due before it); a
        department with nothing to count may be missing."""
        ...


def _per_10(count: int, received: int) -> float | None:
    return None if received == 0 else round(10 * count / received, 1)


def row_of(figures: DepartmentFigures, *, rank: int | None) -> FollowThroughRow:
    median = statistics.median(figures.days_to_close) if figures.days_to_close else None
    return FollowThroughRow(
        rank=rank,
        department=figures.department,
        received=figures.received,
        read=figures.read,
        commitments_per_10=_per_10(figures.commitments, figures.received),
        closed_per_10=_per_10(figures.closed, figures.received),
        median_days_to_close=round(median, 1) if median is not None else None,
        overdue=figures.overdue,
    )


def rank(figures: Iterable[DepartmentFigures], *, departments: Sequence[str]) -> tuple[FollowThroughRow, ...]:
    """Every configured department, ranked by the rule in the module docstring."""
    found = {f.department: f for f in figures}
    every = [found.get(name, DepartmentFigures(department=name)) for name in departments]
    active = [f for f in every if f.received > 0]
    idle = [f for f in every if f.received == 0]
    active.sort(key=lambda f: (-f.closed / f.received, f.overdue, -f.read / f.received, f.department.casefold()))
    idle.sort(key=lambda f: (f.overdue, f.department.casefold()))
    return (
        *(row_of(f, rank=n) for n, f in enumerate(active, start=1)),
        *(row_of(f, rank=None) for f in idle),
    )


def build_view(
    *, config: CxConfig, reader: FollowThroughReader, since: datetime, until: datetime, today: date, heading: str
) -> FollowThroughView:
    rows = rank(reader.follow_through(since=since, until=until, today=today), departments=config.department_names)
    return FollowThroughView(heading=heading, rows=rows, rule=RULE)


def all_departments(
    *, config: CxConfig, reader: FollowThroughReader, now: datetime, today: date
) -> FollowThroughView | Notice:
    """``/cx stats all``: the last :data:`DAYS` days, if the CX team turned the view on."""
    if not config.stats.all_departments_view:
        return Notice(
            "The all-departments view is off. The CX team can turn it on with "
            "“stats: all_departments_view: true” in the configuration file; until then, ask for one department."
        )
    return build_view(
        config=config,
        reader=reader,
        since=now - timedelta(days=DAYS),
        until=now,
        today=today,
        heading=f"Follow-through, all departments: last {DAYS} days",
    )


def _number(value: float | None) -> str:
    return "–" if value is None else f"{value:.1f}".removesuffix(".0")


def row_line(row: FollowThroughRow) -> str:
    """One department's line, the same on every surface."""
    place = f"{row.rank}." if row.rank is not None else "–"
    if row.received == 0:
        return f"{place} {row.department}: no stories received · {row.overdue} overdue"
    read = f"{row.read} read ({round(100 * row.read / row.received)}%)"
    median = (
        "none closed"
        if row.median_days_to_close is None
        else f"median {_number(row.median_days_to_close)} days to close"
    )
    return (
        f"{place} {row.department}: {row.received} {'story' if row.received == 1 else 'stories'}, {read} · "
        f"{_number(row.commitments_per_10)} commitments and {_number(row.closed_per_10)} closed per 10 stories · "
        f"{median} · {row.overdue} overdue"
    )


def view_text(view: FollowThroughView) -> str:
    """The whole view as plain text (the monthly post)."""
    return "\n".join([view.heading, *(row_line(r) for r in view.rows), view.rule])


def monthly_key(*, month: str, platform: str, channel: str) -> str:
    return f"followthrough:{month}:{platform}:{channel}"


def plan_monthly(
    *,
    config: CxConfig,
    reader: FollowThroughReader,
    channels: Mapping[str, str],
    now: datetime,
    queued: Callable[[Sequence[str]], Iterable[str]],
) -> list[Outgoing]:
    """The last calendar month's follow-through to the CX team's ``channels`` (platform -> channel), once per
    month and platform: due at the latest 1st-of-the-month slot, computed only if a key is not queued yet."""
    cx = config.department(config.default_department)
    zone = ZoneInfo(cx.timezone)
    slot = Schedule(MONTHLY_SCHEDULE, cx.timezone).latest_slot(now)
    if slot is None or now - slot.at > CATCH_UP:
        return []
    first = slot.local.replace(hour=0, minute=0)
    previous = (first - timedelta(days=1)).replace(day=1)
    month = previous.strftime("%Y-%m")
    keys = {monthly_key(month=month, platform=p, channel=c): (p, c) for p, c in sorted(channels.items()) if c}
    done = set(queued(list(keys)))
    wanted = {k: v for k, v in keys.items() if k not in done}
    if not wanted:
        return []
    figures = reader.follow_through(
        since=local_instant(previous, zone), until=local_instant(first, zone), today=slot.local.date()
    )
    if not any(f.received or f.commitments or f.closed for f in figures):
        return []  # a month with no story and no commitment anywhere (a new install): nothing to rank
    view = FollowThroughView(
        heading=f"Follow-through, {previous:%B %Y}",
        rows=rank(figures, departments=config.department_names),
        rule=RULE,
    )
    text = view_text(view)
    return [
        Outgoing(key=key, kind="text", platform=platform, channel=channel, department=cx.name, payload={"text": text})
        for key, (platform, channel) in wanted.items()
    ]
