"""One way to wake the outbox dispatcher: from any thread, once the running loop is bound.

The core runs in worker threads (``asyncio.to_thread``) and queues deliveries there; :class:`WakingOutbox` and
:func:`waking` wake the dispatcher when something new was queued, so chat answers go out at once rather than at
the dispatcher's next idle poll. The scheduler's lifecycle (bot/scheduler.py) binds the loop and runs the
dispatcher; until then waking is a no-op (a CLI command queues for the serving replicas).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable, Sequence

from stories.models import IncomingComment
from stories.outbox import OutboxWriter, Outgoing
from stories.pipeline import IngestReport


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

    def __init__(self, outbox: OutboxWriter, wake: Callable[[], None]) -> None:
        self._outbox = outbox
        self._wake = wake

    def enqueue(self, items: Sequence[Outgoing]) -> int:
        new = self._outbox.enqueue(items)
        if new:
            self._wake()
        return new


def waking(
    take_in: Callable[[Iterable[IncomingComment]], IngestReport], wake: Callable[[], None]
) -> Callable[[Iterable[IncomingComment]], IngestReport]:
    """``take_in`` that wakes the dispatcher when a story may go out at once."""

    def wrapped(comments: Iterable[IncomingComment]) -> IngestReport:
        report = take_in(comments)
        if report.created:
            wake()
        return report

    return wrapped
