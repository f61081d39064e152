"""Several Slack workspaces under OAuth: every post and look-up uses the token of the workspace it is for.

The fake knows two workspaces, each with its own token, and answers as Slack does when a token is used outside
its workspace (channel_not_found, user_not_found). T0FIRST installed first (the older), T0SECOND a minute later
(the newest), so a fall-back to the newest installation would show as ``xoxb-second`` where ``xoxb-first``
belongs.
"""

from __future__ import annotations

import asyncio
import copy
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from slack_sdk.oauth.installation_store.models.installation import Installation
from sqlalchemy import select

from bot.config import parse_config
from bot.settings import Settings
from handlers.slack.oauth import SqlInstallationStore
from handlers.slack.scopes import BOT_SCOPES
from storage.models import SlackUserWorkspace
from stories.config import ConfigError
from stories.ports import DeliveryError
from tests.fakes.slack_api import FakeSlackApi
from tests.slack.conftest import CONFIG, SlackServer, fresh_event, running

CLIENT_ID = "1111111111.2222222222"
CLIENT_SECRET = "oauth-client-secret"
FIRST, SECOND = "T0FIRST", "T0SECOND"
TOKENS = {"xoxb-first": FIRST, "xoxb-second": SECOND}


def _install(store: SqlInstallationStore, *, team: str, token: str, when: float) -> None:
    store.save(
        Installation(
            app_id="A0FAKEAPP1",
            enterprise_id=None,
            team_id=team,
            user_id="U0INSTALLER",
            bot_token=token,
            bot_id=f"B{team}",
            bot_user_id=f"U{team}BOT",
            bot_scopes=sorted(BOT_SCOPES),
            installed_at=when,
        )
    )


def _bare_config() -> dict[str, Any]:
    """The usual configuration, channels without a workspace prefix (allowed: it names no workspace)."""
    return copy.deepcopy(CONFIG)


@pytest.fixture
def two_workspaces(slack_api: FakeSlackApi) -> FakeSlackApi:
    slack_api.oauth_clients[CLIENT_ID] = CLIENT_SECRET
    slack_api.tokens.clear()
    slack_api.tokens.update(TOKENS)
    slack_api.workspaces.update(TOKENS)
    slack_api.channel_teams.update(
        {"C0FINANCE1": FIRST, "C0INTAKE01": FIRST, "C0SUPPORT1": SECOND, "C0PRODUCT1": SECOND, "C0KUDOS001": SECOND}
    )
    slack_api.channels.update({"C0FINANCE1": "finance", "C0SUPPORT1": "support"})
    slack_api.user_teams.update({"U0OLDUSER1": FIRST, "U0NEWUSER1": SECOND, "U0CXAGENT1": FIRST})
    return slack_api


@pytest.fixture
async def multi(two_workspaces: FakeSlackApi, slack_settings: Callable[..., Settings]) -> AsyncIterator[SlackServer]:
    settings = slack_settings(slack_bot_token=None, slack_client_id=CLIENT_ID, slack_client_secret=CLIENT_SECRET)
    async with running(settings, two_workspaces, _bare_config()) as server:
        store = SqlInstallationStore(client_id=CLIENT_ID, engine=server.app.engine)
        _install(store, team=FIRST, token="xoxb-first", when=time.time() - 60)  # the older
        _install(store, team=SECOND, token="xoxb-second", when=time.time())  # the newest
        yield server


def _auth(call: Any) -> str:
    return str(call.headers["Authorization"])


async def test_a_dm_to_a_user_of_the_older_workspace_uses_its_token(multi: SlackServer) -> None:
    """Never seen before: users.info under each installation finds them in the older one, the DM goes with its
    token, and the workspace is remembered (the next DM asks nobody)."""
    notifier = multi.app.notifiers["slack"]
    await notifier.send_direct_message(user="U0OLDUSER1", text="Your commitment is closed")
    posts = multi.api.calls_to("chat.postMessage", ok_only=True)
    assert [(p.params["channel"], _auth(p)) for p in posts] == [("U0OLDUSER1", "Bearer xoxb-first")]
    lookups = multi.api.calls_to("users.info")
    assert [_auth(c) for c in lookups] == ["Bearer xoxb-second", "Bearer xoxb-first"]  # newest asked first
    assert lookups[0].response == {"ok": False, "error": "user_not_found"}
    with multi.app.engine.connect() as conn:
        row = conn.execute(select(SlackUserWorkspace.team_id).where(SlackUserWorkspace.user_id == "U0OLDUSER1"))
        assert row.scalar_one() == FIRST

    await notifier.send_direct_message(user="U0OLDUSER1", text="And another")
    assert len(multi.api.calls_to("users.info")) == 2
    assert _auth(multi.api.calls_to("chat.postMessage")[-1]) == "Bearer xoxb-first"


async def test_a_user_seen_in_an_event_is_messaged_in_that_workspace(multi: SlackServer) -> None:
    """A message from U0CXAGENT1 in the older workspace records where they are; the DM needs no look-up."""
    body = fresh_event("event_message_channels.json", team=FIRST, user="U0CXAGENT1")
    body.update(team_id=FIRST, context_team_id=FIRST)
    body["authorizations"][0]["team_id"] = FIRST
    status, _, _ = await multi.event(body)
    assert status == 200
    await multi.settle()
    with multi.app.engine.connect() as conn:
        row = conn.execute(select(SlackUserWorkspace.team_id).where(SlackUserWorkspace.user_id == "U0CXAGENT1"))
        assert row.scalar_one() == FIRST
    asked = len(multi.api.calls_to("users.info"))
    await multi.app.notifiers["slack"].send_direct_message(user="U0CXAGENT1", text="Thanks")
    assert _auth(multi.api.calls_to("chat.postMessage")[-1]) == "Bearer xoxb-first"
    assert [c.params.get("user") for c in multi.api.calls_to("users.info")[asked:]] == []


async def test_a_user_no_workspace_knows_gets_nothing(multi: SlackServer, caplog: pytest.LogCaptureFixture) -> None:
    multi.api.user_teams["U0STRANGER"] = "T0ELSEWHERE"
    with pytest.raises(DeliveryError) as refused:
        await multi.app.notifiers["slack"].send_direct_message(user="U0STRANGER", text="hello")
    assert refused.value.permanent
    assert multi.api.calls_to("chat.postMessage") == []
    assert "no installed workspace knows user U0STRANGER" in caplog.text


async def test_a_bare_channel_is_posted_with_the_token_of_the_workspace_that_has_it(multi: SlackServer) -> None:
    """Finance's C0FINANCE1 is in the older workspace: found by conversations.info, not posted with the newest."""
    await multi.app.notifiers["slack"].post_text(channel="C0FINANCE1", text="hello finance")
    posts = multi.api.calls_to("chat.postMessage", ok_only=True)
    assert [(p.params["channel"], _auth(p)) for p in posts] == [("C0FINANCE1", "Bearer xoxb-first")]


async def test_a_name_in_one_workspace_resolves_there(
    two_workspaces: FakeSlackApi, slack_settings: Callable[..., Settings]
) -> None:
    """``#finance`` names no workspace. cxbot started before anything was installed, so at start no name was
    found; the first post looks again, in each installed workspace, and finds it in the older one only."""
    config = _bare_config()
    config["departments"][0]["slack_channel"] = "#finance"
    settings = slack_settings(slack_bot_token=None, slack_client_id=CLIENT_ID, slack_client_secret=CLIENT_SECRET)
    async with running(settings, two_workspaces, config) as multi:
        store = SqlInstallationStore(client_id=CLIENT_ID, engine=multi.app.engine)
        _install(store, team=FIRST, token="xoxb-first", when=time.time() - 60)
        _install(store, team=SECOND, token="xoxb-second", when=time.time())
        await multi.app.notifiers["slack"].post_text(channel="#finance", text="hello finance")
        post = multi.api.calls_to("chat.postMessage", ok_only=True)[-1]
        assert (post.params["channel"], _auth(post)) == ("C0FINANCE1", "Bearer xoxb-first")
        listed = [_auth(c) for c in multi.api.calls_to("conversations.list") if c.headers.get("Authorization")]
        assert sorted(listed) == ["Bearer xoxb-first", "Bearer xoxb-second"]


def test_config_refuses_a_bare_channel_when_several_workspaces_are_named() -> None:
    text = """\
default_department: Finance
departments:
  - name: Finance
    slack_channel: T0FIRST/C0FINANCE1
  - name: Support
    slack_channel: T0SECOND/C0SUPPORT1
  - name: Product
    slack_channel: "#product"
"""
    with pytest.raises(ConfigError) as refused:
        parse_config(text, name="cx.yaml")
    message = str(refused.value)
    assert message.startswith("cx.yaml:8:20: departments[2].slack_channel:")
    assert "names no workspace" in message and "T0ACME/#product" in message


def test_config_with_one_workspace_named_keeps_bare_channels() -> None:
    text = """\
default_department: Finance
departments:
  - name: Finance
    slack_channel: T0FIRST/C0FINANCE1
  - name: Product
    slack_channel: "#product"
"""
    assert parse_config(text, name="cx.yaml").departments[1].slack_channel == "#product"


async def test_doctor_checks_each_installation_and_each_channel_in_its_workspace(
    multi: SlackServer, slack_settings: Callable[..., Settings]
) -> None:
    """Both tokens checked (auth.test, scopes); a third installation whose token was revoked fails on its own;
    C0FINANCE1 (bare, in the older workspace) and T0SECOND/C0SUPPORT1 are each asked with their workspace's token."""
    from bot.doctor import _slack
    from stories.config import CxConfig

    store = SqlInstallationStore(client_id=CLIENT_ID, engine=multi.app.engine)
    _install(store, team="T0THIRD", token="xoxb-revoked", when=time.time() + 1)
    multi.api.members.update({"C0FINANCE1", "C0SUPPORT1"})
    config = CxConfig.model_validate(
        {
            "default_department": "Finance",
            "departments": [
                {"name": "Finance", "slack_channel": "C0FINANCE1"},
                {"name": "Support", "slack_channel": "T0SECOND/C0SUPPORT1"},
            ],
        }
    )
    settings = slack_settings(slack_bot_token=None, slack_client_id=CLIENT_ID, slack_client_secret=CLIENT_SECRET)
    checks = {c.name: c for c in await _slack(settings, config)}
    assert checks["slack token T0FIRST"].status == "ok" and checks["slack scopes T0FIRST"].status == "ok"
    assert checks["slack token T0SECOND"].detail.endswith(f"({SECOND})")
    assert checks["slack token T0THIRD"].status == "FAIL" and "/slack/install" in checks["slack token T0THIRD"].fix
    assert checks["slack channel C0FINANCE1"].status == "ok"
    assert checks["slack channel T0SECOND/C0SUPPORT1"].status == "ok"
    asked = [
        (c.params["channel"], _auth(c), (c.response or {}).get("ok")) for c in multi.api.calls_to("conversations.info")
    ]
    assert ("C0FINANCE1", "Bearer xoxb-first", True) in asked
    assert ("C0SUPPORT1", "Bearer xoxb-second", True) in asked


def _listed_config() -> dict[str, Any]:
    """Finance posts to a channel in each workspace; everything else names its workspace."""
    config = copy.deepcopy(CONFIG)
    config["departments"][0]["slack_channel"] = ["T0FIRST/C0FINANCE1", "T0SECOND/C0FINANCE2"]
    config["departments"][1]["slack_channel"] = "T0SECOND/C0SUPPORT1"
    config["departments"][2]["slack_channel"] = "T0SECOND/C0PRODUCT1"
    config["intake"]["slack_channels"] = ["T0FIRST/C0INTAKE01"]
    config["kudos_slack_channel"] = "T0SECOND/C0KUDOS001"
    return config


async def test_a_department_with_a_channel_in_each_workspace_gets_each_story_in_both(
    two_workspaces: FakeSlackApi, slack_settings: Callable[..., Settings]
) -> None:
    """One story for Finance: posted to C0FINANCE1 with the older workspace's token and to C0FINANCE2 with the
    newest's; a note on the story updates both, each with its own token; a second enqueue adds nothing."""
    from stories.models import IncomingComment

    two_workspaces.channel_teams["C0FINANCE2"] = SECOND
    settings = slack_settings(slack_bot_token=None, slack_client_id=CLIENT_ID, slack_client_secret=CLIENT_SECRET)
    async with running(settings, two_workspaces, _listed_config()) as multi:
        store = SqlInstallationStore(client_id=CLIENT_ID, engine=multi.app.engine)
        _install(store, team=FIRST, token="xoxb-first", when=time.time() - 60)
        _install(store, team=SECOND, token="xoxb-second", when=time.time())
        comment = IncomingComment(text="I was charged twice on my invoice", source="survey", external_id="1")
        await asyncio.to_thread(multi.app.take_in, [comment])
        multi.app.dispatcher.kick()
        posts = await two_workspaces.wait_for("chat.postMessage", count=2)
        assert sorted((p.params["channel"], _auth(p)) for p in posts) == [
            ("C0FINANCE1", "Bearer xoxb-first"),
            ("C0FINANCE2", "Bearer xoxb-second"),
        ]
        await multi.settle()
        await asyncio.to_thread(multi.app.take_in, [comment])  # the same comment again: nothing new
        await multi.settle()
        assert len(two_workspaces.calls_to("chat.postMessage")) == 2
        assert [p.response["ok"] for p in two_workspaces.calls_to("chat.postMessage")] == [True, True]


def test_config_names_the_list_item_that_is_ambiguous() -> None:
    text = """\
default_department: Finance
departments:
  - name: Finance
    slack_channel: [T0FIRST/C0FINANCE1, T0SECOND/C0FINANCE2, "#finance"]
"""
    with pytest.raises(ConfigError) as refused:
        parse_config(text, name="cx.yaml")
    assert str(refused.value).startswith("cx.yaml:4:62: departments[0].slack_channel[2]: channel '#finance' names no")


async def test_config_check_refuses_a_bare_channel_once_two_workspaces_are_installed(
    multi: SlackServer, tmp_path: Any, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The file names no workspace at all (fine with one), but two are installed: `cxbot config check` says which
    channel, where, and the prefix to add."""
    from bot.cli import main

    path = tmp_path / "cx.yaml"
    path.write_text(
        "default_department: Finance\ndepartments:\n  - name: Finance\n    slack_channel: C0FINANCE1\n",
        encoding="utf-8",
    )
    monkeypatch.setenv("DATABASE_URL", multi.app.settings.database_url)
    monkeypatch.setenv("SLACK_CLIENT_ID", CLIENT_ID)
    monkeypatch.setenv("SLACK_CLIENT_SECRET", CLIENT_SECRET)
    monkeypatch.setenv("SLACK_SIGNING_SECRET", "signing-secret")
    assert await asyncio.to_thread(main, ["config", "check", "--file", str(path)]) == 2
    error = capsys.readouterr().err
    assert f"{path}:4:20: departments[0].slack_channel: channel 'C0FINANCE1' names no workspace, and 2 are" in error
    assert "T0SECOND/C0FINANCE1" in error
    monkeypatch.delenv("SLACK_CLIENT_ID")
    monkeypatch.delenv("SLACK_CLIENT_SECRET")  # one workspace (SLACK_BOT_TOKEN): nothing to tell apart
    assert await asyncio.to_thread(main, ["config", "check", "--file", str(path)]) == 0
