"""Reading Teams activities and building the ones we send: ids, scopes, references, card messages.

Teams names a channel thread ``{channel id};messageid={root message id}``; everything cxbot stores (linked
channels, story messages, conversation references) uses the bare channel id, and a thread is derived from it
when replying.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any

from botbuilder.core import CardFactory, MessageFactory
from botbuilder.schema import Activity, ConversationReference

from stories.actors import Actor

PLATFORM = "teams"
THREAD_MARK = ";messageid="
_MENTION = re.compile(r"<at[^>]*>(.*?)</at>", re.IGNORECASE | re.DOTALL)


def channel_of(conversation_id: str) -> str:
    """The conversation without its thread suffix.

    >>> channel_of("19:abc@thread.tacv2;messageid=1700000000001")
    '19:abc@thread.tacv2'
    """
    return conversation_id.split(THREAD_MARK, 1)[0]


def activity_ref(activity: Activity) -> str:
    """An activity's identity across conversations: Teams message ids are millisecond timestamps, unique within
    a channel or chat only, so two intake channels (or two people typing `cx commit`) in the same millisecond
    would share a bare id. At most 150 characters (a comment's external id), hashed beyond that."""
    return message_ref(activity.conversation.id, str(activity.id))


def message_ref(conversation_id: str, message_id: str) -> str:
    """:func:`activity_ref` of message ``message_id`` in ``conversation_id`` (a thread's id is its channel's)."""
    ref = f"{channel_of(conversation_id)}:{message_id}"
    return ref if len(ref) <= 150 else f"sha256:{hashlib.sha256(ref.encode()).hexdigest()}"


def thread_of(channel: str, message_id: str) -> str:
    """The conversation id of the thread under ``message_id`` in a channel."""
    return f"{channel_of(channel)}{THREAD_MARK}{message_id}"


def scope_of(activity: Activity) -> str:
    """``channel``, ``groupChat`` or ``personal`` (the Emulator sends no type: a 1:1 chat)."""
    kind = getattr(activity.conversation, "conversation_type", None) or "personal"
    return kind if kind in ("channel", "groupChat", "personal") else "personal"


def team_id_of(activity: Activity) -> str | None:
    data = activity.channel_data if isinstance(activity.channel_data, dict) else {}
    team = data.get("team")
    return str(team["id"]) if isinstance(team, dict) and team.get("id") else None


def tenant_id_of(activity: Activity) -> str | None:
    """The tenant, from channelData (botbuilder-python drops ``conversation.tenantId``, see reference_of)."""
    data = activity.channel_data if isinstance(activity.channel_data, dict) else {}
    found = data.get("tenant")
    if isinstance(found, dict) and found.get("id"):
        return str(found["id"])
    extra = getattr(activity.conversation, "additional_properties", None) or {}
    return getattr(activity.conversation, "tenant_id", None) or extra.get("tenantId")


def user_id_of(account: Any) -> str:
    """A person's id as cxbot stores it: the Entra (AAD) object id, which the configuration uses and which
    stays the same across bots; the Bot Framework ``29:`` id only when Teams sends no object id (Emulator)."""
    return str(getattr(account, "aad_object_id", None) or account.id)


def actor_of(activity: Activity) -> Actor:
    account = activity.from_property
    return Actor(
        platform=PLATFORM,
        user_id=user_id_of(account),
        name=getattr(account, "name", None) or None,
        timezone=getattr(activity, "local_timezone", None) or None,
    )


def reference_of(activity: Activity) -> ConversationReference:
    """A reference to the channel or chat ``activity`` came from (never to one message or thread in it)."""
    reference = ConversationReference(
        channel_id=activity.channel_id,
        service_url=activity.service_url,
        conversation=activity.conversation,
        bot=activity.recipient,
        user=activity.from_property,
        locale=activity.locale,
    )
    reference = ConversationReference().deserialize(reference.serialize())
    reference.conversation.id = channel_of(activity.conversation.id)
    # botbuilder-python reads the conversation's tenant from "tenantID" while Teams sends "tenantId" (and
    # channelData.tenant): carry it over, creating a personal chat later needs it.
    reference.conversation.tenant_id = tenant_id_of(activity)
    return reference


def reference_dict(reference: ConversationReference) -> dict[str, Any]:
    return dict(reference.serialize())


def reference_from(data: dict[str, Any]) -> ConversationReference:
    return ConversationReference().deserialize(data)


def with_conversation(reference: ConversationReference, conversation_id: str) -> ConversationReference:
    """The same reference aimed at another conversation id (a thread of its channel)."""
    data = reference_dict(reference)
    data["conversation"] = {**data.get("conversation", {}), "id": conversation_id}
    return reference_from(data)


def card_message(card: dict[str, Any], *, summary: str | None = None) -> Activity:
    """A message carrying one Adaptive Card; ``summary`` is what notifications show instead of the card."""
    activity = MessageFactory.attachment(CardFactory.adaptive_card(card))
    if summary:
        activity.summary = summary
    return activity


def without_mentions(text: str) -> str:
    """``text`` with any remaining ``<at>name</at>`` tags reduced to the name, spaces tidied."""
    return " ".join(_MENTION.sub(r"\1", text).split())
