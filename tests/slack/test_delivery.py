"""Posting to Slack through the outbox: rate limits honoured, server errors retried, permanent errors given up,
and customer text that never turns into a mention."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update

from handlers.slack.client import web_client
from handlers.slack.notifier import SlackNotifier
from storage.models import Delivery
from stories.models import StoryView
from stories.outbox import Outgoing
from stories.ports import DeliveryError, PostedMessage
from tests.fakes.slack_api import DEFAULT_TOKEN, FakeSlackApi
from tests.slack.conftest import SlackServer, fresh_event
from tests.timing import eventually

HOSTILE = (
    "Refund <!channel> <!here> <@U024BE7LH> <#C024BE7LR> <!subteam^S0CXTEAM01> <https://evil.example|click> & done"
)


async def _intake(slack: SlackServer, text: str = "I was charged twice on my invoice") -> None:
    await slack.event(fresh_event("event_message_channels.json", text=text))


def _deliveries(slack: SlackServer) -> list[tuple[str, str, int, str | None]]:
    with slack.app.engine.connect() as conn:
        rows = conn.execute(select(Delivery.kind, Delivery.state, Delivery.attempts, Delivery.last_error)).all()
    return [tuple(r) for r in rows]


async def test_429_is_honoured_via_retry_after_and_the_post_goes_out_once(slack: SlackServer) -> None:
    slack.api.queue("chat.postMessage", status=429, retry_after=1)
    await _intake(slack)
    await slack.settle()
    limited, posted = slack.api.calls_to("chat.postMessage")
    assert limited.status == 429
    assert posted.status == 200 and posted.params["channel"] == "C0FINANCE1"
    assert posted.at - limited.at >= 1.0  # waited for Retry-After
    assert _deliveries(slack) == [("story", "sent", 1, None)]


async def test_server_error_is_retried(slack: SlackServer) -> None:
    slack.api.queue("chat.postMessage", status=500)
    await _intake(slack)
    await slack.settle()
    failed, posted = slack.api.calls_to("chat.postMessage")
    assert failed.status == 500 and posted.status == 200
    assert [d[:2] for d in _deliveries(slack)] == [("story", "sent")]


async def test_a_proxys_html_502_is_a_transient_error_and_the_next_attempt_posts(slack: SlackServer) -> None:
    slack.api.queue(
        "chat.postMessage", status=502, body=b"<html><h1>502 Bad Gateway</h1></html>", content_type="text/plain"
    )
    await _intake(slack)
    await eventually(lambda: (found := _deliveries(slack)) != [] and found[0][3] is not None, what="a failed attempt")
    rows = _deliveries(slack)
    assert rows == [("story", "pending", 1, "slack: http_502, the answer was not Slack's JSON")]
    with slack.app.engine.begin() as conn:  # the back-off has passed
        conn.execute(update(Delivery).values(not_before=datetime.now(UTC) - timedelta(seconds=1)))
    await slack.settle()
    failed, posted = slack.api.calls_to("chat.postMessage")
    assert (failed.status, posted.status) == (502, 200) and posted.params["channel"] == "C0FINANCE1"
    assert [d[:2] for d in _deliveries(slack)] == [("story", "sent")]


async def test_permanent_error_fails_the_delivery_without_retrying(slack: SlackServer) -> None:
    slack.api.queue("chat.postMessage", error="channel_not_found")
    await _intake(slack)
    await slack.settle()
    assert len(slack.api.calls_to("chat.postMessage")) == 1
    assert _deliveries(slack) == [("story", "failed", 1, "slack: channel_not_found")]


async def test_mention_markup_in_a_comment_reaches_slack_escaped(slack: SlackServer) -> None:
    await _intake(slack, text=HOSTILE.replace("<", "&lt;").replace(">", "&gt;").replace("& ", "&amp; "))
    await slack.settle()
    sent = slack.api.calls_to("chat.postMessage") + slack.api.calls_to("chat.postEphemeral")
    assert sent
    for call in sent:
        text = call.payload_text()
        for markup in ("<!channel>", "<!here>", "<@U024BE7LH>", "<#C024BE7LR>", "<!subteam", "<https://evil"):
            assert markup not in text
    story = slack.api.calls_to("chat.postMessage")[0]
    assert "&lt;!channel&gt;" in story.payload_text()  # the text got there, as text


# --- the notifier on its own, against the fake ---------------------------------------------------------------


@pytest.fixture
async def notifier(slack_api: FakeSlackApi) -> SlackNotifier:
    return SlackNotifier(client=web_client(base_url=slack_api.base_url, token=DEFAULT_TOKEN))


def _story(text: str) -> StoryView:
    return StoryView(
        story_id=7,
        title=text[:60],
        text=text,
        sentiment="negative",
        sentiment_score=-0.6,
        source="survey",
        received_at=datetime(2026, 11, 27, tzinfo=UTC),
        departments=("Finance",),
    )


@pytest.mark.parametrize("fragment", ["<!channel>", "<!here|here>", "<!everyone>", "<@U024BE7LH>", "<!subteam^S1|cx>"])
async def test_notifier_never_sends_mention_markup(
    notifier: SlackNotifier, slack_api: FakeSlackApi, fragment: str
) -> None:
    text = f"angry {fragment} customer"
    posted = await notifier.post_story(channel="C1", story=_story(text), key="story:7:Finance:slack:C1")
    await notifier.reply_in_thread(message=posted, text=text)
    await notifier.send_direct_message(user="U0DANA0001", text=text)
    await notifier.post_text(channel="C0KUDOS001", text=text)
    await notifier.update_story(message=posted, story=_story(text), note=text)
    assert len(slack_api.calls) == 5
    for call in slack_api.calls:
        assert fragment not in call.payload_text()
        assert fragment.replace("<", "&lt;").replace(">", "&gt;") in call.payload_text()


async def test_posts_carry_their_delivery_key_and_can_be_found_after_a_crash(
    notifier: SlackNotifier, slack_api: FakeSlackApi
) -> None:
    since = datetime.now(UTC) - timedelta(minutes=5)  # as the dispatcher asks: from before the delivery was queued
    posted = await notifier.post_story(channel="C1", story=_story("x"), key="story:7:Finance:slack:C1")
    reply = await notifier.reply_in_thread(message=posted, text="Dana will follow up", key="commitment:1:reply")
    found = await notifier.find_delivered(key="story:7:Finance:slack:C1", channel="C1", thread=None, since=since)
    assert found == posted
    found_reply = await notifier.find_delivered(key="commitment:1:reply", channel="C1", thread=posted, since=since)
    assert found_reply == reply
    assert await notifier.find_delivered(key="story:8:Finance:slack:C1", channel="C1", thread=None, since=since) is None


@pytest.mark.parametrize(
    ("error", "permanent"),
    [
        ("channel_not_found", True),
        ("not_in_channel", True),
        ("is_archived", True),
        ("invalid_auth", True),
        ("fatal_error", False),
        ("internal_error", False),
    ],
)
async def test_slack_errors_map_to_permanent_or_retryable(
    notifier: SlackNotifier, slack_api: FakeSlackApi, error: str, permanent: bool
) -> None:
    slack_api.queue("chat.postMessage", error=error)
    with pytest.raises(DeliveryError) as caught:
        await notifier.post_text(channel="C1", text="hello")
    assert caught.value.permanent is permanent
    assert error in str(caught.value)


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("text/html", b"<html><body>502 Bad Gateway</body></html>"),
        ("text/plain", b"Bad Gateway"),
        ("application/json", b"<html><body>502 Bad Gateway</body></html>"),  # a proxy that claims JSON
        ("application/json", b"[1, 2]"),
        ("application/json", b'"upstream down"'),
    ],
)
async def test_an_answer_that_is_not_slacks_json_is_transient_and_carries_its_status(
    notifier: SlackNotifier, slack_api: FakeSlackApi, content_type: str, body: bytes
) -> None:
    slack_api.queue("chat.postMessage", status=502, body=body, content_type=content_type)
    with pytest.raises(DeliveryError) as caught:
        await notifier.post_text(channel="C1", text="hello")
    assert str(caught.value) == "slack: http_502, the answer was not Slack's JSON"
    assert not caught.value.permanent
    assert [c.status for c in slack_api.calls] == [502]


async def test_rate_limit_beyond_the_client_retries_reports_retry_after(
    notifier: SlackNotifier, slack_api: FakeSlackApi
) -> None:
    slack_api.queue("chat.update", status=429, retry_after=1, times=2)
    with pytest.raises(DeliveryError) as caught:
        await notifier.update_story(message=PostedMessage("C1", "1.000001"), story=_story("x"), note="")
    assert caught.value.retry_after == 1 and not caught.value.permanent


async def test_a_dm_posted_before_a_crash_is_found_and_recorded_not_sent_again(slack: SlackServer) -> None:
    """The DM window: a claim posted a direct message and died before recording it. The next claim finds the
    message in the app's conversation with that person (conversations.open, then its history) and records it."""
    outbox = slack.app.outbox
    outbox.enqueue(
        [
            Outgoing(
                key="nudge:1:U0DANA0001",
                kind="dm",
                platform="slack",
                channel="U0DANA0001",
                payload={"text": "Your follow-up is due today"},
            )
        ]
    )
    now = datetime.now(UTC)
    [dying] = outbox.claim(instance="died", now=now, lease=timedelta(seconds=1))
    notifier = slack.app.notifiers["slack"]
    earlier = await notifier.send_direct_message(user="U0DANA0001", text="Your follow-up is due today", key=dying.key)
    with slack.app.engine.begin() as conn:  # its lease runs out
        conn.execute(update(Delivery).values(lease_until=now - timedelta(seconds=1)))

    await slack.settle()

    assert len(slack.api.calls_to("chat.postMessage")) == 1  # the one before the crash, none after
    assert [c.params["users"] for c in slack.api.calls_to("conversations.open")] == ["U0DANA0001"]
    with slack.app.engine.connect() as conn:
        state, message_id, attempts = conn.execute(select(Delivery.state, Delivery.message_id, Delivery.attempts)).one()
    assert (state, message_id, attempts) == ("sent", earlier.message_id, 2)
