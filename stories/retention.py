"""Retention: comments and stories older than ``CX_RETENTION_DAYS`` are deleted nightly, their counts kept.

What stats and the weekly pattern report read, and what survives the window:

- the pattern report reads the stories (their redacted words and themes) of the last five weeks only, and
  retention is never shorter than :data:`bot.settings.MIN_RETENTION_DAYS` (six weeks), so it never loses them;
- stats (`/cx stats`, the report's NPS/CSAT by week) count scores, stories delivered and reactions over a period
  that can reach back further; before deleting, those counts are added to one row per UTC week (Monday) and
  department (``*`` for the whole programme), and the readers add the weeks of a period to what its live rows
  say. A deleted row was counted once, in the week its own event happened, so nothing is counted twice; a period
  reaching past the window is counted in whole weeks there;
- commitments and kudos are employees' records and stay (a commitment loses its link to the story).

Chat messages are left in chat: posts are the platform's to keep under the workspace's own retention policy
(erasure, ``cxbot forget``, is what takes messages back).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from stories.stats import PeriodFigures

ALL = "*"  # the department name of the whole programme's row


def week_of(moment: datetime) -> date:
    """The UTC Monday starting the week ``moment`` falls in."""
    day = moment.astimezone(UTC).date()
    return day - timedelta(days=day.weekday())


def weeks_within(since: datetime, until: datetime) -> tuple[date, date]:
    """``[first, last]`` Mondays of the whole weeks that start inside ``(since, until]``'s span (``since`` counted
    in): the weeks a period takes from the kept counts."""
    first = week_of(since)
    if datetime.combine(first, time(), UTC) < since:
        first += timedelta(days=7)
    return first, week_of(until)


@dataclass
class WeekCounts:
    """One week and department's counts of rows retention deleted."""

    stories: int = 0
    nps: Counter[int] = field(default_factory=Counter)
    csat: Counter[int] = field(default_factory=Counter)
    stories_delivered: int = 0
    reactions: int = 0

    def add(self, other: WeekCounts) -> None:
        self.stories += other.stories
        self.nps.update(other.nps)
        self.csat.update(other.csat)
        self.stories_delivered += other.stories_delivered
        self.reactions += other.reactions


def with_kept(figures: PeriodFigures, kept: Iterable[WeekCounts]) -> PeriodFigures:
    """The live rows' figures plus the counts kept for the period's weeks."""
    nps, csat = list(figures.nps_scores), list(figures.csat_scores)
    delivered, reactions = figures.stories_delivered, figures.reactions
    for week in kept:
        nps.extend(_scores(week.nps))
        csat.extend(_scores(week.csat))
        delivered += week.stories_delivered
        reactions += week.reactions
    return PeriodFigures(
        nps_scores=tuple(nps),
        csat_scores=tuple(csat),
        stories_delivered=delivered,
        reactions=reactions,
        commitments_opened=figures.commitments_opened,
        commitments_closed=figures.commitments_closed,
        days_to_close=figures.days_to_close,
    )


def _scores(counts: Mapping[int, int]) -> list[int]:
    return [score for score, n in sorted(counts.items()) for _ in range(n)]
