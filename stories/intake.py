"""The one way in: every source (CSV import, ``/ingest``, intake channels, the Slack shortcut, ``/cx story``,
Teams messages) hands comments to :meth:`Intake.take_in`, which runs the pipeline (redact every field,
summarise, route, store), plans what goes out at once, queues it and wakes the dispatcher.

What goes out at once rather than in a department's digest:

- Departments with ``immediate`` delivery get each story as it arrives, unless it arrives in their quiet hours:
  then it waits for the catch-up digest at the department's schedule (see :mod:`stories.schedule`).
- Urgent stories (a detractor at or below ``urgent.nps_max``, or an urgent keyword) go out at once to each of
  their departments and to the CX team (the default department's channel), quiet hours or not.

Backfilled stories (an old comment, see :mod:`stories.pipeline`) go out neither way.

Keys are the story's per-channel keys (:func:`stories.outbox.story_deliveries`), so a story that is both
urgent and for an immediate department is posted there once.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from stories.config import CxConfig
from stories.models import IncomingComment
from stories.outbox import OutboxWriter, Outgoing, story_deliveries
from stories.pipeline import CreatedStory, IngestReport, Pipeline
from stories.routing import Router
from stories.schedule import in_quiet_hours
from stories.views import Notice, StoryRouted, View

Channels = Callable[[], Mapping[tuple[str, str], str]]
"""``(department, platform) -> channel`` on the platforms this deployment posts to, read fresh (Teams links)."""
CommentFacts = Callable[[Sequence[int]], Iterable[tuple[int, str, int | None]]]
"""``(story id, redacted comment text, NPS)`` of stored stories: urgency is decided on the customer's words."""


@dataclass
class Intake:
    """Comments in, stories stored, what is due at once queued, the dispatcher woken. Sync: call it from a
    thread in async code; ``wake`` must be safe to call from any thread."""

    pipeline: Pipeline
    config: CxConfig
    router: Router
    outbox: OutboxWriter
    channels: Channels
    facts: CommentFacts
    wake: Callable[[], None]
    clock: Callable[[], datetime] = lambda: datetime.now(UTC)

    def take_in(
        self,
        comments: Iterable[IncomingComment],
        *,
        post_old: bool = False,
        on_batch: Callable[[IngestReport], None] | None = None,
    ) -> IngestReport:
        """Take comments in; each batch's immediate and urgent posts are queued as soon as it is stored, so a
        long import starts posting before it ends. ``post_old`` treats comments older than the backfill window
        as news too (``cxbot import --post-old``)."""

        def planned(part: IngestReport) -> None:
            self._plan(part.created)
            if on_batch is not None:
                on_batch(part)

        return self.pipeline.ingest(comments, on_batch=planned, post_old=post_old)

    def _plan(self, created: Sequence[CreatedStory]) -> None:
        news = [story for story in created if not story.backfill]
        if not news:
            return
        channels = self.channels()
        if not channels:
            return
        items = immediate_deliveries(
            news,
            config=self.config,
            channels=channels,
            now=self.clock(),
            urgent=urgent_reasons(self.facts([story.story_id for story in news]), router=self.router),
        )
        if items and self.outbox.enqueue(items):
            self.wake()


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
        for item in story_deliveries(
            story_id=story.story_id,
            departments=dict.fromkeys(targets),
            channels=channels,
            urgent=story.story_id in urgent,
        ):
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
