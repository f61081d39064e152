"""Every view the command layer can answer with has an Adaptive Card, and typed text stays plain text."""

from __future__ import annotations

import json
import typing
from datetime import date

from handlers.teams.render import render
from stories.views import ActionsView, CommitmentItem, Notice, View


def test_every_view_of_the_command_layer_has_a_teams_rendering() -> None:
    missing = [kind.__name__ for kind in typing.get_args(View) if render.dispatch(kind) is render.dispatch(object)]
    assert missing == []


def test_commitments_render_with_close_buttons_and_typed_text_as_text_runs() -> None:
    item = CommitmentItem(
        id=7,
        story_id=3,
        story_title="Refund <at>Everyone</at> missing",
        department="Finance & Billing",
        owner="aad-fiona",
        what="Call **back** {{DATE(2026-03-06)}}",
        due=date(2026, 3, 6),
        age_days=1,
        overdue=False,
        state="open",
        platform="teams",
        due_label="due Fri 6 Mar",
        owner_name="Fiona",
    )
    card = render(ActionsView(heading="Open commitments", items=(item,), page=1, pages=2, filter="finance"))
    text = json.dumps(card, ensure_ascii=False)
    assert "<at>" not in text and "{{" not in text
    buttons = [a["data"] for a in card["body"][1]["items"][-1]["actions"]]
    assert buttons == [
        {"cx_action": "close", "commitment_id": 7, "state": "done"},
        {"cx_action": "close", "commitment_id": 7, "state": "dropped"},
    ]
    assert card["actions"][0]["data"] == {"cx_action": "command", "text": "actions finance page 2"}
    assert render(Notice("Saved."))["body"][0]["inlines"][0]["text"] == "Saved."
