"""Read side of follow-through (stories.followthrough): every department's counts in five grouped queries."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime
from typing import Any

from sqlalchemy import Engine, and_, exists, func, select

from storage.models import Commitment, Department, Reaction, Route, Story
from stories.followthrough import DepartmentFigures


class SqlFollowThrough:
    """Implements :class:`stories.followthrough.FollowThroughReader` (a part of storage.command_store)."""

    _engine: Engine

    def follow_through(self, *, since: datetime, until: datetime, today: date) -> list[DepartmentFigures]:
        received_in_period = and_(Story.created_at >= since, Story.created_at < until, Story.backfill.is_(False))
        reacted = exists().where(Reaction.story_id == Story.id)
        stories = (
            select(
                Route.department_id,
                func.count(Story.id).label("received"),
                func.count(Story.id).filter(reacted).label("read"),
            )
            .join(Story, Story.id == Route.story_id)
            .where(received_in_period)
            .group_by(Route.department_id)
        )
        made = (
            select(Commitment.department_id, func.count(Commitment.id))
            .where(Commitment.created_at >= since, Commitment.created_at < until)
            .group_by(Commitment.department_id)
        )
        closed = select(Commitment.department_id, Commitment.created_at, Commitment.closed_at).where(
            Commitment.state == "done", Commitment.closed_at >= since, Commitment.closed_at < until
        )
        overdue = (
            select(Commitment.department_id, func.count(Commitment.id))
            .where(Commitment.state == "open", Commitment.due_date < today)
            .group_by(Commitment.department_id)
        )
        counts: dict[int, dict[str, Any]] = defaultdict(dict)
        with self._engine.connect() as conn:
            names = dict(conn.execute(select(Department.id, Department.name)).all())
            for row in conn.execute(stories):
                counts[row.department_id].update(received=int(row.received), read=int(row.read))
            for department_id, n in conn.execute(made):
                if department_id is not None:
                    counts[department_id]["commitments"] = int(n)
            for department_id, n in conn.execute(overdue):
                if department_id is not None:
                    counts[department_id]["overdue"] = int(n)
            durations: dict[int, list[float]] = defaultdict(list)
            for department_id, created_at, closed_at in conn.execute(closed):
                if department_id is not None and closed_at is not None:
                    durations[department_id].append((closed_at - created_at).total_seconds() / 86400)
        for department_id, days in durations.items():
            counts[department_id].update(closed=len(days), days_to_close=tuple(days))
        return [
            DepartmentFigures(department=names[department_id], **figures)
            for department_id, figures in counts.items()
            if department_id in names
        ]
