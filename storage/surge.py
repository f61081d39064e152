"""Read side of surge alerts: a department's stories over the last weeks, with their themes and story text.

A story counts on the day its comment was written when the source says so (``original_at``: an imported survey
export of last month's comments is not a surge today), else the day it arrived.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Engine, func, select

from storage.models import Comment, Department, Route, Story
from stories.surge import ThemedStory


class SqlSurgeStories:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def themed_stories(self, *, department: str, since: datetime, until: datetime) -> list[ThemedStory]:
        """Stories routed to ``department`` that carry a theme, written in ``[since, until]``."""
        written = func.coalesce(Comment.original_at, Story.created_at)
        query = (
            select(Story.id, Story.themes, Story.text, Comment.original_at, Story.created_at)
            .join(Comment, Comment.id == Story.comment_id)
            .join(Route, Route.story_id == Story.id)
            .join(Department, Department.id == Route.department_id)
            # created_at is indexed and never before the comment was written: it bounds the scan
            .where(Department.name == department, Story.created_at >= since, written <= until)
            .order_by(Story.id)
        )
        with self._engine.connect() as conn:
            rows = conn.execute(query).all()
        return [
            ThemedStory(
                story_id=row.id,
                created_at=row.original_at or row.created_at,
                themes=tuple(row.themes),
                text=row.text,
            )
            for row in rows
            if row.themes and (row.original_at or row.created_at) >= since
        ]
