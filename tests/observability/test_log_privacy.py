"""Logs at DEBUG, as JSON, while a comment carrying personal data goes through every way in (Slack intake, the
Slack shortcut, a Slack `/cx` command, Teams intake, a Teams `cx commit`, POST /ingest with a language model that
fails once, a CSV import) and out (the dispatcher's posts): no line at INFO or above holds anything a customer
wrote, no line at any level holds the personal data, and the lines carry the request, event and delivery ids."""

from __future__ import annotations

import io
import json
import logging
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from bot.cli import main
from bot.logs import configure
from bot.server import create_web_app
from tests.fakes.openai_server import FakeOpenAI
from tests.slack.conftest import SlackServer, command_fields, fresh_event, payload
from tests.teams.world import FINANCE, INTAKE, World, posted_story

EMAIL = "zelda.quist@example.org"
PHONE = "+44 20 7946 0958"
PHONE_DIGITS = "2079460958"
# Words only the customer wrote: none is in any fixture, configuration or message of ours.
WORDS = ("flamingo", "Quistborough", "marzipan")
COMMENT = (
    f"The flamingo box from Quistborough came crushed, marzipan everywhere; refund me. Mail {EMAIL} or call {PHONE}"
)
TOKEN = "privacy-ingest-token"


@pytest.fixture
def json_logs() -> io.StringIO:
    """The process's logging as ``cxbot serve`` sets it with LOG_LEVEL=DEBUG LOG_FORMAT=json, into a buffer
    (tests/conftest.py undoes it after the test)."""
    stream = io.StringIO()
    configure("DEBUG", fmt="json", stream=stream)
    return stream


def lines(stream: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]


def assert_private(entries: list[dict[str, Any]]) -> None:
    assert entries, "nothing was logged: the test would prove nothing"
    for entry in entries:
        text = json.dumps(entry, ensure_ascii=False)
        flat = "".join(text.split()).replace("-", "")
        assert EMAIL not in text and "zelda" not in text.casefold(), entry
        assert PHONE_DIGITS not in flat, entry
        if logging.getLevelName(entry["level"]) >= logging.INFO:
            for word in WORDS:
                assert word.casefold() not in text.casefold(), entry


async def test_slack_ways_in_and_out_log_ids_and_no_customer_text(slack: SlackServer, json_logs: io.StringIO) -> None:
    event = fresh_event("event_message_channels.json", text=COMMENT, ts="1764270000.000300")
    event["event"].pop("blocks", None)
    assert (await slack.event(event))[0] == 200
    shortcut = payload("shortcut_send_to_cx_stories.json")
    shortcut["message"]["text"] = COMMENT
    shortcut["message"].pop("blocks", None)
    assert (await slack.interact(shortcut))[0] == 200
    assert (await slack.command(command_fields(text=f"actions {EMAIL} flamingo")))[0] == 200
    await slack.settle()
    await slack.api.wait_for("chat.postMessage")

    entries = lines(json_logs)
    assert_private(entries)
    ingested = [e for e in entries if e["message"].startswith("ingested ")]
    assert ingested and all(e.get("event_id", "").startswith("slack:") and e.get("request_id") for e in ingested)
    assert any("delivery_id" in e for e in entries), "the dispatcher's lines carry the delivery id"


async def test_teams_ways_in_log_ids_and_no_customer_text(world: World, json_logs: io.StringIO) -> None:
    cx = await world.start()
    _, card_id = await posted_story(world, cx, text=COMMENT)
    intake = world.load("message_intake", text=COMMENT)
    assert (await cx.post(intake))[0] == 200
    commit = world.load(
        "message_cx_commit_in_thread", text=f"<at>cxbot</at> cx commit call {EMAIL} flamingo by 6 March"
    )
    commit["conversation"]["id"] = f"{FINANCE};messageid={card_id}"
    assert (await cx.post(commit))[0] == 200
    assert INTAKE

    entries = lines(json_logs)
    assert_private(entries)
    assert any(e.get("event_id", "").startswith("teams:") for e in entries)


async def test_ingest_with_a_failing_model_and_a_csv_import_log_no_customer_text(
    make_app,  # type: ignore[no-untyped-def]
    database_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    json_logs: io.StringIO,
) -> None:
    with FakeOpenAI.running() as fake:
        app = make_app(
            cx_ingest_token=TOKEN,
            openai_model="gpt-fake",
            openai_base_url=fake.base_url,
            openai_api_key="sk-test",
            openai_max_retries=0,
        )
        async with TestClient(TestServer(create_web_app(app))) as client:
            fake.queue(raw_content=f"Sure! {COMMENT}")  # an answer that is not JSON: the fallback, logged
            answer = await client.post(
                "/ingest",
                json={"text": COMMENT, "id": "p-1", "segment": EMAIL},
                headers={"Authorization": f"Bearer {TOKEN}", "X-Request-Id": "req-privacy-1"},
            )
            assert answer.status == 200
    csv_file = tmp_path / "comments.csv"
    csv_file.write_text(f"Response ID,Comment,NPS\nc-1,{COMMENT.replace(',', ' ')},2\n", encoding="utf-8")
    for name, value in {
        "DATABASE_URL": database_url,
        "LOG_LEVEL": "DEBUG",
        "LOG_FORMAT": "json",
        "CX_HASH_KEY": "privacy-test-hash-key-0123456789",
    }.items():
        monkeypatch.setenv(name, value)
    assert main(["import", str(csv_file)]) == 0  # logs as `cxbot import` does: JSON to stderr
    imported = [json.loads(line) for line in capsys.readouterr().err.splitlines() if line.startswith("{")]
    assert any(e["message"].startswith("ingested received=1 created=1") for e in imported)
    assert_private(imported)

    entries = lines(json_logs)
    assert_private(entries)
    assert any(e.get("request_id") == "req-privacy-1" and e["message"].startswith("ingested ") for e in entries)
    assert any("fell back" in e["message"] for e in entries)
