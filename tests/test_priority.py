"""Answers first, work after (bot/priority.py): work that can wait steps aside while chat requests arrive, in
order, and never longer than its bound. On virtual time (tests/timing.py): the test says when requests arrive
and how much time passes, so a busy machine cannot change the outcome; the numbers that matter (ack latency
under load) are measured in bench/slack_ack.py."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import Engine

from bot.priority import AckPriority
from handlers.slack.tasks import URGENT_HEADSTART, Background
from storage.processed import SqlProcessedEvents
from tests.timing import VirtualClock, settle

GAP = 0.05
EVERY = 0.01  # a chat request every 10 ms while a burst lasts


def on(clock: VirtualClock, *, max_wait: float) -> AckPriority:
    return AckPriority(gap=GAP, max_wait=max_wait, clock=clock, sleep=clock.sleep)


async def requests_for(priority: AckPriority, clock: VirtualClock, seconds: float) -> None:
    """Chat requests arrive every ``EVERY`` seconds for ``seconds`` (the last one ``EVERY`` before the end)."""
    for _ in range(round(seconds / EVERY)):
        priority.arrived()
        await clock.advance(EVERY)


def finished_at(clock: VirtualClock, task: asyncio.Task[object]) -> list[float]:
    """The clock's time when ``task`` finished (filled in then)."""
    when: list[float] = []
    task.add_done_callback(lambda _t: when.append(clock.now))
    return when


async def test_no_requests_no_wait() -> None:
    clock = VirtualClock()
    await asyncio.wait_for(on(clock, max_wait=1.0).turn(), 5)
    assert clock.now == 0.0


async def test_work_waits_for_a_lull_in_requests() -> None:
    clock = VirtualClock()
    priority = on(clock, max_wait=2.0)
    waiter = asyncio.create_task(priority.turn())
    await requests_for(priority, clock, 0.3)
    assert not waiter.done()  # requests were arriving: not its turn
    last = clock.now - EVERY
    await clock.advance(GAP / 2)
    assert not waiter.done()  # quiet, but not for the gap yet
    await clock.advance(GAP)
    assert waiter.done()
    assert clock.now - GAP / 2 >= last + GAP - 1e-9


async def test_steady_requests_delay_work_by_at_most_max_wait() -> None:
    clock = VirtualClock()
    priority = on(clock, max_wait=0.3)
    waiter = asyncio.create_task(priority.turn())
    done = finished_at(clock, waiter)
    await requests_for(priority, clock, 1.0)
    assert waiter.done() and done[0] == pytest.approx(0.3, abs=EVERY + 1e-9)


async def test_work_queued_earlier_has_less_left_to_wait() -> None:
    clock = VirtualClock(start=10.0)
    priority = on(clock, max_wait=0.5)
    waiter = asyncio.create_task(priority.turn(since=clock.now - 0.4))  # queued 0.4 s ago
    done = finished_at(clock, waiter)
    await requests_for(priority, clock, 1.0)
    assert waiter.done() and done[0] - 10.0 == pytest.approx(0.1, abs=EVERY + 1e-9)


async def test_waiters_go_in_the_order_they_came() -> None:
    clock = VirtualClock()
    priority = on(clock, max_wait=5.0)
    order: list[int] = []

    async def work(n: int) -> None:
        await priority.turn(since=clock.now + n)  # later ones would even be due first if sorted by deadline
        order.append(n)

    tasks = [asyncio.create_task(work(n)) for n in (3, 1, 2, 0)]
    await requests_for(priority, clock, 1.0)
    assert order == []
    await clock.advance(GAP * 2)
    await asyncio.wait_for(asyncio.gather(*tasks), 5)
    assert order == [3, 1, 2, 0]


async def test_a_cancelled_waiter_leaves_the_line() -> None:
    clock = VirtualClock()
    priority = on(clock, max_wait=5.0)
    priority.arrived()
    gone = asyncio.create_task(priority.turn())
    stays = asyncio.create_task(priority.turn())
    await settle()
    gone.cancel()
    await clock.advance(GAP * 2)
    assert stays.done() and gone.cancelled()


# --- the Slack connector's work behind the ack --------------------------------------------------------------------


async def test_background_jobs_start_after_the_burst_modal_opens_sooner(sqlite_engine: Engine) -> None:
    """A modal's trigger_id lasts 3 seconds, so a job that opens one waits a shorter bound than other work."""
    clock = VirtualClock()
    priority = on(clock, max_wait=2.0)
    background = Background(processed=SqlProcessedEvents(sqlite_engine), turn=priority.turn, ticks=clock)
    started: dict[str, float] = {}

    async def job(name: str) -> None:
        started[name] = clock.now

    try:
        background.spawn(job("event"), name="event")
        background.spawn(job("modal"), name="modal", urgent=True)
        await requests_for(priority, clock, 1.6)
        assert "event" not in started  # the burst is still on and the event's bound (2 s) not reached
        ended = clock.now
        await clock.advance(GAP * 2)
        await background.drain(timeout=30.0)
    finally:
        await background.close()
    assert started["modal"] == pytest.approx(2.0 - URGENT_HEADSTART, abs=EVERY + 1e-9)  # its shorter bound
    assert started["event"] - (ended - EVERY) >= GAP - 1e-9  # after the burst, once it had been quiet for the gap
