"""The small interfaces the core needs from the outside world.

``storage`` implements the stores, ``handlers.slack`` and ``handlers.teams`` implement :class:`Notifier`,
``stories.summarize`` implements :class:`Summarizer`. Each protocol names its minimum methods.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from stories.models import DigestView, Origin, Redacted, RouteMatch, Sentiment, StoryView, Summary, SummaryInput

if TYPE_CHECKING:
    from stories.patterns import PatternReport
    from stories.views import PraiseView, SurgeView


class Redactor(Protocol):
    def redact(self, text: str) -> Redacted: ...


class SentimentAnalyzer(Protocol):
    def analyze(self, text: str) -> Sentiment: ...


class LanguageDetector(Protocol):
    def detect(self, text: str) -> str | None:
        """An ISO 639-1 code for the text's language, or None when unsure."""
        ...


class Summarizer(Protocol):
    """Turns redacted comments into stories, in order; one Summary per input, never fewer."""

    name: str

    def summarize(self, items: Sequence[SummaryInput]) -> list[Summary]: ...


@dataclass(frozen=True, slots=True)
class NewComment:
    """A redacted comment ready to store; ``dedupe_key`` is unique per comment across all time."""

    dedupe_key: str
    source: str
    external_id: str | None
    received_at: datetime
    original_at: datetime | None
    segment: str | None
    origin_channel: str | None
    redacted_text: str
    raw_text: str | None
    nps: int | None
    csat: int | None
    language: str | None
    origin_link: str | None = None
    identifiers: tuple[str, ...] = ()  # keyed hashes of the personal data removed (stories.identifiers)
    origin: Origin | None = None  # chat identifiers of where it came in and who sent it (stories.loop)


@dataclass(frozen=True, slots=True)
class NewStory:
    dedupe_key: str  # of its comment
    title: str
    text: str
    sentiment: str
    sentiment_score: float
    themes: tuple[str, ...]
    summarizer: str
    routes: tuple[RouteMatch, ...]
    backfill: bool = False  # an old comment: in patterns and stats, never posted as news nor in digests


class CommentStore(Protocol):
    """Where the pipeline keeps comments and their stories."""

    def existing_keys(self, keys: Sequence[str]) -> set[str]:
        """The subset of ``keys`` already stored."""
        ...

    def save(self, comments: Sequence[NewComment], stories: Sequence[NewStory]) -> dict[str, int]:
        """Store comments with their stories and routes in one transaction, skipping keys already present.

        Returns ``{dedupe_key: story_id}`` for the stories this call created (a retry creates none).
        """
        ...

    def add_origins(self, origins: Mapping[str, Origin]) -> int:
        """Record more places an already stored comment came in from (``{dedupe_key: origin}``: the intake
        message later sent by shortcut too); a known one is skipped. Returns how many were new."""
        ...


class StoryReader(Protocol):
    def stories_for_department(self, *, department: str, since: datetime, until: datetime) -> list[StoryView]: ...

    def open_commitment_count(self, *, department: str) -> int: ...


@dataclass(frozen=True, slots=True)
class PostedMessage:
    """Where a message landed: enough to update it or reply in its thread later."""

    channel: str
    message_id: str


class Notifier(Protocol):
    """The core's only way to talk to chat. One per platform.

    ``key`` is the outbox delivery key of what is being posted; a platform that can label a message with it
    (Slack message metadata) does, so :class:`FindsDelivered` can find the message after a crash.
    """

    platform: str

    async def post_story(self, *, channel: str, story: StoryView, key: str | None = None) -> PostedMessage: ...

    async def post_digest(self, *, channel: str, digest: DigestView, key: str | None = None) -> PostedMessage: ...

    async def update_story(self, *, message: PostedMessage, story: StoryView, note: str) -> None: ...

    async def update_digest(self, *, message: PostedMessage, digest: DigestView, note: str) -> None:
        """Redraw a posted digest (erasure: without the stories removed, ``note`` saying so)."""
        ...

    async def delete_message(self, *, message: PostedMessage) -> None:
        """Delete a message the bot posted (erasure); a message already gone counts as deleted."""
        ...

    async def reply_in_thread(self, *, message: PostedMessage, text: str, key: str | None = None) -> PostedMessage: ...

    async def send_direct_message(self, *, user: str, text: str, key: str | None = None) -> PostedMessage: ...

    async def post_text(self, *, channel: str, text: str, key: str | None = None) -> PostedMessage: ...

    async def post_report(
        self, *, channel: str, report: PatternReport, chart_png: bytes, key: str | None = None
    ) -> PostedMessage:
        """The weekly pattern report with its chart (PNG bytes)."""
        ...

    async def post_surge(self, *, channel: str, surge: SurgeView, key: str | None = None) -> PostedMessage:
        """A surge alert (stories.surge)."""
        ...

    async def post_praise(self, *, channel: str, praise: PraiseView, key: str | None = None) -> PostedMessage:
        """The week's customer praise for the CX team, each with a "Give kudos" button (stories.praise_push)."""
        ...


@runtime_checkable
class FindsDelivered(Protocol):
    """A Notifier that can find a message it posted earlier by its delivery ``key`` (Slack: message metadata).

    The dispatcher asks before posting a delivery again after a crash, so a post whose answer was never recorded
    is recorded, not repeated. ``channel`` is the delivery's channel (a user id for direct messages); ``thread``
    is the story message a reply went under.
    """

    async def find_delivered(
        self, *, key: str, channel: str, thread: PostedMessage | None, since: datetime
    ) -> PostedMessage | None: ...


class DeliveryError(Exception):
    """A Notifier could not deliver. ``permanent`` (channel gone, not allowed) stops retries; otherwise the
    outbox retries later with back-off. ``retry_after`` (seconds) comes from the platform when it said so."""

    def __init__(self, message: str, *, permanent: bool = False, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.permanent = permanent
        self.retry_after = retry_after


@dataclass(frozen=True, slots=True)
class StoredModel:
    """One version of the routing learner as the store keeps it (see stories.retraining)."""

    version: int
    created_at: datetime
    examples: int
    corrections: int
    held_out: int
    rules_top1: float
    learned_top1: float
    active: bool
    model: str  # stories.learning.LearnedModel.to_json()


class RoutingModelStore(Protocol):
    """Labelled comments, readers' corrections and the learner's versions; storage.routing_models."""

    def add_labelled(self, rows: Sequence[tuple[str, str]], *, origin: str, now: datetime) -> int:
        """Store (redacted text, department) pairs; returns how many were new (a repeated pair is skipped)."""
        ...

    def training_set(self) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
        """(labelled comments, corrections): each (redacted text, department); a story corrected twice counts
        once, with its latest department."""
        ...

    def latest(self) -> StoredModel | None:
        """The newest version, active or not (what a retrain is measured from)."""
        ...

    def active(self) -> StoredModel | None:
        """The newest active version: the one routing uses."""
        ...

    def save(self, model: StoredModel) -> bool:
        """Store a version; False if that version number exists (another replica trained it first)."""
        ...


__all__ = [
    "CommentStore",
    "DeliveryError",
    "FindsDelivered",
    "NewComment",
    "NewStory",
    "Notifier",
    "PostedMessage",
    "Redacted",
    "Redactor",
    "RoutingModelStore",
    "Sentiment",
    "SentimentAnalyzer",
    "StoredModel",
    "StoryReader",
    "Summarizer",
]
