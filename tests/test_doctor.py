"""`cxbot doctor` against the fake Slack Web API, the fake Entra/Bot Framework login and the fake OpenAI server:
a workspace ready for a first story passes; each thing that would stop one is a FAIL line with its fix."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.cli import main
from bot.doctor import Endpoints, report, run_checks
from bot.settings import Settings
from handlers.checks import Check
from handlers.slack.scopes import BOT_SCOPES
from storage.db import make_engine
from storage.departments import sync_departments
from stories.config import CxConfig
from tests.fakes.bf_identity import FakeIdentity
from tests.fakes.openai_server import FakeOpenAI
from tests.fakes.slack_api import DEFAULT_TOKEN, FakeSlackApi

APP_ID = "2f1c6d3e-4b5a-4c7d-8e9f-0a1b2c3d4e5f"
SECRET = "entra-client-secret"
FRIDAY = datetime(2026, 12, 4, 10, 0, tzinfo=UTC)
CONFIG: dict[str, Any] = {
    "default_department": "Finance",
    "departments": [
        {
            "name": "Finance",
            "slack_channel": "#cx-finance",
            "schedule": "0 9 * * mon-fri",
            "timezone": "Europe/Berlin",
        },
        {"name": "Legal", "slack_channel": "G0LEGAL001", "schedule": "30 8 * * mon", "timezone": "America/New_York"},
    ],
    "rules": [{"id": "billing", "department": "Finance", "keywords": ["refund"]}],
    "intake": {"slack_channels": ["#customer-voice"]},
}


@pytest.fixture
def database_url(tmp_path: Path, _sqlite_template: Path) -> str:
    """A migrated SQLite database: the doctor reads only its revision and the departments' channels."""
    path = tmp_path / "cxbot.db"
    shutil.copy(_sqlite_template, path)
    return f"sqlite:///{path}"


@pytest.fixture
def config_file(tmp_path: Path) -> Path:
    path = tmp_path / "cx.yaml"
    path.write_text(yaml.safe_dump(CONFIG), encoding="utf-8")
    return path


@pytest.fixture
async def slack_api() -> AsyncIterator[FakeSlackApi]:
    async with FakeSlackApi() as fake:
        fake.channels.update({"C0FINANCE1": "cx-finance", "G0LEGAL001": "cx-legal", "C0VOICE001": "customer-voice"})
        fake.members.update({"C0FINANCE1", "G0LEGAL001", "C0VOICE001"})
        yield fake


@pytest.fixture
async def identity() -> AsyncIterator[FakeIdentity]:
    async with FakeIdentity() as fake:
        fake.apps[APP_ID] = SECRET
        yield fake


@pytest.fixture
async def model() -> AsyncIterator[FakeOpenAI]:
    fake = await FakeOpenAI().start()
    fake.api_keys = {"sk-good"}
    yield fake
    await fake.close()


def _settings(database_url: str, config_file: Path, slack_api: FakeSlackApi, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "database_url": database_url,
        "cx_config": config_file,
        "slack_bot_token": DEFAULT_TOKEN,
        "slack_signing_secret": "signing-secret",
        "slack_api_url": slack_api.base_url,
        **overrides,
    }
    return Settings(**values)


def _by_name(checks: list[Check]) -> dict[str, Check]:
    return {check.name: check for check in checks}


async def test_a_workspace_ready_for_a_first_story_passes_every_check(
    database_url: str,
    config_file: Path,
    slack_api: FakeSlackApi,
    identity: FakeIdentity,
    model: FakeOpenAI,
    capsys: pytest.CaptureFixture[str],
) -> None:
    settings = _settings(
        database_url,
        config_file,
        slack_api,
        microsoft_app_id=APP_ID,
        microsoft_app_password=SECRET,
        openai_model="gpt-4o-mini",
        openai_api_key="sk-good",
        openai_base_url=model.base_url,
    )
    checks = await run_checks(settings, endpoints=Endpoints(teams_login_url=identity.login_url), now=FRIDAY)
    assert [c.line() for c in checks if c.status == "FAIL"] == []
    found = _by_name(checks)
    assert found["slack token"].detail == "bot @cxbot in workspace Fake Workspace (T0FAKE0001)"
    assert found["slack scopes"].detail == f"all {len(BOT_SCOPES)} granted"
    assert found["slack channel #cx-finance"].detail.endswith("cxbot is in #cx-finance")
    assert found["slack channel G0LEGAL001"].detail.endswith("cxbot is in #cx-legal")
    assert found["slack channel #customer-voice"].detail == "intake.slack_channels: cxbot is in #customer-voice"
    assert found["teams credentials"].status == "ok"
    assert found["model"].detail == f"gpt-4o-mini at {model.base_url}"
    # Next digests in each department's own timezone: Monday 09:00 Berlin, Monday 08:30 New York.
    assert found["department Finance"].detail == "Slack #cx-finance; next digest Mon 07 Dec 09:00 Europe/Berlin"
    assert found["department Legal"].detail == "Slack G0LEGAL001; next digest Mon 07 Dec 08:30 America/New_York"
    # What was asked: the channel ids the names resolved to, and the Bot Framework's scope with the app's secret.
    asked = [call.params["channel"] for call in slack_api.calls_to("conversations.info")]
    assert asked == ["C0FINANCE1", "G0LEGAL001", "C0VOICE001"]
    [token_request] = identity.token_requests
    assert token_request["client_id"] == APP_ID and token_request["client_secret"] == SECRET
    assert token_request["scope"] == "https://api.botframework.com/.default"
    assert report(checks) == 0
    assert capsys.readouterr().out.splitlines()[-1] == "all clear: the first story can come"


async def test_each_problem_is_a_fail_line_that_says_how_to_fix_it(
    tmp_path: Path,
    config_file: Path,
    slack_api: FakeSlackApi,
    identity: FakeIdentity,
    model: FakeOpenAI,
    capsys: pytest.CaptureFixture[str],
) -> None:
    slack_api.token_scopes[DEFAULT_TOKEN] = frozenset(BOT_SCOPES) - {"reactions:read", "files:write"}
    slack_api.members.discard("C0FINANCE1")
    del slack_api.channels["C0VOICE001"]  # the intake channel does not exist
    empty = tmp_path / "empty.db"
    make_engine(f"sqlite:///{empty}").connect().close()  # a database without cxbot's tables
    settings = _settings(
        f"sqlite:///{empty}",
        config_file,
        slack_api,
        microsoft_app_id=APP_ID,
        microsoft_app_password="an-old-secret",
        openai_model="gpt-5-large",
        openai_api_key="sk-good",
        openai_base_url=model.base_url,
    )
    checks = await run_checks(settings, endpoints=Endpoints(teams_login_url=identity.login_url), now=FRIDAY)
    failed = {c.name: c for c in checks if c.status == "FAIL"}
    assert set(failed) == {
        "database",
        "slack scopes",
        "slack channel #cx-finance",
        "slack channel #customer-voice",
        "teams credentials",
        "model",
        "department Finance",  # its channel lacks cxbot (Legal's is fine)
    }
    assert "has no cxbot tables" in failed["database"].detail and failed["database"].fix == "run `cxbot db upgrade`"
    assert failed["slack scopes"].detail == "missing files:write, reactions:read"
    assert "Reinstall" in failed["slack scopes"].fix
    assert failed["slack channel #cx-finance"].fix == "in Slack, type /invite @cxbot in #cx-finance"
    assert "no channel of that name" in failed["slack channel #customer-voice"].detail
    assert "AADSTS7000215" in failed["teams credentials"].detail
    assert "new client secret" in failed["teams credentials"].fix
    assert "does not offer gpt-5-large (it offers: gpt-4o-mini)" in failed["model"].detail
    assert report(checks) == 1
    out = capsys.readouterr().out
    assert "FAIL slack channel #cx-finance: departments[0].slack_channel (Finance): cxbot is not a member" in out
    assert out.splitlines()[-1] == "7 problem(s) stop a first story"


@pytest.mark.parametrize(
    ("break_it", "department", "found", "fix"),
    [
        (
            lambda fake: fake.members.discard("C0FINANCE1"),
            "Finance",
            "cannot post to Slack #cx-finance (cxbot is not a member of #cx-finance)",
            "in Slack, type /invite @cxbot in #cx-finance",
        ),
        (
            lambda fake: fake.archived.add("G0LEGAL001"),
            "Legal",
            "cannot post to Slack G0LEGAL001 (#cx-legal is archived)",
            "unarchive #cx-legal or name another",
        ),
        (
            lambda fake: fake.channels.pop("C0FINANCE1"),
            "Finance",
            "cannot post to Slack #cx-finance (no channel of that name is visible to cxbot)",
            "create #cx-finance in Slack",
        ),
        (
            lambda fake: fake.channels.pop("G0LEGAL001"),
            "Legal",
            "cannot post to Slack G0LEGAL001 (conversations.info failed (channel_not_found))",
            "check the id in the configuration",
        ),
    ],
    ids=["not-a-member", "archived", "name-not-found", "id-not-found"],
)
async def test_a_department_whose_channel_failed_its_check_is_a_fail_line_with_the_channels_fix(
    database_url: str,
    config_file: Path,
    slack_api: FakeSlackApi,
    break_it: Any,
    department: str,
    found: str,
    fix: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The department's line said ok ("Slack #cx-finance; next digest ...") right under its channel's FAIL."""
    break_it(slack_api)
    checks = await run_checks(_settings(database_url, config_file, slack_api), now=FRIDAY)
    found_by_name = _by_name(checks)
    line = found_by_name[f"department {department}"]
    assert line.status == "FAIL" and line.detail.startswith(found + "; next digest Mon 07 Dec"), line
    assert line.fix.startswith(fix)
    other = found_by_name[f"department {({'Finance', 'Legal'} - {department}).pop()}"]
    assert other.status == "ok"
    assert report(checks) == 1
    assert f"FAIL department {department}: {found}" in capsys.readouterr().out


async def test_departments_are_not_ok_when_the_slack_token_stopped_the_channel_checks(
    database_url: str, config_file: Path, slack_api: FakeSlackApi
) -> None:
    settings = _settings(database_url, config_file, slack_api, slack_bot_token="xoxb-from-another-app")
    checks = _by_name(await run_checks(settings, now=FRIDAY))
    assert checks["slack token"].status == "FAIL"
    for name in ("Finance", "Legal"):
        line = checks[f"department {name}"]
        assert line.status == "FAIL" and "not checked (slack token: FAIL)" in line.detail
        assert line.fix == checks["slack token"].fix


async def test_a_teams_linked_department_is_not_ok_while_teams_refuses_the_sign_in(
    database_url: str, config_file: Path, identity: FakeIdentity
) -> None:
    """The same on Teams: no channel check there, but a sign-in Entra refuses means nothing is posted."""
    config = {**CONFIG, "departments": [{**CONFIG["departments"][0], "teams_channel": "19:fin@thread.tacv2"}]}
    config_file.write_text(yaml.safe_dump(config), encoding="utf-8")
    settings = Settings(
        database_url=database_url, cx_config=config_file, microsoft_app_id=APP_ID, microsoft_app_password="old"
    )
    checks = _by_name(await run_checks(settings, endpoints=Endpoints(teams_login_url=identity.login_url), now=FRIDAY))
    line = checks["department Finance"]
    assert line.status == "FAIL" and line.detail.startswith("cannot post to Teams (teams credentials: FAIL)")
    assert line.fix == checks["teams credentials"].fix and "new client secret" in line.fix
    settings = Settings(
        database_url=database_url, cx_config=config_file, microsoft_app_id=APP_ID, microsoft_app_password=SECRET
    )
    checks = _by_name(await run_checks(settings, endpoints=Endpoints(teams_login_url=identity.login_url), now=FRIDAY))
    assert checks["department Finance"].status == "ok"


async def test_a_refused_slack_token_stops_the_slack_checks_and_a_refused_model_key_is_named(
    database_url: str, config_file: Path, slack_api: FakeSlackApi, model: FakeOpenAI
) -> None:
    settings = _settings(
        database_url,
        config_file,
        slack_api,
        slack_bot_token="xoxb-from-another-app",
        openai_model="gpt-4o-mini",
        openai_api_key="sk-wrong",
        openai_base_url=model.base_url,
    )
    checks = _by_name(await run_checks(settings, now=FRIDAY))
    assert checks["slack token"].status == "FAIL" and "invalid_auth" in checks["slack token"].detail
    assert "Bot User OAuth Token" in checks["slack token"].fix
    assert "slack scopes" not in checks and slack_api.calls_to("conversations.info") == []
    assert checks["model"].detail.endswith("refused OPENAI_API_KEY (401)")


async def test_teams_departments_are_linked_only_once_cx_link_ran(
    database_url: str, config_file: Path, identity: FakeIdentity
) -> None:
    settings = Settings(
        database_url=database_url, cx_config=config_file, microsoft_app_id=APP_ID, microsoft_app_password=SECRET
    )
    endpoints = Endpoints(teams_login_url=identity.login_url)
    engine = make_engine(database_url)
    sync_departments(engine, CxConfig.model_validate(CONFIG))
    checks = _by_name(await run_checks(settings, endpoints=endpoints, now=FRIDAY))
    assert checks["slack token"].status == "skip"
    assert checks["department Finance"].status == "FAIL"
    assert checks["department Finance"].fix == "type `@cxbot cx link Finance` in its Teams channel"

    from storage.channel_links import SqlChannelLinks
    from storage.departments import DepartmentIds

    SqlChannelLinks(engine, DepartmentIds(engine)).link_channel(
        department="Finance", platform="teams", channel="19:finance@thread.tacv2"
    )
    engine.dispose()
    checks = _by_name(await run_checks(settings, endpoints=endpoints, now=FRIDAY))
    assert checks["department Finance"].status == "ok"
    assert checks["department Finance"].detail.startswith("Teams channel linked; next digest Mon 07 Dec 09:00")
    assert checks["department Legal"].status == "FAIL"


async def test_cxbot_doctor_prints_one_line_per_check_and_exits_non_zero_on_a_failure(
    database_url: str,
    config_file: Path,
    slack_api: FakeSlackApi,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    for name, value in {
        "DATABASE_URL": database_url,
        "CX_CONFIG": str(config_file),
        "SLACK_BOT_TOKEN": DEFAULT_TOKEN,
        "SLACK_SIGNING_SECRET": "signing-secret",
        "SLACK_API_URL": slack_api.base_url,
    }.items():
        monkeypatch.setenv(name, value)
    assert await asyncio.to_thread(main, ["doctor"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert all(line.split(" ", 1)[0] in ("ok", "skip") for line in lines[:-1])
    assert lines[-1] == "all clear: the first story can come"
    slack_api.members.discard("G0LEGAL001")
    assert await asyncio.to_thread(main, ["doctor"]) == 1
    out = capsys.readouterr().out
    assert "FAIL slack channel G0LEGAL001" in out and "/invite @cxbot in #cx-legal" in out


def test_a_database_that_cannot_be_reached_is_named_without_its_password(
    config_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = Settings(database_url="postgresql://cx:hunter2@127.0.0.1:1/cx", cx_config=config_file)
    checks = _by_name(asyncio.run(run_checks(settings, now=FRIDAY)))
    database = checks["database"]
    assert database.status == "FAIL" and "127.0.0.1:1" in database.detail and "hunter2" not in database.detail
    assert "DATABASE_URL" in database.fix
    assert checks["platforms"].status == "FAIL"


async def test_with_oauth_the_newest_installations_token_is_checked(
    database_url: str, config_file: Path, slack_api: FakeSlackApi
) -> None:
    from slack_sdk.oauth.installation_store.models.installation import Installation

    from handlers.slack.oauth import SqlInstallationStore

    settings = Settings(
        database_url=database_url,
        cx_config=config_file,
        slack_client_id="1111.2222",
        slack_client_secret="client-secret",
        slack_signing_secret="signing-secret",
        slack_api_url=slack_api.base_url,
    )
    checks = _by_name(await run_checks(settings, now=FRIDAY))
    assert (
        checks["slack token"].status == "FAIL" and "no workspace has installed the app" in checks["slack token"].detail
    )
    assert "/slack/install" in checks["slack token"].fix and slack_api.calls_to("auth.test") == []
    engine = make_engine(database_url)
    SqlInstallationStore(client_id="1111.2222", engine=engine).save(
        Installation(
            app_id="A0FAKEAPP1",
            team_id="T0FAKE0001",
            user_id="U0INSTALLER",
            bot_token=DEFAULT_TOKEN,
            bot_id="B0FAKEBOT1",
            bot_user_id="U0FAKEBOT1",
            bot_scopes=sorted(BOT_SCOPES),
        )
    )
    engine.dispose()
    checks = _by_name(await run_checks(settings, now=FRIDAY))
    assert [c.name for c in checks.values() if c.status == "FAIL"] == []
    [call] = slack_api.calls_to("auth.test")
    assert call.headers["Authorization"] == f"Bearer {DEFAULT_TOKEN}"
