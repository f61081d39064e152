"""The core parts a connector's context reads by name (``ctx.commands``, ``ctx.clock``): one place for both
platforms, so the Slack and Teams contexts hold only what is their own."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from handlers.ports import Core, ProcessedEvents
from stories.actions import Actions
from stories.commands import Commands, CommandStore
from stories.config import CxConfig


class OnCore:
    """Mixed into a connector's context dataclass, which has the field ``core``."""

    core: Core

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
    def processed(self) -> ProcessedEvents:
        return self.core.processed

    @property
    def clock(self) -> Callable[[], datetime]:
        return self.core.clock
