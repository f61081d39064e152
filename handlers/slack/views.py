"""Modals (views.open) for the story buttons: who follows up by when, and where else a story belongs.

A submission arrives as ``view_submission`` with ``callback_id`` and the story id in ``private_metadata``;
each input's value is at ``view["state"]["values"][block_id][action_id]``, and both ids are the names below
("what", "owner", "due"; "department").
"""

from __future__ import annotations

from collections.abc import Sequence

from slack_sdk.models.blocks import (
    DatePickerElement,
    InputBlock,
    Option,
    PlainTextInputElement,
    StaticSelectElement,
    UserSelectElement,
)
from slack_sdk.models.views import View

from stories.presentation import clean_text, truncate

FOLLOW_UP_CALLBACK = "follow_up_submit"
REROUTE_CALLBACK = "reroute_submit"
WHAT_MAX_LENGTH = 300  # a commitment is one sentence: "call the customer and refund the fee"
MAX_OPTIONS = 100  # options in one static_select
_OPTION_TEXT_LIMIT = 75
_OPTION_VALUE_LIMIT = 150


def follow_up_modal(story_id: int, *, owner_user_id: str) -> dict:
    """What will be done, by whom (the person who clicked, unless changed) and by when."""
    view = View(
        type="modal",
        callback_id=FOLLOW_UP_CALLBACK,
        private_metadata=str(story_id),
        title="Follow up",
        submit="Save",
        close="Cancel",
        blocks=[
            InputBlock(
                block_id="what",
                label="What will you do?",
                element=PlainTextInputElement(
                    action_id="what",
                    placeholder="Call the customer and refund the fee",
                    max_length=WHAT_MAX_LENGTH,
                ),
            ),
            InputBlock(
                block_id="owner",
                label="Who follows up?",
                element=UserSelectElement(action_id="owner", placeholder="Pick a person", initial_user=owner_user_id),
            ),
            InputBlock(
                block_id="due",
                label="By when?",
                element=DatePickerElement(action_id="due", placeholder="Pick a date"),
            ),
        ],
    )
    return view.to_dict()


def reroute_modal(story_id: int, departments: Sequence[str]) -> dict:
    """A choice of department for a story that reached the wrong one.

    Raises ValueError when there is nothing to choose or more than one menu holds, so the caller can answer
    the person with that message instead of failing inside Slack.
    """
    if not departments:
        raise ValueError("there is no other department to send this story to")
    if len(departments) > MAX_OPTIONS:
        raise ValueError(f"{len(departments)} departments do not fit one menu (at most {MAX_OPTIONS})")
    too_long = [d for d in departments if len(d) > _OPTION_VALUE_LIMIT]
    if too_long:
        raise ValueError(f"department names longer than {_OPTION_VALUE_LIMIT} characters: {too_long}")
    options = [Option(text=truncate(clean_text(name), _OPTION_TEXT_LIMIT), value=name) for name in departments]
    view = View(
        type="modal",
        callback_id=REROUTE_CALLBACK,
        private_metadata=str(story_id),
        title="Send elsewhere",
        submit="Send",
        close="Cancel",
        blocks=[
            InputBlock(
                block_id="department",
                label="Which department should read this story?",
                element=StaticSelectElement(action_id="department", placeholder="Department", options=options),
            )
        ],
    )
    return view.to_dict()
