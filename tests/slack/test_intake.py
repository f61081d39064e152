"""Intake: messages in intake channels and the "Send to CX stories" shortcut become comments, once."""

from __future__ import annotations

import copy
import logging
from collections.abc import Callable

import pytest

from bot.settings import Settings
from storage.models import Comment, Story
from tests.fakes.slack_api import DEFAULT_TOKEN, FakeSlackApi
from tests.slack.conftest import CONFIG, SlackServer, fresh_event, payload, running


async def test_intake_message_becomes_a_story_posted_to_its_department(slack: SlackServer) -> None:
    status, _, _ = await slack.event(payload("event_message_channels.json"))
    assert status == 200
    await slack.settle()
    assert slack.count(Comment, Comment.source == "slack", Comment.external_id == "C0INTAKE01:1764270000.000100") == 1
    posted = await slack.api.wait_for("chat.postMessage")
    assert posted[0].params["channel"] == "C0FINANCE1"
    # the story links back to the customer's original message, with the permalink Slack gave
    assert "https://fake-workspace.slack.com/archives/C0INTAKE01/p1764270000000100|Original message" in str(
        posted[0].params["blocks"]
    )
    confirmation = (await slack.api.wait_for("chat.postEphemeral"))[0]
    assert confirmation.params["channel"] == "C0INTAKE01" and confirmation.params["user"] == "U0CXAGENT1"
    assert "Finance" in confirmation.payload_text()


async def test_without_link_originals_no_permalink_is_asked_for_or_shown(
    slack_api: FakeSlackApi, slack_settings: Callable[..., Settings]
) -> None:
    config = copy.deepcopy(CONFIG)
    config["intake"]["link_originals"] = False  # the default: stories never link to the unredacted original
    async with running(slack_settings(), slack_api, config) as slack:
        status, _, _ = await slack.event(payload("event_message_channels.json"))
        assert status == 200
        await slack.settle()
        posted = await slack.api.wait_for("chat.postMessage")
        assert posted[0].params["channel"] == "C0FINANCE1"
        assert "Original message" not in str(posted[0].params["blocks"])
        assert slack.api.calls_to("chat.getPermalink") == []


async def test_retried_event_makes_one_comment(slack: SlackServer) -> None:
    body = payload("event_message_channels.json")
    await slack.event(body)
    await slack.event(body, headers={"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"})
    await slack.event(body, headers={"X-Slack-Retry-Num": "2", "X-Slack-Retry-Reason": "http_error"})
    await slack.settle()
    assert slack.count(Comment) == 1
    assert slack.count(Story) == 1
    assert len(slack.api.calls_to("chat.postMessage")) == 1
    assert len(slack.api.calls_to("chat.postEphemeral")) == 1


@pytest.mark.parametrize(
    "fixture",
    [
        "event_message_changed.json",
        "event_message_deleted.json",
        "event_message_channel_join.json",
        "event_message_bot_message.json",
        "event_message_thread_reply.json",
    ],
)
async def test_edits_deletions_joins_bots_and_thread_replies_are_not_comments(slack: SlackServer, fixture: str) -> None:
    status, _, _ = await slack.event(payload(fixture))
    assert status == 200
    await slack.settle()
    assert slack.count(Comment) == 0
    assert slack.api.calls == [c for c in slack.api.calls if c.method in ("auth.test",)]


async def test_messages_outside_intake_channels_are_ignored(slack: SlackServer) -> None:
    await slack.event(fresh_event("event_message_channels.json", channel="C0RANDOM01"))
    await slack.settle()
    assert slack.count(Comment) == 0


async def test_private_intake_channel_and_shared_message_are_taken_in(slack: SlackServer) -> None:
    await slack.event(payload("event_message_groups.json"))
    await slack.event(payload("event_message_shared.json"))
    await slack.settle()
    with slack.app.engine.connect() as conn:
        from sqlalchemy import select

        texts = dict(conn.execute(select(Comment.external_id, Comment.redacted_text)).all())
    assert "refund never arrived" in texts["G0PRIVATE1:1764270050.000200"]
    assert "box was crushed" in texts["C0INTAKE01:1764270600.000800"]


async def test_shortcut_sends_any_message_and_says_where_it_went(slack: SlackServer) -> None:
    body = payload("shortcut_send_to_cx_stories.json")
    status, _, _ = await slack.interact(body)
    assert status == 200
    await slack.settle()
    assert slack.count(Comment, Comment.external_id == "C0SALES001:1764260000.000050") == 1
    answer = (await slack.api.wait_for("response_url"))[0]
    assert answer.params["response_type"] == "ephemeral"
    assert "Finance" in answer.payload_text()
    # the same message again (or a retry) is not a second comment
    await slack.interact(body | {"trigger_id": "1764271601.999.abc", "action_ts": "1764271601.000001"})
    await slack.settle()
    assert slack.count(Comment) == 1
    assert "already" in slack.api.calls_to("response_url")[-1].payload_text()


@pytest.mark.parametrize(
    ("slack_text", "plain"),
    [
        ("Refund &amp; rebook &lt;asap&gt;", "Refund & rebook <asap>"),
        (
            "see <https://shop.example/o/7|order 7> and <https://shop.example/faq>",
            "see order 7 (https://shop.example/o/7) and https://shop.example/faq",
        ),
        ("ask <@U024BE7LH|dana> or <@U024BE7LH> in <#C024BE7LR|billing>", "ask @dana or @someone in #billing"),
        ("<!here> <!channel> <!subteam^S0CXTEAM01|@cx-team>", "@here @channel @cx-team"),
        ("mail <mailto:ann@example.com|ann@example.com>", "mail ann@example.com"),
    ],
)
def test_slack_markup_in_a_message_becomes_plain_text(slack_text: str, plain: str) -> None:
    from handlers.slack.intake import plain_text

    assert plain_text(slack_text) == plain


async def test_channels_given_by_name_are_resolved_to_ids_at_start(
    slack_api: FakeSlackApi, slack_settings: Callable[..., Settings], caplog: pytest.LogCaptureFixture
) -> None:
    """The bundled example names channels ("#customer-voice"); events carry ids. Names are looked up once at
    start (conversations.list, every page), so intake matches and posts go to the channel's id."""
    config = copy.deepcopy(CONFIG)
    config["intake"]["slack_channels"] = ["#Customer-Voice", "#no-such-channel"]
    config["departments"][0]["slack_channel"] = "#cx-finance"
    slack_api.channels.update({f"C0OTHER{n:04d}": f"other-{n}" for n in range(1500)})  # two pages
    slack_api.channels.update({"C0INTAKE01": "customer-voice", "C0FINANCE1": "cx-finance"})

    with caplog.at_level(logging.INFO):
        async with running(slack_settings(), slack_api, config) as slack:
            await slack.event(payload("event_message_channels.json"))  # a message in C0INTAKE01
            await slack.settle()
            assert slack.count(Comment, Comment.external_id == "C0INTAKE01:1764270000.000100") == 1
            posted = await slack.api.wait_for("chat.postMessage")
            assert posted[0].params["channel"] == "C0FINANCE1"

    listed = slack_api.calls_to("conversations.list", ok_only=True)
    assert len(listed) == 2 and listed[0].params["types"] == "public_channel,private_channel"
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any("'#no-such-channel' (intake.slack_channels)" in w and "C0123ABCD" in w for w in warnings), warnings
    assert not any("#Customer-Voice" in w for w in warnings)


async def test_a_name_that_cannot_be_looked_up_is_logged_with_the_fix(
    slack_api: FakeSlackApi, slack_settings: Callable[..., Settings], caplog: pytest.LogCaptureFixture
) -> None:
    config = copy.deepcopy(CONFIG)
    config["intake"]["slack_channels"] = ["#customer-voice"]
    slack_api.token_scopes[DEFAULT_TOKEN] = slack_api.scopes - {"channels:read"}
    with caplog.at_level(logging.WARNING):
        async with running(slack_settings(), slack_api, config) as slack:
            await slack.event(payload("event_message_channels.json"))
            await slack.settle()
            assert slack.count(Comment) == 0
    assert any("missing_scope" in r.getMessage() and "channels:read" in r.getMessage() for r in caplog.records)
