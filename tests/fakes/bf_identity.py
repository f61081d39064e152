"""A fake Bot Framework identity endpoint (what login.botframework.com serves): a real aiohttp server on 127.0.0.1,
port 0, with OpenID metadata at ``/v1/.well-known/openidconfiguration`` pointing at a key set (``/keys``) that
holds one RSA key of its own, and a way to sign tokens with it as the Bot Framework channel signs them.

It also issues bot tokens as Microsoft Entra's token endpoint does (``POST /{tenant}/oauth2/v2.0/token``, client
credentials): :attr:`FakeIdentity.apps` maps app ids to their secrets; a wrong secret answers 401 invalid_client
(AADSTS7000215), an app unknown to the tenant 400 unauthorized_client (AADSTS700016), as Entra answers.
:attr:`login_url` stands for ``https://login.microsoftonline.com`` (tenant ``botframework.com`` for multi-tenant
bots, the tenant's id for single-tenant ones).

Answers are scripted with :attr:`FakeIdentity.delay` (seconds before the metadata answer), :attr:`status` (the
metadata's HTTP status) and :attr:`hang` (never answer). :attr:`calls` records each request's path and time.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from typing import Any

import jwt
from aiohttp import web
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

CHANNEL_ISSUER = "https://api.botframework.com"


class FakeIdentity:
    def __init__(self) -> None:
        self._key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.kid = uuid.uuid4().hex
        self.delay = 0.0
        self.status = 200
        self.hang = False
        self.held: asyncio.Event | None = None  # when set to an Event: metadata answers wait until it is set
        self.calls: list[tuple[str, float]] = []
        self.apps: dict[str, str] = {}  # app id -> client secret the token endpoint accepts
        self.app_tenants: dict[str, str] = {}  # app id -> its tenant, for single-tenant apps (default botframework.com)
        self.token_requests: list[dict[str, str]] = []  # form fields of each token request (secrets included)
        self._runner: web.AppRunner | None = None
        self.origin = ""

    @property
    def metadata_url(self) -> str:
        return f"{self.origin}/v1/.well-known/openidconfiguration"

    @property
    def login_url(self) -> str:
        return self.origin

    def fetches(self) -> int:
        """How many times the metadata was asked for."""
        return sum(1 for path, _ in self.calls if path.endswith("openidconfiguration"))

    def token(self, *, app_id: str, service_url: str, issuer: str = CHANNEL_ISSUER, kid: str | None = None) -> str:
        """A token as the Bot Framework channel sends it to a bot (RS256, signed with this endpoint's key)."""
        now = int(time.time())
        claims = {"iss": issuer, "aud": app_id, "serviceurl": service_url, "nbf": now - 60, "exp": now + 3600}
        return jwt.encode(claims, self._key, algorithm="RS256", headers={"kid": kid or self.kid})

    async def _metadata(self, request: web.Request) -> web.StreamResponse:
        self.calls.append((request.path, time.monotonic()))
        if self.hang:
            await asyncio.sleep(3600)
        if self.held is not None:
            await self.held.wait()
        if self.delay:
            await asyncio.sleep(self.delay)
        if self.status != 200:
            return web.Response(status=self.status, text="<html>unavailable</html>", content_type="text/html")
        return web.json_response({"issuer": CHANNEL_ISSUER, "jwks_uri": f"{self.origin}/keys"})

    async def _keys(self, request: web.Request) -> web.Response:
        self.calls.append((request.path, time.monotonic()))
        jwk: dict[str, Any] = json.loads(RSAAlgorithm.to_jwk(self._key.public_key()))
        jwk.update(kid=self.kid, use="sig", endorsements=["msteams", "emulator"])
        return web.json_response({"keys": [jwk]})

    async def _token(self, request: web.Request) -> web.Response:
        self.calls.append((request.path, time.monotonic()))
        form = {k: str(v) for k, v in (await request.post()).items()}
        self.token_requests.append(form)
        tenant = request.match_info["tenant"]
        if form.get("grant_type") != "client_credentials" or not form.get("scope", "").endswith("/.default"):
            return self._aad_error(400, "invalid_request", "AADSTS900144: The request body must contain grant_type.")
        app_id = form.get("client_id", "")
        if app_id not in self.apps or self.app_tenants.get(app_id, "botframework.com") != tenant:
            return self._aad_error(
                400,
                "unauthorized_client",
                f"AADSTS700016: Application with identifier '{app_id}' was not found in the directory '{tenant}'.",
            )
        if form.get("client_secret") != self.apps[app_id]:
            return self._aad_error(
                401, "invalid_client", f"AADSTS7000215: Invalid client secret provided for app '{app_id}'."
            )
        now = int(time.time())
        claims = {"aud": form["scope"].removesuffix("/.default"), "appid": app_id, "iat": now, "exp": now + 3600}
        token = jwt.encode(claims, self._key, algorithm="RS256", headers={"kid": self.kid})
        return web.json_response(
            {"token_type": "Bearer", "expires_in": 3599, "ext_expires_in": 3599, "access_token": token}
        )

    @staticmethod
    def _aad_error(status: int, error: str, description: str) -> web.Response:
        body = {
            "error": error,
            "error_description": description,
            "error_codes": [int(description.split(":")[0].removeprefix("AADSTS"))],
        }
        return web.json_response(body, status=status)

    async def __aenter__(self) -> FakeIdentity:
        app = web.Application()
        app.router.add_post("/{tenant}/oauth2/v2.0/token", self._token)
        app.router.add_get("/v1/.well-known/openidconfiguration", self._metadata)
        app.router.add_get("/keys", self._keys)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.1)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.origin = f"http://127.0.0.1:{port}"
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
