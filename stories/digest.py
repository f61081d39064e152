"""Choosing what a department reads: the most negative and newest first, and always some good news."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from stories.models import DigestView, StoryView
from stories.ports import StoryReader


def choose_stories(stories: Sequence[StoryView], *, limit: int = 5) -> list[StoryView]:
    """Most negative first (newest first among equals), capped at ``limit``.

    When the period has a positive story and none made the cut, the best one takes the last place: people
    should hear what went right too.
    """
    if limit < 1:
        raise ValueError("limit must be at least 1")
    ordered = sorted(stories, key=lambda s: (s.sentiment_score, -s.received_at.timestamp(), s.story_id))
    chosen = ordered[:limit]
    if any(s.sentiment == "positive" for s in chosen):
        return chosen
    positives = [s for s in ordered[limit:] if s.sentiment == "positive"]
    if positives:
        best = max(positives, key=lambda s: (s.sentiment_score, s.received_at.timestamp(), -s.story_id))
        chosen = [*chosen[: limit - 1], best] if limit > 1 else [best]
    return chosen


def build_digest(
    *, reader: StoryReader, department: str, since: datetime, until: datetime, limit: int = 5
) -> DigestView:
    """The department's digest for ``[since, until)``; ``total_in_period == 0`` means nothing new to post."""
    stories = reader.stories_for_department(department=department, since=since, until=until)
    return DigestView(
        department=department,
        period_start=since,
        period_end=until,
        stories=tuple(choose_stories(stories, limit=limit)) if stories else (),
        total_in_period=len(stories),
        open_commitments=reader.open_commitment_count(department=department),
    )
