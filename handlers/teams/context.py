"""What the Teams handlers share: the core (handed over by the wiring), conversation references, how to answer."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from typing import Any

from botbuilder.core import TurnContext

from handlers.context import OnCore
from handlers.ports import ConversationRefs, Core
from handlers.teams.activities import card_message
from handlers.teams.people import TeamsPeople
from handlers.teams.render import render, summary_of
from handlers.teams.retry import RetryPolicy, Sleep, connector_call
from stories.ports import DeliveryError

log = logging.getLogger(__name__)

# Answers inside a turn: Teams waits about 15 s for the HTTP answer, so retries here are short; whatever
# still fails is logged and the person can ask again.
IN_TURN_RETRY = RetryPolicy(attempts=3, base_delay=0.5, max_delay=2.0, max_retry_after=4.0)


@dataclass
class TeamsContext(OnCore):
    core: Core
    refs: ConversationRefs
    retry: RetryPolicy = IN_TURN_RETRY
    sleep: Sleep = asyncio.sleep
    people: TeamsPeople = field(default_factory=TeamsPeople)  # roster look-ups: aliases and team owners

    async def answer(self, turn: TurnContext, view: object, *, summary: str | None = None) -> str | None:
        """Reply in the conversation (in a channel: in the thread) with ``view`` rendered as a card."""
        card: dict[str, Any] = view if isinstance(view, dict) else render(view)
        activity = card_message(card, summary=summary_of(summary) if summary else None)
        try:
            response = await connector_call(
                lambda: turn.send_activity(activity), what="reply", policy=self.retry, sleep=self.sleep
            )
        except DeliveryError as exc:
            log.warning("Teams reply to activity %s not sent: %s", turn.activity.id, exc)
            return None
        return response.id if response is not None else None

    async def replace(self, turn: TurnContext, message_id: str, view: object) -> bool:
        """Update the card ``message_id`` in this conversation in place (a form, once submitted)."""
        card: dict[str, Any] = view if isinstance(view, dict) else render(view)
        activity = card_message(card)
        activity.id = message_id
        activity.conversation = turn.activity.conversation
        try:
            await connector_call(
                lambda: turn.update_activity(activity), what="update card", policy=self.retry, sleep=self.sleep
            )
        except DeliveryError as exc:
            log.warning("Teams card %s not updated: %s", message_id, exc)
            return False
        return True
