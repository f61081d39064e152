"""manifest.yaml is a valid Slack app manifest that declares exactly what the code listens to and needs."""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from slack_sdk.web.async_client import AsyncWebClient

from handlers.slack.oauth import REDIRECT_PATH
from handlers.slack.scopes import BOT_SCOPES, EVENT_SCOPES, METHOD_SCOPES
from handlers.slack.wiring import EVENTS_PATH, LISTENERS
from stories.commands import COMMANDS
from tests.fakes.slack_signing import FORM, JSON, form_body, interactive_body, json_body
from tests.slack.conftest import SlackServer

ROOT = Path(__file__).resolve().parents[2]
MANIFEST = ROOT / "handlers" / "slack" / "manifest.yaml"
# Event subscriptions name where a message event comes from; bolt listens to the event type.
MESSAGE_SUBSCRIPTIONS = {"message.channels", "message.groups", "message.im", "message.mpim"}


@pytest.fixture(scope="module")
def manifest() -> dict[str, Any]:
    return yaml.safe_load(MANIFEST.read_text(encoding="utf-8"))


def test_manifest_has_slacks_structure_and_limits(manifest: dict[str, Any]) -> None:
    # Limits from https://docs.slack.dev/reference/app-manifest
    assert manifest["_metadata"]["major_version"] in (1, 2)
    info = manifest["display_information"]
    assert 1 <= len(info["name"]) <= 35
    assert len(info["description"]) <= 140
    assert 174 <= len(info["long_description"]) <= 4000
    assert re.fullmatch(r"#[0-9a-fA-F]{6}", info["background_color"])
    features = manifest["features"]
    assert 1 <= len(features["bot_user"]["display_name"]) <= 80
    for command in features["slash_commands"]:
        assert re.fullmatch(r"/[a-z0-9_-]{1,31}", command["command"])
        assert len(command["description"]) <= 2000 and len(command["usage_hint"]) <= 1000
        assert command["url"].startswith("https://")
    for shortcut in features["shortcuts"]:
        assert shortcut["type"] in ("message", "global")
        assert len(shortcut["name"]) <= 24 and len(shortcut["description"]) <= 150
        assert re.fullmatch(r"[A-Za-z0-9_.-]{1,255}", shortcut["callback_id"])
    settings = manifest["settings"]
    assert settings["socket_mode_enabled"] is False
    assert settings["interactivity"]["is_enabled"] is True
    for url in (settings["event_subscriptions"]["request_url"], settings["interactivity"]["request_url"]):
        assert url.startswith("https://") and url.endswith(EVENTS_PATH)
    assert all(url.endswith(REDIRECT_PATH) for url in manifest["oauth_config"]["redirect_urls"])
    assert features["app_home"]["home_tab_enabled"] is True


def test_bot_events_are_exactly_the_events_listened_to(manifest: dict[str, Any]) -> None:
    subscribed = manifest["settings"]["event_subscriptions"]["bot_events"]
    assert len(subscribed) == len(set(subscribed))
    types = {"message" if e in MESSAGE_SUBSCRIPTIONS else e for e in subscribed}
    assert types == set(LISTENERS["events"])
    assert {"message.channels", "message.groups"} <= set(subscribed)  # public and private intake channels


def test_slash_command_and_shortcut_are_exactly_those_listened_to(manifest: dict[str, Any]) -> None:
    assert [c["command"] for c in manifest["features"]["slash_commands"]] == list(LISTENERS["commands"])
    assert [s["callback_id"] for s in manifest["features"]["shortcuts"]] == list(LISTENERS["shortcuts"])
    assert all(s["type"] == "message" for s in manifest["features"]["shortcuts"])


def test_cx_usage_hint_matches_the_command_table(manifest: dict[str, Any]) -> None:
    (cx,) = manifest["features"]["slash_commands"]
    hinted = {word.strip() for word in cx["usage_hint"].split("|")}
    assert hinted == {spec.name for spec in COMMANDS if "slack" in spec.platforms}
    assert cx["should_escape"] is True  # mentions arrive as <@U…> for /cx kudos


def web_api_methods_called() -> set[str]:
    """Every slack_sdk Web API method named in cxbot's code (``client.users_info(``, ``_call("chat_update"``,
    ...): any word of handlers/ and bot/ that is one of AsyncWebClient's Web API methods."""
    web_api = {name for name in vars(AsyncWebClient) if not name.startswith("_")} - {"api_call"}
    found: set[str] = set()
    for folder in ("handlers", "bot"):
        for path in (ROOT / folder).rglob("*.py"):
            found |= web_api & set(re.findall(r"\b[a-z]+_[A-Za-z0-9_]+\b", path.read_text(encoding="utf-8")))
    return found


def test_every_web_api_method_the_code_calls_is_in_the_scope_table_and_no_other() -> None:
    called = web_api_methods_called()
    assert {"chat_postMessage", "files_upload_v2", "users_info"} <= called  # the scan finds calls
    assert called == set(METHOD_SCOPES), "add the method and its scopes to handlers/slack/scopes.py"


def test_bot_scopes_are_derived_from_the_methods_events_and_commands(manifest: dict[str, Any]) -> None:
    assert sorted(manifest["oauth_config"]["scopes"]["bot"]) == sorted(BOT_SCOPES)
    assert set(manifest["settings"]["event_subscriptions"]["bot_events"]) == set(EVENT_SCOPES)
    assert "files:write" in BOT_SCOPES  # the weekly chart's files_upload_v2
    assert "user" not in manifest["oauth_config"]["scopes"]


def _requests() -> list[tuple[str, str, bytes, str]]:
    """One minimal signed request per declared listener: (kind, name, body, content type)."""
    made = []
    for n, event in enumerate(LISTENERS["events"]):
        body = {
            "type": "event_callback",
            "team_id": "T0FAKE0001",
            "event_id": f"Ev0MANIFEST{n}",
            "event": {"type": event},
        }
        made.append(("events", event, json_body(body), JSON))
    for command in LISTENERS["commands"]:
        made.append(
            (
                "commands",
                command,
                form_body({"command": command, "text": "", "user_id": "U1", "team_id": "T0FAKE0001"}),
                FORM,
            )
        )
    for callback in LISTENERS["shortcuts"]:
        body = {"type": "message_action", "callback_id": callback, "team": {"id": "T0FAKE0001"}, "user": {"id": "U1"}}
        made.append(("shortcuts", callback, interactive_body(body), FORM))
    for action in LISTENERS["actions"]:
        body = {
            "type": "block_actions",
            "team": {"id": "T0FAKE0001"},
            "user": {"id": "U1"},
            "actions": [{"action_id": action, "action_ts": "1.2"}],
        }
        made.append(("actions", action, interactive_body(body), FORM))
    for callback in LISTENERS["views"]:
        body = {
            "type": "view_submission",
            "team": {"id": "T0FAKE0001"},
            "user": {"id": "U1"},
            "view": {"id": "V1", "type": "modal", "callback_id": callback, "state": {"values": {}}},
        }
        made.append(("views", callback, interactive_body(body), FORM))
    return made


async def test_every_declared_listener_is_registered_and_nothing_else(
    slack: SlackServer, caplog: pytest.LogCaptureFixture
) -> None:
    assert slack.app.slack is not None
    bolt = slack.app.slack.bolt
    assert len(bolt._async_listeners) == sum(len(names) for names in LISTENERS.values())
    caplog.set_level(logging.DEBUG, logger="handlers.slack.wiring")
    for kind, name, body, content_type in _requests():
        caplog.clear()
        status, _, _ = await slack.post(body, content_type=content_type)
        assert status == 200, (kind, name)
        await slack.settle()  # events, commands and clicks reach bolt after the answer
        assert "unhandled" not in caplog.text, f"{kind} {name} is declared but no listener took it"
    caplog.clear()
    undeclared = interactive_body(
        {
            "type": "block_actions",
            "team": {"id": "T0FAKE0001"},
            "user": {"id": "U1"},
            "actions": [{"action_id": "not_ours"}],
        }
    )
    await slack.post(undeclared, content_type=FORM)
    await slack.settle()
    assert "unhandled" in caplog.text  # the check above can tell


def test_the_manifest_at_the_root_is_the_packaged_one() -> None:
    """manifest.yaml at the root is where an admin looks for the app manifest; handlers/slack/manifest.yaml is the
    copy that ships in the package (`cxbot slack-app create` reads it, so a wheel or a checkout without symlinks
    works). Two real files, kept identical here."""
    root = (ROOT / "manifest.yaml").read_bytes()
    assert root == MANIFEST.read_bytes(), (
        "manifest.yaml and handlers/slack/manifest.yaml differ: edit one, then copy it over the other"
    )
