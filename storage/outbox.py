"""The outbox table: enqueue idempotently, claim with a lease, record what was sent.

Claims are one statement: on PostgreSQL ``UPDATE ... WHERE id IN (SELECT ... FOR UPDATE SKIP LOCKED)``, so
replicas never claim the same row; on SQLite the database has one writer, so the same UPDATE is atomic. A
claim whose lease expired (the claimer died) becomes claimable again.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, and_, or_, select, update

from storage.departments import DepartmentIds
from storage.models import Delivery, StoryMessage
from storage.upsert import insert_ignore
from stories.outbox import Outgoing

MAX_ATTEMPTS = 8


@dataclass(frozen=True, slots=True)
class Claimed:
    id: int
    key: str
    kind: str
    platform: str
    channel: str
    story_id: int | None
    department: str | None
    payload: dict[str, Any]
    attempts: int


class SqlOutbox:
    """Implements :class:`stories.outbox.OutboxWriter` and the dispatcher's side of the outbox."""

    def __init__(self, engine: Engine, departments: DepartmentIds) -> None:
        self._engine = engine
        self._departments = departments
        self._dialect = engine.dialect.name

    def enqueue(self, items: Sequence[Outgoing], *, now: datetime | None = None) -> int:
        if not items:
            return 0
        now = now or datetime.now(UTC)
        rows = [
            {
                "key": item.key[:300],
                "kind": item.kind,
                "story_id": item.story_id,
                "department_id": self._departments.id_of(item.department) if item.department else None,
                "platform": item.platform,
                "channel": item.channel,
                "payload": dict(item.payload),
                "state": "pending",
                "attempts": 0,
                "not_before": item.not_before or now,
                "created_at": now,
            }
            for item in items
        ]
        with self._engine.begin() as conn:
            inserted = conn.execute(insert_ignore(Delivery, self._dialect).returning(Delivery.id), rows).all()
        return len(inserted)

    def claim(self, *, instance: str, now: datetime, lease: timedelta, limit: int = 50) -> list[Claimed]:
        """Claim up to ``limit`` due deliveries for ``instance`` until ``now + lease``."""
        due = or_(
            and_(Delivery.state == "pending", Delivery.not_before <= now),
            and_(Delivery.state == "claimed", Delivery.lease_until < now),
        )
        candidates = select(Delivery.id).where(due).order_by(Delivery.not_before, Delivery.id).limit(limit)
        if self._dialect == "postgresql":
            candidates = candidates.with_for_update(skip_locked=True)
        statement = (
            update(Delivery)
            .where(Delivery.id.in_(candidates.scalar_subquery()))
            .values(
                state="claimed",
                claimed_by=instance,
                lease_until=now + lease,
                attempts=Delivery.attempts + 1,
            )
            .returning(
                Delivery.id,
                Delivery.key,
                Delivery.kind,
                Delivery.platform,
                Delivery.channel,
                Delivery.story_id,
                Delivery.department_id,
                Delivery.payload,
                Delivery.attempts,
            )
        )
        with self._engine.begin() as conn:
            rows = conn.execute(statement).all()
        claimed = [
            Claimed(
                id=r.id,
                key=r.key,
                kind=r.kind,
                platform=r.platform,
                channel=r.channel,
                story_id=r.story_id,
                department=self._departments.name_of(r.department_id) if r.department_id else None,
                payload=dict(r.payload or {}),
                attempts=r.attempts,
            )
            for r in rows
        ]
        return sorted(claimed, key=lambda c: c.id)

    def mark_sent(
        self,
        claimed: Claimed,
        *,
        instance: str,
        message_id: str,
        now: datetime,
        stories: Sequence[tuple[int, str | None]] = (),
        thread_id: str | None = None,
    ) -> bool:
        """Record the platform message id (and which stories it carries). False if our lease was lost."""
        with self._engine.begin() as conn:
            done = conn.execute(
                update(Delivery)
                .where(Delivery.id == claimed.id, Delivery.claimed_by == instance, Delivery.state == "claimed")
                .values(state="sent", message_id=message_id, thread_id=thread_id, sent_at=now, lease_until=None)
            ).rowcount
            if stories:
                conn.execute(
                    insert_ignore(StoryMessage, self._dialect),
                    [
                        {
                            "story_id": story_id,
                            "department_id": self._departments.id_of(dept) if dept else None,
                            "platform": claimed.platform,
                            "channel": claimed.channel,
                            "message_id": message_id,
                            "created_at": now,
                        }
                        for story_id, dept in stories
                    ],
                )
        return bool(done)

    def mark_failed(
        self, claimed: Claimed, *, instance: str, error: str, now: datetime, retry_at: datetime | None
    ) -> None:
        """Back to pending until ``retry_at``; ``None`` (or too many attempts) gives up for good."""
        give_up = retry_at is None or claimed.attempts >= MAX_ATTEMPTS
        with self._engine.begin() as conn:
            conn.execute(
                update(Delivery)
                .where(Delivery.id == claimed.id, Delivery.claimed_by == instance)
                .values(
                    state="failed" if give_up else "pending",
                    not_before=retry_at or now,
                    lease_until=None,
                    last_error=error[:500],
                )
            )

    def story_messages(self, *, story_id: int, platform: str, channel: str | None = None) -> list[tuple[str, str, int]]:
        """``(channel, message_id, stories_in_that_message)`` where ``story_id`` was posted on ``platform``."""
        query = select(StoryMessage.channel, StoryMessage.message_id).where(
            StoryMessage.story_id == story_id, StoryMessage.platform == platform
        )
        if channel is not None:
            query = query.where(StoryMessage.channel == channel)
        with self._engine.connect() as conn:
            places = conn.execute(query.order_by(StoryMessage.id)).all()
            result = []
            for chan, message_id in places:
                count = len(
                    conn.execute(
                        select(StoryMessage.story_id).where(
                            StoryMessage.platform == platform,
                            StoryMessage.channel == chan,
                            StoryMessage.message_id == message_id,
                        )
                    ).all()
                )
                result.append((chan, message_id, count))
        return result

    def story_for_message(self, *, platform: str, channel: str, message_id: str) -> list[tuple[int, str | None]]:
        """The stories a platform message carries (one for a story card, several for a digest)."""
        with self._engine.connect() as conn:
            rows = conn.execute(
                select(StoryMessage.story_id, StoryMessage.department_id).where(
                    StoryMessage.platform == platform,
                    StoryMessage.channel == channel,
                    StoryMessage.message_id == message_id,
                )
            ).all()
        return [(sid, self._departments.name_of(did) if did else None) for sid, did in rows]

    def counts(self) -> dict[str, int]:
        """Deliveries by state (metrics, tests)."""
        from sqlalchemy import func

        with self._engine.connect() as conn:
            rows = conn.execute(select(Delivery.state, func.count()).group_by(Delivery.state)).all()
        return {state: int(n) for state, n in rows}
