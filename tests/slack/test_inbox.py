"""An acknowledged Slack event is never lost to a crash: it is stored (encrypted) before the ack, handled after
it, and replayed from the inbox by any replica when its work never finished. Over real HTTP to cxbot and the fake
Slack Web API, on SQLite and PostgreSQL (``database_url``)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select, update

from bot.settings import Settings
from handlers.slack import interactive
from handlers.slack.context import SlackContext
from handlers.slack.events import replay_work
from handlers.slack.inbox import replay
from storage.models import Comment, Commitment, InboxEvent, ProcessedEvent, Story
from tests.fakes.slack_api import FakeSlackApi
from tests.slack import test_commands as commands
from tests.slack import test_followup as followup
from tests.slack.conftest import SlackServer, command_fields, fresh_event, payload, running
from tests.slack.test_socket_mode import APP_TOKEN
from tests.timing import eventually

TEXT = "I was charged twice on my invoice and nobody called me back"


def intake_event() -> dict[str, Any]:
    return fresh_event("event_message_channels.json", text=TEXT)


def lease_runs_out(server: SlackServer) -> None:
    """What ten minutes without the accepting replica finishing does: its lease on the event has passed."""
    with server.app.engine.begin() as conn:
        conn.execute(update(InboxEvent).values(lease_until=datetime.now(UTC) - timedelta(seconds=1)))


def inbox_rows(server: SlackServer) -> list[Any]:
    with server.app.engine.connect() as conn:
        return list(conn.execute(select(InboxEvent)).all())


async def test_an_event_acknowledged_then_crashed_on_is_replayed_once_by_the_next_instance(
    slack_api: FakeSlackApi, slack_settings: Callable[..., Settings]
) -> None:
    body = intake_event()
    async with running(slack_settings(cx_instance="first"), slack_api) as first:
        assert first.app.slack is not None
        # the process dies right after the ack: the work after it never runs
        first.app.slack.context.background.handle = lambda *_a, **_k: None  # type: ignore[method-assign]
        status, _, _ = await first.event(body)
        assert status == 200
        rows = inbox_rows(first)
        assert [(r.key, r.kind, r.state) for r in rows] == [(f"slack:event:{body['event_id']}", "message", "pending")]
        assert b"charged" not in rows[0].sealed and b"invoice" not in rows[0].sealed  # encrypted at rest
        assert first.count(Comment) == 0
        lease_runs_out(first)

    async with running(slack_settings(cx_instance="second"), slack_api) as second:
        await eventually(  # replayed at start
            lambda: second.count(Comment) == 1 and not inbox_rows(second), what="the event replayed at start"
        )
        await second.settle()
        status, _, _ = await second.event(body, headers={"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "timeout"})
        assert status == 200
        assert second.app.slack is not None
        context = second.app.slack.context
        assert await replay(context, replay_work(context, _bot_client(second))) == 0
        await second.settle()
        assert second.count(Comment) == 1 and second.count(Story) == 1
        posted = slack_api.calls_to("chat.postMessage")
        assert [call.params["channel"] for call in posted] == ["C0FINANCE1"]
        assert "charged twice" in str(posted[0].params["blocks"])
        assert len(slack_api.calls_to("chat.postEphemeral")) == 1


async def test_work_that_fails_stays_in_the_inbox_and_its_replay_handles_it_once(
    slack: SlackServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    intake = slack.app.intake
    real = intake.take_in
    failures = []

    def fails_once(*args: Any, **kwargs: Any) -> Any:
        if not failures:
            failures.append(1)
            raise ConnectionError("the database went away mid-work")
        return real(*args, **kwargs)

    monkeypatch.setattr(intake, "take_in", fails_once)
    status, _, _ = await slack.event(intake_event())
    assert status == 200
    await slack.settle()
    rows = inbox_rows(slack)
    assert [(r.state, r.attempts, r.last_error) for r in rows] == [("pending", 1, "ConnectionError")]
    assert rows[0].lease_until > datetime.now(UTC)  # a back-off before its replay
    assert slack.count(Comment) == 0

    lease_runs_out(slack)
    assert slack.app.slack is not None
    context = slack.app.slack.context
    work_for = replay_work(context, _bot_client(slack))
    assert await replay(context, work_for) == 1
    await slack.settle()
    assert await replay(context, work_for) == 0
    assert slack.count(Comment) == 1 and inbox_rows(slack) == []
    assert [call.params["channel"] for call in slack.api.calls_to("chat.postMessage")] == ["C0FINANCE1"]


async def test_an_event_that_cannot_be_stored_is_not_acknowledged_and_its_retry_is_taken_in(
    slack: SlackServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    inbox = slack.app.core.inbox

    async def database_down(*_a: Any, **_kw: Any) -> list[bool]:
        raise ConnectionError("database down")

    monkeypatch.setattr(inbox, "accept_async", database_down)
    body = intake_event()
    status, answer, _ = await slack.event(body)
    assert status == 503 and b"retry" in answer  # Slack sends it again
    assert slack.count(ProcessedEvent) == 0

    monkeypatch.undo()
    status, _, _ = await slack.event(body, headers={"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_error"})
    assert status == 200
    await slack.settle()
    assert slack.count(Comment) == 1 and inbox_rows(slack) == []


async def test_a_reaction_left_in_the_inbox_is_replayed(slack: SlackServer, monkeypatch: pytest.MonkeyPatch) -> None:
    """Reactions go through the inbox too (their work is serialised per message, user and emoji)."""
    assert slack.app.slack is not None
    context = slack.app.slack.context
    handled: list[str] = []
    monkeypatch.setattr(context.background, "handle", lambda key, *_a, **_k: handled.append(key))
    body = fresh_event(
        "event_message_channels.json",
        type="reaction_added",
        reaction="white_check_mark",
        item={"type": "message", "channel": "C0FINANCE1", "ts": "1764270000.000200"},
    )
    status, _, _ = await slack.event(body)
    assert status == 200
    assert [r.kind for r in inbox_rows(slack)] == ["reaction_added"]  # stored before the answer
    await context.background.drain(5)
    assert handled == [f"slack:event:{body['event_id']}"]
    monkeypatch.undo()
    lease_runs_out(slack)
    assert await replay(context, replay_work(context, _bot_client(slack))) == 1
    await context.background.drain(5)
    assert inbox_rows(slack) == []


def _bot_client(server: SlackServer) -> Any:
    assert server.app.slack is not None
    client = server.app.slack.client

    async def client_for(_body: Any) -> Any:
        return client

    return client_for


# --- commands, clicks, forms and the shortcut (handlers/slack/kept.py) ------------------------------------------


def crash_after_ack(server: SlackServer) -> None:
    """The process dies right after its acks: the work after them never runs."""
    assert server.app.slack is not None
    server.app.slack.context.background.handle = lambda *_a, **_k: None  # type: ignore[method-assign]


async def test_a_command_acknowledged_then_crashed_on_is_answered_once_by_the_next_instance(
    slack_api: FakeSlackApi, slack_settings: Callable[..., Settings]
) -> None:
    fields = command_fields(text=f"story {TEXT}", user_id="U0MANAGER1", trigger_id="1764271600.77.crash")
    async with running(slack_settings(cx_instance="first"), slack_api) as first:
        crash_after_ack(first)
        status, answer, _ = await first.command(fields)
        assert status == 200 and answer == b""
        rows = inbox_rows(first)
        assert [(r.key, r.kind) for r in rows] == [("slack:command:1764271600.77.crash", "command")]
        assert b"charged" not in rows[0].sealed  # the customer's words, encrypted at rest
        assert first.count(Comment) == 0 and slack_api.calls_to("response_url") == []
        lease_runs_out(first)

    async with running(slack_settings(cx_instance="second"), slack_api) as second:
        await eventually(lambda: len(slack_api.calls_to("response_url")) == 1 and not inbox_rows(second))
        await second.settle()
        assert second.count(Comment) == 1
        assert slack_api.calls_to("response_url")[0].params["response_type"] == "ephemeral"
        status, _, _ = await second.command(fields)  # Slack resending it: already handled, not redone
        assert status == 200
        await second.settle()
        assert second.count(Comment) == 1 and len(slack_api.calls_to("response_url")) == 1


async def test_a_mark_done_click_acknowledged_then_crashed_on_closes_the_commitment_once(
    slack_api: FakeSlackApi, slack_settings: Callable[..., Settings]
) -> None:
    async with running(slack_settings(cx_instance="first"), slack_api) as first:
        story_id, ts = await commands._story(first)
        commitment = commands._commit(first, story_id, what="Call the customer")
        await first.settle()
        listing = await commands._run(first, "actions")
        crash_after_ack(first)
        status, _, _ = await first.interact(commands._click(listing, "commitment_done"))
        assert status == 200
        assert [r.kind for r in inbox_rows(first)] == ["commitment_done"]
        lease_runs_out(first)
    answers = len(slack_api.calls_to("response_url"))

    async with running(slack_settings(cx_instance="second"), slack_api) as second:
        await eventually(lambda: not inbox_rows(second))
        await second.settle()
        assert second.count(Commitment, Commitment.id == commitment, Commitment.state == "done") == 1
        closed = [
            c for c in slack_api.calls_to("chat.postMessage", ok_only=True) if "Closed the loop" in c.params["text"]
        ]
        assert len(closed) == 1 and closed[0].params["thread_ts"] == ts
        refreshed = slack_api.calls_to("response_url")[answers:]
        assert len(refreshed) == 1 and refreshed[0].params["replace_original"] is True
        assert second.app.slack is not None
        context = second.app.slack.context
        assert await replay(context, interactive.replay_work(context, _bot_client(second))) == 0


async def test_a_form_submitted_then_crashed_on_makes_its_commitment_once(
    slack_api: FakeSlackApi, slack_settings: Callable[..., Settings]
) -> None:
    async with running(slack_settings(cx_instance="first"), slack_api) as first:
        story_id, ts = await followup._story_in_finance(first)
        opened = await followup._open_follow_up(first, story_id, ts, "1764271100.001300")
        crash_after_ack(first)
        status, answer, _ = await first.interact(followup._submission("view_submission_follow_up.json", opened))
        assert status == 200 and answer in (b"", b"{}")
        assert [r.kind for r in inbox_rows(first)] == ["view:follow_up_submit"]
        assert first.count(Commitment) == 0
        lease_runs_out(first)

    async with running(slack_settings(cx_instance="second"), slack_api) as second:
        await eventually(lambda: not inbox_rows(second))
        await second.settle()
        assert second.count(Commitment, Commitment.story_id == story_id) == 1
        assert "Noted" in slack_api.calls_to("chat.postEphemeral")[-1].payload_text()


async def test_a_shortcut_acknowledged_then_crashed_on_takes_the_message_in_once(
    slack_api: FakeSlackApi, slack_settings: Callable[..., Settings]
) -> None:
    body = payload("shortcut_send_to_cx_stories.json")
    async with running(slack_settings(cx_instance="first"), slack_api) as first:
        crash_after_ack(first)
        status, _, _ = await first.interact(body)
        assert status == 200 and [r.kind for r in inbox_rows(first)] == ["shortcut"]
        status, _, _ = await first.interact(body)  # Slack's retry: kept once
        assert status == 200 and len(inbox_rows(first)) == 1
        lease_runs_out(first)

    async with running(slack_settings(cx_instance="second"), slack_api) as second:
        await eventually(lambda: len(slack_api.calls_to("response_url")) == 1 and not inbox_rows(second))
        await second.settle()
        assert second.count(Comment) == 1
        assert "Finance" in slack_api.calls_to("response_url")[0].payload_text()


async def test_a_replay_after_the_response_url_expired_does_the_work_without_the_answer(
    slack_api: FakeSlackApi, slack_settings: Callable[..., Settings], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Slack honours a response_url for 30 minutes: a command replayed later is still run (the comment is taken in),
    its private answer is dropped; a page of a list (only a read) is dropped whole."""
    fields = command_fields(text=f"story {TEXT}", user_id="U0MANAGER1", trigger_id="1764271600.77.late")
    async with running(slack_settings(cx_instance="first"), slack_api) as first:
        crash_after_ack(first)
        long_ago = datetime.now(UTC) - timedelta(minutes=40)
        monkeypatch.setattr(SlackContext, "clock", property(lambda _self: lambda: long_ago))
        await first.command(fields)
        page = commands.payload("block_actions_commitment_done.json")
        page["actions"][0].update(action_id="actions_page", value="actions 2", action_ts="1764271300.5")
        await first.interact(page)
        assert sorted(r.kind for r in inbox_rows(first)) == ["actions_page", "command"]
        monkeypatch.undo()
    lease_runs_out(first)  # the first instance's own replay may have claimed them (their lease began 40 min ago)
    answers = len(slack_api.calls_to("response_url"))

    async with running(slack_settings(cx_instance="second"), slack_api) as second:
        await eventually(lambda: not inbox_rows(second))
        await second.settle()
        assert second.count(Comment) == 1
        assert len(slack_api.calls_to("response_url")) == answers  # no answer to an expired response_url


async def test_socket_mode_keeps_a_command_before_its_ack(
    slack_api: FakeSlackApi, slack_settings: Callable[..., Settings]
) -> None:
    slack_api.tokens.add(APP_TOKEN)
    settings = slack_settings(slack_app_token=APP_TOKEN, slack_signing_secret=None)
    async with running(settings, slack_api) as socket:
        crash_after_ack(socket)
        await socket.api.wait_for("apps.connections.open")
        fields = command_fields(text="help", user_id="U0MANAGER1", trigger_id="1764271600.77.socket")
        fields["response_url"] = slack_api.response_url("commands")
        envelope = await slack_api.socket_send(kind="slash_commands", payload=fields)
        await eventually(lambda: any(ack["envelope_id"] == envelope for ack in slack_api.socket_acks))
        assert [r.kind for r in inbox_rows(socket)] == ["command"]  # kept before the ack went out
