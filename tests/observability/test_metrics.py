"""GET /metrics after real traffic through the fakes: each App counts in its own registry, and what it counts
is what happened (acks per platform, comments by source, stories by summariser, redactions by kind, deliveries
by outcome and by state, 429s, model calls and tokens, fallbacks, open and overdue commitments)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import timedelta

import aiohttp
from aiohttp.test_utils import TestClient, TestServer
from prometheus_client.parser import text_string_to_metric_families

from bot.server import create_web_app
from bot.settings import Settings
from tests.fakes.openai_server import FakeOpenAI
from tests.fakes.slack_api import FakeSlackApi
from tests.slack.conftest import SlackServer, fresh_event, running
from tests.teams.world import FINANCE, NOW, World, posted_story

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]
TOKEN = "metrics-ingest-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


def parse(exposition: str) -> Samples:
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(exposition)
        for s in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


async def scrape(session: aiohttp.ClientSession, base_url: str) -> Samples:
    async with session.get(f"{base_url}/metrics") as response:
        assert response.status == 200
        assert response.headers["Content-Type"].startswith("text/plain")
        return parse(await response.text())


def intake_event(text: str, ts: str) -> dict:
    body = fresh_event("event_message_channels.json", text=text, ts=ts)
    body["event"].pop("blocks", None)
    return body


async def test_slack_traffic_is_counted_in_the_apps_own_registry(
    slack_api: FakeSlackApi, slack_settings: Callable[..., Settings]
) -> None:
    slack_api.queue("chat.postMessage", status=429, retry_after=0)  # slack_sdk waits and retries once: one 429
    async with running(slack_settings(), slack_api) as slack, running(slack_settings(), slack_api) as other:
        text = "I was charged twice on my invoice, write to jane.doe@example.com or call +44 20 7946 0958"
        assert (await slack.event(intake_event(text, "1764270000.000100")))[0] == 200
        assert (await slack.event(intake_event(text, "1764270000.000100")))[0] == 200  # a second event, same message
        await slack.settle()
        await slack.api.wait_for("chat.postMessage")
        samples = await scrape(slack.session, slack.url)
        untouched = await scrape(other.session, other.url)

    assert value(samples, "cxbot_ack_seconds_count", platform="slack") == 2
    assert value(samples, "cxbot_ack_seconds_bucket", platform="slack", le="3.0") == 2  # inside Slack's 3 s
    assert value(samples, "cxbot_comments_ingested_total", source="slack", outcome="created") == 1
    assert value(samples, "cxbot_comments_ingested_total", source="slack", outcome="duplicate") == 1
    assert value(samples, "cxbot_stories_total", summarizer="offline") == 1
    assert value(samples, "cxbot_redactions_total", kind="email") == 2  # redacted on arrival, both times
    assert value(samples, "cxbot_redactions_total", kind="phone") == 2
    assert value(samples, "cxbot_rate_limited_total", platform="slack") == 1
    assert value(samples, "cxbot_deliveries_total", platform="slack", kind="story", outcome="sent") == 1
    assert value(samples, "cxbot_outbox_deliveries", state="sent") == 1
    assert value(samples, "cxbot_outbox_deliveries", state="pending") == 0
    # another App in the same process counted nothing of this
    assert value(untouched, "cxbot_ack_seconds_count", platform="slack") == 0
    assert value(untouched, "cxbot_comments_ingested_total", source="slack", outcome="created") == 0


async def test_teams_traffic_and_commitments_open_and_overdue(world: World) -> None:
    cx = await world.start()
    story_id, card_id = await posted_story(world, cx)
    commit = world.load("message_cx_commit_in_thread")  # "... by 6 March"; the world's today is 2 March
    commit["conversation"]["id"] = f"{FINANCE};messageid={card_id}"
    assert (await cx.post(commit))[0] == 200
    base = str(cx.server.make_url("")).rstrip("/")

    samples = await scrape(cx.client, base)
    assert value(samples, "cxbot_ack_seconds_count", platform="teams") == 2  # cx link, cx commit
    assert value(samples, "cxbot_teams_activities_total", outcome="ok") == 2
    assert value(samples, "cxbot_comments_ingested_total", source="webhook", outcome="created") == 1
    assert value(samples, "cxbot_deliveries_total", platform="teams", kind="story", outcome="sent") == 1
    assert value(samples, "cxbot_commitments_open") == 1
    assert value(samples, "cxbot_commitments_overdue") == 0

    cx.app.clock = lambda: NOW + timedelta(days=5)  # 7 March: past its due date
    samples = await scrape(cx.client, base)
    assert value(samples, "cxbot_commitments_open") == 1
    assert value(samples, "cxbot_commitments_overdue") == 1
    assert story_id


async def test_model_calls_tokens_and_fallbacks_are_counted(make_app) -> None:  # type: ignore[no-untyped-def]
    with FakeOpenAI.running() as fake:
        app = make_app(
            cx_ingest_token=TOKEN,
            openai_model="gpt-fake",
            openai_base_url=fake.base_url,
            openai_api_key="sk-test",
            openai_max_retries=0,
        )
        async with TestClient(TestServer(create_web_app(app))) as client:
            comments = [{"text": f"My parcel number {i} came late", "id": f"m-{i}"} for i in range(2)]
            assert (await client.post("/ingest", json=comments, headers=AUTH)).status == 200
            fake.queue(status=500)
            assert (
                await client.post("/ingest", json={"text": "Refund please", "id": "m-9"}, headers=AUTH)
            ).status == 200
            assert (await client.post("/ingest", json={"text": "x"})).status == 401
            samples = parse(await (await client.get("/metrics")).text())
            await asyncio.sleep(0)

    assert value(samples, "cxbot_model_calls_total", model="gpt-fake", outcome="ok") == 1
    assert value(samples, "cxbot_model_calls_total", model="gpt-fake", outcome="http_500") == 1
    assert value(samples, "cxbot_model_tokens_total", model="gpt-fake", kind="prompt") == 10  # as the fake reports
    assert value(samples, "cxbot_model_tokens_total", model="gpt-fake", kind="completion") == 10
    assert value(samples, "cxbot_summarizer_fallbacks_total", reason="http_500") == 1
    assert value(samples, "cxbot_stories_total", summarizer="openai:gpt-fake") == 2
    assert value(samples, "cxbot_stories_total", summarizer="offline") == 1
    assert value(samples, "cxbot_comments_ingested_total", source="webhook", outcome="created") == 3
    assert value(samples, "cxbot_ingest_requests_total", outcome="ok") == 2
    assert value(samples, "cxbot_ingest_requests_total", outcome="unauthorised") == 1


async def test_every_answer_carries_a_request_id(slack: SlackServer) -> None:
    async with slack.session.get(f"{slack.url}/healthz", headers={"X-Request-Id": "abc-123"}) as given:
        assert given.headers["X-Request-Id"] == "abc-123"
    async with slack.session.get(f"{slack.url}/healthz", headers={"X-Request-Id": "bad id\u00e9"}) as odd:
        made = odd.headers["X-Request-Id"]
    assert made != "bad id\u00e9" and len(made) == 32 and made.isalnum()
