"""The pipeline's store: comments, their stories and routes, written together and idempotently."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime

from sqlalchemy import Engine, select

from storage.departments import DepartmentIds
from storage.models import Comment, CommentIdentifier, CommentOrigin, Route, Story
from storage.upsert import insert_ignore, one_of
from stories.models import Origin
from stories.ports import NewComment, NewStory

_CHUNK = 500


class SqlCommentStore:
    """Implements :class:`stories.ports.CommentStore` on SQLAlchemy Core for bulk speed."""

    def __init__(self, engine: Engine, departments: DepartmentIds) -> None:
        self._engine = engine
        self._departments = departments
        self._dialect = engine.dialect.name

    def existing_keys(self, keys: Sequence[str]) -> set[str]:
        found: set[str] = set()
        with self._engine.connect() as conn:
            for start in range(0, len(keys), _CHUNK):
                chunk = keys[start : start + _CHUNK]
                found.update(
                    conn.scalars(
                        select(Comment.dedupe_key).where(one_of(Comment.dedupe_key, list(chunk), self._dialect))
                    )
                )
        return found

    def add_origins(self, origins: Mapping[str, Origin]) -> int:
        if not origins:
            return 0
        now = datetime.now(UTC)
        with self._engine.begin() as conn:
            ids = dict(
                conn.execute(
                    select(Comment.dedupe_key, Comment.id).where(
                        one_of(Comment.dedupe_key, list(origins), self._dialect)
                    )
                ).all()
            )
            rows = [origin_row(o, comment_id=ids[k], now=now) for k, o in origins.items() if k in ids]
            if not rows:
                return 0
            result = conn.execute(insert_ignore(CommentOrigin, self._dialect), rows)
            return max(result.rowcount or 0, 0)

    def save(self, comments: Sequence[NewComment], stories: Sequence[NewStory]) -> dict[str, int]:
        """Insert without RETURNING (a plain executemany, the fastest path on both engines), then read the ids.

        Under a concurrent ingest of the same comments both callers may report a story as theirs; everything
        downstream is keyed (outbox keys), so that is harmless, and the rows themselves exist once.
        """
        if not comments:
            return {}
        now = datetime.now(UTC)
        by_key = {s.dedupe_key: s for s in stories}
        keys = [c.dedupe_key for c in comments]
        with self._engine.begin() as conn:
            conn.execute(insert_ignore(Comment, self._dialect), [_comment_row(c) for c in comments])
            comment_ids = dict(
                conn.execute(
                    select(Comment.dedupe_key, Comment.id).where(one_of(Comment.dedupe_key, keys, self._dialect))
                ).all()
            )
            identifier_rows = [
                {"comment_id": comment_ids[c.dedupe_key], "digest": digest}
                for c in comments
                if c.dedupe_key in comment_ids
                for digest in c.identifiers
            ]
            if identifier_rows:
                conn.execute(insert_ignore(CommentIdentifier, self._dialect), identifier_rows)
            origin_rows = [
                origin_row(c.origin, comment_id=comment_ids[c.dedupe_key], now=now)
                for c in comments
                if c.origin is not None and c.dedupe_key in comment_ids
            ]
            if origin_rows:
                conn.execute(insert_ignore(CommentOrigin, self._dialect), origin_rows)
            story_rows = [
                _story_row(by_key[key], comment_id=cid, now=now) for key, cid in comment_ids.items() if key in by_key
            ]
            if not story_rows:
                return {}
            conn.execute(insert_ignore(Story, self._dialect), story_rows)
            story_by_comment = dict(
                conn.execute(
                    select(Story.comment_id, Story.id).where(
                        one_of(Story.comment_id, list(comment_ids.values()), self._dialect)
                    )
                ).all()
            )
            route_rows = []
            result: dict[str, int] = {}
            for key, cid in comment_ids.items():
                story_id = story_by_comment.get(cid)
                if story_id is None or key not in by_key:
                    continue
                result[key] = story_id
                for route in by_key[key].routes:
                    route_rows.append(
                        {
                            "story_id": story_id,
                            "department_id": self._departments.id_of(route.department),
                            "rule": route.rule[:100],
                            "reason": route.reason[:300],
                            "created_at": now,
                        }
                    )
            if route_rows:
                conn.execute(insert_ignore(Route, self._dialect), route_rows)
        return result


def origin_row(origin: Origin, *, comment_id: int, now: datetime) -> dict[str, object]:
    return {
        "comment_id": comment_id,
        "platform": origin.platform,
        "via": origin.via,
        "workspace": origin.workspace or "",
        "channel": origin.channel,
        "thread": origin.thread or "",
        "sender": origin.sender,
        "created_at": now,
    }


def _comment_row(c: NewComment) -> dict[str, object]:
    return {
        "dedupe_key": c.dedupe_key,
        "source": c.source,
        "external_id": c.external_id,
        "received_at": c.received_at,
        "original_at": c.original_at,
        "segment": c.segment,
        "origin_channel": c.origin_channel,
        "redacted_text": c.redacted_text,
        "raw_text": c.raw_text,
        "nps": c.nps,
        "csat": c.csat,
        "language": c.language,
        "origin_link": c.origin_link,
    }


def _story_row(s: NewStory, *, comment_id: int, now: datetime) -> dict[str, object]:
    return {
        "comment_id": comment_id,
        "title": s.title,
        "text": s.text,
        "sentiment": s.sentiment,
        "sentiment_score": s.sentiment_score,
        "themes": list(s.themes),
        "summarizer": s.summarizer,
        "created_at": now,
        "backfill": s.backfill,
    }
