"""The Slack Web API client every call goes through: configurable base URL, bounded retries.

slack_sdk's retry handlers do the waiting: a 429 sleeps for its Retry-After, a 500/503 or a dropped
connection backs off exponentially. Each is bounded, so a call that still fails raises and the outbox keeps
the delivery for a later attempt (see :mod:`handlers.slack.errors`).
"""

from __future__ import annotations

from slack_sdk.http_retry.async_handler import AsyncRetryHandler
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.http_retry.builtin_interval_calculators import BackoffRetryIntervalCalculator
from slack_sdk.web.async_client import AsyncWebClient

RATE_LIMIT_RETRIES = 1  # waits Retry-After (+ up to 1 s jitter); after that the dispatcher pauses the channel
SERVER_ERROR_RETRIES = 2  # 500/503: ~0.5 s then ~1 s, plus jitter
CONNECTION_RETRIES = 2
TIMEOUT = 10  # seconds per HTTP request


def retry_handlers(*, backoff: float = 0.5) -> list[AsyncRetryHandler]:
    interval = BackoffRetryIntervalCalculator(backoff_factor=backoff)
    return [
        AsyncConnectionErrorRetryHandler(max_retry_count=CONNECTION_RETRIES, interval_calculator=interval),
        AsyncRateLimitErrorRetryHandler(max_retry_count=RATE_LIMIT_RETRIES),
        AsyncServerErrorRetryHandler(max_retry_count=SERVER_ERROR_RETRIES, interval_calculator=interval),
    ]


def web_client(*, base_url: str, token: str | None = None) -> AsyncWebClient:
    """An AsyncWebClient for ``base_url`` (SLACK_API_URL; GovSlack and the tests change it)."""
    if not base_url.endswith("/"):
        base_url += "/"
    return AsyncWebClient(token=token, base_url=base_url, timeout=TIMEOUT, retry_handlers=retry_handlers())
