"""Mounting Teams on the cxbot server: ``POST /api/messages`` and the Teams notifier.

``bot/serve.py`` appends :func:`mount` to ``app.extras["mounts"]``; :func:`bot.server.create_web_app` calls
it. With MICROSOFT_APP_ID set every request must carry a valid Bot Framework token. Without it the route is off
(it answers 503 naming the settings, and nothing of Teams is built) unless CX_TEAMS_EMULATOR=true asks for the
Bot Framework Emulator: then authentication is off and only a caller on this machine is served (see
:mod:`handlers.teams.endpoint`). Stories only go to Teams once a channel is linked (``cx link``), so an unused
Teams mount posts nothing.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from aiohttp import web

from handlers.teams.adapter import BotConfiguration, make_adapter
from handlers.teams.bot import CxTeamsBot
from handlers.teams.context import IN_TURN_RETRY, TeamsContext
from handlers.teams.endpoint import MessagesEndpoint
from handlers.teams.identity import FetchOptions
from handlers.teams.notifier import TeamsNotifier
from handlers.teams.retry import RetryPolicy, Sleep
from storage.conversations import SqlConversationRefs
from storage.processed import SqlProcessedEvents
from stories.commands import Commands

if TYPE_CHECKING:
    from bot.app import App

log = logging.getLogger(__name__)

ROUTE = "/api/messages"


@dataclass(frozen=True)
class Teams:
    """Everything the Teams connector built, for tests and for shutdown."""

    context: TeamsContext
    bot: CxTeamsBot
    notifier: TeamsNotifier
    endpoint: MessagesEndpoint
    auth_enabled: bool


TEAMS: web.AppKey[Teams] = web.AppKey("cxbot_teams", Teams)


def build(
    app: App,
    *,
    delivery_retry: RetryPolicy | None = None,
    reply_retry: RetryPolicy = IN_TURN_RETRY,
    sleep: Sleep = asyncio.sleep,
    clock: Callable[[], datetime] | None = None,
    identity: FetchOptions | None = None,
) -> Teams:
    """Build the Teams connector for ``app`` and register its notifier as ``app.notifiers["teams"]``.

    The commands are the app's own (``app.commands``, shared with Slack); a ``clock`` other than the wall
    clock (tests) gets commands built on it, so "by Friday" and the form's dates agree with it.
    """
    configuration = BotConfiguration.from_settings(app.settings)
    delivery_retry = delivery_retry or RetryPolicy()
    adapter = make_adapter(configuration, timeout=delivery_retry.timeout, identity=identity)
    refs = SqlConversationRefs(app.engine)
    commands = app.commands
    if clock is None:
        clock = _wall_clock
    else:
        commands = Commands(
            config=app.config,
            store=app.followups,
            outbox=app.outbox,
            intake=app.take_in,
            redactor=app.pipeline.redactor,
            clock=clock,
        )
    context = TeamsContext(
        app=app,
        commands=commands,
        followups=app.followups,
        refs=refs,
        processed=SqlProcessedEvents(app.engine),
        retry=reply_retry,
        sleep=sleep,
        clock=clock,
    )
    bot = CxTeamsBot(context)
    notifier = TeamsNotifier(
        adapter=adapter, refs=refs, app_id=configuration.APP_ID, retry=delivery_retry, sleep=sleep, clock=clock
    )
    app.notifiers[notifier.platform] = notifier
    endpoint = MessagesEndpoint(
        adapter=adapter, bot=bot, auth_enabled=configuration.auth_enabled, arrived=app.priority.arrived
    )
    return Teams(context, bot, notifier, endpoint, configuration.auth_enabled)


def _wall_clock() -> datetime:
    return datetime.now(UTC)


def make_mount(**options: object) -> Callable[[web.Application, App], None]:
    """A ``mount(web_app, app)`` for ``app.extras["mounts"]``; ``options`` go to :func:`build` (tests)."""

    def mount(web_app: web.Application, app: App) -> None:
        if not app.settings.teams_enabled:
            web_app.router.add_post(ROUTE, _off)
            log.info("Teams: %s off (no MICROSOFT_APP_ID; CX_TEAMS_EMULATOR=true serves a local Emulator)", ROUTE)
            return
        teams = build(app, **options)  # type: ignore[arg-type]
        web_app[TEAMS] = teams
        web_app.router.add_post(ROUTE, teams.endpoint.handle)
        if teams.auth_enabled:
            log.info("Teams: %s, Bot Framework authentication on", ROUTE)
        else:
            log.warning("Teams: %s with authentication OFF (no MICROSOFT_APP_ID): local Emulator only", ROUTE)

    return mount


async def _off(_request: web.Request) -> web.Response:
    return web.json_response(
        {
            "error": "Teams is off: set MICROSOFT_APP_ID and MICROSOFT_APP_PASSWORD (a registered bot), "
            "or CX_TEAMS_EMULATOR=true for a Bot Framework Emulator on this machine"
        },
        status=503,
    )


mount = make_mount()
