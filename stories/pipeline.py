"""The one way in: every source (CSV, webhook, Slack, Teams, Python) hands comments to :meth:`Pipeline.ingest`.

Per comment: validate -> redact -> de-duplicate -> sentiment, language -> route -> summarise -> store. Idempotent: a
comment's ``dedupe_key`` is its source + external id, or lacking one its source + text + original time, and
the store skips keys it already has, so a retry or a re-import never makes a second comment or story.
"""

from __future__ import annotations

import hashlib
import logging
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from itertools import islice
from typing import Protocol

from stories.identifiers import ID_KIND, IdentifierHasher
from stories.models import IncomingComment, InvalidComment, Redacted, RouteMatch, SummaryInput
from stories.ports import (
    CommentStore,
    LanguageDetector,
    NewComment,
    NewStory,
    Redactor,
    SentimentAnalyzer,
    Summarizer,
)

log = logging.getLogger(__name__)

MAX_TEXT = 100_000  # characters; longer comments are refused with a clear message, not truncated silently
# The longest metadata the comment store keeps (storage.models.Comment); a longer value is refused naming its
# field, rather than failing the whole batch's insert on PostgreSQL.
MAX_SEGMENT = 100
MAX_CHANNEL = 200
MAX_LANGUAGE = 20


class Routing(Protocol):
    routes: tuple[RouteMatch, ...]
    themes: tuple[str, ...]


class RoutingPolicy(Protocol):
    def route(
        self,
        *,
        text: str,
        nps: int | None,
        csat: int | None,
        sentiment: str | None,
        source: str,
        segment: str | None,
        fields: Mapping[str, str],
        language: str | None = None,
    ) -> Routing: ...


@dataclass(frozen=True, slots=True)
class Rejected:
    index: int  # position in the input, 0-based
    field: str
    message: str


@dataclass(frozen=True, slots=True)
class CreatedStory:
    story_id: int
    external_id: str | None
    departments: tuple[str, ...]
    reasons: tuple[str, ...]


@dataclass
class IngestReport:
    received: int = 0
    created: list[CreatedStory] = field(default_factory=list)
    duplicates: int = 0
    rejected: list[Rejected] = field(default_factory=list)
    per_department: Counter[str] = field(default_factory=Counter)

    def merge(self, other: IngestReport) -> None:
        self.received += other.received
        self.created.extend(other.created)
        self.duplicates += other.duplicates
        self.rejected.extend(other.rejected)
        self.per_department.update(other.per_department)


def dedupe_key(comment: IncomingComment) -> str:
    """Source + external id, or source + hash of text and original time.

    >>> dedupe_key(IncomingComment(text="x", source="csv", external_id="R1"))
    'csv:id:R1'
    """
    if comment.external_id:
        return f"{comment.source}:id:{comment.external_id}"[:200]
    when = comment.original_at.astimezone(UTC).isoformat() if comment.original_at else ""
    digest = hashlib.sha256(f"{comment.text.strip()}\x00{when}".encode()).hexdigest()
    return f"{comment.source}:h:{digest}"


def validate(comment: IncomingComment) -> None:
    """Raise :class:`InvalidComment` naming the field for input no source should pass on."""
    if not isinstance(comment.text, str) or not comment.text.strip():
        raise InvalidComment("text", "is empty; a comment needs some text")
    if len(comment.text) > MAX_TEXT:
        raise InvalidComment("text", f"is {len(comment.text)} characters; the limit is {MAX_TEXT}")
    if not comment.source or len(comment.source) > 40:
        raise InvalidComment("source", "must be 1-40 characters")
    if comment.nps is not None and not 0 <= comment.nps <= 10:
        raise InvalidComment("nps", f"must be 0-10, got {comment.nps}")
    if comment.csat is not None and not 1 <= comment.csat <= 5:
        raise InvalidComment("csat", f"must be 1-5, got {comment.csat}")
    if comment.external_id is not None and len(comment.external_id) > 150:
        raise InvalidComment("id", "is longer than 150 characters")
    if comment.original_at is not None:
        if comment.original_at.tzinfo is None:
            raise InvalidComment("date", "has no timezone")
        try:
            comment.original_at.astimezone(UTC)
        except OverflowError:
            raise InvalidComment("date", "is out of range; use a real date, e.g. 2026-11-27T09:30:00Z") from None
    for name, value, limit in (
        ("segment", comment.segment, MAX_SEGMENT),
        ("channel", comment.origin_channel, MAX_CHANNEL),
        ("language", comment.language, MAX_LANGUAGE),
    ):
        if value is not None and len(value) > limit:
            raise InvalidComment(name, f"is {len(value)} characters; the limit is {limit}")
    for name, value in (
        ("text", comment.text),
        ("source", comment.source),
        ("id", comment.external_id),
        ("segment", comment.segment),
        ("channel", comment.origin_channel),
        ("language", comment.language),
        ("link", comment.link),
    ):
        if value is not None and "\x00" in value:  # PostgreSQL cannot store it in any text column
            raise InvalidComment(name, "contains a NUL character (\\u0000); remove it")
    if comment.link is not None and (not comment.link.startswith(("https://", "http://")) or len(comment.link) > 500):
        raise InvalidComment("link", "must be an http(s) address of at most 500 characters")


@dataclass
class Pipeline:
    redactor: Redactor
    sentiment: SentimentAnalyzer
    summarizer: Summarizer
    router: RoutingPolicy
    store: CommentStore
    keep_raw: bool = False
    hasher: IdentifierHasher | None = None  # keyed hashes of what redaction removed, for erasure (cxbot forget)
    languages: LanguageDetector | None = None  # the language of comments that come without one
    batch_size: int = 2000  # per transaction; larger batches amortise the round trips (bench/pipeline.py)
    clock: Callable[[], datetime] = lambda: datetime.now(UTC)

    def ingest(
        self,
        comments: Iterable[IncomingComment],
        *,
        on_batch: Callable[[IngestReport], None] | None = None,
    ) -> IngestReport:
        """Take in comments in batches; ``on_batch`` sees each batch's report (progress bars)."""
        report = IngestReport()
        offset = 0
        for batch in _batches(comments, self.batch_size):
            part = self._ingest_batch(batch, offset=offset)
            offset += len(batch)
            report.merge(part)
            if on_batch is not None:
                on_batch(part)
        log.info(
            "ingested received=%d created=%d duplicates=%d rejected=%d",
            report.received,
            len(report.created),
            report.duplicates,
            len(report.rejected),
        )
        return report

    def _ingest_batch(self, batch: Sequence[IncomingComment], *, offset: int) -> IngestReport:
        report = IngestReport(received=len(batch))
        now = self.clock()
        fresh: dict[str, IncomingComment] = {}
        for i, comment in enumerate(batch):
            try:
                validate(comment)
            except InvalidComment as exc:
                report.rejected.append(Rejected(offset + i, exc.field, exc.message))
                continue
            key = dedupe_key(comment)
            if key in fresh:
                report.duplicates += 1
                continue
            fresh[key] = comment
        known = self.store.existing_keys(list(fresh))
        report.duplicates += len(known)
        keys = [k for k in fresh if k not in known]
        if not keys:
            return report

        redactions = {k: self.redactor.redact(fresh[k].text) for k in keys}
        redacted = {k: r.text for k, r in redactions.items()}
        sentiments = {k: self.sentiment.analyze(redacted[k]) for k in keys}
        languages = {k: fresh[k].language or self._detect_language(redacted[k]) for k in keys}
        # routing first, so the story can show the words that sent it where it goes
        routings = {
            k: self.router.route(
                text=redacted[k],
                nps=fresh[k].nps,
                csat=fresh[k].csat,
                sentiment=sentiments[k].label,
                source=fresh[k].source,
                segment=fresh[k].segment,
                fields=_routing_fields(fresh[k]),
                language=languages[k],
            )
            for k in keys
        }
        summaries = self.summarizer.summarize(
            [
                SummaryInput(
                    text=redacted[k],
                    source=fresh[k].source,
                    nps=fresh[k].nps,
                    csat=fresh[k].csat,
                    segment=fresh[k].segment,
                    sentiment=sentiments[k].label,
                    language=languages[k],
                    reasons=tuple(r.reason for r in routings[k].routes),
                )
                for k in keys
            ]
        )
        if len(summaries) != len(keys):
            raise RuntimeError(f"summariser {self.summarizer.name} returned {len(summaries)} of {len(keys)}")

        new_comments: list[NewComment] = []
        new_stories: list[NewStory] = []
        for key, summary in zip(keys, summaries, strict=True):
            comment = fresh[key]
            routing = routings[key]
            new_comments.append(
                NewComment(
                    dedupe_key=key,
                    source=comment.source,
                    external_id=comment.external_id,
                    received_at=now,
                    original_at=comment.original_at,
                    segment=comment.segment,
                    origin_channel=comment.origin_channel,
                    redacted_text=redacted[key],
                    raw_text=comment.text if self.keep_raw else None,
                    nps=comment.nps,
                    csat=comment.csat,
                    language=languages[key],
                    origin_link=comment.link,
                    identifiers=self._identifiers(comment, redactions[key]),
                )
            )
            new_stories.append(
                NewStory(
                    dedupe_key=key,
                    title=summary.title,
                    text=summary.story,
                    sentiment=sentiments[key].label,
                    sentiment_score=sentiments[key].score,
                    themes=tuple(routing.themes),
                    summarizer=summary.summarizer,
                    routes=tuple(routing.routes),
                )
            )
        created = self.store.save(new_comments, new_stories)
        report.duplicates += len(keys) - len(created)
        for story in new_stories:
            story_id = created.get(story.dedupe_key)
            if story_id is None:
                continue
            departments = tuple(r.department for r in story.routes)
            report.per_department.update(departments)
            report.created.append(
                CreatedStory(
                    story_id=story_id,
                    external_id=fresh[story.dedupe_key].external_id,
                    departments=departments,
                    reasons=tuple(r.reason for r in story.routes),
                )
            )
        return report

    def _detect_language(self, text: str) -> str | None:
        return self.languages.detect(text) if self.languages is not None else None

    def _identifiers(self, comment: IncomingComment, redacted: Redacted) -> tuple[str, ...]:
        if self.hasher is None:
            return ()
        found = list(redacted.found)
        if comment.external_id:
            found.append((ID_KIND, comment.external_id))
        return self.hasher.digests(found)


def _routing_fields(comment: IncomingComment) -> Mapping[str, str]:
    """Source columns plus the origin channel, so a rule can match ``fields: {channel: [...]}``."""
    if comment.origin_channel and "channel" not in comment.fields:
        return {**comment.fields, "channel": comment.origin_channel}
    return comment.fields


def _batches(items: Iterable[IncomingComment], size: int) -> Iterator[list[IncomingComment]]:
    iterator = iter(items)
    while batch := list(islice(iterator, size)):
        yield batch
