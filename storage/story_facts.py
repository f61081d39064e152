"""What intake decisions need to know about new stories beyond their routes: the redacted comment and its NPS
(urgency is decided on the customer's own words, not on the summary)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Engine, select

from storage.models import Comment, Story


def comment_facts(engine: Engine, story_ids: Sequence[int]) -> list[tuple[int, str, int | None]]:
    """``(story id, redacted comment text, NPS)`` for each of ``story_ids`` that exists."""
    if not story_ids:
        return []
    with engine.connect() as conn:
        rows = conn.execute(
            select(Story.id, Comment.redacted_text, Comment.nps)
            .join(Comment, Comment.id == Story.comment_id)
            .where(Story.id.in_(list(story_ids)))
            .order_by(Story.id)
        ).all()
    return [(sid, text, nps) for sid, text, nps in rows]
