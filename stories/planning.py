"""Everything the schedules make due, planned from the stores' state and the clock, and queued.

Used by the in-process scheduler (bot/scheduler.py) on each department's cron and on a regular sweep, and by
``cxbot digest``. Every plan is idempotent (its key names the department, platform and local slot or day), so
planning more often than needed, on several replicas, or after downtime queues each delivery once. The stores
are the ports below (storage implements them); ``App.planner`` wires them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Protocol

from stories.config import CxConfig, Department
from stories.fixproof import FixProofStore, plan_verdicts, report_lines
from stories.followthrough import FollowThroughReader, plan_monthly
from stories.kudos import KudosStore
from stories.models import DigestView
from stories.nudges import CommitmentReader, NudgePlan, plan_nudges, plan_weekly_summaries
from stories.outbox import Outgoing
from stories.patterns import PatternStories, plan_reports, report_key, report_slot
from stories.ports import StoryReader
from stories.praise_push import plan_praise, praise_keys
from stories.schedule import Schedule, Slot, digest_since_last, manual_digest, plan_digests
from stories.stats import StatsReader
from stories.surge import ThemedStory, find_surges, plan_surges
from stories.surge import window as surge_window


class PlanningOutbox(Protocol):
    def enqueue(self, items: Sequence[Outgoing], *, now: datetime | None = None) -> int: ...

    def last_digest_until(self, *, department: str, platform: str) -> datetime | None:
        """The end of the period the department's latest digest on ``platform`` covered."""
        ...

    def states(self, keys: Sequence[str]) -> dict[str, str]:
        """The state of each delivery key already queued."""
        ...


class PlanningFollowUps(CommitmentReader, StatsReader, Protocol):
    def mark_nudged(self, ids: Sequence[int], today: date) -> int: ...


class SurgeStories(Protocol):
    def themed_stories(self, *, department: str, since: datetime, until: datetime) -> list[ThemedStory]: ...


UrgentReasons = Callable[[Sequence[int]], Mapping[int, str]]
"""``story ids -> {story id: why it is urgent}`` for the urgent ones (stories.intake.urgent_reasons on their facts)."""

ChannelMap = Callable[[tuple[str, ...]], Mapping[tuple[str, str], str]]
"""``platforms -> {(department, platform): channel}``, read fresh (Teams channels are linked at run time)."""


@dataclass
class Plan:
    digests: list[Outgoing] = field(default_factory=list)
    nudges: NudgePlan = field(default_factory=NudgePlan)
    summaries: list[Outgoing] = field(default_factory=list)
    reports: list[Outgoing] = field(default_factory=list)
    surges: list[Outgoing] = field(default_factory=list)
    verdicts: list[Outgoing] = field(default_factory=list)
    monthly: list[Outgoing] = field(default_factory=list)
    praise: list[Outgoing] = field(default_factory=list)

    @property
    def items(self) -> list[Outgoing]:
        return [
            *self.digests,
            *self.nudges.messages,
            *self.summaries,
            *self.reports,
            *self.surges,
            *self.verdicts,
            *self.monthly,
            *self.praise,
        ]


@dataclass(frozen=True)
class Preview:
    """What a department's next digest on one platform holds so far (``cxbot digest --dry-run``)."""

    department: Department
    platform: str
    channel: str
    digest: DigestView
    next_run: Slot | None


class Planner:
    def __init__(
        self,
        *,
        config: CxConfig,
        outbox: PlanningOutbox,
        stories: StoryReader,
        followups: PlanningFollowUps,
        patterns: PatternStories,
        surges: SurgeStories,
        urgent: UrgentReasons,
        channels: ChannelMap,
        platforms: Callable[[], tuple[str, ...]],
        fixes: FixProofStore | None = None,
        follow_through: FollowThroughReader | None = None,
        praise: KudosStore | None = None,
    ) -> None:
        self.praise = praise  # the weekly customer praise push to the CX team (stories.praise_push)
        self.config = config
        self.outbox = outbox
        self.stories = stories
        self.followups = followups
        self.patterns = patterns
        self.surges = surges
        self.urgent = urgent
        self.channel_map = channels
        self.platforms = platforms
        self.fixes = fixes  # stories.fixproof: verdicts in threads, lines in the weekly report
        self.follow_through = follow_through  # stories.followthrough: the CX team's monthly post

    def _departments(self, names: Sequence[str] | None) -> list[Department]:
        if names is None:
            return list(self.config.departments)
        return [self.config.department(name) for name in names]

    def _channels(self, platforms: tuple[str, ...] | None = None) -> dict[str, dict[str, str]]:
        """department -> platform -> channel, read fresh (Teams channels are linked at run time); by default on
        the platforms this deployment posts to."""
        platforms = self.platforms() if platforms is None else platforms
        result: dict[str, dict[str, str]] = {}
        for (department, platform), channel in self.channel_map(platforms).items():
            result.setdefault(department, {})[platform] = channel
        return result

    def _last_until(self, department: str, platforms: Sequence[str]) -> dict[str, datetime | None]:
        return {p: self.outbox.last_digest_until(department=department, platform=p) for p in platforms}

    def plan(self, now: datetime, *, departments: Sequence[str] | None = None) -> Plan:
        """What is due at ``now`` (all departments, or those named)."""
        chosen = self._departments(departments)
        names = [d.name for d in chosen]
        channels = self._channels()
        plan = Plan()
        for department in chosen:
            mine = channels.get(department.name, {})
            plan.digests.extend(
                plan_digests(
                    department=department,
                    channels=mine,
                    last_until=self._last_until(department.name, list(mine)),
                    reader=self.stories,
                    now=now,
                )
            )
        plan.reports = [item for department in chosen for item in self._reports(department, channels, now)]
        plan.surges = self._surges(chosen, channels, now)
        if self.fixes is not None:
            plan.verdicts = plan_verdicts(
                config=self.config,
                store=self.fixes,
                now=now,
                departments=None if departments is None else names,
                queued=self.outbox.states,
            )
        if self.follow_through is not None and (departments is None or self.config.default_department in names):
            plan.monthly = plan_monthly(
                config=self.config,
                reader=self.follow_through,
                channels=channels.get(self.config.default_department, {}),
                now=now,
                queued=self.outbox.states,
            )
        if departments is None and self.praise is not None:  # not a department's own job: the sweep plans it
            platforms = self.platforms()
            keys = list(praise_keys(self.config, now, platforms).values())
            plan.praise = plan_praise(
                config=self.config,
                store=self.praise,
                now=now,
                platforms=platforms,
                planned=self.outbox.states(keys) if keys else {},
            )
        plan.nudges = plan_nudges(config=self.config, store=self.followups, now=now, departments=names)
        plan.summaries = plan_weekly_summaries(config=self.config, store=self.followups, now=now, departments=names)
        return plan

    def _reports(self, department: Department, channels: dict[str, dict[str, str]], now: datetime) -> list[Outgoing]:
        """This week's pattern report, computed only if not queued yet (it reads five weeks of stories)."""
        mine = channels.get(department.name, {})
        slot = report_slot(department, now=now)
        if slot is None or not mine:
            return []
        keys = [report_key(department=department.name, platform=p, slot=slot) for p in mine]
        return plan_reports(
            department=department,
            channels=mine,
            stories=self.patterns,
            stats=self.followups,
            now=now,
            planned=self.outbox.states(keys),
            proofs=self._proofs,
        )

    def _proofs(self, department: Department, until: datetime) -> tuple[str, ...]:
        if self.fixes is None:
            return ()
        return report_lines(store=self.fixes, department=department.name, until=until, timezone=department.timezone)

    def _surges(
        self, chosen: Sequence[Department], channels: dict[str, dict[str, str]], now: datetime
    ) -> list[Outgoing]:
        """Themes surging today in the chosen departments: one alert each, to the department and the CX team
        (stories/surge.py); its key makes planning again the same day a no-op."""
        surges = []
        for department in chosen:
            since, until = surge_window(department, now=now)
            stories = self.surges.themed_stories(department=department.name, since=since, until=until)
            surges.extend(find_surges(department=department, stories=stories, now=now))
        if not surges:
            return []
        ids = [story_id for surge in surges for story_id in surge.story_ids]
        return plan_surges(config=self.config, surges=surges, channels=channels, now=now, urgent=self.urgent(ids))

    def queue(self, now: datetime, *, departments: Sequence[str] | None = None) -> int:
        """Plan and queue what is due; returns how many deliveries were new."""
        plan = self.plan(now, departments=departments)
        queued = self.outbox.enqueue(plan.items, now=now)
        for day, ids in plan.nudges.nudged.items():
            self.followups.mark_nudged(ids, day)
        return queued

    def digests_now(self, now: datetime, *, departments: Sequence[str] | None = None) -> list[Outgoing]:
        """``cxbot digest --now``: each department's digest of what is new since its last one, queued."""
        channels = self._channels()
        items = []
        for department in self._departments(departments):
            for platform, channel in sorted(channels.get(department.name, {}).items()):
                item = manual_digest(
                    department=department,
                    platform=platform,
                    channel=channel,
                    last_until=self.outbox.last_digest_until(department=department.name, platform=platform),
                    reader=self.stories,
                    now=now,
                )
                if item is not None:
                    items.append(item)
        self.outbox.enqueue(items, now=now)
        return items

    def previews(self, now: datetime, *, departments: Sequence[str] | None = None) -> list[Preview]:
        """For every department and platform with a channel: its stories since the last digest, and when the next
        scheduled digest runs, on every platform a channel is known for (configured here or not). Reads only."""
        channels = self._channels(("slack", "teams"))
        result = []
        for department in self._departments(departments):
            next_run = Schedule.of(department).next_slot(now)
            for platform, channel in sorted(channels.get(department.name, {}).items()):
                digest = digest_since_last(
                    department=department,
                    last_until=self.outbox.last_digest_until(department=department.name, platform=platform),
                    reader=self.stories,
                    now=now,
                )
                result.append(Preview(department, platform, channel, digest, next_run))
        return result
