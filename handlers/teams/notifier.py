"""The Teams :class:`stories.ports.Notifier`: proactive posts through the stored conversation references.

Every call is ``continue_conversation`` with the reference stored when the bot was installed (or last spoken
to) in that channel or chat, so it works after a restart and from any replica. Inside that turn the connector
client is used directly: a post is ``send_to_conversation`` (a new thread in a channel), a reply goes to the
thread's conversation ``{channel};messageid={root}``, an update is ``update_activity`` on the card's id. A direct
message goes to the user's stored personal chat, or creates one (Teams allows that for users in the tenant
who have the app, by Entra object id).

``key`` (the outbox delivery key) is accepted and not used: the Bot Framework API cannot list a channel's
messages, so Teams cannot look a delivery up after a crash (no ``FindsDelivered``), see bot/dispatcher.py.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any, TypeVar

from botbuilder.core import BotAdapter, TurnContext
from botbuilder.integration.aiohttp import CloudAdapter
from botbuilder.schema import Activity, ChannelAccount, ConversationParameters, ConversationReference
from botframework.connector.aio import ConnectorClient
from msrest.exceptions import HttpOperationError

from handlers.ports import ConversationRefs
from handlers.teams.activities import (
    PLATFORM,
    card_message,
    channel_of,
    reference_dict,
    reference_from,
    thread_of,
    with_conversation,
)
from handlers.teams.cards import digest_card, story_card
from handlers.teams.render import render, summary_of, text_card
from handlers.teams.report import report_card
from handlers.teams.retry import RetryPolicy, Sleep, connector_call
from handlers.teams.roster import RosterIds, is_upn
from stories.models import DigestView, StoryView
from stories.patterns import PatternReport
from stories.ports import DeliveryError, PostedMessage
from stories.presentation import digest_heading
from stories.views import PraiseView, SurgeView

log = logging.getLogger(__name__)

T = TypeVar("T")


class TeamsNotifier:
    platform = PLATFORM

    def __init__(
        self,
        *,
        adapter: CloudAdapter,
        refs: ConversationRefs,
        app_id: str | None,
        retry: RetryPolicy | None = None,
        sleep: Sleep = asyncio.sleep,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.adapter = adapter
        self.refs = refs
        self.app_id = app_id
        self.retry = retry or RetryPolicy()
        self.sleep = sleep
        self.clock = clock
        self.roster_ids = RosterIds()

    # --- the Notifier protocol ---------------------------------------------------------------------------------

    async def post_story(self, *, channel: str, story: StoryView, key: str | None = None) -> PostedMessage:
        card = _rendered(story_card, story)
        return await self._post(channel, card_message(card, summary=summary_of(story.title)), "story")

    async def post_digest(self, *, channel: str, digest: DigestView, key: str | None = None) -> PostedMessage:
        summary = summary_of(digest_heading(digest))
        return await self._post(channel, card_message(_rendered(digest_card, digest), summary=summary), "digest")

    async def update_story(self, *, message: PostedMessage, story: StoryView, note: str) -> None:
        reference = await self._reference(message.channel)
        card = _rendered(lambda view: story_card(view, note=note or None), story)
        activity = card_message(card, summary=summary_of(story.title))
        activity.id = message.message_id
        conversation = channel_of(message.channel)

        async def update(client: ConnectorClient) -> None:
            await client.conversations.update_activity(conversation, message.message_id, activity)

        await self._in_turn(reference, update, what=f"update story card {message.message_id}")

    async def update_digest(self, *, message: PostedMessage, digest: DigestView, note: str) -> None:
        reference = await self._reference(message.channel)
        card = _rendered(lambda view: digest_card(view, note=note or None), digest)
        activity = card_message(card, summary=summary_of(digest_heading(digest)))
        activity.id = message.message_id
        conversation = channel_of(message.channel)

        async def update(client: ConnectorClient) -> None:
            await client.conversations.update_activity(conversation, message.message_id, activity)

        await self._in_turn(reference, update, what=f"update digest card {message.message_id}")

    async def delete_message(self, *, message: PostedMessage) -> None:
        """The connector's delete activity; a 404 (already gone) counts as deleted."""
        reference = await self._reference(message.channel)
        conversation = channel_of(message.channel)

        async def remove(client: ConnectorClient) -> None:
            try:
                await client.conversations.delete_activity(conversation, message.message_id)
            except HttpOperationError as exc:
                if getattr(exc.response, "status_code", None) != 404:
                    raise

        await self._in_turn(reference, remove, what=f"delete message {message.message_id}")

    async def reply_in_thread(self, *, message: PostedMessage, text: str, key: str | None = None) -> PostedMessage:
        reference = await self._reference(message.channel)
        conversation = reference.conversation.id
        if (reference.conversation.conversation_type or "") == "channel":
            conversation = thread_of(conversation, message.message_id)  # chats have no threads: post in the chat
        posted = await self._send(
            with_conversation(reference, conversation), conversation, self._text(text), what="thread reply"
        )
        return PostedMessage(message.channel, posted)

    async def send_direct_message(self, *, user: str, text: str, key: str | None = None) -> PostedMessage:
        if is_upn(user):
            user = await self._user_for(user)
        stored = await asyncio.to_thread(self.refs.personal, user)
        reference = reference_from(stored) if stored else await self._create_personal(user)
        conversation = reference.conversation.id
        return PostedMessage(
            conversation, await self._send(reference, conversation, self._text(text), what="direct message")
        )

    async def post_text(self, *, channel: str, text: str, key: str | None = None) -> PostedMessage:
        return await self._post(channel, self._text(text), "text")

    async def post_report(
        self, *, channel: str, report: PatternReport, chart_png: bytes, key: str | None = None
    ) -> PostedMessage:
        """The weekly pattern report: one Adaptive Card, the chart inline as an image (handlers/teams/report.py)."""
        card = report_card(report, chart_png=chart_png)
        return await self._post(
            channel, card_message(card, summary=summary_of(f"Weekly patterns: {report.department}")), "report"
        )

    async def post_surge(self, *, channel: str, surge: SurgeView, key: str | None = None) -> PostedMessage:
        return await self._post(channel, card_message(render(surge), summary=summary_of(surge.heading)), "surge")

    async def post_praise(self, *, channel: str, praise: PraiseView, key: str | None = None) -> PostedMessage:
        summary = summary_of(f"Customer praise this week: {len(praise.items)}")
        return await self._post(channel, card_message(render(praise), summary=summary), "praise")

    # --- plumbing ------------------------------------------------------------------------------------------------

    @staticmethod
    def _text(text: str) -> Activity:
        return card_message(text_card(text), summary=summary_of(text))

    async def _reference(self, channel: str) -> ConversationReference:
        stored = await asyncio.to_thread(self.refs.get, channel_of(channel))
        if stored is None:
            raise DeliveryError(f"no Teams conversation reference for {channel}: add cxbot to that team or chat first")
        return reference_from(stored)

    async def _post(self, channel: str, activity: Activity, what: str) -> PostedMessage:
        reference = await self._reference(channel)
        conversation = reference.conversation.id
        return PostedMessage(conversation, await self._send(reference, conversation, activity, what=what))

    async def _send(self, reference: ConversationReference, conversation: str, activity: Activity, *, what: str) -> str:
        async def send(client: ConnectorClient) -> str:
            response = await client.conversations.send_to_conversation(conversation, activity)
            if response is None or not response.id:
                raise DeliveryError(f"{what}: the connector answered without a message id")
            return str(response.id)

        return await self._in_turn(reference, send, what=what)

    async def _in_turn(
        self, reference: ConversationReference, call: Callable[[ConnectorClient], Awaitable[T]], *, what: str
    ) -> T:
        """``call`` with a connector client for the reference's service, in a proactive turn, with retries."""

        async def attempt() -> T:
            results: list[T] = []

            async def logic(context: TurnContext) -> None:
                results.append(await call(context.turn_state[BotAdapter.BOT_CONNECTOR_CLIENT_KEY]))

            await self.adapter.continue_conversation(reference, logic, self.app_id)
            return results[0]

        return await connector_call(attempt, what=what, policy=self.retry, sleep=self.sleep)

    async def _read_rosters(self, done: Callable[[], bool]) -> None:
        """Read the rosters of the teams and group chats cxbot is in, newest first, each once, until ``done()``."""
        for stored in [] if done() else await asyncio.to_thread(self.refs.rosters):
            reference = reference_from(stored)
            conversation = reference.conversation.id
            if not self.roster_ids.unread(conversation):
                continue

            async def read(client: ConnectorClient, conversation: str = conversation) -> None:
                await self.roster_ids.read(client, conversation)

            try:
                await self._in_turn(reference, read, what="read a roster")
            except DeliveryError as exc:
                if not exc.permanent:
                    raise  # retried later: the roster may be readable then
                # cxbot was removed from that team (403, 404): the other rosters may still list the person
                log.warning("teams: a roster cxbot can no longer read was skipped: %s", exc)
                self.roster_ids.skip(conversation)
                continue
            if done():
                break

    async def _user_for(self, upn: str) -> str:
        """The user id of someone the configuration names by UPN or e-mail, from the rosters cxbot is in."""
        await self._read_rosters(lambda: self.roster_ids.known(upn) is not None)
        found = self.roster_ids.known(upn)
        if found is None:
            raise DeliveryError(  # retried: cxbot may be added to that person's team later
                "a person named by UPN or e-mail is in no Teams roster cxbot is in: add cxbot to their team, or name "
                "them by Entra object id in the configuration"
            )
        return found

    async def _listed_in(self, user: str) -> ConversationReference | None:
        """The stored reference of the conversation whose roster lists ``user``: its tenant is theirs."""
        await self._read_rosters(lambda: self.roster_ids.conversation_of(user) is not None)
        conversation = self.roster_ids.conversation_of(user)
        stored = await asyncio.to_thread(self.refs.get, conversation) if conversation else None
        return reference_from(stored) if stored else None

    async def _create_personal(self, user: str) -> ConversationReference:
        """Open (or find: Teams answers with the same chat) the 1:1 chat with ``user`` and remember it."""
        stored = await asyncio.to_thread(self.refs.newest)
        if stored is None:
            raise DeliveryError("no Teams conversation known yet, so no service URL or tenant to open a chat with")
        known = reference_from(stored)  # the bot's account and channel; the tenant is the user's own
        tenant = getattr(known.conversation, "tenant_id", None)
        member = await asyncio.to_thread(self.refs.member, user)
        if member is not None:
            tenant, known.service_url = member[0] or tenant, member[1]
        elif (listed := await self._listed_in(user)) is not None:  # never seen, but in a roster: that tenant
            tenant = getattr(listed.conversation, "tenant_id", None) or tenant
            known.service_url = listed.service_url or known.service_url
        else:
            log.info("Teams user never seen by cxbot: opening their chat in the newest conversation's tenant")
        parameters = ConversationParameters(
            is_group=False,
            bot=known.bot,
            members=[ChannelAccount(id=user)],
            tenant_id=tenant,
            channel_data={"tenant": {"id": tenant}} if tenant else None,
        )

        async def attempt() -> ConversationReference:
            created: list[ConversationReference] = []

            async def logic(context: TurnContext) -> None:
                created.append(TurnContext.get_conversation_reference(context.activity))

            await self.adapter.create_conversation(
                self.app_id,
                logic,
                parameters,
                channel_id=known.channel_id or "msteams",
                service_url=known.service_url,
            )
            return created[0]

        reference = await connector_call(attempt, what="open a direct chat", policy=self.retry, sleep=self.sleep)
        data: dict[str, Any] = reference_dict(reference)
        data.pop("activityId", None)
        data["user"] = {"id": user}
        data.setdefault("conversation", {})["conversationType"] = "personal"
        await asyncio.to_thread(
            self.refs.save,
            conversation_id=reference.conversation.id,
            scope="personal",
            user_id=user,
            reference=data,
            now=self.clock(),
        )
        return reference_from(data)


def _rendered(render: Callable[[Any], dict[str, Any]], view: Any) -> dict[str, Any]:
    """A card, or a permanent DeliveryError: a view the cards cannot show will not render on a retry either."""
    try:
        return render(view)
    except ValueError as exc:
        raise DeliveryError(f"teams: cannot render the card: {exc}", permanent=True) from exc
