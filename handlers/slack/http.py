"""aiohttp <-> bolt at ``POST /slack/events``: verify, answer, and let bolt run.

Two steps beyond bolt's own aiohttp adapter (its ``to_bolt_request`` / ``to_aiohttp_response``), both measured
(bench/slack_ack.py):

- The signature is checked here, with slack_sdk's ``SignatureVerifier`` (the verifier bolt uses), before the
  body is parsed: anything unsigned or stale is a 401, a signed body that is not a Slack payload a 400, never
  a 500. bolt's own check is off for HTTP, so a request waiting behind others is not refused as stale later.
- Requests whose answer is only "received" (events, slash commands, button clicks, shortcuts; cxbot answers
  them all privately later) are answered 200 at once and dispatched to bolt as background work. bolt's
  dispatch (middleware, matching, kwargs) costs several times a bare verify-and-answer, and Slack's 3 seconds
  are for the answer. Modal submissions (their answer can carry field errors) and URL verification (the
  answer carries the challenge) go through bolt before answering.

Before such an answer only what the answer needs is done: the signature, the body parsed once (JSON, or a form
read with yarl's C unquoting: 6-11 us where ``urllib.parse.parse_qsl``, which bolt uses, took 25-57 us for a slash
command or a click), and the inbox write. bolt's request (its parse again, headers and context) is built by the
background job after the answer; built before it, it was the largest part of cxbot's time per ack.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response
from slack_bolt.app.async_app import AsyncApp
from slack_bolt.context.async_context import AsyncBoltContext
from slack_bolt.request.async_internals import build_async_context
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_sdk.signature import SignatureVerifier
from yarl import URL

from handlers.slack.inbox import InboxUnavailable

log = logging.getLogger(__name__)

# Payload types answered with an empty 200 before bolt runs (what the listeners would ack anyway).
ACK_FIRST = frozenset({"event_callback", "slash_command", "block_actions", "message_action", "shortcut"})
# Clicks and shortcuts may open a modal, whose trigger_id lasts 3 seconds: their dispatch jumps the queue.
URGENT = frozenset({"block_actions", "message_action", "shortcut"})

Spawn = Callable[..., None]  # Background.spawn(coroutine, name=...)
Keep = Callable[[dict[str, Any]], Awaitable[bool | None]]
"""Stores a request before it is acknowledged (handlers/slack/kept.py): True kept, False a duplicate (already
kept: answer and drop it), None not one that is kept; raises :class:`InboxUnavailable` when it cannot."""
KEPT = "cx_kept"  # in the bolt context of an event the route kept before answering
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class BadSlackRequest(ValueError):
    def __init__(self, message: str, *, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


async def _read(request: web.Request, *, verifier: SignatureVerifier | None) -> tuple[str, dict[str, str]]:
    """The body as text and the headers, once the signature is checked."""
    body = await request.read()
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BadSlackRequest(f"the body is not UTF-8 (byte {exc.start})") from None
    headers = dict(request.headers)
    if verifier is not None and not _signed(verifier, text, headers):
        raise BadSlackRequest("invalid or stale request signature", status=401)
    return text, headers


def _bolt_request(
    text: str,
    *,
    query: str,
    headers: dict[str, str],
    context: dict[str, Any] | None = None,
    parsed: dict[str, Any] | None = None,
) -> AsyncBoltRequest:
    """bolt's request for a body; with ``parsed`` (this module's reading of it), bolt gets that reading where its own
    differs: bolt reads any form whose text contains "payload" as an interactive payload, so a slash command such as
    ``/cx story the payload failed`` came out empty and matched no listener."""
    try:
        request = AsyncBoltRequest(body=text, query=query, headers=headers, context=context)
    except (ValueError, TypeError, AttributeError, RecursionError) as exc:  # bolt parses JSON and forms eagerly
        if parsed is None:
            raise BadSlackRequest(f"the body is not a Slack payload ({type(exc).__name__})") from None
        request = AsyncBoltRequest(body="", query=query, headers=headers, context=context)
        request.raw_body = text
    if parsed is not None and request.body != parsed:
        request.body = parsed
        request.context = build_async_context(AsyncBoltContext(context or {}), parsed)
    return request


def parse_body(text: str, *, content_type: str) -> dict[str, Any]:
    """The payload as bolt reads it (``slack_bolt.request.internals.parse_body``: JSON; a form's ``payload`` field
    as JSON; else the form's fields, the last of a repeated name), or :class:`BadSlackRequest`; except that a form
    without a ``payload`` field is its fields even when its text mentions "payload" (bolt reads it as empty). Forms
    are read by yarl's unquoting (C) rather than ``parse_qsl`` (pure Python; see the module docstring)."""
    try:
        if content_type == "application/json" or text.startswith("{"):
            parsed: Any = json.loads(text)
        else:
            fields = dict(URL.build(query_string=text, encoded=True).query.items())  # items(): the last wins
            parsed = json.loads(fields["payload"]) if "payload" in fields else fields
    except (ValueError, RecursionError) as exc:
        raise BadSlackRequest(f"the body is not a Slack payload ({type(exc).__name__})") from None
    if not isinstance(parsed, dict):
        raise BadSlackRequest("the body is not a Slack payload (not an object)")
    return parsed


def _signed(verifier: SignatureVerifier, body: str, headers: dict[str, str]) -> bool:
    try:
        return verifier.is_valid_request(body, headers)
    except ValueError:  # a timestamp header that is not a number
        return False


def payload_type(body: dict[str, Any]) -> str:
    if "command" in body and "type" not in body:
        return "slash_command"
    return str(body.get("type") or "")


def ack_first(body: dict[str, Any]) -> bool:
    """Whether to answer before bolt runs: a payload of an :data:`ACK_FIRST` type with the shape bolt expects
    (anything odd goes through bolt first, so its answer, a quiet 200 or a 400, is the one Slack gets)."""
    kind = payload_type(body)
    if kind == "event_callback":
        event = body.get("event")
        return isinstance(event, dict) and isinstance(event.get("type"), str)
    if kind == "block_actions":
        actions = body.get("actions")
        return isinstance(actions, list) and bool(actions) and all(isinstance(a, dict) for a in actions)
    return kind in ACK_FIRST


def bolt_route(
    bolt: AsyncApp,
    *,
    signing_secret: str,
    spawn: Spawn,
    arrived: Callable[[], None] = lambda: None,
    keep: Keep | None = None,
) -> Handler:
    """The aiohttp handler for events, slash commands and interactivity; ``arrived`` is told of each request.

    ``keep`` stores the requests whose loss would lose data (intake messages, reactions, commands, clicks, the
    shortcut) before they are answered: Slack sends an answered request only once, so it must outlive this
    process (handlers/slack/inbox.py, handlers/slack/kept.py)."""
    verifier = SignatureVerifier(signing_secret)

    async def handle(request: web.Request) -> web.StreamResponse:
        arrived()
        if await _ssl_check(request):
            return web.Response(status=200)  # Slack checking our certificate, unsigned (bolt answers it so too)
        try:
            text, headers = await _read(request, verifier=verifier)
            body = parse_body(text, content_type=request.content_type)
        except BadSlackRequest as exc:
            return web.json_response({"error": str(exc)}, status=exc.status)
        if not ack_first(body):
            bolt_request = _bolt_request(text, query=request.query_string, headers=headers, parsed=body)
            return await _answer(bolt, bolt_request)
        context: dict[str, Any] = {}
        if keep is not None:
            try:
                kept = await keep(body)
            except InboxUnavailable:
                return web.json_response({"error": "the event could not be stored; retry"}, status=503)
            if kept is False:
                return web.Response(status=200)  # a retry of a request already kept: its work is under way
            if kept:
                context[KEPT] = True
        work = _dispatch(bolt, text, query=request.query_string, headers=headers, context=context, parsed=body)
        spawn(work, name="slack dispatch", urgent=payload_type(body) in URGENT)
        return web.Response(status=200)

    return handle


async def _ssl_check(request: web.Request) -> bool:
    if request.content_type != "application/x-www-form-urlencoded":
        return False
    body = await request.read()  # aiohttp keeps it for the next read
    if len(body) >= 1000 or b"ssl_check=" not in body:  # every slash command would be parsed twice otherwise
        return False
    return dict(parse_qsl(body.decode("utf-8", "replace"))).get("ssl_check") == "1"


async def _dispatch(
    bolt: AsyncApp, text: str, *, query: str, headers: dict[str, str], context: dict[str, Any], parsed: dict[str, Any]
) -> None:
    """bolt's turn for a request already answered (its body parsed and checked before the answer)."""
    request = _bolt_request(text, query=query, headers=headers, context=context, parsed=parsed)
    answer = await bolt.async_dispatch(request)
    if answer.status >= 400:
        log.warning("slack: bolt answered %s to a request already acknowledged", answer.status)


async def _answer(bolt: AsyncApp, request: AsyncBoltRequest) -> web.Response:
    try:
        answer = await bolt.async_dispatch(request)
    except Exception as exc:  # bolt trips over some odd payload shapes (even in its own error handling)
        log.warning("slack: bolt could not dispatch a request (%s)", type(exc).__name__, exc_info=exc)
        return web.json_response({"error": "malformed Slack payload"}, status=400)
    return await to_aiohttp_response(answer)


def oauth_route(bolt: AsyncApp, *, callback: bool) -> Handler:
    """``GET /slack/install`` (the "Add to Slack" page) or ``GET /slack/oauth_redirect`` (Slack's redirect)."""

    async def handle(request: web.Request) -> web.StreamResponse:
        flow = bolt.oauth_flow
        assert flow is not None
        bolt_request = AsyncBoltRequest(body="", query=request.query_string, headers=dict(request.headers))
        answer = await (flow.handle_callback(bolt_request) if callback else flow.handle_installation(bolt_request))
        return await to_aiohttp_response(answer)

    return handle


__all__ = ["ACK_FIRST", "BadSlackRequest", "bolt_route", "oauth_route", "parse_body", "to_aiohttp_response"]
