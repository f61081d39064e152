"""``cxbot doctor``'s Slack checks: the token works, it has every scope cxbot needs, and cxbot is in every channel
the configuration names (department channels, intake channels, kudos).

Each answers a question a first story depends on, with the fix when the answer is no. Slack names a token's
granted scopes in the ``x-oauth-scopes`` header of every Web API answer, so ``auth.test`` tells both whose token it
is and what it may do; ``conversations.info`` says whether the bot is a member (``is_member``).
"""

from __future__ import annotations

from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.web.async_client import AsyncWebClient

from handlers.checks import Check
from handlers.slack.channels import SLACK_ID, ChannelDirectory, configured_channels
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


def _error(exc: SlackApiError | SlackClientError) -> str:
    if isinstance(exc, SlackApiError):
        return str(exc.response.get("error") or "error")
    return f"{type(exc).__name__}: {exc}"


async def slack_checks(
    *, client: AsyncWebClient, config: CxConfig, needed: tuple[str, ...] = BOT_SCOPES
) -> list[Check]:
    """The token, its scopes, then each configured channel (none of those when the token fails)."""
    try:
        answer = await client.auth_test()
    except SlackApiError as exc:
        error = _error(exc)
        fix = TOKEN_FIXES.get(error, f"see https://docs.slack.dev/reference/methods/auth.test ({error})")
        return [Check.fail("slack token", f"auth.test refused it ({error})", fix=fix)]
    except SlackClientError as exc:
        return [
            Check.fail(
                "slack token",
                f"cannot reach Slack at {client.base_url} ({_error(exc)})",
                fix="check the network and SLACK_API_URL (normally https://slack.com/api/)",
            )
        ]
    checks = [
        Check.ok(
            "slack token", f"bot @{answer.get('user')} in workspace {answer.get('team')} ({answer.get('team_id')})"
        )
    ]
    checks.append(_scopes(answer.headers, needed))
    checks.extend(await _channels(client, config))
    return checks


def _scopes(headers: dict[str, object], needed: tuple[str, ...]) -> Check:
    granted_header = next((str(v) for k, v in headers.items() if k.lower() == "x-oauth-scopes"), None)
    if granted_header is None:
        return Check.skip("slack scopes", "Slack did not say which scopes the token has (no x-oauth-scopes header)")
    granted = {s.strip() for s in granted_header.split(",") if s.strip()}
    missing = [scope for scope in needed if scope not in granted]
    if missing:
        return Check.fail("slack scopes", f"missing {', '.join(missing)}", fix=REINSTALL)
    return Check.ok("slack scopes", f"all {len(needed)} granted")


async def _channels(client: AsyncWebClient, config: CxConfig) -> list[Check]:
    directory = ChannelDirectory(config)

    async def own_token(_workspace: object) -> str | None:
        return None

    await directory.resolve(client, token=own_token)
    checks = []
    for where, value in configured_channels(config):
        name = f"slack channel {value}"
        channel = directory.id_of(value)
        if not SLACK_ID.fullmatch(channel):
            checks.append(
                Check.fail(
                    name,
                    f"{where}: no channel of that name is visible to cxbot",
                    fix=f"create {value} in Slack (a private one: /invite @cxbot there first), or put its id "
                    "(C0123ABCD, from the channel's details) in the configuration",
                )
            )
            continue
        try:
            info = (await client.conversations_info(channel=channel))["channel"]
        except (SlackApiError, SlackClientError) as exc:
            checks.append(
                Check.fail(
                    name,
                    f"{where}: conversations.info failed ({_error(exc)})",
                    fix="check the id in the configuration; a private channel is visible only once cxbot is in it: "
                    "/invite @cxbot there",
                )
            )
            continue
        label = f"#{info.get('name')}" if info.get("name") else channel
        if info.get("is_archived"):
            checks.append(Check.fail(name, f"{where}: {label} is archived", fix=f"unarchive {label} or name another"))
        elif not info.get("is_member"):
            checks.append(
                Check.fail(
                    name, f"{where}: cxbot is not a member of {label}", fix=f"in Slack, type /invite @cxbot in {label}"
                )
            )
        else:
            checks.append(Check.ok(name, f"{where}: cxbot is in {label}"))
    return checks
