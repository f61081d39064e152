"""Work that happens after the ack: tracked tasks, each done at most once per Slack event or action.

Slack wants an answer within 3 seconds and retries otherwise, so listeners ack and hand the work here.
:meth:`Background.once` claims the event's key in ``processed_events`` first (one statement, so it holds
across retries, restarts and replicas); if the work then fails the claim is released, so a redelivery is
handled rather than mistaken for a duplicate.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine, Hashable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from storage.processed import SqlProcessedEvents

log = logging.getLogger(__name__)


@dataclass
class _Serial:
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    users: int = 0


class Background:
    def __init__(
        self, *, processed: SqlProcessedEvents, clock: Callable[[], datetime] = lambda: datetime.now(UTC)
    ) -> None:
        self._processed = processed
        self._clock = clock
        self._tasks: set[asyncio.Task[None]] = set()
        self._serial: dict[Hashable, _Serial] = {}

    def spawn(self, work: Coroutine[Any, Any, None], *, name: str) -> None:
        task = asyncio.get_running_loop().create_task(work, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._finished)

    def once(
        self,
        key: str,
        work: Callable[[], Coroutine[Any, Any, None]],
        *,
        name: str,
        serial: Hashable | None = None,
    ) -> None:
        """Run ``work()`` after the ack unless ``key`` was handled before.

        Work with the same ``serial`` runs one at a time in the order it arrived (a reaction added, then
        removed, must not be applied the other way round).
        """
        self.spawn(self._serially(serial, key, work) if serial is not None else self._once(key, work), name=name)

    async def _serially(self, serial: Hashable, key: str, work: Callable[[], Coroutine[Any, Any, None]]) -> None:
        entry = self._serial.setdefault(serial, _Serial())
        entry.users += 1
        try:
            async with entry.lock:  # taken before the first await: tasks start in the order they were made
                await self._once(key, work)
        finally:
            entry.users -= 1
            if not entry.users:
                del self._serial[serial]

    async def _once(self, key: str, work: Callable[[], Coroutine[Any, Any, None]]) -> None:
        if not await asyncio.to_thread(self._processed.first_time, key, now=self._clock()):
            log.info("slack: %s already handled", key)
            return
        try:
            await work()
        except BaseException:
            await asyncio.to_thread(self._processed.forget, key)
            raise

    def _finished(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("slack: %s failed", task.get_name(), exc_info=task.exception())

    async def drain(self, timeout: float | None = None) -> None:
        """Wait for running work (shutdown, tests); work spawned meanwhile is waited for too."""
        async with asyncio.timeout(timeout):
            while self._tasks:
                await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def close(self, timeout: float = 10.0) -> None:
        try:
            await self.drain(timeout)
        except TimeoutError:
            for task in list(self._tasks):
                task.cancel()
            await asyncio.gather(*list(self._tasks), return_exceptions=True)
