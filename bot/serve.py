"""``cxbot serve``: one process, one aiohttp server, the Slack and Teams connectors mounted when configured."""

from __future__ import annotations

import logging

from aiohttp import web

from bot.app import App, build
from bot.scheduler import lifecycle
from bot.server import create_web_app
from bot.settings import Settings
from bot.startup import startup_lines

log = logging.getLogger(__name__)


def serve(settings: Settings, *, port: int) -> int:
    app = build(settings)
    web_app = server_for(app)
    for line in startup_lines(settings):
        log.info("%s", line)
    log.info("cxbot listening on port %d", port)
    web.run_app(web_app, port=port, print=None)
    app.close()
    return 0


def server_for(app: App) -> web.Application:
    """The aiohttp application ``cxbot serve`` runs: connectors mounted, scheduler and dispatcher started with it
    (bot/scheduler.py, an aiohttp cleanup_ctx)."""
    if app.settings.slack_enabled:
        from handlers.slack.wiring import mount as mount_slack

        app.extras.setdefault("mounts", []).append(mount_slack)  # type: ignore[union-attr]
    # Teams: auth on with MICROSOFT_APP_ID; without it off, or CX_TEAMS_EMULATOR=true (handlers/teams/wiring.py).
    from handlers.teams.wiring import mount as mount_teams

    app.extras.setdefault("mounts", []).append(mount_teams)  # type: ignore[union-attr]
    web_app = create_web_app(app)
    web_app.cleanup_ctx.append(lifecycle(app))
    return web_app
