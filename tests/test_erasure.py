"""Erasure end to end (issue 12.4): comments taken in and posted over HTTP to the fake Slack and the fake Bot
Framework connector, then ``cxbot forget``: no cell of any table keeps anything of the forgotten comments, their
messages are deleted (or a digest redrawn without them) in both fakes, and everybody else's data stays."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, inspect, select, text

import tests.teams.world as teams_world
from bot.cli import main
from bot.dispatch import connect_notifiers
from bot.forget import forget_async
from handlers.slack.client import web_client
from handlers.slack.notifier import SlackNotifier
from storage.models import Comment, Delivery, Kudos, Story, SummaryCache
from stories.config import CxConfig, Department, People, Redaction, Rule
from stories.erasure import PostedRecord, chat_removals, identifier_digests
from stories.followup import NewCommitment
from stories.identifiers import IdentifierHasher
from stories.kudos import NewKudos
from stories.models import IncomingComment
from stories.outbox import Outgoing
from stories.patterns import Pattern, PatternReport, TopStory
from stories.ports import PostedMessage
from stories.redaction import PiiRedactor
from tests.fakes.bf_connector import FakeConnector
from tests.fakes.openai_server import FakeOpenAI
from tests.fakes.slack_api import DEFAULT_TOKEN, FakeSlackApi
from tests.teams.world import CARLA, FINANCE, World, posted_story

FIN_SLACK = "C0FINANCE1"
CX_SLACK = "C0CXTEAM01"
CONFIG = CxConfig(
    default_department="CX Team",
    departments=(
        Department(name="CX Team", slack_channel=CX_SLACK),
        Department(name="Finance & Billing", delivery="immediate", slack_channel=FIN_SLACK),
    ),
    rules=(Rule(id="money", department="Finance & Billing", keywords=("invoice", "refund")),),
    cx_team=People(users=(CARLA,)),
    redaction=Redaction(default_region="GB"),
)
# Jane's two comments carry words nobody else uses, so any trace of them in any cell is found by a plain search.
JANE_1 = "Zanzibar marmalade invoice charged twice, write to Jane.Doe@Example.com please"
JANE_2 = "Quetzal lanterns were lovely; call me on 07911 123456 if you need, jane.doe@example.com"
BOB_1 = "My refund for invoice 88 never came"
BOB_2 = "The store was tidy and bright"
JANE_TRACES = ("zanzibar", "marmalade", "quetzal", "lantern", "jane.doe", "7911 123456")


def cells(engine: Engine) -> list[tuple[str, str]]:
    """Every cell of every table, as (table, text), lower-cased."""
    found = []
    with engine.connect() as conn:
        for table in inspect(conn).get_table_names():
            for row in conn.execute(text(f'SELECT * FROM "{table}"')):
                for value in row:
                    shown = json.dumps(value) if isinstance(value, dict | list) else str(value)
                    found.append((table, shown.lower()))
    return found


def traces(engine: Engine, needles: tuple[str, ...]) -> list[tuple[str, str]]:
    return [(table, cell[:120]) for table, cell in cells(engine) if any(n in cell for n in needles)]


def chat_text(message: Any) -> str:
    return json.dumps(message).lower()


@pytest.fixture
async def slack() -> AsyncIterator[FakeSlackApi]:
    async with FakeSlackApi() as fake:
        yield fake


@pytest.fixture
async def model() -> AsyncIterator[FakeOpenAI]:
    fake = await FakeOpenAI().start()
    yield fake
    await fake.close()


async def test_forgetting_an_email_leaves_no_cell_and_no_message_and_spares_everyone_else(
    database_url: str,
    slack: FakeSlackApi,
    model: FakeOpenAI,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setattr(teams_world, "CONFIG", CONFIG)
    async with FakeConnector() as connector:
        world = World(database_url, connector)
        cx = await world.start(
            slack_bot_token=DEFAULT_TOKEN,
            slack_signing_secret="test-signing-secret",
            slack_api_url=slack.base_url,
            openai_model="fake-model",
            openai_base_url=model.base_url,
            openai_api_key="not-needed",
            cx_hash_key="a-test-key-of-some-length",
        )
        app = cx.app
        try:
            assert (await cx.post(world.load("message_cx_link")))[0] == 200  # Finance's Teams channel
            connect_notifiers(app)
            incoming = [
                IncomingComment(text=JANE_1, source="webhook", external_id="jane-1"),
                IncomingComment(text=BOB_1, source="webhook", external_id="bob-1"),
                IncomingComment(text=JANE_2, source="webhook", external_id="jane-2"),
                IncomingComment(text=BOB_2, source="webhook", external_id="bob-2"),
            ]
            report = await asyncio.to_thread(app.take_in, incoming)
            jane_1, bob_1, jane_2, bob_2 = [c.story_id for c in report.created]
            # a commitment on Jane's story, its note in the story's threads, a reaction, kudos that name it
            app.followups.add_commitment(
                NewCommitment(
                    key="commit:1",
                    story_id=jane_1,
                    department="Finance & Billing",
                    owner="U0FIONA001",
                    owner_name="Fiona",
                    created_by="U0FIONA001",
                    platform="slack",
                    what="refund the Zanzibar order",
                    due=date(2026, 3, 6),
                    created_at=datetime.now(UTC),
                ),
                today=date(2026, 3, 2),
            )
            app.followups.set_reaction(
                story_id=jane_1, platform="slack", user_id="U0FIONA001", emoji="eyes", added=True, now=datetime.now(UTC)
            )
            kudos = app.followups.add_kudos(
                NewKudos(
                    key="kudos:1",
                    giver=CARLA,
                    receiver="U0DANA0001",
                    why="for the same-day call back",
                    story_id=jane_2,
                    platform="slack",
                    source="cx_team",
                    created_at=datetime.now(UTC),
                )
            )
            assert await cx.deliver() >= 4  # two story cards on each platform
            now = datetime.now(UTC)
            app.outbox.enqueue(
                [
                    Outgoing(
                        key=f"commit:1:{platform}:{channel}",
                        kind="reply",
                        platform=platform,
                        channel=channel,
                        story_id=jane_1,
                        department="Finance & Billing",
                        payload={"text": "Fiona will follow up: refund the Zanzibar order"},
                    )
                    for platform, channel in (("slack", FIN_SLACK), ("teams", FINANCE))
                ]
                + [
                    Outgoing(
                        key="digest:CX Team:slack:x",
                        kind="digest",
                        platform="slack",
                        channel=CX_SLACK,
                        department="CX Team",
                        payload={
                            "story_ids": [jane_2, bob_2],
                            "since": (now - timedelta(days=1)).isoformat(),
                            "until": now.isoformat(),
                            "total": 2,
                        },
                    ),
                    Outgoing(
                        key="digest:Finance:teams:x",
                        kind="digest",
                        platform="teams",
                        channel=FINANCE,
                        department="Finance & Billing",
                        payload={
                            "story_ids": [jane_1, bob_1],
                            "since": (now - timedelta(days=1)).isoformat(),
                            "until": now.isoformat(),
                            "total": 2,
                        },
                    ),
                ]
            )
            assert await cx.deliver() == 4
            # a weekly report not yet posted that quotes Jane (its stored copy must lose the quote)
            report_week = (now - timedelta(days=7), now)
            app.outbox.enqueue(
                [
                    Outgoing(
                        key="report:CX Team:slack:x",
                        kind="report",
                        platform="slack",
                        channel=CX_SLACK,
                        department="CX Team",
                        payload=PatternReport(
                            department="CX Team",
                            week_start=report_week[0],
                            week_end=report_week[1],
                            stories=2,
                            patterns=(
                                Pattern("quetzal lanterns", "similar", 2, 0.0, JANE_2[:40], jane_2),
                                Pattern("tidy", "theme", 1, 0.0, BOB_2, bob_2),
                            ),
                            weeks=(),
                            commitments_opened=1,
                            commitments_closed=0,
                            top_story=TopStory(jane_2, "Quetzal lanterns", 3),
                        ).to_payload(),
                        not_before=now + timedelta(days=1),
                    )
                ]
            )
            assert traces(app.engine, JANE_TRACES)  # the scan sees Jane before she is forgotten
            assert any("zanzibar" in chat_text(m) for m in slack.messages.values())
            assert any("zanzibar" in chat_text(m) for m in connector.messages.values())
            assert any("quetzal" in chat_text(m) for m in slack.messages.values())
            with app.engine.connect() as conn:
                assert conn.scalar(select(SummaryCache.content_hash).limit(1)) is not None  # the model's answers
            digest_ts = next(ts for (channel, ts) in slack.messages if channel == CX_SLACK)
            teams_digest = next(
                str(c.response["id"])
                for c in connector.calls_of("send")
                if "finance & billing: customer stories" in c.payload_text().lower()
            )
            slack_before = dict(slack.messages)
            teams_before = dict(connector.messages)
            capsys.readouterr()

            assert await forget_async(app, identifier="jane.doe@example.com", send=True) == 0

            printed = capsys.readouterr().out
            assert "erased 2 comment(s)" in printed
            assert "comments: 2" in printed and "commitments: 1" in printed and "reactions: 1" in printed
            assert "summary_cache: 2" in printed and "kudos (unlinked, kept): 1" in printed
            assert "4 deleted, 2 digests updated, 0 queued for the serving bot, 0 failed" in printed
            # the database: nothing of Jane's in any cell of any table
            assert traces(app.engine, JANE_TRACES) == []
            with app.engine.connect() as conn:
                assert sorted(conn.scalars(select(Comment.external_id))) == ["bob-1", "bob-2"]
                assert sorted(conn.scalars(select(Story.id))) == [bob_1, bob_2]
                assert conn.scalar(select(Kudos.story_id).where(Kudos.id == kudos)) is None
                assert conn.scalar(select(SummaryCache.content_hash).limit(1)) is not None  # Bob's stay
                report_payload = conn.scalar(select(Delivery.payload).where(Delivery.key == "report:CX Team:slack:x"))
            assert [(p["label"], p["count"], p["quote"]) for p in report_payload["patterns"]] == [
                ("similar comments", 2, "(removed at the customer's request)"),
                ("tidy", 1, BOB_2),
            ]
            assert report_payload["top_story"] is None
            # Slack: Jane's card and its thread reply deleted, the digest redrawn with Bob's story only
            deletes = {(c.params["channel"], c.params["ts"]) for c in slack.calls_to("chat.delete", ok_only=True)}
            gone = {key for key in slack_before if key not in slack.messages}
            assert deletes == gone and len(gone) == 2 and all(channel == FIN_SLACK for channel, _ in gone)
            assert all("zanzibar" in chat_text(slack_before[key]) for key in gone)
            (update,) = slack.calls_to("chat.update", ok_only=True)
            assert (update.params["channel"], update.params["ts"]) == (CX_SLACK, digest_ts)
            redrawn = update.payload_text().lower()
            assert "quetzal" not in redrawn and "tidy" in redrawn
            assert "1 story removed at the customer's request" in redrawn
            assert not any(any(t in chat_text(m) for t in JANE_TRACES) for m in slack.messages.values())
            assert any("refund for invoice" in chat_text(m) for m in slack.messages.values())  # Bob's card stays
            # Teams: Jane's card and its reply deleted through the connector
            removed = connector.calls_of("delete")
            assert len(removed) == 2 and all(c.conversation_id == FINANCE for c in removed)
            assert {c.activity_id for c in removed} == {
                activity for (_, activity) in teams_before if (FINANCE, activity) not in connector.messages
            }
            (redrawn_card,) = connector.calls_of("update")
            assert redrawn_card.conversation_id == FINANCE and redrawn_card.activity_id == teams_digest
            card_text = redrawn_card.payload_text().lower()
            assert "zanzibar" not in card_text and "refund for invoice" in card_text
            assert "1 story removed at the customer's request" in card_text
            assert not any(any(t in chat_text(m) for t in JANE_TRACES) for m in connector.messages.values())
            assert any("refund for invoice" in chat_text(m) for m in connector.messages.values())

            # twice is harmless: nothing found, nothing sent
            calls = (len(slack.calls), len(connector.calls))
            assert await forget_async(app, identifier="jane.doe@example.com", send=True) == 0
            assert "nothing to erase" in capsys.readouterr().out
            assert (len(slack.calls), len(connector.calls)) == calls
        finally:
            await world.close()


async def test_forget_by_comment_id_and_by_phone_in_another_form(
    database_url: str, slack: FakeSlackApi, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(teams_world, "CONFIG", CONFIG)
    async with FakeConnector() as connector:
        world = World(database_url, connector)
        cx = await world.start(
            slack_bot_token=DEFAULT_TOKEN, slack_signing_secret="test-signing-secret", slack_api_url=slack.base_url
        )
        app = cx.app
        try:
            connect_notifiers(app)
            report = await asyncio.to_thread(
                app.take_in,
                [
                    IncomingComment(text=BOB_1, source="webhook", external_id="bob-1"),
                    IncomingComment(text=JANE_2, source="webhook", external_id="jane-2"),
                ],
            )
            bob_1, jane_2 = [c.story_id for c in report.created]
            assert await cx.deliver() == 1  # Bob's invoice goes to Finance at once
            with app.engine.connect() as conn:
                bob_comment = conn.scalar(select(Story.comment_id).where(Story.id == bob_1))

            assert await forget_async(app, identifier=None, comment=bob_comment, send=True) == 0
            assert "erased 1 comment(s)" in capsys.readouterr().out
            assert [c.params["channel"] for c in slack.calls_to("chat.delete", ok_only=True)] == [FIN_SLACK]
            assert traces(app.engine, ("refund for invoice 88",)) == []

            # the phone number as the customer writes it elsewhere: the redactor's canonical form matches
            assert await forget_async(app, identifier="+44 7911 123456", send=False) == 0
            assert "erased 1 comment(s)" in capsys.readouterr().out
            assert traces(app.engine, JANE_TRACES) == []
            with app.engine.connect() as conn:
                assert conn.scalar(select(Story.id).where(Story.id == jane_2)) is None
        finally:
            await world.close()


def test_identifier_digests_are_the_pipelines_in_canonical_form() -> None:
    hasher = IdentifierHasher(key=b"0123456789abcdef")
    redactor = PiiRedactor(default_region="GB")
    national = identifier_digests("07911 123456", redactor=redactor, hasher=hasher)
    international = identifier_digests("+44 7911 123456", redactor=redactor, hasher=hasher)
    assert hasher.digest("phone", "+447911123456") in set(national) & set(international)
    assert hasher.digest("id", "cust-42") in identifier_digests(" cust-42 ", redactor=redactor, hasher=hasher)
    # Not an allocated UK range: the library reads it as German, but the customer writes it with +44.
    unallocated = identifier_digests("call 07911 654321", redactor=redactor, hasher=hasher)
    assert set(identifier_digests("+44 7911 654321", redactor=redactor, hasher=hasher)) & set(unallocated)
    assert not set(identifier_digests("+44 7911 654322", redactor=redactor, hasher=hasher)) & set(unallocated)
    with pytest.raises(ValueError, match="empty"):
        identifier_digests("  ", redactor=redactor, hasher=hasher)


def test_a_digest_keeps_its_other_stories_and_a_second_erasure_gets_its_own_update() -> None:
    digest = PostedRecord("slack", "C1", "1.1", "digest", frozenset({1, 2, 3}), "digest:x", "Ops")
    card = PostedRecord("slack", "C1", "1.2", "story", frozenset({1}))
    first = chat_removals([digest, card, card], erased=[1])
    assert [(o.key, o.payload["action"]) for o in first] == [
        ("erase:slack:C1:1.2", "delete"),
        ("erase:slack:C1:1.1:keeps:2", "digest"),
    ]
    assert first[1].payload["digest_key"] == "digest:x" and first[1].department == "Ops"
    later = chat_removals([PostedRecord("slack", "C1", "1.1", "digest", frozenset({2, 3}), "digest:x")], erased=[2])
    assert [o.key for o in later] == ["erase:slack:C1:1.1:keeps:1"]
    last = chat_removals([PostedRecord("slack", "C1", "1.1", "digest", frozenset({3}), "digest:x")], erased=[3])
    assert [(o.key, o.payload["action"]) for o in last] == [("erase:slack:C1:1.1", "delete")]


def test_cxbot_forget_from_the_command_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'cx.db'}")
    monkeypatch.setenv("CX_HASH_KEY", "a-test-key-of-some-length")
    export = tmp_path / "export.csv"
    export.write_text(
        "id,comment,nps\nR1,Zanzibar invoice wrong; mail jane.doe@example.com,3\nR2,Lovely staff,10\n", encoding="utf-8"
    )
    assert main(["db", "upgrade"]) == 0
    assert main(["import", str(export)]) == 0
    capsys.readouterr()
    assert main(["forget", "Jane.Doe@Example.com"]) == 0
    out = capsys.readouterr().out
    assert "erased 1 comment(s)" in out and "comments: 1" in out and "0 deleted" in out
    assert main(["forget", "--story", "2"]) == 0  # R2's story
    assert "erased 1 comment(s)" in capsys.readouterr().out
    assert main(["forget", "R1"]) == 0
    assert "nothing to erase" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        main(["forget"])  # an identifier, --comment or --story is required


async def test_deleting_a_message_already_gone_counts_as_deleted(database_url: str, slack: FakeSlackApi) -> None:
    notifier = SlackNotifier(client=web_client(base_url=slack.base_url, token=DEFAULT_TOKEN))
    posted = await notifier.post_text(channel=FIN_SLACK, text="hello")
    await notifier.delete_message(message=posted)
    await notifier.delete_message(message=posted)  # a retry after the first answer was lost
    answers = [c.response.get("error", "ok") for c in slack.calls_to("chat.delete")]
    assert answers == ["ok", "message_not_found"] and (FIN_SLACK, posted.message_id) not in slack.messages

    async with FakeConnector() as connector:
        world = World(database_url, connector)
        cx = await world.start()
        try:
            _, message_id = await posted_story(world, cx)
            card = PostedMessage(FINANCE, message_id)
            await cx.teams.notifier.delete_message(message=card)
            await cx.teams.notifier.delete_message(message=card)
        finally:
            await world.close()
    statuses = [c.status for c in connector.calls if c.kind == "delete"]
    assert statuses == [200, 404] and (FINANCE, message_id) not in connector.messages
