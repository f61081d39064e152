"""One aiohttp server for everything: ``/slack/events``, ``/api/messages``, ``POST /ingest``, ``/healthz``
(liveness), ``/readyz`` (readiness), ``/metrics``. Routes here only translate HTTP; the work is in handlers/ and stories/."""

from __future__ import annotations

import asyncio
import functools
import hmac
import logging
import os
import re
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor

from aiohttp import web
from aiohttp.web_protocol import RequestPayloadError
from prometheus_client import CONTENT_TYPE_LATEST
from sqlalchemy.exc import SQLAlchemyError

from bot.app import App
from handlers.webhook import MAX_BODY, ItemError, WebhookError, parse_body
from storage.readiness import Readiness, readiness
from stories.log_context import bound

log = logging.getLogger(__name__)

APP: web.AppKey[App] = web.AppKey("cxbot", App)
# The chat platforms' endpoints, whose answer time is the ack latency Slack (3 s) and Teams (15 s) hold us to.
ACK_ROUTES = {"/slack/events": "slack", "/api/messages": "teams"}
REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")  # a caller's X-Request-Id we keep: a plain token
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

# Slack and Teams bodies are small; anything above this is refused by aiohttp with 413 before we read it.
CLIENT_MAX_SIZE = MAX_BODY + 1024
READABLE_ENCODINGS = ("identity", "gzip", "deflate")  # what aiohttp inflates without extra packages


def create_web_app(app: App) -> web.Application:
    web_app = web.Application(client_max_size=CLIENT_MAX_SIZE, middlewares=[observed])
    web_app[APP] = app
    web_app.cleanup_ctx.append(_core_threads(app.settings.core_threads))
    web_app.router.add_get("/healthz", healthz)
    web_app.router.add_get("/readyz", readyz)
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


# /healthz pings the database in a thread of its own: in the core threads it would queue behind whatever the
# core is doing (a 100,000-character comment takes seconds to redact) and report a live server as dead.
_HEALTH_THREAD = ThreadPoolExecutor(max_workers=1, thread_name_prefix="cxbot-health")


async def healthz(request: web.Request) -> web.Response:
    app = request.app[APP]
    try:
        await asyncio.get_running_loop().run_in_executor(_HEALTH_THREAD, _ping, app)
    except Exception:
        log.exception("health check: database unreachable")
        return web.json_response({"status": "error", "database": "unreachable"}, status=503)
    return web.json_response({"status": "ok"})


async def readyz(request: web.Request) -> web.Response:
    """Readiness (storage/readiness.py): the database reachable, at the migration head, and the department rows
    this replica loaded still there as configured; 503 with the failing check and its fix otherwise. A load
    balancer sends this replica no traffic while it fails; ``/healthz`` (liveness) stays as it was."""
    app = request.app[APP]
    ready = await asyncio.get_running_loop().run_in_executor(_HEALTH_THREAD, _ready, app)
    if not ready.ok:
        log.warning("readiness: %s: %s", ready.check, ready.reason)
        return web.json_response(
            {"status": "error", "check": ready.check, "reason": ready.reason, "revision": ready.revision}, status=503
        )
    return web.json_response({"status": "ok", "revision": ready.revision})


def _ready(app: App) -> Readiness:
    return readiness(app.engine, config=app.config, departments=app.departments)


def _ping(app: App) -> None:
    with app.engine.connect() as conn:
        conn.exec_driver_sql("SELECT 1")


@web.middleware
async def observed(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Every request gets an id for its log lines (the caller's ``X-Request-Id`` when it is a plain token, else a
    new one; echoed in the answer), and the chat endpoints' answer time goes into ``cxbot_ack_seconds``."""
    given = request.headers.get("X-Request-Id", "")
    request_id = given if REQUEST_ID.fullmatch(given) else os.urandom(16).hex()  # uuid4().hex's form, 4 us less
    platform = ACK_ROUTES.get(request.path)
    started = time.perf_counter()
    try:
        with bound(request_id=request_id):
            response = await handler(request)
    finally:
        if platform is not None:
            request.app[APP].metrics.observe("cxbot_ack_seconds", time.perf_counter() - started, platform=platform)
    response.headers["X-Request-Id"] = request_id
    return response


# A scrape reads the stored-state gauges from the database: in a thread of its own, for the reason /healthz has one.
_SCRAPE_THREAD = ThreadPoolExecutor(max_workers=1, thread_name_prefix="cxbot-metrics")


async def metrics(request: web.Request) -> web.Response:
    """The App's own registry (bot/metrics.py)."""
    body = await asyncio.get_running_loop().run_in_executor(_SCRAPE_THREAD, request.app[APP].metrics.exposition)
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})


def _ingested(app: App, outcome: str) -> None:
    app.metrics.count("cxbot_ingest_requests_total", outcome=outcome)


def _error(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status)


async def ingest(request: web.Request) -> web.Response:
    """Take comments in; answers after they are stored, so a 200 means nothing accepted can be lost.

    Item by item (handlers/webhook.py): 200 when at least one item was taken in (created or a duplicate), with
    every refused item listed under ``rejected``; 400 when every item was refused, listing them all."""
    app = request.app[APP]
    token = app.settings.cx_ingest_token
    if token is None:
        _ingested(app, "disabled")
        return _error(503, "ingest is disabled: set CX_INGEST_TOKEN to enable POST /ingest")
    scheme, _, supplied = request.headers.get("Authorization", "").strip().partition(" ")
    bearer = scheme.casefold() == "bearer"  # the scheme is case-insensitive (RFC 7235): some clients send "bearer"
    if not (
        bearer and hmac.compare_digest(supplied.strip().encode(errors="replace"), token.get_secret_value().encode())
    ):
        _ingested(app, "unauthorised")
        return web.json_response(
            {"error": "missing or wrong bearer token"}, status=401, headers={"WWW-Authenticate": "Bearer"}
        )
    unsupported = _unsupported_type(request)
    if unsupported:
        _ingested(app, "unsupported_type")
        return _error(415, unsupported)
    if request.content_length is not None and request.content_length > MAX_BODY:
        _ingested(app, "too_large")
        return _error(413, f"body is {request.content_length} bytes; the limit is {MAX_BODY} (1 MB)")
    post_old = request.query.get("post_old", "false").casefold()
    if post_old not in ("true", "false", "1", "0"):
        _ingested(app, "bad_request")
        return _error(400, "query post_old: must be true or false (true posts comments older than the backfill window)")
    try:
        body = await request.read()
        batch = parse_body(body)
    except web.HTTPRequestEntityTooLarge:
        _ingested(app, "too_large")
        return _error(413, f"body is over the limit of {MAX_BODY} bytes (1 MB)")
    except RequestPayloadError:  # a body that is not what its Content-Encoding says (aiohttp cannot inflate it)
        _ingested(app, "bad_request")
        encoding = request.headers.get("Content-Encoding", "")
        answer = _error(
            400, f"the body cannot be read as Content-Encoding {encoding!r} says; send it as that, or plain"
        )
        answer.force_close()  # the rest of the body cannot be read either: no next request on this connection
        request.content.feed_eof()  # and aiohttp must not try to drain it (it would fail again, and reset)
        return answer
    except WebhookError as exc:
        _ingested(app, "bad_request")
        return _error(exc.status, exc.message)
    if not batch.comments:
        _ingested(app, "bad_request")
        first, others = batch.rejected[0].message, len(batch.rejected) - 1
        message = f"no comment taken in: {first} (and {others} more: see rejected)" if others else first
        return web.json_response({"error": message, "rejected": _listed(batch.rejected)}, status=400)
    take_in = functools.partial(app.take_in, batch.comments, post_old=post_old in ("true", "1"))
    try:
        report = await asyncio.to_thread(take_in)
    except SQLAlchemyError:  # items are keyed by source and id: the sender's retry makes nothing twice
        log.exception("ingest: the database failed")
        _ingested(app, "unavailable")
        return web.json_response(
            {"error": "the database failed; retry later, a retry makes no duplicates (GET /readyz says why)"},
            status=503,
            headers={"Retry-After": "30"},
        )
    if report.created:
        app.dispatcher.kick()
    refused = list(batch.rejected)
    for late in report.rejected:  # the pipeline's own checks, should a source-neutral rule refuse an item
        index = batch.indexes[late.index]
        refused.append(ItemError(index, late.field, f"{batch.where(index)}.{late.field}: {late.message}"))
    _ingested(app, "partial" if refused else "ok")
    return web.json_response(
        {
            "received": batch.received,
            "created": [
                {"story_id": c.story_id, "id": c.external_id, "departments": list(c.departments)}
                for c in report.created
            ],
            "duplicates": report.duplicates,
            "rejected": _listed(refused),
        }
    )


def _listed(refused: list[ItemError]) -> list[dict[str, object]]:
    return [{"index": r.index, "field": r.field, "error": r.message} for r in sorted(refused, key=lambda r: r.index)]


def _unsupported_type(request: web.Request) -> str | None:
    """Why the body's declared type is not JSON in UTF-8, or None (``application/json`` or ``application/*+json``)."""
    kind = request.content_type  # aiohttp: application/octet-stream when the header is missing
    if kind != "application/json" and not (kind.startswith("application/") and kind.endswith("+json")):
        return f"Content-Type is {kind!r}; send the comments as JSON with Content-Type: application/json"
    if request.charset and request.charset.lower().replace("-", "") != "utf8":
        return f"charset {request.charset!r} is not supported; send JSON in UTF-8"
    encoding = request.headers.get("Content-Encoding", "identity").strip().casefold() or "identity"
    if encoding not in READABLE_ENCODINGS:  # aiohttp passes an unknown one through as if it were plain
        return f"Content-Encoding {encoding!r} is not supported; send the JSON plain, gzip or deflate"
    return None
