"""Commitments, reactions and corrections: the follow-up core's store (stories.followup.FollowUpStore).

Writes are idempotent on their unique keys (``INSERT ... ON CONFLICT DO NOTHING``); a retried action finds
the row the first attempt wrote and answers with it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, and_, delete, func, or_, select, update
from sqlalchemy.engine import Connection

from storage.commitment_pages import CommitmentPages
from storage.departments import DepartmentIds
from storage.models import (
    CommentOrigin,
    Commitment,
    Correction,
    Department,
    Reaction,
    Route,
    Story,
    StoryMessage,
)
from storage.upsert import insert_ignore
from stories.followup import CommitmentPage, NewCommitment, StoryBrief, StoryPlace, commitment_item
from stories.models import Origin
from stories.views import CommitmentItem, CommitmentState

CORRECTION_RULE = "correction"


class SqlFollowUps:
    """Implements stories.followup.FollowUpStore."""

    def __init__(self, engine: Engine, departments: DepartmentIds) -> None:
        self._engine = engine
        self._departments = departments
        self._dialect = engine.dialect.name
        self._pages = CommitmentPages(engine, departments)  # `/cx actions`

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

    def lookers(self, story_id: int, *, emoji: Sequence[str]) -> int:
        if not emoji:
            return 0
        people = (
            select(Reaction.platform, Reaction.user_id)
            .where(Reaction.story_id == story_id, Reaction.emoji.in_(list(emoji)))
            .distinct()
            .subquery()
        )
        with self._engine.connect() as conn:
            return int(conn.scalar(select(func.count()).select_from(people)) or 0)

    def story_origins(self, story_id: int) -> list[Origin]:
        with self._engine.connect() as conn:
            rows = conn.execute(
                select(
                    CommentOrigin.platform,
                    CommentOrigin.via,
                    CommentOrigin.channel,
                    CommentOrigin.sender,
                    CommentOrigin.thread,
                    CommentOrigin.workspace,
                )
                .join(Story, Story.comment_id == CommentOrigin.comment_id)
                .where(Story.id == story_id)
                .order_by(CommentOrigin.id)
            ).all()
        return [
            Origin(
                platform=platform,
                via="channel" if via == "channel" else "shortcut" if via == "shortcut" else "command",
                channel=channel,
                sender=sender,
                thread=thread or None,
                workspace=workspace or None,
            )
            for platform, via, channel, sender, thread, workspace in rows
        ]

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
        """One page of open commitments, filtered, counted, sorted and cut in SQL (storage.commitment_pages)."""
        return self._pages.page(
            today=today, departments=departments, owner=owner, overdue=overdue, page=page, size=size
        )

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
