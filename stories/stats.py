"""`/cx stats`: how a department (or everyone) is doing with the customer's voice over the last days.

Definitions, so every surface means the same thing:

- NPS and CSAT: over the comments behind the stories created in the period (routed to the department);
- stories delivered: distinct stories posted in the period (own card or in a digest), to the department;
- reactions: reactions added in the period to the department's stories (removed ones are gone);
- commitments opened: made in the period; closed: marked done in the period (dropped ones do not close a loop);
- median days to close: over the commitments closed (done) in the period, from made to done;
- weeks whose comments the retention window removed count from the figures kept for them (stories.retention).
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from stories.scores import csat_percent, net_promoter_score
from stories.views import StatsView

DAYS = 30


@dataclass(frozen=True, slots=True)
class PeriodFigures:
    nps_scores: tuple[int, ...]
    csat_scores: tuple[int, ...]
    stories_delivered: int
    reactions: int
    commitments_opened: int
    commitments_closed: int
    days_to_close: tuple[float, ...]  # one per commitment closed (done) in the period


class StatsReader(Protocol):
    def period_figures(self, *, department: str | None, since: datetime, until: datetime) -> PeriodFigures:
        """Raw figures for ``(since, until]`` (up to and including now); ``department=None``: every department."""
        ...


def build_stats(*, reader: StatsReader, department: str | None, now: datetime, days: int = DAYS) -> StatsView:
    """The stats view for the ``days`` up to ``now``."""
    if days < 1:
        raise ValueError("days must be at least 1")
    figures = reader.period_figures(department=department, since=now - timedelta(days=days), until=now)
    median = statistics.median(figures.days_to_close) if figures.days_to_close else None
    return StatsView(
        department=department,
        days=days,
        nps=net_promoter_score(figures.nps_scores),
        csat=csat_percent(figures.csat_scores),
        stories_delivered=figures.stories_delivered,
        reactions=figures.reactions,
        commitments_opened=figures.commitments_opened,
        commitments_closed=figures.commitments_closed,
        median_days_to_close=round(median, 1) if median is not None else None,
        nps_responses=len(figures.nps_scores),
        csat_responses=len(figures.csat_scores),
    )
