"""Summaries by content hash, so the same redacted text with the same context is paid for once.

The key covers everything that changes the answer: the model, the prompt version, the redacted text and its
context (scores, segment, sentiment, language). Routing's matched words are left out: erasure must be able to
rebuild the key from what the comments table holds, and they only steer which words the story shows. Change the prompt and bump ``PROMPT_VERSION`` (in :mod:`stories.summarize.llm`): old entries are
then simply never asked for again.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Protocol

from stories.models import SummaryInput


@dataclass(frozen=True, slots=True)
class CacheKey:
    model: str
    content_hash: str  # sha256 hex of model, prompt version, text and context


def cache_key(*, model: str, prompt_version: str, item: SummaryInput) -> CacheKey:
    material = json.dumps(
        [
            model,
            prompt_version,
            item.text,
            item.source,
            item.nps,
            item.csat,
            item.segment,
            item.sentiment,
            item.language,
        ],
        ensure_ascii=False,
    )
    return CacheKey(model=model, content_hash=hashlib.sha256(material.encode("utf-8")).hexdigest())


class SummaryCache(Protocol):
    """Where model answers are kept. Writing a key twice keeps the first answer."""

    def get_many(self, keys: Iterable[CacheKey]) -> dict[CacheKey, tuple[str, str]]:
        """``{key: (title, story)}`` for the keys found; missing keys are simply absent."""
        ...

    def put_many(self, entries: Mapping[CacheKey, tuple[str, str]]) -> None: ...


class InMemorySummaryCache:
    """A process-local cache (tests, the CLI's one-off runs)."""

    def __init__(self) -> None:
        self._entries: dict[CacheKey, tuple[str, str]] = {}

    def get_many(self, keys: Iterable[CacheKey]) -> dict[CacheKey, tuple[str, str]]:
        return {key: self._entries[key] for key in keys if key in self._entries}

    def put_many(self, entries: Mapping[CacheKey, tuple[str, str]]) -> None:
        for key, value in entries.items():
            self._entries.setdefault(key, value)

    def __len__(self) -> int:
        return len(self._entries)
