"""The Teams home: a card in the person's personal chat (on `cx home` and when they install cxbot) with their
open commitments, kudos received and their departments' latest stories, from the same neutral view as
Slack's App Home; "Refresh" and "Done" redraw it in place."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from handlers.slack.render import home_view
from handlers.teams.cards import CARD_BYTES_LIMIT, home_card
from storage.models import Commitment
from stories.actors import Actor
from stories.followup import commit
from stories.kudos import give_kudos
from stories.models import StoryView
from stories.outbox import RecordingOutbox
from stories.views import CommitmentItem, HomeView, KudosView
from tests.fakes.bf_connector import FakeConnector
from tests.teams.world import CARLA, FINANCE, FIONA, NOW, Server, World, posted_story

FIONA_CHAT = "a:1Qw3rTy_personal-chat-with-fiona"
FIONA_ACCOUNT = {"id": "29:1fIoNa", "name": "Fiona Walsh", "aadObjectId": FIONA}


def _texts(card: dict) -> str:
    found: list[str] = []

    def visit(node: object) -> None:
        if isinstance(node, dict):
            for key in ("text", "title"):
                if isinstance(node.get(key), str):
                    found.append(node[key])
            for value in node.values():
                visit(value)
        elif isinstance(node, list):
            for value in node:
                visit(value)

    visit(card)
    return "\n".join(found)


def _fiona_says(world: World, text: str, **changes: object) -> dict:
    return world.load(
        "message_hello_personal",
        id=f"1700000000{abs(hash((text, tuple(changes)))) % 10**6:06d}",
        text=text,
        conversation={"conversationType": "personal", "id": FIONA_CHAT},
        **{"from": FIONA_ACCOUNT},
        **changes,
    )


async def _fiona_has_a_commitment_and_kudos(world: World, cx: Server) -> int:
    story_id, _ = await posted_story(world, cx)
    now = NOW
    item = commit(
        store=cx.app.followups,
        outbox=RecordingOutbox(),
        key="home:teams:1",
        story_id=story_id,
        department="Finance & Billing",
        owner=FIONA,
        owner_name="Fiona Walsh",
        created_by=FIONA,
        platform="teams",
        what="Refund the double charge <at>Everyone</at>",
        due=None,
        now=now,
        redactor=cx.app.pipeline.redactor,
    )
    give_kudos(
        store=cx.app.followups,
        outbox=RecordingOutbox(),
        config=cx.app.config,
        key="home:teams:kudos",
        giver=Actor(platform="teams", user_id=CARLA, name="Carla Ortiz"),
        receiver=FIONA,
        receiver_name="Fiona Walsh",
        why="for the same-day refund",
        now=now,
        redactor=cx.app.pipeline.redactor,
    )
    return item.id


async def test_cx_home_in_a_personal_chat_shows_commitments_kudos_and_department_stories(
    cx: Server, world: World, connector: FakeConnector
) -> None:
    commitment_id = await _fiona_has_a_commitment_and_kudos(world, cx)
    before = len(connector.posts())
    assert (await cx.post(_fiona_says(world, "cx home")))[0] == 200
    [answer] = connector.posts()[before:]
    assert answer.kind == "reply" and answer.conversation_id == FIONA_CHAT
    [card] = answer.cards
    shown = _texts(card)
    assert "Your open commitments" in shown
    assert "Refund the double charge <\u2060at>Everyone<\u2060/at> (no due date)" in shown  # text, never a mention
    assert "for the same-day refund" in shown
    assert "Latest stories for Finance & Billing" in shown
    assert "charged twice on invoice 4711" in shown
    done = [a for a in _actions(card) if a["title"] == "Done"]
    assert done[0]["data"] == {"cx_action": "close", "commitment_id": commitment_id, "state": "done", "from": "home"}
    assert [a["data"] for a in card["actions"]] == [{"cx_action": "home"}]  # Refresh


def _actions(card: dict) -> list[dict]:
    found: list[dict] = []

    def visit(node: object) -> None:
        if isinstance(node, dict):
            if node.get("type") == "Action.Submit":
                found.append(node)
            for value in node.values():
                visit(value)
        elif isinstance(node, list):
            for value in node:
                visit(value)

    visit(card)
    return found


async def test_someone_without_a_department_is_told_how_to_get_one(
    cx: Server, world: World, connector: FakeConnector
) -> None:
    assert (await cx.post(world.load("message_hello_personal", text="cx home")))[0] == 200  # Dana
    shown = _texts(connector.posts()[-1].cards[0])
    assert "Nothing open" in shown and "None yet." in shown and "Ask the CX team" in shown


async def test_cx_home_in_a_channel_points_to_the_personal_chat_and_shows_nothing_there(
    cx: Server, world: World, connector: FakeConnector
) -> None:
    await _fiona_has_a_commitment_and_kudos(world, cx)
    before = len(connector.posts())
    message = world.load("message_cx_link", text="<at>cxbot</at> cx home", id="1700000000077")
    message["from"] = FIONA_ACCOUNT
    assert (await cx.post(message))[0] == 200
    [answer] = connector.posts()[before:]
    assert answer.channel == FINANCE
    shown = _texts(answer.cards[0])
    assert "Your home is in your personal chat with me" in shown
    assert "Refund the double charge" not in answer.payload_text() and "same-day" not in answer.payload_text()


async def test_installing_cxbot_personally_sends_the_welcome_and_then_the_home_card(
    cx: Server, world: World, connector: FakeConnector
) -> None:
    await _fiona_has_a_commitment_and_kudos(world, cx)
    before = len(connector.posts())
    assert (await cx.post(world.load("conversation_update_personal_install")))[0] == 200
    welcome, home = connector.posts()[before:]
    assert welcome.conversation_id == home.conversation_id == FIONA_CHAT
    assert "I'm cxbot" in welcome.payload_text()
    assert "Refund the double charge" in _texts(home.cards[0])
    assert home.json["summary"] == "Your cxbot home"


async def test_a_team_install_sends_the_welcome_but_no_home(cx: Server, world: World, connector: FakeConnector) -> None:
    assert (await cx.post(world.load("conversation_update_bot_added")))[0] == 200
    [welcome] = connector.posts()
    assert "Your open commitments" not in welcome.payload_text()


async def test_refresh_redraws_the_home_card_in_place(cx: Server, world: World, connector: FakeConnector) -> None:
    assert (await cx.post(_fiona_says(world, "cx home")))[0] == 200
    home_id = str(connector.posts()[-1].response["id"])
    assert "Nothing open" in _texts(connector.posts()[-1].cards[0])
    await _fiona_has_a_commitment_and_kudos(world, cx)
    refresh = _fiona_says(world, "", value={"cx_action": "home"}, replyToId=home_id)
    del refresh["text"]
    assert (await cx.post(refresh))[0] == 200
    [update] = connector.calls_of("update")
    assert (update.conversation_id, update.activity_id) == (FIONA_CHAT, home_id)
    assert "Refund the double charge" in _texts(update.cards[0])


async def test_done_on_the_home_card_closes_the_commitment_and_redraws_the_card(
    cx: Server, world: World, connector: FakeConnector
) -> None:
    commitment_id = await _fiona_has_a_commitment_and_kudos(world, cx)
    assert (await cx.post(_fiona_says(world, "cx home")))[0] == 200
    home_id = str(connector.posts()[-1].response["id"])
    data = {"cx_action": "close", "commitment_id": commitment_id, "state": "done", "from": "home"}
    done = _fiona_says(world, "", value=data, replyToId=home_id)
    del done["text"]
    assert (await cx.post(done))[0] == 200
    with cx.app.engine.connect() as conn:
        assert conn.execute(select(Commitment.state).where(Commitment.id == commitment_id)).scalar_one() == "done"
    [update] = connector.calls_of("update")
    assert update.activity_id == home_id
    redrawn = _texts(update.cards[0])
    assert "Nothing open" in redrawn and "Refund the double charge" not in redrawn


def _home(stories: int, text: str) -> HomeView:
    received = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
    return HomeView(
        commitments=(
            CommitmentItem(
                id=7,
                story_id=1,
                story_title="Charged twice",
                department="Finance & Billing",
                owner="U0FIONA001",
                what="Refund the customer",
                due=None,
                age_days=2,
                overdue=True,
                state="open",
                platform="slack",
                due_label="overdue since Mon 23 Feb",
                owner_name="Fiona",
            ),
        ),
        kudos=(KudosView(giver="U0CARLA001", receiver="U0FIONA001", why="for the same-day refund"),),
        stories=tuple(
            StoryView(
                story_id=100 + n,
                title=f"Story {n}",
                text=text,
                sentiment="negative",
                sentiment_score=-0.5,
                source="survey",
                received_at=received - timedelta(hours=n),
                departments=("Finance & Billing",),
            )
            for n in range(stories)
        ),
        departments=("Finance & Billing",),
        story_days=14,
    )


def test_slack_and_teams_render_the_same_home() -> None:
    view = _home(3, "I was charged twice for one order.")
    slack = json.dumps(home_view(view), ensure_ascii=False)
    teams = _texts(home_card(view))
    for shown in ("Refund the customer", "for the same-day refund", "Latest stories for Finance & Billing"):
        assert shown in slack and shown in teams
    for n in range(3):
        assert f"Story {n}" in slack and f"Story {n}" in teams


def test_a_home_of_long_emoji_stories_stays_under_the_teams_card_limit() -> None:
    card = home_card(_home(8, "😡" * 3000))
    assert len(json.dumps(card).encode()) <= CARD_BYTES_LIMIT  # as sent: every emoji escaped to 12 bytes
    shown = _texts(card)
    assert "Story 0" in shown and "Story 7" not in shown
    assert "more stories" in shown or "more story" in shown
