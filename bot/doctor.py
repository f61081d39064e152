"""``cxbot doctor``: checks each thing that stops a first story, one line each (ok / FAIL with the fix / skip),
and exits non-zero when anything failed.

The order is the order of a first story: the configuration, the database (reachable, migrated), the secrets,
Slack (token, scopes, channel membership), Teams (sign-in), the model, then each department: where its stories go
and when its next digest is, in its own timezone. Slack's and Teams' own checks live in handlers/ (they speak
their platforms); this module wires them and adds the ones that read storage and the configuration.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from bot.config import ConfigError, example_path, load_config
from bot.settings import Settings
from handlers.checks import Check
from stories.config import CxConfig

MODEL_TIMEOUT = 15.0


@dataclass(frozen=True)
class Endpoints:
    """Where the platforms' sign-in lives (tests point it at the fakes); Slack's is the SLACK_API_URL setting."""

    teams_login_url: str | None = None


async def run_checks(
    settings: Settings, *, endpoints: Endpoints = Endpoints(), now: datetime | None = None
) -> list[Check]:
    checks: list[Check] = []
    config = _config(settings, checks)
    channels = _database(settings, checks)
    checks.append(_hash_key(settings))
    slack = await _slack(settings, config) if config is not None else []
    teams = await _teams(settings, endpoints)
    checks += slack + teams
    checks.append(await _model(settings))
    if config is not None:
        checks.extend(_departments(settings, config, channels, now=now or datetime.now(UTC), above=slack + teams))
    return checks


def _config(settings: Settings, checks: list[Check]) -> CxConfig | None:
    where = settings.cx_config or example_path()
    try:
        config = load_config(settings.cx_config)
    except ConfigError as exc:
        checks.append(Check.fail("configuration", str(exc), fix="correct the file (`cxbot config check` re-checks it)"))
        return None
    note = "" if settings.cx_config else " (the bundled example: CX_CONFIG is not set)"
    checks.append(
        Check.ok("configuration", f"{where}{note}: {len(config.departments)} departments, {len(config.rules)} rules")
    )
    return config


def _database(settings: Settings, checks: list[Check]) -> dict[tuple[str, str], str] | None:
    """Reachable and at the code's revision; returns the departments' channels as stored (Teams links), if readable."""
    from storage.db import current_revision, head_revision, make_engine
    from storage.departments import channel_map

    where = make_url(settings.database_url).render_as_string(hide_password=True)
    url = make_url(settings.database_url)
    if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
        from pathlib import Path

        if not Path(str(url.database)).exists():
            checks.append(
                Check.fail("database", f"no database file at {url.database}", fix="run `cxbot db upgrade` to create it")
            )
            return None
    engine = make_engine(settings.database_url)
    try:
        current, head = current_revision(engine), head_revision(engine)
        if current != head:
            state = "has no cxbot tables" if current is None else f"is at revision {current}"
            checks.append(
                Check.fail("database", f"{where} {state}, the code needs {head}", fix="run `cxbot db upgrade`")
            )
            return None
        checks.append(Check.ok("database", f"{where} reachable, at revision {head} (the newest)"))
        return channel_map(engine)
    except SQLAlchemyError as exc:
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        checks.append(
            Check.fail(
                "database",
                f"cannot use {where}: {reason}",
                fix="check DATABASE_URL (host, port, user, password, database) and that the server is running",
            )
        )
        return None
    finally:
        engine.dispose()


def _hash_key(settings: Settings) -> Check:
    problem = settings.hash_key_problem()
    if problem is None:
        return Check.ok("CX_HASH_KEY", "set")
    level, message = problem
    if level == "error":
        text, _, fix = message.partition(". ")
        return Check.fail("CX_HASH_KEY", text, fix=fix)
    return Check.ok("CX_HASH_KEY", "not set: the development key (fine on SQLite for a trial, never in production)")


async def _slack(settings: Settings, config: CxConfig) -> list[Check]:
    from handlers.slack.channels import Workspace

    token: str | None = None
    installations: dict[Workspace, str] | None = None
    if settings.slack_bot_token:
        token = settings.slack_bot_token.get_secret_value()
    elif settings.slack_client_id:
        try:
            installations = _installations(settings)
        except SQLAlchemyError:
            return [Check.skip("slack token", "OAuth: the installations are in the database, which is not usable")]
        if not installations:
            return [
                Check.fail(
                    "slack token",
                    "OAuth (SLACK_CLIENT_ID): no workspace has installed the app yet",
                    fix="run `cxbot serve` and open https://<your server>/slack/install to install it",
                )
            ]
    else:
        return [Check.skip("slack token", "Slack is off (SLACK_BOT_TOKEN is not set)")]
    from slack_sdk.web.async_client import AsyncWebClient

    from handlers.slack.doctor import slack_checks

    client = AsyncWebClient(token=token, base_url=settings.slack_api_url, timeout=15)
    # The channel look-up logs each name it cannot find; the doctor says it once, in its own line.
    channels_log = logging.getLogger("handlers.slack.channels")
    level = channels_log.level
    channels_log.setLevel(logging.ERROR)
    try:
        return await slack_checks(client=client, config=config, installations=installations)
    finally:
        channels_log.setLevel(level)


def _installations(settings: Settings) -> dict[Any, str]:
    """With OAuth, each installed workspace's bot token (each is checked on its own), newest first."""
    from handlers.slack.channels import Workspace
    from handlers.slack.oauth import SqlInstallationStore
    from storage.db import make_engine

    engine = make_engine(settings.database_url)
    try:
        store = SqlInstallationStore(client_id=str(settings.slack_client_id), engine=engine)
        found: dict[Any, str] = {}
        for enterprise_id, team_id, org in store.installed():
            bot = store.find_bot(enterprise_id=enterprise_id, team_id=team_id, is_enterprise_install=org)
            if bot is not None and bot.bot_token:
                found[Workspace(enterprise_id=enterprise_id, team_id=team_id)] = bot.bot_token
        return found
    finally:
        engine.dispose()


async def _teams(settings: Settings, endpoints: Endpoints) -> list[Check]:
    from handlers.teams.doctor import LOGIN_URL, teams_checks

    return await teams_checks(
        settings=settings, emulator=settings.cx_teams_emulator, login_url=endpoints.teams_login_url or LOGIN_URL
    )


async def _model(settings: Settings) -> Check:
    if not settings.openai_model:
        return Check.skip("model", "no OPENAI_MODEL: stories are summarised offline")
    import openai

    key = settings.openai_api_key.get_secret_value() if settings.openai_api_key else "not-needed"
    where = settings.openai_base_url or "https://api.openai.com/v1"
    client = openai.AsyncOpenAI(api_key=key, base_url=settings.openai_base_url, timeout=MODEL_TIMEOUT, max_retries=0)
    try:
        models = [model.id async for model in client.models.list()]
    except openai.AuthenticationError:
        return Check.fail("model", f"{where} refused OPENAI_API_KEY (401)", fix="set OPENAI_API_KEY to a valid key")
    except openai.APIStatusError as exc:
        return Check.fail(
            "model", f"{where}/models answered HTTP {exc.status_code}", fix="check OPENAI_BASE_URL (OpenAI-compatible)"
        )
    except openai.APIError as exc:
        return Check.fail(
            "model", f"cannot reach {where} ({type(exc).__name__})", fix="check OPENAI_BASE_URL and the network"
        )
    finally:
        await client.close()
    if settings.openai_model not in models:
        offered = ", ".join(sorted(models)[:8]) or "none"
        return Check.fail(
            "model",
            f"{where} does not offer {settings.openai_model} (it offers: {offered})",
            fix="set OPENAI_MODEL to one of them",
        )
    return Check.ok("model", f"{settings.openai_model} at {where}")


def _unreachable(places: tuple[str, ...], *, teams: bool, above: list[Check]) -> list[Check]:
    """Why a department's stories cannot be posted where it sends them, from the platforms' checks above: each
    Slack channel's own check (or, when the channels were not checked, the token check that stopped them), and
    Teams' sign-in. A FAIL with its fix, or a skip when a check above was skipped."""
    from handlers.slack.doctor import ChannelCheck

    channels: dict[str, ChannelCheck] = {}
    for check in above:
        if isinstance(check, ChannelCheck):
            channels.setdefault(check.channel, check)
    stopped = next((c for c in above if c.name.startswith("slack token") and c.status != "ok"), None)
    found: list[Check] = []
    for place in places:
        channel = channels.get(place)
        if channel is not None and channel.status == "FAIL":
            found.append(Check.fail(place, f"cannot post to Slack {place} ({channel.found})", fix=channel.fix))
        elif channel is None and stopped is not None:
            detail = f"Slack {place} not checked ({stopped.name}: {stopped.status})"
            found.append(Check(place, stopped.status, detail, stopped.fix))
    sign_in = next((c for c in above if c.name == "teams credentials"), None)
    if teams and sign_in is not None and sign_in.status == "FAIL":
        found.append(Check.fail("teams", "cannot post to Teams (teams credentials: FAIL)", fix=sign_in.fix))
    return found


def _departments(
    settings: Settings,
    config: CxConfig,
    stored: dict[tuple[str, str], str] | None,
    *,
    now: datetime,
    above: list[Check],
) -> list[Check]:
    """Where each department's stories go (a channel on a platform that is on) and its next digest, local time;
    FAIL when a check above found that a place it posts to cannot be posted to (never ok beside that FAIL)."""
    from stories.schedule import next_runs

    if not (settings.slack_enabled or settings.teams_enabled):
        return [
            Check.fail(
                "platforms",
                "neither Slack nor Teams is on: stories reach nobody",
                fix="set SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET (Slack), or MICROSOFT_APP_ID and "
                "MICROSOFT_APP_PASSWORD (Teams); `cxbot slack-app create` makes the Slack app",
            )
        ]
    checks = []
    for department, slot in next_runs(config.departments, now=now):
        places = []
        if settings.slack_enabled and department.slack_channel:
            places.append(f"Slack {', '.join(department.slack_places)}")
        teams = department.teams_channel or (stored or {}).get((department.name, "teams"))
        if settings.teams_enabled and teams:
            places.append("Teams channel linked")
        name = f"department {department.name}"
        if not places:
            fixes = []
            if settings.slack_enabled:
                fixes.append(f"set its slack_channel in {settings.cx_config or 'CX_CONFIG'}")
            if settings.teams_enabled:
                fixes.append(f"type `@cxbot cx link {department.name}` in its Teams channel")
            checks.append(
                Check.fail(
                    name, "no channel on a platform that is on: its stories reach nobody", fix=" or ".join(fixes)
                )
            )
            continue
        if department.delivery == "immediate":
            when = "stories posted as they arrive"
        elif slot is None:
            when = "no next digest (the schedule never fires)"
        else:
            when = f"next digest {slot.local:%a %d %b %H:%M} {department.timezone}"
        slack = department.slack_places if settings.slack_enabled else ()
        problems = _unreachable(slack, teams=settings.teams_enabled and bool(teams), above=above)
        failed = [p for p in problems if p.status == "FAIL"]
        if failed:
            fixes = "; ".join(dict.fromkeys(p.fix for p in failed))
            checks.append(Check.fail(name, f"{'; '.join(p.detail for p in failed)}; {when}", fix=fixes))
        elif problems:
            checks.append(Check.skip(name, f"{'; '.join(p.detail for p in problems)}; {when}"))
        else:
            checks.append(Check.ok(name, f"{', '.join(places)}; {when}"))
    return checks


def report(checks: list[Check]) -> int:
    """Print one line per check; 1 when any failed."""
    for check in checks:
        print(check.line())
    failed = sum(check.status == "FAIL" for check in checks)
    print(f"{failed} problem(s) stop a first story" if failed else "all clear: the first story can come")
    return 1 if failed else 0


def cmd_doctor(args: argparse.Namespace, settings: Settings) -> int:
    return report(asyncio.run(run_checks(settings)))


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    doctor = sub.add_parser(
        "doctor",
        help="check everything a first story needs (tokens, scopes, channels, database, model, Teams), with fixes",
    )
    doctor.set_defaults(func=cmd_doctor)
