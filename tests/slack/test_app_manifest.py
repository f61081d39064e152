"""`cxbot slack-app create`: the Slack app made from manifest.yaml through apps.manifest.create (the fake Slack Web
API), every request URL at --url, the settings to set printed, Slack's refusals shown plainly."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import yaml

from bot.cli import main
from handlers.slack import app_manifest, oauth, wiring
from tests.fakes.slack_api import DEFAULT_TOKEN, FakeSlackApi

ROOT = Path(__file__).resolve().parents[2]
CONFIG_TOKEN = "xoxe.xoxp-1-fake-configuration-token"
URL = "https://cx.acme.test/"


@pytest.fixture
async def slack_api(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[FakeSlackApi]:
    async with FakeSlackApi() as fake:
        fake.config_tokens.add(CONFIG_TOKEN)
        monkeypatch.setenv("SLACK_API_URL", fake.base_url)
        yield fake


def _urls(manifest: dict) -> list[str]:
    settings = manifest["settings"]
    return [
        settings["event_subscriptions"]["request_url"],
        settings["interactivity"]["request_url"],
        *(command["url"] for command in manifest["features"]["slash_commands"]),
        *manifest["oauth_config"]["redirect_urls"],
    ]


def test_the_paths_put_in_the_manifest_are_the_ones_cxbot_serves() -> None:
    assert app_manifest.EVENTS_PATH == wiring.EVENTS_PATH
    assert app_manifest.REDIRECT_PATH == oauth.REDIRECT_PATH
    assert app_manifest.INSTALL_PATH == oauth.INSTALL_PATH


def test_dry_run_prints_manifest_yaml_with_every_request_url_at_the_server(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["slack-app", "create", "--url", URL, "--dry-run"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert _urls(printed) == [
        "https://cx.acme.test/slack/events",
        "https://cx.acme.test/slack/events",
        "https://cx.acme.test/slack/events",
        "https://cx.acme.test/slack/oauth_redirect",
    ]
    committed = yaml.safe_load((ROOT / "handlers" / "slack" / "manifest.yaml").read_text(encoding="utf-8"))
    assert printed["oauth_config"]["scopes"] == committed["oauth_config"]["scopes"]  # only the URLs change
    assert "example.com" not in json.dumps(printed)


async def test_create_sends_the_filled_manifest_and_prints_the_install_link_and_settings(
    slack_api: FakeSlackApi, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["slack-app", "create", "--url", "https://cx.acme.test/bot", "--token", CONFIG_TOKEN]
    assert await asyncio.to_thread(main, argv) == 0
    [call] = slack_api.calls_to("apps.manifest.create", ok_only=True)
    sent = json.loads(call.params["manifest"])
    assert sent == app_manifest.filled_manifest(url="https://cx.acme.test/bot")
    assert _urls(sent)[0] == "https://cx.acme.test/bot/slack/events"
    answer = call.response or {}
    out = capsys.readouterr().out
    assert f"Created Slack app {answer['app_id']}" in out
    assert answer["oauth_authorize_url"] in out
    assert f"SLACK_SIGNING_SECRET={answer['credentials']['signing_secret']}" in out
    assert f"SLACK_CLIENT_ID={answer['credentials']['client_id']}" in out
    assert f"SLACK_CLIENT_SECRET={answer['credentials']['client_secret']}" in out
    assert "https://cx.acme.test/bot/slack/install" in out


async def test_the_configuration_token_can_come_from_the_environment(
    slack_api: FakeSlackApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SLACK_CONFIG_TOKEN", CONFIG_TOKEN)
    assert await asyncio.to_thread(main, ["slack-app", "create", "--url", URL]) == 0
    [call] = slack_api.calls_to("apps.manifest.create", ok_only=True)
    assert call.headers["Authorization"] == f"Bearer {CONFIG_TOKEN}"


async def test_slacks_invalid_manifest_errors_are_shown_with_their_pointers(
    slack_api: FakeSlackApi, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    manifest = yaml.safe_load((ROOT / "handlers" / "slack" / "manifest.yaml").read_text(encoding="utf-8"))
    manifest["display_information"]["name"] = ""
    broken = tmp_path / "manifest.yaml"
    broken.write_text(yaml.safe_dump(manifest), encoding="utf-8")
    argv = ["slack-app", "create", "--url", URL, "--token", CONFIG_TOKEN, "--manifest", str(broken)]
    assert await asyncio.to_thread(main, argv) == 2
    err = capsys.readouterr().err
    assert "Slack refused the manifest (invalid_manifest):" in err
    assert "/display_information/name: must provide a name" in err
    assert slack_api.apps == {}


async def test_a_bot_token_or_no_token_is_refused_with_where_to_get_a_configuration_token(
    slack_api: FakeSlackApi, capsys: pytest.CaptureFixture[str]
) -> None:
    assert await asyncio.to_thread(main, ["slack-app", "create", "--url", URL, "--token", DEFAULT_TOKEN]) == 2
    err = capsys.readouterr().err
    assert "not_allowed_token_type" in err and "Your App Configuration Tokens" in err
    assert await asyncio.to_thread(main, ["slack-app", "create", "--url", URL]) == 2
    assert "SLACK_CONFIG_TOKEN" in capsys.readouterr().err
    assert slack_api.apps == {}


def test_a_url_slack_cannot_call_is_refused_before_asking_slack(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["slack-app", "create", "--url", "http://cx.acme.test", "--dry-run"]) == 2
    assert "--url must be the https:// address" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("content", "said"),
    [
        (None, "cannot read"),
        ("../../manifest.yaml\n", "is not a Slack app manifest"),  # what a checkout without symlinks once held
        ("settings: [\n", "is not YAML"),
    ],
)
def test_a_manifest_file_that_is_missing_or_not_a_manifest_is_one_line_with_the_fix(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str | None, said: str
) -> None:
    manifest = tmp_path / "manifest.yaml"
    if content is not None:
        manifest.write_text(content, encoding="utf-8")
    assert main(["slack-app", "create", "--url", URL, "--dry-run", "--manifest", str(manifest)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"cxbot slack-app create: {manifest}" if content else "cxbot slack-app create: cannot read")
    assert said in err and "leave it out for the one cxbot ships" in err and "Traceback" not in err
