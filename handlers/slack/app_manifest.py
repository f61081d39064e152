"""``cxbot slack-app create``: the Slack app made from manifest.yaml through Slack's App Manifest API, with this
server's address in every request URL, so nobody hand-edits a manifest.

manifest.yaml is committed with cxbot.example.com; :func:`filled_manifest` puts ``--url`` in the four places Slack
calls back (events, interactivity, the /cx command, the OAuth redirect). ``apps.manifest.create`` needs an *app
configuration token* (api.slack.com/apps, "Your App Configuration Tokens"; it lasts 12 hours), not the bot token.
The answer holds the app id, its credentials and an install link; we print them with the settings to set.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlsplit

import yaml
from pydantic import SecretStr

# Paths cxbot serves (handlers/slack/wiring.py, oauth.py); checked against them by tests/slack/test_app_manifest.py.
# Not imported from there: `cxbot --help` builds this parser and should not load bolt.
EVENTS_PATH = "/slack/events"
REDIRECT_PATH = "/slack/oauth_redirect"
INSTALL_PATH = "/slack/install"

# The app manifest, the one copy there is: a real file beside this module and package data (pyproject), so a wheel, a
# checkout without symlinks and the repository all read the same bytes.
MANIFEST = Path(__file__).resolve().parent / "manifest.yaml"
APPS_PAGE = "https://api.slack.com/apps (Your App Configuration Tokens > Generate Token)"
# Slack's errors for this method -> what to do about them.
FIXES = {
    "not_authed": f"give an app configuration token: --token or SLACK_CONFIG_TOKEN, from {APPS_PAGE}",
    "invalid_auth": f"the configuration token is not valid; generate one at {APPS_PAGE}",
    "token_expired": f"configuration tokens last 12 hours; generate a new one at {APPS_PAGE} (or rotate it)",
    "not_allowed_token_type": f"that is not an app configuration token (xoxe.xoxp-...); generate one at {APPS_PAGE}",
    "ratelimited": "Slack allows a few app creations a minute; wait a minute and run it again",
}


class AppManifestError(ValueError):
    """The app cannot be made; the message says what to fix."""


def request_base(url: str) -> str:
    """``https://cx.example.org/`` -> ``https://cx.example.org``; Slack calls only https addresses."""
    parts = urlsplit(url.strip())
    if parts.scheme != "https" or not parts.hostname or parts.query or parts.fragment:
        raise AppManifestError(
            f"--url must be the https:// address Slack reaches cxbot at (e.g. https://cxbot.example.org), not {url!r}"
        )
    return f"https://{parts.netloc}{parts.path.rstrip('/')}"


def _load(source: Path) -> dict[str, Any]:
    """The manifest at ``source``; a file that is missing or is not a Slack app manifest is a line with the fix
    (``--manifest`` names any file; a checkout without symlinks once gave one holding a path), not a traceback."""
    fix = f"give --manifest a Slack app manifest (YAML), or leave it out for the one cxbot ships ({MANIFEST})"
    try:
        manifest = yaml.safe_load(source.read_text(encoding="utf-8"))
    except OSError as exc:
        raise AppManifestError(f"cannot read {source}: {exc.strerror}; {fix}") from None
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise AppManifestError(f"{source} is not YAML ({type(exc).__name__}); {fix}") from None
    settings = manifest.get("settings") if isinstance(manifest, dict) else None
    parts = (settings.get("event_subscriptions"), settings.get("interactivity")) if isinstance(settings, dict) else ()
    if not parts or not all(isinstance(p, dict) for p in parts) or not isinstance(manifest.get("features"), dict):
        raise AppManifestError(
            f"{source} is not a Slack app manifest (no settings.event_subscriptions, settings.interactivity and "
            f"features); {fix}"
        )
    return manifest


def filled_manifest(*, url: str | None, source: Path = MANIFEST, socket_mode: bool = False) -> dict[str, Any]:
    """manifest.yaml with every request URL at ``url`` (events, interactivity, slash commands, OAuth redirect).
    With ``socket_mode`` Slack sends events, commands and clicks over cxbot's own connection (SLACK_APP_TOKEN):
    no request URLs, and the OAuth redirect only if ``url`` is given (several workspaces still install by OAuth)."""
    manifest = _load(source)
    settings = manifest["settings"]
    if socket_mode:
        settings["socket_mode_enabled"] = True
        settings["event_subscriptions"].pop("request_url", None)
        settings["interactivity"].pop("request_url", None)
        for command in manifest["features"].get("slash_commands", []):
            command.pop("url", None)
        if url:
            manifest["oauth_config"]["redirect_urls"] = [request_base(url) + REDIRECT_PATH]
        else:
            manifest["oauth_config"].pop("redirect_urls", None)
        return manifest
    if not url:
        raise AppManifestError("give --url https://... (where Slack reaches cxbot), or --socket-mode without one")
    base = request_base(url)
    settings["event_subscriptions"]["request_url"] = base + EVENTS_PATH
    settings["interactivity"]["request_url"] = base + EVENTS_PATH
    for command in manifest["features"].get("slash_commands", []):
        command["url"] = base + EVENTS_PATH
    manifest["oauth_config"]["redirect_urls"] = [base + REDIRECT_PATH]
    return manifest


@dataclass(frozen=True)
class CreatedApp:
    app_id: str
    install_url: str
    client_id: str
    client_secret: str
    signing_secret: str


def create_app(*, manifest: dict[str, Any], token: str, api_url: str) -> CreatedApp:
    """Create the app (apps.manifest.create); :class:`AppManifestError` with Slack's reasons if it refuses."""
    from slack_sdk import WebClient
    from slack_sdk.errors import SlackApiError, SlackClientError

    client = WebClient(token=token, base_url=api_url, timeout=30)
    try:
        response = client.apps_manifest_create(manifest=manifest)
    except SlackApiError as exc:
        raise AppManifestError(_explain(exc.response.data if isinstance(exc.response.data, dict) else {})) from None
    except (SlackClientError, OSError) as exc:  # the sync client raises urllib's URLError (an OSError) as it is
        raise AppManifestError(f"cannot reach Slack at SLACK_API_URL={api_url} ({type(exc).__name__}: {exc})") from None
    credentials = response["credentials"]
    return CreatedApp(
        app_id=response["app_id"],
        install_url=response["oauth_authorize_url"],
        client_id=credentials["client_id"],
        client_secret=credentials["client_secret"],
        signing_secret=credentials["signing_secret"],
    )


def _explain(answer: dict[str, Any]) -> str:
    error = str(answer.get("error") or "unknown_error")
    if error == "invalid_manifest":
        lines = [f"  {e.get('pointer', '?')}: {e.get('message', '')}" for e in answer.get("errors") or []]
        return "Slack refused the manifest (invalid_manifest):\n" + "\n".join(lines or ["  (no details given)"])
    fix = FIXES.get(error, "see https://docs.slack.dev/reference/methods/apps.manifest.create#errors")
    return f"Slack refused to create the app ({error}): {fix}"


def socket_mode_steps(app: CreatedApp) -> str:
    """What to do with an app made for Socket Mode: an app-level token, which no API call can make."""
    return "\n".join(
        [
            f"Created Slack app {app.app_id} (Socket Mode): https://api.slack.com/apps/{app.app_id}",
            f"1. https://api.slack.com/apps/{app.app_id}/general > App-Level Tokens > Generate Token with the scope "
            "connections:write, and set",
            "  SLACK_APP_TOKEN=<that token (xapp-...)>",
            f"2. Install the app from https://api.slack.com/apps/{app.app_id}/install-on-team and set",
            "  SLACK_BOT_TOKEN=<the Bot User OAuth Token (xoxb-...) shown after installing>",
            "Then: invite @cxbot to each department's channel and run `cxbot doctor`.",
        ]
    )


def next_steps(app: CreatedApp, *, base: str) -> str:
    """What to do with the new app: where to install it and which settings to set."""
    return "\n".join(
        [
            f"Created Slack app {app.app_id}: https://api.slack.com/apps/{app.app_id}",
            f"Install link (OAuth, through {base}{REDIRECT_PATH}): {app.install_url}",
            "",
            "Set these for `cxbot serve` (the .env file, or your secret store):",
            f"  SLACK_SIGNING_SECRET={app.signing_secret}",
            f"One workspace: install the app from https://api.slack.com/apps/{app.app_id}/install-on-team and set",
            "  SLACK_BOT_TOKEN=<the Bot User OAuth Token (xoxb-...) shown after installing>",
            f"Several workspaces (OAuth; instead of SLACK_BOT_TOKEN), then open {base}{INSTALL_PATH}:",
            f"  SLACK_CLIENT_ID={app.client_id}",
            f"  SLACK_CLIENT_SECRET={app.client_secret}",
            "Then: invite @cxbot to each department's channel and run `cxbot doctor`.",
        ]
    )


class AppSettings(Protocol):
    slack_api_url: str
    slack_config_token: SecretStr | None


def cmd_slack_app(args: argparse.Namespace, settings: AppSettings) -> int:
    try:
        manifest = filled_manifest(url=args.url, source=Path(args.manifest), socket_mode=args.socket_mode)
        if args.dry_run:
            print(json.dumps(manifest, indent=2, ensure_ascii=False))
            return 0
        token = args.token or (settings.slack_config_token.get_secret_value() if settings.slack_config_token else "")
        if not token:
            raise AppManifestError(FIXES["not_authed"])
        app = create_app(manifest=manifest, token=token, api_url=settings.slack_api_url)
    except AppManifestError as exc:
        print(f"cxbot slack-app create: {exc}", file=sys.stderr)
        return 2
    print(socket_mode_steps(app) if args.socket_mode else next_steps(app, base=request_base(args.url)))
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser("slack-app", help="`cxbot slack-app create --url URL` makes the Slack app")
    actions = parser.add_subparsers(dest="action", required=True, metavar="{create}")
    create = actions.add_parser(
        "create",
        help="create the Slack app from manifest.yaml with URL in its request URLs (Slack's App Manifest API)",
        description="Create the Slack app from manifest.yaml (apps.manifest.create), with every request URL at "
        "--url, and print the install link and the settings to set. Needs an app configuration token.",
    )
    create.add_argument("--url", help="the https:// address Slack reaches cxbot at (needed unless --socket-mode)")
    create.add_argument(
        "--socket-mode",
        action="store_true",
        help="no public address: Slack talks to cxbot over its own connection (SLACK_APP_TOKEN), no request URLs",
    )
    create.add_argument("--token", help="app configuration token (default SLACK_CONFIG_TOKEN)")
    create.add_argument("--dry-run", action="store_true", help="print the filled manifest (JSON); create nothing")
    create.add_argument("--manifest", default=str(MANIFEST), help="the manifest to fill (default manifest.yaml)")
    create.set_defaults(func=cmd_slack_app)
