"""A person's home: what Slack's App Home tab and Teams' home card show, gathered once for both.

Their open commitments (overdue first), the last kudos they received, and the latest stories of the
departments they manage or champion. Both connectors render the same :class:`stories.views.HomeView`, so the two
platforms can never show a person different things.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Protocol

from stories.actors import Actor, managed_departments
from stories.config import CxConfig
from stories.models import StoryView
from stories.views import CommitmentItem, HomeView, KudosView

if TYPE_CHECKING:  # the command table imports this module
    from stories.commands import CommandContext, Commands

STORY_DAYS = 14
MAX_COMMITMENTS = 8
MAX_KUDOS = 5
MAX_STORIES = 8


class HomeReader(Protocol):
    """What a home reads: storage's command store and story reader, handed in together."""

    def open_commitments(
        self, *, today: date, departments: tuple[str, ...] | None = None, owner: str | None = None
    ) -> list[CommitmentItem]: ...

    def kudos_received(self, receiver: str, *, platform: str, limit: int = 10) -> list[KudosView]: ...


class DepartmentStories(Protocol):
    def stories_for_department(self, *, department: str, since: datetime, until: datetime) -> list[StoryView]: ...


class NoStories:
    """A story reader with nothing in it (commands built without one, as in the core's unit tests)."""

    def stories_for_department(self, *, department: str, since: datetime, until: datetime) -> list[StoryView]:
        return []


def build_home(
    *,
    config: CxConfig,
    reader: HomeReader,
    stories: DepartmentStories,
    actor: Actor,
    today: date,
    now: datetime,
) -> HomeView:
    """``actor``'s home as of ``now`` (``today``: their local date, for what is overdue). Sync: it reads."""
    departments = managed_departments(config, actor)
    commitments = reader.open_commitments(today=today, owner=actor.user_id)[:MAX_COMMITMENTS]
    kudos = reader.kudos_received(actor.user_id, platform=actor.platform, limit=MAX_KUDOS)
    found: dict[int, StoryView] = {}
    for department in departments:
        for story in stories.stories_for_department(
            department=department, since=now - timedelta(days=STORY_DAYS), until=now
        ):
            found.setdefault(story.story_id, story)
    latest = sorted(found.values(), key=lambda s: s.received_at, reverse=True)[:MAX_STORIES]
    return HomeView(
        commitments=tuple(commitments),
        kudos=tuple(kudos[:MAX_KUDOS]),
        stories=tuple(latest),
        departments=departments,
        story_days=STORY_DAYS,
    )


def home_command(commands: Commands, ctx: CommandContext, args: str) -> HomeView:
    """``/cx home`` / ``cx home``: the asker's home (arguments are ignored)."""
    return build_home(
        config=commands.config,
        reader=commands.store,
        stories=commands.stories,
        actor=ctx.actor,
        today=commands.today(ctx.actor),
        now=commands.clock(),
    )
