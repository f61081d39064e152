"""Pacing per channel: never faster than the platform allows, not much slower, channels in parallel, 429
Retry-After honoured. The pacer's own rules run on a controllable clock; the dispatcher runs against the fake
Slack Web API over HTTP, its per-channel limit scaled up (10/s) so the tests stay quick."""

from __future__ import annotations

import asyncio
from collections import Counter, defaultdict
from collections.abc import AsyncIterator
from datetime import timedelta
from itertools import pairwise
from typing import Any

import pytest
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy import Engine

from bot.dispatcher import Dispatcher
from bot.pacing import (
    SLACK_PER_CHANNEL,
    SLACK_PER_WORKSPACE,
    TEAMS_PER_APP,
    TEAMS_PER_CONVERSATION,
    Limit,
    Pacer,
    Turns,
    unpaced,
)
from bot.priority import AckPriority
from handlers.slack.client import web_client
from handlers.slack.notifier import SlackNotifier
from storage.departments import sync_departments
from storage.outbox import SqlOutbox
from storage.stories import SqlStoryReader
from stories.config import CxConfig, Department
from stories.outbox import Outgoing
from tests.fakes.slack_api import DEFAULT_TOKEN, FakeSlackApi
from tests.timing import GENEROUS, VirtualClock, eventually


class Clock:
    """Time that moves only when someone sleeps."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += seconds


def pacer(clock: Clock, **limits: object) -> Pacer:
    return Pacer(clock=clock, sleep=clock.sleep, margin=0.0, **limits)  # type: ignore[arg-type]


async def test_one_slack_channel_gets_one_post_a_second() -> None:
    clock = Clock()
    slack = pacer(clock)
    times = []
    for _ in range(4):
        await slack.acquire(("slack", "C1"))
        times.append(clock.now)
    assert times == [0.0, 1.0, 2.0, 3.0]


async def test_different_channels_do_not_wait_for_each_other() -> None:
    clock = Clock()
    slack = pacer(clock)
    waited = [await slack.acquire(("slack", f"C{n}")) for n in range(5)]
    assert waited == [0.0] * 5 and clock.now == 0.0


async def test_teams_conversation_bursts_seven_then_keeps_to_its_windows() -> None:
    clock = Clock()
    teams = pacer(clock)
    times = []
    for _ in range(9):
        await teams.acquire(("teams", "19:a@thread.tacv2"))
        times.append(clock.now)
    assert times[:7] == [0.0] * 7  # 7 per second
    assert times[7] == 1.0  # and 8 per 2 seconds: the 8th after a second, the 9th after two
    assert times[8] == 2.0


async def test_teams_app_limit_spans_all_conversations() -> None:
    clock = Clock()
    teams = pacer(clock, lanes={"teams": TEAMS_PER_CONVERSATION}, platforms={"teams": TEAMS_PER_APP})
    for n in range(50):
        await teams.acquire(("teams", f"conversation-{n}"))
    assert clock.now == 0.0
    await teams.acquire(("teams", "conversation-50"))
    assert clock.now == 1.0  # the 51st request in a second waits, though its conversation is idle


async def test_slack_workspace_limit_spans_its_channels_and_not_other_workspaces() -> None:
    clock = Clock()
    slack = pacer(clock, lanes={"slack": SLACK_PER_CHANNEL}, platforms={}, workspaces={"slack": (Limit(3, 1.0),)})
    times = []
    for n in range(4):
        await slack.acquire(("slack", f"C{n}"))
        times.append(clock.now)
    assert times == [0.0, 0.0, 0.0, 1.0]  # four channels of one workspace share its three a second
    others = [await slack.acquire(("slack", f"T0OTHER/C{n}")) for n in range(3)]
    assert others == [0.0, 0.0, 0.0] and clock.now == 1.0  # another workspace (OAuth) has its own


async def test_slack_posts_keep_to_the_published_workspace_pace_by_default() -> None:
    clock = Clock()
    slack = pacer(clock)
    for n in range(SLACK_PER_WORKSPACE[0].count):
        await slack.acquire(("slack", f"C{n}"))
    assert clock.now == 0.0
    await slack.acquire(("slack", "CONEMORE"))
    assert clock.now == SLACK_PER_WORKSPACE[0].per  # 300 in any minute


async def test_an_urgent_waiter_is_the_next_to_go_whoever_queued_first() -> None:
    turns = Turns(1)
    order: list[str] = []
    release = asyncio.Event()

    async def hold() -> None:
        async with turns.turn():
            await release.wait()

    async def wait(name: str, *, urgent: bool) -> None:
        async with turns.turn(urgent=urgent):
            order.append(name)

    holder = asyncio.create_task(hold())
    await asyncio.sleep(0)
    waiters = [asyncio.create_task(wait(n, urgent=n.startswith("urgent"))) for n in ("a", "b", "urgent", "c")]
    await asyncio.sleep(0)
    release.set()
    await asyncio.gather(holder, *waiters)
    assert order == ["urgent", "a", "b", "c"]


async def test_a_post_held_back_after_its_turn_counts_from_when_it_can_have_arrived() -> None:
    clock = Clock()
    slack = pacer(clock)
    async with slack.slot(("slack", "C1")):
        clock.now += 0.02  # a quick round trip
    async with slack.slot(("slack", "C1")):  # its turn comes at 1.01 (the first arrived by 0.01)...
        clock.now += 0.5  # ...but it is held back: answered only at 1.51, so it may have arrived at 1.50
    await slack.acquire(("slack", "C1"))
    assert clock.now == pytest.approx(2.50)


async def test_retry_after_pauses_the_lane_only() -> None:
    clock = Clock()
    slack = pacer(clock)
    await slack.acquire(("slack", "C1"))
    slack.pause(("slack", "C1"), 30)
    assert slack.wait(("slack", "C1")) == 30.0
    assert slack.wait(("slack", "C2")) == 0.0


# --- the dispatcher against the fake Slack API ---------------------------------------------------------------


@pytest.fixture
def engine(sqlite_engine: Engine) -> Engine:
    """Pacing does not depend on the database: SQLite only (tests/conftest.py)."""
    return sqlite_engine


@pytest.fixture
def outbox(engine: Engine) -> SqlOutbox:
    config = CxConfig(default_department="Ops", departments=(Department(name="Ops"),))
    return SqlOutbox(engine, sync_departments(engine, config))


@pytest.fixture
async def slack() -> AsyncIterator[FakeSlackApi]:
    async with FakeSlackApi() as fake:
        yield fake


def queue(outbox: SqlOutbox, *, channels: int, per_channel: int, tag: str = "A") -> list[str]:
    items = [
        Outgoing(
            key=f"text:{tag}{c}:{n}", kind="text", platform="slack", channel=f"C{tag}{c:08d}", payload={"text": f"{n}"}
        )
        for n in range(per_channel)
        for c in range(channels)
    ]
    outbox.enqueue(items)
    return [i.key for i in items]


def dispatcher(outbox: SqlOutbox, client: AsyncWebClient, pace: Pacer, **options: Any) -> Dispatcher:
    return Dispatcher(
        outbox=outbox,
        stories=SqlStoryReader(outbox.engine),
        notifiers={"slack": SlackNotifier(client=client)},
        instance="pacing-test",
        pacer=pace,
        **options,
    )


def arrivals_by_channel(slack: FakeSlackApi) -> dict[str, list[float]]:
    by_channel: dict[str, list[float]] = defaultdict(list)
    for call in slack.calls_to("chat.postMessage", ok_only=True):
        by_channel[call.params["channel"]].append(call.at)
    return by_channel


def delivered_once(slack: FakeSlackApi, keys: list[str]) -> bool:
    posted = Counter(m["metadata"]["event_payload"]["key"] for m in slack.messages.values())
    return set(posted) == set(keys) and max(posted.values()) == 1


async def test_paced_posts_never_trip_the_channel_limit_and_channels_run_in_parallel(
    outbox: SqlOutbox, slack: FakeSlackApi
) -> None:
    """The fake enforces the limit on its own clock and answers 429 past it, so "no 429" is the assertion, not
    elapsed seconds (the pacer counts from each answer, so a slow machine only makes posts later, never closer)."""
    slack.rate_limit(10)  # the fake allows 10 posts per channel in any second
    keys = queue(outbox, channels=3, per_channel=8)
    client = web_client(base_url=slack.base_url, token=DEFAULT_TOKEN)

    sent = await dispatcher(outbox, client, Pacer(lanes={"slack": (Limit(10, 1.0),)}, platforms={})).drain()

    assert sent == 24 and delivered_once(slack, keys)
    assert not [c for c in slack.calls_to("chat.postMessage") if c.status == 429]
    slack.calls.clear()
    slack.messages.clear()
    slack.rate_limit(1, per=0.25)  # now one post per 0.25 s per channel, on the fake's clock
    keys = by_channel_first(outbox, channels=3, per_channel=4)

    sent = await dispatcher(outbox, client, Pacer(lanes={"slack": (Limit(1, 0.25),)}, platforms={})).drain()

    assert sent == 12 and delivered_once(slack, keys)
    assert not [c for c in slack.calls_to("chat.postMessage") if c.status == 429]  # never faster than allowed
    posts = sorted(slack.calls_to("chat.postMessage", ok_only=True), key=lambda c: c.at)
    # queued channel by channel: one lane after another would post CB0 four times first; side by side, each
    # channel's first post goes while the first channel waits its 0.25 s
    assert {c.params["channel"] for c in posts[:3]} == {"CB00000000", "CB00000001", "CB00000002"}


def by_channel_first(outbox: SqlOutbox, *, channels: int, per_channel: int) -> list[str]:
    """Deliveries queued channel by channel (all of the first channel's, then the next's)."""
    items = [
        Outgoing(key=f"text:B{c}:{n}", kind="text", platform="slack", channel=f"CB{c:08d}", payload={"text": f"{n}"})
        for c in range(channels)
        for n in range(per_channel)
    ]
    outbox.enqueue(items)
    return [i.key for i in items]


async def test_posts_faster_than_allowed_are_answered_429_and_retried_after_it_each_once(
    outbox: SqlOutbox, slack: FakeSlackApi
) -> None:
    slack.rate_limit(1)  # Slack's real limit, and a dispatcher that does not pace at all
    keys = queue(outbox, channels=2, per_channel=3)
    client = AsyncWebClient(token=DEFAULT_TOKEN, base_url=slack.base_url, retry_handlers=[])  # the 429 reaches us

    sent = await dispatcher(outbox, client, unpaced()).drain()

    assert sent == 6 and delivered_once(slack, keys)
    refused = [c for c in slack.calls_to("chat.postMessage") if c.status == 429]
    assert refused and all(c.response and c.response["error"] == "ratelimited" for c in refused)
    for at in arrivals_by_channel(slack).values():
        assert all(b - a >= 1.0 for a, b in pairwise(at))
    assert outbox.counts() == {"sent": 6}


async def test_a_delivery_taken_over_while_waiting_for_its_turn_is_not_posted_twice(
    outbox: SqlOutbox, slack: FakeSlackApi
) -> None:
    keys = queue(outbox, channels=1, per_channel=4)
    client = web_client(base_url=slack.base_url, token=DEFAULT_TOKEN)
    slow = Dispatcher(  # one post per 0.4 s in its lane, but a lease of 0.2 s: its later claims run out while it waits
        outbox=outbox,
        stories=SqlStoryReader(outbox.engine),
        notifiers={"slack": SlackNotifier(client=client)},
        instance="slow",
        pacer=Pacer(lanes={"slack": (Limit(1, 0.4),)}, platforms={}),
        lease=timedelta(seconds=0.2),
    )
    waiting = asyncio.ensure_future(slow.drain())
    await eventually(lambda: len(slack.messages) >= 1, what="the slow dispatcher's first post")
    await asyncio.sleep(0.3)  # its later claims (0.2 s lease) run out while it waits for its turn
    rescuer = dispatcher(outbox, client, unpaced())
    await rescuer.drain()
    await waiting
    assert delivered_once(slack, keys)


# --- deliveries give way to chat answers (bot/priority.py) ----------------------------------------------------


async def test_at_most_sending_deliveries_are_in_progress_at_once(outbox: SqlOutbox, slack: FakeSlackApi) -> None:
    slack.latency = 0.2  # every answer takes 0.2 s: posts in progress at once overlap at the fake
    keys = queue(outbox, channels=8, per_channel=1)
    client = web_client(base_url=slack.base_url, token=DEFAULT_TOKEN)
    sender = dispatcher(outbox, client, unpaced(), sending=2)

    assert await sender.drain() == 8 and delivered_once(slack, keys)
    assert slack.most_in_flight == 2  # eight channels, never more than two posts in flight (counted by the fake)


async def test_deliveries_wait_while_chat_requests_arrive(outbox: SqlOutbox, slack: FakeSlackApi) -> None:
    clock = VirtualClock()
    priority = AckPriority(gap=0.05, max_wait=5.0, clock=clock, sleep=clock.sleep)
    keys = queue(outbox, channels=3, per_channel=2)
    client = web_client(base_url=slack.base_url, token=DEFAULT_TOKEN)
    waiting = asyncio.Event()

    async def turn(since: float | None = None) -> None:
        waiting.set()
        await priority.turn(since)

    drain = asyncio.ensure_future(dispatcher(outbox, client, unpaced(), turn=turn).drain())
    async with asyncio.timeout(GENEROUS):
        while not waiting.is_set() or clock.now < 0.5:  # requests every 10 ms until a delivery waits, then 0.5 s more
            priority.arrived()
            await clock.advance(0.01)
            await asyncio.sleep(0.001)  # real time for the dispatcher's database work
    assert not slack.calls_to("chat.postMessage")  # nothing was posted while the requests were being answered
    await clock.advance(0.1)  # a lull
    sent = await asyncio.wait_for(drain, GENEROUS)
    assert sent == 6 and delivered_once(slack, keys)


async def test_under_the_workspace_pace_an_urgent_story_goes_before_the_backlog(
    outbox: SqlOutbox, slack: FakeSlackApi
) -> None:
    keys = queue(outbox, channels=12, per_channel=1)
    urgent = Outgoing(
        key="urgent:1", kind="text", platform="slack", channel="CURGENT01", payload={"text": "!"}, urgent=True
    )
    outbox.enqueue([urgent])
    client = web_client(base_url=slack.base_url, token=DEFAULT_TOKEN)
    window = Limit(4, 0.5)  # Slack's 300 a minute, scaled down to keep the test short
    slack.rate_limit_workspace(window.count, window.per)  # the fake enforces it and answers 429 past it
    pace = Pacer(lanes={"slack": SLACK_PER_CHANNEL}, platforms={}, workspaces={"slack": (window,)})

    assert await dispatcher(outbox, client, pace, sending=1).drain() == 13
    assert delivered_once(slack, [*keys, urgent.key])
    posts = sorted(slack.calls_to("chat.postMessage", ok_only=True), key=lambda c: c.at)
    assert posts[0].params["channel"] == "CURGENT01"  # queued last, sent first
    assert not [c for c in slack.calls_to("chat.postMessage") if c.status == 429]  # never over the workspace pace


async def test_a_waiter_cancelled_gives_its_turn_to_the_next() -> None:
    turns = Turns(1)
    release = asyncio.Event()
    order: list[str] = []

    async def hold() -> None:
        async with turns.turn():
            await release.wait()

    async def wait(name: str) -> None:
        async with turns.turn():
            order.append(name)

    holder = asyncio.create_task(hold())
    await asyncio.sleep(0)
    gone, stays = asyncio.create_task(wait("gone")), asyncio.create_task(wait("stays"))
    await asyncio.sleep(0)
    gone.cancel()
    release.set()
    await asyncio.gather(holder, stays)
    assert order == ["stays"] and gone.cancelled()
    async with asyncio.timeout(1):
        async with turns.turn():  # the slot came back: nobody holds it
            order.append("later")
    assert order == ["stays", "later"]
