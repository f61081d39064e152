"""A fake Slack Web API: a real aiohttp server on 127.0.0.1, port 0, that records every call.

Point ``SLACK_API_URL`` (or ``AsyncWebClient(base_url=...)``) at :attr:`FakeSlackApi.base_url`. It accepts what
Slack accepts at ``/api/<method>`` (form-encoded, JSON, or query-string parameters), checks the token (the
``Authorization: Bearer`` header or a ``token`` parameter), and answers the way Slack documents each method.
Tests then assert on :attr:`FakeSlackApi.calls` (method, headers, parsed parameters, time).

Errors are scripted per method with :meth:`FakeSlackApi.queue` (429 with Retry-After, 500, ``ok: false``, a
malformed body, a slow answer), and :meth:`FakeSlackApi.rate_limit` enforces N ``chat.postMessage`` per
channel per second, answering 429 with Retry-After when exceeded, as Slack does.

Modelled on opsdroid's ``testing/external_api.py``: a server started and stopped by the test, never a fixed
port or canned transcript.
"""

from __future__ import annotations

import asyncio
import base64
import itertools
import json
import math
import re
import socket
import time
import uuid
from collections import defaultdict, deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import yaml
from aiohttp import web

from tests.timing import GENEROUS

DEFAULT_TOKEN = "xoxb-test-token"
TEAM_ID = "T0FAKE0001"
BOT_USER_ID = "U0FAKEBOT1"
BOT_ID = "B0FAKEBOT1"


MANIFEST = Path(__file__).resolve().parents[2] / "handlers" / "slack" / "manifest.yaml"

# What Slack's method reference lists as each method's required bot scopes. A tuple of alternatives means the
# scope depends on the conversation: the one for its kind (C public, G private, D direct) is needed. Written
# from Slack's documentation, not from cxbot's own table (handlers/slack/scopes.py), which this checks.
SLACK_METHOD_SCOPES: dict[str, str | dict[str, str]] = {
    "chat.postMessage": "chat:write",
    "chat.update": "chat:write",
    "chat.delete": "chat:write",
    "chat.postEphemeral": "chat:write",
    "conversations.history": {"C": "channels:history", "G": "groups:history", "D": "im:history"},
    "conversations.replies": {"C": "channels:history", "G": "groups:history", "D": "im:history"},
    "conversations.list": "channels:read",  # types=private_channel needs groups:read as well, checked below
    "conversations.open": "im:write",
    "files.getUploadURLExternal": "files:write",
    "files.completeUploadExternal": "files:write",
    "users.info": "users:read",
    "usergroups.users.list": "usergroups:read",
    "reactions.add": "reactions:write",
    "conversations.info": {"C": "channels:read", "G": "groups:read", "D": "im:read"},
}

# App configuration tokens (apps.manifest.*) start so; Slack refuses bot and user tokens there.
CONFIG_TOKEN_PREFIX = "xoxe.xoxp-"


def manifest_bot_scopes() -> frozenset[str]:
    """The scopes an install of manifest.yaml grants the bot token (what a real workspace would give it)."""
    manifest = yaml.safe_load(MANIFEST.read_text(encoding="utf-8"))
    return frozenset(manifest["oauth_config"]["scopes"]["bot"])


_TRIGGER_ID = re.compile(r"\d+(?:\.\d+)+\.[0-9a-f]+")  # e.g. 13345224609.738474920.8088930838d88f008e0


@dataclass(frozen=True)
class Call:
    """One request the fake received."""

    method: str
    http_method: str
    headers: Mapping[str, str]
    params: Mapping[str, Any]  # query string, form fields and JSON body merged (JSON wins)
    json: Any  # the JSON body, if one was sent
    body: bytes
    at: float  # the fake's clock (time.monotonic() by default) when it arrived
    status: int = 200  # what the fake answered
    response: Mapping[str, Any] | None = None

    @property
    def blocks(self) -> list[dict[str, Any]]:
        """The ``blocks`` parameter, decoded whether it came as JSON or as a form field holding JSON."""
        blocks = self.params.get("blocks")
        if isinstance(blocks, str):
            blocks = json.loads(blocks)
        return list(blocks or [])

    @property
    def view(self) -> dict[str, Any]:
        view = self.params.get("view")
        if isinstance(view, str):
            view = json.loads(view)
        return dict(view or {})

    def payload_text(self) -> str:
        """Everything the bot sent as one string (text, blocks, view, attachments), for "never contains" checks."""
        return json.dumps(dict(self.params), ensure_ascii=False)


@dataclass
class Scripted:
    """One answer to give instead of the normal one."""

    status: int = 200
    error: str | None = None  # ok:false with this error
    retry_after: float | None = None  # Retry-After header (seconds)
    body: bytes | None = None  # a raw body (malformed answers)
    delay: float = 0.0  # seconds to wait before answering
    content_type: str = "application/json"


class FakeSlackApi:
    """The fake. Use as ``async with FakeSlackApi() as slack:`` or ``await start()`` / ``await close()``."""

    def __init__(
        self,
        *,
        tokens: Iterable[str] = (DEFAULT_TOKEN,),
        scopes: Iterable[str] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.tokens = set(tokens)
        self.clock = clock  # the fake's own clock: arrivals (Call.at) and its rate limits are on it
        # Bot scopes granted to every bot token (manifest.yaml's, as installing the app grants); per token in
        # ``token_scopes``. A call without its scope answers missing_scope with needed/provided, as Slack does.
        self.scopes = frozenset(scopes) if scopes is not None else manifest_bot_scopes()
        self.token_scopes: dict[str, frozenset[str]] = {}
        self.calls: list[Call] = []
        self.uploads: dict[str, bytes] = {}
        self.users: dict[str, dict[str, Any]] = {}  # user id -> users.info "user" object (defaults made up)
        self.usergroups: dict[str, list[str]] = {}  # user group id -> member user ids
        self.channels: dict[str, str] = {}  # channel id -> name (conversations.list; G… ids are private)
        self.oauth_clients: dict[str, str] = {}  # client id -> client secret (oauth.v2.access)
        # Several workspaces: token -> its workspace's team id, and the team of channels and users. A token then
        # sees only its own workspace, as in Slack: another's channel is channel_not_found, another's user
        # user_not_found. Tokens, channels and users not listed here are seen by every token.
        self.workspaces: dict[str, str] = {}
        self.channel_teams: dict[str, str] = {}
        self.user_teams: dict[str, str] = {}
        self.members: set[str] = set()  # channel ids the bot is a member of (conversations.info is_member)
        self.archived: set[str] = set()  # archived channel ids (is_archived; left out by exclude_archived)
        self.config_tokens: set[str] = set()  # app configuration tokens apps.manifest.create accepts
        self.apps: dict[str, dict[str, Any]] = {}  # app id -> the manifest it was created from
        self.sockets: list[web.WebSocketResponse] = []  # Socket Mode connections
        self.socket_acks: list[dict[str, Any]] = []  # what the app sent back over Socket Mode
        self.messages: dict[tuple[str, str], dict[str, Any]] = {}  # (channel, ts) -> last posted/updated message
        self._scripts: dict[str, deque[Scripted]] = defaultdict(deque)
        self._rate_limit: tuple[int, float] | None = None
        self.in_flight = 0  # Web API requests being answered now; the most at once in ``most_in_flight``
        self.most_in_flight = 0
        self.distinct_tokens_before_answer = 0  # hold chat.postMessage answers until this many tokens posted
        self._posting_tokens: set[str] = set()
        self._tokens_posted = asyncio.Event()
        self.latency = 0.0  # seconds every Web API answer takes (Slack is a network away), scripts aside
        self._posted_at: dict[str, deque[float]] = defaultdict(deque)
        self._workspace_limit: tuple[int, float] | None = None
        self._workspace_posts: deque[float] = deque()
        self._ts_counter = itertools.count(1)
        self._id_counter = itertools.count(1)
        self._dm_channels: dict[str, str] = {}
        self._handlers: dict[str, Callable[[Mapping[str, Any]], dict[str, Any]]] = {
            "api.test": lambda p: {"ok": True, "args": dict(p)},
            "auth.test": self._auth_test,
            "chat.postMessage": self._post_message,
            "chat.update": self._update,
            "chat.delete": self._delete,
            "chat.postEphemeral": self._post_ephemeral,
            "chat.getPermalink": self._permalink,
            "conversations.open": self._conversations_open,
            "users.info": self._users_info,
            "usergroups.users.list": self._usergroup_users,
            "views.open": self._view_open,
            "views.publish": self._view_publish,
            "views.update": self._view,
            "views.push": self._view_open,
            "files.getUploadURLExternal": self._upload_url,
            "files.completeUploadExternal": self._complete_upload,
            "reactions.add": lambda p: {"ok": True},
            "oauth.v2.access": self._oauth_access,
            "apps.connections.open": self._connections_open,
            "conversations.history": self._history,
            "conversations.list": self._conversations_list,
            "conversations.replies": self._replies,
            "conversations.info": self._conversations_info,
        }
        self._runner: web.AppRunner | None = None
        self._caller: str | None = None
        self.base_url = ""

    # --- life cycle -------------------------------------------------------------------------------------------

    async def start(self, *, sock: socket.socket | None = None) -> FakeSlackApi:
        """Serve on a new port, or on ``sock``: bound but not yet listening it refuses connections, so a test can
        give cxbot the address of a Slack that cannot be reached and start answering there later."""
        app = web.Application(client_max_size=10 * 1024 * 1024)
        app.router.add_route("*", "/api/{method}", self._handle)
        app.router.add_post("/upload/{file_id}", self._upload)
        app.router.add_post("/commands/{rest:.*}", self._response_url)
        app.router.add_post("/actions/{rest:.*}", self._response_url)
        app.router.add_post("/app/{rest:.*}", self._response_url)  # message shortcuts' response_url
        app.router.add_get("/socket", self._socket)  # Socket Mode (apps.connections.open hands out this URL)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site: web.BaseSite = web.SockSite(self._runner, sock) if sock else web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.origin = f"http://127.0.0.1:{port}"
        self.base_url = f"{self.origin}/api/"
        return self

    async def close(self) -> None:
        for ws in list(self.sockets):
            await ws.close()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeSlackApi:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # --- scripting ---------------------------------------------------------------------------------------------

    def queue(
        self,
        method: str,
        *,
        status: int = 200,
        error: str | None = None,
        retry_after: float | None = None,
        body: bytes | None = None,
        delay: float = 0.0,
        times: int = 1,
        content_type: str | None = None,
    ) -> None:
        """Answer the next ``times`` calls of ``method`` this way instead of normally.

        ``queue("chat.postMessage", status=429, retry_after=1)`` is a rate limit;
        ``queue(m, status=500)`` a server error; ``queue(m, error="channel_not_found")`` an ``ok: false``;
        ``queue(m, status=502, body=b"<html>...", content_type="text/plain")`` a proxy's page in front of Slack
        (``content_type`` defaults to text/html for a raw body with a 5xx status, else application/json).
        """
        if status == 429 and error is None:
            error = "ratelimited"
        if status >= 500 and error is None and body is None:
            body = b"<html><body>Internal Server Error</body></html>"
        for _ in range(times):
            self._scripts[method].append(
                Scripted(
                    status=status,
                    error=error,
                    retry_after=retry_after,
                    body=body,
                    delay=delay,
                    content_type=content_type
                    or ("text/html" if body is not None and status >= 500 else "application/json"),
                )
            )

    def rate_limit(self, per_channel: int | None, per: float = 1.0) -> None:
        """Allow at most ``per_channel`` chat.postMessage per channel in any ``per`` seconds (None: unlimited)."""
        self._rate_limit = None if per_channel is None else (per_channel, per)

    def rate_limit_workspace(self, count: int | None, per: float = 60.0) -> None:
        """Allow at most ``count`` chat.postMessage in any ``per`` seconds over all channels (None: unlimited)."""
        self._workspace_limit = None if count is None else (count, per)
        self._workspace_posts.clear()

    # --- reading what happened ---------------------------------------------------------------------------------

    def calls_to(self, method: str, *, ok_only: bool = False) -> list[Call]:
        return [
            c
            for c in self.calls
            if c.method == method and (not ok_only or (c.status == 200 and (c.response or {}).get("ok")))
        ]

    async def wait_for(
        self, method: str, *, count: int = 1, ok_only: bool = True, timeout: float = GENEROUS
    ) -> list[Call]:
        """Wait until ``count`` calls of ``method`` arrived (``ok_only``: that were answered ok)."""
        deadline = time.monotonic() + timeout
        while True:
            found = self.calls_to(method, ok_only=ok_only)
            if len(found) >= count:
                return found
            if time.monotonic() > deadline:
                seen = [(c.method, c.status, (c.response or {}).get("error")) for c in self.calls]
                raise AssertionError(f"expected {count} {method} call(s) within {timeout}s; saw {seen}")
            await asyncio.sleep(0.02)

    # --- the server --------------------------------------------------------------------------------------------

    async def _handle(self, request: web.Request) -> web.Response:
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            return await self._answer(request)
        finally:
            self.in_flight -= 1

    async def _answer(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        arrived = self.clock()
        body = await request.read()
        params: dict[str, Any] = dict(request.query)
        payload: Any = None
        content_type = request.content_type
        try:
            if content_type == "application/json" and body:
                payload = json.loads(body)
                if isinstance(payload, dict):
                    params.update(payload)
            elif content_type == "application/x-www-form-urlencoded" and body:
                params.update(parse_qsl(body.decode("utf-8"), keep_blank_values=True))
            elif content_type.startswith("multipart/"):
                form = await request.post()
                params.update({k: v for k, v in form.items() if isinstance(v, str)})
        except (ValueError, UnicodeDecodeError):
            return self._record(
                method, request, params, payload, body, arrived, 200, {"ok": False, "error": "invalid_form_data"}
            )

        scripts = self._scripts.get(method)
        if scripts:
            scripted = scripts.popleft()
            if scripted.delay:
                await asyncio.sleep(scripted.delay)
            return self._scripted(method, request, params, payload, body, arrived, scripted)

        auth = request.headers.get("Authorization", "")
        if method == "oauth.v2.access" and auth.startswith("Basic "):  # client credentials, as slack_sdk sends them
            client_id, _, secret = base64.b64decode(auth.removeprefix("Basic ")).decode().partition(":")
            params.update(client_id=client_id, client_secret=secret)
        token = self._token(request, params)
        if method.startswith("apps.manifest."):
            return self._record(method, request, params, payload, body, arrived, 200, self._config_call(token, params))
        if method not in ("oauth.v2.access", "api.test"):
            if token is None:
                return self._record(
                    method, request, params, payload, body, arrived, 200, {"ok": False, "error": "not_authed"}
                )
            if token not in self.tokens:
                return self._record(
                    method, request, params, payload, body, arrived, 200, {"ok": False, "error": "invalid_auth"}
                )

            if (missing := self._missing_scope(method, token, params)) is not None:
                return self._record(method, request, params, payload, body, arrived, 200, missing)
            if (foreign := self._foreign(method, token, params)) is not None:
                return self._record(method, request, params, payload, body, arrived, 200, foreign)

        if method == "chat.postMessage" and (self._rate_limit is not None or self._workspace_limit is not None):
            wait = self._over_rate(str(params.get("channel", "")), arrived)
            if wait:
                retry = max(1, math.ceil(wait))
                return self._record(
                    method,
                    request,
                    params,
                    payload,
                    body,
                    arrived,
                    429,
                    {"ok": False, "error": "ratelimited"},
                    headers={"Retry-After": str(retry)},
                )

        if method == "chat.postMessage" and self.distinct_tokens_before_answer and token is not None:
            self._posting_tokens.add(token)
            if len(self._posting_tokens) >= self.distinct_tokens_before_answer:
                self._tokens_posted.set()
            await asyncio.wait_for(self._tokens_posted.wait(), 120)  # every racer has posted: all go on
        if self.latency:
            await asyncio.sleep(self.latency)
        handler = self._handlers.get(method)
        self._caller = token  # whose workspace the answer describes (auth.test, conversations.list)
        answer = handler(params) if handler else {"ok": False, "error": "unknown_method"}
        return self._record(method, request, params, payload, body, arrived, 200, answer)

    def _scripted(
        self,
        method: str,
        request: web.Request,
        params: dict[str, Any],
        payload: Any,
        body: bytes,
        arrived: float,
        scripted: Scripted,
    ) -> web.Response:
        headers = {}
        if scripted.retry_after is not None:
            headers["Retry-After"] = str(scripted.retry_after).removesuffix(".0")
        if scripted.body is not None:
            self.calls.append(
                Call(method, request.method, dict(request.headers), params, payload, body, arrived, scripted.status)
            )
            return web.Response(
                status=scripted.status, body=scripted.body, headers=headers, content_type=scripted.content_type
            )
        answer = {"ok": False, "error": scripted.error or "fatal_error"}
        return self._record(method, request, params, payload, body, arrived, scripted.status, answer, headers=headers)

    def _record(
        self,
        method: str,
        request: web.Request,
        params: dict[str, Any],
        payload: Any,
        body: bytes,
        arrived: float,
        status: int,
        answer: dict[str, Any],
        *,
        headers: Mapping[str, str] | None = None,
    ) -> web.Response:
        self.calls.append(
            Call(method, request.method, dict(request.headers), params, payload, body, arrived, status, answer)
        )
        headers = dict(headers or {})
        token = self._token(request, params)
        if token in self.tokens and not token.startswith("xapp-"):  # Slack names the token's scopes on every answer
            headers["x-oauth-scopes"] = ",".join(sorted(self.token_scopes.get(token, self.scopes)))
        return web.json_response(answer, status=status, headers=headers)

    def _missing_scope(self, method: str, token: str, params: Mapping[str, Any]) -> dict[str, Any] | None:
        if token.startswith("xapp-"):  # app-level tokens: connections:write, all Socket Mode needs
            return None
        required = SLACK_METHOD_SCOPES.get(method)
        if required is None:
            return None
        if isinstance(required, dict):
            channel = str(params.get("channel") or "")
            needed = [required.get(channel[:1], required["C"])]
        else:
            needed = [required]
        if method == "conversations.list" and "private_channel" in str(params.get("types") or ""):
            needed.append("groups:read")
        granted = self.token_scopes.get(token, self.scopes)
        lacking = [scope for scope in needed if scope not in granted]
        if not lacking:
            return None
        return {
            "ok": False,
            "error": "missing_scope",
            "needed": ",".join(lacking),
            "provided": ",".join(sorted(granted)),
        }

    def _foreign(self, method: str, token: str, params: Mapping[str, Any]) -> dict[str, Any] | None:
        """Slack's answer when ``token``'s workspace does not have the channel or user the call names."""
        team = self.workspaces.get(token)
        if team is None:
            return None
        channel = str(params.get("channel") or "")
        if channel and self._team_of(channel) not in (None, team):
            return {"ok": False, "error": "channel_not_found"}
        users = [u for u in str(params.get("user") or params.get("users") or "").split(",") if u]
        if any(self.user_teams.get(u.strip()) not in (None, team) for u in users):
            return {"ok": False, "error": "user_not_found"}
        return None

    def _team_of(self, channel: str) -> str | None:
        return self.user_teams.get(channel) if channel.startswith(("U", "W")) else self.channel_teams.get(channel)

    @staticmethod
    def _token(request: web.Request, params: Mapping[str, Any]) -> str | None:
        auth = request.headers.get("Authorization", "")
        if auth.startswith("Bearer "):
            return auth.removeprefix("Bearer ").strip()
        token = params.get("token")
        return str(token) if token else None

    def _over_rate(self, channel: str, now: float) -> float:
        """Seconds until another post to ``channel`` is allowed (by the channel's and the workspace's limits); 0
        if it is allowed now (and counts it)."""
        window = self._posted_at[channel]
        count, per = self._rate_limit or (0, 1.0)
        while window and now - window[0] >= per:
            window.popleft()
        if self._rate_limit is not None and len(window) >= count:
            return per - (now - window[0])
        if self._workspace_limit is not None:
            count, per = self._workspace_limit
            while self._workspace_posts and now - self._workspace_posts[0] >= per:
                self._workspace_posts.popleft()
            if len(self._workspace_posts) >= count:
                return per - (now - self._workspace_posts[0])
            self._workspace_posts.append(now)
        window.append(now)
        return 0.0

    # --- per-method answers ------------------------------------------------------------------------------------

    def _next_ts(self) -> str:
        return f"{int(time.time())}.{next(self._ts_counter):06d}"

    def _next_id(self, prefix: str) -> str:
        return f"{prefix}0FAKE{next(self._id_counter):05d}"

    def _auth_test(self, _params: Mapping[str, Any]) -> dict[str, Any]:
        return {
            "ok": True,
            "url": "https://fake-workspace.slack.com/",
            "team": "Fake Workspace",
            "user": "cxbot",
            "team_id": self.workspaces.get(self._caller or "", TEAM_ID),
            "user_id": BOT_USER_ID,
            "bot_id": BOT_ID,
            "is_enterprise_install": False,
        }

    def _message(self, params: Mapping[str, Any], ts: str) -> dict[str, Any]:
        message: dict[str, Any] = {
            "type": "message",
            "subtype": "bot_message",
            "text": params.get("text", ""),
            "ts": ts,
            "user": BOT_USER_ID,
            "bot_id": BOT_ID,
        }
        if "blocks" in params:
            blocks = params["blocks"]
            message["blocks"] = json.loads(blocks) if isinstance(blocks, str) else blocks
        if params.get("thread_ts"):
            message["thread_ts"] = params["thread_ts"]
        if params.get("metadata"):
            metadata = params["metadata"]
            message["metadata"] = json.loads(metadata) if isinstance(metadata, str) else metadata
        return message

    def _channel_messages(self, channel: str) -> list[dict[str, Any]]:
        """Messages in ``channel``, oldest first (ts is "<seconds>.<global counter>")."""
        found = [m for (c, _), m in self.messages.items() if c == channel]
        return sorted(found, key=lambda m: tuple(int(part) for part in m["ts"].split(".")))

    def _page(self, messages: list[dict[str, Any]], params: Mapping[str, Any]) -> dict[str, Any]:
        """One page of ``messages`` as conversations.history/replies answer: limit, cursor, metadata on request."""
        oldest = float(params.get("oldest") or 0)
        messages = [m for m in messages if float(m["ts"]) >= oldest]
        if str(params.get("include_all_metadata", "")).lower() not in ("1", "true"):
            messages = [{k: v for k, v in m.items() if k != "metadata"} for m in messages]
        start = int(params.get("cursor") or 0)
        limit = int(params.get("limit") or 100)
        page = messages[start : start + limit]
        more = start + limit < len(messages)
        answer: dict[str, Any] = {"ok": True, "messages": page, "has_more": more}
        answer["response_metadata"] = {"next_cursor": str(start + limit) if more else ""}
        return answer

    def _connections_open(self, _params: Mapping[str, Any]) -> dict[str, Any]:
        return {"ok": True, "url": f"ws://127.0.0.1:{self.origin.rsplit(':', 1)[1]}/socket?ticket={uuid.uuid4()}"}

    async def _socket(self, request: web.Request) -> web.WebSocketResponse:
        """A Socket Mode connection: hello, then envelopes from :meth:`socket_send`; acks are recorded."""
        socket = web.WebSocketResponse(autoping=True)
        await socket.prepare(request)
        self.sockets.append(socket)
        await socket.send_json(
            {
                "type": "hello",
                "num_connections": 1,
                "connection_info": {"app_id": "A0FAKEAPP1"},
                "debug_info": {"host": "fake", "approximate_connection_time": 18060},
            }
        )
        try:
            async for message in socket:
                if message.type == web.WSMsgType.TEXT:
                    data = json.loads(message.data)
                    if isinstance(data, dict) and "envelope_id" in data:
                        self.socket_acks.append(data)
        finally:
            self.sockets.remove(socket)
        return socket

    async def socket_send(self, *, kind: str, payload: Mapping[str, Any], timeout: float = GENEROUS) -> str:
        """Send an envelope (``kind``: events_api, slash_commands, interactive) to the connected app; its id."""
        deadline = time.monotonic() + timeout
        while not self.sockets:
            if time.monotonic() > deadline:
                raise AssertionError("no Socket Mode connection")
            await asyncio.sleep(0.02)
        envelope_id = str(uuid.uuid4())
        envelope = {
            "envelope_id": envelope_id,
            "type": kind,
            "payload": dict(payload),
            "accepts_response_payload": kind != "events_api",
            "retry_attempt": 0,
            "retry_reason": "",
        }
        await self.sockets[-1].send_json(envelope)
        return envelope_id

    def _oauth_access(self, params: Mapping[str, Any]) -> dict[str, Any]:
        """The OAuth code exchange; ``oauth_clients`` maps client ids to secrets the fake accepts."""
        client_id, secret = params.get("client_id"), params.get("client_secret")
        if not client_id or self.oauth_clients.get(str(client_id)) != secret:
            return {"ok": False, "error": "invalid_client_id"}
        if not params.get("code"):
            return {"ok": False, "error": "invalid_code"}
        token = f"xoxb-installed-{next(self._id_counter)}"
        self.tokens.add(token)
        return {
            "ok": True,
            "app_id": "A0FAKEAPP1",
            "authed_user": {"id": "U0INSTALLER"},
            "scope": ",".join(sorted(self.scopes)),
            "token_type": "bot",
            "access_token": token,
            "bot_user_id": BOT_USER_ID,
            "team": {"id": TEAM_ID, "name": "Fake Workspace"},
            "enterprise": None,
            "is_enterprise_install": False,
        }

    def _conversations_list(self, params: Mapping[str, Any]) -> dict[str, Any]:
        """Channels of the asked ``types``, a page of ``limit`` at a time with a ``next_cursor``, as Slack pages."""
        types = set(str(params.get("types") or "public_channel").split(","))
        kinds = {"C": "public_channel", "G": "private_channel"}
        listed = [
            {"id": cid, "name": name, "is_private": cid.startswith("G")}
            for cid, name in sorted(self.channels.items())
            if kinds.get(cid[:1]) in types
            and not (cid in self.archived and str(params.get("exclude_archived")).lower() in ("1", "true"))
            and (
                self._caller not in self.workspaces
                or self.channel_teams.get(cid, self.workspaces[self._caller]) == self.workspaces[self._caller]
            )
        ]
        start = int(params.get("cursor") or 0)
        limit = int(params.get("limit") or 100)
        page = listed[start : start + limit]
        more = start + limit < len(listed)
        return {"ok": True, "channels": page, "response_metadata": {"next_cursor": str(start + limit) if more else ""}}

    def _conversations_info(self, params: Mapping[str, Any]) -> dict[str, Any]:
        """A channel the fake knows (``channels``), with ``is_member`` from ``members``, ``is_archived`` from
        ``archived``."""
        channel = str(params.get("channel", ""))
        if channel not in self.channels:
            return {"ok": False, "error": "channel_not_found"}
        return {
            "ok": True,
            "channel": {
                "id": channel,
                "name": self.channels[channel],
                "is_channel": channel.startswith("C"),
                "is_private": channel.startswith("G"),
                "is_archived": channel in self.archived,
                "is_member": channel in self.members,
            },
        }

    def _config_call(self, token: str | None, params: Mapping[str, Any]) -> dict[str, Any]:
        """apps.manifest.create: only an app configuration token; the manifest checked as Slack checks the parts
        cxbot fills in (request URLs https, a name), answering invalid_manifest with ``errors`` pointers."""
        if token is None:
            return {"ok": False, "error": "not_authed"}
        if not token.startswith(CONFIG_TOKEN_PREFIX):
            return {"ok": False, "error": "not_allowed_token_type"}
        if token not in self.config_tokens:
            return {"ok": False, "error": "invalid_auth"}
        return self._manifest_create(params)

    def _manifest_create(self, params: Mapping[str, Any]) -> dict[str, Any]:
        raw = params.get("manifest")
        try:
            manifest = json.loads(raw) if isinstance(raw, str) else raw
        except ValueError:
            manifest = None
        if not isinstance(manifest, dict):
            return {
                "ok": False,
                "error": "invalid_manifest",
                "errors": [{"message": "must be a JSON object", "pointer": "/"}],
            }
        errors = []
        if not (manifest.get("display_information") or {}).get("name"):
            errors.append({"message": "must provide a name", "pointer": "/display_information/name"})
        settings = manifest.get("settings") or {}
        urls = {
            "/settings/event_subscriptions/request_url": (settings.get("event_subscriptions") or {}).get("request_url"),
            "/settings/interactivity/request_url": (settings.get("interactivity") or {}).get("request_url"),
        }
        for index, command in enumerate((manifest.get("features") or {}).get("slash_commands") or []):
            urls[f"/features/slash_commands/{index}/url"] = command.get("url")
        for index, url in enumerate((manifest.get("oauth_config") or {}).get("redirect_urls") or []):
            urls[f"/oauth_config/redirect_urls/{index}"] = url
        for pointer, url in urls.items():
            if url is not None and not str(url).startswith("https://"):
                errors.append({"message": "must be a valid https URL", "pointer": pointer})
        if errors:
            return {"ok": False, "error": "invalid_manifest", "errors": errors}
        app_id = self._next_id("A")
        self.apps[app_id] = manifest
        client_id = f"{next(self._id_counter)}.{next(self._id_counter)}"
        scopes = ",".join((manifest.get("oauth_config") or {}).get("scopes", {}).get("bot") or [])
        return {
            "ok": True,
            "app_id": app_id,
            "credentials": {
                "client_id": client_id,
                "client_secret": uuid.uuid4().hex,
                "verification_token": uuid.uuid4().hex[:24],
                "signing_secret": uuid.uuid4().hex,
            },
            "oauth_authorize_url": f"https://slack.com/oauth/v2/authorize?client_id={client_id}&scope={scopes}",
        }

    def _history(self, params: Mapping[str, Any]) -> dict[str, Any]:
        """Top-level messages of a channel, newest first, as Slack answers."""
        channel = str(params.get("channel", ""))
        if not channel:
            return {"ok": False, "error": "channel_not_found"}
        top = [m for m in self._channel_messages(channel) if m.get("thread_ts") in (None, m["ts"])]
        return self._page(top[::-1], params)

    def _replies(self, params: Mapping[str, Any]) -> dict[str, Any]:
        """A thread: its parent, then the replies, oldest first."""
        channel, ts = str(params.get("channel", "")), str(params.get("ts", ""))
        thread = [m for m in self._channel_messages(channel) if m["ts"] == ts or m.get("thread_ts") == ts]
        if not thread:
            return {"ok": False, "error": "thread_not_found"}
        return self._page(thread, params)

    def _post_message(self, params: Mapping[str, Any]) -> dict[str, Any]:
        channel = params.get("channel")
        if not channel:
            return {"ok": False, "error": "channel_not_found"}
        if not params.get("text") and not params.get("blocks") and not params.get("attachments"):
            return {"ok": False, "error": "no_text"}
        if str(channel).startswith("U"):  # posting to a user id opens the DM, as Slack does
            user = str(channel)
            channel = self._dm_for(user)
            if user in self.user_teams:
                self.channel_teams[channel] = self.user_teams[user]
        ts = self._next_ts()
        message = self._message(params, ts)
        self.messages[(str(channel), ts)] = message
        return {"ok": True, "channel": channel, "ts": ts, "message": message}

    def _update(self, params: Mapping[str, Any]) -> dict[str, Any]:
        channel, ts = str(params.get("channel", "")), str(params.get("ts", ""))
        if (channel, ts) not in self.messages:  # as Slack: only a message that was posted can be updated
            return {"ok": False, "error": "message_not_found"}
        message = self._message(params, ts)
        self.messages[(channel, ts)] = message
        return {"ok": True, "channel": channel, "ts": ts, "text": message["text"], "message": message}

    def _delete(self, params: Mapping[str, Any]) -> dict[str, Any]:
        channel, ts = str(params.get("channel", "")), str(params.get("ts", ""))
        if self.messages.pop((channel, ts), None) is None:  # as Slack: a message already deleted is not found
            return {"ok": False, "error": "message_not_found"}
        return {"ok": True, "channel": channel, "ts": ts}

    def _post_ephemeral(self, params: Mapping[str, Any]) -> dict[str, Any]:
        if not params.get("channel"):
            return {"ok": False, "error": "channel_not_found"}
        if not params.get("user"):
            return {"ok": False, "error": "user_not_in_channel"}
        return {"ok": True, "message_ts": self._next_ts()}

    def _permalink(self, params: Mapping[str, Any]) -> dict[str, Any]:
        channel, ts = params.get("channel"), str(params.get("message_ts", ""))
        if not channel or not ts:
            return {"ok": False, "error": "message_not_found"}
        return {
            "ok": True,
            "channel": channel,
            "permalink": f"https://fake-workspace.slack.com/archives/{channel}/p{ts.replace('.', '')}",
        }

    def _dm_for(self, user: str) -> str:
        if user not in self._dm_channels:
            self._dm_channels[user] = self._next_id("D")
        return self._dm_channels[user]

    def _conversations_open(self, params: Mapping[str, Any]) -> dict[str, Any]:
        users = str(params.get("users", "")).split(",")
        users = [u.strip() for u in users if u.strip()]
        if not users:
            return {"ok": False, "error": "users_list_not_supplied"}
        channel = self._dm_for(",".join(sorted(users)))
        return {"ok": True, "channel": {"id": channel}}

    def _users_info(self, params: Mapping[str, Any]) -> dict[str, Any]:
        user = str(params.get("user", ""))
        if not user.startswith(("U", "W")):
            return {"ok": False, "error": "user_not_found"}
        info = self.users.get(user) or {
            "id": user,
            "team_id": self.user_teams.get(user, TEAM_ID),
            "name": f"user.{user.lower()}",
            "real_name": f"User {user}",
            "tz": "Europe/Berlin",
            "is_bot": False,
            "profile": {"display_name": f"User {user}", "real_name": f"User {user}"},
        }
        return {"ok": True, "user": info}

    def _usergroup_users(self, params: Mapping[str, Any]) -> dict[str, Any]:
        group = str(params.get("usergroup", ""))
        if group not in self.usergroups:
            return {"ok": False, "error": "no_such_subteam"}
        return {"ok": True, "users": list(self.usergroups[group])}

    def _view_open(self, params: Mapping[str, Any]) -> dict[str, Any]:
        """views.open/push need a trigger_id shaped as Slack issues them ("<ts>.<team>.<hex>")."""
        if not _TRIGGER_ID.fullmatch(str(params.get("trigger_id") or "")):
            return {"ok": False, "error": "invalid_trigger_id"}
        return self._view(params)

    def _view_publish(self, params: Mapping[str, Any]) -> dict[str, Any]:
        if not str(params.get("user_id") or "").startswith(("U", "W")):
            return {"ok": False, "error": "invalid_arguments"}
        return self._view(params)

    def _view(self, params: Mapping[str, Any]) -> dict[str, Any]:
        view = params.get("view")
        if isinstance(view, str):
            try:
                view = json.loads(view)
            except ValueError:
                return {"ok": False, "error": "invalid_arguments"}
        if not isinstance(view, dict) or "type" not in view:
            return {"ok": False, "error": "invalid_arguments"}
        answer = dict(view)
        answer.setdefault("id", self._next_id("V"))
        answer["team_id"] = TEAM_ID
        answer["hash"] = f"{int(time.time())}.{next(self._id_counter)}"
        return {"ok": True, "view": answer}

    def _upload_url(self, params: Mapping[str, Any]) -> dict[str, Any]:
        if not params.get("filename") or not params.get("length"):
            return {"ok": False, "error": "invalid_arguments"}
        file_id = self._next_id("F")
        return {"ok": True, "upload_url": f"{self.origin}/upload/{file_id}", "file_id": file_id}

    def _complete_upload(self, params: Mapping[str, Any]) -> dict[str, Any]:
        files = params.get("files")
        if isinstance(files, str):
            files = json.loads(files)
        if not files:
            return {"ok": False, "error": "invalid_arguments"}
        missing = [f["id"] for f in files if f.get("id") not in self.uploads]
        if missing:
            return {"ok": False, "error": "file_not_found"}
        return {
            "ok": True,
            "files": [
                {"id": f["id"], "title": f.get("title") or "", "size": len(self.uploads[f["id"]])} for f in files
            ],
        }

    def response_url(self, kind: str = "commands") -> str:
        """A response_url as Slack puts in slash command and interactivity payloads, pointing at this fake."""
        return f"{self.origin}/{kind}/{TEAM_ID}/{next(self._id_counter)}/{uuid.uuid4().hex[:24]}"

    async def _response_url(self, request: web.Request) -> web.Response:
        """Messages posted to a response_url are recorded as method ``"response_url"``.

        Slack answers a plain ``ok``; scripted errors (``queue("response_url", status=500)``) apply too.
        """
        arrived = self.clock()
        body = await request.read()
        try:
            payload = json.loads(body) if body else {}
        except ValueError:
            payload = None
        params = dict(payload) if isinstance(payload, dict) else {}
        params["url"] = str(request.url)
        scripts = self._scripts.get("response_url")
        status, text = (200, "ok") if payload is not None else (400, "invalid_payload")
        if scripts:
            scripted = scripts.popleft()
            status, text = scripted.status, scripted.error or "error"
        self.calls.append(
            Call(
                "response_url",
                request.method,
                dict(request.headers),
                params,
                payload,
                body,
                arrived,
                status,
                {"ok": status == 200},
            )
        )
        return web.Response(status=status, text=text)

    async def _upload(self, request: web.Request) -> web.Response:
        file_id = request.match_info["file_id"]
        self.uploads[file_id] = await request.read()
        return web.Response(text=f"OK - {len(self.uploads[file_id])}")
