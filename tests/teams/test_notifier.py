"""The Teams Notifier against the fake connector: where each kind of message goes, built from stored references."""

from __future__ import annotations

import pytest

from stories.ports import DeliveryError, PostedMessage
from tests.fakes.bf_connector import FakeConnector
from tests.render_examples import finance_digest, refund_story
from tests.teams.world import DANA, FINANCE, FIONA, Server, World

FIONA_CHAT = "a:1Qw3rTy_personal-chat-with-fiona"


async def test_story_digest_reply_and_update_in_a_channel(cx: Server, world: World, connector: FakeConnector) -> None:
    assert (await cx.post(world.load("message_cx_link")))[0] == 200
    notifier = cx.teams.notifier

    story = await notifier.post_story(channel=FINANCE, story=refund_story())
    digest = await notifier.post_digest(channel=FINANCE, digest=finance_digest())
    reply = await notifier.reply_in_thread(message=story, text="Fiona will follow up: call her back (due Fri 6 Mar).")
    await notifier.update_story(message=story, story=refund_story(), note="Fiona will follow up: call her back")

    sends = connector.calls_of("send")
    assert [c.conversation_id for c in sends[-3:]] == [FINANCE, FINANCE, f"{FINANCE};messageid={story.message_id}"]
    assert story == PostedMessage(FINANCE, sends[-3].response["id"]) and digest.message_id != story.message_id
    assert reply.channel == FINANCE
    assert "Refund promised in January" in sends[-3].payload_text()
    assert sends[-2].cards[0]["body"][0]["type"] == "RichTextBlock"
    assert "call her back (due Fri 6 Mar)." in sends[-1].payload_text()
    [update] = connector.calls_of("update")
    assert (update.conversation_id, update.activity_id) == (FINANCE, story.message_id)
    assert "Fiona will follow up: call her back" in update.payload_text()


async def test_text_is_sent_as_plain_card_text_never_as_markup(
    cx: Server, world: World, connector: FakeConnector
) -> None:
    assert (await cx.post(world.load("message_cx_link")))[0] == 200
    await cx.teams.notifier.post_text(channel=FINANCE, text="<at>Everyone</at> **bold** {{DATE(2026-01-01)}}")
    [post] = [c for c in connector.calls_of("send") if c.conversation_id == FINANCE]
    assert "text" not in post.json  # Teams reads a message's text as Markdown/HTML
    [run] = post.cards[0]["body"][0]["inlines"]
    assert run["type"] == "TextRun" and "<at>" not in run["text"] and "{{" not in run["text"]


async def test_a_direct_message_uses_the_stored_personal_chat(
    cx: Server, world: World, connector: FakeConnector
) -> None:
    assert (await cx.post(world.load("conversation_update_personal_install")))[0] == 200
    posted = await cx.teams.notifier.send_direct_message(user=FIONA, text="Your commitment is due tomorrow.")
    assert posted.channel == FIONA_CHAT
    assert connector.calls_of("create") == []
    assert connector.calls_of("send")[-1].conversation_id == FIONA_CHAT


async def test_a_reply_in_a_group_chat_goes_to_the_chat(cx: Server, world: World, connector: FakeConnector) -> None:
    chat = "19:a7b1c2d3e4f5@thread.v2"
    install = world.load("installation_update_add")
    install["conversation"] = {"isGroup": True, "conversationType": "groupChat", "id": chat}
    assert (await cx.post(install))[0] == 200
    await cx.teams.notifier.reply_in_thread(message=PostedMessage(chat, "1700000000444"), text="Noted.")
    assert connector.calls_of("send")[-1].conversation_id == chat  # chats have no threads


async def test_nothing_known_about_a_conversation_is_a_retryable_delivery_error(
    cx: Server, connector: FakeConnector
) -> None:
    with pytest.raises(DeliveryError) as refused:
        await cx.teams.notifier.post_text(channel="19:never-seen@thread.tacv2", text="hello")
    assert not refused.value.permanent
    with pytest.raises(DeliveryError) as no_tenant:
        await cx.teams.notifier.send_direct_message(user=FIONA, text="hello")
    assert not no_tenant.value.permanent
    assert connector.calls == []


async def test_a_direct_message_opens_the_chat_in_the_users_own_tenant(
    cx: Server, world: World, connector: FakeConnector
) -> None:
    """Dana was seen in the Contoso tenant; Fiona's chat (another tenant) is the newest conversation. A DM to
    Dana opens her chat in Contoso, not in the tenant of whichever conversation was active last."""
    contoso = "0c0c0c0c-1111-4222-8333-444455556666"
    tenant = {"conversation__tenantId": contoso, "channelData__tenant__id": contoso}
    assert (await cx.post(world.load("message_intake", **tenant)))[0] == 200  # Dana, in Contoso
    assert (await cx.post(world.load("conversation_update_personal_install")))[0] == 200  # Fiona, later

    await cx.teams.notifier.send_direct_message(user=DANA, text="Your commitment is due tomorrow.")

    [created] = connector.calls_of("create")
    assert created.json["members"] == [{"id": DANA}]
    assert created.json["channelData"] == {"tenant": {"id": contoso}}
    assert created.json.get("tenantId") in (None, contoso)


async def test_a_user_never_seen_gets_their_chat_in_the_tenant_whose_roster_lists_them(
    cx: Server, world: World, connector: FakeConnector
) -> None:
    """A multi-tenant bot: a team in tenant A (older, its own service URL) and one in tenant B (newest, another
    service URL). A manager named by object id who never wrote to cxbot is listed only in A's roster: their chat
    is opened in tenant A through A's service, not in the newest conversation's tenant."""
    team_a, team_b = (
        "19:aaaa0000aaaa0000aaaa0000aaaa0000@thread.tacv2",
        "19:bbbb0000bbbb0000bbbb0000bbbb0000@thread.tacv2",
    )
    tenant_a, tenant_b = "aaaaaaaa-1111-4222-8333-444455556666", "bbbbbbbb-1111-4222-8333-444455556666"
    manager = "a1a1a1a1-0000-4000-8000-00000000000a"
    connector.add_member(id="29:1manager-in-a", name="Maya Manager", aad_object_id=manager, teams=frozenset({team_a}))
    async with FakeConnector() as service_b:  # tenant B's service URL: nothing of A's may go there
        await _install_in(
            cx, world, ((team_a, tenant_a, connector.service_url), (team_b, tenant_b, service_b.service_url))
        )

        await cx.teams.notifier.send_direct_message(user=manager, text="Your weekly summary is ready.")

        assert service_b.calls_of("create") == []
    [created] = connector.calls_of("create")
    assert created.json["members"] == [{"id": manager}]
    assert created.json["channelData"] == {"tenant": {"id": tenant_a}}
    assert created.json.get("tenantId") in (None, tenant_a)


async def test_a_roster_cxbot_can_no_longer_read_is_skipped_not_fatal(
    cx: Server, world: World, connector: FakeConnector
) -> None:
    """cxbot was removed from the newest team (its roster answers 403): the older team's roster still lists the
    manager, so the chat is opened there rather than the message failing until someone notices."""
    team_a, team_b = "19:aaaa1111@thread.tacv2", "19:bbbb1111@thread.tacv2"
    tenant_a, tenant_b = "aaaaaaaa-2222-4222-8333-444455556666", "bbbbbbbb-2222-4222-8333-444455556666"
    manager = "a1a1a1a1-0000-4000-8000-00000000000b"
    connector.add_member(id="29:1manager-a2", name="Maya Manager", aad_object_id=manager, teams=frozenset({team_a}))
    async with FakeConnector() as service_b:
        await _install_in(
            cx, world, ((team_a, tenant_a, connector.service_url), (team_b, tenant_b, service_b.service_url))
        )
        service_b.queue("pagedmembers", status=403)

        await cx.teams.notifier.send_direct_message(user=manager, text="Your weekly summary is ready.")

        assert [call.status for call in service_b.calls_of("pagedmembers", ok_only=False)] == [403]
        assert service_b.calls_of("create") == []
    [created] = connector.calls_of("create")
    assert created.json["channelData"] == {"tenant": {"id": tenant_a}}


async def _install_in(cx: Server, world: World, teams: tuple[tuple[str, str, str], ...]) -> None:
    """cxbot added to each (team, tenant, service URL), oldest first: a multi-tenant bot's stored conversations."""
    for team, tenant, url in teams:
        install = world.load("installation_update_add", conversation__id=team, conversation__tenantId=tenant)
        install["serviceUrl"] = url
        install["channelData"].update(tenant={"id": tenant}, team={"id": team}, channel={"id": team})
        assert (await cx.post(install))[0] == 200
