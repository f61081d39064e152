"""Adaptive Cards 1.5 for the core's story and digest views, and the forms behind their buttons.

Same content as the Slack blocks (the words come from :mod:`stories.presentation`). Customer text goes only
into ``TextRun`` elements through :func:`handlers.teams.text.plain` (see there why). A button is an
``Action.Submit`` whose ``data`` names the action (``cx_action``) and the story; Teams adds the form's input
values (by input ``id``) to that dict when the person submits.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from handlers.teams.text import plain
from stories.models import DigestView, StoryView
from stories.presentation import (
    FOLLOW_UP_LABEL,
    NOT_FOR_US_LABEL,
    ORIGINAL_LABEL,
    context_line,
    digest_heading,
    digest_summary,
    hidden_count,
    more_stories_line,
    themes_line,
    web_link,
    why_line,
)
from stories.views import CommitmentItem, HomeView

SCHEMA = "http://adaptivecards.io/schemas/adaptive-card.json"
VERSION = "1.5"
TITLE_LIMIT = 150
TEXT_LIMIT = 3000  # a story on its own card; the same bound as a Slack section
LINE_LIMIT = 500  # context, why, themes and note lines
# A story card whose text is mostly emoji or another non-Latin script can outgrow CARD_BYTES_LIMIT; it is
# rebuilt with these smaller (text, line) limits until it fits.
_STORY_LIMITS = ((TEXT_LIMIT, LINE_LIMIT), (1500, 300), (600, 200), (280, 100))
DIGEST_TEXT_LIMIT = 300  # a story's text inside a digest
DIGEST_LINE_LIMIT = 200
# Teams refuses bot messages over about 28 KB; a digest card stays under this many bytes of JSON as it is
# sent (non-ASCII escaped as \\uXXXX, the worst case), leaving room for the activity around it.
CARD_BYTES_LIMIT = 25_000
WHAT_MAX_LENGTH = 300

Json = dict[str, Any]


def _size(element: object) -> int:
    return len(json.dumps(element, separators=(",", ":")).encode())


def _card(body: list[Json], actions: list[Json] | None = None) -> Json:
    card: Json = {"type": "AdaptiveCard", "$schema": SCHEMA, "version": VERSION, "body": body}
    if actions:
        card["actions"] = actions
    card["msteams"] = {"width": "Full"}
    return card


def _rich(text: str, *, limit: int, **style: Any) -> Json:
    """A RichTextBlock holding one plain TextRun (no Markdown) of untrusted text."""
    return {"type": "RichTextBlock", "inlines": [{"type": "TextRun", "text": plain(text, limit), **style}]}


def _ours(text: str, **style: Any) -> Json:
    """A TextBlock for our own words only (it reads Markdown)."""
    return {"type": "TextBlock", "text": text, "wrap": True, **style}


def _submit(title: str, cx_action: str, story_id: int, **extra: Any) -> Json:
    return {"type": "Action.Submit", "title": title, "data": {"cx_action": cx_action, "story_id": story_id}, **extra}


def _story_actions(story: StoryView, *, with_actions: bool) -> list[Json]:
    actions = []
    if with_actions:
        actions = [
            _submit(FOLLOW_UP_LABEL, "follow_up", story.story_id, style="positive"),
            _submit(NOT_FOR_US_LABEL, "not_for_us", story.story_id),
        ]
    permalink = web_link(story.permalink)
    if permalink:
        actions.append({"type": "Action.OpenUrl", "title": ORIGINAL_LABEL, "url": permalink})
    return actions


def _facts(story: StoryView, *, limit: int) -> list[Json]:
    lines = [context_line(story), why_line(story), themes_line(story)]
    return [_rich(line, limit=limit, isSubtle=True, size="Small") for line in lines if line]


def story_card(story: StoryView, *, with_actions: bool = True, note: str | None = None) -> Json:
    """One story on its own card: title, text, context, why it is here, themes, note, buttons and link."""
    for text_limit, line_limit in _STORY_LIMITS:
        body = [
            _rich(story.title, limit=TITLE_LIMIT, weight="Bolder", size="Medium"),
            _rich(story.text, limit=text_limit),
            *_facts(story, limit=line_limit),
        ]
        if note:
            body.append(_rich(note, limit=line_limit, italic=True))
        card = _card(body, _story_actions(story, with_actions=with_actions))
        if _size(card) <= CARD_BYTES_LIMIT:
            return card
    raise ValueError(f"story {story.story_id} does not fit a Teams card even with its text cut short")


def _digest_story(story: StoryView) -> Json:
    return {
        "type": "Container",
        "separator": True,
        "spacing": "Medium",
        "items": [
            _rich(story.title, limit=TITLE_LIMIT, weight="Bolder"),
            _rich(story.text, limit=DIGEST_TEXT_LIMIT),
            *_facts(story, limit=DIGEST_LINE_LIMIT),
            {"type": "ActionSet", "actions": _story_actions(story, with_actions=True)},
        ],
    }


def digest_card(digest: DigestView, *, note: str | None = None) -> Json:
    """A department's digest (``note``: stories removed at the customer's request); stories that would take
    the card past :data:`CARD_BYTES_LIMIT` are counted in a closing "and N more stories" line instead."""
    body = [
        _rich(digest_heading(digest), limit=TITLE_LIMIT, weight="Bolder", size="Large"),
        _ours(digest_summary(digest), isSubtle=True, spacing="None"),
    ]
    if note:
        body.append(_ours(note, isSubtle=True, spacing="None"))
    closing_reserve = _size(_ours(more_stories_line(10**6), separator=True)) + 1
    used = _size(_card(body)) + closing_reserve
    containers = []
    for story in digest.stories:
        container = _digest_story(story)
        cost = _size(container) + 1
        if used + cost > CARD_BYTES_LIMIT:
            break
        containers.append(container)
        used += cost
    body.extend(containers)
    hidden = hidden_count(digest, shown=len(containers))
    if hidden > 0:
        body.append(_ours(more_stories_line(hidden), separator=True, isSubtle=True))
    card = _card(body)
    if _size(card) > CARD_BYTES_LIMIT:  # a bug in the budget above, not bad input
        raise ValueError(f"digest card is {_size(card)} bytes, over {CARD_BYTES_LIMIT}")
    return card


def follow_up_form_card(story_id: int, *, owner: str, owner_name: str | None) -> Json:
    """What will be done, by whom and by when; submits ``{"cx_action": "commit", "story_id", "what", "owner", "due"}``.

    Who follows up is a people picker (``Input.ChoiceSet`` searching ``graph.users``, Teams' own directory
    search), preset to ``owner`` (the person who clicked); it submits the chosen person's Entra object id, the
    id cxbot keeps for Teams users.
    """
    owner_input: Json = {
        "type": "Input.ChoiceSet",
        "id": "owner",
        "label": "Who follows up?",
        "placeholder": "Search for a person",
        "isRequired": True,
        "errorMessage": "Pick who will follow up",
        "choices": [{"title": plain(owner_name or "You", TITLE_LIMIT), "value": owner}],
        "choices.data": {"type": "Data.Query", "dataset": "graph.users"},
        "value": owner,
    }
    body = [
        _ours("Follow up on this story", weight="Bolder", size="Medium"),
        {
            "type": "Input.Text",
            "id": "what",
            "label": "What will you do?",
            "placeholder": "Call the customer and refund the fee",
            "isRequired": True,
            "errorMessage": "Say what you will do",
            "maxLength": WHAT_MAX_LENGTH,
        },
        owner_input,
        {
            "type": "Input.Date",
            "id": "due",
            "label": "By when?",
            "isRequired": True,
            "errorMessage": "Pick a date",
        },
    ]
    return _card(body, [_submit("Save", "commit", story_id, style="positive")])


def department_picker_card(story_id: int, departments: Sequence[str]) -> Json:
    """A choice of department for a story that reached the wrong one; submits ``cx_action`` "reroute".

    Raises ValueError when there is nothing to choose, so the caller can say so instead of sending an empty form.
    """
    if not departments:
        raise ValueError("there is no other department to send this story to")
    choices = [{"title": plain(name, TITLE_LIMIT), "value": name} for name in departments]
    body = [
        _ours("Which department should read this story?", weight="Bolder"),
        {
            "type": "Input.ChoiceSet",
            "id": "department",
            "label": "Department",
            "style": "compact",
            "isRequired": True,
            "errorMessage": "Pick a department",
            "choices": choices,
        },
    ]
    return _card(body, [_submit("Send", "reroute", story_id)])


# --- the home card -------------------------------------------------------------------------------------------

HOME_ACTION = "home"  # the card's "Refresh" button: the home again, in place
HOME_TEXT_LIMIT = 300
HOME_LINE_LIMIT = 200


def _home_commitment(item: CommitmentItem) -> Json:
    lines = [
        _rich(f"{item.what} ({item.due_label})", limit=LINE_LIMIT, color="Attention" if item.overdue else "Default")
    ]
    where = " · ".join(p for p in (item.department, f"Story: {item.story_title}" if item.story_title else None) if p)
    if where:
        lines.append(_rich(where, limit=HOME_LINE_LIMIT, isSubtle=True, size="Small", spacing="None"))
    data = {"cx_action": "close", "commitment_id": item.id, "from": HOME_ACTION}
    lines.append(
        {
            "type": "ActionSet",
            "actions": [
                {"type": "Action.Submit", "title": "Done", "data": {**data, "state": "done"}, "style": "positive"},
                {"type": "Action.Submit", "title": "Drop", "data": {**data, "state": "dropped"}},
            ],
        }
    )
    return {"type": "Container", "separator": True, "items": lines}


def _home_story(story: StoryView) -> Json:
    return {
        "type": "Container",
        "separator": True,
        "items": [
            _rich(story.title, limit=TITLE_LIMIT, weight="Bolder"),
            _rich(story.text, limit=HOME_TEXT_LIMIT),
            _rich(context_line(story), limit=HOME_LINE_LIMIT, isSubtle=True, size="Small", spacing="None"),
        ],
    }


def home_card(view: HomeView) -> Json:
    """A person's home in their personal chat (Teams' counterpart of Slack's App Home): open commitments with
    Done/Drop, kudos received, their departments' latest stories, and "Refresh", which redraws it in place.
    Stories that would take the card past :data:`CARD_BYTES_LIMIT` are counted in a closing line instead."""
    body: list[Json] = [_ours("Your open commitments", weight="Bolder", size="Medium")]
    if not view.commitments:
        body.append(_ours("Nothing open. Use “I'll follow up” on a story to commit to something.", isSubtle=True))
    body.extend(_home_commitment(item) for item in view.commitments)
    body.append(_ours("Kudos you received", weight="Bolder", size="Medium", separator=True))
    if not view.kudos:
        body.append(_ours("None yet.", isSubtle=True))
    body.extend(_rich(f"From a colleague: {given.why}", limit=LINE_LIMIT) for given in view.kudos)
    heading = f"Latest stories for {', '.join(view.departments)}" if view.departments else "Latest stories"
    body.append(_rich(heading, limit=TITLE_LIMIT, weight="Bolder", size="Medium", separator=True))
    if not view.departments:
        body.append(
            _ours(
                "Ask the CX team to add you to a department (manager or ambassador) to see its stories here.",
                isSubtle=True,
            )
        )
    elif not view.stories:
        body.append(_ours(f"No stories in the last {view.story_days} days.", isSubtle=True))
    actions = [{"type": "Action.Submit", "title": "Refresh", "data": {"cx_action": HOME_ACTION}}]
    closing_reserve = _size(_ours(more_stories_line(10**6), separator=True)) + 1
    used = _size(_card(body, actions)) + closing_reserve
    shown = 0
    for story in view.stories:
        container = _home_story(story)
        cost = _size(container) + 1
        if used + cost > CARD_BYTES_LIMIT:
            break
        body.append(container)
        used += cost
        shown += 1
    if shown < len(view.stories):
        body.append(_ours(more_stories_line(len(view.stories) - shown), separator=True, isSubtle=True))
    return _card(body, actions)
