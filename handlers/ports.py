"""What the wiring (``bot/``) hands a chat connector: the core's entry points and the few reads it renders.

handlers/slack and handlers/teams import neither ``bot`` nor ``storage`` (an import-linter contract); this
dataclass and these small protocols are all they know of the rest. ``storage`` implements the protocols,
``bot/connectors.py`` builds a :class:`Core` once and gives the same one to both connectors.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from stories.actions import Actions
from stories.commands import Commands, CommandStore
from stories.config import CxConfig
from stories.meter import NO_METER, Meter
from stories.models import IncomingComment, StoryView
from stories.views import View


class ProcessedEvents(Protocol):
    """Platform event ids already handled (idempotency across retries, restarts and replicas)."""

    def first_time(self, key: str, *, now: datetime) -> bool:
        """Claim ``key``; False if it was claimed before."""
        ...

    def forget(self, key: str) -> None:
        """Release a claim whose work failed, so a redelivery is handled."""
        ...


class Inboxed(Protocol):
    """An acknowledged event claimed for replay."""

    @property
    def key(self) -> str: ...
    @property
    def kind(self) -> str: ...
    @property
    def body(self) -> dict[str, Any]: ...
    @property
    def attempts(self) -> int: ...


class EventInbox(Protocol):
    """Events acknowledged but not yet handled (storage/inbox.py): none is lost to a crash after its ack."""

    def accept(self, *, key: str, kind: str, body: Mapping[str, Any], now: datetime, lease: timedelta) -> bool:
        """Before the ack: claim ``key`` (as :meth:`ProcessedEvents.first_time`) and keep the event, in one
        transaction; False if the key was claimed before."""
        ...

    def accept_many(
        self, events: Sequence[tuple[str, str, Mapping[str, Any]]], *, now: datetime, lease: timedelta
    ) -> list[bool]:
        """:meth:`accept` for ``(key, kind, body)`` events arriving together, in one transaction."""
        ...

    async def accept_async(
        self, events: Sequence[tuple[str, str, Mapping[str, Any]]], *, now: datetime, lease: timedelta
    ) -> list[bool]:
        """:meth:`accept_many` awaited on the event loop (before an ack: as quick as the database allows)."""
        ...

    def done(self, key: str) -> None:
        """The event was handled."""
        ...

    def failed(self, key: str, *, error: str, now: datetime) -> None:
        """Handling failed: replay it later (with a back-off)."""
        ...

    def due(self, *, now: datetime, lease: timedelta, limit: int = 20) -> Sequence[Inboxed]:
        """Claim events nobody is handling (their lease has passed) to replay them."""
        ...


class StoryMessages(Protocol):
    """Which chat messages carry which stories (the dispatcher records them)."""

    def story_for_message(self, *, platform: str, channel: str, message_id: str) -> list[tuple[int, str | None]]: ...

    def story_messages(
        self, *, story_id: int, platform: str, channel: str | None = None
    ) -> list[tuple[str, str, int]]: ...


class DepartmentStories(Protocol):
    def stories_for_department(self, *, department: str, since: datetime, until: datetime) -> list[StoryView]: ...


class ConversationRefs(Protocol):
    """Teams conversation references, kept to post proactively later."""

    def save(
        self,
        *,
        conversation_id: str,
        scope: str,
        reference: dict[str, Any],
        now: datetime,
        user_id: str | None = None,
        team_id: str | None = None,
    ) -> None: ...

    def get(self, conversation_id: str) -> dict[str, Any] | None: ...

    def personal(self, user_id: str) -> dict[str, Any] | None: ...

    def newest(self) -> dict[str, Any] | None: ...

    def rosters(self, *, limit: int = 20) -> list[dict[str, Any]]: ...

    def member(self, user_id: str) -> tuple[str | None, str] | None: ...


ChatIntake = Callable[[IncomingComment], tuple[View, bool]]
"""One comment from a chat intake: ``(what to tell the sender, whether a story was created)``."""


@dataclass(frozen=True)
class Core:
    """The one set of core parts both connectors share (one ``Commands``, one ``Actions``, one wake-up)."""

    config: CxConfig
    commands: Commands
    actions: Actions
    take_in_one: ChatIntake
    store: CommandStore  # commitments, kudos and stats (the Slack App Home reads them)
    messages: StoryMessages
    stories: DepartmentStories
    processed: ProcessedEvents
    inbox: EventInbox
    wake: Callable[[], None]  # the dispatcher, from any thread: something was queued
    turn: Callable[[float], Awaitable[None]]  # wait for a lull in chat requests (bot/priority.py)
    arrived: Callable[[], None]  # a chat request is being answered
    clock: Callable[[], datetime]
    meter: Meter = NO_METER  # the app's metrics (bot/metrics.py)
