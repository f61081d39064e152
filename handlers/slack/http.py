"""aiohttp <-> bolt, two functions (after ``slack_bolt.adapter.aiohttp``), plus the route that joins them.

Ours differs from bolt's adapter in one way: a body bolt cannot parse (not UTF-8, broken JSON or form) gets a
4xx here instead of an exception inside bolt (a 500). Such a body is answered 401 if its signature is wrong,
as anything unsigned is, and 400 otherwise (bytes that are not UTF-8: always 400, since Slack signs text). Bodies over the server's limit are refused by aiohttp (413).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response
from slack_bolt.app.async_app import AsyncApp
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_sdk.signature import SignatureVerifier

log = logging.getLogger(__name__)


class BadSlackRequest(ValueError):
    def __init__(self, message: str, body: bytes, *, utf8: bool = True) -> None:
        super().__init__(message)
        self.body = body
        self.utf8 = utf8  # Slack signs UTF-8 text; other bytes are refused as they are (400), signed or not


def _signed(verifier: SignatureVerifier, body: bytes, request: web.Request) -> bool:
    try:
        return verifier.is_valid_request(body, dict(request.headers))
    except ValueError:  # a timestamp header that is not a number
        return False


async def to_bolt_request(request: web.Request) -> AsyncBoltRequest:
    body = await request.read()
    try:
        return AsyncBoltRequest(body=body.decode("utf-8"), query=request.query_string, headers=dict(request.headers))
    except UnicodeDecodeError as exc:
        raise BadSlackRequest(f"the body is not UTF-8 (byte {exc.start})", body, utf8=False) from None
    except (ValueError, TypeError, AttributeError) as exc:  # bolt parses JSON and form bodies eagerly
        raise BadSlackRequest(f"the body is not a Slack payload ({type(exc).__name__})", body) from None


def bolt_route(bolt: AsyncApp, *, signing_secret: str | None) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    """An aiohttp handler dispatching to ``bolt`` (events, commands, interactivity, OAuth pages)."""
    verifier = SignatureVerifier(signing_secret) if signing_secret else None

    async def handle(request: web.Request) -> web.StreamResponse:
        try:
            bolt_request = await to_bolt_request(request)
        except BadSlackRequest as exc:
            if exc.utf8 and verifier is not None and not _signed(verifier, exc.body, request):
                return web.json_response({"error": "invalid request signature"}, status=401)
            return web.json_response({"error": str(exc)}, status=400)
        try:
            answer = await bolt.async_dispatch(bolt_request)
        except Exception as exc:  # bolt trips over some odd payload shapes (even in its own error handling)
            log.warning("slack: bolt could not dispatch a request (%s)", type(exc).__name__, exc_info=exc)
            return web.json_response({"error": "malformed Slack payload"}, status=400)
        return await to_aiohttp_response(answer)

    return handle


__all__ = ["BadSlackRequest", "bolt_route", "to_aiohttp_response", "to_bolt_request"]
