"""A fake Bot Framework connector service (what Teams' ``serviceUrl`` points at): a real aiohttp server on
127.0.0.1, port 0, that records every call.

Put :attr:`FakeConnector.service_url` in an activity's ``serviceUrl`` and botbuilder's ConnectorClient talks
to it: ``POST /v3/conversations/{id}/activities`` (send; a channel thread is ``{channel};messageid={root}``),
``POST .../activities/{activityId}`` (reply), ``PUT .../activities/{activityId}`` (update), ``POST
/v3/conversations`` (create a personal conversation) and ``GET /v3/conversations/{id}/members/{userId}`` (what
``TeamsInfo.get_member`` asks; in a team, ``{id}`` is the team's id: ``TeamsInfo.get_team_member``), answered as a
``TeamsChannelAccount`` with ``userPrincipalName``, ``email`` and ``userRole``. Tests assert on
:attr:`FakeConnector.calls`.

Errors are scripted with :meth:`FakeConnector.queue`: 429 with Retry-After, 500, 403/404, a malformed body or a
slow answer, for the next N calls of one kind. Modelled on opsdroid's ``testing/external_api.py``.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from collections import defaultdict, deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from aiohttp import web

from tests.timing import GENEROUS

Kind = Literal["send", "reply", "update", "delete", "create", "member"]
ANY = "*"


@dataclass(frozen=True)
class Call:
    """One request the fake received and what it answered."""

    kind: str
    http_method: str
    path: str
    conversation_id: str | None
    activity_id: str | None
    headers: Mapping[str, str]
    json: Any
    at: float
    status: int = 200
    response: Any = None  # what the fake answered (JSON)

    @property
    def channel(self) -> str | None:
        """The conversation without the ``;messageid=`` thread suffix."""
        return self.conversation_id.split(";messageid=")[0] if self.conversation_id else None

    @property
    def thread(self) -> str | None:
        """The thread root message id when the call went to ``{channel};messageid={root}``."""
        if self.conversation_id and ";messageid=" in self.conversation_id:
            return self.conversation_id.split(";messageid=", 1)[1]
        return None

    @property
    def cards(self) -> list[dict[str, Any]]:
        """Adaptive Cards attached to the activity sent."""
        body = self.json if isinstance(self.json, dict) else {}
        if self.kind == "create":
            body = body.get("activity") or {}
        return [
            a.get("content") or {}
            for a in body.get("attachments") or []
            if a.get("contentType") == "application/vnd.microsoft.card.adaptive"
        ]

    @property
    def text(self) -> str:
        body = self.json if isinstance(self.json, dict) else {}
        if self.kind == "create":
            body = body.get("activity") or {}
        return str(body.get("text") or "")

    def payload_text(self) -> str:
        return json.dumps(self.json, ensure_ascii=False)


@dataclass
class Scripted:
    status: int
    retry_after: str | None = None
    body: bytes | None = None
    delay: float = 0.0


@dataclass
class Member:
    """A user as ``GET .../members/{id}`` describes them (a ``TeamsChannelAccount``)."""

    id: str
    name: str
    aad_object_id: str
    extra: dict[str, Any] = field(default_factory=dict)
    user_principal_name: str | None = None
    email: str | None = None
    user_role: str = "user"  # "user", "guest"; "owner" where Teams says so
    teams: frozenset[str] | None = None  # the team rosters they are in (None: every conversation's)


class FakeConnector:
    """Use as ``async with FakeConnector() as connector:``."""

    def __init__(self) -> None:
        self.calls: list[Call] = []
        self.messages: dict[tuple[str, str], dict[str, Any]] = {}  # (conversation, id) -> last activity
        self.members: dict[str, Member] = {}
        self.page_size = 2  # roster entries per pagedmembers page (Teams: up to 500)
        self._scripts: dict[str, deque[Scripted]] = defaultdict(deque)
        self._ids = itertools.count(1_700_000_000_001)
        self._conversations = itertools.count(1)
        self._runner: web.AppRunner | None = None
        self.service_url = ""

    async def start(self) -> FakeConnector:
        app = web.Application(client_max_size=4 * 1024 * 1024)
        app.router.add_post("/v3/conversations", self._create)
        app.router.add_post("/v3/conversations/{conversation}/activities", self._send)
        app.router.add_post("/v3/conversations/{conversation}/activities/{activity}", self._reply)
        app.router.add_put("/v3/conversations/{conversation}/activities/{activity}", self._update)
        app.router.add_delete("/v3/conversations/{conversation}/activities/{activity}", self._delete)
        app.router.add_get("/v3/conversations/{conversation}/members/{member}", self._member)
        app.router.add_get("/v3/conversations/{conversation}/pagedmembers", self._paged_members)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.service_url = f"http://127.0.0.1:{port}/"
        return self

    async def close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeConnector:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # --- scripting ---------------------------------------------------------------------------------------------

    def queue(
        self,
        kind: Kind | Literal["*"] = ANY,
        *,
        status: int,
        retry_after: str | float | None = None,
        body: bytes | None = None,
        delay: float = 0.0,
        times: int = 1,
    ) -> None:
        """Answer the next ``times`` calls of ``kind`` (``"*"``: any) with ``status`` instead of normally."""
        after = None if retry_after is None else str(retry_after).removesuffix(".0")
        for _ in range(times):
            self._scripts[kind].append(Scripted(status, after, body, delay))

    def add_member(
        self,
        *,
        id: str,
        name: str,
        aad_object_id: str,
        upn: str | None = None,
        role: str = "user",
        teams: frozenset[str] | None = None,
    ) -> None:
        """A person the roster knows: by their ``29:`` id or their Entra object id, as the real service does.
        ``teams``: the only conversations (team ids) whose roster lists them."""
        member = Member(id, name, aad_object_id, user_principal_name=upn, email=upn, user_role=role, teams=teams)
        self.members[id] = member
        self.members[aad_object_id] = member

    # --- reading what happened ---------------------------------------------------------------------------------

    def calls_of(self, kind: str, *, ok_only: bool = True) -> list[Call]:
        return [c for c in self.calls if c.kind == kind and (not ok_only or 200 <= c.status < 300)]

    def posts(self) -> list[Call]:
        """Everything the bot said, in order: sends, replies and created conversations' first messages."""
        return [c for c in self.calls if c.kind in ("send", "reply", "create") and 200 <= c.status < 300]

    async def wait_for(self, kind: str, *, count: int = 1, timeout: float = GENEROUS) -> list[Call]:
        deadline = time.monotonic() + timeout
        while True:
            found = self.calls_of(kind)
            if len(found) >= count:
                return found
            if time.monotonic() > deadline:
                seen = [(c.kind, c.status, c.conversation_id) for c in self.calls]
                raise AssertionError(f"expected {count} {kind} call(s) within {timeout}s; saw {seen}")
            await asyncio.sleep(0.02)

    # --- the server --------------------------------------------------------------------------------------------

    async def _scripted(self, kind: str) -> Scripted | None:
        for key in (kind, ANY):
            if self._scripts.get(key):
                scripted = self._scripts[key].popleft()
                if scripted.delay:
                    await asyncio.sleep(scripted.delay)
                return scripted
        return None

    async def _answer(
        self, request: web.Request, kind: str, make: Any, *, activity: str | None = None
    ) -> web.StreamResponse:
        arrived = time.monotonic()
        raw = await request.read()
        try:
            payload = json.loads(raw) if raw else None
        except ValueError:
            payload = None
        conversation = request.match_info.get("conversation")
        activity = activity or request.match_info.get("activity")

        def record(status: int, answer: Any = None) -> None:
            self.calls.append(
                Call(
                    kind,
                    request.method,
                    request.path,
                    conversation,
                    activity,
                    dict(request.headers),
                    payload,
                    arrived,
                    status,
                    answer,
                )
            )

        scripted = await self._scripted(kind)
        if scripted is not None:
            record(scripted.status)
            headers = {"Retry-After": scripted.retry_after} if scripted.retry_after is not None else {}
            if scripted.body is not None:
                return web.Response(status=scripted.status, body=scripted.body, headers=headers)
            error = {"error": {"code": _CODES.get(scripted.status, "ServiceError"), "message": "scripted by the test"}}
            return web.json_response(error, status=scripted.status, headers=headers)
        if kind not in ("member", "pagedmembers", "delete") and not isinstance(
            payload, dict
        ):  # GET and DELETE carry no body
            record(400)
            return web.json_response({"error": {"code": "BadArgument", "message": "no activity"}}, status=400)
        status, answer = make(conversation, activity, payload)
        record(status, answer)
        return web.json_response(answer, status=status)

    def _store(self, conversation: str, activity_id: str, payload: dict[str, Any]) -> None:
        self.messages[(conversation.split(";messageid=")[0], activity_id)] = payload

    async def _send(self, request: web.Request) -> web.StreamResponse:
        def make(conversation: str, _activity: str | None, payload: dict[str, Any]) -> tuple[int, dict[str, Any]]:
            new = str(next(self._ids))
            self._store(conversation, new, payload)
            return 201, {"id": new}

        return await self._answer(request, "send", make)

    async def _reply(self, request: web.Request) -> web.StreamResponse:
        def make(conversation: str, _activity: str | None, payload: dict[str, Any]) -> tuple[int, dict[str, Any]]:
            new = str(next(self._ids))
            self._store(conversation, new, payload)
            return 201, {"id": new}

        return await self._answer(request, "reply", make)

    async def _update(self, request: web.Request) -> web.StreamResponse:
        def make(conversation: str, activity: str, payload: dict[str, Any]) -> tuple[int, dict[str, Any]]:
            if (conversation.split(";messageid=")[0], activity) not in self.messages:
                return 404, {"error": {"code": "NotFound", "message": "unknown activity"}}
            self._store(conversation, activity, payload)
            return 200, {"id": activity}

        return await self._answer(request, "update", make)

    async def _delete(self, request: web.Request) -> web.StreamResponse:
        def make(conversation: str, activity: str, _payload: Any) -> tuple[int, dict[str, Any]]:
            if self.messages.pop((conversation.split(";messageid=")[0], activity), None) is None:
                return 404, {"error": {"code": "NotFound", "message": "unknown activity"}}
            return 200, {}

        return await self._answer(request, "delete", make)

    async def _create(self, request: web.Request) -> web.StreamResponse:
        def make(_conversation: Any, _activity: Any, payload: dict[str, Any]) -> tuple[int, dict[str, Any]]:
            members = payload.get("members") or []
            if not members or not members[0].get("id"):
                return 400, {"error": {"code": "BadArgument", "message": "members required"}}
            if "@" in str(members[0]["id"]):  # Teams takes a user id (object id or 29:...), never a UPN
                return 400, {"error": {"code": "BadArgument", "message": "Invalid user identity in provided tenant"}}
            conversation = f"a:fake-personal-{next(self._conversations)}"
            answer: dict[str, Any] = {"id": conversation, "serviceUrl": self.service_url}
            if payload.get("activity"):
                answer["activityId"] = str(next(self._ids))
                self._store(conversation, answer["activityId"], payload["activity"])
            return 201, answer

        return await self._answer(request, "create", make)

    def _account(self, member: Member) -> dict[str, Any]:
        answer: dict[str, Any] = {
            "id": member.id,
            "name": member.name,
            "aadObjectId": member.aad_object_id,
            "tenantId": "72f988bf-86f1-41af-91ab-2d7cd011db47",
            "userRole": member.user_role,
        }
        if member.user_principal_name:
            answer["userPrincipalName"] = member.user_principal_name
        if member.email:
            answer["email"] = member.email
        return {**answer, **member.extra}

    async def _paged_members(self, request: web.Request) -> web.StreamResponse:
        """``GET .../pagedmembers?pageSize=&continuationToken=``: the roster one page at a time (at most
        ``page_size`` a page here, so tests see paging with a few people)."""

        def make(conversation: str, _activity: Any, _payload: Any) -> tuple[int, dict[str, Any]]:
            roster = [
                m
                for m in {id(m): m for m in self.members.values()}.values()
                if m.teams is None or conversation in m.teams
            ]
            size = min(int(request.query.get("pageSize", self.page_size)), self.page_size)
            start = int(request.query.get("continuationToken", "0") or 0)
            answer: dict[str, Any] = {"members": [self._account(m) for m in roster[start : start + size]]}
            if start + size < len(roster):
                answer["continuationToken"] = str(start + size)
            return 200, answer

        return await self._answer(request, "pagedmembers", make)

    async def _member(self, request: web.Request) -> web.StreamResponse:
        def make(conversation: str, _activity: Any, _payload: Any) -> tuple[int, dict[str, Any]]:
            member = self.members.get(request.match_info["member"])
            if member is None or (member.teams is not None and conversation not in member.teams):
                return 404, {"error": {"code": "MemberNotFoundInConversation", "message": "no such member"}}
            answer: dict[str, Any] = {
                "id": member.id,
                "name": member.name,
                "aadObjectId": member.aad_object_id,
                "tenantId": "72f988bf-86f1-41af-91ab-2d7cd011db47",
                "userRole": member.user_role,
            }
            if member.user_principal_name:
                answer["userPrincipalName"] = member.user_principal_name
            if member.email:
                answer["email"] = member.email
            return 200, {**answer, **member.extra}

        return await self._answer(request, "member", make, activity=request.match_info["member"])


_CODES = {400: "BadArgument", 403: "Forbidden", 404: "NotFound", 429: "TooManyRequests", 500: "ServiceError"}
