"""The Bot Framework's signing keys, fetched without ever stalling the server.

botbuilder checks each request's token against keys listed in OpenID metadata (login.botframework.com). Its own
fetch (botframework-connector, ``auth/jwt_token_extractor.py``, ``_OpenIdMetadata._refresh``) is ``requests.get``
with no timeout, called inside the async request handler: a slow identity endpoint blocks the event loop, so
every Slack ack, Teams answer and ``/healthz`` waits behind it; and after a failure it fetches again on every
request. botbuilder keeps one metadata object per URL in ``JwtTokenExtractor.metadataCache`` and looks it up in
``JwtTokenExtractor.get_open_id_metadata``; :func:`install` makes that look-up return :class:`OpenIdMetadata`
instead, which keeps botbuilder's ``get(key_id)`` contract and its refresh policy (keys kept a day; an unknown key
refreshes at most hourly) and fetches:

- asynchronously (aiohttp), with a total timeout, so nothing waits on the event loop;
- once at a time, however many requests are waiting for it;
- remembering a failure for ``failure_ttl`` seconds: requests in that time do not fetch again. With keys from an
  earlier fetch they go on using them; without any they get :class:`IdentityUnavailable` at once, which the
  endpoint answers 503 with Retry-After (the Bot Framework retries), not 401.

Replacing botbuilder's object is the only way in: the fetch is a private method of a private class, created by
a static method that every validation path (public, government, enterprise, emulator, skills) calls.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
import weakref
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from botframework.connector.auth import JwtTokenExtractor
from jwt.algorithms import RSAAlgorithm

log = logging.getLogger(__name__)

FETCH_TIMEOUT = 5.0  # seconds for the metadata and the keys together; Teams waits 15 s for an answer
FAILURE_TTL = 30.0  # seconds a failed fetch is remembered
KEYS_TTL = 24 * 3600.0  # botbuilder's: keys are refreshed once a day
UNKNOWN_KEY_TTL = 3600.0  # botbuilder's: a key not in the list refreshes it at most hourly


class IdentityUnavailable(Exception):
    """The signing keys could not be fetched: the caller should try again later (503), it is not refused."""

    def __init__(self, url: str, retry_after: float) -> None:
        super().__init__(f"Bot Framework signing keys unavailable ({url}); retry in {retry_after:.0f} s")
        self.retry_after = retry_after


@dataclass(frozen=True, slots=True)
class SigningKey:
    """What botbuilder's token check reads off a key (the attributes of its ``_OpenIdConfig``)."""

    public_key: Any
    endorsements: list[str]


@dataclass
class OpenIdMetadata:
    url: str
    timeout: float = FETCH_TIMEOUT
    failure_ttl: float = FAILURE_TTL
    clock: Callable[[], float] = time.monotonic
    keys: list[dict[str, Any]] = field(default_factory=list)
    fetched_at: float | None = None
    failed_at: float | None = None
    fetches: int = 0
    _locks: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = field(
        default_factory=weakref.WeakKeyDictionary, repr=False
    )

    async def get(self, key_id: str | None) -> SigningKey | None:
        """The key ``key_id`` names, or None (botbuilder then refuses the token); refreshes as botbuilder does."""
        if self._older_than(KEYS_TTL):
            await self._refresh(KEYS_TTL)
        key = self._find(key_id)
        if key is None and self._older_than(UNKNOWN_KEY_TTL):
            await self._refresh(UNKNOWN_KEY_TTL)
            key = self._find(key_id)
        if key is None and not self.keys:
            raise IdentityUnavailable(self.url, self.failure_ttl)
        return key

    def _older_than(self, seconds: float) -> bool:
        return self.fetched_at is None or self.clock() - self.fetched_at > seconds

    def _failed_recently(self) -> bool:
        return self.failed_at is not None and self.clock() - self.failed_at < self.failure_ttl

    async def _refresh(self, age: float) -> None:
        if self._failed_recently():
            return
        lock = self._locks.setdefault(asyncio.get_running_loop(), asyncio.Lock())
        async with lock:
            if not self._older_than(age) or self._failed_recently():  # another request fetched (or failed) meanwhile
                return
            self.fetches += 1
            try:
                async with asyncio.timeout(self.timeout):
                    keys = await self._fetch()
            except Exception as exc:  # any failure: remember it, serve what we have
                self.failed_at = self.clock()
                log.warning(
                    "Bot Framework signing keys: fetch from %s failed (%s); next try in %.0f s",
                    self.url,
                    type(exc).__name__,
                    self.failure_ttl,
                )
                return
            self.keys, self.fetched_at, self.failed_at = keys, self.clock(), None

    async def _fetch(self) -> list[dict[str, Any]]:
        async with aiohttp.ClientSession(trust_env=True) as session:  # trust_env: HTTPS_PROXY, as requests does
            async with session.get(self.url) as response:
                response.raise_for_status()
                metadata = await response.json(content_type=None)
            async with session.get(metadata["jwks_uri"]) as response:
                response.raise_for_status()
                keys = (await response.json(content_type=None))["keys"]
        if not isinstance(keys, list) or not all(isinstance(k, dict) for k in keys):
            raise ValueError("the key set is not a list of keys")
        return keys

    def _find(self, key_id: str | None) -> SigningKey | None:
        for key in self.keys:
            if key.get("kid") == key_id:
                return SigningKey(RSAAlgorithm.from_jwk(json.dumps(key)), list(key.get("endorsements") or []))
        return None


@dataclass(frozen=True)
class FetchOptions:
    timeout: float = FETCH_TIMEOUT
    failure_ttl: float = FAILURE_TTL
    # botbuilder's metadata URL -> where to fetch it instead (tests point it at a fake identity endpoint)
    redirect: Mapping[str, str] = field(default_factory=dict)


_options = FetchOptions()


def install(options: FetchOptions | None = None) -> None:
    """Make botbuilder use :class:`OpenIdMetadata` for every metadata URL. Idempotent; the last ``options`` given
    apply (one process serves one Bot Framework cloud)."""
    global _options
    _options = options or FetchOptions()
    JwtTokenExtractor.get_open_id_metadata = staticmethod(metadata_for)  # type: ignore[method-assign]


def metadata_for(url: str) -> OpenIdMetadata:
    """The metadata object for ``url`` in botbuilder's cache: ours, made with the current options."""
    cache = JwtTokenExtractor.metadataCache
    target = _options.redirect.get(url, url)
    metadata = cache.get(url)
    if not isinstance(metadata, OpenIdMetadata) or (metadata.url, metadata.timeout, metadata.failure_ttl) != (
        target,
        _options.timeout,
        _options.failure_ttl,
    ):  # none yet, botbuilder's own, or made under other options: replaced
        metadata = OpenIdMetadata(target, timeout=_options.timeout, failure_ttl=_options.failure_ttl)
        cache[url] = metadata
    return metadata
