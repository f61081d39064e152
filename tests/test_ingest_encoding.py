"""POST /ingest with a Content-Encoding: what aiohttp can inflate is read, anything else is a 4xx naming it; and a
UTF-8 byte order mark before the JSON is skipped, and the bearer scheme is read in any case (RFC 7235).

Found by trying cxbot as a new admin: a body declared gzip or deflate but sent plain made aiohttp raise while
reading it, and the sender got a bare 500; an encoding aiohttp does not know was read as if it were plain.
"""

from __future__ import annotations

import gzip

import pytest
from aiohttp.test_utils import TestClient, TestServer

from bot.server import create_web_app

TOKEN = "s3cret-token"
HEADERS = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"}


@pytest.fixture
async def client(make_app):  # type: ignore[no-untyped-def]
    async with TestClient(TestServer(create_web_app(make_app(cx_ingest_token=TOKEN)))) as client:
        yield client


async def test_a_gzipped_body_is_read(client: TestClient) -> None:
    body = gzip.compress(b'{"text": "The invoice was wrong", "id": "gz-1"}')
    response = await client.post("/ingest", data=body, headers={**HEADERS, "Content-Encoding": "gzip"})
    assert response.status == 200
    assert (await response.json())["created"][0]["id"] == "gz-1"


@pytest.mark.parametrize("encoding", ["gzip", "deflate"])
async def test_a_body_that_is_not_what_its_encoding_says_is_400_and_takes_nothing_in(
    client: TestClient, encoding: str
) -> None:
    response = await client.post(
        "/ingest",
        data=b'{"text": "plain after all", "id": "p-1"}' + b" " * 600_000,
        headers={**HEADERS, "Content-Encoding": encoding},
    )
    assert response.status == 400
    assert f"Content-Encoding '{encoding}'" in (await response.json())["error"]
    again = await client.post("/ingest", data=b'{"text": "plain after all", "id": "p-1"}', headers=HEADERS)
    assert again.status == 200 and (await again.json())["created"]  # nothing was half taken in before


async def test_an_unknown_encoding_is_415(client: TestClient) -> None:
    response = await client.post("/ingest", data=b'{"text": "x"}', headers={**HEADERS, "Content-Encoding": "foo"})
    assert response.status == 415
    assert "Content-Encoding 'foo' is not supported" in (await response.json())["error"]


async def test_a_utf8_byte_order_mark_before_the_json_is_ignored(client: TestClient) -> None:
    # PowerShell's Invoke-RestMethod with UTF-8 and some .NET senders put one there (RFC 8259 lets a reader skip it)
    body = "\ufeff".encode() + b'{"text": "The courier left my parcel in the rain", "id": "bom-1"}'
    response = await client.post("/ingest", data=body, headers=HEADERS)
    assert response.status == 200, await response.text()
    assert (await response.json())["created"][0]["id"] == "bom-1"


@pytest.mark.parametrize(
    ("authorization", "status"),
    [(f"bearer {TOKEN}", 200), (f"BEARER  {TOKEN}", 200), (f"Basic {TOKEN}", 401), ("bearer wrong", 401), (TOKEN, 401)],
)
async def test_the_bearer_scheme_is_read_whatever_its_case(client: TestClient, authorization: str, status: int) -> None:
    headers = {"Authorization": authorization, "Content-Type": "application/json"}
    response = await client.post("/ingest", data=b'{"text": "The invoice was wrong"}', headers=headers)
    assert response.status == status


async def test_scores_sent_as_text_are_read_as_numbers_and_still_checked(client: TestClient) -> None:
    # form tools and Zapier send every answer as text: "7"
    response = await client.post(
        "/ingest",
        json=[
            {"text": "Late parcel", "nps": "3"},
            {"text": "ok", "nps": "11"},
            {"text": "meh", "csat": " 4 "},
            {"text": "x", "nps": "high"},
        ],
        headers={"Authorization": f"Bearer {TOKEN}"},
    )
    body = await response.json()
    assert response.status == 200 and len(body["created"]) == 2, body
    assert [(r["index"], r["field"]) for r in body["rejected"]] == [(1, "nps"), (3, "nps")]
