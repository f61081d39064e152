"""The loop told back on Slack, and emoji that act: a commitment marked done (here by ✅ on its reply) is told in
the intake message's thread, by DM to whoever sent the message with the shortcut, and in the CX team's channel;
👀 on a story shows on its card. Over the fake Slack Web API, asserting on what was posted."""

from __future__ import annotations

import copy
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from sqlalchemy import select

from bot.settings import Settings
from storage.models import CommentOrigin, Commitment
from tests.fakes.slack_api import FakeSlackApi
from tests.slack.conftest import CONFIG, SlackServer, fresh_event, payload, running
from tests.slack.test_followup import _open_follow_up, _story_in_finance, _submission

LOOP_CONFIG: dict[str, Any] = {**CONFIG, "emoji_actions": {"looking": ["eyes"], "done": ["white_check_mark"]}}
INTAKE_TS = "1764270000.000100"  # the intake message of event_message_channels.json
OWNER = "U0DANA0001"  # who view_submission_follow_up.json commits


@pytest.fixture
async def slack(slack_api: FakeSlackApi, slack_settings: Callable[..., Settings]) -> AsyncIterator[SlackServer]:
    async with running(slack_settings(), slack_api, LOOP_CONFIG) as server:
        yield server


def _shortcut_of_the_intake_message() -> dict[str, Any]:
    """Sam sends the intake channel's message with "Send to CX stories" too: the same comment, a second origin."""
    body = payload("shortcut_send_to_cx_stories.json")
    event = payload("event_message_channels.json")["event"]
    body["channel"] = {"id": "C0INTAKE01", "name": "cx-intake"}
    body["message"] = {k: event[k] for k in ("type", "text", "user", "ts", "team")}
    body["message_ts"] = INTAKE_TS
    return body


async def _committed(slack: SlackServer) -> tuple[int, str, str]:
    """Story from the intake channel, sent by shortcut too, and Dana's commitment: (story, card ts, reply ts)."""
    story_id, card_ts = await _story_in_finance(slack)
    status, _, _ = await slack.interact(_shortcut_of_the_intake_message())
    assert status == 200
    opened = await _open_follow_up(slack, story_id, card_ts, "1764271100.001300")
    await slack.interact(_submission("view_submission_follow_up.json", opened))
    await slack.settle()
    [reply] = [
        c
        for c in slack.api.calls_to("chat.postMessage", ok_only=True)
        if c.params.get("thread_ts") == card_ts and "will follow up" in c.params["text"]
    ]
    return story_id, card_ts, str(reply.response["ts"])


def _reacted(user: str, emoji: str, ts: str, *, event_id: str, channel: str = "C0FINANCE1") -> dict[str, Any]:
    body = fresh_event("event_reaction_added.json")
    body["event_id"] = event_id
    body["event"].update(user=user, reaction=emoji, item={"type": "message", "channel": channel, "ts": ts})
    return body


def _posts(slack: SlackServer, since: int = 0) -> list[Any]:
    return slack.api.calls_to("chat.postMessage", ok_only=True)[since:]


def _state(slack: SlackServer) -> str:
    with slack.app.engine.connect() as conn:
        return str(conn.scalar(select(Commitment.state)))


async def test_intake_and_shortcut_record_where_the_comment_came_from_and_who_sent_it(slack: SlackServer) -> None:
    await _committed(slack)
    with slack.app.engine.connect() as conn:
        rows = conn.execute(
            select(
                CommentOrigin.platform,
                CommentOrigin.via,
                CommentOrigin.workspace,
                CommentOrigin.channel,
                CommentOrigin.thread,
                CommentOrigin.sender,
            ).order_by(CommentOrigin.id)
        ).all()
    assert [tuple(r) for r in rows] == [
        ("slack", "channel", "T0FAKE0001", "C0INTAKE01", INTAKE_TS, "U0CXAGENT1"),
        ("slack", "shortcut", "T0FAKE0001", "C0INTAKE01", INTAKE_TS, "U0SAMSALES"),
    ]


async def test_done_by_emoji_is_told_in_the_intake_thread_to_the_shortcut_sender_and_in_the_cx_channel(
    slack: SlackServer,
) -> None:
    story_id, _card_ts, reply_ts = await _committed(slack)
    before = len(_posts(slack))

    await slack.event(_reacted(OWNER, "white_check_mark", reply_ts, event_id="Ev0DONE0001"))
    await slack.settle()

    assert _state(slack) == "done"
    posted = {(c.params["channel"], c.params.get("thread_ts")): c.params["text"] for c in _posts(slack, before)}
    told = posted[("C0INTAKE01", INTAKE_TS)]  # a reply in the intake message's own thread
    assert told.startswith("Update on the customer comment you passed on")
    assert f"(story #{story_id})" in told and "Call the customer and refund the second charge" in told
    assert posted[("U0SAMSALES", None)] == told  # a direct message to whoever used the shortcut
    cx_line = posted[("C0SUPPORT1", None)]  # the CX team: the default department's channel
    assert cx_line.startswith("Loop closed on") and "Told 1 intake thread and 1 person who sent it in." in cx_line

    again = len(_posts(slack))  # ✅ again (another event) or the Done button after it: nobody is told twice
    await slack.event(_reacted(OWNER, "white_check_mark", reply_ts, event_id="Ev0DONE0002"))
    removed = _reacted(OWNER, "white_check_mark", reply_ts, event_id="Ev0UNDONE01")
    removed["event"]["type"] = "reaction_removed"
    await slack.event(removed)  # taking the ✅ away does not reopen it
    await slack.settle()
    assert len(_posts(slack)) == again
    assert _state(slack) == "done"


async def test_a_check_mark_from_someone_who_may_not_close_it_changes_nothing(slack: SlackServer) -> None:
    _story_id, _card_ts, reply_ts = await _committed(slack)
    before = len(_posts(slack))

    await slack.event(_reacted("U0STRANGER", "white_check_mark", reply_ts, event_id="Ev0DONE0003"))
    await slack.event(_reacted(OWNER, "heart", reply_ts, event_id="Ev0DONE0004"))  # not a configured emoji
    await slack.settle()

    assert _state(slack) == "open"
    assert [c.params["text"] for c in _posts(slack, before)] == []

    await slack.event(_reacted("U0MANAGER1", "white_check_mark", reply_ts, event_id="Ev0DONE0005"))  # a manager
    await slack.settle()
    assert _state(slack) == "done"


async def test_eyes_on_a_story_shows_who_is_looking_on_its_card(slack: SlackServer) -> None:
    _story_id, card_ts = await _story_in_finance(slack)

    await slack.event(_reacted(OWNER, "eyes", card_ts, event_id="Ev0LOOK0001"))
    await slack.settle()
    [update] = slack.api.calls_to("chat.update", ok_only=True)
    assert update.params["ts"] == card_ts and "1 person is looking into it" in update.payload_text()

    await slack.event(_reacted("U0CXAGENT1", "eyes", card_ts, event_id="Ev0LOOK0002"))
    await slack.settle()
    assert "2 people are looking into it" in slack.api.calls_to("chat.update", ok_only=True)[-1].payload_text()


async def test_a_done_button_tells_the_loop_the_same_way(slack: SlackServer) -> None:
    story_id, _card_ts, _reply_ts = await _committed(slack)
    with slack.app.engine.connect() as conn:
        commitment_id = int(conn.scalar(select(Commitment.id)) or 0)
    click = copy.deepcopy(payload("block_actions_commitment_done.json"))
    click["actions"][0]["value"] = f'{{"id": {commitment_id}, "list": "actions mine page 1"}}'
    before = len(_posts(slack))
    status, _, _ = await slack.interact(click)
    assert status == 200
    await slack.settle()
    assert _state(slack) == "done"
    channels = sorted(c.params["channel"] for c in _posts(slack, before) if "story #" in c.params["text"])
    assert channels == ["C0INTAKE01", "C0SUPPORT1", "U0SAMSALES"], story_id
