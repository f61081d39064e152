"""The outbox table: enqueue idempotently, claim with a lease, record what was sent, exactly once.

A claim is one statement. On PostgreSQL the rows are picked with ``SELECT ... FOR UPDATE SKIP LOCKED`` inside the
``UPDATE``, so two replicas never claim the same row; on SQLite the database has one writer, so the same UPDATE is
atomic. Each claim increments ``attempts``, which is the claim's token: a claimer whose lease expired and whose row
was claimed again can no longer renew, fail or release it (:meth:`SqlOutbox.hold` says so before it posts).

What is left to the platform is the moment between its answer and :meth:`SqlOutbox.mark_sent`: a claimer killed
there leaves a posted but unrecorded delivery. Its lease expires, the next claim has ``attempts > 1``, and the
dispatcher asks the platform whether a message with the delivery key exists before posting again (see
``stories.ports.FindsDelivered``).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Connection, Engine, and_, func, or_, select, true, tuple_, update

from storage.departments import DepartmentIds
from storage.models import Delivery, StoryMessage
from storage.upsert import insert_ignore
from stories.outbox import Outgoing, one_per_place

MAX_ATTEMPTS = 8


@dataclass(frozen=True, slots=True)
class Claimed:
    """A delivery claimed by one dispatcher; ``attempts`` (this claim's number) is its claim token."""

    id: int
    key: str
    kind: str
    platform: str
    channel: str
    story_id: int | None
    department: str | None
    payload: dict[str, Any]
    attempts: int
    created_at: datetime
    urgent: bool = False

    @property
    def lane(self) -> tuple[str, str]:
        """Where it goes: deliveries to one lane are paced together."""
        return (self.platform, self.channel)


_COLUMNS = (
    Delivery.id,
    Delivery.key,
    Delivery.kind,
    Delivery.platform,
    Delivery.channel,
    Delivery.story_id,
    Delivery.department_id,
    Delivery.payload,
    Delivery.attempts,
    Delivery.created_at,
    Delivery.priority,
)


class SqlOutbox:
    """Implements :class:`stories.outbox.OutboxWriter` and the dispatcher's side of the outbox."""

    def __init__(self, engine: Engine, departments: DepartmentIds) -> None:
        self.engine = engine
        self._departments = departments
        self._dialect = engine.dialect.name

    # --- writing what we intend to post -----------------------------------------------------------------------

    def enqueue(self, items: Sequence[Outgoing], *, now: datetime | None = None) -> int:
        if not items:
            return 0
        with self.engine.begin() as conn:
            return self.enqueue_in(conn, items, now=now)

    def enqueue_in(self, conn: Connection, items: Sequence[Outgoing], *, now: datetime | None = None) -> int:
        """:meth:`enqueue` inside the caller's transaction (erasure queues its chat removals with its deletes)."""
        if not items:
            return 0
        now = now or datetime.now(UTC)
        items = one_per_place(items)  # a department's channel in each Slack workspace: one delivery each
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
                "priority": 0 if item.urgent else 1,
                "attempts": 0,
                "not_before": item.not_before or now,
                "created_at": now,
            }
            for item in items
        ]
        inserted = conn.execute(insert_ignore(Delivery, self._dialect).returning(Delivery.id), rows).all()
        return len(inserted)

    # --- the dispatcher's side --------------------------------------------------------------------------------

    def claim(
        self,
        *,
        instance: str,
        now: datetime,
        lease: timedelta,
        limit: int = 50,
        per_lane: int | None = None,
        exclude: Collection[tuple[str, str]] = (),
        keys: Collection[str] | None = None,
    ) -> list[Claimed]:
        """Claim up to ``limit`` due deliveries for ``instance`` until ``now + lease``.

        ``per_lane`` caps how many are taken per (platform, channel), oldest first, so a backlog in one channel
        does not starve the others; ``exclude`` skips lanes the caller still has work queued for. A lane another
        instance is working on (it holds a live claim there) is left to it, so replicas together keep to the
        platform's per-channel pace. ``keys`` limits the claim to those deliveries (``cxbot forget`` sends its own
        removals at once and leaves the rest to the serving dispatchers).

        Candidates are chosen by plain reads; the claim itself is one UPDATE of those ids that re-checks they are
        still due (on PostgreSQL through ``FOR UPDATE SKIP LOCKED``), so a row another instance claimed meanwhile
        is simply not taken. Each statement is simple enough that the planner cannot turn it into a nested loop
        over the outbox, statistics or not.
        """
        due = _due(now)
        with self.engine.connect() as conn:
            busy = conn.execute(
                select(Delivery.platform, Delivery.channel)
                .where(Delivery.state == "claimed", Delivery.lease_until >= now, Delivery.claimed_by != instance)
                .distinct()
            ).all()
            skip = {*exclude, *((p, c) for p, c in busy)}
            lanes_ok: ColumnElement[bool] = (
                tuple_(Delivery.platform, Delivery.channel).not_in(sorted(skip)) if skip else true()
            )
            if keys is not None:
                lanes_ok = and_(lanes_ok, Delivery.key.in_(sorted(keys)))
            if per_lane is None:
                candidates = (
                    select(Delivery.id)
                    .where(due, lanes_ok)
                    .order_by(Delivery.priority, Delivery.not_before, Delivery.id)
                )
            else:
                rank = (
                    func.row_number()
                    .over(
                        partition_by=(Delivery.platform, Delivery.channel),
                        order_by=(Delivery.priority, Delivery.not_before, Delivery.id),
                    )
                    .label("rank")
                )
                ranked = (
                    select(Delivery.id, Delivery.priority, Delivery.not_before, rank).where(due, lanes_ok).subquery()
                )
                candidates = (
                    select(ranked.c.id)
                    .where(ranked.c.rank <= per_lane)
                    .order_by(ranked.c.priority, ranked.c.not_before, ranked.c.id)
                )
            ids = list(conn.scalars(candidates.limit(limit)))
        if not ids:
            return []
        picked = select(Delivery.id).where(Delivery.id.in_(ids), due)
        if self._dialect == "postgresql":
            picked = picked.with_for_update(skip_locked=True)
        statement = (
            update(Delivery)
            .where(Delivery.id.in_(picked.scalar_subquery()), due)
            .values(state="claimed", claimed_by=instance, lease_until=now + lease, attempts=Delivery.attempts + 1)
            .returning(*_COLUMNS)
        )
        with self.engine.begin() as conn:
            rows = conn.execute(statement).all()
        return sorted((self._claimed(r) for r in rows), key=lambda c: (not c.urgent, c.id))

    def hold(self, claimed: Claimed, *, instance: str, now: datetime, lease: timedelta) -> bool:
        """Renew the lease right before posting; False if the claim is no longer ours (do not post)."""
        with self.engine.begin() as conn:
            held = conn.execute(
                update(Delivery).where(_ours(claimed, instance)).values(lease_until=now + lease)
            ).rowcount
        return bool(held)

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
        """Record the platform message id (and which stories it carries).

        A message that was posted is recorded even if our lease ran out meanwhile (a later claimer then finds the
        row sent and does not post). False if the delivery was already recorded as sent: ours was a second post.
        """
        with self.engine.begin() as conn:
            done = conn.execute(
                update(Delivery)
                .where(Delivery.id == claimed.id, Delivery.state != "sent")
                .values(
                    state="sent",
                    claimed_by=instance,
                    message_id=message_id,
                    thread_id=thread_id,
                    sent_at=now,
                    lease_until=None,
                    last_error=None,
                )
            ).rowcount
            if stories and message_id:
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
    ) -> bool:
        """Back to pending until ``retry_at``; ``None`` (or too many attempts) gives up for good.

        The attempt counts: it may have reached the platform, so the next claim looks before posting again.
        False if the claim was no longer ours.
        """
        give_up = retry_at is None or claimed.attempts >= MAX_ATTEMPTS
        with self.engine.begin() as conn:
            done = conn.execute(
                update(Delivery)
                .where(_ours(claimed, instance))
                .values(
                    state="failed" if give_up else "pending",
                    not_before=retry_at or now,
                    lease_until=None,
                    last_error=error[:500],
                )
            ).rowcount
        return bool(done)

    def release(self, claimed: Claimed, *, instance: str, not_before: datetime, reason: str = "") -> bool:
        """Give a claim back without counting it: nothing was posted (rate limited, shutting down)."""
        with self.engine.begin() as conn:
            done = conn.execute(
                update(Delivery)
                .where(_ours(claimed, instance))
                .values(
                    state="pending",
                    not_before=not_before,
                    lease_until=None,
                    attempts=Delivery.attempts - 1,
                    last_error=reason[:500] or None,
                )
            ).rowcount
        return bool(done)

    # --- reading ------------------------------------------------------------------------------------------------

    def last_digest_until(self, *, department: str, platform: str) -> datetime | None:
        """The end of the period of the newest digest planned for ``department`` on ``platform``, if any."""
        with self.engine.connect() as conn:
            payloads = conn.scalars(
                select(Delivery.payload)
                .where(
                    Delivery.kind == "digest",
                    Delivery.platform == platform,
                    Delivery.department_id == self._departments.id_of(department),
                )
                .order_by(Delivery.id.desc())
                .limit(20)
            ).all()
        ends = [datetime.fromisoformat(p["until"]) for p in payloads if p and p.get("until")]
        return max(ends) if ends else None

    def story_messages(self, *, story_id: int, platform: str, channel: str | None = None) -> list[tuple[str, str, int]]:
        """``(channel, message_id, stories_in_that_message)`` where ``story_id`` was posted on ``platform``."""
        mine = select(StoryMessage.id, StoryMessage.channel, StoryMessage.message_id).where(
            StoryMessage.story_id == story_id, StoryMessage.platform == platform
        )
        if channel is not None:
            mine = mine.where(StoryMessage.channel == channel)
        places = mine.subquery()
        carried = (  # one query: each place with how many stories its message carries
            select(places.c.channel, places.c.message_id, func.count(StoryMessage.id))
            .join(
                StoryMessage,
                (StoryMessage.platform == platform)
                & (StoryMessage.channel == places.c.channel)
                & (StoryMessage.message_id == places.c.message_id),
            )
            .group_by(places.c.id, places.c.channel, places.c.message_id)
            .order_by(places.c.id)
        )
        with self.engine.connect() as conn:
            return [(chan, message_id, int(count)) for chan, message_id, count in conn.execute(carried)]

    def story_for_message(self, *, platform: str, channel: str, message_id: str) -> list[tuple[int, str | None]]:
        """The stories a platform message carries (one for a story card, several for a digest)."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(StoryMessage.story_id, StoryMessage.department_id).where(
                    StoryMessage.platform == platform,
                    StoryMessage.channel == channel,
                    StoryMessage.message_id == message_id,
                )
            ).all()
        return [(sid, self._departments.name_of(did) if did else None) for sid, did in rows]

    def commitment_for_message(self, *, platform: str, channel: str, message_id: str) -> int | None:
        """The commitment whose thread reply (delivery ``commitment:<id>:reply:...``) is this message, if any.

        Found by the message id the dispatcher recorded. The channel must match, except for a lone Slack match
        (a reply posted to a department channel the configuration names by ``#name``): Slack timestamps do not
        repeat across a workspace's channels in practice, Teams message ids (milliseconds) may."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(Delivery.key, Delivery.channel).where(
                    Delivery.platform == platform,
                    Delivery.message_id == message_id,
                    Delivery.kind == "reply",
                    Delivery.key.like("commitment:%:reply:%"),
                )
            ).all()
        matching = [key for key, where in rows if where == channel or where.endswith(f"/{channel}")]
        if not matching and platform == "slack" and len(rows) == 1:
            matching = [rows[0][0]]
        if not matching:
            return None
        number = matching[0].split(":")[1]
        return int(number) if number.isdigit() else None

    def payload_of(self, key: str) -> dict[str, Any] | None:
        """The current payload of delivery ``key`` (erasure redraws a digest from it), or None."""
        with self.engine.connect() as conn:
            payload = conn.scalar(select(Delivery.payload).where(Delivery.key == key))
        return None if payload is None else dict(payload)

    def outcomes(self, keys: Sequence[str]) -> dict[str, tuple[str, str | None, str | None]]:
        """``key -> (state, message id, last error)`` of these deliveries (those that exist)."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(Delivery.key, Delivery.state, Delivery.message_id, Delivery.last_error).where(
                    Delivery.key.in_(list(keys))
                )
            ).all()
        return {key: (state, message_id, error) for key, state, message_id, error in rows}

    def states(self, keys: Sequence[str]) -> dict[str, str]:
        """``key -> state`` of these deliveries (those that exist)."""
        with self.engine.connect() as conn:
            rows = conn.execute(select(Delivery.key, Delivery.state).where(Delivery.key.in_(list(keys)))).all()
        return {key: state for key, state in rows}

    def counts(self) -> dict[str, int]:
        """Deliveries by state (metrics, tests)."""
        with self.engine.connect() as conn:
            rows = conn.execute(select(Delivery.state, func.count()).group_by(Delivery.state)).all()
        return {state: int(n) for state, n in rows}

    def _claimed(self, row: Any) -> Claimed:
        return Claimed(
            id=row.id,
            key=row.key,
            kind=row.kind,
            platform=row.platform,
            channel=row.channel,
            story_id=row.story_id,
            department=self._departments.name_of(row.department_id) if row.department_id else None,
            payload=dict(row.payload or {}),
            attempts=row.attempts,
            created_at=row.created_at,
            urgent=row.priority == 0,
        )


def _due(now: datetime) -> ColumnElement[bool]:
    """Pending and due, or claimed by someone whose lease ran out."""
    return or_(
        and_(Delivery.state == "pending", Delivery.not_before <= now),
        and_(Delivery.state == "claimed", Delivery.lease_until < now),
    )


def _ours(claimed: Claimed, instance: str) -> ColumnElement[bool]:
    """Still the claim we made: nobody claimed the row again since (the claim number is unchanged)."""
    return and_(
        Delivery.id == claimed.id,
        Delivery.state == "claimed",
        Delivery.claimed_by == instance,
        Delivery.attempts == claimed.attempts,
    )
