"""Mounting Teams on the cxbot server: ``POST /api/messages`` and the Teams notifier.

``bot/connectors.py`` calls :func:`build` with the shared :class:`handlers.ports.Core` and :func:`mount`. With
MICROSOFT_APP_ID set every request must carry a valid Bot Framework token. Without it the route is off
(:func:`mount_off`: it answers 503 naming the settings, and nothing of Teams is built) unless
CX_TEAMS_EMULATOR=true asks for the Bot Framework Emulator: then authentication is off and only a caller on this
machine is served (see :mod:`handlers.teams.endpoint`). Stories only go to Teams once a channel is linked
(``cx link``), so an unused Teams mount posts nothing.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from dataclasses import dataclass

from aiohttp import web

from handlers.ports import ConversationRefs, Core
from handlers.teams.adapter import BotConfiguration, make_adapter
from handlers.teams.bot import CxTeamsBot
from handlers.teams.context import IN_TURN_RETRY, TeamsContext
from handlers.teams.endpoint import MessagesEndpoint
from handlers.teams.identity import FetchOptions
from handlers.teams.notifier import TeamsNotifier
from handlers.teams.retry import RetryPolicy, Sleep

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
    *,
    core: Core,
    configuration: BotConfiguration,
    refs: ConversationRefs,
    delivery_retry: RetryPolicy | None = None,
    reply_retry: RetryPolicy = IN_TURN_RETRY,
    sleep: Sleep = asyncio.sleep,
    identity: FetchOptions | None = None,
) -> Teams:
    """Build the Teams connector on the shared core (the same commands and actions as Slack)."""

    def counted(policy: RetryPolicy) -> RetryPolicy:
        return dataclasses.replace(
            policy, rate_limited=lambda: core.meter.count("cxbot_rate_limited_total", platform="teams")
        )

    delivery_retry = counted(delivery_retry or RetryPolicy())
    reply_retry = counted(reply_retry)
    adapter = make_adapter(configuration, timeout=delivery_retry.timeout, identity=identity)
    context = TeamsContext(core=core, refs=refs, retry=reply_retry, sleep=sleep)
    bot = CxTeamsBot(context)
    notifier = TeamsNotifier(
        adapter=adapter, refs=refs, app_id=configuration.APP_ID, retry=delivery_retry, sleep=sleep, clock=core.clock
    )
    endpoint = MessagesEndpoint(
        adapter=adapter, bot=bot, auth_enabled=configuration.auth_enabled, arrived=core.arrived, meter=core.meter
    )
    return Teams(context, bot, notifier, endpoint, configuration.auth_enabled)


def mount(web_app: web.Application, teams: Teams) -> None:
    """Serve ``POST /api/messages`` on ``web_app``."""
    web_app[TEAMS] = teams
    web_app.router.add_post(ROUTE, teams.endpoint.handle)
    if teams.auth_enabled:
        log.info("Teams: %s, Bot Framework authentication on", ROUTE)
    else:
        log.warning("Teams: %s with authentication OFF (no MICROSOFT_APP_ID): local Emulator only", ROUTE)


def mount_off(web_app: web.Application) -> None:
    """Teams is not configured: ``POST /api/messages`` says which settings turn it on."""
    web_app.router.add_post(ROUTE, _off)  # the start-up line "teams: off (...)" (bot/startup.py) says so once


async def _off(_request: web.Request) -> web.Response:
    return web.json_response(
        {
            "error": "Teams is off: set MICROSOFT_APP_ID and MICROSOFT_APP_PASSWORD (a registered bot), "
            "or CX_TEAMS_EMULATOR=true for a Bot Framework Emulator on this machine"
        },
        status=503,
    )
