"""The rituals' tables (stories.rituals.RitualStore): meeting openers, ambassadors added in chat, the pulse.

Every write is idempotent (``INSERT ... ON CONFLICT DO NOTHING`` on the natural key). Whether an insert made a row
is read with ``RETURNING`` (psycopg reports no usable row count for it), see :func:`_inserted`. A pulse answer is one
transaction: the keyed hash of (person, month) is inserted, and only if it was new is its department's count
for the month raised; no row ever holds a user id together with anything of an answer.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, delete, select, update
from sqlalchemy.sql.dml import Insert

from storage.models import Ambassador, Opener, PulseAnswered, PulseCount
from storage.models import PulseMember as PulseMemberRow
from storage.upsert import insert_ignore
from stories.opener import OpenerChoice
from stories.pulse import MonthCount, PulseMember
from stories.rituals import AmbassadorRow


class SqlRituals:
    """Implements stories.rituals.RitualStore."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._dialect = engine.dialect.name

    # --- openers ------------------------------------------------------------------------------------------------

    def opener(self, key: str) -> OpenerChoice | None:
        with self._engine.connect() as conn:
            row = conn.execute(
                select(Opener.id, Opener.story_id, Opener.department).where(Opener.key == key[:200])
            ).first()
        return OpenerChoice(id=row[0], story_id=row[1], department=row[2]) if row else None

    def recent_openers(self, *, platform: str, channel: str, since: datetime) -> set[int]:
        with self._engine.connect() as conn:
            return set(
                conn.scalars(
                    select(Opener.story_id).where(
                        Opener.platform == platform, Opener.channel == channel, Opener.created_at >= since
                    )
                )
            )

    def record_opener(
        self, *, key: str, platform: str, channel: str, story_id: int, department: str, now: datetime
    ) -> OpenerChoice:
        row = {
            "key": key[:200],
            "platform": platform,
            "channel": channel,
            "story_id": story_id,
            "department": department,
            "created_at": now,
        }
        with self._engine.begin() as conn:
            conn.execute(insert_ignore(Opener, self._dialect), [row])
        found = self.opener(key)
        assert found is not None
        return found

    # --- ambassadors --------------------------------------------------------------------------------------------

    def add_ambassador(self, *, department: str, platform: str, user_id: str, added_by: str, now: datetime) -> bool:
        row = {
            "department": department,
            "platform": platform,
            "user_id": user_id,
            "added_by": added_by,
            "created_at": now,
        }
        with self._engine.begin() as conn:
            return _inserted(conn, insert_ignore(Ambassador, self._dialect).returning(Ambassador.id), row)

    def remove_ambassador(self, *, department: str | None, platform: str, user_id: str) -> int:
        query = delete(Ambassador).where(Ambassador.platform == platform, Ambassador.user_id == user_id)
        if department is not None:
            query = query.where(Ambassador.department == department)
        with self._engine.begin() as conn:
            return int(conn.execute(query).rowcount)

    def added_ambassadors(self) -> list[AmbassadorRow]:
        with self._engine.connect() as conn:
            rows = conn.execute(
                select(Ambassador.department, Ambassador.platform, Ambassador.user_id).order_by(Ambassador.id)
            ).all()
        return [AmbassadorRow(department=d, platform=p, user_id=u) for d, p, u in rows]

    # --- the pulse ----------------------------------------------------------------------------------------------

    def add_pulse_member(self, member: PulseMember, *, added_by: str, now: datetime) -> bool:
        row = {
            "platform": member.platform,
            "user_id": member.user_id,
            "department": member.department,
            "added_by": added_by,
            "created_at": now,
        }
        with self._engine.begin() as conn:
            if _inserted(conn, insert_ignore(PulseMemberRow, self._dialect).returning(PulseMemberRow.id), row):
                return True
            moved = conn.execute(
                update(PulseMemberRow)
                .where(
                    PulseMemberRow.platform == member.platform,
                    PulseMemberRow.user_id == member.user_id,
                    PulseMemberRow.department != member.department,
                )
                .values(department=member.department)
            )
            return bool(moved.rowcount)

    def remove_pulse_member(self, *, platform: str, user_id: str) -> bool:
        with self._engine.begin() as conn:
            query = delete(PulseMemberRow).where(PulseMemberRow.platform == platform, PulseMemberRow.user_id == user_id)
            return bool(conn.execute(query).rowcount)

    def pulse_members(self) -> list[PulseMember]:
        with self._engine.connect() as conn:
            rows = conn.execute(
                select(PulseMemberRow.platform, PulseMemberRow.user_id, PulseMemberRow.department).order_by(
                    PulseMemberRow.id
                )
            ).all()
        return [PulseMember(platform=p, user_id=u, department=d) for p, u, d in rows]

    def pulse_member(self, *, platform: str, user_id: str) -> PulseMember | None:
        with self._engine.connect() as conn:
            row = conn.execute(
                select(PulseMemberRow.department).where(
                    PulseMemberRow.platform == platform, PulseMemberRow.user_id == user_id
                )
            ).first()
        return PulseMember(platform=platform, user_id=user_id, department=row[0]) if row else None

    def count_pulse_answer(self, *, digest: str, month: str, department: str, customers: bool) -> bool:
        with self._engine.begin() as conn:
            answered = insert_ignore(PulseAnswered, self._dialect).returning(PulseAnswered.digest)
            if not _inserted(conn, answered, {"digest": digest, "month": month}):
                return False
            conn.execute(
                insert_ignore(PulseCount, self._dialect),
                [{"month": month, "department": department, "answers": 0, "customers": 0}],
            )
            conn.execute(
                update(PulseCount)
                .where(PulseCount.month == month, PulseCount.department == department)
                .values(
                    answers=PulseCount.answers + 1,
                    customers=PulseCount.customers + (1 if customers else 0),
                )
            )
        return True

    def pulse_answered(self, digest: str) -> bool:
        with self._engine.connect() as conn:
            return conn.scalar(select(PulseAnswered.digest).where(PulseAnswered.digest == digest)) is not None

    def pulse_counts(self, *, since_month: str) -> list[MonthCount]:
        with self._engine.connect() as conn:
            rows = conn.execute(
                select(PulseCount.month, PulseCount.department, PulseCount.answers, PulseCount.customers)
                .where(PulseCount.month >= since_month)
                .order_by(PulseCount.month, PulseCount.department)
            ).all()
        return [MonthCount(month=m, department=d, answers=a, customers=c) for m, d, a, c in rows]


def _inserted(conn: Connection, statement: Insert, row: dict[str, Any]) -> bool:
    """Run an ``INSERT ... ON CONFLICT DO NOTHING ... RETURNING``: whether the row was new."""
    return conn.execute(statement, row).first() is not None
