"""Interactivity: the message shortcut, the story buttons, their modals, and the buttons of ``/cx`` answers.

Listeners ack first. The only work before the ack is checking a modal's input (Slack shows those errors
beside the field, and only in the ack) and keeping the request in the inbox (handlers/slack/kept.py); everything
else runs afterwards, once per action identity, and is replayed if the process died before it was done.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Hashable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from slack_bolt.app.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_sdk.web.async_client import AsyncWebClient

from handlers.slack import events
from handlers.slack.blocks import FOLLOW_UP_ACTION, NOT_FOR_US_ACTION
from handlers.slack.command import answer_command, run_command
from handlers.slack.context import SlackContext
from handlers.slack.events import ClientFor, publish_home
from handlers.slack.inbox import WorkFor
from handlers.slack.intake import SHORTCUT_CALLBACK, on_shortcut
from handlers.slack.kept import action_key, for_replay, handle_kept, replay_kind, view_key
from handlers.slack.render import (
    DONE_ACTION,
    DROP_ACTION,
    GIVE_KUDOS_ACTION,
    KUDOS_PICK_ACTION,
    PAGE_ACTION,
    PRAISE_BLOCK,
    render,
)
from handlers.slack.replies import respond
from handlers.slack.tasks import Work
from handlers.slack.views import FOLLOW_UP_CALLBACK, REROUTE_CALLBACK, follow_up_modal, reroute_modal
from stories.actions import Action, ActionResult, FollowUpForm, MessageRef, RerouteForm
from stories.actors import Actor
from stories.followup import InvalidInput, clean_what
from stories.views import CommitmentItem, KudosView, Notice, View

log = logging.getLogger(__name__)

ACTIONS = (
    FOLLOW_UP_ACTION,
    NOT_FOR_US_ACTION,
    DONE_ACTION,
    DROP_ACTION,
    PAGE_ACTION,
    f"{PAGE_ACTION}_previous",
    GIVE_KUDOS_ACTION,
    KUDOS_PICK_ACTION,
)
VIEWS = (FOLLOW_UP_CALLBACK, REROUTE_CALLBACK)
SHORTCUTS = (SHORTCUT_CALLBACK,)


@dataclass(frozen=True, slots=True)
class StoryRef:
    """Which story a modal is about, and the message (so the department) it was opened from."""

    story_id: int
    channel: str | None = None
    message_ts: str | None = None
    department: str | None = None

    def dump(self) -> str:
        return json.dumps(
            {"story": self.story_id, "channel": self.channel, "ts": self.message_ts, "dept": self.department}
        )

    @classmethod
    def load(cls, text: str) -> StoryRef:
        """From a modal's ``private_metadata``: ours (JSON) or a bare story id (the renderer's default)."""
        text = (text or "").strip()
        if text.isdigit():
            return cls(int(text))
        data = json.loads(text)
        return cls(int(data["story"]), data.get("channel"), data.get("ts"), data.get("dept"))


def _value(body: Mapping[str, Any]) -> str:
    return str((body.get("actions") or [{}])[0].get("value") or "")


def _input(view: Mapping[str, Any], block: str) -> dict[str, Any]:
    return dict(((view.get("state") or {}).get("values") or {}).get(block, {}).get(block) or {})


def follow_up_errors(view: Mapping[str, Any]) -> dict[str, str]:
    """Problems Slack should show beside the modal's fields (checked before the ack, so only cheap checks)."""
    errors = {}
    try:
        clean_what(str(_input(view, "what").get("value") or ""))
    except InvalidInput as exc:
        errors["what"] = exc.message
    due = _input(view, "due").get("selected_date")
    if due:
        try:
            if date.fromisoformat(due) < (datetime.now(UTC) - timedelta(days=1)).date():
                errors["due"] = "That day has passed; pick today or a later day."
        except ValueError:
            errors["due"] = "Pick a day from the calendar."
    if not _input(view, "owner").get("selected_user"):
        errors["owner"] = "Pick who will follow up."
    return errors


def register(bolt: AsyncApp, ctx: SlackContext) -> None:
    # Commands, clicks that change something, submissions and the shortcut are kept in the inbox before their ack
    # (handle_kept, handlers/slack/kept.py); clicks that open a form are not (their trigger_id lasts 3 seconds).
    @bolt.shortcut(SHORTCUT_CALLBACK)
    async def send_to_cx_stories(ack: AsyncAck, body: dict, client: AsyncWebClient, context: dict) -> None:
        await handle_kept(ctx, body, context, lambda: on_shortcut(ctx, client, body), name="slack shortcut")
        await ack()

    @bolt.action(FOLLOW_UP_ACTION)
    async def follow_up(ack: AsyncAck, body: dict, client: AsyncWebClient) -> None:
        await ack()
        ctx.background.once(
            action_key(body),
            lambda: open_modal(ctx, client, body, follow_up=True),
            name="slack follow-up",
            urgent=True,  # the trigger_id to open the modal with lasts 3 seconds
        )

    @bolt.action(NOT_FOR_US_ACTION)
    async def not_for_us(ack: AsyncAck, body: dict, client: AsyncWebClient) -> None:
        await ack()
        ctx.background.once(
            action_key(body),
            lambda: open_modal(ctx, client, body, follow_up=False),
            name="slack reroute",
            urgent=True,
        )

    @bolt.view(FOLLOW_UP_CALLBACK)
    async def follow_up_submit(ack: AsyncAck, body: dict, view: dict, client: AsyncWebClient, context: dict) -> None:
        errors = follow_up_errors(view)
        if errors:
            await ack(response_action="errors", errors=errors)
            return
        await handle_kept(ctx, body, context, lambda: submit_follow_up(ctx, client, body, view), name="slack commit")
        await ack()

    @bolt.view(REROUTE_CALLBACK)
    async def reroute_submit(ack: AsyncAck, body: dict, view: dict, client: AsyncWebClient, context: dict) -> None:
        if not reroute_choice(view):
            await ack(response_action="errors", errors={"department": "Pick a department."})
            return
        await handle_kept(ctx, body, context, lambda: submit_reroute(ctx, client, body, view), name="slack reroute")
        await ack()

    @bolt.action(DONE_ACTION)
    async def mark_done(ack: AsyncAck, body: dict, client: AsyncWebClient, context: dict) -> None:
        await handle_kept(ctx, body, context, lambda: close_commitment(ctx, client, body, "done"), name="slack done")
        await ack()

    @bolt.action(DROP_ACTION)
    async def drop(ack: AsyncAck, body: dict, client: AsyncWebClient, context: dict) -> None:
        await handle_kept(ctx, body, context, lambda: close_commitment(ctx, client, body, "dropped"), name="slack drop")
        await ack()

    async def page(ack: AsyncAck, body: dict, client: AsyncWebClient, context: dict) -> None:
        await handle_kept(ctx, body, context, lambda: show_page(ctx, client, body), name="slack page")
        await ack()

    bolt.action(PAGE_ACTION)(page)
    bolt.action(f"{PAGE_ACTION}_previous")(page)

    @bolt.action(KUDOS_PICK_ACTION)
    async def pick_person(ack: AsyncAck) -> None:
        await ack()  # the choice is read from the message's state when "Give kudos" is clicked

    @bolt.action(GIVE_KUDOS_ACTION)
    async def kudos_for_praise(ack: AsyncAck, body: dict, client: AsyncWebClient, context: dict) -> None:
        await handle_kept(ctx, body, context, lambda: give_praise_kudos(ctx, client, body), name="slack kudos")
        await ack()


def replay_work(ctx: SlackContext, client_for: ClientFor) -> WorkFor:
    """What a replayed command, click, submission or shortcut does (handlers/slack/kept.py): the same work as when
    it arrived; events are handed to :func:`handlers.slack.events.replay_work`."""
    replay_event = events.replay_work(ctx, client_for)

    async def work_for(kind: str, kept: Mapping[str, Any]) -> tuple[Work, Hashable | None] | None:
        if not replay_kind(kind):
            return await replay_event(kind, kept)
        body = for_replay(kept, kind, now=ctx.clock())
        if body is None:
            return None
        client = await client_for(body)
        view = body.get("view") or {}
        works: dict[str, Work] = {
            "command": lambda: answer_command(ctx, client, body),
            "shortcut": lambda: on_shortcut(ctx, client, body),
            DONE_ACTION: lambda: close_commitment(ctx, client, body, "done"),
            DROP_ACTION: lambda: close_commitment(ctx, client, body, "dropped"),
            PAGE_ACTION: lambda: show_page(ctx, client, body),
            f"{PAGE_ACTION}_previous": lambda: show_page(ctx, client, body),
            GIVE_KUDOS_ACTION: lambda: give_praise_kudos(ctx, client, body),
            f"view:{FOLLOW_UP_CALLBACK}": lambda: submit_follow_up(ctx, client, body, view),
            f"view:{REROUTE_CALLBACK}": lambda: submit_reroute(ctx, client, body, view),
        }
        work = works.get(kind)
        if work is None:
            log.warning("slack: an inbox request of unknown kind %r is dropped", kind)
            return None
        return work, None

    return work_for


async def show_page(ctx: SlackContext, client: AsyncWebClient, body: Mapping[str, Any]) -> None:
    """Another page of a ``/cx`` list, in place of the one clicked."""
    await run_command(ctx, client, body, text=_value(body), replace=True)


def reroute_choice(view: Mapping[str, Any]) -> str | None:
    """The department picked in the "Not for us" form."""
    choice = (_input(view, "department").get("selected_option") or {}).get("value")
    return str(choice) if choice else None


def picked_person(body: Mapping[str, Any], story_id: int) -> str:
    """The person chosen in the suggestion's picker, from the message state Slack sends with the click."""
    values = ((body.get("state") or {}).get("values") or {}).get(f"{PRAISE_BLOCK}{story_id}") or {}
    return str((values.get(KUDOS_PICK_ACTION) or {}).get("selected_user") or "")


async def give_praise_kudos(ctx: SlackContext, client: AsyncWebClient, body: Mapping[str, Any]) -> None:
    """ "Give kudos" on a customer praise suggestion: kudos to the person picked beside it, linked to the story."""
    story, _, name = _value(body).partition(":")
    user = str((body.get("user") or {}).get("id") or "")
    message = _message(body)
    ref = StoryRef(0, message.channel if message else None)
    if not story.isdigit() or len(story) > 10:
        log.info("slack kudos button without a story id")
        return
    receiver = picked_person(body, int(story))
    actor = await ctx.people.actor(client, user)
    profile_name = (await ctx.people.profile(client, receiver)).name if receiver else None
    action = Action(
        kind="give_kudos",
        actor=actor,
        key=action_key(body),
        story_id=int(story),
        values={"receiver": receiver, "name": name, "receiver_name": profile_name or name},
    )
    result = await asyncio.to_thread(ctx.actions.handle, action)
    await _tell(client, ref, user, result if isinstance(result, KudosView) else _shown(result))


def _message(body: Mapping[str, Any]) -> MessageRef | None:
    """The message whose button was clicked (a story card or a digest), if Slack says."""
    container = body.get("container") or {}
    channel = container.get("channel_id") or (body.get("channel") or {}).get("id")
    ts = container.get("message_ts") or (body.get("message") or {}).get("ts")
    return MessageRef(channel=str(channel), message_id=str(ts)) if channel and ts else None


async def open_modal(ctx: SlackContext, client: AsyncWebClient, body: Mapping[str, Any], *, follow_up: bool) -> None:
    user = str((body.get("user") or {}).get("id") or "")
    try:
        story_id = int(_value(body))
    except ValueError:
        log.info("slack story button without a story id")
        return
    message = _message(body)
    # The follow-up form is anyone's to open (no groups needed, and the trigger lasts 3 s); "Not for us" is
    # checked against the person's user groups.
    actor = await ctx.people.actor(client, user) if not follow_up else Actor(platform="slack", user_id=user)
    action = Action(
        kind="follow_up" if follow_up else "not_for_us",
        actor=actor,
        key=action_key(body),
        story_id=story_id,
        message=message,
    )
    result = await asyncio.to_thread(ctx.actions.handle, action)
    channel, ts = (message.channel, message.message_id) if message else (None, None)
    if isinstance(result, FollowUpForm):
        ref = StoryRef(story_id, channel, ts, result.department)
        view = follow_up_modal(story_id, owner_user_id=result.owner)
    elif isinstance(result, RerouteForm):
        ref = StoryRef(story_id, channel, ts, result.source)
        try:
            view = reroute_modal(story_id, result.targets)
        except ValueError as exc:
            await _tell(client, ref, user, Notice(str(exc)))
            return
    else:
        await _tell(client, StoryRef(story_id, channel, ts), user, _shown(result))
        return
    view["private_metadata"] = ref.dump()
    trigger = body.get("trigger_id")
    if not trigger:  # a click without a trigger cannot open a modal; say so instead of calling Slack with "None"
        await _tell(client, ref, user, Notice("Slack did not let me open the form; please click the button again."))
        return
    await client.views_open(trigger_id=str(trigger), view=view)
    await ctx.people.actor(client, user)  # warm the cache for the submission


def _shown(result: ActionResult) -> View:
    """What the person is told: a notice or a commitment (forms are opened, never told)."""
    if isinstance(result, Notice | CommitmentItem):
        return result
    return Notice("Done.")


async def _tell(client: AsyncWebClient, ref: StoryRef, user: str, view: View) -> None:
    """A private note to ``user``: in the story's channel if known, else in their DM with the app."""
    if ref.channel:
        await client.chat_postEphemeral(channel=ref.channel, user=user, **render(view))
    else:
        await client.chat_postMessage(channel=user, **render(view))


async def submit_follow_up(
    ctx: SlackContext, client: AsyncWebClient, body: Mapping[str, Any], view: Mapping[str, Any]
) -> None:
    user = str((body.get("user") or {}).get("id") or "")
    ref = StoryRef.load(str(view.get("private_metadata") or ""))
    owner = str(_input(view, "owner").get("selected_user") or user)
    actor, owner_profile = await asyncio.gather(ctx.people.actor(client, user), ctx.people.profile(client, owner))
    action = Action(
        kind="commit",
        actor=actor,
        key=view_key(body),
        story_id=ref.story_id,
        department=ref.department,
        values={
            "what": str(_input(view, "what").get("value") or ""),
            "owner": owner,
            "owner_name": owner_profile.name or "",
            "due": str(_input(view, "due").get("selected_date") or ""),
        },
    )
    result = await asyncio.to_thread(ctx.actions.handle, action)
    await _tell(client, ref, user, _shown(result))


async def submit_reroute(
    ctx: SlackContext, client: AsyncWebClient, body: Mapping[str, Any], view: Mapping[str, Any]
) -> None:
    target = reroute_choice(view) or ""
    user = str((body.get("user") or {}).get("id") or "")
    ref = StoryRef.load(str(view.get("private_metadata") or ""))
    actor = await ctx.people.actor(client, user)
    action = Action(
        kind="reroute",
        actor=actor,
        # Two "Not for us" modals sent the same way are one correction.
        key=f"slack:reroute:{ref.story_id}:{ref.department}:{target}:{user}",
        story_id=ref.story_id,
        department=ref.department,
        values={"to": target},
    )
    result = await asyncio.to_thread(ctx.actions.handle, action)
    await _tell(client, ref, user, _shown(result))


async def close_commitment(ctx: SlackContext, client: AsyncWebClient, body: Mapping[str, Any], state: str) -> None:
    try:
        value = json.loads(_value(body))
        commitment_id, listing = int(value["id"]), str(value.get("list") or "actions")
    except (ValueError, KeyError, TypeError):
        log.info("slack commitment button with a malformed value")
        return
    user = str((body.get("user") or {}).get("id") or "")
    actor = await ctx.people.actor(client, user)
    action = Action(
        kind="done" if state == "done" else "drop", actor=actor, key=action_key(body), commitment_id=commitment_id
    )
    result = await asyncio.to_thread(ctx.actions.handle, action)
    if (body.get("container") or {}).get("type") == "view":  # App Home
        await publish_home(ctx, client, user)
        return
    response_url = str(body.get("response_url") or "")
    if isinstance(result, Notice):
        await respond(response_url, result, session=ctx.http)
        return
    await run_command(ctx, client, body, text=listing, replace=True)
