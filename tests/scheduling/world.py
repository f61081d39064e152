"""A small company for the scheduling tests: its configuration, the real App on a test database, and helpers
that put stories and commitments at chosen times (the clock is a value the tests pass in)."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import select, update

from bot.app import App, build
from bot.settings import Settings
from storage.models import Comment, Story
from stories.config import CxConfig, Department, Nudges, Rule
from stories.followup import NewCommitment
from stories.models import IncomingComment
from tests.fakes.slack_api import DEFAULT_TOKEN

CONFIG = CxConfig(
    default_department="Ops",
    departments=(
        Department(
            name="Ops",
            slack_channel="C0OPS00001",
            schedule="0 9 * * mon-fri",
            timezone="Europe/Berlin",
            managers=("U0BOSS0001",),
            ambassadors=("U0AMBA0001",),
        ),
        Department(
            name="Finance",
            slack_channel="C0FINANCE1",
            schedule="0 10 * * mon,wed,fri",
            timezone="America/New_York",
            managers=("U0FINBOSS1",),
        ),
    ),
    rules=(Rule(id="money", department="Finance", keywords=("invoice", "refund"), theme="billing"),),
    nudges=Nudges(hour=9),
)


def make_app(database_url: str, *, slack_url: str | None = None, config: CxConfig = CONFIG) -> App:
    """The App as ``cxbot serve`` builds it; with ``slack_url``, Slack is configured against the fake."""
    settings = Settings(database_url=database_url, cx_instance="test")
    if slack_url is not None:
        settings = Settings(
            database_url=database_url,
            cx_instance="test",
            slack_bot_token=DEFAULT_TOKEN,
            slack_signing_secret="test-signing-secret",
            slack_api_url=slack_url,
        )
    return build(settings, config=config)


def add_story(app: App, text: str, *, at: datetime, key: str, nps: int | None = None) -> int:
    """A story through the real pipeline, then moved to ``at`` (as if it had arrived then)."""
    report = app.take_in([IncomingComment(text=text, source="test", external_id=key, nps=nps)])
    story_id = report.created[0].story_id
    with app.engine.begin() as conn:
        conn.execute(update(Story).where(Story.id == story_id).values(created_at=at))
        comment_id = conn.scalar(select(Story.comment_id).where(Story.id == story_id))
        conn.execute(update(Comment).where(Comment.id == comment_id).values(received_at=at))
    return story_id


def add_commitment(
    app: App, *, story_id: int, owner: str, what: str, due: date | None, department: str = "Ops", key: str
) -> int:
    item = app.followups.add_commitment(
        NewCommitment(
            key=key,
            story_id=story_id,
            department=department,
            owner=owner,
            owner_name=f"Owner {owner[-2:]}",
            created_by="U0BOSS0001",
            platform="slack",
            what=what,
            due=due,
            created_at=datetime(2026, 6, 1, 8, 0, tzinfo=UTC),
        ),
        today=date(2026, 6, 1),
    )
    return item.id
