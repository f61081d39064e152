"""One aiohttp server for everything: ``/slack/events``, ``/api/messages``, ``POST /ingest``, ``/healthz``,
``/metrics``. Routes here only translate HTTP; the work is in handlers/ and stories/."""

from __future__ import annotations

import asyncio
import hmac
import logging
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, Counter, generate_latest

from bot.app import App
from handlers.webhook import MAX_BODY, WebhookError, parse_body

log = logging.getLogger(__name__)

APP: web.AppKey[App] = web.AppKey("cxbot", App)
INGESTED = Counter("cxbot_ingest_requests_total", "POST /ingest requests by outcome", ["outcome"])

# Slack and Teams bodies are small; anything above this is refused by aiohttp with 413 before we read it.
CLIENT_MAX_SIZE = MAX_BODY + 1024


def create_web_app(app: App) -> web.Application:
    web_app = web.Application(client_max_size=CLIENT_MAX_SIZE)
    web_app[APP] = app
    web_app.cleanup_ctx.append(_core_threads(app.settings.core_threads))
    web_app.router.add_get("/healthz", healthz)
    web_app.router.add_get("/metrics", metrics)
    web_app.router.add_post("/ingest", ingest)
    for mount in app.mounts:
        mount(web_app, app)
    return web_app


def _core_threads(size: int) -> Callable[[web.Application], AsyncIterator[None]]:
    """The sync core runs in threads (``asyncio.to_thread``). Keep them few: a thread busy in Python holds the
    GIL while acks wait on the event loop, so asyncio's default six threads under load cost Slack's acks three to
    four times a bare server's p99 on PostgreSQL, one thread 1.4-2x (bench/slack_ack.py, README)."""

    async def threads(_web_app: web.Application) -> AsyncIterator[None]:
        asyncio.get_running_loop().set_default_executor(
            ThreadPoolExecutor(max_workers=size, thread_name_prefix="cxbot-core")
        )
        yield

    return threads


async def healthz(request: web.Request) -> web.Response:
    app = request.app[APP]
    try:
        await asyncio.to_thread(_ping, app)
    except Exception:
        log.exception("health check: database unreachable")
        return web.json_response({"status": "error", "database": "unreachable"}, status=503)
    return web.json_response({"status": "ok"})


def _ping(app: App) -> None:
    with app.engine.connect() as conn:
        conn.exec_driver_sql("SELECT 1")


async def metrics(_request: web.Request) -> web.Response:
    return web.Response(body=generate_latest(), headers={"Content-Type": CONTENT_TYPE_LATEST})


def _error(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status)


async def ingest(request: web.Request) -> web.Response:
    """Take comments in; answers after they are stored, so a 200 means nothing can be lost."""
    app = request.app[APP]
    token = app.settings.cx_ingest_token
    if token is None:
        INGESTED.labels("disabled").inc()
        return _error(503, "ingest is disabled: set CX_INGEST_TOKEN to enable POST /ingest")
    supplied = request.headers.get("Authorization", "")
    expected = f"Bearer {token.get_secret_value()}"
    if not hmac.compare_digest(supplied.encode(), expected.encode()):
        INGESTED.labels("unauthorised").inc()
        return web.json_response(
            {"error": "missing or wrong bearer token"}, status=401, headers={"WWW-Authenticate": "Bearer"}
        )
    if request.content_length is not None and request.content_length > MAX_BODY:
        INGESTED.labels("too_large").inc()
        return _error(413, f"body is {request.content_length} bytes; the limit is {MAX_BODY} (1 MB)")
    try:
        body = await request.read()
        comments = parse_body(body)
    except web.HTTPRequestEntityTooLarge:
        INGESTED.labels("too_large").inc()
        return _error(413, f"body is over the limit of {MAX_BODY} bytes (1 MB)")
    except WebhookError as exc:
        INGESTED.labels("bad_request").inc()
        return _error(exc.status, exc.message)
    report = await asyncio.to_thread(app.take_in, comments)
    if report.created:
        app.dispatcher.kick()
    INGESTED.labels("ok").inc()
    return web.json_response(
        {
            "received": report.received,
            "created": [
                {"story_id": c.story_id, "id": c.external_id, "departments": list(c.departments)}
                for c in report.created
            ],
            "duplicates": report.duplicates,
            "rejected": [{"index": r.index, "field": r.field, "error": r.message} for r in report.rejected],
        }
    )
