"""``cxbot doctor``'s Slack checks: the token works, it has every scope cxbot needs, and cxbot is in every channel
the configuration names (department channels, intake channels, kudos).

Each answers a question a first story depends on, with the fix when the answer is no. Slack names a token's
granted scopes in the ``x-oauth-scopes`` header of every Web API answer, so ``auth.test`` tells both whose token it
is and what it may do; ``conversations.info`` says whether the bot is a member (``is_member``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from handlers.checks import Check
from handlers.slack.channels import SLACK_ID, ChannelDirectory, Workspace, configured_channels
from handlers.slack.errors import UNREACHABLE
from handlers.slack.scopes import BOT_SCOPES
from stories.config import CxConfig

TOKEN_FIXES = {
    "invalid_auth": "SLACK_BOT_TOKEN is not a token of this app: copy the Bot User OAuth Token (xoxb-...) from "
    "the app's OAuth & Permissions page",
    "not_authed": "set SLACK_BOT_TOKEN to the Bot User OAuth Token (xoxb-...)",
    "token_revoked": "the app was uninstalled or the token revoked: reinstall the app and copy the new token",
    "account_inactive": "the app was uninstalled or the token revoked: reinstall the app and copy the new token",
}
REINSTALL = (
    "add them to the app (manifest.yaml lists them all: App Manifest page, paste it) and reinstall the app "
    "(OAuth & Permissions > Reinstall to Workspace)"
)


@dataclass(frozen=True)
class ChannelCheck(Check):
    """A configured channel's line, which also keeps the channel as configured and what was found without the
    config path, so a department's own line can say why its stories cannot be posted there."""

    channel: str = ""
    found: str = ""


def _channel_check(*, where: str, channel: str, found: str, fix: str = "") -> ChannelCheck:
    """FAIL with the fix, ok without one; the line names where the configuration names the channel."""
    return ChannelCheck(
        f"slack channel {channel}", "FAIL" if fix else "ok", f"{where}: {found}", fix, channel=channel, found=found
    )


def _error(exc: BaseException) -> str:
    if isinstance(exc, SlackApiError):
        return str(exc.response.get("error") or "error")
    return f"{type(exc).__name__}: {exc}"


async def slack_checks(
    *,
    client: AsyncWebClient,
    config: CxConfig,
    needed: tuple[str, ...] = BOT_SCOPES,
    installations: Mapping[Workspace, str] | None = None,
) -> list[Check]:
    """The token, its scopes, then each configured channel (none of those when the token fails). Under OAuth,
    ``installations`` (workspace -> bot token) are checked each on its own, and each channel with the token of
    its workspace (a bare one with each installed workspace until one has it)."""
    if installations is None:
        checks = await _token(client, needed, name="")
        if checks[0].status == "FAIL":
            return checks
        return checks + await _channels(client, config, tokens={None: None})
    checks = []
    working: dict[Workspace | None, str | None] = {}
    for workspace, token in installations.items():
        own = await _token(client, needed, name=f" {_label(workspace)}", token=token)
        checks.extend(own)
        if own[0].status != "FAIL":
            working[workspace] = token
    if working:
        checks.extend(await _channels(client, config, tokens=working, installed=set(installations)))
    return checks


def _label(workspace: Workspace) -> str:
    return "/".join(part for part in (workspace.enterprise_id, workspace.team_id) if part)


async def _token(
    client: AsyncWebClient, needed: tuple[str, ...], *, name: str, token: str | None = None
) -> list[Check]:
    kwargs = {"token": token} if token else {}
    try:
        answer = await client.auth_test(**kwargs)
    except SlackApiError as exc:
        error = _error(exc)
        fix = TOKEN_FIXES.get(error, f"see https://docs.slack.dev/reference/methods/auth.test ({error})")
        if token is not None:  # OAuth: the installation's token, not SLACK_BOT_TOKEN
            fix = f"reinstall cxbot in that workspace (https://<your server>/slack/install) ({error})"
        return [Check.fail(f"slack token{name}", f"auth.test refused it ({error})", fix=fix)]
    except UNREACHABLE as exc:
        return [
            Check.fail(
                f"slack token{name}",
                f"cannot reach Slack at {client.base_url} ({_error(exc)})",
                fix="check the network and SLACK_API_URL (normally https://slack.com/api/)",
            )
        ]
    return [
        Check.ok(
            f"slack token{name}",
            f"bot @{answer.get('user')} in workspace {answer.get('team')} ({answer.get('team_id')})",
        ),
        _scopes(answer.headers, needed, name=f"slack scopes{name}"),
    ]


def _scopes(headers: dict[str, object], needed: tuple[str, ...], *, name: str = "slack scopes") -> Check:
    granted_header = next((str(v) for k, v in headers.items() if k.lower() == "x-oauth-scopes"), None)
    if granted_header is None:
        return Check.skip(name, "Slack did not say which scopes the token has (no x-oauth-scopes header)")
    granted = {s.strip() for s in granted_header.split(",") if s.strip()}
    missing = [scope for scope in needed if scope not in granted]
    if missing:
        return Check.fail(name, f"missing {', '.join(missing)}", fix=REINSTALL)
    return Check.ok(name, f"all {len(needed)} granted")


async def _channels(
    client: AsyncWebClient,
    config: CxConfig,
    *,
    tokens: Mapping[Workspace | None, str | None],
    installed: set[Workspace] | None = None,
) -> list[Check]:
    directory = ChannelDirectory(config)

    async def token_of(workspace: Workspace | None) -> str | None:
        return tokens.get(workspace)

    oauth = installed is not None
    await directory.resolve(client, token=token_of, installed=[w for w in tokens if w is not None] if oauth else None)
    checks: list[Check] = []
    for where, value in configured_channels(config):
        workspace, channel = directory.locate(value)
        if not SLACK_ID.fullmatch(channel):
            checks.append(
                _channel_check(
                    where=where,
                    channel=value,
                    found="no channel of that name is visible to cxbot",
                    fix=f"create {value} in Slack (a private one: /invite @cxbot there first), or put its id "
                    "(C0123ABCD, from the channel's details) in the configuration",
                )
            )
            continue
        if oauth and workspace is not None and workspace not in tokens:
            checks.append(
                _channel_check(
                    where=where,
                    channel=value,
                    found=f"workspace {_label(workspace)} has "
                    + ("no working installation" if workspace in (installed or ()) else "not installed cxbot"),
                    fix="open https://<your server>/slack/install in that workspace and install cxbot",
                )
            )
            continue
        candidates = [workspace] if workspace is not None or not oauth else list(tokens)
        info, failure = None, None
        for candidate in candidates:
            own = tokens.get(candidate)
            kwargs: dict[str, Any] = {"token": own} if own else {}
            try:
                info = (await client.conversations_info(channel=channel, **kwargs))["channel"]
                break
            except (SlackApiError, *UNREACHABLE) as exc:
                failure = exc
        if info is None:
            assert failure is not None
            checks.append(
                _channel_check(
                    where=where,
                    channel=value,
                    found=f"conversations.info failed ({_error(failure)})",
                    fix="check the id in the configuration; a private channel is visible only once cxbot is in it: "
                    "/invite @cxbot there",
                )
            )
            continue
        label = f"#{info.get('name')}" if info.get("name") else channel
        if info.get("is_archived"):
            found, fix = f"{label} is archived", f"unarchive {label} or name another"
        elif not info.get("is_member"):
            found, fix = f"cxbot is not a member of {label}", f"in Slack, type /invite @cxbot in {label}"
        else:
            found, fix = f"cxbot is in {label}", ""
        checks.append(_channel_check(where=where, channel=value, found=found, fix=fix))
    return checks
