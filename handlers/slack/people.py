"""Who a Slack user is for the core: user groups (CX team, managers), name and timezone, cached briefly.

The configuration names Slack user groups (``cx_team.groups``, departments' ``manager_groups``); membership
comes from ``usergroups.users.list`` and is kept for :data:`TTL` seconds, so a permission check costs no
API call on most requests and a membership change is seen within minutes. If Slack cannot be asked, the
last known membership is used (or none), and the person is treated as an ordinary user: never more rights
than Slack confirmed.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from slack_sdk.web.async_client import AsyncWebClient

from stories.actors import Actor
from stories.config import CxConfig

log = logging.getLogger(__name__)

TTL = 300.0  # seconds a group's membership or a user's profile is trusted
FAILED_TTL = 30.0  # seconds before asking again after Slack failed to answer


@dataclass(frozen=True, slots=True)
class Profile:
    name: str | None
    timezone: str | None
    admin: bool


def configured_groups(config: CxConfig) -> frozenset[str]:
    """Every Slack user group the configuration gives rights to."""
    groups = set(config.cx_team.groups)
    for department in config.departments:
        groups.update(department.manager_groups)
    return frozenset(groups)


class People:
    def __init__(self, *, groups: Iterable[str], ttl: float = TTL, clock: Callable[[], float] = time.monotonic) -> None:
        self._groups = tuple(sorted(set(groups)))
        self._ttl = ttl
        self._clock = clock
        self._members: dict[str, tuple[float, frozenset[str]]] = {}
        self._profiles: dict[str, tuple[float, Profile]] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    async def actor(self, client: AsyncWebClient, user_id: str, *, name: str | None = None) -> Actor:
        """The core's :class:`Actor` for ``user_id`` (``client`` carries the right workspace's token)."""
        groups, profile = await asyncio.gather(self.groups_of(client, user_id), self.profile(client, user_id))
        return Actor(
            platform="slack",
            user_id=user_id,
            name=profile.name or name,
            groups=groups,
            timezone=profile.timezone,
            admin=profile.admin,
        )

    async def groups_of(self, client: AsyncWebClient, user_id: str) -> frozenset[str]:
        members = await asyncio.gather(*(self._group(client, group) for group in self._groups))
        return frozenset(g for g, users in zip(self._groups, members, strict=True) if user_id in users)

    async def profile(self, client: AsyncWebClient, user_id: str) -> Profile:
        async with self._lock(f"user:{user_id}"):
            cached = self._profiles.get(user_id)
            if cached and cached[0] > self._clock():
                return cached[1]
            try:
                user: dict[str, Any] = (await client.users_info(user=user_id))["user"]
            except Exception as exc:
                log.warning("users.info for %s failed: %s", user_id, exc)
                profile = cached[1] if cached else Profile(None, None, False)
                self._profiles[user_id] = (self._clock() + FAILED_TTL, profile)
                return profile
            names = user.get("profile") or {}
            profile = Profile(
                name=names.get("display_name") or names.get("real_name") or user.get("real_name") or user.get("name"),
                timezone=user.get("tz"),
                admin=bool(user.get("is_admin") or user.get("is_owner")),
            )
            self._profiles[user_id] = (self._clock() + self._ttl, profile)
            return profile

    async def _group(self, client: AsyncWebClient, group: str) -> frozenset[str]:
        async with self._lock(f"group:{group}"):
            cached = self._members.get(group)
            if cached and cached[0] > self._clock():
                return cached[1]
            try:
                users = frozenset((await client.usergroups_users_list(usergroup=group))["users"])
            except Exception as exc:
                log.warning("usergroups.users.list for %s failed: %s", group, exc)
                users = cached[1] if cached else frozenset()
                self._members[group] = (self._clock() + FAILED_TTL, users)
                return users
            self._members[group] = (self._clock() + self._ttl, users)
            return users

    def _lock(self, key: str) -> asyncio.Lock:
        return self._locks.setdefault(key, asyncio.Lock())
