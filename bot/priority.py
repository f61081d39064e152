"""Answers first, work after: work that can wait steps aside while chat requests are arriving.

Slack wants its answer within 3 seconds and cxbot aims for milliseconds. The work behind the answers (bolt's
dispatch of an acknowledged event, the core in its thread, the outbox dispatcher) shares this process, its event
loop and the GIL with the answers, and on a small machine its cores: a burst answered while that work runs is
answered two to four times slower than by a server doing nothing else (bench/slack_ack.py). So the routes that
answer chat call :meth:`AckPriority.arrived`, and each step of work that can wait awaits :meth:`AckPriority.turn`
first. Work goes once no request has arrived for ``gap`` seconds, one piece at a time and first come first served
(work queued in order starts in order), or regardless once its own bound has passed (``max_wait`` after it was
queued), so under steady load the work is late by at most that and never starved.

    priority = AckPriority()
    priority.arrived()                 # in the route, before answering
    await priority.turn(since=queued)  # in a worker, before the next step
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field


@dataclass(eq=False)
class _Waiter:
    deadline: float
    nudged: asyncio.Event = field(default_factory=asyncio.Event)


class AckPriority:
    """Times are ``clock()`` seconds (``time.monotonic`` by default), as callers pass ``since``. ``clock`` and
    ``sleep`` are injectable so tests run on virtual time instead of counting real seconds on a busy machine."""

    def __init__(
        self,
        *,
        gap: float = 0.02,
        max_wait: float = 2.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.gap = gap
        self.max_wait = max_wait
        self._clock = clock
        self._sleep = sleep
        self._arrived = float("-inf")
        self._line: deque[_Waiter] = deque()

    def arrived(self) -> None:
        """A chat request is being answered (called on the event loop; one assignment)."""
        self._arrived = self._clock()

    async def turn(self, since: float | None = None) -> None:
        """Return when it is this work's turn: at the head of the line after a lull of ``gap`` seconds, or at
        ``since + max_wait`` (``since``: when the work was queued, default now; earlier means sooner)."""
        me = _Waiter((self._clock() if since is None else since) + self.max_wait)
        self._line.append(me)
        try:
            while True:
                now = self._clock()
                lull = self._arrived + self.gap
                first = self._line[0] is me
                if now >= me.deadline or (first and now >= lull):
                    return
                until = min(me.deadline, lull) if first else me.deadline
                me.nudged.clear()
                await self._nudged_or_slept(me, until - now)
        finally:
            self._line.remove(me)
            if self._line:
                self._line[0].nudged.set()  # the next in line looks at the lull now

    async def _nudged_or_slept(self, me: _Waiter, seconds: float) -> None:
        """Wait until the waiter is nudged or ``seconds`` have passed on this clock, whichever is first."""
        nudged = asyncio.ensure_future(me.nudged.wait())
        slept = asyncio.ensure_future(self._sleep(seconds))
        try:
            await asyncio.wait((nudged, slept), return_when=asyncio.FIRST_COMPLETED)
        finally:
            nudged.cancel()
            slept.cancel()
