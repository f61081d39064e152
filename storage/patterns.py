"""Read side of the weekly pattern report: a department's stories in a period, with their redacted comments,
themes and how many reactions each drew."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Engine, func, select

from storage.models import Comment, Department, Reaction, Route, Story
from stories.patterns import PatternStory


class SqlPatternStories:
    """Implements :class:`stories.patterns.PatternStories`."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def pattern_stories(self, *, department: str, since: datetime, until: datetime) -> list[PatternStory]:
        reactions = select(Reaction.story_id, func.count(Reaction.id).label("n")).group_by(Reaction.story_id).subquery()
        query = (
            select(Story.id, Story.title, Story.themes, Story.created_at, Comment.redacted_text, reactions.c.n)
            .join(Comment, Comment.id == Story.comment_id)
            .join(Route, Route.story_id == Story.id)
            .join(Department, Department.id == Route.department_id)
            .outerjoin(reactions, reactions.c.story_id == Story.id)
            .where(Department.name == department, Story.created_at >= since, Story.created_at < until)
            .order_by(Story.created_at, Story.id)
        )
        with self._engine.connect() as conn:
            rows = conn.execute(query).all()
        return [
            PatternStory(
                story_id=row.id,
                title=row.title,
                text=row.redacted_text,
                themes=tuple(row.themes or ()),
                created_at=row.created_at,
                reactions=int(row.n or 0),
            )
            for row in rows
        ]
