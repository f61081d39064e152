"""Shared Slack fixtures: the fake Slack Web API and (see below) a running cxbot server over real HTTP."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.fakes.slack_api import FakeSlackApi


@pytest.fixture
async def slack_api() -> AsyncIterator[FakeSlackApi]:
    """The fake Slack Web API on 127.0.0.1, a fresh port per test."""
    async with FakeSlackApi() as fake:
        yield fake
