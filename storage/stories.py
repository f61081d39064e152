"""Read side of stories: the views digests, renderers and commands need."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from storage.models import Comment, Commitment, Department, Route, Story
from stories.models import SentimentLabel, StoryView


class SqlStoryReader:
    """Implements :class:`stories.ports.StoryReader`."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def stories_for_department(self, *, department: str, since: datetime, until: datetime) -> list[StoryView]:
        """The department's news in the period: backfilled old comments are left out (stories.pipeline)."""
        query = (
            select(Story.id)
            .join(Route, Route.story_id == Story.id)
            .join(Department, Department.id == Route.department_id)
            .where(
                Department.name == department,
                Story.created_at >= since,
                Story.created_at < until,
                Story.backfill.is_(False),
            )
        )
        with self._engine.connect() as conn:
            ids = list(conn.scalars(query))
        return self.views(ids, department=department)

    def views(self, story_ids: Sequence[int], *, department: str | None = None) -> list[StoryView]:
        """Story views in the order of ``story_ids``; ``department`` adds why each reached it."""
        if not story_ids:
            return []
        with Session(self._engine) as session:
            rows = session.execute(
                select(Story, Comment).join(Comment, Comment.id == Story.comment_id).where(Story.id.in_(story_ids))
            ).all()
            routes = session.execute(
                select(Route.story_id, Department.name, Route.reason)
                .join(Department, Department.id == Route.department_id)
                .where(Route.story_id.in_(story_ids))
                .order_by(Route.id)
            ).all()
        departments: dict[int, list[str]] = defaultdict(list)
        reasons: dict[int, list[str]] = defaultdict(list)
        for story_id, name, reason in routes:
            departments[story_id].append(name)
            if department is not None and name == department:
                reasons[story_id].append(reason)
        by_id = {}
        for story, comment in rows:
            by_id[story.id] = StoryView(
                story_id=story.id,
                title=story.title,
                text=story.text,
                sentiment=_label(story.sentiment),
                sentiment_score=story.sentiment_score,
                source=comment.source,
                received_at=comment.received_at,
                original_at=comment.original_at,
                departments=tuple(departments[story.id]),
                themes=tuple(story.themes or ()),
                nps=comment.nps,
                csat=comment.csat,
                segment=comment.segment,
                permalink=comment.origin_link,
                reasons=tuple(reasons[story.id]),
            )
        return [by_id[i] for i in story_ids if i in by_id]

    def open_commitment_count(self, *, department: str) -> int:
        with self._engine.connect() as conn:
            return int(
                conn.scalar(
                    select(func.count(Commitment.id))
                    .join(Department, Department.id == Commitment.department_id)
                    .where(Department.name == department, Commitment.state == "open")
                )
                or 0
            )


def _label(value: str) -> SentimentLabel:
    if value in ("negative", "neutral", "positive"):
        return value  # type: ignore[return-value]
    return "neutral"
