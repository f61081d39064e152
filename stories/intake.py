"""After the pipeline: what goes out at once rather than in a department's digest.

- Departments with ``immediate`` delivery get each story as it arrives, unless it arrives in their quiet hours:
  then it waits for the catch-up digest at the department's schedule (see :mod:`stories.schedule`).
- Urgent stories (a detractor at or below ``urgent.nps_max``, or an urgent keyword) go out at once to each of
  their departments and to the CX team (the default department's channel), quiet hours or not.

Keys are the story's per-channel keys (:func:`stories.outbox.story_deliveries`), so a story that is both
urgent and for an immediate department is posted there once.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from zoneinfo import ZoneInfo

from stories.config import CxConfig
from stories.outbox import Outgoing, story_deliveries
from stories.pipeline import CreatedStory, IngestReport
from stories.routing import Router
from stories.schedule import in_quiet_hours
from stories.views import Notice, StoryRouted, View


def urgent_reasons(facts: Iterable[tuple[int, str, int | None]], *, router: Router) -> dict[int, str]:
    """``story id -> why it is urgent`` for the urgent ones among ``(story id, redacted text, NPS)``."""
    reasons = {}
    for story_id, text, nps in facts:
        reason = router.urgent_reason(text=text, nps=nps)
        if reason is not None:
            reasons[story_id] = reason
    return reasons


def immediate_deliveries(
    created: Iterable[CreatedStory],
    *,
    config: CxConfig,
    channels: Mapping[tuple[str, str], str],
    now: datetime,
    urgent: Mapping[int, str] | None = None,
) -> list[Outgoing]:
    """Story posts that go out now: immediate departments outside their quiet hours, and urgent stories."""
    urgent = urgent or {}
    awake = {
        d.name
        for d in config.departments
        if d.delivery == "immediate" and not in_quiet_hours(d.quiet_hours, zone=ZoneInfo(d.timezone), moment=now)
    }
    result: list[Outgoing] = []
    seen: set[str] = set()
    for story in created:
        targets = [d for d in story.departments if d in awake]
        if story.story_id in urgent:
            targets = [*story.departments, config.default_department]
        for item in story_deliveries(story_id=story.story_id, departments=dict.fromkeys(targets), channels=channels):
            if item.key not in seen:
                seen.add(item.key)
                result.append(item)
    return result


def routed_reply(report: IngestReport, *, title_of: Callable[[int], str]) -> View:
    """What the person who sent one comment in hears: where it went and why, or why nothing was added.

    One answer for every intake (Slack channel or shortcut, Teams channel), so the connectors only render it.
    """
    if report.created:
        created = report.created[0]
        return StoryRouted(
            story_id=created.story_id,
            title=title_of(created.story_id),
            departments=created.departments,
            reasons=created.reasons,
        )
    if report.rejected:
        return Notice(f"I could not take that message in: {report.rejected[0].message}.")
    return Notice("That message is already a story; nothing was added.")
