"""Time in tests without counting real seconds: a machine shared by many test runs makes any elapsed-time
assertion flaky. ``eventually`` waits for a condition with a generous timeout (a timeout is a failure report,
never what the test measures); ``VirtualClock`` is time that moves only when the test advances it, for code that
takes an injectable ``clock``/``sleep`` (bot/priority.py's AckPriority, bot/pacing.py's Pacer)."""

from __future__ import annotations

import asyncio
import heapq
import itertools
import time
from collections.abc import Awaitable, Callable

GENEROUS = 60.0  # seconds: a loaded CI machine is slow, never this slow


async def eventually(
    condition: Callable[[], bool | Awaitable[bool]], *, timeout: float = GENEROUS, what: str = "condition"
) -> None:
    """Return once ``condition()`` holds (polled every 20 ms); fail naming ``what`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        answer = condition()
        if not isinstance(answer, bool):
            answer = await answer
        if answer:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} not met within {timeout:.0f} s")
        await asyncio.sleep(0.02)


async def settle(rounds: int = 20) -> None:
    """Let every task that can run without real time passing run (a few event loop rounds)."""
    for _ in range(rounds):
        await asyncio.sleep(0)


class VirtualClock:
    """``clock()`` reads the time, ``await clock.sleep(s)`` waits until the test has advanced it by ``s``."""

    def __init__(self, start: float = 0.0) -> None:
        self.now = start
        self._sleepers: list[tuple[float, int, asyncio.Future[None]]] = []
        self._seq = itertools.count()

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        if seconds <= 0:
            await asyncio.sleep(0)
            return
        woken: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._sleepers, (self.now + seconds, next(self._seq), woken))
        await woken

    async def advance(self, seconds: float) -> None:
        """Move time forward by ``seconds``, waking sleepers in time order and letting each run before the next."""
        until = self.now + seconds
        await settle()
        while self._sleepers and self._sleepers[0][0] <= until:
            when, _, woken = heapq.heappop(self._sleepers)
            self.now = max(self.now, when)
            if not woken.done():
                woken.set_result(None)
                await settle()
        self.now = until
        await settle()
