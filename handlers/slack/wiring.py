"""The Slack connector, assembled from Settings and mounted on cxbot's one aiohttp server.

``mount(web_app, app)`` (added to ``app.extras["mounts"]`` by ``cxbot serve``) builds bolt's AsyncApp with
every listener, registers the Slack :class:`Notifier` as ``app.notifiers["slack"]``, and either serves
``POST /slack/events`` (plus the OAuth install pages when SLACK_CLIENT_ID is set) or, with SLACK_APP_TOKEN,
connects over Socket Mode when the server starts. The outbox dispatcher runs beside it.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import aiohttp
from aiohttp import web
from slack_bolt.adapter.socket_mode.aiohttp import AsyncSocketModeHandler
from slack_bolt.app.async_app import AsyncApp
from slack_bolt.error import BoltUnhandledRequestError
from slack_bolt.response import BoltResponse
from slack_sdk.web.async_client import AsyncWebClient

from handlers.slack import command, events, interactive
from handlers.slack.channels import ChannelDirectory, Workspace
from handlers.slack.client import web_client
from handlers.slack.context import SlackContext, Wake, WakingOutbox, waking_intake
from handlers.slack.http import bolt_route, oauth_route
from handlers.slack.notifier import SlackNotifier, TokenSource, no_token
from handlers.slack.oauth import INSTALL_PATH, REDIRECT_PATH, SqlInstallationStore, oauth_settings
from handlers.slack.people import People, configured_groups
from handlers.slack.replies import Permalinks
from handlers.slack.scopes import BOT_SCOPES
from handlers.slack.tasks import Background
from storage.command_store import SqlCommandStore
from storage.processed import SqlProcessedEvents
from stories.commands import Commands

if TYPE_CHECKING:
    from bot.app import App

log = logging.getLogger(__name__)

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
TOKEN_TTL = 60.0  # seconds the notifier keeps the OAuth installation's bot token


class SlackSettingsError(ValueError):
    """Slack settings that cannot work together; the message names the variable."""


@dataclass
class SlackConnector:
    bolt: AsyncApp
    context: SlackContext
    notifier: SlackNotifier
    client: AsyncWebClient
    app_token: str | None = None  # Socket Mode instead of POST /slack/events


def build(app: App) -> SlackConnector:
    """Everything Slack needs, from ``app.settings``; raises :class:`SlackSettingsError` naming the variable."""
    settings = app.settings
    signing_secret = settings.slack_signing_secret.get_secret_value() if settings.slack_signing_secret else None
    app_token = settings.slack_app_token.get_secret_value() if settings.slack_app_token else None
    if not signing_secret and not app_token:
        raise SlackSettingsError(
            "SLACK_SIGNING_SECRET is required to serve POST /slack/events (or set SLACK_APP_TOKEN)"
        )
    bot_token = settings.slack_bot_token.get_secret_value() if settings.slack_bot_token else None
    client = web_client(base_url=settings.slack_api_url, token=bot_token)
    options: dict[str, object] = {
        "client": client,
        "signing_secret": signing_secret,
        "request_verification_enabled": False,  # HTTP: checked before dispatch (handlers/slack/http.py)
        "process_before_response": True,  # listeners only ack and hand work to Background: nothing to wait for
        "raise_error_for_unhandled_request": True,  # answered quietly below, so Slack does not retry
    }
    token: TokenSource = no_token
    if settings.slack_client_id and settings.slack_client_secret:
        oauth, store = oauth_settings(
            engine=app.engine,
            client_id=settings.slack_client_id,
            client_secret=settings.slack_client_secret.get_secret_value(),
            scopes=BOT_SCOPES,
        )
        options["oauth_settings"] = oauth
        token = _installation_token(store)
    bolt = AsyncApp(**options)  # type: ignore[arg-type]
    bolt.error(_answer_error)

    channels = ChannelDirectory(config=app.config)
    wake = Wake(app.dispatcher.kick)
    outbox = WakingOutbox(app.outbox, wake)
    followups = SqlCommandStore(app.engine, app.departments)
    context = SlackContext(
        app=app,
        people=People(groups=configured_groups(app.config)),
        background=Background(processed=SqlProcessedEvents(app.engine), turn=app.priority.turn),
        followups=followups,
        commands=Commands(
            config=app.config,
            store=followups,
            outbox=outbox,
            intake=waking_intake(app, wake),
            redactor=app.pipeline.redactor,
        ),
        permalinks=Permalinks(app.outbox),
        outbox=outbox,
        wake=wake,
        channels=channels,
    )
    events.register(bolt, context)
    command.register(bolt, context)
    interactive.register(bolt, context)
    return SlackConnector(
        bolt=bolt,
        context=context,
        notifier=SlackNotifier(client=client, token=token, channels=channels),
        client=client,
        app_token=app_token,
    )


def _installation_token(store: SqlInstallationStore) -> TokenSource:
    """Each workspace's own bot token, found by enterprise and team id in the installation store (cached a
    while); with no workspace known (a DM to a user id), the newest installation's."""
    cached: dict[Workspace | None, tuple[float, str | None]] = {}

    def find(workspace: Workspace | None) -> str | None:
        if workspace is None:
            return store.latest_bot_token()
        bot = store.find_bot(
            enterprise_id=workspace.enterprise_id,
            team_id=workspace.team_id,
            is_enterprise_install=workspace.team_id is None,
        )
        if bot is None:
            log.warning("slack: no installation for workspace %s; install cxbot there", workspace)
            return None
        return bot.bot_token

    async def token(workspace: Workspace | None = None) -> str | None:
        hit = cached.get(workspace)
        if hit and hit[0] > time.monotonic() and hit[1]:
            return hit[1]
        value = await asyncio.to_thread(find, workspace)
        cached[workspace] = (time.monotonic() + TOKEN_TTL, value)
        return value

    return token


async def _answer_error(error: Exception) -> BoltResponse:
    """An event, action or command nobody listens to is acknowledged quietly (Slack would retry a 404); a
    signed payload bolt or a listener cannot make sense of (a missing or odd field) is a 400, never a 500."""
    if isinstance(error, BoltUnhandledRequestError):
        log.debug("slack: unhandled request acknowledged")
        return BoltResponse(status=200, body="")
    log.warning("slack: could not handle a request (%s)", type(error).__name__, exc_info=error)
    return BoltResponse(
        status=400, body='{"error": "malformed Slack payload"}', headers={"content-type": "application/json"}
    )


def mount(web_app: web.Application, app: App) -> None:
    """Add Slack to ``web_app`` (an ``app.extras["mounts"]`` entry)."""
    connector = build(app)
    app.notifiers["slack"] = connector.notifier
    app.extras["slack"] = connector
    if connector.app_token is None:
        secret = app.settings.slack_signing_secret
        assert secret is not None  # build() refuses HTTP mode without it
        route = bolt_route(
            connector.bolt,
            signing_secret=secret.get_secret_value(),
            spawn=connector.context.background.spawn,
            arrived=app.priority.arrived,
        )
        web_app.router.add_post(EVENTS_PATH, route)
        if connector.bolt.oauth_flow is not None:
            web_app.router.add_get(INSTALL_PATH, oauth_route(connector.bolt, callback=False))
            web_app.router.add_get(REDIRECT_PATH, oauth_route(connector.bolt, callback=True))
    web_app.cleanup_ctx.append(_running(connector, app))


def _running(connector: SlackConnector, app: App) -> Callable[[web.Application], AsyncIterator[None]]:
    async def lifecycle(_web_app: web.Application) -> AsyncIterator[None]:
        stop = asyncio.Event()
        context = connector.context
        context.wake.bind(asyncio.get_running_loop())
        context.http = connector.client.session = aiohttp.ClientSession()  # keep-alive to Slack
        await context.channels.resolve(connector.client, token=connector.notifier.token)
        dispatcher = _start_dispatcher(app, stop)
        # Everything built so far lives as long as the process: keep it out of the collector's full passes,
        # which otherwise stall the event loop (and every pending ack) for ~100 ms (bench/slack_ack.py).
        gc.collect()
        gc.freeze()
        socket = None
        if connector.app_token is not None:  # made here: slack_sdk's client needs the running loop
            socket = AsyncSocketModeHandler(connector.bolt, app_token=connector.app_token, web_client=connector.client)
            await socket.connect_async()
            log.info("slack: connected over Socket Mode")
        try:
            yield
        finally:
            if socket is not None:
                await socket.close_async()
            await context.background.close()
            stop.set()
            if dispatcher is not None:
                await dispatcher
                app.extras.pop("dispatcher_task", None)
            gc.unfreeze()
            context.wake.bind(None)
            connector.client.session = None
            await context.http.close()
            context.http = None

    return lifecycle


def _start_dispatcher(app: App, stop: asyncio.Event) -> Awaitable[None] | None:
    """Run the outbox dispatcher unless another part of the server already does (it registers the task in
    ``app.extras["dispatcher_task"]``)."""
    if app.extras.get("dispatcher_task") is not None:
        return None
    task = asyncio.get_running_loop().create_task(app.dispatcher.run_forever(stop), name="dispatcher")
    app.extras["dispatcher_task"] = task
    return task
