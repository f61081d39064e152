"""A company on Teams for the connector tests: its configuration, the people in tests/payloads/teams, and a
running cxbot server (aiohttp, port 0) whose activities carry the fake connector's serviceUrl."""

from __future__ import annotations

import asyncio
import copy
import io
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp.test_utils import TestServer
from sqlalchemy import select

from bot.app import App, build, wall_clock
from bot.connectors import mount_teams, teams_mount
from bot.server import create_web_app
from bot.settings import Settings
from handlers.teams.identity import FetchOptions
from handlers.teams.retry import RetryPolicy
from handlers.teams.wiring import TEAMS, Teams
from storage.models import Delivery
from stories.config import CxConfig, Department, Intake, People, Rule
from stories.models import IncomingComment
from tests.fakes.bf_connector import FakeConnector

PAYLOADS = Path(__file__).parent.parent / "payloads" / "teams"

TEAM = "19:3a6b2e8c1d4f4e0a9b7c5d2e1f0a8b6c@thread.tacv2"
FINANCE = "19:f1a2b3c4d5e6478f9a0b1c2d3e4f5a6b@thread.tacv2"
LOGISTICS = "19:1061571c5a0e4d2cb3a4f5e6d7c8b9a0@thread.tacv2"
INTAKE = "19:c0ffee00112233445566778899aabbcc@thread.tacv2"
BOT_ID = "28:2f1c6d3e-4b5a-4c7d-8e9f-0a1b2c3d4e5f"
CARLA = "c33aafc4-646d-4543-9d4c-abd28e4d2110"  # CX team
FIONA = "f10a7e5d-3c2b-4a19-8f6e-5d4c3b2a1908"  # manages Finance & Billing
DANA = "d4a0b1c2-d3e4-4f56-a789-0b1c2d3e4f50"  # no department
DANA_BF = "29:1dAnA5c0ff33QwErTyUiOpAsDfGhJkLzXcVbNmQwErTyUiOpAsDfGhJkLzXcVbNm12"
NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)  # a Monday

CONFIG = CxConfig(
    default_department="CX Team",
    departments=(
        Department(name="CX Team"),
        Department(name="Finance & Billing", delivery="immediate", managers=(FIONA,), timezone="Europe/London"),
        Department(name="Logistics & Delivery", delivery="immediate", teams_channel=LOGISTICS),
    ),
    rules=(
        Rule(id="money", department="Finance & Billing", keywords=("invoice", "refund")),
        Rule(id="parcels", department="Logistics & Delivery", keywords=("parcel", "courier")),
    ),
    cx_team=People(users=(CARLA,)),
    intake=Intake(teams_channels=(INTAKE,)),
)

# Retries without waiting: the waits asked for are recorded instead, so tests can check them and stay fast.
FAST = RetryPolicy(attempts=3, base_delay=0.5, max_delay=4.0, max_retry_after=10.0, timeout=5.0)


def load(name: str, connector: FakeConnector, **changes: Any) -> dict[str, Any]:
    """A payload from tests/payloads/teams with its serviceUrl pointing at ``connector``; ``changes`` are
    set at dotted paths (``value.story_id=3``, ``conversation.id=...``)."""
    activity: dict[str, Any] = json.loads((PAYLOADS / f"{name}.json").read_text())
    activity["serviceUrl"] = connector.service_url
    for path, value in changes.items():
        node = activity
        *parents, last = path.split("__")
        for part in parents:
            node = node[part]
        node[last] = copy.deepcopy(value)
    return activity


@dataclass
class Server:
    """One cxbot process: the App, its web server, and a client posting to /api/messages."""

    app: App
    server: TestServer
    client: aiohttp.ClientSession
    sleeps: list[float]

    @property
    def teams(self) -> Teams:
        return self.server.app[TEAMS]

    @property
    def url(self) -> str:
        return str(self.server.make_url("/api/messages"))

    async def post(
        self, activity: Any, *, headers: dict[str, str] | None = None, raw: bytes | None = None
    ) -> tuple[int, Any]:
        body = raw if raw is not None else json.dumps(activity).encode()
        sent_headers = {"Content-Type": "application/json", **(headers or {})}
        async with self.client.post(self.url, data=io.BytesIO(body), headers=sent_headers) as response:
            text = await response.text()
            try:
                return response.status, json.loads(text) if text else None
            except ValueError:
                return response.status, text

    async def deliver(self) -> int:
        """Send everything due in the outbox now (one dispatcher pass)."""
        return await self.app.dispatcher.run_once()

    def deliveries(self) -> list[Delivery]:
        with self.app.engine.connect() as conn:
            return list(conn.execute(select(Delivery).order_by(Delivery.id)).all())

    async def close(self) -> None:
        await self.client.close()
        await self.server.close()
        self.app.close()


@dataclass
class World:
    database_url: str
    connector: FakeConnector
    servers: list[Server] = field(default_factory=list)

    async def start(
        self,
        *,
        retry: RetryPolicy = FAST,
        as_served: bool = False,
        identity: FetchOptions | None = None,
        config: CxConfig | None = None,
        **settings: Any,
    ) -> Server:
        """A cxbot process on the test database (call again for a "restart": a new App, same database).

        Tests get a fixed clock and recorded (not slept) retry waits; ``as_served`` mounts Teams exactly as
        ``cxbot serve`` does instead. Without an app id the Emulator mode is on unless ``cx_teams_emulator``
        says otherwise; ``identity`` is how Bot Framework's signing keys are fetched (a fake identity endpoint);
        ``config``: another configuration than this module's ``CONFIG`` (read at call time, tests may patch it).
        """
        settings.setdefault("cx_teams_emulator", not settings.get("microsoft_app_id"))
        sleeps: list[float] = []

        async def sleep(seconds: float) -> None:
            sleeps.append(seconds)
            await asyncio.sleep(0)

        clock = wall_clock if as_served else lambda: NOW
        app = build(
            Settings(database_url=self.database_url, **settings), config=config or CONFIG, clock=clock
        )  # CONFIG read now: tests may patch it
        app.mounts = [
            mount_teams
            if as_served
            else teams_mount(delivery_retry=retry, reply_retry=FAST, sleep=sleep, identity=identity)
        ]
        server = TestServer(create_web_app(app), host="127.0.0.1", port=0)
        await server.start_server()
        started = Server(app, server, aiohttp.ClientSession(), sleeps)
        self.servers.append(started)
        return started

    def load(self, name: str, **changes: Any) -> dict[str, Any]:
        return load(name, self.connector, **changes)

    async def close(self) -> None:
        for server in self.servers:
            await server.close()


async def posted_story(
    world: World, cx: Server, text: str = "I was charged twice on invoice 4711; refund me."
) -> tuple[int, str]:
    """Finance linked by `cx link`, a comment taken in and its story card posted there: (story id, message id)."""
    status, _ = await cx.post(world.load("message_cx_link"))
    assert status == 200
    report = await asyncio.to_thread(
        cx.app.take_in, [IncomingComment(text=text, source="webhook", external_id=f"w-{abs(hash(text))}")]
    )
    story_id = report.created[0].story_id
    before = len(world.connector.posts())
    assert await cx.deliver() >= 1
    card = [c for c in world.connector.posts()[before:] if c.kind == "send" and c.conversation_id == FINANCE][-1]
    return story_id, str(card.response["id"])
