"""The buttons on story cards and the forms behind them (Adaptive Card ``Action.Submit``).

Teams delivers a submit as a ``message`` activity whose ``value`` is the button's ``data`` plus the form's
inputs, and whose ``replyToId`` is the card's message id. "I'll follow up" and "Not for us" answer in the
story's thread with a form. Each button and form becomes one neutral :class:`stories.actions.Action`; the
core decides (who may, what is recorded) and this module renders its answer: a form, or the form replaced, in
place, with what was recorded. The story card itself is re-rendered through the outbox (``update``
deliveries), so everyone sees who follows up.

A double click, or Teams delivering the submit twice, records one commitment and one correction (the core's
keys: the same person committing to the same thing; the form's message id).
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Awaitable, Callable
from typing import Any

from botbuilder.core import TurnContext

from handlers.teams.activities import PLATFORM, channel_of
from handlers.teams.cards import HOME_ACTION, department_picker_card, follow_up_form_card
from handlers.teams.context import TeamsContext
from handlers.teams.messages import Said, run_command
from handlers.teams.render import GIVE_KUDOS, RECEIVER_INPUT
from stories.actions import GONE, Action, ActionResult, FollowUpForm, MessageRef, RerouteForm
from stories.commands import CommandContext
from stories.models import MAX_ID
from stories.views import CommitmentItem, Notice

log = logging.getLogger(__name__)

Data = dict[str, Any]


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


_PERSON_ID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|29:[\w-]+", re.IGNORECASE)


def _owner(data: Data) -> dict[str, str]:
    """The people picker's choice (an Entra object id; ``29:`` in the Emulator). A form sent before the picker
    existed carries a typed name instead: its sender follows up, under that name."""
    owner = _text(data.get("owner"))
    if not owner or _PERSON_ID.fullmatch(owner):
        return {"owner": owner}
    return {"owner": "", "owner_name": owner[:100]}


def _form_key(turn: TurnContext) -> str:
    """The identity of the form submitted: its message, else this activity."""
    return f"{PLATFORM}:form:{turn.activity.reply_to_id or turn.activity.id}"


def _message(turn: TurnContext) -> MessageRef | None:
    """The message whose button was pressed (a story card, a digest, or our form), if Teams says."""
    if not turn.activity.reply_to_id:
        return None
    return MessageRef(channel=channel_of(turn.activity.conversation.id), message_id=turn.activity.reply_to_id)


async def _handle(tctx: TeamsContext, turn: TurnContext, action: Action) -> ActionResult:
    return await asyncio.to_thread(tctx.actions.handle, action)


async def _done(tctx: TeamsContext, turn: TurnContext, view: object) -> None:
    """Replace the submitted form with ``view`` (or answer, if the form cannot be found)."""
    if not (turn.activity.reply_to_id and await tctx.replace(turn, turn.activity.reply_to_id, view)):
        await tctx.answer(turn, view)


async def follow_up(tctx: TeamsContext, turn: TurnContext, data: Data) -> None:
    story_id = _int(data.get("story_id"))
    if story_id is None:
        await tctx.answer(turn, GONE)
        return
    action = Action(
        kind="follow_up",
        actor=await tctx.people.actor(turn),
        key=_form_key(turn),
        story_id=story_id,
        message=_message(turn),
    )
    result = await _handle(tctx, turn, action)
    if not isinstance(result, FollowUpForm):
        await tctx.answer(turn, result)
        return
    card = follow_up_form_card(story_id, owner=result.owner, owner_name=result.owner_name)
    await tctx.answer(turn, with_data(card, department=result.department), summary="Follow up on this story")


async def not_for_us(tctx: TeamsContext, turn: TurnContext, data: Data) -> None:
    story_id = _int(data.get("story_id"))
    if story_id is None:
        await tctx.answer(turn, GONE)
        return
    action = Action(
        kind="not_for_us",
        actor=await tctx.people.actor(turn),
        key=_form_key(turn),
        story_id=story_id,
        message=_message(turn),
    )
    result = await _handle(tctx, turn, action)
    if not isinstance(result, RerouteForm):
        await tctx.answer(turn, result)
        return
    card = department_picker_card(story_id, result.targets)
    await tctx.answer(turn, with_data(card, **{"from": result.source}), summary="Where does this story belong?")


async def save_commitment(tctx: TeamsContext, turn: TurnContext, data: Data) -> None:
    story_id = _int(data.get("story_id"))
    if story_id is None:
        await tctx.answer(turn, GONE)
        return
    action = Action(
        kind="commit",
        actor=await tctx.people.actor(turn),
        key=_form_key(turn),
        story_id=story_id,
        department=_text(data.get("department")) or None,
        values={"what": _text(data.get("what")), "due": _text(data.get("due")), **_owner(data)},
    )
    result = await _handle(tctx, turn, action)
    if isinstance(result, CommitmentItem):
        await _done(tctx, turn, result)
    else:
        await tctx.answer(turn, result)  # the form stays, to be fixed and sent again


async def move_story(tctx: TeamsContext, turn: TurnContext, data: Data) -> None:
    story_id = _int(data.get("story_id"))
    if story_id is None:
        await tctx.answer(turn, GONE)
        return
    action = Action(
        kind="reroute",
        actor=await tctx.people.actor(turn),
        key=_form_key(turn),
        story_id=story_id,
        department=_text(data.get("from")) or None,
        values={"to": _text(data.get("department"))},
    )
    await _done(tctx, turn, await _handle(tctx, turn, action))


async def close_commitment(tctx: TeamsContext, turn: TurnContext, data: Data) -> None:
    commitment_id = _int(data.get("commitment_id"))
    state = data.get("state")
    if commitment_id is None or state not in ("done", "dropped"):
        await tctx.answer(turn, Notice("That button is out of date; list the commitments again."))
        return
    actor = await tctx.people.actor(turn)
    action = Action(
        kind="done" if state == "done" else "drop", actor=actor, key=_form_key(turn), commitment_id=commitment_id
    )
    await tctx.answer(turn, await _handle(tctx, turn, action))
    if data.get("from") == HOME_ACTION:  # closed on the home card: the card shows what is still open
        await refresh_home(tctx, turn, data)


async def refresh_home(tctx: TeamsContext, turn: TurnContext, data: Data) -> None:
    """The home card's "Refresh": the person's home again, drawn over the card in place."""
    context = CommandContext(actor=await tctx.people.actor(turn), channel=None, thread_story_id=None)
    await _done(tctx, turn, await asyncio.to_thread(tctx.commands.run, context, HOME_ACTION))


async def give_kudos(tctx: TeamsContext, turn: TurnContext, data: Data) -> None:
    """ "Give kudos" on a customer praise suggestion: kudos to the person picked beside it, linked to the story."""
    story_id = _int(data.get("story_id"))
    if story_id is None:
        await tctx.answer(turn, GONE)
        return
    receiver = _text(data.get(f"{RECEIVER_INPUT}{story_id}"))
    if receiver and not _PERSON_ID.fullmatch(receiver):
        receiver = ""  # not a person the picker chose
    action = Action(
        kind="give_kudos",
        actor=await tctx.people.actor(turn),
        key=f"{PLATFORM}:activity:{turn.activity.id}",
        story_id=story_id,
        values={"receiver": receiver, "name": _text(data.get("name"))[:100]},
    )
    await tctx.answer(turn, await _handle(tctx, turn, action))


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
    GIVE_KUDOS: give_kudos,
    "command": command,
    HOME_ACTION: refresh_home,
}


async def on_card_action(tctx: TeamsContext, turn: TurnContext, data: Data) -> None:
    handler = HANDLERS.get(str(data.get("cx_action")))
    if handler is None:
        log.info("unknown Teams card action")
        await tctx.answer(turn, Notice("That button is not one I know any more."))
        return
    await handler(tctx, turn, data)
