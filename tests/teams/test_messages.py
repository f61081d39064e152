"""Commands by @mention (`cx ...`), help for anything else, and intake channels: over HTTP, through the
shared command layer, with the same authorisation as Slack."""

from __future__ import annotations

from sqlalchemy import select

from storage.models import Comment, Commitment, ConversationRef, Kudos
from stories.commands import COMMANDS
from tests.fakes.bf_connector import FakeConnector
from tests.teams.world import CARLA, DANA, DANA_BF, FINANCE, FIONA, INTAKE, Server, World, posted_story


def _texts(card: dict) -> str:
    """Every text a card shows, joined."""
    found: list[str] = []

    def visit(node: object) -> None:
        if isinstance(node, dict):
            for key in ("text", "title", "value"):
                if isinstance(node.get(key), str):
                    found.append(node[key])
            for value in node.values():
                visit(value)
        elif isinstance(node, list):
            for value in node:
                visit(value)

    visit(card)
    return "\n".join(found)


async def test_free_text_gets_the_help_card_listing_every_teams_command(
    cx: Server, world: World, connector: FakeConnector
) -> None:
    assert (await cx.post(world.load("message_hello_personal")))[0] == 200
    [answer] = connector.posts()
    assert answer.kind == "reply" and answer.conversation_id == "a:1Qw3rTy_personal-chat-with-dana"
    shown = _texts(answer.cards[0])
    for spec in COMMANDS:
        assert f"cx {spec.name}" in shown
    assert "Start a command with “cx”" in shown


async def test_channel_chatter_that_does_not_mention_the_bot_is_ignored(
    cx: Server, world: World, connector: FakeConnector
) -> None:
    chatter = world.load("message_cx_link", text="lunch at noon?", entities=[])
    assert (await cx.post(chatter))[0] == 200
    assert connector.posts() == []


async def test_cx_actions_lists_a_managers_department_commitments(
    cx: Server, world: World, connector: FakeConnector
) -> None:
    story_id, card_id = await posted_story(world, cx)
    commit = world.load("message_cx_commit_in_thread")
    commit["conversation"]["id"] = f"{FINANCE};messageid={card_id}"  # typed in the story's thread
    assert (await cx.post(commit))[0] == 200
    with cx.app.engine.connect() as conn:
        [row] = conn.execute(select(Commitment)).all()
    assert (row.story_id, row.owner, row.what) == (story_id, FIONA, "call the customer back")
    assert str(row.due_date) == "2026-03-06"

    assert (await cx.post(world.load("message_cx_actions")))[0] == 200
    listing = connector.posts()[-1]
    shown = _texts(listing.cards[0])
    assert "Open commitments: Finance & Billing" in shown
    assert "Fiona Walsh: call the customer back" in shown


async def test_cx_stats_in_a_personal_chat(cx: Server, world: World, connector: FakeConnector) -> None:
    assert (await cx.post(world.load("message_cx_stats_personal")))[0] == 200
    card = connector.posts()[-1].cards[0]
    facts = {f["title"]: f["value"] for f in card["body"][1]["facts"]}
    assert facts["Stories delivered"] == "0" and "NPS" in facts


async def test_cx_kudos_by_the_cx_team_resolves_the_mention_and_dms_the_person(
    cx: Server, world: World, connector: FakeConnector
) -> None:
    connector.add_member(id=DANA_BF, name="Dana Scully", aad_object_id=DANA)
    assert (await cx.post(world.load("conversation_update_personal_install")))[0] == 200  # a known tenant
    assert (await cx.post(world.load("message_cx_kudos")))[0] == 200
    with cx.app.engine.connect() as conn:
        [kudos] = conn.execute(select(Kudos)).all()
    assert (kudos.giver, kudos.receiver) == (CARLA, DANA)
    assert kudos.why == "for calling the customer back the same day"
    assert connector.calls_of("member")[0].activity_id == DANA_BF  # TeamsInfo.get_member

    await cx.deliver()
    [created] = connector.calls_of("create")  # no chat with Dana yet: one is opened
    assert created.json["members"] == [{"id": DANA}]
    assert created.json["channelData"] == {"tenant": {"id": "72f988bf-86f1-41af-91ab-2d7cd011db47"}}
    dm = [c for c in connector.posts() if c.conversation_id == created.response["id"]]
    assert "Kudos to you from Carla Ortiz" in dm[0].payload_text()
    with cx.app.engine.connect() as conn:
        stored = conn.execute(select(ConversationRef).where(ConversationRef.user_id == DANA)).one()
    assert stored.scope == "personal"  # the next DM reuses it


async def test_cx_kudos_by_someone_else_is_refused(cx: Server, world: World, connector: FakeConnector) -> None:
    fiona = {"id": "29:1fIoNa", "name": "Fiona Walsh", "aadObjectId": FIONA}
    assert (await cx.post(world.load("message_cx_kudos", **{"from": fiona})))[0] == 200
    with cx.app.engine.connect() as conn:
        assert conn.execute(select(Kudos)).all() == []
    assert "for the CX team only" in connector.posts()[-1].payload_text()


async def test_a_message_in_an_intake_channel_becomes_a_comment_and_the_poster_hears_where_it_went(
    cx: Server, world: World, connector: FakeConnector
) -> None:
    assert (await cx.post(world.load("message_intake")))[0] == 200
    with cx.app.engine.connect() as conn:
        [comment] = conn.execute(select(Comment)).all()
    assert (comment.source, comment.external_id, comment.origin_channel) == ("teams", f"{INTAKE}:1700000000200", INTAKE)
    assert comment.redacted_text.startswith("A customer called: my refund for invoice")
    [answer] = connector.posts()
    assert answer.kind == "reply" and answer.thread == "1700000000200"
    shown = _texts(answer.cards[0])
    assert "Sent to Finance & Billing." in shown and "keyword" in shown


async def test_an_intake_message_delivered_twice_is_one_comment_and_one_answer(
    cx: Server, world: World, connector: FakeConnector
) -> None:
    intake = world.load("message_intake")
    for _ in range(3):
        assert (await cx.post(intake))[0] == 200
    with cx.app.engine.connect() as conn:
        assert len(conn.execute(select(Comment)).all()) == 1
    assert len(connector.posts()) == 1


async def test_the_same_message_id_in_two_chats_is_two_comments(
    cx: Server, world: World, connector: FakeConnector
) -> None:
    """Teams message ids are millisecond timestamps, unique within a conversation only."""
    dana = world.load("message_hello_personal", id="1700000000999", text="cx story The courier left my parcel outside")
    fiona = world.load(
        "message_hello_personal",
        id="1700000000999",
        text="cx story My invoice was charged twice",
        conversation={"conversationType": "personal", "id": "a:1Qw3rTy_personal-chat-with-fiona"},
        **{"from": {"id": "29:1fIoNa", "name": "Fiona Walsh", "aadObjectId": FIONA}},
    )
    assert (await cx.post(dana))[0] == 200
    assert (await cx.post(fiona))[0] == 200
    with cx.app.engine.connect() as conn:
        texts = conn.execute(select(Comment.redacted_text).order_by(Comment.id)).scalars().all()
    assert texts == ["The courier left my parcel outside", "My invoice was charged twice"]
    assert ["Thanks, this is now story" in c.payload_text() for c in connector.posts()] == [True, True]


async def test_an_intake_thread_reply_is_not_a_comment_unless_configured(
    cx: Server, world: World, connector: FakeConnector
) -> None:
    reply = world.load("message_intake", id="1700000000201")
    reply["conversation"]["id"] = f"{INTAKE};messageid=1700000000200"
    assert (await cx.post(reply))[0] == 200
    with cx.app.engine.connect() as conn:
        assert conn.execute(select(Comment)).all() == []


async def test_as_served_teams_runs_the_apps_own_command_table(world: World, connector: FakeConnector) -> None:
    served = await world.start(as_served=True)
    assert served.teams.context.commands is served.app.commands  # one table for Slack and Teams
    assert served.app.notifiers["teams"] is served.teams.notifier
    assert (await served.post(world.load("message_cx_stats_personal")))[0] == 200
    assert "Stories delivered" in _texts(connector.posts()[-1].cards[0])
