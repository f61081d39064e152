"""``cxbot serve``: one process, one aiohttp server, the Slack and Teams connectors mounted when configured."""

from __future__ import annotations

import errno
import logging
import socket
import sys

from aiohttp import web

from bot.app import App, build
from bot.connectors import mount_slack, mount_teams
from bot.scheduler import dispatching, lifecycle
from bot.server import create_web_app
from bot.settings import Settings
from bot.startup import startup_lines

log = logging.getLogger(__name__)


# Python hands the interpreter lock from a busy thread to a waiting one every 5 ms by default. The core's threads
# are busy in Python (redacting a long comment: up to 0.2 s), and the event loop waits for the lock at every step
# of an ack. At 0.5 ms, acks p99 while 100,000-character comments ingest fell from 131-201 ms to 71-113 ms and
# /healthz from 96-153 ms to 28-46 ms (bench/long_comment.py, three runs each, same machine and hour); acks with
# nothing being ingested did not get slower (bench/slack_ack.py).
SWITCH_INTERVAL = 0.0005


def serve(settings: Settings, *, port: int) -> int:
    sys.setswitchinterval(SWITCH_INTERVAL)
    app = build(settings)
    try:
        listening = bind(port)  # before the scheduler and dispatcher start: a replica that cannot serve does neither
        with listening:
            web_app = server_for(app)
            for line in startup_lines(settings):
                log.info("%s", line)
            web.run_app(web_app, sock=listening, print=lambda _banner: log.info("cxbot listening on port %d", port))
    finally:
        app.close()
    return 0


def bind(port: int) -> socket.socket:
    """The server's socket on every interface (IPv4 and IPv6 where the system has both, as aiohttp binds), or one
    line naming the port and the fix when another process holds it."""
    try:
        if socket.has_dualstack_ipv6():
            return socket.create_server(("", port), family=socket.AF_INET6, dualstack_ipv6=True)
        return socket.create_server(("", port))
    except OSError as exc:
        if exc.errno != errno.EADDRINUSE:
            raise
        raise SystemExit(
            f"cxbot serve: port {port} is already in use (another cxbot serve?); stop that, or choose another port "
            "with --port N or PORT"
        ) from None


def server_for(app: App) -> web.Application:
    """The aiohttp application ``cxbot serve`` runs: connectors mounted, scheduler and dispatcher started with it
    (bot/scheduler.py, an aiohttp cleanup_ctx)."""
    if app.settings.slack_enabled:
        app.mounts.append(mount_slack)
    # Teams: auth on with MICROSOFT_APP_ID; without it off, or CX_TEAMS_EMULATOR=true (handlers/teams/wiring.py).
    app.mounts.append(mount_teams)
    web_app = create_web_app(app)
    web_app.cleanup_ctx.append(lifecycle(app))
    web_app.cleanup_ctx.append(dispatching(app))
    return web_app
