"""handlers/slack/http.py reads a body before the ack as bolt would read it after (one parse, yarl's unquoting)."""

from __future__ import annotations

import json
from urllib.parse import urlencode

import pytest
from slack_bolt.request.internals import parse_body as bolt_parse_body

from handlers.slack.http import BadSlackRequest, parse_body

FORM = "application/x-www-form-urlencoded"
CLICK = {
    "type": "block_actions",
    "user": {"id": "U1"},
    "actions": [{"action_id": "story_done", "value": "7 & 8 = 100% \u2705 \u05e9\u05dc\u05d5\u05dd +x"}],
}
BODIES = {
    "slash command": (urlencode({"command": "/cx", "text": "story a+b & c=d 50% \u00e9", "trigger_id": "1.2"}), FORM),
    "plus for space": ("command=%2Fcx&text=actions+mine", FORM),
    "empty value and bare name": ("command=%2Fcx&text=&ssl", FORM),
    "a name twice: the last": ("text=first&text=second", FORM),
    "interactive payload": (urlencode({"payload": json.dumps(CLICK)}), FORM),
    "a bad escape kept as written": ("command=%2Fcx&text=100%ZZ", FORM),
    "event as JSON": (
        json.dumps({"type": "event_callback", "event": {"type": "message", "text": "a&b=c"}}),
        "application/json",
    ),
    "JSON sent as a form": (json.dumps({"type": "url_verification", "challenge": "x"}), FORM),
}


@pytest.mark.parametrize("case", list(BODIES))
def test_a_body_reads_as_bolt_reads_it(case: str) -> None:
    text, content_type = BODIES[case]
    assert parse_body(text, content_type=content_type) == bolt_parse_body(text, content_type)


def test_a_command_that_mentions_payload_is_its_fields_where_bolt_reads_nothing() -> None:
    text = "command=%2Fcx&text=story+the+payload+failed"
    assert bolt_parse_body(text, FORM) == {}  # bolt's reading, which matched no listener
    assert parse_body(text, content_type=FORM) == {"command": "/cx", "text": "story the payload failed"}


@pytest.mark.parametrize(
    ("text", "content_type"),
    [
        ("[1, 2]", "application/json"),
        ("payload=%5B1%5D", FORM),
        ("payload=hello", FORM),
        ('{"a": ', "application/json"),
    ],
)
def test_a_body_that_is_not_an_object_is_refused(text: str, content_type: str) -> None:
    with pytest.raises(BadSlackRequest):
        parse_body(text, content_type=content_type)
