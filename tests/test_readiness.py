"""``/readyz`` says whether this replica can serve (database, migration head, its department rows), ``/healthz``
only that it is alive. Runs on SQLite and on PostgreSQL (``database_url``)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import Engine, MetaData, update

from bot.server import create_web_app
from storage.db import head_revision, upgrade
from storage.models import Department

TOKEN = "s3cret-token"


def drop_everything(engine: Engine) -> None:
    """What recreating the database does to a running replica: every table gone, alembic_version too."""
    tables = MetaData()
    tables.reflect(engine)
    tables.drop_all(engine)


@pytest.fixture
def served(make_app) -> Iterator:  # type: ignore[no-untyped-def]
    app = make_app(cx_ingest_token=TOKEN)
    yield app
    upgrade(app.engine)  # the test database is shared by the session's later tests: leave it migrated


async def test_a_migrated_database_with_its_departments_is_ready(served) -> None:  # type: ignore[no-untyped-def]
    async with TestClient(TestServer(create_web_app(served))) as client:
        response = await client.get("/readyz")
        assert response.status == 200
        assert await response.json() == {"status": "ok", "revision": head_revision(served.engine)}


async def test_a_recreated_database_is_not_ready_and_says_why_while_healthz_stays_live(served) -> None:  # type: ignore[no-untyped-def]
    async with TestClient(TestServer(create_web_app(served))) as client:
        drop_everything(served.engine)
        response = await client.get("/readyz")
        body = await response.json()
        assert response.status == 503
        assert body["check"] == "schema"
        assert "has no cxbot tables" in body["reason"] and "cxbot db upgrade" in body["reason"]
        assert (await client.get("/healthz")).status == 200  # liveness: the process and the server answer
        failed = await client.post("/ingest", json={"text": "Late parcel", "id": "R-1"}, headers=_auth())
        assert failed.status == 503  # what /readyz warns of: a load balancer would not have sent it here
        assert "retry later" in (await failed.json())["error"] and failed.headers["Retry-After"] == "30"


async def test_a_database_migrated_again_without_its_departments_is_not_ready(served) -> None:  # type: ignore[no-untyped-def]
    async with TestClient(TestServer(create_web_app(served))) as client:
        drop_everything(served.engine)
        upgrade(served.engine)
        response = await client.get("/readyz")
        body = await response.json()
        assert response.status == 503
        assert body["check"] == "departments"
        assert "has no row" in body["reason"] and "restart this replica" in body["reason"]


async def test_a_department_configured_otherwise_in_the_database_is_not_ready(served) -> None:  # type: ignore[no-untyped-def]
    name = served.config.departments[0].name
    with served.engine.begin() as conn:
        conn.execute(update(Department).where(Department.name == name).values(slack_channel="C0ELSEWHERE"))
    async with TestClient(TestServer(create_web_app(served))) as client:
        response = await client.get("/readyz")
        body = await response.json()
    assert response.status == 503
    assert body["check"] == "departments" and "C0ELSEWHERE" in body["reason"] and "CX_CONFIG" in body["reason"]


def _auth() -> dict[str, str]:
    return {"Authorization": f"Bearer {TOKEN}"}
