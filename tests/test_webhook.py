from __future__ import annotations

import io
import json

import pytest
from aiohttp.test_utils import TestClient, TestServer

from bot.server import create_web_app

TOKEN = "s3cret-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture
async def client(make_app):  # type: ignore[no-untyped-def]
    app = make_app(cx_ingest_token=TOKEN)
    async with TestClient(TestServer(create_web_app(app))) as client:
        yield client


async def test_one_comment_is_taken_in(client: TestClient) -> None:
    response = await client.post("/ingest", json={"text": "My invoice is wrong", "id": "T-1", "nps": 3}, headers=AUTH)
    assert response.status == 200
    body = await response.json()
    assert body["received"] == 1 and body["duplicates"] == 0
    assert body["created"][0]["id"] == "T-1"
    assert "Finance & Billing" in body["created"][0]["departments"]


async def test_a_list_and_a_retry_make_each_story_once(client: TestClient) -> None:
    payload = [{"text": "Late parcel", "id": "A"}, {"text": "Great staff", "id": "B"}]
    first = await (await client.post("/ingest", json=payload, headers=AUTH)).json()
    again = await (await client.post("/ingest", json={"comments": payload}, headers=AUTH)).json()
    assert len(first["created"]) == 2
    assert again["created"] == [] and again["duplicates"] == 2


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer wrong"}, {"Authorization": TOKEN}])
async def test_missing_or_wrong_token_is_401(client: TestClient, headers: dict[str, str]) -> None:
    response = await client.post("/ingest", json={"text": "x"}, headers=headers)
    assert response.status == 401
    assert "token" in (await response.json())["error"]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"{not json", "invalid JSON at line 1 column 2"),
        (b'{"id": "1"}', "body.text: missing or empty"),
        (b'[{"text": "ok"}, {"text": ""}]', "comments[1].text: missing or empty"),
        (b'{"text": "ok", "nps": "high"}', "body.nps: must be a whole number"),
        (b'{"text": "ok", "nps": 11}', "body.nps: must be 0-10"),
        (b'{"text": "ok", "date": "yesterday"}', "body.date"),
        (b'{"text": "ok", "colour": "red"}', "unknown field(s) ['colour']"),
        (b"[]", "no comments"),
        (b"\xff\xfe", "not valid UTF-8"),
        (b"42", "expected an object"),
        (b"[" * 100_000 + b"]" * 100_000, "JSON nested too deeply"),
        (b'{"text": "ok", "segment": "' + b"s" * 101 + b'"}', "body.segment: is 101 characters; the limit is 100"),
        (b'{"text": "ok", "channel": "' + b"c" * 201 + b'"}', "body.channel: is 201 characters; the limit is 200"),
        (b'{"text": "ok", "language": "' + b"l" * 21 + b'"}', "body.language: is 21 characters; the limit is 20"),
        (b'{"text": "ok", "date": "0001-01-01T00:00:00+01:00"}', "body.date: is out of range"),
        (b'{"text": "ok", "date": "9999-12-31T23:59:59-05:00"}', "body.date: is out of range"),
        (b'{"text": "ok\\u0000then more"}', "body.text: contains a NUL character"),
        (b'{"text": "ok", "segment": "a\\u0000b"}', "body.segment: contains a NUL character"),
    ],
)
async def test_bad_input_is_400_naming_the_problem(client: TestClient, body: bytes, message: str) -> None:
    response = await client.post("/ingest", data=body, headers={**AUTH, "Content-Type": "application/json"})
    assert response.status == 400
    assert message in (await response.json())["error"]


async def test_over_one_megabyte_is_413(client: TestClient) -> None:
    body = io.BytesIO(json.dumps({"text": "x" * 1_100_000}).encode())
    response = await client.post("/ingest", data=body, headers={**AUTH, "Content-Type": "application/json"})
    assert response.status == 413
    assert "1 MB" in (await response.json())["error"]


async def test_ingest_is_off_without_a_token(make_app) -> None:  # type: ignore[no-untyped-def]
    async with TestClient(TestServer(create_web_app(make_app()))) as client:
        response = await client.post("/ingest", json={"text": "x"})
        assert response.status == 503
        assert "CX_INGEST_TOKEN" in (await response.json())["error"]


async def test_healthz_and_metrics(client: TestClient) -> None:
    assert (await client.get("/healthz")).status == 200
    await client.post("/ingest", json={"text": "x"})
    metrics = await (await client.get("/metrics")).text()
    assert 'cxbot_ingest_requests_total{outcome="unauthorised"}' in metrics
