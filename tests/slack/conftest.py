"""Shared Slack fixtures: the fake Slack Web API, and a running cxbot server over real HTTP.

``slack`` is cxbot as ``cxbot serve`` builds it (Settings -> App -> aiohttp server with the Slack mount and
the outbox dispatcher) on 127.0.0.1, port 0, with SLACK_API_URL pointing at the fake. Tests talk to it only
by HTTP, signed as Slack signs, and look at what it sent to the fake and what it stored. It runs on SQLite
and on PostgreSQL through ``database_url``.
"""

from __future__ import annotations

import asyncio
import copy
import json
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import aiohttp
import pytest
from aiohttp.test_utils import TestServer
from sqlalchemy import func, select

from bot.app import App, build
from bot.connectors import mount_slack
from bot.pacing import unpaced
from bot.scheduler import dispatching
from bot.server import create_web_app
from bot.settings import Settings
from stories.config import CxConfig
from tests.fakes.slack_api import DEFAULT_TOKEN, FakeSlackApi
from tests.fakes.slack_signing import FORM, JSON, form_body, interactive_body, json_body, post_signed
from tests.timing import GENEROUS

PAYLOADS = Path(__file__).resolve().parents[1] / "payloads" / "slack"
SIGNING_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"

# Departments with Slack channels (immediate delivery, so a comment is posted at once), an intake channel,
# a CX team user group and a manager per kind (a user id, a user group).
CONFIG: dict[str, Any] = {
    "default_department": "Support",
    "departments": [
        {"name": "Finance", "slack_channel": "C0FINANCE1", "delivery": "immediate", "managers": ["U0MANAGER1"]},
        {"name": "Support", "slack_channel": "C0SUPPORT1", "delivery": "immediate", "manager_groups": ["S0SUPPORTM"]},
        {"name": "Product", "slack_channel": "C0PRODUCT1", "delivery": "digest"},
    ],
    "rules": [
        {"id": "billing", "department": "Finance", "keywords": ["invoice", "refund", "charged", "charge"]},
        {"id": "delivery", "department": "Support", "keywords": ["delivery", "late"]},
    ],
    "cx_team": {"users": [], "groups": ["S0CXTEAM01"]},
    "intake": {"slack_channels": ["C0INTAKE01", "G0PRIVATE1"], "link_originals": True},
    "kudos_slack_channel": "C0KUDOS001",
}


def payload(name: str) -> Any:
    """A payload fixture from tests/payloads/slack (JSON)."""
    return json.loads((PAYLOADS / name).read_text(encoding="utf-8"))


def command_fields(name: str = "command_cx_actions.txt", **changes: str) -> dict[str, str]:
    """A slash command's form fields from a fixture, with ``changes`` applied."""
    fields = dict(parse_qsl((PAYLOADS / name).read_text(encoding="utf-8"), keep_blank_values=True))
    fields.update(changes)
    return fields


def fresh_event(name: str, **event_changes: Any) -> dict[str, Any]:
    """An event fixture with a new event id (Slack gives every event its own) and ``event`` fields changed."""
    body = payload(name)
    body["event_id"] = f"Ev{time.time_ns()}"
    body["event"].update(event_changes)
    return body


@dataclass
class SlackServer:
    url: str
    app: App
    api: FakeSlackApi
    session: aiohttp.ClientSession
    secret: str = SIGNING_SECRET

    async def post(
        self,
        body: bytes,
        *,
        content_type: str,
        timestamp: int | None = None,
        headers: dict[str, str] | None = None,
        secret: str | None = None,
    ) -> tuple[int, bytes, float]:
        """POST /slack/events signed like Slack; (status, body, seconds to the answer)."""
        return await post_signed(
            self.session,
            f"{self.url}/slack/events",
            body,
            secret=secret or self.secret,
            content_type=content_type,
            timestamp=timestamp,
            headers=headers,
        )

    async def event(self, body: dict[str, Any], **kw: Any) -> tuple[int, bytes, float]:
        return await self.post(json_body(body), content_type=JSON, **kw)

    async def command(self, fields: dict[str, str], **kw: Any) -> tuple[int, bytes, float]:
        fields = {**fields, "response_url": self.api.response_url("commands")}
        return await self.post(form_body(fields), content_type=FORM, **kw)

    async def interact(self, body: dict[str, Any], **kw: Any) -> tuple[int, bytes, float]:
        body = copy.deepcopy(body)
        if body.get("response_url"):
            kind = "app" if body.get("type") == "message_action" else "actions"
            body["response_url"] = self.api.response_url(kind)
        return await self.post(interactive_body(body), content_type=FORM, **kw)

    async def settle(self, timeout: float = GENEROUS) -> None:
        """Wait until the work after the acks is done and the outbox has nothing due."""
        connector = self.app.slack
        assert connector is not None
        deadline = time.monotonic() + timeout
        while True:
            await connector.context.background.drain(timeout)
            self.app.dispatcher.kick()
            counts = await asyncio.to_thread(self.app.outbox.counts)
            if not counts.get("pending") and not counts.get("claimed"):
                await connector.context.background.drain(timeout)
                return
            if time.monotonic() > deadline:
                raise AssertionError(f"outbox did not settle: {counts}")
            await asyncio.sleep(0.02)

    def count(self, model: Any, *where: Any) -> int:
        with self.app.engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(model).where(*where)).scalar_one())


@pytest.fixture
async def slack_api() -> AsyncIterator[FakeSlackApi]:
    """The fake Slack Web API on 127.0.0.1, a fresh port per test."""
    async with FakeSlackApi() as fake:
        fake.usergroups.update({"S0CXTEAM01": ["U0CXAGENT1"], "S0SUPPORTM": ["U0SUPPORTL"]})
        yield fake


@pytest.fixture
def slack_settings(database_url: str, slack_api: FakeSlackApi) -> Callable[..., Settings]:
    def make(**overrides: Any) -> Settings:
        values: dict[str, Any] = {
            "database_url": database_url,
            "slack_bot_token": DEFAULT_TOKEN,
            "slack_signing_secret": SIGNING_SECRET,
            "slack_api_url": slack_api.base_url,
            "cx_instance": "test",
            **overrides,
        }
        return Settings(**values)

    return make


@asynccontextmanager
async def running(
    settings: Settings,
    api: FakeSlackApi,
    config: dict[str, Any] | None = None,
    *,
    prepare: Callable[[App], None] | None = None,
) -> AsyncIterator[SlackServer]:
    """cxbot built from ``settings`` (and ``config``, default :data:`CONFIG`) as ``cxbot serve`` builds it, serving
    on 127.0.0.1, port 0; ``prepare`` sees the built app before the server starts."""
    app = build(settings, config=CxConfig.model_validate(config or CONFIG))
    app.dispatcher.pacer = unpaced()  # Slack's 1 post/s per channel is the pacer's tests' business, not these
    app.mounts = [mount_slack]
    web_app = create_web_app(app)
    if prepare is not None:
        prepare(app)
    web_app.cleanup_ctx.append(dispatching(app))  # as cxbot serve runs it, without the scheduler's jobs
    server = TestServer(web_app, host="127.0.0.1", port=0)
    await server.start_server()
    async with aiohttp.ClientSession() as session:
        try:
            yield SlackServer(url=str(server.make_url("")).rstrip("/"), app=app, api=api, session=session)
        finally:
            await server.close()
            app.close()


@pytest.fixture
async def slack(slack_api: FakeSlackApi, slack_settings: Callable[..., Settings]) -> AsyncIterator[SlackServer]:
    """cxbot serving Slack (one workspace) over real HTTP, talking to the fake Web API."""
    async with running(slack_settings(), slack_api) as server:
        yield server
