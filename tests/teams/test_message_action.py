"""The "Send to CX stories" message action: signed ``composeExtension`` invokes over HTTP, the message taken in
through the one intake (redacted), and the dialog Teams shows answered in the invoke's response."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator

import pytest
from botframework.connector.auth import AuthenticationConstants
from sqlalchemy import select

from handlers.teams.identity import FetchOptions
from handlers.teams.package import build_package
from handlers.teams.text import html_text
from storage.models import Comment, CommentOrigin
from tests.fakes.bf_connector import FakeConnector
from tests.fakes.bf_identity import FakeIdentity
from tests.teams.world import INTAKE, Server, World

APP_ID = "2f1c6d3e-4b5a-4c7d-8e9f-0a1b2c3d4e5f"
SUPPORT = "19:5b0c7a1e9d2f4c3b8a6e0d1f2c3b4a59@thread.tacv2"


@pytest.fixture
async def identity() -> AsyncIterator[FakeIdentity]:
    async with FakeIdentity() as fake:
        yield fake


@pytest.fixture
async def secured(world: World, identity: FakeIdentity) -> Server:
    """cxbot with MICROSOFT_APP_ID: every activity must carry a token the (fake) Bot Framework signed."""
    options = FetchOptions(
        redirect={AuthenticationConstants.TO_BOT_FROM_CHANNEL_OPENID_METADATA_URL: identity.metadata_url}
    )
    return await world.start(microsoft_app_id=APP_ID, microsoft_app_password="not-a-real-secret", identity=options)


async def _signed(cx: Server, identity: FakeIdentity, activity: dict) -> tuple[int, dict]:
    bearer = identity.token(app_id=APP_ID, service_url=activity["serviceUrl"])
    return await cx.post(activity, headers={"Authorization": f"Bearer {bearer}"})


def _dialog_card(body: dict) -> dict:
    """The Adaptive Card of a task module ``continue`` response, checked to be shaped as Teams reads it."""
    task = body["task"]
    assert task["type"] == "continue" and task["value"]["title"] == "Send to CX stories"
    attachment = task["value"]["card"]
    assert attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
    return attachment["content"]


def _comments(cx: Server) -> list:
    with cx.app.engine.connect() as conn:
        return list(conn.execute(select(Comment).order_by(Comment.id)).all())


async def test_the_action_first_shows_the_message_and_a_send_button_and_stores_nothing(
    secured: Server, world: World, identity: FakeIdentity, connector: FakeConnector
) -> None:
    status, body = await _signed(secured, identity, world.load("invoke_message_action_fetch_task"))
    assert status == 200
    card = _dialog_card(body)
    shown = json.dumps(card, ensure_ascii=False)
    assert "Send this message to CX stories?" in shown
    assert "charged twice on invoice 4711" in shown and "<strong>" not in shown
    [send] = card["actions"]
    assert send["type"] == "Action.Submit" and send["title"] == "Send"
    assert _comments(secured) == []
    assert connector.calls == []  # the answer is the invoke's response: nothing sent through the connector


async def test_sending_a_message_takes_it_in_redacted_and_the_dialog_says_where_it_went(
    secured: Server, world: World, identity: FakeIdentity, connector: FakeConnector, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    status, body = await _signed(secured, identity, world.load("invoke_message_action_submit"))
    assert status == 200
    shown = json.dumps(_dialog_card(body), ensure_ascii=False)
    assert "Thanks, this is now story #" in shown and "Sent to Finance & Billing." in shown
    [comment] = _comments(secured)
    assert (comment.source, comment.external_id, comment.origin_channel) == (
        "teams",
        f"{SUPPORT}:1700000000300",
        SUPPORT,
    )
    text = comment.redacted_text
    assert text.startswith("Customer on the phone just now: she was charged twice on invoice 4711")
    assert "+44 20 7946 0958" not in text and "jane.doe@example.com" not in text  # redacted like every source
    assert "<p>" not in text and "&amp;" not in text and "@Fiona Walsh" in text
    assert "7946" not in shown and "jane.doe" not in shown
    assert "charged twice" not in caplog.text and "jane.doe" not in caplog.text  # nothing customer-written logged
    assert connector.calls == []
    with secured.app.engine.connect() as conn:  # who sent it hears by direct message when the loop closes
        [origin] = conn.execute(select(CommentOrigin)).all()
    assert (origin.comment_id, origin.platform, origin.via, origin.sender, origin.channel, origin.thread) == (
        comment.id,
        "teams",
        "shortcut",
        "d4a0b1c2-d3e4-4f56-a789-0b1c2d3e4f50",
        SUPPORT,
        "1700000000300",
    )
    assert origin.workspace == "72f988bf-86f1-41af-91ab-2d7cd011db47"


async def test_a_message_from_an_intake_channel_sent_again_with_the_action_stays_one_comment(
    cx: Server, world: World, connector: FakeConnector
) -> None:
    assert (await cx.post(world.load("message_intake")))[0] == 200
    submit = world.load("invoke_message_action_submit")
    submit["conversation"]["id"] = f"{INTAKE};messageid=1700000000200"
    submit["value"]["messagePayload"]["id"] = "1700000000200"  # the intake message itself
    status, body = await cx.post(submit)
    assert status == 200
    assert len(_comments(cx)) == 1
    assert "already a story; nothing was added" in json.dumps(_dialog_card(body))


async def test_a_retried_submit_is_answered_again_and_adds_nothing(cx: Server, world: World) -> None:
    submit = world.load("invoke_message_action_submit")
    first = await cx.post(submit)
    again = await cx.post(submit)  # Teams retrying the same invoke (same activity id)
    assert first[0] == again[0] == 200
    assert "Thanks, this is now story #" in json.dumps(_dialog_card(first[1]))
    assert "already a story" in json.dumps(_dialog_card(again[1]))
    assert len(_comments(cx)) == 1


async def test_a_message_with_no_text_gets_a_clear_answer_and_nothing_is_stored(cx: Server, world: World) -> None:
    submit = world.load("invoke_message_action_submit")
    submit["value"]["messagePayload"]["body"] = {"contentType": "html", "content": '<attachment id="a1"></attachment>'}
    status, body = await cx.post(submit)
    assert status == 200
    assert "no text I can send to CX stories" in json.dumps(_dialog_card(body))
    assert _comments(cx) == []


async def test_another_apps_command_or_a_malformed_value_is_answered_not_a_500(cx: Server, world: World) -> None:
    for value in ({"commandId": "somethingElse"}, "junk", {"commandId": "sendToCxStories", "messagePayload": 7}):
        status, body = await cx.post(world.load("invoke_message_action_submit", value=value, id=f"f:{value!r}"[:60]))
        assert status == 200 and "task" in body
    assert _comments(cx) == []


def test_the_package_declares_the_message_action_for_the_bot() -> None:
    manifest = json.loads(_package_manifest())
    [extension] = manifest["composeExtensions"]
    assert extension["botId"] == APP_ID == manifest["bots"][0]["botId"]
    [command] = extension["commands"]
    assert command["id"] == "sendToCxStories" and command["type"] == "action"
    assert command["context"] == ["message"] and command["fetchTask"] is True
    assert command["title"] == "Send to CX stories" and len(command["description"]) <= 128


def _package_manifest() -> str:
    import io
    import zipfile

    with zipfile.ZipFile(io.BytesIO(build_package(app_id=APP_ID))) as archive:
        return archive.read("manifest.json").decode()


@pytest.mark.parametrize(
    ("html", "text"),
    [
        (
            "<p>Refund &amp; <a href='https://x.example/o/1'>order 1</a></p><p>thanks</p>",
            "Refund & order 1 (https://x.example/o/1)\nthanks",
        ),
        (
            "<div>Hi <at id='0'>Dana Scully</at>, see <a href='https://x.example'>https://x.example</a></div>",
            "Hi @Dana Scully, see https://x.example",
        ),
        ("<ul><li>late</li><li>broken</li></ul>", "- late\n- broken"),
        ('ok <emoji id="like" alt="👍" title="Like"></emoji><script>alert(1)</script><style>p{}</style>', "ok 👍"),
        ("line one<br>line two<br/>   line   three", "line one\nline two\nline three"),
        ("&lt;at&gt;Everyone&lt;/at&gt; said &quot;hi&quot;", '<at>Everyone</at> said "hi"'),
    ],
)
def test_a_teams_message_body_becomes_the_words_a_person_wrote(html: str, text: str) -> None:
    assert html_text(html) == text
