"""What the Slack listeners share: the core (handed over by the wiring), people and after-ack work."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import aiohttp

from handlers.context import OnCore
from handlers.ports import Core
from handlers.slack.channels import ChannelDirectory
from handlers.slack.people import People
from handlers.slack.replies import Permalinks
from handlers.slack.tasks import Background

if TYPE_CHECKING:
    from handlers.slack.inbox import Acceptor


@dataclass
class SlackContext(OnCore):
    core: Core
    people: People
    background: Background
    permalinks: Permalinks
    channels: ChannelDirectory  # configured channel names -> ids; the intake channels' ids
    http: aiohttp.ClientSession | None = None  # shared while serving (keep-alive to Slack)
    acceptor: Acceptor | None = None  # stores events before their ack, a burst in one commit (made on first use)
