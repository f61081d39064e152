"""``cxbot doctor``'s Teams check: can the bot sign in to the Bot Framework with MICROSOFT_APP_ID and
MICROSOFT_APP_PASSWORD (a client-credentials token from Microsoft Entra, as it must before every post)?

botbuilder gets that token through MSAL, which accepts only an https authority and blocks while it asks; the
doctor asks the same token endpoint (botframework's login URL, OAuth 2 client credentials, the Bot Framework
scope) itself with aiohttp and a timeout, so it can say which part is wrong. Entra's ``AADSTS`` codes name it.
"""

from __future__ import annotations

import re

import aiohttp
from botframework.connector.auth import AuthenticationConstants

from handlers.checks import Check
from handlers.teams.adapter import TeamsSettings

LOGIN_URL = AuthenticationConstants.TO_CHANNEL_FROM_BOT_LOGIN_URL_PREFIX.rstrip(
    "/"
)  # https://login.microsoftonline.com
MULTI_TENANT = "botframework.com"
SCOPE = AuthenticationConstants.TO_CHANNEL_FROM_BOT_OAUTH_SCOPE + "/.default"
TIMEOUT = 15.0
# Entra error codes -> the fix.
AADSTS_FIXES = {
    "7000215": "MICROSOFT_APP_PASSWORD is not a current secret of the app: make a new client secret (Entra > App "
    "registrations > the bot > Certificates & secrets) and set its value (not its id)",
    "7000222": "the client secret has expired: make a new one (Entra > App registrations > Certificates & secrets)",
    "700016": "MICROSOFT_APP_ID is not an app in that tenant: copy the Microsoft App ID from the Azure Bot's "
    "Configuration page; a SingleTenant bot needs MICROSOFT_APP_TYPE=SingleTenant and MICROSOFT_APP_TENANT_ID",
    "90002": "MICROSOFT_APP_TENANT_ID is not a tenant: copy the Directory (tenant) ID from the app registration",
    "900023": "MICROSOFT_APP_TENANT_ID is not a tenant: copy the Directory (tenant) ID from the app registration",
}
_GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_DOMAIN = re.compile(r"^(?=.{1,253}$)([A-Za-z0-9-]{1,63}\.)+[A-Za-z]{2,63}$")  # contoso.onmicrosoft.com
# botbuilder signs a MultiTenant bot in at botframework.com and never reads the tenant: a single-tenant bot (all
# Azure Bots made since mid-2025) with only the tenant set fails there, and Entra's answer does not say why.
TENANT_UNUSED = (
    "MICROSOFT_APP_TENANT_ID is set but MICROSOFT_APP_TYPE is MultiTenant (the default), which signs in at "
    "botframework.com and ignores the tenant: for a single-tenant Azure Bot set MICROSOFT_APP_TYPE=SingleTenant"
)


def _malformed(settings: TeamsSettings) -> Check | None:
    """Settings Entra could only refuse vaguely, named before asking it."""
    name = "teams credentials"
    app_id = settings.microsoft_app_id or ""  # not stripped: a pasted space breaks the token's audience check
    if not _GUID.fullmatch(app_id):
        return Check.fail(
            name,
            f"MICROSOFT_APP_ID is not an app id (a GUID like 2f1c6d3e-4b5a-4c7d-8e9f-0a1b2c3d4e5f): {app_id[:40]!r}",
            fix="copy the Microsoft App ID from the Azure Bot's Configuration page (not the bot's name)",
        )
    tenant = settings.microsoft_app_tenant_id or ""
    if tenant and not (_GUID.fullmatch(tenant) or _DOMAIN.fullmatch(tenant)):
        return Check.fail(
            name,
            f"MICROSOFT_APP_TENANT_ID is not a tenant id (a GUID) or domain: {tenant[:40]!r}",
            fix="copy the Directory (tenant) ID from Entra > App registrations > the bot > Overview",
        )
    return None


async def teams_checks(*, settings: TeamsSettings, emulator: bool, login_url: str = LOGIN_URL) -> list[Check]:
    name = "teams credentials"
    if not settings.microsoft_app_id:
        if emulator:
            return [Check.skip(name, "CX_TEAMS_EMULATOR: no sign-in (Bot Framework Emulator, this machine only)")]
        return [Check.skip(name, "Teams is off (MICROSOFT_APP_ID is not set)")]
    if settings.microsoft_app_type == "UserAssignedMSI":
        return [Check.skip(name, "managed identity (UserAssignedMSI): Azure signs the bot in; not checked here")]
    if not settings.microsoft_app_password:
        return [Check.fail(name, "MICROSOFT_APP_PASSWORD is not set", fix="set it to the app's client secret value")]
    if malformed := _malformed(settings):
        return [malformed]
    tenant = MULTI_TENANT
    if settings.microsoft_app_type == "SingleTenant":
        tenant = settings.microsoft_app_tenant_id or ""
    form = {
        "grant_type": "client_credentials",
        "client_id": settings.microsoft_app_id,
        "client_secret": settings.microsoft_app_password.get_secret_value(),
        "scope": SCOPE,
    }
    url = f"{login_url.rstrip('/')}/{tenant}/oauth2/v2.0/token"
    try:
        async with (
            aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=TIMEOUT)) as session,
            session.post(url, data=form) as response,
        ):
            body = await response.json(content_type=None)
    except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
        return [Check.fail(name, f"cannot reach {url} ({type(exc).__name__})", fix="check the network (and any proxy)")]
    if isinstance(body, dict) and body.get("access_token"):
        return [Check.ok(name, f"app {settings.microsoft_app_id} signs in to the Bot Framework ({tenant})")]
    body = body if isinstance(body, dict) else {}
    description = str(body.get("error_description") or "").splitlines()[0] if body.get("error_description") else ""
    code = description.split(":")[0].removeprefix("AADSTS")
    fix = AADSTS_FIXES.get(code, "check MICROSOFT_APP_ID, MICROSOFT_APP_PASSWORD and MICROSOFT_APP_TYPE")
    if code == "700016" and tenant == MULTI_TENANT and settings.microsoft_app_tenant_id:
        fix = TENANT_UNUSED
    error = body.get("error") or f"HTTP {response.status}"
    return [Check.fail(name, f"Entra refused the sign-in ({error}: {description or 'no description'})", fix=fix)]
