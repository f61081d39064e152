"""Kudos and the stories they may praise: stories.kudos.KudosStore.

Writes are idempotent on the kudos key (``INSERT ... ON CONFLICT DO NOTHING``).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ColumnElement, Engine, delete, func, select

from storage.departments import DepartmentIds
from storage.models import Comment, Kudos, KudosOptOut, Story
from storage.upsert import insert_ignore
from stories.kudos import NewKudos, PraiseSource
from stories.views import DepartmentThanks, KudosBoardRow, KudosView


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
            "receiver_name": new.receiver_name,
            "department": new.department,
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

    def kudos_exists(self, key: str) -> bool:
        with self._engine.connect() as conn:
            return conn.scalar(select(Kudos.id).where(Kudos.key == key[:200])) is not None

    def kudos_given(self, giver: str, *, platform: str, since: datetime) -> int:
        with self._engine.connect() as conn:
            count = conn.scalar(
                select(func.count())
                .select_from(Kudos)
                .where(Kudos.giver == giver, Kudos.platform == platform, Kudos.created_at >= since)
            )
        return int(count or 0)

    # --- opt-outs ---------------------------------------------------------------------------------------------

    def set_kudos_optout(self, *, platform: str, user_id: str, name: str | None, out: bool, now: datetime) -> bool:
        mine = (KudosOptOut.platform == platform, KudosOptOut.user_id == user_id)
        with self._engine.begin() as conn:
            if not out:
                return conn.execute(delete(KudosOptOut).where(*mine).returning(KudosOptOut.user_id)).first() is not None
            row = {"platform": platform, "user_id": user_id, "name": name[:100] if name else None, "created_at": now}
            inserted = conn.execute(
                insert_ignore(KudosOptOut, self._dialect).values(row).returning(KudosOptOut.user_id)
            )
            return inserted.first() is not None

    def kudos_opted_out(self, user_id: str, *, platform: str) -> bool:
        with self._engine.connect() as conn:
            found = conn.scalar(
                select(KudosOptOut.user_id).where(KudosOptOut.platform == platform, KudosOptOut.user_id == user_id)
            )
        return found is not None

    def opted_out_names(self) -> list[str]:
        with self._engine.connect() as conn:
            return [n for n in conn.scalars(select(KudosOptOut.name).where(KudosOptOut.name.is_not(None))) if n]

    # --- the board --------------------------------------------------------------------------------------------

    def _counted(self, platform: str, since: datetime, until: datetime) -> tuple[ColumnElement[bool], ...]:
        """Kudos of the period on the platform, to people who did not opt out."""
        opted_out = select(KudosOptOut.user_id).where(KudosOptOut.platform == platform)
        return (
            Kudos.platform == platform,
            Kudos.created_at >= since,
            Kudos.created_at < until,
            Kudos.receiver.not_in(opted_out),
        )

    def kudos_board(
        self, *, platform: str, since: datetime, until: datetime, department: str | None, limit: int
    ) -> list[KudosBoardRow]:
        thanked_by = func.count(Kudos.giver.distinct())
        given = func.count(Kudos.id)
        query = (
            select(Kudos.receiver, func.max(Kudos.receiver_name), thanked_by, given)
            .where(*self._counted(platform, since, until))
            .group_by(Kudos.receiver)
            .order_by(thanked_by.desc(), given.desc(), func.max(Kudos.receiver_name), Kudos.receiver)
            .limit(limit)
        )
        if department is not None:
            query = query.where(Kudos.department == department)
        with self._engine.connect() as conn:
            rows = conn.execute(query).all()
        return [KudosBoardRow(receiver=r[0], name=r[1], thanked_by=int(r[2]), kudos=int(r[3])) for r in rows]

    def kudos_departments(self, *, platform: str, since: datetime, until: datetime) -> list[DepartmentThanks]:
        people = func.count(Kudos.receiver.distinct())
        with self._engine.connect() as conn:
            rows = conn.execute(
                select(Kudos.department, people)
                .where(*self._counted(platform, since, until), Kudos.department.is_not(None))
                .group_by(Kudos.department)
                .order_by(people.desc(), Kudos.department)
            ).all()
        return [DepartmentThanks(department=str(r[0]), people=int(r[1])) for r in rows]
