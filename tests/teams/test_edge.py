"""/api/messages at the edge: authentication (on with MICROSOFT_APP_ID, off for the local Emulator) and bad
input, which gets a 4xx or a quiet 200 and changes nothing, never a 500."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from sqlalchemy import func, select

from storage.models import ConversationRef, ProcessedEvent
from tests.fakes.bf_connector import FakeConnector
from tests.teams.world import Server, World

APP_ID = "2f1c6d3e-4b5a-4c7d-8e9f-0a1b2c3d4e5f"


@pytest.fixture
def database_url(tmp_path: Path, _sqlite_template: Path) -> str:
    """SQLite only: these requests are refused before any SQL runs, so a second engine would add nothing."""
    path = tmp_path / "cxbot.db"
    shutil.copy(_sqlite_template, path)
    return f"sqlite:///{path}"


def _nothing_stored(cx: Server) -> bool:
    with cx.app.engine.connect() as conn:
        refs = conn.scalar(select(func.count()).select_from(ConversationRef))
        events = conn.scalar(select(func.count()).select_from(ProcessedEvent))
    return refs == 0 and events == 0


@pytest.fixture
async def secured(world: World) -> Server:
    return await world.start(microsoft_app_id=APP_ID, microsoft_app_password="not-a-real-secret")


@pytest.mark.parametrize(
    "authorization",
    [
        None,
        "",
        "Bearer",
        "Bearer abc",
        "Bearer a.b.c",
        "Basic dXNlcjpwYXNz",
        "Bearer " + "x" * 5000,
        "Bearer eyJhbGciOiJub25lIn0.e30.",  # alg none, no signature
    ],
)
async def test_with_an_app_id_a_request_without_a_valid_token_gets_401_and_changes_nothing(
    secured: Server, world: World, connector: FakeConnector, authorization: str | None
) -> None:
    headers = {"Authorization": authorization} if authorization is not None else {}
    status, body = await secured.post(world.load("message_cx_link"), headers=headers)
    assert status == 401
    assert "token" in body["error"]
    assert _nothing_stored(secured)
    assert connector.calls == []


@pytest.mark.parametrize("as_served", [False, True])
async def test_without_an_app_id_the_route_is_off_unless_emulator_mode_is_asked_for(
    world: World, connector: FakeConnector, as_served: bool
) -> None:
    off = await world.start(cx_teams_emulator=False, as_served=as_served)
    status, body = await off.post(world.load("message_hello_personal"))
    assert status == 503 and "CX_TEAMS_EMULATOR=true" in body["error"] and "MICROSOFT_APP_ID" in body["error"]
    assert _nothing_stored(off) and connector.calls == []
    assert "teams" not in off.app.notifiers  # nothing of Teams was built


async def test_in_emulator_mode_only_a_local_emulator_is_served(
    cx: Server, world: World, connector: FakeConnector
) -> None:
    remote = world.load("message_hello_personal", serviceUrl="https://smba.trafficmanager.net/emea/")
    status, body = await cx.post(remote)
    assert status == 401 and "authentication is off" in body["error"]
    assert _nothing_stored(cx) and connector.calls == []

    status, _ = await cx.post(world.load("message_hello_personal"))  # the Emulator: local caller, local service
    assert status == 200


@pytest.mark.parametrize(
    "header",
    [
        "X-Forwarded-For",
        "X-Forwarded-Host",
        "X-Forwarded-Proto",
        "x-forwarded-port",
        "Forwarded",
        "X-Real-IP",
        "Via",
        "True-Client-IP",
    ],
)
async def test_in_emulator_mode_a_request_that_came_through_a_proxy_is_refused(
    cx: Server, world: World, connector: FakeConnector, header: str
) -> None:
    status, body = await cx.post(world.load("message_hello_personal"), headers={header: "127.0.0.1"})
    assert status == 401 and "no proxy headers" in body["error"]
    assert _nothing_stored(cx) and connector.calls == []


@pytest.mark.parametrize(
    "service_url",
    [
        "https://smba.trafficmanager.net/emea/",
        "http://localhost.attacker.example/",
        "http://127.0.0.1.nip.io/",
        "http://10.0.0.1/",
        "http://[::ffff:10.0.0.1]/",
        "http://0.0.0.0/",
    ],
)
async def test_in_emulator_mode_a_service_url_off_this_machine_is_refused(
    cx: Server, world: World, connector: FakeConnector, service_url: str
) -> None:
    status, _ = await cx.post(world.load("message_hello_personal", serviceUrl=service_url))
    assert status == 401
    assert _nothing_stored(cx) and connector.calls == []


@pytest.mark.parametrize(
    ("raw", "status", "message"),
    [
        (b"{not json", 400, "not JSON"),
        (b"\xff\xfe\x00", 400, "not JSON"),
        (b"[]", 400, "JSON object"),
        (b'"message"', 400, "JSON object"),
        (b"{}", 400, "no type"),
        (b'{"type": 7}', 400, "no type"),
        (b'{"type": "message", "value": ' + b"[" * 100_000 + b"]" * 100_000 + b"}", 400, "nested too deeply"),
    ],
)
async def test_malformed_bodies_get_400(
    cx: Server, connector: FakeConnector, raw: bytes, status: int, message: str
) -> None:
    got, body = await cx.post(None, raw=raw)
    assert (got, message in body["error"]) == (status, True)
    assert _nothing_stored(cx) and connector.calls == []


@pytest.mark.parametrize(
    ("field", "value", "named"),
    [
        ("serviceUrl", None, "serviceUrl"),
        ("serviceUrl", "ftp://127.0.0.1/", "serviceUrl"),
        ("conversation", None, "conversation.id"),
        ("conversation", {"conversationType": "personal"}, "conversation.id"),
        ("from", None, "from.id"),
        ("recipient", {}, "recipient.id"),
    ],
)
async def test_an_activity_missing_what_a_turn_needs_gets_400(
    cx: Server, world: World, connector: FakeConnector, field: str, value: object, named: str
) -> None:
    activity = world.load("message_hello_personal")
    if value is None:
        del activity[field]
    else:
        activity[field] = value
    status, body = await cx.post(activity)
    assert status == 400 and named in body["error"]
    assert _nothing_stored(cx) and connector.calls == []


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ({"conversation": {"id": "a:" + "x" * 400, "conversationType": "personal"}}, "conversation.id is 402"),
        ({"from": {"id": "29:" + "y" * 300, "name": "Long"}}, "from.aadObjectId (or from.id) is 303"),
        ({"channelData": {"team": {"id": "19:" + "t" * 300}}}, "channelData.team.id is 303"),
    ],
)
async def test_ids_longer_than_cxbot_stores_get_400_not_a_failed_insert(
    cx: Server, world: World, connector: FakeConnector, change: dict, named: str
) -> None:
    status, body = await cx.post({**world.load("message_hello_personal"), **change})
    assert status == 400 and named in body["error"]
    assert _nothing_stored(cx) and connector.calls == []


async def test_fields_of_the_wrong_shape_get_400(cx: Server, world: World, connector: FakeConnector) -> None:
    for change in ({"conversation": "19:abc"}, {"timestamp": "yesterday"}, {"entities": "mention"}):
        status, body = await cx.post({**world.load("message_hello_personal"), **change})
        assert 400 <= status < 500, (change, status, body)
    assert connector.calls == []


async def test_a_2mb_body_gets_413(cx: Server, world: World, connector: FakeConnector) -> None:
    activity = world.load("message_hello_personal", text="x" * 2_000_000)
    status, _ = await cx.post(activity)
    assert status == 413
    assert _nothing_stored(cx) and connector.calls == []


async def test_a_body_that_is_not_json_content_gets_415(cx: Server, world: World) -> None:
    body = json.dumps(world.load("message_hello_personal")).encode()
    status, _ = await cx.post(None, raw=body, headers={"Content-Type": "text/plain"})
    assert status == 415


async def test_unknown_activity_types_and_invokes_get_a_quiet_200(
    cx: Server, world: World, connector: FakeConnector
) -> None:
    status, _ = await cx.post(world.load("message_hello_personal", type="somethingNew", id="f:new"))
    assert status == 200
    status, _ = await cx.post(world.load("invoke_compose_extension_query"))
    assert status == 200
    assert connector.posts() == []


async def test_broken_mention_entities_get_a_quiet_200(cx: Server, world: World, connector: FakeConnector) -> None:
    activity = world.load("message_cx_link")
    activity["entities"] = [{"type": "mention", "mentioned": "nobody"}, {"type": "mention"}, {"type": "clientInfo"}]
    status, _ = await cx.post(activity)
    assert status == 200
    assert connector.posts() == []  # no usable mention of the bot: channel chatter, not a command
