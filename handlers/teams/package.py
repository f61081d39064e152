"""``cxbot teams-package``: the Teams app package (manifest.json, color.png, outline.png in one zip).

teams/manifest.json is committed with a placeholder app id; the package gets MICROSOFT_APP_ID as the app's
id, its bot's id and the ``webApplicationInfo`` id that resource-specific consent needs (one Entra app
registration, as Bot Framework bots usually have). The RSC permissions (read channel and chat messages) let
intake channels receive every message, not only those that @mention cxbot. The manifest's
command lists are checked against :data:`stories.commands.COMMANDS` (see :func:`command_lists`) so the
suggestions Teams shows never drift from what the bot understands, and its ``composeExtensions`` against the
message action the bot serves (:func:`compose_extensions`).
"""

from __future__ import annotations

import argparse
import io
import json
import re
import sys
import zipfile
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlsplit

from handlers.teams.message_action import manifest_command
from stories.commands import COMMAND_PREFIX, COMMANDS

SOURCE = Path(__file__).resolve().parents[2] / "teams"
PLACEHOLDER = "00000000-0000-0000-0000-000000000000"
FILES = ("manifest.json", "color.png", "outline.png")
# Where each command is offered: `link` wires a channel (teams, group chats); `commit` needs a story's thread.
PERSONAL_EXCLUDED = frozenset({"link", "commit"})
# `home` is a personal chat's card; in a channel it only points there (and Teams lists at most ten commands).
TEAM_EXCLUDED = frozenset({"home"})
TITLE_LIMIT = 32
DESCRIPTION_LIMIT = 128
_GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


class PackageError(ValueError):
    """The package cannot be built; the message says what to fix."""


# Teams takes at most ten commands in one command list. The list only suggests: any `cx ...` typed still works,
# and `cx help` lists every command, so each command word is offered once (`cx kudos`, not also `cx kudos top`)
# and the first ten in the table's order are kept.
COMMAND_LIST_LIMIT = 10


def command_lists() -> list[dict[str, Any]]:
    """The manifest's ``bots[0].commandLists`` as the command table defines them."""
    prefix = COMMAND_PREFIX["teams"]
    offered = [spec for spec in COMMANDS if "teams" in spec.platforms]

    def commands(specs: list[Any]) -> list[dict[str, str]]:
        words = list(dict.fromkeys(spec.name.split()[0] for spec in specs))[:COMMAND_LIST_LIMIT]
        first = {word: next(spec for spec in specs if spec.name.split()[0] == word) for word in words}
        return [
            {"title": f"{prefix} {word}"[:TITLE_LIMIT], "description": first[word].summary[:DESCRIPTION_LIMIT]}
            for word in words
        ]

    return [
        {"scopes": ["team", "groupChat"], "commands": commands([s for s in offered if s.name not in TEAM_EXCLUDED])},
        {"scopes": ["personal"], "commands": commands([s for s in offered if s.name not in PERSONAL_EXCLUDED])},
    ]


def compose_extensions(bot_id: str = PLACEHOLDER) -> list[dict[str, Any]]:
    """The manifest's ``composeExtensions``: the "Send to CX stories" message action, served by the bot."""
    return [{"botId": bot_id, "commands": [manifest_command()]}]


# The developer fields Teams shows on the app's page: option -> manifest key. Teams requires https URLs.
DEVELOPER_OPTIONS = {
    "website_url": "websiteUrl",
    "privacy_url": "privacyUrl",
    "terms_url": "termsOfUseUrl",
    "developer_name": "name",
}
EXAMPLE_HOST = "cxbot.example.com"
# Where the Bot Framework posts activities (handlers/teams/wiring.py's ROUTE; a test keeps them equal). Not imported:
# `cxbot --help` builds this parser and should not load botbuilder.
MESSAGES_PATH = "/api/messages"


def server_url(url: str) -> tuple[str, str]:
    """``--url`` -> (its https base without a trailing slash, its host): where Teams and the Bot Framework reach
    cxbot. Teams takes only https."""
    parts = urlsplit(url.strip())
    if parts.scheme != "https" or not parts.hostname or parts.query or parts.fragment:
        raise PackageError(
            f"--url must be the https:// address cxbot serves at (e.g. https://cxbot.example.org), not {url!r}"
        )
    return f"https://{parts.netloc}{parts.path.rstrip('/')}", parts.hostname


_VERSION = re.compile(r"^(0|[1-9]\d{0,8})\.(0|[1-9]\d{0,8})\.(0|[1-9]\d{0,8})$")


def manifest(
    source: Path,
    app_id: str,
    developer: dict[str, str] | None = None,
    *,
    domain: str | None = None,
    version: str | None = None,
) -> dict[str, Any]:
    """teams/manifest.json with ``app_id`` for the app and its bot, ``developer`` fields (manifest keys:
    websiteUrl, privacyUrl, termsOfUseUrl, name) replacing the committed example's, and ``domain`` (cxbot's host)
    in ``validDomains``, which Teams needs to open links to it; ``version`` replaces the app's version (Teams takes
    an uploaded app's update only with a higher one)."""
    if not _GUID.match(app_id):
        raise PackageError(f"MICROSOFT_APP_ID must be the bot's Entra app id (a GUID), not {app_id!r}")
    for key, value in (developer or {}).items():
        if key.endswith("Url") and not re.match(r"^https://[^\s/]+\.[^\s]+$", value):
            raise PackageError(f"developer.{key} must be an https:// address, not {value!r}")
        if key == "name" and not 1 <= len(value) <= 32:
            raise PackageError(f"developer.name must be 1-32 characters, not {len(value)}")
    if version is not None and not _VERSION.match(version):
        raise PackageError(f"--version must be three numbers, major.minor.patch (e.g. 1.0.1), not {version!r}")
    data = json.loads((source / "manifest.json").read_text(encoding="utf-8"))
    if version is not None:
        data["version"] = version
    data["developer"] = {**data["developer"], **(developer or {})}
    if domain:
        data["validDomains"] = sorted({*data.get("validDomains", []), domain})
    text = json.dumps(data).replace(PLACEHOLDER, app_id)  # id, bots[].botId, webApplicationInfo (RSC)
    return json.loads(text)


def build_package(
    *,
    app_id: str,
    source: Path = SOURCE,
    developer: dict[str, str] | None = None,
    domain: str | None = None,
    version: str | None = None,
) -> bytes:
    """The zip Teams takes (files at the top level, no folder)."""
    missing = [name for name in FILES if not (source / name).is_file()]
    if missing:
        raise PackageError(f"{source} lacks {', '.join(missing)}; run from a cxbot checkout or pass --source")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        data = manifest(source, app_id, developer, domain=domain, version=version)
        archive.writestr("manifest.json", json.dumps(data, indent=2, ensure_ascii=False) + "\n")
        for name in FILES[1:]:
            archive.writestr(name, (source / name).read_bytes())
    return buffer.getvalue()


class PackageSettings(Protocol):
    microsoft_app_id: str | None


def cmd_teams_package(args: argparse.Namespace, settings: PackageSettings) -> int:
    if not settings.microsoft_app_id:
        print("cxbot: set MICROSOFT_APP_ID (the bot's Entra app id) to build the Teams package", file=sys.stderr)
        return 2
    developer = {key: getattr(args, option) for option, key in DEVELOPER_OPTIONS.items() if getattr(args, option)}
    missing = [o for o in ("website_url", "privacy_url", "terms_url") if not getattr(args, o)]
    base = domain = None
    try:
        if args.url:
            base, domain = server_url(args.url)
            developer = {DEVELOPER_OPTIONS[o]: f"{base}/" for o in missing} | developer
        data = build_package(
            app_id=settings.microsoft_app_id,
            source=Path(args.source),
            developer=developer,
            domain=domain,
            version=args.version,
        )
    except PackageError as exc:
        print(f"cxbot: {exc}", file=sys.stderr)
        return 2
    output = Path(args.output)
    output.write_bytes(data)
    flags = ", ".join(f"--{o.replace('_', '-')}" for o in missing)
    if missing and base:
        print(f"note: {flags} not given: they point at {base}/; give your organisation's pages", file=sys.stderr)
    elif missing:
        print(f"note: {flags} not given: the package keeps {EXAMPLE_HOST}'s pages (--url sets them)", file=sys.stderr)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        version = json.loads(archive.read("manifest.json"))["version"]
    print(f"wrote {output} ({len(data)} bytes): upload it in Teams (Apps > Manage your apps > Upload an app)")
    print(f"App version {version}: to update an app already uploaded, Teams needs a higher one (--version)")
    if base:
        print(f"In the Azure Bot's Configuration, set the messaging endpoint to {base}{MESSAGES_PATH}")
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser("teams-package", help="write the Teams app package (zip) for MICROSOFT_APP_ID")
    parser.add_argument("--output", default="cxbot-teams.zip", help="where to write the zip (default cxbot-teams.zip)")
    parser.add_argument(
        "--source", default=str(SOURCE), help="folder with manifest.json and the icons (default teams/)"
    )
    parser.add_argument(
        "--url", help="the https:// address cxbot serves at: validDomains, default developer pages, messaging endpoint"
    )
    parser.add_argument("--website-url", help="developer.websiteUrl Teams shows (https://...)")
    parser.add_argument("--privacy-url", help="developer.privacyUrl (https://...)")
    parser.add_argument("--terms-url", help="developer.termsOfUseUrl (https://...)")
    parser.add_argument("--developer-name", help="developer.name (default cxbot)")
    parser.add_argument(
        "--version", help="the app's version, major.minor.patch; raise it to update an uploaded app (default 1.0.0)"
    )
    parser.set_defaults(func=cmd_teams_package)
