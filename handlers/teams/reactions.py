"""Reactions on story messages (``messageReaction`` activities), recorded like Slack's.

Teams names its classic reactions ``like``, ``heart``, ``laugh``, ``surprised``, ``sad`` and ``angry``; newer
clients send any emoji as ``<codepoints>_<name>`` (``1f440_eyes``). Each is stored under a Slack-style name so
stats count a thumbs-up the same on both platforms. ``replyToId`` is the message reacted to.
"""

from __future__ import annotations

import asyncio
import re

from botbuilder.core import TurnContext
from botbuilder.schema import MessageReaction

from handlers.teams.activities import PLATFORM, actor_of, channel_of
from handlers.teams.context import TeamsContext
from stories.actions import Action, MessageRef, Reacted

REACTION_NAMES = {
    "like": "thumbsup",
    "heart": "heart",
    "laugh": "laughing",
    "surprised": "open_mouth",
    "sad": "cry",
    "angry": "angry",
}
# Emoji whose Teams name differs from Slack's, by code point, so emoji_actions (stories.config) name them once.
CODEPOINT_NAMES = {"2705": "white_check_mark", "2714": "heavy_check_mark", "1f440": "eyes"}
_CODEPOINTS = re.compile(r"^[0-9a-f]{4,6}(?:[-_][0-9a-f]{4,6})*_(?=[a-z])", re.IGNORECASE)


def reaction_name(teams_type: str) -> str:
    """A Teams reaction type as a Slack-style emoji name.

    >>> reaction_name("like"), reaction_name("1f440_eyes"), reaction_name("2705_whiteheavycheckmark")
    ('thumbsup', 'eyes', 'white_check_mark')
    """
    kind = teams_type.strip()
    named = REACTION_NAMES.get(kind.lower())
    if named:
        return named
    codepoints = _CODEPOINTS.match(kind)
    if codepoints and codepoints.group(0)[:-1].lower() in CODEPOINT_NAMES:
        return CODEPOINT_NAMES[codepoints.group(0)[:-1].lower()]
    return _CODEPOINTS.sub("", kind).lower()


async def record_reactions(
    tctx: TeamsContext, turn: TurnContext, reactions: list[MessageReaction], *, added: bool
) -> int:
    """Record each reaction against the stories the message carries; returns how many rows changed."""
    activity = turn.activity
    if not activity.reply_to_id:
        return 0
    message = MessageRef(channel=channel_of(activity.conversation.id), message_id=activity.reply_to_id)
    actor = actor_of(activity)
    changed = 0
    for reaction in reactions or ():
        action = Action(
            kind="react" if added else "unreact",
            actor=actor,
            key=f"{PLATFORM}:reaction:{activity.id}",
            message=message,
            values={"emoji": reaction_name(str(getattr(reaction, "type", "") or ""))},
        )
        result = await asyncio.to_thread(tctx.actions.handle, action)
        changed += result.changed if isinstance(result, Reacted) else 0
    return changed
