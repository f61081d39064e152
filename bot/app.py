"""The container: builds every part once from Settings and the CX configuration, and hands them out.

Nothing reads the environment after :func:`build` returns; tests build their own with explicit Settings.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import cached_property
from typing import TYPE_CHECKING

from sqlalchemy import Engine

from bot.config import load_config
from bot.dispatcher import Dispatcher
from bot.metrics import Metrics
from bot.pacing import Pacer
from bot.priority import AckPriority
from bot.settings import Settings
from bot.wake import Wake, WakingOutbox
from handlers.ports import Core
from storage.command_store import SqlCommandStore
from storage.comments import SqlCommentStore
from storage.db import make_engine, require_current
from storage.departments import DepartmentIds, channel_map, sync_departments
from storage.inbox_write import LoopEventInbox
from storage.outbox import SqlOutbox
from storage.pace import SqlSharedWindows
from storage.patterns import SqlPatternStories
from storage.processed import SqlProcessedEvents
from storage.routing_models import SqlRoutingModels
from storage.stories import SqlStoryReader
from storage.story_facts import comment_facts
from storage.surge import SqlSurgeStories
from stories.actions import Actions
from stories.blended_routing import BlendedRouter
from stories.commands import Commands
from stories.config import CxConfig
from stories.identifiers import IdentifierHasher
from stories.intake import Intake, routed_reply, urgent_reasons
from stories.language import LangidDetector
from stories.models import IncomingComment
from stories.pipeline import IngestReport, Pipeline
from stories.planning import Planner
from stories.ports import Notifier, Summarizer
from stories.redaction import PiiRedactor
from stories.retraining import Outcome, active_model, retrain_if_due
from stories.rituals import Rituals
from stories.routing import Router
from stories.sentiment import LexiconSentiment
from stories.summarize.offline import OfflineSummarizer
from stories.views import View

if TYPE_CHECKING:
    from aiohttp import web

    from handlers.slack.wiring import SlackConnector
    from handlers.teams.wiring import Teams

log = logging.getLogger(__name__)

Mount = Callable[["web.Application", "App"], None]
"""Adds a connector to the server (bot/connectors.py); ``cxbot serve`` mounts the configured ones."""


def wall_clock() -> datetime:
    return datetime.now(UTC)


@dataclass
class App:
    settings: Settings
    config: CxConfig
    engine: Engine
    departments: DepartmentIds
    router: Router
    clock: Callable[[], datetime] = wall_clock  # the commands' and actions' now (tests fix it)
    notifiers: dict[str, Notifier] = field(default_factory=dict)  # registered by each mounted connector
    mounts: list[Mount] = field(default_factory=list)
    slack: SlackConnector | None = None  # once mounted
    teams: Teams | None = None  # once mounted

    @cached_property
    def metrics(self) -> Metrics:
        """This App's Prometheus metrics, in a registry of its own (``GET /metrics``)."""
        return Metrics(engine=self.engine, today=lambda: self.clock().date())

    @cached_property
    def summarizer(self) -> Summarizer:
        offline = OfflineSummarizer()
        if not self.settings.openai_model:
            return offline
        from storage.summary_cache import SqlSummaryCache
        from stories.summarize.llm import OpenAISummarizer

        key = self.settings.openai_api_key
        return OpenAISummarizer(
            model=self.settings.openai_model,
            api_key=key.get_secret_value() if key else "not-needed",
            base_url=self.settings.openai_base_url,
            timeout=self.settings.openai_timeout,
            max_retries=self.settings.openai_max_retries,
            batch_size=self.settings.openai_batch_size,
            cache=SqlSummaryCache(self.engine),
            fallback=offline,
            meter=self.metrics,
        )

    @cached_property
    def pipeline(self) -> Pipeline:
        return Pipeline(
            redactor=PiiRedactor(
                regions=self.config.redaction.regions,
                default_region=self.config.redaction.default_region,
                digit_runs=self.config.redaction.digit_runs,
            ),
            sentiment=LexiconSentiment(),
            summarizer=self.summarizer,
            router=self.routing,
            store=SqlCommentStore(self.engine, self.departments),
            keep_raw=self.settings.cx_keep_raw,
            hasher=IdentifierHasher(key=self.settings.hash_key),
            languages=LangidDetector(),
            backfill_after=timedelta(days=self.config.intake.backfill_days),
            link_originals=self.config.intake.link_originals,
            meter=self.metrics,
        )

    @cached_property
    def intake(self) -> Intake:
        """The one way in (stories/intake.py): every source's comments go through it."""
        return Intake(
            pipeline=self.pipeline,
            config=self.config,
            router=self.router,
            outbox=self.outbox,
            channels=lambda: channel_map(self.engine, platforms=self.platforms) if self.platforms else {},
            facts=lambda ids: comment_facts(self.engine, ids),
            wake=self.wake,
        )

    @cached_property
    def stories(self) -> SqlStoryReader:
        return SqlStoryReader(self.engine)

    @cached_property
    def outbox(self) -> SqlOutbox:
        return SqlOutbox(self.engine, self.departments)

    @cached_property
    def priority(self) -> AckPriority:
        """Chat answers before the work behind them (bot/priority.py)."""
        return AckPriority()

    @cached_property
    def pacer(self) -> Pacer:
        """Platform limits. On PostgreSQL the Slack workspace limit is counted in the database, so replicas keep
        it together; SQLite is one process, which counts it alone."""
        shared = SqlSharedWindows(self.engine) if self.engine.dialect.name == "postgresql" else None
        return Pacer(shared=shared)

    @cached_property
    def dispatcher(self) -> Dispatcher:
        """Sends through ``self.notifiers``; platform wiring registers its Notifier there before serving."""
        return Dispatcher(
            outbox=self.outbox,
            stories=self.stories,
            notifiers=self.notifiers,
            instance=self.settings.instance_name,
            turn=self.priority.turn,
            meter=self.metrics,
            pacer=self.pacer,
        )

    @cached_property
    def followups(self) -> SqlCommandStore:
        """Commitments, reactions, corrections, kudos and stats (App Home reads it too)."""
        return SqlCommandStore(self.engine, self.departments)

    @cached_property
    def planner(self) -> Planner:
        """What the schedules make due (digests, nudges, summaries, reports), planned from the stores."""
        return Planner(
            config=self.config,
            outbox=self.outbox,
            stories=self.stories,
            followups=self.followups,
            patterns=SqlPatternStories(self.engine),
            surges=SqlSurgeStories(self.engine),
            urgent=lambda ids: urgent_reasons(comment_facts(self.engine, ids), router=self.router),
            channels=lambda platforms: channel_map(self.engine, platforms=platforms),
            platforms=lambda: self.platforms,
            fixes=self.followups,
            follow_through=self.followups,
            praise=self.followups,
        )

    @cached_property
    def wake(self) -> Wake:
        """The one way to wake the dispatcher (bound to the loop by the scheduler's lifecycle)."""
        return Wake(self.dispatcher.kick)

    @cached_property
    def core_outbox(self) -> WakingOutbox:
        """The outbox the core writes to while serving: what it queues goes out at once."""
        return WakingOutbox(self.outbox, self.wake)

    @cached_property
    def commands(self) -> Commands:
        """The `/cx` commands, one table for both connectors (sync: from a thread)."""
        return Commands(
            config=self.config,
            store=self.followups,
            outbox=self.core_outbox,
            intake=self.take_in,
            redactor=self.pipeline.redactor,
            clock=self.clock,
            rituals=self.rituals,
            stories=self.stories,
        )

    @cached_property
    def rituals(self) -> Rituals:
        """The meeting opener, the monthly pulse and ambassadors' DMs (stories/rituals.py)."""
        from storage.rituals import SqlRituals

        return Rituals(
            config=self.config,
            store=SqlRituals(self.engine),
            stories=self.stories,
            stats=self.followups,
            outbox=self.core_outbox,
            channels=lambda platforms: channel_map(self.engine, platforms=platforms),
            hasher=IdentifierHasher(key=self.settings.hash_key),
            deliveries=self.outbox,
        )

    @cached_property
    def actions(self) -> Actions:
        """Reactions, clicks and forms from both connectors, with their permission checks (sync: from a thread)."""
        return Actions(
            config=self.config,
            store=self.followups,
            outbox=self.core_outbox,
            messages=self.outbox,
            today=self.commands.today,
            clock=self.clock,
            redactor=self.pipeline.redactor,
            kudos=self.followups,
        )

    @cached_property
    def core(self) -> Core:
        """What the connectors are handed: the core's entry points and the few reads they render."""
        return Core(
            config=self.config,
            commands=self.commands,
            actions=self.actions,
            take_in_one=self.take_in_one,
            store=self.followups,
            messages=self.outbox,
            stories=self.stories,
            processed=SqlProcessedEvents(self.engine),
            inbox=LoopEventInbox(self.engine, secret=self.settings.hash_key),
            wake=self.wake,
            turn=self.priority.turn,
            arrived=self.priority.arrived,
            clock=self.clock,
            meter=self.metrics,
        )

    @cached_property
    def routing_models(self) -> SqlRoutingModels:
        return SqlRoutingModels(self.engine)

    @cached_property
    def routing(self) -> BlendedRouter:
        """The rules and the newest active learned model (rules alone until one passes its gate)."""
        model, version = active_model(self.routing_models)
        return BlendedRouter(self.router, model, version=version)

    def refresh_routing(self) -> Outcome | None:
        """The sweep's part for routing: retrain if due (batched corrections, nightly), then use the newest
        active version, also when another replica trained it. Sync: call it from a thread."""
        outcome = retrain_if_due(self.routing_models, self.router, now=datetime.now(UTC))
        if outcome is not None:
            log.info("routing learner v%d trained (%s): active=%s", outcome.version, outcome.why, outcome.active)
        stored = self.routing_models.active()
        if stored is None:
            self.routing.use(None, version=None)
        elif stored.version != self.routing.version:
            model, version = active_model(self.routing_models)
            self.routing.use(model, version=version)
        return outcome

    def take_in(self, comments: Iterable[IncomingComment], *, post_old: bool = False) -> IngestReport:
        """:meth:`Intake.take_in`. Sync: call it from a thread in async code."""
        return self.intake.take_in(comments, post_old=post_old)

    def take_in_one(self, comment: IncomingComment) -> tuple[View, bool]:
        """One comment from a chat intake: ``(what to tell the sender, whether a story was created)``.

        Never a backfill: a person chose to send it now (an old message sent by the shortcut is news today)."""
        report = self.take_in([comment], post_old=True)

        def title_of(story_id: int) -> str:
            views = self.stories.views([story_id])
            return views[0].title if views else ""

        return routed_reply(report, title_of=title_of), bool(report.created)

    @property
    def platforms(self) -> tuple[str, ...]:
        """Platforms this deployment posts to: those with a notifier here, and those configured (a `cxbot import`
        queues for the serving replicas' dispatchers)."""
        configured = {"slack"} if self.settings.slack_enabled else set()
        if self.settings.microsoft_app_id:
            configured.add("teams")
        return tuple(sorted(configured | set(self.notifiers)))

    def close(self) -> None:
        self.engine.dispose()


def build(
    settings: Settings,
    *,
    config: CxConfig | None = None,
    check_schema: bool = True,
    clock: Callable[[], datetime] = wall_clock,
) -> App:
    """Everything the process needs. Refuses a database behind the migrations (``cxbot db upgrade`` fixes it)."""
    config = config or load_config(settings.cx_config)
    engine = make_engine(settings.database_url, pool=settings.pool)
    if check_schema:
        require_current(engine)
    departments = sync_departments(engine, config)
    return App(
        settings=settings, config=config, engine=engine, departments=departments, router=Router(config), clock=clock
    )
