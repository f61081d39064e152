"""The "Send to CX stories" message action: any Teams message, from its "..." menu, becomes a customer comment.

teams/manifest.json declares it as a message extension action command (``composeExtensions``, ``"type":
"action"``, ``"context": ["message"]``, ``"fetchTask": true``). Teams then sends two invokes:

- ``composeExtension/fetchTask``: cxbot answers with a dialog (a task module ``continue`` response) showing the
  message's text and a "Send" button;
- ``composeExtension/submitAction``: the message (``value.messagePayload``, its body HTML) is turned into plain
  text and taken in through the same intake as an intake channel's message and Slack's shortcut; the dialog
  then shows where the story went (the same :class:`stories.views.StoryRouted` both platforms render).

The comment's external id is ``<conversation>:<message id>``, the same as an intake channel's
(:func:`handlers.teams.activities.message_ref`), so a message posted in an intake channel and later sent with the
action is one comment. Like Slack's shortcut, anyone may use it: a person can only send messages they can see,
and the text is redacted like every comment before it is stored or shown to anyone else.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime
from typing import Any

from botbuilder.core import InvokeResponse, TurnContext

from handlers.teams.activities import PLATFORM, channel_of, message_ref, tenant_id_of, user_id_of
from handlers.teams.context import TeamsContext
from handlers.teams.render import render
from handlers.teams.text import html_text
from stories.models import IncomingComment, Origin
from stories.presentation import truncate
from stories.views import Notice, View

log = logging.getLogger(__name__)

COMMAND_ID = "sendToCxStories"
TITLE = "Send to CX stories"
DESCRIPTION = "Send this message to cxbot as a customer comment (personal data is removed first)."
FETCH_TASK = "composeExtension/fetchTask"
SUBMIT_ACTION = "composeExtension/submitAction"
INVOKES = frozenset({FETCH_TASK, SUBMIT_ACTION})
SOURCE = "teams"  # as an intake channel's messages: the same message is one comment, whichever way it came in
PREVIEW_LIMIT = 500
NO_TEXT = "That message has no text I can send to CX stories."


def manifest_command() -> dict[str, Any]:
    """The action as teams/manifest.json declares it (:mod:`handlers.teams.package` checks the file)."""
    return {
        "id": COMMAND_ID,
        "type": "action",
        "title": TITLE,
        "description": DESCRIPTION,
        "context": ["message"],
        "fetchTask": True,
    }


def _dialog(card: dict[str, Any]) -> dict[str, Any]:
    """A task module ``continue`` response: Teams shows ``card`` in the action's dialog."""
    attachment = {"contentType": "application/vnd.microsoft.card.adaptive", "content": card}
    return {"task": {"type": "continue", "value": {"title": TITLE, "card": attachment}}}


def _payload(activity_value: Any) -> dict[str, Any] | None:
    value = activity_value if isinstance(activity_value, dict) else {}
    if value.get("commandId") != COMMAND_ID:
        return None
    payload = value.get("messagePayload")
    return payload if isinstance(payload, dict) else {}


def message_text(payload: dict[str, Any]) -> str:
    """The words of the message: its body as plain text (Teams sends HTML; mentions as ``@Name``)."""
    body = payload.get("body") if isinstance(payload.get("body"), dict) else {}
    content = body.get("content") if isinstance(body.get("content"), str) else ""
    if str(body.get("contentType") or "html").casefold() == "text":
        return content.strip()
    return html_text(content)


def _when(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def comment_from(
    activity_conversation: str,
    payload: dict[str, Any],
    *,
    link_originals: bool,
    sender: str | None = None,
    tenant: str | None = None,
) -> IncomingComment | None:
    """The comment a message action carries, or None when the message has no text or no id. ``sender``: who used
    the action; when their commitment closes they hear of it by direct message (stories/loop.py), as on Slack."""
    text = message_text(payload)
    message_id = payload.get("id")
    if not text or not isinstance(message_id, str) or not message_id:
        return None
    link = payload.get("linkToMessage")
    return IncomingComment(
        text=text,
        source=SOURCE,
        external_id=message_ref(activity_conversation, message_id),
        origin_channel=channel_of(activity_conversation),
        original_at=_when(payload.get("createdDateTime")),
        link=link if link_originals and isinstance(link, str) and link.startswith("https://") else None,
        platform_ids=True,
        origin=Origin(
            platform=PLATFORM,
            via="shortcut",
            channel=channel_of(activity_conversation),
            sender=sender,
            thread=message_id,
            workspace=tenant,
        )
        if sender
        else None,
    )


def _confirm_card(text: str) -> dict[str, Any]:
    card = render(Notice(text))
    card["body"].insert(0, {"type": "TextBlock", "text": "Send this message to CX stories?", "weight": "Bolder"})
    card["body"].append(
        {
            "type": "TextBlock",
            "text": "Personal data (names, e-mails, phone numbers...) is removed before anyone sees it.",
            "isSubtle": True,
            "size": "Small",
            "wrap": True,
        }
    )
    card["actions"] = [{"type": "Action.Submit", "title": "Send", "style": "positive", "data": {"cx": "send"}}]
    return card


async def on_message_action(tctx: TeamsContext, turn: TurnContext) -> InvokeResponse:
    """Answer ``composeExtension/fetchTask`` (the confirmation) or ``composeExtension/submitAction`` (the intake)."""
    activity = turn.activity
    payload = _payload(activity.value)
    if payload is None:
        log.info("Teams message extension command not ours; ignored")
        return InvokeResponse(status=200, body=_dialog(render(Notice("That action is not one I know."))))
    text = message_text(payload)
    if activity.name == FETCH_TASK:
        return InvokeResponse(
            status=200, body=_dialog(_confirm_card(truncate(text, PREVIEW_LIMIT) if text else NO_TEXT))
        )
    comment = comment_from(
        activity.conversation.id,
        payload,
        link_originals=tctx.config.intake.link_originals,
        sender=user_id_of(activity.from_property) or None,
        tenant=tenant_id_of(activity),
    )
    view: View = Notice(NO_TEXT)
    if comment is not None:
        view, created = await asyncio.to_thread(tctx.core.take_in_one, comment)
        if created:
            log.info("Teams message %s became a story (%s message action)", payload.get("id"), PLATFORM)
    return InvokeResponse(status=200, body=_dialog(render(view)))
