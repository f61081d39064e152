"""Work that happens after the ack: a few workers, each job done at most once per Slack event or action.

Slack wants an answer within 3 seconds and retries otherwise, so listeners ack and hand the work here. The
work runs on a small, fixed number of workers rather than a task per request: under a burst, acks then wait
for at most a few jobs' steps on the event loop, not for all of them, and the jobs queue up instead. Jobs that
must be quick (opening a modal: Slack's trigger_id lasts 3 seconds) jump the queue. With ``turn``
(bot/priority.py) a job waits for a lull in incoming requests before it starts, at most its bound (an urgent job's
is :data:`URGENT_HEADSTART` shorter), in the order the jobs were queued.

:meth:`Background.once` claims the event's key in ``processed_events`` first (one statement, so it holds
across retries, restarts and replicas); if the work then fails the claim is released, so a redelivery is
handled rather than mistaken for a duplicate. :meth:`Background.handle` runs the work of an event already kept in
the inbox before its ack (handlers/slack/inbox.py): done, it leaves the inbox; failed, it stays there for a replay.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import time
from collections.abc import Awaitable, Callable, Coroutine, Hashable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from handlers.ports import EventInbox, ProcessedEvents
from stories.log_context import bound, current

log = logging.getLogger(__name__)

WORKERS = 4
URGENT, NORMAL = 0, 1
URGENT_HEADSTART = 1.0  # an urgent job waits this much less for its turn: a modal's trigger_id lasts 3 s

Work = Callable[[], Coroutine[Any, Any, None]]


@dataclass
class _Serial:
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    users: int = 0


@dataclass(order=True)
class _Job:
    priority: int
    seq: int
    name: str = field(compare=False)
    work: Coroutine[Any, Any, None] = field(compare=False)
    queued: float = field(compare=False)  # Background's ``ticks`` when it was queued


class Background:
    def __init__(
        self,
        *,
        processed: ProcessedEvents,
        inbox: EventInbox | None = None,
        workers: int | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        turn: Callable[[float], Awaitable[None]] | None = None,
        ticks: Callable[[], float] = time.monotonic,
    ) -> None:
        """``ticks``: the clock ``turn`` reads (AckPriority's), injectable so tests run on virtual time."""
        self._processed = processed
        self._ticks = ticks
        self._inbox = inbox
        self._turn = turn
        self._clock = clock
        self._size = workers or WORKERS
        self._jobs: asyncio.PriorityQueue[_Job] | None = None
        self._workers: list[asyncio.Task[None]] = []
        self._seq = itertools.count()
        self._unfinished = 0
        self._idle: asyncio.Event | None = None
        self._serial: dict[Hashable, _Serial] = {}

    @property
    def pending(self) -> int:
        """Jobs queued or running."""
        return self._unfinished

    def spawn(self, work: Coroutine[Any, Any, None], *, name: str, urgent: bool = False) -> None:
        if self._jobs is None:
            self._jobs, self._idle = asyncio.PriorityQueue(), asyncio.Event()
            self._workers = [asyncio.get_running_loop().create_task(self._work()) for _ in range(self._size)]
        assert self._idle is not None
        self._unfinished += 1
        self._idle.clear()
        self._jobs.put_nowait(
            _Job(URGENT if urgent else NORMAL, next(self._seq), name, _with_ids(work, current()), self._ticks())
        )

    def once(self, key: str, work: Work, *, name: str, serial: Hashable | None = None, urgent: bool = False) -> None:
        """Run ``work()`` after the ack unless ``key`` was handled before.

        Work with the same ``serial`` runs one at a time in the order it arrived (a reaction added, then
        removed, must not be applied the other way round).
        """
        job = self._serially(serial, key, work, self._once) if serial is not None else self._once(key, work)
        self.spawn(job, name=name, urgent=urgent)

    def handle(self, key: str, work: Work, *, name: str, serial: Hashable | None = None) -> None:
        """Run ``work()`` after the ack for an event already in the inbox (its key claimed before the ack,
        handlers/slack/inbox.py): when it is done the event leaves the inbox; if it fails it stays there and is
        replayed later (by this replica or another)."""
        job = self._serially(serial, key, work, self._inboxed) if serial is not None else self._inboxed(key, work)
        self.spawn(job, name=name)

    async def _inboxed(self, key: str, work: Work) -> None:
        assert self._inbox is not None, "Background(inbox=...) is needed for handle()"
        with bound(event_id=key):
            try:
                await work()
            except Exception as exc:
                # the type only: an exception's text may quote the customer's comment
                await asyncio.to_thread(self._inbox.failed, key, error=type(exc).__name__, now=self._clock())
                raise
            await asyncio.to_thread(self._inbox.done, key)

    async def _work(self) -> None:
        assert self._jobs is not None and self._idle is not None
        while True:
            job = await self._jobs.get()
            if self._turn is not None:
                # a modal's trigger_id lasts 3 seconds: an urgent job waits less (its turn counts from earlier)
                await self._turn(job.queued - (URGENT_HEADSTART if job.priority == URGENT else 0.0))
            try:
                await job.work
            except Exception:
                log.exception("slack: %s failed", job.name)
            finally:
                self._unfinished -= 1
                if not self._unfinished:
                    self._idle.set()

    async def _serially(
        self, serial: Hashable, key: str, work: Work, run: Callable[[str, Work], Awaitable[None]]
    ) -> None:
        entry = self._serial.setdefault(serial, _Serial())
        entry.users += 1
        try:
            async with entry.lock:  # jobs start in the order they were queued, and take the lock before awaiting
                await run(key, work)
        finally:
            entry.users -= 1
            if not entry.users:
                del self._serial[serial]

    async def _once(self, key: str, work: Work) -> None:
        with bound(event_id=key):
            await self._once_bound(key, work)

    async def _once_bound(self, key: str, work: Work) -> None:
        if not await asyncio.to_thread(self._processed.first_time, key, now=self._clock()):
            log.info("slack: %s already handled", key)
            return
        try:
            await work()
        except BaseException:
            await asyncio.to_thread(self._processed.forget, key)
            raise

    async def drain(self, timeout: float | None = None) -> None:
        """Wait until every queued job is done (shutdown, tests); jobs queued meanwhile are waited for too."""
        if self._idle is not None and self._unfinished:
            async with asyncio.timeout(timeout):
                await self._idle.wait()

    async def close(self, timeout: float = 10.0) -> None:
        with contextlib.suppress(TimeoutError):
            await self.drain(timeout)
        for worker in self._workers:
            worker.cancel()
        await asyncio.gather(*self._workers, return_exceptions=True)
        while self._jobs is not None and not self._jobs.empty():
            self._jobs.get_nowait().work.close()  # never started: nothing to undo


async def _with_ids(work: Coroutine[Any, Any, None], ids: dict[str, str]) -> None:
    """Run a queued job under the log ids of the request that queued it: the workers that run jobs are tasks of
    their own, started by whichever request came first."""
    with bound(**ids):
        await work
