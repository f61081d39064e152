"""Channel names (``"#cx-finance"``) looked up while several posts go out at once, as `cxbot digest --now` and
`cxbot dispatch --drain` send them: every post goes to the channel's id, none by its name.

Found by trying cxbot as a new admin: of the posts a first `cxbot digest --now` sent, the one that arrived while
the first was looking the names up went out to ``#cx-customer-service`` by name (the look-up runs at most once a
minute, and the second post did not wait for it).
"""

from __future__ import annotations

import asyncio
import copy
import logging

import pytest
from slack_sdk.web.async_client import AsyncWebClient

from handlers.slack.channels import ChannelDirectory, Workspace
from handlers.slack.notifier import SlackNotifier
from stories.config import CxConfig
from tests.fakes.slack_api import DEFAULT_TOKEN, FakeSlackApi
from tests.slack.conftest import CONFIG
from tests.timing import GENEROUS


async def test_posts_sent_while_names_are_looked_up_all_go_to_ids(slack_api: FakeSlackApi) -> None:
    config = copy.deepcopy(CONFIG)
    config["departments"][0]["slack_channel"] = "#cx-finance"
    config["departments"][1]["slack_channel"] = "cx-support"  # as an admin writes it, without the #
    slack_api.channels.update({"C0FINANCE1": "cx-finance", "C0SUPPORT1": "cx-support"})
    slack_api.latency = 0.05  # Slack is a network away: the look-up is still out when the next post starts
    client = AsyncWebClient(token=DEFAULT_TOKEN, base_url=slack_api.base_url)
    notifier = SlackNotifier(client=client, channels=ChannelDirectory(CxConfig.model_validate(config)))

    await asyncio.gather(
        *(notifier.post_text(channel=c, text=f"post {n}") for n, c in enumerate(["#cx-finance", "cx-support"] * 3))
    )

    posted = sorted(call.params["channel"] for call in slack_api.calls_to("chat.postMessage"))
    assert posted == ["C0FINANCE1"] * 3 + ["C0SUPPORT1"] * 3
    assert len(slack_api.calls_to("conversations.list")) == 1


async def test_names_as_admins_type_them_resolve(slack_api: FakeSlackApi) -> None:
    config = copy.deepcopy(CONFIG)
    config["departments"][0]["slack_channel"] = "# CX-Finance"  # a space after the #, capitals
    slack_api.channels.update({"C0FINANCE1": "cx-finance"})
    client = AsyncWebClient(token=DEFAULT_TOKEN, base_url=slack_api.base_url)
    notifier = SlackNotifier(client=client, channels=ChannelDirectory(CxConfig.model_validate(config)))
    await notifier.post_text(channel="# CX-Finance", text="hello")
    assert [call.params["channel"] for call in slack_api.calls_to("chat.postMessage")] == ["C0FINANCE1"]


async def test_a_channel_created_after_start_is_found_in_the_background_and_its_warning_said_once(
    slack_api: FakeSlackApi, caplog: pytest.LogCaptureFixture
) -> None:
    config = copy.deepcopy(CONFIG)
    config["intake"]["slack_channels"] = ["#customer-voice"]
    directory = ChannelDirectory(CxConfig.model_validate(config))
    directory.missing_every = 0.05  # ten minutes in production
    client = AsyncWebClient(token=DEFAULT_TOKEN, base_url=slack_api.base_url)

    async def installed() -> list[Workspace]:
        return []

    async def token(_workspace: Workspace | None) -> None:
        return None

    with caplog.at_level(logging.WARNING):
        assert await directory.resolve(client, token=token) is True  # Slack answered; the channel is not there yet
        looking = asyncio.create_task(directory.keep_resolving(client, token=token, installed=installed))
        await slack_api.wait_for("conversations.list", count=3)  # looked again, and again
        slack_api.channels["C0INTAKE01"] = "customer-voice"  # the admin creates it
        await asyncio.wait_for(looking, GENEROUS)  # done once every name is found
    assert directory.intake == frozenset({"C0INTAKE01"})
    missing = [r for r in caplog.records if "'#customer-voice'" in r.getMessage()]
    assert len(missing) == 1, [r.getMessage() for r in missing]
