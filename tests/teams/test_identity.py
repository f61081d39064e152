"""Bot Framework's signing keys (handlers/teams/identity.py): fetched off the event loop, with a timeout, once at a
time, a failure remembered briefly; tested against a fake identity endpoint that can be slow, fail or hang."""

from __future__ import annotations

import asyncio
import shutil
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from botframework.connector.auth import AuthenticationConstants

from handlers.teams.identity import FetchOptions
from tests.fakes.bf_connector import FakeConnector
from tests.fakes.bf_identity import FakeIdentity
from tests.teams.world import Server, World
from tests.timing import GENEROUS, eventually

APP_ID = "2f1c6d3e-4b5a-4c7d-8e9f-0a1b2c3d4e5f"


@pytest.fixture
def database_url(tmp_path: Path, _sqlite_template: Path) -> str:
    """SQLite only: what is tested here happens before any SQL runs."""
    path = tmp_path / "cxbot.db"
    shutil.copy(_sqlite_template, path)
    return f"sqlite:///{path}"


@pytest.fixture
async def identity() -> AsyncIterator[FakeIdentity]:
    async with FakeIdentity() as fake:
        yield fake


async def _secured(world: World, identity: FakeIdentity, *, timeout: float = 5.0, failure_ttl: float = 30.0) -> Server:
    options = FetchOptions(
        timeout=timeout,
        failure_ttl=failure_ttl,
        redirect={AuthenticationConstants.TO_BOT_FROM_CHANNEL_OPENID_METADATA_URL: identity.metadata_url},
    )
    return await world.start(microsoft_app_id=APP_ID, microsoft_app_password="not-a-real-secret", identity=options)


async def _post_signed(cx: Server, world: World, identity: FakeIdentity, **token: str) -> tuple[int, object]:
    """An activity that needs no answer in chat (so no outbound token is needed), signed by the fake."""
    activity = world.load("message_hello_personal", type="somethingNew", id=f"f:{time.monotonic_ns()}")
    bearer = identity.token(app_id=APP_ID, service_url=activity["serviceUrl"], **token)
    return await cx.post(activity, headers={"Authorization": f"Bearer {bearer}"})


async def _healthz(cx: Server) -> int:
    async with cx.client.get(str(cx.server.make_url("/healthz"))) as response:
        return response.status


async def test_a_token_signed_with_the_published_key_is_served(
    world: World, identity: FakeIdentity, connector: FakeConnector
) -> None:
    cx = await _secured(world, identity)
    assert await _post_signed(cx, world, identity) == (200, None)
    assert await _post_signed(cx, world, identity) == (200, None)
    assert identity.fetches() == 1  # the keys are kept
    status, body = await _post_signed(cx, world, identity, kid="someone-elses-key")
    assert status == 401 and "token" in body["error"]  # type: ignore[index]


async def test_a_slow_identity_endpoint_holds_up_nothing_else(world: World, identity: FakeIdentity) -> None:
    cx = await _secured(world, identity)
    identity.held = asyncio.Event()  # the keys' fetch is answered only when the test says so
    waiting = [asyncio.create_task(_post_signed(cx, world, identity)) for _ in range(3)]
    await eventually(lambda: bool(identity.calls), what="the keys' fetch")
    assert [await _healthz(cx) for _ in range(5)] == [200] * 5  # answered while the fetch is still held
    assert not any(task.done() for task in waiting)
    identity.held.set()
    assert [await task for task in waiting] == [(200, None)] * 3
    assert identity.fetches() == 1  # three requests waited for one fetch


async def test_a_failing_identity_endpoint_is_asked_once_and_requests_get_503_at_once(
    world: World, identity: FakeIdentity, connector: FakeConnector
) -> None:
    cx = await _secured(world, identity, failure_ttl=60)
    identity.status = 502
    status, body = await _post_signed(cx, world, identity)
    assert status == 503 and "signing keys" in body["error"]  # type: ignore[index]
    identity.held = asyncio.Event()  # were the endpoint asked again, the requests would wait (never released)
    for _ in range(3):
        assert (await asyncio.wait_for(_post_signed(cx, world, identity), GENEROUS))[0] == 503
    assert identity.fetches() == 1  # the failure is remembered, not retried on every request
    assert connector.calls == []


async def test_a_hanging_identity_endpoint_times_out_and_the_server_keeps_answering(
    world: World, identity: FakeIdentity
) -> None:
    cx = await _secured(world, identity, timeout=1.0)
    identity.hang = True  # for an hour: only cxbot's own timeout (1 s) can end the wait
    waiting = asyncio.create_task(_post_signed(cx, world, identity))
    await eventually(lambda: bool(identity.calls), what="the keys' fetch")
    assert [await _healthz(cx) for _ in range(5)] == [200] * 5
    status, _ = await asyncio.wait_for(waiting, GENEROUS)
    assert status == 503


async def test_after_a_failure_the_keys_are_fetched_again_once_the_pause_is_over(
    world: World, identity: FakeIdentity
) -> None:
    cx = await _secured(world, identity, failure_ttl=0.3)
    identity.status = 500
    assert (await _post_signed(cx, world, identity))[0] == 503
    identity.status = 200
    await asyncio.sleep(0.4)
    assert (await _post_signed(cx, world, identity))[0] == 200
    assert identity.fetches() == 2
