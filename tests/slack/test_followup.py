"""Story buttons, their modals, and reactions: commitments, re-routes and reaction rows, each exactly once."""

from __future__ import annotations

import copy
import json
from typing import Any

from sqlalchemy import select

from storage.models import Commitment, Correction, Department, Reaction, Route
from tests.slack.conftest import SlackServer, fresh_event, payload


async def _story_in_finance(slack: SlackServer) -> tuple[int, str]:
    """A comment taken in through the intake channel and posted to Finance: (story id, message ts)."""
    await slack.event(payload("event_message_channels.json"))
    await slack.settle()
    post = slack.api.calls_to("chat.postMessage", ok_only=True)[0]
    assert post.params["channel"] == "C0FINANCE1"
    actions = next(b for b in post.blocks if b["type"] == "actions")
    return int(actions["elements"][0]["value"]), str(post.response["ts"])


def _click(name: str, *, story_id: int, ts: str, action_ts: str = "1764271100.001300") -> dict[str, Any]:
    body = payload(name)
    body["container"]["message_ts"] = ts
    body["message"]["ts"] = ts
    body["actions"][0]["value"] = str(story_id)
    body["actions"][0]["action_ts"] = action_ts
    body["trigger_id"] = f"{action_ts}.1234567890.abcdef"
    return body


def _submission(name: str, opened: dict[str, Any], **values: Any) -> dict[str, Any]:
    """The view_submission Slack sends for the modal we opened (its id and private_metadata)."""
    body = payload(name)
    body["view"]["id"] = opened["id"]
    body["view"]["hash"] = opened["hash"]
    body["view"]["private_metadata"] = opened["private_metadata"]
    for block, value in values.items():
        body["view"]["state"]["values"][block][block].update(value)
    return body


async def _open_follow_up(slack: SlackServer, story_id: int, ts: str, action_ts: str) -> dict[str, Any]:
    before = len(slack.api.calls_to("views.open", ok_only=True))
    status, _, _ = await slack.interact(
        _click("block_actions_follow_up.json", story_id=story_id, ts=ts, action_ts=action_ts)
    )
    assert status == 200
    await slack.settle()
    calls = slack.api.calls_to("views.open", ok_only=True)
    assert len(calls) == before + 1
    return dict(calls[-1].response["view"])


async def test_follow_up_button_opens_the_modal_and_its_submission_makes_a_commitment(slack: SlackServer) -> None:
    story_id, ts = await _story_in_finance(slack)
    opened = await _open_follow_up(slack, story_id, ts, "1764271100.001300")
    assert opened["callback_id"] == "follow_up_submit"
    assert json.loads(opened["private_metadata"])["story"] == story_id
    status, answer, _ = await slack.interact(_submission("view_submission_follow_up.json", opened))
    assert status == 200 and answer in (b"", b"{}")
    await slack.settle()

    with slack.app.engine.connect() as conn:
        rows = conn.execute(select(Commitment.story_id, Commitment.owner, Commitment.what, Commitment.state)).all()
    assert [tuple(r) for r in rows] == [
        (story_id, "U0DANA0001", "Call the customer and refund the second charge", "open")
    ]
    reply = [c for c in slack.api.calls_to("chat.postMessage", ok_only=True) if c.params.get("thread_ts") == ts]
    assert len(reply) == 1 and "will follow up" in reply[0].params["text"]
    note = slack.api.calls_to("chat.update", ok_only=True)
    assert note and note[-1].params["ts"] == ts and "will follow up" in note[-1].payload_text()
    assert "Noted" in slack.api.calls_to("chat.postEphemeral")[-1].payload_text()


async def test_double_clicked_follow_up_makes_one_commitment(slack: SlackServer) -> None:
    story_id, ts = await _story_in_finance(slack)
    first = await _open_follow_up(slack, story_id, ts, "1764271100.001300")
    second = await _open_follow_up(slack, story_id, ts, "1764271100.451300")
    await slack.interact(_submission("view_submission_follow_up.json", first))
    await slack.interact(_submission("view_submission_follow_up.json", second))
    await slack.interact(_submission("view_submission_follow_up.json", second))  # and a resend
    await slack.settle()
    assert slack.count(Commitment) == 1
    replies = [c for c in slack.api.calls_to("chat.postMessage", ok_only=True) if c.params.get("thread_ts") == ts]
    assert len(replies) == 1


async def test_replayed_click_opens_one_modal(slack: SlackServer) -> None:
    story_id, ts = await _story_in_finance(slack)
    click = _click("block_actions_follow_up.json", story_id=story_id, ts=ts)
    await slack.interact(click)
    await slack.interact(copy.deepcopy(click))
    await slack.settle()
    assert len(slack.api.calls_to("views.open")) == 1


async def test_a_past_due_date_is_refused_beside_the_field(slack: SlackServer) -> None:
    story_id, ts = await _story_in_finance(slack)
    opened = await _open_follow_up(slack, story_id, ts, "1764271100.001300")
    body = _submission(
        "view_submission_follow_up.json", opened, due={"selected_date": "2020-01-31"}, what={"value": "  "}
    )
    status, answer, seconds = await slack.interact(body)
    assert status == 200 and seconds < 1.0
    errors = json.loads(answer)
    assert errors["response_action"] == "errors"
    assert set(errors["errors"]) == {"due", "what"}
    await slack.settle()
    assert slack.count(Commitment) == 0


def _by(body: dict[str, Any], user: str) -> dict[str, Any]:
    body["user"]["id"] = user
    return body


async def test_not_for_us_reroutes_the_story_and_records_the_correction(slack: SlackServer) -> None:
    story_id, ts = await _story_in_finance(slack)
    agent = "U0CXAGENT1"  # the CX team, by its user group
    await slack.interact(_by(_click("block_actions_not_for_us.json", story_id=story_id, ts=ts), agent))
    await slack.settle()
    opened = slack.api.calls_to("views.open", ok_only=True)[0].response["view"]
    options = [o["value"] for o in opened["blocks"][0]["element"]["options"]]
    assert "Finance" not in options and "Product" in options
    await slack.interact(_by(_submission("view_submission_reroute.json", opened), agent))
    await slack.settle()
    with slack.app.engine.connect() as conn:
        corrections = conn.execute(select(Correction.story_id, Correction.by_user)).all()
    assert [tuple(c) for c in corrections] == [(story_id, agent)]
    to_product = [
        c for c in slack.api.calls_to("chat.postMessage", ok_only=True) if c.params["channel"] == "C0PRODUCT1"
    ]
    assert len(to_product) == 1
    in_thread = [c for c in slack.api.calls_to("chat.postMessage", ok_only=True) if c.params.get("thread_ts") == ts]
    assert len(in_thread) == 1 and "Product" in in_thread[0].params["text"]


async def test_not_for_us_by_someone_outside_the_department_and_cx_team_is_refused(slack: SlackServer) -> None:
    story_id, ts = await _story_in_finance(slack)
    await slack.interact(_click("block_actions_not_for_us.json", story_id=story_id, ts=ts))  # Dana: no role
    await slack.settle()
    assert slack.api.calls_to("views.open") == []
    told = slack.api.calls_to("chat.postEphemeral", ok_only=True)[-1]
    assert told.params["user"] == "U0DANA0001" and "Only Finance's managers" in told.payload_text()

    # A submission Dana makes up (the modal's metadata is easy to copy) meets the same rule in the core.
    forged = {"id": "V0FORGED01", "hash": "1764271100.forged", "private_metadata": json.dumps({"story": story_id})}
    await slack.interact(_submission("view_submission_reroute.json", forged))
    await slack.settle()
    assert slack.count(Correction) == 0
    assert "Only Finance's managers" in slack.api.calls_to("chat.postEphemeral", ok_only=True)[-1].payload_text()
    with slack.app.engine.connect() as conn:
        routed = conn.scalars(
            select(Department.name).join(Route, Route.department_id == Department.id).where(Route.story_id == story_id)
        ).all()
    assert routed == ["Finance"]


def _reaction(name: str, ts: str, *, event_id: str) -> dict[str, Any]:
    body = fresh_event(name)
    body["event_id"] = event_id
    body["event"]["item"]["ts"] = ts
    return body


async def test_reactions_on_a_story_are_recorded_once_and_removal_deletes_them(slack: SlackServer) -> None:
    story_id, ts = await _story_in_finance(slack)
    added = _reaction("event_reaction_added.json", ts, event_id="Ev0REACTAD1")
    await slack.event(added)
    await slack.event(added, headers={"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"})
    await slack.settle()
    with slack.app.engine.connect() as conn:
        rows = conn.execute(select(Reaction.story_id, Reaction.user_id, Reaction.emoji)).all()
    assert [tuple(r) for r in rows] == [(story_id, "U0DANA0001", "eyes")]
    await slack.event(_reaction("event_reaction_removed.json", ts, event_id="Ev0REACTRM1"))
    await slack.settle()
    assert slack.count(Reaction) == 0


async def test_added_then_removed_in_quick_succession_leaves_no_reaction(slack: SlackServer) -> None:
    _, ts = await _story_in_finance(slack)
    for n in range(3):
        await slack.event(_reaction("event_reaction_added.json", ts, event_id=f"Ev0ADD{n}"))
        await slack.event(_reaction("event_reaction_removed.json", ts, event_id=f"Ev0REM{n}"))
    await slack.settle()
    assert slack.count(Reaction) == 0


async def test_reactions_on_other_messages_are_ignored(slack: SlackServer) -> None:
    await _story_in_finance(slack)
    await slack.event(_reaction("event_reaction_added.json", "1111111111.000001", event_id="Ev0OTHER01"))
    await slack.settle()
    assert slack.count(Reaction) == 0
