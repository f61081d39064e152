"""What the Slack listeners share: the core (handed over by the wiring), people and after-ack work."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

import aiohttp

from handlers.ports import Core
from handlers.slack.channels import ChannelDirectory
from handlers.slack.people import People
from handlers.slack.replies import Permalinks
from handlers.slack.tasks import Background
from stories.actions import Actions
from stories.commands import Commands, CommandStore
from stories.config import CxConfig

if TYPE_CHECKING:
    from handlers.slack.inbox import Acceptor


@dataclass
class SlackContext:
    core: Core
    people: People
    background: Background
    permalinks: Permalinks
    channels: ChannelDirectory  # configured channel names -> ids; the intake channels' ids
    http: aiohttp.ClientSession | None = None  # shared while serving (keep-alive to Slack)
    acceptor: Acceptor | None = None  # stores events before their ack, a burst in one commit (made on first use)

    @property
    def config(self) -> CxConfig:
        return self.core.config

    @property
    def commands(self) -> Commands:
        return self.core.commands

    @property
    def actions(self) -> Actions:
        return self.core.actions

    @property
    def followups(self) -> CommandStore:
        return self.core.store

    @property
    def clock(self) -> Callable[[], datetime]:
        return self.core.clock
