"""What the Slack listeners share: the cxbot container, the follow-up core, people and after-ack work."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from handlers.slack.people import People
from handlers.slack.replies import Permalinks
from handlers.slack.tasks import Background
from storage.followup import SqlFollowUps
from stories.commands import Commands
from stories.models import IncomingComment
from stories.pipeline import IngestReport

if TYPE_CHECKING:
    from bot.app import App


class AppIntake:
    """``stories.commands.CommentIntake`` over the app: the pipeline, then what goes out at once."""

    def __init__(self, app: App) -> None:
        self._app = app

    def ingest(self, comments: Iterable[IncomingComment]) -> IngestReport:
        return self._app.take_in(comments)


@dataclass
class SlackContext:
    app: App
    people: People
    background: Background
    followups: SqlFollowUps
    commands: Commands
    permalinks: Permalinks
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))

    async def sync(self, func: Callable[..., object], /, *args: object, **kwargs: object) -> object:
        """Run a sync core or storage call off the event loop."""
        return await asyncio.to_thread(func, *args, **kwargs)
