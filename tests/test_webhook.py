from __future__ import annotations

import asyncio
import io
import json
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import pytest
from aiohttp.test_utils import TestClient, TestServer
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

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
        (
            b'[{"text": ""}, {"nps": 3}]',
            "no comment taken in: comments[0].text: missing or empty; every comment needs its text (and 1 more",
        ),
        (b'{"text": "\\ud800"}', "body.text: contains a lone surrogate (\\ud800) at character 0"),
        (b'{"text": "ok \\udfff"}', "body.text: contains a lone surrogate (\\udfff) at character 3"),
        (b'{"text": "ok", "segment": "\\ud83d"}', "body.segment: contains a lone surrogate"),
        (b'{"text": "ok", "id": "a\\udc00"}', "body.id: contains a lone surrogate"),
        (b'{"text": "ok", "source": "\\ud800"}', "body.source: contains a lone surrogate"),
        (b'{"text": "ok", "date": "\\ud800"}', "body.date: contains a lone surrogate"),
        (b'{"text": "ok", "fields": {"\\ud800": "x"}}', "body.fields: contains a lone surrogate"),
        (b'{"text": "ok", "fields": {"product": "\\udbff"}}', "body.fields: contains a lone surrogate"),
        (b'{"text": "ok", "nps": ' + b"9" * 5000 + b"}", "body.nps: is a number of 5000 digits"),
        (b'{"text": "ok", "csat": -' + b"1" * 4301 + b"}", "body.csat: is a number of 4301 digits"),
        (b'{"text": "ok", "id": ' + b"7" * 5000 + b"}", "body.id: is longer than 150 characters"),
        (b'{"text": ' + b"1" * 5000 + b"}", "body.text: must be a string, got a number of 5000 digits"),
        (b'{"text": "\\u200b\\u200c\\u200d\\u2060\\ufeff"}', "body.text: has no visible characters"),
        (b'{"text": " \\u3164\\u00a0\\u200e\\n\\u2028"}', "body.text: has no visible characters"),
        (b'{"text": "ok", "nps": 7.5}', "body.nps: must be a whole number, got a number"),
        (b'{"text": "ok", "nps": 7.0}', "body.nps: must be a whole number"),
        (b'{"text": "ok", "nps": true}', "body.nps: must be a whole number, got true/false"),
        (b'{"text": "ok", "segment": {"name": "smb"}}', "body.segment: must be a string, got an object"),
        (b'{"text": {"en": "ok"}}', "body.text: must be a string, got an object"),
        (b'{"text": ["ok"]}', "body.text: must be a string, got a list"),
        (b'{"text": "ok", "fields": {"product": {"name": "oven"}}}', "body.fields: must be an object of strings"),
        (b'{"text": "ok", "fields": ["oven"]}', "body.fields: must be an object of strings"),
        (b'{"text": "ok", "nps": NaN}', "invalid JSON: NaN is not JSON"),
        (b'{"text": "ok", "nps": -Infinity}', "invalid JSON: -Infinity is not JSON"),
        (b'{"comments": "ok"}', "body.comments: must be a list"),
        (b'{"comments": [], "text": "ok"}', "body.comments: must be a list of comments, and the only key"),
        (b"null", "body: expected an object with a 'text' field, got null"),
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


async def test_a_batch_with_bad_items_takes_in_the_good_ones_and_names_each_bad_one(client: TestClient) -> None:
    body = (
        b'[{"text": "My invoice is wrong", "id": "G-1"}, {"text": "\\ud800", "id": "B-1"},'
        b' {"text": "Late parcel", "id": "G-2", "nps": 2}, {"text": "ok", "nps": ' + b"9" * 5000 + b"},"
        b' "just a string", {"text": "\\u200b"}]'
    )
    headers = {**AUTH, "Content-Type": "application/json"}
    first = await client.post("/ingest", data=body, headers=headers)
    assert first.status == 200
    answer = await first.json()
    assert answer["received"] == 6 and answer["duplicates"] == 0
    assert [c["id"] for c in answer["created"]] == ["G-1", "G-2"]
    assert [(r["index"], r["field"]) for r in answer["rejected"]] == [(1, "text"), (3, "nps"), (4, None), (5, "text")]
    assert answer["rejected"][0]["error"].startswith("comments[1].text: contains a lone surrogate")
    assert answer["rejected"][2]["error"].startswith("comments[4]: expected an object")

    again = await (await client.post("/ingest", data=body, headers=headers)).json()  # a sender retrying it all
    assert again["created"] == [] and again["duplicates"] == 2
    assert again["rejected"] == answer["rejected"]


async def test_a_good_batch_is_taken_in_whole(client: TestClient) -> None:
    payload = {"comments": [{"text": f"Parcel {n} was late", "id": f"P-{n}", "nps": n % 11} for n in range(50)]}
    answer = await (await client.post("/ingest", json=payload, headers=AUTH)).json()
    assert answer["received"] == 50 and len(answer["created"]) == 50 and answer["rejected"] == []


@pytest.mark.parametrize(
    "content_type",
    [None, "text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "application/xml"],
)
async def test_a_body_that_is_not_declared_json_is_415(client: TestClient, content_type: str | None) -> None:
    headers = {**AUTH, "Content-Type": content_type} if content_type else AUTH
    response = await client.post("/ingest", data=io.BytesIO(b'{"text": "ok"}'), headers=headers)
    assert response.status == 415
    assert "Content-Type: application/json" in (await response.json())["error"]


async def test_json_in_another_charset_is_415_and_json_subtypes_are_read(client: TestClient) -> None:
    latin = {**AUTH, "Content-Type": "application/json; charset=iso-8859-1"}
    response = await client.post("/ingest", data='{"text": "caf\xe9"}'.encode("latin-1"), headers=latin)
    assert response.status == 415 and "UTF-8" in (await response.json())["error"]
    subtype = {**AUTH, "Content-Type": "application/vnd.cx+json; charset=UTF-8"}
    response = await client.post("/ingest", data=b'{"text": "caf\xc3\xa9 was cold", "id": "J"}', headers=subtype)
    assert response.status == 200 and (await response.json())["created"][0]["id"] == "J"


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


# --- any JSON body: an answer, never a server error ------------------------------------------------------------


class _Digits(str):
    """A JSON integer written out as its digits (json.dumps refuses ints over 4,300 digits)."""


def _dump(value: object) -> str:
    if isinstance(value, _Digits):
        return str.__str__(value)
    if isinstance(value, dict):
        return "{" + ", ".join(f"{json.dumps(k)}: {_dump(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_dump(v) for v in value) + "]"
    return json.dumps(value)


_ANY_CHAR = st.characters(exclude_categories=())  # lone surrogates included
_STRINGS = st.text(_ANY_CHAR, max_size=30) | st.sampled_from(["", " ", "\u200b", "\ud800", "2026-11-27", "9" * 200])
_LEAVES = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=4_000, max_value=6_000).map(lambda n: _Digits("9" * n))
    | st.floats(allow_nan=False, allow_infinity=False)
    | _STRINGS
)
_JSON = st.recursive(
    _LEAVES, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_STRINGS, inner, max_size=4), max_leaves=12
)
_COMMENT = st.fixed_dictionaries(
    {"text": _STRINGS | _JSON},
    optional={
        name: _STRINGS | _LEAVES | _JSON for name in ("id", "date", "nps", "csat", "segment", "source", "fields")
    },
)
_BODIES = (
    _JSON | _COMMENT | st.lists(_COMMENT | _JSON, max_size=5) | st.builds(lambda c: {"comments": c}, st.lists(_COMMENT))
)


async def test_any_json_body_gets_an_answer_never_a_server_error(client: TestClient) -> None:
    url = str(client.make_url("/ingest"))
    answers: list[int] = []

    @settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(body=_BODIES)
    def post_any(body: object) -> None:
        request = urllib.request.Request(
            url, data=_dump(body).encode(), method="POST", headers={**AUTH, "Content-Type": "application/json"}
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                status = response.status
        except urllib.error.HTTPError as error:
            status = error.code
            assert "error" in json.loads(error.read())
        answers.append(status)
        assert status == 200 or 400 <= status < 500, (status, body)

    # The server answers on this loop while hypothesis posts from a thread of its own (not the loop's default
    # executor: that is the server's core thread).
    with ThreadPoolExecutor(max_workers=1) as poster:
        await asyncio.get_running_loop().run_in_executor(poster, post_any)
    assert {200, 400} <= set(answers)  # the bodies reached both sides of the line
