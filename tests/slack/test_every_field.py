"""Issue 12.2: personal data in every field, by every way in, leaves no trace in any table cell nor in chat.

A probe comment carries a different seeded value in each field (text, id, segment, channel, source, a `fields`
key and value; the language is a tag, refused otherwise, and the date and scores are not text). It comes in through ``POST /ingest`` and through ``cxbot import``;
employees then type a commitment and a kudos reason quoting a phone number. Every cell of every table is read
back, and every request the fake Slack received, and no seeded value may appear in any of them.
"""

from __future__ import annotations

import asyncio
import csv
import json
import re
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from bot.importer import import_csv
from bot.settings import Settings
from storage.models import Base, Comment, CommentIdentifier
from stories.identifiers import ID_KIND, IdentifierHasher
from tests.fakes.slack_api import FakeSlackApi
from tests.slack.conftest import SlackServer, command_fields, running

TOKEN = "probe-ingest-token"
HASH_KEY = "probe-hash-key-of-32-characters!"

# One seeded value per field; the second element is how it may also appear (digits only, lower case).
SEEDS = {
    "text": "jane.doe@example.com",
    "id": "pat.customer@example.org",
    "segment": "+44 7400 123456",
    "channel": "store.manager@example.net",
    "source": "kiosk+ops@example.io",
    "field_key": "owner@example.co.uk",
    "field_value": "4111 1111 1111 1111",
    "commitment": "+44 20 7946 0958",
    "kudos": "+1 415 555 2671",
}
DIGITS = {name: re.sub(r"\D", "", value) for name, value in SEEDS.items() if value.startswith(("+", "4"))}


def probe(suffix: str) -> dict[str, Any]:
    return {
        "text": f"My refund is late, write to {SEEDS['text']} ({suffix})",
        "id": SEEDS["id"] if suffix == "ingest" else f"csv-{SEEDS['id']}",
        "segment": f"call {SEEDS['segment']}",
        "channel": SEEDS["channel"],
        "source": SEEDS["source"],
        "language": "en-GB",
        "fields": {SEEDS["field_key"]: f"card {SEEDS['field_value']}"},
        "nps": 3,
    }


def leaks(text: str) -> list[str]:
    """The seeded values found in ``text`` (as typed, or as bare digits)."""
    found = [name for name, value in SEEDS.items() if value.lower() in text.lower()]
    squeezed = re.sub(r"[\s().+-]", "", text)  # the digits as they would read with other separators
    return found + [f"{name} (digits)" for name, digits in DIGITS.items() if digits in squeezed]


def every_cell(server: SlackServer) -> dict[str, list[str]]:
    """table -> the text of every cell of every row."""
    cells: dict[str, list[str]] = {}
    with server.app.engine.connect() as conn:
        for table in Base.metadata.sorted_tables:
            rows = conn.execute(select(table)).all()
            cells[table.name] = [json.dumps(value, default=str) for row in rows for value in row]
    return cells


def table_leaks(server: SlackServer) -> dict[str, list[str]]:
    """table -> the seeded values found in its cells."""
    result: dict[str, list[str]] = {}
    for table, cells in every_cell(server).items():
        found = sorted({name for cell in cells for name in leaks(cell)})
        if found:
            result[table] = found
    return result


@pytest.fixture
async def server(slack_api: FakeSlackApi, slack_settings: Callable[..., Settings]) -> AsyncIterator[SlackServer]:
    async with running(slack_settings(cx_ingest_token=TOKEN, cx_hash_key=HASH_KEY), slack_api) as server:
        yield server


async def ingest(server: SlackServer, body: Any) -> dict[str, Any]:
    async with server.session.post(
        f"{server.url}/ingest", json=body, headers={"Authorization": f"Bearer {TOKEN}"}
    ) as response:
        assert response.status == 200, await response.text()
        return dict(await response.json())


def write_csv(path: Path) -> Path:
    item = probe("csv")
    columns = ["text", "id", "segment", "channel", "language", "nps", *item["fields"]]
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(columns)
        writer.writerow([item[c] if c in item else item["fields"][c] for c in columns])
    return path


async def test_a_language_that_is_not_a_language_tag_is_refused_naming_the_field(server: SlackServer) -> None:
    async with server.session.post(
        f"{server.url}/ingest",
        json={"text": "hello", "language": "x@example.de"},
        headers={"Authorization": f"Bearer {TOKEN}"},
    ) as response:
        assert response.status == 400
        assert (await response.json())["error"] == "body.language: must be a language tag such as en, pt-BR or zh-Hant"
    assert server.count(Comment) == 0


async def test_personal_data_in_every_field_leaves_no_cell_and_no_post(server: SlackServer, tmp_path: Path) -> None:
    answer = await ingest(server, probe("ingest"))
    [created] = answer["created"]
    # the id that holds an e-mail is stored, and echoed, as its keyed hash
    assert re.fullmatch(r"h:[0-9a-f]{32}", created["id"])
    assert "Finance" in created["departments"]
    again = await ingest(server, probe("ingest"))  # a retry finds the same (hashed) key
    assert again["created"] == [] and again["duplicates"] == 1

    status = await asyncio.to_thread(import_csv, server.app, write_csv(tmp_path / "probe.csv"), source=SEEDS["source"])
    assert status == 0
    await server.settle()

    story_id = created["story_id"]
    commitment = f"commit #{story_id} call her back on {SEEDS['commitment']}"
    kudos = f"kudos <@U0DANA0001|dana> for calling {SEEDS['kudos']} straight back"
    await server.command(command_fields(text=commitment, user_id="U0MANAGER1", trigger_id="1.2.commit"))
    await server.command(command_fields(text=kudos, user_id="U0CXAGENT1", trigger_id="1.2.kudos"))
    await server.settle()

    with server.app.engine.connect() as conn:
        comments = conn.execute(select(Comment.segment, Comment.origin_channel, Comment.source)).all()
        digests = set(conn.scalars(select(CommentIdentifier.digest)))
    assert len(comments) == 2
    assert [(c.segment, c.origin_channel) for c in comments] == [("call [phone]", "[email]")] * 2
    posts = server.api.calls_to("chat.postMessage", ok_only=True)
    assert {p.params["channel"] for p in posts} >= {"C0FINANCE1", "C0KUDOS001"}  # the probes were posted
    assert "[phone]" in " ".join(p.payload_text() for p in posts)  # the segment is quoted, redacted

    assert table_leaks(server) == {}
    sent = {f"{call.method} #{i}": leaks(call.payload_text()) for i, call in enumerate(server.api.calls)}
    assert {k: v for k, v in sent.items() if v} == {}

    # every removed value, whatever field carried it, can be found again by its keyed hash (erasure)
    hasher = IdentifierHasher(key=HASH_KEY.encode())
    for kind, value in [
        ("email", SEEDS["text"]),
        ("email", SEEDS["channel"]),
        ("email", SEEDS["source"]),
        ("email", SEEDS["field_key"]),
        ("email", SEEDS["id"]),
        ("phone", "+447400123456"),
        ("card", "4111111111111111"),
        (ID_KIND, SEEDS["id"]),
    ]:
        assert hasher.digest(kind, value) in digests, (kind, value)
