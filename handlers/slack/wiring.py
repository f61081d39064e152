"""The Slack connector, assembled from what the wiring hands it and mounted on cxbot's one aiohttp server.

:func:`build` makes bolt's AsyncApp with every listener on the shared :class:`handlers.ports.Core` and the Slack
:class:`Notifier`; :func:`mount` either serves ``POST /slack/events`` (plus the OAuth install pages when
SLACK_CLIENT_ID is set) or, with SLACK_APP_TOKEN, connects over Socket Mode when the server starts.
``bot/connectors.py`` calls both and registers the notifier; the scheduler runs the dispatcher.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

import aiohttp
from aiohttp import web
from pydantic import SecretStr
from slack_bolt.adapter.socket_mode.aiohttp import AsyncSocketModeHandler
from slack_bolt.app.async_app import AsyncApp
from slack_bolt.context.async_context import AsyncBoltContext
from slack_bolt.error import BoltUnhandledRequestError
from slack_bolt.logger.messages import warning_client_prioritized_and_token_skipped
from slack_bolt.response import BoltResponse
from slack_sdk.socket_mode.aiohttp import SocketModeClient
from slack_sdk.socket_mode.request import SocketModeRequest
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy import Engine

from handlers.ports import Core
from handlers.slack import command, events, interactive, kept
from handlers.slack.channels import ChannelDirectory, Workspace
from handlers.slack.client import web_client
from handlers.slack.context import SlackContext
from handlers.slack.http import bolt_route, oauth_route
from handlers.slack.inbox import InboxUnavailable, replaying
from handlers.slack.notifier import SlackNotifier
from handlers.slack.oauth import INSTALL_PATH, REDIRECT_PATH, oauth_settings
from handlers.slack.people import People, configured_groups
from handlers.slack.replies import Permalinks
from handlers.slack.scopes import BOT_SCOPES
from handlers.slack.tasks import Background
from handlers.slack.workspaces import UserWorkspaces, Workspaces
from stories.meter import NO_METER, Meter

log = logging.getLogger(__name__)


class _QuietToken(logging.Filter):
    """Bolt reads SLACK_BOT_TOKEN from the environment by itself, and warns on every start that the client we give
    it wins over that token: true, meant, and a WARNING every Docker start shows the admin. Only that line goes."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.getMessage() != warning_client_prioritized_and_token_skipped()


logging.getLogger("slack_bolt.AsyncApp").addFilter(_QuietToken())

EVENTS_PATH = "/slack/events"
# Everything bolt listens to, by kind; tests/slack/test_manifest.py checks it against the registered listeners
# and manifest.yaml, both ways.
LISTENERS: dict[str, tuple[str, ...]] = {
    "events": events.EVENTS,
    "commands": (command.COMMAND,),
    "shortcuts": interactive.SHORTCUTS,
    "actions": interactive.ACTIONS,
    "views": interactive.VIEWS,
}


class SlackSettings(Protocol):
    """The SLACK_* settings the connector reads (bot.settings.Settings has them)."""

    slack_signing_secret: SecretStr | None
    slack_app_token: SecretStr | None
    slack_bot_token: SecretStr | None
    slack_api_url: str | None
    slack_client_id: str | None
    slack_client_secret: SecretStr | None


class SlackSettingsError(ValueError):
    """Slack settings that cannot work together; the message names the variable."""


@dataclass
class SlackConnector:
    bolt: AsyncApp
    context: SlackContext
    notifier: SlackNotifier
    client: AsyncWebClient
    signing_secret: str | None = None  # POST /slack/events
    app_token: str | None = None  # Socket Mode instead of POST /slack/events


def build(
    *, core: Core, settings: SlackSettings, engine: Engine, users: UserWorkspaces | None = None
) -> SlackConnector:
    """Everything Slack needs; raises :class:`SlackSettingsError` naming the variable. ``engine`` holds the
    OAuth installations (slack_sdk's own SQLAlchemy store) when SLACK_CLIENT_ID is set; ``users`` remembers
    which workspace each user is in (direct messages under OAuth)."""
    signing_secret = settings.slack_signing_secret.get_secret_value() if settings.slack_signing_secret else None
    app_token = settings.slack_app_token.get_secret_value() if settings.slack_app_token else None
    if not signing_secret and not app_token:
        raise SlackSettingsError(
            "SLACK_SIGNING_SECRET is required to serve POST /slack/events (or set SLACK_APP_TOKEN)"
        )
    bot_token = settings.slack_bot_token.get_secret_value() if settings.slack_bot_token else None
    client = web_client(
        base_url=settings.slack_api_url,
        token=bot_token,
        rate_limited=lambda: core.meter.count("cxbot_rate_limited_total", platform="slack"),
    )
    options: dict[str, object] = {
        "client": client,
        "signing_secret": signing_secret,
        "request_verification_enabled": False,  # HTTP: checked before dispatch (handlers/slack/http.py)
        "process_before_response": True,  # listeners only ack and hand work to Background: nothing to wait for
        "raise_error_for_unhandled_request": True,  # answered quietly below, so Slack does not retry
    }
    background = Background(processed=core.processed, inbox=core.inbox, turn=core.turn)
    workspaces = Workspaces()
    if settings.slack_client_id and settings.slack_client_secret:
        oauth, store = oauth_settings(
            engine=engine,
            client_id=settings.slack_client_id,
            client_secret=settings.slack_client_secret.get_secret_value(),
            scopes=BOT_SCOPES,
        )
        options["oauth_settings"] = oauth
        workspaces = Workspaces(
            store=store, users=users, spawn=lambda work: background.spawn(work, name="slack user workspace")
        )
    bolt = AsyncApp(**options)  # type: ignore[arg-type]  # (bolt reads SLACK_BOT_TOKEN itself: _QuietToken)
    bolt.error(_answer_error)
    bolt.middleware(_sightings(workspaces))

    channels = ChannelDirectory(config=core.config)
    context = SlackContext(
        core=core,
        people=People(groups=configured_groups(core.config)),
        background=background,
        permalinks=Permalinks(core.messages),
        channels=channels,
    )
    events.register(bolt, context)
    command.register(bolt, context)
    interactive.register(bolt, context)
    return SlackConnector(
        bolt=bolt,
        context=context,
        notifier=SlackNotifier(client=client, workspaces=workspaces, channels=channels),
        client=client,
        signing_secret=signing_secret,
        app_token=app_token,
    )


def _sightings(workspaces: Workspaces) -> Callable[..., Awaitable[Any]]:
    """Bolt middleware: each request says which workspace its user is in (remembered for direct messages)."""

    async def middleware(context: AsyncBoltContext, next: Callable[[], Awaitable[Any]]) -> Any:
        workspaces.seen(user_id=context.user_id, enterprise_id=context.enterprise_id, team_id=context.team_id)
        return await next()

    return middleware


def _client_for(connector: SlackConnector) -> events.ClientFor:
    """The client a replayed event's work uses: its workspace's installation token under OAuth, else the bot's."""

    async def client_for(body: Mapping[str, Any]) -> AsyncWebClient:
        team = body.get("team_id") or (body.get("team") or {}).get("id")  # events and commands; interactions
        enterprise = body.get("enterprise_id") or (body.get("enterprise") or {}).get("id")
        workspace = Workspace(enterprise_id=enterprise, team_id=team)
        token = await connector.notifier.token(workspace)
        if token is None:
            return connector.client
        own = web_client(base_url=connector.client.base_url, token=token)
        own.session = connector.client.session
        return own

    return client_for


async def _answer_error(error: Exception) -> BoltResponse:
    """An event, action or command nobody listens to is acknowledged quietly (Slack would retry a 404); a
    signed payload bolt or a listener cannot make sense of (a missing or odd field) is a 400, never a 500."""
    if isinstance(error, BoltUnhandledRequestError):
        log.debug("slack: unhandled request acknowledged")
        return BoltResponse(status=200, body="")
    if isinstance(error, InboxUnavailable):  # not acknowledged: Slack sends the event again
        return BoltResponse(
            status=503,
            body='{"error": "the event could not be stored; retry"}',
            headers={"content-type": "application/json"},
        )
    log.warning("slack: could not handle a request (%s)", type(error).__name__, exc_info=error)
    return BoltResponse(
        status=400, body='{"error": "malformed Slack payload"}', headers={"content-type": "application/json"}
    )


class TimedSocketModeHandler(AsyncSocketModeHandler):
    """bolt's Socket Mode handler, each answer's time in ``cxbot_ack_seconds`` as an HTTP answer's is (bot/server.py):
    from the envelope's arrival to the acknowledgement sent back on the socket."""

    meter: Meter = NO_METER  # the app's, set once made

    async def handle(self, client: SocketModeClient, req: SocketModeRequest) -> None:  # type: ignore[override]
        started = time.perf_counter()
        await super().handle(client, req)
        self.meter.observe("cxbot_ack_seconds", time.perf_counter() - started, platform="slack")


def mount(web_app: web.Application, connector: SlackConnector) -> None:
    """Serve ``connector`` on ``web_app``: its routes (HTTP mode) and its life (Socket Mode, the HTTP session)."""
    if connector.app_token is None:
        assert connector.signing_secret is not None  # build() refuses HTTP mode without it
        route = bolt_route(
            connector.bolt,
            signing_secret=connector.signing_secret,
            spawn=connector.context.background.spawn,
            arrived=connector.context.core.arrived,
            keep=kept.keeper(connector.context),
        )
        web_app.router.add_post(EVENTS_PATH, route)
        if connector.bolt.oauth_flow is not None:
            web_app.router.add_get(INSTALL_PATH, oauth_route(connector.bolt, callback=False))
            web_app.router.add_get(REDIRECT_PATH, oauth_route(connector.bolt, callback=True))
    web_app.cleanup_ctx.append(_running(connector))


def _running(connector: SlackConnector) -> Callable[[web.Application], AsyncIterator[None]]:
    async def lifecycle(_web_app: web.Application) -> AsyncIterator[None]:
        context = connector.context
        context.http = connector.client.session = aiohttp.ClientSession()  # keep-alive to Slack
        await context.channels.resolve(
            connector.client, token=connector.notifier.token, installed=await connector.notifier.installed()
        )
        # Everything built so far lives as long as the process: keep it out of the collector's full passes,
        # which otherwise stall the event loop (and every pending ack) for ~100 ms (bench/slack_ack.py).
        gc.collect()
        gc.freeze()
        socket = None
        if connector.app_token is not None:  # made here: slack_sdk's client needs the running loop
            socket = TimedSocketModeHandler(connector.bolt, app_token=connector.app_token, web_client=connector.client)
            socket.meter = context.core.meter
            await socket.connect_async()
            log.info("slack: connected over Socket Mode")
        replays = asyncio.get_running_loop().create_task(
            replaying(context, interactive.replay_work(context, _client_for(connector))), name="slack inbox replay"
        )
        lookups = asyncio.get_running_loop().create_task(  # names not found at start: until they are
            context.channels.keep_resolving(
                connector.client, token=connector.notifier.token, installed=connector.notifier.installed
            ),
            name="slack channel names",
        )
        try:
            yield
        finally:
            for task in (replays, lookups):
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            if socket is not None:
                await socket.close_async()
            await context.background.close()
            closing = getattr(context.core.inbox, "aclose", None)  # the connection of its writes on this loop
            if closing is not None:
                await closing()
            gc.unfreeze()
            connector.client.session = None
            await context.http.close()
            context.http = None

    return lifecycle
