"""Answers first, work after (bot/priority.py): work that can wait steps aside while chat requests arrive, in
order, and never longer than its bound. Real time with small gaps and generous margins; the numbers that
matter (ack latency under load) are measured in bench/slack_ack.py."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from sqlalchemy import Engine

from bot.priority import AckPriority
from handlers.slack.tasks import URGENT_HEADSTART, Background
from storage.db import make_engine
from storage.processed import SqlProcessedEvents

GAP = 0.05


@asynccontextmanager
async def requests_arriving(priority: AckPriority, *, every: float = 0.01) -> AsyncIterator[None]:
    """Chat requests keep arriving (``every`` seconds) until the block ends."""

    async def arrive() -> None:
        while True:
            priority.arrived()
            await asyncio.sleep(every)

    task = asyncio.create_task(arrive())
    await asyncio.sleep(0)
    try:
        yield
    finally:
        task.cancel()


async def test_no_requests_no_wait() -> None:
    priority = AckPriority(gap=GAP, max_wait=1.0)
    started = time.monotonic()
    await priority.turn()
    assert time.monotonic() - started < 0.02


async def test_work_waits_for_a_lull_in_requests() -> None:
    priority = AckPriority(gap=GAP, max_wait=2.0)
    async with requests_arriving(priority):
        waiter = asyncio.create_task(priority.turn())
        await asyncio.sleep(0.3)
        assert not waiter.done()  # requests still arriving: not its turn
        stopped = time.monotonic()
    await asyncio.wait_for(waiter, 1.0)
    assert time.monotonic() - stopped >= GAP - 0.015  # went once the last request was GAP ago (they came every 10 ms)


async def test_steady_requests_delay_work_by_at_most_max_wait() -> None:
    priority = AckPriority(gap=GAP, max_wait=0.3)
    async with requests_arriving(priority):
        started = time.monotonic()
        await asyncio.wait_for(priority.turn(), 2.0)
        waited = time.monotonic() - started
    assert 0.25 <= waited < 0.6


async def test_work_queued_earlier_has_less_left_to_wait() -> None:
    priority = AckPriority(gap=GAP, max_wait=0.5)
    async with requests_arriving(priority):
        started = time.monotonic()
        await asyncio.wait_for(priority.turn(since=started - 0.4), 2.0)  # queued 0.4 s ago
        assert time.monotonic() - started < 0.3


async def test_waiters_go_in_the_order_they_came() -> None:
    priority = AckPriority(gap=GAP, max_wait=5.0)
    order: list[int] = []

    async def work(n: int) -> None:
        await priority.turn(since=time.monotonic() + n)  # later ones would even be due first if sorted by deadline
        order.append(n)

    async with requests_arriving(priority):
        tasks = [asyncio.create_task(work(n)) for n in (3, 1, 2, 0)]
        await asyncio.sleep(0.1)
        assert order == []
    await asyncio.wait_for(asyncio.gather(*tasks), 2.0)
    assert order == [3, 1, 2, 0]


# --- the Slack connector's work behind the ack --------------------------------------------------------------------


@pytest.fixture
def sqlite_engine(tmp_path: Path, _sqlite_template: Path) -> Iterator[Engine]:
    """Background's own queueing does not depend on the database: SQLite only."""
    (tmp_path / "cxbot.db").write_bytes(_sqlite_template.read_bytes())
    engine = make_engine(f"sqlite:///{tmp_path / 'cxbot.db'}")
    yield engine
    engine.dispose()


async def test_background_jobs_start_after_the_burst_modal_opens_sooner(sqlite_engine: Engine) -> None:
    """A modal's trigger_id lasts 3 seconds, so a job that opens one waits a shorter bound than other work."""
    priority = AckPriority(gap=GAP, max_wait=2.0)
    background = Background(processed=SqlProcessedEvents(sqlite_engine), turn=priority.turn)
    started: dict[str, float] = {}

    async def job(name: str) -> None:
        started[name] = time.monotonic()

    try:
        async with requests_arriving(priority):
            burst = time.monotonic()
            background.spawn(job("event"), name="event")
            background.spawn(job("modal"), name="modal", urgent=True)
            await asyncio.sleep(1.6)
            assert "event" not in started  # the burst is still on and the event's bound (2 s) not reached
            ended = time.monotonic()
        await background.drain(timeout=2.0)
    finally:
        await background.close()
    bound = 2.0 - URGENT_HEADSTART
    assert bound - 0.05 <= started["modal"] - burst <= bound + 0.4  # its shorter bound, still in the burst
    assert started["event"] - ended >= GAP - 0.015  # after the burst, once it had been quiet for the gap
