"""``POST /api/messages``: the HTTP edge in front of botbuilder's CloudAdapter.

CloudAdapter.process would answer a malformed body or a junk ``Authorization`` header with an exception
(a 500), so this edge does its steps itself, in order, each with a clear answer: size (413), JSON (400),
authentication (401, before anything is stored or sent), required fields (400), then the turn. Authentication
is botbuilder's own ``authenticate_request``; its result is handed to ``process_activity`` unchanged.

With no MICROSOFT_APP_ID botbuilder does no authentication at all (that is how the Bot Framework Emulator
works). The route is then off unless CX_TEAMS_EMULATOR=true asks for it (handlers/teams/wiring.py), and even
then only a caller on this machine is served: its connection comes from a loopback address, it carries no header
a proxy adds (a proxy on the same host makes every caller on the internet look local), and its ``serviceUrl`` is
local too. An unauthenticated endpoint must neither act on a stranger's request nor make the bot send requests
to a stranger's URL.

When Bot Framework's signing keys cannot be fetched (handlers/teams/identity.py), the answer is 503 with
Retry-After, so the channel tries again, rather than 401.
"""

from __future__ import annotations

import ipaddress
import json
import logging
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from aiohttp import web
from botbuilder.core import Bot
from botbuilder.integration.aiohttp import CloudAdapter
from botbuilder.schema import Activity

from handlers.teams.activities import channel_of, team_id_of, user_id_of
from handlers.teams.identity import IdentityUnavailable
from stories.meter import NO_METER, Meter

log = logging.getLogger(__name__)

MAX_ACTIVITY = 256 * 1024  # Teams messages stay under ~28 KB; cards and invokes well under this
# The longest ids cxbot stores (storage.models: conversation_refs, story_messages and deliveries keep a channel
# in 300 characters; commitments, reactions and kudos a person in 100). Real Teams ids are far shorter.
MAX_CONVERSATION_ID = 300
MAX_USER_ID = 100
# Headers a proxy or load balancer adds to say who the real caller is; any one of them means "not local".
PROXY_HEADERS = frozenset(
    {
        "forwarded",
        "via",
        "x-real-ip",
        "x-client-ip",
        "x-cluster-client-ip",
        "true-client-ip",
        "cf-connecting-ip",
        "fastly-client-ip",
        "x-original-forwarded-for",
    }
)


def _error(status: int, message: str, **headers: str) -> web.Response:
    return web.json_response({"error": message}, status=status, headers=headers or None)


def _is_loopback(host: str | None) -> bool:
    if not host:
        return False
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _problem(activity: Activity) -> str | None:
    """What keeps a turn from working with this activity (a field missing or longer than cxbot stores), or None."""
    if not activity.service_url:
        return "the activity has no serviceUrl"
    if urlsplit(activity.service_url).scheme not in ("http", "https"):
        return "the activity has no serviceUrl (an http or https URL)"
    if activity.conversation is None or not activity.conversation.id:
        return "the activity has no conversation.id"
    if activity.from_property is None or not activity.from_property.id:
        return "the activity has no from.id"
    if activity.recipient is None or not activity.recipient.id:
        return "the activity has no recipient.id"
    for name, value, limit in (
        ("conversation.id", channel_of(activity.conversation.id), MAX_CONVERSATION_ID),
        ("from.aadObjectId (or from.id)", user_id_of(activity.from_property), MAX_USER_ID),
        ("channelData.team.id", team_id_of(activity) or "", MAX_CONVERSATION_ID),
    ):
        if len(value) > limit:
            return f"{name} is {len(value)} characters; cxbot stores at most {limit}"
    return None


class MessagesEndpoint:
    def __init__(
        self,
        *,
        adapter: CloudAdapter,
        bot: Bot,
        auth_enabled: bool,
        arrived: Callable[[], None] = lambda: None,
        meter: Meter = NO_METER,
    ) -> None:
        self.adapter = adapter
        self.meter = meter
        self.bot = bot
        self.auth_enabled = auth_enabled
        self.arrived = arrived  # the work that can wait steps aside while activities come in (bot/priority.py)

    async def handle(self, request: web.Request) -> web.StreamResponse:
        self.arrived()
        if request.content_length is not None and request.content_length > MAX_ACTIVITY:
            return self._refuse(413, "too_large", f"an activity is at most {MAX_ACTIVITY} bytes")
        if request.content_type != "application/json":
            return self._refuse(415, "bad_request", "send the activity as application/json")
        try:
            body = await request.read()
        except web.HTTPRequestEntityTooLarge:
            return self._refuse(413, "too_large", f"an activity is at most {MAX_ACTIVITY} bytes")
        if len(body) > MAX_ACTIVITY:
            return self._refuse(413, "too_large", f"an activity is at most {MAX_ACTIVITY} bytes")
        activity, problem = self._parse(body)
        if activity is None:
            return self._refuse(400, "bad_request", problem or "not an activity")
        problem = _problem(activity)
        if problem:
            return self._refuse(400, "bad_request", problem)
        if not self.auth_enabled and not self._local(request, activity):
            return self._refuse(
                401,
                "unauthorised",
                "authentication is off (MICROSOFT_APP_ID is not set): only a local Bot Framework Emulator is served, "
                "directly (no proxy headers) and with a local serviceUrl",
                WWW_Authenticate="Bearer",
            )
        try:
            authenticated = await self.adapter.bot_framework_authentication.authenticate_request(
                activity, request.headers.get("Authorization", "")
            )
        except IdentityUnavailable as exc:
            log.warning("Teams request not checked: %s", exc)
            return self._refuse(
                503,
                "identity_unavailable",
                "the Bot Framework's signing keys cannot be fetched just now; retry later",
                Retry_After=str(max(1, round(exc.retry_after))),
            )
        except Exception as exc:  # botbuilder raises PermissionError, jwt errors, even requests errors on junk
            log.info("Teams request refused: %s", type(exc).__name__)
            return self._refuse(
                401, "unauthorised", "missing or invalid Bot Framework token", WWW_Authenticate="Bearer"
            )
        try:
            invoke = await self.adapter.process_activity(authenticated, activity, self.bot.on_turn)
        except Exception:
            log.exception("Teams %s activity %s failed", activity.type, activity.id)
            self._count("error")
            return _error(500, "the activity could not be processed; it was not recorded, so a retry is safe")
        self._count("ok")
        if invoke is not None:
            return web.json_response(invoke.body, status=int(invoke.status))
        return web.Response(status=200)

    def _count(self, outcome: str) -> None:
        self.meter.count("cxbot_teams_activities_total", outcome=outcome)

    def _refuse(self, status: int, outcome: str, message: str, **headers: str) -> web.Response:
        self._count(outcome)
        return _error(status, message, **{k.replace("_", "-"): v for k, v in headers.items()})

    @staticmethod
    def _parse(body: bytes) -> tuple[Activity | None, str | None]:
        try:
            data: Any = json.loads(body)
        except (UnicodeDecodeError, ValueError) as exc:
            return None, f"the body is not JSON ({type(exc).__name__})"
        except RecursionError:  # the decoder gives up on deep nesting
            return None, "the body is JSON nested too deeply to be an activity"
        if not isinstance(data, dict):
            return None, "the body must be a JSON object (an activity)"
        if not isinstance(data.get("type"), str) or not data["type"]:
            return None, "the activity has no type"
        try:
            activity = Activity().deserialize(data)
        except Exception as exc:  # msrest raises DeserializationError and, for odd shapes, plain TypeErrors
            return None, f"the activity is malformed ({type(exc).__name__})"
        return activity, None

    @staticmethod
    def _local(request: web.Request, activity: Activity) -> bool:
        """A loopback peer, no proxy header at all, and a loopback serviceUrl (the Emulator on this machine)."""
        proxied = any(
            name.lower() in PROXY_HEADERS or name.lower().startswith("x-forwarded-") for name in request.headers
        )
        service = urlsplit(activity.service_url or "").hostname
        return not proxied and _is_loopback(request.remote) and _is_loopback(service)
