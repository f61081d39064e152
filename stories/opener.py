"""`/cx opener`: one vivid recent customer story to open a meeting, posted in the channel for everyone present.

"Vivid", simply: a story of the department's last :data:`RECENT_DAYS` days that is news (never a backfilled old
comment), long enough to tell (at least :data:`MIN_CHARS` characters) and felt strongly (sentiment score at least
:data:`MIN_STRENGTH` either way). Among those the best scores ``strength + length + impact + recency``: longer
(up to :data:`FULL_CHARS`), an impact sentence (what it did to the customer: "because", "I had to", "cancelled",
"made my day"...), and newer. A channel never gets the same story twice within :data:`REPEAT_DAYS` days.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from stories.models import StoryView

RECENT_DAYS = 30
REPEAT_DAYS = 30
MIN_CHARS = 120
FULL_CHARS = 600
MIN_STRENGTH = 0.3

_IMPACT = re.compile(
    r"\b(?:because|so (?:i|we)|which meant|as a result|i had to|we had to|had to|couldn'?t|could not|"
    r"missed|lost|cost me|cost us|wasted|never again|cancel(?:led|ed)?|switch(?:ed|ing)? to|"
    r"made my day|saved (?:me|us)|will (?:definitely )?(?:recommend|be back)|recommend(?:ed)?)\b",
    re.IGNORECASE,
)


@dataclass(frozen=True, slots=True)
class OpenerChoice:
    """A recorded opener: the row's id (what the outbox key derives from) and the story it chose."""

    id: int
    story_id: int
    department: str


class OpenerStore(Protocol):
    def opener(self, key: str) -> OpenerChoice | None:
        """The opener recorded under a request's key (a retried command), if any."""
        ...

    def recent_openers(self, *, platform: str, channel: str, since: datetime) -> set[int]:
        """Story ids opened in that channel since ``since``."""
        ...

    def record_opener(
        self, *, key: str, platform: str, channel: str, story_id: int, department: str, now: datetime
    ) -> OpenerChoice:
        """Record unless ``key`` exists; the recorded choice either way."""
        ...


def has_impact(text: str) -> bool:
    """Whether the story says what it did to the customer.

    >>> has_impact("The parcel came late so I missed my daughter's birthday."), has_impact("Fine.")
    (True, False)
    """
    return _IMPACT.search(text) is not None


def vividness(story: StoryView, *, now: datetime) -> float | None:
    """The story's score as an opener, or None when it is not vivid (too short, too mild)."""
    strength = abs(story.sentiment_score)
    length = len(story.text.strip())
    if length < MIN_CHARS or strength < MIN_STRENGTH:
        return None
    age_days = max((now - story.received_at).total_seconds() / 86400, 0.0)
    recency = max(0.0, 1 - age_days / RECENT_DAYS) * 0.5
    return strength + min(length, FULL_CHARS) / FULL_CHARS + (0.5 if has_impact(story.text) else 0.0) + recency


def choose_opener(stories: Sequence[StoryView], *, exclude: set[int], now: datetime) -> StoryView | None:
    """The most vivid story not in ``exclude`` (newest, then lowest id, among equals)."""
    scored = [
        (score, story)
        for story in stories
        if story.story_id not in exclude and (score := vividness(story, now=now)) is not None
    ]
    if not scored:
        return None
    return max(scored, key=lambda pair: (pair[0], pair[1].received_at, -pair[1].story_id))[1]


def window(now: datetime) -> tuple[datetime, datetime]:
    """The stories an opener is chosen from: the last :data:`RECENT_DAYS` days."""
    return now - timedelta(days=RECENT_DAYS), now + timedelta(seconds=1)
