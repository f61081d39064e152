"""Pacing: never post faster than a platform allows, and not much slower.

Limits are sliding windows ("at most N in any P seconds"), several per lane when the platform has several
(Teams). A lane is one (platform, channel); a platform-wide limit (Teams: 50 requests per second per app) is
shared by all its lanes, a workspace limit (Slack) by the lanes of one workspace (the ``T0ACME/`` prefix of a
channel under OAuth; one workspace otherwise). A platform's 429 Retry-After pauses the lane it came from.
Several replicas share the workspace limit through :class:`SharedWindows` (storage/pace.py on PostgreSQL); lanes
and the platform limit stay per process.

Published limits (2025):
- Slack chat.postMessage: about 1 message per second per channel (short bursts tolerated), and "several hundred
  messages per minute" per workspace: paced at :data:`SLACK_PER_WORKSPACE`, the low end.
- Teams, per bot per conversation: 7 operations / 1 s, 8 / 2 s, 60 / 30 s, 1,800 / 3,600 s; and 50 requests per
  second per app across all conversations.
"""

from __future__ import annotations

import asyncio
import time
from bisect import bisect_left, insort
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from heapq import heapify, heappop, heappush
from typing import Protocol

Lane = tuple[str, str]  # (platform, channel)


@dataclass(frozen=True, slots=True)
class Limit:
    """At most ``count`` operations in any ``per`` seconds."""

    count: int
    per: float


SLACK_PER_CHANNEL: tuple[Limit, ...] = (Limit(1, 1.0),)
SLACK_PER_WORKSPACE: tuple[Limit, ...] = (Limit(300, 60.0),)
TEAMS_PER_CONVERSATION: tuple[Limit, ...] = (Limit(7, 1.0), Limit(8, 2.0), Limit(60, 30.0), Limit(1800, 3600.0))
TEAMS_PER_APP: tuple[Limit, ...] = (Limit(50, 1.0),)

DEFAULT_LANES: Mapping[str, tuple[Limit, ...]] = {"slack": SLACK_PER_CHANNEL, "teams": TEAMS_PER_CONVERSATION}
DEFAULT_PLATFORMS: Mapping[str, tuple[Limit, ...]] = {"teams": TEAMS_PER_APP}
DEFAULT_WORKSPACES: Mapping[str, tuple[Limit, ...]] = {"slack": SLACK_PER_WORKSPACE}


def workspace_of(lane: Lane) -> str:
    """The workspace a lane's channel is in: ``"T0ACME"`` for ``"T0ACME/C0FIN"`` (OAuth, several workspaces),
    ``""`` for a bare channel (the one workspace)."""
    channel = lane[1]
    return channel.rsplit("/", 1)[0] if "/" in channel else ""


class Window:
    """The times of recent operations (ascending), checked against one or more limits."""

    def __init__(self, limits: Sequence[Limit], *, margin: float = 0.0) -> None:
        self.limits = tuple(limits)
        self.margin = margin
        self._keep = max((lim.count for lim in self.limits), default=1)
        self._times: list[float] = []

    def wait(self, now: float) -> float:
        """Seconds until one more operation keeps every limit (0: now)."""
        wait = 0.0
        for limit in self.limits:
            if len(self._times) >= limit.count:
                wait = max(wait, self._times[-limit.count] + limit.per + self.margin - now)
        return wait

    def record(self, at: float) -> None:
        insort(self._times, at)
        del self._times[: -self._keep]

    def forget(self, at: float) -> None:
        """An operation counted at ``at`` did not happen (the shared windows refused it)."""
        index = bisect_left(self._times, at)
        if index < len(self._times) and self._times[index] == at:
            del self._times[index]

    def move(self, old: float, new: float) -> None:
        """An operation counted at ``old`` is better placed at ``new`` (see :meth:`Pacer.slot`)."""
        index = bisect_left(self._times, old)
        if index < len(self._times) and self._times[index] == old:
            del self._times[index]
            self.record(new)


class SharedWindows(Protocol):
    """Windows counted by every process that posts (replicas on one database): the Slack workspace limit."""

    def reserve(self, *, key: str, limits: Sequence[tuple[int, float]]) -> float:
        """Count one operation under ``key`` now if every ``(count, per)`` limit allows it; 0.0 when counted,
        else the seconds to wait before asking again. Blocking (a database round trip)."""
        ...


class Pacer:
    """Waits per lane (and per platform) until an operation is allowed, then counts it.

    ``margin`` (seconds) is added to every window, so request jitter between us and the platform does not turn an
    on-time post into a 429. Safe for many coroutines on one event loop: checking and counting happen without an
    ``await`` in between.
    """

    def __init__(
        self,
        *,
        lanes: Mapping[str, Sequence[Limit]] = DEFAULT_LANES,
        platforms: Mapping[str, Sequence[Limit]] = DEFAULT_PLATFORMS,
        workspaces: Mapping[str, Sequence[Limit]] = DEFAULT_WORKSPACES,
        margin: float = 0.02,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
        shared: SharedWindows | None = None,
    ) -> None:
        self._lane_limits = dict(lanes)
        self._platform_limits = dict(platforms)
        self._workspace_limits = dict(workspaces)
        self._margin = margin
        self._clock = clock
        self._sleep = sleep
        self.shared = shared  # workspace windows are also counted there, for every replica
        self._lanes: dict[Lane, Window] = {}
        self._platforms: dict[str, Window] = {}
        self._workspaces: dict[tuple[str, str], Window] = {}
        self._paused: dict[Lane, float] = {}
        self._fastest = float("inf")  # the fastest round trip seen, seconds

    def _windows(self, lane: Lane) -> list[Window]:
        platform = lane[0]
        windows = []
        if platform in self._lane_limits:
            if lane not in self._lanes:
                self._lanes[lane] = Window(self._lane_limits[platform], margin=self._margin)
            windows.append(self._lanes[lane])
        if platform in self._platform_limits:
            if platform not in self._platforms:
                self._platforms[platform] = Window(self._platform_limits[platform], margin=self._margin)
            windows.append(self._platforms[platform])
        if platform in self._workspace_limits:
            workspace = (platform, workspace_of(lane))
            if workspace not in self._workspaces:
                self._workspaces[workspace] = Window(self._workspace_limits[platform], margin=self._margin)
            windows.append(self._workspaces[workspace])
        return windows

    def wait(self, lane: Lane) -> float:
        """Seconds until ``lane`` may send (0: now)."""
        now = self._clock()
        waits = [w.wait(now) for w in self._windows(lane)]
        waits.append(self._paused.get(lane, now) - now)
        return max(0.0, *waits)

    async def acquire(self, lane: Lane) -> float:
        """Wait until ``lane`` may send and count the send; returns how long it waited."""
        waited, _ = await self._take(lane)
        return waited

    async def _take(self, lane: Lane) -> tuple[float, float]:
        """Wait for ``lane``, count an operation now; returns (seconds waited, the time it was counted at).

        Counted here first (without an ``await``, so this process's other posts see it), then in the shared
        windows; if those refuse (other replicas used the workspace's window), it is taken back and tried again.
        """
        waited = 0.0
        while True:
            while (delay := self.wait(lane)) > 0:
                await self._sleep(delay)
                waited += delay
            now = self._clock()
            windows = self._windows(lane)
            for window in windows:
                window.record(now)
            delay = await self._reserve_shared(lane)
            if delay <= 0:
                return waited, now
            for window in windows:
                window.forget(now)
            await self._sleep(delay)
            waited += delay

    async def _reserve_shared(self, lane: Lane) -> float:
        platform = lane[0]
        if self.shared is None or platform not in self._workspace_limits:
            return 0.0
        limits = [(limit.count, limit.per) for limit in self._workspace_limits[platform]]
        key = f"{platform}:{workspace_of(lane)}"
        return await asyncio.to_thread(self.shared.reserve, key=key, limits=limits)

    @asynccontextmanager
    async def slot(self, lane: Lane) -> AsyncIterator[None]:
        """``async with pacer.slot(lane): await post()``: wait for the lane, then count the post at the latest
        moment the platform can have received it, not when we meant to send it.

        A busy event loop or a slow thread can hold a request back after its turn came; counted at its turn, the
        next post could reach the platform less than a window later. Counted at its answer minus half the
        fastest round trip seen, it never can (a request reaches the platform at least half a round trip before
        its answer comes back).
        """
        _, started = await self._take(lane)
        try:
            yield
        finally:
            finished = self._clock()
            self._fastest = min(self._fastest, finished - started)
            arrived = max(started, finished - self._fastest / 2)
            for window in self._windows(lane):
                window.move(started, arrived)

    def pause(self, lane: Lane, seconds: float) -> None:
        """The platform said Retry-After: nothing goes to ``lane`` for ``seconds``."""
        until = self._clock() + max(seconds, 0.0)
        self._paused[lane] = max(self._paused.get(lane, until), until)


def unpaced() -> Pacer:
    """A pacer with no limits (tests of other things, a platform without published limits)."""
    return Pacer(lanes={}, platforms={}, workspaces={}, margin=0.0)


class Turns:
    """At most ``size`` holders at once; when one leaves, an urgent waiter goes before the others (then first come,
    first served). The dispatcher's deliveries in progress: while a platform's pace holds posts back, an urgent
    story's post is the next to go, not the last of the backlog."""

    def __init__(self, size: int) -> None:
        self._free = size
        self._waiting: list[tuple[int, int, asyncio.Future[None]]] = []
        self._seq = 0

    @asynccontextmanager
    async def turn(self, *, urgent: bool = False) -> AsyncIterator[None]:
        if self._free > 0 and not self._waiting:
            self._free -= 1
        else:
            future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            self._seq += 1
            entry = (0 if urgent else 1, self._seq, future)
            heappush(self._waiting, entry)
            try:
                await future  # the slot is handed over with the result
            except BaseException:
                if future.done() and not future.cancelled():
                    self._release()  # handed over just as we were cancelled: pass it on
                elif entry in self._waiting:  # a release may have dropped it already (its future was done)
                    self._waiting.remove(entry)
                    heapify(self._waiting)
                raise
        try:
            yield
        finally:
            self._release()

    def _release(self) -> None:
        while self._waiting:
            _, _, future = heappop(self._waiting)
            if not future.done():
                future.set_result(None)
                return
        self._free += 1
