"""The Slack workspace pace held by several replicas together (storage/pace.py): two pacers, each with its own
engine on one database, as two `cxbot serve` processes would be. Time is a shared clock that moves only when
someone sleeps; the limit is scaled down (10 a minute) so a few windows take a fraction of a second."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator

import pytest
from sqlalchemy import Engine, func, select

from bot.dispatcher import Dispatcher
from bot.pacing import SLACK_PER_CHANNEL, Limit, Pacer
from handlers.slack.client import web_client
from handlers.slack.notifier import SlackNotifier
from storage.db import make_engine
from storage.departments import sync_departments
from storage.models import PaceSlot
from storage.outbox import SqlOutbox
from storage.pace import SqlSharedWindows
from storage.stories import SqlStoryReader
from stories.config import CxConfig, Department
from stories.outbox import Outgoing
from tests.fakes.slack_api import DEFAULT_TOKEN, FakeSlackApi
from tests.scheduling.test_pacing import delivered_once, queue

LIMIT = Limit(10, 60.0)


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0  # seconds since the epoch: replicas share the wall clock

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def engines(database_url: str) -> Iterator[list[Engine]]:
    found = [make_engine(database_url), make_engine(database_url)]
    yield found
    for engine in found:
        engine.dispose()


def replica(engine: Engine | None, clock: Clock) -> Pacer:
    shared = SqlSharedWindows(engine, clock=clock) if engine is not None else None
    return Pacer(
        lanes={},
        platforms={},
        workspaces={"slack": (LIMIT,)},
        margin=0.0,
        clock=clock,
        sleep=clock.sleep,
        shared=shared,
    )


async def post_in_turn(pacers: list[Pacer], clock: Clock, *, each: int) -> list[tuple[float, str]]:
    """Each replica in turn asks for its next post (to a channel of its own); when each was allowed."""
    allowed = []
    for n in range(each):
        for r, pacer in enumerate(pacers):
            post = f"T0ACME/C{r}{n:03d}"
            await pacer.acquire(("slack", post))
            allowed.append((clock.now, post))
    return allowed


def busiest_window(times: list[float], per: float) -> int:
    return max(sum(1 for t in times if start <= t < start + per) for start in times)


async def test_two_replicas_never_pass_the_workspace_limit_together_and_post_each_once(
    engines: list[Engine],
) -> None:
    clock = Clock()
    start = clock.now
    allowed = await post_in_turn([replica(e, clock) for e in engines], clock, each=25)

    times = [t for t, _ in allowed]
    assert busiest_window(times, LIMIT.per) == LIMIT.count  # in any 60 s, both replicas together: 10
    assert len({post for _, post in allowed}) == len(allowed) == 50  # none lost, none counted twice
    # not much slower than the limit: 50 posts are 5 windows, each 62 s (a minute, the margin, one slot)
    assert clock.now - start <= 4 * 62.0 + 1.0
    with engines[0].connect() as conn:  # old slots are deleted as the windows move on
        assert conn.scalar(select(func.count()).select_from(PaceSlot)) <= 63


async def test_a_refused_post_counts_nowhere_so_the_other_replica_gets_the_slot(engines: list[Engine]) -> None:
    clock = Clock()
    one, two = (replica(e, clock) for e in engines)
    for n in range(LIMIT.count):
        await one.acquire(("slack", f"T0ACME/C{n}"))
    assert clock.now == 1_000_000.0
    waited = await two.acquire(("slack", "T0ACME/CTWO"))  # the window is full: it waits for the first slot to age
    assert 62.0 <= waited <= 63.0
    other = await two.acquire(("slack", "T0OTHER/C1"))  # another workspace has its own window
    assert other == 0.0


async def test_without_the_shared_windows_two_replicas_post_twice_the_limit(engines: list[Engine]) -> None:
    """What the shared windows prevent (and what this file's first test catches without them)."""
    clock = Clock()
    allowed = await post_in_turn([replica(None, clock), replica(None, clock)], clock, each=25)
    assert busiest_window([t for t, _ in allowed], LIMIT.per) == 2 * LIMIT.count


def test_the_app_shares_the_workspace_pace_on_postgresql_and_keeps_it_alone_on_sqlite(app) -> None:  # type: ignore[no-untyped-def]
    """SQLite is one process (one writer): its pace needs no database round trip per post."""
    shared = app.dispatcher.pacer.shared
    if app.engine.dialect.name == "postgresql":
        assert isinstance(shared, SqlSharedWindows)
    else:
        assert shared is None


@pytest.fixture
async def slack() -> AsyncIterator[FakeSlackApi]:
    async with FakeSlackApi() as fake:
        yield fake


async def test_two_dispatchers_over_http_keep_the_workspace_window_together_urgent_first(
    engines: list[Engine], slack: FakeSlackApi
) -> None:
    """Real time, the fake Slack refusing a 5th post in any second across the workspace (Slack's 300 a minute,
    scaled down): two dispatchers, each its own engine and pacer, never trip it; the urgent post goes first."""
    window = Limit(4, 1.0)
    slack.rate_limit_workspace(window.count, window.per)
    config = CxConfig(default_department="Ops", departments=(Department(name="Ops"),))
    outboxes = [SqlOutbox(e, sync_departments(e, config)) for e in engines]
    keys = queue(outboxes[0], channels=10, per_channel=1)
    urgent = Outgoing(
        key="urgent:1", kind="text", platform="slack", channel="CURGENT01", payload={"text": "!"}, urgent=True
    )
    outboxes[0].enqueue([urgent])
    client = web_client(base_url=slack.base_url, token=DEFAULT_TOKEN)
    dispatchers = [
        Dispatcher(
            outbox=outbox,
            stories=SqlStoryReader(outbox.engine),
            notifiers={"slack": SlackNotifier(client=client)},
            instance=f"replica-{n}",
            pacer=Pacer(
                lanes={"slack": SLACK_PER_CHANNEL},
                platforms={},
                workspaces={"slack": (window,)},
                shared=SqlSharedWindows(outbox.engine, margin=0.5),
            ),
            batch=3,  # both replicas get a share of the backlog
            max_in_flight=3,
            sending=1,
        )
        for n, outbox in enumerate(outboxes)
    ]

    sent = await asyncio.gather(*(d.drain(poll=0.05) for d in dispatchers))

    assert sum(sent) == 11 and all(sent) and delivered_once(slack, [*keys, urgent.key])
    assert not [c for c in slack.calls_to("chat.postMessage") if c.status == 429]
    posts = sorted(slack.calls_to("chat.postMessage", ok_only=True), key=lambda c: c.at)
    assert posts[0].params["channel"] == "CURGENT01"  # queued last, sent first
