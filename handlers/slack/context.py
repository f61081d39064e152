"""What the Slack listeners share: the cxbot container, the follow-up core, people and after-ack work."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import aiohttp

from handlers.slack.channels import ChannelDirectory
from handlers.slack.people import People
from handlers.slack.replies import Permalinks
from handlers.slack.tasks import Background
from storage.command_store import SqlCommandStore
from storage.outbox import SqlOutbox
from stories.commands import Commands
from stories.models import IncomingComment
from stories.outbox import Outgoing
from stories.pipeline import IngestReport

if TYPE_CHECKING:
    from bot.app import App


class Wake:
    """Wakes the outbox dispatcher from any thread (the core runs in worker threads), once bound to the loop."""

    def __init__(self, kick: Callable[[], None]) -> None:
        self._kick = kick
        self._loop: asyncio.AbstractEventLoop | None = None

    def bind(self, loop: asyncio.AbstractEventLoop | None) -> None:
        self._loop = loop

    def __call__(self) -> None:
        if self._loop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._kick)


class WakingOutbox:
    """The app's outbox for the core: wakes the dispatcher when something new was queued (and only then)."""

    def __init__(self, outbox: SqlOutbox, wake: Wake) -> None:
        self._outbox = outbox
        self._wake = wake

    def enqueue(self, items: Sequence[Outgoing]) -> int:
        new = self._outbox.enqueue(items)
        if new:
            self._wake()
        return new


def waking_intake(app: App, wake: Wake) -> Callable[[Iterable[IncomingComment]], IngestReport]:
    """``app.take_in`` that wakes the dispatcher when a story may go out at once."""

    def take_in(comments: Iterable[IncomingComment]) -> IngestReport:
        report = app.take_in(comments)
        if report.created:
            wake()
        return report

    return take_in


@dataclass
class SlackContext:
    app: App
    people: People
    background: Background
    followups: SqlCommandStore
    commands: Commands
    permalinks: Permalinks
    outbox: WakingOutbox
    wake: Wake
    channels: ChannelDirectory  # configured channel names -> ids; the intake channels' ids
    http: aiohttp.ClientSession | None = None  # shared while serving (keep-alive to Slack)
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
