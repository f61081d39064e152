"""``/cx``: Slack's slash command into the shared command table (``stories.commands``), answered privately.

The ack is empty and immediate (once the command is kept in the inbox: handlers/slack/kept.py); the command runs
afterwards and its view is rendered as Block Kit and posted
to the command's ``response_url`` (works in any channel or DM, visible only to the person who typed it).
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Mapping
from typing import Any

from slack_bolt.app.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_sdk.web.async_client import AsyncWebClient

from handlers.slack.context import SlackContext
from handlers.slack.intake import plain_text
from handlers.slack.kept import COMMAND, handle_kept
from handlers.slack.mrkdwn import MENTION
from handlers.slack.replies import respond
from stories.commands import CommandContext
from stories.views import ActionsView, View


async def command_text(ctx: SlackContext, client: AsyncWebClient, text: str) -> tuple[str, dict[str, str]]:
    """Slack's escaped command text as plain text with ``@name`` tokens, and those tokens' user ids.

    With "escape channels, users, and links" on (manifest ``should_escape``), Slack sends ``<@U1|dana>``
    or just ``<@U1>``; names missing from the markup are looked up (users.info, cached).
    """
    mentions: dict[str, str] = {}
    found = {m.group(1): m.group(2) for m in MENTION.finditer(text)}
    missing = [user for user, name in found.items() if not name]
    profiles = await asyncio.gather(*(ctx.people.profile(client, user) for user in missing))
    names = {user: (name or "") for user, name in found.items()}
    names.update({user: (p.name or user) for user, p in zip(missing, profiles, strict=True)})

    def replace(match: re.Match[str]) -> str:
        token = "@" + " ".join(names[match.group(1)].split()).lstrip("@")
        mentions[token] = match.group(1)
        return token

    return plain_text(MENTION.sub(replace, text)), mentions


def register(bolt: AsyncApp, ctx: SlackContext) -> None:
    @bolt.command(COMMAND)
    async def cx(ack: AsyncAck, body: dict, client: AsyncWebClient, context: dict) -> None:
        # kept in the inbox before the ack (handlers/slack/kept.py): a crash after it does not lose the command
        await handle_kept(ctx, body, context, lambda: answer_command(ctx, client, body), name="slack /cx")
        await ack()


async def answer_command(ctx: SlackContext, client: AsyncWebClient, body: Mapping[str, Any]) -> None:
    """The work after a ``/cx`` ack (or its replay from the inbox)."""
    await run_command(ctx, client, body)


async def run_command(
    ctx: SlackContext,
    client: AsyncWebClient,
    body: Mapping[str, Any],
    *,
    text: str | None = None,
    replace: bool = False,
) -> View:
    """Run ``/cx <text>`` for the person in ``body`` and answer at its ``response_url``."""
    user = str(body.get("user_id") or (body.get("user") or {}).get("id") or "")
    actor = await ctx.people.actor(client, user, name=body.get("user_name"))
    line, mentions = await command_text(ctx, client, str(body.get("text") or "") if text is None else text)
    channel = body.get("channel_id") or (body.get("channel") or {}).get("id")
    request = CommandContext(
        actor=actor,
        channel=str(channel) if channel else None,
        thread_story_id=None,  # Slack does not run slash commands in threads; stories have buttons instead
        mentions=mentions,
        request_id=str(body["trigger_id"]) if body.get("trigger_id") else None,
        workspace=_workspace(body),
    )
    view = await asyncio.to_thread(ctx.commands.run, request, line)
    links = (
        await ctx.permalinks.for_stories(client, [i.story_id for i in view.items if i.story_id is not None])
        if isinstance(view, ActionsView)
        else None
    )
    await respond(str(body.get("response_url") or ""), view, replace=replace, links=links, session=ctx.http)
    return view


def _workspace(body: Mapping[str, Any]) -> str | None:
    """The workspace the command was typed in (slash commands: ``team_id``; interactions: ``team.id``)."""
    team = body.get("team_id") or (body.get("team") or {}).get("id")
    return str(team) if team else None
