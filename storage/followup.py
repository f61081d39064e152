"""Commitments, reactions, corrections, kudos and the stats queries: the follow-up core's store.

Writes are idempotent on their unique keys (``INSERT ... ON CONFLICT DO NOTHING``); a retried action finds
the row the first attempt wrote and answers with it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, and_, delete, func, literal_column, or_, select, update
from sqlalchemy.engine import Connection

from storage.departments import DepartmentIds
from storage.models import (
    Comment,
    Commitment,
    Correction,
    Department,
    Kudos,
    Reaction,
    Route,
    Story,
    StoryMessage,
)
from storage.upsert import insert_ignore
from stories.followup import CommitmentPage, NewCommitment, StoryBrief, StoryPlace, commitment_item, commitment_order
from stories.kudos import NewKudos, PraiseSource
from stories.stats import PeriodFigures
from stories.views import CommitmentItem, CommitmentState, KudosView

_CHANNEL_COLUMN = {"slack": Department.slack_channel, "teams": Department.teams_channel}
CORRECTION_RULE = "correction"


class SqlFollowUps:
    """Implements stories.commands.CommandStore (FollowUpStore, KudosStore, StatsReader, ChannelLinker)."""

    def __init__(self, engine: Engine, departments: DepartmentIds) -> None:
        self._engine = engine
        self._departments = departments
        self._dialect = engine.dialect.name
        # Pages are two reads and no write: outside a transaction they spare BEGIN and ROLLBACK, two of the five
        # round trips (bench/actions.py); a total that moves between the two reads is one read a moment later.
        self._reads = engine.execution_options(isolation_level="AUTOCOMMIT")

    # --- stories ----------------------------------------------------------------------------------------------

    def story(self, story_id: int) -> StoryBrief | None:
        with self._engine.connect() as conn:
            title = conn.scalar(select(Story.title).where(Story.id == story_id))
            if title is None:
                return None
            names = conn.scalars(
                select(Department.name)
                .join(Route, Route.department_id == Department.id)
                .where(Route.story_id == story_id)
                .order_by(Route.id)
            ).all()
        return StoryBrief(story_id=story_id, title=title, departments=tuple(names))

    def story_places(self, story_id: int) -> list[StoryPlace]:
        with self._engine.connect() as conn:
            rows = conn.execute(
                select(StoryMessage.platform, StoryMessage.channel, StoryMessage.department_id)
                .where(StoryMessage.story_id == story_id)
                .order_by(StoryMessage.id)
            ).all()
        places: dict[tuple[str, str], StoryPlace] = {}
        for platform, channel, department_id in rows:
            name = self._departments.name_of(department_id) if department_id is not None else None
            places.setdefault((platform, channel), StoryPlace(platform=platform, channel=channel, department=name))
        return list(places.values())

    def department_channels(self, department: str) -> dict[str, str]:
        with self._engine.connect() as conn:
            row = conn.execute(
                select(Department.slack_channel, Department.teams_channel).where(
                    Department.id == self._departments.id_of(department)
                )
            ).first()
        if row is None:
            return {}
        return {platform: channel for platform, channel in zip(("slack", "teams"), row, strict=True) if channel}

    def link_channel(self, *, department: str, platform: str, channel: str) -> None:
        column = _CHANNEL_COLUMN[platform]
        with self._engine.begin() as conn:
            conn.execute(
                update(Department)
                .where(Department.id == self._departments.id_of(department))
                .values({column.key: channel})
            )

    # --- reactions --------------------------------------------------------------------------------------------

    def set_reaction(
        self, *, story_id: int, platform: str, user_id: str, emoji: str, added: bool, now: datetime
    ) -> bool:
        with self._engine.begin() as conn:
            if added:
                inserted = conn.execute(
                    insert_ignore(Reaction, self._dialect).returning(Reaction.id),
                    [
                        {
                            "story_id": story_id,
                            "platform": platform,
                            "user_id": user_id,
                            "emoji": emoji,
                            "created_at": now,
                        }
                    ],
                ).all()
                return bool(inserted)
            removed = conn.execute(
                delete(Reaction).where(
                    Reaction.story_id == story_id,
                    Reaction.platform == platform,
                    Reaction.user_id == user_id,
                    Reaction.emoji == emoji,
                )
            )
            return bool(removed.rowcount)

    # --- commitments ------------------------------------------------------------------------------------------

    def add_commitment(self, new: NewCommitment, *, today: date) -> CommitmentItem:
        row = {
            "key": new.key[:200],
            "story_id": new.story_id,
            "department_id": self._departments.id_of(new.department),
            "owner": new.owner,
            "owner_name": new.owner_name[:100] if new.owner_name else None,
            "created_by": new.created_by,
            "platform": new.platform,
            "what": new.what,
            "due_date": new.due,
            "state": "open",
            "created_at": new.created_at,
        }
        with self._engine.begin() as conn:
            conn.execute(insert_ignore(Commitment, self._dialect), [row])
            commitment_id = conn.scalar(select(Commitment.id).where(Commitment.key == row["key"]))
            items = self._items(conn, Commitment.id == commitment_id, today=today)
        return items[0]

    def commitment(self, commitment_id: int, *, today: date) -> CommitmentItem | None:
        with self._engine.connect() as conn:
            items = self._items(conn, Commitment.id == commitment_id, today=today)
        return items[0] if items else None

    def close_commitment(self, *, commitment_id: int, state: CommitmentState, by: str, now: datetime) -> bool:
        with self._engine.begin() as conn:
            result = conn.execute(
                update(Commitment)
                .where(Commitment.id == commitment_id, Commitment.state == "open")
                .values(state=state, closed_at=now, closed_by=by)
            )
        return bool(result.rowcount)

    def story_commitments(self, story_id: int, *, today: date) -> list[CommitmentItem]:
        with self._engine.connect() as conn:
            return self._items(conn, Commitment.story_id == story_id, today=today)

    def open_commitments(
        self, *, today: date, departments: Sequence[str] | None = None, owner: str | None = None
    ) -> list[CommitmentItem]:
        conditions: list[Any] = [Commitment.state == "open"]
        if departments is not None:
            conditions.append(Commitment.department_id.in_([self._departments.id_of(d) for d in departments]))
        if owner is not None:
            conditions.append(Commitment.owner == owner)
        with self._engine.connect() as conn:
            return self._items(conn, and_(*conditions), today=today)

    def commitments_page(
        self,
        *,
        today: date,
        departments: Sequence[str] | None = None,
        owner: str | None = None,
        overdue: bool = False,
        page: int,
        size: int,
    ) -> CommitmentPage:
        """One page of open commitments, filtered, counted, sorted and cut in SQL.

        ``commitment_order`` (overdue first, then by due date, undated last, then oldest) is ``due_date NULLS
        LAST, id`` here, since an open commitment is overdue exactly when its due date is before today; the
        partial indexes ix_commitments_open_department and ix_commitments_open_owner serve that order.
        """
        # 'open' written into the statement, not bound: a prepared statement's generic plan can then still use
        # the partial indexes (WHERE state = 'open'), which a parameter would rule out.
        conditions: list[Any] = [Commitment.state == literal_column("'open'")]
        if departments is not None:
            conditions.append(Commitment.department_id.in_([self._departments.id_of(d) for d in departments]))
        if owner is not None:
            conditions.append(Commitment.owner == owner)
        if overdue:
            conditions.append(Commitment.due_date < today)
        where = and_(*conditions)
        with self._reads.connect() as conn:
            total = int(conn.scalar(select(func.count()).select_from(Commitment).where(where)) or 0)
            pages = max(1, -(-total // size))
            page = min(max(page, 1), pages)
            # The page's ids first, from the index alone; the rows and their joins for those ids only.
            ids = (
                select(Commitment.id)
                .where(where)
                .order_by(Commitment.due_date.asc().nulls_last(), Commitment.id)
                .offset((page - 1) * size)
                .limit(size)
                .subquery()
            )
            items = self._items(conn, Commitment.id.in_(select(ids.c.id)), today=today)
        items.sort(key=commitment_order)
        return CommitmentPage(items=tuple(items), total=total, page=page, pages=pages)

    def due_for_nudge(self, today: date) -> list[CommitmentItem]:
        """Open commitments due by tomorrow (today's and overdue ones included) not yet nudged today."""
        with self._engine.connect() as conn:
            return self._items(
                conn,
                and_(
                    Commitment.state == "open",
                    Commitment.due_date <= today + timedelta(days=1),
                    or_(Commitment.last_nudged_on.is_(None), Commitment.last_nudged_on < today),
                ),
                today=today,
            )

    def mark_nudged(self, ids: Sequence[int], today: date) -> int:
        if not ids:
            return 0
        with self._engine.begin() as conn:
            result = conn.execute(update(Commitment).where(Commitment.id.in_(list(ids))).values(last_nudged_on=today))
        return int(result.rowcount)

    def _items(self, conn: Connection, condition: Any, *, today: date) -> list[CommitmentItem]:
        query = (
            select(
                *Commitment.__table__.c,
                Story.title.label("story_title"),
                Department.name.label("department_name"),
            )
            .outerjoin(Story, Story.id == Commitment.story_id)
            .outerjoin(Department, Department.id == Commitment.department_id)
            .where(condition)
            .order_by(Commitment.id)
        )
        return [
            commitment_item(
                id=row.id,
                story_id=row.story_id,
                story_title=row.story_title,
                department=row.department_name,
                owner=row.owner,
                owner_name=row.owner_name,
                created_by=row.created_by,
                platform=row.platform,
                what=row.what,
                due=row.due_date,
                state=row.state,
                created_at=row.created_at,
                today=today,
            )
            for row in conn.execute(query)
        ]

    # --- corrections ------------------------------------------------------------------------------------------

    def add_correction(
        self,
        *,
        key: str,
        story_id: int,
        from_department: str,
        to_department: str,
        by: str,
        platform: str,
        now: datetime,
    ) -> bool:
        source, target = self._departments.id_of(from_department), self._departments.id_of(to_department)
        with self._engine.begin() as conn:
            inserted = conn.execute(
                insert_ignore(Correction, self._dialect).returning(Correction.id),
                [
                    {
                        "key": key[:200],
                        "story_id": story_id,
                        "from_department_id": source,
                        "to_department_id": target,
                        "by_user": by,
                        "platform": platform,
                        "created_at": now,
                    }
                ],
            ).all()
            if not inserted:
                return False
            conn.execute(
                insert_ignore(Route, self._dialect),
                [
                    {
                        "story_id": story_id,
                        "department_id": target,
                        "rule": CORRECTION_RULE,
                        "reason": f"moved here from {from_department} by a reader"[:300],
                        "created_at": now,
                    }
                ],
            )
            conn.execute(delete(Route).where(Route.story_id == story_id, Route.department_id == source))
        return True

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

    # --- stats ------------------------------------------------------------------------------------------------

    def period_figures(self, *, department: str | None, since: datetime, until: datetime) -> PeriodFigures:
        department_id = self._departments.id_of(department) if department is not None else None
        routed = select(Route.story_id).where(Route.department_id == department_id)
        in_department: list[Any] = [] if department_id is None else [Story.id.in_(routed)]
        with self._engine.connect() as conn:
            scores = conn.execute(
                select(Comment.nps, Comment.csat)
                .join(Story, Story.comment_id == Comment.id)
                .where(Story.created_at > since, Story.created_at <= until, *in_department)
            ).all()
            delivered = select(func.count(func.distinct(StoryMessage.story_id))).where(
                StoryMessage.created_at > since, StoryMessage.created_at <= until
            )
            reactions = select(func.count(Reaction.id)).where(Reaction.created_at > since, Reaction.created_at <= until)
            opened = select(func.count(Commitment.id)).where(
                Commitment.created_at > since, Commitment.created_at <= until
            )
            closed = select(Commitment.created_at, Commitment.closed_at).where(
                Commitment.state == "done", Commitment.closed_at > since, Commitment.closed_at <= until
            )
            if department_id is not None:
                delivered = delivered.where(StoryMessage.department_id == department_id)
                reactions = reactions.where(Reaction.story_id.in_(routed))
                opened = opened.where(Commitment.department_id == department_id)
                closed = closed.where(Commitment.department_id == department_id)
            durations = conn.execute(closed).all()
            return PeriodFigures(
                nps_scores=tuple(r.nps for r in scores if r.nps is not None),
                csat_scores=tuple(r.csat for r in scores if r.csat is not None),
                stories_delivered=int(conn.scalar(delivered) or 0),
                reactions=int(conn.scalar(reactions) or 0),
                commitments_opened=int(conn.scalar(opened) or 0),
                commitments_closed=len(durations),
                days_to_close=tuple(
                    (closed_at - created_at).total_seconds() / 86400
                    for created_at, closed_at in durations
                    if closed_at is not None
                ),
            )
