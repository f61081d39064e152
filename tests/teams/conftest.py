"""Fixtures for the Teams connector: the fake Bot Framework connector and a world of cxbot servers."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.fakes.bf_connector import FakeConnector
from tests.teams.world import Server, World


@pytest.fixture
async def connector() -> AsyncIterator[FakeConnector]:
    async with FakeConnector() as fake:
        yield fake


@pytest.fixture
async def world(database_url: str, connector: FakeConnector) -> AsyncIterator[World]:
    world = World(database_url, connector)
    yield world
    await world.close()


@pytest.fixture
async def cx(world: World) -> Server:
    """cxbot with authentication off (no MICROSOFT_APP_ID), as with the Bot Framework Emulator."""
    return await world.start()
