"""What the Slack listeners share: the cxbot container, the follow-up core, people and after-ack work."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from handlers.slack.people import People
from handlers.slack.replies import Permalinks
from handlers.slack.tasks import Background
from storage.followup import SqlFollowUps
from stories.commands import Commands

if TYPE_CHECKING:
    from bot.app import App


@dataclass
class SlackContext:
    app: App
    people: People
    background: Background
    followups: SqlFollowUps
    commands: Commands
    permalinks: Permalinks
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
