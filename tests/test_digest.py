from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from stories.digest import choose_stories
from stories.models import StoryView

T0 = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)


def story(story_id: int, score: float, *, hours_ago: int = 0) -> StoryView:
    label = "negative" if score <= -0.05 else "positive" if score >= 0.05 else "neutral"
    return StoryView(
        story_id=story_id,
        title=f"story {story_id}",
        text="...",
        sentiment=label,  # type: ignore[arg-type]
        sentiment_score=score,
        source="csv",
        received_at=T0 - timedelta(hours=hours_ago),
    )


def test_most_negative_first_and_capped() -> None:
    stories = [story(i, -i / 10) for i in range(1, 9)]
    chosen = choose_stories(stories, limit=3)
    assert [s.story_id for s in chosen][:2] == [8, 7]
    assert len(chosen) == 3


def test_newest_first_among_equally_negative() -> None:
    chosen = choose_stories([story(1, -0.5, hours_ago=5), story(2, -0.5, hours_ago=1)], limit=2)
    assert [s.story_id for s in chosen] == [2, 1]


def test_good_news_always_included_when_it_exists() -> None:
    stories = [story(i, -0.9) for i in range(1, 8)] + [story(50, 0.3), story(51, 0.8)]
    chosen = choose_stories(stories, limit=5)
    assert len(chosen) == 5
    assert chosen[-1].story_id == 51  # the most positive
    assert sum(1 for s in chosen if s.sentiment == "negative") == 4


def test_no_good_news_means_no_placeholder() -> None:
    chosen = choose_stories([story(i, -0.9) for i in range(1, 4)], limit=5)
    assert [s.sentiment for s in chosen] == ["negative"] * 3


def test_limit_must_be_positive() -> None:
    with pytest.raises(ValueError, match="limit"):
        choose_stories([], limit=0)
