"""Read side of "did the fix work" (stories.fixproof): closed commitments with their story, and a department's
comments over a period."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Engine, func, select

from storage.models import Comment, Commitment, Department, Route, Story
from stories.fixproof import ClosedFix, FollowedComment


class SqlFixProof:
    """Implements the reads of :class:`stories.fixproof.FixProofStore` (storage.followup.SqlFollowUps has
    ``story_places`` and ``department_channels``; storage.command_store.SqlCommandStore joins them)."""

    _engine: Engine

    def closed_fixes(self, *, department: str | None, since: datetime, until: datetime) -> list[ClosedFix]:
        query = (
            select(
                Commitment.id,
                Commitment.story_id,
                Department.name,
                Commitment.owner_name,
                Commitment.what,
                Commitment.closed_at,
                Story.themes,
                Comment.redacted_text,
            )
            .join(Story, Story.id == Commitment.story_id)
            .join(Comment, Comment.id == Story.comment_id)
            .join(Department, Department.id == Commitment.department_id)
            .where(Commitment.state == "done", Commitment.closed_at >= since, Commitment.closed_at < until)
            .order_by(Commitment.closed_at, Commitment.id)
        )
        if department is not None:
            query = query.where(Department.name == department)
        with self._engine.connect() as conn:
            rows = conn.execute(query).all()
        return [
            ClosedFix(
                commitment_id=row.id,
                story_id=row.story_id,
                department=row.name,
                owner_name=row.owner_name,
                what=row.what,
                closed_at=row.closed_at,
                themes=tuple(row.themes or ()),
                text=row.redacted_text,
            )
            for row in rows
        ]

    def followed_comments(self, *, department: str, since: datetime, until: datetime) -> list[FollowedComment]:
        written = func.coalesce(Comment.original_at, Story.created_at)
        query = (
            select(Story.id, Story.themes, Comment.redacted_text, Comment.original_at, Story.created_at)
            .join(Comment, Comment.id == Story.comment_id)
            .join(Route, Route.story_id == Story.id)
            .join(Department, Department.id == Route.department_id)
            # created_at is indexed and never before the comment was written: it bounds the scan
            .where(Department.name == department, Story.created_at >= since, written >= since, written < until)
            .order_by(Story.id)
        )
        with self._engine.connect() as conn:
            rows = conn.execute(query).all()
        return [
            FollowedComment(
                story_id=row.id,
                written_at=row.original_at or row.created_at,
                themes=tuple(row.themes or ()),
                text=row.redacted_text,
            )
            for row in rows
        ]
