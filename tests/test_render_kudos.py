"""The kudos views on both platforms: the board's wording, and praise suggestions whose customer text may be
hostile or long still fit Slack's limits and reach no payload as markup."""

from __future__ import annotations

import json

from handlers.slack.render import render as slack_render
from handlers.teams.render import render as teams_render
from stories.views import DepartmentThanks, KudosBoardRow, KudosBoardView, PraiseSuggestion, PraiseView
from tests.render_examples import HOSTILE, LONG_COMMENT


def praise(count: int) -> PraiseView:
    items = tuple(
        PraiseSuggestion(story_id=100 + n, story_title=HOSTILE[:80], names=("Zoë", "<!here>"), quote=LONG_COMMENT)
        for n in range(count)
    )
    return PraiseView(items=items, days=7)


def test_slack_praise_keeps_under_fifty_blocks_and_escapes_customer_text() -> None:
    message = slack_render(praise(30))
    assert len(message["blocks"]) == 1 + 12 * 4  # header, then four blocks for each of the first twelve
    text = json.dumps(message)
    assert "<!here>" not in text and "<!channel>" not in text and "<@U024BE7LH>" not in text
    actions = [b for b in message["blocks"] if b["type"] == "actions"]
    assert [a["block_id"] for a in actions] == [f"praise:{100 + n}" for n in range(12)]
    assert actions[0]["elements"][1]["value"] == "100:Zoë"


def test_teams_praise_puts_customer_text_in_plain_text_runs_with_a_picker_per_story() -> None:
    card = teams_render(praise(3))
    body = card["body"][1:]
    assert [c["items"][3]["id"] for c in body] == ["receiver_100", "receiver_101", "receiver_102"]
    assert body[0]["items"][1]["type"] == "RichTextBlock"  # the quote: a TextRun, never Markdown
    assert body[0]["items"][4]["actions"][0]["data"] == {"cx_action": "give_kudos", "story_id": 100, "name": "Zoë"}


def test_the_board_says_people_not_points_on_both_platforms() -> None:
    view = KudosBoardView(
        month="December 2026",
        department=None,
        rows=(KudosBoardRow(receiver="U0DANA0001", name="dana", thanked_by=3, kudos=4),),
        departments=(DepartmentThanks(department="Finance", people=1),),
    )
    slack = slack_render(view)
    assert [b["text"]["text"] for b in slack["blocks"][:3]] == [
        "Kudos, December 2026",
        "1. <@U0DANA0001>: thanked by 3 people",
        "*Per department*\nFinance: 1 person thanked",
    ]
    teams = json.dumps(teams_render(view), ensure_ascii=False)
    assert "1. dana: thanked by 3 people" in teams and '"title": "Finance", "value": "1 person thanked"' in teams
