"""Kudos and the stories they may praise: stories.kudos.KudosStore.

Writes are idempotent on the kudos key (``INSERT ... ON CONFLICT DO NOTHING``).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ColumnElement, Connection, Engine, delete, func, literal, select, text

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
        with self._engine.begin() as conn:
            conn.execute(insert_ignore(Kudos, self._dialect), [_row(new)])
            kudos_id = conn.scalar(select(Kudos.id).where(Kudos.key == new.key[:200]))
        assert kudos_id is not None
        return int(kudos_id)

    def add_kudos_within(self, new: NewKudos, *, limit: int, since: datetime) -> int | None:
        """One transaction per giver at a time (replicas included): a retry of ``new.key`` gets its id back, else
        one ``INSERT ... SELECT ... WHERE (given since) < limit``. None: the limit is used."""
        row = _row(new)
        given = (
            select(func.count())
            .select_from(Kudos)
            .where(Kudos.giver == new.giver, Kudos.platform == new.platform, Kudos.created_at >= since)
            .scalar_subquery()
        )
        columns = Kudos.__table__.c
        values = select(*(literal(value, type_=columns[name].type) for name, value in row.items())).where(given < limit)
        with self._engine.begin() as conn:
            self._one_at_a_time(conn, giver=new.giver, platform=new.platform)
            kudos_id = conn.scalar(select(Kudos.id).where(Kudos.key == row["key"]))
            if kudos_id is None:
                insert = insert_ignore(Kudos, self._dialect).from_select(list(row), values).returning(Kudos.id)
                kudos_id = conn.scalar(insert)
        return None if kudos_id is None else int(kudos_id)

    def _one_at_a_time(self, conn: Connection, *, giver: str, platform: str) -> None:
        """Serialise one giver's kudos: PostgreSQL's read committed would let two counts both see the last free slot.
        An advisory lock per giver (released at commit); SQLite: its one write lock, taken before the count."""
        if self._dialect == "postgresql":
            conn.execute(
                text("SELECT pg_advisory_xact_lock(hashtext(:key))"), {"key": f"cxbot kudos {platform} {giver}"}
            )
        elif self._dialect == "sqlite":
            conn.exec_driver_sql("BEGIN IMMEDIATE")

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


def _row(new: NewKudos) -> dict[str, object]:
    return {
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
