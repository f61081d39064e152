"""A small company on a real database for the follow-up tests: its configuration, the real pipeline, the SQL
follow-up store and the SQL outbox, and a clock the tests move."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, select, update

from storage.command_store import SqlCommandStore
from storage.comments import SqlCommentStore
from storage.db import make_engine
from storage.departments import DepartmentIds, sync_departments
from storage.models import Delivery, Story, StoryMessage
from storage.outbox import SqlOutbox
from stories.actors import Actor
from stories.commands import CommandContext, Commands
from stories.config import CxConfig, Department, People, Rule
from stories.models import IncomingComment
from stories.pipeline import Pipeline
from stories.redaction import PiiRedactor
from stories.routing import Router
from stories.sentiment import LexiconSentiment
from stories.summarize.offline import OfflineSummarizer

CONFIG = CxConfig(
    default_department="CX Team",
    departments=(
        Department(name="CX Team", slack_channel="C0CX", timezone="Europe/London"),
        Department(
            name="Finance & Billing",
            slack_channel="C0FIN",
            teams_channel="19:fin@thread.tacv2",
            managers=("UFINMGR",),
            timezone="Europe/London",
        ),
        Department(
            name="Logistics & Delivery",
            slack_channel="C0LOG",
            manager_groups=("SLOGLEADS",),
            ambassadors=("ULOGAMB",),
            timezone="Europe/London",
        ),
        Department(name="Customer Service", timezone="America/New_York"),
    ),
    rules=(
        Rule(id="money", department="Finance & Billing", keywords=("invoice", "refund", "charged")),
        Rule(id="parcels", department="Logistics & Delivery", keywords=("parcel", "depot", "courier")),
    ),
    cx_team=People(users=("UCXLEAD",), groups=("SCXTEAM",)),
    kudos_slack_channel="C0KUDOS",
)

FIONA = Actor(platform="slack", user_id="UFINMGR", name="Fiona")  # manages Finance & Billing
DANA = Actor(platform="slack", user_id="UDANA", name="Dana")  # no department
CARLA = Actor(platform="slack", user_id="UCARLA", name="Carla", groups=frozenset({"SCXTEAM"}))  # CX team by group
LEO = Actor(platform="slack", user_id="ULEO", name="Leo", groups=frozenset({"SLOGLEADS"}))  # Logistics lead


@dataclass
class Clock:
    now: datetime = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)  # a Tuesday

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@dataclass
class World:
    engine: Engine
    departments: DepartmentIds
    store: SqlCommandStore
    outbox: SqlOutbox
    pipeline: Pipeline
    clock: Clock
    config: CxConfig = CONFIG
    _ids: dict[str, int] = field(default_factory=dict)

    def story(self, text: str, *, nps: int | None = None, csat: int | None = None) -> int:
        """A customer comment through the real pipeline; the new story's id."""
        number = len(self._ids) + 1
        report = self.pipeline.ingest(
            [IncomingComment(text=text, source="survey", external_id=f"S{number}", nps=nps, csat=csat)]
        )
        assert len(report.created) == 1, report
        story_id = report.created[0].story_id
        self._ids[f"S{number}"] = story_id
        with self.engine.begin() as conn:  # the comment store stamps wall-clock time; tests run on self.clock
            conn.execute(update(Story).where(Story.id == story_id).values(created_at=self.clock()))
        return story_id

    def posted(
        self, story_id: int, *, department: str | None, channel: str, platform: str = "slack", message_id: str = ""
    ) -> None:
        """What the dispatcher records once a story card (or a digest with it) is posted."""
        with self.engine.begin() as conn:
            conn.execute(
                StoryMessage.__table__.insert(),
                [
                    {
                        "story_id": story_id,
                        "department_id": self.departments.id_of(department) if department else None,
                        "platform": platform,
                        "channel": channel,
                        "message_id": message_id or f"{channel}-{story_id}",
                        "created_at": self.clock(),
                    }
                ],
            )

    def deliveries(self, kind: str | None = None) -> list[dict[str, Any]]:
        query = select(
            Delivery.key, Delivery.kind, Delivery.platform, Delivery.channel, Delivery.story_id, Delivery.payload
        )
        if kind is not None:
            query = query.where(Delivery.kind == kind)
        with self.engine.connect() as conn:
            return [dict(r._mapping) for r in conn.execute(query.order_by(Delivery.id))]

    def commands(self) -> Commands:
        return Commands(
            config=self.config,
            store=self.store,
            outbox=self.outbox,
            intake=self.pipeline.ingest,
            redactor=self.pipeline.redactor,
            clock=self.clock,
        )

    def run(self, actor: Actor, text: str, **context: Any) -> Any:
        context.setdefault("channel", "C0FIN")
        context.setdefault("thread_story_id", None)
        return self.commands().run(CommandContext(actor=actor, **context), text)


def make_world(database_url: str) -> World:
    engine = make_engine(database_url)
    departments = sync_departments(engine, CONFIG)
    clock = Clock()
    pipeline = Pipeline(
        redactor=PiiRedactor(),
        sentiment=LexiconSentiment(),
        summarizer=OfflineSummarizer(),
        router=Router(CONFIG),
        store=SqlCommentStore(engine, departments),
        clock=clock,
    )
    return World(
        engine=engine,
        departments=departments,
        store=SqlCommandStore(engine, departments),
        outbox=SqlOutbox(engine, departments),
        pipeline=pipeline,
        clock=clock,
    )
