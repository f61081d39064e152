"""An in-memory StoryReader (the port the digest planner reads through), for the pure core's tests."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from stories.models import StoryView


@dataclass
class MemoryStories:
    """Stories by department; a story counts for a period by its ``received_at`` (= when it was stored)."""

    stories: dict[str, list[StoryView]] = field(default_factory=dict)
    open_commitments: int = 0

    def add(self, department: str, *, at: datetime, score: float = -0.5, title: str = "Late parcel") -> StoryView:
        story_id = sum(len(v) for v in self.stories.values()) + 1
        view = StoryView(
            story_id=story_id,
            title=title,
            text=f"story {story_id}",
            sentiment="negative" if score < 0 else "positive",
            sentiment_score=score,
            source="survey",
            received_at=at,
            departments=(department,),
        )
        self.stories.setdefault(department, []).append(view)
        return view

    def stories_for_department(self, *, department: str, since: datetime, until: datetime) -> list[StoryView]:
        return [s for s in self.stories.get(department, []) if since <= s.received_at < until]

    def open_commitment_count(self, *, department: str) -> int:
        return self.open_commitments
