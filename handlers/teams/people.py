"""Who a Teams user is for the core: the Bot Framework roster's word on them, cached briefly.

What the Bot Framework tells a bot about a person (``GET /v3/conversations/{id}/members/{userId}``; in a team
cxbot asks the team's roster, ``{id}`` being the team id) is their Entra object id, name, user principal name,
e-mail and ``userRole``. cxbot uses:

- the **UPN and e-mail** as aliases, so the configuration may name people by ``dana@contoso.com`` as well as by
  object id (``cx_team.users``, ``departments[].managers`` and ``ambassadors``);
- **``userRole: "owner"``** as a platform admin (``stories.actors.is_admin``: may ``cx link``). When the field
  was added to the roster its values were announced as ``user``, ``guest`` and ``owner``; Teams in practice
  often answers ``user`` for a team's owners, so team owners are admins only where Teams says so. A ``guest`` is never an admin.

What the Bot Framework does not tell a bot, so cxbot cannot use: Entra (security or Microsoft 365) group
membership (Slack user groups' counterpart: Microsoft Graph ``checkMemberGroups`` needs Graph permissions an
admin consents to), tenant administrator roles, and reliable team ownership (Graph's team members with
``TeamMember.Read.Group``). Name those people by object id or UPN in the configuration.

A look-up per person (and team) is kept for :data:`TTL` seconds. If Teams cannot be asked, what it confirmed
last is kept, or else the person is an ordinary user known by object id: never more rights than Teams confirmed.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from botbuilder.core import BotAdapter, TurnContext
from botbuilder.schema.teams import TeamsChannelAccount

from handlers.teams.activities import actor_of, team_id_of
from stories.actors import Actor

log = logging.getLogger(__name__)

TTL = 300.0  # seconds a person's roster entry is trusted
FAILED_TTL = 30.0  # seconds before asking again after Teams failed to answer
OWNER_ROLE = "owner"


@dataclass(frozen=True, slots=True)
class Profile:
    name: str | None
    aliases: frozenset[str]
    admin: bool


NOBODY = Profile(None, frozenset(), False)


def profile_of(member: object) -> Profile:
    """What a roster entry (botbuilder's ``TeamsChannelAccount``) says about a person."""
    aliases = {
        str(value).strip().casefold()
        for value in (getattr(member, "user_principal_name", None), getattr(member, "email", None))
        if value and str(value).strip()
    }
    role = str(getattr(member, "user_role", None) or "").casefold()
    return Profile(name=getattr(member, "name", None) or None, aliases=frozenset(aliases), admin=role == OWNER_ROLE)


async def roster_entry(turn: TurnContext, conversation_id: str, member_id: str) -> TeamsChannelAccount:
    """``GET /v3/conversations/{conversation_id}/members/{member_id}`` as a ``TeamsChannelAccount``. In a team
    ``conversation_id`` is the team's id: the team roster, whose ``userRole`` is the team role. (botbuilder's
    ``TeamsInfo.get_team_member`` takes a team id but asks the activity's conversation instead, so it is not used.)"""
    client = turn.turn_state.get(BotAdapter.BOT_CONNECTOR_CLIENT_KEY)
    if client is None:
        raise LookupError("no connector client in this turn")
    member = await client.conversations.get_conversation_member(conversation_id, member_id)
    return TeamsChannelAccount().deserialize(dict(member.serialize(), **(member.additional_properties or {})))


class TeamsPeople:
    def __init__(self, *, ttl: float = TTL, clock: Callable[[], float] = time.monotonic) -> None:
        self._ttl = ttl
        self._clock = clock
        self._profiles: dict[tuple[str, str | None], tuple[float, Profile]] = {}
        self._locks: dict[tuple[str, str | None], asyncio.Lock] = {}

    async def actor(self, turn: TurnContext) -> Actor:
        """The core's :class:`Actor` for the sender of ``turn``'s activity, with what the roster confirms."""
        actor = actor_of(turn.activity)
        profile = await self.profile(turn)
        return dataclasses.replace(actor, name=actor.name or profile.name, aliases=profile.aliases, admin=profile.admin)

    async def profile(self, turn: TurnContext) -> Profile:
        account = turn.activity.from_property
        key = (str(account.id), team_id_of(turn.activity))  # a role is per team; aliases are not, but cheap
        async with self._locks.setdefault(key, asyncio.Lock()):
            cached = self._profiles.get(key)
            if cached and cached[0] > self._clock():
                return cached[1]
            try:
                member = await roster_entry(turn, key[1] or turn.activity.conversation.id, str(account.id))
            except Exception as exc:  # not in the roster, the Emulator, or the connector said no
                log.info("Teams roster look-up failed (%s); treated as an ordinary user", type(exc).__name__)
                profile = cached[1] if cached else NOBODY
                self._profiles[key] = (self._clock() + FAILED_TTL, profile)
                return profile
            profile = profile_of(member)
            self._profiles[key] = (self._clock() + self._ttl, profile)
            return profile
