"""Slack channels given by name in the configuration (``"#customer-voice"``), turned into the ids that events
carry and that reading history needs.

The names are looked up at start-up with conversations.list (public and private channels the app can
see, every page, through slack_sdk's pagination). A name that is not found is logged at WARNING with the fix,
and intake in that channel stays off: an event's channel is an id and never equals a name. While a name is not
found the server looks again in the background (:meth:`ChannelDirectory.keep_resolving`): within a minute once
Slack can be reached after a start without it, every ten minutes for a channel not created yet; so an intake
channel turns on by itself, without a post or a restart.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from handlers.slack.errors import UNREACHABLE
from stories.config import CxConfig
from stories.places import slack_place

log = logging.getLogger(__name__)

CHANNEL_ID = re.compile(r"[CGD][A-Z0-9]{6,}")
SLACK_ID = re.compile(r"[A-Z][A-Z0-9]{6,}")  # a channel's, or a user's for a DM
PAGE_LIMIT = 1000  # channels per conversations.list page (Slack's maximum)
RETRY_FIRST = 5.0  # seconds before looking again after Slack could not be reached; doubling to RETRY_MOST
RETRY_MOST = 60.0
# seconds between look-ups while Slack answers but a name is not there (not created yet, a typo, cxbot not in a
# private channel): each is a paged conversations.list (Tier 2), so not every minute for a large workspace
MISSING_EVERY = 600.0


@dataclass(frozen=True)
class Workspace:
    """Which installation a channel belongs to (slack_sdk keys installations by enterprise and team id)."""

    enterprise_id: str | None = None
    team_id: str | None = None


def split_workspace(value: str) -> tuple[Workspace | None, str]:
    """``"T0ACME/C0FIN"`` -> (Workspace(team_id="T0ACME"), "C0FIN"); also ``E0ORG/T0ACME/C0FIN`` (a Grid
    workspace) and ``E0ORG/C0FIN`` (an org-wide install). A bare channel has no workspace (None)."""
    place = slack_place(value)
    if not place.prefixed:
        return None, value
    return Workspace(enterprise_id=place.enterprise_id, team_id=place.team_id), place.channel


def is_channel_id(value: str) -> bool:
    return CHANNEL_ID.fullmatch(value) is not None


def channel_name(value: str) -> str:
    """``"#Customer-Voice"`` (or ``"# customer-voice"``) -> ``"customer-voice"``: how Slack names channels (lower
    case, no #, never a space)."""
    return value.strip().removeprefix("#").strip().casefold()


def configured_channels(config: CxConfig) -> Iterator[tuple[str, str]]:
    """``(where, channel)`` for every Slack channel the configuration names, ``where`` as a config path."""
    for index, department in enumerate(config.departments):
        for channel in department.slack_places:
            yield f"departments[{index}].slack_channel ({department.name})", channel
    for channel in config.intake.slack_channels:
        yield "intake.slack_channels", channel
    if config.kudos_slack_channel:
        yield "kudos_slack_channel", config.kudos_slack_channel
    if config.kudos.praise_slack_channel:
        yield "kudos.praise_slack_channel", config.kudos.praise_slack_channel


@dataclass
class ChannelDirectory:
    """Channel names resolved to ids; ``intake`` is the intake channels as ids (those that resolved)."""

    config: CxConfig
    ids: dict[tuple[Workspace | None, str], str] = field(default_factory=dict)  # (workspace, name) -> id
    intake: frozenset[str] = frozenset()
    workspaces: dict[str, Workspace] = field(default_factory=dict)  # channel id -> its workspace, if configured
    # waits of keep_resolving (seconds): after Slack could not be reached (first, most), and while names are missing
    retry: tuple[float, float] = (RETRY_FIRST, RETRY_MOST)
    missing_every: float = MISSING_EVERY
    # what has been logged already, so the look-ups in the background repeat no WARNING
    _said: set[str] = field(default_factory=set, init=False, repr=False)
    _resolved: int | None = field(default=None, init=False, repr=False)
    _reached: bool = field(default=False, init=False, repr=False)  # did the last look-up reach Slack

    def __post_init__(self) -> None:
        self.intake = frozenset(
            split_workspace(c)[1] for c in self.config.intake.slack_channels if is_channel_id(split_workspace(c)[1])
        )
        for _, value in configured_channels(self.config):
            workspace, channel = split_workspace(value)
            if workspace is not None and is_channel_id(channel):
                self.workspaces[channel] = workspace

    def locate(self, channel: str) -> tuple[Workspace | None, str]:
        """The workspace a channel (or a DM's user id) is in, when known, and its id."""
        workspace, bare = split_workspace(channel)
        if not SLACK_ID.fullmatch(bare):
            bare = self.ids.get((workspace, channel_name(bare)), bare)
        return workspace or self.workspaces.get(bare), bare

    def id_of(self, channel: str) -> str:
        """The id for a configured channel name; ids (and user ids, for DMs) pass through unchanged."""
        return self.locate(channel)[1]

    def unresolved(self) -> list[tuple[str, str]]:
        return [
            (where, channel)
            for where, channel in configured_channels(self.config)
            if not SLACK_ID.fullmatch(self.id_of(channel))
        ]

    def _once(self, key: str, message: str, *args: object) -> None:
        """WARNING the first time, DEBUG after: a look-up repeated in the background says a thing once."""
        log.log(logging.DEBUG if key in self._said else logging.WARNING, message, *args)
        self._said.add(key)

    async def keep_resolving(
        self,
        client: AsyncWebClient,
        *,
        token: Callable[[Workspace | None], Awaitable[str | None]],
        installed: Callable[[], Awaitable[list[Workspace]]],
    ) -> None:
        """Look the names up again until every one is found, so a start without Slack (or before a channel was
        created) does not leave intake off until a post or a restart. Slack not reached: after ``retry[0]``
        seconds, doubling to ``retry[1]``; reached but a name missing: every ``missing_every`` seconds."""
        delay = self.missing_every if self._reached else self.retry[0]
        while self.unresolved():
            await asyncio.sleep(delay)
            try:
                reached = await self.resolve(client, token=token, installed=await installed())
            except Exception as exc:  # the task must outlive a bad moment (the installation store's database)
                log.warning("slack: looking up channel names failed (%s); trying again", type(exc).__name__)
                reached = False
            delay = self.missing_every if reached else min(delay * 2, self.retry[1])

    async def resolve(
        self,
        client: AsyncWebClient,
        *,
        token: Callable[[Workspace | None], Awaitable[str | None]],
        installed: list[Workspace] | None = None,
    ) -> bool:
        """Look up every configured name, in its workspace; log each one that cannot be found, with the fix.
        ``token`` gives a workspace's token (None: the client's own). A name without a workspace is looked up in
        each of ``installed`` (OAuth) and kept only if exactly one workspace has it, never guessed. False when
        Slack could not be reached (nothing was learnt)."""
        names = [split_workspace(c) for _, c in configured_channels(self.config)]
        names = [(w, c) for w, c in names if not is_channel_id(c)]
        wanted = list(dict.fromkeys(w for w, _ in names))
        if None in wanted and installed:
            wanted = list(dict.fromkeys([w for w in wanted if w is not None] + list(installed)))
        bare: dict[str, list[tuple[Workspace, str]]] = {}
        unreachable = False
        for workspace in wanted:
            value = await token(workspace)
            kwargs = {"token": value} if value else {}
            try:
                response = await client.conversations_list(
                    types="public_channel,private_channel", exclude_archived=True, limit=PAGE_LIMIT, **kwargs
                )
                async for page in response:
                    for channel in page.get("channels") or ():
                        name, cid = str(channel["name"]).casefold(), str(channel["id"])
                        self.ids[(workspace, name)] = cid
                        if workspace is not None:
                            self.workspaces[cid] = workspace
                            bare.setdefault(name, []).append((workspace, cid))
            except SlackApiError as exc:
                self._once(
                    f"error:{exc.response.get('error')}",
                    "slack: could not look up channel names in the configuration (%s); use channel ids "
                    "(C0123ABCD) or give the app channels:read and groups:read",
                    exc.response.get("error"),
                )
            except UNREACHABLE as exc:  # at start: serve anyway; keep_resolving (and a post that needs one) looks again
                unreachable = True
                self._once(
                    "unreachable",
                    "slack: could not look up channel names in the configuration: cannot reach Slack at %s (%s); "
                    "looking again in the background until it answers",
                    client.base_url,
                    type(exc).__name__,
                )
        if installed:
            for workspace, channel in names:
                if workspace is not None:
                    continue
                found = bare.get(channel_name(channel), [])
                if len(found) == 1:
                    self.ids[(None, channel_name(channel))] = found[0][1]
                elif found:
                    self._once(
                        f"ambiguous:{channel}",
                        "slack: channel %r is in %d installed workspaces; nothing goes to it: prefix it with its "
                        "workspace's team id in the configuration (T0ACME/%s)",
                        channel,
                        len(found),
                        channel,
                    )
        self._reached = not unreachable
        if unreachable:  # nothing was learnt about the names: one line above said why
            return False
        if "unreachable" in self._said:
            self._said.discard("unreachable")
            log.info("slack: reached Slack at %s after a start without it", client.base_url)
        if not names:
            return True
        self.intake = frozenset(
            self.id_of(c) for c in self.config.intake.slack_channels if SLACK_ID.fullmatch(self.id_of(c))
        )
        for where, channel in self.unresolved():
            self._once(
                f"missing:{where}:{channel}",
                "slack: channel %r (%s) is not in the workspace or not visible to cxbot; nothing will arrive "
                "from or go to it: create it and invite cxbot (private channels), or use its id (C0123ABCD)",
                channel,
                where,
            )
        resolved = len(names) - len(self.unresolved())
        if resolved != self._resolved:
            self._resolved = resolved
            log.info("slack: %d channel name(s) in the configuration resolved to ids", resolved)
        return True
