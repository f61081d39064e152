"""Adaptive Card rendering: golden payloads, card structure, Teams' size limit, and customer text as data."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from handlers.teams.cards import (
    CARD_BYTES_LIMIT,
    TEXT_LIMIT,
    department_picker_card,
    digest_card,
    follow_up_form_card,
    story_card,
)
from handlers.teams.text import WORD_JOINER, neutralise
from stories.presentation import digest_summary
from tests.golden import assert_matches_golden
from tests.render_examples import (
    ARABIC,
    HEBREW,
    HOSTILE,
    LONG_COMMENT,
    finance_digest,
    many_stories_digest,
    refund_story,
)

ELEMENTS = {"TextBlock", "RichTextBlock", "Container", "ActionSet", "Input.Text", "Input.Date", "Input.ChoiceSet"}
CX_ACTIONS = {"follow_up", "not_for_us", "commit", "reroute"}
FRAGMENTS = (
    "<at>",
    "</at>",
    "<at>Everyone</at>",
    "{{",
    "DATE(",
    "**",
    "[x](https://evil.example)",
    "<",
    "{",
    "\x1b[2J",
)
customer_text = st.lists(st.one_of(st.text(max_size=20), st.sampled_from(FRAGMENTS)), max_size=12).map("".join)


def validate_card(card: dict[str, Any]) -> None:
    """The minimum a Teams client needs: an AdaptiveCard 1.5 of known elements whose buttons carry our data."""
    assert card["type"] == "AdaptiveCard"
    assert card["version"] == "1.5"
    assert card["$schema"] == "http://adaptivecards.io/schemas/adaptive-card.json"
    assert isinstance(card["body"], list) and card["body"]
    for element in card["body"]:
        _validate_element(element)
    for action in card.get("actions", []):
        _validate_action(action)


def _validate_element(element: dict[str, Any]) -> None:
    kind = element["type"]
    assert kind in ELEMENTS, kind
    if kind == "TextBlock":
        assert isinstance(element["text"], str) and element["text"]
        assert element["wrap"] is True
    elif kind == "RichTextBlock":
        assert element["inlines"]
        for run in element["inlines"]:
            assert run["type"] == "TextRun" and isinstance(run["text"], str)
    elif kind == "Container":
        for item in element["items"]:
            _validate_element(item)
    elif kind == "ActionSet":
        for action in element["actions"]:
            _validate_action(action)
    else:
        assert isinstance(element["id"], str) and element["id"]
        assert isinstance(element["label"], str)
        if kind == "Input.ChoiceSet":
            assert all(isinstance(c["title"], str) and isinstance(c["value"], str) for c in element["choices"])


def _validate_action(action: dict[str, Any]) -> None:
    if action["type"] == "Action.OpenUrl":
        assert action["url"].startswith("https://")
        return
    assert action["type"] == "Action.Submit"
    assert isinstance(action["title"], str) and action["title"]
    data = action["data"]
    assert isinstance(data, dict)
    assert data["cx_action"] in CX_ACTIONS
    assert isinstance(data["story_id"], int)


def elements(card: dict[str, Any]) -> Iterator[dict[str, Any]]:
    stack = list(card["body"])
    while stack:
        element = stack.pop(0)
        yield element
        stack[:0] = element.get("items", [])


def strings(payload: object) -> Iterator[str]:
    if isinstance(payload, str):
        yield payload
    elif isinstance(payload, dict):
        for value in payload.values():
            yield from strings(value)
    elif isinstance(payload, list):
        for item in payload:
            yield from strings(item)


def runs(card: dict[str, Any]) -> list[str]:
    return [r["text"] for e in elements(card) if e["type"] == "RichTextBlock" for r in e["inlines"]]


def submits(card: dict[str, Any]) -> list[dict[str, Any]]:
    actions = list(card.get("actions", []))
    actions += [a for e in elements(card) if e["type"] == "ActionSet" for a in e["actions"]]
    return [a["data"] for a in actions if a["type"] == "Action.Submit"]


def wire_size(card: dict[str, Any]) -> int:
    return len(json.dumps(card, separators=(",", ":")).encode())


# 1. Golden payloads and structure


def test_story_card_matches_golden() -> None:
    card = story_card(refund_story(), note="Dana will follow up: call the customer by Fri 7 Mar")
    validate_card(card)
    assert_matches_golden("teams/card_story.json", card)


def test_digest_card_matches_golden() -> None:
    card = digest_card(finance_digest())
    validate_card(card)
    assert_matches_golden("teams/card_digest_finance.json", card)


def test_follow_up_form_matches_golden() -> None:
    card = follow_up_form_card(4211, default_owner_name="Dana Scully")
    validate_card(card)
    assert_matches_golden("teams/card_follow_up_form.json", card)


def test_department_picker_matches_golden() -> None:
    card = department_picker_card(4211, ["Finance", "Product", "R&D", "Support"])
    validate_card(card)
    assert_matches_golden("teams/card_department_picker.json", card)


# 2. What the cards show and submit


def test_story_buttons_submit_the_action_and_story_id() -> None:
    card = story_card(refund_story())
    assert submits(card) == [
        {"cx_action": "follow_up", "story_id": 4211},
        {"cx_action": "not_for_us", "story_id": 4211},
    ]
    assert [a["title"] for a in card["actions"]] == ["I'll follow up", "Not for us", "Original message"]
    assert card["actions"][-1]["url"] == refund_story().permalink


def test_story_without_actions_keeps_only_the_link_and_shows_the_note() -> None:
    card = story_card(refund_story(), with_actions=False, note="Dana will follow up: call by Fri")
    assert submits(card) == []
    assert [a["type"] for a in card["actions"]] == ["Action.OpenUrl"]
    assert runs(card)[-1] == "Dana will follow up: call by Fri"


def test_story_card_shows_context_why_and_themes() -> None:
    shown = runs(story_card(refund_story()))
    assert shown[:2] == [refund_story().title, refund_story().text]
    assert shown[2].startswith("Story #4211 · NPS 2 (detractor) · Sentiment: negative · Source: nps-survey")
    assert shown[3:] == ["Why here: keyword 'refund'; score nps" + "<" + WORD_JOINER + "=6", "Themes: refunds, billing"]


def test_story_card_shows_the_customers_date_when_it_differs_from_the_day_it_arrived() -> None:
    old = replace(refund_story(), original_at=refund_story().received_at.replace(year=2019))
    assert "Written 4 Mar 2019 · Received 4 Mar 2025" in runs(story_card(old))[2]


def test_link_that_is_not_a_web_address_gets_no_button() -> None:
    card = story_card(replace(refund_story(), permalink="javascript:alert(1)"))
    assert all(a["type"] == "Action.Submit" for a in card["actions"])


def test_digest_card_lists_each_story_with_its_buttons_and_counts_the_rest() -> None:
    card = digest_card(finance_digest())
    assert [d["story_id"] for d in submits(card)] == [4211, 4211, 4212, 4212, 4213, 4213]
    texts = [e["text"] for e in elements(card) if e["type"] == "TextBlock"]
    assert texts == ["7 new stories · 2 open commitments", "and 4 more stories"]
    assert runs(card)[0] == "Finance: customer stories, 3–9 Mar 2025"
    assert ARABIC in runs(card)


def test_follow_up_form_defaults_the_owner_and_submits_a_commitment() -> None:
    card = follow_up_form_card(4211, default_owner_name="Dana Scully")
    inputs = {e["id"]: e for e in elements(card) if e["type"].startswith("Input.")}
    assert set(inputs) == {"what", "owner", "due"}
    assert inputs["owner"]["value"] == "Dana Scully"
    assert inputs["due"]["type"] == "Input.Date"
    assert submits(card) == [{"cx_action": "commit", "story_id": 4211}]
    blank = follow_up_form_card(4211, default_owner_name=None)
    assert "value" not in next(e for e in elements(blank) if e.get("id") == "owner")


def test_department_picker_offers_each_department_and_submits_a_reroute() -> None:
    card = department_picker_card(9, ["Finance", "<at>Legal</at>"])
    (choice_set,) = [e for e in elements(card) if e["type"] == "Input.ChoiceSet"]
    assert [c["value"] for c in choice_set["choices"]] == ["Finance", "<at>Legal</at>"]
    assert choice_set["choices"][1]["title"] == neutralise("<at>Legal</at>")
    assert submits(card) == [{"cx_action": "reroute", "story_id": 9}]
    with pytest.raises(ValueError, match="no other department"):
        department_picker_card(9, [])


# 3. Customer text is data


def test_mention_markup_and_date_functions_are_broken_but_read_the_same() -> None:
    joiner = WORD_JOINER
    assert neutralise("<at>Everyone</at> {{DATE(x)}}") == (
        "<" + joiner + "at>Everyone<" + joiner + "/at> {" + joiner + "{DATE(x)}}"
    )
    assert neutralise("{{{").replace(WORD_JOINER, "") == "{{{"
    assert "{{" not in neutralise("{{{")


def test_hostile_comment_is_plain_text_in_text_runs_only() -> None:
    story = replace(refund_story(), title=HOSTILE[:80], text=HOSTILE, segment="<at>Everyone</at>")
    card = story_card(story)
    validate_card(card)
    dumped = json.dumps(card, ensure_ascii=False)
    assert "<at>" not in dumped and "{{" not in dumped and "\x1b" not in dumped
    assert not [e for e in elements(card) if e["type"] == "TextBlock"]  # TextBlocks read Markdown
    body = runs(card)[1].replace(WORD_JOINER, "")
    assert "**bold** [click](https://evil.example)" in body  # Markdown characters shown as typed, no backslashes


@settings(deadline=None, max_examples=150)
@given(title=customer_text, text=customer_text, segment=customer_text, theme=customer_text, note=customer_text)
def test_no_mention_survives_any_customer_text(title: str, text: str, segment: str, theme: str, note: str) -> None:
    story = replace(refund_story(), title=title, text=text, segment=segment or None, themes=(theme,), reasons=(theme,))
    for card in (story_card(story, note=note or None), digest_card(replace(finance_digest(), stories=(story,) * 3))):
        validate_card(card)
        for value in strings(card):
            assert "<at>" not in value.lower()
            assert "{{" not in value
            assert "\x1b" not in value


# 4. Limits with long, emoji and right-to-left text


def test_long_story_text_is_cut_with_an_ellipsis() -> None:
    card = story_card(replace(refund_story(), text=LONG_COMMENT * 2))
    text = runs(card)[1]
    assert len(text.replace(WORD_JOINER, "")) == TEXT_LIMIT
    assert text.endswith("…")


def test_story_card_of_emoji_and_long_lines_is_cut_until_it_fits() -> None:
    emoji = "😡🙏🏽🇩🇪👩\u200d💻" * 600
    story = replace(refund_story(), title=emoji, text=emoji, reasons=(emoji,), themes=(emoji,), segment=emoji)
    card = story_card(story, note=emoji)
    validate_card(card)
    assert wire_size(card) <= CARD_BYTES_LIMIT
    assert runs(card)[1].endswith("…")
    assert wire_size(story_card(refund_story())) < 5000  # an ordinary story keeps its full text


@pytest.mark.parametrize("text", [LONG_COMMENT, ARABIC * 40, HEBREW * 40, "😡🙏🏽🇩🇪👩\u200d💻" * 300])
def test_twenty_story_digest_stays_under_the_teams_size_limit(text: str) -> None:
    digest = many_stories_digest(20, text=text)
    card = digest_card(digest)
    validate_card(card)
    assert wire_size(card) <= CARD_BYTES_LIMIT
    shown = len([e for e in card["body"] if e["type"] == "Container"])
    assert 1 <= shown <= 20
    closing = card["body"][-1]
    if shown < 20:
        assert closing == {
            "type": "TextBlock",
            "text": f"and {20 - shown} more stories",
            "wrap": True,
            "separator": True,
            "isSubtle": True,
        }
    assert card["body"][1]["text"] == digest_summary(digest)


def test_fifteen_stories_of_the_longest_summary_all_fit() -> None:
    stories = tuple(replace(refund_story(), story_id=i, text="x" * 280) for i in range(15))
    card = digest_card(replace(finance_digest(), stories=stories, total_in_period=15))
    assert len([e for e in card["body"] if e["type"] == "Container"]) == 15
    assert "more stor" not in json.dumps(card)
