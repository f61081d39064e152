"""The language-model summary cache in the database, shared by every replica and kept across restarts."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime

from sqlalchemy import Engine, select

from storage.models import SummaryCache
from storage.upsert import insert_ignore
from stories.summarize.cache import CacheKey

_CHUNK = 500  # stays under SQLite's bound-parameter limit


class SqlSummaryCache:
    """Implements :class:`stories.summarize.cache.SummaryCache`; writing a key twice keeps the first answer."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._dialect = engine.dialect.name

    def get_many(self, keys: Iterable[CacheKey]) -> dict[CacheKey, tuple[str, str]]:
        by_model: dict[str, list[str]] = defaultdict(list)
        for key in set(keys):
            by_model[key.model].append(key.content_hash)
        found: dict[CacheKey, tuple[str, str]] = {}
        with self._engine.connect() as conn:
            for model, hashes in by_model.items():
                for start in range(0, len(hashes), _CHUNK):
                    rows = conn.execute(
                        select(SummaryCache.content_hash, SummaryCache.title, SummaryCache.story).where(
                            SummaryCache.model == model,
                            SummaryCache.content_hash.in_(hashes[start : start + _CHUNK]),
                        )
                    )
                    for content_hash, title, story in rows:
                        found[CacheKey(model=model, content_hash=content_hash)] = (title, story)
        return found

    def put_many(self, entries: Mapping[CacheKey, tuple[str, str]]) -> None:
        if not entries:
            return
        now = datetime.now(UTC)
        rows = [
            {"content_hash": key.content_hash, "model": key.model, "title": title, "story": story, "created_at": now}
            for key, (title, story) in entries.items()
        ]
        with self._engine.begin() as conn:
            for start in range(0, len(rows), _CHUNK // 5):  # five columns a row
                conn.execute(insert_ignore(SummaryCache, self._dialect), rows[start : start + _CHUNK // 5])
