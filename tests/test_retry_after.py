"""Retry-After, as both connectors read it (handlers/retry_after.py)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from handlers.retry_after import retry_after_header, retry_after_seconds

NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        ("7", 7.0),
        (" 2.5 ", 2.5),
        (30, 30.0),
        ("-3", 0.0),
        ("Mon, 02 Mar 2026 10:00:30 GMT", 30.0),
        ("Mon, 02 Mar 2026 09:59:00 GMT", 0.0),  # a date already past: go now
        (["4", "9"], 4.0),  # a client that keeps every value of a header
        ("soon", None),
        ("", None),
        ("nan", None),
        ("inf", None),
        (None, None),
        (True, None),
        ([], None),
    ],
)
def test_reads_delta_seconds_and_http_dates(value: object, seconds: float | None) -> None:
    assert retry_after_seconds(value, now=NOW) == seconds


def test_header_found_whatever_the_case_of_its_name() -> None:
    assert retry_after_header({"retry-after": "3"}) == 3.0
    assert retry_after_header({"Content-Type": "application/json", "Retry-After": ["5"]}) == 5.0
    assert retry_after_header({"Content-Type": "application/json"}) is None
    assert retry_after_header(None) is None
