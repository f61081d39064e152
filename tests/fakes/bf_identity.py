"""A fake Bot Framework identity endpoint (what login.botframework.com serves): a real aiohttp server on 127.0.0.1,
port 0, with OpenID metadata at ``/v1/.well-known/openidconfiguration`` pointing at a key set (``/keys``) that
holds one RSA key of its own, and a way to sign tokens with it as the Bot Framework channel signs them.

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
        self.calls: list[tuple[str, float]] = []
        self._runner: web.AppRunner | None = None
        self.origin = ""

    @property
    def metadata_url(self) -> str:
        return f"{self.origin}/v1/.well-known/openidconfiguration"

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

    async def __aenter__(self) -> FakeIdentity:
        app = web.Application()
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
