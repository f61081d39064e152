"""The connector answering 429, 5xx, 403, garbage or slowly: retried within bounds honouring Retry-After,
then handed back to the outbox; nothing lost, nothing posted twice."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from sqlalchemy import update

from handlers.retry_after import retry_after_seconds
from handlers.teams.retry import RetryPolicy
from storage.models import Delivery
from stories.models import IncomingComment
from tests.fakes.bf_connector import FakeConnector
from tests.teams.world import FINANCE, Server, World


async def _queued_story(world: World, cx: Server) -> None:
    """Finance linked, one story waiting in the outbox for it."""
    assert (await cx.post(world.load("message_cx_link")))[0] == 200
    comment = IncomingComment(text="The refund for my invoice never came.", source="webhook", external_id="w-faults")
    await asyncio.to_thread(cx.app.take_in, [comment])
    world.connector.calls.clear()


def _cards_posted(connector: FakeConnector) -> list:
    return [c for c in connector.calls_of("send") if c.conversation_id == FINANCE]


def _delivery(cx: Server) -> Delivery:
    [delivery] = [d for d in cx.deliveries() if d.kind == "story"]
    return delivery


def _make_due(cx: Server) -> None:
    with cx.app.engine.begin() as conn:
        conn.execute(update(Delivery).values(not_before=datetime.now(UTC) - timedelta(seconds=1)))


async def test_a_429_is_retried_after_its_retry_after(cx: Server, world: World, connector: FakeConnector) -> None:
    await _queued_story(world, cx)
    connector.queue("send", status=429, retry_after=2)
    await cx.deliver()
    assert [c.status for c in connector.calls_of("send", ok_only=False)] == [429, 201]
    assert cx.sleeps == [2.0]
    assert len(_cards_posted(connector)) == 1
    assert _delivery(cx).state == "sent"


async def test_5xx_and_unreadable_answers_back_off_then_succeed(
    cx: Server, world: World, connector: FakeConnector
) -> None:
    await _queued_story(world, cx)
    connector.queue("send", status=500)
    connector.queue("send", status=503, body=b"<html><body>Service Unavailable</body></html>")
    await cx.deliver()
    assert [c.status for c in connector.calls_of("send", ok_only=False)] == [500, 503, 201]
    assert cx.sleeps == [0.5, 1.0]  # exponential back-off
    assert _delivery(cx).state == "sent"


async def test_a_connector_that_keeps_failing_leaves_the_delivery_to_the_outbox(
    cx: Server, world: World, connector: FakeConnector
) -> None:
    await _queued_story(world, cx)
    connector.queue("send", status=500, times=3)
    await cx.deliver()
    assert len(connector.calls_of("send", ok_only=False)) == 3  # bounded: FAST allows 3 attempts
    delivery = _delivery(cx)
    assert delivery.state == "pending" and "HTTP 500" in (delivery.last_error or "")
    assert _cards_posted(connector) == []

    _make_due(cx)  # later, the connector is back: the same delivery goes out once
    await cx.deliver()
    assert len(_cards_posted(connector)) == 1
    assert _delivery(cx).state == "sent"


async def test_a_long_retry_after_is_not_waited_for_here_but_by_the_outbox(
    cx: Server, world: World, connector: FakeConnector
) -> None:
    await _queued_story(world, cx)
    connector.queue("send", status=429, retry_after=120)
    await cx.deliver()
    assert len(connector.calls_of("send", ok_only=False)) == 1
    assert cx.sleeps == []
    delivery = _delivery(cx)
    assert delivery.state == "pending"
    assert delivery.not_before >= datetime.now(UTC) + timedelta(seconds=100)


async def test_403_is_permanent(cx: Server, world: World, connector: FakeConnector) -> None:
    await _queued_story(world, cx)
    connector.queue("send", status=403)
    await cx.deliver()
    assert len(connector.calls_of("send", ok_only=False)) == 1
    assert cx.sleeps == []
    assert _delivery(cx).state == "failed"


async def test_a_slow_connector_times_out_within_bounds(world: World, connector: FakeConnector) -> None:
    cx = await world.start(retry=RetryPolicy(attempts=2, base_delay=0.1, timeout=0.2))
    await _queued_story(world, cx)
    connector.queue("send", status=503, delay=0.6, times=2)
    started = asyncio.get_running_loop().time()
    await cx.deliver()
    assert asyncio.get_running_loop().time() - started < 2.0
    delivery = _delivery(cx)
    assert delivery.state == "pending" and "unreachable" in (delivery.last_error or "")


async def test_a_channel_without_a_reference_waits_for_the_bot_to_be_added(
    cx: Server, world: World, connector: FakeConnector
) -> None:
    comment = IncomingComment(
        text="My parcel was left in the rain by the courier.", source="webhook", external_id="w-2"
    )
    await asyncio.to_thread(cx.app.take_in, [comment])  # Logistics has a configured channel, never installed
    await cx.deliver()
    assert connector.calls == []
    delivery = _delivery(cx)
    assert delivery.state == "pending" and "no Teams conversation reference" in (delivery.last_error or "")


def test_retry_after_reads_seconds_and_http_dates() -> None:
    now = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
    assert retry_after_seconds("7") == 7.0
    assert retry_after_seconds("Mon, 02 Mar 2026 10:00:30 GMT", now=now) == 30.0
    assert retry_after_seconds("-3") == 0.0
    assert retry_after_seconds("soon") is None
    assert retry_after_seconds(None) is None


async def test_an_unreachable_connector_is_retried_by_our_policy_only(
    cx: Server, world: World, connector: FakeConnector
) -> None:
    await _queued_story(world, cx)
    await connector.close()  # connection refused from now on
    started = asyncio.get_running_loop().time()
    await cx.deliver()
    assert asyncio.get_running_loop().time() - started < 1.5  # no hidden urllib3 retries with their own sleeps
    assert cx.sleeps == [0.5, 1.0]
    delivery = _delivery(cx)
    assert delivery.state == "pending" and "unreachable" in (delivery.last_error or "")
