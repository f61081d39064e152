"""manifest.yaml against Slack's own event reference, not against cxbot's table of it: each subscribed bot event's
documented scope is granted, each event-only scope is used by a subscribed event, and the settings Slack checks
together (messages tab for message.im, interactivity for shortcuts, a request URL for events) agree. Each check is
shown to catch a manifest broken on purpose."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from handlers.slack.scopes import COMMAND_SCOPES, EVENT_SCOPES, METHOD_SCOPES

MANIFEST = Path(__file__).resolve().parents[2] / "handlers" / "slack" / "manifest.yaml"

# Bot events -> the scopes Slack's reference lists as required (docs.slack.dev/reference/events/<event>, "Required
# scopes"); a tuple of alternatives where any one is enough (member_joined_channel: public or private channels).
SLACK_EVENT_SCOPES: dict[str, tuple[str, ...]] = {
    "app_home_opened": (),
    "app_mention": ("app_mentions:read",),
    "app_uninstalled": (),
    "tokens_revoked": (),
    "message.channels": ("channels:history",),
    "message.groups": ("groups:history",),
    "message.im": ("im:history",),
    "message.mpim": ("mpim:history",),
    "reaction_added": ("reactions:read",),
    "reaction_removed": ("reactions:read",),
    "member_joined_channel": ("channels:read", "groups:read"),
    "member_left_channel": ("channels:read", "groups:read"),
    "channel_created": ("channels:read",),
    "channel_rename": ("channels:read",),
    "group_rename": ("groups:read",),
    "team_join": ("users:read",),
    "user_change": ("users:read",),
    "subteam_members_changed": ("usergroups:read",),
    "pin_added": ("pins:read",),
    "file_shared": ("files:read",),
    "link_shared": ("links:read",),
    "emoji_changed": ("emoji:read",),
}
# Scopes that only receiving events can justify (no Web API method cxbot calls needs them).
EVENT_ONLY = {scope for scopes in SLACK_EVENT_SCOPES.values() for scope in scopes} - {
    scope for scopes in METHOD_SCOPES.values() for scope in scopes
}


def problems(manifest: dict[str, Any]) -> list[str]:
    """What Slack would refuse or what would silently never arrive, as sentences; empty when consistent."""
    found = []
    granted = set(manifest["oauth_config"]["scopes"]["bot"])
    settings, features = manifest["settings"], manifest["features"]
    events = settings.get("event_subscriptions", {}).get("bot_events", [])
    for event in events:
        if event not in SLACK_EVENT_SCOPES:
            found.append(f"{event}: not in this test's table; add its documented scope")
        elif (needed := SLACK_EVENT_SCOPES[event]) and not granted & set(needed):
            found.append(f"{event} needs {' or '.join(needed)}")
    for scope in sorted(granted & EVENT_ONLY):
        if not any(scope in SLACK_EVENT_SCOPES.get(event, ()) for event in events):
            found.append(f"{scope} is granted but no subscribed event needs it")
    if "message.im" in events:
        home = features.get("app_home", {})
        if not home.get("messages_tab_enabled") or home.get("messages_tab_read_only_enabled"):
            found.append("message.im needs the messages tab on and writable (people answer the pulse there)")
    if "app_home_opened" in events and not features.get("app_home", {}).get("home_tab_enabled"):
        found.append("app_home_opened without the home tab: the App Home is never drawn")
    if features.get("shortcuts") and not settings.get("interactivity", {}).get("is_enabled"):
        found.append("shortcuts need interactivity")
    if features.get("slash_commands") and not set(COMMAND_SCOPES) <= granted:
        found.append("slash commands and shortcuts need the commands scope")
    if events and not settings.get("socket_mode_enabled"):
        if not str(settings["event_subscriptions"].get("request_url", "")).startswith("https://"):
            found.append("events without Socket Mode need an https request_url")
        if settings.get("interactivity", {}).get("is_enabled") and not str(
            settings["interactivity"].get("request_url", "")
        ).startswith("https://"):
            found.append("interactivity without Socket Mode needs an https request_url")
    return found


@pytest.fixture
def manifest() -> dict[str, Any]:
    return yaml.safe_load(MANIFEST.read_text(encoding="utf-8"))


def test_manifest_yaml_is_consistent_with_slacks_event_reference(manifest: dict[str, Any]) -> None:
    assert problems(manifest) == []


def test_cxbots_event_scope_table_is_slacks() -> None:
    for event, scopes in EVENT_SCOPES.items():
        assert set(scopes) <= set(SLACK_EVENT_SCOPES[event]), event
        assert bool(scopes) == bool(SLACK_EVENT_SCOPES[event]), event


def _broken(manifest: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    changed = copy.deepcopy(manifest)
    *parents, last = path.split(".")
    node = changed
    for part in parents:
        node = node[part]
    node[last] = value(node[last]) if callable(value) else value
    return changed


@pytest.mark.parametrize(
    ("path", "value", "said"),
    [
        ("oauth_config.scopes.bot", lambda s: [x for x in s if x != "im:history"], "message.im needs im:history"),
        ("oauth_config.scopes.bot", lambda s: [x for x in s if x != "reactions:read"], "reaction_added needs"),
        ("oauth_config.scopes.bot", lambda s: [*s, "app_mentions:read"], "app_mentions:read is granted but"),
        ("settings.event_subscriptions.bot_events", lambda e: [*e, "member_joined_channel"], None),
        ("settings.event_subscriptions.bot_events", lambda e: [*e, "star_added"], "star_added: not in"),
        ("features.app_home.messages_tab_read_only_enabled", True, "messages tab on and writable"),
        ("features.app_home.home_tab_enabled", False, "without the home tab"),
        ("settings.interactivity.is_enabled", False, "shortcuts need interactivity"),
        ("settings.event_subscriptions.request_url", "", "need an https request_url"),
    ],
)
def test_each_check_catches_a_manifest_broken_on_purpose(
    manifest: dict[str, Any], path: str, value: Any, said: str | None
) -> None:
    found = problems(_broken(manifest, path, value))
    if said is None:  # member_joined_channel is covered by channels:read, which cxbot already has
        assert found == []
    else:
        assert any(said in problem for problem in found), found
