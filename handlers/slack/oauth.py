"""Several workspaces: bolt's OAuth flow with slack_sdk's SQLAlchemy stores on cxbot's own database.

The tables come from migration 0003 (never ``create_tables()``). slack_sdk's stores are synchronous; the
subclasses below add the async methods bolt calls by running them in a thread, so there is one engine and
one schema for everything. The installation store sits behind slack_sdk's cache, so authorising a request
is a dictionary look-up after the first one.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from slack_bolt.oauth.async_oauth_settings import AsyncOAuthSettings
from slack_sdk.oauth.installation_store.async_cacheable_installation_store import AsyncCacheableInstallationStore
from slack_sdk.oauth.installation_store.async_installation_store import AsyncInstallationStore
from slack_sdk.oauth.installation_store.models.bot import Bot
from slack_sdk.oauth.installation_store.models.installation import Installation
from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore
from slack_sdk.oauth.state_store.async_state_store import AsyncOAuthStateStore
from slack_sdk.oauth.state_store.sqlalchemy import SQLAlchemyOAuthStateStore
from sqlalchemy import Engine, desc, select

STATE_EXPIRATION = 600  # seconds a user has to finish "Add to Slack"
INSTALL_PATH = "/slack/install"
REDIRECT_PATH = "/slack/oauth_redirect"


class SqlInstallationStore(SQLAlchemyInstallationStore, AsyncInstallationStore):
    """slack_sdk's SQLAlchemy installation store, usable from bolt's async app."""

    async def async_save(self, installation: Installation) -> None:
        await asyncio.to_thread(self.save, installation)

    async def async_save_bot(self, bot: Bot) -> None:
        await asyncio.to_thread(self.save_bot, bot)

    async def async_find_bot(
        self, *, enterprise_id: str | None, team_id: str | None, is_enterprise_install: bool | None = False
    ) -> Bot | None:
        return await asyncio.to_thread(
            self.find_bot, enterprise_id=enterprise_id, team_id=team_id, is_enterprise_install=is_enterprise_install
        )

    async def async_find_installation(
        self,
        *,
        enterprise_id: str | None,
        team_id: str | None,
        user_id: str | None = None,
        is_enterprise_install: bool | None = False,
    ) -> Installation | None:
        return await asyncio.to_thread(
            self.find_installation,
            enterprise_id=enterprise_id,
            team_id=team_id,
            user_id=user_id,
            is_enterprise_install=is_enterprise_install,
        )

    async def async_delete_bot(self, *, enterprise_id: str | None, team_id: str | None) -> None:
        await asyncio.to_thread(self.delete_bot, enterprise_id=enterprise_id, team_id=team_id)

    async def async_delete_installation(
        self, *, enterprise_id: str | None, team_id: str | None, user_id: str | None = None
    ) -> None:
        await asyncio.to_thread(self.delete_installation, enterprise_id=enterprise_id, team_id=team_id, user_id=user_id)

    def installed(self) -> list[tuple[str | None, str | None, bool]]:
        """``(enterprise_id, team_id, is_enterprise_install)`` of every workspace with a bot, newest first."""
        bots = self.bots.c
        query = (
            select(bots.enterprise_id, bots.team_id, bots.is_enterprise_install, bots.installed_at)
            .where(bots.client_id == self.client_id)
            .order_by(desc(bots.installed_at))
        )
        with self.engine.connect() as conn:
            rows = conn.execute(query).all()
        return list(dict.fromkeys((r[0], r[1], bool(r[2])) for r in rows))

    def latest_bot_token(self) -> str | None:
        """The bot token of the newest installation, or None: whether anything is installed. Never used to post."""
        bots = self.bots.c
        query = select(bots.bot_token).where(bots.client_id == self.client_id).order_by(desc(bots.installed_at))
        with self.engine.connect() as conn:
            return conn.execute(query.limit(1)).scalar_one_or_none()


class SqlStateStore(SQLAlchemyOAuthStateStore, AsyncOAuthStateStore):
    """slack_sdk's SQLAlchemy OAuth state store, usable from bolt's async app."""

    async def async_issue(self, *args: Any, **kwargs: Any) -> str:
        return await asyncio.to_thread(self.issue, *args, **kwargs)

    async def async_consume(self, state: str) -> bool:
        return await asyncio.to_thread(self.consume, state)


def oauth_settings(
    *, engine: Engine, client_id: str, client_secret: str, scopes: Sequence[str]
) -> tuple[AsyncOAuthSettings, SqlInstallationStore]:
    """Bolt's OAuth settings on ``engine``, and the underlying installation store (for the notifier's token)."""
    store = SqlInstallationStore(client_id=client_id, engine=engine)
    settings = AsyncOAuthSettings(
        client_id=client_id,
        client_secret=client_secret,
        scopes=list(scopes),
        install_path=INSTALL_PATH,
        redirect_uri_path=REDIRECT_PATH,
        installation_store=AsyncCacheableInstallationStore(store),
        state_store=SqlStateStore(expiration_seconds=STATE_EXPIRATION, engine=engine),
    )
    return settings, store
