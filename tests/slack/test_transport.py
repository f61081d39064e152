"""POST /slack/events: Slack's signature and clock checks, quick acks, and bad input never answered with a 500."""

from __future__ import annotations

import json
import time

from storage.models import Comment, ProcessedEvent
from tests.fakes.slack_signing import JSON, json_body
from tests.slack.conftest import SlackServer, command_fields, fresh_event, payload


async def test_bad_signature_gets_401_and_changes_nothing(slack: SlackServer) -> None:
    status, _, _ = await slack.event(payload("event_message_channels.json"), secret="not-the-signing-secret")
    assert status == 401
    await slack.settle()
    assert slack.count(Comment) == 0
    assert slack.count(ProcessedEvent) == 0
    assert slack.api.calls == []


async def test_stale_timestamp_gets_401_and_changes_nothing(slack: SlackServer) -> None:
    six_minutes_ago = int(time.time()) - 6 * 60
    status, _, _ = await slack.event(payload("event_message_channels.json"), timestamp=six_minutes_ago)
    assert status == 401
    await slack.settle()
    assert slack.count(Comment) == 0
    assert slack.api.calls == []


async def test_missing_or_garbled_signature_headers_get_401(slack: SlackServer) -> None:
    body = json_body(payload("event_message_channels.json"))
    async with slack.session.post(f"{slack.url}/slack/events", data=body, headers={"Content-Type": JSON}) as answer:
        assert answer.status == 401
    headers = {"Content-Type": JSON, "X-Slack-Request-Timestamp": "soon", "X-Slack-Signature": "v0=00"}
    async with slack.session.post(f"{slack.url}/slack/events", data=b"{", headers=headers) as answer:
        assert answer.status == 401
    await slack.settle()
    assert slack.count(Comment) == 0


async def test_url_verification_answers_the_challenge(slack: SlackServer) -> None:
    status, answer, _ = await slack.event(payload("url_verification.json"))
    assert status == 200
    assert json.loads(answer)["challenge"] == payload("url_verification.json")["challenge"]


async def test_every_kind_of_request_is_acknowledged_within_a_second(slack: SlackServer) -> None:
    requests = [
        slack.event(fresh_event("event_message_channels.json", ts="1764270999.000001")),
        slack.command(command_fields(text="help")),
        slack.interact(payload("block_actions_follow_up.json")),
        slack.interact(payload("shortcut_send_to_cx_stories.json")),
        slack.interact(payload("view_submission_follow_up.json")),
        slack.event(fresh_event("event_reaction_added.json")),
        slack.event(fresh_event("event_app_home_opened.json")),
    ]
    for request in requests:
        status, _, seconds = await request
        assert status == 200
        assert seconds < 1.0
    await slack.settle()


async def test_ssl_check_is_answered_without_a_signature(slack: SlackServer) -> None:
    body = b"ssl_check=1&token=gIkuvaNzQIHg97ATvDxqgjtO"
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    async with slack.session.post(f"{slack.url}/slack/events", data=body, headers=headers) as answer:
        assert answer.status == 200
