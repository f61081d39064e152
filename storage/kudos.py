"""Kudos and the stories they may praise: stories.kudos.KudosStore.

Writes are idempotent on the kudos key (``INSERT ... ON CONFLICT DO NOTHING``).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Engine, select

from storage.departments import DepartmentIds
from storage.models import Comment, Kudos, Story
from storage.upsert import insert_ignore
from stories.kudos import NewKudos, PraiseSource
from stories.views import KudosView


class SqlKudos:
    """Implements stories.kudos.KudosStore."""

    def __init__(self, engine: Engine, departments: DepartmentIds) -> None:
        self._engine = engine
        self._departments = departments
        self._dialect = engine.dialect.name

    # --- kudos ------------------------------------------------------------------------------------------------

    def add_kudos(self, new: NewKudos) -> int:
        row = {
            "key": new.key[:200],
            "giver": new.giver,
            "receiver": new.receiver,
            "why": new.why,
            "story_id": new.story_id,
            "platform": new.platform,
            "source": new.source,
            "created_at": new.created_at,
        }
        with self._engine.begin() as conn:
            conn.execute(insert_ignore(Kudos, self._dialect), [row])
            kudos_id = conn.scalar(select(Kudos.id).where(Kudos.key == row["key"]))
        assert kudos_id is not None
        return int(kudos_id)

    def praise_source(self, story_id: int) -> PraiseSource | None:
        with self._engine.connect() as conn:
            row = conn.execute(
                select(Story.id, Story.title, Comment.redacted_text, Story.sentiment)
                .join(Comment, Comment.id == Story.comment_id)
                .where(Story.id == story_id)
            ).first()
        return PraiseSource(story_id=row[0], title=row[1], text=row[2], sentiment=row[3]) if row else None

    def praise_candidates(self, *, since: datetime, until: datetime, limit: int) -> list[PraiseSource]:
        with self._engine.connect() as conn:
            rows = conn.execute(
                select(Story.id, Story.title, Comment.redacted_text, Story.sentiment)
                .join(Comment, Comment.id == Story.comment_id)
                .where(
                    Story.sentiment == "positive",
                    Story.created_at > since,
                    Story.created_at <= until,
                    ~select(Kudos.id).where(Kudos.story_id == Story.id).exists(),
                )
                .order_by(Story.created_at.desc(), Story.id.desc())
                .limit(limit)
            ).all()
        return [PraiseSource(story_id=r[0], title=r[1], text=r[2], sentiment=r[3]) for r in rows]

    def kudos_received(self, receiver: str, *, platform: str, limit: int = 10) -> list[KudosView]:
        with self._engine.connect() as conn:
            rows = conn.execute(
                select(Kudos.giver, Kudos.receiver, Kudos.why)
                .where(Kudos.receiver == receiver, Kudos.platform == platform)
                .order_by(Kudos.created_at.desc(), Kudos.id.desc())
                .limit(limit)
            ).all()
        return [KudosView(giver=g, receiver=r, why=w) for g, r, w in rows]
