"""Plain messages in the bot's direct messages (``message.im``): this month's pulse answer when one is awaited
from the sender, through the same core call as Teams (``Commands.direct_reply``); otherwise a short help line.

Only a person's own plain message counts: the bot's own posts, edits, deletions and other subtypes are ignored.
The event is kept in the inbox (encrypted) before the ack like an intake message, so a retried event id does
nothing twice; the answer's words are never logged.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

from slack_sdk.web.async_client import AsyncWebClient

from handlers.slack.context import SlackContext
from handlers.slack.render import render

KIND = "message.im"  # the inbox kind of a direct message to the bot
HELP = (
    "I read plain messages here only for the monthly pulse, when its question is open for you. "
    "For everything else, type `/cx help`."
)


def is_direct_message(event: Mapping[str, Any]) -> bool:
    """A person's own plain message in their direct messages with the bot."""
    return (
        event.get("type") == "message"
        and event.get("channel_type") == "im"
        and not event.get("subtype")
        and not event.get("bot_id")
        and bool(event.get("user"))
        and bool(str(event.get("text") or "").strip())
    )


async def on_direct_message(ctx: SlackContext, client: AsyncWebClient, event: Mapping[str, Any]) -> None:
    actor = await ctx.people.actor(client, str(event["user"]))
    view = await asyncio.to_thread(ctx.commands.direct_reply, actor, str(event.get("text") or ""))
    answer = render(view) if view is not None else {"text": HELP}
    await client.chat_postMessage(channel=str(event["channel"]), **answer)
