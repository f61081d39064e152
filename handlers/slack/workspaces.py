"""Which workspace's token a Slack call is made with, under OAuth (several workspaces installed).

A call to a channel whose workspace the configuration names (``T0ACME/C0FIN``) uses that installation's bot
token (slack_sdk's ``find_bot`` by enterprise and team id). A direct message to a bare user id uses the workspace
the user was last seen in (their events, commands and clicks are remembered in :class:`UserWorkspaces`); a user
never seen is looked up with ``users.info`` under each installation until one knows them. A bare channel is looked
up with ``conversations.info`` the same way. Nothing is ever sent with a guessed token: if no installation knows
the user or channel, the call is refused with a permanent :class:`DeliveryError` that says what to fix.

With one workspace (SLACK_BOT_TOKEN) there is nothing to choose: every token is the client's own (None).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Coroutine
from typing import Any, Protocol

from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.web.async_client import AsyncWebClient

from handlers.slack.channels import Workspace
from stories.actors import is_slack_user
from stories.ports import DeliveryError

log = logging.getLogger(__name__)

TOKEN_TTL = 60.0  # seconds an installation's bot token is trusted


class UserWorkspaces(Protocol):
    """Where each Slack user was last seen (storage.slack_users.SqlSlackUsers implements it)."""

    def workspace_of(self, user_id: str) -> tuple[str | None, str | None] | None:
        """``(enterprise_id, team_id)``, or None if never seen."""
        ...

    def remember(self, *, user_id: str, enterprise_id: str | None, team_id: str | None) -> None: ...


class InstallationStore(Protocol):
    """What this needs of handlers.slack.oauth.SqlInstallationStore."""

    def installed(self) -> list[tuple[str | None, str | None, bool]]: ...

    def find_bot(
        self, *, enterprise_id: str | None, team_id: str | None, is_enterprise_install: bool | None = False
    ) -> Any: ...


class Unplaceable(DeliveryError):
    """No installation knows the user or channel: sending with another workspace's token would be wrong."""


class Workspaces:
    """Tokens per workspace and where users and channels are (see the module docstring)."""

    def __init__(
        self,
        *,
        store: InstallationStore | None = None,
        users: UserWorkspaces | None = None,
        spawn: Callable[[Coroutine[Any, Any, None]], None] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._store = store
        self._users = users
        self._spawn = spawn
        self._clock = clock
        self._tokens: dict[Workspace, tuple[float, str | None]] = {}
        self._seen: dict[str, Workspace] = {}  # user or channel id -> its workspace

    @property
    def oauth(self) -> bool:
        return self._store is not None

    async def token(self, workspace: Workspace | None) -> str | None:
        """``workspace``'s bot token; None means the client's own (one workspace, or ``workspace`` unknown)."""
        if self._store is None or workspace is None:
            return None
        hit = self._tokens.get(workspace)
        if hit and hit[0] > self._clock() and hit[1]:
            return hit[1]
        bot = await asyncio.to_thread(
            self._store.find_bot,
            enterprise_id=workspace.enterprise_id,
            team_id=workspace.team_id,
            is_enterprise_install=workspace.team_id is None,
        )
        value = bot.bot_token if bot is not None else None
        if value is None:
            log.warning("slack: no installation for workspace %s; install cxbot there", workspace)
        self._tokens[workspace] = (self._clock() + TOKEN_TTL, value)
        return value

    async def installed(self) -> list[Workspace]:
        """Every installed workspace, newest first ([] with one workspace and SLACK_BOT_TOKEN). Read fresh: it
        is asked only for a user or channel not placed yet, and an install may have happened a second ago."""
        if self._store is None:
            return []
        rows = await asyncio.to_thread(self._store.installed)
        return list(dict.fromkeys(Workspace(enterprise_id=e, team_id=t) for e, t, _org in rows))

    def seen(self, *, user_id: str | None, enterprise_id: str | None, team_id: str | None) -> None:
        """A request from ``user_id`` arrived from this workspace: remember it (stored only when it changed)."""
        if self._store is None or not user_id or not (team_id or enterprise_id):
            return
        workspace = Workspace(enterprise_id=enterprise_id, team_id=team_id)
        if self._seen.get(user_id) == workspace:
            return
        self._seen[user_id] = workspace
        if self._users is not None and self._spawn is not None:
            self._spawn(self._remember(user_id, workspace))

    def posted(self, *, channel: str, workspace: Workspace | None) -> None:
        """A post to ``channel`` (a DM's D… id, say) went out in ``workspace``: its updates go there too."""
        if workspace is not None:
            self._seen.setdefault(channel, workspace)

    async def place(self, client: AsyncWebClient, target: str) -> Workspace:
        """The workspace of a bare user or channel id under OAuth: the only one installed, the one it was seen in,
        or the first whose users.info / conversations.info knows it (remembered); raises :class:`Unplaceable`."""
        if target in self._seen:
            return self._seen[target]
        user = is_slack_user(target)
        if user and self._users is not None:
            stored = await asyncio.to_thread(self._users.workspace_of, target)
            if stored is not None:
                self._seen[target] = Workspace(enterprise_id=stored[0], team_id=stored[1])
                return self._seen[target]
        installed = await self.installed()
        if len(installed) == 1:  # one workspace: nothing to choose (Slack says if the id is not there)
            return installed[0]
        for workspace in installed:
            token = await self.token(workspace)
            if token and await self._knows(client, target, token=token, user=user):
                self._seen[target] = workspace
                if user and self._users is not None:
                    await self._remember(target, workspace)
                return workspace
        kind = "user" if user else "channel"
        log.warning(
            "slack: no installed workspace knows %s %s; nothing sent (install cxbot in its workspace, or prefix the "
            "channel with its team id, e.g. T0ACME/%s)",
            kind,
            target,
            target,
        )
        raise Unplaceable(f"slack: no installed workspace knows {kind} {target}", permanent=True)

    async def _knows(self, client: AsyncWebClient, target: str, *, token: str, user: bool) -> bool:
        try:
            if user:
                await client.users_info(user=target, token=token)
            else:
                await client.conversations_info(channel=target, token=token)
        except SlackApiError:
            return False  # user_not_found, channel_not_found, ...: not this workspace's
        except SlackClientError as exc:
            raise DeliveryError(f"slack: cannot reach Slack ({type(exc).__name__})") from exc
        return True

    async def _remember(self, user_id: str, workspace: Workspace) -> None:
        assert self._users is not None
        try:
            await asyncio.to_thread(
                self._users.remember, user_id=user_id, enterprise_id=workspace.enterprise_id, team_id=workspace.team_id
            )
        except Exception:  # a sighting is a hint; the next one writes again
            log.warning("slack: could not store the workspace of user %s", user_id, exc_info=True)
