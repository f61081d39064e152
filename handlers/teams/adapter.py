"""botbuilder's CloudAdapter, configured from the MICROSOFT_APP_* settings (never from the environment again).

``ConfigurationBotFrameworkAuthentication`` reads ``APP_ID``, ``APP_PASSWORD``, ``APP_TENANTID`` and
``APP_TYPE`` attributes off a configuration object; :class:`BotConfiguration` is that object, built from the
MICROSOFT_APP_* settings. With no app id botbuilder turns authentication off (Bot Framework Emulator).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from botbuilder.core import BotAdapter, Middleware, TurnContext
from botbuilder.integration.aiohttp import CloudAdapter, ConfigurationBotFrameworkAuthentication

from handlers.teams.identity import FetchOptions
from handlers.teams.identity import install as install_identity
from stories.config import ConfigError

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from pydantic import SecretStr

log = logging.getLogger(__name__)


class TeamsSettings(Protocol):
    """The MICROSOFT_APP_* settings (bot.settings.Settings has them)."""

    microsoft_app_id: str | None
    microsoft_app_password: SecretStr | None
    microsoft_app_tenant_id: str | None
    microsoft_app_type: str


@dataclass(frozen=True)
class BotConfiguration:
    """The attribute names botbuilder's configuration classes look up."""

    APP_ID: str | None
    APP_PASSWORD: str | None
    APP_TENANTID: str | None
    APP_TYPE: str

    @classmethod
    def from_settings(cls, settings: TeamsSettings) -> BotConfiguration:
        """Refuses combinations botbuilder would only fail on at the first message, naming the variable."""
        password = settings.microsoft_app_password.get_secret_value() if settings.microsoft_app_password else None
        app_id = settings.microsoft_app_id or None
        kind = settings.microsoft_app_type
        if app_id:
            if kind in ("MultiTenant", "SingleTenant") and not password:
                raise ConfigError(
                    f"MICROSOFT_APP_PASSWORD is required with MICROSOFT_APP_ID ({kind} bots sign in with it)"
                )
            if kind in ("SingleTenant", "UserAssignedMSI") and not settings.microsoft_app_tenant_id:
                raise ConfigError(f"MICROSOFT_APP_TENANT_ID is required when MICROSOFT_APP_TYPE={kind}")
            if kind == "MultiTenant" and settings.microsoft_app_tenant_id:  # botbuilder then ignores the tenant
                log.warning(
                    "MICROSOFT_APP_TENANT_ID is set but MICROSOFT_APP_TYPE is MultiTenant, so the tenant is not used "
                    "and a single-tenant bot cannot sign in to post: set MICROSOFT_APP_TYPE=SingleTenant "
                    "(`cxbot doctor` checks the sign-in)"
                )
        return cls(app_id, password, settings.microsoft_app_tenant_id, kind)

    @property
    def auth_enabled(self) -> bool:
        return bool(self.APP_ID)


class ConnectorLimits(Middleware):
    """Gives every turn's connector client a timeout and no hidden retries (retrying is handlers.teams.retry's
    job, with bounds and Retry-After)."""

    def __init__(self, *, timeout: float) -> None:
        self.timeout = timeout

    async def on_turn(self, context: TurnContext, logic: Callable[[], Awaitable[None]]) -> None:
        client = context.turn_state.get(BotAdapter.BOT_CONNECTOR_CLIENT_KEY)
        if client is not None:
            client.config.connection.timeout = self.timeout
            # The client's requests session already holds this Retry object (msrest sets it up when the client
            # is made), so it is changed in place rather than replaced.
            policy = client.config.retry_policy.policy
            policy.total = policy.connect = policy.read = policy.redirect = 0
            policy.status_forcelist = frozenset()
            policy.raise_on_status = False
        await logic()


def make_adapter(
    configuration: BotConfiguration, *, timeout: float, identity: FetchOptions | None = None
) -> CloudAdapter:
    """The adapter; with authentication on, botbuilder's signing-key fetch is replaced first (identity.py)."""
    if configuration.auth_enabled:
        install_identity(identity)
    adapter = CloudAdapter(ConfigurationBotFrameworkAuthentication(configuration))
    adapter.use(ConnectorLimits(timeout=timeout))
    return adapter
