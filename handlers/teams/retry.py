"""Calls to the Bot Framework connector, retried within bounds, failing as :class:`DeliveryError`.

botbuilder's ConnectorClient (msrest + requests) does not retry POSTs and never retries a 429; its urllib3
policy would also sleep for whatever Retry-After says, in a worker thread. So :func:`connector_call` owns
retrying: a 429 waits for Retry-After (when that is short), a 5xx, a timeout or a garbled answer backs off
exponentially, each a bounded number of times. What is still failing then becomes
``DeliveryError(retry_after=...)`` and the outbox tries again later; 4xx answers that no retry can fix (403 the
bot was removed, 404 the conversation is gone) become ``DeliveryError(permanent=True)``.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from msrest.exceptions import ClientRequestError, DeserializationError, HttpOperationError

from handlers.retry_after import retry_after_seconds
from stories.ports import DeliveryError

log = logging.getLogger(__name__)

T = TypeVar("T")
Sleep = Callable[[float], Awaitable[Any]]

PERMANENT = frozenset({400, 401, 403, 404, 405, 410, 413})


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """``attempts`` tries in all; back-off ``base_delay * 2**n`` capped at ``max_delay``; a Retry-After longer
    than ``max_retry_after`` is not waited for here but handed to the outbox."""

    attempts: int = 4
    base_delay: float = 0.5
    max_delay: float = 8.0
    max_retry_after: float = 15.0
    timeout: float = 15.0  # seconds for one HTTP call to the connector (the adapter's, set from the delivery policy)
    rate_limited: Callable[[], None] = lambda: None  # told of each 429 (the wiring counts them: bot/metrics.py)


@dataclass(frozen=True, slots=True)
class _Failure:
    status: int | None
    retry_after: float | None
    detail: str

    @property
    def permanent(self) -> bool:
        return self.status in PERMANENT


def _failure(exc: Exception) -> _Failure | None:
    """What a connector exception says, or None if it is not a connector failure (a bug: let it raise)."""
    if isinstance(exc, HttpOperationError):
        response = getattr(exc, "response", None)
        status = getattr(response, "status_code", None)
        headers = getattr(response, "headers", None) or {}
        return _Failure(status, retry_after_seconds(headers.get("Retry-After")), f"HTTP {status}")
    if isinstance(exc, DeserializationError):  # a 5xx page of HTML, a proxy's error: msrest cannot read it
        return _Failure(None, None, "unreadable answer from the connector")
    if isinstance(exc, ClientRequestError | asyncio.TimeoutError | ConnectionError):
        return _Failure(None, None, f"connector unreachable ({type(exc).__name__})")
    return None


async def connector_call(
    call: Callable[[], Awaitable[T]],
    *,
    what: str,
    policy: RetryPolicy | None = None,
    sleep: Sleep = asyncio.sleep,
) -> T:
    """Run ``call`` (one connector request) until it succeeds, retrying as the module docstring says."""
    policy = policy or RetryPolicy()
    failure: _Failure | None = None
    for attempt in range(policy.attempts):
        try:
            return await call()
        except Exception as exc:
            failure = _failure(exc)
            if failure is None:
                raise
            if failure.status == 429:
                policy.rate_limited()
        if failure.permanent:
            raise DeliveryError(f"{what}: {failure.detail}, not retried", permanent=True)
        if attempt + 1 >= policy.attempts:
            break
        if failure.status == 429 and failure.retry_after is not None:
            if failure.retry_after > policy.max_retry_after:
                break  # the outbox waits that long instead of holding this task
            delay = failure.retry_after
        else:
            delay = min(policy.base_delay * 2**attempt, policy.max_delay)
        log.info("%s: %s; retry %d in %.1fs", what, failure.detail, attempt + 1, delay)
        await sleep(delay)
    assert failure is not None
    raise DeliveryError(f"{what}: {failure.detail}, gave up for now", retry_after=failure.retry_after)
