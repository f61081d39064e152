"""Bad input at POST /slack/events: a clear 4xx or a quiet ack, never a 500, never a stored comment.

These check HTTP handling, not storage, so they run on SQLite only (``database_url`` is narrowed here).
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from storage.models import Comment
from tests.fakes.slack_signing import FORM, JSON, interactive_body, json_body
from tests.slack.conftest import SlackServer, payload


@pytest.fixture
def database_url(tmp_path: Path, _sqlite_template: Path) -> Iterator[str]:
    path = tmp_path / "cxbot.db"
    shutil.copy(_sqlite_template, path)
    yield f"sqlite:///{path}"


BAD_INPUT = {
    "malformed JSON": (b'{"type": "event_callback", "event": ', JSON),
    "malformed form": (b"payload=%7B%22type%22%3A", FORM),
    "form payload that is not JSON": (b"payload=hello", FORM),
    "JSON that is a list": (b"[1, 2]", JSON),
    "event that is not an object": (json_body({"type": "event_callback", "event_id": "Ev1", "event": "x"}), JSON),
    "non-UTF-8 bytes": (b'\xff\xfe{"type": "event_callback"}', JSON),
    "view without a type (bolt trips over it)": (
        interactive_body(
            {"type": "view_submission", "user": {"id": "U1"}, "view": {"id": "V1", "callback_id": "follow_up_submit"}}
        ),
        FORM,
    ),
    "deeply nested JSON": (b'{"type": "event_callback", "event": ' + b"[" * 100_000 + b"]" * 100_000 + b"}", JSON),
    "2 MB body": (b'{"text": "' + b"x" * (2 * 1024 * 1024) + b'"}', JSON),
}


@pytest.mark.parametrize("case", list(BAD_INPUT))
async def test_bad_input_gets_a_clear_4xx(slack: SlackServer, case: str) -> None:
    body, content_type = BAD_INPUT[case]
    status, answer, _ = await slack.post(body, content_type=content_type)
    assert 400 <= status < 500
    assert answer  # says what is wrong
    await slack.settle()
    assert slack.count(Comment) == 0


QUIET = {
    "unknown event type": json_body(payload("event_pin_added.json")),
    "event callback without an event": json_body({"type": "event_callback", "event_id": "Ev0NOEVENT1"}),
    "message without channel or text": json_body(
        {"type": "event_callback", "event_id": "Ev2", "event": {"type": "message"}}
    ),
    "reaction without item": json_body(
        {"type": "event_callback", "event_id": "Ev3", "event": {"type": "reaction_added"}}
    ),
    "unknown payload type": json_body({"type": "something_new"}),
    "block_actions without actions": interactive_body({"type": "block_actions", "user": {"id": "U1"}}),
    "button without a value": interactive_body(
        {"type": "block_actions", "user": {"id": "U1"}, "actions": [{"action_id": "story_follow_up"}]}
    ),
    "view_submission without a view": interactive_body({"type": "view_submission"}),
    "slash command without text": b"command=%2Fcx",
    "empty body": b"",
}


@pytest.mark.parametrize("case", list(QUIET))
async def test_unknown_or_incomplete_payloads_get_a_quiet_ack(slack: SlackServer, case: str) -> None:
    body = QUIET[case]
    content_type = JSON if body.startswith(b"{") else FORM
    status, _, _ = await slack.post(body, content_type=content_type)
    assert status == 200
    await slack.settle()
    assert slack.count(Comment) == 0
