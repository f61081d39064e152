"""Plain values that travel through the core. No behaviour beyond small derived properties."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

SentimentLabel = Literal["negative", "neutral", "positive"]
MAX_ID = 2**31 - 1  # stories, commitments and the rest have 32-bit integer ids: a larger number names nothing
NpsCategory = Literal["detractor", "passive", "promoter"]


class InvalidComment(ValueError):
    """A comment that cannot be taken in; ``field`` names the offending input field."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


OriginVia = Literal["channel", "shortcut", "command"]


@dataclass(frozen=True, slots=True)
class Origin:
    """Where in chat a comment came in and who passed it on, so the loop can be told back when its story's
    commitment closes (:mod:`stories.loop`). Identifiers the platform made, never text anyone typed.

    ``via``: ``channel`` (a message in an intake channel: the answer goes in its thread), ``shortcut`` or
    ``command`` (someone sent it with the message shortcut or ``/cx story``: the answer is a direct message).
    ``thread`` is the message to reply under (Slack thread ts, Teams root message id); ``workspace`` the Slack
    team id or the Teams tenant id; ``sender`` the user id of who passed it on.
    """

    platform: str
    via: OriginVia
    channel: str
    sender: str
    thread: str | None = None
    workspace: str | None = None


@dataclass(frozen=True, slots=True)
class IncomingComment:
    """A customer comment as a source hands it over, before redaction.

    ``fields`` carries any other source columns (product, region, channel...) that routing rules may match.
    """

    text: str
    source: str
    external_id: str | None = None
    original_at: datetime | None = None
    segment: str | None = None
    origin_channel: str | None = None
    nps: int | None = None
    csat: int | None = None
    language: str | None = None
    fields: Mapping[str, str] = field(default_factory=dict)
    link: str | None = None  # where the comment can be read in its original place (a chat permalink)
    # external_id and origin_channel were made by a chat platform (message and channel ids), not typed by anyone:
    # kept as they are by the redaction step (a Teams conversation id looks like an e-mail address).
    platform_ids: bool = False
    origin: Origin | None = None  # the chat message it came from, and who sent it (chat intake only)


@dataclass(frozen=True, slots=True)
class Redacted:
    """Redacted text, how many of each kind of personal data were replaced, and what was removed.

    ``found`` holds ``(kind, canonical value)`` pairs (``("email", "jane@example.com")``, ``("phone",
    "+14155552181")``). It lives only in memory: the pipeline turns it into keyed hashes
    (:mod:`stories.identifiers`) so erasure can find the comment, and nothing stores the values themselves.
    """

    text: str
    counts: Mapping[str, int] = field(default_factory=dict)
    found: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True)
class Sentiment:
    label: SentimentLabel
    score: float  # -1 (very negative) .. +1 (very positive)


@dataclass(frozen=True, slots=True)
class SummaryInput:
    """What a summariser may see: redacted text and context, never raw text."""

    text: str
    source: str
    nps: int | None = None
    csat: int | None = None
    segment: str | None = None
    sentiment: SentimentLabel | None = None
    language: str | None = None  # ISO 639 code, given or detected; None: unknown
    reasons: tuple[str, ...] = ()  # why routing sent it where it goes, so the story can show the matched words


@dataclass(frozen=True, slots=True)
class Summary:
    title: str  # <= 80 characters
    story: str  # 1-3 sentences, <= 280 characters
    summarizer: str  # which implementation produced it ("offline", "openai:gpt-4o-mini", ...)


@dataclass(frozen=True, slots=True)
class RouteMatch:
    """One department a story goes to, and the rule that sent it there (so anyone can ask why)."""

    department: str
    rule: str
    reason: str  # human readable: "keyword 'invoice'", "score nps<=6", "default department"


@dataclass(frozen=True, slots=True)
class StoryView:
    """A story as readers see it; renderers turn it into Block Kit, Adaptive Cards or terminal text."""

    story_id: int
    title: str
    text: str
    sentiment: SentimentLabel
    sentiment_score: float
    source: str
    received_at: datetime
    departments: tuple[str, ...] = ()
    themes: tuple[str, ...] = ()
    nps: int | None = None
    csat: int | None = None
    segment: str | None = None
    permalink: str | None = None
    reasons: tuple[str, ...] = ()  # why it reached the department being shown, if known
    original_at: datetime | None = None  # the customer's own date, when the source gave one

    @property
    def nps_category(self) -> NpsCategory | None:
        from stories.scores import nps_category

        return nps_category(self.nps)


@dataclass(frozen=True, slots=True)
class DigestView:
    """One department's digest for one period."""

    department: str
    period_start: datetime
    period_end: datetime
    stories: tuple[StoryView, ...]
    total_in_period: int
    open_commitments: int = 0
