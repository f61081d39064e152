"""Events API listeners: intake messages, direct messages (the pulse answer), reactions on story messages, the
App Home.

Each listener stores the event in the inbox (handlers/slack/inbox.py: one transaction that also claims the event
id, so retries do nothing twice), acks, and hands the work to :class:`handlers.slack.tasks.Background`; an event
whose work never finished (a crash, a failure) is replayed from the inbox.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Coroutine, Hashable, Mapping
from typing import Any

from slack_bolt.app.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_sdk.web.async_client import AsyncWebClient

from handlers.slack.context import SlackContext
from handlers.slack.direct import KIND as DIRECT
from handlers.slack.direct import is_direct_message, on_direct_message
from handlers.slack.http import KEPT
from handlers.slack.inbox import WorkFor, accept
from handlers.slack.intake import on_message
from handlers.slack.render import home_view
from handlers.slack.tasks import Work
from stories.actions import Action, MessageRef
from stories.actors import Actor
from stories.home import build_home

log = logging.getLogger(__name__)

ClientFor = Callable[[Mapping[str, Any]], Awaitable[AsyncWebClient]]
"""The Web API client for the workspace a stored event came from (its installation's token under OAuth)."""
EVENTS = ("message", "reaction_added", "reaction_removed", "app_home_opened")


def event_key(body: Mapping[str, Any]) -> str:
    """The identity of an event delivery: Slack's event id (the same on every retry)."""
    event = body.get("event") or {}
    return f"slack:event:{body.get('event_id') or event.get('event_ts') or event.get('ts')}"


def register(bolt: AsyncApp, ctx: SlackContext) -> None:
    @bolt.event("message")
    async def message(ack: AsyncAck, body: dict, event: dict, client: AsyncWebClient, context: dict) -> None:
        if await kept(ctx, body, context):  # stored before the ack (by the HTTP route, or here in Socket Mode)
            if inbox_kind(ctx, body) == DIRECT:
                ctx.background.handle(event_key(body), lambda: on_direct_message(ctx, client, event), name="slack dm")
            else:
                ctx.background.handle(event_key(body), lambda: on_message(ctx, client, event), name="slack message")
        await ack()

    async def on_reaction(body: dict, context: dict, client: AsyncWebClient) -> None:
        event = body.get("event") or {}
        found = reaction_work(ctx, client, str(event.get("type")), body)
        if found is not None and await kept(ctx, body, context):
            work, serial = found
            ctx.background.handle(event_key(body), work, name="slack reaction", serial=serial)

    @bolt.event("reaction_added")
    async def reaction_added(ack: AsyncAck, body: dict, context: dict, client: AsyncWebClient) -> None:
        await on_reaction(body, context, client)
        await ack()

    @bolt.event("reaction_removed")
    async def reaction_removed(ack: AsyncAck, body: dict, context: dict, client: AsyncWebClient) -> None:
        await on_reaction(body, context, client)
        await ack()

    @bolt.event("app_home_opened")
    async def app_home_opened(ack: AsyncAck, body: dict, event: dict, client: AsyncWebClient) -> None:
        await ack()
        if event.get("tab", "home") == "home" and event.get("user"):
            ctx.background.spawn(publish_home(ctx, client, str(event["user"])), name="slack home")


def inbox_kind(ctx: SlackContext, body: Mapping[str, Any]) -> str | None:
    """The kind under which an event is kept in the inbox, or None (its loss loses nothing: not kept)."""
    event = body.get("event") or {}
    kind = str(event.get("type") or "")
    if kind == "message" and event.get("channel") in ctx.channels.intake:
        return kind
    if is_direct_message(event):
        return DIRECT
    if kind in ("reaction_added", "reaction_removed") and reaction_serial(body) is not None:
        return kind
    return None


def keeper(ctx: SlackContext) -> Callable[[dict[str, Any]], Awaitable[bool | None]]:
    """For the HTTP route (handlers/slack/http.py): keep an event before it is answered."""

    async def keep(body: dict[str, Any]) -> bool | None:
        kind = inbox_kind(ctx, body)
        if kind is None:
            return None
        return await accept(ctx, key=event_key(body), kind=kind, body=body)

    return keep


async def kept(ctx: SlackContext, body: Mapping[str, Any], context: Mapping[str, Any]) -> bool:
    """Whether this listener should run the event's work: kept by the route already, or kept now (Socket Mode,
    where bolt answers when the listener returns); False for an event not kept or kept before (a retry)."""
    kind = inbox_kind(ctx, body)
    if kind is None:
        return False
    if context.get(KEPT):
        return True
    return await accept(ctx, key=event_key(body), kind=kind, body=body)


def reaction_serial(body: Mapping[str, Any]) -> Hashable | None:
    """What a reaction's work is serialised on (added, then removed, in that order), or None: not a reaction by a
    person to a message, nothing to do."""
    event = body.get("event") or {}
    item = event.get("item") or {}
    if item.get("type") != "message" or not event.get("user") or not event.get("reaction"):
        return None
    return ("reaction", item.get("channel"), item.get("ts"), event["user"], event["reaction"])


def reaction_work(
    ctx: SlackContext, client: AsyncWebClient, kind: str, body: Mapping[str, Any]
) -> tuple[Work, Hashable] | None:
    """The work for a reaction event and the key it is serialised on."""
    serial = reaction_serial(body)
    if serial is None:
        return None
    event = body.get("event") or {}
    item = event.get("item") or {}
    added = kind == "reaction_added"

    def work() -> Coroutine[Any, Any, None]:
        return record_reactions(ctx, client, event, item, added=added, key=event_key(body))

    return work, serial


def replay_work(ctx: SlackContext, client_for: ClientFor) -> WorkFor:
    """What a replayed event does: the same work as when it arrived (handlers/slack/inbox.py)."""

    async def work_for(kind: str, body: Mapping[str, Any]) -> tuple[Work, Hashable | None] | None:
        if kind in ("reaction_added", "reaction_removed"):
            return reaction_work(ctx, await client_for(body), kind, body)
        if kind == "message":
            event = body.get("event") or {}
            client = await client_for(body)
            return (lambda: on_message(ctx, client, event)), None
        if kind == DIRECT:
            event = body.get("event") or {}
            client = await client_for(body)
            return (lambda: on_direct_message(ctx, client, event)), None
        log.warning("slack: an inbox event of unknown kind %r is dropped", kind)
        return None

    return work_for


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
