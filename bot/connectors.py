"""The wiring between the core and the chat connectors: each is handed the one shared core and mounted.

``cxbot serve`` (bot/serve.py) adds :func:`mount_slack` (when Slack is configured) and :func:`mount_teams` to
``app.mounts``; :func:`bot.server.create_web_app` calls them. A connector gets a :class:`handlers.ports.Core`
(the same ``Commands`` and ``Actions`` for both) and the few stores only it uses; it imports neither ``bot`` nor
``storage``. Each registers its :class:`stories.ports.Notifier` for the dispatcher, which the scheduler's
lifecycle runs (bot/scheduler.py).
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from aiohttp import web

from handlers.slack import wiring as slack_wiring
from handlers.teams import wiring as teams_wiring
from handlers.teams.adapter import BotConfiguration
from handlers.teams.context import IN_TURN_RETRY
from handlers.teams.identity import FetchOptions
from handlers.teams.retry import RetryPolicy, Sleep
from storage.conversations import SqlConversationRefs
from storage.slack_users import SqlSlackUsers

if TYPE_CHECKING:
    from bot.app import App, Mount


def mount_slack(web_app: web.Application, app: App) -> None:
    """Slack on ``web_app``: ``POST /slack/events`` (or Socket Mode), its notifier registered."""
    connector = slack_wiring.build(
        core=app.core, settings=app.settings, engine=app.engine, users=SqlSlackUsers(app.engine)
    )
    app.notifiers["slack"] = connector.notifier
    app.slack = connector
    slack_wiring.mount(web_app, connector)


def teams_mount(
    *,
    delivery_retry: RetryPolicy | None = None,
    reply_retry: RetryPolicy = IN_TURN_RETRY,
    sleep: Sleep = asyncio.sleep,
    identity: FetchOptions | None = None,
) -> Mount:
    """A Teams mount; the options are the connector's retry policies, sleep and Bot Framework key fetching (tests
    record waits and use a fake identity endpoint)."""

    def mount(web_app: web.Application, app: App) -> None:
        if not app.settings.teams_enabled:
            teams_wiring.mount_off(web_app)
            return
        teams = teams_wiring.build(
            core=app.core,
            configuration=BotConfiguration.from_settings(app.settings),
            refs=SqlConversationRefs(app.engine),
            delivery_retry=delivery_retry,
            reply_retry=reply_retry,
            sleep=sleep,
            identity=identity,
        )
        app.notifiers[teams.notifier.platform] = teams.notifier
        app.teams = teams
        teams_wiring.mount(web_app, teams)

    return mount


def connect_notifiers(app: App) -> tuple[str, ...]:
    """Register the notifiers of the platforms configured in Settings (without serving HTTP); returns them."""
    if app.settings.slack_enabled and "slack" not in app.notifiers:
        app.notifiers["slack"] = slack_wiring.build(
            core=app.core, settings=app.settings, engine=app.engine, users=SqlSlackUsers(app.engine)
        ).notifier
    if app.settings.microsoft_app_id and "teams" not in app.notifiers:
        teams = teams_wiring.build(
            core=app.core,
            configuration=BotConfiguration.from_settings(app.settings),
            refs=SqlConversationRefs(app.engine),
        )
        app.notifiers[teams.notifier.platform] = teams.notifier
    return tuple(sorted(app.notifiers))


mount_teams = teams_mount()
"""Teams on ``web_app``: ``POST /api/messages``, its notifier registered (auth off without MICROSOFT_APP_ID)."""
