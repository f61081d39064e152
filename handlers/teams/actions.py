"""The buttons on story cards and the forms behind them (Adaptive Card ``Action.Submit``).

Teams delivers a submit as a ``message`` activity whose ``value`` is the button's ``data`` plus the form's
inputs, and whose ``replyToId`` is the card's message id. "I'll follow up" and "Not for us" answer in the
story's thread with a form; submitting the form calls :func:`stories.followup.commit` or
:func:`stories.followup.reroute` and replaces the form, in place, with what was recorded. The story card itself
is re-rendered through the outbox (``update`` deliveries), so everyone sees who follows up.

The write's idempotency key is the form's message id: a double click, or Teams delivering the submit twice,
records one commitment.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import date
from typing import Any

from botbuilder.core import TurnContext

from handlers.teams.activities import PLATFORM, actor_of, channel_of
from handlers.teams.cards import department_picker_card, follow_up_form_card
from handlers.teams.context import TeamsContext
from handlers.teams.messages import Said, run_command
from stories.followup import InvalidInput, close, commit, reroute, reroute_choice
from stories.models import MAX_ID
from stories.views import Notice

log = logging.getLogger(__name__)

Data = dict[str, Any]
GONE = Notice("That story no longer exists.")


def with_data(card: Data, **extra: Any) -> Data:
    """``card`` with ``extra`` added to every Action.Submit's data (what the next step needs to know)."""

    def visit(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("type") == "Action.Submit" and isinstance(node.get("data"), dict):
                node["data"].update({k: v for k, v in extra.items() if v is not None})
            for value in node.values():
                visit(value)
        elif isinstance(node, list):
            for value in node:
                visit(value)

    visit(card)
    return card


def _int(value: Any) -> int | None:
    """An id from a card's data, or None for anything that cannot be one of ours."""
    if isinstance(value, str) and value.strip().isdigit() and len(value.strip()) <= 10:
        value = int(value.strip())
    if isinstance(value, int) and not isinstance(value, bool) and 0 < value <= MAX_ID:
        return value
    return None


def _text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


def _form_key(turn: TurnContext) -> str:
    """The identity of the form submitted: its message, else this activity."""
    return f"{PLATFORM}:form:{turn.activity.reply_to_id or turn.activity.id}"


async def _clicked_department(tctx: TeamsContext, turn: TurnContext, story_id: int) -> str | None:
    """The department of the message whose button was pressed (a story card or a digest)."""
    if not turn.activity.reply_to_id:
        return None
    found = await asyncio.to_thread(
        tctx.app.outbox.story_for_message,
        platform=PLATFORM,
        channel=channel_of(turn.activity.conversation.id),
        message_id=turn.activity.reply_to_id,
    )
    return next((department for sid, department in found if sid == story_id), None)


async def _done(tctx: TeamsContext, turn: TurnContext, view: object) -> None:
    """Replace the submitted form with ``view`` (or answer, if the form cannot be found)."""
    if not (turn.activity.reply_to_id and await tctx.replace(turn, turn.activity.reply_to_id, view)):
        await tctx.answer(turn, view)


async def follow_up(tctx: TeamsContext, turn: TurnContext, data: Data) -> None:
    story_id = _int(data.get("story_id"))
    brief = await asyncio.to_thread(tctx.followups.story, story_id) if story_id is not None else None
    if brief is None or story_id is None:
        await tctx.answer(turn, GONE)
        return
    actor = actor_of(turn.activity)
    card = follow_up_form_card(story_id, default_owner_name=actor.name)
    department = await _clicked_department(tctx, turn, story_id)
    await tctx.answer(turn, with_data(card, department=department), summary="Follow up on this story")


async def not_for_us(tctx: TeamsContext, turn: TurnContext, data: Data) -> None:
    story_id = _int(data.get("story_id"))
    brief = await asyncio.to_thread(tctx.followups.story, story_id) if story_id is not None else None
    if brief is None or story_id is None:
        await tctx.answer(turn, GONE)
        return
    choice = reroute_choice(tctx.app.config, brief, clicked=await _clicked_department(tctx, turn, story_id))
    try:
        card = department_picker_card(story_id, choice.targets)
    except ValueError as exc:
        await tctx.answer(turn, Notice(f"Sorry, {exc}."))
        return
    await tctx.answer(turn, with_data(card, **{"from": choice.source}), summary="Where does this story belong?")


async def save_commitment(tctx: TeamsContext, turn: TurnContext, data: Data) -> None:
    story_id = _int(data.get("story_id"))
    if story_id is None:
        await tctx.answer(turn, GONE)
        return
    actor = actor_of(turn.activity)
    due_text = _text(data.get("due"))
    try:
        due = date.fromisoformat(due_text) if due_text else None
    except ValueError:
        await tctx.answer(turn, Notice("Pick the due date from the calendar."))
        return
    try:
        item = await asyncio.to_thread(
            commit,
            store=tctx.followups,
            outbox=tctx.app.outbox,
            key=_form_key(turn),
            story_id=story_id,
            department=_text(data.get("department")) or None,
            owner=actor.user_id,
            owner_name=_text(data.get("owner"))[:100] or actor.name,
            created_by=actor.user_id,
            platform=PLATFORM,
            what=_text(data.get("what")),
            due=due,
            now=tctx.clock(),
            redactor=tctx.commands.redactor,
            today=tctx.commands.today(actor),
        )
    except InvalidInput as exc:
        await tctx.answer(turn, Notice(f"Not saved: {exc.message}. Fix it in the form and press Save again."))
        return
    tctx.app.dispatcher.kick()
    await _done(tctx, turn, item)


async def move_story(tctx: TeamsContext, turn: TurnContext, data: Data) -> None:
    story_id = _int(data.get("story_id"))
    target = _text(data.get("department"))
    brief = await asyncio.to_thread(tctx.followups.story, story_id) if story_id is not None else None
    if brief is None or story_id is None:
        await tctx.answer(turn, GONE)
        return
    source = reroute_choice(tctx.app.config, brief, clicked=_text(data.get("from")) or None).source or ""
    try:
        notice = await asyncio.to_thread(
            reroute,
            store=tctx.followups,
            outbox=tctx.app.outbox,
            config=tctx.app.config,
            key=_form_key(turn),
            story_id=story_id,
            from_department=source,
            to_department=target,
            by=actor_of(turn.activity),
            now=tctx.clock(),
        )
    except InvalidInput as exc:
        await tctx.answer(turn, Notice(f"Not moved: {exc.message}."))
        return
    tctx.app.dispatcher.kick()
    await _done(tctx, turn, notice)


async def close_commitment(tctx: TeamsContext, turn: TurnContext, data: Data) -> None:
    commitment_id = _int(data.get("commitment_id"))
    state = data.get("state")
    if commitment_id is None or state not in ("done", "dropped"):
        await tctx.answer(turn, Notice("That button is out of date; list the commitments again."))
        return
    actor = actor_of(turn.activity)
    result = await asyncio.to_thread(
        close,
        store=tctx.followups,
        outbox=tctx.app.outbox,
        config=tctx.app.config,
        commitment_id=commitment_id,
        by=actor,
        state=state,
        now=tctx.clock(),
        today=tctx.commands.today(actor),
    )
    tctx.app.dispatcher.kick()
    await tctx.answer(turn, result)


async def command(tctx: TeamsContext, turn: TurnContext, data: Data) -> None:
    """A button that runs a command line (e.g. the next page of ``cx actions``)."""
    text = _text(data.get("text"))
    await run_command(tctx, turn, Said(text=f"cx {text}", addressed=True), text)


HANDLERS: dict[str, Callable[[TeamsContext, TurnContext, Data], Awaitable[None]]] = {
    "follow_up": follow_up,
    "not_for_us": not_for_us,
    "commit": save_commitment,
    "reroute": move_story,
    "close": close_commitment,
    "command": command,
}


async def on_card_action(tctx: TeamsContext, turn: TurnContext, data: Data) -> None:
    handler = HANDLERS.get(str(data.get("cx_action")))
    if handler is None:
        log.info("unknown Teams card action")
        await tctx.answer(turn, Notice("That button is not one I know any more."))
        return
    await handler(tctx, turn, data)
