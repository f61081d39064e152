"""``cxbot schedule``, ``cxbot digest --dry-run`` and ``cxbot digest --department NAME --now`` as an admin runs
them: the real command line, settings from the environment, Slack being the fake Web API over HTTP."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml

from bot import schedule_cli
from bot.cli import main
from tests.fakes.slack_api import DEFAULT_TOKEN, FakeSlackApi
from tests.scheduling.world import CONFIG, add_story, make_app

# Fixed instants across the day and week (the tests once read the real clock, so they depended on the hour they
# ran at): just after Ops' 09:00 Berlin slot, mid-afternoon, and late on a Friday night in UTC (Saturday in Berlin).
INSTANTS = [
    datetime(2026, 3, 2, 8, 3, tzinfo=UTC),
    datetime(2026, 3, 4, 14, 58, tzinfo=UTC),
    datetime(2026, 3, 6, 23, 50, tzinfo=UTC),
]


@pytest.fixture(params=INSTANTS, ids=lambda at: f"{at:%a-%H%M}")
def now(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> datetime:
    at: datetime = request.param
    monkeypatch.setattr(schedule_cli, "clock", lambda: at)
    return at


@pytest.fixture
def config_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "cxbot.yaml"
    path.write_text(yaml.safe_dump(CONFIG.model_dump(mode="json")))
    monkeypatch.setenv("CX_CONFIG", str(path))
    return path


def test_schedule_lists_each_departments_next_digest_in_its_timezone(
    config_file: Path, now: datetime, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["schedule"]) == 0
    out = capsys.readouterr().out
    for department in CONFIG.departments:
        assert department.name in out and department.timezone in out and department.schedule in out
    assert "Reminders: 09:00 in each department's timezone, weekdays" in out


def test_digest_dry_run_prints_what_would_be_posted_where_and_posts_nothing(
    database_url: str,
    config_file: Path,
    now: datetime,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    app = make_app(database_url)
    try:
        add_story(app, "The parcel came late and the box was crushed", at=now - timedelta(minutes=1), key="a")
        add_story(app, "The invoice charged me twice", at=now - timedelta(minutes=1), key="b")
        monkeypatch.setenv("DATABASE_URL", database_url)
        assert main(["digest", "--dry-run"]) == 0
        counts = app.outbox.counts()
    finally:
        app.close()
    out = capsys.readouterr().out
    assert "== Ops -> slack C0OPS00001 (digest; next digest" in out
    assert "== Finance -> slack C0FINANCE1" in out
    assert "The parcel came late" in out and "invoice charged me twice" in out.lower()
    assert out.rstrip().endswith("dry run: nothing was queued or posted")
    assert counts == {}


def test_unknown_department_is_refused_with_the_known_ones(
    database_url: str, config_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_app(database_url).close()
    monkeypatch.setenv("DATABASE_URL", database_url)
    with pytest.raises(SystemExit, match="unknown department 'Legal'; use one of 'Ops', 'Finance'"):
        main(["digest", "--department", "Legal", "--dry-run"])


async def test_digest_now_posts_the_departments_digest_and_the_next_one_starts_there(
    database_url: str,
    config_file: Path,
    now: datetime,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    async with FakeSlackApi() as slack:
        app = make_app(database_url)
        try:
            add_story(app, "The parcel came late", at=now - timedelta(minutes=1), key="a")
            for name, value in {
                "DATABASE_URL": database_url,
                "SLACK_BOT_TOKEN": DEFAULT_TOKEN,
                "SLACK_SIGNING_SECRET": "test-signing-secret",
                "SLACK_API_URL": slack.base_url,
            }.items():
                monkeypatch.setenv(name, value)
            code = await asyncio.to_thread(main, ["digest", "--department", "ops", "--now"])
            again = await asyncio.to_thread(main, ["digest", "--department", "Ops", "--now"])
            last = app.outbox.last_digest_until(department="Ops", platform="slack")
        finally:
            app.close()
    out = capsys.readouterr().out
    assert (code, again) == (0, 0)
    (post,) = slack.calls_to("chat.postMessage", ok_only=True)
    assert post.params["channel"] == "C0OPS00001"
    assert post.params["metadata"]["event_payload"]["key"].startswith("digest:Ops:slack:now ")
    assert ": sent" in out and "nothing new since the last digest" in out  # the second run found nothing new
    assert last == now
