"""Several workspaces: bolt's OAuth flow with slack_sdk's SQLAlchemy stores on cxbot's database."""

from __future__ import annotations

import asyncio
import copy
import re
import time
from collections.abc import AsyncIterator, Callable
from urllib.parse import parse_qs, urlparse

import pytest
from slack_sdk.oauth.installation_store.models.installation import Installation
from sqlalchemy import Engine, text

from bot.settings import Settings
from handlers.slack.oauth import SqlInstallationStore, SqlStateStore
from handlers.slack.scopes import BOT_SCOPES
from storage.models import Comment
from stories.models import IncomingComment
from stories.ports import PostedMessage
from tests.fakes.slack_api import TEAM_ID, FakeSlackApi
from tests.slack.conftest import CONFIG, SlackServer, payload, running


def comment(text: str, external_id: str) -> IncomingComment:
    return IncomingComment(text=text, source="survey", external_id=external_id)


CLIENT_ID = "1111111111.2222222222"
CLIENT_SECRET = "oauth-client-secret"


@pytest.fixture
async def multi(slack_api: FakeSlackApi, slack_settings: Callable[..., Settings]) -> AsyncIterator[SlackServer]:
    slack_api.oauth_clients[CLIENT_ID] = CLIENT_SECRET
    slack_api.tokens.clear()  # only tokens issued by the OAuth exchange work
    settings = slack_settings(slack_bot_token=None, slack_client_id=CLIENT_ID, slack_client_secret=CLIENT_SECRET)
    async with running(settings, slack_api) as server:
        yield server


async def _install(multi: SlackServer) -> None:
    async with multi.session.get(f"{multi.url}/slack/install", allow_redirects=False) as page:
        assert page.status == 200
        html = await page.text()
        cookie = page.headers["Set-Cookie"].split(";")[0]
    authorize = re.search(r'href="(https://slack\.com/oauth/v2/authorize\?[^"]+)"', html)
    assert authorize is not None
    query = parse_qs(urlparse(authorize.group(1).replace("&amp;", "&")).query)
    assert query["client_id"] == [CLIENT_ID]
    assert set(query["scope"][0].split(",")) >= {"chat:write", "commands"}
    state = query["state"][0]
    redirect = f"{multi.url}/slack/oauth_redirect?code=fake-code&state={state}"
    async with multi.session.get(redirect, headers={"Cookie": cookie}) as done:
        assert done.status == 200, await done.text()


async def test_add_to_slack_stores_the_installation_and_its_token_is_used(multi: SlackServer) -> None:
    await _install(multi)
    exchange = multi.api.calls_to("oauth.v2.access", ok_only=True)
    assert len(exchange) == 1 and exchange[0].params["code"] == "fake-code"
    with multi.app.engine.connect() as conn:
        teams = conn.execute(text("SELECT team_id, bot_token FROM slack_bots")).all()
    assert [t[0] for t in teams] == [TEAM_ID]
    installed_token = teams[0][1]

    status, _, _ = await multi.event(payload("event_message_channels.json"))  # authorised from the store
    assert status == 200
    await multi.settle()
    assert multi.count(Comment) == 1
    story = multi.api.calls_to("chat.postMessage", ok_only=True)
    assert story and story[0].headers["Authorization"] == f"Bearer {installed_token}"


async def test_redirect_with_a_forged_state_installs_nothing(multi: SlackServer) -> None:
    async with multi.session.get(f"{multi.url}/slack/oauth_redirect?code=x&state=forged") as answer:
        assert answer.status >= 400
    assert multi.api.calls_to("oauth.v2.access") == []
    with multi.app.engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM slack_installations")).scalar_one() == 0


def test_oauth_stores_work_on_the_migrated_database(engine: Engine) -> None:
    states = SqlStateStore(expiration_seconds=60, engine=engine)
    state = states.issue()
    assert states.consume(state) is True
    assert states.consume(state) is False  # once
    installations = SqlInstallationStore(client_id=CLIENT_ID, engine=engine)
    assert installations.latest_bot_token() is None


def _installed(store: SqlInstallationStore, *, team: str, token: str, when: float) -> None:
    store.save(
        Installation(
            app_id="A0FAKEAPP1",
            enterprise_id=None,
            team_id=team,
            user_id="U0INSTALLER",
            bot_token=token,
            bot_id=f"B{team}",
            bot_user_id=f"U{team}",
            bot_scopes=sorted(BOT_SCOPES),
            installed_at=when,
        )
    )


async def test_each_workspace_is_posted_to_with_its_own_token(
    slack_api: FakeSlackApi, slack_settings: Callable[..., Settings]
) -> None:
    """Two workspaces installed; Finance's channel is in the first (``T0FIRST/C0FINANCE1``), and the second
    installed later. Finance's story goes out with the first workspace's token, replies and updates too."""
    slack_api.oauth_clients[CLIENT_ID] = CLIENT_SECRET
    slack_api.tokens.clear()
    slack_api.tokens.update({"xoxb-first", "xoxb-second"})
    config = copy.deepcopy(CONFIG)
    config["departments"][0]["slack_channel"] = "T0FIRST/C0FINANCE1"
    config["departments"][1]["slack_channel"] = "T0SECOND/C0SUPPORT1"
    config["departments"][2]["slack_channel"] = "T0SECOND/C0PRODUCT1"  # with two workspaces, bare is refused
    config["intake"]["slack_channels"] = ["T0FIRST/C0INTAKE01"]
    config["kudos_slack_channel"] = "T0FIRST/C0KUDOS001"
    settings = slack_settings(slack_bot_token=None, slack_client_id=CLIENT_ID, slack_client_secret=CLIENT_SECRET)
    async with running(settings, slack_api, config) as multi:
        store = SqlInstallationStore(client_id=CLIENT_ID, engine=multi.app.engine)
        _installed(store, team="T0FIRST", token="xoxb-first", when=time.time() - 60)
        _installed(store, team="T0SECOND", token="xoxb-second", when=time.time())  # the newest
        await asyncio.to_thread(multi.app.take_in, [comment("I was charged twice on my invoice", "1")])
        await asyncio.to_thread(multi.app.take_in, [comment("My delivery was late again", "2")])
        multi.app.dispatcher.kick()
        posts = await slack_api.wait_for("chat.postMessage", count=2)
        by_channel = {c.params["channel"]: c.headers["Authorization"] for c in posts}
        assert by_channel == {"C0FINANCE1": "Bearer xoxb-first", "C0SUPPORT1": "Bearer xoxb-second"}

        notifier = multi.app.notifiers["slack"]
        finance = next(c for c in posts if c.params["channel"] == "C0FINANCE1")
        await notifier.reply_in_thread(message=PostedMessage("C0FINANCE1", finance.response["ts"]), text="noted")
        assert slack_api.calls_to("chat.postMessage")[-1].headers["Authorization"] == "Bearer xoxb-first"
