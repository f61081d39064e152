"""cxbot's TeamsActivityHandler: what each Teams activity means for cxbot.

Every activity refreshes the stored conversation reference of its channel or chat (installs included), so
proactive posts work after a restart and follow a changed ``serviceUrl``. Each activity is handled once per
activity id (table ``processed_events``): Teams delivering it twice changes nothing the second time. When
handling fails the id is released, so a retry is handled rather than dropped.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging

from botbuilder.core import InvokeResponse, TurnContext
from botbuilder.core.teams import TeamsActivityHandler
from botbuilder.schema import Activity, ActivityTypes, MessageReaction

from handlers.teams import message_action
from handlers.teams.actions import on_card_action
from handlers.teams.activities import (
    PLATFORM,
    channel_of,
    reference_dict,
    reference_of,
    scope_of,
    team_id_of,
    tenant_id_of,
    user_id_of,
)
from handlers.teams.cards import HOME_ACTION
from handlers.teams.context import TeamsContext
from handlers.teams.messages import on_text
from handlers.teams.reactions import record_reactions
from handlers.teams.text import attachments_text
from stories.commands import CommandContext
from stories.log_context import bound
from stories.views import Notice

log = logging.getLogger(__name__)

# The mention is spelled out: without the team's consent to read channel messages (RSC), a channel message reaches
# cxbot only if it @mentions it, so a bare “cx link finance” would be met with silence.
WELCOME = (
    "Hi, I'm {name}: I bring customers' comments to the departments they concern. "
    "An admin can type “@{name} cx link <department>” in a channel to send that department's stories there; "
    "type “@{name} cx help” (in our chat, “cx help”) for everything else."
)


def event_key(conversation_id: str, activity_id: str) -> str:
    """The de-duplication key of an activity (ids are unique within a conversation)."""
    key = f"{PLATFORM}:{channel_of(conversation_id)}:{activity_id}"
    if len(key) <= 300:
        return key
    return f"{PLATFORM}:sha256:{hashlib.sha256(key.encode()).hexdigest()}"


def _claimed(activity: Activity) -> bool:
    """Whether an activity is handled once per id. A message action's invokes are not: their answer is the
    HTTP response, which a retry must get again, and what they write is idempotent on the message's own id."""
    return not (activity.type == ActivityTypes.invoke and activity.name in message_action.INVOKES)


class CxTeamsBot(TeamsActivityHandler):
    def __init__(self, tctx: TeamsContext) -> None:
        self.tctx = tctx
        self._members: dict[str, tuple[str | None, str]] = {}  # user -> (tenant, service URL) stored last

    async def on_turn(self, turn_context: TurnContext) -> None:
        activity = turn_context.activity
        with bound(event_id=f"teams:{activity.id}" if activity.id else None):
            return await self._turn(turn_context)

    async def _turn(self, turn_context: TurnContext) -> None:
        activity = turn_context.activity
        await self._remember(turn_context)
        key = event_key(activity.conversation.id, activity.id) if activity.id and _claimed(activity) else None
        if key is not None:
            first = await asyncio.to_thread(self.tctx.processed.first_time, key, now=self.tctx.clock())
            if not first:
                log.info("Teams %s activity %s already handled", activity.type, activity.id)
                return None
        try:
            return await super().on_turn(turn_context)
        except BaseException:
            if key is not None:
                await asyncio.to_thread(self.tctx.processed.forget, key)
            raise

    async def _remember(self, turn_context: TurnContext) -> None:
        """Store (or refresh) the reference to the channel or chat this activity came from."""
        activity = turn_context.activity
        if activity.type == ActivityTypes.installation_update and (activity.action or "").startswith("remove"):
            return
        scope = scope_of(activity)
        user = user_id_of(activity.from_property) if scope == "personal" else None
        reference = reference_of(activity)
        await asyncio.to_thread(
            self.tctx.refs.save,
            conversation_id=reference.conversation.id,
            scope=scope,
            reference=reference_dict(reference),
            now=self.tctx.clock(),
            user_id=user,
            team_id=team_id_of(activity),
        )
        sender = user_id_of(activity.from_property) if activity.from_property is not None else None
        seen = (tenant_id_of(activity), str(activity.service_url or ""))
        if sender and seen[1] and self._members.get(sender) != seen:  # a write only when it changed
            await asyncio.to_thread(
                self.tctx.refs.save_member,
                user_id=sender,
                tenant_id=seen[0],
                service_url=seen[1],
                now=self.tctx.clock(),
            )
            self._members[sender] = seen

    # --- installs ----------------------------------------------------------------------------------------------

    async def on_conversation_update_activity(self, turn_context: TurnContext) -> None:
        """Say hello when cxbot itself was added. Other members, channel and team events need nothing (their
        reference was refreshed above); botbuilder's default would look every new member up, one request each."""
        activity = turn_context.activity
        bot_id = activity.recipient.id
        if any(member.id == bot_id for member in activity.members_added or ()):
            log.info("cxbot added to a Teams %s", scope_of(activity))
            name = (activity.recipient.name or "").strip() or "cxbot"  # as the tenant named the app
            await self.tctx.answer(turn_context, Notice(WELCOME.format(name=name)), summary=f"Hi, I'm {name}")
            if scope_of(activity) == "personal" and activity.from_property is not None:
                await self.send_home(turn_context)

    async def send_home(self, turn_context: TurnContext) -> None:
        """The person's home card, in the personal chat just opened (Teams' counterpart of Slack's App Home)."""
        actor = await self.tctx.people.actor(turn_context)
        context = CommandContext(actor=actor, channel=None, thread_story_id=None)
        view = await asyncio.to_thread(self.tctx.commands.run, context, HOME_ACTION)
        await self.tctx.answer(turn_context, view, summary="Your cxbot home")

    async def on_installation_update_add(self, turn_context: TurnContext) -> None:
        log.info("cxbot installed in a Teams %s", scope_of(turn_context.activity))

    # --- messages, buttons, reactions --------------------------------------------------------------------------

    async def on_message_activity(self, turn_context: TurnContext) -> None:
        value = turn_context.activity.value
        if isinstance(value, dict) and value.get("cx_action"):
            await on_card_action(self.tctx, turn_context, value)
        elif turn_context.activity.text or attachments_text(turn_context.activity.attachments):  # a card's words
            await on_text(self.tctx, turn_context)

    async def on_reactions_added(self, message_reactions: list[MessageReaction], turn_context: TurnContext) -> None:
        await record_reactions(self.tctx, turn_context, message_reactions, added=True)

    async def on_reactions_removed(self, message_reactions: list[MessageReaction], turn_context: TurnContext) -> None:
        await record_reactions(self.tctx, turn_context, message_reactions, added=False)

    async def on_invoke_activity(self, turn_context: TurnContext) -> InvokeResponse:
        """The "Send to CX stories" message action; cxbot's cards use Action.Submit (message activities), and
        other invokes are acknowledged and ignored."""
        if turn_context.activity.name in message_action.INVOKES:
            return await message_action.on_message_action(self.tctx, turn_context)
        log.info("Teams invoke %r ignored", (turn_context.activity.name or "")[:60])
        return InvokeResponse(status=200)
