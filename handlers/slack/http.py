"""aiohttp <-> bolt, two functions (after ``slack_bolt.adapter.aiohttp``), plus the route that joins them.

Ours differs from bolt's adapter in one way: the body is read as bytes and must be UTF-8, so a request with
other bytes gets a 400 instead of a decoding error (a 500) inside aiohttp's ``request.text()``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response
from slack_bolt.app.async_app import AsyncApp
from slack_bolt.request.async_request import AsyncBoltRequest


class BadSlackRequest(ValueError):
    pass


async def to_bolt_request(request: web.Request) -> AsyncBoltRequest:
    body = await request.read()
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BadSlackRequest(f"the body is not UTF-8 (byte {exc.start})") from None
    return AsyncBoltRequest(body=text, query=request.query_string, headers=dict(request.headers))


def bolt_route(bolt: AsyncApp) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    """An aiohttp handler dispatching to ``bolt`` (events, commands, interactivity, OAuth pages)."""

    async def handle(request: web.Request) -> web.StreamResponse:
        try:
            bolt_request = await to_bolt_request(request)
        except BadSlackRequest as exc:
            return web.json_response({"error": str(exc)}, status=400)
        return await to_aiohttp_response(await bolt.async_dispatch(bolt_request))

    return handle


__all__ = ["BadSlackRequest", "bolt_route", "to_aiohttp_response", "to_bolt_request"]
