"""The Slack Web API client every call goes through: configurable base URL, bounded retries.

slack_sdk's retry handlers do the waiting: a 429 sleeps for its Retry-After, a 500/503 or a dropped
connection backs off exponentially. Each is bounded, so a call that still fails raises and the outbox keeps
the delivery for a later attempt (see :mod:`handlers.slack.errors`).
"""

from __future__ import annotations

from collections.abc import Callable

from slack_sdk.http_retry.async_handler import AsyncRetryHandler
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.http_retry.builtin_interval_calculators import BackoffRetryIntervalCalculator
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState
from slack_sdk.web.async_client import AsyncWebClient

RATE_LIMIT_RETRIES = 1  # waits Retry-After (+ up to 1 s jitter); after that the dispatcher pauses the channel
SERVER_ERROR_RETRIES = 2  # 500/503: ~0.5 s then ~1 s, plus jitter
CONNECTION_RETRIES = 2
TIMEOUT = 10  # seconds per HTTP request


class CountRateLimits(AsyncRetryHandler):
    """Tells ``rate_limited`` of every 429 Slack answers, those the next handler retries too; never retries."""

    def __init__(self, rate_limited: Callable[[], None]) -> None:
        super().__init__(max_retry_count=0)
        self._rate_limited = rate_limited

    async def can_retry_async(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        if response is not None and response.status_code == 429:
            self._rate_limited()
        return False


def retry_handlers(*, backoff: float = 0.5, rate_limited: Callable[[], None] = lambda: None) -> list[AsyncRetryHandler]:
    interval = BackoffRetryIntervalCalculator(backoff_factor=backoff)
    return [
        CountRateLimits(rate_limited),
        AsyncConnectionErrorRetryHandler(max_retry_count=CONNECTION_RETRIES, interval_calculator=interval),
        AsyncRateLimitErrorRetryHandler(max_retry_count=RATE_LIMIT_RETRIES),
        AsyncServerErrorRetryHandler(max_retry_count=SERVER_ERROR_RETRIES, interval_calculator=interval),
    ]


def web_client(
    *, base_url: str, token: str | None = None, rate_limited: Callable[[], None] = lambda: None
) -> AsyncWebClient:
    """An AsyncWebClient for ``base_url`` (SLACK_API_URL; GovSlack and the tests change it); ``rate_limited`` is
    told of each 429."""
    if not base_url.endswith("/"):
        base_url += "/"
    handlers = retry_handlers(rate_limited=rate_limited)
    return AsyncWebClient(token=token, base_url=base_url, timeout=TIMEOUT, retry_handlers=handlers)
