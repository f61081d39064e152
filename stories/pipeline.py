"""The pipeline: comments in, stories with their routes stored (the core's :mod:`stories.intake` calls it).

Per comment: validate -> redact every field (:func:`stories.redacted_comment.redact_comment`) -> de-duplicate ->
sentiment, language -> route -> summarise -> store (routing first, so the story
can show the words that sent it where it goes). Nothing after the redaction step sees a value as sent. Idempotent: a
comment's ``dedupe_key`` is its source + stored external id, or lacking one its source + a hash of the text as
sent + its own time, and the store skips keys it already has, so a retry or a re-import never makes a second
comment or story.

A comment whose own date is older than ``backfill_after`` (an old survey export) is a *backfill*: stored and
counted in patterns and stats, but not news: it is not posted at once and not in digests, unless the caller
asks (``post_old``).
"""

from __future__ import annotations

import dataclasses
import logging
import re
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from itertools import islice
from typing import Protocol

from stories.identifiers import IdentifierHasher
from stories.models import IncomingComment, InvalidComment, Origin, RouteMatch, SummaryInput
from stories.ports import (
    CommentStore,
    LanguageDetector,
    NewComment,
    NewStory,
    Redactor,
    SentimentAnalyzer,
    Summarizer,
)
from stories.redacted_comment import (
    MAX_CHANNEL,
    MAX_KEPT,
    MAX_LANGUAGE,
    MAX_SEGMENT,
    MAX_SOURCE,
    RedactedComment,
    redact_comment,
)

log = logging.getLogger(__name__)

# BCP 47 in outline (letters, then letter/digit subtags): a language is a code, never free text, so it cannot carry
# personal data; anything else is refused naming the field.
_LANGUAGE_TAG = re.compile(r"[A-Za-z]{2,8}(?:[-_][A-Za-z0-9]{1,8})*")

BACKFILL_AFTER = timedelta(days=7)  # the default; the configuration's intake.backfill_days sets it
# Used when no keyed hasher is handed in (some tests): hashes then only as good as a plain hash.
_UNKEYED = IdentifierHasher(key=b"cxbot-pipeline-without-a-hash-key")


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
    backfill: bool = False  # older than the backfill window: stored, not posted as news


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


def validate(comment: IncomingComment) -> None:
    """Raise :class:`InvalidComment` naming the field for input no source should pass on."""
    if not isinstance(comment.text, str) or not comment.text.strip():
        raise InvalidComment("text", "is empty; a comment needs some text")
    if not comment.source or len(comment.source) > MAX_SOURCE:
        raise InvalidComment("source", f"must be 1-{MAX_SOURCE} characters")
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
    if comment.language is not None and not _LANGUAGE_TAG.fullmatch(comment.language):
        raise InvalidComment("language", "must be a language tag such as en, pt-BR or zh-Hant")
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
    if comment.origin is not None:
        validate_origin(comment.origin)


ORIGIN_LIMITS = {"platform": 10, "channel": 300, "sender": 100, "thread": 300, "workspace": 100}


def validate_origin(origin: Origin) -> None:
    """Chat identifiers fit their columns and carry no NUL; a connector passing anything else has a bug."""
    for name, limit in ORIGIN_LIMITS.items():
        value = getattr(origin, name)
        if value is not None and (len(value) > limit or "\x00" in value):
            raise InvalidComment(f"origin {name}", f"must be at most {limit} characters, without NUL")
    if not origin.sender or origin.via not in ("channel", "shortcut", "command"):
        raise InvalidComment("origin", "needs the sender's user id and how it came in (channel, shortcut, command)")


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
    backfill_after: timedelta = BACKFILL_AFTER
    link_originals: bool = False  # keep the chat permalink to the unredacted original (intake.link_originals)

    def ingest(
        self,
        comments: Iterable[IncomingComment],
        *,
        on_batch: Callable[[IngestReport], None] | None = None,
        post_old: bool = False,
    ) -> IngestReport:
        """Take in comments in batches; ``on_batch`` sees each batch's report (progress bars); ``post_old``: treat
        comments older than the backfill window as news too."""
        report = IngestReport()
        offset = 0
        for batch in _batches(comments, self.batch_size):
            part = self._ingest_batch(batch, offset=offset, post_old=post_old)
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

    def redact(self, comment: IncomingComment) -> RedactedComment:
        """The one redaction step (stories.redacted_comment), with this pipeline's redactor and hasher. A link to
        the original message (unredacted, where it was written) is kept only when the configuration says so."""
        if comment.link is not None and not self.link_originals:
            comment = dataclasses.replace(comment, link=None)
        return redact_comment(comment, redactor=self.redactor, hasher=self.hasher or _UNKEYED)

    def is_backfill(self, comment: IncomingComment, *, now: datetime) -> bool:
        return comment.original_at is not None and comment.original_at < now - self.backfill_after

    def _ingest_batch(self, batch: Sequence[IncomingComment], *, offset: int, post_old: bool) -> IngestReport:
        report = IngestReport(received=len(batch))
        now = self.clock()
        fresh: dict[str, RedactedComment] = {}
        raw: dict[str, str] = {}
        for i, comment in enumerate(batch):
            try:
                validate(comment)
            except InvalidComment as exc:
                report.rejected.append(Rejected(offset + i, exc.field, exc.message))
                continue
            redacted = self.redact(comment)
            key = redacted.dedupe_key
            if key in fresh:
                report.duplicates += 1
                continue
            fresh[key] = redacted
            raw[key] = comment.text
        known = self.store.existing_keys(list(fresh))
        report.duplicates += len(known)
        origins = {k: o for k in known if (o := fresh[k].comment.origin) is not None}
        if origins:  # a message taken in before, now sent by shortcut too: its sender is told the loop as well
            self.store.add_origins(origins)
        keys = [k for k in fresh if k not in known]
        if not keys:
            return report

        safe = {k: fresh[k].comment for k in keys}  # every field redacted; nothing below sees a value as sent
        sentiments = {k: self.sentiment.analyze(safe[k].text) for k in keys}
        languages = {k: safe[k].language or self._detect_language(safe[k].text) for k in keys}
        # routing first, so the story can show the words that sent it where it goes
        routings = {
            k: self.router.route(
                text=safe[k].text,
                nps=safe[k].nps,
                csat=safe[k].csat,
                sentiment=sentiments[k].label,
                source=safe[k].source,
                segment=safe[k].segment,
                fields=_routing_fields(safe[k]),
                language=languages[k],
            )
            for k in keys
        }
        summaries = self.summarizer.summarize(
            [
                SummaryInput(
                    text=safe[k].text,
                    source=safe[k].source,
                    nps=safe[k].nps,
                    csat=safe[k].csat,
                    segment=safe[k].segment,
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
        backfill: set[str] = set()
        for key, summary in zip(keys, summaries, strict=True):
            comment = safe[key]
            if not post_old and self.is_backfill(comment, now=now):
                backfill.add(key)
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
                    redacted_text=comment.text,
                    raw_text=raw[key][:MAX_KEPT] if self.keep_raw else None,
                    nps=comment.nps,
                    csat=comment.csat,
                    language=languages[key],
                    origin_link=comment.link,
                    identifiers=fresh[key].identifiers if self.hasher is not None else (),
                    origin=comment.origin,
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
                    backfill=key in backfill,
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
                    external_id=safe[story.dedupe_key].external_id,
                    departments=departments,
                    reasons=tuple(r.reason for r in story.routes),
                    backfill=story.backfill,
                )
            )
        return report

    def _detect_language(self, text: str) -> str | None:
        return self.languages.detect(text) if self.languages is not None else None


def _routing_fields(comment: IncomingComment) -> Mapping[str, str]:
    """Source columns plus the origin channel, so a rule can match ``fields: {channel: [...]}``."""
    if comment.origin_channel and "channel" not in comment.fields:
        return {**comment.fields, "channel": comment.origin_channel}
    return comment.fields


def _batches(items: Iterable[IncomingComment], size: int) -> Iterator[list[IncomingComment]]:
    iterator = iter(items)
    while batch := list(islice(iterator, size)):
        yield batch
