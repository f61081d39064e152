"""The raw figures behind `/cx stats`: stories.stats.StatsReader."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Engine, func, select

from storage.departments import DepartmentIds
from storage.models import Comment, Commitment, Reaction, Route, Story, StoryMessage
from storage.retention import kept_weeks
from stories.retention import with_kept
from stories.stats import PeriodFigures


class SqlStats:
    """Implements stories.stats.StatsReader."""

    def __init__(self, engine: Engine, departments: DepartmentIds) -> None:
        self._engine = engine
        self._departments = departments
        self._dialect = engine.dialect.name

    # --- stats ------------------------------------------------------------------------------------------------

    def period_figures(self, *, department: str | None, since: datetime, until: datetime) -> PeriodFigures:
        department_id = self._departments.id_of(department) if department is not None else None
        routed = select(Route.story_id).where(Route.department_id == department_id)
        in_department: list[Any] = [] if department_id is None else [Story.id.in_(routed)]
        with self._engine.connect() as conn:
            scores = conn.execute(
                select(Comment.nps, Comment.csat)
                .join(Story, Story.comment_id == Comment.id)
                .where(Story.created_at > since, Story.created_at <= until, *in_department)
            ).all()
            delivered = select(func.count(func.distinct(StoryMessage.story_id))).where(
                StoryMessage.created_at > since, StoryMessage.created_at <= until
            )
            reactions = select(func.count(Reaction.id)).where(Reaction.created_at > since, Reaction.created_at <= until)
            opened = select(func.count(Commitment.id)).where(
                Commitment.created_at > since, Commitment.created_at <= until
            )
            closed = select(Commitment.created_at, Commitment.closed_at).where(
                Commitment.state == "done", Commitment.closed_at > since, Commitment.closed_at <= until
            )
            if department_id is not None:
                delivered = delivered.where(StoryMessage.department_id == department_id)
                reactions = reactions.where(Reaction.story_id.in_(routed))
                opened = opened.where(Commitment.department_id == department_id)
                closed = closed.where(Commitment.department_id == department_id)
            durations = conn.execute(closed).all()
            live = PeriodFigures(
                nps_scores=tuple(r.nps for r in scores if r.nps is not None),
                csat_scores=tuple(r.csat for r in scores if r.csat is not None),
                stories_delivered=int(conn.scalar(delivered) or 0),
                reactions=int(conn.scalar(reactions) or 0),
                commitments_opened=int(conn.scalar(opened) or 0),
                commitments_closed=len(durations),
                days_to_close=tuple(
                    (closed_at - created_at).total_seconds() / 86400
                    for created_at, closed_at in durations
                    if closed_at is not None
                ),
            )
            # weeks whose comments the retention window removed: their counts were kept (storage/retention.py)
            return with_kept(live, kept_weeks(conn, department=department, since=since, until=until))
