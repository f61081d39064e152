"""Roles on Teams as far as the Bot Framework allows: people named in the configuration by user principal name
(the roster's ``userPrincipalName``/``email``), team owners (the team roster's ``userRole``) as admins, cached
look-ups, and ordinary rights when the roster cannot be asked."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from storage.models import Kudos
from stories.config import People
from stories.ports import DeliveryError
from tests.fakes.bf_connector import FakeConnector
from tests.teams.world import CONFIG, DANA, DANA_BF, TEAM, Server, World

NADIA = "a7c1e2d3-0f4b-4c5d-8e9f-1a2b3c4d5e6f"
NADIA_BF = "29:1nAdIa0ZpQx3N0aW8s7Yq2Lk5Jh4Gf3Ds2Az1Qw0Er9Ty8Ui7Op6AsDfGhJkLzXcVbNm"
NADIA_ACCOUNT = {"id": NADIA_BF, "name": "Nadia Haddad", "aadObjectId": NADIA}
BY_UPN = CONFIG.model_copy(
    update={
        "cx_team": People(users=("Nadia.Haddad@Contoso.com",)),  # any case: UPNs compare case-insensitively
        "departments": (
            CONFIG.departments[0],
            CONFIG.departments[1].model_copy(update={"managers": ("nadia.haddad@contoso.com",)}),
            CONFIG.departments[2],
        ),
    }
)


def _kudos_by_nadia(world: World, activity_id: str = "1700000000401") -> dict:
    message = world.load("message_cx_kudos", id=activity_id)
    message["from"] = NADIA_ACCOUNT
    return message


def _kudos(cx: Server) -> list:
    with cx.app.engine.connect() as conn:
        return list(conn.execute(select(Kudos)).all())


async def test_a_cx_team_member_named_by_upn_in_the_configuration_has_the_cx_teams_rights(
    world: World, connector: FakeConnector
) -> None:
    cx = await world.start(config=BY_UPN)
    connector.add_member(id=NADIA_BF, name="Nadia Haddad", aad_object_id=NADIA, upn="nadia.haddad@contoso.com")
    connector.add_member(id=DANA_BF, name="Dana Scully", aad_object_id=DANA)
    assert (await cx.post(_kudos_by_nadia(world)))[0] == 200
    [kudos] = _kudos(cx)
    assert (kudos.giver, kudos.receiver) == (NADIA, DANA)  # stored by object id, as everything else
    asked = connector.calls_of("member")[0]
    assert asked.conversation_id == TEAM and asked.activity_id == NADIA_BF  # the team's roster, for the sender


async def test_without_the_roster_a_person_named_only_by_upn_has_no_extra_rights(
    world: World, connector: FakeConnector
) -> None:
    cx = await world.start(config=BY_UPN)
    connector.queue("member", status=500, times=10)  # the roster cannot be asked: never more than confirmed
    assert (await cx.post(_kudos_by_nadia(world)))[0] == 200
    assert _kudos(cx) == []
    assert "for the CX team only" in connector.posts()[-1].payload_text()


async def test_a_person_whose_upn_is_not_in_the_configuration_gets_no_rights(
    world: World, connector: FakeConnector
) -> None:
    cx = await world.start(config=BY_UPN)
    connector.add_member(id=NADIA_BF, name="Nadia Haddad", aad_object_id=NADIA, upn="nadia.haddad@fabrikam.com")
    assert (await cx.post(_kudos_by_nadia(world)))[0] == 200
    assert _kudos(cx) == []


async def test_a_manager_named_by_upn_sees_their_departments_commitments(
    world: World, connector: FakeConnector
) -> None:
    cx = await world.start(config=BY_UPN)
    connector.add_member(id=NADIA_BF, name="Nadia Haddad", aad_object_id=NADIA, upn="nadia.haddad@contoso.com")
    message = world.load("message_cx_actions")
    message["from"] = NADIA_ACCOUNT
    assert (await cx.post(message))[0] == 200
    assert "Open commitments: Finance & Billing" in connector.posts()[-1].payload_text()


async def test_the_team_roster_naming_someone_owner_makes_them_an_admin_who_may_link_a_channel(
    world: World, connector: FakeConnector
) -> None:
    cx = await world.start()
    connector.add_member(id=DANA_BF, name="Dana Scully", aad_object_id=DANA, role="owner", teams=frozenset({TEAM}))
    link = world.load("message_cx_link")
    link["from"] = {"id": DANA_BF, "name": "Dana Scully", "aadObjectId": DANA}  # not in the CX team
    assert (await cx.post(link))[0] == 200
    assert "now receives Finance & Billing's stories" in connector.posts()[-1].payload_text()


async def test_a_team_member_who_is_not_an_owner_may_not_link_a_channel(world: World, connector: FakeConnector) -> None:
    cx = await world.start()
    for role in ("user", "guest"):
        connector.add_member(id=DANA_BF, name="Dana Scully", aad_object_id=DANA, role=role)
        link = world.load("message_cx_link", id=f"1700000000{len(role)}55")
        link["from"] = {"id": DANA_BF, "name": "Dana Scully", "aadObjectId": DANA}
        cx.teams.context.people = type(cx.teams.context.people)()  # a fresh cache for each role
        assert (await cx.post(link))[0] == 200
        assert "Only an admin or the CX team" in connector.posts()[-1].payload_text()


async def test_roster_look_ups_are_cached_between_commands(world: World, connector: FakeConnector) -> None:
    cx = await world.start(config=BY_UPN)
    connector.add_member(id=NADIA_BF, name="Nadia Haddad", aad_object_id=NADIA, upn="nadia.haddad@contoso.com")
    connector.add_member(id=DANA_BF, name="Dana Scully", aad_object_id=DANA)
    for n in range(3):
        assert (await cx.post(_kudos_by_nadia(world, f"170000000041{n}")))[0] == 200
    assert len(_kudos(cx)) == 3
    sender_look_ups = [c for c in connector.calls_of("member") if c.activity_id == NADIA_BF]
    assert len(sender_look_ups) == 1


async def test_a_manager_named_by_upn_gets_a_direct_message_through_the_paged_roster(
    world: World, connector: FakeConnector
) -> None:
    """Teams opens a chat only with a user id: the UPN is found in the roster of a team cxbot is in (read page by
    page, then kept), and the message reaches the chat opened with that user."""
    cx = await world.start(config=BY_UPN)
    assert (await cx.post(world.load("message_cx_link")))[0] == 200  # cxbot is in a team: its roster can be read
    connector.add_member(id=DANA_BF, name="Dana Scully", aad_object_id=DANA, upn="dana@contoso.com")
    connector.add_member(id="29:1someone-else", name="Sam Else", aad_object_id="5a5a5a5a-0000-4000-8000-000000000001")
    connector.add_member(id=NADIA_BF, name="Nadia Haddad", aad_object_id=NADIA, upn="nadia.haddad@contoso.com")
    manager = BY_UPN.departments[1].managers[0]

    posted = await cx.teams.notifier.send_direct_message(user=manager, text="Your weekly summary is ready.")

    pages = connector.calls_of("pagedmembers")
    assert len(pages) == 2  # three people, two a page: the continuation token was followed
    [created] = connector.calls_of("create")
    assert created.json["members"] == [{"id": NADIA}]  # her object id, not the UPN
    sent = connector.calls_of("send")[-1]
    assert sent.conversation_id == posted.channel == created.response["id"]
    assert "weekly summary" in sent.payload_text()

    await cx.teams.notifier.send_direct_message(user="Dana@Contoso.com", text="Hello")
    assert len(connector.calls_of("pagedmembers")) == 2  # the roster read once is kept
    assert connector.calls_of("create")[-1].json["members"] == [{"id": DANA}]


async def test_a_upn_in_no_roster_is_a_retryable_delivery_error(world: World, connector: FakeConnector) -> None:
    cx = await world.start(config=BY_UPN)
    assert (await cx.post(world.load("message_cx_link")))[0] == 200
    with pytest.raises(DeliveryError) as refused:
        await cx.teams.notifier.send_direct_message(user="nobody@contoso.com", text="hello")
    assert not refused.value.permanent and "add cxbot to their team" in str(refused.value)
    assert connector.calls_of("create", ok_only=False) == []
