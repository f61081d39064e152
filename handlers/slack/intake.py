"""Comments from Slack: messages in the intake channels, and the "Send to CX stories" message shortcut.

A message becomes a comment with ``external_id = "<channel>:<ts>"``, the same for both ways in, so a
message posted in an intake channel and later sent by shortcut is one comment. The poster is told, privately,
which departments the story went to and why.
"""

from __future__ import annotations

import asyncio
import dataclasses
import html
import logging
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from slack_sdk.web.async_client import AsyncWebClient

from handlers.slack.context import SlackContext
from handlers.slack.mrkdwn import MENTION
from handlers.slack.render import render
from handlers.slack.replies import respond
from stories.config import CxConfig
from stories.models import IncomingComment, Origin, OriginVia
from stories.views import Notice, StoryRouted, View

log = logging.getLogger(__name__)

SHORTCUT_CALLBACK = "send_to_cx_stories"
SOURCE = "slack"
# Message subtypes that carry something a person wrote; everything else (edits, deletions, joins, bots,
# topic changes...) is not a comment.
PERSON_SUBTYPES = frozenset({None, "file_share", "thread_broadcast", "me_message"})

_LINK = re.compile(r"<(https?://[^|>\s]+)\|([^>]*)>")
_BARE_LINK = re.compile(r"<(https?://[^>\s]+|mailto:[^|>\s]+)>")
_MAILTO = re.compile(r"<mailto:([^|>\s]+)\|[^>]*>")
_CHANNEL = re.compile(r"<#C[A-Z0-9]+(?:\|([^>]*))?>")
_SPECIAL = re.compile(r"<!(?:subteam\^[A-Z0-9]+|date\^[^>|]*)?(\w*)(?:\|([^>]*))?>")


def plain_text(mrkdwn: str) -> str:
    """A Slack message's text as the person typed it: links, mentions and entities turned back into text.

    A customer comment is data: what comes out is stored and later escaped again when shown in Slack.

    >>> plain_text("Refund &amp; <https://x.example/o/1|order 1> for <@U1|dana> <!here>")
    'Refund & order 1 (https://x.example/o/1) for @dana @here'
    """
    text = _LINK.sub(lambda m: f"{m.group(2)} ({m.group(1)})" if m.group(2) else m.group(1), mrkdwn)
    text = _MAILTO.sub(lambda m: m.group(1), text)
    text = _BARE_LINK.sub(lambda m: m.group(1).removeprefix("mailto:"), text)
    text = MENTION.sub(lambda m: f"@{m.group(2)}" if m.group(2) else "@someone", text)
    text = _CHANNEL.sub(lambda m: f"#{m.group(1)}" if m.group(1) else "#channel", text)
    text = _SPECIAL.sub(lambda m: "@" + (m.group(2) or m.group(1) or "group").lstrip("@"), text)
    return html.unescape(text).strip()


def message_text(message: Mapping[str, Any]) -> str:
    """The words of a message, including a message shared or forwarded into it (an attachment)."""
    parts = [str(message.get("text") or "")]
    for attachment in message.get("attachments") or ():
        if isinstance(attachment, Mapping) and (attachment.get("is_share") or attachment.get("is_msg_unfurl")):
            parts.append(str(attachment.get("text") or attachment.get("fallback") or ""))
    return plain_text("\n\n".join(p for p in parts if p.strip()))


def _when(ts: str) -> datetime | None:
    try:
        return datetime.fromtimestamp(float(ts), UTC)
    except (TypeError, ValueError, OverflowError):
        return None


def comment_from_message(
    message: Mapping[str, Any],
    *,
    channel: str,
    via: OriginVia = "channel",
    sender: str | None = None,
    workspace: str | None = None,
) -> IncomingComment | None:
    """The comment a message carries, with where it came from and who passed it on (the poster for an intake
    channel message, ``sender`` for the shortcut), so the loop can be told back in its thread or by DM."""
    text = message_text(message)
    ts = str(message.get("ts") or "")
    if not text or not ts:
        return None
    who = sender or str(message.get("user") or "")
    origin = (
        Origin(
            platform=SOURCE,
            via=via,
            channel=channel,
            sender=who,
            thread=str(message.get("thread_ts") or ts),  # a reply in a thread is answered in that thread
            workspace=workspace or str(message.get("team") or "") or None,
        )
        if who
        else None
    )
    return IncomingComment(
        text=text,
        source=SOURCE,
        external_id=f"{channel}:{ts}",
        origin_channel=channel,
        original_at=_when(ts),
        platform_ids=True,
        origin=origin,
    )


def comment_from_event(event: Mapping[str, Any], *, config: CxConfig, intake: frozenset[str]) -> IncomingComment | None:
    """The comment a ``message`` event in an intake channel (``intake``: their ids) carries, or None for
    anything intake ignores."""
    channel = str(event.get("channel") or "")
    if channel not in intake:
        return None
    if event.get("subtype") not in PERSON_SUBTYPES or event.get("bot_id") or not event.get("user"):
        return None
    thread_ts, ts = event.get("thread_ts"), event.get("ts")
    if thread_ts and thread_ts != ts and not config.intake.thread_replies:
        return None
    return comment_from_message(event, channel=channel)


async def take_in(ctx: SlackContext, comment: IncomingComment) -> View:
    """Store the comment (and queue what goes out at once); what to tell the person who sent it."""
    view, created = await asyncio.to_thread(ctx.core.take_in_one, comment)
    if created:
        log.info("slack comment %s became a story", comment.external_id)
    return view


async def with_link(ctx: SlackContext, client: AsyncWebClient, comment: IncomingComment) -> IncomingComment:
    """The comment with its message's permalink, so the story links back to the original ("where allowed":
    Slack answers only for conversations the bot can read). Not asked for when stories may not link to the
    unredacted original (``intake.link_originals``, off by default): the pipeline would drop it anyway."""
    if not ctx.config.intake.link_originals:
        return comment
    channel, _, ts = (comment.external_id or "").partition(":")
    link = await ctx.permalinks.message(client, channel=channel, ts=ts) if ts else None
    return dataclasses.replace(comment, link=link) if link else comment


async def on_message(ctx: SlackContext, client: AsyncWebClient, event: Mapping[str, Any]) -> None:
    comment = comment_from_event(event, config=ctx.config, intake=ctx.channels.intake)
    if comment is None:
        return
    view = await take_in(ctx, await with_link(ctx, client, comment))
    if isinstance(view, StoryRouted):
        await client.chat_postEphemeral(channel=str(event["channel"]), user=str(event["user"]), **render(view))


async def on_shortcut(ctx: SlackContext, client: AsyncWebClient, body: Mapping[str, Any]) -> None:
    """The message shortcut: any message, anywhere, becomes a comment; the answer goes to its response_url."""
    channel = str((body.get("channel") or {}).get("id") or "")
    message = body.get("message") or {}
    comment = (
        comment_from_message(
            message,
            channel=channel,
            via="shortcut",
            sender=str((body.get("user") or {}).get("id") or "") or None,
            workspace=str((body.get("team") or {}).get("id") or "") or None,
        )
        if channel
        else None
    )
    view: View = (
        await take_in(ctx, await with_link(ctx, client, comment))
        if comment
        else Notice("That message has no text I can send to CX stories.")
    )
    await respond(str(body.get("response_url") or ""), view, session=ctx.http)
