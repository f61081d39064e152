"""Messages people type to cxbot in Teams: ``cx ...`` commands, intake channels, and help for anything else.

In a channel or group chat Teams only delivers messages that @mention the bot (unless the team granted the
app's resource-specific permission to read channel messages, which intake channels need, see
teams/manifest.json). The bot's own mention is removed first (botbuilder's ``remove_recipient_mention``);
other mentions become ``@Name`` tokens that :class:`stories.commands.CommandContext` resolves to user ids.
"""

from __future__ import annotations

import asyncio
import html
import logging
import re
from dataclasses import dataclass, field
from typing import Any

from botbuilder.core import TurnContext
from botbuilder.core.teams import TeamsInfo
from botbuilder.schema import Activity

from handlers.teams.activities import (
    PLATFORM,
    THREAD_MARK,
    activity_ref,
    channel_of,
    scope_of,
    tenant_id_of,
    user_id_of,
    without_mentions,
)
from handlers.teams.context import TeamsContext
from handlers.teams.text import attachments_text, html_text
from stories.commands import COMMAND_PREFIX, CommandContext
from stories.models import IncomingComment, Origin
from stories.views import HomeView, Notice, View

log = logging.getLogger(__name__)

PREFIX = COMMAND_PREFIX[PLATFORM]
SOURCE = "teams"
# Teams puts a formatted message's HTML in ``text`` (``<p>``, ``<div>``, ``<b>``, ``<br>``, emoji ``<img>``), the new
# client even for plain typing; ``<`` the person typed arrives as ``&lt;``, so a tag here is always markup.
_TAG = re.compile(r"</?[A-Za-z][^<>]*>")


@dataclass(frozen=True)
class Said:
    """A message as the person meant it."""

    text: str  # bot mention removed, other mentions as "@Name", entities unescaped
    addressed: bool  # the bot was @mentioned, or this is a 1:1 chat
    mentions: dict[str, Any] = field(default_factory=dict)  # "@Name" -> the mentioned account (dict)


def _mention_entities(activity: Activity) -> list[dict[str, Any]]:
    found = []
    for entity in activity.entities or ():
        if isinstance(entity, dict):
            data = entity
        else:  # botbuilder keeps an entity's fields other than "type" in additional_properties
            data = {**(getattr(entity, "additional_properties", None) or {}), "type": getattr(entity, "type", None)}
        if isinstance(data, dict) and str(data.get("type", "")).lower() == "mention":
            mentioned = data.get("mentioned")
            if isinstance(mentioned, dict) and mentioned.get("id"):
                found.append(data)
    return found


def read_message(activity: Activity) -> Said:
    """What a message says once the bot's mention is removed and other mentions are made plain."""
    bot_id = activity.recipient.id if activity.recipient else None
    entities = _mention_entities(activity)
    addressed = scope_of(activity) == "personal" or any(e["mentioned"]["id"] == bot_id for e in entities)
    text = str(activity.text or "")
    if any(e["mentioned"]["id"] == bot_id for e in entities):
        try:
            text = TurnContext.remove_recipient_mention(activity) or ""
        except (KeyError, TypeError, AttributeError, re.error):  # a malformed entity: fall back to the tags
            pass
    mentions: dict[str, Any] = {}
    for entity in entities:
        tag = str(entity.get("text") or "")
        name = without_mentions(tag) or str(entity["mentioned"].get("name") or "")
        if entity["mentioned"]["id"] == bot_id:
            text = text.replace(tag, " ") if tag else text
            continue
        if tag and name and tag in text:
            text = text.replace(tag, f"@{name}")
            mentions[f"@{name}"] = entity["mentioned"]
    text = without_mentions(text)  # tags without an entity: keep the words
    text = html_text(text) if _TAG.search(text) else html.unescape(text)  # markup -> the words, never tags
    return Said(text=" ".join(text.split()), addressed=addressed, mentions=mentions)


async def resolve_mentions(turn: TurnContext, mentions: dict[str, Any]) -> dict[str, str]:
    """``@Name`` -> the person's Entra object id (TeamsInfo asks the roster), else their Bot Framework id."""
    resolved = {}
    for token, account in mentions.items():
        user_id = account.get("aadObjectId")
        if not user_id:
            try:
                member = await TeamsInfo.get_member(turn, account["id"])
                user_id = getattr(member, "aad_object_id", None)
            except Exception as exc:  # not in this team, a tag, or the connector said no: keep the id we have
                log.info("Teams member lookup failed (%s)", type(exc).__name__)
        resolved[token] = str(user_id or account["id"])
    return resolved


def is_command(text: str) -> bool:
    """``cx ...`` in any case; ``/cx ...`` too (Slack's habit), which the command table also takes."""
    words = text.split(maxsplit=1)
    return bool(words) and words[0].casefold() in (PREFIX, f"/{PREFIX}")


async def thread_story(tctx: TeamsContext, activity: Activity) -> int | None:
    """The story whose card starts the thread this message is in, if it is a single story's card."""
    conversation = activity.conversation.id
    if THREAD_MARK not in conversation:
        return None
    root = conversation.split(THREAD_MARK, 1)[1]
    found = await asyncio.to_thread(
        tctx.core.messages.story_for_message, platform=PLATFORM, channel=channel_of(conversation), message_id=root
    )
    story_ids = {story_id for story_id, _ in found}
    return story_ids.pop() if len(story_ids) == 1 else None


async def on_text(tctx: TeamsContext, turn: TurnContext) -> None:
    activity = turn.activity
    said = read_message(activity)
    channel = channel_of(activity.conversation.id)
    if is_command(said.text):
        await run_command(tctx, turn, said, said.text.split(maxsplit=1)[1] if " " in said.text else "")
    elif channel in tctx.config.intake.teams_channels:
        await take_in(tctx, turn, said)
    elif said.addressed:
        view = None
        if scope_of(activity) == "personal":  # a reply in the bot's chat: the core knows if it awaits one (pulse)
            view = await asyncio.to_thread(tctx.commands.direct_reply, await tctx.people.actor(turn), said.text)
        await tctx.answer(turn, view or tctx.commands.help(PLATFORM, notice=f"Start a command with “{PREFIX}”."))


async def run_command(tctx: TeamsContext, turn: TurnContext, said: Said, text: str) -> View:
    activity = turn.activity
    personal = scope_of(activity) == "personal"
    context = CommandContext(
        actor=await tctx.people.actor(turn),
        channel=None if personal else channel_of(activity.conversation.id),
        thread_story_id=await thread_story(tctx, activity),
        mentions=await resolve_mentions(turn, said.mentions) if said.mentions else {},
        request_id=activity_ref(activity) if activity.id else None,
        workspace=tenant_id_of(activity),
    )
    view = await asyncio.to_thread(tctx.commands.run, context, text)  # what it queues wakes the dispatcher
    if isinstance(view, HomeView) and not personal:  # a person's home is theirs: not for a whole channel
        view = Notice(f"Your home is in your personal chat with me: type “{PREFIX} home” there.")
    await tctx.answer(turn, view)
    return view


def _is_thread_reply(activity: Activity) -> bool:
    conversation = activity.conversation.id
    return THREAD_MARK in conversation and conversation.split(THREAD_MARK, 1)[1] != activity.id


async def take_in(tctx: TeamsContext, turn: TurnContext, said: Said) -> None:
    """An intake channel's message becomes a customer comment; the poster hears which departments got it."""
    activity = turn.activity
    if _is_thread_reply(activity) and not tctx.config.intake.thread_replies:
        return
    # a card posted here (a Workflows survey card, a forwarded card) is taken in as the words it shows
    text = "\n".join(part for part in (said.text, attachments_text(activity.attachments)) if part)
    if not text:
        await tctx.answer(turn, Notice("That message has no text I can take in as a customer comment."))
        return
    conversation = activity.conversation.id
    comment = IncomingComment(
        text=text,
        source=SOURCE,
        external_id=activity_ref(activity),
        origin_channel=channel_of(conversation),
        original_at=activity.timestamp,
        platform_ids=True,
        # the loop is told back under the message's thread root: its own id, or the thread it was posted in
        origin=Origin(
            platform=PLATFORM,
            via="channel",
            channel=channel_of(conversation),
            sender=user_id_of(activity.from_property),
            thread=conversation.split(THREAD_MARK, 1)[1] if THREAD_MARK in conversation else activity.id,
            workspace=tenant_id_of(activity),
        ),
    )
    view, created = await asyncio.to_thread(tctx.core.take_in_one, comment)
    if created:
        log.info("Teams message %s became a story", activity.id)
    await tctx.answer(turn, view)
