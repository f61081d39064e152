"""Slash commands, clicks, form submissions and the message shortcut survive a crash after their ack, as events do.

Slack sends an acknowledged ``/cx`` or "Mark done" once: if the process died between the ack and the work, the
person's command or click was lost. So, as for events (handlers/slack/events.py), the request is written to the
inbox before the ack (handlers/slack/inbox.py: one statement that also claims its key, so Slack's retries do
nothing twice), its work runs after the ack and takes it out of the inbox, and any replica replays what was
left behind (:func:`handlers.slack.interactive.replay_work`).

Kept: ``/cx`` commands, Mark done, Drop, the pages of a list, Give kudos, the follow-up and "Not for us" forms
(view submissions) and the message shortcut. Not kept: clicks that only open a form (their ``trigger_id`` lasts
3 seconds, a replay could not open it) and App Home opens (nothing is lost: it is drawn again next time).

A replayed request's answer goes to its ``response_url``, which Slack honours for 30 minutes: a replay later than
:data:`RESPONSE_URL_TTL` still does the work (the commitment is closed, the comment taken in, the kudos given) but
drops the private answer with a log line, and a page of a list (only a read) is dropped whole. Forms answer through
the Web API (``chat.postEphemeral``), which has no such limit.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime, timedelta
from typing import Any

from handlers.slack import events
from handlers.slack.context import SlackContext
from handlers.slack.http import KEPT
from handlers.slack.inbox import accept
from handlers.slack.intake import SHORTCUT_CALLBACK
from handlers.slack.render import COMMAND, DONE_ACTION, DROP_ACTION, GIVE_KUDOS_ACTION, PAGE_ACTION
from handlers.slack.tasks import Work
from handlers.slack.views import FOLLOW_UP_CALLBACK, REROUTE_CALLBACK

log = logging.getLogger(__name__)

KEPT_ACTIONS = frozenset({DONE_ACTION, DROP_ACTION, PAGE_ACTION, f"{PAGE_ACTION}_previous", GIVE_KUDOS_ACTION})
READ_ONLY = frozenset({PAGE_ACTION, f"{PAGE_ACTION}_previous"})  # dropped whole when their answer cannot arrive
KEPT_VIEWS = frozenset({FOLLOW_UP_CALLBACK, REROUTE_CALLBACK})
RESPONSE_URL_TTL = timedelta(minutes=29)  # Slack: 30 minutes (a minute kept for the answer itself)
KEPT_AT = "cx_kept_at"  # added to a kept request's body: when it was acknowledged


def command_key(body: Mapping[str, Any]) -> str:
    """A slash command's identity: its trigger_id (the same when Slack resends it), else who typed what.

    Never the text itself: it may be a customer's comment (``/cx story ...``), and the key is stored in
    ``processed_events`` whatever CX_KEEP_RAW says, and logged at INFO when a resend is skipped.
    """
    if body.get("trigger_id"):
        return f"slack:command:{body['trigger_id']}"
    typed = hashlib.sha256(f"{body.get('user_id')}\x00{body.get('text')}".encode()).hexdigest()[:32]
    return f"slack:command:h:{typed}"


def action_key(body: Mapping[str, Any]) -> str:
    """A click's identity: who, which action, and Slack's timestamp of that click."""
    action = (body.get("actions") or [{}])[0]
    user = (body.get("user") or {}).get("id")
    return f"slack:action:{user}:{action.get('action_id')}:{action.get('action_ts') or body.get('trigger_id')}"


def view_key(body: Mapping[str, Any]) -> str:
    """A form submission's identity: the modal and the state it was submitted in."""
    view = body.get("view") or {}
    return f"slack:view:{view.get('id')}:{view.get('hash')}"


def shortcut_key(body: Mapping[str, Any]) -> str:
    return f"slack:shortcut:{body.get('trigger_id') or body.get('action_ts')}"


def kept_as(body: Mapping[str, Any]) -> tuple[str, str] | None:
    """``(kind, key)`` under which a command, click, submission or shortcut is kept in the inbox, or None: not
    kept (an event: see :func:`handlers.slack.events.inbox_kind`; a click that opens a form; anything else)."""
    kind = "slash_command" if "command" in body and "type" not in body else str(body.get("type") or "")
    if kind == "slash_command":
        return ("command", command_key(body)) if body.get("command") == COMMAND else None
    if kind == "block_actions":
        actions = body.get("actions") or [{}]
        action_id = actions[0].get("action_id") if isinstance(actions[0], dict) else None
        return (str(action_id), action_key(body)) if action_id in KEPT_ACTIONS else None
    if kind == "message_action" and body.get("callback_id") == SHORTCUT_CALLBACK:
        return "shortcut", shortcut_key(body)
    if kind == "view_submission":
        callback = (body.get("view") or {}).get("callback_id")
        return (f"view:{callback}", view_key(body)) if callback in KEPT_VIEWS else None
    return None


async def keep_request(ctx: SlackContext, body: Mapping[str, Any]) -> bool | None:
    """Store a command, click, submission or shortcut before its ack: True kept, False kept before (a retry),
    None not one that is kept. Raises :class:`handlers.slack.inbox.InboxUnavailable` when it cannot be stored."""
    found = kept_as(body)
    if found is None:
        return None
    kind, key = found
    return await accept(ctx, key=key, kind=kind, body={**body, KEPT_AT: ctx.clock().isoformat()})


def keeper(ctx: SlackContext) -> Callable[[dict[str, Any]], Awaitable[bool | None]]:
    """For the HTTP route (handlers/slack/http.py): keep an event, command, click or shortcut before it is
    answered."""
    keep_event = events.keeper(ctx)

    async def keep(body: dict[str, Any]) -> bool | None:
        if "event" in body and body.get("type") == "event_callback":
            return await keep_event(body)
        return await keep_request(ctx, body)

    return keep


async def handle_kept(
    ctx: SlackContext, body: Mapping[str, Any], context: Mapping[str, Any], work: Work, *, name: str
) -> None:
    """In a listener, before its ack: run ``work`` after the ack if the request is kept by the route already, or
    kept now (Socket Mode, and form submissions, which bolt answers when the listener returns); nothing for a
    request kept before (a retry)."""
    found = kept_as(body)
    if found is None:
        ctx.background.spawn(work(), name=name)
        return
    _, key = found
    if context.get(KEPT) or await keep_request(ctx, body):
        ctx.background.handle(key, work, name=name)


def stale(body: Mapping[str, Any], *, now: datetime) -> bool:
    """Whether a kept request's ``response_url`` has expired (it was acknowledged over 29 minutes ago)."""
    try:
        kept_at = datetime.fromisoformat(str(body.get(KEPT_AT)))
    except ValueError:
        return False
    return now - kept_at > RESPONSE_URL_TTL


def for_replay(body: Mapping[str, Any], kind: str, *, now: datetime) -> dict[str, Any] | None:
    """The body a replay works on: as kept, without its ``response_url`` when that has expired (the work is done,
    its private answer dropped), or None when nothing is left worth doing (a read whose answer cannot arrive)."""
    if not stale(body, now=now) or not body.get("response_url"):
        return dict(body)
    if kind in READ_ONLY:
        log.info("slack: a replayed %s is over 30 minutes old; dropped (it only shows a page)", kind)
        return None
    log.info("slack: a replayed %s is over 30 minutes old; done without its private answer", kind)
    return {**body, "response_url": ""}


def replay_kind(kind: str) -> bool:
    """Whether ``kind`` is one of this module's (the rest are events)."""
    return kind in ("command", "shortcut") or kind in KEPT_ACTIONS or kind.startswith("view:")


__all__ = [
    "KEPT_ACTIONS",
    "RESPONSE_URL_TTL",
    "action_key",
    "command_key",
    "for_replay",
    "handle_kept",
    "keeper",
    "kept_as",
    "replay_kind",
    "view_key",
]
