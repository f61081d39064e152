"""Events API listeners: intake messages, reactions on story messages, the App Home.

Each listener acks at once (bolt's ``ack()``; the HTTP answer leaves before any work) and hands the work to
:class:`handlers.slack.tasks.Background`, keyed on the event id so retries do nothing twice.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from typing import Any

from slack_bolt.app.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_sdk.web.async_client import AsyncWebClient

from handlers.slack.context import SlackContext
from handlers.slack.intake import on_message
from handlers.slack.render import home_view
from stories.actions import Action, MessageRef
from stories.actors import Actor
from stories.home import build_home

log = logging.getLogger(__name__)

EVENTS = ("message", "reaction_added", "reaction_removed", "app_home_opened")


def event_key(body: Mapping[str, Any]) -> str:
    """The identity of an event delivery: Slack's event id (the same on every retry)."""
    event = body.get("event") or {}
    return f"slack:event:{body.get('event_id') or event.get('event_ts') or event.get('ts')}"


def register(bolt: AsyncApp, ctx: SlackContext) -> None:
    @bolt.event("message")
    async def message(ack: AsyncAck, body: dict, event: dict, client: AsyncWebClient) -> None:
        await ack()
        if event.get("channel") in ctx.channels.intake:
            ctx.background.once(event_key(body), lambda: on_message(ctx, client, event), name="slack message")

    def on_reaction(body: dict, event: dict, client: AsyncWebClient, *, added: bool) -> None:
        item = event.get("item") or {}
        if item.get("type") != "message" or not event.get("user") or not event.get("reaction"):
            return
        ctx.background.once(
            event_key(body),
            lambda: record_reactions(ctx, client, event, item, added=added, key=event_key(body)),
            name="slack reaction",
            serial=("reaction", item.get("channel"), item.get("ts"), event["user"], event["reaction"]),
        )

    @bolt.event("reaction_added")
    async def reaction_added(ack: AsyncAck, body: dict, event: dict, client: AsyncWebClient) -> None:
        await ack()
        on_reaction(body, event, client, added=True)

    @bolt.event("reaction_removed")
    async def reaction_removed(ack: AsyncAck, body: dict, event: dict, client: AsyncWebClient) -> None:
        await ack()
        on_reaction(body, event, client, added=False)

    @bolt.event("app_home_opened")
    async def app_home_opened(ack: AsyncAck, body: dict, event: dict, client: AsyncWebClient) -> None:
        await ack()
        if event.get("tab", "home") == "home" and event.get("user"):
            ctx.background.spawn(publish_home(ctx, client, str(event["user"])), name="slack home")


async def record_reactions(
    ctx: SlackContext,
    client: AsyncWebClient,
    event: Mapping[str, Any],
    item: Mapping[str, Any],
    *,
    added: bool,
    key: str,
) -> None:
    user = str(event["user"])
    closes = added and ctx.config.emoji_actions.action_for(str(event["reaction"])) == "done"
    # ✅ may close a commitment: who may is decided on the person's user groups, as for the Done button
    actor = await ctx.people.actor(client, user) if closes else Actor(platform="slack", user_id=user)
    action = Action(
        kind="react" if added else "unreact",
        actor=actor,
        key=key,
        message=MessageRef(channel=str(item["channel"]), message_id=str(item["ts"])),
        values={"emoji": str(event["reaction"])},
    )
    await asyncio.to_thread(ctx.actions.handle, action)


async def publish_home(ctx: SlackContext, client: AsyncWebClient, user_id: str) -> None:
    """views.publish the App Home for ``user_id`` (never cached: it is opened rarely and should be current)."""
    actor = await ctx.people.actor(client, user_id)
    view = await asyncio.to_thread(
        build_home,
        config=ctx.config,
        reader=ctx.followups,
        stories=ctx.core.stories,
        actor=actor,
        today=ctx.commands.today(actor),
        now=ctx.clock(),
    )
    await client.views_publish(user_id=user_id, view=home_view(view))
