"""Erasure in the database: find comments by keyed hash, then delete them and everything hanging off them.

Implements :class:`stories.erasure.ErasureStore`. One transaction deletes the comments (the schema's
``ON DELETE CASCADE`` takes their identifiers, origins (who sent them, from where), stories, routes, corrections, reactions, story messages and the
deliveries that name a story), deletes the stories' commitments (their texts are about the customer), unlinks
kudos (they are about an employee and stay), takes the stories out of digest and report payloads still in the
outbox, deletes cached model summaries of the comments, and queues the chat removals. A second run finds
nothing, so running it twice is harmless.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, delete, func, select, update

from storage.departments import DepartmentIds
from storage.models import (
    Comment,
    CommentIdentifier,
    Commitment,
    Correction,
    Delivery,
    Kudos,
    Reaction,
    Route,
    Story,
    StoryMessage,
    SummaryCache,
)
from storage.outbox import SqlOutbox
from stories.erasure import ERASED_NOTE, ErasureTarget, PostedRecord
from stories.models import SummaryInput
from stories.outbox import Outgoing

_CHUNK = 500  # ids per IN (...): under SQLite's bound-parameter limit
# Messages tied to a story that are taken back: its card, replies in its thread, plain posts about it. Kudos posts
# (keys "kudos:...") praise an employee in the CX team's words and stay; direct messages cannot be found again
# (the delivery records the user, not the chat), see README.
_REMOVED_KINDS = ("story", "reply", "text")


def _chunks(ids: Sequence[Any]) -> list[list[Any]]:
    items = list(ids)
    return [items[i : i + _CHUNK] for i in range(0, len(items), _CHUNK)]


class SqlErasure:
    def __init__(self, engine: Engine, *, outbox: SqlOutbox, departments: DepartmentIds) -> None:
        self._engine = engine
        self._outbox = outbox
        self._departments = departments

    # --- finding -------------------------------------------------------------------------------------------------

    def comments_with_identifiers(self, digests: Sequence[str]) -> list[int]:
        found: set[int] = set()
        with self._engine.connect() as conn:
            for part in _chunks(digests):
                found.update(
                    conn.scalars(select(CommentIdentifier.comment_id).where(CommentIdentifier.digest.in_(part)))
                )
        return sorted(found)

    def comments_of_stories(self, story_ids: Sequence[int]) -> list[int]:
        with self._engine.connect() as conn:
            return sorted(conn.scalars(select(Story.comment_id).where(Story.id.in_(list(story_ids)))))

    def existing_comments(self, comment_ids: Sequence[int]) -> list[int]:
        with self._engine.connect() as conn:
            return sorted(conn.scalars(select(Comment.id).where(Comment.id.in_(list(comment_ids)))))

    def cached_models(self) -> list[str]:
        with self._engine.connect() as conn:
            return sorted(conn.scalars(select(SummaryCache.model).distinct()))

    def target(self, comment_ids: Sequence[int]) -> ErasureTarget:
        with self._engine.connect() as conn:
            rows: list[Any] = []
            for part in _chunks(comment_ids):
                rows.extend(
                    conn.execute(
                        select(
                            Comment.id,
                            Comment.redacted_text,
                            Comment.source,
                            Comment.nps,
                            Comment.csat,
                            Comment.segment,
                            Comment.language,
                            Comment.origin_link,
                            Story.id.label("story_id"),
                            Story.sentiment,
                        )
                        .outerjoin(Story, Story.comment_id == Comment.id)
                        .where(Comment.id.in_(part))
                    ).all()
                )
            story_ids = sorted({r.story_id for r in rows if r.story_id is not None})
            return ErasureTarget(
                comment_ids=tuple(sorted({r.id for r in rows})),
                story_ids=tuple(story_ids),
                posted=tuple(self._posted(conn, story_ids)),
                summary_inputs=tuple(
                    SummaryInput(
                        text=r.redacted_text,
                        source=r.source,
                        nps=r.nps,
                        csat=r.csat,
                        segment=r.segment,
                        sentiment=r.sentiment,
                        language=r.language,
                    )
                    for r in rows
                    if r.sentiment is not None
                ),
                origin_links=sum(1 for r in rows if r.origin_link is not None and r.origin_link != ""),
            )

    def _posted(self, conn: Connection, story_ids: Sequence[int]) -> list[PostedRecord]:
        """Every sent message showing these stories (cards, digests), and the replies and posts about them."""
        places: set[tuple[str, str, str]] = set()
        for part in _chunks(story_ids):
            places.update(
                (p, c, m)
                for p, c, m in conn.execute(
                    select(StoryMessage.platform, StoryMessage.channel, StoryMessage.message_id).where(
                        StoryMessage.story_id.in_(part)
                    )
                )
            )
        records = []
        for platform, channel, message_id in sorted(places):
            carried = frozenset(
                conn.scalars(
                    select(StoryMessage.story_id).where(
                        StoryMessage.platform == platform,
                        StoryMessage.channel == channel,
                        StoryMessage.message_id == message_id,
                    )
                )
            )
            sent = conn.execute(
                select(Delivery.kind, Delivery.key, Delivery.department_id)
                .where(
                    Delivery.platform == platform,
                    Delivery.channel == channel,
                    Delivery.message_id == message_id,
                    Delivery.state == "sent",
                )
                .order_by(Delivery.id)
                .limit(1)
            ).first()
            kind = sent.kind if sent is not None else ("digest" if len(carried) > 1 else "story")
            department = None
            if sent is not None and sent.department_id is not None:
                department = self._departments.name_of(sent.department_id)
            records.append(
                PostedRecord(
                    platform=platform,
                    channel=channel,
                    message_id=message_id,
                    kind=kind,
                    carried=carried,
                    delivery_key=sent.key if sent is not None else None,
                    department=department,
                )
            )
        for part in _chunks(story_ids):
            about = conn.execute(
                select(Delivery.platform, Delivery.channel, Delivery.message_id, Delivery.kind).where(
                    Delivery.story_id.in_(part),
                    Delivery.state == "sent",
                    Delivery.kind.in_(_REMOVED_KINDS),
                    Delivery.message_id.is_not(None),
                    Delivery.message_id != "",
                    Delivery.key.not_like("kudos:%"),
                )
            ).all()
            records.extend(PostedRecord(p, c, str(m), k) for p, c, m, k in about if (p, c, m) not in places)
        return records

    # --- deleting ------------------------------------------------------------------------------------------------

    def erase(self, target: ErasureTarget, *, chat: Sequence[Outgoing], cache_hashes: Sequence[str]) -> dict[str, int]:
        stories = list(target.story_ids)
        comments = list(target.comment_ids)
        counts: dict[str, int] = {}
        with self._engine.begin() as conn:
            first = conn.scalar(select(func.min(Story.created_at)).where(Story.id.in_(stories))) if stories else None
            for table, column, ids in (
                ("comment_identifiers", CommentIdentifier.comment_id, comments),
                ("stories", Story.id, stories),
                ("routes", Route.story_id, stories),
                ("corrections", Correction.story_id, stories),
                ("reactions", Reaction.story_id, stories),
                ("story_messages", StoryMessage.story_id, stories),
                ("deliveries", Delivery.story_id, stories),
            ):
                counts[table] = sum(
                    int(conn.scalar(select(func.count()).where(column.in_(part))) or 0) for part in _chunks(ids)
                )
            counts["deliveries (payloads scrubbed)"] = self._scrub_payloads(conn, set(stories), since=first)
            counts["commitments"] = 0
            counts["kudos (unlinked, kept)"] = 0
            for part in _chunks(stories):
                counts["commitments"] += conn.execute(delete(Commitment).where(Commitment.story_id.in_(part))).rowcount
                counts["kudos (unlinked, kept)"] += conn.execute(
                    update(Kudos).where(Kudos.story_id.in_(part)).values(story_id=None)
                ).rowcount
            counts["summary_cache"] = sum(
                conn.execute(delete(SummaryCache).where(SummaryCache.content_hash.in_(part))).rowcount
                for part in _chunks(cache_hashes)
            )
            counts["comments"] = sum(
                conn.execute(delete(Comment).where(Comment.id.in_(part))).rowcount for part in _chunks(comments)
            )
            self._outbox.enqueue_in(conn, chat)
        return counts

    @staticmethod
    def _scrub_payloads(conn: Connection, stories: set[int], *, since: datetime | None) -> int:
        """Take erased stories out of digest payloads (story ids; a digest not yet sent then simply leaves them
        out), out of weekly report payloads (quotes, the most-reacted title) and out of surge alerts (their ids and
        quotes). Only deliveries made after the first erased story can name it."""
        if not stories or since is None:
            return 0
        changed = 0
        rows = conn.execute(
            select(Delivery.id, Delivery.kind, Delivery.payload).where(
                Delivery.kind.in_(("digest", "report", "surge")), Delivery.created_at >= since
            )
        ).all()
        for row in rows:
            payload = dict(row.payload or {})
            if row.kind == "digest":
                ids = [int(i) for i in payload.get("story_ids", [])]
                kept = [i for i in ids if i not in stories]
                if len(kept) == len(ids):
                    continue
                gone = len(ids) - len(kept)
                payload["story_ids"] = kept
                payload["erased"] = int(payload.get("erased", 0)) + gone
                if "total" in payload:
                    payload["total"] = max(int(payload["total"]) - gone, len(kept))
            elif row.kind == "surge":  # stories.surge: its quotes are story text
                ids = [int(i) for i in payload.get("story_ids", [])]
                pairs = list(zip(payload.get("quoted", []), payload.get("quotes", []), strict=False))
                if not stories & {*ids, *(int(i) for i, _ in pairs)}:
                    continue
                payload["story_ids"] = [i for i in ids if i not in stories]
                left = [(int(i), str(q)) for i, q in pairs if int(i) not in stories]
                payload["quoted"], payload["quotes"] = [i for i, _ in left], [q for _, q in left]
            else:
                patterns = [dict(p) for p in payload.get("patterns", [])]
                touched = False
                for pattern in patterns:
                    if pattern.get("story_id") in stories:
                        pattern["quote"], pattern["story_id"] = f"({ERASED_NOTE})", 0
                        if pattern.get("kind") == "similar":  # labelled with the comments' own words
                            pattern["label"] = "similar comments"
                        touched = True
                top = payload.get("top_story")
                if top and top.get("story_id") in stories:
                    payload["top_story"] = None
                    touched = True
                if not touched:
                    continue
                payload["patterns"] = patterns
            conn.execute(update(Delivery).where(Delivery.id == row.id).values(payload=payload))
            changed += 1
        return changed
