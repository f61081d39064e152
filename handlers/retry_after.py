"""The HTTP ``Retry-After`` header, read once for both connectors (Slack's Web API and the Bot Framework
connector both send it on a 429)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime


def retry_after_seconds(value: object, *, now: datetime | None = None) -> float | None:
    """Retry-After as seconds: delta-seconds or an HTTP date (RFC 9110); None if absent or unreadable.

    >>> retry_after_seconds("3")
    3.0
    >>> retry_after_seconds("Mon, 02 Mar 2026 10:00:30 GMT", now=datetime(2026, 3, 2, 10, 0, tzinfo=UTC))
    30.0
    >>> retry_after_seconds("soon") is None
    True
    """
    if isinstance(value, list | tuple):  # some clients keep every value of a header
        value = value[0] if value else None
    if not isinstance(value, str | int | float) or isinstance(value, bool):
        return None
    text = str(value).strip()
    if not text:
        return None
    try:
        seconds = float(text)
    except ValueError:
        pass
    else:
        return max(seconds, 0.0) if math.isfinite(seconds) else None
    try:
        moment = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return max((moment - (now or datetime.now(UTC))).total_seconds(), 0.0)


def retry_after_header(headers: object, *, now: datetime | None = None) -> float | None:
    """:func:`retry_after_seconds` of the ``Retry-After`` entry in ``headers``, whatever the name's case."""
    if not isinstance(headers, Mapping):
        return None
    for name, value in headers.items():
        if str(name).lower() == "retry-after":
            return retry_after_seconds(value, now=now)
    return None
