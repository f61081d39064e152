"""Answers first, work after: work that can wait steps aside while chat requests are arriving.

Slack wants its answer within 3 seconds and cxbot aims for milliseconds. The work behind the answers (bolt's
dispatch of an acknowledged event, the core in its thread, the outbox dispatcher) shares this process, its event
loop and the GIL with the answers, and on a small machine its cores. So the routes that answer chat call
:meth:`AckPriority.arrived`, and each step of work that can wait awaits :meth:`AckPriority.turn` first: it goes
once no request has arrived for ``gap`` seconds, or ``max_wait`` seconds after the work was queued, so under
steady load the work is late by at most that, never starved.

    priority = AckPriority()
    priority.arrived()                 # in the route, before answering
    await priority.turn(since=queued)  # in a worker, before the next step
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable


class AckPriority:
    def __init__(
        self, *, gap: float = 0.02, max_wait: float = 1.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.gap = gap
        self.max_wait = max_wait
        self._clock = clock
        self._arrived = float("-inf")
        self._baton: asyncio.Lock | None = None  # made on first use, inside the running event loop

    def arrived(self) -> None:
        """A chat request is being answered (called on the event loop; one assignment)."""
        self._arrived = self._clock()

    async def turn(self, since: float | None = None) -> None:
        """Return once no request arrived for ``gap`` seconds, or ``max_wait`` seconds after ``since`` (when the
        work was queued; default now)."""
        deadline = (self._clock() if since is None else since) + self.max_wait
        if self._baton is None:
            self._baton = asyncio.Lock()
        async with self._baton:  # first come, first served: work queued in order starts in order
            while True:
                now = self._clock()
                ready = self._arrived + self.gap
                if now >= ready or now >= deadline:
                    return
                await asyncio.sleep(min(ready, deadline) - now)
