"""After the pipeline: what goes out at once. Departments that take stories as they arrive get them now;
everything else waits for the department's digest (see the scheduler)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from stories.config import CxConfig
from stories.outbox import Outgoing, story_deliveries
from stories.pipeline import CreatedStory


def immediate_deliveries(
    created: Iterable[CreatedStory],
    *,
    config: CxConfig,
    channels: Mapping[tuple[str, str], str],
) -> list[Outgoing]:
    """Story posts for the departments whose ``delivery`` is ``immediate``."""
    immediate = {d.name for d in config.departments if d.delivery == "immediate"}
    result: list[Outgoing] = []
    for story in created:
        targets = [d for d in story.departments if d in immediate]
        result.extend(story_deliveries(story_id=story.story_id, departments=targets, channels=channels))
    return result
